/*
 * Unit tests for core/schedule.c: parsing and errors, and next-run / manual intervals that must equal
 * Airflow 2.x's timetables (CronDataIntervalTimetable, DeltaDataIntervalTimetable, OnceTimetable,
 * NullTimetable) -- including the known answers of Airflow's own tests/timetables/test_interval_timetable.py
 * (Zurich and Los Angeles DST cases), and catchup True/False for a daily, an hourly and a "30m" DAG.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/schedule.h"
#include "time/timefmt.h"

/* An RFC 3339 string as an instant. */
static mlf_time_us T(const char *s)
{
    mlf_time_us t;
    char err[256] = "";
    ck_assert_msg(mlf_time_parse(s, NULL, &t, err, sizeof err) == MLF_OK, "%s", err);
    return t;
}

static mlf_schedule *sched(const char *expr, const char *tz)
{
    mlf_schedule *s = NULL;
    char err[256] = "";
    ck_assert_msg(mlf_schedule_parse(expr, tz, &s, err, sizeof err) == MLF_OK, "\"%s\": %s", expr ? expr : "NULL",
                  err);
    return s;
}

static void assert_interval(const mlf_interval *iv, const char *start, const char *end)
{
    char a[MLF_TIME_FMT_MAX], b[MLF_TIME_FMT_MAX];
    mlf_time_format_iso(iv->data_interval_start, NULL, 0, a, sizeof a);
    mlf_time_format_iso(iv->data_interval_end, NULL, 0, b, sizeof b);
    ck_assert_msg(iv->data_interval_start == T(start) && iv->data_interval_end == T(end),
                  "got [%s, %s) want [%s, %s)", a, b, start, end);
    ck_assert_int_eq(iv->logical_date, iv->data_interval_start);
    ck_assert_int_eq(iv->run_after, iv->data_interval_end);
}

/* mlf_schedule_next that must succeed. */
static mlf_interval next_ok(const mlf_schedule *s, const mlf_interval *last, const char *start, const char *end,
                            int catchup, const char *now)
{
    mlf_interval iv;
    int rc = mlf_schedule_next(s, last, T(start), end ? T(end) : 0, catchup, T(now), &iv);
    ck_assert_int_eq(rc, MLF_OK);
    return iv;
}

/* Runs the scheduler's loop: creates every due run (run_after <= now); returns how many, and the last. */
static int due_runs(const mlf_schedule *s, const char *start, const char *end, int catchup, const char *now,
                    mlf_interval *last, mlf_interval *pending)
{
    int n = 0, rc;
    mlf_interval iv, *prev = NULL;
    while ((rc = mlf_schedule_next(s, prev, T(start), end ? T(end) : 0, catchup, T(now), &iv)) == MLF_OK &&
           iv.run_after <= T(now)) {
        *last = iv;
        prev = last;
        n++;
        ck_assert_int_lt(n, 100000);
    }
    if (pending) {
        ck_assert_int_eq(rc, MLF_OK);
        *pending = iv;
    }
    return n;
}

/* ------------------------------------------------------------------------------ parsing */

START_TEST(test_parse_kinds)
{
    static const struct {
        const char *expr;
        mlf_schedule_kind kind;
        const char *describe;
    } K[] = {
        {NULL, MLF_SCHEDULE_NONE, "None"},
        {"null", MLF_SCHEDULE_NONE, "None"},
        {" None ", MLF_SCHEDULE_NONE, "None"},
        {"@once", MLF_SCHEDULE_ONCE, "@once"},
        {"@daily", MLF_SCHEDULE_CRON, "@daily"},
        {"@quarterly", MLF_SCHEDULE_CRON, "@quarterly"},
        {" 0 6 * * * ", MLF_SCHEDULE_CRON, "0 6 * * *"},
        {"30m", MLF_SCHEDULE_INTERVAL, "30m"},
        {"90m", MLF_SCHEDULE_INTERVAL, "1h30m"},
        {"P1D", MLF_SCHEDULE_INTERVAL, "1d"},
        {"90", MLF_SCHEDULE_INTERVAL, "1m30s"},
    };
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++) {
        mlf_schedule *s = sched(K[i].expr, NULL);
        char d[64];
        ck_assert_int_eq(mlf_schedule_kind_of(s), K[i].kind);
        ck_assert_int_eq(mlf_schedule_describe(s, d, sizeof d), MLF_OK);
        ck_assert_str_eq(d, K[i].describe);
        ck_assert(mlf_tz_is_utc(mlf_schedule_tz(s)));
        mlf_schedule_free(s);
    }
    mlf_schedule *s = sched("0 6 * * *", "Europe/Berlin");
    char d[64];
    ck_assert_int_eq(mlf_schedule_describe(s, d, sizeof d), MLF_OK);
    ck_assert_str_eq(d, "0 6 * * * (Europe/Berlin)");
    ck_assert_int_eq(mlf_schedule_describe(s, d, 5), MLF_ERANGE);
    ck_assert_str_eq(d, "0 6 ");
    ck_assert_str_eq(mlf_tz_name(mlf_schedule_tz(s)), "Europe/Berlin");
    mlf_schedule_free(s);
    mlf_schedule_free(NULL);
}
END_TEST

static const struct {
    const char *expr, *tz;
    int rc;
    const char *msg;
} BAD[] = {
    {"", NULL, MLF_EPARSE, "empty schedule (write null for a DAG that only runs when triggered)"},
    {"   ", NULL, MLF_EPARSE, "empty schedule"},
    {"0s", NULL, MLF_EPARSE, "schedule interval must be positive, not \"0s\""},
    {"-5m", NULL, MLF_EPARSE, "negative"},
    {"5x", NULL, MLF_EPARSE, "unknown unit \"x\" (valid units: us, ms, s, m, h, d, w)"},
    {"P1M", NULL, MLF_EPARSE, "months have no fixed length"},
    {"@fortnightly", NULL, MLF_EPARSE,
     "unknown schedule preset \"@fortnightly\" (valid: @once, @hourly, @daily, @midnight, @weekly, @monthly, "
     "@quarterly, @yearly, @annually)"},
    {"@continuous", NULL, MLF_EPARSE, "unknown schedule preset \"@continuous\""},
    {"61 * * * *", NULL, MLF_EPARSE, "minute field: 61 is out of range 0-59"},
    {"0 0 1 13 0", NULL, MLF_EPARSE, "month field: 13 is out of range 1-12"},
    {"0 0 * *", NULL, MLF_EPARSE, "has 4 fields; expected 5"},
    {"daily", NULL, MLF_EPARSE,
     "schedule \"daily\" is not a cron expression (5 fields, e.g. \"0 6 * * *\"), a preset (e.g. @daily), a "
     "duration (e.g. 30m) or null"},
    {"*", NULL, MLF_EPARSE, "is not a cron expression"},
    {"@daily", "Mars/Base", MLF_ENOTFOUND, "unknown time zone \"Mars/Base\" (no time zone file "},
    {"@daily", "../etc/passwd", MLF_EINVAL, "invalid time zone name"},
};

START_TEST(test_parse_errors)
{
    mlf_schedule *s = (mlf_schedule *)0x1;
    char err[512] = "";
    ck_assert_int_eq(mlf_schedule_parse(BAD[_i].expr, BAD[_i].tz, &s, err, sizeof err), BAD[_i].rc);
    ck_assert_msg(strstr(err, BAD[_i].msg), "\"%s\": message \"%s\" lacks \"%s\"", BAD[_i].expr, err, BAD[_i].msg);
    ck_assert_ptr_eq(s, (mlf_schedule *)0x1);
}
END_TEST

START_TEST(test_null_arguments)
{
    mlf_schedule *s = sched("@daily", NULL);
    mlf_interval iv;
    ck_assert_int_eq(mlf_schedule_parse("@daily", NULL, NULL, NULL, 0), MLF_EINVAL);
    ck_assert_int_eq(mlf_schedule_next(NULL, NULL, 0, 0, 1, 0, &iv), MLF_EINVAL);
    ck_assert_int_eq(mlf_schedule_next(s, NULL, 0, 0, 1, 0, NULL), MLF_EINVAL);
    ck_assert_int_eq(mlf_schedule_infer_manual(NULL, 0, &iv), MLF_EINVAL);
    ck_assert_int_eq(mlf_schedule_infer_manual(s, 0, NULL), MLF_EINVAL);
    mlf_schedule_free(s);
}
END_TEST

/* ------------------------------------------------------------------------------ catchup, our DAG shapes */

START_TEST(test_daily_catchup)
{
    mlf_schedule *s = sched("@daily", NULL);
    mlf_interval last, pending;
    /* Four complete days since start_date: four runs, the fifth waits for its end. */
    ck_assert_int_eq(due_runs(s, "2024-01-01", NULL, 1, "2024-01-05T10:00:00Z", &last, &pending), 4);
    assert_interval(&last, "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z");
    assert_interval(&pending, "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z");
    /* The first run is for the first interval. */
    mlf_interval iv = next_ok(s, NULL, "2024-01-01", NULL, 1, "2024-01-05T10:00:00Z");
    assert_interval(&iv, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z");
    /* A start_date off the schedule is aligned forward to it. */
    iv = next_ok(s, NULL, "2024-01-01T06:00:00Z", NULL, 1, "2024-01-05T10:00:00Z");
    assert_interval(&iv, "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z");
    /* end_date: no run starts after it. */
    ck_assert_int_eq(due_runs(s, "2024-01-01", "2024-01-03", 1, "2024-02-01T00:00:00Z", &last, NULL), 3);
    assert_interval(&last, "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z");
    ck_assert_int_eq(mlf_schedule_next(s, &last, T("2024-01-01"), T("2024-01-03"), 1, T("2024-02-01"), &iv),
                     MLF_ENOTFOUND);
    mlf_schedule_free(s);
}
END_TEST

START_TEST(test_daily_no_catchup)
{
    mlf_schedule *s = sched("@daily", NULL);
    /* The latest complete interval at now, not the missed ones. */
    mlf_interval iv = next_ok(s, NULL, "2024-01-01", NULL, 0, "2024-01-05T10:00:00Z");
    assert_interval(&iv, "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z");
    /* After it: the interval running now, due at its end. */
    mlf_interval after = next_ok(s, &iv, "2024-01-01", NULL, 0, "2024-01-05T10:00:00Z");
    assert_interval(&after, "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z");
    /* An old last run does not bring back the missed days. */
    mlf_interval old = next_ok(s, NULL, "2024-01-01", NULL, 1, "2024-01-01T00:00:00Z");
    iv = next_ok(s, &old, "2024-01-01", NULL, 0, "2024-01-05T10:00:00Z");
    assert_interval(&iv, "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z");
    /* now exactly on a boundary: the interval that just ended. */
    iv = next_ok(s, NULL, "2024-01-01", NULL, 0, "2024-01-05T00:00:00Z");
    assert_interval(&iv, "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z");
    /* Never before start_date: a future start gives its own first interval. */
    iv = next_ok(s, NULL, "2024-02-01", NULL, 0, "2024-01-05T10:00:00Z");
    assert_interval(&iv, "2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z");
    /* start_date within the last complete interval: the interval starting at (aligned) start_date. */
    iv = next_ok(s, NULL, "2024-01-04T12:00:00Z", NULL, 0, "2024-01-05T10:00:00Z");
    assert_interval(&iv, "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z");
    mlf_interval last;
    ck_assert_int_eq(due_runs(s, "2024-01-01", NULL, 0, "2024-01-05T10:00:00Z", &last, NULL), 1);
    mlf_schedule_free(s);
}
END_TEST

START_TEST(test_hourly)
{
    mlf_schedule *s = sched("@hourly", NULL);
    mlf_interval last, pending;
    ck_assert_int_eq(due_runs(s, "2024-01-01", NULL, 1, "2024-01-01T05:30:00Z", &last, &pending), 5);
    assert_interval(&last, "2024-01-01T04:00:00Z", "2024-01-01T05:00:00Z");
    assert_interval(&pending, "2024-01-01T05:00:00Z", "2024-01-01T06:00:00Z");
    ck_assert_int_eq(due_runs(s, "2024-01-01", NULL, 0, "2024-01-01T05:30:00Z", &last, &pending), 1);
    assert_interval(&last, "2024-01-01T04:00:00Z", "2024-01-01T05:00:00Z");
    assert_interval(&pending, "2024-01-01T05:00:00Z", "2024-01-01T06:00:00Z");
    mlf_schedule_free(s);
}
END_TEST

START_TEST(test_interval_30m)
{
    mlf_schedule *s = sched("30m", NULL);
    mlf_interval last, pending;
    /* catchup: intervals run from start_date itself (not aligned), every 30 minutes. */
    ck_assert_int_eq(due_runs(s, "2024-01-01T00:15:00Z", NULL, 1, "2024-01-01T10:40:00Z", &last, &pending), 20);
    assert_interval(&last, "2024-01-01T09:45:00Z", "2024-01-01T10:15:00Z");
    assert_interval(&pending, "2024-01-01T10:15:00Z", "2024-01-01T10:45:00Z");
    mlf_interval iv = next_ok(s, NULL, "2024-01-01T00:15:00Z", NULL, 1, "2024-01-01T10:40:00Z");
    assert_interval(&iv, "2024-01-01T00:15:00Z", "2024-01-01T00:45:00Z");
    /* no catchup: Airflow rounds now down to a multiple of the interval since the epoch, one back. */
    iv = next_ok(s, NULL, "2024-01-01T00:15:00Z", NULL, 0, "2024-01-01T10:40:00Z");
    assert_interval(&iv, "2024-01-01T10:00:00Z", "2024-01-01T10:30:00Z");
    mlf_interval after = next_ok(s, &iv, "2024-01-01T00:15:00Z", NULL, 0, "2024-01-01T10:40:00Z");
    assert_interval(&after, "2024-01-01T10:30:00Z", "2024-01-01T11:00:00Z");
    mlf_interval first = next_ok(s, NULL, "2024-01-01T00:15:00Z", NULL, 1, "2024-01-01T00:15:00Z");
    iv = next_ok(s, &first, "2024-01-01T00:15:00Z", NULL, 0, "2024-01-01T10:40:00Z");
    assert_interval(&iv, "2024-01-01T10:00:00Z", "2024-01-01T10:30:00Z");
    /* ...but never before start_date. */
    iv = next_ok(s, NULL, "2024-01-01T10:15:00Z", NULL, 0, "2024-01-01T10:40:00Z");
    assert_interval(&iv, "2024-01-01T10:15:00Z", "2024-01-01T10:45:00Z");
    ck_assert_int_eq(due_runs(s, "2024-01-01T00:15:00Z", NULL, 0, "2024-01-01T10:40:00Z", &last, NULL), 1);
    /* Manual runs: the interval that ends at the trigger time. */
    ck_assert_int_eq(mlf_schedule_infer_manual(s, T("2024-01-01T10:40:00Z"), &iv), MLF_OK);
    ck_assert(iv.data_interval_start == T("2024-01-01T10:10:00Z") && iv.data_interval_end == T("2024-01-01T10:40:00Z"));
    ck_assert(iv.logical_date == T("2024-01-01T10:40:00Z") && iv.run_after == T("2024-01-01T10:40:00Z"));
    mlf_schedule_free(s);
}
END_TEST

START_TEST(test_once_and_none)
{
    mlf_schedule *once = sched("@once", NULL), *none = sched(NULL, NULL);
    mlf_interval iv;
    for (int catchup = 0; catchup <= 1; catchup++) {
        ck_assert_int_eq(mlf_schedule_next(once, NULL, T("2024-01-01T06:00:00Z"), 0, catchup, T("2030-01-01"), &iv),
                         MLF_OK);
        ck_assert(iv.data_interval_start == T("2024-01-01T06:00:00Z") &&
                  iv.data_interval_end == iv.data_interval_start && iv.logical_date == iv.data_interval_start &&
                  iv.run_after == iv.data_interval_start);
    }
    ck_assert_int_eq(mlf_schedule_next(once, &iv, T("2024-01-01"), 0, 1, T("2030-01-01"), &iv), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_schedule_next(once, NULL, T("2024-01-02"), T("2024-01-01"), 1, T("2030-01-01"), &iv),
                     MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_schedule_next(none, NULL, T("2024-01-01"), 0, 1, T("2030-01-01"), &iv), MLF_ENOTFOUND);
    mlf_schedule *both[2] = {once, none};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(mlf_schedule_infer_manual(both[i], T("2024-03-03T03:03:03Z"), &iv), MLF_OK);
        ck_assert(iv.data_interval_start == T("2024-03-03T03:03:03Z") && iv.data_interval_end == iv.data_interval_start &&
                  iv.logical_date == iv.data_interval_start && iv.run_after == iv.data_interval_start);
    }
    mlf_schedule_free(once);
    mlf_schedule_free(none);
}
END_TEST

/* ------------------------------------------------------------------------------ Airflow's own cases */

/* test_no_catchup_first_starts_at_current_time, test_new_schedule_interval_next_info_starts_at_new_time,
 * test_no_catchup_next_info_starts_at_current_time, test_catchup_next_info_starts_at_previous_interval_end:
 * START_DATE 2021-09-04, CURRENT_TIME 2021-09-07, PREV_DATA_INTERVAL [09-04, 09-05). */
START_TEST(test_airflow_interval_cases)
{
    mlf_schedule *cron = sched("30 16 * * *", "UTC");
    mlf_interval prev = {T("2021-09-04T00:00:00Z"), T("2021-09-05T00:00:00Z"), 0, 0};
    mlf_interval old = {T("2021-09-06T00:00:00Z"), T("2021-09-07T00:00:00Z"), 0, 0};
    const mlf_interval *lasts[2] = {NULL, &prev};
    for (int i = 0; i < 2; i++) {
        mlf_interval iv = next_ok(cron, lasts[i], "2021-09-06", NULL, 0, "2021-09-07T00:00:00Z");
        assert_interval(&iv, "2021-09-06T16:30:00Z", "2021-09-07T16:30:00Z");
    }
    for (int catchup = 0; catchup <= 1; catchup++) {
        mlf_interval iv = next_ok(cron, &old, "2021-09-04", NULL, catchup, "2021-09-07T00:00:00Z");
        assert_interval(&iv, "2021-09-06T16:30:00Z", "2021-09-07T16:30:00Z");
    }
    mlf_schedule *hourly[3] = {sched("@hourly", "UTC"), sched("1h", NULL), sched("PT60M", NULL)};
    for (int h = 0; h < 3; h++) {
        for (int i = 0; i < 2; i++) {
            mlf_interval iv = next_ok(hourly[h], lasts[i], "2021-09-04", NULL, 0, "2021-09-07T00:00:00Z");
            assert_interval(&iv, "2021-09-06T23:00:00Z", "2021-09-07T00:00:00Z");
        }
        mlf_interval iv = next_ok(hourly[h], &prev, "2021-09-04", NULL, 1, "2021-09-07T00:00:00Z");
        assert_interval(&iv, "2021-09-05T00:00:00Z", "2021-09-05T01:00:00Z");
        mlf_schedule_free(hourly[h]);
    }
    mlf_schedule_free(cron);
}
END_TEST

/* test_cron_infer_manual_data_interval_alignment and test_cron_next_dagrun_info_alignment. */
START_TEST(test_airflow_alignment)
{
    mlf_schedule *s = sched("@daily", NULL);
    mlf_interval iv;
    ck_assert_int_eq(mlf_schedule_infer_manual(s, T("2022-08-08T01:00:00Z"), &iv), MLF_OK);
    ck_assert(iv.data_interval_start == T("2022-08-07") && iv.data_interval_end == T("2022-08-08"));
    ck_assert(iv.logical_date == T("2022-08-08T01:00:00Z") && iv.run_after == T("2022-08-08T01:00:00Z"));
    ck_assert_int_eq(mlf_schedule_infer_manual(s, T("2022-08-08"), &iv), MLF_OK);
    ck_assert(iv.data_interval_start == T("2022-08-07") && iv.data_interval_end == T("2022-08-08"));
    mlf_interval exact = {T("2022-08-07"), T("2022-08-08"), 0, 0};
    mlf_interval changed = {T("2022-08-07T01:00:00Z"), T("2022-08-08T01:00:00Z"), 0, 0};
    iv = next_ok(s, &exact, "2022-01-01", NULL, 1, "2030-01-01");
    assert_interval(&iv, "2022-08-08T00:00:00Z", "2022-08-09T00:00:00Z");
    iv = next_ok(s, &changed, "2022-01-01", NULL, 1, "2030-01-01");
    assert_interval(&iv, "2022-08-08T00:00:00Z", "2022-08-09T00:00:00Z");
    mlf_schedule_free(s);
}
END_TEST

/* TestCronIntervalDst, TestCronIntervalDstNonTrivial and test_fold_scheduling: successive runs with
 * catchup from an earliest date, each row the next data interval (UTC). */
static const struct {
    const char *expr, *tz, *earliest;
    const char *iv[5][2];
} DST_SEQ[] = {
    {"0 3 * * *", "Europe/Zurich", "2023-03-24T00:00:00Z", /* entering, exact */
     {{"2023-03-24T02:00:00Z", "2023-03-25T02:00:00Z"},
      {"2023-03-25T02:00:00Z", "2023-03-26T01:00:00Z"},
      {"2023-03-26T01:00:00Z", "2023-03-27T01:00:00Z"}}},
    {"0 2 * * *", "Europe/Zurich", "2023-03-24T00:00:00Z", /* entering, 02:00 skipped */
     {{"2023-03-24T01:00:00Z", "2023-03-25T01:00:00Z"},
      {"2023-03-25T01:00:00Z", "2023-03-26T01:00:00Z"},
      {"2023-03-26T01:00:00Z", "2023-03-27T00:00:00Z"}}},
    {"0 3 * * *", "Europe/Zurich", "2023-10-27T00:00:00Z", /* exiting, exact */
     {{"2023-10-27T01:00:00Z", "2023-10-28T01:00:00Z"},
      {"2023-10-28T01:00:00Z", "2023-10-29T02:00:00Z"},
      {"2023-10-29T02:00:00Z", "2023-10-30T02:00:00Z"}}},
    {"0 2 * * *", "Europe/Zurich", "2023-10-27T00:00:00Z", /* exiting, 02:00 repeated: the second */
     {{"2023-10-27T00:00:00Z", "2023-10-28T00:00:00Z"},
      {"2023-10-28T00:00:00Z", "2023-10-29T01:00:00Z"},
      {"2023-10-29T01:00:00Z", "2023-10-30T01:00:00Z"}}},
    {"0 7-8 * * *", "America/Los_Angeles", "2020-03-07T00:00:00Z",
     {{"2020-03-07T15:00:00Z", "2020-03-07T16:00:00Z"},
      {"2020-03-07T16:00:00Z", "2020-03-08T14:00:00Z"},
      {"2020-03-08T14:00:00Z", "2020-03-08T15:00:00Z"}}},
    {"0 7,9 * * *", "America/Los_Angeles", "2020-03-07T00:00:00Z",
     {{"2020-03-07T15:00:00Z", "2020-03-07T17:00:00Z"},
      {"2020-03-07T17:00:00Z", "2020-03-08T14:00:00Z"},
      {"2020-03-08T14:00:00Z", "2020-03-08T16:00:00Z"}}},
    {"*/30 * * * *", "Europe/Zurich", "2023-10-28T23:30:00Z", /* every half hour through the fold */
     {{"2023-10-28T23:30:00Z", "2023-10-29T00:00:00Z"},
      {"2023-10-29T00:00:00Z", "2023-10-29T00:30:00Z"},
      {"2023-10-29T00:30:00Z", "2023-10-29T01:00:00Z"},
      {"2023-10-29T01:00:00Z", "2023-10-29T01:30:00Z"},
      {"2023-10-29T01:30:00Z", "2023-10-29T02:00:00Z"}}},
};

START_TEST(test_airflow_dst)
{
    mlf_schedule *s = sched(DST_SEQ[_i].expr, DST_SEQ[_i].tz);
    mlf_interval iv, *last = NULL;
    for (int k = 0; k < 5 && DST_SEQ[_i].iv[k][0]; k++) {
        iv = next_ok(s, last, DST_SEQ[_i].earliest, NULL, 1, "2030-01-01");
        assert_interval(&iv, DST_SEQ[_i].iv[k][0], DST_SEQ[_i].iv[k][1]);
        last = &iv;
    }
    mlf_schedule_free(s);
}
END_TEST

/* Our own DST cases: a daily 02:30 DAG in Berlin and a 01:30 DAG in New York through both changes. */
START_TEST(test_dst_daily_dags)
{
    mlf_schedule *s = sched("30 2 * * *", "Europe/Berlin");
    mlf_interval last, pending;
    ck_assert_int_eq(due_runs(s, "2024-03-29T00:00:00Z", NULL, 1, "2024-04-01T12:00:00Z", &last, &pending), 3);
    assert_interval(&last, "2024-03-31T01:30:00Z", "2024-04-01T00:30:00Z"); /* 03:30 CEST -> 02:30 CEST */
    ck_assert_int_eq(due_runs(s, "2024-10-25T00:00:00Z", NULL, 1, "2024-10-28T12:00:00Z", &last, &pending), 3);
    assert_interval(&last, "2024-10-27T01:30:00Z", "2024-10-28T01:30:00Z"); /* 02:30 CET, the second one */
    mlf_schedule_free(s);
    s = sched("30 1 * * *", "America/New_York");
    mlf_interval iv = next_ok(s, NULL, "2024-11-02T00:00:00Z", NULL, 1, "2030-01-01");
    assert_interval(&iv, "2024-11-02T05:30:00Z", "2024-11-03T06:30:00Z"); /* 01:30 EDT -> 01:30 EST */
    iv = next_ok(s, &iv, "2024-11-02T00:00:00Z", NULL, 1, "2030-01-01");
    assert_interval(&iv, "2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z");
    /* Without catchup, on the fall-back day. */
    iv = next_ok(s, NULL, "2024-01-01", NULL, 0, "2024-11-03T12:00:00Z");
    assert_interval(&iv, "2024-11-02T05:30:00Z", "2024-11-03T06:30:00Z");
    /* Manual trigger in New York time. */
    ck_assert_int_eq(mlf_schedule_infer_manual(s, T("2024-11-03T12:00:00Z"), &iv), MLF_OK);
    ck_assert(iv.data_interval_start == T("2024-11-02T05:30:00Z") && iv.data_interval_end == T("2024-11-03T06:30:00Z"));
    mlf_schedule_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_kinds);
    tcase_add_loop_test(tc, test_parse_errors, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_null_arguments);
    tcase_add_test(tc, test_daily_catchup);
    tcase_add_test(tc, test_daily_no_catchup);
    tcase_add_test(tc, test_hourly);
    tcase_add_test(tc, test_interval_30m);
    tcase_add_test(tc, test_once_and_none);
    tcase_add_test(tc, test_airflow_interval_cases);
    tcase_add_test(tc, test_airflow_alignment);
    tcase_add_loop_test(tc, test_airflow_dst, 0, (int)(sizeof DST_SEQ / sizeof DST_SEQ[0]));
    tcase_add_test(tc, test_dst_daily_dags);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
