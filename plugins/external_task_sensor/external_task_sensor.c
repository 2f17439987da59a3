/* external_task_sensor -- waits for a task instance (or a whole DAG run) of another DAG to reach a state
 * (Airflow's ExternalTaskSensor).
 *
 * One poke: read, through mlf_ctx_external_state(), the state of task `external_task_id` (without it: of
 * the DAG run itself) in the run of DAG `external_dag_id` whose logical date is this run's logical date
 * minus `execution_delta`. A state in `failed_states` fails without retry, naming the external task and its
 * state (skipped instead with soft_fail, as Airflow does); one in `skipped_states` skips; one in
 * `allowed_states` (default [success]) succeeds; anything else, and a run or task instance that does not
 * exist (yet), asks to be poked again. The core owns mode, poke_interval, timeout and soft_fail on timeout.
 *
 * As in Airflow: the state lists must hold valid state names (TI states with external_task_id, DAG run
 * states without) and must not share a value, else the sensor fails without retry; the external logical
 * date must match exactly; a missing run keeps the sensor waiting until its timeout.
 *
 * Differs from Airflow: one task id (no external_task_ids, external_task_group_id, execution_date_fn,
 * check_existence, deferrable); the external task instance read is the unmapped one (map_index -1), so
 * waiting on a mapped task needs its downstream instead; the state is read from the state store by the
 * task process, so the sensor works only where that store is (the local and sequential executors): on a
 * remote worker it fails without retry. */
#include <mlflowd/mlflowd.h>

#include <stdlib.h>
#include <string.h>

#include "../common/wait_until.h"

static const mlf_param_spec external_task_sensor_params[] = {
    {.name = "external_dag_id", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "the DAG to wait for"},
    {.name = "external_task_id", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "the task of that DAG to wait for; without it, the DAG run's own state"},
    {.name = "allowed_states", .type = MLF_PARAM_LIST, .default_value = "[success]",
     .help = "states that satisfy the sensor"},
    {.name = "skipped_states", .type = MLF_PARAM_LIST, .default_value = "[]",
     .help = "states that make the sensor skip"},
    {.name = "failed_states", .type = MLF_PARAM_LIST, .default_value = "[]",
     .help = "states that make the sensor fail without retry (skip with soft_fail)"},
    {.name = "execution_delta", .type = MLF_PARAM_DURATION, .default_value = "0",
     .help = "look at the external run whose logical date is this run's minus this (\"1d\": yesterday's)"},
    {0}};

static const char *const ti_states[] = {"none", "scheduled", "queued", "running", "success", "failed",
                                        "up_for_retry", "up_for_reschedule", "upstream_failed", "skipped",
                                        "removed", NULL};
static const char *const run_states[] = {"queued", "running", "success", "failed", NULL};

static int in_names(const char *const *names, const char *s)
{
    for (; *names; names++)
        if (strcmp(*names, s) == 0)
            return 1;
    return 0;
}

/* 1 when list @p l holds the string @p s. */
static int in_list(const mlf_value *l, const char *s)
{
    for (size_t i = 0; i < mlf_value_len(l); i++) {
        const char *e = mlf_value_get_str(mlf_array_at(l, i), NULL);
        if (e && strcmp(e, s) == 0)
            return 1;
    }
    return 0;
}

/* Checks state list @p name: strings, valid names of @p valid, none also in the lists @p others.
 * Returns 1, or 0 after setting the message. */
static int check_list(mlf_task_ctx *ctx, const char *name, const char *const *valid, int for_run,
                      const char *other_names[], const mlf_value *others[], size_t nothers)
{
    const mlf_value *l = mlf_ctx_param(ctx, name);
    if (l && mlf_value_type(l) != MLF_ARRAY) {
        mlf_ctx_set_message(ctx, "external_task_sensor: %s must be a list of state names", name);
        return 0;
    }
    for (size_t i = 0; i < mlf_value_len(l); i++) {
        const char *s = mlf_value_get_str(mlf_array_at(l, i), NULL);
        if (!s || !in_names(valid, s)) {
            char *shown = s ? NULL : mlf_value_to_display(mlf_array_at(l, i));
            mlf_ctx_set_message(ctx, "external_task_sensor: %s: '%s' is not a %s state (valid: %s)", name,
                                s ? s : shown ? shown : "?", for_run ? "DAG run" : "task instance",
                                for_run ? "queued, running, success, failed"
                                        : "none, scheduled, queued, running, success, failed, up_for_retry, "
                                          "up_for_reschedule, upstream_failed, skipped, removed");
            mlf_free(shown);
            return 0;
        }
        for (size_t k = 0; k < nothers; k++)
            if (in_list(others[k], s)) {
                mlf_ctx_set_message(ctx, "external_task_sensor: state '%s' is in both %s and %s", s, name,
                                    other_names[k]);
                return 0;
            }
    }
    return 1;
}

static mlf_outcome external_task_sensor_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const char *dag_id = mlf_value_get_str(mlf_ctx_param(ctx, "external_dag_id"), NULL);
    const char *task_id = mlf_value_get_str(mlf_ctx_param(ctx, "external_task_id"), NULL);
    if (task_id && !*task_id)
        task_id = NULL;
    if (!dag_id || !*dag_id) {
        mlf_ctx_set_message(ctx, "external_task_sensor: external_dag_id is empty");
        return MLF_FAILED_NO_RETRY;
    }
    int64_t delta = 0;
    const mlf_value *dv = mlf_ctx_param(ctx, "execution_delta");
    if (dv && mlf_value_get_int(dv, &delta) != MLF_OK) {
        mlf_ctx_set_message(ctx, "external_task_sensor: execution_delta must be a duration");
        return MLF_FAILED_NO_RETRY;
    }
    mlf_time_us when;
    if (__builtin_sub_overflow(mlf_ctx_logical_date(ctx), delta, &when)) {
        mlf_ctx_set_message(ctx, "external_task_sensor: logical_date - execution_delta is out of range");
        return MLF_FAILED_NO_RETRY;
    }

    /* the lists, checked as Airflow's constructor does: valid names, no value in two lists */
    const char *const *valid = task_id ? ti_states : run_states;
    const mlf_value *allowed = mlf_ctx_param(ctx, "allowed_states");
    const mlf_value *skipped = mlf_ctx_param(ctx, "skipped_states");
    const mlf_value *failed = mlf_ctx_param(ctx, "failed_states");
    const char *n_sf[] = {"skipped_states", "failed_states"}, *n_f[] = {"failed_states"};
    const mlf_value *v_sf[] = {skipped, failed}, *v_f[] = {failed};
    if (!check_list(ctx, "allowed_states", valid, !task_id, n_sf, v_sf, 2) ||
        !check_list(ctx, "skipped_states", valid, !task_id, n_f, v_f, 1) ||
        !check_list(ctx, "failed_states", valid, !task_id, NULL, NULL, 0))
        return MLF_FAILED_NO_RETRY;

    char what[300], date[48];
    wait_format_time(when, date, sizeof date);
    if (task_id)
        snprintf(what, sizeof what, "task %s.%s (logical date %s)", dag_id, task_id, date);
    else
        snprintf(what, sizeof what, "DAG run of %s (logical date %s)", dag_id, date);
    if (!MLF_HOST_HAS(mlf_ctx_external_state)) {
        mlf_ctx_set_message(ctx, "external_task_sensor needs a daemon of plugin ABI 1.1 or later");
        return MLF_FAILED_NO_RETRY;
    }
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Poking for %s", what);

    char state[32];
    int rc = mlf_ctx_external_state(ctx, dag_id, task_id, -1, when, state, sizeof state);
    if (rc == MLF_ENOTSUP) {
        mlf_ctx_set_message(ctx, "external_task_sensor needs the state store: run it with the local executor");
        return MLF_FAILED_NO_RETRY;
    }
    if (rc == MLF_ENOTFOUND) {
        mlf_ctx_log(ctx, MLF_LOG_INFO, "No %s yet", what);
        return MLF_RESCHEDULE;
    }
    if (rc != MLF_OK) {
        mlf_ctx_log(ctx, MLF_LOG_WARNING, "Cannot read the state of %s: %s", what, mlf_strerror(rc));
        return MLF_RESCHEDULE;
    }
    if (in_list(failed, state)) {
        int soft_fail = 0;
        mlf_value_get_bool(mlf_ctx_param(ctx, "soft_fail"), &soft_fail);
        mlf_ctx_set_message(ctx, "external_task_sensor: the external %s is %s (in failed_states)%s", what, state,
                            soft_fail ? "; skipping (soft_fail)" : "");
        return soft_fail ? MLF_SKIPPED : MLF_FAILED_NO_RETRY;
    }
    if (in_list(skipped, state)) {
        mlf_ctx_set_message(ctx, "external_task_sensor: the external %s is %s (in skipped_states)", what, state);
        return MLF_SKIPPED;
    }
    if (allowed ? in_list(allowed, state) : strcmp(state, "success") == 0) {
        mlf_ctx_log(ctx, MLF_LOG_INFO, "The external %s is %s", what, state);
        return MLF_SUCCESS;
    }
    mlf_ctx_log(ctx, MLF_LOG_INFO, "The external %s is %s; waiting", what, state);
    return MLF_RESCHEDULE;
}

static const mlf_operator_desc external_task_sensor_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "external_task_sensor",
    .help = "Waits for a task (or the whole run) of another DAG, at this run's logical date minus "
            "execution_delta, to reach one of allowed_states (Airflow's ExternalTaskSensor); local executor only.",
    .flags = MLF_OP_SENSOR,
    .params = external_task_sensor_params,
    .execute = external_task_sensor_execute,
};

static int external_task_sensor_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &external_task_sensor_operator);
}

MLF_PLUGIN("external_task_sensor", MLF_VERSION_STRING,
           "The external task sensor (wait for another DAG's task or run)", external_task_sensor_init, NULL);
