/* Unit tests for core/dag/dagbag.c: a folder of DAG files loaded, refreshed incrementally (added, changed,
 * removed files counted), import errors per file that never affect the other files, duplicate dag_ids,
 * sub-folders and hidden files, a missing folder, and the inotify watch. */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dag/dagbag.h"
#include "plugin/plugin_loader.h"
#include "testutil.h"

static mlf_catalog *cat;
static char *dir;

static void setup(void)
{
    const char *names[] = {"shell", "empty"};
    cat = tu_load_plugins(names, 2);
    dir = tu_tmpdir("dagbag");
}

static void teardown(void)
{
    tu_rm_rf(dir);
    free(dir);
    mlf_catalog_free(cat);
}

/* Writes DIR/NAME with a one-task DAG @p dag_id (the task runs @p op). */
static void put_dag(const char *name, const char *dag_id, const char *op)
{
    char *path = tu_path(dir, name);
    char text[256];
    snprintf(text, sizeof text, "dag_id: %s\ntasks:\n  t: {operator: %s}\n", dag_id, op);
    tu_write_file(path, text, 0644);
    free(path);
}

/* Rewrites a file so that its size and modification time both change (a refresh sees it within the same
 * second too). */
static void touch_later(const char *name, const char *text)
{
    char *path = tu_path(dir, name);
    tu_write_file(path, text, 0644);
    struct timespec ts[2] = {{.tv_sec = 2000000000}, {.tv_sec = 2000000000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    free(path);
}

static size_t refresh(mlf_dagbag *bag)
{
    size_t changed = 999;
    ck_assert_int_eq(mlf_dagbag_refresh(bag, &changed), MLF_OK);
    return changed;
}

START_TEST(test_load_sorted_and_incremental)
{
    put_dag("b.yaml", "beta", "empty");
    put_dag("a.yml", "alpha", "shell, command: 'true'");
    put_dag("notes.txt", "ignored", "empty");
    put_dag(".hidden.yaml", "hidden", "empty");
    char *sub = tu_path(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    put_dag("sub/c.yaml", "gamma", "empty");
    free(sub);

    mlf_dagbag *bag = mlf_dagbag_new(dir, cat);
    ck_assert_ptr_nonnull(bag);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 0); /* nothing read before the first refresh */
    ck_assert_uint_eq(refresh(bag), 3);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 3);
    ck_assert_str_eq(mlf_dagbag_at(bag, 0)->dag_id, "alpha");
    ck_assert_str_eq(mlf_dagbag_at(bag, 1)->dag_id, "beta");
    ck_assert_str_eq(mlf_dagbag_at(bag, 2)->dag_id, "gamma");
    ck_assert_ptr_null(mlf_dagbag_get(bag, "ignored"));
    ck_assert_ptr_null(mlf_dagbag_get(bag, "hidden"));
    ck_assert_uint_eq(mlf_dagbag_errors(bag)->n, 0);
    const mlf_dag *beta = mlf_dagbag_get(bag, "beta");
    ck_assert_ptr_nonnull(beta);
    ck_assert_ptr_nonnull(strstr(beta->fileloc, "/b.yaml"));

    /* unchanged: nothing re-parsed, the same DAG objects */
    ck_assert_uint_eq(refresh(bag), 0);
    ck_assert_ptr_eq(mlf_dagbag_get(bag, "beta"), beta);

    /* changed, added, removed: each counted once */
    touch_later("b.yaml", "dag_id: beta\ntasks:\n  t: {operator: empty}\n  u: {operator: empty, upstream: t}\n");
    put_dag("d.yaml", "delta", "empty");
    char *a = tu_path(dir, "a.yml");
    ck_assert_int_eq(unlink(a), 0);
    free(a);
    ck_assert_uint_eq(refresh(bag), 3);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 3);
    ck_assert_ptr_null(mlf_dagbag_get(bag, "alpha"));
    ck_assert_ptr_nonnull(mlf_dagbag_get(bag, "delta"));
    ck_assert_uint_eq(mlf_dagbag_get(bag, "beta")->ntasks, 2);
    mlf_dagbag_free(bag);
}
END_TEST

START_TEST(test_import_errors_stay_in_their_file)
{
    put_dag("good.yaml", "good", "empty");
    put_dag("typo.yaml", "typo", "emtpy");
    char *bad = tu_path(dir, "broken.yaml");
    tu_write_file(bad, "dag_id: broken\ntasks: [unclosed\n", 0644);
    free(bad);
    mlf_dagbag *bag = mlf_dagbag_new(dir, cat);
    ck_assert_uint_eq(refresh(bag), 3);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 1);
    ck_assert_ptr_nonnull(mlf_dagbag_get(bag, "good"));
    const mlf_diag *e = mlf_dagbag_errors(bag);
    ck_assert_uint_eq(e->n, 2);
    /* ordered by file, each with its position */
    ck_assert_ptr_nonnull(strstr(e->v[0].file, "broken.yaml"));
    ck_assert_ptr_nonnull(strstr(e->v[1].file, "typo.yaml"));
    ck_assert_int_gt(e->v[1].line, 0);
    ck_assert_msg(strstr(e->v[1].message, "emtpy") && strstr(e->v[1].message, "did you mean 'empty'"), "%s",
                  e->v[1].message);

    /* fixing the file clears its error */
    touch_later("typo.yaml", "dag_id: typo\ntasks:\n  t: {operator: empty}\n");
    ck_assert_uint_eq(refresh(bag), 1);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 2);
    ck_assert_uint_eq(mlf_dagbag_errors(bag)->n, 1);
    mlf_dagbag_free(bag);
}
END_TEST

START_TEST(test_duplicate_dag_id)
{
    put_dag("one.yaml", "same", "empty");
    put_dag("two.yaml", "same", "empty");
    mlf_dagbag *bag = mlf_dagbag_new(dir, cat);
    refresh(bag);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 1);
    const mlf_diag *e = mlf_dagbag_errors(bag);
    ck_assert_uint_eq(e->n, 1);
    ck_assert_msg(strstr(e->v[0].message, "dag_id 'same' is already defined in"), "%s", e->v[0].message);
    /* removing one copy makes the other the only definition, without errors */
    char *two = tu_path(dir, "two.yaml");
    unlink(two);
    free(two);
    ck_assert_uint_eq(refresh(bag), 1);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 1);
    ck_assert_uint_eq(mlf_dagbag_errors(bag)->n, 0);
    mlf_dagbag_free(bag);
}
END_TEST

START_TEST(test_missing_folder)
{
    char *gone = tu_path(dir, "nope");
    mlf_dagbag *bag = mlf_dagbag_new(gone, cat);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, NULL), MLF_OK);
    ck_assert_uint_eq(mlf_dagbag_count(bag), 0);
    ck_assert_uint_eq(mlf_dagbag_errors(bag)->n, 1);
    ck_assert_ptr_nonnull(strstr(mlf_dagbag_errors(bag)->v[0].message, "the DAG folder does not exist"));
    /* created later: found by the next refresh */
    ck_assert_int_eq(mkdir(gone, 0755), 0);
    put_dag("nope/x.yaml", "x", "empty");
    ck_assert_uint_eq(refresh(bag), 1);
    ck_assert_ptr_nonnull(mlf_dagbag_get(bag, "x"));
    ck_assert_uint_eq(mlf_dagbag_errors(bag)->n, 0);
    mlf_dagbag_free(bag);
    free(gone);
    mlf_dagbag_free(NULL);
}
END_TEST

/* Waits (bounded) for the watch descriptor to turn readable and drains it; returns what drain said. */
static int wait_watch(mlf_dagbag *bag, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, (int)tu_bound_ms(5000)), 1);
    return mlf_dagbag_watch_drain(bag);
}

START_TEST(test_watch_sees_new_files_and_subfolders)
{
    mlf_dagbag *bag = mlf_dagbag_new(dir, cat);
    refresh(bag);
    int fd = mlf_dagbag_watch(bag);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(mlf_dagbag_watch_drain(bag), 0); /* nothing happened yet */
    put_dag("w.yaml", "w", "empty");
    ck_assert_int_eq(wait_watch(bag, fd), 1);
    ck_assert_uint_eq(refresh(bag), 1);
    /* a new sub-folder is watched too: a file created in it is seen */
    char *sub = tu_path(dir, "deeper");
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    free(sub);
    ck_assert_int_eq(wait_watch(bag, fd), 1);
    put_dag("deeper/v.yaml", "v", "empty");
    ck_assert_int_eq(wait_watch(bag, fd), 1);
    ck_assert_uint_eq(refresh(bag), 1);
    ck_assert_ptr_nonnull(mlf_dagbag_get(bag, "v"));
    mlf_dagbag_free(bag);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dagbag");
    TCase *tc = tcase_create("dagbag");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_load_sorted_and_incremental);
    tcase_add_test(tc, test_import_errors_stay_in_their_file);
    tcase_add_test(tc, test_duplicate_dag_id);
    tcase_add_test(tc, test_missing_folder);
    tcase_add_test(tc, test_watch_sees_new_files_and_subfolders);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
