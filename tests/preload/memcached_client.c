/*
 * preload.memcached's client: drives a real memcached over loopback with a bounded script and
 * prints what it did as `client KEY N` lines, which e2e_check_report's `memcached` mode compares
 * with the report of the trace.
 *
 * Usage: memcached_client plain|watch PORT CONNECTIONS ROUNDS
 *   plain  CONNECTIONS connections, each ROUNDS set+get pairs, every reply awaited and checked.
 *   watch  the same while one more connection runs `watch fetchers mutations` (memcached's
 *          logger thread then writes it), then one more runs `lru_crawler metadump all` (the
 *          crawler thread takes it over and hands it back) and a `get` that must answer after.
 * Every read is bounded (RECV_TIMEOUT_S): a silent server fails the run with a message. Exit
 * status: 0 when every reply was right, 1 otherwise, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_TIMEOUT_S  10
#define MAX_CONNECTIONS 64
#define MAX_ROUNDS      10000
/* lru_crawler answers BUSY while its own automatic crawl runs: retried this many times. */
#define CRAWL_TRIES     50
#define WATCH_END_KEY   "xtio_watch_end"
/* Metadumps, each on a connection of its own: the crawler may write one before the worker's
 * event_del (an off-loop write, as mc-log's "OK"), so the test needs one that is a handover. */
#define METADUMPS       3

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("memcached_client: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static unsigned long connections_made;

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        fail("cannot make a socket: %s", strerror(errno));
    struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        fail("cannot connect to 127.0.0.1:%d: %s", port, strerror(errno));
    connections_made++;
    return fd;
}

static void send_all(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("cannot send \"%.40s\": %s", text, strerror(errno));
        text += n;
        len -= (size_t)n;
    }
}

/* A reply read until it ends with `end` (bounded by SO_RCVTIMEO per read), NUL-terminated. */
struct reply {
    char *data;
    size_t len, cap;
};

static void read_until(int fd, struct reply *r, const char *end, const char *what)
{
    size_t end_len = strlen(end);
    r->len = 0;
    for (;;) {
        if (r->len >= end_len && memcmp(r->data + r->len - end_len, end, end_len) == 0)
            break;
        if (r->cap - r->len < 4096) {
            r->cap = r->cap ? r->cap * 2 : 65536;
            if (!(r->data = realloc(r->data, r->cap + 1)))
                fail("out of memory");
        }
        ssize_t n = recv(fd, r->data + r->len, r->cap - r->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("%s: no reply ending in \"%s\" within %d s (%s; got %zu bytes: \"%.80s\")", what,
                 end[0] == '\r' ? "\\r\\n" : end, RECV_TIMEOUT_S,
                 n == 0 ? "connection closed" : strerror(errno), r->len, r->data ? r->data : "");
        r->len += (size_t)n;
        r->data[r->len] = '\0';
    }
    r->data[r->len] = '\0';
}

/* The watch connection: whatever the logger wrote so far, without waiting. */
struct watch {
    int fd;
    unsigned long bytes;
    char tail[256]; /* the latest bytes, to find the end marker across reads */
    bool saw_end;
};

static void watch_drain(struct watch *w, int timeout_ms)
{
    char buf[65536];
    for (;;) {
        struct pollfd p = {.fd = w->fd, .events = POLLIN};
        int ready = poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return;
        ssize_t n = recv(w->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            fail("the watch connection ended: %s", n == 0 ? "closed" : strerror(errno));
        w->bytes += (unsigned long)n;
        buf[n] = '\0';
        /* The marker may straddle two reads: search the previous tail joined to this read. */
        char joined[sizeof(w->tail) + 64];
        snprintf(joined, sizeof(joined), "%s%.63s", w->tail, buf);
        if (strstr(joined, "key=" WATCH_END_KEY) || strstr(buf, "key=" WATCH_END_KEY))
            w->saw_end = true;
        size_t keep = (size_t)n < sizeof(w->tail) - 1 ? (size_t)n : sizeof(w->tail) - 1;
        memcpy(w->tail, buf + n - keep, keep);
        w->tail[keep] = '\0';
        timeout_ms = 0;
    }
}

struct totals {
    unsigned long replies, reply_bytes;
};

static void request(int fd, const char *text, struct reply *r, const char *end, struct totals *t)
{
    send_all(fd, text);
    read_until(fd, r, end, text);
    t->replies++;
    t->reply_bytes += r->len;
}

static void set_get(int fd, int conn, int round, struct reply *r, struct totals *t)
{
    char cmd[160], value[32], want[160];
    snprintf(value, sizeof(value), "v%d_%d", conn, round);
    snprintf(cmd, sizeof(cmd), "set k%d_%d 0 0 %zu\r\n%s\r\n", conn, round, strlen(value), value);
    request(fd, cmd, r, "\r\n", t);
    if (strcmp(r->data, "STORED\r\n") != 0)
        fail("set k%d_%d answered \"%s\", not STORED", conn, round, r->data);
    snprintf(cmd, sizeof(cmd), "get k%d_%d\r\n", conn, round);
    request(fd, cmd, r, "END\r\n", t);
    snprintf(want, sizeof(want), "VALUE k%d_%d 0 %zu\r\n%s\r\nEND\r\n", conn, round, strlen(value),
             value);
    if (strcmp(r->data, want) != 0)
        fail("get k%d_%d answered \"%s\"", conn, round, r->data);
}

/* `lru_crawler metadump all` on a connection of its own, then a get on it, which only answers if
 * the crawler handed the connection back to its worker. */
static size_t crawl(int port, struct reply *r, struct totals *t)
{
    int fd = connect_to(port);
    for (int tries = 0;; tries++) {
        send_all(fd, "lru_crawler metadump all\r\n");
        /* Dump lines end in "\n" alone: the first "\r\n" is BUSY's, an error's or END's. */
        read_until(fd, r, "\r\n", "lru_crawler metadump all");
        if (strncmp(r->data, "BUSY", 4) != 0)
            break;
        if (tries == CRAWL_TRIES)
            fail("lru_crawler stayed busy for %d tries: \"%s\"", CRAWL_TRIES, r->data);
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
    size_t bytes = r->len;
    if (bytes < 5 || strcmp(r->data + bytes - 5, "END\r\n") != 0 ||
        (bytes > 5 && strncmp(r->data, "key=", 4) != 0))
        fail("lru_crawler metadump all answered \"%.200s\"", r->data);
    unsigned long items = strncmp(r->data, "key=", 4) == 0;
    for (const char *p = r->data; (p = strstr(p, "\nkey=")); p++)
        items++;
    if (items == 0)
        fail("lru_crawler metadump all listed no item");

    request(fd, "get k0_0\r\n", r, "END\r\n", t);
    if (strncmp(r->data, "VALUE k0_0 ", 11) != 0)
        fail("after the metadump, get k0_0 answered \"%s\"", r->data);
    close(fd);
    return bytes;
}

static long arg_number(const char *text, const char *what, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < 1 || v > max) {
        fprintf(stderr, "memcached_client: %s must be a whole number from 1 to %ld, not '%s'\n",
                what, max, text);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "watch") != 0)) {
        fprintf(stderr, "usage: memcached_client plain|watch PORT CONNECTIONS ROUNDS\n");
        return 2;
    }
    bool watching = strcmp(argv[1], "watch") == 0;
    int port = (int)arg_number(argv[2], "PORT", 65535);
    int conns = (int)arg_number(argv[3], "CONNECTIONS", MAX_CONNECTIONS);
    int rounds = (int)arg_number(argv[4], "ROUNDS", MAX_ROUNDS);
    struct reply r = {0};
    struct totals t = {0};
    struct watch w = {.fd = -1};

    if (watching) {
        w.fd = connect_to(port);
        send_all(w.fd, "watch fetchers mutations\r\n");
        read_until(w.fd, &r, "\r\n", "watch fetchers mutations");
        if (strcmp(r.data, "OK\r\n") != 0)
            fail("watch answered \"%s\", not OK", r.data);
        w.bytes = r.len;
    }
    int fds[MAX_CONNECTIONS];
    for (int c = 0; c < conns; c++)
        fds[c] = connect_to(port);
    for (int round = 0; round < rounds; round++) {
        for (int c = 0; c < conns; c++) {
            set_get(fds[c], c, round, &r, &t);
            if (watching)
                watch_drain(&w, 0);
        }
    }
    if (watching) {
        /* The logger logs this miss last: once the watcher saw it, it saw every line before. */
        request(fds[0], "get " WATCH_END_KEY "\r\n", &r, "END\r\n", &t);
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
            watch_drain(&w, 100);
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while (!w.saw_end && now.tv_sec - start.tv_sec < RECV_TIMEOUT_S);
        if (!w.saw_end)
            fail("the watch stream did not log the get of %s within %d s (%lu bytes read)",
                 WATCH_END_KEY, RECV_TIMEOUT_S, w.bytes);
        printf("client watchers 1\nclient watch_bytes %lu\n", w.bytes);
        size_t dumped = 0;
        for (int i = 0; i < METADUMPS; i++)
            dumped += crawl(port, &r, &t);
        printf("client metadumps %d\nclient metadump_bytes %zu\n", METADUMPS, dumped);
    }
    for (int c = 0; c < conns; c++)
        close(fds[c]);
    if (watching)
        close(w.fd);
    printf("client connections %lu\nclient replies %lu\nclient reply_bytes %lu\n", connections_made,
           t.replies, t.reply_bytes);
    free(r.data);
    return 0;
}
