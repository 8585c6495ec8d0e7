/*
 * xtio-capture's command line: argv turned into a checked configuration before anything runs, so
 * that a bad option value is refused before a session exists.
 */
#ifndef XTIO_CAPTURE_OPTIONS_H
#define XTIO_CAPTURE_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

/* The exit statuses of xtio-capture's own failures, the `timeout`/`env` convention. */
#define XTIO_CAPTURE_EXIT_ERROR          125
#define XTIO_CAPTURE_EXIT_NOT_EXECUTABLE 126
#define XTIO_CAPTURE_EXIT_NOT_FOUND      127

/* lttng-relayd's default live port, the one a viewer connects to. */
#define XTIO_CAPTURE_DEFAULT_LIVE_PORT 5344

/* Every string is weak: it points into argv. */
struct xtio_capture_config {
    const char *output;      /* NULL: ./SESSION */
    const char *session;     /* NULL: a unique xtio-PID-TIME */
    const char *live_url;    /* NULL: a local trace */
    unsigned live_port;      /* of the relayd, for the viewer URL printed */
    const char *subbuf_size; /* NULL: lttng's default */
    const char *num_subbuf;  /* NULL: lttng's default */
    pid_t attach_pid;        /* 0: run `command` instead */
    unsigned duration;       /* seconds of --attach; 0: until the process exits */
    bool command_only;       /* track the command's own pid, not every process */
    /* Add the procname context: every thread named from its first event, also one already
     * running (--attach), at 16 bytes more per event. */
    bool procname;
    /* Run COMMAND with libxtio-preload.so in LD_PRELOAD (xtio-preload(7)). */
    bool preload;
    bool start_sessiond;
    char **command; /* NULL-terminated; NULL with --attach */
};

/* What xtio_capture_parse() tells the caller to do next. */
enum xtio_capture_parse_status {
    XTIO_CAPTURE_PARSE_RUN,
    XTIO_CAPTURE_PARSE_EXIT_OK,   /* --help or --version was printed */
    XTIO_CAPTURE_PARSE_EXIT_USAGE /* the error was printed */
};

enum xtio_capture_parse_status xtio_capture_parse(int argc, char **argv,
                                                  struct xtio_capture_config *config);

/* Prints "xtio-capture: MESSAGE" on stderr. */
void xtio_capture_complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
