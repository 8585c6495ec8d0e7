/*
 * libxtio-preload's hooks on signal dispositions: the program's handlers run through a
 * trampoline, as top-level program code. A handler that interrupts a hooked libevent call (the
 * thread's depth > 0) would otherwise have its writes to a watched socket or a self-pipe taken
 * for libevent's own and not seen.
 *
 * sigaction and signal are async-signal-safe, and so is everything here: atomics, a spin flag
 * taken with every signal blocked, the real sigaction and pthread_sigmask.
 */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>

/* The program's handler of each signal it handles, as it set it. */
struct disposition {
    _Atomic(void *) handler; /* sa_sigaction with SA_SIGINFO, else sa_handler */
    _Atomic int flags;       /* the program's sa_flags */
    atomic_flag busy;        /* one sigaction at a time: the slot and the kernel agree */
};
static struct disposition dispositions[NSIG];

static void trampoline(int sig, siginfo_t *info, void *context)
{
    struct xtio__tls *t = &xtio__tls;
    unsigned depth = t->depth;
    int call = t->call;
    uint64_t site = t->site, wconn_id = t->wconn_id;
    uint32_t wbytes = t->wbytes;
    int32_t wowner = t->wowner;
    uint8_t wwatched = t->wwatched;
    t->depth = 0;
    t->call = -1;

    struct disposition *d = &dispositions[sig];
    void *handler = atomic_load_explicit(&d->handler, memory_order_acquire);
    if (atomic_load_explicit(&d->flags, memory_order_relaxed) & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))handler)(sig, info, context);
    else
        ((void (*)(int))handler)(sig);

    t->depth = depth;
    t->call = call;
    t->site = site;
    t->wconn_id = wconn_id;
    t->wbytes = wbytes;
    t->wowner = wowner;
    t->wwatched = wwatched;
}

/* The real sigaction, found here and not by xtio__resolve: a sanitizer runtime preloaded first
 * calls this hook before the library's constructor ran, and before the runtime itself is up,
 * when no instrumented code (all of the library but this file) may run. */
typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static sigaction_fn real_sigaction(void)
{
    void *fn = atomic_load_explicit(&xtio__real.sigaction, memory_order_relaxed);
    if (!fn && (fn = dlsym(RTLD_NEXT, "sigaction")))
        atomic_store_explicit(&xtio__real.sigaction, fn, memory_order_relaxed);
    return fn ? (sigaction_fn)fn : (sigaction_fn)xtio__resolve(&xtio__real.sigaction, "sigaction");
}

static bool is_handler(const struct sigaction *act)
{
    return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

XTIO_HOOK int sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
    sigaction_fn real = real_sigaction();
    if (!xtio__active || sig <= 0 || sig >= NSIG)
        return real(sig, act, oldact);

    sigset_t all, mask;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &mask);
    struct disposition *d = &dispositions[sig];
    while (atomic_flag_test_and_set_explicit(&d->busy, memory_order_acquire))
        ;
    void *was = atomic_load(&d->handler);
    int was_flags = atomic_load(&d->flags);
    struct sigaction wrapped;
    if (act && is_handler(act)) {
        /* Stored first: the trampoline may run as soon as the kernel has it. */
        atomic_store(&d->flags, act->sa_flags);
        atomic_store_explicit(&d->handler,
                              act->sa_flags & SA_SIGINFO ? (void *)act->sa_sigaction
                                                         : (void *)act->sa_handler,
                              memory_order_release);
        wrapped = *act;
        wrapped.sa_sigaction = trampoline;
        wrapped.sa_flags |= SA_SIGINFO;
        act = &wrapped;
    }
    int r = real(sig, act, oldact);
    int saved = errno;
    if (r != 0 && act == &wrapped) {
        atomic_store(&d->handler, was);
        atomic_store(&d->flags, was_flags);
    }
    if (r == 0 && oldact && oldact->sa_sigaction == trampoline) {
        /* What the program set, not the trampoline (the C library's SA_RESTORER stays). */
        if (was_flags & SA_SIGINFO)
            oldact->sa_sigaction = (void (*)(int, siginfo_t *, void *))was;
        else
            oldact->sa_handler = (void (*)(int))was;
        oldact->sa_flags = (oldact->sa_flags & ~SA_SIGINFO) | (was_flags & SA_SIGINFO);
    }
    atomic_flag_clear_explicit(&d->busy, memory_order_release);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    errno = saved;
    return r;
}

/* The C library's signal() calls its sigaction directly: BSD semantics, the same here. */
XTIO_HOOK sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART}, old;
    sigemptyset(&act.sa_mask);
    if (sig > 0 && sig < NSIG)
        sigaddset(&act.sa_mask, sig);
    return sigaction(sig, &act, &old) == 0 ? old.sa_handler : SIG_ERR;
}
