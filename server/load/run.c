/* xtio-load's shared run state: the per-thread stats, the mismatch and error logs, the clock. */
#include "run.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- Stats ----------------------------------------------------------------------------------- */

void xtio_load_stats_init(struct xtio_load_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    for (int k = 0; k < XTIO_LOAD_KINDS; k++)
        xtio_hist_init(&stats->latency[k], XTIO_LOAD_HIST_BITS);
}

void xtio_load_stats_fini(struct xtio_load_stats *stats)
{
    for (int k = 0; k < XTIO_LOAD_KINDS; k++)
        xtio_hist_fini(&stats->latency[k]);
}

void xtio_load_stats_merge(struct xtio_load_stats *into, const struct xtio_load_stats *from)
{
    for (int k = 0; k < XTIO_LOAD_KINDS; k++) {
        into->replies[k] += from->replies[k];
        if (xtio_hist_merge(&into->latency[k], &from->latency[k]) != 0)
            into->unrecorded += from->latency[k].count;
    }
    into->unrecorded += from->unrecorded;
    into->records += from->records;
    into->keys_listed += from->keys_listed;
    into->reply_bytes += from->reply_bytes;
    into->heavy_records += from->heavy_records;
    into->heavy_bytes += from->heavy_bytes;
    into->light_replies += from->light_replies;
    into->light_bytes += from->light_bytes;
}

/* ---- Logs ------------------------------------------------------------------------------------ */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
struct xtio_load_log xtio_load_mismatches = {.name = "mismatch", .plural = "mismatches"};
struct xtio_load_log xtio_load_errors = {.name = "connection error", .plural = "connection errors"};

static void log_add(struct xtio_load_log *log, const char *format, va_list ap)
{
    uint64_t index = atomic_fetch_add(&log->count, 1);
    if (index >= XTIO_LOAD_LOG_KEEP)
        return;
    pthread_mutex_lock(&log_lock);
    vsnprintf(log->first[index], sizeof(log->first[index]), format, ap);
    pthread_mutex_unlock(&log_lock);
}

void xtio_load_mismatch(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    log_add(&xtio_load_mismatches, format, ap);
    va_end(ap);
}

void xtio_load_error(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    log_add(&xtio_load_errors, format, ap);
    va_end(ap);
}

/* ---- Clock and random numbers ---------------------------------------------------------------- */

uint64_t xtio_load_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t xtio_load_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
