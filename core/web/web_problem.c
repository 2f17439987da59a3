/*
 * web_problem.c -- answers: JSON bodies and RFC 9457 problem details (application/problem+json).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "web/web_internal.h"

static const char *status_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

static void set_body(mlf_web_resp *rs, int status, const char *type, char *body)
{
    if (!rs->body_static)
        free(rs->body);
    rs->status = status;
    rs->content_type = type;
    rs->body_static = body == NULL;
    rs->body = body ? body : (char *)"{\"title\":\"Internal Server Error\",\"status\":500}";
    rs->len = strlen(rs->body);
    if (!body)
        rs->status = 500;
}

void mlf_web_problem(mlf_web_resp *rs, int status, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", status_title(status), "status",
                          status, "detail", detail);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    set_body(rs, status, "application/problem+json", body);
}

void mlf_web_json(mlf_web_resp *rs, int status, json_t *j)
{
    char *body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!body) {
        mlf_web_problem(rs, 500, "out of memory");
        return;
    }
    set_body(rs, status, "application/json", body);
}

void mlf_web_store_problem(mlf_web_resp *rs, int rc, const char *what)
{
    if (rc == MLF_ENOTFOUND)
        mlf_web_problem(rs, 404, "%s does not exist", what);
    else if (rc == MLF_ETOOBIG || rc == MLF_EINVAL)
        mlf_web_problem(rs, 400, "%s: %s", what, mlf_strerror(rc));
    else
        mlf_web_problem(rs, 500, "%s: the state store failed: %s", what, mlf_strerror(rc));
}
