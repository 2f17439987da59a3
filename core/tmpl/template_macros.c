/*
 * template_macros.c -- the built-in template macros ds_add and ds_format, and the subset of Python's
 * strptime they need to read dates. Output goes through mlf_time_strftime() (timefmt.c).
 */
#include "tmpl/template_macros.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/civil.h"
#include "tmpl/template.h"
#include "time/timefmt.h"

/* ------------------------------------------------------------------------------------------ strptime */

/* What a strptime format read from a date string. Python's defaults: 1900-01-01 00:00:00. */
typedef struct fields {
    int year, month, day, hour, minute, second, usec;
    int julian; /* %j (1-366), 0 when not given */
    int hour12; /* hour came from %I (1-12) */
    int pm;     /* %p: -1 not given, 0 AM, 1 PM */
} fields;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Reads the widest number of @p maxw down to @p minw digits at *@p sp whose value lies in [lo, hi]: what
 * Python's regular expression for each numeric directive amounts to. */
static int read_num(const char **sp, int minw, int maxw, int lo, int hi, int *out)
{
    const char *s = *sp;
    for (int w = maxw; w >= minw; w--) {
        int v = 0, k = 0;
        while (k < w && is_digit(s[k]))
            v = v * 10 + (s[k++] - '0');
        if (k == w && v >= lo && v <= hi) {
            *sp = s + w;
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Reads one of the @p count English names given by @p name_of (or their first three letters when
 * @p abbrev), in any case, at *@p sp; stores its index plus @p base in *out. */
static int read_name(const char **sp, const char *(*name_of)(int), int base, int count, int abbrev, int *out)
{
    for (int i = 0; i < count; i++) {
        const char *name = name_of(i + base);
        size_t n = abbrev ? 3 : strlen(name), k = 0;
        while (k < n && (*sp)[k] && lower((*sp)[k]) == lower(name[k]))
            k++;
        if (k == n) {
            *sp += n;
            *out = i + base;
            return 0;
        }
    }
    return -1;
}

/* Reads @p s (NUL-terminated) with strptime format @p fmt into @p f. */
static int read_fields(const char *s, const char *fmt, fields *f, char *err, size_t errlen)
{
    *f = (fields){.year = 1900, .month = 1, .day = 1, .pm = -1};
    const char *p = s;
    for (const char *q = fmt; *q;) {
        if (is_space(*q)) { /* a run of white space matches one or more white space characters */
            while (is_space(*q))
                q++;
            if (!is_space(*p))
                goto mismatch;
            while (is_space(*p))
                p++;
            continue;
        }
        if (*q != '%') {
            if (!*p || lower(*p) != lower(*q))
                goto mismatch;
            p++, q++;
            continue;
        }
        char d = q[1];
        if (!d) {
            snprintf(err, errlen, "stray %% at the end of format '%.64s'", fmt);
            return MLF_EINVAL;
        }
        q += 2;
        int rc = 0, ignored;
        switch (d) {
        case 'Y': rc = read_num(&p, 4, 4, 0, 9999, &f->year); break;
        case 'y':
            rc = read_num(&p, 2, 2, 0, 99, &f->year);
            f->year += f->year <= 68 ? 2000 : 1900; /* Python's pivot */
            break;
        case 'm': rc = read_num(&p, 1, 2, 1, 12, &f->month); break;
        case 'd':
            if (p[0] == ' ' && p[1] >= '1' && p[1] <= '9') { /* space-padded, as %e writes it */
                f->day = p[1] - '0';
                p += 2;
            } else {
                rc = read_num(&p, 1, 2, 1, 31, &f->day);
            }
            break;
        case 'H':
            rc = read_num(&p, 1, 2, 0, 23, &f->hour);
            f->hour12 = 0;
            break;
        case 'I':
            rc = read_num(&p, 1, 2, 1, 12, &f->hour);
            f->hour12 = 1;
            break;
        case 'M': rc = read_num(&p, 1, 2, 0, 59, &f->minute); break;
        case 'S': rc = read_num(&p, 1, 2, 0, 61, &f->second); break;
        case 'f': {
            int k = 0;
            f->usec = 0;
            for (; k < 6 && is_digit(p[k]); k++)
                f->usec = f->usec * 10 + (p[k] - '0');
            rc = k ? 0 : -1;
            for (int pad = k; pad < 6; pad++)
                f->usec *= 10;
            p += k;
            break;
        }
        case 'j': rc = read_num(&p, 1, 3, 1, 366, &f->julian); break;
        case 'b':
        case 'h': rc = read_name(&p, mlf_month_name, 1, 12, 1, &f->month); break;
        case 'B': rc = read_name(&p, mlf_month_name, 1, 12, 0, &f->month); break;
        case 'a': rc = read_name(&p, mlf_weekday_name, 0, 7, 1, &ignored); break;
        case 'A': rc = read_name(&p, mlf_weekday_name, 0, 7, 0, &ignored); break;
        case 'p':
            if ((lower(p[0]) == 'a' || lower(p[0]) == 'p') && lower(p[1]) == 'm') {
                f->pm = lower(p[0]) == 'p';
                p += 2;
            } else {
                rc = -1;
            }
            break;
        case '%': rc = *p == '%' ? (p++, 0) : -1; break;
        default:
            if (strchr("zZUWcxXGVuw", d))
                snprintf(err, errlen, "%%%c is not supported in input formats yet", d);
            else
                snprintf(err, errlen, "'%c' is a bad directive in format '%.64s'", d, fmt);
            return MLF_EINVAL;
        }
        if (rc != 0)
            goto mismatch;
    }
    if (*p) {
        snprintf(err, errlen, "unconverted data remains: '%.64s'", p);
        return MLF_EPARSE;
    }
    return MLF_OK;
mismatch:
    snprintf(err, errlen, "time data '%.64s' does not match format '%.64s'", s, fmt);
    return MLF_EPARSE;
}

/* The date of @p t lies in years 1-9999. */
static int check_year(mlf_time_us t, char *err, size_t errlen)
{
    mlf_civil c;
    mlf_civil_from_time(t, &c);
    if (c.year >= 1 && c.year <= 9999)
        return MLF_OK;
    snprintf(err, errlen, "date value out of range (years 1 to 9999)");
    return MLF_ERANGE;
}

/* Parses the @p n bytes of @p s with strptime format @p fmt into the instant *t (UTC). */
static int parse_date(const char *s, size_t n, const char *fmt, mlf_time_us *t, char *err, size_t errlen)
{
    fields f;
    if (strlen(s) != n) {
        snprintf(err, errlen, "time data '%.64s' does not match format '%.64s'", s, fmt);
        return MLF_EPARSE;
    }
    int rc = read_fields(s, fmt, &f, err, errlen);
    if (rc != MLF_OK)
        return rc;
    if (f.year < 1) {
        snprintf(err, errlen, "year 0 is out of range");
        return MLF_ERANGE;
    }
    if (f.second > 59) {
        snprintf(err, errlen, "second must be in 0..59");
        return MLF_ERANGE;
    }
    int hour = f.hour;
    if (f.hour12 && f.pm == 1)
        hour = hour == 12 ? 12 : hour + 12;
    else if (f.hour12)
        hour = hour == 12 ? 0 : hour;
    int64_t days;
    if (f.julian) { /* %j decides the date, as in Python */
        days = mlf_days_from_civil(f.year, 1, 1) + f.julian - 1;
    } else if (f.day > mlf_days_in_month(f.year, f.month)) {
        snprintf(err, errlen, "day is out of range for month");
        return MLF_ERANGE;
    } else {
        days = mlf_days_from_civil(f.year, f.month, f.day);
    }
    *t = days * MLF_US_PER_DAY + hour * MLF_US_PER_HOUR + f.minute * MLF_US_PER_MIN + f.second * MLF_US_PER_SEC +
         f.usec;
    return check_year(*t, err, errlen);
}

/* ------------------------------------------------------------------------------------------ macros */

/* @p t written with strftime format @p fmt, as a new str in *out. */
static int format_date(mlf_time_us t, const char *fmt, mlf_value **out, char *err, size_t errlen)
{
    for (size_t size = strlen(fmt) * 4 + 64;; size *= 2) {
        if (size > 2 * (size_t)MLF_TEMPLATE_MAX_STRING) {
            snprintf(err, errlen, "the result would be longer than %u bytes", MLF_TEMPLATE_MAX_STRING);
            return MLF_ETOOBIG;
        }
        char *buf = malloc(size);
        if (!buf)
            return MLF_ENOMEM;
        int rc = mlf_time_strftime(fmt, t, buf, size, err, errlen);
        if (rc == MLF_OK && strlen(buf) > MLF_TEMPLATE_MAX_STRING) {
            snprintf(err, errlen, "the result would be longer than %u bytes", MLF_TEMPLATE_MAX_STRING);
            rc = MLF_ETOOBIG;
        } else if (rc == MLF_OK) {
            if (errlen)
                err[0] = '\0';
            *out = mlf_value_str(buf);
            rc = *out ? MLF_OK : MLF_ENOMEM;
        }
        free(buf);
        if (rc != MLF_ERANGE)
            return rc;
    }
}

/* The str argument @p v (without NUL characters), or NULL after writing why not into @p err. */
static const char *str_arg(const mlf_value *v, const char *what, int *rc, char *err, size_t errlen)
{
    size_t n;
    const char *s = mlf_value_get_str(v, &n);
    if (!s) {
        snprintf(err, errlen, "%s must be a string, got %s", what, mlf_type_name(mlf_value_type(v)));
        *rc = MLF_ETYPE;
    } else if (strlen(s) != n) {
        snprintf(err, errlen, "%s contains a NUL character", what);
        *rc = MLF_EINVAL;
        s = NULL;
    }
    return s;
}

/* ds_add(ds, days): Airflow's macros.ds_add. */
static int ds_add(const mlf_value *const *args, size_t nargs, mlf_value **out, char *err, size_t errlen,
                  void *data)
{
    (void)nargs, (void)data;
    int rc = MLF_OK;
    int64_t days = 0;
    const char *ds = str_arg(args[0], "ds", &rc, err, errlen);
    if (!ds)
        return rc;
    if (mlf_value_type(args[1]) != MLF_INT || mlf_value_get_int(args[1], &days) != MLF_OK) {
        snprintf(err, errlen, "days must be an integer, got %s", mlf_type_name(mlf_value_type(args[1])));
        return MLF_ETYPE;
    }
    if (days == 0) { /* Airflow returns ds as it is */
        *out = mlf_value_str(ds);
        return *out ? MLF_OK : MLF_ENOMEM;
    }
    mlf_time_us t;
    if ((rc = parse_date(ds, strlen(ds), "%Y-%m-%d", &t, err, errlen)) != MLF_OK)
        return rc;
    if (days > 4000000 || days < -4000000) { /* more than 10000 years either way */
        snprintf(err, errlen, "date value out of range (years 1 to 9999)");
        return MLF_ERANGE;
    }
    t += days * MLF_US_PER_DAY;
    if ((rc = check_year(t, err, errlen)) != MLF_OK)
        return rc;
    return format_date(t, "%Y-%m-%d", out, err, errlen);
}

/* ds_format(ds, input_format, output_format): Airflow's macros.ds_format. */
static int ds_format(const mlf_value *const *args, size_t nargs, mlf_value **out, char *err, size_t errlen,
                     void *data)
{
    (void)nargs, (void)data;
    int rc = MLF_OK;
    const char *ds = str_arg(args[0], "ds", &rc, err, errlen);
    const char *in = ds ? str_arg(args[1], "input_format", &rc, err, errlen) : NULL;
    const char *outfmt = in ? str_arg(args[2], "output_format", &rc, err, errlen) : NULL;
    if (!outfmt)
        return rc;
    mlf_time_us t;
    if ((rc = parse_date(ds, strlen(ds), in, &t, err, errlen)) != MLF_OK)
        return rc;
    return format_date(t, outfmt, out, err, errlen);
}

static const mlf_macro_desc builtins[] = {
    {.struct_size = sizeof(mlf_macro_desc),
     .name = "ds_add",
     .help = "ds_add(ds, days): the date ds (YYYY-MM-DD) moved by days (negative goes back), as YYYY-MM-DD",
     .min_args = 2,
     .max_args = 2,
     .call = ds_add},
    {.struct_size = sizeof(mlf_macro_desc),
     .name = "ds_format",
     .help = "ds_format(ds, input_format, output_format): ds read with the strptime input_format, written "
             "with the strftime output_format",
     .min_args = 3,
     .max_args = 3,
     .call = ds_format},
};

const mlf_macro_desc *mlf_template_builtin_macros(size_t *count)
{
    *count = sizeof builtins / sizeof builtins[0];
    return builtins;
}

int mlf_template_call_builtin(void *ud, const char *name, const mlf_value *const *args, size_t nargs,
                              mlf_value **out, char *err, size_t errlen)
{
    (void)ud;
    if (errlen)
        err[0] = '\0';
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        const mlf_macro_desc *m = &builtins[i];
        if (strcmp(m->name, name) != 0)
            continue;
        if (nargs != (size_t)m->min_args) { /* every built-in takes a fixed count */
            snprintf(err, errlen, "takes %d arguments, got %zu", m->min_args, nargs);
            return MLF_EINVAL;
        }
        return m->call(args, nargs, out, err, errlen, m->data);
    }
    return MLF_ENOTFOUND;
}
