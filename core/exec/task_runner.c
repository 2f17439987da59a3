/* task_runner.c -- one try of a task instance in the current process, and `mlflowd task-exec` around it. */
#include "exec/task_runner.h"
#include "time/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/redact.h"
#include "conf/config.h"
#include "base/diag.h"
#include "time/duration.h"
#include "base/fsutil.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "store/state.h"
#include "store/store.h"
#include "base/strutil.h"
#include "plugin/task_ctx.h"
#include "exec/task_spec.h"

/* Opens the try's log for appending, creating it and its folders (only when missing: a task host opens
 * thousands of logs whose folders exist). Returns the fd, or -1 with errno set. */
static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    int rc = mlf_mkdir_parents(path);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640); /* never through a link */
}

/* ------------------------------------------------------------------------------------------ one try */

/* The context SIGTERM cancels while a try runs in its own process (task-exec). */
static mlf_task_ctx *volatile cancel_target;

static void on_sigterm(int sig)
{
    (void)sig;
    mlf_task_ctx *ctx = cancel_target;
    if (ctx)
        mlf_task_ctx_cancel(ctx);
}

/* Connections come resolved in the spec. */
static int spec_conn_lookup(void *ud, const char *conn_id, mlf_value **out)
{
    const mlf_task_spec *spec = ud;
    const mlf_value *c = mlf_map_get(spec->connections, conn_id);
    if (!c)
        return MLF_ENOTFOUND;
    *out = mlf_value_copy(c);
    return *out ? MLF_OK : MLF_ENOMEM;
}

/* ------------------------------------------------------------------- other DAGs' state (read-only) */

/* The state store as a try sees it: opened read-only on first use, closed when the try ends. */
typedef struct external_store {
    mlf_store *st;
    mlf_task_ctx *ctx; /* the try's log, for the reason a store cannot be opened */
} external_store;

/* The state store directory: $MLFLOWD_HOME/state (the scheduler passes its home down), else the one of
 * the default configuration. Returns a new string, or NULL when there is no usable configuration. */
static char *state_dir(void)
{
    const char *home = getenv("MLFLOWD_HOME");
    if (home && *home)
        return mlf_strdup_printf("%s/state", home);
    mlf_config *cfg = NULL;
    char *errors = NULL;
    if (mlf_config_load(NULL, &cfg, &errors) != MLF_OK) {
        free(errors);
        return NULL;
    }
    free(errors);
    char *dir = mlf_strdup_printf("%s/state", mlf_config_home(cfg));
    mlf_config_free(cfg);
    return dir;
}

static int external_store_open(external_store *x)
{
    if (x->st)
        return MLF_OK;
    char *dir = state_dir();
    if (!dir)
        return MLF_ENOTSUP;
    char err[256] = "";
    int rc = mlf_store_open(dir, MLF_STORE_RDONLY, &x->st, err, sizeof err);
    if (rc != MLF_OK && x->ctx)
        mlf_ctx_log(x->ctx, MLF_LOG_WARNING, "Cannot open the state store %s read-only: %s", dir,
                    err[0] ? err : mlf_strerror(rc));
    free(dir);
    /* no store here: a remote worker's host (or a home that was never initialised) */
    if (rc == MLF_ENOTFOUND || rc == ENOENT || rc == EACCES)
        return MLF_ENOTSUP;
    return rc;
}

static void external_store_close(external_store *x)
{
    mlf_store_close(x->st);
    x->st = NULL;
}

typedef struct run_at {
    char *run_id;
    mlf_run_state state;
} run_at;

static int take_run(void *ud, const mlf_run_rec *rec)
{
    run_at *r = ud;
    r->run_id = strdup(rec->run_id);
    r->state = rec->state;
    return r->run_id ? MLF_STORE_STOP : MLF_ENOMEM;
}

static int copy_state(const char *name, char *state, size_t statelen)
{
    return mlf_strlcpy(state, name, statelen) < statelen ? MLF_OK : MLF_EINVAL;
}

/* mlf_ctx_external_state() for a try: one short read transaction per call. */
static int store_external_state(void *ud, const char *dag_id, const char *task_id, int map_index,
                                 mlf_time_us logical_date, char *state, size_t statelen)
{
    external_store *x = ud;
    if (logical_date == INT64_MAX)
        return MLF_ENOTFOUND;
    int rc = external_store_open(x);
    if (rc != MLF_OK)
        return rc;
    mlf_store_txn *txn;
    if ((rc = mlf_store_read_begin(x->st, &txn)) != MLF_OK)
        return rc;
    run_at run = {0};
    rc = mlf_store_run_foreach(txn, dag_id, logical_date, logical_date + 1, 0, take_run, &run);
    if (rc == MLF_OK && !run.run_id)
        rc = MLF_ENOTFOUND;
    mlf_ti_rec ti;
    mlf_ti_rec_init(&ti);
    if (rc == MLF_OK && task_id) {
        mlf_ti_key key = {.dag_id = dag_id, .run_id = run.run_id, .task_id = task_id, .map_index = map_index};
        rc = mlf_store_ti_get(txn, &key, &ti);
    }
    mlf_store_read_end(txn);
    if (rc == MLF_OK)
        rc = copy_state(task_id ? mlf_ti_state_name(ti.state) : mlf_run_state_name(run.state), state, statelen);
    mlf_ti_rec_clear(&ti);
    free(run.run_id);
    /* ids the store cannot hold name nothing it has */
    return rc == MLF_ETOOBIG ? MLF_ENOTFOUND : rc;
}

/* ------------------------------------------------------------------- plugins kept loaded (task hosts) */

/* One plugin file loaded into a catalog of its own, kept for the life of a task host. */
typedef struct cached_plugin {
    char *path;
    mlf_catalog *cat;
} cached_plugin;

struct mlf_plugin_cache {
    cached_plugin *v;
    size_t n, cap;
};

int mlf_plugin_cache_new(mlf_plugin_cache **out)
{
    if (!out)
        return MLF_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? MLF_OK : MLF_ENOMEM;
}

void mlf_plugin_cache_free(mlf_plugin_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        mlf_catalog_free(c->v[i].cat);
        free(c->v[i].path);
    }
    free(c->v);
    free(c);
}

/* The catalog of @p path: cached, or loaded now into a new catalog. A plugin that does not load is not
 * cached (the next try loads it again, as a fresh process would); its reasons are in @p errors. Returns
 * the catalog (owned by the cache) or NULL. */
static mlf_catalog *cache_load(mlf_plugin_cache *c, const char *path, mlf_diag *errors)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].path, path) == 0)
            return c->v[i].cat;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        cached_plugin *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    mlf_catalog *cat = mlf_catalog_new();
    char *copy = strdup(path);
    const char *names[] = {path};
    if (!cat || !copy || mlf_plugins_load(cat, NULL, 0, names, 1, errors) != 0) {
        mlf_catalog_free(cat);
        free(copy);
        return NULL;
    }
    c->v[c->n++] = (cached_plugin){.path = copy, .cat = cat};
    return cat;
}

/* State of one try while it runs. */
typedef struct try_state {
    const mlf_task_spec *spec;
    int log_fd;
    mlf_task_ctx *ctx;
    mlf_plugin_cache *cache; /* plugins kept loaded (a task host), or NULL: load for this try only */
    mlf_catalog *cat;        /* the plugin's catalog: owned by the try unless it came from the cache */
    mlf_outcome outcome;
    char *message; /* the runner's own reason, which wins over the operator's */
} try_state;

static void set_message(try_state *t, const char *fmt, ...) MLF_PRINTF(2, 3);
static void set_message(try_state *t, const char *fmt, ...)
{
    mlf_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    int rc = mlf_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc != MLF_OK) {
        mlf_buf_free(&b);
        return;
    }
    free(t->message);
    t->message = mlf_buf_steal(&b);
}

static int64_t param_int(const mlf_task_spec *spec, const char *name, int64_t dflt)
{
    int64_t v;
    return mlf_value_get_int(mlf_map_get(spec->params, name), &v) == MLF_OK ? v : dflt;
}

static int param_bool(const mlf_task_spec *spec, const char *name)
{
    int v = 0;
    mlf_value_get_bool(mlf_map_get(spec->params, name), &v);
    return v;
}

static const char *fmt_duration(int64_t us, char *buf, size_t n)
{
    mlf_duration_format(us, buf, n);
    return buf;
}

/* Sleeps @p us unless the try is cancelled first; returns 1 when cancelled. */
static int sleep_unless_cancelled(mlf_task_ctx *ctx, int64_t us)
{
    int64_t until = mlf_clock_monotonic() + us; /* a duration: the monotonic clock */
    for (;;) {
        if (mlf_ctx_cancelled(ctx))
            return 1;
        int64_t left = until - mlf_clock_monotonic();
        if (left <= 0)
            return 0;
        if (left > 200000) /* wake up now and then: a signal may have landed just before the sleep */
            left = 200000;
        struct timespec ts = {.tv_sec = left / 1000000, .tv_nsec = (left % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

/* A sensor in poke mode: pokes until it is satisfied, fails, is cancelled, or its timeout passes. */
static mlf_outcome poke_until_done(try_state *t, const mlf_operator_desc *op)
{
    const mlf_task_spec *spec = t->spec;
    int64_t interval = param_int(spec, "poke_interval", 60 * INT64_C(1000000));
    int64_t timeout = param_int(spec, "timeout", 7 * 86400 * INT64_C(1000000));
    int backoff = param_bool(spec, "exponential_backoff");
    if (interval < 0)
        interval = 0;
    int64_t started = mlf_clock_monotonic(); /* the sensor's timeout is a duration: monotonic */
    char d1[MLF_DURATION_FMT_MAX], d2[MLF_DURATION_FMT_MAX];
    for (int poke = 1;; poke++) {
        mlf_outcome o = op->execute(t->ctx, op->data);
        if (o != MLF_RESCHEDULE)
            return o;
        int64_t now = mlf_clock_monotonic();
        if (timeout > 0 && now - started >= timeout) {
            if (param_bool(spec, "soft_fail")) {
                set_message(t, "sensor timed out after %s; skipping (soft_fail)", fmt_duration(timeout, d1, sizeof d1));
                return MLF_SKIPPED;
            }
            set_message(t, "sensor timed out: not satisfied within its timeout of %s",
                        fmt_duration(timeout, d1, sizeof d1));
            return MLF_FAILED_NO_RETRY;
        }
        int64_t wait = interval;
        if (backoff)
            for (int i = 1; i < poke && wait < INT64_MAX / 2; i++)
                wait *= 2;
        mlf_time_us asked = mlf_task_ctx_reschedule_time(t->ctx), wall = mlf_time_now(); /* a date: wall */
        if (asked > wall)
            wait = asked - wall;
        if (timeout > 0 && wait > started + timeout - now)
            wait = started + timeout - now;
        mlf_ctx_log(t->ctx, MLF_LOG_INFO, "Sensor not satisfied yet (poke %d); poking again in %s", poke,
                    fmt_duration(wait, d2, sizeof d2));
        if (sleep_unless_cancelled(t->ctx, wait)) {
            set_message(t, "sensor was cancelled while waiting between pokes");
            return MLF_FAILED;
        }
    }
}

/* Loads the spec's plugin and runs its operator; sets t->outcome (and t->message when the runner itself
 * is the reason). */
static void execute_try(try_state *t)
{
    const mlf_task_spec *spec = t->spec;
    t->outcome = MLF_FAILED;
    if (!strchr(spec->plugin_path, '/')) {
        set_message(t, "the spec's plugin must be a file path, got '%s'", spec->plugin_path);
        mlf_ctx_log(t->ctx, MLF_LOG_ERROR, "%s", t->message);
        return;
    }
    mlf_diag errors = {0};
    int refused;
    if (t->cache) {
        mlf_catalog *cat = cache_load(t->cache, spec->plugin_path, &errors);
        refused = !cat;
        if (refused && errors.n == 0) {
            set_message(t, "out of memory");
            return;
        }
        t->cat = cat;
    } else {
        t->cat = mlf_catalog_new();
        if (!t->cat) {
            set_message(t, "out of memory");
            return;
        }
        const char *names[] = {spec->plugin_path};
        refused = mlf_plugins_load(t->cat, NULL, 0, names, 1, &errors) != 0;
    }
    if (refused) {
        for (size_t i = 0; i < errors.n; i++) {
            char *line = mlf_diag_format(&errors, i);
            mlf_ctx_log(t->ctx, MLF_LOG_ERROR, "plugin did not load: %s", line ? line : "out of memory");
            if (i == 0)
                set_message(t, "plugin did not load: %s", line ? line : spec->plugin_path);
            free(line);
        }
        if (!t->message)
            set_message(t, "plugin did not load: %s", spec->plugin_path);
        mlf_diag_clear(&errors);
        return;
    }
    mlf_diag_clear(&errors);

    const mlf_operator_desc *op = mlf_catalog_operator(t->cat, spec->operator_name);
    if (!op) {
        size_t n = 0;
        const char **have = mlf_catalog_names(t->cat, MLF_REG_OPERATOR, &n);
        mlf_buf list = {0};
        for (size_t i = 0; i < n; i++)
            mlf_buf_printf(&list, "%s%s", i ? ", " : "", have[i]);
        free(have);
        set_message(t, "operator '%s' is not provided by plugin %s (it provides: %s)", spec->operator_name,
                    spec->plugin_path, list.data ? list.data : "no operators");
        mlf_buf_free(&list);
        mlf_ctx_log(t->ctx, MLF_LOG_ERROR, "%s", t->message);
        return;
    }
    int is_sensor = (op->flags & MLF_OP_SENSOR) != 0;
    mlf_ctx_log(t->ctx, MLF_LOG_INFO, "Executing %s '%s' from %s", is_sensor ? "sensor" : "operator",
                spec->operator_name, spec->plugin_path);

    int o = is_sensor && spec->sensor_poke ? (int)poke_until_done(t, op) : (int)op->execute(t->ctx, op->data);
    if (o < MLF_SUCCESS || o > MLF_RESCHEDULE) {
        set_message(t, "operator '%s' returned an invalid outcome (%d)", spec->operator_name, o);
        mlf_ctx_log(t->ctx, MLF_LOG_ERROR, "%s", t->message);
        return;
    }
    if (o == MLF_RESCHEDULE && !is_sensor) {
        set_message(t, "operator '%s' asked to be rescheduled, but only sensors can", spec->operator_name);
        mlf_ctx_log(t->ctx, MLF_LOG_ERROR, "%s", t->message);
        return;
    }
    if (mlf_ctx_cancelled(t->ctx))
        mlf_ctx_log(t->ctx, MLF_LOG_WARNING, "The try was asked to stop (SIGTERM) while it ran");
    t->outcome = (mlf_outcome)o;
}

static const char *upper_outcome(mlf_outcome o)
{
    switch (o) {
    case MLF_SUCCESS: return "SUCCESS";
    case MLF_FAILED: return "FAILED";
    case MLF_FAILED_NO_RETRY: return "FAILED, without retry";
    case MLF_SKIPPED: return "SKIPPED";
    case MLF_RESCHEDULE: return "UP_FOR_RESCHEDULE";
    }
    return "UNKNOWN";
}

/* A result for a try that never reached its operator (no context, no XCom). */
static int early_result(const char *attempt, mlf_outcome outcome, const char *message, mlf_time_us start,
                        mlf_value **out)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    mlf_task_result r = {.attempt = attempt, .outcome = outcome, .message = message, .start_date = start,
                         .end_date = mlf_time_now(), .exit_status = -1, .pid = getpid(), .hostname = host};
    return mlf_task_result_encode(&r, out);
}

/* How run_spec() may treat the process it runs in. */
enum {
    RUN_EMBEDDED = 0, /* a library call: leave stdio and signals alone */
    RUN_OWN_PROCESS,  /* task-exec: the process exists for this try */
    RUN_HOSTED        /* a task host: like task-exec for the try, stdio and SIGTERM restored after it */
};

/* Runs one try in @p mode; @p cache: plugins kept loaded (RUN_HOSTED), else NULL. */
static int run_spec(const mlf_value *spec_value, int mode, mlf_plugin_cache *cache, mlf_value **result_out)
{
    int own_process = mode != RUN_EMBEDDED;
    if (!spec_value || !result_out)
        return MLF_EINVAL;
    *result_out = NULL;
    mlf_time_us start = mlf_time_now();
    char err[512];
    mlf_task_spec *spec = NULL;
    int rc = mlf_task_spec_decode(spec_value, &spec, err, sizeof err);
    if (rc == MLF_ENOMEM)
        return rc;
    if (rc != MLF_OK) {
        size_t alen = 0;
        const char *attempt = mlf_value_get_str(mlf_map_get(spec_value, "attempt"), &alen);
        if (!attempt || !*attempt || strlen(attempt) != alen)
            return MLF_EPARSE;
        char *msg = mlf_strdup_printf("invalid task spec: %s", err);
        if (!msg)
            return MLF_ENOMEM;
        rc = early_result(attempt, MLF_FAILED_NO_RETRY, msg, start, result_out);
        free(msg);
        return rc;
    }

    if (cache) { /* an operator that must have a process of its own is refused before anything is logged */
        mlf_diag errors = {0};
        const mlf_catalog *cat = cache_load(cache, spec->plugin_path, &errors);
        mlf_diag_clear(&errors); /* a plugin that does not load is reported by the try below */
        const mlf_operator_desc *op = cat ? mlf_catalog_operator(cat, spec->operator_name) : NULL;
        if (op && (op->flags & MLF_OP_ISOLATED)) {
            mlf_task_spec_free(spec);
            return MLF_ENOTSUP;
        }
    }

    try_state t = {.spec = spec, .log_fd = open_log(spec->log_path), .outcome = MLF_FAILED, .cache = cache};
    if (t.log_fd < 0) {
        char *msg = mlf_strdup_printf("cannot open the log file %s: %s", spec->log_path, strerror(errno));
        rc = msg ? early_result(spec->attempt, MLF_FAILED, msg, start, result_out) : MLF_ENOMEM;
        free(msg);
        mlf_task_spec_free(spec);
        return rc;
    }
    external_store external = {0};
    mlf_task_ctx_init init = {
        .dag_id = spec->dag_id, .task_id = spec->task_id, .run_id = spec->run_id,
        .try_number = spec->try_number, .map_index = spec->map_index,
        .logical_date = spec->logical_date, .data_interval_start = spec->data_interval_start,
        .data_interval_end = spec->data_interval_end, .params = spec->params, .dag_params = spec->dag_params,
        .xcom_inputs = spec->xcom_inputs, .log_fd = t.log_fd, .is_branch = spec->is_branch,
        .downstream = spec->downstream, .ndownstream = spec->ndownstream,
        .xcom_max_size = (size_t)spec->xcom_max_size, .conn_lookup = spec_conn_lookup, .conn_ud = spec,
        .secrets = spec->secrets, .nsecrets = spec->nsecrets, .external_state = store_external_state,
        .external_ud = &external};
    t.ctx = mlf_task_ctx_new(&init);
    if (!t.ctx) {
        close(t.log_fd);
        mlf_task_spec_free(spec);
        return MLF_ENOMEM;
    }
    external.ctx = t.ctx;

    int saved_out = -1, saved_err = -1;
    if (own_process) {
        /* whatever the plugin or libc prints goes to the log, never into the result channel */
        if (mode == RUN_HOSTED) {
            fflush(NULL);
            saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
            saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        }
        dup2(t.log_fd, STDOUT_FILENO);
        dup2(t.log_fd, STDERR_FILENO);
    }

    struct sigaction old_term;
    if (own_process) {
        struct sigaction sa = {.sa_handler = on_sigterm, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        cancel_target = t.ctx;
        sigaction(SIGTERM, &sa, &old_term);
    }

    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char mapped[32] = "";
    if (spec->map_index >= 0)
        snprintf(mapped, sizeof mapped, ", map_index %d", spec->map_index);
    mlf_ctx_log(t.ctx, MLF_LOG_INFO, "Starting attempt %d of %s.%s (run %s%s) on %s, pid %ld", spec->try_number,
                spec->dag_id, spec->task_id, spec->run_id, mapped, host, (long)getpid());

    execute_try(&t);

    mlf_time_us end = mlf_time_now();
    /* the message is stored, logged by the scheduler and sent to notifiers: masked like the log */
    char *masked = mlf_task_ctx_mask(t.ctx, t.message ? t.message : mlf_task_ctx_message(t.ctx));
    const char *message = masked;
    mlf_ctx_log(t.ctx, t.outcome == MLF_FAILED || t.outcome == MLF_FAILED_NO_RETRY ? MLF_LOG_ERROR : MLF_LOG_INFO,
                "Marking task as %s%s%s%s. dag_id=%s, task_id=%s, run_id=%s, try_number=%d",
                upper_outcome(t.outcome), message ? " (" : "", message ? message : "", message ? ")" : "",
                spec->dag_id, spec->task_id, spec->run_id, spec->try_number);

    size_t nfollowed = 0;
    const char *const *followed = mlf_task_ctx_followed(t.ctx, &nfollowed);
    mlf_task_result r = {.attempt = spec->attempt, .outcome = t.outcome, .message = message,
                         .xcoms = mlf_task_ctx_xcoms(t.ctx), .branched = mlf_task_ctx_branched(t.ctx),
                         .followed = followed, .nfollowed = nfollowed,
                         .reschedule_at = t.outcome == MLF_RESCHEDULE ? mlf_task_ctx_reschedule_time(t.ctx) : 0,
                         .start_date = start, .end_date = end, .exit_status = -1, .pid = getpid(),
                         .hostname = host};
    rc = mlf_task_result_encode(&r, result_out);
    free(masked);

    if (own_process) {
        sigaction(SIGTERM, &old_term, NULL);
        cancel_target = NULL;
    }
    if (mode == RUN_HOSTED) { /* what the try printed stays in its log; the next try starts clean */
        fflush(NULL);
        if (saved_out >= 0) {
            dup2(saved_out, STDOUT_FILENO);
            close(saved_out);
        }
        if (saved_err >= 0) {
            dup2(saved_err, STDERR_FILENO);
            close(saved_err);
        }
    }
    external_store_close(&external);
    mlf_task_ctx_free(t.ctx);
    if (!cache)
        mlf_catalog_free(t.cat); /* after the context: XCom values were made by the plugin's host calls */
    free(t.message);
    close(t.log_fd);
    mlf_task_spec_free(spec);
    return rc;
}

int mlf_task_run_spec(const mlf_value *spec_value, mlf_value **result_out)
{
    return run_spec(spec_value, RUN_EMBEDDED, NULL, result_out);
}

int mlf_task_run_hosted(mlf_plugin_cache *cache, const mlf_value *spec_value, mlf_value **result_out)
{
    if (!cache)
        return MLF_EINVAL;
    return run_spec(spec_value, RUN_HOSTED, cache, result_out);
}

/* ------------------------------------------------------------------------------------------ task-exec */

/* Writes the reason into err and returns @p code. */
static int exec_fail(char *err, size_t errlen, int code, const char *fmt, ...) MLF_PRINTF(4, 5);
static int exec_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int mlf_task_exec_main(int in_fd, int out_fd, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    mlf_env_scrub(); /* nothing of the daemon's secrets reaches the operator or its commands */
    /* the operator's children must not hold the result channel open (nor write into it) */
    fcntl(out_fd, F_SETFD, FD_CLOEXEC);

    mlf_value *spec = NULL;
    char why[256] = "";
    int rc = mlf_task_frame_read(in_fd, &spec, why, sizeof why);
    if (rc != MLF_OK)
        return exec_fail(err, errlen, 2, "%s", why);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    if (in_fd != STDIN_FILENO)
        close(in_fd);

    mlf_value *result = NULL;
    rc = run_spec(spec, RUN_OWN_PROCESS, NULL, &result);
    mlf_value_free(spec);
    if (rc != MLF_OK)
        return exec_fail(err, errlen, rc == MLF_EPARSE ? 2 : 1, "cannot run the task: %s%s", mlf_strerror(rc),
                         rc == MLF_EPARSE ? " (the spec has no attempt token)" : "");
    void *frame;
    size_t flen;
    rc = mlf_task_frame_pack(result, &frame, &flen);
    mlf_value_free(result);
    if (rc != MLF_OK)
        return exec_fail(err, errlen, 1, "cannot encode the task result: %s", mlf_strerror(rc));
    int wrc = mlf_write_full(out_fd, frame, flen);
    int werr = errno;
    free(frame);
    if (wrc != 0)
        return exec_fail(err, errlen, 1, "cannot write the task result: %s", strerror(werr));
    close(out_fd);
    return 0;
}
