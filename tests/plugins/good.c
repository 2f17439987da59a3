/* A well-behaved test plugin: one operator with a parameter table, one sensor, one hook, one macro. */
#include <mlflowd/mlflowd.h>

#include <stdio.h>
#include <stdlib.h>

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

/* The "record" notifier appends each event as one line of JSON to the file named by its `path`. */
static const mlf_param_spec record_params[] = {
    {.name = "path", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED, .help = "file the events are appended to"},
    {.name = "fail", .type = MLF_PARAM_BOOL, .default_value = "false", .help = "fail on purpose"},
    {0}};

static int record_notify(const mlf_value *event, const mlf_value *config, char *errbuf, size_t errlen)
{
    int fail = 0;
    mlf_value_get_bool(mlf_map_get(config, "fail"), &fail);
    if (fail) {
        snprintf(errbuf, errlen, "the record notifier was told to fail");
        return MLF_EIO;
    }
    const char *path = mlf_value_get_str(mlf_map_get(config, "path"), NULL);
    char *json = NULL;
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f || mlf_value_to_json(event, &json) != MLF_OK) {
        if (f)
            fclose(f);
        snprintf(errbuf, errlen, "cannot append to %s", path ? path : "(no path)");
        return MLF_EIO;
    }
    fprintf(f, "%s\n", json);
    fclose(f);
    free(json);
    return MLF_OK;
}

static const mlf_notifier_desc record_notifier = {.struct_size = sizeof(mlf_notifier_desc), .name = "record",
                                                  .help = "Appends events to a file.", .params = record_params,
                                                  .notify = record_notify};

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
    if (rc == MLF_OK)
        rc = mlf_register_notifier(reg, &record_notifier);
    return rc;
}

MLF_PLUGIN("good", "1.2.3", "A well-behaved test plugin", good_init, NULL);
