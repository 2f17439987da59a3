/* sched_ti.c -- task instance records and state transitions: finishing a TI tells its downstream tasks,
 * trigger rules decide dirty tasks, mapped tasks expand, depends_on_past is checked. */
#include "sched/sched_internal.h"

#include "base/redact.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "tmpl/template.h"

/* ------------------------------------------------------------------------------------------ TI records */

int mlf_sc_is_unfinished_active(mlf_ti_state st)
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

void mlf_sc_save_ti(mlf_scheduler *s, sti *t)
{
    if (t->save_pending)
        return;
    if (s->nunsaved == s->capunsaved) {
        size_t cap = s->capunsaved ? s->capunsaved * 2 : 64;
        sti **v = realloc(s->unsaved, cap * sizeof *v);
        if (!v) { /* write it now rather than lose it */
            mlf_store_txn *w = mlf_sc_wtxn(s);
            mlf_ti_rec r;
            ti_record(t, &r);
            if (w)
                mlf_sc_note_store(s, mlf_store_ti_put(w, &r), "task instance");
            return;
        }
        s->unsaved = v;
        s->capunsaved = cap;
    }
    t->save_pending = 1;
    s->unsaved[s->nunsaved++] = t;
}

void mlf_sc_flush_tis(mlf_scheduler *s)
{
    mlf_store_txn *w = s->nunsaved ? mlf_sc_wtxn(s) : NULL;
    for (size_t i = 0; i < s->nunsaved; i++) {
        sti *t = s->unsaved[i];
        t->save_pending = 0;
        if (!w)
            continue;
        mlf_ti_rec r;
        ti_record(t, &r);
        mlf_sc_note_store(s, mlf_store_ti_put(w, &r), "task instance");
    }
    s->nunsaved = 0;
}

void mlf_sc_save_run(mlf_scheduler *s, srun *r)
{
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (w)
        mlf_sc_note_store(s, mlf_store_run_put(w, &r->rec), "dag run");
}

void mlf_sc_set_message(sti *t, const char *msg)
{
    free(t->message);
    t->message = mlf_ti_message_bound(msg); /* stored, logged and sent to notifiers: bounded */
}

sti *mlf_sc_new_ti(srun *r, size_t task, int map_index)
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

int mlf_sc_add_ti(stask *st, sti *t)
{
    sti **v = realloc(st->tis, (st->ntis + 1) * sizeof *v);
    if (!v)
        return MLF_ENOMEM;
    st->tis = v;
    st->tis[st->ntis++] = t;
    return MLF_OK;
}

void mlf_sc_mark_dirty(mlf_scheduler *s, srun *r, size_t task)
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


/* ------------------------------------------------------------------------------------------ transitions */

void mlf_sc_count_finished(mlf_upstream_counts *c, mlf_ti_state st, int delta)
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

static void wake_next_run(mlf_scheduler *s, srun *r, size_t task);

/* A task all of whose TIs finished: the run may be complete. */
static void task_maybe_complete(mlf_scheduler *s, srun *r, size_t task)
{
    stask *st = &r->tasks[task];
    if (st->complete || !st->decided || !st->expanded || st->unfinished)
        return;
    st->complete = 1;
    if (--r->open_tasks == 0)
        mlf_sc_finalize_run(s, r, 0);
}

/* Moves @p t to a finished state and tells its downstream tasks (work: its downstream edges). */
void mlf_sc_finish_ti(mlf_scheduler *s, sti *t, mlf_ti_state state, const char *message)
{
    srun *r = t->run;
    if (mlf_ti_state_is_finished(t->state))
        return;
    if (mlf_sc_is_unfinished_active(t->state) && r->active_tis)
        r->active_tis--;
    if (t->in_timer) {
        mlf_sc_heap_remove(&s->timers, t, mlf_sc_timer_before);
        t->in_timer = 0;
    }
    if (t->heap_idx != (size_t)-1)
        mlf_sc_heap_remove(&s->ready, t, mlf_sc_ready_before);
    t->state = state;
    if (!t->end_date)
        t->end_date = mlf_time_now();
    if (message)
        mlf_sc_set_message(t, message);
    mlf_sc_save_ti(s, t);
    if ((state == MLF_TI_FAILED || state == MLF_TI_SUCCESS) && t->try_number > 0)
        mlf_sc_ti_callback(s, t, state);
    const mlf_task *task = &r->dag->tasks[t->task];
    for (size_t d = 0; d < task->ndownstream; d++) {
        stask *ds = &r->tasks[task->downstream[d]];
        mlf_sc_count_finished(&ds->up, state, 1);
        mlf_sc_mark_dirty(s, r, task->downstream[d]);
    }
    mlf_sc_wake_setup_waiters(s, r, t->task);
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

int mlf_sc_needs_no_try(const mlf_scheduler *s, const sti *t)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    return !s->single && (task->op->flags & MLF_OP_NO_EXECUTE) && !task->on_success_callback;
}

void mlf_sc_finish_without_try(mlf_scheduler *s, sti *t)
{
    mlf_time_us now = mlf_time_now();
    t->start_date = now;
    t->end_date = now;
    t->try_number++; /* as Airflow shows it: the TI's one try, done by the scheduler */
    mlf_sc_finish_ti(s, t, MLF_TI_SUCCESS, NULL);
    mlf_sc_record_outlets(s, t, NULL); /* an empty task with outlets updates them (doc/assets.md) */
}

/* Schedules @p t: it joins the ready heap (dispatched by priority within the limits), or succeeds at once
 * when its operator needs no try. */
void mlf_sc_schedule_ti(mlf_scheduler *s, sti *t)
{
    if (mlf_sc_needs_no_try(s, t)) {
        mlf_sc_finish_without_try(s, t);
        return;
    }
    if (!mlf_sc_is_unfinished_active(t->state))
        t->run->active_tis++;
    t->state = MLF_TI_SCHEDULED;
    t->wake_at = 0;
    mlf_sc_save_ti(s, t);
    mlf_sc_heap_push(&s->ready, t, mlf_sc_ready_before);
}

/* Expanded TIs' count changed the totals of downstream tasks: one pending TI becomes @p n TIs. */
static void expansion_done(mlf_scheduler *s, srun *r, size_t task, size_t n)
{
    const mlf_task *t = &r->dag->tasks[task];
    for (size_t d = 0; d < t->ndownstream; d++) {
        stask *ds = &r->tasks[t->downstream[d]];
        ds->up_pending_expansion--;
        ds->up.total = ds->up.total - 1 + (unsigned)(n ? n : 1);
        mlf_sc_mark_dirty(s, r, t->downstream[d]);
    }
}



/* Expands mapped task @p task: renders its `expand` lists, creates one TI per combination (each
 * scheduled), or one skipped TI when a list is empty (Airflow). Returns MLF_OK, or an error with the
 * task failed (its single TI upstream of nothing: state failed, message). */
static void expand_task(mlf_scheduler *s, srun *r, size_t task)
{
    stask *st = &r->tasks[task];
    const mlf_task *t = &r->dag->tasks[task];
    render_ctx rc = {.s = s, .run = r};
    mlf_template_env env = {.lookup = mlf_sc_render_lookup, .call = mlf_sc_render_call, .ud = &rc};
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
            placeholder = mlf_sc_new_ti(r, task, -1);
            if (!placeholder || mlf_sc_add_ti(st, placeholder) != MLF_OK)
                return;
            st->unfinished++;
        }
        expansion_done(s, r, task, 0);
        if (rcode != MLF_OK) {
            char msg[700];
            snprintf(msg, sizeof msg, "cannot expand: %s", err);
            mlf_log(MLF_LOG_ERROR, COMPONENT, "%s/%s/%s: %s", r->rec.dag_id, r->rec.run_id, t->task_id, msg);
            mlf_sc_finish_ti(s, placeholder, MLF_TI_FAILED, msg);
        } else {
            mlf_sc_finish_ti(s, placeholder, MLF_TI_SKIPPED, "expand produced no task instances (an empty list)");
        }
        return;
    }
    /* replace the -1 placeholder by map indexes 0..n-1 */
    if (placeholder) {
        mlf_store_txn *w = mlf_sc_wtxn(s);
        mlf_ti_key key = {.dag_id = r->rec.dag_id, .run_id = r->rec.run_id, .task_id = t->task_id, .map_index = -1};
        if (w)
            mlf_store_ti_delete(w, &key);
        placeholder->map_index = 0;
    } else {
        placeholder = mlf_sc_new_ti(r, task, 0);
        if (!placeholder || mlf_sc_add_ti(st, placeholder) != MLF_OK)
            return;
        st->unfinished++;
    }
    for (size_t i = 1; i < n; i++) {
        sti *ti = mlf_sc_new_ti(r, task, (int)i);
        if (!ti || mlf_sc_add_ti(st, ti) != MLF_OK)
            break;
        st->unfinished++;
    }
    expansion_done(s, r, task, st->ntis);
    for (size_t i = 0; i < st->ntis; i++)
        mlf_sc_schedule_ti(s, st->tis[i]);
}

/* Applies a trigger decision to every TI of @p task. */
void mlf_sc_decide(mlf_scheduler *s, srun *r, size_t task, mlf_trigger_decision d)
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
            mlf_sc_schedule_ti(s, ti);
        else
            mlf_sc_finish_ti(s, ti, d == MLF_TRIGGER_SKIP ? MLF_TI_SKIPPED : MLF_TI_UPSTREAM_FAILED, NULL);
    }
    task_maybe_complete(s, r, task);
}


/* depends_on_past: the same task (same map index) must have succeeded or been skipped in the previous run
 * (by logical date) of this DAG; with wait_for_downstream its direct downstreams too. No previous run:
 * met (Airflow's ignore_first_depends_on_past). Returns 1 when met. */

int mlf_sc_take_first_run(void *ud, const mlf_run_rec *rec)
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
    mlf_sc_flush_tis(s); /* the previous run's TIs may have changed this turn */
    mlf_store_txn *txn = mlf_sc_wtxn(s);
    if (!txn)
        return 0;
    prev_run p = {0};
    mlf_store_run_foreach(txn, r->rec.dag_id, INT64_MIN, r->rec.logical_date, MLF_STORE_REVERSE, mlf_sc_take_first_run, &p);
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
    mlf_sc_mark_dirty(s, next, (size_t)idx);
}

/* Airflow's MappedTaskUpstreamDep for a mapped task not expanded yet: a task whose XCom it maps over that
 * ended failed or upstream_failed makes it upstream_failed, one that was skipped makes it skipped, whatever
 * its trigger rule. A source that expanded into instances did neither (its instances' XComs are what is
 * mapped over). Returns MLF_TRIGGER_RUN when the sources allow the trigger rule to decide, MLF_TRIGGER_WAIT
 * while a source has not finished. */
static mlf_trigger_decision mapped_deps(const srun *r, size_t task)
{
    const mlf_task *t = &r->dag->tasks[task];
    if (!t->expand || r->tasks[task].expanded)
        return MLF_TRIGGER_RUN;
    int failed = 0, skipped = 0, waiting = 0;
    for (size_t i = 0; i < t->nexpand_src; i++) {
        const stask *src = &r->tasks[t->expand_src[i]];
        if (!src->complete) {
            waiting = 1;
            continue;
        }
        if (src->ntis != 1 || src->tis[0]->map_index != -1)
            continue; /* expanded into instances */
        mlf_ti_state st = src->tis[0]->state;
        failed |= st == MLF_TI_FAILED || st == MLF_TI_UPSTREAM_FAILED;
        skipped |= st == MLF_TI_SKIPPED;
    }
    if (failed)
        return MLF_TRIGGER_UPSTREAM_FAILED;
    if (skipped)
        return MLF_TRIGGER_SKIP;
    return waiting ? MLF_TRIGGER_WAIT : MLF_TRIGGER_RUN;
}

/* Evaluates the tasks whose upstream counters changed this turn (and new runs' roots). */
void mlf_sc_evaluate_dirty(mlf_scheduler *s)
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
            mlf_trigger_decision d = mapped_deps(r, task);
            if (d != MLF_TRIGGER_RUN) {
                if (d != MLF_TRIGGER_WAIT)
                    mlf_sc_decide(s, r, task, d);
                continue;
            }
            if (dag->tasks[task].nsetups && (d = mlf_sc_setup_constraint(r, task)) != MLF_TRIGGER_RUN) {
                if (d != MLF_TRIGGER_WAIT)
                    mlf_sc_decide(s, r, task, d);
                continue;
            }
            mlf_upstream_counts up = st->up;
            if (dag->tasks[task].trigger_rule == MLF_TR_ALL_DONE_SETUP_SUCCESS)
                mlf_sc_count_setups(r, task, &up);
            d = mlf_trigger_evaluate(dag->tasks[task].trigger_rule, &up);
            if (d == MLF_TRIGGER_RUN && st->up_pending_expansion)
                d = MLF_TRIGGER_WAIT; /* the totals are not final until every mapped upstream expanded */
            if (d == MLF_TRIGGER_RUN && !past_met(s, r, task))
                d = MLF_TRIGGER_WAIT;
            if (d != MLF_TRIGGER_WAIT)
                mlf_sc_decide(s, r, task, d);
        }
    }
}
