/*
 * preload_robust: plain libevent programs (they link libevent, not libxtio) that do what breaks
 * LD_PRELOAD shims: fork, signal handlers that write, threads that exit and rename themselves,
 * no loop at all, exit while other threads write. One mode per run (`preload_robust MODE`); each
 * prints what it did and the counts the trace must show, as `expect KEY VALUE` (exact) or
 * `atleast KEY VALUE` lines that run_robust_test.sh checks with check_fixture.awk, and exits 0
 * only if the program itself saw everything it made happen.
 *
 * Threads are named "prb-*" (main renames itself "prb-main"), so that the session's filter and
 * the per-thread counts find them.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHUNK = 16 };
static const char chunk[CHUNK + 1] = "0123456789abcdef";

static void die(const char *what)
{
    fprintf(stderr, "preload_robust: %s failed: %s\n", what, strerror(errno));
    exit(2);
}

/* Thread names are "prX-*", X the mode's first letter, so that tests of other modes running at
 * the same time stay out of this one's session; the program writes them "prb-*". */
static char tag[4] = "prb";

static void name_self(const char *name)
{
    char real[16];
    snprintf(real, sizeof(real), "%s%s", tag, name + 3);
    pthread_setname_np(pthread_self(), real);
}

/* printf, with every "prb-" written as the mode's tag. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (char *p = line; (p = strstr(p, "prb-")); p += 4)
        memcpy(p, tag, 3);
    fputs(line, stdout);
}

static void make_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        die("socketpair");
}

static size_t drain(int fd, size_t want)
{
    char buf[4096];
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf, sizeof(buf) < want - got ? sizeof(buf) : want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static void noop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* ---- A loop thread -------------------------------------------------------------------------- */

/* One event base run by one named thread; `on_start` runs on the loop as its first callback. */
struct loop {
    struct event_base *base;
    pthread_t thread;
    const char *name;
    void (*on_start)(void);
    struct event *start, *keep;
    sem_t started;
};

static void loop_start_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct loop *l = arg;
    if (l->on_start)
        l->on_start();
    sem_post(&l->started);
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    name_self(l->name);
    if (event_base_dispatch(l->base) < 0)
        die("event_base_dispatch");
    return NULL;
}

/* Starts `l->base`'s loop on a new thread and waits until its start callback has run. */
static void loop_run(struct loop *l, const char *name, void (*on_start)(void))
{
    struct timeval now = {0, 0}, hour = {3600, 0};
    l->name = name;
    l->on_start = on_start;
    sem_init(&l->started, 0, 0);
    /* `keep` keeps the loop running while no socket has anything to do. */
    if (!(l->start = evtimer_new(l->base, loop_start_cb, l)) || evtimer_add(l->start, &now) ||
        !(l->keep = evtimer_new(l->base, noop_cb, NULL)) || evtimer_add(l->keep, &hour) ||
        pthread_create(&l->thread, NULL, loop_main, l))
        die("loop start");
    sem_wait(&l->started);
}

static void loop_end(struct loop *l)
{
    event_base_loopbreak(l->base);
    pthread_join(l->thread, NULL);
    event_free(l->start);
    event_free(l->keep);
}

/* ---- fork: the child's threads and loops are its own ---------------------------------------- */

enum {
    FORKS = 8,            /* children, forked while "prb-churn" works the shim's tables */
    PARENT_ON_LOOP = 2,   /* bufferevent_write on the parent's loop */
    CHILD_ON_LOOP = 3,    /* bufferevent_write on the child's own loop */
    CHILD_OFF_LOOP = 2,   /* bufferevent_write by the child's main thread */
    CHILD_INHERITED = 1,  /* write() on the parent's watched socket, before any child loop */
    CHILD_DEADLINE_S = 20 /* a child stuck on a lock inherited from the parent dies by SIGALRM */
};

static struct loop parent_loop, child_loop;
static struct bufferevent *fork_bev, *child_bev;
static int fork_raw[2];
static atomic_bool churn_stop;

static void parent_start(void)
{
    for (int i = 0; i < PARENT_ON_LOOP; i++)
        bufferevent_write(fork_bev, chunk, CHUNK);
}

static void child_start(void)
{
    for (int i = 0; i < CHILD_ON_LOOP; i++)
        bufferevent_write(child_bev, chunk, CHUNK);
}

/* One event assigned over and over: the shim's table lock is often held at a fork. Without
 * malloc, which a sanitizer's allocator does not make safe across fork. */
static void *churn_main(void *arg)
{
    (void)arg;
    static struct event ev;
    name_self("prb-churn");
    while (!atomic_load(&churn_stop))
        if (event_assign(&ev, parent_loop.base, -1, 0, noop_cb, NULL) != 0)
            die("event_assign (churn)");
    return NULL;
}

/* The child: a write on the inherited socket (no loop of its own yet), then its own loop. */
static int child_main(void)
{
    alarm(CHILD_DEADLINE_S);
    name_self("prb-child");
    if (write(fork_raw[0], chunk, CHUNK) != CHUNK)
        return 3;
    int pair[2];
    make_pair(pair);
    if (!(child_loop.base = event_base_new()) ||
        !(child_bev = bufferevent_socket_new(child_loop.base, pair[0], BEV_OPT_THREADSAFE)))
        return 4;
    loop_run(&child_loop, "prb-cloop", child_start);
    for (int i = 0; i < CHILD_OFF_LOOP; i++)
        bufferevent_write(child_bev, chunk, CHUNK);
    size_t got = drain(pair[1], (CHILD_ON_LOOP + CHILD_OFF_LOOP) * CHUNK);
    loop_end(&child_loop);
    bufferevent_free(child_bev);
    event_base_free(child_loop.base);
    close(pair[0]);
    close(pair[1]);
    return got == (CHILD_ON_LOOP + CHILD_OFF_LOOP) * CHUNK ? 0 : 5;
}

static int mode_fork(void)
{
    int pair[2];
    make_pair(pair);
    make_pair(fork_raw);
    if (!(parent_loop.base = event_base_new()) ||
        !(fork_bev = bufferevent_socket_new(parent_loop.base, pair[0], BEV_OPT_THREADSAFE)))
        die("event_base_new or bufferevent_socket_new");
    struct event *raw =
        event_new(parent_loop.base, fork_raw[0], EV_READ | EV_PERSIST, noop_cb, NULL);
    if (!raw || event_add(raw, NULL))
        die("event_new (raw)");
    loop_run(&parent_loop, "prb-loop", parent_start);
    pthread_t churn;
    if (pthread_create(&churn, NULL, churn_main, NULL))
        die("pthread_create");

    int clean = 0;
    for (int i = 0; i < FORKS; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        /* _exit: a leak checker at the child's exit would look for its parent's threads. */
        if (pid == 0)
            _exit(child_main());
        int status;
        if (waitpid(pid, &status, 0) != pid)
            die("waitpid");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            clean++;
        else
            fprintf(stderr, "preload_robust: child %d: %s %d\n", i,
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    atomic_store(&churn_stop, true);
    pthread_join(churn, NULL);
    size_t inherited = drain(fork_raw[1], FORKS * CHILD_INHERITED * CHUNK);
    size_t bev_bytes = drain(pair[1], PARENT_ON_LOOP * CHUNK);
    loop_end(&parent_loop);
    event_free(raw);
    bufferevent_free(fork_bev);
    event_base_free(parent_loop.base);

    say("preload_robust: %d of %d children clean, %zu bytes from them on the inherited "
        "socket, %zu on the parent's bufferevent\n",
        clean, FORKS, inherited, bev_bytes);
    say("expect processes %d\n", 1 + FORKS);
    say("expect loop_start.by.prb-loop 1\nexpect loop_start.by.prb-cloop %d\n", FORKS);
    say("expect io_write.on_loop.by.prb-loop %d\n", PARENT_ON_LOOP);
    say("expect io_write.on_loop.by.prb-cloop %d\n", FORKS * CHILD_ON_LOOP);
    say("expect io_write.off_loop.by.prb-child %d\n", FORKS * CHILD_OFF_LOOP);
    say("expect io_write.before_loop.by.prb-child %d\n", FORKS * CHILD_INHERITED);
    say("expect io_write %d\n",
        PARENT_ON_LOOP + FORKS * (CHILD_ON_LOOP + CHILD_OFF_LOOP + CHILD_INHERITED));
    say("expect conn_open.by.prb-child %d\nexpect loop_stop.by.prb-child %d\n", FORKS, FORKS);
    say("expect io_write.owner_not_loop 0\nexpect vtid.in_two_processes 0\n");
    say("expect io_write.unknown_conn 0\nexpect site.outside_program 0\n");
    return clean == FORKS && inherited == FORKS * CHILD_INHERITED * CHUNK &&
                   bev_bytes == PARENT_ON_LOOP * CHUNK
               ? 0
               : 1;
}

/* ---- signal: handlers that write to a watched socket and to a self-pipe --------------------- */

enum {
    STORM_MAIN = 200, /* SIGUSR1s delivered to the main thread while it runs hooked calls */
    STORM_LOOP = 50,  /* and to the loop thread, mostly waiting in epoll */
};

static struct loop sig_loop;
static struct bufferevent *sig_bev;
static int sig_raw[2], self_pipe[2];
/* Atomics, lock-free and so async-signal-safe: the handler runs on either thread. */
static atomic_int pipe_too, raise_in_cb, bad_writes;
static _Thread_local bool on_main; /* the handler counts its runs per thread */
static atomic_int main_handled, loop_handled, pipe_runs;
static atomic_bool storm_done;
static pthread_t main_thread;
static sem_t pipe_ran;

/* Async-signal-safe only: write(2) and atomics. */
static void on_usr1(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(sig_raw[0], chunk, CHUNK) != CHUNK)
        atomic_fetch_add(&bad_writes, 1);
    if (atomic_load(&pipe_too) && write(self_pipe[1], "s", 1) != 1)
        atomic_fetch_add(&bad_writes, 1);
    if (on_main)
        atomic_fetch_add(&main_handled, 1);
    else
        atomic_fetch_add(&loop_handled, 1);
    errno = saved;
}

static void pipe_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what, (void)arg;
    char c;
    if (read(fd, &c, 1) == 1) {
        atomic_fetch_add(&pipe_runs, 1);
        sem_post(&pipe_ran);
    }
}

/* The program's own callback on the bufferevent's output: it runs inside bufferevent_write. */
static void out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf, (void)arg;
    if (info->n_added && atomic_exchange(&raise_in_cb, 0)) {
        raise(SIGUSR1);
    }
}

static void *drain_main(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    size_t *got = malloc(sizeof(*got));
    if (!got)
        die("malloc");
    *got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        *got += (size_t)n;
    return got;
}

/* Sends one SIGUSR1 at a time to `t` and waits until its handler ran: none coalesce. */
static void deliver(pthread_t t, atomic_int *count, int times)
{
    for (int i = 0; i < times; i++) {
        int before = atomic_load(count);
        if (pthread_kill(t, SIGUSR1) != 0)
            die("pthread_kill");
        while (atomic_load(count) == before)
            sched_yield();
    }
}

static void *sender_main(void *arg)
{
    (void)arg;
    name_self("prb-sender");
    deliver(main_thread, &main_handled, STORM_MAIN);
    deliver(sig_loop.thread, &loop_handled, STORM_LOOP);
    atomic_store(&storm_done, true);
    return NULL;
}

static int mode_signal(void)
{
    int pair[2];
    main_thread = pthread_self();
    on_main = true;
    sem_init(&pipe_ran, 0, 0);
    make_pair(pair);
    make_pair(sig_raw);
    if (pipe(self_pipe) != 0)
        die("pipe");
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigaction(SIGUSR1, NULL, &old) != 0)
        die("sigaction");
    /* The C library adds SA_RESTORER of its own. */
    int as_set =
        old.sa_handler == on_usr1 && (old.sa_flags & (SA_RESTART | SA_SIGINFO)) == SA_RESTART;
    if (!(sig_loop.base = event_base_new()) ||
        !(sig_bev = bufferevent_socket_new(sig_loop.base, pair[0], BEV_OPT_THREADSAFE)) ||
        !evbuffer_add_cb(bufferevent_get_output(sig_bev), out_cb, NULL))
        die("event_base_new or bufferevent_socket_new");
    struct event *raw = event_new(sig_loop.base, sig_raw[0], EV_READ | EV_PERSIST, noop_cb, NULL);
    struct event *sp = event_new(sig_loop.base, self_pipe[0], EV_READ | EV_PERSIST, pipe_cb, NULL);
    if (!raw || !sp || event_add(raw, NULL) || event_add(sp, NULL))
        die("event_new");
    pthread_t drainer;
    if (pthread_create(&drainer, NULL, drain_main, &sig_raw[1]))
        die("pthread_create");
    loop_run(&sig_loop, "prb-loop", NULL);

    /* At top level, then inside bufferevent_write (from the program's buffer callback). */
    atomic_store(&pipe_too, 1);
    raise(SIGUSR1);
    sem_wait(&pipe_ran);
    atomic_store(&raise_in_cb, 1);
    bufferevent_write(sig_bev, chunk, CHUNK);
    sem_wait(&pipe_ran);
    atomic_store(&pipe_too, 0);

    /* The storm: signals land anywhere in the hooked calls below, or in the loop's wait. */
    pthread_t sender;
    if (pthread_create(&sender, NULL, sender_main, NULL))
        die("pthread_create");
    struct evbuffer *scratch = evbuffer_new();
    if (!scratch)
        die("evbuffer_new");
    while (!atomic_load(&storm_done)) {
        evbuffer_add(scratch, chunk, CHUNK);
        evbuffer_drain(scratch, CHUNK);
    }
    pthread_join(sender, NULL);
    evbuffer_free(scratch);

    size_t bev_bytes = drain(pair[1], CHUNK);
    loop_end(&sig_loop);
    shutdown(sig_raw[0], SHUT_WR);
    size_t *raw_bytes;
    pthread_join(drainer, (void **)&raw_bytes);
    int main_runs = atomic_load(&main_handled), loop_runs = atomic_load(&loop_handled);
    size_t want_raw = (size_t)(main_runs + loop_runs) * CHUNK;
    int ok = as_set && !atomic_load(&bad_writes) && *raw_bytes == want_raw && bev_bytes == CHUNK &&
             atomic_load(&pipe_runs) == 2 && main_runs == 2 + STORM_MAIN && loop_runs == STORM_LOOP;
    say("preload_robust: handler runs %d on main, %d on the loop; %zu of %zu bytes on the "
        "watched socket; pipe runs %d; sigaction reads back the program's handler: %s\n",
        main_runs, loop_runs, *raw_bytes, want_raw, atomic_load(&pipe_runs), as_set ? "yes" : "no");
    free(raw_bytes);
    event_free(raw);
    event_free(sp);
    bufferevent_free(sig_bev);
    event_base_free(sig_loop.base);

    say("expect io_write.off_loop.write %d\n", 2 + STORM_MAIN);
    say("expect io_write.off_loop.write.by.prb-main %d\n", 2 + STORM_MAIN);
    say("expect io_write.on_loop.write %d\n", STORM_LOOP);
    say("expect io_write.off_loop.bufferevent_write 1\n");
    say("expect io_write %d\n", 2 + STORM_MAIN + STORM_LOOP + 1);
    say("expect loop_post.pipe 2\nexpect loop_run.pipe 2\nexpect loop_post 2\n");
    say("expect loop_run.without_post 0\nexpect loop_post.unrun 0\n");
    say("expect io_write.unknown_conn 0\nexpect site.outside_program 0\n");
    return ok ? 0 : 1;
}

/* ---- threads: writers that exit, threads named late, a loop thread that exits --------------- */

enum {
    ROUND_THREADS = 4, /* threads per round, each joined before the next starts */
    EARLY_WRITES = 2,  /* per named thread */
};

static struct loop thr_loop;
static struct bufferevent *thr_bev;

static void *named_writer(void *arg)
{
    char name[16];
    snprintf(name, sizeof(name), "prb-w%d", (int)(intptr_t)arg);
    name_self(name);
    for (int i = 0; i < EARLY_WRITES; i++)
        bufferevent_write(thr_bev, chunk, CHUNK);
    return NULL;
}

/* Writes under the name it inherited ("prb-main"), then takes its own and writes again. */
static void *late_writer(void *arg)
{
    char name[16];
    snprintf(name, sizeof(name), "prb-late%d", (int)(intptr_t)arg);
    bufferevent_write(thr_bev, chunk, CHUNK);
    name_self(name);
    bufferevent_write(thr_bev, chunk, CHUNK);
    return NULL;
}

static void thr_second_start(void)
{
    bufferevent_write(thr_bev, chunk, CHUNK);
}

static void run_joined(void *(*fn)(void *), int i)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, (void *)(intptr_t)i))
        die("pthread_create");
    pthread_join(t, NULL);
}

static int mode_threads(void)
{
    int pair[2];
    make_pair(pair);
    if (!(thr_loop.base = event_base_new()) ||
        !(thr_bev = bufferevent_socket_new(thr_loop.base, pair[0], BEV_OPT_THREADSAFE)))
        die("event_base_new or bufferevent_socket_new");
    loop_run(&thr_loop, "prb-loop", NULL);
    for (int i = 0; i < ROUND_THREADS; i++)
        run_joined(named_writer, i);
    for (int i = 0; i < ROUND_THREADS; i++)
        run_joined(late_writer, i);
    /* The loop's thread exits: until another thread runs the base, no thread is its loop. */
    loop_end(&thr_loop);
    bufferevent_write(thr_bev, chunk, CHUNK);
    loop_run(&thr_loop, "prb-loop2", thr_second_start);
    enum { WRITES = ROUND_THREADS * EARLY_WRITES + ROUND_THREADS * 2 + 2 };
    size_t got = drain(pair[1], WRITES * CHUNK);
    loop_end(&thr_loop);
    bufferevent_free(thr_bev);
    event_base_free(thr_loop.base);
    close(pair[1]);

    say("preload_robust: %zu of %d bytes\n", got, WRITES * CHUNK);
    for (int i = 0; i < ROUND_THREADS; i++) {
        say("expect io_write.off_loop.by.prb-w%d %d\n", i, EARLY_WRITES);
        say("expect io_write.off_loop.by.prb-late%d 2\n", i);
        say("expect thread_name.prb-w%d 1\n", i);
    }
    say("expect io_write.off_loop %d\n", ROUND_THREADS * (EARLY_WRITES + 2));
    say("expect io_write.before_loop.by.prb-main 1\n");
    say("expect io_write.on_loop.by.prb-loop2 1\n");
    say("expect loop_start.by.prb-loop 1\nexpect loop_start.by.prb-loop2 1\n");
    say("expect io_write %d\n", WRITES);
    say("expect io_write.owner_not_loop 0\nexpect io_write.unknown_conn 0\n");
    say("expect site.outside_program 0\n");
    return got == WRITES * CHUNK ? 0 : 1;
}

/* ---- noloop: bases, events and bufferevents, writes, and an exit without a loop -------------- */

static void *noloop_writer(void *arg)
{
    name_self("prb-nl");
    if (write(*(int *)arg, chunk, CHUNK) != CHUNK)
        die("write");
    return NULL;
}

static int noloop_cookie;

static int mode_noloop(void)
{
    /* Static: still reachable at exit, as a leak checker expects of what a program keeps. */
    static int pair[2], raw[2];
    static struct event_base *base;
    static struct bufferevent *bev;
    static struct event *ev, *act;
    make_pair(pair);
    make_pair(raw);
    base = event_base_new();
    bev = base ? bufferevent_socket_new(base, pair[0], 0) : NULL;
    ev = base ? event_new(base, raw[0], EV_READ | EV_PERSIST, noop_cb, NULL) : NULL;
    act = base ? event_new(base, -1, 0, noop_cb, NULL) : NULL;
    if (!bev || !ev || !act || event_add(ev, NULL))
        die("event_base_new, bufferevent_socket_new or event_new");
    for (int i = 0; i < 3; i++)
        bufferevent_write(bev, chunk, CHUNK);
    evbuffer_add(bufferevent_get_output(bev), chunk, CHUNK);
    for (int i = 0; i < 2; i++)
        if (write(raw[0], chunk, CHUNK) != CHUNK)
            die("write");
    pthread_t t;
    if (pthread_create(&t, NULL, noloop_writer, &raw[0]))
        die("pthread_create");
    pthread_join(t, NULL);
    /* Posts to a loop nobody runs: they never run, and none is a handoff yet. */
    event_active(act, EV_TIMEOUT, 0);
    if (event_base_once(base, -1, EV_TIMEOUT, noop_cb, &noloop_cookie, NULL) != 0)
        die("event_base_once");
    size_t got = drain(raw[1], 3 * CHUNK);
    say("preload_robust: %zu of %d bytes, %zu bytes left in the bufferevent at exit\n", got,
        3 * CHUNK, evbuffer_get_length(bufferevent_get_output(bev)));
    say("expect loop_start 0\nexpect loop_post 0\nexpect loop_run 0\n");
    say("expect conn_open 2\nexpect conn_close 0\n");
    say("expect io_write 7\nexpect io_write.before_loop 7\n");
    say("expect io_write.before_loop.bufferevent_write 3\n");
    say("expect io_write.before_loop.evbuffer_add 1\nexpect io_write.before_loop.write 3\n");
    say("expect io_write.before_loop.by.prb-nl 1\nexpect io_write.bytes %d\n", 7 * CHUNK);
    say("expect io_write.unknown_conn 0\nexpect site.outside_program 0\n");
    fflush(stdout);
    return got == 3 * CHUNK ? 0 : 1; /* nothing freed: exit with it all live */
}

/* ---- exit: exit() while other threads write and a bufferevent has output pending ------------- */

enum { EXIT_AFTER = 2000 }; /* writes by each writer before main exits */

static struct loop exit_loop;
static struct bufferevent *exit_bev;
static int exit_pair[2], exit_raw[2];
static atomic_int bev_writes, raw_writes;

static void *exit_bev_writer(void *arg)
{
    (void)arg;
    name_self("prb-xbev");
    for (;;) { /* until exit */
        bufferevent_write(exit_bev, chunk, CHUNK);
        atomic_fetch_add(&bev_writes, 1);
    }
    return NULL;
}

static void *exit_raw_writer(void *arg)
{
    (void)arg;
    name_self("prb-xraw");
    for (;;) {
        if (write(exit_raw[0], chunk, CHUNK) == CHUNK)
            atomic_fetch_add(&raw_writes, 1);
    }
    return NULL;
}

static int mode_exit(void)
{
    make_pair(exit_pair);
    make_pair(exit_raw);
    evutil_make_socket_nonblocking(exit_raw[0]);
    if (!(exit_loop.base = event_base_new()) ||
        !(exit_bev = bufferevent_socket_new(exit_loop.base, exit_pair[0], BEV_OPT_THREADSAFE)))
        die("event_base_new or bufferevent_socket_new");
    struct event *raw = event_new(exit_loop.base, exit_raw[0], EV_READ | EV_PERSIST, noop_cb, NULL);
    if (!raw || event_add(raw, NULL))
        die("event_new");
    loop_run(&exit_loop, "prb-loop", NULL);
    /* Both peers are read, so that the writers never block; output stays pending all along. */
    pthread_t a, b, c, d;
    if (pthread_create(&a, NULL, exit_bev_writer, NULL) ||
        pthread_create(&b, NULL, exit_raw_writer, NULL) ||
        pthread_create(&c, NULL, drain_main, &exit_raw[1]) ||
        pthread_create(&d, NULL, drain_main, &exit_pair[1]))
        die("pthread_create");
    while (atomic_load(&bev_writes) < EXIT_AFTER || atomic_load(&raw_writes) < EXIT_AFTER)
        sched_yield();
    say("preload_robust: exiting with two writers and the loop running\n");
    say("atleast io_write.off_loop.bufferevent_write.by.prb-xbev %d\n", EXIT_AFTER);
    say("atleast io_write.off_loop.write.by.prb-xraw %d\n", EXIT_AFTER);
    say("expect loop_start 1\nexpect io_write.on_loop 0\nexpect io_write.unknown_conn 0\n");
    say("expect site.outside_program 0\n");
    fflush(stdout);
    exit(0);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(void);
        bool threads; /* evthread_use_pthreads */
    } modes[] = {
        {"fork", mode_fork, true},       {"signal", mode_signal, true},
        {"threads", mode_threads, true}, {"noloop", mode_noloop, false},
        {"exit", mode_exit, true},
    };
    for (size_t i = 0; argc == 2 && i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(argv[1], modes[i].name) != 0)
            continue;
        tag[2] = argv[1][0];
        name_self("prb-main");
        if (modes[i].threads && evthread_use_pthreads() != 0)
            die("evthread_use_pthreads");
        return modes[i].run();
    }
    fprintf(stderr, "usage: preload_robust fork|signal|threads|noloop|exit\n");
    return 2;
}
