/* testutil.h -- helpers shared by the unit test programs (tests/unit/test_*.c): temporary folders, reading
 * and writing whole files, bounds that stretch under the sanitizers, and the built-in plugins of the build
 * tree. Every test program links it with the core; every helper fails the current test (ck_assert) instead
 * of returning an error. */
#ifndef MLF_TESTS_TESTUTIL_H
#define MLF_TESTS_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "plugin/registry.h"

/** Creates a fresh folder /tmp/mlf-TAG-XXXXXX (mode 0755, so that plugins and task processes may read it).
 * Returns its path (caller frees; remove it with tu_rm_rf()). */
char *tu_tmpdir(const char *tag);

/** Removes @p path and everything under it, without following symbolic links. A missing path is fine. */
void tu_rm_rf(const char *path);

/** The whole content of @p path, NUL-terminated (caller frees); "" when the file does not exist or cannot
 * be read. @p len, when not NULL, receives the length. */
char *tu_read_file(const char *path, size_t *len);

/** Writes @p text to @p path (created or truncated) with permissions @p mode. */
void tu_write_file(const char *path, const char *text, mode_t mode);

/** A new string "DIR/NAME" (caller frees). */
char *tu_path(const char *dir, const char *name);

/** @p ms, times 4 in the sanitizer build (MLF_SANITIZERS=yes in the environment, as `make check` sets it):
 * for upper bounds on how long something may take, never for how long it must take. */
long tu_bound_ms(long ms);

/** A new catalog holding the built-in plugins @p names (@p n of them) of the build tree's plugins folder.
 * Fails the test, printing every loader diagnostic, when any of them is refused. Caller frees the catalog
 * with mlf_catalog_free(). */
mlf_catalog *tu_load_plugins(const char *const *names, size_t n);

#endif
