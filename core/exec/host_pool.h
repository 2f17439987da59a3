/* host_pool.h -- a pool of long-lived task hosts (Celery's prefork model) that runs task specs without
 * ever blocking the caller's loop; the machinery behind the local executor and `mlflowd worker`.
 *
 * A TASK HOST is a small pre-started `mlflowd task-host` process (task_host.h) that loads plugins once and
 * runs operator tries in-process, one at a time: the pool writes a spec frame to its stdin (a socket) and
 * reads the result frame from its fd 3 (a pipe), the same frames `mlflowd task-exec` uses (task_spec.h).
 * A shell or python try then costs one process start (the command itself, spawned by the small host),
 * where a fresh task-exec per try costs two. With max_tries_per_host 1 there are no hosts: every try runs
 * in a fresh `mlflowd task-exec` process, as before hosts existed.
 *
 * The pool knows nothing of schedulers, DAGs or stores: it takes encoded specs (mlf_value maps, validated
 * with mlf_task_spec_decode(), keyed by their attempt token) and hands back exactly one result per spec
 * through a callback.
 *
 * THREADING: one thread owns a pool and makes every call; nothing here takes locks, installs signal
 * handlers or starts threads. The caller polls mlf_host_pool_fd() for readability, never sleeps past
 * mlf_host_pool_next_deadline(), and calls mlf_host_pool_process() after waking. That fd is an epoll set
 * of one pidfd per child process (readable when it exits) and its pipes, so exits and result bytes wake
 * the caller the same way and nothing needs SIGCHLD. Nothing else in the process may reap children with
 * waitpid(-1, ...) or wait(): that would steal the pool's.
 *
 * ISOLATION (each host is the leader of its own process group; what an operator starts inherits it):
 * - a host that dies during a try (a crash, an OOM kill) fails that try with the reason ("the task host
 *   was killed by signal 9 (Killed)"); the next try goes to a freshly started host;
 * - execution_timeout and kill requests send SIGTERM to the host's process group (the operator sees
 *   mlf_ctx_cancelled(), a shell command dies), then SIGKILL after the kill grace; a host that had a try
 *   killed is always retired and replaced, whatever the operator did;
 * - a host is retired after max_tries_per_host tries, or when its resident memory passes max_rss_bytes
 *   after a try; retiring closes its stdin (it exits at end of input) and its process group is killed
 *   with SIGKILL before it is reaped;
 * - an operator flagged MLF_OP_ISOLATED is never run in a host: the host answers its spec with an empty
 *   frame, and the pool runs the try in a fresh `mlflowd task-exec` process;
 * - a try's processes never outlive it: the host kills whatever the operator left behind before it reports
 *   (it is a child subreaper), and a host whose parent dies kills its process group (PR_SET_PDEATHSIG).
 *
 * RESULTS: the host's own result when it wrote a complete frame that decodes and carries the spec's
 * attempt token, with pid and hostname filled in by the pool (exit_status 0 for a host that is still
 * running, the reaped status for a fresh process); otherwise a synthesized "failed" result saying what
 * happened: "the task host was killed by signal 11 (Segmentation fault)", "the task process exited with
 * status 3 without reporting a result", "... result did not decode: ...", "execution_timeout of 15m
 * exceeded", "killed on request", "the executor shut down before the task started". A try killed on
 * request or by its timeout reports that, even if a result of its own arrived after the kill.
 */
#ifndef MLF_CORE_HOST_POOL_H
#define MLF_CORE_HOST_POOL_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "exec/task_spec.h"

/** Default time between SIGTERM and SIGKILL (µs). */
#define MLF_HOST_POOL_KILL_GRACE (5 * INT64_C(1000000))
/** Default tries a host runs before it is replaced (the `task_hosts.max_tries_per_host` setting). */
#define MLF_HOST_POOL_MAX_TRIES 1000
/** Default resident-memory high-water mark of a host (the `task_hosts.max_rss` setting, MiB). */
#define MLF_HOST_POOL_MAX_RSS (512 * INT64_C(1024) * 1024)

typedef struct mlf_host_pool mlf_host_pool;

/** How a pool runs. Zero fields take the defaults noted. */
typedef struct mlf_host_pool_opts {
    const char *exe;          /**< absolute path of the mlflowd binary (`task-host`, `task-exec`); required */
    int size;                 /**< most tries running at once (>= 1), and so most hosts; required */
    int64_t kill_grace;       /**< µs between SIGTERM and SIGKILL (0: MLF_HOST_POOL_KILL_GRACE) */
    int max_tries_per_host;   /**< tries per host before it is replaced (0: MLF_HOST_POOL_MAX_TRIES;
                                   1: no hosts, a fresh task-exec process per try) */
    int64_t max_rss_bytes;    /**< replace a host whose RSS passed this after a try (0: MLF_HOST_POOL_MAX_RSS;
                                   < 0: no limit) */
    int prestart;             /**< 1: start `size` hosts now, not at the first tries */
    int64_t (*clock)(void);   /**< the monotonic clock (µs) that times execution_timeout, kill grace and
                                   shutdown grace: NULL is mlf_clock_monotonic(); tests inject their own */
} mlf_host_pool_opts;

/** Counters for tests and diagnostics. */
typedef struct mlf_host_pool_stats {
    uint64_t hosts_started;   /**< task hosts spawned */
    uint64_t hosts_recycled;  /**< retired after max_tries_per_host or max_rss_bytes */
    uint64_t hosts_lost;      /**< died or were killed during a try */
    uint64_t fresh_processes; /**< task-exec processes (no hosts, or MLF_OP_ISOLATED operators) */
    size_t hosts_alive;       /**< host processes running now, idle or busy */
} mlf_host_pool_stats;

/**
 * Receives one result: @p result is the TASK RESULT map (task_spec.h) and @p res the same result decoded,
 * with exit_status, exit_signal, pid and hostname filled in. Both are valid only during the call (copy
 * what must live longer). The callback may call submit() and kill() on the same pool.
 */
typedef void (*mlf_host_pool_result_fn)(void *ud, const mlf_value *result, const mlf_task_result *res);

/**
 * Creates a pool (free with mlf_host_pool_free()); @p opts is copied (its exe too). Children inherit the
 * caller's environment and stderr; their stdout is /dev/null (a try's own output goes to its log).
 * Errors: MLF_EINVAL (NULL or relative exe, size < 1, negative kill_grace or max_tries_per_host),
 * MLF_ENOMEM, or an errno value from epoll_create1(). A host that cannot be prestarted is not an error: the
 * first try that needs it reports why.
 */
int mlf_host_pool_new(const mlf_host_pool_opts *opts, mlf_host_pool **out);

/** Kills (SIGKILL, whole process groups) and reaps every child, drops queued specs without reporting them,
 * and frees the pool. NULL is allowed. */
void mlf_host_pool_free(mlf_host_pool *p);

/**
 * Queues a copy of @p spec (a TASK SPEC map) and starts it at once when a slot is free. @p now is the
 * caller's clock (µs), the same one it passes to process(); execution_timeout counts from the start.
 * A try that cannot be started (no host starts) is reported failed by process(), never lost.
 * Errors: MLF_EINVAL (NULL argument), MLF_EPARSE (the spec does not decode; @p err says why), MLF_EEXIST (a
 * spec with the same attempt token is queued or running), MLF_ETOOBIG (bigger than MLF_TASK_FRAME_MAX),
 * MLF_ESTATE (after shutdown()), MLF_ENOMEM. @p err may be NULL when @p errlen is 0.
 */
int mlf_host_pool_submit(mlf_host_pool *p, const mlf_value *spec, mlf_time_us now, char *err, size_t errlen);

/** The one file descriptor to poll for readability. Owned by the pool. */
int mlf_host_pool_fd(const mlf_host_pool *p);

/**
 * Does everything that is due, without blocking: moves spec and result bytes, reaps exited children and
 * replaces hosts, enforces execution_timeout and the kill grace, starts queued specs, and reports every
 * finished try through @p cb (after the pool's own state is consistent). Returns the number of results
 * reported (>= 0), or MLF_EINVAL.
 */
int mlf_host_pool_process(mlf_host_pool *p, mlf_time_us now, mlf_host_pool_result_fn cb, void *ud);

/** The earliest time at which process() has work even if the fd stays quiet (0: none). */
mlf_time_us mlf_host_pool_next_deadline(const mlf_host_pool *p);

/**
 * Stops the try @p attempt: a queued one is dropped, a running one gets SIGTERM on its process group now
 * and SIGKILL after the kill grace (its host is replaced). process() reports it failed, "killed on
 * request" (or "killed on request before it started"). Killing a try already being killed is a no-op.
 * Errors: MLF_EINVAL, MLF_ENOTFOUND (no queued or running try has this token).
 */
int mlf_host_pool_kill(mlf_host_pool *p, const char *attempt, mlf_time_us now);

/**
 * Begins draining: no more submissions (MLF_ESTATE), queued specs are reported failed ("the executor shut
 * down before the task started"), running tries may finish until @p now + @p grace and are then killed
 * ("killed: the executor shut down"); idle hosts are retired. The caller keeps calling process() until
 * mlf_host_pool_running() is 0. Errors: MLF_EINVAL (NULL, negative grace).
 */
int mlf_host_pool_shutdown(mlf_host_pool *p, int64_t grace, mlf_time_us now);

/** Tries started and not yet reported (never more than size). */
size_t mlf_host_pool_running(const mlf_host_pool *p);

/** Specs waiting for a slot. */
size_t mlf_host_pool_queued(const mlf_host_pool *p);

/** Fills @p out with the pool's counters. NULL arguments are ignored. */
void mlf_host_pool_get_stats(const mlf_host_pool *p, mlf_host_pool_stats *out);

#endif
