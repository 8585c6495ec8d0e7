/*
 * The worker pool of xtio-server: M named threads taking jobs from one FIFO queue. A job is a
 * function and its argument; the pool knows nothing about commands or connections.
 */
#ifndef XTIO_SERVER_WORKERS_H
#define XTIO_SERVER_WORKERS_H

#include <stdbool.h>

struct xtio_workers;

typedef void (*xtio_job_fn)(void *arg, bool cancelled);

/* Starts `count` threads named "xtio-worker-N". Negative errno on failure. */
int xtio_workers_create(struct xtio_workers **workers, unsigned count);
/* Queues a job. -ESHUTDOWN once the pool is stopping (the job will not run). */
int xtio_workers_submit(struct xtio_workers *workers, xtio_job_fn fn, void *arg);
/* Lets running jobs finish, runs each job still queued with cancelled=true (so it can release what
 * it holds) and joins the threads; later submits fail with -ESHUTDOWN. Idempotent. */
void xtio_workers_stop(struct xtio_workers *workers);
/* Stops the pool if needed and frees it. NULL is a no-op. */
void xtio_workers_destroy(struct xtio_workers *workers);

#endif
