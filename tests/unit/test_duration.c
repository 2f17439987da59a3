/* Unit tests for core/duration.c: every accepted form, every error, and format/parse round trips. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "time/duration.h"

#define US 1LL
#define MS (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static const struct {
    const char *in;
    int64_t us;
} GOOD[] = {
    {"30s", 30 * SEC},
    {"5m", 5 * MIN},
    {"2h", 2 * HOUR},
    {"1d", DAY},
    {"1w", 7 * DAY},
    {"1h30m", HOUR + 30 * MIN},
    {"1h 30m", HOUR + 30 * MIN},
    {"1 h", HOUR},
    {"1d12h", DAY + 12 * HOUR},
    {"500ms", 500 * MS},
    {"250us", 250 * US},
    {"1s500ms", 1500 * MS},
    {"1.5h", 90 * MIN},
    {"0.5s", 500 * MS},
    {".5s", 500 * MS},
    {"0.000001s", 1},
    {"0.0000019s", 1}, /* below a microsecond: truncated */
    {"1.0000000000001w", 7 * DAY},
    {"0.1w", 60480 * SEC},
    {"90", 90 * SEC},
    {"1.5", 1500 * MS},
    {"0", 0},
    {"0s", 0},
    {"  10m  ", 10 * MIN},
    {"PT5M", 5 * MIN},
    {"P1D", DAY},
    {"P1DT2H30M", DAY + 2 * HOUR + 30 * MIN},
    {"PT0.5S", 500 * MS},
    {"PT0,5S", 500 * MS},
    {"P2W", 14 * DAY},
    {"PT1H1M1S", HOUR + MIN + SEC},
    {"pt5m", 5 * MIN},
    {"P0D", 0},
    {"9223372036854775807us", INT64_MAX},
    {"106751991d", 106751991 * DAY},
};

START_TEST(test_parse_good)
{
    int64_t v = -1;
    char err[256] = "";
    int rc = mlf_duration_parse(GOOD[_i].in, &v, err, sizeof err);
    ck_assert_msg(rc == MLF_OK, "\"%s\": rc %d: %s", GOOD[_i].in, rc, err);
    ck_assert_msg(v == GOOD[_i].us, "\"%s\": got %lld want %lld", GOOD[_i].in, (long long)v,
                  (long long)GOOD[_i].us);
}
END_TEST

static const struct {
    const char *in;
    int rc;
    const char *msg; /* a part the message must contain */
} BAD[] = {
    {"", MLF_EPARSE, "empty duration"},
    {"   ", MLF_EPARSE, "empty duration"},
    {"-5m", MLF_EPARSE, "negative"},
    {"5x", MLF_EPARSE, "unknown unit \"x\" (valid units: us, ms, s, m, h, d, w)"},
    {"5min", MLF_EPARSE, "unknown unit \"min\""},
    {"1h30", MLF_EPARSE, "missing unit after \"30\""},
    {"h", MLF_EPARSE, "expected a number at \"h\""},
    {"1h-5m", MLF_EPARSE, "expected a number at \"-5m\""},
    {"1..5s", MLF_EPARSE, "missing unit after \"1.\""},
    {"10000000000000000000000s", MLF_ERANGE, "too large"},
    {"9223372036854775808us", MLF_ERANGE, "too large"},
    {"106751992d", MLF_ERANGE, "too large"},
    {"106751991d106751991d", MLF_ERANGE, "too large"},
    {"P1M", MLF_EPARSE, "months have no fixed length"},
    {"P1Y", MLF_EPARSE, "years have no fixed length"},
    {"P", MLF_EPARSE, "has no components"},
    {"PT", MLF_EPARSE, "nothing after 'T'"},
    {"P1H", MLF_EPARSE, "unknown designator 'H' before T"},
    {"PT1D", MLF_EPARSE, "unknown designator 'D' after T"},
    {"PT5M1H", MLF_EPARSE, "out of order"},
    {"PT5M5M", MLF_EPARSE, "out of order"},
    {"P1W1D", MLF_EPARSE, "weeks (W) cannot be combined"},
    {"P1DT1HT", MLF_EPARSE, "'T' appears twice"},
    {"PT5", MLF_EPARSE, "number without a designator"},
    {"PTM", MLF_EPARSE, "expected a number"},
    {"P99999999999999999999D", MLF_ERANGE, "too large"},
    {"0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789s",
     MLF_EPARSE, "too long"},
};

START_TEST(test_parse_bad)
{
    int64_t v = 42;
    char err[256] = "";
    int rc = mlf_duration_parse(BAD[_i].in, &v, err, sizeof err);
    ck_assert_msg(rc == BAD[_i].rc, "\"%s\": rc %d want %d (%s)", BAD[_i].in, rc, BAD[_i].rc, err);
    ck_assert_msg(strstr(err, BAD[_i].msg) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", BAD[_i].in, err,
                  BAD[_i].msg);
    ck_assert_int_eq(v, 42); /* output untouched on failure */
}
END_TEST

START_TEST(test_parse_null_and_no_errbuf)
{
    int64_t v;
    char err[64];
    ck_assert_int_eq(mlf_duration_parse(NULL, &v, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_duration_parse("1s", NULL, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_duration_parse("5x", &v, NULL, 0), MLF_EPARSE); /* no message wanted */
    char tiny[8];
    ck_assert_int_eq(mlf_duration_parse("5x", &v, tiny, sizeof tiny), MLF_EPARSE);
    ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1); /* truncated, still terminated */
}
END_TEST

static const struct {
    int64_t us;
    const char *out;
} FMT[] = {
    {0, "0s"},
    {30 * SEC, "30s"},
    {HOUR + 30 * MIN, "1h30m"},
    {DAY + 2 * HOUR, "1d2h"},
    {7 * DAY, "7d"},
    {1500 * MS, "1s500ms"},
    {500 * MS, "500ms"},
    {1, "1us"},
    {SEC + 1, "1s1us"},
    {-90 * SEC, "-1m30s"},
    {INT64_MAX, "106751991d4h54s775807us"},
    {INT64_MIN, "-106751991d4h54s775808us"},
};

START_TEST(test_format)
{
    char buf[MLF_DURATION_FMT_MAX];
    ck_assert_int_eq(mlf_duration_format(FMT[_i].us, buf, sizeof buf), MLF_OK);
    ck_assert_str_eq(buf, FMT[_i].out);
    if (FMT[_i].us >= 0) { /* the parser reads back every non-negative output */
        int64_t back;
        ck_assert_int_eq(mlf_duration_parse(buf, &back, NULL, 0), MLF_OK);
        ck_assert_int_eq(back, FMT[_i].us);
    }
}
END_TEST

START_TEST(test_format_small_buffer)
{
    char buf[4];
    ck_assert_int_eq(mlf_duration_format(HOUR + 30 * MIN, buf, sizeof buf), MLF_ERANGE);
    ck_assert_str_eq(buf, "1h3");
    ck_assert_int_eq(mlf_duration_format(HOUR, buf, 3), MLF_OK);
    ck_assert_str_eq(buf, "1h");
    ck_assert_int_eq(mlf_duration_format(HOUR, NULL, 0), MLF_ERANGE);
}
END_TEST

START_TEST(test_round_trip_sweep)
{
    /* A spread of values across all units: format then parse gives the value back. */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = (int64_t)(x >> (1 + i % 40));
        char buf[MLF_DURATION_FMT_MAX];
        ck_assert_int_eq(mlf_duration_format(v, buf, sizeof buf), MLF_OK);
        int64_t back = -1;
        ck_assert_int_eq(mlf_duration_parse(buf, &back, NULL, 0), MLF_OK);
        ck_assert_msg(back == v, "%lld -> %s -> %lld", (long long)v, buf, (long long)back);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("duration");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_parse_good, 0, (int)(sizeof GOOD / sizeof GOOD[0]));
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_parse_null_and_no_errbuf);
    tcase_add_loop_test(tc, test_format, 0, (int)(sizeof FMT / sizeof FMT[0]));
    tcase_add_test(tc, test_format_small_buffer);
    tcase_add_test(tc, test_round_trip_sweep);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
