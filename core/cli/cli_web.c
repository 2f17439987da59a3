/* cli_web.c -- `webserver` (the REST API and web UI, doc/webserver.md) and `users create|list|delete|token`
 * (the webserver's accounts, kept in the state store). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strutil.h"
#include "cli/cli.h"
#include "cli/cli_table.h"
#include "store/store_users.h"
#include "time/timefmt.h"
#include "web/metrics_sched.h"
#include "web/web.h"

/* The TLS files of the configuration (NULL when not set). */
static const char *cfg_path(mlf_cli *cli, const char *key)
{
    const char *v = mlf_config_str(cli->cfg, key);
    return v && *v ? v : NULL;
}

/* The file in the home where the webserver writes its URL once it listens (the port it bound, which
 * --port 0 leaves to the system), and removes when it stops: how standalone and scripts find it. */
#define URL_FILE "webserver.url"

/* Writes @p url into HOME/webserver.url (replaced atomically). Failures are only said: the server runs. */
static void write_url_file(const char *home, const char *url)
{
    char *path = mlf_strdup_printf("%s/" URL_FILE, home), *tmp = mlf_strdup_printf("%s/." URL_FILE ".tmp", home);
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    int ok = f && fprintf(f, "%s\n", url) > 0;
    ok = f && fclose(f) == 0 && ok;
    if (!ok || !path || rename(tmp, path) != 0) {
        fprintf(stderr, "mlflowd: warning: cannot write %s: %s\n", path ? path : URL_FILE, strerror(errno));
        if (tmp)
            unlink(tmp);
    }
    free(path);
    free(tmp);
}

/* HOST:PORT of @p listen with its port replaced by @p port_s (checked: 0..65535, 0 for any free port), as a
 * new string in @p *out. Returns 0, or exit code 2 after saying why. */
static int listen_with_port(const char *listen, const char *port_s, char **out)
{
    int port = 0;
    int rc = mlf_cli_parse_int("--port", port_s, 0, 65535, &port);
    if (rc)
        return rc;
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    *out = colon ? mlf_strdup_printf("%.*s:%d", (int)(colon - listen), listen, port)
                 : mlf_strdup_printf("127.0.0.1:%d", port);
    return *out ? 0 : mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
}

int mlf_cmd_webserver(mlf_cli *cli)
{
    const char *listen = mlf_cli_take_value(cli, "--listen", NULL, NULL);
    const char *port_s = mlf_cli_take_value(cli, "--port", "-p", NULL);
    int routes = mlf_cli_take_flag(cli, "--routes", NULL);
    int rc = mlf_cli_check_args(cli, 0, 0, (const char *const[]){"--listen", "--port", "--routes", NULL});
    if (rc)
        return rc;
    if (routes) {
        mlf_web_print_routes(cli->out);
        return MLF_EXIT_OK;
    }
    char *with_port = NULL;
    if (port_s && (mlf_cli_config(cli) != MLF_OK ||
                   (rc = listen_with_port(listen ? listen : mlf_config_str(cli->cfg, "api.listen"), port_s, &with_port))))
        return rc ? rc : MLF_EXIT_USAGE;
    if (with_port)
        listen = with_port;
    mlf_store *st = (rc = mlf_cli_dagbag(cli)) ? NULL : mlf_cli_store(cli, 1);
    if (!st) {
        free(with_port);
        return rc ? rc : MLF_EXIT_FAILED;
    }
    char *exe = mlf_self_exe();
    /* signals are taken by sigwait() below, in this thread only: block them before the server's threads
     * start, so that they inherit the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    mlf_web_opts o = {.cfg = cli->cfg, .cat = cli->cat, .bag = cli->bag, .store = st, .exe = exe ? exe : "mlflowd",
                      .listen = listen ? listen : mlf_config_str(cli->cfg, "api.listen"),
                      .tls_cert_file = cfg_path(cli, "api.tls_cert_file"),
                      .tls_key_file = cfg_path(cli, "api.tls_key_file")};
    mlf_web *web = NULL;
    char err[512];
    rc = mlf_web_start(&o, &web, err, sizeof err);
    if (rc != MLF_OK) {
        free(with_port);
        free(exe);
        mlf_store_close(st);
        return mlf_cli_fail(rc == MLF_EINVAL || rc == MLF_ENOTSUP ? MLF_EXIT_USAGE : MLF_EXIT_FAILED, "%s", err);
    }
    write_url_file(mlf_config_home(cli->cfg), mlf_web_url(web));
    mlf_diag_print(mlf_dagbag_errors(cli->bag), "mlflowd: DAG import error: ");
    fprintf(stderr, "mlflowd: webserver listening on %s/ (%zu DAG(s), home %s)\n", mlf_web_url(web),
            mlf_dagbag_count(cli->bag), mlf_config_home(cli->cfg));
    /* until a signal: DAG files added, changed or removed are loaded as the scheduler does (inotify, and the
     * periodic rescan of scheduler.dag_dir_list_interval), checked every 250 ms */
    mlf_dagbag_watch(cli->bag);
    mlf_dagbag_set_rescan_interval(cli->bag, mlf_config_duration_us(cli->cfg, "scheduler.dag_dir_list_interval"));
    const struct timespec tick = {0, 250 * 1000000L};
    while (sigtimedwait(&set, NULL, &tick) < 0) {
        size_t changed = 0;
        if (!mlf_dagbag_poll(cli->bag, mlf_time_now()))
            continue;
        if (mlf_web_reload_dags(web, &changed) == MLF_OK && changed) {
            fprintf(stderr, "mlflowd: DAG folder changed (%zu file(s)); %zu DAG(s) loaded\n", changed,
                    mlf_dagbag_count(cli->bag));
            mlf_diag_print(mlf_dagbag_errors(cli->bag), "mlflowd: DAG import error: ");
        }
    }
    char *url_file = mlf_strdup_printf("%s/" URL_FILE, mlf_config_home(cli->cfg));
    if (url_file)
        unlink(url_file);
    free(url_file);
    mlf_web_stop(web);
    mlf_store_close(st);
    free(exe);
    free(with_port); /* the server's copy of its options pointed at it */
    fprintf(stderr, "mlflowd: webserver stopped\n");
    return MLF_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------- users */

int mlf_cmd_users_create(mlf_cli *cli)
{
    const char *role_s = mlf_cli_take_value(cli, "--role", "-r", NULL);
    const char *password = mlf_cli_take_value(cli, "--password", "-p", NULL);
    int replace = mlf_cli_take_flag(cli, "--replace", NULL);
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--role", "--password", "--replace", NULL});
    if (rc)
        return rc;
    mlf_role role = MLF_ROLE_VIEWER;
    if (role_s && mlf_role_parse(role_s, &role) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "--role must be viewer, op or admin, not '%s'", role_s);
    if (mlf_user_name_check(cli->argv[0]) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "invalid user name '%s': 1 to 64 letters, digits, '_' and '-'",
                            cli->argv[0]);
    if (password && strlen(password) < 8)
        return mlf_cli_fail(MLF_EXIT_USAGE, "the password must have at least 8 characters");
    char generated[21];
    if (!password) {
        mlf_web_random_password(generated, sizeof generated);
        password = generated;
    }
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    rc = mlf_web_user_create(st, cli->argv[0], role, password, replace);
    mlf_store_close(st);
    if (rc == MLF_EEXIST)
        return mlf_cli_fail(MLF_EXIT_USAGE, "user %s exists (--replace sets a new password and role)", cli->argv[0]);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot create user %s: %s", cli->argv[0], mlf_strerror(rc));
    fprintf(cli->out, "User %s (%s) %s\n", cli->argv[0], mlf_role_name(role), replace ? "saved" : "created");
    if (password == generated)
        fprintf(cli->out, "password: %s\n", generated);
    return MLF_EXIT_OK;
}

static int add_user(void *ud, const mlf_user_rec *r)
{
    char created[64] = "";
    if (r->created_at != MLF_TIME_NONE)
        mlf_time_format_iso(r->created_at, NULL, MLF_ISO_SECONDS, created, sizeof created);
    json_array_append_new(ud, json_pack("{s:s, s:s, s:s, s:b}", "username", r->name, "role", r->role ? r->role : "",
                                        "created_at", created, "has_token", r->token_hash != NULL));
    return 0;
}

int mlf_cmd_users_list(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    json_t *users = json_array();
    mlf_store_txn *txn;
    rc = mlf_store_read_begin(st, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_user_foreach(txn, add_user, users);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    if (rc != MLF_OK) {
        json_decref(users);
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot read the users: %s", mlf_strerror(rc));
    }
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, users);
        return MLF_EXIT_OK;
    }
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
        json_object_set_new(u, "token", json_string(json_is_true(json_object_get(u, "has_token")) ? "yes" : "no"));
    static const mlf_cli_column cols[] = {{"username", NULL}, {"role", NULL}, {"token", NULL}, {"created_at", NULL}};
    mlf_cli_print_rows(cli, users, cols, 4);
    json_decref(users);
    return MLF_EXIT_OK;
}

int mlf_cmd_users_delete(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_store_txn *w;
    rc = mlf_store_write_begin(st, &w);
    if (rc == MLF_OK) {
        rc = mlf_store_user_delete(w, cli->argv[0]);
        rc = rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
    }
    mlf_store_close(st);
    if (rc == MLF_ENOTFOUND || rc == MLF_EINVAL || rc == MLF_ETOOBIG)
        return mlf_cli_fail(MLF_EXIT_USAGE, "no user %s", cli->argv[0]);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot delete user %s: %s", cli->argv[0], mlf_strerror(rc));
    fprintf(cli->out, "User %s deleted\n", cli->argv[0]);
    return MLF_EXIT_OK;
}

int mlf_cmd_users_token(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    char tok[256];
    rc = mlf_web_user_new_token(st, cli->argv[0], tok, sizeof tok);
    mlf_store_close(st);
    if (rc == MLF_ENOTFOUND || rc == MLF_EINVAL)
        return mlf_cli_fail(MLF_EXIT_USAGE, "no user %s", cli->argv[0]);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot make a token for %s: %s", cli->argv[0], mlf_strerror(rc));
    /* the token alone on stdout, for scripts: TOKEN=$(mlflowd users token ci) */
    fprintf(cli->out, "%s\n", tok);
    fprintf(stderr, "mlflowd: send it as \"Authorization: Bearer TOKEN\"; it replaces %s's previous token\n",
            cli->argv[0]);
    return MLF_EXIT_OK;
}

/* ------------------------------------------------------------------------------ standalone's webserver */

static int count_user(void *ud, const mlf_user_rec *r)
{
    (void)r;
    ++*(size_t *)ud;
    return 0;
}

/* On the first start (no user at all) creates user "admin" with a random password, saved to
 * HOME/standalone_admin_password (mode 0600) and printed once. */
static void first_admin(mlf_cli *cli, mlf_store *st)
{
    size_t n = 0;
    mlf_store_txn *txn;
    if (mlf_store_read_begin(st, &txn) != MLF_OK)
        return;
    mlf_store_user_foreach(txn, count_user, &n);
    mlf_store_read_end(txn);
    char *path = mlf_strdup_printf("%s/standalone_admin_password", mlf_config_home(cli->cfg));
    if (n > 0 || !path) {
        if (path && access(path, F_OK) == 0)
            fprintf(stderr, "  log in:      as admin, password in %s\n", path);
        free(path);
        return;
    }
    char pw[21];
    mlf_web_random_password(pw, sizeof pw);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = fd >= 0 && dprintf(fd, "%s\n", pw) > 0 ? mlf_web_user_create(st, "admin", MLF_ROLE_ADMIN, pw, 0) : MLF_EIO;
    if (fd >= 0)
        close(fd);
    if (rc == MLF_OK)
        fprintf(stderr, "  log in:      user admin, password %s (shown once; kept in %s, mode 0600)\n", pw, path);
    else
        fprintf(stderr, "mlflowd: could not create the admin user (%s); use `mlflowd users create`\n",
                mlf_strerror(rc));
    free(path);
}

pid_t mlf_cli_web_spawn(mlf_cli *cli, mlf_store *st, const char *exe, const char *port)
{
    first_admin(cli, st);
    char *url_file = mlf_strdup_printf("%s/" URL_FILE, mlf_config_home(cli->cfg));
    if (url_file)
        unlink(url_file); /* a previous webserver's, killed before it could remove it */
    char *log = mlf_strdup_printf("%s/logs/webserver.log", mlf_config_home(cli->cfg));
    char *dir = mlf_strdup_printf("%s/logs", mlf_config_home(cli->cfg));
    if (dir)
        mkdir(dir, 0755);
    free(dir);
    if (!log || !url_file) {
        free(log);
        free(url_file);
        return 0;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)exe, "webserver", port ? "--port" : NULL, (char *)port, NULL};
    extern char **environ;
    pid_t pid = 0;
    if (posix_spawn(&pid, exe, &fa, NULL, argv, environ) != 0)
        pid = 0;
    posix_spawn_file_actions_destroy(&fa);
    /* the URL it listens on, once it wrote HOME/webserver.url (at most 10 s) */
    char url[256] = "";
    for (int i = 0; pid > 0 && i < 100 && !url[0]; i++) {
        usleep(100000);
        FILE *f = fopen(url_file, "r");
        if (f && fscanf(f, "%255s", url) != 1)
            url[0] = '\0';
        if (f)
            fclose(f);
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            pid = 0;
        }
    }
    if (url[0])
        fprintf(stderr, "  web UI:      %s/ (`mlflowd webserver` process, log in %s; URL in %s)\n", url, log,
                url_file);
    else
        fprintf(stderr, "mlflowd: the webserver did not start (port %s in use? --port 0 takes any free one): see %s\n",
                port ? port : mlf_config_str(cli->cfg, "api.listen"), log);
    free(log);
    free(url_file);
    return pid;
}

void mlf_cli_web_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* 10 s */
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* ---------------------------------------------------------------------------------- scheduler metrics */

static mlf_sched_metrics_src metrics_src;

mlf_metrics_server *mlf_cli_metrics_start(mlf_cli *cli, mlf_store *st)
{
    const char *listen = cfg_path(cli, "scheduler.metrics_listen");
    if (!listen)
        return NULL;
    metrics_src.store = st;
    metrics_src.parallelism = mlf_config_int(cli->cfg, "parallelism");
    mlf_metrics_server *m = NULL;
    const char *url = NULL;
    char err[256];
    if (mlf_metrics_start(listen, mlf_sched_metrics_collect, &metrics_src, &m, &url, err, sizeof err) != MLF_OK) {
        fprintf(stderr, "mlflowd: no /metrics: %s\n", err);
        return NULL;
    }
    fprintf(stderr, "mlflowd: scheduler metrics on %s\n", url);
    return m;
}
