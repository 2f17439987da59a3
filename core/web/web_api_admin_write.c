/*
 * web_api_admin_write.c -- POST, PATCH and DELETE on /api/v1/variables, /api/v1/connections and
 * /api/v1/pools (admin role), with the CLI's store functions (cli/store_ops.h) so that a write from the API
 * is the same write as `variables set`, `connections add` or `pools set`. Answers never carry a password
 * or a sensitive value: they are the masked GET answers of what was written.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/store_ops.h"
#include "conf/conn_uri.h"
#include "web/web_internal.h"

/* The error answer of a store_ops call about @p what. */
static void write_problem(mlf_web_resp *rs, int rc, const char *what, const char *id)
{
    char w[320];
    snprintf(w, sizeof w, "%s '%.200s'", what, id);
    if (rc == MLF_EEXIST)
        mlf_web_problem(rs, 409, "%s already exists", w);
    else
        mlf_web_store_problem(rs, rc, w);
}

/* 1 when @p s is a valid id of @p what (letters, digits, '_', '.', '-' when @p strict); else sets a 400. */
static int good_id(mlf_web_resp *rs, const char *s, const char *what, int strict)
{
    if (mlf_ops_check_id(s, strict) == MLF_OK)
        return 1;
    mlf_web_problem(rs, 400, "invalid %s '%.200s': %s", what, s,
                    strict ? "non-empty; letters, digits, '_', '.' and '-' only" : "it cannot be empty");
    return 0;
}

/* A string member @p key of @p body: *@p out NULL when absent or null; 0 when present and not a string. */
static int opt_string(json_t *body, const char *key, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = json_is_string(v) ? json_string_value(v) : NULL;
    return !v || json_is_null(v) || json_is_string(v);
}

/* With an update_mask, 1 when it names only fields of @p allowed; else sets a 400. */
static int good_mask(mlf_web_req *rq, mlf_web_resp *rs, const char *const *allowed)
{
    const char *mask = mlf_web_arg(rq, "update_mask");
    if (!mask)
        return 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", mask);
    for (char *save, *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        while (*f == ' ')
            f++;
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            ok |= strcmp(f, allowed[i]) == 0;
        if (!ok) {
            mlf_web_problem(rs, 400, "update_mask: '%.100s' is not a field that can be updated here", f);
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ variables */

static const char *const var_fields[] = {"key", "value", "description", NULL};

/* POST (@p key NULL: from the body) or PATCH (@p key from the path). */
static void var_write(mlf_web_req *rq, mlf_web_resp *rs, const char *key)
{
    json_t *body = mlf_web_body(rq, rs, var_fields, 0);
    if (!body)
        return;
    const char *bkey, *val, *desc;
    if (!opt_string(body, "key", &bkey) || !opt_string(body, "value", &val) || !opt_string(body, "description", &desc)) {
        mlf_web_problem(rs, 400, "key, value and description must be strings");
    } else if (!val) {
        mlf_web_problem(rs, 400, "the body needs a \"value\"");
    } else if (!key && !bkey) {
        mlf_web_problem(rs, 400, "the body needs a \"key\"");
    } else if (key && bkey && strcmp(key, bkey) != 0) {
        mlf_web_problem(rs, 400, "the body's key '%.100s' is not the variable of the path", bkey);
    } else if (good_id(rs, key ? key : bkey, "variable key", 0)) {
        char *k = strdup(key ? key : bkey);
        int rc = MLF_OK;
        if (key) { /* PATCH changes an existing variable */
            mlf_store_txn *txn;
            mlf_var_rec old;
            mlf_var_rec_init(&old);
            if ((rc = mlf_store_read_begin(rq->web->o.store, &txn)) == MLF_OK) {
                rc = mlf_store_var_get(txn, key, &old);
                mlf_store_read_end(txn);
            }
            mlf_var_rec_clear(&old);
        }
        if (rc == MLF_OK && k) {
            pthread_mutex_lock(&rq->web->write_mu);
            rc = mlf_ops_var_set(rq->web->o.store, k, val, desc);
            pthread_mutex_unlock(&rq->web->write_mu);
        }
        if (!k)
            mlf_web_problem(rs, 500, "out of memory");
        else if (rc != MLF_OK)
            write_problem(rs, rc, "variable", k);
        else {
            rq->params[0] = k;
            mlf_web_h_var_get(rq, rs); /* an admin's answer: the value in clear, as `variables get` */
        }
        rq->params[0] = key;
        free(k);
    }
    json_decref(body);
}

void mlf_web_h_var_post(mlf_web_req *rq, mlf_web_resp *rs) { var_write(rq, rs, NULL); }

void mlf_web_h_var_patch(mlf_web_req *rq, mlf_web_resp *rs)
{
    if (good_mask(rq, rs, var_fields))
        var_write(rq, rs, rq->params[0]);
}

/* -------------------------------------------------------------------------------------- connections */

static const char *const conn_fields[] = {"connection_id", "conn_type", "description", "host", "login",
                                          "password",      "schema",    "port",        "extra", NULL};

/* Parses @p body (Airflow's Connection: extra a JSON string or an object) with the parser of
 * `connections add --conn-json` into @p rec. Returns 0 or sets a 400 and returns -1. */
static int conn_parse(mlf_web_resp *rs, const char *conn_id, json_t *body, mlf_conn_rec *rec)
{
    json_t *j = json_deep_copy(body);
    json_object_del(j, "connection_id");
    json_t *extra = json_object_get(j, "extra");
    if (json_is_string(extra)) {
        json_error_t e;
        json_t *x = json_loads(json_string_value(extra), 0, &e);
        if (!x) {
            json_decref(j);
            mlf_web_problem(rs, 400, "extra is not JSON: %s (column %d)", e.text, e.column);
            return -1;
        }
        json_object_set_new(j, "extra", x);
    } else if (json_is_null(extra)) {
        json_object_del(j, "extra");
    }
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char err[512];
    int rc = text ? mlf_conn_from_json(conn_id, text, strlen(text), rec, err, sizeof err) : MLF_ENOMEM;
    free(text);
    if (rc == MLF_ENOMEM) {
        mlf_web_problem(rs, 500, "out of memory");
        return -1;
    }
    if (rc != MLF_OK) {
        mlf_web_problem(rs, 400, "bad connection: %s", err);
        return -1;
    }
    return 0;
}

/* Moves field @p f of @p from into @p to when @p body has @p key. */
#define TAKE(key, f)                                                                                             \
    do {                                                                                                         \
        if (json_object_get(body, key)) {                                                                        \
            free(to->f);                                                                                         \
            to->f = from->f;                                                                                     \
            from->f = NULL;                                                                                      \
        }                                                                                                        \
    } while (0)

/* PATCH: the fields the body has replace those of @p to. */
static void conn_merge(mlf_conn_rec *to, mlf_conn_rec *from, json_t *body)
{
    TAKE("conn_type", conn_type);
    TAKE("description", description);
    TAKE("host", host);
    TAKE("login", login);
    TAKE("password", password);
    TAKE("schema", schema);
    if (json_object_get(body, "port"))
        to->port = from->port;
    if (json_object_get(body, "extra")) {
        free(to->extra);
        to->extra = from->extra;
        to->extra_len = from->extra_len;
        from->extra = NULL;
        from->extra_len = 0;
    }
}

static void conn_write(mlf_web_req *rq, mlf_web_resp *rs, const char *path_id)
{
    json_t *body = mlf_web_body(rq, rs, conn_fields, 0);
    if (!body)
        return;
    const char *bid;
    if (!opt_string(body, "connection_id", &bid)) {
        mlf_web_problem(rs, 400, "connection_id must be a string");
    } else if (!path_id && !bid) {
        mlf_web_problem(rs, 400, "the body needs a \"connection_id\"");
    } else if (path_id && bid && strcmp(path_id, bid) != 0) {
        mlf_web_problem(rs, 400, "the body's connection_id '%.100s' is not the connection of the path", bid);
    } else if (good_id(rs, path_id ? path_id : bid, "connection id", 1)) {
        char *id = strdup(path_id ? path_id : bid);
        mlf_conn_rec rec, old;
        mlf_conn_rec_init(&rec);
        mlf_conn_rec_init(&old);
        int rc = MLF_OK;
        if (!id) {
            mlf_web_problem(rs, 500, "out of memory");
            rc = MLF_ENOMEM;
        } else if (conn_parse(rs, id, body, &rec) != 0) {
            rc = MLF_EINVAL;
        } else if (path_id) { /* PATCH: the existing connection with the body's fields */
            mlf_store_txn *txn;
            if ((rc = mlf_store_read_begin(rq->web->o.store, &txn)) == MLF_OK) {
                rc = mlf_store_conn_get(txn, id, &old);
                mlf_store_read_end(txn);
            }
            if (rc == MLF_OK)
                conn_merge(&old, &rec, body);
            else
                write_problem(rs, rc, "connection", id);
        } else if (!rec.conn_type) {
            mlf_web_problem(rs, 400, "the connection has no conn_type");
            rc = MLF_EINVAL;
        }
        if (rc == MLF_OK) {
            pthread_mutex_lock(&rq->web->write_mu);
            rc = mlf_ops_conn_put(rq->web->o.store, path_id ? &old : &rec, path_id != NULL);
            pthread_mutex_unlock(&rq->web->write_mu);
            if (rc != MLF_OK)
                write_problem(rs, rc, "connection", id);
            else {
                rq->params[0] = id;
                mlf_web_h_conn_get(rq, rs); /* masked, as every GET */
                rq->params[0] = path_id;
            }
        }
        mlf_conn_rec_clear(&rec);
        mlf_conn_rec_clear(&old);
        free(id);
    }
    json_decref(body);
}

void mlf_web_h_conn_post(mlf_web_req *rq, mlf_web_resp *rs) { conn_write(rq, rs, NULL); }

void mlf_web_h_conn_patch(mlf_web_req *rq, mlf_web_resp *rs)
{
    if (good_mask(rq, rs, conn_fields))
        conn_write(rq, rs, rq->params[0]);
}

/* ------------------------------------------------------------------------------------------- pools */

static const char *const pool_fields[] = {"name", "slots", "description", NULL};

static void pool_write(mlf_web_req *rq, mlf_web_resp *rs, const char *path_name)
{
    json_t *body = mlf_web_body(rq, rs, pool_fields, 0);
    if (!body)
        return;
    const char *bname, *desc;
    json_t *slots = json_object_get(body, "slots");
    if (!opt_string(body, "name", &bname) || !opt_string(body, "description", &desc)) {
        mlf_web_problem(rs, 400, "name and description must be strings");
    } else if (!path_name && !bname) {
        mlf_web_problem(rs, 400, "the body needs a \"name\"");
    } else if (path_name && bname && strcmp(path_name, bname) != 0) {
        mlf_web_problem(rs, 400, "the body's name '%.100s' is not the pool of the path", bname);
    } else if (!json_is_integer(slots) || json_integer_value(slots) < -1 || json_integer_value(slots) > INT_MAX) {
        mlf_web_problem(rs, 400, "slots must be an integer >= -1 (-1 is unlimited)");
    } else if (good_id(rs, path_name ? path_name : bname, "pool name", 0)) {
        char *name = strdup(path_name ? path_name : bname);
        int rc = name ? MLF_OK : MLF_ENOMEM;
        if (rc == MLF_OK && path_name) { /* PATCH changes an existing pool */
            mlf_store_txn *txn;
            mlf_pool_rec old;
            mlf_pool_rec_init(&old);
            if ((rc = mlf_store_read_begin(rq->web->o.store, &txn)) == MLF_OK) {
                rc = mlf_store_pool_get(txn, name, &old);
                mlf_store_read_end(txn);
            }
            mlf_pool_rec_clear(&old);
        }
        if (rc == MLF_OK) {
            pthread_mutex_lock(&rq->web->write_mu);
            rc = mlf_ops_pool_set(rq->web->o.store, name, (int)json_integer_value(slots), desc);
            pthread_mutex_unlock(&rq->web->write_mu);
        }
        if (rc != MLF_OK)
            write_problem(rs, rc, "pool", name ? name : "");
        else {
            rq->params[0] = name;
            mlf_web_h_pool_get(rq, rs);
            rq->params[0] = path_name;
        }
        free(name);
    }
    json_decref(body);
}

void mlf_web_h_pool_post(mlf_web_req *rq, mlf_web_resp *rs) { pool_write(rq, rs, NULL); }

void mlf_web_h_pool_patch(mlf_web_req *rq, mlf_web_resp *rs)
{
    if (good_mask(rq, rs, pool_fields))
        pool_write(rq, rs, rq->params[0]);
}

/* ----------------------------------------------------------------------------------------- deletes */

static void del(mlf_web_req *rq, mlf_web_resp *rs, int (*fn)(mlf_store_txn *, const char *), const char *what)
{
    pthread_mutex_lock(&rq->web->write_mu);
    int rc = mlf_ops_delete(rq->web->o.store, fn, rq->params[0]);
    pthread_mutex_unlock(&rq->web->write_mu);
    if (rc != MLF_OK) {
        write_problem(rs, rc, what, rq->params[0]);
        return;
    }
    rs->status = 204;
    rs->content_type = "text/plain";
    rs->body = (char *)"";
    rs->len = 0;
    rs->body_static = true;
}

void mlf_web_h_var_delete(mlf_web_req *rq, mlf_web_resp *rs) { del(rq, rs, mlf_store_var_delete, "variable"); }
void mlf_web_h_conn_delete(mlf_web_req *rq, mlf_web_resp *rs) { del(rq, rs, mlf_store_conn_delete, "connection"); }
void mlf_web_h_pool_delete(mlf_web_req *rq, mlf_web_resp *rs) { del(rq, rs, mlf_store_pool_delete, "pool"); }
