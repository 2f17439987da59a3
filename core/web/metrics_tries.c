/*
 * metrics_tries.c -- try counters, task durations by (dag, task), zombies and DAG file parse times
 * (metrics_tries.h). The loop's side is lock-free: relaxed atomic adds, and a fixed open-addressing table of
 * duration series whose slots are claimed with a compare-and-swap and published with a release store, so
 * that the /metrics thread reads a slot only once its names are written.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "web/metrics_tries.h"

#include <mlflowd/plugin.h>

#define SLOTS (2 * MLF_METRICS_TASK_SERIES) /* a power of two; at most half full */

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_READY };

typedef struct series {
    atomic_int state;
    uint64_t hash;
    char *dag_id, *task_id;
    mlf_histogram h;
} series;

/* task durations run from well under a second to hours */
static const double task_bounds[MLF_HIST_BUCKETS] = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600};

static series table[SLOTS];
static atomic_uint nseries;
static atomic_ullong tries_started, tries_finished, tries_failed, tries_dropped, zombies;
static mlf_histogram parse_hist;

static uint64_t hash2(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over "a\0b" */
    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 1099511628211ULL;
    h *= 1099511628211ULL;
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 1099511628211ULL;
    return h;
}

/* The series of (dag_id, task_id), created on first use; NULL when the table is full or memory is out. */
static series *find_series(const char *dag_id, const char *task_id)
{
    uint64_t h = hash2(dag_id, task_id);
    for (size_t i = 0, at = h & (SLOTS - 1); i < SLOTS; i++, at = (at + 1) & (SLOTS - 1)) {
        series *s = &table[at];
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == SLOT_READY) {
            if (s->hash == h && strcmp(s->dag_id, dag_id) == 0 && strcmp(s->task_id, task_id) == 0)
                return s;
            continue;
        }
        if (st == SLOT_CLAIMED) /* another writer is filling it in; not ours to wait for */
            continue;
        if (atomic_load_explicit(&nseries, memory_order_relaxed) >= MLF_METRICS_TASK_SERIES)
            return NULL;
        int expect = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_CLAIMED))
            continue;
        s->hash = h;
        s->dag_id = strdup(dag_id); /* once per task for the life of the process */
        s->task_id = strdup(task_id);
        if (!s->dag_id || !s->task_id) {
            free(s->dag_id);
            free(s->task_id);
            s->dag_id = s->task_id = NULL;
            atomic_store_explicit(&s->state, SLOT_FREE, memory_order_release);
            return NULL;
        }
        s->h.bounds = task_bounds;
        atomic_fetch_add_explicit(&nseries, 1, memory_order_relaxed);
        atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
        return s;
    }
    return NULL;
}

void mlf_metrics_try_started(void)
{
    atomic_fetch_add_explicit(&tries_started, 1, memory_order_relaxed);
}

void mlf_metrics_try_ended(const char *dag_id, const char *task_id, int outcome, const char *message,
                           mlf_time_us start, mlf_time_us end)
{
    atomic_fetch_add_explicit(&tries_finished, 1, memory_order_relaxed);
    if (outcome == MLF_FAILED || outcome == MLF_FAILED_NO_RETRY) {
        atomic_fetch_add_explicit(&tries_failed, 1, memory_order_relaxed);
        if (message && strncmp(message, "zombie", 6) == 0)
            mlf_metrics_zombie();
    }
    if (!start || start == MLF_TIME_NONE || end < start || !dag_id || !task_id)
        return;
    series *s = find_series(dag_id, task_id);
    if (s)
        mlf_histogram_observe(&s->h, end - start);
    else
        atomic_fetch_add_explicit(&tries_dropped, 1, memory_order_relaxed);
}

void mlf_metrics_zombie(void)
{
    atomic_fetch_add_explicit(&zombies, 1, memory_order_relaxed);
}

void mlf_metrics_dag_parse(long long us)
{
    mlf_histogram_observe(&parse_hist, us);
}

static void counter(mlf_buf *out, const char *name, const char *help, atomic_ullong *v)
{
    mlf_metric_write(out, name, "counter", help, NULL, 0, (double)atomic_load_explicit(v, memory_order_relaxed));
}

void mlf_metrics_tries_write(mlf_buf *out, mlf_store_txn *txn)
{
    counter(out, "mlflowd_task_tries_started_total", "Tries handed to an executor.", &tries_started);
    counter(out, "mlflowd_task_tries_finished_total", "Tries that ended, whatever their outcome.", &tries_finished);
    counter(out, "mlflowd_task_tries_failed_total", "Tries that ended failed (retried or not).", &tries_failed);
    counter(out, "mlflowd_zombie_tries_total",
            "Tries given up as zombies (their worker or the scheduler went away while they ran).", &zombies);
    counter(out, "mlflowd_task_duration_dropped_total",
            "Tries not observed in mlflowd_task_duration_seconds: its table of (dag, task) series is full.",
            &tries_dropped);
    mlf_histogram_write(out, "mlflowd_dag_file_parse_duration_seconds", "Time to parse one DAG file.", &parse_hist);
    mlf_buf_printf(out, "# HELP mlflowd_task_duration_seconds %s\n# TYPE mlflowd_task_duration_seconds histogram\n",
                   "Duration of tries by DAG and task (DAGs a DAG file still defines).");
    mlf_buf labels = {0};
    for (size_t i = 0; i < SLOTS; i++) {
        series *s = &table[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            continue;
        mlf_dag_rec d;
        mlf_dag_rec_init(&d);
        if (!txn || mlf_store_dag_get(txn, s->dag_id, &d) != MLF_OK)
            continue;
        int active = d.is_active;
        mlf_dag_rec_clear(&d);
        if (!active)
            continue;
        labels.len = 0;
        mlf_buf_puts(&labels, "dag_id=\"");
        mlf_metric_label_escape(&labels, s->dag_id);
        mlf_buf_puts(&labels, "\",task_id=\"");
        mlf_metric_label_escape(&labels, s->task_id);
        mlf_buf_puts(&labels, "\"");
        if (labels.data)
            mlf_histogram_write_series(out, "mlflowd_task_duration_seconds", labels.data, &s->h);
    }
    mlf_buf_free(&labels);
}
