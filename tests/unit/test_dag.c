/* Unit tests for core/dag.c: task table, edges, topological order, cycle reports, priority weights. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag/dag.h"

static mlf_dag *make(const char *const *ids, size_t n)
{
    mlf_dag *d = mlf_dag_new();
    ck_assert_ptr_nonnull(d);
    d->fileloc = strdup("dags/x.yaml");
    for (size_t i = 0; i < n; i++) {
        size_t idx;
        ck_assert_int_eq(mlf_dag_add_task(d, ids[i], &idx), MLF_OK);
        ck_assert_uint_eq(idx, i);
        d->tasks[i].line = (int)i + 10;
        d->tasks[i].col = 3;
    }
    return d;
}

static void edge(mlf_dag *d, const char *a, const char *b)
{
    long i = mlf_dag_task_index(d, a), j = mlf_dag_task_index(d, b);
    ck_assert(i >= 0 && j >= 0);
    ck_assert_int_eq(mlf_dag_add_edge(d, (size_t)i, (size_t)j), MLF_OK);
}

START_TEST(test_defaults_and_duplicates)
{
    const char *ids[] = {"a"};
    mlf_dag *d = make(ids, 1);
    ck_assert_int_eq(mlf_dag_add_task(d, "a", NULL), MLF_EEXIST);
    const mlf_task *t = &d->tasks[0];
    ck_assert_int_eq(t->trigger_rule, MLF_TR_ALL_SUCCESS);
    ck_assert_str_eq(t->pool, "default_pool");
    ck_assert_str_eq(t->queue, "default");
    ck_assert_int_eq(t->retry_delay_us, 300000000LL);
    ck_assert_int_eq(t->weight_rule, MLF_WR_DOWNSTREAM);
    ck_assert_str_eq(d->timezone, "UTC");
    mlf_dag_free(d);
}
END_TEST

START_TEST(test_topological_order_respects_edges)
{
    const char *ids[] = {"load", "extract", "transform", "report"};
    mlf_dag *d = make(ids, 4);
    edge(d, "extract", "transform");
    edge(d, "transform", "load");
    edge(d, "load", "report");
    edge(d, "extract", "report");
    edge(d, "extract", "report"); /* duplicate edges are ignored */
    ck_assert_uint_eq(d->tasks[1].ndownstream, 2);
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_dag_finalize(d, &diag), MLF_OK);
    size_t pos[4];
    for (size_t i = 0; i < 4; i++)
        pos[d->topo[i]] = i;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < d->tasks[i].ndownstream; j++)
            ck_assert_uint_lt(pos[i], pos[d->tasks[i].downstream[j]]);
    ck_assert_int_eq(mlf_dag_task_index(d, "report"), 3);
    ck_assert_int_eq(mlf_dag_task_index(d, "nope"), -1);
    ck_assert(mlf_task_is_leaf(&d->tasks[3]));
    mlf_dag_free(d);
}
END_TEST

START_TEST(test_cycle_is_reported_with_its_path)
{
    const char *ids[] = {"start", "a", "b", "c"};
    mlf_dag *d = make(ids, 4);
    edge(d, "start", "a");
    edge(d, "a", "b");
    edge(d, "b", "c");
    edge(d, "c", "a");
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_dag_finalize(d, &diag), MLF_EINVAL);
    ck_assert_uint_eq(diag.n, 1);
    char *msg = mlf_diag_format(&diag, 0);
    /* the cycle is printed downstream-wise and closed; where it starts depends on the walk */
    ck_assert_msg(strstr(msg, "a -> b -> c -> a") || strstr(msg, "b -> c -> a -> b") || strstr(msg, "c -> a -> b -> c"),
                  "%s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "dags/x.yaml:"));
    ck_assert_ptr_null(strstr(msg, "start"));
    free(msg);
    mlf_diag_clear(&diag);
    mlf_dag_free(d);
}
END_TEST

START_TEST(test_self_loop)
{
    const char *ids[] = {"a"};
    mlf_dag *d = make(ids, 1);
    edge(d, "a", "a");
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_dag_finalize(d, &diag), MLF_EINVAL);
    char *msg = mlf_diag_format(&diag, 0);
    ck_assert_ptr_nonnull(strstr(msg, "cycle: a -> a"));
    free(msg);
    mlf_diag_clear(&diag);
    mlf_dag_free(d);
}
END_TEST

START_TEST(test_priority_weights_follow_airflow)
{
    /* a -> b -> d, a -> c -> d (diamond): downstream weight of a = a+b+c+d counted once */
    const char *ids[] = {"a", "b", "c", "d"};
    mlf_dag *d = make(ids, 4);
    edge(d, "a", "b");
    edge(d, "a", "c");
    edge(d, "b", "d");
    edge(d, "c", "d");
    d->tasks[3].priority_weight = 10;
    d->tasks[2].weight_rule = MLF_WR_UPSTREAM;
    d->tasks[1].weight_rule = MLF_WR_ABSOLUTE;
    d->tasks[1].priority_weight = 7;
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_dag_finalize(d, &diag), MLF_OK);
    ck_assert_int_eq(d->tasks[0].effective_priority, 1 + 7 + 1 + 10);
    ck_assert_int_eq(d->tasks[1].effective_priority, 7);
    ck_assert_int_eq(d->tasks[2].effective_priority, 1 + 1);
    ck_assert_int_eq(d->tasks[3].effective_priority, 10);
    mlf_dag_free(d);
}
END_TEST

START_TEST(test_large_chain_finalizes)
{
    mlf_dag *d = mlf_dag_new();
    char id[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "t%04d", i);
        ck_assert_int_eq(mlf_dag_add_task(d, id, NULL), MLF_OK);
        if (i)
            ck_assert_int_eq(mlf_dag_add_edge(d, (size_t)i - 1, (size_t)i), MLF_OK);
    }
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_dag_finalize(d, &diag), MLF_OK);
    ck_assert_int_eq(d->tasks[0].effective_priority, 2000);
    ck_assert_int_eq(mlf_dag_task_index(d, "t1234"), 1234);
    mlf_dag_free(d);
}
END_TEST

/* The closure weight by brute force: a depth-first walk from @p start, each reached task counted once. */
static int64_t oracle_weight(const mlf_dag *d, size_t start, int dir, unsigned char *seen, size_t *stack)
{
    memset(seen, 0, d->ntasks);
    int64_t sum = 0;
    size_t sp = 0;
    stack[sp++] = start;
    seen[start] = 1;
    while (sp) {
        const mlf_task *t = &d->tasks[stack[--sp]];
        sum += t->priority_weight;
        const size_t *next = dir ? t->upstream : t->downstream;
        size_t nn = dir ? t->nupstream : t->ndownstream;
        for (size_t i = 0; i < nn; i++)
            if (!seen[next[i]]) {
                seen[next[i]] = 1;
                stack[sp++] = next[i];
            }
    }
    return sum;
}

/* Random layered DAGs (diamonds everywhere), random weights and rules: the bitset closure equals the
 * brute-force one, with one pass and with a budget so small that it takes many. */
START_TEST(test_priority_weights_match_oracle)
{
    unsigned seed = 42;
    for (int round = 0; round < 6; round++) {
        size_t layers = 2 + (size_t)(rand_r(&seed) % 6), width = 1 + (size_t)(rand_r(&seed) % 90);
        mlf_dag *d = mlf_dag_new();
        char id[32];
        for (size_t i = 0; i < layers * width; i++) {
            snprintf(id, sizeof id, "t%zu", i);
            ck_assert_int_eq(mlf_dag_add_task(d, id, NULL), MLF_OK);
            d->tasks[i].priority_weight = round % 2 ? 1 : (int)(rand_r(&seed) % 7) - 2;
            d->tasks[i].weight_rule = (mlf_weight_rule)(rand_r(&seed) % 3);
            if (i >= width)
                for (int k = 0; k < 3; k++)
                    ck_assert_int_eq(mlf_dag_add_edge(d, (i / width - 1) * width + (size_t)rand_r(&seed) % width, i),
                                     MLF_OK);
        }
        unsigned char *seen = malloc(d->ntasks);
        size_t *stack = malloc(d->ntasks * sizeof *stack);
        for (int budget = 0; budget < 2; budget++) {
            mlf_dag_set_closure_budget(budget ? 64 : 0); /* 64 bytes: one 64-bit word per task per pass */
            mlf_diag diag = {0};
            ck_assert_int_eq(mlf_dag_finalize(d, &diag), MLF_OK);
            for (size_t i = 0; i < d->ntasks; i++) {
                const mlf_task *t = &d->tasks[i];
                int64_t want = t->weight_rule == MLF_WR_ABSOLUTE
                                   ? t->priority_weight
                                   : oracle_weight(d, i, t->weight_rule == MLF_WR_UPSTREAM, seen, stack);
                ck_assert_msg(t->effective_priority == want, "round %d budget %d task %zu: %lld, want %lld", round,
                              budget, i, (long long)t->effective_priority, (long long)want);
            }
        }
        mlf_dag_set_closure_budget(0);
        free(seen);
        free(stack);
        mlf_dag_free(d);
    }
}
END_TEST

START_TEST(test_rule_names_roundtrip)
{
    for (int i = 0; i < MLF_TR_COUNT; i++) {
        mlf_trigger_rule r;
        ck_assert_int_eq(mlf_trigger_rule_parse(mlf_trigger_rule_names[i], &r), MLF_OK);
        ck_assert_int_eq(r, i);
    }
    mlf_trigger_rule r;
    ck_assert_int_eq(mlf_trigger_rule_parse("all_sucess", &r), MLF_ENOTFOUND);
    mlf_weight_rule w;
    ck_assert_int_eq(mlf_weight_rule_parse("upstream", &w), MLF_OK);
    ck_assert_int_eq(w, MLF_WR_UPSTREAM);
    ck_assert_int_eq(mlf_weight_rule_parse("sideways", &w), MLF_ENOTFOUND);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dag");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, test_defaults_and_duplicates);
    tcase_add_test(tc, test_topological_order_respects_edges);
    tcase_add_test(tc, test_cycle_is_reported_with_its_path);
    tcase_add_test(tc, test_self_loop);
    tcase_add_test(tc, test_priority_weights_follow_airflow);
    tcase_add_test(tc, test_large_chain_finalizes);
    tcase_add_test(tc, test_priority_weights_match_oracle);
    tcase_add_test(tc, test_rule_names_roundtrip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
