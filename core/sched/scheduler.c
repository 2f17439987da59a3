/* scheduler.c -- the scheduler loop (see scheduler.h). */
#include "sched/scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf/conn_uri.h"
#include "exec/executor.h"
#include "exec/executor_zmq.h"
#include "base/log.h"
#include "sched/notify.h"
#include "time/duration.h"
#include "time/schedule.h"
#include "base/strutil.h"
#include "exec/task_spec.h"
#include "tmpl/template.h"
#include "tmpl/template_macros.h"
#include "time/timefmt.h"
#include "sched/trigger_rule.h"

#define COMPONENT "scheduler"
#define MAX_RETRY_DELAY_US (24LL * 3600 * 1000000) /* Airflow's cap when max_retry_delay is not set */

/* ------------------------------------------------------------------------------------------ model */

struct srun;

/* One task instance (one map index of one task of one run). */
typedef struct sti {
    struct srun *run;
    size_t task;
    int map_index;
    mlf_ti_state state;
    int try_number;
    int max_tries;
    mlf_time_us start_date, end_date, queued_at, wake_at, first_poke_at;
    char attempt[33];
    char *message;
    char *hostname;
    int pid;
    size_t heap_idx; /* position in the ready or timer heap, (size_t)-1 when in none */
    int in_timer;
} sti;

/* Per task of a run: its TIs and the counters over its direct upstream TIs. */
typedef struct stask {
    sti **tis;
    size_t ntis;
    int expanded;          /* mapped tasks: 1 once expanded (unmapped: always 1) */
    int decided;           /* the trigger rule gave something other than WAIT */
    int dirty;             /* an upstream finished this turn: evaluate again */
    int complete;          /* decided and every TI finished */
    unsigned unfinished;   /* TIs not finished */
    mlf_upstream_counts up;
    unsigned up_pending_expansion; /* upstream mapped tasks not expanded yet (each counts as one TI) */
    mlf_value *expanded_values;    /* mapped: map param -> list, after rendering */
} stask;

typedef struct srun {
    mlf_run_rec rec;
    mlf_dag *dag;          /* retained */
    mlf_value *conf;
    mlf_value *params;     /* DAG params overridden by conf (Airflow's dag_run_conf_overrides_params) */
    mlf_value *xcoms;      /* task_id -> {key: value} (mapped: task_id -> [ {key: value} per map index ]) */
    mlf_value *xcom_view;  /* what templates see as `xcom`: every task_id -> its view (None until it pushes) */
    stask *tasks;
    size_t open_tasks;     /* tasks not complete */
    size_t active_tis;     /* TIs scheduled, queued, running, up_for_retry or up_for_reschedule */
    int finished;
    int in_dirty_runs;     /* listed in the scheduler's dirty_runs */
    size_t *dirty;         /* tasks to evaluate this turn (a worklist: no scan of the run's tasks) */
    size_t ndirty, capdirty;
    struct srun *next;
} srun;

/* Per DAG (by dag_id): counters the limits need and the schedule's next run. */
typedef struct sdag {
    char *dag_id;
    mlf_dag *dag;          /* the bag's current version (borrowed), or NULL when gone */
    mlf_schedule *sched;
    int paused;
    int running_tis;       /* queued or running TIs of this DAG */
    int active_runs;
    int has_last;          /* last automated interval known */
    mlf_interval last;
    mlf_time_us next_check; /* when to look at the schedule again (0: now) */
} sdag;

typedef struct heap {
    sti **v;
    size_t n, cap;
} heap;

struct mlf_scheduler {
    mlf_scheduler_opts o;
    const char *home;
    mlf_executor ex;
    mlf_store_txn *w;      /* the turn's write batch, opened on first write */
    int store_error;
    srun *runs;
    sdag *dags;
    size_t ndags, capdags;
    heap ready;            /* scheduled TIs, by priority */
    heap timers;           /* up_for_retry / up_for_reschedule TIs, by wake_at */
    sti **running;         /* dispatched TIs, looked up by attempt token */
    size_t nrunning, caprunning;
    srun **dirty_runs;     /* runs with dirty tasks this turn */
    size_t ndirty, capdirty;
    mlf_pool_rec *pools;
    size_t npools;
    int *pool_used;
    int64_t default_pool_slots;
    int64_t xcom_max;
    int draining;
    int watch_fd;
    mlf_time_us next_dag_check;
    mlf_time_us next_adopt;  /* when to look for runs and pauses written by other processes */
    int single;              /* run_task(): only the chosen TI runs; nothing else is evaluated */
    pid_t *notifiers;        /* callback processes not reaped yet */
    size_t nnotifiers;
    sti *submitting;         /* the TI whose spec is being handed to the executor (lease callbacks) */
    char (*keep)[33];        /* reload_run(): attempts still running here, reattached by resume_run */
    size_t nkeep;
    int is_zmq;
};

/* The turn's write batch, opened on first use. NULL after a store failure (logged once). */
static mlf_store_txn *wtxn(mlf_scheduler *s)
{
    if (!s->w && !s->store_error) {
        int rc = mlf_store_write_begin(s->o.store, &s->w);
        if (rc != MLF_OK) {
            mlf_log(MLF_LOG_ERROR, COMPONENT, "cannot start a store write: %s", mlf_strerror(rc));
            s->store_error = rc;
            s->w = NULL;
        }
    }
    return s->w;
}

static int commit(mlf_scheduler *s)
{
    if (!s->w)
        return s->store_error;
    int rc = mlf_store_write_commit(s->w);
    s->w = NULL;
    if (rc != MLF_OK) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "store commit failed: %s", mlf_strerror(rc));
        s->store_error = rc;
    }
    return rc;
}

static void note_store(mlf_scheduler *s, int rc, const char *what)
{
    if (rc != MLF_OK && !s->store_error) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "store: %s: %s", what, mlf_strerror(rc));
        s->store_error = rc;
    }
}

/* ------------------------------------------------------------------------------------------ heaps */

/* ready: higher effective priority first, then older logical date, then task order. */
static int ready_before(const sti *a, const sti *b)
{
    int64_t pa = a->run->dag->tasks[a->task].effective_priority, pb = b->run->dag->tasks[b->task].effective_priority;
    if (pa != pb)
        return pa > pb;
    if (a->run->rec.logical_date != b->run->rec.logical_date)
        return a->run->rec.logical_date < b->run->rec.logical_date;
    if (a->task != b->task)
        return a->task < b->task;
    return a->map_index < b->map_index;
}

static int timer_before(const sti *a, const sti *b)
{
    return a->wake_at < b->wake_at;
}

static void heap_swap(heap *h, size_t i, size_t j)
{
    sti *t = h->v[i];
    h->v[i] = h->v[j];
    h->v[j] = t;
    h->v[i]->heap_idx = i;
    h->v[j]->heap_idx = j;
}

static void heap_up(heap *h, size_t i, int (*before)(const sti *, const sti *))
{
    while (i > 0 && before(h->v[i], h->v[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(heap *h, size_t i, int (*before)(const sti *, const sti *))
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && before(h->v[l], h->v[m]))
            m = l;
        if (r < h->n && before(h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

static int heap_push(heap *h, sti *t, int (*before)(const sti *, const sti *))
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        sti **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return MLF_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n] = t;
    t->heap_idx = h->n++;
    heap_up(h, t->heap_idx, before);
    return MLF_OK;
}

static sti *heap_pop(heap *h, int (*before)(const sti *, const sti *))
{
    if (!h->n)
        return NULL;
    sti *top = h->v[0];
    h->v[0] = h->v[--h->n];
    h->v[0]->heap_idx = 0;
    if (h->n)
        heap_down(h, 0, before);
    top->heap_idx = (size_t)-1;
    return top;
}

static void heap_remove(heap *h, sti *t, int (*before)(const sti *, const sti *))
{
    size_t i = t->heap_idx;
    if (i == (size_t)-1 || i >= h->n || h->v[i] != t)
        return;
    h->v[i] = h->v[--h->n];
    if (i < h->n) {
        h->v[i]->heap_idx = i;
        heap_down(h, i, before);
        heap_up(h, i, before);
    }
    t->heap_idx = (size_t)-1;
}

/* ------------------------------------------------------------------------------------------ DAGs */

static sdag *find_sdag(mlf_scheduler *s, const char *dag_id)
{
    for (size_t i = 0; i < s->ndags; i++)
        if (strcmp(s->dags[i].dag_id, dag_id) == 0)
            return &s->dags[i];
    return NULL;
}

/* Brings the per-DAG table in step with the bag: new DAGs get a store record (paused as the DAG says on
 * creation), DAGs whose file disappeared become inactive (their history stays). */
static void sync_dags(mlf_scheduler *s)
{
    mlf_time_us now = mlf_time_now();
    for (size_t i = 0; i < s->ndags; i++)
        s->dags[i].dag = NULL;
    for (size_t i = 0; i < mlf_dagbag_count(s->o.bag); i++) {
        mlf_dag *d = (mlf_dag *)mlf_dagbag_at(s->o.bag, i);
        sdag *sd = find_sdag(s, d->dag_id);
        if (!sd) {
            if (s->ndags == s->capdags) {
                size_t cap = s->capdags ? s->capdags * 2 : 16;
                sdag *nd = realloc(s->dags, cap * sizeof *nd);
                if (!nd)
                    return;
                s->dags = nd;
                s->capdags = cap;
            }
            sd = &s->dags[s->ndags++];
            memset(sd, 0, sizeof *sd);
            sd->dag_id = strdup(d->dag_id);
        }
        sd->dag = d;
        mlf_schedule_free(sd->sched);
        sd->sched = NULL;
        char err[256];
        if (d->schedule && mlf_schedule_parse(d->schedule, d->timezone, &sd->sched, err, sizeof err) != MLF_OK)
            mlf_log(MLF_LOG_ERROR, COMPONENT, "DAG %s: schedule: %s", d->dag_id, err);
        sd->next_check = 0;
        mlf_store_txn *w = wtxn(s);
        if (!w)
            continue;
        mlf_dag_rec rec;
        mlf_dag_rec_init(&rec);
        int rc = mlf_store_dag_get(w, d->dag_id, &rec);
        if (rc == MLF_ENOTFOUND) {
            mlf_dag_rec_init(&rec);
            rec.dag_id = strdup(d->dag_id);
            rec.is_paused = d->is_paused_upon_creation;
        }
        sd->paused = rec.is_paused;
        free(rec.fileloc);
        rec.fileloc = strdup(d->fileloc);
        rec.is_active = true;
        rec.has_import_errors = false;
        rec.last_parsed = now;
        note_store(s, mlf_store_dag_put(w, &rec), "dag");
        mlf_dag_rec_clear(&rec);
    }
    for (size_t i = 0; i < s->ndags; i++) {
        if (s->dags[i].dag)
            continue;
        mlf_store_txn *w = wtxn(s);
        mlf_dag_rec rec;
        mlf_dag_rec_init(&rec);
        if (w && mlf_store_dag_get(w, s->dags[i].dag_id, &rec) == MLF_OK && rec.is_active) {
            rec.is_active = false;
            note_store(s, mlf_store_dag_put(w, &rec), "dag");
        }
        mlf_dag_rec_clear(&rec);
    }
    s->next_dag_check = 0;
}

/* ------------------------------------------------------------------------------------------ TI records */

static int is_unfinished_active(mlf_ti_state st)
{
    return st == MLF_TI_SCHEDULED || st == MLF_TI_QUEUED || st == MLF_TI_RUNNING || st == MLF_TI_UP_FOR_RETRY ||
           st == MLF_TI_UP_FOR_RESCHEDULE;
}

static void ti_record(const sti *t, mlf_ti_rec *r)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    mlf_ti_rec_init(r);
    r->dag_id = t->run->rec.dag_id;
    r->run_id = t->run->rec.run_id;
    r->task_id = task->task_id;
    r->map_index = t->map_index;
    r->state = t->state;
    r->try_number = t->try_number;
    r->max_tries = t->max_tries;
    r->start_date = t->start_date;
    r->end_date = t->end_date;
    r->hostname = t->hostname;
    r->pid = t->pid;
    r->queued_at = t->queued_at;
    r->wake_at = t->wake_at;
    r->first_poke_at = t->first_poke_at;
    r->operator_name = task->operator_name;
    r->pool = task->pool;
    r->pool_slots = task->pool_slots;
    r->queue = task->queue;
    r->priority_weight = (int)task->effective_priority;
    r->external_executor_id = t->attempt[0] ? (char *)t->attempt : NULL;
    r->message = t->message;
}

static void save_ti(mlf_scheduler *s, const sti *t)
{
    mlf_store_txn *w = wtxn(s);
    if (!w)
        return;
    mlf_ti_rec r;
    ti_record(t, &r);
    note_store(s, mlf_store_ti_put(w, &r), "task instance");
}

static void save_run(mlf_scheduler *s, srun *r)
{
    mlf_store_txn *w = wtxn(s);
    if (w)
        note_store(s, mlf_store_run_put(w, &r->rec), "dag run");
}

static void set_message(sti *t, const char *msg)
{
    free(t->message);
    t->message = msg ? strdup(msg) : NULL;
}

static sti *new_ti(srun *r, size_t task, int map_index)
{
    sti *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->run = r;
    t->task = task;
    t->map_index = map_index;
    t->state = MLF_TI_NONE;
    t->max_tries = r->dag->tasks[task].retries + 1;
    t->heap_idx = (size_t)-1;
    return t;
}

static int add_ti(stask *st, sti *t)
{
    sti **v = realloc(st->tis, (st->ntis + 1) * sizeof *v);
    if (!v)
        return MLF_ENOMEM;
    st->tis = v;
    st->tis[st->ntis++] = t;
    return MLF_OK;
}

static void free_run(srun *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->tasks && i < r->dag->ntasks; i++) {
        for (size_t k = 0; k < r->tasks[i].ntis; k++) {
            free(r->tasks[i].tis[k]->message);
            free(r->tasks[i].tis[k]->hostname);
            free(r->tasks[i].tis[k]);
        }
        free(r->tasks[i].tis);
        mlf_value_free(r->tasks[i].expanded_values);
    }
    free(r->tasks);
    free(r->dirty);
    mlf_value_free(r->conf);
    mlf_value_free(r->params);
    mlf_value_free(r->xcoms);
    mlf_value_free(r->xcom_view);
    mlf_run_rec_clear(&r->rec);
    mlf_dag_free(r->dag);
    free(r);
}

static void mark_dirty(mlf_scheduler *s, srun *r, size_t task)
{
    stask *st = &r->tasks[task];
    if (st->decided || st->dirty)
        return;
    if (r->ndirty == r->capdirty) {
        size_t cap = r->capdirty ? r->capdirty * 2 : 16;
        size_t *v = realloc(r->dirty, cap * sizeof *v);
        if (!v)
            return;
        r->dirty = v;
        r->capdirty = cap;
    }
    st->dirty = 1;
    r->dirty[r->ndirty++] = task;
    if (r->in_dirty_runs)
        return;
    if (s->ndirty == s->capdirty) {
        size_t cap = s->capdirty ? s->capdirty * 2 : 16;
        srun **v = realloc(s->dirty_runs, cap * sizeof *v);
        if (!v)
            return;
        s->dirty_runs = v;
        s->capdirty = cap;
    }
    s->dirty_runs[s->ndirty++] = r;
    r->in_dirty_runs = 1;
}

/* Builds the in-memory run around @p rec (copied): per-task state and upstream totals, nothing decided. */
static srun *make_run(mlf_dag *dag, const mlf_run_rec *rec)
{
    srun *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->dag = mlf_dag_retain(dag);
    mlf_run_rec_init(&r->rec);
    r->rec = *rec;
    r->rec.dag_id = strdup(rec->dag_id);
    r->rec.run_id = strdup(rec->run_id);
    r->rec.note = rec->note ? strdup(rec->note) : NULL;
    r->rec.conf = NULL;
    r->rec.conf_len = 0;
    if (rec->conf && rec->conf_len) {
        r->rec.conf = malloc(rec->conf_len);
        if (r->rec.conf) {
            memcpy(r->rec.conf, rec->conf, rec->conf_len);
            r->rec.conf_len = rec->conf_len;
        }
        mlf_value_unpack(rec->conf, rec->conf_len, &r->conf);
    }
    r->params = mlf_value_copy(dag->params);
    for (size_t i = 0; r->params && mlf_value_type(r->conf) == MLF_MAP && i < mlf_value_len(r->conf); i++)
        mlf_map_set(r->params, mlf_map_key_at(r->conf, i), mlf_value_copy(mlf_map_value_at(r->conf, i)));
    r->xcoms = mlf_value_map();
    r->xcom_view = mlf_value_map();
    for (size_t i = 0; r->xcom_view && i < dag->ntasks; i++)
        mlf_map_set(r->xcom_view, dag->tasks[i].task_id, mlf_value_nil());
    r->tasks = calloc(dag->ntasks ? dag->ntasks : 1, sizeof *r->tasks);
    if (!r->rec.dag_id || !r->rec.run_id || !r->params || !r->xcoms || !r->xcom_view || !r->tasks) {
        free_run(r);
        return NULL;
    }
    r->open_tasks = dag->ntasks;
    for (size_t i = 0; i < dag->ntasks; i++) {
        const mlf_task *t = &dag->tasks[i];
        stask *st = &r->tasks[i];
        st->expanded = t->expand == NULL;
        st->up.total = 0;
        for (size_t u = 0; u < t->nupstream; u++) {
            if (dag->tasks[t->upstream[u]].expand) {
                st->up_pending_expansion++;
                st->up.total++; /* an unexpanded mapped upstream counts as one pending TI */
            } else {
                st->up.total++;
            }
        }
    }
    return r;
}

/* ------------------------------------------------------------------------------------------ callbacks */

/* Runs callback @p cb ({notifier, config}) for @p event in a child process; never waits for it. */
static void run_callback(mlf_scheduler *s, const mlf_value *cb, const char *which, mlf_value *event)
{
    const char *name = mlf_value_get_str(mlf_map_get(cb, "notifier"), NULL);
    const mlf_reg_entry *e = name ? mlf_catalog_find(s->o.cat, MLF_REG_NOTIFIER, name) : NULL;
    if (!e || !e->owner) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "%s: notifier '%s' is not loaded", which, name ? name : "?");
        return;
    }
    mlf_map_set(event, "callback", mlf_value_str(which));
    pid_t pid;
    int rc = mlf_notify_spawn(s->o.exe, e->owner->path, name, mlf_map_get(cb, "config"), event, &pid);
    if (rc != 0) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "%s: cannot start notifier '%s': %s", which, name, mlf_strerror(rc));
        return;
    }
    pid_t *v = realloc(s->notifiers, (s->nnotifiers + 1) * sizeof *v);
    if (v) {
        s->notifiers = v;
        s->notifiers[s->nnotifiers++] = pid;
    }
}

static mlf_value *ti_event(const sti *t, const char *state)
{
    const srun *r = t->run;
    mlf_value *ev = mlf_value_map();
    char ts[64];
    mlf_time_format_ts(r->rec.logical_date, ts, sizeof ts);
    mlf_map_set(ev, "dag_id", mlf_value_str(r->rec.dag_id));
    mlf_map_set(ev, "run_id", mlf_value_str(r->rec.run_id));
    mlf_map_set(ev, "task_id", mlf_value_str(r->dag->tasks[t->task].task_id));
    mlf_map_set(ev, "map_index", mlf_value_int(t->map_index));
    mlf_map_set(ev, "state", mlf_value_str(state));
    mlf_map_set(ev, "try_number", mlf_value_int(t->try_number));
    mlf_map_set(ev, "logical_date", mlf_value_str(ts));
    mlf_map_set(ev, "message", t->message ? mlf_value_str(t->message) : mlf_value_nil());
    return ev;
}

static void ti_callback(mlf_scheduler *s, const sti *t, mlf_ti_state state)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    const mlf_value *cb = state == MLF_TI_FAILED ? task->on_failure_callback
                          : state == MLF_TI_SUCCESS ? task->on_success_callback
                          : state == MLF_TI_UP_FOR_RETRY ? task->on_retry_callback : NULL;
    if (!cb)
        return;
    mlf_value *ev = ti_event(t, state == MLF_TI_NONE ? "none" : mlf_ti_state_name(state));
    if (ev)
        run_callback(s, cb, state == MLF_TI_FAILED ? "on_failure_callback"
                            : state == MLF_TI_SUCCESS ? "on_success_callback" : "on_retry_callback", ev);
    mlf_value_free(ev);
}

static void reap_notifiers(mlf_scheduler *s, int wait_ms)
{
    for (int waited = 0;; waited += 10) {
        size_t keep = 0;
        for (size_t i = 0; i < s->nnotifiers; i++) {
            int status;
            pid_t rc = waitpid(s->notifiers[i], &status, WNOHANG);
            if (rc == 0)
                s->notifiers[keep++] = s->notifiers[i];
            else if (rc > 0 && WIFSIGNALED(status))
                mlf_log(MLF_LOG_WARNING, COMPONENT, "a notifier process (pid %d) was killed by signal %d",
                        (int)s->notifiers[i], WTERMSIG(status));
            else if (rc > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                mlf_log(MLF_LOG_WARNING, COMPONENT, "a notifier process (pid %d) failed with exit status %d (see the "
                        "lines above)", (int)s->notifiers[i], WEXITSTATUS(status));
        }
        s->nnotifiers = keep;
        if (!keep || waited >= wait_ms)
            return;
        usleep(10000);
    }
}

/* ------------------------------------------------------------------------------------------ transitions */

static void count_finished(mlf_upstream_counts *c, mlf_ti_state st, int delta)
{
    switch (st) {
    case MLF_TI_SUCCESS: c->success += (unsigned)delta; break;
    case MLF_TI_SKIPPED: c->skipped += (unsigned)delta; break;
    case MLF_TI_FAILED: c->failed += (unsigned)delta; break;
    case MLF_TI_UPSTREAM_FAILED: c->upstream_failed += (unsigned)delta; break;
    case MLF_TI_REMOVED: c->removed += (unsigned)delta; break;
    default: break;
    }
}

static void finalize_run(mlf_scheduler *s, srun *r, int deadlock);
static void wake_next_run(mlf_scheduler *s, srun *r, size_t task);

/* A task all of whose TIs finished: the run may be complete. */
static void task_maybe_complete(mlf_scheduler *s, srun *r, size_t task)
{
    stask *st = &r->tasks[task];
    if (st->complete || !st->decided || !st->expanded || st->unfinished)
        return;
    st->complete = 1;
    if (--r->open_tasks == 0)
        finalize_run(s, r, 0);
}

/* Moves @p t to a finished state and tells its downstream tasks (work: its downstream edges). */
static void finish_ti(mlf_scheduler *s, sti *t, mlf_ti_state state, const char *message)
{
    srun *r = t->run;
    if (mlf_ti_state_is_finished(t->state))
        return;
    if (is_unfinished_active(t->state) && r->active_tis)
        r->active_tis--;
    if (t->in_timer) {
        heap_remove(&s->timers, t, timer_before);
        t->in_timer = 0;
    }
    if (t->heap_idx != (size_t)-1)
        heap_remove(&s->ready, t, ready_before);
    t->state = state;
    if (!t->end_date)
        t->end_date = mlf_time_now();
    if (message)
        set_message(t, message);
    save_ti(s, t);
    if ((state == MLF_TI_FAILED || state == MLF_TI_SUCCESS) && t->try_number > 0)
        ti_callback(s, t, state);
    const mlf_task *task = &r->dag->tasks[t->task];
    for (size_t d = 0; d < task->ndownstream; d++) {
        stask *ds = &r->tasks[task->downstream[d]];
        count_finished(&ds->up, state, 1);
        mark_dirty(s, r, task->downstream[d]);
    }
    stask *st = &r->tasks[t->task];
    if (st->unfinished)
        st->unfinished--;
    if (task->depends_on_past || task->wait_for_downstream)
        wake_next_run(s, r, t->task);
    for (size_t u = 0; u < task->nupstream; u++) /* wait_for_downstream of an upstream in the next run */
        if (r->dag->tasks[task->upstream[u]].wait_for_downstream)
            wake_next_run(s, r, task->upstream[u]);
    task_maybe_complete(s, r, t->task);
}

/* Schedules @p t: it joins the ready heap (dispatched by priority within the limits). */
static void schedule_ti(mlf_scheduler *s, sti *t)
{
    if (!is_unfinished_active(t->state))
        t->run->active_tis++;
    t->state = MLF_TI_SCHEDULED;
    t->wake_at = 0;
    save_ti(s, t);
    heap_push(&s->ready, t, ready_before);
}

/* Expanded TIs' count changed the totals of downstream tasks: one pending TI becomes @p n TIs. */
static void expansion_done(mlf_scheduler *s, srun *r, size_t task, size_t n)
{
    const mlf_task *t = &r->dag->tasks[task];
    for (size_t d = 0; d < t->ndownstream; d++) {
        stask *ds = &r->tasks[t->downstream[d]];
        ds->up_pending_expansion--;
        ds->up.total = ds->up.total - 1 + (unsigned)(n ? n : 1);
        mark_dirty(s, r, t->downstream[d]);
    }
}

/* The environment templates render in (see dispatch.c-like helpers below). */
typedef struct render_ctx {
    mlf_scheduler *s;
    srun *run;
    const sti *ti;         /* NULL while expanding */
    mlf_value *names;      /* name -> value, filled lazily */
    mlf_value *secrets;    /* strings to mask in the try's log: passwords and sensitive variables read */
} render_ctx;

static void add_secret(render_ctx *rc, const char *secret)
{
    if (!secret || !*secret)
        return;
    if (!rc->secrets)
        rc->secrets = mlf_value_array();
    mlf_array_append(rc->secrets, mlf_value_str(secret));
}

static int render_lookup(void *ud, const char *name, const mlf_value **out);
static int render_call(void *ud, const char *name, const mlf_value *const *args, size_t nargs, mlf_value **out,
                       char *err, size_t errlen);

/* Expands mapped task @p task: renders its `expand` lists, creates one TI per combination (each
 * scheduled), or one skipped TI when a list is empty (Airflow). Returns MLF_OK, or an error with the
 * task failed (its single TI upstream of nothing: state failed, message). */
static void expand_task(mlf_scheduler *s, srun *r, size_t task)
{
    stask *st = &r->tasks[task];
    const mlf_task *t = &r->dag->tasks[task];
    render_ctx rc = {.s = s, .run = r, .names = mlf_value_map()};
    mlf_template_env env = {.lookup = render_lookup, .call = render_call, .ud = &rc};
    mlf_value *vals = NULL;
    char err[512] = "";
    int rcode = mlf_template_render_value(t->expand, &env, &vals, err, sizeof err);
    mlf_value_free(rc.names);
    mlf_value_free(rc.secrets);
    size_t n = 1;
    if (rcode == MLF_OK) {
        for (size_t i = 0; i < mlf_value_len(vals); i++) {
            const mlf_value *list = mlf_map_value_at(vals, i);
            if (mlf_value_type(list) != MLF_ARRAY) {
                snprintf(err, sizeof err, "expand.%s rendered to %s, not a list", mlf_map_key_at(vals, i),
                         mlf_type_name(mlf_value_type(list)));
                rcode = MLF_ETYPE;
                break;
            }
            n *= mlf_value_len(list);
        }
        if (rcode == MLF_OK && n > 100000) {
            snprintf(err, sizeof err, "expand creates %zu task instances; the limit is 100000", n);
            rcode = MLF_ERANGE;
        }
    }
    /* the placeholder TI (map_index -1) made at run creation */
    sti *placeholder = st->ntis ? st->tis[0] : NULL;
    st->expanded = 1;
    st->expanded_values = vals;
    if (rcode != MLF_OK || n == 0) {
        if (!placeholder) {
            placeholder = new_ti(r, task, -1);
            if (!placeholder || add_ti(st, placeholder) != MLF_OK)
                return;
            st->unfinished++;
        }
        expansion_done(s, r, task, 0);
        if (rcode != MLF_OK) {
            char msg[700];
            snprintf(msg, sizeof msg, "cannot expand: %s", err);
            mlf_log(MLF_LOG_ERROR, COMPONENT, "%s/%s/%s: %s", r->rec.dag_id, r->rec.run_id, t->task_id, msg);
            finish_ti(s, placeholder, MLF_TI_FAILED, msg);
        } else {
            finish_ti(s, placeholder, MLF_TI_SKIPPED, "expand produced no task instances (an empty list)");
        }
        return;
    }
    /* replace the -1 placeholder by map indexes 0..n-1 */
    if (placeholder) {
        mlf_store_txn *w = wtxn(s);
        mlf_ti_key key = {.dag_id = r->rec.dag_id, .run_id = r->rec.run_id, .task_id = t->task_id, .map_index = -1};
        if (w)
            mlf_store_ti_delete(w, &key);
        placeholder->map_index = 0;
    } else {
        placeholder = new_ti(r, task, 0);
        if (!placeholder || add_ti(st, placeholder) != MLF_OK)
            return;
        st->unfinished++;
    }
    for (size_t i = 1; i < n; i++) {
        sti *ti = new_ti(r, task, (int)i);
        if (!ti || add_ti(st, ti) != MLF_OK)
            break;
        st->unfinished++;
    }
    expansion_done(s, r, task, st->ntis);
    for (size_t i = 0; i < st->ntis; i++)
        schedule_ti(s, st->tis[i]);
}

/* Applies a trigger decision to every TI of @p task. */
static void decide(mlf_scheduler *s, srun *r, size_t task, mlf_trigger_decision d)
{
    stask *st = &r->tasks[task];
    st->decided = 1;
    const mlf_task *t = &r->dag->tasks[task];
    if (d == MLF_TRIGGER_RUN && t->expand && !st->expanded) {
        expand_task(s, r, task);
        return;
    }
    if (d != MLF_TRIGGER_RUN && t->expand && !st->expanded) {
        st->expanded = 1;
        expansion_done(s, r, task, 0);
    }
    for (size_t i = 0; i < st->ntis; i++) {
        sti *ti = st->tis[i];
        if (d == MLF_TRIGGER_RUN)
            schedule_ti(s, ti);
        else
            finish_ti(s, ti, d == MLF_TRIGGER_SKIP ? MLF_TI_SKIPPED : MLF_TI_UPSTREAM_FAILED, NULL);
    }
    task_maybe_complete(s, r, task);
}

/* depends_on_past: the same task (same map index) must have succeeded or been skipped in the previous run
 * (by logical date) of this DAG; with wait_for_downstream its direct downstreams too. No previous run:
 * met (Airflow's ignore_first_depends_on_past). Returns 1 when met. */
typedef struct prev_run {
    char *run_id;
} prev_run;

static int take_first_run(void *ud, const mlf_run_rec *rec)
{
    ((prev_run *)ud)->run_id = strdup(rec->run_id);
    return MLF_STORE_STOP;
}

static int ti_done_ok(mlf_store_txn *txn, const char *dag_id, const char *run_id, const char *task_id, int map_index)
{
    mlf_ti_key key = {.dag_id = dag_id, .run_id = run_id, .task_id = task_id, .map_index = map_index};
    mlf_ti_rec rec;
    mlf_ti_rec_init(&rec);
    int rc = mlf_store_ti_get(txn, &key, &rec);
    int ok = rc == MLF_OK && (rec.state == MLF_TI_SUCCESS || rec.state == MLF_TI_SKIPPED);
    if (rc == MLF_ENOTFOUND)
        ok = 1; /* the task did not exist in that run */
    mlf_ti_rec_clear(&rec);
    return ok;
}

static int past_met(mlf_scheduler *s, srun *r, size_t task)
{
    const mlf_task *t = &r->dag->tasks[task];
    if (!t->depends_on_past)
        return 1;
    mlf_store_txn *txn = wtxn(s);
    if (!txn)
        return 0;
    prev_run p = {0};
    mlf_store_run_foreach(txn, r->rec.dag_id, INT64_MIN, r->rec.logical_date, MLF_STORE_REVERSE, take_first_run, &p);
    if (!p.run_id)
        return 1;
    int ok = ti_done_ok(txn, r->rec.dag_id, p.run_id, t->task_id, -1);
    for (size_t d = 0; ok && t->wait_for_downstream && d < t->ndownstream; d++)
        ok = ti_done_ok(txn, r->rec.dag_id, p.run_id, r->dag->tasks[t->downstream[d]].task_id, -1);
    free(p.run_id);
    return ok;
}

/* A depends_on_past task finished in run @p r: the same task in the next active run may now be met. */
static void wake_next_run(mlf_scheduler *s, srun *r, size_t task)
{
    srun *next = NULL;
    for (srun *o = s->runs; o; o = o->next)
        if (o != r && !o->finished && strcmp(o->rec.dag_id, r->rec.dag_id) == 0 &&
            o->rec.logical_date > r->rec.logical_date && (!next || o->rec.logical_date < next->rec.logical_date))
            next = o;
    if (!next)
        return;
    long idx = mlf_dag_task_index(next->dag, r->dag->tasks[task].task_id);
    if (idx < 0)
        return;
    mark_dirty(s, next, (size_t)idx);
}

/* Evaluates the tasks whose upstream counters changed this turn (and new runs' roots). */
static void evaluate_dirty(mlf_scheduler *s)
{
    /* decisions can finish TIs (skip / upstream_failed), which dirties more tasks: loop until quiet */
    while (s->ndirty) {
        srun *r = s->dirty_runs[--s->ndirty];
        r->in_dirty_runs = 0;
        const mlf_dag *dag = r->dag;
        while (r->ndirty && !r->finished) {
            size_t task = r->dirty[--r->ndirty];
            stask *st = &r->tasks[task];
            st->dirty = 0;
            if (st->decided)
                continue;
            mlf_trigger_decision d = mlf_trigger_evaluate(dag->tasks[task].trigger_rule, &st->up);
            if (d == MLF_TRIGGER_RUN && st->up_pending_expansion)
                d = MLF_TRIGGER_WAIT; /* the totals are not final until every mapped upstream expanded */
            if (d == MLF_TRIGGER_RUN && !past_met(s, r, task))
                d = MLF_TRIGGER_WAIT;
            if (d != MLF_TRIGGER_WAIT)
                decide(s, r, task, d);
        }
    }
}

/* ------------------------------------------------------------------------------------------ runs */

/* A run whose tasks are all complete (or that cannot progress): success when every leaf succeeded or was
 * skipped, failed otherwise (Airflow's DagRun.update_state). */
static void finalize_run(mlf_scheduler *s, srun *r, int deadlock)
{
    if (r->finished)
        return;
    int failed = deadlock;
    for (size_t i = 0; i < r->dag->ntasks && !failed; i++) {
        if (!mlf_task_is_leaf(&r->dag->tasks[i]))
            continue;
        const stask *st = &r->tasks[i];
        for (size_t k = 0; k < st->ntis; k++)
            if (st->tis[k]->state == MLF_TI_FAILED || st->tis[k]->state == MLF_TI_UPSTREAM_FAILED)
                failed = 1;
    }
    r->finished = 1;
    r->rec.state = failed ? MLF_RUN_FAILED : MLF_RUN_SUCCESS;
    r->rec.end_date = mlf_time_now();
    if (deadlock) {
        free(r->rec.note);
        r->rec.note = strdup("deadlock: some tasks can never run (their trigger rules can never be met)");
    }
    save_run(s, r);
    sdag *sd = find_sdag(s, r->rec.dag_id);
    if (sd && sd->active_runs)
        sd->active_runs--;
    if (sd) { /* a slot under max_active_runs may have opened: look at this DAG's schedule on the next turn */
        sd->next_check = 0;
        s->next_dag_check = 0;
    }
    mlf_log(MLF_LOG_INFO, COMPONENT, "DAG run %s/%s finished: %s", r->rec.dag_id, r->rec.run_id,
            mlf_run_state_name(r->rec.state));
    const mlf_value *cb = failed ? r->dag->on_failure_callback : r->dag->on_success_callback;
    if (cb) {
        mlf_value *ev = mlf_value_map();
        char ts[64];
        mlf_time_format_ts(r->rec.logical_date, ts, sizeof ts);
        mlf_map_set(ev, "dag_id", mlf_value_str(r->rec.dag_id));
        mlf_map_set(ev, "run_id", mlf_value_str(r->rec.run_id));
        mlf_map_set(ev, "state", mlf_value_str(mlf_run_state_name(r->rec.state)));
        mlf_map_set(ev, "logical_date", mlf_value_str(ts));
        mlf_map_set(ev, "message", r->rec.note ? mlf_value_str(r->rec.note) : mlf_value_nil());
        run_callback(s, cb, failed ? "on_failure_callback" : "on_success_callback", ev);
        mlf_value_free(ev);
    }
    if (s->o.on_run_finished)
        s->o.on_run_finished(s->o.ud, r->rec.dag_id, r->rec.run_id, r->rec.state);
}

/* ------------------------------------------------------------------------------------------ rendering */

static mlf_value *time_str(mlf_time_us t, int (*fmt)(mlf_time_us, char *, size_t))
{
    char buf[64];
    if (fmt(t, buf, sizeof buf) != MLF_OK)
        return mlf_value_nil();
    return mlf_value_str(buf);
}

static int fmt_iso(mlf_time_us t, char *buf, size_t n)
{
    return mlf_time_format_ts(t, buf, n);
}

typedef struct collect_ctx {
    mlf_value *map;
    struct render_ctx *rc;
} collect_ctx;

static void add_secret(struct render_ctx *rc, const char *secret);

static int collect_var(void *ud, const mlf_var_rec *rec)
{
    collect_ctx *c = ud;
    mlf_map_set(c->map, rec->key, mlf_value_str(rec->val ? rec->val : ""));
    if (mlf_is_sensitive_name(rec->key))
        add_secret(c->rc, rec->val);
    return 0;
}

static mlf_value *conn_fields(const mlf_conn_rec *c)
{
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "conn_id", mlf_value_str(c->conn_id));
    mlf_map_set(m, "conn_type", c->conn_type ? mlf_value_str(c->conn_type) : mlf_value_nil());
    mlf_map_set(m, "host", c->host ? mlf_value_str(c->host) : mlf_value_nil());
    mlf_map_set(m, "port", c->port ? mlf_value_int(c->port) : mlf_value_nil());
    mlf_map_set(m, "login", c->login ? mlf_value_str(c->login) : mlf_value_nil());
    mlf_map_set(m, "password", c->password ? mlf_value_str(c->password) : mlf_value_nil());
    mlf_map_set(m, "schema", c->schema ? mlf_value_str(c->schema) : mlf_value_nil());
    mlf_value *extra = NULL;
    if (!c->extra || mlf_value_unpack(c->extra, c->extra_len, &extra) != MLF_OK || mlf_value_type(extra) != MLF_MAP) {
        mlf_value_free(extra);
        extra = mlf_value_map();
    }
    mlf_map_set(m, "extra", extra);
    return m;
}

static int collect_conn(void *ud, const mlf_conn_rec *rec)
{
    collect_ctx *c = ud;
    mlf_map_set(c->map, rec->conn_id, conn_fields(rec));
    add_secret(c->rc, rec->password);
    return 0;
}

/* xcom.TASK is the task's return_value (a list over map indexes for a mapped task); other keys pushed by
 * the task are reachable as xcom.TASK.KEY when return_value is absent or a map. */
static mlf_value *xcom_view(const mlf_value *per_task)
{
    if (mlf_value_type(per_task) == MLF_ARRAY) {
        mlf_value *arr = mlf_value_array();
        for (size_t i = 0; i < mlf_value_len(per_task); i++) {
            const mlf_value *rv = mlf_map_get(mlf_array_at(per_task, i), MLF_XCOM_RETURN_KEY);
            mlf_array_append(arr, rv ? mlf_value_copy(rv) : mlf_value_nil());
        }
        return arr;
    }
    const mlf_value *rv = mlf_map_get(per_task, MLF_XCOM_RETURN_KEY);
    if (mlf_value_len(per_task) <= 1 || (rv && mlf_value_type(rv) != MLF_MAP))
        return rv ? mlf_value_copy(rv) : mlf_value_nil();
    mlf_value *m = rv ? mlf_value_copy(rv) : mlf_value_map();
    for (size_t i = 0; i < mlf_value_len(per_task); i++)
        if (strcmp(mlf_map_key_at(per_task, i), MLF_XCOM_RETURN_KEY) != 0)
            mlf_map_set(m, mlf_map_key_at(per_task, i), mlf_value_copy(mlf_map_value_at(per_task, i)));
    return m;
}

/* prev_ds's date, as Airflow 2 computes prev_execution_date: the schedule's time before the run's logical date
 * (not the logical date minus this run's interval, which differs for @monthly and the like); a run triggered by
 * hand has no schedule behind it: its own logical date. next_ds is the end of a scheduled run's interval (where
 * the next one starts), or a triggered run's logical date. */
static mlf_time_us prev_schedule(const render_ctx *rc, const mlf_run_rec *rec)
{
    if (rec->external_trigger)
        return rec->logical_date;
    sdag *sd = rc->s ? find_sdag(rc->s, rec->dag_id) : NULL;
    mlf_interval iv;
    if (sd && sd->sched && mlf_schedule_kind_of(sd->sched) != MLF_SCHEDULE_NONE &&
        mlf_schedule_infer_manual(sd->sched, rec->logical_date, &iv) == MLF_OK &&
        iv.data_interval_end == rec->logical_date)
        return iv.data_interval_start; /* the interval that ends where this run's begins */
    mlf_time_us span = rec->data_interval_end - rec->data_interval_start;
    return rec->logical_date - (span > 0 ? span : 0);
}

static int render_lookup(void *ud, const char *name, const mlf_value **out)
{
    render_ctx *rc = ud;
    const mlf_value *have = mlf_map_get(rc->names, name);
    if (have) {
        *out = have;
        return MLF_OK;
    }
    const srun *r = rc->run;
    const mlf_run_rec *rec = &r->rec;
    mlf_value *v = NULL;
    mlf_time_us span = rec->data_interval_end - rec->data_interval_start;
    if (strcmp(name, "ds") == 0)
        v = time_str(rec->logical_date, mlf_time_format_ds);
    else if (strcmp(name, "ds_nodash") == 0)
        v = time_str(rec->logical_date, mlf_time_format_ds_nodash);
    else if (strcmp(name, "ts") == 0 || strcmp(name, "logical_date") == 0)
        v = time_str(rec->logical_date, fmt_iso);
    else if (strcmp(name, "ts_nodash") == 0)
        v = time_str(rec->logical_date, mlf_time_format_ts_nodash);
    else if (strcmp(name, "data_interval_start") == 0)
        v = time_str(rec->data_interval_start, fmt_iso);
    else if (strcmp(name, "data_interval_end") == 0)
        v = time_str(rec->data_interval_end, fmt_iso);
    else if (strcmp(name, "prev_ds") == 0)
        v = time_str(prev_schedule(rc, rec), mlf_time_format_ds);
    else if (strcmp(name, "prev_ds_nodash") == 0)
        v = time_str(prev_schedule(rc, rec), mlf_time_format_ds_nodash);
    else if (strcmp(name, "next_ds") == 0)
        v = time_str(rec->external_trigger ? rec->logical_date : rec->logical_date + (span > 0 ? span : 0),
                     mlf_time_format_ds);
    else if (strcmp(name, "next_ds_nodash") == 0)
        v = time_str(rec->external_trigger ? rec->logical_date : rec->logical_date + (span > 0 ? span : 0),
                     mlf_time_format_ds_nodash);
    else if (strcmp(name, "run_id") == 0)
        v = mlf_value_str(rec->run_id);
    else if (strcmp(name, "dag_id") == 0)
        v = mlf_value_str(rec->dag_id);
    else if (strcmp(name, "task_id") == 0 && rc->ti)
        v = mlf_value_str(r->dag->tasks[rc->ti->task].task_id);
    else if (strcmp(name, "try_number") == 0 && rc->ti)
        v = mlf_value_int(rc->ti->try_number);
    else if (strcmp(name, "map_index") == 0 && rc->ti)
        v = mlf_value_int(rc->ti->map_index);
    else if (strcmp(name, "params") == 0)
        v = mlf_value_copy(r->params);
    else if (strcmp(name, "dag_run") == 0) {
        v = mlf_value_map();
        mlf_map_set(v, "conf", r->conf ? mlf_value_copy(r->conf) : mlf_value_map());
        mlf_map_set(v, "run_id", mlf_value_str(rec->run_id));
        mlf_map_set(v, "run_type", mlf_value_str(mlf_run_type_name(rec->run_type)));
        mlf_map_set(v, "logical_date", time_str(rec->logical_date, fmt_iso));
    } else if (strcmp(name, "var") == 0) {
        v = mlf_value_map();
        collect_ctx cc = {.map = v, .rc = rc};
        mlf_store_txn *txn = wtxn(rc->s);
        if (txn)
            mlf_store_var_foreach(txn, collect_var, &cc);
    } else if (strcmp(name, "conn") == 0) {
        v = mlf_value_map();
        collect_ctx cc = {.map = v, .rc = rc};
        mlf_store_txn *txn = wtxn(rc->s);
        if (txn)
            mlf_store_conn_foreach(txn, collect_conn, &cc);
    } else if (strcmp(name, "xcom") == 0) {
        /* the run's view, kept up to date as XComs arrive (O(1) here): a task that pushed nothing (yet, or
         * skipped) reads as None, as Airflow's xcom_pull returns None */
        *out = r->xcom_view;
        return MLF_OK;
    } else {
        return MLF_ENOTFOUND;
    }
    if (!v || mlf_map_set(rc->names, name, v) != MLF_OK)
        return MLF_ENOMEM;
    *out = mlf_map_get(rc->names, name);
    return MLF_OK;
}

static int render_call(void *ud, const char *name, const mlf_value *const *args, size_t nargs, mlf_value **out,
                       char *err, size_t errlen)
{
    render_ctx *rc = ud;
    const mlf_reg_entry *e = mlf_catalog_find(rc->s->o.cat, MLF_REG_MACRO, name);
    if (!e) { /* built-in macros (ds_add, ds_format) when no plugin registered one of that name */
        int brc = mlf_template_call_builtin(NULL, name, args, nargs, out, err, errlen);
        if (brc != MLF_ENOTFOUND)
            return brc;
        snprintf(err, errlen, "no macro named '%s' is registered", name);
        return MLF_ENOTFOUND;
    }
    const mlf_macro_desc *m = e->desc;
    if ((int)nargs < m->min_args || (m->max_args >= 0 && (int)nargs > m->max_args)) {
        snprintf(err, errlen, "macro %s() takes %d to %d arguments, got %zu", name, m->min_args, m->max_args, nargs);
        return MLF_EINVAL;
    }
    err[0] = '\0';
    return m->call(args, nargs, out, err, errlen, m->data);
}

/* ------------------------------------------------------------------------------------------ dispatch */

static void random_token(char out[33])
{
    /* 64 random bits, as 16 hex digits: the store keeps lease tokens as uint64 */
    uint64_t v;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        /* no entropy (very early boot): time and a counter still make tokens unique in this process */
        static uint64_t counter;
        v = (uint64_t)mlf_time_now() * 1000003u + ++counter;
    }
    if (!v)
        v = 1;
    snprintf(out, 33, "%016llx", (unsigned long long)v);
}

char *mlf_ti_log_path(const char *home, const char *dag_id, const char *run_id, const char *task_id, int map_index,
                      int try_number)
{
    if (map_index >= 0)
        return mlf_strdup_printf("%s/logs/%s/%s/%s/%d.%d.log", home, dag_id, run_id, task_id, map_index, try_number);
    return mlf_strdup_printf("%s/logs/%s/%s/%s/%d.log", home, dag_id, run_id, task_id, try_number);
}

static int pool_index(mlf_scheduler *s, const char *name)
{
    for (size_t i = 0; i < s->npools; i++)
        if (strcmp(s->pools[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void add_running(mlf_scheduler *s, sti *t)
{
    if (s->nrunning == s->caprunning) {
        size_t cap = s->caprunning ? s->caprunning * 2 : 64;
        sti **v = realloc(s->running, cap * sizeof *v);
        if (!v)
            return;
        s->running = v;
        s->caprunning = cap;
    }
    s->running[s->nrunning++] = t;
}

static sti *take_running(mlf_scheduler *s, const char *attempt)
{
    for (size_t i = 0; i < s->nrunning; i++)
        if (strcmp(s->running[i]->attempt, attempt) == 0) {
            sti *t = s->running[i];
            s->running[i] = s->running[--s->nrunning];
            return t;
        }
    return NULL;
}

static void release_slots(mlf_scheduler *s, sti *t)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    int p = pool_index(s, task->pool);
    if (p >= 0)
        s->pool_used[p] -= task->pool_slots;
    sdag *sd = find_sdag(s, t->run->rec.dag_id);
    if (sd && sd->running_tis)
        sd->running_tis--;
}

/* The operator parameters of one TI: the task's params with a mapped TI's element of each expand list
 * (combinations in row-major order), templated ones rendered. */
static int render_params(mlf_scheduler *s, sti *t, render_ctx *rc, mlf_value **out, char *err, size_t errlen)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    const stask *st = &t->run->tasks[t->task];
    mlf_value *params = mlf_value_copy(task->params);
    if (!params)
        return MLF_ENOMEM;
    if (st->expanded_values && t->map_index >= 0) {
        size_t idx = (size_t)t->map_index;
        for (size_t i = mlf_value_len(st->expanded_values); i-- > 0;) {
            const mlf_value *list = mlf_map_value_at(st->expanded_values, i);
            size_t n = mlf_value_len(list);
            mlf_map_set(params, mlf_map_key_at(st->expanded_values, i), mlf_value_copy(mlf_array_at(list, idx % n)));
            idx /= n;
        }
    }
    mlf_template_env env = {.lookup = render_lookup, .call = render_call, .ud = rc};
    for (const mlf_param_spec *p = task->op->params; p && p->name; p++) {
        const mlf_value *v = mlf_map_get(params, p->name);
        if (!v || !(p->flags & MLF_PARAM_TEMPLATED))
            continue;
        mlf_value *r = NULL;
        char e[512];
        int rc2 = mlf_template_render_value(v, &env, &r, e, sizeof e);
        if (rc2 != MLF_OK) {
            snprintf(err, errlen, "rendering %s: %s", p->name, e);
            mlf_value_free(params);
            return rc2;
        }
        mlf_map_set(params, p->name, r);
    }
    (void)s;
    *out = params;
    return MLF_OK;
}

/* The XComs a TI may pull (mlf_ctx_xcom_pull): those of its direct upstream tasks, as task_id -> {key:
 * value}; a mapped upstream gives each key a list with one element per map index. Bounded by the TI's
 * upstream edges, so dispatch never copies a whole run's XComs. */
static mlf_value *xcom_inputs(const srun *r, const mlf_task *task)
{
    mlf_value *in = mlf_value_map();
    for (size_t u = 0; in && u < task->nupstream; u++) {
        const char *id = r->dag->tasks[task->upstream[u]].task_id;
        const mlf_value *per = mlf_map_get(r->xcoms, id);
        if (!per)
            continue;
        if (mlf_value_type(per) != MLF_ARRAY) {
            mlf_map_set(in, id, mlf_value_copy(per));
            continue;
        }
        /* one pass per distinct key: [value at map index 0, 1, ...] (nil where an index pushed none) */
        mlf_value *byk = mlf_value_map();
        for (size_t i = 0; byk && i < mlf_value_len(per); i++) {
            const mlf_value *one = mlf_array_at(per, i);
            for (size_t k = 0; k < mlf_value_len(one); k++) {
                const char *key = mlf_map_key_at(one, k);
                if (mlf_map_get(byk, key))
                    continue;
                mlf_value *arr = mlf_value_array();
                for (size_t j = 0; arr && j < mlf_value_len(per); j++) {
                    const mlf_value *v = mlf_map_get(mlf_array_at(per, j), key);
                    mlf_array_append(arr, v ? mlf_value_copy(v) : mlf_value_nil());
                }
                mlf_map_set(byk, key, arr);
            }
        }
        mlf_map_set(in, id, byk);
    }
    return in;
}

static void dispatch_ti(mlf_scheduler *s, sti *t, mlf_time_us now)
{
    srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    sdag *sd = find_sdag(s, r->rec.dag_id);
    t->try_number++;
    random_token(t->attempt);
    set_message(t, NULL); /* a waiting reason from dispatch, or the previous try's outcome */
    t->queued_at = now;
    t->start_date = now;
    t->end_date = 0;
    if ((task->op->flags & MLF_OP_SENSOR) && !t->first_poke_at)
        t->first_poke_at = now;
    char err[700] = "";
    render_ctx rc = {.s = s, .run = r, .ti = t, .names = mlf_value_map()};
    mlf_value *params = NULL;
    int rcode = render_params(s, t, &rc, &params, err, sizeof err);
    mlf_value_free(rc.names);
    mlf_value *secrets = rc.secrets; /* freed below, after the spec is encoded */
    if (rcode != MLF_OK) {
        mlf_value_free(secrets);
        mlf_log(MLF_LOG_ERROR, COMPONENT, "%s/%s/%s: %s", r->rec.dag_id, r->rec.run_id, task->task_id, err);
        finish_ti(s, t, MLF_TI_FAILED, err);
        return;
    }
    if (task->op->flags & MLF_OP_SENSOR) {
        /* poke mode polls inside the task process; its timeout is what is left of the sensor's */
        mlf_map_set(params, "poke_interval", mlf_value_int(task->sensor.poke_interval_us));
        int64_t left = task->sensor.timeout_us - (now - t->first_poke_at);
        mlf_map_set(params, "timeout", mlf_value_int(left > 0 ? left : 1));
        mlf_map_set(params, "soft_fail", mlf_value_bool(task->sensor.soft_fail));
        mlf_map_set(params, "exponential_backoff", mlf_value_bool(task->sensor.exponential_backoff));
    }
    const char **down = calloc(task->ndownstream + 1, sizeof *down);
    for (size_t d = 0; down && d < task->ndownstream; d++)
        down[d] = r->dag->tasks[task->downstream[d]].task_id;
    char *log_path = mlf_ti_log_path(s->home, r->rec.dag_id, r->rec.run_id, task->task_id, t->map_index, t->try_number);
    const mlf_reg_entry *e = mlf_catalog_find(s->o.cat, MLF_REG_OPERATOR, task->operator_name);
    mlf_task_spec spec = {
        .dag_id = r->rec.dag_id, .task_id = task->task_id, .run_id = r->rec.run_id, .map_index = t->map_index,
        .try_number = t->try_number, .attempt = t->attempt, .operator_name = task->operator_name,
        .plugin_path = e && e->owner ? e->owner->path : "", .is_branch = (task->op->flags & MLF_OP_BRANCH) != 0,
        .downstream = down, .ndownstream = task->ndownstream, .params = params, .dag_params = r->params,
        .xcom_inputs = NULL, .logical_date = r->rec.logical_date,
        .data_interval_start = r->rec.data_interval_start, .data_interval_end = r->rec.data_interval_end,
        .log_path = log_path, .xcom_max_size = s->xcom_max, .execution_timeout = task->execution_timeout_us,
        .sensor_poke = (task->op->flags & MLF_OP_SENSOR) && task->sensor.mode == MLF_SENSOR_POKE};
    mlf_value *inputs = xcom_inputs(r, task);
    spec.xcom_inputs = inputs;
    /* the connection the operator names (conn_id), from the store or MLFLOWD_CONN_<ID>; its password is
     * masked in the try's log */
    mlf_value *conns = mlf_value_map();
    const char *conn_id = mlf_value_get_str(mlf_map_get(params, "conn_id"), NULL);
    mlf_store_txn *ctxn = conn_id ? wtxn(s) : NULL;
    mlf_value *fields = NULL;
    char cerr[256];
    if (ctxn && conns && mlf_conn_resolve(ctxn, conn_id, &fields, cerr, sizeof cerr) == MLF_OK) {
        add_secret(&rc, mlf_value_get_str(mlf_map_get(fields, "password"), NULL));
        mlf_map_set(conns, conn_id, fields);
    }
    spec.connections = conns;
    secrets = rc.secrets;
    size_t nsec = mlf_value_len(secrets);
    const char **secret = nsec ? calloc(nsec, sizeof *secret) : NULL;
    for (size_t i = 0; secret && i < nsec; i++)
        secret[i] = mlf_value_get_str(mlf_array_at(secrets, i), NULL);
    spec.secrets = secret;
    spec.nsecrets = secret ? nsec : 0;
    mlf_value *specv = NULL;
    rcode = down && log_path && inputs ? mlf_task_spec_encode(&spec, &specv) : MLF_ENOMEM;
    mlf_value_free(inputs);
    mlf_value_free(conns);
    free(secret);
    mlf_value_free(secrets);
    if (rcode == MLF_OK) {
        s->submitting = t;
        rcode = s->ex.ops->submit(s->ex.impl, specv, task->queue, now, err, sizeof err);
        s->submitting = NULL;
    }
    else
        snprintf(err, sizeof err, "cannot build the task spec: %s", mlf_strerror(rcode));
    mlf_value_free(specv);
    mlf_value_free(params);
    free(down);
    free(log_path);
    if (rcode != MLF_OK) {
        finish_ti(s, t, MLF_TI_FAILED, err);
        return;
    }
    t->state = MLF_TI_RUNNING;
    save_ti(s, t);
    add_running(s, t);
    int p = pool_index(s, task->pool);
    if (p >= 0)
        s->pool_used[p] += task->pool_slots;
    if (sd)
        sd->running_tis++;
}

/* Hands ready TIs to the executor by priority while parallelism, the DAG's max_active_tasks and the pool
 * allow; TIs held back by a DAG or pool limit wait for the next turn. */
static void dispatch(mlf_scheduler *s, mlf_time_us now)
{
    sti **held = NULL;
    size_t nheld = 0, capheld = 0;
    size_t refused = 0;
    while (!s->draining && s->ready.n && refused < 64) {
        sti *t = heap_pop(&s->ready, ready_before);
        const mlf_task *task = &t->run->dag->tasks[t->task];
        sdag *sd = find_sdag(s, t->run->rec.dag_id);
        int p = pool_index(s, task->pool);
        int hold = (sd && sd->paused) || (sd && sd->running_tis >= t->run->dag->max_active_tasks) ||
                   (p >= 0 && s->pools[p].slots >= 0 && s->pool_used[p] + task->pool_slots > s->pools[p].slots);
        if (p < 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "pool '%s' does not exist (create it with mlflowd pools set)", task->pool);
            finish_ti(s, t, MLF_TI_FAILED, msg);
            continue;
        }
        char why[256] = "";
        if (!hold && !s->ex.ops->can_accept(s->ex.impl, task->queue, task->operator_name, why, sizeof why)) {
            if (!s->is_zmq) { /* the local executor is simply full: nothing else can start this turn */
                heap_push(&s->ready, t, ready_before);
                break;
            }
            /* remote workers: nothing serves this queue/operator now, or all its workers are busy; record why
             * once (`mlflowd tasks state` shows it) and try the next TI */
            hold = 1;
            refused++;
            if (!t->message || strcmp(t->message, why) != 0) {
                set_message(t, why);
                save_ti(s, t);
            }
        }
        if (hold) {
            if (nheld == capheld) {
                capheld = capheld ? capheld * 2 : 32;
                sti **v = realloc(held, capheld * sizeof *v);
                if (!v) {
                    heap_push(&s->ready, t, ready_before);
                    break;
                }
                held = v;
            }
            held[nheld++] = t;
            continue;
        }
        dispatch_ti(s, t, now);
    }
    for (size_t i = 0; i < nheld; i++)
        heap_push(&s->ready, held[i], ready_before);
    free(held);
}

/* ------------------------------------------------------------------------------------------ results */

static int64_t retry_delay(const mlf_task *task, int try_number)
{
    int64_t delay = task->retry_delay_us;
    if (task->retry_exponential_backoff) {
        /* Airflow: retry_delay * 2 ** (try_number - 1), capped by max_retry_delay */
        for (int i = 1; i < try_number && delay < MAX_RETRY_DELAY_US; i++)
            delay *= 2;
    }
    int64_t cap = task->max_retry_delay_us ? task->max_retry_delay_us : MAX_RETRY_DELAY_US;
    return delay < cap ? delay : cap;
}

static void store_xcoms(mlf_scheduler *s, sti *t, const mlf_value *xcoms)
{
    srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    mlf_store_txn *w = wtxn(s);
    mlf_ti_key key = {.dag_id = r->rec.dag_id, .run_id = r->rec.run_id, .task_id = task->task_id, .map_index = t->map_index};
    for (size_t i = 0; i < mlf_value_len(xcoms); i++) {
        void *buf;
        size_t len;
        if (w && mlf_value_pack(mlf_map_value_at(xcoms, i), &buf, &len) == MLF_OK) {
            note_store(s, mlf_store_xcom_put(w, &key, mlf_map_key_at(xcoms, i), buf, len), "xcom");
            free(buf);
        }
    }
    /* the run's cache: task -> {key: value}, or task -> [ {key: value} per map index ] */
    if (task->expand) {
        const mlf_value *arr = mlf_map_get(r->xcoms, task->task_id);
        if (!arr) {
            mlf_value *na = mlf_value_array();
            for (size_t i = 0; na && i < r->tasks[t->task].ntis; i++)
                mlf_array_append(na, mlf_value_map());
            mlf_map_set(r->xcoms, task->task_id, na);
            arr = mlf_map_get(r->xcoms, task->task_id);
        }
        mlf_value *slot = (mlf_value *)mlf_array_at(arr, (size_t)t->map_index);
        for (size_t i = 0; slot && i < mlf_value_len(xcoms); i++)
            mlf_map_set(slot, mlf_map_key_at(xcoms, i), mlf_value_copy(mlf_map_value_at(xcoms, i)));
    } else {
        mlf_value *m = mlf_value_copy(xcoms);
        if (m)
            mlf_map_set(r->xcoms, task->task_id, m);
    }
    const mlf_value *per = mlf_map_get(r->xcoms, task->task_id);
    if (per && r->xcom_view)
        mlf_map_set(r->xcom_view, task->task_id, xcom_view(per));
}

/* Branching: direct downstream tasks the operator did not follow are skipped (Airflow's skip_all_except). */
static void apply_branch(mlf_scheduler *s, sti *t, const mlf_task_result *res)
{
    srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    for (size_t d = 0; d < task->ndownstream; d++) {
        const char *id = r->dag->tasks[task->downstream[d]].task_id;
        int followed = 0;
        for (size_t f = 0; f < res->nfollowed && !followed; f++)
            followed = strcmp(res->followed[f], id) == 0;
        if (!followed && !r->tasks[task->downstream[d]].decided)
            decide(s, r, task->downstream[d], MLF_TRIGGER_SKIP);
    }
}

static void on_result(void *ud, const mlf_task_result *res)
{
    mlf_scheduler *s = ud;
    sti *t = take_running(s, res->attempt);
    if (!t) {
        mlf_log(MLF_LOG_WARNING, COMPONENT, "ignoring a result for attempt %s: it is not the current try of any task",
                res->attempt);
        return;
    }
    release_slots(s, t);
    srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    mlf_time_us now = mlf_time_now();
    free(t->hostname);
    t->hostname = res->hostname ? strdup(res->hostname) : NULL;
    t->pid = (int)res->pid;
    if (res->start_date)
        t->start_date = res->start_date;
    t->end_date = res->end_date ? res->end_date : now;
    if (mlf_value_len(res->xcoms))
        store_xcoms(s, t, res->xcoms);
    switch (res->outcome) {
    case MLF_SUCCESS:
        if (task->op->flags & MLF_OP_BRANCH)
            apply_branch(s, t, res);
        finish_ti(s, t, MLF_TI_SUCCESS, res->message);
        break;
    case MLF_SKIPPED:
        finish_ti(s, t, MLF_TI_SKIPPED, res->message);
        break;
    case MLF_RESCHEDULE:
        if ((task->op->flags & MLF_OP_SENSOR) && now - t->first_poke_at >= task->sensor.timeout_us) {
            finish_ti(s, t, task->sensor.soft_fail ? MLF_TI_SKIPPED : MLF_TI_FAILED,
                      task->sensor.soft_fail ? "sensor timed out; skipped (soft_fail)" : "sensor timed out");
            break;
        }
        /* a reschedule is not a try (Airflow gives the try number back) */
        t->try_number--;
        t->state = MLF_TI_UP_FOR_RESCHEDULE;
        {
            int64_t interval = task->sensor.poke_interval_us;
            t->wake_at = res->reschedule_at > now ? res->reschedule_at : now + interval;
        }
        set_message(t, res->message);
        save_ti(s, t);
        t->in_timer = 1;
        heap_push(&s->timers, t, timer_before);
        break;
    case MLF_FAILED:
        if (t->try_number < t->max_tries) {
            t->state = MLF_TI_UP_FOR_RETRY;
            int64_t delay = retry_delay(task, t->try_number);
            t->wake_at = now + delay;
            set_message(t, res->message);
            save_ti(s, t);
            t->in_timer = 1;
            heap_push(&s->timers, t, timer_before);
            ti_callback(s, t, MLF_TI_UP_FOR_RETRY);
            char in[32];
            if (mlf_duration_format(delay, in, sizeof in) != MLF_OK)
                snprintf(in, sizeof in, "%lld us", (long long)delay);
            mlf_log(MLF_LOG_INFO, COMPONENT, "%s/%s/%s try %d failed (%s); retrying in %s", r->rec.dag_id,
                    r->rec.run_id, task->task_id, t->try_number, res->message ? res->message : "no message", in);
            break;
        }
        /* fall through */
    case MLF_FAILED_NO_RETRY:
    default:
        finish_ti(s, t, MLF_TI_FAILED, res->message);
        break;
    }
}

static void process_timers(mlf_scheduler *s, mlf_time_us now)
{
    while (s->timers.n && s->timers.v[0]->wake_at <= now) {
        sti *t = heap_pop(&s->timers, timer_before);
        t->in_timer = 0;
        if (t->state == MLF_TI_UP_FOR_RETRY || t->state == MLF_TI_UP_FOR_RESCHEDULE)
            schedule_ti(s, t);
    }
}

/* ------------------------------------------------------------------------------------------ run creation */

/* Starts a queued run: it becomes running and its roots (and `always` tasks) are evaluated. */
static void start_run(mlf_scheduler *s, srun *r)
{
    r->rec.state = MLF_RUN_RUNNING;
    r->rec.start_date = mlf_time_now();
    save_run(s, r);
    /* every undecided task once (roots run; a cleared run resumes where its finished upstreams allow) */
    for (size_t i = 0; i < r->dag->ntasks; i++)
        mark_dirty(s, r, i);
    if (r->dag->ntasks == 0)
        finalize_run(s, r, 0);
}

/* Queued runs start in logical-date order while the DAG has fewer than max_active_runs running. */
static void start_queued_runs(mlf_scheduler *s)
{
    for (;;) {
        srun *best = NULL;
        for (srun *r = s->runs; r; r = r->next) {
            if (r->finished || r->rec.state != MLF_RUN_QUEUED)
                continue;
            sdag *sd = find_sdag(s, r->rec.dag_id);
            if (sd && (sd->paused || sd->active_runs >= r->dag->max_active_runs))
                continue;
            if (!best || r->rec.logical_date < best->rec.logical_date)
                best = r;
        }
        if (!best)
            return;
        sdag *sd = find_sdag(s, best->rec.dag_id);
        if (sd)
            sd->active_runs++;
        start_run(s, best);
    }
}

static int run_exists(mlf_store_txn *txn, const char *dag_id, const char *run_id, mlf_time_us logical_date)
{
    mlf_run_rec rec;
    mlf_run_rec_init(&rec);
    int rc = mlf_store_run_get(txn, dag_id, run_id, &rec);
    mlf_run_rec_clear(&rec);
    if (rc == MLF_OK)
        return 1;
    prev_run p = {0};
    mlf_store_run_foreach(txn, dag_id, logical_date, logical_date + 1, 0, take_first_run, &p);
    free(p.run_id);
    return p.run_id != NULL;
}

static int create_run_iv(mlf_scheduler *s, mlf_dag *dag, mlf_run_type type, const mlf_interval *iv, const char *run_id,
                         const mlf_value *conf, char *run_id_out, size_t run_id_len, char *err, size_t errlen)
{
    char ts[64], idbuf[160];
    if (!run_id) {
        mlf_time_format_ts(iv->logical_date, ts, sizeof ts);
        snprintf(idbuf, sizeof idbuf, "%s__%s", mlf_run_type_name(type), ts);
        run_id = idbuf;
    }
    mlf_store_txn *w = wtxn(s);
    if (!w) {
        snprintf(err, errlen, "the state store is not writable: %s", mlf_strerror(s->store_error));
        return s->store_error ? s->store_error : MLF_EIO;
    }
    if (run_exists(w, dag->dag_id, run_id, iv->logical_date)) {
        snprintf(err, errlen, "DAG %s already has a run with id %s or logical date %s", dag->dag_id, run_id,
                 (mlf_time_format_ts(iv->logical_date, ts, sizeof ts), ts));
        return MLF_EEXIST;
    }
    mlf_run_rec rec;
    mlf_run_rec_init(&rec);
    rec.dag_id = dag->dag_id;
    rec.run_id = (char *)run_id;
    rec.logical_date = iv->logical_date;
    rec.data_interval_start = iv->data_interval_start;
    rec.data_interval_end = iv->data_interval_end;
    rec.state = MLF_RUN_QUEUED;
    rec.run_type = type;
    rec.external_trigger = type == MLF_RUN_TYPE_MANUAL;
    rec.queued_at = mlf_time_now();
    void *cbuf = NULL;
    size_t clen = 0;
    if (conf && mlf_value_pack(conf, &cbuf, &clen) == MLF_OK) {
        rec.conf = cbuf;
        rec.conf_len = clen;
    }
    int rc = mlf_store_run_put(w, &rec);
    srun *r = rc == MLF_OK ? make_run(dag, &rec) : NULL;
    free(cbuf);
    if (!r) {
        snprintf(err, errlen, "cannot create the run: %s", mlf_strerror(rc ? rc : MLF_ENOMEM));
        return rc ? rc : MLF_ENOMEM;
    }
    /* every task gets its TI record now (a mapped task: its placeholder, map index -1) */
    for (size_t i = 0; i < dag->ntasks; i++) {
        sti *t = new_ti(r, i, -1);
        if (!t || add_ti(&r->tasks[i], t) != MLF_OK) {
            free(t);
            free_run(r);
            return MLF_ENOMEM;
        }
        r->tasks[i].unfinished = 1;
        save_ti(s, t);
    }
    r->next = s->runs;
    s->runs = r;
    if (run_id_out)
        mlf_strlcpy(run_id_out, run_id, run_id_len);
    mlf_log(MLF_LOG_INFO, COMPONENT, "created DAG run %s/%s", dag->dag_id, run_id);
    return MLF_OK;
}

int mlf_scheduler_create_run(mlf_scheduler *s, const mlf_dag *dag_c, mlf_run_type type, mlf_time_us logical_date,
                             const char *run_id, const mlf_value *conf, char *run_id_out, size_t run_id_len,
                             char *err, size_t errlen)
{
    mlf_dag *dag = (mlf_dag *)dag_c;
    sdag *sd = find_sdag(s, dag->dag_id);
    mlf_interval iv = {.logical_date = logical_date, .data_interval_start = logical_date,
                       .data_interval_end = logical_date, .run_after = logical_date};
    if (sd && sd->sched && mlf_schedule_kind_of(sd->sched) != MLF_SCHEDULE_NONE)
        mlf_schedule_infer_manual(sd->sched, logical_date, &iv);
    iv.logical_date = logical_date;
    return create_run_iv(s, dag, type, &iv, run_id, conf, run_id_out, run_id_len, err, errlen);
}

int mlf_scheduler_create_run_interval(mlf_scheduler *s, const mlf_dag *dag, mlf_run_type type,
                                      mlf_time_us data_interval_start, mlf_time_us data_interval_end,
                                      mlf_time_us logical_date, char *run_id_out, size_t run_id_len, char *err,
                                      size_t errlen)
{
    mlf_interval iv = {.data_interval_start = data_interval_start, .data_interval_end = data_interval_end,
                       .logical_date = logical_date, .run_after = data_interval_end};
    return create_run_iv(s, (mlf_dag *)dag, type, &iv, NULL, NULL, run_id_out, run_id_len, err, errlen);
}

static int take_last_scheduled(void *ud, const mlf_run_rec *rec)
{
    if (rec->run_type == MLF_RUN_TYPE_MANUAL)
        return 0;
    mlf_interval *iv = ud;
    iv->data_interval_start = rec->data_interval_start;
    iv->data_interval_end = rec->data_interval_end;
    iv->logical_date = rec->logical_date;
    iv->run_after = rec->data_interval_end;
    return MLF_STORE_STOP;
}

/* Creates the runs schedules say are due (one per DAG per turn; catchup fills the rest turn by turn),
 * never above a DAG's max_active_runs. */
static void create_scheduled_runs(mlf_scheduler *s, mlf_time_us now)
{
    if (!s->o.create_scheduled_runs || s->draining || now < s->next_dag_check)
        return;
    mlf_time_us next = INT64_MAX;
    for (size_t i = 0; i < s->ndags; i++) {
        sdag *sd = &s->dags[i];
        if (!sd->dag || !sd->sched || sd->paused || mlf_schedule_kind_of(sd->sched) == MLF_SCHEDULE_NONE)
            continue;
        if (sd->next_check > now) {
            next = sd->next_check < next ? sd->next_check : next;
            continue;
        }
        size_t active = 0;
        for (srun *r = s->runs; r; r = r->next)
            if (!r->finished && strcmp(r->rec.dag_id, sd->dag_id) == 0)
                active++;
        if (active >= (size_t)sd->dag->max_active_runs) {
            sd->next_check = INT64_MAX; /* a finishing run resets it */
            continue;
        }
        if (!sd->has_last) {
            mlf_store_txn *w = wtxn(s);
            mlf_interval last = {0};
            if (w)
                mlf_store_run_foreach(w, sd->dag_id, INT64_MIN, INT64_MAX, MLF_STORE_REVERSE, take_last_scheduled, &last);
            if (last.data_interval_end) {
                sd->last = last;
                sd->has_last = 1;
            }
        }
        mlf_interval iv;
        int rc = mlf_schedule_next(sd->sched, sd->has_last ? &sd->last : NULL, sd->dag->start_date, sd->dag->end_date,
                                   sd->dag->catchup, now, &iv);
        if (rc != MLF_OK) {
            sd->next_check = INT64_MAX; /* no more runs (end_date passed, @once done) */
            continue;
        }
        if (iv.run_after > now) {
            sd->next_check = iv.run_after;
            next = iv.run_after < next ? iv.run_after : next;
            continue;
        }
        char err[300], id[160];
        rc = create_run_iv(s, sd->dag, MLF_RUN_TYPE_SCHEDULED, &iv, NULL, NULL, id, sizeof id, err, sizeof err);
        if (rc != MLF_OK && rc != MLF_EEXIST)
            mlf_log(MLF_LOG_ERROR, COMPONENT, "DAG %s: %s", sd->dag_id, err);
        sd->last = iv;
        sd->has_last = 1;
        sd->next_check = 0;
        next = now;
    }
    s->next_dag_check = next;
}

/* ------------------------------------------------------------------------------------------ recovery */

typedef struct run_key {
    char *dag_id, *run_id;
} run_key;

typedef struct key_list {
    run_key *v;
    size_t n, cap;
} key_list;

static int collect_run_key(void *ud, const mlf_ti_rec *rec)
{
    key_list *l = ud;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].dag_id, rec->dag_id) == 0 && strcmp(l->v[i].run_id, rec->run_id) == 0)
            return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        run_key *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return MLF_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].dag_id = strdup(rec->dag_id);
    l->v[l->n].run_id = strdup(rec->run_id);
    l->n++;
    return 0;
}

typedef struct load_ctx {
    srun *run;
    mlf_scheduler *s;
} load_ctx;

static int load_ti(void *ud, const mlf_ti_rec *rec)
{
    load_ctx *lc = ud;
    srun *r = lc->run;
    long task = mlf_dag_task_index(r->dag, rec->task_id);
    if (task < 0)
        return 0; /* the task left the DAG file: its TI stays as recorded */
    sti *t = new_ti(r, (size_t)task, rec->map_index);
    if (!t)
        return MLF_ENOMEM;
    t->state = rec->state;
    t->try_number = rec->try_number;
    t->max_tries = rec->max_tries ? rec->max_tries : t->max_tries;
    t->start_date = rec->start_date;
    t->end_date = rec->end_date;
    t->queued_at = rec->queued_at;
    t->wake_at = rec->wake_at;
    t->first_poke_at = rec->first_poke_at;
    t->message = rec->message ? strdup(rec->message) : NULL;
    if (rec->external_executor_id)
        mlf_strlcpy(t->attempt, rec->external_executor_id, sizeof t->attempt);
    return add_ti(&r->tasks[task], t);
}

static int load_xcom(void *ud, const mlf_ti_key *ti, const char *key, const void *val, size_t len)
{
    load_ctx *lc = ud;
    srun *r = lc->run;
    long task = mlf_dag_task_index(r->dag, ti->task_id);
    mlf_value *v = NULL;
    if (task < 0 || mlf_value_unpack(val, len, &v) != MLF_OK)
        return 0;
    mlf_value *one = mlf_value_map();
    mlf_map_set(one, key, v);
    sti probe = {.run = r, .task = (size_t)task, .map_index = ti->map_index};
    /* reuse the live path so the cache has the same shape */
    mlf_scheduler s0 = {0};
    s0.store_error = MLF_EIO; /* no store writes from here */
    store_xcoms(&s0, &probe, one);
    mlf_value_free(one);
    (void)lc->s;
    return 0;
}

/* Rebuilds one run's in-memory state from its records. */
static int adopt_leased(mlf_scheduler *s, mlf_store_txn *txn, sti *t, mlf_time_us now);

static int resume_run(mlf_scheduler *s, mlf_store_txn *txn, const run_key *k, mlf_time_us now)
{
    mlf_run_rec rec;
    mlf_run_rec_init(&rec);
    int rc = mlf_store_run_get(txn, k->dag_id, k->run_id, &rec);
    if (rc != MLF_OK)
        return rc == MLF_ENOTFOUND ? MLF_OK : rc;
    mlf_dag *dag = (mlf_dag *)mlf_dagbag_get(s->o.bag, k->dag_id);
    if (!dag) {
        mlf_log(MLF_LOG_WARNING, COMPONENT, "run %s/%s cannot resume: its DAG is not loaded", k->dag_id, k->run_id);
        mlf_run_rec_clear(&rec);
        return MLF_OK;
    }
    srun *r = make_run(dag, &rec);
    mlf_run_rec_clear(&rec);
    if (!r)
        return MLF_ENOMEM;
    load_ctx lc = {.run = r, .s = s};
    mlf_store_ti_foreach_run(txn, k->dag_id, k->run_id, NULL, load_ti, &lc);
    mlf_store_xcom_foreach(txn, k->dag_id, k->run_id, NULL, load_xcom, &lc);
    r->next = s->runs;
    s->runs = r;
    /* per task: expansion, decision, completion; then the counters of every downstream */
    r->open_tasks = dag->ntasks;
    for (size_t i = 0; i < dag->ntasks; i++) {
        stask *st = &r->tasks[i];
        int any_set = 0;
        for (size_t j = 0; j < st->ntis; j++) {
            if (st->tis[j]->state != MLF_TI_NONE)
                any_set = 1;
            if (!mlf_ti_state_is_finished(st->tis[j]->state))
                st->unfinished++;
            if (dag->tasks[i].expand && (st->tis[j]->map_index >= 0 || mlf_ti_state_is_finished(st->tis[j]->state)))
                st->expanded = 1;
        }
        st->decided = any_set;
    }
    for (size_t i = 0; i < dag->ntasks; i++) {
        stask *st = &r->tasks[i];
        const mlf_task *t = &dag->tasks[i];
        memset(&st->up, 0, sizeof st->up);
        st->up_pending_expansion = 0;
        for (size_t u = 0; u < t->nupstream; u++) {
            const stask *us = &r->tasks[t->upstream[u]];
            if (!us->expanded) {
                st->up_pending_expansion++;
                st->up.total++;
                continue;
            }
            st->up.total += (unsigned)(us->ntis ? us->ntis : 1);
            for (size_t j = 0; j < us->ntis; j++)
                count_finished(&st->up, us->tis[j]->state, 1);
        }
        if (st->decided && st->expanded && st->unfinished == 0) {
            st->complete = 1;
            r->open_tasks--;
        }
    }
    if (r->rec.state == MLF_RUN_RUNNING) {
        sdag *sd = find_sdag(s, r->rec.dag_id);
        if (sd)
            sd->active_runs++;
    }
    /* TIs in flight belonged to processes that are gone */
    for (size_t i = 0; i < dag->ntasks; i++) {
        stask *st = &r->tasks[i];
        for (size_t j = 0; j < st->ntis; j++) {
            sti *t = st->tis[j];
            if (is_unfinished_active(t->state))
                r->active_tis++;
            int kept = 0;
            for (size_t q = 0; q < s->nkeep && !kept && t->attempt[0]; q++)
                kept = strcmp(s->keep[q], t->attempt) == 0;
            if ((t->state == MLF_TI_QUEUED || t->state == MLF_TI_RUNNING) && kept) {
                t->state = MLF_TI_RUNNING; /* still running in our executor (a reloaded run) */
                add_running(s, t);
                const mlf_task *tk = &dag->tasks[i];
                int p = pool_index(s, tk->pool);
                if (p >= 0)
                    s->pool_used[p] += tk->pool_slots;
                sdag *sd2 = find_sdag(s, r->rec.dag_id);
                if (sd2)
                    sd2->running_tis++;
            } else if ((t->state == MLF_TI_QUEUED || t->state == MLF_TI_RUNNING) && adopt_leased(s, txn, t, now)) {
                t->state = MLF_TI_RUNNING; /* its worker still has it: the executor settles it */
                add_running(s, t);
                const mlf_task *tk = &dag->tasks[i];
                int p = pool_index(s, tk->pool);
                if (p >= 0)
                    s->pool_used[p] += tk->pool_slots;
                sdag *sd2 = find_sdag(s, r->rec.dag_id);
                if (sd2)
                    sd2->running_tis++;
                mlf_log(MLF_LOG_INFO, COMPONENT, "%s/%s/%s: try %d is still leased to a worker; waiting for it",
                        r->rec.dag_id, r->rec.run_id, dag->tasks[i].task_id, t->try_number);
            } else if (t->state == MLF_TI_QUEUED || t->state == MLF_TI_RUNNING) {
                t->state = MLF_TI_SCHEDULED; /* counted active already */
                if (t->try_number < t->max_tries) {
                    t->state = MLF_TI_UP_FOR_RETRY;
                    t->wake_at = now + retry_delay(&dag->tasks[i], t->try_number);
                    set_message(t, "zombie: the scheduler stopped while this try was running");
                    save_ti(s, t);
                    t->in_timer = 1;
                    heap_push(&s->timers, t, timer_before);
                } else {
                    finish_ti(s, t, MLF_TI_FAILED, "zombie: the scheduler stopped while this try was running");
                }
                mlf_log(MLF_LOG_WARNING, COMPONENT, "%s/%s/%s: zombie try %d (the scheduler stopped while it ran)",
                        r->rec.dag_id, r->rec.run_id, dag->tasks[i].task_id, t->try_number);
            } else if (t->state == MLF_TI_SCHEDULED) {
                heap_push(&s->ready, t, ready_before);
            } else if (t->state == MLF_TI_UP_FOR_RETRY || t->state == MLF_TI_UP_FOR_RESCHEDULE) {
                t->in_timer = 1;
                heap_push(&s->timers, t, timer_before);
            }
        }
        if (!st->decided && r->rec.state == MLF_RUN_RUNNING)
            mark_dirty(s, r, i);
    }
    if (r->open_tasks == 0 && r->rec.state == MLF_RUN_RUNNING)
        finalize_run(s, r, 0);
    return MLF_OK;
}

static int read_paused(void *ud, const mlf_dag_rec *rec)
{
    sdag *sd = find_sdag(ud, rec->dag_id);
    if (sd && sd->paused != rec->is_paused) {
        sd->paused = rec->is_paused;
        sd->next_check = 0;
        ((mlf_scheduler *)ud)->next_dag_check = 0;
    }
    return 0;
}

/* `tasks clear` (another process) queued run @p r again while it is in memory: drop our view of it and
 * rebuild it from the store. Tries of TIs the clear reset are killed; the run's other running tries stay
 * attached. */
static void reload_run(mlf_scheduler *s, mlf_store_txn *w, srun *r, mlf_time_us now)
{
    char (*keep)[33] = NULL;
    size_t nkeep = 0;
    for (size_t i = 0; i < s->nrunning;) {
        sti *t = s->running[i];
        if (t->run != r) {
            i++;
            continue;
        }
        mlf_ti_key key = {.dag_id = r->rec.dag_id, .run_id = r->rec.run_id, .task_id = r->dag->tasks[t->task].task_id,
                          .map_index = t->map_index};
        mlf_ti_rec rec;
        mlf_ti_rec_init(&rec);
        int cleared = mlf_store_ti_get(w, &key, &rec) == MLF_OK && rec.state == MLF_TI_NONE;
        mlf_ti_rec_clear(&rec);
        if (cleared) {
            s->ex.ops->kill(s->ex.impl, t->attempt, now); /* its result will be ignored as stale */
        } else {
            char (*v)[33] = realloc(keep, (nkeep + 1) * sizeof *v);
            if (v) {
                keep = v;
                mlf_strlcpy(keep[nkeep++], t->attempt, 33);
            }
        }
        release_slots(s, t);
        s->running[i] = s->running[--s->nrunning];
    }
    for (size_t i = 0; i < r->dag->ntasks; i++)
        for (size_t k = 0; k < r->tasks[i].ntis; k++) {
            sti *t = r->tasks[i].tis[k];
            if (t->heap_idx != (size_t)-1)
                heap_remove(&s->ready, t, ready_before);
            if (t->in_timer)
                heap_remove(&s->timers, t, timer_before);
        }
    for (size_t i = 0; i < s->ndirty;) { /* no dangling pointer in the dirty list */
        if (s->dirty_runs[i] == r)
            s->dirty_runs[i] = s->dirty_runs[--s->ndirty];
        else
            i++;
    }
    sdag *sd = find_sdag(s, r->rec.dag_id);
    if (sd && r->rec.state == MLF_RUN_RUNNING && sd->active_runs)
        sd->active_runs--;
    for (srun **p = &s->runs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    run_key k = {strdup(r->rec.dag_id), strdup(r->rec.run_id)};
    free_run(r);
    s->keep = keep;
    s->nkeep = nkeep;
    if (k.dag_id && k.run_id)
        resume_run(s, w, &k, now);
    s->keep = NULL;
    s->nkeep = 0;
    free(keep);
    free(k.dag_id);
    free(k.run_id);
}

/* Runs created and DAGs paused by other processes (`mlflowd dags trigger`, `dags pause` while this
 * scheduler runs): new runs have task instances in state none, found through the state index; pause
 * flags are read from the DAG records. */
static void adopt_external_changes(mlf_scheduler *s, mlf_time_us now)
{
    if (now < s->next_adopt)
        return;
    s->next_adopt = now + 2 * 1000000LL;
    mlf_store_txn *w = wtxn(s);
    if (!w)
        return;
    mlf_store_dag_foreach(w, read_paused, s);
    key_list keys = {0};
    mlf_store_ti_foreach_state(w, MLF_TI_NONE, collect_run_key, &keys);
    for (size_t i = 0; i < keys.n; i++) {
        srun *mine = NULL;
        for (srun *o = s->runs; o && !mine; o = o->next)
            if (strcmp(o->rec.dag_id, keys.v[i].dag_id) == 0 && strcmp(o->rec.run_id, keys.v[i].run_id) == 0)
                mine = o;
        if (!mine) {
            mlf_log(MLF_LOG_INFO, COMPONENT, "picked up DAG run %s/%s", keys.v[i].dag_id, keys.v[i].run_id);
            resume_run(s, w, &keys.v[i], now);
        } else if (mine->rec.state == MLF_RUN_RUNNING && !mine->finished) {
            /* `tasks clear` sets a cleared run back to queued in the store */
            mlf_run_rec rec;
            mlf_run_rec_init(&rec);
            if (mlf_store_run_get(w, keys.v[i].dag_id, keys.v[i].run_id, &rec) == MLF_OK && rec.state == MLF_RUN_QUEUED) {
                mlf_log(MLF_LOG_INFO, COMPONENT, "DAG run %s/%s was cleared: reloading it", keys.v[i].dag_id,
                        keys.v[i].run_id);
                reload_run(s, w, mine, now);
            }
            mlf_run_rec_clear(&rec);
        }
        free(keys.v[i].dag_id);
        free(keys.v[i].run_id);
    }
    free(keys.v);
}

int mlf_scheduler_recover(mlf_scheduler *s)
{
    mlf_store_txn *w = wtxn(s);
    if (!w)
        return s->store_error;
    key_list keys = {0};
    static const mlf_ti_state live[] = {MLF_TI_NONE, MLF_TI_SCHEDULED, MLF_TI_QUEUED, MLF_TI_RUNNING,
                                        MLF_TI_UP_FOR_RETRY, MLF_TI_UP_FOR_RESCHEDULE};
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        mlf_store_ti_foreach_state(w, live[i], collect_run_key, &keys);
    mlf_time_us now = mlf_time_now();
    int rc = MLF_OK;
    for (size_t i = 0; i < keys.n; i++) {
        if (rc == MLF_OK)
            rc = resume_run(s, w, &keys.v[i], now);
        free(keys.v[i].dag_id);
        free(keys.v[i].run_id);
    }
    free(keys.v);
    if (keys.n)
        mlf_log(MLF_LOG_INFO, COMPONENT, "resumed %zu unfinished DAG run(s)", keys.n);
    evaluate_dirty(s);
    int crc = commit(s);
    return rc ? rc : crc;
}

/* ------------------------------------------------------------------------------------------ loop */

static int load_pool(void *ud, const mlf_pool_rec *rec)
{
    mlf_scheduler *s = ud;
    mlf_pool_rec *v = realloc(s->pools, (s->npools + 1) * sizeof *v);
    if (!v)
        return MLF_ENOMEM;
    s->pools = v;
    mlf_pool_rec_init(&v[s->npools]);
    v[s->npools].name = strdup(rec->name);
    v[s->npools].slots = rec->slots;
    s->npools++;
    return 0;
}

/* ---- leases (remote executors): recorded in the turn's batch, so they are committed before a TASK leaves */

static sti *find_by_attempt(mlf_scheduler *s, const char *attempt)
{
    if (s->submitting && strcmp(s->submitting->attempt, attempt) == 0)
        return s->submitting;
    for (size_t i = 0; i < s->nrunning; i++)
        if (strcmp(s->running[i]->attempt, attempt) == 0)
            return s->running[i];
    return NULL;
}

static int host_persist_lease(void *ud, const char *attempt, const char *worker, mlf_time_us deadline)
{
    mlf_scheduler *s = ud;
    sti *t = find_by_attempt(s, attempt);
    mlf_store_txn *w = wtxn(s);
    if (!t || !w)
        return t ? s->store_error : MLF_ENOTFOUND;
    mlf_lease_rec rec;
    mlf_lease_rec_init(&rec);
    rec.dag_id = t->run->rec.dag_id;
    rec.run_id = t->run->rec.run_id;
    rec.task_id = t->run->dag->tasks[t->task].task_id;
    rec.map_index = t->map_index;
    rec.attempt_token = strtoull(attempt, NULL, 16);
    rec.worker = (char *)worker;
    rec.deadline = deadline;
    int rc = mlf_store_lease_put(w, &rec);
    note_store(s, rc, "lease");
    return rc;
}

static void host_drop_lease(void *ud, const char *attempt)
{
    mlf_scheduler *s = ud;
    sti *t = find_by_attempt(s, attempt);
    mlf_store_txn *w = wtxn(s);
    if (!t || !w)
        return;
    mlf_ti_key key = {.dag_id = t->run->rec.dag_id, .run_id = t->run->rec.run_id,
                      .task_id = t->run->dag->tasks[t->task].task_id, .map_index = t->map_index};
    int rc = mlf_store_lease_delete(w, &key);
    if (rc != MLF_ENOTFOUND)
        note_store(s, rc, "lease");
}

/* After a restart with a remote executor: a try whose lease is in the store may still be running on its
 * worker; the executor takes it back instead of it being failed as a zombie. Returns 1 when adopted. */
static int adopt_leased(mlf_scheduler *s, mlf_store_txn *txn, sti *t, mlf_time_us now)
{
    if (!s->is_zmq || !t->attempt[0])
        return 0;
    mlf_ti_key key = {.dag_id = t->run->rec.dag_id, .run_id = t->run->rec.run_id,
                      .task_id = t->run->dag->tasks[t->task].task_id, .map_index = t->map_index};
    mlf_lease_rec lease;
    mlf_lease_rec_init(&lease);
    int adopted = 0;
    if (mlf_store_lease_get(txn, &key, &lease) == MLF_OK && lease.attempt_token == strtoull(t->attempt, NULL, 16)) {
        char *log = mlf_ti_log_path(s->home, key.dag_id, key.run_id, key.task_id, t->map_index, t->try_number);
        adopted = log && mlf_executor_zmq_adopt(&s->ex, t->attempt, lease.worker, log, now) == MLF_OK;
        free(log);
    }
    mlf_lease_rec_clear(&lease);
    return adopted;
}

int mlf_scheduler_new(const mlf_scheduler_opts *opts, mlf_scheduler **out, char *err, size_t errlen)
{
    mlf_scheduler *s = calloc(1, sizeof *s);
    if (!s)
        return MLF_ENOMEM;
    s->o = *opts;
    s->watch_fd = -1;
    s->home = mlf_config_home(opts->cfg);
    s->xcom_max = mlf_config_int(opts->cfg, "xcom.max_size");
    s->default_pool_slots = mlf_config_int(opts->cfg, "core.default_pool_slots");
    const char *kind = opts->executor ? opts->executor : mlf_config_str(opts->cfg, "executor");
    int rc;
    if (!kind || strcmp(kind, "local") == 0)
        rc = mlf_executor_local_open(opts->exe, opts->parallelism, &s->ex);
    else if (strcmp(kind, "sequential") == 0) /* Airflow's SequentialExecutor: one try at a time */
        rc = mlf_executor_local_open(opts->exe, 1, &s->ex);
    else if (strcmp(kind, "zmq") == 0) { /* remote `mlflowd worker` processes */
        mlf_executor_host host = {.persist_lease = host_persist_lease, .drop_lease = host_drop_lease, .ud = s};
        char zerr[512] = "";
        rc = mlf_executor_zmq_open(opts->cfg, &host, &s->ex, zerr, sizeof zerr);
        if (rc != MLF_OK) {
            snprintf(err, errlen, "cannot start the zmq executor: %s", zerr[0] ? zerr : mlf_strerror(rc));
            free(s);
            return rc;
        }
        s->is_zmq = 1;
        mlf_log(MLF_LOG_INFO, COMPONENT, "zmq executor listening on %s", mlf_executor_zmq_endpoint(&s->ex));
    } else {
        snprintf(err, errlen, "executor '%s' is not supported (use local, sequential or zmq)", kind);
        free(s);
        return MLF_ENOTSUP;
    }
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot start the %s executor: %s", kind ? kind : "local", mlf_strerror(rc));
        free(s);
        return rc;
    }
    mlf_store_txn *w = wtxn(s);
    if (w)
        mlf_store_pool_foreach(w, load_pool, s);
    if (pool_index(s, "default_pool") < 0) {
        mlf_pool_rec p;
        mlf_pool_rec_init(&p);
        p.name = "default_pool";
        p.slots = (int)s->default_pool_slots;
        load_pool(s, &p);
    }
    s->pool_used = calloc(s->npools ? s->npools : 1, sizeof *s->pool_used);
    sync_dags(s);
    rc = commit(s);
    if (rc != MLF_OK || !s->pool_used) {
        snprintf(err, errlen, "cannot write the state store: %s", mlf_strerror(rc ? rc : MLF_ENOMEM));
        mlf_scheduler_free(s);
        return rc ? rc : MLF_ENOMEM;
    }
    if (opts->watch_dags)
        s->watch_fd = mlf_dagbag_watch(opts->bag);
    *out = s;
    return MLF_OK;
}

void mlf_scheduler_free(mlf_scheduler *s)
{
    if (!s)
        return;
    if (s->ex.ops) {
        s->ex.ops->shutdown(s->ex.impl, 0, mlf_time_now());
        s->ex.ops->free(s->ex.impl);
    }
    if (s->w)
        commit(s);
    reap_notifiers(s, 5000); /* give callbacks of the last turn a moment to be sent */
    for (size_t i = 0; i < s->nnotifiers; i++) /* the rest finish on their own: say so, so nothing goes unseen */
        mlf_log(MLF_LOG_WARNING, COMPONENT, "a notifier process (pid %d) is still running after 5 s; leaving it "
                "to finish (its outcome will not be logged here)", (int)s->notifiers[i]);
    free(s->notifiers);
    while (s->runs) {
        srun *r = s->runs;
        s->runs = r->next;
        free_run(r);
    }
    for (size_t i = 0; i < s->ndags; i++) {
        free(s->dags[i].dag_id);
        mlf_schedule_free(s->dags[i].sched);
    }
    free(s->dags);
    for (size_t i = 0; i < s->npools; i++)
        free(s->pools[i].name);
    free(s->pools);
    free(s->pool_used);
    free(s->ready.v);
    free(s->timers.v);
    free(s->running);
    free(s->dirty_runs);
    free(s);
}

/* Drops finished runs from memory (their records stay in the store). */
static void reap_finished_runs(mlf_scheduler *s)
{
    srun **p = &s->runs;
    while (*p) {
        srun *r = *p;
        if (r->finished && !r->in_dirty_runs) { /* still listed as dirty: next turn, after evaluation */
            *p = r->next;
            free_run(r);
        } else {
            p = &r->next;
        }
    }
}

/* A running run with nothing in flight and nothing left to decide can never progress: deadlock. (Not
 * while an older run of the same DAG is active: a depends_on_past task may be waiting for it.) */
static void detect_deadlocks(mlf_scheduler *s)
{
    for (srun *r = s->runs; r; r = r->next) {
        if (r->finished || r->rec.state != MLF_RUN_RUNNING || r->active_tis > 0 || r->open_tasks == 0)
            continue;
        int pending = r->ndirty > 0;
        for (srun *o = s->runs; o && !pending; o = o->next)
            pending = o != r && !o->finished && strcmp(o->rec.dag_id, r->rec.dag_id) == 0 &&
                      o->rec.logical_date < r->rec.logical_date;
        if (!pending)
            finalize_run(s, r, 1);
    }
}

static int run_finished(mlf_scheduler *s, const char *dag_id, const char *run_id)
{
    for (srun *r = s->runs; r; r = r->next)
        if (strcmp(r->rec.dag_id, dag_id) == 0 && (!run_id || strcmp(r->rec.run_id, run_id) == 0) && !r->finished)
            return 0;
    return 1;
}

int mlf_scheduler_run(mlf_scheduler *s, volatile sig_atomic_t *stop, const char *until_dag, const char *until_run)
{
    mlf_time_us drain_deadline = 0;
    for (;;) {
        mlf_time_us now = mlf_time_now();
        if (stop && *stop && !s->draining) {
            s->draining = 1;
            drain_deadline = now + 30 * 1000000LL;
            mlf_log(MLF_LOG_INFO, COMPONENT, "stopping: waiting for %zu running task(s)", s->ex.ops->in_flight(s->ex.impl));
        }
        s->ex.ops->process(s->ex.impl, now, on_result, s);
        process_timers(s, now);
        if (s->nnotifiers)
            reap_notifiers(s, 0);
        if (s->watch_fd >= 0 && mlf_dagbag_watch_drain(s->o.bag)) {
            size_t changed = 0;
            if (mlf_dagbag_refresh(s->o.bag, &changed) == MLF_OK && changed) {
                mlf_log(MLF_LOG_INFO, COMPONENT, "DAG folder changed (%zu file(s)); DAGs reloaded", changed);
                sync_dags(s);
            }
        }
        if (s->o.create_scheduled_runs)
            adopt_external_changes(s, now);
        if (!s->single) {
            create_scheduled_runs(s, now);
            start_queued_runs(s);
            evaluate_dirty(s);
            detect_deadlocks(s);
        }
        dispatch(s, now);
        int done_until = s->single ? s->ready.n == 0 && s->nrunning == 0 && s->timers.n == 0
                                   : until_dag && run_finished(s, until_dag, until_run);
        if (!s->single)
            reap_finished_runs(s);
        int rc = commit(s);
        if (rc != MLF_OK)
            return rc;
        if (s->ex.ops->after_commit)
            s->ex.ops->after_commit(s->ex.impl, now);
        if (done_until && s->ex.ops->in_flight(s->ex.impl) == 0)
            return MLF_OK;
        if (s->draining) {
            if (s->ex.ops->in_flight(s->ex.impl) == 0)
                return MLF_OK;
            if (now >= drain_deadline) {
                s->ex.ops->shutdown(s->ex.impl, 0, now);
                drain_deadline = INT64_MAX;
            }
        }
        /* sleep until something can happen: the executor's fd, a timer, a schedule, a deadline */
        mlf_time_us wake = now + 5 * 1000000LL;
        mlf_time_us d = s->ex.ops->next_deadline(s->ex.impl);
        if (d && d < wake)
            wake = d;
        if (s->timers.n && s->timers.v[0]->wake_at < wake)
            wake = s->timers.v[0]->wake_at;
        if (s->o.create_scheduled_runs && s->next_dag_check < wake)
            wake = s->next_dag_check;
        if (s->o.create_scheduled_runs && s->next_adopt < wake)
            wake = s->next_adopt;
        /* TIs left in the ready heap are held by a limit: only a finishing task (the executor's fd) frees one */
        if (s->ndirty)
            wake = now;
        int timeout_ms = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
        struct pollfd pfd[2] = {{.fd = s->ex.ops->fd(s->ex.impl), .events = POLLIN},
                                {.fd = s->watch_fd, .events = POLLIN}};
        int n = poll(pfd, s->watch_fd >= 0 ? 2 : 1, timeout_ms);
        if (n < 0 && errno != EINTR)
            return errno;
    }
}

/* ------------------------------------------------------------------------------------------ single TIs */

int mlf_scheduler_run_task(mlf_scheduler *s, const char *dag_id, const char *run_id, const char *task_id, int map_index,
                           volatile sig_atomic_t *stop, mlf_ti_state *state, char *err, size_t errlen)
{
    mlf_store_txn *w = wtxn(s);
    if (!w) {
        snprintf(err, errlen, "the state store is not writable");
        return s->store_error;
    }
    srun *r = NULL;
    for (srun *o = s->runs; o && !r; o = o->next)
        if (strcmp(o->rec.dag_id, dag_id) == 0 && strcmp(o->rec.run_id, run_id) == 0)
            r = o;
    if (!r) {
        run_key k = {(char *)dag_id, (char *)run_id};
        int rc = resume_run(s, w, &k, mlf_time_now());
        for (srun *o = s->runs; o && !r; o = o->next)
            if (strcmp(o->rec.dag_id, dag_id) == 0 && strcmp(o->rec.run_id, run_id) == 0)
                r = o;
        if (rc != MLF_OK || !r) {
            snprintf(err, errlen, "DAG %s has no run '%s' (or its DAG does not load)", dag_id, run_id);
            return rc ? rc : MLF_ENOTFOUND;
        }
    }
    for (size_t i = 0; i < s->ndirty; i++) { /* nothing but the chosen TI is evaluated */
        srun *o = s->dirty_runs[i];
        for (size_t k = 0; k < o->ndirty; k++)
            o->tasks[o->dirty[k]].dirty = 0;
        o->ndirty = 0;
        o->in_dirty_runs = 0;
    }
    s->ndirty = 0;
    long task = mlf_dag_task_index(r->dag, task_id);
    if (task < 0) {
        snprintf(err, errlen, "DAG %s has no task '%s'", dag_id, task_id);
        return MLF_ENOTFOUND;
    }
    stask *st = &r->tasks[task];
    sti *t = NULL;
    for (size_t i = 0; i < st->ntis && !t; i++)
        if (st->tis[i]->map_index == map_index || (st->ntis == 1 && map_index < 0))
            t = st->tis[i];
    if (!t) {
        snprintf(err, errlen, "task %s has no instance with map index %d in run %s", task_id, map_index, run_id);
        return MLF_ENOTFOUND;
    }
    if (mlf_ti_state_is_finished(t->state)) { /* run it again: a fresh try */
        t->state = MLF_TI_NONE;
        t->max_tries = t->try_number + r->dag->tasks[task].retries + 1;
        if (st->unfinished++ == 0 && st->complete) {
            st->complete = 0;
            r->open_tasks++;
        }
    }
    t->max_tries = t->try_number + 1; /* one try, no retries: the caller asked for exactly this */
    st->decided = 1;
    st->expanded = 1;
    if (t->in_timer) {
        heap_remove(&s->timers, t, timer_before);
        t->in_timer = 0;
    }
    if (t->heap_idx == (size_t)-1)
        schedule_ti(s, t);
    s->single = 1;
    int rc = mlf_scheduler_run(s, stop, dag_id, run_id);
    s->single = 0;
    *state = t->state;
    return rc;
}

int mlf_scheduler_render_task(mlf_scheduler *s, const mlf_dag *dag_c, const char *task_id, mlf_time_us logical_date,
                              mlf_value **out, char *err, size_t errlen)
{
    mlf_dag *dag = (mlf_dag *)dag_c;
    long task = mlf_dag_task_index(dag, task_id);
    if (task < 0) {
        snprintf(err, errlen, "DAG %s has no task '%s'", dag->dag_id, task_id);
        return MLF_ENOTFOUND;
    }
    sdag *sd = find_sdag(s, dag->dag_id);
    mlf_interval iv = {.logical_date = logical_date, .data_interval_start = logical_date,
                       .data_interval_end = logical_date, .run_after = logical_date};
    if (sd && sd->sched && mlf_schedule_kind_of(sd->sched) != MLF_SCHEDULE_NONE)
        mlf_schedule_infer_manual(sd->sched, logical_date, &iv);
    char ts[64], id[128];
    mlf_time_format_ts(logical_date, ts, sizeof ts);
    snprintf(id, sizeof id, "manual__%s", ts);
    mlf_run_rec rec;
    mlf_run_rec_init(&rec);
    rec.dag_id = dag->dag_id;
    rec.run_id = id;
    rec.logical_date = logical_date;
    rec.data_interval_start = iv.data_interval_start;
    rec.data_interval_end = iv.data_interval_end;
    rec.run_type = MLF_RUN_TYPE_MANUAL;
    rec.external_trigger = true; /* renders as `dags test` of the same date would */
    srun *r = make_run(dag, &rec);
    sti *t = r ? new_ti(r, (size_t)task, -1) : NULL;
    if (!t) {
        free_run(r);
        return MLF_ENOMEM;
    }
    t->try_number = 1;
    render_ctx rc = {.s = s, .run = r, .ti = t, .names = mlf_value_map()};
    mlf_value *params = NULL;
    int code = render_params(s, t, &rc, &params, err, errlen);
    if (code == MLF_OK && dag->tasks[task].expand) {
        mlf_template_env env = {.lookup = render_lookup, .call = render_call, .ud = &rc};
        mlf_value *ex = NULL;
        code = mlf_template_render_value(dag->tasks[task].expand, &env, &ex, err, errlen);
        if (code == MLF_OK)
            mlf_map_set(params, "expand", ex);
    }
    mlf_value_free(rc.names);
    mlf_value_free(rc.secrets);
    free(t);
    free_run(r);
    if (code != MLF_OK) {
        mlf_value_free(params);
        return code;
    }
    *out = params;
    return MLF_OK;
}

const char *mlf_scheduler_worker_endpoint(const mlf_scheduler *s)
{
    return s->is_zmq ? mlf_executor_zmq_endpoint(&s->ex) : NULL;
}

size_t mlf_scheduler_worker_count(const mlf_scheduler *s)
{
    return s->is_zmq ? mlf_executor_zmq_worker_count(&s->ex) : 0;
}
