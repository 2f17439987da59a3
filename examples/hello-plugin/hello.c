/* hello -- the smallest useful mlflowd plugin, built out of tree against the installed SDK:
 *
 *     make                      # cc -shared -fPIC $(pkg-config --cflags --libs mlflowd-plugin) hello.c -o hello.so
 *     make install              # into $(pkg-config --variable=plugindir mlflowd-plugin)
 *
 * It registers one operator, `hello`, that logs a greeting and pushes it as its XCom return_value, and one
 * template macro, `shout(text)`, that upper-cases its argument. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <mlflowd/mlflowd.h>

static const mlf_param_spec hello_params[] = {
    {.name = "greeting", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED, .default_value = "hello",
     .help = "what to say"},
    {.name = "name", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "whom to greet"},
    {0}};

static mlf_outcome hello_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const char *greeting = mlf_value_get_str(mlf_ctx_param(ctx, "greeting"), NULL);
    const char *name = mlf_value_get_str(mlf_ctx_param(ctx, "name"), NULL);
    if (!name) {
        mlf_ctx_set_message(ctx, "hello: 'name' is required");
        return MLF_FAILED_NO_RETRY;
    }
    size_t len = strlen(greeting ? greeting : "hello") + strlen(name) + 3;
    char *text = malloc(len);
    if (!text)
        return MLF_FAILED;
    strcpy(text, greeting ? greeting : "hello");
    strcat(text, ", ");
    strcat(text, name);
    mlf_ctx_log(ctx, MLF_LOG_INFO, "%s (try %d)", text, mlf_ctx_try_number(ctx));
    int rc = mlf_ctx_xcom_push(ctx, NULL, mlf_value_str(text));
    free(text);
    return rc == MLF_OK ? MLF_SUCCESS : MLF_FAILED;
}

static int shout(const mlf_value *const *args, size_t nargs, mlf_value **out, char *err, size_t errlen, void *data)
{
    (void)nargs;
    (void)data;
    size_t len;
    const char *s = mlf_value_get_str(args[0], &len);
    if (!s) {
        strncpy(err, "shout() takes a string", errlen - 1);
        err[errlen - 1] = '\0';
        return MLF_ETYPE;
    }
    char *up = malloc(len + 1);
    if (!up)
        return MLF_ENOMEM;
    for (size_t i = 0; i < len; i++)
        up[i] = (char)toupper((unsigned char)s[i]);
    up[len] = '\0';
    *out = mlf_value_strn(up, len);
    free(up);
    return *out ? MLF_OK : MLF_ENOMEM;
}

static const mlf_operator_desc hello_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "hello",
    .help = "Logs '<greeting>, <name>' and pushes it as XCom return_value.",
    .params = hello_params,
    .execute = hello_execute,
};

static const mlf_macro_desc shout_macro = {
    .struct_size = sizeof(mlf_macro_desc),
    .name = "shout",
    .help = "shout(text): text in upper case",
    .min_args = 1,
    .max_args = 1,
    .call = shout,
};

static int hello_init(mlf_registry *reg)
{
    int rc = mlf_register_operator(reg, &hello_operator);
    return rc != MLF_OK ? rc : mlf_register_macro(reg, &shout_macro);
}

MLF_PLUGIN("hello", "1.0.0", "Example out-of-tree plugin: the hello operator and the shout() macro", hello_init, NULL);
