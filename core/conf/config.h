/*
 * config.h -- the daemon configuration (mlflowd.yaml, MLFLOWD__* variables, command-line overrides).
 *
 * One static table of known settings (dotted name, type, default, help) validates every source and drives
 * `mlflowd config list` and the docs. Sources, lowest precedence first:
 *   1. built-in defaults;
 *   2. the file: args->config_file, else $MLFLOWD_CONFIG, else $MLFLOWD_HOME/mlflowd.yaml (or
 *      ~/.mlflowd/mlflowd.yaml) when it exists -- having no file at all is fine. Settings nest as
 *      mappings (`zmq: {bind: ...}`) or are written dotted (`zmq.bind: ...`);
 *   3. the environment: MLFLOWD__SECTION__KEY for key section.key (MLFLOWD__ZMQ__CURVE__ENABLED is
 *      zmq.curve.enabled), the text parsed per the key's type (lists are comma-separated, an empty value
 *      is null for settings that may be null); MLFLOWD_HOME and MLFLOWD_DAGS_FOLDER set home and
 *      dags_folder;
 *   4. the command line: args->home (--home), args->dags_folder (--dags-folder).
 * After merging, "{home}" in string values becomes the final home, "{plugindir}" the built-in plugin
 * directory (mlf_config_builtin_plugindir()), and a leading "~" of a path setting becomes $HOME.
 *
 * Errors are all reported, not just the first: unknown keys (file:line:col, with "did you mean"), unknown
 * MLFLOWD__ variables (with "did you mean"), wrong types ("FILE:L:C: plugins.path: expected a list of
 * strings, got int"), bad values, YAML errors.
 *
 * Include it as "conf/config.h" (autoconf's header is named mlf_build_config.h, so nothing shadows it).
 */
#ifndef MLF_CORE_CONFIG_H
#define MLF_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

/** The name of the configuration file inside home. */
#define MLF_CONFIG_FILE_NAME "mlflowd.yaml"

/** A loaded configuration (opaque, read-only once loaded; share it between threads freely). */
typedef struct mlf_config mlf_config;

/** What mlf_config_load() reads besides the file. Every member may be NULL. */
typedef struct mlf_config_args {
    const char *config_file;    /**< --config FILE (must exist) */
    const char *home;           /**< --home DIR */
    const char *dags_folder;    /**< --dags-folder DIR */
    const char *const *envp;    /**< "NAME=value" strings ending with NULL; NULL means the process environment */
} mlf_config_args;

/** The type of a setting. */
typedef enum mlf_config_type {
    MLF_CFG_STR = 1,      /**< a non-empty string */
    MLF_CFG_PATH = 2,     /**< a non-empty string naming a file or directory ("~" expands) */
    MLF_CFG_INT = 3,      /**< an integer within [min, max] */
    MLF_CFG_ENUM = 4,     /**< one of the '|'-separated choices (case-insensitive; stored as written in choices) */
    MLF_CFG_DURATION = 5, /**< a duration as mlf_duration_parse() reads it (30s, 1h30m, 90, PT5M), at least
                               min microseconds; kept as its text (see mlf_config_duration_us()) */
    MLF_CFG_LIST = 6,     /**< a list of non-empty strings */
    MLF_CFG_PATH_LIST = 7 /**< a list of paths ("~" expands in each) */
} mlf_config_type;

/** Where a setting's value came from. */
typedef enum mlf_config_source {
    MLF_CFG_FROM_DEFAULT = 0,
    MLF_CFG_FROM_FILE = 1,
    MLF_CFG_FROM_ENV = 2,
    MLF_CFG_FROM_CLI = 3
} mlf_config_source;

/** One known setting, as declared in the static table. */
typedef struct mlf_config_key {
    const char *name;        /**< dotted name, e.g. "zmq.bind" */
    mlf_config_type type;
    const char *def;         /**< default as environment-style text (lists comma-separated); NULL: null */
    const char *help;        /**< one line of documentation */
    const char *choices;     /**< MLF_CFG_ENUM: "a|b|c"; else NULL */
    int64_t min, max;        /**< MLF_CFG_INT: accepted range; MLF_CFG_DURATION: min is the shortest, in us */
    int nullable;            /**< 1 when null (unset) is an accepted value */
} mlf_config_key;

/** Number of known settings. */
size_t mlf_config_key_count(void);

/** Known setting @p i (0 <= i < mlf_config_key_count(), in table order), or NULL past the end. Static. */
const mlf_config_key *mlf_config_key_at(size_t i);

/** The known setting named @p name, or NULL. Static. */
const mlf_config_key *mlf_config_key_find(const char *name);

/** "string", "path", "int", "enum", "duration", "list" or "path list". Static string. */
const char *mlf_config_type_name(mlf_config_type type);

/** "default", "file", "env" or "cli". Static string. */
const char *mlf_config_source_name(mlf_config_source source);

/** The directory of the built-in plugins, found relative to the running executable so that a copied or
 * moved build tree or install prefix keeps working: EXEDIR/plugins in a build tree (the binary beside
 * libmlfcore.la), PREFIX/lib/mlflowd/plugins (the configured plugin folder relative to the configured
 * bindir) in an installed tree; for other programs inside the build tree (unit tests) the build's plugin
 * folder; else the configured MLF_PLUGINDIR. Static string. */
const char *mlf_config_builtin_plugindir(void);

/** Loads the configuration from every source (see the top of this header) into a new mlf_config stored in
 * @p *out (free with mlf_config_free()). @p args may be NULL.
 * On failure stores in @p *errors (when @p errors is not NULL) a new string, to free(), holding every
 * problem found, one per line, each starting with where it is ("FILE:LINE:COL: ", "MLFLOWD__X: ",
 * "--home: "). Errors: MLF_EINVAL (invalid settings or an unknown key or variable), MLF_EPARSE /
 * MLF_ERANGE / MLF_ETOOBIG (the file is not valid YAML or too large), an errno value (the file named by
 * --config or MLFLOWD_CONFIG, or an existing default file, cannot be read), MLF_ENOMEM. When several
 * problems are found, the code is the first one's. */
int mlf_config_load(const mlf_config_args *args, mlf_config **out, char **errors);

/** Frees @p cfg. NULL is allowed. */
void mlf_config_free(mlf_config *cfg);

/** The value of setting @p key (borrowed, lives as long as @p cfg), or NULL for an unknown key.
 * Types: str for STR, PATH, ENUM and DURATION; int for INT; array of str for lists; nil when unset. */
const mlf_value *mlf_config_get(const mlf_config *cfg, const char *key);

/** The string value of @p key (borrowed), or NULL when the key is unknown, null or not a string. */
const char *mlf_config_str(const mlf_config *cfg, const char *key);

/** The integer value of @p key, or 0 when the key is unknown or not an integer. */
int64_t mlf_config_int(const mlf_config *cfg, const char *key);

/** The value of duration setting @p key in microseconds, or 0 when the key is unknown or not a duration. */
int64_t mlf_config_duration_us(const mlf_config *cfg, const char *key);

/** Where @p key's value came from; MLF_CFG_FROM_DEFAULT for an unknown key. */
mlf_config_source mlf_config_source_of(const mlf_config *cfg, const char *key);

/** Where exactly @p key's value came from, for people: "default", "FILE:LINE:COL", "MLFLOWD__ZMQ__BIND",
 * "--home". Borrowed; NULL for an unknown key. */
const char *mlf_config_origin(const mlf_config *cfg, const char *key);

/** The configuration file that was read (borrowed), or NULL when there was none. */
const char *mlf_config_file(const mlf_config *cfg);

/** The home directory (setting "home", expanded; borrowed, never NULL). */
const char *mlf_config_home(const mlf_config *cfg);

/** The DAG folder (setting "dags_folder", expanded; borrowed, never NULL). */
const char *mlf_config_dags_folder(const mlf_config *cfg);

/** The plugin search path (setting "plugins.path", expanded), in search order: @p *n borrowed strings. */
const char *const *mlf_config_plugin_path(const mlf_config *cfg, size_t *n);

/** The plugins to load (setting "plugins.load"): @p *n borrowed names; the single name "*" means every
 * plugin found in the search path (see mlf_config_plugin_load_all()). */
const char *const *mlf_config_plugin_load(const mlf_config *cfg, size_t *n);

/** 1 when plugins.load is ["*"]: load every plugin found in the search path. */
int mlf_config_plugin_load_all(const mlf_config *cfg);

/** The number of executors.NAME.KEY and operators.NAME.KEY settings given (file and environment; the
 * environment wins). They are not in the key table: each executor plugin declares its own
 * (mlf_executor_desc.params), checked when the executor is opened (plugin/executors.h), and so does each
 * operator plugin (mlf_operator_desc.settings), checked when the plugins are loaded (plugin/operators.h). */
size_t mlf_config_executor_setting_count(const mlf_config *cfg);

/** Plugin setting @p i: its dotted @p *name ("executors.local.parallelism", "operators.container.x"), its value as YAML @p *text
 * (a scalar as written, JSON for a sequence or mapping) and where it was set, @p *origin ("FILE:L:C",
 * "MLFLOWD__EXECUTORS__LOCAL__PARALLELISM"). All borrowed. Returns MLF_OK or MLF_ENOTFOUND past the end. */
int mlf_config_executor_setting_at(const mlf_config *cfg, size_t i, const char **name, const char **text,
                                   const char **origin);

#endif
