/* testutil.c -- helpers shared by the unit test programs (see testutil.h). */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include "base/diag.h"
#include "plugin/plugin_loader.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
    char *dir = malloc(strlen(tag) + 32);
    ck_assert_ptr_nonnull(dir);
    sprintf(dir, "/tmp/mlf-%s-XXXXXX", tag);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s failed", dir);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    return dir;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_rm_rf(const char *path)
{
    if (path && *path)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_read_file(const char *path, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t got;
        while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
            n += got;
            if (n == cap) {
                buf = realloc(buf, (cap *= 2) + 1);
                ck_assert_ptr_nonnull(buf);
            }
        }
        fclose(f);
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void tu_write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    ck_assert_msg(fd >= 0, "cannot create %s", path);
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        ck_assert_msg(w > 0, "cannot write %s", path);
        off += (size_t)w;
    }
    ck_assert_int_eq(fchmod(fd, mode), 0); /* whatever the umask took away */
    close(fd);
}

char *tu_path(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    ck_assert_ptr_nonnull(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

long tu_bound_ms(long ms)
{
    const char *san = getenv("MLF_SANITIZERS");
    return san && strcmp(san, "yes") == 0 ? ms * 4 : ms;
}

mlf_catalog *tu_load_plugins(const char *const *names, size_t n)
{
    mlf_catalog *cat = mlf_catalog_new();
    ck_assert_ptr_nonnull(cat);
    const char *paths[] = {TEST_BUILDDIR "/plugins"};
    mlf_diag errs = {0};
    int refused = mlf_plugins_load(cat, paths, 1, names, n, &errs);
    mlf_diag_print(&errs, "load: ");
    mlf_diag_clear(&errs);
    ck_assert_int_eq(refused, 0);
    return cat;
}
