/* http_client.c -- one HTTP request with libcurl (see http_client.h). */
#include "http_client.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- headers ---- */

/* RFC 9110 token characters. */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The header line of @p h whose name is @p name (any case), or NULL. */
static size_t header_index(const httpc_headers *h, const char *name, size_t nl)
{
    for (size_t i = 0; i < h->n; i++)
        if (strncasecmp(h->v[i], name, nl) == 0 && h->v[i][nl] == ':')
            return i;
    return (size_t)-1;
}

int httpc_headers_set(httpc_headers *h, const char *name, const char *value, char *err, size_t errlen)
{
    if (!name || !*name || !value) {
        snprintf(err, errlen, "a header has no name or no value");
        return MLF_EINVAL;
    }
    for (const char *p = name; *p; p++)
        if (!is_tchar((unsigned char)*p)) {
            snprintf(err, errlen, "header name '%s' is not a valid HTTP token", name);
            return MLF_EINVAL;
        }
    if (strpbrk(value, "\r\n")) {
        snprintf(err, errlen, "the value of header '%s' contains a line break", name);
        return MLF_EINVAL;
    }
    size_t nl = strlen(name), len = nl + strlen(value) + 3;
    char *line = malloc(len);
    if (!line)
        return MLF_ENOMEM;
    snprintf(line, len, "%s: %s", name, value);
    size_t i = header_index(h, name, nl);
    if (i != (size_t)-1) {
        free(h->v[i]);
        h->v[i] = line;
        return MLF_OK;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        char **v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            free(line);
            return MLF_ENOMEM;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = line;
    return MLF_OK;
}

int httpc_headers_set_value(httpc_headers *h, const char *name, const mlf_value *value, char *err, size_t errlen)
{
    mlf_type t = mlf_value_type(value);
    if (t == MLF_ARRAY || t == MLF_MAP || t == MLF_NIL) {
        snprintf(err, errlen, "the value of header '%s' is %s, not a scalar", name, mlf_type_name(t));
        return MLF_ETYPE;
    }
    char *text = mlf_value_to_display(value);
    if (!text)
        return MLF_ENOMEM;
    int rc = httpc_headers_set(h, name, text, err, errlen);
    mlf_free(text);
    return rc;
}

int httpc_headers_set_map(httpc_headers *h, const mlf_value *map, char *err, size_t errlen)
{
    if (!map)
        return MLF_OK;
    if (mlf_value_type(map) != MLF_MAP) {
        snprintf(err, errlen, "headers must be a map, not %s", mlf_type_name(mlf_value_type(map)));
        return MLF_ETYPE;
    }
    int rc = MLF_OK;
    for (size_t i = 0; i < mlf_value_len(map) && rc == MLF_OK; i++)
        rc = httpc_headers_set_value(h, mlf_map_key_at(map, i), mlf_map_value_at(map, i), err, errlen);
    return rc;
}

const char *httpc_headers_get(const httpc_headers *h, const char *name)
{
    size_t nl = strlen(name);
    size_t i = h ? header_index(h, name, nl) : (size_t)-1;
    if (i == (size_t)-1)
        return NULL;
    const char *v = h->v[i] + nl + 1;
    return v + (*v == ' ');
}

void httpc_headers_free(httpc_headers *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    free(h->v);
    *h = (httpc_headers){0};
}

/* ---- the request ---- */

void httpc_request_init(httpc_request *req)
{
    *req = (httpc_request){.timeout_us = 30 * INT64_C(1000000),
                           .max_body = HTTPC_DEFAULT_MAX_BODY,
                           .verify_tls = 1,
                           .follow_redirects = 1,
                           .max_redirects = HTTPC_DEFAULT_MAX_REDIRECTS};
}

typedef struct sink {
    httpc_response *resp;
    size_t cap, max;
    int oom;
} sink;

/* Keeps at most sink->max bytes; returning less than offered makes libcurl stop reading. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    httpc_response *r = s->resp;
    size_t n = size * nmemb, take = n;
    if (r->body_len + take > s->max) {
        take = s->max - r->body_len;
        r->truncated = 1;
    }
    if (r->body_len + take + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < r->body_len + take + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) {
            s->oom = 1;
            return 0;
        }
        r->body = b;
        s->cap = cap;
    }
    memcpy(r->body + r->body_len, data, take);
    r->body_len += take;
    r->body[r->body_len] = '\0';
    return r->truncated ? take : n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const httpc_request *req = ud;
    return req->cancelled(req->cancel_ud) ? 1 : 0;
}

/* The header list libcurl sends: the caller's, without libcurl's own Expect: 100-continue, and without the
 * form Content-Type it adds to bodies the caller did not type (requests sends none either). */
static struct curl_slist *header_list(const httpc_request *req, int *oom)
{
    struct curl_slist *list = NULL, *next;
    const httpc_headers *h = req->headers;
    for (size_t i = 0; h && i < h->n; i++) {
        if (!(next = curl_slist_append(list, h->v[i])))
            goto fail;
        list = next;
    }
    if (!httpc_headers_get(h, "Expect")) {
        if (!(next = curl_slist_append(list, "Expect:")))
            goto fail;
        list = next;
    }
    if (!httpc_headers_get(h, "Content-Type")) {
        if (!(next = curl_slist_append(list, "Content-Type:")))
            goto fail;
        list = next;
    }
    return list;
fail:
    curl_slist_free_all(list);
    *oom = 1;
    return NULL;
}

static int set_method(CURL *c, const httpc_request *req)
{
    const char *m = req->method ? req->method : "";
    if (strcmp(m, "GET") == 0)
        return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK ? MLF_OK : MLF_EINVAL;
    if (strcmp(m, "HEAD") == 0)
        return curl_easy_setopt(c, CURLOPT_NOBODY, 1L) == CURLE_OK ? MLF_OK : MLF_EINVAL;
    if (strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 && strcmp(m, "PATCH") != 0 && strcmp(m, "DELETE") != 0)
        return MLF_EINVAL;
    if (strcmp(m, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    /* a DELETE without a body sends no Content-Length; the others say 0 */
    if (req->body || strcmp(m, "DELETE") != 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    }
    return MLF_OK;
}

int httpc_curl_error(int curl_code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
        return MLF_ETIMEDOUT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return MLF_EINVAL;
    case CURLE_ABORTED_BY_CALLBACK:
        return MLF_ESTATE;
    case CURLE_OUT_OF_MEMORY:
        return MLF_ENOMEM;
    default:
        return MLF_EIO;
    }
}

void httpc_set_protocols(void *curl, int smtp)
{
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the _STR forms; the bitmask forms are deprecated */
    const char *list = smtp ? "smtp,smtps" : "http,https";
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, list);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, list);
#else
    long bits = smtp ? (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS) : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, bits);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, bits);
#endif
}

/* 1 when @p a and @p b have the same scheme, host and port; else 0 with what differs in @p why. */
static int same_origin(const char *a, const char *b, char *why, size_t whylen)
{
    static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
    static const char *const names[] = {"scheme", "host", "port"};
    CURLU *ua = curl_url(), *ub = curl_url();
    int same = ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
               curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK;
    if (!same)
        snprintf(why, whylen, "the target is not a URL");
    for (size_t i = 0; same && i < 3; i++) {
        char *pa = NULL, *pb = NULL;
        curl_url_get(ua, parts[i], &pa, CURLU_DEFAULT_PORT);
        curl_url_get(ub, parts[i], &pb, CURLU_DEFAULT_PORT);
        if (!pa || !pb || strcasecmp(pa, pb) != 0) {
            same = 0;
            snprintf(why, whylen, "the %s changes (%s -> %s)", names[i], pa ? pa : "?", pb ? pb : "?");
        }
        curl_free(pa);
        curl_free(pb);
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

int httpc_perform(const httpc_request *req, httpc_response *resp, char *err, size_t errlen)
{
    *resp = (httpc_response){0};
    err[0] = '\0';
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "libcurl could not create a handle");
        return MLF_ENOMEM;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    sink s = {.resp = resp, .max = req->max_body};
    int oom = 0;
    struct curl_slist *headers = header_list(req, &oom);
    int rc = oom ? MLF_ENOMEM : set_method(c, req);
    if (rc != MLF_OK) {
        snprintf(err, errlen, rc == MLF_ENOMEM ? "out of memory" : "unsupported HTTP method '%s'",
                 req->method ? req->method : "");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    httpc_set_protocols(c, 0);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mlflowd/" MLF_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* decoded bytes count against max_body */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (req->timeout_us > 0) {
        int64_t ms = (req->timeout_us + 999) / 1000;
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(ms > LONG_MAX ? LONG_MAX : ms));
    }
    if (req->username) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, req->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, req->verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, req->verify_tls ? 2L : 0L);
    if (req->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
    /* redirects are followed here, one hop at a time, so that each target can be checked: a change of
     * scheme, host or port would hand the request's headers (custom auth ones included) and credentials to
     * another server, or downgrade https to http */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (req->proxy)
        curl_easy_setopt(c, CURLOPT_PROXY, req->proxy);
    if (req->cancelled) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, req);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }

    char *url = strdup(req->url);
    CURLcode cc = url ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    for (long hops = 0; url;) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        cc = curl_easy_perform(c);
        long status = 0;
        char *next = NULL;
        if (cc != CURLE_OK || s.oom || !req->follow_redirects ||
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status < 300 || status > 399 ||
            curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next)
            break;
        char why[300];
        if (++hops > req->max_redirects) {
            snprintf(err, errlen, "more than %ld redirects", req->max_redirects);
            rc = MLF_EIO;
        } else if (!req->allow_cross_origin_redirects && !same_origin(url, next, why, sizeof why)) {
            snprintf(err, errlen, "refusing the redirect from %.300s to %.300s: %s (set allow_cross_origin_redirects "
                     "to follow it)", url, next, why);
            rc = MLF_EIO;
        }
        char *n2 = rc == MLF_OK ? strdup(next) : NULL;
        free(url);
        url = n2;
        if (rc != MLF_OK)
            goto out;
        if (!url) {
            cc = CURLE_OUT_OF_MEMORY;
            break;
        }
        /* what browsers and libcurl do: 303 always, 301/302 after a POST, become GET */
        if (status == 303 || ((status == 301 || status == 302) && req->method && strcmp(req->method, "POST") == 0))
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        resp->body_len = 0; /* the redirect's own body is not the response */
        resp->truncated = 0;
        if (resp->body)
            resp->body[0] = '\0';
    }
    free(url);
    if (s.oom) {
        snprintf(err, errlen, "out of memory reading the response");
        rc = MLF_ENOMEM;
        goto out;
    }
    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && resp->truncated)) {
        snprintf(err, errlen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
        rc = httpc_curl_error(cc);
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    char *ct = NULL;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct && !(resp->content_type = strdup(ct)))
        rc = MLF_ENOMEM;
    if (rc == MLF_OK && !resp->body && !(resp->body = calloc(1, 1)))
        rc = MLF_ENOMEM;
    if (rc != MLF_OK)
        snprintf(err, errlen, "out of memory");
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return rc;
}

void httpc_response_free(httpc_response *resp)
{
    free(resp->body);
    free(resp->content_type);
    *resp = (httpc_response){0};
}

int httpc_is_json_type(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void httpc_describe_status(const httpc_response *resp, const char *method, const char *url, char *buf,
                           size_t buflen)
{
    int w = snprintf(buf, buflen, "HTTP %ld from %s %s", resp->status, method, url);
    if (w < 0 || (size_t)w >= buflen)
        return;
    size_t n = resp->body_len;
    if (n > HTTPC_ERROR_QUOTE) {
        /* do not cut a UTF-8 sequence: drop continuation bytes back to the lead byte, and the lead byte too */
        n = HTTPC_ERROR_QUOTE;
        while (n > 0 && ((unsigned char)resp->body[n] & 0xC0) == 0x80)
            n--;
    }
    size_t start = 0;
    while (start < n && is_space(resp->body[start]))
        start++;
    while (n > start && is_space(resp->body[n - 1]))
        n--;
    if (n == start)
        return;
    char *o = buf + w;
    size_t room = buflen - (size_t)w;
    if (room < 3)
        return;
    memcpy(o, ": ", 2);
    o += 2;
    room -= 2;
    for (size_t i = start; i < n && room > 1; i++, room--) {
        unsigned char ch = (unsigned char)resp->body[i];
        *o++ = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    *o = '\0';
}

int httpc_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? MLF_OK : MLF_EPLUGIN;
}

void httpc_global_cleanup(void)
{
    curl_global_cleanup();
}
