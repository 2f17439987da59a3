/*
 * web_api_admin.c -- /api/v1/variables, /api/v1/connections and /api/v1/pools (read). Secrets never leave:
 * connection passwords are not part of any answer, sensitive extra values and the values of sensitive
 * variable keys read "***" (conn_uri.h's mlf_is_sensitive_name()), as in the CLI.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conn_uri.h"
#include "web/web_internal.h"

/* A paged list answer from a foreach over the whole table. */
typedef struct paged {
    long limit, offset, total;
    json_t *list;
    json_t *(*to_json)(const void *rec);
} paged;

static void page_add(paged *p, const void *rec)
{
    if (p->total >= p->offset && (long)json_array_size(p->list) < p->limit)
        json_array_append_new(p->list, p->to_json(rec));
    p->total++;
}

static json_t *var_json(const void *rec)
{
    const mlf_var_rec *r = rec;
    return json_pack("{s:s, s:s, s:s?}", "key", r->key, "value",
                     mlf_is_sensitive_name(r->key) ? MLF_CONN_MASKED : r->val ? r->val : "", "description",
                     r->description);
}

static json_t *conn_json(const void *rec)
{
    const mlf_conn_rec *r = rec;
    json_t *j = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "connection_id", r->conn_id, "conn_type",
                          r->conn_type, "description", r->description, "host", r->host, "login", r->login, "schema",
                          r->schema, "port", r->port ? json_integer(r->port) : json_null());
    mlf_value *v = NULL;
    char *text = NULL;
    json_t *extra = NULL;
    /* the masked form hides sensitive extra values at any depth */
    if (r->extra && mlf_conn_to_value(r, MLF_CONN_MASK, &v) == MLF_OK) {
        const mlf_value *ev = mlf_map_get(v, "extra");
        if (ev && mlf_value_to_json(ev, &text) == MLF_OK)
            extra = json_loads(text, JSON_DECODE_ANY, NULL);
    }
    mlf_value_free(v);
    free(text);
    json_object_set_new(j, "extra", extra ? extra : json_null());
    return j;
}

static json_t *pool_json(const void *rec)
{
    const mlf_pool_rec *r = rec;
    return json_pack("{s:s, s:i, s:s?}", "name", r->name, "slots", r->slots, "description", r->description);
}

static int add_var(void *ud, const mlf_var_rec *r) { return page_add(ud, r), 0; }
static int add_conn(void *ud, const mlf_conn_rec *r) { return page_add(ud, r), 0; }
static int add_pool(void *ud, const mlf_pool_rec *r) { return page_add(ud, r), 0; }

enum table { VARS, CONNS, POOLS };

static void list(mlf_web_req *rq, mlf_web_resp *rs, enum table t)
{
    static const char *const names[] = {"variables", "connections", "pools"};
    paged p = {.list = json_array(), .to_json = t == VARS ? var_json : t == CONNS ? conn_json : pool_json};
    char err[200];
    if (mlf_web_parse_page(mlf_web_arg(rq, "limit"), mlf_web_arg(rq, "offset"), &p.limit, &p.offset, err, sizeof err)) {
        json_decref(p.list);
        mlf_web_problem(rs, 400, "%s", err);
        return;
    }
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = t == VARS    ? mlf_store_var_foreach(txn, add_var, &p)
             : t == CONNS ? mlf_store_conn_foreach(txn, add_conn, &p)
                          : mlf_store_pool_foreach(txn, add_pool, &p);
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK) {
        json_decref(p.list);
        mlf_web_store_problem(rs, rc, names[t]);
        return;
    }
    mlf_web_json(rs, 200, json_pack("{s:o, s:I}", names[t], p.list, "total_entries", (json_int_t)p.total));
}

static void get(mlf_web_req *rq, mlf_web_resp *rs, enum table t)
{
    static const char *const what[] = {"variable", "connection", "pool"};
    mlf_store_txn *txn;
    union {
        mlf_var_rec var;
        mlf_conn_rec conn;
        mlf_pool_rec pool;
    } r;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = t == VARS    ? mlf_store_var_get(txn, rq->params[0], &r.var)
             : t == CONNS ? mlf_store_conn_get(txn, rq->params[0], &r.conn)
                          : mlf_store_pool_get(txn, rq->params[0], &r.pool);
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK) {
        char w[300];
        snprintf(w, sizeof w, "%s '%.200s'", what[t], rq->params[0]);
        mlf_web_store_problem(rs, rc, w);
        return;
    }
    if (t == VARS) {
        /* asked for by name, as `variables get`: the value in clear, but a sensitive one for admins only */
        int mask = mlf_is_sensitive_name(r.var.key) && rq->user.role < MLF_ROLE_ADMIN;
        mlf_web_json(rs, 200, json_pack("{s:s, s:s, s:s?}", "key", r.var.key, "value",
                                        mask ? MLF_CONN_MASKED : r.var.val ? r.var.val : "",
                                        "description", r.var.description));
        mlf_var_rec_clear(&r.var);
    } else if (t == CONNS) {
        mlf_web_json(rs, 200, conn_json(&r.conn));
        mlf_conn_rec_clear(&r.conn);
    } else {
        mlf_web_json(rs, 200, pool_json(&r.pool));
        mlf_pool_rec_clear(&r.pool);
    }
}

void mlf_web_h_vars_list(mlf_web_req *rq, mlf_web_resp *rs) { list(rq, rs, VARS); }
void mlf_web_h_var_get(mlf_web_req *rq, mlf_web_resp *rs) { get(rq, rs, VARS); }
void mlf_web_h_conns_list(mlf_web_req *rq, mlf_web_resp *rs) { list(rq, rs, CONNS); }
void mlf_web_h_conn_get(mlf_web_req *rq, mlf_web_resp *rs) { get(rq, rs, CONNS); }
void mlf_web_h_pools_list(mlf_web_req *rq, mlf_web_resp *rs) { list(rq, rs, POOLS); }
void mlf_web_h_pool_get(mlf_web_req *rq, mlf_web_resp *rs) { get(rq, rs, POOLS); }
