/* duration.c -- parse and format durations: unit form ("1h30m"), plain seconds ("90"), ISO 8601 ("PT5M"). */
#include "time/duration.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/strutil.h"

/* A unit is mant * 10^exp10 microseconds; every unit we know is written that way with mant <= 6048, which
 * keeps the fraction arithmetic below exact in 64 bits. */
typedef struct unit {
    const char *name;
    int64_t mant;
    int exp10;
} unit;

static const unit UNITS[] = {
    {"us", 1, 0}, {"ms", 1, 3}, {"s", 1, 6}, {"m", 6, 7}, {"h", 36, 8}, {"d", 864, 8}, {"w", 6048, 8},
};
#define VALID_UNITS "us, ms, s, m, h, d, w"

/* At most this many fraction digits are kept: 10^12 exceeds the largest unit (a week, 6.048e11 us), so
 * the digits dropped after it always weigh less than one microsecond. */
#define MAX_FRAC_DIGITS 12

static const int64_t POW10[] = {1,           10,           100,           1000,           10000,
                                100000,      1000000,      10000000,      100000000,      1000000000,
                                10000000000, 100000000000, 1000000000000};

/* A decimal number as read: whole part, and fraction = frac / 10^frac_digits. */
typedef struct number {
    uint64_t whole;
    int64_t frac;
    int frac_digits;
    int whole_overflow;
} number;

/* Reads digits [('.'|',') digits] at *pp. Returns 1 and advances *pp when at least one digit was read. */
static int read_number(const char **pp, int allow_comma, number *n)
{
    const char *p = *pp;
    int digits = 0;
    memset(n, 0, sizeof *n);
    for (; isdigit((unsigned char)*p); p++, digits++) {
        unsigned d = (unsigned)(*p - '0');
        if (n->whole > (UINT64_MAX - d) / 10)
            n->whole_overflow = 1;
        else
            n->whole = n->whole * 10 + d;
    }
    if (*p == '.' || (allow_comma && *p == ',')) {
        const char *q = p + 1;
        for (; isdigit((unsigned char)*q); q++, digits++) {
            if (n->frac_digits < MAX_FRAC_DIGITS) {
                n->frac = n->frac * 10 + (*q - '0');
                n->frac_digits++;
            }
        }
        if (q > p + 1 || digits > 0)
            p = q;
    }
    if (digits == 0)
        return 0;
    *pp = p;
    return 1;
}

/* n * unit in microseconds; returns 0 on overflow. */
static int number_times_unit(const number *n, const unit *u, int64_t *out)
{
    if (n->whole_overflow)
        return 0;
    int64_t scale = u->mant * POW10[u->exp10];
    if (n->whole > (uint64_t)(INT64_MAX / scale))
        return 0;
    int64_t whole = (int64_t)n->whole * scale;
    int64_t frac;
    if (n->frac_digits <= u->exp10)
        frac = n->frac * u->mant * POW10[u->exp10 - n->frac_digits];
    else
        frac = n->frac * u->mant / POW10[n->frac_digits - u->exp10];
    if (whole > INT64_MAX - frac)
        return 0;
    *out = whole + frac;
    return 1;
}

static const unit *find_unit(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++)
        if (strlen(UNITS[i].name) == len && strncmp(UNITS[i].name, name, len) == 0)
            return &UNITS[i];
    return NULL;
}

static int add_checked(int64_t *total, int64_t v)
{
    if (*total > INT64_MAX - v)
        return 0;
    *total += v;
    return 1;
}

static int too_large(const char *s, char *err, size_t errlen)
{
    snprintf(err, errlen, "duration \"%s\" is too large (at most about 292,000 years)", s);
    return MLF_ERANGE;
}

/* ISO 8601: P[nW] or P[nY][nM][nD][T[nH][nM][nS]] (years and months refused). @p s starts after 'P'. */
static int parse_iso(const char *whole, const char *s, int64_t *out, char *err, size_t errlen)
{
    static const unit DAY = {"D", 864, 8}, WEEK = {"W", 6048, 8}, HOUR = {"H", 36, 8},
                      MINUTE = {"M", 6, 7}, SECOND = {"S", 1, 6};
    /* Designators in the order ISO allows them; rank makes "PT5M1H" an error. */
    const char *p = s;
    int in_time = 0, rank = 0, parts = 0;
    int64_t total = 0;
    while (*p) {
        if (toupper((unsigned char)*p) == 'T') {
            if (in_time) {
                snprintf(err, errlen, "ISO 8601 duration \"%s\": 'T' appears twice", whole);
                return MLF_EPARSE;
            }
            in_time = 1;
            p++;
            if (!*p) {
                snprintf(err, errlen, "ISO 8601 duration \"%s\": nothing after 'T'", whole);
                return MLF_EPARSE;
            }
            continue;
        }
        number n;
        if (!read_number(&p, 1, &n)) {
            snprintf(err, errlen, "ISO 8601 duration \"%s\": expected a number at \"%s\"", whole, p);
            return MLF_EPARSE;
        }
        char d = (char)toupper((unsigned char)*p);
        const unit *u = NULL;
        int r = 0;
        if (!in_time && (d == 'Y' || d == 'M')) {
            snprintf(err, errlen,
                     "ISO 8601 duration \"%s\": %s have no fixed length; use days (D) or weeks (W) instead",
                     whole, d == 'Y' ? "years" : "months");
            return MLF_EPARSE;
        }
        if (!in_time && d == 'W')
            u = &WEEK, r = 1;
        else if (!in_time && d == 'D')
            u = &DAY, r = 2;
        else if (in_time && d == 'H')
            u = &HOUR, r = 3;
        else if (in_time && d == 'M')
            u = &MINUTE, r = 4;
        else if (in_time && d == 'S')
            u = &SECOND, r = 5;
        if (!u) {
            if (*p)
                snprintf(err, errlen,
                         "ISO 8601 duration \"%s\": unknown designator '%c' %s (valid: %s)", whole, *p,
                         in_time ? "after T" : "before T", in_time ? "H, M, S" : "W, D, or T then H, M, S");
            else
                snprintf(err, errlen, "ISO 8601 duration \"%s\": number without a designator at the end",
                         whole);
            return MLF_EPARSE;
        }
        if (rank == 1 || (r == 1 && rank > 0)) {
            snprintf(err, errlen, "ISO 8601 duration \"%s\": weeks (W) cannot be combined with other parts",
                     whole);
            return MLF_EPARSE;
        }
        if (r <= rank) {
            snprintf(err, errlen, "ISO 8601 duration \"%s\": designator '%c' is out of order or repeated",
                     whole, *p);
            return MLF_EPARSE;
        }
        rank = r;
        int64_t v;
        if (!number_times_unit(&n, u, &v) || !add_checked(&total, v))
            return too_large(whole, err, errlen);
        p++;
        parts++;
    }
    if (parts == 0) {
        snprintf(err, errlen, "ISO 8601 duration \"%s\" has no components (e.g. PT5M, P1D)", whole);
        return MLF_EPARSE;
    }
    *out = total;
    return MLF_OK;
}

static int parse_units(const char *whole, const char *s, int64_t *out, char *err, size_t errlen)
{
    const char *p = s;
    int64_t total = 0;
    int parts = 0;
    while (*p) {
        number n;
        const char *num_at = p;
        if (!read_number(&p, 0, &n)) {
            snprintf(err, errlen, "duration \"%s\": expected a number at \"%s\" (e.g. 30s, 5m, 1h30m)",
                     whole, p);
            return MLF_EPARSE;
        }
        const char *num_end = p;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *unit_at = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t ulen = (size_t)(p - unit_at);
        const unit *u;
        if (ulen == 0) {
            if (parts > 0 || *p) {
                snprintf(err, errlen, "duration \"%s\": missing unit after \"%.*s\" (valid units: %s)",
                         whole, (int)(num_end - num_at), num_at, VALID_UNITS);
                return MLF_EPARSE;
            }
            u = find_unit("s", 1); /* a plain number counts seconds */
        } else if (!(u = find_unit(unit_at, ulen))) {
            snprintf(err, errlen, "duration \"%s\": unknown unit \"%.*s\" (valid units: %s)", whole,
                     (int)ulen, unit_at, VALID_UNITS);
            return MLF_EPARSE;
        }
        int64_t v;
        if (!number_times_unit(&n, u, &v) || !add_checked(&total, v))
            return too_large(whole, err, errlen);
        parts++;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    *out = total;
    return MLF_OK;
}

int mlf_duration_parse(const char *s, int64_t *out_us, char *err, size_t errlen)
{
    if (!s || !out_us) {
        snprintf(err, errlen, "duration: NULL argument");
        return MLF_EINVAL;
    }
    /* Work on a trimmed copy so that messages quote what the user wrote, without padding. */
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    char buf[128];
    if (len >= sizeof buf) {
        snprintf(err, errlen, "duration \"%.40s...\" is too long (%zu characters)", s, len);
        return MLF_EPARSE;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (len == 0) {
        snprintf(err, errlen, "empty duration (write e.g. 30s, 5m, 1h30m or PT5M)");
        return MLF_EPARSE;
    }
    if (buf[0] == '-') {
        snprintf(err, errlen, "duration \"%s\" is negative; durations must be zero or more", buf);
        return MLF_EPARSE;
    }
    int64_t v = 0;
    int rc = (buf[0] == 'P' || buf[0] == 'p') ? parse_iso(buf, buf + 1, &v, err, errlen)
                                              : parse_units(buf, buf, &v, err, errlen);
    if (rc == MLF_OK)
        *out_us = v;
    return rc;
}

int mlf_duration_format(int64_t us, char *buf, size_t n)
{
    static const struct {
        const char *name;
        uint64_t us;
    } PARTS[] = {{"d", 86400000000ULL}, {"h", 3600000000ULL}, {"m", 60000000ULL}, {"s", 1000000ULL}};
    char tmp[MLF_DURATION_FMT_MAX];
    size_t len = 0;
    uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    if (us < 0)
        tmp[len++] = '-';
    for (size_t i = 0; i < sizeof PARTS / sizeof PARTS[0]; i++) {
        uint64_t q = mag / PARTS[i].us;
        mag %= PARTS[i].us;
        if (q)
            len += (size_t)snprintf(tmp + len, sizeof tmp - len, "%" PRIu64 "%s", q, PARTS[i].name);
    }
    if (mag % 1000 == 0 && mag)
        len += (size_t)snprintf(tmp + len, sizeof tmp - len, "%" PRIu64 "ms", mag / 1000);
    else if (mag)
        len += (size_t)snprintf(tmp + len, sizeof tmp - len, "%" PRIu64 "us", mag);
    if (len == 0)
        snprintf(tmp, sizeof tmp, "0s");
    return mlf_strlcpy(buf, tmp, n) < n ? MLF_OK : MLF_ERANGE;
}
