/* dag.c -- the DAG model: tasks, edges, topological order, cycle reports, priority weights. */
#include "dag/dag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

const char *const mlf_trigger_rule_names[MLF_TR_COUNT] = {
    "all_success", "all_failed",  "all_done",    "all_done_min_one_success",    "all_skipped",  "one_success",
    "one_failed",  "one_done",    "none_failed", "none_failed_min_one_success", "none_skipped", "always",
    "all_done_setup_success"};

const char *const mlf_weight_rule_names[MLF_WR_COUNT] = {"downstream", "upstream", "absolute"};

int mlf_trigger_rule_parse(const char *name, mlf_trigger_rule *out)
{
    for (int i = 0; name && i < MLF_TR_COUNT; i++)
        if (strcmp(name, mlf_trigger_rule_names[i]) == 0) {
            *out = (mlf_trigger_rule)i;
            return MLF_OK;
        }
    return MLF_ENOTFOUND;
}

int mlf_weight_rule_parse(const char *name, mlf_weight_rule *out)
{
    for (int i = 0; name && i < MLF_WR_COUNT; i++)
        if (strcmp(name, mlf_weight_rule_names[i]) == 0) {
            *out = (mlf_weight_rule)i;
            return MLF_OK;
        }
    return MLF_ENOTFOUND;
}

mlf_dag *mlf_dag_new(void)
{
    mlf_dag *dag = calloc(1, sizeof *dag);
    if (!dag)
        return NULL;
    dag->params = mlf_value_map();
    dag->timezone = strdup("UTC");
    if (!dag->params || !dag->timezone) {
        mlf_dag_free(dag);
        return NULL;
    }
    dag->refs = 1;
    dag->max_active_runs = 16;  /* Airflow's core.max_active_runs_per_dag */
    dag->max_active_tasks = 16; /* Airflow's core.max_active_tasks_per_dag */
    return dag;
}

static void task_free(mlf_task *t)
{
    mlf_task_templates_free(t);
    mlf_template_free(t->cache_key);
    free(t->task_id);
    free(t->operator_name);
    free(t->upstream);
    free(t->downstream);
    free(t->pool);
    free(t->queue);
    mlf_value_free(t->params);
    mlf_value_free(t->expand);
    free(t->expand_src);
    free(t->setups);
    free(t->setup_waiters);
    free(t->group);
    free(t->doc);
    free(t->owner);
    mlf_value_free(t->on_failure_callback);
    mlf_value_free(t->on_success_callback);
    mlf_value_free(t->on_retry_callback);
    mlf_asset_strv_free(t->outlets, t->noutlets);
    mlf_value_free(t->executor_config);
}

mlf_dag *mlf_dag_retain(mlf_dag *dag)
{
    dag->refs++;
    return dag;
}

void mlf_dag_free(mlf_dag *dag)
{
    if (!dag || --dag->refs > 0)
        return;
    for (size_t i = 0; i < dag->ntasks; i++)
        task_free(&dag->tasks[i]);
    free(dag->tasks);
    for (size_t i = 0; i < dag->ngroups; i++) {
        free(dag->groups[i].group_id);
        free(dag->groups[i].label);
        free(dag->groups[i].tooltip);
    }
    free(dag->groups);
    free(dag->topo);
    free(dag->id_hash);
    for (size_t i = 0; i < dag->ntags; i++)
        free(dag->tags[i]);
    free(dag->tags);
    free(dag->dag_id);
    free(dag->fileloc);
    free(dag->description);
    free(dag->schedule);
    free(dag->timezone);
    mlf_value_free(dag->params);
    mlf_value_free(dag->param_specs);
    free(dag->doc_md);
    mlf_value_free(dag->on_failure_callback);
    mlf_value_free(dag->on_success_callback);
    mlf_asset_cond_clear(&dag->asset_sched);
    mlf_asset_decls_free(dag->asset_decls, dag->nasset_decls);
    free(dag);
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Inserts task @p index into the id index (growing it to keep the load under one half). */
static int hash_insert(mlf_dag *dag, size_t index)
{
    if ((dag->ntasks + 1) * 2 > dag->id_hash_cap) {
        size_t cap = dag->id_hash_cap ? dag->id_hash_cap * 2 : 16;
        size_t *h = calloc(cap, sizeof *h);
        if (!h)
            return MLF_ENOMEM;
        for (size_t i = 0; i < dag->id_hash_cap; i++)
            if (dag->id_hash[i]) {
                size_t j = hash_str(dag->tasks[dag->id_hash[i] - 1].task_id) & (cap - 1);
                while (h[j])
                    j = (j + 1) & (cap - 1);
                h[j] = dag->id_hash[i];
            }
        free(dag->id_hash);
        dag->id_hash = h;
        dag->id_hash_cap = cap;
    }
    size_t j = hash_str(dag->tasks[index].task_id) & (dag->id_hash_cap - 1);
    while (dag->id_hash[j])
        j = (j + 1) & (dag->id_hash_cap - 1);
    dag->id_hash[j] = index + 1;
    return MLF_OK;
}

long mlf_dag_task_index(const mlf_dag *dag, const char *task_id)
{
    if (!dag->id_hash_cap)
        return -1;
    for (size_t j = hash_str(task_id) & (dag->id_hash_cap - 1); dag->id_hash[j]; j = (j + 1) & (dag->id_hash_cap - 1))
        if (strcmp(dag->tasks[dag->id_hash[j] - 1].task_id, task_id) == 0)
            return (long)dag->id_hash[j] - 1;
    return -1;
}

int mlf_dag_add_task(mlf_dag *dag, const char *task_id, size_t *index)
{
    if (mlf_dag_task_index(dag, task_id) >= 0)
        return MLF_EEXIST;
    /* grow by doubling: the capacity is always the power of two at or above ntasks (1, 2, 4, ...) */
    size_t n = dag->ntasks;
    if ((n & (n - 1)) == 0) {
        size_t cap = n ? n * 2 : 1;
        mlf_task *nt = realloc(dag->tasks, cap * sizeof *nt);
        if (!nt)
            return MLF_ENOMEM;
        dag->tasks = nt;
    }
    mlf_task *t = &dag->tasks[n];
    memset(t, 0, sizeof *t);
    t->task_id = strdup(task_id);
    t->pool = strdup("default_pool");
    t->queue = strdup("default");
    t->params = mlf_value_map();
    if (!t->task_id || !t->pool || !t->queue || !t->params || hash_insert(dag, n) != MLF_OK) {
        task_free(t);
        return MLF_ENOMEM;
    }
    t->trigger_rule = MLF_TR_ALL_SUCCESS;
    t->group_index = -1;
    t->retry_delay_us = 300 * 1000000LL; /* Airflow's default_task_retry_delay */
    t->pool_slots = 1;
    t->priority_weight = 1;
    t->weight_rule = MLF_WR_DOWNSTREAM;
    t->sensor.mode = MLF_SENSOR_POKE;
    t->sensor.poke_interval_us = 60 * 1000000LL;
    t->sensor.timeout_us = 7LL * 24 * 3600 * 1000000LL;
    dag->ntasks++;
    if (index)
        *index = n;
    return MLF_OK;
}

static int push_index(size_t **v, size_t *n, size_t x)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == x)
            return MLF_OK;
    size_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return MLF_ENOMEM;
    nv[(*n)++] = x;
    *v = nv;
    return MLF_OK;
}

int mlf_dag_add_edge(mlf_dag *dag, size_t upstream, size_t downstream)
{
    mlf_task *up = &dag->tasks[upstream], *down = &dag->tasks[downstream];
    int rc = push_index(&up->downstream, &up->ndownstream, downstream);
    return rc ? rc : push_index(&down->upstream, &down->nupstream, upstream);
}

int mlf_task_is_leaf(const mlf_task *t)
{
    return t->run_leaf;
}

/* Reports one cycle among the tasks Kahn's algorithm could not order (indegree still > 0). */
static void report_cycle(const mlf_dag *dag, const size_t *indeg, mlf_diag *diag)
{
    size_t n = dag->ntasks, start = n;
    for (size_t i = 0; i < n && start == n; i++)
        if (indeg[i] > 0)
            start = i;
    /* walk upstream through unordered tasks until one repeats: the repeat closes a cycle */
    long *seen_at = malloc(n * sizeof *seen_at);
    size_t *path = malloc((n + 1) * sizeof *path);
    if (!seen_at || !path || start == n) {
        mlf_diag_add(diag, dag->fileloc, dag->line, dag->col, "the tasks contain a cycle");
        free(seen_at);
        free(path);
        return;
    }
    for (size_t i = 0; i < n; i++)
        seen_at[i] = -1;
    size_t len = 0, cur = start;
    while (seen_at[cur] < 0) {
        seen_at[cur] = (long)len;
        path[len++] = cur;
        const mlf_task *t = &dag->tasks[cur];
        size_t next = n;
        for (size_t j = 0; j < t->nupstream && next == n; j++)
            if (indeg[t->upstream[j]] > 0)
                next = t->upstream[j];
        if (next == n)
            break; /* cannot happen: an unordered task always has an unordered upstream */
        cur = next;
    }
    /* path[seen_at[cur] .. len-1] walked upstream; print it downstream-wise, closing the loop */
    mlf_buf b = {0};
    size_t first = (size_t)seen_at[cur];
    for (size_t k = len; k-- > first;)
        mlf_buf_printf(&b, "%s -> ", dag->tasks[path[k]].task_id);
    mlf_buf_puts(&b, dag->tasks[path[len - 1]].task_id);
    const mlf_task *at = &dag->tasks[path[len - 1]];
    mlf_diag_add(diag, dag->fileloc, at->line, at->col, "the tasks contain a cycle: %s", b.data ? b.data : "?");
    mlf_buf_free(&b);
    free(seen_at);
    free(path);
}

/* ------------------------------------------------------------------------------------------ weights
 *
 * Airflow's priority_weight_total: a task's weight plus the weight of every task it reaches downstream
 * (rule `downstream`) or upstream (rule `upstream`), each reached task counted once however many paths
 * lead to it. Walking each task's closure costs O(N x reach) -- minutes for a layered DAG of 100,000
 * tasks -- and the per-child sum that a single reverse-topological pass gives counts a task once per path.
 * So the closure is computed exactly, as reachability bitsets, in one pass over the edges per block of
 * "columns" (the tasks that can be reached: those with an upstream, for the downstream rule), with the
 * block sized so the bitsets of all tasks stay within WEIGHT_BITS_BYTES (32 MiB):
 *   reach[t] = OR over the next tasks c of (reach[c] | bit(c)),  in reverse topological order;
 *   sum[t]  += the weights of the bits set in reach[t].
 * Columns are ordered by weight, so a 64-bit word almost always holds one weight and its sum is that
 * weight times the word's population count. Cost: O((N + E) x columns / 64) word operations. */

#define WEIGHT_BITS_BYTES (32u << 20)

static size_t weight_bits_bytes = WEIGHT_BITS_BYTES;

void mlf_dag_set_closure_budget(size_t bytes)
{
    weight_bits_bytes = bytes ? bytes : WEIGHT_BITS_BYTES;
}

static int by_weight(const void *a, const void *b, void *ud)
{
    const mlf_dag *dag = ud;
    int wa = dag->tasks[*(const size_t *)a].priority_weight, wb = dag->tasks[*(const size_t *)b].priority_weight;
    return (wa > wb) - (wa < wb);
}

/* Adds to @p sum[t] the weights of the tasks t reaches along direction @p dir (itself excluded). */
static int closure_weights(const mlf_dag *dag, int dir, int64_t *sum)
{
    size_t n = dag->ntasks;
    size_t *col_task = malloc((n ? n : 1) * sizeof *col_task), *task_col = malloc((n ? n : 1) * sizeof *task_col);
    if (!col_task || !task_col) {
        free(col_task);
        free(task_col);
        return MLF_ENOMEM;
    }
    size_t ncols = 0;
    for (size_t i = 0; i < n; i++) /* reachable only from another task: it has an edge pointing at it */
        if (dir ? dag->tasks[i].ndownstream : dag->tasks[i].nupstream)
            col_task[ncols++] = i;
    qsort_r(col_task, ncols, sizeof *col_task, by_weight, (void *)dag);
    for (size_t i = 0; i < n; i++)
        task_col[i] = SIZE_MAX;
    for (size_t c = 0; c < ncols; c++)
        task_col[col_task[c]] = c;

    size_t words = (ncols + 63) / 64;
    size_t per = weight_bits_bytes / sizeof(uint64_t) / (n ? n : 1); /* words per task in one block */
    if (per < 1)
        per = 1;
    if (per > words)
        per = words;
    uint64_t *bits = words ? malloc(n * per * sizeof *bits) : NULL;
    int64_t *wordw = words ? malloc(per * sizeof *wordw) : NULL; /* a word's one weight, or INT64_MIN: mixed */
    int rc = words && (!bits || !wordw) ? MLF_ENOMEM : MLF_OK;
    for (size_t w0 = 0; rc == MLF_OK && w0 < words; w0 += per) {
        size_t nw = words - w0 < per ? words - w0 : per;
        size_t c0 = w0 * 64, c1 = (w0 + nw) * 64 < ncols ? (w0 + nw) * 64 : ncols;
        for (size_t k = 0; k < nw; k++) {
            size_t first = c0 + k * 64, last = first + 63 < c1 ? first + 63 : c1 - 1;
            int wf = dag->tasks[col_task[first]].priority_weight, wl = dag->tasks[col_task[last]].priority_weight;
            wordw[k] = wf == wl ? wf : INT64_MIN; /* sorted: equal ends, equal word */
        }
        memset(bits, 0, n * nw * sizeof *bits);
        for (size_t i = n; i-- > 0;) { /* downstream: reverse topological order; upstream: topological */
            size_t t = dag->topo[dir ? n - 1 - i : i];
            const mlf_task *tk = &dag->tasks[t];
            const size_t *next = dir ? tk->upstream : tk->downstream;
            size_t nn = dir ? tk->nupstream : tk->ndownstream;
            uint64_t *row = bits + t * nw;
            for (size_t j = 0; j < nn; j++) {
                const uint64_t *child = bits + next[j] * nw;
                for (size_t k = 0; k < nw; k++)
                    row[k] |= child[k];
                size_t c = task_col[next[j]];
                if (c >= c0 && c < c1)
                    row[(c - c0) / 64] |= UINT64_C(1) << ((c - c0) % 64);
            }
            for (size_t q = 0; nn && q < nw; q++) { /* a task with no next task reaches nothing */
                uint64_t word = row[q];
                if (!word)
                    continue;
                if (wordw[q] != INT64_MIN) {
                    sum[t] += wordw[q] * __builtin_popcountll(word);
                    continue;
                }
                for (; word; word &= word - 1)
                    sum[t] += dag->tasks[col_task[c0 + q * 64 + (size_t)__builtin_ctzll(word)]].priority_weight;
            }
        }
    }
    free(bits);
    free(wordw);
    free(col_task);
    free(task_col);
    return rc;
}

int mlf_dag_finalize(mlf_dag *dag, mlf_diag *diag)
{
    size_t n = dag->ntasks;
    free(dag->topo);
    dag->topo = NULL;
    size_t *indeg = calloc(n ? n : 1, sizeof *indeg);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!indeg || !order) {
        free(indeg);
        free(order);
        return MLF_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        indeg[i] = dag->tasks[i].nupstream;
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            order[tail++] = i;
    while (head < tail) {
        const mlf_task *t = &dag->tasks[order[head++]];
        for (size_t j = 0; j < t->ndownstream; j++)
            if (--indeg[t->downstream[j]] == 0)
                order[tail++] = t->downstream[j];
    }
    if (tail != n) {
        report_cycle(dag, indeg, diag);
        free(indeg);
        free(order);
        return MLF_EINVAL;
    }
    free(indeg);
    dag->topo = order;

    /* Airflow's priority_weight_total: the task's weight plus every descendant's (downstream rule) or
     * ancestor's (upstream rule), each counted once (see closure_weights) */
    int64_t *down = calloc(n ? n : 1, sizeof *down), *up = calloc(n ? n : 1, sizeof *up);
    int need[2] = {0, 0}, rc = down && up ? MLF_OK : MLF_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (dag->tasks[i].weight_rule != MLF_WR_ABSOLUTE)
            need[dag->tasks[i].weight_rule == MLF_WR_UPSTREAM] = 1;
    for (int dir = 0; dir < 2 && rc == MLF_OK; dir++)
        if (need[dir])
            rc = closure_weights(dag, dir, dir ? up : down);
    for (size_t i = 0; i < n && rc == MLF_OK; i++) {
        mlf_task *t = &dag->tasks[i];
        t->effective_priority = t->priority_weight;
        if (t->weight_rule != MLF_WR_ABSOLUTE)
            t->effective_priority += t->weight_rule == MLF_WR_UPSTREAM ? up[i] : down[i];
    }
    free(down);
    free(up);
    if (rc != MLF_OK)
        return rc;
    rc = mlf_dag_setup_teardown(dag);
    return rc ? rc : mlf_dag_compile_templates(dag);
}
