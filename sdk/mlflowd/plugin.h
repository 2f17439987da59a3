/*
 * plugin.h -- what a plugin exports and what it registers.
 *
 * A plugin file exports one symbol, mlf_plugin_entry, an mlf_plugin_info written by the MLF_PLUGIN()
 * macro. The daemon checks abi_major against its own (exact match), then calls init() once with a
 * registry. init() registers descriptors; everything registered by one plugin is committed only when
 * init() returns MLF_OK and none of its names collides with another plugin's, so a failing plugin leaves
 * no trace. The registry copies each descriptor and its parameter table into the daemon's own layout
 * (members a plugin built against an older minor does not know read as zero), but keeps the strings and
 * the data pointer: those must stay valid while the plugin is loaded (static storage is the normal
 * choice).
 *
 * Example (a complete plugin):
 *
 *     #include <mlflowd/mlflowd.h>
 *
 *     static const mlf_param_spec hello_params[] = {
 *         {.name = "greeting", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
 *          .default_value = "hello", .help = "what to say"},
 *         {0}};
 *
 *     static mlf_outcome hello_execute(mlf_task_ctx *ctx, void *data) {
 *         (void)data;
 *         const char *g = mlf_value_get_str(mlf_ctx_param(ctx, "greeting"), NULL);
 *         mlf_ctx_log(ctx, MLF_LOG_INFO, "%s from %s", g, mlf_ctx_task_id(ctx));
 *         return MLF_SUCCESS;
 *     }
 *
 *     static const mlf_operator_desc hello_op = {
 *         .struct_size = sizeof(mlf_operator_desc), .name = "hello", .help = "Says hello.",
 *         .params = hello_params, .execute = hello_execute};
 *
 *     static int hello_init(mlf_registry *reg) { return mlf_register_operator(reg, &hello_op); }
 *
 *     MLF_PLUGIN("hello", "1.0.0", "A friendly operator", hello_init, NULL);
 */
#ifndef MLFLOWD_PLUGIN_H
#define MLFLOWD_PLUGIN_H

#ifdef __cplusplus
extern "C" {
#endif

struct mlf_host;
typedef struct mlf_task_ctx mlf_task_ctx;

/** Opaque registry handle given to a plugin's init function; valid only during init(). */
typedef struct mlf_registry mlf_registry;

/** Name of the one symbol every plugin exports. */
#define MLF_PLUGIN_ENTRY_SYMBOL "mlf_plugin_entry"

/** What a plugin exports as mlf_plugin_entry. Written by MLF_PLUGIN(); members are only appended. */
typedef struct mlf_plugin_info {
    uint32_t abi_major;      /**< MLF_ABI_MAJOR the plugin was built against; must equal the daemon's */
    uint32_t abi_minor;      /**< MLF_ABI_MINOR the plugin was built against */
    uint32_t struct_size;    /**< sizeof(mlf_plugin_info) at build time */
    uint32_t abi_minor_min;  /**< (ABI 1.2; zero before) the oldest daemon minor the plugin runs in:
                                  abi_minor, or MLF_PLUGIN_ABI_MINOR_MIN when the plugin defines it */
    const char *name;        /**< plugin name, [a-z0-9_-]+, unique among loaded plugins */
    const char *version;     /**< the plugin's own version string */
    const char *description; /**< one line shown by `mlflowd plugins list` */
    /** Called once after loading. Returns MLF_OK, or an error code after describing the problem with
     * mlf_registry_error(); the plugin is then unloaded and reported as failed. */
    int (*init)(const struct mlf_host *host, mlf_registry *reg);
    /** Called once before unloading (may be NULL). */
    void (*fini)(void);
} mlf_plugin_info;

/** Type of an operator parameter; decides how the DAG parser validates the YAML value. */
typedef enum mlf_param_type {
    MLF_PARAM_STR = 1,      /**< a string (scalars are accepted and kept as written) */
    MLF_PARAM_INT = 2,      /**< a 64-bit integer */
    MLF_PARAM_FLOAT = 3,    /**< a number */
    MLF_PARAM_BOOL = 4,     /**< true/false */
    MLF_PARAM_DURATION = 5, /**< "30s", "5m", "2h", "1d", ISO 8601 "PT5M" or seconds; delivered as int µs */
    MLF_PARAM_LIST = 6,     /**< a sequence (a scalar is wrapped into a one-element list) */
    MLF_PARAM_MAP = 7,      /**< a mapping with string keys */
    MLF_PARAM_ANY = 8,      /**< anything */
    MLF_PARAM_ENUM = 9      /**< a string among the '|'-separated mlf_param_spec.choices */
} mlf_param_type;

/** mlf_param_spec.flags */
#define MLF_PARAM_REQUIRED 0x1u  /**< the task must give it (and default_value is ignored) */
#define MLF_PARAM_TEMPLATED 0x2u /**< strings inside are rendered as templates before execution */

/** One declared parameter: of an operator, of a notifier's configuration, of a hook's connection extras,
 * of an executor's settings. Tables end with an all-zero entry ({0}). The descriptor that points at a
 * table also gives its element size (param_size, extras_size: write sizeof(mlf_param_spec)), so that
 * members can be appended here without breaking plugins built before; a size of 0 means the ABI 1.0
 * layout (the six members below). */
typedef struct mlf_param_spec {
    const char *name;          /**< the key in the DAG file */
    mlf_param_type type;       /**< expected type */
    unsigned flags;            /**< MLF_PARAM_* flags */
    const char *default_value; /**< default as YAML text ("30s", "[]", "true"), or NULL for none */
    const char *help;          /**< one line of documentation */
    const char *choices;       /**< MLF_PARAM_ENUM: allowed values separated by '|' */
} mlf_param_spec;

/** What an operator's execute callback returns. */
typedef enum mlf_outcome {
    MLF_SUCCESS = 0,            /**< the task succeeded (a sensor: the condition is met) */
    MLF_FAILED = 1,             /**< failed; retried if retries remain */
    MLF_FAILED_NO_RETRY = 2,    /**< failed; never retried */
    MLF_SKIPPED = 3,            /**< skipped (Airflow's AirflowSkipException) */
    MLF_RESCHEDULE = 4          /**< a sensor's condition is not met yet: poke again later */
} mlf_outcome;

/** mlf_operator_desc.flags */
#define MLF_OP_SENSOR 0x1u /**< a sensor: the core adds mode, poke_interval, timeout, soft_fail,
                                exponential_backoff; execute() is one poke */
#define MLF_OP_BRANCH 0x2u /**< may call mlf_ctx_follow() to choose downstream tasks */
#define MLF_OP_NO_EXECUTE 0x4u /**< (ABI 1.2) a try does nothing: the scheduler marks it success without
                                    dispatching it (as Airflow does for EmptyOperator); execute() is never
                                    called unless the task has callbacks that need a try */
#define MLF_OP_ISOLATED 0x8u   /**< (ABI 1.2) every try must run in a fresh process of its own, never
                                    in a long-lived task host (for operators that leak or change process
                                    state) */

/** An operator (or sensor). */
typedef struct mlf_operator_desc {
    uint32_t struct_size;          /**< sizeof(mlf_operator_desc) */
    const char *name;              /**< the name used as `operator:` in DAG files */
    const char *help;              /**< one paragraph of documentation */
    unsigned flags;                /**< MLF_OP_* flags */
    const mlf_param_spec *params;  /**< declared parameters, {0}-terminated; NULL means none */
    /** Runs one try of a task instance (one poke of a sensor) in a task process. It may block; the
     * daemon enforces execution_timeout by killing the process group. Returns the outcome. */
    mlf_outcome (*execute)(mlf_task_ctx *ctx, void *data);
    void *data;                    /**< passed to execute() */
    uint32_t param_size;           /**< (ABI 1.2) sizeof(mlf_param_spec): the stride of params; 0 (or a
                                        plugin built before 1.2) means the ABI 1.0 size */
    /** (ABI 1.2) The operator's settings: `operators.NAME.KEY` in mlflowd.yaml or the environment variable
     * MLFLOWD__OPERATORS__NAME__KEY, {0}-terminated; NULL: none. They belong to whoever runs the daemon,
     * not to DAG authors (an allow-list, a default image). The daemon and the CLI check every
     * operators.* setting against this table when they load the plugins: an unknown key is a start-up
     * error with "did you mean", a value of the wrong type too. Defaults fill in what is not set. */
    const mlf_param_spec *settings;
    uint32_t settings_size;        /**< (ABI 1.2) sizeof(mlf_param_spec): the stride of settings; 0 means
                                        the ABI 1.0 size */
    /** (ABI 1.2) Checks a task when its DAG file is loaded, so that a mistake is a load error at its
     * file:line:col rather than a failed try. May be NULL. Called by the DAG parser once per task with
     * @p params, a map of the task's parameters whose values are literal (a value holding template syntax
     * is left out: it is known only at try time, where execute() must check it), typed as params
     * declare; and @p settings, the map of the operator's settings (typed, defaults filled in, never
     * NULL). Both are borrowed for the call. Returns MLF_OK, or an error code with a one-line reason in
     * @p err (@p errlen bytes) and, in @p *param, the name of the parameter at fault (one of params'
     * keys, borrowed; NULL: the task as a whole), whose position the parser reports. Runs in the
     * scheduler and the CLI: it must be fast and must not block (a stat() is fine, a network call not). */
    int (*validate)(const mlf_value *params, const mlf_value *settings, const char **param, char *err,
                    size_t errlen, void *data);
} mlf_operator_desc;

/** A connection as operators and hooks see it. Owned by the daemon; read-only. */
typedef struct mlf_connection {
    uint32_t struct_size;
    const char *conn_id;
    const char *conn_type; /**< e.g. "http", "sqlite" */
    const char *host;      /**< may be NULL (and so may every string below) */
    int port;              /**< 0 when not given */
    const char *login;
    const char *password;  /**< in clear; never log it (the logger masks it anyway) */
    const char *schema;
    const mlf_value *extra; /**< a map of extra fields, never NULL */
} mlf_connection;

/** A hook: the type of connection it serves and how to check one. */
typedef struct mlf_hook_desc {
    uint32_t struct_size;          /**< sizeof(mlf_hook_desc) */
    const char *name;              /**< hook name, e.g. "http" */
    const char *help;
    const char *conn_type;         /**< connection type served, e.g. "http" */
    const mlf_param_spec *extras;  /**< declared `extra` fields of such connections, or NULL */
    /** Tries the connection; on failure writes a reason into errbuf. May be NULL. */
    int (*test_connection)(const mlf_connection *conn, char *errbuf, size_t errlen);
    uint32_t extras_size;          /**< (ABI 1.2) sizeof(mlf_param_spec): the stride of extras; 0 means
                                        the ABI 1.0 size */
} mlf_hook_desc;

/** A template macro, called in templates as macros.NAME(args...) or NAME(args...). */
typedef struct mlf_macro_desc {
    uint32_t struct_size;  /**< sizeof(mlf_macro_desc) */
    const char *name;      /**< [A-Za-z_][A-Za-z0-9_]* */
    const char *help;
    int min_args, max_args; /**< accepted argument count; max_args -1 means unbounded */
    /** Computes the result into a new value in *out. On failure returns an error code and writes a
     * reason into errbuf. Must be pure and fast: it runs in the scheduler. */
    int (*call)(const mlf_value *const *args, size_t nargs, mlf_value **out, char *errbuf,
                size_t errlen, void *data);
    void *data;
} mlf_macro_desc;

/** A notifier, named by on_failure_callback / on_success_callback / on_retry_callback. */
typedef struct mlf_notifier_desc {
    uint32_t struct_size;          /**< sizeof(mlf_notifier_desc) */
    const char *name;
    const char *help;
    const mlf_param_spec *params;  /**< its configuration keys */
    /** Sends @p event (a map: dag_id, run_id, task_id, state, try_number, message, ...) using @p config
     * (a map validated against params). Runs in a helper process, may block. */
    int (*notify)(const mlf_value *event, const mlf_value *config, char *errbuf, size_t errlen);
    uint32_t param_size;           /**< (ABI 1.2) sizeof(mlf_param_spec): the stride of params; 0 means
                                        the ABI 1.0 size */
} mlf_notifier_desc;

/** An executor decides where task instances run (ABI 1.2; defined in executor.h). */
typedef struct mlf_executor_desc mlf_executor_desc;

/** @name Registration (only during init)
 * Each returns MLF_OK, MLF_EINVAL (NULL or malformed descriptor: missing name or callback, struct_size
 * too small, bad parameter table), MLF_EEXIST (this plugin already registered that name; collisions with
 * other plugins are reported by the loader with both file names), MLF_ESTATE (called after init()
 * returned), MLF_ENOMEM. @{ */
MLF_API int mlf_register_operator(mlf_registry *reg, const mlf_operator_desc *desc);
MLF_API int mlf_register_hook(mlf_registry *reg, const mlf_hook_desc *desc);
MLF_API int mlf_register_macro(mlf_registry *reg, const mlf_macro_desc *desc);
MLF_API int mlf_register_notifier(mlf_registry *reg, const mlf_notifier_desc *desc);
MLF_API int mlf_register_executor(mlf_registry *reg, const mlf_executor_desc *desc);
/** @} */

/** Records why init() is failing; the loader prints it next to the plugin's file name. */
MLF_API void mlf_registry_errorv(mlf_registry *reg, const char *fmt, va_list ap) MLF_PRINTF(2, 0);
static inline void mlf_registry_error(mlf_registry *reg, const char *fmt, ...) MLF_PRINTF(2, 3);
static inline void mlf_registry_error(mlf_registry *reg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_registry_errorv(reg, fmt, ap);
    va_end(ap);
}

/**
 * Defines the plugin's entry symbol. Use exactly once per plugin, at file scope:
 *     MLF_PLUGIN("name", "version", "description", init_function, fini_function_or_NULL);
 * init_function has the type int (*)(mlf_registry *).
 *
 * A plugin that must also load into daemons older than the ABI it is built against defines
 * MLF_PLUGIN_ABI_MINOR_MIN to the oldest minor it supports before including mlflowd.h, and checks
 * MLF_HOST_HAS() before every call to a function added after that minor.
 */
#ifndef MLF_PLUGIN_ABI_MINOR_MIN
#define MLF_PLUGIN_ABI_MINOR_MIN MLF_ABI_MINOR
#endif
#ifndef MLF_HOST_INTERNAL
#define MLF_PLUGIN(name_, version_, description_, init_, fini_)                                       \
    MLF_HIDDEN const struct mlf_host *mlf__host;                                                    \
    static int mlf__plugin_init(const struct mlf_host *host_, mlf_registry *reg_)                   \
    {                                                                                               \
        mlf__host = host_;                                                                          \
        return (init_)(reg_);                                                                       \
    }                                                                                               \
    MLF_EXPORT extern const mlf_plugin_info mlf_plugin_entry;                                       \
    const mlf_plugin_info mlf_plugin_entry = {MLF_ABI_MAJOR,  MLF_ABI_MINOR,    sizeof(mlf_plugin_info), \
                                              MLF_PLUGIN_ABI_MINOR_MIN, (name_), (version_),         \
                                              (description_), mlf__plugin_init, (fini_)}
#endif

#ifdef __cplusplus
}
#endif

#endif /* MLFLOWD_PLUGIN_H */
