/* sqlite -- the SQLite hook (connections of conn_type "sqlite", whose host is the database file, as Airflow's
 * SqliteHook), the `sql` operator (Airflow's SQLExecuteQueryOperator) and `sql_sensor` (Airflow's SqlSensor).
 *
 * `sql` runs its statements in one transaction with bound parameters and pushes the rows of the last result
 * set as the XCom return_value (a list of maps column -> value). `sql_sensor` succeeds once its query returns a
 * first row whose first cell is truthy (Python's bool(): not NULL, 0, 0.0, '' or an empty blob). */
#include <mlflowd/mlflowd.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_run.h"

/* Milliseconds SQLite waits for a lock held by another connection, unless the connection's extra says. */
#define DEFAULT_BUSY_TIMEOUT_MS 5000

static const mlf_param_spec hook_extras[] = {
    {.name = "busy_timeout", .type = MLF_PARAM_INT, .default_value = "5000",
     .help = "milliseconds to wait for a lock held by another connection"},
    {0}};

static const mlf_param_spec sql_params[] = {
    {.name = "conn_id", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED,
     .help = "the connection (conn_type sqlite; host is the database file)"},
    {.name = "sql", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "one or more SQL statements separated by ';'"},
    {.name = "parameters", .type = MLF_PARAM_ANY, .flags = MLF_PARAM_TEMPLATED,
     .help = "values bound to placeholders: a list for ? / ?NNN, a map for :name @name $name"},
    {.name = "autocommit", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "commit each statement on its own instead of running them all in one transaction"},
    {.name = "max_rows", .type = MLF_PARAM_INT, .default_value = "1000",
     .help = "rows of the last result set kept for the XCom; the rest are dropped with a warning"},
    {.name = "do_xcom_push", .type = MLF_PARAM_BOOL, .default_value = "true",
     .help = "push the rows of the last result set as the XCom return_value"},
    {0}};

static const mlf_param_spec sensor_params[] = {
    {.name = "conn_id", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED,
     .help = "the connection (conn_type sqlite; host is the database file)"},
    {.name = "sql", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "the query; the sensor succeeds when the first cell of its first row is truthy"},
    {.name = "parameters", .type = MLF_PARAM_ANY, .flags = MLF_PARAM_TEMPLATED,
     .help = "values bound to placeholders: a list for ? / ?NNN, a map for :name @name $name"},
    {.name = "fail_on_empty", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "fail (instead of poking again) when the query returns no row"},
    {0}};

/* ---- the hook ---- */

/* The database file of @p conn: its host, or its schema when the host is empty (a URI such as
 * sqlite:////var/db.sqlite may leave the path there). NULL when neither is set. */
static const char *conn_path(const mlf_connection *conn)
{
    if (conn->host && *conn->host)
        return conn->host;
    if (conn->schema && *conn->schema)
        return conn->schema;
    return NULL;
}

static int busy_timeout_ms(const mlf_connection *conn)
{
    const mlf_value *v = mlf_map_get(conn->extra, "busy_timeout");
    int64_t ms = DEFAULT_BUSY_TIMEOUT_MS;
    const char *s = mlf_value_get_str(v, NULL);
    if (s && *s) /* URIs deliver extras as strings */
        ms = strtoll(s, NULL, 10);
    else
        mlf_value_get_int(v, &ms);
    return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Opens the database of @p conn. @p create: create a missing file (the operator) or refuse it (the sensor
 * and connection tests). Returns MLF_OK or MLF_EIO with the reason in @p err. */
static int open_db(const mlf_connection *conn, int create, sqlite3 **out, char *err, size_t errlen)
{
    const char *path = conn_path(conn);
    if (!path) {
        snprintf(err, errlen, "connection '%s' has no host (the SQLite database file)", conn->conn_id);
        return MLF_EINVAL;
    }
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the SQLite database '%s' of connection '%s': %s", path, conn->conn_id,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return MLF_EIO;
    }
    sqlite3_busy_timeout(db, busy_timeout_ms(conn));
    *out = db;
    return MLF_OK;
}

static int sqlite_test_connection(const mlf_connection *conn, char *errbuf, size_t errlen)
{
    sqlite3 *db;
    int rc = open_db(conn, 0, &db, errbuf, errlen);
    if (rc != MLF_OK)
        return rc;
    /* opening reads nothing: reading the schema proves the file is a database */
    if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(errbuf, errlen, "'%s' is not a usable SQLite database: %s", conn_path(conn), sqlite3_errmsg(db));
        rc = MLF_EIO;
    }
    sqlite3_close(db);
    return rc;
}

/* ---- the operators ---- */

/* Finds the task's connection and opens its database; on failure sets the task's message. */
static int task_db(mlf_task_ctx *ctx, const char *op, int create, sqlite3 **out)
{
    const char *conn_id = mlf_value_get_str(mlf_ctx_param(ctx, "conn_id"), NULL);
    if (!conn_id || !*conn_id) {
        mlf_ctx_set_message(ctx, "%s: conn_id is empty", op);
        return MLF_EINVAL;
    }
    const mlf_connection *conn;
    int rc = mlf_ctx_connection(ctx, conn_id, &conn);
    if (rc != MLF_OK) {
        char env[256];
        size_t i = 0;
        i += (size_t)snprintf(env, sizeof env, "MLFLOWD_CONN_");
        for (const char *p = conn_id; *p && i + 1 < sizeof env; p++)
            env[i++] = (char)toupper((unsigned char)*p);
        env[i] = '\0';
        if (rc == MLF_ENOTFOUND)
            mlf_ctx_set_message(ctx, "connection '%s' is not defined (mlflowd connections add %s ... or %s)", conn_id,
                                conn_id, env);
        else
            mlf_ctx_set_message(ctx, "connection '%s' cannot be read (is %s a valid URI?): %s", conn_id, env,
                                mlf_strerror(rc));
        return rc;
    }
    if (!conn->conn_type || strcmp(conn->conn_type, "sqlite") != 0) {
        mlf_ctx_set_message(ctx, "%s: connection '%s' has conn_type '%s'; this operator serves 'sqlite' connections",
                            op, conn_id, conn->conn_type ? conn->conn_type : "");
        return MLF_ETYPE;
    }
    char err[512];
    rc = open_db(conn, create, out, err, sizeof err);
    if (rc != MLF_OK)
        mlf_ctx_set_message(ctx, "%s: %s", op, err);
    return rc;
}

/* Runs the task's sql; on failure sets the message. */
static int task_run(mlf_task_ctx *ctx, const char *op, sqlite3 *db, const sql_run_opts *opts, sql_run_result *res)
{
    const char *sql = mlf_value_get_str(mlf_ctx_param(ctx, "sql"), NULL);
    if (!sql || !*sql) {
        mlf_ctx_set_message(ctx, "%s: sql is empty", op);
        return MLF_EINVAL;
    }
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Running SQL: %s", sql);
    char err[1024];
    int rc = sql_run(db, sql, opts, res, err, sizeof err);
    if (rc != MLF_OK)
        mlf_ctx_set_message(ctx, "%s: %s", op, err);
    return rc;
}

/* A bad parameter (or a wrong connection type) fails for good; anything else may work on a retry. */
static mlf_outcome failure(int rc)
{
    return rc == MLF_EINVAL || rc == MLF_ETYPE ? MLF_FAILED_NO_RETRY : MLF_FAILED;
}

static mlf_outcome sql_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    int64_t max_rows = 1000;
    int autocommit = 0, push = 1;
    mlf_value_get_int(mlf_ctx_param(ctx, "max_rows"), &max_rows);
    mlf_value_get_bool(mlf_ctx_param(ctx, "autocommit"), &autocommit);
    mlf_value_get_bool(mlf_ctx_param(ctx, "do_xcom_push"), &push);
    if (max_rows < 0) {
        mlf_ctx_set_message(ctx, "sql: max_rows must not be negative (got %lld)", (long long)max_rows);
        return MLF_FAILED_NO_RETRY;
    }
    sqlite3 *db;
    int rc = task_db(ctx, "sql", 1, &db);
    if (rc != MLF_OK)
        return rc == MLF_ENOTFOUND ? MLF_FAILED : failure(rc);
    sql_run_opts opts = {.parameters = mlf_ctx_param(ctx, "parameters"), .autocommit = autocommit,
                         .max_rows = (size_t)max_rows};
    sql_run_result res;
    rc = task_run(ctx, "sql", db, &opts, &res);
    sqlite3_close(db);
    if (rc != MLF_OK)
        return failure(rc);
    mlf_ctx_log(ctx, MLF_LOG_INFO, "%zu statement%s executed", res.statements, res.statements == 1 ? "" : "s");
    mlf_outcome outcome = MLF_SUCCESS;
    if (res.rows) {
        size_t n = mlf_value_len(res.rows);
        if (res.truncated)
            mlf_ctx_log(ctx, MLF_LOG_WARNING, "The result has more than max_rows=%zu rows; only those are kept", n);
        mlf_ctx_log(ctx, MLF_LOG_INFO, "%zu row%s returned", n, n == 1 ? "" : "s");
        if (push) {
            rc = mlf_ctx_xcom_push(ctx, MLF_XCOM_RETURN_KEY, res.rows);
            res.rows = NULL;
            if (rc != MLF_OK) {
                mlf_ctx_set_message(ctx, "sql: the %zu row%s could not be pushed as XCom: %s (lower max_rows?)", n,
                                    n == 1 ? "" : "s", mlf_strerror(rc));
                outcome = MLF_FAILED_NO_RETRY;
            }
        }
    }
    sql_run_result_free(&res);
    return outcome;
}

/* Python's bool() of a cell. */
static int truthy(const mlf_value *v)
{
    int b;
    int64_t i;
    double d;
    switch (mlf_value_type(v)) {
    case MLF_BOOL:
        return mlf_value_get_bool(v, &b) == MLF_OK && b;
    case MLF_INT:
        return mlf_value_get_int(v, &i) == MLF_OK && i != 0;
    case MLF_FLOAT:
        return mlf_value_get_float(v, &d) == MLF_OK && d != 0.0;
    case MLF_STR:
    case MLF_BIN:
    case MLF_ARRAY:
    case MLF_MAP:
        return mlf_value_len(v) > 0;
    default:
        return 0;
    }
}

static mlf_outcome sensor_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    int fail_on_empty = 0;
    mlf_value_get_bool(mlf_ctx_param(ctx, "fail_on_empty"), &fail_on_empty);
    sqlite3 *db;
    int rc = task_db(ctx, "sql_sensor", 0, &db);
    if (rc != MLF_OK)
        return rc == MLF_ENOTFOUND ? MLF_FAILED : failure(rc);
    sql_run_opts opts = {.parameters = mlf_ctx_param(ctx, "parameters"), .max_rows = 1};
    sql_run_result res;
    rc = task_run(ctx, "sql_sensor", db, &opts, &res);
    sqlite3_close(db);
    if (rc != MLF_OK)
        return failure(rc);
    const mlf_value *row = mlf_array_at(res.rows, 0);
    mlf_outcome outcome;
    if (!row) {
        mlf_ctx_log(ctx, MLF_LOG_INFO, "No row returned");
        if (fail_on_empty)
            mlf_ctx_set_message(ctx, "sql_sensor: no row returned (fail_on_empty is set)");
        outcome = fail_on_empty ? MLF_FAILED : MLF_RESCHEDULE;
    } else {
        const mlf_value *cell = mlf_map_value_at(row, 0);
        char *text = mlf_value_to_display(cell);
        int yes = truthy(cell);
        mlf_ctx_log(ctx, MLF_LOG_INFO, "First cell: %s (%s)", text ? text : "?", yes ? "met" : "not met yet");
        mlf_free(text);
        outcome = yes ? MLF_SUCCESS : MLF_RESCHEDULE;
    }
    sql_run_result_free(&res);
    return outcome;
}

static const mlf_hook_desc sqlite_hook = {
    .struct_size = sizeof(mlf_hook_desc),
    .name = "sqlite",
    .help = "SQLite databases: the connection's host is the database file (or a file: URI).",
    .conn_type = "sqlite",
    .extras = hook_extras,
    .test_connection = sqlite_test_connection,
};

static const mlf_operator_desc sql_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "sql",
    .help = "Runs SQL statements on a sqlite connection in one transaction, with parameters bound (never spliced); "
            "the rows of the last result set become the XCom return_value (a list of maps column -> value).",
    .params = sql_params,
    .execute = sql_execute,
};

static const mlf_operator_desc sql_sensor = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "sql_sensor",
    .help = "Waits until a query on a sqlite connection returns a first row whose first cell is truthy (not NULL, "
            "0, '' or empty), as Airflow's SqlSensor.",
    .flags = MLF_OP_SENSOR,
    .params = sensor_params,
    .execute = sensor_execute,
};

static int sqlite_init(mlf_registry *reg)
{
    int rc = mlf_register_hook(reg, &sqlite_hook);
    if (rc == MLF_OK)
        rc = mlf_register_operator(reg, &sql_operator);
    if (rc == MLF_OK)
        rc = mlf_register_operator(reg, &sql_sensor);
    return rc;
}

MLF_PLUGIN("sqlite", MLF_VERSION_STRING, "SQLite: the sqlite hook, the sql operator and sql_sensor", sqlite_init,
           NULL);
