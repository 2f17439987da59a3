/* xcom_lines.c -- MLFLOWD_XCOM lines in a python script's output become XComs (see xcom_lines.h). */
#include "xcom_lines.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SCAN_MARKER = 0, SCAN_JSON, SCAN_PLAIN };

/* How much of an offending line an error message quotes. */
#define QUOTE_MAX 80

/* Converts @p j, a value inside @p depth arrays or objects, into a new value in @p *out. */
static int to_value(json_t *j, int depth, mlf_value **out)
{
    if ((json_is_array(j) || json_is_object(j)) && depth >= MLF_VALUE_MAX_DEPTH)
        return MLF_ERANGE;
    mlf_value *v = NULL;
    switch (json_typeof(j)) {
    case JSON_NULL:
        v = mlf_value_nil();
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v = mlf_value_bool(json_is_true(j));
        break;
    case JSON_INTEGER:
        v = mlf_value_int((int64_t)json_integer_value(j));
        break;
    case JSON_REAL:
        v = mlf_value_float(json_real_value(j));
        break;
    case JSON_STRING:
        v = mlf_value_strn(json_string_value(j), json_string_length(j));
        break;
    case JSON_ARRAY: {
        v = mlf_value_array();
        size_t i;
        json_t *item;
        json_array_foreach(j, i, item)
        {
            mlf_value *iv;
            int rc = v ? to_value(item, depth + 1, &iv) : MLF_ENOMEM;
            if (rc == MLF_OK)
                rc = mlf_array_append(v, iv);
            if (rc != MLF_OK) {
                mlf_value_free(v);
                return rc;
            }
        }
        break;
    }
    case JSON_OBJECT: {
        v = mlf_value_map();
        const char *key;
        json_t *item;
        json_object_foreach(j, key, item)
        {
            mlf_value *iv;
            int rc = v ? to_value(item, depth + 1, &iv) : MLF_ENOMEM;
            if (rc == MLF_OK)
                rc = mlf_map_set(v, key, iv);
            if (rc != MLF_OK) {
                mlf_value_free(v);
                return rc;
            }
        }
        break;
    }
    }
    if (!v)
        return MLF_ENOMEM;
    *out = v;
    return MLF_OK;
}

int py_json_decode(const char *text, size_t len, mlf_value **out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!j) {
        snprintf(err, errlen, "%s (column %d of the value)", jerr.text, jerr.column);
        return MLF_EPARSE;
    }
    int rc = to_value(j, 0, out);
    json_decref(j);
    if (rc == MLF_ERANGE)
        snprintf(err, errlen, "nested deeper than %d levels", MLF_VALUE_MAX_DEPTH);
    else if (rc != MLF_OK)
        snprintf(err, errlen, "%s", mlf_strerror(rc));
    return rc;
}

/* Records the first problem, quoting the start of the offending line. */
static void scan_fail(py_xcom_scan *s, const char *what)
{
    if (s->error)
        return;
    size_t n = s->len < QUOTE_MAX ? s->len : QUOTE_MAX;
    const char *more = s->len > n ? "..." : "";
    size_t sz = strlen(what) + n + 128;
    s->error = malloc(sz);
    if (s->error)
        snprintf(s->error, sz, "line %zu of the script's output: %s: %s %.*s%s", s->lineno + 1, what,
                 PY_XCOM_MARKER, (int)n, s->json ? s->json : "", more);
}

/* Pushes the JSON collected for the current line. */
static void scan_push(py_xcom_scan *s)
{
    char err[256];
    mlf_value *v = NULL;
    if (s->len == 0) {
        scan_fail(s, "no value after the marker");
        return;
    }
    if (py_json_decode(s->json, s->len, &v, err, sizeof err) != MLF_OK) {
        char what[320];
        snprintf(what, sizeof what, "invalid JSON: %s", err);
        scan_fail(s, what);
        return;
    }
    const char *key = MLF_XCOM_RETURN_KEY;
    mlf_value *push = v;
    const mlf_value *kv = mlf_map_get(v, "key");
    if (mlf_value_type(v) == MLF_MAP && mlf_value_len(v) == 2 && kv && mlf_map_get(v, "value")) {
        key = mlf_value_get_str(kv, NULL);
        if (!key || !*key) {
            mlf_value_free(v);
            scan_fail(s, "\"key\" must be a non-empty string");
            return;
        }
        push = mlf_value_copy(mlf_map_get(v, "value"));
    }
    int rc = mlf_ctx_xcom_push(s->ctx, key, push);
    if (rc != MLF_OK) {
        snprintf(err, sizeof err, "XCom '%s' could not be pushed: %s", key, mlf_strerror(rc));
        scan_fail(s, err);
    } else {
        s->pushed++;
    }
    if (push != v)
        mlf_value_free(v);
}

static void scan_end_line(py_xcom_scan *s)
{
    if (s->state == SCAN_JSON && !s->error) {
        scan_push(s);
    } else if (s->state == SCAN_MARKER && s->matched == strlen(PY_XCOM_MARKER) && !s->error) {
        s->len = 0;
        scan_fail(s, "no value after the marker");
    }
    s->lineno++;
    s->state = SCAN_MARKER;
    s->matched = 0;
    s->len = 0;
}

static void scan_collect(py_xcom_scan *s, char c)
{
    if (s->error)
        return;
    if (s->len + 1 >= s->cap) {
        if (s->len + 1 >= PY_XCOM_MAX_LINE) {
            scan_fail(s, "the value is longer than 16 MiB");
            return;
        }
        size_t cap = s->cap ? s->cap * 2 : 256;
        char *p = realloc(s->json, cap);
        if (!p) {
            scan_fail(s, "out of memory");
            return;
        }
        s->json = p;
        s->cap = cap;
    }
    s->json[s->len++] = c;
    s->json[s->len] = '\0';
}

void py_xcom_scan_feed(py_xcom_scan *s, const char *buf, size_t n)
{
    static const char marker[] = PY_XCOM_MARKER;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n') {
            scan_end_line(s);
            continue;
        }
        switch (s->state) {
        case SCAN_MARKER:
            if (s->matched < sizeof marker - 1 && c == marker[s->matched])
                s->matched++;
            else if (s->matched == sizeof marker - 1 && (c == ' ' || c == '\t'))
                s->state = SCAN_JSON;
            else
                s->state = SCAN_PLAIN;
            break;
        case SCAN_JSON:
            scan_collect(s, c);
            break;
        default:
            break;
        }
    }
}

void py_xcom_scan_finish(py_xcom_scan *s)
{
    if (s->state != SCAN_MARKER || s->matched)
        scan_end_line(s);
}

void py_xcom_scan_free(py_xcom_scan *s)
{
    free(s->json);
    free(s->error);
    s->json = s->error = NULL;
    s->len = s->cap = 0;
}
