/* A test plugin whose operator crashes its task process with a real SIGSEGV (the executor tests check that
 * the daemon survives and reports "killed by signal 11"). */
#include <mlflowd/mlflowd.h>

static mlf_outcome crash_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    mlf_ctx_log(ctx, MLF_LOG_INFO, "about to crash");
    volatile int *volatile nowhere = (int *)0;
    *nowhere = 42;
    return MLF_SUCCESS;
}

static const mlf_operator_desc crash_op = {.struct_size = sizeof(mlf_operator_desc), .name = "crash",
                                           .help = "Dereferences NULL.", .execute = crash_execute};

static int crash_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &crash_op);
}

MLF_PLUGIN("crash", "1.0.0", "A test plugin that crashes its task process", crash_init, NULL);
