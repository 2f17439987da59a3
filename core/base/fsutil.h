/* fsutil.h -- small file-system helpers shared by core modules. */
#ifndef MLF_CORE_FSUTIL_H
#define MLF_CORE_FSUTIL_H

/** Creates every missing folder above the file @p path (mkdir -p of its dirname, mode 0750). Returns 0 or
 * the errno value of the mkdir() that failed (ENOMEM when the path cannot be copied). */
int mlf_mkdir_parents(const char *path);

/** The absolute path of the running executable (from /proc/self/exe) as a new string (free()), or NULL when
 * it cannot be read or memory runs out. */
char *mlf_self_exe(void);

#endif
