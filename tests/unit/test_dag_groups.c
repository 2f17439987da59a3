/* Unit tests for task groups (core/dag/dag_groups.c and the `groups:` / `group:` keys of core/dag/dag_parser.c).
 * Expectations are Airflow's TaskGroup behaviour (airflow/utils/task_group.py and tests/utils/test_task_group.py):
 * ids prefixed by the group id, nested ids, prefix_group_id: false, a group upstream of a task meaning its
 * leaves, a group downstream of a task meaning its roots, group default_args overriding the DAG's. Also the
 * setup/teardown relations of the model (core/dag/dag_setup.c), which decide group leaves too. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag/dag_parser.h"
#include "plugin/plugin_loader.h"
#include "base/strutil.h"

static mlf_catalog *cat;
static mlf_dag_parser *parser;
static mlf_diag diag;

static void setup(void)
{
    cat = mlf_catalog_new();
    const char *paths[] = {TEST_BUILDDIR "/plugins", TEST_BUILDDIR "/tests/plugins"};
    const char *names[] = {"shell", "empty"};
    mlf_diag errs = {0};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 2, names, 2, &errs), 0);
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
    mlf_dag_parse_buffer(parser, text, strlen(text), "dags/g.yaml", &dag, &diag);
    for (size_t i = 0; !dag && i < diag.n; i++) {
        char *s = mlf_diag_format(&diag, i);
        fprintf(stderr, "  %s\n", s);
        free(s);
    }
    return dag;
}

static void expect_error(const char *text, const char *want)
{
    mlf_dag *dag = NULL;
    mlf_dag_parse_buffer(parser, text, strlen(text), "dags/g.yaml", &dag, &diag);
    ck_assert_msg(dag == NULL, "parsed although it should fail with: %s", want);
    int found = 0;
    mlf_buf all = {0};
    for (size_t i = 0; i < diag.n; i++) {
        char *s = mlf_diag_format(&diag, i);
        mlf_buf_printf(&all, "\n  %s", s);
        found |= strstr(s, want) != NULL;
        free(s);
    }
    ck_assert_msg(found, "expected '%s' among:%s", want, all.data ? all.data : " (none)");
    mlf_buf_free(&all);
    mlf_diag_clear(&diag);
}

/* The task's direct upstream ids, sorted, comma-separated ("" for none). */
static char *ups(const mlf_dag *d, const char *task_id)
{
    long i = mlf_dag_task_index(d, task_id);
    ck_assert_msg(i >= 0, "no task '%s'", task_id);
    const mlf_task *t = &d->tasks[i];
    const char *ids[64];
    size_t n = 0;
    for (size_t k = 0; k < t->nupstream && n < 64; k++)
        ids[n++] = d->tasks[t->upstream[k]].task_id;
    for (size_t a = 0; a < n; a++) /* insertion sort: a handful of ids */
        for (size_t b = a; b > 0 && strcmp(ids[b - 1], ids[b]) > 0; b--) {
            const char *x = ids[b];
            ids[b] = ids[b - 1];
            ids[b - 1] = x;
        }
    mlf_buf out = {0};
    mlf_buf_printf(&out, "%s", "");
    for (size_t k = 0; k < n; k++)
        mlf_buf_printf(&out, "%s%s", k ? "," : "", ids[k]);
    return out.data;
}

#define ck_ups(d, id, want)                                                                                            \
    do {                                                                                                               \
        char *got_ = ups(d, id);                                                                                       \
        ck_assert_msg(strcmp(got_, want) == 0, "upstream of %s: got '%s', want '%s'", id, got_, want);                 \
        free(got_);                                                                                                    \
    } while (0)

/* Airflow's test_build_task_group_context_manager: task1 >> group234, group34 >> task5, nested ids. */
START_TEST(test_airflow_nested_groups)
{
    mlf_dag *d = parse("dag_id: tg\n"
                       "tasks:\n"
                       "  task1: {operator: empty}\n"
                       "  task5: {operator: empty, upstream: group234.group34}\n"
                       "groups:\n"
                       "  group234:\n"
                       "    upstream: task1\n"
                       "    tasks:\n"
                       "      task2: {operator: empty}\n"
                       "    groups:\n"
                       "      group34:\n"
                       "        tasks:\n"
                       "          task3: {operator: empty}\n"
                       "          task4: {operator: empty}\n");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->ntasks, 5);
    ck_assert_uint_eq(d->ngroups, 2);
    long g34 = mlf_dag_group_index(d, "group234.group34");
    ck_assert_int_ge(g34, 0);
    ck_assert_str_eq(d->groups[g34].label, "group34");
    ck_assert_int_eq(d->groups[g34].depth, 2);
    ck_assert_str_eq(d->tasks[mlf_dag_task_index(d, "group234.group34.task3")].group, "group234.group34");
    ck_assert_int_eq(d->tasks[mlf_dag_task_index(d, "group234.task2")].group_index, mlf_dag_group_index(d, "group234"));
    /* task1 >> group234: every root of group234 (no edge inside it: all three tasks) */
    ck_ups(d, "group234.task2", "task1");
    ck_ups(d, "group234.group34.task3", "task1");
    ck_ups(d, "group234.group34.task4", "task1");
    /* group34 >> task5: group34's leaves */
    ck_ups(d, "task5", "group234.group34.task3,group234.group34.task4");
    mlf_dag_free(d);
}
END_TEST

/* Roots and leaves follow the edges inside the group; names inside a group mean its siblings first. */
START_TEST(test_roots_leaves_and_relative_names)
{
    mlf_dag *d = parse("dag_id: tg\n"
                       "tasks:\n"
                       "  start: {operator: empty}\n"
                       "  fetch: {operator: empty, upstream: start}\n" /* a top-level 'fetch' too */
                       "  load: {operator: empty, upstream: [extract]}\n"
                       "groups:\n"
                       "  extract:\n"
                       "    upstream: [start]\n"
                       "    tasks:\n"
                       "      fetch: {operator: empty}\n"
                       "      clean: {operator: empty, upstream: fetch}\n" /* extract.fetch, not the top one */
                       "    groups:\n"
                       "      inner:\n"
                       "        upstream: clean\n"
                       "        tasks:\n"
                       "          a: {operator: empty}\n"
                       "          b: {operator: empty, upstream: a}\n"
                       "      flat:\n"
                       "        prefix_group_id: false\n"
                       "        tasks:\n"
                       "          c: {operator: empty, upstream: [fetch]}\n");
    ck_assert_ptr_nonnull(d);
    /* prefix_group_id: false keeps the task's own id; the group's id is still prefixed by its parent */
    ck_assert_int_ge(mlf_dag_task_index(d, "c"), 0);
    ck_assert_int_ge(mlf_dag_group_index(d, "extract.flat"), 0);
    ck_assert_str_eq(d->tasks[mlf_dag_task_index(d, "c")].group, "extract.flat");
    ck_ups(d, "extract.clean", "extract.fetch");
    ck_ups(d, "c", "extract.fetch");
    /* extract's only root is extract.fetch */
    ck_ups(d, "extract.fetch", "start");
    /* inner's root is a (b has an upstream inside) */
    ck_ups(d, "extract.inner.a", "extract.clean");
    ck_ups(d, "extract.inner.b", "extract.inner.a");
    /* extract's leaves: inner.b and c (fetch and clean lead on inside it) */
    ck_ups(d, "load", "c,extract.inner.b");
    size_t out[16];
    ck_assert_uint_eq(mlf_dag_group_roots(d, mlf_dag_group_index(d, "extract"), out), 1);
    ck_assert_str_eq(d->tasks[out[0]].task_id, "extract.fetch");
    mlf_dag_free(d);
}
END_TEST

/* A group downstream of a group: the first one's leaves before the second one's roots. */
START_TEST(test_group_after_group_and_task_key)
{
    mlf_dag *d = parse("dag_id: tg\n"
                       "groups:\n"
                       "  one: {tasks: {x: {operator: empty}, y: {operator: empty, upstream: x}}}\n"
                       "  two: {upstream: one, tasks: {p: {operator: empty}, q: {operator: empty}}}\n"
                       "tasks:\n"
                       "  z: {operator: empty, group: two, upstream: p}\n" /* joins 'two' by the task key */
                       "  w: {operator: empty, group: side}\n");          /* an undeclared group: a new one */
    ck_assert_ptr_nonnull(d);
    ck_ups(d, "two.p", "one.y");
    ck_ups(d, "two.q", "one.y");
    ck_ups(d, "two.z", "two.p"); /* not a root of 'two': it has an upstream inside */
    ck_ups(d, "one.x", "");
    ck_assert_int_ge(mlf_dag_task_index(d, "side.w"), 0);
    mlf_dag_free(d);
}
END_TEST

/* Group default_args override the DAG's, inner groups override outer ones, the task's own keys win. */
START_TEST(test_group_default_args)
{
    mlf_dag *d = parse("dag_id: tg\n"
                       "default_args: {retries: 1, pool: p1, queue: q1}\n"
                       "groups:\n"
                       "  g:\n"
                       "    default_args: {retries: 2, pool: p2}\n"
                       "    tasks: {a: {operator: empty}, b: {operator: empty, retries: 5}}\n"
                       "    groups:\n"
                       "      h: {default_args: {retries: 3}, tasks: {c: {operator: empty}}}\n"
                       "tasks:\n"
                       "  top: {operator: empty}\n");
    ck_assert_ptr_nonnull(d);
    const mlf_task *a = &d->tasks[mlf_dag_task_index(d, "g.a")];
    const mlf_task *b = &d->tasks[mlf_dag_task_index(d, "g.b")];
    const mlf_task *c = &d->tasks[mlf_dag_task_index(d, "g.h.c")];
    const mlf_task *top = &d->tasks[mlf_dag_task_index(d, "top")];
    ck_assert_int_eq(a->retries, 2);
    ck_assert_str_eq(a->pool, "p2");
    ck_assert_str_eq(a->queue, "q1");
    ck_assert_int_eq(b->retries, 5);
    ck_assert_int_eq(c->retries, 3);
    ck_assert_str_eq(c->pool, "p2");
    ck_assert_int_eq(top->retries, 1);
    ck_assert_str_eq(top->pool, "p1");
    mlf_dag_free(d);
}
END_TEST

/* Airflow's get_leaves: a teardown is not a group's leaf; the first non-teardowns before it are. */
START_TEST(test_group_leaves_skip_teardowns)
{
    mlf_dag *d = parse("dag_id: tg\n"
                       "groups:\n"
                       "  g:\n"
                       "    tasks:\n"
                       "      create: {operator: empty, setup: true, teardowns: delete}\n"
                       "      work: {operator: empty, upstream: create}\n"
                       "      delete: {operator: empty, upstream: work}\n"
                       "tasks:\n"
                       "  after: {operator: empty, upstream: g}\n");
    ck_assert_ptr_nonnull(d);
    ck_ups(d, "after", "g.work");
    ck_assert_int_eq(d->tasks[mlf_dag_task_index(d, "g.delete")].trigger_rule, MLF_TR_ALL_DONE_SETUP_SUCCESS);
    mlf_dag_free(d);
}
END_TEST

/* Airflow 2.7+: relevant setups (get_upstreams_only_setups), effective leaves (_tis_for_dagrun_state) and
 * what clearing takes along (partial_subset). */
START_TEST(test_setup_teardown_model)
{
    mlf_dag *d = parse("dag_id: st\n"
                       "tasks:\n"
                       "  s1: {operator: empty, setup: true, teardowns: t1}\n"
                       "  s2: {operator: empty, setup: true}\n"          /* no teardown: always relevant */
                       "  w1: {operator: empty, upstream: [s1, s2]}\n"
                       "  w2: {operator: empty, upstream: w1}\n"
                       "  t1: {operator: empty, upstream: w1}\n"
                       "  w3: {operator: empty, upstream: t1}\n"         /* after s1's teardown */
                       "  t2: {operator: empty, teardown: true, on_failure_fail_dagrun: true, upstream: w2}\n");
    ck_assert_ptr_nonnull(d);
    const mlf_task *w2 = &d->tasks[mlf_dag_task_index(d, "w2")], *w3 = &d->tasks[mlf_dag_task_index(d, "w3")];
    const mlf_task *w1 = &d->tasks[mlf_dag_task_index(d, "w1")];
    /* w2: s1 is not relevant (its teardown t1 is not downstream of w2); s2, without teardown, is */
    ck_assert_uint_eq(w2->nsetups, 1);
    ck_assert_str_eq(d->tasks[w2->setups[0]].task_id, "s2");
    /* w1: both (t1 is downstream of w1) */
    ck_assert_uint_eq(w1->nsetups, 2);
    /* w3 comes after t1, which is not downstream of w3: only s2 */
    ck_assert_uint_eq(w3->nsetups, 1);
    /* effective leaves: w3 (t1 has a downstream), t2 (on_failure_fail_dagrun); not w2 (t2 counts) */
    ck_assert(mlf_task_is_leaf(w3));
    ck_assert(mlf_task_is_leaf(&d->tasks[mlf_dag_task_index(d, "t2")]));
    ck_assert(!mlf_task_is_leaf(w2));
    ck_assert(!mlf_task_is_leaf(&d->tasks[mlf_dag_task_index(d, "t1")]));
    /* clearing w1 takes s1, t1 and s2; clearing s1 takes its teardown t1 */
    unsigned char sel[16] = {0};
    sel[mlf_dag_task_index(d, "w1")] = 1;
    ck_assert_int_eq(mlf_dag_select_setups_teardowns(d, sel), MLF_OK);
    size_t n = 0;
    for (size_t i = 0; i < d->ntasks; i++)
        n += sel[i];
    ck_assert_uint_eq(n, 4);
    ck_assert(sel[mlf_dag_task_index(d, "t1")] && sel[mlf_dag_task_index(d, "s2")]);
    memset(sel, 0, sizeof sel);
    sel[mlf_dag_task_index(d, "s1")] = 1;
    ck_assert_int_eq(mlf_dag_select_setups_teardowns(d, sel), MLF_OK);
    ck_assert(sel[mlf_dag_task_index(d, "t1")] && !sel[mlf_dag_task_index(d, "w1")]);
    mlf_dag_free(d);
}
END_TEST

START_TEST(test_group_refusals)
{
    expect_error("dag_id: tg\ngroups:\n  g: {expand: {x: [1]}, tasks: {a: {operator: empty}}}\n",
                 "dags/g.yaml:3:7: task group 'g': mapped task groups (expand on a group) are not supported yet");
    expect_error("dag_id: tg\ngroups:\n  g: {ui_color: red, tasks: {a: {operator: empty}}}\n",
                 "task group 'g': ui_color is not supported");
    expect_error("dag_id: tg\ngroups:\n  g: {tooltp: x, tasks: {a: {operator: empty}}}\n",
                 "task group 'g': unknown key 'tooltp' (did you mean 'tooltip'?)");
    expect_error("dag_id: tg\ngroups:\n  g.h: {tasks: {a: {operator: empty}}}\n",
                 "task group id 'g.h' must be letters, digits and _ : + - (no '.'");
    expect_error("dag_id: tg\ngroups:\n  g: {tasks: {a: {operator: empty}}}\ntasks:\n  g: {operator: empty}\n",
                 "task group id 'g' is also a task id");
    expect_error("dag_id: tg\ngroups:\n  g: {tasks: {a: {operator: empty, upstream: g}}}\n",
                 "task 'g.a': upstream 'g' is a task group that holds it");
    expect_error("dag_id: tg\ngroups:\n  g: {upstream: a, tasks: {a: {operator: empty}}}\n",
                 "task group 'g': upstream 'a' is not a task or task group of this DAG");
    expect_error("dag_id: tg\ngroups:\n  g: {upstream: g.a, tasks: {a: {operator: empty}}}\n",
                 "task group 'g': upstream 'g.a' is inside the task group");
    expect_error("dag_id: tg\ngroups:\n  g: {}\ntasks:\n  a: {operator: empty, upstream: g}\n",
                 "upstream 'g': task group 'g' has no tasks");
    expect_error("dag_id: tg\ngroups:\n  g: {tasks: {a: {operator: empty}}}\n  h: {tasks: {b: {operator: empty, "
                 "group: g}}}\n", "group: a task under groups: belongs to the group it is written in ('h')");
    expect_error("dag_id: tg\ndefault_args: {group: g}\ntasks:\n  a: {operator: empty}\n",
                 "default_args: 'group' cannot be a default");
    expect_error("dag_id: tg\ngroups:\n  g: {tasks: {a: {operator: empty}}}\ntasks:\n  b: {operator: empty, "
                 "upstream: gg}\n", "upstream 'gg' is not a task or task group of this DAG (did you mean 'g'?)");
    /* a cycle through groups is a cycle */
    expect_error("dag_id: tg\ngroups:\n  g: {upstream: b, tasks: {a: {operator: empty}}}\ntasks:\n"
                 "  b: {operator: empty, upstream: g}\n", "cycle");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dag_groups");
    TCase *tc = tcase_create("groups");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_airflow_nested_groups);
    tcase_add_test(tc, test_roots_leaves_and_relative_names);
    tcase_add_test(tc, test_group_after_group_and_task_key);
    tcase_add_test(tc, test_group_default_args);
    tcase_add_test(tc, test_group_refusals);
    tcase_add_test(tc, test_group_leaves_skip_teardowns);
    tcase_add_test(tc, test_setup_teardown_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
