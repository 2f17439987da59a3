/* A test plugin whose operators never finish: "hang" ignores cancellation (only SIGKILL ends it),
 * "hang_polite" returns as soon as the daemon asks it to stop (SIGTERM). */
#include <mlflowd/mlflowd.h>

#include <time.h>

static void nap(void)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static mlf_outcome hang_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    mlf_ctx_log(ctx, MLF_LOG_INFO, "hanging forever");
    for (;;)
        nap();
    return MLF_SUCCESS;
}

static mlf_outcome hang_polite_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    mlf_ctx_log(ctx, MLF_LOG_INFO, "hanging until cancelled");
    while (!mlf_ctx_cancelled(ctx))
        nap();
    mlf_ctx_set_message(ctx, "cancelled");
    return MLF_FAILED;
}

static const mlf_operator_desc hang_op = {.struct_size = sizeof(mlf_operator_desc), .name = "hang",
                                          .help = "Never returns, ignoring cancellation.", .execute = hang_execute};
static const mlf_operator_desc hang_polite_op = {.struct_size = sizeof(mlf_operator_desc), .name = "hang_polite",
                                                 .help = "Returns when cancelled.", .execute = hang_polite_execute};

static int hang_init(mlf_registry *reg)
{
    int rc = mlf_register_operator(reg, &hang_op);
    return rc == MLF_OK ? mlf_register_operator(reg, &hang_polite_op) : rc;
}

MLF_PLUGIN("hang", "1.0.0", "A test plugin whose operators never finish by themselves", hang_init, NULL);
