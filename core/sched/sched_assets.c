/* sched_assets.c -- assets in the scheduler (doc/assets.md): a succeeded try of a task with outlets records
 * an asset event; an event marks the DAGs whose schedules wait for that asset (through a URI -> consumer
 * index, so the work is the asset's consumers, never a scan of all DAGs); a marked DAG whose condition is
 * met gets one asset-triggered run that consumes every event since its last one (a burst of events makes
 * one run, as Airflow's asset queue does). Events written by other processes (CLI, HTTP API) reach the
 * scheduler through the store's asset inbox. */
#include "sched/sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strutil.h"
#include "store/store_assets.h"

/* How many events of one asset a run's triggering_asset_events keeps (the newest). */
#define TRIGGERING_MAX 100
#define INBOX_INTERVAL_US 500000

struct asset_consumer {
    const char *uri; /* borrowed from the DAG's condition (the bag's DAG outlives the index: rebuilt at sync) */
    size_t sdag;     /* index into s->dags */
};

static int cmp_consumer(const void *a, const void *b)
{
    const struct asset_consumer *x = a, *y = b;
    int c = strcmp(x->uri, y->uri);
    return c ? c : (x->sdag > y->sdag) - (x->sdag < y->sdag);
}

void mlf_sc_assets_free(mlf_scheduler *s)
{
    free(s->consumers);
    s->consumers = NULL;
    s->nconsumers = 0;
}

/* Lists DAG @p i (an index into s->dags) to be looked at this turn, once. */
static void mark_due(mlf_scheduler *s, size_t i)
{
    if (s->dags[i].asset_due)
        return;
    if (s->ndue == s->capdue) {
        size_t cap = s->capdue ? s->capdue * 2 : 16;
        size_t *nd = realloc(s->due, cap * sizeof *nd);
        if (!nd)
            return;
        s->due = nd;
        s->capdue = cap;
    }
    s->due[s->ndue++] = i;
    s->dags[i].asset_due = 1;
}

void mlf_sc_assets_sync(mlf_scheduler *s)
{
    mlf_sc_assets_free(s);
    size_t n = 0;
    for (size_t i = 0; i < s->ndags; i++)
        if (s->dags[i].dag)
            n += s->dags[i].dag->asset_sched.n;
    if (n == 0)
        return;
    s->consumers = calloc(n, sizeof *s->consumers);
    if (!s->consumers)
        return;
    mlf_store_txn *w = mlf_sc_wtxn(s);
    for (size_t i = 0; i < s->ndags; i++) {
        sdag *sd = &s->dags[i];
        if (!sd->dag || sd->dag->asset_sched.n == 0)
            continue;
        for (size_t k = 0; k < sd->dag->asset_sched.n; k++) {
            const char *uri = sd->dag->asset_sched.v[k].uri;
            s->consumers[s->nconsumers++] = (struct asset_consumer){uri, i};
            int64_t cur, seq = 0;
            if (w && mlf_store_asset_cursor_get(w, sd->dag_id, uri, &cur) == MLF_ENOTFOUND) {
                mlf_store_asset_get(w, uri, &seq, NULL); /* a new consumer starts at the asset's present */
                mlf_sc_note_store(s, mlf_store_asset_cursor_put(w, sd->dag_id, uri, seq), "asset cursor");
            }
        }
        mark_due(s, i);
    }
    qsort(s->consumers, s->nconsumers, sizeof *s->consumers, cmp_consumer);
}

void mlf_sc_asset_updated(mlf_scheduler *s, const char *uri)
{
    size_t lo = 0, hi = s->nconsumers;
    while (lo < hi) { /* the first consumer of uri */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->consumers[mid].uri, uri) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < s->nconsumers && strcmp(s->consumers[lo].uri, uri) == 0; lo++)
        mark_due(s, s->consumers[lo].sdag);
}

void mlf_sc_asset_recheck(mlf_scheduler *s, sdag *sd)
{
    if (sd && sd->dag && sd->dag->asset_sched.n)
        mark_due(s, (size_t)(sd - s->dags));
}

/* The extra of outlet @p uri: "asset_extra" as pushed, or its entry for @p uri when it is a map keyed by
 * the task's outlets. */
static const mlf_value *extra_for(const mlf_task *task, const mlf_value *pushed, const char *uri)
{
    if (mlf_value_type(pushed) != MLF_MAP)
        return NULL;
    int by_outlet = mlf_value_len(pushed) > 0;
    for (size_t i = 0; by_outlet && i < mlf_value_len(pushed); i++) {
        int found = 0;
        for (size_t o = 0; o < task->noutlets && !found; o++)
            found = strcmp(mlf_map_key_at(pushed, i), task->outlets[o]) == 0;
        by_outlet = found;
    }
    if (!by_outlet)
        return pushed;
    const mlf_value *one = mlf_map_get(pushed, uri);
    return mlf_value_type(one) == MLF_MAP ? one : NULL;
}

void mlf_sc_record_outlets(mlf_scheduler *s, const sti *t, const mlf_value *xcoms)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    if (task->noutlets == 0)
        return;
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!w)
        return;
    const mlf_value *pushed = mlf_map_get(xcoms, "asset_extra");
    for (size_t o = 0; o < task->noutlets; o++) {
        mlf_value *ev = mlf_value_map();
        if (!ev)
            return;
        const mlf_value *extra = extra_for(task, pushed, task->outlets[o]);
        mlf_map_set(ev, "source", mlf_value_str("task"));
        mlf_map_set(ev, "dag_id", mlf_value_str(t->run->rec.dag_id));
        mlf_map_set(ev, "run_id", mlf_value_str(t->run->rec.run_id));
        mlf_map_set(ev, "task_id", mlf_value_str(task->task_id));
        mlf_map_set(ev, "map_index", mlf_value_int(t->map_index));
        mlf_map_set(ev, "extra", extra ? mlf_value_copy(extra) : mlf_value_map());
        int64_t seq = 0;
        /* a foreground run (`dags test`, `tasks run`) tells a running daemon through the inbox */
        int rc = mlf_store_asset_event_add(w, task->outlets[o], ev, !s->o.create_scheduled_runs, &seq);
        mlf_value_free(ev);
        mlf_sc_note_store(s, rc, "asset event");
        if (rc != MLF_OK)
            return;
        mlf_log(MLF_LOG_INFO, COMPONENT, "asset %s updated (event %lld) by %s/%s/%s", task->outlets[o],
                (long long)seq, t->run->rec.dag_id, t->run->rec.run_id, task->task_id);
        mlf_sc_asset_updated(s, task->outlets[o]);
    }
}

static int take_inbox(void *ud, const char *uri)
{
    mlf_sc_asset_updated(ud, uri);
    return MLF_OK;
}

typedef struct collect {
    mlf_value *list;
    mlf_time_us first, last;
} collect;

static int collect_event(void *ud, const mlf_value *ev)
{
    collect *c = ud;
    int64_t at = 0;
    mlf_value_get_int(mlf_map_get(ev, "at"), &at);
    if (!c->first || at < c->first)
        c->first = at;
    if (at > c->last)
        c->last = at;
    mlf_value *e = mlf_value_copy(ev);
    if (e) {
        mlf_map_remove(e, "v");
        char ts[64];
        mlf_time_format_ts(at, ts, sizeof ts);
        mlf_map_set(e, "timestamp", mlf_value_str(ts));
    }
    return e ? mlf_array_append(c->list, e) : MLF_ENOMEM;
}

/* evaluate()'s work, with its three arrays of c->n counters. */
static void run_if_ready(mlf_scheduler *s, sdag *sd, mlf_store_txn *w, const mlf_asset_cond *c, int64_t *pending,
                         int64_t *cursor, int64_t *seq, mlf_time_us now)
{
    for (size_t i = 0; i < c->n; i++) {
        cursor[i] = seq[i] = 0;
        mlf_store_asset_cursor_get(w, sd->dag_id, c->v[i].uri, &cursor[i]);
        mlf_store_asset_get(w, c->v[i].uri, &seq[i], NULL);
        pending[i] = seq[i] > cursor[i] ? seq[i] - cursor[i] : 0;
    }
    if (!mlf_asset_cond_ready(c, pending))
        return;
    size_t active = 0;
    for (srun *r = s->runs; r; r = r->next)
        if (!r->finished && strcmp(r->rec.dag_id, sd->dag_id) == 0)
            active++;
    if (active >= (size_t)sd->dag->max_active_runs)
        return;
    mlf_value *events = mlf_value_map();
    collect col = {0};
    for (size_t i = 0; events && i < c->n; i++) {
        if (pending[i] == 0)
            continue;
        col.list = mlf_value_array();
        int64_t from = seq[i] - cursor[i] > TRIGGERING_MAX ? seq[i] - TRIGGERING_MAX : cursor[i];
        mlf_store_asset_events(w, c->v[i].uri, from, 0, 0, collect_event, &col);
        mlf_map_set(events, c->v[i].uri, col.list);
    }
    char ts[64], id[200], err[300];
    mlf_time_format_ts(now, ts, sizeof ts);
    snprintf(id, sizeof id, "asset_triggered__%s", ts); /* the time has microseconds: one run per instant */
    mlf_interval iv = {.data_interval_start = col.first ? col.first : now, .data_interval_end = col.last ? col.last : now,
                       .logical_date = now, .run_after = now};
    int rc = events ? mlf_sc_create_run_at(s, sd->dag, MLF_RUN_TYPE_ASSET_TRIGGERED, &iv, id, err, sizeof err)
                    : MLF_ENOMEM;
    if (rc == MLF_OK)
        mlf_sc_note_store(s, mlf_store_run_assets_put(w, sd->dag_id, id, events), "triggering asset events");
    mlf_value_free(events);
    if (rc != MLF_OK) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "DAG %s: cannot create its asset-triggered run: %s", sd->dag_id,
                rc == MLF_ENOMEM ? "out of memory" : err);
        return;
    }
    for (size_t i = 0; i < c->n; i++) /* every event so far is consumed (Airflow clears the DAG's queue) */
        if (seq[i] != cursor[i])
            mlf_sc_note_store(s, mlf_store_asset_cursor_put(w, sd->dag_id, c->v[i].uri, seq[i]), "asset cursor");
}

/* Evaluates @p sd's condition; creates its run and advances its cursors when met. A paused DAG, or one at
 * max_active_runs, is left alone: unpausing it or the end of one of its runs looks at it again (and its
 * cursors still hold every event that came meanwhile). */
static void evaluate(mlf_scheduler *s, sdag *sd, mlf_time_us now)
{
    const mlf_asset_cond *c = &sd->dag->asset_sched;
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (sd->paused || !w)
        return;
    int64_t *buf = calloc(3 * c->n, sizeof *buf);
    if (!buf)
        return;
    int64_t *pending = buf, *cursor = buf + c->n, *seq = buf + 2 * c->n;
    run_if_ready(s, sd, w, c, pending, cursor, seq, now);
    free(buf);
}

void mlf_sc_create_asset_runs(mlf_scheduler *s, mlf_time_us now)
{
    if (!s->o.create_scheduled_runs || s->draining)
        return;
    if (now >= s->next_inbox) {
        s->next_inbox = now + INBOX_INTERVAL_US;
        mlf_store_txn *w = mlf_sc_wtxn(s);
        if (w)
            mlf_sc_note_store(s, mlf_store_asset_inbox_take(w, take_inbox, s), "asset inbox");
    }
    for (size_t k = 0; k < s->ndue; k++) { /* the DAGs an event (or a run's end) concerns, not every DAG */
        sdag *sd = &s->dags[s->due[k]];
        sd->asset_due = 0;
        if (sd->dag && sd->dag->asset_sched.n)
            evaluate(s, sd, now);
    }
    s->ndue = 0;
}

mlf_value *mlf_sc_triggering_events(mlf_scheduler *s, const srun *r)
{
    mlf_value *v = NULL;
    mlf_store_txn *w = r->rec.run_type == MLF_RUN_TYPE_ASSET_TRIGGERED ? mlf_sc_wtxn(s) : NULL;
    if (!w || mlf_store_run_assets_get(w, r->rec.dag_id, r->rec.run_id, &v) != MLF_OK)
        return mlf_value_map();
    return v;
}
