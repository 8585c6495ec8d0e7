/*
 * Runs a real xtio-server for a test: spawned from its binary on 127.0.0.1 with a kernel-chosen
 * port, talked to over plain loopback sockets, and stopped with SIGTERM, as a user would.
 */
#ifndef XTIO_TESTS_SERVER_HARNESS_H
#define XTIO_TESTS_SERVER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct test_server {
    pid_t pid;
    int port;
};

/* Starts `binary` with `args` (NULL-terminated, after --port 0) and waits for it to listen.
 * Returns false (with a message on stderr) when it does not come up within a few seconds. */
bool test_server_start(struct test_server *server, const char *binary, const char *const *args);
/* SIGTERM, then the exit status as a shell reports it (0 clean, 128+N killed by signal N). */
int test_server_stop(struct test_server *server);

/* A connected, blocking socket to the server, with 5 s send and receive timeouts; -1 on error. */
int test_connect(const struct test_server *server);
bool test_send_all(int fd, const void *data, size_t len);
/* Reads exactly `len` bytes, or fewer when the peer closes or the timeout hits; returns how many.
 */
size_t test_read_exact(int fd, char *buf, size_t len);
/* True when the peer closes the connection (possibly after more bytes) within the timeout. */
bool test_wait_eof(int fd);

#endif
