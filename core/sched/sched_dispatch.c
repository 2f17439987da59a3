/* sched_dispatch.c -- dispatch: hands ready task instances to the executor by priority within parallelism, the
 * DAG's max_active_tasks and pool slots, with the spec of each try. */
#include "base/ids.h"
#include "sched/sched_internal.h"

#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "conf/conn_uri.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "web/metrics_tries.h"
#include "base/strutil.h"
#include "exec/task_spec.h"

/* ------------------------------------------------------------------------------------------ dispatch */

static void random_token(char out[33])
{
    /* 64 random bits, as 16 hex digits: the store keeps lease tokens as uint64 */
    uint64_t v;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        /* no entropy (very early boot): time and a counter still make tokens unique in this process */
        static uint64_t counter;
        v = (uint64_t)mlf_time_now() * 1000003u + ++counter;
    }
    if (!v)
        v = 1;
    snprintf(out, 33, "%016llx", (unsigned long long)v);
}

char *mlf_ti_log_path(const char *home, const char *dag_id, const char *run_id, const char *task_id, int map_index,
                      int try_number)
{
    if (!mlf_id_valid(MLF_ID_DAG, dag_id, NULL, 0) || !mlf_id_valid(MLF_ID_RUN, run_id, NULL, 0) ||
        !mlf_id_valid(MLF_ID_TASK, task_id, NULL, 0))
        return NULL; /* never a path outside HOME/logs */
    if (map_index >= 0)
        return mlf_strdup_printf("%s/logs/%s/%s/%s/%d.%d.log", home, dag_id, run_id, task_id, map_index, try_number);
    return mlf_strdup_printf("%s/logs/%s/%s/%s/%d.log", home, dag_id, run_id, task_id, try_number);
}

int mlf_sc_pool_index(mlf_scheduler *s, const char *name)
{
    for (size_t i = 0; i < s->npools; i++)
        if (strcmp(s->pools[i].name, name) == 0)
            return (int)i;
    return -1;
}

void mlf_sc_add_running(mlf_scheduler *s, sti *t)
{
    if (s->nrunning == s->caprunning) {
        size_t cap = s->caprunning ? s->caprunning * 2 : 64;
        sti **v = realloc(s->running, cap * sizeof *v);
        if (!v)
            return;
        s->running = v;
        s->caprunning = cap;
    }
    s->running[s->nrunning++] = t;
}

sti *mlf_sc_take_running(mlf_scheduler *s, const char *attempt)
{
    for (size_t i = 0; i < s->nrunning; i++)
        if (strcmp(s->running[i]->attempt, attempt) == 0) {
            sti *t = s->running[i];
            s->running[i] = s->running[--s->nrunning];
            return t;
        }
    return NULL;
}

void mlf_sc_release_slots(mlf_scheduler *s, sti *t)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    int p = mlf_sc_pool_index(s, task->pool);
    if (p >= 0)
        s->pool_used[p] -= task->pool_slots;
    sdag *sd = mlf_sc_find_sdag(s, t->run->rec.dag_id);
    if (sd && sd->running_tis)
        sd->running_tis--;
}


/* The XComs a TI may pull (mlf_ctx_xcom_pull): those of its direct upstream tasks, as task_id -> {key:
 * value}; a mapped upstream gives each key a list with one element per map index. Bounded by the TI's
 * upstream edges, so dispatch never copies a whole run's XComs. */
static mlf_value *xcom_inputs(const srun *r, const mlf_task *task)
{
    /* every ancestor of the task, not only its direct upstreams (mlf_ctx_xcom_pull reads any task that
     * finished before this one): a depth-first walk of the upstream edges */
    if (task->nupstream == 0) /* a root: nothing to walk, and no O(tasks) scratch to allocate */
        return mlf_value_map();
    size_t nt = r->dag->ntasks;
    unsigned char *seen = calloc(nt ? nt : 1, 1);
    size_t *stack = malloc((nt ? nt : 1) * sizeof *stack), *anc = malloc((nt ? nt : 1) * sizeof *anc);
    size_t nstack = 0, nanc = 0;
    mlf_value *in = seen && stack && anc ? mlf_value_map() : NULL;
    for (size_t u = 0; in && u < task->nupstream; u++)
        if (!seen[task->upstream[u]]) {
            seen[task->upstream[u]] = 1;
            stack[nstack++] = task->upstream[u];
        }
    while (in && nstack) {
        size_t t = stack[--nstack];
        anc[nanc++] = t;
        const mlf_task *up = &r->dag->tasks[t];
        for (size_t u = 0; u < up->nupstream; u++)
            if (!seen[up->upstream[u]]) {
                seen[up->upstream[u]] = 1;
                stack[nstack++] = up->upstream[u];
            }
    }
    free(seen);
    free(stack);
    for (size_t u = 0; in && u < nanc; u++) {
        const char *id = r->dag->tasks[anc[u]].task_id;
        const mlf_value *per = mlf_map_get(r->xcoms, id);
        if (!per)
            continue;
        if (mlf_value_type(per) != MLF_ARRAY) {
            mlf_map_set(in, id, mlf_value_copy(per));
            continue;
        }
        /* one pass per distinct key: [value at map index 0, 1, ...] (nil where an index pushed none) */
        mlf_value *byk = mlf_value_map();
        for (size_t i = 0; byk && i < mlf_value_len(per); i++) {
            const mlf_value *one = mlf_array_at(per, i);
            for (size_t k = 0; k < mlf_value_len(one); k++) {
                const char *key = mlf_map_key_at(one, k);
                if (mlf_map_get(byk, key))
                    continue;
                mlf_value *arr = mlf_value_array();
                for (size_t j = 0; arr && j < mlf_value_len(per); j++) {
                    const mlf_value *v = mlf_map_get(mlf_array_at(per, j), key);
                    mlf_array_append(arr, v ? mlf_value_copy(v) : mlf_value_nil());
                }
                mlf_map_set(byk, key, arr);
            }
        }
        mlf_map_set(in, id, byk);
    }
    free(anc);
    return in;
}

void mlf_sc_try_log_line(mlf_scheduler *s, const sti *t, const char *line)
{
    const srun *r = t->run;
    char *path = mlf_ti_log_path(s->home, r->rec.dag_id, r->rec.run_id, r->dag->tasks[t->task].task_id,
                                 t->map_index, t->try_number);
    int fd = path && line && mlf_mkdir_parents(path) == MLF_OK
                 ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                 : -1;
    if (fd >= 0) {
        mlf_write_full(fd, line, strlen(line));
        close(fd);
    }
    free(path);
}

/* A try that failed before it started (its parameters did not render) still gets its log, so that
 * `mlflowd tasks logs` explains it as it explains every other failure. One short append: a rare path. */
static void write_render_failure(mlf_scheduler *s, sti *t, const char *err)
{
    char *line = mlf_strdup_printf("The task's parameters did not render, so it did not run: %s\n", err);
    mlf_sc_try_log_line(s, t, line);
    free(line);
}

static void dispatch_ti(mlf_scheduler *s, sti *t, mlf_time_us now)
{
    srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    sdag *sd = mlf_sc_find_sdag(s, r->rec.dag_id);
    t->try_number++;
    random_token(t->attempt);
    mlf_sc_set_message(t, NULL); /* a waiting reason from dispatch, or the previous try's outcome */
    t->queued_at = now;
    t->start_date = now;
    t->end_date = 0;
    if ((task->op->flags & MLF_OP_SENSOR) && !t->first_poke_at)
        t->first_poke_at = now;
    char err[700] = "";
    render_ctx rc = {.s = s, .run = r, .ti = t};
    mlf_value *params = NULL;
    int rcode = mlf_sc_render_params(s, t, &rc, &params, err, sizeof err);
    mlf_value *secrets = rc.secrets; /* freed below, after the spec is encoded */
    if (rcode != MLF_OK) {
        mlf_value_free(rc.names);
        mlf_value_free(secrets);
        mlf_log(MLF_LOG_ERROR, COMPONENT, "%s/%s/%s: %s", r->rec.dag_id, r->rec.run_id, task->task_id, err);
        write_render_failure(s, t, err);
        mlf_sc_finish_ti(s, t, MLF_TI_FAILED, err);
        return;
    }
    if (task->op->flags & MLF_OP_SENSOR) {
        /* poke mode polls inside the task process; its timeout is what is left of the sensor's */
        mlf_map_set(params, "poke_interval", mlf_value_int(task->sensor.poke_interval_us));
        int64_t left = task->sensor.timeout_us - (now - t->first_poke_at);
        mlf_map_set(params, "timeout", mlf_value_int(left > 0 ? left : 1));
        mlf_map_set(params, "soft_fail", mlf_value_bool(task->sensor.soft_fail));
        mlf_map_set(params, "exponential_backoff", mlf_value_bool(task->sensor.exponential_backoff));
    }
    mlf_value *inputs = xcom_inputs(r, task);
    if (inputs && mlf_sc_cache_lookup(s, t, &rc, params, inputs, now)) { /* a cache hit: no try (doc/caching.md) */
        mlf_value_free(rc.names);
        mlf_value_free(rc.secrets);
        mlf_value_free(params);
        mlf_value_free(inputs);
        return;
    }
    mlf_value_free(rc.names);
    rc.names = NULL;
    const char **down = calloc(task->ndownstream + 1, sizeof *down);
    for (size_t d = 0; down && d < task->ndownstream; d++)
        down[d] = r->dag->tasks[task->downstream[d]].task_id;
    char *log_path = mlf_ti_log_path(s->home, r->rec.dag_id, r->rec.run_id, task->task_id, t->map_index, t->try_number);
    const mlf_reg_entry *e = mlf_catalog_find(s->o.cat, MLF_REG_OPERATOR, task->operator_name);
    mlf_task_spec spec = {
        .dag_id = r->rec.dag_id, .task_id = task->task_id, .run_id = r->rec.run_id, .map_index = t->map_index,
        .try_number = t->try_number, .attempt = t->attempt, .operator_name = task->operator_name,
        .plugin_path = e && e->owner ? e->owner->path : "", .is_branch = (task->op->flags & MLF_OP_BRANCH) != 0,
        .downstream = down, .ndownstream = task->ndownstream, .params = params, .dag_params = r->params,
        .xcom_inputs = NULL, .logical_date = r->rec.logical_date,
        .data_interval_start = r->rec.data_interval_start, .data_interval_end = r->rec.data_interval_end,
        .log_path = log_path, .xcom_max_size = s->xcom_max, .execution_timeout = task->execution_timeout_us,
        .sensor_poke = (task->op->flags & MLF_OP_SENSOR) && task->sensor.mode == MLF_SENSOR_POKE,
        .sensor = (task->op->flags & MLF_OP_SENSOR) != 0};
    /* inputs are moved into the spec after encoding: never copied */
    /* the connection the operator names (conn_id), from the store or MLFLOWD_CONN_<ID>; its password is
     * masked in the try's log */
    mlf_value *conns = mlf_value_map();
    const char *conn_id = mlf_value_get_str(mlf_map_get(params, "conn_id"), NULL);
    mlf_store_txn *ctxn = conn_id ? mlf_sc_wtxn(s) : NULL;
    mlf_value *fields = NULL;
    char cerr[256];
    if (ctxn && conns && mlf_conn_resolve(ctxn, conn_id, &fields, cerr, sizeof cerr) == MLF_OK) {
        mlf_sc_add_secret(&rc, mlf_value_get_str(mlf_map_get(fields, "password"), NULL));
        /* and its sensitive extras (token, api_key, secret...: mlf_is_sensitive_name()) */
        const mlf_value *extra = mlf_map_get(fields, "extra");
        for (size_t i = 0; mlf_value_type(extra) == MLF_MAP && i < mlf_value_len(extra); i++)
            if (mlf_is_sensitive_name(mlf_map_key_at(extra, i)))
                mlf_sc_add_secret(&rc, mlf_value_get_str(mlf_map_value_at(extra, i), NULL));
        mlf_map_set(conns, conn_id, fields);
    }
    spec.connections = conns;
    secrets = rc.secrets;
    size_t nsec = mlf_value_len(secrets);
    const char **secret = nsec ? calloc(nsec, sizeof *secret) : NULL;
    for (size_t i = 0; secret && i < nsec; i++)
        secret[i] = mlf_value_get_str(mlf_array_at(secrets, i), NULL);
    spec.secrets = secret;
    spec.nsecrets = secret ? nsec : 0;
    mlf_value *specv = NULL;
    rcode = down && log_path && inputs ? mlf_task_spec_encode(&spec, &specv) : MLF_ENOMEM;
    if (rcode == MLF_OK) { /* the ancestors' XComs can be the spec's biggest part: move, do not copy */
        rcode = mlf_map_set(specv, "xcom_inputs", inputs);
        inputs = NULL;
    }
    if (rcode == MLF_OK && task->executor_config) /* for the executor only: task-exec ignores it */
        rcode = mlf_map_set(specv, "executor_config", mlf_value_copy(task->executor_config));
    mlf_value_free(inputs);
    mlf_value_free(conns);
    free(secret);
    mlf_value_free(secrets);
    if (rcode == MLF_OK) {
        s->submitting = t;
        rcode = mlf_executor_submit(s->ex, specv, task->queue, now, err, sizeof err);
        s->submitting = NULL;
    }
    else
        snprintf(err, sizeof err, "cannot build the task spec: %s", mlf_strerror(rcode));
    mlf_value_free(specv);
    mlf_value_free(params);
    free(down);
    free(log_path);
    if (rcode != MLF_OK) {
        mlf_sc_finish_ti(s, t, MLF_TI_FAILED, err);
        return;
    }
    t->state = MLF_TI_RUNNING;
    mlf_metrics_try_started(); /* /metrics: one atomic add */
    mlf_sc_save_ti(s, t);
    mlf_sc_add_running(s, t);
    int p = mlf_sc_pool_index(s, task->pool);
    if (p >= 0)
        s->pool_used[p] += task->pool_slots;
    if (sd)
        sd->running_tis++;
}

/* What the executor answered WAIT for this turn, by queue and operator: another TI of the same pair gets
 * the same answer without asking again (a remote executor's refusal formats its reason each time). */
typedef struct waiting_pair {
    const char *queue, *operator_name;
    char why[256];
} waiting_pair;

#define MAX_WAITING_PAIRS 8

static const waiting_pair *find_waiting(const waiting_pair *w, size_t n, const mlf_task *task)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w[i].queue, task->queue) == 0 && strcmp(w[i].operator_name, task->operator_name) == 0)
            return &w[i];
    return NULL;
}

/* Hands ready TIs to the executor by priority while parallelism, the DAG's max_active_tasks and the pool
 * allow; TIs held back by a DAG or pool limit wait for the next turn. */
void mlf_sc_dispatch(mlf_scheduler *s, mlf_time_us now)
{
    sti **held = NULL;
    size_t nheld = 0, capheld = 0;
    size_t refused = 0;
    waiting_pair waiting[MAX_WAITING_PAIRS];
    size_t nwaiting = 0;
    while (!s->draining && s->ready.n && refused < 64) {
        sti *t = mlf_sc_heap_pop(&s->ready, mlf_sc_ready_before);
        if (mlf_sc_needs_no_try(s, t)) { /* scheduled before a restart: no limit applies to it */
            mlf_sc_finish_without_try(s, t);
            continue;
        }
        const mlf_task *task = &t->run->dag->tasks[t->task];
        sdag *sd = mlf_sc_find_sdag(s, t->run->rec.dag_id);
        int p = mlf_sc_pool_index(s, task->pool);
        int hold = (sd && sd->paused) || (sd && sd->running_tis >= t->run->dag->max_active_tasks) ||
                   (p >= 0 && s->pools[p].slots >= 0 && s->pool_used[p] + task->pool_slots > s->pools[p].slots);
        if (p < 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "pool '%s' does not exist (create it with mlflowd pools set)", task->pool);
            mlf_sc_finish_ti(s, t, MLF_TI_FAILED, msg);
            continue;
        }
        char why[256] = "";
        const waiting_pair *wp = hold ? NULL : find_waiting(waiting, nwaiting, task);
        mlf_exec_accept acc = hold ? MLF_EXEC_ACCEPT
                              : wp ? MLF_EXEC_WAIT
                                   : mlf_executor_can_accept(s->ex, task->queue, task->operator_name, why, sizeof why);
        if (wp)
            mlf_strlcpy(why, wp->why, sizeof why);
        else if (acc == MLF_EXEC_WAIT && nwaiting < MAX_WAITING_PAIRS) {
            waiting[nwaiting] = (waiting_pair){.queue = task->queue, .operator_name = task->operator_name};
            mlf_strlcpy(waiting[nwaiting++].why, why, sizeof waiting[0].why);
        }
        if (acc == MLF_EXEC_BUSY) { /* every slot is taken: nothing else can start this turn */
            mlf_sc_heap_push(&s->ready, t, mlf_sc_ready_before);
            break;
        }
        if (acc == MLF_EXEC_NEVER) { /* the executor can never run it: fail it, without retry */
            mlf_sc_finish_ti(s, t, MLF_TI_FAILED, why[0] ? why : "the executor cannot run this task");
            continue;
        }
        if (acc == MLF_EXEC_WAIT) {
            /* nothing serves this queue/operator now, or all its workers are busy; record why once
             * (`mlflowd tasks state` shows it) and try the next TI */
            hold = 1;
            refused++;
            if (!t->message || strcmp(t->message, why) != 0) {
                mlf_sc_set_message(t, why);
                mlf_sc_save_ti(s, t);
            }
        }
        if (hold) {
            if (nheld == capheld) {
                capheld = capheld ? capheld * 2 : 32;
                sti **v = realloc(held, capheld * sizeof *v);
                if (!v) {
                    mlf_sc_heap_push(&s->ready, t, mlf_sc_ready_before);
                    break;
                }
                held = v;
            }
            held[nheld++] = t;
            continue;
        }
        dispatch_ti(s, t, now);
    }
    for (size_t i = 0; i < nheld; i++)
        mlf_sc_heap_push(&s->ready, held[i], mlf_sc_ready_before);
    free(held);
}
