/* value_json.c -- JSON encoding of dynamic values (written directly, see below) and JSON decoding (with
 * jansson).
 *
 * The encoder does not go through jansson: jansson prints reals with 17 significant digits (0.1 becomes
 * 0.10000000000000001, which users would see in every rendered template), and it refuses strings that
 * are not valid UTF-8, while a str that came from msgpack may hold any bytes. Writing JSON is a page of
 * code; parsing it is not, so decoding uses jansson. */
#include "value/value_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "value/value_internal.h"

/* ---------------------------------------------------------------------------------------- encoding */

/* Length of the valid UTF-8 sequence at @p s (at most @p n bytes), or 0 when it is invalid (overlong,
 * surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Appends @p n bytes as a quoted JSON string; bytes that are not valid UTF-8 become U+FFFD. */
static int put_string(mlf_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    int rc = mlf_buf_append(b, "\"", 1);
    size_t i = 0;
    while (rc == MLF_OK && i < n) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t run = i, len;
        while (run < n && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' &&
               (len = utf8_seq_len(p + run, n - run)) != 0)
            run += len;
        if (run > i) {
            rc = mlf_buf_append(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i++];
        char esc[7] = {'\\', 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c < 0x20) {
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
            } else {
                memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD REPLACEMENT CHARACTER */
                elen = 3;
            }
        }
        rc = mlf_buf_append(b, esc, elen);
    }
    return rc == MLF_OK ? mlf_buf_append(b, "\"", 1) : rc;
}

/* Appends @p n bytes as a quoted base64 string (RFC 4648, with padding). */
static int put_base64(mlf_buf *b, const unsigned char *p, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = mlf_buf_append(b, "\"", 1);
    for (size_t i = 0; rc == MLF_OK && i < n; i += 3) {
        unsigned long w = (unsigned long)p[i] << 16;
        if (i + 1 < n)
            w |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < n)
            w |= p[i + 2];
        char q[4] = {alphabet[(w >> 18) & 63], alphabet[(w >> 12) & 63],
                     i + 1 < n ? alphabet[(w >> 6) & 63] : '=', i + 2 < n ? alphabet[w & 63] : '='};
        rc = mlf_buf_append(b, q, 4);
    }
    return rc == MLF_OK ? mlf_buf_append(b, "\"", 1) : rc;
}

static int put_value(mlf_buf *b, const mlf_value *v)
{
    int rc = MLF_OK;
    size_t n;
    switch (mlf_value_type(v)) {
    case MLF_NIL:
        return mlf_buf_puts(b, "null");
    case MLF_BOOL: {
        int t = 0;
        mlf_value_get_bool(v, &t);
        return mlf_buf_puts(b, t ? "true" : "false");
    }
    case MLF_INT: {
        int64_t i = 0;
        mlf_value_get_int(v, &i);
        return mlf_buf_printf(b, "%lld", (long long)i);
    }
    case MLF_FLOAT: {
        double d = 0;
        char num[MLF_DOUBLE_BUFSZ];
        mlf_value_get_float(v, &d);
        if (!isfinite(d))
            return mlf_buf_puts(b, "null");
        mlf_format_double(d, num);
        return mlf_buf_puts(b, num);
    }
    case MLF_STR: {
        const char *s = mlf_value_get_str(v, &n);
        return put_string(b, s, n);
    }
    case MLF_BIN: {
        const void *p = mlf_value_get_bin(v, &n);
        return put_base64(b, p, n);
    }
    case MLF_ARRAY:
        rc = mlf_buf_append(b, "[", 1);
        for (size_t i = 0; rc == MLF_OK && i < mlf_value_len(v); i++) {
            if (i)
                rc = mlf_buf_append(b, ",", 1);
            if (rc == MLF_OK)
                rc = put_value(b, mlf_array_at(v, i));
        }
        return rc == MLF_OK ? mlf_buf_append(b, "]", 1) : rc;
    case MLF_MAP:
        rc = mlf_buf_append(b, "{", 1);
        for (size_t i = 0; rc == MLF_OK && i < mlf_value_len(v); i++) {
            size_t klen = 0;
            const char *key = mlf_map_key_n_at(v, i, &klen);
            if (i)
                rc = mlf_buf_append(b, ",", 1);
            if (rc == MLF_OK)
                rc = put_string(b, key, klen);
            if (rc == MLF_OK)
                rc = mlf_buf_append(b, ":", 1);
            if (rc == MLF_OK)
                rc = put_value(b, mlf_map_value_at(v, i));
        }
        return rc == MLF_OK ? mlf_buf_append(b, "}", 1) : rc;
    }
    return MLF_EINVAL;
}

int mlf_value_to_json(const mlf_value *v, char **out)
{
    if (!v || !out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_buf b = {0};
    int rc = put_value(&b, v);
    if (rc == MLF_OK && !(*out = mlf_buf_steal(&b)))
        rc = MLF_ENOMEM;
    mlf_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------------------------------- decoding */

/* Converts jansson's tree @p j, found at nesting level @p depth, into *@p out. */
static int from_json(const json_t *j, size_t depth, mlf_value **out)
{
    mlf_value *v = NULL;
    int rc = MLF_OK;
    *out = NULL;
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
    case JSON_ARRAY:
        if (depth >= MLF_VALUE_MAX_DEPTH)
            return MLF_ERANGE;
        v = mlf_value_array();
        if (v)
            rc = mlf_value_reserve(v, json_array_size(j));
        for (size_t i = 0; v && rc == MLF_OK && i < json_array_size(j); i++) {
            mlf_value *item;
            rc = from_json(json_array_get(j, i), depth + 1, &item);
            if (rc == MLF_OK)
                rc = mlf_array_append(v, item);
        }
        break;
    case JSON_OBJECT: {
        if (depth >= MLF_VALUE_MAX_DEPTH)
            return MLF_ERANGE;
        const char *key;
        size_t klen;
        json_t *item;
        v = mlf_value_map();
        if (v)
            rc = mlf_value_reserve(v, json_object_size(j));
        json_object_keylen_foreach((json_t *)j, key, klen, item)
        {
            mlf_value *val;
            if (!v || rc != MLF_OK)
                break;
            rc = from_json(item, depth + 1, &val);
            if (rc == MLF_OK)
                rc = mlf_map_add_n(v, key, klen, val);
        }
        break;
    }
    }
    return mlf_value_decoded(v, rc, out);
}

int mlf_value_from_json(const char *text, size_t len, mlf_value **out, char *errbuf, size_t errlen)
{
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!out)
        return MLF_EINVAL;
    *out = NULL;
    if (!text)
        return MLF_EINVAL;
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!root) {
        enum json_error_code code = json_error_code(&err);
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "line %d column %d: %s", err.line, err.column, err.text);
        return code == json_error_out_of_memory       ? MLF_ENOMEM
               : code == json_error_numeric_overflow || code == json_error_stack_overflow ? MLF_ERANGE
                                                                                         : MLF_EPARSE;
    }
    int rc = from_json(root, 0, out);
    json_decref(root);
    if (rc == MLF_ERANGE && errbuf && errlen)
        snprintf(errbuf, errlen, "arrays and objects nested deeper than %d levels", MLF_VALUE_MAX_DEPTH);
    else if (rc == MLF_ENOMEM && errbuf && errlen)
        snprintf(errbuf, errlen, "out of memory");
    return rc;
}
