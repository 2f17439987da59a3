/* Unit tests for core/base/fsutil.c. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strutil.h"
#include "testutil.h"

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The parents of a file are made deepest-first: missing ancestors too, existing ones untouched. */
START_TEST(test_mkdir_parents)
{
    char tmp[] = "/tmp/mlf-fsutil-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char *deep = mlf_strdup_printf("%s/a/b/c/file.log", tmp), *dir = mlf_strdup_printf("%s/a/b/c", tmp);
    ck_assert_int_eq(mlf_mkdir_parents(deep), 0);
    ck_assert(is_dir(dir));
    ck_assert_int_eq(mlf_mkdir_parents(deep), 0); /* again: nothing to do */
    char *sib = mlf_strdup_printf("%s/a/b/d/file.log", tmp), *sibdir = mlf_strdup_printf("%s/a/b/d", tmp);
    ck_assert_int_eq(mlf_mkdir_parents(sib), 0);
    ck_assert(is_dir(sibdir));
    /* a file where a folder should be: the mkdir's error */
    char *file = mlf_strdup_printf("%s/plain", tmp), *under = mlf_strdup_printf("%s/plain/x/y.log", tmp);
    int fd = open(file, O_WRONLY | O_CREAT, 0600);
    ck_assert(fd >= 0);
    close(fd);
    ck_assert_int_eq(mlf_mkdir_parents(under), ENOTDIR);
    ck_assert_int_eq(mlf_mkdir_parents("no-slash.log"), 0);
    free(deep), free(dir), free(sib), free(sibdir), free(file), free(under);
    tu_rm_rf(tmp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fsutil");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_mkdir_parents);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
