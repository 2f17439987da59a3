/* Unit tests for the external_task_sensor plugin, loaded from its .la and poked through the SDK as a worker
 * pokes it (one execute() call is one poke), with a fake mlf_ctx_external_state() behind the context; and
 * the core side of mlf_ctx_external_state() (argument checks, no store -> MLF_ENOTSUP). */
#include <check.h>
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

#define DAY INT64_C(86400000000)
#define JAN1 INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */

static mlf_catalog *cat;

static void plugins_setup(void)
{
    const char *names[] = {"external_task_sensor"};
    cat = tu_load_plugins(names, 1);
}

static void plugins_teardown(void)
{
    mlf_catalog_free(cat);
}

/* The fake state store: what the next call answers, and what the last call asked. */
static struct {
    int rc;
    const char *state;
    int calls;
    char dag_id[64], task_id[64];
    int task_id_null;
    int map_index;
    mlf_time_us logical_date;
} fake;

static int fake_external_state(void *ud, const char *dag_id, const char *task_id, int map_index,
                               mlf_time_us logical_date, char *state, size_t statelen)
{
    ck_assert_ptr_eq(ud, &fake);
    fake.calls++;
    snprintf(fake.dag_id, sizeof fake.dag_id, "%s", dag_id);
    fake.task_id_null = task_id == NULL;
    snprintf(fake.task_id, sizeof fake.task_id, "%s", task_id ? task_id : "");
    fake.map_index = map_index;
    fake.logical_date = logical_date;
    if (fake.rc == MLF_OK)
        ck_assert_uint_lt(mlf_strlcpy(state, fake.state, statelen), statelen);
    return fake.rc;
}

/* One poke: the context and its parameters. */
typedef struct poke {
    mlf_task_ctx *ctx;
    mlf_value *params;
    mlf_outcome outcome;
} poke;

/* Pokes the sensor once with @p params (ownership taken); the fake answers @p rc / @p state.
 * @p with_store 0: the context has no external_state callback (a process without the store). */
static poke poke_full(mlf_value *params, int rc, const char *state, int with_store)
{
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "external_task_sensor");
    ck_assert_ptr_nonnull(op);
    ck_assert_uint_eq(op->flags & MLF_OP_SENSOR, MLF_OP_SENSOR);
    memset(&fake, 0, sizeof fake);
    fake.rc = rc;
    fake.state = state;
    poke p = {.params = params};
    mlf_task_ctx_init in = {.dag_id = "down", .task_id = "wait", .run_id = "manual__1", .try_number = 1,
                            .map_index = -1, .log_fd = -1, .params = params, .logical_date = JAN1,
                            .external_state = with_store ? fake_external_state : NULL, .external_ud = &fake};
    p.ctx = mlf_task_ctx_new(&in);
    ck_assert_ptr_nonnull(p.ctx);
    p.outcome = op->execute(p.ctx, op->data);
    return p;
}

static poke poke_state(mlf_value *params, int rc, const char *state)
{
    return poke_full(params, rc, state, 1);
}

static void poke_free(poke *p)
{
    mlf_task_ctx_free(p->ctx);
    mlf_value_free(p->params);
}

static mlf_value *list_of(const char *a, const char *b)
{
    mlf_value *l = mlf_value_array();
    if (a)
        mlf_array_append(l, mlf_value_str(a));
    if (b)
        mlf_array_append(l, mlf_value_str(b));
    return l;
}

/* Parameters as the scheduler hands them over: declared defaults filled in. */
static mlf_value *params_for(const char *dag_id, const char *task_id)
{
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "external_dag_id", mlf_value_str(dag_id));
    if (task_id)
        mlf_map_set(m, "external_task_id", mlf_value_str(task_id));
    mlf_map_set(m, "allowed_states", list_of("success", NULL));
    mlf_map_set(m, "skipped_states", mlf_value_array());
    mlf_map_set(m, "failed_states", mlf_value_array());
    mlf_map_set(m, "execution_delta", mlf_value_int(0));
    return m;
}

static const char *message(const poke *p)
{
    const char *m = mlf_task_ctx_message(p->ctx);
    return m ? m : "";
}

START_TEST(test_allowed_state_succeeds)
{
    poke p = poke_state(params_for("up", "ok"), MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    ck_assert_int_eq(fake.calls, 1);
    ck_assert_str_eq(fake.dag_id, "up");
    ck_assert_str_eq(fake.task_id, "ok");
    ck_assert_int_eq(fake.map_index, -1);
    ck_assert_int_eq(fake.logical_date, JAN1);
    poke_free(&p);
    /* allowed_states is a list the user chooses */
    mlf_value *m = params_for("up", "ok");
    mlf_map_set(m, "allowed_states", list_of("success", "skipped"));
    p = poke_state(m, MLF_OK, "skipped");
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    poke_free(&p);
    /* without the parameter at all, [success] as declared */
    m = params_for("up", "ok");
    mlf_map_remove(m, "allowed_states");
    p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    poke_free(&p);
    m = params_for("up", "ok");
    mlf_map_remove(m, "allowed_states");
    p = poke_state(m, MLF_OK, "skipped");
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    poke_free(&p);
}
END_TEST

START_TEST(test_execution_delta_moves_the_date)
{
    mlf_value *m = params_for("up", "ok");
    mlf_map_set(m, "execution_delta", mlf_value_int(DAY));
    poke p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    ck_assert_int_eq(fake.logical_date, JAN1 - DAY);
    poke_free(&p);
    m = params_for("up", "ok");
    mlf_map_set(m, "execution_delta", mlf_value_str("1d"));
    p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: execution_delta must be a duration");
    ck_assert_int_eq(fake.calls, 0);
    poke_free(&p);
}
END_TEST

START_TEST(test_failed_state_fails_without_retry)
{
    mlf_value *m = params_for("up", "bad");
    mlf_map_set(m, "failed_states", list_of("failed", "upstream_failed"));
    poke p = poke_state(m, MLF_OK, "upstream_failed");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: the external task up.bad (logical date "
                                  "2024-01-01T00:00:00Z) is upstream_failed (in failed_states)");
    poke_free(&p);
    /* with soft_fail the sensor skips instead (Airflow) */
    m = params_for("up", "bad");
    mlf_map_set(m, "failed_states", list_of("failed", NULL));
    mlf_map_set(m, "soft_fail", mlf_value_bool(1));
    p = poke_state(m, MLF_OK, "failed");
    ck_assert_int_eq(p.outcome, MLF_SKIPPED);
    ck_assert_ptr_nonnull(strstr(message(&p), "is failed (in failed_states); skipping (soft_fail)"));
    poke_free(&p);
    /* a failed state not listed in failed_states only keeps the sensor waiting (Airflow's default) */
    p = poke_state(params_for("up", "bad"), MLF_OK, "failed");
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    poke_free(&p);
}
END_TEST

START_TEST(test_skipped_state_skips)
{
    mlf_value *m = params_for("up", "maybe");
    mlf_map_set(m, "skipped_states", list_of("skipped", NULL));
    poke p = poke_state(m, MLF_OK, "skipped");
    ck_assert_int_eq(p.outcome, MLF_SKIPPED);
    ck_assert_ptr_nonnull(strstr(message(&p), "up.maybe (logical date 2024-01-01T00:00:00Z) is skipped (in skipped_states)"));
    poke_free(&p);
}
END_TEST

START_TEST(test_missing_or_other_reschedules)
{
    poke p = poke_state(params_for("up", "ok"), MLF_ENOTFOUND, NULL);
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    ck_assert_int_eq(fake.calls, 1);
    ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), 0); /* poke_interval decides */
    poke_free(&p);
    static const char *const waiting[] = {"none", "scheduled", "queued", "running", "up_for_retry",
                                          "up_for_reschedule"};
    for (size_t i = 0; i < sizeof waiting / sizeof *waiting; i++) {
        p = poke_state(params_for("up", "ok"), MLF_OK, waiting[i]);
        ck_assert_msg(p.outcome == MLF_RESCHEDULE, "state %s gave %d", waiting[i], p.outcome);
        poke_free(&p);
    }
    /* a store that cannot be read now may be readable at the next poke */
    p = poke_state(params_for("up", "ok"), MLF_EIO, NULL);
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    poke_free(&p);
}
END_TEST

START_TEST(test_no_store_fails_without_retry)
{
    poke p = poke_state(params_for("up", "ok"), MLF_ENOTSUP, NULL);
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor needs the state store: run it with the local executor");
    poke_free(&p);
    p = poke_full(params_for("up", "ok"), MLF_OK, "success", 0); /* a context without the callback */
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor needs the state store: run it with the local executor");
    ck_assert_int_eq(fake.calls, 0);
    poke_free(&p);
}
END_TEST

START_TEST(test_whole_run_state)
{
    poke p = poke_state(params_for("up", NULL), MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    ck_assert(fake.task_id_null);
    poke_free(&p);
    mlf_value *m = params_for("up", "");
    mlf_map_set(m, "failed_states", list_of("failed", NULL));
    p = poke_state(m, MLF_OK, "failed"); /* an empty task id is no task id */
    ck_assert(fake.task_id_null);
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: the external DAG run of up (logical date "
                                  "2024-01-01T00:00:00Z) is failed (in failed_states)");
    poke_free(&p);
    /* run states are not TI states */
    m = params_for("up", NULL);
    mlf_map_set(m, "allowed_states", list_of("success", "skipped"));
    p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: allowed_states: 'skipped' is not a DAG run state "
                                  "(valid: queued, running, success, failed)");
    ck_assert_int_eq(fake.calls, 0);
    poke_free(&p);
}
END_TEST

START_TEST(test_bad_lists_fail_without_retry)
{
    mlf_value *m = params_for("up", "ok");
    mlf_map_set(m, "failed_states", list_of("failed", "succes"));
    poke p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_ptr_nonnull(strstr(message(&p), "failed_states: 'succes' is not a task instance state (valid: none,"));
    ck_assert_int_eq(fake.calls, 0);
    poke_free(&p);
    m = params_for("up", "ok");
    mlf_map_set(m, "failed_states", list_of("failed", "success"));
    p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: state 'success' is in both allowed_states and failed_states");
    poke_free(&p);
    m = params_for("up", "ok");
    mlf_map_set(m, "skipped_states", list_of("failed", NULL));
    mlf_map_set(m, "failed_states", list_of("failed", NULL));
    p = poke_state(m, MLF_OK, "failed");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: state 'failed' is in both skipped_states and failed_states");
    poke_free(&p);
    m = params_for("up", "ok");
    mlf_value *l = mlf_value_array();
    mlf_array_append(l, mlf_value_int(3));
    mlf_map_set(m, "allowed_states", l);
    p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_ptr_nonnull(strstr(message(&p), "allowed_states: '3' is not a task instance state"));
    poke_free(&p);
    m = params_for("up", "ok");
    mlf_map_set(m, "allowed_states", mlf_value_str("success"));
    p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: allowed_states must be a list of state names");
    poke_free(&p);
}
END_TEST

START_TEST(test_bad_dag_id_or_date)
{
    poke p = poke_state(params_for("", "ok"), MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(&p), "external_task_sensor: external_dag_id is empty");
    poke_free(&p);
    mlf_value *m = params_for("up", "ok");
    mlf_map_remove(m, "external_dag_id");
    p = poke_state(m, MLF_OK, "success");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    poke_free(&p);
    /* this run's date minus the delta below the time range */
    m = params_for("up", "ok");
    mlf_map_set(m, "execution_delta", mlf_value_int(INT64_MAX));
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "external_task_sensor");
    mlf_task_ctx_init in = {.task_id = "wait", .map_index = -1, .log_fd = -1, .params = m,
                            .logical_date = -DAY, .external_state = fake_external_state, .external_ud = &fake};
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    memset(&fake, 0, sizeof fake);
    ck_assert_int_eq(op->execute(ctx, op->data), MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(ctx), "external_task_sensor: logical_date - execution_delta is out of range");
    ck_assert_int_eq(fake.calls, 0);
    mlf_task_ctx_free(ctx);
    mlf_value_free(m);
}
END_TEST

/* ---- the core side of mlf_ctx_external_state() ---- */

START_TEST(test_ctx_external_state_arguments)
{
    mlf_task_ctx_init in = {.map_index = -1, .log_fd = -1, .external_state = fake_external_state,
                            .external_ud = &fake};
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    char st[32] = "x";
    memset(&fake, 0, sizeof fake);
    fake.state = "running";
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "up", "t", 2, JAN1, st, sizeof st), MLF_OK);
    ck_assert_str_eq(st, "running");
    ck_assert_int_eq(fake.map_index, 2);
    /* the run's state: map_index means nothing */
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "up", NULL, 2, JAN1, st, sizeof st), MLF_OK);
    ck_assert_int_eq(fake.map_index, -1);
    ck_assert_int_eq(fake.calls, 2);
    ck_assert_int_eq(mlf_ctx_external_state(NULL, "up", "t", -1, JAN1, st, sizeof st), MLF_EINVAL);
    ck_assert_int_eq(mlf_ctx_external_state(ctx, NULL, "t", -1, JAN1, st, sizeof st), MLF_EINVAL);
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "", "t", -1, JAN1, st, sizeof st), MLF_EINVAL);
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "up", "", -1, JAN1, st, sizeof st), MLF_EINVAL);
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "up", "t", -1, JAN1, NULL, sizeof st), MLF_EINVAL);
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "up", "t", -1, JAN1, st, 0), MLF_EINVAL);
    ck_assert_int_eq(fake.calls, 2);
    fake.rc = MLF_ENOTFOUND;
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "up", "t", -1, JAN1, st, sizeof st), MLF_ENOTFOUND);
    ck_assert_str_eq(st, "");
    mlf_task_ctx_free(ctx);
    in.external_state = NULL;
    ctx = mlf_task_ctx_new(&in);
    ck_assert_int_eq(mlf_ctx_external_state(ctx, "up", "t", -1, JAN1, st, sizeof st), MLF_ENOTSUP);
    mlf_task_ctx_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("op_external_sensor");
    TCase *tc = tcase_create("external_task_sensor");
    tcase_add_checked_fixture(tc, plugins_setup, plugins_teardown);
    tcase_add_test(tc, test_allowed_state_succeeds);
    tcase_add_test(tc, test_execution_delta_moves_the_date);
    tcase_add_test(tc, test_failed_state_fails_without_retry);
    tcase_add_test(tc, test_skipped_state_skips);
    tcase_add_test(tc, test_missing_or_other_reschedules);
    tcase_add_test(tc, test_no_store_fails_without_retry);
    tcase_add_test(tc, test_whole_run_state);
    tcase_add_test(tc, test_bad_lists_fail_without_retry);
    tcase_add_test(tc, test_bad_dag_id_or_date);
    suite_add_tcase(s, tc);
    TCase *core = tcase_create("task_ctx");
    tcase_add_test(core, test_ctx_external_state_arguments);
    suite_add_tcase(s, core);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
