/* cli_tasks.c -- `tasks clear|test|run|render` and `dags backfill`. */
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/secrets_key.h"
#include "cli/run_ops.h"
#include "sched/sched_owner.h"
#include "base/fsutil.h"
#include "sched/scheduler.h"
#include "time/schedule.h"
#include "base/strutil.h"
#include "time/timefmt.h"
#include "time/tz.h"

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
    /* one owner per run (doc/architecture.md §2): beside a live daemon, the backfill's runs would be
     * resumed and run by it as well */
    if (mlf_daemon_running(mlf_config_home(cli->cfg)))
        return mlf_cli_fail(MLF_EXIT_FAILED,
                            "a scheduler daemon is running on this home (%s): a backfill beside it would run its "
                            "tasks twice; let the daemon run them (mlflowd dags trigger %s --logical-date DATE for "
                            "each interval) or stop it first",
                            mlf_config_home(cli->cfg), dag->dag_id);
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
    int yes = mlf_cli_take_flag(cli, "--yes", "-y");
    int no_cache = mlf_cli_take_flag(cli, "--no-cache", NULL);
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--task-regex", "--start-date", "--end-date",
                                                                 "--downstream", "--upstream", "--only-failed", "--yes",
                                                                 "--no-cache", NULL});
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
    mlf_clear_opts o = {.selected = sel, .start = start, .end = end, .only_failed = only_failed, .no_cache = no_cache};
    size_t cleared = 0;
    if (!yes) { /* first what would be cleared, read-only: the scheduler is not held up while we ask */
        mlf_buf listing = {0};
        o.dry = 1;
        o.listing = &listing;
        rc = mlf_ops_clear(st, dag, &o, &cleared);
        int ask = rc == MLF_OK && cleared > 0;
        if (ask) {
            fprintf(stderr, "You are about to clear %zu task instance(s) of DAG %s:\n%s%s", cleared, dag->dag_id,
                    listing.data ? listing.data : "", cleared > 50 ? "  ...\n" : "");
        }
        mlf_buf_free(&listing);
        if (ask && !mlf_cli_confirm("Clear them?")) {
            free(sel);
            mlf_store_close(st);
            return mlf_cli_fail(MLF_EXIT_FAILED, "nothing cleared (not confirmed; -y skips the question)");
        }
        o.dry = 0;
        o.listing = NULL;
        cleared = 0;
    }
    if (rc == MLF_OK)
        rc = mlf_ops_clear(st, dag, &o, &cleared);
    free(sel);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot clear: %s", mlf_strerror(rc));
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:s, s:I}", "dag_id", dag->dag_id, "cleared", (json_int_t)cleared));
    else
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
    int map_index = -1;
    if (rc || (mi && (rc = mlf_cli_parse_int("--map-index", mi, 0, INT32_MAX, &map_index))) ||
        (rc = mlf_cli_dagbag(cli)))
        return rc;
    const mlf_dag *dag = mlf_cli_dag(cli, cli->argv[0]);
    if (!dag)
        return MLF_EXIT_USAGE;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    rc = run_one(cli, st, mlf_config_home(cli->cfg), dag, cli->argv[2], cli->argv[1], map_index);
    mlf_store_close(st);
    return rc;
}

/* ---------------------------------------------------------------- tasks test */

/* What `tasks test` copies from the real store into its throw-away one. The store allows one transaction
 * per thread, so everything is read first (deep copies), then written. */
typedef struct xcom_copy {
    mlf_ti_rec ti; /* dag_id, run_id, task_id, map_index only */
    char *key;
    void *val;
    size_t len;
} xcom_copy;

typedef struct test_seed {
    const char *skip_task; /* the tested task: its TIs start fresh and its XComs are left behind */
    mlf_var_rec *vars;
    size_t nvars;
    mlf_conn_rec *conns;
    size_t nconns;
    mlf_pool_rec *pools;
    size_t npools;
    mlf_ti_rec *tis;
    size_t ntis;
    xcom_copy *xcoms;
    size_t nxcoms;
    const char *run_id; /* the run wanted by id, or NULL: the first in the date range */
    mlf_run_rec run;
    int found;
    int oom;
} test_seed;

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

static void *dup_bytes(const void *p, size_t n, int *oom)
{
    void *d = p && n ? malloc(n) : NULL;
    if (p && n && !d)
        *oom = 1;
    if (d)
        memcpy(d, p, n);
    return d;
}

/* Grows @p *v (of @p *n elements of @p size) by one zeroed element; returns it or NULL. */
static void *grow(void **v, size_t *n, size_t size)
{
    char *nv = realloc(*v, (*n + 1) * size);
    if (!nv)
        return NULL;
    *v = nv;
    memset(nv + *n * size, 0, size);
    return nv + (*n)++ * size;
}

static int seed_var(void *ud, const mlf_var_rec *r)
{
    test_seed *t = ud;
    mlf_var_rec *v = grow((void **)&t->vars, &t->nvars, sizeof *v);
    if (!v)
        return t->oom = 1, MLF_ENOMEM;
    v->key = dup_or_null(r->key, &t->oom);
    v->val = dup_or_null(r->val, &t->oom);
    v->description = dup_or_null(r->description, &t->oom);
    return t->oom ? MLF_ENOMEM : 0;
}

static int seed_conn(void *ud, const mlf_conn_rec *r)
{
    test_seed *t = ud;
    mlf_conn_rec *c = grow((void **)&t->conns, &t->nconns, sizeof *c);
    if (!c)
        return t->oom = 1, MLF_ENOMEM;
    *c = *r;
    c->conn_id = dup_or_null(r->conn_id, &t->oom);
    c->conn_type = dup_or_null(r->conn_type, &t->oom);
    c->description = dup_or_null(r->description, &t->oom);
    c->host = dup_or_null(r->host, &t->oom);
    c->login = dup_or_null(r->login, &t->oom);
    c->password = dup_or_null(r->password, &t->oom);
    c->schema = dup_or_null(r->schema, &t->oom);
    c->extra = dup_bytes(r->extra, r->extra_len, &t->oom);
    return t->oom ? MLF_ENOMEM : 0;
}

static int seed_pool(void *ud, const mlf_pool_rec *r)
{
    test_seed *t = ud;
    mlf_pool_rec *p = grow((void **)&t->pools, &t->npools, sizeof *p);
    if (!p)
        return t->oom = 1, MLF_ENOMEM;
    p->name = dup_or_null(r->name, &t->oom);
    p->slots = r->slots;
    p->description = dup_or_null(r->description, &t->oom);
    return t->oom ? MLF_ENOMEM : 0;
}

static int seed_ti(void *ud, const mlf_ti_rec *r)
{
    test_seed *t = ud;
    mlf_ti_rec *c = grow((void **)&t->tis, &t->ntis, sizeof *c);
    if (!c)
        return t->oom = 1, MLF_ENOMEM;
    *c = *r;
    c->dag_id = dup_or_null(r->dag_id, &t->oom);
    c->run_id = dup_or_null(r->run_id, &t->oom);
    c->task_id = dup_or_null(r->task_id, &t->oom);
    c->operator_name = dup_or_null(r->operator_name, &t->oom);
    c->pool = dup_or_null(r->pool, &t->oom);
    c->queue = dup_or_null(r->queue, &t->oom);
    c->hostname = c->external_executor_id = c->message = c->note = NULL;
    if (strcmp(r->task_id, t->skip_task) == 0) { /* never ran, as far as the test knows */
        c->state = MLF_TI_NONE;
        c->try_number = 0;
        c->start_date = c->end_date = MLF_TIME_NONE;
        c->pid = 0;
    }
    return t->oom ? MLF_ENOMEM : 0;
}

static int seed_xcom(void *ud, const mlf_ti_key *ti, const char *key, const void *val, size_t len)
{
    test_seed *t = ud;
    if (strcmp(ti->task_id, t->skip_task) == 0)
        return 0;
    xcom_copy *x = grow((void **)&t->xcoms, &t->nxcoms, sizeof *x);
    if (!x)
        return t->oom = 1, MLF_ENOMEM;
    mlf_ti_rec_init(&x->ti);
    x->ti.dag_id = dup_or_null(ti->dag_id, &t->oom);
    x->ti.run_id = dup_or_null(ti->run_id, &t->oom);
    x->ti.task_id = dup_or_null(ti->task_id, &t->oom);
    x->ti.map_index = ti->map_index;
    x->key = dup_or_null(key, &t->oom);
    x->val = dup_bytes(val, len, &t->oom);
    x->len = len;
    return t->oom ? MLF_ENOMEM : 0;
}

static int seed_run(void *ud, const mlf_run_rec *rec)
{
    test_seed *t = ud;
    if (t->run_id && strcmp(rec->run_id, t->run_id) != 0)
        return 0;
    t->run = *rec;
    t->run.dag_id = dup_or_null(rec->dag_id, &t->oom);
    t->run.run_id = dup_or_null(rec->run_id, &t->oom);
    t->run.conf = dup_bytes(rec->conf, rec->conf_len, &t->oom);
    t->run.note = NULL;
    t->run.owner = NULL; /* the throw-away home's run belongs to this process */
    t->found = 1;
    return MLF_STORE_STOP;
}

static void seed_free(test_seed *t)
{
    for (size_t i = 0; i < t->nvars; i++)
        mlf_var_rec_clear(&t->vars[i]);
    for (size_t i = 0; i < t->nconns; i++)
        mlf_conn_rec_clear(&t->conns[i]);
    for (size_t i = 0; i < t->npools; i++)
        mlf_pool_rec_clear(&t->pools[i]);
    for (size_t i = 0; i < t->ntis; i++)
        mlf_ti_rec_clear(&t->tis[i]);
    for (size_t i = 0; i < t->nxcoms; i++) {
        mlf_ti_rec_clear(&t->xcoms[i].ti);
        free(t->xcoms[i].key);
        free(t->xcoms[i].val);
    }
    free(t->vars);
    free(t->conns);
    free(t->pools);
    free(t->tis);
    free(t->xcoms);
    if (t->found)
        mlf_run_rec_clear(&t->run);
}

/* Seeds the throw-away store @p tst from the real store under @p home: variables, connections, pools, and
 * the run named by @p which (a run id, or the run at @p logical) with its task instances and XComs, so that
 * the tested task reads its upstreams' XComs. Returns 1 when the run was found and copied (its id into
 * @p run_id), 0 when there is no such run (or no real store), -1 on a store error or out of memory. */
static int seed_test_store(mlf_cli *cli, const char *home, mlf_store *tst, const mlf_dag *dag, const char *task_id,
                           const char *which, mlf_time_us logical, char *run_id, size_t run_id_len)
{
    char *dir = mlf_strdup_printf("%s/state", home);
    mlf_store *real = NULL;
    char err[256];
    if (!dir || access(dir, F_OK) != 0 || mlf_store_open(dir, MLF_STORE_RDONLY, &real, err, sizeof err) != MLF_OK) {
        free(dir);
        return 0;
    }
    free(dir);
    if (mlf_cli_store_secrets(cli, real) != MLF_EXIT_OK) { /* its connections are sealed */
        mlf_store_close(real);
        return -1;
    }
    test_seed t = {.skip_task = task_id, .run_id = which};
    mlf_store_txn *r = NULL;
    int rc = mlf_store_read_begin(real, &r);
    if (rc == MLF_OK) {
        mlf_store_var_foreach(r, seed_var, &t);
        mlf_store_conn_foreach(r, seed_conn, &t);
        mlf_store_pool_foreach(r, seed_pool, &t);
        if (which)
            mlf_store_run_foreach(r, dag->dag_id, INT64_MIN, INT64_MAX, 0, seed_run, &t);
        else
            mlf_store_run_foreach(r, dag->dag_id, logical, logical + 1, 0, seed_run, &t);
        if (t.found) {
            mlf_store_ti_foreach_run(r, dag->dag_id, t.run.run_id, NULL, seed_ti, &t);
            mlf_store_xcom_foreach(r, dag->dag_id, t.run.run_id, NULL, seed_xcom, &t);
        }
        mlf_store_read_end(r);
    }
    mlf_store_close(real);
    mlf_store_txn *w = NULL;
    if (rc == MLF_OK && !t.oom)
        rc = mlf_store_write_begin(tst, &w);
    for (size_t i = 0; rc == MLF_OK && i < t.nvars; i++)
        rc = mlf_store_var_put(w, &t.vars[i]);
    for (size_t i = 0; rc == MLF_OK && i < t.nconns; i++)
        rc = mlf_store_conn_put(w, &t.conns[i]);
    for (size_t i = 0; rc == MLF_OK && i < t.npools; i++)
        rc = mlf_store_pool_put(w, &t.pools[i]);
    if (rc == MLF_OK && t.found) {
        t.run.state = MLF_RUN_RUNNING;
        rc = mlf_store_run_put(w, &t.run);
        snprintf(run_id, run_id_len, "%s", t.run.run_id);
    }
    for (size_t i = 0; rc == MLF_OK && i < t.ntis; i++)
        rc = mlf_store_ti_put(w, &t.tis[i]);
    for (size_t i = 0; rc == MLF_OK && i < t.nxcoms; i++) {
        mlf_ti_key k = {.dag_id = t.xcoms[i].ti.dag_id, .run_id = t.xcoms[i].ti.run_id,
                        .task_id = t.xcoms[i].ti.task_id, .map_index = t.xcoms[i].ti.map_index};
        rc = mlf_store_xcom_put(w, &k, t.xcoms[i].key, t.xcoms[i].val, t.xcoms[i].len);
    }
    if (w)
        rc = rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
    int found = t.found;
    seed_free(&t);
    return rc != MLF_OK || t.oom ? -1 : found;
}

/* `tasks test DAG TASK [DATE|RUN_ID]`: one task instance in the foreground, dependencies ignored, nothing
 * recorded (as Airflow). It runs against a throw-away home in a temporary folder, seeded from the real
 * store with the variables, connections and pools, and with the given run (by id, or by logical date) and
 * its upstream XComs when that run exists; the try's log goes to the terminal. */
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
    const char *which_run = NULL;
    if (cli->argc > 2) {
        char perr[256];
        if (mlf_time_parse(cli->argv[2], mlf_tz_utc(), &logical, perr, sizeof perr) != MLF_OK)
            which_run = cli->argv[2]; /* not a date: a run id (checked below) */
    }
    char tmp[] = "/tmp/mlflowd-tasks-test-XXXXXX";
    if (!mkdtemp(tmp))
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot create a temporary folder");
    /* the same configuration with the temporary home: the try's log is written there, not beside the
     * real run's logs */
    mlf_config_args args = cli->cfg_args;
    args.home = tmp;
    args.config_file = mlf_config_file(cli->cfg);
    args.dags_folder = mlf_config_dags_folder(cli->cfg);
    mlf_config *real_cfg = cli->cfg, *test_cfg = NULL;
    char *cfg_errors = NULL;
    rc = mlf_config_load(&args, &test_cfg, &cfg_errors);
    free(cfg_errors);
    char *dir = rc == MLF_OK ? mlf_strdup_printf("%s/state", tmp) : NULL;
    mlf_store *st = dir ? mlf_cli_store_at(dir, 1) : NULL;
    free(dir);
    char *exe = NULL, run_id[200], err[512];
    if (st) { /* the temporary store seals the copied secrets under a key of its own, forgotten at the end */
        unsigned char key[MLF_STORE_SECRETS_KEY_LEN];
        mlf_secrets_key_generate(key);
        if (mlf_store_secrets_key(st, key, err, sizeof err) != MLF_OK) {
            mlf_store_close(st);
            st = NULL;
        }
        explicit_bzero(key, sizeof key);
    }
    int seeded = st ? seed_test_store(cli, mlf_config_home(real_cfg), st, dag, cli->argv[1], which_run, logical, run_id,
                                      sizeof run_id)
                    : -1;
    if (seeded < 0) {
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "cannot prepare the test's temporary store in %s", tmp);
    } else if (!seeded && which_run) {
        rc = mlf_cli_fail(MLF_EXIT_USAGE, "'%s' is neither a date nor a run of DAG %s (see mlflowd dags list-runs %s)",
                          which_run, dag->dag_id, dag->dag_id);
    } else {
        if (seeded)
            fprintf(stderr, "mlflowd: testing %s.%s in run %s, with its upstream XComs (nothing is recorded)\n",
                    dag->dag_id, cli->argv[1], run_id);
        cli->cfg = test_cfg;
        mlf_scheduler *s = scheduler_for(cli, st, &exe, NULL);
        rc = s && !seeded ? mlf_scheduler_create_run(s, dag, MLF_RUN_TYPE_MANUAL, logical, NULL, NULL, run_id,
                                                     sizeof run_id, err, sizeof err)
                          : s ? MLF_OK : MLF_EIO;
        mlf_scheduler_free(s);
        free(exe);
        if (rc == MLF_OK)
            rc = run_one(cli, st, tmp, dag, run_id, cli->argv[1], -1);
        else
            rc = s ? mlf_cli_fail(MLF_EXIT_FAILED, "%s", err) : MLF_EXIT_FAILED;
        cli->cfg = real_cfg;
    }
    mlf_store_close(st);
    mlf_config_free(test_cfg);
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
