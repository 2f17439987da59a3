/* Unit tests for core/civil.c and core/timefmt.c: calendar arithmetic, parsing, template formats, strftime. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/civil.h"
#include "time/timefmt.h"
#include "time/tz.h"

#define SEC MLF_US_PER_SEC

static mlf_time_us U(int y, int m, int d, int hh, int mm, int ss)
{
    return (mlf_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * SEC;
}

/* ------------------------------------------------------------------------------ civil */

START_TEST(test_days_known)
{
    ck_assert_int_eq(mlf_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(mlf_days_from_civil(1969, 12, 31), -1);
    ck_assert_int_eq(mlf_days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(mlf_days_from_civil(1, 1, 1), -719162);
    ck_assert_int_eq(mlf_days_from_civil(9999, 12, 31), 2932896);
    ck_assert_int_eq(mlf_weekday_from_days(0), 4); /* 1970-01-01 was a Thursday */
    ck_assert_int_eq(mlf_weekday_from_days(-1), 3);
    ck_assert_int_eq(mlf_weekday_from_days(mlf_days_from_civil(2024, 2, 29)), 4);
    ck_assert(mlf_is_leap_year(2000) && mlf_is_leap_year(2024) && mlf_is_leap_year(-4));
    ck_assert(!mlf_is_leap_year(1900) && !mlf_is_leap_year(2100) && !mlf_is_leap_year(2023));
    ck_assert_int_eq(mlf_days_in_month(2024, 2), 29);
    ck_assert_int_eq(mlf_days_in_month(2023, 2), 28);
    ck_assert_int_eq(mlf_days_in_month(2023, 4), 30);
    ck_assert_int_eq(mlf_days_in_month(2023, 12), 31);
    ck_assert_int_eq(mlf_days_in_month(2023, 13), 0);
    ck_assert_int_eq(mlf_floor_div(-7, 2), -4);
    ck_assert_int_eq(mlf_floor_mod(-7, 2), 1);
    ck_assert_int_eq(mlf_add_sat(INT64_MAX, 1), INT64_MAX);
    ck_assert_int_eq(mlf_add_sat(INT64_MIN, -1), INT64_MIN);
}
END_TEST

START_TEST(test_days_round_trip)
{
    /* Every day from year -2000 to 4000: the inverse holds and each day is the calendar successor of the
     * one before. (Plain comparisons in the loop: each Check assertion costs a pipe write.) */
    int64_t py;
    int pm, pd;
    mlf_civil_from_days(mlf_days_from_civil(-2000, 1, 1) - 1, &py, &pm, &pd);
    ck_assert(py == -2001 && pm == 12 && pd == 31);
    for (int64_t z = mlf_days_from_civil(-2000, 1, 1); z < mlf_days_from_civil(4000, 1, 1); z++) {
        int64_t y, wy = py;
        int m, d, wm = pm, wd = pd + 1;
        if (wd > mlf_days_in_month(py, pm))
            wd = 1, wm = pm + 1;
        if (wm > 12)
            wm = 1, wy = py + 1;
        mlf_civil_from_days(z, &y, &m, &d);
        if (y != wy || m != wm || d != wd || mlf_days_from_civil(y, m, d) != z ||
            mlf_weekday_from_days(z) != (int)mlf_floor_mod(z + 4, 7))
            ck_abort_msg("day %lld is %lld-%d-%d, want %lld-%d-%d", (long long)z, (long long)y, m, d, (long long)wy,
                         wm, wd);
        py = y, pm = m, pd = d;
    }
}
END_TEST

START_TEST(test_civil_time)
{
    mlf_civil c;
    mlf_civil_from_time(-1, &c);
    ck_assert(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 && c.minute == 59 &&
              c.second == 59 && c.usec == 999999 && c.wday == 3 && c.yday == 364);
    mlf_civil_from_time(U(2024, 12, 31, 6, 7, 8) + 9, &c);
    ck_assert(c.yday == 365 && c.wday == 2 && c.usec == 9 && c.hour == 6 && c.minute == 7 && c.second == 8);
    mlf_civil_from_time(INT64_MIN, &c); /* never fails */
    ck_assert(c.year < -290000);
    int64_t t;
    mlf_civil k = {2024, 2, 29, 23, 59, 59, 999999, 0, 0};
    ck_assert_int_eq(mlf_time_from_civil(&k, &t), MLF_OK);
    ck_assert_int_eq(t, U(2024, 3, 1, 0, 0, 0) - 1);
    k.year = 2023;
    ck_assert_int_eq(mlf_time_from_civil(&k, &t), MLF_EINVAL); /* Feb 29 2023 */
    k = (mlf_civil){2024, 1, 1, 24, 0, 0, 0, 0, 0};
    ck_assert_int_eq(mlf_time_from_civil(&k, &t), MLF_EINVAL);
    k = (mlf_civil){2024, 1, 1, 0, 0, 0, 1000000, 0, 0};
    ck_assert_int_eq(mlf_time_from_civil(&k, &t), MLF_EINVAL);
    k = (mlf_civil){300000, 1, 1, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(mlf_time_from_civil(&k, &t), MLF_ERANGE);
}
END_TEST

/* ------------------------------------------------------------------------------ parsing */

static const struct {
    const char *in, *zone;
    const char *want; /* ISO UTC instant as mlf_time_format_iso writes it */
    int has_time, has_offset;
} GOOD[] = {
    {"2024-01-01", NULL, "2024-01-01T00:00:00+00:00", 0, 0},
    {"2024-01-01T06:00:00Z", NULL, "2024-01-01T06:00:00+00:00", 1, 1},
    {"2024-01-01T06:00:00+02:00", NULL, "2024-01-01T04:00:00+00:00", 1, 1},
    {"2024-01-01T06:00:00-05:30", NULL, "2024-01-01T11:30:00+00:00", 1, 1},
    {"2024-01-01T06:00:00+0200", NULL, "2024-01-01T04:00:00+00:00", 1, 1},
    {"2024-01-01T06:00:00+02", NULL, "2024-01-01T04:00:00+00:00", 1, 1},
    {"2024-01-01T01:00:00+02:00", NULL, "2023-12-31T23:00:00+00:00", 1, 1},
    {"2024-01-01 06:00:00", NULL, "2024-01-01T06:00:00+00:00", 1, 0},
    {"2024-01-01t06:00z", NULL, "2024-01-01T06:00:00+00:00", 1, 1},
    {"2024-01-01T06:00", NULL, "2024-01-01T06:00:00+00:00", 1, 0},
    {"2024-01-01T06:00:00.5Z", NULL, "2024-01-01T06:00:00.500000+00:00", 1, 1},
    {"2024-01-01T06:00:00,123456789Z", NULL, "2024-01-01T06:00:00.123456+00:00", 1, 1},
    {"2024-02-29", NULL, "2024-02-29T00:00:00+00:00", 0, 0},
    {"2000-02-29", NULL, "2000-02-29T00:00:00+00:00", 0, 0},
    {"  2024-01-01  ", NULL, "2024-01-01T00:00:00+00:00", 0, 0},
    {"0001-01-01", NULL, "0001-01-01T00:00:00+00:00", 0, 0},
    {"9999-12-31T23:59:59.999999Z", NULL, "9999-12-31T23:59:59.999999+00:00", 1, 1},
    /* Without an offset the zone applies; with one it does not. */
    {"2024-01-01", "Europe/Berlin", "2023-12-31T23:00:00+00:00", 0, 0},
    {"2024-07-01T12:00:00", "Europe/Berlin", "2024-07-01T10:00:00+00:00", 1, 0},
    {"2024-07-01T12:00:00Z", "Europe/Berlin", "2024-07-01T12:00:00+00:00", 1, 1},
    {"2024-03-31T02:30:00", "Europe/Berlin", "2024-03-31T01:30:00+00:00", 1, 0}, /* gap: 03:30 CEST */
    {"2024-10-27T02:30:00", "Europe/Berlin", "2024-10-27T00:30:00+00:00", 1, 0}, /* fold: earlier */
    {"2024-11-03 01:30", "America/New_York", "2024-11-03T05:30:00+00:00", 1, 0},
};

START_TEST(test_parse_good)
{
    const mlf_tz *tz = NULL;
    char err[256] = "", iso[MLF_TIME_FMT_MAX];
    if (GOOD[_i].zone)
        ck_assert_int_eq(mlf_tz_load(GOOD[_i].zone, &tz, err, sizeof err), MLF_OK);
    mlf_time_us t = 0;
    int rc = mlf_time_parse(GOOD[_i].in, tz, &t, err, sizeof err);
    ck_assert_msg(rc == MLF_OK, "\"%s\": %s", GOOD[_i].in, err);
    ck_assert_int_eq(mlf_time_format_iso(t, NULL, 0, iso, sizeof iso), MLF_OK);
    ck_assert_msg(strcmp(iso, GOOD[_i].want) == 0, "\"%s\": got %s want %s", GOOD[_i].in, iso, GOOD[_i].want);
    mlf_time_parts parts;
    ck_assert_int_eq(mlf_time_parse_parts(GOOD[_i].in, &parts, err, sizeof err), MLF_OK);
    ck_assert_int_eq(parts.has_time, GOOD[_i].has_time);
    ck_assert_int_eq(parts.has_offset, GOOD[_i].has_offset);
}
END_TEST

START_TEST(test_parse_parts_fields)
{
    mlf_time_parts p;
    ck_assert_int_eq(mlf_time_parse_parts("2024-05-06T07:08:09.25-03:30", &p, NULL, 0), MLF_OK);
    ck_assert(p.civil.year == 2024 && p.civil.month == 5 && p.civil.day == 6 && p.civil.hour == 7 &&
              p.civil.minute == 8 && p.civil.second == 9 && p.civil.usec == 250000);
    ck_assert_int_eq(p.utoff, -(3 * 3600 + 1800));
}
END_TEST

static const struct {
    const char *in, *msg;
} BAD[] = {
    {"", "expected YYYY-MM-DD"},
    {"2024-02-30", "invalid date \"2024-02-30\": day 30 is out of range 1-29 for February 2024"},
    {"2023-02-29", "day 29 is out of range 1-28 for February 2023"},
    {"1900-02-29", "day 29 is out of range 1-28 for February 1900"},
    {"2024-04-31", "day 31 is out of range 1-30 for April 2024"},
    {"2024-01-00", "day 0 is out of range 1-31 for January 2024"},
    {"2024-13-01", "month 13 is out of range 1-12"},
    {"2024-00-10", "month 0 is out of range 1-12"},
    {"0000-01-01", "year 0 is out of range 1-9999"},
    {"2024-1-1", "expected YYYY-MM-DD"},
    {"24-01-01", "expected YYYY-MM-DD"},
    {"2024/01/01", "expected YYYY-MM-DD"},
    {"2024-01-01T24:00:00", "hour 24 is out of range 0-23"},
    {"2024-01-01T12:60", "minute 60 is out of range 0-59"},
    {"2024-01-01T12:00:60", "second 60 is out of range 0-59"},
    {"2024-01-01T6:00", "expected HH:MM[:SS[.ffffff]] after the date"},
    {"2024-01-01T", "expected HH:MM"},
    {"2024-01-01T12:00:", "expected two digits of seconds"},
    {"2024-01-01T12:00:00.", "1 to 9 digits"},
    {"2024-01-01T12:00:00.1234567890", "1 to 9 digits"},
    {"2024-01-01T12:00:00+25:00", "offset hour 25 is out of range 0-23"},
    {"2024-01-01T12:00:00+02:61", "offset minute 61 is out of range 0-59"},
    {"2024-01-01T12:00:00+2", "expected Z, +HH:MM or -HH:MM"},
    {"2024-01-01T12:00:00+02:0", "expected Z, +HH:MM or -HH:MM"},
    {"2024-01-01T12:00:00 UTC", "unexpected \" UTC\" at the end"},
    {"2024-01-01x", "unexpected \"x\" at the end"},
    {"2024-01-01Z", "unexpected \"Z\" at the end"},
    {"2024-01-01T00:00:00.000000000000000000000000000000000000000000000000000000Z", "too long"},
};

START_TEST(test_parse_bad)
{
    mlf_time_us t = 42;
    char err[256] = "";
    ck_assert_int_eq(mlf_time_parse(BAD[_i].in, NULL, &t, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strstr(err, BAD[_i].msg), "\"%s\": message \"%s\" lacks \"%s\"", BAD[_i].in, err, BAD[_i].msg);
    ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(test_parse_null)
{
    mlf_time_us t;
    mlf_time_parts p;
    ck_assert_int_eq(mlf_time_parse(NULL, NULL, &t, NULL, 0), MLF_EINVAL);
    ck_assert_int_eq(mlf_time_parse("2024-01-01", NULL, NULL, NULL, 0), MLF_EINVAL);
    ck_assert_int_eq(mlf_time_parse_parts("2024-01-01", NULL, NULL, 0), MLF_EINVAL);
    ck_assert_int_eq(mlf_time_parse_parts(NULL, &p, NULL, 0), MLF_EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------------ formatting */

START_TEST(test_template_formats)
{
    char b[MLF_TIME_FMT_MAX];
    mlf_time_us t = U(2024, 1, 2, 6, 5, 4);
    ck_assert_int_eq(mlf_time_format_ds(t, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-02");
    ck_assert_int_eq(mlf_time_format_ds_nodash(t, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "20240102");
    ck_assert_int_eq(mlf_time_format_ts(t, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-02T06:05:04+00:00");
    ck_assert_int_eq(mlf_time_format_ts(t + 500, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-02T06:05:04.000500+00:00");
    ck_assert_int_eq(mlf_time_format_ts_nodash(t + 500, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "20240102T060504");
    ck_assert_int_eq(mlf_time_format_ts_nodash_with_tz(t, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "20240102T060504+0000");
    ck_assert_int_eq(mlf_time_format_ds(-1, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "1969-12-31");
    ck_assert_int_eq(mlf_time_format_ts(-1, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "1969-12-31T23:59:59.999999+00:00");
}
END_TEST

START_TEST(test_iso_in_zones)
{
    char b[MLF_TIME_FMT_MAX], err[256];
    const mlf_tz *berlin, *ny, *kolkata, *odd;
    ck_assert_int_eq(mlf_tz_load("Europe/Berlin", &berlin, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_tz_load("America/New_York", &ny, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_tz_load("Asia/Kolkata", &kolkata, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_tz_fixed(3 * 3600 + 61, &odd), MLF_OK);
    mlf_time_us summer = U(2024, 7, 1, 10, 0, 0), winter = U(2024, 1, 15, 17, 30, 0);
    ck_assert_int_eq(mlf_time_format_iso(summer, berlin, 0, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-07-01T12:00:00+02:00");
    ck_assert_int_eq(mlf_time_format_iso(winter, ny, 0, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-15T12:30:00-05:00");
    ck_assert_int_eq(mlf_time_format_iso(winter, kolkata, 0, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-15T23:00:00+05:30");
    ck_assert_int_eq(mlf_time_format_iso(winter, odd, 0, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-15T20:31:01+03:01:01");
    ck_assert_int_eq(mlf_time_format_iso(winter, NULL, MLF_ISO_ZULU, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-15T17:30:00Z");
    ck_assert_int_eq(mlf_time_format_iso(winter, berlin, MLF_ISO_ZULU | MLF_ISO_MICROS, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-15T18:30:00.000000+01:00");
    ck_assert_int_eq(mlf_time_format_iso(winter + 7, NULL, MLF_ISO_SECONDS, b, sizeof b), MLF_OK);
    ck_assert_str_eq(b, "2024-01-15T17:30:00+00:00");
    /* Parse what we print: the instant survives in every zone. */
    mlf_time_us back;
    ck_assert_int_eq(mlf_time_format_iso(summer + 123456, ny, 0, b, sizeof b), MLF_OK);
    ck_assert_int_eq(mlf_time_parse(b, NULL, &back, err, sizeof err), MLF_OK);
    ck_assert_int_eq(back, summer + 123456);
}
END_TEST

START_TEST(test_small_buffers)
{
    char b[8];
    ck_assert_int_eq(mlf_time_format_ds(0, b, sizeof b), MLF_ERANGE);
    ck_assert_str_eq(b, "1970-01");
    ck_assert_int_eq(mlf_time_format_ts(0, b, sizeof b), MLF_ERANGE);
    char nine[9];
    ck_assert_int_eq(mlf_time_format_ds_nodash(0, nine, sizeof nine), MLF_OK);
    ck_assert_str_eq(nine, "19700101");
    ck_assert_int_eq(mlf_time_format_ds_nodash(0, NULL, 0), MLF_ERANGE);
}
END_TEST

START_TEST(test_strftime)
{
    char b[256], err[256];
    mlf_time_us t = U(2024, 2, 29, 13, 5, 9) + 123;
    ck_assert_int_eq(mlf_time_strftime("%Y-%m-%d %H:%M:%S.%f|%j|%a %A|%b %h %B|%y %C|%e|%I %p|%u %w|%s|%z %Z|%F %T|%R|"
                                       "%D|%%|%n%t",
                                       t, b, sizeof b, err, sizeof err),
                     MLF_OK);
    ck_assert_str_eq(b, "2024-02-29 13:05:09.000123|060|Thu Thursday|Feb Feb February|24 20|29|01 PM|4 4|1709211909|"
                        "+0000 UTC|2024-02-29 13:05:09|13:05|02/29/24|%|\n\t");
    ck_assert_int_eq(mlf_time_strftime("%I %p %e %u", U(2024, 3, 3, 0, 0, 0), b, sizeof b, err, sizeof err), MLF_OK);
    ck_assert_str_eq(b, "12 AM  3 7");
    ck_assert_int_eq(mlf_time_strftime("plain", 0, b, sizeof b, err, sizeof err), MLF_OK);
    ck_assert_str_eq(b, "plain");
    ck_assert_int_eq(mlf_time_strftime("%Y%Q", 0, b, sizeof b, err, sizeof err), MLF_EINVAL);
    ck_assert_str_eq(err, "strftime: unknown conversion %Q in \"%Y%Q\"");
    ck_assert_str_eq(b, "");
    ck_assert_int_eq(mlf_time_strftime("100%", 0, b, sizeof b, err, sizeof err), MLF_EINVAL);
    ck_assert(strstr(err, "lone %") != NULL);
    ck_assert_int_eq(mlf_time_strftime("%A %B", 0, b, 10, err, sizeof err), MLF_ERANGE);
    ck_assert(strstr(err, "does not fit in 10 bytes") != NULL);
    ck_assert_int_eq(mlf_time_strftime("%Y", 0, b, 5, err, sizeof err), MLF_OK);
    ck_assert_str_eq(b, "1970");
    ck_assert_int_eq(mlf_time_strftime(NULL, 0, b, sizeof b, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_time_strftime("%Y", 0, b, 0, NULL, 0), MLF_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timefmt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_days_known);
    tcase_add_test(tc, test_days_round_trip);
    tcase_add_test(tc, test_civil_time);
    tcase_add_loop_test(tc, test_parse_good, 0, (int)(sizeof GOOD / sizeof GOOD[0]));
    tcase_add_test(tc, test_parse_parts_fields);
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_parse_null);
    tcase_add_test(tc, test_template_formats);
    tcase_add_test(tc, test_iso_in_zones);
    tcase_add_test(tc, test_small_buffers);
    tcase_add_test(tc, test_strftime);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
