/*
 * web_server.c -- the HTTP server: libmicrohttpd threads, request bodies (bounded), routing,
 * authentication and roles, security headers, and optional TLS (doc/webserver.md).
 *
 * Each request runs in one of libmicrohttpd's pool threads. Handlers read the store through short read
 * transactions of their own thread; state changes take write_mu so that this process opens one write batch
 * at a time (LMDB serialises it with the scheduler's).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "base/log.h"
#include "web/web_internal.h"

#define COMPONENT "webserver"
#define POOL_THREADS 4
/* An oversized body is drained up to this, then the connection is closed. */
#define DISCARD_MAX ((size_t)64 << 20)

/* Per connection: the body being received. */
typedef struct conn_state {
    mlf_buf body;
    bool too_big;
    size_t discarded; /* bytes of an oversized body dropped so far */
} conn_state;

static int is_change(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Routes, authenticates, authorises and runs the handler; fills @p rs. */
static void dispatch(mlf_web *web, struct MHD_Connection *c, const char *method, const char *url, conn_state *cs,
                     mlf_web_resp *rs)
{
    mlf_web_req rq = {.web = web, .conn = c, .method = method, .path = url,
                      .body = cs->body.data ? cs->body.data : "", .body_len = cs->body.len};
    if (cs->too_big) {
        mlf_web_problem(rs, 413, "the request body is larger than %d bytes", MLF_WEB_MAX_BODY);
        return;
    }
    int known;
    char allow[64];
    const mlf_web_route *r = mlf_web_route_find(method, url, &rq, &known, allow, sizeof allow);
    if (!r) {
        if (known) {
            mlf_web_problem(rs, 405, "%s is not allowed on %s (allowed: %s)", method, url, allow);
            mlf_strlcpy(rs->allow, allow, sizeof rs->allow);
            return;
        }
        mlf_web_problem(rs, 404, "no such resource: %s", url);
        return;
    }
    if (r->role != MLF_WEB_ANON) {
        int rc = mlf_web_authenticate(&rq);
        if (rc == MLF_ENOTFOUND) {
            mlf_web_problem(rs, 401, "log in first: send \"Authorization: Bearer NAME.TOKEN\" or a session cookie "
                                     "(POST /api/v1/auth/login)");
            return;
        }
        if (rc != MLF_OK) {
            mlf_web_store_problem(rs, rc, "the user");
            return;
        }
        if ((int)rq.user.role < r->role) {
            mlf_web_problem(rs, 403, "user %s has role %s; %s %s needs role %s", rq.user.name,
                            mlf_role_name(rq.user.role), method, r->pattern, mlf_role_name((mlf_role)r->role));
            return;
        }
        if (is_change(method) && mlf_web_csrf_ok(&rq) != MLF_OK) {
            mlf_web_problem(rs, 403, "missing or wrong X-CSRF-Token header (the session's token from "
                                     "GET /api/v1/auth/session)");
            return;
        }
    }
    if (is_change(method) && rq.body_len) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
            mlf_web_problem(rs, 415, "send the body as application/json");
            return;
        }
    }
    pthread_rwlock_rdlock(&rq.web->bag_lock); /* the DAGs stay as they are until the answer is built */
    r->fn(&rq, rs);
    pthread_rwlock_unlock(&rq.web->bag_lock);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, mlf_web *web, mlf_web_resp *rs, bool head)
{
    (void)web;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        head ? 0 : rs->len, head ? (void *)"" : rs->body,
        head ? MHD_RESPMEM_PERSISTENT : rs->body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        if (!rs->body_static)
            free(rs->body);
        free(rs->set_cookie);
        return MHD_NO;
    }
    if (head && !rs->body_static)
        free(rs->body);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type ? rs->content_type : "text/plain");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, rs->cache ? rs->cache : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                            "frame-ancestors 'none'");
    if (rs->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"mlflowd\"");
    if (rs->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rs->allow);
    if (rs->set_cookie)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rs->set_cookie);
    free(rs->set_cookie);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    mlf_web *web = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (!cs)
            return MHD_NO;
        *con_cls = cs;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        long n;
        if (cl && (mlf_web_parse_uint(cl, MLF_WEB_MAX_BODY, &n) != MLF_OK))
            cs->too_big = true; /* answer at once, without reading the body */
        else
            return MHD_YES;
    }
    if (*upload_size) {
        /* a body over the limit is read and dropped, so that the client gets its 413 rather than a reset;
         * one that goes on past DISCARD_MAX closes the connection */
        if (!cs->too_big && cs->body.len + *upload_size <= MLF_WEB_MAX_BODY) {
            if (mlf_buf_append(&cs->body, upload_data, *upload_size) != MLF_OK)
                return MHD_NO;
        } else {
            cs->too_big = true;
            cs->discarded += *upload_size;
            if (cs->discarded > DISCARD_MAX)
                return MHD_NO;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    mlf_web_resp rs = {.status = 500};
    dispatch(web, c, method, url, cs, &rs);
    if (!rs.body) {
        mlf_web_problem(&rs, 500, "the handler gave no answer");
    }
    mlf_log(MLF_LOG_DEBUG, COMPONENT, "%s %s -> %d", method, url, rs.status);
    return send_resp(c, web, &rs, strcmp(method, "HEAD") == 0);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_state *cs = *con_cls;
    if (cs) {
        mlf_buf_free(&cs->body);
        free(cs);
        *con_cls = NULL;
    }
}

/* Parses "HOST:PORT" or "[V6]:PORT" into @p ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return MLF_EINVAL;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    long port;
    if (mlf_web_parse_uint(colon + 1, 65535, &port) != MLF_OK)
        return MLF_EINVAL;
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return MLF_EINVAL;
        *sl = sizeof *a;
        return MLF_OK;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return MLF_EINVAL;
    *sl = sizeof *a;
    return MLF_OK;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    mlf_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < 1024 * 1024)
        mlf_buf_append(&b, chunk, n);
    fclose(f);
    return mlf_buf_steal(&b);
}

int mlf_web_start(const mlf_web_opts *o, mlf_web **out, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!o->listen || parse_listen(o->listen, &ss, &sl) != MLF_OK) {
        snprintf(err, errlen, "api.listen '%s' is not HOST:PORT (an IPv4 address, localhost or [IPv6])",
                 o->listen ? o->listen : "");
        return MLF_EINVAL;
    }
    mlf_web *web = calloc(1, sizeof *web);
    if (!web)
        return MLF_ENOMEM;
    web->o = *o;
    pthread_mutex_init(&web->write_mu, NULL);
    pthread_mutex_init(&web->login_mu, NULL);
    pthread_rwlock_init(&web->bag_lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (o->tls_cert_file || o->tls_key_file) {
        if (!o->tls_cert_file || !o->tls_key_file) {
            snprintf(err, errlen, "HTTPS needs both api.tls_cert_file and api.tls_key_file");
            mlf_web_stop(web);
            return MLF_EINVAL;
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "HTTPS is not supported: this libmicrohttpd was built without GnuTLS");
            mlf_web_stop(web);
            return MLF_ENOTSUP;
        }
        web->cert = read_file(o->tls_cert_file);
        web->key = read_file(o->tls_key_file);
        if (!web->cert || !web->key) {
            snprintf(err, errlen, "cannot read %s", !web->cert ? o->tls_cert_file : o->tls_key_file);
            mlf_web_stop(web);
            return MLF_EIO;
        }
        web->tls = true;
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        {web->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, web->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, web->key},
        {MHD_OPTION_END, 0, NULL},
    };
    web->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, web, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                   MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_LIMIT,
                                   (unsigned)512, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                                   MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)128, MHD_OPTION_NOTIFY_COMPLETED,
                                   on_completed, web, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!web->daemon) {
        snprintf(err, errlen, "cannot listen on %s (address in use, or not an address of this host?)", o->listen);
        mlf_web_stop(web);
        return MLF_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(web->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    char host[128];
    const char *colon = strrchr(o->listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - o->listen), o->listen);
    if (strcmp(host, "0.0.0.0") == 0)
        strcpy(host, "127.0.0.1");
    snprintf(web->url, sizeof web->url, "%s://%s:%u", web->tls ? "https" : "http", host, port);
    *out = web;
    return MLF_OK;
}

const char *mlf_web_url(const mlf_web *w)
{
    return w->url;
}

void mlf_web_stop(mlf_web *w)
{
    if (!w)
        return;
    if (w->daemon)
        MHD_stop_daemon(w->daemon);
    pthread_mutex_destroy(&w->write_mu);
    pthread_mutex_destroy(&w->login_mu);
    pthread_rwlock_destroy(&w->bag_lock);
    free(w->cert);
    free(w->key);
    free(w);
}

int mlf_web_reload_dags(mlf_web *w, size_t *changed)
{
    pthread_rwlock_wrlock(&w->bag_lock);
    int rc = mlf_dagbag_refresh(w->o.bag, changed);
    pthread_rwlock_unlock(&w->bag_lock);
    return rc;
}
