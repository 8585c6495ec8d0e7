/* Starting programs for xtio-capture: PATH look-up, and helpers run to completion. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How often a running helper is checked for its end. */
#define POLL_NS 10000000L

static sigset_t saved_child_mask;

void xtio_capture_process_init(const sigset_t *child_mask)
{
    saved_child_mask = *child_mask;
}

void xtio_capture_process_restore_mask(void)
{
    sigprocmask(SIG_SETMASK, &saved_child_mask, NULL);
}

static bool executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *xtio_capture_find_program(const char *name)
{
    if (strchr(name, '/')) {
        if (access(name, F_OK) != 0) {
            errno = ENOENT;
            return NULL;
        }
        if (!executable_file(name)) {
            errno = EACCES;
            return NULL;
        }
        return strdup(name);
    }
    /* As execvp(3) does: an unset PATH means the default search path. */
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/bin:/usr/bin";
    bool found_unusable = false;
    for (const char *dir = path;; dir += strcspn(dir, ":") + 1) {
        size_t len = strcspn(dir, ":");
        char *candidate = NULL;
        /* An empty PATH entry is the current directory. */
        if (asprintf(&candidate, "%.*s/%s", (int)(len ? len : 1), len ? dir : ".", name) < 0)
            return NULL;
        if (executable_file(candidate))
            return candidate;
        if (access(candidate, F_OK) == 0)
            found_unusable = true;
        free(candidate);
        if (!dir[len])
            break;
    }
    errno = found_unusable ? EACCES : ENOENT;
    return NULL;
}

static void read_output(int fd, char *out, size_t out_size)
{
    ssize_t n = pread(fd, out, out_size - 1, 0);
    size_t len = n > 0 ? (size_t)n : 0;
    /* Trailing newlines would break the one-line messages that quote it. */
    while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        len--;
    out[len] = '\0';
}

int xtio_capture_run(char *const argv[], unsigned timeout_s, char *out, size_t out_size)
{
    /* A file rather than a pipe: the helper can write any amount without waiting for us. */
    int fd = memfd_create("xtio-capture-output", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(out, out_size, "cannot make a buffer for its output: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out, out_size, "cannot fork: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
            dup2(fd, STDERR_FILENO) < 0)
            _exit(127);
        xtio_capture_process_restore_mask();
        execv(argv[0], argv);
        dprintf(STDERR_FILENO, "cannot run %s: %s", argv[0], strerror(errno));
        _exit(127);
    }

    int status = 0;
    long waited_ns = 0;
    pid_t done;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 && waited_ns / 1000000000L < timeout_s) {
        nanosleep(&(struct timespec){.tv_nsec = POLL_NS}, NULL);
        waited_ns += POLL_NS;
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        read_output(fd, out, out_size);
        size_t len = strlen(out);
        snprintf(out + len, out_size - len, "%s(killed: no answer within %u s)", len ? " " : "",
                 timeout_s);
        close(fd);
        return -1;
    }
    read_output(fd, out, out_size);
    close(fd);
    if (done < 0) {
        snprintf(out, out_size, "cannot wait for it: %s", strerror(errno));
        return -1;
    }
    if (WIFSIGNALED(status)) {
        size_t len = strlen(out);
        snprintf(out + len, out_size - len, "%s(killed by signal %d)", len ? " " : "",
                 WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}
