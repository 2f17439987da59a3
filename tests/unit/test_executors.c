/* Unit tests for core/plugin/executors.c: choosing an executor plugin by name, checking its
 * executors.NAME.* settings against the table it declares, opening it, and its host functions. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/strutil.h"
#include "conf/config.h"
#include "plugin/executors.h"
#include "plugin/plugin_loader.h"

#define BUILTIN_PLUGINS TEST_BUILDDIR "/plugins"

static mlf_catalog *cat;
static mlf_config *cfg;

static int report_nothing(void *ud, const mlf_value *result)
{
    (void)ud;
    (void)result;
    return MLF_OK;
}

static const mlf_executor_callbacks cbs = {.report = report_nothing};

/* A catalog with the local and zmq plugins and a configuration from @p env (NULL-terminated "NAME=value"). */
static void setup_with(const char *const *env)
{
    cat = mlf_catalog_new();
    const char *paths[] = {BUILTIN_PLUGINS};
    const char *names[] = {"local", "zmq"};
    mlf_diag errs = {0};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 1, names, 2, &errs), 0);
    mlf_diag_clear(&errs);
    char *cerr = NULL;
    ck_assert_msg(mlf_config_load(&(mlf_config_args){.envp = env}, &cfg, &cerr) == MLF_OK, "config: %s", cerr);
}

static void teardown(void)
{
    mlf_config_free(cfg);
    mlf_catalog_free(cat);
    cfg = NULL;
    cat = NULL;
}

static int64_t described(mlf_executor *ex, const char *key)
{
    mlf_value *d = mlf_executor_describe(ex);
    int64_t v = -1;
    mlf_value_get_int(mlf_map_get(d, key), &v);
    mlf_value_free(d);
    return v;
}

START_TEST(test_unknown_executor_suggests)
{
    const char *env[] = {"MLFLOWD_HOME=/nonexistent", NULL};
    setup_with(env);
    mlf_executor *ex = NULL;
    char err[512];
    ck_assert_int_eq(mlf_executor_open(cat, cfg, "lokal", 4, NULL, &cbs, &ex, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_ptr_null(ex);
    ck_assert_str_eq(err, "executor 'lokal' is not loaded (did you mean 'local'?); loaded executors: local, "
                          "sequential, zmq");
    teardown();
}
END_TEST

START_TEST(test_settings_reach_open)
{
    const char *env[] = {"MLFLOWD_HOME=/nonexistent", "MLFLOWD__EXECUTORS__LOCAL__PARALLELISM=3", NULL};
    setup_with(env);
    mlf_executor *ex = NULL;
    char err[512] = "";
    ck_assert_msg(mlf_executor_open(cat, cfg, "local", 32, NULL, &cbs, &ex, err, sizeof err) == MLF_OK, "%s", err);
    ck_assert_str_eq(mlf_executor_name(ex), "local");
    ck_assert_int_eq(described(ex, "slots"), 3);
    ck_assert(!mlf_executor_can_adopt(ex));
    ck_assert_int_ge(mlf_executor_fd(ex), 0);
    char why[128];
    ck_assert_int_eq(mlf_executor_can_accept(ex, "default", "shell", why, sizeof why), MLF_EXEC_ACCEPT);
    ck_assert_uint_eq(mlf_executor_in_flight(ex), 0);
    mlf_executor_close(ex);
    /* sequential is one slot whatever parallelism says; 0 for local means the daemon's parallelism */
    ck_assert_int_eq(mlf_executor_open(cat, cfg, "sequential", 32, NULL, &cbs, &ex, err, sizeof err), MLF_OK);
    ck_assert_int_eq(described(ex, "slots"), 1);
    mlf_executor_close(ex);
    teardown();
    const char *env2[] = {"MLFLOWD_HOME=/nonexistent", NULL};
    setup_with(env2);
    ck_assert_int_eq(mlf_executor_open(cat, cfg, NULL, 7, NULL, &cbs, &ex, err, sizeof err), MLF_OK);
    ck_assert_int_eq(described(ex, "slots"), 7);
    mlf_executor_close(ex);
    teardown();
}
END_TEST

START_TEST(test_bad_settings_all_reported)
{
    const char *env[] = {"MLFLOWD_HOME=/nonexistent", "MLFLOWD__EXECUTORS__LOCAL__PARALELISM=3",
                         "MLFLOWD__EXECUTORS__LOCAL__KILL_GRACE=soon", "MLFLOWD__EXECUTORS__SEQUENTAL__KILL_GRACE=1s",
                         NULL};
    setup_with(env);
    mlf_buf errs = {0};
    ck_assert_uint_eq(mlf_executors_check_config(cat, cfg, &errs), 3);
    ck_assert_ptr_nonnull(strstr(errs.data, "MLFLOWD__EXECUTORS__LOCAL__PARALELISM: executors.local.paralelism: "
                                            "executor 'local' has no setting 'paralelism' (did you mean "
                                            "'parallelism'?)\n"));
    ck_assert_ptr_nonnull(strstr(errs.data, "MLFLOWD__EXECUTORS__LOCAL__KILL_GRACE: executors.local.kill_grace: "));
    ck_assert_ptr_nonnull(strstr(errs.data, "executors.sequental.kill_grace: no executor named 'sequental' is "
                                            "loaded (did you mean 'sequential'?)\n"));
    mlf_buf_free(&errs);
    /* opening any executor refuses the start while a setting is wrong, with every problem */
    mlf_executor *ex = NULL;
    char err[1024];
    ck_assert_int_eq(mlf_executor_open(cat, cfg, "local", 4, NULL, &cbs, &ex, err, sizeof err), MLF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "did you mean 'parallelism'?"));
    ck_assert_ptr_nonnull(strstr(err, "did you mean 'sequential'?"));
    teardown();
}
END_TEST

static mlf_exec_host *seen_host;

static int capture_open(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    seen_host = args->host;
    *inst = NULL;
    return strcmp(args->name, "fails") == 0 ? MLF_EIO : MLF_OK;
}
static mlf_exec_accept c_accept(void *i, const char *q, const char *o, char *w, size_t l)
{
    (void)i, (void)q, (void)o, (void)w, (void)l;
    return MLF_EXEC_ACCEPT;
}
static int c_submit(void *i, const mlf_value *s, const char *q, mlf_time_us n, char *e, size_t l)
{
    (void)i, (void)s, (void)q, (void)n, (void)e, (void)l;
    return MLF_OK;
}
static int c_kill(void *i, const char *a, mlf_time_us n)
{
    (void)i, (void)a, (void)n;
    return MLF_ENOTFOUND;
}
static int c_fd(void *i)
{
    (void)i;
    return -1;
}
static mlf_time_us c_deadline(void *i)
{
    (void)i;
    return 0;
}
static int c_process(void *i, mlf_time_us n)
{
    (void)i, (void)n;
    return 0;
}
static int c_shutdown(void *i, int64_t g, mlf_time_us n)
{
    (void)i, (void)g, (void)n;
    return MLF_OK;
}
static size_t c_in_flight(void *i)
{
    (void)i;
    return 0;
}
static void c_close(void *i)
{
    (void)i;
}

static const mlf_executor_desc capture = {
    .struct_size = sizeof(mlf_executor_desc), .name = "capture", .open = capture_open, .can_accept = c_accept,
    .submit = c_submit, .kill = c_kill, .fd = c_fd, .next_deadline = c_deadline, .process = c_process,
    .shutdown = c_shutdown, .in_flight = c_in_flight, .close = c_close};

/* Host functions: daemon settings typed for plugins, leases without a scheduler, optional operations. */
START_TEST(test_host_functions)
{
    const char *env[] = {"MLFLOWD_HOME=/nonexistent", "MLFLOWD__ZMQ__HEARTBEAT=250ms", NULL};
    setup_with(env);
    mlf_executor *ex = NULL;
    char err[256] = "";
    ck_assert_int_eq(mlf_executor_open_desc(&capture, NULL, NULL, cfg, 4, &cbs, &ex, err, sizeof err), MLF_OK);
    mlf_value *v = NULL;
    int64_t us = 0;
    ck_assert_int_eq(mlf_exec_setting(seen_host, "zmq.heartbeat", &v), MLF_OK);
    ck_assert_int_eq(mlf_value_get_int(v, &us), MLF_OK);
    ck_assert_int_eq(us, 250000); /* durations arrive in µs */
    mlf_value_free(v);
    ck_assert_int_eq(mlf_exec_setting(seen_host, "zmq.bind", &v), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(v, NULL), "tcp://127.0.0.1:5555");
    mlf_value_free(v);
    ck_assert_int_eq(mlf_exec_setting(seen_host, "zmq.bnd", &v), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_exec_lease_persist(seen_host, "ab", "w1", 1), MLF_ENOTSUP); /* no lease callback */
    ck_assert_int_eq(mlf_exec_report(seen_host, NULL), MLF_EINVAL);
    /* (ABI 1.3) worker records: checked before the daemon sees them; a daemon without records says so */
    mlf_value *wk = mlf_value_map();
    ck_assert_int_eq(mlf_exec_worker_update(seen_host, wk), MLF_EINVAL); /* no name */
    mlf_map_set(wk, "name", mlf_value_str("w1"));
    ck_assert_int_eq(mlf_exec_worker_update(seen_host, wk), MLF_EINVAL); /* no state */
    mlf_map_set(wk, "state", mlf_value_str("sleeping"));
    ck_assert_int_eq(mlf_exec_worker_update(seen_host, wk), MLF_EINVAL); /* not ready or gone */
    mlf_map_set(wk, "state", mlf_value_str("ready"));
    ck_assert_int_eq(mlf_exec_worker_update(seen_host, wk), MLF_ENOTSUP);
    ck_assert_int_eq(mlf_exec_worker_update(NULL, wk), MLF_EINVAL);
    mlf_value_free(wk);
    ck_assert_int_eq(mlf_executor_adopt(ex, "ab", "w1", "/log", 1), MLF_ENOTSUP);
    ck_assert_ptr_null(mlf_executor_describe(ex));
    mlf_executor_after_commit(ex, 1); /* none: nothing happens */
    ck_assert_int_ge(mlf_clock_monotonic(), 0);
    ck_assert_int_gt(mlf_clock_wall(), INT64_C(1600000000) * 1000000);
    mlf_executor_close(ex);
    /* an open() failure comes back with its code and, lacking a message, the code's explanation */
    ck_assert_int_eq(mlf_executor_open_desc(&capture, "fails", NULL, cfg, 4, &cbs, &ex, err, sizeof err), MLF_EIO);
    ck_assert_ptr_null(ex);
    ck_assert_str_eq(err, mlf_strerror(MLF_EIO));
    teardown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("executors");
    TCase *tc = tcase_create("executors");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_unknown_executor_suggests);
    tcase_add_test(tc, test_settings_reach_open);
    tcase_add_test(tc, test_bad_settings_all_reported);
    tcase_add_test(tc, test_host_functions);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
