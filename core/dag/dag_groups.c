/* dag_groups.c -- task groups in the DAG model (dag.h): Airflow's TaskGroup ids, nesting, roots and leaves. */
#include "dag/dag.h"

#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

char *mlf_dag_child_id(const mlf_dag *dag, long group, const char *label)
{
    if (group < 0 || !dag->groups[group].prefix_group_id)
        return strdup(label);
    return mlf_strdup_printf("%s.%s", dag->groups[group].group_id, label);
}

long mlf_dag_group_index(const mlf_dag *dag, const char *group_id)
{
    for (size_t i = 0; i < dag->ngroups; i++)
        if (strcmp(dag->groups[i].group_id, group_id) == 0)
            return (long)i;
    return -1;
}

int mlf_dag_add_group(mlf_dag *dag, const char *label, long parent, int prefix_group_id, size_t *index)
{
    char *id = mlf_dag_child_id(dag, parent, label);
    if (!id)
        return MLF_ENOMEM;
    if (mlf_dag_group_index(dag, id) >= 0) {
        free(id);
        return MLF_EEXIST;
    }
    mlf_task_group *ng = realloc(dag->groups, (dag->ngroups + 1) * sizeof *ng);
    if (!ng) {
        free(id);
        return MLF_ENOMEM;
    }
    dag->groups = ng;
    mlf_task_group *g = &dag->groups[dag->ngroups];
    memset(g, 0, sizeof *g);
    g->group_id = id;
    g->label = strdup(label);
    if (!g->label) {
        free(id);
        return MLF_ENOMEM;
    }
    g->parent = parent;
    g->prefix_group_id = prefix_group_id;
    g->depth = parent < 0 ? 1 : dag->groups[parent].depth + 1;
    *index = dag->ngroups++;
    return MLF_OK;
}

int mlf_group_within(const mlf_dag *dag, long inner, long outer)
{
    for (long g = inner; g >= 0; g = dag->groups[g].parent)
        if (g == outer)
            return 1;
    return 0;
}

/* Roots (@p up: no upstream inside) or leaves (no downstream inside) of group @p g. */
static size_t ends(const mlf_dag *dag, long g, int up, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < dag->ntasks; i++) {
        const mlf_task *t = &dag->tasks[i];
        if (!mlf_group_within(dag, t->group_index, g))
            continue;
        const size_t *next = up ? t->upstream : t->downstream;
        size_t nnext = up ? t->nupstream : t->ndownstream, k = 0;
        while (k < nnext && !mlf_group_within(dag, dag->tasks[next[k]].group_index, g))
            k++;
        if (k == nnext)
            out[n++] = i;
    }
    return n;
}

size_t mlf_dag_group_roots(const mlf_dag *dag, long g, size_t *out)
{
    return ends(dag, g, 1, out);
}

/* Airflow's recurse_for_first_non_teardown: the upstreams inside @p g of teardown @p ti that are not
 * teardowns (through teardown chains, never along a teardown's edge from a setup), added to out once. */
static void first_non_teardowns(const mlf_dag *dag, long g, size_t ti, size_t *out, size_t *n, int depth)
{
    const mlf_task *t = &dag->tasks[ti];
    for (size_t k = 0; k < t->nupstream && depth < 64; k++) {
        size_t u = t->upstream[k];
        const mlf_task *up = &dag->tasks[u];
        if (!mlf_group_within(dag, up->group_index, g))
            continue;
        if (up->is_teardown) {
            first_non_teardowns(dag, g, u, out, n, depth + 1);
            continue;
        }
        if (t->is_teardown && up->is_setup)
            continue;
        size_t i = 0;
        while (i < *n && out[i] != u)
            i++;
        if (i == *n)
            out[(*n)++] = u;
    }
}

size_t mlf_dag_group_leaves(const mlf_dag *dag, long g, size_t *out)
{
    size_t n = ends(dag, g, 0, out), kept = 0;
    size_t *teardowns = malloc((n ? n : 1) * sizeof *teardowns), nt = 0;
    if (!teardowns)
        return n;
    /* a teardown is not a leaf: the first non-teardowns before it are (get_leaves) */
    for (size_t i = 0; i < n; i++) {
        if (dag->tasks[out[i]].is_teardown)
            teardowns[nt++] = out[i];
        else
            out[kept++] = out[i];
    }
    for (size_t i = 0; i < nt; i++)
        first_non_teardowns(dag, g, teardowns[i], out, &kept, 0);
    free(teardowns);
    return kept;
}
