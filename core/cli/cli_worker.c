/* cli_worker.c -- `mlflowd worker` and `mlflowd keys generate`. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/sdnotify.h"
#include "web/metrics_worker.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "exec/proto.h"
#include "base/strutil.h"
#include "exec/executor_local.h"
#include "exec/worker.h"
#include "exec/zmq_auth.h"

static volatile sig_atomic_t worker_stop;

/* The first signal drains, the second kills what still runs. */
static void on_worker_signal(int sig)
{
    (void)sig;
    if (worker_stop < 2)
        worker_stop++;
}

/* systemd (Type=notify, dist/systemd/mlflowd-worker@.service): READY=1 once the loop runs (a worker is up
 * while it waits for its scheduler: it reconnects on its own), STATUS= when the scheduler starts or stops
 * answering, WATCHDOG=1 at most every half watchdog interval (the loop turns at least once per heartbeat),
 * STOPPING=1 once a stop signal arrived. */
typedef struct worker_sd {
    const char *endpoint, *name;
    int64_t watchdog_us;
    mlf_time_us last_ping;
    int ready_sent, connected, stopping_sent;
} worker_sd;

static void worker_turn(void *ud, mlf_time_us now, int connected, int draining)
{
    worker_sd *sd = ud;
    char msg[400];
    if (draining) {
        if (!sd->stopping_sent) {
            sd->stopping_sent = 1;
            mlf_sd_notify("STOPPING=1\nSTATUS=stopping: running tries may finish");
        }
    } else if (!sd->ready_sent || connected != sd->connected) {
        snprintf(msg, sizeof msg, "%sSTATUS=%s %s", sd->ready_sent ? "" : "READY=1\n",
                 connected ? "serving the scheduler at" : "waiting for the scheduler at", sd->endpoint);
        mlf_sd_notify(msg);
        sd->ready_sent = 1;
        sd->connected = connected;
    }
    if (sd->watchdog_us && now - sd->last_ping >= sd->watchdog_us / 2) {
        sd->last_ping = now;
        mlf_sd_notify("WATCHDOG=1");
    }
}

/* Splits "a,b" into a new array of new strings (free with free_words()); empty items are skipped. */
static char **split_words(const char *text, size_t *n)
{
    *n = 0;
    size_t cap = 1;
    for (const char *c = text; *c; c++)
        cap += *c == ',';
    char **v = calloc(cap + 1, sizeof *v);
    const char *p = text;
    while (v && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len && !(v[(*n)++] = strndup(p, len))) {
            for (size_t i = 0; i < *n; i++)
                free(v[i]);
            free(v);
            return NULL;
        }
        p += len + (e ? 1 : 0);
    }
    return v;
}

static void free_words(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* The default endpoint: zmq.bind when it names one address (not a wildcard). */
static const char *default_endpoint(const mlf_config *cfg)
{
    const char *bind = mlf_config_str(cfg, "zmq.bind");
    return bind && !strchr(bind, '*') && !strstr(bind, "0.0.0.0") ? bind : NULL;
}

/* Starts the worker's /metrics on worker.metrics_listen (NULL when unset or it cannot listen: the worker
 * runs without). Its thread is started with SIGINT and SIGTERM blocked so that they reach the worker's loop. */
static mlf_metrics_server *worker_metrics_start(mlf_cli *cli)
{
    const char *listen = mlf_config_str(cli->cfg, "worker.metrics_listen");
    if (!listen)
        return NULL;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    mlf_metrics_server *m = NULL;
    const char *url = NULL;
    char err[256];
    int rc = mlf_metrics_start(listen, mlf_worker_metrics_collect, NULL, &m, &url, err, sizeof err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != MLF_OK) {
        fprintf(stderr, "mlflowd: worker: no /metrics: %s\n", err);
        return NULL;
    }
    fprintf(stderr, "mlflowd: worker metrics on %s\n", url);
    return m;
}

int mlf_cmd_worker(mlf_cli *cli)
{
    int missing = 0;
    const char *connect = mlf_cli_take_value(cli, "--connect", NULL, &missing);
    const char *conc = mlf_cli_take_value(cli, "--concurrency", "-c", &missing);
    const char *queues_arg = mlf_cli_take_value(cli, "--queues", "-q", &missing);
    const char *name = mlf_cli_take_value(cli, "--name", NULL, &missing);
    const char *server_key_file = mlf_cli_take_value(cli, "--server-key", NULL, &missing);
    const char *secret_key_file = mlf_cli_take_value(cli, "--secret-key", NULL, &missing);
    int insecure = mlf_cli_take_flag(cli, "--insecure", NULL);
    static const char *const flags[] = {"--connect", "--concurrency", "--queues", "--name", "--server-key",
                                        "--secret-key", "--insecure", NULL};
    int rc = mlf_cli_check_args(cli, 0, 0, flags);
    if (rc)
        return rc;
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "worker: an option is missing its value");
    if (mlf_cli_config(cli) != MLF_OK)
        return MLF_EXIT_USAGE;
    worker_sd sd = {.watchdog_us = mlf_sd_watchdog_us()};
    mlf_sd_notify("STATUS=starting"); /* also takes NOTIFY_SOCKET out of the task processes' environment */
    if (!connect && !(connect = default_endpoint(cli->cfg)))
        return mlf_cli_fail(MLF_EXIT_USAGE,
                            "worker: --connect ENDPOINT is required (zmq.bind names no single address)");
    long concurrency = conc ? strtol(conc, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    if (concurrency < 1 || concurrency > MLF_PROTO_MAX_CAPACITY)
        return mlf_cli_fail(MLF_EXIT_USAGE, "worker: --concurrency must be 1..%d", MLF_PROTO_MAX_CAPACITY);
    const char *ins = mlf_config_str(cli->cfg, "zmq.insecure");
    insecure = insecure || (ins && strcmp(ins, "true") == 0);
    if (!server_key_file)
        server_key_file = mlf_config_str(cli->cfg, "zmq.curve.server_public_key_file");
    if (!secret_key_file)
        secret_key_file = mlf_config_str(cli->cfg, "zmq.curve.worker_secret_key_file");

    char server_key[MLF_CURVE_KEY_LEN + 1] = "", secret_key[MLF_CURVE_KEY_LEN + 1] = "", err[600];
    /* authenticated by default, loopback included: without key options, the keys the scheduler of this
     * home created on its first start (doc/security.md) */
    mlf_home_keys hk = {0};
    if (!server_key_file && !secret_key_file && !insecure &&
        mlf_home_keys_get(mlf_config_home(cli->cfg), 0, &hk, err, sizeof err) == MLF_OK) {
        if (access(hk.server_public, F_OK) != 0) {
            int e = errno;
            mlf_cli_fail(MLF_EXIT_USAGE,
                         "worker: no CurveZMQ keys: %s: %s (start the scheduler once with this home, MLFLOWD_HOME, "
                         "to create them; or give --server-key FILE.pub and --secret-key FILE; or pass --insecure)",
                         hk.server_public, strerror(e));
            mlf_home_keys_clear(&hk);
            return MLF_EXIT_USAGE;
        }
        server_key_file = hk.server_public;
        secret_key_file = hk.worker_secret;
    }
    if (server_key_file) {
        if (!secret_key_file)
            return mlf_cli_fail(MLF_EXIT_USAGE, "worker: CurveZMQ needs this worker's secret key too (--secret-key "
                                                "FILE or zmq.curve.worker_secret_key_file; see mlflowd keys generate)");
        int krc = mlf_curve_read_key_file(server_key_file, 0, server_key, err, sizeof err);
        if (krc == MLF_OK)
            krc = mlf_curve_read_key_file(secret_key_file, 1, secret_key, err, sizeof err);
        mlf_home_keys_clear(&hk);
        if (krc != MLF_OK)
            return mlf_cli_fail(MLF_EXIT_USAGE, "worker: %s", err);
    } else if (!insecure) {
        return mlf_cli_fail(MLF_EXIT_USAGE,
                            "worker: refusing to connect to %s without CurveZMQ: give the scheduler's public key "
                            "(--server-key FILE.pub) and this worker's secret key (--secret-key FILE), or pass "
                            "--insecure", connect);
    } else {
        mlf_log(MLF_LOG_WARNING, "worker", "connecting to %s WITHOUT CurveZMQ (--insecure): the scheduler is not "
                "authenticated and the tasks travel in clear", connect);
    }
    if (mlf_cli_plugins(cli) < 0)
        return MLF_EXIT_USAGE;

    size_t nqueues = 0;
    char **queues = queues_arg ? split_words(queues_arg, &nqueues) : NULL;
    char *exe = mlf_self_exe();
    char *spool = mlf_strdup_printf("%s/worker", mlf_config_home(cli->cfg));
    if ((queues_arg && !queues) || !exe || !spool) {
        free_words(queues, nqueues);
        free(exe);
        free(spool);
        return mlf_cli_fail(MLF_EXIT_FAILED, "worker: out of memory");
    }
    mlf_worker_opts o = {.endpoint = connect, .name = name, .concurrency = (int)concurrency,
                         .queues = (const char *const *)queues, .nqueues = nqueues, .exe = exe, .cat = cli->cat,
                         .spool_root = spool, .heartbeat_us = mlf_config_duration_us(cli->cfg, "zmq.heartbeat"),
                         .liveness = (int)mlf_config_int(cli->cfg, "zmq.liveness"),
                         .server_public_key = server_key[0] ? server_key : NULL,
                         .secret_key = secret_key[0] ? secret_key : NULL, .on_turn = worker_turn, .ud = &sd};
    sd.endpoint = connect;
    mlf_host_pool_opts pool = {0};
    mlf_host_pool_opts_from_config(cli->cfg, &pool);
    o.max_tries_per_host = pool.max_tries_per_host;
    o.max_rss_bytes = pool.max_rss_bytes;
    mlf_worker *w = NULL;
    rc = mlf_worker_new(&o, &w, err, sizeof err);
    explicit_bzero(secret_key, sizeof secret_key);
    free_words(queues, nqueues);
    free(exe);
    free(spool);
    if (rc != MLF_OK)
        return mlf_cli_fail(rc == MLF_EINVAL ? MLF_EXIT_USAGE : MLF_EXIT_FAILED, "worker: %s",
                            err[0] ? err : mlf_strerror(rc));
    struct sigaction sa = {.sa_handler = on_worker_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    mlf_metrics_server *metrics = worker_metrics_start(cli);
    rc = mlf_worker_run(w, &worker_stop);
    mlf_metrics_stop(metrics);
    mlf_worker_free(w);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "worker stopped: %s", mlf_strerror(rc));
    return MLF_EXIT_OK;
}

int mlf_cmd_keys_generate(mlf_cli *cli)
{
    int force = mlf_cli_take_flag(cli, "--force", "-f");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--force", NULL});
    if (rc)
        return rc;
    const char *path = cli->argv[0];
    char pub[MLF_CURVE_KEY_LEN + 1], err[600];
    /* the folder of the key, when it is missing (HOME/keys on a fresh home, as doc/deploy.md does it);
     * only the last level: a mistyped path further up stays an error */
    const char *slash = strrchr(path, '/');
    char *dir = slash && slash != path ? strndup(path, (size_t)(slash - path)) : NULL;
    if (dir && mkdir(dir, 0700) == 0)
        fprintf(stderr, "mlflowd: created %s (mode 0700)\n", dir);
    free(dir);
    rc = mlf_curve_write_keypair(path, force, pub, err, sizeof err);
    if (rc != MLF_OK)
        return mlf_cli_fail(rc == MLF_EEXIST ? MLF_EXIT_USAGE : MLF_EXIT_FAILED, "keys generate: %s",
                            err[0] ? err : mlf_strerror(rc));
    fprintf(cli->out, "%s\n", pub);
    fprintf(stderr, "mlflowd: wrote the secret key to %s (mode 0600) and the public key to %s.pub\n", path, path);
    return MLF_EXIT_OK;
}
