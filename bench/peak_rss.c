/* peak_rss: run a command and report its wall time, CPU time and peak resident set size.
 *
 *   peak_rss [-o FILE] COMMAND [ARG]...
 *
 * Forks, execs COMMAND (searched in PATH) with the inherited standard streams, waits for it with
 * wait4() and writes one line to FILE (default: standard error):
 *
 *   wall_seconds user_seconds sys_seconds maxrss_kib exit_status
 *
 * maxrss_kib is the child's ru_maxrss (Linux reports it in KiB). exit_status is the command's
 * exit code, or 128 + the signal number that killed it. peak_rss itself exits 0 once it has
 * written the line (whatever the command's status), 127 if the command cannot be run, 2 on bad
 * usage. It exists so that bench/analyzer-throughput needs no /usr/bin/time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    const char *out_path = NULL;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-o") == 0) {
        out_path = argv[2];
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: peak_rss [-o FILE] COMMAND [ARG]...\n");
        return 2;
    }

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak_rss: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[first], &argv[first]);
        fprintf(stderr, "peak_rss: cannot run %s: %s\n", argv[first], strerror(errno));
        _exit(127);
    }

    int status;
    struct rusage ru;
    pid_t got;
    do {
        got = wait4(pid, &status, 0, &ru);
    } while (got < 0 && errno == EINTR);
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (got < 0) {
        perror("peak_rss: wait4");
        return 127;
    }

    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double wall = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    FILE *out = stderr;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "peak_rss: cannot write %s: %s\n", out_path, strerror(errno));
        return 127;
    }
    fprintf(out, "%.6f %.6f %.6f %ld %d\n", wall, seconds(ru.ru_utime), seconds(ru.ru_stime),
            ru.ru_maxrss, code);
    if (out != stderr && fclose(out) != 0) {
        fprintf(stderr, "peak_rss: cannot write %s: %s\n", out_path, strerror(errno));
        return 127;
    }
    return 0;
}
