/*
 * web_router.c -- the route table: every URL the webserver answers, its method, handler and the least
 * role it needs. doc/api.md and /api/v1/openapi.json describe the same table (a test compares them).
 */
#include <string.h>

#include "web/web_internal.h"

#define V1 "/api/v1"
#define RUN V1 "/dags/{dag_id}/dagRuns/{dag_run_id}"
#define TI RUN "/taskInstances/{task_id}"

static const mlf_web_route routes[] = {
    {"GET", "/health", mlf_web_h_health, MLF_WEB_ANON},
    {"GET", V1 "/health", mlf_web_h_health, MLF_WEB_ANON},
    {"GET", "/", mlf_web_h_ui_index, MLF_WEB_ANON},
    {"GET", "/static/{file}", mlf_web_h_ui_static, MLF_WEB_ANON},
    {"POST", V1 "/auth/login", mlf_web_h_login, MLF_WEB_ANON},
    {"POST", V1 "/auth/logout", mlf_web_h_logout, MLF_ROLE_VIEWER},
    {"GET", V1 "/auth/session", mlf_web_h_session, MLF_ROLE_VIEWER},
    {"GET", V1 "/openapi.json", mlf_web_h_openapi, MLF_ROLE_VIEWER},
    {"GET", V1 "/version", mlf_web_h_version, MLF_ROLE_VIEWER},
    {"GET", V1 "/dags", mlf_web_h_dags_list, MLF_ROLE_VIEWER},
    {"GET", V1 "/dags/{dag_id}", mlf_web_h_dag_get, MLF_ROLE_VIEWER},
    {"PATCH", V1 "/dags/{dag_id}", mlf_web_h_dag_patch, MLF_ROLE_OP},
    {"GET", V1 "/dags/{dag_id}/tasks", mlf_web_h_dag_tasks, MLF_ROLE_VIEWER},
    {"GET", V1 "/dags/{dag_id}/grid", mlf_web_h_grid, MLF_ROLE_VIEWER},
    {"POST", V1 "/dags/{dag_id}/clearTaskInstances", mlf_web_h_clear_tis, MLF_ROLE_OP},
    {"GET", V1 "/dags/{dag_id}/dagRuns", mlf_web_h_runs_list, MLF_ROLE_VIEWER},
    {"POST", V1 "/dags/{dag_id}/dagRuns", mlf_web_h_run_trigger, MLF_ROLE_OP},
    {"GET", RUN, mlf_web_h_run_get, MLF_ROLE_VIEWER},
    {"PATCH", RUN, mlf_web_h_run_patch, MLF_ROLE_OP},
    {"POST", RUN "/clear", mlf_web_h_run_clear, MLF_ROLE_OP},
    {"GET", RUN "/taskInstances", mlf_web_h_tis_list, MLF_ROLE_VIEWER},
    {"GET", TI, mlf_web_h_ti_get, MLF_ROLE_VIEWER},
    {"PATCH", TI, mlf_web_h_ti_patch, MLF_ROLE_OP},
    {"GET", TI "/logs/{task_try_number}", mlf_web_h_ti_log, MLF_ROLE_VIEWER},
    {"GET", TI "/listMapped", mlf_web_h_ti_list_mapped, MLF_ROLE_VIEWER},
    {"GET", TI "/xcomEntries", mlf_web_h_xcom_list, MLF_ROLE_VIEWER},
    {"GET", TI "/xcomEntries/{xcom_key}", mlf_web_h_xcom_get, MLF_ROLE_VIEWER},
    /* after the fixed names above: "xcomEntries" and "listMapped" are no map index */
    {"GET", TI "/{map_index}", mlf_web_h_ti_get_mapped, MLF_ROLE_VIEWER},
    {"GET", V1 "/importErrors", mlf_web_h_import_errors, MLF_ROLE_VIEWER},
    {"GET", V1 "/variables", mlf_web_h_vars_list, MLF_ROLE_VIEWER},
    {"GET", V1 "/variables/{variable_key}", mlf_web_h_var_get, MLF_ROLE_VIEWER},
    {"GET", V1 "/connections", mlf_web_h_conns_list, MLF_ROLE_VIEWER},
    {"GET", V1 "/connections/{connection_id}", mlf_web_h_conn_get, MLF_ROLE_VIEWER},
    {"GET", V1 "/pools", mlf_web_h_pools_list, MLF_ROLE_VIEWER},
    {"GET", V1 "/pools/{pool_name}", mlf_web_h_pool_get, MLF_ROLE_VIEWER},
    {"POST", V1 "/variables", mlf_web_h_var_post, MLF_ROLE_ADMIN},
    {"PATCH", V1 "/variables/{variable_key}", mlf_web_h_var_patch, MLF_ROLE_ADMIN},
    {"DELETE", V1 "/variables/{variable_key}", mlf_web_h_var_delete, MLF_ROLE_ADMIN},
    {"POST", V1 "/connections", mlf_web_h_conn_post, MLF_ROLE_ADMIN},
    {"PATCH", V1 "/connections/{connection_id}", mlf_web_h_conn_patch, MLF_ROLE_ADMIN},
    {"DELETE", V1 "/connections/{connection_id}", mlf_web_h_conn_delete, MLF_ROLE_ADMIN},
    {"POST", V1 "/pools", mlf_web_h_pool_post, MLF_ROLE_ADMIN},
    {"PATCH", V1 "/pools/{pool_name}", mlf_web_h_pool_patch, MLF_ROLE_ADMIN},
    {"DELETE", V1 "/pools/{pool_name}", mlf_web_h_pool_delete, MLF_ROLE_ADMIN},
    {"GET", V1 "/plugins", mlf_web_h_plugins, MLF_ROLE_VIEWER},
    {"GET", V1 "/users", mlf_web_h_users_list, MLF_ROLE_ADMIN},
    /* event triggers (doc/assets.md) */
    {"POST", V1 "/assets/events", mlf_web_h_asset_event, MLF_ROLE_OP},
};

#define NROUTES (sizeof routes / sizeof routes[0])

/* Matches @p path against @p pattern segment by segment; "{x}" takes one non-empty segment. */
static int match(const char *pattern, const char *path, mlf_web_req *rq, char *scratch, size_t scratchlen)
{
    const char *p = pattern, *u = path;
    size_t used = 0;
    int n = 0;
    while (*p && *u) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *ue = strchr(u, '/');
            size_t len = ue ? (size_t)(ue - u) : strlen(u);
            if (!pe || len == 0 || n >= MLF_WEB_MAX_PARAMS || used + len + 1 > scratchlen)
                return 0;
            memcpy(scratch + used, u, len);
            scratch[used + len] = '\0';
            if (rq)
                rq->params[n] = scratch + used;
            n++;
            used += len + 1;
            p = pe + 1;
            u += len;
            continue;
        }
        if (*p != *u)
            return 0;
        p++;
        u++;
    }
    if (*p || *u)
        return 0;
    if (rq)
        rq->nparams = n;
    return 1;
}

/* Path parameters live in this per-thread buffer until the next request of the thread. */
static _Thread_local char param_buf[4096];

const mlf_web_route *mlf_web_route_find(const char *method, const char *path, mlf_web_req *rq, int *path_known,
                                        char *allow, size_t allowlen)
{
    *path_known = 0;
    if (allowlen)
        allow[0] = '\0';
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!match(routes[i].pattern, path, NULL, param_buf, sizeof param_buf))
            continue;
        if (strcmp(routes[i].method, want) == 0) {
            match(routes[i].pattern, path, rq, param_buf, sizeof param_buf);
            return &routes[i];
        }
        *path_known = 1;
        size_t l = strlen(allow);
        if (l + strlen(routes[i].method) + 3 < allowlen)
            snprintf(allow + l, allowlen - l, "%s%s", l ? ", " : "", routes[i].method);
    }
    return NULL;
}

void mlf_web_print_routes(FILE *out)
{
    for (size_t i = 0; i < NROUTES; i++)
        fprintf(out, "%s %s %s\n", routes[i].method, routes[i].pattern,
                routes[i].role == MLF_WEB_ANON ? "anonymous" : mlf_role_name((mlf_role)routes[i].role));
}
