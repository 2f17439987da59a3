/* http_task.c -- a task's parameters and connection turned into one HTTP call (see http_task.h). */
#include "http_task.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_conn.h"

/* Fails the preparation with @p outcome and a message. */
static mlf_outcome refuse(mlf_task_ctx *ctx, mlf_outcome outcome, const char *fmt, ...) MLF_PRINTF(3, 4);
static mlf_outcome refuse(mlf_task_ctx *ctx, mlf_outcome outcome, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_ctx_set_messagev(ctx, fmt, ap);
    va_end(ap);
    return outcome;
}

/* An int parameter (a duration is int µs) or @p dflt when the task does not give one. */
static int64_t int_param(mlf_task_ctx *ctx, const char *name, int64_t dflt)
{
    int64_t v = dflt;
    mlf_value_get_int(mlf_ctx_param(ctx, name), &v);
    return v;
}

/* Sets the body from @p data; the body of a JSON-encoded value is typed unless headers already are. */
static mlf_outcome set_body(mlf_task_ctx *ctx, http_call *call, const mlf_value *data)
{
    mlf_type t = mlf_value_type(data);
    size_t len = 0;
    const char *raw = t == MLF_STR ? mlf_value_get_str(data, &len) : t == MLF_BIN ? mlf_value_get_bin(data, &len) : NULL;
    if (raw) {
        if (!(call->body = malloc(len + 1)))
            return refuse(ctx, MLF_FAILED, "http: out of memory");
        memcpy(call->body, raw, len);
        call->body[len] = '\0';
    } else {
        if (mlf_value_to_json(data, &call->body) != MLF_OK)
            return refuse(ctx, MLF_FAILED, "http: out of memory encoding data as JSON");
        len = strlen(call->body);
        char err[256];
        if (!httpc_headers_get(&call->headers, "Content-Type") &&
            httpc_headers_set(&call->headers, "Content-Type", "application/json", err, sizeof err) != MLF_OK)
            return refuse(ctx, MLF_FAILED, "http: out of memory");
    }
    call->req.body = call->body;
    call->req.body_len = len;
    return MLF_SUCCESS;
}

static int ctx_cancelled(void *ud)
{
    return mlf_ctx_cancelled(ud);
}

mlf_outcome http_call_prepare(mlf_task_ctx *ctx, const char *default_method, const char *timeout_key,
                              http_call *call)
{
    *call = (http_call){0};
    httpc_request_init(&call->req);
    char err[512];
    const char *conn_id = mlf_value_get_str(mlf_ctx_param(ctx, "conn_id"), NULL);
    const char *endpoint = mlf_value_get_str(mlf_ctx_param(ctx, "endpoint"), NULL);
    const char *method = mlf_value_get_str(mlf_ctx_param(ctx, "method"), NULL);
    const mlf_value *data = mlf_ctx_param(ctx, "data");
    call->method = method = method ? method : default_method;
    if (!conn_id || !*conn_id)
        return refuse(ctx, MLF_FAILED_NO_RETRY, "http: conn_id is required");
    if (mlf_value_type(mlf_ctx_param(ctx, "endpoint")) != MLF_NIL && !endpoint)
        return refuse(ctx, MLF_FAILED_NO_RETRY, "http: endpoint must be a string");

    const mlf_connection *conn;
    int rc = mlf_ctx_connection(ctx, conn_id, &conn);
    if (rc == MLF_ENOTFOUND)
        return refuse(ctx, MLF_FAILED, "http: connection '%s' is not defined", conn_id);
    if (rc != MLF_OK)
        return refuse(ctx, MLF_FAILED_NO_RETRY, "http: connection '%s': %s", conn_id, mlf_strerror(rc));
    if (conn->conn_type && strcmp(conn->conn_type, "http") != 0 && strcmp(conn->conn_type, "https") != 0)
        mlf_ctx_log(ctx, MLF_LOG_WARNING, "connection '%s' has conn_type '%s', not http", conn_id, conn->conn_type);

    char *base = NULL;
    if ((rc = httpc_conn_base_url(conn, &base, err, sizeof err)) != MLF_OK)
        return refuse(ctx, rc == MLF_ENOMEM ? MLF_FAILED : MLF_FAILED_NO_RETRY, "http: %s", err);
    call->url = httpc_join_url(base, endpoint);
    free(base);
    if (!call->url)
        return refuse(ctx, MLF_FAILED, "http: out of memory");
    if ((rc = httpc_conn_apply(conn, &call->req, &call->headers, err, sizeof err)) != MLF_OK ||
        (rc = httpc_headers_set_map(&call->headers, mlf_ctx_param(ctx, "headers"), err, sizeof err)) != MLF_OK)
        return refuse(ctx, rc == MLF_ENOMEM ? MLF_FAILED : MLF_FAILED_NO_RETRY, "http: %s",
                      rc == MLF_ENOMEM ? "out of memory" : err);

    if (strcmp(method, "GET") == 0) {
        if ((rc = httpc_append_query(&call->url, data, err, sizeof err)) != MLF_OK)
            return refuse(ctx, rc == MLF_ENOMEM ? MLF_FAILED : MLF_FAILED_NO_RETRY, "http: %s",
                          rc == MLF_ENOMEM ? "out of memory" : err);
    } else if (strcmp(method, "HEAD") == 0) {
        if (mlf_value_type(data) != MLF_NIL)
            mlf_ctx_log(ctx, MLF_LOG_WARNING, "data is ignored for a HEAD request");
    } else if (mlf_value_type(data) != MLF_NIL) {
        mlf_outcome o = set_body(ctx, call, data);
        if (o != MLF_SUCCESS)
            return o;
    }

    int64_t timeout = int_param(ctx, timeout_key, call->req.timeout_us);
    int64_t max_body = int_param(ctx, "max_response_bytes", (int64_t)HTTPC_DEFAULT_MAX_BODY);
    if (timeout < 0)
        return refuse(ctx, MLF_FAILED_NO_RETRY, "http: %s must not be negative", timeout_key);
    if (max_body <= 0)
        return refuse(ctx, MLF_FAILED_NO_RETRY, "http: max_response_bytes must be positive");
    call->req.method = method;
    call->req.url = call->url;
    call->req.headers = &call->headers;
    call->req.timeout_us = timeout;
    call->req.max_body = (size_t)max_body;
    call->req.cancelled = ctx_cancelled;
    call->req.cancel_ud = ctx;
    return MLF_SUCCESS;
}

int http_call_perform(mlf_task_ctx *ctx, http_call *call, httpc_response *resp, char *err, size_t errlen)
{
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Calling HTTP method %s on %s", call->method, call->url);
    char why[512];
    int rc = httpc_perform(&call->req, resp, why, sizeof why);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "%s %s: %s", call->method, call->url, why);
        return rc;
    }
    mlf_ctx_log(ctx, MLF_LOG_INFO, "HTTP %ld, %zu%s bytes%s%s", resp->status, resp->body_len,
                resp->truncated ? "+" : "", resp->content_type ? ", " : "",
                resp->content_type ? resp->content_type : "");
    return MLF_OK;
}

void http_call_log_response(mlf_task_ctx *ctx, const httpc_response *resp)
{
    int log_response = 0;
    mlf_value_get_bool(mlf_ctx_param(ctx, "log_response"), &log_response);
    if (log_response)
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Response: %.*s%s", resp->body_len > INT_MAX ? INT_MAX : (int)resp->body_len,
                    resp->body,
                    resp->truncated ? " [truncated at max_response_bytes]" : "");
}

void http_call_free(http_call *call)
{
    httpc_headers_free(&call->headers);
    free(call->url);
    free(call->body);
    *call = (http_call){0};
}
