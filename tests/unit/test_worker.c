/* Unit tests for core/exec/worker.c, through its public functions and the wire (doc/protocol.md): options
 * refused with a reason; a worker in a child process registers with a fake scheduler (a ROUTER socket here),
 * runs a TASK through a real task process and reports STARTED, LOG (the try's output) and RESULT (repeated
 * until ACKed); a silent scheduler makes it register again; SIGTERM drains it (DISCONNECT) and it exits 0. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "exec/proto.h"
#include "exec/task_spec.h"
#include "exec/worker.h"
#include "plugin/plugin_loader.h"
#include "testutil.h"

#define EXE TEST_BUILDDIR "/mlflowd"
#define SHELL_PLUGIN TEST_BUILDDIR "/plugins/shell.la"
#define MS INT64_C(1000)

static mlf_catalog *cat;
static char *dir;

static void setup(void)
{
    const char *names[] = {"shell", "empty"};
    cat = tu_load_plugins(names, 2);
    dir = tu_tmpdir("worker");
}

static void teardown(void)
{
    tu_rm_rf(dir);
    free(dir);
    mlf_catalog_free(cat);
}

static mlf_worker_opts opts_for(const char *endpoint)
{
    return (mlf_worker_opts){.endpoint = endpoint, .name = "w1", .concurrency = 2, .exe = EXE, .cat = cat,
                             .spool_root = dir, .heartbeat_us = 100 * MS, .liveness = 3,
                             .reconnect_min_us = 100 * MS, .reconnect_max_us = 200 * MS,
                             .drain_grace_us = 2000 * MS};
}

/* Expects mlf_worker_new to refuse @p o with a message containing @p text. */
static void refused(mlf_worker_opts o, const char *text)
{
    mlf_worker *w = NULL;
    char err[512] = "";
    ck_assert_int_ne(mlf_worker_new(&o, &w, err, sizeof err), MLF_OK);
    ck_assert_ptr_null(w);
    ck_assert_msg(strstr(err, text) != NULL, "message '%s' lacks '%s'", err, text);
}

START_TEST(test_options_refused)
{
    mlf_worker_opts o = opts_for("tcp://127.0.0.1:5999");
    o.endpoint = NULL;
    refused(o, "");
    o = opts_for("tcp://127.0.0.1:5999");
    o.concurrency = 0;
    refused(o, "concurrency");
    o = opts_for("tcp://127.0.0.1:5999");
    o.name = "bad name!";
    refused(o, "bad name!");
    o = opts_for("tcp://127.0.0.1:5999");
    o.queues = (const char *const[]){"ok", "not ok"};
    o.nqueues = 2;
    refused(o, "not ok");
    o = opts_for("tcp://127.0.0.1:5999");
    o.exe = NULL;
    refused(o, "");
    o = opts_for("tcp://127.0.0.1:5999");
    o.server_public_key = "short";
    o.secret_key = "short";
    refused(o, "");
    /* and accepted when right; nothing connects before run */
    o = opts_for("tcp://127.0.0.1:5999");
    mlf_worker *w = NULL;
    char err[512] = "";
    ck_assert_msg(mlf_worker_new(&o, &w, err, sizeof err) == MLF_OK, "%s", err);
    ck_assert_str_eq(mlf_worker_name(w), "w1");
    mlf_worker_free(w);
    mlf_worker_free(NULL);
}
END_TEST

static volatile sig_atomic_t stop_flag;
static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Starts a worker connected to @p endpoint in a child process; returns its pid. The child exits 0 when
 * mlf_worker_run returned MLF_OK. */
static pid_t start_worker(const char *endpoint)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGTERM, on_term);
        mlf_worker_opts o = opts_for(endpoint);
        mlf_worker *w = NULL;
        char err[512];
        if (mlf_worker_new(&o, &w, err, sizeof err) != MLF_OK) {
            fprintf(stderr, "worker: %s\n", err);
            _exit(3);
        }
        int rc = mlf_worker_run(w, &stop_flag);
        mlf_worker_free(w);
        mlf_catalog_free(cat);
        _exit(rc == MLF_OK ? 0 : 1);
    }
    return pid;
}

typedef struct sched {
    void *ctx, *sock;
    char endpoint[128];
    mlf_proto_peer peer; /* the worker, once it said READY */
    char log[16384];     /* the LOG data received */
} sched;

static void sched_open(sched *s)
{
    memset(s, 0, sizeof *s);
    s->ctx = zmq_ctx_new();
    s->sock = zmq_socket(s->ctx, ZMQ_ROUTER);
    int one = 1, zero = 0;
    zmq_setsockopt(s->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(s->sock, ZMQ_LINGER, &zero, sizeof zero);
    ck_assert_int_eq(zmq_bind(s->sock, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof s->endpoint;
    ck_assert_int_eq(zmq_getsockopt(s->sock, ZMQ_LAST_ENDPOINT, s->endpoint, &len), 0);
}

static void sched_close(sched *s)
{
    zmq_close(s->sock);
    zmq_ctx_term(s->ctx);
}

static mlf_time_us now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sched_send(sched *s, const mlf_proto_msg *m)
{
    ck_assert_int_eq(mlf_proto_send(s->sock, s->peer.rid, s->peer.rid_len, m), MLF_OK);
}

/* Receives the next message of command @p cmd (others are dropped, heartbeats answered when @p beat),
 * failing after @p max_ms. Returns it in @p out (clear it). */
static void sched_expect(sched *s, int cmd, int beat, long max_ms, mlf_proto_msg *out)
{
    mlf_time_us give_up = now_us() + tu_bound_ms(max_ms) * MS, last_beat = 0;
    for (;;) {
        mlf_time_us now = now_us();
        ck_assert_msg(now < give_up, "no %s within %ld ms", mlf_proto_cmd_name(cmd), max_ms);
        if (beat && s->peer.rid_len && now - last_beat >= 100 * MS) {
            mlf_proto_msg hb = {.cmd = MLF_PROTO_HEARTBEAT};
            mlf_proto_send(s->sock, s->peer.rid, s->peer.rid_len, &hb);
            last_beat = now;
        }
        zmq_pollitem_t it = {.socket = s->sock, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 20) <= 0)
            continue;
        mlf_proto_peer peer;
        char err[256];
        int rc = mlf_proto_recv(s->sock, 1, &peer, out, err, sizeof err);
        ck_assert_msg(rc == MLF_OK, "the worker sent a malformed message: %s", err);
        if ((int)out->cmd == MLF_PROTO_READY)
            s->peer = peer;
        if ((int)out->cmd == MLF_PROTO_LOG) { /* the try's log, streamed */
            size_t have = strlen(s->log), room = sizeof s->log - 1 - have;
            size_t n = out->data_len < room ? out->data_len : room;
            memcpy(s->log + have, out->data, n);
            s->log[have + n] = '\0';
        }
        if ((int)out->cmd == cmd)
            return;
        mlf_proto_msg_clear(out);
    }
}

static int has(const char *const *list, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], what) == 0)
            return 1;
    return 0;
}

/* Waits (bounded) for the child and returns its wait status. */
static int reap(pid_t pid, long max_ms)
{
    int status = -1;
    for (long waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 10) {
        if (waited > tu_bound_ms(max_ms)) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ck_abort_msg("the worker did not exit within %ld ms", max_ms);
        }
        usleep(10000);
    }
    return status;
}

START_TEST(test_runs_a_task_and_drains)
{
    sched s;
    sched_open(&s);
    pid_t pid = start_worker(s.endpoint);
    mlf_proto_msg m;
    sched_expect(&s, MLF_PROTO_READY, 0, 5000, &m);
    ck_assert_str_eq(m.name, "w1");
    ck_assert_int_eq(m.capacity, 2);
    ck_assert_int_eq(m.pid, pid);
    ck_assert(has(m.queues, m.nqueues, "default"));
    ck_assert(has(m.operators, m.noperators, "shell") && has(m.operators, m.noperators, "empty"));
    mlf_proto_msg_clear(&m);

    /* one TASK: a real task process runs the shell operator */
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "command", mlf_value_str("echo hello-from-the-worker"));
    char *log_path = tu_path(dir, "sched-side.log");
    mlf_task_spec spec = {.dag_id = "d", .task_id = "t", .run_id = "r", .map_index = -1, .try_number = 1,
                          .attempt = "a1", .operator_name = "shell", .plugin_path = SHELL_PLUGIN,
                          .params = params, .log_path = log_path, .xcom_max_size = 49152};
    mlf_value *payload = NULL;
    ck_assert_int_eq(mlf_task_spec_encode(&spec, &payload), MLF_OK);
    mlf_proto_msg task = {.cmd = MLF_PROTO_TASK, .payload = payload};
    sched_send(&s, &task);
    sched_expect(&s, MLF_PROTO_STARTED, 1, 10000, &m);
    ck_assert_str_eq(m.attempt, "a1");
    mlf_proto_msg_clear(&m);
    sched_expect(&s, MLF_PROTO_RESULT, 1, 20000, &m);
    ck_assert_str_eq(m.result->attempt, "a1");
    ck_assert_msg(m.result->outcome == MLF_SUCCESS, "outcome %d: %s", (int)m.result->outcome,
                  m.result->message ? m.result->message : "");
    mlf_proto_msg_clear(&m);
    /* not acknowledged: the RESULT comes again */
    sched_expect(&s, MLF_PROTO_RESULT, 1, 5000, &m);
    ck_assert_str_eq(m.result->attempt, "a1");
    mlf_proto_msg_clear(&m);
    mlf_proto_msg ack = {.cmd = MLF_PROTO_ACK, .attempt = "a1"};
    sched_send(&s, &ack);

    /* SIGTERM: capacity 0, DISCONNECT, exit 0 */
    kill(pid, SIGTERM);
    sched_expect(&s, MLF_PROTO_DISCONNECT, 1, 5000, &m);
    mlf_proto_msg_clear(&m);
    int status = reap(pid, 10000);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the worker ended with status %d", status);
    /* the try's log came back over the wire */
    ck_assert_msg(strstr(s.log, "hello-from-the-worker") != NULL, "LOG data: %s", s.log);
    mlf_value_free(payload);
    mlf_value_free(params);
    free(log_path);
    sched_close(&s);
}
END_TEST

START_TEST(test_silent_scheduler_means_register_again)
{
    sched s;
    sched_open(&s);
    /* the worker's silence clock starts when it first sends READY, some time after it starts: a new
     * registration can never come sooner than liveness x heartbeat (300 ms) after the start (a slow,
     * sanitized start may already be past that when its first READY arrives here) */
    mlf_time_us started = now_us();
    pid_t pid = start_worker(s.endpoint);
    mlf_proto_msg m;
    sched_expect(&s, MLF_PROTO_READY, 0, 5000, &m);
    mlf_proto_msg_clear(&m);
    mlf_proto_peer first = s.peer;
    /* say nothing: after liveness x heartbeat (300 ms) and a back-off of 100-200 ms it registers again, from
     * a new socket (a new routing id) */
    mlf_time_us t0 = now_us();
    do {
        ck_assert_msg(now_us() - t0 < tu_bound_ms(10000) * MS, "no READY from a new socket");
        sched_expect(&s, MLF_PROTO_READY, 0, 5000, &m);
        ck_assert_str_eq(m.name, "w1");
        mlf_proto_msg_clear(&m);
    } while (s.peer.rid_len == first.rid_len && memcmp(s.peer.rid, first.rid, first.rid_len) == 0);
    ck_assert_int_ge(now_us() - started, 300 * MS);
    /* a malformed message from the scheduler is dropped; the worker stays */
    zmq_send(s.sock, s.peer.rid, s.peer.rid_len, ZMQ_SNDMORE);
    zmq_send(s.sock, "garbage", 7, 0);
    kill(pid, SIGTERM);
    int status = reap(pid, 10000);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the worker ended with status %d", status);
    sched_close(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("worker");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_options_refused);
    tcase_add_test(tc, test_runs_a_task_and_drains);
    tcase_add_test(tc, test_silent_scheduler_means_register_again);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
