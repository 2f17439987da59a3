/* Unit tests for the sqlite plugin: the sqlite hook, the sql operator and sql_sensor, loaded from the plugin's
 * .la and run through the SDK as a worker runs them, against a database file in a temporary directory. */
#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "base/strutil.h"
#include "plugin/task_ctx.h"
#include "testutil.h"

static mlf_catalog *cat;
static char dir[64], dbpath[128], missing[128], logpath[128];
static int logfd = -1;

/* Connections: warehouse (the test database), nofile (a database that does not exist), web (not sqlite),
 * nohost (sqlite without a file). */
static int conns(void *ud, const char *conn_id, mlf_value **out)
{
    (void)ud;
    const char *type = "sqlite", *host = NULL;
    if (strcmp(conn_id, "warehouse") == 0)
        host = dbpath;
    else if (strcmp(conn_id, "nofile") == 0)
        host = missing;
    else if (strcmp(conn_id, "web") == 0)
        type = "http", host = "example.com";
    else if (strcmp(conn_id, "nohost") != 0)
        return MLF_ENOTFOUND;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "conn_type", mlf_value_str(type));
    if (host)
        mlf_map_set(m, "host", mlf_value_str(host));
    *out = m;
    return MLF_OK;
}

static void setup(void)
{
    strcpy(dir, "/tmp/mlf-sql-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/warehouse.db", dir);
    snprintf(missing, sizeof missing, "%s/missing.db", dir);
    snprintf(logpath, sizeof logpath, "%s/task.log", dir);
    logfd = open(logpath, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    ck_assert_int_ge(logfd, 0);
    const char *names[] = {"sqlite"};
    cat = tu_load_plugins(names, 1);
}

static void teardown(void)
{
    mlf_catalog_free(cat);
    close(logfd);
    unlink(logpath);
    unlink(dbpath);
    rmdir(dir);
}

/* Runs @p sql on the test database directly (not through the plugin). */
static void db_exec(const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
    sqlite3_close(db);
}

/* The integer the query @p sql returns, read directly. */
static int64_t db_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* One run of an operator; free with run_free(). */
typedef struct run {
    mlf_task_ctx *ctx;
    mlf_value *params;
    mlf_outcome outcome;
} run;

static void run_free(run *r)
{
    mlf_task_ctx_free(r->ctx);
    mlf_value_free(r->params);
}

/* Runs operator @p op with conn_id @p conn_id, sql @p sql and the extra parameters in @p params (taken). */
static run run_op(const char *op_name, const char *conn_id, const char *sql, mlf_value *params)
{
    const mlf_operator_desc *op = mlf_catalog_operator(cat, op_name);
    ck_assert_ptr_nonnull(op);
    run r = {.params = params ? params : mlf_value_map()};
    mlf_map_set(r.params, "conn_id", mlf_value_str(conn_id));
    mlf_map_set(r.params, "sql", mlf_value_str(sql));
    mlf_task_ctx_init in = {.dag_id = "d", .task_id = "t", .run_id = "r", .try_number = 1, .map_index = -1,
                            .log_fd = logfd, .params = r.params, .conn_lookup = conns};
    r.ctx = mlf_task_ctx_new(&in);
    r.outcome = op->execute(r.ctx, op->data);
    return r;
}

static mlf_value *one_param(const char *name, mlf_value *v)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, name, v);
    return p;
}

static const mlf_value *rows_of(const run *r)
{
    return mlf_map_get(mlf_task_ctx_xcoms(r->ctx), "return_value");
}

static void assert_message_has(const run *r, const char *part)
{
    const char *msg = mlf_task_ctx_message(r->ctx);
    ck_assert_msg(msg && strstr(msg, part), "message '%s' lacks '%s'", msg ? msg : "(none)", part);
}

START_TEST(test_connection_problems)
{
    run r = run_op("sql", "nosuch", "SELECT 1", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx),
                     "connection 'nosuch' is not defined (mlflowd connections add nosuch ... or MLFLOWD_CONN_NOSUCH)");
    run_free(&r);
    r = run_op("sql_sensor", "nosuch", "SELECT 1", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    assert_message_has(&r, "connection 'nosuch' is not defined");
    run_free(&r);
    r = run_op("sql", "web", "SELECT 1", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    assert_message_has(&r, "connection 'web' has conn_type 'http'");
    run_free(&r);
    r = run_op("sql", "nohost", "SELECT 1", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    assert_message_has(&r, "connection 'nohost' has no host");
    run_free(&r);
}
END_TEST

START_TEST(test_select_rows_to_xcom)
{
    run r = run_op("sql", "warehouse",
                   "CREATE TABLE t(id INTEGER, name TEXT, score REAL, data BLOB);\n"
                   "INSERT INTO t VALUES (1, 'a', 1.5, x'0102'), (2, NULL, 2, NULL);\n"
                   "SELECT * FROM t ORDER BY id;\n"
                   "-- a trailing comment is no statement\n",
                   NULL);
    ck_assert_msg(r.outcome == MLF_SUCCESS, "%s", mlf_task_ctx_message(r.ctx));
    const mlf_value *rows = rows_of(&r);
    ck_assert_uint_eq(mlf_value_len(rows), 2);
    const mlf_value *row = mlf_array_at(rows, 0);
    ck_assert_str_eq(mlf_map_key_at(row, 0), "id");
    ck_assert_str_eq(mlf_map_key_at(row, 3), "data");
    int64_t id;
    double score;
    size_t n;
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(row, "id"), &id), MLF_OK);
    ck_assert_int_eq(id, 1);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(row, "name"), NULL), "a");
    ck_assert_int_eq(mlf_value_get_float(mlf_map_get(row, "score"), &score), MLF_OK);
    ck_assert(score == 1.5);
    const unsigned char *blob = mlf_value_get_bin(mlf_map_get(row, "data"), &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(blob[1], 2);
    row = mlf_array_at(rows, 1);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(row, "name")), MLF_NIL);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(row, "score")), MLF_FLOAT); /* REAL affinity */
    run_free(&r);

    /* statements without a result set push nothing */
    r = run_op("sql", "warehouse", "UPDATE t SET score = 0", NULL);
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    ck_assert_ptr_null(rows_of(&r));
    run_free(&r);
    r = run_op("sql", "warehouse", "SELECT id FROM t", one_param("do_xcom_push", mlf_value_bool(0)));
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    ck_assert_ptr_null(rows_of(&r));
    run_free(&r);
}
END_TEST

START_TEST(test_max_rows_caps_the_xcom)
{
    db_exec("CREATE TABLE n(i INTEGER); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50) "
            "INSERT INTO n SELECT x FROM c");
    run r = run_op("sql", "warehouse", "SELECT i FROM n ORDER BY i", one_param("max_rows", mlf_value_int(3)));
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    ck_assert_uint_eq(mlf_value_len(rows_of(&r)), 3);
    run_free(&r);
    /* a statement that writes runs to its end even past max_rows */
    r = run_op("sql", "warehouse", "DELETE FROM n WHERE i > 10 RETURNING i", one_param("max_rows", mlf_value_int(2)));
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    ck_assert_uint_eq(mlf_value_len(rows_of(&r)), 2);
    ck_assert_int_eq(db_int("SELECT count(*) FROM n"), 10);
    run_free(&r);
    r = run_op("sql", "warehouse", "SELECT i FROM n", one_param("max_rows", mlf_value_int(-1)));
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    run_free(&r);
    char *log = NULL;
    FILE *f = fopen(logpath, "r");
    mlf_buf b = {0};
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        mlf_buf_append(&b, buf, got);
    fclose(f);
    log = mlf_buf_steal(&b);
    ck_assert_ptr_nonnull(strstr(log, "more than max_rows=3 rows"));
    free(log);
}
END_TEST

START_TEST(test_parameters_are_bound_never_spliced)
{
    db_exec("CREATE TABLE t(id INTEGER, name TEXT)");
    const char *evil = "x'); DROP TABLE t; --";
    mlf_value *list = mlf_value_array();
    mlf_array_append(list, mlf_value_str(evil));
    mlf_array_append(list, mlf_value_int(7));
    run r = run_op("sql", "warehouse", "INSERT INTO t(name, id) VALUES (?, ?); SELECT name FROM t WHERE id = ?2",
                   one_param("parameters", list));
    ck_assert_msg(r.outcome == MLF_SUCCESS, "%s", mlf_task_ctx_message(r.ctx));
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_array_at(rows_of(&r), 0), "name"), NULL), evil);
    run_free(&r);
    ck_assert_int_eq(db_int("SELECT count(*) FROM t"), 1);

    /* named placeholders take a map; lists and maps bind as JSON text */
    mlf_value *map = mlf_value_map(), *tags = mlf_value_array();
    mlf_array_append(tags, mlf_value_str("a"));
    mlf_map_set(map, "name", tags);
    mlf_map_set(map, "id", mlf_value_int(8));
    mlf_map_set(map, "unused", mlf_value_nil());
    r = run_op("sql", "warehouse", "INSERT INTO t VALUES (:id, @name); SELECT name FROM t WHERE id = $id",
               one_param("parameters", map));
    ck_assert_msg(r.outcome == MLF_SUCCESS, "%s", mlf_task_ctx_message(r.ctx));
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_array_at(rows_of(&r), 0), "name"), NULL), "[\"a\"]");
    run_free(&r);

    list = mlf_value_array();
    mlf_array_append(list, mlf_value_int(1));
    r = run_op("sql", "warehouse", "INSERT INTO t VALUES (?, ?)", one_param("parameters", list));
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    assert_message_has(&r, "statement 1 (INSERT INTO t VALUES (?, ?)): it has 2 placeholders but parameters has 1 value");
    run_free(&r);
    r = run_op("sql", "warehouse", "SELECT :missing", one_param("parameters", mlf_value_map()));
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    assert_message_has(&r, "parameters has no value for :missing");
    run_free(&r);
    r = run_op("sql", "warehouse", "SELECT ?", one_param("parameters", mlf_value_map()));
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    assert_message_has(&r, "positional placeholders (?) but parameters is a map");
    run_free(&r);
    r = run_op("sql", "warehouse", "SELECT ?", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    assert_message_has(&r, "it has 1 placeholder but no parameters were given");
    run_free(&r);
    r = run_op("sql", "warehouse", "SELECT 1", one_param("parameters", mlf_value_str("oops")));
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    assert_message_has(&r, "parameters must be a list or a map, not a str");
    run_free(&r);
    ck_assert_int_eq(db_int("SELECT count(*) FROM t"), 2);
}
END_TEST

START_TEST(test_sql_error_names_statement_and_rolls_back)
{
    db_exec("CREATE TABLE t(id INTEGER)");
    run r = run_op("sql", "warehouse", "INSERT INTO t VALUES (1);\n  INSERT INTO nosuch\n  VALUES (2);", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx),
                     "sql: statement 2 (INSERT INTO nosuch VALUES (2)): no such table: nosuch");
    run_free(&r);
    ck_assert_int_eq(db_int("SELECT count(*) FROM t"), 0); /* one transaction: the first insert is gone too */

    r = run_op("sql", "warehouse", "SELECT 1; SELEC 2; SELECT 3", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    assert_message_has(&r, "statement 2 (SELEC 2): near \"SELEC\": syntax error");
    run_free(&r);

    /* step-time errors too: a constraint */
    db_exec("CREATE TABLE u(id INTEGER PRIMARY KEY)");
    r = run_op("sql", "warehouse", "INSERT INTO u VALUES (1); INSERT INTO u VALUES (1)", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    assert_message_has(&r, "statement 2 (INSERT INTO u VALUES (1)): UNIQUE constraint failed: u.id");
    run_free(&r);
    ck_assert_int_eq(db_int("SELECT count(*) FROM u"), 0);

    /* autocommit: each statement stands on its own */
    r = run_op("sql", "warehouse", "INSERT INTO t VALUES (1); INSERT INTO nosuch VALUES (2)",
               one_param("autocommit", mlf_value_bool(1)));
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    run_free(&r);
    ck_assert_int_eq(db_int("SELECT count(*) FROM t"), 1);
}
END_TEST

START_TEST(test_sensor_true_and_false)
{
    db_exec("CREATE TABLE jobs(done INTEGER)");
    run r = run_op("sql_sensor", "warehouse", "SELECT count(*) FROM jobs WHERE done", NULL);
    ck_assert_int_eq(r.outcome, MLF_RESCHEDULE);
    run_free(&r);
    db_exec("INSERT INTO jobs VALUES (1)");
    r = run_op("sql_sensor", "warehouse", "SELECT count(*) FROM jobs WHERE done", NULL);
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    ck_assert_uint_eq(mlf_value_len(mlf_task_ctx_xcoms(r.ctx)), 0);
    run_free(&r);

    /* Python's bool() of the first cell */
    static const struct {
        const char *sql;
        mlf_outcome want;
    } cells[] = {{"SELECT NULL", MLF_RESCHEDULE}, {"SELECT 0.0", MLF_RESCHEDULE}, {"SELECT ''", MLF_RESCHEDULE},
                 {"SELECT x''", MLF_RESCHEDULE},  {"SELECT '0'", MLF_SUCCESS},    {"SELECT -1", MLF_SUCCESS},
                 {"SELECT 0, 1", MLF_RESCHEDULE}, {"SELECT 0.5", MLF_SUCCESS}};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        r = run_op("sql_sensor", "warehouse", cells[i].sql, NULL);
        ck_assert_msg(r.outcome == cells[i].want, "%s: outcome %d", cells[i].sql, r.outcome);
        run_free(&r);
    }

    mlf_value *list = mlf_value_array();
    mlf_array_append(list, mlf_value_int(5));
    r = run_op("sql_sensor", "warehouse", "SELECT done FROM jobs WHERE done = ?", one_param("parameters", list));
    ck_assert_int_eq(r.outcome, MLF_RESCHEDULE); /* no row */
    run_free(&r);
    r = run_op("sql_sensor", "warehouse", "SELECT done FROM jobs WHERE 0", one_param("fail_on_empty", mlf_value_bool(1)));
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    assert_message_has(&r, "no row returned");
    run_free(&r);
    r = run_op("sql_sensor", "warehouse", "SELECT nope FROM jobs", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    assert_message_has(&r, "statement 1 (SELECT nope FROM jobs): no such column: nope");
    run_free(&r);
}
END_TEST

START_TEST(test_sensor_does_not_create_a_database)
{
    run r = run_op("sql_sensor", "nofile", "SELECT 1", NULL);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    assert_message_has(&r, "cannot open the SQLite database");
    run_free(&r);
    ck_assert_int_ne(access(missing, F_OK), 0);
}
END_TEST

START_TEST(test_hook_tests_connections)
{
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_HOOK, "sqlite");
    ck_assert_ptr_nonnull(e);
    const mlf_hook_desc *hook = e->desc;
    ck_assert_str_eq(hook->conn_type, "sqlite");
    mlf_value *extra = mlf_value_map();
    mlf_connection conn = {.struct_size = sizeof conn, .conn_id = "warehouse", .conn_type = "sqlite",
                           .host = missing, .extra = extra};
    char err[512] = "";
    ck_assert_int_ne(hook->test_connection(&conn, err, sizeof err), MLF_OK);
    ck_assert_ptr_nonnull(strstr(err, missing));
    db_exec("CREATE TABLE t(x)");
    conn.host = dbpath;
    ck_assert_int_eq(hook->test_connection(&conn, err, sizeof err), MLF_OK);
    /* a file that is not a database */
    conn.host = logpath;
    ck_assert_int_eq(write(logfd, "not a database, just text of some length..........................\n", 68), 68);
    ck_assert_int_ne(hook->test_connection(&conn, err, sizeof err), MLF_OK);
    ck_assert_ptr_nonnull(strstr(err, "is not a usable SQLite database"));
    mlf_value_free(extra);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("op_sql");
    TCase *tc = tcase_create("sqlite");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_connection_problems);
    tcase_add_test(tc, test_select_rows_to_xcom);
    tcase_add_test(tc, test_max_rows_caps_the_xcom);
    tcase_add_test(tc, test_parameters_are_bound_never_spliced);
    tcase_add_test(tc, test_sql_error_names_statement_and_rolls_back);
    tcase_add_test(tc, test_sensor_true_and_false);
    tcase_add_test(tc, test_sensor_does_not_create_a_database);
    tcase_add_test(tc, test_hook_tests_connections);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
