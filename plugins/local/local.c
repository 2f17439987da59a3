/* local -- the `local` and `sequential` executors: tries run on the scheduler's host, each in a task
 * process of its own (Airflow's LocalExecutor and SequentialExecutor).
 *
 * The processes themselves are the daemon's business: this plugin asks for a task-process pool through the
 * SDK (mlf_taskproc_pool_*, mlflowd/executor.h), so the daemon can change how tries are started (fresh
 * processes today, long-lived task hosts tomorrow) without touching it. What the plugin decides is how many
 * tries run at once, and it says "busy" when they all do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mlflowd/mlflowd.h>

typedef struct local {
    mlf_taskproc_pool *pool;
    mlf_exec_host *host;
    int slots;
} local;

static const mlf_param_spec local_params[] = {
    {.name = "parallelism", .type = MLF_PARAM_INT, .default_value = "0",
     .help = "most tries running at once on this host; 0: the daemon's `parallelism` setting"},
    {.name = "kill_grace", .type = MLF_PARAM_DURATION, .default_value = "5s",
     .help = "time between SIGTERM and SIGKILL when a try is stopped or times out"},
    {0}};

static const mlf_param_spec sequential_params[] = {
    {.name = "kill_grace", .type = MLF_PARAM_DURATION, .default_value = "5s",
     .help = "time between SIGTERM and SIGKILL when a try is stopped or times out"},
    {0}};

static int local_open(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen)
{
    int64_t slots = 0, grace = 0;
    mlf_value_get_int(mlf_map_get(args->config, "parallelism"), &slots);
    mlf_value_get_int(mlf_map_get(args->config, "kill_grace"), &grace);
    if (strcmp(args->name, "sequential") == 0)
        slots = 1; /* Airflow's SequentialExecutor: one try at a time */
    else if (slots == 0)
        slots = args->parallelism;
    if (slots < 1 || slots > 1000000 || grace < 0) {
        snprintf(err, errlen, "executors.%s: parallelism must be 1..1000000 (or 0: the daemon's), kill_grace "
                 "not negative", args->name);
        return MLF_EINVAL;
    }
    local *l = calloc(1, sizeof *l);
    if (!l)
        return MLF_ENOMEM;
    int rc = mlf_taskproc_pool_new((int)slots, grace, &l->pool);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot start the task process pool: %s", mlf_strerror(rc));
        free(l);
        return rc;
    }
    l->host = args->host;
    l->slots = (int)slots;
    *inst = l;
    return MLF_OK;
}

static mlf_exec_accept local_can_accept(void *inst, const char *queue, const char *operator_name, char *why,
                                        size_t whylen)
{
    local *l = inst;
    (void)queue; /* one host: every queue runs here */
    (void)operator_name;
    if (mlf_taskproc_pool_running(l->pool) + mlf_taskproc_pool_queued(l->pool) < (size_t)l->slots)
        return MLF_EXEC_ACCEPT;
    snprintf(why, whylen, "all %d local slots are busy", l->slots);
    return MLF_EXEC_BUSY;
}

static int local_submit(void *inst, const mlf_value *spec, const char *queue, mlf_time_us now, char *err,
                        size_t errlen)
{
    local *l = inst;
    (void)queue;
    return mlf_taskproc_pool_submit(l->pool, spec, now, err, errlen);
}

static int local_kill(void *inst, const char *attempt, mlf_time_us now)
{
    local *l = inst;
    return mlf_taskproc_pool_kill(l->pool, attempt, now);
}

static int local_fd(void *inst)
{
    local *l = inst;
    return mlf_taskproc_pool_fd(l->pool);
}

static mlf_time_us local_next_deadline(void *inst)
{
    local *l = inst;
    return mlf_taskproc_pool_next_deadline(l->pool);
}

static void deliver(void *ud, const mlf_value *result)
{
    local *l = ud;
    mlf_exec_report(l->host, result);
}

static int local_process(void *inst, mlf_time_us now)
{
    local *l = inst;
    return mlf_taskproc_pool_process(l->pool, now, deliver, l);
}

static int local_shutdown(void *inst, int64_t grace, mlf_time_us now)
{
    local *l = inst;
    return mlf_taskproc_pool_shutdown(l->pool, grace, now);
}

static size_t local_in_flight(void *inst)
{
    local *l = inst;
    return mlf_taskproc_pool_running(l->pool) + mlf_taskproc_pool_queued(l->pool);
}

static mlf_value *local_describe(void *inst)
{
    local *l = inst;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "slots", mlf_value_int(l->slots));
    mlf_map_set(m, "running", mlf_value_int((int64_t)mlf_taskproc_pool_running(l->pool)));
    mlf_map_set(m, "queued", mlf_value_int((int64_t)mlf_taskproc_pool_queued(l->pool)));
    return m;
}

static void local_close(void *inst)
{
    local *l = inst;
    if (!l)
        return;
    mlf_taskproc_pool_free(l->pool);
    free(l);
}

#define LOCAL_CALLBACKS                                                                                    \
    .open = local_open, .can_accept = local_can_accept, .submit = local_submit, .kill = local_kill,       \
    .fd = local_fd, .next_deadline = local_next_deadline, .process = local_process,                       \
    .after_commit = NULL, .shutdown = local_shutdown, .in_flight = local_in_flight, .adopt = NULL,         \
    .describe = local_describe, .close = local_close

static const mlf_executor_desc local_executor = {
    .struct_size = sizeof(mlf_executor_desc),
    .name = "local",
    .help = "Runs each try in a task process of its own on the scheduler's host, several at once (Airflow's "
            "LocalExecutor). Tries do not survive a scheduler restart: they are failed as zombies and retried.",
    .params = local_params,
    .param_size = sizeof(mlf_param_spec),
    LOCAL_CALLBACKS};

static const mlf_executor_desc sequential_executor = {
    .struct_size = sizeof(mlf_executor_desc),
    .name = "sequential",
    .help = "As local, one try at a time (Airflow's SequentialExecutor): for debugging and for tasks that "
            "must never overlap.",
    .params = sequential_params,
    .param_size = sizeof(mlf_param_spec),
    LOCAL_CALLBACKS};

static int local_init(mlf_registry *reg)
{
    int rc = mlf_register_executor(reg, &local_executor);
    return rc ? rc : mlf_register_executor(reg, &sequential_executor);
}

MLF_PLUGIN("local", MLF_VERSION_STRING, "The local and sequential executors (task processes on this host)",
           local_init, NULL);
