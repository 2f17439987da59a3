/*
 * web_api_dags.c -- /api/v1/dags (list, get, PATCH is_paused, tasks) and /api/v1/importErrors. A DAG is
 * what its file defines (the DAG bag) joined with what the scheduler recorded (the dags table).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/run_ops.h"
#include "web/web_internal.h"

/* The DAG object of the API (Airflow's DAG schema, plus mlflowd's recent_dag_runs when asked). */
static json_t *dag_json(const mlf_dag *d, const mlf_dag_rec *rec, int have_rec)
{
    json_t *tags = json_array();
    for (size_t i = 0; i < d->ntags; i++)
        json_array_append_new(tags, json_pack("{s:s}", "name", d->tags[i]));
    json_t *owners = json_array();
    for (size_t i = 0; i < d->ntasks; i++) {
        const char *o = d->tasks[i].owner;
        int seen = !o;
        for (size_t k = 0; !seen && k < json_array_size(owners); k++)
            seen = strcmp(json_string_value(json_array_get(owners, k)), o) == 0;
        if (!seen)
            json_array_append_new(owners, json_string(o));
    }
    return json_pack("{s:s, s:s?, s:s, s:b, s:b, s:b, s:s?, s:o, s:o, s:i, s:i, s:o, s:o, s:o, s:I}", "dag_id",
                     d->dag_id, "description", d->description, "fileloc", d->fileloc, "is_paused",
                     have_rec ? rec->is_paused : d->is_paused_upon_creation, "is_active", 1, "has_import_errors",
                     have_rec && rec->has_import_errors, "schedule_interval", d->schedule, "tags", tags, "owners",
                     owners, "max_active_runs", d->max_active_runs, "max_active_tasks", d->max_active_tasks,
                     "next_dagrun", mlf_web_time(have_rec ? rec->next_dagrun : MLF_TIME_NONE),
                     "next_dagrun_create_after", mlf_web_time(have_rec ? rec->next_dagrun_create_after : MLF_TIME_NONE),
                     "last_parsed_time", mlf_web_time(have_rec ? rec->last_parsed : MLF_TIME_NONE), "task_count",
                     (json_int_t)d->ntasks);
}

typedef struct recent {
    json_t *list;
    size_t n;
} recent;

static int add_recent(void *ud, const mlf_run_rec *r)
{
    recent *c = ud;
    json_array_append_new(c->list, json_pack("{s:s, s:s, s:o}", "dag_run_id", r->run_id, "state",
                                             mlf_run_state_name(r->state), "logical_date",
                                             mlf_web_time(r->logical_date)));
    return ++c->n >= 5 ? MLF_STORE_STOP : 0;
}

/* The DAG object with the store's record, read in @p txn. */
static json_t *dag_full(mlf_store_txn *txn, const mlf_dag *d, int with_recent)
{
    mlf_dag_rec rec;
    int have = mlf_store_dag_get(txn, d->dag_id, &rec) == MLF_OK;
    json_t *j = dag_json(d, &rec, have);
    if (have)
        mlf_dag_rec_clear(&rec);
    if (with_recent && j) {
        recent c = {json_array(), 0};
        mlf_store_run_foreach(txn, d->dag_id, INT64_MIN, INT64_MAX, MLF_STORE_REVERSE, add_recent, &c);
        json_object_set_new(j, "recent_dag_runs", c.list);
    }
    return j;
}

static int cmp_dag(const void *a, const void *b)
{
    return strcmp((*(const mlf_dag *const *)a)->dag_id, (*(const mlf_dag *const *)b)->dag_id);
}

void mlf_web_h_dags_list(mlf_web_req *rq, mlf_web_resp *rs)
{
    long limit, offset;
    char err[200];
    if (mlf_web_parse_page(mlf_web_arg(rq, "limit"), mlf_web_arg(rq, "offset"), &limit, &offset, err, sizeof err)) {
        mlf_web_problem(rs, 400, "%s", err);
        return;
    }
    const char *paused_s = mlf_web_arg(rq, "paused"), *pattern = mlf_web_arg(rq, "dag_id_pattern");
    const char *recent_s = mlf_web_arg(rq, "include_recent_runs");
    bool paused = false, with_recent = false;
    if ((paused_s && mlf_web_parse_bool(paused_s, &paused) != MLF_OK) ||
        (recent_s && mlf_web_parse_bool(recent_s, &with_recent) != MLF_OK)) {
        mlf_web_problem(rs, 400, "paused and include_recent_runs must be true or false");
        return;
    }
    mlf_dagbag *bag = rq->web->o.bag;
    size_t n = mlf_dagbag_count(bag);
    const mlf_dag **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        mlf_web_problem(rs, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = mlf_dagbag_at(bag, i);
    qsort(v, n, sizeof *v, cmp_dag);
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc != MLF_OK) {
        free(v);
        mlf_web_store_problem(rs, rc, "the DAGs");
        return;
    }
    json_t *list = json_array();
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        if (pattern && !strstr(v[i]->dag_id, pattern))
            continue;
        if (paused_s) {
            mlf_dag_rec rec;
            bool p = v[i]->is_paused_upon_creation;
            if (mlf_store_dag_get(txn, v[i]->dag_id, &rec) == MLF_OK) {
                p = rec.is_paused;
                mlf_dag_rec_clear(&rec);
            }
            if (p != paused)
                continue;
        }
        if (total >= offset && (long)json_array_size(list) < limit)
            json_array_append_new(list, dag_full(txn, v[i], with_recent));
        total++;
    }
    mlf_store_read_end(txn);
    free(v);
    mlf_web_json(rs, 200, json_pack("{s:o, s:I}", "dags", list, "total_entries", (json_int_t)total));
}

void mlf_web_h_dag_get(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc != MLF_OK) {
        mlf_web_store_problem(rs, rc, "the DAG");
        return;
    }
    json_t *j = dag_full(txn, d, 1);
    mlf_store_read_end(txn);
    if (j && d->doc_md)
        json_object_set_new(j, "doc_md", json_string(d->doc_md));
    mlf_web_json(rs, 200, j);
}

void mlf_web_h_dag_patch(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    json_t *body = mlf_web_body(rq, rs, (const char *const[]){"is_paused", NULL}, 0);
    if (!body)
        return;
    const char *mask = mlf_web_arg(rq, "update_mask");
    json_t *p = json_object_get(body, "is_paused");
    if (!json_is_boolean(p) || (mask && strcmp(mask, "is_paused") != 0)) {
        json_decref(body);
        mlf_web_problem(rs, 400, "the body must be {\"is_paused\": true|false} (update_mask: is_paused only)");
        return;
    }
    pthread_mutex_lock(&rq->web->write_mu);
    int rc = mlf_ops_set_paused(rq->web->o.store, d, json_is_true(p));
    pthread_mutex_unlock(&rq->web->write_mu);
    json_decref(body);
    if (rc != MLF_OK) {
        mlf_web_store_problem(rs, rc, "the DAG");
        return;
    }
    mlf_web_h_dag_get(rq, rs);
}

void mlf_web_h_dag_tasks(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    json_t *list = json_array();
    for (size_t k = 0; k < d->ntasks; k++) {
        const mlf_task *t = &d->tasks[d->topo ? d->topo[k] : k];
        json_t *down = json_array();
        for (size_t i = 0; i < t->ndownstream; i++)
            json_array_append_new(down, json_string(d->tasks[t->downstream[i]].task_id));
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:o, s:s, s:i, s:s?, s:i, s:s?, s:i, s:s?, s:b, s:s?, s:s?}", "task_id",
                            t->task_id, "operator_name", t->operator_name, "downstream_task_ids", down,
                            "trigger_rule", mlf_trigger_rule_names[t->trigger_rule], "retries", t->retries, "pool",
                            t->pool, "pool_slots", t->pool_slots, "queue", t->queue, "priority_weight",
                            t->priority_weight, "owner", t->owner, "is_mapped", t->expand != NULL, "task_group",
                            t->group, "doc_md", t->doc));
    }
    mlf_web_json(rs, 200, json_pack("{s:o, s:I}", "tasks", list, "total_entries", (json_int_t)d->ntasks));
}

static int add_import_error(void *ud, const mlf_import_error_rec *r)
{
    json_t *list = ud;
    char *trace = mlf_strdup_printf("%s:%d:%d: %s", r->filename, r->line, r->column, r->message ? r->message : "");
    json_array_append_new(list, json_pack("{s:I, s:s, s:s?, s:o}", "import_error_id",
                                          (json_int_t)json_array_size(list) + 1, "filename", r->filename,
                                          "stack_trace", trace, "timestamp", mlf_web_time(r->timestamp)));
    free(trace);
    return 0;
}

void mlf_web_h_import_errors(mlf_web_req *rq, mlf_web_resp *rs)
{
    long limit, offset;
    char err[200];
    if (mlf_web_parse_page(mlf_web_arg(rq, "limit"), mlf_web_arg(rq, "offset"), &limit, &offset, err, sizeof err)) {
        mlf_web_problem(rs, 400, "%s", err);
        return;
    }
    json_t *all = json_array();
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_import_error_foreach(txn, add_import_error, all);
        mlf_store_read_end(txn);
    }
    /* files this webserver failed to load that no scheduler has recorded (yet) */
    const mlf_diag *dg = mlf_dagbag_errors(rq->web->o.bag);
    for (size_t i = 0; rc == MLF_OK && i < dg->n; i++) {
        const char *file = dg->v[i].file ? dg->v[i].file : "?";
        int seen = 0;
        for (size_t k = 0; k < json_array_size(all) && !seen; k++)
            seen = strcmp(json_string_value(json_object_get(json_array_get(all, k), "filename")), file) == 0;
        if (seen)
            continue;
        mlf_import_error_rec r = {.filename = (char *)file, .line = dg->v[i].line, .column = dg->v[i].col,
                                  .message = dg->v[i].message, .timestamp = MLF_TIME_NONE};
        add_import_error(all, &r);
    }
    if (rc != MLF_OK) {
        json_decref(all);
        mlf_web_store_problem(rs, rc, "the import errors");
        return;
    }
    json_t *page = json_array();
    for (size_t i = (size_t)offset; i < json_array_size(all) && (long)json_array_size(page) < limit; i++)
        json_array_append(page, json_array_get(all, i));
    mlf_web_json(rs, 200,
                 json_pack("{s:o, s:I}", "import_errors", page, "total_entries", (json_int_t)json_array_size(all)));
    json_decref(all);
}
