/* cli_db.c -- store maintenance: `db clean` (old runs, their task instances, XComs and logs; old log files),
 * `db backup FILE` (online, compacting) and `db restore FILE`. doc/deploy.md shows them in use. */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/fsutil.h"
#include "base/strutil.h"
#include "store/store.h"
#include "store/store_workers.h"
#include "time/duration.h"
#include "time/timefmt.h"

/* ---------------------------------------------------------------- db clean */

typedef struct old_run {
    char *dag_id, *run_id;
} old_run;

typedef struct clean_ctx {
    mlf_store_txn *txn;
    mlf_time_us cutoff;
    const char *dag_id; /* the DAG being walked */
    old_run *runs;
    size_t nruns;
    size_t tis, xcoms;
    char **workers;     /* offline workers last heard before the cutoff */
    size_t nworkers;
    int oom;
} clean_ctx;

/* A worker the scheduler gave up (state "gone") and last heard before the cutoff: its record only tells
 * history. Registered ones are never cleaned (the scheduler rewrites them while they live). */
static int take_old_worker(void *ud, const mlf_worker_rec *r)
{
    clean_ctx *c = ud;
    if (!r->state || strcmp(r->state, "gone") != 0 || r->last_heartbeat == MLF_TIME_NONE ||
        r->last_heartbeat >= c->cutoff)
        return 0;
    char **v = realloc(c->workers, (c->nworkers + 1) * sizeof *v);
    if (!v)
        return c->oom = 1, MLF_ENOMEM;
    c->workers = v;
    if (!(v[c->nworkers] = strdup(r->name)))
        return c->oom = 1, MLF_ENOMEM;
    c->nworkers++;
    return 0;
}

static int count_ti(void *ud, const mlf_ti_rec *r)
{
    (void)r;
    ((clean_ctx *)ud)->tis++;
    return 0;
}

static int count_xcom(void *ud, const mlf_ti_key *ti, const char *key, const void *val, size_t len)
{
    (void)ti, (void)key, (void)val, (void)len;
    ((clean_ctx *)ud)->xcoms++;
    return 0;
}

/* A finished run that ended before the cutoff (queued and running runs are never cleaned). */
static int take_old_run(void *ud, const mlf_run_rec *r)
{
    clean_ctx *c = ud;
    if ((r->state != MLF_RUN_SUCCESS && r->state != MLF_RUN_FAILED) || r->end_date == MLF_TIME_NONE ||
        r->end_date == 0 || r->end_date >= c->cutoff)
        return 0;
    old_run *v = realloc(c->runs, (c->nruns + 1) * sizeof *v);
    if (!v)
        return c->oom = 1, MLF_ENOMEM;
    c->runs = v;
    v[c->nruns].dag_id = strdup(r->dag_id);
    v[c->nruns].run_id = strdup(r->run_id);
    if (!v[c->nruns].dag_id || !v[c->nruns].run_id) {
        free(v[c->nruns].dag_id);
        free(v[c->nruns].run_id);
        return c->oom = 1, MLF_ENOMEM;
    }
    c->nruns++;
    mlf_store_ti_foreach_run(c->txn, r->dag_id, r->run_id, NULL, count_ti, c);
    mlf_store_xcom_foreach(c->txn, r->dag_id, r->run_id, NULL, count_xcom, c);
    return 0;
}

static int walk_dag(void *ud, const mlf_dag_rec *d)
{
    clean_ctx *c = ud;
    return mlf_store_run_foreach(c->txn, d->dag_id, INT64_MIN, INT64_MAX, 0, take_old_run, c) == MLF_ENOMEM
               ? MLF_ENOMEM
               : 0;
}

/* nftw has no user pointer: the walk's state lives here (one walk at a time, in one thread). */
static struct {
    time_t cutoff;
    int dry;
    size_t files;
    unsigned long long bytes;
    const char *root;
} log_walk;

static int old_log(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_F && S_ISREG(sb->st_mode) && sb->st_mtime < log_walk.cutoff &&
        strncmp(path + strlen(log_walk.root), "/worker-", 8) != 0) { /* workers' own logs are not task logs */
        if (log_walk.dry || unlink(path) == 0) {
            log_walk.files++;
            log_walk.bytes += (unsigned long long)sb->st_size;
        }
    } else if (type == FTW_DP && !log_walk.dry && strcmp(path, log_walk.root) != 0) {
        rmdir(path); /* only succeeds when the folder is empty */
    }
    return 0;
}

static int remove_tree_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_F || type == FTW_SL) {
        if (unlink(path) == 0) {
            log_walk.files++;
            log_walk.bytes += (unsigned long long)sb->st_size;
        }
    } else if (type == FTW_DP) {
        rmdir(path);
    }
    return 0;
}

/* Counts (dry) or removes the log folder of one run: HOME/logs/DAG/RUN (doc/architecture.md §7). */
static void run_logs(const char *home, const old_run *r, int dry)
{
    char *dir = mlf_strdup_printf("%s/logs/%s/%s", home, r->dag_id, r->run_id);
    if (!dir)
        return;
    if (strstr(r->dag_id, "..") || strstr(r->run_id, "..") || strchr(r->dag_id, '/') || strchr(r->run_id, '/')) {
        free(dir); /* ids are validated when runs are created; never leave the logs folder regardless */
        return;
    }
    if (dry) {
        time_t keep = log_walk.cutoff;
        log_walk.cutoff = (time_t)INT64_MAX >> 1; /* count every file */
        log_walk.dry = 1;
        const char *root = log_walk.root;
        log_walk.root = dir;
        nftw(dir, old_log, 16, FTW_PHYS | FTW_DEPTH);
        log_walk.root = root;
        log_walk.cutoff = keep;
    } else {
        nftw(dir, remove_tree_entry, 16, FTW_PHYS | FTW_DEPTH);
    }
    free(dir);
}

/* Runs deleted per write batch: a running scheduler waits for one batch at a time, never for the whole. */
#define CLEAN_BATCH 200

/* `db clean [--older-than AGE] [--dry-run] [-y]`: Airflow's db clean. Finished runs that ended before now -
 * AGE (default: retention.runs) go with their task instances, XComs and log folders; with retention.logs,
 * task log files older than that go too. */
int mlf_cmd_db_clean(mlf_cli *cli)
{
    const char *age_s = mlf_cli_take_value(cli, "--older-than", NULL, NULL);
    int dry = mlf_cli_take_flag(cli, "--dry-run", NULL);
    int yes = mlf_cli_take_flag(cli, "--yes", "-y");
    int rc = mlf_cli_check_args(cli, 0, 0, (const char *const[]){"--older-than", "--dry-run", "--yes", NULL});
    if (rc || mlf_cli_config(cli) != MLF_OK)
        return rc ? rc : MLF_EXIT_USAGE;
    int64_t runs_age = 0, logs_age = mlf_config_duration_us(cli->cfg, "retention.logs");
    char err[256] = "";
    if (age_s) {
        if (mlf_duration_parse(age_s, &runs_age, err, sizeof err) != MLF_OK || runs_age <= 0)
            return mlf_cli_fail(MLF_EXIT_USAGE, "--older-than: %s", runs_age <= 0 && !err[0] ? "must be positive" : err);
    } else {
        runs_age = mlf_config_duration_us(cli->cfg, "retention.runs");
    }
    if (!runs_age && !logs_age)
        return mlf_cli_fail(MLF_EXIT_USAGE, "db clean: give --older-than AGE (such as 30d), or set retention.runs or "
                                            "retention.logs in the configuration");
    mlf_time_us now = mlf_time_now();
    const char *home = mlf_config_home(cli->cfg);
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    clean_ctx c = {.cutoff = runs_age ? now - runs_age : INT64_MIN};
    int refused = 0;
    if (runs_age && (rc = mlf_store_read_begin(st, &c.txn)) == MLF_OK) {
        rc = mlf_store_dag_foreach(c.txn, walk_dag, &c);
        if (rc == MLF_OK)
            rc = mlf_store_worker_foreach(c.txn, take_old_worker, &c);
        mlf_store_read_end(c.txn);
    }
    char *logroot = mlf_strdup_printf("%s/logs", home);
    log_walk.root = logroot ? logroot : "";
    log_walk.files = 0;
    log_walk.bytes = 0;
    for (size_t i = 0; i < c.nruns && dry; i++)
        run_logs(home, &c.runs[i], 1);
    if (rc == MLF_OK && !c.oom && !dry && !yes && (c.nruns || c.nworkers || logs_age)) {
        char q[400];
        snprintf(q, sizeof q, "Delete %zu finished run(s) that ended before %s (%zu task instance(s), %zu XCom(s)) "
                              "and their logs%s%s?",
                 c.nruns, age_s ? age_s : "retention.runs", c.tis, c.xcoms,
                 logs_age ? ", and task log files older than retention.logs" : "",
                 c.nworkers ? ", and the records of offline workers last heard before then" : "");
        if (!mlf_cli_confirm(q))
            refused = 1;
    }
    size_t deleted = 0;
    for (size_t i = 0; rc == MLF_OK && !refused && !dry && i < c.nruns; i += CLEAN_BATCH) {
        mlf_store_txn *w;
        if ((rc = mlf_store_write_begin(st, &w)) != MLF_OK)
            break;
        size_t end = i + CLEAN_BATCH < c.nruns ? i + CLEAN_BATCH : c.nruns;
        for (size_t j = i; j < end && rc == MLF_OK; j++) {
            rc = mlf_store_run_delete(w, c.runs[j].dag_id, c.runs[j].run_id);
            if (rc == MLF_ENOTFOUND) /* cleared or deleted meanwhile */
                rc = MLF_OK;
        }
        rc = rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
        for (size_t j = i; rc == MLF_OK && j < end; j++, deleted++)
            run_logs(home, &c.runs[j], 0);
    }
    if (rc == MLF_OK && !refused && !dry && c.nworkers) {
        mlf_store_txn *w;
        if ((rc = mlf_store_write_begin(st, &w)) == MLF_OK) {
            for (size_t j = 0; j < c.nworkers && (rc == MLF_OK || rc == MLF_ENOTFOUND); j++)
                rc = mlf_store_worker_delete(w, c.workers[j]);
            rc = rc == MLF_OK || rc == MLF_ENOTFOUND ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
        }
    }
    if (rc == MLF_OK && !refused && logs_age && logroot && access(logroot, F_OK) == 0) {
        log_walk.cutoff = (time_t)((now - logs_age) / 1000000);
        log_walk.dry = dry;
        nftw(logroot, old_log, 16, FTW_PHYS | FTW_DEPTH);
    }
    mlf_store_close(st);
    for (size_t i = 0; i < c.nruns; i++) {
        free(c.runs[i].dag_id);
        free(c.runs[i].run_id);
    }
    free(c.runs);
    for (size_t i = 0; i < c.nworkers; i++)
        free(c.workers[i]);
    free(c.workers);
    free(logroot);
    if (refused)
        return mlf_cli_fail(MLF_EXIT_FAILED, "nothing deleted (not confirmed; -y skips the question)");
    if (rc != MLF_OK || c.oom)
        return mlf_cli_fail(MLF_EXIT_FAILED, "db clean: %s (%zu of %zu run(s) deleted)",
                            mlf_strerror(c.oom ? MLF_ENOMEM : rc), deleted, c.nruns);
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "dry_run", dry, "runs",
                                          (json_int_t)c.nruns, "task_instances", (json_int_t)c.tis, "xcoms",
                                          (json_int_t)c.xcoms, "log_files", (json_int_t)log_walk.files,
                                          "log_bytes", (json_int_t)log_walk.bytes, "workers",
                                          (json_int_t)c.nworkers));
    } else {
        fprintf(cli->out, "%s %zu run(s) (%zu task instance(s), %zu XCom(s)) and %zu log file(s) (%llu KiB)\n",
                dry ? "Would delete" : "Deleted", c.nruns, c.tis, c.xcoms, log_walk.files,
                (log_walk.bytes + 1023) / 1024);
        if (c.nworkers)
            fprintf(cli->out, "%s the records of %zu offline worker(s)\n", dry ? "Would delete" : "Deleted", c.nworkers);
    }
    return MLF_EXIT_OK;
}

/* ---------------------------------------------------------------- db backup / restore */

/* `db backup FILE`: a compacting copy of the store, taken while the scheduler keeps running. */
int mlf_cmd_db_backup(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    char err[600];
    mlf_time_us t0 = mlf_time_now();
    rc = mlf_store_backup(st, cli->argv[0], err, sizeof err);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "db backup: %s", err);
    struct stat sb;
    long long size = stat(cli->argv[0], &sb) == 0 ? (long long)sb.st_size : -1;
    fprintf(cli->out, "Backed up the state store of %s to %s (%lld KiB, %.2f s)\n", mlf_config_home(cli->cfg),
            cli->argv[0], size >= 0 ? (size + 1023) / 1024 : -1, (double)(mlf_time_now() - t0) / 1e6);
    return MLF_EXIT_OK;
}

static void report_problem(void *ud, const char *table, const char *key, const char *problem)
{
    (void)ud;
    fprintf(stderr, "%s %s: %s\n", table, key ? key : "", problem);
}

/* Copies file @p from to @p to (created 0600). Returns 0 or an errno value. */
static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return errno;
    FILE *out = fopen(to, "wbx");
    if (!out) {
        int e = errno;
        fclose(in);
        return e;
    }
    chmod(to, 0600);
    char buf[65536];
    size_t n;
    int e = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            e = errno ? errno : EIO;
            break;
        }
    if (!e && ferror(in))
        e = EIO;
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        e = e ? e : errno;
    fclose(in);
    if (fclose(out) != 0 && !e)
        e = errno;
    return e;
}

/* `db restore FILE`: checks the backup (it opens as an mlflowd store of this schema and passes `db check`),
 * then swaps it in for HOME/state, keeping the old store as HOME/state.before-restore-TIME. Refused while
 * another process (a scheduler, a worker) has the store open. */
int mlf_cmd_db_restore(mlf_cli *cli)
{
    int yes = mlf_cli_take_flag(cli, "--yes", "-y");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--yes", NULL});
    if (rc || mlf_cli_config(cli) != MLF_OK)
        return rc ? rc : MLF_EXIT_USAGE;
    const char *file = cli->argv[0];
    const char *home = mlf_config_home(cli->cfg);
    if (access(file, R_OK) != 0)
        return mlf_cli_fail(MLF_EXIT_USAGE, "db restore: cannot read %s: %s", file, strerror(errno));
    char *state = mlf_strdup_printf("%s/state", home);
    char *staging = mlf_strdup_printf("%s/state.restoring", home);
    char *staged = staging ? mlf_strdup_printf("%s/data.mdb", staging) : NULL;
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
    char *old = mlf_strdup_printf("%s/state.before-restore-%s", home, stamp);
    if (!state || !staging || !staged || !old) {
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
        goto out;
    }
    /* nobody may be using the current store */
    pid_t holder = 0;
    if (mlf_store_dir_users(state, &holder, 1)) {
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "db restore: the state store is in use by process %ld (a scheduler or "
                          "worker?): stop it first (systemctl stop mlflowd-scheduler)", (long)holder);
        goto out;
    }
    /* the backup must be a sound store before anything is replaced */
    char *rm = mlf_strdup_printf("rm -rf '%s'", staging);
    if (!rm || system(rm) != 0) {
        free(rm);
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "cannot clear %s", staging);
        goto out;
    }
    free(rm);
    int e = mlf_mkdir_parents(staging); /* the home itself, for a restore onto a new machine */
    if (!e)
        e = mkdir(staging, 0700) == 0 ? copy_file(file, staged) : errno;
    if (e) {
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "db restore: cannot copy %s into %s: %s", file, staging, strerror(e));
        goto out;
    }
    mlf_store *st = mlf_cli_store_at(staging, 0);
    unsigned long problems = 0;
    /* its secrets must open with this home's key (a backup from before a rotate-key does not) */
    if (st && mlf_cli_store_secrets(cli, st) != MLF_EXIT_OK)
        problems++;
    if (!st || problems || mlf_store_check(st, report_problem, NULL, &problems) != MLF_OK || problems) {
        mlf_store_close(st);
        rc = mlf_cli_fail(MLF_EXIT_USAGE, "db restore: %s is not a sound mlflowd state store%s; nothing was replaced",
                          file, problems ? " (see the problems above)" : "");
        goto out;
    }
    mlf_store_close(st);
    if (!yes) {
        char q[300];
        snprintf(q, sizeof q, "Replace the state store of %s with %s (the current one is kept as %s)?", home, file,
                 old);
        if (!mlf_cli_confirm(q)) {
            rc = mlf_cli_fail(MLF_EXIT_FAILED, "nothing replaced (not confirmed; -y skips the question)");
            goto out;
        }
    }
    if (access(state, F_OK) == 0 && rename(state, old) != 0) {
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "db restore: cannot move %s aside: %s", state, strerror(errno));
        goto out;
    }
    if (rename(staging, state) != 0) {
        e = errno;
        rename(old, state); /* put the old one back */
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "db restore: cannot move %s into place: %s", staging, strerror(e));
        goto out;
    }
    fprintf(cli->out, "Restored the state store of %s from %s; the previous one is in %s\n", home, file,
            access(old, F_OK) == 0 ? old : "(there was none)");
    rc = MLF_EXIT_OK;
out:
    if (rc != MLF_EXIT_OK && staging) {
        char *cmd = mlf_strdup_printf("rm -rf '%s'", staging);
        if (cmd && system(cmd) != 0)
            fprintf(stderr, "mlflowd: could not remove %s\n", staging);
        free(cmd);
    }
    free(state);
    free(staging);
    free(staged);
    free(old);
    return rc;
}
