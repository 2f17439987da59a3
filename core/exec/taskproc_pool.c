/* taskproc_pool.c -- the SDK's task-process pool (mlflowd/executor.h, "Task processes on this host"): the
 * host functions through which executor plugins run tries on this host. Today each try is one
 * `mlflowd task-exec` process of the local executor machinery (executor_local.h); this file is the one
 * place to change when tries move to long-lived task hosts. Results leave as TASK RESULT maps. */
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "exec/executor_local.h"
#include "exec/taskproc_pool.h"

static char *task_exe; /* the mlflowd binary that runs `task-exec` */

int mlf_taskproc_set_exe(const char *exe)
{
    char *copy = exe ? strdup(exe) : mlf_self_exe();
    if (!copy)
        return MLF_ENOMEM;
    free(task_exe);
    task_exe = copy;
    return MLF_OK;
}

const char *mlf_taskproc_exe(void)
{
    if (!task_exe)
        mlf_taskproc_set_exe(NULL);
    return task_exe ? task_exe : "mlflowd";
}

int mlf_taskproc_pool_new(int slots, int64_t kill_grace, mlf_taskproc_pool **out)
{
    if (!out)
        return MLF_EINVAL;
    mlf_local_executor *ex = NULL;
    int rc = mlf_local_executor_new(mlf_taskproc_exe(), slots, kill_grace, &ex);
    *out = (mlf_taskproc_pool *)ex;
    return rc;
}

void mlf_taskproc_pool_free(mlf_taskproc_pool *pool)
{
    mlf_local_executor_free((mlf_local_executor *)pool);
}

int mlf_taskproc_pool_submit(mlf_taskproc_pool *pool, const mlf_value *spec, mlf_time_us now, char *err,
                             size_t errlen)
{
    return mlf_local_executor_submit((mlf_local_executor *)pool, spec, now, err, errlen);
}

int mlf_taskproc_pool_kill(mlf_taskproc_pool *pool, const char *attempt, mlf_time_us now)
{
    return mlf_local_executor_kill((mlf_local_executor *)pool, attempt, now);
}

int mlf_taskproc_pool_shutdown(mlf_taskproc_pool *pool, int64_t grace, mlf_time_us now)
{
    return mlf_local_executor_shutdown((mlf_local_executor *)pool, grace, now);
}

int mlf_taskproc_pool_fd(const mlf_taskproc_pool *pool)
{
    return mlf_local_executor_fd((const mlf_local_executor *)pool);
}

mlf_time_us mlf_taskproc_pool_next_deadline(const mlf_taskproc_pool *pool)
{
    return mlf_local_executor_next_deadline((const mlf_local_executor *)pool);
}

size_t mlf_taskproc_pool_running(const mlf_taskproc_pool *pool)
{
    return mlf_local_executor_running((const mlf_local_executor *)pool);
}

size_t mlf_taskproc_pool_queued(const mlf_taskproc_pool *pool)
{
    return mlf_local_executor_queued((const mlf_local_executor *)pool);
}

typedef struct relay {
    mlf_taskproc_result_fn cb;
    void *ud;
} relay;

/* The local executor's result, re-encoded as the documented TASK RESULT map. */
static void relay_result(void *ud, const mlf_task_result *res)
{
    const relay *r = ud;
    mlf_value *v = NULL;
    if (mlf_task_result_encode(res, &v) == MLF_OK)
        r->cb(r->ud, v);
    mlf_value_free(v);
}

int mlf_taskproc_pool_process(mlf_taskproc_pool *pool, mlf_time_us now, mlf_taskproc_result_fn cb, void *ud)
{
    if (!cb)
        return MLF_EINVAL;
    relay r = {.cb = cb, .ud = ud};
    return mlf_local_executor_process((mlf_local_executor *)pool, now, relay_result, &r);
}
