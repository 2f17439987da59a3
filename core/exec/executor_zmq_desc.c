/* executor_zmq_desc.c -- the zmq executor (executor_zmq.h) behind the executor ABI (mlflowd/executor.h), so
 * that the scheduler reaches it like any executor plugin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor_zmq.h"
#include "plugin/exec_host.h"

typedef struct zdesc {
    mlf_executor ex; /* executor.h's operations over executor_zmq.c */
    mlf_exec_host *host;
} zdesc;

static int z_persist(void *ud, const char *attempt, const char *worker, mlf_time_us deadline)
{
    zdesc *z = ud;
    return mlf_exec_lease_persist(z->host, attempt, worker, deadline);
}

static void z_drop(void *ud, const char *attempt)
{
    zdesc *z = ud;
    mlf_exec_lease_drop(z->host, attempt);
}

static int z_open(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen)
{
    zdesc *z = calloc(1, sizeof *z);
    if (!z)
        return MLF_ENOMEM;
    z->host = args->host;
    mlf_executor_host h = {.persist_lease = z_persist, .drop_lease = z_drop, .ud = z};
    int rc = mlf_executor_zmq_open(mlf_exec_host_config(args->host), &h, &z->ex, err, errlen);
    if (rc != MLF_OK) {
        free(z);
        return rc;
    }
    *inst = z;
    return MLF_OK;
}

static mlf_exec_accept z_can_accept(void *inst, const char *queue, const char *operator_name, char *why,
                                    size_t whylen)
{
    zdesc *z = inst;
    /* nothing serves this queue or operator now, or its workers are busy: others may still go */
    return z->ex.ops->can_accept(z->ex.impl, queue, operator_name, why, whylen) ? MLF_EXEC_ACCEPT : MLF_EXEC_WAIT;
}

static int z_submit(void *inst, const mlf_value *spec, const char *queue, mlf_time_us now, char *err, size_t errlen)
{
    zdesc *z = inst;
    return z->ex.ops->submit(z->ex.impl, spec, queue, now, err, errlen);
}

static int z_kill(void *inst, const char *attempt, mlf_time_us now)
{
    zdesc *z = inst;
    return z->ex.ops->kill(z->ex.impl, attempt, now);
}

static int z_fd(void *inst)
{
    zdesc *z = inst;
    return z->ex.ops->fd(z->ex.impl);
}

static mlf_time_us z_next_deadline(void *inst)
{
    zdesc *z = inst;
    return z->ex.ops->next_deadline(z->ex.impl);
}

static void z_result(void *ud, const mlf_task_result *res)
{
    zdesc *z = ud;
    mlf_value *v = NULL;
    if (mlf_task_result_encode(res, &v) == MLF_OK)
        mlf_exec_report(z->host, v);
    mlf_value_free(v);
}

static int z_process(void *inst, mlf_time_us now)
{
    zdesc *z = inst;
    return z->ex.ops->process(z->ex.impl, now, z_result, z);
}

static void z_after_commit(void *inst, mlf_time_us now)
{
    zdesc *z = inst;
    if (z->ex.ops->after_commit)
        z->ex.ops->after_commit(z->ex.impl, now);
}

static int z_shutdown(void *inst, int64_t grace, mlf_time_us now)
{
    zdesc *z = inst;
    return z->ex.ops->shutdown(z->ex.impl, grace, now);
}

static size_t z_in_flight(void *inst)
{
    zdesc *z = inst;
    return z->ex.ops->in_flight(z->ex.impl);
}

static int z_adopt(void *inst, const char *attempt, const char *worker, const char *log_path, mlf_time_us now)
{
    zdesc *z = inst;
    return mlf_executor_zmq_adopt(&z->ex, attempt, worker, log_path, now);
}

static mlf_value *z_describe(void *inst)
{
    zdesc *z = inst;
    mlf_value *m = mlf_value_map();
    const char *ep = mlf_executor_zmq_endpoint(&z->ex);
    if (ep)
        mlf_map_set(m, "endpoint", mlf_value_str(ep));
    mlf_map_set(m, "workers", mlf_value_int((int64_t)mlf_executor_zmq_worker_count(&z->ex)));
    mlf_map_set(m, "running", mlf_value_int((int64_t)z->ex.ops->in_flight(z->ex.impl)));
    return m;
}

static void z_close(void *inst)
{
    zdesc *z = inst;
    if (!z)
        return;
    z->ex.ops->free(z->ex.impl);
    free(z);
}

static const mlf_executor_desc zmq_desc = {
    .struct_size = sizeof(mlf_executor_desc),
    .name = "zmq",
    .help = "Sends each try to a remote `mlflowd worker` over ZeroMQ (doc/protocol.md): credit-based dispatch "
            "by queue and operator, leases persisted before a task leaves, CurveZMQ. Its settings are the "
            "zmq.* keys, which the workers share.",
    .params = NULL,
    .param_size = sizeof(mlf_param_spec),
    .open = z_open,
    .can_accept = z_can_accept,
    .submit = z_submit,
    .kill = z_kill,
    .fd = z_fd,
    .next_deadline = z_next_deadline,
    .process = z_process,
    .after_commit = z_after_commit,
    .shutdown = z_shutdown,
    .in_flight = z_in_flight,
    .adopt = z_adopt,
    .describe = z_describe,
    .close = z_close,
};

const mlf_executor_desc *mlf_zmq_executor_desc(void)
{
    return &zmq_desc;
}
