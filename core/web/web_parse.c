/*
 * web_parse.c -- the webserver's parsers of untrusted input: query values, JSON bodies, cookies. They never
 * read outside what they are given and never trust a length; tests/fuzz/fuzz_web_parse.c runs them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "web/web_internal.h"

int mlf_web_parse_uint(const char *s, long max, long *out)
{
    if (!s || !*s || strlen(s) > 18)
        return s && *s ? MLF_ERANGE : MLF_EINVAL;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return MLF_EINVAL;
        v = v * 10 + (*p - '0');
    }
    if (v > max)
        return MLF_ERANGE;
    *out = v;
    return MLF_OK;
}

int mlf_web_parse_bool(const char *s, bool *out)
{
    if (s && strcmp(s, "true") == 0)
        *out = true;
    else if (s && strcmp(s, "false") == 0)
        *out = false;
    else
        return MLF_EINVAL;
    return MLF_OK;
}

int mlf_web_parse_page(const char *limit_s, const char *offset_s, long *limit, long *offset, char *err,
                       size_t errlen)
{
    *limit = MLF_WEB_DEFAULT_LIMIT;
    *offset = 0;
    int rc;
    if (limit_s && ((rc = mlf_web_parse_uint(limit_s, MLF_WEB_MAX_LIMIT, limit)) != MLF_OK || *limit < 1)) {
        snprintf(err, errlen, "limit must be a whole number from 1 to %d", MLF_WEB_MAX_LIMIT);
        return MLF_EINVAL;
    }
    if (offset_s && mlf_web_parse_uint(offset_s, 1000000000L, offset) != MLF_OK) {
        snprintf(err, errlen, "offset must be a whole number from 0 to 1000000000");
        return MLF_EINVAL;
    }
    return MLF_OK;
}

/* The nesting depth of a JSON text, counted on its bytes before jansson sees them (it recurses). */
static int too_deep(const char *p, size_t n, int max)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

int mlf_web_parse_object(const char *body, size_t len, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!body || len == 0) {
        snprintf(err, errlen, "the request needs a JSON object as its body");
        return MLF_EPARSE;
    }
    if (too_deep(body, len, 32)) {
        snprintf(err, errlen, "the JSON body nests deeper than 32 levels");
        return MLF_EPARSE;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(err, errlen, "the body is not valid JSON: %d:%d: %s", je.line, je.column, je.text);
        return MLF_EPARSE;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(err, errlen, "the body must be a JSON object");
        return MLF_EPARSE;
    }
    *out = j;
    return MLF_OK;
}

int mlf_web_cookie(const char *header, const char *name, char *out, size_t outlen)
{
    if (!header || !name || outlen == 0)
        return MLF_ENOTFOUND;
    size_t nl = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= outlen)
                return MLF_ETOOBIG;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return MLF_OK;
        }
        p += len;
    }
    return MLF_ENOTFOUND;
}

int mlf_web_only_keys(json_t *obj, const char *const *known, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok) {
            snprintf(err, errlen, "unknown field \"%.100s\" in the body", key);
            return MLF_EINVAL;
        }
    }
    return MLF_OK;
}
