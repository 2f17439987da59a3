/* dag_parser.c -- validates DAG files into mlf_dag models, reporting every problem with its position. */
#include "base/ids.h"
#include "dag/dag_parser.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/duration.h"
#include "time/schedule.h"
#include "base/strutil.h"
#include "base/suggest.h"
#include "tmpl/template.h"
#include "tmpl/template_macros.h"
#include "time/timefmt.h"
#include "time/tz.h"
#include "conf/yaml_doc.h"
#include "plugin/operators.h"
#include "plugin/params.h"
#include "dag/dag_params.h"


const char *const mlf_template_context_names[] = {
    "ds", "ds_nodash", "ts", "ts_nodash", "logical_date", "data_interval_start", "data_interval_end",
    "prev_ds", "prev_ds_nodash", "next_ds", "next_ds_nodash", "run_id", "dag_id", "task_id", "try_number",
    "map_index", "params", "var", "conn", "xcom", "dag_run", "ts_nodash_with_tz", "task_instance_key_str",
    "prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success",
    "triggering_asset_events", /* assets (doc/assets.md) */
    NULL};

/* DAG-level keys. */
static const char *const dag_keys[] = {
    "dag_id", "description", "schedule", "start_date", "end_date", "catchup", "max_active_runs",
    "max_active_tasks", "tags", "params", "default_args", "on_failure_callback", "on_success_callback",
    "timezone", "doc_md", "is_paused_upon_creation", "dagrun_timeout", "tasks", "groups",
    "assets", /* assets (doc/assets.md) */
    NULL};

/* Keys of a task group under `groups:` (Airflow's TaskGroup arguments, and what it holds). */
static const char *const group_keys[] = {"tooltip", "prefix_group_id", "default_args", "upstream", "tasks", "groups",
                                         NULL};

/* Nesting bound of task groups (each level also lengthens the ids inside it). */
#define GROUP_DEPTH_MAX 32

/* Parsed defaults of one operator's parameter table, cached per descriptor. */
typedef struct defaults_cache {
    const mlf_operator_desc *op;
    mlf_value *defaults; /* map name -> typed default, or NULL when a default is malformed */
    char *problem;       /* why a default is malformed */
    struct defaults_cache *next;
} defaults_cache;

struct mlf_dag_parser {
    const mlf_catalog *cat;
    const char **op_names;
    size_t nops;
    defaults_cache *cache;
};

/* One file's parse state. */
typedef struct pctx {
    mlf_dag_parser *p;
    const char *file;
    mlf_diag *diag;
    size_t errors;
    mlf_dag *dag;
    const mlf_tz *tz;
    /* default_args in force: the DAG's, then those of each enclosing task group (innermost last) */
    const mlf_yaml_node *dargs[GROUP_DEPTH_MAX + 1];
    size_t ndargs;
    long scope;      /* the task group whose tasks are being parsed, -1 at the top */
    size_t cur_task; /* the task being parsed */
    /* references resolved once every task is known: upstream names and xcom.TASK in templates. An upstream
     * name is looked up from group `scope` outwards; it belongs to task `task`, or to group `down_group`
     * (a group's own upstream, task is SIZE_MAX). */
    struct pending {
        size_t task;
        char *name;
        const mlf_yaml_node *node;
        long scope, down_group;
    } *ups, *xrefs, *erefs, *tdowns; /* tdowns: the names in a setup's `teardowns:` */
    size_t ntdowns, captdowns;
    /* per task index: the task's own trigger_rule node (NULL when it has none of its own) */
    const mlf_yaml_node **tr_node;
    size_t ntr_node;
    size_t nups, capups, nxrefs, capxrefs, nerefs, caperefs; /* erefs: xcom.TASK in `expand` */
} pctx;

static void perr(pctx *c, const mlf_yaml_node *n, const char *fmt, ...) MLF_PRINTF(3, 4);
static void perr(pctx *c, const mlf_yaml_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_diag_vadd(c->diag, c->file, n ? (int)n->line : 0, n ? (int)n->col : 0, fmt, ap);
    va_end(ap);
    c->errors++;
}

static size_t list_len(const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

/* " (did you mean 'x'?)" or "" into @p buf. */
static const char *did_you_mean(const char *word, const char *const *cands, size_t n, char *buf, size_t len)
{
    const char *s = n ? mlf_suggest(word, cands, n) : NULL;
    if (s && strcmp(s, word) != 0)
        snprintf(buf, len, " (did you mean '%s'?)", s);
    else
        buf[0] = '\0';
    return buf;
}

/* Airflow spellings people type out of habit, with mlflowd's (doc/dags.md): an operator, a task key or a
 * template variable. Each is a load error that names the mlflowd spelling. */
typedef struct habit {
    char kind; /* 'o' operator, 'k' task key, 'v' template variable */
    const char *airflow, *mlflowd;
} habit;

static const habit habits[] = {
    {'o', "bash", "shell"},
    {'o', "BashOperator", "shell"},
    {'o', "PythonOperator", "python"},
    {'o', "EmptyOperator", "empty"},
    {'o', "DummyOperator", "empty"},
    {'o', "BranchPythonOperator", "branch"},
    {'o', "SqliteOperator", "sql"},
    {'o', "SimpleHttpOperator", "http"},
    {'o', "HttpOperator", "http"},
    {'o', "FileSensor", "file_sensor"},
    {'k', "bash_command", "'command'"},
    {'k', "python_callable", "'script' (the path of a Python file; op_kwargs reach it in the context)"},
    {'k', "task_id", "the task's key under tasks:"},
    {'k', "depends_on", "'upstream'"},
    {'v', "execution_date", "'logical_date'"},
    {'v', "next_execution_date", "'data_interval_end'"},
    {'v', "ti", "xcom.TASK (ti.xcom_pull(task_ids='extract') is {{ xcom.extract }})"},
    {'v', "task_instance", "xcom.TASK (task_instance.xcom_pull(task_ids='extract') is {{ xcom.extract }})"},
};

/* The mlflowd spelling of Airflow's @p name of @p kind, or NULL. */
static const char *habit_hint(char kind, const char *name)
{
    for (size_t i = 0; i < sizeof habits / sizeof habits[0]; i++)
        if (habits[i].kind == kind && strcmp(habits[i].airflow, name) == 0)
            return habits[i].mlflowd;
    return NULL;
}

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ scalar readers */

static int is_scalar(const mlf_yaml_node *n)
{
    return n && n->kind == MLF_YAML_SCALAR;
}

/* A non-null scalar's text, or NULL after reporting "KEY: expected WHAT, got ...". */
static const char *want_text(pctx *c, const mlf_yaml_node *n, const char *key, const char *what)
{
    if (!is_scalar(n) || mlf_yaml_is_null(n)) {
        perr(c, n, "%s: expected %s, got %s", key, what, mlf_yaml_describe(n));
        return NULL;
    }
    return n->text;
}

static char *want_strdup(pctx *c, const mlf_yaml_node *n, const char *key)
{
    const char *t = want_text(c, n, key, "a string");
    return t ? strdup(t) : NULL;
}

static int want_bool(pctx *c, const mlf_yaml_node *n, const char *key, int *out)
{
    if (is_scalar(n) && strcmp(mlf_yaml_describe(n), "bool") == 0) {
        mlf_value *v = NULL;
        char err[256];
        if (mlf_yaml_scalar_to_value(n, &v, err, sizeof err) == MLF_OK && mlf_value_get_bool(v, out) == MLF_OK) {
            mlf_value_free(v);
            return 1;
        }
        mlf_value_free(v);
    }
    perr(c, n, "%s: expected true or false, got %s", key, mlf_yaml_describe(n));
    return 0;
}

static int want_int(pctx *c, const mlf_yaml_node *n, const char *key, int64_t min, int64_t max, int64_t *out)
{
    if (is_scalar(n) && strcmp(mlf_yaml_describe(n), "int") == 0) {
        mlf_value *v = NULL;
        char err[256];
        int rc = mlf_yaml_scalar_to_value(n, &v, err, sizeof err);
        int64_t i = 0;
        if (rc == MLF_OK && mlf_value_get_int(v, &i) == MLF_OK) {
            mlf_value_free(v);
            if (i < min || i > max) {
                perr(c, n, "%s: %lld is out of range %lld..%lld", key, (long long)i, (long long)min, (long long)max);
                return 0;
            }
            *out = i;
            return 1;
        }
        mlf_value_free(v);
    }
    perr(c, n, "%s: expected an integer, got %s", key, mlf_yaml_describe(n));
    return 0;
}

/* Durations: "30s", "5m", "PT5M", or a number of seconds. null means 0 (none) when @p null_ok. */
static int want_duration(pctx *c, const mlf_yaml_node *n, const char *key, int null_ok, int64_t *out)
{
    if (null_ok && mlf_yaml_is_null(n)) {
        *out = 0;
        return 1;
    }
    if (!is_scalar(n) || mlf_yaml_is_null(n)) {
        perr(c, n, "%s: expected a duration such as 30s, 5m, 2h, 1d or PT5M, got %s", key, mlf_yaml_describe(n));
        return 0;
    }
    char err[256];
    if (mlf_duration_parse(n->text, out, err, sizeof err) != MLF_OK) {
        perr(c, n, "%s: %s", key, err);
        return 0;
    }
    return 1;
}

/* Dates: "2024-01-01", RFC 3339 timestamps; a date without an offset is in the DAG's time zone. */
static int want_date(pctx *c, const mlf_yaml_node *n, const char *key, mlf_time_us *out)
{
    const char *t = want_text(c, n, key, "a date (2024-01-01) or a timestamp (2024-01-01T06:00:00Z)");
    if (!t)
        return 0;
    char err[256];
    if (mlf_time_parse(t, c->tz, out, err, sizeof err) != MLF_OK) {
        perr(c, n, "%s: %s", key, err);
        return 0;
    }
    return 1;
}

/* Records a name to resolve once every task is known (copied: template refs die with their template). */
static void add_pending(struct pending **v, size_t *n, size_t *cap, size_t task, const char *name,
                        const mlf_yaml_node *node)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct pending *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return;
        *v = nv;
        *cap = nc;
    }
    char *copy = strdup(name);
    if (copy)
        (*v)[(*n)++] = (struct pending){task, copy, node, -1, -1};
}

static void free_pending(struct pending *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* ------------------------------------------------------------------ templates */

static int has_template_syntax(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '{' && (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#'))
            return 1;
    return 0;
}

/* Compiles template @p text (at node @p n, for parameter @p key of task @p task_id) and checks the names it
 * uses: context variables, and tasks named by xcom.TASK. Returns 1 when valid. */
static int check_template(pctx *c, const mlf_yaml_node *n, const char *task_id, const char *key, const char *text,
                          size_t len)
{
    if (!has_template_syntax(text, len))
        return 1;
    mlf_template *t = NULL;
    char err[512];
    if (mlf_template_compile(text, len, &t, err, sizeof err) != MLF_OK) {
        if (memmem(text, len, "xcom_pull(", 10)) /* Airflow's ti.xcom_pull(task_ids='x') */
            perr(c, n, "task '%s': %s: template calls Airflow's xcom_pull(); mlflowd's is %s", task_id, key,
                 habit_hint('v', "ti"));
        else
            perr(c, n, "task '%s': %s: template does not parse: %s", task_id, key, err);
        return 0;
    }
    const mlf_template_ref *refs;
    size_t nrefs = 0;
    int ok = 1;
    mlf_template_refs(t, &refs, &nrefs);
    for (size_t i = 0; i < nrefs; i++) {
        const mlf_template_ref *r = &refs[i];
        char dym[160];
        if (r->kind == MLF_TEMPLATE_REF_MACRO) {
            /* a macro must exist: registered by a plugin, or built in */
            if (mlf_catalog_find(c->p->cat, MLF_REG_MACRO, r->name))
                continue;
            size_t nb = 0, nm = 0;
            const mlf_macro_desc *builtins = mlf_template_builtin_macros(&nb);
            int found = 0;
            for (size_t b = 0; b < nb && !found; b++)
                found = strcmp(builtins[b].name, r->name) == 0;
            if (found)
                continue;
            const char **names = mlf_catalog_names(c->p->cat, MLF_REG_MACRO, &nm);
            const char **all = malloc((nm + nb + 1) * sizeof *all);
            size_t na = 0;
            for (size_t b = 0; all && b < nb; b++)
                all[na++] = builtins[b].name;
            for (size_t m = 0; all && m < nm; m++)
                all[na++] = names[m];
            perr(c, n, "task '%s': %s: template calls unknown macro '%s'%s", task_id, key, r->name,
                 all ? did_you_mean(r->name, all, na, dym, sizeof dym) : "");
            free(all);
            free(names);
            ok = 0;
            continue;
        }
        const char *hint = in_list(r->name, mlf_template_context_names) ? NULL : habit_hint('v', r->name);
        if (hint) {
            perr(c, n, "task '%s': %s: template uses Airflow's '%s'; mlflowd's is %s", task_id, key, r->name, hint);
            ok = 0;
        } else if (!in_list(r->name, mlf_template_context_names)) {
            perr(c, n, "task '%s': %s: template uses unknown variable '%s'%s", task_id, key, r->name,
                 did_you_mean(r->name, mlf_template_context_names, list_len(mlf_template_context_names), dym,
                              sizeof dym));
            ok = 0;
        } else if (strcmp(r->name, "xcom") == 0 && r->npath > 0) {
            add_pending(&c->xrefs, &c->nxrefs, &c->capxrefs, c->cur_task, r->path[0], n);
            if (strcmp(key, "expand") == 0)
                add_pending(&c->erefs, &c->nerefs, &c->caperefs, c->cur_task, r->path[0], n);
        }
    }
    mlf_template_free(t);
    return ok;
}

/* Checks every string inside @p v (lists and maps) as a template. */
static int check_templates_in_value(pctx *c, const mlf_yaml_node *n, const char *task_id, const char *key,
                                    const mlf_value *v)
{
    switch (mlf_value_type(v)) {
    case MLF_STR: {
        size_t len;
        const char *s = mlf_value_get_str(v, &len);
        return check_template(c, n, task_id, key, s, len);
    }
    case MLF_ARRAY: {
        int ok = 1;
        for (size_t i = 0; i < mlf_value_len(v); i++)
            ok &= check_templates_in_value(c, n, task_id, key, mlf_array_at(v, i));
        return ok;
    }
    case MLF_MAP: {
        int ok = 1;
        for (size_t i = 0; i < mlf_value_len(v); i++)
            ok &= check_templates_in_value(c, n, task_id, key, mlf_map_value_at(v, i));
        return ok;
    }
    default:
        return 1;
    }
}

/* ------------------------------------------------------------------ operator parameters */

/* Converts YAML node @p n into a value of parameter @p spec's type (params.h). */
static mlf_value *param_value(const mlf_param_spec *spec, const mlf_yaml_node *n, char *why, size_t whylen)
{
    return mlf_param_from_node(spec, n, why, whylen);
}

/* Typed defaults of @p op's parameters (cached). Returns the map (borrowed) or NULL with *problem set. */
static const mlf_value *op_defaults(mlf_dag_parser *p, const mlf_operator_desc *op, const char **problem)
{
    for (defaults_cache *d = p->cache; d; d = d->next)
        if (d->op == op) {
            *problem = d->problem;
            return d->defaults;
        }
    defaults_cache *d = calloc(1, sizeof *d);
    if (!d) {
        *problem = "out of memory";
        return NULL;
    }
    d->op = op;
    d->defaults = mlf_value_map();
    for (const mlf_param_spec *s = op->params; s && s->name && d->defaults; s++) {
        if (!s->default_value || (s->flags & MLF_PARAM_REQUIRED))
            continue;
        char why[512];
        mlf_value *v = mlf_param_from_text(s, s->default_value, why, sizeof why);
        if (!v) {
            d->problem = mlf_strdup_printf("operator '%s' declares an invalid default for '%s' (%s): %s", op->name,
                                           s->name, s->default_value, why);
            mlf_value_free(d->defaults);
            d->defaults = NULL;
            break;
        }
        mlf_map_set(d->defaults, s->name, v);
    }
    d->next = p->cache;
    p->cache = d;
    *problem = d->problem ? d->problem : (d->defaults ? NULL : "out of memory");
    return d->defaults;
}

static const mlf_param_spec *find_param(const mlf_operator_desc *op, const char *name)
{
    for (const mlf_param_spec *s = op->params; s && s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* ------------------------------------------------------------------ tasks */

/* A callback: a notifier name, or a mapping {notifier: NAME, key: value...} whose other keys are the
 * notifier's parameters (checked against its table). Returns a new map {notifier, config} or NULL. */
static mlf_value *parse_callback(pctx *c, const mlf_yaml_node *n, const char *key)
{
    const mlf_yaml_node *namenode = n;
    if (n->kind == MLF_YAML_MAPPING) {
        namenode = mlf_yaml_map_get(n, "notifier");
        if (!namenode) {
            perr(c, n, "%s: a mapping needs the key 'notifier' (the notifier plugin to call)", key);
            return NULL;
        }
    }
    const char *name = want_text(c, namenode, key, "a notifier name or {notifier: NAME, ...}");
    if (!name)
        return NULL;
    const mlf_reg_entry *e = mlf_catalog_find(c->p->cat, MLF_REG_NOTIFIER, name);
    if (!e) {
        size_t nn = 0;
        const char **names = mlf_catalog_names(c->p->cat, MLF_REG_NOTIFIER, &nn);
        char dym[160];
        perr(c, namenode, "%s: no notifier plugin named '%s' is loaded%s", key, name,
             did_you_mean(name, names, nn, dym, sizeof dym));
        free(names);
        return NULL;
    }
    const mlf_notifier_desc *nd = e->desc;
    mlf_value *config = mlf_value_map();
    int bad = 0;
    for (size_t i = 0; n->kind == MLF_YAML_MAPPING && i < n->n && config; i++) {
        const mlf_yaml_node *k = n->items[i];
        if (strcmp(k->text, "notifier") == 0)
            continue;
        const mlf_param_spec *spec = NULL;
        for (const mlf_param_spec *ps = nd->params; ps && ps->name && !spec; ps++)
            if (strcmp(ps->name, k->text) == 0)
                spec = ps;
        if (!spec) {
            const char *cands[128];
            size_t nc = 0;
            for (const mlf_param_spec *ps = nd->params; ps && ps->name && nc < 128; ps++)
                cands[nc++] = ps->name;
            char dym[160];
            perr(c, k, "%s: unknown key '%s' for notifier '%s'%s", key, k->text, name,
                 did_you_mean(k->text, cands, nc, dym, sizeof dym));
            bad = 1;
            continue;
        }
        char why[600];
        mlf_value *v = param_value(spec, n->values[i], why, sizeof why);
        if (!v) {
            perr(c, n->values[i], "%s: %s: %s", key, k->text, why);
            bad = 1;
            continue;
        }
        mlf_map_set(config, k->text, v);
    }
    for (const mlf_param_spec *ps = nd->params; ps && ps->name && config; ps++)
        if ((ps->flags & MLF_PARAM_REQUIRED) && !mlf_map_get(config, ps->name)) {
            perr(c, n, "%s: notifier '%s' requires '%s'", key, name, ps->name);
            bad = 1;
        }
    mlf_value *cb = bad || !config ? NULL : mlf_value_map();
    if (cb) {
        mlf_map_set(cb, "notifier", mlf_value_str(name));
        mlf_map_set(cb, "config", config);
    } else {
        mlf_value_free(config);
    }
    return cb;
}

/* executor_config: {EXECUTOR: {key: value...}}: each EXECUTOR a loaded executor, each key one of its
 * task_params (ABI 1.3), each value of the declared type. Returns a new map or NULL (errors reported). */
static mlf_value *parse_executor_config(pctx *c, const mlf_yaml_node *n)
{
    if (n->kind != MLF_YAML_MAPPING) {
        perr(c, n, "executor_config: expected a mapping {EXECUTOR: {key: value}}, got %s", mlf_yaml_describe(n));
        return NULL;
    }
    mlf_value *all = mlf_value_map();
    int bad = !all;
    for (size_t i = 0; all && i < n->n; i++) {
        const char *name = n->items[i]->text;
        const mlf_yaml_node *m = n->values[i];
        const mlf_reg_entry *e = mlf_catalog_find(c->p->cat, MLF_REG_EXECUTOR, name);
        if (!e) {
            size_t ne = 0;
            const char **names = mlf_catalog_names(c->p->cat, MLF_REG_EXECUTOR, &ne);
            char dym[160];
            perr(c, n->items[i], "executor_config: no executor plugin named '%s' is loaded%s", name,
                 did_you_mean(name, names, ne, dym, sizeof dym));
            free(names);
            bad = 1;
            continue;
        }
        const mlf_executor_desc *ed = e->desc;
        if (m->kind != MLF_YAML_MAPPING) {
            perr(c, m, "executor_config.%s: expected a mapping of the executor's task settings, got %s", name,
                 mlf_yaml_describe(m));
            bad = 1;
            continue;
        }
        mlf_value *one = mlf_value_map();
        for (size_t k = 0; one && k < m->n; k++) {
            const mlf_yaml_node *key = m->items[k];
            const mlf_param_spec *spec = mlf_params_find(ed->task_params, key->text);
            if (!spec) {
                const char *cands[128];
                size_t nc = mlf_params_names(ed->task_params, cands, 128);
                char dym[160];
                if (nc)
                    perr(c, key, "executor_config.%s: unknown key '%s'%s (known: the executor's task params, "
                         "`mlflowd plugins list`)", name, key->text, did_you_mean(key->text, cands, nc, dym, sizeof dym));
                else
                    perr(c, key, "executor_config.%s: executor '%s' takes no task settings", name, name);
                bad = 1;
                continue;
            }
            char why[600];
            mlf_value *v = param_value(spec, m->values[k], why, sizeof why);
            if (!v) {
                perr(c, m->values[k], "executor_config.%s.%s: %s", name, key->text, why);
                bad = 1;
                continue;
            }
            mlf_map_set(one, key->text, v);
        }
        if (one)
            mlf_map_set(all, name, one);
        else
            bad = 1;
    }
    if (bad) {
        mlf_value_free(all);
        return NULL;
    }
    return all;
}

static void set_callback(pctx *c, mlf_value **slot, const mlf_yaml_node *n, const char *key)
{
    mlf_value *cb = parse_callback(c, n, key);
    if (cb) {
        mlf_value_free(*slot);
        *slot = cb;
    }
}

static void set_str(char **slot, char *value)
{
    if (value) {
        free(*slot);
        *slot = value;
    }
}

/* Records upstream name @p n of task @p task (or of group @p down_group when task is SIZE_MAX), to be looked
 * up from group @p scope outwards once everything is known. */
static void add_upstream_of(pctx *c, size_t task, long down_group, long scope, const mlf_yaml_node *n)
{
    size_t before = c->nups;
    add_pending(&c->ups, &c->nups, &c->capups, task, n->text, n);
    if (c->nups > before) {
        c->ups[before].scope = scope;
        c->ups[before].down_group = down_group;
    }
}

static void add_upstream(pctx *c, size_t task, const mlf_yaml_node *n)
{
    add_upstream_of(c, task, -1, c->scope, n);
}

/* Records name @p n of task @p task in list @p v, looked up from the current group outwards. */
static void add_upstream_list(pctx *c, struct pending **v, size_t *nv, size_t *cap, size_t task,
                              const mlf_yaml_node *n)
{
    size_t before = *nv;
    add_pending(v, nv, cap, task, n->text, n);
    if (*nv > before)
        (*v)[before].scope = c->scope;
}

/* The innermost default_args entry for @p key, or NULL. */
static const mlf_yaml_node *darg_get(const pctx *c, const char *key)
{
    for (size_t l = c->ndargs; l-- > 0;) {
        const mlf_yaml_node *v = mlf_yaml_map_get(c->dargs[l], key);
        if (v)
            return v;
    }
    return NULL;
}

/* Applies one core task key. Returns 1 when @p key is a core key (valid or not), 0 when it is not. */
static int apply_core_key(pctx *c, size_t ti, const char *key, const mlf_yaml_node *v)
{
    mlf_task *t = &c->dag->tasks[ti];
    int64_t i;
    int b;
    if (strcmp(key, "operator") == 0)
        return 1; /* handled first */
    if (strcmp(key, "upstream") == 0) {
        if (is_scalar(v) && !mlf_yaml_is_null(v)) {
            add_upstream(c, ti, v);
        } else if (v->kind == MLF_YAML_SEQUENCE) {
            for (size_t k = 0; k < v->n; k++)
                if (want_text(c, v->items[k], "upstream", "a task id"))
                    add_upstream(c, ti, v->items[k]);
        } else if (!mlf_yaml_is_null(v)) {
            perr(c, v, "upstream: expected a task id or a list of task ids, got %s", mlf_yaml_describe(v));
        }
    } else if (strcmp(key, "trigger_rule") == 0) {
        const char *name = want_text(c, v, key, "a trigger rule");
        mlf_trigger_rule r;
        char dym[160];
        if (name && mlf_trigger_rule_parse(name, &r) == MLF_OK)
            t->trigger_rule = r;
        else if (name)
            perr(c, v, "unknown trigger rule '%s'%s", name,
                 did_you_mean(name, mlf_trigger_rule_names, MLF_TR_COUNT, dym, sizeof dym));
    } else if (strcmp(key, "weight_rule") == 0) {
        const char *name = want_text(c, v, key, "downstream, upstream or absolute");
        mlf_weight_rule r;
        char dym[160];
        if (name && mlf_weight_rule_parse(name, &r) == MLF_OK)
            t->weight_rule = r;
        else if (name)
            perr(c, v, "unknown weight rule '%s'%s (use downstream, upstream or absolute)", name,
                 did_you_mean(name, mlf_weight_rule_names, MLF_WR_COUNT, dym, sizeof dym));
    } else if (strcmp(key, "retries") == 0) {
        if (want_int(c, v, key, 0, 1000, &i))
            t->retries = (int)i;
    } else if (strcmp(key, "retry_delay") == 0) {
        want_duration(c, v, key, 0, &t->retry_delay_us);
    } else if (strcmp(key, "retry_exponential_backoff") == 0) {
        if (want_bool(c, v, key, &b))
            t->retry_exponential_backoff = b;
    } else if (strcmp(key, "max_retry_delay") == 0) {
        want_duration(c, v, key, 1, &t->max_retry_delay_us);
    } else if (strcmp(key, "execution_timeout") == 0) {
        want_duration(c, v, key, 1, &t->execution_timeout_us);
    } else if (strcmp(key, "depends_on_past") == 0) {
        if (want_bool(c, v, key, &b))
            t->depends_on_past = b;
    } else if (strcmp(key, "wait_for_downstream") == 0) {
        if (want_bool(c, v, key, &b)) {
            t->wait_for_downstream = b;
            if (b) /* as in Airflow: waiting for the previous run's downstream implies depends_on_past */
                t->depends_on_past = 1;
        }
    } else if (strcmp(key, "pool") == 0) {
        set_str(&t->pool, want_strdup(c, v, key));
    } else if (strcmp(key, "pool_slots") == 0) {
        if (want_int(c, v, key, 1, 1000000, &i))
            t->pool_slots = (int)i;
    } else if (strcmp(key, "queue") == 0) {
        set_str(&t->queue, want_strdup(c, v, key));
    } else if (strcmp(key, "priority_weight") == 0) {
        if (want_int(c, v, key, -1000000, 1000000, &i))
            t->priority_weight = (int)i;
    } else if (strcmp(key, "group") == 0) {
        return 1; /* handled before the task is added: it decides the task's id */
    } else if (strcmp(key, "doc") == 0) {
        set_str(&t->doc, want_strdup(c, v, key));
    } else if (strcmp(key, "owner") == 0) {
        set_str(&t->owner, want_strdup(c, v, key));
    } else if (strcmp(key, "email") == 0 || strcmp(key, "email_on_failure") == 0 ||
               strcmp(key, "email_on_retry") == 0) {
        perr(c, v, "task '%s': %s is not supported yet; mail through the email notifier instead: "
             "on_failure_callback: {notifier: email, to: [ADDRESS]} (on_retry_callback likewise)", t->task_id, key);
    } else if (strcmp(key, "setup") == 0) {
        if (want_bool(c, v, key, &b))
            t->is_setup = b;
    } else if (strcmp(key, "teardown") == 0) {
        if (want_bool(c, v, key, &b))
            t->is_teardown = b;
    } else if (strcmp(key, "on_failure_fail_dagrun") == 0) {
        if (want_bool(c, v, key, &b))
            t->on_failure_fail_dagrun = b;
    } else if (strcmp(key, "teardowns") == 0) {
        /* Airflow's teardown.as_teardown(setups=this): this task is a setup, each named task its teardown */
        if (is_scalar(v) && !mlf_yaml_is_null(v)) {
            t->is_setup = 1;
            add_upstream_list(c, &c->tdowns, &c->ntdowns, &c->captdowns, ti, v);
        } else if (v->kind == MLF_YAML_SEQUENCE) {
            t->is_setup = 1;
            for (size_t k = 0; k < v->n; k++)
                if (want_text(c, v->items[k], "teardowns", "a task id"))
                    add_upstream_list(c, &c->tdowns, &c->ntdowns, &c->captdowns, ti, v->items[k]);
        } else if (!mlf_yaml_is_null(v)) {
            perr(c, v, "teardowns: expected a task id or a list of task ids, got %s", mlf_yaml_describe(v));
        }
    } else if (strcmp(key, "sla") == 0) {
        perr(c, v, "task '%s': sla is not supported: Airflow 3 replaced SLAs by deadline alerts, which mlflowd "
             "does not have yet; bound the task with execution_timeout (the run with dagrun_timeout) and an "
             "on_failure_callback", t->task_id);
    } else if (strcmp(key, "on_failure_callback") == 0) {
        set_callback(c, &t->on_failure_callback, v, key);
    } else if (strcmp(key, "on_success_callback") == 0) {
        set_callback(c, &t->on_success_callback, v, key);
    } else if (strcmp(key, "on_retry_callback") == 0) {
        set_callback(c, &t->on_retry_callback, v, key);
    } else if (strcmp(key, "executor_config") == 0) {
        mlf_value *ec = parse_executor_config(c, v);
        if (ec) {
            mlf_value_free(t->executor_config);
            t->executor_config = ec;
        }
    } else if (strcmp(key, "expand") == 0) {
        return 1; /* handled after the operator parameters */
    } else if (strcmp(key, "outlets") == 0) { /* assets (doc/assets.md) */
        mlf_asset_strv_free(t->outlets, t->noutlets);
        c->errors += mlf_asset_parse_outlets(v, c->file, t->task_id, c->diag, &t->outlets, &t->noutlets);
    } else {
        return 0;
    }
    return 1;
}

/* Sensor keys (mode, poke_interval, timeout, soft_fail, exponential_backoff). */
static int apply_sensor_key(pctx *c, size_t ti, const char *key, const mlf_yaml_node *v)
{
    mlf_task *t = &c->dag->tasks[ti];
    int b;
    if (strcmp(key, "mode") == 0) {
        const char *m = want_text(c, v, key, "poke or reschedule");
        if (m && strcmp(m, "poke") == 0)
            t->sensor.mode = MLF_SENSOR_POKE;
        else if (m && strcmp(m, "reschedule") == 0)
            t->sensor.mode = MLF_SENSOR_RESCHEDULE;
        else if (m)
            perr(c, v, "mode: expected poke or reschedule, got '%s'", m);
    } else if (strcmp(key, "poke_interval") == 0) {
        want_duration(c, v, key, 0, &t->sensor.poke_interval_us);
    } else if (strcmp(key, "timeout") == 0) {
        want_duration(c, v, key, 0, &t->sensor.timeout_us);
    } else if (strcmp(key, "soft_fail") == 0) {
        if (want_bool(c, v, key, &b))
            t->sensor.soft_fail = b;
    } else if (strcmp(key, "exponential_backoff") == 0) {
        if (want_bool(c, v, key, &b))
            t->sensor.exponential_backoff = b;
    } else {
        return 0;
    }
    return 1;
}

static int is_sensor_key(const char *key)
{
    for (const mlf_param_spec *s = mlf_sensor_params; s->name; s++)
        if (strcmp(s->name, key) == 0)
            return 1;
    return 0;
}

/* 1 when @p v holds template syntax anywhere (a string, or one inside a list or map): known at try time. */
static int is_templated(const mlf_value *v)
{
    size_t len = 0;
    const char *str = mlf_value_type(v) == MLF_STR ? mlf_value_get_str(v, &len) : NULL;
    if (str)
        return strstr(str, "{{") || strstr(str, "{%");
    if (mlf_value_type(v) != MLF_ARRAY && mlf_value_type(v) != MLF_MAP)
        return 0;
    for (size_t i = 0; i < mlf_value_len(v); i++)
        if (is_templated(mlf_value_type(v) == MLF_MAP ? mlf_map_value_at(v, i) : mlf_array_at(v, i)))
            return 1;
    return 0;
}

/* Calls @p op's load-time validate() hook (ABI 1.2) with the current task's literal parameters and the
 * operator's settings; a refusal is reported at the parameter it names (else at the task id @p idnode). */
static void validate_task(pctx *c, const mlf_task *t, const mlf_operator_desc *op, const mlf_yaml_node *tn,
                          const mlf_yaml_node *idnode)
{
    mlf_value *literal = mlf_value_map(), *defaults = NULL;
    const mlf_value *settings = mlf_operator_settings(c->p->cat, op->name);
    char err[512] = "";
    if (!settings && mlf_params_defaults(op->settings, &defaults, err, sizeof err) == MLF_OK)
        settings = defaults;
    for (size_t i = 0; literal && i < mlf_value_len(t->params); i++)
        if (!is_templated(mlf_map_value_at(t->params, i)))
            mlf_map_set(literal, mlf_map_key_at(t->params, i), mlf_value_copy(mlf_map_value_at(t->params, i)));
    const char *param = NULL;
    if (!literal || !settings) {
        perr(c, idnode, "task '%s': operator '%s': %s", t->task_id, op->name, *err ? err : "out of memory");
    } else if (op->validate(literal, settings, &param, err, sizeof err, op->data) != MLF_OK) {
        const mlf_yaml_node *at = param ? mlf_yaml_map_get(tn, param) : NULL;
        if (!at && param)
            at = darg_get(c, param);
        perr(c, at ? at : idnode, "task '%s': %s%s%s", t->task_id, param && at ? param : "", param && at ? ": " : "",
             *err ? err : "refused by its operator");
    }
    mlf_value_free(literal);
    mlf_value_free(defaults);
}

/* Candidates for "did you mean" on an unknown task key: core keys, sensor keys, the operator's params. */
static void unknown_task_key(pctx *c, const mlf_task *t, const mlf_operator_desc *op, const mlf_yaml_node *keynode)
{
    const char *cands[512];
    size_t n = 0;
    for (const char *const *k = mlf_core_task_keys; *k && n < 400; k++)
        cands[n++] = *k;
    if (op->flags & MLF_OP_SENSOR)
        for (const mlf_param_spec *s = mlf_sensor_params; s->name; s++)
            cands[n++] = s->name;
    for (const mlf_param_spec *s = op->params; s && s->name && n < 512; s++)
        cands[n++] = s->name;
    char dym[160];
    const char *hint = habit_hint('k', keynode->text);
    if (hint)
        perr(c, keynode, "task '%s': unknown key '%s' for operator '%s': that is Airflow's name; mlflowd's is %s",
             t->task_id, keynode->text, t->operator_name, hint);
    else
        perr(c, keynode, "task '%s': unknown key '%s' for operator '%s'%s", t->task_id, keynode->text,
             t->operator_name, did_you_mean(keynode->text, cands, n, dym, sizeof dym));
}

/* ------------------------------------------------------------------ cache (doc/caching.md) */

/* cache: auto | false | {key: TEMPLATE | auto, ttl: DURATION}. A sensor's or a branch's try is never cached:
 * from default_args the key is ignored for them, on the task itself it is an error. */
static void apply_cache(pctx *c, size_t ti, const mlf_operator_desc *op, const mlf_yaml_node *v, int from_defaults)
{
    mlf_task *t = &c->dag->tasks[ti];
    static const char *const cache_keys[] = {"key", "ttl", NULL};
    const char *what = "cache: expected auto, false, or a mapping {key: TEMPLATE or auto, ttl: DURATION}";
    mlf_template_free(t->cache_key);
    t->cache_key = NULL;
    t->cache_mode = MLF_CACHE_NONE;
    t->cache_ttl_us = 0;
    if (mlf_yaml_is_null(v))
        return;
    if (is_scalar(v) && strcmp(mlf_yaml_describe(v), "bool") == 0) {
        int b = 1;
        if (want_bool(c, v, "cache", &b) && b)
            perr(c, v, "task '%s': %s, got true", t->task_id, what);
        return;
    }
    const mlf_yaml_node *keyn = NULL, *ttln = NULL;
    if (is_scalar(v)) {
        keyn = v;
        if (strcmp(v->text, "auto") != 0) {
            perr(c, v, "task '%s': %s, got '%s'", t->task_id, what, v->text);
            return;
        }
    } else if (v->kind == MLF_YAML_MAPPING) {
        for (size_t i = 0; i < v->n; i++) {
            char dym[160];
            if (!in_list(v->items[i]->text, cache_keys))
                perr(c, v->items[i], "task '%s': cache: unknown key '%s'%s (cache takes key and ttl)", t->task_id,
                     v->items[i]->text, did_you_mean(v->items[i]->text, cache_keys, 2, dym, sizeof dym));
        }
        keyn = mlf_yaml_map_get(v, "key");
        ttln = mlf_yaml_map_get(v, "ttl");
        if (!keyn) {
            perr(c, v, "task '%s': cache: 'key' is missing (a template, or auto)", t->task_id);
            return;
        }
    } else {
        perr(c, v, "task '%s': %s, got %s", t->task_id, what, mlf_yaml_describe(v));
        return;
    }
    if ((op->flags & (MLF_OP_SENSOR | MLF_OP_BRANCH))) {
        if (!from_defaults)
            perr(c, v, "task '%s': cache: a %s's try is never cached (it %s)", t->task_id,
                 (op->flags & MLF_OP_SENSOR) ? "sensor" : "branch",
                 (op->flags & MLF_OP_SENSOR) ? "waits for something outside mlflowd" : "chooses the path to follow");
        return;
    }
    if (ttln && !mlf_yaml_is_null(ttln) && !want_duration(c, ttln, "cache.ttl", 0, &t->cache_ttl_us))
        return;
    if (ttln && !mlf_yaml_is_null(ttln) && t->cache_ttl_us <= 0) {
        perr(c, ttln, "task '%s': cache.ttl: must be longer than 0 (leave it out: entries last until purged)",
             t->task_id);
        return;
    }
    const char *text = want_text(c, keyn, "cache.key", "a template or auto");
    if (!text)
        return;
    if (strcmp(text, "auto") == 0) {
        t->cache_mode = MLF_CACHE_AUTO;
        return;
    }
    if (!*text) {
        perr(c, keyn, "task '%s': cache.key: empty (a template such as \"{{ params.dataset }}-v2\", or auto)",
             t->task_id);
        return;
    }
    if (!check_template(c, keyn, t->task_id, "cache.key", text, keyn->len))
        return;
    char err[512];
    if (mlf_template_compile(text, keyn->len, &t->cache_key, err, sizeof err) != MLF_OK) {
        perr(c, keyn, "task '%s': cache.key: template does not parse: %s", t->task_id, err);
        return;
    }
    t->cache_mode = MLF_CACHE_KEY;
}

/* Applies one key of a task (or of default_args when @p from_defaults). */
static void apply_task_key(pctx *c, size_t ti, const mlf_operator_desc *op, const mlf_yaml_node *k,
                           const mlf_yaml_node *v, int from_defaults)
{
    mlf_task *t = &c->dag->tasks[ti];
    const char *key = k->text;
    if (!from_defaults && strcmp(key, "trigger_rule") == 0 && ti < c->ntr_node)
        c->tr_node[ti] = v;
    if (strcmp(key, "cache") == 0) {
        apply_cache(c, ti, op, v, from_defaults);
        return;
    }
    if (apply_core_key(c, ti, key, v))
        return;
    if ((op->flags & MLF_OP_SENSOR) && apply_sensor_key(c, ti, key, v))
        return;
    const mlf_param_spec *spec = find_param(op, key);
    if (!spec) {
        /* as in Airflow, default_args entries an operator does not take are ignored */
        if (!from_defaults)
            unknown_task_key(c, t, op, k);
        return;
    }
    if (mlf_yaml_is_null(v) && spec->type != MLF_PARAM_ANY)
        return; /* null: not set (the default applies) */
    char why[600];
    mlf_value *val = param_value(spec, v, why, sizeof why);
    if (!val) {
        perr(c, v, "task '%s': %s: %s", t->task_id, key, why);
        return;
    }
    if ((spec->flags & MLF_PARAM_TEMPLATED) && !check_templates_in_value(c, v, t->task_id, key, val)) {
        mlf_value_free(val);
        return;
    }
    mlf_map_set(t->params, key, val);
}

/* expand: {param: list | "{{ one expression }}"} */
static void apply_expand(pctx *c, size_t ti, const mlf_operator_desc *op, const mlf_yaml_node *v)
{
    mlf_task *t = &c->dag->tasks[ti];
    if (v->kind != MLF_YAML_MAPPING || v->n == 0) {
        perr(c, v, "task '%s': expand: expected a mapping of operator parameters to lists, got %s", t->task_id,
             mlf_yaml_describe(v));
        return;
    }
    mlf_value *exp = mlf_value_map();
    for (size_t i = 0; i < v->n && exp; i++) {
        const mlf_yaml_node *k = v->items[i], *val = v->values[i];
        const mlf_param_spec *spec = find_param(op, k->text);
        if (!spec) {
            const char *cands[256];
            size_t n = 0;
            for (const mlf_param_spec *s = op->params; s && s->name && n < 256; s++)
                cands[n++] = s->name;
            char dym[160];
            perr(c, k, "task '%s': expand: '%s' is not a parameter of operator '%s'%s", t->task_id, k->text,
                 t->operator_name, did_you_mean(k->text, cands, n, dym, sizeof dym));
            continue;
        }
        if (mlf_map_get(t->params, k->text)) {
            perr(c, k, "task '%s': '%s' is given both directly and in expand; give it in one place", t->task_id, k->text);
            continue;
        }
        mlf_value *lv = NULL;
        char err[512];
        if (val->kind == MLF_YAML_SEQUENCE) {
            if (mlf_yaml_node_to_value(val, &lv, err, sizeof err) != MLF_OK) {
                perr(c, val, "task '%s': expand.%s: %s", t->task_id, k->text, err);
                continue;
            }
        } else if (is_scalar(val) && val->len && has_template_syntax(val->text, val->len)) {
            mlf_template *tpl = NULL;
            if (mlf_template_compile(val->text, val->len, &tpl, err, sizeof err) != MLF_OK) {
                perr(c, val, "task '%s': expand.%s: template does not parse: %s", t->task_id, k->text, err);
                continue;
            }
            int kind = mlf_template_get_kind(tpl);
            mlf_template_free(tpl);
            if (kind != MLF_TEMPLATE_EXPR) {
                perr(c, val, "task '%s': expand.%s: the template must be one whole expression that renders to a "
                     "list, such as \"{{ params.symbols }}\"", t->task_id, k->text);
                continue;
            }
            if (!check_template(c, val, t->task_id, "expand", val->text, val->len))
                continue;
            lv = mlf_value_strn(val->text, val->len);
        } else {
            perr(c, val, "task '%s': expand.%s: expected a list or a template that renders to one, got %s",
                 t->task_id, k->text, mlf_yaml_describe(val));
            continue;
        }
        mlf_map_set(exp, k->text, lv);
    }
    if (exp && mlf_value_len(exp))
        t->expand = exp;
    else
        mlf_value_free(exp);
}

/* The one id rule (base/ids.h); Airflow allows 250 characters, mlflowd's keys fit MLF_ID_MAX. */
static int valid_id(const char *s, size_t max)
{
    (void)max;
    return mlf_id_valid(MLF_ID_DAG, s, NULL, 0);
}

/* The task group a top-level task joins with its `group:` key (a declared group's id, or a new top-level
 * group of that name); c->scope when it has none. Returns 0 after reporting a problem. */
static int task_group_key(pctx *c, const mlf_yaml_node *tn, long *out)
{
    *out = c->scope;
    const mlf_yaml_node *g = tn->kind == MLF_YAML_MAPPING ? mlf_yaml_map_get(tn, "group") : NULL;
    if (!g)
        return 1;
    const char *name = want_text(c, g, "group", "the id of a task group");
    if (!name)
        return 0;
    long gi = mlf_dag_group_index(c->dag, name);
    if (c->scope >= 0 && gi != c->scope) {
        perr(c, g, "group: a task under groups: belongs to the group it is written in ('%s')",
             c->dag->groups[c->scope].group_id);
        return 0;
    }
    if (gi < 0) {
        size_t ix;
        if (strchr(name, '.') || !valid_id(name, MLF_ID_MAX)) {
            perr(c, g, "group: '%s' is not a task group declared under groups:, and cannot be a new one (a group id "
                 "is letters, digits and _ : + -, without '.')", name);
            return 0;
        }
        if (mlf_dag_add_group(c->dag, name, -1, 1, &ix) != MLF_OK) {
            perr(c, g, "out of memory");
            return 0;
        }
        c->dag->groups[ix].line = (int)g->line;
        c->dag->groups[ix].col = (int)g->col;
        gi = (long)ix;
    }
    *out = gi;
    return 1;
}

static void parse_task_body(pctx *c, const mlf_yaml_node *idnode, const mlf_yaml_node *tn, const char *task_id,
                            long group);

static void parse_task(pctx *c, const mlf_yaml_node *idnode, const mlf_yaml_node *tn)
{
    long group = -1;
    if (!task_group_key(c, tn, &group))
        return;
    char *full_id = mlf_dag_child_id(c->dag, group, idnode->text);
    if (!full_id) {
        perr(c, idnode, "out of memory");
        return;
    }
    const char *task_id = full_id;
    if (!valid_id(task_id, MLF_ID_MAX)) {
        perr(c, idnode, "task id '%s' must be 1-%d characters of letters, digits and _ . : + -, and not '.' or '..'",
             task_id, MLF_ID_MAX);
        free(full_id);
        return;
    }
    long saved_scope = c->scope; /* a `group:` key puts the task's names in its group's scope */
    c->scope = group;
    parse_task_body(c, idnode, tn, task_id, group);
    c->scope = saved_scope;
    free(full_id);
}

static void parse_task_body(pctx *c, const mlf_yaml_node *idnode, const mlf_yaml_node *tn, const char *task_id,
                            long group)
{
    if (tn->kind != MLF_YAML_MAPPING) {
        perr(c, tn, "task '%s': expected a mapping of keys (operator, upstream, ...), got %s", task_id,
             mlf_yaml_describe(tn));
        return;
    }
    size_t ti;
    int rc = mlf_dag_add_task(c->dag, task_id, &ti);
    if (rc != MLF_OK) {
        perr(c, idnode, rc == MLF_EEXIST ? "duplicate task id '%s'" : "task '%s': out of memory", task_id);
        return;
    }
    c->cur_task = ti;
    if (ti >= c->ntr_node) {
        size_t cap = c->ntr_node ? c->ntr_node * 2 : 16;
        while (cap <= ti)
            cap *= 2;
        const mlf_yaml_node **nv = realloc(c->tr_node, cap * sizeof *nv);
        if (!nv) {
            perr(c, idnode, "out of memory");
            return;
        }
        for (size_t i = c->ntr_node; i < cap; i++)
            nv[i] = NULL;
        c->tr_node = nv;
        c->ntr_node = cap;
    }
    mlf_task *t = &c->dag->tasks[ti];
    t->line = (int)idnode->line;
    t->col = (int)idnode->col;
    t->group_index = group;
    if (group >= 0 && !(t->group = strdup(c->dag->groups[group].group_id))) {
        perr(c, idnode, "out of memory");
        return;
    }

    const mlf_yaml_node *opn = mlf_yaml_map_get(tn, "operator");
    if (!opn)
        opn = darg_get(c, "operator");
    if (!opn) {
        perr(c, idnode, "task '%s': missing required key 'operator'", task_id);
        return;
    }
    const char *opname = want_text(c, opn, "operator", "an operator name");
    if (!opname)
        return;
    const mlf_operator_desc *op = mlf_catalog_operator(c->p->cat, opname);
    if (!op) {
        char dym[160];
        const char *searched = mlf_catalog_searched(c->p->cat);
        const char *hint = habit_hint('o', opname);
        if (hint && mlf_catalog_operator(c->p->cat, hint)) {
            perr(c, opn, "task '%s': unknown operator '%s': that is Airflow's name; mlflowd's is '%s' "
                 "(operator: %s)", task_id, opname, hint, hint);
        } else if (c->p->nops == 0) {
            perr(c, opn, "task '%s': unknown operator '%s' (no operator plugins are loaded; plugin folders "
                 "searched: %s; check plugins.path and plugins.load, see mlflowd plugins list)", task_id, opname,
                 *searched ? searched : "none");
        } else if (*did_you_mean(opname, c->p->op_names, c->p->nops, dym, sizeof dym)) {
            perr(c, opn, "task '%s': unknown operator '%s'%s", task_id, opname, dym); /* a typo */
        } else {
            /* the operators found, so that a missing plugin folder shows at once */
            char found[400] = "";
            size_t used = 0;
            for (size_t i = 0; i < c->p->nops && used + 1 < sizeof found; i++) {
                int w = snprintf(found + used, sizeof found - used, "%s%s", i ? ", " : "", c->p->op_names[i]);
                used = w < 0 ? sizeof found : used + (size_t)w;
            }
            if (used >= sizeof found)
                strcpy(found + sizeof found - 5, "...");
            perr(c, opn, "task '%s': unknown operator '%s' (operators found: %s; plugin folders searched: %s)",
                 task_id, opname, found, *searched ? searched : "none");
        }
        return;
    }
    t->op = op;
    t->operator_name = strdup(opname);

    /* default_args first (the DAG's, then each enclosing group's, inner ones winning, as Airflow merges them),
     * then the task's own keys override them */
    for (size_t l = 0; l < c->ndargs; l++)
        for (size_t i = 0; i < c->dargs[l]->n; i++) {
            const char *key = c->dargs[l]->items[i]->text;
            int inner = mlf_yaml_map_get(tn, key) != NULL;
            for (size_t m = l + 1; m < c->ndargs && !inner; m++)
                inner = mlf_yaml_map_get(c->dargs[m], key) != NULL;
            if (!inner)
                apply_task_key(c, ti, op, c->dargs[l]->items[i], c->dargs[l]->values[i], 1);
        }
    for (size_t i = 0; i < tn->n; i++)
        apply_task_key(c, ti, op, tn->items[i], tn->values[i], 0);
    t = &c->dag->tasks[ti];
    const mlf_yaml_node *exp = mlf_yaml_map_get(tn, "expand");
    if (exp)
        apply_expand(c, ti, op, exp);

    /* required parameters, then declared defaults */
    for (const mlf_param_spec *s = op->params; s && s->name; s++)
        if ((s->flags & MLF_PARAM_REQUIRED) && !mlf_map_get(t->params, s->name) && !mlf_map_get(t->expand, s->name) &&
            !mlf_yaml_map_get(tn, s->name)) /* given but invalid: already reported */
            perr(c, idnode, "task '%s': operator '%s' requires '%s' (%s)", task_id, opname, s->name,
                 s->help ? s->help : mlf_param_type_name(s->type));
    const char *problem = NULL;
    const mlf_value *defs = op_defaults(c->p, op, &problem);
    if (!defs) {
        perr(c, opn, "task '%s': %s", task_id, problem ? problem : "out of memory");
        return;
    }
    for (size_t i = 0; i < mlf_value_len(defs); i++) {
        const char *name = mlf_map_key_at(defs, i);
        if (!mlf_map_get(t->params, name) && !mlf_map_get(t->expand, name))
            mlf_map_set(t->params, name, mlf_value_copy(mlf_map_value_at(defs, i)));
    }
    if (op->validate)
        validate_task(c, t, op, tn, idnode);
}

/* ------------------------------------------------------------------ the DAG */

/* Checks a default_args mapping (the DAG's or a task group's) and puts it in force for the tasks parsed
 * next, until the group ends. */
static void parse_default_args(pctx *c, const mlf_yaml_node *v)
{
    if (v->kind != MLF_YAML_MAPPING) {
        perr(c, v, "default_args: expected a mapping, got %s", mlf_yaml_describe(v));
        return;
    }
    const mlf_yaml_node *g = mlf_yaml_map_get(v, "group");
    if (g)
        perr(c, g, "default_args: 'group' cannot be a default (write the task under the group, or give it group:)");
    static const char *const own[] = {"setup", "teardown", "teardowns", "on_failure_fail_dagrun"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if ((g = mlf_yaml_map_get(v, own[i])))
            perr(c, g, "default_args: '%s' cannot be a default: it belongs to one task (as in Airflow)", own[i]);
    /* Keys must be core task keys, sensor keys, or a parameter of some loaded operator. */
    for (size_t i = 0; i < v->n; i++) {
        const char *key = v->items[i]->text;
        if (in_list(key, mlf_core_task_keys) || is_sensor_key(key))
            continue;
        int known = 0;
        for (size_t o = 0; o < c->p->nops && !known; o++)
            known = find_param(mlf_catalog_operator(c->p->cat, c->p->op_names[o]), key) != NULL;
        if (!known) {
            char dym[160];
            perr(c, v->items[i], "default_args: unknown key '%s'%s", key,
                 did_you_mean(key, mlf_core_task_keys, list_len(mlf_core_task_keys), dym, sizeof dym));
        }
    }
    if (c->ndargs < sizeof c->dargs / sizeof c->dargs[0])
        c->dargs[c->ndargs++] = v;
}

/* Looks @p name up as a task id or a task group id from group @p scope outwards: as "GROUP_ID.name" for
 * each enclosing group that prefixes, innermost first, then as written (so a name inside a group means its
 * sibling first). Sets *task or *group (the other -1); returns 0 when nothing has that name. */
static int resolve_name(const mlf_dag *dag, const char *name, long scope, long *task, long *group)
{
    *task = *group = -1;
    for (long s = scope;; s = dag->groups[s].parent) {
        while (s >= 0 && !dag->groups[s].prefix_group_id)
            s = dag->groups[s].parent;
        char *id = mlf_dag_child_id(dag, s, name);
        if (id) {
            *task = mlf_dag_task_index(dag, id);
            *group = *task < 0 ? mlf_dag_group_index(dag, id) : -1;
            free(id);
        }
        if (*task >= 0 || *group >= 0)
            return 1;
        if (s < 0)
            return 0;
    }
}

/* An upstream naming a task group, applied once the edges inside the groups it reads are known. */
typedef struct group_edge {
    const struct pending *ref;
    long up_task, up_group, down_task, down_group;
    int key; /* the depth of the deepest group whose roots or leaves it reads */
} group_edge;

static int cmp_group_edge(const void *a, const void *b)
{
    const group_edge *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1; /* deeper groups first */
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

/* Adds the edges of one group reference: the upstream group's leaves (or the task) to the downstream
 * group's roots (or the task), as Airflow's `group >> task` and `task >> group`. */
static void apply_group_edge(pctx *c, const group_edge *e, size_t *ups, size_t *downs)
{
    mlf_dag *dag = c->dag;
    size_t nu = 1, nd = 1;
    if (e->up_group >= 0)
        nu = mlf_dag_group_leaves(dag, e->up_group, ups);
    else
        ups[0] = (size_t)e->up_task;
    if (e->down_group >= 0)
        nd = mlf_dag_group_roots(dag, e->down_group, downs);
    else
        downs[0] = (size_t)e->down_task;
    long empty = nu == 0 ? e->up_group : nd == 0 ? e->down_group : -1;
    if (empty >= 0) {
        perr(c, e->ref->node, "upstream '%s': task group '%s' has no tasks", e->ref->name, dag->groups[empty].group_id);
        return;
    }
    for (size_t i = 0; i < nu; i++)
        for (size_t k = 0; k < nd; k++)
            if (mlf_dag_add_edge(dag, ups[i], downs[k]) != MLF_OK)
                perr(c, e->ref->node, "out of memory");
}

static void resolve_upstreams(pctx *c)
{
    mlf_dag *dag = c->dag;
    size_t nids = dag->ntasks + dag->ngroups;
    const char **ids = malloc((nids ? nids : 1) * sizeof *ids);
    group_edge *gedges = calloc(c->nups ? c->nups : 1, sizeof *gedges);
    size_t *ups = malloc((dag->ntasks ? dag->ntasks : 1) * sizeof *ups);
    size_t *downs = malloc((dag->ntasks ? dag->ntasks : 1) * sizeof *downs);
    size_t ngedges = 0;
    if (!ids || !gedges || !ups || !downs) {
        perr(c, NULL, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < dag->ntasks; k++)
        ids[k] = dag->tasks[k].task_id;
    for (size_t k = 0; k < dag->ngroups; k++)
        ids[dag->ntasks + k] = dag->groups[k].group_id;
    /* a setup's teardowns: the edge setup -> teardown (Airflow's as_teardown(setups=...)); first, since a
     * teardown is not a group's leaf */
    for (size_t i = 0; i < c->ntdowns; i++) {
        const struct pending *p = &c->tdowns[i];
        long td, tg;
        if (!resolve_name(dag, p->name, p->scope, &td, &tg) || td < 0) {
            char dym[160];
            perr(c, p->node, "task '%s': teardowns: '%s' is not a task of this DAG%s", dag->tasks[p->task].task_id,
                 p->name, tg >= 0 ? " (it is a task group: name its teardown tasks)"
                                  : did_you_mean(p->name, ids, dag->ntasks, dym, sizeof dym));
            continue;
        }
        dag->tasks[td].is_teardown = 1;
        mlf_dag_add_edge(dag, p->task, (size_t)td);
    }
    /* task-to-task edges first: they decide every group's roots and leaves */
    for (size_t i = 0; i < c->nups; i++) {
        const struct pending *p = &c->ups[i];
        long up_task, up_group;
        const char *who = p->task != SIZE_MAX ? dag->tasks[p->task].task_id : dag->groups[p->down_group].group_id;
        const char *what = p->task != SIZE_MAX ? "task" : "task group";
        if (!resolve_name(dag, p->name, p->scope, &up_task, &up_group)) {
            char dym[160];
            perr(c, p->node, "%s '%s': upstream '%s' is not a task %sof this DAG%s", what, who, p->name,
                 dag->ngroups ? "or task group " : "", did_you_mean(p->name, ids, nids, dym, sizeof dym));
            continue;
        }
        long down_group = p->task != SIZE_MAX ? -1 : p->down_group;
        long down_in = p->task != SIZE_MAX ? dag->tasks[p->task].group_index : p->down_group;
        long up_in = up_task >= 0 ? dag->tasks[up_task].group_index : up_group;
        if ((up_group >= 0 && mlf_group_within(dag, down_in, up_group)) ||
            (down_group >= 0 && mlf_group_within(dag, up_in, down_group))) {
            perr(c, p->node, "%s '%s': upstream '%s' %s", what, who, p->name,
                 up_group >= 0 && mlf_group_within(dag, down_in, up_group)
                     ? "is a task group that holds it: a group's own tasks cannot depend on the whole group"
                     : "is inside the task group: a group cannot depend on its own tasks");
            continue;
        }
        if (up_task >= 0 && down_group < 0) {
            mlf_dag_add_edge(dag, (size_t)up_task, p->task);
            continue;
        }
        group_edge *e = &gedges[ngedges++];
        *e = (group_edge){.ref = p, .up_task = up_task, .up_group = up_group,
                          .down_task = down_group < 0 ? (long)p->task : -1, .down_group = down_group};
        int du = up_group >= 0 ? dag->groups[up_group].depth : 0;
        int dd = down_group >= 0 ? dag->groups[down_group].depth : 0;
        e->key = du > dd ? du : dd;
    }
    for (size_t i = 0; i < c->nxrefs; i++) {
        if (mlf_dag_task_index(c->dag, c->xrefs[i].name) >= 0)
            continue;
        char dym[160];
        perr(c, c->xrefs[i].node, "task '%s': template pulls XCom from task '%s', which is not in this DAG%s",
             c->dag->tasks[c->xrefs[i].task].task_id, c->xrefs[i].name,
             did_you_mean(c->xrefs[i].name, ids, c->dag->ntasks, dym, sizeof dym));
    }
    /* a task mapped over another's XCom depends on it, as an XComArg in Airflow's expand() makes it */
    for (size_t i = 0; i < c->nerefs; i++) {
        long src = mlf_dag_task_index(c->dag, c->erefs[i].name);
        mlf_task *t = &c->dag->tasks[c->erefs[i].task];
        if (src < 0 || (size_t)src == c->erefs[i].task)
            continue;
        int known = 0;
        for (size_t k = 0; k < t->nexpand_src && !known; k++)
            known = t->expand_src[k] == (size_t)src;
        if (known)
            continue;
        size_t *nv = realloc(t->expand_src, (t->nexpand_src + 1) * sizeof *nv);
        if (!nv) {
            perr(c, c->erefs[i].node, "out of memory");
            continue;
        }
        t->expand_src = nv;
        t->expand_src[t->nexpand_src++] = (size_t)src;
        mlf_dag_add_edge(c->dag, (size_t)src, c->erefs[i].task);
    }
    /* last the edges that name groups, deepest groups first: edges among a group's tasks (from references
     * to groups nested in it) are in place before its own roots and leaves are read */
    qsort(gedges, ngedges, sizeof *gedges, cmp_group_edge);
    for (size_t i = 0; i < ngedges; i++)
        apply_group_edge(c, &gedges[i], ups, downs);
out:
    free(ids);
    free(gedges);
    free(ups);
    free(downs);
}

/* Params written as Airflow Param specs ({type: integer, default: 30, maximum: 365}): each spec is checked
 * and kept in dag->param_specs, and the param's value becomes its default (None without one). */
static void split_param_specs(pctx *c, const mlf_yaml_node *node)
{
    mlf_dag *dag = c->dag;
    for (size_t i = 0; i < mlf_value_len(dag->params); i++) {
        const char *name = mlf_map_key_at(dag->params, i);
        const mlf_value *v = mlf_map_value_at(dag->params, i);
        if (!mlf_param_is_spec(v))
            continue;
        const mlf_yaml_node *at = mlf_yaml_map_get(node, name);
        char err[512];
        if (mlf_param_spec_check(name, v, err, sizeof err) != MLF_OK) {
            perr(c, at ? at : node, "params: %s", err);
            continue;
        }
        if (!dag->param_specs && !(dag->param_specs = mlf_value_map())) {
            perr(c, node, "out of memory");
            return;
        }
        const mlf_value *def = mlf_map_get(v, "default");
        if (!def && dag->schedule) {
            perr(c, at ? at : node, "params: param '%s' has no default, so only a trigger's conf can give it: give "
                 "it a default or make the DAG manual-only (schedule: null), as Airflow requires", name);
            continue;
        }
        mlf_value *copy = mlf_value_copy(v);
        mlf_value *value = def ? mlf_value_copy(def) : mlf_value_nil();
        if (!copy || !value) {
            mlf_value_free(copy);
            mlf_value_free(value);
            perr(c, node, "out of memory");
            return;
        }
        char *key = strdup(name); /* name and v die when the spec is replaced */
        if (!key) {
            mlf_value_free(copy);
            mlf_value_free(value);
            perr(c, node, "out of memory");
            return;
        }
        mlf_map_set(dag->param_specs, key, copy);
        mlf_map_set(dag->params, key, value); /* replaces the spec in place: i stays valid */
        free(key);
    }
}

/* Reports a problem at task @p t's id. */
static void task_err(pctx *c, const mlf_task *t, const char *fmt, ...) MLF_PRINTF(3, 4);
static void task_err(pctx *c, const mlf_task *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_diag_vadd(c->diag, c->file, t->line, t->col, fmt, ap);
    va_end(ap);
    c->errors++;
}

/* Airflow's rules for setup and teardown tasks (BaseOperator.as_teardown, the @teardown decorator,
 * DAG.validate_setup_teardown), checked once every edge is known; a teardown's rule becomes
 * all_done_setup_success. */
static void check_setup_teardown(pctx *c)
{
    mlf_dag *dag = c->dag;
    for (size_t i = 0; i < dag->ntasks; i++) {
        mlf_task *t = &dag->tasks[i];
        const mlf_yaml_node *tr = i < c->ntr_node ? c->tr_node[i] : NULL;
        if (t->is_setup && t->is_teardown)
            task_err(c, t, "task '%s': a task cannot be both a setup and a teardown", t->task_id);
        if (t->on_failure_fail_dagrun && !t->is_teardown)
            task_err(c, t, "task '%s': on_failure_fail_dagrun is for teardown tasks (teardown: true), as in Airflow",
                     t->task_id);
        if (t->is_teardown) {
            if (tr && t->trigger_rule != MLF_TR_ALL_DONE_SETUP_SUCCESS)
                perr(c, tr, "task '%s': a teardown's trigger rule is all_done_setup_success and cannot be changed "
                     "(Airflow: \"Trigger rule not configurable for teardown tasks.\")", t->task_id);
            t->trigger_rule = MLF_TR_ALL_DONE_SETUP_SUCCESS;
        }
        for (size_t k = 0; t->is_setup && k < t->ndownstream; k++) {
            const mlf_task *d = &dag->tasks[t->downstream[k]];
            if (!d->is_teardown && d->trigger_rule != MLF_TR_ALL_SUCCESS)
                task_err(c, d, "task '%s': its upstream '%s' is a setup task, and tasks after a setup must keep "
                         "trigger_rule all_success (Airflow: \"Setup tasks must be followed with trigger rule "
                         "ALL_SUCCESS.\")", d->task_id, t->task_id);
        }
    }
}

static void parse_tasks(pctx *c, const mlf_yaml_node *tasks, const char *where)
{
    if (tasks->kind != MLF_YAML_MAPPING) {
        perr(c, tasks, "%stasks: expected a mapping of task_id to task, got %s", where, mlf_yaml_describe(tasks));
        return;
    }
    for (size_t k = 0; k < tasks->n; k++)
        parse_task(c, tasks->items[k], tasks->values[k]);
}

/* `groups:` -- task groups (Airflow's TaskGroup) under group @p parent (-1: the DAG), each with its tasks
 * and nested groups. */
static void parse_groups(pctx *c, const mlf_yaml_node *v, long parent)
{
    if (v->kind != MLF_YAML_MAPPING) {
        perr(c, v, "groups: expected a mapping of group id to task group, got %s", mlf_yaml_describe(v));
        return;
    }
    int depth = parent < 0 ? 1 : c->dag->groups[parent].depth + 1;
    for (size_t i = 0; i < v->n; i++) {
        const mlf_yaml_node *k = v->items[i], *gn = v->values[i], *x;
        const char *label = k->text;
        if (depth > GROUP_DEPTH_MAX) {
            perr(c, k, "task group '%s': groups nest at most %d deep", label, GROUP_DEPTH_MAX);
            return;
        }
        if (gn->kind != MLF_YAML_MAPPING) {
            perr(c, gn, "task group '%s': expected a mapping (tasks, groups, upstream, default_args, tooltip, "
                 "prefix_group_id), got %s", label, mlf_yaml_describe(gn));
            continue;
        }
        int prefix = 1, bad = 0;
        if ((x = mlf_yaml_map_get(gn, "prefix_group_id")) && !want_bool(c, x, "prefix_group_id", &prefix))
            bad = 1;
        if (!valid_id(label, MLF_ID_MAX) || (prefix && strchr(label, '.'))) {
            perr(c, k, "task group id '%s' must be letters, digits and _ : + -%s", label,
                 prefix ? " (no '.': it prefixes the ids inside, as in Airflow)" : " . (and not '.' or '..')");
            continue;
        }
        for (size_t j = 0; j < gn->n; j++) {
            const char *key = gn->items[j]->text;
            char dym[160];
            if (in_list(key, group_keys))
                continue;
            bad = 1;
            if (strcmp(key, "expand") == 0 || strcmp(key, "expand_kwargs") == 0)
                perr(c, gn->items[j], "task group '%s': mapped task groups (expand on a group) are not supported "
                     "yet; expand the tasks inside the group", label);
            else if (strcmp(key, "ui_color") == 0 || strcmp(key, "ui_fgcolor") == 0)
                perr(c, gn->items[j], "task group '%s': %s is not supported: mlflowd's views have no colours",
                     label, key);
            else
                perr(c, gn->items[j], "task group '%s': unknown key '%s'%s", label, key,
                     did_you_mean(key, group_keys, list_len(group_keys), dym, sizeof dym));
        }
        size_t gi;
        int rc = mlf_dag_add_group(c->dag, label, parent, prefix, &gi);
        if (rc != MLF_OK) {
            char *id = mlf_dag_child_id(c->dag, parent, label);
            perr(c, k, rc == MLF_EEXIST ? "duplicate task group id '%s'" : "task group '%s': out of memory",
                 id ? id : label);
            free(id);
            continue;
        }
        mlf_task_group *g = &c->dag->groups[gi];
        g->line = (int)k->line;
        g->col = (int)k->col;
        if ((x = mlf_yaml_map_get(gn, "tooltip")) && !mlf_yaml_is_null(x))
            set_str(&c->dag->groups[gi].tooltip, want_strdup(c, x, "tooltip"));
        if ((x = mlf_yaml_map_get(gn, "upstream")) && !mlf_yaml_is_null(x)) {
            if (is_scalar(x)) {
                add_upstream_of(c, SIZE_MAX, (long)gi, parent, x);
            } else if (x->kind == MLF_YAML_SEQUENCE) {
                for (size_t u = 0; u < x->n; u++)
                    if (want_text(c, x->items[u], "upstream", "a task or task group id"))
                        add_upstream_of(c, SIZE_MAX, (long)gi, parent, x->items[u]);
            } else {
                perr(c, x, "upstream: expected a task or group id or a list of them, got %s", mlf_yaml_describe(x));
            }
        }
        if (bad)
            continue;
        long saved_scope = c->scope;
        size_t saved_dargs = c->ndargs;
        c->scope = (long)gi;
        if ((x = mlf_yaml_map_get(gn, "default_args")) && !mlf_yaml_is_null(x))
            parse_default_args(c, x);
        if ((x = mlf_yaml_map_get(gn, "tasks")) && !mlf_yaml_is_null(x))
            parse_tasks(c, x, "task group: ");
        if ((x = mlf_yaml_map_get(gn, "groups")) && !mlf_yaml_is_null(x))
            parse_groups(c, x, (long)gi);
        c->scope = saved_scope;
        c->ndargs = saved_dargs;
    }
}

static void parse_dag(pctx *c, const mlf_yaml_node *root)
{
    mlf_dag *dag = c->dag;
    if (root->kind != MLF_YAML_MAPPING) {
        perr(c, root, "a DAG file must be a mapping with dag_id, schedule, tasks...; got %s", mlf_yaml_describe(root));
        return;
    }
    dag->line = (int)root->line;
    dag->col = (int)root->col;
    for (size_t i = 0; i < root->n; i++) {
        const mlf_yaml_node *k = root->items[i];
        if (in_list(k->text, dag_keys))
            continue;
        char dym[160];
        if (strcmp(k->text, "schedule_interval") == 0)
            perr(c, k, "unknown DAG key 'schedule_interval' (it is called 'schedule', as in Airflow 2.4+)");
        else if (strcmp(k->text, "operator") == 0 || strcmp(k->text, "upstream") == 0)
            perr(c, k, "unknown DAG key '%s' (task keys belong under 'tasks:')", k->text);
        else
            perr(c, k, "unknown DAG key '%s'%s", k->text, did_you_mean(k->text, dag_keys, list_len(dag_keys), dym, sizeof dym));
    }

    const mlf_yaml_node *v;
    if (!(v = mlf_yaml_map_get(root, "dag_id"))) {
        perr(c, root, "missing required key 'dag_id'");
    } else if (want_text(c, v, "dag_id", "a string")) {
        if (!valid_id(v->text, MLF_ID_MAX))
            perr(c, v, "dag_id '%s' must be 1-%d characters of letters, digits and _ . : + -, and not '.' or '..'",
                 v->text, MLF_ID_MAX);
        else
            dag->dag_id = strdup(v->text);
    }
    if ((v = mlf_yaml_map_get(root, "timezone"))) {
        const char *name = want_text(c, v, "timezone", "an IANA time zone name such as Europe/Berlin");
        char err[512];
        if (name && mlf_tz_load(name, &c->tz, err, sizeof err) != MLF_OK)
            perr(c, v, "timezone: %s", err);
        else if (name)
            set_str(&dag->timezone, strdup(name));
    }
    if ((v = mlf_yaml_map_get(root, "description")))
        set_str(&dag->description, want_strdup(c, v, "description"));
    if ((v = mlf_yaml_map_get(root, "doc_md")))
        set_str(&dag->doc_md, want_strdup(c, v, "doc_md"));
    const mlf_yaml_node *start = mlf_yaml_map_get(root, "start_date"), *end = mlf_yaml_map_get(root, "end_date");
    if (start && !mlf_yaml_is_null(start))
        want_date(c, start, "start_date", &dag->start_date);
    if (end && !mlf_yaml_is_null(end) && want_date(c, end, "end_date", &dag->end_date) && dag->start_date &&
        dag->end_date < dag->start_date)
        perr(c, end, "end_date %s is before start_date %s", end->text, start->text);
    char *asset_cron = NULL; /* assets (doc/assets.md): schedule: {assets: [...], cron: EXPR} */
    if ((v = mlf_yaml_map_get(root, "schedule")) && v->kind == MLF_YAML_MAPPING) {
        c->errors += mlf_asset_parse_schedule(v, c->file, c->diag, &dag->asset_sched, &asset_cron);
        if (asset_cron) {
            char err[512];
            mlf_schedule *s = NULL;
            if (mlf_schedule_parse(asset_cron, dag->timezone, &s, err, sizeof err) != MLF_OK)
                perr(c, mlf_yaml_map_get(v, "cron"), "schedule: cron: %s", err);
            else if (!dag->start_date && mlf_schedule_kind_of(s) != MLF_SCHEDULE_NONE)
                perr(c, v, "schedule: cron '%s' needs a start_date (the first data interval starts there)", asset_cron);
            else {
                set_str(&dag->schedule, asset_cron);
                asset_cron = NULL;
            }
            mlf_schedule_free(s);
            free(asset_cron);
        }
        v = NULL;
    }
    if ((v = mlf_yaml_map_get(root, "assets"))) {
        c->errors += mlf_asset_parse_decls(v, c->file, c->diag, &dag->asset_decls, &dag->nasset_decls);
        for (size_t k = 0; k < dag->nasset_decls; k++) { /* a watch names a loaded event source */
            const mlf_asset_decl *d = &dag->asset_decls[k];
            if (!d->watch_source || !c->p->cat || mlf_catalog_event_source(c->p->cat, d->watch_source))
                continue;
            size_t n = 0;
            const char **names = mlf_catalog_names(c->p->cat, MLF_REG_EVENT_SOURCE, &n);
            const char *s = n ? mlf_suggest(d->watch_source, names, n) : NULL;
            mlf_diag_add(c->diag, c->file, d->line, d->col,
                         "assets: '%s': watch: no event source named '%s' is loaded%s%s%s", d->uri, d->watch_source,
                         s ? " (did you mean '" : " (plugins list shows the loaded ones)", s ? s : "", s ? "'?)" : "");
            c->errors++;
            free(names);
        }
    }
    if ((v = mlf_yaml_map_get(root, "schedule")) && !mlf_yaml_is_null(v) && v->kind != MLF_YAML_MAPPING) {
        const char *expr = want_text(c, v, "schedule", "a cron expression, a preset such as @daily, a duration, "
                                     "{assets: [URI, ...]}, or null");
        char err[512];
        mlf_schedule *s = NULL;
        if (expr && mlf_schedule_parse(expr, dag->timezone, &s, err, sizeof err) != MLF_OK)
            perr(c, v, "schedule: %s", err);
        else if (expr) {
            set_str(&dag->schedule, strdup(expr));
            if (!dag->start_date && mlf_schedule_kind_of(s) != MLF_SCHEDULE_NONE)
                perr(c, v, "schedule '%s' needs a start_date (the first data interval starts there)", expr);
        }
        mlf_schedule_free(s);
    }
    int b;
    int64_t i;
    if ((v = mlf_yaml_map_get(root, "catchup")) && want_bool(c, v, "catchup", &b))
        dag->catchup = b;
    if ((v = mlf_yaml_map_get(root, "is_paused_upon_creation")) && want_bool(c, v, "is_paused_upon_creation", &b))
        dag->is_paused_upon_creation = b;
    if ((v = mlf_yaml_map_get(root, "max_active_runs")) && want_int(c, v, "max_active_runs", 1, 100000, &i))
        dag->max_active_runs = (int)i;
    if ((v = mlf_yaml_map_get(root, "max_active_tasks")) && want_int(c, v, "max_active_tasks", 1, 1000000, &i))
        dag->max_active_tasks = (int)i;
    if ((v = mlf_yaml_map_get(root, "dagrun_timeout")))
        want_duration(c, v, "dagrun_timeout", 1, &dag->dagrun_timeout_us);
    if ((v = mlf_yaml_map_get(root, "on_failure_callback")) && !mlf_yaml_is_null(v))
        set_callback(c, &dag->on_failure_callback, v, "on_failure_callback");
    if ((v = mlf_yaml_map_get(root, "on_success_callback")) && !mlf_yaml_is_null(v))
        set_callback(c, &dag->on_success_callback, v, "on_success_callback");
    if ((v = mlf_yaml_map_get(root, "tags")) && !mlf_yaml_is_null(v)) {
        if (v->kind != MLF_YAML_SEQUENCE) {
            perr(c, v, "tags: expected a list of strings, got %s", mlf_yaml_describe(v));
        } else if ((dag->tags = calloc(v->n ? v->n : 1, sizeof *dag->tags))) {
            for (size_t k = 0; k < v->n; k++) {
                char *tag = want_strdup(c, v->items[k], "tags");
                if (tag)
                    dag->tags[dag->ntags++] = tag;
            }
        }
    }
    if ((v = mlf_yaml_map_get(root, "params")) && !mlf_yaml_is_null(v)) {
        mlf_value *params = NULL;
        char err[512];
        if (v->kind != MLF_YAML_MAPPING)
            perr(c, v, "params: expected a mapping, got %s", mlf_yaml_describe(v));
        else if (mlf_yaml_node_to_value(v, &params, err, sizeof err) != MLF_OK)
            perr(c, v, "params: %s", err);
        else {
            mlf_value_free(dag->params);
            dag->params = params;
            split_param_specs(c, v);
        }
    }
    if ((v = mlf_yaml_map_get(root, "default_args")) && !mlf_yaml_is_null(v))
        parse_default_args(c, v);

    const mlf_yaml_node *tasks = mlf_yaml_map_get(root, "tasks"), *groups = mlf_yaml_map_get(root, "groups");
    if ((!tasks || mlf_yaml_is_null(tasks)) && (!groups || mlf_yaml_is_null(groups))) {
        perr(c, tasks ? tasks : root, "missing required key 'tasks' (a mapping of task_id to task)");
        return;
    }
    if (groups && !mlf_yaml_is_null(groups))
        parse_groups(c, groups, -1);
    if (tasks && !mlf_yaml_is_null(tasks))
        parse_tasks(c, tasks, "");
    /* as in Airflow, a group id may not also be a task id */
    for (size_t g = 0; g < dag->ngroups; g++)
        if (mlf_dag_task_index(dag, dag->groups[g].group_id) >= 0) {
            mlf_diag_add(c->diag, c->file, dag->groups[g].line, dag->groups[g].col,
                         "task group id '%s' is also a task id", dag->groups[g].group_id);
            c->errors++;
        }
    resolve_upstreams(c);
    check_setup_teardown(c);
    if (c->errors == 0 && mlf_dag_finalize(dag, c->diag) != MLF_OK)
        c->errors++;
}

/* The loader's messages read "SOURCE:LINE:COL: text"; split them so the diagnostic keeps the position. */
static void add_yaml_error(mlf_diag *diag, const char *file, const char *msg)
{
    size_t fl = strlen(file);
    unsigned line = 0, col = 0;
    int off = 0;
    if (strncmp(msg, file, fl) == 0 && msg[fl] == ':' &&
        sscanf(msg + fl + 1, "%u:%u: %n", &line, &col, &off) == 2 && off > 0) {
        mlf_diag_add(diag, file, (int)line, (int)col, "%s", msg + fl + 1 + off);
        return;
    }
    mlf_diag_add(diag, file, 0, 0, "%s", strncmp(msg, file, fl) == 0 && msg[fl] == ':' ? msg + fl + 1 + (msg[fl + 1] == ' ') : msg);
}

static int parse_doc(mlf_dag_parser *p, int rc, mlf_yaml_doc *doc, const char *name, const char *err, mlf_dag **out,
                     mlf_diag *diag)
{
    *out = NULL;
    if (rc != MLF_OK) {
        add_yaml_error(diag, name, err);
        return rc == MLF_ENOMEM ? rc : (rc > 0 ? rc : MLF_EPARSE);
    }
    pctx c = {.p = p, .file = name, .diag = diag, .tz = mlf_tz_utc(), .scope = -1};
    c.dag = mlf_dag_new();
    if (!c.dag || !(c.dag->fileloc = strdup(name))) {
        mlf_dag_free(c.dag);
        mlf_yaml_free(doc);
        return MLF_ENOMEM;
    }
    parse_dag(&c, mlf_yaml_root(doc));
    free_pending(c.ups, c.nups);
    free_pending(c.xrefs, c.nxrefs);
    free_pending(c.erefs, c.nerefs);
    free_pending(c.tdowns, c.ntdowns);
    free(c.tr_node);
    mlf_yaml_free(doc);
    if (c.errors) {
        mlf_dag_free(c.dag);
        return MLF_EPARSE;
    }
    *out = c.dag;
    return MLF_OK;
}

int mlf_dag_parse_buffer(mlf_dag_parser *p, const char *buf, size_t len, const char *name, mlf_dag **out, mlf_diag *diag)
{
    mlf_yaml_doc *doc = NULL;
    char err[1024] = "";
    int rc = mlf_yaml_load(buf, len, name, NULL, &doc, err, sizeof err);
    return parse_doc(p, rc, doc, name, err, out, diag);
}

int mlf_dag_parse_file(mlf_dag_parser *p, const char *path, mlf_dag **out, mlf_diag *diag)
{
    mlf_yaml_doc *doc = NULL;
    char err[1024] = "";
    int rc = mlf_yaml_load_file(path, NULL, &doc, err, sizeof err);
    return parse_doc(p, rc, doc, path, err, out, diag);
}

mlf_dag_parser *mlf_dag_parser_new(const mlf_catalog *cat)
{
    mlf_dag_parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cat = cat;
    p->op_names = mlf_catalog_names(cat, MLF_REG_OPERATOR, &p->nops);
    return p;
}

void mlf_dag_parser_free(mlf_dag_parser *p)
{
    if (!p)
        return;
    while (p->cache) {
        defaults_cache *d = p->cache;
        p->cache = d->next;
        mlf_value_free(d->defaults);
        free(d->problem);
        free(d);
    }
    free(p->op_names);
    free(p);
}
