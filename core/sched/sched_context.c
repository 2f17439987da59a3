/* sched_context.c -- the template context a task instance renders in (ds, params, var, conn, xcom, macros) and
 * the rendering of its operator parameters. */
#include "sched/sched_internal.h"
#include "base/redact.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conn_uri.h"
#include "base/strutil.h"
#include "time/schedule.h"
#include "tmpl/template.h"
#include "tmpl/template_macros.h"
#include "time/timefmt.h"
#include "value/value_json.h"

void mlf_sc_add_secret(render_ctx *rc, const char *secret)
{
    if (!secret || !*secret)
        return;
    if (!rc->secrets)
        rc->secrets = mlf_value_array();
    mlf_array_append(rc->secrets, mlf_value_str(secret));
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

static int collect_var(void *ud, const mlf_var_rec *rec)
{
    collect_ctx *c = ud;
    mlf_map_set(c->map, rec->key, mlf_value_str(rec->val ? rec->val : ""));
    if (mlf_is_sensitive_name(rec->key))
        mlf_sc_add_secret(c->rc, rec->val);
    return 0;
}

/* Airflow's spellings, accepted (doc/dags.md): {{ var.value.X }} is the text of variable X and
 * {{ var.json.X }} its value read as JSON (the text when it is not JSON), unless variables of those names
 * exist. Out of memory leaves them out (the template then reports an unknown key). */
static void add_airflow_var_views(mlf_value *vars)
{
    int has_value = mlf_map_get(vars, "value") != NULL, has_json = mlf_map_get(vars, "json") != NULL;
    mlf_value *text = has_value ? NULL : mlf_value_map(), *json = has_json ? NULL : mlf_value_map();
    for (size_t i = 0; i < mlf_value_len(vars); i++) {
        const char *key = mlf_map_key_at(vars, i);
        const mlf_value *val = mlf_map_value_at(vars, i);
        if (text)
            mlf_map_set(text, key, mlf_value_copy(val));
        if (json) {
            size_t len = 0;
            const char *s = mlf_value_get_str(val, &len);
            mlf_value *parsed = NULL;
            char err[64];
            if (!s || mlf_value_from_json(s, len, &parsed, err, sizeof err) != MLF_OK)
                parsed = mlf_value_copy(val);
            mlf_map_set(json, key, parsed);
        }
    }
    if (text)
        mlf_map_set(vars, "value", text);
    if (json)
        mlf_map_set(vars, "json", json);
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
    mlf_sc_add_secret(c->rc, rec->password);
    return 0;
}

/* xcom.TASK is the task's return_value (for a mapped task, the list of the values its instances pushed, by map
 * index; one that pushed nothing has no element, as Airflow counts XCom rows); other keys pushed by
 * the task are reachable as xcom.TASK.KEY when return_value is absent or a map. */
mlf_value *mlf_sc_xcom_view(const mlf_value *per_task)
{
    if (mlf_value_type(per_task) == MLF_ARRAY) {
        mlf_value *arr = mlf_value_array();
        for (size_t i = 0; i < mlf_value_len(per_task); i++) {
            const mlf_value *rv = mlf_map_get(mlf_array_at(per_task, i), MLF_XCOM_RETURN_KEY);
            if (rv) /* an instance that pushed nothing (it failed, say) has no element, as Airflow counts XCom rows */
                mlf_array_append(arr, mlf_value_copy(rv));
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
    sdag *sd = rc->s ? mlf_sc_find_sdag(rc->s, rec->dag_id) : NULL;
    mlf_interval iv;
    if (sd && sd->sched && mlf_schedule_kind_of(sd->sched) != MLF_SCHEDULE_NONE &&
        mlf_schedule_infer_manual(sd->sched, rec->logical_date, &iv) == MLF_OK &&
        iv.data_interval_end == rec->logical_date)
        return iv.data_interval_start; /* the interval that ends where this run's begins */
    mlf_time_us span = rec->data_interval_end - rec->data_interval_start;
    return rec->logical_date - (span > 0 ? span : 0);
}

/* The latest successful run of the DAG before a logical date (prev_*_success). */
typedef struct prev_success {
    int found;
    mlf_time_us start, end, started;
} prev_success;

static int take_success(void *ud, const mlf_run_rec *rec)
{
    prev_success *p = ud;
    if (rec->state != MLF_RUN_SUCCESS)
        return 0;
    p->found = 1;
    p->start = rec->data_interval_start;
    p->end = rec->data_interval_end;
    p->started = rec->start_date;
    return MLF_STORE_STOP;
}

/* prev_data_interval_start_success, prev_data_interval_end_success, prev_start_date_success (@p which 0, 1,
 * 2): of the latest successful run before this one, as Airflow; None when there is none. */
static mlf_value *prev_success_value(const render_ctx *rc, const mlf_run_rec *rec, int which)
{
    prev_success p = {0};
    mlf_store_txn *txn = rc->s ? mlf_sc_wtxn(rc->s) : NULL;
    if (txn)
        mlf_store_run_foreach(txn, rec->dag_id, INT64_MIN, rec->logical_date, MLF_STORE_REVERSE, take_success, &p);
    if (!p.found)
        return mlf_value_nil();
    return time_str(which == 0 ? p.start : which == 1 ? p.end : p.started, fmt_iso);
}

int mlf_sc_render_lookup(void *ud, const char *name, const mlf_value **out)
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
    else if (strcmp(name, "ts_nodash_with_tz") == 0)
        v = time_str(rec->logical_date, mlf_time_format_ts_nodash_with_tz);
    else if (strcmp(name, "task_instance_key_str") == 0 && rc->ti) { /* Airflow: dag__task__ds_nodash */
        char ds[16];
        if (mlf_time_format_ds_nodash(rec->logical_date, ds, sizeof ds) == MLF_OK) {
            char *k = mlf_strdup_printf("%s__%s__%s", rec->dag_id, r->dag->tasks[rc->ti->task].task_id, ds);
            v = k ? mlf_value_str(k) : NULL;
            free(k);
        }
    } else if (strcmp(name, "prev_data_interval_start_success") == 0)
        v = prev_success_value(rc, rec, 0);
    else if (strcmp(name, "prev_data_interval_end_success") == 0)
        v = prev_success_value(rc, rec, 1);
    else if (strcmp(name, "prev_start_date_success") == 0)
        v = prev_success_value(rc, rec, 2);
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
    else if (strcmp(name, "triggering_asset_events") == 0) /* assets (doc/assets.md) */
        v = mlf_sc_triggering_events(rc->s, r);
    else if (strcmp(name, "dag_run") == 0) {
        v = mlf_value_map();
        mlf_map_set(v, "conf", r->conf ? mlf_value_copy(r->conf) : mlf_value_map());
        mlf_map_set(v, "run_id", mlf_value_str(rec->run_id));
        mlf_map_set(v, "run_type", mlf_value_str(mlf_run_type_name(rec->run_type)));
        mlf_map_set(v, "logical_date", time_str(rec->logical_date, fmt_iso));
    } else if (strcmp(name, "var") == 0) {
        v = mlf_value_map();
        collect_ctx cc = {.map = v, .rc = rc};
        mlf_store_txn *txn = mlf_sc_wtxn(rc->s);
        if (txn)
            mlf_store_var_foreach(txn, collect_var, &cc);
        add_airflow_var_views(v);
    } else if (strcmp(name, "conn") == 0) {
        v = mlf_value_map();
        collect_ctx cc = {.map = v, .rc = rc};
        mlf_store_txn *txn = mlf_sc_wtxn(rc->s);
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
    if (v && !rc->names && !(rc->names = mlf_value_map())) { /* built on first use: most TIs render nothing */
        mlf_value_free(v);
        v = NULL;
    }
    if (!v || mlf_map_set(rc->names, name, v) != MLF_OK)
        return MLF_ENOMEM;
    *out = mlf_map_get(rc->names, name);
    return MLF_OK;
}

int mlf_sc_render_call(void *ud, const char *name, const mlf_value *const *args, size_t nargs, mlf_value **out,
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


/* The operator parameters of one TI: the task's params with a mapped TI's element of each expand list
 * (combinations in row-major order), templated ones rendered. */
int mlf_sc_render_params(mlf_scheduler *s, sti *t, render_ctx *rc, mlf_value **out, char *err, size_t errlen)
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
    mlf_template_env env = {.lookup = mlf_sc_render_lookup, .call = mlf_sc_render_call, .ud = rc};
    for (const mlf_param_spec *p = task->op->params; p && p->name; p++) {
        const mlf_value *v = mlf_map_get(params, p->name);
        if (!v || !(p->flags & MLF_PARAM_TEMPLATED))
            continue;
        /* compiled when the DAG loaded: a parameter without template syntax renders to itself, one with
         * a compiled template renders without compiling; a mapped value is rendered as it comes */
        int mapped = st->expanded_values && t->map_index >= 0 && mlf_map_get(st->expanded_values, p->name);
        const mlf_task_template *tp = NULL;
        for (size_t i = 0; task->templates_ready && !mapped && i < task->ntemplates && !tp; i++)
            if (task->templates[i].param == p->name || strcmp(task->templates[i].param, p->name) == 0)
                tp = &task->templates[i];
        if (task->templates_ready && !mapped && !tp)
            continue;
        mlf_value *r = NULL;
        char e[512];
        int rc2 = tp && tp->tmpl ? mlf_template_render(tp->tmpl, &env, &r, e, sizeof e)
                                 : mlf_template_render_value(v, &env, &r, e, sizeof e);
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



int mlf_scheduler_render_task(mlf_scheduler *s, const mlf_dag *dag_c, const char *task_id, mlf_time_us logical_date,
                              mlf_value **out, char *err, size_t errlen)
{
    mlf_dag *dag = (mlf_dag *)dag_c;
    long task = mlf_dag_task_index(dag, task_id);
    if (task < 0) {
        snprintf(err, errlen, "DAG %s has no task '%s'", dag->dag_id, task_id);
        return MLF_ENOTFOUND;
    }
    sdag *sd = mlf_sc_find_sdag(s, dag->dag_id);
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
    srun *r = mlf_sc_make_run(dag, &rec);
    sti *t = r ? mlf_sc_new_ti(r, (size_t)task, -1) : NULL;
    if (!t) {
        mlf_sc_free_run(r);
        return MLF_ENOMEM;
    }
    t->try_number = 1;
    render_ctx rc = {.s = s, .run = r, .ti = t};
    mlf_value *params = NULL;
    int code = mlf_sc_render_params(s, t, &rc, &params, err, errlen);
    if (code == MLF_OK && dag->tasks[task].expand) {
        mlf_template_env env = {.lookup = mlf_sc_render_lookup, .call = mlf_sc_render_call, .ud = &rc};
        mlf_value *ex = NULL;
        code = mlf_template_render_value(dag->tasks[task].expand, &env, &ex, err, errlen);
        if (code == MLF_OK)
            mlf_map_set(params, "expand", ex);
    }
    /* `tasks render` prints what a try would get: its passwords and sensitive variables masked */
    size_t nsec = mlf_value_len(rc.secrets);
    const char **sec = nsec ? calloc(nsec, sizeof *sec) : NULL;
    for (size_t i = 0; sec && i < nsec; i++)
        sec[i] = mlf_value_get_str(mlf_array_at(rc.secrets, i), NULL);
    if (code == MLF_OK && sec) {
        mlf_value *masked = mlf_mask_value(params, sec, nsec);
        if (masked) {
            mlf_value_free(params);
            params = masked;
        } else {
            code = MLF_ENOMEM;
        }
    } else if (code == MLF_OK && nsec) {
        code = MLF_ENOMEM;
    }
    free(sec);
    mlf_value_free(rc.names);
    mlf_value_free(rc.secrets);
    free(t);
    mlf_sc_free_run(r);
    if (code != MLF_OK) {
        mlf_value_free(params);
        return code;
    }
    *out = params;
    return MLF_OK;
}
