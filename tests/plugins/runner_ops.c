/* Test operators for the task runner: each exercises one thing the runner must carry between the spec, the
 * context and the result (params, XCom, connections, branching, sensors) or one way an operator can
 * misbehave (invalid outcome, rescheduling without being a sensor, printing to stdout). */
#include <mlflowd/mlflowd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pushes what it saw of its context as XComs, and logs a connection's password (the log must mask it). */
static mlf_outcome context_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    mlf_ctx_xcom_push(ctx, "dag_id", mlf_value_str(mlf_ctx_dag_id(ctx)));
    mlf_ctx_xcom_push(ctx, "run_id", mlf_value_str(mlf_ctx_run_id(ctx)));
    mlf_ctx_xcom_push(ctx, "try_number", mlf_value_int(mlf_ctx_try_number(ctx)));
    mlf_ctx_xcom_push(ctx, "map_index", mlf_value_int(mlf_ctx_map_index(ctx)));
    mlf_ctx_xcom_push(ctx, "logical_date", mlf_value_int(mlf_ctx_logical_date(ctx)));
    mlf_ctx_xcom_push(ctx, "interval_end", mlf_value_int(mlf_ctx_data_interval_end(ctx)));
    mlf_ctx_xcom_push(ctx, "params", mlf_value_copy(mlf_ctx_params(ctx)));
    mlf_ctx_xcom_push(ctx, "dag_params", mlf_value_copy(mlf_ctx_dag_params(ctx)));
    const mlf_value *up = NULL;
    if (mlf_ctx_xcom_pull(ctx, "upstream", NULL, &up) == MLF_OK)
        mlf_ctx_xcom_push(ctx, "pulled", mlf_value_copy(up));
    const mlf_connection *conn = NULL;
    if (mlf_ctx_connection(ctx, "db", &conn) == MLF_OK) {
        mlf_ctx_xcom_push(ctx, "conn_host", mlf_value_str(conn->host ? conn->host : "(null)"));
        mlf_ctx_xcom_push(ctx, "conn_port", mlf_value_int(conn->port));
        mlf_ctx_log(ctx, MLF_LOG_INFO, "connecting with password %s", conn->password ? conn->password : "");
    }
    mlf_ctx_log(ctx, MLF_LOG_INFO, "the variable secret is %s", "hunter2-variable");
    mlf_ctx_set_message(ctx, "context seen (the variable secret is %s)", "hunter2-variable");
    return MLF_SUCCESS;
}

/* A branch operator that follows every task id listed in its `follow` parameter. */
static mlf_outcome branch_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const mlf_value *follow = mlf_ctx_param(ctx, "follow");
    for (size_t i = 0; i < mlf_value_len(follow); i++) {
        int rc = mlf_ctx_follow(ctx, mlf_value_get_str(mlf_array_at(follow, i), NULL));
        if (rc != MLF_OK) {
            mlf_ctx_set_message(ctx, "follow: %s", mlf_strerror(rc));
            return MLF_FAILED_NO_RETRY;
        }
    }
    return MLF_SUCCESS;
}

/* A sensor satisfied at its third poke in the same process. */
static int pokes;
static mlf_outcome poke_thrice_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    if (++pokes < 3)
        return MLF_RESCHEDULE;
    mlf_ctx_xcom_push(ctx, "pokes", mlf_value_int(pokes));
    return MLF_SUCCESS;
}

/* A sensor never satisfied; asks for a precise next poke when given `ask_at`. */
static mlf_outcome never_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    int64_t at;
    if (mlf_value_get_int(mlf_ctx_param(ctx, "ask_at"), &at) == MLF_OK)
        mlf_ctx_reschedule_at(ctx, at);
    return MLF_RESCHEDULE;
}

static mlf_outcome bad_outcome_execute(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return (mlf_outcome)42;
}

static mlf_outcome reschedule_execute(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_RESCHEDULE;
}

/* Prints to stdout and stderr directly, as careless plugins and libraries do. */
static mlf_outcome noisy_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    for (int i = 0; i < 1000; i++)
        printf("noise on stdout %d\n", i);
    fflush(stdout);
    fprintf(stderr, "noise on stderr\n");
    return mlf_ctx_xcom_push(ctx, NULL, mlf_value_str("quiet result")) == MLF_OK ? MLF_SUCCESS : MLF_FAILED;
}

/* Pushes a string of `size` bytes (to move results bigger than a pipe's buffer). */
static mlf_outcome big_xcom_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    int64_t size = 0;
    mlf_value_get_int(mlf_ctx_param(ctx, "size"), &size);
    char *s = malloc((size_t)size + 1);
    if (!s)
        return MLF_FAILED;
    for (int64_t i = 0; i < size; i++)
        s[i] = (char)('a' + i % 26);
    s[size] = '\0';
    int rc = mlf_ctx_xcom_push(ctx, NULL, mlf_value_str(s));
    free(s);
    if (rc != MLF_OK) {
        mlf_ctx_set_message(ctx, "xcom push: %s", mlf_strerror(rc));
        return MLF_FAILED;
    }
    return MLF_SUCCESS;
}

#define OP(n, f, fl) {.struct_size = sizeof(mlf_operator_desc), .name = n, .help = n, .flags = fl, .execute = f}
static const mlf_operator_desc ops[] = {
    OP("context", context_execute, 0),
    OP("branch_some", branch_execute, MLF_OP_BRANCH),
    OP("poke_thrice", poke_thrice_execute, MLF_OP_SENSOR),
    OP("never", never_execute, MLF_OP_SENSOR),
    OP("bad_outcome", bad_outcome_execute, 0),
    OP("reschedule_me", reschedule_execute, 0),
    OP("noisy", noisy_execute, 0),
    OP("big_xcom", big_xcom_execute, 0),
};

static int runner_ops_init(mlf_registry *reg)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        int rc = mlf_register_operator(reg, &ops[i]);
        if (rc != MLF_OK)
            return rc;
    }
    return MLF_OK;
}

MLF_PLUGIN("runner_ops", "1.0.0", "Test operators for the task runner", runner_ops_init, NULL);
