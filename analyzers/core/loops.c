/*
 * Schema version 4 in the analysis core: work posted to loops (loop_post, loop_run), matched by
 * (vpid, loop_id, task) and timed per mechanism, and the writes to connections of programs that
 * xtio-preload watches (io_write), sorted into on-loop writes, off-loop writes (findings),
 * handovers and writes before the loop started.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

/* ---- Posts and runs ---------------------------------------------------------------------- */

static void free_pending(struct pending_posts *pending)
{
    while (pending) {
        struct pending_posts *next = pending->next;
        free(pending->posts);
        free(pending);
        pending = next;
    }
}

int xtio__on_loop_post(xtio_analysis *analysis, struct process *process,
                       const struct xtio_event *event)
{
    int status = 0;
    struct pending_posts *head = xtio__map_get(&analysis->posts, process->vpid, event->task);
    struct pending_posts *pending = head;
    while (pending && pending->loop_id != event->loop_id)
        pending = pending->next;
    process->has_posts = true;
    if (!pending) {
        pending = calloc(1, sizeof(*pending));
        if (!pending)
            return -ENOMEM;
        pending->task = event->task;
        pending->loop_id = event->loop_id;
        pending->next = head;
        status = xtio__map_put(&analysis->posts, process->vpid, event->task, pending);
        if (status) {
            free(pending);
            return status;
        }
    }
    if (pending->len == pending->cap) {
        size_t cap = pending->cap ? pending->cap * 2 : 4;
        struct post *posts = realloc(pending->posts, cap * sizeof(*posts));
        if (!posts)
            return -ENOMEM;
        pending->posts = posts;
        pending->cap = cap;
    }
    pending->posts[pending->len++] = (struct post){event->ts_ns, event->mech};
    analysis->pending_post_count++;
    process->mechs[event->mech].posts++;
    return 0;
}

/* The run serves every post of its (loop_id, task) since the previous run: each post's wait ends
 * here, and the posts after the first were coalesced into it. The entry then goes, so that only
 * posts in flight are held. */
int xtio__on_loop_run(xtio_analysis *analysis, struct process *process,
                      const struct xtio_event *event)
{
    int status = 0;
    struct pending_posts *head = xtio__map_get(&analysis->posts, process->vpid, event->task);
    struct pending_posts **link = &head;
    while (*link && (*link)->loop_id != event->loop_id)
        link = &(*link)->next;
    struct pending_posts *pending = *link;
    struct mech_stats *run_mech = &process->mechs[event->mech];
    process->has_posts = true;
    run_mech->runs++;
    if (!pending) {
        run_mech->runs_without_post++;
        return 0;
    }
    for (size_t i = 0; i < pending->len && status == 0; i++) {
        const struct post *post = &pending->posts[i];
        struct mech_stats *mech = &process->mechs[post->mech];
        if (i > 0)
            mech->coalesced++;
        status = xtio_hist_record(&mech->wait,
                                  event->ts_ns > post->ts_ns ? event->ts_ns - post->ts_ns : 0);
    }
    if (status)
        return status;
    if (pending == head && pending->next)
        status = xtio__map_put(&analysis->posts, process->vpid, event->task, pending->next);
    else if (pending == head)
        xtio__map_remove(&analysis->posts, process->vpid, event->task);
    if (status)
        return status; /* the map still holds the chain whole */
    *link = pending->next;
    pending->next = NULL;
    analysis->pending_post_count -= pending->len;
    free_pending(pending);
    return 0;
}

void xtio__settle_posts(xtio_analysis *analysis)
{
    for (size_t i = 0; i < analysis->posts.cap; i++) {
        const struct xtio__map_slot *slot = &analysis->posts.slots[i];
        if (!slot->value)
            continue;
        struct process *process = xtio__map_get(&analysis->processes, slot->vpid, 0);
        for (const struct pending_posts *p = slot->value; p; p = p->next) {
            for (size_t k = 0; k < p->len; k++)
                process->mechs[p->posts[k].mech].pending++;
        }
    }
}

/* ---- Writes to connections --------------------------------------------------------------- */

static enum xtio_write_class classify(const struct xtio_event *event)
{
    if (event->owner_tid == 0)
        return XTIO_WRITE_BEFORE_LOOP;
    if (event->vtid == event->owner_tid)
        return XTIO_WRITE_ON_LOOP;
    return event->watched ? XTIO_WRITE_OFF_LOOP : XTIO_WRITE_HANDOVER;
}

static int count_handover(xtio_analysis *analysis, struct process *process,
                          const struct xtio_event *event)
{
    struct handover *head = xtio__map_get(&analysis->handovers, process->vpid, event->conn_id);
    struct handover *handover = head;
    while (handover && handover->writer_tid != event->vtid)
        handover = handover->next;
    if (!handover) {
        handover = calloc(1, sizeof(*handover));
        if (!handover)
            return -ENOMEM;
        *handover = (struct handover){
            .writer_tid = event->vtid,
            .conn_id = event->conn_id,
            .owner_tid = event->owner_tid,
            .first_ns = event->ts_ns,
            .site = event->site,
            .call = event->call,
            .next = head,
        };
        int status = xtio__map_put(&analysis->handovers, process->vpid, event->conn_id, handover);
        if (status) {
            free(handover);
            return status;
        }
    }
    handover->writes++;
    handover->bytes += event->bytes;
    return 0;
}

int xtio__on_io_write(xtio_analysis *analysis, struct process *process,
                      const struct xtio_event *event)
{
    int status = 0;
    enum xtio_write_class class = classify(event);
    struct writer *writer = xtio__map_get(&analysis->writers, process->vpid, (uint64_t)event->vtid);
    if (!writer) {
        writer = calloc(1, sizeof(*writer));
        if (!writer)
            return -ENOMEM;
        writer->tid = event->vtid;
        status = xtio__map_put(&analysis->writers, process->vpid, (uint64_t)event->vtid, writer);
        if (status) {
            free(writer);
            return status;
        }
    }
    process->has_writes = true;
    writer->counts.writes[class]++;
    writer->counts.bytes[class] += event->bytes;
    if (class == XTIO_WRITE_HANDOVER)
        return count_handover(analysis, process, event);
    if (class != XTIO_WRITE_OFF_LOOP)
        return 0;
    struct sample sample = {
        .ts_ns = event->ts_ns,
        .event = event->kind,
        .conn_id = event->conn_id,
        .mode = -1,
        .bytes = event->bytes,
        .writer_tid = event->vtid,
        .owner_tid = event->owner_tid,
        .site = event->site,
        .call = event->call,
    };
    return xtio__add_finding(analysis, process, XTIO_FINDING_OFF_LOOP_WRITE, &sample);
}

/* ---- Sorted views, and the end ----------------------------------------------------------- */

static int compare_writers(const void *pa, const void *pb)
{
    const struct writer *a = *(struct writer *const *)pa, *b = *(struct writer *const *)pb;
    return a->tid < b->tid ? -1 : a->tid > b->tid;
}

struct writer **xtio__sorted_writers(const xtio_analysis *analysis, int64_t vpid, size_t *count)
{
    *count = 0;
    struct writer **sorted = malloc((analysis->writers.len + 1) * sizeof(*sorted));
    if (!sorted)
        return NULL;
    for (size_t i = 0; i < analysis->writers.cap; i++) {
        if (analysis->writers.slots[i].value && analysis->writers.slots[i].vpid == vpid)
            sorted[(*count)++] = analysis->writers.slots[i].value;
    }
    qsort(sorted, *count, sizeof(*sorted), compare_writers);
    return sorted;
}

struct write_counts xtio__process_writes(const xtio_analysis *analysis, int64_t vpid)
{
    struct write_counts sum = {0};
    for (size_t i = 0; i < analysis->writers.cap; i++) {
        const struct writer *w = analysis->writers.slots[i].value;
        if (!w || analysis->writers.slots[i].vpid != vpid)
            continue;
        for (int c = 0; c < XTIO_WRITE_CLASS_COUNT; c++) {
            sum.writes[c] += w->counts.writes[c];
            sum.bytes[c] += w->counts.bytes[c];
        }
    }
    return sum;
}

static int compare_handovers(const void *pa, const void *pb)
{
    const struct handover *a = *(struct handover *const *)pa, *b = *(struct handover *const *)pb;
    if (a->conn_id != b->conn_id)
        return a->conn_id < b->conn_id ? -1 : 1;
    return a->writer_tid < b->writer_tid ? -1 : a->writer_tid > b->writer_tid;
}

struct handover **xtio__sorted_handovers(const xtio_analysis *analysis, int64_t vpid, size_t *count)
{
    size_t total = 0;
    *count = 0;
    for (size_t i = 0; i < analysis->handovers.cap; i++) {
        for (const struct handover *h = analysis->handovers.slots[i].value; h; h = h->next)
            total++;
    }
    struct handover **sorted = malloc((total + 1) * sizeof(*sorted));
    if (!sorted)
        return NULL;
    for (size_t i = 0; i < analysis->handovers.cap; i++) {
        if (analysis->handovers.slots[i].vpid != vpid)
            continue;
        for (struct handover *h = analysis->handovers.slots[i].value; h; h = h->next)
            sorted[(*count)++] = h;
    }
    qsort(sorted, *count, sizeof(*sorted), compare_handovers);
    return sorted;
}

void xtio__free_loops(xtio_analysis *analysis)
{
    for (size_t i = 0; i < analysis->posts.cap; i++)
        free_pending(analysis->posts.slots[i].value);
    xtio__map_fini(&analysis->posts);
    for (size_t i = 0; i < analysis->writers.cap; i++)
        free(analysis->writers.slots[i].value);
    xtio__map_fini(&analysis->writers);
    for (size_t i = 0; i < analysis->handovers.cap; i++) {
        struct handover *h = analysis->handovers.slots[i].value;
        while (h) {
            struct handover *next = h->next;
            free(h);
            h = next;
        }
    }
    xtio__map_fini(&analysis->handovers);
}
