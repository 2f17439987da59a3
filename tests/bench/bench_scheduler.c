/* bench_scheduler -- how fast the scheduler runs DAG runs through the local or the zmq executor.
 *
 *   bench_scheduler [--executor local|zmq] [--workers N] [--parallelism P] [--only wide|chain|fanout|layered]
 *                   [--kind empty|shell|op] [SIZE...]
 *
 * Shapes: wide N (N independent tasks), chain N (t0 -> t1 -> ...), fanout N (root -> N tasks -> join),
 * layered N (layers of ~sqrt(N) tasks, each depending on 1 to 3 random tasks of the layer before, fixed
 * seed). Kinds: empty (operator empty: it succeeds in the scheduler, no try runs), shell (operator shell,
 * command "true": one process per try) and op (test_op of the build tree's test plugin "good": an
 * in-process operator that logs one line and pushes one XCom, the cheapest try that runs on an executor);
 * empty and shell unless --kind.
 * Sizes default to wide 1000, chain 200, fanout 500, layered 1000. Without --only, SIZEs replace those
 * defaults in that order; with --only, each SIZE is one case of that shape (`--only wide 10000`).
 *
 * Each case runs in a child process of its own (so that its CPU time and peak RSS are its own): it writes
 * the DAG file into a temporary folder, loads the shell and empty plugins from the build tree, creates a
 * temporary home and state store, runs one DAG run through the real scheduler (mlf_scheduler_new with the
 * local executor, which starts MLF_ABS_BUILDDIR/mlflowd task-exec per try) until it finishes, then reads
 * the task instance records back from the store.
 *
 * With --executor zmq (default local) the scheduler binds the zmq executor on tcp://127.0.0.1:0 and the
 * case starts N (--workers, default 2) `MLF_ABS_BUILDDIR/mlflowd worker --connect ENDPOINT` processes of
 * parallelism/N slots each (at least 1), as `standalone` does; it waits until all of them registered
 * before the run is created (not timed), and stops them (SIGTERM, then waits) after the run. Their logs
 * are HOME/logs/worker-bench-I.log in the case's folder. It prints one row per case:
 *   wall        creating the run and running it to the end; tasks/s = tasks / wall
 *   up>start    per task with upstreams: its start_date - the latest end_date of its upstreams (p50, p99)
 *   up>disp     the scheduler's share of that: queued_at (dispatch) - the latest upstream end_date
 *   disp>start  per task: start_date - queued_at (starting a task process until the try begins)
 *   sched cpu   the scheduler process's own CPU (RUSAGE_SELF, user + system) per task
 *   rss         the scheduler process's peak RSS (ru_maxrss)
 *   rss/TI      the scheduler's RSS when the run finished (every TI still in memory) minus its RSS before
 *               the run was created, per task instance, in bytes (the DAG model is loaded before; memory
 *               the DAG parser freed is reused, so this can read low)
 *   heap/TI     the same for the bytes malloc has handed out (mallinfo2: in use, mmapped blocks included)
 *   task cpu    the task processes' CPU (RUSAGE_CHILDREN) per task; with zmq the workers' CPU (from
 *               their start, reaped after the run) and their task processes' CPU
 *   load1       the 1-minute load average (/proc/loadavg) when the case started
 * No timing assertions: it exits 1 only when a run does not succeed (or a case cannot be set up), and
 * keeps that case's temporary folder for a look at the logs. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "plugin/plugin_loader.h"
#include "sched/scheduler.h"
#include "base/strutil.h"

#define MLFLOWD_EXE MLF_ABS_BUILDDIR "/mlflowd"
#define LOGICAL_DATE INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */

typedef enum shape { WIDE, CHAIN, FANOUT, LAYERED, NSHAPES } shape;

static const char *const shape_names[NSHAPES] = {"wide", "chain", "fanout", "layered"};
static const int default_sizes[NSHAPES] = {1000, 200, 500, 1000};
static const char *const kind_names[] = {"empty", "shell", "op"};

#define MAX_WORKERS 64

/* How cases run (from the command line). */
typedef struct bench_opts {
    int parallelism;
    int zmq;      /* 1: executor zmq with local worker processes; 0: executor local */
    int nworkers; /* zmq only */
} bench_opts;

typedef struct bench_case {
    shape sh;
    int size;
    const char *kind;
} bench_case;

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_of(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
           (double)ru->ru_stime.tv_usec / 1e6;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_scheduler [--executor local|zmq] [--workers N] [--parallelism P] "
                    "[--only wide|chain|fanout|layered] [--kind empty|shell|op] [SIZE...]\n");
    return 2;
}

/* The process's resident set now, in bytes (0 when unknown). */
static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

/* Bytes malloc has handed out and not got back. */
static long heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

static long rss_at_finish, heap_at_finish; /* rss_bytes() and heap_bytes() when the case's run finished */

static void note_run_finished(void *ud, const char *dag_id, const char *run_id, mlf_run_state state)
{
    (void)ud;
    (void)dag_id;
    (void)run_id;
    (void)state;
    rss_at_finish = rss_bytes();
    heap_at_finish = heap_bytes();
}

/* The 1-minute load average, or -1 when /proc/loadavg cannot be read. */
static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* ------------------------------------------------------------------------------------------ DAG files */

static void write_task(FILE *out, const char *kind, int id)
{
    fprintf(out, "  t%05d:\n", id);
    if (strcmp(kind, "shell") == 0)
        fprintf(out, "    operator: shell\n    command: \"true\"\n");
    else if (strcmp(kind, "op") == 0)
        fprintf(out, "    operator: test_op\n    message: \"-\"\n");
    else
        fprintf(out, "    operator: empty\n");
}

/* Writes the DAG of @p c as DIR/DAG_ID.yaml. Returns 0, or -1 after printing why. */
static int write_dag(const char *dir, const char *dag_id, const bench_case *c)
{
    char *path = mlf_strdup_printf("%s/%s.yaml", dir, dag_id);
    FILE *out = path ? fopen(path, "w") : NULL;
    if (!out) {
        perror(path ? path : "out of memory");
        free(path);
        return -1;
    }
    /* limits high enough that parallelism alone decides how many tries run at once */
    fprintf(out, "dag_id: %s\nschedule: null\nstart_date: 2024-01-01\nmax_active_tasks: 1000000\ntasks:\n", dag_id);
    int n = c->size;
    switch (c->sh) {
    case WIDE:
        for (int i = 0; i < n; i++)
            write_task(out, c->kind, i);
        break;
    case CHAIN:
        for (int i = 0; i < n; i++) {
            write_task(out, c->kind, i);
            if (i > 0)
                fprintf(out, "    upstream: [t%05d]\n", i - 1);
        }
        break;
    case FANOUT: /* t00000 is the root, t00001..tN the fan, tN+1 the join */
        for (int i = 0; i < n + 2; i++) {
            write_task(out, c->kind, i);
            if (i > 0 && i <= n)
                fprintf(out, "    upstream: [t00000]\n");
        }
        fprintf(out, "    upstream: [");
        for (int i = 1; i <= n; i++)
            fprintf(out, "%st%05d", i > 1 ? ", " : "", i);
        fprintf(out, "]\n");
        break;
    case LAYERED: {
        int width = 1;
        while ((width + 1) * (width + 1) <= n)
            width++;
        unsigned seed = 12345u;
        for (int i = 0; i < n; i++) {
            write_task(out, c->kind, i);
            int layer_start = i / width * width;
            if (layer_start == 0)
                continue;
            int prev = layer_start - width, picked[3], npicked = 0;
            int want = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3;
            if (want > width)
                want = width;
            fprintf(out, "    upstream: [");
            while (npicked < want) {
                int up = prev + (int)((seed = seed * 1103515245u + 12345u) >> 16) % width;
                int dup = 0;
                for (int k = 0; k < npicked; k++)
                    dup |= picked[k] == up;
                if (dup)
                    continue;
                picked[npicked++] = up;
                fprintf(out, "%st%05d", npicked > 1 ? ", " : "", up);
            }
            fprintf(out, "]\n");
        }
        break;
    }
    default:
        break;
    }
    int rc = ferror(out) | fclose(out);
    if (rc) {
        perror(path);
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

/* ------------------------------------------------------------------------------------------ results */

/* What the TI records say, per task index. */
typedef struct ti_times {
    const mlf_dag *dag;
    mlf_time_us *start, *end, *queued;
    size_t nsuccess;
} ti_times;

static int collect_ti(void *ud, const mlf_ti_rec *r)
{
    ti_times *tt = ud;
    long i = mlf_dag_task_index(tt->dag, r->task_id);
    if (i < 0)
        return 0;
    tt->start[i] = r->start_date;
    tt->end[i] = r->end_date;
    tt->queued[i] = r->queued_at;
    tt->nsuccess += r->state == MLF_TI_SUCCESS;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts @p v and prints its nearest-rank p50 and p99 in ms ("-" when @p n is 0). */
static void print_p50_p99(int64_t *v, size_t n)
{
    if (!n) {
        printf(" %8s %8s", "-", "-");
        return;
    }
    qsort(v, n, sizeof *v, cmp_i64);
    size_t r50 = (n + 1) / 2, r99 = (size_t)(0.99 * (double)n + 0.999999);
    printf(" %8.2f %8.2f", (double)v[r50 - 1] / 1000.0, (double)v[(r99 ? r99 : 1) - 1] / 1000.0);
}

/* Prints p50 / p99 of up>start, up>disp and disp>start (see the top of this file). */
static void print_latencies(const ti_times *tt)
{
    const mlf_dag *dag = tt->dag;
    int64_t *up_start = malloc((dag->ntasks + 1) * sizeof *up_start);
    int64_t *up_disp = malloc((dag->ntasks + 1) * sizeof *up_disp);
    int64_t *disp_start = malloc((dag->ntasks + 1) * sizeof *disp_start);
    size_t nup = 0, ndisp = 0;
    for (size_t i = 0; up_start && up_disp && disp_start && i < dag->ntasks; i++) {
        if (!tt->start[i])
            continue; /* never ran (upstream_failed) */
        if (tt->queued[i])
            disp_start[ndisp++] = tt->start[i] - tt->queued[i];
        const mlf_task *t = &dag->tasks[i];
        if (!t->nupstream)
            continue;
        mlf_time_us last = 0;
        for (size_t u = 0; u < t->nupstream; u++)
            if (tt->end[t->upstream[u]] > last)
                last = tt->end[t->upstream[u]];
        up_start[nup] = tt->start[i] - last;
        up_disp[nup++] = tt->queued[i] - last;
    }
    print_p50_p99(up_start, nup);
    print_p50_p99(up_disp, nup);
    print_p50_p99(disp_start, ndisp);
    free(up_start);
    free(up_disp);
    free(disp_start);
}

/* ------------------------------------------------------------------------------------------ one case */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Reads the run's state and its TI times from the store and prints the case's row. Returns 1 when the run
 * and every TI succeeded. */
static int report_case(const char *label, const char *base, mlf_store *st, const mlf_dag *dag, const char *run_id,
                       double wall, const struct rusage self[2], const struct rusage kids[2], double load,
                       long rss_growth, long heap_growth)
{
    size_t n = dag->ntasks;
    ti_times tt = {.dag = dag, .start = calloc(n + 1, sizeof(mlf_time_us)), .end = calloc(n + 1, sizeof(mlf_time_us)),
                   .queued = calloc(n + 1, sizeof(mlf_time_us))};
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    run.state = MLF_RUN_FAILED;
    mlf_store_txn *txn = NULL;
    if (tt.start && tt.end && tt.queued && mlf_store_read_begin(st, &txn) == MLF_OK) {
        if (mlf_store_run_get(txn, dag->dag_id, run_id, &run) != MLF_OK)
            run.state = MLF_RUN_FAILED;
        mlf_store_ti_foreach_run(txn, dag->dag_id, run_id, NULL, collect_ti, &tt);
        mlf_store_read_end(txn);
    }
    int ok = run.state == MLF_RUN_SUCCESS && tt.nsuccess == n;

    printf("%-20s %6zu %8.2f %8.1f", label, n, wall, (double)n / wall);
    print_latencies(&tt);
    printf(" %9.1f %7.1f %9.2f", (cpu_of(&self[1]) - cpu_of(&self[0])) * 1e6 / (double)n,
           (double)self[1].ru_maxrss / 1024.0, (cpu_of(&kids[1]) - cpu_of(&kids[0])) * 1e3 / (double)n);
    printf(" %7.0f %7.0f", (double)rss_growth / (double)n, (double)heap_growth / (double)n);
    printf(" %5.2f", load);
    if (!ok)
        printf("  FAILED: run %s, %zu of %zu TIs succeeded; kept %s", mlf_run_state_name(run.state), tt.nsuccess,
               n, base);
    printf("\n");
    fflush(stdout);
    mlf_run_rec_clear(&run);
    free(tt.start);
    free(tt.end);
    free(tt.queued);
    return ok;
}

/* ------------------------------------------------------------------------------------------ workers */

/* Starts @p n `mlflowd worker` processes connected to @p endpoint with @p concurrency slots each, their
 * configuration only HOME, DAGS and the build tree's shell and empty plugins (never the caller's MLFLOWD*
 * variables), their stderr in HOME/logs/worker-bench-I.log. Fills @p pids (0: not started). Returns how
 * many started. */
static int start_workers(const char *home, const char *dags, const char *endpoint, int n, int concurrency,
                         pid_t *pids)
{
    extern char **environ;
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 5, sizeof *env);
    char *home_env = mlf_strdup_printf("MLFLOWD_HOME=%s", home);
    char *dags_env = mlf_strdup_printf("MLFLOWD_DAGS_FOLDER=%s", dags);
    char *logs = mlf_strdup_printf("%s/logs", home);
    int started = 0;
    if (!env || !home_env || !dags_env || !logs || (mkdir(logs, 0755) != 0 && errno != EEXIST)) {
        fprintf(stderr, "bench: cannot prepare the workers' environment\n");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "MLFLOWD_", 8) != 0)
            env[k++] = environ[i];
    env[k++] = home_env;
    env[k++] = dags_env;
    env[k++] = "MLFLOWD__PLUGINS__PATH=" MLF_BUILD_PLUGINDIR "," MLF_ABS_BUILDDIR "/tests/plugins";
    env[k++] = "MLFLOWD__PLUGINS__LOAD=shell,empty,good";
    char conc[16];
    snprintf(conc, sizeof conc, "%d", concurrency);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "bench-%d", i + 1);
        char *log = mlf_strdup_printf("%s/worker-%s.log", logs, name);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (log)
            posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        char *argv[] = {MLFLOWD_EXE, "worker", "--connect", (char *)endpoint,
                        "--name",    name,     "--concurrency", conc, NULL};
        int rc = posix_spawn(&pids[i], MLFLOWD_EXE, &fa, NULL, argv, env);
        if (rc == 0) {
            started++;
        } else {
            pids[i] = 0;
            fprintf(stderr, "bench: cannot start worker %s: %s\n", name, strerror(rc));
        }
        posix_spawn_file_actions_destroy(&fa);
        free(log);
    }
out:
    free(env);
    free(home_env);
    free(dags_env);
    free(logs);
    return started;
}

/* Turns the scheduler (no run exists yet: each mlf_scheduler_run() call is one turn) until @p n workers
 * registered, at most 30 s. Returns 0, or -1 after printing why (a worker exited, or the time ran out). */
static int wait_workers(mlf_scheduler *s, const char *dag_id, pid_t *pids, int n)
{
    for (int waited = 0; waited < 3000 && !stop_requested; waited++) {
        if (mlf_scheduler_run(s, &stop_requested, dag_id, NULL) != MLF_OK)
            break;
        if (mlf_scheduler_worker_count(s) >= (size_t)n)
            return 0;
        for (int i = 0; i < n; i++) {
            int status = 0;
            if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
                fprintf(stderr, "bench: worker bench-%d exited (status %d) before registering; see its log\n",
                        i + 1, status);
                pids[i] = 0;
                return -1;
            }
        }
        usleep(10000);
    }
    fprintf(stderr, "bench: %zu of %d workers registered\n", mlf_scheduler_worker_count(s), n);
    return -1;
}

/* SIGTERM to each worker, then waits for them (SIGKILL after 30 s). */
static void stop_workers(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (int waited = 0; waited < 3000; waited++) {
        int left = 0;
        for (int i = 0; i < n; i++) {
            if (pids[i] <= 0)
                continue;
            int status = 0;
            pid_t r = waitpid(pids[i], &status, WNOHANG);
            if (r == 0) {
                left++;
                continue;
            }
            if (r == pids[i] && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                fprintf(stderr, "bench: worker bench-%d ended with status %d\n", i + 1, status);
            pids[i] = 0;
        }
        if (!left)
            return;
        usleep(10000);
    }
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
            fprintf(stderr, "bench: worker bench-%d did not stop in 30 s: killed\n", i + 1);
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
            pids[i] = 0;
        }
}

/* Runs case @p c in this (child) process, in folder @p base, and prints its row. Returns 0 when the run
 * succeeded, 1 when it did not, 2 when the case could not be set up, 3 when it was interrupted (SIGINT,
 * SIGTERM). */
static int run_case(const bench_case *c, const bench_opts *bo, const char *base)
{
    int parallelism = bo->parallelism;
    double load = load1();
    pid_t workers[MAX_WORKERS] = {0};
    int nworkers = bo->zmq ? bo->nworkers : 0;
    char dag_id[96], label[64], err[512], run_id[200];
    snprintf(dag_id, sizeof dag_id, "bench_%s_%s_%d", shape_names[c->sh], c->kind, c->size);
    snprintf(label, sizeof label, "%s/%s %d", shape_names[c->sh], c->kind, c->size);
    int result = 2;
    mlf_config *cfg = NULL;
    mlf_catalog *cat = NULL;
    mlf_dagbag *bag = NULL;
    mlf_store *st = NULL;
    mlf_scheduler *s = NULL;
    mlf_diag diag = {0};
    char *errors = NULL;
    char *dags = mlf_strdup_printf("%s/dags", base), *home = mlf_strdup_printf("%s/home", base);
    char *state = mlf_strdup_printf("%s/home/state", base);
    char *par_env = mlf_strdup_printf("MLFLOWD__PARALLELISM=%d", parallelism);
    if (!dags || !home || !state || !par_env || mkdir(dags, 0755) != 0 || mkdir(home, 0755) != 0 ||
        write_dag(dags, dag_id, c) != 0) {
        fprintf(stderr, "bench: %s: cannot prepare %s\n", label, base);
        goto out;
    }

    /* the configuration sees only these variables, never the caller's MLFLOWD__* */
    const char *env_local[] = {"MLFLOWD__EXECUTOR=local", "MLFLOWD__CORE__DEFAULT_POOL_SLOTS=1000000", par_env, NULL};
    const char *env_zmq[] = {"MLFLOWD__EXECUTOR=zmq", "MLFLOWD__ZMQ__BIND=tcp://127.0.0.1:0",
                             "MLFLOWD__CORE__DEFAULT_POOL_SLOTS=1000000", par_env, NULL};
    const char **env = bo->zmq ? env_zmq : env_local;
    mlf_config_args args = {.home = home, .dags_folder = dags, .envp = env};
    if (mlf_config_load(&args, &cfg, &errors) != MLF_OK) {
        fprintf(stderr, "bench: configuration: %s\n", errors ? errors : "invalid");
        goto out;
    }
    const char *paths[] = {MLF_BUILD_PLUGINDIR, MLF_ABS_BUILDDIR "/tests/plugins"};
    const char *names[] = {"shell", "empty", "good", bo->zmq ? "zmq" : "local"}; /* the executor plugin */
    if (!(cat = mlf_catalog_new()) || mlf_plugins_load(cat, paths, 2, names, 4, &diag) != 0) {
        mlf_diag_print(&diag, "bench: plugin: ");
        goto out;
    }
    bag = mlf_dagbag_new(dags, cat);
    const mlf_dag *dag = bag && mlf_dagbag_refresh(bag, NULL) == MLF_OK ? mlf_dagbag_get(bag, dag_id) : NULL;
    if (!dag) {
        fprintf(stderr, "bench: %s: the generated DAG does not load\n", label);
        if (bag)
            mlf_diag_print(mlf_dagbag_errors(bag), "bench: ");
        goto out;
    }
    if (mlf_store_open(state, MLF_STORE_CREATE, &st, err, sizeof err) != MLF_OK) {
        fprintf(stderr, "bench: store %s: %s\n", state, err);
        goto out;
    }
    mlf_scheduler_opts o = {.cfg = cfg, .cat = cat, .bag = bag, .store = st, .exe = MLFLOWD_EXE,
                            .parallelism = parallelism, .create_scheduled_runs = 0, .watch_dags = 0,
                            .executor = bo->zmq ? "zmq" : "local", .on_run_finished = note_run_finished};
    if (mlf_scheduler_new(&o, &s, err, sizeof err) != MLF_OK) {
        fprintf(stderr, "bench: scheduler: %s\n", err);
        goto out;
    }
    if (bo->zmq) {
        const char *endpoint = mlf_scheduler_worker_endpoint(s);
        int per = parallelism / nworkers;
        if (!endpoint) {
            fprintf(stderr, "bench: the scheduler has no worker endpoint\n");
            goto out;
        }
        if (start_workers(home, dags, endpoint, nworkers, per > 0 ? per : 1, workers) != nworkers ||
            wait_workers(s, dag_id, workers, nworkers) != 0) {
            fprintf(stderr, "bench: %s: the workers did not register; kept %s\n", label, base);
            goto out;
        }
    }

    struct rusage self[2], kids[2];
    getrusage(RUSAGE_SELF, &self[0]);
    getrusage(RUSAGE_CHILDREN, &kids[0]);
    long rss0 = rss_bytes(), heap0 = heap_bytes();
    double w0 = mono_s();
    int rc = mlf_scheduler_create_run(s, dag, MLF_RUN_TYPE_MANUAL, LOGICAL_DATE, NULL, NULL, run_id, sizeof run_id,
                                      err, sizeof err);
    if (rc != MLF_OK) {
        fprintf(stderr, "bench: %s: cannot create the run: %s\n", label, err);
        goto out;
    }
    rc = mlf_scheduler_run(s, &stop_requested, dag->dag_id, run_id);
    double wall = mono_s() - w0;
    getrusage(RUSAGE_SELF, &self[1]);
    stop_workers(workers, nworkers); /* reaped: their CPU joins RUSAGE_CHILDREN */
    getrusage(RUSAGE_CHILDREN, &kids[1]);
    mlf_scheduler_free(s);
    s = NULL;
    if (rc != MLF_OK)
        fprintf(stderr, "bench: %s: the scheduler stopped: %s\n", label, mlf_strerror(rc));
    int ok = report_case(label, base, st, dag, run_id, wall, self, kids, load, rss_at_finish - rss0,
                         heap_at_finish - heap0) && rc == MLF_OK;
    result = stop_requested ? 3 : ok ? 0 : 1;
out:
    stop_workers(workers, nworkers);
    mlf_scheduler_free(s);
    mlf_store_close(st);
    mlf_dagbag_free(bag);
    mlf_catalog_free(cat);
    mlf_config_free(cfg);
    mlf_diag_clear(&diag);
    free(errors);
    free(dags);
    free(home);
    free(state);
    free(par_env);
    return result;
}

/* Runs @p c in a child process. Returns its run_case() result (2 when it died). The folder stays when the
 * run did not succeed. */
static int fork_case(const bench_case *c, const bench_opts *bo)
{
    char base[] = "/tmp/mlf-bench-sched-XXXXXX";
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 2;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        struct sigaction sa = {.sa_handler = on_stop_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        exit(run_case(c, bo, base)); /* exit, not _exit: LeakSanitizer checks the case */
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
    if (!WIFEXITED(status))
        fprintf(stderr, "bench: the case process died (status %d); kept %s\n", status, base);
    if (rc == 0)
        nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int main(int argc, char **argv)
{
    bench_opts bo = {.parallelism = 32, .zmq = 0, .nworkers = 2};
    int only = -1, kind = -1;
    int sizes[64], nsizes = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--parallelism") == 0 || strcmp(a, "-p") == 0) && i + 1 < argc) {
            bo.parallelism = atoi(argv[++i]);
            if (bo.parallelism < 1)
                return usage();
        } else if (strcmp(a, "--executor") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            bo.zmq = strcmp(v, "zmq") == 0 ? 1 : strcmp(v, "local") == 0 ? 0 : -1;
            if (bo.zmq < 0)
                return usage();
        } else if (strcmp(a, "--workers") == 0 && i + 1 < argc) {
            bo.nworkers = atoi(argv[++i]);
            if (bo.nworkers < 1 || bo.nworkers > MAX_WORKERS)
                return usage();
        } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            for (int k = 0; k < NSHAPES; k++)
                if (strcmp(v, shape_names[k]) == 0)
                    only = k;
            if (only < 0)
                return usage();
        } else if (strcmp(a, "--kind") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            kind = strcmp(v, "empty") == 0 ? 0 : strcmp(v, "shell") == 0 ? 1 : strcmp(v, "op") == 0 ? 2 : -2;
            if (kind < 0)
                return usage();
        } else if (a[0] >= '1' && a[0] <= '9' && nsizes < 64 && atoi(a) > 0 && atoi(a) <= 999999) {
            sizes[nsizes++] = atoi(a);
        } else {
            return usage();
        }
    }
    if (only < 0 && nsizes > NSHAPES)
        return usage();
    if (access(MLFLOWD_EXE, X_OK) != 0) {
        fprintf(stderr, "bench: %s is missing: build mlflowd first (make)\n", MLFLOWD_EXE);
        return 2;
    }

    bench_case cases[128];
    size_t ncases = 0;
    for (int k = 0; k < 3; k++) {
        if (kind >= 0 ? kind != k : k == 2) /* op only when asked for */
            continue;
        if (only >= 0) {
            for (int i = 0; i < (nsizes ? nsizes : 1); i++)
                cases[ncases++] = (bench_case){(shape)only, nsizes ? sizes[i] : default_sizes[only], kind_names[k]};
        } else {
            for (int sh = 0; sh < NSHAPES; sh++)
                cases[ncases++] = (bench_case){(shape)sh, sh < nsizes ? sizes[sh] : default_sizes[sh], kind_names[k]};
        }
    }

    mlf_log_set_level(MLF_LOG_WARNING);
    if (bo.zmq) {
        int per = bo.parallelism / bo.nworkers;
        printf("scheduler: zmq executor, %d local worker(s) x %d slot(s)", bo.nworkers, per > 0 ? per : 1);
    } else {
        printf("scheduler: local executor");
    }
    printf(", parallelism %d, %ld CPU(s); latencies in ms (p50/p99), sched cpu in us/task, rss in MiB, task cpu "
           "in ms/task%s, rss/TI and heap/TI in bytes\n",
           bo.parallelism, sysconf(_SC_NPROCESSORS_ONLN), bo.zmq ? " (workers included)" : "");
    printf("%-20s %6s %8s %8s %8s %8s %8s %8s %8s %8s %9s %7s %9s %7s %7s %5s\n", "case", "tasks", "wall s", "tasks/s",
           "up>st50", "up>st99", "up>dsp50", "up>dsp99", "dsp>st50", "dsp>st99", "sched cpu", "rss", "task cpu",
           "rss/TI", "heap/TI", "load1");
    /* the child handles ^C (it drains its run); the parent waits for it */
    signal(SIGINT, SIG_IGN);
    int failed = 0;
    for (size_t i = 0; i < ncases; i++) {
        int rc = fork_case(&cases[i], &bo);
        failed |= rc != 0;
        if (rc == 3)
            break;
    }
    return failed ? 1 : 0;
}
