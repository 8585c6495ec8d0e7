/*
 * The mix itself: hiredis async connections on one libevent base per client thread, each keeping
 * --pipeline requests in flight and checking every reply as it lands.
 */
#include "drive.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Keys each connection SETs, cycled, so a long run does not grow the store without bound. */
#define SET_SLOTS        64
/* How often a thread looks for connections stuck waiting. */
#define TICK_MS          100
/* A KEYS pattern keeps all but this many trailing digits of a key, so it matches ~10^this keys. */
#define KEYS_FREE_DIGITS 2

/* One request in flight; replies come back in request order, so these form a ring. */
struct slot {
    uint64_t sent_ns;
    uint64_t a; /* RANGE/KEYS: first position in byte order; GET/SET: key number or set slot */
    uint64_t b; /* KEYS: keys expected; GET/SET of our own key: the SET's sequence number */
    enum xtio_load_kind kind;
    bool own; /* GET of a key this run SET */
};

struct worker;

struct conn {
    struct worker *w;      /* weak */
    redisAsyncContext *ac; /* NULL once gone (hiredis frees it) */
    unsigned id;
    struct slot *ring; /* owned, pipeline slots */
    unsigned head, inflight;
    uint64_t rng;
    uint64_t waiting_since; /* last reply, or the send that made the ring non-empty */
    bool connected, closing, gone, lost, aborted;
    uint64_t set_seq[SET_SLOTS];
    unsigned set_next, set_written;
    uint64_t seq;
    char *value; /* owned scratch for SET values */
    size_t value_cap;
};

struct worker {
    struct xtio_load_run *run; /* weak */
    struct event_base *base;
    struct event *tick;
    struct conn *conns; /* owned */
    unsigned nconns, live;
    uint64_t started_ns;
    struct xtio_load_stats stats;
    pthread_t thread;
};

static uint64_t below(uint64_t *state, uint64_t bound)
{
    return bound ? xtio_load_rand(state) % bound : 0;
}

/* ---- Requests -------------------------------------------------------------------------------- */

static size_t range_pairs(const struct xtio_load_config *cfg)
{
    return cfg->range_limit && cfg->range_limit < cfg->range_width ? cfg->range_limit
                                                                   : cfg->range_width;
}

static size_t own_key(const struct conn *c, unsigned slot, char *buf)
{
    const struct xtio_load_run *run = c->w->run;
    return (size_t)snprintf(buf, XTIO_LOAD_KEY_MAX + 64, "%s;set:%ld:%u:%u", run->cfg->prefix,
                            run->pid, c->id, slot);
}

/* The unpadded value a SET of ours wrote: unique per run, connection and sequence number. */
static size_t own_value(const struct conn *c, uint64_t seq, char *buf)
{
    return (size_t)snprintf(buf, 64, "set:%ld:%u:%llu", c->w->run->pid, c->id,
                            (unsigned long long)seq);
}

static enum xtio_load_kind pick_kind(struct conn *c)
{
    const struct xtio_load_run *run = c->w->run;
    uint64_t r = below(&c->rng, run->mix_total);
    for (int k = 0; k < XTIO_LOAD_KINDS; k++) {
        if (r < run->cfg->mix[k])
            return (enum xtio_load_kind)k;
        r -= run->cfg->mix[k];
    }
    return XTIO_LOAD_PING;
}

/* Whether the run may send one more request: the shared budget, or the clock. */
static bool claim(struct worker *w)
{
    const struct xtio_load_run *run = w->run;
    if (run->cfg->requests)
        return atomic_fetch_add(&w->run->issued, 1) < run->cfg->requests;
    return xtio_load_now_ns() < run->deadline_ns;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* Decimal digits of the KEYS pattern: enough that a pattern matches about 10^KEYS_FREE_DIGITS
 * keys, whatever the key count. */
static size_t keys_digits(size_t count)
{
    char buf[21];
    size_t len = xtio_load_digits(count ? count - 1 : 0, buf);
    return len > KEYS_FREE_DIGITS ? len - KEYS_FREE_DIGITS : 1;
}

static bool issue(struct conn *c)
{
    struct worker *w = c->w;
    const struct xtio_load_config *cfg = w->run->cfg;
    const struct xtio_load_keyset *ks = w->run->ks;
    struct slot *s = &c->ring[c->head];
    memset(s, 0, sizeof(*s));
    s->kind = pick_kind(c);
    if (s->kind == XTIO_LOAD_GET && (ks->count == 0 || (c->set_written && below(&c->rng, 4) == 0)))
        s->own = true;
    if (s->own && !c->set_written)
        s->kind = XTIO_LOAD_SET; /* nothing of ours to read back yet */

    const char *argv[5];
    size_t lens[5];
    int argc = 0;
    char k1[XTIO_LOAD_KEY_MAX + 64], k2[XTIO_LOAD_KEY_MAX], number[24];
    char pattern[2 * XTIO_LOAD_MAX_PREFIX + 32];
    switch (s->kind) {
    case XTIO_LOAD_RANGE: {
        s->a = below(&c->rng, ks->count - cfg->range_width + 1);
        argv[argc] = "RANGE", lens[argc++] = 5;
        argv[argc] = k1, lens[argc++] = xtio_load_key(ks, ks->order[s->a], k1);
        argv[argc] = k2,
        lens[argc++] = xtio_load_key(ks, ks->order[s->a + cfg->range_width - 1], k2);
        if (cfg->range_limit) {
            argv[argc] = "LIMIT", lens[argc++] = 5;
            argv[argc] = number, lens[argc++] = xtio_load_digits(cfg->range_limit, number);
        }
        break;
    }
    case XTIO_LOAD_GET:
        argv[argc] = "GET", lens[argc++] = 3;
        if (s->own) {
            s->a = below(&c->rng, c->set_written);
            s->b = c->set_seq[s->a];
            argv[argc] = k1, lens[argc++] = own_key(c, (unsigned)s->a, k1);
        } else {
            s->a = below(&c->rng, ks->count);
            argv[argc] = k1, lens[argc++] = xtio_load_key(ks, s->a, k1);
        }
        break;
    case XTIO_LOAD_SET: {
        unsigned slot = c->set_next++ % SET_SLOTS;
        if (c->set_written < SET_SLOTS)
            c->set_written++;
        s->a = slot;
        s->b = c->set_seq[slot] = ++c->seq;
        char natural[64];
        size_t nlen = own_value(c, s->b, natural);
        argv[argc] = "SET", lens[argc++] = 3;
        argv[argc] = k1, lens[argc++] = own_key(c, slot, k1);
        argv[argc] = c->value,
        lens[argc++] = xtio_load_padded(natural, nlen, cfg->value_size, c->value, c->value_cap);
        break;
    }
    case XTIO_LOAD_KEYS: {
        uint64_t n = ks->order[below(&c->rng, ks->count)];
        size_t dlen = xtio_load_digits(n, number);
        size_t keep = keys_digits(ks->count);
        if (keep < dlen)
            number[keep] = '\0';
        size_t first = 0;
        s->b = xtio_load_digit_block(ks, number, &first);
        s->a = first;
        size_t plen = xtio_load_glob_escape(ks->prefix, ks->plen, pattern, sizeof(pattern));
        snprintf(pattern + plen, sizeof(pattern) - plen, ":%s*", number);
        argv[argc] = "KEYS", lens[argc++] = 4;
        argv[argc] = pattern, lens[argc++] = strlen(pattern);
        break;
    }
    default:
        argv[argc] = "PING", lens[argc++] = 4;
        break;
    }
    s->sent_ns = xtio_load_now_ns();
    if (redisAsyncCommandArgv(c->ac, on_reply, c, argc, argv, lens) != REDIS_OK) {
        xtio_load_error("conn %u: cannot queue a request: %s", c->id,
                        c->ac->errstr[0] ? c->ac->errstr : "connection closing");
        c->lost = true;
        return false;
    }
    if (c->inflight == 0)
        c->waiting_since = s->sent_ns;
    c->head = (c->head + 1) % cfg->pipeline;
    c->inflight++;
    return true;
}

/* ---- Connection life ------------------------------------------------------------------------- */

static void conn_gone(struct conn *c)
{
    if (c->gone)
        return;
    c->gone = true;
    c->ac = NULL;
    struct worker *w = c->w;
    if (--w->live == 0) {
        event_del(w->tick);
        event_base_loopexit(w->base, NULL);
    }
}

/* Tops the pipeline up, or closes once the budget is spent and the replies are in. */
static void fill(struct conn *c)
{
    if (c->gone || c->closing || c->aborted)
        return;
    struct worker *w = c->w;
    while (!c->lost && c->inflight < w->run->cfg->pipeline && claim(w)) {
        if (!issue(c))
            break;
    }
    if (c->inflight)
        return;
    c->closing = true;
    if (c->connected) {
        redisAsyncDisconnect(c->ac); /* conn_gone() follows from the disconnect callback */
    } else {
        /* Never connected: hiredis calls no disconnect callback for it. */
        redisAsyncFree(c->ac);
        conn_gone(c);
    }
}

static void describe(const struct conn *c, const struct slot *s, char *out, size_t cap)
{
    const struct xtio_load_config *cfg = c->w->run->cfg;
    const struct xtio_load_keyset *ks = c->w->run->ks;
    char k1[XTIO_LOAD_KEY_MAX + 64], k2[XTIO_LOAD_KEY_MAX];
    switch (s->kind) {
    case XTIO_LOAD_RANGE:
        xtio_load_key(ks, ks->order[s->a], k1);
        xtio_load_key(ks, ks->order[s->a + cfg->range_width - 1], k2);
        if (cfg->range_limit)
            snprintf(out, cap, "RANGE %s %s LIMIT %zu", k1, k2, cfg->range_limit);
        else
            snprintf(out, cap, "RANGE %s %s", k1, k2);
        break;
    case XTIO_LOAD_GET:
        if (s->own)
            own_key(c, (unsigned)s->a, k1);
        else
            xtio_load_key(ks, s->a, k1);
        snprintf(out, cap, "GET %s", k1);
        break;
    case XTIO_LOAD_SET:
        own_key(c, (unsigned)s->a, k1);
        snprintf(out, cap, "SET %s", k1);
        break;
    case XTIO_LOAD_KEYS:
        /* The pattern's digits are those of the block's first key. */
        if (s->b)
            xtio_load_key(ks, ks->order[s->a], k1);
        else
            snprintf(k1, sizeof(k1), "%s:?", ks->prefix);
        snprintf(out, cap, "KEYS %s* (expecting %llu keys)", k1, (unsigned long long)s->b);
        break;
    default:
        snprintf(out, cap, "PING");
        break;
    }
}

static void check_reply(struct conn *c, const struct slot *s, const redisReply *reply)
{
    struct worker *w = c->w;
    const struct xtio_load_config *cfg = w->run->cfg;
    const struct xtio_load_keyset *ks = w->run->ks;
    struct xtio_load_stats *st = &w->stats;
    char msg[XTIO_LOAD_MSG_MAX];
    char natural[64];
    bool ok = true;
    uint64_t wire = xtio_load_reply_wire_bytes(reply);
    bool array = reply->type == REDIS_REPLY_ARRAY;
    switch (s->kind) {
    case XTIO_LOAD_RANGE:
        ok = xtio_load_check_range(ks, s->a, range_pairs(cfg), reply, msg);
        st->records += array ? reply->elements / 2 : 0;
        break;
    case XTIO_LOAD_KEYS:
        ok = xtio_load_check_keys(ks, s->a, s->b, reply, msg);
        st->keys_listed += array ? reply->elements : 0;
        break;
    case XTIO_LOAD_GET: {
        size_t nlen = s->own ? own_value(c, s->b, natural)
                             : (size_t)snprintf(natural, sizeof(natural), "value:%llu",
                                                (unsigned long long)s->a);
        ok = xtio_load_check_bulk(reply, natural, nlen, cfg->value_size, msg);
        break;
    }
    case XTIO_LOAD_SET:
        ok = xtio_load_check_status(reply, "OK", msg);
        break;
    default:
        ok = xtio_load_check_status(reply, "PONG", msg);
        break;
    }
    st->replies[s->kind]++;
    st->reply_bytes += wire;
    if (s->kind == XTIO_LOAD_RANGE || s->kind == XTIO_LOAD_KEYS) {
        /* The server hands off the array header, then one record per pair or key. */
        st->heavy_records +=
            1 + (array ? reply->elements / (s->kind == XTIO_LOAD_RANGE ? 2 : 1) : 0);
        st->heavy_bytes += wire;
    } else {
        st->light_replies++;
        st->light_bytes += wire;
    }
    if (!ok) {
        char what[2 * XTIO_LOAD_KEY_MAX + 128];
        describe(c, s, what, sizeof(what));
        xtio_load_mismatch("conn %u %s: %s", c->id, what, msg);
    }
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct conn *c = privdata;
    unsigned pipeline = c->w->run->cfg->pipeline;
    const struct slot *s = &c->ring[(c->head + pipeline - c->inflight) % pipeline];
    c->inflight--;
    if (!reply) {
        /* hiredis empties the queue with NULL replies when the connection goes. */
        if (!c->lost && !c->aborted && !c->closing) {
            c->lost = true;
            xtio_load_error("conn %u: connection lost with %u request(s) unanswered: %s", c->id,
                            c->inflight + 1, ac->errstr[0] ? ac->errstr : "closed");
        }
        return;
    }
    uint64_t now = xtio_load_now_ns();
    if (xtio_hist_record(&c->w->stats.latency[s->kind], now - s->sent_ns) != 0)
        c->w->stats.unrecorded++;
    c->waiting_since = now;
    check_reply(c, s, reply);
    fill(c);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct conn *c = ac->data;
    if (status == REDIS_OK) {
        c->connected = true;
        return;
    }
    const struct xtio_load_config *cfg = c->w->run->cfg;
    if (!c->aborted)
        xtio_load_error("conn %u: cannot connect to %s:%d: %s", c->id, cfg->host, cfg->port,
                        ac->errstr);
    c->lost = true;
    conn_gone(c); /* hiredis frees the context after this callback */
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct conn *c = ac->data;
    if (status != REDIS_OK && !c->lost && !c->aborted)
        xtio_load_error("conn %u: disconnected: %s", c->id, ac->errstr);
    conn_gone(c);
}

/* Frees every connection of the thread: a stuck one would keep the run from ever ending. */
static void abort_worker(struct worker *w)
{
    for (unsigned i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        if (c->gone)
            continue;
        c->aborted = true;
        bool connected = c->connected;
        redisAsyncFree(c->ac);
        if (!connected)
            conn_gone(c);
    }
}

static void on_tick(evutil_socket_t fd, short events, void *arg)
{
    (void)fd;
    (void)events;
    struct worker *w = arg;
    uint64_t now = xtio_load_now_ns();
    uint64_t limit = (uint64_t)(w->run->cfg->timeout * 1e9);
    for (unsigned i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        if (c->gone)
            continue;
        if (!c->connected && now - w->started_ns > limit) {
            xtio_load_error("conn %u: not connected after %.1f s", c->id, w->run->cfg->timeout);
            abort_worker(w);
            return;
        }
        if (c->inflight && now - c->waiting_since > limit) {
            xtio_load_error("conn %u: no reply for %.1f s with %u request(s) outstanding; "
                            "giving up on this thread's connections",
                            c->id, w->run->cfg->timeout, c->inflight);
            abort_worker(w);
            return;
        }
    }
}

static void start_conn(struct conn *c)
{
    const struct xtio_load_config *cfg = c->w->run->cfg;
    c->ac = redisAsyncConnect(cfg->host, cfg->port);
    if (!c->ac || c->ac->err) {
        xtio_load_error("conn %u: cannot connect to %s:%d: %s", c->id, cfg->host, cfg->port,
                        c->ac ? c->ac->errstr : "out of memory");
        if (c->ac)
            redisAsyncFree(c->ac);
        c->ac = NULL;
        c->gone = true;
        return;
    }
    c->ac->data = c;
    if (redisLibeventAttach(c->ac, c->w->base) != REDIS_OK) {
        xtio_load_error("conn %u: cannot attach to libevent", c->id);
        redisAsyncFree(c->ac);
        c->ac = NULL;
        c->gone = true;
        return;
    }
    redisAsyncSetConnectCallback(c->ac, on_connect);
    redisAsyncSetDisconnectCallback(c->ac, on_disconnect);
    c->w->live++;
    fill(c);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->started_ns = xtio_load_now_ns();
    for (unsigned i = 0; i < w->nconns; i++)
        start_conn(&w->conns[i]);
    if (w->live) {
        struct timeval period = {.tv_sec = 0, .tv_usec = TICK_MS * 1000};
        event_add(w->tick, &period);
        event_base_dispatch(w->base);
    }
    return NULL;
}

void xtio_load_drive(struct xtio_load_run *run, struct xtio_load_stats *total)
{
    const struct xtio_load_config *cfg = run->cfg;
    xtio_load_stats_init(total);
    struct worker *workers = calloc(cfg->threads, sizeof(*workers));
    struct conn *conns = calloc(cfg->connections, sizeof(*conns));
    struct slot *slots = calloc((size_t)cfg->connections * cfg->pipeline, sizeof(*slots));
    size_t value_cap = cfg->value_size > 64 ? cfg->value_size : 64;
    char *values = malloc((size_t)cfg->connections * value_cap);
    if (!workers || !conns || !slots || !values) {
        xtio_load_error("out of memory for %u connections", cfg->connections);
        goto out;
    }
    for (unsigned t = 0; t < cfg->threads; t++) {
        struct worker *w = &workers[t];
        w->run = run;
        xtio_load_stats_init(&w->stats);
        w->base = event_base_new();
        w->tick = w->base ? event_new(w->base, -1, EV_PERSIST, on_tick, w) : NULL;
        if (!w->tick) {
            xtio_load_error("cannot create a libevent base");
            goto out;
        }
    }
    /* Connection i runs on thread i % threads; each thread's share is contiguous in conns[]. */
    unsigned next = 0;
    for (unsigned t = 0; t < cfg->threads; t++) {
        struct worker *w = &workers[t];
        w->conns = &conns[next];
        w->nconns = cfg->connections / cfg->threads + (t < cfg->connections % cfg->threads);
        for (unsigned i = 0; i < w->nconns; i++, next++) {
            struct conn *c = &conns[next];
            c->w = w;
            c->id = next;
            c->ring = &slots[(size_t)next * cfg->pipeline];
            c->rng = cfg->seed ^ ((uint64_t)(next + 1) * 0xd1342543de82ef95ull);
            c->value = values + (size_t)next * value_cap;
            c->value_cap = value_cap;
        }
    }
    unsigned started = 0;
    for (; started < cfg->threads; started++) {
        if (pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]) != 0) {
            xtio_load_error("cannot start client thread %u", started);
            break;
        }
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(workers[t].thread, NULL);
        xtio_load_stats_merge(total, &workers[t].stats);
    }
out:
    for (unsigned t = 0; workers && t < cfg->threads; t++) {
        xtio_load_stats_fini(&workers[t].stats);
        if (workers[t].tick)
            event_free(workers[t].tick);
        if (workers[t].base)
            event_base_free(workers[t].base);
    }
    free(values);
    free(slots);
    free(conns);
    free(workers);
}
