/*
 * web_api_assets.c -- event triggers over HTTP (doc/assets.md, doc/api.md): POST /api/v1/assets/events records
 * an asset event from outside (its consumers run), and the Idempotency-Key header that makes it and
 * POST .../dagRuns safe to repeat: a key seen before creates nothing and answers what the first request did.
 * The key's check and record are in the same store write batch as the change itself, so two requests with
 * one key cannot both create (even from two webserver processes: the store has one writer at a time).
 */
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/asset_ops.h"
#include "store/store_assets.h"
#include "time/timefmt.h"
#include "value/value_json.h"
#include "web/web_internal.h"

const char *mlf_web_idempotency_key(const mlf_web_req *rq)
{
    const char *k = rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Idempotency-Key") : NULL;
    return k && *k ? k : NULL;
}

void mlf_web_h_asset_event(mlf_web_req *rq, mlf_web_resp *rs)
{
    json_t *body = mlf_web_body(rq, rs, (const char *const[]){"asset_uri", "extra", NULL}, 0);
    if (!body)
        return;
    const char *uri = json_string_value(json_object_get(body, "asset_uri"));
    json_t *jextra = json_object_get(body, "extra");
    const char *key = mlf_web_idempotency_key(rq);
    char err[600];
    mlf_value *extra = NULL;
    const char *bad = NULL;
    if (!uri)
        bad = "asset_uri must be a string";
    else if (jextra && !json_is_null(jextra) && !json_is_object(jextra))
        bad = "extra must be a JSON object";
    else if (key && !mlf_ops_idem_key_ok(key))
        bad = "Idempotency-Key must be 1 to 200 printable ASCII characters";
    if (!bad && json_is_object(jextra)) {
        char *text = json_dumps(jextra, JSON_COMPACT);
        if (!text || mlf_value_from_json(text, strlen(text), &extra, err, sizeof err) != MLF_OK)
            bad = "extra is not representable";
        free(text);
    }
    if (bad) {
        mlf_value_free(extra);
        json_decref(body);
        mlf_web_problem(rs, 400, "%s", bad);
        return;
    }
    int64_t seq = 0;
    int replayed = 0;
    pthread_mutex_lock(&rq->web->write_mu);
    int rc = mlf_ops_asset_event(rq->web->o.store, rq->web->o.bag, uri, "api", extra, key, &seq, &replayed, err,
                                 sizeof err);
    pthread_mutex_unlock(&rq->web->write_mu);
    mlf_value_free(extra);
    if (rc != MLF_OK) {
        json_decref(body);
        mlf_web_problem(rs, rc == MLF_EINVAL ? 400 : rc == MLF_ENOTFOUND ? 404 : rc == MLF_EEXIST ? 409 : 500, "%s",
                        err);
        return;
    }
    mlf_web_json(rs, replayed ? 200 : 201,
                 json_pack("{s:s, s:I, s:b}", "asset_uri", uri, "seq", (json_int_t)seq, "replayed", replayed));
    json_decref(body);
}
