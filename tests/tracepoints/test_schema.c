/*
 * The schema header (tracepoints/xtio_schema.h) is consistent with itself: every event and field
 * named once, each event's fields valid, enumerations complete, names found as a trace spells
 * them. That the provider emits this schema is checked on a real trace by tests/trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xtio_schema.h"

#define ENUMERATION_COUNT (sizeof(xtio_schema_enumerations) / sizeof(xtio_schema_enumerations[0]))

static void every_event_is_named_once(void **state)
{
    (void)state;
    for (int a = 0; a < XTIO_EVENT_KIND_COUNT; a++) {
        assert_non_null(xtio_schema_events[a].name);
        for (int b = a + 1; b < XTIO_EVENT_KIND_COUNT; b++)
            assert_string_not_equal(xtio_schema_events[a].name, xtio_schema_events[b].name);
    }
}

static void events_list_known_fields_once(void **state)
{
    (void)state;
    for (int k = 0; k < XTIO_EVENT_KIND_COUNT; k++) {
        const enum xtio_field *fields = xtio_schema_events[k].fields;
        assert_int_not_equal(fields[0], XTIO_FIELD_NONE);
        bool ended = false;
        for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS; i++) {
            assert_in_range(fields[i], XTIO_FIELD_NONE, XTIO_FIELD_COUNT - 1);
            if (fields[i] == XTIO_FIELD_NONE) {
                ended = true;
                continue;
            }
            /* Nothing after the end of the list, and no field twice. */
            assert_false(ended);
            for (int j = i + 1; j < XTIO_SCHEMA_MAX_FIELDS; j++)
                assert_int_not_equal(fields[i], fields[j]);
        }
    }
}

static void every_field_is_named_once_typed_and_used(void **state)
{
    (void)state;
    assert_null(xtio_schema_fields[XTIO_FIELD_NONE].name);
    for (int f = XTIO_FIELD_NONE + 1; f < XTIO_FIELD_COUNT; f++) {
        const struct xtio_schema_field *field = &xtio_schema_fields[f];
        assert_non_null(field->name);
        for (int g = f + 1; g < XTIO_FIELD_COUNT; g++)
            assert_string_not_equal(field->name, xtio_schema_fields[g].name);
        /* 0: a string, which is neither signed nor an enumeration. */
        assert_true(field->bits == 0 || field->bits == 8 || field->bits == 16 ||
                    field->bits == 32 || field->bits == 64);
        if (field->bits == 0)
            assert_true(!field->is_signed && field->enumeration == XTIO_SCHEMA_ENUM_NONE);
        /* The provider stores enumerations as int. */
        if (field->enumeration != XTIO_SCHEMA_ENUM_NONE) {
            assert_int_equal(field->bits, 32);
            assert_true(field->is_signed);
        }
        int users = 0;
        for (int k = 0; k < XTIO_EVENT_KIND_COUNT; k++) {
            for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS; i++)
                users += xtio_schema_events[k].fields[i] == (enum xtio_field)f;
        }
        assert_int_not_equal(users, 0);
    }
}

static void enumerations_label_every_value_once(void **state)
{
    (void)state;
    assert_int_equal(xtio_schema_enumerations[XTIO_SCHEMA_ENUM_MODE].count, XTIO_SCHEMA_MODE_COUNT);
    assert_int_equal(xtio_schema_enumerations[XTIO_SCHEMA_ENUM_CLOSE_REASON].count,
                     XTIO_SCHEMA_CLOSE_REASON_COUNT);
    for (size_t e = XTIO_SCHEMA_ENUM_NONE + 1; e < ENUMERATION_COUNT; e++) {
        const struct xtio_schema_enumeration *enumeration = &xtio_schema_enumerations[e];
        assert_non_null(enumeration->name);
        for (unsigned v = 0; v < enumeration->count; v++) {
            assert_non_null(enumeration->labels[v]);
            assert_string_equal(xtio_schema_label(e, v), enumeration->labels[v]);
            for (unsigned w = v + 1; w < enumeration->count; w++)
                assert_string_not_equal(enumeration->labels[v], enumeration->labels[w]);
        }
        assert_null(xtio_schema_label(e, -1));
        assert_null(xtio_schema_label(e, enumeration->count));
    }
    assert_string_equal(xtio_schema_mode_label(XTIO_SCHEMA_MODE_DIRECT), "direct");
    assert_null(xtio_schema_mode_label(XTIO_SCHEMA_MODE_COUNT));
}

/* A reader sees the version before any other event of a loop or a connection. */
static void loops_and_connections_open_with_the_version(void **state)
{
    (void)state;
    static const enum xtio_event_kind openers[] = {XTIO_EVENT_LOOP_START, XTIO_EVENT_CONN_OPEN};
    for (size_t o = 0; o < sizeof(openers) / sizeof(openers[0]); o++) {
        bool carries = false;
        for (int i = 0; i < XTIO_SCHEMA_MAX_FIELDS; i++)
            carries |= xtio_schema_events[openers[o]].fields[i] == XTIO_FIELD_SCHEMA_VERSION;
        assert_true(carries);
    }
    assert_true(XTIO_SCHEMA_VERSION_MIN >= 1 && XTIO_SCHEMA_VERSION_MIN <= XTIO_SCHEMA_VERSION);
}

/* Each event appeared in a version this tree knows; each old layout is of an older version and
 * differs from the current one, as a layout change is what bumps the version. */
static void versions_and_old_layouts_are_consistent(void **state)
{
    (void)state;
    for (int k = 0; k < XTIO_EVENT_KIND_COUNT; k++)
        assert_in_range(xtio_schema_events[k].since, 1, XTIO_SCHEMA_VERSION);
    for (size_t l = 0; l < XTIO_SCHEMA_OLD_LAYOUT_COUNT; l++) {
        const struct xtio_schema_layout *layout = &xtio_schema_old_layouts[l];
        assert_in_range(layout->kind, 0, XTIO_EVENT_KIND_COUNT - 1);
        assert_in_range(layout->until, xtio_schema_events[layout->kind].since,
                        XTIO_SCHEMA_VERSION - 1);
        assert_int_not_equal(layout->fields[0], XTIO_FIELD_NONE);
        assert_memory_not_equal(layout->fields, xtio_schema_events[layout->kind].fields,
                                sizeof(layout->fields));
        /* Newest first for each kind. */
        for (size_t m = l + 1; m < XTIO_SCHEMA_OLD_LAYOUT_COUNT; m++) {
            if (xtio_schema_old_layouts[m].kind == layout->kind)
                assert_true(xtio_schema_old_layouts[m].until < layout->until);
        }
    }
}

static void trace_names_find_their_event(void **state)
{
    (void)state;
    enum xtio_event_kind kind;
    for (int k = 0; k < XTIO_EVENT_KIND_COUNT; k++) {
        char name[64];
        snprintf(name, sizeof(name), "%s:%s", XTIO_SCHEMA_PROVIDER, xtio_schema_events[k].name);
        assert_true(xtio_schema_event_find(name, &kind));
        assert_int_equal(kind, k);
        /* Without the provider, the name is another provider's or none. */
        assert_false(xtio_schema_event_find(xtio_schema_events[k].name, &kind));
    }
    assert_false(xtio_schema_event_find("xtio:nope", &kind));
    assert_false(xtio_schema_event_find("xtio:", &kind));
    assert_false(xtio_schema_event_find("lttng_ust_statedump:start", &kind));
    assert_false(xtio_schema_event_find("xtiox:loop_start", &kind));
    assert_false(xtio_schema_event_find(NULL, &kind));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_event_is_named_once),
        cmocka_unit_test(events_list_known_fields_once),
        cmocka_unit_test(every_field_is_named_once_typed_and_used),
        cmocka_unit_test(enumerations_label_every_value_once),
        cmocka_unit_test(loops_and_connections_open_with_the_version),
        cmocka_unit_test(versions_and_old_layouts_are_consistent),
        cmocka_unit_test(trace_names_find_their_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
