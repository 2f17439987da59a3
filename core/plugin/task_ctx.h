/* task_ctx.h -- the core side of mlf_task_ctx: what a task runner gives an operator and reads back. */
#ifndef MLF_CORE_TASK_CTX_H
#define MLF_CORE_TASK_CTX_H

#include <mlflowd/mlflowd.h>

/** Looks up a connection: stores a new map value (conn_type, host, port, login, password, schema, extra)
 * in *out and returns MLF_OK, or returns MLF_ENOTFOUND / MLF_EPARSE. */
typedef int (*mlf_conn_lookup_fn)(void *ud, const char *conn_id, mlf_value **out);

/** Reads the state of another DAG's run or task instance for mlf_ctx_external_state() (same arguments
 * and contract: @p task_id NULL asks for the run's state). Writes the state name into @p state and returns
 * MLF_OK, or returns MLF_ENOTFOUND, MLF_ENOTSUP, MLF_EINVAL or a store error. */
typedef int (*mlf_external_state_fn)(void *ud, const char *dag_id, const char *task_id, int map_index,
                                     mlf_time_us logical_date, char *state, size_t statelen);

/** Everything a context is built from. Strings and values are borrowed and must outlive the context. */
typedef struct mlf_task_ctx_init {
    const char *dag_id, *task_id, *run_id;
    int try_number;               /**< from 1 */
    int map_index;                /**< -1 when not mapped */
    mlf_time_us logical_date, data_interval_start, data_interval_end;
    const mlf_value *params;      /**< rendered operator parameters (a map); NULL means none */
    const mlf_value *dag_params;  /**< the DAG's params (a map); NULL means none */
    const mlf_value *xcom_inputs; /**< map task_id -> map key -> value, for xcom_pull; NULL means none */
    int log_fd;                   /**< the try's log; -1 to discard */
    int is_branch;                /**< the operator is flagged MLF_OP_BRANCH */
    const char *const *downstream; /**< direct downstream task ids (for follow) */
    size_t ndownstream;
    size_t xcom_max_size;         /**< packed bytes; 0 means unlimited */
    mlf_conn_lookup_fn conn_lookup; /**< NULL: no connections */
    void *conn_ud;
    const char *const *secrets;   /**< strings to mask in log lines */
    size_t nsecrets;
    mlf_external_state_fn external_state; /**< NULL: mlf_ctx_external_state() gives MLF_ENOTSUP */
    void *external_ud;
} mlf_task_ctx_init;

/** A new context, or NULL when memory runs out. Free with mlf_task_ctx_free(). */
mlf_task_ctx *mlf_task_ctx_new(const mlf_task_ctx_init *init);
void mlf_task_ctx_free(mlf_task_ctx *ctx);

/** The XComs pushed so far: a map key -> value (borrowed; never NULL). */
const mlf_value *mlf_task_ctx_xcoms(const mlf_task_ctx *ctx);
/** The task ids the operator chose to follow (borrowed) and their count; NULL/0 when it chose none. */
const char *const *mlf_task_ctx_followed(const mlf_task_ctx *ctx, size_t *n);
/** Whether follow was called at all (a branch that follows nothing skips every downstream). */
int mlf_task_ctx_branched(const mlf_task_ctx *ctx);
/** A copy of @p text with the try's secrets (the spec's list and the passwords of connections it read)
 * masked as "***", as in its log lines; NULL for NULL @p text or out of memory. Free with free(). */
char *mlf_task_ctx_mask(mlf_task_ctx *ctx, const char *text);

/** The outcome message set by the operator, or NULL. Borrowed. */
const char *mlf_task_ctx_message(const mlf_task_ctx *ctx);
/** The time a sensor asked to be poked again, or 0. */
mlf_time_us mlf_task_ctx_reschedule_time(const mlf_task_ctx *ctx);
/** Asks the operator to stop (mlf_ctx_cancelled() turns 1). Async-signal-safe. */
void mlf_task_ctx_cancel(mlf_task_ctx *ctx);

#endif
