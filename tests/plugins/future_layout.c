/* A plugin from the future: built against ABI minor MLF_ABI_MINOR + 1, whose mlf_param_spec has grown a
 * member, and which declares (abi_minor_min) that it runs in this daemon too. The loader must accept it
 * and read its parameter table with the element size it declares (param_size), not sizeof here. */
#include <mlflowd/mlflowd.h>

MLF_HIDDEN const struct mlf_host *mlf__host;

/* mlf_param_spec as a later minor might have it: the same members, then one more. */
typedef struct future_param_spec {
    mlf_param_spec base;
    const char *placeholder; /* a member this daemon does not know */
    int64_t extra;
} future_param_spec;

static const future_param_spec future_params[] = {
    {.base = {.name = "alpha", .type = MLF_PARAM_STR, .help = "first"}, .placeholder = "x", .extra = -1},
    {.base = {.name = "beta", .type = MLF_PARAM_INT, .default_value = "7", .help = "second"},
     .placeholder = "y", .extra = -1},
    {.base = {.name = "gamma", .type = MLF_PARAM_BOOL, .help = "third"}, .placeholder = "z", .extra = -1},
    {{0}, 0, 0}};

static mlf_outcome future_execute(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_SUCCESS;
}

static const mlf_operator_desc future_op = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "future_op",
    .help = "an operator with a wider parameter table",
    .params = &future_params[0].base,
    .execute = future_execute,
    .param_size = sizeof(future_param_spec),
};

static int future_init(const struct mlf_host *host, mlf_registry *reg)
{
    mlf__host = host;
    return mlf_register_operator(reg, &future_op);
}

MLF_EXPORT extern const mlf_plugin_info mlf_plugin_entry;
const mlf_plugin_info mlf_plugin_entry = {MLF_ABI_MAJOR, MLF_ABI_MINOR + 1, sizeof(mlf_plugin_info),
                                          MLF_ABI_MINOR, "future_layout",  "1",
                                          "a newer minor that checks MLF_HOST_HAS", future_init, NULL};
