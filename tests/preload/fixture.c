/*
 * preload_fixture: a plain libevent program, written as if xtio did not exist (it links libevent,
 * not libxtio), that makes a known number of each write and handoff that libxtio-preload.so must
 * see, in an order fixed by semaphores, so that tests/preload/run_fixture_test.sh can demand
 * exact counts. It prints what it did, and the counts the trace must show as `expect KEY VALUE`
 * lines (check_fixture.awk names the keys); it exits 0 only if every callback ran as often, with
 * the arguments, that the program set.
 *
 * Threads: main sets up and tears down, and is the HTTP client at the end; "pfx-loop" runs the one
 * event base, an evhttp server among its events; "pfx-worker" writes and posts from outside the
 * loop.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <pthread.h>
#include <errno.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
    CHUNK = 16,                /* bytes of every write */
    OFF_LOOP_BEV_WRITES = 100, /* bufferevent_write from the worker, on a threadsafe bev */
    ON_LOOP_BEV_WRITES = 10,
    ON_LOOP_EVBUFFER_ADDS = 5, /* evbuffer_add on the bev's output, plus one add_printf */
    ACTIVE_SINGLE = 5,         /* event_active, each run before the next */
    ACTIVE_COALESCED = 3,      /* event_active while the loop is held: one run */
    ONCE_HANDOFFS = 4,         /* event_base_once, plus one that does the handover */
    EVENTFD_HANDOFFS = 2,
    PIPE_HANDOFFS = 1,
};

static const char chunk[CHUNK + 1] = "0123456789abcdef";

static struct event_base *base;
static struct bufferevent *bev;
static int bev_pair[2], raw_pair[2], pipe_fds[2], efd;
static struct event *ev_start, *ev_active, *ev_block, *ev_efd, *ev_pipe, *ev_raw;
static int raw_cookie, once_cookie, efd_cookie, pipe_cookie, http_cookie;
static struct evhttp *http;
static uint16_t http_port;

static sem_t loop_ready, done, blocked, release;
static int runs_active, runs_block, runs_once, runs_efd, runs_pipe, runs_handover, runs_http;
static int bad_args; /* callbacks that got other arguments than the program gave */

static void die(const char *what)
{
    fprintf(stderr, "preload_fixture: %s failed: %s\n", what, strerror(errno));
    exit(2);
}

/* On the loop, before the worker starts: the on-loop writes. */
static void start_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    struct evbuffer *out = bufferevent_get_output(bev);
    for (int i = 0; i < ON_LOOP_BEV_WRITES; i++)
        bufferevent_write(bev, chunk, CHUNK);
    for (int i = 0; i < ON_LOOP_EVBUFFER_ADDS; i++)
        evbuffer_add(out, chunk, CHUNK);
    evbuffer_add_printf(out, "%s", chunk);
    if (write(raw_pair[0], chunk, CHUNK) != CHUNK)
        die("on-loop write");
    sem_post(&loop_ready);
}

static void active_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    bad_args += arg != ev_active; /* made with event_self_cbarg() */
    runs_active++;
    sem_post(&done);
}

static void block_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    runs_block++;
    sem_post(&blocked);
    sem_wait(&release);
}

static void once_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    bad_args += arg != &once_cookie;
    runs_once++;
    sem_post(&done);
}

/* The deliberate handover: the loop stops watching the raw socket; the worker writes it next. */
static void handover_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    bad_args += arg != &raw_cookie;
    event_del(ev_raw);
    runs_handover++;
    sem_post(&done);
}

static void efd_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uint64_t n;
    bad_args += arg != &efd_cookie;
    if (read(fd, &n, sizeof(n)) != sizeof(n))
        die("eventfd read");
    runs_efd++;
    sem_post(&done);
}

static void pipe_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char c;
    bad_args += arg != &pipe_cookie;
    if (read(fd, &c, 1) != 1)
        die("pipe read");
    runs_pipe++;
    sem_post(&done);
}

static void raw_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg; /* never readable: nobody writes to raw_pair[1] */
}

/* One reply of headers and a body: libevent adds it to the output in several pieces. */
static void http_cb(struct evhttp_request *req, void *arg)
{
    bad_args += arg != &http_cookie;
    struct evbuffer *body = evbuffer_new();
    if (!body)
        die("evbuffer_new");
    evbuffer_add(body, chunk, CHUNK);
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Fixture", "preload");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
    runs_http++;
}

static void *loop_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "pfx-loop");
    if (event_base_dispatch(base) < 0)
        die("event_base_dispatch");
    return NULL;
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "pfx-worker");
    sem_wait(&loop_ready);

    /* Off-loop writes a BEV_OPT_THREADSAFE bufferevent allows, and xtio reports. */
    for (int i = 0; i < OFF_LOOP_BEV_WRITES; i++)
        bufferevent_write(bev, chunk, CHUNK);

    for (int i = 0; i < ACTIVE_SINGLE; i++) {
        event_active(ev_active, EV_TIMEOUT, 0);
        sem_wait(&done);
    }
    event_active(ev_block, EV_TIMEOUT, 0);
    sem_wait(&blocked);
    for (int i = 0; i < ACTIVE_COALESCED; i++)
        event_active(ev_active, EV_TIMEOUT, 0);
    sem_post(&release);
    sem_wait(&done);

    for (int i = 0; i < ONCE_HANDOFFS; i++) {
        if (event_base_once(base, -1, EV_TIMEOUT, once_cb, &once_cookie, NULL) != 0)
            die("event_base_once");
        sem_wait(&done);
    }
    for (int i = 0; i < EVENTFD_HANDOFFS; i++) {
        uint64_t one = 1;
        if (write(efd, &one, sizeof(one)) != sizeof(one))
            die("eventfd write");
        sem_wait(&done);
    }
    for (int i = 0; i < PIPE_HANDOFFS; i++) {
        if (write(pipe_fds[1], "p", 1) != 1)
            die("pipe write");
        sem_wait(&done);
    }

    /* While the loop still watches the socket: an off-loop write. */
    if (write(raw_pair[0], chunk, CHUNK) != CHUNK)
        die("racing write");
    /* After the loop let it go: a handover, in three ways of writing. */
    if (event_base_once(base, -1, EV_TIMEOUT, handover_cb, &raw_cookie, NULL) != 0)
        die("event_base_once (handover)");
    sem_wait(&done);
    if (write(raw_pair[0], chunk, CHUNK) != CHUNK)
        die("handover write");
    if (send(raw_pair[0], chunk, CHUNK, 0) != CHUNK)
        die("handover send");
    struct iovec iov = {(void *)chunk, CHUNK};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (sendmsg(raw_pair[0], &msg, 0) != CHUNK)
        die("handover sendmsg");
    return NULL;
}

/* An HTTP/1.0 request to the fixture's own server: the server closes after its reply. */
static size_t http_get(void)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(http_port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to)) != 0 ||
        send(s, request, sizeof(request) - 1, 0) != sizeof(request) - 1)
        die("HTTP request");
    size_t got = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(s, buf, sizeof(buf))) > 0)
        got += (size_t)n;
    close(s);
    return got;
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

static void set_up(void)
{
    if (evthread_use_pthreads() != 0)
        die("evthread_use_pthreads");
    if (!(base = event_base_new()))
        die("event_base_new");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, bev_pair) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, raw_pair) != 0 || pipe(pipe_fds) != 0 ||
        (efd = eventfd(0, 0)) < 0)
        die("socketpair, pipe or eventfd");
    evutil_make_socket_nonblocking(bev_pair[0]);
    if (!(bev = bufferevent_socket_new(base, bev_pair[0], BEV_OPT_THREADSAFE)))
        die("bufferevent_socket_new");
    ev_start = evtimer_new(base, start_cb, NULL);
    ev_active = event_new(base, -1, 0, active_cb, event_self_cbarg());
    ev_block = event_new(base, -1, 0, block_cb, NULL);
    ev_efd = event_new(base, efd, EV_READ | EV_PERSIST, efd_cb, &efd_cookie);
    ev_pipe = event_new(base, pipe_fds[0], EV_READ | EV_PERSIST, pipe_cb, &pipe_cookie);
    ev_raw = event_new(base, raw_pair[0], EV_READ | EV_PERSIST, raw_cb, &raw_cookie);
    struct evhttp_bound_socket *bound;
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    if (!(http = evhttp_new(base)) ||
        !(bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0)) ||
        getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&addr, &len) != 0)
        die("evhttp_new or evhttp_bind_socket_with_handle");
    http_port = ntohs(addr.sin_port);
    evhttp_set_gencb(http, http_cb, &http_cookie);
    struct timeval now = {0, 0};
    if (!ev_start || !ev_active || !ev_block || !ev_efd || !ev_pipe || !ev_raw ||
        event_add(ev_efd, NULL) || event_add(ev_pipe, NULL) || event_add(ev_raw, NULL) ||
        evtimer_add(ev_start, &now))
        die("event_new or event_add");
}

/* What the program set is what it reads back. */
static int callbacks_as_set(void)
{
    event_callback_fn cb;
    void *arg;
    struct event_base *ev_base;
    evutil_socket_t fd;
    short events;
    event_get_assignment(ev_raw, &ev_base, &fd, &events, &cb, &arg);
    return event_get_callback(ev_raw) == raw_cb && event_get_callback_arg(ev_raw) == &raw_cookie &&
           event_get_callback(ev_active) == active_cb &&
           event_get_callback_arg(ev_active) == ev_active && cb == raw_cb && arg == &raw_cookie &&
           ev_base == base && fd == raw_pair[0] && events == (EV_READ | EV_PERSIST);
}

int main(void)
{
    sem_init(&loop_ready, 0, 0);
    sem_init(&done, 0, 0);
    sem_init(&blocked, 0, 0);
    sem_init(&release, 0, 0);
    set_up();
    int as_set_before = callbacks_as_set();

    pthread_t loop, worker;
    if (pthread_create(&loop, NULL, loop_main, NULL) ||
        pthread_create(&worker, NULL, worker_main, NULL))
        die("pthread_create");
    pthread_join(worker, NULL);

    enum {
        BEV_BYTES = (OFF_LOOP_BEV_WRITES + ON_LOOP_BEV_WRITES + ON_LOOP_EVBUFFER_ADDS + 1) * CHUNK
    };
    enum { RAW_BYTES = 5 * CHUNK }; /* on-loop, racing, and the three handover writes */
    size_t bev_bytes = drain(bev_pair[1], BEV_BYTES), raw_bytes = drain(raw_pair[1], RAW_BYTES);
    size_t http_bytes = http_get();
    event_base_loopbreak(base);
    pthread_join(loop, NULL);
    int as_set = as_set_before && callbacks_as_set();

    bufferevent_free(bev);
    event_free(ev_raw);
    close(raw_pair[0]);
    event_free(ev_start);
    event_free(ev_active);
    event_free(ev_block);
    event_free(ev_efd);
    event_free(ev_pipe);
    evhttp_free(http);
    event_base_free(base);
    close(bev_pair[0]);

    printf("preload_fixture: bufferevent bytes %zu of %d, raw socket bytes %zu of %d\n", bev_bytes,
           BEV_BYTES, raw_bytes, RAW_BYTES);
    printf("preload_fixture: runs: event_active %d, held %d, event_base_once %d, handover %d, "
           "eventfd %d, pipe %d, http %d (%zu bytes)\n",
           runs_active, runs_block, runs_once, runs_handover, runs_efd, runs_pipe, runs_http,
           http_bytes);
    printf("preload_fixture: callbacks and arguments as the program set them: %s\n",
           as_set && !bad_args ? "yes" : "no");

    const int on_loop_adds = ON_LOOP_EVBUFFER_ADDS + 1;
    const int on_loop = ON_LOOP_BEV_WRITES + on_loop_adds + 1 + 1; /* + the HTTP reply */
    const int off_loop = OFF_LOOP_BEV_WRITES + 1;
    const int posts_active = ACTIVE_SINGLE + 1 + ACTIVE_COALESCED;
    const int once = ONCE_HANDOFFS + 1;
    printf("expect loop_start 1\nexpect loop_stop 1\nexpect conn_open 3\nexpect conn_close 3\n");
    printf("expect io_write %d\n", on_loop + off_loop + 3);
    printf("expect io_write.bytes %zu\n",
           (size_t)(on_loop - 1 + off_loop + 3) * CHUNK + http_bytes);
    printf("expect io_write.on_loop %d\n", on_loop);
    printf("expect io_write.on_loop.bufferevent_write %d\n", ON_LOOP_BEV_WRITES);
    printf("expect io_write.on_loop.evbuffer_add %d\n", on_loop_adds);
    printf("expect io_write.on_loop.write 1\nexpect io_write.on_loop.evhttp_send_reply 1\n");
    printf("expect io_write.off_loop %d\n", off_loop);
    printf("expect io_write.off_loop.bufferevent_write %d\n", OFF_LOOP_BEV_WRITES);
    printf("expect io_write.off_loop.write 1\n");
    printf("expect io_write.handover 3\nexpect io_write.handover.write 1\n");
    printf("expect io_write.handover.send 1\nexpect io_write.handover.sendmsg 1\n");
    printf("expect io_write.by.pfx-loop %d\nexpect io_write.by.pfx-worker %d\n", on_loop,
           off_loop + 3);
    printf("expect loop_post.event_active %d\nexpect loop_run.event_active %d\n", posts_active,
           ACTIVE_SINGLE + 2);
    printf("expect loop_post.event_base_once %d\nexpect loop_run.event_base_once %d\n", once, once);
    printf("expect loop_post.eventfd %d\nexpect loop_run.eventfd %d\n", EVENTFD_HANDOFFS,
           EVENTFD_HANDOFFS);
    printf("expect loop_post.pipe %d\nexpect loop_run.pipe %d\n", PIPE_HANDOFFS, PIPE_HANDOFFS);
    printf("expect loop_post.by.pfx-worker %d\n",
           posts_active + once + EVENTFD_HANDOFFS + PIPE_HANDOFFS);
    printf("expect loop_run.by.pfx-loop %d\n",
           ACTIVE_SINGLE + 2 + once + EVENTFD_HANDOFFS + PIPE_HANDOFFS);
    printf("expect loop_start.by.pfx-loop 1\n");
    printf("expect loop_run.without_post 0\nexpect loop_post.unrun 0\n");
    printf("expect io_write.unknown_conn 0\nexpect site.outside_fixture 0\n");

    int ok = bev_bytes == BEV_BYTES && raw_bytes == RAW_BYTES && as_set && !bad_args &&
             runs_active == ACTIVE_SINGLE + 1 && runs_block == 1 && runs_once == ONCE_HANDOFFS &&
             runs_handover == 1 && runs_http == 1 && http_bytes > 0 &&
             runs_efd == EVENTFD_HANDOFFS && runs_pipe == PIPE_HANDOFFS;
    return ok ? 0 : 1;
}
