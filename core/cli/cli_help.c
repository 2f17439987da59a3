/* cli_help.c -- what the command table (cli.c) does not say: each command's options with their help, which
 * commands print structured output (-o json|yaml), the YAML printer, and the bash and zsh completion scripts
 * generated from both tables. Kept beside the command table so that commands added there (one line each)
 * and their options here merge independently. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/strutil.h"

/* One option of one command ("group verb" or a top-level verb). */
typedef struct opt_help {
    const char *cmd;
    const char *flags; /* "-c, --conf" */
    const char *arg;   /* "JSON", or NULL for a flag */
    const char *help;
} opt_help;

static const opt_help options[] = {
    {"config list", "--defaults", NULL, "the built-in defaults as written, without the file or the environment"},
    {"standalone", "--workers", "N", "local worker processes to start (1..256; default: one per core)"},
    {"standalone", "--insecure", NULL, "accept a non-loopback zmq.bind without CurveZMQ"},
    {"webserver", "--listen", "HOST:PORT", "where to listen (default: api.listen, 127.0.0.1:8080)"},
    {"webserver", "-p, --port", "PORT", "only the port of --listen or api.listen (0: any free port); the URL goes to HOME/webserver.url"},
    {"webserver", "--routes", NULL, "print the HTTP routes and exit"},
    {"standalone", "-p, --port", "PORT", "the webserver's port (default: api.listen's, 8080; 0: any free port, see HOME/webserver.url)"},
    {"scheduler", "--insecure", NULL, "accept a non-loopback zmq.bind without CurveZMQ"},
    {"worker", "--connect", "ENDPOINT", "the scheduler's zmq endpoint (default: zmq.bind when it names one address)"},
    {"worker", "-c, --concurrency", "N", "task instances run at once (default: one per core)"},
    {"worker", "-q, --queues", "a,b", "take only task instances of these queues"},
    {"worker", "--name", "NAME", "the name the scheduler knows this worker by (default: host and pid)"},
    {"worker", "--server-key", "FILE.pub", "the scheduler's CurveZMQ public key"},
    {"worker", "--secret-key", "FILE", "this worker's CurveZMQ secret key (mlflowd keys generate)"},
    {"worker", "--insecure", NULL, "connect to a non-loopback endpoint without CurveZMQ"},
    {"keys generate", "-f, --force", NULL, "overwrite FILE and FILE.pub when they exist"},
    {"dags show", "--format", "text|dot|svg", "text (default), Graphviz dot, or SVG (needs graphviz's dot)"},
    {"dags show", "--save", "FILE", "write the graph to FILE instead of stdout"},
    {"dags trigger", "-c, --conf", "JSON", "the run's conf, a JSON object (dag_run.conf in templates)"},
    {"dags trigger", "-r, --run-id", "ID", "the run id (default: manual__ and the logical date)"},
    {"dags trigger", "-l, --logical-date", "DATE", "the run's logical date (default: now)"},
    {"dags backfill", "-s, --start-date", "DATE", "first logical date of the range"},
    {"dags backfill", "-e, --end-date", "DATE", "last logical date of the range"},
    {"dags backfill", "--reset-dagruns", NULL, "clear and rerun runs that already exist in the range"},
    {"dags backfill", "-y, --yes", NULL, "do not ask for confirmation"},
    {"dags test", "-c, --conf", "JSON", "the run's conf, a JSON object (dag_run.conf in templates)"},
    {"dags test", "--show-logs", NULL, "print every try's log on stderr after the run"},
    {"dags delete", "-y, --yes", NULL, "do not ask for confirmation"},
    {"dags next-execution", "-n, --num-executions", "N", "how many next logical dates to print (default 1)"},
    {"tasks list", "-t, --tree", NULL, "print the tasks as a tree of their dependencies"},
    {"tasks run", "-m, --map-index", "N", "the task instance of a mapped task"},
    {"tasks state", "-m, --map-index", "N", "the task instance of a mapped task"},
    {"tasks logs", "--try", "N", "that try's log (default: the latest)"},
    {"tasks logs", "-m, --map-index", "N", "the task instance of a mapped task"},
    {"tasks clear", "-t, --task-regex", "REGEX", "only tasks whose id matches (POSIX extended regex)"},
    {"tasks clear", "-s, --start-date", "DATE", "only runs from this logical date"},
    {"tasks clear", "-e, --end-date", "DATE", "only runs up to this logical date"},
    {"tasks clear", "-d, --downstream", NULL, "also the selected tasks' downstream tasks"},
    {"tasks clear", "-u, --upstream", NULL, "also the selected tasks' upstream tasks"},
    {"tasks clear", "-f, --only-failed", NULL, "only failed and upstream_failed task instances"},
    {"tasks clear", "-y, --yes", NULL, "do not ask for confirmation"},
    {"tasks clear", "--no-cache", NULL, "the next try of each cleared task instance runs even if its result is cached"},
    {"tasks xcom", "-k, --key", "KEY", "print only this XCom (default: list every key)"},
    {"tasks xcom", "-m, --map-index", "N", "the task instance of a mapped task"},
    {"connections add", "--conn-uri", "URI", "the connection as a URI: TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA?extra"},
    {"connections add", "--conn-json", "JSON", "the connection as a JSON object of its fields"},
    {"connections add", "--conn-type", "TYPE", "the connection type (a hook's conn_type: sqlite, http...)"},
    {"connections add", "--conn-host", "H", "host (or the file, for sqlite)"},
    {"connections add", "--conn-port", "P", "port, 1..65535"},
    {"connections add", "--conn-login", "L", "login"},
    {"connections add", "--conn-password", "P", "password (masked in listings)"},
    {"connections add", "--conn-schema", "S", "schema"},
    {"connections add", "--conn-extra", "JSON", "extra fields, a JSON object"},
    {"connections add", "--conn-description", "D", "a description"},
    {"variables set", "--description", "D", "a description"},
    {"variables get", "-d, --default", "V", "print V (exit 0) when the variable does not exist"},
    {"db clean", "--older-than", "AGE", "delete runs that ended (and offline workers last heard) before now minus AGE (30d, 12h...; default: retention.runs)"},
    {"db clean", "--dry-run", NULL, "count what would be deleted, delete nothing"},
    {"db clean", "-y, --yes", NULL, "do not ask for confirmation"},
    {"db restore", "-y, --yes", NULL, "replace the current store without asking"},
    {"cache purge", "-t, --task", "TASK_ID", "only the entries of this task (with DAG_ID)"},
    {"cache purge", "--older-than", "AGE", "only entries computed more than AGE ago (30d, 12h...)"},
    {"workers list", "--state", "S", "only workers in state S: idle, running, offline or unknown"},
    {"events send", "--endpoint", "EP", "the scheduler's event socket (default: events.listen)"},
    {"events send", "--extra", "JSON", "asset: the event's extra metadata (a JSON object)"},
    {"events send", "--conf", "JSON", "trigger: the run's conf (a JSON object)"},
    {"events send", "--key", "K", "idempotency key: a repeated key creates nothing new"},
    {"events send", "--run-id", "ID", "trigger: the run's id"},
    {"events send", "--logical-date", "DATE", "trigger: the run's logical date (RFC 3339)"},
    {"events send", "--server-key", "FILE", "the scheduler's public key (default: zmq.curve.server_public_key_file)"},
    {"events send", "--secret-key", "FILE", "this client's secret key (default: zmq.curve.worker_secret_key_file)"},
    {"events send", "--timeout", "S", "seconds to wait for the reply (default 10)"},
    {"events send", "--raw", "FILE", "send FILE's bytes as the request (tests)"},
    {"events send", "--insecure", NULL, "no CurveZMQ (the scheduler must run with zmq.insecure)"},
};

/* Commands whose output -o json and -o yaml structure (others print text only). */
static const char *const structured[] = {
    "version", "config list", "config get", "plugins list", "dags list", "dags test", "dags trigger",
    "dags list-runs", "dags state", "dags list-import-errors", "dags next-execution", "tasks list",
    "tasks state", "tasks states-for-dag-run", "tasks render", "tasks xcom", "tasks clear", "connections get",
    "connections list", "connections test", "variables get", "variables list", "pools list", "db check",
    "db clean", "users list", "workers list",
    "cache list", "cache purge", /* doc/caching.md */
    "assets list", "assets events", /* assets (doc/assets.md) */
    NULL};

/* "group verb" or "verb" of @p c into @p buf. */
static const char *cmd_name(const mlf_cli_command *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->verb);
    return buf;
}

void mlf_cli_print_options(FILE *f, const mlf_cli_command *c)
{
    char name[64];
    cmd_name(c, name, sizeof name);
    int any = 0;
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const opt_help *o = &options[i];
        if (strcmp(o->cmd, name) != 0)
            continue;
        if (!any++)
            fprintf(f, "Options:\n");
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->flags, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-28s %s\n", left, o->help);
    }
    if (any)
        fputc('\n', f);
    if (mlf_cli_structured(c))
        fprintf(f, "Output: -o table (default; listings with separators), plain (listings aligned, nothing else), json or yaml.\n\n");
}

int mlf_cli_structured(const mlf_cli_command *c)
{
    char name[64];
    cmd_name(c, name, sizeof name);
    for (const char *const *s = structured; *s; s++)
        if (strcmp(*s, name) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ YAML */

/* Whether string @p s can be written as a plain YAML scalar that reads back as the same string. */
static int plain_ok(const char *s)
{
    static const char *const words[] = {"null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False",
                                        "FALSE", "yes", "no", "on", "off", "Yes", "No", "On", "Off", NULL};
    if (!*s || strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || s[strlen(s) - 1] == ' ')
        return 0;
    for (const char *const *w = words; *w; w++)
        if (strcmp(s, *w) == 0)
            return 0;
    char *end;
    (void)strtod(s, &end);
    if (*end == '\0') /* would read as a number */
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '#' || (*p == ':' && (p[1] == ' ' || !p[1])))
            return 0;
    return 1;
}

static void yaml_scalar(FILE *f, json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_STRING: {
        const char *s = json_string_value(j);
        if (plain_ok(s)) {
            fputs(s, f);
        } else { /* a JSON string is a valid double-quoted YAML scalar */
            char *q = json_dumps(j, JSON_ENCODE_ANY);
            fputs(q ? q : "\"\"", f);
            free(q);
        }
        break;
    }
    case JSON_TRUE: fputs("true", f); break;
    case JSON_FALSE: fputs("false", f); break;
    case JSON_NULL: fputs("null", f); break;
    default: {
        char *q = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        fputs(q ? q : "null", f);
        free(q);
    }
    }
}

static int is_empty_container(json_t *j)
{
    return (json_is_object(j) && json_object_size(j) == 0) || (json_is_array(j) && json_array_size(j) == 0);
}

static void yaml_node(FILE *f, json_t *j, int indent);

/* A value after "key:" or "- ": containers on the next lines, scalars on the same line. */
static void yaml_value(FILE *f, json_t *j, int indent, int in_list)
{
    if (is_empty_container(j)) {
        fputs(json_is_object(j) ? " {}\n" : " []\n", f);
    } else if (json_is_object(j) || json_is_array(j)) {
        if (in_list && json_is_object(j)) { /* "- key: v" on the dash's line */
            fputc(' ', f);
            yaml_node(f, j, -(indent + 2));
        } else {
            fputc('\n', f);
            yaml_node(f, j, indent + 2);
        }
    } else {
        fputc(' ', f);
        yaml_scalar(f, j);
        fputc('\n', f);
    }
}

/* Writes container @p j at @p indent; a negative indent means the first line is already indented. */
static void yaml_node(FILE *f, json_t *j, int indent)
{
    int first_inline = indent < 0;
    if (indent < 0)
        indent = -indent;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        int first = 1;
        json_object_foreach(j, k, v)
        {
            if (!(first && first_inline))
                fprintf(f, "%*s", indent, "");
            first = 0;
            json_t *key = json_string(k);
            yaml_scalar(f, key);
            json_decref(key);
            fputc(':', f);
            yaml_value(f, v, indent, 0);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            if (!(i == 0 && first_inline))
                fprintf(f, "%*s", indent, "");
            fputc('-', f);
            yaml_value(f, v, indent, 1);
        }
    } else {
        yaml_scalar(f, j);
        fputc('\n', f);
    }
}

int mlf_cli_json_to_yaml(FILE *f, const char *json_text, size_t len)
{
    json_error_t e;
    /* several documents (one per line, as some commands print) become a YAML stream */
    size_t off = 0;
    int docs = 0;
    while (off < len) {
        while (off < len && strchr(" \t\r\n", json_text[off]))
            off++;
        if (off >= len)
            break;
        json_t *j = json_loadb(json_text + off, len - off, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK |
                               JSON_PRESERVE_ORDER, &e);
        if (!j)
            return MLF_EPARSE;
        if (docs++)
            fputs("---\n", f);
        if (json_is_object(j) || json_is_array(j)) {
            if (is_empty_container(j))
                fputs(json_is_object(j) ? "{}\n" : "[]\n", f);
            else
                yaml_node(f, j, 0);
        } else {
            yaml_scalar(f, j);
            fputc('\n', f);
        }
        json_decref(j);
        off += e.position;
    }
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ completion */

/* The options of command @p name, space-separated, into @p b (long and short forms). */
static void option_words(const char *name, mlf_buf *b)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        if (strcmp(options[i].cmd, name) != 0)
            continue;
        const char *p = options[i].flags;
        while (*p) {
            size_t n = strcspn(p, ",");
            mlf_buf_printf(b, "%.*s ", (int)n, p);
            p += n;
            while (*p == ',' || *p == ' ')
                p++;
        }
    }
}

static const char *const global_words = "--home --dags-folder --config -o --output -h --help";

/* Groups (once each) and top-level verbs, space-separated. */
static void top_words(const mlf_cli_command *cmds, size_t n, mlf_buf *b)
{
    for (size_t i = 0; i < n; i++) {
        if (strncmp(cmds[i].help, "internal:", 9) == 0)
            continue;
        const char *w = cmds[i].group ? cmds[i].group : cmds[i].verb;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strncmp(cmds[j].help, "internal:", 9) != 0 &&
                   strcmp(cmds[j].group ? cmds[j].group : cmds[j].verb, w) == 0;
        if (!seen)
            mlf_buf_printf(b, "%s ", w);
    }
}

static void group_verbs(const mlf_cli_command *cmds, size_t n, const char *group, mlf_buf *b)
{
    for (size_t i = 0; i < n; i++)
        if (cmds[i].group && strcmp(cmds[i].group, group) == 0)
            mlf_buf_printf(b, "%s ", cmds[i].verb);
}

static int print_bash(FILE *f, const mlf_cli_command *cmds, size_t n)
{
    mlf_buf b = {0};
    top_words(cmds, n, &b);
    fprintf(f, "# bash completion for mlflowd (generated by `mlflowd completion bash`)\n"
               "_mlflowd() {\n"
               "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} words=\"\" i w first=\"\" second=\"\"\n"
               "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
               "        w=${COMP_WORDS[i]}\n"
               "        case $w in --home|--dags-folder|--config|-o|--output) ((i++)); continue ;; -*) continue ;; esac\n"
               "        if [ -z \"$first\" ]; then first=$w; elif [ -z \"$second\" ]; then second=$w; fi\n"
               "    done\n"
               "    case $prev in\n"
               "    --home|--dags-folder|--save) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
               "    --config|--secret-key|--server-key) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
               "    -o|--output) COMPREPLY=($(compgen -W \"table plain json yaml\" -- \"$cur\")); return ;;\n"
               "    esac\n"
               "    if [ -z \"$first\" ]; then words=\"%s\"\n"
               "    else case \"$first $second\" in\n",
            b.data ? b.data : "");
    mlf_buf_free(&b);
    /* a group without its verb yet: the verbs */
    for (size_t i = 0; i < n; i++) {
        const mlf_cli_command *c = &cmds[i];
        if (!c->group || strncmp(c->help, "internal:", 9) == 0)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = cmds[j].group && strcmp(cmds[j].group, c->group) == 0;
        if (seen)
            continue;
        mlf_buf v = {0};
        group_verbs(cmds, n, c->group, &v);
        fprintf(f, "        \"%s \") words=\"%s\" ;;\n", c->group, v.data ? v.data : "");
        mlf_buf_free(&v);
    }
    for (size_t i = 0; i < n; i++) {
        const mlf_cli_command *c = &cmds[i];
        if (strncmp(c->help, "internal:", 9) == 0)
            continue;
        char name[64];
        cmd_name(c, name, sizeof name);
        mlf_buf o = {0};
        option_words(name, &o);
        if (c->group)
            fprintf(f, "        \"%s\") words=\"%s%s\" ;;\n", name, o.data ? o.data : "", global_words);
        else
            fprintf(f, "        \"%s \"*) words=\"%s%s\" ;;\n", c->verb, o.data ? o.data : "", global_words);
        mlf_buf_free(&o);
    }
    fprintf(f, "        esac\n"
               "    fi\n"
               "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
               "}\n"
               "complete -F _mlflowd mlflowd\n");
    return ferror(f) ? MLF_EIO : MLF_OK;
}

/* A help text for zsh's _arguments/_describe: ':' and '[' ']' escaped. */
static void zsh_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == ':' || *s == '[' || *s == ']' || *s == '\\')
            fputc('\\', f);
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
}

static int print_zsh(FILE *f, const mlf_cli_command *cmds, size_t n)
{
    fprintf(f, "#compdef mlflowd\n# zsh completion for mlflowd (generated by `mlflowd completion zsh`)\n"
               "_mlflowd() {\n"
               "    local -a words_left cmds opts\n"
               "    local first second w i\n"
               "    for ((i = 2; i < CURRENT; i++)); do\n"
               "        w=${words[i]}\n"
               "        case $w in --home|--dags-folder|--config|-o|--output) ((i++)); continue ;; -*) continue ;; esac\n"
               "        if [[ -z $first ]]; then first=$w; elif [[ -z $second ]]; then second=$w; fi\n"
               "    done\n"
               "    case ${words[CURRENT-1]} in\n"
               "    --home|--dags-folder) _files -/; return ;;\n"
               "    --config|--save|--secret-key|--server-key) _files; return ;;\n"
               "    -o|--output) compadd table plain json yaml; return ;;\n"
               "    esac\n"
               "    if [[ -z $first ]]; then\n"
               "        cmds=(\n");
    for (size_t i = 0; i < n; i++) {
        const mlf_cli_command *c = &cmds[i];
        if (strncmp(c->help, "internal:", 9) == 0)
            continue;
        const char *w = c->group ? c->group : c->verb;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(cmds[j].group ? cmds[j].group : cmds[j].verb, w) == 0;
        if (seen)
            continue;
        fprintf(f, "            '%s:", w);
        zsh_text(f, c->group ? "command group" : c->help);
        fprintf(f, "'\n");
    }
    fprintf(f, "        )\n        _describe 'command' cmds\n        return\n    fi\n    case \"$first $second\" in\n");
    for (size_t i = 0; i < n; i++) {
        const mlf_cli_command *c = &cmds[i];
        if (!c->group || strncmp(c->help, "internal:", 9) == 0)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = cmds[j].group && strcmp(cmds[j].group, c->group) == 0;
        if (seen)
            continue;
        fprintf(f, "    \"%s \")\n        cmds=(\n", c->group);
        for (size_t j = 0; j < n; j++)
            if (cmds[j].group && strcmp(cmds[j].group, c->group) == 0) {
                fprintf(f, "            '%s:", cmds[j].verb);
                zsh_text(f, cmds[j].help);
                fprintf(f, "'\n");
            }
        fprintf(f, "        )\n        _describe 'verb' cmds; return ;;\n");
    }
    fprintf(f, "    esac\n    opts=(--home --dags-folder --config -o --output -h --help)\n"
               "    case \"$first $second\" in\n");
    for (size_t i = 0; i < n; i++) {
        const mlf_cli_command *c = &cmds[i];
        if (strncmp(c->help, "internal:", 9) == 0)
            continue;
        char name[64];
        cmd_name(c, name, sizeof name);
        mlf_buf o = {0};
        option_words(name, &o);
        if (o.data)
            fprintf(f, "    \"%s%s) opts+=(%s) ;;\n", name, c->group ? "\"" : " \"*", o.data);
        mlf_buf_free(&o);
    }
    fprintf(f, "    esac\n    compadd -- $opts\n}\n_mlflowd \"$@\"\n");
    return ferror(f) ? MLF_EIO : MLF_OK;
}

int mlf_cmd_completion(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    size_t n = 0;
    const mlf_cli_command *cmds = mlf_cli_commands(&n);
    if (strcmp(cli->argv[0], "bash") == 0)
        rc = print_bash(cli->out, cmds, n);
    else if (strcmp(cli->argv[0], "zsh") == 0)
        rc = print_zsh(cli->out, cmds, n);
    else
        return mlf_cli_fail(MLF_EXIT_USAGE, "completion: unknown shell '%s' (bash or zsh)", cli->argv[0]);
    return rc == MLF_OK ? MLF_EXIT_OK : MLF_EXIT_FAILED;
}
