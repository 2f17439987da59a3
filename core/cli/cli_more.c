/* cli_more.c -- the commands people reach for after the first steps: `dags delete`, `dags next-execution`,
 * `tasks xcom` and `connections test`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_table.h"
#include "base/strutil.h"
#include "store/store.h"
#include "time/schedule.h"
#include "time/timefmt.h"
#include "value/value_codec.h"
#include "value/value_json.h"

/* ---------------------------------------------------------------- dags delete */

typedef struct id_list {
    char **v;
    size_t n;
    int oom;
} id_list;

static int collect_run_id(void *ud, const mlf_run_rec *r)
{
    id_list *l = ud;
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v || !(v[l->n] = strdup(r->run_id))) {
        if (v)
            l->v = v;
        l->oom = 1;
        return MLF_ENOMEM;
    }
    l->v = v;
    l->n++;
    return 0;
}

static void id_list_free(id_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* `dags delete DAG_ID`: the DAG's runs, task instances, XComs and its record (paused state); its file and
 * logs stay (as Airflow's). The DAG need not load: a file that was removed leaves its history behind. */
int mlf_cmd_dags_delete(mlf_cli *cli)
{
    int yes = mlf_cli_take_flag(cli, "--yes", "-y");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--yes", NULL});
    if (rc)
        return rc;
    const char *dag_id = cli->argv[0];
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    id_list runs = {0};
    mlf_store_txn *txn;
    int known = 0;
    if ((rc = mlf_store_read_begin(st, &txn)) == MLF_OK) {
        mlf_dag_rec d;
        mlf_dag_rec_init(&d);
        known = mlf_store_dag_get(txn, dag_id, &d) == MLF_OK;
        mlf_dag_rec_clear(&d);
        rc = mlf_store_run_foreach(txn, dag_id, INT64_MIN, INT64_MAX, 0, collect_run_id, &runs);
        mlf_store_read_end(txn);
    }
    if (rc == MLF_OK && !known && runs.n == 0) {
        mlf_store_close(st);
        return mlf_cli_fail(MLF_EXIT_USAGE, "the state store has nothing of DAG '%s' (see mlflowd dags list)", dag_id);
    }
    if (rc == MLF_OK && !yes) {
        char q[300];
        snprintf(q, sizeof q, "Delete DAG %s's %zu run(s) with their task instances and XComs from the state store?",
                 dag_id, runs.n);
        if (!mlf_cli_confirm(q)) {
            id_list_free(&runs);
            mlf_store_close(st);
            return mlf_cli_fail(MLF_EXIT_FAILED, "nothing deleted (not confirmed; -y skips the question)");
        }
    }
    mlf_store_txn *w = NULL;
    if (rc == MLF_OK && (rc = mlf_store_write_begin(st, &w)) == MLF_OK) {
        for (size_t i = 0; i < runs.n && rc == MLF_OK; i++) {
            rc = mlf_store_run_delete(w, dag_id, runs.v[i]);
            if (rc == MLF_ENOTFOUND) /* removed meanwhile */
                rc = MLF_OK;
        }
        if (rc == MLF_OK && known && (rc = mlf_store_dag_delete(w, dag_id)) == MLF_ENOTFOUND)
            rc = MLF_OK;
        rc = rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
    }
    mlf_store_close(st);
    size_t n = runs.n;
    id_list_free(&runs);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot delete DAG %s: %s", dag_id, mlf_strerror(rc));
    fprintf(cli->out, "Deleted DAG %s: %zu run(s) with their task instances and XComs (its file and logs stay)\n",
            dag_id, n);
    return MLF_EXIT_OK;
}

/* ---------------------------------------------------------------- dags next-execution */

typedef struct last_sched {
    mlf_interval iv;
    int found;
} last_sched;

static int take_last_scheduled(void *ud, const mlf_run_rec *r)
{
    last_sched *l = ud;
    if (r->run_type != MLF_RUN_TYPE_SCHEDULED)
        return 0;
    l->iv = (mlf_interval){.data_interval_start = r->data_interval_start, .data_interval_end = r->data_interval_end,
                           .logical_date = r->logical_date, .run_after = r->data_interval_end};
    l->found = 1;
    return MLF_STORE_STOP;
}

/* `dags next-execution DAG_ID [-n N]`: the logical dates of the next scheduled runs (Airflow's command),
 * after the latest scheduled run in the store. */
int mlf_cmd_dags_next_execution(mlf_cli *cli)
{
    const char *num = mlf_cli_take_value(cli, "--num-executions", "-n", NULL);
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--num-executions", NULL});
    int count = 1;
    if (rc || (num && (rc = mlf_cli_parse_int("--num-executions", num, 1, 1000, &count))) ||
        (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    json_t *dates = json_array();
    if (dag->schedule) {
        mlf_schedule *sched = NULL;
        char err[512];
        if (mlf_schedule_parse(dag->schedule, dag->timezone, &sched, err, sizeof err) != MLF_OK) {
            json_decref(dates);
            return mlf_cli_fail(MLF_EXIT_USAGE, "DAG %s: schedule: %s", dag->dag_id, err);
        }
        last_sched last = {0};
        char *dir = mlf_strdup_printf("%s/state", mlf_config_home(cli->cfg));
        mlf_store *st = NULL;
        if (dir && access(dir, F_OK) == 0 && mlf_store_open(dir, MLF_STORE_RDONLY, &st, err, sizeof err) == MLF_OK) {
            mlf_store_txn *txn;
            if (mlf_store_read_begin(st, &txn) == MLF_OK) {
                mlf_store_run_foreach(txn, dag->dag_id, INT64_MIN, INT64_MAX, MLF_STORE_REVERSE, take_last_scheduled,
                                      &last);
                mlf_store_read_end(txn);
            }
            mlf_store_close(st);
        }
        free(dir);
        mlf_interval iv;
        mlf_time_us now = mlf_time_now();
        for (int i = 0; i < count && mlf_schedule_next(sched, last.found ? &last.iv : NULL, dag->start_date,
                                                       dag->end_date, dag->catchup, now, &iv) == MLF_OK;
             i++) {
            json_array_append_new(dates, mlf_cli_time_json(iv.logical_date));
            last.iv = iv;
            last.found = 1;
        }
        mlf_schedule_free(sched);
    }
    int paused = mlf_cli_dag_paused(cli, dag);
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, json_pack("{s:s, s:b, s:o}", "dag_id", dag->dag_id, "is_paused", paused,
                                          "next_logical_dates", dates));
        return MLF_EXIT_OK;
    }
    if (paused)
        fprintf(stderr, "mlflowd: DAG %s is paused: these runs start only after mlflowd dags unpause %s\n", dag->dag_id,
                dag->dag_id);
    if (json_array_size(dates) == 0)
        fprintf(cli->out, "None\n"); /* as Airflow: no schedule, or past its end */
    size_t i;
    json_t *d;
    json_array_foreach(dates, i, d) fprintf(cli->out, "%s\n", json_string_value(d));
    json_decref(dates);
    return MLF_EXIT_OK;
}

/* ---------------------------------------------------------------- tasks xcom */

typedef struct xcom_rows {
    json_t *rows;
    const char *key;     /* only this key, or NULL */
    int map_index;       /* only this map index, or -2 for all */
} xcom_rows;

static int collect_xcom(void *ud, const mlf_ti_key *ti, const char *key, const void *val, size_t len)
{
    xcom_rows *x = ud;
    if ((x->key && strcmp(key, x->key) != 0) || (x->map_index != -2 && ti->map_index != x->map_index))
        return 0;
    mlf_value *v = NULL;
    char *text = NULL;
    json_t *j = NULL;
    if (mlf_value_unpack(val, len, &v) == MLF_OK && mlf_value_to_json(v, &text) == MLF_OK)
        j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    mlf_value_free(v);
    free(text);
    json_array_append_new(x->rows, json_pack("{s:s, s:i, s:s, s:o}", "task_id", ti->task_id, "map_index",
                                             ti->map_index, "key", key, "value", j ? j : json_null()));
    return 0;
}

/* `tasks xcom DAG_ID RUN_ID TASK_ID [-k KEY] [-m N]`: a task instance's XComs, as a list, or one value. */
int mlf_cmd_tasks_xcom(mlf_cli *cli)
{
    const char *key = mlf_cli_take_value(cli, "--key", "-k", NULL);
    const char *mi = mlf_cli_take_value(cli, "--map-index", "-m", NULL);
    int rc = mlf_cli_check_args(cli, 3, 3, (const char *const[]){"--key", "--map-index", NULL});
    xcom_rows x = {.key = key, .map_index = -2};
    if (rc || (mi && (rc = mlf_cli_parse_int("--map-index", mi, 0, INT32_MAX, &x.map_index))))
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_cli_ti_args(cli, st);
    const char *dag_id = cli->argv[0], *task_id = cli->argv[1], *run_id = cli->argv[2];
    mlf_store_txn *txn;
    x.rows = json_array();
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    int has_run = 0;
    if (mlf_store_read_begin(st, &txn) == MLF_OK) {
        has_run = mlf_store_run_get(txn, dag_id, run_id, &run) == MLF_OK;
        if (has_run)
            mlf_store_xcom_foreach(txn, dag_id, run_id, task_id, collect_xcom, &x);
        mlf_store_read_end(txn);
    }
    mlf_run_rec_clear(&run);
    mlf_store_close(st);
    if (!has_run) {
        json_decref(x.rows);
        return mlf_cli_fail(MLF_EXIT_USAGE, "DAG %s has no run '%s' (see mlflowd dags list-runs %s)", dag_id, run_id,
                            dag_id);
    }
    if (key && json_array_size(x.rows) == 0) {
        json_decref(x.rows);
        return mlf_cli_fail(MLF_EXIT_FAILED, "task %s of %s/%s has no XCom '%s'", task_id, dag_id, run_id, key);
    }
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, x.rows);
        return MLF_EXIT_OK;
    }
    if (key && json_array_size(x.rows) == 1) { /* one value: as it is, for scripts */
        json_t *v = json_object_get(json_array_get(x.rows, 0), "value");
        char *text = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        fprintf(cli->out, "%s\n", text ? text : "");
        free(text);
        json_decref(x.rows);
        return MLF_EXIT_OK;
    }
    size_t i;
    json_t *r;
    json_array_foreach(x.rows, i, r) /* values in their JSON form: a string shows its quotes */
    {
        char *text = json_dumps(json_object_get(r, "value"), JSON_ENCODE_ANY | JSON_COMPACT);
        json_object_set_new(r, "value", json_string(text ? text : ""));
        free(text);
    }
    static const mlf_cli_column cols[] = {{"task_id", NULL}, {"map_index", NULL}, {"key", NULL}, {"value", NULL}};
    mlf_cli_print_rows(cli, x.rows, cols, 4);
    json_decref(x.rows);
    return MLF_EXIT_OK;
}

/* ---------------------------------------------------------------- connections test */

/* `connections test CONN_ID`: the hook serving the connection's type tries it (its test_connection). */
int mlf_cmd_connections_test(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    if (mlf_cli_plugins(cli) < 0)
        return MLF_EXIT_USAGE;
    const char *conn_id = cli->argv[0];
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_conn_rec rec;
    mlf_conn_rec_init(&rec);
    mlf_store_txn *txn;
    rc = mlf_store_read_begin(st, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_conn_get(txn, conn_id, &rec);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    if (rc != MLF_OK) {
        mlf_conn_rec_clear(&rec);
        return mlf_cli_fail(rc == MLF_ENOTFOUND ? MLF_EXIT_USAGE : MLF_EXIT_FAILED,
                            "no connection '%s' in the state store (see mlflowd connections list)", conn_id);
    }
    const mlf_hook_desc *hook = NULL;
    for (size_t i = 0; i < mlf_catalog_count(cli->cat, MLF_REG_HOOK) && !hook; i++) {
        const mlf_hook_desc *h = mlf_catalog_at(cli->cat, MLF_REG_HOOK, i)->desc;
        if (rec.conn_type && h->conn_type && strcmp(h->conn_type, rec.conn_type) == 0)
            hook = h;
    }
    int ok = 0;
    char msg[512] = "";
    const char *status;
    if (!hook) {
        status = "no_hook";
        snprintf(msg, sizeof msg, "no loaded plugin serves connection type '%s' (see mlflowd plugins list)",
                 rec.conn_type ? rec.conn_type : "");
    } else if (!hook->test_connection) {
        status = "not_supported";
        snprintf(msg, sizeof msg, "the %s hook cannot test connections", hook->name);
    } else {
        mlf_value *extra = NULL;
        if (!rec.extra || mlf_value_unpack(rec.extra, rec.extra_len, &extra) != MLF_OK ||
            mlf_value_type(extra) != MLF_MAP) {
            mlf_value_free(extra);
            extra = mlf_value_map();
        }
        mlf_connection c = {.struct_size = sizeof c, .conn_id = rec.conn_id, .conn_type = rec.conn_type,
                            .host = rec.host, .port = rec.port, .login = rec.login, .password = rec.password,
                            .schema = rec.schema, .extra = extra};
        ok = hook->test_connection(&c, msg, sizeof msg) == MLF_OK;
        mlf_value_free(extra);
        status = ok ? "success" : "failed";
        if (ok && !msg[0])
            snprintf(msg, sizeof msg, "connection successfully tested");
    }
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:s, s:s, s:o, s:s, s:s}", "conn_id", conn_id, "conn_type",
                                          rec.conn_type ? rec.conn_type : "", "hook",
                                          hook ? json_string(hook->name) : json_null(), "status", status, "message", msg));
    else
        fprintf(cli->out, "Connection %s (%s): %s: %s\n", conn_id, rec.conn_type ? rec.conn_type : "?",
                ok ? "success" : "failed", msg);
    mlf_conn_rec_clear(&rec);
    return ok ? MLF_EXIT_OK : MLF_EXIT_FAILED;
}
