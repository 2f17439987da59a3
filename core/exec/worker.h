/* worker.h -- `mlflowd worker`: the worker side of MLFW/1 (doc/protocol.md).
 *
 * A worker connects one DEALER socket to the scheduler, advertises its capacity, queues and loaded
 * operators in READY, and runs each TASK in a pool of long-lived task hosts through the local executor
 * (host_pool.h: posix_spawn, a process group per host, execution_timeout, kills, a crashed host replaced),
 * so a crashing plugin fails one try and never the worker. The try's log is written to a spool folder and
 * streamed back in LOG messages; its RESULT is repeated every liveness interval until the scheduler
 * acknowledges it.
 *
 * Paranoid Pirate: any message from the scheduler counts as a heartbeat; silent for liveness x heartbeat,
 * the worker closes its socket, waits a back-off (1 s doubling to 32 s, reset by any message), opens a new
 * one and registers again, listing the tries it still runs and the results still unacknowledged, which it
 * then repeats. Tries keep running while the scheduler is away.
 *
 * THREADING: mlf_worker_run() owns the worker and its child processes in the calling thread. */
#ifndef MLF_CORE_WORKER_H
#define MLF_CORE_WORKER_H

#include <signal.h>
#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "plugin/registry.h"

typedef struct mlf_worker mlf_worker;

/** How a worker runs. Strings are copied; the catalog is borrowed and must outlive the worker. */
typedef struct mlf_worker_opts {
    const char *endpoint;             /**< the scheduler's zmq endpoint (--connect), required */
    const char *name;                 /**< unique among workers; NULL: "HOST-PID" */
    int concurrency;                  /**< slots: tries running at once (>= 1) */
    const char *const *queues;        /**< queues it serves; NULL or none: {"default"} */
    size_t nqueues;
    const char *exe;                  /**< the mlflowd binary started as `task-exec`, absolute, required */
    const mlf_catalog *cat;           /**< loaded plugins: the operators it advertises and runs, required */
    const char *spool_root;           /**< the tries' local logs go to SPOOL_ROOT/NAME/ (created), required */
    int64_t heartbeat_us;             /**< 0: 1 s */
    int liveness;                     /**< 0: 3 */
    int64_t reconnect_min_us;         /**< 0: 1 s */
    int64_t reconnect_max_us;         /**< 0: 32 s */
    int64_t drain_grace_us;           /**< on stop, how long running tries may finish; 0: 60 s */
    const char *server_public_key;    /**< the scheduler's CURVE public key (Z85); NULL: no CURVE */
    const char *secret_key;           /**< this worker's CURVE secret key (Z85); required with the above */
    int max_tries_per_host;           /**< tries per task host before it is replaced (host_pool.h); 0: default */
    int64_t max_rss_bytes;            /**< a task host's memory high-water mark; 0: default, < 0: none */
    /** Called at the start of every loop turn (at least once per heartbeat interval) with the wall clock,
     * whether the scheduler currently answers, and whether the worker is draining: what `mlflowd worker`
     * tells systemd (READY, STATUS, WATCHDOG, STOPPING). Must not block. NULL: none. */
    void (*on_turn)(void *ud, mlf_time_us now, int connected, int draining);
    void *ud;                         /**< for on_turn */
} mlf_worker_opts;

/**
 * Creates a worker (nothing is connected yet) and stores it in @p *out (free with mlf_worker_free()).
 * Errors (with a message in @p err): MLF_EINVAL (a required option missing; an invalid name, queue or key;
 * concurrency < 1; a catalog without operators), MLF_ENOTSUP (CURVE keys given but libzmq lacks CURVE),
 * MLF_ENOMEM, an errno value (the spool folder cannot be created, the local executor cannot start).
 */
int mlf_worker_new(const mlf_worker_opts *opts, mlf_worker **out, char *err, size_t errlen);

/**
 * Runs the worker until *@p stop becomes non-zero, then drains: READY with capacity 0, running tries may
 * finish for the drain grace (or until *@p stop reaches 2), then are killed; the worker waits (at most one
 * liveness interval) for their results to be acknowledged, sends DISCONNECT and returns MLF_OK.
 * Errors: MLF_EINVAL, or the errno value of a zmq failure it cannot recover from.
 */
int mlf_worker_run(mlf_worker *w, volatile sig_atomic_t *stop);

/** The worker's name (borrowed). */
const char *mlf_worker_name(const mlf_worker *w);

/** Kills what still runs, closes the socket and frees the worker. NULL is allowed. */
void mlf_worker_free(mlf_worker *w);

#endif
