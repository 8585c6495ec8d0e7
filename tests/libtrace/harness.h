/*
 * Test plumbing shared by the libxtio unit tests: a connected loopback TCP pair, self-checking
 * frames, a client reader thread that verifies them, and bounded waits. Nothing here is mocked;
 * the tests drive real loops, sockets and threads.
 *
 * cmocka asserts may only run on the test's own thread (they longjmp), so every helper that runs
 * on another thread records what it saw and the test asserts on it afterwards.
 */
#ifndef XTIO_TESTS_HARNESS_H
#define XTIO_TESTS_HARNESS_H

#include <xtio/xtio.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Generous bound for anything a test waits for: only ever reached when the test already failed,
 * and sanitizer builds on a busy 2-core machine are slow. */
#define HARNESS_WAIT_MS 20000

uint64_t harness_now_ms(void);
void harness_sleep_ms(unsigned ms);

/* A connected TCP pair on 127.0.0.1 (listen on port 0, connect, accept). *server_fd is the
 * accepted end, meant for xtio_conn_open(); *client_fd the connecting end, for the test's
 * client. sockbuf > 0 pins SO_SNDBUF of the server end and SO_RCVBUF of the client end, which
 * also turns off their autotuning, so the bytes the kernel can absorb are known. */
int harness_tcp_pair(int *server_fd, int *client_fd, int sockbuf);
/* The effective (kernel-doubled) SO_SNDBUF or SO_RCVBUF of fd, 0 on error. */
int harness_sockbuf(int fd, int option);

/* ---- Frames ------------------------------------------------------------------------------- */

/* Every frame starts with this header, in host byte order (both ends are this process):
 * producer id, per-producer counter, global counter, then a check over everything else, so a
 * frame torn or spliced with another one fails its check. Bytes past the header are a pattern
 * derived from the header. */
#define FRAME_HEADER_SIZE   16
#define FRAME_MAX_SIZE      (64 * 1024)
/* Producer ids are small: the reader keeps one expected counter per id. */
#define FRAME_MAX_PRODUCERS 8

void frame_fill(void *buf, size_t size, uint32_t producer, uint32_t counter, uint32_t global);

/* ---- Latch: a counter threads can wait on ------------------------------------------------ */

struct latch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count;
};

void latch_init(struct latch *latch);
void latch_destroy(struct latch *latch);
void latch_add(struct latch *latch, int n);
int latch_get(struct latch *latch);
/* Waits until the count reaches target; false when timeout_ms passed first. */
bool latch_wait(struct latch *latch, int target, unsigned timeout_ms);

/* ---- Blocker: a posted function that holds the loop until released ------------------------- */

struct blocker {
    struct latch entered;
    struct latch released;
    /* Run on the loop thread after the release, before the blocker returns (may be NULL). */
    void (*then)(void *arg);
    void *then_arg;
    bool timed_out; /* the release never came: the loop gave up waiting */
};

void blocker_init(struct blocker *blocker);
void blocker_destroy(struct blocker *blocker);
/* Posts the blocking function to the loop and waits until the loop is inside it. */
int blocker_hold(struct blocker *blocker, xtio_loop *loop);
void blocker_release(struct blocker *blocker);

/* ---- Client reader -------------------------------------------------------------------------- */

struct reader {
    int fd;            /* weak: the caller closes it after reader_join() */
    size_t frame_size; /* FRAME_HEADER_SIZE..FRAME_MAX_SIZE */
    bool check_global; /* global counters must arrive as 0, 1, 2, ... */

    pthread_t thread;
    struct latch frames_seen; /* frames verified so far, to wait on */
    struct latch ended;       /* 1 once the thread stopped reading */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool paused; /* under mu */
    atomic_bool stop;

    /* Results, stable after reader_join(): */
    uint64_t frames;
    uint64_t bytes;
    uint64_t bad_frames;    /* check failed or producer out of range: torn, spliced, corrupted */
    uint64_t order_errors;  /* a producer's counter did not follow its previous one */
    uint64_t global_errors; /* a global counter arrived out of order (check_global only) */
    uint32_t next[FRAME_MAX_PRODUCERS];
    uint64_t next_global;
    bool eof;
    bool deadline_hit;
    int read_error; /* errno of a failed recv(), 0 if none */
    char first_problem[160];
};

/* Starts reading fd until end of file (or HARNESS_WAIT_MS of no progress, or reader_stop()).
 * A paused reader does not read at all until reader_resume(). */
int reader_start(struct reader *reader, int fd, size_t frame_size, bool check_global, bool paused);
void reader_resume(struct reader *reader);
/* Waits until at least `frames` frames arrived; false on timeout. */
bool reader_wait_frames(struct reader *reader, uint64_t frames, unsigned timeout_ms);
/* Waits until the reader stopped by itself (end of file, error); false on timeout. */
bool reader_wait_end(struct reader *reader, unsigned timeout_ms);
/* Makes the reader give up at its next poll. */
void reader_stop(struct reader *reader);
void reader_join(struct reader *reader);

/* ---- A loop with one connection to a local client ------------------------------------------ */

/* What the connection's callbacks saw. */
struct conn_record {
    struct latch closed; /* on_close calls */
    _Atomic int reason;
    _Atomic pid_t close_tid;
    atomic_bool open_in_on_close; /* xtio_conn_is_open() inside on_close */
    atomic_uint_fast64_t data_bytes;
};

struct fixture {
    xtio_loop *loop;
    xtio_conn *conn; /* the test's reference, released by fixture_teardown() */
    int client_fd;
    int server_sndbuf; /* effective SO_SNDBUF of the connection's socket */
    int client_rcvbuf; /* effective SO_RCVBUF of the client end */
    struct conn_record record;
};

/* Creates and starts a loop named `name` and opens one connection on it to a fresh client end.
 * max_pending and sockbuf as in xtio_conn_options and harness_tcp_pair(). */
int fixture_setup(struct fixture *fixture, const char *name, size_t max_pending, int sockbuf);
/* Releases the test's reference, destroys the loop, closes the client end. */
void fixture_teardown(struct fixture *fixture);
/* Once the client has all `frames` frames of `frame_size` bytes, closes the connection (the end of
 * file then catches duplicated output) and checks, with cmocka, that none was torn, late, out of
 * order or missing. */
void fixture_finish_stream(struct fixture *fixture, struct reader *reader, uint64_t frames,
                           size_t frame_size);

/* Polls the loop's stats until pred() holds or timeout_ms passed; *stats holds the last snapshot.
 * For counters updated on the loop thread after a call already returned (async handoffs). */
bool wait_stats(xtio_loop *loop, bool (*pred)(const struct xtio_loop_stats *stats, void *arg),
                void *arg, unsigned timeout_ms, struct xtio_loop_stats *stats);

/* Runs nothing on the loop and returns once every function posted before it ran. */
int loop_barrier(xtio_loop *loop);

#endif
