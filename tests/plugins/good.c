/* A well-behaved test plugin: one operator with a parameter table, one sensor, one hook, one macro. */
#include <mlflowd/mlflowd.h>

static const mlf_param_spec good_params[] = {
    {.name = "message", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED, .help = "what to say"},
    {.name = "times", .type = MLF_PARAM_INT, .default_value = "1", .help = "how often"},
    {.name = "level", .type = MLF_PARAM_ENUM, .default_value = "info", .choices = "info|warning", .help = "log level"},
    {0}};

static mlf_outcome good_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const char *m = mlf_value_get_str(mlf_ctx_param(ctx, "message"), NULL);
    mlf_ctx_log(ctx, MLF_LOG_INFO, "message: %s", m ? m : "(none)");
    return mlf_ctx_xcom_push(ctx, NULL, mlf_value_str(m ? m : "")) == MLF_OK ? MLF_SUCCESS : MLF_FAILED;
}

static mlf_outcome good_poke(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_RESCHEDULE;
}

static int good_double(const mlf_value *const *args, size_t nargs, mlf_value **out, char *err, size_t errlen,
                       void *data)
{
    (void)nargs;
    (void)err;
    (void)errlen;
    (void)data;
    int64_t i;
    if (mlf_value_get_int(args[0], &i) != MLF_OK)
        return MLF_ETYPE;
    *out = mlf_value_int(i * 2);
    return *out ? MLF_OK : MLF_ENOMEM;
}

static const mlf_operator_desc good_op = {.struct_size = sizeof(mlf_operator_desc), .name = "test_op",
                                          .help = "A test operator.", .params = good_params, .execute = good_execute};
static const mlf_operator_desc good_sensor = {.struct_size = sizeof(mlf_operator_desc), .name = "test_sensor",
                                              .help = "Never satisfied.", .flags = MLF_OP_SENSOR,
                                              .execute = good_poke};
static const mlf_hook_desc good_hook = {.struct_size = sizeof(mlf_hook_desc), .name = "test_hook",
                                        .conn_type = "test", .help = "A test hook."};
static const mlf_macro_desc good_macro = {.struct_size = sizeof(mlf_macro_desc), .name = "double_it",
                                          .min_args = 1, .max_args = 1, .call = good_double};

static int good_init(mlf_registry *reg)
{
    if (!MLF_HOST_HAS(mlf_ctx_cancelled))
        return MLF_ENOTSUP;
    int rc = mlf_register_operator(reg, &good_op);
    if (rc == MLF_OK)
        rc = mlf_register_operator(reg, &good_sensor);
    if (rc == MLF_OK)
        rc = mlf_register_hook(reg, &good_hook);
    if (rc == MLF_OK)
        rc = mlf_register_macro(reg, &good_macro);
    return rc;
}

MLF_PLUGIN("good", "1.2.3", "A well-behaved test plugin", good_init, NULL);
