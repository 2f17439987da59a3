/* Unit tests for the python operator plugin: its stdout scanner (plugins/python/xcom_lines.c, compiled in here)
 * and the operator itself, loaded from its .la and run through the SDK as a worker runs it, with the scripts of
 * tests/data/python. Needs python3 on PATH (the program reports SKIP without it). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "base/strutil.h"
#include "plugin/task_ctx.h"
#include "../../plugins/python/xcom_lines.h"
#include "testutil.h"

#define SCRIPTS TEST_SRCDIR "/tests/data/python"

/* ---- a temporary log file the context writes to ---- */
static char logpath[64];
static int logfd = -1;

static void log_open(void)
{
    strcpy(logpath, "/tmp/mlf-py-log-XXXXXX");
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

/* ---- the scanner and the JSON decoder ---- */

static mlf_task_ctx *bare_ctx(void)
{
    mlf_task_ctx_init in = {.dag_id = "d", .task_id = "t", .run_id = "r", .try_number = 1, .map_index = -1,
                            .log_fd = -1};
    return mlf_task_ctx_new(&in);
}

static void feed(py_xcom_scan *s, const char *text)
{
    py_xcom_scan_feed(s, text, strlen(text));
}

START_TEST(test_scan_lines_across_chunks)
{
    mlf_task_ctx *ctx = bare_ctx();
    py_xcom_scan s = {.ctx = ctx};
    feed(&s, "plain output\nMLFLO");
    feed(&s, "WD_XCOM 4");
    feed(&s, "2\nMLFLOWD_XCOM\t{\"key\": \"k\", \"value\": [1, 2.5, null]}\r\n");
    feed(&s, "MLFLOWD_XCOMX 1\n  MLFLOWD_XCOM 3\nMLFLOWD_XCO\n");
    feed(&s, "MLFLOWD_XCOM {\"key\": \"a\", \"value\": 1, \"extra\": 2}\n");
    feed(&s, "MLFLOWD_XCOM \"tail without newline\"");
    py_xcom_scan_finish(&s);
    ck_assert_ptr_null(s.error);
    ck_assert_uint_eq(s.pushed, 4);
    const mlf_value *x = mlf_task_ctx_xcoms(ctx);
    /* the bare map with three members is a return_value, later replaced by the last line */
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(x, "return_value"), NULL), "tail without newline");
    const mlf_value *k = mlf_map_get(x, "k");
    ck_assert_uint_eq(mlf_value_len(k), 3);
    double d;
    ck_assert_int_eq(mlf_value_get_float(mlf_array_at(k, 1), &d), MLF_OK);
    ck_assert(d == 2.5);
    ck_assert_int_eq(mlf_value_type(mlf_array_at(k, 2)), MLF_NIL);
    ck_assert_uint_eq(mlf_value_len(x), 2);
    py_xcom_scan_free(&s);
    mlf_task_ctx_free(ctx);
}
END_TEST

START_TEST(test_scan_errors_name_the_line)
{
    mlf_task_ctx *ctx = bare_ctx();
    py_xcom_scan s = {.ctx = ctx};
    feed(&s, "one\ntwo\nMLFLOWD_XCOM {\"key\": 5, \"value\": 1}\nMLFLOWD_XCOM 2\n");
    py_xcom_scan_finish(&s);
    ck_assert_ptr_nonnull(s.error);
    ck_assert_ptr_nonnull(strstr(s.error, "line 3 of the script's output"));
    ck_assert_ptr_nonnull(strstr(s.error, "\"key\" must be a non-empty string"));
    ck_assert_uint_eq(s.pushed, 0); /* nothing after the first error */
    ck_assert_uint_eq(mlf_value_len(mlf_task_ctx_xcoms(ctx)), 0);
    py_xcom_scan_free(&s);

    py_xcom_scan e = {.ctx = ctx};
    feed(&e, "MLFLOWD_XCOM\n");
    ck_assert_ptr_nonnull(e.error);
    ck_assert_ptr_nonnull(strstr(e.error, "line 1 of the script's output: no value after the marker"));
    py_xcom_scan_free(&e);

    py_xcom_scan j = {.ctx = ctx};
    feed(&j, "MLFLOWD_XCOM [1, 2\n");
    ck_assert_ptr_nonnull(j.error);
    ck_assert_ptr_nonnull(strstr(j.error, "line 1 of the script's output: invalid JSON"));
    ck_assert_ptr_nonnull(strstr(j.error, ": MLFLOWD_XCOM [1, 2"));
    py_xcom_scan_free(&j);
    mlf_task_ctx_free(ctx);
}
END_TEST

START_TEST(test_json_decode_bounds)
{
    char err[256];
    mlf_value *v = NULL;
    const char *ok = "{\"b\": true, \"a\": [\"x\\u0000y\", -9223372036854775808, 1e3]}";
    ck_assert_int_eq(py_json_decode(ok, strlen(ok), &v, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_map_key_at(v, 0), "b"); /* member order kept */
    const mlf_value *a = mlf_map_get(v, "a");
    ck_assert_uint_eq(mlf_value_len(mlf_array_at(a, 0)), 3);
    int64_t i;
    ck_assert_int_eq(mlf_value_get_int(mlf_array_at(a, 1), &i), MLF_OK);
    ck_assert(i == INT64_MIN);
    ck_assert_int_eq(mlf_value_type(mlf_array_at(a, 2)), MLF_FLOAT);
    mlf_value_free(v);

    const char *dup = "{\"a\": 1, \"a\": 2}";
    ck_assert_int_eq(py_json_decode(dup, strlen(dup), &v, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "column"));
    const char *huge = "100000000000000000000";
    ck_assert_int_eq(py_json_decode(huge, strlen(huge), &v, err, sizeof err), MLF_EPARSE);
    const char *trailing = "1 2";
    ck_assert_int_eq(py_json_decode(trailing, strlen(trailing), &v, err, sizeof err), MLF_EPARSE);

    /* MLF_VALUE_MAX_DEPTH nested arrays around a number are fine, one more is not */
    enum { D = MLF_VALUE_MAX_DEPTH + 1 };
    char deep[2 * D + 2];
    for (int k = 0; k < D; k++) {
        deep[k] = '[';
        deep[D + 1 + k] = ']';
    }
    deep[D] = '1';
    deep[2 * D + 1] = '\0';
    ck_assert_int_eq(py_json_decode(deep, strlen(deep), &v, err, sizeof err), MLF_ERANGE);
    ck_assert_int_eq(py_json_decode(deep + 1, strlen(deep) - 2, &v, err, sizeof err), MLF_OK);
    mlf_value_free(v);
}
END_TEST

/* ---- the operator, loaded as a plugin ---- */

static mlf_catalog *cat;

static void plugins_setup(void)
{
    const char *names[] = {"python"};
    cat = tu_load_plugins(names, 1);
    log_open();
}

static void plugins_teardown(void)
{
    log_close();
    mlf_catalog_free(cat);
}

/* One run of the operator; free with run_free(). */
typedef struct run {
    mlf_task_ctx *ctx;
    mlf_value *dag_params;
    mlf_outcome outcome;
} run;

static void run_free(run *r)
{
    mlf_task_ctx_free(r->ctx);
    mlf_value_free(r->dag_params);
}

/* Runs the python operator with @p params (ownership kept by the caller) and @p xcom_max bytes of XCom. */
static run run_python(const mlf_value *params, const mlf_value *xcom_inputs, size_t xcom_max)
{
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "python");
    ck_assert_ptr_nonnull(op);
    mlf_value *dag_params = mlf_value_map();
    mlf_map_set(dag_params, "window", mlf_value_int(30));
    mlf_task_ctx_init in = {.dag_id = "crypto", .task_id = "predict", .run_id = "scheduled__2024-01-01",
                            .try_number = 2, .map_index = 1, .log_fd = logfd,
                            .logical_date = 1704067200000000LL, .data_interval_start = 1704067200000000LL,
                            .data_interval_end = 1704153600500000LL, .params = params, .dag_params = dag_params,
                            .xcom_inputs = xcom_inputs, .xcom_max_size = xcom_max};
    run r = {.ctx = mlf_task_ctx_new(&in), .dag_params = dag_params};
    r.outcome = op->execute(r.ctx, op->data);
    return r;
}

static mlf_value *script_params(const char *script)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "script", mlf_value_str(script));
    return p;
}

static const char *xcom_str(const run *r, const char *key, const char *member)
{
    const mlf_value *v = mlf_map_get(mlf_task_ctx_xcoms(r->ctx), key);
    return mlf_value_get_str(member ? mlf_map_get(v, member) : v, NULL);
}

START_TEST(test_success_context_and_xcoms)
{
    mlf_value *p = script_params(SCRIPTS "/context_echo.py");
    mlf_value *args = mlf_value_array(), *env = mlf_value_map(), *kw = mlf_value_map(), *pull = mlf_value_array();
    mlf_array_append(args, mlf_value_str("a b"));
    mlf_array_append(args, mlf_value_int(7));
    mlf_map_set(p, "args", args);
    mlf_map_set(env, "GREETING", mlf_value_str("hi"));
    mlf_map_set(p, "env", env);
    mlf_map_set(kw, "n", mlf_value_int(3));
    mlf_map_set(p, "op_kwargs", kw);
    mlf_array_append(pull, mlf_value_str("fetch"));
    mlf_array_append(pull, mlf_value_str("nobody"));
    mlf_map_set(p, "xcom_pull", pull);
    mlf_value *inputs = mlf_value_map(), *up = mlf_value_map();
    mlf_map_set(up, "return_value", mlf_value_int(42));
    mlf_map_set(inputs, "fetch", up);

    run r = run_python(p, inputs, 0);
    ck_assert_msg(r.outcome == MLF_SUCCESS, "outcome %d: %s", r.outcome, mlf_task_ctx_message(r.ctx));
    const mlf_value *ctxv = mlf_map_get(mlf_task_ctx_xcoms(r.ctx), "context");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(ctxv, "dag_id"), NULL), "crypto");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(ctxv, "run_id"), NULL), "scheduled__2024-01-01");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(ctxv, "logical_date"), NULL), "2024-01-01T00:00:00+00:00");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(ctxv, "ds"), NULL), "2024-01-01");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(ctxv, "data_interval_end"), NULL),
                     "2024-01-02T00:00:00.500000+00:00");
    int64_t i;
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(ctxv, "try_number"), &i), MLF_OK);
    ck_assert_int_eq(i, 2);
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(ctxv, "map_index"), &i), MLF_OK);
    ck_assert_int_eq(i, 1);
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(mlf_map_get(ctxv, "params"), "window"), &i), MLF_OK);
    ck_assert_int_eq(i, 30);
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(mlf_map_get(ctxv, "op_kwargs"), "n"), &i), MLF_OK);
    ck_assert_int_eq(i, 3);
    const mlf_value *xc = mlf_map_get(ctxv, "xcom");
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(xc, "fetch"), &i), MLF_OK);
    ck_assert_int_eq(i, 42);
    ck_assert_ptr_nonnull(mlf_map_get(xc, "nobody"));
    ck_assert_int_eq(mlf_value_type(mlf_map_get(xc, "nobody")), MLF_NIL);

    const mlf_value *rv = mlf_map_get(mlf_task_ctx_xcoms(r.ctx), "return_value");
    const mlf_value *argv = mlf_map_get(rv, "argv");
    ck_assert_uint_eq(mlf_value_len(argv), 2);
    ck_assert_str_eq(mlf_value_get_str(mlf_array_at(argv, 0), NULL), "a b");
    ck_assert_str_eq(mlf_value_get_str(mlf_array_at(argv, 1), NULL), "7");
    ck_assert_str_eq(xcom_str(&r, "return_value", "greeting"), "hi");
    ck_assert_str_eq(xcom_str(&r, "return_value", "task_env"), "predict");
    ck_assert_uint_eq(mlf_value_len(mlf_task_ctx_xcoms(r.ctx)), 2); /* the last plain line is no XCom */

    char *text = log_read();
    const char *hello = strstr(text, "hello from predict\n"), *progress = strstr(text, "progress: done\n");
    ck_assert_ptr_nonnull(hello);
    ck_assert_ptr_nonnull(progress);
    ck_assert(hello < progress); /* stdout and stderr keep the order the script wrote them in */
    ck_assert_ptr_nonnull(strstr(text, "xcom_pull: task 'nobody' pushed no return_value"));
    ck_assert_ptr_nonnull(strstr(text, "return code 0"));
    free(text);
    run_free(&r);
    mlf_value_free(p);
    mlf_value_free(inputs);
}
END_TEST

START_TEST(test_exit_99_skips)
{
    mlf_value *p = script_params(SCRIPTS "/skip.py");
    run r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_SKIPPED);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx), "script exited with code 99: skipping");
    run_free(&r);
    mlf_map_set(p, "skip_on_exit_code", mlf_value_int(100));
    r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    run_free(&r);
    mlf_value_free(p);
}
END_TEST

START_TEST(test_failing_exit_code)
{
    mlf_value *p = script_params(SCRIPTS "/fail.py");
    run r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx), "script exited with code 3");
    char *text = log_read();
    ck_assert_ptr_nonnull(strstr(text, "something went wrong\n"));
    free(text);
    run_free(&r);
    mlf_value_free(p);
}
END_TEST

START_TEST(test_bad_json_fails_naming_the_line)
{
    mlf_value *p = script_params(SCRIPTS "/bad_json.py");
    run r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    const char *msg = mlf_task_ctx_message(r.ctx);
    ck_assert_ptr_nonnull(strstr(msg, "line 2 of the script's output: invalid JSON"));
    ck_assert_ptr_nonnull(strstr(msg, "MLFLOWD_XCOM {\"key\": oops}"));
    ck_assert_ptr_null(mlf_map_get(mlf_task_ctx_xcoms(r.ctx), "return_value"));
    run_free(&r);
    mlf_value_free(p);
}
END_TEST

START_TEST(test_xcom_over_the_size_limit_fails)
{
    mlf_value *p = script_params(SCRIPTS "/big_xcom.py");
    run r = run_python(p, NULL, 1024);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    ck_assert_ptr_nonnull(strstr(mlf_task_ctx_message(r.ctx), "XCom 'return_value' could not be pushed"));
    run_free(&r);
    mlf_value_free(p);
}
END_TEST

START_TEST(test_module_with_cwd_and_env)
{
    mlf_value *p = mlf_value_map(), *env = mlf_value_map();
    mlf_map_set(p, "module", mlf_value_str("mlf_hello"));
    mlf_map_set(p, "cwd", mlf_value_str(SCRIPTS));
    mlf_map_set(env, "PYTHONPATH", mlf_value_str("."));
    mlf_map_set(p, "env", env);
    run r = run_python(p, NULL, 0);
    ck_assert_msg(r.outcome == MLF_SUCCESS, "outcome %d: %s", r.outcome, mlf_task_ctx_message(r.ctx));
    ck_assert_str_eq(xcom_str(&r, "module", NULL), "__main__");
    run_free(&r);

    /* a relative script path starts from cwd too */
    mlf_map_remove(p, "module");
    mlf_map_set(p, "script", mlf_value_str("context_echo.py"));
    r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    char real[4096];
    ck_assert_ptr_nonnull(realpath(SCRIPTS, real));
    ck_assert_str_eq(xcom_str(&r, "return_value", "cwd"), real);
    run_free(&r);
    mlf_value_free(p);
}
END_TEST

START_TEST(test_bad_parameters)
{
    mlf_value *p = mlf_value_map();
    run r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx), "python: give exactly one of script and module");
    run_free(&r);
    mlf_map_set(p, "script", mlf_value_str(SCRIPTS "/skip.py"));
    mlf_map_set(p, "module", mlf_value_str("mlf_hello"));
    r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    run_free(&r);

    mlf_map_remove(p, "module");
    mlf_map_set(p, "python", mlf_value_str("no-such-python-mlf"));
    r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    ck_assert_ptr_nonnull(strstr(mlf_task_ctx_message(r.ctx), "cannot find 'no-such-python-mlf' on PATH"));
    run_free(&r);

    mlf_map_remove(p, "python");
    mlf_map_set(p, "cwd", mlf_value_str("/nonexistent/dir"));
    r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx), "python: cwd '/nonexistent/dir' is not a directory");
    run_free(&r);

    mlf_map_remove(p, "cwd");
    mlf_map_set(p, "op_kwargs", mlf_value_str("not a map"));
    r = run_python(p, NULL, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx), "python: op_kwargs must be a map, not a str");
    run_free(&r);
    mlf_value_free(p);
}
END_TEST

/* 1 when python3 can be found on PATH. */
static int have_python3(void)
{
    const char *path = getenv("PATH");
    for (const char *p = path; p && *p;) {
        const char *end = strchr(p, ':');
        int n = (int)(end ? (size_t)(end - p) : strlen(p));
        char cand[4096];
        snprintf(cand, sizeof cand, "%.*s/python3", n, p);
        if (access(cand, X_OK) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int main(void)
{
    Suite *s = suite_create("op_python");
    TCase *tc = tcase_create("scanner");
    tcase_add_test(tc, test_scan_lines_across_chunks);
    tcase_add_test(tc, test_scan_errors_name_the_line);
    tcase_add_test(tc, test_json_decode_bounds);
    suite_add_tcase(s, tc);
    int python = have_python3();
    if (python) {
        TCase *op = tcase_create("operator");
        tcase_add_checked_fixture(op, plugins_setup, plugins_teardown);
        tcase_add_test(op, test_success_context_and_xcoms);
        tcase_add_test(op, test_exit_99_skips);
        tcase_add_test(op, test_failing_exit_code);
        tcase_add_test(op, test_bad_json_fails_naming_the_line);
        tcase_add_test(op, test_xcom_over_the_size_limit_fails);
        tcase_add_test(op, test_module_with_cwd_and_env);
        tcase_add_test(op, test_bad_parameters);
        suite_add_tcase(s, op);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed)
        return EXIT_FAILURE;
    if (!python) {
        fprintf(stderr, "python3 is not on PATH: the operator tests were skipped\n");
        return 77;
    }
    return EXIT_SUCCESS;
}
