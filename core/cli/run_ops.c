/*
 * run_ops.c -- pause, clear and mark, shared by the CLI and the webserver (run_ops.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run_ops.h"
#include "store/store_cache.h"
#include "time/timefmt.h"

int mlf_ops_set_paused(mlf_store *st, const mlf_dag *dag, int paused)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    mlf_dag_rec rec;
    mlf_dag_rec_init(&rec);
    if (mlf_store_dag_get(w, dag->dag_id, &rec) != MLF_OK) {
        mlf_dag_rec_init(&rec);
        rec.dag_id = strdup(dag->dag_id);
        rec.fileloc = strdup(dag->fileloc);
        rec.is_active = true;
    }
    rec.is_paused = paused;
    rc = mlf_store_dag_put(w, &rec);
    mlf_dag_rec_clear(&rec);
    return rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
}

void mlf_ops_select_closure(const mlf_dag *d, size_t t, int downstream, unsigned char *sel)
{
    const size_t *next = downstream ? d->tasks[t].downstream : d->tasks[t].upstream;
    size_t n = downstream ? d->tasks[t].ndownstream : d->tasks[t].nupstream;
    for (size_t i = 0; i < n; i++)
        if (!sel[next[i]]) {
            sel[next[i]] = 1;
            mlf_ops_select_closure(d, next[i], downstream, sel);
        }
}

typedef struct run_ids {
    char **v;
    size_t n;
} run_ids;

static int collect_run(void *ud, const mlf_run_rec *rec)
{
    run_ids *ids = ud;
    char **v = realloc(ids->v, (ids->n + 1) * sizeof *v);
    if (!v)
        return MLF_ENOMEM;
    ids->v = v;
    if (!(ids->v[ids->n] = strdup(rec->run_id)))
        return MLF_ENOMEM;
    ids->n++;
    return 0;
}

typedef struct clear_ctx {
    const mlf_dag *dag;
    const mlf_clear_opts *o;
    unsigned char *sel; /* o->selected with the setups and teardowns Airflow clears along */
    mlf_store_txn *w;
    size_t cleared;
} clear_ctx;

static int clear_ti(void *ud, const mlf_ti_rec *rec)
{
    clear_ctx *c = ud;
    long idx = mlf_dag_task_index(c->dag, rec->task_id);
    if (idx < 0 || !c->sel[idx])
        return 0;
    if (c->o->only_failed && rec->state != MLF_TI_FAILED && rec->state != MLF_TI_UPSTREAM_FAILED)
        return 0;
    if (c->o->dry) {
        c->cleared++;
        char mi[16] = "";
        if (rec->map_index >= 0)
            snprintf(mi, sizeof mi, "[%d]", rec->map_index);
        if (c->o->listing && c->cleared <= 50)
            mlf_buf_printf(c->o->listing, "  %s %s%s (%s)\n", rec->run_id, rec->task_id, mi,
                           rec->state == MLF_TI_NONE ? "none" : mlf_ti_state_name(rec->state));
        return 0;
    }
    mlf_ti_rec copy = *rec;
    copy.state = MLF_TI_NONE;
    /* as Airflow: the cleared TI gets its retries again, counted from its current try */
    copy.max_tries = rec->try_number + c->dag->tasks[idx].retries + 1;
    copy.end_date = 0;
    copy.wake_at = 0;
    copy.first_poke_at = 0;
    copy.message = NULL;
    copy.external_executor_id = NULL;
    int rc = mlf_store_ti_put(c->w, &copy);
    if (rc == MLF_OK && c->o->no_cache) { /* read by the scheduler at the next dispatch (sched_cache.c) */
        mlf_ti_key key = mlf_ti_rec_key(rec);
        rc = mlf_store_cache_mark_put(c->w, &key);
    }
    if (rc == MLF_OK)
        c->cleared++;
    return rc;
}

int mlf_ops_clear(mlf_store *st, const mlf_dag *dag, const mlf_clear_opts *o, size_t *cleared)
{
    clear_ctx c = {.dag = dag, .o = o};
    run_ids runs = {0};
    /* as Airflow's DAG.clear (partial_subset): a task's setups and teardowns are cleared with it */
    c.sel = malloc(dag->ntasks ? dag->ntasks : 1);
    if (!c.sel)
        return MLF_ENOMEM;
    memcpy(c.sel, o->selected, dag->ntasks);
    if (mlf_dag_select_setups_teardowns(dag, c.sel) != MLF_OK) {
        free(c.sel);
        return MLF_ENOMEM;
    }
    int rc = o->dry ? mlf_store_read_begin(st, &c.w) : mlf_store_write_begin(st, &c.w);
    if (rc != MLF_OK) {
        free(c.sel);
        return rc;
    }
    if (o->run_id) {
        runs.v = malloc(sizeof *runs.v);
        rc = runs.v && (runs.v[0] = strdup(o->run_id)) ? MLF_OK : MLF_ENOMEM;
        runs.n = rc == MLF_OK;
    } else {
        rc = mlf_store_run_foreach(c.w, dag->dag_id, o->start, o->end == INT64_MAX ? o->end : o->end + 1, 0,
                                   collect_run, &runs);
    }
    for (size_t i = 0; i < runs.n && rc == MLF_OK; i++) {
        size_t before = c.cleared;
        rc = mlf_store_ti_foreach_run(c.w, dag->dag_id, runs.v[i], NULL, clear_ti, &c);
        if (rc == MLF_OK && !o->dry && c.cleared > before) { /* the run runs again */
            mlf_run_rec run;
            mlf_run_rec_init(&run);
            if (mlf_store_run_get(c.w, dag->dag_id, runs.v[i], &run) == MLF_OK) {
                run.state = MLF_RUN_QUEUED;
                run.end_date = 0;
                rc = mlf_store_run_put(c.w, &run);
            }
            mlf_run_rec_clear(&run);
        }
    }
    if (o->dry)
        mlf_store_read_end(c.w);
    else
        rc = rc == MLF_OK ? mlf_store_write_commit(c.w) : (mlf_store_write_abort(c.w), rc);
    for (size_t i = 0; i < runs.n; i++)
        free(runs.v[i]);
    free(runs.v);
    free(c.sel);
    if (cleared)
        *cleared = rc == MLF_OK ? c.cleared : 0;
    return rc;
}

typedef struct mark_ctx {
    const mlf_dag *dag; /* NULL: every TI */
    const unsigned char *selected;
    mlf_ti_state state;
    mlf_store_txn *w;
    mlf_time_us now;
    int only_unfinished;
    size_t marked;
} mark_ctx;

static int finished(mlf_ti_state s)
{
    return s == MLF_TI_SUCCESS || s == MLF_TI_FAILED || s == MLF_TI_SKIPPED || s == MLF_TI_UPSTREAM_FAILED ||
           s == MLF_TI_REMOVED;
}

static int mark_ti(void *ud, const mlf_ti_rec *rec)
{
    mark_ctx *c = ud;
    if (c->dag && c->selected) {
        long idx = mlf_dag_task_index(c->dag, rec->task_id);
        if (idx < 0 || !c->selected[idx])
            return 0;
    }
    if (rec->state == c->state || (c->only_unfinished && finished(rec->state)))
        return 0;
    mlf_ti_rec copy = *rec;
    copy.state = c->state;
    if (copy.end_date == MLF_TIME_NONE || copy.end_date == 0)
        copy.end_date = c->now;
    copy.wake_at = MLF_TIME_NONE;
    copy.message = c->state == MLF_TI_SUCCESS ? "marked success by hand" : "marked failed by hand";
    int rc = mlf_store_ti_put(c->w, &copy);
    if (rc == MLF_OK)
        c->marked++;
    return rc;
}

int mlf_ops_mark_tis(mlf_store *st, const mlf_dag *dag, const char *run_id, const unsigned char *selected,
                     mlf_ti_state state, size_t *marked)
{
    if (state != MLF_TI_SUCCESS && state != MLF_TI_FAILED)
        return MLF_EINVAL;
    mark_ctx c = {.dag = dag, .selected = selected, .state = state, .now = mlf_time_now()};
    int rc = mlf_store_write_begin(st, &c.w);
    if (rc != MLF_OK)
        return rc;
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    rc = mlf_store_run_get(c.w, dag->dag_id, run_id, &run);
    if (rc == MLF_OK)
        rc = mlf_store_ti_foreach_run(c.w, dag->dag_id, run_id, NULL, mark_ti, &c);
    if (rc == MLF_OK && c.marked && (run.state == MLF_RUN_SUCCESS || run.state == MLF_RUN_FAILED)) {
        run.state = MLF_RUN_RUNNING; /* the scheduler decides the run's state again */
        run.end_date = MLF_TIME_NONE;
        rc = mlf_store_run_put(c.w, &run);
    }
    mlf_run_rec_clear(&run);
    rc = rc == MLF_OK ? mlf_store_write_commit(c.w) : (mlf_store_write_abort(c.w), rc);
    if (marked)
        *marked = rc == MLF_OK ? c.marked : 0;
    return rc;
}

int mlf_ops_mark_run(mlf_store *st, const char *dag_id, const char *run_id, mlf_run_state state)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    rc = mlf_store_run_get(w, dag_id, run_id, &run);
    mlf_time_us now = mlf_time_now();
    if (rc == MLF_OK && (state == MLF_RUN_SUCCESS || state == MLF_RUN_FAILED)) {
        mark_ctx c = {.state = state == MLF_RUN_SUCCESS ? MLF_TI_SUCCESS : MLF_TI_FAILED, .w = w, .now = now,
                      .only_unfinished = 1};
        rc = mlf_store_ti_foreach_run(w, dag_id, run_id, NULL, mark_ti, &c);
    }
    if (rc == MLF_OK) {
        run.state = state;
        run.end_date = state == MLF_RUN_QUEUED || state == MLF_RUN_RUNNING ? MLF_TIME_NONE : now;
        rc = mlf_store_run_put(w, &run);
    }
    mlf_run_rec_clear(&run);
    return rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
}
