/* cli_config.c -- `mlflowd config list|get`: every configuration key, its effective value and where the
 * value came from (default, file, environment, command line). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/conn_uri.h"
#include "base/suggest.h"
#include "value/value_json.h"

/* Whether key @p k holds a secret itself (core.secrets_key; not a path to one): shown as "***". */
static int secret_setting(const mlf_config_key *k)
{
    return k->type == MLF_CFG_STR && mlf_is_sensitive_name(k->name);
}

static json_t *value_json(const mlf_value *v)
{
    char *text = NULL;
    json_t *j = NULL;
    if (v && mlf_value_to_json(v, &text) == MLF_OK)
        j = json_loads(text, JSON_DECODE_ANY, NULL);
    free(text);
    return j ? j : json_null();
}

/* `config list --defaults`: the settings table itself (no file, no environment), defaults as written:
 * what mlflowd.yaml(5) is generated from (scripts/gen-man.sh). */
static int list_defaults(mlf_cli *cli)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < mlf_config_key_count(); i++) {
        const mlf_config_key *k = mlf_config_key_at(i);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:b, s:o, s:s}", "key", k->name, "type",
                                             mlf_config_type_name(k->type), "default",
                                             k->def ? json_string(k->def) : json_null(), "nullable", k->nullable,
                                             "choices", k->choices ? json_string(k->choices) : json_null(), "help",
                                             k->help ? k->help : ""));
    }
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, arr);
        return MLF_EXIT_OK;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        json_t *d = json_object_get(o, "default");
        fprintf(cli->out, "%-32s = %-40s # %s\n", json_string_value(json_object_get(o, "key")),
                json_is_string(d) ? json_string_value(d) : "null", json_string_value(json_object_get(o, "help")));
    }
    json_decref(arr);
    return MLF_EXIT_OK;
}

int mlf_cmd_config_list(mlf_cli *cli)
{
    int defaults = mlf_cli_take_flag(cli, "--defaults", NULL);
    int rc = mlf_cli_check_args(cli, 0, 0, (const char *const[]){"--defaults", NULL});
    if (rc)
        return rc;
    if (defaults)
        return list_defaults(cli);
    if (mlf_cli_config(cli) != MLF_OK)
        return MLF_EXIT_USAGE;
    size_t n = mlf_config_key_count();
    if (cli->output == MLF_OUTPUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            const mlf_config_key *k = mlf_config_key_at(i);
            const mlf_value *v = mlf_config_get(cli->cfg, k->name);
            json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s}", "key", k->name, "value",
                                  secret_setting(k) && mlf_value_type(v) == MLF_STR ? json_string("***")
                                                                                     : value_json(v), "type", mlf_config_type_name(k->type),
                                  "source", mlf_config_source_name(mlf_config_source_of(cli->cfg, k->name)), "help",
                                  k->help ? k->help : "");
            const char *origin = mlf_config_origin(cli->cfg, k->name);
            if (origin)
                json_object_set_new(o, "origin", json_string(origin));
            json_array_append_new(arr, o);
        }
        char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(arr);
        if (text)
            fprintf(cli->out, "%s\n", text);
        free(text);
        return MLF_EXIT_OK;
    }
    fprintf(cli->out, "# configuration file: %s\n", mlf_config_file(cli->cfg) ? mlf_config_file(cli->cfg) : "(none)");
    for (size_t i = 0; i < n; i++) {
        const mlf_config_key *k = mlf_config_key_at(i);
        const mlf_value *v = mlf_config_get(cli->cfg, k->name);
        char *shown = secret_setting(k) && mlf_value_type(v) == MLF_STR ? strdup("***") : mlf_value_to_display(v);
        const char *origin = mlf_config_origin(cli->cfg, k->name);
        fprintf(cli->out, "%-32s = %-40s # %s%s%s\n", k->name, shown ? shown : "?",
                mlf_config_source_name(mlf_config_source_of(cli->cfg, k->name)), origin ? " " : "", origin ? origin : "");
        free(shown);
    }
    return MLF_EXIT_OK;
}

int mlf_cmd_config_get(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    const char *key = cli->argv[0];
    if (!mlf_config_key_find(key)) {
        size_t n = mlf_config_key_count();
        const char **names = malloc(n * sizeof *names);
        const char *s = NULL;
        if (names) {
            for (size_t i = 0; i < n; i++)
                names[i] = mlf_config_key_at(i)->name;
            s = mlf_suggest(key, names, n);
        }
        mlf_cli_fail(MLF_EXIT_USAGE, "unknown configuration key '%s'%s%s%s (see mlflowd config list)", key,
                     s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
        free(names);
        return MLF_EXIT_USAGE;
    }
    if (mlf_cli_config(cli) != MLF_OK)
        return MLF_EXIT_USAGE;
    const mlf_value *v = mlf_config_get(cli->cfg, key);
    if (secret_setting(mlf_config_key_find(key)) && mlf_value_type(v) == MLF_STR) {
        fprintf(cli->out, cli->output == MLF_OUTPUT_JSON ? "\"***\"\n" : "***\n");
        return MLF_EXIT_OK;
    }
    if (cli->output == MLF_OUTPUT_JSON) {
        char *text = NULL;
        if (mlf_value_to_json(v, &text) != MLF_OK)
            return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
        fprintf(cli->out, "%s\n", text);
        free(text);
        return MLF_EXIT_OK;
    }
    if (mlf_value_type(v) == MLF_ARRAY) { /* lists one per line, as scripts want them */
        for (size_t i = 0; i < mlf_value_len(v); i++) {
            char *s = mlf_value_to_display(mlf_array_at(v, i));
            fprintf(cli->out, "%s\n", s ? s : "");
            free(s);
        }
        return MLF_EXIT_OK;
    }
    char *s = mlf_value_to_display(v);
    fprintf(cli->out, "%s\n", s ? s : "");
    free(s);
    return MLF_EXIT_OK;
}
