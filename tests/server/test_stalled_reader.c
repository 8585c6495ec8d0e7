/*
 * A client that asks for a huge RANGE and then stops reading must not make xtio-server buffer the
 * reply: in every handoff mode its memory stays within the connection's bound (--max-pending)
 * plus small change, and other clients are still served meanwhile.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* 20,000 keys of 1000-byte values: a 20 MB reply, against a 256 KiB bound. */
#define KEYS           20000
#define VALUE_SIZE     1000
#define MAX_GROWTH_KIB (8 * 1024)

static const char *server_binary;
static struct test_server server; /* stopped by stop_server() even when a check fails */

static int stop_server(void **state)
{
    (void)state;
    return server.pid > 0 && test_server_stop(&server) != 0 ? -1 : 0;
}

static long status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *status = fopen(path, "r");
    long value = -1;
    while (status && fgets(line, sizeof(line), status))
        if (strncmp(line, field, strlen(field)) == 0)
            value = atol(line + strlen(field));
    if (status)
        fclose(status);
    return value;
}

/* Anonymous memory only: an LTTng session tracing the server maps its ring buffers into it as
 * shared memory, which VmRSS would count. */

/* ASan keeps freed memory in quarantine on purpose and TSan maps shadow memory as the program
 * runs, so RSS says nothing under either. */
static bool runs_under_sanitizer(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    bool found = false;
    while (maps && !found && fgets(line, sizeof(line), maps))
        found = strstr(line, "libasan") || strstr(line, "libtsan");
    if (maps)
        fclose(maps);
    return found;
}

static void command(int fd, const char *request, const char *expected)
{
    assert_true(test_send_all(fd, request, strlen(request)));
    char reply[64] = "";
    assert_int_equal(test_read_exact(fd, reply, strlen(expected)), strlen(expected));
    assert_string_equal(reply, expected);
}

static void stalled_reader_in_mode(const char *mode)
{
    static const char *args[] = {"--handoff", NULL, "--loops", "2", NULL};
    args[1] = mode;
    assert_true(test_server_start(&server, server_binary, args));

    int control = test_connect(&server);
    assert_true(control >= 0);
    char populate[64];
    snprintf(populate, sizeof(populate), "DEBUG POPULATE %d key %d\r\n", KEYS, VALUE_SIZE);
    command(control, populate, "+OK\r\n");
    long before = status_kib(server.pid, "RssAnon:");

    /* A small receive buffer, set before connecting, keeps the kernel's share of the reply small.
     */
    int stalled = socket(AF_INET, SOCK_STREAM, 0);
    int rcvbuf = 4096;
    setsockopt(stalled, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    close(stalled);
    stalled = test_connect(&server);
    assert_true(stalled >= 0);
    setsockopt(stalled, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    const char range[] = "RANGE key: key:~\r\n";
    assert_true(test_send_all(stalled, range, sizeof(range) - 1));
    nanosleep(&(struct timespec){.tv_sec = 1}, NULL);

    command(control, "PING\r\n", "+PONG\r\n"); /* the others are still served */
    long during = status_kib(server.pid, "RssAnon:");
    if (!runs_under_sanitizer(server.pid)) {
        fprintf(stderr,
                "%s: server anonymous RSS %ld KiB before, %ld KiB while the client stalls\n", mode,
                before, during);
        assert_true(during - before < MAX_GROWTH_KIB);
    }
    close(stalled); /* mid-stream: the rest is cancelled and dropped */
    command(control, "PING\r\n", "+PONG\r\n");
    close(control);
}

static void inline_mode_pauses_its_scan(void **state)
{
    (void)state;
    stalled_reader_in_mode("inline");
}

static void sync_mode_holds_the_worker(void **state)
{
    (void)state;
    stalled_reader_in_mode("sync");
}

static void async_mode_holds_the_worker(void **state)
{
    (void)state;
    stalled_reader_in_mode("async");
}

static void batch_mode_holds_the_worker(void **state)
{
    (void)state;
    stalled_reader_in_mode("batch");
}

static void direct_mode_holds_the_worker(void **state)
{
    (void)state;
    stalled_reader_in_mode("direct");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-xtio-server\n", argv[0]);
        return 2;
    }
    server_binary = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(inline_mode_pauses_its_scan, stop_server),
        cmocka_unit_test_teardown(sync_mode_holds_the_worker, stop_server),
        cmocka_unit_test_teardown(async_mode_holds_the_worker, stop_server),
        cmocka_unit_test_teardown(batch_mode_holds_the_worker, stop_server),
        cmocka_unit_test_teardown(direct_mode_holds_the_worker, stop_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
