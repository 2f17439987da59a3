/* tz.c -- TZif (RFC 8536) reader, POSIX TZ rule evaluation, UTC <-> wall-clock conversion, zone cache. */
#include "time/tz.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "time/civil.h"
#include "base/strutil.h"

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
#define MAX_TZ_FILE (1024L * 1024) /* real files are under 4 KiB */
#define MAX_NAME 255
/* RFC 8536 asks offsets to lie in -89999..93599; anything outside +-26 h is damage. */
#define MAX_UTOFF (26 * 3600)
#define SEC_NONE_LOW INT64_MIN
#define SEC_NONE_HIGH INT64_MAX

/* One POSIX TZ rule date: Jn (1-365, Feb 29 never counted), n (0-365), or Mm.w.d. */
typedef struct rule_date {
    char kind; /* 'J', 'n' or 'M' */
    int a, b, c;
    int32_t time; /* seconds after local midnight the change happens (may be negative or > 24 h) */
} rule_date;

typedef struct posix_rule {
    int32_t std_utoff, dst_utoff; /* seconds east of UTC */
    char std_abbr[16], dst_abbr[16];
    int has_dst;
    rule_date start, end; /* DST starts at start (in standard time), ends at end (in DST) */
} posix_rule;

typedef struct tz_type {
    int32_t utoff;
    int is_dst;
    const char *abbr; /* into mlf_tz.chars */
} tz_type;

struct mlf_tz {
    char *name;
    char *key; /* cache key: the file path, or the name of a built-in zone */
    int64_t *trans; /* transition instants, seconds, strictly ascending */
    unsigned char *trans_type;
    size_t ntrans;
    tz_type *types;
    size_t ntypes;
    char *chars;
    int has_rule;
    posix_rule rule;
    int is_utc;
    struct mlf_tz *next;
};

/* A period in seconds, before clamping to microseconds. */
typedef struct period_s {
    int64_t start, end;
    int32_t utoff;
    int is_dst;
    const char *abbr;
} period_s;

static char utc_name[] = "UTC";
static tz_type utc_type = {0, 0, utc_name};
static struct mlf_tz UTC_ZONE = {.name = utc_name, .key = utc_name, .types = &utc_type, .ntypes = 1, .is_utc = 1};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mlf_tz *cache;

/* ------------------------------------------------------------------------------ POSIX TZ strings */

/* Reads [+-]hh[:mm[:ss]] with hours up to @p max_hours; returns seconds (sign applied) or 0 on error. */
static int read_hms(const char **pp, int max_hours, int32_t *out)
{
    const char *p = *pp;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return 0;
    int32_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        int digits = 0;
        while (isdigit((unsigned char)*p) && digits < 3)
            v[i] = v[i] * 10 + (*p++ - '0'), digits++;
        if (digits == 0 || (i > 0 && (digits != 2 || v[i] > 59)))
            return 0;
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    if (v[0] > max_hours)
        return 0;
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    *pp = p;
    return 1;
}

static int read_abbr(const char **pp, char *out, size_t n)
{
    const char *p = *pp, *start;
    size_t len;
    if (*p == '<') {
        start = ++p;
        while (isalnum((unsigned char)*p) || *p == '+' || *p == '-')
            p++;
        if (*p != '>')
            return 0;
        len = (size_t)(p - start);
        p++;
    } else {
        start = p;
        while (isalpha((unsigned char)*p))
            p++;
        len = (size_t)(p - start);
    }
    if (len < 3 || len >= n)
        return 0;
    memcpy(out, start, len);
    out[len] = '\0';
    *pp = p;
    return 1;
}

static int read_int(const char **pp, int lo, int hi, int *out)
{
    const char *p = *pp;
    int v = 0, digits = 0;
    while (isdigit((unsigned char)*p) && digits < 4)
        v = v * 10 + (*p++ - '0'), digits++;
    if (digits == 0 || v < lo || v > hi)
        return 0;
    *out = v;
    *pp = p;
    return 1;
}

static int read_rule_date(const char **pp, rule_date *d)
{
    const char *p = *pp;
    if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (!read_int(&p, 1, 12, &d->a) || *p++ != '.' || !read_int(&p, 1, 5, &d->b) || *p++ != '.' ||
            !read_int(&p, 0, 6, &d->c))
            return 0;
    } else if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (!read_int(&p, 1, 365, &d->a))
            return 0;
    } else {
        d->kind = 'n';
        if (!read_int(&p, 0, 365, &d->a))
            return 0;
    }
    d->time = 2 * 3600;
    if (*p == '/') {
        p++;
        if (!read_hms(&p, 167, &d->time)) /* RFC 8536 allows -167..167 hours */
            return 0;
    }
    *pp = p;
    return 1;
}

/* Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". Returns 1 on success. */
static int parse_posix_tz(const char *s, posix_rule *r)
{
    const char *p = s;
    int32_t off;
    memset(r, 0, sizeof *r);
    if (!read_abbr(&p, r->std_abbr, sizeof r->std_abbr) || !read_hms(&p, 24, &off))
        return 0;
    r->std_utoff = -off; /* POSIX counts hours west of Greenwich */
    if (!*p)
        return 1;
    if (!read_abbr(&p, r->dst_abbr, sizeof r->dst_abbr))
        return 0;
    r->has_dst = 1;
    r->dst_utoff = r->std_utoff + 3600;
    if (*p && *p != ',') {
        if (!read_hms(&p, 24, &off))
            return 0;
        r->dst_utoff = -off;
    }
    if (!*p) { /* no rule given: the US rule, as tzcode and glibc assume */
        r->start = (rule_date){'M', 3, 2, 0, 7200};
        r->end = (rule_date){'M', 11, 1, 0, 7200};
        return 1;
    }
    if (*p++ != ',' || !read_rule_date(&p, &r->start) || *p++ != ',' || !read_rule_date(&p, &r->end))
        return 0;
    return *p == '\0';
}

/* Local (standard or daylight, as the rule says) seconds since the epoch at which @p d happens in year y. */
static int64_t rule_local(const rule_date *d, int64_t y)
{
    int64_t days;
    if (d->kind == 'J') {
        days = mlf_days_from_civil(y, 1, 1) + d->a - 1 + (mlf_is_leap_year(y) && d->a >= 60);
    } else if (d->kind == 'n') {
        days = mlf_days_from_civil(y, 1, 1) + d->a;
    } else {
        int64_t first = mlf_days_from_civil(y, d->a, 1);
        int day = (d->c - mlf_weekday_from_days(first) + 7) % 7 + 7 * (d->b - 1);
        while (day >= mlf_days_in_month(y, d->a))
            day -= 7;
        days = first + day;
    }
    return days * 86400 + d->time;
}

static int64_t rule_start_utc(const posix_rule *r, int64_t y)
{
    return rule_local(&r->start, y) - r->std_utoff;
}

static int64_t rule_end_utc(const posix_rule *r, int64_t y)
{
    return rule_local(&r->end, y) - r->dst_utoff;
}

static int64_t year_of(int64_t sec)
{
    int64_t y;
    int m, d;
    mlf_civil_from_days(mlf_floor_div(sec, 86400), &y, &m, &d);
    return y;
}

static int rule_is_dst(const posix_rule *r, int64_t t)
{
    int64_t y = year_of(t + r->std_utoff);
    int64_t s = rule_start_utc(r, y), e = rule_end_utc(r, y);
    if (s < e)
        return s <= t && t < e;
    return !(e <= t && t < s); /* southern hemisphere: DST spans the new year */
}

static void rule_period(const posix_rule *r, int64_t t, period_s *p)
{
    if (!r->has_dst) {
        *p = (period_s){SEC_NONE_LOW, SEC_NONE_HIGH, r->std_utoff, 0, r->std_abbr};
        return;
    }
    int dst = rule_is_dst(r, t);
    p->utoff = dst ? r->dst_utoff : r->std_utoff;
    p->is_dst = dst;
    p->abbr = dst ? r->dst_abbr : r->std_abbr;
    /* Every change happens at one of these instants; between two of them the offset is constant. */
    int64_t y = year_of(t + r->std_utoff);
    p->start = SEC_NONE_LOW;
    p->end = SEC_NONE_HIGH;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        const int64_t c[2] = {rule_start_utc(r, yy), rule_end_utc(r, yy)};
        for (int i = 0; i < 2; i++) {
            if (c[i] <= t && c[i] > p->start)
                p->start = c[i];
            if (c[i] > t && c[i] < p->end)
                p->end = c[i];
        }
    }
}

/* ------------------------------------------------------------------------------ periods */

static void type_period(const mlf_tz *tz, size_t type, int64_t start, int64_t end, period_s *p)
{
    p->start = start;
    p->end = end;
    p->utoff = tz->types[type].utoff;
    p->is_dst = tz->types[type].is_dst;
    p->abbr = tz->types[type].abbr;
}

static void period_at_sec(const mlf_tz *tz, int64_t t, period_s *p)
{
    if (tz->ntrans == 0) {
        if (tz->has_rule)
            rule_period(&tz->rule, t, p);
        else
            type_period(tz, 0, SEC_NONE_LOW, SEC_NONE_HIGH, p);
        return;
    }
    if (t < tz->trans[0]) { /* RFC 8536: before the first transition, type 0 applies */
        type_period(tz, 0, SEC_NONE_LOW, tz->trans[0], p);
        return;
    }
    size_t lo = 0, hi = tz->ntrans; /* find the last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo + 1 < tz->ntrans) {
        type_period(tz, tz->trans_type[lo], tz->trans[lo], tz->trans[lo + 1], p);
    } else if (tz->has_rule) {
        rule_period(&tz->rule, t, p);
        if (p->start < tz->trans[lo])
            p->start = tz->trans[lo];
    } else {
        type_period(tz, tz->trans_type[lo], tz->trans[lo], SEC_NONE_HIGH, p);
    }
}

static int32_t utoff_at_sec(const mlf_tz *tz, int64_t t)
{
    period_s p;
    period_at_sec(tz, t, &p);
    return p.utoff;
}

/* Seconds to microseconds, clamped; the sentinels stay sentinels. */
static int64_t sec_to_us(int64_t s)
{
    if (s <= INT64_MIN / MLF_US_PER_SEC)
        return INT64_MIN;
    if (s >= INT64_MAX / MLF_US_PER_SEC)
        return INT64_MAX;
    return s * MLF_US_PER_SEC;
}

void mlf_tz_period_at(const mlf_tz *tz, mlf_time_us t, mlf_tz_period *out)
{
    period_s p;
    int64_t ts = mlf_floor_div(t, MLF_US_PER_SEC);
    period_at_sec(tz, ts, &p);
    out->start = sec_to_us(p.start);
    out->end = sec_to_us(p.end);
    out->utoff = p.utoff;
    out->is_dst = p.is_dst;
    out->abbr = p.abbr;
    out->prev_utoff = out->start == INT64_MIN ? p.utoff : utoff_at_sec(tz, p.start - 1);
    out->next_utoff = out->end == INT64_MAX ? p.utoff : utoff_at_sec(tz, p.end);
}

int32_t mlf_tz_utoff_at(const mlf_tz *tz, mlf_time_us t)
{
    return utoff_at_sec(tz, mlf_floor_div(t, MLF_US_PER_SEC));
}

int64_t mlf_tz_to_local(const mlf_tz *tz, mlf_time_us t)
{
    return mlf_add_sat(t, (int64_t)mlf_tz_utoff_at(tz, t) * MLF_US_PER_SEC);
}

mlf_time_us mlf_tz_from_local(const mlf_tz *tz, int64_t local_us, int fold)
{
    /* Work in whole seconds: transitions and offsets are whole seconds, so the sub-second part of the
     * wall time never changes which period an instant falls in. */
    int64_t ls = mlf_floor_div(local_us, MLF_US_PER_SEC);
    int64_t frac = local_us - ls * MLF_US_PER_SEC;
    period_s p[3];
    period_at_sec(tz, ls - utoff_at_sec(tz, ls), &p[1]);
    int have_prev = p[1].start != SEC_NONE_LOW, have_next = p[1].end != SEC_NONE_HIGH;
    if (have_prev)
        period_at_sec(tz, p[1].start - 1, &p[0]);
    if (have_next)
        period_at_sec(tz, p[1].end, &p[2]);
    int found = 0;
    int64_t best = 0;
    for (int i = 0; i < 3; i++) {
        if ((i == 0 && !have_prev) || (i == 2 && !have_next))
            continue;
        int64_t u = ls - p[i].utoff;
        if (u < p[i].start || u >= p[i].end)
            continue;
        if (!found || (fold == MLF_TZ_FOLD_LATER ? u > best : u < best))
            best = u;
        found = 1;
    }
    if (!found) {
        /* A gap: the wall time lies past the end of one period (read with its offset) and before the
         * start of the next. Reading it with the offset in force before the gap shifts it forward. */
        best = ls - p[1].utoff;
        for (int i = 0; i < 2; i++) {
            int has_pair = (i == 0 ? have_prev : have_next);
            if (has_pair && ls - p[i].utoff >= p[i].end && ls - p[i + 1].utoff < p[i + 1].start) {
                best = ls - p[i].utoff;
                break;
            }
        }
    }
    return mlf_add_sat(sec_to_us(best), frac);
}

/* ------------------------------------------------------------------------------ TZif files */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_header {
    int version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static int read_header(const unsigned char *p, size_t len, tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return 0;
    h->version = p[4] == 0 ? 1 : p[4] - '0';
    if (h->version < 1 || h->version > 9)
        return 0;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return 1;
}

/* Bytes of the data block after a header, or 0 when the counts are absurd. */
static size_t block_size(const tzif_header *h, size_t timesize)
{
    /* Each count is at most 2^32; bound them so the sum below cannot overflow and stays plausible. */
    if (h->timecnt > 100000 || h->typecnt > 256 || h->charcnt > 65536 || h->leapcnt > 100000 ||
        h->isstdcnt > 256 || h->isutcnt > 256)
        return 0;
    return (size_t)h->timecnt * (timesize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

static void tz_free(struct mlf_tz *tz)
{
    if (!tz || tz == &UTC_ZONE)
        return;
    free(tz->name);
    free(tz->key);
    free(tz->trans);
    free(tz->trans_type);
    free(tz->types);
    free(tz->chars);
    free(tz);
}

static int bad(char *err, size_t errlen, const char *fmt, ...) MLF_PRINTF(3, 4);
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return MLF_EPARSE;
}

/* Parses TZif bytes into @p tz (whose name and key are already set). */
static int parse_tzif(struct mlf_tz *tz, const unsigned char *buf, size_t len, const char *path, char *err,
                      size_t errlen)
{
    tzif_header h;
    if (!read_header(buf, len, &h))
        return bad(err, errlen, "time zone file %s is not a TZif file (bad magic or version)", path);
    size_t timesize = 4;
    const unsigned char *p = buf + 44;
    size_t v1 = block_size(&h, 4);
    if (v1 == 0 && (h.timecnt || h.typecnt))
        return bad(err, errlen, "time zone file %s: implausible counts in the header", path);
    if (v1 > len - 44)
        return bad(err, errlen, "time zone file %s is truncated", path);
    if (h.version >= 2) { /* skip the 32-bit block; use the 64-bit one that follows */
        p += v1;
        if (!read_header(p, len - (size_t)(p - buf), &h))
            return bad(err, errlen, "time zone file %s: missing version 2 header", path);
        p += 44;
        timesize = 8;
    }
    size_t blk = block_size(&h, timesize);
    size_t left = len - (size_t)(p - buf);
    if (blk == 0 || blk > left)
        return bad(err, errlen, "time zone file %s is truncated or has implausible counts", path);
    if (h.typecnt == 0 || h.charcnt == 0)
        return bad(err, errlen, "time zone file %s has no local time types", path);
    if ((h.isstdcnt && h.isstdcnt != h.typecnt) || (h.isutcnt && h.isutcnt != h.typecnt))
        return bad(err, errlen, "time zone file %s: indicator counts do not match the type count", path);
    if (h.leapcnt)
        return bad(err, errlen, "time zone file %s counts leap seconds (a \"right/\" zone), which is not supported",
                   path);

    tz->ntrans = h.timecnt;
    tz->ntypes = h.typecnt;
    tz->trans = calloc(h.timecnt ? h.timecnt : 1, sizeof *tz->trans);
    tz->trans_type = calloc(h.timecnt ? h.timecnt : 1, 1);
    tz->types = calloc(h.typecnt, sizeof *tz->types);
    tz->chars = calloc(h.charcnt + 1, 1);
    if (!tz->trans || !tz->trans_type || !tz->types || !tz->chars)
        return MLF_ENOMEM;
    for (size_t i = 0; i < h.timecnt; i++, p += timesize) {
        tz->trans[i] = timesize == 8 ? be64(p) : (int32_t)be32(p);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return bad(err, errlen, "time zone file %s: transition times are not ascending", path);
    }
    for (size_t i = 0; i < h.timecnt; i++, p++) {
        if (*p >= h.typecnt)
            return bad(err, errlen, "time zone file %s: transition %zu names type %u of %u", path, i, *p, h.typecnt);
        tz->trans_type[i] = *p;
    }
    const unsigned char *types = p;
    p += (size_t)h.typecnt * 6;
    memcpy(tz->chars, p, h.charcnt);
    p += h.charcnt;
    for (size_t i = 0; i < h.typecnt; i++) {
        const unsigned char *t = types + 6 * i;
        int32_t utoff = (int32_t)be32(t);
        if (utoff < -MAX_UTOFF || utoff > MAX_UTOFF || t[4] > 1 || t[5] >= h.charcnt)
            return bad(err, errlen, "time zone file %s: local time type %zu is invalid", path, i);
        if (!memchr(tz->chars + t[5], '\0', h.charcnt - t[5]))
            return bad(err, errlen, "time zone file %s: unterminated abbreviation", path);
        tz->types[i] = (tz_type){utoff, t[4], tz->chars + t[5]};
    }
    p += h.isstdcnt + h.isutcnt;
    if (h.version >= 2) {
        /* The footer: "\n" POSIX-TZ-string "\n" (possibly empty). */
        const unsigned char *end = buf + len;
        if (p >= end || *p != '\n')
            return bad(err, errlen, "time zone file %s: missing footer", path);
        const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
        if (!nl)
            return bad(err, errlen, "time zone file %s: unterminated footer", path);
        size_t flen = (size_t)(nl - p - 1);
        if (flen > 0) {
            char footer[128];
            if (flen >= sizeof footer || memchr(p + 1, '\0', flen))
                return bad(err, errlen, "time zone file %s: footer TZ string is too long", path);
            memcpy(footer, p + 1, flen);
            footer[flen] = '\0';
            if (!parse_posix_tz(footer, &tz->rule))
                return bad(err, errlen, "time zone file %s: bad TZ string \"%s\" in the footer", path, footer);
            tz->has_rule = 1;
        }
    }
    tz->is_utc = !tz->has_rule || (!tz->rule.has_dst && tz->rule.std_utoff == 0);
    for (size_t i = 0; i < tz->ntypes; i++)
        tz->is_utc = tz->is_utc && tz->types[i].utoff == 0;
    return MLF_OK;
}

static int read_file(const char *path, unsigned char **out, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "no time zone file %s: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? MLF_ENOTFOUND : MLF_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s is not a time zone file", path);
        return MLF_ENOTFOUND;
    }
    if (st.st_size > MAX_TZ_FILE) {
        close(fd);
        snprintf(err, errlen, "time zone file %s is too large (%lld bytes)", path, (long long)st.st_size);
        return MLF_EPARSE;
    }
    size_t size = (size_t)st.st_size;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return MLF_ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            free(buf);
            snprintf(err, errlen, "reading time zone file %s: %s", path, strerror(e));
            return MLF_EIO;
        }
        got += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = size;
    return MLF_OK;
}

static int valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > MAX_NAME || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_+-./", *p))
            return 0;
    return 1;
}

/* Looks up @p key in the cache; the caller holds cache_lock. */
static struct mlf_tz *cache_find(const char *key)
{
    for (struct mlf_tz *z = cache; z; z = z->next)
        if (strcmp(z->key, key) == 0)
            return z;
    return NULL;
}

static int load_locked(const char *name, const mlf_tz **out, char *err, size_t errlen)
{
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = DEFAULT_TZDIR;
    char *path = mlf_strdup_printf("%s/%s", dir, name);
    if (!path)
        return MLF_ENOMEM;
    struct mlf_tz *z = cache_find(path);
    if (z) {
        free(path);
        *out = z;
        return MLF_OK;
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len, err, errlen);
    if (rc != MLF_OK) {
        if (rc == MLF_ENOTFOUND) {
            char why[256];
            mlf_strlcpy(why, err ? err : "", sizeof why);
            snprintf(err, errlen, "unknown time zone \"%s\" (%s)", name, why);
        }
        free(path);
        return rc;
    }
    z = calloc(1, sizeof *z);
    if (!z || !(z->name = strdup(name))) {
        free(z);
        free(buf);
        free(path);
        return MLF_ENOMEM;
    }
    z->key = path;
    rc = parse_tzif(z, buf, len, path, err, errlen);
    free(buf);
    if (rc != MLF_OK) {
        tz_free(z);
        return rc;
    }
    z->next = cache;
    cache = z;
    *out = z;
    return MLF_OK;
}

int mlf_tz_load(const char *name, const mlf_tz **out, char *err, size_t errlen)
{
    if (!name || !out) {
        snprintf(err, errlen, "time zone: NULL argument");
        return MLF_EINVAL;
    }
    if (strcmp(name, "UTC") == 0) {
        *out = &UTC_ZONE;
        return MLF_OK;
    }
    if (!valid_name(name)) {
        snprintf(err, errlen,
                 "invalid time zone name \"%.*s\" (expected an IANA name like Europe/Berlin: a relative "
                 "path of letters, digits and _+-./ without \"..\")",
                 MAX_NAME, name);
        return MLF_EINVAL;
    }
    pthread_mutex_lock(&cache_lock);
    int rc = load_locked(name, out, err, errlen);
    pthread_mutex_unlock(&cache_lock);
    return rc;
}

const mlf_tz *mlf_tz_utc(void)
{
    return &UTC_ZONE;
}

int mlf_tz_fixed(int32_t utoff, const mlf_tz **out)
{
    if (utoff <= -86400 || utoff >= 86400)
        return MLF_ERANGE;
    if (utoff == 0) {
        *out = &UTC_ZONE;
        return MLF_OK;
    }
    int32_t a = utoff < 0 ? -utoff : utoff;
    char name[32];
    if (a % 60)
        snprintf(name, sizeof name, "%c%02d:%02d:%02d", utoff < 0 ? '-' : '+', a / 3600, a / 60 % 60, a % 60);
    else
        snprintf(name, sizeof name, "%c%02d:%02d", utoff < 0 ? '-' : '+', a / 3600, a / 60 % 60);
    int rc = MLF_OK;
    pthread_mutex_lock(&cache_lock);
    struct mlf_tz *z = cache_find(name);
    if (!z) {
        z = calloc(1, sizeof *z);
        if (z) {
            z->name = strdup(name);
            z->key = strdup(name);
            z->types = calloc(1, sizeof *z->types);
            z->chars = strdup(name);
        }
        if (!z || !z->name || !z->key || !z->types || !z->chars) {
            tz_free(z);
            z = NULL;
            rc = MLF_ENOMEM;
        } else {
            z->ntypes = 1;
            z->types[0] = (tz_type){utoff, 0, z->chars};
            z->next = cache;
            cache = z;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    if (z)
        *out = z;
    return rc;
}

const char *mlf_tz_name(const mlf_tz *tz)
{
    return tz->name;
}

int mlf_tz_is_utc(const mlf_tz *tz)
{
    return tz->is_utc;
}

void mlf_tz_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    while (cache) {
        struct mlf_tz *z = cache;
        cache = z->next;
        tz_free(z);
    }
    pthread_mutex_unlock(&cache_lock);
}

int mlf_tz_parse_buffer(const void *buf, size_t len, mlf_tz **out, char *err, size_t errlen)
{
    if ((!buf && len) || !out)
        return MLF_EINVAL;
    struct mlf_tz *z = calloc(1, sizeof *z);
    if (!z || !(z->name = strdup("buffer")) || !(z->key = strdup("buffer"))) {
        tz_free(z);
        return MLF_ENOMEM;
    }
    int rc = parse_tzif(z, buf, len, "buffer", err, errlen);
    if (rc != MLF_OK) {
        tz_free(z);
        return rc;
    }
    *out = z;
    return MLF_OK;
}

void mlf_tz_free_parsed(mlf_tz *tz)
{
    if (tz)
        tz_free(tz);
}
