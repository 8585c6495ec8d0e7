/*
 * xtio-server against bad input: each case gets its exact RESP error; a stream that cannot be
 * resynchronised is closed after the error; and the server keeps serving other clients.
 */
#include "server_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *server_binary;
static struct test_server server;
static int bystander = -1; /* a client that stays connected through every case */

static int start_server(void **state)
{
    (void)state;
    /* Small limits, so every limit is reached with a few bytes. */
    static const char *const args[] = {"--handoff",
                                       "async",
                                       "--max-multibulk-len",
                                       "16",
                                       "--max-inline-len",
                                       "1024",
                                       "--proto-max-bulk-len",
                                       "1m",
                                       "--client-query-buffer-limit",
                                       "64k",
                                       NULL};
    if (!test_server_start(&server, server_binary, args))
        return -1;
    bystander = test_connect(&server);
    return bystander < 0 ? -1 : 0;
}

static int stop_server(void **state)
{
    (void)state;
    close(bystander);
    return test_server_stop(&server) == 0 ? 0 : -1;
}

static void assert_pong(int fd)
{
    assert_true(test_send_all(fd, "PING\r\n", 6));
    char reply[8] = "";
    assert_int_equal(test_read_exact(fd, reply, 7), 7);
    assert_string_equal(reply, "+PONG\r\n");
}

/* Sends `request`, expects exactly `expected` back, then EOF when `closes`, else a live PING. */
static void check_reply(const char *request, size_t request_len, const char *expected, bool closes)
{
    int fd = test_connect(&server);
    assert_true(fd >= 0);
    assert_true(test_send_all(fd, request, request_len));
    size_t len = strlen(expected);
    char *reply = calloc(1, len + 1);
    assert_int_equal(test_read_exact(fd, reply, len), len);
    assert_string_equal(reply, expected);
    free(reply);
    if (closes)
        assert_true(test_wait_eof(fd));
    else
        assert_pong(fd);
    close(fd);
    /* Nobody else was hurt: a new client and the one connected all along are both served. */
    int fresh = test_connect(&server);
    assert_true(fresh >= 0);
    assert_pong(fresh);
    close(fresh);
    assert_pong(bystander);
}

#define CHECK(request, expected, closes) check_reply(request, sizeof(request) - 1, expected, closes)

static void unknown_command_is_answered_and_the_connection_stays(void **state)
{
    (void)state;
    CHECK("*2\r\n$3\r\nFOO\r\n$3\r\nbar\r\n",
          "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n", false);
}

static void wrong_arity_is_answered_and_the_connection_stays(void **state)
{
    (void)state;
    CHECK("*1\r\n$3\r\nGET\r\n", "-ERR wrong number of arguments for 'get' command\r\n", false);
    CHECK("ECHO\r\n", "-ERR wrong number of arguments for 'echo' command\r\n", false);
}

static void bad_command_arguments_are_answered(void **state)
{
    (void)state;
    CHECK("RANGE a b LIMIT -1\r\n", "-ERR value is not an integer or out of range\r\n", false);
    CHECK("RANGE a b FOO 1\r\n", "-ERR syntax error\r\n", false);
    CHECK("DEBUG POPULATE x\r\n", "-ERR value is out of range, must be positive\r\n", false);
}

static void malformed_bulk_length_closes(void **state)
{
    (void)state;
    CHECK("*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n", true);
}

static void negative_bulk_length_closes(void **state)
{
    (void)state;
    CHECK("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n", true);
}

static void negative_multibulk_count_is_skipped_as_redis_does(void **state)
{
    (void)state;
    CHECK("*-5\r\nPING\r\n", "+PONG\r\n", false);
}

static void huge_multibulk_count_closes(void **state)
{
    (void)state;
    CHECK("*99999999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true);
}

static void bulk_over_the_size_limit_closes(void **state)
{
    (void)state;
    CHECK("*2\r\n$4\r\nECHO\r\n$2000000\r\n", "-ERR Protocol error: invalid bulk length\r\n", true);
}

static void more_arguments_than_the_limit_closes(void **state)
{
    (void)state;
    CHECK("*17\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true);
}

static void inline_request_over_the_limit_closes(void **state)
{
    (void)state;
    char request[2048];
    memset(request, 'a', sizeof(request));
    check_reply(request, sizeof(request), "-ERR Protocol error: too big inline request\r\n", true);
}

static void request_over_the_query_buffer_limit_closes(void **state)
{
    (void)state;
    size_t bulk = 100 * 1024; /* under the bulk limit, over the query buffer limit */
    char header[64];
    int n = snprintf(header, sizeof(header), "*2\r\n$4\r\nECHO\r\n$%zu\r\n", bulk);
    char *request = malloc((size_t)n + bulk);
    memcpy(request, header, (size_t)n);
    memset(request + n, 'v', bulk);
    check_reply(request, (size_t)n + bulk, "-ERR Protocol error: query buffer limit exceeded\r\n",
                true);
    free(request);
}

static void missing_dollar_closes(void **state)
{
    (void)state;
    CHECK("*1\r\nPING\r\n", "-ERR Protocol error: expected '$', got 'P'\r\n", true);
}

static void unbalanced_quotes_close(void **state)
{
    (void)state;
    CHECK("ECHO \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-xtio-server\n", argv[0]);
        return 2;
    }
    server_binary = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_command_is_answered_and_the_connection_stays),
        cmocka_unit_test(wrong_arity_is_answered_and_the_connection_stays),
        cmocka_unit_test(bad_command_arguments_are_answered),
        cmocka_unit_test(malformed_bulk_length_closes),
        cmocka_unit_test(negative_bulk_length_closes),
        cmocka_unit_test(negative_multibulk_count_is_skipped_as_redis_does),
        cmocka_unit_test(huge_multibulk_count_closes),
        cmocka_unit_test(bulk_over_the_size_limit_closes),
        cmocka_unit_test(more_arguments_than_the_limit_closes),
        cmocka_unit_test(inline_request_over_the_limit_closes),
        cmocka_unit_test(request_over_the_query_buffer_limit_closes),
        cmocka_unit_test(missing_dollar_closes),
        cmocka_unit_test(unbalanced_quotes_close),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
