/* shell -- runs a command with /bin/sh -c (Airflow's BashOperator).
 *
 * Exit 0 is success, exit `skip_on_exit_code` (99) is skipped, anything else (or a signal) is failed.
 * stdout and stderr (merged, as Airflow's BashOperator does) are logged line by line through the task
 * logger, so known secrets are masked; the last non-empty line becomes the XCom `return_value` (unless
 * do_xcom_push is false). The command sees MLFLOWD_CTX_* variables describing the
 * task instance. */
#define _GNU_SOURCE /* pipe2 */
#include <mlflowd/mlflowd.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const mlf_param_spec shell_params[] = {
    {.name = "command", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "the command line, run with /bin/sh -c"},
    {.name = "env", .type = MLF_PARAM_MAP, .flags = MLF_PARAM_TEMPLATED,
     .help = "environment variables; they replace the worker's environment unless append_env is true"},
    {.name = "append_env", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "add env to the worker's environment instead of replacing it"},
    {.name = "cwd", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "working directory (default: a fresh temporary directory, removed afterwards)"},
    {.name = "skip_on_exit_code", .type = MLF_PARAM_INT, .default_value = "99",
     .help = "exit code that marks the task skipped instead of failed"},
    {.name = "do_xcom_push", .type = MLF_PARAM_BOOL, .default_value = "true",
     .help = "push the last line of stdout as the XCom return_value"},
    {0}};

/* A NULL-terminated environment array with its strings; freed by env_free(). */
typedef struct env_list {
    char **v;
    size_t n, cap;
} env_list;

static int env_add(env_list *e, const char *name, const char *value)
{
    if (e->n + 2 > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        char **v = realloc(e->v, cap * sizeof *v);
        if (!v)
            return MLF_ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    size_t len = strlen(name) + strlen(value) + 2;
    char *s = malloc(len);
    if (!s)
        return MLF_ENOMEM;
    snprintf(s, len, "%s=%s", name, value);
    /* a later definition of the same name replaces the earlier one */
    size_t nl = strlen(name);
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
            free(e->v[i]);
            e->v[i] = s;
            return MLF_OK;
        }
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
    return MLF_OK;
}

static void env_free(env_list *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
}

static int build_env(mlf_task_ctx *ctx, env_list *e)
{
    const mlf_value *env = mlf_ctx_param(ctx, "env");
    int append = 0;
    mlf_value_get_bool(mlf_ctx_param(ctx, "append_env"), &append);
    int rc = MLF_OK;
    if (!env || append) {
        for (char **p = environ; *p && rc == MLF_OK; p++) {
            const char *eq = strchr(*p, '=');
            if (!eq)
                continue;
            char name[256];
            size_t nl = (size_t)(eq - *p);
            if (nl >= sizeof name)
                continue;
            memcpy(name, *p, nl);
            name[nl] = '\0';
            rc = env_add(e, name, eq + 1);
        }
    }
    for (size_t i = 0; env && i < mlf_value_len(env) && rc == MLF_OK; i++) {
        const mlf_value *v = mlf_map_value_at(env, i);
        char *text = mlf_value_to_display(v);
        if (!text)
            return MLF_ENOMEM;
        rc = env_add(e, mlf_map_key_at(env, i), text);
        free(text);
    }
    char num[32];
    snprintf(num, sizeof num, "%d", mlf_ctx_try_number(ctx));
    if (rc == MLF_OK) rc = env_add(e, "MLFLOWD_CTX_DAG_ID", mlf_ctx_dag_id(ctx));
    if (rc == MLF_OK) rc = env_add(e, "MLFLOWD_CTX_TASK_ID", mlf_ctx_task_id(ctx));
    if (rc == MLF_OK) rc = env_add(e, "MLFLOWD_CTX_RUN_ID", mlf_ctx_run_id(ctx));
    if (rc == MLF_OK) rc = env_add(e, "MLFLOWD_CTX_TRY_NUMBER", num);
    if (rc == MLF_OK && !e->v) rc = env_add(e, "MLFLOWD_CTX_EMPTY", "");
    return rc;
}

/* Logs the child's output line by line through mlf_ctx_log (so known secrets are masked, as Airflow's
 * BashOperator logs subprocess output through its logger) while remembering the last non-empty line. */
static void pump_output(mlf_task_ctx *ctx, int from, char *last, size_t lastlen)
{
    char buf[8192];
    char line[4096];
    size_t ll = 0;
    last[0] = '\0';
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            char c = buf[i];
            if (c == '\n' || ll + 1 == sizeof line) { /* a very long line is logged in pieces */
                line[ll] = '\0';
                mlf_ctx_log(ctx, MLF_LOG_INFO, "%s", line);
                if (ll)
                    snprintf(last, lastlen, "%s", line);
                ll = 0;
                if (c == '\n')
                    continue;
            }
            line[ll++] = c;
        }
    }
    if (ll) {
        line[ll] = '\0';
        mlf_ctx_log(ctx, MLF_LOG_INFO, "%s", line);
        snprintf(last, lastlen, "%s", line);
    }
}

static mlf_outcome shell_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const char *command = mlf_value_get_str(mlf_ctx_param(ctx, "command"), NULL);
    const char *cwd = mlf_value_get_str(mlf_ctx_param(ctx, "cwd"), NULL);
    int64_t skip_code = 99;
    int xcom = 1;
    mlf_value_get_int(mlf_ctx_param(ctx, "skip_on_exit_code"), &skip_code);
    mlf_value_get_bool(mlf_ctx_param(ctx, "do_xcom_push"), &xcom);
    if (!command || !*command) {
        mlf_ctx_set_message(ctx, "shell: command is empty");
        return MLF_FAILED_NO_RETRY;
    }

    char tmpdir[] = "/tmp/mlflowd-shell-XXXXXX";
    int made_tmp = 0;
    if (!cwd) {
        if (!mkdtemp(tmpdir)) {
            mlf_ctx_set_message(ctx, "shell: cannot create a temporary directory: %s", strerror(errno));
            return MLF_FAILED;
        }
        cwd = tmpdir;
        made_tmp = 1;
    }

    env_list env = {0};
    int pipefd[2] = {-1, -1};
    mlf_outcome outcome = MLF_FAILED;
    if (build_env(ctx, &env) != MLF_OK) {
        mlf_ctx_set_message(ctx, "shell: out of memory building the environment");
        goto out;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        mlf_ctx_set_message(ctx, "shell: pipe: %s", strerror(errno));
        goto out;
    }

    /* The child needs to start in cwd: posix_spawn has no chdir before glibc 2.29's _np extension, so
     * let the shell do it. */
    char *script = NULL;
    size_t slen = strlen(cwd) * 4 + strlen(command) + 32;
    script = malloc(slen);
    if (!script) {
        mlf_ctx_set_message(ctx, "shell: out of memory");
        goto out;
    }
    {
        /* cd -- 'dir' (single quotes escaped) && exec the command in a sub-shell */
        size_t o = 0;
        o += (size_t)snprintf(script + o, slen - o, "cd -- '");
        for (const char *p = cwd; *p; p++) {
            if (*p == '\'')
                o += (size_t)snprintf(script + o, slen - o, "'\\''");
            else
                script[o++] = *p;
        }
        snprintf(script + o, slen - o, "' || exit 1\n%s", command);
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO); /* merged, as Airflow's BashOperator */
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Running command: %s", command);
    pid_t pid;
    int err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, env.v);
    posix_spawn_file_actions_destroy(&fa);
    free(script);
    close(pipefd[1]);
    pipefd[1] = -1;
    if (err != 0) {
        mlf_ctx_set_message(ctx, "shell: cannot start /bin/sh: %s", strerror(err));
        goto out;
    }

    char last[4096];
    pump_output(ctx, pipefd[0], last, sizeof last);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        int code = WEXITSTATUS(status);
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Command exited with return code %d", code);
        if (code == 0) {
            outcome = MLF_SUCCESS;
            if (xcom && last[0] && mlf_ctx_xcom_push(ctx, MLF_XCOM_RETURN_KEY, mlf_value_str(last)) != MLF_OK) {
                mlf_ctx_set_message(ctx, "shell: the last line of output could not be pushed as XCom");
                outcome = MLF_FAILED;
            }
        } else if (code == skip_code) {
            mlf_ctx_set_message(ctx, "command exited with code %d: skipping", code);
            outcome = MLF_SKIPPED;
        } else {
            mlf_ctx_set_message(ctx, "command exited with code %d", code);
        }
    } else if (WIFSIGNALED(status)) {
        mlf_ctx_set_message(ctx, "command was killed by signal %d", WTERMSIG(status));
    }

out:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    env_free(&env);
    if (made_tmp) {
        /* remove what the command left behind in its scratch directory */
        char *rm[] = {"/bin/rm", "-rf", "--", tmpdir, NULL};
        pid_t rp;
        if (posix_spawn(&rp, "/bin/rm", NULL, NULL, rm, environ) == 0)
            waitpid(rp, NULL, 0);
    }
    return outcome;
}

static const mlf_operator_desc shell_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "shell",
    .help = "Runs `command` with /bin/sh -c (Airflow's BashOperator). Exit 0 succeeds, exit 99 (skip_on_exit_code) "
            "skips, anything else fails; the last line of stdout becomes the XCom return_value.",
    .params = shell_params,
    .execute = shell_execute,
};

static int shell_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &shell_operator);
}

MLF_PLUGIN("shell", MLF_VERSION_STRING, "The shell operator (/bin/sh -c)", shell_init, NULL);
