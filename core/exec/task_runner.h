/* task_runner.h -- runs one try of a task instance in the current process: the code behind the hidden
 * `mlflowd task-exec` verb that executors (local now, remote workers later) start for every try.
 *
 * A try: open the log file, load the one plugin the spec names, find its operator, build the task context
 * from the spec, call execute() (repeatedly for a sensor in poke mode), and describe the end in a TASK
 * RESULT (task_spec.h). Retries and execution_timeout are not decided here: the scheduler decides retries
 * from the outcome, and the executor enforces execution_timeout by killing the process group. */
#ifndef MLF_CORE_TASK_RUNNER_H
#define MLF_CORE_TASK_RUNNER_H

#include <mlflowd/mlflowd.h>

/**
 * Runs the try described by @p spec_value (a TASK SPEC map) in the current process and stores a new TASK
 * RESULT map in @p *result_out (free with mlf_value_free()).
 *
 * Every way a try can go wrong that is not the caller's fault becomes a result with a clear message, also
 * written to the try's log when the log could be opened: a log file that cannot be opened, a plugin that
 * does not load (the loader's reasons), an operator the plugin does not provide, an operator that returns
 * an invalid outcome, a non-sensor that asks to be rescheduled (all "failed"), a spec that is malformed but
 * carries an attempt token ("failed_no_retry": retrying the same spec cannot help). A sensor whose spec sets
 * sensor_poke is poked until it succeeds or fails, sleeping poke_interval (doubling with
 * exponential_backoff, or until the time it asked for) between pokes; past its timeout it ends
 * "failed_no_retry", or "skipped" with soft_fail.
 *
 * mlf_ctx_external_state() reads the state store at $MLFLOWD_HOME/state (without MLFLOWD_HOME: the default
 * configuration's home), opened read-only on its first call and closed before this returns; where there is
 * no store (a remote worker's host) it gives MLF_ENOTSUP. The caller must not have that store open in this
 * process (LMDB allows one open per process): task-exec processes never do.
 *
 * The plugin is loaded for this call and unloaded before it returns. In a result made here exit_status is
 * -1 and exit_signal 0 (the process has not exited); the executor fills them in.
 *
 * Returns MLF_OK when *result_out was set (whatever the outcome), or MLF_EINVAL (NULL argument), MLF_EPARSE
 * (the spec has no usable attempt token, so no result could be attributed), MLF_ENOMEM.
 */
int mlf_task_run_spec(const mlf_value *spec_value, mlf_value **result_out);

/** Plugins kept loaded across tries (a task host, task_host.h): each plugin file is loaded the first time
 * a try names it and stays loaded until mlf_plugin_cache_free(). */
typedef struct mlf_plugin_cache mlf_plugin_cache;

/** A new empty cache in @p *out (free with mlf_plugin_cache_free()). Errors: MLF_EINVAL, MLF_ENOMEM. */
int mlf_plugin_cache_new(mlf_plugin_cache **out);

/** Unloads every cached plugin and frees the cache. NULL is allowed. */
void mlf_plugin_cache_free(mlf_plugin_cache *c);

/**
 * Runs one try as mlf_task_run_spec() does, in a long-lived task host: the plugin comes from @p cache
 * (loaded on first use, kept loaded), stdout and stderr go to the try's log while it runs and are
 * restored afterwards, and SIGTERM cancels the try while it runs (the previous disposition is restored
 * afterwards). A plugin that fails to load is not cached: the next try loads it again.
 *
 * Returns MLF_OK when *result_out was set; MLF_ENOTSUP, with nothing run or logged, when the operator is
 * flagged MLF_OP_ISOLATED (it must run in a fresh task-exec process); else the errors of
 * mlf_task_run_spec().
 */
int mlf_task_run_hosted(mlf_plugin_cache *cache, const mlf_value *spec_value, mlf_value **result_out);

/**
 * The body of `mlflowd task-exec`: reads one frame holding a TASK SPEC from @p in_fd, runs it as its own
 * task process, and writes one frame holding the TASK RESULT to @p out_fd.
 *
 * Being its own process, it also: sends stdout and stderr to the try's log (so that whatever a plugin or
 * the C library prints lands there instead of corrupting the result channel), replaces stdin with
 * /dev/null once the spec is read, keeps @p out_fd from leaking into the operator's child processes, and
 * turns SIGTERM into a cancellation request (mlf_ctx_cancelled() becomes 1; the executor follows up with
 * SIGKILL after its grace period).
 *
 * Returns the process exit code: 0 when a result was written, 2 when the input was not a spec frame
 * (truncated, too big, not msgpack, no attempt token), 1 when the result could not be written; on a
 * non-zero code the reason is in @p err (may be NULL when @p errlen is 0), for the caller to print.
 */
int mlf_task_exec_main(int in_fd, int out_fd, char *err, size_t errlen);

#endif
