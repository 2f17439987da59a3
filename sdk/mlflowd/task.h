/*
 * task.h -- the task context an operator's execute() receives.
 *
 * A context describes one try of one task instance and lives until execute() returns; every pointer it
 * hands out is borrowed and valid until then. The functions are meant to be called from the thread that
 * runs execute(). Airflow users will recognise the template context: dag_id, task_id, run_id, logical
 * date, data interval, try_number, map_index, params, XCom.
 */
#ifndef MLFLOWD_TASK_H
#define MLFLOWD_TASK_H

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque context of one try of one task instance. */
typedef struct mlf_task_ctx mlf_task_ctx;

/** Log levels for mlf_ctx_log(). */
typedef enum mlf_log_level {
    MLF_LOG_DEBUG = 10,
    MLF_LOG_INFO = 20,
    MLF_LOG_WARNING = 30,
    MLF_LOG_ERROR = 40
} mlf_log_level;

/** Writes one line to the daemon's own log (not a try's log: see mlf_ctx_log()) as
 * "LEVEL component: message", when @p level is enabled. For executors and other code that runs in the
 * daemon. Thread-safe. Added in ABI 1.2. */
MLF_API void mlf_logv(mlf_log_level level, const char *component, const char *fmt, va_list ap) MLF_PRINTF(3, 0);

/** The wall clock: µs since the Unix epoch, for timestamps people read and for the `now` of the
 * executor interface. It may step. Added in ABI 1.2. */
MLF_API mlf_time_us mlf_clock_wall(void);

/** A monotonic clock in µs (CLOCK_MONOTONIC, arbitrary origin), for measuring durations: it never steps.
 * Added in ABI 1.2. */
MLF_API int64_t mlf_clock_monotonic(void);

#ifndef MLF_HOST_INTERNAL
static inline void mlf_log(mlf_log_level level, const char *component, const char *fmt, ...) MLF_PRINTF(3, 4);
/** printf-style wrapper over mlf_logv(). */
static inline void mlf_log(mlf_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_logv(level, component, fmt, ap);
    va_end(ap);
}
#endif

/** The XCom key an operator's main result is pushed under. */
#define MLF_XCOM_RETURN_KEY "return_value"

/** The rendered value of the operator parameter @p name (its declared default when the task did not
 * set it), or NULL when it has neither. Borrowed. Durations are int microseconds. */
MLF_API const mlf_value *mlf_ctx_param(mlf_task_ctx *ctx, const char *name);

/** All rendered operator parameters as one map. Borrowed. */
MLF_API const mlf_value *mlf_ctx_params(mlf_task_ctx *ctx);

/** The DAG-level `params` map (after trigger-time overrides). Borrowed; never NULL. */
MLF_API const mlf_value *mlf_ctx_dag_params(mlf_task_ctx *ctx);

/** Identity of the try. Borrowed strings, never NULL. */
MLF_API const char *mlf_ctx_dag_id(mlf_task_ctx *ctx);
MLF_API const char *mlf_ctx_task_id(mlf_task_ctx *ctx);
MLF_API const char *mlf_ctx_run_id(mlf_task_ctx *ctx);

/** The try number, counting from 1. */
MLF_API int mlf_ctx_try_number(mlf_task_ctx *ctx);

/** The map index of a mapped task instance, or -1 when the task is not mapped. */
MLF_API int mlf_ctx_map_index(mlf_task_ctx *ctx);

/** The run's logical date and data interval [start, end). */
MLF_API mlf_time_us mlf_ctx_logical_date(mlf_task_ctx *ctx);
MLF_API mlf_time_us mlf_ctx_data_interval_start(mlf_task_ctx *ctx);
MLF_API mlf_time_us mlf_ctx_data_interval_end(mlf_task_ctx *ctx);

/** Pushes @p value (ownership taken, even on error) as XCom @p key (NULL means "return_value") of this
 * task instance. A later push of the same key replaces the earlier one.
 * Errors: MLF_EINVAL, MLF_ETOOBIG (packed size above the configured xcom limit), MLF_ENOMEM. */
MLF_API int mlf_ctx_xcom_push(mlf_task_ctx *ctx, const char *key, mlf_value *value);

/** Reads XCom @p key (NULL means "return_value") pushed by task @p task_id of the same DAG run into
 * @p *out (borrowed). For a mapped upstream the value is an array with one element per map index.
 * Errors: MLF_ENOTFOUND (no such XCom), MLF_EINVAL. */
MLF_API int mlf_ctx_xcom_pull(mlf_task_ctx *ctx, const char *task_id, const char *key,
                              const mlf_value **out);

/** Looks up connection @p conn_id (the store, then MLFLOWD_CONN_<ID> in the environment) into
 * @p *out (borrowed). Errors: MLF_ENOTFOUND, MLF_EPARSE (a malformed URI in the environment). */
MLF_API int mlf_ctx_connection(mlf_task_ctx *ctx, const char *conn_id, const mlf_connection **out);

/** Writes one line to the try's log. Known secrets (connection passwords, variables whose names
 * contain "secret", "password", "token" or "key") are masked as "***". */
MLF_API void mlf_ctx_logv(mlf_task_ctx *ctx, mlf_log_level level, const char *fmt, va_list ap) MLF_PRINTF(3, 0);

/** A file descriptor open on the try's log, for child processes' stdout/stderr. Borrowed: do not close. */
MLF_API int mlf_ctx_log_fd(mlf_task_ctx *ctx);

/** Records the human-readable reason of the outcome (why it failed or was skipped). */
MLF_API void mlf_ctx_set_messagev(mlf_task_ctx *ctx, const char *fmt, va_list ap) MLF_PRINTF(2, 0);

/** Branching (operators flagged MLF_OP_BRANCH): follow direct downstream task @p task_id; every direct
 * downstream not followed is skipped. Errors: MLF_ENOTFOUND (not a direct downstream), MLF_ESTATE (the
 * operator is not a branch operator). */
MLF_API int mlf_ctx_follow(mlf_task_ctx *ctx, const char *task_id);

/** Branching: the direct downstream task ids of this task (borrowed array of borrowed strings, in DAG
 * order) with their count in @p *n (may be NULL). Returns NULL with a count of 0 when there are none.
 * Lets a branch operator tell its user which ids mlf_ctx_follow() accepts. Appended after ABI 1.0's
 * first table: check MLF_HOST_HAS(mlf_ctx_downstream) before calling it. */
MLF_API const char *const *mlf_ctx_downstream(mlf_task_ctx *ctx, size_t *n);

/** Sensors: the state of another DAG's work, as Airflow's ExternalTaskSensor reads it. Writes into
 * @p state (@p statelen bytes, NUL-terminated) the state name of task instance (@p task_id, @p map_index:
 * -1 for an unmapped task) of the run of DAG @p dag_id whose logical date is exactly @p logical_date, or,
 * with @p task_id NULL, the state of that DAG run itself (@p map_index is then ignored). TI state names are
 * those of doc/architecture.md §6 ("none", "scheduled", "queued", "running", "success", "failed", "up_for_retry",
 * "up_for_reschedule", "upstream_failed", "skipped", "removed"); run states "queued", "running",
 * "success", "failed". The state is read from the state store at the time of the call (one short read).
 * Errors: MLF_ENOTFOUND (no run of @p dag_id at that logical date, or no such task instance in it),
 * MLF_ENOTSUP (this process cannot see the state store, e.g. a try on a remote worker), MLF_EINVAL (NULL
 * or empty @p dag_id, NULL @p state, @p statelen too small for the name), or another MLF_E* code when
 * the store cannot be read (MLF_EIO, MLF_ECORRUPT).
 * Appended in ABI 1.1: check MLF_HOST_HAS(mlf_ctx_external_state) before calling it. */
MLF_API int mlf_ctx_external_state(mlf_task_ctx *ctx, const char *dag_id, const char *task_id, int map_index,
                                   mlf_time_us logical_date, char *state, size_t statelen);

/** Sensors: ask to be poked again no earlier than @p when (otherwise poke_interval decides). */
MLF_API int mlf_ctx_reschedule_at(mlf_task_ctx *ctx, mlf_time_us when);

/** 1 when the daemon asked this try to stop (kill, timeout); long loops should return MLF_FAILED. */
MLF_API int mlf_ctx_cancelled(mlf_task_ctx *ctx);

static inline void mlf_ctx_log(mlf_task_ctx *ctx, mlf_log_level level, const char *fmt, ...)
    MLF_PRINTF(3, 4);
/** printf-style wrapper over mlf_ctx_logv(). */
static inline void mlf_ctx_log(mlf_task_ctx *ctx, mlf_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_ctx_logv(ctx, level, fmt, ap);
    va_end(ap);
}

static inline void mlf_ctx_set_message(mlf_task_ctx *ctx, const char *fmt, ...) MLF_PRINTF(2, 3);
/** printf-style wrapper over mlf_ctx_set_messagev(). */
static inline void mlf_ctx_set_message(mlf_task_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_ctx_set_messagev(ctx, fmt, ap);
    va_end(ap);
}

/** Writes @p t (microseconds since the epoch, UTC) as "YYYY-MM-DD" into @p out (11 bytes with the NUL)
 * and returns @p out: the date part templates call `ds`. Header-only (no host function): it works with
 * every daemon of this ABI major. */
static inline char *mlf_format_ds(mlf_time_us t, char out[11])
{
    int64_t days = t / 86400000000LL - (t % 86400000000LL < 0); /* floor division */
    /* civil_from_days (H. Hinnant's algorithm, public domain) */
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) { /* outside what "YYYY" can show */
        out[0] = '\0';
        return out;
    }
    out[0] = (char)('0' + y / 1000), out[1] = (char)('0' + y / 100 % 10), out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10), out[4] = '-', out[5] = (char)('0' + m / 10), out[6] = (char)('0' + m % 10);
    out[7] = '-', out[8] = (char)('0' + d / 10), out[9] = (char)('0' + d % 10), out[10] = '\0';
    return out;
}

/** The run's logical date as "YYYY-MM-DD" (Airflow's `ds`) in @p out (11 bytes); returns @p out. */
static inline char *mlf_ctx_ds(mlf_task_ctx *ctx, char out[11])
{
    return mlf_format_ds(mlf_ctx_logical_date(ctx), out);
}

#ifdef __cplusplus
}
#endif

#endif /* MLFLOWD_TASK_H */
