/* conn_uri.c -- connections in Airflow's URI and JSON forms, and the store-then-environment lookup. */
#include "conf/conn_uri.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "base/suggest.h"
#include "value/value_json.h"

/* The query parameter that carries the whole extra map as JSON (Airflow's Connection.EXTRA_KEY). */
#define EXTRA_KEY "__extra__"

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) MLF_PRINTF(4, 5);

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int oom(char *err, size_t errlen)
{
    return fail(err, errlen, MLF_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------------------------------ names */

/* Airflow's DEFAULT_SENSITIVE_FIELDS (airflow/utils/log/secrets_masker.py). */
static const char *const sensitive_names[] = {"access_token", "api_key",     "apikey",       "authorization",
                                              "passphrase",   "passwd",      "password",     "private_key",
                                              "secret",       "token",       "keyfile_dict", "service_account"};

int mlf_is_sensitive_name(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof sensitive_names / sizeof sensitive_names[0]; i++)
        if (strcasestr(name, sensitive_names[i]))
            return 1;
    return 0;
}

void mlf_conn_normalize_type(char *conn_type)
{
    if (!conn_type)
        return;
    if (strcmp(conn_type, "postgresql") == 0) {
        strcpy(conn_type, "postgres"); /* shorter: fits */
        return;
    }
    for (char *p = conn_type; *p; p++)
        if (*p == '-')
            *p = '_';
}

/* Whether the @p n bytes at @p s form a URI scheme: a letter, then letters, digits, '+', '-', '.' (RFC 3986)
 * or '_' (conn_types are written with it). Stores the first bad byte in *bad (when not NULL). */
static int is_scheme(const char *s, size_t n, char *bad)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalpha(c) || (i > 0 && (isdigit(c) || c == '+' || c == '-' || c == '.' || c == '_')))) {
            if (bad)
                *bad = (char)c;
            return 0;
        }
    }
    return n > 0;
}

/* ------------------------------------------------------------------------------------ URI parsing */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes the @p n bytes at @p s into a new string *out (NULL when @p n is 0); '+' is a space when
 * @p plus. @p what names the part for messages; a @p secret part is never quoted in them. */
static int pct_decode(const char *s, size_t n, int plus, const char *what, int secret, char **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    if (n == 0)
        return MLF_OK;
    char *d = malloc(n + 1);
    if (!d)
        return oom(err, errlen);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                if (secret)
                    return fail(err, errlen, MLF_EPARSE,
                                "bad percent-escape in %s: '%%' must be followed by two hex digits (write '%%' "
                                "itself as %%25)",
                                what);
                int len = (int)(n - i < 3 ? n - i : 3);
                return fail(err, errlen, MLF_EPARSE,
                            "bad percent-escape '%.*s' in %s: '%%' must be followed by two hex digits (write "
                            "'%%' itself as %%25)",
                            len, s + i, what);
            }
            if (hi == 0 && lo == 0) {
                free(d);
                return fail(err, errlen, MLF_EPARSE, "%%00 (a NUL byte) is not allowed in %s", what);
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else
            d[j++] = plus && s[i] == '+' ? ' ' : s[i];
    }
    d[j] = '\0';
    *out = d;
    return MLF_OK;
}

/* Parses the port text (@p n bytes, may be 0: no port). */
static int parse_port(const char *s, size_t n, int *port, char *err, size_t errlen)
{
    *port = 0;
    if (n == 0)
        return MLF_OK;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return fail(err, errlen, MLF_EPARSE,
                        "bad port: not a number (a '/', '?' or '@' in the login or password must be "
                        "percent-encoded)");
        if (v <= 65535)
            v = v * 10 + (s[i] - '0');
    }
    if (v > 65535)
        return fail(err, errlen, MLF_EPARSE, "bad port '%.*s': out of range 0..65535", n > 12 ? 12 : (int)n, s);
    *port = (int)v;
    return MLF_OK;
}

/* Packs map @p m (ownership taken) into out->extra; an empty map leaves it NULL. */
static int set_extra(mlf_conn_rec *out, mlf_value *m, char *err, size_t errlen)
{
    int rc = MLF_OK;
    if (mlf_value_len(m) > 0) {
        void *buf = NULL;
        size_t len = 0;
        rc = mlf_value_pack(m, &buf, &len);
        if (rc == MLF_OK) {
            out->extra = buf;
            out->extra_len = len;
        }
    }
    mlf_value_free(m);
    return rc == MLF_OK ? MLF_OK : oom(err, errlen);
}

/* Parses a JSON object given as the extra (from `__extra__` or a JSON string) into out->extra. */
static int extra_from_json_text(const char *text, const char *what, mlf_conn_rec *out, char *err, size_t errlen)
{
    char msg[256];
    mlf_value *v = NULL;
    int rc = mlf_value_from_json(text, strlen(text), &v, msg, sizeof msg);
    if (rc == MLF_ENOMEM)
        return oom(err, errlen);
    if (rc != MLF_OK)
        return fail(err, errlen, MLF_EPARSE, "%s is not valid JSON: %s", what, msg);
    if (mlf_value_type(v) != MLF_MAP) {
        rc = fail(err, errlen, MLF_EPARSE, "%s must be a JSON object, not %s", what,
                  mlf_type_name(mlf_value_type(v)));
        mlf_value_free(v);
        return rc;
    }
    return set_extra(out, v, err, errlen);
}

/* Parses the query (after '?') into out->extra. */
static int parse_query(const char *q, mlf_conn_rec *out, char *err, size_t errlen)
{
    mlf_value *map = mlf_value_map();
    char *extra_json = NULL, *key = NULL, *val = NULL;
    size_t others = 0;
    int rc = map ? MLF_OK : oom(err, errlen);
    while (rc == MLF_OK && *q) {
        size_t flen = strcspn(q, "&");
        if (flen) {
            const char *eq = memchr(q, '=', flen);
            size_t klen = eq ? (size_t)(eq - q) : flen;
            rc = pct_decode(q, klen, 1, "a query parameter name", 0, &key, err, errlen);
            if (rc == MLF_OK && !key)
                rc = fail(err, errlen, MLF_EPARSE, "a query parameter has an empty name");
            if (rc == MLF_OK) {
                char what[96];
                snprintf(what, sizeof what, "the value of query parameter '%.40s'", key);
                rc = eq ? pct_decode(eq + 1, flen - klen - 1, 1, what, 1, &val, err, errlen) : MLF_OK;
                if (rc == MLF_OK && !val && !(val = strdup("")))
                    rc = oom(err, errlen);
            }
            if (rc == MLF_OK && strcmp(key, EXTRA_KEY) == 0) {
                free(extra_json);
                extra_json = val;
                val = NULL;
            } else if (rc == MLF_OK) {
                others++;
                if (mlf_map_set(map, key, mlf_value_str(val)) != MLF_OK)
                    rc = oom(err, errlen);
            }
            free(key);
            free(val);
            key = val = NULL;
        }
        q += flen;
        if (*q == '&')
            q++;
    }
    if (rc == MLF_OK && extra_json) {
        if (others)
            rc = fail(err, errlen, MLF_EPARSE, EXTRA_KEY " cannot be combined with other query parameters");
        else
            rc = extra_from_json_text(extra_json, EXTRA_KEY, out, err, errlen);
        mlf_value_free(map);
        map = NULL;
    }
    free(extra_json);
    if (rc == MLF_OK && map)
        return set_extra(out, map, err, errlen);
    mlf_value_free(map);
    return rc;
}

/* Parses "userinfo@host:port" (@p n bytes). */
static int parse_authority(const char *a, size_t n, const char *proto, size_t proto_len, mlf_conn_rec *out,
                           char *err, size_t errlen)
{
    const char *at = memrchr(a, '@', n);
    const char *hp = at ? at + 1 : a;
    size_t hn = n - (size_t)(hp - a);
    int rc = MLF_OK;
    if (at) {
        size_t un = (size_t)(at - a);
        const char *colon = memchr(a, ':', un);
        size_t ln = colon ? (size_t)(colon - a) : un;
        rc = pct_decode(a, ln, 0, "the login", 0, &out->login, err, errlen);
        if (rc == MLF_OK && colon)
            rc = pct_decode(colon + 1, un - ln - 1, 0, "the password", 1, &out->password, err, errlen);
        if (rc != MLF_OK)
            return rc;
    }
    const char *host = hp, *port = NULL;
    size_t host_len = hn, port_len = 0;
    if (hn > 0 && hp[0] == '[') {
        const char *close = memchr(hp, ']', hn);
        if (!close)
            return fail(err, errlen, MLF_EPARSE, "unclosed '[' in the host");
        host = hp + 1;
        host_len = (size_t)(close - host);
        const char *tail = close + 1, *end = hp + hn;
        if (tail < end && *tail != ':')
            return fail(err, errlen, MLF_EPARSE, "unexpected characters after ']' in the host (expected ':PORT')");
        if (tail < end) {
            port = tail + 1;
            port_len = (size_t)(end - port);
        }
    } else {
        const char *colon = memchr(hp, ':', hn);
        if (colon) {
            host_len = (size_t)(colon - hp);
            port = colon + 1;
            port_len = hn - host_len - 1;
        }
    }
    if ((rc = parse_port(port, port_len, &out->port, err, errlen)) != MLF_OK)
        return rc;
    char *h = NULL;
    if ((rc = pct_decode(host, host_len, 0, "the host", 0, &h, err, errlen)) != MLF_OK)
        return rc;
    if (proto) {
        out->host = mlf_strdup_printf("%.*s://%s", (int)proto_len, proto, h ? h : "");
        free(h);
        return out->host ? MLF_OK : oom(err, errlen);
    }
    out->host = h;
    return MLF_OK;
}

static int from_uri(const char *uri, mlf_conn_rec *out, char *err, size_t errlen)
{
    const char *sep = strstr(uri, "://");
    if (!sep || sep == uri)
        return fail(err, errlen, MLF_EPARSE,
                    "no scheme: a connection URI starts with its type, as in postgres://user:pass@host:5432/db");
    char bad = 0;
    if (!is_scheme(uri, (size_t)(sep - uri), &bad))
        return fail(err, errlen, MLF_EPARSE,
                    "bad scheme: character '%c' is not allowed (letters, digits, '+', '-', '.' and '_', starting "
                    "with a letter)",
                    isprint((unsigned char)bad) ? bad : '?');
    if (strchr(uri, '#'))
        return fail(err, errlen, MLF_EPARSE, "unexpected '#': percent-encode it as %%23");
    out->conn_type = strndup(uri, (size_t)(sep - uri));
    if (!out->conn_type)
        return oom(err, errlen);
    for (char *p = out->conn_type; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    mlf_conn_normalize_type(out->conn_type);

    const char *rest = sep + 3, *proto = NULL;
    size_t proto_len = 0;
    const char *inner = strstr(rest, "://");
    if (inner && is_scheme(rest, (size_t)(inner - rest), NULL)) { /* a host with its own protocol */
        proto = rest;
        proto_len = (size_t)(inner - rest);
        rest = inner + 3;
    }
    size_t alen = strcspn(rest, "/?");
    int rc = parse_authority(rest, alen, proto, proto_len, out, err, errlen);
    const char *p = rest + alen;
    if (rc == MLF_OK && *p == '/') {
        size_t slen = strcspn(p + 1, "?");
        rc = pct_decode(p + 1, slen, 0, "the schema", 0, &out->schema, err, errlen);
        p += 1 + slen;
    }
    if (rc == MLF_OK && *p == '?')
        rc = parse_query(p + 1, out, err, errlen);
    return rc;
}

int mlf_conn_from_uri(const char *conn_id, const char *uri, mlf_conn_rec *out, char *err, size_t errlen)
{
    if (!uri || !out)
        return fail(err, errlen, MLF_EINVAL, "no URI");
    mlf_conn_rec_init(out);
    if (conn_id && !(out->conn_id = strdup(conn_id)))
        return oom(err, errlen);
    int rc = from_uri(uri, out, err, errlen);
    if (rc != MLF_OK)
        mlf_conn_rec_clear(out);
    return rc;
}

/* ----------------------------------------------------------------------------------- JSON parsing */

static const char *const json_keys[] = {"conn_type", "description", "host",  "port",
                                        "login",     "password",    "schema", "extra"};
#define NJSON_KEYS (sizeof json_keys / sizeof json_keys[0])

/* The record field of a string key of the JSON form. */
static char **string_field(mlf_conn_rec *r, const char *key)
{
    if (strcmp(key, "conn_type") == 0)
        return &r->conn_type;
    if (strcmp(key, "description") == 0)
        return &r->description;
    if (strcmp(key, "host") == 0)
        return &r->host;
    if (strcmp(key, "login") == 0)
        return &r->login;
    if (strcmp(key, "password") == 0)
        return &r->password;
    if (strcmp(key, "schema") == 0)
        return &r->schema;
    return NULL;
}

static int json_field(const char *key, const mlf_value *v, mlf_conn_rec *out, char *err, size_t errlen)
{
    mlf_type t = mlf_value_type(v);
    if (t == MLF_NIL)
        return MLF_OK;
    if (strcmp(key, "port") == 0) {
        int64_t n = 0;
        if (t == MLF_STR) {
            const char *s = mlf_value_get_str(v, NULL);
            return parse_port(s, strlen(s), &out->port, err, errlen);
        }
        if (mlf_value_get_int(v, &n) != MLF_OK)
            return fail(err, errlen, MLF_EPARSE, "'port' must be a number, not %s", mlf_type_name(t));
        if (n < 0 || n > 65535)
            return fail(err, errlen, MLF_EPARSE, "bad port %lld: out of range 0..65535", (long long)n);
        out->port = (int)n;
        return MLF_OK;
    }
    if (strcmp(key, "extra") == 0) {
        if (t == MLF_STR)
            return extra_from_json_text(mlf_value_get_str(v, NULL), "the 'extra' string", out, err, errlen);
        if (t != MLF_MAP)
            return fail(err, errlen, MLF_EPARSE, "'extra' must be an object (or a string holding one), not %s",
                        mlf_type_name(t));
        mlf_value *copy = mlf_value_copy(v);
        return copy ? set_extra(out, copy, err, errlen) : oom(err, errlen);
    }
    char **field = string_field(out, key);
    size_t len = 0;
    const char *s = mlf_value_get_str(v, &len);
    if (!s)
        return fail(err, errlen, MLF_EPARSE, "'%s' must be a string, not %s", key, mlf_type_name(t));
    if (memchr(s, '\0', len))
        return fail(err, errlen, MLF_EPARSE, "'%s' contains a NUL character", key);
    if (len && !(*field = strdup(s)))
        return oom(err, errlen);
    return MLF_OK;
}

static int from_json(const char *json, size_t len, mlf_conn_rec *out, char *err, size_t errlen)
{
    char msg[256];
    mlf_value *v = NULL;
    int rc = mlf_value_from_json(json, len, &v, msg, sizeof msg);
    if (rc == MLF_ENOMEM)
        return oom(err, errlen);
    if (rc != MLF_OK)
        return fail(err, errlen, MLF_EPARSE, "not valid JSON: %s", msg);
    if (mlf_value_type(v) != MLF_MAP) {
        rc = fail(err, errlen, MLF_EPARSE, "a JSON connection must be an object, not %s",
                  mlf_type_name(mlf_value_type(v)));
        mlf_value_free(v);
        return rc;
    }
    for (size_t i = 0; rc == MLF_OK && i < mlf_value_len(v); i++) {
        const char *key = mlf_map_key_at(v, i);
        int known = 0;
        for (size_t k = 0; k < NJSON_KEYS && !known; k++)
            known = strcmp(key, json_keys[k]) == 0;
        if (!known) {
            const char *s = mlf_suggest(key, json_keys, NJSON_KEYS);
            rc = fail(err, errlen, MLF_EPARSE,
                      "unknown key '%.64s'%s%s%s (known: conn_type, description, host, port, login, password, "
                      "schema, extra)",
                      key, s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
        } else
            rc = json_field(key, mlf_map_value_at(v, i), out, err, errlen);
    }
    mlf_value_free(v);
    mlf_conn_normalize_type(out->conn_type);
    return rc;
}

int mlf_conn_from_json(const char *conn_id, const char *json, size_t len, mlf_conn_rec *out, char *err,
                       size_t errlen)
{
    if (!json || !out)
        return fail(err, errlen, MLF_EINVAL, "no JSON");
    mlf_conn_rec_init(out);
    if (conn_id && !(out->conn_id = strdup(conn_id)))
        return oom(err, errlen);
    int rc = from_json(json, len, out, err, errlen);
    if (rc != MLF_OK)
        mlf_conn_rec_clear(out);
    return rc;
}

/* ------------------------------------------------------------------------------------------ output */

/* A copy of @p v where every map entry with a sensitive key reads MLF_CONN_MASKED, at any depth. */
static mlf_value *masked_copy(const mlf_value *v)
{
    mlf_type t = mlf_value_type(v);
    if (t != MLF_MAP && t != MLF_ARRAY)
        return mlf_value_copy(v);
    mlf_value *c = t == MLF_MAP ? mlf_value_map() : mlf_value_array();
    for (size_t i = 0; c && i < mlf_value_len(v); i++) {
        int rc;
        if (t == MLF_ARRAY)
            rc = mlf_array_append(c, masked_copy(mlf_array_at(v, i)));
        else {
            const char *k = mlf_map_key_at(v, i);
            rc = mlf_map_set(c, k,
                             mlf_is_sensitive_name(k) ? mlf_value_str(MLF_CONN_MASKED)
                                                      : masked_copy(mlf_map_value_at(v, i)));
        }
        if (rc != MLF_OK) {
            mlf_value_free(c);
            return NULL;
        }
    }
    return c;
}

/* The extra of @p rec decoded into *out (NULL when the record has none), masked with MLF_CONN_MASK. */
static int decode_extra(const mlf_conn_rec *rec, unsigned flags, mlf_value **out)
{
    *out = NULL;
    if (!rec->extra || !rec->extra_len)
        return MLF_OK;
    mlf_value *v = NULL;
    int rc = mlf_value_unpack(rec->extra, rec->extra_len, &v);
    if (rc != MLF_OK)
        return rc == MLF_ENOMEM ? rc : MLF_ECORRUPT;
    if (flags & MLF_CONN_MASK) {
        mlf_value *m = masked_copy(v);
        mlf_value_free(v);
        if (!m)
            return MLF_ENOMEM;
        v = m;
    }
    *out = v;
    return MLF_OK;
}

/* Appends @p s percent-encoded: everything but letters, digits and "-._~" (Python's quote(s, safe='')). */
static int put_quoted(mlf_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = MLF_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == MLF_OK; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            rc = mlf_buf_append(b, p, 1);
        else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = mlf_buf_append(b, e, 3);
        }
    }
    return rc;
}

static int all_strings(const mlf_value *m)
{
    for (size_t i = 0; i < mlf_value_len(m); i++)
        if (mlf_value_type(mlf_map_value_at(m, i)) != MLF_STR || strcmp(mlf_map_key_at(m, i), EXTRA_KEY) == 0 ||
            memchr(mlf_value_get_str(mlf_map_value_at(m, i), NULL), '\0', mlf_value_len(mlf_map_value_at(m, i))))
            return 0;
    return 1;
}

static int put_query(mlf_buf *b, const mlf_value *extra)
{
    int rc = MLF_OK;
    if (mlf_value_type(extra) == MLF_MAP && all_strings(extra)) {
        for (size_t i = 0; rc == MLF_OK && i < mlf_value_len(extra); i++) {
            if (i)
                rc = mlf_buf_puts(b, "&");
            if (rc == MLF_OK)
                rc = put_quoted(b, mlf_map_key_at(extra, i));
            if (rc == MLF_OK)
                rc = mlf_buf_puts(b, "=");
            const char *val = mlf_value_get_str(mlf_map_value_at(extra, i), NULL);
            if (rc == MLF_OK)
                rc = strcmp(val, MLF_CONN_MASKED) == 0 ? mlf_buf_puts(b, val) : put_quoted(b, val);
        }
        return rc;
    }
    char *json = NULL;
    rc = mlf_value_to_json(extra, &json);
    if (rc == MLF_OK)
        rc = mlf_buf_puts(b, EXTRA_KEY "=");
    if (rc == MLF_OK)
        rc = put_quoted(b, json);
    free(json);
    return rc;
}

static int to_uri(const mlf_conn_rec *rec, unsigned flags, const mlf_value *extra, mlf_buf *b)
{
    int rc = MLF_OK;
    if (rec->conn_type && *rec->conn_type) {
        for (const char *p = rec->conn_type; *p && rc == MLF_OK; p++) {
            char c = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
            rc = mlf_buf_append(b, &c, 1);
        }
        if (rc == MLF_OK)
            rc = mlf_buf_puts(b, ":");
    }
    if (rc == MLF_OK)
        rc = mlf_buf_puts(b, "//");
    const char *host = rec->host && *rec->host ? rec->host : NULL;
    const char *inner = host ? strstr(host, "://") : NULL;
    if (inner && is_scheme(host, (size_t)(inner - host), NULL)) { /* the host's own protocol */
        if (rc == MLF_OK)
            rc = mlf_buf_append(b, host, (size_t)(inner - host) + 3);
        host = *(inner + 3) ? inner + 3 : NULL;
    }
    int authority = 0;
    if (rc == MLF_OK && rec->login && *rec->login) {
        rc = put_quoted(b, rec->login);
        authority = 1;
    }
    if (rc == MLF_OK && rec->password && *rec->password) {
        rc = mlf_buf_puts(b, ":");
        if (rc == MLF_OK)
            rc = flags & MLF_CONN_MASK ? mlf_buf_puts(b, MLF_CONN_MASKED) : put_quoted(b, rec->password);
        authority = 1;
    }
    if (rc == MLF_OK && authority)
        rc = mlf_buf_puts(b, "@");
    if (rc == MLF_OK && host)
        rc = put_quoted(b, host);
    if (rc == MLF_OK && rec->port > 0)
        rc = mlf_buf_printf(b, "%s:%d", !host && !authority ? "@" : "", rec->port);
    int schema = rec->schema && *rec->schema;
    if (rc == MLF_OK && schema) {
        rc = mlf_buf_puts(b, "/");
        if (rc == MLF_OK)
            rc = put_quoted(b, rec->schema);
    }
    if (rc == MLF_OK && extra && !(mlf_value_type(extra) == MLF_MAP && mlf_value_len(extra) == 0)) {
        rc = mlf_buf_puts(b, schema ? "?" : "/?");
        if (rc == MLF_OK)
            rc = put_query(b, extra);
    }
    return rc;
}

int mlf_conn_to_uri(const mlf_conn_rec *rec, unsigned flags, char **out)
{
    if (!rec || !out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_value *extra = NULL;
    int rc = decode_extra(rec, flags, &extra);
    if (rc != MLF_OK)
        return rc;
    mlf_buf b = {0};
    rc = to_uri(rec, flags, extra, &b);
    mlf_value_free(extra);
    if (rc != MLF_OK) {
        mlf_buf_free(&b);
        return MLF_ENOMEM;
    }
    *out = mlf_buf_steal(&b);
    return *out ? MLF_OK : MLF_ENOMEM;
}

static mlf_value *str_or_nil(const char *s)
{
    return s ? mlf_value_str(s) : mlf_value_nil();
}

int mlf_conn_to_value(const mlf_conn_rec *rec, unsigned flags, mlf_value **out)
{
    if (!rec || !out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_value *extra = NULL;
    int rc = decode_extra(rec, flags, &extra);
    if (rc != MLF_OK)
        return rc;
    const char *password = rec->password && (flags & MLF_CONN_MASK) ? MLF_CONN_MASKED : rec->password;
    /* mlf_map_set() takes each value even when it fails (a NULL map included): nothing leaks */
    mlf_value *m = mlf_value_map();
    int bad = !m;
    bad |= mlf_map_set(m, "conn_id", str_or_nil(rec->conn_id)) != MLF_OK;
    bad |= mlf_map_set(m, "conn_type", str_or_nil(rec->conn_type)) != MLF_OK;
    bad |= mlf_map_set(m, "host", str_or_nil(rec->host)) != MLF_OK;
    bad |= mlf_map_set(m, "port", rec->port > 0 ? mlf_value_int(rec->port) : mlf_value_nil()) != MLF_OK;
    bad |= mlf_map_set(m, "login", str_or_nil(rec->login)) != MLF_OK;
    bad |= mlf_map_set(m, "password", str_or_nil(password)) != MLF_OK;
    bad |= mlf_map_set(m, "schema", str_or_nil(rec->schema)) != MLF_OK;
    bad |= mlf_map_set(m, "extra", extra ? extra : mlf_value_nil()) != MLF_OK;
    if (bad) {
        mlf_value_free(m);
        return MLF_ENOMEM;
    }
    *out = m;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ lookup */

int mlf_conn_lookup(mlf_store_txn *txn, const char *conn_id, mlf_conn_rec *out, char *err, size_t errlen)
{
    if (!conn_id || !*conn_id || !out)
        return fail(err, errlen, MLF_EINVAL, "no connection id");
    mlf_conn_rec_init(out);
    if (txn) {
        int rc = mlf_store_conn_get(txn, conn_id, out);
        if (rc == MLF_OK)
            return MLF_OK;
        if (rc != MLF_ENOTFOUND)
            return fail(err, errlen, rc, "cannot read connection '%s' from the state store: %s", conn_id,
                        mlf_strerror(rc));
    }
    char *name = mlf_strdup_printf(MLF_CONN_ENV_PREFIX "%s", conn_id);
    if (!name)
        return oom(err, errlen);
    for (char *p = name + strlen(MLF_CONN_ENV_PREFIX); *p; p++)
        *p = (char)toupper((unsigned char)*p);
    const char *text = getenv(name);
    int rc;
    if (!text)
        rc = fail(err, errlen, MLF_ENOTFOUND, "connection '%s' is not defined (%s$%s is not set)", conn_id,
                  txn ? "it is not in the state store and " : "", name);
    else {
        char msg[512];
        while (isspace((unsigned char)*text))
            text++;
        rc = *text == '{' ? mlf_conn_from_json(conn_id, text, strlen(text), out, msg, sizeof msg)
                          : mlf_conn_from_uri(conn_id, text, out, msg, sizeof msg);
        if (rc != MLF_OK)
            fail(err, errlen, rc, "$%s: %s", name, msg);
    }
    free(name);
    return rc;
}

int mlf_conn_resolve(mlf_store_txn *txn, const char *conn_id, mlf_value **fields, char *err, size_t errlen)
{
    if (!fields)
        return fail(err, errlen, MLF_EINVAL, "no output");
    *fields = NULL;
    mlf_conn_rec rec;
    int rc = mlf_conn_lookup(txn, conn_id, &rec, err, errlen);
    if (rc != MLF_OK)
        return rc;
    rc = mlf_conn_to_value(&rec, 0, fields);
    if (rc != MLF_OK)
        fail(err, errlen, rc, "connection '%s': %s", conn_id,
             rc == MLF_ECORRUPT ? "its stored extra does not decode" : mlf_strerror(rc));
    mlf_conn_rec_clear(&rec);
    return rc;
}
