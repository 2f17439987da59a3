/*
 * web_api_runs.c -- /api/v1/dags/{dag_id}/dagRuns (list with filters and pages, get, trigger, PATCH state,
 * clear), clearTaskInstances, and the grid (runs x tasks) the UI draws.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/asset_ops.h"
#include "cli/run_ops.h"
#include "sched/scheduler.h"
#include "store/state.h"
#include "time/timefmt.h"
#include "value/value_json.h"
#include "web/web_internal.h"

/* The DAGRun object of the API. */
json_t *mlf_web_run_json(const mlf_run_rec *r)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:b, s:o, s:s?}", "dag_run_id",
                     r->run_id, "dag_id", r->dag_id, "logical_date", mlf_web_time(r->logical_date), "execution_date",
                     mlf_web_time(r->logical_date), "start_date", mlf_web_time(r->start_date), "end_date",
                     mlf_web_time(r->end_date), "data_interval_start", mlf_web_time(r->data_interval_start),
                     "data_interval_end", mlf_web_time(r->data_interval_end), "queued_at", mlf_web_time(r->queued_at),
                     "last_scheduling_decision", mlf_web_time(r->last_scheduling_decision), "run_type",
                     mlf_run_type_name(r->run_type), "state", mlf_run_state_name(r->state), "external_trigger",
                     r->external_trigger, "conf", mlf_web_msgpack_json(r->conf, r->conf_len, json_object()), "note",
                     r->note);
}

/* ------------------------------------------------------------------------------------------ list */

typedef struct run_filter {
    unsigned states; /* bit per mlf_run_state; 0: any */
    long limit, offset, total;
    json_t *list;
} run_filter;

static int add_run(void *ud, const mlf_run_rec *r)
{
    run_filter *f = ud;
    if (f->states && !(f->states & (1u << r->state)))
        return 0;
    if (f->total >= f->offset && (long)json_array_size(f->list) < f->limit)
        json_array_append_new(f->list, mlf_web_run_json(r));
    f->total++;
    return 0;
}

typedef struct state_args {
    unsigned bits;
    int bad;
    int ti; /* parse TI states instead of run states */
} state_args;

static enum MHD_Result each_state(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    state_args *a = cls;
    if (strcmp(key, "state") != 0)
        return MHD_YES;
    if (a->ti) {
        mlf_ti_state s;
        if (value && strcmp(value, "none") == 0)
            s = MLF_TI_NONE;
        else if (!value || mlf_ti_state_parse(value, &s) != MLF_OK)
            return (a->bad = 1), MHD_NO;
        a->bits |= 1u << s;
    } else {
        mlf_run_state s;
        if (!value || mlf_run_state_parse(value, &s) != MLF_OK)
            return (a->bad = 1), MHD_NO;
        a->bits |= 1u << s;
    }
    return MHD_YES;
}

int mlf_web_state_filter(mlf_web_req *rq, mlf_web_resp *rs, int ti, unsigned *bits)
{
    state_args a = {.ti = ti};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, each_state, &a);
    if (a.bad) {
        mlf_web_problem(rs, 400, "unknown state in the state filter");
        return MLF_EINVAL;
    }
    *bits = a.bits;
    return MLF_OK;
}

void mlf_web_h_runs_list(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    run_filter f = {0};
    char err[200];
    if (mlf_web_parse_page(mlf_web_arg(rq, "limit"), mlf_web_arg(rq, "offset"), &f.limit, &f.offset, err,
                           sizeof err)) {
        mlf_web_problem(rs, 400, "%s", err);
        return;
    }
    mlf_time_us gte = INT64_MIN, lte = INT64_MAX;
    if (mlf_web_arg_time(rq, rs, "execution_date_gte", &gte) || mlf_web_arg_time(rq, rs, "execution_date_lte", &lte) ||
        mlf_web_arg_time(rq, rs, "logical_date_gte", &gte) || mlf_web_arg_time(rq, rs, "logical_date_lte", &lte) ||
        mlf_web_state_filter(rq, rs, 0, &f.states))
        return;
    const char *order = mlf_web_arg(rq, "order_by");
    unsigned flags = MLF_STORE_REVERSE;
    if (order && (strcmp(order, "execution_date") == 0 || strcmp(order, "logical_date") == 0))
        flags = 0;
    else if (order && strcmp(order, "-execution_date") != 0 && strcmp(order, "-logical_date") != 0) {
        mlf_web_problem(rs, 400, "order_by must be execution_date, -execution_date, logical_date or -logical_date");
        return;
    }
    f.list = json_array();
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_run_foreach(txn, d->dag_id, gte, lte == INT64_MAX ? lte : lte + 1, flags, add_run, &f);
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK) {
        json_decref(f.list);
        mlf_web_store_problem(rs, rc, "the DAG runs");
        return;
    }
    mlf_web_json(rs, 200, json_pack("{s:o, s:I}", "dag_runs", f.list, "total_entries", (json_int_t)f.total));
}

/* Reads run @p run_id of @p dag_id and answers it (or 404). */
static void answer_run(mlf_web_req *rq, mlf_web_resp *rs, const char *dag_id, const char *run_id)
{
    mlf_store_txn *txn;
    mlf_run_rec r;
    mlf_run_rec_init(&r);
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_run_get(txn, dag_id, run_id, &r);
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK) {
        char what[300];
        snprintf(what, sizeof what, "DAG run '%.120s' of DAG '%.120s'", run_id, dag_id);
        mlf_web_store_problem(rs, rc, what);
        return;
    }
    mlf_web_json(rs, 200, mlf_web_run_json(&r));
    mlf_run_rec_clear(&r);
}

void mlf_web_h_run_get(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (d)
        answer_run(rq, rs, d->dag_id, rq->params[1]);
}

/* ------------------------------------------------------------------------------------- changes */

void mlf_web_h_run_trigger(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    json_t *body = mlf_web_body(
        rq, rs, (const char *const[]){"dag_run_id", "logical_date", "execution_date", "conf", "note", NULL}, 0);
    if (!body)
        return;
    char err[512];
    json_t *jid = json_object_get(body, "dag_run_id"), *jconf = json_object_get(body, "conf");
    json_t *jdate = json_object_get(body, "logical_date");
    if (!jdate)
        jdate = json_object_get(body, "execution_date");
    const char *run_id = json_string_value(jid);
    mlf_time_us logical = mlf_time_now();
    mlf_value *conf = NULL;
    const char *bad = NULL;
    if (jid && !json_is_null(jid) && (!run_id || !*run_id || strlen(run_id) > MLF_STORE_ID_MAX || strchr(run_id, '/')))
        bad = "dag_run_id must be a string of 1 to 120 bytes without '/'";
    else if (jdate && !json_is_null(jdate) &&
             (!json_is_string(jdate) || mlf_time_parse(json_string_value(jdate), NULL, &logical, err, sizeof err)))
        bad = "logical_date must be an RFC 3339 date-time";
    else if (jconf && !json_is_null(jconf) && !json_is_object(jconf))
        bad = "conf must be a JSON object";
    if (!bad && json_is_object(jconf)) {
        char *text = json_dumps(jconf, JSON_COMPACT);
        if (!text || mlf_value_from_json(text, strlen(text), &conf, err, sizeof err) != MLF_OK)
            bad = "conf is not representable";
        free(text);
    }
    if (bad) {
        mlf_value_free(conf);
        json_decref(body);
        mlf_web_problem(rs, 400, "%s", bad);
        return;
    }
    char id[200];
    pthread_mutex_lock(&rq->web->write_mu);
    mlf_scheduler_opts o = {.cfg = rq->web->o.cfg, .cat = rq->web->o.cat, .bag = rq->web->o.bag,
                            .store = rq->web->o.store, .exe = rq->web->o.exe, .parallelism = 1,
                            .executor = "local", .hand_over_runs = 1};
    mlf_scheduler *s = NULL;
    int rc = mlf_scheduler_new(&o, &s, err, sizeof err);
    const char *key = mlf_web_idempotency_key(rq);
    int replay = 0;
    if (rc == MLF_OK && key) /* a repeated key answers the run it created (doc/api.md, idempotency) */
        rc = mlf_ops_idem_replay(mlf_scheduler_txn(s), key, d->dag_id, id, sizeof id, &replay, err, sizeof err);
    if (rc == MLF_OK && !replay)
        rc = mlf_scheduler_create_run(s, d, MLF_RUN_TYPE_MANUAL, logical, run_id, conf, id, sizeof id, err,
                                      sizeof err);
    if (rc == MLF_OK && key && !replay)
        rc = mlf_ops_idem_record(mlf_scheduler_txn(s), key, d->dag_id, id, err, sizeof err);
    mlf_scheduler_free(s); /* commits the run and its key together */
    pthread_mutex_unlock(&rq->web->write_mu);
    mlf_value_free(conf);
    json_decref(body);
    if (rc == MLF_EEXIST) {
        mlf_web_problem(rs, 409, "%s", err);
        return;
    }
    if (rc != MLF_OK) {
        mlf_web_problem(rs, rc == MLF_EINVAL ? 400 : 500, "%s", err);
        return;
    }
    answer_run(rq, rs, d->dag_id, id);
}

void mlf_web_h_run_patch(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    json_t *body = mlf_web_body(rq, rs, (const char *const[]){"state", NULL}, 0);
    if (!body)
        return;
    mlf_run_state st;
    const char *s = json_string_value(json_object_get(body, "state"));
    if (!s || mlf_run_state_parse(s, &st) != MLF_OK || st == MLF_RUN_RUNNING) {
        json_decref(body);
        mlf_web_problem(rs, 400, "state must be \"success\", \"failed\" or \"queued\"");
        return;
    }
    json_decref(body);
    pthread_mutex_lock(&rq->web->write_mu);
    int rc = mlf_ops_mark_run(rq->web->o.store, d->dag_id, rq->params[1], st);
    pthread_mutex_unlock(&rq->web->write_mu);
    if (rc != MLF_OK) {
        mlf_web_store_problem(rs, rc, "the DAG run");
        return;
    }
    answer_run(rq, rs, d->dag_id, rq->params[1]);
}

/* Clears with @p o, answering {cleared, dag_run(s)}. */
static void do_clear(mlf_web_req *rq, mlf_web_resp *rs, const mlf_dag *d, mlf_clear_opts *o)
{
    size_t cleared = 0;
    pthread_mutex_lock(&rq->web->write_mu);
    int rc = mlf_ops_clear(rq->web->o.store, d, o, &cleared);
    pthread_mutex_unlock(&rq->web->write_mu);
    if (rc != MLF_OK) {
        mlf_web_store_problem(rs, rc, "the DAG run");
        return;
    }
    mlf_web_json(rs, 200, json_pack("{s:I}", "cleared", (json_int_t)cleared));
}

static int run_exists(mlf_web_req *rq, mlf_web_resp *rs, const char *dag_id, const char *run_id)
{
    mlf_store_txn *txn;
    mlf_run_rec r;
    mlf_run_rec_init(&r);
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_run_get(txn, dag_id, run_id, &r);
        mlf_store_read_end(txn);
    }
    mlf_run_rec_clear(&r);
    if (rc != MLF_OK) {
        char what[300];
        snprintf(what, sizeof what, "DAG run '%.120s' of DAG '%.120s'", run_id, dag_id);
        mlf_web_store_problem(rs, rc, what);
    }
    return rc == MLF_OK;
}

void mlf_web_h_run_clear(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    json_t *body = mlf_web_body(rq, rs, (const char *const[]){"dry_run", "only_failed", NULL}, 1);
    if (!body)
        return;
    int only_failed = json_is_true(json_object_get(body, "only_failed"));
    json_decref(body);
    if (!run_exists(rq, rs, d->dag_id, rq->params[1]))
        return;
    unsigned char *sel = malloc(d->ntasks ? d->ntasks : 1);
    if (!sel) {
        mlf_web_problem(rs, 500, "out of memory");
        return;
    }
    memset(sel, 1, d->ntasks);
    mlf_clear_opts o = {.selected = sel, .start = INT64_MIN, .end = INT64_MAX, .run_id = rq->params[1],
                        .only_failed = only_failed};
    do_clear(rq, rs, d, &o);
    free(sel);
}

/* Fills @p sel from a JSON list of task ids, with closures; a 400 problem on a bad list. */
static int select_tasks(mlf_web_resp *rs, const mlf_dag *d, json_t *ids, int down, int up, unsigned char *sel)
{
    memset(sel, ids ? 0 : 1, d->ntasks);
    if (ids && !json_is_array(ids)) {
        mlf_web_problem(rs, 400, "task_ids must be a list of task ids");
        return MLF_EINVAL;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        long idx = json_is_string(v) ? mlf_dag_task_index(d, json_string_value(v)) : -1;
        if (idx < 0) {
            mlf_web_problem(rs, 400, "DAG %s has no task %.200s", d->dag_id,
                            json_is_string(v) ? json_string_value(v) : "(not a string)");
            return MLF_EINVAL;
        }
        sel[idx] = 1;
    }
    unsigned char *base = malloc(d->ntasks ? d->ntasks : 1);
    if (!base) {
        mlf_web_problem(rs, 500, "out of memory");
        return MLF_ENOMEM;
    }
    memcpy(base, sel, d->ntasks);
    for (size_t t = 0; t < d->ntasks; t++)
        if (base[t]) {
            if (down)
                mlf_ops_select_closure(d, t, 1, sel);
            if (up)
                mlf_ops_select_closure(d, t, 0, sel);
        }
    free(base);
    return MLF_OK;
}

int mlf_web_select_tasks(mlf_web_resp *rs, const mlf_dag *d, json_t *ids, int down, int up, unsigned char *sel)
{
    return select_tasks(rs, d, ids, down, up, sel);
}

void mlf_web_h_clear_tis(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    static const char *const known[] = {"dag_run_id", "task_ids",   "include_downstream", "include_upstream",
                                        "only_failed", "start_date", "end_date",           "dry_run",
                                        "reset_dag_runs", "no_cache", NULL};
    json_t *body = mlf_web_body(rq, rs, known, 0);
    if (!body)
        return;
    char err[256];
    mlf_clear_opts o = {.start = INT64_MIN, .end = INT64_MAX,
                        .only_failed = json_is_true(json_object_get(body, "only_failed")),
                        /* mlflowd's own: the next tries ignore cached results (doc/caching.md) */
                        .no_cache = json_is_true(json_object_get(body, "no_cache"))};
    json_t *jrun = json_object_get(body, "dag_run_id");
    const char *bad = NULL;
    if (jrun && !json_is_null(jrun) && !json_is_string(jrun))
        bad = "dag_run_id must be a string";
    const char *dates[2] = {"start_date", "end_date"};
    mlf_time_us *dst[2] = {&o.start, &o.end};
    for (int i = 0; i < 2 && !bad; i++) {
        json_t *v = json_object_get(body, dates[i]);
        if (v && !json_is_null(v) &&
            (!json_is_string(v) || mlf_time_parse(json_string_value(v), NULL, dst[i], err, sizeof err) != MLF_OK))
            bad = "start_date and end_date must be RFC 3339 date-times";
    }
    if (bad) {
        json_decref(body);
        mlf_web_problem(rs, 400, "%s", bad);
        return;
    }
    unsigned char *sel = malloc(d->ntasks ? d->ntasks : 1);
    if (!sel) {
        json_decref(body);
        mlf_web_problem(rs, 500, "out of memory");
        return;
    }
    o.run_id = json_string_value(jrun);
    o.selected = sel;
    int down = json_is_true(json_object_get(body, "include_downstream"));
    int up = json_is_true(json_object_get(body, "include_upstream"));
    if (select_tasks(rs, d, json_object_get(body, "task_ids"), down, up, sel) == MLF_OK &&
        (!o.run_id || run_exists(rq, rs, d->dag_id, o.run_id)))
        do_clear(rq, rs, d, &o);
    free(sel);
    json_decref(body);
}

/* -------------------------------------------------------------------------------------------- grid */

typedef struct grid_ctx {
    const mlf_dag *d;
    json_t *row;      /* per task: state name, null (no TI) */
    unsigned char *n; /* per task: mapped instances seen */
} grid_ctx;

/* Which of two states a collapsed mapped task shows: the one a person must see first. */
static int rank(mlf_ti_state s)
{
    static const int r[MLF_TI_STATE_COUNT] = {
        [MLF_TI_FAILED] = 10, [MLF_TI_UPSTREAM_FAILED] = 9, [MLF_TI_UP_FOR_RETRY] = 8, [MLF_TI_RUNNING] = 7,
        [MLF_TI_UP_FOR_RESCHEDULE] = 6, [MLF_TI_QUEUED] = 5, [MLF_TI_SCHEDULED] = 4, [MLF_TI_NONE] = 3,
        [MLF_TI_SKIPPED] = 2, [MLF_TI_SUCCESS] = 1, [MLF_TI_REMOVED] = 0};
    return (unsigned)s < MLF_TI_STATE_COUNT ? r[s] : 0;
}

static const char *ti_state_str(mlf_ti_state s)
{
    return s == MLF_TI_NONE ? "none" : mlf_ti_state_name(s);
}

static int grid_ti(void *ud, const mlf_ti_rec *r)
{
    grid_ctx *g = ud;
    long idx = mlf_dag_task_index(g->d, r->task_id);
    if (idx < 0)
        return 0;
    json_t *cur = json_array_get(g->row, (size_t)idx);
    if (r->map_index >= 0 && json_is_string(cur)) {
        mlf_ti_state old;
        const char *os = json_string_value(cur);
        if (strcmp(os, "none") == 0)
            old = MLF_TI_NONE;
        else if (mlf_ti_state_parse(os, &old) != MLF_OK)
            old = MLF_TI_NONE;
        if (rank(old) >= rank(r->state))
            return 0;
    }
    json_array_set_new(g->row, (size_t)idx, json_string(ti_state_str(r->state)));
    return 0;
}

typedef struct runs_ctx {
    json_t *runs;
    long limit;
} runs_ctx;

static int grid_run(void *ud, const mlf_run_rec *r)
{
    runs_ctx *c = ud;
    json_array_append_new(c->runs, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "dag_run_id", r->run_id, "state",
                                             mlf_run_state_name(r->state), "logical_date",
                                             mlf_web_time(r->logical_date), "start_date", mlf_web_time(r->start_date),
                                             "end_date", mlf_web_time(r->end_date), "run_type",
                                             mlf_run_type_name(r->run_type)));
    return (long)json_array_size(c->runs) >= c->limit ? MLF_STORE_STOP : 0;
}

void mlf_web_h_grid(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    long limit = 25, offset;
    char err[200];
    const char *ls = mlf_web_arg(rq, "limit");
    if ((ls && mlf_web_parse_page(ls, NULL, &limit, &offset, err, sizeof err)) || limit > 100) {
        mlf_web_problem(rs, 400, "limit must be a whole number from 1 to 100");
        return;
    }
    json_t *tasks = json_array();
    for (size_t k = 0; k < d->ntasks; k++) {
        const mlf_task *t = &d->tasks[d->topo ? d->topo[k] : k];
        json_array_append_new(tasks, json_pack("{s:s, s:b, s:s?}", "task_id", t->task_id, "is_mapped",
                                               t->expand != NULL, "task_group", t->group));
    }
    runs_ctx rctx = {json_array(), limit};
    json_t *states = json_array();
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_run_foreach(txn, d->dag_id, INT64_MIN, INT64_MAX, MLF_STORE_REVERSE, grid_run, &rctx);
        for (size_t i = 0; rc == MLF_OK && i < json_array_size(rctx.runs); i++) {
            /* row in bag order first, then reordered to the task list's (topological) order */
            grid_ctx g = {d, json_array(), NULL};
            for (size_t t = 0; t < d->ntasks; t++)
                json_array_append_new(g.row, json_null());
            const char *run_id = json_string_value(json_object_get(json_array_get(rctx.runs, i), "dag_run_id"));
            rc = mlf_store_ti_foreach_run(txn, d->dag_id, run_id, NULL, grid_ti, &g);
            json_t *row = json_array();
            for (size_t k = 0; k < d->ntasks; k++)
                json_array_append(row, json_array_get(g.row, d->topo ? d->topo[k] : k));
            json_decref(g.row);
            json_array_append_new(states, row);
        }
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK) {
        json_decref(tasks);
        json_decref(rctx.runs);
        json_decref(states);
        mlf_web_store_problem(rs, rc, "the grid");
        return;
    }
    mlf_web_json(rs, 200, json_pack("{s:s, s:o, s:o, s:o}", "dag_id", d->dag_id, "tasks", tasks, "dag_runs", rctx.runs,
                                    "states", states));
}
