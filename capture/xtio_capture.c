/*
 * xtio-capture: records a command (or a running process) in an LTTng session of its own, driving
 * the lttng CLI (liblttng-ctl's headers are not packaged), and always stops and destroys that
 * session, whatever happens to the command or to xtio-capture's own signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "options.h"
#include "xtio_schema.h"
#include "process.h"

/* The channel every xtio event goes to, so that --subbuf-size and --num-subbuf apply to them. */
#define CHANNEL          "xtio"
/* The xtio events, and LTTng-UST's statedump events that name each process after its program
 * and give its modules' load addresses, by which a report names a call site (`site` fields). */
#define EVENTS           XTIO_SCHEMA_PROVIDER ":*,lttng_ust_statedump:procname,lttng_ust_statedump:bin_info"
/* An lttng command that has not answered by then never will (`stop` waits for the consumer to
 * write the buffers out, which takes a few seconds at most). */
#define LTTNG_TIMEOUT_S  120
/* How often --attach checks whether its process is still there. */
#define ATTACH_POLL_NS   100000000L
/* Arguments of the longest lttng command line of ours (add-context has 13). */
#define MAX_LTTNG_ARGS   16
#define LTTNG_OUTPUT_MAX 4096

struct capture {
    const struct xtio_capture_config *config; /* weak */
    char *lttng;                              /* owned: the lttng CLI's path */
    char *program;                            /* owned: COMMAND's path; NULL with --attach */
    char *ld_preload; /* owned: COMMAND's LD_PRELOAD with --preload, else NULL */
    char session[NAME_MAX + 1];
    char output[PATH_MAX];     /* absolute; empty with --live */
    char viewer_url[PATH_MAX]; /* with --live: what to give xtio-analyze */
    bool session_created, session_started;
    pid_t command_pid; /* 0 before it is started */
    int release_fd;    /* held open until COMMAND may exec; -1 once released */
    int interrupt;     /* the first SIGINT or SIGTERM received, else 0 */
    sigset_t waited;   /* SIGINT, SIGTERM and SIGCHLD: blocked, taken by sigtimedwait */
};

/* ---- The lttng CLI --------------------------------------------------------------------------- */

/* Runs `lttng --no-sessiond ARGS...` (NULL-terminated; the daemon is started by us or not at
 * all, never behind our back). Returns lttng's exit status, or -1; `out` gets what it said. */
static int lttng_status(const struct capture *cap, const char *const args[], char *out,
                        size_t out_size)
{
    char *argv[MAX_LTTNG_ARGS + 3] = {cap->lttng, "--no-sessiond"};
    size_t n = 2;
    for (size_t i = 0; args[i] && n < MAX_LTTNG_ARGS + 2; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return xtio_capture_run(argv, LTTNG_TIMEOUT_S, out, out_size);
}

/* As lttng_status(), and on failure says which command failed, quoting lttng. */
static bool lttng(const struct capture *cap, const char *const args[])
{
    char out[LTTNG_OUTPUT_MAX];
    int status = lttng_status(cap, args, out, sizeof(out));
    if (status == 0)
        return true;
    char line[1024] = "lttng";
    for (size_t i = 0; args[i]; i++) {
        size_t len = strlen(line);
        snprintf(line + len, sizeof(line) - len, " %s", args[i]);
    }
    if (status > 0)
        xtio_capture_complain("`%s` failed (exit status %d): %s", line, status,
                              out[0] ? out : "(no message)");
    else
        xtio_capture_complain("`%s` failed: %s", line, out);
    return false;
}

/* ---- Before the session: lttng, the daemon, the name, the output ----------------------------- */

static bool find_lttng(struct capture *cap)
{
    cap->lttng = xtio_capture_find_program("lttng");
    if (cap->lttng)
        return true;
    xtio_capture_complain("the lttng command is not in PATH: install the Debian package "
                          "lttng-tools (apt-get install lttng-tools), or add its directory to "
                          "PATH");
    return false;
}

/* 0 when COMMAND can be run, else the exit status saying why not (the env(1) convention). */
static int find_command(struct capture *cap)
{
    const char *name = cap->config->command[0];
    cap->program = xtio_capture_find_program(name);
    if (cap->program)
        return 0;
    if (errno == EACCES) {
        xtio_capture_complain("cannot run '%s': it is not an executable file (chmod +x it?)", name);
        return XTIO_CAPTURE_EXIT_NOT_EXECUTABLE;
    }
    if (errno == ENOENT) {
        xtio_capture_complain("'%s': command not found%s", name,
                              strchr(name, '/') ? "" : " in PATH");
        return XTIO_CAPTURE_EXIT_NOT_FOUND;
    }
    xtio_capture_complain("cannot look '%s' up: %s", name, strerror(errno));
    return XTIO_CAPTURE_EXIT_ERROR;
}

/* libxtio-preload.so: beside an installed xtio-capture (XTIO_PRELOAD_INSTALLED, relative to the
 * directory of the binary), else where this build tree made it. */
static char *find_preload_library(void)
{
#ifdef XTIO_PRELOAD_INSTALLED
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        char path[2 * PATH_MAX];
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof(path), "%s/%s", exe, XTIO_PRELOAD_INSTALLED);
            if (access(path, R_OK) == 0)
                return realpath(path, NULL);
        }
    }
    if (access(XTIO_PRELOAD_BUILT, R_OK) == 0)
        return strdup(XTIO_PRELOAD_BUILT);
    xtio_capture_complain("--preload: libxtio-preload.so is neither at %s (relative to "
                          "xtio-capture) nor at %s: reinstall xtio, or run COMMAND with "
                          "LD_PRELOAD=/path/to/libxtio-preload.so and without --preload",
                          XTIO_PRELOAD_INSTALLED, XTIO_PRELOAD_BUILT);
#else
    xtio_capture_complain("--preload: this xtio was built without tracing (-DXTIO_TRACING=OFF), "
                          "so it has no libxtio-preload.so: build it with tracing on");
#endif
    return NULL;
}

/* LTTng-UST's fork wrapper (lttng-ust(3)): without it, a child that forks without exec writes
 * its events under its parent's pid and thread ids. Preloaded once only: two wrappers would each
 * take LTTng-UST's lock before the fork. */
#define XTIO_UST_FORK "liblttng-ust-fork.so.1"

/* COMMAND's LD_PRELOAD: the library first, LTTng-UST's fork wrapper, then whatever the environment
 * preloads already. */
static bool prepare_preload(struct capture *cap)
{
    char *library = find_preload_library();
    if (!library)
        return false;
    const char *inherited = getenv("LD_PRELOAD");
    const char *fork_wrapper =
        inherited && strstr(inherited, "liblttng-ust-fork") ? "" : ":" XTIO_UST_FORK;
    size_t size =
        strlen(library) + strlen(fork_wrapper) + (inherited ? strlen(inherited) + 1 : 0) + 1;
    cap->ld_preload = malloc(size);
    if (cap->ld_preload)
        snprintf(cap->ld_preload, size, "%s%s%s%s", library, fork_wrapper,
                 inherited && *inherited ? ":" : "", inherited ? inherited : "");
    free(library);
    if (!cap->ld_preload)
        xtio_capture_complain("out of memory");
    return cap->ld_preload != NULL;
}

static bool sessiond_reachable(const struct capture *cap, char *out, size_t out_size)
{
    return lttng_status(cap, (const char *[]){"list", NULL}, out, out_size) == 0;
}

static bool ensure_sessiond(const struct capture *cap)
{
    char out[LTTNG_OUTPUT_MAX];
    if (sessiond_reachable(cap, out, sizeof(out)))
        return true;
    if (!cap->config->start_sessiond) {
        xtio_capture_complain("no LTTng session daemon is reachable (lttng list: %s): start one "
                              "with `lttng-sessiond --daemonize` (as root to record every user's "
                              "processes), or drop --no-start-sessiond to let xtio-capture "
                              "start it",
                              out);
        return false;
    }
    char *sessiond = xtio_capture_find_program("lttng-sessiond");
    if (!sessiond) {
        xtio_capture_complain("no LTTng session daemon is reachable, and lttng-sessiond is not in "
                              "PATH to start one: install the Debian package lttng-tools");
        return false;
    }
    int status = xtio_capture_run((char *[]){sessiond, "--daemonize", NULL}, LTTNG_TIMEOUT_S, out,
                                  sizeof(out));
    free(sessiond);
    if (status != 0) {
        xtio_capture_complain("no LTTng session daemon is reachable, and `lttng-sessiond "
                              "--daemonize` failed (%s): start one yourself (as root: `sudo "
                              "lttng-sessiond --daemonize`), then check that `lttng list` works",
                              out[0] ? out : "no message");
        return false;
    }
    if (!sessiond_reachable(cap, out, sizeof(out))) {
        xtio_capture_complain("started `lttng-sessiond --daemonize`, but lttng still cannot reach "
                              "it (lttng list: %s): check its log, or start one as root",
                              out);
        return false;
    }
    xtio_capture_complain("started an LTTng session daemon (lttng-sessiond --daemonize); it keeps "
                          "running after xtio-capture");
    return true;
}

static bool choose_session_name(struct capture *cap)
{
    if (cap->config->session) {
        snprintf(cap->session, sizeof(cap->session), "%s", cap->config->session);
    } else {
        char when[32];
        time_t now = time(NULL);
        strftime(when, sizeof(when), "%Y%m%d-%H%M%S", localtime(&now));
        snprintf(cap->session, sizeof(cap->session), "xtio-%ld-%s", (long)getpid(), when);
    }
    char out[LTTNG_OUTPUT_MAX];
    if (lttng_status(cap, (const char *[]){"list", cap->session, NULL}, out, sizeof(out)) == 0) {
        xtio_capture_complain("an LTTng session named '%s' exists already: pick another name "
                              "with --session, or remove it with `lttng destroy %s`",
                              cap->session, cap->session);
        return false;
    }
    return true;
}

/* The output directory, absolute (lttng's daemons do not share our working directory), and new:
 * lttng would add streams to an old trace, mixing two captures into one. */
static bool choose_output(struct capture *cap)
{
    if (cap->config->live_url)
        return true;
    const char *wanted = cap->config->output ? cap->config->output : cap->session;
    char cwd[PATH_MAX] = "";
    if (wanted[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
        xtio_capture_complain("cannot tell the current directory (%s): give an absolute -o DIR",
                              strerror(errno));
        return false;
    }
    if (snprintf(cap->output, sizeof(cap->output), "%s%s%s", cwd, cwd[0] ? "/" : "", wanted) >=
        (int)sizeof(cap->output)) {
        xtio_capture_complain("the output path %s is too long: pick a shorter -o DIR", wanted);
        return false;
    }
    struct stat st;
    if (lstat(cap->output, &st) == 0) {
        xtio_capture_complain("the output directory %s exists already, and xtio-capture does not "
                              "overwrite traces: remove it, or pick another with -o DIR",
                              cap->output);
        return false;
    }
    return true;
}

/* The URL a live viewer reads the session from: the relayd's host, its live port, and the
 * session under this host's name, which is how lttng-relayd lists it. */
static bool make_viewer_url(struct capture *cap)
{
    const char *url = cap->config->live_url;
    const char *host = strstr(url, "://") + 3;
    size_t host_len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
    char hostname[256];
    if (host_len == 0 || gethostname(hostname, sizeof(hostname)) != 0) {
        xtio_capture_complain("invalid --live URL '%s': use net://HOST[:CTRL_PORT[:DATA_PORT]]",
                              url);
        return false;
    }
    hostname[sizeof(hostname) - 1] = '\0';
    snprintf(cap->viewer_url, sizeof(cap->viewer_url), "net://%.*s:%u/host/%s/%s", (int)host_len,
             host, cap->config->live_port, hostname, cap->session);
    return true;
}

/* An exited process stays a zombie until its parent reaps it; for --attach it is gone. */
static bool process_gone(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    char path[64], stat_line[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool zombie = false;
    if (fgets(stat_line, sizeof(stat_line), f)) {
        /* "PID (COMM) STATE ...": COMM may hold spaces and parentheses. */
        const char *end = strrchr(stat_line, ')');
        zombie = end && end[1] == ' ' && end[2] == 'Z';
    }
    fclose(f);
    return zombie;
}

static bool check_attach_target(pid_t pid)
{
    if (process_gone(pid)) {
        xtio_capture_complain("no running process has PID %ld: check it with `ps -p %ld`, or find "
                              "the one to record with pgrep(1)",
                              (long)pid, (long)pid);
        return false;
    }
    return true;
}

/* ---- The session ----------------------------------------------------------------------------- */

static bool create_session(struct capture *cap)
{
    char output_arg[PATH_MAX + 16], url_arg[PATH_MAX + 16];
    bool ok;
    if (cap->config->live_url) {
        snprintf(url_arg, sizeof(url_arg), "--set-url=%s", cap->config->live_url);
        ok = lttng(cap, (const char *[]){"create", cap->session, "--live", url_arg, NULL});
    } else {
        snprintf(output_arg, sizeof(output_arg), "--output=%s", cap->output);
        ok = lttng(cap, (const char *[]){"create", cap->session, output_arg, NULL});
    }
    cap->session_created = ok;
    return ok;
}

static bool configure_session(struct capture *cap)
{
    const struct xtio_capture_config *config = cap->config;
    char subbuf_arg[64], num_arg[64];
    const char *channel[MAX_LTTNG_ARGS] = {"enable-channel", "-u", "-s", cap->session};
    size_t n = 4;
    if (config->subbuf_size) {
        snprintf(subbuf_arg, sizeof(subbuf_arg), "--subbuf-size=%s", config->subbuf_size);
        channel[n++] = subbuf_arg;
    }
    if (config->num_subbuf) {
        snprintf(num_arg, sizeof(num_arg), "--num-subbuf=%s", config->num_subbuf);
        channel[n++] = num_arg;
    }
    channel[n++] = CHANNEL;
    channel[n] = NULL;
    /* A process already running when the session starts has threads that name themselves only
     * every 65,536 events (docs/tracepoints.md, xtio:thread_name): --attach names them all. */
    bool procname = config->procname || config->attach_pid;
    const char *contexts[] = {"add-context", "-u", "-s",   cap->session, "-c",       CHANNEL, "-t",
                              "vtid",        "-t", "vpid", "-t",         "procname", NULL};
    if (!procname)
        contexts[10] = NULL; /* the list ends before "-t", "procname" */
    return lttng(cap, channel) &&
           lttng(cap, (const char *[]){"enable-event", "-u", "-s", cap->session, "-c", CHANNEL,
                                       EVENTS, NULL}) &&
           lttng(cap, contexts);
}

/* Restricts the session to one process: lttng's vpid inclusion set, from "all" to {pid}. */
static bool track_process(struct capture *cap, pid_t pid)
{
    char vpid_arg[32];
    snprintf(vpid_arg, sizeof(vpid_arg), "--vpid=%ld", (long)pid);
    return lttng(cap, (const char *[]){"track", "-u", "-s", cap->session, vpid_arg, NULL});
}

static bool start_session(struct capture *cap)
{
    cap->session_started = lttng(cap, (const char *[]){"start", cap->session, NULL});
    return cap->session_started;
}

/* Stops (the consumer writes everything out) and destroys the session. */
static bool end_session(struct capture *cap)
{
    if (!cap->session_created)
        return true;
    bool ok = !cap->session_started || lttng(cap, (const char *[]){"stop", cap->session, NULL});
    if (lttng(cap, (const char *[]){"destroy", cap->session, NULL}))
        cap->session_created = false;
    else
        xtio_capture_complain("the LTTng session '%s' is left behind: remove it with `lttng "
                              "destroy %s`",
                              cap->session, cap->session);
    return ok && !cap->session_created;
}

/* ---- The command and the signals ------------------------------------------------------------- */

/* A SIGINT or SIGTERM received so far (kept in cap->interrupt), without waiting. */
static bool interrupted(struct capture *cap)
{
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    int sig = sigtimedwait(&stop_signals, NULL, &(struct timespec){0});
    if (sig > 0 && !cap->interrupt)
        cap->interrupt = sig;
    return cap->interrupt != 0;
}

/* Forks COMMAND, held back before exec until release_command(), so that its pid can be tracked
 * and the session started before it emits its first event. */
static bool spawn_command(struct capture *cap)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) != 0) {
        xtio_capture_complain("cannot make a pipe to start COMMAND: %s", strerror(errno));
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        xtio_capture_complain("cannot fork to start COMMAND: %s", strerror(errno));
        close(hold[0]);
        close(hold[1]);
        return false;
    }
    if (pid == 0) {
        close(hold[1]);
        /* xtio-capture passes these signals on: COMMAND must be able to act on them, even when
         * xtio-capture was started with them ignored (as `cmd &` does in a script). */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        xtio_capture_process_restore_mask();
        char go;
        if (read(hold[0], &go, 1) != 1)
            _exit(XTIO_CAPTURE_EXIT_ERROR); /* xtio-capture gave up before starting it */
        /* xtio-capture has one thread: setenv() is safe in its child. */
        if (cap->ld_preload && setenv("LD_PRELOAD", cap->ld_preload, 1) != 0)
            _exit(XTIO_CAPTURE_EXIT_ERROR);
        execv(cap->program, cap->config->command);
        int error = errno;
        xtio_capture_complain("cannot run %s: %s", cap->program, strerror(error));
        _exit(error == ENOENT ? XTIO_CAPTURE_EXIT_NOT_FOUND : XTIO_CAPTURE_EXIT_NOT_EXECUTABLE);
    }
    close(hold[0]);
    cap->command_pid = pid;
    cap->release_fd = hold[1];
    return true;
}

static void release_command(struct capture *cap)
{
    if (write(cap->release_fd, "g", 1) != 1)
        xtio_capture_complain("cannot release COMMAND: %s", strerror(errno));
    close(cap->release_fd);
    cap->release_fd = -1;
}

/* The first SIGINT or SIGTERM is passed on, unless the terminal sent it (to the whole foreground
 * group, COMMAND included: si_code > 0); a second one kills COMMAND. */
static void pass_on_interrupt(struct capture *cap, const siginfo_t *info)
{
    if (!cap->interrupt) {
        cap->interrupt = info->si_signo;
        if (info->si_code <= 0)
            kill(cap->command_pid, info->si_signo);
        xtio_capture_complain("SIG%s: waiting for COMMAND to exit, then stopping the session "
                              "(send it again to kill COMMAND)",
                              sigabbrev_np(info->si_signo));
        return;
    }
    xtio_capture_complain("SIG%s again: killing COMMAND", sigabbrev_np(info->si_signo));
    kill(cap->command_pid, SIGKILL);
}

/* COMMAND's wait status in `status`; false if it cannot be waited for. */
static bool wait_command(struct capture *cap, int *status)
{
    for (;;) {
        pid_t done = waitpid(cap->command_pid, status, WNOHANG);
        if (done == cap->command_pid)
            return true;
        if (done < 0 && errno != EINTR) {
            xtio_capture_complain("cannot wait for COMMAND (pid %ld): %s", (long)cap->command_pid,
                                  strerror(errno));
            return false;
        }
        siginfo_t info;
        int sig = sigtimedwait(&cap->waited, &info, &(struct timespec){.tv_sec = 1});
        if (sig == SIGINT || sig == SIGTERM)
            pass_on_interrupt(cap, &info);
    }
}

static void wait_attached(struct capture *cap)
{
    const struct xtio_capture_config *config = cap->config;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (process_gone(config->attach_pid)) {
            xtio_capture_complain("process %ld exited", (long)config->attach_pid);
            return;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (config->duration && now.tv_sec - start.tv_sec >= (time_t)config->duration)
            return;
        siginfo_t info;
        int sig = sigtimedwait(&cap->waited, &info, &(struct timespec){.tv_nsec = ATTACH_POLL_NS});
        if (sig == SIGINT || sig == SIGTERM) {
            cap->interrupt = sig;
            return;
        }
    }
}

static void print_started(const struct capture *cap)
{
    if (cap->config->live_url) {
        xtio_capture_complain("recording LTTng session %s, streamed to %s", cap->session,
                              cap->config->live_url);
        xtio_capture_complain("analyse it live with: xtio-analyze %s", cap->viewer_url);
    } else {
        xtio_capture_complain("recording LTTng session %s into %s", cap->session, cap->output);
    }
    if (cap->ld_preload)
        xtio_capture_complain("COMMAND runs with LD_PRELOAD=%s", cap->ld_preload);
}

static int find_metadata(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    const char *base = strrchr(path, '/');
    return type == FTW_F && base && strcmp(base + 1, "metadata") == 0;
}

/* lttng makes the output directory even when no process registered: a trace without a CTF
 * metadata file holds no events at all. */
static bool trace_is_empty(const char *dir)
{
    return nftw(dir, find_metadata, 16, FTW_PHYS) != 1;
}

static void print_where(const struct capture *cap)
{
    if (cap->config->live_url) {
        xtio_capture_complain("trace streamed to %s: the lttng-relayd keeps it below its output "
                              "directory, in %s-DATE",
                              cap->config->live_url, strstr(cap->viewer_url, "/host/") + 6);
        xtio_capture_complain("next: xtio-analyze RELAYD_OUTPUT_DIR (lttng-relayd -o; default "
                              "~/lttng-traces), or the live URL above while it runs");
    } else {
        if (trace_is_empty(cap->output))
            xtio_capture_complain("no event was recorded: %s did not register with LTTng (is "
                                  "it linked with libxtio, built with XTIO_TRACING=ON?)",
                                  cap->config->command ? "COMMAND" : "the process");
        xtio_capture_complain("trace written to %s", cap->output);
        xtio_capture_complain("next: xtio-analyze %s", cap->output);
    }
}

/* ---- Main ------------------------------------------------------------------------------------ */

/* Everything up to a started session, with COMMAND (if any) spawned and held: 0, or the exit
 * status to leave with. */
static int prepare(struct capture *cap)
{
    const struct xtio_capture_config *config = cap->config;
    if (!find_lttng(cap))
        return XTIO_CAPTURE_EXIT_ERROR;
    if (config->command) {
        int status = find_command(cap);
        if (status)
            return status;
        if (config->preload && !prepare_preload(cap))
            return XTIO_CAPTURE_EXIT_ERROR;
    } else if (!check_attach_target(config->attach_pid)) {
        return XTIO_CAPTURE_EXIT_ERROR;
    }
    if (!ensure_sessiond(cap) || !choose_session_name(cap) || !choose_output(cap) ||
        (config->live_url && !make_viewer_url(cap)) || interrupted(cap) || !create_session(cap) ||
        !configure_session(cap))
        return XTIO_CAPTURE_EXIT_ERROR;
    if (config->attach_pid && !track_process(cap, config->attach_pid))
        return XTIO_CAPTURE_EXIT_ERROR;
    if (config->command &&
        (!spawn_command(cap) || (config->command_only && !track_process(cap, cap->command_pid))))
        return XTIO_CAPTURE_EXIT_ERROR;
    if (interrupted(cap) || !start_session(cap))
        return XTIO_CAPTURE_EXIT_ERROR;
    return 0;
}

/* The exit status of a run that went through: COMMAND's, as a shell reports it. */
static int record(struct capture *cap)
{
    print_started(cap);
    if (!cap->config->command) {
        wait_attached(cap);
        return 0;
    }
    release_command(cap);
    int status;
    if (!wait_command(cap, &status))
        return XTIO_CAPTURE_EXIT_ERROR;
    cap->command_pid = 0;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* After a failed prepare(): COMMAND never ran, so it is stopped before its exec. */
static void abandon_command(struct capture *cap)
{
    if (cap->release_fd >= 0) {
        close(cap->release_fd);
        cap->release_fd = -1;
    }
    if (cap->command_pid > 0)
        waitpid(cap->command_pid, NULL, 0);
}

int main(int argc, char **argv)
{
    struct xtio_capture_config config;
    switch (xtio_capture_parse(argc, argv, &config)) {
    case XTIO_CAPTURE_PARSE_EXIT_OK:
        return 0;
    case XTIO_CAPTURE_PARSE_EXIT_USAGE:
        return XTIO_CAPTURE_EXIT_ERROR;
    case XTIO_CAPTURE_PARSE_RUN:
        break;
    }

    struct capture cap = {.config = &config, .release_fd = -1};
    /* Signals are taken synchronously (sigtimedwait), never by a handler, so that a Ctrl-C
     * arriving at any point is seen and the session is always ended. A SIGCHLD ignored by
     * whoever started us would make the kernel reap COMMAND before we see its status. */
    signal(SIGCHLD, SIG_DFL);
    sigset_t original;
    sigemptyset(&cap.waited);
    sigaddset(&cap.waited, SIGINT);
    sigaddset(&cap.waited, SIGTERM);
    sigaddset(&cap.waited, SIGCHLD);
    sigset_t blocked = cap.waited;
    /* Releasing a COMMAND that died meanwhile must fail with EPIPE, not kill us mid-session. */
    sigaddset(&blocked, SIGPIPE);
    sigprocmask(SIG_BLOCK, &blocked, &original);
    xtio_capture_process_init(&original);

    int status = prepare(&cap);
    bool recorded = status == 0;
    if (recorded)
        status = record(&cap);
    else
        abandon_command(&cap);
    bool ended = end_session(&cap);
    if (recorded && ended)
        print_where(&cap);
    if (!ended)
        status = XTIO_CAPTURE_EXIT_ERROR;
    else if (cap.interrupt)
        status = 128 + cap.interrupt;
    free(cap.lttng);
    free(cap.program);
    free(cap.ld_preload);
    return status;
}
