/* Spawning, talking to and stopping a real xtio-server for the server tests. */
#include "server_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 32

bool test_server_start(struct test_server *server, const char *binary, const char *const *args)
{
    int out[2];
    if (pipe(out) != 0)
        return false;
    const char *argv[MAX_ARGS] = {binary, "--port", "0"};
    size_t argc = 3;
    for (size_t i = 0; args && args[i] && argc < MAX_ARGS - 1; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;

    server->pid = fork();
    if (server->pid < 0)
        return false;
    if (server->pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execv(binary, (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", binary, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    /* The server prints "xtio-server: listening on 127.0.0.1:PORT (...)" once it accepts. */
    FILE *lines = fdopen(out[0], "r");
    char line[256] = "";
    bool found = false;
    struct timeval timeout = {.tv_sec = 10};
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(out[0], &readable);
    if (select(out[0] + 1, &readable, NULL, NULL, &timeout) <= 0 ||
        !fgets(line, sizeof(line), lines))
        line[0] = '\0';
    char *at = strstr(line, "listening on ");
    if (at) {
        char *port = strchr(at + strlen("listening on "), ':');
        if (port) {
            server->port = atoi(port + 1);
            found = server->port > 0;
        }
    }
    fclose(lines); /* the server's later output goes nowhere; it only prints this one line */
    if (!found) {
        fprintf(stderr, "xtio-server did not report a listening port (got: '%s')\n", line);
        test_server_stop(server);
    }
    return found;
}

int test_server_stop(struct test_server *server)
{
    if (server->pid <= 0)
        return -1;
    kill(server->pid, SIGTERM);
    int status = 0;
    waitpid(server->pid, &status, 0);
    server->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_connect(const struct test_server *server)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)server->port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool test_send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

size_t test_read_exact(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

bool test_wait_eof(int fd)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
    }
}
