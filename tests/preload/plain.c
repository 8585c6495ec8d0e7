/*
 * preload_plain: a program without libevent, for preload.passthrough. It uses the libc calls that
 * libxtio-preload.so interposes (pipe, write, writev, dup2, close) and checks their results and
 * errno, prints what it saw, and exits 3 when all is as libc says it should be.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    char buf[32] = {0};
    if (pipe(fds) != 0)
        return 1;
    struct iovec iov[2] = {{"pass", 4}, {"through", 7}};
    ssize_t w = write(fds[1], "plain:", 6);
    ssize_t v = writev(fds[1], iov, 2);
    ssize_t r = read(fds[0], buf, sizeof(buf) - 1);
    errno = 0;
    int bad = write(-1, "x", 1) == -1 && errno == EBADF;
    int moved = dup2(fds[1], 100) == 100 && close(100) == 0;
    close(fds[0]);
    close(fds[1]);
    errno = 0;
    int closed = close(fds[1]) == -1 && errno == EBADF;
    printf("preload_plain: wrote %zd+%zd, read %zd \"%s\", EBADF kept %d, dup2 %d, close %d\n", w,
           v, r, buf, bad, moved, closed);
    return w == 6 && v == 11 && r == 17 && bad && moved && closed ? 3 : 1;
}
