/* sched_recover.c -- recovery: resuming unfinished runs after a restart (zombie tries retried or adopted), and runs,
 * clears and pauses written by other processes while the scheduler runs. */
#include "sched/sched_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "web/metrics_tries.h"
#include "base/strutil.h"
#include "tmpl/template.h"

/* ------------------------------------------------------------------------------------------ recovery */


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
    sti *t = mlf_sc_new_ti(r, (size_t)task, rec->map_index);
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
    return mlf_sc_add_ti(&r->tasks[task], t);
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
    mlf_sc_store_xcoms(&s0, &probe, one);
    mlf_value_free(one);
    (void)lc->s;
    return 0;
}

/* A mapped task whose instances still have to run needs the values it was expanded with (a run resumed
 * after a restart, or one whose mapped instances were cleared): rendered again, as at expansion, from the
 * run's params and the upstream XComs just loaded. Without them a try would get none of its mapped
 * parameters. */
static void restore_expansion(mlf_scheduler *s, srun *r, size_t task)
{
    stask *st = &r->tasks[task];
    const mlf_task *t = &r->dag->tasks[task];
    if (!t->expand || !st->expanded || !st->unfinished || st->expanded_values)
        return;
    render_ctx rc = {.s = s, .run = r};
    mlf_template_env env = {.lookup = mlf_sc_render_lookup, .call = mlf_sc_render_call, .ud = &rc};
    mlf_value *vals = NULL;
    char err[512] = "";
    if (mlf_template_render_value(t->expand, &env, &vals, err, sizeof err) == MLF_OK)
        st->expanded_values = vals;
    else
        mlf_log(MLF_LOG_WARNING, COMPONENT, "%s/%s/%s: expand did not render again (%s)", r->rec.dag_id,
                r->rec.run_id, t->task_id, err);
    mlf_value_free(rc.names);
    mlf_value_free(rc.secrets);
}

/* Rebuilds one run's in-memory state from its records. */
int mlf_sc_resume_run(mlf_scheduler *s, mlf_store_txn *txn, const run_key *k, mlf_time_us now)
{
    mlf_run_rec rec;
    mlf_run_rec_init(&rec);
    int rc = mlf_store_run_get(txn, k->dag_id, k->run_id, &rec);
    if (rc != MLF_OK)
        return rc == MLF_ENOTFOUND ? MLF_OK : rc;
    if (mlf_sc_owned_elsewhere(s, &rec)) { /* its owner lives: its TIs are not ours to touch */
        mlf_log(MLF_LOG_DEBUG, COMPONENT, "run %s/%s is run by %s: left alone", k->dag_id, k->run_id, rec.owner);
        s->skipped_owned = 1;
        mlf_run_rec_clear(&rec);
        return MLF_OK;
    }
    mlf_dag *dag = (mlf_dag *)mlf_dagbag_get(s->o.bag, k->dag_id);
    if (!dag) {
        mlf_log(MLF_LOG_WARNING, COMPONENT, "run %s/%s cannot resume: its DAG is not loaded", k->dag_id, k->run_id);
        mlf_run_rec_clear(&rec);
        return MLF_OK;
    }
    srun *r = mlf_sc_make_run(dag, &rec);
    mlf_run_rec_clear(&rec);
    if (!r)
        return MLF_ENOMEM;
    mlf_sc_claim_run(s, r);
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
        restore_expansion(s, r, i);
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
                mlf_sc_count_finished(&st->up, us->tis[j]->state, 1);
        }
        if (st->decided && st->expanded && st->unfinished == 0) {
            st->complete = 1;
            r->open_tasks--;
        }
    }
    if (r->rec.state == MLF_RUN_RUNNING) {
        sdag *sd = mlf_sc_find_sdag(s, r->rec.dag_id);
        if (sd)
            sd->active_runs++;
    }
    /* TIs in flight belonged to processes that are gone */
    for (size_t i = 0; i < dag->ntasks; i++) {
        stask *st = &r->tasks[i];
        for (size_t j = 0; j < st->ntis; j++) {
            sti *t = st->tis[j];
            if (mlf_sc_is_unfinished_active(t->state))
                r->active_tis++;
            int kept = 0;
            for (size_t q = 0; q < s->nkeep && !kept && t->attempt[0]; q++)
                kept = strcmp(s->keep[q], t->attempt) == 0;
            if ((t->state == MLF_TI_QUEUED || t->state == MLF_TI_RUNNING) && kept) {
                t->state = MLF_TI_RUNNING; /* still running in our executor (a reloaded run) */
                mlf_sc_add_running(s, t);
                const mlf_task *tk = &dag->tasks[i];
                int p = mlf_sc_pool_index(s, tk->pool);
                if (p >= 0)
                    s->pool_used[p] += tk->pool_slots;
                sdag *sd2 = mlf_sc_find_sdag(s, r->rec.dag_id);
                if (sd2)
                    sd2->running_tis++;
            } else if ((t->state == MLF_TI_QUEUED || t->state == MLF_TI_RUNNING) && mlf_sc_adopt_leased(s, txn, t, now)) {
                t->state = MLF_TI_RUNNING; /* its worker still has it: the executor settles it */
                mlf_sc_add_running(s, t);
                const mlf_task *tk = &dag->tasks[i];
                int p = mlf_sc_pool_index(s, tk->pool);
                if (p >= 0)
                    s->pool_used[p] += tk->pool_slots;
                sdag *sd2 = mlf_sc_find_sdag(s, r->rec.dag_id);
                if (sd2)
                    sd2->running_tis++;
                mlf_log(MLF_LOG_INFO, COMPONENT, "%s/%s/%s: try %d is still leased to a worker; waiting for it",
                        r->rec.dag_id, r->rec.run_id, dag->tasks[i].task_id, t->try_number);
            } else if (t->state == MLF_TI_QUEUED || t->state == MLF_TI_RUNNING) {
                t->state = MLF_TI_SCHEDULED; /* counted active already */
                if (t->try_number < t->max_tries) {
                    t->state = MLF_TI_UP_FOR_RETRY;
                    t->wake_at = now + mlf_sc_retry_delay(&dag->tasks[i], t->try_number);
                    mlf_sc_set_message(t, "zombie: the scheduler stopped while this try was running");
                    mlf_sc_save_ti(s, t);
                    t->in_timer = 1;
                    mlf_sc_heap_push(&s->timers, t, mlf_sc_timer_before);
                } else {
                    mlf_sc_finish_ti(s, t, MLF_TI_FAILED, "zombie: the scheduler stopped while this try was running");
                }
                mlf_metrics_zombie();
                mlf_log(MLF_LOG_WARNING, COMPONENT, "%s/%s/%s: zombie try %d (the scheduler stopped while it ran)",
                        r->rec.dag_id, r->rec.run_id, dag->tasks[i].task_id, t->try_number);
            } else if (t->state == MLF_TI_SCHEDULED) {
                mlf_sc_heap_push(&s->ready, t, mlf_sc_ready_before);
            } else if (t->state == MLF_TI_UP_FOR_RETRY || t->state == MLF_TI_UP_FOR_RESCHEDULE) {
                t->in_timer = 1;
                mlf_sc_heap_push(&s->timers, t, mlf_sc_timer_before);
            }
        }
        if (!st->decided && r->rec.state == MLF_RUN_RUNNING)
            mlf_sc_mark_dirty(s, r, i);
    }
    if (r->open_tasks == 0 && r->rec.state == MLF_RUN_RUNNING)
        mlf_sc_finalize_run(s, r, 0);
    return MLF_OK;
}

static int read_paused(void *ud, const mlf_dag_rec *rec)
{
    sdag *sd = mlf_sc_find_sdag(ud, rec->dag_id);
    if (sd && sd->paused != rec->is_paused) {
        sd->paused = rec->is_paused;
        sd->next_check = 0;
        ((mlf_scheduler *)ud)->next_dag_check = 0;
        if (!sd->paused)
            mlf_sc_asset_recheck(ud, sd); /* events that came while it was paused */
    }
    return 0;
}

/* `tasks clear` (another process) queued run @p r again while it is in memory: drop our view of it and
 * rebuild it from the store. Tries of TIs the clear reset are killed; the run's other running tries stay
 * attached. */
static void reload_run(mlf_scheduler *s, mlf_store_txn *w, srun *r, mlf_time_us now)
{
    mlf_sc_flush_tis(s); /* the records it reads, and the run it frees */
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
            mlf_executor_kill(s->ex, t->attempt, now); /* its result will be ignored as stale */
        } else {
            char (*v)[33] = realloc(keep, (nkeep + 1) * sizeof *v);
            if (v) {
                keep = v;
                mlf_strlcpy(keep[nkeep++], t->attempt, 33);
            }
        }
        mlf_sc_release_slots(s, t);
        s->running[i] = s->running[--s->nrunning];
    }
    for (size_t i = 0; i < r->dag->ntasks; i++)
        for (size_t k = 0; k < r->tasks[i].ntis; k++) {
            sti *t = r->tasks[i].tis[k];
            if (t->heap_idx != (size_t)-1)
                mlf_sc_heap_remove(&s->ready, t, mlf_sc_ready_before);
            if (t->in_timer)
                mlf_sc_heap_remove(&s->timers, t, mlf_sc_timer_before);
        }
    for (size_t i = 0; i < s->ndirty;) { /* no dangling pointer in the dirty list */
        if (s->dirty_runs[i] == r)
            s->dirty_runs[i] = s->dirty_runs[--s->ndirty];
        else
            i++;
    }
    sdag *sd = mlf_sc_find_sdag(s, r->rec.dag_id);
    if (sd && r->rec.state == MLF_RUN_RUNNING && sd->active_runs)
        sd->active_runs--;
    for (srun **p = &s->runs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    run_key k = {strdup(r->rec.dag_id), strdup(r->rec.run_id)};
    mlf_sc_free_run(r);
    s->keep = keep;
    s->nkeep = nkeep;
    if (k.dag_id && k.run_id)
        mlf_sc_resume_run(s, w, &k, now);
    s->keep = NULL;
    s->nkeep = 0;
    free(keep);
    free(k.dag_id);
    free(k.run_id);
}

/* Runs created and DAGs paused by other processes (`mlflowd dags trigger`, `dags pause` while this
 * scheduler runs): new runs have task instances in state none, found through the state index; pause
 * flags are read from the DAG records. */
void mlf_sc_adopt_external_changes(mlf_scheduler *s, mlf_time_us now)
{
    if (now < s->next_adopt)
        return;
    s->next_adopt = now + 2 * 1000000LL;
    mlf_sc_flush_tis(s); /* the state index must show this turn's changes */
    mlf_store_txn *w = mlf_sc_wtxn(s);
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
            s->skipped_owned = 0;
            mlf_sc_resume_run(s, w, &keys.v[i], now);
            if (!s->skipped_owned) /* else another live process runs it */
                mlf_log(MLF_LOG_INFO, COMPONENT, "picked up DAG run %s/%s", keys.v[i].dag_id, keys.v[i].run_id);
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
    mlf_sc_flush_tis(s);
    mlf_store_txn *w = mlf_sc_wtxn(s);
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
            rc = mlf_sc_resume_run(s, w, &keys.v[i], now);
        free(keys.v[i].dag_id);
        free(keys.v[i].run_id);
    }
    free(keys.v);
    if (keys.n)
        mlf_log(MLF_LOG_INFO, COMPONENT, "resumed %zu unfinished DAG run(s)", keys.n);
    mlf_sc_evaluate_dirty(s);
    int crc = mlf_sc_commit(s);
    return rc ? rc : crc;
}
