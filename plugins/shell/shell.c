/* shell -- runs a command with /bin/sh -c (Airflow's BashOperator).
 *
 * Exit 0 is success, exit `skip_on_exit_code` (99) is skipped, anything else (or a signal) is failed.
 * stdout and stderr (merged, as Airflow's BashOperator does) are logged line by line through the task
 * logger, so known secrets are masked; the last non-empty line becomes the XCom `return_value` (unless
 * do_xcom_push is false). The command sees MLFLOWD_CTX_* variables describing the
 * task instance.
 *
 * FAST PATH (as make does): a command that is one simple command made only of plain words -- letters,
 * digits, spaces and `-_./,:+@%^`, no quoting, variables, globs, redirections, assignments or operators --
 * whose first word is not a shell builtin or keyword, and is found as an executable file in an absolute
 * directory of the command's own PATH, is started directly, without /bin/sh: one process start instead of
 * two. What the command sees is the same (argv split at spaces as sh would, the same environment, working
 * directory, stdin /dev/null, stdout and stderr merged into the log, and PWD and OLDPWD exported as
 * /bin/sh's `cd` exports them), and so is what the task sees: the command's exit code, and 128 + N for a
 * command killed by signal N (what sh reports), unless the try was cancelled (SIGTERM to its process group
 * would have killed sh itself). The working directory must be an absolute path sh keeps as it is. Whenever
 * the direct start fails (not found, not executable, a working directory that cannot be entered) the
 * command runs through /bin/sh as before, which reports the error in its own words and exit code. */
#define _GNU_SOURCE /* pipe2 */
#include <mlflowd/mlflowd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
     .help = "working directory (default: a private temporary directory, emptied after the try)"},
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
        mlf_free(text);
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

/* ------------------------------------------------------------------------------------------ fast path */

/* Shell builtins and keywords: a command starting with one of these always goes through /bin/sh. */
static const char *const sh_words[] = {
    ".", ":", "[", "alias", "bg", "break", "case", "cd", "command", "continue", "do", "done", "echo", "elif",
    "else", "esac", "eval", "exec", "exit", "export", "fc", "fg", "fi", "for", "function", "getopts", "hash",
    "if", "in", "jobs", "kill", "local", "newgrp", "printf", "pwd", "read", "readonly", "return", "select",
    "set", "shift", "source", "test", "then", "times", "trap", "type", "ulimit", "umask", "unalias", "unset",
    "until", "wait", "while", NULL};

/* Splits @p command into argv when it is a plain simple command (see FAST PATH above). Returns a
 * NULL-terminated array of words pointing into @p buf (a copy of command), or NULL: use /bin/sh. */
static char **plain_words(const char *command, char *buf, size_t buflen, char **argv, size_t maxargs)
{
    size_t len = strlen(command);
    if (len == 0 || len >= buflen)
        return NULL;
    for (const char *c = command; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr(" -_./,:+@%^", *c)))
            return NULL;
    memcpy(buf, command, len + 1);
    size_t n = 0;
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        if (n + 1 >= maxargs)
            return NULL;
        argv[n++] = tok;
    }
    argv[n] = NULL;
    if (n == 0)
        return NULL;
    for (size_t i = 0; sh_words[i]; i++)
        if (strcmp(argv[0], sh_words[i]) == 0)
            return NULL;
    return argv;
}

/* Finds @p word in the absolute directories of PATH from environment @p envp, as sh would; an absolute
 * @p word is taken as it is. Returns 1 with the file in @p out, or 0: let /bin/sh decide. */
static int find_program(const char *word, char *const *envp, char *out, size_t outlen)
{
    struct stat st;
    if (word[0] == '/') {
        if (strlen(word) >= outlen || stat(word, &st) != 0 || !S_ISREG(st.st_mode) || access(word, X_OK) != 0)
            return 0;
        snprintf(out, outlen, "%s", word);
        return 1;
    }
    if (strchr(word, '/'))
        return 0; /* relative to the command's working directory: sh knows best */
    const char *path = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    if (!path || !*path)
        return 0;
    for (const char *dir = path;;) {
        const char *end = strchr(dir, ':');
        size_t dl = end ? (size_t)(end - dir) : strlen(dir);
        if (dl == 0 || dir[0] != '/')
            return 0; /* an empty or relative entry means a working directory: sh knows best */
        if (dl + strlen(word) + 2 <= outlen) {
            snprintf(out, outlen, "%.*s/%s", (int)dl, dir, word);
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
                return 1;
        }
        if (!end)
            return 0;
        dir = end + 1;
    }
}

/* 1 when @p dir is an absolute path sh's `cd` would keep as it is for PWD (no ".", "..", "//" or trailing
 * slash to normalise). */
static int plain_dir(const char *dir)
{
    size_t n = strlen(dir);
    if (dir[0] != '/' || strstr(dir, "//") || strstr(dir, "/./") || strstr(dir, "/../"))
        return 0;
    if (n > 1 && (dir[n - 1] == '/' || (n >= 2 && strcmp(dir + n - 2, "/.") == 0) ||
                  (n >= 3 && strcmp(dir + n - 3, "/..") == 0)))
        return 0;
    return 1;
}

/* Sets PWD and OLDPWD in @p e as sh's `cd -- CWD` exports them: PWD the new directory, OLDPWD the one it
 * started in (its inherited PWD when that names the current directory, else getcwd()). */
static int add_cd_vars(env_list *e, const char *cwd)
{
    const char *pwd = NULL;
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], "PWD=", 4) == 0)
            pwd = e->v[i] + 4;
    char here[4096];
    struct stat a, b;
    if (!pwd || pwd[0] != '/' || stat(pwd, &a) != 0 || stat(".", &b) != 0 || a.st_dev != b.st_dev ||
        a.st_ino != b.st_ino) {
        if (!getcwd(here, sizeof here))
            return MLF_EIO;
        pwd = here;
    } else {
        snprintf(here, sizeof here, "%s", pwd);
        pwd = here; /* a copy: env_add() below replaces the string it points into */
    }
    int rc = env_add(e, "OLDPWD", pwd);
    return rc == MLF_OK ? env_add(e, "PWD", cwd) : rc;
}

/* Starts @p command directly when the fast path applies, with @p e completed as sh would complete it.
 * Returns 0 with the child in @p *pid, or -1: use /bin/sh (@p e is then left as it was). */
static int spawn_direct(const char *command, const char *cwd, int out, env_list *e, pid_t *pid)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
    char buf[1024], file[4096];
    char *argv[64];
    if (!plain_dir(cwd) || !plain_words(command, buf, sizeof buf, argv, sizeof argv / sizeof argv[0]) ||
        !find_program(argv[0], e->v, file, sizeof file))
        return -1;
    env_list full = {0};
    int rc = MLF_OK;
    for (size_t i = 0; i < e->n && rc == MLF_OK; i++) {
        const char *eq = strchr(e->v[i], '=');
        char name[256];
        size_t nl = (size_t)(eq - e->v[i]);
        if (nl >= sizeof name)
            continue;
        memcpy(name, e->v[i], nl);
        name[nl] = '\0';
        rc = env_add(&full, name, eq + 1);
    }
    if (rc != MLF_OK || add_cd_vars(&full, cwd) != MLF_OK) {
        env_free(&full);
        return -1;
    }
    char *const *envp = full.v;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    int err = posix_spawn_file_actions_addchdir_np(&fa, cwd);
    if (err == 0)
        err = posix_spawn(pid, file, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    env_free(&full);
    return err == 0 ? 0 : -1;
#else
    (void)command;
    (void)cwd;
    (void)out;
    (void)e;
    (void)pid;
    return -1;
#endif
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0) /* the scratch directory itself stays: scratch_release() decides */
        remove(path);
    return 0; /* remove what can be removed, as rm -rf does */
}

/* ------------------------------------------------------------------------------------------ scratch
 *
 * A command without `cwd` runs in a private temporary directory. Creating and removing one per try is the
 * dearest part of a `true` task on a file system mounted with `discard` (a rmdir waits for the device:
 * milliseconds), so a process keeps one scratch directory for all its tries -- a task host runs thousands,
 * one at a time -- and empties it after each try; the next try finds it empty, as a fresh one would be.
 * When it cannot be emptied it is given up (removed as far as possible) and the next try makes a new one.
 * The plugin's fini removes it when the process ends normally; a killed host leaves one empty directory. */

static char scratch[] = "/tmp/mlflowd-shell-XXXXXX";
static pid_t scratch_owner; /* the process that made it (0: none): a forked child makes its own */

/* The scratch directory for this try, or NULL (errno set) when none can be made. */
static const char *scratch_take(void)
{
    if (scratch_owner == getpid())
        return scratch;
    memcpy(scratch + sizeof scratch - 7, "XXXXXX", 6);
    if (!mkdtemp(scratch))
        return NULL;
    scratch_owner = getpid();
    return scratch;
}

/* 1 when the directory @p path has no entries. */
static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

/* Empties the scratch directory after a try; gives it up when something stays. */
static void scratch_release(void)
{
    if (scratch_owner != getpid())
        return;
    if (dir_is_empty(scratch))
        return;
    chmod(scratch, 0700); /* the command may have changed its mode */
    nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (!dir_is_empty(scratch)) {
        rmdir(scratch);
        scratch_owner = 0;
    }
}

static void shell_fini(void)
{
    if (scratch_owner != getpid())
        return;
    nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(scratch);
    scratch_owner = 0;
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

    int made_tmp = 0;
    if (!cwd) {
        if (!(cwd = scratch_take())) {
            mlf_ctx_set_message(ctx, "shell: cannot create a temporary directory: %s", strerror(errno));
            return MLF_FAILED;
        }
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

    mlf_ctx_log(ctx, MLF_LOG_INFO, "Running command: %s", command);
    pid_t pid;
    int err = 0;
    int direct = spawn_direct(command, cwd, pipefd[1], &env, &pid) == 0;
    if (!direct) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO); /* merged, as Airflow's BashOperator */
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        char *argv[] = {"/bin/sh", "-c", script, NULL};
        err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, env.v);
        posix_spawn_file_actions_destroy(&fa);
    }
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
    /* sh reports a command killed by a signal as exit code 128 + N; a try cancelled by SIGTERM to its process
     * group kills sh itself, which the direct path sees as the command's own signal */
    if (direct && WIFSIGNALED(status) && !mlf_ctx_cancelled(ctx))
        status = W_EXITCODE(128 + WTERMSIG(status), 0);
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
    if (made_tmp) /* remove what the command left behind in its scratch directory (in-process: no rm) */
        scratch_release();
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

MLF_PLUGIN("shell", MLF_VERSION_STRING, "The shell operator (/bin/sh -c)", shell_init, shell_fini);
