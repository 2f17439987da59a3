/* Unit tests for core/sched/notify.c: a callback's notifier runs in a child process (`mlflowd notify`) that
 * gets the plugin, the notifier's name, its configuration and the event on its stdin; the child's exit status
 * says whether the notifier succeeded, its stderr why not. mlf_notify_main (the child's side) is also run
 * in-process on good and bad frames. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/task_spec.h"
#include "sched/notify.h"
#include "value/value_json.h"
#include "testutil.h"

#define EXE TEST_BUILDDIR "/mlflowd"
#define GOOD_PLUGIN TEST_BUILDDIR "/tests/plugins/good.la"

static char *dir;

static void setup(void)
{
    dir = tu_tmpdir("notify");
}

static void teardown(void)
{
    tu_rm_rf(dir);
    free(dir);
}

static mlf_value *json(const char *text)
{
    mlf_value *v = NULL;
    char err[128];
    ck_assert_msg(mlf_value_from_json(text, strlen(text), &v, err, sizeof err) == MLF_OK, "%s", err);
    return v;
}

/* Spawns the notifier with its stderr in DIR/stderr; waits for it (bounded); returns its wait status. */
static int spawn_and_wait(const char *notifier, const char *config_json, char **stderr_text)
{
    char *errpath = tu_path(dir, "stderr");
    int saved = dup(STDERR_FILENO);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDERR_FILENO); /* the child inherits it */
    close(fd);
    mlf_value *config = json(config_json);
    mlf_value *event = json("{\"dag_id\": \"d\", \"task_id\": \"t\", \"state\": \"failed\", \"try_number\": 2}");
    pid_t pid = 0;
    int rc = mlf_notify_spawn(EXE, GOOD_PLUGIN, notifier, config, event, &pid);
    dup2(saved, STDERR_FILENO);
    close(saved);
    mlf_value_free(config);
    mlf_value_free(event);
    ck_assert_int_eq(rc, MLF_OK);
    ck_assert_int_gt(pid, 0);
    int status = -1;
    for (long waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 10) {
        ck_assert_msg(waited < tu_bound_ms(10000), "the notifier process did not finish");
        usleep(10000);
    }
    *stderr_text = tu_read_file(errpath, NULL);
    free(errpath);
    return status;
}

START_TEST(test_spawned_notifier_records_the_event)
{
    char *out = tu_path(dir, "events");
    char config[512];
    snprintf(config, sizeof config, "{\"path\": \"%s\"}", out);
    char *err = NULL;
    int status = spawn_and_wait("record", config, &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d, stderr: %s", status, err);
    char *text = tu_read_file(out, NULL);
    mlf_value *ev = NULL;
    char jerr[128];
    ck_assert_msg(mlf_value_from_json(text, strlen(text), &ev, jerr, sizeof jerr) == MLF_OK, "%s: %s", jerr, text);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(ev, "task_id"), NULL), "t");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(ev, "state"), NULL), "failed");
    int64_t try_number = 0;
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(ev, "try_number"), &try_number), MLF_OK);
    ck_assert_int_eq(try_number, 2);
    mlf_value_free(ev);
    free(text);
    free(err);
    free(out);
}
END_TEST

START_TEST(test_failing_notifier_exits_nonzero_with_its_reason)
{
    char *err = NULL;
    int status = spawn_and_wait("record", "{\"path\": \"/nonexistent/x\", \"fail\": true}", &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0, "status %d", status);
    ck_assert_msg(strstr(err, "the record notifier was told to fail") != NULL, "stderr: %s", err);
    free(err);

    /* a notifier the plugin does not register */
    status = spawn_and_wait("nosuch", "{}", &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0, "status %d", status);
    ck_assert_msg(strstr(err, "registers no notifier 'nosuch'") != NULL, "stderr: %s", err);
    free(err);
}
END_TEST

START_TEST(test_spawn_of_a_missing_program)
{
    mlf_value *ev = json("{}");
    pid_t pid = 0;
    int rc = mlf_notify_spawn("/nonexistent/mlflowd", GOOD_PLUGIN, "record", NULL, ev, &pid);
    mlf_value_free(ev);
    ck_assert_int_eq(rc, ENOENT);
}
END_TEST

/* Runs mlf_notify_main on @p bytes (written to a pipe, then closed); returns its result and message. */
static int main_on(const void *bytes, size_t len, char *err, size_t errlen)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], bytes, len), (ssize_t)len);
    close(p[1]);
    int rc = mlf_notify_main(p[0], err, errlen);
    close(p[0]);
    return rc;
}

static int main_on_value(const char *msg_json, char *err, size_t errlen)
{
    mlf_value *msg = json(msg_json);
    void *frame = NULL;
    size_t len = 0;
    ck_assert_int_eq(mlf_task_frame_pack(msg, &frame, &len), MLF_OK);
    mlf_value_free(msg);
    int rc = main_on(frame, len, err, errlen);
    free(frame);
    return rc;
}

START_TEST(test_notify_main_in_process)
{
    char err[512];
    ck_assert_int_eq(main_on("", 0, err, sizeof err), 1);
    ck_assert_str_eq(err, "no notification on stdin");
    /* a length prefix of 4 GiB: refused before any allocation */
    ck_assert_int_eq(main_on("\xff\xff\xff\xff", 4, err, sizeof err), 1);
    ck_assert_str_eq(err, "malformed notification frame");
    /* a frame shorter than its prefix says */
    ck_assert_int_eq(main_on("\x00\x00\x00\x10\x81", 5, err, sizeof err), 1);
    ck_assert_str_eq(err, "malformed notification frame");
    /* not a map */
    ck_assert_int_eq(main_on_value("[1, 2]", err, sizeof err), 1);
    ck_assert_str_eq(err, "malformed notification frame");
    ck_assert_int_eq(main_on_value("{\"plugin\": \"" GOOD_PLUGIN "\"}", err, sizeof err), 1);
    ck_assert_str_eq(err, "malformed notification: plugin and notifier are required");
    ck_assert_int_eq(main_on_value("{\"plugin\": \"/nonexistent/p.so\", \"notifier\": \"x\"}", err, sizeof err), 1);
    ck_assert_msg(strstr(err, "/nonexistent/p.so") != NULL, "%s", err);

    char *out = tu_path(dir, "in-process");
    char msg[1024];
    snprintf(msg, sizeof msg,
             "{\"plugin\": \"%s\", \"notifier\": \"record\", \"config\": {\"path\": \"%s\"}, \"event\": {\"n\": 7}}",
             GOOD_PLUGIN, out);
    ck_assert_int_eq(main_on_value(msg, err, sizeof err), 0);
    char *text = tu_read_file(out, NULL);
    ck_assert_str_eq(text, "{\"n\":7}\n");
    free(text);
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("notify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_spawned_notifier_records_the_event);
    tcase_add_test(tc, test_failing_notifier_exits_nonzero_with_its_reason);
    tcase_add_test(tc, test_spawn_of_a_missing_program);
    tcase_add_test(tc, test_notify_main_in_process);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
