/* secrets_key.c -- the secrets key's file and text forms (see secrets_key.h). */
#include "store/secrets_key.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strutil.h"
#include "exec/zmq_auth.h"

#define HEX_LEN (MLF_STORE_SECRETS_KEY_LEN * 2)
#define FILE_MAX 4096

int mlf_secrets_key_parse(const char *text, unsigned char *key)
{
    if (!text || !key)
        return MLF_EINVAL;
    while (isspace((unsigned char)*text))
        text++;
    size_t n = 0;
    while (isxdigit((unsigned char)text[n]))
        n++;
    const char *rest = text + n;
    while (isspace((unsigned char)*rest))
        rest++;
    size_t got = 0;
    if (n != HEX_LEN || *rest ||
        sodium_hex2bin(key, MLF_STORE_SECRETS_KEY_LEN, text, n, NULL, &got, NULL) != 0 ||
        got != MLF_STORE_SECRETS_KEY_LEN)
        return MLF_EPARSE;
    return MLF_OK;
}

int mlf_secrets_key_read(const char *path, unsigned char *key, char *err, size_t errlen)
{
    if (!path || !key)
        return MLF_EINVAL;
    int rc = mlf_key_file_check(path, 1, err, errlen);
    if (rc != MLF_OK)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(rc));
        return rc;
    }
    char buf[FILE_MAX + 1];
    ssize_t n = read(fd, buf, FILE_MAX);
    rc = n < 0 ? errno : MLF_OK;
    close(fd);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "%s: %s", path, strerror(rc));
        return rc;
    }
    buf[n] = '\0';
    rc = MLF_EPARSE;
    unsigned line = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (l[0] == '#')
            continue;
        rc = mlf_secrets_key_parse(l, key);
        break;
    }
    if (rc != MLF_OK)
        snprintf(err, errlen, "%s:%u: not a secrets key (64 hexadecimal digits on the first line that is not a "
                 "comment)", path, line ? line : 1);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

void mlf_secrets_key_generate(unsigned char *key)
{
    randombytes_buf(key, MLF_STORE_SECRETS_KEY_LEN);
}

int mlf_secrets_key_write(const char *path, const unsigned char *key, int replace, char *err, size_t errlen)
{
    if (!path || !key)
        return MLF_EINVAL;
    char *dir_copy = strdup(path);
    if (!dir_copy)
        return MLF_ENOMEM;
    const char *dir = dirname(dir_copy);
    int rc = mkdir(dir, 0700) == 0 || errno == EEXIST ? MLF_OK : errno;
    if (rc != MLF_OK) {
        snprintf(err, errlen, "%s: %s", dir, strerror(rc));
        free(dir_copy);
        return rc;
    }
    char hex[HEX_LEN + 1], text[HEX_LEN + 200];
    sodium_bin2hex(hex, sizeof hex, key, MLF_STORE_SECRETS_KEY_LEN);
    int len = snprintf(text, sizeof text, "# mlflowd secrets key: it seals connection passwords and secret "
                       "variables in the state store. Keep it private, and back it up apart from the store.\n%s\n",
                       hex);
    char *tmp = replace ? mlf_strdup_printf("%s.tmp", path) : NULL;
    const char *target = replace ? tmp : path;
    if (tmp)
        unlink(tmp); /* left by an interrupted replacement */
    int fd = target ? open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
    if (!target)
        rc = MLF_ENOMEM;
    else if (fd < 0)
        rc = errno == EEXIST && !replace ? MLF_EEXIST : errno;
    else if (fchmod(fd, 0600) != 0 || mlf_write_full(fd, text, (size_t)len) != 0 || fsync(fd) != 0)
        rc = errno ? errno : EIO;
    if (fd >= 0 && close(fd) != 0 && rc == MLF_OK)
        rc = errno;
    if (rc == MLF_OK && replace && rename(tmp, path) != 0)
        rc = errno;
    if (rc == MLF_OK) { /* the new name must survive a crash too */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    } else {
        if (fd >= 0)
            unlink(target);
        snprintf(err, errlen, "%s: %s", target ? target : path,
                 rc == MLF_EEXIST ? "exists already" : rc == MLF_ENOMEM ? "out of memory" : strerror(rc));
    }
    sodium_memzero(hex, sizeof hex);
    sodium_memzero(text, sizeof text);
    free(tmp);
    free(dir_copy);
    return rc;
}
