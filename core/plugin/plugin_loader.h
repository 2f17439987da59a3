/* plugin_loader.h -- finds, checks and loads plugin files with libltdl into a catalog. */
#ifndef MLF_CORE_PLUGIN_LOADER_H
#define MLF_CORE_PLUGIN_LOADER_H

#include <stddef.h>

#include "base/diag.h"
#include "plugin/registry.h"

/**
 * Loads plugins into @p cat.
 *
 * @p paths are the directories searched, in order. @p names lists the plugins to load: a bare name is
 * looked up as NAME.la then NAME.so in each directory (first match wins); a name containing '/' is a file
 * path used as is; the single name "*" loads every *.la / *.so found in the directories (a name found in
 * an earlier directory shadows later ones, as in $PATH).
 *
 * Every plugin is checked before and after opening, and refused with one line in @p errors naming its file
 * and the reason: not found (listing the paths searched), file or folder writable by group or others (or
 * owned by another user), not loadable (libltdl's reason), not a plugin (no mlf_plugin_entry symbol), ABI
 * mismatch (both versions), malformed info, duplicate plugin name, init failure (the plugin's own message),
 * or a name collision with an earlier plugin (both files). A refused plugin leaves nothing registered and
 * does not stop the others.
 *
 * Returns the number of plugins refused (0 when all loaded).
 */
int mlf_plugins_load(mlf_catalog *cat, const char *const *paths, size_t npaths, const char *const *names,
                     size_t nnames, mlf_diag *errors);

/** The BLAKE2b digest (libsodium's crypto_generichash, 32 bytes) of the file at @p path, read in pieces, into
 * @p out: what mlf_plugin.digest holds for each loaded plugin (cache keys, doc/caching.md). Returns MLF_OK or
 * an errno value. */
int mlf_plugin_file_digest(const char *path, unsigned char out[32]);

/** The host function table handed to plugins (static storage). */
const struct mlf_host *mlf_host_table(void);

#endif
