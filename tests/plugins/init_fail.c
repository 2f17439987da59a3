/* A plugin whose init fails with its own message, after registering something (which must not stay). */
#include <mlflowd/mlflowd.h>

static mlf_outcome noop(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_SUCCESS;
}

static const mlf_operator_desc op = {.struct_size = sizeof(mlf_operator_desc), .name = "half_registered",
                                     .execute = noop};

static int init_fail_init(mlf_registry *reg)
{
    mlf_register_operator(reg, &op);
    mlf_registry_error(reg, "cannot reach the license server at %s", "10.0.0.1:9");
    return MLF_EIO;
}

MLF_PLUGIN("init_fail", "1", "fails to initialise", init_fail_init, NULL);
