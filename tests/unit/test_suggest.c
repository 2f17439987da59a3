/* Unit tests for core/suggest.c: edit distance and "did you mean". */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/suggest.h"

START_TEST(test_distance_basics)
{
    ck_assert_uint_eq(mlf_edit_distance("", ""), 0);
    ck_assert_uint_eq(mlf_edit_distance("abc", ""), 3);
    ck_assert_uint_eq(mlf_edit_distance("", "abc"), 3);
    ck_assert_uint_eq(mlf_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(mlf_edit_distance("flaw", "lawn"), 2);
    ck_assert_uint_eq(mlf_edit_distance("same", "same"), 0);
}
END_TEST

START_TEST(test_distance_transposition_and_case)
{
    /* A swap of two adjacent characters is one edit. */
    ck_assert_uint_eq(mlf_edit_distance("ab", "ba"), 1);
    ck_assert_uint_eq(mlf_edit_distance("executor", "exectuor"), 1);
    /* Optimal string alignment: no substring is edited twice, so "ca" -> "abc" costs 3 (true DL: 2). */
    ck_assert_uint_eq(mlf_edit_distance("ca", "abc"), 3);
    ck_assert_uint_eq(mlf_edit_distance("EXECUTOR", "executor"), 0);
    ck_assert_uint_eq(mlf_edit_distance("Zmq.Bind", "zmq.bond"), 1);
}
END_TEST

START_TEST(test_distance_too_long)
{
    char big[MLF_SUGGEST_MAX_LEN + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_uint_eq(mlf_edit_distance(big, "a"), (size_t)-1);
    ck_assert_uint_eq(mlf_edit_distance("a", big), (size_t)-1);
    big[MLF_SUGGEST_MAX_LEN] = '\0'; /* exactly the limit is fine */
    ck_assert_uint_eq(mlf_edit_distance(big, ""), MLF_SUGGEST_MAX_LEN);
}
END_TEST

static const char *const keys[] = {"home", "dags_folder", "plugins.path", "plugins.load", "executor",
                                   "zmq.bind", "zmq.heartbeat", "zmq.liveness"};
#define NKEYS (sizeof keys / sizeof keys[0])

START_TEST(test_suggest_typos)
{
    ck_assert_str_eq(mlf_suggest("plugin.path", keys, NKEYS), "plugins.path");
    ck_assert_str_eq(mlf_suggest("exector", keys, NKEYS), "executor");
    ck_assert_str_eq(mlf_suggest("zmq.bnid", keys, NKEYS), "zmq.bind");
    ck_assert_str_eq(mlf_suggest("dag_folder", keys, NKEYS), "dags_folder");
    ck_assert_str_eq(mlf_suggest("HOME", keys, NKEYS), "home");
    /* The pointer is borrowed from the candidates. */
    ck_assert_ptr_eq(mlf_suggest("plugins.lod", keys, NKEYS), keys[3]);
}
END_TEST

START_TEST(test_suggest_rejects_far_words)
{
    ck_assert_ptr_null(mlf_suggest("database", keys, NKEYS));
    ck_assert_ptr_null(mlf_suggest("zmq", keys, NKEYS));
    ck_assert_ptr_null(mlf_suggest("", keys, NKEYS));
    ck_assert_ptr_null(mlf_suggest("x", keys, 0));
    /* Short words allow one edit, but never a complete replacement. */
    const char *one[] = {"y", "ab"};
    ck_assert_ptr_null(mlf_suggest("x", one, 2));
    ck_assert_str_eq(mlf_suggest("b", one, 2), "ab");
    /* 9 letters allow 3 edits, 4 are too many. */
    const char *nine[] = {"abcdefghi"};
    ck_assert_ptr_nonnull(mlf_suggest("abcdefXXX", nine, 1));
    ck_assert_ptr_null(mlf_suggest("abcdeXXXX", nine, 1));
}
END_TEST

START_TEST(test_suggest_ties_nulls_and_long_words)
{
    const char *c[] = {NULL, "cat", "cut", NULL};
    ck_assert_ptr_eq(mlf_suggest("cot", c, 4), c[1]); /* equally close: the first wins */
    const char *d[] = {"cut", "cot"};
    ck_assert_ptr_eq(mlf_suggest("cot", d, 2), d[1]); /* a closer one wins over an earlier one */
    char big[MLF_SUGGEST_MAX_LEN + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *e[] = {big};
    ck_assert_ptr_null(mlf_suggest(big, e, 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("suggest");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_distance_basics);
    tcase_add_test(tc, test_distance_transposition_and_case);
    tcase_add_test(tc, test_distance_too_long);
    tcase_add_test(tc, test_suggest_typos);
    tcase_add_test(tc, test_suggest_rejects_far_words);
    tcase_add_test(tc, test_suggest_ties_nulls_and_long_words);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
