/* xtio-server's entry point: command line, signals, start and graceful stop. */
#include "config.h"
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct xtio_server_config config;
    xtio_server_config_defaults(&config);
    switch (xtio_server_config_parse(&config, argc, argv, stdout, stderr)) {
    case XTIO_CONFIG_EXIT:
        return 0;
    case XTIO_CONFIG_USAGE:
        return 2;
    case XTIO_CONFIG_RUN:
        break;
    }

    /* Every thread inherits this mask, so SIGINT and SIGTERM reach only the sigwait() below and
     * the stop runs in an ordinary thread rather than a signal handler. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that vanished must not kill the server */

    struct xtio_server *server;
    int rc = xtio_server_start(&server, &config, stderr);
    if (rc != 0)
        return rc == -EADDRINUSE || rc == -EACCES || rc == -EADDRNOTAVAIL || rc == -EINVAL ? 2 : 1;
    printf("xtio-server: listening on %s:%d (handoff %s, %u loops, %u workers)\n", config.bind,
           xtio_server_port(server), xtio_mode_name(config.handoff), config.loops, config.workers);
    fflush(stdout);

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    fprintf(stderr, "xtio-server: %s received, stopping\n", strsignal(signal_number));
    xtio_server_stop(server);
    return 0;
}
