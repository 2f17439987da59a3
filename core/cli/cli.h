/* cli.h -- the command-line front end: one binary, subcommands (`mlflowd GROUP VERB ...`), as `airflow`.
 *
 * Exit codes (doc/architecture.md §7): 0 success, 1 the work failed, 2 bad usage or bad input. */
#ifndef MLF_CORE_CLI_H
#define MLF_CORE_CLI_H

#include <stdio.h>
#include <sys/types.h>

#include "conf/config.h"
#include "dag/dagbag.h"
#include "plugin/registry.h"

#define MLF_EXIT_OK 0
#define MLF_EXIT_FAILED 1
#define MLF_EXIT_USAGE 2

struct json_t;
struct mlf_store;

typedef struct mlf_cli mlf_cli;

/** A command handler: returns an exit code. */
typedef int (*mlf_cli_fn)(mlf_cli *cli);

/** One command of the table. */
typedef struct mlf_cli_command {
    const char *group;  /**< "dags", "plugins"...; NULL for top-level verbs (version, scheduler...) */
    const char *verb;
    mlf_cli_fn fn;      /**< NULL: documented but not supported yet in this build */
    const char *usage;  /**< the arguments after the verb, e.g. "DAG_ID [-o table|json]" */
    const char *help;   /**< one line */
} mlf_cli_command;

/** Output format chosen with -o / --output. */
typedef enum mlf_output {
    MLF_OUTPUT_TABLE = 0,
    MLF_OUTPUT_JSON = 1, /**< also for -o yaml: the dispatcher turns the command's JSON into YAML */
    MLF_OUTPUT_PLAIN = 2 /**< -o plain: handlers print it as the table */
} mlf_output;

struct mlf_cli {
    const mlf_cli_command *cmd;
    int argc;                 /**< arguments after the verb, global options removed */
    char **argv;
    mlf_config_args cfg_args; /**< --config, --home, --dags-folder */
    mlf_output output;
    int output_given;
    int yaml;                 /**< -o yaml: output is JSON, captured and printed as YAML by the dispatcher */
    mlf_config *cfg;          /**< loaded on demand by mlf_cli_config() */
    mlf_catalog *cat;         /**< loaded on demand by mlf_cli_plugins() */
    mlf_dagbag *bag;          /**< loaded on demand by mlf_cli_dagbag() */
    FILE *out;                /**< stdout */
    struct mlf_store *paused_st; /**< read-only store opened by mlf_cli_dag_paused() (NULL: none yet) */
    int paused_st_tried;
    char *ti_run_id;             /**< the run id mlf_cli_ti_args() resolved (owned) */
};

/** Runs the command line; returns the process exit code. */
int mlf_cli_main(int argc, char **argv);

/** Removes the flag @p name (e.g. "--conf") or its short alias @p short_name (may be NULL) from the
 * command's arguments and returns its value ("--conf X" or "--conf=X"), or NULL when absent. A flag given
 * without its value sets *missing (when not NULL). Borrowed from argv. */
const char *mlf_cli_take_value(mlf_cli *cli, const char *name, const char *short_name, int *missing);

/** Removes a boolean flag; returns 1 when it was present. */
int mlf_cli_take_flag(mlf_cli *cli, const char *name, const char *short_name);

/** Checks that no unknown flag is left and that the positional count is within [min, max] (max -1:
 * unbounded). On error prints the problem and the usage to stderr and returns MLF_EXIT_USAGE, else 0. */
int mlf_cli_check_args(mlf_cli *cli, int min, int max, const char *const *known_flags);

/** Prints "mlflowd: " + message to stderr and returns @p code. */
int mlf_cli_fail(int code, const char *fmt, ...) MLF_PRINTF(2, 3);

/** Loads the configuration once (printing its errors). Returns MLF_OK or an error already reported. */
int mlf_cli_config(mlf_cli *cli);

/** Loads the configuration and the plugins once. Plugin refusals are printed to stderr; the return value
 * is the number of refused plugins (the loaded ones stay usable), or -1 when the config did not load. */
int mlf_cli_plugins(mlf_cli *cli);

/** Loads config, plugins and the DAG folder once. Returns 0, or an exit code after printing why. Plugin
 * refusals are printed but do not stop the command (their DAGs then fail to load, visibly). */
int mlf_cli_dagbag(mlf_cli *cli);

/** Opens the state store under the home (creating home and store when @p create). Prints why on failure
 * and returns NULL. Close with mlf_store_close(). */
struct mlf_store *mlf_cli_store(mlf_cli *cli, int create);

/** As mlf_cli_store() for the store in folder @p dir, without a secrets key (attach one with
 * mlf_cli_store_secrets()). */
struct mlf_store *mlf_cli_store_at(const char *dir, int create);

/** Attaches this configuration's secrets key to @p st (cli_secrets.c): core.secrets_key, else the file
 * core.secrets_key_file, created (mode 0600) when missing and nothing is sealed yet. Returns 0, or an exit
 * code after printing why ("secrets key does not match the store: ..."). */
int mlf_cli_store_secrets(mlf_cli *cli, struct mlf_store *st);

/** The DAG named @p dag_id from the DAG bag (load it first with mlf_cli_dagbag()), or NULL after printing
 * why (exit code 2): that file's own load errors when it failed to load, and a "did you mean". */
const mlf_dag *mlf_cli_dag(mlf_cli *cli, const char *dag_id);

/** The task instance arguments of `tasks state|run|logs|xcom`: DAG_ID TASK_ID RUN (Airflow's order), RUN a
 * run id or a logical date (Airflow's LOGICAL_DATE_OR_RUN_ID: a run id first, else the DAG's run with that
 * logical date). The older order DAG_ID RUN TASK_ID (of `tasks logs` and `tasks xcom`) is still understood
 * when the third argument names no run and the second does. Rewrites cli->argv[1] to the task id and
 * cli->argv[2] to the run id (kept in cli->ti_run_id); with no such run argv stays as given, for the
 * command to report. Needs cli->argc == 3. Returns MLF_OK. */
int mlf_cli_ti_args(mlf_cli *cli, struct mlf_store *st);

/** Parses a DATE argument (a date or RFC 3339 timestamp, UTC unless an offset is given). Returns 0, or
 * exit code 2 after printing why. */
int mlf_cli_parse_date(const char *text, mlf_time_us *out);

/** Asks @p question (" [y/N]" is appended) on stderr and reads one line from stdin: returns 1 for "y" or
 * "yes" (any case), 0 for anything else or end of input (commands that delete ask first, unless -y). */
int mlf_cli_confirm(const char *question);

/** Reads @p text, the value of @p option (for the message), as a whole number in [min, max] into @p *out.
 * Returns 0, or exit code 2 after printing why (not a number, trailing characters, out of range). */
int mlf_cli_parse_int(const char *option, const char *text, long min, long max, int *out);

/** When task @p task_id of run @p run_id is mapped (has TIs with map_index >= 0), prints to stderr that it
 * is and lists the indexes; returns their count (0: not mapped, nothing printed). */
int mlf_cli_explain_mapped(struct mlf_store *st, const char *dag_id, const char *run_id, const char *task_id);

/** Prints @p j (reference stolen) as indented JSON, keys in insertion order. */
void mlf_cli_print_json(mlf_cli *cli, struct json_t *j);

/** Whether @p dag is paused (from the state store when it exists; else the DAG's is_paused_upon_creation).
 * The configuration must be loaded. */
int mlf_cli_dag_paused(mlf_cli *cli, const mlf_dag *dag);

/** A time as a new JSON string (RFC 3339), or JSON null when unset (MLF_TIME_NONE or 0). */
struct json_t *mlf_cli_time_json(mlf_time_us t);

/** The command table: @p *n entries (static). */
const mlf_cli_command *mlf_cli_commands(size_t *n);

/** Prints the "Options:" section of @p c's help (nothing when it has none) and, for commands with
 * structured output, the formats of -o. */
void mlf_cli_print_options(FILE *f, const mlf_cli_command *c);

/** 1 when @p c prints structured output for -o json and -o yaml. */
int mlf_cli_structured(const mlf_cli_command *c);

/** Writes the JSON document(s) in @p json_text (@p len bytes; several are a YAML stream) as block YAML to
 * @p f. Returns MLF_OK or MLF_EPARSE (not JSON: nothing more is written). */
int mlf_cli_json_to_yaml(FILE *f, const char *json_text, size_t len);

/* Handlers, one file per group. */
int mlf_cmd_completion(mlf_cli *cli);
/* cli_assets.c (doc/assets.md) */
int mlf_cmd_assets_list(mlf_cli *cli);
int mlf_cmd_assets_events(mlf_cli *cli);
int mlf_cmd_assets_create_event(mlf_cli *cli);
/** `events send` (cli_events.c): one request to the scheduler's event socket (doc/assets.md). */
int mlf_cmd_events_send(mlf_cli *cli);
int mlf_cmd_assets_graph(mlf_cli *cli);
int mlf_cmd_db_clean(mlf_cli *cli);
int mlf_cmd_db_backup(mlf_cli *cli);
int mlf_cmd_db_restore(mlf_cli *cli);
int mlf_cmd_dags_delete(mlf_cli *cli);
int mlf_cmd_dags_next_execution(mlf_cli *cli);
int mlf_cmd_tasks_xcom(mlf_cli *cli);
int mlf_cmd_connections_test(mlf_cli *cli);
int mlf_cmd_dags_list(mlf_cli *cli);
int mlf_cmd_dags_list_import_errors(mlf_cli *cli);
int mlf_cmd_dags_show(mlf_cli *cli);
int mlf_cmd_tasks_list(mlf_cli *cli);
int mlf_cmd_scheduler(mlf_cli *cli);
int mlf_cmd_standalone(mlf_cli *cli);
int mlf_cmd_dags_test(mlf_cli *cli);
int mlf_cmd_dags_trigger(mlf_cli *cli);
int mlf_cmd_dags_state(mlf_cli *cli);
int mlf_cmd_dags_list_runs(mlf_cli *cli);
int mlf_cmd_dags_pause(mlf_cli *cli);
int mlf_cmd_dags_unpause(mlf_cli *cli);
int mlf_cmd_tasks_state(mlf_cli *cli);
int mlf_cmd_tasks_states_for_dag_run(mlf_cli *cli);
int mlf_cmd_tasks_logs(mlf_cli *cli);
int mlf_cmd_db_init(mlf_cli *cli);
int mlf_cmd_db_check(mlf_cli *cli);
int mlf_cmd_db_rotate_key(mlf_cli *cli);
int mlf_cmd_dags_backfill(mlf_cli *cli);
int mlf_cmd_tasks_clear(mlf_cli *cli);
int mlf_cmd_tasks_run(mlf_cli *cli);
int mlf_cmd_tasks_test(mlf_cli *cli);
int mlf_cmd_tasks_render(mlf_cli *cli);
int mlf_cmd_plugins_list(mlf_cli *cli);
int mlf_cmd_config_list(mlf_cli *cli);
int mlf_cmd_config_get(mlf_cli *cli);
int mlf_cmd_connections_add(mlf_cli *cli);
int mlf_cmd_connections_get(mlf_cli *cli);
int mlf_cmd_connections_list(mlf_cli *cli);
int mlf_cmd_connections_delete(mlf_cli *cli);
int mlf_cmd_variables_set(mlf_cli *cli);
int mlf_cmd_variables_get(mlf_cli *cli);
int mlf_cmd_variables_list(mlf_cli *cli);
int mlf_cmd_variables_delete(mlf_cli *cli);
int mlf_cmd_pools_set(mlf_cli *cli);
int mlf_cmd_pools_list(mlf_cli *cli);
int mlf_cmd_pools_delete(mlf_cli *cli);
int mlf_cmd_worker(mlf_cli *cli);
int mlf_cmd_keys_generate(mlf_cli *cli);
int mlf_cmd_webserver(mlf_cli *cli);
/** For `standalone`: creates the admin user on the first start (password printed once, saved 0600 in the
 * home), spawns `mlflowd webserver` (log in HOME/logs/webserver.log; with `--port PORT` when @p port is not
 * NULL) and prints its URL, which the webserver writes to HOME/webserver.url once it listens. Returns the
 * child's pid, or 0 when it did not start (said on stderr; the scheduler runs anyway). */
pid_t mlf_cli_web_spawn(mlf_cli *cli, struct mlf_store *st, const char *exe, const char *port);
/** Stops the webserver child @p pid (SIGTERM, SIGKILL after 10 s) and reaps it. 0 is a no-op. */
void mlf_cli_web_stop(pid_t pid);
struct mlf_metrics_server;
/** For `scheduler` and `standalone`: starts the /metrics listener on scheduler.metrics_listen (NULL when
 * that is not set, or after saying on stderr why it could not start). Stop with mlf_metrics_stop(). */
struct mlf_metrics_server *mlf_cli_metrics_start(mlf_cli *cli, struct mlf_store *st);
int mlf_cmd_users_create(mlf_cli *cli);
int mlf_cmd_users_list(mlf_cli *cli);
int mlf_cmd_users_delete(mlf_cli *cli);
int mlf_cmd_users_token(mlf_cli *cli);
/* cached results (cli_cache.c, doc/caching.md) */
int mlf_cmd_cache_list(mlf_cli *cli);
int mlf_cmd_cache_purge(mlf_cli *cli);
int mlf_cmd_workers_list(mlf_cli *cli);

#endif
