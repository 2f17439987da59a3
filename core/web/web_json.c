/*
 * web_json.c -- small helpers the resource handlers share: times, query values, msgpack as JSON, DAG lookup.
 */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "time/timefmt.h"
#include "web/web_internal.h"

json_t *mlf_web_time(mlf_time_us t)
{
    if (t == MLF_TIME_NONE || t == 0)
        return json_null();
    char buf[64];
    if (mlf_time_format_iso(t, NULL, 0, buf, sizeof buf) < 0)
        return json_null();
    return json_string(buf);
}

const char *mlf_web_arg(const mlf_web_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *mlf_web_msgpack_json(const void *p, size_t n, json_t *def)
{
    if (!p || n == 0)
        return def;
    mlf_value *v = NULL;
    char *text = NULL;
    json_t *j = NULL;
    if (mlf_value_unpack(p, n, &v) == MLF_OK && mlf_value_to_json(v, &text) == MLF_OK)
        j = json_loads(text, JSON_DECODE_ANY, NULL);
    mlf_value_free(v);
    free(text);
    if (j) {
        json_decref(def);
        return j;
    }
    return def;
}

const mlf_dag *mlf_web_dag(mlf_web_req *rq, mlf_web_resp *rs, const char *dag_id)
{
    const mlf_dag *d = mlf_dagbag_get(rq->web->o.bag, dag_id);
    if (!d)
        mlf_web_problem(rs, 404, "DAG '%.200s' does not exist (or its file failed to load: see "
                                 "/api/v1/importErrors)", dag_id);
    return d;
}

int mlf_web_arg_time(mlf_web_req *rq, mlf_web_resp *rs, const char *name, mlf_time_us *out)
{
    const char *s = mlf_web_arg(rq, name);
    if (!s)
        return MLF_OK;
    char err[200];
    if (mlf_time_parse(s, NULL, out, err, sizeof err) != MLF_OK) {
        mlf_web_problem(rs, 400, "%s: %s", name, err);
        return MLF_EINVAL;
    }
    return MLF_OK;
}

json_t *mlf_web_body(mlf_web_req *rq, mlf_web_resp *rs, const char *const *known, int optional)
{
    char err[256];
    json_t *body = NULL;
    if (optional && rq->body_len == 0)
        return json_object();
    if (mlf_web_parse_object(rq->body, rq->body_len, &body, err, sizeof err) != MLF_OK ||
        (known && mlf_web_only_keys(body, known, err, sizeof err) != MLF_OK)) {
        json_decref(body);
        mlf_web_problem(rs, 400, "%s", err);
        return NULL;
    }
    return body;
}
