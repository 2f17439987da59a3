/* container_engine.c -- requests to a Docker Engine API with libcurl (see container_engine.h). */
#define _GNU_SOURCE /* asprintf */
#include "container_engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "container_parse.h"

/* ------------------------------------------------------------------------------------------ endpoints */

static int set_socket(ctr_endpoint *ep, const char *path)
{
    ep->socket_path = strdup(path);
    ep->base_url = strdup("http://localhost");
    if (asprintf(&ep->describe, "unix://%s", path) < 0)
        ep->describe = NULL;
    return ep->socket_path && ep->base_url && ep->describe ? MLF_OK : MLF_ENOMEM;
}

static int set_url(ctr_endpoint *ep, const char *scheme, const char *hostport)
{
    if (asprintf(&ep->base_url, "%s://%s", scheme, hostport) < 0) {
        ep->base_url = NULL;
        return MLF_ENOMEM;
    }
    size_t n = strlen(ep->base_url);
    while (n > 0 && ep->base_url[n - 1] == '/')
        ep->base_url[--n] = '\0';
    ep->describe = strdup(ep->base_url);
    return ep->describe ? MLF_OK : MLF_ENOMEM;
}

/* The first default socket that exists, or NULL; @p tried lists every path looked at. */
static const char *default_socket(char *tried, size_t triedlen, char *xdg, size_t xdglen)
{
    const char *candidates[3] = {CTR_DOCKER_SOCKET, NULL, CTR_PODMAN_ROOT_SOCKET};
    const char *run = getenv("XDG_RUNTIME_DIR");
    if (run && *run && snprintf(xdg, xdglen, "%s/podman/podman.sock", run) < (int)xdglen)
        candidates[1] = xdg;
    size_t o = 0;
    tried[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        if (!candidates[i])
            continue;
        struct stat st;
        if (stat(candidates[i], &st) == 0 && S_ISSOCK(st.st_mode))
            return candidates[i];
        int w = snprintf(tried + o, triedlen - o, "%s%s", o ? ", " : "", candidates[i]);
        if (w > 0 && (size_t)w < triedlen - o)
            o += (size_t)w;
    }
    return NULL;
}

int ctr_endpoint_init(ctr_endpoint *ep, const char *where, int tls, char *err, size_t errlen)
{
    *ep = (ctr_endpoint){.verify_tls = 1, .timeout_us = 60 * INT64_C(1000000)};
    if (!where || !*where)
        where = getenv("DOCKER_HOST");
    if (!where || !*where) {
        char tried[1024], xdg[PATH_MAX];
        const char *sock = default_socket(tried, sizeof tried, xdg, sizeof xdg);
        if (!sock) {
            snprintf(err, errlen,
                     "no container engine socket found (tried $DOCKER_HOST, %s): start Docker or `podman system "
                     "service`, or name the engine in a docker connection (conn_id)",
                     tried);
            return MLF_ENOTFOUND;
        }
        where = sock;
    }
    int rc;
    if (strncmp(where, "unix://", 7) == 0)
        rc = set_socket(ep, where + 7);
    else if (where[0] == '/')
        rc = set_socket(ep, where);
    else if (strncmp(where, "tcp://", 6) == 0)
        rc = set_url(ep, tls ? "https" : "http", where + 6);
    else if (strncmp(where, "http://", 7) == 0)
        rc = set_url(ep, "http", where + 7);
    else if (strncmp(where, "https://", 8) == 0)
        rc = set_url(ep, "https", where + 8);
    else {
        snprintf(err, errlen, "engine address '%s' is neither unix:///PATH, /PATH, tcp://HOST:PORT nor https://",
                 where);
        return MLF_EINVAL;
    }
    if (rc == MLF_OK && ep->socket_path && !ep->socket_path[0]) {
        snprintf(err, errlen, "engine address '%s' names no socket path", where);
        rc = MLF_EINVAL;
    }
    if (rc == MLF_ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc != MLF_OK)
        ctr_endpoint_free(ep);
    return rc;
}

void ctr_endpoint_free(ctr_endpoint *ep)
{
    free(ep->socket_path);
    free(ep->base_url);
    free(ep->describe);
    free(ep->ca_file);
    free(ep->cert_file);
    free(ep->key_file);
    free(ep->api_version);
    *ep = (ctr_endpoint){0};
}

/* ------------------------------------------------------------------------------------------ transfers */

typedef struct transfer {
    ctr_endpoint *ep;
    ctr_response *resp;
    size_t cap;
    ctr_sink_fn sink; /* NULL: collect */
    void *ud;
    int sink_stopped, oom;
} transfer;

static int append(transfer *t, const char *data, size_t n)
{
    ctr_response *r = t->resp;
    if (r->len + n > CTR_MAX_BODY) {
        n = CTR_MAX_BODY - r->len;
        r->truncated = 1;
    }
    if (r->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) {
            t->oom = 1;
            return -1;
        }
        r->body = b;
        t->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return r->truncated ? -1 : 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t n = size * nmemb;
    if (t->sink && t->resp->status >= 200 && t->resp->status < 300) {
        if (t->sink(t->ud, data, n) != 0) {
            t->sink_stopped = 1;
            return 0;
        }
        return n;
    }
    if (append(t, data, n) != 0)
        return t->oom ? 0 : n; /* past the cap: keep reading, drop the rest */
    return n;
}

/* Records the status as soon as the status line arrives, so that on_body knows where the body goes. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t n = size * nmemb;
    int major, minor, code;
    if (n > 12 && strncmp(data, "HTTP/", 5) == 0 && sscanf(data, "HTTP/%d.%d %d", &major, &minor, &code) == 3)
        t->resp->status = code;
    else if (n > 8 && strncmp(data, "HTTP/", 5) == 0 && sscanf(data, "HTTP/%d %d", &major, &code) == 2)
        t->resp->status = code;
    else if (n > 12 && strncasecmp(data, "Api-Version:", 12) == 0) {
        size_t i = 12, o = 0;
        while (i < n && data[i] == ' ')
            i++;
        while (i < n && o + 1 < sizeof t->resp->api_version && ((data[i] >= '0' && data[i] <= '9') || data[i] == '.'))
            t->resp->api_version[o++] = data[i++];
        t->resp->api_version[o] = '\0';
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const ctr_endpoint *ep = ud;
    return ep->cancelled(ep->cancel_ud) ? 1 : 0;
}

/* Explains a failed transfer in words a user can act on. */
static int explain(const ctr_endpoint *ep, CURL *c, CURLcode cc, const char *curl_err, char *err, size_t errlen)
{
    long os_errno = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    const char *why = curl_err[0] ? curl_err : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_ABORTED_BY_CALLBACK:
        snprintf(err, errlen, "the request to the engine was cancelled");
        return MLF_ESTATE;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(err, errlen, "the engine at %s did not answer in time (%s)", ep->describe, why);
        return MLF_ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        snprintf(err, errlen, "out of memory");
        return MLF_ENOMEM;
    case CURLE_COULDNT_CONNECT:
        if (ep->socket_path && os_errno == EACCES) {
            snprintf(err, errlen,
                     "permission denied on the engine socket %s: run the worker as a user allowed to use it "
                     "(the docker group, or the owner of a rootless podman socket)",
                     ep->socket_path);
            return EACCES;
        }
        if (ep->socket_path && os_errno == ENOENT) {
            snprintf(err, errlen, "the engine socket %s does not exist: is Docker (or `podman system service`) "
                                  "running?", ep->socket_path);
            return MLF_ENOTFOUND;
        }
        if (ep->socket_path && os_errno == ECONNREFUSED) {
            snprintf(err, errlen, "nothing listens on the engine socket %s (a stale socket of a stopped engine?)",
                     ep->socket_path);
            return MLF_EIO;
        }
        break;
    default:
        break;
    }
    snprintf(err, errlen, "cannot reach the engine at %s: %s", ep->describe, why);
    return MLF_EIO;
}

static int perform(ctr_endpoint *ep, const char *method, const char *path, const char *body, const char *header,
                   int64_t timeout_us, transfer *t, char *err, size_t errlen)
{
    *t->resp = (ctr_response){0};
    err[0] = '\0';
    char *url = NULL;
    int n = ep->api_version ? asprintf(&url, "%s/v%s%s", ep->base_url, ep->api_version, path)
                            : asprintf(&url, "%s%s", ep->base_url, path);
    if (n < 0) {
        snprintf(err, errlen, "out of memory");
        return MLF_ENOMEM;
    }
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL, *next;
    int rc = MLF_OK;
    if (!c) {
        free(url);
        snprintf(err, errlen, "libcurl could not create a handle");
        return MLF_ENOMEM;
    }
    const char *lines[] = {"Expect:", body ? "Content-Type: application/json" : "Content-Type:", header};
    for (size_t i = 0; i < 3 && rc == MLF_OK; i++) {
        if (!lines[i])
            continue;
        if (!(next = curl_slist_append(hl, lines[i])))
            rc = MLF_ENOMEM;
        else
            hl = next;
    }
    if (rc != MLF_OK) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (ep->socket_path)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ep->socket_path);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* an engine is never reached through a proxy */
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mlflowd/" MLF_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    if (timeout_us > 0) {
        int64_t ms = (timeout_us + 999) / 1000;
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(ms > LONG_MAX ? LONG_MAX : ms));
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body || strcmp(method, "POST") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        }
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, ep->verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, ep->verify_tls ? 2L : 0L);
    if (ep->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ep->ca_file);
    if (ep->cert_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, ep->cert_file);
    if (ep->key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, ep->key_file);
    if (ep->cancelled) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, ep);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    if (t->oom) {
        snprintf(err, errlen, "out of memory reading the engine's answer");
        rc = MLF_ENOMEM;
    } else if (t->sink_stopped) {
        snprintf(err, errlen, "the engine's answer to %s %s was not understood", method, path);
        rc = MLF_ECORRUPT;
    } else if (cc != CURLE_OK) {
        rc = explain(ep, c, cc, curl_err, err, errlen);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t->resp->status);
        if (!t->resp->body && !(t->resp->body = calloc(1, 1))) {
            snprintf(err, errlen, "out of memory");
            rc = MLF_ENOMEM;
        }
    }
out:
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    free(url);
    return rc;
}

int ctr_call(ctr_endpoint *ep, const char *method, const char *path, const char *body, const char *header,
             int64_t timeout_us, ctr_response *resp, char *err, size_t errlen)
{
    transfer t = {.ep = ep, .resp = resp};
    int64_t limit = timeout_us > 0 ? timeout_us : timeout_us < 0 ? 0 : ep->timeout_us;
    return perform(ep, method, path, body, header, limit, &t, err, errlen);
}

int ctr_stream(ctr_endpoint *ep, const char *method, const char *path, const char *header, ctr_sink_fn sink,
               void *ud, ctr_response *resp, char *err, size_t errlen)
{
    transfer t = {.ep = ep, .resp = resp, .sink = sink, .ud = ud};
    return perform(ep, method, path, NULL, header, 0, &t, err, errlen);
}

void ctr_response_free(ctr_response *resp)
{
    free(resp->body);
    *resp = (ctr_response){0};
}

int ctr_negotiate(ctr_endpoint *ep, char *err, size_t errlen)
{
    free(ep->api_version);
    ep->api_version = NULL;
    if (ep->socket_path) {
        struct stat st;
        if (stat(ep->socket_path, &st) != 0) {
            int e = errno;
            if (e == ENOENT)
                snprintf(err, errlen, "the engine socket %s does not exist: is Docker (or `podman system service`) "
                                      "running?", ep->socket_path);
            else
                snprintf(err, errlen, "the engine socket %s: %s", ep->socket_path, strerror(e));
            return e == ENOENT ? MLF_ENOTFOUND : e;
        }
    }
    ctr_response resp;
    char version[32] = "", why[256];
    int rc = ctr_call(ep, "GET", "/_ping", NULL, NULL, 15 * INT64_C(1000000), &resp, err, errlen);
    if (rc == MLF_OK && resp.status == 200 && resp.api_version[0])
        snprintf(version, sizeof version, "%s", resp.api_version);
    if (rc == MLF_OK && !version[0]) {
        ctr_response_free(&resp);
        rc = ctr_call(ep, "GET", "/version", NULL, NULL, 15 * INT64_C(1000000), &resp, err, errlen);
    }
    if (rc == MLF_OK && !version[0]) {
        if (resp.status != 200) {
            char msg[512];
            ctr_parse_error(&resp, msg, sizeof msg);
            snprintf(err, errlen, "GET /version on %s: HTTP %ld: %s", ep->describe, resp.status, msg);
            rc = MLF_EPARSE;
        } else if ((rc = ctr_parse_version(resp.body, resp.len, version, sizeof version, why, sizeof why)) != MLF_OK) {
            snprintf(err, errlen, "%s does not answer like a Docker Engine API: %s", ep->describe, why);
        }
    } else if (rc == MLF_OK && (rc = ctr_parse_version_text(version, why, sizeof why)) != MLF_OK) {
        snprintf(err, errlen, "%s does not answer like a Docker Engine API: %s", ep->describe, why);
    }
    if (rc == MLF_OK && !ctr_version_at_least(version, CTR_API_MIN_MAJOR, CTR_API_MIN_MINOR)) {
        snprintf(err, errlen,
                 "the engine at %s speaks API %s, older than the %d.%d this operator needs (Docker 19.03, Podman "
                 "3.0 or later)",
                 ep->describe, version, CTR_API_MIN_MAJOR, CTR_API_MIN_MINOR);
        rc = MLF_ENOTSUP;
    } else if (rc == MLF_OK && !(ep->api_version = strdup(version))) {
        snprintf(err, errlen, "out of memory");
        rc = MLF_ENOMEM;
    }
    ctr_response_free(&resp);
    return rc;
}

char *ctr_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *copy = e ? strdup(e) : NULL;
    curl_free(e);
    return copy;
}

int ctr_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? MLF_OK : MLF_EPLUGIN;
}

void ctr_global_cleanup(void)
{
    curl_global_cleanup();
}
