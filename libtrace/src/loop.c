/*
 * Loops: a libevent event_base on a thread of its own, plus the queue of functions posted to it
 * from other threads. A burst of posts wakes the loop once: only the post that finds the queue
 * empty activates the wake event, and the loop takes the whole queue at each wake.
 */
#include "internal.h"
#include "trace.h"
#include "xtio_schema.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct posted_task {
    struct posted_task *next;
    xtio_loop_fn fn;
    void *arg;
};

enum loop_state { LOOP_CREATED, LOOP_RUNNING, LOOP_EXITED };

struct xtio_loop {
    uint32_t id;
    char name[16];
    struct event_base *base; /* owned */
    struct event *wake;      /* owned; activated from any thread */
    pthread_t thread;
    atomic_int tid;
    atomic_bool exited;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* signals state changes and finished xtio_loop_call()s */
    /* Under mu: */
    enum loop_state state;
    bool joined;
    bool stopping;
    bool wake_pending;
    struct posted_task *tasks, **tasks_tail;

    xtio_conn *conns; /* loop thread only: open connections (see conn.c) */
    struct xtio__mode_counters counters[XTIO_MODE_COUNT];
    atomic_uint_fast64_t conns_opened, conns_closed;
};

static atomic_uint_fast32_t next_loop_id = 1;
static atomic_uint_fast64_t next_handoff_id = 1;

/* Every send asks "am I the loop?": a system call each time would cost more than the send. */
static _Thread_local pid_t cached_tid;

/* A forked child's only thread inherits the parent thread's cache, not its tid. */
static void forget_tid_in_child(void)
{
    cached_tid = 0;
}

pid_t xtio__gettid(void)
{
    if (!cached_tid)
        cached_tid = gettid();
    return cached_tid;
}

uint64_t xtio__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t xtio__next_handoff_id(void)
{
    return atomic_fetch_add_explicit(&next_handoff_id, 1, memory_order_relaxed);
}

static int libevent_threads_status;

/* libevent must know about pthreads before the first event_base exists, so that wake-ups from
 * other threads and the locked output buffers of XTIO_MODE_DIRECT are safe. */
static void init_once_per_process(void)
{
    pthread_atfork(NULL, NULL, forget_tid_in_child);
    libevent_threads_status = evthread_use_pthreads() == 0 ? 0 : -ENOMEM;
}

static void run_waited_call(void *arg);

/* A task's mechanism is told by its function: xtio_loop_call() posts run_waited_call. */
static int post_mech(xtio_loop_fn fn)
{
    return fn == run_waited_call ? XTIO_SCHEMA_MECH_LOOP_CALL : XTIO_SCHEMA_MECH_LOOP_POST;
}

static void run_posted_tasks(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    xtio_loop *loop = arg;

    pthread_mutex_lock(&loop->mu);
    struct posted_task *task = loop->tasks;
    loop->tasks = NULL;
    loop->tasks_tail = &loop->tasks;
    loop->wake_pending = false;
    pthread_mutex_unlock(&loop->mu);

    while (task) {
        struct posted_task *next = task->next;
        XTIO_TRACE(loop_run, (uint64_t)(uintptr_t)task, loop->id, post_mech(task->fn));
        task->fn(task->arg);
        free(task);
        task = next;
    }

    pthread_mutex_lock(&loop->mu);
    /* Posts are refused once stopping is set, so an empty queue now means all accepted work ran. */
    bool finished = loop->stopping && loop->tasks == NULL;
    pthread_mutex_unlock(&loop->mu);
    if (finished)
        event_base_loopbreak(loop->base);
}

static void *loop_thread_main(void *arg)
{
    xtio_loop *loop = arg;

    pthread_setname_np(pthread_self(), loop->name);
    atomic_store(&loop->tid, xtio__gettid());
    XTIO_TRACE(loop_start, loop->id);

    pthread_mutex_lock(&loop->mu);
    loop->state = LOOP_RUNNING;
    pthread_cond_broadcast(&loop->cv);
    pthread_mutex_unlock(&loop->mu);

    event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);

    xtio__conn_close_all(&loop->conns);
    /* libevent finishes freeing a bufferevent, and closes its socket, in a later pass of the
     * loop: run those passes now, or peers would see no EOF until the loop is destroyed. */
    for (int pass = 0; pass < 16 && event_base_get_num_events(loop->base, EVENT_BASE_COUNT_ACTIVE);
         pass++)
        event_base_loop(loop->base, EVLOOP_NONBLOCK);
    XTIO_TRACE(loop_stop, loop->id);
    atomic_store(&loop->exited, true);

    pthread_mutex_lock(&loop->mu);
    loop->state = LOOP_EXITED;
    pthread_cond_broadcast(&loop->cv);
    pthread_mutex_unlock(&loop->mu);
    return NULL;
}

int xtio_loop_create(xtio_loop **out, const char *name)
{
    static pthread_once_t process_once = PTHREAD_ONCE_INIT;

    if (!out)
        return -EINVAL;
    *out = NULL;
    pthread_once(&process_once, init_once_per_process);
    if (libevent_threads_status)
        return libevent_threads_status;

    xtio_loop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return -ENOMEM;
    loop->id = (uint32_t)atomic_fetch_add(&next_loop_id, 1);
    if (name)
        snprintf(loop->name, sizeof(loop->name), "%s", name);
    else
        snprintf(loop->name, sizeof(loop->name), "xtio-loop-%u", (unsigned)loop->id);
    loop->tasks_tail = &loop->tasks;
    pthread_mutex_init(&loop->mu, NULL);
    pthread_cond_init(&loop->cv, NULL);

    loop->base = event_base_new();
    if (loop->base)
        loop->wake = event_new(loop->base, -1, 0, run_posted_tasks, loop);
    if (!loop->base || !loop->wake) {
        xtio_loop_destroy(loop);
        return -ENOMEM;
    }
    *out = loop;
    return 0;
}

int xtio_loop_start(xtio_loop *loop)
{
    if (!loop || xtio_loop_is_current(loop))
        return -EINVAL;
    pthread_mutex_lock(&loop->mu);
    if (loop->state != LOOP_CREATED || loop->joined) {
        pthread_mutex_unlock(&loop->mu);
        return -EALREADY;
    }
    int err = pthread_create(&loop->thread, NULL, loop_thread_main, loop);
    if (err) {
        pthread_mutex_unlock(&loop->mu);
        return -err;
    }
    while (loop->state == LOOP_CREATED)
        pthread_cond_wait(&loop->cv, &loop->mu);
    pthread_mutex_unlock(&loop->mu);
    return 0;
}

/* Wakes the loop unless a wake-up is already on its way. Caller holds loop->mu. */
static void wake_locked(xtio_loop *loop)
{
    if (!loop->wake_pending) {
        loop->wake_pending = true;
        event_active(loop->wake, EV_READ, 0);
    }
}

void xtio_loop_stop(xtio_loop *loop)
{
    if (!loop)
        return;
    pthread_mutex_lock(&loop->mu);
    if (!loop->stopping) {
        loop->stopping = true;
        wake_locked(loop);
    }
    pthread_mutex_unlock(&loop->mu);
}

int xtio_loop_join(xtio_loop *loop)
{
    if (!loop || xtio_loop_is_current(loop))
        return -EINVAL;
    pthread_mutex_lock(&loop->mu);
    if (loop->state == LOOP_CREATED || loop->joined) {
        pthread_mutex_unlock(&loop->mu);
        return loop->joined ? 0 : -EINVAL;
    }
    loop->joined = true;
    pthread_mutex_unlock(&loop->mu);
    int err = pthread_join(loop->thread, NULL);
    return -err;
}

void xtio_loop_destroy(xtio_loop *loop)
{
    if (!loop)
        return;
    xtio_loop_stop(loop);
    xtio_loop_join(loop);
    /* A loop that never ran still owns what was posted to it; nothing will run it now. */
    struct posted_task *task = loop->tasks;
    while (task) {
        struct posted_task *next = task->next;
        free(task);
        task = next;
    }
    if (loop->wake)
        event_free(loop->wake);
    if (loop->base)
        event_base_free(loop->base);
    pthread_cond_destroy(&loop->cv);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}

pid_t xtio_loop_tid(const xtio_loop *loop)
{
    return loop ? atomic_load(&((xtio_loop *)loop)->tid) : 0;
}

uint32_t xtio_loop_id(const xtio_loop *loop)
{
    return loop ? loop->id : 0;
}

bool xtio_loop_is_current(const xtio_loop *loop)
{
    /* Once the thread has exited, the kernel may give its tid to a new thread. */
    xtio_loop *l = (xtio_loop *)loop;
    return l && atomic_load(&l->tid) == xtio__gettid() && !atomic_load(&l->exited);
}

void *xtio_loop_event_base(xtio_loop *loop)
{
    return loop ? loop->base : NULL;
}

/* `site`: the address the public call returns to, named by the analyzers as the poster. */
static int post(xtio_loop *loop, xtio_loop_fn fn, void *arg, void *site)
{
    if (!loop || !fn)
        return -EINVAL;
    struct posted_task *task = malloc(sizeof(*task));
    if (!task)
        return -ENOMEM;
    *task = (struct posted_task){.fn = fn, .arg = arg};

    pthread_mutex_lock(&loop->mu);
    if (loop->stopping) {
        pthread_mutex_unlock(&loop->mu);
        free(task);
        return -ESHUTDOWN;
    }
    /* Under mu, so that the loop, which takes the queue under mu, cannot run it first. */
    XTIO_TRACE(loop_post, (uint64_t)(uintptr_t)task, loop->id, post_mech(fn),
               (uint64_t)(uintptr_t)site);
    *loop->tasks_tail = task;
    loop->tasks_tail = &task->next;
    wake_locked(loop);
    pthread_mutex_unlock(&loop->mu);
    return 0;
}

int xtio_loop_post(xtio_loop *loop, xtio_loop_fn fn, void *arg)
{
    return post(loop, fn, arg, __builtin_return_address(0));
}

struct waited_call {
    xtio_loop *loop;
    xtio_loop_fn fn;
    void *arg;
    bool done; /* under loop->mu */
};

static void run_waited_call(void *arg)
{
    struct waited_call *call = arg;
    call->fn(call->arg);
    pthread_mutex_lock(&call->loop->mu);
    call->done = true;
    pthread_cond_broadcast(&call->loop->cv);
    pthread_mutex_unlock(&call->loop->mu);
}

int xtio_loop_call(xtio_loop *loop, xtio_loop_fn fn, void *arg)
{
    if (!loop || !fn)
        return -EINVAL;
    if (xtio_loop_is_current(loop)) {
        fn(arg);
        return 0;
    }
    pthread_mutex_lock(&loop->mu);
    bool never_started = loop->state == LOOP_CREATED;
    pthread_mutex_unlock(&loop->mu);
    if (never_started)
        return -EINVAL; /* nothing would ever run it: waiting would hang */

    struct waited_call call = {.loop = loop, .fn = fn, .arg = arg};
    int err = post(loop, run_waited_call, &call, __builtin_return_address(0));
    if (err)
        return err;
    pthread_mutex_lock(&loop->mu);
    /* Accepted posts always run: a stopping loop runs them before it exits. */
    while (!call.done)
        pthread_cond_wait(&loop->cv, &loop->mu);
    pthread_mutex_unlock(&loop->mu);
    return 0;
}

void xtio_loop_get_stats(const xtio_loop *loop, struct xtio_loop_stats *stats)
{
    if (!stats)
        return;
    memset(stats, 0, sizeof(*stats));
    if (!loop)
        return;
    xtio_loop *l = (xtio_loop *)loop;
    for (int m = 0; m < XTIO_MODE_COUNT; m++) {
        struct xtio__mode_counters *c = &l->counters[m];
        struct xtio_mode_stats *s = &stats->mode[m];
        s->handoffs = atomic_load_explicit(&c->handoffs, memory_order_relaxed);
        s->bytes = atomic_load_explicit(&c->bytes, memory_order_relaxed);
        s->records = atomic_load_explicit(&c->records, memory_order_relaxed);
        s->drops = atomic_load_explicit(&c->drops, memory_order_relaxed);
        s->drop_bytes = atomic_load_explicit(&c->drop_bytes, memory_order_relaxed);
        s->backpressure_waits = atomic_load_explicit(&c->backpressure_waits, memory_order_relaxed);
    }
    stats->conns_opened = atomic_load_explicit(&l->conns_opened, memory_order_relaxed);
    stats->conns_closed = atomic_load_explicit(&l->conns_closed, memory_order_relaxed);
}

struct xtio__mode_counters *xtio__loop_counters(xtio_loop *loop, enum xtio_mode mode)
{
    return &loop->counters[mode];
}

void xtio__loop_count_conn(xtio_loop *loop, bool opened)
{
    atomic_fetch_add_explicit(opened ? &loop->conns_opened : &loop->conns_closed, 1,
                              memory_order_relaxed);
}

xtio_conn **xtio__loop_conn_list(xtio_loop *loop)
{
    return &loop->conns;
}

/* The modes and close reasons of the API are the schema's: libxtio traces them as they are. */
#define SAME(api, schema) ((int)(api) == (int)(schema))
_Static_assert(SAME(XTIO_MODE_INLINE, XTIO_SCHEMA_MODE_INLINE) &&
                   SAME(XTIO_MODE_SYNC, XTIO_SCHEMA_MODE_SYNC) &&
                   SAME(XTIO_MODE_ASYNC, XTIO_SCHEMA_MODE_ASYNC) &&
                   SAME(XTIO_MODE_BATCH, XTIO_SCHEMA_MODE_BATCH) &&
                   SAME(XTIO_MODE_DIRECT, XTIO_SCHEMA_MODE_DIRECT) &&
                   SAME(XTIO_MODE_COUNT, XTIO_SCHEMA_MODE_COUNT),
               "enum xtio_mode differs from the schema's `mode` enumeration");
_Static_assert(SAME(XTIO_CLOSE_LOCAL, XTIO_SCHEMA_CLOSE_LOCAL) &&
                   SAME(XTIO_CLOSE_PEER, XTIO_SCHEMA_CLOSE_PEER) &&
                   SAME(XTIO_CLOSE_ERROR, XTIO_SCHEMA_CLOSE_ERROR) &&
                   SAME(XTIO_CLOSE_LOOP_STOP, XTIO_SCHEMA_CLOSE_LOOP_STOP),
               "enum xtio_close_reason differs from the schema's `close_reason` enumeration");

const char *xtio_mode_name(enum xtio_mode mode)
{
    return xtio_schema_mode_label(mode);
}

int xtio_mode_parse(const char *name, enum xtio_mode *mode)
{
    if (!name || !mode)
        return -EINVAL;
    for (int m = 0; m < XTIO_MODE_COUNT; m++) {
        if (strcmp(name, xtio_mode_name((enum xtio_mode)m)) == 0) {
            *mode = (enum xtio_mode)m;
            return 0;
        }
    }
    return -EINVAL;
}
