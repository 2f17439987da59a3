/* cli_tasks.c -- `tasks clear|test|run|render` and `dags backfill`. */
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_ops.h"
#include "base/fsutil.h"
#include "sched/scheduler.h"
#include "time/schedule.h"
#include "base/strutil.h"
#include "time/timefmt.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct progress {
    int total, done, ok, failed;
    int tty;
} progress;

static void on_run_finished(void *ud, const char *dag_id, const char *run_id, mlf_run_state state)
{
    progress *p = ud;
    (void)dag_id;
    p->done++;
    if (state == MLF_RUN_SUCCESS)
        p->ok++;
    else
        p->failed++;
    if (p->tty) {
        int width = 30, fill = p->total ? p->done * width / p->total : width;
        fprintf(stderr, "\r[%.*s%*s] %d/%d runs (%d success, %d failed) ", fill, "##############################",
                width - fill, "", p->done, p->total, p->ok, p->failed);
    } else {
        fprintf(stderr, "mlflowd: run %s finished: %s (%d/%d)\n", run_id, mlf_run_state_name(state), p->done, p->total);
    }
}

static mlf_scheduler *scheduler_for(mlf_cli *cli, mlf_store *st, char **exe, progress *p)
{
    *exe = mlf_self_exe();
    if (!*exe)
        *exe = strdup("mlflowd"); /* no /proc: rely on PATH */
    int64_t par = mlf_config_int(cli->cfg, "parallelism");
    mlf_scheduler_opts o = {.cfg = cli->cfg, .cat = cli->cat, .bag = cli->bag, .store = st, .exe = *exe,
                            .parallelism = par > 0 ? (int)par : 1, .on_run_finished = p ? on_run_finished : NULL,
                            .ud = p, .executor = "local"}; /* foreground work runs here, whatever the daemon uses */
    mlf_scheduler *s = NULL;
    char err[512];
    if (mlf_scheduler_new(&o, &s, err, sizeof err) != MLF_OK) {
        mlf_cli_fail(MLF_EXIT_FAILED, "%s", err);
        return NULL;
    }
    return s;
}

/* ---------------------------------------------------------------- dags backfill */

typedef struct run_ids {
    char **v;
    size_t n;
} run_ids;

static int collect_run(void *ud, const mlf_run_rec *rec)
{
    run_ids *ids = ud;
    char **v = realloc(ids->v, (ids->n + 1) * sizeof *v);
    if (!v)
        return MLF_ENOMEM;
    ids->v = v;
    ids->v[ids->n++] = strdup(rec->run_id);
    return 0;
}

int mlf_cmd_dags_backfill(mlf_cli *cli)
{
    const char *start_s = mlf_cli_take_value(cli, "--start-date", "-s", NULL);
    const char *end_s = mlf_cli_take_value(cli, "--end-date", "-e", NULL);
    int reset = mlf_cli_take_flag(cli, "--reset-dagruns", NULL);
    mlf_cli_take_flag(cli, "--yes", "-y");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--start-date", "--end-date", "--reset-dagruns", "--yes", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    if (!start_s || !end_s)
        return mlf_cli_fail(MLF_EXIT_USAGE, "dags backfill needs -s START and -e END");
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    mlf_time_us start, end;
    if ((rc = mlf_cli_parse_date(start_s, &start)) || (rc = mlf_cli_parse_date(end_s, &end)))
        return rc;
    if (end < start)
        return mlf_cli_fail(MLF_EXIT_USAGE, "the end date %s is before the start date %s", end_s, start_s);
    if (!dag->schedule)
        return mlf_cli_fail(MLF_EXIT_USAGE, "DAG %s has no schedule: there is nothing to backfill (use dags trigger)",
                            dag->dag_id);
    mlf_schedule *sched = NULL;
    char err[512];
    if (mlf_schedule_parse(dag->schedule, dag->timezone, &sched, err, sizeof err) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "schedule: %s", err);
    mlf_store *st = mlf_cli_store(cli, 1);
    char *exe = NULL;
    progress p = {.tty = isatty(STDERR_FILENO)};
    mlf_scheduler *s = st ? scheduler_for(cli, st, &exe, &p) : NULL;
    if (!s) {
        mlf_schedule_free(sched);
        mlf_store_close(st);
        free(exe);
        return MLF_EXIT_FAILED;
    }
    /* every interval whose logical date lies in [start, end], as Airflow's backfill */
    mlf_interval *ivs = NULL;
    size_t niv = 0;
    mlf_interval iv, last;
    int have_last = 0, created = 0, existing = 0;
    while (niv < 100000 && mlf_schedule_next(sched, have_last ? &last : NULL, start, 0, 1, INT64_MAX / 4, &iv) == MLF_OK &&
           iv.logical_date <= end) {
        mlf_interval *v = realloc(ivs, (niv + 1) * sizeof *v);
        if (!v)
            break;
        ivs = v;
        ivs[niv++] = iv;
        last = iv;
        have_last = 1;
    }
    if (reset && niv) { /* delete the old runs first, in one batch of our own */
        mlf_scheduler_free(s);
        s = NULL;
        mlf_store_txn *w;
        if (mlf_store_write_begin(st, &w) == MLF_OK) {
            for (size_t i = 0; i < niv; i++) {
                run_ids ids = {0};
                mlf_store_run_foreach(w, dag->dag_id, ivs[i].logical_date, ivs[i].logical_date + 1, 0, collect_run, &ids);
                for (size_t k = 0; k < ids.n; k++) {
                    mlf_store_run_delete(w, dag->dag_id, ids.v[k]);
                    free(ids.v[k]);
                }
                free(ids.v);
            }
            mlf_store_write_commit(w);
        }
        free(exe);
        s = scheduler_for(cli, st, &exe, &p);
    }
    rc = MLF_OK;
    for (size_t i = 0; s && i < niv; i++) {
        char id[200];
        rc = mlf_scheduler_create_run_interval(s, dag, MLF_RUN_TYPE_BACKFILL, ivs[i].data_interval_start,
                                               ivs[i].data_interval_end, ivs[i].logical_date, id, sizeof id, err,
                                               sizeof err);
        if (rc == MLF_OK)
            created++;
        else if (rc == MLF_EEXIST)
            existing++;
        else
            break;
    }
    free(ivs);
    if (!s) {
        mlf_schedule_free(sched);
        mlf_store_close(st);
        free(exe);
        return MLF_EXIT_FAILED;
    }
    mlf_schedule_free(sched);
    p.total = created;
    if (rc != MLF_OK && rc != MLF_EEXIST) {
        mlf_scheduler_free(s);
        mlf_store_close(st);
        free(exe);
        return mlf_cli_fail(MLF_EXIT_FAILED, "%s", err);
    }
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    rc = created ? mlf_scheduler_run(s, &stop_requested, dag->dag_id, NULL) : MLF_OK;
    mlf_scheduler_free(s);
    mlf_store_close(st);
    free(exe);
    if (p.tty && created)
        fputc('\n', stderr);
    fprintf(cli->out, "Backfill of %s from %s to %s: %d run(s) created, %d succeeded, %d failed%s\n", dag->dag_id, start_s,
            end_s, created, p.ok, p.failed, existing ? " (runs that already existed were kept: --reset-dagruns reruns them)" : "");
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "the scheduler stopped: %s", mlf_strerror(rc));
    return p.failed || stop_requested ? MLF_EXIT_FAILED : MLF_EXIT_OK;
}

/* ---------------------------------------------------------------- tasks clear */

int mlf_cmd_tasks_clear(mlf_cli *cli)
{
    const char *regex = mlf_cli_take_value(cli, "--task-regex", "-t", NULL);
    const char *start_s = mlf_cli_take_value(cli, "--start-date", "-s", NULL);
    const char *end_s = mlf_cli_take_value(cli, "--end-date", "-e", NULL);
    int down = mlf_cli_take_flag(cli, "--downstream", "-d");
    int up = mlf_cli_take_flag(cli, "--upstream", "-u");
    int only_failed = mlf_cli_take_flag(cli, "--only-failed", "-f");
    mlf_cli_take_flag(cli, "--yes", "-y");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--task-regex", "--start-date", "--end-date",
                                                                 "--downstream", "--upstream", "--only-failed", "--yes", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    mlf_time_us start = INT64_MIN, end = INT64_MAX;
    if ((start_s && (rc = mlf_cli_parse_date(start_s, &start))) || (end_s && (rc = mlf_cli_parse_date(end_s, &end))))
        return rc;
    regex_t re;
    if (regex && regcomp(&re, regex, REG_EXTENDED | REG_NOSUB) != 0)
        return mlf_cli_fail(MLF_EXIT_USAGE, "bad --task-regex '%s'", regex);
    unsigned char *sel = calloc(dag->ntasks ? dag->ntasks : 1, 1);
    for (size_t i = 0; sel && i < dag->ntasks; i++)
        sel[i] = !regex || regexec(&re, dag->tasks[i].task_id, 0, NULL, 0) == 0;
    if (regex)
        regfree(&re);
    unsigned char *base = sel ? malloc(dag->ntasks ? dag->ntasks : 1) : NULL;
    if (!base) {
        free(sel);
        return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
    }
    memcpy(base, sel, dag->ntasks);
    for (size_t i = 0; i < dag->ntasks; i++)
        if (base[i]) {
            if (down)
                mlf_ops_select_closure(dag, i, 1, sel);
            if (up)
                mlf_ops_select_closure(dag, i, 0, sel);
        }
    free(base);
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st) {
        free(sel);
        return MLF_EXIT_FAILED;
    }
    mlf_clear_opts o = {.selected = sel, .start = start, .end = end, .only_failed = only_failed};
    size_t cleared = 0;
    rc = mlf_ops_clear(st, dag, &o, &cleared);
    free(sel);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot clear: %s", mlf_strerror(rc));
    fprintf(cli->out, "Cleared %zu task instance(s); a running scheduler picks their runs up again\n", cleared);
    return MLF_EXIT_OK;
}

/* ---------------------------------------------------------------- tasks run / test / render */

static int print_log(mlf_cli *cli, const char *home, const char *dag_id, const char *run_id, const char *task_id, int map_index,
                     mlf_store *st)
{
    mlf_ti_key k = {.dag_id = dag_id, .run_id = run_id, .task_id = task_id, .map_index = map_index};
    mlf_store_txn *txn;
    mlf_ti_rec r;
    mlf_ti_rec_init(&r);
    int try_number = 0;
    if (mlf_store_read_begin(st, &txn) == MLF_OK) {
        if (mlf_store_ti_get(txn, &k, &r) == MLF_OK)
            try_number = r.try_number;
        mlf_store_read_end(txn);
    }
    mlf_ti_rec_clear(&r);
    char *path = mlf_ti_log_path(home, dag_id, run_id, task_id, map_index, try_number);
    FILE *f = path ? fopen(path, "r") : NULL;
    char buf[8192];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, cli->out);
    if (f)
        fclose(f);
    free(path);
    return 0;
}

static int run_one(mlf_cli *cli, mlf_store *st, const char *home, const mlf_dag *dag, const char *run_id, const char *task_id,
                   int map_index)
{
    char *exe = NULL;
    mlf_scheduler *s = scheduler_for(cli, st, &exe, NULL);
    if (!s) {
        free(exe);
        return MLF_EXIT_FAILED;
    }
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    mlf_ti_state state = MLF_TI_NONE;
    char err[512];
    int rc = mlf_scheduler_run_task(s, dag->dag_id, run_id, task_id, map_index, &stop_requested, &state, err, sizeof err);
    mlf_scheduler_free(s);
    free(exe);
    if (rc != MLF_OK)
        return mlf_cli_fail(rc == MLF_ENOTFOUND ? MLF_EXIT_USAGE : MLF_EXIT_FAILED, "%s", err);
    print_log(cli, home, dag->dag_id, run_id, task_id, map_index, st);
    fprintf(cli->out, "Task instance %s.%s (%s) finished: %s\n", dag->dag_id, task_id, run_id, mlf_ti_state_name(state));
    return state == MLF_TI_SUCCESS || state == MLF_TI_SKIPPED ? MLF_EXIT_OK : MLF_EXIT_FAILED;
}

int mlf_cmd_tasks_run(mlf_cli *cli)
{
    const char *mi = mlf_cli_take_value(cli, "--map-index", "-m", NULL);
    int rc = mlf_cli_check_args(cli, 3, 3, (const char *const[]){"--map-index", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    rc = run_one(cli, st, mlf_config_home(cli->cfg), dag, cli->argv[2], cli->argv[1], mi ? atoi(mi) : -1);
    mlf_store_close(st);
    return rc;
}

/* `tasks test`: one task instance in the foreground, dependencies ignored, nothing recorded (as Airflow):
 * it runs against a throw-away state store in a temporary folder; the log is printed. */
int mlf_cmd_tasks_test(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 2, 3, NULL);
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    if (mlf_dag_task_index(dag, cli->argv[1]) < 0)
        return mlf_cli_fail(MLF_EXIT_USAGE, "DAG %s has no task '%s'", dag->dag_id, cli->argv[1]);
    mlf_time_us logical = mlf_time_now();
    if (cli->argc > 2 && (rc = mlf_cli_parse_date(cli->argv[2], &logical)))
        return rc;
    char tmp[] = "/tmp/mlflowd-tasks-test-XXXXXX";
    if (!mkdtemp(tmp))
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot create a temporary folder");
    char *dir = mlf_strdup_printf("%s/state", tmp);
    mlf_store *st = dir ? mlf_cli_store_at(dir, 1) : NULL;
    free(dir);
    char *exe = NULL, run_id[200], err[512];
    mlf_scheduler *s = st ? scheduler_for(cli, st, &exe, NULL) : NULL;
    rc = s ? mlf_scheduler_create_run(s, dag, MLF_RUN_TYPE_MANUAL, logical, NULL, NULL, run_id, sizeof run_id, err, sizeof err)
           : MLF_EIO;
    mlf_scheduler_free(s);
    free(exe);
    if (rc == MLF_OK) {
        rc = run_one(cli, st, mlf_config_home(cli->cfg), dag, run_id, cli->argv[1], -1);
    } else {
        rc = s ? mlf_cli_fail(MLF_EXIT_FAILED, "%s", err) : MLF_EXIT_FAILED;
    }
    mlf_store_close(st);
    char *cmd = mlf_strdup_printf("rm -rf '%s'", tmp);
    if (cmd && system(cmd) != 0)
        fprintf(stderr, "mlflowd: could not remove %s\n", tmp);
    free(cmd);
    return rc;
}

int mlf_cmd_tasks_render(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 2, 3, NULL);
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    mlf_time_us logical = mlf_time_now();
    if (cli->argc > 2 && (rc = mlf_cli_parse_date(cli->argv[2], &logical)))
        return rc;
    mlf_store *st = mlf_cli_store(cli, 1);
    char *exe = NULL;
    mlf_scheduler *s = st ? scheduler_for(cli, st, &exe, NULL) : NULL;
    mlf_value *params = NULL;
    char err[700];
    rc = s ? mlf_scheduler_render_task(s, dag, cli->argv[1], logical, &params, err, sizeof err) : MLF_EIO;
    mlf_scheduler_free(s);
    mlf_store_close(st);
    free(exe);
    if (rc != MLF_OK) {
        mlf_value_free(params);
        return s ? mlf_cli_fail(rc == MLF_ENOTFOUND ? MLF_EXIT_USAGE : MLF_EXIT_FAILED, "%s", err) : MLF_EXIT_FAILED;
    }
    if (cli->output == MLF_OUTPUT_JSON) {
        char *text = NULL;
        mlf_value_to_json(params, &text);
        fprintf(cli->out, "%s\n", text ? text : "{}");
        free(text);
    } else {
        for (size_t i = 0; i < mlf_value_len(params); i++) {
            char *v = mlf_value_to_display(mlf_map_value_at(params, i));
            fprintf(cli->out, "# ----------------------------------------------------------\n# property: %s\n"
                              "# ----------------------------------------------------------\n%s\n\n",
                    mlf_map_key_at(params, i), v ? v : "");
            free(v);
        }
    }
    mlf_value_free(params);
    return MLF_EXIT_OK;
}
