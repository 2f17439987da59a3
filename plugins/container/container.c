/* container -- the `docker` hook and the `container` operator (Airflow's DockerOperator): a try runs in a
 * Docker or Podman container, driven through the Docker Engine API over a unix socket or TCP with libcurl;
 * answers are read with jansson. See doc/operators/container.md. */
#include <mlflowd/mlflowd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_engine.h"
#include "container_orphans.h"
#include "container_spec.h"
#include "container_try.h"

static const mlf_param_spec container_params[] = {
    {.name = "image", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "the image reference (name[:tag] or name@digest)"},
    {.name = "command", .type = MLF_PARAM_ANY, .flags = MLF_PARAM_TEMPLATED,
     .help = "a string (run with /bin/sh -c inside the container) or a list (the argv as it is); default: the "
             "image's"},
    {.name = "entrypoint", .type = MLF_PARAM_ANY, .flags = MLF_PARAM_TEMPLATED,
     .help = "overrides the image's entrypoint (a string or a list)"},
    {.name = "env", .type = MLF_PARAM_MAP, .flags = MLF_PARAM_TEMPLATED,
     .help = "environment variables; values may come from templates such as {{ conn.ID.password }} (masked in "
             "the log)"},
    {.name = "working_dir", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "working directory inside the container (absolute)"},
    {.name = "user", .type = MLF_PARAM_STR, .flags = MLF_PARAM_TEMPLATED,
     .help = "user (and group) the command runs as: NAME, UID or UID:GID"},
    {.name = "mounts", .type = MLF_PARAM_LIST, .flags = MLF_PARAM_TEMPLATED,
     .help = "bind mounts, \"SOURCE:TARGET[:ro]\" or {source, target, read_only}; sources must lie under "
             "operators.container.allowed_mounts (checked when the DAG loads) and under the connection's "
             "allowed_mounts (checked at each try)"},
    {.name = "network_mode", .type = MLF_PARAM_STR, .help = "bridge, host, none, container:NAME or a network name "
                                                             "(default: the engine's)"},
    {.name = "cpus", .type = MLF_PARAM_FLOAT, .help = "CPU limit (1.5 = one and a half CPUs)"},
    {.name = "memory", .type = MLF_PARAM_ANY, .help = "memory limit: bytes or a size such as 512m or 2g"},
    {.name = "gpus", .type = MLF_PARAM_ANY, .help = "GPUs to request: a count, \"all\" or a list of device ids"},
    {.name = "pull", .type = MLF_PARAM_ENUM, .default_value = "if_not_present", .choices = "never|if_not_present|always",
     .help = "when to pull the image"},
    {.name = "auto_remove", .type = MLF_PARAM_BOOL, .default_value = "true",
     .help = "remove the container when the try ends (false keeps an exited one for inspection)"},
    {.name = "labels", .type = MLF_PARAM_MAP, .flags = MLF_PARAM_TEMPLATED,
     .help = "labels added to the container (the org.mlflowd. prefix is reserved)"},
    {.name = "conn_id", .type = MLF_PARAM_STR,
     .help = "a docker connection naming the engine (default: $DOCKER_HOST, /var/run/docker.sock, then the "
             "Podman socket)"},
    {.name = "skip_on_exit_code", .type = MLF_PARAM_INT, .default_value = "99",
     .help = "exit code that marks the task skipped instead of failed"},
    {.name = "do_xcom_push", .type = MLF_PARAM_BOOL, .default_value = "true",
     .help = "push the last line of stdout as the XCom return_value"},
    {.name = "stop_timeout", .type = MLF_PARAM_DURATION, .default_value = "2s",
     .help = "on timeout, clear or kill: time between the container's SIGTERM and SIGKILL"},
    {0}};

static mlf_outcome container_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    return ctr_try_run(ctx);
}

/* operators.container.* in mlflowd.yaml: what the daemon's owner allows DAG authors. */
static const mlf_param_spec container_settings[] = {
    {.name = "allowed_mounts", .type = MLF_PARAM_LIST, .default_value = "[]",
     .help = "absolute host folders whose contents tasks may bind-mount (none when empty); a literal mount "
             "elsewhere is a DAG load error"},
    {0}};

/* The load-time check: literal mount sources must lie under operators.container.allowed_mounts. */
static int container_validate(const mlf_value *params, const mlf_value *settings, const char **param, char *err,
                              size_t errlen, void *data)
{
    (void)data;
    const mlf_value *mounts = mlf_map_get(params, "mounts");
    if (!mounts || mlf_value_type(mounts) == MLF_NIL || mlf_value_len(mounts) == 0)
        return MLF_OK;
    *param = "mounts";
    return ctr_mounts_check(mounts, mlf_map_get(settings, "allowed_mounts"), "operators.container.allowed_mounts",
                            err, errlen);
}

static const mlf_operator_desc container_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "container",
    .help = "Runs a command in a Docker or Podman container (Airflow's DockerOperator) through the Docker Engine "
            "API. Exit 0 succeeds, exit 99 (skip_on_exit_code) skips, anything else fails; the output goes to the "
            "try's log line by line and the last line of stdout becomes the XCom return_value.",
    .params = container_params,
    .execute = container_execute,
    .param_size = sizeof(mlf_param_spec),
    .settings = container_settings,
    .settings_size = sizeof(mlf_param_spec),
    .validate = container_validate,
};

/* GET /version: the engine answers like a Docker Engine of API 1.40 or later. */
static int docker_test_connection(const mlf_connection *conn, char *errbuf, size_t errlen)
{
    ctr_endpoint ep;
    int rc = ctr_endpoint_from_conn(conn, &ep, errbuf, errlen);
    if (rc == MLF_OK)
        rc = ctr_negotiate(&ep, errbuf, errlen);
    ctr_endpoint_free(&ep);
    return rc;
}

static const mlf_param_spec docker_extras[] = {
    {.name = "tls", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "TCP engines: speak TLS (tcp:// becomes https://; the default port becomes 2376)"},
    {.name = "ca_cert", .type = MLF_PARAM_STR, .help = "CA bundle the engine's certificate is checked against"},
    {.name = "client_cert", .type = MLF_PARAM_STR, .help = "client certificate (PEM) for an engine that wants one"},
    {.name = "client_key", .type = MLF_PARAM_STR, .help = "the client certificate's key (PEM)"},
    {.name = "allowed_mounts", .type = MLF_PARAM_LIST,
     .help = "host folders whose contents tasks may bind-mount; none when unset"},
    {.name = "registry", .type = MLF_PARAM_STR,
     .help = "registry the connection's login/password are for (sent with pulls)"},
    {0}};

static const mlf_hook_desc docker_hook = {
    .struct_size = sizeof(mlf_hook_desc),
    .name = "docker",
    .help = "A Docker or Podman engine. host is the engine: a socket path, unix:///PATH, tcp://HOST:PORT or "
            "https://HOST:PORT (a bare host name means tcp://HOST:PORT); login/password are registry "
            "credentials for pulls; extra holds TLS files and the mount allow-list.",
    .conn_type = "docker",
    .extras = docker_extras,
    .test_connection = docker_test_connection,
};

/* The subcommand of this process's command line ("scheduler", "worker", ...) into @p buf: the first argument
 * that is neither an option nor the value of a global option that takes one. */
static void subcommand(char *buf, size_t buflen)
{
    static const char *const with_value[] = {"--home", "--dags-folder", "--config", "-o", "--output", NULL};
    buf[0] = '\0';
    FILE *f = fopen("/proc/self/cmdline", "r");
    if (!f)
        return;
    char cmd[1024];
    size_t n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    cmd[n] = '\0';
    int skip_next = 0;
    for (size_t i = strlen(cmd) + 1; i < n; i += strlen(cmd + i) + 1) {
        const char *arg = cmd + i;
        if (skip_next) {
            skip_next = 0;
            continue;
        }
        if (arg[0] != '-') {
            snprintf(buf, buflen, "%s", arg);
            return;
        }
        for (const char *const *w = with_value; *w; w++)
            if (strcmp(arg, *w) == 0)
                skip_next = 1;
    }
}

static void stderr_line(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "mlflowd: container: %s\n", line);
}

/* A scheduler or worker that starts cleans up what tries of its previous life left running on the default
 * engine (engines named by connections are swept by each try's first request to them). Bounded: nothing is
 * tried when no default socket exists, and each request gives up after a few seconds. */
static void sweep_at_daemon_start(void)
{
    char sub[64];
    subcommand(sub, sizeof sub);
    if (strcmp(sub, "scheduler") != 0 && strcmp(sub, "standalone") != 0 && strcmp(sub, "worker") != 0)
        return;
    ctr_endpoint ep;
    char err[512];
    if (ctr_endpoint_init(&ep, NULL, 0, err, sizeof err) != MLF_OK)
        return;
    ep.timeout_us = 5 * INT64_C(1000000);
    size_t cleaned = 0;
    if (ctr_negotiate(&ep, err, sizeof err) == MLF_OK &&
        ctr_sweep_orphans(&ep, stderr_line, NULL, &cleaned, err, sizeof err) != MLF_OK)
        fprintf(stderr, "mlflowd: container: looking for orphaned containers on %s failed: %s\n", ep.describe, err);
    ctr_endpoint_free(&ep);
}

static int container_init(mlf_registry *reg)
{
    if (ctr_global_init() != MLF_OK) {
        mlf_registry_error(reg, "libcurl failed to initialise");
        return MLF_EPLUGIN;
    }
    int rc = mlf_register_hook(reg, &docker_hook);
    if (rc == MLF_OK)
        rc = mlf_register_operator(reg, &container_operator);
    if (rc != MLF_OK) {
        ctr_global_cleanup();
        return rc;
    }
    sweep_at_daemon_start();
    return MLF_OK;
}

MLF_PLUGIN("container", MLF_VERSION_STRING, "The container operator and docker hook (Docker Engine API: Docker, "
           "Podman)", container_init, ctr_global_cleanup);
