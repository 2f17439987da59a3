/* Unit tests for core/strutil.c and core/error.c. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

START_TEST(test_buf_grows_and_formats)
{
    mlf_buf b = {0};
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(mlf_buf_printf(&b, "%d,", i), MLF_OK);
    ck_assert_uint_eq(strlen(b.data), b.len);
    ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
    ck_assert(mlf_str_endswith(b.data, "998,999,"));
    char *s = mlf_buf_steal(&b);
    ck_assert_ptr_null(b.data);
    free(s);
}
END_TEST

START_TEST(test_strlcpy_truncates)
{
    char d[4];
    ck_assert_uint_eq(mlf_strlcpy(d, "abcdef", sizeof d), 6);
    ck_assert_str_eq(d, "abc");
}
END_TEST

START_TEST(test_strerror_ranges)
{
    ck_assert_str_eq(mlf_strerror(MLF_OK), "success");
    ck_assert_str_eq(mlf_strerror(MLF_EABI), "plugin ABI mismatch");
    ck_assert_str_eq(mlf_strerror(ENOENT), strerror(ENOENT));
    ck_assert_str_eq(mlf_strerror(-1), "unknown error");
    for (int e = MLF_ERR_FIRST; e <= MLF_ERR_LAST; e++)
        ck_assert_str_ne(mlf_strerror(e), "unknown error");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strutil");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_buf_grows_and_formats);
    tcase_add_test(tc, test_strlcpy_truncates);
    tcase_add_test(tc, test_strerror_ranges);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
