/* Unit tests for issue 15's smaller pieces: the notifier hand-over never blocks the loop nor raises
 * SIGPIPE (core/sched/notify.c), TI messages are bounded and secrets masked (core/base/redact.c). */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/redact.h"
#include "sched/notify.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fake `EXE notify`: @p body is its shell script (it ignores its argument). */
static char *fake_exe(const char *body)
{
    char *path = strdup("/tmp/mlf-notify-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    dprintf(fd, "#!/bin/sh\n%s\n", body);
    close(fd);
    chmod(path, 0700);
    return path;
}

static mlf_value *event_with_message(size_t n)
{
    char *msg = malloc(n + 1);
    memset(msg, 'm', n);
    msg[n] = '\0';
    mlf_value *ev = mlf_value_map();
    mlf_map_set(ev, "message", mlf_value_str(msg));
    free(msg);
    return ev;
}

/* A child that never reads and lives on: a 900 KiB event does not block the caller (it used to block the
 * scheduler loop for as long as the child lived). */
START_TEST(test_notify_never_blocks)
{
    char *exe = fake_exe("sleep 3");
    mlf_value *ev = event_with_message(900 * 1024);
    pid_t pid = 0;
    double t0 = now_s();
    ck_assert_int_eq(mlf_notify_spawn(exe, "/x.so", "n", NULL, ev, &pid), MLF_OK);
    double took = now_s() - t0;
    ck_assert_msg(took < 1.0, "the hand-over blocked for %.2f s", took);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    mlf_value_free(ev);
    unlink(exe);
    free(exe);
}
END_TEST

/* A child that exits at once: writing to its closed pipe must not kill the caller with SIGPIPE (it made
 * the scheduler exit 141); and an event above the child's 1 MiB limit is refused up front. */
START_TEST(test_notify_no_sigpipe)
{
    signal(SIGPIPE, SIG_DFL); /* as in the daemon */
    char *exe = fake_exe("exec 0<&-; exit 0");
    for (int i = 0; i < 5; i++) {
        mlf_value *ev = event_with_message(512 * 1024);
        pid_t pid = 0;
        int rc = mlf_notify_spawn(exe, "/x.so", "n", NULL, ev, &pid);
        ck_assert_int_eq(rc, MLF_OK);
        waitpid(pid, NULL, 0);
        mlf_value_free(ev);
    }
    mlf_value *big = event_with_message(2 * 1024 * 1024);
    pid_t pid = 0;
    ck_assert_int_eq(mlf_notify_spawn(exe, "/x.so", "n", NULL, big, &pid), MLF_ETOOBIG);
    mlf_value_free(big);
    unlink(exe);
    free(exe);
}
END_TEST

START_TEST(test_message_bound)
{
    ck_assert_ptr_null(mlf_ti_message_bound(NULL));
    char *s = mlf_ti_message_bound("short");
    ck_assert_str_eq(s, "short");
    free(s);
    size_t n = 2 * 1024 * 1024;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2)
        memcpy(big + i, "\xc3\xa9", 2); /* é: a cut must not split it */
    big[n] = '\0';
    s = mlf_ti_message_bound(big);
    ck_assert_uint_le(strlen(s), MLF_TI_MESSAGE_MAX);
    ck_assert_ptr_nonnull(strstr(s, "more bytes truncated]"));
    char *note = strstr(s, " [... ");
    ck_assert_int_eq((note - s) % 2, 0);
    free(s);
    free(big);
}
END_TEST

START_TEST(test_mask)
{
    const char *secrets[] = {"hunter2", "ab", NULL, "p@ss"};
    char *m = mlf_mask_text("login etl:hunter2@db failed; hunter2 again; ab stays; p@ss", secrets, 4);
    ck_assert_str_eq(m, "login etl:***@db failed; *** again; ab stays; ***");
    free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("security");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_notify_never_blocks);
    tcase_add_test(tc, test_notify_no_sigpipe);
    tcase_add_test(tc, test_message_bound);
    tcase_add_test(tc, test_mask);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
