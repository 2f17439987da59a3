/* Unit tests for the branch operator plugin (plugins/branch), loaded from its .la and executed through the
 * SDK exactly as a worker runs it; and for the SDK's mlf_ctx_downstream() it relies on. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "plugin/task_ctx.h"
#include "testutil.h"

static mlf_catalog *cat;
static const mlf_operator_desc *op;

static void setup(void)
{
    const char *names[] = {"branch"};
    cat = tu_load_plugins(names, 1);
    op = mlf_catalog_operator(cat, "branch");
    ck_assert_ptr_nonnull(op);
}

static void teardown(void)
{
    mlf_catalog_free(cat);
}

static const char *const two_down[] = {"store", "trade"};

/* One run of the branch operator: the context and its parameters, freed by run_free(). */
typedef struct run {
    mlf_task_ctx *ctx;
    mlf_value *params;
    mlf_outcome outcome;
} run;

/* Runs the operator with `follow` set to @p follow (ownership taken; NULL leaves it unset) for a task
 * "decide" whose direct downstream tasks are @p down. */
static run run_branch(mlf_value *follow, const char *const *down, size_t ndown, int is_branch)
{
    run r = {.params = mlf_value_map()};
    if (follow)
        mlf_map_set(r.params, "follow", follow);
    mlf_task_ctx_init in = {.dag_id = "d", .task_id = "decide", .run_id = "manual__1", .try_number = 1,
                            .map_index = -1, .log_fd = -1, .params = r.params, .is_branch = is_branch,
                            .downstream = down, .ndownstream = ndown};
    r.ctx = mlf_task_ctx_new(&in);
    ck_assert_ptr_nonnull(r.ctx);
    r.outcome = op->execute(r.ctx, op->data);
    return r;
}

static void run_free(run *r)
{
    mlf_task_ctx_free(r->ctx);
    mlf_value_free(r->params);
}

static mlf_value *str_list(const char *const *items, size_t n)
{
    mlf_value *a = mlf_value_array();
    for (size_t i = 0; i < n; i++)
        mlf_array_append(a, mlf_value_str(items[i]));
    return a;
}

/* Asserts that the run followed exactly @p want (in order) and pushed them as the XCom return_value. */
static void assert_followed(const run *r, const char *const *want, size_t n)
{
    size_t got_n;
    const char *const *got = mlf_task_ctx_followed(r->ctx, &got_n);
    ck_assert_uint_eq(got_n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(got[i], want[i]);
    const mlf_value *xcom = mlf_map_get(mlf_task_ctx_xcoms(r->ctx), MLF_XCOM_RETURN_KEY);
    mlf_value *expected = str_list(want, n);
    ck_assert_msg(mlf_value_equal(xcom, expected), "XCom return_value is not the followed list");
    mlf_value_free(expected);
}

START_TEST(test_declaration)
{
    ck_assert_uint_eq(op->flags, MLF_OP_BRANCH);
    ck_assert_str_eq(op->params[0].name, "follow");
    ck_assert_int_eq(op->params[0].type, MLF_PARAM_ANY);
    ck_assert_uint_eq(op->params[0].flags, MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED);
    ck_assert_ptr_null(op->params[1].name);
}
END_TEST

START_TEST(test_follow_one_string)
{
    run r = run_branch(mlf_value_str("trade"), two_down, 2, 1);
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    const char *want[] = {"trade"};
    assert_followed(&r, want, 1);
    ck_assert_int_eq(mlf_task_ctx_branched(r.ctx), 1);
    run_free(&r);
}
END_TEST

START_TEST(test_follow_list_without_duplicates)
{
    const char *ids[] = {"trade", "store", "trade"};
    run r = run_branch(str_list(ids, 3), two_down, 2, 1);
    ck_assert_int_eq(r.outcome, MLF_SUCCESS);
    const char *want[] = {"trade", "store"};
    assert_followed(&r, want, 2);
    run_free(&r);
}
END_TEST

START_TEST(test_follow_nothing)
{
    /* null, an empty list and an unset follow all follow nothing: every downstream is to be skipped */
    mlf_value *nothing[] = {mlf_value_nil(), mlf_value_array(), NULL};
    for (size_t i = 0; i < 3; i++) {
        run r = run_branch(nothing[i], two_down, 2, 1);
        ck_assert_int_eq(r.outcome, MLF_SUCCESS);
        assert_followed(&r, NULL, 0);
        ck_assert_ptr_null(mlf_task_ctx_message(r.ctx));
        run_free(&r);
    }
}
END_TEST

START_TEST(test_not_downstream_fails_listing_valid_ids)
{
    const char *ids[] = {"store", "nosuch", "other", "nosuch"};
    run r = run_branch(str_list(ids, 4), two_down, 2, 1);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx),
                     "branch: follow names 'nosuch', 'other', which are not a direct downstream task of 'decide'; "
                     "valid ids: 'store', 'trade'");
    ck_assert_uint_eq(mlf_value_len(mlf_task_ctx_xcoms(r.ctx)), 0);
    run_free(&r);

    r = run_branch(mlf_value_str("store "), two_down, 2, 1);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx),
                     "branch: follow names 'store ', which is not a direct downstream task of 'decide'; "
                     "valid ids: 'store', 'trade'");
    run_free(&r);

    r = run_branch(mlf_value_str("store"), NULL, 0, 1);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_ptr_nonnull(strstr(mlf_task_ctx_message(r.ctx), "; it has no downstream tasks"));
    run_free(&r);
}
END_TEST

START_TEST(test_bad_types_fail_without_retry)
{
    run r = run_branch(mlf_value_int(3), two_down, 2, 1);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx), "branch: follow must be a task id or a list of task ids, not a int");
    size_t n;
    mlf_task_ctx_followed(r.ctx, &n);
    ck_assert_uint_eq(n, 0);
    run_free(&r);

    mlf_value *mixed = mlf_value_array();
    mlf_array_append(mixed, mlf_value_str("store"));
    mlf_array_append(mixed, mlf_value_map());
    r = run_branch(mixed, two_down, 2, 1);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(r.ctx), "branch: follow[1] must be a task id (a string), not a map");
    mlf_task_ctx_followed(r.ctx, &n);
    ck_assert_uint_eq(n, 0); /* checked before anything was followed */
    run_free(&r);
}
END_TEST

START_TEST(test_context_not_flagged_branch)
{
    run r = run_branch(mlf_value_str("store"), two_down, 2, 0);
    ck_assert_int_eq(r.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_ptr_nonnull(strstr(mlf_task_ctx_message(r.ctx), "cannot follow 'store'"));
    run_free(&r);
}
END_TEST

START_TEST(test_ctx_downstream)
{
    mlf_task_ctx_init in = {.task_id = "decide", .map_index = -1, .log_fd = -1, .downstream = two_down,
                            .ndownstream = 2};
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    size_t n = 99;
    const char *const *down = mlf_ctx_downstream(ctx, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(down[1], "trade");
    ck_assert_ptr_eq(mlf_ctx_downstream(ctx, NULL), down);
    mlf_task_ctx_free(ctx);
    in.ndownstream = 0;
    ctx = mlf_task_ctx_new(&in);
    ck_assert_ptr_null(mlf_ctx_downstream(ctx, &n));
    ck_assert_uint_eq(n, 0);
    mlf_task_ctx_free(ctx);
    ck_assert_ptr_null(mlf_ctx_downstream(NULL, &n));
    ck_assert_uint_eq(n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("op_branch");
    TCase *tc = tcase_create("branch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_declaration);
    tcase_add_test(tc, test_follow_one_string);
    tcase_add_test(tc, test_follow_list_without_duplicates);
    tcase_add_test(tc, test_follow_nothing);
    tcase_add_test(tc, test_not_downstream_fails_listing_valid_ids);
    tcase_add_test(tc, test_bad_types_fail_without_retry);
    tcase_add_test(tc, test_context_not_flagged_branch);
    tcase_add_test(tc, test_ctx_downstream);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
