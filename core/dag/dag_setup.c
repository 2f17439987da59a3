/* dag_setup.c -- setup and teardown tasks in the DAG model (dag.h), as Airflow 2.7+ relates them
 * (airflow/models/abstractoperator.py get_upstreams_only_setups_and_teardowns, airflow/models/dagrun.py
 * _tis_for_dagrun_state). */
#include "dag/dag.h"

#include <stdlib.h>
#include <string.h>

/* Marks in @p mark (value @p gen) every task reachable from @p start along downstream (@p down) or upstream
 * edges, @p start excluded. @p stack has room for ntasks. */
static void closure(const mlf_dag *dag, size_t start, int down, unsigned *mark, unsigned gen, size_t *stack)
{
    size_t sp = 0;
    stack[sp++] = start;
    while (sp) {
        const mlf_task *t = &dag->tasks[stack[--sp]];
        const size_t *next = down ? t->downstream : t->upstream;
        size_t nn = down ? t->ndownstream : t->nupstream;
        for (size_t i = 0; i < nn; i++)
            if (mark[next[i]] != gen) {
                mark[next[i]] = gen;
                stack[sp++] = next[i];
            }
    }
}

static int push(size_t **v, size_t *n, size_t x)
{
    size_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return MLF_ENOMEM;
    nv[(*n)++] = x;
    *v = nv;
    return MLF_OK;
}

static int has_teardown(const mlf_dag *dag, const mlf_task *s)
{
    for (size_t i = 0; i < s->ndownstream; i++)
        if (dag->tasks[s->downstream[i]].is_teardown)
            return 1;
    return 0;
}

static int ignorable(const mlf_task *t)
{
    return t->is_teardown && !t->on_failure_fail_dagrun;
}

int mlf_dag_setup_teardown(mlf_dag *dag)
{
    size_t n = dag->ntasks;
    int any_setup = 0, any_leaf = 0;
    for (size_t i = 0; i < n; i++) {
        mlf_task *t = &dag->tasks[i];
        free(t->setups);
        free(t->setup_waiters);
        t->setups = t->setup_waiters = NULL;
        t->nsetups = t->nsetup_waiters = 0;
        any_setup |= t->is_setup;
        /* _tis_for_dagrun_state's is_effective_leaf */
        int leaf = !ignorable(t);
        for (size_t k = 0; k < t->ndownstream && leaf; k++)
            leaf = ignorable(&dag->tasks[t->downstream[k]]);
        t->run_leaf = leaf;
        any_leaf |= leaf;
    }
    if (!any_leaf) /* "can happen if dag is exclusively teardown tasks" */
        for (size_t i = 0; i < n; i++)
            dag->tasks[i].run_leaf = dag->tasks[i].ndownstream == 0;
    if (!any_setup)
        return MLF_OK;
    unsigned *up = calloc(n, sizeof *up), *down = calloc(n, sizeof *down);
    size_t *stack = malloc(n * sizeof *stack);
    int rc = up && down && stack ? MLF_OK : MLF_ENOMEM;
    for (size_t i = 0; i < n && rc == MLF_OK; i++) {
        mlf_task *t = &dag->tasks[i];
        closure(dag, i, 0, up, (unsigned)i + 1, stack);
        closure(dag, i, 1, down, (unsigned)i + 1, stack);
        for (size_t s = 0; s < n && rc == MLF_OK; s++) {
            const mlf_task *st = &dag->tasks[s];
            if (up[s] != (unsigned)i + 1 || !st->is_setup)
                continue;
            /* relevant: the setup has no teardown, or one downstream of t */
            int relevant = !has_teardown(dag, st);
            for (size_t k = 0; k < st->ndownstream && !relevant; k++) {
                size_t td = st->downstream[k];
                relevant = dag->tasks[td].is_teardown && down[td] == (unsigned)i + 1;
            }
            if (!relevant)
                continue;
            rc = push(&t->setups, &t->nsetups, s);
            int direct = 0;
            for (size_t k = 0; k < t->nupstream && !direct; k++)
                direct = t->upstream[k] == s;
            if (rc == MLF_OK && !direct && !t->is_teardown)
                rc = push(&dag->tasks[s].setup_waiters, &dag->tasks[s].nsetup_waiters, i);
        }
    }
    free(up);
    free(down);
    free(stack);
    return rc;
}

int mlf_dag_select_setups_teardowns(const mlf_dag *dag, unsigned char *sel)
{
    size_t n = dag->ntasks;
    unsigned char *add = calloc(n ? n : 1, 1);
    if (!add)
        return MLF_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const mlf_task *t = &dag->tasks[i];
        if (!sel[i])
            continue;
        if (!t->is_setup && !t->is_teardown)
            for (size_t k = 0; k < t->nsetups; k++) {
                const mlf_task *s = &dag->tasks[t->setups[k]];
                add[t->setups[k]] = 1;
                for (size_t d = 0; d < s->ndownstream; d++)
                    if (dag->tasks[s->downstream[d]].is_teardown)
                        add[s->downstream[d]] = 1;
            }
        if (t->is_setup)
            for (size_t d = 0; d < t->ndownstream; d++)
                if (dag->tasks[t->downstream[d]].is_teardown)
                    add[t->downstream[d]] = 1;
    }
    for (size_t i = 0; i < n; i++)
        sel[i] |= add[i];
    free(add);
    return MLF_OK;
}
