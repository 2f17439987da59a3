/* slurm_executor.c -- the `slurm` executor: each try is a Slurm batch job (doc/executors/slurm.md).
 *
 * HOW A TRY RUNS. submit() writes the try's TASK SPEC as a frame into the spool folder (a folder shared
 * with the compute nodes, mode 0700: the spec holds the try's secrets) and queues an `sbatch --parsable`
 * of the job script written at open(). On its node the job runs `mlflowd task-exec`, which reads the spec,
 * writes the try's log to the spec's log_path as on any host, and its TASK RESULT frame next to the spec;
 * the script records task-exec's exit code beside it. The executor learns how a job fares from `squeue`,
 * run every poll_interval for all its jobs at once; when Slurm says the job completed or failed it reads
 * the result frame, and when Slurm stopped the job (cancelled, timed out, preempted, node failure, out of
 * memory) it reports a failed result naming the Slurm state. kill() and execution_timeout run `scancel`.
 *
 * THE LOOP. Every Slurm command runs as a child process whose output is read from a non-blocking pipe
 * (slurm_cmd.h): the scheduler's thread never waits for Slurm. At most submit_concurrency sbatch and one
 * squeue run at once; reading the small spec and result files is the only file I/O on the loop.
 *
 * RESTARTS. submit() leases the try to "slurm" and, once sbatch answered, to "slurm:JOBID"; jobs outlive
 * the scheduler (shutdown() leaves them running), and adopt() takes a leased try back by its job id (or,
 * when the scheduler stopped before sbatch answered, by its job name, which carries the attempt token). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mlflowd/mlflowd.h>

#include "base/fsutil.h"
#include "exec/task_spec.h"
#include "slurm_argv.h"
#include "slurm_cmd.h"
#include "slurm_text.h"

#define COMPONENT "slurm"

enum { CMD_SBATCH = 1, CMD_SQUEUE, CMD_SCANCEL };

typedef enum jstate {
    J_QUEUED,     /* spec written, waiting for an sbatch slot */
    J_SUBMITTING, /* sbatch is running */
    J_SUBMITTED,  /* in Slurm's queue (or adopted, its job id maybe still unknown) */
    J_DONE        /* result ready to report */
} jstate;

typedef struct job {
    struct job *next;
    char attempt[40];
    char jobid[MLF_SLURM_JOBID_MAX]; /* "" until sbatch answered (or squeue found an adopted job) */
    char *log_path;
    char **argv; /* the sbatch command line (J_QUEUED) */
    jstate st;
    int64_t timeout;           /* execution_timeout, µs (0: none) */
    mlf_time_us submitted_at;  /* submit() */
    mlf_time_us started_at;    /* first seen RUNNING (0: not yet) */
    char *kill_reason;         /* the try is being stopped on purpose: why */
    int cancel_sent;
    unsigned need_gen;         /* the first squeue round that must list the job */
    int missing;               /* squeue rounds that should have listed it and did not */
    char state[24], reason[96], node[128];
    mlf_value *result;         /* J_DONE */
} job;

typedef struct sx {
    mlf_exec_host *host;
    mlf_slurm_cmds *cmds;
    char *spool, *script, *exe, *bin_dir, *job_name, *partition, *account, *qos;
    int64_t poll_interval;
    int max_submitted, submit_concurrency;
    job *jobs;
    size_t njobs, nsubmitting, nrunning;
    int polling;
    unsigned poll_gen; /* squeue rounds started */
    mlf_time_us next_poll, now;
    int dirty; /* process() has work now */
    int squeue_failing; /* the last squeue failed (logged once until it works again) */
    int shutting_down;
    char uid[24];
    uint64_t submitted_total;
} sx;

static const mlf_param_spec slurm_params[] = {
    {.name = "spool_dir", .type = MLF_PARAM_STR, .default_value = "",
     .help = "folder shared with the compute nodes for the tries' specs, results and job output (mode 0700, "
             "created if missing); empty: HOME/slurm"},
    {.name = "mlflowd", .type = MLF_PARAM_STR, .default_value = "",
     .help = "the mlflowd executable as the compute nodes see it; empty: the scheduler's own"},
    {.name = "bin_dir", .type = MLF_PARAM_STR, .default_value = "",
     .help = "folder of sbatch, squeue and scancel; empty: found on PATH"},
    {.name = "job_name", .type = MLF_PARAM_STR, .default_value = "mlflowd",
     .help = "prefix of the jobs' names (NAME-ATTEMPT): how the executor finds its jobs in squeue"},
    {.name = "partition", .type = MLF_PARAM_STR, .default_value = "",
     .help = "partition of tasks on the default queue without executor_config.slurm.partition; empty: "
             "the cluster's default. Other queues name their partition"},
    {.name = "account", .type = MLF_PARAM_STR, .default_value = "", .help = "default --account; empty: none"},
    {.name = "qos", .type = MLF_PARAM_STR, .default_value = "", .help = "default --qos; empty: none"},
    {.name = "max_submitted", .type = MLF_PARAM_INT, .default_value = "1000",
     .help = "most jobs of this scheduler in Slurm's queue (pending or running) at once"},
    {.name = "submit_concurrency", .type = MLF_PARAM_INT, .default_value = "4",
     .help = "most sbatch commands running at once"},
    {.name = "poll_interval", .type = MLF_PARAM_DURATION, .default_value = "1s",
     .help = "how often squeue is asked how the jobs fare"},
    {0}};

/* What executor_config.slurm may hold (doc/executors/slurm.md): checked at DAG load. */
static const mlf_param_spec slurm_task_params[] = {
    {.name = "partition", .type = MLF_PARAM_STR, .help = "--partition (default: the task's queue)"},
    {.name = "account", .type = MLF_PARAM_STR, .help = "--account"},
    {.name = "qos", .type = MLF_PARAM_STR, .help = "--qos"},
    {.name = "time_limit", .type = MLF_PARAM_STR,
     .help = "--time, as sbatch takes it (\"30\", \"1:00:00\", \"2-0\"); default: execution_timeout + 1 minute"},
    {.name = "cpus", .type = MLF_PARAM_INT, .help = "--cpus-per-task"},
    {.name = "memory", .type = MLF_PARAM_STR, .help = "--mem (\"4G\", \"500M\")"},
    {.name = "gres", .type = MLF_PARAM_STR, .help = "--gres (\"gpu:1\")"},
    {.name = "constraint", .type = MLF_PARAM_STR, .help = "--constraint (node features)"},
    {.name = "extra_flags", .type = MLF_PARAM_LIST,
     .help = "more sbatch flags, each from an allow-list (--exclusive, --nice=N, --gpus=N, --begin=...)"},
    {0}};

static mlf_time_us wall(void)
{
    return mlf_clock_wall();
}

static char *xprintf(const char *fmt, ...) MLF_PRINTF(1, 2);
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static const char *cfg_str(const mlf_value *cfg, const char *key)
{
    const char *s = mlf_value_get_str(mlf_map_get(cfg, key), NULL);
    return s ? s : "";
}

static int64_t cfg_int(const mlf_value *cfg, const char *key)
{
    int64_t n = 0;
    mlf_value_get_int(mlf_map_get(cfg, key), &n);
    return n;
}

/* The path of @p attempt's file with @p ext in the spool folder (new string). */
static char *spool_file(const sx *x, const char *attempt, const char *ext)
{
    return xprintf("%s/%s.%s", x->spool, attempt, ext);
}

static char *tool(const sx *x, const char *name)
{
    return x->bin_dir[0] ? xprintf("%s/%s", x->bin_dir, name) : strdup(name);
}

static void remove_files(const sx *x, const char *attempt)
{
    static const char *const ext[] = {"spec", "result", "exit", "out"};
    for (size_t i = 0; i < 4; i++) {
        char *p = spool_file(x, attempt, ext[i]);
        if (p)
            unlink(p);
        free(p);
    }
}

/* Appends one line to the try's log (what Slurm did with it, for `mlflowd tasks logs`). */
static void log_line(const job *j, const char *fmt, ...) MLF_PRINTF(2, 3);
static void log_line(const job *j, const char *fmt, ...)
{
    if (!j->log_path)
        return;
    int fd = open(j->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n > 0) {
        size_t len = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 2;
        buf[len++] = '\n';
        if (write(fd, buf, len) < 0) {
            /* the log is best effort: the result carries the message */
        }
    }
    close(fd);
}

/* Copies the job's Slurm output file (its first 16 KiB) into the try's log: what the job printed outside
 * task-exec's log (Slurm's own errors, a crash or sanitizer report, or everything when task-exec never
 * started). Nothing when the job printed nothing. */
static void log_job_output(const sx *x, const job *j)
{
    char *p = spool_file(x, j->attempt, "out");
    int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
    free(p);
    if (fd < 0)
        return;
    static char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    struct stat st;
    int more = fstat(fd, &st) == 0 && st.st_size > n;
    close(fd);
    if (n <= 0 || !j->log_path)
        return;
    log_line(j, "slurm: the job's output%s:", more ? " (its first 16 KiB)" : "");
    int lfd = open(j->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0)
        return;
    if (mlf_write_full(lfd, buf, (size_t)n) == 0 && buf[n - 1] != '\n')
        mlf_write_full(lfd, "\n", 1);
    close(lfd);
}

/* Shows @p fmt beside the running try (`mlflowd tasks state`): Slurm's view of its job. */
static void note(sx *x, const job *j, const char *fmt, ...) MLF_PRINTF(3, 4);
static void note(sx *x, const job *j, const char *fmt, ...)
{
    if (!MLF_HOST_HAS(mlf_exec_note))
        return; /* a daemon older than ABI 1.3: the try's log still says it */
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    mlf_exec_note(x->host, j->attempt, buf);
}

/* ------------------------------------------------------------------------------------- job bookkeeping */

static job *find(sx *x, const char *attempt)
{
    for (job *j = x->jobs; j; j = j->next)
        if (strcmp(j->attempt, attempt) == 0)
            return j;
    return NULL;
}

static void free_job(job *j)
{
    free(j->log_path);
    mlf_slurm_argv_free(j->argv);
    free(j->kill_reason);
    mlf_value_free(j->result);
    free(j);
}

/* The try ends with @p result (taken), or, when NULL, as failed with @p message (printf-style). */
static void settle(sx *x, job *j, mlf_value *result, const char *fmt, ...) MLF_PRINTF(4, 5);
static void settle(sx *x, job *j, mlf_value *result, const char *fmt, ...)
{
    if (j->st == J_DONE) {
        mlf_value_free(result);
        return;
    }
    if (j->st == J_SUBMITTING)
        x->nsubmitting--;
    if (j->started_at)
        x->nrunning--;
    if (!result) {
        char msg[1024] = "";
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        int64_t code = -1;
        char *ep = spool_file(x, j->attempt, "exit");
        FILE *f = ep ? fopen(ep, "re") : NULL;
        long v;
        if (f && fscanf(f, "%ld", &v) == 1 && v >= 0 && v < 256)
            code = v;
        if (f)
            fclose(f);
        free(ep);
        size_t used = strlen(msg);
        if (code >= 0 && used < sizeof msg) /* the job script's own record of task-exec's exit */
            snprintf(msg + used, sizeof msg - used, " (exit code %d)", (int)code);
        result = mlf_value_map();
        mlf_map_set(result, "attempt", mlf_value_str(j->attempt));
        mlf_map_set(result, "outcome", mlf_value_str("failed"));
        mlf_map_set(result, "start_date", mlf_value_int(j->started_at ? j->started_at : j->submitted_at));
        mlf_map_set(result, "end_date", mlf_value_int(x->now));
        mlf_map_set(result, "message", mlf_value_str(msg));
        mlf_map_set(result, "exit_status", mlf_value_int(code));
        mlf_map_set(result, "exit_signal", mlf_value_int(0));
        mlf_map_set(result, "pid", mlf_value_int(0));
        mlf_map_set(result, "hostname", mlf_value_str(j->node));
        log_line(j, "slurm: %s", msg);
    }
    /* whatever the job printed outside task-exec's log (Slurm's own errors, a crash report): kept with the
     * try's log, since the spool files go once the try is reported */
    log_job_output(x, j);
    j->result = result;
    j->st = J_DONE;
    x->dirty = 1;
}

/* The try's result frame, when the job wrote a whole one for this attempt; else NULL with why in @p why. */
static mlf_value *read_result(const sx *x, const job *j, char *why, size_t whylen)
{
    char *p = spool_file(x, j->attempt, "result");
    int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
    free(p);
    if (fd < 0) {
        snprintf(why, whylen, "no result file");
        return NULL;
    }
    mlf_value *v = NULL;
    char err[256] = "";
    int rc = mlf_task_frame_read(fd, &v, err, sizeof err);
    close(fd);
    if (rc != MLF_OK) {
        snprintf(why, whylen, "%s", rc == MLF_ENOTFOUND ? "an empty result file" : err);
        return NULL;
    }
    const char *a = mlf_value_get_str(mlf_map_get(v, "attempt"), NULL);
    if (mlf_value_type(v) != MLF_MAP || !a || strcmp(a, j->attempt) != 0) {
        snprintf(why, whylen, "a result file of another attempt");
        mlf_value_free(v);
        return NULL;
    }
    return v;
}

/* ------------------------------------------------------------------------------------- commands */

static void start_sbatch(sx *x, job *j)
{
    int rc = mlf_slurm_cmd_start(x->cmds, j->argv, CMD_SBATCH, j);
    if (rc == EAGAIN)
        return; /* every command slot is taken: next turn */
    mlf_slurm_argv_free(j->argv);
    j->argv = NULL;
    if (rc != 0) {
        settle(x, j, NULL, "cannot run sbatch: %s", strerror(rc));
        return;
    }
    j->st = J_SUBMITTING;
    x->nsubmitting++;
}

static void start_scancel(sx *x, job *j)
{
    char *bin = tool(x, "scancel");
    char *argv[] = {bin, "--quiet", j->jobid, NULL};
    int rc = bin ? mlf_slurm_cmd_start(x->cmds, argv, CMD_SCANCEL, NULL) : ENOMEM;
    free(bin);
    if (rc == 0) {
        j->cancel_sent = 1;
        log_line(j, "slurm: cancelling job %s: %s", j->jobid, j->kill_reason);
    } else if (rc != EAGAIN)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "cannot run scancel for job %s: %s", j->jobid, strerror(rc));
}

static void start_squeue(sx *x)
{
    char *bin = tool(x, "squeue");
    char *argv[] = {bin, "--noheader", "--array", "--states=all", "--user", x->uid,
                    "--format=" MLF_SLURM_SQUEUE_FORMAT, NULL};
    int rc = bin ? mlf_slurm_cmd_start(x->cmds, argv, CMD_SQUEUE, NULL) : ENOMEM;
    free(bin);
    if (rc == 0) {
        x->polling = 1;
        x->poll_gen++;
    } else if (rc != EAGAIN)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "cannot run squeue: %s", strerror(rc));
}

static void on_sbatch(sx *x, job *j, const mlf_slurm_done *d)
{
    x->nsubmitting--;
    char id[MLF_SLURM_JOBID_MAX];
    if (d->exit_status != 0 || mlf_slurm_parse_sbatch(d->out, d->len, id) != 0) {
        j->st = J_QUEUED; /* settle() must not count it as submitting again */
        char first[400];
        snprintf(first, sizeof first, "%s", d->len ? d->out : "no output");
        char *nl = strchr(first, '\n');
        if (nl && nl[1] == '\0')
            *nl = '\0';
        settle(x, j, NULL, "sbatch refused the job (exit status %d): %s", d->exit_status, first);
        return;
    }
    snprintf(j->jobid, sizeof j->jobid, "%s", id);
    j->st = J_SUBMITTED;
    j->need_gen = x->poll_gen + 1;
    x->submitted_total++;
    char worker[MLF_SLURM_JOBID_MAX + 8];
    snprintf(worker, sizeof worker, "slurm:%s", id);
    mlf_exec_lease_persist(x->host, j->attempt, worker, 0);
    log_line(j, "slurm: submitted as job %s", id);
    note(x, j, "Slurm job %s submitted", id);
    mlf_log(MLF_LOG_DEBUG, COMPONENT, "try %s is Slurm job %s", j->attempt, id);
    if (j->kill_reason)
        start_scancel(x, j);
}

static void on_row(sx *x, const mlf_slurm_row *r)
{
    size_t plen = strlen(x->job_name);
    if (r->name_len <= plen + 1 || memcmp(r->name, x->job_name, plen) != 0 || r->name[plen] != '-' ||
        r->name_len - plen - 1 >= sizeof(((job *)0)->attempt))
        return;
    char attempt[40];
    memcpy(attempt, r->name + plen + 1, r->name_len - plen - 1);
    attempt[r->name_len - plen - 1] = '\0';
    job *j = find(x, attempt);
    if (!j || j->st != J_SUBMITTED)
        return;
    if (!j->jobid[0]) { /* adopted before sbatch answered: found by its name */
        snprintf(j->jobid, sizeof j->jobid, "%s", r->jobid);
        char worker[MLF_SLURM_JOBID_MAX + 8];
        snprintf(worker, sizeof worker, "slurm:%s", j->jobid);
        mlf_exec_lease_persist(x->host, j->attempt, worker, 0);
    } else if (strcmp(j->jobid, r->jobid) != 0)
        return; /* an older job of the same name (a resubmission by hand): not ours */
    j->missing = 0;
    j->need_gen = 0; /* seen */
    snprintf(j->state, sizeof j->state, "%.*s", (int)r->state_len, r->state);
    snprintf(j->node, sizeof j->node, "%.*s", (int)r->nodes_len, r->nodes);
    mlf_slurm_phase ph = mlf_slurm_phase_of(r->state, r->state_len);
    if (ph == MLF_SLURM_PENDING) {
        char reason[96];
        snprintf(reason, sizeof reason, "%.*s", (int)r->reason_len, r->reason);
        if (strcmp(reason, j->reason) != 0) {
            snprintf(j->reason, sizeof j->reason, "%s", reason);
            log_line(j, "slurm: job %s is pending (reason: %s)", j->jobid, reason);
            note(x, j, "Slurm job %s pending: %s", j->jobid, reason);
        }
        return;
    }
    if (!j->started_at && ph == MLF_SLURM_RUNNING) {
        j->started_at = x->now;
        x->nrunning++;
        log_line(j, "slurm: job %s is running on %s", j->jobid, j->node);
        note(x, j, "Slurm job %s running on %s", j->jobid, j->node);
        return;
    }
    if (ph == MLF_SLURM_FINISHED && !j->kill_reason) {
        char why[300];
        mlf_value *res = read_result(x, j, why, sizeof why);
        if (res)
            settle(x, j, res, NULL);
        else
            settle(x, j, NULL, "Slurm job %s ended %s on %s with %s", j->jobid, j->state, j->node[0] ? j->node : "?",
                   why);
        return;
    }
    if (ph == MLF_SLURM_FINISHED || ph == MLF_SLURM_ENDED) {
        char reason[96];
        snprintf(reason, sizeof reason, "%.*s", (int)r->reason_len, r->reason);
        if (j->kill_reason)
            settle(x, j, NULL, "%s (Slurm job %s %s)", j->kill_reason, j->jobid, j->state);
        else
            settle(x, j, NULL, "Slurm job %s ended %s (reason: %s) on %s before the try finished", j->jobid,
                   j->state, reason, j->node[0] ? j->node : "?");
    }
}

static void on_squeue(sx *x, const mlf_slurm_done *d)
{
    x->polling = 0;
    if (d->exit_status != 0) {
        if (!x->squeue_failing) /* once: it runs every poll_interval */
            mlf_log(MLF_LOG_WARNING, COMPONENT, "squeue failed (exit status %d), retrying every poll: %.300s",
                    d->exit_status, d->out);
        x->squeue_failing = 1;
        return;
    }
    if (x->squeue_failing)
        mlf_log(MLF_LOG_INFO, COMPONENT, "squeue works again");
    x->squeue_failing = 0;
    const char *p = d->out, *end = d->out + d->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        mlf_slurm_row r;
        if (mlf_slurm_parse_row(p, (size_t)(e - p), &r) == 0)
            on_row(x, &r);
        p = e + 1;
    }
    if (d->truncated)
        return; /* a job not listed may sit in the part dropped */
    /* a job this round had to list and did not: Slurm forgot it (MinJobAge passed while the scheduler was
     * down, or the controller lost its state). Its result file, if any, still tells how the try ended. */
    for (job *j = x->jobs; j; j = j->next) {
        if (j->st != J_SUBMITTED || !j->need_gen || j->need_gen > x->poll_gen)
            continue;
        char why[300];
        mlf_value *res = j->kill_reason ? NULL : read_result(x, j, why, sizeof why);
        if (res) {
            settle(x, j, res, NULL);
        } else if (++j->missing >= 2) {
            if (j->jobid[0])
                settle(x, j, NULL, "Slurm no longer knows job %s and the try left no result%s%s", j->jobid,
                       j->kill_reason ? ": " : "", j->kill_reason ? j->kill_reason : "");
            else
                settle(x, j, NULL, "no Slurm job carries this try (the scheduler stopped before sbatch answered, "
                                   "or Slurm forgot the job) and it left no result");
        }
    }
}

static void on_done(void *ud, const mlf_slurm_done *d)
{
    sx *x = ud;
    if (d->kind == CMD_SBATCH)
        on_sbatch(x, d->ud, d);
    else if (d->kind == CMD_SQUEUE)
        on_squeue(x, d);
    else if (d->kind == CMD_SCANCEL && d->exit_status != 0)
        mlf_log(MLF_LOG_INFO, COMPONENT, "scancel: %.300s", d->len ? d->out : "failed");
    x->dirty = 1;
}

/* ------------------------------------------------------------------------------------- the executor */

static const char job_script[] =
    "#!/bin/sh\n"
    "# Written by mlflowd's slurm executor: runs one try (doc/executors/slurm.md).\n"
    "# $1: the spool folder, $2: the attempt token, $3: the mlflowd executable.\n"
    "\"$3\" task-exec <\"$1/$2.spec\" 3>\"$1/$2.result\"\n"
    "rc=$?\n"
    "echo \"$rc\" >\"$1/$2.exit\"\n"
    "exit \"$rc\"\n";

static int write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
    char *tmp = xprintf("%s.tmp", path);
    if (!tmp)
        return ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int rc = fd < 0 ? errno : 0;
    const char *p = buf;
    while (!rc && len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? errno : EIO;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fd >= 0 && close(fd) != 0 && !rc)
        rc = errno;
    if (!rc && rename(tmp, path) != 0)
        rc = errno;
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

static void sx_close(void *inst);

static int sx_open(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen)
{
    sx *x = calloc(1, sizeof *x);
    if (!x)
        return MLF_ENOMEM;
    x->host = args->host;
    const mlf_value *cfg = args->config;
    x->max_submitted = (int)cfg_int(cfg, "max_submitted");
    x->submit_concurrency = (int)cfg_int(cfg, "submit_concurrency");
    x->poll_interval = cfg_int(cfg, "poll_interval");
    snprintf(x->uid, sizeof x->uid, "%u", (unsigned)getuid());
    if (x->max_submitted < 1 || x->submit_concurrency < 1 || x->submit_concurrency > MLF_SLURM_CMDS_MAX - 2 ||
        x->poll_interval < 100000) {
        snprintf(err, errlen, "executors.%s: max_submitted must be >= 1, submit_concurrency 1..%d, poll_interval "
                 ">= 100ms", args->name, MLF_SLURM_CMDS_MAX - 2);
        free(x);
        return MLF_EINVAL;
    }
    const char *spool = cfg_str(cfg, "spool_dir");
    mlf_value *home = NULL;
    if (!*spool && mlf_exec_setting(x->host, "home", &home) == MLF_OK && mlf_value_get_str(home, NULL))
        x->spool = xprintf("%s/slurm", mlf_value_get_str(home, NULL));
    else
        x->spool = strdup(spool);
    mlf_value_free(home);
    const char *exe = cfg_str(cfg, "mlflowd");
    x->exe = strdup(*exe ? exe : mlf_exec_self(x->host));
    x->bin_dir = strdup(cfg_str(cfg, "bin_dir"));
    x->job_name = strdup(cfg_str(cfg, "job_name"));
    x->partition = strdup(cfg_str(cfg, "partition"));
    x->account = strdup(cfg_str(cfg, "account"));
    x->qos = strdup(cfg_str(cfg, "qos"));
    x->script = x->spool ? xprintf("%s/job.sh", x->spool) : NULL;
    *inst = x;
    if (!x->spool || !x->exe || !x->bin_dir || !x->job_name || !x->partition || !x->account || !x->qos ||
        !x->script) {
        sx_close(x);
        return MLF_ENOMEM;
    }
    if (x->spool[0] != '/' || x->exe[0] != '/') {
        snprintf(err, errlen, "executors.%s: spool_dir and mlflowd must be absolute paths (got '%s', '%s')",
                 args->name, x->spool, x->exe);
        sx_close(x);
        return MLF_EINVAL;
    }
    const char *bad = mlf_slurm_valid_word(x->job_name) ? "job_name"
                      : x->partition[0] && mlf_slurm_valid_word(x->partition) ? "partition"
                      : x->account[0] && mlf_slurm_valid_word(x->account)     ? "account"
                      : x->qos[0] && mlf_slurm_valid_word(x->qos)             ? "qos"
                                                                              : NULL;
    if (bad) {
        snprintf(err, errlen, "executors.%s.%s is not a valid Slurm name", args->name, bad);
        sx_close(x);
        return MLF_EINVAL;
    }
    int rc = 0;
    if (mkdir(x->spool, 0700) != 0 && errno != EEXIST)
        rc = errno;
    struct stat st;
    if (!rc && (stat(x->spool, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = errno ? errno : ENOTDIR;
    if (!rc && (st.st_mode & 077)) /* specs carry secrets: nobody else may read the folder */
        rc = chmod(x->spool, st.st_mode & 0700) == 0 ? 0 : errno;
    if (!rc)
        rc = write_file(x->script, job_script, sizeof job_script - 1, 0700);
    if (!rc)
        rc = mlf_slurm_cmds_new(&x->cmds);
    if (rc) {
        snprintf(err, errlen, "executors.%s: cannot set up the spool folder %s: %s", args->name, x->spool,
                 strerror(rc));
        sx_close(x);
        return rc;
    }
    mlf_log(MLF_LOG_INFO, COMPONENT, "submitting tries as Slurm jobs (spool %s, at most %d jobs)", x->spool,
            x->max_submitted);
    return MLF_OK;
}

static mlf_exec_accept sx_can_accept(void *inst, const char *queue, const char *operator_name, char *why,
                                     size_t whylen)
{
    sx *x = inst;
    (void)operator_name;
    if (queue && *queue && strcmp(queue, "default") != 0 && mlf_slurm_valid_word(queue) != 0) {
        snprintf(why, whylen, "queue '%s' cannot name a Slurm partition", queue);
        return MLF_EXEC_NEVER;
    }
    if (x->shutting_down) {
        snprintf(why, whylen, "the slurm executor is shutting down");
        return MLF_EXEC_BUSY;
    }
    if (x->njobs >= (size_t)x->max_submitted) {
        snprintf(why, whylen, "%zu Slurm jobs are submitted, the most allowed (executors.slurm.max_submitted)",
                 x->njobs);
        return MLF_EXEC_BUSY;
    }
    return MLF_EXEC_ACCEPT;
}

static int sx_submit(void *inst, const mlf_value *spec, const char *queue, mlf_time_us now, char *err,
                     size_t errlen)
{
    sx *x = inst;
    x->now = now;
    if (x->shutting_down) {
        snprintf(err, errlen, "the slurm executor is shutting down");
        return MLF_ESTATE;
    }
    const char *attempt = mlf_value_get_str(mlf_map_get(spec, "attempt"), NULL);
    const char *log_path = mlf_value_get_str(mlf_map_get(spec, "log_path"), NULL);
    if (!attempt || !*attempt || strlen(attempt) >= sizeof(((job *)0)->attempt) || strchr(attempt, '/') ||
        attempt[0] == '.' || !log_path) {
        snprintf(err, errlen, "the task spec has no valid attempt token or log_path");
        return MLF_EPARSE;
    }
    if (find(x, attempt)) {
        snprintf(err, errlen, "attempt %s is in flight already", attempt);
        return MLF_EEXIST;
    }
    job *j = calloc(1, sizeof *j);
    if (!j)
        return MLF_ENOMEM;
    snprintf(j->attempt, sizeof j->attempt, "%s", attempt);
    j->log_path = strdup(log_path);
    mlf_value_get_int(mlf_map_get(spec, "execution_timeout"), &j->timeout);
    j->submitted_at = now;
    char *sbatch = tool(x, "sbatch");
    mlf_slurm_sbatch_defaults def = {.sbatch = sbatch, .job_name = x->job_name, .spool = x->spool,
                                     .script = x->script, .exe = x->exe, .partition = x->partition,
                                     .account = x->account, .qos = x->qos};
    int rc = j->log_path && sbatch ? mlf_slurm_sbatch_argv(&def, spec, queue, attempt, &j->argv, err, errlen)
                                   : MLF_ENOMEM;
    free(sbatch);
    void *buf = NULL;
    size_t len = 0;
    if (rc == MLF_OK && (rc = mlf_task_frame_pack(spec, &buf, &len)) != MLF_OK)
        snprintf(err, errlen, "cannot encode the task spec: %s", mlf_strerror(rc));
    char *path = rc == MLF_OK ? spool_file(x, attempt, "spec") : NULL;
    if (rc == MLF_OK) {
        int e = path ? write_file(path, buf, len, 0600) : ENOMEM;
        if (e) {
            snprintf(err, errlen, "cannot write the task spec to %s: %s", path ? path : x->spool, strerror(e));
            rc = e;
        }
    }
    free(buf);
    free(path);
    if (rc == MLF_OK && (rc = mlf_exec_lease_persist(x->host, attempt, "slurm", 0)) != MLF_OK)
        snprintf(err, errlen, "cannot record the lease: %s", mlf_strerror(rc));
    if (rc != MLF_OK) {
        remove_files(x, attempt);
        free_job(j);
        return rc;
    }
    /* the try's log folder exists before the job (on a shared file system) appends to it */
    mlf_mkdir_parents(log_path);
    j->next = x->jobs;
    x->jobs = j;
    x->njobs++;
    x->dirty = 1;
    return MLF_OK;
}

static int sx_kill(void *inst, const char *attempt, mlf_time_us now)
{
    sx *x = inst;
    x->now = now;
    job *j = find(x, attempt);
    if (!j || j->st == J_DONE)
        return MLF_ENOTFOUND;
    if (!j->kill_reason)
        j->kill_reason = strdup("killed on request");
    x->dirty = 1;
    return MLF_OK;
}

static int sx_fd(void *inst)
{
    sx *x = inst;
    return mlf_slurm_cmds_fd(x->cmds);
}

static mlf_time_us sx_next_deadline(void *inst)
{
    sx *x = inst;
    if (x->dirty)
        return 1; /* in the past: now */
    mlf_time_us d = 0;
    int submitted = 0;
    for (job *j = x->jobs; j; j = j->next) {
        if (j->st == J_SUBMITTED)
            submitted = 1;
        if (j->st == J_QUEUED && x->nsubmitting < (size_t)x->submit_concurrency &&
            mlf_slurm_cmds_running(x->cmds) < MLF_SLURM_CMDS_MAX) /* else a command's end wakes us */
            return 1;
        if (j->started_at && j->timeout > 0 && !j->kill_reason) {
            mlf_time_us t = j->started_at + j->timeout;
            d = !d || t < d ? t : d;
        }
    }
    if (submitted && !x->polling)
        d = !d || x->next_poll < d ? x->next_poll : d;
    int64_t mono = mlf_clock_monotonic();
    int64_t c = mlf_slurm_cmds_deadline(x->cmds, mono);
    if (c) {
        mlf_time_us t = wall() + (c - mono);
        d = !d || t < d ? t : d;
    }
    return d;
}

/* Shutting down: a submitted job is left to Slurm (its lease stays: the next start adopts it). */
static void detach_submitted(sx *x)
{
    for (job **p = &x->jobs; *p;) {
        job *j = *p;
        if (j->st == J_SUBMITTED) {
            *p = j->next;
            x->njobs--;
            if (j->started_at)
                x->nrunning--;
            free_job(j);
        } else
            p = &j->next;
    }
}

static int sx_process(void *inst, mlf_time_us now)
{
    sx *x = inst;
    x->now = now;
    x->dirty = 0;
    mlf_slurm_cmds_process(x->cmds, mlf_clock_monotonic(), on_done, x);
    int want_poll = 0;
    for (job *j = x->jobs; j; j = j->next) {
        if (j->st == J_QUEUED && j->kill_reason) {
            settle(x, j, NULL, "%s before its Slurm job was submitted", j->kill_reason);
            continue;
        }
        if (j->st == J_QUEUED && x->nsubmitting < (size_t)x->submit_concurrency)
            start_sbatch(x, j);
        if (j->st != J_SUBMITTED)
            continue;
        want_poll = 1;
        if (j->started_at && j->timeout > 0 && !j->kill_reason && now >= j->started_at + j->timeout) {
            char d[64];
            if (j->timeout % 1000000 == 0)
                snprintf(d, sizeof d, "%llds", (long long)(j->timeout / 1000000));
            else
                snprintf(d, sizeof d, "%.3fs", (double)j->timeout / 1e6);
            j->kill_reason = xprintf("execution_timeout of %s exceeded", d);
        }
        if (j->kill_reason && !j->cancel_sent && j->jobid[0])
            start_scancel(x, j);
    }
    if (want_poll && !x->polling && now >= x->next_poll) {
        start_squeue(x);
        x->next_poll = now + x->poll_interval;
    }
    int reported = 0;
    for (job **p = &x->jobs; *p;) {
        job *j = *p;
        if (j->st != J_DONE) {
            p = &j->next;
            continue;
        }
        *p = j->next;
        x->njobs--;
        mlf_exec_lease_drop(x->host, j->attempt);
        int rc = mlf_exec_report(x->host, j->result);
        if (rc != MLF_OK)
            mlf_log(MLF_LOG_ERROR, COMPONENT, "the result of try %s (Slurm job %s) was refused: %s", j->attempt,
                    j->jobid[0] ? j->jobid : "-", mlf_strerror(rc));
        remove_files(x, j->attempt);
        free_job(j);
        reported++;
    }
    if (x->shutting_down)
        detach_submitted(x);
    return reported;
}

static int sx_shutdown(void *inst, int64_t grace, mlf_time_us now)
{
    sx *x = inst;
    (void)grace; /* jobs outlive the scheduler: they are adopted at its next start */
    x->now = now;
    x->shutting_down = 1;
    for (job *j = x->jobs; j; j = j->next)
        if (j->st == J_QUEUED)
            settle(x, j, NULL, "the executor shut down before the Slurm job was submitted");
    x->dirty = 1;
    return MLF_OK;
}

static size_t sx_in_flight(void *inst)
{
    sx *x = inst;
    return x->njobs;
}

static int sx_adopt(void *inst, const char *attempt, const char *worker, const char *log_path, mlf_time_us now)
{
    sx *x = inst;
    x->now = now;
    if (!attempt || strncmp(worker ? worker : "", "slurm", 5) != 0 || strlen(attempt) >= 40 || find(x, attempt))
        return MLF_EINVAL;
    const char *id = worker[5] == ':' ? worker + 6 : "";
    if (strlen(id) >= MLF_SLURM_JOBID_MAX)
        return MLF_EINVAL;
    char *spec_path = spool_file(x, attempt, "spec");
    int fd = spec_path ? open(spec_path, O_RDONLY | O_CLOEXEC) : -1;
    free(spec_path);
    if (fd < 0)
        return MLF_ENOTFOUND; /* its spec is gone: no job can run it */
    job *j = calloc(1, sizeof *j);
    if (!j) {
        close(fd);
        return MLF_ENOMEM;
    }
    mlf_value *spec = NULL;
    if (mlf_task_frame_read(fd, &spec, NULL, 0) == MLF_OK)
        mlf_value_get_int(mlf_map_get(spec, "execution_timeout"), &j->timeout);
    mlf_value_free(spec);
    close(fd);
    snprintf(j->attempt, sizeof j->attempt, "%s", attempt);
    snprintf(j->jobid, sizeof j->jobid, "%s", id);
    j->log_path = log_path ? strdup(log_path) : NULL;
    j->st = J_SUBMITTED;
    j->submitted_at = now;
    j->need_gen = x->poll_gen + 1;
    j->next = x->jobs;
    x->jobs = j;
    x->njobs++;
    x->dirty = 1;
    log_line(j, "slurm: the scheduler restarted; job %s adopted", id[0] ? id : "(id unknown yet)");
    mlf_log(MLF_LOG_INFO, COMPONENT, "adopted try %s (Slurm job %s)", attempt, id[0] ? id : "?");
    return MLF_OK;
}

static mlf_value *sx_describe(void *inst)
{
    sx *x = inst;
    size_t pending = 0;
    for (job *j = x->jobs; j; j = j->next)
        if (j->st != J_DONE && !j->started_at)
            pending++;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "slots", mlf_value_int(x->max_submitted));
    mlf_map_set(m, "running", mlf_value_int((int64_t)x->nrunning));
    mlf_map_set(m, "queued", mlf_value_int((int64_t)pending));
    mlf_map_set(m, "spool", mlf_value_str(x->spool));
    mlf_map_set(m, "jobs_submitted", mlf_value_int((int64_t)x->submitted_total));
    return m;
}

static void sx_close(void *inst)
{
    sx *x = inst;
    if (!x)
        return;
    while (x->jobs) {
        job *j = x->jobs;
        x->jobs = j->next;
        free_job(j);
    }
    mlf_slurm_cmds_free(x->cmds);
    free(x->spool);
    free(x->script);
    free(x->exe);
    free(x->bin_dir);
    free(x->job_name);
    free(x->partition);
    free(x->account);
    free(x->qos);
    free(x);
}

static const mlf_executor_desc slurm_executor = {
    .struct_size = sizeof(mlf_executor_desc),
    .name = "slurm",
    .flags = MLF_EXEC_OUTLIVES,
    .help = "Runs each try as a Slurm batch job (sbatch; squeue and scancel follow and stop it): the job runs "
            "`mlflowd task-exec` on a compute node with the spec and result in a folder shared with the "
            "nodes. Per-task resources come from executor_config.slurm; jobs survive a scheduler restart "
            "and are adopted (doc/executors/slurm.md).",
    .params = slurm_params,
    .param_size = sizeof(mlf_param_spec),
    .open = sx_open,
    .can_accept = sx_can_accept,
    .submit = sx_submit,
    .kill = sx_kill,
    .fd = sx_fd,
    .next_deadline = sx_next_deadline,
    .process = sx_process,
    .after_commit = NULL,
    .shutdown = sx_shutdown,
    .in_flight = sx_in_flight,
    .adopt = sx_adopt,
    .describe = sx_describe,
    .close = sx_close,
    .task_params = slurm_task_params,
    .task_param_size = sizeof(mlf_param_spec)};

static int slurm_init(mlf_registry *reg)
{
    return mlf_register_executor(reg, &slurm_executor);
}

MLF_PLUGIN("slurm", MLF_VERSION_STRING, "The slurm executor (each try a Slurm batch job)", slurm_init, NULL);
