/*
 * libxtio-preload's start: finds the real functions behind the hooks, checks that the program runs
 * a dynamic libevent 2.1 (otherwise says so once and stays out of the way), sizes the fd table, and
 * owns the per-thread state and the tracepoint definitions.
 */
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct xtio__real xtio__real;
bool xtio__active;
_Thread_local struct xtio__tls xtio__tls __attribute__((tls_model("initial-exec"))) = {.call = -1};
struct xtio__fdslot *xtio__fds;
int xtio__fd_cap;

/* A table slot per possible fd, up to this many: memory is only touched for fds in use. */
#define XTIO__FD_CAP_MAX (1 << 20)

void *xtio__resolve(_Atomic(void *) *slot, const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        /* The program called `name`, so some library of it defines it: not finding it means the
         * loader's view is not what the shim expects, and passing through is impossible. */
        fprintf(stderr,
                "xtio-preload: cannot find the real %s (%s); the program cannot run with the "
                "shim. Run it without LD_PRELOAD=libxtio-preload.so, and report this with its "
                "`ldd` output.\n",
                name, dlerror());
        abort();
    }
    atomic_store_explicit(slot, fn, memory_order_relaxed);
    return fn;
}

int32_t xtio__tid(void)
{
    if (!xtio__tls.tid)
        xtio__tls.tid = (int32_t)syscall(SYS_gettid);
    return xtio__tls.tid;
}

_Atomic uint32_t xtio__names_set;

void xtio__thread_name(void)
{
    char name[16]; /* TASK_COMM_LEN */
    /* Before the name is read: a rename after the read names the thread again. */
    xtio__tls.names_seen = atomic_load_explicit(&xtio__names_set, memory_order_relaxed);
    if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0)
        name[0] = '\0';
    lttng_ust_tracepoint(xtio, thread_name, name);
}

/* Not a libevent or write hook: a renamed thread names itself again at its next event. */
XTIO_HOOK int pthread_setname_np(pthread_t thread, const char *name)
{
    int r = XTIO_REAL(pthread_setname_np)(thread, name);
    if (r == 0)
        atomic_fetch_add_explicit(&xtio__names_set, 1, memory_order_relaxed);
    return r;
}

/* The forking thread is the child's only thread, under a new tid. */
static void forget_tid_in_child(void)
{
    xtio__tls.tid = 0;
    xtio__tls.events = 0;
}

/* Its value is set in the threads that loop a base, so that their exit is seen. */
static pthread_key_t loop_thread_key;
static bool loop_thread_key_made;

static void loop_thread_exits(void *value)
{
    (void)value;
    xtio__bases_orphan(xtio__tid());
}

void xtio__loop_thread(void)
{
    static _Thread_local bool marked;
    if (!marked && loop_thread_key_made) {
        marked = true;
        pthread_setspecific(loop_thread_key, &marked);
    }
}

static void size_fd_table(void)
{
    struct rlimit lim;
    rlim_t cap = 65536;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0)
        cap = lim.rlim_max; /* programs such as memcached raise the soft limit later */
    if (cap == RLIM_INFINITY || cap > XTIO__FD_CAP_MAX)
        cap = XTIO__FD_CAP_MAX;
    /* mmap, not malloc: zeroed pages that cost nothing until an fd of theirs is watched. */
    void *table = mmap(NULL, (size_t)cap * sizeof(struct xtio__fdslot), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) {
        fprintf(stderr,
                "xtio-preload: cannot map a table for %lu fds (%s); raw socket writes and "
                "wake-ups go untraced. Lower the fd limit (ulimit -Hn) to trace them.\n",
                (unsigned long)cap, strerror(errno));
        return;
    }
    xtio__fds = table;
    xtio__fd_cap = (int)cap;
}

/* The libc functions the write path calls: resolved here, so that a signal handler never runs
 * dlsym (only calls made before this constructor resolve lazily). */
static void resolve_libc(void)
{
    xtio__real_get(&xtio__real.write, "write");
    xtio__real_get(&xtio__real.writev, "writev");
    xtio__real_get(&xtio__real.send, "send");
    xtio__real_get(&xtio__real.sendto, "sendto");
    xtio__real_get(&xtio__real.sendmsg, "sendmsg");
    xtio__real_get(&xtio__real.close, "close");
    xtio__real_get(&xtio__real.pipe, "pipe");
    xtio__real_get(&xtio__real.pipe2, "pipe2");
    xtio__real_get(&xtio__real.dup2, "dup2");
    xtio__real_get(&xtio__real.dup3, "dup3");
    xtio__real_get(&xtio__real.sigaction, "sigaction");
}

__attribute__((constructor)) static void xtio_preload_init(void)
{
    resolve_libc();
    pthread_atfork(NULL, NULL, forget_tid_in_child);
    pthread_atfork(xtio__tables_fork_prepare, xtio__tables_fork_parent, xtio__tables_fork_child);
    /* At exit, the tracepoint destructors would unload liblttng-ust and clear the functions that
     * a tracepoint calls, while the program's other threads still write and trace: they would
     * call NULL. A process that exits needs no unloading. */
    tracepoint_disable_destructors();

    int (*version)(void) = (int (*)(void))dlsym(RTLD_NEXT, "event_get_version_number");
    if (!version || !dlsym(RTLD_NEXT, "event_base_loop")) {
        fprintf(stderr,
                "xtio-preload: this program has no dynamically linked libevent, so nothing is "
                "traced and it runs unchanged. Preload libxtio-preload.so into a program linked "
                "against libevent 2.1's shared libraries (`ldd PROGRAM | grep libevent` lists "
                "them).\n");
        return;
    }
    uint32_t v = (uint32_t)version();
    if ((v >> 16) != 0x0201) {
        fprintf(stderr,
                "xtio-preload: the program runs libevent %u.%u, but xtio-preload knows only "
                "libevent 2.1, so nothing is traced and it runs unchanged. Trace a build of the "
                "program against libevent 2.1.\n",
                v >> 24, (v >> 16) & 0xff);
        return;
    }
    size_fd_table();
    loop_thread_key_made = pthread_key_create(&loop_thread_key, loop_thread_exits) == 0;
    if (!loop_thread_key_made)
        fprintf(stderr, "xtio-preload: cannot make a thread key; a loop thread that exits stays "
                        "its base's loop thread.\n");
    xtio__active = true;
}
