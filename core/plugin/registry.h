/* registry.h -- everything plugins registered: operators, hooks, macros, notifiers, executors, event
 * sources.
 *
 * The catalog is the committed set, looked up by the DAG parser, the scheduler and the CLI. A plugin's
 * init() writes into an mlf_registry (the SDK's opaque handle), a staging area for that one plugin; the
 * loader commits it into the catalog only if init() succeeded and no name collides, so a failing plugin
 * leaves nothing behind. */
#ifndef MLF_CORE_REGISTRY_H
#define MLF_CORE_REGISTRY_H

#include <mlflowd/mlflowd.h>

#include "base/diag.h"
#include "plugin/params.h"

/** Kinds of registered things. */
typedef enum mlf_reg_kind {
    MLF_REG_OPERATOR = 0,
    MLF_REG_HOOK,
    MLF_REG_MACRO,
    MLF_REG_NOTIFIER,
    MLF_REG_EXECUTOR,
    MLF_REG_EVENT_SOURCE, /* (ABI 1.3) event_source.h */
    MLF_REG_KIND_COUNT
} mlf_reg_kind;

/** One loaded plugin. Owned by the catalog. */
typedef struct mlf_plugin {
    char *path;                 /**< the file that was opened */
    const mlf_plugin_info *info;
    void *handle;               /**< lt_dlhandle */
    /** The BLAKE2b digest of the shared object's content, taken once when it was loaded (cache keys,
     * doc/caching.md); has_digest 0 when the file could not be read. */
    unsigned char digest[32];
    int has_digest;
} mlf_plugin;

/** One registered descriptor and the plugin that owns it. */
typedef struct mlf_reg_entry {
    mlf_reg_kind kind;
    const char *name;       /**< borrowed from the plugin's descriptor */
    /** The descriptor (mlf_operator_desc *, ...) in the daemon's layout: a copy owned by the catalog, with
     * members the plugin's ABI minor lacks zeroed and its parameter table normalized (params.h), so code
     * reading it never looks past what the plugin wrote and walks params with sizeof(mlf_param_spec). */
    const void *desc;
    const mlf_plugin *owner;
    mlf_param_spec *params; /**< the normalized table desc points at (owned), or NULL */
    mlf_param_spec *settings; /**< an operator's normalized settings table (an executor's task_params) desc
                                   points at (owned), or NULL */
    mlf_value *config;      /**< an operator's settings map once mlf_operators_configure() ran (owned), or
                                 NULL: its defaults apply (plugin/operators.h) */
} mlf_reg_entry;

typedef struct mlf_catalog mlf_catalog;

/** A new empty catalog, or NULL when memory runs out. Free with mlf_catalog_free(). */
mlf_catalog *mlf_catalog_new(void);

/** Calls every plugin's fini(), unloads the plugins and frees the catalog. NULL is allowed. */
void mlf_catalog_free(mlf_catalog *cat);

/** The registered entry of @p kind named @p name (borrowed), or NULL. */
const mlf_reg_entry *mlf_catalog_find(const mlf_catalog *cat, mlf_reg_kind kind, const char *name);

/** The operator (or sensor) named @p name, or NULL. */
const mlf_operator_desc *mlf_catalog_operator(const mlf_catalog *cat, const char *name);

/** The entries of @p kind in registration order: count and entry @p i (borrowed). */
size_t mlf_catalog_count(const mlf_catalog *cat, mlf_reg_kind kind);
const mlf_reg_entry *mlf_catalog_at(const mlf_catalog *cat, mlf_reg_kind kind, size_t i);

/** The names of every entry of @p kind, for "did you mean" (new array of borrowed strings: free() the
 * array only), or NULL when memory runs out or there are none; @p n receives the count. */
const char **mlf_catalog_names(const mlf_catalog *cat, mlf_reg_kind kind, size_t *n);

/** Loaded plugins in load order (borrowed). */
size_t mlf_catalog_plugin_count(const mlf_catalog *cat);
const mlf_plugin *mlf_catalog_plugin_at(const mlf_catalog *cat, size_t i);

/** Records the plugin folders searched (the last call wins), for errors such as "unknown operator".
 * Returns MLF_OK or MLF_ENOMEM. */
int mlf_catalog_set_searched(mlf_catalog *cat, const char *const *paths, size_t npaths);

/** The folders searched, comma-separated (borrowed), or "" when none were recorded. */
const char *mlf_catalog_searched(const mlf_catalog *cat);

/** The loaded plugin whose info->name is @p name, or NULL. */
const mlf_plugin *mlf_catalog_plugin_by_name(const mlf_catalog *cat, const char *name);

/** Adds a plugin record (path copied; the catalog takes the handle). Returns the record or NULL (ENOMEM).
 * Used by the loader before init(), so that registrations can name their owner. */
mlf_plugin *mlf_catalog_add_plugin(mlf_catalog *cat, const char *path, const mlf_plugin_info *info,
                                   void *handle);

/** Removes (and unloads) the most recently added plugin record: the loader's undo after a failed init. */
void mlf_catalog_drop_last_plugin(mlf_catalog *cat);

/** Starts staging registrations for @p owner. Returns a new registry (free with mlf_registry_end()). */
mlf_registry *mlf_registry_begin(mlf_catalog *cat, const mlf_plugin *owner);

/** The message the plugin gave with mlf_registry_error(), or NULL. Borrowed. */
const char *mlf_registry_message(const mlf_registry *reg);

/** Commits the staged entries into the catalog. If a name is already taken by another plugin, nothing is
 * committed, one line per collision is appended to @p errors ("operator 'x' is already registered by
 * plugin 'p' (/path)") and MLF_EEXIST is returned. */
int mlf_registry_commit(mlf_registry *reg, mlf_diag *errors);

/** Frees the staging area (after commit, or to discard it). */
void mlf_registry_end(mlf_registry *reg);

/** Core task keys of doc/architecture.md §5 (NULL-terminated): operator parameters may not use these names. */
extern const char *const mlf_core_task_keys[];

/** Parameters the core adds to every sensor ({0}-terminated). */
extern const mlf_param_spec mlf_sensor_params[];

/** The executor named @p name, or NULL. */
const mlf_executor_desc *mlf_catalog_executor(const mlf_catalog *cat, const char *name);

/** The event source named @p name, or NULL. */
const mlf_event_source_desc *mlf_catalog_event_source(const mlf_catalog *cat, const char *name);

#endif
