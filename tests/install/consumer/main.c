/*
 * A program outside the xtio tree, built by tests/install against an installed libxtio (with
 * find_package and with pkg-config): it exits 0 only when a loop of its own ran both a call and a
 * post on the loop's thread.
 */
#include <xtio/xtio.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct visit {
    xtio_loop *loop;
    bool ran_on_loop;
};

static void note_thread(void *arg)
{
    struct visit *visit = arg;
    visit->ran_on_loop = xtio_loop_is_current(visit->loop);
}

static int report_failure(const char *call, int rc)
{
    fprintf(stderr, "xtio consumer: %s failed: %s\n", call, strerror(-rc));
    return 1;
}

int main(void)
{
    xtio_loop *loop = NULL;
    int rc = xtio_loop_create(&loop, "xtio-consumer");
    if (rc < 0)
        return report_failure("xtio_loop_create", rc);
    struct visit called = {.loop = loop};
    struct visit posted = {.loop = loop};
    int status = 1;
    rc = xtio_loop_start(loop);
    if (rc < 0) {
        report_failure("xtio_loop_start", rc);
        goto end;
    }
    rc = xtio_loop_call(loop, note_thread, &called);
    if (rc < 0) {
        report_failure("xtio_loop_call", rc);
        goto end;
    }
    rc = xtio_loop_post(loop, note_thread, &posted);
    if (rc < 0) {
        report_failure("xtio_loop_post", rc);
        goto end;
    }
    /* A post made before the stop still runs; the join makes its write visible here. */
    xtio_loop_stop(loop);
    rc = xtio_loop_join(loop);
    if (rc < 0) {
        report_failure("xtio_loop_join", rc);
        goto end;
    }
    if (!called.ran_on_loop || !posted.ran_on_loop) {
        fprintf(stderr, "xtio consumer: the call ran on the loop thread: %s, the post: %s\n",
                called.ran_on_loop ? "yes" : "no", posted.ran_on_loop ? "yes" : "no");
        goto end;
    }
    printf("xtio consumer: call and post ran on the loop thread\n");
    status = 0;
end:
    xtio_loop_destroy(loop);
    return status;
}
