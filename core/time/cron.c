/* cron.c -- parse 5-field cron expressions; find next/previous fire times in wall-clock and zoned time. */
#include "time/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "time/civil.h"

#define DOM_RESTRICTED 1
#define DOW_RESTRICTED 2

#define ALL_HOURS ((UINT32_C(1) << 24) - 1)
#define ALL_MDAYS (((UINT32_C(1) << 31) - 1) << 1)
#define ALL_WDAYS ((uint8_t)0x7f)

/* Searches give up past this many years: a valid expression fires at least every 8 years (Feb 29). */
#define MAX_SEARCH_YEARS 400
/* Keep wall-clock arithmetic far from the int64 microsecond limits (about +-292,277 years). */
#define MAX_YEAR 290000

static const struct preset {
    const char *name, *expr;
} PRESETS[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},      {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"},    {"@quarterly", "0 0 1 */3 *"},
    {"@yearly", "0 0 1 1 *"},   {"@annually", "0 0 1 1 *"},
};
#define PRESET_NAMES "@hourly, @daily, @midnight, @weekly, @monthly, @quarterly, @yearly, @annually"

static const struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names of the values lo, lo+1...; NULL when the field has none */
    int nnames;
    const char *allowed; /* for messages */
} FIELDS[5] = {
    {"minute", 0, 59, NULL, 0, "0-59"},
    {"hour", 0, 23, NULL, 0, "0-23"},
    {"day-of-month", 1, 31, NULL, 0, "1-31"},
    {"month", 1, 12,
     (const char *const[]){"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, 12,
     "1-12 or jan-dec"},
    {"day-of-week", 0, 7, (const char *const[]){"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 7,
     "0-7 or sun-sat"},
};
#define DOW_FIELD (&FIELDS[4])

const char *mlf_cron_preset(const char *name)
{
    for (size_t i = 0; name && i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (strcasecmp(PRESETS[i].name, name) == 0)
            return PRESETS[i].expr;
    return NULL;
}

/* ------------------------------------------------------------------------------ parsing */

/* 1 for Quartz-only forms: "L", "5L", "15W", "LW", "5#3", "?". */
static int is_quartz(const char *s, int len)
{
    if (memchr(s, '#', (size_t)len) || memchr(s, '?', (size_t)len))
        return 1;
    int end = len;
    while (end > 0 && strchr("LlWw", s[end - 1]))
        end--;
    if (end == len)
        return 0;
    for (int i = 0; i < end; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Reads a number or (where the field has names) a name at *pp; the token ends at '-', '/', ',' or NUL. */
static int read_value(const struct field *f, const char **pp, int *out, char *err, size_t errlen)
{
    const char *p = *pp, *start = p;
    while (*p && *p != '-' && *p != '/' && *p != ',')
        p++;
    int len = (int)(p - start);
    if (len == 0) {
        snprintf(err, errlen, "%s field: missing value (allowed: %s)", f->name, f->allowed);
        return 0;
    }
    if (is_quartz(start, len)) {
        snprintf(err, errlen, "%s field: \"%.*s\" is not supported (Quartz-style L, W, # and ? are not part of "
                 "Vixie cron; allowed: %s)", f->name, len, start, f->allowed);
        return 0;
    }
    if (isdigit((unsigned char)*start)) {
        long v = 0;
        for (const char *q = start; q < p; q++) {
            if (!isdigit((unsigned char)*q)) {
                snprintf(err, errlen, "%s field: \"%.*s\" is not a number (allowed: %s)", f->name, len, start,
                         f->allowed);
                return 0;
            }
            if (v < 100000)
                v = v * 10 + (*q - '0');
        }
        if (v < f->lo || v > f->hi) {
            snprintf(err, errlen, "%s field: %.*s is out of range %d-%d", f->name, len, start, f->lo, f->hi);
            return 0;
        }
        *out = (int)v;
    } else {
        int found = -1;
        for (int i = 0; len == 3 && i < f->nnames; i++)
            if (strncasecmp(start, f->names[i], 3) == 0)
                found = f->lo + i;
        if (found < 0) {
            if (f->names)
                snprintf(err, errlen, "%s field: unknown name \"%.*s\" (allowed: %s)", f->name, len, start,
                         f->allowed);
            else
                snprintf(err, errlen, "%s field: \"%.*s\" is not a number (allowed: %s)", f->name, len, start,
                         f->allowed);
            return 0;
        }
        *out = found;
    }
    *pp = p;
    return 1;
}

/* Parses one field (a comma-separated list, NUL-terminated) into a bit set. */
static int parse_field(const struct field *f, const char *text, uint64_t *bits, char *err, size_t errlen)
{
    const char *p = text;
    *bits = 0;
    for (;;) {
        int lo, hi, step = 1;
        if (*p == ',' || *p == '\0') {
            snprintf(err, errlen, "%s field: empty item in \"%s\"", f->name, text);
            return 0;
        }
        if (*p == '*') {
            p++;
            lo = f->lo;
            hi = f == DOW_FIELD ? 6 : f->hi; /* 7 would only repeat Sunday */
        } else {
            if (!read_value(f, &p, &lo, err, errlen))
                return 0;
            hi = lo;
            if (*p == '-') {
                p++;
                if (!read_value(f, &p, &hi, err, errlen))
                    return 0;
                if (f == DOW_FIELD && hi == 0 && lo > 0)
                    hi = 7; /* "fri-sun": Sunday as 7 */
                if (hi < lo) {
                    snprintf(err, errlen, "%s field: range %d-%d is reversed (allowed: %s)", f->name, lo, hi,
                             f->allowed);
                    return 0;
                }
            } else if (*p == '/') {
                hi = f->hi; /* "N/STEP" means N-max/STEP */
            }
        }
        if (*p == '/') {
            p++;
            const char *s = p;
            long v = 0;
            while (isdigit((unsigned char)*p)) {
                if (v < 100000)
                    v = v * 10 + (*p - '0');
                p++;
            }
            int span = f->hi - f->lo + 1;
            if (p == s || (*p && *p != ',')) {
                while (*p && *p != ',')
                    p++;
                snprintf(err, errlen, "%s field: step \"%.*s\" is not a number", f->name, (int)(p - s), s);
                return 0;
            }
            if (v < 1 || v > span) {
                snprintf(err, errlen, "%s field: step %ld is out of range 1-%d", f->name, v, span);
                return 0;
            }
            step = (int)v;
        }
        if (*p && *p != ',') {
            const char *e = p;
            while (*e && *e != ',')
                e++;
            snprintf(err, errlen, "%s field: unexpected \"%.*s\" (allowed: %s)", f->name, (int)(e - p), p,
                     f->allowed);
            return 0;
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= UINT64_C(1) << v;
        if (*p == '\0')
            return 1;
        p++; /* ',' */
    }
}

/* 1 when some selected month has some selected day of month (Feb counts 29). */
static int some_mday_exists(const mlf_cron *c)
{
    for (int m = 1; m <= 12; m++) {
        if (!(c->months >> m & 1))
            continue;
        int dim = mlf_days_in_month(2000, m); /* a leap year */
        if (c->mdays & (((UINT32_C(1) << dim) - 1) << 1))
            return 1;
    }
    return 0;
}

int mlf_cron_parse(const char *expr, mlf_cron *out, char *err, size_t errlen)
{
    if (!expr || !out) {
        snprintf(err, errlen, "cron: NULL argument");
        return MLF_EINVAL;
    }
    while (isspace((unsigned char)*expr))
        expr++;
    if (*expr == '@') {
        size_t len = strcspn(expr, " \t\r\n");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)len, expr);
        const char *e = expr[len + strspn(expr + len, " \t\r\n")] == '\0' ? mlf_cron_preset(name) : NULL;
        if (!e) {
            snprintf(err, errlen, "unknown cron preset \"%s\" (valid: %s)", expr, PRESET_NAMES);
            return MLF_EPARSE;
        }
        expr = e;
    }
    char buf[256];
    size_t len = strlen(expr);
    if (len >= sizeof buf) {
        snprintf(err, errlen, "cron expression is too long (%zu characters)", len);
        return MLF_EPARSE;
    }
    memcpy(buf, expr, len + 1);
    char *fields[6];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == 6)
            break;
        fields[n++] = tok;
    }
    if (n != 5) {
        snprintf(err, errlen,
                 "cron expression \"%s\" has %s%d fields; expected 5 (minute hour day-of-month month "
                 "day-of-week) or a preset such as @daily",
                 expr, n == 6 ? "more than " : "", n == 6 ? 5 : n);
        return MLF_EPARSE;
    }
    uint64_t bits[5];
    for (int i = 0; i < 5; i++)
        if (!parse_field(&FIELDS[i], fields[i], &bits[i], err, errlen))
            return MLF_EPARSE;
    mlf_cron c;
    memset(&c, 0, sizeof c);
    c.minutes = bits[0];
    c.hours = (uint32_t)bits[1];
    c.mdays = (uint32_t)bits[2];
    c.months = (uint16_t)bits[3];
    c.wdays = (uint8_t)((bits[4] | bits[4] >> 7) & ALL_WDAYS); /* 7 is Sunday */
    if (c.mdays != ALL_MDAYS)
        c.flags |= DOM_RESTRICTED;
    if (c.wdays != ALL_WDAYS)
        c.flags |= DOW_RESTRICTED;
    /* With day-of-week unrestricted, the day of month alone decides; it must exist in some month. */
    if (!(c.flags & DOW_RESTRICTED) && !some_mday_exists(&c)) {
        int m = 1;
        while (!(c.months >> m & 1))
            m++;
        snprintf(err, errlen, "cron expression \"%s\" never fires: day-of-month \"%s\" never occurs in month "
                 "\"%s\" (e.g. %s has %d days at most)", expr, fields[2], fields[3], mlf_month_name(m),
                 mlf_days_in_month(2000, m));
        return MLF_EPARSE;
    }
    *out = c;
    return MLF_OK;
}

int mlf_cron_covers_every_hour(const mlf_cron *c)
{
    return c->hours == ALL_HOURS;
}

/* ------------------------------------------------------------------------------ wall-clock search */

static int day_matches(const mlf_cron *c, int64_t y, int m, int d)
{
    int dom = (int)(c->mdays >> d & 1);
    int dow = c->wdays >> mlf_weekday_from_days(mlf_days_from_civil(y, m, d)) & 1;
    if ((c->flags & DOM_RESTRICTED) && (c->flags & DOW_RESTRICTED))
        return dom || dow;
    return dom && dow;
}

int mlf_cron_matches_local(const mlf_cron *c, int64_t local_us)
{
    mlf_civil t;
    mlf_civil_from_time(local_us, &t);
    return (c->months >> t.month & 1) && day_matches(c, t.year, t.month, t.day) && (c->hours >> t.hour & 1) &&
           (c->minutes >> t.minute & 1);
}

/* Lowest set bit >= from (and <= 63), or -1. */
static int bit_at_or_after(uint64_t bits, int from)
{
    if (from < 0)
        from = 0;
    if (from > 63)
        return -1;
    uint64_t m = bits & (~UINT64_C(0) << from);
    return m ? __builtin_ctzll(m) : -1;
}

/* Highest set bit <= from (from >= 0), or -1. */
static int bit_at_or_before(uint64_t bits, int from)
{
    if (from < 0)
        return -1;
    uint64_t m = from >= 63 ? bits : bits & ((UINT64_C(1) << (from + 1)) - 1);
    return m ? 63 - __builtin_clzll(m) : -1;
}

/* A wall-clock position at minute resolution. */
typedef struct wallpos {
    int64_t y;
    int mo, d, h, mi;
} wallpos;

static void wallpos_from_minute(int64_t minute, wallpos *k)
{
    int64_t days = mlf_floor_div(minute, 1440);
    int64_t rest = minute - days * 1440;
    mlf_civil_from_days(days, &k->y, &k->mo, &k->d);
    k->h = (int)(rest / 60);
    k->mi = (int)(rest % 60);
}

static int64_t wallpos_to_us(const wallpos *k)
{
    return mlf_days_from_civil(k->y, k->mo, k->d) * MLF_US_PER_DAY + k->h * MLF_US_PER_HOUR +
           k->mi * MLF_US_PER_MIN;
}

static void next_month(wallpos *k)
{
    if (++k->mo > 12)
        k->mo = 1, k->y++;
    k->d = 1, k->h = 0, k->mi = 0;
}

static void next_day(wallpos *k)
{
    if (++k->d > mlf_days_in_month(k->y, k->mo))
        next_month(k);
    k->h = 0, k->mi = 0;
}

static void prev_month(wallpos *k)
{
    if (--k->mo < 1)
        k->mo = 12, k->y--;
    k->d = mlf_days_in_month(k->y, k->mo), k->h = 23, k->mi = 59;
}

static void prev_day(wallpos *k)
{
    if (--k->d < 1)
        prev_month(k);
    k->h = 23, k->mi = 59;
}

/* 1 when every field selects something (always so for a parsed expression). */
static int usable(const mlf_cron *c)
{
    return c->minutes && c->hours && c->mdays && c->months && c->wdays;
}

int mlf_cron_next_local(const mlf_cron *c, int64_t local_us, int64_t *out)
{
    if (!usable(c))
        return MLF_ENOTFOUND;
    wallpos k;
    wallpos_from_minute(mlf_floor_div(local_us, MLF_US_PER_MIN) + 1, &k);
    int64_t first_year = k.y;
    while (k.y - first_year <= MAX_SEARCH_YEARS && k.y <= MAX_YEAR) {
        int m = bit_at_or_after(c->months, k.mo);
        if (m != k.mo) {
            if (m < 0)
                k.y++, m = bit_at_or_after(c->months, 1);
            k.mo = m, k.d = 1, k.h = 0, k.mi = 0;
            continue;
        }
        if (!day_matches(c, k.y, k.mo, k.d)) {
            next_day(&k);
            continue;
        }
        int h = bit_at_or_after(c->hours, k.h);
        if (h < 0) {
            next_day(&k);
            continue;
        }
        if (h != k.h)
            k.h = h, k.mi = 0;
        int mi = bit_at_or_after(c->minutes, k.mi);
        if (mi < 0) {
            if (++k.h > 23)
                next_day(&k);
            else
                k.mi = 0;
            continue;
        }
        k.mi = mi;
        *out = wallpos_to_us(&k);
        return MLF_OK;
    }
    return MLF_ENOTFOUND;
}

int mlf_cron_prev_local(const mlf_cron *c, int64_t local_us, int64_t *out)
{
    if (!usable(c))
        return MLF_ENOTFOUND;
    wallpos k;
    wallpos_from_minute(mlf_floor_div(mlf_add_sat(local_us, -1), MLF_US_PER_MIN), &k);
    int64_t first_year = k.y;
    while (first_year - k.y <= MAX_SEARCH_YEARS && k.y >= -MAX_YEAR) {
        int m = bit_at_or_before(c->months, k.mo);
        if (m != k.mo) {
            if (m < 0)
                k.y--, m = bit_at_or_before(c->months, 12);
            k.mo = m, k.d = mlf_days_in_month(k.y, m), k.h = 23, k.mi = 59;
            continue;
        }
        if (!day_matches(c, k.y, k.mo, k.d)) {
            prev_day(&k);
            continue;
        }
        int h = bit_at_or_before(c->hours, k.h);
        if (h < 0) {
            prev_day(&k);
            continue;
        }
        if (h != k.h)
            k.h = h, k.mi = 59;
        int mi = bit_at_or_before(c->minutes, k.mi);
        if (mi < 0) {
            if (--k.h < 0)
                prev_day(&k);
            else
                k.mi = 59;
            continue;
        }
        k.mi = mi;
        *out = wallpos_to_us(&k);
        return MLF_OK;
    }
    return MLF_ENOTFOUND;
}

/* ------------------------------------------------------------------------------ zoned search */

/*
 * The offset is constant within a period [start, end) of the zone, so the fires inside one period are
 *   - the matching wall times W with W - utoff in the period ("normal"), except, when the period ends
 *     with clocks falling back and the hour field does not cover every hour, those in the last
 *     (utoff - next_utoff) seconds: their wall times repeat in the next period, where they fire instead;
 *   - when the period starts with clocks springing forward, the matching wall times of the skipped gap
 *     [start + prev_utoff, start + utoff), each firing at W - prev_utoff (shifted forward by the gap).
 * next and prev search the period holding the search edge, then the following/preceding periods.
 */

static int in_fold_tail(const mlf_cron *c, const mlf_tz_period *p, mlf_time_us u)
{
    if (mlf_cron_covers_every_hour(c) || p->next_utoff >= p->utoff || p->end == INT64_MAX)
        return 0;
    return u >= p->end - (int64_t)(p->utoff - p->next_utoff) * MLF_US_PER_SEC;
}

int mlf_cron_next(const mlf_cron *c, const mlf_tz *tz, mlf_time_us t, mlf_time_us *out)
{
    if (!tz)
        tz = mlf_tz_utc();
    mlf_tz_period p;
    mlf_tz_period_at(tz, t, &p);
    mlf_time_us edge = t; /* looking for the first fire > edge */
    for (;;) {
        int64_t off = (int64_t)p.utoff * MLF_US_PER_SEC;
        int found = 0;
        mlf_time_us best = INT64_MAX;
        int64_t w;
        int rc = mlf_cron_next_local(c, mlf_add_sat(edge, off), &w);
        if (rc == MLF_OK && w - off < p.end && !in_fold_tail(c, &p, w - off))
            best = w - off, found = 1;
        if (p.prev_utoff < p.utoff && p.start != INT64_MIN) {
            int64_t poff = (int64_t)p.prev_utoff * MLF_US_PER_SEC;
            int64_t gap_lo = p.start + poff, gap_hi = p.start + off;
            int64_t from = mlf_add_sat(edge, poff) > gap_lo - 1 ? mlf_add_sat(edge, poff) : gap_lo - 1;
            if (mlf_cron_next_local(c, from, &w) == MLF_OK && w < gap_hi && w - poff < best)
                best = w - poff, found = 1;
        }
        if (found) {
            *out = best;
            return MLF_OK;
        }
        if (rc != MLF_OK || p.end == INT64_MAX)
            return MLF_ENOTFOUND;
        edge = p.end - 1;
        mlf_tz_period_at(tz, p.end, &p);
    }
}

int mlf_cron_prev(const mlf_cron *c, const mlf_tz *tz, mlf_time_us t, int inclusive, mlf_time_us *out)
{
    if (!tz)
        tz = mlf_tz_utc();
    mlf_time_us edge = inclusive ? mlf_add_sat(t, 1) : t; /* looking for the last fire < edge */
    mlf_tz_period p;
    mlf_tz_period_at(tz, mlf_add_sat(edge, -1), &p);
    for (;;) {
        int64_t off = (int64_t)p.utoff * MLF_US_PER_SEC;
        int found = 0;
        mlf_time_us best = INT64_MIN;
        int64_t w;
        int rc = mlf_cron_prev_local(c, mlf_add_sat(edge, off), &w);
        if (rc == MLF_OK && in_fold_tail(c, &p, w - off)) /* skip to before the repeated wall times */
            rc = mlf_cron_prev_local(c, p.end - (int64_t)(p.utoff - p.next_utoff) * MLF_US_PER_SEC + off, &w);
        if (rc == MLF_OK && w - off >= p.start)
            best = w - off, found = 1;
        if (p.prev_utoff < p.utoff && p.start != INT64_MIN) {
            int64_t poff = (int64_t)p.prev_utoff * MLF_US_PER_SEC;
            int64_t gap_lo = p.start + poff, gap_hi = p.start + off;
            int64_t below = mlf_add_sat(edge, poff) < gap_hi ? mlf_add_sat(edge, poff) : gap_hi;
            if (mlf_cron_prev_local(c, below, &w) == MLF_OK && w >= gap_lo && w - poff > best)
                best = w - poff, found = 1;
        }
        if (found) {
            *out = best;
            return MLF_OK;
        }
        if (rc != MLF_OK || p.start == INT64_MIN)
            return MLF_ENOTFOUND;
        edge = p.start;
        mlf_tz_period_at(tz, p.start - 1, &p);
    }
}
