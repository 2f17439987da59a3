/* Unit tests for core/plugin_loader.c and core/registry.c: every refusal names the file and the reason,
 * one bad plugin never hides the others, a refused plugin leaves nothing registered. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "base/strutil.h"

#define TEST_PLUGINS TEST_BUILDDIR "/tests/plugins"
#define BUILTIN_PLUGINS TEST_BUILDDIR "/plugins"

static mlf_catalog *cat;
static mlf_diag errs;

static void setup(void)
{
    cat = mlf_catalog_new();
    memset(&errs, 0, sizeof errs);
}

static void teardown(void)
{
    mlf_catalog_free(cat);
    mlf_diag_clear(&errs);
}

/* 1 when some diagnostic's formatted text contains every one of the (NULL-terminated) needles. */
static int diag_has(const char *first, ...)
{
    for (size_t i = 0; i < errs.n; i++) {
        char *s = mlf_diag_format(&errs, i);
        int ok = 1;
        va_list ap;
        va_start(ap, first);
        for (const char *needle = first; needle && ok; needle = va_arg(ap, const char *))
            ok = strstr(s, needle) != NULL;
        va_end(ap);
        free(s);
        if (ok)
            return 1;
    }
    return 0;
}

static void dump_diags(void)
{
    mlf_diag_print(&errs, "diag: ");
}

static int load(const char *dir, const char *name)
{
    const char *paths[] = {dir};
    const char *names[] = {name};
    return mlf_plugins_load(cat, paths, 1, names, 1, &errs);
}

START_TEST(test_good_plugin_registers_everything)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "good"), 0);
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 1);
    const mlf_plugin *p = mlf_catalog_plugin_at(cat, 0);
    ck_assert_str_eq(p->info->name, "good");
    ck_assert_str_eq(p->info->version, "1.2.3");
    ck_assert(strstr(p->path, "tests/plugins/good.la") != NULL);
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "test_op");
    ck_assert_ptr_nonnull(op);
    ck_assert_str_eq(op->params[0].name, "message");
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat, "test_sensor"));
    ck_assert_ptr_nonnull(mlf_catalog_find(cat, MLF_REG_HOOK, "test_hook"));
    const mlf_reg_entry *m = mlf_catalog_find(cat, MLF_REG_MACRO, "double_it");
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_eq(m->owner, p);
    /* the macro runs through the plugin's own wrappers, i.e. through the host table */
    mlf_value *arg = mlf_value_int(21), *out = NULL;
    const mlf_value *args[] = {arg};
    char err[64];
    ck_assert_int_eq(((const mlf_macro_desc *)m->desc)->call(args, 1, &out, err, sizeof err, NULL), MLF_OK);
    int64_t i = 0;
    ck_assert_int_eq(mlf_value_get_int(out, &i), MLF_OK);
    ck_assert_int_eq(i, 42);
    mlf_value_free(arg);
    mlf_value_free(out);
    ck_assert_uint_eq(errs.n, 0);
}
END_TEST

START_TEST(test_not_found_lists_searched_paths)
{
    const char *paths[] = {"/nonexistent/a", TEST_PLUGINS};
    const char *names[] = {"nosuch"};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 2, names, 1, &errs), 1);
    ck_assert(diag_has("plugin 'nosuch' not found; searched: /nonexistent/a/nosuch.{la,so}", TEST_PLUGINS "/nosuch.{la,so}", NULL));
}
END_TEST

START_TEST(test_missing_path_file)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "/nonexistent/x.so"), 1);
    ck_assert(diag_has("/nonexistent/x.so", "plugin file not found", NULL));
}
END_TEST

START_TEST(test_missing_entry_symbol)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "no_entry"), 1);
    ck_assert(diag_has("no_entry.la", "not an mlflowd plugin", "mlf_plugin_entry", NULL));
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 0);
}
END_TEST

START_TEST(test_abi_mismatch_names_both_versions)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "bad_abi"), 1);
    ck_assert(diag_has("bad_abi.la", "ABI mismatch", "ABI 999.0", "provides ABI 1.3", NULL));
}
END_TEST

/* doc/sdk.md: a plugin built against a newer minor is refused unless it declared the older minor it
 * supports (abi_minor_min, for plugins that check MLF_HOST_HAS()). */
START_TEST(test_newer_minor_needs_a_declaration)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "newer_minor"), 1);
    char want[64], have[64];
    snprintf(want, sizeof want, "needs at least ABI %d.%d", MLF_ABI_MAJOR, MLF_ABI_MINOR + 1);
    snprintf(have, sizeof have, "provides ABI %d.%d", MLF_ABI_MAJOR, MLF_ABI_MINOR);
    ck_assert(diag_has("newer_minor.la", "ABI mismatch", want, have, "MLF_PLUGIN_ABI_MINOR_MIN", NULL));
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 0);
    mlf_diag_clear(&errs);
    ck_assert_int_eq(load(TEST_PLUGINS, "future_layout"), 0);
}
END_TEST

/* A table whose elements are wider than this daemon's mlf_param_spec is read with its declared stride;
 * the registry hands out a copy in the daemon's layout. */
START_TEST(test_param_table_stride)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "future_layout"), 0);
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "future_op");
    ck_assert_ptr_nonnull(op);
    ck_assert_uint_eq(op->param_size, sizeof(mlf_param_spec));
    ck_assert_str_eq(op->params[0].name, "alpha");
    ck_assert_str_eq(op->params[1].name, "beta");
    ck_assert_str_eq(op->params[1].default_value, "7");
    ck_assert_int_eq(op->params[1].type, MLF_PARAM_INT);
    ck_assert_str_eq(op->params[2].name, "gamma");
    ck_assert_ptr_null(op->params[3].name);
    /* an element size below the ABI 1.0 layout is refused */
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    static const mlf_param_spec one[] = {{.name = "a", .type = MLF_PARAM_STR}, {0}};
    mlf_operator_desc d = {.struct_size = sizeof d, .name = "narrow", .params = one, .execute = op->execute,
                           .param_size = 8};
    ck_assert_int_eq(mlf_register_operator(reg, &d), MLF_EINVAL);
    ck_assert(strstr(mlf_registry_message(reg), "element size of 8") != NULL);
    mlf_registry_end(reg);
}
END_TEST

/* The registry reads an older plugin's descriptor only as far as its struct_size: later members are 0. */
START_TEST(test_old_descriptor_layout_reads_as_zero)
{
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    static const mlf_param_spec one[] = {{.name = "a", .type = MLF_PARAM_STR}, {0}};
    mlf_operator_desc d = {.struct_size = (uint32_t)(offsetof(mlf_operator_desc, data) + sizeof(void *)),
                           .name = "old_op", .params = one, .execute = NULL, .param_size = 12345};
    d.execute = (mlf_outcome(*)(mlf_task_ctx *, void *))1; /* never called */
    ck_assert_int_eq(mlf_register_operator(reg, &d), MLF_OK);
    ck_assert_int_eq(mlf_registry_commit(reg, &errs), MLF_OK);
    mlf_registry_end(reg);
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "old_op");
    ck_assert_ptr_ne(op, &d);
    ck_assert_uint_eq(op->struct_size, sizeof(mlf_operator_desc));
    ck_assert_str_eq(op->params[0].name, "a");
    ck_assert_ptr_null(op->settings); /* the ABI 1.2 members a 1.0 plugin never wrote */
    ck_assert_ptr_null(op->validate);
}
END_TEST

/* (ABI 1.2) An operator's settings table is normalized like params and checked; its names are not task keys. */
START_TEST(test_operator_settings_table)
{
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    static const mlf_param_spec one[] = {{.name = "a", .type = MLF_PARAM_STR}, {0}};
    static const mlf_param_spec settings[] = {{.name = "retries", .type = MLF_PARAM_INT, .default_value = "2"},
                                              {.name = "roots", .type = MLF_PARAM_LIST}, {0}};
    static const mlf_param_spec twice[] = {{.name = "x", .type = MLF_PARAM_INT}, {.name = "x", .type = MLF_PARAM_STR},
                                           {0}};
    mlf_outcome (*exec)(mlf_task_ctx *, void *) = (mlf_outcome(*)(mlf_task_ctx *, void *))1; /* never called */
    mlf_operator_desc d = {.struct_size = sizeof d, .name = "set_op", .params = one, .execute = exec,
                           .param_size = sizeof(mlf_param_spec), .settings = settings,
                           .settings_size = sizeof(mlf_param_spec)};
    ck_assert_int_eq(mlf_register_operator(reg, &d), MLF_OK);
    mlf_operator_desc bad = d;
    bad.name = "twice_op";
    bad.settings = twice;
    ck_assert_int_eq(mlf_register_operator(reg, &bad), MLF_EINVAL);
    ck_assert_str_eq(mlf_registry_message(reg), "operator 'twice_op' settings: parameter 'x' is declared twice");
    ck_assert_int_eq(mlf_registry_commit(reg, &errs), MLF_OK); /* the refused one is not staged */
    mlf_registry_end(reg);
    ck_assert_ptr_null(mlf_catalog_operator(cat, "twice_op"));
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat, "set_op"));

    const mlf_operator_desc *op = mlf_catalog_operator(cat, "set_op");
    ck_assert_ptr_ne(op->settings, settings); /* the daemon's normalized copy */
    ck_assert_uint_eq(op->settings_size, sizeof(mlf_param_spec));
    ck_assert_str_eq(op->settings[1].name, "roots");
    ck_assert_ptr_null(op->settings[2].name);
}
END_TEST

static int ex_open(const mlf_exec_open_args *a, void **inst, char *err, size_t errlen)
{
    (void)a, (void)inst, (void)err, (void)errlen;
    return MLF_OK;
}

/* An executor descriptor must give every required callback; its settings are not task keys. */
START_TEST(test_executor_registration)
{
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    static const mlf_param_spec params[] = {{.name = "retries", .type = MLF_PARAM_INT, .default_value = "1"}, {0}};
    mlf_executor_desc d = {.struct_size = sizeof d, .name = "half", .open = ex_open, .params = params,
                           .param_size = sizeof(mlf_param_spec)};
    ck_assert_int_eq(mlf_register_executor(reg, &d), MLF_EINVAL);
    ck_assert_str_eq(mlf_registry_message(reg), "executor 'half' has no can_accept callback");
    mlf_registry_end(reg);
}
END_TEST

START_TEST(test_init_failure_shows_plugin_message_and_registers_nothing)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "init_fail"), 1);
    ck_assert(diag_has("init_fail.la", "failed to initialise", "cannot reach the license server at 10.0.0.1:9", NULL));
    ck_assert_ptr_null(mlf_catalog_operator(cat, "half_registered"));
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 0);
}
END_TEST

START_TEST(test_duplicate_operator_names_both_files)
{
    const char *paths[] = {BUILTIN_PLUGINS, TEST_PLUGINS};
    const char *names[] = {"shell", "dup_shell"};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 2, names, 2, &errs), 1);
    ck_assert(diag_has(TEST_PLUGINS "/dup_shell.la", "operator 'shell' is already registered by plugin 'shell'",
                       BUILTIN_PLUGINS "/shell.la", NULL));
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 1);
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat, "shell"));
}
END_TEST

START_TEST(test_duplicate_plugin_name)
{
    const char *paths[] = {TEST_PLUGINS};
    const char *names[] = {"good", TEST_PLUGINS "/.libs/good.so"};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 1, names, 2, &errs), 1);
    ck_assert(diag_has("good.so", "a plugin named 'good' is already loaded from", "good.la", NULL));
}
END_TEST

START_TEST(test_bad_parameter_table_refused)
{
    ck_assert_int_eq(load(TEST_PLUGINS, "bad_param"), 1);
    ck_assert(diag_has("bad_param.la", "operator 'clashing': parameter 'retries' clashes with a core task key", NULL));
}
END_TEST

START_TEST(test_not_a_shared_object)
{
    char dir[] = "/tmp/mlf-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    chmod(dir, 0755);
    char *junk = mlf_strdup_printf("%s/junk.so", dir);
    FILE *f = fopen(junk, "w");
    fputs("this is not an ELF file\n", f);
    fclose(f);
    chmod(junk, 0644);
    ck_assert_int_eq(load(dir, "junk"), 1);
    ck_assert(diag_has(junk, "cannot load plugin:", NULL));
    unlink(junk);
    rmdir(dir);
    free(junk);
}
END_TEST

/* Copies the good plugin's shared object into a fresh folder with the given modes. */
static char *copy_good(char *dir, mode_t dir_mode, mode_t file_mode)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *dst = mlf_strdup_printf("%s/good.so", dir);
    FILE *in = fopen(TEST_PLUGINS "/.libs/good.so", "rb"), *out = fopen(dst, "wb");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    chmod(dst, file_mode);
    chmod(dir, dir_mode);
    return dst;
}

static void remove_copy(char *dir, char *file)
{
    chmod(dir, 0755);
    unlink(file);
    rmdir(dir);
    free(file);
}

START_TEST(test_refuses_group_writable_folder)
{
    char dir[] = "/tmp/mlf-test-XXXXXX";
    char *file = copy_good(dir, 0775, 0755);
    ck_assert_int_eq(load(dir, "good"), 1);
    ck_assert(diag_has("refusing plugin folder", dir, "writable by its group", "chmod go-w", NULL));
    ck_assert_uint_eq(mlf_catalog_plugin_count(cat), 0);
    remove_copy(dir, file);
}
END_TEST

START_TEST(test_refuses_world_writable_file)
{
    char dir[] = "/tmp/mlf-test-XXXXXX";
    char *file = copy_good(dir, 0755, 0666);
    ck_assert_int_eq(load(dir, "good"), 1);
    ck_assert(diag_has("refusing plugin file", file, "writable by others", NULL));
    remove_copy(dir, file);
}
END_TEST

START_TEST(test_safe_copy_loads)
{
    char dir[] = "/tmp/mlf-test-XXXXXX";
    char *file = copy_good(dir, 0755, 0755);
    ck_assert_int_eq(load(dir, "good"), 0);
    remove_copy(dir, file);
}
END_TEST

START_TEST(test_every_error_is_reported_and_good_ones_load)
{
    const char *paths[] = {TEST_PLUGINS};
    const char *names[] = {"no_entry", "bad_abi", "good", "init_fail", "missing"};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 1, names, 5, &errs), 4);
    ck_assert_uint_eq(errs.n, 4);
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat, "test_op"));
}
END_TEST

START_TEST(test_star_loads_a_whole_folder)
{
    const char *paths[] = {BUILTIN_PLUGINS};
    const char *names[] = {"*"};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 1, names, 1, &errs), 0);
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat, "shell"));
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat, "empty"));
    /* the test folder holds bad plugins too: all are reported, the good one still loads */
    mlf_catalog *cat2 = mlf_catalog_new();
    mlf_diag e2 = {0};
    const char *tpaths[] = {TEST_PLUGINS};
    int refused = mlf_plugins_load(cat2, tpaths, 1, names, 1, &e2);
    ck_assert_int_eq(refused, 5); /* no_entry, bad_abi, init_fail, bad_param, newer_minor; dup_shell loads alone */
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat2, "test_op"));
    mlf_diag_clear(&e2);
    mlf_catalog_free(cat2);
}
END_TEST

/* ---- registry validation, driven directly ---- */

static mlf_outcome noop(mlf_task_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return MLF_SUCCESS;
}

START_TEST(test_registry_rejects_malformed_descriptors)
{
    mlf_registry *reg = mlf_registry_begin(cat, NULL);
    mlf_operator_desc d = {.struct_size = sizeof d, .name = "ok_op", .execute = noop};
    ck_assert_int_eq(mlf_register_operator(reg, NULL), MLF_EINVAL);
    mlf_operator_desc small = d;
    small.struct_size = 8;
    ck_assert_int_eq(mlf_register_operator(reg, &small), MLF_EINVAL);
    mlf_operator_desc noexec = d;
    noexec.execute = NULL;
    ck_assert_int_eq(mlf_register_operator(reg, &noexec), MLF_EINVAL);
    mlf_operator_desc badname = d;
    badname.name = "has space";
    ck_assert_int_eq(mlf_register_operator(reg, &badname), MLF_EINVAL);
    static const mlf_param_spec dup[] = {{.name = "a", .type = MLF_PARAM_STR}, {.name = "a", .type = MLF_PARAM_INT}, {0}};
    mlf_operator_desc duppar = d;
    duppar.params = dup;
    ck_assert_int_eq(mlf_register_operator(reg, &duppar), MLF_EINVAL);
    static const mlf_param_spec noch[] = {{.name = "m", .type = MLF_PARAM_ENUM}, {0}};
    mlf_operator_desc nochoice = d;
    nochoice.params = noch;
    ck_assert_int_eq(mlf_register_operator(reg, &nochoice), MLF_EINVAL);
    static const mlf_param_spec sens[] = {{.name = "poke_interval", .type = MLF_PARAM_DURATION}, {0}};
    mlf_operator_desc sensor = d;
    sensor.flags = MLF_OP_SENSOR;
    sensor.params = sens;
    ck_assert_int_eq(mlf_register_operator(reg, &sensor), MLF_EINVAL);
    /* the first problem is kept as the plugin's message */
    ck_assert_str_eq(mlf_registry_message(reg), "operator descriptor is NULL");
    ck_assert_int_eq(mlf_register_operator(reg, &d), MLF_OK);
    ck_assert_int_eq(mlf_register_operator(reg, &d), MLF_EEXIST);
    mlf_macro_desc m = {.struct_size = sizeof m, .name = "mac", .min_args = 2, .max_args = 1, .call = NULL};
    ck_assert_int_eq(mlf_register_macro(reg, &m), MLF_EINVAL);
    ck_assert_int_eq(mlf_register_executor(reg, NULL), MLF_EINVAL);
    ck_assert_int_eq(mlf_registry_commit(reg, &errs), MLF_OK);
    /* after commit the registry is closed */
    ck_assert_int_eq(mlf_register_operator(reg, &d), MLF_ESTATE);
    mlf_registry_end(reg);
    ck_assert_ptr_nonnull(mlf_catalog_operator(cat, "ok_op"));
}
END_TEST

START_TEST(test_host_table_header)
{
    const struct mlf_host *h = mlf_host_table();
    ck_assert_uint_eq(h->abi_major, MLF_ABI_MAJOR);
    ck_assert_uint_eq(h->struct_size, sizeof(struct mlf_host));
    ck_assert_ptr_eq(h->mlf_strerror, mlf_strerror);
    ck_assert_ptr_eq(h->mlf_ctx_cancelled, mlf_ctx_cancelled);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_loader");
    TCase *tc = tcase_create("loader");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_plugin_registers_everything);
    tcase_add_test(tc, test_not_found_lists_searched_paths);
    tcase_add_test(tc, test_missing_path_file);
    tcase_add_test(tc, test_missing_entry_symbol);
    tcase_add_test(tc, test_abi_mismatch_names_both_versions);
    tcase_add_test(tc, test_newer_minor_needs_a_declaration);
    tcase_add_test(tc, test_param_table_stride);
    tcase_add_test(tc, test_old_descriptor_layout_reads_as_zero);
    tcase_add_test(tc, test_operator_settings_table);
    tcase_add_test(tc, test_executor_registration);
    tcase_add_test(tc, test_init_failure_shows_plugin_message_and_registers_nothing);
    tcase_add_test(tc, test_duplicate_operator_names_both_files);
    tcase_add_test(tc, test_duplicate_plugin_name);
    tcase_add_test(tc, test_bad_parameter_table_refused);
    tcase_add_test(tc, test_not_a_shared_object);
    tcase_add_test(tc, test_refuses_group_writable_folder);
    tcase_add_test(tc, test_refuses_world_writable_file);
    tcase_add_test(tc, test_safe_copy_loads);
    tcase_add_test(tc, test_every_error_is_reported_and_good_ones_load);
    tcase_add_test(tc, test_star_loads_a_whole_folder);
    tcase_add_test(tc, test_registry_rejects_malformed_descriptors);
    tcase_add_test(tc, test_host_table_header);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    (void)dump_diags;
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
