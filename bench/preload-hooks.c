/* preload-hooks: times, in one thread, the libevent and libc calls that libxtio-preload.so hooks,
 * so that bench/preload-memcached can run it with the shim preloaded and without it.
 *
 *   preload-hooks [--rep-ms MS] [--reps R]
 *
 * For each call below it finds a number of calls that takes about MS milliseconds (default 2),
 * times R such repetitions (default 15) with CLOCK_MONOTONIC and prints one line:
 *
 *   NAME min_ns median_ns calls_per_rep
 *
 * min_ns and median_ns are the fastest and the median repetition's time per call. The calls:
 *
 *   bev_write       bufferevent_write of 16 bytes to a socket bufferevent (its output is drained
 *                   every 64 calls; the loop never runs, so nothing is sent)
 *   bev_output_add  evbuffer_add of 16 bytes to that bufferevent's output buffer
 *   evbuffer_add    evbuffer_add of 16 bytes to an evbuffer of no bufferevent
 *   socket_write    write of 16 bytes to a connected socket watched by an event (the peer reads
 *                   them back every 256 calls)
 *   event_rearm     event_del, event_set, event_base_set and event_add of a socket's event:
 *                   what memcached's update_event does when a connection changes what it waits for
 *
 * Exits 0, or 1 with a message when the set-up fails, 2 on bad usage.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD     16
#define DRAIN_EVERY 64
#define READ_EVERY  256
#define MAX_REPS    1000

struct subject {
    struct event_base *base;
    struct bufferevent *bev;
    struct evbuffer *bev_out;
    struct evbuffer *plain;
    int sock, peer;   /* a connected pair: the bufferevent's socket and its peer */
    int wsock, wpeer; /* a second pair, watched by `ev`, for socket_write and event_rearm */
    struct event ev;
    char data[PAYLOAD];
};

typedef void (*op_fn)(struct subject *s, long calls);

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void die(const char *what)
{
    fprintf(stderr, "preload-hooks: %s\n", what);
    exit(1);
}

static void op_bev_write(struct subject *s, long calls)
{
    for (long i = 1; i <= calls; i++) {
        if (bufferevent_write(s->bev, s->data, PAYLOAD) != 0)
            die("bufferevent_write failed");
        if (i % DRAIN_EVERY == 0)
            evbuffer_drain(s->bev_out, evbuffer_get_length(s->bev_out));
    }
}

static void op_bev_output_add(struct subject *s, long calls)
{
    for (long i = 1; i <= calls; i++) {
        if (evbuffer_add(s->bev_out, s->data, PAYLOAD) != 0)
            die("evbuffer_add to the bufferevent's output failed");
        if (i % DRAIN_EVERY == 0)
            evbuffer_drain(s->bev_out, evbuffer_get_length(s->bev_out));
    }
}

static void op_evbuffer_add(struct subject *s, long calls)
{
    for (long i = 1; i <= calls; i++) {
        if (evbuffer_add(s->plain, s->data, PAYLOAD) != 0)
            die("evbuffer_add failed");
        if (i % DRAIN_EVERY == 0)
            evbuffer_drain(s->plain, evbuffer_get_length(s->plain));
    }
}

static void op_socket_write(struct subject *s, long calls)
{
    char sink[PAYLOAD * READ_EVERY];
    for (long i = 1; i <= calls; i++) {
        if (write(s->wsock, s->data, PAYLOAD) != PAYLOAD)
            die("write to the socket failed");
        if (i % READ_EVERY == 0 && read(s->wpeer, sink, sizeof(sink)) != (ssize_t)sizeof(sink))
            die("read from the socket's peer failed");
    }
}

static void op_event_rearm(struct subject *s, long calls)
{
    for (long i = 0; i < calls; i++) {
        short what = (i & 1) ? EV_WRITE | EV_PERSIST : EV_READ | EV_PERSIST;
        if (event_del(&s->ev) != 0)
            die("event_del failed");
        event_set(&s->ev, s->wsock, what, on_event, s);
        if (event_base_set(s->base, &s->ev) != 0 || event_add(&s->ev, NULL) != 0)
            die("event_base_set or event_add failed");
    }
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double time_calls(op_fn op, struct subject *s, long calls)
{
    double t0 = now_ns();
    op(s, calls);
    return now_ns() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(const char *name, op_fn op, struct subject *s, double rep_ms, int reps)
{
    /* Calls per repetition: a multiple of the drain and read periods, about rep_ms long. */
    long calls = READ_EVERY;
    while (time_calls(op, s, calls) < rep_ms * 1e6 && calls < (1L << 30))
        calls *= 2;
    double per_call[MAX_REPS];
    for (int r = 0; r < reps; r++)
        per_call[r] = time_calls(op, s, calls) / (double)calls;
    qsort(per_call, (size_t)reps, sizeof(per_call[0]), cmp_double);
    double median =
        reps % 2 ? per_call[reps / 2] : (per_call[reps / 2 - 1] + per_call[reps / 2]) / 2.0;
    printf("%s %.2f %.2f %ld\n", name, per_call[0], median, calls);
    fflush(stdout);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: preload-hooks [--rep-ms MS] [--reps R]\n");
}

int main(int argc, char **argv)
{
    double rep_ms = 2.0;
    int reps = 15;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--rep-ms") == 0 && i + 1 < argc) {
            rep_ms = strtod(argv[++i], &end);
            if (*end || !(rep_ms > 0 && rep_ms <= 10000)) {
                fprintf(stderr, "preload-hooks: --rep-ms takes milliseconds from 0 to 10000\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            long r = strtol(argv[++i], &end, 10);
            if (*end || r < 1 || r > MAX_REPS) {
                fprintf(stderr, "preload-hooks: --reps takes a whole number from 1 to %d\n",
                        MAX_REPS);
                return 2;
            }
            reps = (int)r;
        } else {
            usage(stderr);
            return 2;
        }
    }

    static struct subject s;
    memset(s.data, 'x', sizeof(s.data));
    int pair[2], wpair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, wpair) != 0)
        die("cannot make a socket pair");
    s.sock = pair[0];
    s.peer = pair[1];
    s.wsock = wpair[0];
    s.wpeer = wpair[1];
    if (!(s.base = event_base_new()))
        die("cannot make an event base");
    if (!(s.bev = bufferevent_socket_new(s.base, s.sock, 0)))
        die("cannot make a socket bufferevent");
    s.bev_out = bufferevent_get_output(s.bev);
    if (!(s.plain = evbuffer_new()))
        die("cannot make an evbuffer");
    /* Watched as memcached watches its connections: event_set, event_base_set, event_add. */
    event_set(&s.ev, s.wsock, EV_READ | EV_PERSIST, on_event, &s);
    if (event_base_set(s.base, &s.ev) != 0 || event_add(&s.ev, NULL) != 0)
        die("cannot watch the socket");

    measure("bev_write", op_bev_write, &s, rep_ms, reps);
    measure("bev_output_add", op_bev_output_add, &s, rep_ms, reps);
    measure("evbuffer_add", op_evbuffer_add, &s, rep_ms, reps);
    measure("socket_write", op_socket_write, &s, rep_ms, reps);
    measure("event_rearm", op_event_rearm, &s, rep_ms, reps);

    event_del(&s.ev);
    bufferevent_free(s.bev);
    evbuffer_free(s.plain);
    event_base_free(s.base);
    close(s.sock);
    close(s.peer);
    close(s.wsock);
    close(s.wpeer);
    return 0;
}
