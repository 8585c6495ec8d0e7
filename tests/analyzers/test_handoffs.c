/*
 * The analysis core's table of handoffs in flight (analyzers/core/handoffs.h): ids a ring apart,
 * the same id in two processes, a second add of a key, a ring that grows while handoffs are in
 * flight and an overflow map past its longest; every handoff stays findable by its key, with its
 * own contents, until removed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "handoffs.h"

#define PID   1000
#define OTHER 2000 /* a second process, numbering its handoffs from the same counter start */

/* Adds a handoff whose contents tell it apart: seq holds its id, conn_id its vpid. */
static struct handoff *add(struct xtio__handoffs *table, int64_t vpid, uint64_t id)
{
    int status = -1;
    struct handoff *handoff = xtio__handoffs_add(table, vpid, id, &status);
    assert_non_null(handoff);
    assert_int_equal(status, 0);
    handoff->seq = id;
    handoff->conn_id = (uint64_t)vpid;
    return handoff;
}

static void assert_holds(struct xtio__handoffs *table, int64_t vpid, uint64_t id)
{
    const struct handoff *handoff = xtio__handoffs_get(table, vpid, id);
    assert_non_null(handoff);
    assert_int_equal(handoff->seq, id);
    assert_int_equal(handoff->conn_id, (uint64_t)vpid);
}

/* Removes a handoff that must be in flight. */
static void take(struct xtio__handoffs *table, int64_t vpid, uint64_t id)
{
    struct handoff *handoff = xtio__handoffs_get(table, vpid, id);
    assert_non_null(handoff);
    xtio__handoffs_remove(table, vpid, id, handoff);
}

static int count_visit(void *data, int64_t vpid, uint64_t id, const struct handoff *handoff)
{
    assert_int_equal(handoff->seq, id);
    assert_int_equal(handoff->conn_id, (uint64_t)vpid);
    (*(size_t *)data)++;
    return 0;
}

static size_t visited(const struct xtio__handoffs *table)
{
    size_t count = 0;
    assert_int_equal(xtio__handoffs_visit(table, count_visit, &count), 0);
    return count;
}

static void ids_a_ring_apart_are_both_kept(void **state)
{
    (void)state;
    struct xtio__handoffs table = {0};
    struct handoff *first = add(&table, PID, 7);
    add(&table, PID, 7 + HANDOFF_RING_MIN);
    add(&table, PID, 7 + 2 * HANDOFF_RING_MIN);
    assert_int_equal(table.len, 3);
    assert_int_equal(visited(&table), 3);

    xtio__handoffs_remove(&table, PID, 7, first);
    assert_null(xtio__handoffs_get(&table, PID, 7));
    assert_holds(&table, PID, 7 + HANDOFF_RING_MIN);
    assert_holds(&table, PID, 7 + 2 * HANDOFF_RING_MIN);
    /* The ring slot is free again, while the key it matches still sits in the overflow map. */
    int status = 0;
    assert_null(xtio__handoffs_add(&table, PID, 7 + HANDOFF_RING_MIN, &status));
    assert_int_equal(status, -EEXIST);
    add(&table, PID, 7);
    assert_int_equal(table.len, 3);

    take(&table, PID, 7 + HANDOFF_RING_MIN);
    assert_null(xtio__handoffs_get(&table, PID, 7 + HANDOFF_RING_MIN));
    assert_holds(&table, PID, 7);
    assert_int_equal(visited(&table), 2);
    xtio__handoffs_fini(&table);
}

static void the_same_id_in_two_processes_is_two_handoffs(void **state)
{
    (void)state;
    struct xtio__handoffs table = {0};
    add(&table, PID, 1);
    add(&table, OTHER, 1);
    assert_holds(&table, PID, 1);
    assert_holds(&table, OTHER, 1);
    take(&table, OTHER, 1);
    assert_null(xtio__handoffs_get(&table, OTHER, 1));
    assert_holds(&table, PID, 1);
    xtio__handoffs_fini(&table);
}

static void a_key_in_flight_is_not_added_twice(void **state)
{
    (void)state;
    struct xtio__handoffs table = {0};
    add(&table, PID, 3);
    add(&table, PID, 3 + HANDOFF_RING_MIN);
    for (uint64_t id = 3; id <= 3 + HANDOFF_RING_MIN; id += HANDOFF_RING_MIN) {
        int status = 0;
        assert_null(xtio__handoffs_add(&table, PID, id, &status));
        assert_int_equal(status, -EEXIST);
        assert_holds(&table, PID, id);
    }
    assert_int_equal(table.len, 2);
    xtio__handoffs_fini(&table);
}

/* More in flight than the longest ring holds, ids from two processes interleaved: the ring grows
 * to its longest as handoffs are displaced, the overflow map takes the rest, and each handoff is
 * found with its own contents after every move. */
static void a_long_window_grows_the_ring_and_keeps_every_handoff(void **state)
{
    (void)state;
    struct xtio__handoffs table = {0};
    const uint64_t window = 2 * HANDOFF_RING_MAX;
    for (uint64_t id = 1; id <= window; id++) {
        add(&table, PID, id);
        add(&table, OTHER, id);
    }
    assert_int_equal(table.ring_len, HANDOFF_RING_MAX);
    assert_int_equal(table.len, 2 * window);
    assert_int_equal(visited(&table), 2 * window);
    for (uint64_t id = 1; id <= window; id++) {
        assert_holds(&table, PID, id);
        assert_holds(&table, OTHER, id);
    }
    /* Taken out oldest first, as a loop writes them. */
    for (uint64_t id = 1; id <= window; id++) {
        take(&table, PID, id);
        take(&table, OTHER, id);
    }
    assert_int_equal(table.len, 0);
    assert_int_equal(table.overflow.len, 0);
    assert_int_equal(visited(&table), 0);
    xtio__handoffs_fini(&table);
}

/* One handoff left behind (a lost one) takes a slot every ring length: the ids that land there
 * go to the overflow map, and the ring does not grow for that alone. */
static void a_handoff_left_behind_does_not_grow_the_ring(void **state)
{
    (void)state;
    struct xtio__handoffs table = {0};
    add(&table, PID, 1);
    for (uint64_t id = 2; id <= 20 * HANDOFF_RING_MIN; id++) {
        add(&table, PID, id);
        /* Sixteen in flight behind the newest, as a loop a little behind its producers. */
        if (id > 17) {
            uint64_t done = id - 16;
            take(&table, PID, done);
        }
    }
    assert_int_equal(table.ring_len, HANDOFF_RING_MIN);
    assert_holds(&table, PID, 1);
    assert_int_equal(table.len, 17);
    assert_int_equal(visited(&table), 17);
    xtio__handoffs_fini(&table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_a_ring_apart_are_both_kept),
        cmocka_unit_test(the_same_id_in_two_processes_is_two_handoffs),
        cmocka_unit_test(a_key_in_flight_is_not_added_twice),
        cmocka_unit_test(a_long_window_grows_the_ring_and_keeps_every_handoff),
        cmocka_unit_test(a_handoff_left_behind_does_not_grow_the_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
