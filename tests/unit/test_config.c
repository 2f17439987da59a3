/* Unit tests for core/config.c: defaults, every source and its precedence, expansion, every bad input. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"
#include "base/strutil.h"
#include "testutil.h"

#define DATA TEST_SRCDIR "/tests/data/config"

static char tmpdir[64];

/* Each test runs in its own forked process (Check's default), with a fresh temporary $HOME. */
static void setup(void)
{
    strcpy(tmpdir, "/tmp/mlf-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    tu_rm_rf(tmpdir);
}

/* Loads with @p args (envp filled in when NULL there: HOME=tmpdir only) and expects success. */
static mlf_config *load_ok(mlf_config_args args)
{
    char home_var[96];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    const char *env[] = {home_var, NULL};
    if (!args.envp)
        args.envp = env;
    mlf_config *cfg = NULL;
    char *errors = NULL;
    int rc = mlf_config_load(&args, &cfg, &errors);
    ck_assert_msg(rc == MLF_OK, "load failed (%s): %s", mlf_strerror(rc), errors ? errors : "");
    ck_assert_ptr_null(errors);
    ck_assert_ptr_nonnull(cfg);
    return cfg;
}

/* Loads expecting failure with @p want; returns the error text (free it). */
static char *load_bad(mlf_config_args args, int want)
{
    char home_var[96];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    const char *env[] = {home_var, NULL};
    if (!args.envp)
        args.envp = env;
    mlf_config *cfg = (mlf_config *)1;
    char *errors = NULL;
    int rc = mlf_config_load(&args, &cfg, &errors);
    ck_assert_msg(rc == want, "got %d (%s), want %d: %s", rc, mlf_strerror(rc), want, errors ? errors : "");
    ck_assert_ptr_null(cfg);
    ck_assert_ptr_nonnull(errors);
    return errors;
}

static const char *list_at(const mlf_config *cfg, const char *key, size_t i)
{
    return mlf_value_get_str(mlf_array_at(mlf_config_get(cfg, key), i), NULL);
}

START_TEST(test_defaults_without_file)
{
    mlf_config *cfg = load_ok((mlf_config_args){0});
    char *home = mlf_strdup_printf("%s/.mlflowd", tmpdir);
    char *dags = mlf_strdup_printf("%s/dags", home);
    char *plugins = mlf_strdup_printf("%s/plugins", home);
    ck_assert_str_eq(mlf_config_home(cfg), home);
    ck_assert_str_eq(mlf_config_dags_folder(cfg), dags);
    ck_assert_ptr_null(mlf_config_file(cfg));
    size_t n = 0;
    const char *const *path = mlf_config_plugin_path(cfg, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(path[0], plugins);
    /* This test runs from the build tree, so the built-in plugins are the freshly built ones. */
    ck_assert_str_eq(path[1], MLF_BUILD_PLUGINDIR);
    ck_assert_str_eq(mlf_config_builtin_plugindir(), MLF_BUILD_PLUGINDIR);
    const char *const *load = mlf_config_plugin_load(cfg, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(load[0], "*");
    ck_assert(mlf_config_plugin_load_all(cfg));
    ck_assert_str_eq(mlf_config_str(cfg, "executor"), "local");
    ck_assert_int_eq(mlf_config_int(cfg, "parallelism"), 32);
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.bind"), "tcp://127.0.0.1:5555");
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.heartbeat"), "1s");
    ck_assert_int_eq(mlf_config_duration_us(cfg, "zmq.heartbeat"), 1000000);
    ck_assert_int_eq(mlf_config_duration_us(cfg, "scheduler.dag_dir_list_interval"), 30000000);
    ck_assert_int_eq(mlf_config_duration_us(cfg, "parallelism"), 0); /* not a duration */
    ck_assert_int_eq(mlf_config_duration_us(cfg, "nope"), 0);
    ck_assert_int_eq(mlf_config_int(cfg, "zmq.liveness"), 3);
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.curve.enabled"), "auto");
    ck_assert_int_eq(mlf_value_type(mlf_config_get(cfg, "zmq.curve.secret_key_file")), MLF_NIL);
    ck_assert_ptr_null(mlf_config_str(cfg, "zmq.curve.authorized_keys"));
    ck_assert_str_eq(mlf_config_str(cfg, "api.listen"), "127.0.0.1:8080");
    ck_assert_int_eq(mlf_config_int(cfg, "xcom.max_size"), 49152);
    ck_assert_str_eq(mlf_config_str(cfg, "logging.level"), "info");
    ck_assert_str_eq(mlf_config_str(cfg, "scheduler.dag_dir_list_interval"), "30s");
    ck_assert_int_eq(mlf_config_int(cfg, "core.default_pool_slots"), 128);
    for (size_t i = 0; i < mlf_config_key_count(); i++) {
        const char *key = mlf_config_key_at(i)->name;
        ck_assert_int_eq(mlf_config_source_of(cfg, key), MLF_CFG_FROM_DEFAULT);
        ck_assert_str_eq(mlf_config_origin(cfg, key), "default");
    }
    /* Unknown keys read as nothing. */
    ck_assert_ptr_null(mlf_config_get(cfg, "nope"));
    ck_assert_ptr_null(mlf_config_str(cfg, "parallelism")); /* not a string */
    ck_assert_int_eq(mlf_config_int(cfg, "executor"), 0);   /* not an int */
    ck_assert_ptr_null(mlf_config_origin(cfg, "nope"));
    ck_assert_int_eq(mlf_config_source_of(cfg, "nope"), MLF_CFG_FROM_DEFAULT);
    mlf_config_free(cfg);
    free(home);
    free(dags);
    free(plugins);
}
END_TEST

START_TEST(test_key_table)
{
    size_t n = mlf_config_key_count();
    ck_assert_uint_ge(n, 17);
    ck_assert_ptr_null(mlf_config_key_at(n));
    for (size_t i = 0; i < n; i++) {
        const mlf_config_key *k = mlf_config_key_at(i);
        ck_assert_ptr_eq(mlf_config_key_find(k->name), k); /* names are unique */
        ck_assert_msg(k->help && strlen(k->help) > 10, "%s has no help", k->name);
        ck_assert_str_ne(mlf_config_type_name(k->type), "?");
        ck_assert(k->type != MLF_CFG_ENUM || k->choices);
        ck_assert(k->type != MLF_CFG_INT || k->min <= k->max);
        ck_assert(k->def || k->nullable);
    }
    /* The user documentation lists every setting. */
    FILE *f = fopen(TEST_SRCDIR "/doc/configuration.md", "r");
    ck_assert_ptr_nonnull(f);
    static char doc[32768];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    for (size_t i = 0; i < n; i++) {
        char *row = mlf_strdup_printf("| `%s` |", mlf_config_key_at(i)->name);
        ck_assert_msg(strstr(doc, row), "doc/configuration.md does not document %s", mlf_config_key_at(i)->name);
        free(row);
    }
    ck_assert_ptr_null(mlf_config_key_find("plugin.path"));
    ck_assert_ptr_null(mlf_config_key_find(NULL));
    ck_assert_int_eq(mlf_config_key_find("plugins.path")->type, MLF_CFG_PATH_LIST);
    ck_assert_str_eq(mlf_config_source_name(MLF_CFG_FROM_DEFAULT), "default");
    ck_assert_str_eq(mlf_config_source_name(MLF_CFG_FROM_FILE), "file");
    ck_assert_str_eq(mlf_config_source_name(MLF_CFG_FROM_ENV), "env");
    ck_assert_str_eq(mlf_config_source_name(MLF_CFG_FROM_CLI), "cli");
}
END_TEST

START_TEST(test_file_values)
{
    mlf_config *cfg = load_ok((mlf_config_args){.config_file = DATA "/good.yaml"});
    ck_assert_str_eq(mlf_config_file(cfg), DATA "/good.yaml");
    ck_assert_str_eq(mlf_config_home(cfg), "/srv/mlflowd");
    ck_assert_str_eq(mlf_config_dags_folder(cfg), "/srv/mlflowd/my-dags");
    size_t n = 0;
    const char *const *path = mlf_config_plugin_path(cfg, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(path[0], "/srv/mlflowd/plugins");
    ck_assert_str_eq(path[1], "/opt/mlflowd/plugins");
    ck_assert_str_eq(path[2], MLF_BUILD_PLUGINDIR);
    const char *const *load = mlf_config_plugin_load(cfg, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(load[0], "shell");
    ck_assert_str_eq(load[1], "empty");
    ck_assert(!mlf_config_plugin_load_all(cfg));
    ck_assert_str_eq(mlf_config_str(cfg, "executor"), "zmq");
    ck_assert_int_eq(mlf_config_int(cfg, "parallelism"), 64);
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.bind"), "ipc:///srv/mlflowd/workers.sock");
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.heartbeat"), "2s");
    ck_assert_int_eq(mlf_config_int(cfg, "zmq.liveness"), 5);
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.curve.enabled"), "true"); /* a YAML bool is the choice "true" */
    char *key = mlf_strdup_printf("%s/keys/server.key", tmpdir);      /* "~" is $HOME in paths */
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.curve.secret_key_file"), key);
    free(key);
    ck_assert_str_eq(mlf_config_str(cfg, "api.listen"), "0.0.0.0:9090");
    ck_assert_int_eq(mlf_config_int(cfg, "xcom.max_size"), 65536);
    ck_assert_str_eq(mlf_config_str(cfg, "logging.level"), "debug"); /* choices ignore case */
    ck_assert_str_eq(mlf_config_str(cfg, "scheduler.dag_dir_list_interval"), "1m30s");
    ck_assert_int_eq(mlf_config_duration_us(cfg, "scheduler.dag_dir_list_interval"), 90000000);
    ck_assert_int_eq(mlf_config_duration_us(cfg, "zmq.heartbeat"), 2000000);
    ck_assert_int_eq(mlf_config_int(cfg, "core.default_pool_slots"), 16);
    ck_assert_int_eq(mlf_config_source_of(cfg, "executor"), MLF_CFG_FROM_FILE);
    ck_assert_str_eq(mlf_config_origin(cfg, "executor"), DATA "/good.yaml:7:11");
    ck_assert_str_eq(mlf_config_origin(cfg, "zmq.curve.enabled"), DATA "/good.yaml:14:14");
    ck_assert_int_eq(mlf_config_source_of(cfg, "zmq.curve.authorized_keys"), MLF_CFG_FROM_DEFAULT);
    mlf_config_free(cfg);
}
END_TEST

START_TEST(test_precedence_file_env_cli)
{
    char home_var[96];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    /* file < env */
    const char *env[] = {home_var, "MLFLOWD__EXECUTOR=sequential", "MLFLOWD_HOME=/env/home",
                         "MLFLOWD__ZMQ__CURVE__ENABLED=FALSE", "MLFLOWD__PLUGINS__LOAD= a , b,,c ",
                         "MLFLOWD__ZMQ__LIVENESS=7", "MLFLOWD__ZMQ__CURVE__SECRET_KEY_FILE=",
                         "MLFLOWD_LOG_LEVEL=debug", /* not a MLFLOWD__ setting: ignored */
                         "OTHER=1", NULL};
    mlf_config *cfg = load_ok((mlf_config_args){.config_file = DATA "/good.yaml", .envp = env});
    ck_assert_str_eq(mlf_config_str(cfg, "executor"), "sequential");
    ck_assert_int_eq(mlf_config_source_of(cfg, "executor"), MLF_CFG_FROM_ENV);
    ck_assert_str_eq(mlf_config_origin(cfg, "executor"), "MLFLOWD__EXECUTOR");
    ck_assert_str_eq(mlf_config_home(cfg), "/env/home");
    ck_assert_str_eq(mlf_config_origin(cfg, "home"), "MLFLOWD_HOME");
    ck_assert_str_eq(mlf_config_dags_folder(cfg), "/env/home/my-dags"); /* {home} is the final home */
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.curve.enabled"), "false");
    ck_assert_int_eq(mlf_config_int(cfg, "zmq.liveness"), 7);
    ck_assert_int_eq(mlf_value_type(mlf_config_get(cfg, "zmq.curve.secret_key_file")), MLF_NIL);
    size_t n = 0;
    const char *const *load = mlf_config_plugin_load(cfg, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(load[0], "a");
    ck_assert_str_eq(load[1], "b");
    ck_assert_str_eq(load[2], "c");
    ck_assert_int_eq(mlf_config_int(cfg, "parallelism"), 64); /* the file still counts where env is silent */
    mlf_config_free(cfg);
    /* env < cli */
    const char *env2[] = {home_var, "MLFLOWD__HOME=/env/home", "MLFLOWD_DAGS_FOLDER=/env/dags", NULL};
    cfg = load_ok((mlf_config_args){.config_file = DATA "/good.yaml", .envp = env2, .home = "/cli/home"});
    ck_assert_str_eq(mlf_config_home(cfg), "/cli/home");
    ck_assert_int_eq(mlf_config_source_of(cfg, "home"), MLF_CFG_FROM_CLI);
    ck_assert_str_eq(mlf_config_origin(cfg, "home"), "--home");
    ck_assert_str_eq(mlf_config_dags_folder(cfg), "/env/dags");
    ck_assert_str_eq(mlf_config_origin(cfg, "dags_folder"), "MLFLOWD_DAGS_FOLDER");
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.bind"), "ipc:///cli/home/workers.sock");
    mlf_config_free(cfg);
    cfg = load_ok((mlf_config_args){.envp = env2, .dags_folder = "{home}/cli-dags"});
    ck_assert_str_eq(mlf_config_dags_folder(cfg), "/env/home/cli-dags");
    ck_assert_str_eq(mlf_config_origin(cfg, "dags_folder"), "--dags-folder");
    mlf_config_free(cfg);
}
END_TEST

START_TEST(test_file_found_in_home)
{
    char *home = mlf_strdup_printf("%s/h", tmpdir);
    ck_assert_int_eq(mkdir(home, 0700), 0);
    char *file = mlf_strdup_printf("%s/mlflowd.yaml", home);
    tu_write_file(file, "executor: from-home\nzmq:\n  bind: \"ipc://{home}/s\"\n", 0644);
    char home_var[96], mlf_home_var[128];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    snprintf(mlf_home_var, sizeof mlf_home_var, "MLFLOWD_HOME=%s", home);
    const char *env[] = {home_var, mlf_home_var, NULL};
    mlf_config *cfg = load_ok((mlf_config_args){.envp = env});
    ck_assert_str_eq(mlf_config_file(cfg), file);
    ck_assert_str_eq(mlf_config_str(cfg, "executor"), "from-home");
    char *sock = mlf_strdup_printf("ipc://%s/s", home);
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.bind"), sock);
    mlf_config_free(cfg);
    /* --home finds the file the same way. */
    const char *env2[] = {home_var, NULL};
    cfg = load_ok((mlf_config_args){.envp = env2, .home = home});
    ck_assert_str_eq(mlf_config_file(cfg), file);
    mlf_config_free(cfg);
    /* And the default home, ~/.mlflowd. */
    char *dot = mlf_strdup_printf("%s/.mlflowd", tmpdir);
    ck_assert_int_eq(mkdir(dot, 0700), 0);
    char *dot_file = mlf_strdup_printf("%s/mlflowd.yaml", dot);
    tu_write_file(dot_file, "executor: from-default-home\n", 0644);
    cfg = load_ok((mlf_config_args){.envp = env2});
    ck_assert_str_eq(mlf_config_file(cfg), dot_file);
    ck_assert_str_eq(mlf_config_str(cfg, "executor"), "from-default-home");
    mlf_config_free(cfg);
    /* MLFLOWD_CONFIG names another file. */
    char cfg_var[128];
    snprintf(cfg_var, sizeof cfg_var, "MLFLOWD_CONFIG=%s", file);
    const char *env3[] = {home_var, cfg_var, NULL};
    cfg = load_ok((mlf_config_args){.envp = env3});
    ck_assert_str_eq(mlf_config_file(cfg), file);
    mlf_config_free(cfg);
    free(home);
    free(file);
    free(sock);
    free(dot);
    free(dot_file);
}
END_TEST

START_TEST(test_durations_in_file)
{
    /* A bare number is seconds (as in DAG files); ISO 8601 works too. */
    char *file = mlf_strdup_printf("%s/c.yaml", tmpdir);
    tu_write_file(file, "zmq.heartbeat: 0.5\nscheduler:\n  dag_dir_list_interval: PT2M\n", 0644);
    mlf_config *cfg = load_ok((mlf_config_args){.config_file = file});
    ck_assert_int_eq(mlf_config_duration_us(cfg, "zmq.heartbeat"), 500000);
    ck_assert_int_eq(mlf_config_duration_us(cfg, "scheduler.dag_dir_list_interval"), 120000000);
    mlf_config_free(cfg);
    tu_write_file(file, "zmq.heartbeat: 0\nscheduler.dag_dir_list_interval: [30s]\n", 0644);
    char *err = load_bad((mlf_config_args){.config_file = file}, MLF_EINVAL);
    char *want = mlf_strdup_printf("%s:1:16: zmq.heartbeat: 0s is less than the minimum of 10ms\n"
                                   "%s:2:34: scheduler.dag_dir_list_interval: expected a duration such as 30s, 5m "
                                   "or 1h30m, got list\n",
                                   file, file);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    free(file);
}
END_TEST

/* executors.NAME.KEY settings are kept as YAML text with their origin, for the executor plugins to check
 * (plugin/executors.c); the environment wins over the file; a section that is not a mapping is an error. */
START_TEST(test_executor_settings)
{
    char *file = mlf_strdup_printf("%s/x.yaml", tmpdir);
    tu_write_file(file, "executor: local\nexecutors:\n  local:\n    parallelism: 4\n    kill_grace: 2s\n"
                        "  batch: {label: \"a b\", refuse: [gpu, tpu]}\nexecutors.zmq.extra: 1\n", 0644);
    char env_file[600];
    snprintf(env_file, sizeof env_file, "MLFLOWD_CONFIG=%s", file);
    const char *env[] = {env_file, "MLFLOWD__EXECUTORS__LOCAL__KILL_GRACE=9s", NULL};
    mlf_config *cfg = load_ok((mlf_config_args){.envp = env});
    ck_assert_uint_eq(mlf_config_executor_setting_count(cfg), 5);
    const char *name, *text, *origin;
    char *want_origin = mlf_strdup_printf("%s:4:18", file);
    ck_assert_int_eq(mlf_config_executor_setting_at(cfg, 0, &name, &text, &origin), MLF_OK);
    ck_assert_str_eq(name, "executors.local.parallelism");
    ck_assert_str_eq(text, "4");
    ck_assert_str_eq(origin, want_origin);
    ck_assert_int_eq(mlf_config_executor_setting_at(cfg, 1, &name, &text, &origin), MLF_OK);
    ck_assert_str_eq(name, "executors.local.kill_grace");
    ck_assert_str_eq(text, "9s"); /* the environment wins */
    ck_assert_str_eq(origin, "MLFLOWD__EXECUTORS__LOCAL__KILL_GRACE");
    ck_assert_int_eq(mlf_config_executor_setting_at(cfg, 2, &name, &text, &origin), MLF_OK);
    ck_assert_str_eq(name, "executors.batch.label");
    ck_assert_str_eq(text, "a b");
    ck_assert_int_eq(mlf_config_executor_setting_at(cfg, 3, &name, &text, &origin), MLF_OK);
    ck_assert_str_eq(name, "executors.batch.refuse");
    ck_assert_str_eq(text, "[\"gpu\",\"tpu\"]"); /* a sequence as JSON, which is YAML */
    ck_assert_int_eq(mlf_config_executor_setting_at(cfg, 4, &name, &text, &origin), MLF_OK);
    ck_assert_str_eq(name, "executors.zmq.extra");
    ck_assert_int_eq(mlf_config_executor_setting_at(cfg, 5, &name, &text, &origin), MLF_ENOTFOUND);
    mlf_config_free(cfg);
    free(want_origin);

    tu_write_file(file, "executors: 3\nexecutors.local: [1]\n", 0644);
    char *err = load_bad((mlf_config_args){.config_file = file}, MLF_EINVAL);
    char *want = mlf_strdup_printf("%s:1:12: executors: expected a mapping of executor names to their settings, "
                                   "got int\n%s:2:18: executors.local: expected a mapping of settings, got list\n",
                                   file, file);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    free(file);
}
END_TEST

START_TEST(test_nul_characters_and_nulls)
{
    char *file = mlf_strdup_printf("%s/c.yaml", tmpdir);
    tu_write_file(file, "executor: \"loc\\0al\"\nplugins.load: [\"a\\0b\"]\nzmq.curve.enabled: ~\n", 0644);
    char *err = load_bad((mlf_config_args){.config_file = file}, MLF_EINVAL);
    char *want = mlf_strdup_printf("%s:1:11: executor: expected a string, got a string with a NUL character\n"
                                   "%s:2:16: plugins.load[0]: expected a non-empty string, got a string with a NUL "
                                   "character\n"
                                   "%s:3:20: zmq.curve.enabled: expected one of auto, true, false, got null\n",
                                   file, file, file);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    /* Settings that may be null take null from the file. */
    tu_write_file(file, "zmq.curve:\n  secret_key_file: /k\n  authorized_keys: ~\n", 0644);
    mlf_config *cfg = load_ok((mlf_config_args){.config_file = file});
    ck_assert_str_eq(mlf_config_str(cfg, "zmq.curve.secret_key_file"), "/k");
    ck_assert_int_eq(mlf_value_type(mlf_config_get(cfg, "zmq.curve.authorized_keys")), MLF_NIL);
    ck_assert_int_eq(mlf_config_source_of(cfg, "zmq.curve.authorized_keys"), MLF_CFG_FROM_FILE);
    mlf_config_free(cfg);
    free(file);
}
END_TEST

START_TEST(test_empty_file_is_fine)
{
    mlf_config *cfg = load_ok((mlf_config_args){.config_file = DATA "/empty.yaml"});
    ck_assert_str_eq(mlf_config_file(cfg), DATA "/empty.yaml");
    ck_assert_str_eq(mlf_config_str(cfg, "executor"), "local");
    mlf_config_free(cfg);
    /* Sections left empty (all their keys commented out) are fine too. */
    char *file = mlf_strdup_printf("%s/c.yaml", tmpdir);
    tu_write_file(file, "zmq:\n  # bind: x\nlogging: {}\n", 0644);
    cfg = load_ok((mlf_config_args){.config_file = file});
    mlf_config_free(cfg);
    free(file);
}
END_TEST

START_TEST(test_home_tilde_and_placeholders)
{
    char *file = mlf_strdup_printf("%s/c.yaml", tmpdir);
    tu_write_file(file, "home: ~/state\nplugins.path: [\"~\", \"{home}/p\", \"x/{home}/{plugindir}/{other}\"]\n"
                     "api.listen: \"~/not-a-path\"\n", 0644);
    mlf_config *cfg = load_ok((mlf_config_args){.config_file = file});
    char *home = mlf_strdup_printf("%s/state", tmpdir);
    ck_assert_str_eq(mlf_config_home(cfg), home);
    ck_assert_str_eq(list_at(cfg, "plugins.path", 0), tmpdir);
    char *p = mlf_strdup_printf("%s/p", home);
    ck_assert_str_eq(list_at(cfg, "plugins.path", 1), p);
    char *x = mlf_strdup_printf("x/%s/%s/{other}", home, MLF_BUILD_PLUGINDIR);
    ck_assert_str_eq(list_at(cfg, "plugins.path", 2), x);
    ck_assert_str_eq(mlf_config_str(cfg, "api.listen"), "~/not-a-path"); /* "~" expands in paths only */
    mlf_config_free(cfg);
    free(home);
    free(p);
    free(x);
    free(file);
}
END_TEST

START_TEST(test_home_cannot_use_home)
{
    char *err = load_bad((mlf_config_args){.home = "{home}/x"}, MLF_EINVAL);
    ck_assert_str_eq(err, "--home: home: cannot refer to {home}\n");
    free(err);
    err = load_bad((mlf_config_args){.home = ""}, MLF_EINVAL);
    ck_assert_str_eq(err, "--home: expected a string, got an empty string\n");
    free(err);
}
END_TEST

START_TEST(test_no_user_home)
{
    /* Without $HOME the password database names the home directory (a file is named so that the real
     * ~/.mlflowd/mlflowd.yaml is never read); without an entry there, "~" cannot expand. */
    const char *env[] = {"MLFLOWD_CONFIG=" DATA "/empty.yaml", NULL};
    mlf_config *cfg = NULL;
    char *errors = NULL;
    mlf_config_args args = {.envp = env};
    int rc = mlf_config_load(&args, &cfg, &errors);
    if (rc == MLF_OK) {
        ck_assert(mlf_str_endswith(mlf_config_home(cfg), "/.mlflowd"));
        ck_assert_str_ne(mlf_config_home(cfg), "/.mlflowd");
        mlf_config_free(cfg);
    } else {
        ck_assert_int_eq(rc, MLF_EINVAL);
        ck_assert_str_eq(errors, "default: home: cannot expand '~': HOME is not set\n");
        free(errors);
    }
}
END_TEST

START_TEST(test_errors_all_reported_with_positions)
{
    char *err = load_bad((mlf_config_args){.config_file = DATA "/errors.yaml"}, MLF_EINVAL);
    const char *f = DATA "/errors.yaml";
    char *want = mlf_strdup_printf(
        "%s:2:3: unknown setting 'plugin.path' (did you mean 'plugins.path'?)\n"
        "%s:3:1: unknown setting 'exector' (did you mean 'executor'?)\n"
        "%s:5:3: unknown setting 'zmq.bnd' (did you mean 'zmq.bind'?)\n"
        "%s:6:13: zmq.liveness: expected an integer, got string\n"
        "%s:7:1: unknown setting 'totally_unknown'\n"
        "%s:8:14: parallelism: 0 is out of range [1, 1000000]\n"
        "%s:10:9: plugins.path: expected a list of strings, got int\n"
        "%s:12:18: logging.level: expected one of debug, info, warning, error, got 'loud'\n"
        "%s:14:26: scheduler.dag_dir_list_interval: duration \"30 seconds\": unknown unit \"seconds\" (valid "
        "units: us, ms, s, m, h, d, w)\n"
        "%s:15:6: api: expected a mapping of settings, got int\n"
        "%s:11:9: plugins.load: \"*\" (every plugin) cannot be combined with names\n",
        f, f, f, f, f, f, f, f, f, f, f);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
}
END_TEST

START_TEST(test_list_items_checked)
{
    char *err = load_bad((mlf_config_args){.config_file = DATA "/bad_items.yaml"}, MLF_EINVAL);
    const char *f = DATA "/bad_items.yaml";
    char *want = mlf_strdup_printf("%s:4:7: plugins.path[1]: expected a non-empty string, got int\n"
                                   "%s:5:7: plugins.path[2]: expected a non-empty string, got list\n"
                                   "%s:6:7: plugins.path[3]: expected a non-empty string, got an empty string\n"
                                   "%s:7:9: plugins.load: expected a list of strings, got string\n",
                                   f, f, f, f);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
}
END_TEST

START_TEST(test_set_twice)
{
    char *err = load_bad((mlf_config_args){.config_file = DATA "/twice.yaml"}, MLF_EINVAL);
    char *want = mlf_strdup_printf("%s:3:1: zmq.bind is set twice (first at 2:3)\n", DATA "/twice.yaml");
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    /* A bad first setting still counts as the first. */
    char *file = mlf_strdup_printf("%s/c.yaml", tmpdir);
    tu_write_file(file, "core:\n  default_pool_slots: x\ncore.default_pool_slots: 3\n", 0644);
    err = load_bad((mlf_config_args){.config_file = file}, MLF_EINVAL);
    want = mlf_strdup_printf("%s:2:23: core.default_pool_slots: expected an integer, got string\n"
                             "%s:3:1: core.default_pool_slots is set twice (first at 2:3)\n",
                             file, file);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    free(file);
}
END_TEST

START_TEST(test_yaml_errors)
{
    char *err = load_bad((mlf_config_args){.config_file = DATA "/syntax.yaml"}, MLF_EPARSE);
    char *prefix = mlf_strdup_printf("%s:4:", DATA "/syntax.yaml");
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "%s", err);
    ck_assert_msg(strstr(err, "while parsing a flow sequence at 3:9"), "%s", err);
    free(prefix);
    free(err);
    err = load_bad((mlf_config_args){.config_file = DATA "/list_root.yaml"}, MLF_EINVAL);
    char *want = mlf_strdup_printf("%s:1:1: expected a mapping of settings, got list\n", DATA "/list_root.yaml");
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    /* Wrong scalar types and tags in the file. */
    char *file = mlf_strdup_printf("%s/c.yaml", tmpdir);
    tu_write_file(file, "executor: 5\nparallelism: !!int x\nhome: null\nzmq.heartbeat: true\n"
                     "xcom.max_size: 99999999999999999999\ndags_folder: [a]\n", 0644);
    err = load_bad((mlf_config_args){.config_file = file}, MLF_EINVAL);
    want = mlf_strdup_printf("%s:1:11: executor: expected a string, got int\n"
                             "%s:2:14: 'x' is not a valid !!int\n"
                             "%s:3:7: home: expected a string, got null\n"
                             "%s:4:16: zmq.heartbeat: expected a duration such as 30s, 5m or 1h30m, got bool\n"
                             "%s:5:16: integer 99999999999999999999 is out of range\n"
                             "%s:6:14: dags_folder: expected a string, got list\n",
                             file, file, file, file, file, file);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    free(file);
}
END_TEST

START_TEST(test_missing_files)
{
    char *err = load_bad((mlf_config_args){.config_file = DATA "/missing.yaml"}, ENOENT);
    ck_assert_str_eq(err, DATA "/missing.yaml: cannot open: No such file or directory\n");
    free(err);
    char home_var[96];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    const char *env[] = {home_var, "MLFLOWD_CONFIG=/nonexistent/mlflowd.yaml", NULL};
    err = load_bad((mlf_config_args){.envp = env}, ENOENT);
    ck_assert_str_eq(err, "/nonexistent/mlflowd.yaml: cannot open: No such file or directory\n");
    free(err);
}
END_TEST

START_TEST(test_env_errors)
{
    char home_var[96];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    const char *env[] = {home_var,
                         "MLFLOWD__PLUGIN__PATH=/x",
                         "MLFLOWD__NOTHING_LIKE_IT=1",
                         "MLFLOWD__PARALLELISM=12x",
                         "MLFLOWD__ZMQ__LIVENESS=99999999999999999999999",
                         "MLFLOWD__ZMQ__CURVE__ENABLED=maybe",
                         "MLFLOWD__EXECUTOR=",
                         "MLFLOWD__ZMQ__HEARTBEAT=-1s",
                         "MLFLOWD__SCHEDULER__DAG_DIR_LIST_INTERVAL=500ms",
                         "MLFLOWD_HOME=/a",
                         "MLFLOWD__HOME=/b",
                         NULL};
    char *err = load_bad((mlf_config_args){.envp = env}, MLF_EINVAL);
    ck_assert_str_eq(err, "MLFLOWD__PLUGIN__PATH: unknown setting 'plugin.path' (did you mean "
                          "MLFLOWD__PLUGINS__PATH?)\n"
                          "MLFLOWD__NOTHING_LIKE_IT: unknown setting 'nothing_like_it'\n"
                          "MLFLOWD__PARALLELISM: parallelism: expected an integer, got '12x'\n"
                          "MLFLOWD__ZMQ__LIVENESS: zmq.liveness: 99999999999999999999999 is out of range [1, 1000]\n"
                          "MLFLOWD__ZMQ__CURVE__ENABLED: zmq.curve.enabled: expected one of auto, true, false, "
                          "got 'maybe'\n"
                          "MLFLOWD__EXECUTOR: executor: expected a string, got an empty string\n"
                          "MLFLOWD__ZMQ__HEARTBEAT: zmq.heartbeat: duration \"-1s\" is negative; durations must "
                          "be zero or more\n"
                          "MLFLOWD__SCHEDULER__DAG_DIR_LIST_INTERVAL: scheduler.dag_dir_list_interval: 500ms is "
                          "less than the minimum of 1s\n"
                          "MLFLOWD__HOME: disagrees with MLFLOWD_HOME (set only one)\n");
    free(err);
    /* Equal values in both spellings are fine. */
    const char *env2[] = {home_var, "MLFLOWD_HOME=/a", "MLFLOWD__HOME=/a", NULL};
    mlf_config *cfg = load_ok((mlf_config_args){.envp = env2});
    ck_assert_str_eq(mlf_config_home(cfg), "/a");
    mlf_config_free(cfg);
}
END_TEST

START_TEST(test_file_and_env_errors_together)
{
    char home_var[96];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    const char *env[] = {home_var, "MLFLOWD__EXECTOR=zmq", NULL};
    char *err = load_bad((mlf_config_args){.config_file = DATA "/twice.yaml", .envp = env, .dags_folder = ""},
                         MLF_EINVAL);
    char *want = mlf_strdup_printf("%s:3:1: zmq.bind is set twice (first at 2:3)\n"
                                   "MLFLOWD__EXECTOR: unknown setting 'exector' (did you mean MLFLOWD__EXECUTOR?)\n"
                                   "--dags-folder: expected a string, got an empty string\n",
                                   DATA "/twice.yaml");
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
}
END_TEST

START_TEST(test_star_alone)
{
    char home_var[96];
    snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
    const char *env[] = {home_var, "MLFLOWD__PLUGINS__LOAD=shell,*", NULL};
    char *err = load_bad((mlf_config_args){.envp = env}, MLF_EINVAL);
    ck_assert_str_eq(err, "MLFLOWD__PLUGINS__LOAD: plugins.load: \"*\" (every plugin) cannot be combined with names\n");
    free(err);
    /* An empty list loads nothing. */
    const char *env2[] = {home_var, "MLFLOWD__PLUGINS__LOAD=", NULL};
    mlf_config *cfg = load_ok((mlf_config_args){.envp = env2});
    size_t n = 9;
    mlf_config_plugin_load(cfg, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert(!mlf_config_plugin_load_all(cfg));
    mlf_config_free(cfg);
}
END_TEST

START_TEST(test_null_arguments)
{
    ck_assert_int_eq(mlf_config_load(NULL, NULL, NULL), MLF_EINVAL);
    /* NULL args: the process environment; a HOME of our own keeps the test hermetic. */
    ck_assert_int_eq(setenv("HOME", tmpdir, 1), 0);
    unsetenv("MLFLOWD_HOME");
    unsetenv("MLFLOWD_CONFIG");
    mlf_config *cfg = NULL;
    ck_assert_int_eq(mlf_config_load(NULL, &cfg, NULL), MLF_OK);
    char *home = mlf_strdup_printf("%s/.mlflowd", tmpdir);
    ck_assert_str_eq(mlf_config_home(cfg), home);
    free(home);
    mlf_config_free(cfg);
    mlf_config_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults_without_file);
    tcase_add_test(tc, test_key_table);
    tcase_add_test(tc, test_file_values);
    tcase_add_test(tc, test_precedence_file_env_cli);
    tcase_add_test(tc, test_file_found_in_home);
    tcase_add_test(tc, test_durations_in_file);
    tcase_add_test(tc, test_nul_characters_and_nulls);
    tcase_add_test(tc, test_executor_settings);
    tcase_add_test(tc, test_empty_file_is_fine);
    tcase_add_test(tc, test_home_tilde_and_placeholders);
    tcase_add_test(tc, test_home_cannot_use_home);
    tcase_add_test(tc, test_no_user_home);
    tcase_add_test(tc, test_errors_all_reported_with_positions);
    tcase_add_test(tc, test_list_items_checked);
    tcase_add_test(tc, test_set_twice);
    tcase_add_test(tc, test_yaml_errors);
    tcase_add_test(tc, test_missing_files);
    tcase_add_test(tc, test_env_errors);
    tcase_add_test(tc, test_file_and_env_errors_together);
    tcase_add_test(tc, test_star_alone);
    tcase_add_test(tc, test_null_arguments);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
