/* executor_local.h -- the local executor: runs task specs concurrently on this machine without ever
 * blocking the caller's loop, in a pool of long-lived task hosts or, with max_tries_per_host 1, each try
 * in its own `mlflowd task-exec` process.
 *
 * It is a thin layer over the host pool (host_pool.h), which holds the process model: the threading rules
 * (one thread, poll mlf_local_executor_fd(), never sleep past mlf_local_executor_next_deadline()), why an
 * epoll set of pidfds, killing (SIGTERM to the try's process group, SIGKILL after the kill grace), the
 * isolation of tries in hosts, and the synthesized "failed" results ("the task process was killed by
 * signal 11 (Segmentation fault)", "execution_timeout of 15m exceeded", "killed on request", "the executor
 * shut down before the task started"...). At most `parallelism` tries run at once; the rest wait in
 * memory, in submission order.
 */
#ifndef MLF_CORE_EXECUTOR_LOCAL_H
#define MLF_CORE_EXECUTOR_LOCAL_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "conf/config.h"

#include "exec/host_pool.h"
#include "exec/task_spec.h"

/** Default time between SIGTERM and SIGKILL. */
#define MLF_LOCAL_EXECUTOR_KILL_GRACE MLF_HOST_POOL_KILL_GRACE

typedef struct mlf_local_executor mlf_local_executor;

/** Receives one result. @p res and everything it points to are valid only during the call (copy what
 * must live longer). The callback may call submit() and kill() on the same executor. */
typedef void (*mlf_local_result_fn)(void *ud, const mlf_task_result *res);

/**
 * Creates an executor over a host pool run as @p opts says (host_pool.h; copied) and stores it in @p *out
 * (free with mlf_local_executor_free()). Errors: those of mlf_host_pool_new().
 */
int mlf_local_executor_new_pool(const mlf_host_pool_opts *opts, mlf_local_executor **out);

/**
 * Creates an executor that starts `@p mlflowd_exe task-exec` (path copied; an absolute path, normally the
 * running daemon's own binary) for each try, at most @p parallelism at a time, with @p kill_grace µs
 * between SIGTERM and SIGKILL (0: MLF_LOCAL_EXECUTOR_KILL_GRACE). Children inherit the daemon's environment
 * and stderr; their stdout is /dev/null until the task process sends it to the try's log.
 * Stores the new executor in @p *out (free with mlf_local_executor_free()).
 * Errors: MLF_EINVAL (NULL exe or out, parallelism < 1, negative grace), MLF_ENOMEM, or an errno value from
 * epoll_create1().
 */
int mlf_local_executor_new(const char *mlflowd_exe, int parallelism, int64_t kill_grace, mlf_local_executor **out);

/**
 * Kills (SIGKILL) and reaps every child still running, drops queued specs without reporting them, and frees
 * the executor. Reaping waits only for processes that were just sent SIGKILL. NULL is allowed.
 */
void mlf_local_executor_free(mlf_local_executor *ex);

/**
 * Queues a copy of @p spec (a TASK SPEC map) and, when a slot is free, starts it at once. @p now is the
 * caller's clock (µs since the epoch, the same clock it passes to process()): execution_timeout counts from
 * the moment the try is started. A spec that cannot be started later (posix_spawn failing) is reported as a
 * failed result by process(), never lost.
 * Errors: MLF_EINVAL (NULL argument), MLF_EPARSE (the spec does not decode; @p err says why), MLF_EEXIST (a
 * spec with the same attempt token is queued or running), MLF_ESTATE (shutdown() was called), MLF_ENOMEM.
 * @p err may be NULL when @p errlen is 0.
 */
int mlf_local_executor_submit(mlf_local_executor *ex, const mlf_value *spec, mlf_time_us now, char *err,
                              size_t errlen);

/** The one file descriptor to poll for readability (POLLIN). Owned by the executor. */
int mlf_local_executor_fd(const mlf_local_executor *ex);

/**
 * Does everything that is due, without blocking: writes pending spec bytes, reads available result bytes,
 * reaps exited children and reports their results, kills tries past their execution_timeout, escalates
 * SIGTERM to SIGKILL after the kill grace, starts queued specs in free slots, and reports every finished
 * try through @p cb (called after the executor's own state is consistent). @p now: as for submit().
 * Returns the number of results reported (>= 0), or MLF_EINVAL.
 */
int mlf_local_executor_process(mlf_local_executor *ex, mlf_time_us now, mlf_local_result_fn cb, void *ud);

/** The earliest time (caller's clock) at which process() has something to do even if the fd stays quiet
 * (a timeout, a SIGKILL escalation, a shutdown deadline, polling without pidfds), or 0 when there is none. */
mlf_time_us mlf_local_executor_next_deadline(const mlf_local_executor *ex);

/**
 * Stops the try with attempt token @p attempt: a queued one is dropped, a running one gets SIGTERM on its
 * process group now and SIGKILL after the kill grace. Either way process() reports it failed with "killed
 * on request". Killing a try already being killed is a no-op that returns MLF_OK.
 * Errors: MLF_EINVAL, MLF_ENOTFOUND (no queued or running try has this token).
 */
int mlf_local_executor_kill(mlf_local_executor *ex, const char *attempt, mlf_time_us now);

/**
 * Begins draining, as on the daemon's SIGTERM: no more submissions (MLF_ESTATE), queued specs are reported
 * failed ("the executor shut down before the task started"), running tries may finish until @p now +
 * @p grace, then get SIGTERM (then SIGKILL after the kill grace) and are reported failed ("killed: the
 * executor shut down"). The caller keeps calling process() until mlf_local_executor_running() is 0.
 * Returns MLF_OK or MLF_EINVAL (NULL, negative grace).
 */
int mlf_local_executor_shutdown(mlf_local_executor *ex, int64_t grace, mlf_time_us now);

/** The number of tries started and not yet reported (never more than parallelism). */
size_t mlf_local_executor_running(const mlf_local_executor *ex);

/** The number of specs waiting for a slot (including dropped ones not yet reported). */
size_t mlf_local_executor_queued(const mlf_local_executor *ex);

/** Reads the task_hosts.* settings of @p cfg into @p o (max_tries_per_host, max_rss_bytes); other fields
 * are left alone. NULL arguments are ignored. */
void mlf_host_pool_opts_from_config(const mlf_config *cfg, mlf_host_pool_opts *o);

#endif
