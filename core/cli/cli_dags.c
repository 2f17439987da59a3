/* cli_dags.c -- `dags list|show|list-import-errors` and `tasks list`: views of the DAG folder. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dag/dagbag.h"
#include "base/strutil.h"
#include "base/suggest.h"

int mlf_cmd_dags_list(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    size_t n = mlf_dagbag_count(cli->bag);
    if (cli->output == MLF_OUTPUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            const mlf_dag *d = mlf_dagbag_at(cli->bag, i);
            json_t *tags = json_array();
            for (size_t t = 0; t < d->ntags; t++)
                json_array_append_new(tags, json_string(d->tags[t]));
            json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:I, s:o}", "dag_id", d->dag_id, "fileloc", d->fileloc,
                                  "description", d->description ? json_string(d->description) : json_null(),
                                  "schedule", d->schedule ? json_string(d->schedule) : json_null(), "tasks",
                                  (json_int_t)d->ntasks, "tags", tags);
            json_object_set_new(o, "is_paused", json_boolean(mlf_cli_dag_paused(cli, d)));
            json_array_append_new(arr, o);
        }
        mlf_cli_print_json(cli, arr);
    } else {
        fprintf(cli->out, "%-30s %-16s %-6s %-6s %s\n", "dag_id", "schedule", "tasks", "paused", "fileloc");
        for (size_t i = 0; i < n; i++) {
            const mlf_dag *d = mlf_dagbag_at(cli->bag, i);
            fprintf(cli->out, "%-30s %-16s %-6zu %-6s %s\n", d->dag_id, d->schedule ? d->schedule : "None", d->ntasks,
                    mlf_cli_dag_paused(cli, d) ? "True" : "False", d->fileloc);
        }
    }
    if (mlf_dagbag_errors(cli->bag)->n)
        fprintf(stderr, "mlflowd: %zu DAG file problem(s): see mlflowd dags list-import-errors\n",
                mlf_dagbag_errors(cli->bag)->n);
    return MLF_EXIT_OK;
}

int mlf_cmd_dags_list_import_errors(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_diag *errs = mlf_dagbag_errors(cli->bag);
    if (cli->output == MLF_OUTPUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < errs->n; i++) {
            const mlf_diag_entry *e = &errs->v[i];
            json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:s}", "filename", e->file ? e->file : "", "line",
                                                 e->line, "column", e->col, "message", e->message));
        }
        mlf_cli_print_json(cli, arr);
    } else {
        for (size_t i = 0; i < errs->n; i++) {
            char *s = mlf_diag_format(errs, i);
            fprintf(cli->out, "%s\n", s ? s : errs->v[i].message);
            free(s);
        }
        if (!errs->n)
            fprintf(cli->out, "No import errors.\n");
    }
    return MLF_EXIT_OK;
}

static void dot_escape(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The tasks directly in group @p g (-1: outside groups), then its nested groups as nested clusters. */
static void write_dot_group(FILE *out, const mlf_dag *d, long g, int indent)
{
    for (size_t i = 0; i < d->ntasks; i++) {
        if (d->tasks[i].group_index != g)
            continue;
        fprintf(out, "%*s", indent, "");
        dot_escape(out, d->tasks[i].task_id);
        fprintf(out, " [tooltip=");
        dot_escape(out, d->tasks[i].operator_name);
        fprintf(out, "];\n");
    }
    for (size_t k = 0; k < d->ngroups && indent < 2 + 2 * 64; k++) {
        const mlf_task_group *tg = &d->groups[k];
        if (tg->parent != g)
            continue;
        char *cluster = mlf_strdup_printf("cluster_%s", tg->group_id);
        fprintf(out, "%*ssubgraph ", indent, "");
        dot_escape(out, cluster ? cluster : tg->group_id);
        free(cluster);
        fprintf(out, " {\n%*slabel=", indent + 2, "");
        dot_escape(out, tg->label);
        fprintf(out, ";\n%*stooltip=", indent + 2, "");
        dot_escape(out, tg->tooltip ? tg->tooltip : tg->group_id);
        fprintf(out, ";\n");
        write_dot_group(out, d, (long)k, indent + 2);
        fprintf(out, "%*s}\n", indent, "");
    }
}

static void write_dot(FILE *out, const mlf_dag *d)
{
    fprintf(out, "digraph ");
    dot_escape(out, d->dag_id);
    fprintf(out, " {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    write_dot_group(out, d, -1, 2);
    for (size_t i = 0; i < d->ntasks; i++)
        for (size_t j = 0; j < d->tasks[i].ndownstream; j++) {
            fprintf(out, "  ");
            dot_escape(out, d->tasks[i].task_id);
            fprintf(out, " -> ");
            dot_escape(out, d->tasks[d->tasks[i].downstream[j]].task_id);
            fprintf(out, ";\n");
        }
    fprintf(out, "}\n");
}

int mlf_cmd_dags_show(mlf_cli *cli)
{
    const char *fmt = mlf_cli_take_value(cli, "--format", NULL, NULL);
    const char *save = mlf_cli_take_value(cli, "--save", NULL, NULL);
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--format", "--save", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *d = mlf_cli_dag(cli, cli->argv[0]);
    if (!d)
        return MLF_EXIT_USAGE;
    if (!fmt && save)
        fmt = mlf_str_endswith(save, ".svg") ? "svg" : "dot";
    if (!fmt || strcmp(fmt, "text") == 0) {
        fprintf(cli->out, "DAG %s (%s)\n", d->dag_id, d->schedule ? d->schedule : "manual only");
        if (d->description)
            fprintf(cli->out, "  description: %s\n", d->description);
        if (d->doc_md)
            fprintf(cli->out, "  doc_md: %s\n", d->doc_md);
        for (size_t g = 0; g < d->ngroups; g++) {
            const mlf_task_group *tg = &d->groups[g];
            fprintf(cli->out, "  group %s", tg->group_id);
            if (tg->parent >= 0)
                fprintf(cli->out, " (in %s)", d->groups[tg->parent].group_id);
            if (tg->tooltip)
                fprintf(cli->out, ": %s", tg->tooltip);
            fputc('\n', cli->out);
        }
        for (size_t k = 0; k < d->ntasks; k++) {
            const mlf_task *t = &d->tasks[d->topo[k]];
            fprintf(cli->out, "  %s [%s]", t->task_id, t->operator_name);
            for (size_t j = 0; j < t->ndownstream; j++)
                fprintf(cli->out, "%s%s", j ? ", " : " -> ", d->tasks[t->downstream[j]].task_id);
            if (t->group)
                fprintf(cli->out, "  (group: %s)", t->group);
            if (t->owner)
                fprintf(cli->out, "  (owner: %s)", t->owner);
            fputc('\n', cli->out);
            if (t->doc)
                fprintf(cli->out, "      doc: %s\n", t->doc);
        }
        return MLF_EXIT_OK;
    }
    if (strcmp(fmt, "dot") == 0) {
        FILE *out = save ? fopen(save, "w") : cli->out;
        if (!out)
            return mlf_cli_fail(MLF_EXIT_FAILED, "cannot write %s", save);
        write_dot(out, d);
        if (save && fclose(out) != 0)
            return mlf_cli_fail(MLF_EXIT_FAILED, "cannot write %s", save);
        return MLF_EXIT_OK;
    }
    if (strcmp(fmt, "svg") == 0) {
        if (system("command -v dot >/dev/null 2>&1") != 0)
            return mlf_cli_fail(MLF_EXIT_FAILED, "SVG output needs graphviz's dot on PATH (apt-get install graphviz); "
                                "--format dot prints the graph without it");
        char *cmd = mlf_strdup_printf("dot -Tsvg%s%s", save ? " -o " : "", save ? "\"$MLF_SVG_OUT\"" : "");
        if (save)
            setenv("MLF_SVG_OUT", save, 1);
        fflush(cli->out);
        FILE *p = cmd ? popen(cmd, "w") : NULL;
        free(cmd);
        if (!p)
            return mlf_cli_fail(MLF_EXIT_FAILED, "cannot run dot");
        write_dot(p, d);
        return pclose(p) == 0 ? MLF_EXIT_OK : mlf_cli_fail(MLF_EXIT_FAILED, "dot failed");
    }
    return mlf_cli_fail(MLF_EXIT_USAGE, "unknown format '%s' (use text, dot or svg)", fmt);
}

static void print_tree(FILE *out, const mlf_dag *d, size_t ti, int depth)
{
    const mlf_task *t = &d->tasks[ti];
    fprintf(out, "%*s<Task(%s): %s>%s%s%s\n", depth * 4, "", t->operator_name, t->task_id, t->group ? " (group: " : "",
            t->group ? t->group : "", t->group ? ")" : "");
    if (depth > 256)
        return;
    for (size_t j = 0; j < t->ndownstream; j++)
        print_tree(out, d, t->downstream[j], depth + 1);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int mlf_cmd_tasks_list(mlf_cli *cli)
{
    int tree = mlf_cli_take_flag(cli, "--tree", "-t");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--tree", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *d = mlf_cli_dag(cli, cli->argv[0]);
    if (!d)
        return MLF_EXIT_USAGE;
    if (tree) {
        for (size_t k = 0; k < d->ntasks; k++)
            if (d->tasks[d->topo[k]].nupstream == 0)
                print_tree(cli->out, d, d->topo[k], 0);
        return MLF_EXIT_OK;
    }
    const char **ids = malloc((d->ntasks ? d->ntasks : 1) * sizeof *ids);
    if (!ids)
        return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
    for (size_t i = 0; i < d->ntasks; i++)
        ids[i] = d->tasks[i].task_id;
    qsort(ids, d->ntasks, sizeof *ids, cmp_strp);
    if (cli->output == MLF_OUTPUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < d->ntasks; i++) {
            const mlf_task *t = &d->tasks[mlf_dag_task_index(d, ids[i])];
            json_t *up = json_array();
            for (size_t u = 0; u < t->nupstream; u++)
                json_array_append_new(up, json_string(d->tasks[t->upstream[u]].task_id));
            json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s, s:I}", "task_id", t->task_id, "operator",
                                                 t->operator_name, "upstream", up, "trigger_rule",
                                                 mlf_trigger_rule_names[t->trigger_rule], "priority_weight",
                                                 (json_int_t)t->effective_priority));
            json_t *o = json_array_get(arr, json_array_size(arr) - 1);
            json_object_set_new(o, "owner", t->owner ? json_string(t->owner) : json_null());
            json_object_set_new(o, "doc", t->doc ? json_string(t->doc) : json_null());
            json_object_set_new(o, "task_group", t->group ? json_string(t->group) : json_null());
        }
        mlf_cli_print_json(cli, arr);
    } else {
        for (size_t i = 0; i < d->ntasks; i++)
            fprintf(cli->out, "%s\n", ids[i]);
    }
    free(ids);
    return MLF_EXIT_OK;
}
