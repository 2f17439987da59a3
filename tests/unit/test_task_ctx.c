/* Unit tests for core/task_ctx.c (the SDK task context) and, through it, the shell and empty operator
 * plugins executed exactly as a worker will run them: loaded from their .la, called through the SDK. */
#include <check.h>
#include <fcntl.h>
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

/* ---- a temporary log file the context writes to ---- */
static char logpath[64];
static int logfd = -1;

static void log_open(void)
{
    strcpy(logpath, "/tmp/mlf-ctx-log-XXXXXX");
    logfd = mkstemp(logpath);
    ck_assert_int_ge(logfd, 0);
}

static char *log_read(void)
{
    return tu_read_file(logpath, NULL);
}

static void log_close(void)
{
    close(logfd);
    unlink(logpath);
    logfd = -1;
}

static int fake_conn(void *ud, const char *conn_id, mlf_value **out)
{
    (void)ud;
    if (strcmp(conn_id, "warehouse") != 0)
        return MLF_ENOTFOUND;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "conn_type", mlf_value_str("sqlite"));
    mlf_map_set(m, "host", mlf_value_str("db.example"));
    mlf_map_set(m, "port", mlf_value_int(5432));
    mlf_map_set(m, "password", mlf_value_str("hunter2secret"));
    *out = m;
    return MLF_OK;
}

static mlf_task_ctx_init base_init(void)
{
    mlf_task_ctx_init in = {.dag_id = "d", .task_id = "t", .run_id = "manual__1", .try_number = 1, .map_index = -1,
                            .log_fd = logfd};
    return in;
}

START_TEST(test_identity_and_params)
{
    log_open();
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "x", mlf_value_int(7));
    mlf_task_ctx_init in = base_init();
    in.params = params;
    in.logical_date = 1704067200000000LL;
    in.map_index = 3;
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    ck_assert_str_eq(mlf_ctx_dag_id(ctx), "d");
    ck_assert_str_eq(mlf_ctx_run_id(ctx), "manual__1");
    ck_assert_int_eq(mlf_ctx_map_index(ctx), 3);
    ck_assert_int_eq(mlf_ctx_logical_date(ctx), 1704067200000000LL);
    int64_t x;
    ck_assert_int_eq(mlf_value_get_int(mlf_ctx_param(ctx, "x"), &x), MLF_OK);
    ck_assert_int_eq(x, 7);
    ck_assert_ptr_null(mlf_ctx_param(ctx, "y"));
    ck_assert_int_eq(mlf_value_type(mlf_ctx_dag_params(ctx)), MLF_MAP);
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    log_close();
}
END_TEST

START_TEST(test_xcom_push_pull_and_limit)
{
    log_open();
    mlf_value *inputs = mlf_value_map(), *up = mlf_value_map();
    mlf_map_set(up, "return_value", mlf_value_str("42"));
    mlf_map_set(inputs, "upstream", up);
    mlf_task_ctx_init in = base_init();
    in.xcom_inputs = inputs;
    in.xcom_max_size = 16;
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    const mlf_value *v;
    ck_assert_int_eq(mlf_ctx_xcom_pull(ctx, "upstream", NULL, &v), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(v, NULL), "42");
    ck_assert_int_eq(mlf_ctx_xcom_pull(ctx, "upstream", "other", &v), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_ctx_xcom_pull(ctx, "nobody", NULL, &v), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_ctx_xcom_push(ctx, NULL, mlf_value_int(1)), MLF_OK);
    ck_assert_int_eq(mlf_ctx_xcom_push(ctx, "big", mlf_value_str("this string is longer than sixteen bytes")),
                     MLF_ETOOBIG);
    ck_assert_int_eq(mlf_ctx_xcom_push(ctx, "k", NULL), MLF_EINVAL);
    ck_assert_uint_eq(mlf_value_len(mlf_task_ctx_xcoms(ctx)), 1);
    mlf_task_ctx_free(ctx);
    mlf_value_free(inputs);
    log_close();
}
END_TEST

START_TEST(test_follow_rules)
{
    log_open();
    const char *down[] = {"store", "trade"};
    mlf_task_ctx_init in = base_init();
    in.downstream = down;
    in.ndownstream = 2;
    mlf_task_ctx *plain = mlf_task_ctx_new(&in);
    ck_assert_int_eq(mlf_ctx_follow(plain, "store"), MLF_ESTATE);
    mlf_task_ctx_free(plain);
    in.is_branch = 1;
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    ck_assert_int_eq(mlf_task_ctx_branched(ctx), 0);
    ck_assert_int_eq(mlf_ctx_follow(ctx, "nosuch"), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_ctx_follow(ctx, "trade"), MLF_OK);
    ck_assert_int_eq(mlf_ctx_follow(ctx, "trade"), MLF_OK);
    size_t n;
    const char *const *f = mlf_task_ctx_followed(ctx, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(f[0], "trade");
    ck_assert_int_eq(mlf_task_ctx_branched(ctx), 1);
    mlf_task_ctx_free(ctx);
    log_close();
}
END_TEST

START_TEST(test_log_masks_secrets_and_connections)
{
    log_open();
    const char *secrets[] = {"s3cr3t-token"};
    mlf_task_ctx_init in = base_init();
    in.secrets = secrets;
    in.nsecrets = 1;
    in.conn_lookup = fake_conn;
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    const mlf_connection *c;
    ck_assert_int_eq(mlf_ctx_connection(ctx, "nosuch", &c), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_ctx_connection(ctx, "warehouse", &c), MLF_OK);
    ck_assert_str_eq(c->host, "db.example");
    ck_assert_int_eq(c->port, 5432);
    ck_assert_ptr_null(c->login);
    ck_assert_int_eq(mlf_value_type(c->extra), MLF_MAP);
    const mlf_connection *again;
    ck_assert_int_eq(mlf_ctx_connection(ctx, "warehouse", &again), MLF_OK);
    ck_assert_ptr_eq(again, c);
    mlf_ctx_log(ctx, MLF_LOG_WARNING, "token=%s pw=%s twice=%s", "s3cr3t-token", c->password, "s3cr3t-token");
    mlf_ctx_set_message(ctx, "failed after %d tries", 3);
    ck_assert_str_eq(mlf_task_ctx_message(ctx), "failed after 3 tries");
    char *text = log_read();
    ck_assert_ptr_null(strstr(text, "s3cr3t"));
    ck_assert_ptr_null(strstr(text, "hunter2"));
    ck_assert_ptr_nonnull(strstr(text, "WARNING - token=*** pw=*** twice=***"));
    free(text);
    mlf_task_ctx_free(ctx);
    log_close();
}
END_TEST

START_TEST(test_reschedule_and_cancel)
{
    log_open();
    mlf_task_ctx_init in = base_init();
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    ck_assert_int_eq(mlf_ctx_reschedule_at(ctx, 0), MLF_EINVAL);
    ck_assert_int_eq(mlf_ctx_reschedule_at(ctx, 123), MLF_OK);
    ck_assert_int_eq(mlf_task_ctx_reschedule_time(ctx), 123);
    ck_assert_int_eq(mlf_ctx_cancelled(ctx), 0);
    mlf_task_ctx_cancel(ctx);
    ck_assert_int_eq(mlf_ctx_cancelled(ctx), 1);
    mlf_task_ctx_free(ctx);
    log_close();
}
END_TEST

/* ---- the shell and empty operators, loaded as plugins ---- */

static mlf_catalog *cat;

static void plugins_setup(void)
{
    const char *names[] = {"shell", "empty"};
    cat = tu_load_plugins(names, 2);
}

static void plugins_teardown(void)
{
    mlf_catalog_free(cat);
}

/* Runs the shell operator with @p command (and optional env/cwd); returns the outcome. */
static mlf_outcome run_shell(const char *command, mlf_value *extra_params, mlf_task_ctx **out_ctx, mlf_value **out_params)
{
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "shell");
    ck_assert_ptr_nonnull(op);
    mlf_value *params = extra_params ? extra_params : mlf_value_map();
    mlf_map_set(params, "command", mlf_value_str(command));
    if (!mlf_map_get(params, "skip_on_exit_code"))
        mlf_map_set(params, "skip_on_exit_code", mlf_value_int(99));
    mlf_task_ctx_init in = base_init();
    in.params = params;
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    mlf_outcome o = op->execute(ctx, op->data);
    *out_ctx = ctx;
    *out_params = params;
    return o;
}

START_TEST(test_shell_success_pushes_last_line)
{
    log_open();
    mlf_task_ctx *ctx;
    mlf_value *params;
    ck_assert_int_eq(run_shell("echo first; echo oops >&2; echo; echo \"last $MLFLOWD_CTX_TASK_ID\"", NULL, &ctx, &params),
                     MLF_SUCCESS);
    const mlf_value *rv = mlf_map_get(mlf_task_ctx_xcoms(ctx), "return_value");
    ck_assert_str_eq(mlf_value_get_str(rv, NULL), "last t");
    char *text = log_read();
    ck_assert_ptr_nonnull(strstr(text, "INFO - first\n"));
    ck_assert_ptr_nonnull(strstr(text, "INFO - oops\n")); /* stderr is merged into the logged output */
    ck_assert_ptr_nonnull(strstr(text, "return code 0"));
    free(text);
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    log_close();
}
END_TEST

START_TEST(test_shell_exit_99_skips_other_codes_fail)
{
    log_open();
    mlf_task_ctx *ctx;
    mlf_value *params;
    ck_assert_int_eq(run_shell("exit 99", NULL, &ctx, &params), MLF_SKIPPED);
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    ck_assert_int_eq(run_shell("echo partial; exit 3", NULL, &ctx, &params), MLF_FAILED);
    ck_assert_str_eq(mlf_task_ctx_message(ctx), "command exited with code 3");
    ck_assert_uint_eq(mlf_value_len(mlf_task_ctx_xcoms(ctx)), 0);
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    ck_assert_int_eq(run_shell("kill -9 $$", NULL, &ctx, &params), MLF_FAILED);
    ck_assert_str_eq(mlf_task_ctx_message(ctx), "command was killed by signal 9");
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    log_close();
}
END_TEST

START_TEST(test_shell_env_replaces_unless_appended_and_cwd)
{
    log_open();
    setenv("MLF_TEST_OUTER", "outer", 1);
    mlf_task_ctx *ctx;
    mlf_value *params = mlf_value_map(), *env = mlf_value_map();
    mlf_map_set(env, "GREETING", mlf_value_str("hi"));
    mlf_map_set(params, "env", env);
    mlf_map_set(params, "cwd", mlf_value_str("/"));
    ck_assert_int_eq(run_shell("echo \"${GREETING}-${MLF_TEST_OUTER:-none}-$(pwd)\"", params, &ctx, &params), MLF_SUCCESS);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_task_ctx_xcoms(ctx), "return_value"), NULL), "hi-none-/");
    mlf_task_ctx_free(ctx);
    mlf_map_set(params, "append_env", mlf_value_bool(1));
    ck_assert_int_eq(run_shell("echo \"${GREETING}-${MLF_TEST_OUTER:-none}\"", params, &ctx, &params), MLF_SUCCESS);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_task_ctx_xcoms(ctx), "return_value"), NULL), "hi-outer");
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    log_close();
}
END_TEST

START_TEST(test_shell_missing_cwd_fails)
{
    log_open();
    mlf_task_ctx *ctx;
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "cwd", mlf_value_str("/nonexistent/dir"));
    ck_assert_int_eq(run_shell("echo never", params, &ctx, &params), MLF_FAILED);
    ck_assert_uint_eq(mlf_value_len(mlf_task_ctx_xcoms(ctx)), 0);
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    log_close();
}
END_TEST

START_TEST(test_empty_succeeds)
{
    log_open();
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "empty");
    mlf_task_ctx_init in = base_init();
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    ck_assert_int_eq(op->execute(ctx, op->data), MLF_SUCCESS);
    mlf_task_ctx_free(ctx);
    log_close();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("task_ctx");
    TCase *tc = tcase_create("ctx");
    tcase_add_test(tc, test_identity_and_params);
    tcase_add_test(tc, test_xcom_push_pull_and_limit);
    tcase_add_test(tc, test_follow_rules);
    tcase_add_test(tc, test_log_masks_secrets_and_connections);
    tcase_add_test(tc, test_reschedule_and_cancel);
    suite_add_tcase(s, tc);
    TCase *ops = tcase_create("operators");
    tcase_add_checked_fixture(ops, plugins_setup, plugins_teardown);
    tcase_add_test(ops, test_shell_success_pushes_last_line);
    tcase_add_test(ops, test_shell_exit_99_skips_other_codes_fail);
    tcase_add_test(ops, test_shell_env_replaces_unless_appended_and_cwd);
    tcase_add_test(ops, test_shell_missing_cwd_fails);
    tcase_add_test(ops, test_empty_succeeds);
    suite_add_tcase(s, ops);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
