/* cli_runs.c -- commands around DAG runs: `scheduler`, `dags test|trigger|state|list-runs|pause|unpause`,
 * `tasks state|states-for-dag-run|logs`, `db init|check`. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/ids.h"
#include "cli/cli.h"
#include "cli/cli_table.h"
#include "cli/run_ops.h"
#include "sched/sched_owner.h"
#include "exec/zmq_auth.h"
#include "web/metrics.h"
#include "base/fsutil.h"
#include "base/sdnotify.h"
#include "sched/scheduler.h"
#include "base/strutil.h"
#include "base/suggest.h"
#include "time/timefmt.h"
#include "value/value_json.h"

static volatile sig_atomic_t stop_requested;

static void on_reload_signal(int sig)
{
    (void)sig;
    mlf_zmq_request_reload();
}

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int collect_ti_json(void *ud, const mlf_ti_rec *r)
{
    json_array_append_new(ud, json_pack("{s:s, s:i, s:s, s:i, s:o, s:o}", "task_id", r->task_id, "map_index",
                                        r->map_index, "state", r->state == MLF_TI_NONE ? "none" : mlf_ti_state_name(r->state),
                                        "try_number", r->try_number, "start_date", mlf_cli_time_json(r->start_date),
                                        "end_date", mlf_cli_time_json(r->end_date)));
    return 0;
}

static void print_ti_table(mlf_cli *cli, json_t *tis)
{
    static const mlf_cli_column cols[] = {{"task_id", NULL},   {"map_index", NULL},  {"state", NULL},
                                          {"try_number", "try"}, {"start_date", NULL}, {"end_date", NULL}};
    mlf_cli_print_rows(cli, tis, cols, 6);
}

/* Prints a run with its task instances (the doc/architecture.md §7 JSON shape, or a table). */
static int print_run(mlf_cli *cli, mlf_store *st, const char *dag_id, const char *run_id, int only_tis)
{
    mlf_store_txn *txn;
    if (mlf_store_read_begin(st, &txn) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot read the state store");
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    int rc = mlf_store_run_get(txn, dag_id, run_id, &run);
    if (rc != MLF_OK) {
        mlf_store_read_end(txn);
        return mlf_cli_fail(MLF_EXIT_USAGE, "DAG %s has no run '%s' (see mlflowd dags list-runs %s)", dag_id, run_id, dag_id);
    }
    json_t *tis = json_array();
    mlf_store_ti_foreach_run(txn, dag_id, run_id, NULL, collect_ti_json, tis);
    mlf_store_read_end(txn);
    if (only_tis) {
        if (cli->output == MLF_OUTPUT_JSON)
            mlf_cli_print_json(cli, tis);
        else {
            print_ti_table(cli, tis);
            json_decref(tis);
        }
    } else if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, json_pack("{s:s, s:s, s:s, s:o}", "dag_id", dag_id, "run_id", run_id, "state",
                                  mlf_run_state_name(run.state), "task_instances", tis));
    } else {
        fprintf(cli->out, "DAG run %s/%s: %s\n", dag_id, run_id, mlf_run_state_name(run.state));
        print_ti_table(cli, tis);
        json_decref(tis);
    }
    mlf_run_rec_clear(&run);
    return MLF_EXIT_OK;
}

static int run_state_of(mlf_store *st, const char *dag_id, const char *run_id, mlf_run_state *out)
{
    mlf_store_txn *txn;
    if (mlf_store_read_begin(st, &txn) != MLF_OK)
        return MLF_EIO;
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    int rc = mlf_store_run_get(txn, dag_id, run_id, &run);
    mlf_store_read_end(txn);
    *out = run.state;
    mlf_run_rec_clear(&run);
    return rc;
}

/* systemd (Type=notify, doc/deploy.md): a watchdog ping at every loop turn, at most every half interval,
 * and STOPPING=1 once a stop signal arrived. */
static struct {
    int64_t watchdog_us;
    mlf_time_us last_ping;
    int stopping_sent;
} sd_state;

static void daemon_turn(void *ud, mlf_time_us now)
{
    (void)ud;
    if (stop_requested && !sd_state.stopping_sent) {
        sd_state.stopping_sent = 1;
        mlf_sd_notify("STOPPING=1\nSTATUS=stopping: waiting for running tasks");
    }
    if (sd_state.watchdog_us && now - sd_state.last_ping >= sd_state.watchdog_us / 2) {
        sd_state.last_ping = now;
        mlf_sd_notify("WATCHDOG=1");
    }
}

static mlf_scheduler *make_scheduler(mlf_cli *cli, mlf_store *st, int daemon, char **exe)
{
    *exe = mlf_self_exe();
    if (!*exe)
        *exe = strdup("mlflowd"); /* no /proc: rely on PATH */
    int64_t parallelism = mlf_config_int(cli->cfg, "parallelism");
    mlf_scheduler_opts o = {.cfg = cli->cfg, .cat = cli->cat, .bag = cli->bag, .store = st, .exe = *exe,
                            .parallelism = parallelism > 0 ? (int)parallelism : 1, .create_scheduled_runs = daemon,
                            .watch_dags = daemon, .executor = daemon ? NULL : "local",
                            .on_turn = daemon ? daemon_turn : NULL};
    mlf_scheduler *s = NULL;
    char err[512];
    if (mlf_scheduler_new(&o, &s, err, sizeof err) != MLF_OK) {
        mlf_cli_fail(MLF_EXIT_FAILED, "%s", err);
        return NULL;
    }
    return s;
}

typedef struct found_run {
    char *run_id;
} found_run;

static int take_run_id(void *ud, const mlf_run_rec *rec)
{
    ((found_run *)ud)->run_id = strdup(rec->run_id);
    return MLF_STORE_STOP;
}

/* Reads --conf's JSON object into @p *out (NULL when @p text is NULL). Returns 0 or exit code 2. */
static int parse_conf(const char *text, mlf_value **out)
{
    *out = NULL;
    if (!text)
        return 0;
    char err[256];
    if (mlf_value_from_json(text, strlen(text), out, err, sizeof err) != MLF_OK || mlf_value_type(*out) != MLF_MAP) {
        int got_other = *out != NULL;
        mlf_value_free(*out);
        *out = NULL;
        return mlf_cli_fail(MLF_EXIT_USAGE, "--conf must be a JSON object: %s", got_other ? "got another type" : err);
    }
    return 0;
}

typedef struct log_list {
    char **task_id;
    int *map_index, *try_number;
    size_t n;
} log_list;

static int collect_log(void *ud, const mlf_ti_rec *r)
{
    log_list *l = ud;
    if (r->try_number < 1)
        return 0;
    char **t = realloc(l->task_id, (l->n + 1) * sizeof *t);
    int *m = t ? realloc(l->map_index, (l->n + 1) * sizeof *m) : NULL;
    if (t)
        l->task_id = t;
    if (m)
        l->map_index = m;
    int *y = m ? realloc(l->try_number, (l->n + 1) * sizeof *y) : NULL;
    if (!y)
        return MLF_ENOMEM;
    l->try_number = y;
    if (!(l->task_id[l->n] = strdup(r->task_id)))
        return MLF_ENOMEM;
    l->map_index[l->n] = r->map_index;
    l->try_number[l->n++] = r->try_number;
    return 0;
}

/* `dags test --show-logs`: every try's log of the run, each under a header, on stderr (stdout keeps the
 * run's table or JSON). */
static void show_run_logs(mlf_cli *cli, mlf_store *st, const char *dag_id, const char *run_id)
{
    log_list l = {0};
    mlf_store_txn *txn;
    if (mlf_store_read_begin(st, &txn) == MLF_OK) {
        mlf_store_ti_foreach_run(txn, dag_id, run_id, NULL, collect_log, &l);
        mlf_store_read_end(txn);
    }
    for (size_t i = 0; i < l.n; i++) {
        for (int t = 1; t <= l.try_number[i]; t++) {
            char *path = mlf_ti_log_path(mlf_config_home(cli->cfg), dag_id, run_id, l.task_id[i], l.map_index[i], t);
            FILE *f = path ? fopen(path, "r") : NULL;
            if (l.map_index[i] >= 0)
                fprintf(stderr, "---- %s[%d] try %d ----\n", l.task_id[i], l.map_index[i], t);
            else
                fprintf(stderr, "---- %s try %d ----\n", l.task_id[i], t);
            char buf[8192];
            size_t n;
            while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, stderr);
            if (f)
                fclose(f);
            else
                fprintf(stderr, "(no log at %s)\n", path ? path : "?");
            free(path);
        }
        free(l.task_id[i]);
    }
    free(l.task_id);
    free(l.map_index);
    free(l.try_number);
}

int mlf_cmd_dags_test(mlf_cli *cli)
{
    const char *conf_text = mlf_cli_take_value(cli, "--conf", "-c", NULL);
    int show_logs = mlf_cli_take_flag(cli, "--show-logs", NULL);
    int rc = mlf_cli_check_args(cli, 1, 2, (const char *const[]){"--conf", "--show-logs", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    mlf_time_us logical = mlf_time_now();
    if (cli->argc > 1 && (rc = mlf_cli_parse_date(cli->argv[1], &logical)))
        return rc;
    mlf_value *conf = NULL;
    if ((rc = parse_conf(conf_text, &conf)))
        return rc;
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st) {
        mlf_value_free(conf);
        return MLF_EXIT_FAILED;
    }
    /* as `airflow dags test`: an earlier run for the same date is replaced */
    mlf_store_txn *w;
    if (mlf_store_write_begin(st, &w) == MLF_OK) {
        found_run fr = {0};
        mlf_store_run_foreach(w, dag->dag_id, logical, logical + 1, 0, take_run_id, &fr);
        if (fr.run_id)
            mlf_store_run_delete(w, dag->dag_id, fr.run_id);
        free(fr.run_id);
        mlf_store_write_commit(w);
    }
    char *exe = NULL;
    mlf_scheduler *s = make_scheduler(cli, st, 0, &exe);
    if (!s) {
        free(exe);
        mlf_value_free(conf);
        mlf_store_close(st);
        return MLF_EXIT_FAILED;
    }
    char run_id[200], err[512];
    rc = mlf_scheduler_create_run(s, dag, MLF_RUN_TYPE_MANUAL, logical, NULL, conf, run_id, sizeof run_id, err, sizeof err);
    mlf_value_free(conf);
    if (rc != MLF_OK) {
        mlf_scheduler_free(s);
        mlf_store_close(st);
        free(exe);
        return mlf_cli_fail(MLF_EXIT_FAILED, "%s", err);
    }
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    rc = mlf_scheduler_run(s, &stop_requested, dag->dag_id, run_id);
    mlf_scheduler_free(s);
    free(exe);
    if (rc != MLF_OK) {
        mlf_store_close(st);
        return mlf_cli_fail(MLF_EXIT_FAILED, "the scheduler stopped: %s", mlf_strerror(rc));
    }
    if (show_logs)
        show_run_logs(cli, st, dag->dag_id, run_id);
    int out = print_run(cli, st, dag->dag_id, run_id, 0);
    mlf_run_state state = MLF_RUN_FAILED;
    run_state_of(st, dag->dag_id, run_id, &state);
    mlf_store_close(st);
    if (out != MLF_EXIT_OK)
        return out;
    return state == MLF_RUN_SUCCESS ? MLF_EXIT_OK : MLF_EXIT_FAILED;
}

static int run_daemon(mlf_cli *cli, int standalone);

int mlf_cmd_scheduler(mlf_cli *cli)
{
    return run_daemon(cli, 0);
}

/* `standalone`: the zero-configuration way to start: the home is created if needed, the store initialised,
 * and the scheduler runs with the configured executor (local by default) until Ctrl-C. */
int mlf_cmd_standalone(mlf_cli *cli)
{
    return run_daemon(cli, 1);
}

/* standalone's workers: `mlflowd worker --connect ENDPOINT` processes of this host, logging to HOME/logs. */
static int start_workers(mlf_cli *cli, const char *exe, const char *endpoint, int n, int concurrency, pid_t *pids)
{
    char conc[16];
    snprintf(conc, sizeof conc, "%d", concurrency);
    int started = 0;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "local-%d", i + 1);
        char *log = mlf_strdup_printf("%s/logs/worker-%s.log", mlf_config_home(cli->cfg), name);
        char *dir = mlf_strdup_printf("%s/logs", mlf_config_home(cli->cfg));
        if (dir)
            mkdir(dir, 0755);
        free(dir);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (log)
            posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        char *argv[] = {(char *)exe, "worker", "--connect", (char *)endpoint, "--name", name, "--concurrency", conc, NULL};
        extern char **environ;
        if (posix_spawn(&pids[i], exe, &fa, NULL, argv, environ) == 0)
            started++;
        else
            pids[i] = 0;
        posix_spawn_file_actions_destroy(&fa);
        free(log);
    }
    return started;
}

/* Checks how standalone's worker @p i ended: returns 0 when it exited 0, else 1 after saying how it ended
 * (a crash, or a sanitizer's report in a sanitizer build: its log is HOME/logs/worker-local-N.log). */
static int worker_ended_badly(int i, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        fprintf(stderr, "mlflowd: worker local-%d exited %d (see its log)\n", i + 1, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fprintf(stderr, "mlflowd: worker local-%d was killed by signal %d (see its log)\n", i + 1, WTERMSIG(status));
    return 1;
}

/* Stops standalone's workers with SIGTERM (SIGKILL after 10 s) and reaps each. Returns how many did not exit
 * 0, so that standalone's own exit status shows a worker that crashed or failed on the way out. */
static int stop_workers(pid_t *pids, int n)
{
    int bad = 0, status;
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (int waited = 0; waited < 100; waited++) { /* 10 s for them to finish what they run */
        int left = 0;
        for (int i = 0; i < n; i++) {
            if (pids[i] <= 0)
                continue;
            pid_t rc = waitpid(pids[i], &status, WNOHANG);
            if (rc == 0) {
                left++;
                continue;
            }
            if (rc > 0)
                bad += worker_ended_badly(i, status);
            pids[i] = 0;
        }
        if (!left)
            return bad;
        usleep(100000);
    }
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {
            }
            fprintf(stderr, "mlflowd: worker local-%d did not stop within 10 s of SIGTERM\n", i + 1);
            bad++;
        }
    return bad;
}

static int run_daemon(mlf_cli *cli, int standalone)
{
    /* --insecure: a non-loopback zmq.bind without CurveZMQ is accepted (zmq.insecure, read by the executor) */
    if (mlf_cli_take_flag(cli, "--insecure", NULL))
        setenv("MLFLOWD__ZMQ__INSECURE", "true", 1);
    const char *nworkers_s = standalone ? mlf_cli_take_value(cli, "--workers", NULL, NULL) : NULL;
    const char *web_port = standalone ? mlf_cli_take_value(cli, "--port", "-p", NULL) : NULL;
    int rc = mlf_cli_check_args(cli, 0, 0, (const char *const[]){"--insecure", "--workers", "--port", NULL});
    if (rc)
        return rc;
    int port_n = 0; /* checked here, so that a bad --port stops standalone before anything starts */
    if (web_port && (rc = mlf_cli_parse_int("--port", web_port, 0, 65535, &port_n)))
        return rc;
    if (standalone) {
        /* the zmq executor on an ephemeral loopback port, served by local workers (unless configured otherwise) */
        setenv("MLFLOWD__EXECUTOR", "zmq", 0);
        setenv("MLFLOWD__ZMQ__BIND", "tcp://127.0.0.1:0", 0);
    }
    if ((rc = mlf_cli_dagbag(cli)))
        return rc;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nworkers = (int)(ncpu > 0 ? ncpu : 2);
    if (nworkers_s && (rc = mlf_cli_parse_int("--workers", nworkers_s, 1, 256, &nworkers)))
        return rc;
    if (standalone) {
        fprintf(stderr,
                "mlflowd standalone %s\n  home:        %s\n  DAG folder:  %s (%zu DAG(s) loaded, %zu import error(s))\n"
                "  executor:    %s, parallelism %lld\n  Ctrl-C stops it; `mlflowd dags list-runs DAG` shows what ran.\n",
                MLF_VERSION_STRING, mlf_config_home(cli->cfg), mlf_config_dags_folder(cli->cfg),
                mlf_dagbag_count(cli->bag), mlf_dagbag_errors(cli->bag)->n, mlf_config_str(cli->cfg, "executor"),
                (long long)mlf_config_int(cli->cfg, "parallelism"));
    }
    mlf_diag_print(mlf_dagbag_errors(cli->bag), "mlflowd: DAG import error: ");
    sd_state.watchdog_us = mlf_sd_watchdog_us();
    mlf_sd_notify("STATUS=starting"); /* also takes NOTIFY_SOCKET out of the children's environment */
    mlf_dagbag_set_rescan_interval(cli->bag, mlf_config_duration_us(cli->cfg, "scheduler.dag_dir_list_interval"));
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    char *exe = NULL;
    mlf_scheduler *s = make_scheduler(cli, st, 1, &exe);
    if (!s) {
        free(exe);
        mlf_store_close(st);
        return MLF_EXIT_FAILED;
    }
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction hup = {.sa_handler = on_reload_signal}; /* reloads the workers' allow-list */
    sigaction(SIGHUP, &hup, NULL);
    int lock_fd = -1; /* `dags backfill` refuses to run beside a daemon that holds it */
    mlf_daemon_lock(mlf_config_home(cli->cfg), &lock_fd);
    pid_t workers[256] = {0};
    int nstarted = 0;
    const char *endpoint = mlf_scheduler_worker_endpoint(s);
    if (standalone && endpoint) {
        int64_t par = mlf_config_int(cli->cfg, "parallelism");
        int per = (int)((par > 0 ? par : 32) / nworkers);
        nstarted = start_workers(cli, exe, endpoint, nworkers, per > 0 ? per : 1, workers);
        fprintf(stderr, "  workers:     %d local `mlflowd worker` processes on %s (logs in %s/logs)\n", nstarted,
                endpoint, mlf_config_home(cli->cfg));
    }
    pid_t web = standalone ? mlf_cli_web_spawn(cli, st, exe, web_port) : 0;
    mlf_metrics_server *metrics = mlf_cli_metrics_start(cli, st);
    rc = mlf_scheduler_recover(s);
    if (rc == MLF_OK) {
        fprintf(stderr, "mlflowd: scheduler running: %zu DAG(s) from %s, home %s\n", mlf_dagbag_count(cli->bag),
                mlf_config_dags_folder(cli->cfg), mlf_config_home(cli->cfg));
        char status[300];
        snprintf(status, sizeof status, "READY=1\nSTATUS=scheduling %zu DAG(s) from %s", mlf_dagbag_count(cli->bag),
                 mlf_config_dags_folder(cli->cfg));
        mlf_sd_notify(status);
        rc = mlf_scheduler_run(s, &stop_requested, NULL, NULL);
    }
    int bad_workers = nstarted ? stop_workers(workers, nworkers) : 0;
    mlf_cli_web_stop(web);
    mlf_metrics_stop(metrics);
    mlf_scheduler_free(s);
    if (lock_fd >= 0)
        close(lock_fd);
    mlf_store_close(st);
    free(exe);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "the scheduler stopped: %s", mlf_strerror(rc));
    if (bad_workers)
        return mlf_cli_fail(MLF_EXIT_FAILED, "%d worker(s) did not stop cleanly", bad_workers);
    fprintf(stderr, "mlflowd: scheduler stopped\n");
    return MLF_EXIT_OK;
}

int mlf_cmd_dags_trigger(mlf_cli *cli)
{
    const char *conf_text = mlf_cli_take_value(cli, "--conf", "-c", NULL);
    const char *run_id = mlf_cli_take_value(cli, "--run-id", "-r", NULL);
    const char *date = mlf_cli_take_value(cli, "--logical-date", "-l", NULL);
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--conf", "--run-id", "--logical-date", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    char iderr[300];
    if (run_id && !mlf_id_valid(MLF_ID_RUN, run_id, iderr, sizeof iderr)) /* it names a log folder */
        return mlf_cli_fail(MLF_EXIT_USAGE, "%s", iderr);
    mlf_value *conf = NULL;
    if ((rc = parse_conf(conf_text, &conf)))
        return rc;
    mlf_time_us logical = mlf_time_now();
    if (date && (rc = mlf_cli_parse_date(date, &logical))) {
        mlf_value_free(conf);
        return rc;
    }
    mlf_store *st = mlf_cli_store(cli, 1);
    char *exe = NULL;
    mlf_scheduler *s = st ? make_scheduler(cli, st, 0, &exe) : NULL;
    char id[200], err[512];
    rc = s ? mlf_scheduler_create_run(s, dag, MLF_RUN_TYPE_MANUAL, logical, run_id, conf, id, sizeof id, err, sizeof err)
           : MLF_EIO;
    mlf_scheduler_free(s);
    mlf_store_close(st);
    mlf_value_free(conf);
    free(exe);
    if (rc != MLF_OK)
        return s ? mlf_cli_fail(rc == MLF_EEXIST ? MLF_EXIT_USAGE : MLF_EXIT_FAILED, "%s", err) : MLF_EXIT_FAILED;
    int paused = mlf_cli_dag_paused(cli, dag);
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:s, s:s, s:s, s:b}", "dag_id", dag->dag_id, "run_id", id, "state", "queued",
                                          "is_paused", paused));
    else if (paused)
        fprintf(cli->out,
                "Created DAG run %s/%s, but DAG %s is paused: the run stays queued and will not start until "
                "`mlflowd dags unpause %s`\n", dag->dag_id, id, dag->dag_id, dag->dag_id);
    else
        fprintf(cli->out, "Created DAG run %s/%s (queued; a running scheduler starts it)\n", dag->dag_id, id);
    return MLF_EXIT_OK;
}

int mlf_cmd_dags_state(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 2, 2, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_run_state state;
    rc = run_state_of(st, cli->argv[0], cli->argv[1], &state);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "DAG %s has no run '%s'", cli->argv[0], cli->argv[1]);
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:s, s:s, s:s}", "dag_id", cli->argv[0], "run_id", cli->argv[1], "state",
                                          mlf_run_state_name(state)));
    else
        fprintf(cli->out, "%s\n", mlf_run_state_name(state));
    return MLF_EXIT_OK;
}

int mlf_cmd_tasks_states_for_dag_run(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 2, 2, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    rc = print_run(cli, st, cli->argv[0], cli->argv[1], 1);
    mlf_store_close(st);
    return rc;
}

static int collect_run_json(void *ud, const mlf_run_rec *r)
{
    json_array_append_new(ud, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "dag_id", r->dag_id, "run_id",
                                        r->run_id, "state", mlf_run_state_name(r->state), "run_type",
                                        mlf_run_type_name(r->run_type), "logical_date", mlf_cli_time_json(r->logical_date),
                                        "start_date", mlf_cli_time_json(r->start_date), "end_date", mlf_cli_time_json(r->end_date),
                                        "data_interval_end", mlf_cli_time_json(r->data_interval_end)));
    return 0;
}

int mlf_cmd_dags_list_runs(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_store_txn *txn;
    json_t *runs = json_array();
    if (mlf_store_read_begin(st, &txn) == MLF_OK) {
        mlf_store_run_foreach(txn, cli->argv[0], INT64_MIN, INT64_MAX, MLF_STORE_REVERSE, collect_run_json, runs);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, runs);
        return MLF_EXIT_OK;
    }
    static const mlf_cli_column cols[] = {{"run_id", NULL},       {"state", NULL},   {"run_type", NULL},
                                          {"logical_date", NULL}, {"end_date", NULL}};
    mlf_cli_print_rows(cli, runs, cols, 5);
    json_decref(runs);
    return MLF_EXIT_OK;
}

static int set_paused(mlf_cli *cli, int paused)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    rc = mlf_ops_set_paused(st, dag, paused);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot update the store: %s", mlf_strerror(rc));
    fprintf(cli->out, "DAG %s is %s\n", dag->dag_id, paused ? "paused" : "unpaused");
    return MLF_EXIT_OK;
}

int mlf_cmd_dags_pause(mlf_cli *cli) { return set_paused(cli, 1); }
int mlf_cmd_dags_unpause(mlf_cli *cli) { return set_paused(cli, 0); }

int mlf_cmd_tasks_state(mlf_cli *cli)
{
    const char *mi = mlf_cli_take_value(cli, "--map-index", "-m", NULL);
    int rc = mlf_cli_check_args(cli, 3, 3, (const char *const[]){"--map-index", NULL});
    int map_index = -1;
    if (rc || (mi && (rc = mlf_cli_parse_int("--map-index", mi, 0, INT32_MAX, &map_index))))
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_cli_ti_args(cli, st);
    mlf_ti_key key = {.dag_id = cli->argv[0], .task_id = cli->argv[1], .run_id = cli->argv[2],
                      .map_index = map_index};
    mlf_store_txn *txn;
    mlf_ti_rec rec;
    mlf_ti_rec_init(&rec);
    int paused = 0;
    rc = mlf_store_read_begin(st, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_ti_get(txn, &key, &rec);
        mlf_dag_rec d;
        mlf_dag_rec_init(&d);
        if (mlf_store_dag_get(txn, key.dag_id, &d) == MLF_OK)
            paused = d.is_paused;
        mlf_dag_rec_clear(&d);
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK && !mi && mlf_cli_explain_mapped(st, key.dag_id, key.run_id, key.task_id)) {
        mlf_store_close(st);
        mlf_ti_rec_clear(&rec);
        return MLF_EXIT_USAGE;
    }
    mlf_store_close(st);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "no task instance %s/%s/%s (map index %d)", key.dag_id, key.run_id, key.task_id,
                            key.map_index);
    const char *state_name = rec.state == MLF_TI_NONE ? "none" : mlf_ti_state_name(rec.state);
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:o}", "dag_id", key.dag_id, "task_id",
                                          key.task_id, "run_id", key.run_id, "map_index", key.map_index, "state",
                                          state_name, "try_number", rec.try_number, "message",
                                          rec.message ? json_string(rec.message)
                                          : paused && rec.state == MLF_TI_NONE ? json_string("the DAG is paused")
                                                                               : json_null()));
    else
        fprintf(cli->out, "%s\n", state_name);
    if (rec.message && cli->output != MLF_OUTPUT_JSON)
        fprintf(stderr, "%s\n", rec.message);
    else if (cli->output != MLF_OUTPUT_JSON && !rec.message && (rec.state == MLF_TI_NONE || rec.state == MLF_TI_SCHEDULED) && paused)
        fprintf(stderr, "DAG %s is paused: its runs do not start (mlflowd dags unpause %s)\n", key.dag_id, key.dag_id);
    mlf_ti_rec_clear(&rec);
    return MLF_EXIT_OK;
}

int mlf_cmd_tasks_logs(mlf_cli *cli)
{
    const char *try_text = mlf_cli_take_value(cli, "--try", NULL, NULL);
    const char *mi = mlf_cli_take_value(cli, "--map-index", "-m", NULL);
    int rc = mlf_cli_check_args(cli, 3, 3, (const char *const[]){"--try", "--map-index", NULL});
    if (rc || mlf_cli_config(cli) != MLF_OK)
        return rc ? rc : MLF_EXIT_USAGE;
    int try_number = 0, map_index = -1;
    if ((try_text && (rc = mlf_cli_parse_int("--try", try_text, 1, INT32_MAX, &try_number))) ||
        (mi && (rc = mlf_cli_parse_int("--map-index", mi, 0, INT32_MAX, &map_index))))
        return rc;
    mlf_store *args_st = mlf_cli_store(cli, 0);
    if (!args_st)
        return MLF_EXIT_FAILED;
    mlf_cli_ti_args(cli, args_st); /* argv: DAG_ID TASK_ID RUN_ID from here on */
    mlf_store_close(args_st);
    const char *dag_id = cli->argv[0], *task_id = cli->argv[1], *run_id = cli->argv[2];
    if (!mi) { /* a mapped task has no TI of its own: say so, with its indexes */
        mlf_store *st = mlf_cli_store(cli, 0);
        mlf_ti_key key = {.dag_id = dag_id, .run_id = run_id, .task_id = task_id, .map_index = -1};
        mlf_store_txn *txn;
        mlf_ti_rec rec;
        mlf_ti_rec_init(&rec);
        int own = 0;
        if (st && mlf_store_read_begin(st, &txn) == MLF_OK) {
            own = mlf_store_ti_get(txn, &key, &rec) == MLF_OK;
            mlf_store_read_end(txn);
        }
        mlf_ti_rec_clear(&rec);
        int mapped = st && !own && mlf_cli_explain_mapped(st, key.dag_id, key.run_id, key.task_id);
        mlf_store_close(st);
        if (!st || mapped)
            return st ? MLF_EXIT_USAGE : MLF_EXIT_FAILED;
    }
    if (!try_number) { /* the latest try */
        mlf_store *st = mlf_cli_store(cli, 0);
        if (!st)
            return MLF_EXIT_FAILED;
        mlf_ti_key key = {.dag_id = dag_id, .run_id = run_id, .task_id = task_id, .map_index = map_index};
        mlf_store_txn *txn;
        mlf_ti_rec rec;
        mlf_ti_rec_init(&rec);
        if (mlf_store_read_begin(st, &txn) == MLF_OK) {
            if (mlf_store_ti_get(txn, &key, &rec) == MLF_OK)
                try_number = rec.try_number;
            mlf_store_read_end(txn);
        }
        mlf_ti_rec_clear(&rec);
        mlf_store_close(st);
        if (!try_number)
            return mlf_cli_fail(MLF_EXIT_USAGE, "task instance %s/%s/%s has not run", dag_id, run_id, task_id);
    }
    char *path = mlf_ti_log_path(mlf_config_home(cli->cfg), dag_id, run_id, task_id, map_index, try_number);
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        rc = mlf_cli_fail(MLF_EXIT_USAGE, "no log at %s", path ? path : "?");
        free(path);
        return rc;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, cli->out);
    fclose(f);
    free(path);
    return MLF_EXIT_OK;
}

int mlf_cmd_db_init(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_store_close(st);
    fprintf(cli->out, "State store ready in %s/state\n", mlf_config_home(cli->cfg));
    return MLF_EXIT_OK;
}

static void report_problem(void *ud, const char *table, const char *key, const char *problem)
{
    (void)ud;
    fprintf(stderr, "%s %s: %s\n", table, key ? key : "", problem);
}

int mlf_cmd_db_check(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    unsigned long problems = 0;
    rc = mlf_store_check(st, report_problem, NULL, &problems);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "check failed: %s", mlf_strerror(rc));
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:b, s:I}", "ok", problems == 0, "problems", (json_int_t)problems));
    if (problems)
        return mlf_cli_fail(MLF_EXIT_FAILED, "%lu problem(s) found", problems);
    if (cli->output != MLF_OUTPUT_JSON)
        fprintf(cli->out, "State store OK\n");
    return MLF_EXIT_OK;
}
