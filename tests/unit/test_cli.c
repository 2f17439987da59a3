/* Unit tests for the CLI (core/cli/), run in-process through mlf_cli_main so that every command's code
 * runs under the sanitizers of this build: argument parsing and its errors (exit 2 with a suggestion), the
 * helpers (dates, numbers), config, plugins, dags (list, show, test, trigger, state, pause, list-runs,
 * import errors), tasks (list, render, state, states-for-dag-run, clear, logs), connections, variables,
 * pools and db. Each test runs in its own forked process with a fresh home; stdout and stderr are captured. The
 * task processes the commands start run this program, which then acts as mlflowd. */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "testutil.h"

static char *dir, *dags;
static char *out, *err; /* the last command's output */

static void setup(void)
{
    dir = tu_tmpdir("cli");
    char *home = tu_path(dir, "home");
    dags = tu_path(dir, "dags");
    ck_assert_int_eq(mkdir(dags, 0755), 0);
    setenv("MLFLOWD_HOME", home, 1);
    setenv("MLFLOWD_DAGS_FOLDER", dags, 1);
    unsetenv("MLFLOWD_CONFIG");
    free(home);
    char *f = tu_path(dags, "etl.yaml");
    tu_write_file(f,
                  "dag_id: etl\n"
                  "schedule: \"@daily\"\n"
                  "start_date: 2024-01-01\n"
                  "tasks:\n"
                  "  extract: {operator: shell, command: \"echo got-{{ ds }}\"}\n"
                  "  load: {operator: shell, upstream: extract, command: \"echo {{ prev_ds }}..{{ next_ds }}\"}\n",
                  0644);
    free(f);
    out = err = NULL;
}

static void teardown(void)
{
    free(out);
    free(err);
    tu_rm_rf(dir);
    free(dir);
    free(dags);
}

/* Runs `mlflowd ARGS...` (NULL-terminated) in this process; returns its exit code, with stdout in `out` and
 * stderr in `err`. */
static int cli(const char *first, ...)
{
    char *argv[64] = {"mlflowd", (char *)first};
    int argc = 2;
    va_list ap;
    va_start(ap, first);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 63;)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    char *opath = tu_path(dir, "out"), *epath = tu_path(dir, "err");
    fflush(stdout);
    fflush(stderr);
    int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);
    int fo = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert(fo >= 0 && fe >= 0);
    dup2(fo, STDOUT_FILENO);
    dup2(fe, STDERR_FILENO);
    close(fo);
    close(fe);
    int rc = mlf_cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, STDOUT_FILENO);
    dup2(se, STDERR_FILENO);
    close(so);
    close(se);
    free(out);
    free(err);
    out = tu_read_file(opath, NULL);
    err = tu_read_file(epath, NULL);
    free(opath);
    free(epath);
    return rc;
}

#define HAS(text, what) ck_assert_msg(strstr((text), (what)) != NULL, "no '%s' in: %s", (what), (text))

START_TEST(test_usage_errors)
{
    ck_assert_int_eq(cli("--help", NULL), 0);
    HAS(out, "dags test");
    ck_assert_int_eq(cli("dgas", "list", NULL), 2);
    HAS(err, "did you mean 'dags'");
    ck_assert_int_eq(cli("dags", "lst", NULL), 2);
    HAS(err, "did you mean 'list'");
    ck_assert_int_eq(cli("dags", "list", "--bogus", NULL), 2);
    ck_assert_int_eq(cli("dags", "list", "-o", "xml", NULL), 2);
    ck_assert_int_eq(cli("dags", "state", "etl", NULL), 2); /* a missing argument */
    ck_assert_int_eq(cli("dags", "trigger", "etl", "--conf", "[1]", NULL), 2);
    HAS(err, "--conf must be a JSON object");
    ck_assert_int_eq(cli("dags", "trigger", "etl", "--logical-date", "yesterday-ish", NULL), 2);
    ck_assert_int_eq(cli("tasks", "list", "elt", NULL), 2);
    HAS(err, "etl");
    ck_assert_int_eq(cli("version", "-o", "json", NULL), 0);
    HAS(out, "\"abi\"");
}
END_TEST

START_TEST(test_helpers)
{
    mlf_time_us t = 0;
    ck_assert_int_eq(mlf_cli_parse_date("2024-02-29", &t), 0);
    ck_assert_int_eq(t, INT64_C(1709164800) * 1000000);
    ck_assert_int_eq(mlf_cli_parse_date("2024-02-29T12:30:00+02:00", &t), 0);
    ck_assert_int_eq(t, (INT64_C(1709164800) + 10 * 3600 + 1800) * 1000000);
    ck_assert_int_ne(mlf_cli_parse_date("2024-02-30", &t), 0);
    ck_assert_int_ne(mlf_cli_parse_date("", &t), 0);
    int n = 0;
    ck_assert_int_eq(mlf_cli_parse_int("--workers", "8", 1, 256, &n), 0);
    ck_assert_int_eq(n, 8);
    ck_assert_int_ne(mlf_cli_parse_int("--workers", "0", 1, 256, &n), 0);
    ck_assert_int_ne(mlf_cli_parse_int("--workers", "8x", 1, 256, &n), 0);
    ck_assert_int_ne(mlf_cli_parse_int("--workers", "99999999999999999999", 1, 256, &n), 0);
}
END_TEST

START_TEST(test_config_and_plugins)
{
    ck_assert_int_eq(cli("config", "get", "executor", NULL), 0);
    ck_assert_str_eq(out, "local\n");
    ck_assert_int_eq(cli("config", "get", "parallelism", NULL), 0);
    ck_assert_int_eq(cli("config", "get", "nosuch", NULL), 2);
    ck_assert_int_eq(cli("config", "list", "-o", "json", NULL), 0);
    HAS(out, "\"dags_folder\"");
    HAS(out, "\"source\": \"env\"");
    ck_assert_int_eq(cli("plugins", "list", NULL), 0);
    HAS(out, "operator shell");
    ck_assert_int_eq(cli("plugins", "list", "-o", "json", NULL), 0);
    HAS(out, "\"name\": \"empty\"");
}
END_TEST

START_TEST(test_dags_commands)
{
    ck_assert_int_eq(cli("dags", "list", NULL), 0);
    HAS(out, "etl");
    HAS(out, "@daily");
    ck_assert_int_eq(cli("dags", "show", "etl", NULL), 0);
    HAS(out, "extract");
    ck_assert_int_eq(cli("dags", "show", "etl", "--format", "dot", NULL), 0);
    HAS(out, "\"extract\" -> \"load\"");
    ck_assert_int_eq(cli("dags", "list-import-errors", NULL), 0);
    ck_assert_int_eq(cli("tasks", "list", "etl", "--tree", NULL), 0);
    HAS(out, "load");
    ck_assert_int_eq(cli("tasks", "render", "etl", "extract", "2024-03-05", "-o", "json", NULL), 0);
    HAS(out, "echo got-2024-03-05");

    /* a whole run in the foreground, then what it left in the store */
    ck_assert_int_eq(cli("dags", "test", "etl", "2024-03-05", NULL), 0);
    HAS(out, "success");
    ck_assert_int_eq(cli("dags", "list-runs", "etl", "-o", "json", NULL), 0);
    HAS(out, "\"run_id\": \"manual__2024-03-05T00:00:00+00:00\"");
    ck_assert_int_eq(cli("dags", "state", "etl", "manual__2024-03-05T00:00:00+00:00", NULL), 0);
    ck_assert_str_eq(out, "success\n");
    ck_assert_int_eq(cli("tasks", "state", "etl", "load", "manual__2024-03-05T00:00:00+00:00", NULL), 0);
    ck_assert_str_eq(out, "success\n");
    ck_assert_int_eq(cli("tasks", "states-for-dag-run", "etl", "manual__2024-03-05T00:00:00+00:00", "-o", "json",
                         NULL), 0);
    HAS(out, "\"task_id\": \"extract\"");
    ck_assert_int_eq(cli("tasks", "logs", "etl", "manual__2024-03-05T00:00:00+00:00", "extract", NULL), 0);
    HAS(out, "got-2024-03-05");
    ck_assert_int_eq(cli("tasks", "logs", "etl", "manual__2024-03-05T00:00:00+00:00", "load", NULL), 0);
    HAS(out, "2024-03-05..2024-03-05"); /* a hand-triggered run: prev_ds and next_ds are its own date */
    ck_assert_int_eq(cli("tasks", "clear", "etl", "-t", "^load$", NULL), 1); /* no terminal to confirm on */
    ck_assert_int_eq(cli("tasks", "clear", "etl", "-t", "^load$", "-y", NULL), 0);
    HAS(out, "Cleared 1 task instance");
    ck_assert_int_eq(cli("dags", "state", "etl", "manual__2024-03-05T00:00:00+00:00", NULL), 0);
    ck_assert_str_eq(out, "queued\n");
    ck_assert_int_eq(cli("dags", "state", "etl", "no-such-run", NULL), 2);

    ck_assert_int_eq(cli("dags", "trigger", "etl", "--run-id", "r1", "--conf", "{\"k\": 1}", NULL), 0);
    HAS(out, "etl/r1");
    ck_assert_int_eq(cli("dags", "trigger", "etl", "--run-id", "r1", NULL), 2); /* the id is taken */
    ck_assert_int_eq(cli("dags", "pause", "etl", NULL), 0);
    ck_assert_int_eq(cli("dags", "list", "-o", "json", NULL), 0);
    HAS(out, "\"is_paused\": true");
    ck_assert_int_eq(cli("dags", "unpause", "etl", NULL), 0);
    ck_assert_int_eq(cli("dags", "list", "-o", "json", NULL), 0);
    HAS(out, "\"is_paused\": false");
    ck_assert_int_eq(cli("db", "check", NULL), 0);
}
END_TEST

START_TEST(test_import_errors)
{
    char *f = tu_path(dags, "bad.yaml");
    tu_write_file(f, "dag_id: bad\ntasks:\n  a: {operator: shel}\n", 0644);
    free(f);
    ck_assert_int_eq(cli("dags", "list-import-errors", "-o", "json", NULL), 0);
    HAS(out, "bad.yaml");
    HAS(out, "did you mean 'shell'");
    ck_assert_int_eq(cli("dags", "test", "bad", NULL), 2);
    HAS(err, "DAG 'bad' does not load");
}
END_TEST

START_TEST(test_connections_variables_pools)
{
    ck_assert_int_eq(cli("connections", "add", "db", "--conn-type", "postgres", "--conn-host", "h", "--conn-login", "u",
                         "--conn-password", "s3cret", NULL), 0);
    ck_assert_int_eq(cli("connections", "get", "db", "-o", "json", NULL), 0);
    HAS(out, "\"host\": \"h\"");
    ck_assert_msg(strstr(out, "s3cret") == NULL, "the password was printed: %s", out);
    ck_assert_int_eq(cli("connections", "add", "db", "--conn-uri", "sqlite:///x", NULL), 2); /* exists */
    ck_assert_int_eq(cli("connections", "list", NULL), 0);
    HAS(out, "db");
    ck_assert_int_eq(cli("connections", "delete", "db", NULL), 0);
    ck_assert_int_ne(cli("connections", "get", "db", NULL), 0);

    ck_assert_int_eq(cli("variables", "set", "color", "blue", NULL), 0);
    ck_assert_int_eq(cli("variables", "get", "color", NULL), 0);
    ck_assert_str_eq(out, "blue\n");
    ck_assert_int_eq(cli("variables", "set", "api_password", "hunter2", NULL), 0);
    ck_assert_int_eq(cli("variables", "list", NULL), 0);
    HAS(out, "color");
    ck_assert_msg(strstr(out, "hunter2") == NULL, "a sensitive variable was printed: %s", out);
    ck_assert_int_eq(cli("variables", "get", "missing", "--default", "d", NULL), 0);
    ck_assert_str_eq(out, "d\n");
    ck_assert_int_ne(cli("variables", "get", "missing", NULL), 0);
    ck_assert_int_eq(cli("variables", "delete", "color", NULL), 0);
    ck_assert_int_ne(cli("variables", "get", "color", NULL), 0);

    ck_assert_int_eq(cli("pools", "set", "gpu", "2", "two cards", NULL), 0);
    ck_assert_int_eq(cli("pools", "list", "-o", "json", NULL), 0);
    HAS(out, "\"gpu\"");
    ck_assert_int_eq(cli("pools", "set", "gpu", "lots", NULL), 2);
    ck_assert_int_eq(cli("pools", "delete", "gpu", NULL), 0);
    ck_assert_int_eq(cli("pools", "list", NULL), 0);
    ck_assert_msg(strstr(out, "gpu") == NULL, "the pool was not deleted: %s", out);
}
END_TEST

int main(int argc, char **argv)
{
    /* The commands start task processes (and notifiers, task hosts) as "this program task-exec ...": as the
     * child, this program is mlflowd. */
    if (argc > 1)
        return mlf_cli_main(argc, argv);
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_helpers);
    tcase_add_test(tc, test_config_and_plugins);
    tcase_add_test(tc, test_dags_commands);
    tcase_add_test(tc, test_import_errors);
    tcase_add_test(tc, test_connections_variables_pools);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
