/*
 * host.h -- the host function table (an implementation detail of the SDK wrappers).
 *
 * The daemon passes one `struct mlf_host` to each plugin's init(). In plugin builds every mlf_* function
 * of this SDK is a static inline wrapper that calls through the table pointer mlf__host (defined by
 * MLF_PLUGIN() with hidden visibility, so each plugin has its own). Plugin authors normally never touch
 * the table; MLF_HOST_HAS(fn) tells whether the running daemon provides a function added in a later ABI
 * minor.
 *
 * ABI RULE: entries of MLF_HOST_FUNCTIONS are only ever appended, never reordered or removed.
 */
#ifndef MLFLOWD_HOST_H
#define MLFLOWD_HOST_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(return type, name, (parameters), (arguments), return-or-nothing) -- in ABI order. */
#define MLF_HOST_FUNCTIONS(X) \
    X(const char *, mlf_strerror, (int err), (err), return) \
    X(mlf_value *, mlf_value_nil, (void), (), return) \
    X(mlf_value *, mlf_value_bool, (int b), (b), return) \
    X(mlf_value *, mlf_value_int, (int64_t i), (i), return) \
    X(mlf_value *, mlf_value_float, (double d), (d), return) \
    X(mlf_value *, mlf_value_str, (const char *s), (s), return) \
    X(mlf_value *, mlf_value_strn, (const char *s, size_t n), (s, n), return) \
    X(mlf_value *, mlf_value_bin, (const void *p, size_t n), (p, n), return) \
    X(mlf_value *, mlf_value_array, (void), (), return) \
    X(mlf_value *, mlf_value_map, (void), (), return) \
    X(mlf_value *, mlf_value_copy, (const mlf_value *v), (v), return) \
    X(void, mlf_value_free, (mlf_value * v), (v), ) \
    X(mlf_type, mlf_value_type, (const mlf_value *v), (v), return) \
    X(const char *, mlf_type_name, (mlf_type t), (t), return) \
    X(int, mlf_value_get_bool, (const mlf_value *v, int *out), (v, out), return) \
    X(int, mlf_value_get_int, (const mlf_value *v, int64_t *out), (v, out), return) \
    X(int, mlf_value_get_float, (const mlf_value *v, double *out), (v, out), return) \
    X(const char *, mlf_value_get_str, (const mlf_value *v, size_t *len), (v, len), return) \
    X(const void *, mlf_value_get_bin, (const mlf_value *v, size_t *len), (v, len), return) \
    X(size_t, mlf_value_len, (const mlf_value *v), (v), return) \
    X(int, mlf_array_append, (mlf_value * arr, mlf_value * item), (arr, item), return) \
    X(const mlf_value *, mlf_array_at, (const mlf_value *arr, size_t i), (arr, i), return) \
    X(int, mlf_map_set, (mlf_value * map, const char *key, mlf_value *val), (map, key, val), return) \
    X(const mlf_value *, mlf_map_get, (const mlf_value *map, const char *key), (map, key), return) \
    X(const char *, mlf_map_key_at, (const mlf_value *map, size_t i), (map, i), return) \
    X(const mlf_value *, mlf_map_value_at, (const mlf_value *map, size_t i), (map, i), return) \
    X(int, mlf_map_remove, (mlf_value * map, const char *key), (map, key), return) \
    X(int, mlf_value_equal, (const mlf_value *a, const mlf_value *b), (a, b), return) \
    X(int, mlf_value_pack, (const mlf_value *v, void **buf, size_t *len), (v, buf, len), return) \
    X(int, mlf_value_unpack, (const void *buf, size_t len, mlf_value **out), (buf, len, out), return) \
    X(int, mlf_value_to_json, (const mlf_value *v, char **out), (v, out), return) \
    X(char *, mlf_value_to_display, (const mlf_value *v), (v), return) \
    X(int, mlf_register_operator, (mlf_registry * reg, const mlf_operator_desc *desc), (reg, desc), return) \
    X(int, mlf_register_hook, (mlf_registry * reg, const mlf_hook_desc *desc), (reg, desc), return) \
    X(int, mlf_register_macro, (mlf_registry * reg, const mlf_macro_desc *desc), (reg, desc), return) \
    X(int, mlf_register_notifier, (mlf_registry * reg, const mlf_notifier_desc *desc), (reg, desc), return) \
    X(int, mlf_register_executor, (mlf_registry * reg, const mlf_executor_desc *desc), (reg, desc), return) \
    X(void, mlf_registry_errorv, (mlf_registry * reg, const char *fmt, va_list ap), (reg, fmt, ap), ) \
    X(const mlf_value *, mlf_ctx_param, (mlf_task_ctx * ctx, const char *name), (ctx, name), return) \
    X(const mlf_value *, mlf_ctx_params, (mlf_task_ctx * ctx), (ctx), return) \
    X(const mlf_value *, mlf_ctx_dag_params, (mlf_task_ctx * ctx), (ctx), return) \
    X(const char *, mlf_ctx_dag_id, (mlf_task_ctx * ctx), (ctx), return) \
    X(const char *, mlf_ctx_task_id, (mlf_task_ctx * ctx), (ctx), return) \
    X(const char *, mlf_ctx_run_id, (mlf_task_ctx * ctx), (ctx), return) \
    X(int, mlf_ctx_try_number, (mlf_task_ctx * ctx), (ctx), return) \
    X(int, mlf_ctx_map_index, (mlf_task_ctx * ctx), (ctx), return) \
    X(mlf_time_us, mlf_ctx_logical_date, (mlf_task_ctx * ctx), (ctx), return) \
    X(mlf_time_us, mlf_ctx_data_interval_start, (mlf_task_ctx * ctx), (ctx), return) \
    X(mlf_time_us, mlf_ctx_data_interval_end, (mlf_task_ctx * ctx), (ctx), return) \
    X(int, mlf_ctx_xcom_push, (mlf_task_ctx * ctx, const char *key, mlf_value *value), (ctx, key, value), return) \
    X(int, mlf_ctx_xcom_pull, (mlf_task_ctx * ctx, const char *task_id, const char *key, const mlf_value **out), (ctx, task_id, key, out), return) \
    X(int, mlf_ctx_connection, (mlf_task_ctx * ctx, const char *conn_id, const mlf_connection **out), (ctx, conn_id, out), return) \
    X(void, mlf_ctx_logv, (mlf_task_ctx * ctx, mlf_log_level level, const char *fmt, va_list ap), (ctx, level, fmt, ap), ) \
    X(int, mlf_ctx_log_fd, (mlf_task_ctx * ctx), (ctx), return) \
    X(void, mlf_ctx_set_messagev, (mlf_task_ctx * ctx, const char *fmt, va_list ap), (ctx, fmt, ap), ) \
    X(int, mlf_ctx_follow, (mlf_task_ctx * ctx, const char *task_id), (ctx, task_id), return) \
    X(int, mlf_ctx_reschedule_at, (mlf_task_ctx * ctx, mlf_time_us when), (ctx, when), return) \
    X(int, mlf_ctx_cancelled, (mlf_task_ctx * ctx), (ctx), return) \
    X(const char *const *, mlf_ctx_downstream, (mlf_task_ctx * ctx, size_t *n), (ctx, n), return) \
    X(int, mlf_ctx_external_state, (mlf_task_ctx * ctx, const char *dag_id, const char *task_id, int map_index, mlf_time_us logical_date, char *state, size_t statelen), (ctx, dag_id, task_id, map_index, logical_date, state, statelen), return) \
    X(void, mlf_free, (void *p), (p), ) \
    X(void, mlf_logv, (mlf_log_level level, const char *component, const char *fmt, va_list ap), (level, component, fmt, ap), ) \
    X(mlf_time_us, mlf_clock_wall, (void), (), return) \
    X(int64_t, mlf_clock_monotonic, (void), (), return) \
    X(int, mlf_exec_report, (mlf_exec_host * host, const mlf_value *result), (host, result), return) \
    X(int, mlf_exec_lease_persist, (mlf_exec_host * host, const char *attempt, const char *worker, mlf_time_us deadline), (host, attempt, worker, deadline), return) \
    X(void, mlf_exec_lease_drop, (mlf_exec_host * host, const char *attempt), (host, attempt), ) \
    X(const char *, mlf_exec_self, (mlf_exec_host * host), (host), return) \
    X(int, mlf_exec_setting, (mlf_exec_host * host, const char *key, mlf_value **out), (host, key, out), return) \
    X(int, mlf_taskproc_pool_new, (int slots, int64_t kill_grace, mlf_taskproc_pool **out), (slots, kill_grace, out), return) \
    X(void, mlf_taskproc_pool_free, (mlf_taskproc_pool * pool), (pool), ) \
    X(int, mlf_taskproc_pool_submit, (mlf_taskproc_pool * pool, const mlf_value *spec, mlf_time_us now, char *err, size_t errlen), (pool, spec, now, err, errlen), return) \
    X(int, mlf_taskproc_pool_kill, (mlf_taskproc_pool * pool, const char *attempt, mlf_time_us now), (pool, attempt, now), return) \
    X(int, mlf_taskproc_pool_shutdown, (mlf_taskproc_pool * pool, int64_t grace, mlf_time_us now), (pool, grace, now), return) \
    X(int, mlf_taskproc_pool_fd, (const mlf_taskproc_pool *pool), (pool), return) \
    X(mlf_time_us, mlf_taskproc_pool_next_deadline, (const mlf_taskproc_pool *pool), (pool), return) \
    X(int, mlf_taskproc_pool_process, (mlf_taskproc_pool * pool, mlf_time_us now, mlf_taskproc_result_fn cb, void *ud), (pool, now, cb, ud), return) \
    X(size_t, mlf_taskproc_pool_running, (const mlf_taskproc_pool *pool), (pool), return) \
    X(size_t, mlf_taskproc_pool_queued, (const mlf_taskproc_pool *pool), (pool), return) \
    X(int, mlf_msgpack_prescan_budget, (const void *buf, size_t len, size_t max_depth, size_t max_values, size_t *consumed), (buf, len, max_depth, max_values, consumed), return) \
    X(unsigned, mlf_reload_generation, (void), (), return) \
    X(int, mlf_exec_worker_update, (mlf_exec_host * host, const mlf_value *worker), (host, worker), return) \
    X(int, mlf_register_event_source, (mlf_registry * reg, const mlf_event_source_desc *desc), (reg, desc), return) \
    X(int, mlf_event_emit, (mlf_event_host * host, const mlf_value *extra, const char *key), (host, extra, key), return) \
    X(int, mlf_exec_note, (mlf_exec_host * host, const char *attempt, const char *note), (host, attempt, note), return)

#define MLF__HOST_MEMBER(ret, name, params, args, ret_kw) ret(*name) params;

/** The host table. Its first members say which ABI it implements and how much of it exists. */
struct mlf_host {
    uint32_t abi_major;   /**< MLF_ABI_MAJOR of the daemon */
    uint32_t abi_minor;   /**< MLF_ABI_MINOR of the daemon */
    uint32_t struct_size; /**< sizeof(struct mlf_host) in the daemon */
    uint32_t reserved;
    MLF_HOST_FUNCTIONS(MLF__HOST_MEMBER)
};

#ifndef MLF_HOST_INTERNAL
/* The table of the daemon that loaded this plugin; set by MLF_PLUGIN()'s init trampoline. */
extern MLF_HIDDEN const struct mlf_host *mlf__host;

/** 1 when the running daemon's host table has function @p fn (added in some ABI minor), else 0. */
#define MLF_HOST_HAS(fn) \
    (mlf__host->struct_size >= offsetof(struct mlf_host, fn) + sizeof(mlf__host->fn) && mlf__host->fn)

#define MLF__HOST_WRAPPER(ret, name, params, args, ret_kw) \
    MLF_API ret name params { ret_kw mlf__host->name args; }
MLF_HOST_FUNCTIONS(MLF__HOST_WRAPPER)
#undef MLF__HOST_WRAPPER
#endif

#ifdef __cplusplus
}
#endif

#endif /* MLFLOWD_HOST_H */
