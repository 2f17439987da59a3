/* dag.h -- the in-memory DAG model: a validated DAG file, ready for the scheduler.
 *
 * A DAG owns its tasks; tasks refer to each other by index. Everything here is immutable once
 * mlf_dag_finalize() succeeded, so a DAG can be shared by readers without locks. */
#ifndef MLF_CORE_DAG_H
#define MLF_CORE_DAG_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "base/diag.h"
#include "tmpl/template.h"
#include "dag/dag_assets.h"

/** Trigger rules (doc/architecture.md §6, Airflow's names). */
typedef enum mlf_trigger_rule {
    MLF_TR_ALL_SUCCESS = 0,
    MLF_TR_ALL_FAILED,
    MLF_TR_ALL_DONE,
    MLF_TR_ALL_DONE_MIN_ONE_SUCCESS,
    MLF_TR_ALL_SKIPPED,
    MLF_TR_ONE_SUCCESS,
    MLF_TR_ONE_FAILED,
    MLF_TR_ONE_DONE,
    MLF_TR_NONE_FAILED,
    MLF_TR_NONE_FAILED_MIN_ONE_SUCCESS,
    MLF_TR_NONE_SKIPPED,
    MLF_TR_ALWAYS,
    MLF_TR_ALL_DONE_SETUP_SUCCESS, /**< Airflow 2.7+: all done, and a setup among them succeeded (teardowns) */
    MLF_TR_COUNT
} mlf_trigger_rule;

/** Priority weight rules. */
typedef enum mlf_weight_rule { MLF_WR_DOWNSTREAM = 0, MLF_WR_UPSTREAM, MLF_WR_ABSOLUTE, MLF_WR_COUNT } mlf_weight_rule;

/** How a task's results are cached (doc/caching.md). */
typedef enum mlf_cache_mode {
    MLF_CACHE_NONE = 0, /**< every try runs */
    MLF_CACHE_AUTO,     /**< keyed on operator, plugin, rendered parameters and the XComs it reads */
    MLF_CACHE_KEY       /**< keyed on a rendered template */
} mlf_cache_mode;

/** Sensor modes. */
typedef enum mlf_sensor_mode { MLF_SENSOR_POKE = 0, MLF_SENSOR_RESCHEDULE } mlf_sensor_mode;

/** The names, in enum order (static arrays of MLF_TR_COUNT / MLF_WR_COUNT strings). */
extern const char *const mlf_trigger_rule_names[MLF_TR_COUNT];
extern const char *const mlf_weight_rule_names[MLF_WR_COUNT];

/** Parses a name into an enum; returns MLF_OK or MLF_ENOTFOUND. */
int mlf_trigger_rule_parse(const char *name, mlf_trigger_rule *out);
int mlf_weight_rule_parse(const char *name, mlf_weight_rule *out);

/** Sensor settings (for operators flagged MLF_OP_SENSOR). */
typedef struct mlf_sensor_cfg {
    mlf_sensor_mode mode;
    int64_t poke_interval_us;
    int64_t timeout_us;
    int soft_fail;
    int exponential_backoff;
} mlf_sensor_cfg;

/** A templated operator parameter whose value has template syntax, compiled once (mlf_dag_finalize). */
typedef struct mlf_task_template {
    const char *param;   /**< the parameter's name (the operator's string) */
    mlf_template *tmpl;  /**< the value is one string: compiled; NULL: the value holds strings (a list, a
                              map) and is rendered whole, or it did not compile (rendering says why) */
} mlf_task_template;

/** One task of a DAG. Strings and values are owned by the DAG. */
typedef struct mlf_task {
    char *task_id;
    char *operator_name;
    const mlf_operator_desc *op; /**< borrowed from the catalog the DAG was parsed with */
    size_t *upstream, nupstream;     /**< indices of direct upstream tasks */
    size_t *downstream, ndownstream; /**< indices of direct downstream tasks */
    mlf_trigger_rule trigger_rule;
    int retries;
    int64_t retry_delay_us;
    int retry_exponential_backoff;
    int64_t max_retry_delay_us;  /**< 0: no cap */
    int64_t execution_timeout_us; /**< 0: none */
    int depends_on_past;
    int wait_for_downstream;
    char *pool;
    int pool_slots;
    char *queue;
    int priority_weight;
    mlf_weight_rule weight_rule;
    int64_t effective_priority; /**< computed by mlf_dag_finalize() from the weight rule */
    mlf_value *params;   /**< operator parameters (a map), defaults applied; templates not rendered */
    mlf_value *expand;   /**< NULL, or a map: operator parameter -> list or one-expression template */
    /** Mapped tasks: the tasks whose XCom `expand` maps over (Airflow's mapped dependencies), each also a
     * direct upstream; their failure or skip decides the mapped task whatever its trigger rule. */
    size_t *expand_src, nexpand_src;
    mlf_sensor_cfg sensor;
    char *group, *doc, *owner; /**< group: the task group's group_id (NULL outside groups) */
    long group_index;    /**< the task's task group (an index in mlf_dag.groups), -1 outside groups */
    /** Callbacks: NULL, or a map {notifier: NAME, config: {...}} (validated against the notifier's table). */
    mlf_value *on_failure_callback, *on_success_callback, *on_retry_callback;
    /* Setup and teardown (Airflow 2.7+, doc/dags.md): a teardown runs once its upstreams are done and does
     * not decide the run's state unless on_failure_fail_dagrun. */
    int is_setup, is_teardown, on_failure_fail_dagrun;
    int run_leaf;        /**< decides the run's state (Airflow's effective leaf), set by mlf_dag_finalize() */
    /** Airflow's get_upstreams_only_setups(): the setups upstream of the task (at any distance) that have no
     * teardown or one downstream of the task; a non-teardown task waits until all succeeded. */
    size_t *setups, nsetups;
    /** The tasks with this setup among their `setups` but not among their direct upstreams (their wait on
     * it ends when it finishes, so the scheduler looks at them again then). */
    size_t *setup_waiters, nsetup_waiters;
    /** executor_config: NULL, or a map executor name -> map, each checked against that executor's
     * task_params (typed as declared); handed to the executor in the task spec. */
    mlf_value *executor_config;
    int line, col;       /**< where the task is defined in its file */
    /** The templated parameters that have template syntax, compiled when the DAG is finalized; every
     * other parameter renders to itself. Meaningful when templates_ready. */
    mlf_task_template *templates;
    size_t ntemplates;
    int templates_ready;
    /** Cached results (doc/caching.md): `cache: auto` or `cache: {key: TEMPLATE, ttl: DURATION}`. */
    mlf_cache_mode cache_mode;
    mlf_template *cache_key;   /**< MLF_CACHE_KEY: the key template, compiled at load */
    int64_t cache_ttl_us;      /**< how long an entry is good for; 0: until purged */
    /* assets (dag_assets.h, doc/assets.md) */
    char **outlets;      /**< the asset URIs a succeeded try of this task updates */
    size_t noutlets;
} mlf_task;

/** A task group (Airflow's TaskGroup): tasks shown together, named together in `upstream` (its leaves),
 * given upstreams together (its roots). Groups nest; the model keeps them only for names and views. */
typedef struct mlf_task_group {
    char *group_id;      /**< Airflow's group_id: the label, prefixed "PARENT." when the parent prefixes */
    char *label;         /**< the name it was declared with */
    long parent;         /**< index in mlf_dag.groups, -1 for a group at the DAG's top */
    int prefix_group_id; /**< 1: the ids of its tasks and groups start with "GROUP_ID." */
    int depth;           /**< 1 for a top-level group, its parent's + 1 below */
    char *tooltip;
    int line, col;
} mlf_task_group;

/** A DAG. */
typedef struct mlf_dag {
    char *dag_id;
    char *fileloc;       /**< the DAG file's path */
    char *description;
    char *schedule;      /**< the schedule as written (NULL: manual only) */
    char *timezone;      /**< IANA name, "UTC" by default */
    mlf_time_us start_date;  /**< 0 when not given (manual-only DAGs) */
    mlf_time_us end_date;    /**< 0: none */
    int catchup;
    int max_active_runs;
    int max_active_tasks;
    int is_paused_upon_creation;
    int64_t dagrun_timeout_us; /**< 0: none */
    char **tags;
    size_t ntags;
    mlf_value *params;   /**< DAG params (a map, never NULL); a param given as a spec holds its default */
    mlf_value *param_specs; /**< NULL, or name -> spec for params given as Airflow Param specs (dag_params.h) */
    char *doc_md;
    mlf_value *on_failure_callback, *on_success_callback; /**< as the task callbacks, for the run's end */
    mlf_task *tasks;
    size_t ntasks;
    mlf_task_group *groups; /**< in declaration order: a parent before its children */
    size_t ngroups;
    size_t *topo;        /**< task indices in a topological order (set by mlf_dag_finalize) */
    size_t *id_hash;     /**< open-addressing index task_id -> index+1 (0 = empty), id_hash_cap slots */
    size_t id_hash_cap;
    int line, col;
    /* assets (dag_assets.h, doc/assets.md) */
    mlf_asset_cond asset_sched;   /**< the asset condition of `schedule:` (n 0: not asset-scheduled) */
    mlf_asset_decl *asset_decls;  /**< the top-level `assets:` declarations */
    size_t nasset_decls;
    int refs;            /**< references: mlf_dag_new() gives 1, mlf_dag_retain() adds, mlf_dag_free() drops */
} mlf_dag;

/** A new empty DAG (fields zero, params an empty map), or NULL when memory runs out. */
mlf_dag *mlf_dag_new(void);

/** Drops one reference to @p dag and frees it with everything it owns when none is left. NULL is allowed.
 * (The DAG bag holds one reference; a scheduler keeps a DAG alive for its active runs with
 * mlf_dag_retain() even after the file changed.) */
void mlf_dag_free(mlf_dag *dag);

/** Adds a reference to @p dag and returns it. */
mlf_dag *mlf_dag_retain(mlf_dag *dag);

/** Appends a task with id @p task_id (copied); returns its index in *index. Defaults are Airflow's:
 * all_success, 0 retries, 300 s retry_delay, default_pool, 1 slot, queue "default", weight 1, downstream.
 * Errors: MLF_EEXIST (duplicate id), MLF_ENOMEM. */
int mlf_dag_add_task(mlf_dag *dag, const char *task_id, size_t *index);

/** The index of task @p task_id, or -1. O(1) expected. */
long mlf_dag_task_index(const mlf_dag *dag, const char *task_id);

/** Adds the edge upstream -> downstream (indices); duplicates are ignored. MLF_OK or MLF_ENOMEM. */
int mlf_dag_add_edge(mlf_dag *dag, size_t upstream, size_t downstream);

/** Tests: the memory the exact priority-weight closure of mlf_dag_finalize() may use for its bitsets
 * (smaller budgets take more passes, same result); 0 restores the default of 32 MiB. Not thread-safe. */
void mlf_dag_set_closure_budget(size_t bytes);

/** Computes the topological order, rejects cycles (one diagnostic printing the cycle's path, e.g.
 * "cycle: a -> b -> c -> a"), and computes effective priorities. Returns MLF_OK or MLF_EINVAL. */
int mlf_dag_finalize(mlf_dag *dag, mlf_diag *diag);

/** 1 when task @p t decides the run's final state: Airflow's effective leaf, a task whose downstreams are all
 * teardowns that do not fail the run (none: a leaf), and not such a teardown itself (set by
 * mlf_dag_finalize(); a DAG of nothing but such teardowns has its plain leaves decide). */
int mlf_task_is_leaf(const mlf_task *t);

/** Computes the setup/teardown relations of every task (mlf_task.setups, setup_waiters, run_leaf);
 * mlf_dag_finalize() calls it. Returns MLF_OK or MLF_ENOMEM. */
int mlf_dag_setup_teardown(mlf_dag *dag);

/** Adds to selection @p sel (one byte per task) the setups and teardowns Airflow clears with the tasks
 * selected (DAG.partial_subset): for a selected task that is neither, its relevant setups (mlf_task.setups)
 * and their teardowns; for a selected setup, its teardowns. Returns MLF_OK or MLF_ENOMEM. */
int mlf_dag_select_setups_teardowns(const mlf_dag *dag, unsigned char *sel);

/** Adds a task group labelled @p label under group @p parent (-1: the DAG's top); its group_id is Airflow's
 * (the label, prefixed by the parent's id when the parent prefixes). Index in *index. Errors: MLF_EEXIST (the
 * group_id is taken by another group), MLF_ENOMEM. */
int mlf_dag_add_group(mlf_dag *dag, const char *label, long parent, int prefix_group_id, size_t *index);

/** The index of the task group whose group_id is @p group_id, or -1. */
long mlf_dag_group_index(const mlf_dag *dag, const char *group_id);

/** The id a task or group labelled @p label gets inside group @p group (-1: the top): Airflow's child_id,
 * "GROUP_ID.label" when the group prefixes, else the label. Returns a string the caller frees, or NULL. */
char *mlf_dag_child_id(const mlf_dag *dag, long group, const char *label);

/** 1 when group @p inner is @p outer or nested in it (at any depth). */
int mlf_group_within(const mlf_dag *dag, long inner, long outer);

/** Airflow's TaskGroup.get_roots / get_leaves: the tasks of group @p g (nested groups included) without an
 * upstream (roots) or a downstream (leaves) inside it, as task indices into @p out (room for ntasks); returns
 * their count. */
size_t mlf_dag_group_roots(const mlf_dag *dag, long g, size_t *out);
size_t mlf_dag_group_leaves(const mlf_dag *dag, long g, size_t *out);

/** Compiles the templated parameters of every task (mlf_task.templates), replacing earlier ones;
 * mlf_dag_finalize() calls it. Returns MLF_OK or MLF_ENOMEM. */
int mlf_dag_compile_templates(mlf_dag *dag);

/** Frees a task's compiled templates (templates_ready becomes 0). */
void mlf_task_templates_free(mlf_task *t);

#endif
