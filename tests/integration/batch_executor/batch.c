/* batch -- an executor plugin written the way a third party would: one file, built out of tree against
 * the installed SDK (tests/integration/executor_plugin.sh builds it with pkg-config and runs a DAG on it).
 *
 * It runs tries in the daemon's task-process pool (mlf_taskproc_pool_*), at most `slots` at a time, never
 * serves the queues listed in `refuse` (can_accept answers MLF_EXEC_NEVER, and the scheduler fails such a
 * try with the reason), stamps every result with its `label` as the hostname, and logs what it did
 * through the daemon's log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mlflowd/mlflowd.h>

typedef struct batch {
    mlf_exec_host *host;
    mlf_taskproc_pool *pool;
    int slots;
    char label[64];
    mlf_value *refuse; /* array of queue names */
    int64_t opened_at; /* mlf_clock_monotonic() */
    unsigned submitted, reported;
} batch;

static const mlf_param_spec batch_params[] = {
    {.name = "label", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED, .help = "a name for this executor"},
    {.name = "slots", .type = MLF_PARAM_INT, .default_value = "2", .help = "most tries at once"},
    {.name = "refuse", .type = MLF_PARAM_LIST, .default_value = "[]", .help = "queues never served here"},
    {0}};

static int b_open(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen)
{
    int64_t slots = 0;
    mlf_value_get_int(mlf_map_get(args->config, "slots"), &slots);
    if (slots < 1 || slots > 64) {
        snprintf(err, errlen, "executors.%s.slots must be 1..64, got %lld", args->name, (long long)slots);
        return MLF_EINVAL;
    }
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return MLF_ENOMEM;
    b->host = args->host;
    b->slots = (int)slots;
    snprintf(b->label, sizeof b->label, "%s", mlf_value_get_str(mlf_map_get(args->config, "label"), NULL));
    b->refuse = mlf_value_copy(mlf_map_get(args->config, "refuse"));
    b->opened_at = mlf_clock_monotonic();
    int rc = mlf_taskproc_pool_new(b->slots, args->kill_grace, &b->pool);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "no task-process pool: %s", mlf_strerror(rc));
        mlf_value_free(b->refuse);
        free(b);
        return rc;
    }
    mlf_log(MLF_LOG_INFO, "batch", "executor '%s' open with %d slot(s)", b->label, b->slots);
    *inst = b;
    return MLF_OK;
}

static mlf_exec_accept b_can_accept(void *inst, const char *queue, const char *op, char *why, size_t whylen)
{
    batch *b = inst;
    (void)op;
    for (size_t i = 0; i < mlf_value_len(b->refuse); i++)
        if (strcmp(mlf_value_get_str(mlf_array_at(b->refuse, i), NULL), queue) == 0) {
            snprintf(why, whylen, "the batch executor '%s' never serves queue '%s'", b->label, queue);
            return MLF_EXEC_NEVER;
        }
    if (mlf_taskproc_pool_running(b->pool) + mlf_taskproc_pool_queued(b->pool) >= (size_t)b->slots) {
        snprintf(why, whylen, "all %d batch slots are busy", b->slots);
        return MLF_EXEC_BUSY;
    }
    return MLF_EXEC_ACCEPT;
}

static int b_submit(void *inst, const mlf_value *spec, const char *queue, mlf_time_us now, char *err, size_t errlen)
{
    batch *b = inst;
    (void)queue;
    int rc = mlf_taskproc_pool_submit(b->pool, spec, now, err, errlen);
    if (rc == MLF_OK) {
        b->submitted++;
        int64_t try_number = 0;
        mlf_value_get_int(mlf_map_get(spec, "try_number"), &try_number);
        mlf_log(MLF_LOG_INFO, "batch", "'%s' took %s.%s try %lld", b->label,
                mlf_value_get_str(mlf_map_get(spec, "dag_id"), NULL),
                mlf_value_get_str(mlf_map_get(spec, "task_id"), NULL), (long long)try_number);
    }
    return rc;
}

static int b_kill(void *inst, const char *attempt, mlf_time_us now)
{
    return mlf_taskproc_pool_kill(((batch *)inst)->pool, attempt, now);
}

static int b_fd(void *inst)
{
    return mlf_taskproc_pool_fd(((batch *)inst)->pool);
}

static mlf_time_us b_next_deadline(void *inst)
{
    return mlf_taskproc_pool_next_deadline(((batch *)inst)->pool);
}

/* A result from the pool: stamped with the label, handed to the daemon. */
static void b_result(void *ud, const mlf_value *result)
{
    batch *b = ud;
    mlf_value *mine = mlf_value_copy(result);
    if (mine && mlf_map_set(mine, "hostname", mlf_value_str(b->label)) == MLF_OK &&
        mlf_exec_report(b->host, mine) == MLF_OK)
        b->reported++;
    mlf_value_free(mine);
}

static int b_process(void *inst, mlf_time_us now)
{
    batch *b = inst;
    return mlf_taskproc_pool_process(b->pool, now, b_result, b);
}

static int b_shutdown(void *inst, int64_t grace, mlf_time_us now)
{
    return mlf_taskproc_pool_shutdown(((batch *)inst)->pool, grace, now);
}

static size_t b_in_flight(void *inst)
{
    batch *b = inst;
    return mlf_taskproc_pool_running(b->pool) + mlf_taskproc_pool_queued(b->pool);
}

static mlf_value *b_describe(void *inst)
{
    batch *b = inst;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "slots", mlf_value_int(b->slots));
    mlf_map_set(m, "label", mlf_value_str(b->label));
    return m;
}

static void b_close(void *inst)
{
    batch *b = inst;
    mlf_log(MLF_LOG_INFO, "batch", "executor '%s' closing: %u submitted, %u reported, open %.1f s", b->label,
            b->submitted, b->reported, (double)(mlf_clock_monotonic() - b->opened_at) / 1e6);
    mlf_taskproc_pool_free(b->pool);
    mlf_value_free(b->refuse);
    free(b);
}

static const mlf_executor_desc batch_executor = {
    .struct_size = sizeof(mlf_executor_desc),
    .name = "batch",
    .help = "Runs tries in the daemon's task processes, a few at a time, refusing some operators.",
    .params = batch_params,
    .param_size = sizeof(mlf_param_spec),
    .open = b_open,
    .can_accept = b_can_accept,
    .submit = b_submit,
    .kill = b_kill,
    .fd = b_fd,
    .next_deadline = b_next_deadline,
    .process = b_process,
    .shutdown = b_shutdown,
    .in_flight = b_in_flight,
    .describe = b_describe,
    .close = b_close,
};

static int batch_init(mlf_registry *reg)
{
    return mlf_register_executor(reg, &batch_executor);
}

MLF_PLUGIN("batch", "1.0.0", "An out-of-tree executor (the SDK's test)", batch_init, NULL);
