/*
 * The abusive clients, on plain blocking sockets because hiredis can neither cut a reply midway
 * nor read it slowly: the disconnect storm and the slow reader. Both check what they do read
 * with the streaming RANGE checker.
 */
#include "raw.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A storm RANGE spans this many keys at most: megabytes of reply, far more than is read. */
#define STORM_WIDTH    100000
/* A storm connection that reads does so for up to this many bytes before cutting. */
#define STORM_READ_MAX (256 * 1024)
/* The slow reader's receive buffer (the kernel doubles it), read size and pause: the server
 * meets a full socket within a few records and has to hold the rest back. */
#define SLOW_RCVBUF    4096
#define SLOW_READ      4096
#define SLOW_SLEEP_NS  5000000
/* Aim of a slow RANGE reply's size: beyond the server's default --max-pending (256 KB) plus what
 * the kernel buffers, so producers meet backpressure; about a second at the pace above. */
#define SLOW_REPLY_AIM (1024 * 1024)
#define SLOW_WIDTH_MAX 50000

/* Connects a blocking socket with the run's timeout on both directions; -1 after logging. */
static int raw_connect(const struct xtio_load_config *cfg, int rcvbuf, const char *who)
{
    char port[8];
    snprintf(port, sizeof(port), "%d", cfg->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(cfg->host, port, &hints, &list);
    if (rc != 0) {
        xtio_load_error("%s: cannot resolve %s: %s", who, cfg->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        struct timeval tv = {
            .tv_sec = (time_t)cfg->timeout,
            .tv_usec = (suseconds_t)((cfg->timeout - (double)(time_t)cfg->timeout) * 1e6)};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        /* Before connect(), so the window advertised in the handshake is already small. */
        if (rcvbuf)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        xtio_load_error("%s: cannot connect to %s:%d: %s", who, cfg->host, cfg->port,
                        strerror(err));
    return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        sent += (size_t)n;
    }
    return 0;
}

/* Sends RANGE over order[first .. first+width-1] as a RESP array; the keys into k1, k2. */
static int send_range(int fd, const struct xtio_load_keyset *ks, size_t first, size_t width,
                      char *k1, char *k2)
{
    size_t l1 = xtio_load_key(ks, ks->order[first], k1);
    size_t l2 = xtio_load_key(ks, ks->order[first + width - 1], k2);
    char cmd[2 * XTIO_LOAD_KEY_MAX + 64];
    int len = snprintf(cmd, sizeof(cmd), "*3\r\n$5\r\nRANGE\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", l1,
                       k1, l2, k2);
    return send_all(fd, cmd, (size_t)len);
}

/* Closes with a RST instead of a FIN: the server learns of it on its next write. */
static void close_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

static void sleep_ns(long ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Reads up to `target` bytes of the reply into the checker (all of it when target is 0), in
 * reads of at most `chunk`, pausing `pause_ns` after each. Returns false on a socket failure or
 * when the deadline passes (then *timed_out). */
static bool read_reply(int fd, struct xtio_load_range_stream *check, uint64_t target, size_t chunk,
                       long pause_ns, uint64_t deadline_ns, bool *timed_out, uint64_t *reads,
                       const char *who)
{
    char buf[64 * 1024];
    if (chunk > sizeof(buf))
        chunk = sizeof(buf);
    *timed_out = false;
    while (check->status == XTIO_LOAD_STREAM_MORE && (!target || check->bytes < target)) {
        if (deadline_ns && xtio_load_now_ns() >= deadline_ns) {
            *timed_out = true;
            return false;
        }
        size_t want = chunk;
        if (target && target - check->bytes < want)
            want = (size_t)(target - check->bytes);
        ssize_t n = recv(fd, buf, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            xtio_load_error("%s: %s after %llu bytes of the reply", who,
                            n == 0 ? "the server closed the connection"
                            : errno == EAGAIN || errno == EWOULDBLOCK ? "no data within --timeout"
                                                                      : strerror(errno),
                            (unsigned long long)check->bytes);
            return false;
        }
        (*reads)++;
        size_t used = 0;
        xtio_load_range_stream_feed(check, buf, (size_t)n, &used);
        if (used < (size_t)n && check->status == XTIO_LOAD_STREAM_DONE) {
            xtio_load_mismatch("%s: %zu unexpected bytes after the end of the reply", who,
                               (size_t)n - used);
            return false;
        }
        if (pause_ns)
            sleep_ns(pause_ns);
    }
    return true;
}

void *xtio_load_storm_main(void *arg)
{
    struct xtio_load_side *side = arg;
    const struct xtio_load_config *cfg = side->run->cfg;
    const struct xtio_load_keyset *ks = side->run->ks;
    uint64_t rng = cfg->seed ^ 0x5bd1e9955bd1e995ull;
    size_t width = ks->count < STORM_WIDTH ? ks->count : STORM_WIDTH;
    for (unsigned i = 0; i < cfg->storm; i++) {
        char who[64];
        snprintf(who, sizeof(who), "storm connection %u", i);
        int fd = raw_connect(cfg, 0, who);
        if (fd < 0)
            break; /* the server is gone or full: more attempts would only repeat the error */
        side->storm_conns++;
        size_t first = (size_t)(xtio_load_rand(&rng) % (ks->count - width + 1));
        char k1[XTIO_LOAD_KEY_MAX], k2[XTIO_LOAD_KEY_MAX];
        int rc = send_range(fd, ks, first, width, k1, k2);
        if (rc != 0) {
            xtio_load_error("%s: cannot send RANGE: %s", who, strerror(-rc));
            close(fd);
            break;
        }
        /* Every third connection cuts right after sending; the others after a random part. */
        if (i % 3 == 0) {
            side->storm_cut_after_send++;
            close_reset(fd);
            continue;
        }
        struct xtio_load_range_stream check;
        xtio_load_range_stream_init(&check, ks, first, width);
        uint64_t target = 1 + xtio_load_rand(&rng) % STORM_READ_MAX;
        bool timed_out;
        uint64_t reads = 0;
        bool ok = read_reply(fd, &check, target, 16 * 1024, 0, 0, &timed_out, &reads, who);
        side->storm_bytes += check.bytes;
        side->storm_pairs += check.pairs_done;
        if (check.status == XTIO_LOAD_STREAM_MISMATCH)
            xtio_load_mismatch("%s RANGE %s %s: %s", who, k1, k2, check.msg);
        else if (check.status == XTIO_LOAD_STREAM_DONE)
            side->storm_completed++;
        else
            side->storm_cut_mid_reply++;
        /* Alternate a RST with a half-close first, which the server reads as end of input
         * before its writes fail. */
        if (i % 3 == 1) {
            close_reset(fd);
        } else {
            shutdown(fd, SHUT_WR);
            close(fd);
        }
        if (!ok && check.status != XTIO_LOAD_STREAM_MISMATCH)
            break;
    }
    return NULL;
}

void *xtio_load_slow_main(void *arg)
{
    struct xtio_load_side *side = arg;
    struct xtio_load_run *run = side->run;
    const struct xtio_load_config *cfg = run->cfg;
    const struct xtio_load_keyset *ks = run->ks;
    uint64_t rng = cfg->seed ^ 0x2545f4914f6cdd1dull;
    uint64_t start = xtio_load_now_ns();
    uint64_t deadline = start + (uint64_t)(cfg->slow_seconds * 1e9);
    size_t value = cfg->value_size ? cfg->value_size : 16;
    size_t per_pair = ks->plen + 1 + 12 + value + 16; /* key, value and their RESP framing */
    size_t width = SLOW_REPLY_AIM / per_pair;
    if (width < 1)
        width = 1;
    if (width > SLOW_WIDTH_MAX)
        width = SLOW_WIDTH_MAX;
    if (width > ks->count)
        width = ks->count;
    side->slow_width = width;
    int fd = raw_connect(cfg, SLOW_RCVBUF, "slow reader");
    if (fd < 0)
        return NULL;
    bool cut = false;
    /* At least one reply, then more while the mix runs, all within --slow-reader-seconds. */
    do {
        size_t first = (size_t)(xtio_load_rand(&rng) % (ks->count - width + 1));
        char k1[XTIO_LOAD_KEY_MAX], k2[XTIO_LOAD_KEY_MAX];
        int rc = send_range(fd, ks, first, width, k1, k2);
        if (rc != 0) {
            xtio_load_error("slow reader: cannot send RANGE: %s", strerror(-rc));
            cut = true;
            break;
        }
        struct xtio_load_range_stream check;
        xtio_load_range_stream_init(&check, ks, first, width);
        bool timed_out;
        bool ok = read_reply(fd, &check, 0, SLOW_READ, SLOW_SLEEP_NS, deadline, &timed_out,
                             &side->slow_reads, "slow reader");
        side->slow_bytes += check.bytes;
        side->slow_pairs += check.pairs_done;
        if (check.status == XTIO_LOAD_STREAM_MISMATCH) {
            xtio_load_mismatch("slow reader RANGE %s %s: %s", k1, k2, check.msg);
            cut = true;
            break;
        }
        if (check.status == XTIO_LOAD_STREAM_DONE) {
            side->slow_replies++;
            side->slow_heavy_records += 1 + width;
            side->slow_heavy_bytes += check.bytes;
        }
        if (!ok) {
            side->slow_abandoned += timed_out;
            cut = true;
            break;
        }
    } while (!atomic_load(&run->load_done) && xtio_load_now_ns() < deadline);
    if (cut)
        close_reset(fd);
    else
        close(fd);
    side->slow_elapsed = (double)(xtio_load_now_ns() - start) / 1e9;
    return NULL;
}
