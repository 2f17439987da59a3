/* dagbag.h -- every DAG file of a folder, parsed, kept up to date, with its import errors.
 *
 * A file that fails to load becomes an import error (file:line:col and message) and never affects the
 * other files. Files are re-parsed only when they changed (inode, size or modification time), so a refresh
 * of an unchanged folder costs one stat per file. */
#ifndef MLF_CORE_DAGBAG_H
#define MLF_CORE_DAGBAG_H

#include "dag/dag.h"
#include "dag/dag_parser.h"
#include "base/diag.h"

typedef struct mlf_dagbag mlf_dagbag;

/** A new, empty bag for the folder @p folder (copied) and the operators of @p cat (borrowed; must outlive
 * the bag). Nothing is read until mlf_dagbag_refresh(). NULL when memory runs out. */
mlf_dagbag *mlf_dagbag_new(const char *folder, const mlf_catalog *cat);

/** Frees the bag and its DAGs (and closes its watch). NULL is allowed. */
void mlf_dagbag_free(mlf_dagbag *bag);

/** Scans the folder (recursively; *.yaml and *.yml; names starting with '.' are skipped): parses new and
 * changed files, forgets deleted ones. *changed (may be NULL) receives how many files were added, changed
 * or removed. A missing folder is not an error (the bag is then empty and an import error says so).
 * Returns MLF_OK or MLF_ENOMEM. */
int mlf_dagbag_refresh(mlf_dagbag *bag, size_t *changed);

/** The loaded DAGs, ordered by dag_id (borrowed; valid until the next refresh). */
size_t mlf_dagbag_count(const mlf_dagbag *bag);
const mlf_dag *mlf_dagbag_at(const mlf_dagbag *bag, size_t i);

/** The DAG named @p dag_id, or NULL. */
const mlf_dag *mlf_dagbag_get(const mlf_dagbag *bag, const char *dag_id);

/** The current import errors, ordered by file (borrowed; valid until the next refresh). */
const mlf_diag *mlf_dagbag_errors(const mlf_dagbag *bag);

/** Starts watching the folder with inotify. Returns a file descriptor that turns readable when something
 * changed (then call mlf_dagbag_watch_drain() and mlf_dagbag_refresh()), or -1 when inotify is not
 * available: the caller then refreshes periodically (scheduler.dag_dir_list_interval). */
int mlf_dagbag_watch(mlf_dagbag *bag);

/** Reads pending inotify events, adding watches for new sub-folders. Returns 1 when a refresh is due. */
int mlf_dagbag_watch_drain(mlf_dagbag *bag);

/** Sets the period of mlf_dagbag_poll()'s full rescan (scheduler.dag_dir_list_interval); 0 (the default):
 * inotify only. */
void mlf_dagbag_set_rescan_interval(mlf_dagbag *bag, int64_t interval_us);

/** Whether the folder should be read again (mlf_dagbag_refresh()) at @p now: inotify reported a change
 * (when mlf_dagbag_watch() started it), or the rescan interval has passed since the last time this said
 * so. The periodic rescan catches what inotify cannot see: file systems such as NFS, DAG files that are
 * symbolic links to files elsewhere, a failed inotify_init. */
int mlf_dagbag_poll(mlf_dagbag *bag, mlf_time_us now);

#endif
