/* container_try.c -- the life of one try of a `container` task (see container_try.h). */
#define _GNU_SOURCE /* asprintf */
#include "container_try.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "container_orphans.h"
#include "container_parse.h"
#include "container_spec.h"

#define SEC INT64_C(1000000)

/* ------------------------------------------------------------------------------------------ connection */

static int extra_path(const mlf_value *extra, const char *key, char **out, char *err, size_t errlen)
{
    const mlf_value *v = mlf_map_get(extra, key);
    if (!v || mlf_value_type(v) == MLF_NIL)
        return MLF_OK;
    const char *s = mlf_value_get_str(v, NULL);
    if (!s || !*s) {
        snprintf(err, errlen, "connection extra '%s' must be a file path", key);
        return MLF_ETYPE;
    }
    *out = strdup(s);
    return *out ? MLF_OK : MLF_ENOMEM;
}

int ctr_endpoint_from_conn(const mlf_connection *conn, ctr_endpoint *ep, char *err, size_t errlen)
{
    if (!conn)
        return ctr_endpoint_init(ep, NULL, 0, err, errlen);
    const mlf_value *extra = conn->extra;
    int tls = 0;
    const mlf_value *t = mlf_map_get(extra, "tls");
    if (t && mlf_value_type(t) != MLF_NIL && mlf_value_get_bool(t, &tls) != MLF_OK) {
        snprintf(err, errlen, "connection extra 'tls' must be true or false");
        return MLF_ETYPE;
    }
    const char *host = conn->host;
    char *where = NULL;
    if (host && *host && host[0] != '/' && !strstr(host, "://")) {
        int port = conn->port > 0 ? conn->port : tls ? 2376 : 2375;
        if (asprintf(&where, "tcp://%s:%d", host, port) < 0)
            return MLF_ENOMEM;
    }
    int rc = ctr_endpoint_init(ep, where ? where : host, tls, err, errlen);
    free(where);
    if (rc != MLF_OK)
        return rc;
    if ((rc = extra_path(extra, "ca_cert", &ep->ca_file, err, errlen)) == MLF_OK &&
        (rc = extra_path(extra, "client_cert", &ep->cert_file, err, errlen)) == MLF_OK)
        rc = extra_path(extra, "client_key", &ep->key_file, err, errlen);
    if (rc != MLF_OK)
        ctr_endpoint_free(ep);
    return rc;
}

/* ------------------------------------------------------------------------------------------ output */

/* The container's output, split into lines per stream and written to the try's log. */
typedef struct output {
    mlf_task_ctx *ctx;
    ctr_demux demux;
    int malformed;
    char part[3][4096]; /* unfinished line per stream (1 stdout, 2 stderr) */
    size_t plen[3];
    char last_stdout[4096];
    char tail[CTR_TAIL_LINES][512];
    size_t ntail;       /* lines seen, for the ring */
    size_t lines;
} output;

static void emit_line(output *o, int stream, const char *line)
{
    mlf_ctx_log(o->ctx, MLF_LOG_INFO, "%s", line);
    o->lines++;
    if (stream == 1 && line[0])
        snprintf(o->last_stdout, sizeof o->last_stdout, "%s", line);
    if (line[0])
        snprintf(o->tail[o->ntail++ % CTR_TAIL_LINES], sizeof o->tail[0], "%s", line);
}

static void on_payload(void *ud, int stream, const char *data, size_t len)
{
    output *o = ud;
    char *part = o->part[stream];
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == '\n' || o->plen[stream] + 1 == sizeof o->part[0]) { /* a very long line is logged in pieces */
            part[o->plen[stream]] = '\0';
            if (o->plen[stream] > 0 && part[o->plen[stream] - 1] == '\r')
                part[o->plen[stream] - 1] = '\0';
            emit_line(o, stream, part);
            o->plen[stream] = 0;
            if (c == '\n')
                continue;
        }
        part[o->plen[stream]++] = c;
    }
}

static int on_log_bytes(void *ud, const char *data, size_t len)
{
    output *o = ud;
    if (ctr_demux_feed(&o->demux, data, len, on_payload, o) != MLF_OK) {
        o->malformed = 1;
        return 1;
    }
    return 0;
}

static void flush_output(output *o)
{
    for (int s = 1; s <= 2; s++)
        if (o->plen[s]) {
            o->part[s][o->plen[s]] = '\0';
            emit_line(o, s, o->part[s]);
            o->plen[s] = 0;
        }
}

/* The last lines, oldest first, joined with " | ", each secret of @p secrets replaced by "***". */
static void tail_text(const output *o, char *const *secrets, const char *password, char *buf, size_t buflen)
{
    size_t first = o->ntail > CTR_TAIL_LINES ? o->ntail - CTR_TAIL_LINES : 0, w = 0;
    buf[0] = '\0';
    for (size_t i = first; i < o->ntail && w + 4 < buflen; i++) {
        int n = snprintf(buf + w, buflen - w, "%s%s", w ? " | " : "", o->tail[i % CTR_TAIL_LINES]);
        w = n < 0 ? w : w + (size_t)n >= buflen ? buflen - 1 : w + (size_t)n;
    }
    const char *list[64];
    size_t nl = 0;
    for (char *const *p = secrets; p && *p && nl < 63; p++)
        list[nl++] = *p;
    if (password && strlen(password) >= 3)
        list[nl++] = password;
    for (size_t i = 0; i < nl; i++) {
        size_t sl = strlen(list[i]);
        char *hit;
        while ((hit = strstr(buf, list[i]))) {
            memmove(hit + 3, hit + sl, strlen(hit + sl) + 1);
            memcpy(hit, "***", 3);
        }
    }
}

/* ------------------------------------------------------------------------------------------ the try */

typedef struct try {
    mlf_task_ctx *ctx;
    ctr_endpoint ep;
    ctr_spec spec;
    const mlf_connection *conn;
    char id[CTR_ID_MAX];
    int64_t stop_grace;
    char err[1024];
} try;

static int is_cancelled(void *ud)
{
    return mlf_ctx_cancelled(ud);
}

/* A request whose answer must be a 2xx status (or @p also_ok): on anything else writes "WHAT: HTTP status:
 * engine's message" into t->err and returns MLF_EIO (or the transfer's error); @p resp holds the answer
 * either way (free it). */
static int request(try *t, const char *what, const char *method, const char *path, const char *body,
                   const char *header, int64_t timeout, long also_ok, ctr_response *resp)
{
    char why[768];
    int rc = ctr_call(&t->ep, method, path, body, header, timeout, resp, why, sizeof why);
    if (rc != MLF_OK) {
        snprintf(t->err, sizeof t->err, "%s: %s", what, why);
        return rc;
    }
    if ((resp->status >= 200 && resp->status < 300) || resp->status == also_ok)
        return MLF_OK;
    char msg[512];
    ctr_parse_error(resp, msg, sizeof msg);
    snprintf(t->err, sizeof t->err, "%s: HTTP %ld: %s", what, resp->status, msg);
    return MLF_EIO;
}

/* Stops the container (SIGTERM, then SIGKILL after the grace) and removes it, whatever the try's state;
 * cancellation no longer aborts these requests. */
static void stop_and_remove(try *t, const char *why)
{
    char saved[sizeof t->err];
    memcpy(saved, t->err, sizeof saved);
    t->ep.cancelled = NULL;
    char path[128];
    ctr_response r;
    long grace = (long)((t->stop_grace + SEC - 1) / SEC);
    mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "Stopping container %.12s (%s): SIGTERM, SIGKILL after %lds", t->id, why,
                grace);
    snprintf(path, sizeof path, "/containers/%s/stop?t=%ld", t->id, grace);
    if (request(t, "stopping the container", "POST", path, NULL, NULL, (grace + 10) * SEC, 304, &r) != MLF_OK)
        mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "%s", t->err);
    ctr_response_free(&r);
    snprintf(path, sizeof path, "/containers/%s?force=1&v=1", t->id);
    if (request(t, "removing the container", "DELETE", path, NULL, NULL, 30 * SEC, 404, &r) != MLF_OK)
        mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "%s", t->err);
    else
        mlf_ctx_log(t->ctx, MLF_LOG_INFO, "Container %.12s removed", t->id);
    ctr_response_free(&r);
    t->id[0] = '\0';
    memcpy(t->err, saved, sizeof saved);
}

static void remove_container(try *t)
{
    char path[128], saved[sizeof t->err];
    ctr_response r;
    memcpy(saved, t->err, sizeof saved);
    t->ep.cancelled = NULL;
    snprintf(path, sizeof path, "/containers/%s?force=1&v=1", t->id);
    if (request(t, "removing the container", "DELETE", path, NULL, NULL, 30 * SEC, 404, &r) != MLF_OK)
        mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "%s", t->err);
    ctr_response_free(&r);
    t->id[0] = '\0';
    memcpy(t->err, saved, sizeof saved);
}

static void log_line(void *ud, const char *line)
{
    mlf_ctx_log(ud, MLF_LOG_WARNING, "%s", line);
}

/* The pull's progress stream, line by line. */
typedef struct pull_state {
    try *t;
    char line[4096];
    size_t len;
    char error[512];
    char last_status[512];
} pull_state;

static void pull_line(pull_state *p)
{
    char status[512], error[512];
    if (ctr_parse_pull_line(p->line, p->len, status, sizeof status, error, sizeof error) != MLF_OK) {
        snprintf(p->error, sizeof p->error, "the engine's pull progress is not JSON");
    } else {
        if (error[0] && !p->error[0])
            snprintf(p->error, sizeof p->error, "%s", error);
        if (status[0] && strcmp(status, p->last_status) != 0) {
            mlf_ctx_log(p->t->ctx, MLF_LOG_INFO, "pull: %s", status);
            snprintf(p->last_status, sizeof p->last_status, "%s", status);
        }
    }
    p->len = 0;
}

static int on_pull_bytes(void *ud, const char *data, size_t len)
{
    pull_state *p = ud;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' || p->len + 1 == sizeof p->line) {
            pull_line(p);
            if (data[i] == '\n')
                continue;
        }
        p->line[p->len++] = data[i];
    }
    return 0;
}

static mlf_outcome pull_image(try *t)
{
    char *query = ctr_pull_query(t->spec.image);
    char *path = NULL, *auth = NULL;
    if (!query || asprintf(&path, "/images/create?%s", query) < 0) {
        free(query);
        snprintf(t->err, sizeof t->err, "out of memory");
        return MLF_FAILED;
    }
    free(query);
    if (t->conn && t->conn->login && *t->conn->login) {
        const char *registry = mlf_value_get_str(mlf_map_get(t->conn->extra, "registry"), NULL);
        auth = ctr_registry_auth_header(t->conn->login, t->conn->password, registry);
    }
    mlf_ctx_log(t->ctx, MLF_LOG_INFO, "Pulling image %s", t->spec.image);
    pull_state p = {.t = t};
    ctr_response resp;
    char why[768];
    int rc = ctr_stream(&t->ep, "POST", path, auth, on_pull_bytes, &p, &resp, why, sizeof why);
    if (p.len)
        pull_line(&p);
    mlf_outcome o = MLF_SUCCESS;
    if (rc != MLF_OK) {
        snprintf(t->err, sizeof t->err, "pulling image %s: %s", t->spec.image, why);
        o = MLF_FAILED;
    } else if (resp.status == 404 || (resp.status >= 200 && resp.status < 300 && p.error[0])) {
        char msg[512];
        if (!p.error[0])
            ctr_parse_error(&resp, msg, sizeof msg);
        snprintf(t->err, sizeof t->err, "image %s could not be pulled: %s", t->spec.image, p.error[0] ? p.error : msg);
        o = MLF_FAILED;
    } else if (resp.status < 200 || resp.status >= 300) {
        char msg[512];
        ctr_parse_error(&resp, msg, sizeof msg);
        snprintf(t->err, sizeof t->err, "pulling image %s: HTTP %ld: %s", t->spec.image, resp.status, msg);
        o = MLF_FAILED;
    }
    ctr_response_free(&resp);
    free(path);
    free(auth);
    return o;
}

/* Makes sure the image is there as the pull policy wants. */
static mlf_outcome ensure_image(try *t)
{
    if (t->spec.pull == CTR_PULL_ALWAYS)
        return pull_image(t);
    char *name = ctr_escape(t->spec.image);
    char path[1024];
    if (!name) {
        snprintf(t->err, sizeof t->err, "out of memory");
        return MLF_FAILED;
    }
    snprintf(path, sizeof path, "/images/%s/json", name);
    free(name);
    ctr_response r;
    int rc = request(t, "looking up the image", "GET", path, NULL, NULL, 0, 404, &r);
    long status = r.status;
    ctr_response_free(&r);
    if (rc != MLF_OK)
        return MLF_FAILED;
    if (status != 404)
        return MLF_SUCCESS;
    if (t->spec.pull == CTR_PULL_NEVER) {
        snprintf(t->err, sizeof t->err,
                 "image %s is not on the engine at %s and pull is never: load it there first (docker load, "
                 "podman load or import) or set pull to if_not_present",
                 t->spec.image, t->ep.describe);
        return MLF_FAILED_NO_RETRY;
    }
    return pull_image(t);
}

static mlf_outcome create_container(try *t)
{
    char *name = ctr_escape(t->spec.name);
    char *path = NULL;
    if (!name || asprintf(&path, "/containers/create?name=%s", name) < 0) {
        free(name);
        snprintf(t->err, sizeof t->err, "out of memory");
        return MLF_FAILED;
    }
    free(name);
    ctr_response r;
    int rc = request(t, "creating the container", "POST", path, t->spec.body, NULL, 0, 0, &r);
    free(path);
    mlf_outcome o = MLF_SUCCESS;
    if (rc == MLF_OK) {
        char warnings[1024], why[256];
        if (ctr_parse_created(r.body, r.len, t->id, warnings, sizeof warnings, why, sizeof why) != MLF_OK) {
            snprintf(t->err, sizeof t->err, "creating the container: %s", why);
            o = MLF_FAILED;
        } else if (warnings[0]) {
            mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "The engine warns: %s", warnings);
        }
    } else if (r.status == 404) {
        snprintf(t->err, sizeof t->err, "image %s is not on the engine at %s (and was not pulled)", t->spec.image,
                 t->ep.describe);
        o = MLF_FAILED_NO_RETRY;
    } else {
        o = r.status == 400 ? MLF_FAILED_NO_RETRY : MLF_FAILED; /* 400: the engine refuses the spec itself */
    }
    ctr_response_free(&r);
    return o;
}

/* Streams the output until the container exits (or the try is cancelled: returns MLF_ESTATE). */
static int stream_output(try *t, output *out)
{
    char path[160];
    snprintf(path, sizeof path, "/containers/%s/logs?follow=1&stdout=1&stderr=1", t->id);
    ctr_response r;
    char why[768];
    int rc = ctr_stream(&t->ep, "GET", path, NULL, on_log_bytes, out, &r, why, sizeof why);
    flush_output(out);
    if (rc == MLF_ESTATE) {
        ctr_response_free(&r);
        return rc;
    }
    if (out->malformed || (rc == MLF_OK && r.status == 200 && ctr_demux_finish(&out->demux) != MLF_OK))
        mlf_ctx_log(t->ctx, MLF_LOG_WARNING,
                    "The engine sent a malformed log stream (not the multiplexed frames of a container without a "
                    "terminal): the rest of the output is not shown");
    else if (rc != MLF_OK)
        mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "Reading the container's output failed: %s", why);
    else if (r.status != 200) {
        char msg[512];
        ctr_parse_error(&r, msg, sizeof msg);
        mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "The engine does not give the container's output (HTTP %ld: %s); "
                    "check its log driver", r.status, msg);
    }
    ctr_response_free(&r);
    return MLF_OK;
}

static void random_token(char *buf, size_t buflen)
{
    unsigned char b[8] = {0};
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        uint64_t x = (uint64_t)getpid() * 0x9E3779B97F4A7C15u ^ (uint64_t)(uintptr_t)buf;
        memcpy(b, &x, sizeof b);
    }
    snprintf(buf, buflen, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

/* Connects, builds and validates everything that can be checked before the container exists. */
static mlf_outcome prepare(try *t)
{
    mlf_task_ctx *ctx = t->ctx;
    const char *conn_id = mlf_value_get_str(mlf_ctx_param(ctx, "conn_id"), NULL);
    if (conn_id && *conn_id) {
        int rc = mlf_ctx_connection(ctx, conn_id, &t->conn);
        if (rc != MLF_OK) {
            snprintf(t->err, sizeof t->err, "connection '%s': %s", conn_id,
                     rc == MLF_ENOTFOUND ? "no such connection (mlflowd connections add)" : mlf_strerror(rc));
            return rc == MLF_ENOTFOUND ? MLF_FAILED : MLF_FAILED_NO_RETRY;
        }
    }
    int rc = ctr_endpoint_from_conn(t->conn, &t->ep, t->err, sizeof t->err);
    if (rc != MLF_OK)
        return rc == MLF_ENOTFOUND ? MLF_FAILED : MLF_FAILED_NO_RETRY;
    t->ep.cancelled = is_cancelled;
    t->ep.cancel_ud = ctx;

    int64_t grace = 2 * SEC;
    mlf_value_get_int(mlf_ctx_param(ctx, "stop_timeout"), &grace);
    t->stop_grace = grace < 0 ? 0 : grace;

    char attempt[17], owner_text[512] = "";
    random_token(attempt, sizeof attempt);
    ctr_owner self;
    if (ctr_owner_self(&self) == 0)
        ctr_owner_format(&self, owner_text, sizeof owner_text);
    ctr_identity id = {.dag_id = mlf_ctx_dag_id(ctx), .run_id = mlf_ctx_run_id(ctx), .task_id = mlf_ctx_task_id(ctx),
                       .map_index = mlf_ctx_map_index(ctx), .try_number = mlf_ctx_try_number(ctx),
                       .attempt = attempt, .owner = owner_text};
    const mlf_value *allowed = t->conn ? mlf_map_get(t->conn->extra, "allowed_mounts") : NULL;
    char why[768];
    rc = ctr_spec_build(mlf_ctx_params(ctx), &id, allowed, t->ep.socket_path != NULL, &t->spec, why, sizeof why);
    if (rc != MLF_OK) {
        snprintf(t->err, sizeof t->err, "%s", why);
        return rc == MLF_ENOMEM ? MLF_FAILED : MLF_FAILED_NO_RETRY;
    }
    rc = ctr_negotiate(&t->ep, why, sizeof why);
    if (rc != MLF_OK) {
        snprintf(t->err, sizeof t->err, "%s", why);
        return rc == MLF_ENOTSUP || rc == EACCES ? MLF_FAILED_NO_RETRY : MLF_FAILED;
    }
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Container engine at %s, API %s", t->ep.describe, t->ep.api_version);
    size_t cleaned = 0;
    if (ctr_sweep_orphans(&t->ep, log_line, ctx, &cleaned, why, sizeof why) != MLF_OK)
        mlf_ctx_log(ctx, MLF_LOG_WARNING, "Looking for orphaned containers failed: %s", why);
    return MLF_SUCCESS;
}

/* Judges the exited container. */
static mlf_outcome judge(try *t, const output *out)
{
    mlf_task_ctx *ctx = t->ctx;
    char path[160];
    ctr_response r;
    int64_t code = -1;
    char wait_error[512] = "", why[256];
    snprintf(path, sizeof path, "/containers/%s/wait", t->id);
    if (request(t, "waiting for the container", "POST", path, NULL, NULL, -1, 0, &r) != MLF_OK) {
        ctr_response_free(&r);
        return MLF_FAILED;
    }
    int rc = ctr_parse_wait(r.body, r.len, &code, wait_error, sizeof wait_error, why, sizeof why);
    ctr_response_free(&r);
    if (rc != MLF_OK) {
        snprintf(t->err, sizeof t->err, "waiting for the container: %s", why);
        return MLF_FAILED;
    }
    ctr_state st = {0};
    snprintf(path, sizeof path, "/containers/%s/json", t->id);
    if (request(t, "inspecting the container", "GET", path, NULL, NULL, 0, 0, &r) == MLF_OK &&
        ctr_parse_inspect(r.body, r.len, &st, why, sizeof why) != MLF_OK)
        mlf_ctx_log(ctx, MLF_LOG_WARNING, "inspecting the container: %s", why);
    ctr_response_free(&r);
    t->err[0] = '\0'; /* the outcome's message is set below */

    mlf_ctx_log(ctx, MLF_LOG_INFO, "Container exited with code %lld", (long long)code);
    int64_t skip = 99;
    int xcom = 1;
    mlf_value_get_int(mlf_ctx_param(ctx, "skip_on_exit_code"), &skip);
    mlf_value_get_bool(mlf_ctx_param(ctx, "do_xcom_push"), &xcom);
    char tail[1024];
    tail_text(out, t->spec.sensitive, t->conn ? t->conn->password : NULL, tail, sizeof tail);
    if (st.oom_killed) {
        char limit[64] = "";
        if (t->spec.memory)
            snprintf(limit, sizeof limit, " (memory limit %lld MiB)", (long long)(t->spec.memory >> 20));
        mlf_ctx_set_message(ctx, "the container ran out of memory and was killed%s, exit code %lld%s%s", limit,
                            (long long)code, tail[0] ? "; last lines: " : "", tail);
        return MLF_FAILED;
    }
    if (code == 0) {
        if (xcom && out->last_stdout[0] &&
            mlf_ctx_xcom_push(ctx, MLF_XCOM_RETURN_KEY, mlf_value_str(out->last_stdout)) != MLF_OK) {
            mlf_ctx_set_message(ctx, "container: the last line of output could not be pushed as XCom");
            return MLF_FAILED;
        }
        return MLF_SUCCESS;
    }
    if (code == skip) {
        mlf_ctx_set_message(ctx, "container exited with code %lld: skipping", (long long)code);
        return MLF_SKIPPED;
    }
    mlf_ctx_set_message(ctx, "container exited with code %lld%s%s%s%s%s", (long long)code, wait_error[0] ? " (" : "",
                        wait_error, wait_error[0] ? ")" : "", tail[0] ? "; last lines: " : "", tail);
    return MLF_FAILED;
}

mlf_outcome ctr_try_run(mlf_task_ctx *ctx)
{
    try t = {.ctx = ctx};
    output *out = calloc(1, sizeof *out);
    mlf_outcome o = out ? prepare(&t) : MLF_FAILED;
    if (!out)
        snprintf(t.err, sizeof t.err, "out of memory");
    else
        out->ctx = ctx;
    if (o == MLF_SUCCESS)
        o = ensure_image(&t);
    if (o == MLF_SUCCESS && mlf_ctx_cancelled(ctx)) {
        snprintf(t.err, sizeof t.err, "the try was cancelled before its container was created");
        o = MLF_FAILED;
    }
    if (o == MLF_SUCCESS) {
        /* creating and starting are short and not interrupted: a create cut short could leave a container
         * whose id this try never learnt; a cancel is honoured once it runs */
        t.ep.cancelled = NULL;
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Running image %s: %s", t.spec.image, t.spec.command_text);
        o = create_container(&t);
    }
    if (o == MLF_SUCCESS) {
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Created container %.12s (%s)", t.id, t.spec.name);
        char path[160];
        ctr_response r;
        snprintf(path, sizeof path, "/containers/%s/start", t.id);
        if (request(&t, "starting the container", "POST", path, NULL, NULL, 0, 304, &r) != MLF_OK)
            o = r.status == 400 || r.status == 404 || r.status == 500 ? MLF_FAILED_NO_RETRY : MLF_FAILED;
        ctr_response_free(&r);
        if (o != MLF_SUCCESS)
            remove_container(&t);
    }
    if (o == MLF_SUCCESS) {
        t.ep.cancelled = is_cancelled;
        if (mlf_ctx_cancelled(ctx) || stream_output(&t, out) == MLF_ESTATE || mlf_ctx_cancelled(ctx)) {
            stop_and_remove(&t, "the try was cancelled: execution_timeout, tasks clear or a kill");
            snprintf(t.err, sizeof t.err, "the container was stopped: the try was cancelled");
            o = MLF_FAILED;
        } else {
            o = judge(&t, out);
            if (o == MLF_FAILED && mlf_ctx_cancelled(ctx)) {
                stop_and_remove(&t, "the try was cancelled while waiting for the container");
                snprintf(t.err, sizeof t.err, "the container was stopped: the try was cancelled");
            }
        }
    }
    if (t.id[0] && t.spec.auto_remove)
        remove_container(&t);
    else if (t.id[0])
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Keeping container %.12s (auto_remove is false)", t.id);
    if (o != MLF_SUCCESS && o != MLF_SKIPPED && t.err[0])
        mlf_ctx_set_message(ctx, "%s", t.err);
    ctr_spec_free(&t.spec);
    ctr_endpoint_free(&t.ep);
    free(out);
    return o;
}
