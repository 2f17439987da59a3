/* worker.c -- `mlflowd worker`: one DEALER socket, a pool of task processes, logs and results streamed back
 * (see worker.h and doc/protocol.md). */
#include "exec/worker.h"
#include "time/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "exec/executor_local.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "web/metrics_worker.h"
#include "exec/proto.h"
#include "base/strutil.h"
#include "exec/zmq_auth.h"

#define COMPONENT "worker"
#define SEC INT64_C(1000000)
/* How often running tries' logs are read and streamed. */
#define LOG_TICK (200 * 1000)
/* LOG bytes sent per try per loop turn (bounded so one chatty task cannot starve the rest). */
#define LOG_BURST (4 * MLF_PROTO_LOG_CHUNK)

/* One try this worker holds: running, or finished with a RESULT not yet acknowledged. */
typedef struct wtry {
    struct wtry *next;
    char attempt[MLF_PROTO_TOKEN_MAX + 1];
    char *log_path;          /* the local spool file */
    int log_fd;              /* for reading, opened once the file exists */
    int64_t log_sent;        /* bytes streamed in LOG messages on this connection */
    mlf_value *result;       /* the RESULT body once the try ended */
    mlf_time_us result_sent; /* when RESULT was last sent (0: not on this connection yet) */
} wtry;

struct mlf_worker {
    char *endpoint, *name, *exe, *spool;
    char **queues;
    size_t nqueues;
    const char **ops;
    size_t nops;
    const mlf_catalog *cat;
    int concurrency;
    int64_t hb, expiry, backoff_min, backoff_max, drain_grace;
    char server_key[MLF_CURVE_KEY_LEN + 1], public_key[MLF_CURVE_KEY_LEN + 1], secret_key[MLF_CURVE_KEY_LEN + 1];
    int curve;
    char instance[33];
    char host[256];
    mlf_local_executor *pool;
    void *ctx, *sock, *monitor;
    unsigned monitor_seq;
    wtry *tries;
    size_t ntries;
    mlf_time_us last_recv, last_send, reconnect_at, next_log_tick;
    int64_t backoff;
    int draining, pool_stopped;
    mlf_time_us drain_deadline;
    int auth_warned;
    int ready_due;           /* a new connection is up: READY (and the held RESULTs) must go out */
    int lost;                /* the scheduler was silent for a liveness period (logged once) */
    int answered;            /* the scheduler spoke on this connection and has not gone silent since */
    int refused;             /* the scheduler refused our key on this connection: start over after the back-off */
    void (*on_turn)(void *ud, mlf_time_us now, int connected, int draining);
    void *turn_ud;
    mlf_time_us reregister_at; /* after a DISCONNECT: READY again then (0: not planned) */
    mlf_time_us wall;        /* wall clock of this turn: dates only; every timer above is monotonic */
};

/* Durations run on CLOCK_MONOTONIC: a wall-clock step never makes the scheduler look silent. */
static mlf_time_us mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void random_hex(char *out, size_t nbytes)
{
    unsigned char b[32];
    if (nbytes > sizeof b)
        nbytes = sizeof b;
    if (getrandom(b, nbytes, 0) != (ssize_t)nbytes) {
        mlf_time_us t = mlf_time_now();
        pid_t p = getpid();
        memset(b, 0, sizeof b);
        memcpy(b, &t, sizeof t);
        memcpy(b + sizeof t, &p, sizeof p);
    }
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ------------------------------------------------------------------------------------------ tries */

static wtry *find_try(mlf_worker *w, const char *attempt)
{
    for (wtry *t = w->tries; t; t = t->next)
        if (strcmp(t->attempt, attempt) == 0)
            return t;
    return NULL;
}

static void free_try(wtry *t, int unlink_log)
{
    if (t->log_fd >= 0)
        close(t->log_fd);
    if (unlink_log && t->log_path)
        unlink(t->log_path);
    free(t->log_path);
    mlf_value_free(t->result);
    free(t);
}

static void remove_try(mlf_worker *w, wtry *t)
{
    for (wtry **p = &w->tries; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            w->ntries--;
            break;
        }
    free_try(t, 1);
}

/* ------------------------------------------------------------------------------------------ sending */

static int send_msg(mlf_worker *w, const mlf_proto_msg *m, mlf_time_us now)
{
    if (!w->sock)
        return EAGAIN;
    int rc = mlf_proto_send(w->sock, NULL, 0, m);
    if (rc == MLF_OK)
        w->last_send = now;
    else if (rc != EAGAIN)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "cannot send %s: %s", mlf_proto_cmd_name(m->cmd), mlf_strerror(rc));
    return rc;
}

static int send_ready(mlf_worker *w, mlf_time_us now)
{
    int rc = MLF_ENOMEM;
    const char **running = calloc(w->ntries + 1, sizeof *running), **finished = calloc(w->ntries + 1, sizeof *finished);
    size_t nr = 0, nf = 0;
    for (wtry *t = w->tries; running && finished && t; t = t->next) {
        if (t->result)
            finished[nf++] = t->attempt;
        else
            running[nr++] = t->attempt;
    }
    if (!running || !finished) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "out of memory building READY");
    } else {
        mlf_proto_msg m = {.cmd = MLF_PROTO_READY, .name = w->name, .instance = w->instance,
                           .capacity = w->draining ? 0 : w->concurrency,
                           .queues = (const char *const *)w->queues, .nqueues = w->nqueues, .operators = w->ops,
                           .noperators = w->nops, .host = w->host, .pid = getpid(), .version = MLF_VERSION_STRING,
                           .running = running, .nrunning = nr, .finished = finished, .nfinished = nf};
        rc = send_msg(w, &m, now);
    }
    free(running);
    free(finished);
    return rc;
}

/* Streams what the try's log gained since the last LOG, up to LOG_BURST bytes (all of it with @p all). */
static void pump_log(mlf_worker *w, wtry *t, int all, mlf_time_us now)
{
    if (!w->sock)
        return;
    if (t->log_fd < 0 && (t->log_fd = open(t->log_path, O_RDONLY | O_CLOEXEC)) < 0)
        return; /* not created yet */
    static char buf[MLF_PROTO_LOG_CHUNK];
    for (size_t sent = 0; all || sent < LOG_BURST;) {
        ssize_t r = pread(t->log_fd, buf, sizeof buf, t->log_sent);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        mlf_proto_msg m = {.cmd = MLF_PROTO_LOG, .attempt = t->attempt, .offset = t->log_sent, .data = buf,
                           .data_len = (size_t)r};
        if (send_msg(w, &m, now) != MLF_OK)
            return;
        t->log_sent += r;
        sent += (size_t)r;
    }
}

static void send_result(mlf_worker *w, wtry *t, mlf_time_us now)
{
    pump_log(w, t, 1, now); /* the whole log first: the scheduler may settle the try on RESULT */
    mlf_proto_msg m = {.cmd = MLF_PROTO_RESULT, .payload = t->result};
    if (send_msg(w, &m, now) == MLF_OK)
        t->result_sent = now;
}

/* Registers on a new connection: READY listing what it holds, then the RESULTs not yet acknowledged and
 * every log from its start (the scheduler skips what it has). Retried each turn until READY is queued. */
static void register_now(mlf_worker *w, mlf_time_us now)
{
    if (!w->sock)
        return;
    for (wtry *t = w->tries; t; t = t->next) {
        t->log_sent = 0;
        t->result_sent = 0;
    }
    if (send_ready(w, now) != MLF_OK)
        return; /* not queued (no connection yet): ready_due stays set */
    w->ready_due = 0;
    for (wtry *t = w->tries; t; t = t->next)
        if (t->result)
            send_result(w, t, now);
}

/* ------------------------------------------------------------------------------------------ socket */

static void close_socket(mlf_worker *w)
{
    if (w->sock) {
        zmq_socket_monitor(w->sock, NULL, 0);
        zmq_close(w->sock);
        w->sock = NULL;
    }
    if (w->monitor) {
        zmq_close(w->monitor);
        w->monitor = NULL;
    }
}

/* Opens a new DEALER socket to the scheduler and registers. Returns MLF_OK or a zmq errno value. */
static int open_socket(mlf_worker *w, mlf_time_us now)
{
    close_socket(w);
    w->sock = zmq_socket(w->ctx, ZMQ_DEALER);
    if (!w->sock)
        return zmq_errno();
    /* IMMEDIATE: nothing is queued for a connection that is not up, so a scheduler that restarts never
     * gets stale messages before READY; libzmq reconnects every 100 ms by itself (a connect() that fails
     * costs nothing, and a back-off would make a restarted scheduler wait), and READY goes out on
     * each new connection (the socket monitor's HANDSHAKE_SUCCEEDED), so a restarted scheduler hears
     * every live worker well within one liveness period. ZMTP heartbeats drop a dead connection. */
    int linger = 0, hwm = 10000, one = 1, ivl = 100, ivl_max = 0; /* 0: every 100 ms, no back-off */
    int hb_ms = (int)(w->hb / 1000), ttl_ms = (int)(w->expiry / 1000);
    int64_t maxmsg = MLF_PROTO_MAX_FRAME;
    int rc = 0;
    rc |= zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof linger);
    rc |= zmq_setsockopt(w->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    rc |= zmq_setsockopt(w->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    rc |= zmq_setsockopt(w->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    rc |= zmq_setsockopt(w->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    rc |= zmq_setsockopt(w->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    rc |= zmq_setsockopt(w->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
    rc |= zmq_setsockopt(w->sock, ZMQ_HEARTBEAT_IVL, &hb_ms, sizeof hb_ms);
    rc |= zmq_setsockopt(w->sock, ZMQ_HEARTBEAT_TIMEOUT, &ttl_ms, sizeof ttl_ms);
    if (w->curve) {
        rc |= zmq_setsockopt(w->sock, ZMQ_CURVE_SERVERKEY, w->server_key, MLF_CURVE_KEY_LEN);
        rc |= zmq_setsockopt(w->sock, ZMQ_CURVE_PUBLICKEY, w->public_key, MLF_CURVE_KEY_LEN);
        rc |= zmq_setsockopt(w->sock, ZMQ_CURVE_SECRETKEY, w->secret_key, MLF_CURVE_KEY_LEN);
    }
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://worker-monitor-%u", ++w->monitor_seq);
    if (rc == 0 && zmq_socket_monitor(w->sock, mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED) == 0) {
        w->monitor = zmq_socket(w->ctx, ZMQ_PAIR);
        if (w->monitor && zmq_connect(w->monitor, mon) != 0) {
            zmq_close(w->monitor);
            w->monitor = NULL;
        }
    }
    if (rc != 0 || zmq_connect(w->sock, w->endpoint) != 0) {
        int e = zmq_errno();
        close_socket(w);
        return e ? e : EINVAL;
    }
    w->last_recv = now; /* the scheduler gets a full liveness window to answer */
    w->answered = 0;
    w->ready_due = 1;      /* sent once the connection is up */
    register_now(w, now);
    return MLF_OK;
}

/* The scheduler is silent or told us to go: drop the socket and come back after the back-off. */
static void lose_scheduler(mlf_worker *w, const char *why, mlf_time_us now)
{
    mlf_log(MLF_LOG_WARNING, COMPONENT, "%s; reconnecting to %s in %.0f s (%zu tr%s still held)", why, w->endpoint,
            (double)w->backoff / 1e6, w->ntries, w->ntries == 1 ? "y" : "ies");
    close_socket(w);
    w->reconnect_at = now + w->backoff;
    w->backoff = w->backoff * 2 < w->backoff_max ? w->backoff * 2 : w->backoff_max;
}

/* Reads the socket monitor: says plainly when the scheduler refused our key. */
static void read_monitor(mlf_worker *w)
{
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (!w->monitor || zmq_msg_recv(&ev, w->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), 2);
        int more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        if (more) {
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, w->monitor, 0);
            zmq_msg_close(&addr);
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && !w->auth_warned) {
            w->auth_warned = 1;
            mlf_log(MLF_LOG_ERROR, COMPONENT,
                    "the scheduler at %s refused this worker's CURVE key %s: add the worker's .pub key to its "
                    "zmq.curve.authorized_keys", w->endpoint, w->public_key);
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            /* libzmq does not retry a refused handshake by itself: a fresh socket after the back-off, so that
             * a key added to the scheduler's list (and a reload) lets this worker in without a restart */
            w->refused = 1;
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && !w->auth_warned) {
            w->auth_warned = 1;
            mlf_log(MLF_LOG_ERROR, COMPONENT, "the handshake with %s failed: %s", w->endpoint,
                    w->curve ? "is the scheduler's public key right, and does it use CurveZMQ?"
                             : "does the scheduler require CurveZMQ (set zmq.curve.server_public_key_file)?");
        } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            w->auth_warned = 0;
            w->ready_due = 1; /* a new connection: a restarted scheduler knows nothing of us yet */
            w->reregister_at = 0;
        }
    }
}

/* ------------------------------------------------------------------------------------------ messages */

/* Answers a TASK the worker cannot run with a failed RESULT. */
static void refuse_task(mlf_worker *w, const char *attempt, const char *why, mlf_time_us now)
{
    wtry *t = calloc(1, sizeof *t);
    mlf_task_result r = {.attempt = attempt, .outcome = MLF_FAILED, .message = why, .start_date = w->wall,
                         .end_date = w->wall, .exit_status = -1, .hostname = w->host};
    if (!t || mlf_task_result_encode(&r, &t->result) != MLF_OK) {
        free(t);
        return;
    }
    t->log_fd = -1;
    snprintf(t->attempt, sizeof t->attempt, "%s", attempt);
    t->next = w->tries;
    w->tries = t;
    w->ntries++;
    mlf_log(MLF_LOG_WARNING, COMPONENT, "attempt %s refused: %s", attempt, why);
    send_result(w, t, now);
}

static void on_task(mlf_worker *w, const mlf_proto_msg *m, mlf_time_us now)
{
    const mlf_task_spec *spec = m->spec;
    if (find_try(w, spec->attempt)) { /* repeated: it runs already */
        mlf_proto_msg st = {.cmd = MLF_PROTO_STARTED, .attempt = spec->attempt, .host = w->host, .start_date = w->wall};
        send_msg(w, &st, now);
        return;
    }
    const mlf_reg_entry *e = mlf_catalog_find(w->cat, MLF_REG_OPERATOR, spec->operator_name);
    if (!e || !e->owner) {
        char why[300];
        snprintf(why, sizeof why, "operator '%.100s' is not loaded on worker %s", spec->operator_name, w->name);
        refuse_task(w, spec->attempt, why, now);
        return;
    }
    wtry *t = calloc(1, sizeof *t);
    mlf_value *local = mlf_value_copy(m->payload);
    char err[600] = "";
    int rc = t && local ? MLF_OK : MLF_ENOMEM;
    if (rc == MLF_OK) {
        t->log_fd = -1;
        snprintf(t->attempt, sizeof t->attempt, "%s", spec->attempt);
        t->log_path = mlf_strdup_printf("%s/%s.log", w->spool, spec->attempt);
        rc = t->log_path ? MLF_OK : MLF_ENOMEM;
    }
    /* this host's plugin file and spool log; the rest of the spec as the scheduler made it */
    if (rc == MLF_OK)
        rc = mlf_map_set(local, "plugin", mlf_value_str(e->owner->path));
    if (rc == MLF_OK)
        rc = mlf_map_set(local, "log_path", mlf_value_str(t->log_path));
    if (rc == MLF_OK) {
        unlink(t->log_path); /* a stale file from an earlier worker run must not be streamed */
        rc = mlf_local_executor_submit(w->pool, local, w->wall, err, sizeof err);
    }
    mlf_value_free(local);
    if (rc != MLF_OK) {
        char why[700];
        snprintf(why, sizeof why, "worker %s cannot start the task: %s", w->name, err[0] ? err : mlf_strerror(rc));
        if (t)
            free_try(t, 0);
        refuse_task(w, spec->attempt, why, now);
        return;
    }
    t->next = w->tries;
    w->tries = t;
    w->ntries++;
    mlf_proto_msg st = {.cmd = MLF_PROTO_STARTED, .attempt = t->attempt, .host = w->host, .start_date = w->wall};
    send_msg(w, &st, now);
    mlf_log(MLF_LOG_DEBUG, COMPONENT, "started %s/%s/%s try %d (attempt %s)", spec->dag_id, spec->run_id, spec->task_id,
            spec->try_number, spec->attempt);
}

static void handle(mlf_worker *w, int rc, const mlf_proto_msg *m, const char *err, mlf_time_us now)
{
    if (rc != MLF_OK) {
        mlf_log(MLF_LOG_WARNING, COMPONENT, "dropped a malformed message from the scheduler: %s", err);
        return;
    }
    w->last_recv = now;
    w->answered = m->cmd != MLF_PROTO_DISCONNECT;
    if (m->cmd != MLF_PROTO_DISCONNECT)
        w->backoff = w->backoff_min;
    if (w->lost) {
        w->lost = 0;
        mlf_log(MLF_LOG_INFO, COMPONENT, "the scheduler at %s answers again", w->endpoint);
    }
    wtry *t = m->attempt ? find_try(w, m->attempt) : NULL;
    switch (m->cmd) {
    case MLF_PROTO_HEARTBEAT:
        mlf_worker_metrics_heartbeat_received();
        break;
    case MLF_PROTO_TASK:
        on_task(w, m, now);
        break;
    case MLF_PROTO_KILL:
        if (t && !t->result) {
            mlf_log(MLF_LOG_INFO, COMPONENT, "killing attempt %s: %s", m->attempt, m->reason);
            mlf_local_executor_kill(w->pool, m->attempt, w->wall);
        }
        break;
    case MLF_PROTO_ACK:
        if (t && t->result && t->result_sent)
            mlf_worker_metrics_rtt(now - t->result_sent); /* /metrics */
        if (t && t->result)
            remove_try(w, t);
        break;
    case MLF_PROTO_DISCONNECT:
        /* register again after the back-off, on the same socket: when the scheduler is restarting, the
         * new connection brings READY at once instead */
        mlf_log(MLF_LOG_WARNING, COMPONENT, "the scheduler said DISCONNECT (%s); registering again in %.0f s",
                m->reason, (double)w->backoff / 1e6);
        w->reregister_at = now + w->backoff;
        w->backoff = w->backoff * 2 < w->backoff_max ? w->backoff * 2 : w->backoff_max;
        break;
    default:
        mlf_log(MLF_LOG_WARNING, COMPONENT, "ignored a %s from the scheduler: only workers send it",
                mlf_proto_cmd_name(m->cmd));
        break;
    }
}

/* The local executor's report of a finished try. */
static void on_pool_result(void *ud, const mlf_task_result *res)
{
    mlf_worker *w = ud;
    wtry *t = find_try(w, res->attempt);
    if (!t || t->result)
        return;
    mlf_worker_metrics_try_done(res->outcome);
    if (mlf_task_result_encode(res, &t->result) != MLF_OK) {
        mlf_task_result r = {.attempt = res->attempt, .outcome = MLF_FAILED, .message = "out of memory on the worker",
                             .start_date = res->start_date, .end_date = res->end_date, .exit_status = -1,
                             .hostname = w->host};
        if (mlf_task_result_encode(&r, &t->result) != MLF_OK)
            return; /* nothing to say: the scheduler's lease will expire it */
    }
    send_result(w, t, mono());
}

/* ------------------------------------------------------------------------------------------ lifecycle */

int mlf_worker_new(const mlf_worker_opts *o, mlf_worker **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!o || !out || !o->endpoint || !o->exe || !o->cat || !o->spool_root) {
        snprintf(err, errlen, "a required worker option is missing");
        return MLF_EINVAL;
    }
    *out = NULL;
    if (o->concurrency < 1 || o->concurrency > MLF_PROTO_MAX_CAPACITY) {
        snprintf(err, errlen, "--concurrency must be 1..%d", MLF_PROTO_MAX_CAPACITY);
        return MLF_EINVAL;
    }
    mlf_worker *w = calloc(1, sizeof *w);
    if (!w)
        return MLF_ENOMEM;
    w->cat = o->cat;
    w->concurrency = o->concurrency;
    w->hb = o->heartbeat_us > 0 ? o->heartbeat_us : SEC;
    w->expiry = w->hb * (o->liveness > 0 ? o->liveness : 3);
    w->backoff_min = o->reconnect_min_us > 0 ? o->reconnect_min_us : SEC;
    w->backoff_max = o->reconnect_max_us > 0 ? o->reconnect_max_us : 32 * SEC;
    if (w->backoff_max < w->backoff_min)
        w->backoff_max = w->backoff_min;
    w->backoff = w->backoff_min;
    w->drain_grace = o->drain_grace_us > 0 ? o->drain_grace_us : 60 * SEC;
    w->on_turn = o->on_turn;
    w->turn_ud = o->ud;
    gethostname(w->host, sizeof w->host - 1);
    for (char *c = w->host; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            *c = '-';
    if (!w->host[0])
        strcpy(w->host, "unknown-host");
    random_hex(w->instance, 16);
    w->endpoint = strdup(o->endpoint);
    w->exe = strdup(o->exe);
    w->name = o->name ? strdup(o->name) : mlf_strdup_printf("%s-%ld", w->host, (long)getpid());
    static const char *const default_queue[] = {"default"};
    const char *const *queues = o->nqueues ? o->queues : default_queue;
    size_t nq = o->nqueues ? o->nqueues : 1;
    w->queues = calloc(nq + 1, sizeof *w->queues);
    int rc = w->endpoint && w->exe && w->name && w->queues ? MLF_OK : MLF_ENOMEM;
    for (size_t i = 0; rc == MLF_OK && i < nq; i++) {
        if (!mlf_proto_valid_name(queues[i])) {
            snprintf(err, errlen, "invalid queue name '%s' (1..%u characters of A-Z a-z 0-9 _ . @ : + -)", queues[i],
                     MLF_PROTO_NAME_MAX);
            rc = MLF_EINVAL;
        } else if (!(w->queues[w->nqueues++] = strdup(queues[i]))) {
            rc = MLF_ENOMEM;
        }
    }
    if (rc == MLF_OK && !mlf_proto_valid_name(w->name)) {
        snprintf(err, errlen, "invalid worker name '%s' (1..%u characters of A-Z a-z 0-9 _ . @ : + -)", w->name,
                 MLF_PROTO_NAME_MAX);
        rc = MLF_EINVAL;
    }
    if (rc == MLF_OK) {
        size_t n = 0;
        w->ops = mlf_catalog_names(o->cat, MLF_REG_OPERATOR, &n);
        size_t keep = 0;
        for (size_t i = 0; w->ops && i < n && keep < MLF_PROTO_MAX_OPERATORS; i++)
            if (mlf_proto_valid_name(w->ops[i])) /* a name the protocol cannot carry is not advertised */
                w->ops[keep++] = w->ops[i];
        w->nops = keep;
        if (!w->nops) {
            snprintf(err, errlen, "no operator is loaded: a worker without operators cannot run anything (check "
                                  "plugins.path and plugins.load)");
            rc = MLF_EINVAL;
        }
    }
    if (rc == MLF_OK && o->server_public_key) {
        if (!mlf_curve_available()) {
            snprintf(err, errlen, "CurveZMQ keys were given but this libzmq was built without CURVE (no libsodium)");
            rc = MLF_ENOTSUP;
        } else if (!mlf_curve_key_valid(o->server_public_key) || !o->secret_key ||
                   mlf_curve_public_of(o->secret_key, w->public_key) != MLF_OK) {
            snprintf(err, errlen, "CurveZMQ needs the scheduler's public key and this worker's secret key (Z85)");
            rc = MLF_EINVAL;
        } else {
            w->curve = 1;
            memcpy(w->server_key, o->server_public_key, sizeof w->server_key);
            memcpy(w->secret_key, o->secret_key, sizeof w->secret_key);
        }
    }
    if (rc == MLF_OK && !(w->spool = mlf_strdup_printf("%s/%s", o->spool_root, w->name)))
        rc = MLF_ENOMEM;
    if (rc == MLF_OK) {
        char *probe = mlf_strdup_printf("%s/x", w->spool);
        rc = probe ? mlf_mkdir_parents(probe) : MLF_ENOMEM;
        free(probe);
        if (rc != MLF_OK)
            snprintf(err, errlen, "cannot create the spool folder %s: %s", w->spool, mlf_strerror(rc));
    }
    mlf_host_pool_opts pool = {.exe = w->exe, .size = w->concurrency, .max_tries_per_host = o->max_tries_per_host,
                               .max_rss_bytes = o->max_rss_bytes};
    if (rc == MLF_OK && (rc = mlf_local_executor_new_pool(&pool, &w->pool)) != MLF_OK)
        snprintf(err, errlen, "cannot start the task host pool: %s", mlf_strerror(rc));
    if (rc == MLF_OK && !(w->ctx = zmq_ctx_new())) {
        rc = zmq_errno();
        snprintf(err, errlen, "cannot create a zmq context: %s", zmq_strerror(rc));
    }
    if (rc != MLF_OK) {
        mlf_worker_free(w);
        return rc;
    }
    *out = w;
    return MLF_OK;
}

const char *mlf_worker_name(const mlf_worker *w)
{
    return w ? w->name : NULL;
}

void mlf_worker_free(mlf_worker *w)
{
    if (!w)
        return;
    mlf_local_executor_free(w->pool);
    close_socket(w);
    if (w->ctx)
        zmq_ctx_term(w->ctx);
    while (w->tries) {
        wtry *t = w->tries;
        w->tries = t->next;
        free_try(t, 1);
    }
    for (size_t i = 0; i < w->nqueues; i++)
        free(w->queues[i]);
    free(w->queues);
    free(w->ops);
    free(w->endpoint);
    free(w->name);
    free(w->exe);
    free(w->spool);
    explicit_bzero(w->secret_key, sizeof w->secret_key);
    free(w);
}

/* ------------------------------------------------------------------------------------------ the loop */

static mlf_time_us next_wake(const mlf_worker *w, mlf_time_us now)
{
    mlf_time_us wake = now + w->hb;
#define CONSIDER(t)              \
    do {                         \
        mlf_time_us t_ = (t);    \
        if (t_ > 0 && t_ < wake) \
            wake = t_;           \
    } while (0)
    if (w->sock) {
        CONSIDER(w->last_send + w->hb);
        CONSIDER(w->reregister_at);
        if (w->ready_due)
            CONSIDER(now + 50 * 1000); /* READY could not be queued yet: try again soon */
        CONSIDER(w->last_recv + w->expiry);
    } else {
        CONSIDER(w->reconnect_at);
    }
    mlf_time_us pool_next = mlf_local_executor_next_deadline(w->pool); /* the pool's clock is the wall */
    if (pool_next)
        CONSIDER(pool_next <= w->wall ? now : now + (pool_next - w->wall));
    if (w->ntries)
        CONSIDER(w->next_log_tick);
    for (const wtry *t = w->tries; t; t = t->next)
        if (t->result)
            CONSIDER(t->result_sent ? t->result_sent + w->expiry : now);
    if (w->draining && !w->pool_stopped)
        CONSIDER(w->drain_deadline);
#undef CONSIDER
    return wake;
}

int mlf_worker_run(mlf_worker *w, volatile sig_atomic_t *stop)
{
    if (!w)
        return MLF_EINVAL;
    w->wall = mlf_time_now();
    mlf_time_us now = mono();
    int rc = open_socket(w, now);
    if (rc != MLF_OK) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "cannot connect to %s: %s", w->endpoint, zmq_strerror(rc));
        return rc;
    }
    mlf_log(MLF_LOG_INFO, COMPONENT, "worker %s connecting to %s%s: %d slot(s), %zu queue(s), %zu operator(s)", w->name,
            w->endpoint, w->curve ? " (CurveZMQ)" : "", w->concurrency, w->nqueues, w->nops);
    mlf_time_us stop_at = 0;
    for (;;) {
        w->wall = mlf_time_now();
        now = mono();
        if (stop && *stop && !w->draining) {
            w->draining = 1;
            w->drain_deadline = now + w->drain_grace;
            mlf_log(MLF_LOG_INFO, COMPONENT, "stopping: no new tasks; %zu running tr%s may finish", w->ntries,
                    w->ntries == 1 ? "y" : "ies");
            send_ready(w, now); /* capacity 0 */
        }
        if (w->on_turn)
            w->on_turn(w->turn_ud, w->wall, w->sock && w->answered, w->draining);
        if (w->draining && !w->pool_stopped && (now >= w->drain_deadline || (stop && *stop > 1))) {
            mlf_local_executor_shutdown(w->pool, 0, w->wall);
            w->pool_stopped = 1;
        }
        if (w->draining && !stop_at && mlf_local_executor_running(w->pool) == 0 &&
            mlf_local_executor_queued(w->pool) == 0)
            stop_at = now + w->expiry; /* results get one liveness window to be acknowledged */
        if (w->draining && (w->ntries == 0 || (stop_at && now >= stop_at))) {
            mlf_proto_msg bye = {.cmd = MLF_PROTO_DISCONNECT, .reason = "the worker is stopping"};
            send_msg(w, &bye, now);
            mlf_log(MLF_LOG_INFO, COMPONENT, "stopped%s", w->ntries ? " (some results were never acknowledged)" : "");
            return MLF_OK;
        }

        if (w->sock) {
            read_monitor(w);
            if (w->refused) {
                w->refused = 0;
                lose_scheduler(w, "the scheduler refused this worker's key", now);
            }
        }
        if (w->sock) {
            if (w->reregister_at && now >= w->reregister_at) {
                w->reregister_at = 0;
                w->ready_due = 1;
            }
            if (w->ready_due)
                register_now(w, now);
            for (int i = 0; i < 1000 && w->sock; i++) {
                mlf_proto_peer peer;
                mlf_proto_msg m;
                char err[600];
                rc = mlf_proto_recv(w->sock, 0, &peer, &m, err, sizeof err);
                if (rc == EAGAIN || rc == EINTR) {
                    mlf_proto_msg_clear(&m);
                    break;
                }
                if (rc > 0) {
                    mlf_proto_msg_clear(&m);
                    mlf_log(MLF_LOG_ERROR, COMPONENT, "receiving failed: %s", zmq_strerror(rc));
                    break;
                }
                handle(w, rc, &m, err, now);
                mlf_proto_msg_clear(&m);
            }
        }
        mlf_local_executor_process(w->pool, w->wall, on_pool_result, w);
        mlf_worker_metrics_slots((long long)w->ntries, w->concurrency); /* /metrics: two atomic stores */
        if (now >= w->next_log_tick) {
            for (wtry *t = w->tries; t; t = t->next)
                if (!t->result)
                    pump_log(w, t, 0, now);
            w->next_log_tick = now + LOG_TICK;
        }
        for (wtry *t = w->tries; t && w->sock; t = t->next)
            if (t->result && (!t->result_sent || now - t->result_sent >= w->expiry))
                send_result(w, t, now);
        if (w->sock && !w->ready_due && now - w->last_send >= w->hb) { /* READY first on a new connection */
            mlf_proto_msg hb = {.cmd = MLF_PROTO_HEARTBEAT};
            send_msg(w, &hb, now);
            mlf_worker_metrics_heartbeat_sent();
        }
        if (w->sock && !w->lost && now - w->last_recv >= w->expiry) {
            /* the socket stays: libzmq reconnects on its own and READY goes out on the new connection */
            w->lost = 1;
            w->answered = 0;
            mlf_log(MLF_LOG_WARNING, COMPONENT, "the scheduler at %s has been silent for %.1f s; waiting for it "
                    "(%zu tr%s still held)", w->endpoint, (double)(now - w->last_recv) / 1e6, w->ntries,
                    w->ntries == 1 ? "y" : "ies");
        }
        if (w->sock && w->lost && now - w->last_recv >= 4 * w->expiry + w->backoff_max) {
            /* a long silence on a connection that looks up: start over with a fresh socket */
            lose_scheduler(w, "the scheduler stays silent", now);
            w->lost = 0;
        }
        if (!w->sock && now >= w->reconnect_at && (rc = open_socket(w, now)) != MLF_OK)
            lose_scheduler(w, zmq_strerror(rc), now);

        mlf_time_us wake = next_wake(w, now);
        zmq_pollitem_t items[3] = {{.fd = mlf_local_executor_fd(w->pool), .events = ZMQ_POLLIN}};
        int n = 1;
        if (w->sock)
            items[n++] = (zmq_pollitem_t){.socket = w->sock, .events = ZMQ_POLLIN};
        if (w->monitor)
            items[n++] = (zmq_pollitem_t){.socket = w->monitor, .events = ZMQ_POLLIN};
        long timeout = wake <= now ? 0 : (long)((wake - now + 999) / 1000);
        if (zmq_poll(items, n, timeout) < 0 && zmq_errno() != EINTR)
            return zmq_errno();
    }
}
