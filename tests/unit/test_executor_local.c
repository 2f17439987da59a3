/* Unit tests for core/executor_local.c: real `mlflowd task-exec` children started, watched, timed out and
 * killed from a poll loop like the scheduler's; crashes, hangs, lies and process groups. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/executor_local.h"
#include "base/strutil.h"
#include "exec/task_spec.h"
#include "testutil.h"

#define MLFLOWD TEST_BUILDDIR "/mlflowd"
#define SHELL_PLUGIN TEST_BUILDDIR "/plugins/shell.la"
#define EMPTY_PLUGIN TEST_BUILDDIR "/plugins/empty.la"
#define CRASH_PLUGIN TEST_BUILDDIR "/tests/plugins/crash.la"
#define HANG_PLUGIN TEST_BUILDDIR "/tests/plugins/hang.la"
#define OPS_PLUGIN TEST_BUILDDIR "/tests/plugins/runner_ops.la"
#define MS INT64_C(1000)

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/mlf-exec-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    tu_rm_rf(tmpdir);
}

static mlf_time_us now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *path_in_tmp(const char *name)
{
    return mlf_strdup_printf("%s/%s", tmpdir, name);
}

/* A spec with attempt token @p attempt; @p params ownership taken. */
static mlf_value *make_spec(const char *attempt, const char *plugin, const char *op, mlf_value *params,
                            int64_t timeout_us)
{
    char *log = mlf_strdup_printf("%s/logs/%s.log", tmpdir, attempt);
    mlf_task_spec s = {.dag_id = "d", .task_id = attempt, .run_id = "r", .map_index = -1, .try_number = 1,
                       .attempt = attempt, .operator_name = op, .plugin_path = plugin, .params = params,
                       .log_path = log, .execution_timeout = timeout_us};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_OK);
    mlf_value_free(params);
    free(log);
    return v;
}

static mlf_value *shell(const char *attempt, const char *command, int64_t timeout_us)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "command", mlf_value_str(command));
    return make_spec(attempt, SHELL_PLUGIN, "shell", p, timeout_us);
}

static void submit(mlf_local_executor *ex, mlf_value *spec)
{
    char err[256];
    ck_assert_msg(mlf_local_executor_submit(ex, spec, now_us(), err, sizeof err) == MLF_OK, "%s", err);
    mlf_value_free(spec);
}

/* ---- results collected from the callback ---- */
typedef struct got {
    char attempt[64];
    mlf_outcome outcome;
    char message[512];
    char xcom[128];
    int exit_status, exit_signal;
    int64_t pid;
    mlf_time_us start_date, end_date;
} got;

typedef struct collector {
    got r[32];
    int n;
    mlf_local_executor *ex;
    size_t max_running; /* the largest running() seen in any callback or turn */
} collector;

static void collect(void *ud, const mlf_task_result *res)
{
    collector *c = ud;
    ck_assert_int_lt(c->n, 32);
    got *g = &c->r[c->n++];
    snprintf(g->attempt, sizeof g->attempt, "%s", res->attempt);
    g->outcome = res->outcome;
    snprintf(g->message, sizeof g->message, "%s", res->message ? res->message : "");
    const char *x = mlf_value_get_str(mlf_map_get(res->xcoms, "return_value"), NULL);
    snprintf(g->xcom, sizeof g->xcom, "%s", x ? x : "");
    g->exit_status = res->exit_status;
    g->exit_signal = res->exit_signal;
    g->pid = res->pid;
    g->start_date = res->start_date;
    g->end_date = res->end_date;
}

/* The scheduler's loop in miniature: poll the fd up to the next deadline, then process. Runs until @p want
 * results have arrived, failing after @p max_ms. */
static void run_until(mlf_local_executor *ex, collector *c, int want, int max_ms)
{
    mlf_time_us give_up = now_us() + max_ms * MS;
    while (c->n < want) {
        mlf_time_us now = now_us();
        ck_assert_msg(now < give_up, "only %d of %d results after %d ms", c->n, want, max_ms);
        mlf_time_us next = mlf_local_executor_next_deadline(ex);
        int64_t wait_ms = (give_up - now) / 1000;
        if (next && (next - now) / 1000 < wait_ms)
            wait_ms = next > now ? (next - now) / 1000 + 1 : 0;
        struct pollfd pfd = {.fd = mlf_local_executor_fd(ex), .events = POLLIN};
        poll(&pfd, 1, (int)wait_ms);
        ck_assert_int_ge(mlf_local_executor_process(ex, now_us(), collect, c), 0);
        if (mlf_local_executor_running(ex) > c->max_running)
            c->max_running = mlf_local_executor_running(ex);
    }
}

static mlf_local_executor *new_exec(const char *exe, int parallelism, int64_t grace)
{
    mlf_local_executor *ex = NULL;
    ck_assert_int_eq(mlf_local_executor_new(exe, parallelism, grace, &ex), MLF_OK);
    return ex;
}

/* 1 when process @p pid no longer runs (gone, or a zombie nobody reaped yet). */
static int process_gone(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *st = tu_read_file(path, NULL);
    const char *paren = strrchr(st, ')');
    int gone = !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
    free(st);
    return gone;
}

static int wait_gone(pid_t pid, int max_ms)
{
    for (int i = 0; i < max_ms / 10; i++) {
        if (process_gone(pid))
            return 1;
        usleep(10000);
    }
    return process_gone(pid);
}

static pid_t read_pid(const char *file)
{
    char *p = path_in_tmp(file);
    char *s = tu_read_file(p, NULL);
    pid_t pid = (pid_t)atoi(s);
    free(s);
    free(p);
    return pid;
}

/* ---- tests ---- */

START_TEST(test_runs_shell_and_reports)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 2, 0);
    collector c = {0};
    submit(ex, shell("ok", "echo hello-from-the-pool", 0));
    submit(ex, shell("skip", "exit 99", 0));
    ck_assert_uint_eq(mlf_local_executor_running(ex), 2);
    run_until(ex, &c, 2, 5000);
    for (int i = 0; i < 2; i++) {
        got *g = &c.r[i];
        ck_assert_int_eq(g->exit_status, 0);
        ck_assert_int_eq(g->exit_signal, 0);
        ck_assert(g->pid > 0 && g->pid != getpid());
        if (strcmp(g->attempt, "ok") == 0) {
            ck_assert_int_eq(g->outcome, MLF_SUCCESS);
            ck_assert_str_eq(g->xcom, "hello-from-the-pool");
        } else {
            ck_assert_str_eq(g->attempt, "skip");
            ck_assert_int_eq(g->outcome, MLF_SKIPPED);
        }
    }
    ck_assert_uint_eq(mlf_local_executor_running(ex), 0);
    ck_assert_int_eq(mlf_local_executor_next_deadline(ex), 0);
    char *log = path_in_tmp("logs/ok.log");
    char *text = tu_read_file(log, NULL);
    ck_assert(strstr(text, "hello-from-the-pool") != NULL);
    free(text);
    free(log);
    mlf_local_executor_free(ex);
}
END_TEST

/* A descriptor the daemon forgot to mark close-on-exec never reaches task processes. */
START_TEST(test_no_descriptor_leak)
{
    int fd = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(dup2(fd, 50), 50);
    mlf_local_executor *ex = new_exec(MLFLOWD, 1, 0);
    collector c = {0};
    submit(ex, shell("fds", "if [ -e /proc/self/fd/50 ]; then echo leaked; else echo clean; fi", 0));
    run_until(ex, &c, 1, 5000);
    ck_assert_str_eq(c.r[0].xcom, "clean");
    mlf_local_executor_free(ex);
    close(50);
    close(fd);
}
END_TEST

START_TEST(test_crash_reports_signal)
{
    /* under AddressSanitizer, let the SIGSEGV kill the child as it would in production */
    const char *asan = getenv("ASAN_OPTIONS");
    char *opts = mlf_strdup_printf("%s%shandle_segv=0", asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    free(opts);
    mlf_local_executor *ex = new_exec(MLFLOWD, 1, 0);
    collector c = {0};
    submit(ex, make_spec("boom", CRASH_PLUGIN, "crash", NULL, 0));
    run_until(ex, &c, 1, 5000);
    ck_assert_int_eq(c.r[0].outcome, MLF_FAILED);
    ck_assert_msg(strstr(c.r[0].message, "the task process was killed by signal 11") != NULL, "%s", c.r[0].message);
    ck_assert_str_eq(c.r[0].attempt, "boom");
    ck_assert_int_eq(c.r[0].exit_signal, 11);
    ck_assert_int_eq(c.r[0].exit_status, -1);
    char *log = path_in_tmp("logs/boom.log");
    char *text = tu_read_file(log, NULL);
    ck_assert(strstr(text, "about to crash") != NULL);
    free(text);
    free(log);
    mlf_local_executor_free(ex);
}
END_TEST

/* A cooperative operator stops at SIGTERM; the report says why it was stopped. */
START_TEST(test_timeout_polite)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 1, 5000 * MS);
    collector c = {0};
    mlf_time_us t0 = now_us();
    submit(ex, make_spec("slow", HANG_PLUGIN, "hang_polite", NULL, 300 * MS));
    run_until(ex, &c, 1, 4000);
    int64_t took = now_us() - t0;
    ck_assert_int_eq(c.r[0].outcome, MLF_FAILED);
    ck_assert_str_eq(c.r[0].message, "execution_timeout of 300ms exceeded");
    ck_assert(took >= 300 * MS);
    ck_assert_msg(took < 3000 * MS, "took %lld us: SIGTERM was not enough?", (long long)took);
    ck_assert_int_eq(c.r[0].exit_signal, 0); /* it exited by itself after SIGTERM */
    mlf_local_executor_free(ex);
}
END_TEST

/* An operator that ignores SIGTERM is SIGKILLed after the grace period. */
START_TEST(test_timeout_escalates_to_sigkill)
{
    /* The escalation is only shown by a try that got as far as its operator (the task runtime catches SIGTERM
     * from then on; before, SIGTERM simply ends the process). Its log line "hanging forever" is the evidence;
     * on a machine so loaded that the try did not get there within the timeout, again with a longer one. */
    static const int timeouts_ms[] = {200, 800, 3200};
    for (size_t i = 0; i < sizeof timeouts_ms / sizeof *timeouts_ms; i++) {
        mlf_local_executor *ex = new_exec(MLFLOWD, 1, 300 * MS);
        collector c = {0};
        char attempt[16];
        snprintf(attempt, sizeof attempt, "stuck%zu", i);
        mlf_time_us t0 = now_us();
        submit(ex, make_spec(attempt, HANG_PLUGIN, "hang", NULL, timeouts_ms[i] * MS));
        run_until(ex, &c, 1, 4000 + timeouts_ms[i]);
        int64_t took = now_us() - t0;
        mlf_local_executor_free(ex);
        char *path = mlf_strdup_printf("%s/logs/%s.log", tmpdir, attempt);
        char *text = tu_read_file(path, NULL);
        int reached = strstr(text, "hanging forever") != NULL;
        free(text);
        free(path);
        if (!reached)
            continue;
        char want[64];
        snprintf(want, sizeof want, "execution_timeout of %dms exceeded", timeouts_ms[i]);
        ck_assert_str_eq(c.r[0].message, want);
        ck_assert_int_eq(c.r[0].exit_signal, SIGKILL);
        ck_assert(took >= (timeouts_ms[i] + 300) * MS);
        return;
    }
    ck_abort_msg("no try reached its operator within %d ms", timeouts_ms[2]);
}
END_TEST

/* A grandchild left running in the background dies with its task, on timeout and on a normal exit. */
START_TEST(test_process_group_killed)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 2, 300 * MS);
    collector c = {0};
    char *cmd1 = mlf_strdup_printf("sleep 1000 & echo $! > %s/bg1.pid; wait", tmpdir);
    char *cmd2 = mlf_strdup_printf("sleep 1000 >/dev/null 2>&1 & echo $! > %s/bg2.pid; echo done", tmpdir);
    submit(ex, shell("timed-out", cmd1, 400 * MS));
    submit(ex, shell("finished", cmd2, 0));
    free(cmd1);
    free(cmd2);
    run_until(ex, &c, 2, 5000);
    for (int i = 0; i < 2; i++) {
        if (strcmp(c.r[i].attempt, "timed-out") == 0)
            ck_assert_str_eq(c.r[i].message, "execution_timeout of 400ms exceeded");
        else
            ck_assert_int_eq(c.r[i].outcome, MLF_SUCCESS);
    }
    pid_t bg1 = read_pid("bg1.pid"), bg2 = read_pid("bg2.pid");
    ck_assert(bg1 > 0 && bg2 > 0);
    ck_assert_msg(wait_gone(bg1, 2000), "the timed-out task's grandchild %d still runs", (int)bg1);
    ck_assert_msg(wait_gone(bg2, 2000), "the finished task's grandchild %d still runs", (int)bg2);
    mlf_local_executor_free(ex);
}
END_TEST

/* Stamps each task's start and end (ns), then checks that never more than `parallelism` overlapped. */
START_TEST(test_parallelism_never_exceeded)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 2, 0);
    collector c = {0};
    char *stamps = path_in_tmp("stamps");
    char *cmd = mlf_strdup_printf("echo \"$(date +%%s%%N) 1\" >> %s; sleep 0.2; echo \"$(date +%%s%%N) -1\" >> %s",
                                  stamps, stamps);
    for (int i = 0; i < 6; i++) {
        char att[16];
        snprintf(att, sizeof att, "p%d", i);
        submit(ex, shell(att, cmd, 0));
        ck_assert_uint_le(mlf_local_executor_running(ex), 2);
    }
    ck_assert_uint_eq(mlf_local_executor_running(ex), 2);
    ck_assert_uint_eq(mlf_local_executor_queued(ex), 4);
    run_until(ex, &c, 6, 8000);
    ck_assert_uint_le(c.max_running, 2);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(c.r[i].outcome, MLF_SUCCESS);
    /* replay the stamps in time order */
    char *text = tu_read_file(stamps, NULL);
    long long t[12];
    int d[12], n = 0;
    for (char *line = strtok(text, "\n"); line && n < 12; line = strtok(NULL, "\n")) {
        ck_assert_int_eq(sscanf(line, "%lld %d", &t[n], &d[n]), 2);
        n++;
    }
    ck_assert_int_eq(n, 12);
    for (int i = 1; i < n; i++) /* insertion sort by time, ends before starts on ties */
        for (int j = i; j > 0 && (t[j] < t[j - 1] || (t[j] == t[j - 1] && d[j] < d[j - 1])); j--) {
            long long tt = t[j];
            t[j] = t[j - 1];
            t[j - 1] = tt;
            int dd = d[j];
            d[j] = d[j - 1];
            d[j - 1] = dd;
        }
    int live = 0, most = 0;
    for (int i = 0; i < n; i++) {
        live += d[i];
        if (live > most)
            most = live;
    }
    ck_assert_int_eq(live, 0);
    ck_assert_int_eq(most, 2); /* never above parallelism, and the pool did use both slots */
    free(text);
    free(cmd);
    free(stamps);
    mlf_local_executor_free(ex);
}
END_TEST

START_TEST(test_kill_running_and_queued)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 1, 2000 * MS);
    collector c = {0};
    submit(ex, make_spec("runs", HANG_PLUGIN, "hang_polite", NULL, 0));
    submit(ex, make_spec("waits", EMPTY_PLUGIN, "empty", NULL, 0));
    ck_assert_uint_eq(mlf_local_executor_queued(ex), 1);
    ck_assert_int_eq(mlf_local_executor_kill(ex, "waits", now_us()), MLF_OK);
    ck_assert_uint_eq(mlf_local_executor_queued(ex), 0);
    ck_assert_int_eq(mlf_local_executor_kill(ex, "nobody", now_us()), MLF_ENOTFOUND);
    run_until(ex, &c, 1, 2000);
    ck_assert_str_eq(c.r[0].attempt, "waits");
    ck_assert_int_eq(c.r[0].outcome, MLF_FAILED);
    ck_assert_str_eq(c.r[0].message, "killed on request before it started");
    usleep(200 * 1000); /* let the child reach execute() */
    mlf_time_us t = now_us();
    ck_assert_int_eq(mlf_local_executor_kill(ex, "runs", t), MLF_OK);
    ck_assert_int_eq(mlf_local_executor_kill(ex, "runs", t), MLF_OK); /* again: no-op */
    /* the SIGKILL escalation, 2 s from now (measured on the monotonic clock, given in the caller's) */
    mlf_time_us next = mlf_local_executor_next_deadline(ex);
    ck_assert(next >= t + 2000 * MS - 50 * MS && next <= now_us() + 2000 * MS);
    run_until(ex, &c, 2, 2000);
    ck_assert_str_eq(c.r[1].attempt, "runs");
    ck_assert_int_eq(c.r[1].outcome, MLF_FAILED);
    ck_assert_str_eq(c.r[1].message, "killed on request");
    ck_assert_int_eq(mlf_local_executor_kill(ex, "runs", now_us()), MLF_ENOTFOUND); /* reported: gone */
    mlf_local_executor_free(ex);
}
END_TEST

/* The pool's monotonic clock, injected: the test moves it by hand. */
static int64_t fake_mono;
static int64_t fake_clock(void)
{
    return fake_mono;
}

/* execution_timeout and the kill grace run on the monotonic clock, never on the caller's wall clock: a wall
 * step forward does not kill a try early, a step back does not keep it alive (issue 15, defect 8). */
START_TEST(test_next_deadline_is_the_timeout)
{
    fake_mono = 1000 * INT64_C(1000000);
    mlf_host_pool_opts o = {.exe = MLFLOWD, .size = 1, .max_tries_per_host = 1, .clock = fake_clock};
    mlf_local_executor *ex = NULL;
    ck_assert_int_eq(mlf_local_executor_new_pool(&o, &ex), MLF_OK);
    mlf_value *spec = make_spec("t", HANG_PLUGIN, "hang_polite", NULL, 10000 * MS);
    mlf_time_us t = now_us();
    ck_assert_int_eq(mlf_local_executor_submit(ex, spec, t, NULL, 0), MLF_OK);
    mlf_value_free(spec);
    /* the deadline, in the caller's wall clock: 10 s from its present */
    mlf_time_us next = mlf_local_executor_next_deadline(ex), after = now_us();
    ck_assert_msg(next >= t + 10000 * MS && next <= after + 10000 * MS, "next %lld, now %lld", (long long)next,
                  (long long)after);
    struct pollfd pfd = {.fd = mlf_local_executor_fd(ex), .events = POLLIN};
    collector c = {0};
    mlf_local_executor_process(ex, now_us(), collect, &c);
    ck_assert_int_eq(poll(&pfd, 1, 300), 0); /* the fd stays quiet while the child runs */
    /* the wall clock jumps an hour ahead: nothing is due */
    mlf_local_executor_process(ex, t + 3600 * INT64_C(1000000), collect, &c);
    ck_assert_int_eq(c.n, 0);
    ck_assert_int_eq(poll(&pfd, 1, 300), 0);
    fake_mono += 9999 * MS; /* just before the timeout */
    mlf_local_executor_process(ex, now_us(), collect, &c);
    ck_assert_int_eq(poll(&pfd, 1, 200), 0);
    /* 10 s have passed on the monotonic clock, while the wall clock stepped an hour back: killed */
    fake_mono += 1 * MS;
    mlf_local_executor_process(ex, t - 3600 * INT64_C(1000000), collect, &c);
    next = mlf_local_executor_next_deadline(ex);
    after = now_us();
    ck_assert_msg(next <= after + MLF_LOCAL_EXECUTOR_KILL_GRACE && next > after, "grace deadline %lld, now %lld",
                  (long long)next, (long long)after);
    ck_assert_int_eq(poll(&pfd, 1, 3000), 1); /* its exit wakes the loop */
    run_until(ex, &c, 1, 3000);
    ck_assert_str_eq(c.r[0].message, "execution_timeout of 10s exceeded");
    mlf_local_executor_free(ex);
}
END_TEST

START_TEST(test_submit_validation)
{
    mlf_local_executor *ex = NULL;
    ck_assert_int_eq(mlf_local_executor_new(MLFLOWD, 0, 0, &ex), MLF_EINVAL);
    ck_assert_int_eq(mlf_local_executor_new(NULL, 1, 0, &ex), MLF_EINVAL);
    ck_assert_int_eq(mlf_local_executor_new(MLFLOWD, 1, -1, &ex), MLF_EINVAL);
    ex = new_exec(MLFLOWD, 1, 0);
    char err[256];
    mlf_value *spec = make_spec("a", EMPTY_PLUGIN, "empty", NULL, 0);
    mlf_map_set(spec, "execution_timeout", mlf_value_str("15m"));
    ck_assert_int_eq(mlf_local_executor_submit(ex, spec, now_us(), err, sizeof err), MLF_EPARSE);
    ck_assert_str_eq(err, "task spec: field 'execution_timeout' must be int, got str");
    mlf_value_free(spec);
    spec = make_spec("a", HANG_PLUGIN, "hang_polite", NULL, 0);
    ck_assert_int_eq(mlf_local_executor_submit(ex, spec, now_us(), err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_local_executor_submit(ex, spec, now_us(), err, sizeof err), MLF_EEXIST);
    ck_assert_str_eq(err, "a try with attempt token 'a' is already queued or running");
    mlf_value_free(spec);
    ck_assert_int_eq(mlf_local_executor_submit(ex, NULL, now_us(), err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_local_executor_process(ex, now_us(), NULL, NULL), MLF_EINVAL);
    mlf_local_executor_free(ex); /* with a child running: killed and reaped */
}
END_TEST

static void free_kills_fn(void)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 1, 0);
    char *cmd = mlf_strdup_printf("echo $$ > %s/sh.pid; sleep 1000", tmpdir);
    submit(ex, shell("long", cmd, 0));
    free(cmd);
    char *pidfile = path_in_tmp("sh.pid");
    for (int i = 0; i < 300 && access(pidfile, F_OK) != 0; i++)
        usleep(10000);
    usleep(50000);
    pid_t sh = read_pid("sh.pid");
    ck_assert(sh > 0);
    mlf_time_us t = now_us();
    mlf_local_executor_free(ex);
    ck_assert(now_us() - t < 1000 * MS);
    ck_assert(wait_gone(sh, 1000));
    free(pidfile);
}

START_TEST(test_free_kills_running)
{
    free_kills_fn();
}
END_TEST

START_TEST(test_shutdown)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 2, 2000 * MS);
    collector c = {0};
    submit(ex, make_spec("hung", HANG_PLUGIN, "hang_polite", NULL, 0));
    submit(ex, shell("quick", "sleep 0.2; echo drained", 0));
    submit(ex, make_spec("queued", EMPTY_PLUGIN, "empty", NULL, 0));
    mlf_time_us t = now_us();
    ck_assert_int_eq(mlf_local_executor_shutdown(ex, 800 * MS, t), MLF_OK);
    ck_assert_uint_eq(mlf_local_executor_queued(ex), 0);
    char err[128];
    mlf_value *late = make_spec("late", EMPTY_PLUGIN, "empty", NULL, 0);
    ck_assert_int_eq(mlf_local_executor_submit(ex, late, now_us(), err, sizeof err), MLF_ESTATE);
    ck_assert_str_eq(err, "the executor is shutting down");
    mlf_value_free(late);
    run_until(ex, &c, 3, 4000);
    ck_assert_uint_eq(mlf_local_executor_running(ex), 0);
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        got *g = &c.r[i];
        if (strcmp(g->attempt, "queued") == 0) {
            ck_assert_str_eq(g->message, "the executor shut down before the task started");
            seen |= 1;
        } else if (strcmp(g->attempt, "quick") == 0) { /* finished within the grace */
            ck_assert_int_eq(g->outcome, MLF_SUCCESS);
            ck_assert_str_eq(g->xcom, "drained");
            seen |= 2;
        } else {
            ck_assert_str_eq(g->message, "killed: the executor shut down");
            ck_assert(g->end_date >= t + 800 * MS);
            seen |= 4;
        }
    }
    ck_assert_int_eq(seen, 7);
    mlf_local_executor_free(ex);
}
END_TEST

START_TEST(test_missing_executable)
{
    mlf_local_executor *ex = new_exec("/nonexistent/mlflowd", 1, 0);
    collector c = {0};
    submit(ex, make_spec("x", EMPTY_PLUGIN, "empty", NULL, 0));
    ck_assert(mlf_local_executor_next_deadline(ex) != 0); /* a report is due at once */
    run_until(ex, &c, 1, 1000);
    ck_assert_int_eq(c.r[0].outcome, MLF_FAILED);
    ck_assert_str_eq(c.r[0].message, "cannot start the task process /nonexistent/mlflowd: No such file or directory");
    mlf_local_executor_free(ex);
}
END_TEST

/* A stand-in for mlflowd: a shell script that misbehaves as told. */
static char *fake_exe(const char *name, const char *body)
{
    char *path = path_in_tmp(name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
    return path;
}

static void expect_lie(const char *body, const char *message_part)
{
    char *exe = fake_exe("fake", body);
    mlf_local_executor *ex = new_exec(exe, 1, 0);
    collector c = {0};
    submit(ex, make_spec("liar", EMPTY_PLUGIN, "empty", NULL, 0));
    run_until(ex, &c, 1, 3000);
    ck_assert_int_eq(c.r[0].outcome, MLF_FAILED);
    ck_assert_str_eq(c.r[0].attempt, "liar");
    ck_assert_msg(strstr(c.r[0].message, message_part) != NULL, "'%s' lacks '%s'", c.r[0].message, message_part);
    mlf_local_executor_free(ex);
    free(exe);
}

START_TEST(test_child_without_valid_result)
{
    expect_lie("exit 3", "the task process exited with status 3 without reporting a result");
    expect_lie("exit 0", "the task process exited with status 0 without reporting a result");
    expect_lie("kill -9 $$", "the task process was killed by signal 9");
    expect_lie("printf '\\000\\000\\001\\000abc' >&3", "the task process exited with status 0 after writing a "
                                                      "truncated result (7 bytes)");
    expect_lie("printf '\\000\\000\\000\\002\\301\\301' >&3", "its result did not decode: ");
    expect_lie("printf '\\000\\000\\000\\001\\220' >&3", "its result did not decode: task result: expected a map, got array");

    /* a well-formed result for another attempt */
    mlf_task_result r = {.attempt = "someone-else", .outcome = MLF_SUCCESS, .start_date = 1, .end_date = 2};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_result_encode(&r, &v), MLF_OK);
    void *frame;
    size_t len;
    ck_assert_int_eq(mlf_task_frame_pack(v, &frame, &len), MLF_OK);
    char *file = path_in_tmp("other.frame");
    FILE *f = fopen(file, "w");
    fwrite(frame, 1, len, f);
    fclose(f);
    char *body = mlf_strdup_printf("cat %s >&3", file);
    expect_lie(body, "its result carries attempt token 'someone-else', expected 'liar'");
    free(body);
    free(file);
    free(frame);
    mlf_value_free(v);
}
END_TEST

/* A child that reports its result and then exits non-zero (say, a leak checker at exit) still counts. */
START_TEST(test_result_then_nonzero_exit)
{
    mlf_task_result r = {.attempt = "liar", .outcome = MLF_SKIPPED, .message = "fine", .start_date = 1, .end_date = 2};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_result_encode(&r, &v), MLF_OK);
    void *frame;
    size_t len;
    ck_assert_int_eq(mlf_task_frame_pack(v, &frame, &len), MLF_OK);
    char *file = path_in_tmp("mine.frame");
    FILE *f = fopen(file, "w");
    fwrite(frame, 1, len, f);
    fclose(f);
    char *body = mlf_strdup_printf("cat %s >&3; exit 23", file);
    char *exe = fake_exe("fake", body);
    mlf_local_executor *ex = new_exec(exe, 1, 0);
    collector c = {0};
    submit(ex, make_spec("liar", EMPTY_PLUGIN, "empty", NULL, 0));
    run_until(ex, &c, 1, 3000);
    ck_assert_int_eq(c.r[0].outcome, MLF_SKIPPED);
    ck_assert_str_eq(c.r[0].message, "fine");
    ck_assert_int_eq(c.r[0].exit_status, 23);
    mlf_local_executor_free(ex);
    free(exe);
    free(body);
    free(file);
    free(frame);
    mlf_value_free(v);
}
END_TEST

/* Results bigger than a pipe's buffer are read while the child writes them. */
START_TEST(test_big_result_through_pipe)
{
    mlf_local_executor *ex = new_exec(MLFLOWD, 2, 0);
    collector c = {0};
    for (int i = 0; i < 2; i++) {
        mlf_value *p = mlf_value_map();
        mlf_map_set(p, "size", mlf_value_int(2 * 1024 * 1024));
        char att[16];
        snprintf(att, sizeof att, "big%d", i);
        submit(ex, make_spec(att, OPS_PLUGIN, "big_xcom", p, 0));
    }
    run_until(ex, &c, 2, 8000);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(c.r[i].outcome, MLF_SUCCESS);
        ck_assert(strncmp(c.r[i].xcom, "abcdefghijklmnopqrstuvwxyzabc", 29) == 0);
    }
    mlf_local_executor_free(ex);
}
END_TEST

/* Submitting from inside the callback (the scheduler will) works, and the new try runs. */
typedef struct chain {
    collector c;
    mlf_local_executor *ex;
    int submitted;
} chain;

static void chain_cb(void *ud, const mlf_task_result *res)
{
    chain *ch = ud;
    collect(&ch->c, res);
    if (!ch->submitted) {
        ch->submitted = 1;
        mlf_value *spec = shell("second", "echo chained", 0);
        ck_assert_int_eq(mlf_local_executor_submit(ch->ex, spec, now_us(), NULL, 0), MLF_OK);
        mlf_value_free(spec);
    }
}

START_TEST(test_submit_from_callback)
{
    chain ch = {.ex = new_exec(MLFLOWD, 1, 0)};
    submit(ch.ex, shell("first", "echo one", 0));
    mlf_time_us give_up = now_us() + 5000 * MS;
    while (ch.c.n < 2 && now_us() < give_up) {
        struct pollfd pfd = {.fd = mlf_local_executor_fd(ch.ex), .events = POLLIN};
        poll(&pfd, 1, 100);
        mlf_local_executor_process(ch.ex, now_us(), chain_cb, &ch);
    }
    ck_assert_int_eq(ch.c.n, 2);
    ck_assert_str_eq(ch.c.r[1].attempt, "second");
    ck_assert_str_eq(ch.c.r[1].xcom, "chained");
    mlf_local_executor_free(ch.ex);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("executor_local");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_runs_shell_and_reports);
    tcase_add_test(tc, test_no_descriptor_leak);
    tcase_add_test(tc, test_crash_reports_signal);
    tcase_add_test(tc, test_timeout_polite);
    tcase_add_test(tc, test_timeout_escalates_to_sigkill);
    tcase_add_test(tc, test_process_group_killed);
    tcase_add_test(tc, test_parallelism_never_exceeded);
    tcase_add_test(tc, test_kill_running_and_queued);
    tcase_add_test(tc, test_next_deadline_is_the_timeout);
    tcase_add_test(tc, test_submit_validation);
    tcase_add_test(tc, test_free_kills_running);
    tcase_add_test(tc, test_shutdown);
    tcase_add_test(tc, test_missing_executable);
    tcase_add_test(tc, test_child_without_valid_result);
    tcase_add_test(tc, test_result_then_nonzero_exit);
    tcase_add_test(tc, test_big_result_through_pipe);
    tcase_add_test(tc, test_submit_from_callback);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
