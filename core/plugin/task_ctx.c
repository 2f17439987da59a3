/* task_ctx.c -- the task context operators receive (SDK task.h), built by a task runner. */
#include "plugin/task_ctx.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/strutil.h"

typedef struct conn_cache {
    mlf_value *fields;
    mlf_connection conn;
    char *conn_id;
    struct conn_cache *next;
} conn_cache;

struct mlf_task_ctx {
    mlf_task_ctx_init in;
    mlf_value *empty_map;
    mlf_value *xcoms;
    char **followed;
    size_t nfollowed;
    int branched;
    char *message;
    mlf_time_us reschedule_at;
    volatile sig_atomic_t cancelled;
    conn_cache *conns;
};

mlf_task_ctx *mlf_task_ctx_new(const mlf_task_ctx_init *init)
{
    mlf_task_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->in = *init;
    ctx->empty_map = mlf_value_map();
    ctx->xcoms = mlf_value_map();
    if (!ctx->empty_map || !ctx->xcoms) {
        mlf_task_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void mlf_task_ctx_free(mlf_task_ctx *ctx)
{
    if (!ctx)
        return;
    mlf_value_free(ctx->empty_map);
    mlf_value_free(ctx->xcoms);
    for (size_t i = 0; i < ctx->nfollowed; i++)
        free(ctx->followed[i]);
    free(ctx->followed);
    free(ctx->message);
    while (ctx->conns) {
        conn_cache *c = ctx->conns;
        ctx->conns = c->next;
        mlf_value_free(c->fields);
        free(c->conn_id);
        free(c);
    }
    free(ctx);
}

const mlf_value *mlf_task_ctx_xcoms(const mlf_task_ctx *ctx) { return ctx->xcoms; }
const char *mlf_task_ctx_message(const mlf_task_ctx *ctx) { return ctx->message; }
mlf_time_us mlf_task_ctx_reschedule_time(const mlf_task_ctx *ctx) { return ctx->reschedule_at; }
int mlf_task_ctx_branched(const mlf_task_ctx *ctx) { return ctx->branched; }
void mlf_task_ctx_cancel(mlf_task_ctx *ctx) { ctx->cancelled = 1; }

const char *const *mlf_task_ctx_followed(const mlf_task_ctx *ctx, size_t *n)
{
    *n = ctx->nfollowed;
    return (const char *const *)ctx->followed;
}

/* ---- SDK functions ---- */

const mlf_value *mlf_ctx_param(mlf_task_ctx *ctx, const char *name)
{
    return ctx && name ? mlf_map_get(ctx->in.params, name) : NULL;
}

const mlf_value *mlf_ctx_params(mlf_task_ctx *ctx)
{
    return ctx->in.params ? ctx->in.params : ctx->empty_map;
}

const mlf_value *mlf_ctx_dag_params(mlf_task_ctx *ctx)
{
    return ctx->in.dag_params ? ctx->in.dag_params : ctx->empty_map;
}

const char *mlf_ctx_dag_id(mlf_task_ctx *ctx) { return ctx->in.dag_id ? ctx->in.dag_id : ""; }
const char *mlf_ctx_task_id(mlf_task_ctx *ctx) { return ctx->in.task_id ? ctx->in.task_id : ""; }
const char *mlf_ctx_run_id(mlf_task_ctx *ctx) { return ctx->in.run_id ? ctx->in.run_id : ""; }
int mlf_ctx_try_number(mlf_task_ctx *ctx) { return ctx->in.try_number; }
int mlf_ctx_map_index(mlf_task_ctx *ctx) { return ctx->in.map_index; }
mlf_time_us mlf_ctx_logical_date(mlf_task_ctx *ctx) { return ctx->in.logical_date; }
mlf_time_us mlf_ctx_data_interval_start(mlf_task_ctx *ctx) { return ctx->in.data_interval_start; }
mlf_time_us mlf_ctx_data_interval_end(mlf_task_ctx *ctx) { return ctx->in.data_interval_end; }
int mlf_ctx_log_fd(mlf_task_ctx *ctx) { return ctx->in.log_fd; }
int mlf_ctx_cancelled(mlf_task_ctx *ctx) { return ctx->cancelled != 0; }

int mlf_ctx_xcom_push(mlf_task_ctx *ctx, const char *key, mlf_value *value)
{
    if (!ctx || !value) {
        mlf_value_free(value);
        return MLF_EINVAL;
    }
    if (ctx->in.xcom_max_size) {
        void *buf;
        size_t len;
        int rc = mlf_value_pack(value, &buf, &len);
        if (rc != MLF_OK) {
            mlf_value_free(value);
            return rc;
        }
        free(buf);
        if (len > ctx->in.xcom_max_size) {
            mlf_value_free(value);
            return MLF_ETOOBIG;
        }
    }
    return mlf_map_set(ctx->xcoms, key ? key : MLF_XCOM_RETURN_KEY, value);
}

int mlf_ctx_xcom_pull(mlf_task_ctx *ctx, const char *task_id, const char *key, const mlf_value **out)
{
    if (!ctx || !task_id || !out)
        return MLF_EINVAL;
    const mlf_value *v = mlf_map_get(mlf_map_get(ctx->in.xcom_inputs, task_id), key ? key : MLF_XCOM_RETURN_KEY);
    if (!v)
        return MLF_ENOTFOUND;
    *out = v;
    return MLF_OK;
}

static const char *field_str(const mlf_value *m, const char *k)
{
    return mlf_value_get_str(mlf_map_get(m, k), NULL);
}

int mlf_ctx_connection(mlf_task_ctx *ctx, const char *conn_id, const mlf_connection **out)
{
    if (!ctx || !conn_id || !out)
        return MLF_EINVAL;
    for (conn_cache *c = ctx->conns; c; c = c->next)
        if (strcmp(c->conn_id, conn_id) == 0) {
            *out = &c->conn;
            return MLF_OK;
        }
    if (!ctx->in.conn_lookup)
        return MLF_ENOTFOUND;
    mlf_value *fields = NULL;
    int rc = ctx->in.conn_lookup(ctx->in.conn_ud, conn_id, &fields);
    if (rc != MLF_OK)
        return rc;
    conn_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->conn_id = strdup(conn_id))) {
        free(c);
        mlf_value_free(fields);
        return MLF_ENOMEM;
    }
    c->fields = fields;
    int64_t port = 0;
    mlf_value_get_int(mlf_map_get(fields, "port"), &port);
    const mlf_value *extra = mlf_map_get(fields, "extra");
    c->conn = (mlf_connection){.struct_size = sizeof(mlf_connection),
                               .conn_id = c->conn_id,
                               .conn_type = field_str(fields, "conn_type"),
                               .host = field_str(fields, "host"),
                               .port = (int)port,
                               .login = field_str(fields, "login"),
                               .password = field_str(fields, "password"),
                               .schema = field_str(fields, "schema"),
                               .extra = mlf_value_type(extra) == MLF_MAP ? extra : ctx->empty_map};
    c->next = ctx->conns;
    ctx->conns = c;
    *out = &c->conn;
    return MLF_OK;
}

/* Replaces every occurrence of each secret (and of known connection passwords) with "***". */
static void mask_secrets(mlf_task_ctx *ctx, mlf_buf *line)
{
    const char *secrets[64];
    size_t n = 0;
    for (size_t i = 0; i < ctx->in.nsecrets && n < 64; i++)
        secrets[n++] = ctx->in.secrets[i];
    for (conn_cache *c = ctx->conns; c && n < 64; c = c->next)
        if (c->conn.password)
            secrets[n++] = c->conn.password;
    for (size_t i = 0; i < n; i++) {
        const char *s = secrets[i];
        size_t sl = s ? strlen(s) : 0;
        if (sl < 3) /* masking "a" everywhere would destroy the log without protecting anything */
            continue;
        char *hit;
        while ((hit = strstr(line->data, s))) {
            mlf_buf out = {0};
            mlf_buf_append(&out, line->data, (size_t)(hit - line->data));
            mlf_buf_puts(&out, "***");
            mlf_buf_puts(&out, hit + sl);
            mlf_buf_free(line);
            *line = out;
            if (!line->data)
                return;
        }
    }
}

char *mlf_task_ctx_mask(mlf_task_ctx *ctx, const char *text)
{
    if (!ctx || !text)
        return NULL;
    mlf_buf b = {0};
    mlf_buf_puts(&b, text);
    if (b.data)
        mask_secrets(ctx, &b);
    return b.data ? mlf_buf_steal(&b) : NULL;
}

void mlf_ctx_logv(mlf_task_ctx *ctx, mlf_log_level level, const char *fmt, va_list ap)
{
    if (!ctx || ctx->in.log_fd < 0 || !fmt)
        return;
    static const char *const names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
    int li = level >= MLF_LOG_ERROR ? 3 : level >= MLF_LOG_WARNING ? 2 : level >= MLF_LOG_INFO ? 1 : 0;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    mlf_buf line = {0};
    mlf_buf_printf(&line, "[%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ] {%s} %s - ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, mlf_ctx_task_id(ctx),
                   names[li]);
    mlf_buf_vprintf(&line, fmt, ap);
    if (line.data) {
        mask_secrets(ctx, &line);
        mlf_buf_puts(&line, "\n");
    }
    if (line.data) {
        const char *p = line.data;
        size_t left = line.len;
        while (left) {
            ssize_t w = write(ctx->in.log_fd, p, left);
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
    }
    mlf_buf_free(&line);
}

void mlf_ctx_set_messagev(mlf_task_ctx *ctx, const char *fmt, va_list ap)
{
    if (!ctx || !fmt)
        return;
    mlf_buf b = {0};
    if (mlf_buf_vprintf(&b, fmt, ap) != MLF_OK) {
        mlf_buf_free(&b);
        return;
    }
    free(ctx->message);
    ctx->message = mlf_buf_steal(&b);
}

int mlf_ctx_follow(mlf_task_ctx *ctx, const char *task_id)
{
    if (!ctx || !task_id)
        return MLF_EINVAL;
    if (!ctx->in.is_branch)
        return MLF_ESTATE;
    int known = 0;
    for (size_t i = 0; i < ctx->in.ndownstream && !known; i++)
        known = strcmp(ctx->in.downstream[i], task_id) == 0;
    if (!known)
        return MLF_ENOTFOUND;
    ctx->branched = 1;
    for (size_t i = 0; i < ctx->nfollowed; i++)
        if (strcmp(ctx->followed[i], task_id) == 0)
            return MLF_OK;
    char **nf = realloc(ctx->followed, (ctx->nfollowed + 1) * sizeof *nf);
    if (!nf)
        return MLF_ENOMEM;
    ctx->followed = nf;
    if (!(nf[ctx->nfollowed] = strdup(task_id)))
        return MLF_ENOMEM;
    ctx->nfollowed++;
    return MLF_OK;
}

const char *const *mlf_ctx_downstream(mlf_task_ctx *ctx, size_t *n)
{
    size_t count = ctx ? ctx->in.ndownstream : 0;
    if (n)
        *n = count;
    return count ? ctx->in.downstream : NULL;
}

int mlf_ctx_reschedule_at(mlf_task_ctx *ctx, mlf_time_us when)
{
    if (!ctx || when <= 0)
        return MLF_EINVAL;
    ctx->reschedule_at = when;
    return MLF_OK;
}

int mlf_ctx_external_state(mlf_task_ctx *ctx, const char *dag_id, const char *task_id, int map_index,
                           mlf_time_us logical_date, char *state, size_t statelen)
{
    if (!ctx || !dag_id || !*dag_id || !state || !statelen)
        return MLF_EINVAL;
    state[0] = '\0';
    if (task_id && !*task_id)
        return MLF_EINVAL;
    if (!ctx->in.external_state)
        return MLF_ENOTSUP;
    return ctx->in.external_state(ctx->in.external_ud, dag_id, task_id, task_id ? map_index : -1, logical_date,
                                  state, statelen);
}
