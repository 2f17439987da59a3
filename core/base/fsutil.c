/* fsutil.c -- small file-system helpers (see fsutil.h). */
#include "base/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes directory @p dir (modified in place while working, restored after), creating missing ancestors
 * only when it has none: the deepest directory first, so a path whose parents exist costs one mkdir. */
static int make_dir(char *dir)
{
    if (mkdir(dir, 0750) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return errno;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return ENOENT;
    *slash = '\0';
    int rc = make_dir(dir);
    *slash = '/';
    if (rc == 0 && mkdir(dir, 0750) != 0 && errno != EEXIST)
        rc = errno;
    return rc;
}

int mlf_mkdir_parents(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return ENOMEM;
    char *slash = strrchr(p, '/');
    int rc = 0;
    if (slash && slash != p) {
        *slash = '\0';
        rc = make_dir(p);
    }
    free(p);
    return rc;
}

char *mlf_self_exe(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return strdup(buf);
}

int mlf_read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int mlf_write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
