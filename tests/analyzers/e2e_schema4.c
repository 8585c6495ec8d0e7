/*
 * Emits the events of schema version 4 through the real `xtio` provider (tracepoints/xtio_tp.h)
 * with known counts, and exits: the trace of a program that xtio-preload watches, for
 * e2e_test.sh's case schema4. Its main thread is a loop (loop id 0x80000001) that owns connection
 * 1<<63 | 1; thread "e2e-worker" posts to it by eventfd three times (one run serves them all, so
 * two coalesce) and writes the connection twice: once while the loop watches the socket (an
 * off-loop write, from write_off_loop(), whose site the report names) and once after (a
 * handover). The loop writes once itself.
 */
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "xtio_tp.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOOP_ID 0x80000001u
#define CONN_ID ((1ull << 63) | 1)
#define TASK    0x1234ull

static int32_t loop_tid;

static int32_t tid(void)
{
    return (int32_t)syscall(SYS_gettid);
}

/* The site is this function's return address, in the worker, as the shim records its caller. */
__attribute__((noinline)) static void write_off_loop(void)
{
    uint64_t site = (uint64_t)(uintptr_t)__builtin_return_address(0);
    lttng_ust_tracepoint(xtio, io_write, CONN_ID, 11, loop_tid, 1,
                         XTIO_SCHEMA_CALL_BUFFEREVENT_WRITE, site);
}

static void *worker(void *arg)
{
    (void)arg;
    lttng_ust_tracepoint(xtio, thread_name, "e2e-worker");
    for (int i = 0; i < 3; i++)
        lttng_ust_tracepoint(xtio, loop_post, TASK, LOOP_ID, XTIO_SCHEMA_MECH_EVENTFD, 0);
    write_off_loop();
    return NULL;
}

static void *hand_over(void *arg)
{
    (void)arg;
    lttng_ust_tracepoint(xtio, thread_name, "e2e-worker");
    lttng_ust_tracepoint(xtio, io_write, CONN_ID, 13, loop_tid, 0, XTIO_SCHEMA_CALL_WRITE, 0);
    return NULL;
}

int main(void)
{
    pthread_t thread;
    loop_tid = tid();
    lttng_ust_tracepoint(xtio, thread_name, "e2e-loop");
    lttng_ust_tracepoint(xtio, loop_start, LOOP_ID);
    lttng_ust_tracepoint(xtio, conn_open, CONN_ID, LOOP_ID, loop_tid, 7);
    if (pthread_create(&thread, NULL, worker, NULL) != 0 || pthread_join(thread, NULL) != 0) {
        fprintf(stderr, "e2e_schema4: cannot run its worker thread\n");
        return 1;
    }
    lttng_ust_tracepoint(xtio, loop_run, TASK, LOOP_ID, XTIO_SCHEMA_MECH_EVENTFD);
    lttng_ust_tracepoint(xtio, io_write, CONN_ID, 5, loop_tid, 1, XTIO_SCHEMA_CALL_WRITE, 0);
    /* The loop stops watching the socket: the worker's next write is a handover. */
    if (pthread_create(&thread, NULL, hand_over, NULL) != 0 || pthread_join(thread, NULL) != 0) {
        fprintf(stderr, "e2e_schema4: cannot run its worker thread\n");
        return 1;
    }
    return 0;
}
