/*
 * Unit tests for core/cron.c: every parse error, field syntax, month ends, leap days, Vixie DOM/DOW OR,
 * steps, strictness of next/prev, and DST in Europe/Berlin and America/New_York for jobs at 02:30 and 01:30.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/civil.h"
#include "time/cron.h"
#include "time/tz.h"

#define SEC MLF_US_PER_SEC

/* "YYYY-MM-DD HH:MM[:SS]" as a UTC instant. */
static mlf_time_us T(const char *s)
{
    int y, m, d, hh, mm, ss = 0;
    ck_assert_int_ge(sscanf(s, "%d-%d-%d %d:%d:%d", &y, &m, &d, &hh, &mm, &ss), 5);
    return (mlf_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * SEC;
}

static const char *show(mlf_time_us t, char *buf, size_t n)
{
    mlf_civil c;
    mlf_civil_from_time(t, &c);
    snprintf(buf, n, "%04lld-%02d-%02d %02d:%02d:%02d.%06dZ", (long long)c.year, c.month, c.day, c.hour,
             c.minute, c.second, c.usec);
    return buf;
}

static mlf_cron parse_ok(const char *expr)
{
    mlf_cron c;
    char err[256] = "";
    ck_assert_msg(mlf_cron_parse(expr, &c, err, sizeof err) == MLF_OK, "\"%s\": %s", expr, err);
    return c;
}

static const mlf_tz *zone(const char *name)
{
    const mlf_tz *tz;
    char err[256] = "";
    ck_assert_msg(mlf_tz_load(name, &tz, err, sizeof err) == MLF_OK, "%s", err);
    return tz;
}

/* ------------------------------------------------------------------------------ parse errors */

static const struct {
    const char *expr, *msg;
} BAD[] = {
    {"", "has 0 fields; expected 5 (minute hour day-of-month month day-of-week)"},
    {"* * * *", "has 4 fields; expected 5"},
    {"* * * * * *", "has more than 5 fields"},
    {"61 * * * *", "minute field: 61 is out of range 0-59"},
    {"* 24 * * *", "hour field: 24 is out of range 0-23"},
    {"* * 0 * *", "day-of-month field: 0 is out of range 1-31"},
    {"* * 32 * *", "day-of-month field: 32 is out of range 1-31"},
    {"* * * 13 *", "month field: 13 is out of range 1-12"},
    {"* * * 0 *", "month field: 0 is out of range 1-12"},
    {"* * * * 8", "day-of-week field: 8 is out of range 0-7"},
    {"0-60 * * * *", "minute field: 60 is out of range 0-59"},
    {"* * * foo *", "month field: unknown name \"foo\" (allowed: 1-12 or jan-dec)"},
    {"* * * * funday", "day-of-week field: unknown name \"funday\" (allowed: 0-7 or sun-sat)"},
    {"abc * * * *", "minute field: \"abc\" is not a number (allowed: 0-59)"},
    {"5x * * * *", "minute field: \"5x\" is not a number (allowed: 0-59)"},
    {"* mon * * *", "hour field: \"mon\" is not a number (allowed: 0-23)"},
    {"30-10 * * * *", "minute field: range 30-10 is reversed (allowed: 0-59)"},
    {"* * * dec-jan *", "month field: range 12-1 is reversed"},
    {"*/0 * * * *", "minute field: step 0 is out of range 1-60"},
    {"*/61 * * * *", "minute field: step 61 is out of range 1-60"},
    {"* */25 * * *", "hour field: step 25 is out of range 1-24"},
    {"*/x * * * *", "minute field: step \"x\" is not a number"},
    {"*/ * * * *", "minute field: step \"\" is not a number"},
    {"1,,2 * * * *", "minute field: empty item in \"1,,2\""},
    {"1, * * * *", "minute field: empty item in \"1,\""},
    {"- * * * *", "minute field: missing value (allowed: 0-59)"},
    {"1-2-3 * * * *", "minute field: unexpected \"-3\" (allowed: 0-59)"},
    {"*5 * * * *", "minute field: unexpected \"5\""},
    {"* * L * *", "day-of-month field: \"L\" is not supported (Quartz-style L, W, # and ? are not part of Vixie"},
    {"* * 15W * *", "day-of-month field: \"15W\" is not supported"},
    {"* * * * 5#3", "day-of-week field: \"5#3\" is not supported"},
    {"* * ? * *", "day-of-month field: \"?\" is not supported"},
    {"@fortnightly", "unknown cron preset \"@fortnightly\" (valid: @hourly, @daily, @midnight, @weekly, @monthly, "
                     "@quarterly, @yearly, @annually)"},
    {"@daily 5", "unknown cron preset \"@daily 5\""},
    {"@once", "unknown cron preset \"@once\""},
    {"0 0 30 2 *", "cron expression \"0 0 30 2 *\" never fires: day-of-month \"30\" never occurs in month \"2\" "
                   "(e.g. February has 29 days at most)"},
    {"0 0 31 4,6,9,11 *", "never fires: day-of-month \"31\" never occurs in month \"4,6,9,11\" (e.g. April has 30"},
    {"0 0 30,31 feb *", "never fires"},
};

START_TEST(test_parse_errors)
{
    mlf_cron c;
    char err[512] = "";
    ck_assert_int_eq(mlf_cron_parse(BAD[_i].expr, &c, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strstr(err, BAD[_i].msg), "\"%s\": message \"%s\" lacks \"%s\"", BAD[_i].expr, err, BAD[_i].msg);
}
END_TEST

START_TEST(test_parse_misc)
{
    mlf_cron c;
    char err[64];
    ck_assert_int_eq(mlf_cron_parse(NULL, &c, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_cron_parse("* * * * *", NULL, NULL, 0), MLF_EINVAL);
    char big[400];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(mlf_cron_parse(big, &c, err, sizeof err), MLF_EPARSE);
    ck_assert(strstr(err, "too long") != NULL);
    ck_assert_str_eq(mlf_cron_preset("@daily"), "0 0 * * *");
    ck_assert_str_eq(mlf_cron_preset("@MIDNIGHT"), "0 0 * * *");
    ck_assert_str_eq(mlf_cron_preset("@annually"), "0 0 1 1 *");
    ck_assert_ptr_null(mlf_cron_preset("@once"));
    ck_assert_ptr_null(mlf_cron_preset(NULL));
    ck_assert(mlf_cron_covers_every_hour(&(mlf_cron){0}) == 0);
    mlf_time_us o; /* a zeroed value never fires */
    ck_assert_int_eq(mlf_cron_next(&(mlf_cron){0}, NULL, 0, &o), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_cron_prev(&(mlf_cron){0}, NULL, 0, 1, &o), MLF_ENOTFOUND);
    c = parse_ok("*/20 0-23 * * *");
    ck_assert(mlf_cron_covers_every_hour(&c));
    c = parse_ok("0 */2 * * *");
    ck_assert(!mlf_cron_covers_every_hour(&c));
}
END_TEST

/* Equivalent spellings give the same parsed value. */
static const struct {
    const char *a, *b;
} SAME[] = {
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@quarterly", "0 0 1 1,4,7,10 *"},
    {"@yearly", "0 0 1 1 *"},
    {"  @annually  ", "0 0 1 1 *"},
    {"* * * * 7", "* * * * 0"},
    {"* * * * sun", "* * * * 0"},
    {"* * * * SUN-sat", "* * * * *"},
    {"* * * * 0-7", "* * * * *"},
    {"* * * * fri-sun", "* * * * 0,5,6"},
    {"* * * JAN-Mar *", "* * * 1,2,3 *"},
    {"* * * jan-jun/2 *", "* * * 1,3,5 *"},
    {"1/15 * * * *", "1,16,31,46 * * * *"},
    {"1-30/5 * * * *", "1,6,11,16,21,26 * * * *"},
    {"*/15 * * * *", "0,15,30,45 * * * *"},
    {"5/20 * * * *", "5,25,45 * * * *"},
    {"*/60 * * * *", "0 * * * *"},
    {"* * 1-31 * *", "* * * * *"},
    {"0\t0\t*\t*\t*", "0 0 * * *"},
    {"* * * * */2", "* * * * 0,2,4,6"},
};

START_TEST(test_same)
{
    mlf_cron a = parse_ok(SAME[_i].a), b = parse_ok(SAME[_i].b);
    ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "\"%s\" differs from \"%s\"", SAME[_i].a, SAME[_i].b);
}
END_TEST

/* ------------------------------------------------------------------------------ UTC searches */

/* expr, op ('N' next, 'P' prev, 'I' prev inclusive), from, want */
static const struct {
    const char *expr;
    char op;
    const char *from, *want;
} UTC_CASES[] = {
    /* strictness, sub-minute starts */
    {"* * * * *", 'N', "2024-05-01 10:00:30", "2024-05-01 10:01"},
    {"* * * * *", 'N', "2024-05-01 10:00", "2024-05-01 10:01"},
    {"* * * * *", 'P', "2024-05-01 10:00:30", "2024-05-01 10:00"},
    {"* * * * *", 'P', "2024-05-01 10:00", "2024-05-01 09:59"},
    {"* * * * *", 'I', "2024-05-01 10:00", "2024-05-01 10:00"},
    {"0 0 * * *", 'N', "2024-12-31 23:59:59", "2025-01-01 00:00"},
    {"0 0 * * *", 'P', "2025-01-01 00:00", "2024-12-31 00:00"},
    /* month ends: the 31st skips 30-day months and February */
    {"0 0 31 * *", 'N', "2024-01-31 00:00", "2024-03-31 00:00"},
    {"0 0 31 * *", 'N', "2024-03-31 00:00", "2024-05-31 00:00"},
    {"0 0 31 * *", 'N', "2024-05-31 00:00", "2024-07-31 00:00"},
    {"0 0 31 * *", 'N', "2024-07-31 00:00", "2024-08-31 00:00"},
    {"0 0 31 * *", 'N', "2024-08-31 00:00", "2024-10-31 00:00"},
    {"0 0 31 * *", 'P', "2024-07-01 00:00", "2024-05-31 00:00"},
    {"0 0 30 * *", 'N', "2024-01-30 00:00", "2024-03-30 00:00"},
    /* leap days */
    {"0 0 29 2 *", 'N', "2024-03-01 00:00", "2028-02-29 00:00"},
    {"0 0 29 2 *", 'N', "2096-03-01 00:00", "2104-02-29 00:00"}, /* 2100 is not a leap year */
    {"0 0 29 2 *", 'P', "2028-01-01 00:00", "2024-02-29 00:00"},
    {"0 0 29 2 *", 'P', "2104-02-28 00:00", "2096-02-29 00:00"},
    {"0 12 28-29 2 *", 'N', "2023-02-28 12:00", "2024-02-28 12:00"},
    {"0 12 28-29 2 *", 'N', "2024-02-28 12:00", "2024-02-29 12:00"},
    /* Vixie: both day fields restricted -> either matches */
    {"0 0 13 * 5", 'N', "2024-09-01 00:00", "2024-09-06 00:00"}, /* Friday the 6th */
    {"0 0 13 * 5", 'N', "2024-09-06 00:00", "2024-09-13 00:00"}, /* Friday the 13th */
    {"0 0 13 * 5", 'N', "2024-10-11 00:00", "2024-10-13 00:00"}, /* Sunday the 13th */
    {"0 0 13 * 5", 'N', "2024-10-13 00:00", "2024-10-18 00:00"},
    {"0 0 13 * 5", 'P', "2024-10-18 00:00", "2024-10-13 00:00"},
    {"0 0 */2 * 1", 'N', "2024-09-01 00:00", "2024-09-02 00:00"}, /* Monday the 2nd: OR, as croniter */
    {"0 0 1 * 1-5", 'N', "2024-06-01 00:00", "2024-06-03 00:00"}, /* Mon 3rd before the 1st of July */
    /* one day field unrestricted -> the other alone decides */
    {"0 0 * * 5", 'N', "2024-09-06 00:00", "2024-09-13 00:00"},
    {"0 0 13 * *", 'N', "2024-09-01 00:00", "2024-09-13 00:00"},
    {"0 0 * * 0", 'N', "2024-09-01 00:00", "2024-09-08 00:00"},
    {"0 0 * * 7", 'N', "2024-09-01 00:00", "2024-09-08 00:00"},
    /* steps */
    {"1-30/5 * * * *", 'N', "2024-01-01 10:26", "2024-01-01 11:01"},
    {"1-30/5 * * * *", 'P', "2024-01-01 11:01", "2024-01-01 10:26"},
    {"*/7 * * * *", 'N', "2024-01-01 10:56", "2024-01-01 11:00"},
    {"*/15 9-17 * * 1-5", 'N', "2024-01-05 17:45", "2024-01-08 09:00"}, /* Friday evening -> Monday */
    {"*/15 9-17 * * 1-5", 'P', "2024-01-08 09:00", "2024-01-05 17:45"},
    {"59 23 31 12 *", 'N', "2024-12-31 23:59", "2025-12-31 23:59"},
    {"0 0 1 */3 *", 'N', "2024-01-01 00:00", "2024-04-01 00:00"},
    {"0 0 1 */3 *", 'P', "2024-01-01 00:00", "2023-10-01 00:00"},
    {"0 6 * * *", 'I', "2024-01-01 06:00:00", "2024-01-01 06:00"},
    {"0 6 * * *", 'I', "2024-01-01 05:59:59", "2023-12-31 06:00"},
    {"* * * * *", 'N', "1969-12-31 23:59:30", "1970-01-01 00:00"},
    {"0 0 1 1 *", 'P', "1601-06-01 00:00", "1601-01-01 00:00"},
};

static int run_op(const mlf_cron *c, const mlf_tz *tz, char op, mlf_time_us from, mlf_time_us *out)
{
    if (op == 'N')
        return mlf_cron_next(c, tz, from, out);
    return mlf_cron_prev(c, tz, from, op == 'I', out);
}

START_TEST(test_utc)
{
    mlf_cron c = parse_ok(UTC_CASES[_i].expr);
    mlf_time_us got = 0, want = T(UTC_CASES[_i].want);
    char a[64], b[64];
    ck_assert_int_eq(run_op(&c, NULL, UTC_CASES[_i].op, T(UTC_CASES[_i].from), &got), MLF_OK);
    ck_assert_msg(got == want, "\"%s\" %c from %s: got %s want %s", UTC_CASES[_i].expr, UTC_CASES[_i].op,
                  UTC_CASES[_i].from, show(got, a, sizeof a), show(want, b, sizeof b));
    /* The wall-clock search agrees in UTC. */
    int64_t w;
    if (UTC_CASES[_i].op == 'N') {
        ck_assert_int_eq(mlf_cron_next_local(&c, T(UTC_CASES[_i].from), &w), MLF_OK);
        ck_assert_int_eq(w, want);
    }
    ck_assert(mlf_cron_matches_local(&c, want));
}
END_TEST

START_TEST(test_sub_second_and_matches)
{
    mlf_cron c = parse_ok("0 10 * * *");
    mlf_time_us got;
    ck_assert_int_eq(mlf_cron_next(&c, NULL, T("2024-01-01 10:00") + 1, &got), MLF_OK);
    ck_assert_int_eq(got, T("2024-01-02 10:00"));
    ck_assert_int_eq(mlf_cron_prev(&c, NULL, T("2024-01-01 10:00") + 1, 0, &got), MLF_OK);
    ck_assert_int_eq(got, T("2024-01-01 10:00"));
    ck_assert(mlf_cron_matches_local(&c, T("2024-01-01 10:00:59")));
    ck_assert(!mlf_cron_matches_local(&c, T("2024-01-01 10:01")));
    /* At the edge of representable time there is nothing further. */
    ck_assert_int_eq(mlf_cron_next(&c, NULL, INT64_MAX - 1, &got), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_cron_prev(&c, NULL, INT64_MIN + 1, 0, &got), MLF_ENOTFOUND);
}
END_TEST

/* ------------------------------------------------------------------------------ DST */

static const struct {
    const char *zone, *expr;
    char op;
    const char *from, *want; /* UTC */
} DST_CASES[] = {
    /* Berlin, 31 March 2024: 02:00 CET -> 03:00 CEST at 01:00Z. 02:30 is skipped: runs once, at 03:30. */
    {"Europe/Berlin", "30 2 * * *", 'N', "2024-03-30 01:30", "2024-03-31 01:30"},
    {"Europe/Berlin", "30 2 * * *", 'N', "2024-03-31 01:30", "2024-04-01 00:30"},
    {"Europe/Berlin", "30 2 * * *", 'P', "2024-04-01 00:30", "2024-03-31 01:30"},
    {"Europe/Berlin", "30 2 * * *", 'P', "2024-03-31 01:30", "2024-03-30 01:30"},
    {"Europe/Berlin", "30 1 * * *", 'N', "2024-03-30 00:30", "2024-03-31 00:30"},
    {"Europe/Berlin", "30 1 * * *", 'N', "2024-03-31 00:30", "2024-03-31 23:30"},
    /* Berlin, 27 October 2024: 03:00 CEST -> 02:00 CET at 01:00Z. 02:30 repeats: runs once, the second. */
    {"Europe/Berlin", "30 2 * * *", 'N', "2024-10-26 00:30", "2024-10-27 01:30"},
    {"Europe/Berlin", "30 2 * * *", 'N', "2024-10-27 00:00", "2024-10-27 01:30"},
    {"Europe/Berlin", "30 2 * * *", 'N', "2024-10-27 01:30", "2024-10-28 01:30"},
    {"Europe/Berlin", "30 2 * * *", 'P', "2024-10-28 01:30", "2024-10-27 01:30"},
    {"Europe/Berlin", "30 2 * * *", 'P', "2024-10-27 01:30", "2024-10-26 00:30"},
    {"Europe/Berlin", "30 2 * * *", 'P', "2024-10-27 01:00", "2024-10-26 00:30"},
    {"Europe/Berlin", "30 1 * * *", 'N', "2024-10-26 22:30", "2024-10-26 23:30"}, /* 01:30 CEST */
    /* New York, 10 March 2024: 02:00 EST -> 03:00 EDT at 07:00Z. */
    {"America/New_York", "30 2 * * *", 'N', "2024-03-09 07:30", "2024-03-10 07:30"},
    {"America/New_York", "30 2 * * *", 'N', "2024-03-10 07:30", "2024-03-11 06:30"},
    {"America/New_York", "30 2 * * *", 'P', "2024-03-11 06:30", "2024-03-10 07:30"},
    {"America/New_York", "30 1 * * *", 'N', "2024-03-09 06:30", "2024-03-10 06:30"},
    {"America/New_York", "30 1 * * *", 'N', "2024-03-10 06:30", "2024-03-11 05:30"},
    /* New York, 3 November 2024: 02:00 EDT -> 01:00 EST at 06:00Z. 01:30 repeats: once, at 01:30 EST. */
    {"America/New_York", "30 1 * * *", 'N', "2024-11-02 05:30", "2024-11-03 06:30"},
    {"America/New_York", "30 1 * * *", 'N', "2024-11-03 06:30", "2024-11-04 06:30"},
    {"America/New_York", "30 1 * * *", 'P', "2024-11-04 06:30", "2024-11-03 06:30"},
    {"America/New_York", "30 1 * * *", 'P', "2024-11-03 06:30", "2024-11-02 05:30"},
    {"America/New_York", "30 2 * * *", 'N', "2024-11-02 06:30", "2024-11-03 07:30"},
    /* Crons covering every hour keep firing every hour of real time through both changes. */
    {"America/New_York", "30 * * * *", 'N', "2024-11-03 04:30", "2024-11-03 05:30"}, /* 01:30 EDT */
    {"America/New_York", "30 * * * *", 'N', "2024-11-03 05:30", "2024-11-03 06:30"}, /* 01:30 EST */
    {"America/New_York", "30 * * * *", 'N', "2024-11-03 06:30", "2024-11-03 07:30"}, /* 02:30 EST */
    {"America/New_York", "30 * * * *", 'P', "2024-11-03 06:30", "2024-11-03 05:30"},
    {"America/New_York", "0 * * * *", 'N', "2024-03-10 06:00", "2024-03-10 07:00"}, /* 01:00 EST -> 03:00 EDT */
    {"America/New_York", "0 * * * *", 'P', "2024-03-10 07:00", "2024-03-10 06:00"},
    {"Europe/Berlin", "*/30 * * * *", 'N', "2024-03-31 00:30", "2024-03-31 01:00"},
    {"Europe/Berlin", "*/30 * * * *", 'N', "2024-03-31 01:00", "2024-03-31 01:30"},
    /* A daily job at a time that exists normally is unaffected the day of the change. */
    {"Europe/Berlin", "0 12 * * *", 'N', "2024-03-30 11:00", "2024-03-31 10:00"},
    {"Europe/Berlin", "0 12 * * *", 'P', "2024-03-31 10:00", "2024-03-30 11:00"},
    /* Far future: the footer rule drives the same behaviour. */
    {"Europe/Berlin", "30 2 * * *", 'N', "2100-03-27 01:30", "2100-03-28 01:30"},
    {"Europe/Berlin", "30 2 * * *", 'N', "2100-10-30 00:30", "2100-10-31 01:30"},
};

START_TEST(test_dst)
{
    mlf_cron c = parse_ok(DST_CASES[_i].expr);
    mlf_time_us got = 0, want = T(DST_CASES[_i].want);
    char a[64], b[64];
    ck_assert_int_eq(run_op(&c, zone(DST_CASES[_i].zone), DST_CASES[_i].op, T(DST_CASES[_i].from), &got), MLF_OK);
    ck_assert_msg(got == want, "%s \"%s\" %c from %s: got %s want %s", DST_CASES[_i].zone, DST_CASES[_i].expr,
                  DST_CASES[_i].op, DST_CASES[_i].from, show(got, a, sizeof a), show(want, b, sizeof b));
}
END_TEST

/* Over a whole year: a daily job fires exactly once per local day, and an every-5-minutes job exactly
 * every 300 s of real time, through both DST changes; prev walks the same set back. */
START_TEST(test_year_walks)
{
    const char *zones[] = {"Europe/Berlin", "America/New_York"};
    for (size_t z = 0; z < 2; z++) {
        const mlf_tz *tz = zone(zones[z]);
        mlf_cron daily = parse_ok("30 2 * * *"), often = parse_ok("*/5 * * * *");
        mlf_time_us t = T("2024-01-01 12:00"), end = T("2025-01-01 12:00"), next;
        int days = 0, bad = 0;
        while (mlf_cron_next(&daily, tz, t, &next) == MLF_OK && next < end) {
            mlf_time_us back;
            if (mlf_cron_prev(&daily, tz, next, 0, &back) != MLF_OK || (days > 0 && back != t))
                bad++;
            if (days > 0 && (next - t < 23 * 3600 * SEC || next - t > 25 * 3600 * SEC))
                bad++;
            t = next, days++;
        }
        ck_assert_msg(days == 366 && bad == 0, "%s daily: %d runs, %d bad", zones[z], days, bad);
        t = T("2024-01-01 00:00");
        int steps = 0;
        bad = 0;
        while (mlf_cron_next(&often, tz, t, &next) == MLF_OK && next < end) {
            mlf_time_us back;
            if (next - t != 300 * SEC || mlf_cron_prev(&often, tz, next, 0, &back) != MLF_OK || back != t)
                bad++;
            t = next, steps++;
        }
        ck_assert_msg(bad == 0 && steps == 366 * 288 + 143, "%s */5: %d steps, %d bad", zones[z], steps, bad);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cron");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_parse_errors, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_parse_misc);
    tcase_add_loop_test(tc, test_same, 0, (int)(sizeof SAME / sizeof SAME[0]));
    tcase_add_loop_test(tc, test_utc, 0, (int)(sizeof UTC_CASES / sizeof UTC_CASES[0]));
    tcase_add_test(tc, test_sub_second_and_matches);
    tcase_add_loop_test(tc, test_dst, 0, (int)(sizeof DST_CASES / sizeof DST_CASES[0]));
    tcase_add_test(tc, test_year_walks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
