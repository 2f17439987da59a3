/* Unit tests for core/task_runner.c: real operator plugins (shell, empty, and the test plugins) run from a
 * spec, in this process and through the real `mlflowd task-exec` binary; log contents, XCom, branching,
 * sensors, and every failure the runner turns into a result. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "base/strutil.h"
#include "exec/task_runner.h"
#include "exec/task_spec.h"
#include "testutil.h"

#define MLFLOWD TEST_BUILDDIR "/mlflowd"
#define SHELL_PLUGIN TEST_BUILDDIR "/plugins/shell.la"
#define EMPTY_PLUGIN TEST_BUILDDIR "/plugins/empty.la"
#define OPS_PLUGIN TEST_BUILDDIR "/tests/plugins/runner_ops.la"
#define EXTERNAL_PLUGIN TEST_BUILDDIR "/plugins/external_task_sensor.la"

extern char **environ;

/* ---- a scratch folder per test for logs ---- */
static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/mlf-runner-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    tu_rm_rf(tmpdir);
}

static char log_path[256];

/* A spec for operator @p op of plugin @p plugin with @p params (ownership taken; NULL for none). */
static mlf_value *make_spec(const char *plugin, const char *op, mlf_value *params)
{
    snprintf(log_path, sizeof log_path, "%s/logs/dag_id=d/run_id=r/task_id=t/attempt=1.log", tmpdir);
    mlf_task_spec s = {.dag_id = "d", .task_id = "t", .run_id = "r", .map_index = -1, .try_number = 1,
                       .attempt = "att-1", .operator_name = op, .plugin_path = plugin, .params = params,
                       .logical_date = INT64_C(1704067200000000), .data_interval_start = INT64_C(1704067200000000),
                       .data_interval_end = INT64_C(1704153600000000), .log_path = log_path};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_OK);
    mlf_value_free(params);
    return v;
}

static mlf_value *shell_params(const char *command)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "command", mlf_value_str(command));
    return p;
}

/* Runs in this process; returns the decoded result (its value in *rv, both to free). */
static mlf_task_result *run_here(const mlf_value *spec, mlf_value **rv)
{
    *rv = NULL;
    ck_assert_int_eq(mlf_task_run_spec(spec, rv), MLF_OK);
    mlf_task_result *r = NULL;
    char err[256];
    ck_assert_msg(mlf_task_result_decode(*rv, &r, err, sizeof err) == MLF_OK, "%s", err);
    ck_assert_str_eq(r->attempt, "att-1");
    return r;
}

static void done(mlf_task_result *r, mlf_value *rv, mlf_value *spec)
{
    mlf_task_result_free(r);
    mlf_value_free(rv);
    mlf_value_free(spec);
}

static const char *xcom_str(const mlf_task_result *r, const char *key)
{
    return mlf_value_get_str(mlf_map_get(r->xcoms, key), NULL);
}

/* ---- in this process ---- */

START_TEST(test_shell_success_xcom_and_log)
{
    mlf_value *spec = make_spec(SHELL_PLUGIN, "shell", shell_params("echo first; echo second-line"));
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    ck_assert_str_eq(xcom_str(r, "return_value"), "second-line");
    ck_assert_ptr_null(r->followed);
    ck_assert_int_eq(r->branched, 0);
    ck_assert(r->start_date > 0 && r->end_date >= r->start_date);
    ck_assert(r->pid == getpid());
    ck_assert_int_eq(r->exit_status, -1); /* filled in by executors */
    ck_assert_str_ne(r->hostname, "");
    char *log = tu_read_file(log_path, NULL); /* its folders were created */
    ck_assert_msg(strstr(log, "{t} INFO - Starting attempt 1 of d.t (run r) on ") != NULL, "%s", log);
    ck_assert(strstr(log, "Executing operator 'shell' from " SHELL_PLUGIN) != NULL);
    ck_assert(strstr(log, "Running command: echo first; echo second-line") != NULL);
    /* the command's own output, one log line each (through the masking logger) */
    ck_assert_msg(strstr(log, "{t} INFO - first\n") != NULL && strstr(log, "{t} INFO - second-line\n") != NULL &&
                      strstr(log, "INFO - first\n") < strstr(log, "INFO - second-line\n"), "%s", log);
    ck_assert(strstr(log, "Marking task as SUCCESS. dag_id=d, task_id=t, run_id=r, try_number=1") != NULL);
    free(log);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_shell_exit_codes)
{
    mlf_value *spec = make_spec(SHELL_PLUGIN, "shell", shell_params("exit 99"));
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_SKIPPED);
    ck_assert_str_eq(r->message, "command exited with code 99: skipping");
    done(r, rv, spec);

    spec = make_spec(SHELL_PLUGIN, "shell", shell_params("echo partial; exit 3"));
    r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_str_eq(r->message, "command exited with code 3");
    char *log = tu_read_file(log_path, NULL);
    /* both tries appended to the same file; the failure says why */
    ck_assert(strstr(log, "Marking task as SKIPPED (command exited with code 99: skipping)") != NULL);
    ck_assert(strstr(log, "ERROR - Marking task as FAILED (command exited with code 3)") != NULL);
    free(log);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_empty_operator)
{
    mlf_value *spec = make_spec(EMPTY_PLUGIN, "empty", NULL);
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    ck_assert_uint_eq(mlf_value_len(r->xcoms), 0);
    ck_assert_ptr_null(r->message);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_plugin_not_loadable)
{
    mlf_value *spec = make_spec(TEST_BUILDDIR "/plugins/no_such_plugin.la", "shell", NULL);
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_str_eq(r->message, "plugin did not load: " TEST_BUILDDIR "/plugins/no_such_plugin.la: plugin file not found");
    char *log = tu_read_file(log_path, NULL);
    ck_assert(strstr(log, "ERROR - plugin did not load: " TEST_BUILDDIR "/plugins/no_such_plugin.la") != NULL);
    free(log);
    done(r, rv, spec);

    spec = make_spec("shell", "shell", NULL); /* a bare name: the runner never searches */
    r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_str_eq(r->message, "the spec's plugin must be a file path, got 'shell'");
    done(r, rv, spec);
}
END_TEST

START_TEST(test_unknown_operator)
{
    mlf_value *spec = make_spec(SHELL_PLUGIN, "bash", NULL);
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_str_eq(r->message, "operator 'bash' is not provided by plugin " SHELL_PLUGIN " (it provides: shell)");
    char *log = tu_read_file(log_path, NULL);
    ck_assert(strstr(log, "operator 'bash' is not provided") != NULL);
    free(log);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_log_cannot_open)
{
    mlf_value *spec = make_spec(EMPTY_PLUGIN, "empty", NULL);
    mlf_map_set(spec, "log_path", mlf_value_str("/dev/null/cannot/1.log"));
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_msg(strncmp(r->message, "cannot open the log file /dev/null/cannot/1.log: ", 49) == 0, "%s", r->message);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_malformed_spec)
{
    mlf_value *spec = make_spec(EMPTY_PLUGIN, "empty", NULL);
    mlf_map_set(spec, "try_number", mlf_value_str("one"));
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(r->message, "invalid task spec: task spec: field 'try_number' must be int, got str");
    done(r, rv, spec);

    /* without an attempt token there is nobody to report to */
    spec = make_spec(EMPTY_PLUGIN, "empty", NULL);
    mlf_map_remove(spec, "attempt");
    rv = (mlf_value *)1;
    ck_assert_int_eq(mlf_task_run_spec(spec, &rv), MLF_EPARSE);
    ck_assert_ptr_null(rv);
    ck_assert_int_eq(mlf_task_run_spec(NULL, &rv), MLF_EINVAL);
    mlf_value_free(spec);
}
END_TEST

/* Everything the spec carries reaches the operator: identity, dates, params, XCom inputs, connections;
 * secrets and connection passwords are masked in the log. */
START_TEST(test_context_from_spec)
{
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "alpha", mlf_value_int(1));
    mlf_value *spec = make_spec(OPS_PLUGIN, "context", params);
    mlf_map_set(spec, "map_index", mlf_value_int(4));
    mlf_map_set(spec, "try_number", mlf_value_int(2));
    mlf_value *dp = mlf_value_map();
    mlf_map_set(dp, "window", mlf_value_int(30));
    mlf_map_set(spec, "dag_params", dp);
    mlf_value *xin = mlf_value_map(), *up = mlf_value_map();
    mlf_map_set(up, "return_value", mlf_value_str("from upstream"));
    mlf_map_set(xin, "upstream", up);
    mlf_map_set(spec, "xcom_inputs", xin);
    mlf_value *conns = mlf_value_map(), *db = mlf_value_map();
    mlf_map_set(db, "conn_type", mlf_value_str("postgres"));
    mlf_map_set(db, "host", mlf_value_str("db.example"));
    mlf_map_set(db, "port", mlf_value_int(5432));
    mlf_map_set(db, "password", mlf_value_str("pa55word"));
    mlf_map_set(conns, "db", db);
    mlf_map_set(spec, "connections", conns);
    mlf_value *secrets = mlf_value_array();
    mlf_array_append(secrets, mlf_value_str("hunter2-variable"));
    mlf_map_set(spec, "secrets", secrets);

    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    ck_assert_str_eq(r->message, "context seen (the variable secret is ***)"); /* masked as in the log */
    ck_assert_str_eq(xcom_str(r, "dag_id"), "d");
    ck_assert_str_eq(xcom_str(r, "run_id"), "r");
    int64_t i;
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(r->xcoms, "try_number"), &i), MLF_OK);
    ck_assert(i == 2);
    mlf_value_get_int(mlf_map_get(r->xcoms, "map_index"), &i);
    ck_assert(i == 4);
    mlf_value_get_int(mlf_map_get(r->xcoms, "logical_date"), &i);
    ck_assert(i == INT64_C(1704067200000000));
    mlf_value_get_int(mlf_map_get(r->xcoms, "interval_end"), &i);
    ck_assert(i == INT64_C(1704153600000000));
    mlf_value_get_int(mlf_map_get(mlf_map_get(r->xcoms, "params"), "alpha"), &i);
    ck_assert(i == 1);
    mlf_value_get_int(mlf_map_get(mlf_map_get(r->xcoms, "dag_params"), "window"), &i);
    ck_assert(i == 30);
    ck_assert_str_eq(xcom_str(r, "pulled"), "from upstream");
    ck_assert_str_eq(xcom_str(r, "conn_host"), "db.example");
    mlf_value_get_int(mlf_map_get(r->xcoms, "conn_port"), &i);
    ck_assert(i == 5432);
    char *log = tu_read_file(log_path, NULL);
    ck_assert_msg(strstr(log, "(run r, map_index 4)") != NULL, "%s", log);
    ck_assert(strstr(log, "connecting with password ***") != NULL);
    ck_assert(strstr(log, "the variable secret is ***") != NULL);
    ck_assert(strstr(log, "pa55word") == NULL && strstr(log, "hunter2") == NULL);
    free(log);
    done(r, rv, spec);
}
END_TEST

static mlf_value *follow_params(const char *a, const char *b)
{
    mlf_value *p = mlf_value_map(), *f = mlf_value_array();
    if (a)
        mlf_array_append(f, mlf_value_str(a));
    if (b)
        mlf_array_append(f, mlf_value_str(b));
    mlf_map_set(p, "follow", f);
    return p;
}

static void set_downstream(mlf_value *spec, int is_branch)
{
    mlf_value *ds = mlf_value_array();
    mlf_array_append(ds, mlf_value_str("a"));
    mlf_array_append(ds, mlf_value_str("b"));
    mlf_map_set(spec, "downstream", ds);
    mlf_map_set(spec, "is_branch", mlf_value_bool(is_branch));
}

START_TEST(test_branching)
{
    mlf_value *spec = make_spec(OPS_PLUGIN, "branch_some", follow_params("b", NULL));
    set_downstream(spec, 1);
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    ck_assert_int_eq(r->branched, 1);
    ck_assert_uint_eq(r->nfollowed, 1);
    ck_assert_str_eq(r->followed[0], "b");
    done(r, rv, spec);

    /* a task id that is not a direct downstream */
    spec = make_spec(OPS_PLUGIN, "branch_some", follow_params("a", "zzz"));
    set_downstream(spec, 1);
    r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(r->message, "follow: not found");
    done(r, rv, spec);

    /* the spec did not flag the task as a branch */
    spec = make_spec(OPS_PLUGIN, "branch_some", follow_params("a", NULL));
    set_downstream(spec, 0);
    r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED_NO_RETRY);
    ck_assert_ptr_null(r->followed);
    done(r, rv, spec);
}
END_TEST

static mlf_value *sensor_params(int64_t interval_ms, int64_t timeout_ms, int soft_fail)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "poke_interval", mlf_value_int(interval_ms * 1000));
    mlf_map_set(p, "timeout", mlf_value_int(timeout_ms * 1000));
    mlf_map_set(p, "soft_fail", mlf_value_bool(soft_fail));
    mlf_map_set(p, "mode", mlf_value_str("poke"));
    return p;
}

START_TEST(test_sensor_poke_mode_loops)
{
    mlf_value *spec = make_spec(OPS_PLUGIN, "poke_thrice", sensor_params(10, 10000, 0));
    mlf_map_set(spec, "sensor_poke", mlf_value_bool(1));
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    int64_t pokes = 0;
    mlf_value_get_int(mlf_map_get(r->xcoms, "pokes"), &pokes);
    ck_assert(pokes == 3);
    ck_assert(r->end_date - r->start_date >= 20000); /* slept twice */
    char *log = tu_read_file(log_path, NULL);
    ck_assert_msg(strstr(log, "Executing sensor 'poke_thrice'") != NULL, "%s", log);
    ck_assert(strstr(log, "Sensor not satisfied yet (poke 1); poking again in 10ms") != NULL);
    ck_assert(strstr(log, "(poke 2)") != NULL && strstr(log, "(poke 3)") == NULL);
    free(log);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_sensor_poke_mode_timeout)
{
    mlf_value *spec = make_spec(OPS_PLUGIN, "never", sensor_params(20, 100, 0));
    mlf_map_set(spec, "sensor_poke", mlf_value_bool(1));
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(r->message, "sensor timed out: not satisfied within its timeout of 100ms");
    ck_assert(r->end_date - r->start_date >= 100000);
    ck_assert(r->end_date - r->start_date < 2000000);
    done(r, rv, spec);

    spec = make_spec(OPS_PLUGIN, "never", sensor_params(20, 60, 1));
    mlf_map_set(spec, "sensor_poke", mlf_value_bool(1));
    r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_SKIPPED);
    ck_assert_str_eq(r->message, "sensor timed out after 60ms; skipping (soft_fail)");
    done(r, rv, spec);
}
END_TEST

/* In reschedule mode one try is one poke: the scheduler gets the outcome and the time the sensor asked for. */
START_TEST(test_sensor_reschedule_mode)
{
    mlf_value *p = sensor_params(1000, 10000, 0);
    mlf_map_set(p, "ask_at", mlf_value_int(INT64_C(4102444800000000)));
    mlf_value *spec = make_spec(OPS_PLUGIN, "never", p);
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_RESCHEDULE);
    ck_assert(r->reschedule_at == INT64_C(4102444800000000));
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(rv, "outcome"), NULL), "reschedule");
    done(r, rv, spec);
}
END_TEST

/* ---- mlf_ctx_external_state() from the state store at $MLFLOWD_HOME/state ---- */

/* Writes a store under tmpdir/home with DAG "up": a run at the spec's logical date (state @p run_state)
 * with TI "ok" succeeded and TI "bad" failed. */
static void write_upstream_store(mlf_run_state run_state)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/home/state", tmpdir);
    char home[160];
    snprintf(home, sizeof home, "%s/home", tmpdir);
    ck_assert_int_eq(mkdir(home, 0700), 0);
    mlf_store *st = NULL;
    char err[256];
    ck_assert_msg(mlf_store_open(dir, MLF_STORE_CREATE, &st, err, sizeof err) == MLF_OK, "%s", err);
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    run.dag_id = "up";
    run.run_id = "manual__2024-01-01";
    run.logical_date = INT64_C(1704067200000000);
    run.state = run_state;
    run.run_type = MLF_RUN_TYPE_MANUAL;
    ck_assert_int_eq(mlf_store_run_put(w, &run), MLF_OK);
    const char *tasks[] = {"ok", "bad"};
    mlf_ti_state states[] = {MLF_TI_SUCCESS, MLF_TI_FAILED};
    for (int i = 0; i < 2; i++) {
        mlf_ti_rec ti;
        mlf_ti_rec_init(&ti);
        ti.dag_id = "up";
        ti.run_id = "manual__2024-01-01";
        ti.task_id = (char *)tasks[i];
        ti.state = states[i];
        ck_assert_int_eq(mlf_store_ti_put(w, &ti), MLF_OK);
    }
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    mlf_store_close(st);
}

/* Runs external_task_sensor (one poke) on DAG "up", task @p task_id (NULL: the run), with the home
 * @p home (relative to tmpdir); returns the result (free with done()). */
static mlf_task_result *poke_external(const char *home, const char *task_id, mlf_value **rv, mlf_value **spec)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", tmpdir, home);
    setenv("MLFLOWD_HOME", path, 1);
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "external_dag_id", mlf_value_str("up"));
    if (task_id)
        mlf_map_set(p, "external_task_id", mlf_value_str(task_id));
    mlf_value *failed = mlf_value_array();
    mlf_array_append(failed, mlf_value_str("failed"));
    mlf_map_set(p, "failed_states", failed);
    *spec = make_spec(EXTERNAL_PLUGIN, "external_task_sensor", p);
    mlf_task_result *r = run_here(*spec, rv);
    unsetenv("MLFLOWD_HOME");
    return r;
}

START_TEST(test_external_state_from_store)
{
    write_upstream_store(MLF_RUN_SUCCESS);
    mlf_value *rv, *spec;
    mlf_task_result *r = poke_external("home", "ok", &rv, &spec);
    ck_assert_msg(r->outcome == MLF_SUCCESS, "%d %s", r->outcome, r->message ? r->message : "");
    done(r, rv, spec);
    /* the store was closed at the end of the try: the next try opens it again */
    r = poke_external("home", "bad", &rv, &spec);
    ck_assert_int_eq(r->outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(r->message, "external_task_sensor: the external task up.bad (logical date "
                                 "2024-01-01T00:00:00Z) is failed (in failed_states)");
    done(r, rv, spec);
    r = poke_external("home", "nosuch", &rv, &spec);
    ck_assert_int_eq(r->outcome, MLF_RESCHEDULE);
    done(r, rv, spec);
    r = poke_external("home", NULL, &rv, &spec);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_external_state_run_and_missing_store)
{
    write_upstream_store(MLF_RUN_FAILED);
    mlf_value *rv, *spec;
    mlf_task_result *r = poke_external("home", NULL, &rv, &spec);
    ck_assert_int_eq(r->outcome, MLF_FAILED_NO_RETRY);
    ck_assert_ptr_nonnull(strstr(r->message, "DAG run of up (logical date 2024-01-01T00:00:00Z) is failed"));
    done(r, rv, spec);
    /* a home without a store: a remote worker's host */
    r = poke_external("elsewhere", "ok", &rv, &spec);
    ck_assert_int_eq(r->outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(r->message, "external_task_sensor needs the state store: run it with the local executor");
    char *log = tu_read_file(log_path, NULL);
    ck_assert_msg(strstr(log, "Cannot open the state store ") && strstr(log, "/elsewhere/state read-only"), "%s", log);
    free(log);
    done(r, rv, spec);
}
END_TEST

START_TEST(test_misbehaving_outcomes)
{
    mlf_value *spec = make_spec(OPS_PLUGIN, "bad_outcome", NULL);
    mlf_value *rv;
    mlf_task_result *r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_str_eq(r->message, "operator 'bad_outcome' returned an invalid outcome (42)");
    done(r, rv, spec);

    spec = make_spec(OPS_PLUGIN, "reschedule_me", NULL);
    r = run_here(spec, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_str_eq(r->message, "operator 'reschedule_me' asked to be rescheduled, but only sensors can");
    done(r, rv, spec);
}
END_TEST

/* ---- through `mlflowd task-exec` ---- */

typedef struct exec_out {
    int status;      /* from waitpid */
    mlf_buf result;  /* raw bytes from the result channel */
    char *err;       /* what the process wrote to stderr */
} exec_out;

/* Runs `mlflowd task-exec` with @p input on stdin; the result channel is fd 3, or stdout when !use_fd3. */
static void run_exec(const void *input, size_t len, int use_fd3, exec_out *out)
{
    memset(out, 0, sizeof *out);
    int in[2], res[2];
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(res, O_CLOEXEC), 0);
    char errpath[128];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmpdir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, res[1], use_fd3 ? 3 : 1);
    if (!use_fd3) /* Check's own message file may sit on fd 3 */
        posix_spawn_file_actions_addclose(&fa, 3);
    posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = {MLFLOWD, "task-exec", NULL};
    pid_t pid;
    ck_assert_int_eq(posix_spawn(&pid, MLFLOWD, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(res[1]);
    ck_assert(write(in[1], input, len) == (ssize_t)len);
    close(in[1]);
    char buf[65536];
    ssize_t n;
    while ((n = read(res[0], buf, sizeof buf)) > 0)
        mlf_buf_append(&out->result, buf, (size_t)n);
    close(res[0]);
    ck_assert_int_eq(waitpid(pid, &out->status, 0), pid);
    out->err = tu_read_file(errpath, NULL);
}

static void exec_out_free(exec_out *o)
{
    mlf_buf_free(&o->result);
    free(o->err);
}

/* Runs a spec through task-exec and decodes its result frame. */
static mlf_task_result *run_spec_exec(const mlf_value *spec, int use_fd3, mlf_value **rv)
{
    void *frame;
    size_t len;
    ck_assert_int_eq(mlf_task_frame_pack(spec, &frame, &len), MLF_OK);
    exec_out o;
    run_exec(frame, len, use_fd3, &o);
    free(frame);
    ck_assert_msg(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0, "status %d, stderr: %s", o.status, o.err);
    ck_assert_uint_ge(o.result.len, MLF_TASK_FRAME_HEADER);
    uint32_t body = mlf_task_frame_length(o.result.data);
    ck_assert_uint_eq(o.result.len, MLF_TASK_FRAME_HEADER + body);
    ck_assert_int_eq(mlf_value_unpack(o.result.data + MLF_TASK_FRAME_HEADER, body, rv), MLF_OK);
    mlf_task_result *r = NULL;
    ck_assert_int_eq(mlf_task_result_decode(*rv, &r, NULL, 0), MLF_OK);
    exec_out_free(&o);
    return r;
}

START_TEST(test_exec_shell)
{
    mlf_value *spec = make_spec(SHELL_PLUGIN, "shell", shell_params("echo from-a-child-process"));
    mlf_value *rv;
    mlf_task_result *r = run_spec_exec(spec, 1, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    ck_assert_str_eq(xcom_str(r, "return_value"), "from-a-child-process");
    ck_assert(r->pid != getpid());
    char *log = tu_read_file(log_path, NULL);
    ck_assert(strstr(log, "from-a-child-process") != NULL);
    free(log);
    done(r, rv, spec);
}
END_TEST

/* Without fd 3 the result goes to stdout, and whatever the plugin prints goes to the log instead. */
START_TEST(test_exec_stdout_channel_stays_clean)
{
    mlf_value *spec = make_spec(OPS_PLUGIN, "noisy", NULL);
    mlf_value *rv;
    mlf_task_result *r = run_spec_exec(spec, 0, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    ck_assert_str_eq(xcom_str(r, "return_value"), "quiet result");
    char *log = tu_read_file(log_path, NULL);
    ck_assert(strstr(log, "noise on stdout 999\n") != NULL);
    ck_assert(strstr(log, "noise on stderr\n") != NULL);
    free(log);
    done(r, rv, spec);
}
END_TEST

/* A result far bigger than a pipe's buffer. */
START_TEST(test_exec_big_result)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "size", mlf_value_int(3 * 1024 * 1024));
    mlf_value *spec = make_spec(OPS_PLUGIN, "big_xcom", p);
    mlf_value *rv;
    mlf_task_result *r = run_spec_exec(spec, 1, &rv);
    ck_assert_int_eq(r->outcome, MLF_SUCCESS);
    size_t len = 0;
    const char *s = mlf_value_get_str(mlf_map_get(r->xcoms, "return_value"), &len);
    ck_assert_uint_eq(len, 3 * 1024 * 1024);
    ck_assert(s[0] == 'a' && s[len - 1] == (char)('a' + (len - 1) % 26));
    done(r, rv, spec);

    /* past xcom_max_size the push is refused and the operator says so */
    p = mlf_value_map();
    mlf_map_set(p, "size", mlf_value_int(5000));
    spec = make_spec(OPS_PLUGIN, "big_xcom", p);
    mlf_map_set(spec, "xcom_max_size", mlf_value_int(1000));
    r = run_spec_exec(spec, 1, &rv);
    ck_assert_int_eq(r->outcome, MLF_FAILED);
    ck_assert_str_eq(r->message, "xcom push: value exceeds the size limit");
    done(r, rv, spec);
}
END_TEST

static void expect_exec_refusal(const void *input, size_t len, const char *why)
{
    exec_out o;
    run_exec(input, len, 1, &o);
    ck_assert_msg(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 2, "status %d", o.status);
    ck_assert_uint_eq(o.result.len, 0);
    ck_assert_msg(strstr(o.err, why) != NULL, "stderr '%s' lacks '%s'", o.err, why);
    exec_out_free(&o);
}

START_TEST(test_exec_bad_input)
{
    expect_exec_refusal("", 0, "task-exec: cannot read the task spec: no input");
    expect_exec_refusal("\0\0", 2, "cannot read the task spec");
    expect_exec_refusal("\xff\xff\xff\xff", 4, "the task spec is 4294967295 bytes, more than the 67108864 allowed");
    expect_exec_refusal("\0\0\0\x10xyz", 7, "the task spec is truncated");
    expect_exec_refusal("\0\0\0\x02\xc1\xc1", 6, "the task spec is not valid msgpack");
    /* a map without an attempt token: nothing to attribute a result to */
    mlf_value *spec = make_spec(EMPTY_PLUGIN, "empty", NULL);
    mlf_map_remove(spec, "attempt");
    void *frame;
    size_t len;
    ck_assert_int_eq(mlf_task_frame_pack(spec, &frame, &len), MLF_OK);
    expect_exec_refusal(frame, len, "no attempt token");
    free(frame);
    mlf_value_free(spec);
}
END_TEST

/* `task-exec` is hidden from help and suggestions. */
START_TEST(test_exec_verb_hidden)
{
    char outpath[128];
    snprintf(outpath, sizeof outpath, "%s/help.txt", tmpdir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = {MLFLOWD, "--help", NULL};
    pid_t pid;
    int status;
    ck_assert_int_eq(posix_spawn(&pid, MLFLOWD, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    char *help = tu_read_file(outpath, NULL);
    ck_assert_msg(strstr(help, "version") != NULL, "%s", help);
    ck_assert(strstr(help, "task-exec") == NULL && strstr(help, "internal:") == NULL);
    free(help);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("task_runner");
    TCase *tc = tcase_create("in_process");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_shell_success_xcom_and_log);
    tcase_add_test(tc, test_shell_exit_codes);
    tcase_add_test(tc, test_empty_operator);
    tcase_add_test(tc, test_plugin_not_loadable);
    tcase_add_test(tc, test_unknown_operator);
    tcase_add_test(tc, test_log_cannot_open);
    tcase_add_test(tc, test_malformed_spec);
    tcase_add_test(tc, test_context_from_spec);
    tcase_add_test(tc, test_branching);
    tcase_add_test(tc, test_sensor_poke_mode_loops);
    tcase_add_test(tc, test_sensor_poke_mode_timeout);
    tcase_add_test(tc, test_sensor_reschedule_mode);
    tcase_add_test(tc, test_misbehaving_outcomes);
    tcase_add_test(tc, test_external_state_from_store);
    tcase_add_test(tc, test_external_state_run_and_missing_store);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("task_exec");
    tcase_add_checked_fixture(te, setup, teardown);
    tcase_add_test(te, test_exec_shell);
    tcase_add_test(te, test_exec_stdout_channel_stays_clean);
    tcase_add_test(te, test_exec_big_result);
    tcase_add_test(te, test_exec_bad_input);
    tcase_add_test(te, test_exec_verb_hidden);
    suite_add_tcase(s, te);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
