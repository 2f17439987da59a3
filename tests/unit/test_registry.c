/* Unit tests for core/plugin/registry.c: what a plugin registers is staged, validated (names, descriptor
 * sizes, callbacks, parameter tables) and committed into the catalog only as a whole; a name another plugin
 * already took fails the commit and leaves nothing of the plugin behind; lookups by kind and name. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/registry.h"

static mlf_catalog *cat;

static void setup(void)
{
    cat = mlf_catalog_new();
    ck_assert_ptr_nonnull(cat);
}

static void teardown(void)
{
    mlf_catalog_free(cat);
}

static mlf_outcome op_execute(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_SUCCESS;
}

static int notify_fn(const mlf_value *event, const mlf_value *config, char *errbuf, size_t errlen)
{
    (void)event;
    (void)config;
    (void)errbuf;
    (void)errlen;
    return MLF_OK;
}

static int macro_fn(const mlf_value *const *args, size_t nargs, mlf_value **out, char *errbuf, size_t errlen,
                    void *data)
{
    (void)args;
    (void)nargs;
    (void)errbuf;
    (void)errlen;
    (void)data;
    *out = NULL;
    return MLF_OK;
}

static const mlf_plugin_info info_a = {.abi_major = MLF_ABI_MAJOR, .abi_minor = MLF_ABI_MINOR,
                                       .struct_size = sizeof(mlf_plugin_info), .name = "alpha", .version = "1"};
static const mlf_plugin_info info_b = {.abi_major = MLF_ABI_MAJOR, .abi_minor = MLF_ABI_MINOR,
                                       .struct_size = sizeof(mlf_plugin_info), .name = "beta", .version = "1"};

static const mlf_param_spec good_params[] = {
    {.name = "path", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED, .help = "a path"},
    {.name = "mode", .type = MLF_PARAM_ENUM, .choices = "a|b", .default_value = "a"},
    {0}};

static mlf_operator_desc op(const char *name, const mlf_param_spec *params)
{
    return (mlf_operator_desc){.struct_size = sizeof(mlf_operator_desc), .name = name, .params = params,
                               .execute = op_execute};
}

START_TEST(test_register_commit_and_find)
{
    const mlf_plugin *pa = mlf_catalog_add_plugin(cat, "/p/alpha.so", &info_a, NULL);
    ck_assert_ptr_nonnull(pa);
    mlf_registry *reg = mlf_registry_begin(cat, pa);
    static mlf_operator_desc o1, o2;
    o1 = op("copy", good_params);
    o2 = op("move", NULL);
    static const mlf_notifier_desc n = {.struct_size = sizeof(mlf_notifier_desc), .name = "copy", .notify = notify_fn};
    static const mlf_macro_desc m = {.struct_size = sizeof(mlf_macro_desc), .name = "twice", .min_args = 1,
                                     .max_args = 1, .call = macro_fn};
    static const mlf_hook_desc h = {.struct_size = sizeof(mlf_hook_desc), .name = "files", .conn_type = "fs"};
    ck_assert_int_eq(mlf_register_operator(reg, &o1), MLF_OK);
    ck_assert_int_eq(mlf_register_operator(reg, &o2), MLF_OK);
    ck_assert_int_eq(mlf_register_notifier(reg, &n), MLF_OK); /* another kind: the same name is fine */
    ck_assert_int_eq(mlf_register_macro(reg, &m), MLF_OK);
    ck_assert_int_eq(mlf_register_hook(reg, &h), MLF_OK);
    /* nothing is visible before the commit */
    ck_assert_ptr_null(mlf_catalog_operator(cat, "copy"));
    mlf_diag errs = {0};
    ck_assert_int_eq(mlf_registry_commit(reg, &errs), MLF_OK);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_int_eq(mlf_register_operator(reg, &o1), MLF_ESTATE); /* closed after the commit */
    mlf_registry_end(reg);

    ck_assert_ptr_eq(mlf_catalog_operator(cat, "copy"), &o1);
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_NOTIFIER, "copy");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->desc, &n);
    ck_assert_ptr_eq(e->owner, pa);
    ck_assert_ptr_null(mlf_catalog_find(cat, MLF_REG_HOOK, "copy"));
    ck_assert_uint_eq(mlf_catalog_count(cat, MLF_REG_OPERATOR), 2);
    ck_assert_str_eq(mlf_catalog_at(cat, MLF_REG_OPERATOR, 1)->name, "move"); /* registration order */
    size_t n_names = 0;
    const char **names = mlf_catalog_names(cat, MLF_REG_OPERATOR, &n_names);
    ck_assert_uint_eq(n_names, 2);
    ck_assert_str_eq(names[0], "copy");
    free(names);
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 1);
    ck_assert_ptr_eq(mlf_catalog_plugin_by_name(cat, "alpha"), pa);
    ck_assert_ptr_null(mlf_catalog_plugin_by_name(cat, "beta"));
}
END_TEST

START_TEST(test_collision_commits_nothing)
{
    const mlf_plugin *pa = mlf_catalog_add_plugin(cat, "/p/alpha.so", &info_a, NULL);
    mlf_registry *reg = mlf_registry_begin(cat, pa);
    static mlf_operator_desc a_op;
    a_op = op("copy", NULL);
    ck_assert_int_eq(mlf_register_operator(reg, &a_op), MLF_OK);
    mlf_diag errs = {0};
    ck_assert_int_eq(mlf_registry_commit(reg, &errs), MLF_OK);
    mlf_registry_end(reg);

    const mlf_plugin *pb = mlf_catalog_add_plugin(cat, "/p/beta.so", &info_b, NULL);
    reg = mlf_registry_begin(cat, pb);
    static mlf_operator_desc b_new, b_clash;
    b_new = op("fresh", NULL);
    b_clash = op("copy", NULL);
    ck_assert_int_eq(mlf_register_operator(reg, &b_new), MLF_OK);
    ck_assert_int_eq(mlf_register_operator(reg, &b_clash), MLF_OK); /* found at commit, not here */
    ck_assert_int_eq(mlf_registry_commit(reg, &errs), MLF_EEXIST);
    mlf_registry_end(reg);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.v[0].message, "operator 'copy' is already registered by plugin 'alpha' (/p/alpha.so)");
    ck_assert_str_eq(errs.v[0].file, "/p/beta.so");
    mlf_diag_clear(&errs);
    ck_assert_ptr_null(mlf_catalog_operator(cat, "fresh")); /* all or nothing */
    ck_assert_ptr_eq(mlf_catalog_operator(cat, "copy"), &a_op);
    /* the loader's undo of the failed plugin */
    mlf_catalog_drop_last_plugin(cat);
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 1);
}
END_TEST

/* Registers @p d in a fresh registry; returns the code, with the registry's message in @p msg. */
static int try_operator(const mlf_operator_desc *d, char *msg, size_t n)
{
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    int rc = mlf_register_operator(reg, d);
    const char *m = mlf_registry_message(reg);
    snprintf(msg, n, "%s", m ? m : "");
    mlf_registry_end(reg);
    return rc;
}

#define REFUSED(desc, text)                                                                                    \
    do {                                                                                                       \
        mlf_operator_desc d_ = (desc);                                                                         \
        ck_assert_int_ne(try_operator(&d_, msg, sizeof msg), MLF_OK);                                          \
        ck_assert_msg(strstr(msg, (text)) != NULL, "message '%s' lacks '%s'", msg, (text));                    \
    } while (0)

START_TEST(test_operator_validation)
{
    char msg[256];
    REFUSED(op("1st", NULL), "name '1st' must match");
    REFUSED(op("has-dash", NULL), "name 'has-dash' must match");
    REFUSED(op("", NULL), "must match");
    REFUSED(op(NULL, NULL), "name '(null)'");
    mlf_operator_desc no_exec = op("quiet", NULL);
    no_exec.execute = NULL;
    REFUSED(no_exec, "operator 'quiet' has no execute callback");
    mlf_operator_desc small = op("small", NULL);
    small.struct_size = 8;
    REFUSED(small, "struct_size 8 is smaller than ABI 1.0's");

    static const mlf_param_spec core_key[] = {{.name = "retries", .type = MLF_PARAM_INT}, {0}};
    REFUSED(op("x", core_key), "parameter 'retries' clashes with a core task key");
    static const mlf_param_spec twice[] = {{.name = "a", .type = MLF_PARAM_STR}, {.name = "a", .type = MLF_PARAM_INT},
                                           {0}};
    REFUSED(op("x", twice), "parameter 'a' is declared twice");
    static const mlf_param_spec no_choices[] = {{.name = "m", .type = MLF_PARAM_ENUM}, {0}};
    REFUSED(op("x", no_choices), "enum parameter 'm' declares no choices");
    static const mlf_param_spec bad_type[] = {{.name = "m", .type = (mlf_param_type)99}, {0}};
    REFUSED(op("x", bad_type), "parameter 'm' has an unknown type 99");
    static const mlf_param_spec bad_name[] = {{.name = "a b", .type = MLF_PARAM_STR}, {0}};
    REFUSED(op("x", bad_name), "parameter name 'a b' is not an identifier");
    /* a sensor may not declare what the core adds to every sensor */
    mlf_operator_desc sensor = op("waiter", NULL);
    sensor.flags = MLF_OP_SENSOR;
    sensor.params = (const mlf_param_spec[]){{.name = mlf_sensor_params[0].name, .type = MLF_PARAM_STR}, {0}};
    REFUSED(sensor, "clashes with a key the core adds to sensors");
    sensor.flags = 0; /* an operator may */
    ck_assert_int_eq(try_operator(&sensor, msg, sizeof msg), MLF_OK);

    /* the same name twice in one plugin */
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    static mlf_operator_desc d1, d2;
    d1 = op("dup", NULL);
    d2 = op("dup", NULL);
    ck_assert_int_eq(mlf_register_operator(reg, &d1), MLF_OK);
    ck_assert_int_eq(mlf_register_operator(reg, &d2), MLF_EEXIST);
    ck_assert_str_eq(mlf_registry_message(reg), "operator 'dup' is registered twice by this plugin");
    /* the plugin's own message wins over later validation messages */
    mlf_registry_error(reg, "my own words %d", 7);
    ck_assert_int_ne(mlf_register_operator(reg, NULL), MLF_OK);
    ck_assert_str_eq(mlf_registry_message(reg), "my own words 7");
    mlf_registry_end(reg);
    ck_assert_int_eq(mlf_register_operator(NULL, &d1), MLF_EINVAL);
}
END_TEST

START_TEST(test_other_kinds_validation)
{
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    static const mlf_hook_desc no_type = {.struct_size = sizeof(mlf_hook_desc), .name = "h"};
    ck_assert_int_eq(mlf_register_hook(reg, &no_type), MLF_EINVAL);
    ck_assert_str_eq(mlf_registry_message(reg), "hook 'h' declares no conn_type");
    mlf_registry_end(reg);

    reg = mlf_registry_begin(cat, NULL);
    static const mlf_macro_desc bad_counts = {.struct_size = sizeof(mlf_macro_desc), .name = "m", .min_args = 2,
                                              .max_args = 1, .call = macro_fn};
    ck_assert_int_eq(mlf_register_macro(reg, &bad_counts), MLF_EINVAL);
    ck_assert_str_eq(mlf_registry_message(reg), "macro 'm': bad argument counts 2..1");
    mlf_registry_end(reg);

    reg = mlf_registry_begin(cat, NULL);
    static const mlf_macro_desc unbounded = {.struct_size = sizeof(mlf_macro_desc), .name = "m", .min_args = 0,
                                             .max_args = -1, .call = macro_fn};
    ck_assert_int_eq(mlf_register_macro(reg, &unbounded), MLF_OK);
    static const mlf_notifier_desc silent = {.struct_size = sizeof(mlf_notifier_desc), .name = "n"};
    ck_assert_int_eq(mlf_register_notifier(reg, &silent), MLF_EINVAL);
    ck_assert_str_eq(mlf_registry_message(reg), "notifier 'n' has no notify callback");
    mlf_registry_end(reg);
}
END_TEST

START_TEST(test_names_and_searched)
{
    ck_assert_str_eq(mlf_param_type_name(MLF_PARAM_STR), "str");
    ck_assert_str_eq(mlf_param_type_name(MLF_PARAM_ENUM), "enum");
    ck_assert_str_eq(mlf_catalog_searched(cat), "");
    const char *paths[] = {"/a", "/b"};
    ck_assert_int_eq(mlf_catalog_set_searched(cat, paths, 2), MLF_OK);
    ck_assert_str_eq(mlf_catalog_searched(cat), "/a, /b");
    ck_assert_int_eq(mlf_catalog_set_searched(cat, paths + 1, 1), MLF_OK); /* the last call wins */
    ck_assert_str_eq(mlf_catalog_searched(cat), "/b");
    size_t n = 99;
    const char **none = mlf_catalog_names(cat, MLF_REG_MACRO, &n);
    ck_assert_uint_eq(n, 0);
    free(none);
    int core = 0;
    for (const char *const *k = mlf_core_task_keys; *k; k++)
        core += strcmp(*k, "upstream") == 0 || strcmp(*k, "operator") == 0;
    ck_assert_int_eq(core, 2);
    mlf_catalog_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_register_commit_and_find);
    tcase_add_test(tc, test_collision_commits_nothing);
    tcase_add_test(tc, test_operator_validation);
    tcase_add_test(tc, test_other_kinds_validation);
    tcase_add_test(tc, test_names_and_searched);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
