/* http -- the `http` hook, the `http` operator and the `http_sensor` (Airflow's HttpHook, HttpOperator and
 * HttpSensor), over libcurl. JSON responses are parsed with jansson. See doc/operators/http.md. */
#define _GNU_SOURCE /* memmem */
#include <mlflowd/mlflowd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "http_conn.h"
#include "http_json.h"
#include "http_task.h"

/* Parameters the operator and the sensor share, in the order `plugins list` shows them. */
#define TARGET_PARAMS                                                                                            \
    {.name = "conn_id", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED,                                       \
     .help = "the http connection: host (with or without scheme), port, login/password, schema, extra headers"}, \
    {.name = "endpoint", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,                                     \
     .help = "the path appended to the connection's base URL"}
#define METHOD_PARAM(default_method)                                                                             \
    {.name = "method", .type = MLF_PARAM_ENUM, .default_value = (default_method),                                 \
     .choices = "GET|POST|PUT|PATCH|DELETE|HEAD", .help = "the HTTP method"}
#define PAYLOAD_PARAMS                                                                                           \
    {.name = "data", .type = MLF_PARAM_ANY, .flags = MLF_PARAM_TEMPLATED,                                         \
     .help = "GET: query parameters (map or string); other methods: the body, a string as it is, anything "     \
             "else as JSON"},                                                                                   \
    {.name = "headers", .type = MLF_PARAM_MAP, .flags = MLF_PARAM_TEMPLATED,                                      \
     .help = "request headers, over the connection's extra headers"}
#define LOG_PARAM                                                                                                \
    {.name = "log_response", .type = MLF_PARAM_BOOL, .default_value = "false",                                    \
     .help = "write the response body to the task log"}

static const mlf_param_spec http_params[] = {
    TARGET_PARAMS,
    METHOD_PARAM("POST"),
    PAYLOAD_PARAMS,
    {.name = "response_check", .type = MLF_PARAM_ENUM, .default_value = "status_2xx", .choices = "status_2xx|none",
     .help = "status_2xx fails the task on any other status; none accepts every status"},
    {.name = "timeout", .type = MLF_PARAM_DURATION, .default_value = "30s",
     .help = "limit for the whole request, connecting included (0: none)"},
    {.name = "max_response_bytes", .type = MLF_PARAM_INT, .default_value = "1048576",
     .help = "largest response body read; a larger one fails the task"},
    LOG_PARAM,
    {.name = "do_xcom_push", .type = MLF_PARAM_BOOL, .default_value = "true",
     .help = "push the response body as XCom return_value (JSON responses parsed)"},
    {0}};

static const mlf_param_spec sensor_params[] = {
    TARGET_PARAMS,
    METHOD_PARAM("GET"),
    PAYLOAD_PARAMS,
    {.name = "response_contains", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "a 2xx response must also contain this text"},
    {.name = "request_timeout", .type = MLF_PARAM_DURATION, .default_value = "30s",
     .help = "limit for one poke's request (the sensor's own timeout bounds all pokes)"},
    {.name = "max_response_bytes", .type = MLF_PARAM_INT, .default_value = "1048576",
     .help = "response bytes read (and searched for response_contains)"},
    LOG_PARAM,
    {0}};

static int is_2xx(long status)
{
    return status >= 200 && status <= 299;
}

static const char *str_param(mlf_task_ctx *ctx, const char *name, const char *dflt)
{
    const char *s = mlf_value_get_str(mlf_ctx_param(ctx, name), NULL);
    return s ? s : dflt;
}

/* The XCom of a response: parsed JSON when it says it is JSON (and is), else its text (bytes if it holds a
 * NUL). NULL when memory runs out. */
static mlf_value *response_value(mlf_task_ctx *ctx, const httpc_response *resp)
{
    if (httpc_is_json_type(resp->content_type)) {
        char err[256];
        mlf_value *v = NULL;
        if (httpc_json_parse(resp->body, resp->body_len, &v, err, sizeof err) == MLF_OK)
            return v;
        mlf_ctx_log(ctx, MLF_LOG_WARNING, "the response is typed %s but is not usable JSON (%s): pushed as text",
                    resp->content_type, err);
    }
    if (memchr(resp->body, '\0', resp->body_len))
        return mlf_value_bin(resp->body, resp->body_len);
    return mlf_value_strn(resp->body, resp->body_len);
}

/* The operator's verdict on a response that arrived. */
static mlf_outcome judge_response(mlf_task_ctx *ctx, const http_call *call, const httpc_response *resp)
{
    if (strcmp(str_param(ctx, "response_check", "status_2xx"), "none") != 0 && !is_2xx(resp->status)) {
        char msg[1024];
        httpc_describe_status(resp, call->method, call->url, msg, sizeof msg);
        mlf_ctx_set_message(ctx, "%s", msg);
        return MLF_FAILED;
    }
    if (resp->truncated) {
        mlf_ctx_set_message(ctx, "the response of %s %s is larger than max_response_bytes (%zu)", call->method,
                            call->url, call->req.max_body);
        return MLF_FAILED;
    }
    int push = 1;
    mlf_value_get_bool(mlf_ctx_param(ctx, "do_xcom_push"), &push);
    if (!push)
        return MLF_SUCCESS;
    mlf_value *v = response_value(ctx, resp);
    int rc = v ? mlf_ctx_xcom_push(ctx, MLF_XCOM_RETURN_KEY, v) : MLF_ENOMEM;
    if (rc != MLF_OK) {
        mlf_ctx_set_message(ctx, "the response of %s %s could not be pushed as XCom: %s", call->method, call->url,
                            mlf_strerror(rc));
        return MLF_FAILED;
    }
    return MLF_SUCCESS;
}

static mlf_outcome http_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const char *check = str_param(ctx, "response_check", "status_2xx");
    if (strcmp(check, "status_2xx") != 0 && strcmp(check, "none") != 0) {
        mlf_ctx_set_message(ctx, "http: response_check must be status_2xx or none, not '%s'", check);
        return MLF_FAILED_NO_RETRY;
    }
    http_call call;
    httpc_response resp = {0};
    mlf_outcome o = http_call_prepare(ctx, "POST", "timeout", &call);
    if (o == MLF_SUCCESS) {
        char msg[1024];
        int rc = http_call_perform(ctx, &call, &resp, msg, sizeof msg);
        if (rc != MLF_OK) {
            mlf_ctx_set_message(ctx, "%s", msg);
            o = rc == MLF_EINVAL ? MLF_FAILED_NO_RETRY : MLF_FAILED;
        } else {
            http_call_log_response(ctx, &resp);
            o = judge_response(ctx, &call, &resp);
        }
    }
    httpc_response_free(&resp);
    http_call_free(&call);
    return o;
}

/* One poke's verdict on a response that arrived. */
static mlf_outcome judge_poke(mlf_task_ctx *ctx, const http_call *call, const httpc_response *resp)
{
    if (!is_2xx(resp->status)) {
        char msg[1024];
        httpc_describe_status(resp, call->method, call->url, msg, sizeof msg);
        if (resp->status == 401 || resp->status == 403) {
            mlf_ctx_set_message(ctx, "%s (credentials will not fix themselves: not poking again)", msg);
            return MLF_FAILED_NO_RETRY;
        }
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Not yet: %s", msg);
        mlf_ctx_set_message(ctx, "%s", msg);
        return MLF_RESCHEDULE;
    }
    const char *want = str_param(ctx, "response_contains", NULL);
    if (want && *want && !memmem(resp->body, resp->body_len, want, strlen(want))) {
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Not yet: the response does not contain '%s'", want);
        mlf_ctx_set_message(ctx, "the response of %s %s does not contain '%s'", call->method, call->url, want);
        return MLF_RESCHEDULE;
    }
    return MLF_SUCCESS;
}

static mlf_outcome sensor_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    http_call call;
    httpc_response resp = {0};
    mlf_outcome o = http_call_prepare(ctx, "GET", "request_timeout", &call);
    if (o == MLF_SUCCESS) {
        char msg[1024];
        int rc = http_call_perform(ctx, &call, &resp, msg, sizeof msg);
        if (rc == MLF_OK) {
            http_call_log_response(ctx, &resp);
            o = judge_poke(ctx, &call, &resp);
        } else {
            mlf_ctx_set_message(ctx, "%s", msg);
            /* a service that is not up yet is what sensors wait for; a bad URL or a kill is not */
            o = rc == MLF_EINVAL ? MLF_FAILED_NO_RETRY : rc == MLF_EIO || rc == MLF_ETIMEDOUT ? MLF_RESCHEDULE : MLF_FAILED;
            if (o == MLF_RESCHEDULE)
                mlf_ctx_log(ctx, MLF_LOG_INFO, "Not yet: %s", msg);
        }
    }
    httpc_response_free(&resp);
    http_call_free(&call);
    return o;
}

/* GET on the connection's base URL; any status below 400 passes (requests' raise_for_status). */
static int http_test_connection(const mlf_connection *conn, char *errbuf, size_t errlen)
{
    httpc_request req;
    httpc_headers headers = {0};
    httpc_response resp = {0};
    char *url = NULL;
    httpc_request_init(&req);
    req.method = "GET";
    req.timeout_us = 10 * INT64_C(1000000);
    req.headers = &headers;
    int rc = httpc_conn_base_url(conn, &url, errbuf, errlen);
    if (rc == MLF_OK)
        rc = httpc_conn_apply(conn, &req, &headers, errbuf, errlen);
    if (rc == MLF_OK) {
        char why[512];
        req.url = url;
        rc = httpc_perform(&req, &resp, why, sizeof why);
        if (rc != MLF_OK)
            snprintf(errbuf, errlen, "GET %s: %s", url, why);
        else if (resp.status >= 400) {
            httpc_describe_status(&resp, "GET", url, errbuf, errlen);
            rc = MLF_EIO;
        }
    }
    httpc_response_free(&resp);
    httpc_headers_free(&headers);
    free(url);
    return rc;
}

static const mlf_param_spec http_extras[] = {
    {.name = "verify", .type = MLF_PARAM_ANY, .default_value = "true",
     .help = "false skips TLS certificate checks; a string is a CA bundle path (alias: verify_ssl)"},
    {.name = "allow_redirects", .type = MLF_PARAM_BOOL, .default_value = "true", .help = "follow redirects"},
    {.name = "max_redirects", .type = MLF_PARAM_INT, .default_value = "30", .help = "redirects followed at most"},
    {.name = "allow_cross_origin_redirects", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "follow redirects to another scheme, host or port (they would get the request's headers and "
             "credentials, or downgrade https to http)"},
    {.name = "proxy", .type = MLF_PARAM_STR, .help = "proxy URL (default: the http_proxy environment variables)"},
    {0}};

static const mlf_hook_desc http_hook = {
    .struct_size = sizeof(mlf_hook_desc),
    .name = "http",
    .help = "HTTP(S) services (Airflow's HttpHook). host is a name or a whole base URL; schema is the scheme "
            "(default http); login/password are sent as basic auth; every extra field other than the options "
            "below is a default header.",
    .conn_type = "http",
    .extras = http_extras,
    .test_connection = http_test_connection,
};

static const mlf_operator_desc http_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "http",
    .help = "Calls an HTTP endpoint (Airflow's HttpOperator). Any status but 2xx fails the task (unless "
            "response_check is none); the body becomes the XCom return_value, parsed when it is JSON.",
    .params = http_params,
    .execute = http_execute,
};

static const mlf_operator_desc http_sensor = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "http_sensor",
    .help = "Waits for an HTTP endpoint (Airflow's HttpSensor): done on 2xx (containing response_contains when "
            "given); any other status or an unreachable service pokes again; 401 and 403 fail without retry.",
    .flags = MLF_OP_SENSOR,
    .params = sensor_params,
    .execute = sensor_execute,
};

static int http_init(mlf_registry *reg)
{
    if (httpc_global_init() != MLF_OK) {
        mlf_registry_error(reg, "libcurl failed to initialise");
        return MLF_EPLUGIN;
    }
    int rc = mlf_register_hook(reg, &http_hook);
    if (rc == MLF_OK)
        rc = mlf_register_operator(reg, &http_operator);
    if (rc == MLF_OK)
        rc = mlf_register_operator(reg, &http_sensor);
    if (rc != MLF_OK)
        httpc_global_cleanup();
    return rc;
}

MLF_PLUGIN("http", MLF_VERSION_STRING, "The http hook, operator and sensor (libcurl)", http_init,
           httpc_global_cleanup);
