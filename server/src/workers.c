/* A fixed pool of worker threads fed from one mutex-protected FIFO. */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct job {
    struct job *next;
    xtio_job_fn fn;
    void *arg;
};

struct xtio_workers {
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct job *head, **tail; /* under mu */
    bool stopping;            /* under mu */
    unsigned count;
    pthread_t threads[];
};

static void *worker_main(void *arg)
{
    struct xtio_workers *workers = arg;
    pthread_mutex_lock(&workers->mu);
    for (;;) {
        while (!workers->head && !workers->stopping)
            pthread_cond_wait(&workers->work, &workers->mu);
        struct job *job = workers->head;
        if (!job)
            break; /* stopping and nothing left */
        workers->head = job->next;
        if (!workers->head)
            workers->tail = &workers->head;
        bool cancelled = workers->stopping;
        pthread_mutex_unlock(&workers->mu);
        job->fn(job->arg, cancelled);
        free(job);
        pthread_mutex_lock(&workers->mu);
    }
    pthread_mutex_unlock(&workers->mu);
    return NULL;
}

int xtio_workers_create(struct xtio_workers **out, unsigned count)
{
    *out = NULL;
    struct xtio_workers *workers = calloc(1, sizeof(*workers) + count * sizeof(pthread_t));
    if (!workers)
        return -ENOMEM;
    pthread_mutex_init(&workers->mu, NULL);
    pthread_cond_init(&workers->work, NULL);
    workers->tail = &workers->head;
    for (unsigned i = 0; i < count; i++) {
        int err = pthread_create(&workers->threads[i], NULL, worker_main, workers);
        if (err) {
            xtio_workers_destroy(workers);
            return -err;
        }
        char name[16];
        snprintf(name, sizeof(name), "xtio-worker-%u", i % 1000); /* fits the 15 bytes kept */
        pthread_setname_np(workers->threads[i], name);
        workers->count++;
    }
    *out = workers;
    return 0;
}

int xtio_workers_submit(struct xtio_workers *workers, xtio_job_fn fn, void *arg)
{
    struct job *job = malloc(sizeof(*job));
    if (!job)
        return -ENOMEM;
    *job = (struct job){.fn = fn, .arg = arg};
    pthread_mutex_lock(&workers->mu);
    if (workers->stopping) {
        pthread_mutex_unlock(&workers->mu);
        free(job);
        return -ESHUTDOWN;
    }
    *workers->tail = job;
    workers->tail = &job->next;
    pthread_cond_signal(&workers->work);
    pthread_mutex_unlock(&workers->mu);
    return 0;
}

void xtio_workers_stop(struct xtio_workers *workers)
{
    if (!workers)
        return;
    pthread_mutex_lock(&workers->mu);
    workers->stopping = true;
    pthread_cond_broadcast(&workers->work);
    pthread_mutex_unlock(&workers->mu);
    for (unsigned i = 0; i < workers->count; i++)
        pthread_join(workers->threads[i], NULL);
    workers->count = 0;
}

void xtio_workers_destroy(struct xtio_workers *workers)
{
    if (!workers)
        return;
    xtio_workers_stop(workers);
    pthread_cond_destroy(&workers->work);
    pthread_mutex_destroy(&workers->mu);
    free(workers);
}
