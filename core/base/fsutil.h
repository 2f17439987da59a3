/* fsutil.h -- small file-system helpers shared by core modules. */
#ifndef MLF_CORE_FSUTIL_H
#define MLF_CORE_FSUTIL_H

#include <stddef.h>

/** Creates every missing folder above the file @p path (mkdir -p of its dirname, mode 0750). Returns 0 or
 * the errno value of the mkdir() that failed (ENOMEM when the path cannot be copied). */
int mlf_mkdir_parents(const char *path);

/** The absolute path of the running executable (from /proc/self/exe) as a new string (free()), or NULL when
 * it cannot be read or memory runs out. */
char *mlf_self_exe(void);

/** Reads exactly @p n bytes from @p fd into @p buf, retrying after EINTR and short reads. Returns 0, or -1
 * at end of input (errno 0) or on an error (errno set). */
int mlf_read_full(int fd, void *buf, size_t n);

/** Writes all @p n bytes of @p buf to @p fd, retrying after EINTR and short writes. Returns 0, or -1 with
 * errno set. */
int mlf_write_full(int fd, const void *buf, size_t n);

#endif
