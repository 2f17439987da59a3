/* dag_templates.c -- templated operator parameters compiled once, when a DAG is finalized, and kept in the
 * DAG model (see dag.h), so that dispatching a task instance renders them without compiling anything. */
#include <stdlib.h>
#include <string.h>

#include "dag/dag.h"

/* 1 when @p s (@p n bytes) has "{{", "{%" or "{#": anything else renders to itself. */
static int has_syntax(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '{' && (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#'))
            return 1;
    return 0;
}

/* 1 when a string inside @p v (itself, or nested in lists and map values) has template syntax. */
static int value_has_syntax(const mlf_value *v)
{
    size_t n;
    switch (mlf_value_type(v)) {
    case MLF_STR: {
        const char *s = mlf_value_get_str(v, &n);
        return has_syntax(s, n);
    }
    case MLF_ARRAY:
        for (size_t i = 0; i < mlf_value_len(v); i++)
            if (value_has_syntax(mlf_array_at(v, i)))
                return 1;
        return 0;
    case MLF_MAP:
        for (size_t i = 0; i < mlf_value_len(v); i++)
            if (value_has_syntax(mlf_map_value_at(v, i)))
                return 1;
        return 0;
    default:
        return 0;
    }
}

void mlf_task_templates_free(mlf_task *t)
{
    for (size_t i = 0; i < t->ntemplates; i++)
        mlf_template_free(t->templates[i].tmpl);
    free(t->templates);
    t->templates = NULL;
    t->ntemplates = 0;
    t->templates_ready = 0;
}

int mlf_dag_compile_templates(mlf_dag *dag)
{
    for (size_t i = 0; i < dag->ntasks; i++) {
        mlf_task *t = &dag->tasks[i];
        mlf_task_templates_free(t);
        if (!t->op)
            continue;
        size_t cap = 0;
        for (const mlf_param_spec *p = t->op->params; p && p->name; p++)
            cap += (p->flags & MLF_PARAM_TEMPLATED) != 0;
        for (const mlf_param_spec *p = t->op->params; p && p->name; p++) {
            const mlf_value *v = mlf_map_get(t->params, p->name);
            if (!(p->flags & MLF_PARAM_TEMPLATED) || !v || !value_has_syntax(v))
                continue;
            if (!t->templates && !(t->templates = calloc(cap, sizeof *t->templates)))
                return MLF_ENOMEM;
            mlf_task_template *e = &t->templates[t->ntemplates++];
            e->param = p->name;
            size_t n;
            const char *s = mlf_value_get_str(v, &n);
            char err[256];
            /* a template that does not compile (the parser reports it) is left to the renderer, which says why */
            if (s && mlf_template_compile(s, n, &e->tmpl, err, sizeof err) != MLF_OK)
                e->tmpl = NULL;
        }
        t->templates_ready = 1;
    }
    return MLF_OK;
}
