/* time_delta_sensor -- waits until `delta` after the end of the run's data interval (Airflow's
 * TimeDeltaSensor).
 *
 * One poke: succeed once now >= data_interval_end + delta; otherwise ask to be poked again exactly at that
 * moment (mlf_ctx_reschedule_at), so that in reschedule mode the sensor wakes up once instead of every
 * poke_interval. The core owns mode, poke_interval, timeout and soft_fail.
 *
 * Differs from Airflow: the comparison is >= where Airflow's poke uses >, so that the poke the core makes at
 * the requested moment succeeds instead of needing one more; a target that overflows the time range fails
 * without retry. As in Airflow the base is data_interval_end, not the moment the task started (that would be
 * Airflow's WaitSensor). */
#include <mlflowd/mlflowd.h>

#include "../common/wait_until.h"

static const mlf_param_spec time_delta_sensor_params[] = {
    {.name = "delta", .type = MLF_PARAM_DURATION, .flags = MLF_PARAM_REQUIRED,
     .help = "how long after the end of the data interval to wait (\"30m\", \"2h\", \"PT1H\")"},
    {0}};

static mlf_outcome time_delta_sensor_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    int64_t delta;
    if (mlf_value_get_int(mlf_ctx_param(ctx, "delta"), &delta) != MLF_OK) {
        mlf_ctx_set_message(ctx, "time_delta_sensor: delta must be a duration");
        return MLF_FAILED_NO_RETRY;
    }
    mlf_time_us target;
    if (__builtin_add_overflow(mlf_ctx_data_interval_end(ctx), delta, &target)) {
        mlf_ctx_set_message(ctx, "time_delta_sensor: data_interval_end + delta is out of range");
        return MLF_FAILED_NO_RETRY;
    }
    return wait_until(ctx, target);
}

static const mlf_operator_desc time_delta_sensor_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "time_delta_sensor",
    .help = "Waits until `delta` after the end of the run's data interval (Airflow's TimeDeltaSensor); asks to be "
            "poked again exactly then.",
    .flags = MLF_OP_SENSOR,
    .params = time_delta_sensor_params,
    .execute = time_delta_sensor_execute,
};

static int time_delta_sensor_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &time_delta_sensor_operator);
}

MLF_PLUGIN("time_delta_sensor", MLF_VERSION_STRING, "The time delta sensor (wait past the data interval)",
           time_delta_sensor_init, NULL);
