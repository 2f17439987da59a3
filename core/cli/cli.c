/* cli.c -- command table, global options, argument helpers and the dispatcher. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/stat.h>

#include "base/diag.h"
#include "base/log.h"
#include "store/store.h"
#include "base/strutil.h"
#include "time/timefmt.h"
#include "sched/notify.h"
#include "plugin/operators.h"
#include "plugin/plugin_loader.h"
#include "base/suggest.h"
#include "exec/task_runner.h"
#include "exec/task_host.h"

static int cmd_version(mlf_cli *cli);
static int cmd_task_exec(mlf_cli *cli);
static int cmd_task_host(mlf_cli *cli);
static int cmd_notify(mlf_cli *cli);

/* Commands whose help starts with this are for mlflowd's own use: never listed nor suggested. */
#define INTERNAL_PREFIX "internal:"

/* The whole CLI of doc/architecture.md §7. Commands whose handler is NULL are documented but not built yet: they
 * fail with a clear "not supported yet" message instead of pretending. */
static const mlf_cli_command commands[] = {
    {NULL, "version", cmd_version, "[-o table|json]", "print the version and the plugin SDK ABI"},
    {NULL, "standalone", mlf_cmd_standalone, "[--workers N] [--port PORT]", "scheduler, zmq executor and N local workers (default: one per core) in one command"},
    {NULL, "scheduler", mlf_cmd_scheduler, "[--insecure]", "run the scheduler daemon"},
    {NULL, "webserver", mlf_cmd_webserver, "[--listen HOST:PORT] [--port PORT] [--routes]",
     "serve the REST API (/api/v1) and the web UI on api.listen (--routes: list the routes and exit)"},
    {NULL, "worker", mlf_cmd_worker,
     "--connect ENDPOINT [--concurrency N] [--queues a,b] [--name NAME] [--server-key FILE.pub --secret-key FILE] "
     "[--insecure]",
     "run a worker that takes task instances from the scheduler (executor: zmq)"},
    {"keys", "generate", mlf_cmd_keys_generate, "FILE [--force]",
     "write a CurveZMQ key pair: the secret key to FILE (mode 0600), the public key to FILE.pub"},
    {"config", "list", mlf_cmd_config_list, "[--defaults] [-o table|json]", "show every configuration key, its value and source"},
    {"config", "get", mlf_cmd_config_get, "KEY", "print one configuration value"},
    {"plugins", "list", mlf_cmd_plugins_list, "[-o table|json]",
     "list loaded plugins and what they registered (operators with their parameters)"},
    {"dags", "list", mlf_cmd_dags_list, "[-o table|json]", "list DAGs"},
    {"dags", "show", mlf_cmd_dags_show, "DAG_ID [--format text|dot|svg] [--save FILE]", "print a DAG's graph"},
    {"dags", "trigger", mlf_cmd_dags_trigger, "DAG_ID [--conf JSON] [--run-id ID] [--logical-date DATE]", "start a manual DAG run"},
    {"dags", "pause", mlf_cmd_dags_pause, "DAG_ID", "pause a DAG"},
    {"dags", "unpause", mlf_cmd_dags_unpause, "DAG_ID", "unpause a DAG"},
    {"dags", "backfill", mlf_cmd_dags_backfill, "DAG_ID -s START -e END [--reset-dagruns]", "run a date range in the foreground"},
    {"dags", "test", mlf_cmd_dags_test, "DAG_ID [DATE] [--conf JSON] [--show-logs] [-o json]", "run one DAG run in the foreground"},
    {"dags", "list-runs", mlf_cmd_dags_list_runs, "DAG_ID [-o table|json]", "list a DAG's runs"},
    {"dags", "state", mlf_cmd_dags_state, "DAG_ID RUN_ID", "print a DAG run's state"},
    {"dags", "list-import-errors", mlf_cmd_dags_list_import_errors, "[-o table|json]", "list DAG files that failed to load"},
    {"tasks", "list", mlf_cmd_tasks_list, "DAG_ID [--tree] [-o table|json]", "list a DAG's tasks"},
    {"tasks", "test", mlf_cmd_tasks_test, "DAG_ID TASK_ID [DATE|RUN_ID]",
     "run one task instance in the foreground, recording nothing (upstream XComs from the given run)"},
    {"tasks", "run", mlf_cmd_tasks_run, "DAG_ID TASK_ID RUN_ID|DATE [--map-index N]", "run one task instance"},
    {"tasks", "state", mlf_cmd_tasks_state, "DAG_ID TASK_ID RUN_ID|DATE [--map-index N]", "print a task instance's state"},
    {"tasks", "clear", mlf_cmd_tasks_clear, "DAG_ID [-t REGEX] [--downstream] [--upstream] [--only-failed] [-s START] [-e END] [--no-cache] [-y]",
     "clear task instances so they run again (asks first, unless -y)"},
    {"tasks", "logs", mlf_cmd_tasks_logs, "DAG_ID TASK_ID RUN_ID|DATE [--try N] [--map-index N]", "print a task instance's log"},
    {"tasks", "states-for-dag-run", mlf_cmd_tasks_states_for_dag_run, "DAG_ID RUN_ID [-o table|json]", "print the states of a run's TIs"},
    {"tasks", "render", mlf_cmd_tasks_render, "DAG_ID TASK_ID [DATE] [-o json]", "print a task's rendered parameters"},
    {"connections", "add", mlf_cmd_connections_add,
     "CONN_ID (--conn-uri URI | --conn-json JSON | --conn-type TYPE [--conn-host H] [--conn-port P] [--conn-login L] "
     "[--conn-password P] [--conn-schema S] [--conn-extra JSON]) [--conn-description D]",
     "add a connection"},
    {"connections", "get", mlf_cmd_connections_get, "CONN_ID [-o table|json]",
     "show a connection (from the store, else $MLFLOWD_CONN_<ID>; secrets masked)"},
    {"connections", "list", mlf_cmd_connections_list, "[-o table|json]", "list connections (secrets masked)"},
    {"connections", "delete", mlf_cmd_connections_delete, "CONN_ID", "delete a connection"},
    {"variables", "set", mlf_cmd_variables_set, "KEY VALUE [--description D]", "set a variable"},
    {"variables", "get", mlf_cmd_variables_get, "KEY [--default V]", "print a variable"},
    {"variables", "list", mlf_cmd_variables_list, "[-o table|json]", "list variables (sensitive values masked)"},
    {"variables", "delete", mlf_cmd_variables_delete, "KEY", "delete a variable"},
    {"pools", "set", mlf_cmd_pools_set, "NAME SLOTS [DESCRIPTION]", "create or resize a pool (SLOTS -1: unlimited)"},
    {"pools", "list", mlf_cmd_pools_list, "[-o table|json]", "list pools"},
    {"pools", "delete", mlf_cmd_pools_delete, "NAME", "delete a pool"},
    {"users", "create", mlf_cmd_users_create, "NAME [--role viewer|op|admin] [--password P] [--replace]",
     "add a webserver user (no --password: one is generated and printed)"},
    {"users", "list", mlf_cmd_users_list, "[-o table|json]", "list webserver users"},
    {"users", "delete", mlf_cmd_users_delete, "NAME", "delete a webserver user"},
    {"users", "token", mlf_cmd_users_token, "NAME", "print a new API token for NAME (replaces the old one)"},
    {"workers", "list", mlf_cmd_workers_list, "[--state S] [-o table|json]",
     "list the workers of the zmq executor: name, state, host, slots, queues, operators, last heartbeat"},
    {"db", "init", mlf_cmd_db_init, "", "create the state store"},
    {"db", "check", mlf_cmd_db_check, "", "verify the state store"},
    {"db", "rotate-key", mlf_cmd_db_rotate_key, "", "re-seal every secret of the state store under a new secrets key"},
    {"dags", "delete", mlf_cmd_dags_delete, "DAG_ID [-y]",
     "delete a DAG's runs, task instances and XComs from the state store (its file and logs stay)"},
    {"dags", "next-execution", mlf_cmd_dags_next_execution, "DAG_ID [-n N] [-o table|json]",
     "print the logical dates of a DAG's next scheduled runs"},
    {"tasks", "xcom", mlf_cmd_tasks_xcom, "DAG_ID TASK_ID RUN_ID|DATE [-k KEY] [-m N] [-o table|json]",
     "list a task instance's XComs, or print one (--key)"},
    {"connections", "test", mlf_cmd_connections_test, "CONN_ID [-o table|json]",
     "test a connection with the hook that serves its type"},
    {"db", "clean", mlf_cmd_db_clean, "[--older-than AGE] [--dry-run] [-y] [-o table|json]",
     "delete finished runs (task instances, XComs, logs) older than AGE, and old task logs (retention.*)"},
    {"db", "backup", mlf_cmd_db_backup, "FILE", "write a compacted copy of the state store to FILE, while the scheduler runs"},
    {"db", "restore", mlf_cmd_db_restore, "FILE [-y]",
     "replace the state store with a backup (checked first; the scheduler must be stopped)"},
    {"cache", "list", mlf_cmd_cache_list, "[DAG_ID] [-o table|json]",
     "list cached task results (doc/caching.md): task, key, the run that computed it, expiry"},
    {"cache", "purge", mlf_cmd_cache_purge, "[DAG_ID] [--task TASK_ID] [--older-than AGE] [-o table|json]",
     "delete cached task results, so that the next tries of their tasks run"},
    /* assets (doc/assets.md) */
    {"assets", "list", mlf_cmd_assets_list, "[-o table|json]",
     "list the assets DAGs produce, consume or declare, with their event counts"},
    {"assets", "events", mlf_cmd_assets_events, "URI [-n N] [-o table|json]", "print an asset's newest events"},
    {"assets", "create-event", mlf_cmd_assets_create_event, "URI [--extra JSON]",
     "record an asset event for data made outside mlflowd (its consumers run)"},
    {"assets", "graph", mlf_cmd_assets_graph, "[--format dot|svg] [--save FILE]",
     "print which DAGs produce and consume which assets (lineage)"},
    {"events", "send", mlf_cmd_events_send,
     "asset URI|trigger DAG_ID [--endpoint EP] [--extra JSON] [--conf JSON] [--key K] [--run-id ID]",
     "send an asset event or a DAG trigger to a scheduler's event socket (events.listen, CurveZMQ)"},
    {NULL, "completion", mlf_cmd_completion, "bash|zsh", "print the shell completion script for bash or zsh"},
    {NULL, "notify", cmd_notify, "", "internal: run one callback's notifier (used by the scheduler)"},
    {NULL, "task-exec", cmd_task_exec, "[--parent PID]", "internal: run one task instance (used by executors)"},
    {NULL, "task-host", cmd_task_host, "[--parent PID]", "internal: run task instances one after another (host pool)"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const mlf_cli_command *mlf_cli_commands(size_t *n)
{
    *n = NCOMMANDS;
    return commands;
}

static const char *const global_help =
    "Global options (accepted by every command):\n"
    "  --home DIR          mlflowd home (default $MLFLOWD_HOME or ~/.mlflowd)\n"
    "  --dags-folder DIR   DAG folder (default $MLFLOWD_DAGS_FOLDER or HOME/dags)\n"
    "  --config FILE       configuration file (default $MLFLOWD_CONFIG or HOME/mlflowd.yaml)\n"
    "  -o, --output FMT    table, plain, json or yaml, for commands that print (see their --help)\n"
    "  -h, --help          help for the command\n"
    "Configuration keys can be overridden with MLFLOWD__SECTION__KEY environment variables.\n"
    "Exit codes: 0 success, 1 the work failed, 2 bad usage or bad input.\n";

int mlf_cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mlflowd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

static void print_usage(FILE *f, const mlf_cli_command *c)
{
    fprintf(f, "usage: mlflowd %s%s%s%s%s\n", c->group ? c->group : "", c->group ? " " : "", c->verb,
            *c->usage ? " " : "", c->usage);
}

static void print_help(FILE *f, const char *group)
{
    fprintf(f, "mlflowd %s -- a workflow orchestrator for data and ML pipelines\n\n", MLF_VERSION_STRING);
    fprintf(f, "usage: mlflowd COMMAND [ARGS...]\n       mlflowd GROUP VERB [ARGS...]\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const mlf_cli_command *c = &commands[i];
        if (group && (!c->group || strcmp(c->group, group) != 0))
            continue;
        if (strncmp(c->help, INTERNAL_PREFIX, strlen(INTERNAL_PREFIX)) == 0)
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->verb);
        fprintf(f, "  %-30s %s%s\n", name, c->help, c->fn ? "" : " (not supported yet)");
    }
    fprintf(f, "\n%s", global_help);
}

/* Removes argv[i .. i+count-1] from the command's arguments. */
static void drop_args(mlf_cli *cli, int i, int count)
{
    memmove(&cli->argv[i], &cli->argv[i + count], (size_t)(cli->argc - i - count) * sizeof(char *));
    cli->argc -= count;
}

const char *mlf_cli_take_value(mlf_cli *cli, const char *name, const char *short_name, int *missing)
{
    size_t nl = strlen(name);
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, name, nl) == 0 && a[nl] == '=') {
            drop_args(cli, i, 1);
            return a + nl + 1;
        }
        if (strcmp(a, name) == 0 || (short_name && strcmp(a, short_name) == 0)) {
            if (i + 1 >= cli->argc) {
                if (missing)
                    *missing = 1;
                drop_args(cli, i, 1);
                return NULL;
            }
            const char *v = cli->argv[i + 1];
            drop_args(cli, i, 2);
            return v;
        }
    }
    return NULL;
}

int mlf_cli_take_flag(mlf_cli *cli, const char *name, const char *short_name)
{
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--") == 0)
            break;
        if (strcmp(cli->argv[i], name) == 0 || (short_name && strcmp(cli->argv[i], short_name) == 0)) {
            drop_args(cli, i, 1);
            return 1;
        }
    }
    return 0;
}

int mlf_cli_check_args(mlf_cli *cli, int min, int max, const char *const *known_flags)
{
    int positional = 0;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--") == 0) {
            positional += cli->argc - i - 1;
            break;
        }
        if (a[0] == '-' && a[1] != '\0' && !isdigit((unsigned char)a[1])) { /* "-1" is a number */
            size_t n = 0;
            while (known_flags && known_flags[n])
                n++;
            const char *s = n ? mlf_suggest(a, known_flags, n) : NULL;
            fprintf(stderr, "mlflowd: unknown option '%s'%s%s%s\n", a, s ? " (did you mean '" : "", s ? s : "",
                    s ? "'?)" : "");
            print_usage(stderr, cli->cmd);
            return MLF_EXIT_USAGE;
        }
        positional++;
    }
    if (positional < min || (max >= 0 && positional > max)) {
        fprintf(stderr, "mlflowd: %s %s: expected %s%d argument%s, got %d\n", cli->cmd->group ? cli->cmd->group : "",
                cli->cmd->verb, max < 0 ? "at least " : min == max ? "" : "at most ", max < 0 || min == max ? min : max,
                (max < 0 ? min : max) == 1 ? "" : "s", positional);
        print_usage(stderr, cli->cmd);
        return MLF_EXIT_USAGE;
    }
    return 0;
}

int mlf_cli_config(mlf_cli *cli)
{
    if (cli->cfg)
        return MLF_OK;
    char *errors = NULL;
    int rc = mlf_config_load(&cli->cfg_args, &cli->cfg, &errors);
    if (rc != MLF_OK) {
        fprintf(stderr, "mlflowd: the configuration is invalid:\n%s%s", errors ? errors : mlf_strerror(rc),
                errors && *errors && errors[strlen(errors) - 1] == '\n' ? "" : "\n");
        free(errors);
        return rc;
    }
    free(errors);
    /* logging.level: the daemon's diagnostics and every command's (MLFLOWD_LOG_LEVEL wins over the default) */
    mlf_log_level level;
    const char *env_level = getenv("MLFLOWD_LOG_LEVEL");
    if ((mlf_config_source_of(cli->cfg, "logging.level") != MLF_CFG_FROM_DEFAULT || !env_level || !*env_level) &&
        mlf_log_parse_level(mlf_config_str(cli->cfg, "logging.level"), &level) == MLF_OK)
        mlf_log_set_level(level);
    /* the task processes executors start from here find the state store through it (external_task_sensor) */
    setenv("MLFLOWD_HOME", mlf_config_home(cli->cfg), 1);
    return MLF_OK;
}

int mlf_cli_plugins(mlf_cli *cli)
{
    if (cli->cat)
        return 0;
    if (mlf_cli_config(cli) != MLF_OK)
        return -1;
    cli->cat = mlf_catalog_new();
    if (!cli->cat) {
        fprintf(stderr, "mlflowd: out of memory\n");
        return -1;
    }
    size_t npaths = 0, nnames = 0;
    const char *const *paths = mlf_config_plugin_path(cli->cfg, &npaths);
    const char *const *names = mlf_config_plugin_load(cli->cfg, &nnames);
    mlf_diag errors = {0};
    int refused = mlf_plugins_load(cli->cat, paths, npaths, names, nnames, &errors);
    mlf_diag_print(&errors, "mlflowd: plugin error: ");
    mlf_diag_clear(&errors);
    mlf_buf bad = {0}; /* operators.NAME.KEY settings, checked against what the operators declare */
    if (mlf_operators_configure(cli->cat, cli->cfg, &bad)) {
        fprintf(stderr, "%.*s", (int)bad.len, bad.data);
        refused = -1;
    }
    mlf_buf_free(&bad);
    return refused;
}

static int cmd_version(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    if (cli->output == MLF_OUTPUT_JSON)
        fprintf(cli->out, "{\"version\":\"%s\",\"abi\":\"%d.%d\"}\n", MLF_VERSION_STRING, MLF_ABI_MAJOR,
                MLF_ABI_MINOR);
    else
        fprintf(cli->out, "mlflowd %s (plugin SDK ABI %d.%d)\n", MLF_VERSION_STRING, MLF_ABI_MAJOR, MLF_ABI_MINOR);
    return MLF_EXIT_OK;
}

/* `mlflowd task-exec`: one task spec frame on stdin, one result frame on fd 3 (stdout when fd 3 is not
 * open). See task_runner.h. */
static int cmd_notify(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    char err[1024];
    if (mlf_notify_main(STDIN_FILENO, err, sizeof err) != 0)
        return mlf_cli_fail(MLF_EXIT_FAILED, "notify: %s", err);
    return MLF_EXIT_OK;
}

/* The parent-death signal of task-exec: take the whole task (its process group) down with the daemon,
 * so that a scheduler killed with SIGKILL never leaves an orphaned try running beside its retry. */
static void kill_own_group(int sig)
{
    (void)sig;
    kill(0, SIGKILL);
    _exit(128 + SIGKILL);
}

/* `--parent PID`: arms the parent-death signal. Returns 0 or an exit code. */
static int take_parent(mlf_cli *cli)
{
    const char *parent = mlf_cli_take_value(cli, "--parent", NULL, NULL);
    int rc = mlf_cli_check_args(cli, 0, 0, (const char *const[]){"--parent", NULL});
    if (rc)
        return rc;
    if (parent) {
        signal(SIGUSR2, kill_own_group);
        prctl(PR_SET_PDEATHSIG, SIGUSR2);
        if (getppid() != (pid_t)atol(parent)) /* the parent died before the signal was armed */
            kill_own_group(0);
    }
    return 0;
}

/* `mlflowd task-host`: spec frames on stdin, answers on fd 3 (see task_host.h). */
static int cmd_task_host(mlf_cli *cli)
{
    int rc = take_parent(cli);
    if (rc)
        return rc;
    if (fcntl(3, F_GETFD) == -1)
        return mlf_cli_fail(MLF_EXIT_FAILED, "task-host: no result channel on fd 3");
    char err[512];
    rc = mlf_task_host_main(STDIN_FILENO, 3, err, sizeof err);
    if (rc != 0)
        mlf_cli_fail(rc, "task-host: %s", err);
    return rc;
}

static int cmd_task_exec(mlf_cli *cli)
{
    int rc = take_parent(cli);
    if (rc)
        return rc;
    /* with stdout as the result channel, keep a private copy: stdout itself is redirected to the log */
    int out_fd = fcntl(3, F_GETFD) != -1 ? 3 : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (out_fd < 0)
        return mlf_cli_fail(MLF_EXIT_FAILED, "task-exec: no result channel (neither fd 3 nor stdout is open)");
    char err[512];
    rc = mlf_task_exec_main(STDIN_FILENO, out_fd, err, sizeof err);
    if (rc != 0)
        mlf_cli_fail(rc, "task-exec: %s", err);
    return rc;
}

/* Removes the global options from argv (they are accepted anywhere). Returns 0 or an exit code. */
static int take_globals(mlf_cli *cli, int *want_help)
{
    int missing = 0;
    const char *v;
    if ((v = mlf_cli_take_value(cli, "--home", NULL, &missing)))
        cli->cfg_args.home = v;
    if ((v = mlf_cli_take_value(cli, "--dags-folder", NULL, &missing)))
        cli->cfg_args.dags_folder = v;
    if ((v = mlf_cli_take_value(cli, "--config", NULL, &missing)))
        cli->cfg_args.config_file = v;
    if ((v = mlf_cli_take_value(cli, "--output", "-o", &missing))) {
        cli->output_given = 1;
        if (strcmp(v, "json") == 0)
            cli->output = MLF_OUTPUT_JSON;
        else if (strcmp(v, "yaml") == 0)
            cli->output = MLF_OUTPUT_JSON, cli->yaml = 1;
        else if (strcmp(v, "table") == 0)
            cli->output = MLF_OUTPUT_TABLE;
        else if (strcmp(v, "plain") == 0)
            cli->output = MLF_OUTPUT_PLAIN;
        else
            return mlf_cli_fail(MLF_EXIT_USAGE, "unknown output format '%s' (use table, plain, json or yaml)", v);
    }
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "an option is missing its value (see mlflowd --help)");
    *want_help = mlf_cli_take_flag(cli, "--help", "-h");
    return 0;
}

static const mlf_cli_command *find_command(const char *group, const char *verb)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const mlf_cli_command *c = &commands[i];
        if ((group ? c->group && strcmp(c->group, group) == 0 : !c->group) && strcmp(c->verb, verb) == 0)
            return c;
    }
    return NULL;
}

static int is_group(const char *word)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].group && strcmp(commands[i].group, word) == 0)
            return 1;
    return 0;
}

/* "did you mean" over the top-level words (groups and top-level verbs), or over one group's verbs. */
static const char *suggest_word(const char *group, const char *word)
{
    const char *cands[NCOMMANDS];
    size_t n = 0;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const mlf_cli_command *c = &commands[i];
        if (strncmp(c->help, INTERNAL_PREFIX, strlen(INTERNAL_PREFIX)) == 0)
            continue;
        const char *w = group ? (c->group && strcmp(c->group, group) == 0 ? c->verb : NULL)
                              : (c->group ? c->group : c->verb);
        int dup = 0;
        for (size_t j = 0; w && j < n && !dup; j++)
            dup = strcmp(cands[j], w) == 0;
        if (w && !dup)
            cands[n++] = w;
    }
    return mlf_suggest(word, cands, n);
}

int mlf_cli_dagbag(mlf_cli *cli)
{
    if (cli->bag)
        return 0;
    if (mlf_cli_plugins(cli) < 0)
        return MLF_EXIT_USAGE;
    struct stat sb;
    const char *folder = mlf_config_dags_folder(cli->cfg);
    if (stat(folder, &sb) != 0 || !S_ISDIR(sb.st_mode))
        fprintf(stderr, "mlflowd: warning: the DAG folder %s does not exist (set dags_folder in %s/%s, "
                "MLFLOWD_DAGS_FOLDER or --dags-folder)\n", folder, mlf_config_home(cli->cfg), MLF_CONFIG_FILE_NAME);
    cli->bag = mlf_dagbag_new(folder, cli->cat);
    if (!cli->bag || mlf_dagbag_refresh(cli->bag, NULL) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory reading the DAG folder");
    return 0;
}

int mlf_cli_dag_paused(mlf_cli *cli, const mlf_dag *dag)
{
    if (!cli->paused_st_tried) { /* read-only and silent: no store yet means nothing was paused by hand */
        cli->paused_st_tried = 1;
        char *dir = mlf_config_home(cli->cfg) ? mlf_strdup_printf("%s/state", mlf_config_home(cli->cfg)) : NULL;
        char err[256];
        if (dir && access(dir, F_OK) == 0)
            mlf_store_open(dir, MLF_STORE_RDONLY, &cli->paused_st, err, sizeof err);
        free(dir);
    }
    int paused = dag->is_paused_upon_creation;
    mlf_store_txn *txn;
    if (cli->paused_st && mlf_store_read_begin(cli->paused_st, &txn) == MLF_OK) {
        mlf_dag_rec rec;
        mlf_dag_rec_init(&rec);
        if (mlf_store_dag_get(txn, dag->dag_id, &rec) == MLF_OK)
            paused = rec.is_paused;
        mlf_dag_rec_clear(&rec);
        mlf_store_read_end(txn);
    }
    return paused;
}

json_t *mlf_cli_time_json(mlf_time_us t)
{
    char buf[64];
    if (t == MLF_TIME_NONE || !t || mlf_time_format_ts(t, buf, sizeof buf) != MLF_OK)
        return json_null();
    return json_string(buf);
}

mlf_store *mlf_cli_store_at(const char *dir, int create)
{
    mlf_store *st = NULL;
    char err[512] = "";
    int rc = mlf_store_open(dir, create ? MLF_STORE_CREATE : 0, &st, err, sizeof err);
    if (rc != MLF_OK) {
        mlf_cli_fail(MLF_EXIT_FAILED, "cannot open the state store %s: %s", dir, *err ? err : mlf_strerror(rc));
        return NULL;
    }
    return st;
}

mlf_store *mlf_cli_store(mlf_cli *cli, int create)
{
    if (mlf_cli_config(cli) != MLF_OK)
        return NULL;
    if (create)
        mkdir(mlf_config_home(cli->cfg), 0755);
    char *dir = mlf_strdup_printf("%s/state", mlf_config_home(cli->cfg));
    if (!dir) {
        mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
        return NULL;
    }
    mlf_store *st = mlf_cli_store_at(dir, create);
    free(dir);
    if (st && mlf_cli_store_secrets(cli, st) != MLF_EXIT_OK) {
        mlf_store_close(st);
        return NULL;
    }
    return st;
}

const mlf_dag *mlf_cli_dag(mlf_cli *cli, const char *dag_id)
{
    const mlf_dag *d = mlf_dagbag_get(cli->bag, dag_id);
    if (d)
        return d;
    /* a file named after the DAG that failed to load: show its errors */
    const mlf_diag *errs = mlf_dagbag_errors(cli->bag);
    size_t shown = 0;
    for (size_t i = 0; i < errs->n; i++) {
        const char *f = errs->v[i].file ? strrchr(errs->v[i].file, '/') : NULL;
        f = f ? f + 1 : errs->v[i].file;
        if (f && strncmp(f, dag_id, strlen(dag_id)) == 0) {
            char *msg = mlf_diag_format(errs, i);
            fprintf(stderr, "%s\n", msg ? msg : errs->v[i].message);
            free(msg);
            shown++;
        }
    }
    size_t n = mlf_dagbag_count(cli->bag);
    const char **ids = malloc((n ? n : 1) * sizeof *ids);
    const char *sug = NULL;
    for (size_t i = 0; ids && i < n; i++)
        ids[i] = mlf_dagbag_at(cli->bag, i)->dag_id;
    if (ids)
        sug = mlf_suggest(dag_id, ids, n);
    mlf_cli_fail(MLF_EXIT_USAGE, "DAG '%s' does not load%s%s%s%s", dag_id, sug ? " (did you mean '" : "", sug ? sug : "",
                 sug ? "'?)" : "", shown ? ": see the errors above" : "; see mlflowd dags list-import-errors");
    free(ids);
    return NULL;
}

int mlf_cli_parse_date(const char *text, mlf_time_us *out)
{
    char err[256];
    if (mlf_time_parse(text, mlf_tz_utc(), out, err, sizeof err) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "bad date '%s': %s", text, err);
    return 0;
}

int mlf_cli_confirm(const char *question)
{
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) {
        fputc('\n', stderr);
        return 0;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

int mlf_cli_parse_int(const char *option, const char *text, long min, long max, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || v < min || v > max)
        return mlf_cli_fail(MLF_EXIT_USAGE, "%s: expected a whole number from %ld to %ld, got '%s'", option, min, max,
                            text ? text : "");
    *out = (int)v;
    return 0;
}

typedef struct map_indexes {
    const char *task_id;
    mlf_buf text;
    int n;
} map_indexes;

static int add_map_index(void *ud, const mlf_ti_rec *r)
{
    map_indexes *m = ud;
    if (strcmp(r->task_id, m->task_id) != 0 || r->map_index < 0)
        return 0;
    if (m->n < 64)
        mlf_buf_printf(&m->text, "%s%d", m->n ? " " : "", r->map_index);
    else if (m->n == 64)
        mlf_buf_puts(&m->text, " ...");
    m->n++;
    return 0;
}

int mlf_cli_explain_mapped(mlf_store *st, const char *dag_id, const char *run_id, const char *task_id)
{
    mlf_store_txn *txn;
    map_indexes m = {.task_id = task_id};
    if (mlf_store_read_begin(st, &txn) != MLF_OK)
        return 0;
    mlf_store_ti_foreach_run(txn, dag_id, run_id, task_id, add_map_index, &m);
    mlf_store_read_end(txn);
    if (m.n)
        fprintf(stderr, "mlflowd: task %s of %s/%s is mapped into %d task instance(s): give --map-index N "
                "(indexes: %s)\n", task_id, dag_id, run_id, m.n, m.text.data ? m.text.data : "");
    mlf_buf_free(&m.text);
    return m.n;
}

void mlf_cli_print_json(mlf_cli *cli, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (text)
        fprintf(cli->out, "%s\n", text);
    free(text);
}

static void cli_cleanup(mlf_cli *cli)
{
    mlf_store_close(cli->paused_st);
    free(cli->ti_run_id);
    mlf_dagbag_free(cli->bag);
    mlf_catalog_free(cli->cat);
    mlf_config_free(cli->cfg);
}

int mlf_cli_main(int argc, char **argv)
{
    mlf_cli cli = {.out = stdout};
    /* work on a copy of argv[1..] so that handlers can consume arguments */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args)
        return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
    for (int i = 1; i < argc; i++)
        args[i - 1] = argv[i];
    cli.argv = args;
    cli.argc = argc - 1;

    int want_help = 0, rc = take_globals(&cli, &want_help);
    if (rc) {
        free(args);
        return rc;
    }
    if (cli.argc == 0 || (cli.argc == 1 && strcmp(cli.argv[0], "help") == 0)) {
        print_help(want_help || cli.argc ? stdout : stderr, NULL);
        free(args);
        return want_help || cli.argc ? MLF_EXIT_OK : MLF_EXIT_USAGE;
    }
    if (strcmp(cli.argv[0], "--version") == 0)
        cli.argv[0] = "version";

    const char *group = NULL, *verb = cli.argv[0];
    int consumed = 1;
    if (is_group(verb)) {
        group = verb;
        if (cli.argc < 2) {
            print_help(want_help ? stdout : stderr, group);
            free(args);
            return want_help ? MLF_EXIT_OK : MLF_EXIT_USAGE;
        }
        verb = cli.argv[1];
        consumed = 2;
    }
    cli.cmd = find_command(group, verb);
    if (!cli.cmd) {
        const char *s = suggest_word(group, verb);
        if (group)
            mlf_cli_fail(MLF_EXIT_USAGE, "unknown command '%s %s'%s%s%s (see mlflowd %s --help)", group, verb,
                         s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "", group);
        else
            mlf_cli_fail(MLF_EXIT_USAGE, "unknown command '%s'%s%s%s (see mlflowd --help)", verb,
                         s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
        free(args);
        return MLF_EXIT_USAGE;
    }
    cli.argv += consumed;
    cli.argc -= consumed;
    if (want_help) {
        print_usage(stdout, cli.cmd);
        printf("\n%s\n\n", cli.cmd->help);
        mlf_cli_print_options(stdout, cli.cmd);
        printf("%s", global_help);
        free(args);
        return MLF_EXIT_OK;
    }
    if (cli.output == MLF_OUTPUT_JSON && !mlf_cli_structured(cli.cmd)) {
        free(args);
        return mlf_cli_fail(MLF_EXIT_USAGE, "'%s%s%s' prints text only: -o %s is not available for it", group ? group : "",
                            group ? " " : "", verb, cli.yaml ? "yaml" : "json");
    }
    char *captured = NULL;
    size_t captured_len = 0;
    if (cli.yaml && !(cli.out = open_memstream(&captured, &captured_len))) {
        free(args);
        return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
    }
    if (!cli.cmd->fn) {
        free(args);
        return mlf_cli_fail(MLF_EXIT_FAILED, "'%s%s%s' is not supported yet in this build", group ? group : "",
                            group ? " " : "", verb);
    }
    rc = cli.cmd->fn(&cli);
    cli_cleanup(&cli);
    free(args);
    if (cli.yaml) { /* the command printed JSON: show it as YAML */
        fclose(cli.out);
        if (captured_len && mlf_cli_json_to_yaml(stdout, captured, captured_len) != MLF_OK)
            fwrite(captured, 1, captured_len, stdout);
        free(captured);
    }
    if (fflush(stdout) != 0 && rc == MLF_EXIT_OK)
        rc = MLF_EXIT_FAILED;
    return rc;
}
