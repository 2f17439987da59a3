/* scheduler.c -- the scheduler loop (see scheduler.h): the turn and its write batch, DAG sync, opening and
 * closing, single task instances. */
#include "sched/sched_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_users.h"
#include "web/metrics.h"
#include "time/schedule.h"

/* Backoff between attempts to commit a batch the store refused (doc/architecture.md §8). */
#define STORE_RETRY_FIRST_US 200000LL
#define STORE_RETRY_MAX_US 10000000LL

/* The turn's write batch, opened on first use. NULL after a store failure (logged once), and while a kept
 * batch could not be resumed. */
mlf_store_txn *mlf_sc_wtxn(mlf_scheduler *s)
{
    if (s->w && mlf_store_write_suspended(s->w))
        return NULL;
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

/* A transient failure to commit: the batch is kept, the next attempt waits (exponentially longer). */
static void store_failed(mlf_scheduler *s, int rc, const char *what)
{
    mlf_time_us now = mlf_clock_monotonic();
    if (!s->store_failing) {
        s->store_failing_since = now;
        s->store_backoff = STORE_RETRY_FIRST_US;
        s->store_attempts = 0;
    } else if (s->store_backoff < STORE_RETRY_MAX_US) {
        s->store_backoff = s->store_backoff * 2 < STORE_RETRY_MAX_US ? s->store_backoff * 2 : STORE_RETRY_MAX_US;
    }
    s->store_failing = rc;
    s->store_attempts++;
    s->store_retry_at = now + s->store_backoff;
    mlf_log(MLF_LOG_ERROR, COMPONENT, "the state store cannot %s: %s (for %.1f s, attempt %u); the turn's "
            "changes are kept and retried in %.1f s; running tasks go on, no new task starts until the store "
            "commits again", what, mlf_strerror(rc), (double)(now - s->store_failing_since) / 1e6,
            s->store_attempts, (double)s->store_backoff / 1e6);
}

int mlf_sc_store_resume(mlf_scheduler *s)
{
    if (!s->w || !mlf_store_write_suspended(s->w))
        return MLF_OK;
    if (s->store_resume_failed && mlf_clock_monotonic() < s->store_retry_at)
        return MLF_EAGAIN_STORE;
    int rc = mlf_store_write_resume(s->w);
    s->store_resume_failed = rc != MLF_OK;
    if (rc != MLF_OK) {
        if (!mlf_store_error_transient(rc)) {
            mlf_store_write_abort(s->w);
            s->w = NULL;
            mlf_log(MLF_LOG_ERROR, COMPONENT, "the kept store batch cannot be replayed: %s", mlf_strerror(rc));
            s->store_error = rc;
            return rc;
        }
        store_failed(s, rc, "begin a write");
        return MLF_EAGAIN_STORE;
    }
    return MLF_OK;
}

int mlf_sc_commit(mlf_scheduler *s)
{
    if (s->w && mlf_store_write_suspended(s->w))
        return MLF_EAGAIN_STORE; /* not resumed this turn: nothing was written to it */
    mlf_sc_flush_tis(s);
    if (!s->w)
        return s->store_error;
    if (s->store_failing && mlf_clock_monotonic() < s->store_retry_at) {
        mlf_store_write_suspend(s->w); /* not yet: release the writer lock, keep every change */
        return MLF_EAGAIN_STORE;
    }
    int rc = mlf_store_write_commit_keep(s->w);
    if (rc == MLF_OK) {
        s->w = NULL;
        if (s->store_failing)
            mlf_log(MLF_LOG_INFO, COMPONENT, "the state store commits again after %.1f s (%u attempt(s)); "
                    "nothing was lost, new tasks start again",
                    (double)(mlf_clock_monotonic() - s->store_failing_since) / 1e6, s->store_attempts);
        s->store_failing = 0;
        s->store_retry_at = 0;
        return MLF_OK;
    }
    if (mlf_store_write_suspended(s->w)) {
        store_failed(s, rc, "commit");
        return MLF_EAGAIN_STORE;
    }
    s->w = NULL;
    mlf_log(MLF_LOG_ERROR, COMPONENT, "store commit failed: %s", mlf_strerror(rc));
    s->store_error = rc;
    return rc;
}

void mlf_sc_note_store(mlf_scheduler *s, int rc, const char *what)
{
    if (rc != MLF_OK && mlf_store_error_transient(rc)) { /* the batch logged it: the commit retries it */
        mlf_log(MLF_LOG_WARNING, COMPONENT, "store: %s: %s (kept for the commit to retry)", what, mlf_strerror(rc));
        return;
    }
    if (rc != MLF_OK && !s->store_error) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "store: %s: %s", what, mlf_strerror(rc));
        s->store_error = rc;
    }
}

/* ------------------------------------------------------------------------------------------ DAGs */

sdag *mlf_sc_find_sdag(mlf_scheduler *s, const char *dag_id)
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
        sdag *sd = mlf_sc_find_sdag(s, d->dag_id);
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
        mlf_store_txn *w = mlf_sc_wtxn(s);
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
        mlf_sc_note_store(s, mlf_store_dag_put(w, &rec), "dag");
        mlf_dag_rec_clear(&rec);
    }
    for (size_t i = 0; i < s->ndags; i++) {
        if (s->dags[i].dag)
            continue;
        mlf_store_txn *w = mlf_sc_wtxn(s);
        mlf_dag_rec rec;
        mlf_dag_rec_init(&rec);
        if (w && mlf_store_dag_get(w, s->dags[i].dag_id, &rec) == MLF_OK && rec.is_active) {
            rec.is_active = false;
            mlf_sc_note_store(s, mlf_store_dag_put(w, &rec), "dag");
        }
        mlf_dag_rec_clear(&rec);
    }
    s->next_dag_check = 0;
    mlf_sc_assets_sync(s); /* assets (doc/assets.md) */
    mlf_sc_events_sync(s);
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

static mlf_scheduler *sched_alloc(const mlf_scheduler_opts *opts)
{
    mlf_scheduler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->o = *opts;
    s->watch_fd = -1;
    s->home = mlf_config_home(opts->cfg);
    s->xcom_max = mlf_config_int(opts->cfg, "xcom.max_size");
    s->default_pool_slots = mlf_config_int(opts->cfg, "core.default_pool_slots");
    return s;
}

/* The part of opening after the executor: pools, DAG records, the first commit, the DAG folder watch. */
static int sched_start(mlf_scheduler *s, mlf_scheduler **out, char *err, size_t errlen)
{
    int rc;
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (w)
        mlf_store_pool_foreach(w, load_pool, s);
    if (mlf_sc_pool_index(s, "default_pool") < 0) {
        mlf_pool_rec p;
        mlf_pool_rec_init(&p);
        p.name = "default_pool";
        p.slots = (int)s->default_pool_slots;
        load_pool(s, &p);
    }
    s->pool_used = calloc(s->npools ? s->npools : 1, sizeof *s->pool_used);
    sync_dags(s);
    rc = mlf_sc_commit(s);
    if (rc != MLF_OK || !s->pool_used) {
        snprintf(err, errlen, "cannot write the state store: %s", mlf_strerror(rc ? rc : MLF_ENOMEM));
        mlf_scheduler_free(s);
        return rc ? rc : MLF_ENOMEM;
    }
    if (s->o.watch_dags)
        s->watch_fd = mlf_dagbag_watch(s->o.bag);
    if ((rc = mlf_sc_evsock_open(s, err, errlen)) != MLF_OK) {
        mlf_scheduler_free(s);
        return rc;
    }
    *out = s;
    return MLF_OK;
}

int mlf_sc_on_report(void *ud, const mlf_value *result)
{
    mlf_task_result *res = NULL;
    char err[300] = "";
    int rc = mlf_task_result_decode(result, &res, err, sizeof err);
    if (rc == MLF_OK)
        mlf_sc_on_result(ud, res);
    else
        mlf_log(MLF_LOG_ERROR, COMPONENT, "the executor reported a result that does not decode: %s", err);
    mlf_task_result_free(res);
    return rc;
}

/* What the scheduler offers its executor (mlflowd/executor.h: results, leases). */
static mlf_executor_callbacks callbacks_of(mlf_scheduler *s)
{
    return (mlf_executor_callbacks){.report = mlf_sc_on_report, .persist_lease = mlf_sc_host_persist_lease,
                                    .drop_lease = mlf_sc_host_drop_lease,
                                    .worker_update = mlf_sc_host_worker_update, .note = mlf_sc_host_note, .ud = s};
}

/* Notes (and logs) where workers connect, for executors that have workers: it never changes. */
static void note_endpoint(mlf_scheduler *s)
{
    mlf_value *d = mlf_executor_describe(s->ex);
    const char *ep = mlf_value_get_str(mlf_map_get(d, "endpoint"), NULL);
    s->endpoint = ep ? strdup(ep) : NULL;
    if (s->endpoint)
        mlf_log(MLF_LOG_INFO, COMPONENT, "%s executor listening on %s", mlf_executor_name(s->ex), s->endpoint);
    mlf_value_free(d);
}

int mlf_scheduler_new(const mlf_scheduler_opts *opts, mlf_scheduler **out, char *err, size_t errlen)
{
    mlf_scheduler *s = sched_alloc(opts);
    if (!s)
        return MLF_ENOMEM;
    const char *kind = opts->executor ? opts->executor : mlf_config_str(opts->cfg, "executor");
    mlf_executor_callbacks cb = callbacks_of(s);
    char xerr[1024] = "";
    int rc = mlf_executor_open(opts->cat, opts->cfg, kind, opts->parallelism, opts->exe, &cb, &s->ex, xerr,
                               sizeof xerr);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot start the executor '%s': %s", kind ? kind : "local",
                 xerr[0] ? xerr : mlf_strerror(rc));
        free(s);
        return rc;
    }
    note_endpoint(s);
    return sched_start(s, out, err, errlen);
}

int mlf_sc_new_with_executor(const mlf_scheduler_opts *opts, const mlf_executor_desc *desc, mlf_scheduler **out,
                             char *err, size_t errlen)
{
    mlf_scheduler *s = sched_alloc(opts);
    if (!s)
        return MLF_ENOMEM;
    mlf_executor_callbacks cb = callbacks_of(s);
    int rc = mlf_executor_open_desc(desc, NULL, NULL, opts->cfg, opts->parallelism, &cb, &s->ex, err, errlen);
    if (rc != MLF_OK) {
        free(s);
        return rc;
    }
    note_endpoint(s);
    return sched_start(s, out, err, errlen);
}

void mlf_scheduler_free(mlf_scheduler *s)
{
    if (!s)
        return;
    if (s->ex) {
        mlf_executor_shutdown(s->ex, 0, mlf_time_now());
        mlf_executor_close(s->ex);
    }
    free(s->endpoint);
    if (s->w && mlf_store_write_suspended(s->w)) { /* a last attempt for a kept batch, whatever the backoff */
        s->store_retry_at = 0;
        s->store_resume_failed = 0;
        mlf_sc_store_resume(s);
    }
    s->store_retry_at = 0;
    mlf_sc_flush_workers(s, mlf_time_now(), 1);
    if (s->w || s->nunsaved)
        mlf_sc_commit(s);
    mlf_sc_free_workers(s);
    if (s->w) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "stopping with changes the state store refused (%s): they are lost; "
                "the next start recovers the runs from the store", mlf_strerror(s->store_failing));
        mlf_store_write_abort(s->w);
        s->w = NULL;
    }
    mlf_sc_reap_notifiers(s, 5000); /* give callbacks of the last turn a moment to be sent */
    for (size_t i = 0; i < s->nnotifiers; i++) /* the rest finish on their own: say so, so nothing goes unseen */
        mlf_log(MLF_LOG_WARNING, COMPONENT, "a notifier process (pid %d) is still running after 5 s; leaving it "
                "to finish (its outcome will not be logged here)", (int)s->notifiers[i]);
    free(s->notifiers);
    while (s->runs) {
        srun *r = s->runs;
        s->runs = r->next;
        mlf_sc_free_run(r);
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
    free(s->unsaved);
    free(s->dirty_runs);
    mlf_sc_events_free(s);
    mlf_sc_evsock_free(s);
    mlf_sc_assets_free(s);
    free(s->due);
    free(s);
}


#define MAX_EVENT_FDS 66 /* event sources whose fds wake the loop (more are looked at on each turn) */

int mlf_scheduler_run(mlf_scheduler *s, volatile sig_atomic_t *stop, const char *until_dag, const char *until_run)
{
    mlf_time_us drain_deadline = 0, run_deadline = 0;
    for (;;) {
        mlf_time_us now = mlf_time_now();
        if (stop && *stop && !s->draining) {
            s->draining = 1;
            /* tries that outlive the scheduler are adopted by its next start: no need to wait for them */
            drain_deadline = mlf_executor_flags(s->ex) & MLF_EXEC_OUTLIVES ? now : now + 30 * 1000000LL;
            mlf_log(MLF_LOG_INFO, COMPONENT, "stopping: waiting for %zu running task(s)", mlf_executor_in_flight(s->ex));
        }
        if (s->o.on_turn)
            s->o.on_turn(s->o.ud, now);
        /* a batch the store refused: take it up again, or wait (running tasks go on meanwhile) */
        int resumed = mlf_sc_store_resume(s);
        if (resumed != MLF_OK && resumed != MLF_EAGAIN_STORE)
            return resumed;
        if (resumed == MLF_EAGAIN_STORE) { /* not even a write transaction begins: wait for it */
            if (stop && *stop)
                return s->store_failing;
            mlf_time_us wait = s->store_retry_at - mlf_clock_monotonic();
            poll(NULL, 0, wait <= 0 ? 0 : wait > 1000000 ? 1000 : (int)((wait + 999) / 1000));
            continue;
        }
        mlf_executor_process(s->ex, now);
        mlf_sc_process_timers(s, now);
        if (s->nnotifiers)
            mlf_sc_reap_notifiers(s, 0);
        if (s->o.watch_dags && mlf_dagbag_poll(s->o.bag, now)) { /* inotify, or the periodic rescan */
            size_t changed = 0;
            if (mlf_dagbag_refresh(s->o.bag, &changed) == MLF_OK && changed) {
                mlf_log(MLF_LOG_INFO, COMPONENT, "DAG folder changed (%zu file(s)); DAGs reloaded", changed);
                sync_dags(s);
            }
        }
        mlf_sc_owner_beat(s);
        if (s->o.create_scheduled_runs)
            mlf_sc_adopt_external_changes(s, now);
        int store_ok = !s->store_failing; /* while the store cannot commit, no new work starts */
        if (!s->single) {
            if (store_ok) {
                mlf_sc_create_scheduled_runs(s, now);
                mlf_sc_events_process(s, now); /* event sources' emits first: their runs are made this turn */
                mlf_sc_evsock_process(s);      /* the event socket's requests too (events.listen) */
                mlf_sc_create_asset_runs(s, now);
                mlf_sc_start_queued_runs(s);
            }
            mlf_sc_evaluate_dirty(s);
            mlf_sc_detect_deadlocks(s);
            run_deadline = mlf_sc_time_out_runs(s, now);
        }
        if (store_ok)
            mlf_sc_dispatch(s, now);
        int done_until = s->single ? s->ready.n == 0 && s->nrunning == 0 && s->timers.n == 0
                                   : until_dag && mlf_sc_run_finished(s, until_dag, until_run);
        if (!s->single)
            mlf_sc_reap_finished_runs(s);
        if (s->o.create_scheduled_runs && now - s->heartbeat_at >= 5000000) { /* the daemon: /health reads it */
            mlf_store_txn *hw = mlf_sc_wtxn(s);
            if (hw)
                mlf_sc_note_store(s, mlf_store_heartbeat_put(hw, now), "scheduler heartbeat");
            s->heartbeat_at = now;
        }
        mlf_sc_flush_workers(s, now, 0);
        int rc = mlf_sc_commit(s);
        if (rc != MLF_OK && rc != MLF_EAGAIN_STORE)
            return rc;
        if (rc == MLF_OK) /* acknowledgements leave only once what they acknowledge is durable */
            mlf_executor_after_commit(s->ex, now);
        mlf_histogram_observe(&mlf_metric_loop_turn, mlf_time_now() - now); /* /metrics; atomic adds only */
        if (done_until && mlf_executor_in_flight(s->ex) == 0)
            return MLF_OK;
        if (s->draining) {
            if (mlf_executor_in_flight(s->ex) == 0)
                return MLF_OK;
            if (now >= drain_deadline) {
                mlf_executor_shutdown(s->ex, 0, now);
                drain_deadline = INT64_MAX;
            }
        }
        /* sleep until something can happen: the executor's fd, a timer, a schedule, a deadline */
        mlf_time_us wake = now + 5 * 1000000LL;
        mlf_time_us d = mlf_executor_next_deadline(s->ex);
        if (d && d < wake)
            wake = d;
        if (run_deadline && run_deadline < wake) /* a dagrun_timeout */
            wake = run_deadline;
        if (s->timers.n && s->timers.v[0]->wake_at < wake)
            wake = s->timers.v[0]->wake_at;
        if (s->o.create_scheduled_runs && s->next_dag_check < wake)
            wake = s->next_dag_check;
        if (s->o.create_scheduled_runs && s->next_adopt < wake)
            wake = s->next_adopt;
        if (s->o.create_scheduled_runs && s->nconsumers && s->next_inbox < wake) /* assets from other processes */
            wake = s->next_inbox;
        if (s->ndue && store_ok)
            wake = now;
        mlf_time_us ed = mlf_sc_events_deadline(s);
        if (ed && ed < wake)
            wake = ed;
        /* TIs left in the ready heap are held by a limit: only a finishing task (the executor's fd) frees one */
        if (s->ndirty && store_ok)
            wake = now;
        if (store_ok && mlf_sc_evsock_pending(s)) /* ZMQ_FD is edge-triggered: what waits is taken now */
            wake = now;
        if (s->store_failing && s->store_retry_at - mlf_clock_monotonic() + now < wake)
            wake = s->store_retry_at - mlf_clock_monotonic() + now; /* the next attempt to commit */
        int timeout_ms = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
        struct pollfd pfd[2 + MAX_EVENT_FDS] = {{.fd = mlf_executor_fd(s->ex), .events = POLLIN},
                                                {.fd = s->watch_fd, .events = POLLIN}};
        size_t nev = mlf_sc_evsock_pollfds(s, pfd + 2, 2); /* the event socket and its ZAP handler */
        nev += mlf_sc_events_pollfds(s, pfd + 2 + nev, MAX_EVENT_FDS - nev); /* event sources (doc/assets.md) */
        int n = poll(pfd, nev ? 2 + nev : s->watch_fd >= 0 ? 2 : 1, timeout_ms); /* poll skips a -1 fd */
        if (n < 0 && errno != EINTR)
            return errno;
    }
}

/* ------------------------------------------------------------------------------------------ single TIs */

int mlf_scheduler_run_task(mlf_scheduler *s, const char *dag_id, const char *run_id, const char *task_id, int map_index,
                           volatile sig_atomic_t *stop, mlf_ti_state *state, char *err, size_t errlen)
{
    mlf_store_txn *w = mlf_sc_wtxn(s);
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
        s->skipped_owned = 0;
        int rc = mlf_sc_resume_run(s, w, &k, mlf_time_now());
        if (rc == MLF_OK && s->skipped_owned) {
            mlf_run_rec rec;
            mlf_run_rec_init(&rec);
            mlf_store_run_get(w, dag_id, run_id, &rec);
            snprintf(err, errlen, "run %s/%s is being run by another process (%s): its task instances are not "
                     "touched while it lives", dag_id, run_id, rec.owner ? rec.owner : "?");
            mlf_run_rec_clear(&rec);
            return MLF_ESTATE;
        }
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
        mlf_sc_heap_remove(&s->timers, t, mlf_sc_timer_before);
        t->in_timer = 0;
    }
    s->single = 1; /* before scheduling: a single TI always gets its try (mlf_sc_needs_no_try) */
    if (t->heap_idx == (size_t)-1)
        mlf_sc_schedule_ti(s, t);
    int rc = mlf_scheduler_run(s, stop, dag_id, run_id);
    s->single = 0;
    *state = t->state;
    return rc;
}

const char *mlf_scheduler_worker_endpoint(const mlf_scheduler *s)
{
    return s->endpoint;
}

size_t mlf_scheduler_worker_count(const mlf_scheduler *s)
{
    mlf_value *d = mlf_executor_describe(s->ex);
    int64_t n = 0;
    mlf_value_get_int(mlf_map_get(d, "workers"), &n);
    mlf_value_free(d);
    return n > 0 ? (size_t)n : 0;
}
