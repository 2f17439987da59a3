/*
 * executor.h -- executors: where task instances run (ABI 1.2; worker records 1.3).
 *
 * An executor takes the tries the scheduler hands it and reports how each one ended. `local` and
 * `sequential` (child processes on the scheduler's host) and `zmq` (remote `mlflowd worker` processes) are
 * executor plugins like any other; the configuration setting `executor: NAME` chooses one, and its own
 * settings live under `executors.NAME.*`, checked against the descriptor's parameter table before open() is
 * called (an unknown key is a start-up error with "did you mean").
 *
 * THE LOOP. Every callback is called from the scheduler's one thread and must not block: the scheduler
 * polls fd() for POLLIN together with its other sources, calls process() when it is readable or when
 * next_deadline() has passed, and calls after_commit() after each store commit. An executor that needs a
 * thread of its own hides it behind fd() (an eventfd, a pipe) and never calls host functions from it.
 *
 * ONE RESULT PER TRY. Every spec accepted by submit() yields exactly one result, delivered with
 * mlf_exec_report() from process() (never from submit() or kill(): the scheduler is not ready for it
 * there). When the try could not report for itself (its process died, its worker vanished, it was killed)
 * the executor synthesizes a result with outcome "failed" and a message saying what happened, for a person
 * to read ("the task process was killed by signal 9 (Killed)", "zombie: worker w1 stopped heartbeating").
 *
 * CLOCKS. Every `now` the scheduler passes is its wall clock in µs since the epoch (mlf_clock_wall()), the
 * same clock for submit(), process() and next_deadline(); an executor that measures durations across a
 * wall-clock step (heartbeats, timeouts) may use mlf_clock_monotonic() for them.
 *
 * LEASES. An executor whose tries outlive the scheduler (remote workers) records, before a try leaves, who
 * holds it: mlf_exec_lease_persist() during submit() adds the lease to the scheduler's current write batch,
 * which is committed before after_commit() runs, so a TASK sent in after_commit() is always backed by a
 * durable lease. After a restart the scheduler calls adopt() for every try whose lease it finds; an
 * executor without adopt (NULL) has its leftover tries failed as zombies.
 *
 * THE TASK SPEC (what submit() receives; borrowed for the call, copy what must live longer) is one map:
 *   dag_id, task_id, run_id   str: the task instance
 *   map_index                 int: -1 when the task is not mapped
 *   try_number                int: counts from 1
 *   attempt                   str: the attempt token, unique per try; the result must carry it back
 *   operator                  str: the operator's name
 *   plugin                    str: the file of the plugin that provides the operator
 *   logical_date, data_interval_start, data_interval_end   int: µs since the epoch
 *   log_path                  str: the try's log file on the scheduler's host
 *   is_branch                 bool: the operator may choose downstream tasks
 *   downstream                array of str: the direct downstream task ids
 *   params, dag_params        map: rendered operator parameters, the DAG's params
 *   xcom_inputs               map task_id -> map key -> value: what the try may pull
 *   xcom_max_size             int: packed bytes allowed per pushed XCom (0: unlimited)
 *   secrets                   array of str: masked as *** in the log
 *   connections               map conn_id -> map: connections resolved by the scheduler
 *   execution_timeout         int: µs (0: none); the executor kills the try when it is exceeded
 *   sensor_poke               bool: the try is one poke of a sensor
 *   executor_config           map executor name -> map (ABI 1.3; absent when the task sets none): the
 *                             task's `executor_config`, checked against each executor's task_params
 * Unknown keys must be ignored (a newer daemon may add some). An executor normally forwards the spec
 * untouched to whatever runs the try: `mlflowd task-exec` reads exactly this map.
 *
 * THE TASK RESULT (what mlf_exec_report() takes) is one map:
 *   attempt                   str, required: the spec's attempt token
 *   outcome                   str, required: "success", "failed", "failed_no_retry", "skipped", "reschedule"
 *   start_date, end_date      int, required: µs since the epoch
 *   message                   str or nil: why it ended as it did
 *   xcoms                     map key -> value: XComs the try pushed
 *   followed                  array of str or nil: the downstream tasks a branch chose (nil: it chose none)
 *   reschedule_at             int: a sensor's requested next poke (0: its poke_interval decides)
 *   exit_status               int: the task process's exit code (-1: unknown or killed by a signal)
 *   exit_signal               int: the signal that killed the task process (0: none)
 *   pid                       int: the task process id (0: unknown)
 *   hostname                  str: the host it ran on
 * A result the daemon cannot decode, or whose attempt matches no try in flight, is logged and dropped.
 */
#ifndef MLFLOWD_EXECUTOR_H
#define MLFLOWD_EXECUTOR_H

#ifdef __cplusplus
extern "C" {
#endif

/** The daemon's side of one open executor, handed to open() and given back to the mlf_exec_* host
 * functions. Opaque; valid until close() returns. */
typedef struct mlf_exec_host mlf_exec_host;

/** What can_accept() answers. */
typedef enum mlf_exec_accept {
    MLF_EXEC_ACCEPT = 0, /**< submit it now */
    MLF_EXEC_BUSY = 1,   /**< not now, and no other try either (every slot is taken): the scheduler stops
                              offering tries until the executor reports a result */
    MLF_EXEC_WAIT = 2,   /**< not this try now (nothing serves its queue or operator at the moment, or
                              those that do are busy); other tries may still be accepted. The reason is
                              shown to users beside the waiting task instance */
    MLF_EXEC_NEVER = 3   /**< this try can never run on this executor; the scheduler fails it, without
                              retry, with the reason as its message */
} mlf_exec_accept;

/** @name Executor flags (mlf_executor_desc.flags)
 * @{ */
/** Tries outlive the scheduler (the executor has adopt): a stopping scheduler does not wait for them to
 * finish but calls shutdown() at once, and the next start adopts them (ABI 1.3). */
#define MLF_EXEC_OUTLIVES 0x1u
/** @} */

/** What open() receives. Members are only ever appended (check struct_size before reading a member
 * added after ABI 1.2). Everything is borrowed for the duration of open(), except host, which lives as
 * long as the executor. */
typedef struct mlf_exec_open_args {
    uint32_t struct_size;    /**< sizeof(mlf_exec_open_args) in the daemon */
    const char *name;        /**< the executor's registered name (one descriptor may serve several) */
    const mlf_value *config; /**< map of the executors.NAME.* settings, checked against the descriptor's
                                  params and typed as they declare (durations in µs), defaults filled in */
    mlf_exec_host *host;     /**< for the mlf_exec_* host functions */
    int parallelism;         /**< the daemon's `parallelism` setting: most tries it runs at once */
    int64_t kill_grace;      /**< µs between SIGTERM and SIGKILL when a try is stopped */
} mlf_exec_open_args;

/** An executor. Register it with mlf_register_executor() from a plugin's init(). Every callback except
 * those marked "may be NULL" is required. `inst` is what open() stored. */
struct mlf_executor_desc {
    uint32_t struct_size;          /**< sizeof(mlf_executor_desc) */
    const char *name;              /**< the name used as `executor:` in the configuration */
    const char *help;              /**< one paragraph of documentation */
    unsigned flags;                /**< MLF_EXEC_* flags (zero before ABI 1.3) */
    const mlf_param_spec *params;  /**< the executors.NAME.* settings, {0}-terminated; NULL: none */
    uint32_t param_size;           /**< sizeof(mlf_param_spec) as the plugin was built (the stride of
                                        params); 0 means the ABI 1.0 size */

    /** Starts an instance as @p args describe, storing it in @p *inst. Returns MLF_OK, or an error code
     * with a one-line reason in @p err (@p errlen bytes), which the daemon prints before it exits:
     * "cannot bind tcp://0.0.0.0:5555: Address already in use". */
    int (*open)(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen);

    /** Whether a try of operator @p operator_name on queue @p queue can be submitted now (see
     * mlf_exec_accept). Unless it returns MLF_EXEC_ACCEPT it writes the reason into @p why ("all 8 slots
     * are busy", "no worker listens on queue 'gpu'"). */
    mlf_exec_accept (*can_accept)(void *inst, const char *queue, const char *operator_name, char *why,
                                  size_t whylen);

    /** Takes one try: @p spec is a TASK SPEC map (borrowed: copy it), @p queue its task's queue.
     * Errors, with a reason in @p err: MLF_EPARSE (the spec is malformed), MLF_EEXIST (its attempt token
     * is in flight already), MLF_ESTATE (shut down), MLF_ETOOBIG, MLF_ENOMEM. A try refused here yields
     * no result; the scheduler fails it itself. */
    int (*submit)(void *inst, const mlf_value *spec, const char *queue, mlf_time_us now, char *err,
                  size_t errlen);

    /** Stops the try @p attempt (the user cleared or marked it, or its run was stopped). It is reported
     * later, through process(), as failed with a message such as "killed on request". Errors:
     * MLF_ENOTFOUND (not in flight). */
    int (*kill)(void *inst, const char *attempt, mlf_time_us now);

    /** One file descriptor the scheduler polls for POLLIN, owned by the executor, or -1 for none. The
     * same descriptor for the life of the instance. */
    int (*fd)(void *inst);

    /** The earliest time at which process() must run even if fd() stays quiet (a timeout, a heartbeat),
     * or 0 when there is none. A time in the past means "now". */
    mlf_time_us (*next_deadline)(void *inst);

    /** Does everything due without blocking and reports every finished try with mlf_exec_report().
     * Returns the number of results reported, or a negative MLF_E* code (logged by the daemon). */
    int (*process)(void *inst, mlf_time_us now);

    /** Called after every store commit of the scheduler, when the leases persisted during submit() are
     * durable. May be NULL. */
    void (*after_commit)(void *inst, mlf_time_us now);

    /** Stops taking tries (submit() then fails with MLF_ESTATE), lets running tries finish until @p now
     * + @p grace, then kills them; queued tries are reported failed at once. The scheduler keeps calling
     * process() until in_flight() is 0. Returns MLF_OK or an error code. */
    int (*shutdown)(void *inst, int64_t grace, mlf_time_us now);

    /** Tries submitted (or adopted) and not yet reported. */
    size_t (*in_flight)(void *inst);

    /** After a scheduler restart: takes back the try @p attempt whose lease names @p worker, logging to
     * @p log_path. It then counts as in flight and is reported like any other. Returns MLF_OK, or an
     * error code when the try cannot be taken back (the scheduler then fails it as a zombie). May be
     * NULL: tries of this executor never outlive the scheduler. */
    int (*adopt)(void *inst, const char *attempt, const char *worker, const char *log_path, mlf_time_us now);

    /** What the executor is doing now, as a new map (the daemon frees it with mlf_value_free()) with
     * any of these keys: "endpoint" (str: where workers connect), "workers" (int: registered workers),
     * "slots" (int: tries it can run at once), "running" (int), "queued" (int); other keys are shown as
     * they are. May be NULL. */
    mlf_value *(*describe)(void *inst);

    /** Kills (SIGKILL) whatever still runs, forgets queued tries without reporting them, and frees the
     * instance. */
    void (*close)(void *inst);

    /* ---- ABI 1.3 */
    /** What a task may give this executor under `executor_config: {NAME: {...}}` in a DAG file,
     * {0}-terminated; NULL: nothing (a task naming the executor there is a load error). Checked when the
     * DAG is loaded (unknown key: an error with "did you mean"; values typed as declared) and handed to
     * submit() as the spec's `executor_config` map, NAME -> map. */
    const mlf_param_spec *task_params;
    uint32_t task_param_size; /**< sizeof(mlf_param_spec) as the plugin was built (the stride of task_params) */
};

/** @name Host functions for executors (ABI 1.2)
 * Callable only from the scheduler's thread, inside a callback of the executor that owns @p host. @{ */

/** Delivers the result of one try: @p result is a TASK RESULT map (borrowed; the daemon copies what it
 * keeps). Call it from process() only. The scheduler may call back into submit() and kill() during the
 * call. Errors: MLF_EINVAL (NULL argument), MLF_EPARSE (the result does not decode: the daemon logs why
 * and the try stays in flight, so the executor must deliver a corrected result). */
MLF_API int mlf_exec_report(mlf_exec_host *host, const mlf_value *result);

/** Adds to the scheduler's current write batch that try @p attempt is leased to @p worker until
 * @p deadline; the batch is committed before after_commit() runs. Call it from submit() (or process()).
 * Errors: MLF_ENOTFOUND (no try with this token is being submitted or running), MLF_EIO (the store
 * failed; the scheduler reports it). */
MLF_API int mlf_exec_lease_persist(mlf_exec_host *host, const char *attempt, const char *worker,
                                   mlf_time_us deadline);

/** Removes the lease of @p attempt from the current write batch (the try ended). Unknown tokens are
 * ignored. */
MLF_API void mlf_exec_lease_drop(mlf_exec_host *host, const char *attempt);

/** Sets the note shown beside try @p attempt while it runs (`mlflowd tasks state`, the web UI): what the
 * executor knows of it that the task cannot say, such as "Slurm job 12 pending: Resources". @p note NULL
 * or "" clears it; the note is replaced by the try's result message when it ends. Call it from submit()
 * or process(); cheap when the note did not change. Errors: MLF_EINVAL, MLF_ENOTFOUND (no try with this
 * token is in flight). ABI 1.3: check MLF_HOST_HAS(mlf_exec_note) in a plugin that also loads into older
 * daemons. */
MLF_API int mlf_exec_note(mlf_exec_host *host, const char *attempt, const char *note);

/** The daemon's `mlflowd` executable (absolute path, borrowed, never NULL): what runs
 * `mlflowd task-exec` and `mlflowd worker`. */
MLF_API const char *mlf_exec_self(mlf_exec_host *host);

/** A daemon-wide setting (one of the key table of doc/configuration.md, such as "zmq.bind", which the
 * zmq executor shares with `mlflowd worker`), as a new value stored in @p *out (free with
 * mlf_value_free()): str, int (durations in µs), array of str for lists, nil when unset. An executor's own
 * settings come in mlf_exec_open_args.config instead. Errors: MLF_ENOTFOUND (no such setting),
 * MLF_EINVAL, MLF_ENOMEM. */
MLF_API int mlf_exec_setting(mlf_exec_host *host, const char *key, mlf_value **out);
/** Records what the executor knows of one of its workers, for `mlflowd workers list` (ABI 1.3; an executor
 * that may run in a 1.2 daemon checks MLF_HOST_HAS(mlf_exec_worker_update) first). @p worker is a WORKER
 * map (borrowed; the daemon copies it):
 *   name                      str, required: the worker's name (1..128 bytes), the record's key
 *   state                     str, required: "ready" (registered and heard from) or "gone"
 *   host                      str: the host it runs on
 *   pid                       int: its process id there
 *   reason                    str: why it is gone
 *   slots, running            int: tries it can run at once, tries it holds now
 *   queues, operators         array of str: what it serves
 *   key                       str: its public key (CurveZMQ, Z85)
 *   registered_at             int: µs since the epoch, when it (re)registered
 *   last_heartbeat            int: µs since the epoch, the latest message heard from it
 *   liveness                  int: µs of silence after which the executor gives it up
 * Call it when a worker registers or goes (the daemon writes that in the current turn's commit) and on its
 * heartbeats (the daemon keeps only the latest record per name and writes it with the next commit the loop
 * makes anyway, or within 5 s: never one store commit per heartbeat). Callable from any callback but
 * close(). Errors: MLF_EINVAL (NULL, not a map, no valid name or state), MLF_ENOMEM, MLF_ENOTSUP (the daemon
 * keeps no worker records: a test harness). */
MLF_API int mlf_exec_worker_update(mlf_exec_host *host, const mlf_value *worker);

/** A counter the daemon increments each time it is asked to reload (SIGHUP). An executor that caches
 * credentials or allow-lists compares it in process() and re-reads them when it changed. */
MLF_API unsigned mlf_reload_generation(void);
/** @} */

/** @name Task processes on this host (ABI 1.2)
 * The daemon's own machinery for running tries on the scheduler's host, as the `local` executor and
 * `mlflowd worker` do: each try in a task process of its own process group (`mlflowd task-exec`, started
 * with posix_spawn), at most @p slots at once, the rest queued in submission order, with
 * execution_timeout, SIGTERM then SIGKILL after the kill grace, and a synthesized failed result when a
 * process dies without reporting. How the processes are started is the daemon's business (it may keep a
 * pool of pre-started hosts); the plugin sees specs in, results out and one file descriptor.
 * Single-threaded, like the executor calling it. @{ */

/** Opaque set of task processes. */
typedef struct mlf_taskproc_pool mlf_taskproc_pool;

/** Receives one result (a TASK RESULT map, borrowed for the call). May call submit and kill. */
typedef void (*mlf_taskproc_result_fn)(void *ud, const mlf_value *result);

/** A new pool running at most @p slots tries at once, with @p kill_grace µs between SIGTERM and
 * SIGKILL (0: 5 s), stored in @p *out (free with mlf_taskproc_pool_free()). Errors: MLF_EINVAL (slots
 * < 1, negative grace), MLF_ENOMEM, an errno value. */
MLF_API int mlf_taskproc_pool_new(int slots, int64_t kill_grace, mlf_taskproc_pool **out);

/** Kills (SIGKILL) and reaps what still runs, drops queued specs unreported, frees @p pool. NULL is
 * allowed. */
MLF_API void mlf_taskproc_pool_free(mlf_taskproc_pool *pool);

/** Queues a copy of @p spec (a TASK SPEC map) and starts it when a slot is free. Errors, with a reason
 * in @p err: MLF_EPARSE, MLF_EEXIST (the attempt is queued or running), MLF_ESTATE (shut down),
 * MLF_ETOOBIG, MLF_ENOMEM. */
MLF_API int mlf_taskproc_pool_submit(mlf_taskproc_pool *pool, const mlf_value *spec, mlf_time_us now,
                                     char *err, size_t errlen);

/** Stops try @p attempt (queued: dropped; running: SIGTERM, SIGKILL after the grace); it is reported as
 * "killed on request". Errors: MLF_ENOTFOUND. */
MLF_API int mlf_taskproc_pool_kill(mlf_taskproc_pool *pool, const char *attempt, mlf_time_us now);

/** Drains: queued tries are reported failed, running ones are killed after @p grace µs. */
MLF_API int mlf_taskproc_pool_shutdown(mlf_taskproc_pool *pool, int64_t grace, mlf_time_us now);

/** The descriptor to poll for POLLIN (owned by the pool). */
MLF_API int mlf_taskproc_pool_fd(const mlf_taskproc_pool *pool);

/** When process() must run even if the descriptor stays quiet, or 0. */
MLF_API mlf_time_us mlf_taskproc_pool_next_deadline(const mlf_taskproc_pool *pool);

/** Does what is due without blocking and reports finished tries through @p cb. Returns the number of
 * results reported or MLF_EINVAL. */
MLF_API int mlf_taskproc_pool_process(mlf_taskproc_pool *pool, mlf_time_us now, mlf_taskproc_result_fn cb,
                                      void *ud);

/** Tries running now and tries waiting for a slot. */
MLF_API size_t mlf_taskproc_pool_running(const mlf_taskproc_pool *pool);
MLF_API size_t mlf_taskproc_pool_queued(const mlf_taskproc_pool *pool);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MLFLOWD_EXECUTOR_H */
