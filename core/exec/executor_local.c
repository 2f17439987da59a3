/* executor_local.c -- the local executor over a host pool (see executor_local.h and host_pool.h). */
#include "exec/executor_local.h"

#include <stdio.h>
#include <stdlib.h>

struct mlf_local_executor {
    mlf_host_pool *pool;
    int parallelism;
};

int mlf_local_executor_new_pool(const mlf_host_pool_opts *opts, mlf_local_executor **out)
{
    if (!opts || !out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_local_executor *ex = calloc(1, sizeof *ex);
    if (!ex)
        return MLF_ENOMEM;
    int rc = mlf_host_pool_new(opts, &ex->pool);
    if (rc != MLF_OK) {
        free(ex);
        return rc;
    }
    ex->parallelism = opts->size;
    *out = ex;
    return MLF_OK;
}

int mlf_local_executor_new(const char *mlflowd_exe, int parallelism, int64_t kill_grace, mlf_local_executor **out)
{
    mlf_host_pool_opts o = {.exe = mlflowd_exe, .size = parallelism, .kill_grace = kill_grace,
                            .max_tries_per_host = 1};
    return mlf_local_executor_new_pool(&o, out);
}

void mlf_local_executor_free(mlf_local_executor *ex)
{
    if (!ex)
        return;
    mlf_host_pool_free(ex->pool);
    free(ex);
}

int mlf_local_executor_submit(mlf_local_executor *ex, const mlf_value *spec, mlf_time_us now, char *err,
                              size_t errlen)
{
    return ex ? mlf_host_pool_submit(ex->pool, spec, now, err, errlen) : MLF_EINVAL;
}

int mlf_local_executor_fd(const mlf_local_executor *ex)
{
    return ex ? mlf_host_pool_fd(ex->pool) : -1;
}

/* Hands the decoded result on to a mlf_local_result_fn. */
typedef struct relay {
    mlf_local_result_fn cb;
    void *ud;
} relay;

static void relay_result(void *ud, const mlf_value *result, const mlf_task_result *res)
{
    (void)result;
    const relay *r = ud;
    r->cb(r->ud, res);
}

int mlf_local_executor_process(mlf_local_executor *ex, mlf_time_us now, mlf_local_result_fn cb, void *ud)
{
    if (!ex || !cb)
        return MLF_EINVAL;
    relay r = {.cb = cb, .ud = ud};
    return mlf_host_pool_process(ex->pool, now, relay_result, &r);
}

mlf_time_us mlf_local_executor_next_deadline(const mlf_local_executor *ex)
{
    return ex ? mlf_host_pool_next_deadline(ex->pool) : 0;
}

int mlf_local_executor_kill(mlf_local_executor *ex, const char *attempt, mlf_time_us now)
{
    return ex ? mlf_host_pool_kill(ex->pool, attempt, now) : MLF_EINVAL;
}

int mlf_local_executor_shutdown(mlf_local_executor *ex, int64_t grace, mlf_time_us now)
{
    return ex ? mlf_host_pool_shutdown(ex->pool, grace, now) : MLF_EINVAL;
}

size_t mlf_local_executor_running(const mlf_local_executor *ex)
{
    return ex ? mlf_host_pool_running(ex->pool) : 0;
}

size_t mlf_local_executor_queued(const mlf_local_executor *ex)
{
    return ex ? mlf_host_pool_queued(ex->pool) : 0;
}

/* ---------------------------------------------------------------- settings */

void mlf_host_pool_opts_from_config(const mlf_config *cfg, mlf_host_pool_opts *o)
{
    if (!cfg || !o)
        return;
    int64_t tries = mlf_config_int(cfg, "task_hosts.max_tries_per_host");
    int64_t rss_mib = mlf_config_int(cfg, "task_hosts.max_rss");
    if (tries > 0)
        o->max_tries_per_host = tries > INT32_MAX ? INT32_MAX : (int)tries;
    o->max_rss_bytes = rss_mib > 0 ? rss_mib * 1024 * 1024 : -1;
}
