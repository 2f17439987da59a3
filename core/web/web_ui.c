/*
 * web_ui.c -- serves the UI's compiled-in files (web_assets.h): "/" is index.html, "/static/NAME" the rest.
 * The files hold no data: every page fetches what it shows from the API after logging in.
 */
#include <string.h>

#include "base/strutil.h"
#include "web/web_assets.h"
#include "web/web_internal.h"

static const char *type_of(const char *name)
{
    if (mlf_str_endswith(name, ".html"))
        return "text/html; charset=utf-8";
    if (mlf_str_endswith(name, ".js"))
        return "text/javascript; charset=utf-8";
    if (mlf_str_endswith(name, ".css"))
        return "text/css; charset=utf-8";
    if (mlf_str_endswith(name, ".json"))
        return "application/json";
    if (mlf_str_endswith(name, ".svg"))
        return "image/svg+xml";
    return "application/octet-stream";
}

static void serve(mlf_web_resp *rs, const char *name)
{
    const mlf_web_asset *a = mlf_web_asset_find(name);
    if (!a || strcmp(name, "openapi.json") == 0) {
        mlf_web_problem(rs, 404, "no such file: %.200s", name);
        return;
    }
    rs->status = 200;
    rs->content_type = type_of(name);
    rs->body = (char *)a->data;
    rs->len = a->len;
    rs->body_static = true;
    rs->cache = "no-cache";
}

void mlf_web_h_ui_index(mlf_web_req *rq, mlf_web_resp *rs)
{
    (void)rq;
    serve(rs, "index.html");
}

void mlf_web_h_ui_static(mlf_web_req *rq, mlf_web_resp *rs)
{
    serve(rs, rq->params[0]);
}
