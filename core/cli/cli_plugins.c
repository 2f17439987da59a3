/* cli_plugins.c -- `mlflowd plugins list`: each loaded plugin, its file, version and ABI, and everything it
 * registered, with every operator's declared parameters (the same tables that validate DAG files) and every
 * executor's settings (executors.NAME.*). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static json_t *params_json(const mlf_param_spec *params)
{
    json_t *arr = json_array();
    for (const mlf_param_spec *p = params; p && p->name; p++) {
        json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "name", p->name, "type", mlf_param_type_name(p->type),
                              "required", (p->flags & MLF_PARAM_REQUIRED) != 0, "templated",
                              (p->flags & MLF_PARAM_TEMPLATED) != 0);
        json_object_set_new(o, "default", p->default_value ? json_string(p->default_value) : json_null());
        if (p->choices)
            json_object_set_new(o, "choices", json_string(p->choices));
        json_object_set_new(o, "help", json_string(p->help ? p->help : ""));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *entry_json(const mlf_reg_entry *e)
{
    switch (e->kind) {
    case MLF_REG_OPERATOR: {
        const mlf_operator_desc *d = e->desc;
        int sensor = (d->flags & MLF_OP_SENSOR) != 0;
        json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", d->name, "kind", sensor ? "sensor" : "operator",
                              "help", d->help ? d->help : "", "branch", (d->flags & MLF_OP_BRANCH) != 0, "params",
                              params_json(d->params));
        if (sensor)
            json_object_set_new(o, "sensor_params", params_json(mlf_sensor_params));
        return o;
    }
    case MLF_REG_HOOK: {
        const mlf_hook_desc *d = e->desc;
        return json_pack("{s:s, s:s, s:s, s:o}", "name", d->name, "conn_type", d->conn_type, "help",
                         d->help ? d->help : "", "extras", params_json(d->extras));
    }
    case MLF_REG_MACRO: {
        const mlf_macro_desc *d = e->desc;
        return json_pack("{s:s, s:s, s:i, s:i}", "name", d->name, "help", d->help ? d->help : "", "min_args",
                         d->min_args, "max_args", d->max_args);
    }
    case MLF_REG_NOTIFIER: {
        const mlf_notifier_desc *d = e->desc;
        return json_pack("{s:s, s:s, s:o}", "name", d->name, "help", d->help ? d->help : "", "params",
                         params_json(d->params));
    }
    case MLF_REG_EXECUTOR: {
        const mlf_executor_desc *d = e->desc;
        return json_pack("{s:s, s:s, s:o, s:o}", "name", d->name, "help", d->help ? d->help : "", "params",
                         params_json(d->params), "task_params", params_json(d->task_params));
    }
    case MLF_REG_EVENT_SOURCE: { /* config keys of `watch: {source: NAME, config: ...}` (doc/assets.md) */
        const mlf_event_source_desc *d = e->desc;
        return json_pack("{s:s, s:s, s:o}", "name", d->name, "help", d->help ? d->help : "", "params",
                         params_json(d->params));
    }
    default:
        return json_pack("{s:s}", "name", e->name);
    }
}

static const char *const kind_keys[MLF_REG_KIND_COUNT] = {"operators", "hooks", "macros", "notifiers", "executors",
                                                          "event_sources"};

static json_t *plugins_json(const mlf_catalog *cat)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < mlf_catalog_plugin_count(cat); i++) {
        const mlf_plugin *p = mlf_catalog_plugin_at(cat, i);
        char abi[32];
        snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->info->abi_major, (unsigned)p->info->abi_minor);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", p->info->name, "version",
                              p->info->version ? p->info->version : "", "description",
                              p->info->description ? p->info->description : "", "file", p->path, "abi", abi);
        for (int k = 0; k < MLF_REG_KIND_COUNT; k++) {
            json_t *list = json_array();
            for (size_t j = 0; j < mlf_catalog_count(cat, (mlf_reg_kind)k); j++) {
                const mlf_reg_entry *e = mlf_catalog_at(cat, (mlf_reg_kind)k, j);
                if (e->owner == p)
                    json_array_append_new(list, entry_json(e));
            }
            json_object_set_new(o, kind_keys[k], list);
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static void print_params_table(FILE *out, const mlf_param_spec *params, const char *indent)
{
    for (const mlf_param_spec *p = params; p && p->name; p++) {
        char flags[64] = "";
        if (p->flags & MLF_PARAM_REQUIRED)
            strcat(flags, "required ");
        if (p->flags & MLF_PARAM_TEMPLATED)
            strcat(flags, "templated ");
        if (p->default_value && !(p->flags & MLF_PARAM_REQUIRED))
            snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "default=%s", p->default_value);
        fprintf(out, "%s%-20s %-9s %-28s %s%s%s%s\n", indent, p->name, mlf_param_type_name(p->type), flags,
                p->help ? p->help : "", p->choices ? " [" : "", p->choices ? p->choices : "", p->choices ? "]" : "");
    }
}

static void plugins_table(FILE *out, const mlf_catalog *cat)
{
    static const char *const kind_words[MLF_REG_KIND_COUNT] = {"operator", "hook", "macro", "notifier",
                                                                "executor", "event source"};
    for (size_t i = 0; i < mlf_catalog_plugin_count(cat); i++) {
        const mlf_plugin *p = mlf_catalog_plugin_at(cat, i);
        fprintf(out, "%s %s (ABI %u.%u) %s\n  %s\n", p->info->name, p->info->version ? p->info->version : "",
                (unsigned)p->info->abi_major, (unsigned)p->info->abi_minor, p->path,
                p->info->description ? p->info->description : "");
        for (int k = 0; k < MLF_REG_KIND_COUNT; k++)
            for (size_t j = 0; j < mlf_catalog_count(cat, (mlf_reg_kind)k); j++) {
                const mlf_reg_entry *e = mlf_catalog_at(cat, (mlf_reg_kind)k, j);
                if (e->owner != p)
                    continue;
                const char *word = kind_words[k];
                if (k == MLF_REG_OPERATOR && (((const mlf_operator_desc *)e->desc)->flags & MLF_OP_SENSOR))
                    word = "sensor";
                fprintf(out, "  %s %s\n", word, e->name);
                if (k == MLF_REG_OPERATOR)
                    print_params_table(out, ((const mlf_operator_desc *)e->desc)->params, "      ");
                else if (k == MLF_REG_EXECUTOR) { /* settings: executors.NAME.KEY */
                    const mlf_executor_desc *d = e->desc;
                    print_params_table(out, d->params, "      ");
                    if (d->task_params && d->task_params->name) { /* a task's executor_config.NAME */
                        fprintf(out, "    task settings (executor_config: {%s: {...}}):\n", e->name);
                        print_params_table(out, d->task_params, "      ");
                    }
                } else if (k == MLF_REG_EVENT_SOURCE) { /* a watch's config keys */
                    print_params_table(out, ((const mlf_event_source_desc *)e->desc)->params, "      ");
                }
            }
    }
}

int mlf_cmd_plugins_list(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    int refused = mlf_cli_plugins(cli);
    if (refused < 0)
        return MLF_EXIT_USAGE;
    if (cli->output == MLF_OUTPUT_JSON) {
        json_t *arr = plugins_json(cli->cat);
        char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(arr);
        if (!text)
            return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
        fprintf(cli->out, "%s\n", text);
        free(text);
    } else {
        plugins_table(cli->out, cli->cat);
    }
    if (mlf_catalog_plugin_count(cli->cat) == 0) /* an empty list would look like success */
        return mlf_cli_fail(MLF_EXIT_FAILED, "no plugins found (folders searched: %s; see plugins.path and "
                            "plugins.load in mlflowd config list)", *mlf_catalog_searched(cli->cat) ?
                            mlf_catalog_searched(cli->cat) : "none");
    /* the loaded plugins are listed; refused ones were explained on stderr and fail the command */
    return refused ? MLF_EXIT_FAILED : MLF_EXIT_OK;
}
