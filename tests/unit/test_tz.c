/*
 * Unit tests for core/tz.c: real zones from the system tzdata (Europe/Berlin, America/New_York,
 * Australia/Sydney...), the footer rule past the last transition, synthetic TZif files for the v1 path,
 * every POSIX rule form and every refused file, DST gap/fold resolution, names, TZDIR, the cache.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "time/civil.h"
#include "time/tz.h"

#define H 3600
#define SEC MLF_US_PER_SEC

/* A UTC instant from fields. */
static mlf_time_us U(int y, int m, int d, int hh, int mm, int ss)
{
    return (mlf_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * SEC;
}

/* "YYYY-MM-DD HH:MM:SS" as a UTC instant, or as local microseconds for the wall-clock tables. */
static mlf_time_us T(const char *s)
{
    int y, m, d, hh, mm, ss;
    ck_assert_int_eq(sscanf(s, "%d-%d-%d %d:%d:%d", &y, &m, &d, &hh, &mm, &ss), 6);
    return U(y, m, d, hh, mm, ss);
}

static const mlf_tz *zone(const char *name)
{
    const mlf_tz *tz = NULL;
    char err[512] = "";
    int rc = mlf_tz_load(name, &tz, err, sizeof err);
    ck_assert_msg(rc == MLF_OK, "loading %s: %s", name, err);
    return tz;
}

/* ------------------------------------------------------------------------------ offsets */

static const struct {
    const char *zone;
    const char *t;
    int32_t utoff;
    const char *abbr;
} OFFSETS[] = {
    /* Berlin 2024: CET -> CEST at 01:00Z on 31 March, back at 01:00Z on 27 October. */
    {"Europe/Berlin", "2024-03-31 00:59:59", 1 * H, "CET"},
    {"Europe/Berlin", "2024-03-31 01:00:00", 2 * H, "CEST"},
    {"Europe/Berlin", "2024-10-27 00:59:59", 2 * H, "CEST"},
    {"Europe/Berlin", "2024-10-27 01:00:00", 1 * H, "CET"},
    /* New York 2024: EST -> EDT at 07:00Z on 10 March, back at 06:00Z on 3 November. */
    {"America/New_York", "2024-03-10 06:59:59", -5 * H, "EST"},
    {"America/New_York", "2024-03-10 07:00:00", -4 * H, "EDT"},
    {"America/New_York", "2024-11-03 05:59:59", -4 * H, "EDT"},
    {"America/New_York", "2024-11-03 06:00:00", -5 * H, "EST"},
    /* Past the last listed transition: the footer rule decides (Berlin: 28 March / 31 October 2100). */
    {"Europe/Berlin", "2100-03-28 00:59:59", 1 * H, "CET"},
    {"Europe/Berlin", "2100-03-28 01:00:00", 2 * H, "CEST"},
    {"Europe/Berlin", "2100-10-31 00:59:59", 2 * H, "CEST"},
    {"Europe/Berlin", "2100-10-31 01:00:00", 1 * H, "CET"},
    /* Southern hemisphere rule, DST across the new year: Sydney 2100 (3 April / 2 October, 16:00Z). */
    {"Australia/Sydney", "2100-01-15 00:00:00", 11 * H, "AEDT"},
    {"Australia/Sydney", "2100-04-03 15:59:59", 11 * H, "AEDT"},
    {"Australia/Sydney", "2100-04-03 16:00:00", 10 * H, "AEST"},
    {"Australia/Sydney", "2100-10-02 16:00:00", 11 * H, "AEDT"},
    /* Before the first transition: local mean time (type 0). */
    {"Europe/Berlin", "1890-01-01 00:00:00", 3208, "LMT"},
    /* Half-hour and fixed zones. */
    {"Asia/Kolkata", "2024-06-01 00:00:00", 5 * H + 1800, "IST"},
    {"UTC", "2024-06-01 00:00:00", 0, "UTC"},
    {"Etc/UTC", "2024-06-01 00:00:00", 0, "UTC"},
};

START_TEST(test_offsets)
{
    const mlf_tz *tz = zone(OFFSETS[_i].zone);
    mlf_tz_period p;
    mlf_tz_period_at(tz, T(OFFSETS[_i].t), &p);
    ck_assert_msg(p.utoff == OFFSETS[_i].utoff, "%s case %d: utoff %d want %d", OFFSETS[_i].zone, _i, p.utoff,
                  OFFSETS[_i].utoff);
    ck_assert_str_eq(p.abbr, OFFSETS[_i].abbr);
    ck_assert_int_eq(mlf_tz_utoff_at(tz, T(OFFSETS[_i].t)), OFFSETS[_i].utoff);
    ck_assert(p.start <= T(OFFSETS[_i].t) && T(OFFSETS[_i].t) < p.end);
}
END_TEST

START_TEST(test_period_bounds)
{
    mlf_tz_period p;
    mlf_tz_period_at(zone("Europe/Berlin"), U(2024, 6, 1, 12, 0, 0), &p);
    ck_assert_int_eq(p.start, U(2024, 3, 31, 1, 0, 0));
    ck_assert_int_eq(p.end, U(2024, 10, 27, 1, 0, 0));
    ck_assert_int_eq(p.utoff, 2 * H);
    ck_assert_int_eq(p.prev_utoff, 1 * H);
    ck_assert_int_eq(p.next_utoff, 1 * H);
    ck_assert_int_eq(p.is_dst, 1);
    /* In the footer-rule era the bounds are still exact. */
    mlf_tz_period_at(zone("America/New_York"), U(2150, 1, 10, 0, 0, 0), &p);
    ck_assert_int_eq(p.utoff, -5 * H);
    ck_assert_int_eq(p.is_dst, 0);
    ck_assert_int_eq(p.next_utoff, -4 * H);
    ck_assert_int_eq(mlf_tz_utoff_at(zone("America/New_York"), p.end - 1), -5 * H);
    ck_assert_int_eq(mlf_tz_utoff_at(zone("America/New_York"), p.end), -4 * H);
    ck_assert_int_eq(mlf_tz_utoff_at(zone("America/New_York"), p.start - 1), -4 * H);
    ck_assert_int_eq(p.end, U(2150, 3, 8, 7, 0, 0)); /* second Sunday of March 2150, 2am EST */
    /* UTC: one unbounded period. */
    mlf_tz_period_at(mlf_tz_utc(), 0, &p);
    ck_assert(p.start == INT64_MIN && p.end == INT64_MAX && p.utoff == 0 && p.prev_utoff == 0);
}
END_TEST

/* ------------------------------------------------------------------------------ wall clock -> UTC */

static const struct {
    const char *zone;
    const char *local;
    int fold;
    const char *want;
} FROM_LOCAL[] = {
    {"Europe/Berlin", "2024-01-15 12:00:00", MLF_TZ_FOLD_EARLIER, "2024-01-15 11:00:00"},
    {"Europe/Berlin", "2024-07-15 12:00:00", MLF_TZ_FOLD_LATER, "2024-07-15 10:00:00"},
    /* Gap: 02:30 does not exist on 31 March; shifted forward to 03:30 CEST either way. */
    {"Europe/Berlin", "2024-03-31 02:30:00", MLF_TZ_FOLD_EARLIER, "2024-03-31 01:30:00"},
    {"Europe/Berlin", "2024-03-31 02:30:00", MLF_TZ_FOLD_LATER, "2024-03-31 01:30:00"},
    {"Europe/Berlin", "2024-03-31 02:00:00", MLF_TZ_FOLD_EARLIER, "2024-03-31 01:00:00"},
    {"Europe/Berlin", "2024-03-31 03:00:00", MLF_TZ_FOLD_EARLIER, "2024-03-31 01:00:00"},
    {"Europe/Berlin", "2024-03-31 01:59:59", MLF_TZ_FOLD_EARLIER, "2024-03-31 00:59:59"},
    /* Fold: 02:30 happens twice on 27 October. */
    {"Europe/Berlin", "2024-10-27 02:30:00", MLF_TZ_FOLD_EARLIER, "2024-10-27 00:30:00"},
    {"Europe/Berlin", "2024-10-27 02:30:00", MLF_TZ_FOLD_LATER, "2024-10-27 01:30:00"},
    {"Europe/Berlin", "2024-10-27 03:00:00", MLF_TZ_FOLD_EARLIER, "2024-10-27 02:00:00"},
    /* New York: gap 02:00-03:00 on 10 March, fold 01:00-02:00 on 3 November. */
    {"America/New_York", "2024-03-10 02:30:00", MLF_TZ_FOLD_EARLIER, "2024-03-10 07:30:00"},
    {"America/New_York", "2024-11-03 01:30:00", MLF_TZ_FOLD_EARLIER, "2024-11-03 05:30:00"},
    {"America/New_York", "2024-11-03 01:30:00", MLF_TZ_FOLD_LATER, "2024-11-03 06:30:00"},
    /* Footer era. */
    {"America/New_York", "2150-03-08 02:30:00", MLF_TZ_FOLD_EARLIER, "2150-03-08 07:30:00"},
    /* A whole day skipped: Samoa went from 29 to 31 December 2011. */
    {"Pacific/Apia", "2011-12-30 12:00:00", MLF_TZ_FOLD_EARLIER, "2011-12-30 22:00:00"},
    {"UTC", "2024-01-01 00:00:00", MLF_TZ_FOLD_EARLIER, "2024-01-01 00:00:00"},
};

START_TEST(test_from_local)
{
    const mlf_tz *tz = zone(FROM_LOCAL[_i].zone);
    mlf_time_us got = mlf_tz_from_local(tz, T(FROM_LOCAL[_i].local), FROM_LOCAL[_i].fold);
    ck_assert_msg(got == T(FROM_LOCAL[_i].want), "case %d (%s): got %lld want %lld", _i, FROM_LOCAL[_i].zone,
                  (long long)(got / SEC), (long long)(T(FROM_LOCAL[_i].want) / SEC));
    /* Sub-second parts pass through. */
    ck_assert_int_eq(mlf_tz_from_local(tz, T(FROM_LOCAL[_i].local) + 250000, FROM_LOCAL[_i].fold),
                     T(FROM_LOCAL[_i].want) + 250000);
}
END_TEST

START_TEST(test_round_trip_every_hour)
{
    /* Every instant maps to a wall time that maps back (with the right fold) to the same instant. */
    const char *names[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"};
    for (size_t z = 0; z < sizeof names / sizeof names[0]; z++) {
        const mlf_tz *tz = zone(names[z]);
        for (mlf_time_us t = U(2011, 1, 1, 0, 0, 0); t < U(2013, 1, 1, 0, 0, 0); t += 1800 * SEC + 7) {
            int64_t local = mlf_tz_to_local(tz, t);
            mlf_time_us a = mlf_tz_from_local(tz, local, MLF_TZ_FOLD_EARLIER);
            mlf_time_us b = mlf_tz_from_local(tz, local, MLF_TZ_FOLD_LATER);
            if (a != t && b != t) /* plain test in the loop: each Check assertion costs a pipe write */
                ck_abort_msg("%s: %lld does not round-trip", names[z], (long long)t);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------------ names, cache */

START_TEST(test_names_and_cache)
{
    const mlf_tz *a = zone("Europe/Berlin"), *b = zone("Europe/Berlin");
    ck_assert_ptr_eq(a, b);
    ck_assert_str_eq(mlf_tz_name(a), "Europe/Berlin");
    ck_assert(!mlf_tz_is_utc(a));
    ck_assert(mlf_tz_is_utc(zone("UTC")));
    ck_assert(mlf_tz_is_utc(zone("Etc/UTC")));
    ck_assert_ptr_eq(zone("UTC"), mlf_tz_utc());
    mlf_tz_cache_clear();
    const mlf_tz *c = zone("Europe/Berlin");
    ck_assert_int_eq(mlf_tz_utoff_at(c, U(2024, 7, 1, 0, 0, 0)), 2 * H);
}
END_TEST

START_TEST(test_fixed)
{
    const mlf_tz *tz = NULL;
    ck_assert_int_eq(mlf_tz_fixed(2 * H, &tz), MLF_OK);
    ck_assert_str_eq(mlf_tz_name(tz), "+02:00");
    ck_assert_int_eq(mlf_tz_utoff_at(tz, 0), 2 * H);
    ck_assert_int_eq(mlf_tz_from_local(tz, U(2024, 1, 1, 2, 0, 0), 0), U(2024, 1, 1, 0, 0, 0));
    const mlf_tz *again = NULL;
    ck_assert_int_eq(mlf_tz_fixed(2 * H, &again), MLF_OK);
    ck_assert_ptr_eq(tz, again);
    ck_assert_int_eq(mlf_tz_fixed(-(5 * H + 1800), &tz), MLF_OK);
    ck_assert_str_eq(mlf_tz_name(tz), "-05:30");
    ck_assert_int_eq(mlf_tz_fixed(3 * H + 61, &tz), MLF_OK);
    ck_assert_str_eq(mlf_tz_name(tz), "+03:01:01");
    ck_assert_int_eq(mlf_tz_fixed(0, &tz), MLF_OK);
    ck_assert_ptr_eq(tz, mlf_tz_utc());
    ck_assert_int_eq(mlf_tz_fixed(24 * H, &tz), MLF_ERANGE);
    ck_assert_int_eq(mlf_tz_fixed(-24 * H, &tz), MLF_ERANGE);
}
END_TEST

static const struct {
    const char *name;
    int rc;
    const char *msg;
} BAD_NAMES[] = {
    {"", MLF_EINVAL, "invalid time zone name \"\""},
    {"../etc/passwd", MLF_EINVAL, "without \"..\""},
    {"Europe/../../etc/passwd", MLF_EINVAL, "invalid time zone name"},
    {"/etc/localtime", MLF_EINVAL, "a relative path"},
    {"Europe/Ber lin", MLF_EINVAL, "invalid time zone name"},
    {"Europe/Nowhere", MLF_ENOTFOUND, "unknown time zone \"Europe/Nowhere\" (no time zone file "},
    {"Europe", MLF_ENOTFOUND, "is not a time zone file"},
};

START_TEST(test_bad_names)
{
    const mlf_tz *tz = (const mlf_tz *)0x1;
    char err[512] = "";
    int rc = mlf_tz_load(BAD_NAMES[_i].name, &tz, err, sizeof err);
    ck_assert_msg(rc == BAD_NAMES[_i].rc, "\"%s\": rc %d (%s)", BAD_NAMES[_i].name, rc, err);
    ck_assert_msg(strstr(err, BAD_NAMES[_i].msg), "\"%s\": message \"%s\" lacks \"%s\"", BAD_NAMES[_i].name, err,
                  BAD_NAMES[_i].msg);
    ck_assert_ptr_eq(tz, (const mlf_tz *)0x1);
}
END_TEST

START_TEST(test_long_name_and_null)
{
    char name[400];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    const mlf_tz *tz;
    char err[128];
    ck_assert_int_eq(mlf_tz_load(name, &tz, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_tz_load(NULL, &tz, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_tz_load("UTC", NULL, NULL, 0), MLF_EINVAL);
    ck_assert_int_eq(mlf_tz_load("Europe/Nowhere", &tz, NULL, 0), MLF_ENOTFOUND);
}
END_TEST

START_TEST(test_unknown_name_shows_path)
{
    const mlf_tz *tz;
    char err[512];
    ck_assert_int_eq(mlf_tz_load("Mars/Olympus", &tz, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_msg(strstr(err, "/usr/share/zoneinfo/Mars/Olympus"), "%s", err);
}
END_TEST

/* ------------------------------------------------------------------------------ synthetic TZif files */

static char tzdir[64];

static void make_tzdir(void)
{
    snprintf(tzdir, sizeof tzdir, "/tmp/mlf_test_tz_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tzdir));
    setenv("TZDIR", tzdir, 1);
}

static void put_file(const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tzdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void rm_tzdir(const char *const *names, size_t n)
{
    char path[256];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", tzdir, names[i]);
        remove(path);
    }
    rmdir(tzdir);
    unsetenv("TZDIR");
}

typedef struct tzif_spec {
    char version;          /* 0 for a version 1 file, or '2' */
    int ntrans;
    const int64_t *trans;
    const unsigned char *idx;
    int ntypes;
    const int32_t *utoff;
    const unsigned char *isdst;
    const unsigned char *abbrind;
    const char *chars; /* NUL-separated */
    int nchars;
    const char *footer; /* v2 only */
    int leapcnt;
} tzif_spec;

static void put32(unsigned char **p, uint32_t v)
{
    (*p)[0] = (unsigned char)(v >> 24), (*p)[1] = (unsigned char)(v >> 16), (*p)[2] = (unsigned char)(v >> 8),
    (*p)[3] = (unsigned char)v;
    *p += 4;
}

static void put_block(unsigned char **p, const tzif_spec *s, int timesize)
{
    for (int i = 0; i < s->ntrans; i++) {
        if (timesize == 8)
            put32(p, (uint32_t)((uint64_t)s->trans[i] >> 32));
        put32(p, (uint32_t)s->trans[i]);
    }
    for (int i = 0; i < s->ntrans; i++)
        *(*p)++ = s->idx[i];
    for (int i = 0; i < s->ntypes; i++) {
        put32(p, (uint32_t)s->utoff[i]);
        *(*p)++ = s->isdst[i];
        *(*p)++ = s->abbrind[i];
    }
    memcpy(*p, s->chars, (size_t)s->nchars);
    *p += s->nchars;
    for (int i = 0; i < s->leapcnt; i++) {
        if (timesize == 8)
            put32(p, 0);
        put32(p, (uint32_t)(78796800 + i));
        put32(p, (uint32_t)i + 1);
    }
}

static void put_header(unsigned char **p, const tzif_spec *s)
{
    memcpy(*p, "TZif", 4);
    (*p)[4] = (unsigned char)s->version;
    memset(*p + 5, 0, 15);
    *p += 20;
    put32(p, 0); /* isutcnt */
    put32(p, 0); /* isstdcnt */
    put32(p, (uint32_t)s->leapcnt);
    put32(p, (uint32_t)s->ntrans);
    put32(p, (uint32_t)s->ntypes);
    put32(p, (uint32_t)s->nchars);
}

static size_t build_tzif(unsigned char *buf, const tzif_spec *s)
{
    unsigned char *p = buf;
    put_header(&p, s);
    put_block(&p, s, 4);
    if (s->version) {
        put_header(&p, s);
        put_block(&p, s, 8);
        *p++ = '\n';
        size_t fl = strlen(s->footer);
        memcpy(p, s->footer, fl);
        p += fl;
        *p++ = '\n';
    }
    return (size_t)(p - buf);
}

/* A zone with types XST (+1h) and XDT (+2h) switching at 2000-01-01 and 2000-07-01, and a footer. */
static const int64_t TRANS[2] = {946684800, 962409600};
static const unsigned char IDX[2] = {1, 0};
static const int32_t UTOFF[2] = {3600, 7200};
static const unsigned char ISDST[2] = {0, 1};
static const unsigned char ABBRIND[2] = {0, 4};
static const char CHARS[] = "XST\0XDT";

static tzif_spec spec_with_footer(const char *footer)
{
    return (tzif_spec){'2', 2, TRANS, IDX, 2, UTOFF, ISDST, ABBRIND, CHARS, 8, footer, 0};
}

START_TEST(test_tzdir_and_v1_file)
{
    static const char *const files[] = {"Test/V1", "Test"};
    make_tzdir();
    char sub[128];
    snprintf(sub, sizeof sub, "%s/Test", tzdir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    unsigned char buf[1024];
    tzif_spec s = spec_with_footer("");
    s.version = 0;
    put_file("Test/V1", buf, build_tzif(buf, &s));
    const mlf_tz *tz = zone("Test/V1");
    ck_assert_int_eq(mlf_tz_utoff_at(tz, U(1999, 6, 1, 0, 0, 0)), 3600);  /* type 0 before first */
    ck_assert_int_eq(mlf_tz_utoff_at(tz, U(2000, 3, 1, 0, 0, 0)), 7200);  /* after 2000-01-01 */
    ck_assert_int_eq(mlf_tz_utoff_at(tz, U(2030, 3, 1, 0, 0, 0)), 3600);  /* last type, no rule */
    mlf_tz_period p;
    mlf_tz_period_at(tz, U(2030, 1, 1, 0, 0, 0), &p);
    ck_assert_str_eq(p.abbr, "XST");
    ck_assert(p.end == INT64_MAX && p.start == TRANS[1] * SEC && p.prev_utoff == 7200);
    /* UTC needs no file, even with TZDIR pointing elsewhere; real zones are not found there. */
    ck_assert_ptr_eq(zone("UTC"), mlf_tz_utc());
    const mlf_tz *none;
    char err[512];
    ck_assert_int_eq(mlf_tz_load("Europe/Berlin", &none, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_msg(strstr(err, tzdir) && strstr(err, "/Europe/Berlin"), "%s", err);
    rm_tzdir(files, 2);
}
END_TEST

static const struct {
    const char *footer;
    const char *t;
    int32_t utoff;
} RULES[] = {
    /* Jn counts 1-365 and never Feb 29: J60 is 1 March even in a leap year (2024). */
    {"XST-1XDT,J60,J300", "2024-03-01 00:59:59", 3600},
    {"XST-1XDT,J60,J300", "2024-03-01 01:00:00", 7200},
    {"XST-1XDT,J60,J300", "2023-03-01 01:00:00", 7200},
    /* n counts 0-365 with Feb 29: day 59 is 29 February in 2024, 1 March in 2023. */
    {"XST-1XDT,59,299", "2024-02-29 01:00:00", 7200},
    {"XST-1XDT,59,299", "2024-02-29 00:59:59", 3600},
    {"XST-1XDT,59,299", "2023-03-01 01:00:00", 7200},
    {"XST-1XDT,59,299", "2023-02-28 12:00:00", 3600},
    /* Mm.w.d with explicit times and a DST offset other than one hour. */
    {"XST-1XDT-3,M4.1.0/4:30,M9.5.6/0", "2030-04-07 03:29:59", 3600}, /* first Sunday of April 2030 = 7th */
    {"XST-1XDT-3,M4.1.0/4:30,M9.5.6/0", "2030-04-07 03:30:00", 3 * 3600},
    {"XST-1XDT-3,M4.1.0/4:30,M9.5.6/0", "2030-09-27 20:59:59", 3 * 3600}, /* last Saturday: 28th */
    {"XST-1XDT-3,M4.1.0/4:30,M9.5.6/0", "2030-09-27 21:00:00", 3600},
    /* Rule times that are negative or midnight (America/Nuuk since 2023): -1:00 and 0:00 local. */
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2030-03-31 00:59:59", -2 * 3600},
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2030-03-31 01:00:00", -1 * 3600},
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2030-10-27 00:59:59", -1 * 3600},
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2030-10-27 01:00:00", -2 * 3600},
    /* No rule after the names: the US default rule (second Sunday of March, first of November). */
    {"EST5EDT", "2030-03-10 07:00:00", -4 * 3600},
    {"EST5EDT", "2030-03-10 06:59:59", -5 * 3600},
    /* Permanent DST written as a rule that never ends. */
    {"EST5EDT4,0/0,J365/25", "2030-01-01 02:00:00", -4 * 3600},
    {"EST5EDT4,0/0,J365/25", "2030-07-01 02:00:00", -4 * 3600},
    {"EST5EDT4,0/0,J365/25", "2031-01-01 04:30:00", -4 * 3600},
    /* No DST at all, quoted names. */
    {"<+0330>-3:30", "2030-07-01 00:00:00", 3 * 3600 + 1800},
    {"<-03>3", "2030-07-01 00:00:00", -3 * 3600},
};

START_TEST(test_posix_rules)
{
    static const char *const files[] = {"R"};
    make_tzdir();
    unsigned char buf[1024];
    tzif_spec s = spec_with_footer(RULES[_i].footer);
    put_file("R", buf, build_tzif(buf, &s));
    const mlf_tz *tz = zone("R");
    ck_assert_msg(mlf_tz_utoff_at(tz, T(RULES[_i].t)) == RULES[_i].utoff, "\"%s\" case %d: %d want %d",
                  RULES[_i].footer, _i, mlf_tz_utoff_at(tz, T(RULES[_i].t)), RULES[_i].utoff);
    /* Before the footer era the table still rules. */
    ck_assert_int_eq(mlf_tz_utoff_at(tz, U(2000, 3, 1, 0, 0, 0)), 7200);
    rm_tzdir(files, 1);
}
END_TEST

/* Damaged files: each is refused with MLF_EPARSE and a message naming the problem. */
enum { DMG_MAGIC, DMG_TRUNC, DMG_FOOTER, DMG_TYPEIDX, DMG_ORDER, DMG_LEAP, DMG_NOFOOTER, DMG_UTOFF, DMG_ABBR,
       DMG_BIG, DMG_COUNTS, DMG_NOTYPES, DMG_COUNT };

static const char *const DMG_MSG[DMG_COUNT] = {
    "not a TZif file", "truncated", "bad TZ string", "names type", "not ascending", "leap seconds",
    "missing footer", "local time type 0 is invalid", "local time type 1 is invalid", "too large",
    "implausible counts", "no local time types"};

START_TEST(test_damaged_files)
{
    static const char *const files[] = {"D"};
    make_tzdir();
    static unsigned char buf[2 * 1024 * 1024];
    int64_t bad_order[2] = {TRANS[1], TRANS[0]};
    unsigned char bad_idx[2] = {1, 5};
    int32_t bad_utoff[2] = {100 * 3600, 0};
    unsigned char bad_abbrind[2] = {0, 200};
    tzif_spec s = spec_with_footer("XST-1");
    size_t len;
    switch (_i) {
    case DMG_MAGIC: len = build_tzif(buf, &s), buf[0] = 'X'; break;
    case DMG_TRUNC: len = build_tzif(buf, &s) - 30; break;
    case DMG_FOOTER: s.footer = "XST-1XDT,M13.1.0,M10.5.0"; len = build_tzif(buf, &s); break;
    case DMG_TYPEIDX: s.idx = bad_idx; len = build_tzif(buf, &s); break;
    case DMG_ORDER: s.trans = bad_order; len = build_tzif(buf, &s); break;
    case DMG_LEAP: s.leapcnt = 2; len = build_tzif(buf, &s); break;
    case DMG_NOFOOTER: len = build_tzif(buf, &s) - strlen(s.footer) - 2; break;
    case DMG_UTOFF: s.utoff = bad_utoff; len = build_tzif(buf, &s); break;
    case DMG_ABBR: s.abbrind = bad_abbrind; len = build_tzif(buf, &s); break;
    case DMG_BIG: len = sizeof buf; memset(buf, 0, len); break;
    case DMG_COUNTS:
        len = build_tzif(buf, &s);
        buf[32] = 0x7f; /* timecnt of the v1 header: two billion */
        break;
    default:
        s.ntypes = 0, s.ntrans = 0;
        len = build_tzif(buf, &s);
        break;
    }
    put_file("D", buf, len);
    const mlf_tz *tz;
    char err[512] = "";
    ck_assert_int_eq(mlf_tz_load("D", &tz, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strstr(err, DMG_MSG[_i]), "case %d: \"%s\" lacks \"%s\"", _i, err, DMG_MSG[_i]);
    ck_assert_msg(strstr(err, tzdir), "message names the file: %s", err);
    rm_tzdir(files, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tz");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_offsets, 0, (int)(sizeof OFFSETS / sizeof OFFSETS[0]));
    tcase_add_test(tc, test_period_bounds);
    tcase_add_loop_test(tc, test_from_local, 0, (int)(sizeof FROM_LOCAL / sizeof FROM_LOCAL[0]));
    tcase_add_test(tc, test_round_trip_every_hour);
    tcase_add_test(tc, test_names_and_cache);
    tcase_add_test(tc, test_fixed);
    tcase_add_loop_test(tc, test_bad_names, 0, (int)(sizeof BAD_NAMES / sizeof BAD_NAMES[0]));
    tcase_add_test(tc, test_long_name_and_null);
    tcase_add_test(tc, test_unknown_name_shows_path);
    tcase_add_test(tc, test_tzdir_and_v1_file);
    tcase_add_loop_test(tc, test_posix_rules, 0, (int)(sizeof RULES / sizeof RULES[0]));
    tcase_add_loop_test(tc, test_damaged_files, 0, DMG_COUNT);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
