/* executor.h -- where task instances run, seen from the scheduler loop.
 *
 * An executor takes encoded task specs (task_spec.h) and reports one task result per spec. Everything is
 * called from the scheduler's thread and never blocks: the loop polls fd(), calls process() when it is
 * readable or next_deadline() passed, and after each turn's store commit calls after_commit() (an executor
 * that must persist something before acting, like a lease before a TASK frame goes to a remote worker,
 * asks for it through mlf_executor_host.persist_lease during submit() and acts in after_commit()).
 *
 * Implementation: executor_zmq.c (remote workers). Tries on this machine run in the host pool (host_pool.h),
 * which the local executor plugin (plugins/local) and `mlflowd worker` use.
 * The plugin ABI for executors (mlf_executor_desc) is a draft until this interface has settled. */
#ifndef MLF_CORE_EXECUTOR_H
#define MLF_CORE_EXECUTOR_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "conf/config.h"
#include "exec/host_pool.h"
#include "exec/task_spec.h"

/** Receives one result; @p res is valid only during the call. */
typedef void (*mlf_executor_result_fn)(void *ud, const mlf_task_result *res);

/** What the scheduler offers an executor. */
typedef struct mlf_executor_host {
    /** Records (in the current turn's write batch) that @p attempt of the TI of @p spec is leased to
     * @p worker until @p deadline; committed before after_commit() runs. May be NULL (local executor). */
    int (*persist_lease)(void *ud, const char *attempt, const char *worker, mlf_time_us deadline);
    /** Drops the lease of @p attempt (the try ended). */
    void (*drop_lease)(void *ud, const char *attempt);
    void *ud;
} mlf_executor_host;

/** The operations of an executor. */
typedef struct mlf_executor_ops {
    const char *name;
    /** 1 when a try of operator @p operator_name on queue @p queue can start now; else 0 with the reason in
     * @p why ("no worker listens on queue 'gpu'", "all 8 slots are busy"). */
    int (*can_accept)(void *impl, const char *queue, const char *operator_name, char *why, size_t whylen);
    /** Takes @p spec (an encoded mlf_task_spec; copied). Errors come with a message in @p err. */
    int (*submit)(void *impl, const mlf_value *spec, const char *queue, mlf_time_us now, char *err, size_t errlen);
    /** One file descriptor to poll for POLLIN, or -1. */
    int (*fd)(const void *impl);
    /** Reports finished tries through @p cb. */
    int (*process)(void *impl, mlf_time_us now, mlf_executor_result_fn cb, void *ud);
    /** The next time process() must run even if fd() stays quiet (0: none). */
    mlf_time_us (*next_deadline)(const void *impl);
    /** Called after every store commit of the loop (may be NULL). */
    void (*after_commit)(void *impl, mlf_time_us now);
    /** Stops @p attempt (clear, mark, timeout): it is reported as failed later. */
    int (*kill)(void *impl, const char *attempt, mlf_time_us now);
    /** Stops accepting work; @p grace 0 kills what runs. */
    int (*shutdown)(void *impl, int64_t grace, mlf_time_us now);
    /** Tries started and not yet reported, including specs waiting inside the executor. */
    size_t (*in_flight)(const void *impl);
    void (*free)(void *impl);
} mlf_executor_ops;

/** An executor instance: its operations and their state. */
typedef struct mlf_executor {
    const mlf_executor_ops *ops;
    void *impl;
} mlf_executor;

/** Reads the task_hosts.* settings of @p cfg into @p o (max_tries_per_host, max_rss_bytes); other fields
 * are left alone. NULL arguments are ignored. */
void mlf_host_pool_opts_from_config(const mlf_config *cfg, mlf_host_pool_opts *o);

#endif
