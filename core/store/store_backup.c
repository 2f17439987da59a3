/*
 * store_backup.c -- `mlflowd db backup` and `db restore`'s safety check: an online, compacting copy of the
 * LMDB environment, and whether another process has the store open.
 *
 * LMDB's copy (mdb_env_copyfd2 with MDB_CP_COMPACT) runs inside its own read transaction: the copy is one
 * consistent snapshot, and writers (a running scheduler) go on meanwhile, as MVCC lets them. Compacting
 * leaves free pages out, so the copy is often much smaller than data.mdb.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_internal.h"

int mlf_store_backup(mlf_store *st, const char *file, char *err, size_t errlen)
{
    if (!st || !file || !*file) {
        snprintf(err, errlen, "no store or no file");
        return MLF_EINVAL;
    }
    char *tmp = malloc(strlen(file) + 16);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return MLF_ENOMEM;
    }
    sprintf(tmp, "%s.partial", file); /* renamed into place only once complete and on disk */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(e));
        free(tmp);
        return e;
    }
    pthread_rwlock_rdlock(&st->remap); /* no map resize of ours under the copy */
    int rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&st->remap);
    int e = rc == MDB_SUCCESS ? (fsync(fd) == 0 ? 0 : errno) : 0;
    if (close(fd) != 0 && rc == MDB_SUCCESS && !e)
        e = errno;
    if (rc != MDB_SUCCESS || e) {
        snprintf(err, errlen, "copying the store to %s: %s", tmp, rc != MDB_SUCCESS ? mdb_strerror(rc) : strerror(e));
        unlink(tmp);
        free(tmp);
        return rc != MDB_SUCCESS ? mlf_st_err(rc) : e;
    }
    if (rename(tmp, file) != 0) {
        e = errno;
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, file, strerror(e));
        unlink(tmp);
        free(tmp);
        return e;
    }
    free(tmp);
    return MLF_OK;
}

size_t mlf_store_dir_users(const char *dir, pid_t *pids, size_t max)
{
    /* every process with the environment open holds a shared fcntl lock on byte 0 of lock.mdb (LMDB's
     * liveness lock); asking for an exclusive one names a holder. Nothing is opened as a store here: a
     * process's fcntl locks go with any close() of the file, so this one must hold none. */
    char path[4096];
    if (snprintf(path, sizeof path, "%s/lock.mdb", dir) >= (int)sizeof path)
        return 0;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t n = 0;
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_GETLK, &l) == 0 && l.l_type != F_UNLCK) {
        if (max)
            pids[0] = l.l_pid;
        n = 1;
    }
    close(fd);
    return n;
}
