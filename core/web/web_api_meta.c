/*
 * web_api_meta.c -- health, version, the OpenAPI document, plugins and users.
 */
#include <string.h>

#include "store/store_users.h"
#include "time/timefmt.h"
#include "web/web_assets.h"
#include "web/web_internal.h"

/* A scheduler heartbeat older than this counts as a scheduler that is down (Airflow's default threshold). */
#define HEARTBEAT_THRESHOLD_S 30

void mlf_web_h_health(mlf_web_req *rq, mlf_web_resp *rs)
{
    mlf_store_txn *txn;
    mlf_time_us hb = MLF_TIME_NONE;
    int64_t schema = 0;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    int hrc = MLF_ENOTFOUND;
    if (rc == MLF_OK) {
        rc = mlf_store_meta(txn, &schema, NULL);
        hrc = mlf_store_heartbeat_get(txn, &hb);
        mlf_store_read_end(txn);
    }
    json_t *sched = json_object();
    double age = hrc == MLF_OK ? (double)(mlf_time_now() - hb) / 1e6 : -1;
    json_object_set_new(sched, "status",
                        json_string(hrc == MLF_OK && age <= HEARTBEAT_THRESHOLD_S ? "healthy" : "unhealthy"));
    json_object_set_new(sched, "latest_scheduler_heartbeat", mlf_web_time(hrc == MLF_OK ? hb : MLF_TIME_NONE));
    json_object_set_new(sched, "heartbeat_age_seconds", hrc == MLF_OK ? json_real(age) : json_null());
    json_t *j = json_pack("{s:{s:s}, s:o}", "metadatabase", "status", rc == MLF_OK ? "healthy" : "unhealthy",
                          "scheduler", sched);
    mlf_web_json(rs, rc == MLF_OK ? 200 : 503, j);
}

void mlf_web_h_version(mlf_web_req *rq, mlf_web_resp *rs)
{
    (void)rq;
    mlf_web_json(rs, 200, json_pack("{s:s, s:n}", "version", MLF_VERSION_STRING, "git_version"));
}

void mlf_web_h_openapi(mlf_web_req *rq, mlf_web_resp *rs)
{
    (void)rq;
    const mlf_web_asset *a = mlf_web_asset_find("openapi.json");
    if (!a) {
        mlf_web_problem(rs, 500, "this build has no OpenAPI document");
        return;
    }
    rs->status = 200;
    rs->content_type = "application/json";
    rs->body = (char *)a->data;
    rs->len = a->len;
    rs->body_static = true;
}

void mlf_web_h_plugins(mlf_web_req *rq, mlf_web_resp *rs)
{
    long limit, offset;
    char err[200];
    if (mlf_web_parse_page(mlf_web_arg(rq, "limit"), mlf_web_arg(rq, "offset"), &limit, &offset, err, sizeof err)) {
        mlf_web_problem(rs, 400, "%s", err);
        return;
    }
    const mlf_catalog *cat = rq->web->o.cat;
    size_t n = cat ? mlf_catalog_plugin_count(cat) : 0;
    json_t *list = json_array();
    for (size_t i = (size_t)offset; i < n && json_array_size(list) < (size_t)limit; i++) {
        const mlf_plugin *p = mlf_catalog_plugin_at(cat, i);
        json_t *ops = json_array();
        for (size_t k = 0; k < MLF_REG_KIND_COUNT; k++)
            for (size_t e = 0; e < mlf_catalog_count(cat, (mlf_reg_kind)k); e++) {
                const mlf_reg_entry *re = mlf_catalog_at(cat, (mlf_reg_kind)k, e);
                if (re->owner == p)
                    json_array_append_new(ops, json_string(re->name));
            }
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", p->info->name, "version",
                                              p->info->version ? p->info->version : "", "description",
                                              p->info->description ? p->info->description : "", "path", p->path,
                                              "registered", ops));
    }
    mlf_web_json(rs, 200, json_pack("{s:o, s:I}", "plugins", list, "total_entries", (json_int_t)n));
}

static int add_user(void *ud, const mlf_user_rec *r)
{
    json_array_append_new(ud, json_pack("{s:s, s:s, s:o, s:b}", "username", r->name, "role", r->role ? r->role : "",
                                        "created_at", mlf_web_time(r->created_at), "has_token",
                                        r->token_hash != NULL));
    return 0;
}

void mlf_web_h_users_list(mlf_web_req *rq, mlf_web_resp *rs)
{
    mlf_store_txn *txn;
    json_t *list = json_array();
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_user_foreach(txn, add_user, list);
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK) {
        json_decref(list);
        mlf_web_store_problem(rs, rc, "the users");
        return;
    }
    mlf_web_json(rs, 200, json_pack("{s:I, s:o}", "total_entries", (json_int_t)json_array_size(list), "users", list));
}
