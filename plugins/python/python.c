/* python -- runs a Python script (or module) with the python3 on PATH: Airflow's PythonOperator adapted to a
 * native daemon, where the callable is a script and its context arrives as JSON on stdin.
 *
 * Exit 0 is success, exit `skip_on_exit_code` (99) is skipped, anything else (or a signal) is failed. The
 * script's output (stdout and stderr, through one pipe) is copied to the try's log and its
 * `MLFLOWD_XCOM <json>` lines push XComs (xcom_lines.h). Stopping the script on timeout is the daemon's
 * business: it kills the process group. */
#define _GNU_SOURCE /* mkostemp, pipe2 */
#include <mlflowd/mlflowd.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xcom_lines.h"

extern char **environ;

static const mlf_param_spec python_params[] = {
    {.name = "script", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "path of the script to run (relative paths start from cwd); give script or module"},
    {.name = "module", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "module to run as `python -m MODULE`; give script or module"},
    {.name = "python", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED, .default_value = "python3",
     .help = "the interpreter: a name looked up on PATH, or a path"},
    {.name = "args", .type = MLF_PARAM_LIST, .flags = MLF_PARAM_TEMPLATED, .default_value = "[]",
     .help = "command-line arguments after the script (sys.argv[1:])"},
    {.name = "env", .type = MLF_PARAM_MAP, .flags = MLF_PARAM_TEMPLATED,
     .help = "environment variables added to (or replacing) the worker's"},
    {.name = "cwd", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "working directory of the script (default: the worker's)"},
    {.name = "op_kwargs", .type = MLF_PARAM_MAP, .flags = MLF_PARAM_TEMPLATED, .default_value = "{}",
     .help = "keyword arguments for the script, passed in the context as op_kwargs"},
    {.name = "xcom_pull", .type = MLF_PARAM_LIST, .flags = MLF_PARAM_TEMPLATED, .default_value = "[]",
     .help = "upstream task ids whose return_value XCom is passed in the context's xcom map"},
    {.name = "skip_on_exit_code", .type = MLF_PARAM_INT, .default_value = "99",
     .help = "exit code that marks the task skipped instead of failed"},
    {0}};

/* ---- the context, as JSON on the script's stdin ---- */

/* "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00" (as the `ts` template variable), or "YYYY-MM-DD" when @p date_only. */
static mlf_value *time_value(mlf_time_us t, int date_only)
{
    time_t secs = (time_t)(t / 1000000);
    long us = (long)(t % 1000000);
    if (us < 0) {
        us += 1000000;
        secs--;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm))
        return mlf_value_nil();
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    if (!date_only) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, "T%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (us)
            n += snprintf(buf + n, sizeof buf - (size_t)n, ".%06ld", us);
        snprintf(buf + n, sizeof buf - (size_t)n, "+00:00");
    }
    return mlf_value_str(buf);
}

/* The `xcom` member: upstream task id -> its return_value (null when it pushed none). */
static int pulled_xcoms(mlf_task_ctx *ctx, mlf_value **out)
{
    const mlf_value *ids = mlf_ctx_param(ctx, "xcom_pull");
    mlf_value *m = mlf_value_map();
    if (!m)
        return MLF_ENOMEM;
    size_t n = mlf_value_type(ids) == MLF_ARRAY ? mlf_value_len(ids) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = mlf_value_get_str(mlf_array_at(ids, i), NULL);
        if (!id) {
            mlf_ctx_set_message(ctx, "python: xcom_pull must list task ids (strings); item %zu is a %s", i,
                                mlf_type_name(mlf_value_type(mlf_array_at(ids, i))));
            mlf_value_free(m);
            return MLF_ETYPE;
        }
        const mlf_value *v;
        if (mlf_ctx_xcom_pull(ctx, id, NULL, &v) != MLF_OK) {
            mlf_ctx_log(ctx, MLF_LOG_WARNING, "xcom_pull: task '%s' pushed no return_value; passing null", id);
            v = NULL;
        }
        int rc = mlf_map_set(m, id, v ? mlf_value_copy(v) : mlf_value_nil());
        if (rc != MLF_OK) {
            mlf_value_free(m);
            return rc;
        }
    }
    *out = m;
    return MLF_OK;
}

/* Builds the context map; on a bad parameter sets the message and returns MLF_ETYPE. */
static int build_context(mlf_task_ctx *ctx, mlf_value **out)
{
    const mlf_value *kwargs = mlf_ctx_param(ctx, "op_kwargs");
    if (kwargs && mlf_value_type(kwargs) != MLF_MAP && mlf_value_type(kwargs) != MLF_NIL) {
        mlf_ctx_set_message(ctx, "python: op_kwargs must be a map, not a %s", mlf_type_name(mlf_value_type(kwargs)));
        return MLF_ETYPE;
    }
    mlf_value *xcom = NULL;
    int rc = pulled_xcoms(ctx, &xcom);
    if (rc != MLF_OK)
        return rc;
    mlf_value *m = mlf_value_map();
    if (!m) {
        mlf_value_free(xcom);
        return MLF_ENOMEM;
    }
    rc = mlf_map_set(m, "dag_id", mlf_value_str(mlf_ctx_dag_id(ctx)));
    if (rc == MLF_OK) rc = mlf_map_set(m, "task_id", mlf_value_str(mlf_ctx_task_id(ctx)));
    if (rc == MLF_OK) rc = mlf_map_set(m, "run_id", mlf_value_str(mlf_ctx_run_id(ctx)));
    if (rc == MLF_OK) rc = mlf_map_set(m, "try_number", mlf_value_int(mlf_ctx_try_number(ctx)));
    if (rc == MLF_OK) rc = mlf_map_set(m, "map_index", mlf_value_int(mlf_ctx_map_index(ctx)));
    if (rc == MLF_OK) rc = mlf_map_set(m, "logical_date", time_value(mlf_ctx_logical_date(ctx), 0));
    if (rc == MLF_OK) rc = mlf_map_set(m, "ds", time_value(mlf_ctx_logical_date(ctx), 1));
    if (rc == MLF_OK) rc = mlf_map_set(m, "data_interval_start", time_value(mlf_ctx_data_interval_start(ctx), 0));
    if (rc == MLF_OK) rc = mlf_map_set(m, "data_interval_end", time_value(mlf_ctx_data_interval_end(ctx), 0));
    if (rc == MLF_OK) rc = mlf_map_set(m, "params", mlf_value_copy(mlf_ctx_dag_params(ctx)));
    if (rc == MLF_OK)
        rc = mlf_map_set(m, "op_kwargs", mlf_value_type(kwargs) == MLF_MAP ? mlf_value_copy(kwargs) : mlf_value_map());
    if (rc == MLF_OK)
        rc = mlf_map_set(m, "xcom", xcom);
    else
        mlf_value_free(xcom);
    if (rc != MLF_OK) {
        mlf_value_free(m);
        return rc;
    }
    *out = m;
    return MLF_OK;
}

/* An unlinked temporary file holding the context JSON, positioned at its start; -1 with errno on failure. */
static int context_file(mlf_task_ctx *ctx, const char *json)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/mlflowd-python-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        mlf_ctx_set_message(ctx, "python: cannot create a file for the context in %s: %s", path, strerror(errno));
        return -1;
    }
    unlink(path);
    for (size_t off = 0, len = strlen(json); off < len;) {
        ssize_t w = write(fd, json + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            mlf_ctx_set_message(ctx, "python: cannot write the context file: %s", strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* ---- the child's environment and command line ---- */

/* A NULL-terminated environment: the worker's strings (borrowed) plus owned additions. */
typedef struct py_env {
    char **v;      /* entries; v[i] is owned when owned[i] */
    char *owned;
    size_t n, cap;
} py_env;

/* Sets NAME=VALUE, replacing an earlier NAME. */
static int env_set(py_env *e, const char *name, const char *value)
{
    size_t nl = strlen(name), sz = nl + strlen(value) + 2;
    char *s = malloc(sz);
    if (!s)
        return MLF_ENOMEM;
    snprintf(s, sz, "%s=%s", name, value);
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
            if (e->owned[i])
                free(e->v[i]);
            e->v[i] = s;
            e->owned[i] = 1;
            return MLF_OK;
        }
    e->v[e->n] = s;
    e->owned[e->n++] = 1;
    e->v[e->n] = NULL;
    return MLF_OK;
}

static void env_free(py_env *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->owned[i])
            free(e->v[i]);
    free(e->v);
    free(e->owned);
}

/* The worker's environment, MLFLOWD_CTX_* and PYTHONUNBUFFERED=1, then the task's `env` on top. */
static int build_env(mlf_task_ctx *ctx, py_env *e)
{
    const mlf_value *env = mlf_ctx_param(ctx, "env");
    size_t nenv = mlf_value_type(env) == MLF_MAP ? mlf_value_len(env) : 0, nworker = 0;
    while (environ && environ[nworker])
        nworker++;
    e->cap = nworker + nenv + 8;
    e->v = calloc(e->cap, sizeof *e->v);
    e->owned = calloc(e->cap, 1);
    if (!e->v || !e->owned)
        return MLF_ENOMEM;
    for (; e->n < nworker; e->n++)
        e->v[e->n] = environ[e->n];
    char num[32];
    snprintf(num, sizeof num, "%d", mlf_ctx_try_number(ctx));
    int rc = env_set(e, "PYTHONUNBUFFERED", "1");
    if (rc == MLF_OK) rc = env_set(e, "MLFLOWD_CTX_DAG_ID", mlf_ctx_dag_id(ctx));
    if (rc == MLF_OK) rc = env_set(e, "MLFLOWD_CTX_TASK_ID", mlf_ctx_task_id(ctx));
    if (rc == MLF_OK) rc = env_set(e, "MLFLOWD_CTX_RUN_ID", mlf_ctx_run_id(ctx));
    if (rc == MLF_OK) rc = env_set(e, "MLFLOWD_CTX_TRY_NUMBER", num);
    for (size_t i = 0; i < nenv && rc == MLF_OK; i++) {
        char *text = mlf_value_to_display(mlf_map_value_at(env, i));
        rc = text ? env_set(e, mlf_map_key_at(env, i), text) : MLF_ENOMEM;
        mlf_free(text);
    }
    return rc;
}

/* The value of NAME in @p e, or NULL. */
static const char *env_get(const py_env *e, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=')
            return e->v[i] + nl + 1;
    return NULL;
}

/* @p prog itself when it holds a '/', else the first executable file named @p prog in @p path (a PATH value);
 * a new string, or NULL when there is none. */
static char *find_program(const char *prog, const char *path)
{
    if (strchr(prog, '/'))
        return strdup(prog);
    size_t pl = strlen(prog);
    for (const char *p = path; p && *p;) {
        const char *end = strchr(p, ':');
        size_t dl = end ? (size_t)(end - p) : strlen(p);
        char *cand = malloc(dl + pl + 3);
        if (!cand)
            return NULL;
        snprintf(cand, dl + pl + 3, "%.*s/%s", (int)(dl ? dl : 1), dl ? p : ".", prog);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* argv: [/bin/sh -c 'cd -- "$0" && exec "$@"' CWD] PYTHON (SCRIPT | -m MODULE) ARGS... NULL; every string owned. */
typedef struct py_argv {
    char **v;
    size_t n;
} py_argv;

static int argv_add(py_argv *a, char *s)
{
    if (!s)
        return MLF_ENOMEM;
    a->v[a->n++] = s;
    return MLF_OK;
}

static void argv_free(py_argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

static int build_argv(mlf_task_ctx *ctx, const char *python, const char *cwd, py_argv *a)
{
    const char *script = mlf_value_get_str(mlf_ctx_param(ctx, "script"), NULL);
    const char *module = mlf_value_get_str(mlf_ctx_param(ctx, "module"), NULL);
    const mlf_value *args = mlf_ctx_param(ctx, "args");
    if (module && !*module)
        module = NULL;
    size_t nargs = mlf_value_type(args) == MLF_ARRAY ? mlf_value_len(args) : mlf_value_type(args) == MLF_NIL ? 0 : 1;
    a->v = calloc(nargs + 8, sizeof *a->v);
    if (!a->v)
        return MLF_ENOMEM;
    int rc = MLF_OK;
    if (cwd) {
        rc = argv_add(a, strdup("/bin/sh"));
        if (rc == MLF_OK) rc = argv_add(a, strdup("-c"));
        if (rc == MLF_OK) rc = argv_add(a, strdup("cd -- \"$0\" && exec \"$@\""));
        if (rc == MLF_OK) rc = argv_add(a, strdup(cwd));
    }
    if (rc == MLF_OK) rc = argv_add(a, strdup(python));
    if (rc == MLF_OK && module) {
        rc = argv_add(a, strdup("-m"));
        if (rc == MLF_OK) rc = argv_add(a, strdup(module));
    } else if (rc == MLF_OK) {
        rc = argv_add(a, strdup(script));
    }
    for (size_t i = 0; i < nargs && rc == MLF_OK; i++)
        rc = argv_add(a, mlf_value_to_display(mlf_value_type(args) == MLF_ARRAY ? mlf_array_at(args, i) : args));
    return rc;
}

/* ---- running it ---- */

/* Logs the child's output line by line through mlf_ctx_log (known secrets are masked) and feeds it to
 * the XCom scanner, until EOF. */
static void pump_output(mlf_task_ctx *ctx, int from, py_xcom_scan *scan)
{
    char buf[8192];
    char line[4096];
    size_t ll = 0;
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || ll + 1 == sizeof line) { /* a very long line is logged in pieces */
                line[ll] = '\0';
                mlf_ctx_log(ctx, MLF_LOG_INFO, "%s", line);
                ll = 0;
                if (buf[i] == '\n')
                    continue;
            }
            line[ll++] = buf[i];
        }
        py_xcom_scan_feed(scan, buf, (size_t)n);
    }
    if (ll) {
        line[ll] = '\0';
        mlf_ctx_log(ctx, MLF_LOG_INFO, "%s", line);
    }
    py_xcom_scan_finish(scan);
}

/* Checks script/module/cwd and finds the interpreter (a new string in @p *python). On a problem sets the
 * message, stores the outcome in @p *bad and returns an error code. */
static int check_params(mlf_task_ctx *ctx, const py_env *env, const char **cwd, char **python, mlf_outcome *bad)
{
    const char *script = mlf_value_get_str(mlf_ctx_param(ctx, "script"), NULL);
    const char *module = mlf_value_get_str(mlf_ctx_param(ctx, "module"), NULL);
    const char *prog = mlf_value_get_str(mlf_ctx_param(ctx, "python"), NULL);
    *cwd = mlf_value_get_str(mlf_ctx_param(ctx, "cwd"), NULL);
    *bad = MLF_FAILED_NO_RETRY;
    if ((script && *script) == (module && *module)) {
        mlf_ctx_set_message(ctx, "python: give exactly one of script and module");
        return MLF_EINVAL;
    }
    if (*cwd) {
        struct stat st;
        if (stat(*cwd, &st) != 0 || !S_ISDIR(st.st_mode)) {
            mlf_ctx_set_message(ctx, "python: cwd '%s' is not a directory", *cwd);
            *bad = MLF_FAILED;
            return MLF_ENOTFOUND;
        }
    }
    if (!prog || !*prog)
        prog = "python3";
    const char *path = env_get(env, "PATH");
    *python = find_program(prog, path ? path : "/usr/local/bin:/usr/bin:/bin");
    if (!*python) {
        mlf_ctx_set_message(ctx, "python: cannot find '%s' on PATH (%s)", prog, path ? path : "unset");
        *bad = MLF_FAILED;
        return MLF_ENOTFOUND;
    }
    return MLF_OK;
}

/* Spawns the script with stdin on @p in_fd and both stdout and stderr into @p out_fd, so that the log keeps
 * the order in which the script wrote (two paths into the log would reorder an unbuffered script's lines).
 * Returns 0 or an errno value. */
static int spawn(const py_argv *argv, const py_env *env, int in_fd, int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
    int err = posix_spawn(pid, argv->v[0], &fa, NULL, argv->v, env->v);
    posix_spawn_file_actions_destroy(&fa);
    return err;
}

/* The outcome of a finished script given its wait status and what its output said. */
static mlf_outcome judge(mlf_task_ctx *ctx, int status, const py_xcom_scan *scan)
{
    int64_t skip_code = 99;
    mlf_value_get_int(mlf_ctx_param(ctx, "skip_on_exit_code"), &skip_code);
    if (WIFSIGNALED(status)) {
        mlf_ctx_set_message(ctx, "script was killed by signal %d", WTERMSIG(status));
        return MLF_FAILED;
    }
    int code = WEXITSTATUS(status);
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Script exited with return code %d", code);
    if (scan->error) {
        mlf_ctx_set_message(ctx, "%s", scan->error);
        return MLF_FAILED;
    }
    if (code == 0)
        return MLF_SUCCESS;
    if (code == skip_code) {
        mlf_ctx_set_message(ctx, "script exited with code %d: skipping", code);
        return MLF_SKIPPED;
    }
    mlf_ctx_set_message(ctx, "script exited with code %d", code);
    return MLF_FAILED;
}

static mlf_outcome python_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    mlf_outcome outcome = MLF_FAILED;
    py_env env = {0};
    py_argv argv = {0};
    py_xcom_scan scan = {.ctx = ctx};
    mlf_value *context = NULL;
    char *json = NULL, *python = NULL;
    int in_fd = -1, pipefd[2] = {-1, -1};
    const char *cwd;

    if (build_env(ctx, &env) != MLF_OK) {
        mlf_ctx_set_message(ctx, "python: out of memory building the environment");
        goto out;
    }
    if (check_params(ctx, &env, &cwd, &python, &outcome) != MLF_OK)
        goto out;
    outcome = MLF_FAILED;
    int rc = build_context(ctx, &context);
    if (rc == MLF_ETYPE)
        outcome = MLF_FAILED_NO_RETRY;
    if (rc == MLF_OK)
        rc = mlf_value_to_json(context, &json);
    if (rc == MLF_OK)
        rc = build_argv(ctx, python, cwd, &argv);
    if (rc != MLF_OK) {
        if (rc != MLF_ETYPE)
            mlf_ctx_set_message(ctx, "python: cannot prepare the script's context: %s", mlf_strerror(rc));
        goto out;
    }
    if ((in_fd = context_file(ctx, json)) < 0)
        goto out;
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        mlf_ctx_set_message(ctx, "python: pipe: %s", strerror(errno));
        goto out;
    }

    const char *module = mlf_value_get_str(mlf_ctx_param(ctx, "module"), NULL);
    if (module && !*module)
        module = NULL;
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Running %s %s%s%s%s", python, module ? "-m " : "",
                module ? module : mlf_value_get_str(mlf_ctx_param(ctx, "script"), NULL), cwd ? " in " : "",
                cwd ? cwd : "");
    pid_t pid;
    int err = spawn(&argv, &env, in_fd, pipefd[1], &pid);
    close(pipefd[1]);
    pipefd[1] = -1;
    if (err != 0) {
        mlf_ctx_set_message(ctx, "python: cannot start %s: %s", argv.v[0], strerror(err));
        goto out;
    }
    pump_output(ctx, pipefd[0], &scan);
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (w < 0)
        mlf_ctx_set_message(ctx, "python: cannot wait for the script: %s", strerror(errno));
    else
        outcome = judge(ctx, status, &scan);

out:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (in_fd >= 0)
        close(in_fd);
    py_xcom_scan_free(&scan);
    argv_free(&argv);
    env_free(&env);
    mlf_value_free(context);
    mlf_free(json);
    free(python);
    return outcome;
}

static const mlf_operator_desc python_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "python",
    .help = "Runs a Python script (or `python -m module`) with the python3 on PATH, the task context as JSON on "
            "stdin. Its output goes to the log; a line `MLFLOWD_XCOM <json>` pushes an XCom. Exit 0 succeeds, exit 99 "
            "(skip_on_exit_code) skips, anything else fails.",
    .params = python_params,
    .execute = python_execute,
};

static int python_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &python_operator);
}

MLF_PLUGIN("python", MLF_VERSION_STRING, "The python operator (runs scripts with python3)", python_init, NULL);
