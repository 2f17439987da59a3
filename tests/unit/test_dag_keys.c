/* Every key doc/dags.md documents (its "Key reference" tables) is loaded here and has its effect on the
 * DAG model, or is refused at load with the documented message: no key is accepted and ignored. The test
 * reads the tables, so a key documented without a case below fails it (and so does a case for a key the
 * tables do not list).
 *
 * Adding a key: one line in KEY_EFFECTS (KIND, KEY, YAML, CHECK) or KEY_REFUSALS (KIND, KEY, YAML, MESSAGE).
 *   KIND  the table the key is in: DAG, Task, Sensor or Group;
 *   YAML  for DAG keys, top-level lines (tasks a and b, b after a, are added unless the YAML has `tasks:`);
 *         for Task keys, the inside of task a's flow mapping (`{operator: empty, YAML}`; give `operator:` to
 *         replace it), beside a task `up`; for Sensor keys, likewise on a file_sensor; for Group keys, the
 *         inside of group g's mapping (`{tasks: {a: ...}, YAML}`). YAML starting with "dag_id:" is the whole
 *         file. Loaded plugins: shell, empty, file_sensor, notifiers (webhook, email);
 *   CHECK an expression over `d` (the loaded DAG) and `t` (its task a, g.a or gg.a);
 *   MESSAGE a part of the load error. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag/dag_parser.h"
#include "base/strutil.h"
#include "testutil.h"

#define S (INT64_C(1000000))
#define CB "{notifier: webhook, url: 'http://127.0.0.1:9/hook'}"

static const mlf_task *task(const mlf_dag *d, const char *id)
{
    long i = mlf_dag_task_index(d, id);
    return i < 0 ? NULL : &d->tasks[i];
}

static int str_is(const char *s, const char *want)
{
    return s && strcmp(s, want) == 0;
}

static int64_t param_int(const mlf_dag *d, const char *name)
{
    int64_t v = -1;
    mlf_value_get_int(mlf_map_get(d->params, name), &v);
    return v;
}

#define KEY_EFFECTS(X)                                                                                                 \
    X(DAG, dag_id, "dag_id: keys\ntasks: {a: {operator: empty}}", str_is(d->dag_id, "keys"))                           \
    X(DAG, description, "description: hello", str_is(d->description, "hello"))                                        \
    X(DAG, schedule, "schedule: '@daily'\nstart_date: 2024-01-01", str_is(d->schedule, "@daily"))                      \
    X(DAG, start_date, "start_date: 2024-01-02", d->start_date == 1704153600 * S)                                      \
    X(DAG, end_date, "start_date: 2024-01-01\nend_date: 2024-02-01", d->end_date == 1706745600 * S)                    \
    X(DAG, timezone, "timezone: Europe/Berlin\nstart_date: 2024-01-01",                                                \
      str_is(d->timezone, "Europe/Berlin") && d->start_date == (1704067200 - 3600) * S)                                \
    X(DAG, catchup, "catchup: true", d->catchup == 1)                                                                  \
    X(DAG, max_active_runs, "max_active_runs: 3", d->max_active_runs == 3)                                             \
    X(DAG, max_active_tasks, "max_active_tasks: 5", d->max_active_tasks == 5)                                          \
    X(DAG, dagrun_timeout, "dagrun_timeout: 2h", d->dagrun_timeout_us == 7200 * S)                                     \
    X(DAG, is_paused_upon_creation, "is_paused_upon_creation: true", d->is_paused_upon_creation == 1)                  \
    X(DAG, tags, "tags: [x, y]", d->ntags == 2 && str_is(d->tags[1], "y"))                                             \
    X(DAG, doc_md, "doc_md: '# Title'", str_is(d->doc_md, "# Title"))                                                  \
    X(DAG, params, "params: {n: {type: integer, default: 3}, m: 4}",                                                   \
      param_int(d, "n") == 3 && param_int(d, "m") == 4 && d->param_specs)                                              \
    X(DAG, default_args, "default_args: {retries: 4}", t->retries == 4)                                                \
    X(DAG, on_failure_callback, "on_failure_callback: " CB, d->on_failure_callback != NULL)                            \
    X(DAG, on_success_callback, "on_success_callback: " CB, d->on_success_callback != NULL)                            \
    X(DAG, tasks, "tasks: {a: {operator: empty}, z: {operator: empty}}", d->ntasks == 2)                               \
    X(DAG, groups, "groups: {g: {tasks: {a: {operator: empty}}}}\ntasks: {}", d->ngroups == 1 && t->group_index == 0)  \
    X(DAG, assets, "assets: {'s3://vendor/feed': {external: true}}",                                                  \
      d->nasset_decls == 1 && d->asset_decls[0].external)                                                              \
    X(Task, operator, "operator: shell, command: 'echo'", str_is(t->operator_name, "shell"))                           \
    X(Task, upstream, "upstream: up", t->nupstream == 1)                                                               \
    X(Task, trigger_rule, "trigger_rule: all_done", t->trigger_rule == MLF_TR_ALL_DONE)                                \
    X(Task, retries, "retries: 2", t->retries == 2)                                                                    \
    X(Task, retry_delay, "retry_delay: 10s", t->retry_delay_us == 10 * S)                                              \
    X(Task, retry_exponential_backoff, "retry_exponential_backoff: true", t->retry_exponential_backoff == 1)          \
    X(Task, max_retry_delay, "max_retry_delay: 1m", t->max_retry_delay_us == 60 * S)                                   \
    X(Task, execution_timeout, "execution_timeout: 5m", t->execution_timeout_us == 300 * S)                            \
    X(Task, depends_on_past, "depends_on_past: true", t->depends_on_past == 1)                                         \
    X(Task, wait_for_downstream, "wait_for_downstream: true", t->wait_for_downstream && t->depends_on_past)            \
    X(Task, pool, "pool: p", str_is(t->pool, "p"))                                                                     \
    X(Task, pool_slots, "pool_slots: 2", t->pool_slots == 2)                                                           \
    X(Task, queue, "queue: q", str_is(t->queue, "q"))                                                                  \
    X(Task, priority_weight, "priority_weight: 7", t->priority_weight == 7)                                            \
    X(Task, weight_rule, "weight_rule: absolute, priority_weight: 9",                                                  \
      t->weight_rule == MLF_WR_ABSOLUTE && t->effective_priority == 9)                                                 \
    X(Task, expand, "operator: shell, expand: {command: ['a', 'b']}", t->expand && !mlf_map_get(t->params, "command")) \
    X(Task, group, "group: gg", str_is(t->task_id, "gg.a") && str_is(t->group, "gg"))                                  \
    X(Task, doc, "doc: hi", str_is(t->doc, "hi"))                                                                      \
    X(Task, owner, "owner: me", str_is(t->owner, "me"))                                                                \
    X(Task, on_failure_callback, "on_failure_callback: " CB, t->on_failure_callback != NULL)                           \
    X(Task, on_success_callback, "on_success_callback: " CB, t->on_success_callback != NULL)                           \
    X(Task, on_retry_callback, "on_retry_callback: " CB, t->on_retry_callback != NULL)                                 \
    X(Task, setup, "setup: true", t->is_setup == 1)                                                                    \
    X(Task, teardown, "teardown: true, upstream: up",                                                                  \
      t->is_teardown && t->trigger_rule == MLF_TR_ALL_DONE_SETUP_SUCCESS && !mlf_task_is_leaf(t))                      \
    X(Task, teardowns, "teardowns: [up]", t->is_setup && task(d, "up")->is_teardown && task(d, "up")->nupstream == 1)  \
    X(Task, on_failure_fail_dagrun, "teardown: true, on_failure_fail_dagrun: true", mlf_task_is_leaf(t))              \
    X(Task, cache, "cache: auto", t->cache_mode == MLF_CACHE_AUTO)                                                     \
    X(Task, outlets, "outlets: ['s3://lake/x']", t->noutlets == 1 && str_is(t->outlets[0], "s3://lake/x"))             \
    X(Sensor, mode, "mode: reschedule", t->sensor.mode == MLF_SENSOR_RESCHEDULE)                                       \
    X(Sensor, poke_interval, "poke_interval: 5s", t->sensor.poke_interval_us == 5 * S)                                 \
    X(Sensor, timeout, "timeout: 1h", t->sensor.timeout_us == 3600 * S)                                                \
    X(Sensor, soft_fail, "soft_fail: true", t->sensor.soft_fail == 1)                                                  \
    X(Sensor, exponential_backoff, "exponential_backoff: true", t->sensor.exponential_backoff == 1)                    \
    X(Group, tasks, "dag_id: keys\ngroups: {g: {tasks: {a: {operator: empty}, b: {operator: empty}}}}",                \
      d->ntasks == 2 && task(d, "g.b"))                                                                                \
    X(Group, groups, "groups: {h: {tasks: {y: {operator: empty}}}}", task(d, "g.h.y") != NULL)                         \
    X(Group, upstream, "upstream: up", t->nupstream == 1)                                                              \
    X(Group, default_args, "default_args: {retries: 6}", t->retries == 6)                                              \
    X(Group, tooltip, "tooltip: tip", str_is(d->groups[0].tooltip, "tip"))                                             \
    X(Group, prefix_group_id, "prefix_group_id: false", str_is(t->task_id, "a") && str_is(t->group, "g"))

#define KEY_REFUSALS(X)                                                                                                \
    X(Task, email, "email: [a@example.com]", "email is not supported yet; mail through the email notifier")           \
    X(Task, email_on_failure, "email_on_failure: true", "email_on_failure is not supported yet")                       \
    X(Task, email_on_retry, "email_on_retry: true", "email_on_retry is not supported yet")                             \
    X(Task, sla, "sla: 1h", "Airflow 3 replaced SLAs by deadline alerts")                                              \
    X(Group, expand, "expand: {x: [1]}", "mapped task groups (expand on a group) are not supported yet")              \
    X(Group, ui_color, "ui_color: red", "ui_color is not supported")                                                   \
    X(Group, ui_fgcolor, "ui_fgcolor: black", "ui_fgcolor is not supported")

#define CHECK_FN(kind, key, yaml, expr)                                                                                \
    static int check_##kind##_##key(const mlf_dag *d, const mlf_task *t)                                               \
    {                                                                                                                  \
        (void)d;                                                                                                       \
        (void)t;                                                                                                       \
        return (expr);                                                                                                 \
    }
KEY_EFFECTS(CHECK_FN)

typedef struct key_case {
    const char *kind, *key, *yaml;
    int (*check)(const mlf_dag *d, const mlf_task *t); /* NULL: refused */
    const char *refusal;
} key_case;

#define EFFECT_ROW(kind, key, yaml, expr) {#kind, #key, yaml, check_##kind##_##key, NULL},
#define REFUSAL_ROW(kind, key, yaml, msg) {#kind, #key, yaml, NULL, msg},
static const key_case cases[] = {KEY_EFFECTS(EFFECT_ROW) KEY_REFUSALS(REFUSAL_ROW)};
#define NCASES (sizeof cases / sizeof cases[0])

/* The documented keys: (table, key) pairs read from doc/dags.md's "| KIND key |" tables. */
typedef struct doc_key {
    char kind[16], key[64];
} doc_key;

static size_t read_doc_keys(doc_key *out, size_t max)
{
    FILE *f = fopen(TEST_SRCDIR "/doc/dags.md", "r");
    ck_assert_msg(f != NULL, "cannot read doc/dags.md");
    char line[1024], kind[16] = "";
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char k[16], key[64];
        if (sscanf(line, "| %15s key | %*s", k) == 1 && strstr(line, " key |")) {
            snprintf(kind, sizeof kind, "%s", k);
            continue;
        }
        if (line[0] != '|') /* a table ends at the first line that is not a row */
            kind[0] = '\0';
        if (kind[0] && sscanf(line, "| `%63[a-z_]` |", key) == 1 && n < max) {
            snprintf(out[n].kind, sizeof out[n].kind, "%s", kind);
            snprintf(out[n].key, sizeof out[n].key, "%s", key);
            n++;
        }
    }
    fclose(f);
    return n;
}

START_TEST(test_every_documented_key_has_a_case)
{
    doc_key keys[256];
    size_t n = read_doc_keys(keys, 256);
    ck_assert_msg(n > 60, "only %zu keys read from doc/dags.md's Key reference tables", n);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t c = 0; c < NCASES && !found; c++)
            found = strcmp(cases[c].kind, keys[i].kind) == 0 && strcmp(cases[c].key, keys[i].key) == 0;
        ck_assert_msg(found, "doc/dags.md documents the %s key '%s' but tests/unit/test_dag_keys.c has no case "
                      "for it: add one line to KEY_EFFECTS or KEY_REFUSALS", keys[i].kind, keys[i].key);
    }
    for (size_t c = 0; c < NCASES; c++) {
        int found = 0;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(cases[c].kind, keys[i].kind) == 0 && strcmp(cases[c].key, keys[i].key) == 0;
        ck_assert_msg(found, "tests/unit/test_dag_keys.c has a case for the %s key '%s', which doc/dags.md's Key "
                      "reference does not list", cases[c].kind, cases[c].key);
    }
}
END_TEST

/* The DAG file of case @p c (see the top of this file). Free it. */
static char *case_file(const key_case *c)
{
    if (strncmp(c->yaml, "dag_id:", 7) == 0)
        return strdup(c->yaml);
    if (strcmp(c->kind, "DAG") == 0)
        return mlf_strdup_printf("dag_id: keys\n%s\n%s", c->yaml,
                                 strncmp(c->yaml, "tasks:", 6) == 0 || strstr(c->yaml, "\ntasks:") ? ""
                                                           : "tasks:\n  a: {operator: empty}\n  b: {operator: empty, upstream: a}\n");
    if (strcmp(c->kind, "Group") == 0)
        return mlf_strdup_printf("dag_id: keys\ntasks:\n  up: {operator: empty}\ngroups:\n  g: {tasks: {a: {operator: "
                                 "empty}}, %s}\n", c->yaml);
    const char *op = strcmp(c->kind, "Sensor") == 0 ? "operator: file_sensor, path: /nonexistent, "
                     : strstr(c->yaml, "operator:") ? ""
                                                     : "operator: empty, ";
    return mlf_strdup_printf("dag_id: keys\ntasks:\n  up: {operator: empty}\n  a: {%s%s}\n", op, c->yaml);
}

START_TEST(test_each_key_has_its_effect_or_is_refused)
{
    const char *names[] = {"shell", "empty", "file_sensor", "notifiers"};
    mlf_catalog *cat = tu_load_plugins(names, 4);
    mlf_dag_parser *parser = mlf_dag_parser_new(cat);
    for (size_t i = 0; i < NCASES; i++) {
        const key_case *c = &cases[i];
        char *text = case_file(c);
        mlf_dag *d = NULL;
        mlf_diag diag = {0};
        mlf_dag_parse_buffer(parser, text, strlen(text), "dags/keys.yaml", &d, &diag);
        mlf_buf all = {0};
        for (size_t k = 0; k < diag.n; k++) {
            char *s = mlf_diag_format(&diag, k);
            mlf_buf_printf(&all, "\n  %s", s);
            free(s);
        }
        if (c->check) {
            ck_assert_msg(d != NULL, "%s key %s: does not load:%s\n%s", c->kind, c->key, all.data ? all.data : "", text);
            const mlf_task *t = task(d, "a");
            if (!t)
                t = task(d, "g.a");
            if (!t)
                t = task(d, "gg.a");
            ck_assert_msg(t != NULL, "%s key %s: no task a", c->kind, c->key);
            ck_assert_msg(c->check(d, t), "%s key %s: loaded without its effect\n%s", c->kind, c->key, text);
        } else {
            ck_assert_msg(d == NULL, "%s key %s: loaded although it should be refused\n%s", c->kind, c->key, text);
            ck_assert_msg(all.data && strstr(all.data, c->refusal), "%s key %s: refused without '%s':%s", c->kind,
                          c->key, c->refusal, all.data ? all.data : "");
        }
        mlf_buf_free(&all);
        mlf_diag_clear(&diag);
        mlf_dag_free(d);
        free(text);
    }
    mlf_dag_parser_free(parser);
    mlf_catalog_free(cat);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dag_keys");
    TCase *tc = tcase_create("keys");
    tcase_add_test(tc, test_every_documented_key_has_a_case);
    tcase_add_test(tc, test_each_key_has_its_effect_or_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
