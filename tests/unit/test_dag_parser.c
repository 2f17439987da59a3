/* Unit tests for core/dag_parser.c and core/dagbag.c: a valid DAG file, and every documented refusal with
 * its file:line:col and message. Operators come from the real built-in and test plugins. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dag/dag_parser.h"
#include "dag/dagbag.h"
#include "plugin/plugin_loader.h"
#include "base/strutil.h"

static mlf_catalog *cat;
static mlf_dag_parser *parser;
static mlf_diag diag;

static void setup(void)
{
    cat = mlf_catalog_new();
    const char *paths[] = {TEST_BUILDDIR "/plugins", TEST_BUILDDIR "/tests/plugins"};
    const char *names[] = {"shell", "empty", "good"};
    mlf_diag errs = {0};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 2, names, 3, &errs), 0);
    mlf_diag_clear(&errs);
    parser = mlf_dag_parser_new(cat);
    memset(&diag, 0, sizeof diag);
}

static void teardown(void)
{
    mlf_diag_clear(&diag);
    mlf_dag_parser_free(parser);
    mlf_catalog_free(cat);
}

static mlf_dag *parse(const char *text)
{
    mlf_dag *dag = NULL;
    mlf_dag_parse_buffer(parser, text, strlen(text), "dags/t.yaml", &dag, &diag);
    return dag;
}

/* Asserts that parsing @p text fails with a diagnostic that formats exactly as @p want (or contains it,
 * when @p want starts with '~'). */
static void expect_error(const char *text, const char *want)
{
    mlf_dag *dag = parse(text);
    ck_assert_msg(dag == NULL, "parsed although it should fail with: %s", want);
    int found = 0;
    mlf_buf all = {0};
    for (size_t i = 0; i < diag.n; i++) {
        char *s = mlf_diag_format(&diag, i);
        mlf_buf_printf(&all, "\n  %s", s);
        if (want[0] == '~' ? strstr(s, want + 1) != NULL : strcmp(s, want) == 0)
            found = 1;
        free(s);
    }
    ck_assert_msg(found, "expected '%s' among:%s", want, all.data ? all.data : " (none)");
    mlf_buf_free(&all);
    mlf_diag_clear(&diag);
}

static const char *const valid_dag =
    "dag_id: crypto_daily\n"
    "description: Pull prices\n"
    "schedule: \"@daily\"\n"
    "start_date: 2024-01-01\n"
    "catchup: true\n"
    "max_active_runs: 1\n"
    "tags: [crypto, ml]\n"
    "params: {window: 30, symbols: [btc, eth], dir: /tmp}\n"
    "default_args:\n"
    "  retries: 2\n"
    "  retry_delay: 30s\n"
    "  retry_exponential_backoff: true\n"
    "  max_retry_delay: 10m\n"
    "  execution_timeout: 15m\n"
    "  owner: ml-team\n"
    "tasks:\n"
    "  fetch:\n"
    "    operator: shell\n"
    "    command: \"fetch --date {{ ds }} --out {{ params.dir }}/{{ ds_nodash }}.csv\"\n"
    "  predict:\n"
    "    operator: test_op\n"
    "    upstream: [fetch]\n"
    "    expand: {message: \"{{ params.symbols }}\"}\n"
    "  wait:\n"
    "    operator: test_sensor\n"
    "    mode: reschedule\n"
    "    poke_interval: 10s\n"
    "    timeout: 1h\n"
    "    soft_fail: true\n"
    "  decide:\n"
    "    operator: shell\n"
    "    upstream: [predict, wait]\n"
    "    trigger_rule: none_failed\n"
    "    retries: 0\n"
    "    command: \"echo {{ xcom.predict }}\"\n"
    "  store: {operator: empty, upstream: decide, priority_weight: 5, weight_rule: absolute}\n";

START_TEST(test_valid_dag)
{
    mlf_dag *d = parse(valid_dag);
    for (size_t i = 0; i < diag.n; i++) {
        char *s = mlf_diag_format(&diag, i);
        fprintf(stderr, "unexpected: %s\n", s);
        free(s);
    }
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->dag_id, "crypto_daily");
    ck_assert_str_eq(d->schedule, "@daily");
    ck_assert_int_eq(d->start_date, 1704067200000000LL);
    ck_assert_int_eq(d->catchup, 1);
    ck_assert_int_eq(d->max_active_runs, 1);
    ck_assert_uint_eq(d->ntags, 2);
    ck_assert_uint_eq(d->ntasks, 5);
    const mlf_task *fetch = &d->tasks[mlf_dag_task_index(d, "fetch")];
    ck_assert_int_eq(fetch->retries, 2);
    ck_assert_int_eq(fetch->retry_delay_us, 30000000LL);
    ck_assert_int_eq(fetch->retry_exponential_backoff, 1);
    ck_assert_int_eq(fetch->max_retry_delay_us, 600000000LL);
    ck_assert_int_eq(fetch->execution_timeout_us, 900000000LL);
    ck_assert_str_eq(fetch->owner, "ml-team");
    ck_assert_int_eq(fetch->line, 17);
    ck_assert_int_eq(fetch->col, 3);
    /* declared defaults are applied */
    int64_t code = 0;
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(fetch->params, "skip_on_exit_code"), &code), MLF_OK);
    ck_assert_int_eq(code, 99);
    const mlf_task *predict = &d->tasks[mlf_dag_task_index(d, "predict")];
    ck_assert_ptr_nonnull(predict->expand);
    ck_assert_ptr_null(mlf_map_get(predict->params, "message"));
    ck_assert_uint_eq(predict->nupstream, 1);
    const mlf_task *wait = &d->tasks[mlf_dag_task_index(d, "wait")];
    ck_assert_int_eq(wait->sensor.mode, MLF_SENSOR_RESCHEDULE);
    ck_assert_int_eq(wait->sensor.poke_interval_us, 10000000LL);
    ck_assert_int_eq(wait->sensor.soft_fail, 1);
    const mlf_task *decide = &d->tasks[mlf_dag_task_index(d, "decide")];
    ck_assert_int_eq(decide->trigger_rule, MLF_TR_NONE_FAILED);
    ck_assert_int_eq(decide->retries, 0);
    ck_assert_uint_eq(decide->nupstream, 2);
    const mlf_task *store = &d->tasks[mlf_dag_task_index(d, "store")];
    ck_assert_int_eq(store->effective_priority, 5);
    mlf_dag_free(d);
}
END_TEST

START_TEST(test_yaml_syntax_error_has_position)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty\n", "~dags/t.yaml:4:1: ");
}
END_TEST

START_TEST(test_not_a_mapping)
{
    expect_error("- a\n- b\n", "dags/t.yaml:1:1: a DAG file must be a mapping with dag_id, schedule, tasks...; got list");
}
END_TEST

START_TEST(test_missing_and_bad_dag_id)
{
    expect_error("tasks: {a: {operator: empty}}\n", "dags/t.yaml:1:1: missing required key 'dag_id'");
    expect_error("dag_id: has space\ntasks: {a: {operator: empty}}\n",
                 "dags/t.yaml:1:9: dag_id 'has space' must be 1-120 characters of letters, digits and _ . : + -, and not '.' or '..'");
    expect_error("dag_id: [a]\ntasks: {a: {operator: empty}}\n", "dags/t.yaml:1:9: dag_id: expected a string, got list");
}
END_TEST

START_TEST(test_unknown_dag_key_suggests)
{
    expect_error("dag_id: x\nshedule: \"@daily\"\ntasks: {a: {operator: empty}}\n",
                 "dags/t.yaml:2:1: unknown DAG key 'shedule' (did you mean 'schedule'?)");
    expect_error("dag_id: x\nschedule_interval: \"@daily\"\ntasks: {a: {operator: empty}}\n",
                 "~unknown DAG key 'schedule_interval' (it is called 'schedule'");
}
END_TEST

START_TEST(test_duplicate_task_id)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty}\n  a: {operator: empty}\n", "~dags/t.yaml:4:3: duplicate key 'a'");
}
END_TEST

START_TEST(test_unknown_core_and_operator_keys)
{
    expect_error("dag_id: x\ntasks:\n  a:\n    operator: shell\n    comand: ls\n",
                 "dags/t.yaml:5:5: task 'a': unknown key 'comand' for operator 'shell' (did you mean 'command'?)");
    expect_error("dag_id: x\ntasks:\n  a:\n    operator: empty\n    retrys: 3\n",
                 "dags/t.yaml:5:5: task 'a': unknown key 'retrys' for operator 'empty' (did you mean 'retries'?)");
}
END_TEST

START_TEST(test_unknown_operator_suggests)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: shel, command: ls}\n",
                 "dags/t.yaml:3:17: task 'a': unknown operator 'shel' (did you mean 'shell'?)");
    expect_error("dag_id: x\ntasks:\n  a: {command: ls}\n", "dags/t.yaml:3:3: task 'a': missing required key 'operator'");
}
END_TEST

START_TEST(test_wrong_value_types)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty, retries: many}\n",
                 "dags/t.yaml:3:33: retries: expected an integer, got string");
    expect_error("dag_id: x\ntasks:\n  a: {operator: test_op, message: hi, times: [1]}\n",
                 "dags/t.yaml:3:46: task 'a': times: expected an integer, got list");
    expect_error("dag_id: x\ncatchup: maybe\ntasks: {a: {operator: empty}}\n",
                 "dags/t.yaml:2:10: catchup: expected true or false, got string");
    expect_error("dag_id: x\ntasks:\n  a: {operator: test_op, message: hi, level: loud}\n",
                 "~task 'a': level: expected one of info|warning, got 'loud'");
}
END_TEST

START_TEST(test_required_parameter)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: shell}\n",
                 "dags/t.yaml:3:3: task 'a': operator 'shell' requires 'command' (the command line, run with /bin/sh -c)");
}
END_TEST

START_TEST(test_upstream_missing_task)
{
    expect_error("dag_id: x\ntasks:\n  fetch: {operator: empty}\n  b: {operator: empty, upstream: [fetc]}\n",
                 "dags/t.yaml:4:35: task 'b': upstream 'fetc' is not a task of this DAG (did you mean 'fetch'?)");
}
END_TEST

START_TEST(test_cycle_prints_path)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty, upstream: c}\n  b: {operator: empty, upstream: a}\n"
                 "  c: {operator: empty, upstream: b}\n",
                 "~the tasks contain a cycle: ");
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty, upstream: c}\n  b: {operator: empty, upstream: a}\n"
                 "  c: {operator: empty, upstream: b}\n",
                 "~ -> ");
}
END_TEST

START_TEST(test_unknown_trigger_rule)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty, trigger_rule: all_sucess}\n",
                 "dags/t.yaml:3:38: unknown trigger rule 'all_sucess' (did you mean 'all_success'?)");
}
END_TEST

START_TEST(test_bad_durations)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty, retry_delay: 5x}\n", "~dags/t.yaml:3:37: retry_delay: duration \"5x\": unknown unit \"x\"");
    expect_error("dag_id: x\ntasks:\n  a: {operator: empty, execution_timeout: P1M}\n", "~dags/t.yaml:3:43: execution_timeout: ");
}
END_TEST

START_TEST(test_bad_dates_and_end_before_start)
{
    expect_error("dag_id: x\nstart_date: 2024-02-30\ntasks: {a: {operator: empty}}\n", "~dags/t.yaml:2:13: start_date: ");
    expect_error("dag_id: x\nstart_date: 2024-01-02\nend_date: 2024-01-01\ntasks: {a: {operator: empty}}\n",
                 "dags/t.yaml:3:11: end_date 2024-01-01 is before start_date 2024-01-02");
}
END_TEST

START_TEST(test_bad_cron)
{
    expect_error("dag_id: x\nstart_date: 2024-01-01\nschedule: \"61 * * * *\"\ntasks: {a: {operator: empty}}\n",
                 "~dags/t.yaml:3:11: schedule: ");
    expect_error("dag_id: x\nschedule: \"@daily\"\ntasks: {a: {operator: empty}}\n",
                 "~schedule '@daily' needs a start_date");
}
END_TEST

START_TEST(test_bad_timezone)
{
    expect_error("dag_id: x\ntimezone: Mars/Olympus\ntasks: {a: {operator: empty}}\n", "~dags/t.yaml:2:11: timezone: ");
}
END_TEST

START_TEST(test_expand_on_unknown_parameter)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: test_op, expand: {mesage: [a, b]}}\n",
                 "dags/t.yaml:3:35: task 'a': expand: 'mesage' is not a parameter of operator 'test_op' (did you mean 'message'?)");
    expect_error("dag_id: x\ntasks:\n  a: {operator: test_op, message: x, expand: {message: [a]}}\n",
                 "~'message' is given both directly and in expand");
    expect_error("dag_id: x\ntasks:\n  a: {operator: test_op, expand: {message: \"x-{{ params.a }}\"}}\n",
                 "~must be one whole expression");
}
END_TEST

START_TEST(test_templates_that_do_not_parse_or_use_unknown_names)
{
    expect_error("dag_id: x\ntasks:\n  a: {operator: shell, command: \"echo {{ ds \"}\n",
                 "~dags/t.yaml:3:33: task 'a': command: template does not parse: column 12: expected '}}'");
    expect_error("dag_id: x\ntasks:\n  a: {operator: shell, command: \"echo {{ dss }}\"}\n",
                 "dags/t.yaml:3:33: task 'a': command: template uses unknown variable 'dss' (did you mean 'ds'?)");
    expect_error("dag_id: x\ntasks:\n  a: {operator: shell, command: \"echo {{ xcom.nosuch }}\"}\n",
                 "~task 'a': template pulls XCom from task 'nosuch', which is not in this DAG");
    expect_error("dag_id: x\ntasks:\n  a: {operator: shell, command: \"echo {{ macros.ds_ad(ds, 1) }}\"}\n",
                 "~task 'a': command: template calls unknown macro 'ds_ad' (did you mean 'ds_add'?)");
}
END_TEST

START_TEST(test_every_error_is_reported)
{
    mlf_dag *d = parse("dag_id: x\nshedule: 1\ntasks:\n  a: {operator: shel}\n  b: {operator: empty, retries: -1}\n");
    ck_assert_ptr_null(d);
    ck_assert_uint_eq(diag.n, 3);
}
END_TEST

/* ---- the DAG bag ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char *p = mlf_strdup_printf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

START_TEST(test_dagbag_isolates_errors_and_duplicates)
{
    char dir[] = "/tmp/mlf-bag-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_file(dir, "a.yaml", "dag_id: alpha\ntasks: {t: {operator: empty}}\n");
    write_file(dir, "b.yaml", "dag_id: alpha\ntasks: {t: {operator: empty}}\n");
    write_file(dir, "broken.yml", "dag_id: beta\ntasks: {t: {operator: nosuch}}\n");
    write_file(dir, "notes.txt", "not a dag\n");
    char *sub = mlf_strdup_printf("%s/team", dir);
    mkdir(sub, 0755);
    write_file(sub, "c.yaml", "dag_id: gamma\ntasks: {t: {operator: empty}}\n");
    mlf_dagbag *bag = mlf_dagbag_new(dir, cat);
    size_t changed = 0;
    ck_assert_int_eq(mlf_dagbag_refresh(bag, &changed), MLF_OK);
    ck_assert_uint_eq(changed, 4);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 2);
    ck_assert_str_eq(mlf_dagbag_at(bag, 0)->dag_id, "alpha");
    ck_assert(mlf_str_endswith(mlf_dagbag_get(bag, "alpha")->fileloc, "/a.yaml"));
    ck_assert_ptr_nonnull(mlf_dagbag_get(bag, "gamma"));
    ck_assert_ptr_null(mlf_dagbag_get(bag, "beta"));
    const mlf_diag *e = mlf_dagbag_errors(bag);
    ck_assert_uint_eq(e->n, 2);
    int dup = 0, unknown = 0;
    for (size_t i = 0; i < e->n; i++) {
        dup |= strstr(e->v[i].message, "dag_id 'alpha' is already defined in") != NULL && mlf_str_endswith(e->v[i].file, "b.yaml");
        unknown |= strstr(e->v[i].message, "unknown operator 'nosuch'") != NULL && e->v[i].line == 2;
    }
    ck_assert(dup && unknown);
    /* unchanged folder: nothing re-parsed */
    ck_assert_int_eq(mlf_dagbag_refresh(bag, &changed), MLF_OK);
    ck_assert_uint_eq(changed, 0);
    /* fix one file, delete another: both picked up */
    sleep(0); /* mtime has nanoseconds; the size changes anyway */
    write_file(dir, "broken.yml", "dag_id: beta\ntasks: {t: {operator: empty}, u: {operator: empty}}\n");
    char *b = mlf_strdup_printf("%s/b.yaml", dir);
    unlink(b);
    free(b);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, &changed), MLF_OK);
    ck_assert_uint_eq(changed, 2);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 3);
    ck_assert_uint_eq(mlf_dagbag_get(bag, "beta")->ntasks, 2);
    ck_assert_uint_eq(mlf_dagbag_errors(bag)->n, 0);
    mlf_dagbag_free(bag);
    char *cmd = mlf_strdup_printf("rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(sub);
}
END_TEST

START_TEST(test_dagbag_watch_sees_changes)
{
    char dir[] = "/tmp/mlf-bag-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    mlf_dagbag *bag = mlf_dagbag_new(dir, cat);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, NULL), MLF_OK);
    int fd = mlf_dagbag_watch(bag);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(mlf_dagbag_watch_drain(bag), 0);
    write_file(dir, "new.yaml", "dag_id: fresh\ntasks: {t: {operator: empty}}\n");
    ck_assert_int_eq(mlf_dagbag_watch_drain(bag), 1);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, NULL), MLF_OK);
    ck_assert_ptr_nonnull(mlf_dagbag_get(bag, "fresh"));
    mlf_dagbag_free(bag);
    char *cmd = mlf_strdup_printf("rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dag_parser");
    TCase *tc = tcase_create("parser");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_valid_dag);
    tcase_add_test(tc, test_yaml_syntax_error_has_position);
    tcase_add_test(tc, test_not_a_mapping);
    tcase_add_test(tc, test_missing_and_bad_dag_id);
    tcase_add_test(tc, test_unknown_dag_key_suggests);
    tcase_add_test(tc, test_duplicate_task_id);
    tcase_add_test(tc, test_unknown_core_and_operator_keys);
    tcase_add_test(tc, test_unknown_operator_suggests);
    tcase_add_test(tc, test_wrong_value_types);
    tcase_add_test(tc, test_required_parameter);
    tcase_add_test(tc, test_upstream_missing_task);
    tcase_add_test(tc, test_cycle_prints_path);
    tcase_add_test(tc, test_unknown_trigger_rule);
    tcase_add_test(tc, test_bad_durations);
    tcase_add_test(tc, test_bad_dates_and_end_before_start);
    tcase_add_test(tc, test_bad_cron);
    tcase_add_test(tc, test_bad_timezone);
    tcase_add_test(tc, test_expand_on_unknown_parameter);
    tcase_add_test(tc, test_templates_that_do_not_parse_or_use_unknown_names);
    tcase_add_test(tc, test_every_error_is_reported);
    tcase_add_test(tc, test_dagbag_isolates_errors_and_duplicates);
    tcase_add_test(tc, test_dagbag_watch_sees_changes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
