/*
 * The processes xtio-capture starts: programs looked up in PATH, and short-lived helpers (the
 * lttng CLI, lttng-sessiond) run to completion with their output kept to quote on failure.
 */
#ifndef XTIO_CAPTURE_PROCESS_H
#define XTIO_CAPTURE_PROCESS_H

#include <signal.h>
#include <stddef.h>

/* Remembers the signal mask children must start with (xtio-capture blocks the signals it waits
 * for, and a child would inherit that). */
void xtio_capture_process_init(const sigset_t *child_mask);

/* Gives every child the mask of xtio_capture_process_init(); called in a child before exec. */
void xtio_capture_process_restore_mask(void);

/* The path `name` runs as: `name` itself when it holds a '/', else its first executable match in
 * PATH. NULL with errno ENOENT when there is none, EACCES when found but not executable. The
 * result is owned by the caller. */
char *xtio_capture_find_program(const char *name);

/* Runs argv (argv[0] a path) in a process group of its own, so that a Ctrl-C on the terminal
 * does not cut it short: stdin from /dev/null, stdout and stderr together into `out` (cut to
 * out_size - 1 bytes). Kills it after timeout_s seconds. Returns its exit status, or -1 when it
 * could not run, was killed or timed out, with `out` saying why. */
int xtio_capture_run(char *const argv[], unsigned timeout_s, char *out, size_t out_size);

#endif
