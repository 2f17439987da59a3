/* http_conn.c -- an `http` connection turned into URL, auth, options and default headers. */
#define _GNU_SOURCE /* asprintf */
#include "http_conn.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int httpc_conn_base_url(const mlf_connection *conn, char **out, char *err, size_t errlen)
{
    const char *host = conn->host;
    *out = NULL;
    if (!host || !*host) {
        snprintf(err, errlen, "connection '%s' has no host", conn->conn_id ? conn->conn_id : "?");
        return MLF_EINVAL;
    }
    int n;
    const char *sep = strstr(host, "://");
    if (sep) {
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memrchr(auth, '@', alen);
        const char *hp = at ? at + 1 : auth;
        size_t hlen = alen - (size_t)(hp - auth);
        const char *bracket = memrchr(hp, ']', hlen);
        const char *after = bracket ? bracket : hp;
        int has_port = memchr(after, ':', hlen - (size_t)(after - hp)) != NULL;
        if (conn->port > 0 && !has_port)
            n = asprintf(out, "%.*s:%d%s", (int)(auth + alen - host), host, conn->port, auth + alen);
        else
            n = asprintf(out, "%s", host);
    } else {
        const char *scheme = conn->schema && *conn->schema ? conn->schema : "http";
        int v6 = strchr(host, ':') && host[0] != '[';
        if (conn->port > 0)
            n = asprintf(out, "%s://%s%s%s:%d", scheme, v6 ? "[" : "", host, v6 ? "]" : "", conn->port);
        else
            n = asprintf(out, "%s://%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "");
    }
    if (n < 0) {
        *out = NULL;
        snprintf(err, errlen, "out of memory");
        return MLF_ENOMEM;
    }
    return MLF_OK;
}

/* Airflow's transfer options that this plugin does not implement: never sent as headers. */
static const char *const ignored_extras[] = {"proxies", "cert", "stream", "trust_env", "timeout", "check_response",
                                             NULL};

static int is_ignored(const char *key)
{
    for (const char *const *p = ignored_extras; *p; p++)
        if (strcmp(*p, key) == 0)
            return 1;
    return 0;
}

static int bad_extra(const char *key, const char *want, const mlf_value *v, char *err, size_t errlen)
{
    snprintf(err, errlen, "connection extra '%s' must be %s, not %s", key, want, mlf_type_name(mlf_value_type(v)));
    return MLF_ETYPE;
}

int httpc_conn_apply(const mlf_connection *conn, httpc_request *req, httpc_headers *headers, char *err,
                     size_t errlen)
{
    if (conn->login && *conn->login) {
        req->username = conn->login;
        req->password = conn->password;
    }
    const mlf_value *extra = conn->extra;
    for (size_t i = 0; i < mlf_value_len(extra); i++) {
        const char *key = mlf_map_key_at(extra, i);
        const mlf_value *v = mlf_map_value_at(extra, i);
        mlf_type t = mlf_value_type(v);
        if (strcmp(key, "verify") == 0 || strcmp(key, "verify_ssl") == 0) {
            int b;
            if (mlf_value_get_bool(v, &b) == MLF_OK)
                req->verify_tls = b;
            else if (t == MLF_STR)
                req->ca_file = mlf_value_get_str(v, NULL);
            else
                return bad_extra(key, "a bool or a CA bundle path", v, err, errlen);
        } else if (strcmp(key, "allow_redirects") == 0) {
            if (mlf_value_get_bool(v, &req->follow_redirects) != MLF_OK)
                return bad_extra(key, "a bool", v, err, errlen);
        } else if (strcmp(key, "allow_cross_origin_redirects") == 0) {
            if (mlf_value_get_bool(v, &req->allow_cross_origin_redirects) != MLF_OK)
                return bad_extra(key, "a bool", v, err, errlen);
        } else if (strcmp(key, "max_redirects") == 0) {
            int64_t m;
            if (mlf_value_get_int(v, &m) != MLF_OK || m < 0 || m > 1000)
                return bad_extra(key, "an int between 0 and 1000", v, err, errlen);
            req->max_redirects = (long)m;
        } else if (strcmp(key, "proxy") == 0) {
            if (t != MLF_STR)
                return bad_extra(key, "a proxy URL", v, err, errlen);
            req->proxy = mlf_value_get_str(v, NULL);
        } else if (!is_ignored(key) && t != MLF_ARRAY && t != MLF_MAP && t != MLF_NIL) {
            int rc = httpc_headers_set_value(headers, key, v, err, errlen);
            if (rc != MLF_OK)
                return rc;
        }
    }
    return MLF_OK;
}

char *httpc_join_url(const char *base, const char *endpoint)
{
    base = base ? base : "";
    endpoint = endpoint ? endpoint : "";
    size_t bl = strlen(base);
    int base_slash = bl > 0 && base[bl - 1] == '/', ep_slash = endpoint[0] == '/';
    char *url = NULL;
    int n;
    if (bl && *endpoint && !base_slash && !ep_slash)
        n = asprintf(&url, "%s/%s", base, endpoint);
    else if (base_slash && ep_slash) /* Airflow would keep both slashes */
        n = asprintf(&url, "%s%s", base, endpoint + 1);
    else
        n = asprintf(&url, "%s%s", base, endpoint);
    return n < 0 ? NULL : url;
}

/* Appends "key=value" (both URL-encoded) to @p q, '&'-separated. */
static int query_pair(char **q, const char *key, const mlf_value *v)
{
    char *text = mlf_value_to_display(v);
    char *k = text ? curl_easy_escape(NULL, key, 0) : NULL;
    char *val = k ? curl_easy_escape(NULL, text, 0) : NULL;
    char *joined = NULL;
    int ok = val && asprintf(&joined, "%s%s%s=%s", *q ? *q : "", *q ? "&" : "", k, val) >= 0;
    mlf_free(text);
    curl_free(k);
    curl_free(val);
    if (!ok)
        return MLF_ENOMEM;
    free(*q);
    *q = joined;
    return MLF_OK;
}

int httpc_append_query(char **url, const mlf_value *data, char *err, size_t errlen)
{
    mlf_type t = mlf_value_type(data);
    if (t == MLF_NIL)
        return MLF_OK;
    char *q = NULL;
    if (t == MLF_STR) {
        const char *s = mlf_value_get_str(data, NULL);
        if (*s && !(q = strdup(s + (*s == '?'))))
            return MLF_ENOMEM;
    } else if (t == MLF_MAP) {
        int rc = MLF_OK;
        for (size_t i = 0; i < mlf_value_len(data) && rc == MLF_OK; i++) {
            const char *key = mlf_map_key_at(data, i);
            const mlf_value *v = mlf_map_value_at(data, i);
            mlf_type vt = mlf_value_type(v);
            if (vt == MLF_MAP) {
                snprintf(err, errlen, "query parameter '%s' is a map", key);
                rc = MLF_ETYPE;
            } else if (vt == MLF_ARRAY) {
                for (size_t j = 0; j < mlf_value_len(v) && rc == MLF_OK; j++)
                    rc = query_pair(&q, key, mlf_array_at(v, j));
            } else if (vt != MLF_NIL) {
                rc = query_pair(&q, key, v);
            }
        }
        if (rc != MLF_OK) {
            free(q);
            return rc;
        }
    } else {
        snprintf(err, errlen, "data for a GET request must be a map or a string, not %s", mlf_type_name(t));
        return MLF_ETYPE;
    }
    if (!q)
        return MLF_OK;
    char *joined = NULL;
    int n = asprintf(&joined, "%s%s%s", *url, strchr(*url, '?') ? "&" : "?", q);
    free(q);
    if (n < 0)
        return MLF_ENOMEM;
    free(*url);
    *url = joined;
    return MLF_OK;
}
