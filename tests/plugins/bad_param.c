/* A plugin whose operator declares a parameter that clashes with a core task key ("retries"). */
#include <mlflowd/mlflowd.h>

static mlf_outcome noop(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_SUCCESS;
}

static const mlf_param_spec params[] = {{.name = "retries", .type = MLF_PARAM_INT}, {0}};
static const mlf_operator_desc op = {.struct_size = sizeof(mlf_operator_desc), .name = "clashing",
                                     .params = params, .execute = noop};

static int bad_param_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &op);
}

MLF_PLUGIN("bad_param", "1", "declares a core key as parameter", bad_param_init, NULL);
