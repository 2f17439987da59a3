/* Unit tests for assets (doc/assets.md): URI validation; the DAG keys (outlets, schedule: {assets|any|cron},
 * assets: declarations) and their errors; the cross-DAG check (an unknown asset is a load error with "did you
 * mean"); condition evaluation (all, any, update counts); and the scheduler's asset-triggered runs, in
 * process over the fake executor: an outlet of a succeeded task, events from other processes (the inbox), a
 * burst collapsing into one run, the first run (events older than the consumer do not count), cron combined
 * with assets, and triggering_asset_events. Tasks are `empty`, so nothing is executed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/strutil.h"
#include "cli/asset_ops.h"
#include "dag/dag_assets.h"
#include "fake_executor.h"
#include "plugin/plugin_loader.h"
#include "sched/sched_internal.h"
#include "store/store_assets.h"
#include "testutil.h"

static char *base;
static mlf_config *cfg;
static mlf_catalog *cat;
static mlf_dagbag *bag;
static mlf_store *st;
static mlf_scheduler *sched;
static fake_exec fx;

static void setup(void)
{
    mlf_log_set_level(MLF_LOG_ERROR);
    base = tu_tmpdir("assets");
    char *dags = tu_path(base, "dags"), *home = tu_path(base, "home");
    ck_assert_int_eq(mkdir(dags, 0755), 0);
    ck_assert_int_eq(mkdir(home, 0755), 0);
    const char *env[] = {"MLFLOWD__EXECUTOR=local", NULL};
    mlf_config_args args = {.home = home, .dags_folder = dags, .envp = env};
    char *errors = NULL;
    ck_assert_msg(mlf_config_load(&args, &cfg, &errors) == MLF_OK, "config: %s", errors ? errors : "?");
    cat = mlf_catalog_new();
    const char *paths[] = {TEST_BUILDDIR "/plugins"};
    const char *names[] = {"shell", "empty"};
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 1, names, 2, &diag), 0);
    mlf_diag_clear(&diag);
    char *state = tu_path(home, "state"), err[256];
    ck_assert_msg(mlf_store_open(state, MLF_STORE_CREATE, &st, err, sizeof err) == MLF_OK, "store: %s", err);
    bag = mlf_dagbag_new(dags, cat);
    memset(&fx, 0, sizeof fx);
    sched = NULL;
    free(state);
    free(dags);
    free(home);
}

static void teardown(void)
{
    mlf_scheduler_free(sched);
    sched = NULL;
    fake_exec_clear(&fx);
    mlf_dagbag_free(bag);
    mlf_store_close(st);
    mlf_catalog_free(cat);
    mlf_config_free(cfg);
    tu_rm_rf(base);
    free(base);
}

/* Writes dags/NAME.yaml with @p text and reloads the bag. */
static void put_dag(const char *name, const char *text)
{
    char *file = mlf_strdup_printf("%s/dags/%s.yaml", base, name);
    tu_write_file(file, text, 0644);
    free(file);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, NULL), MLF_OK);
}

/* The first import error that contains @p needle, or NULL. */
static const char *error_with(const char *needle)
{
    const mlf_diag *d = mlf_dagbag_errors(bag);
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->v[i].message, needle))
            return d->v[i].message;
    return NULL;
}

/* ------------------------------------------------------------------------------------------ model */

START_TEST(test_uri_validation)
{
    const char *good[] = {"s3://bucket/features", "file:///data/prices.parquet", "prices", "x-y+z.1://a",
                          "postgres://db.example/schema/table", "user@host"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(mlf_asset_uri_problem(good[i]) == NULL, "%s: %s", good[i], mlf_asset_uri_problem(good[i]));
    const char *bad[] = {"", "has space", "1s3://x", "s_3://x", "s3://", "s3://user:pw@host/x", "tab\there"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(mlf_asset_uri_problem(bad[i]) != NULL, "'%s' was accepted", bad[i]);
    char long_uri[MLF_ASSET_URI_MAX + 2];
    memset(long_uri, 'a', sizeof long_uri - 1);
    long_uri[sizeof long_uri - 1] = '\0';
    ck_assert_ptr_nonnull(mlf_asset_uri_problem(long_uri));
}
END_TEST

START_TEST(test_cond_ready)
{
    mlf_asset_req r[2] = {{.uri = "a", .updates = 1}, {.uri = "b", .updates = 3}};
    mlf_asset_cond all = {.any = 0, .v = r, .n = 2}, any = {.any = 1, .v = r, .n = 2};
    ck_assert(!mlf_asset_cond_ready(&all, (int64_t[]){0, 0}));
    ck_assert(!mlf_asset_cond_ready(&all, (int64_t[]){5, 2})); /* b needs 3 updates */
    ck_assert(mlf_asset_cond_ready(&all, (int64_t[]){1, 3}));
    ck_assert(!mlf_asset_cond_ready(&any, (int64_t[]){0, 2}));
    ck_assert(mlf_asset_cond_ready(&any, (int64_t[]){1, 0}));
    ck_assert(mlf_asset_cond_ready(&any, (int64_t[]){0, 7}));
    mlf_asset_cond none = {0};
    ck_assert(!mlf_asset_cond_ready(&none, NULL));
}
END_TEST

START_TEST(test_parse_forms)
{
    put_dag("p", "dag_id: p\nschedule: null\ntasks:\n  make: {operator: empty, outlets: [s3://b/a, s3://b/b]}\n"
                 "  one: {operator: empty, outlets: s3://b/c}\n");
    put_dag("c", "dag_id: c\nstart_date: 2024-01-01\n"
                 "schedule: {cron: '@daily', any: [s3://b/a, {uri: s3://b/b, updates: 7}]}\n"
                 "tasks:\n  t: {operator: empty}\n");
    put_dag("e", "dag_id: e\nschedule: {assets: [ext://feed]}\nassets:\n  ext://feed: {external: true}\n"
                 "tasks:\n  t: {operator: empty}\n");
    ck_assert_uint_eq(mlf_dagbag_errors(bag)->n, 0);
    const mlf_dag *p = mlf_dagbag_get(bag, "p"), *c = mlf_dagbag_get(bag, "c"), *e = mlf_dagbag_get(bag, "e");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(p->tasks[0].noutlets, 2);
    ck_assert_str_eq(p->tasks[1].outlets[0], "s3://b/c");
    ck_assert_int_eq(c->asset_sched.any, 1);
    ck_assert_uint_eq(c->asset_sched.n, 2);
    ck_assert_int_eq(c->asset_sched.v[1].updates, 7);
    ck_assert_str_eq(c->schedule, "@daily");
    ck_assert_uint_eq(e->nasset_decls, 1);
    ck_assert_int_eq(e->asset_decls[0].external, 1);
    ck_assert_ptr_null(e->schedule);
}
END_TEST

START_TEST(test_parse_errors)
{
    put_dag("p", "dag_id: p\ntasks:\n  make: {operator: empty, outlets: [s3://bucket/features]}\n");
    /* an unknown asset: a load error at the URI, with the nearest known one */
    put_dag("c", "dag_id: c\nschedule:\n  assets: [s3://bucket/featurez]\ntasks:\n  t: {operator: empty}\n");
    const char *m = error_with("unknown asset 's3://bucket/featurez'");
    ck_assert_msg(m && strstr(m, "did you mean 's3://bucket/features'"), "%s", m ? m : "no error");
    ck_assert_ptr_null(mlf_dagbag_get(bag, "c"));
    const mlf_diag *d = mlf_dagbag_errors(bag);
    int at = 0;
    for (size_t i = 0; i < d->n; i++)
        at |= strstr(d->v[i].message, "featurez") && d->v[i].line == 3 && d->v[i].col == 12;
    ck_assert_msg(at, "the error is not at the URI (3:12)");
    /* declared external: fine */
    put_dag("x", "dag_id: x\nassets: {s3://bucket/featurez: {external: true}}\ntasks:\n  t: {operator: empty}\n");
    ck_assert_ptr_nonnull(mlf_dagbag_get(bag, "c"));
    /* bad forms */
    put_dag("b1", "dag_id: b1\nschedule: {asets: [s3://bucket/features]}\ntasks:\n  t: {operator: empty}\n");
    ck_assert_ptr_nonnull(error_with("unknown key 'asets' (did you mean 'assets'?)"));
    put_dag("b2", "dag_id: b2\nschedule: {assets: []}\ntasks:\n  t: {operator: empty}\n");
    ck_assert_ptr_nonnull(error_with("expected a non-empty list"));
    put_dag("b3", "dag_id: b3\nschedule: {assets: [{uri: s3://bucket/features, updates: 0}]}\ntasks:\n  t: {operator: empty}\n");
    ck_assert_ptr_nonnull(error_with("updates: expected an integer 1..1000000"));
    put_dag("b4", "dag_id: b4\ntasks:\n  t: {operator: empty, outlets: ['s3://u:p@h/x']}\n");
    ck_assert_ptr_nonnull(error_with("must not hold credentials"));
    put_dag("b5", "dag_id: b5\nassets: {s3://q: {}}\ntasks:\n  t: {operator: empty}\n");
    ck_assert_ptr_nonnull(error_with("external: true"));
    put_dag("b6", "dag_id: b6\nschedule: {cron: '@daily', assets: [s3://bucket/features]}\ntasks:\n  t: {operator: empty}\n");
    ck_assert_ptr_nonnull(error_with("needs a start_date"));
}
END_TEST

/* ------------------------------------------------------------------------------------------ scheduling */

static void open_scheduler(void)
{
    mlf_scheduler_opts o = {.cfg = cfg, .cat = cat, .bag = bag, .store = st, .exe = TEST_BUILDDIR "/mlflowd",
                            .parallelism = 4, .create_scheduled_runs = 1};
    char err[256];
    ck_assert_msg(mlf_sc_new_with_executor(&o, fake_executor(&fx), &sched, err, sizeof err) == MLF_OK, "scheduler: %s",
                  err);
}

/* Turns the loop until nothing is in flight; the inbox is looked at on each call. */
static void step(void)
{
    sched->next_inbox = 0;
    ck_assert_int_eq(mlf_scheduler_run(sched, NULL, "no-such-dag", NULL), MLF_OK);
}

typedef struct counts {
    int n[MLF_RUN_TYPE_COUNT];
    char last_asset_run[200];
} counts;

static int count_run(void *ud, const mlf_run_rec *rec)
{
    counts *c = ud;
    c->n[rec->run_type]++;
    if (rec->run_type == MLF_RUN_TYPE_ASSET_TRIGGERED)
        snprintf(c->last_asset_run, sizeof c->last_asset_run, "%s", rec->run_id);
    return 0;
}

static counts runs_of(const char *dag_id)
{
    counts c = {0};
    mlf_store_txn *txn;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_store_run_foreach(txn, dag_id, INT64_MIN, INT64_MAX, 0, count_run, &c);
    mlf_store_read_end(txn);
    return c;
}

static void outside_event(const char *uri, int n)
{
    char err[256];
    for (int i = 0; i < n; i++)
        ck_assert_msg(mlf_ops_asset_event(st, bag, uri, "cli", NULL, NULL, err, sizeof err) == MLF_OK, "%s", err);
}

START_TEST(test_outlet_triggers_consumer)
{
    put_dag("p", "dag_id: p\ntasks:\n  make: {operator: empty, outlets: [s3://b/a]}\n");
    put_dag("c", "dag_id: c\nschedule: {assets: [s3://b/a]}\ntasks:\n  t: {operator: empty}\n");
    open_scheduler();
    step();
    ck_assert_int_eq(runs_of("c").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 0);
    char id[200], err[256];
    ck_assert_int_eq(mlf_scheduler_create_run(sched, mlf_dagbag_get(bag, "p"), MLF_RUN_TYPE_MANUAL, 1704067200000000,
                                              NULL, NULL, id, sizeof id, err, sizeof err), MLF_OK);
    step();
    step();
    counts c = runs_of("c");
    ck_assert_int_eq(c.n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1);
    /* the run's triggering_asset_events name the producing task instance */
    mlf_store_txn *txn;
    mlf_value *ev = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    ck_assert_int_eq(mlf_store_run_assets_get(txn, "c", c.last_asset_run, &ev), MLF_OK);
    mlf_store_read_end(txn);
    const mlf_value *list = mlf_map_get(ev, "s3://b/a");
    ck_assert_uint_eq(mlf_value_len(list), 1);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_array_at(list, 0), "dag_id"), NULL), "p");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_array_at(list, 0), "task_id"), NULL), "make");
    mlf_value_free(ev);
    step();
    ck_assert_int_eq(runs_of("c").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1); /* consumed: no second run */
}
END_TEST

START_TEST(test_burst_collapses)
{
    put_dag("c", "dag_id: c\nschedule: {assets: [ext://a]}\nassets: {ext://a: {external: true}}\n"
                 "tasks:\n  t: {operator: empty}\n");
    open_scheduler();
    step();
    outside_event("ext://a", 5);
    step();
    step();
    counts c = runs_of("c");
    ck_assert_int_eq(c.n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1);
    mlf_store_txn *txn;
    mlf_value *ev = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    ck_assert_int_eq(mlf_store_run_assets_get(txn, "c", c.last_asset_run, &ev), MLF_OK);
    mlf_store_read_end(txn);
    ck_assert_uint_eq(mlf_value_len(mlf_map_get(ev, "ext://a")), 5); /* the run sees all five */
    mlf_value_free(ev);
    outside_event("ext://a", 1);
    step();
    ck_assert_int_eq(runs_of("c").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 2);
}
END_TEST

START_TEST(test_all_any_and_counts)
{
    put_dag("x", "dag_id: x\nassets: {ext://a: {external: true}, ext://b: {external: true}}\n"
                 "tasks:\n  t: {operator: empty}\n");
    put_dag("all", "dag_id: all\nschedule: {assets: [ext://a, ext://b]}\ntasks:\n  t: {operator: empty}\n");
    put_dag("any", "dag_id: any\nschedule: {any: [ext://a, ext://b]}\ntasks:\n  t: {operator: empty}\n");
    put_dag("three", "dag_id: three\nschedule: {assets: [{uri: ext://a, updates: 3}]}\ntasks:\n  t: {operator: empty}\n");
    open_scheduler();
    step();
    outside_event("ext://a", 1);
    step();
    ck_assert_int_eq(runs_of("all").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 0);
    ck_assert_int_eq(runs_of("any").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1);
    ck_assert_int_eq(runs_of("three").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 0);
    outside_event("ext://b", 1);
    step();
    ck_assert_int_eq(runs_of("all").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1);
    ck_assert_int_eq(runs_of("any").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 2);
    outside_event("ext://a", 1);
    step();
    ck_assert_int_eq(runs_of("three").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 0); /* 2 of 3 */
    outside_event("ext://a", 1);
    step();
    ck_assert_int_eq(runs_of("three").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1);
    ck_assert_int_eq(runs_of("all").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1); /* b not updated again */
}
END_TEST

START_TEST(test_first_run_ignores_older_events)
{
    put_dag("x", "dag_id: x\nassets: {ext://a: {external: true}}\ntasks:\n  t: {operator: empty}\n");
    outside_event("ext://a", 2); /* before the consumer exists */
    put_dag("c", "dag_id: c\nschedule: {assets: [ext://a]}\ntasks:\n  t: {operator: empty}\n");
    open_scheduler();
    step();
    step();
    ck_assert_int_eq(runs_of("c").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 0);
    outside_event("ext://a", 1);
    step();
    ck_assert_int_eq(runs_of("c").n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1);
}
END_TEST

START_TEST(test_cron_and_assets)
{
    put_dag("x", "dag_id: x\nassets: {ext://a: {external: true}}\ntasks:\n  t: {operator: empty}\n");
    put_dag("c", "dag_id: c\nstart_date: 2024-01-01\ncatchup: false\nschedule: {cron: '@daily', assets: [ext://a]}\n"
                 "tasks:\n  t: {operator: empty}\n");
    open_scheduler();
    step();
    step();
    counts c = runs_of("c");
    ck_assert_int_eq(c.n[MLF_RUN_TYPE_SCHEDULED], 1); /* the cron's latest interval */
    ck_assert_int_eq(c.n[MLF_RUN_TYPE_ASSET_TRIGGERED], 0);
    outside_event("ext://a", 1);
    step();
    step();
    c = runs_of("c");
    ck_assert_int_eq(c.n[MLF_RUN_TYPE_ASSET_TRIGGERED], 1);
    ck_assert_int_eq(c.n[MLF_RUN_TYPE_SCHEDULED], 1); /* the asset run did not move the cron's intervals */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("assets");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, tu_bound_ms(30000) / 1000);
    tcase_add_test(tc, test_uri_validation);
    tcase_add_test(tc, test_cond_ready);
    tcase_add_test(tc, test_parse_forms);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_outlet_triggers_consumer);
    tcase_add_test(tc, test_burst_collapses);
    tcase_add_test(tc, test_all_any_and_counts);
    tcase_add_test(tc, test_first_run_ignores_older_events);
    tcase_add_test(tc, test_cron_and_assets);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
