/* sched_run.c -- DAG runs: the in-memory model, creation (explicit and by schedule), start within max_active_runs,
 * final state from the leaves, deadlocks, dagrun_timeout. */
#include "sched/sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strutil.h"
#include "dag/dag_params.h"
#include "time/duration.h"
#include "time/schedule.h"
#include "time/timefmt.h"

void mlf_sc_free_run(srun *r)
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


/* Builds the in-memory run around @p rec (copied): per-task state and upstream totals, nothing decided. */
srun *mlf_sc_make_run(mlf_dag *dag, const mlf_run_rec *rec)
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
    r->rec.owner = rec->owner ? strdup(rec->owner) : NULL;
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
        mlf_sc_free_run(r);
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


/* ------------------------------------------------------------------------------------------ runs */

/* A run whose tasks are all complete (or that cannot progress): success when every leaf succeeded or was
 * skipped, failed otherwise (Airflow's DagRun.update_state). */
void mlf_sc_finalize_run(mlf_scheduler *s, srun *r, int deadlock)
{
    if (r->finished)
        return;
    int failed = deadlock || r->timed_out;
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
    mlf_sc_save_run(s, r);
    sdag *sd = mlf_sc_find_sdag(s, r->rec.dag_id);
    if (sd && sd->active_runs)
        sd->active_runs--;
    if (sd) { /* a slot under max_active_runs may have opened: look at this DAG's schedule on the next turn */
        sd->next_check = 0;
        s->next_dag_check = 0;
        mlf_sc_asset_recheck(s, sd);
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
        mlf_sc_run_callback(s, cb, failed ? "on_failure_callback" : "on_success_callback", ev);
        mlf_value_free(ev);
    }
    if (s->o.on_run_finished)
        s->o.on_run_finished(s->o.ud, r->rec.dag_id, r->rec.run_id, r->rec.state);
}


/* ------------------------------------------------------------------------------------------ run creation */

/* Starts a queued run: it becomes running and its roots (and `always` tasks) are evaluated. */
static void start_run(mlf_scheduler *s, srun *r)
{
    r->rec.state = MLF_RUN_RUNNING;
    r->rec.start_date = mlf_time_now();
    mlf_sc_save_run(s, r);
    /* every undecided task once (roots run; a cleared run resumes where its finished upstreams allow) */
    for (size_t i = 0; i < r->dag->ntasks; i++)
        mlf_sc_mark_dirty(s, r, i);
    if (r->dag->ntasks == 0)
        mlf_sc_finalize_run(s, r, 0);
}

/* Queued runs start in logical-date order while the DAG has fewer than max_active_runs running. */
void mlf_sc_start_queued_runs(mlf_scheduler *s)
{
    for (;;) {
        srun *best = NULL;
        for (srun *r = s->runs; r; r = r->next) {
            if (r->finished || r->rec.state != MLF_RUN_QUEUED)
                continue;
            sdag *sd = mlf_sc_find_sdag(s, r->rec.dag_id);
            if (sd && (sd->paused || sd->active_runs >= r->dag->max_active_runs))
                continue;
            if (!best || r->rec.logical_date < best->rec.logical_date)
                best = r;
        }
        if (!best)
            return;
        sdag *sd = mlf_sc_find_sdag(s, best->rec.dag_id);
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
    mlf_store_run_foreach(txn, dag_id, logical_date, logical_date + 1, 0, mlf_sc_take_first_run, &p);
    free(p.run_id);
    return p.run_id != NULL;
}

static int create_run_iv(mlf_scheduler *s, mlf_dag *dag, mlf_run_type type, const mlf_interval *iv, const char *run_id,
                         const mlf_value *conf, char *run_id_out, size_t run_id_len, char *err, size_t errlen)
{
    char ts[64], idbuf[160];
    if (mlf_dag_check_params(dag, conf, err, errlen) != MLF_OK) /* Airflow's Param validation at trigger */
        return MLF_EINVAL;
    if (!run_id) {
        mlf_time_format_ts(iv->logical_date, ts, sizeof ts);
        snprintf(idbuf, sizeof idbuf, "%s__%s", mlf_run_type_name(type), ts);
        run_id = idbuf;
    }
    mlf_store_txn *w = mlf_sc_wtxn(s);
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
    srun *r = rc == MLF_OK ? mlf_sc_make_run(dag, &rec) : NULL;
    free(cbuf);
    if (r)
        mlf_sc_claim_run(s, r);
    if (!r) {
        snprintf(err, errlen, "cannot create the run: %s", mlf_strerror(rc ? rc : MLF_ENOMEM));
        return rc ? rc : MLF_ENOMEM;
    }
    /* every task gets its TI record now (a mapped task: its placeholder, map index -1) */
    for (size_t i = 0; i < dag->ntasks; i++) {
        sti *t = mlf_sc_new_ti(r, i, -1);
        if (!t || mlf_sc_add_ti(&r->tasks[i], t) != MLF_OK) {
            free(t);
            mlf_sc_flush_tis(s); /* nothing may point into the run */
            mlf_sc_free_run(r);
            return MLF_ENOMEM;
        }
        r->tasks[i].unfinished = 1;
        mlf_sc_save_ti(s, t);
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
    sdag *sd = mlf_sc_find_sdag(s, dag->dag_id);
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
    if (rec->run_type == MLF_RUN_TYPE_MANUAL || rec->run_type == MLF_RUN_TYPE_ASSET_TRIGGERED)
        return 0; /* a cron + assets schedule: the cron's intervals go on from its own last run */
    mlf_interval *iv = ud;
    iv->data_interval_start = rec->data_interval_start;
    iv->data_interval_end = rec->data_interval_end;
    iv->logical_date = rec->logical_date;
    iv->run_after = rec->data_interval_end;
    return MLF_STORE_STOP;
}

/* Creates the runs schedules say are due (one per DAG per turn; catchup fills the rest turn by turn),
 * never above a DAG's max_active_runs. */
void mlf_sc_create_scheduled_runs(mlf_scheduler *s, mlf_time_us now)
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
            mlf_store_txn *w = mlf_sc_wtxn(s);
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


/* Drops finished runs from memory (their records stay in the store). */
void mlf_sc_reap_finished_runs(mlf_scheduler *s)
{
    mlf_sc_flush_tis(s); /* their TIs changed this turn are written before they are freed */
    srun **p = &s->runs;
    while (*p) {
        srun *r = *p;
        if (r->finished && !r->in_dirty_runs) { /* still listed as dirty: next turn, after evaluation */
            *p = r->next;
            mlf_sc_free_run(r);
        } else {
            p = &r->next;
        }
    }
}

/* A running run with nothing in flight and nothing left to decide can never progress: deadlock. (Not
 * while an older run of the same DAG is active: a depends_on_past task may be waiting for it.) */
void mlf_sc_detect_deadlocks(mlf_scheduler *s)
{
    for (srun *r = s->runs; r; r = r->next) {
        if (r->finished || r->rec.state != MLF_RUN_RUNNING || r->active_tis > 0 || r->open_tasks == 0)
            continue;
        int pending = r->ndirty > 0;
        for (srun *o = s->runs; o && !pending; o = o->next)
            pending = o != r && !o->finished && strcmp(o->rec.dag_id, r->rec.dag_id) == 0 &&
                      o->rec.logical_date < r->rec.logical_date;
        if (!pending)
            mlf_sc_finalize_run(s, r, 1);
    }
}

mlf_time_us mlf_sc_time_out_runs(mlf_scheduler *s, mlf_time_us now)
{
    mlf_time_us next = 0;
    for (srun *r = s->runs; r; r = r->next) {
        int64_t limit = r->dag->dagrun_timeout_us;
        if (r->finished || r->rec.state != MLF_RUN_RUNNING || limit <= 0)
            continue;
        if (now - r->rec.start_date < limit) {
            if (!next || r->rec.start_date + limit < next)
                next = r->rec.start_date + limit;
            continue;
        }
        char in[32], note[96];
        if (mlf_duration_format(limit, in, sizeof in) != MLF_OK)
            snprintf(in, sizeof in, "%lld us", (long long)limit);
        snprintf(note, sizeof note, "timed out: the run lasted longer than its dagrun_timeout (%s)", in);
        mlf_log(MLF_LOG_WARNING, COMPONENT, "DAG run %s/%s %s", r->rec.dag_id, r->rec.run_id, note);
        free(r->rec.note);
        r->rec.note = strdup(note);
        r->timed_out = 1;
        for (size_t i = 0; i < r->dag->ntasks && !r->finished; i++) {
            stask *st = &r->tasks[i];
            for (size_t k = 0; k < st->ntis; k++) {
                sti *t = st->tis[k];
                if (mlf_ti_state_is_finished(t->state))
                    continue;
                if (t->attempt[0] && mlf_sc_take_running(s, t->attempt) == t) {
                    mlf_executor_kill(s->ex, t->attempt, now); /* its result will be ignored as stale */
                    mlf_sc_release_slots(s, t);
                }
                mlf_sc_finish_ti(s, t, MLF_TI_SKIPPED, "skipped: the DAG run timed out (dagrun_timeout)");
            }
        }
        mlf_sc_finalize_run(s, r, 0);
    }
    return next;
}

int mlf_sc_run_finished(mlf_scheduler *s, const char *dag_id, const char *run_id)
{
    for (srun *r = s->runs; r; r = r->next)
        if (strcmp(r->rec.dag_id, dag_id) == 0 && (!run_id || strcmp(r->rec.run_id, run_id) == 0) && !r->finished)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------ assets */

int mlf_sc_create_run_at(mlf_scheduler *s, mlf_dag *dag, mlf_run_type type, const mlf_interval *iv,
                         const char *run_id, char *err, size_t errlen)
{
    return create_run_iv(s, dag, type, iv, run_id, NULL, NULL, 0, err, errlen);
}
