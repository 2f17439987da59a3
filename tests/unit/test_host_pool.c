/* Unit tests for core/exec/host_pool.c and `mlflowd task-host`: real hosts started, reused, crashed,
 * killed, timed out and recycled from a poll loop like the scheduler's. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/strutil.h"
#include "exec/host_pool.h"
#include "exec/task_spec.h"
#include "testutil.h"

#define MLFLOWD TEST_BUILDDIR "/mlflowd"
#define SHELL_PLUGIN TEST_BUILDDIR "/plugins/shell.la"
#define EMPTY_PLUGIN TEST_BUILDDIR "/plugins/empty.la"
#define CRASH_PLUGIN TEST_BUILDDIR "/tests/plugins/crash.la"
#define HANG_PLUGIN TEST_BUILDDIR "/tests/plugins/hang.la"
#define OPS_PLUGIN TEST_BUILDDIR "/tests/plugins/runner_ops.la"
#define HOST_PLUGIN TEST_BUILDDIR "/tests/plugins/host_ops.la"
#define MS INT64_C(1000)

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/mlf-hosts-XXXXXX");
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

static char *log_of(const char *attempt)
{
    char *path = mlf_strdup_printf("%s/logs/%s.log", tmpdir, attempt);
    char *text = tu_read_file(path, NULL);
    free(path);
    return text;
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

static mlf_value *op(const char *attempt, const char *name)
{
    return make_spec(attempt, HOST_PLUGIN, name, NULL, 0);
}

static void submit(mlf_host_pool *p, mlf_value *spec)
{
    char err[256];
    ck_assert_msg(mlf_host_pool_submit(p, spec, now_us(), err, sizeof err) == MLF_OK, "%s", err);
    mlf_value_free(spec);
}

/* ---- results collected from the callback ---- */
typedef struct got {
    char attempt[64];
    mlf_outcome outcome;
    char message[512];
    char xcom[128];
    int64_t xpid, xppid; /* the "pid" and "ppid" XComs of host_ops operators */
    int exit_status, exit_signal;
    int64_t pid;
    int had_map;
} got;

typedef struct collector {
    got r[32];
    int n;
} collector;

static void collect(void *ud, const mlf_value *result, const mlf_task_result *res)
{
    collector *c = ud;
    ck_assert_int_lt(c->n, 32);
    got *g = &c->r[c->n++];
    snprintf(g->attempt, sizeof g->attempt, "%s", res->attempt);
    g->outcome = res->outcome;
    snprintf(g->message, sizeof g->message, "%s", res->message ? res->message : "");
    const char *x = mlf_value_get_str(mlf_map_get(res->xcoms, "return_value"), NULL);
    snprintf(g->xcom, sizeof g->xcom, "%s", x ? x : "");
    g->xpid = g->xppid = 0;
    mlf_value_get_int(mlf_map_get(res->xcoms, "pid"), &g->xpid);
    mlf_value_get_int(mlf_map_get(res->xcoms, "ppid"), &g->xppid);
    g->exit_status = res->exit_status;
    g->exit_signal = res->exit_signal;
    g->pid = res->pid;
    /* the map and the decoded form tell the same story */
    int64_t mpid = -1;
    g->had_map = result && mlf_value_get_int(mlf_map_get(result, "pid"), &mpid) == MLF_OK && mpid == res->pid;
}

static void run_until(mlf_host_pool *p, collector *c, int want, int max_ms)
{
    mlf_time_us give_up = now_us() + max_ms * MS;
    while (c->n < want) {
        mlf_time_us now = now_us();
        ck_assert_msg(now < give_up, "only %d of %d results after %d ms", c->n, want, max_ms);
        mlf_time_us next = mlf_host_pool_next_deadline(p);
        int64_t wait_ms = (give_up - now) / 1000;
        if (next && (next - now) / 1000 < wait_ms)
            wait_ms = next > now ? (next - now) / 1000 + 1 : 0;
        struct pollfd pfd = {.fd = mlf_host_pool_fd(p), .events = POLLIN};
        poll(&pfd, 1, (int)wait_ms);
        ck_assert_int_ge(mlf_host_pool_process(p, now_us(), collect, c), 0);
    }
}

/* Runs @p spec alone and returns its result in @p c's next slot. */
static got *run_one(mlf_host_pool *p, collector *c, mlf_value *spec, int max_ms)
{
    submit(p, spec);
    run_until(p, c, c->n + 1, max_ms);
    return &c->r[c->n - 1];
}

static mlf_host_pool *new_pool(int size, int max_tries, int64_t max_rss, int64_t grace)
{
    mlf_host_pool_opts o = {.exe = MLFLOWD, .size = size, .kill_grace = grace, .max_tries_per_host = max_tries,
                            .max_rss_bytes = max_rss};
    mlf_host_pool *p = NULL;
    ck_assert_int_eq(mlf_host_pool_new(&o, &p), MLF_OK);
    return p;
}

static mlf_host_pool_stats stats(const mlf_host_pool *p)
{
    mlf_host_pool_stats s;
    mlf_host_pool_get_stats(p, &s);
    return s;
}

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
    char *path = mlf_strdup_printf("%s/%s", tmpdir, file);
    char *s = tu_read_file(path, NULL);
    pid_t pid = (pid_t)atoi(s);
    free(s);
    free(path);
    return pid;
}

/* ---- tests ---- */

/* Tries run in-process in one host, one after another; a shell command is the host's own child. */
START_TEST(test_tries_share_a_host)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    got *a = run_one(p, &c, op("a", "whoami"), 5000);
    got *b = run_one(p, &c, op("b", "whoami"), 5000);
    got *s = run_one(p, &c, shell("sh", "echo $PPID", 0), 5000);
    ck_assert_int_eq(a->outcome, MLF_SUCCESS);
    ck_assert_int_eq(b->outcome, MLF_SUCCESS);
    ck_assert(a->xpid > 0 && a->xpid != getpid());
    ck_assert_int_eq(a->xpid, b->xpid);         /* the same host ran both */
    ck_assert_int_eq(a->xppid, getpid());       /* started by the pool itself */
    ck_assert_int_eq(a->pid, a->xpid);          /* the result names the host */
    ck_assert_int_eq(a->exit_status, 0);
    ck_assert(a->had_map);
    ck_assert_int_eq(s->outcome, MLF_SUCCESS);
    ck_assert_int_eq(atoll(s->xcom), a->xpid); /* one process start: sh, spawned by the host */
    mlf_host_pool_stats st = stats(p);
    ck_assert_int_eq(st.hosts_started, 1);
    ck_assert_int_eq(st.fresh_processes, 0);
    ck_assert_uint_eq(st.hosts_alive, 1);
    char *text = log_of("sh");
    ck_assert(strstr(text, "Command exited with return code 0") != NULL);
    free(text);
    mlf_host_pool_free(p);
}
END_TEST

/* A shell try without cwd runs in the host's scratch directory: the next try gets the same one, emptied of
 * what the first left there, and the host removes it when it ends. */
START_TEST(test_shell_scratch_reused_and_emptied)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    got *a = run_one(p, &c, shell("s1", "mkdir -p sub/deep && touch left sub/deep/over && pwd", 0), 5000);
    got *b = run_one(p, &c, shell("s2", "echo $(pwd) $(ls -A | wc -l)", 0), 5000);
    ck_assert_int_eq(a->outcome, MLF_SUCCESS);
    ck_assert_int_eq(b->outcome, MLF_SUCCESS);
    ck_assert_msg(strncmp(a->xcom, "/tmp/mlflowd-shell-", 19) == 0, "%s", a->xcom);
    char *want = mlf_strdup_printf("%s 0", a->xcom);
    ck_assert_str_eq(b->xcom, want); /* the same directory, and nothing of s1 in it */
    free(want);
    struct stat sb;
    ck_assert_int_eq(stat(a->xcom, &sb), 0);
    ck_assert_int_eq(stats(p).hosts_started, 1);
    mlf_host_pool_free(p); /* the idle host ends at the end of its input: the plugin's fini removes it */
    ck_assert_msg(stat(a->xcom, &sb) != 0 && errno == ENOENT, "%s outlived its host", a->xcom);
}
END_TEST

/* A host that crashes fails its try with the signal's name; the next try runs on a fresh host. */
START_TEST(test_crash_replaces_host)
{
    const char *asan = getenv("ASAN_OPTIONS");
    char *opts = mlf_strdup_printf("%s%shandle_segv=0", asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    free(opts);
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    int64_t before = run_one(p, &c, op("before", "whoami"), 5000)->xpid;
    got *boom = run_one(p, &c, make_spec("boom", CRASH_PLUGIN, "crash", NULL, 0), 5000);
    ck_assert_int_eq(boom->outcome, MLF_FAILED);
    ck_assert_str_eq(boom->message, "the task host was killed by signal 11 (Segmentation fault)");
    ck_assert_int_eq(boom->exit_signal, 11);
    ck_assert_int_eq(boom->pid, before);
    int64_t after = run_one(p, &c, op("after", "whoami"), 5000)->xpid;
    ck_assert(after > 0 && after != before);
    ck_assert_int_eq(stats(p).hosts_lost, 1);
    ck_assert_int_eq(stats(p).hosts_started, 2);
    char *text = log_of("boom");
    ck_assert(strstr(text, "about to crash") != NULL);
    free(text);
    mlf_host_pool_free(p);
}
END_TEST

/* SIGKILL from outside (an OOM killer) mid-try: a clear message, then a fresh host. */
START_TEST(test_host_killed_mid_try)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    char *cmd = mlf_strdup_printf("echo $$ > %s/sh.pid; echo $PPID > %s/host.pid; sleep 30", tmpdir, tmpdir);
    submit(p, shell("victim", cmd, 0));
    free(cmd);
    pid_t host = 0;
    for (int i = 0; i < 500 && host <= 0; i++) {
        usleep(10000);
        host = read_pid("host.pid");
        mlf_host_pool_process(p, now_us(), collect, &c);
    }
    ck_assert(host > 0);
    ck_assert_int_eq(kill(host, SIGKILL), 0);
    run_until(p, &c, 1, 5000);
    ck_assert_str_eq(c.r[0].attempt, "victim");
    ck_assert_str_eq(c.r[0].message, "the task host was killed by signal 9 (Killed)");
    pid_t sh = read_pid("sh.pid");
    ck_assert(sh > 0);
    ck_assert_msg(wait_gone(sh, 1000), "the dead host's shell %d still runs", (int)sh); /* its group died too */
    got *next = run_one(p, &c, op("next", "whoami"), 5000);
    ck_assert_int_eq(next->outcome, MLF_SUCCESS);
    ck_assert(next->xpid != host);
    mlf_host_pool_free(p);
}
END_TEST

/* An in-process operator that ignores SIGTERM: its host is killed at the timeout's grace and replaced. */
START_TEST(test_timeout_kills_host)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 300 * MS);
    collector c = {0};
    int64_t first = run_one(p, &c, op("first", "whoami"), 5000)->xpid;
    mlf_time_us t0 = now_us();
    got *stuck = run_one(p, &c, make_spec("stuck", HANG_PLUGIN, "hang", NULL, 200 * MS), 5000);
    ck_assert_str_eq(stuck->message, "execution_timeout of 200ms exceeded");
    ck_assert_int_eq(stuck->exit_signal, SIGKILL);
    ck_assert(now_us() - t0 >= 500 * MS);
    ck_assert(wait_gone((pid_t)first, 1000));
    int64_t second = run_one(p, &c, op("second", "whoami"), 5000)->xpid;
    ck_assert(second != first);
    mlf_host_pool_free(p);
}
END_TEST

/* Processes results until the log of @p attempt holds @p text (positive evidence that its operator runs). */
static void wait_log(mlf_host_pool *p, collector *c, const char *attempt, const char *text, int max_ms)
{
    char *path = mlf_strdup_printf("%s/logs/%s.log", tmpdir, attempt);
    mlf_time_us give_up = now_us() + max_ms * MS;
    for (;;) {
        char *log = tu_read_file(path, NULL);
        int found = log && strstr(log, text) != NULL;
        free(log);
        if (found)
            break;
        ck_assert_msg(now_us() < give_up, "no '%s' in %s after %d ms", text, path, max_ms);
        struct pollfd pfd = {.fd = mlf_host_pool_fd(p), .events = POLLIN};
        poll(&pfd, 1, 20);
        ck_assert_int_ge(mlf_host_pool_process(p, now_us(), collect, c), 0);
    }
    free(path);
}

/* A polite operator stops at SIGTERM; its host still leaves (a killed try's host is never reused). Both hosts
 * are started first and each try's operator is seen running before it is stopped, so the SIGTERM always
 * reaches an operator that handles it, however slowly a loaded machine starts processes. */
START_TEST(test_timeout_polite_and_kill)
{
    mlf_host_pool *p = new_pool(2, 0, 0, 5000 * MS);
    collector c = {0};
    submit(p, op("warm1", "whoami"));
    submit(p, op("warm2", "whoami"));
    run_until(p, &c, 2, 20000);
    c.n = 0;
    submit(p, make_spec("runs", HANG_PLUGIN, "hang_polite", NULL, 0));
    wait_log(p, &c, "runs", "hanging until cancelled", 20000);
    submit(p, make_spec("slow", HANG_PLUGIN, "hang_polite", NULL, 1000 * MS));
    wait_log(p, &c, "slow", "hanging until cancelled", 20000);
    ck_assert_int_eq(mlf_host_pool_kill(p, "runs", now_us()), MLF_OK);
    run_until(p, &c, 2, 20000);
    for (int i = 0; i < 2; i++) {
        if (strcmp(c.r[i].attempt, "slow") == 0)
            ck_assert_str_eq(c.r[i].message, "execution_timeout of 1s exceeded");
        else
            ck_assert_str_eq(c.r[i].message, "killed on request");
        ck_assert_int_eq(c.r[i].exit_signal, 0); /* it left by itself once its input closed */
    }
    ck_assert_uint_eq(stats(p).hosts_alive, 0);
    mlf_host_pool_free(p);
}
END_TEST

/* max_tries_per_host: hosts are replaced after N tries, transparently. */
START_TEST(test_recycled_after_n_tries)
{
    mlf_host_pool *p = new_pool(1, 3, 0, 0);
    collector c = {0};
    int64_t pid[7];
    for (int i = 0; i < 7; i++) {
        char att[16];
        snprintf(att, sizeof att, "n%d", i);
        got *g = run_one(p, &c, op(att, "whoami"), 5000);
        ck_assert_int_eq(g->outcome, MLF_SUCCESS);
        pid[i] = g->xpid;
    }
    ck_assert(pid[0] == pid[1] && pid[1] == pid[2]);
    ck_assert(pid[3] != pid[2] && pid[3] == pid[4] && pid[4] == pid[5]);
    ck_assert(pid[6] != pid[5]);
    ck_assert_int_eq(stats(p).hosts_recycled, 2);
    ck_assert_int_eq(stats(p).hosts_lost, 0);
    ck_assert(wait_gone((pid_t)pid[0], 1000));
    mlf_host_pool_free(p);
}
END_TEST

/* A host whose memory passed the high-water mark is replaced after its try. */
START_TEST(test_recycled_past_rss)
{
    mlf_host_pool *p = new_pool(1, 0, 64 * 1024 * 1024, 0);
    collector c = {0};
    int64_t a = run_one(p, &c, op("a", "whoami"), 5000)->xpid;
    int64_t b = run_one(p, &c, op("b", "whoami"), 5000)->xpid;
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "mib", mlf_value_int(96));
    got *fat = run_one(p, &c, make_spec("fat", HOST_PLUGIN, "bloat", params, 0), 8000);
    ck_assert_int_eq(fat->outcome, MLF_SUCCESS);
    int64_t d = run_one(p, &c, op("d", "whoami"), 5000)->xpid;
    ck_assert_int_eq(a, b);
    ck_assert_int_eq(fat->xpid, a);
    ck_assert(d != a);
    ck_assert_int_eq(stats(p).hosts_recycled, 1);
    mlf_host_pool_free(p);
}
END_TEST

/* An MLF_OP_ISOLATED operator runs in a fresh task-exec process; the host stays for the next tries. */
START_TEST(test_isolated_gets_own_process)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    int64_t host = run_one(p, &c, op("hosted", "whoami"), 5000)->xpid;
    got *iso = run_one(p, &c, op("iso", "isolated"), 5000);
    ck_assert_int_eq(iso->outcome, MLF_SUCCESS);
    ck_assert(iso->xpid > 0 && iso->xpid != host);
    ck_assert_int_eq(iso->xppid, getpid()); /* started by the pool, not by the host */
    ck_assert_int_eq(iso->pid, iso->xpid);
    ck_assert_int_eq(iso->exit_status, 0);
    int64_t again = run_one(p, &c, op("again", "whoami"), 5000)->xpid;
    ck_assert_int_eq(again, host);
    ck_assert_int_eq(stats(p).fresh_processes, 1);
    ck_assert_int_eq(stats(p).hosts_started, 1);
    char *text = log_of("iso");
    /* logged once, by the fresh process: the host refused it before writing anything */
    const char *first = strstr(text, "Starting attempt");
    ck_assert(first && !strstr(first + 1, "Starting attempt"));
    free(text);
    mlf_host_pool_free(p);
}
END_TEST

/* Results bigger than a pipe's buffer come back from hosts, several at once. */
START_TEST(test_big_results)
{
    mlf_host_pool *p = new_pool(2, 0, 0, 0);
    collector c = {0};
    for (int i = 0; i < 4; i++) {
        mlf_value *params = mlf_value_map();
        mlf_map_set(params, "size", mlf_value_int(2 * 1024 * 1024));
        char att[16];
        snprintf(att, sizeof att, "big%d", i);
        submit(p, make_spec(att, OPS_PLUGIN, "big_xcom", params, 0));
    }
    run_until(p, &c, 4, 10000);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(c.r[i].outcome, MLF_SUCCESS);
        ck_assert(strncmp(c.r[i].xcom, "abcdefghijklmnopqrstuvwxyzabc", 29) == 0);
    }
    ck_assert_uint_le(stats(p).hosts_started, 2);
    mlf_host_pool_free(p);
}
END_TEST

/* What a try leaves running dies before its result is reported, and the host carries on. */
START_TEST(test_leftovers_killed)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    char *cmd = mlf_strdup_printf("(sleep 1000 >/dev/null 2>&1 &) ; sleep 1000 >/dev/null 2>&1 & echo $! > %s/bg.pid", tmpdir);
    got *g = run_one(p, &c, shell("leaves", cmd, 0), 5000);
    free(cmd);
    ck_assert_int_eq(g->outcome, MLF_SUCCESS);
    pid_t bg = read_pid("bg.pid");
    ck_assert(bg > 0);
    ck_assert_msg(process_gone(bg), "the try's background process %d outlived it", (int)bg);
    got *next = run_one(p, &c, op("next", "whoami"), 5000);
    ck_assert_int_eq(next->outcome, MLF_SUCCESS);
    ck_assert_int_eq(stats(p).hosts_started, 1);
    mlf_host_pool_free(p);
}
END_TEST

/* stdio output stays in its try's log; the working directory is restored between tries. */
START_TEST(test_stdio_and_cwd_contained)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    run_one(p, &c, op("p1", "printer"), 5000);
    run_one(p, &c, op("p2", "printer"), 5000);
    ck_assert_int_eq(c.r[0].outcome, MLF_SUCCESS);
    char *l1 = log_of("p1"), *l2 = log_of("p2");
    ck_assert(strstr(l1, "printed-by-p1") != NULL);
    ck_assert(strstr(l2, "printed-by-p1") == NULL);
    ck_assert(strstr(l2, "printed-by-p2") != NULL);
    free(l1);
    free(l2);
    mlf_host_pool_free(p);
}
END_TEST

/* The lines a shell try logged between "Running command" and "Command exited", without their prefixes and
 * without the variables that name the task, sorted: what the command printed, in a comparable form. */
static char *command_output(const char *attempt)
{
    char *text = log_of(attempt);
    char *start = strstr(text, "Running command:");
    ck_assert_ptr_nonnull(start);
    char *lines[256];
    size_t n = 0;
    for (char *line = strtok(strchr(start, '\n') + 1, "\n"); line && n < 256; line = strtok(NULL, "\n")) {
        char *body = strstr(line, " - ");
        body = body ? body + 3 : line;
        if (strncmp(body, "Command exited", 14) == 0)
            break;
        if (strncmp(body, "MLFLOWD_CTX_TASK_ID=", 20) != 0)
            lines[n++] = body;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(lines[j], lines[j - 1]) < 0; j--) {
            char *t = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = t;
        }
    mlf_buf b = {0};
    for (size_t i = 0; i < n; i++)
        mlf_buf_printf(&b, "%s\n", lines[i]);
    free(text);
    return b.data ? mlf_buf_steal(&b) : strdup("");
}

static mlf_value *shell_in(const char *attempt, const char *command, const char *cwd)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "command", mlf_value_str(command));
    mlf_map_set(p, "cwd", mlf_value_str(cwd));
    return make_spec(attempt, SHELL_PLUGIN, "shell", p, 0);
}

/* A plain command started without /bin/sh sees what it would see through sh, and ends the same way. */
START_TEST(test_direct_start_same_as_sh)
{
    mlf_host_pool *p = new_pool(1, 0, 0, 0);
    collector c = {0};
    run_one(p, &c, shell_in("direct", "env", tmpdir), 5000);
    run_one(p, &c, shell_in("via_sh", "env ;", tmpdir), 5000); /* the ';' sends it through /bin/sh */
    char *direct = command_output("direct"), *via_sh = command_output("via_sh");
    ck_assert_msg(strstr(direct, "PWD=") != NULL, "%s", direct);
    ck_assert_str_eq(direct, via_sh);
    free(direct);
    free(via_sh);
    got *f = run_one(p, &c, shell("false", "false", 0), 5000);
    ck_assert_str_eq(f->message, "command exited with code 1");
    got *nf = run_one(p, &c, shell("missing", "no-such-command-anywhere", 0), 5000);
    ck_assert_str_eq(nf->message, "command exited with code 127"); /* sh's answer, through the fallback */
    char *text = log_of("missing");
    ck_assert(strstr(text, "no-such-command-anywhere: not found") != NULL);
    free(text);
    mlf_host_pool_free(p);
}
END_TEST

/* Freeing the pool kills busy hosts' process groups and idle hosts alike. */
START_TEST(test_free_kills_everything)
{
    mlf_host_pool *p = new_pool(2, 0, 0, 0);
    collector c = {0};
    int64_t idle = run_one(p, &c, op("idle", "whoami"), 5000)->xpid;
    char *cmd = mlf_strdup_printf("echo $$ > %s/sh.pid; sleep 1000", tmpdir);
    submit(p, shell("long", cmd, 0));
    free(cmd);
    pid_t sh = 0;
    for (int i = 0; i < 300 && sh <= 0; i++) {
        usleep(10000);
        sh = read_pid("sh.pid");
    }
    ck_assert(sh > 0);
    mlf_time_us t = now_us();
    mlf_host_pool_free(p);
    ck_assert(now_us() - t < 1000 * MS);
    ck_assert(wait_gone(sh, 1000));
    ck_assert(wait_gone((pid_t)idle, 1000));
}
END_TEST

START_TEST(test_validation_and_shutdown)
{
    mlf_host_pool *p = NULL;
    mlf_host_pool_opts o = {.exe = "mlflowd", .size = 1};
    ck_assert_int_eq(mlf_host_pool_new(&o, &p), MLF_EINVAL); /* relative */
    o.exe = MLFLOWD;
    o.size = 0;
    ck_assert_int_eq(mlf_host_pool_new(&o, &p), MLF_EINVAL);
    o.size = 1;
    o.max_tries_per_host = -1;
    ck_assert_int_eq(mlf_host_pool_new(&o, &p), MLF_EINVAL);
    p = new_pool(1, 0, 0, 0);
    collector c = {0};
    run_one(p, &c, op("warm", "whoami"), 5000);
    ck_assert_uint_eq(stats(p).hosts_alive, 1);
    submit(p, make_spec("queued1", HANG_PLUGIN, "hang_polite", NULL, 0));
    submit(p, op("queued2", "whoami"));
    ck_assert_int_eq(mlf_host_pool_shutdown(p, 200 * MS, now_us()), MLF_OK);
    char err[128];
    mlf_value *late = op("late", "whoami");
    ck_assert_int_eq(mlf_host_pool_submit(p, late, now_us(), err, sizeof err), MLF_ESTATE);
    mlf_value_free(late);
    run_until(p, &c, 3, 5000);
    ck_assert_str_eq(c.r[1].message, "the executor shut down before the task started");
    ck_assert_str_eq(c.r[2].message, "killed: the executor shut down");
    ck_assert_uint_eq(mlf_host_pool_running(p), 0);
    mlf_host_pool_free(p);
}
END_TEST

/* `mlflowd task-host` by itself: the end of input is a clean exit, anything but spec frames is refused. */
static int host_exit(const char *input_printf, const char *stderr_part)
{
    char *errfile = mlf_strdup_printf("%s/host.err", tmpdir);
    char *cmd = mlf_strdup_printf("printf '%s' | %s task-host 3>/dev/null 2>%s", input_printf, MLFLOWD, errfile);
    int status = system(cmd);
    char *text = tu_read_file(errfile, NULL);
    ck_assert_msg(strstr(text, stderr_part) != NULL, "stderr '%s' lacks '%s'", text, stderr_part);
    free(text);
    free(cmd);
    free(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_task_host_input)
{
    ck_assert_int_eq(host_exit("", ""), 0);
    ck_assert_int_eq(host_exit("\\000\\000", "task-host: cannot read the task spec"), 2);
    ck_assert_int_eq(host_exit("\\377\\377\\377\\377", "more than the 67108864 allowed"), 2);
    ck_assert_int_eq(host_exit("\\000\\000\\000\\002\\301\\301", "the task spec is not valid msgpack"), 2);
    ck_assert_int_eq(host_exit("\\000\\000\\000\\001\\220", "the spec has no attempt token"), 2);
}
END_TEST

/* A host that cannot start: the try is reported, never lost. */
START_TEST(test_missing_executable)
{
    mlf_host_pool_opts o = {.exe = "/nonexistent/mlflowd", .size = 1};
    mlf_host_pool *p = NULL;
    ck_assert_int_eq(mlf_host_pool_new(&o, &p), MLF_OK);
    collector c = {0};
    got *g = run_one(p, &c, make_spec("x", EMPTY_PLUGIN, "empty", NULL, 0), 1000);
    ck_assert_str_eq(g->message, "cannot start the task host /nonexistent/mlflowd: No such file or directory");
    mlf_host_pool_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_pool");
    TCase *tc = tcase_create("hosts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_tries_share_a_host);
    tcase_add_test(tc, test_shell_scratch_reused_and_emptied);
    tcase_add_test(tc, test_crash_replaces_host);
    tcase_add_test(tc, test_host_killed_mid_try);
    tcase_add_test(tc, test_timeout_kills_host);
    tcase_add_test(tc, test_timeout_polite_and_kill);
    tcase_add_test(tc, test_recycled_after_n_tries);
    tcase_add_test(tc, test_recycled_past_rss);
    tcase_add_test(tc, test_isolated_gets_own_process);
    tcase_add_test(tc, test_big_results);
    tcase_add_test(tc, test_leftovers_killed);
    tcase_add_test(tc, test_stdio_and_cwd_contained);
    tcase_add_test(tc, test_direct_start_same_as_sh);
    tcase_add_test(tc, test_free_kills_everything);
    tcase_add_test(tc, test_validation_and_shutdown);
    tcase_add_test(tc, test_missing_executable);
    tcase_add_test(tc, test_task_host_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
