/*
 * web_internal.h -- what the files of the webserver share: the server state, a request and its response,
 * the route table, handlers (one file per resource group) and helpers for JSON and problem answers.
 */
#ifndef MLF_CORE_WEB_INTERNAL_H
#define MLF_CORE_WEB_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "web/web.h"
#include "base/strutil.h"

/** Largest request body accepted (larger: 413). */
#define MLF_WEB_MAX_BODY (1024 * 1024)
/** Largest page of a list (limit). */
#define MLF_WEB_MAX_LIMIT 1000
#define MLF_WEB_DEFAULT_LIMIT 100

struct mlf_web {
    mlf_web_opts o;
    struct MHD_Daemon *daemon;
    char url[128];
    bool tls;
    char *cert, *key;       /* PEM text when TLS */
    pthread_mutex_t write_mu; /* one state change at a time from this process */
    pthread_mutex_t login_mu; /* one password check at a time (each costs 64 MiB) */
    pthread_rwlock_t bag_lock; /* handlers run under its read side; mlf_web_reload_dags() takes the write side */
};

/** A path parameter count limit. */
#define MLF_WEB_MAX_PARAMS 4

/** The user a request runs as. */
typedef struct mlf_web_user {
    char name[72];
    mlf_role role;
    bool via_session;    /* cookie (CSRF checked on changes) rather than bearer token */
    char session_id[72]; /* via_session only */
} mlf_web_user;

typedef struct mlf_web_req {
    mlf_web *web;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *body; /* NUL-terminated */
    size_t body_len;
    const char *params[MLF_WEB_MAX_PARAMS]; /* path parameters, in pattern order */
    int nparams;
    mlf_web_user user; /* set when the route needs a role */
} mlf_web_req;

typedef struct mlf_web_resp {
    int status;
    const char *content_type; /* static string */
    char *body;               /* owned (free()) unless body_static */
    size_t len;
    bool body_static;
    char *set_cookie;         /* owned, may be NULL */
    const char *cache;        /* Cache-Control; NULL: no-store */
    char allow[64];           /* Allow header for 405 (empty: none) */
} mlf_web_resp;

typedef void (*mlf_web_handler)(mlf_web_req *rq, mlf_web_resp *rs);

/** Minimum role of a route; MLF_WEB_ANON: no authentication. */
#define MLF_WEB_ANON (-1)

typedef struct mlf_web_route {
    const char *method;
    const char *pattern; /* "/api/v1/dags/{dag_id}" */
    mlf_web_handler fn;
    int role;            /* MLF_WEB_ANON or an mlf_role */
} mlf_web_route;

/* web_router.c */
/** Finds the route for @p method and @p path, filling @p rq's params. Returns the route, or NULL with
 * *@p path_known set when the path exists for another method (405). @p allow receives those methods. */
const mlf_web_route *mlf_web_route_find(const char *method, const char *path, mlf_web_req *rq, int *path_known,
                                        char *allow, size_t allowlen);

/* web_problem.c: answers */
/** Sets an application/problem+json answer: {type, title, status, detail}. */
void mlf_web_problem(mlf_web_resp *rs, int status, const char *fmt, ...) MLF_PRINTF(3, 4);
/** Sets a JSON answer of @p status from @p j (reference stolen; NULL: 500). */
void mlf_web_json(mlf_web_resp *rs, int status, json_t *j);
/** A problem for store error @p rc (not found 404, others 500) about @p what. */
void mlf_web_store_problem(mlf_web_resp *rs, int rc, const char *what);

/* web_parse.c: untrusted input (fuzzed by tests/fuzz/fuzz_web_parse.c) */
/** Parses a decimal integer in [0, max] written with digits only. Errors: MLF_EINVAL, MLF_ERANGE. */
int mlf_web_parse_uint(const char *s, long max, long *out);
/** Parses "true"/"false". Errors: MLF_EINVAL. */
int mlf_web_parse_bool(const char *s, bool *out);
/** Reads limit and offset query values (NULL: defaults) into *@p limit, *@p offset; on error writes a
 * sentence to @p err. Errors: MLF_EINVAL. */
int mlf_web_parse_page(const char *limit_s, const char *offset_s, long *limit, long *offset, char *err,
                       size_t errlen);
/** Parses a request body that must be a JSON object of at most depth 32 (new reference in *@p out).
 * Errors: MLF_EPARSE with a sentence (line:column) in @p err. */
int mlf_web_parse_object(const char *body, size_t len, json_t **out, char *err, size_t errlen);
/** Copies the value of cookie @p name from a Cookie header into @p out (at most @p outlen - 1 bytes).
 * Errors: MLF_ENOTFOUND, MLF_ETOOBIG. */
int mlf_web_cookie(const char *header, const char *name, char *out, size_t outlen);
/** Checks that @p obj has only keys among @p known (NULL-terminated); else writes which to @p err and gives
 * MLF_EINVAL. */
int mlf_web_only_keys(json_t *obj, const char *const *known, char *err, size_t errlen);

/* web_auth.c */
/** Authenticates @p rq (bearer token, else session cookie) into rq->user. Returns MLF_OK, MLF_ENOTFOUND
 * (no credentials or unknown ones: 401) or a store error. */
int mlf_web_authenticate(mlf_web_req *rq);
/** MLF_OK when a cookie-authenticated change carries its session's CSRF token (X-CSRF-Token). */
int mlf_web_csrf_ok(const mlf_web_req *rq);

/* Helpers shared by handlers (web_json.c) */
/** An RFC 3339 UTC string for @p t, or JSON null for MLF_TIME_NONE / 0. */
json_t *mlf_web_time(mlf_time_us t);
/** A query-string value, or NULL. */
const char *mlf_web_arg(const mlf_web_req *rq, const char *name);
/** Renders msgpack bytes as JSON (NULL/empty: @p def, new reference). */
json_t *mlf_web_msgpack_json(const void *p, size_t n, json_t *def);
/** The DAG of the bag named @p dag_id, or NULL after setting a 404 problem. */
const mlf_dag *mlf_web_dag(mlf_web_req *rq, mlf_web_resp *rs, const char *dag_id);
/** The request body as a JSON object with only the fields @p known (NULL-terminated; NULL: any field) -- a
 * new reference -- or NULL after setting a 400 problem. With @p optional an empty body is {}. */
json_t *mlf_web_body(mlf_web_req *rq, mlf_web_resp *rs, const char *const *known, int optional);
/** Parses an optional RFC 3339 query value @p name into *@p out (left as is when absent); on error sets a
 * 400 problem and returns MLF_EINVAL. */
int mlf_web_arg_time(mlf_web_req *rq, mlf_web_resp *rs, const char *name, mlf_time_us *out);

/* Shared by the resource files (web_api_runs.c) */
/** The DAGRun object of the API for @p r (new reference). */
json_t *mlf_web_run_json(const mlf_run_rec *r);
/** The "state" query values (repeatable) as a bit set of run states (@p ti 0) or TI states ("none" too);
 * sets a 400 problem and returns MLF_EINVAL on an unknown one. */
int mlf_web_state_filter(mlf_web_req *rq, mlf_web_resp *rs, int ti, unsigned *bits);
/** Fills @p sel (one byte per task of @p d) from a JSON list of task ids (NULL: every task), adding the
 * downstream / upstream closures; sets a 400 problem and returns MLF_EINVAL on a bad list. */
int mlf_web_select_tasks(mlf_web_resp *rs, const mlf_dag *d, json_t *ids, int down, int up, unsigned char *sel);

/* Handlers, one file per resource group. */
void mlf_web_h_health(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_version(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_login(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_logout(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_session(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_openapi(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_ui_index(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_ui_static(mlf_web_req *rq, mlf_web_resp *rs);
/* web_api_dags.c */
void mlf_web_h_dags_list(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_dag_get(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_dag_patch(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_dag_tasks(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_import_errors(mlf_web_req *rq, mlf_web_resp *rs);
/* web_api_runs.c */
void mlf_web_h_runs_list(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_run_get(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_run_trigger(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_run_patch(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_run_clear(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_clear_tis(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_grid(mlf_web_req *rq, mlf_web_resp *rs);
/* web_api_tis.c */
void mlf_web_h_tis_list(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_ti_get(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_ti_get_mapped(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_ti_list_mapped(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_ti_patch(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_ti_log(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_xcom_list(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_xcom_get(mlf_web_req *rq, mlf_web_resp *rs);
/* web_api_admin.c */
void mlf_web_h_vars_list(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_var_get(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_conns_list(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_conn_get(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_pools_list(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_pool_get(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_plugins(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_users_list(mlf_web_req *rq, mlf_web_resp *rs);
/* web_api_admin_write.c: writes to variables, connections and pools (admin) */
void mlf_web_h_var_post(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_var_patch(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_var_delete(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_conn_post(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_conn_patch(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_conn_delete(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_pool_post(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_pool_patch(mlf_web_req *rq, mlf_web_resp *rs);
void mlf_web_h_pool_delete(mlf_web_req *rq, mlf_web_resp *rs);

/* web_api_assets.c: event triggers (doc/assets.md) */
/** The request's Idempotency-Key header, or NULL. Borrowed. */
const char *mlf_web_idempotency_key(const mlf_web_req *rq);
/** POST /api/v1/assets/events. */
void mlf_web_h_asset_event(mlf_web_req *rq, mlf_web_resp *rs);

#endif
