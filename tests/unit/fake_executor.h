/* fake_executor.h -- an executor for the scheduler's unit tests: it runs nothing. Every submitted spec is
 * recorded (in order) and finishes, at the next process() call, with the outcome a test-supplied policy
 * gives it; a policy can also "hold" a try, which then never finishes and does not count as in flight
 * (a try the scheduler lost when it stopped, for the recovery tests). */
#ifndef MLF_TEST_FAKE_EXECUTOR_H
#define MLF_TEST_FAKE_EXECUTOR_H

#include <mlflowd/mlflowd.h>

#include "exec/task_spec.h"

/** One submitted try. */
typedef struct fake_try {
    char attempt[33];
    char task_id[64];
    int try_number;
    int map_index;
    mlf_time_us submitted; /**< mlf_time_now() at submit */
    mlf_value *params;     /**< the spec's rendered operator params (owned) */
    mlf_outcome outcome;   /**< what the policy decided */
    int held;              /**< never finishes */
    int reported;
} fake_try;

/** Decides the outcome of a try; sets *hold to keep it running forever. */
typedef mlf_outcome (*fake_policy)(void *ud, const char *task_id, int try_number, int *hold);

/** The fake's state: owned by the test, which must keep it alive while the scheduler lives. */
typedef struct fake_exec {
    fake_policy policy; /**< NULL: every try succeeds */
    void *ud;
    int slots;          /**< can_accept() refuses while this many tries run, held ones included (0: no limit) */
    int wait_all;       /**< 1: can_accept() answers MLF_EXEC_WAIT ("nobody serves it") to every try */
    size_t accept_calls; /**< can_accept() calls so far */
    fake_try *tries;    /**< every submission, in order */
    size_t ntries, cap;
    /** 1: as a remote executor does, a lease is persisted at every submit (mlf_exec_lease_persist; its
     * result kept in lease_rc, the first failure wins) and dropped when the try's result is reported. */
    int leases;
    int lease_rc;
    int shut_down;      /**< shutdown() was called */
    int freed;          /**< close() was called (the scheduler let go of it) */
    mlf_exec_host *host; /**< what open() was given: results go back through mlf_exec_report() */
    /** 1: a successful try pushes return_value {"task": TASK_ID, "map_index": N, "try": TRY} (test_cache). */
    int push_xcoms;
} fake_exec;

/** An executor descriptor (the executor ABI of mlflowd/executor.h) whose open() takes @p fx (whose fields
 * the test sets first); one fake at a time. */
const mlf_executor_desc *fake_executor(fake_exec *fx);

/** Frees what @p fx recorded. */
void fake_exec_clear(fake_exec *fx);

/** Tries of @p task_id submitted so far. */
size_t fake_tries_of(const fake_exec *fx, const char *task_id);

/** The index in fx->tries of the @p n-th (0-based) submission of @p task_id, or -1. */
long fake_find(const fake_exec *fx, const char *task_id, size_t n);

#endif
