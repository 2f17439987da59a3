/* zmq -- the zmq executor plugin: task instances run on remote `mlflowd worker` processes that connect
 * to a ROUTER socket the scheduler binds (doc/protocol.md, MLFW/1).
 *
 * Dispatch is credit-based: each worker advertises its capacity, queues and loaded operators in READY; a
 * try goes only to a worker that listens on its queue, has its operator and has a free slot (never more
 * tries than slots). Before a TASK is sent, the try's lease (attempt token, worker, deadline) goes into the
 * scheduler's write batch through mlf_exec_lease_persist() from submit(); the TASK leaves in
 * after_commit(), once that batch is committed (or in a later process(), which only ever runs after a
 * commit). Every ended try drops its lease through mlf_exec_lease_drop() just before its result is reported.
 *
 * Every submitted try yields exactly one result, reported from process() with mlf_exec_report(): the worker's own RESULT when
 * it carries the try's attempt token and comes from the worker holding the lease, else a synthesized
 * "failed" result saying what happened ("zombie: worker w1 (host a, pid 12) stopped heartbeating: no
 * message for 3.0 s", "... disconnected", "the worker never acknowledged the task", "killed on request",
 * "the executor shut down before the task started"). A RESULT for an attempt without a current lease is
 * logged and ignored (a worker coming back late never overwrites a newer try), and acknowledged so that
 * the worker forgets it. LOG messages are appended to the try's log_path from its spec.
 *
 * Security: CurveZMQ with a ZAP allow-list, loopback included, unless zmq.insecure is true (keys: the
 * configured files, else the home's, created on the first start; SIGHUP re-reads the allow-list: the daemon's
 * mlf_reload_generation() changes). Messages are gated by direction and sender before decoding, bounded in
 * size and value count. Every duration runs on CLOCK_MONOTONIC; the wall-clock `now` passed in only dates
 * results. ACKs of RESULTs leave in after_commit(), after the commit holding the result. Every message
 * is decoded by proto.c's strict decoder; malformed ones are dropped and logged (rate-limited), and a
 * registered worker that sends one is unregistered.
 *
 * SETTINGS: the zmq.* keys of the daemon's configuration (read with mlf_exec_setting()), which
 * `mlflowd worker` shares: zmq.bind, zmq.heartbeat, zmq.liveness, zmq.curve.enabled,
 * zmq.curve.secret_key_file, zmq.curve.authorized_keys, zmq.insecure, and home (for its default keys).
 *
 * BUILT against the SDK only (mlflowd/executor.h), with the protocol sources it shares with `mlflowd worker`
 * (core/exec/proto.c, zmq_auth.c, task_spec.c and the libc-only helpers they use) compiled in.
 *
 * THREADING: as mlflowd/executor.h: one thread makes every call; the executor owns a private zmq context (its
 * own inproc namespace, so its ZAP handler serves only its socket). fd() is an epoll descriptor over the
 * ZMQ_FD of its sockets; ZMQ_FD is edge-like, so next_deadline() returns "now" whenever a socket still
 * holds messages. */
#include <mlflowd/mlflowd.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "base/fsutil.h"
#include "base/strutil.h"
#include "exec/proto.h"
#include "exec/zmq_auth.h"
#include "time/duration.h"

#define COMPONENT "zmq executor"
#define SEC INT64_C(1000000)
/* Messages handled per process() call: a flood never starves the rest of the scheduler loop. */
#define MAX_MESSAGES_PER_TURN 2000
/* Malformed-message log lines allowed per window; the rest are counted and summed up. */
#define DROP_LOG_BURST 10
#define DROP_LOG_WINDOW (10 * SEC)
/* Settled attempts remembered, so that a RESULT repeated after its ACK got lost is acknowledged quietly. */
#define RECENT_ATTEMPTS 512
/* The least time adopted leases wait for their worker after a restart (one liveness period, but never
 * less: a worker needs a reconnect, a CURVE handshake and a READY). */
#define ADOPT_MIN (2 * SEC)
/* Messages queued per worker connection: sending (TASKs pipelined to a worker) and receiving. */
#define SEND_HWM 10000
#define RECV_HWM 100
/* ACKs waiting for the commit that holds their results. */
#define ACKS_MAX 4096
/* Retry delay when a worker's queue is full (EAGAIN). */
#define SEND_RETRY (10 * 1000)

/* ------------------------------------------------------------------------------------------ model */

typedef struct zworker {
    struct zworker *next;
    unsigned char rid[256];
    size_t rid_len;
    char *name;
    char instance[MLF_PROTO_TOKEN_MAX + 1];
    char *host;
    int64_t pid;
    char user_id[64];       /* its CURVE public key (Z85), "" without CURVE */
    int capacity;
    size_t busy;            /* leases bound to it */
    char **queues, **ops;
    size_t nqueues, nops;
    mlf_time_us last_recv, last_send; /* monotonic */
    uint64_t last_pick;     /* dispatch sequence number of its latest lease (ties go to the least recent) */
    char *gone;             /* set when it must be dropped: why (never NULL once set) */
    mlf_time_us registered_wall, heard_wall; /* wall clock: its READY, its latest message (worker records) */
    int heard;              /* a message came this turn: its record's heartbeat moves at the turn's end */
} zworker;

/* The reason of a worker gone while memory ran out. */
static char gone_oom[] = "is gone";

typedef enum lease_state { L_PENDING, L_SENT } lease_state;

typedef struct lease {
    struct lease *next;
    char attempt[MLF_PROTO_TOKEN_MAX + 1];
    zworker *w;             /* NULL for an adopted lease whose worker has not come back */
    char *worker_name;
    /* the identity the lease is bound to (doc/protocol.md section 4): a worker of the same name with
     * another key never gets it, one with the same key and another instance is a new process */
    char worker_instance[MLF_PROTO_TOKEN_MAX + 1];
    char worker_key[64];
    lease_state state;
    int persisted;          /* its lease record is in a committed (or committing) batch */
    mlf_value *spec;        /* pending: the TASK body */
    char *log_path;
    int log_fd;
    int64_t log_written;
    int log_failed;
    int64_t exec_timeout;
    int64_t xcom_max;       /* packed bytes allowed per XCom (0: unlimited) */
    int sensor;             /* a sensor's try: the only kind that may answer "reschedule" */
    int started;
    int adopted;            /* taken back after a restart: orphan_until starts with the first process() */
    /* monotonic, except the *_wall dates that go into results */
    mlf_time_us submitted, sent_at, backstop, orphan_until;
    mlf_time_us submitted_wall, sent_wall;
    int killed;             /* KILL sent: the try ends failed with kill_reason whatever it reports */
    char kill_reason[300];
    mlf_time_us kill_deadline;
} lease;

/* An ACK owed to a worker, sent once the commit holding the result is done. */
typedef struct owed_ack {
    char attempt[MLF_PROTO_TOKEN_MAX + 1];
    char name[MLF_PROTO_NAME_MAX + 1];
    char instance[MLF_PROTO_TOKEN_MAX + 1];
} owed_ack;

typedef struct done {
    struct done *next;
    mlf_value *result; /* an encoded TASK RESULT */
} done;

/* The zmq.* settings, read once at open(). */
typedef struct zconf {
    char *bind, *curve_enabled, *insecure, *secret_key_file, *authorized_keys, *home;
    int64_t heartbeat, liveness;
} zconf;

typedef struct zx {
    mlf_exec_host *host;    /* the daemon: results, leases */
    int64_t kill_grace;     /* the daemon's SIGTERM-to-SIGKILL grace */
    void *ctx, *router;
    mlf_zap *zap;
    mlf_authkeys *authkeys;
    char *authkeys_path;
    unsigned reload_seen;   /* mlf_reload_generation() when the allow-list was read */
    int epfd;
    char endpoint[256];
    int64_t hb, expiry;     /* heartbeat interval; liveness x interval */
    zworker *workers;
    size_t nworkers;
    lease *leases;
    size_t nleases;
    done *done, *done_tail;
    size_t ndone;
    uint64_t pick_seq;
    int more_pending;       /* the last process() stopped with messages left */
    mlf_time_us retry_send_at;
    int shutting_down;
    mlf_time_us shutdown_at;
    char recent[RECENT_ATTEMPTS][MLF_PROTO_TOKEN_MAX + 1];
    size_t recent_next;
    mlf_time_us drop_window;
    unsigned drops_logged, drops_suppressed;
    owed_ack *acks;
    size_t nacks, acks_cap;
    int processed;          /* process() ran once: adopted leases' windows have started */
    mlf_time_us wall;       /* the caller's wall clock at its latest call (result dates only) */
} zx;


/* ------------------------------------------------------------------------------------------ helpers */

/* Every duration here runs on CLOCK_MONOTONIC: a step of the wall clock never expires a worker or a try.
 * The `now` the scheduler passes in is wall time and only dates results. */
static mlf_time_us mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int str_in(const char *s, char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_lease(const void *a, const void *b)
{
    return strcmp((*(const struct lease *const *)a)->attempt, (*(const struct lease *const *)b)->attempt);
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char **copy_list(const char *const *v, size_t n)
{
    char **c = calloc(n + 1, sizeof *c);
    for (size_t i = 0; c && i < n; i++)
        if (!(c[i] = strdup(v[i]))) {
            free_list(c, i);
            return NULL;
        }
    return c;
}

/* "w1 (host a, pid 12)" for log lines. */
static void describe(const zworker *w, char *buf, size_t n)
{
    snprintf(buf, n, "%s (host %s, pid %lld)", w->name, w->host, (long long)w->pid);
}

/* An unregistered peer, by its routing id in hex. */
static void describe_peer(const mlf_proto_peer *p, char *buf, size_t n)
{
    size_t j = (size_t)snprintf(buf, n, "unregistered peer ");
    for (size_t i = 0; i < p->rid_len && j + 3 < n; i++)
        j += (size_t)snprintf(buf + j, n - j, "%02x", p->rid[i]);
}

static void free_worker(zworker *w)
{
    if (!w)
        return;
    free(w->name);
    free(w->host);
    free_list(w->queues, w->nqueues);
    free_list(w->ops, w->nops);
    if (w->gone != gone_oom)
        free(w->gone);
    free(w);
}

/* Hands the daemon what it shows of @p w in `mlflowd workers list` (mlf_exec_worker_update(): registrations
 * and departures are written in the turn's commit, heartbeats ride on later ones). */
static void record_worker(zx *x, zworker *w)
{
    w->heard = 0;
    if (!w->name)
        return; /* never registered (out of memory while it tried) */
    mlf_value *m = mlf_value_map(), *q = mlf_value_array(), *ops = mlf_value_array();
    for (size_t i = 0; q && i < w->nqueues; i++)
        mlf_array_append(q, mlf_value_str(w->queues[i]));
    for (size_t i = 0; ops && i < w->nops; i++)
        mlf_array_append(ops, mlf_value_str(w->ops[i]));
    mlf_map_set(m, "name", mlf_value_str(w->name));
    mlf_map_set(m, "executor", mlf_value_str("zmq"));
    mlf_map_set(m, "state", mlf_value_str(w->gone ? "gone" : "ready"));
    mlf_map_set(m, "host", mlf_value_str(w->host ? w->host : ""));
    mlf_map_set(m, "pid", mlf_value_int(w->pid));
    if (w->gone)
        mlf_map_set(m, "reason", mlf_value_str(w->gone));
    mlf_map_set(m, "slots", mlf_value_int(w->capacity));
    mlf_map_set(m, "running", mlf_value_int((int64_t)w->busy));
    mlf_map_set(m, "queues", q ? q : mlf_value_nil());
    mlf_map_set(m, "operators", ops ? ops : mlf_value_nil());
    if (w->user_id[0])
        mlf_map_set(m, "key", mlf_value_str(w->user_id));
    mlf_map_set(m, "registered_at", mlf_value_int(w->registered_wall));
    mlf_map_set(m, "last_heartbeat", mlf_value_int(w->heard_wall));
    mlf_map_set(m, "liveness", mlf_value_int(x->expiry));
    int rc = m ? mlf_exec_worker_update(x->host, m) : MLF_ENOMEM;
    if (rc != MLF_OK && rc != MLF_ENOTSUP)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "cannot record worker %s: %s", w->name, mlf_strerror(rc));
    mlf_value_free(m);
}

static void free_lease(lease *l)
{
    if (!l)
        return;
    if (l->log_fd >= 0)
        close(l->log_fd);
    mlf_value_free(l->spec);
    free(l->worker_name);
    free(l->log_path);
    free(l);
}

static zworker *find_worker_rid(zx *x, const unsigned char *rid, size_t len)
{
    for (zworker *w = x->workers; w; w = w->next)
        if (w->rid_len == len && memcmp(w->rid, rid, len) == 0)
            return w;
    return NULL;
}

static zworker *find_worker_name(zx *x, const char *name)
{
    for (zworker *w = x->workers; w; w = w->next)
        if (strcmp(w->name, name) == 0)
            return w;
    return NULL;
}

static lease *find_lease(zx *x, const char *attempt)
{
    for (lease *l = x->leases; l; l = l->next)
        if (strcmp(l->attempt, attempt) == 0)
            return l;
    return NULL;
}

static int recently_settled(const zx *x, const char *attempt)
{
    for (size_t i = 0; i < RECENT_ATTEMPTS; i++)
        if (x->recent[i][0] && strcmp(x->recent[i], attempt) == 0)
            return 1;
    return 0;
}

/* Logs a dropped message, at most DROP_LOG_BURST lines per window; the rest are counted. */
static void log_drop(zx *x, mlf_time_us now, const char *fmt, ...) MLF_PRINTF(3, 4);
static void log_drop(zx *x, mlf_time_us now, const char *fmt, ...)
{
    if (now >= x->drop_window) {
        if (x->drops_suppressed)
            mlf_log(MLF_LOG_WARNING, COMPONENT, "%u more malformed or unexpected messages were dropped",
                    x->drops_suppressed);
        x->drop_window = now + DROP_LOG_WINDOW;
        x->drops_logged = x->drops_suppressed = 0;
    }
    if (x->drops_logged >= DROP_LOG_BURST) {
        x->drops_suppressed++;
        return;
    }
    x->drops_logged++;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mlf_log(MLF_LOG_WARNING, COMPONENT, "%s", line);
}

static void mark_gone(zworker *w, const char *fmt, ...) MLF_PRINTF(2, 3);
static void mark_gone(zworker *w, const char *fmt, ...)
{
    if (w->gone)
        return;
    mlf_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    mlf_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    w->gone = b.data ? mlf_buf_steal(&b) : NULL;
    if (!w->gone)
        w->gone = gone_oom;
}

/* ------------------------------------------------------------------------------------------ sending */

/* Sends @p m to @p w. A peer that is gone (EHOSTUNREACH) marks the worker gone; the caller sweeps. */
static int send_to(zx *x, zworker *w, const mlf_proto_msg *m, mlf_time_us now)
{
    int rc = mlf_proto_send(x->router, w->rid, w->rid_len, m);
    if (rc == MLF_OK)
        w->last_send = now;
    else if (rc == EHOSTUNREACH)
        mark_gone(w, "disconnected");
    else if (rc != EAGAIN)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "cannot send %s to worker %s: %s", mlf_proto_cmd_name(m->cmd), w->name,
                mlf_strerror(rc));
    return rc;
}

static void send_disconnect_rid(zx *x, const unsigned char *rid, size_t len, const char *reason)
{
    mlf_proto_msg m = {.cmd = MLF_PROTO_DISCONNECT, .reason = reason};
    mlf_proto_send(x->router, rid, len, &m);
}

static void send_kill(zx *x, zworker *w, const char *attempt, const char *reason, mlf_time_us now)
{
    if (!w || w->gone)
        return;
    mlf_proto_msg m = {.cmd = MLF_PROTO_KILL, .attempt = attempt, .reason = reason};
    send_to(x, w, &m, now);
}

static void send_ack(zx *x, zworker *w, const char *attempt, mlf_time_us now)
{
    mlf_proto_msg m = {.cmd = MLF_PROTO_ACK, .attempt = attempt};
    send_to(x, w, &m, now);
}

/* ------------------------------------------------------------------------------------------ logs */

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static int open_log(zx *x, lease *l)
{
    (void)x;
    if (l->log_fd >= 0 || l->log_failed || !l->log_path)
        return l->log_fd;
    int rc = mlf_mkdir_parents(l->log_path);
    if (rc == 0 && (l->log_fd = open(l->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                                           0640)) < 0)
        rc = errno;
    if (rc != 0) {
        l->log_failed = 1;
        mlf_log(MLF_LOG_WARNING, COMPONENT, "cannot write the log of attempt %s to %s: %s", l->attempt, l->log_path,
                strerror(rc));
    }
    return l->log_fd;
}

/* Appends the bytes of a LOG message, skipping what an earlier copy already delivered. */
static void append_log(zx *x, lease *l, int64_t offset, const void *data, size_t len)
{
    int64_t end = offset + (int64_t)len;
    if (end <= l->log_written || open_log(x, l) < 0)
        return;
    if (offset > l->log_written) {
        char note[128];
        int n = snprintf(note, sizeof note, "\n[mlflowd: %lld bytes of this log were lost in transit]\n",
                         (long long)(offset - l->log_written));
        write_all(l->log_fd, note, (size_t)n);
    }
    size_t skip = l->log_written > offset ? (size_t)(l->log_written - offset) : 0;
    write_all(l->log_fd, (const char *)data + skip, len - skip);
    l->log_written = end;
}

/* Adds a line from the executor itself to the try's log (why it was failed). */
static void note_in_log(zx *x, lease *l, const char *msg)
{
    if (l->state != L_SENT || open_log(x, l) < 0)
        return;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char line[1200];
    int n = snprintf(line, sizeof line, "[%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ] {mlflowd} ERROR - %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, msg);
    write_all(l->log_fd, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
}

/* ------------------------------------------------------------------------------------------ settling */

static void unlink_lease(zx *x, lease *l)
{
    for (lease **p = &x->leases; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            x->nleases--;
            break;
        }
    if (l->w && l->w->busy)
        l->w->busy--;
}

static void push_done(zx *x, mlf_value *result)
{
    done *d = calloc(1, sizeof *d);
    if (!d) {
        mlf_value_free(result);
        mlf_log(MLF_LOG_ERROR, COMPONENT, "out of memory: a task result is lost");
        return;
    }
    d->result = result;
    if (x->done_tail)
        x->done_tail->next = d;
    else
        x->done = d;
    x->done_tail = d;
    x->ndone++;
}

/* Ends @p l: drops its lease and queues its result: @p received (a worker's RESULT body, copied) when
 * given and the try was not killed, else a failed result with @p why (or the kill reason). */
static void settle(zx *x, lease *l, const mlf_value *received, const char *why, mlf_time_us now)
{
    (void)now;
    unlink_lease(x, l);
    mlf_exec_lease_drop(x->host, l->attempt);
    snprintf(x->recent[x->recent_next], sizeof x->recent[0], "%s", l->attempt);
    x->recent_next = (x->recent_next + 1) % RECENT_ATTEMPTS;

    mlf_value *out = NULL;
    mlf_task_result *got = NULL;
    if (received && mlf_task_result_decode(received, &got, NULL, 0) != MLF_OK)
        got = NULL;
    if (got && !l->killed) {
        out = mlf_value_copy(received);
    } else {
        const char *msg = l->killed ? l->kill_reason : why ? why : "the try ended for an unknown reason";
        if (!got)
            note_in_log(x, l, msg);
        mlf_task_result r = {.attempt = l->attempt, .outcome = MLF_FAILED, .message = msg,
                             .start_date = got ? got->start_date : (l->sent_wall ? l->sent_wall : l->submitted_wall),
                             .end_date = got ? got->end_date : x->wall, .exit_status = got ? got->exit_status : -1,
                             .exit_signal = got ? got->exit_signal : 0, .pid = got ? got->pid : 0,
                             .hostname = got ? got->hostname : l->w ? l->w->host : ""};
        mlf_task_result_encode(&r, &out);
    }
    mlf_task_result_free(got);
    if (out)
        push_done(x, out);
    else
        mlf_log(MLF_LOG_ERROR, COMPONENT, "out of memory: the result of attempt %s is lost", l->attempt);
    free_lease(l);
}

/* Settles every lease of @p w as failed and forgets the worker. */
static void drop_worker(zx *x, zworker *w, mlf_time_us now)
{
    char who[400];
    describe(w, who, sizeof who);
    size_t failed = 0;
    for (lease *l = x->leases, *next; l; l = next) {
        next = l->next;
        if (l->w != w)
            continue;
        char msg[700];
        if (l->state == L_PENDING)
            snprintf(msg, sizeof msg, "worker %s was gone (%s) before the task could be sent", who, w->gone);
        else
            snprintf(msg, sizeof msg, "zombie: worker %s %s", who, w->gone);
        settle(x, l, NULL, msg, now);
        failed++;
    }
    mlf_log(MLF_LOG_WARNING, COMPONENT, "worker %s is gone: %s; %zu tr%s failed", who, w->gone, failed,
            failed == 1 ? "y" : "ies");
    record_worker(x, w);
    for (zworker **p = &x->workers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            x->nworkers--;
            break;
        }
    free_worker(w);
}

static void sweep_gone(zx *x, mlf_time_us now)
{
    for (zworker *w = x->workers, *next; w; w = next) {
        next = w->next;
        if (w->gone)
            drop_worker(x, w, now);
    }
}

/* Asks @p w to stop @p l; the worker's failed RESULT (or the backstop) settles it. */
static void kill_lease(zx *x, lease *l, const char *reason, mlf_time_us now)
{
    if (l->killed)
        return;
    l->killed = 1;
    snprintf(l->kill_reason, sizeof l->kill_reason, "%s", reason);
    l->kill_deadline = now + x->kill_grace + 2 * x->expiry;
    send_kill(x, l->w, l->attempt, reason, now);
}

/* ------------------------------------------------------------------------------------------ dispatch */

static void send_task(zx *x, lease *l, mlf_time_us now)
{
    mlf_proto_msg m = {.cmd = MLF_PROTO_TASK, .payload = l->spec};
    int rc = send_to(x, l->w, &m, now);
    if (rc == MLF_OK) {
        l->state = L_SENT;
        l->sent_at = now;
        l->sent_wall = x->wall;
        l->backstop = l->exec_timeout > 0 ? now + l->exec_timeout + x->kill_grace + 2 * x->expiry : 0;
        mlf_value_free(l->spec);
        l->spec = NULL;
    } else if (rc == EAGAIN) {
        x->retry_send_at = now + SEND_RETRY;
    } else if (rc != EHOSTUNREACH) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot send the task to worker %s: %s", l->w->name, mlf_strerror(rc));
        settle(x, l, NULL, msg, now);
    }
}

/* Sends every TASK whose lease is persisted. */
static void send_pending(zx *x, mlf_time_us now)
{
    x->retry_send_at = 0;
    for (lease *l = x->leases, *next; l; l = next) {
        next = l->next;
        if (l->state == L_PENDING && l->persisted && l->w && !l->w->gone)
            send_task(x, l, now);
    }
}

static int listens(const zworker *w, const char *queue)
{
    return str_in(queue, w->queues, w->nqueues);
}

static int has_op(const zworker *w, const char *op)
{
    return str_in(op, w->ops, w->nops);
}

static size_t free_slots(const zworker *w)
{
    return w->capacity > 0 && (size_t)w->capacity > w->busy ? (size_t)w->capacity - w->busy : 0;
}

/* Busy now for every try while shutting down; else "wait" with the reason when nothing can take this one
 * (other queues and operators may still go). */
static mlf_exec_accept zx_can_accept(void *impl, const char *queue, const char *op, char *why, size_t whylen)
{
    zx *x = impl;
    if (!queue || !*queue)
        queue = "default";
    if (x->shutting_down) {
        snprintf(why, whylen, "the zmq executor is shutting down");
        return MLF_EXEC_BUSY;
    }
    size_t on_queue = 0, with_op = 0, slots = 0, live = 0;
    for (zworker *w = x->workers; w; w = w->next) {
        if (w->gone)
            continue;
        live++;
        if (!listens(w, queue))
            continue;
        on_queue++;
        if (!op || !has_op(w, op))
            continue;
        with_op++;
        slots += free_slots(w);
    }
    if (live == 0)
        snprintf(why, whylen, "no worker is connected to %s (start one with: mlflowd worker --connect %s)", x->endpoint,
                 x->endpoint);
    else if (on_queue == 0)
        snprintf(why, whylen, "no connected worker listens on queue '%s'", queue);
    else if (with_op == 0)
        snprintf(why, whylen, "no worker listening on queue '%s' has operator '%s' loaded", queue, op ? op : "?");
    else if (slots == 0)
        snprintf(why, whylen, "all slots of the %zu worker(s) listening on queue '%s' with operator '%s' are busy",
                 with_op, queue, op);
    return live && on_queue && with_op && slots ? MLF_EXEC_ACCEPT : MLF_EXEC_WAIT;
}

/* The eligible worker with the most free slots; ties go to the one picked least recently. */
static zworker *pick_worker(zx *x, const char *queue, const char *op)
{
    zworker *best = NULL;
    for (zworker *w = x->workers; w; w = w->next) {
        if (w->gone || !listens(w, queue) || !has_op(w, op) || !free_slots(w))
            continue;
        if (!best || free_slots(w) > free_slots(best) ||
            (free_slots(w) == free_slots(best) && w->last_pick < best->last_pick))
            best = w;
    }
    return best;
}

static int zx_submit(void *impl, const mlf_value *spec, const char *queue, mlf_time_us now, char *err, size_t errlen)
{
    zx *x = impl;
    x->wall = now;
    now = mono();
    if (err && errlen)
        err[0] = '\0';
    if (!spec)
        return MLF_EINVAL;
    if (!queue || !*queue)
        queue = "default";
    if (x->shutting_down) {
        snprintf(err, errlen, "the zmq executor is shutting down");
        return MLF_ESTATE;
    }
    mlf_task_spec *s = NULL;
    int rc = mlf_task_spec_decode(spec, &s, err, errlen);
    if (rc != MLF_OK)
        return rc;
    lease *l = NULL;
    zworker *w = NULL;
    if (!mlf_proto_valid_token(s->attempt)) {
        snprintf(err, errlen, "attempt token '%.80s' cannot travel in MLFW/1 (1..64 characters of "
                              "A-Z a-z 0-9 _ . @ : + -)", s->attempt);
        rc = MLF_EINVAL;
    } else if (find_lease(x, s->attempt)) {
        snprintf(err, errlen, "a try with attempt token '%s' is already in flight", s->attempt);
        rc = MLF_EEXIST;
    } else if (!(w = pick_worker(x, queue, s->operator_name))) {
        char why[300] = "";
        zx_can_accept(x, queue, s->operator_name, why, sizeof why);
        snprintf(err, errlen, "no worker can take the task now: %s", why);
        rc = MLF_ESTATE;
    }
    if (rc == MLF_OK) {
        void *body;
        size_t len;
        mlf_proto_msg m = {.cmd = MLF_PROTO_TASK, .payload = spec};
        rc = mlf_proto_encode(&m, &body, &len); /* refuse here what the TASK frame could not carry */
        if (rc == MLF_ETOOBIG)
            snprintf(err, errlen, "the task spec is bigger than the %zu bytes a TASK may carry",
                     mlf_proto_body_max(MLF_PROTO_TASK));
        if (rc == MLF_OK)
            free(body);
    }
    if (rc == MLF_OK && !(l = calloc(1, sizeof *l)))
        rc = MLF_ENOMEM;
    if (rc == MLF_OK) {
        l->log_fd = -1;
        snprintf(l->attempt, sizeof l->attempt, "%s", s->attempt);
        l->w = w;
        l->worker_name = strdup(w->name);
        snprintf(l->worker_instance, sizeof l->worker_instance, "%s", w->instance);
        snprintf(l->worker_key, sizeof l->worker_key, "%s", w->user_id);
        l->spec = mlf_value_copy(spec);
        l->log_path = strdup(s->log_path);
        l->exec_timeout = s->execution_timeout;
        l->xcom_max = s->xcom_max_size;
        l->sensor = s->sensor || s->sensor_poke;
        l->submitted = now;
        l->submitted_wall = x->wall;
        if (!l->worker_name || !l->spec || !l->log_path)
            rc = MLF_ENOMEM;
    }
    if (rc == MLF_OK) {
        /* the lease is bound to the worker's name, instance and key: "NAME INSTANCE KEY" ("-": no CURVE) */
        char ident[MLF_PROTO_NAME_MAX + MLF_PROTO_TOKEN_MAX + 70];
        snprintf(ident, sizeof ident, "%s %s %s", w->name, w->instance, w->user_id[0] ? w->user_id : "-");
        rc = mlf_exec_lease_persist(x->host, l->attempt, ident, x->wall + x->expiry);
        if (rc != MLF_OK)
            snprintf(err, errlen, "cannot record the lease of attempt %s: %s", l->attempt, mlf_strerror(rc));
    }
    mlf_task_spec_free(s);
    if (rc != MLF_OK) {
        free_lease(l);
        if (rc == MLF_ENOMEM && err && errlen && !err[0])
            snprintf(err, errlen, "out of memory");
        return rc;
    }
    l->next = x->leases;
    x->leases = l;
    x->nleases++;
    w->busy++;
    w->last_pick = ++x->pick_seq;
    l->persisted = 1; /* in the turn's batch: after_commit() (or any later process()) sends it */
    return MLF_OK;
}

static void send_owed_acks(zx *x, mlf_time_us now)
{
    for (size_t i = 0; i < x->nacks; i++) {
        owed_ack *a = &x->acks[i];
        zworker *w = find_worker_name(x, a->name);
        if (w && !w->gone && strcmp(w->instance, a->instance) == 0) /* else it repeats the RESULT: ACKed then */
            send_ack(x, w, a->attempt, now);
    }
    x->nacks = 0;
}

static void zx_after_commit(void *impl, mlf_time_us now)
{
    zx *x = impl;
    x->wall = now;
    now = mono();
    /* the results these ACKs answer were reported before the commit that just ended: they are in the store,
     * so the workers may forget them (doc/protocol.md section 4) */
    send_owed_acks(x, now);
    send_pending(x, now);
    sweep_gone(x, now);
}

/* Owes @p w an ACK for @p attempt: sent after the next commit (the one that holds its result). */
static void owe_ack(zx *x, zworker *w, const char *attempt)
{
    for (size_t i = 0; i < x->nacks; i++)
        if (strcmp(x->acks[i].attempt, attempt) == 0 && strcmp(x->acks[i].instance, w->instance) == 0)
            return;
    if (x->nacks == x->acks_cap) {
        size_t cap = x->acks_cap ? 2 * x->acks_cap : 64;
        owed_ack *v = cap <= ACKS_MAX ? realloc(x->acks, cap * sizeof *v) : NULL;
        if (!v)
            return; /* the worker repeats its RESULT after a liveness period and is ACKed then */
        x->acks = v;
        x->acks_cap = cap;
    }
    owed_ack *a = &x->acks[x->nacks++];
    snprintf(a->attempt, sizeof a->attempt, "%s", attempt);
    snprintf(a->name, sizeof a->name, "%s", w->name);
    snprintf(a->instance, sizeof a->instance, "%s", w->instance);
}

/* ------------------------------------------------------------------------------------------ messages */

/* Applies a READY: registers, reconnects or updates a worker, and reconciles its tries. */
static void on_ready(zx *x, zworker *w, const mlf_proto_peer *peer, const mlf_proto_msg *m, mlf_time_us now)
{
    int reconnected = 0, fresh = 0;
    if (w && (strcmp(w->name, m->name) != 0 || strcmp(w->instance, m->instance) != 0)) {
        mark_gone(w, "announced another identity (%s/%s) on the same connection", m->name, m->instance);
        send_disconnect_rid(x, peer->rid, peer->rid_len, "one connection, one worker identity");
        return;
    }
    if (!w) {
        zworker *o = find_worker_name(x, m->name);
        if (o && !o->gone && strcmp(o->instance, m->instance) == 0 && strcmp(o->user_id, peer->user_id) == 0) {
            memcpy(o->rid, peer->rid, peer->rid_len); /* the same worker process on a new connection */
            o->rid_len = peer->rid_len;
            w = o;
            reconnected = 1;
        } else if (o && !o->gone && (now - o->last_recv < x->expiry || strcmp(o->user_id, peer->user_id) != 0)) {
            char who[400], reason[600];
            describe(o, who, sizeof who);
            snprintf(reason, sizeof reason, "a worker named '%s' is already connected%s: %s", m->name,
                     strcmp(o->user_id, peer->user_id) != 0 ? " with another key" : "", who);
            log_drop(x, now, "refused worker %s (host %s, pid %lld): %s", m->name, m->host, (long long)m->pid, reason);
            send_disconnect_rid(x, peer->rid, peer->rid_len, reason);
            return;
        } else if (o) {
            mark_gone(o, "was replaced by a new worker process with the same name");
            drop_worker(x, o, now);
        }
    }
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w)
            return;
        memcpy(w->rid, peer->rid, peer->rid_len);
        w->rid_len = peer->rid_len;
        w->next = x->workers;
        x->workers = w;
        x->nworkers++;
        w->last_send = now;
        fresh = 1;
    }
    char **q = copy_list(m->queues, m->nqueues), **ops = copy_list(m->operators, m->noperators);
    char *name = strdup(m->name), *host = strdup(m->host);
    if (!q || !ops || !name || !host) {
        free_list(q, m->nqueues);
        free_list(ops, m->noperators);
        free(name);
        free(host);
        mark_gone(w, "could not be registered: out of memory");
        return;
    }
    free_list(w->queues, w->nqueues);
    free_list(w->ops, w->nops);
    free(w->name);
    free(w->host);
    w->queues = q;
    w->nqueues = m->nqueues;
    w->ops = ops;
    w->nops = m->noperators;
    w->name = name;
    w->host = host;
    snprintf(w->instance, sizeof w->instance, "%s", m->instance);
    snprintf(w->user_id, sizeof w->user_id, "%s", peer->user_id);
    w->pid = m->pid;
    w->capacity = m->capacity;
    w->last_recv = now;
    w->heard_wall = x->wall;
    if (fresh || reconnected)
        w->registered_wall = x->wall;

    char who[400];
    describe(w, who, sizeof who);
    if (fresh || reconnected) {
        mlf_buf qs = {0};
        for (size_t i = 0; i < w->nqueues; i++)
            mlf_buf_printf(&qs, "%s%s", i ? "," : "", w->queues[i]);
        mlf_log(MLF_LOG_INFO, COMPONENT, "worker %s %s: %d slot(s), queues %s, %zu operator(s)%s%s", who,
                reconnected ? "reconnected" : "ready", w->capacity, qs.data ? qs.data : "(none)", w->nops,
                w->user_id[0] ? ", key " : "", w->user_id);
        mlf_buf_free(&qs);
    }
    /* tries it should hold: on a new connection anything sent before and not listed was lost; adopted
     * leases (a scheduler restart) come back to it or fail. Sorted lists: a READY costs
     * O((attempts + leases) log attempts), not their product. */
    const char **listed_v = NULL;
    size_t nlisted = m->nrunning + m->nfinished;
    if (nlisted && (listed_v = malloc(nlisted * sizeof *listed_v))) {
        memcpy(listed_v, m->running, m->nrunning * sizeof *listed_v);
        memcpy(listed_v + m->nrunning, m->finished, m->nfinished * sizeof *listed_v);
        qsort(listed_v, nlisted, sizeof *listed_v, cmp_str);
    } else if (nlisted) {
        mark_gone(w, "could not be registered: out of memory");
        return;
    }
    for (lease *l = x->leases, *next; l; l = next) {
        next = l->next;
        int listed = listed_v && bsearch(&(const char *){l->attempt}, listed_v, nlisted, sizeof *listed_v, cmp_str);
        if (!l->w && strcmp(l->worker_name, w->name) == 0) {
            if (l->worker_key[0] && strcmp(l->worker_key, w->user_id) != 0)
                continue; /* the name, but not the key the lease is bound to: not its try */
            int same_process = !l->worker_instance[0] || strcmp(l->worker_instance, w->instance) == 0;
            if (listed && same_process) {
                l->w = w;
                w->busy++;
                l->started = 1;
                l->orphan_until = 0;
            } else {
                settle(x, l, NULL, same_process
                                       ? "lost: the worker came back after the scheduler restarted without this try"
                                       : "lost: the worker that ran it was restarted while the scheduler was down",
                       now);
            }
        } else if (l->w == w && l->state == L_SENT && reconnected) {
            if (listed)
                l->started = 1;
            else
                settle(x, l, NULL, "lost: the worker reconnected without this try (the task never reached it)",
                       now);
        }
    }
    free(listed_v);
    record_worker(x, w);
    /* tries it runs that nobody holds a lease on (given up on, or from before a restart): stop them */
    lease **by_attempt = NULL;
    size_t nl = 0;
    if (m->nrunning && (by_attempt = malloc((x->nleases ? x->nleases : 1) * sizeof *by_attempt))) {
        for (lease *l = x->leases; l; l = l->next)
            by_attempt[nl++] = l;
        qsort(by_attempt, nl, sizeof *by_attempt, cmp_lease);
    }
    for (size_t i = 0; by_attempt && i < m->nrunning; i++) {
        lease key, *kp = &key;
        snprintf(key.attempt, sizeof key.attempt, "%s", m->running[i]);
        lease **hit = bsearch(&kp, by_attempt, nl, sizeof *by_attempt, cmp_lease);
        if (!hit || (*hit)->w != w)
            send_kill(x, w, m->running[i], "no lease: the scheduler gave this try up", now);
    }
    free(by_attempt);
}

/* Why a worker's RESULT for @p l cannot be believed as it stands (NULL: it can): a worker reports what the
 * try did, but the scheduler keeps the rules that a local try's runner enforces. */
static const char *distrust(const lease *l, const mlf_task_result *r, char *why, size_t whylen)
{
    if (!r)
        return NULL;
    if (r->outcome == MLF_RESCHEDULE && !l->sensor) {
        snprintf(why, whylen, "the worker reported 'reschedule' for a task that is not a sensor");
        return why;
    }
    for (size_t i = 0; l->xcom_max > 0 && i < mlf_value_len(r->xcoms); i++) {
        void *packed = NULL;
        size_t len = 0;
        if (mlf_value_pack(mlf_map_value_at(r->xcoms, i), &packed, &len) != MLF_OK)
            len = SIZE_MAX;
        free(packed);
        if (len > (uint64_t)l->xcom_max) {
            snprintf(why, whylen, "XCom '%.100s' from the worker is %zu bytes, above xcom.max_size (%lld)",
                     mlf_map_key_at(r->xcoms, i), len, (long long)l->xcom_max);
            return why;
        }
    }
    return NULL;
}

static void on_result(zx *x, zworker *w, const mlf_proto_msg *m, mlf_time_us now)
{
    lease *l = find_lease(x, m->attempt);
    char why[300];
    if (l && l->w == w) {
        const char *bad = distrust(l, m->result, why, sizeof why);
        if (bad)
            mlf_log(MLF_LOG_WARNING, COMPONENT, "refusing the result of attempt %s from worker %s: %s", m->attempt,
                    w->name, bad);
        settle(x, l, bad ? NULL : m->payload, bad, now);
    } else if (!recently_settled(x, m->attempt)) {
        mlf_log(MLF_LOG_WARNING, COMPONENT,
                "ignoring a result for attempt %s from worker %s: %s", m->attempt, w->name,
                l ? "the try is leased to another worker" : "it is not the current lease of any try");
    }
    owe_ack(x, w, m->attempt); /* settled one way or the other: forgotten once that is committed */
}

static void handle(zx *x, const mlf_proto_peer *peer, int rc, mlf_proto_msg *m, const char *err, mlf_time_us now)
{
    zworker *w = find_worker_rid(x, peer->rid, peer->rid_len);
    char who[400];
    if (w)
        describe(w, who, sizeof who);
    else
        describe_peer(peer, who, sizeof who);
    if (rc == MLF_ESTATE && !w) { /* the gate: a peer that has not registered sends only READY */
        log_drop(x, now, "dropped a %s from %s: send READY first", mlf_proto_cmd_name(m->cmd), who);
        send_disconnect_rid(x, peer->rid, peer->rid_len, "unknown worker: send READY first");
        return;
    }
    if (rc != MLF_OK) {
        log_drop(x, now, "dropped a malformed message from %s: %s", who, err && *err ? err : mlf_strerror(rc));
        if (rc == MLF_ENOTSUP || w) {
            char reason[600];
            snprintf(reason, sizeof reason, "malformed message: %.500s", err && *err ? err : mlf_strerror(rc));
            send_disconnect_rid(x, peer->rid, peer->rid_len, reason);
        }
        if (w)
            mark_gone(w, "sent a malformed message (%s)", err && *err ? err : mlf_strerror(rc));
        return;
    }
    if (w && peer->user_id[0] && strcmp(w->user_id, peer->user_id) != 0) {
        log_drop(x, now, "dropped a %s from %s: its key changed", mlf_proto_cmd_name(m->cmd), who);
        return;
    }
    if (m->cmd == MLF_PROTO_READY) {
        on_ready(x, w, peer, m, now);
        return;
    }
    if (!w) {
        if (m->cmd != MLF_PROTO_DISCONNECT)
            send_disconnect_rid(x, peer->rid, peer->rid_len, "unknown worker: send READY first");
        return;
    }
    w->last_recv = now;
    w->heard_wall = x->wall;
    w->heard = 1;
    lease *l = m->attempt ? find_lease(x, m->attempt) : NULL;
    switch (m->cmd) {
    case MLF_PROTO_HEARTBEAT:
        break;
    case MLF_PROTO_DISCONNECT:
        mark_gone(w, "disconnected (%s)", m->reason);
        break;
    case MLF_PROTO_STARTED:
        if (l && l->w == w)
            l->started = 1;
        break;
    case MLF_PROTO_LOG:
        if (l && l->w == w)
            append_log(x, l, m->offset, m->data, m->data_len);
        break;
    case MLF_PROTO_RESULT:
        on_result(x, w, m, now);
        break;
    default: /* TASK, KILL, ACK go the other way */
        log_drop(x, now, "dropped a %s from worker %s: only the scheduler sends it", mlf_proto_cmd_name(m->cmd), who);
        send_disconnect_rid(x, peer->rid, peer->rid_len, "protocol violation: workers do not send this command");
        mark_gone(w, "violated the protocol (sent %s)", mlf_proto_cmd_name(m->cmd));
        break;
    }
}

/* ------------------------------------------------------------------------------------------ the loop */

static void check_timers(zx *x, mlf_time_us now)
{
    for (zworker *w = x->workers; w; w = w->next) {
        if (w->gone)
            continue;
        if (now - w->last_recv >= x->expiry) {
            mark_gone(w, "stopped heartbeating: no message for %.1f s", (double)(now - w->last_recv) / 1e6);
            continue;
        }
        if (now - w->last_send >= x->hb) {
            mlf_proto_msg hb = {.cmd = MLF_PROTO_HEARTBEAT};
            send_to(x, w, &hb, now);
        }
    }
    int shutdown_due = x->shutting_down && now >= x->shutdown_at;
    for (lease *l = x->leases, *next; l; l = next) {
        next = l->next;
        if (l->w && l->w->gone)
            continue; /* the sweep settles it */
        if (!l->w) {
            if (now >= l->orphan_until)
                settle(x, l, NULL, "zombie: its worker did not come back after the scheduler restarted", now);
            continue;
        }
        if (l->state != L_SENT)
            continue;
        if (shutdown_due) {
            send_kill(x, l->w, l->attempt, "the scheduler shut down", now);
            settle(x, l, NULL, "killed: the executor shut down", now);
        } else if (l->killed && now >= l->kill_deadline) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s (the worker did not confirm the kill)", l->kill_reason);
            l->killed = 0;
            settle(x, l, NULL, msg, now);
        } else if (!l->started && now - l->sent_at >= x->expiry) {
            send_kill(x, l->w, l->attempt, "the task was given up as lost", now);
            settle(x, l, NULL, "lost: the worker never acknowledged the task", now);
        } else if (!l->killed && l->backstop && now >= l->backstop) {
            char d[MLF_DURATION_FMT_MAX], msg[200];
            mlf_duration_format(l->exec_timeout, d, sizeof d);
            snprintf(msg, sizeof msg, "execution_timeout of %s exceeded (the worker did not report it)", d);
            kill_lease(x, l, msg, now);
        }
    }
}

/* Decides before decoding (doc/protocol.md section 3): only commands that go from a worker to the
 * scheduler, and from a peer that has not registered only READY (and DISCONNECT), each within its body
 * limit; anything else is dropped without its body being looked at. */
static int gate(void *ud, const mlf_proto_peer *peer, int cmd, size_t body_len, char *err, size_t errlen)
{
    zx *x = ud;
    if (!mlf_proto_from_worker(cmd)) {
        snprintf(err, errlen, "%s: workers do not send this command", mlf_proto_cmd_name(cmd));
        return MLF_EPARSE;
    }
    if (body_len > mlf_proto_body_max(cmd)) {
        snprintf(err, errlen, "%s: a body of %zu bytes is above the limit of %zu", mlf_proto_cmd_name(cmd), body_len,
                 mlf_proto_body_max(cmd));
        return MLF_ETOOBIG;
    }
    if (cmd != MLF_PROTO_READY && cmd != MLF_PROTO_DISCONNECT && !find_worker_rid(x, peer->rid, peer->rid_len)) {
        snprintf(err, errlen, "%s from a peer that has not sent READY", mlf_proto_cmd_name(cmd));
        return MLF_ESTATE;
    }
    return MLF_OK;
}

/* SIGHUP: reads zmq.curve.authorized_keys again; a registered worker whose key is gone from it is dropped. */
static void reload_keys(zx *x, mlf_time_us now)
{
    x->reload_seen = mlf_reload_generation();
    if (!x->zap || !x->authkeys_path)
        return;
    mlf_authkeys *ak = NULL;
    char err[600] = "";
    int rc = mlf_authkeys_load(x->authkeys_path, &ak, err, sizeof err);
    if (rc != MLF_OK) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "keeping the previous allow-list: %s", err[0] ? err : mlf_strerror(rc));
        return;
    }
    mlf_zap_set_keys(x->zap, ak);
    mlf_authkeys_free(x->authkeys);
    x->authkeys = ak;
    size_t dropped = 0;
    for (zworker *w = x->workers; w; w = w->next) {
        unsigned char key[32];
        if (w->gone || !w->user_id[0])
            continue;
        if (!zmq_z85_decode(key, w->user_id) || !mlf_authkeys_allows(ak, key)) {
            mark_gone(w, "lost its authorization (its key is no longer in %s)", x->authkeys_path);
            send_disconnect_rid(x, w->rid, w->rid_len, "this worker's key is no longer authorized");
            dropped++;
        }
    }
    sweep_gone(x, now);
    mlf_log(MLF_LOG_INFO, COMPONENT, "reloaded %s: %zu authorized key(s), %zu worker(s) dropped", x->authkeys_path,
            mlf_authkeys_count(ak), dropped);
}

static int zx_process(void *impl, mlf_time_us now)
{
    zx *x = impl;
    x->wall = now;
    now = mono();
    if (!x->processed) { /* adopted leases' windows start when workers can first be heard */
        x->processed = 1;
        for (lease *l = x->leases; l; l = l->next)
            if (l->adopted && !l->w)
                l->orphan_until = now + (x->expiry > ADOPT_MIN ? x->expiry : ADOPT_MIN);
    }
    if (x->reload_seen != mlf_reload_generation())
        reload_keys(x, now);
    if (x->zap)
        mlf_zap_process(x->zap);
    int n = 0;
    for (; n < MAX_MESSAGES_PER_TURN; n++) {
        mlf_proto_peer peer;
        mlf_proto_msg m;
        char err[600];
        int rc = mlf_proto_recv_gated(x->router, 1, gate, x, &peer, &m, err, sizeof err);
        if (rc == EAGAIN || rc == EINTR) {
            mlf_proto_msg_clear(&m);
            break;
        }
        if (rc > 0 && rc != EAGAIN) { /* a zmq failure, not a message */
            mlf_proto_msg_clear(&m);
            mlf_log(MLF_LOG_ERROR, COMPONENT, "receiving from workers failed: %s", mlf_strerror(rc));
            break;
        }
        handle(x, &peer, rc, &m, err, now);
        mlf_proto_msg_clear(&m);
    }
    x->more_pending = n == MAX_MESSAGES_PER_TURN;
    if (x->drops_suppressed && now >= x->drop_window) {
        mlf_log(MLF_LOG_WARNING, COMPONENT, "%u more malformed or unexpected messages were dropped",
                x->drops_suppressed);
        x->drops_suppressed = 0;
    }
    /* every process() call runs after a commit: leases persisted earlier are safe to act on */
    if (!x->retry_send_at || now >= x->retry_send_at)
        send_pending(x, now);
    check_timers(x, now);
    sweep_gone(x, now);
    for (zworker *w = x->workers; w; w = w->next)
        if (w->heard)
            record_worker(x, w); /* one record per worker and turn, however many messages it sent */

    /* detach first: callbacks may submit or kill */
    done *d = x->done;
    x->done = x->done_tail = NULL;
    x->ndone = 0;
    int reported = 0;
    while (d) {
        done *next = d->next;
        int rc = mlf_exec_report(x->host, d->result); /* the TASK RESULT map, as the worker wrote it */
        if (rc != MLF_OK)
            mlf_log(MLF_LOG_ERROR, COMPONENT, "the daemon refused a settled result: %s", mlf_strerror(rc));
        mlf_value_free(d->result);
        free(d);
        d = next;
        reported++;
    }
    return reported;
}

static int readable(void *sock)
{
    int ev = 0;
    size_t len = sizeof ev;
    return sock && zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) == 0 && (ev & ZMQ_POLLIN);
}

static mlf_time_us next_deadline_mono(const zx *x);

/* The next deadline in the caller's (wall) clock: the monotonic deadline's distance from now. */
static mlf_time_us zx_next_deadline(void *impl)
{
    mlf_time_us next = next_deadline_mono(impl);
    if (next <= 1)
        return next;
    mlf_time_us left = next - mono();
    return left <= 0 ? 1 : mlf_clock_wall() + left;
}

static mlf_time_us next_deadline_mono(const zx *x)
{
    if (x->done || x->more_pending || readable(x->router) || (x->zap && readable(mlf_zap_socket(x->zap))))
        return 1; /* long past: there is work now */
    mlf_time_us next = 0;
#define CONSIDER(t)                              \
    do {                                         \
        mlf_time_us t_ = (t);                    \
        if (t_ > 0 && (next == 0 || t_ < next)) \
            next = t_;                           \
    } while (0)
    for (const zworker *w = x->workers; w; w = w->next) {
        CONSIDER(w->last_send + x->hb);
        CONSIDER(w->last_recv + x->expiry);
    }
    for (const lease *l = x->leases; l; l = l->next) {
        if (l->state == L_PENDING && !x->retry_send_at)
            return 1; /* after_commit() did not send it: process() will */
        if (!l->w)
            CONSIDER(l->orphan_until);
        else if (l->state == L_SENT) {
            if (!l->started)
                CONSIDER(l->sent_at + x->expiry);
            if (l->killed)
                CONSIDER(l->kill_deadline);
            else
                CONSIDER(l->backstop);
        }
        if (x->shutting_down)
            CONSIDER(x->shutdown_at);
    }
    CONSIDER(x->retry_send_at);
#undef CONSIDER
    return next;
}

static int zx_fd(void *impl)
{
    return ((const zx *)impl)->epfd;
}

static int zx_kill(void *impl, const char *attempt, mlf_time_us now)
{
    zx *x = impl;
    x->wall = now;
    now = mono();
    if (!attempt)
        return MLF_EINVAL;
    lease *l = find_lease(x, attempt);
    if (!l)
        return MLF_ENOTFOUND;
    if (l->killed)
        return MLF_OK;
    if (l->state == L_PENDING || !l->w)
        settle(x, l, NULL, l->state == L_PENDING ? "killed on request before it started" : "killed on request", now);
    else
        kill_lease(x, l, "killed on request", now);
    return MLF_OK;
}

static int zx_shutdown(void *impl, int64_t grace, mlf_time_us now)
{
    zx *x = impl;
    x->wall = now;
    now = mono();
    if (grace < 0)
        return MLF_EINVAL;
    if (x->shutting_down && x->shutdown_at <= now + grace)
        return MLF_OK;
    x->shutting_down = 1;
    x->shutdown_at = now + grace;
    for (lease *l = x->leases, *next; l; l = next) {
        next = l->next;
        if (l->state == L_PENDING)
            settle(x, l, NULL, "the executor shut down before the task started", now);
    }
    return MLF_OK;
}

static size_t zx_in_flight(void *impl)
{
    const zx *x = impl;
    return x->nleases + x->ndone;
}

static void zx_close(void *impl)
{
    zx *x = impl;
    if (!x)
        return;
    for (zworker *w = x->workers; w && x->router; w = w->next)
        send_disconnect_rid(x, w->rid, w->rid_len, "the scheduler is shutting down");
    while (x->workers) {
        zworker *w = x->workers;
        x->workers = w->next;
        free_worker(w);
    }
    while (x->leases) {
        lease *l = x->leases;
        x->leases = l->next;
        free_lease(l);
    }
    while (x->done) {
        done *d = x->done;
        x->done = d->next;
        mlf_value_free(d->result);
        free(d);
    }
    if (x->epfd >= 0)
        close(x->epfd);
    if (x->router)
        zmq_close(x->router);
    mlf_zap_free(x->zap);
    if (x->ctx)
        zmq_ctx_term(x->ctx);
    mlf_authkeys_free(x->authkeys);
    free(x->authkeys_path);
    free(x->acks);
    free(x);
}


/* ------------------------------------------------------------------------------------------ opening */

/* Decides whether CURVE is on: always, loopback included, unless zmq.insecure says otherwise (an explicit
 * choice, logged as such). Returns MLF_OK or MLF_EINVAL. */
static int decide_curve(const zconf *cfg, const char *bind, int *use, char *err, size_t errlen)
{
    const char *enabled = cfg->curve_enabled;
    const char *insecure_s = cfg->insecure;
    int insecure = insecure_s && strcmp(insecure_s, "true") == 0;
    if (enabled && strcmp(enabled, "true") == 0)
        *use = 1;
    else if (enabled && strcmp(enabled, "false") == 0)
        *use = 0;
    else
        *use = !insecure;
    if (!*use && !insecure) {
        snprintf(err, errlen,
                 "zmq.curve.enabled is false: refusing to accept unauthenticated workers on %s (pass --insecure, "
                 "i.e. zmq.insecure: true, to accept them anyway)", bind);
        return MLF_EINVAL;
    }
    if (!*use)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "zmq.bind %s WITHOUT CurveZMQ (--insecure): any %s that reaches it can "
                "pose as a worker and receives tasks with their secrets", bind,
                mlf_endpoint_is_loopback(bind) ? "local user" : "peer");
    return MLF_OK;
}

/* CURVE with the configured key files, or else the home's own (created on the first start). */
static int setup_curve(zx *x, const zconf *cfg, char *err, size_t errlen)
{
    if (!mlf_curve_available()) {
        snprintf(err, errlen, "CurveZMQ is required but this libzmq was built without it (no libsodium); pass "
                              "--insecure to run without authentication");
        return MLF_ENOTSUP;
    }
    char secret[MLF_CURVE_KEY_LEN + 1];
    const char *sk = cfg->secret_key_file;
    const char *ak = cfg->authorized_keys;
    mlf_home_keys hk = {0};
    int rc = MLF_OK;
    if ((!sk || !ak) && (rc = mlf_home_keys_get(cfg->home, 1, &hk, err, errlen)) != MLF_OK) {
        mlf_home_keys_clear(&hk);
        return rc;
    }
    if (!sk)
        sk = hk.server_secret;
    if (!ak)
        ak = hk.authorized;
    rc = mlf_curve_read_key_file(sk, 1, secret, err, errlen);
    if (rc == MLF_OK)
        rc = mlf_authkeys_load(ak, &x->authkeys, err, errlen);
    if (rc == MLF_OK && mlf_authkeys_count(x->authkeys) == 0) {
        snprintf(err, errlen, "%s lists no worker key: no worker could connect", ak);
        rc = MLF_EINVAL;
    }
    if (rc == MLF_OK && !(x->authkeys_path = strdup(ak)))
        rc = MLF_ENOMEM;
    mlf_home_keys_clear(&hk);
    x->reload_seen = mlf_zmq_reload_generation();
    /* the ZAP handler first: a CURVE server without one accepts any client key */
    if (rc == MLF_OK && (rc = mlf_zap_start(x->ctx, x->authkeys, &x->zap)) != MLF_OK)
        snprintf(err, errlen, "cannot start the ZAP handler: %s", mlf_strerror(rc));
    int one = 1;
    if (rc == MLF_OK && (zmq_setsockopt(x->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
                         zmq_setsockopt(x->router, ZMQ_CURVE_SECRETKEY, secret, MLF_CURVE_KEY_LEN) != 0 ||
                         zmq_setsockopt(x->router, ZMQ_ZAP_DOMAIN, "mlflowd", 7) != 0)) {
        rc = zmq_errno();
        snprintf(err, errlen, "cannot set up CurveZMQ: %s", zmq_strerror(rc));
    }
    explicit_bzero(secret, sizeof secret);
    return rc;
}

static int watch(zx *x, void *sock)
{
    int fd;
    size_t len = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
        return zmq_errno();
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = sock};
    return epoll_ctl(x->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? MLF_OK : errno;
}

/* A string setting as a new string, or NULL when unset (nil) or not a string. */
static char *setting_str(mlf_exec_host *host, const char *key)
{
    mlf_value *v = NULL;
    char *s = NULL;
    if (mlf_exec_setting(host, key, &v) == MLF_OK && mlf_value_type(v) == MLF_STR)
        s = strdup(mlf_value_get_str(v, NULL));
    mlf_value_free(v);
    return s;
}

static int64_t setting_int(mlf_exec_host *host, const char *key)
{
    mlf_value *v = NULL;
    int64_t n = 0;
    if (mlf_exec_setting(host, key, &v) == MLF_OK)
        mlf_value_get_int(v, &n);
    mlf_value_free(v);
    return n;
}

static void zconf_clear(zconf *c)
{
    free(c->bind);
    free(c->curve_enabled);
    free(c->insecure);
    free(c->secret_key_file);
    free(c->authorized_keys);
    free(c->home);
}

static int zconf_read(mlf_exec_host *host, zconf *c)
{
    c->bind = setting_str(host, "zmq.bind");
    c->curve_enabled = setting_str(host, "zmq.curve.enabled");
    c->insecure = setting_str(host, "zmq.insecure");
    c->secret_key_file = setting_str(host, "zmq.curve.secret_key_file");
    c->authorized_keys = setting_str(host, "zmq.curve.authorized_keys");
    c->home = setting_str(host, "home");
    c->heartbeat = setting_int(host, "zmq.heartbeat");
    c->liveness = setting_int(host, "zmq.liveness");
    return c->home ? MLF_OK : MLF_ENOMEM;
}

static int open_with(const mlf_exec_open_args *args, const zconf *cfg, void **inst, char *err, size_t errlen);

static int zx_open(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen)
{
    zconf cfgv = {0}, *cfg = &cfgv;
    int rc = zconf_read(args->host, cfg);
    if (rc == MLF_OK)
        rc = open_with(args, cfg, inst, err, errlen);
    zconf_clear(cfg);
    return rc;
}

static int open_with(const mlf_exec_open_args *args, const zconf *cfg, void **inst, char *err, size_t errlen)
{
    const char *bind = cfg->bind;
    if (!bind) {
        snprintf(err, errlen, "zmq.bind is not set");
        return MLF_EINVAL;
    }
    int use_curve = 0;
    int rc = decide_curve(cfg, bind, &use_curve, err, errlen);
    if (rc != MLF_OK)
        return rc;
    zx *x = calloc(1, sizeof *x);
    if (!x)
        return MLF_ENOMEM;
    x->epfd = -1;
    x->host = args->host;
    x->kill_grace = args->kill_grace > 0 ? args->kill_grace : 5 * SEC;
    x->hb = cfg->heartbeat;
    if (x->hb <= 0)
        x->hb = SEC;
    int64_t liveness = cfg->liveness;
    x->expiry = x->hb * (liveness > 0 ? liveness : 3);
    x->ctx = zmq_ctx_new();
    x->router = x->ctx ? zmq_socket(x->ctx, ZMQ_ROUTER) : NULL;
    x->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!x->ctx || !x->router || x->epfd < 0) {
        rc = x->epfd < 0 ? errno : zmq_errno();
        snprintf(err, errlen, "cannot create the zmq socket: %s", mlf_strerror(rc));
        zx_close(x);
        return rc ? rc : MLF_ENOMEM;
    }
    /* the largest frame a worker may send is a RESULT; queued messages per peer are bounded (a worker that
     * floods waits for the scheduler, it does not fill its memory) */
    int one = 1, linger = 200, sndhwm = SEND_HWM, rcvhwm = RECV_HWM;
    int64_t maxmsg = (int64_t)mlf_proto_body_max(MLF_PROTO_RESULT);
    if (zmq_setsockopt(x->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(x->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(x->router, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(x->router, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0 ||
        zmq_setsockopt(x->router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0) {
        rc = zmq_errno();
        snprintf(err, errlen, "cannot configure the zmq socket: %s", zmq_strerror(rc));
        zx_close(x);
        return rc;
    }
    if (use_curve && (rc = setup_curve(x, cfg, err, errlen)) != MLF_OK) {
        zx_close(x);
        return rc;
    }
    if (zmq_bind(x->router, bind) != 0) {
        rc = zmq_errno();
        snprintf(err, errlen, "cannot bind zmq.bind %s: %s", bind, zmq_strerror(rc));
        zx_close(x);
        return rc;
    }
    size_t eplen = sizeof x->endpoint;
    if (zmq_getsockopt(x->router, ZMQ_LAST_ENDPOINT, x->endpoint, &eplen) != 0)
        snprintf(x->endpoint, sizeof x->endpoint, "%s", bind);
    if ((rc = watch(x, x->router)) != MLF_OK || (x->zap && (rc = watch(x, mlf_zap_socket(x->zap))) != MLF_OK)) {
        snprintf(err, errlen, "cannot watch the zmq sockets: %s", mlf_strerror(rc));
        zx_close(x);
        return rc;
    }
    char d[MLF_DURATION_FMT_MAX];
    mlf_duration_format(x->hb, d, sizeof d);
    if (use_curve)
        mlf_log(MLF_LOG_INFO, COMPONENT, "listening for workers on %s (CurveZMQ, %zu authorized key(s)); heartbeat %s, "
                "liveness %lld", x->endpoint, mlf_authkeys_count(x->authkeys), d, (long long)(x->expiry / x->hb));
    else
        mlf_log(MLF_LOG_INFO, COMPONENT, "listening for workers on %s (no CurveZMQ); heartbeat %s, liveness %lld",
                x->endpoint, d, (long long)(x->expiry / x->hb));
    *inst = x;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ extras */

static mlf_value *zx_describe(void *impl)
{
    zx *x = impl;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "endpoint", mlf_value_str(x->endpoint));
    mlf_map_set(m, "workers", mlf_value_int((int64_t)x->nworkers));
    mlf_map_set(m, "running", mlf_value_int((int64_t)x->nleases));
    return m;
}

static int zx_adopt(void *impl, const char *attempt, const char *worker, const char *log_path, mlf_time_us now)
{
    zx *x = impl;
    /* "NAME INSTANCE KEY" as submit() persists it ("-": no CURVE), or a bare NAME from an older store */
    char name[MLF_PROTO_NAME_MAX + 1] = "", inst[MLF_PROTO_TOKEN_MAX + 1] = "", key[64] = "";
    if (worker) {
        size_t n = strcspn(worker, " ");
        if (n <= MLF_PROTO_NAME_MAX)
            snprintf(name, sizeof name, "%.*s", (int)n, worker);
        if (worker[n] && sscanf(worker + n, " %64s %63s", inst, key) != 2)
            name[0] = '\0';
        if (strcmp(key, "-") == 0)
            key[0] = '\0';
    }
    if (!x || !mlf_proto_valid_token(attempt) || !mlf_proto_valid_name(name) || (inst[0] && !mlf_proto_valid_token(inst)))
        return MLF_EINVAL;
    if (find_lease(x, attempt))
        return MLF_EEXIST;
    lease *l = calloc(1, sizeof *l);
    if (!l)
        return MLF_ENOMEM;
    x->wall = now;
    now = mono();
    l->log_fd = -1;
    snprintf(l->attempt, sizeof l->attempt, "%s", attempt);
    snprintf(l->worker_instance, sizeof l->worker_instance, "%s", inst);
    snprintf(l->worker_key, sizeof l->worker_key, "%s", key);
    l->worker_name = strdup(name);
    l->log_path = log_path ? strdup(log_path) : NULL;
    if (!l->worker_name || (log_path && !l->log_path)) {
        free_lease(l);
        return MLF_ENOMEM;
    }
    l->state = L_SENT;
    l->persisted = 1;
    l->started = 1;
    l->submitted = l->sent_at = now;
    l->submitted_wall = l->sent_wall = x->wall;
    l->adopted = 1;
    /* live workers reconnect within a fraction of a liveness period (they send READY on every new
     * connection): one period after the scheduler can first hear them, the worker is taken as dead */
    l->orphan_until = x->processed ? now + (x->expiry > ADOPT_MIN ? x->expiry : ADOPT_MIN) : 0;
    zworker *w = find_worker_name(x, name);
    if (w && !w->gone && (!key[0] || strcmp(w->user_id, key) == 0) && (!inst[0] || strcmp(w->instance, inst) == 0)) {
        l->w = w;
        w->busy++;
        l->orphan_until = 0;
    }
    l->next = x->leases;
    x->leases = l;
    x->nleases++;
    return MLF_OK;
}

static const mlf_executor_desc zmq_executor = {
    .struct_size = sizeof(mlf_executor_desc),
    .name = "zmq",
    .help = "Sends each try to a remote `mlflowd worker` over ZeroMQ (doc/protocol.md): credit-based dispatch "
            "by queue and operator, leases persisted before a task leaves and taken back after a restart, "
            "CurveZMQ with an allow-list. Its settings are the zmq.* keys, which the workers share.",
    .params = NULL,
    .param_size = sizeof(mlf_param_spec),
    .open = zx_open,
    .can_accept = zx_can_accept,
    .submit = zx_submit,
    .kill = zx_kill,
    .fd = zx_fd,
    .next_deadline = zx_next_deadline,
    .process = zx_process,
    .after_commit = zx_after_commit,
    .shutdown = zx_shutdown,
    .in_flight = zx_in_flight,
    .adopt = zx_adopt,
    .describe = zx_describe,
    .close = zx_close,
};

static int zmq_plugin_init(mlf_registry *reg)
{
    return mlf_register_executor(reg, &zmq_executor);
}

MLF_PLUGIN("zmq", MLF_VERSION_STRING, "The zmq executor (remote mlflowd workers over ZeroMQ)", zmq_plugin_init, NULL);
