/* A plugin that registers an operator named "shell", colliding with the built-in shell plugin. */
#include <mlflowd/mlflowd.h>

static mlf_outcome noop(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_SUCCESS;
}

static const mlf_operator_desc op = {.struct_size = sizeof(mlf_operator_desc), .name = "shell", .execute = noop};

static int dup_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &op);
}

MLF_PLUGIN("dup_shell", "1", "collides with shell", dup_init, NULL);
