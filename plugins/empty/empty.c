/* empty -- the operator that does nothing and succeeds (Airflow's EmptyOperator): a join point, a
 * placeholder, a benchmark baseline. */
#include <mlflowd/mlflowd.h>

static mlf_outcome empty_execute(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_SUCCESS;
}

static const mlf_operator_desc empty_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "empty",
    .help = "Does nothing and succeeds. Use it to group or join branches (Airflow's EmptyOperator). The "
            "scheduler marks it success without running a try, unless it has an on_success_callback.",
    .flags = MLF_OP_NO_EXECUTE,
    .params = NULL,
    .execute = empty_execute,
};

static int empty_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &empty_operator);
}

MLF_PLUGIN("empty", MLF_VERSION_STRING, "The empty operator", empty_init, NULL);
