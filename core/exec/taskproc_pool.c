/* taskproc_pool.c -- the SDK's task-process pool (mlflowd/executor.h, "Task processes on this host"): the
 * host functions through which executor plugins run tries on this host. Each pool is a host pool
 * (host_pool.h: long-lived `mlflowd task-host` processes, fresh `task-exec` ones for isolated operators)
 * set up from the task_hosts.* settings; results leave as the TASK RESULT maps the hosts wrote. */
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "exec/executor_local.h"
#include "exec/host_pool.h"
#include "exec/taskproc_pool.h"

static char *task_exe;                 /* the mlflowd binary that runs `task-host` and `task-exec` */
static const mlf_config *task_cfg;     /* its task_hosts.* settings (NULL: the defaults) */

int mlf_taskproc_configure(const char *exe, const mlf_config *cfg)
{
    char *copy = exe ? strdup(exe) : mlf_self_exe();
    if (!copy)
        return MLF_ENOMEM;
    free(task_exe);
    task_exe = copy;
    task_cfg = cfg;
    return MLF_OK;
}

const char *mlf_taskproc_exe(void)
{
    if (!task_exe)
        mlf_taskproc_configure(NULL, task_cfg);
    return task_exe ? task_exe : "mlflowd";
}

int mlf_taskproc_pool_new(int slots, int64_t kill_grace, mlf_taskproc_pool **out)
{
    if (!out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_host_pool_opts o = {.exe = mlf_taskproc_exe(), .size = slots, .kill_grace = kill_grace};
    mlf_host_pool_opts_from_config(task_cfg, &o);
    mlf_host_pool *p = NULL;
    int rc = mlf_host_pool_new(&o, &p);
    *out = (mlf_taskproc_pool *)p;
    return rc;
}

void mlf_taskproc_pool_free(mlf_taskproc_pool *pool)
{
    mlf_host_pool_free((mlf_host_pool *)pool);
}

int mlf_taskproc_pool_submit(mlf_taskproc_pool *pool, const mlf_value *spec, mlf_time_us now, char *err,
                             size_t errlen)
{
    return mlf_host_pool_submit((mlf_host_pool *)pool, spec, now, err, errlen);
}

int mlf_taskproc_pool_kill(mlf_taskproc_pool *pool, const char *attempt, mlf_time_us now)
{
    return mlf_host_pool_kill((mlf_host_pool *)pool, attempt, now);
}

int mlf_taskproc_pool_shutdown(mlf_taskproc_pool *pool, int64_t grace, mlf_time_us now)
{
    return mlf_host_pool_shutdown((mlf_host_pool *)pool, grace, now);
}

int mlf_taskproc_pool_fd(const mlf_taskproc_pool *pool)
{
    return mlf_host_pool_fd((const mlf_host_pool *)pool);
}

mlf_time_us mlf_taskproc_pool_next_deadline(const mlf_taskproc_pool *pool)
{
    return mlf_host_pool_next_deadline((const mlf_host_pool *)pool);
}

size_t mlf_taskproc_pool_running(const mlf_taskproc_pool *pool)
{
    return mlf_host_pool_running((const mlf_host_pool *)pool);
}

size_t mlf_taskproc_pool_queued(const mlf_taskproc_pool *pool)
{
    return mlf_host_pool_queued((const mlf_host_pool *)pool);
}

typedef struct relay {
    mlf_taskproc_result_fn cb;
    void *ud;
} relay;

static void relay_result(void *ud, const mlf_value *result, const mlf_task_result *res)
{
    (void)res;
    const relay *r = ud;
    r->cb(r->ud, result);
}

int mlf_taskproc_pool_process(mlf_taskproc_pool *pool, mlf_time_us now, mlf_taskproc_result_fn cb, void *ud)
{
    if (!cb)
        return MLF_EINVAL;
    relay r = {.cb = cb, .ud = ud};
    return mlf_host_pool_process((mlf_host_pool *)pool, now, relay_result, &r);
}
