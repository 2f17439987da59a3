/* timefmt.c -- parse dates/RFC 3339 timestamps; format ds, ts, ISO 8601 and strftime-style strings. */
#include "time/timefmt.h"

#include <time.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/strutil.h"

/* ------------------------------------------------------------------------------ parsing */

/* Reads exactly @p n digits. */
static int read_digits(const char **pp, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*pp)[i]))
            return 0;
        v = v * 10 + ((*pp)[i] - '0');
    }
    *pp += n;
    *out = v;
    return 1;
}

static int field_range(const char *s, const char *what, int v, int lo, int hi, char *err, size_t errlen)
{
    if (v >= lo && v <= hi)
        return 1;
    snprintf(err, errlen, "invalid date/time \"%s\": %s %d is out of range %d-%d", s, what, v, lo, hi);
    return 0;
}

static int parse_time_of_day(const char *s, const char **pp, mlf_civil *c, char *err, size_t errlen)
{
    const char *p = *pp;
    if (!read_digits(&p, 2, &c->hour) || *p++ != ':' || !read_digits(&p, 2, &c->minute)) {
        snprintf(err, errlen, "invalid time in \"%s\": expected HH:MM[:SS[.ffffff]] after the date", s);
        return 0;
    }
    if (*p == ':') {
        p++;
        if (!read_digits(&p, 2, &c->second)) {
            snprintf(err, errlen, "invalid time in \"%s\": expected two digits of seconds after HH:MM:", s);
            return 0;
        }
        if (*p == '.' || *p == ',') {
            p++;
            int digits = 0;
            for (; isdigit((unsigned char)*p); p++, digits++)
                if (digits < 6)
                    c->usec = c->usec * 10 + (*p - '0');
            if (digits == 0 || digits > 9) {
                snprintf(err, errlen, "invalid time in \"%s\": a fraction of a second needs 1 to 9 digits", s);
                return 0;
            }
            for (; digits < 6; digits++)
                c->usec *= 10;
        }
    }
    if (!field_range(s, "hour", c->hour, 0, 23, err, errlen) ||
        !field_range(s, "minute", c->minute, 0, 59, err, errlen) ||
        !field_range(s, "second", c->second, 0, 59, err, errlen))
        return 0;
    *pp = p;
    return 1;
}

static int parse_offset(const char *s, const char **pp, int32_t *utoff, char *err, size_t errlen)
{
    const char *p = *pp;
    if (*p == 'Z' || *p == 'z') {
        *utoff = 0;
        *pp = p + 1;
        return 1;
    }
    int sign = *p++ == '-' ? -1 : 1, hh, mm = 0;
    if (!read_digits(&p, 2, &hh)) {
        snprintf(err, errlen, "invalid offset in \"%s\": expected Z, +HH:MM or -HH:MM", s);
        return 0;
    }
    if (*p == ':' || isdigit((unsigned char)*p)) {
        if (*p == ':')
            p++;
        if (!read_digits(&p, 2, &mm)) {
            snprintf(err, errlen, "invalid offset in \"%s\": expected Z, +HH:MM or -HH:MM", s);
            return 0;
        }
    }
    if (!field_range(s, "offset hour", hh, 0, 23, err, errlen) ||
        !field_range(s, "offset minute", mm, 0, 59, err, errlen))
        return 0;
    *utoff = sign * (hh * 3600 + mm * 60);
    *pp = p;
    return 1;
}

int mlf_time_parse_parts(const char *in, mlf_time_parts *out, char *err, size_t errlen)
{
    if (!in || !out) {
        snprintf(err, errlen, "date/time: NULL argument");
        return MLF_EINVAL;
    }
    while (isspace((unsigned char)*in))
        in++;
    size_t len = strlen(in);
    while (len > 0 && isspace((unsigned char)in[len - 1]))
        len--;
    char s[64];
    if (len >= sizeof s) {
        snprintf(err, errlen, "invalid date/time \"%.40s...\": too long", in);
        return MLF_EPARSE;
    }
    memcpy(s, in, len);
    s[len] = '\0';

    mlf_time_parts r;
    memset(&r, 0, sizeof r);
    const char *p = s;
    int year;
    if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &r.civil.month) || *p++ != '-' ||
        !read_digits(&p, 2, &r.civil.day)) {
        snprintf(err, errlen, "invalid date \"%s\": expected YYYY-MM-DD, optionally followed by a time", s);
        return MLF_EPARSE;
    }
    r.civil.year = year;
    if (!field_range(s, "year", year, 1, 9999, err, errlen) ||
        !field_range(s, "month", r.civil.month, 1, 12, err, errlen))
        return MLF_EPARSE;
    int dim = mlf_days_in_month(year, r.civil.month);
    if (r.civil.day < 1 || r.civil.day > dim) {
        snprintf(err, errlen, "invalid date \"%s\": day %d is out of range 1-%d for %s %d", s, r.civil.day, dim,
                 mlf_month_name(r.civil.month), year);
        return MLF_EPARSE;
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!parse_time_of_day(s, &p, &r.civil, err, errlen))
            return MLF_EPARSE;
        r.has_time = 1;
        if (*p == 'Z' || *p == 'z' || *p == '+' || *p == '-') {
            if (!parse_offset(s, &p, &r.utoff, err, errlen))
                return MLF_EPARSE;
            r.has_offset = 1;
        }
    }
    if (*p) {
        snprintf(err, errlen, "invalid date/time \"%s\": unexpected \"%s\" at the end", s, p);
        return MLF_EPARSE;
    }
    *out = r;
    return MLF_OK;
}

int mlf_time_parse(const char *s, const mlf_tz *tz, mlf_time_us *out, char *err, size_t errlen)
{
    mlf_time_parts parts;
    if (!out) {
        snprintf(err, errlen, "date/time: NULL argument");
        return MLF_EINVAL;
    }
    int rc = mlf_time_parse_parts(s, &parts, err, errlen);
    if (rc != MLF_OK)
        return rc;
    int64_t wall;
    if (mlf_time_from_civil(&parts.civil, &wall) != MLF_OK) { /* fields were checked: cannot happen */
        snprintf(err, errlen, "invalid date/time \"%s\"", s);
        return MLF_EPARSE;
    }
    if (parts.has_offset)
        *out = wall - (int64_t)parts.utoff * MLF_US_PER_SEC;
    else
        *out = mlf_tz_from_local(tz ? tz : mlf_tz_utc(), wall, MLF_TZ_FOLD_EARLIER);
    return MLF_OK;
}

/* ------------------------------------------------------------------------------ fixed formats */

/* Copies the formatted @p tmp into the caller's buffer. */
static int finish(const char *tmp, char *buf, size_t n)
{
    return mlf_strlcpy(buf, tmp, n) < n ? MLF_OK : MLF_ERANGE;
}

/* A fixed format through mlf_time_strftime() (which never fails on these formats but for room). */
static int format_with(const char *fmt, mlf_time_us t, char *buf, size_t n)
{
    return n == 0 ? MLF_ERANGE : mlf_time_strftime(fmt, t, buf, n, NULL, 0);
}

int mlf_time_format_ds(mlf_time_us t, char *buf, size_t n)
{
    return format_with("%Y-%m-%d", t, buf, n);
}

int mlf_time_format_ds_nodash(mlf_time_us t, char *buf, size_t n)
{
    return format_with("%Y%m%d", t, buf, n);
}

int mlf_time_format_ts_nodash(mlf_time_us t, char *buf, size_t n)
{
    return format_with("%Y%m%dT%H%M%S", t, buf, n);
}

int mlf_time_format_iso(mlf_time_us t, const mlf_tz *tz, unsigned flags, char *buf, size_t n)
{
    int32_t utoff = tz ? mlf_tz_utoff_at(tz, t) : 0;
    mlf_civil c;
    char tmp[MLF_TIME_FMT_MAX];
    mlf_civil_from_time(mlf_add_sat(t, (int64_t)utoff * MLF_US_PER_SEC), &c);
    int len = snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day,
                       c.hour, c.minute, c.second);
    if (!(flags & MLF_ISO_SECONDS) && (c.usec || (flags & MLF_ISO_MICROS)))
        len += snprintf(tmp + len, sizeof tmp - (size_t)len, ".%06d", c.usec);
    if (utoff == 0 && (flags & MLF_ISO_ZULU)) {
        snprintf(tmp + len, sizeof tmp - (size_t)len, "Z");
    } else {
        int32_t a = utoff < 0 ? -utoff : utoff;
        len += snprintf(tmp + len, sizeof tmp - (size_t)len, "%c%02d:%02d", utoff < 0 ? '-' : '+', a / 3600,
                        a / 60 % 60);
        if (a % 60) /* Python writes seconds of an offset only when there are some */
            snprintf(tmp + len, sizeof tmp - (size_t)len, ":%02d", a % 60);
    }
    return finish(tmp, buf, n);
}

int mlf_time_format_ts(mlf_time_us t, char *buf, size_t n)
{
    return mlf_time_format_iso(t, NULL, 0, buf, n);
}

int mlf_time_format_ts_nodash_with_tz(mlf_time_us t, char *buf, size_t n)
{
    char iso[MLF_TIME_FMT_MAX], tmp[MLF_TIME_FMT_MAX];
    mlf_time_format_iso(t, NULL, 0, iso, sizeof iso);
    size_t j = 0;
    for (const char *p = iso; *p; p++)
        if (*p != '-' && *p != ':')
            tmp[j++] = *p;
    tmp[j] = '\0';
    return finish(tmp, buf, n);
}

/* ------------------------------------------------------------------------------ strftime */

typedef struct out {
    char *buf;
    size_t n, len;
    int overflow;
} out;

static void emit(out *o, const char *s, size_t len)
{
    if (o->len + len >= o->n) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, len);
    o->len += len;
    o->buf[o->len] = '\0';
}

static void emitf(out *o, const char *fmt, ...) MLF_PRINTF(2, 3);
static void emitf(out *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    emit(o, tmp, (size_t)len);
}

int mlf_time_strftime(const char *fmt, mlf_time_us t, char *buf, size_t n, char *err, size_t errlen)
{
    if (!fmt || !buf || n == 0) {
        snprintf(err, errlen, "strftime: NULL argument or empty buffer");
        return MLF_EINVAL;
    }
    mlf_civil c;
    mlf_civil_from_time(t, &c);
    out o = {buf, n, 0, 0};
    buf[0] = '\0';
    for (const char *p = fmt; *p && !o.overflow; p++) {
        if (*p != '%') {
            emit(&o, p, 1);
            continue;
        }
        char conv = *++p;
        int h12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
        switch (conv) {
        case 'Y': emitf(&o, "%04" PRId64, c.year); break;
        case 'm': emitf(&o, "%02d", c.month); break;
        case 'd': emitf(&o, "%02d", c.day); break;
        case 'e': emitf(&o, "%2d", c.day); break;
        case 'H': emitf(&o, "%02d", c.hour); break;
        case 'I': emitf(&o, "%02d", h12); break;
        case 'M': emitf(&o, "%02d", c.minute); break;
        case 'S': emitf(&o, "%02d", c.second); break;
        case 'f': emitf(&o, "%06d", c.usec); break;
        case 'p': emit(&o, c.hour < 12 ? "AM" : "PM", 2); break;
        case 'y': emitf(&o, "%02d", (int)mlf_floor_mod(c.year, 100)); break;
        case 'C': emitf(&o, "%02" PRId64, mlf_floor_div(c.year, 100)); break;
        case 'j': emitf(&o, "%03d", c.yday + 1); break;
        case 'a': emit(&o, mlf_weekday_name(c.wday), 3); break;
        case 'A': emit(&o, mlf_weekday_name(c.wday), strlen(mlf_weekday_name(c.wday))); break;
        case 'b':
        case 'h': emit(&o, mlf_month_name(c.month), 3); break;
        case 'B': emit(&o, mlf_month_name(c.month), strlen(mlf_month_name(c.month))); break;
        case 'u': emitf(&o, "%d", c.wday == 0 ? 7 : c.wday); break;
        case 'w': emitf(&o, "%d", c.wday); break;
        case 's': emitf(&o, "%" PRId64, mlf_floor_div(t, MLF_US_PER_SEC)); break;
        case 'z': emit(&o, "+0000", 5); break;
        case 'Z': emit(&o, "UTC", 3); break;
        case 'F': emitf(&o, "%04" PRId64 "-%02d-%02d", c.year, c.month, c.day); break;
        case 'T': emitf(&o, "%02d:%02d:%02d", c.hour, c.minute, c.second); break;
        case 'R': emitf(&o, "%02d:%02d", c.hour, c.minute); break;
        case 'D': emitf(&o, "%02d/%02d/%02d", c.month, c.day, (int)mlf_floor_mod(c.year, 100)); break;
        case 'n': emit(&o, "\n", 1); break;
        case 't': emit(&o, "\t", 1); break;
        case '%': emit(&o, "%", 1); break;
        default:
            if (conv == '\0')
                snprintf(err, errlen, "strftime: format \"%s\" ends with a lone %%", fmt);
            else
                snprintf(err, errlen, "strftime: unknown conversion %%%c in \"%s\"", conv, fmt);
            buf[0] = '\0';
            return MLF_EINVAL;
        }
    }
    if (o.overflow) {
        snprintf(err, errlen, "strftime: output of \"%s\" does not fit in %zu bytes", fmt, n);
        return MLF_ERANGE;
    }
    return MLF_OK;
}

mlf_time_us mlf_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
