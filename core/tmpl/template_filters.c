/*
 * template_filters.c -- the built-in template filters (x | upper, x | join(','), ...), following the
 * semantics of Jinja2's filters of the same names for the values mlflowd has. 'default' is handled by
 * the renderer, which is where undefined values live.
 */
#include "tmpl/template_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "base/suggest.h"
#include "time/timefmt.h"

const char *tpl_text_of(const mlf_value *v, size_t *len, char **tmp)
{
    *tmp = NULL;
    if (mlf_value_type(v) == MLF_STR)
        return mlf_value_get_str(v, len);
    if (!(*tmp = mlf_value_to_display(v)))
        return NULL;
    *len = strlen(*tmp);
    return *tmp;
}

static int too_big(char *err, size_t errlen)
{
    snprintf(err, errlen, "the result would be longer than %u bytes", MLF_TEMPLATE_MAX_STRING);
    return MLF_ETOOBIG;
}

/* Stores a new str of the @p n bytes at @p s in *out. */
static int new_str(const char *s, size_t n, mlf_value **out, char *err, size_t errlen)
{
    if (n > MLF_TEMPLATE_MAX_STRING)
        return too_big(err, errlen);
    *out = mlf_value_strn(s, n);
    return *out ? MLF_OK : MLF_ENOMEM;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int change_case(const mlf_value *in, int upper, mlf_value **out, char *err, size_t errlen)
{
    char *tmp;
    size_t n;
    const char *s = tpl_text_of(in, &n, &tmp);
    if (!s)
        return MLF_ENOMEM;
    char *c = malloc(n + 1);
    if (!c) {
        free(tmp);
        return MLF_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (upper && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (!upper && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        c[i] = ch;
    }
    int rc = new_str(c, n, out, err, errlen);
    free(c);
    free(tmp);
    return rc;
}

static int f_upper(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                   size_t errlen)
{
    (void)args, (void)nargs;
    return change_case(in, 1, out, err, errlen);
}

static int f_lower(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                   size_t errlen)
{
    (void)args, (void)nargs;
    return change_case(in, 0, out, err, errlen);
}

/* 1 when the character of @p n bytes at @p c is one of the characters of @p set. */
static int char_in(const char *c, size_t n, const char *set, size_t setlen)
{
    for (size_t i = 0; i < setlen; i = tpl_utf8_next(set, setlen, i)) {
        size_t k = tpl_utf8_next(set, setlen, i);
        if (k - i == n && memcmp(set + i, c, n) == 0)
            return 1;
    }
    return 0;
}

static int f_trim(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                  size_t errlen)
{
    char *tmp, *settmp = NULL;
    size_t n, setlen = 0;
    const char *set = NULL;
    if (nargs && mlf_value_type(args[0]) != MLF_NIL && !(set = tpl_text_of(args[0], &setlen, &settmp)))
        return MLF_ENOMEM;
    const char *s = tpl_text_of(in, &n, &tmp);
    if (!s) {
        free(settmp);
        return MLF_ENOMEM;
    }
    size_t a = 0, b = n;
    if (!set) {
        while (a < b && is_space(s[a]))
            a++;
        while (b > a && is_space(s[b - 1]))
            b--;
    } else {
        while (a < b) {
            size_t k = tpl_utf8_next(s, b, a);
            if (!char_in(s + a, k - a, set, setlen))
                break;
            a = k;
        }
        while (b > a) {
            size_t k = b - 1;
            while (k > a && b - k < 4 && !tpl_utf8_lead((unsigned char)s[k]))
                k--;
            if (!char_in(s + k, b - k, set, setlen))
                break;
            b = k;
        }
    }
    int rc = new_str(s + a, b - a, out, err, errlen);
    free(tmp);
    free(settmp);
    return rc;
}

/* The first occurrence of the @p nlen (> 0) bytes at @p needle in the @p n bytes at @p s, or NULL. */
static const char *find(const char *s, size_t n, const char *needle, size_t nlen)
{
    for (size_t i = 0; nlen <= n && i <= n - nlen; i++) {
        const char *c = memchr(s + i, needle[0], n - nlen + 1 - i);
        if (!c)
            return NULL;
        i = (size_t)(c - s);
        if (memcmp(c, needle, nlen) == 0)
            return c;
    }
    return NULL;
}

static int f_replace(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                     size_t errlen)
{
    int64_t count = -1;
    if (nargs > 2 && mlf_value_type(args[2]) != MLF_NIL && mlf_value_get_int(args[2], &count) != MLF_OK) {
        snprintf(err, errlen, "the count must be an integer, got %s", mlf_type_name(mlf_value_type(args[2])));
        return MLF_ETYPE;
    }
    char *tmp[3] = {NULL, NULL, NULL};
    size_t n, oldn, newn;
    const char *s = tpl_text_of(in, &n, &tmp[0]);
    const char *old = s ? tpl_text_of(args[0], &oldn, &tmp[1]) : NULL;
    const char *rep = old ? tpl_text_of(args[1], &newn, &tmp[2]) : NULL;
    int rc = MLF_ENOMEM;
    mlf_buf b = {0};
    if (!rep)
        goto done;
    size_t i = 0;
    rc = MLF_OK;
    for (int64_t done = 0; rc == MLF_OK && (count < 0 || done < count); done++) {
        if (b.len > MLF_TEMPLATE_MAX_STRING) {
            rc = too_big(err, errlen);
            break;
        }
        if (oldn == 0) { /* like Python: the replacement goes before every character and at the end */
            if (i > n)
                break;
            rc = mlf_buf_append(&b, rep, newn);
            size_t k = i < n ? tpl_utf8_next(s, n, i) : n + 1;
            if (rc == MLF_OK && i < n)
                rc = mlf_buf_append(&b, s + i, k - i);
            i = k;
            continue;
        }
        const char *hit = find(s + i, n - i, old, oldn);
        if (!hit)
            break;
        size_t at = (size_t)(hit - s);
        rc = mlf_buf_append(&b, s + i, at - i);
        if (rc == MLF_OK)
            rc = mlf_buf_append(&b, rep, newn);
        i = at + oldn;
    }
    if (rc == MLF_OK && i < n)
        rc = mlf_buf_append(&b, s + i, n - i);
    if (rc == MLF_OK)
        rc = new_str(b.data ? b.data : "", b.len, out, err, errlen);
done:
    mlf_buf_free(&b);
    for (int k = 0; k < 3; k++)
        free(tmp[k]);
    return rc;
}

static int f_join(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                  size_t errlen)
{
    mlf_type type = mlf_value_type(in);
    if (type != MLF_ARRAY && type != MLF_MAP && type != MLF_STR) {
        snprintf(err, errlen, "expected a list, a map or a string, got %s", mlf_type_name(type));
        return MLF_ETYPE;
    }
    char *septmp = NULL;
    size_t seplen = 0;
    const char *sep = "";
    if (nargs && !(sep = tpl_text_of(args[0], &seplen, &septmp)))
        return MLF_ENOMEM;
    mlf_buf b = {0};
    int rc = MLF_OK;
    if (type == MLF_STR) {
        size_t n;
        const char *s = mlf_value_get_str(in, &n);
        for (size_t i = 0; i < n && rc == MLF_OK;) {
            size_t k = tpl_utf8_next(s, n, i);
            if (b.len > MLF_TEMPLATE_MAX_STRING) {
                rc = too_big(err, errlen);
                break;
            }
            if (i)
                rc = mlf_buf_append(&b, sep, seplen);
            if (rc == MLF_OK)
                rc = mlf_buf_append(&b, s + i, k - i);
            i = k;
        }
    } else {
        for (size_t i = 0; i < mlf_value_len(in) && rc == MLF_OK; i++) {
            if (b.len > MLF_TEMPLATE_MAX_STRING) {
                rc = too_big(err, errlen);
                break;
            }
            if (i)
                rc = mlf_buf_append(&b, sep, seplen);
            if (rc != MLF_OK)
                break;
            if (type == MLF_MAP) {
                rc = mlf_buf_puts(&b, mlf_map_key_at(in, i));
                continue;
            }
            char *tmp;
            size_t n;
            const char *s = tpl_text_of(mlf_array_at(in, i), &n, &tmp);
            rc = s ? mlf_buf_append(&b, s, n) : MLF_ENOMEM;
            free(tmp);
        }
    }
    if (rc == MLF_OK)
        rc = new_str(b.data ? b.data : "", b.len, out, err, errlen);
    mlf_buf_free(&b);
    free(septmp);
    return rc;
}

static int f_length(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                    size_t errlen)
{
    (void)args, (void)nargs;
    size_t n;
    switch (mlf_value_type(in)) {
    case MLF_STR: {
        const char *s = mlf_value_get_str(in, &n);
        n = tpl_utf8_count(s, n);
        break;
    }
    case MLF_BIN:
    case MLF_ARRAY:
    case MLF_MAP: n = mlf_value_len(in); break;
    default:
        snprintf(err, errlen, "a value of type %s has no length", mlf_type_name(mlf_value_type(in)));
        return MLF_ETYPE;
    }
    *out = mlf_value_int((int64_t)n);
    return *out ? MLF_OK : MLF_ENOMEM;
}

/* 1 when the NUL-terminated @p s is empty or all whitespace. */
static int blank(const char *s)
{
    while (*s && is_space(*s))
        s++;
    return *s == '\0';
}

/* Truncates @p d to an integer when it is finite and in range. */
static int float_to_int(double d, int64_t *i)
{
    if (!isfinite(d))
        return -1;
    d = trunc(d);
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) /* -2^63 and 2^63 are exact */
        return -1;
    *i = (int64_t)d;
    return 0;
}

/* A str as a number in *d (finite or not): 0 when it is one whole number, surrounded by spaces. */
static int parse_float(const mlf_value *in, double *d)
{
    size_t n;
    const char *s = mlf_value_get_str(in, &n);
    if (!s || strlen(s) != n || blank(s))
        return -1;
    char *end;
    errno = 0;
    *d = strtod(s, &end);
    return end != s && blank(end) && !(errno == ERANGE && isinf(*d)) ? 0 : -1;
}

static int f_int(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                 size_t errlen)
{
    int64_t base = 10, i = 0;
    if (nargs > 1 && (mlf_value_get_int(args[1], &base) != MLF_OK || base < 2 || base > 36)) {
        snprintf(err, errlen, "the base must be an integer from 2 to 36");
        return MLF_ERANGE;
    }
    int ok = 0;
    double d;
    switch (mlf_value_type(in)) {
    case MLF_INT: ok = mlf_value_get_int(in, &i) == MLF_OK; break;
    case MLF_BOOL: {
        int b = 0;
        ok = mlf_value_get_bool(in, &b) == MLF_OK;
        i = b;
        break;
    }
    case MLF_FLOAT: ok = mlf_value_get_float(in, &d) == MLF_OK && float_to_int(d, &i) == 0; break;
    case MLF_STR: {
        size_t n;
        const char *s = mlf_value_get_str(in, &n);
        char *end;
        errno = 0;
        long long ll = strtoll(s, &end, (int)base);
        if (strlen(s) == n && end != s && blank(end) && errno == 0) {
            i = (int64_t)ll;
            ok = 1;
        } else if (base == 10 && parse_float(in, &d) == 0) { /* "3.7" is 3, as in Jinja */
            ok = float_to_int(d, &i) == 0;
        }
        break;
    }
    default: break;
    }
    if (!ok) /* Jinja gives the default (0 unless told) for anything it cannot convert */
        *out = nargs ? mlf_value_copy(args[0]) : mlf_value_int(0);
    else
        *out = mlf_value_int(i);
    return *out ? MLF_OK : MLF_ENOMEM;
}

static int f_float(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                   size_t errlen)
{
    (void)err, (void)errlen;
    double d = 0;
    int ok = 0;
    switch (mlf_value_type(in)) {
    case MLF_INT:
    case MLF_FLOAT: ok = mlf_value_get_float(in, &d) == MLF_OK; break;
    case MLF_BOOL: {
        int b = 0;
        ok = mlf_value_get_bool(in, &b) == MLF_OK;
        d = b;
        break;
    }
    case MLF_STR: ok = parse_float(in, &d) == 0; break;
    default: break;
    }
    if (!ok)
        *out = nargs ? mlf_value_copy(args[0]) : mlf_value_float(0.0);
    else
        *out = mlf_value_float(d);
    return *out ? MLF_OK : MLF_ENOMEM;
}

static int f_string(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                    size_t errlen)
{
    (void)args, (void)nargs;
    char *tmp;
    size_t n;
    const char *s = tpl_text_of(in, &n, &tmp);
    int rc = s ? new_str(s, n, out, err, errlen) : MLF_ENOMEM;
    free(tmp);
    return rc;
}

static int f_tojson(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                    size_t errlen)
{
    (void)args, (void)nargs;
    char *json = NULL;
    int rc = mlf_value_to_json(in, &json);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "%s", mlf_strerror(rc));
        return rc;
    }
    rc = new_str(json, strlen(json), out, err, errlen);
    free(json);
    return rc;
}

/* The UTC offset in seconds written at the end of timestamp @p s ("Z", "+HH:MM", "-HHMM", "+HH" after its
 * time of day); 0 when it has none (a date, or a time without an offset: UTC). */
static long written_offset(const char *s)
{
    const char *tpos = strpbrk(s, "Tt ");
    if (!tpos)
        return 0;
    const char *sign = NULL;
    for (const char *p = tpos + 1; *p; p++)
        if (*p == '+' || *p == '-')
            sign = p;
    if (!sign)
        return 0;
    int hh = 0, mm = 0;
    const char *d = sign + 1;
    if (strlen(d) >= 2 && isdigit((unsigned char)d[0]) && isdigit((unsigned char)d[1])) {
        hh = (d[0] - '0') * 10 + (d[1] - '0');
        d += 2;
        if (*d == ':')
            d++;
        if (strlen(d) >= 2 && isdigit((unsigned char)d[0]) && isdigit((unsigned char)d[1]))
            mm = (d[0] - '0') * 10 + (d[1] - '0');
    }
    long off = (long)hh * 3600 + (long)mm * 60;
    return *sign == '-' ? -off : off;
}

/* Airflow's date filters (x | ds, x | ts_nodash ...): the value is a date or timestamp string (what ds, ts,
 * logical_date and data_interval_* render to; RFC 3339, UTC unless it has an offset), formatted in the
 * offset it was written with, as Airflow formats a datetime in its own zone (ts keeps "+01:00"). */
static int date_filter(const mlf_value *in, int (*fmt)(mlf_time_us, char *, size_t), const char *name,
                       mlf_value **out, char *err, size_t errlen)
{
    char *tmp;
    size_t n;
    const char *s = tpl_text_of(in, &n, &tmp);
    if (!s)
        return MLF_ENOMEM;
    char text[80], perr[160], buf[64];
    mlf_time_us t;
    int rc = MLF_EPARSE;
    if (n < sizeof text) {
        memcpy(text, s, n);
        text[n] = '\0';
        rc = mlf_time_parse(text, NULL, &t, perr, sizeof perr);
    }
    free(tmp);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "filter '%s' needs a date or timestamp (such as ts or data_interval_start), got %s",
                 name, n < sizeof text ? perr : "a long string");
        return MLF_ETYPE;
    }
    long off = written_offset(text);
    if ((rc = fmt(t + (mlf_time_us)off * 1000000, buf, sizeof buf)) != MLF_OK)
        return rc;
    /* the wall-clock time of that offset is formatted as UTC's: put the offset in place of UTC's */
    size_t len = strlen(buf);
    unsigned hh = (unsigned)((off < 0 ? -off : off) / 3600 % 100), mm = (unsigned)((off < 0 ? -off : off) / 60 % 60);
    if (len > 6 && strcmp(buf + len - 6, "+00:00") == 0)
        snprintf(buf + len - 6, 7, "%c%02u:%02u", off < 0 ? '-' : '+', hh, mm);
    else if (len > 5 && strcmp(buf + len - 5, "+0000") == 0) /* Airflow removes every '-', the sign's too */
        snprintf(buf + len - 5, 6, "%s%02u%02u", off < 0 ? "" : "+", hh, mm);
    return new_str(buf, strlen(buf), out, err, errlen);
}

#define DATE_FILTER(fname, fmtfn)                                                                                 \
    static int f_##fname(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out,     \
                         char *err, size_t errlen)                                                           \
    {                                                                                                        \
        (void)args, (void)nargs;                                                                             \
        return date_filter(in, fmtfn, #fname, out, err, errlen);                                             \
    }
DATE_FILTER(ds, mlf_time_format_ds)
DATE_FILTER(ds_nodash, mlf_time_format_ds_nodash)
DATE_FILTER(ts, mlf_time_format_ts)
DATE_FILTER(ts_nodash, mlf_time_format_ts_nodash)
DATE_FILTER(ts_nodash_with_tz, mlf_time_format_ts_nodash_with_tz)

/* x | shell_quote: the text of x as one POSIX shell word, in single quotes ('it'\''s'): safe to template
 * into a shell command whatever x holds. (Better still: pass untrusted values through a task's env.) */
static int f_shell_quote(const mlf_value *in, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                         size_t errlen)
{
    (void)args, (void)nargs;
    char *tmp;
    size_t n;
    const char *s = tpl_text_of(in, &n, &tmp);
    if (!s)
        return MLF_ENOMEM;
    mlf_buf b = {0};
    mlf_buf_puts(&b, "'");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            mlf_buf_puts(&b, "'\\''");
        else
            mlf_buf_append(&b, s + i, 1);
    }
    mlf_buf_puts(&b, "'");
    free(tmp);
    if (!b.data)
        return MLF_ENOMEM;
    int rc = new_str(b.data, b.len, out, err, errlen);
    mlf_buf_free(&b);
    return rc;
}

static const tpl_filter filters[] = {
    {"count", 0, 0, f_length},     {"d", 0, 2, NULL},          {"default", 0, 2, NULL},
    {"float", 0, 1, f_float},      {"int", 0, 2, f_int},       {"join", 0, 1, f_join},
    {"length", 0, 0, f_length},    {"lower", 0, 0, f_lower},   {"replace", 2, 3, f_replace},
    {"string", 0, 0, f_string},    {"tojson", 0, 0, f_tojson}, {"trim", 0, 1, f_trim},
    {"upper", 0, 0, f_upper},      {"shell_quote", 0, 0, f_shell_quote},
    {"ds", 0, 0, f_ds},            {"ds_nodash", 0, 0, f_ds_nodash}, {"ts", 0, 0, f_ts},
    {"ts_nodash", 0, 0, f_ts_nodash}, {"ts_nodash_with_tz", 0, 0, f_ts_nodash_with_tz},
};

const tpl_filter *tpl_filter_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (strlen(filters[i].name) == len && memcmp(filters[i].name, name, len) == 0)
            return &filters[i];
    return NULL;
}

const char *tpl_filter_suggest(const char *name, size_t len)
{
    enum { NFILTERS = sizeof filters / sizeof filters[0] };
    const char *names[NFILTERS];
    char word[MLF_SUGGEST_MAX_LEN + 1];
    if (len > MLF_SUGGEST_MAX_LEN)
        return NULL;
    memcpy(word, name, len);
    word[len] = '\0';
    for (size_t i = 0; i < NFILTERS; i++)
        names[i] = filters[i].name;
    return mlf_suggest(word, names, NFILTERS);
}
