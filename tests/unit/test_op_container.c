/* Unit tests for the container plugin (plugins/container): the `container` operator loaded from its .la and
 * run through the SDK task context against a fake engine inside the test -- a unix socket whose server
 * answers each request from a table of recorded Docker Engine API answers (Podman 4.3's, captured from
 * `podman system service`) and records what it was asked. The requests the operator builds (the create
 * body, labels, limits, mounts, the version prefix) are checked as JSON; malformed answers (not JSON, wrong
 * types, a container id that is not hex, a broken log stream, an old API) must give clear failures, never
 * a crash. tests/integration/container.sh runs the same operator against the real engine. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "conf/config.h"
#include "dag/dag_parser.h"
#include "plugin/operators.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "plugin/task_ctx.h"
#include "testutil.h"

#define CID "4f1e7c2b9a8d6e5f4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a291807f6e5d4"

/* ------------------------------------------------------------------------------------------ fake engine */

typedef struct route {
    char method[8];
    char path[256];  /* prefix of the path after the /vX.Y version prefix */
    int status;
    char headers[256];
    char *body;
    size_t body_len;
    int hang;        /* stream one frame, then hold the connection until the client goes */
} route;

typedef struct seen {
    char method[8];
    char path[1024]; /* as sent, version prefix included */
    char *body;
} seen;

static char *dir;
static char sock_path[128];
static int listen_fd = -1;
static pthread_t acceptor;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stopping;
static int active;
static route routes[64];
static size_t nroutes;
static seen requests[128];
static size_t nrequests;

/* Adds an answer; the latest route whose method and path prefix match wins. */
static void on_n(const char *method, const char *path, int status, const char *headers, const char *body, size_t len)
{
    ck_assert_uint_lt(nroutes, 64);
    route *r = &routes[nroutes++];
    memset(r, 0, sizeof *r);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->headers, sizeof r->headers, "%s", headers ? headers : "");
    r->status = status;
    r->body = malloc(len + 1);
    memcpy(r->body, body, len);
    r->body[len] = '\0';
    r->body_len = len;
}

static void on(const char *method, const char *path, int status, const char *body)
{
    on_n(method, path, status, "Content-Type: application/json\r\n", body, strlen(body));
}

/* A multiplexed log frame of @p stream holding @p text, appended to @p buf at @p *len. */
static void frame(char *buf, size_t *len, int stream, const char *text)
{
    size_t n = strlen(text);
    unsigned char h[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    memcpy(buf + *len, h, 8);
    memcpy(buf + *len + 8, text, n);
    *len += 8 + n;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t len = 0;
    char *end = NULL;
    while (len < sizeof buf - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    if (end) {
        char method[8] = "", path[1024] = "";
        sscanf(buf, "%7s %1023s", method, path);
        const char *cl = strcasestr(buf, "Content-Length:");
        size_t want = cl && cl < end ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
        size_t have = len - (size_t)(end + 4 - buf);
        while (have < want && len < sizeof buf - 1) {
            ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (n <= 0)
                break;
            len += (size_t)n;
            have += (size_t)n;
        }
        buf[len] = '\0';
        const char *sub = path;
        if (strncmp(sub, "/v", 2) == 0 && strchr(sub + 1, '/'))
            sub = strchr(sub + 1, '/');
        pthread_mutex_lock(&lock);
        if (nrequests < 128) {
            seen *s = &requests[nrequests++];
            snprintf(s->method, sizeof s->method, "%s", method);
            snprintf(s->path, sizeof s->path, "%s", path);
            s->body = strndup(end + 4, have);
        }
        route *r = NULL;
        for (size_t i = nroutes; i-- > 0 && !r;)
            if (strcmp(routes[i].method, method) == 0 && strncmp(sub, routes[i].path, strlen(routes[i].path)) == 0)
                r = &routes[i];
        route copy = r ? *r : (route){.status = 404, .body = "{\"message\":\"no route in the fake engine\"}"};
        if (!r)
            copy.body_len = strlen(copy.body);
        pthread_mutex_unlock(&lock);
        char head[1024];
        if (copy.hang) {
            int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n%sTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
                             copy.headers, copy.body_len);
            send_all(fd, head, (size_t)n);
            send_all(fd, copy.body, copy.body_len);
            send_all(fd, "\r\n", 2);
            for (int i = 0; i < 100 && !stopping; i++) { /* hold until the client hangs up (10 s at most) */
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 100) > 0 && recv(fd, buf, sizeof buf, 0) <= 0)
                    break;
            }
        } else {
            int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                             copy.status, copy.headers, copy.body_len);
            send_all(fd, head, (size_t)n);
            send_all(fd, copy.body, copy.body_len);
        }
    }
    close(fd);
    pthread_mutex_lock(&lock);
    active--;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    while (!stopping) {
        struct pollfd p = {.fd = listen_fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&lock);
        active++;
        pthread_mutex_unlock(&lock);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else {
            close(fd);
            pthread_mutex_lock(&lock);
            active--;
            pthread_mutex_unlock(&lock);
        }
    }
    return NULL;
}

static void engine_start(void)
{
    dir = tu_tmpdir("ctr");
    snprintf(sock_path, sizeof sock_path, "%s/engine.sock", dir);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(listen_fd, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    ck_assert_uint_lt(strlen(sock_path), sizeof sun.sun_path);
    memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
    ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sun, sizeof sun), 0);
    ck_assert_int_eq(listen(listen_fd, 64), 0);
    stopping = 0;
    ck_assert_int_eq(pthread_create(&acceptor, NULL, accept_loop, NULL), 0);
}

static void engine_stop(void)
{
    stopping = 1;
    pthread_join(acceptor, NULL);
    for (int i = 0; i < 200; i++) { /* connection threads end within 100 ms of stopping */
        pthread_mutex_lock(&lock);
        int a = active;
        pthread_mutex_unlock(&lock);
        if (!a)
            break;
        usleep(10000);
    }
    close(listen_fd);
    unlink(sock_path);
    for (size_t i = 0; i < nroutes; i++)
        free(routes[i].body);
    for (size_t i = 0; i < nrequests; i++)
        free(requests[i].body);
    nroutes = nrequests = 0;
}

/* The recorded request whose method is @p method and path (after the version) starts with @p prefix. */
static const seen *find_request(const char *method, const char *prefix)
{
    const seen *found = NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nrequests && !found; i++) {
        const char *sub = requests[i].path;
        if (strncmp(sub, "/v", 2) == 0 && strchr(sub + 1, '/'))
            sub = strchr(sub + 1, '/');
        if (strcmp(requests[i].method, method) == 0 && strncmp(sub, prefix, strlen(prefix)) == 0)
            found = &requests[i];
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* The good engine: every answer as Podman 4.3 gave it; the container prints two stdout lines around a
 * stderr line and exits 0. */
static void good_engine(void)
{
    on_n("GET", "/_ping", 200, "Api-Version: 1.41\r\nContent-Type: text/plain; charset=utf-8\r\n", "OK", 2);
    on("GET", "/containers/json", 200, "[]");
    on("GET", "/images/", 200, "{\"Id\":\"sha256:3f5b41ad5bd7\",\"RepoTags\":[\"localhost/mlf-busybox:test\"]}");
    on("POST", "/containers/create", 201, "{\"Id\":\"" CID "\",\"Warnings\":[]}");
    on_n("POST", "/containers/" CID "/start", 204, "", "", 0);
    char logs[512];
    size_t n = 0;
    frame(logs, &n, 1, "hello\nwor");
    frame(logs, &n, 2, "a warning\n");
    frame(logs, &n, 1, "ld\nresult-42\n");
    on_n("GET", "/containers/" CID "/logs", 200, "Content-Type: application/vnd.docker.raw-stream\r\n", logs, n);
    on("POST", "/containers/" CID "/wait", 200, "{\"StatusCode\":0,\"Error\":null}");
    on("GET", "/containers/" CID "/json", 200,
       "{\"Id\":\"" CID "\",\"State\":{\"Status\":\"exited\",\"Running\":false,\"OOMKilled\":false,\"ExitCode\":0}}");
    on_n("DELETE", "/containers/" CID, 204, "", "", 0);
    on_n("POST", "/containers/" CID "/stop", 204, "", "", 0);
}

/* ------------------------------------------------------------------------------------------ the operator */

static mlf_catalog *cat;
static char logpath[64];
static int logfd = -1;
static mlf_task_ctx *ctx;
static mlf_value *params;
static char allowed_dir[PATH_MAX], outside_dir[PATH_MAX];
static const char *conn_host; /* NULL: the fake engine's socket */

static int conns(void *ud, const char *conn_id, mlf_value **out)
{
    (void)ud;
    if (strcmp(conn_id, "engine") != 0)
        return MLF_ENOTFOUND;
    mlf_value *m = mlf_value_map(), *extra = mlf_value_map(), *allowed = mlf_value_array();
    mlf_array_append(allowed, mlf_value_str(allowed_dir));
    mlf_map_set(extra, "allowed_mounts", allowed);
    mlf_map_set(m, "conn_type", mlf_value_str("docker"));
    mlf_map_set(m, "host", mlf_value_str(conn_host ? conn_host : sock_path));
    mlf_map_set(m, "password", mlf_value_str("engine-pw-123"));
    mlf_map_set(m, "extra", extra);
    *out = m;
    return MLF_OK;
}

static void setup(void)
{
    const char *name = "container";
    cat = tu_load_plugins(&name, 1);
    engine_start();
    snprintf(allowed_dir, sizeof allowed_dir, "%s/share", dir);
    snprintf(outside_dir, sizeof outside_dir, "%s/private", dir);
    mkdir(allowed_dir, 0755);
    mkdir(outside_dir, 0755);
    conn_host = NULL;
    strcpy(logpath, "/tmp/mlf-ctr-log-XXXXXX");
    logfd = mkstemp(logpath);
    ck_assert_int_ge(logfd, 0);
}

static void teardown(void)
{
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    ctx = NULL;
    params = NULL;
    engine_stop();
    mlf_catalog_free(cat);
    close(logfd);
    unlink(logpath);
    tu_rm_rf(dir);
    free(dir);
    dir = NULL;
}

static char *log_text(void)
{
    return tu_read_file(logpath, NULL);
}

static void log_has(const char *want)
{
    char *log = log_text();
    if (!strstr(log, want))
        ck_abort_msg("the log lacks '%s':\n%s", want, log);
    free(log);
}

/* New parameters of a task on the fake engine running @p command (a string). */
static mlf_value *task(const char *command)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "conn_id", mlf_value_str("engine"));
    mlf_map_set(p, "image", mlf_value_str("localhost/mlf-busybox:test"));
    if (command)
        mlf_map_set(p, "command", mlf_value_str(command));
    return p;
}

static void new_ctx(mlf_value *p)
{
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    mlf_task_ctx_init in = {.dag_id = "d", .task_id = "run_it", .run_id = "manual__1", .try_number = 1,
                            .map_index = -1, .log_fd = logfd, .conn_lookup = conns};
    in.params = params = p;
    ctx = mlf_task_ctx_new(&in);
    ck_assert_ptr_nonnull(ctx);
}

static mlf_outcome run(mlf_value *p)
{
    new_ctx(p);
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "container");
    ck_assert_ptr_nonnull(op);
    return op->execute(ctx, op->data);
}

static const char *message(void)
{
    const char *m = mlf_task_ctx_message(ctx);
    return m ? m : "";
}

static void message_has(const char *want)
{
    if (!strstr(message(), want))
        ck_abort_msg("the message '%s' lacks '%s'", message(), want);
}

static json_t *create_body(void)
{
    const seen *s = find_request("POST", "/containers/create");
    ck_assert_ptr_nonnull(s);
    json_error_t e;
    json_t *j = json_loads(s->body, 0, &e);
    if (!j)
        ck_abort_msg("the create body is not JSON: %s", s->body);
    return j;
}

static int has_string(json_t *arr, const char *want)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_string_value(v) && strcmp(json_string_value(v), want) == 0) return 1;
    return 0;
}

/* ---- a try's life */

START_TEST(test_success_builds_request_and_pushes_last_line)
{
    good_engine();
    mlf_value *p = task("echo hello");
    mlf_value *env = mlf_value_map(), *labels = mlf_value_map(), *mounts = mlf_value_array();
    mlf_map_set(env, "A", mlf_value_int(1));
    mlf_map_set(env, "GREETING", mlf_value_str("hi there"));
    mlf_map_set(p, "env", env);
    mlf_map_set(labels, "team", mlf_value_str("ml"));
    mlf_map_set(p, "labels", labels);
    char m[PATH_MAX + 16];
    snprintf(m, sizeof m, "%s:/share:ro", allowed_dir);
    mlf_array_append(mounts, mlf_value_str(m));
    mlf_map_set(p, "mounts", mounts);
    mlf_map_set(p, "network_mode", mlf_value_str("none"));
    mlf_map_set(p, "cpus", mlf_value_float(1.5));
    mlf_map_set(p, "memory", mlf_value_str("512m"));
    mlf_map_set(p, "gpus", mlf_value_str("all"));
    mlf_map_set(p, "working_dir", mlf_value_str("/work"));
    mlf_map_set(p, "user", mlf_value_str("1000:1000"));
    ck_assert_int_eq(run(p), MLF_SUCCESS);

    const mlf_value *x = mlf_map_get(mlf_task_ctx_xcoms(ctx), "return_value");
    ck_assert_str_eq(mlf_value_get_str(x, NULL), "result-42"); /* stdout's last line, not stderr's */
    log_has("INFO - hello\n");
    log_has("INFO - world\n"); /* a line split across two frames */
    log_has("INFO - a warning\n");
    log_has("Container engine at unix://");

    const seen *create = find_request("POST", "/containers/create");
    ck_assert_ptr_nonnull(create);
    ck_assert_msg(strncmp(create->path, "/v1.41/containers/create?name=mlflowd-d.run_it-1-", 49) == 0, "%s",
                  create->path);
    json_t *b = create_body();
    ck_assert_str_eq(json_string_value(json_object_get(b, "Image")), "localhost/mlf-busybox:test");
    json_t *cmd = json_object_get(b, "Cmd");
    ck_assert_int_eq(json_array_size(cmd), 3);
    ck_assert_str_eq(json_string_value(json_array_get(cmd, 0)), "/bin/sh");
    ck_assert_str_eq(json_string_value(json_array_get(cmd, 2)), "echo hello");
    json_t *envs = json_object_get(b, "Env");
    ck_assert(has_string(envs, "A=1"));
    ck_assert(has_string(envs, "GREETING=hi there"));
    ck_assert(has_string(envs, "MLFLOWD_CTX_DAG_ID=d"));
    ck_assert(has_string(envs, "MLFLOWD_CTX_TRY_NUMBER=1"));
    ck_assert_str_eq(json_string_value(json_object_get(b, "WorkingDir")), "/work");
    ck_assert_str_eq(json_string_value(json_object_get(b, "User")), "1000:1000");
    ck_assert(json_is_false(json_object_get(b, "Tty")));
    json_t *lab = json_object_get(b, "Labels");
    ck_assert_str_eq(json_string_value(json_object_get(lab, "team")), "ml");
    ck_assert_str_eq(json_string_value(json_object_get(lab, "org.mlflowd.dag")), "d");
    ck_assert_str_eq(json_string_value(json_object_get(lab, "org.mlflowd.task")), "run_it");
    ck_assert_str_eq(json_string_value(json_object_get(lab, "org.mlflowd.run")), "manual__1");
    ck_assert_str_eq(json_string_value(json_object_get(lab, "org.mlflowd.try")), "1");
    ck_assert_int_eq(strlen(json_string_value(json_object_get(lab, "org.mlflowd.attempt"))), 16);
    char want_owner[64];
    snprintf(want_owner, sizeof want_owner, " %ld ", (long)getpid());
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(lab, "org.mlflowd.owner")), want_owner));
    json_t *host = json_object_get(b, "HostConfig");
    ck_assert_str_eq(json_string_value(json_object_get(host, "NetworkMode")), "none");
    ck_assert_int_eq(json_integer_value(json_object_get(host, "NanoCpus")), 1500000000);
    ck_assert_int_eq(json_integer_value(json_object_get(host, "Memory")), 512 * 1024 * 1024);
    json_t *dev = json_array_get(json_object_get(host, "DeviceRequests"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(dev, "Count")), -1);
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(json_object_get(dev, "Capabilities"), 0), 0)),
                     "gpu");
    json_t *mount = json_array_get(json_object_get(host, "Mounts"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(mount, "Type")), "bind");
    ck_assert_str_eq(json_string_value(json_object_get(mount, "Source")), allowed_dir);
    ck_assert_str_eq(json_string_value(json_object_get(mount, "Target")), "/share");
    ck_assert(json_is_true(json_object_get(mount, "ReadOnly")));
    json_decref(b);
    ck_assert_ptr_nonnull(find_request("POST", "/containers/" CID "/start"));
    ck_assert_ptr_nonnull(find_request("DELETE", "/containers/" CID));  /* auto_remove */
    ck_assert_ptr_null(find_request("POST", "/images/create"));         /* present: not pulled */
    ck_assert_ptr_nonnull(find_request("GET", "/containers/json?all=1&filters=")); /* the orphan sweep */
}
END_TEST

START_TEST(test_list_command_and_entrypoint_kept_as_argv)
{
    good_engine();
    mlf_value *p = task(NULL), *cmd = mlf_value_array(), *ep = mlf_value_array();
    mlf_array_append(cmd, mlf_value_str("--n"));
    mlf_array_append(cmd, mlf_value_int(3));
    mlf_map_set(p, "command", cmd);
    mlf_array_append(ep, mlf_value_str("/bin/tool"));
    mlf_map_set(p, "entrypoint", ep);
    mlf_map_set(p, "auto_remove", mlf_value_bool(0));
    ck_assert_int_eq(run(p), MLF_SUCCESS);
    json_t *b = create_body();
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(b, "Cmd"), 1)), "3");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(b, "Entrypoint"), 0)), "/bin/tool");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "Labels"), "org.mlflowd.auto_remove")),
                     "false");
    json_decref(b);
    ck_assert_ptr_null(find_request("DELETE", "/containers/" CID)); /* kept */
    log_has("Keeping container 4f1e7c2b9a8d (auto_remove is false)");
}
END_TEST

START_TEST(test_exit_code_fails_with_masked_last_lines)
{
    good_engine();
    char logs[256];
    size_t n = 0;
    frame(logs, &n, 1, "using token s3cr3t-t0ken\n");
    frame(logs, &n, 2, "boom\n");
    on_n("GET", "/containers/" CID "/logs", 200, "", logs, n);
    on("POST", "/containers/" CID "/wait", 200, "{\"StatusCode\":3,\"Error\":null}");
    mlf_value *p = task("exit 3"), *env = mlf_value_map();
    mlf_map_set(env, "API_TOKEN", mlf_value_str("s3cr3t-t0ken"));
    mlf_map_set(p, "env", env);
    ck_assert_int_eq(run(p), MLF_FAILED);
    ck_assert_str_eq(message(), "container exited with code 3; last lines: using token *** | boom");
    ck_assert_ptr_nonnull(find_request("DELETE", "/containers/" CID));
}
END_TEST

START_TEST(test_exit_99_skips)
{
    good_engine();
    on("POST", "/containers/" CID "/wait", 200, "{\"StatusCode\":99}");
    ck_assert_int_eq(run(task("exit 99")), MLF_SKIPPED);
    message_has("exited with code 99: skipping");
    ck_assert_ptr_null(mlf_map_get(mlf_task_ctx_xcoms(ctx), "return_value"));
}
END_TEST

START_TEST(test_oom_kill_is_named)
{
    good_engine();
    on("POST", "/containers/" CID "/wait", 200, "{\"StatusCode\":137}");
    on("GET", "/containers/" CID "/json", 200,
       "{\"State\":{\"Status\":\"exited\",\"Running\":false,\"OOMKilled\":true,\"ExitCode\":137}}");
    mlf_value *p = task("eat memory");
    mlf_map_set(p, "memory", mlf_value_int(64 << 20));
    ck_assert_int_eq(run(p), MLF_FAILED);
    message_has("the container ran out of memory and was killed (memory limit 64 MiB), exit code 137");
}
END_TEST

/* ---- images */

START_TEST(test_missing_image_with_pull_never)
{
    good_engine();
    on("GET", "/images/", 404, "{\"cause\":\"failed to find image nosuch:1\",\"message\":\"failed to find image\"}");
    mlf_value *p = task("true");
    mlf_map_set(p, "pull", mlf_value_str("never"));
    ck_assert_int_eq(run(p), MLF_FAILED_NO_RETRY);
    message_has("is not on the engine at unix://");
    message_has("pull is never");
    ck_assert_ptr_null(find_request("POST", "/images/create"));
    ck_assert_ptr_null(find_request("POST", "/containers/create"));
}
END_TEST

START_TEST(test_pull_error_in_progress_stream)
{
    good_engine();
    on("GET", "/images/", 404, "{\"message\":\"no such image\"}");
    on("POST", "/images/create", 200,
       "{\"status\":\"Trying to pull nosuch.invalid/x:latest...\"}\n"
       "{\"progressDetail\":{},\"errorDetail\":{\"message\":\"dial tcp: no such host\"},\"error\":\"pinging "
       "registry: no such host\"}\n");
    mlf_value *p = task("true");
    mlf_map_set(p, "image", mlf_value_str("nosuch.invalid/x"));
    ck_assert_int_eq(run(p), MLF_FAILED);
    message_has("image nosuch.invalid/x could not be pulled: pinging registry: no such host");
    const seen *pull = find_request("POST", "/images/create");
    ck_assert_ptr_nonnull(pull);
    ck_assert_ptr_nonnull(strstr(pull->path, "fromImage=nosuch.invalid%2Fx&tag=latest"));
    log_has("pull: Trying to pull nosuch.invalid/x:latest...");
}
END_TEST

START_TEST(test_pull_always_then_runs)
{
    good_engine();
    on("POST", "/images/create", 200, "{\"status\":\"Pulling fs layer\",\"id\":\"abc\"}\n{\"status\":\"Download "
                                      "complete\",\"progress\":\"[===>]\"}\n");
    mlf_value *p = task("true");
    mlf_map_set(p, "image", mlf_value_str("registry.local:5000/team/img:2.1"));
    mlf_map_set(p, "pull", mlf_value_str("always"));
    ck_assert_int_eq(run(p), MLF_SUCCESS);
    const seen *pull = find_request("POST", "/images/create");
    ck_assert_ptr_nonnull(pull);
    ck_assert_ptr_nonnull(strstr(pull->path, "fromImage=registry.local%3A5000%2Fteam%2Fimg%3A2.1"));
    ck_assert_ptr_null(strstr(pull->path, "tag=latest"));
    log_has("pull: abc: Pulling fs layer");
}
END_TEST

/* ---- engines that cannot be used */

START_TEST(test_old_api_refused)
{
    on_n("GET", "/_ping", 200, "Api-Version: 1.39\r\n", "OK", 2);
    ck_assert_int_eq(run(task("true")), MLF_FAILED_NO_RETRY);
    message_has("speaks API 1.39, older than the 1.40 this operator needs");
    ck_assert_ptr_null(find_request("POST", "/containers/create"));
}
END_TEST

START_TEST(test_version_fallback_and_malformed_version)
{
    good_engine();
    on_n("GET", "/_ping", 200, "", "OK", 2); /* no Api-Version header: ask /version */
    on("GET", "/version", 200, "{\"Version\":\"20.10.5\",\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}");
    ck_assert_int_eq(run(task("true")), MLF_SUCCESS);
    ck_assert_ptr_nonnull(find_request("GET", "/version"));

    on("GET", "/version", 200, "{not json");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("does not answer like a Docker Engine API: the version answer is not JSON");
    on("GET", "/version", 200, "{\"ApiVersion\": 1.41}");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("has no ApiVersion string");
    on("GET", "/version", 200, "{\"ApiVersion\": \"one.two\"}");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("'one.two' is not MAJOR.MINOR");
}
END_TEST

START_TEST(test_missing_socket)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/nosuch.sock", dir);
    conn_host = path;
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("nosuch.sock does not exist: is Docker (or `podman system service`) running?");
}
END_TEST

START_TEST(test_bad_engine_address)
{
    conn_host = "ftp://example.invalid";
    ck_assert_int_eq(run(task("true")), MLF_FAILED_NO_RETRY);
    message_has("is neither unix:///PATH");
}
END_TEST

START_TEST(test_default_engine_from_docker_host)
{
    good_engine();
    char where[PATH_MAX + 16];
    snprintf(where, sizeof where, "unix://%s", sock_path);
    setenv("DOCKER_HOST", where, 1);
    mlf_value *p = task("true");
    mlf_map_remove(p, "conn_id"); /* no connection: $DOCKER_HOST, then the default sockets */
    mlf_outcome o = run(p);
    unsetenv("DOCKER_HOST");
    ck_assert_int_eq(o, MLF_SUCCESS);
    log_has("Container engine at unix://");
}
END_TEST

START_TEST(test_tcp_engine_unreachable)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* a loopback port nothing listens on: bound, then closed */
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    close(fd);
    char where[64];
    snprintf(where, sizeof where, "tcp://127.0.0.1:%d", ntohs(sin.sin_port));
    conn_host = where;
    ck_assert_int_eq(run(task("true")), MLF_FAILED); /* an engine that is down may be up for the retry */
    message_has("cannot reach the engine at http://127.0.0.1:");
}
END_TEST

/* ---- malformed answers */

START_TEST(test_malformed_create_answers)
{
    good_engine();
    on("POST", "/containers/create", 201, "{\"Id\":\"../../../etc\",\"Warnings\":[]}");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("no container Id of 12 to 64 hex digits");
    ck_assert_ptr_null(find_request("POST", "/containers/../")); /* never used in a URL */

    on("POST", "/containers/create", 201, "[1,2]");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("the create answer is not a JSON object");
    on("POST", "/containers/create", 201, "{\"Id\":\"" CID "\",\"Warnings\":[{\"x\":1}]}");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("Warnings holds a map");
    on("POST", "/containers/create", 201, "{\"Id\":\"" CID "\",\"Warnings\":[\"memory limit ignored\"]}");
    ck_assert_int_eq(run(task("true")), MLF_SUCCESS);
    log_has("The engine warns: memory limit ignored");
    on("POST", "/containers/create", 400, "{\"message\":\"invalid reference format\"}");
    ck_assert_int_eq(run(task("true")), MLF_FAILED_NO_RETRY);
    message_has("creating the container: HTTP 400: invalid reference format");
    on("POST", "/containers/create", 500, "<html>oops</html>");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("creating the container: HTTP 500: <html>oops</html>");
}
END_TEST

START_TEST(test_malformed_wait_and_inspect)
{
    good_engine();
    on("POST", "/containers/" CID "/wait", 200, "{\"StatusCode\":\"zero\"}");
    ck_assert_int_eq(run(task("true")), MLF_FAILED);
    message_has("waiting for the container: the wait answer has no integer StatusCode");
    ck_assert_ptr_nonnull(find_request("DELETE", "/containers/" CID)); /* still removed */

    on("POST", "/containers/" CID "/wait", 200, "{\"StatusCode\":0}");
    on("GET", "/containers/" CID "/json", 200, "{\"State\":\"exited\"}");
    ck_assert_int_eq(run(task("true")), MLF_SUCCESS); /* the exit code decides; the bad inspect is logged */
    log_has("inspecting the container: the inspect answer has no State");
}
END_TEST

START_TEST(test_malformed_log_stream)
{
    good_engine();
    on_n("GET", "/containers/" CID "/logs", 200, "", "plain text, not frames\n", 23);
    ck_assert_int_eq(run(task("true")), MLF_SUCCESS);
    log_has("The engine sent a malformed log stream");
    /* a frame cut short */
    char logs[64];
    size_t n = 0;
    frame(logs, &n, 1, "complete\n");
    memcpy(logs + n, "\001\0\0\0\0\0\0\100part", 12);
    on_n("GET", "/containers/" CID "/logs", 200, "", logs, n + 12);
    ck_assert_int_eq(run(task("true")), MLF_SUCCESS);
    log_has("INFO - complete\n");
    log_has("INFO - part\n");
}
END_TEST

START_TEST(test_start_failure_removes_container)
{
    good_engine();
    on("POST", "/containers/" CID "/start", 500,
       "{\"message\":\"runc: exec: \\\"nosuch\\\": executable file not found in $PATH\"}");
    ck_assert_int_eq(run(task("true")), MLF_FAILED_NO_RETRY);
    message_has("starting the container: HTTP 500: runc: exec: \"nosuch\": executable file not found");
    ck_assert_ptr_nonnull(find_request("DELETE", "/containers/" CID));
}
END_TEST

/* ---- parameters refused before the engine is asked anything */

static void refused(mlf_value *p, const char *why)
{
    good_engine();
    ck_assert_int_eq(run(p), MLF_FAILED_NO_RETRY);
    message_has(why);
    ck_assert_ptr_null(find_request("POST", "/containers/create"));
}

START_TEST(test_mount_outside_allow_list)
{
    mlf_value *p = task("true"), *mounts = mlf_value_array();
    char m[PATH_MAX + 16];
    snprintf(m, sizeof m, "%s:/private", outside_dir);
    mlf_array_append(mounts, mlf_value_str(m));
    mlf_map_set(p, "mounts", mounts);
    refused(p, "is not under an allowed folder (the connection's allowed_mounts: ");
    ck_assert_uint_eq(nrequests, 0);
}
END_TEST

START_TEST(test_mount_escapes_refused)
{
    char m[PATH_MAX + 32];
    mlf_value *p = task("true"), *mounts = mlf_value_array();
    snprintf(m, sizeof m, "%s/../private:/x", allowed_dir);
    mlf_array_append(mounts, mlf_value_str(m));
    mlf_map_set(p, "mounts", mounts);
    refused(p, "a path holds '..'");

    char link[PATH_MAX + 8];
    snprintf(link, sizeof link, "%s/escape", allowed_dir);
    ck_assert_int_eq(symlink(outside_dir, link), 0);
    p = task("true");
    mounts = mlf_value_array();
    mlf_value *one = mlf_value_map();
    mlf_map_set(one, "source", mlf_value_str(link));
    mlf_map_set(one, "target", mlf_value_str("/x"));
    mlf_array_append(mounts, one);
    mlf_map_set(p, "mounts", mounts);
    refused(p, "is not under an allowed folder"); /* the symbolic link is resolved first */

    p = task("true");
    mounts = mlf_value_array();
    snprintf(m, sizeof m, "%s:/x:rx", allowed_dir);
    mlf_array_append(mounts, mlf_value_str(m));
    mlf_map_set(p, "mounts", mounts);
    refused(p, "mode 'rx' is neither ro nor rw");
}
END_TEST

START_TEST(test_bad_parameters_refused)
{
    mlf_value *p = task("true");
    mlf_map_set(p, "memory", mlf_value_str("lots"));
    refused(p, "memory must be a byte count or a size such as 512m or 2g");
    p = task("true");
    mlf_value *labels = mlf_value_map();
    mlf_map_set(labels, "org.mlflowd.dag", mlf_value_str("spoof"));
    mlf_map_set(p, "labels", labels);
    refused(p, "outside the reserved prefix org.mlflowd.");
    p = task("true");
    mlf_value *env = mlf_value_map();
    mlf_map_set(env, "LIST", mlf_value_array());
    mlf_map_set(p, "env", env);
    refused(p, "env: LIST must be a scalar, not a array");
    p = task("true");
    mlf_map_set(p, "cpus", mlf_value_float(-1));
    refused(p, "cpus must be a number of CPUs above 0");
    p = task("true");
    mlf_map_set(p, "image", mlf_value_str("bad image"));
    refused(p, "image must be a non-empty image reference without spaces");
    p = task("true");
    mlf_map_set(p, "working_dir", mlf_value_str("relative"));
    refused(p, "working_dir must be an absolute path");
}
END_TEST

/* ---- cancellation and orphans */

static void *cancel_later(void *arg)
{
    usleep(300 * 1000);
    mlf_task_ctx_cancel(arg);
    return NULL;
}

START_TEST(test_cancel_stops_and_removes)
{
    good_engine();
    char logs[64];
    size_t n = 0;
    frame(logs, &n, 1, "working\n");
    on_n("GET", "/containers/" CID "/logs", 200, "", logs, n);
    routes[nroutes - 1].hang = 1;
    mlf_value *p = task("sleep 600");
    mlf_map_set(p, "stop_timeout", mlf_value_int(3 * 1000000));
    new_ctx(p);
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "container");
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, ctx), 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    mlf_outcome o = op->execute(ctx, op->data);
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(t, NULL);
    ck_assert_int_eq(o, MLF_FAILED);
    message_has("the container was stopped: the try was cancelled");
    const seen *stop = find_request("POST", "/containers/" CID "/stop");
    ck_assert_ptr_nonnull(stop);
    ck_assert_ptr_nonnull(strstr(stop->path, "?t=3"));
    ck_assert_ptr_nonnull(find_request("DELETE", "/containers/" CID "?force=1"));
    log_has("INFO - working\n");
    log_has("Stopping container 4f1e7c2b9a8d");
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    /* libcurl's progress callback sees the cancel within about a second */
    ck_assert_msg(secs * 1000 < (double)tu_bound_ms(3000), "the cancelled try took %.1f s to end", secs);
}
END_TEST

/* This process's owner fields as the plugin writes them, with @p pid. */
static void owner_label(char *buf, size_t len, const char *host, long pid)
{
    char boot[64] = "", ns[64] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(boot, sizeof boot, f));
    fclose(f);
    boot[strcspn(boot, "\n")] = '\0';
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    ck_assert_int_gt(n, 0);
    ns[n] = '\0';
    snprintf(buf, len, "%s %s %s %ld 1", host, boot, ns, pid);
}

START_TEST(test_orphans_swept_others_kept)
{
    good_engine();
    char me[256] = "";
    gethostname(me, sizeof me - 1);
    char dead_owner[512], foreign_owner[512], alive_owner[512], list[4096];
    owner_label(dead_owner, sizeof dead_owner, me, 999999999L); /* above pid_max: no such process */
    owner_label(foreign_owner, sizeof foreign_owner, "other-host.invalid", 999999999L);
    owner_label(alive_owner, sizeof alive_owner, me, 1L); /* PID 1 with another start time: recycled */
    char self_owner[512];
    {
        /* this very process, with its real start time: alive */
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%ld/stat", (long)getpid());
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *q = strrchr(buf, ')') + 1;
        for (int field = 3; field < 22; field++) {
            while (*q == ' ')
                q++;
            while (*q && *q != ' ')
                q++;
        }
        unsigned long long start = strtoull(q, NULL, 10);
        owner_label(self_owner, sizeof self_owner, me, (long)getpid());
        char *one = strrchr(self_owner, ' ');
        snprintf(one + 1, sizeof self_owner - (size_t)(one + 1 - self_owner), "%llu", start);
    }
    snprintf(list, sizeof list,
             "[{\"Id\":\"aaaaaaaaaaaa1111\",\"State\":\"running\",\"Labels\":{\"org.mlflowd.owner\":\"%s\","
             "\"org.mlflowd.dag\":\"old\",\"org.mlflowd.task\":\"t\",\"org.mlflowd.try\":\"2\"}},"
             "{\"Id\":\"bbbbbbbbbbbb2222\",\"State\":\"running\",\"Labels\":{\"org.mlflowd.owner\":\"%s\"}},"
             "{\"Id\":\"cccccccccccc3333\",\"State\":\"running\",\"Labels\":{\"org.mlflowd.owner\":\"%s\"}},"
             "{\"Id\":\"dddddddddddd4444\",\"State\":\"exited\",\"Labels\":{\"org.mlflowd.owner\":\"%s\","
             "\"org.mlflowd.auto_remove\":\"false\"}},"
             "{\"Id\":\"eeeeeeeeeeee5555\",\"State\":\"running\",\"Labels\":{\"org.mlflowd.owner\":\"%s\"}},"
             "{\"Id\":\"zzz\",\"Labels\":{\"org.mlflowd.owner\":\"%s\"}}, 7, {\"Id\":\"ffffffffffff6666\","
             "\"Labels\":{\"org.mlflowd.owner\":\"not an owner\"}}]",
             dead_owner, foreign_owner, alive_owner, dead_owner, self_owner, dead_owner);
    on("GET", "/containers/json", 200, list);
    on_n("DELETE", "/containers/aaaaaaaaaaaa1111", 204, "", "", 0);
    on_n("DELETE", "/containers/cccccccccccc3333", 204, "", "", 0);
    ck_assert_int_eq(run(task("true")), MLF_SUCCESS);
    ck_assert_ptr_nonnull(find_request("POST", "/containers/aaaaaaaaaaaa1111/kill")); /* no stop grace */
    ck_assert_ptr_nonnull(find_request("DELETE", "/containers/aaaaaaaaaaaa1111?force=1")); /* owner gone */
    ck_assert_ptr_nonnull(find_request("DELETE", "/containers/cccccccccccc3333"));         /* PID recycled */
    ck_assert_ptr_null(find_request("DELETE", "/containers/bbbbbbbbbbbb2222")); /* another host's */
    ck_assert_ptr_null(find_request("DELETE", "/containers/dddddddddddd4444")); /* kept, already stopped */
    ck_assert_ptr_null(find_request("POST", "/containers/dddddddddddd4444/kill"));
    ck_assert_ptr_null(find_request("DELETE", "/containers/eeeeeeeeeeee5555")); /* owner alive */
    ck_assert_ptr_null(find_request("DELETE", "/containers/ffffffffffff6666")); /* no owner */
    ck_assert_ptr_null(find_request("DELETE", "/containers/zzz"));
    log_has("Removed orphaned container aaaaaaaaaaaa of old.t try 2 (run ?): the process that ran its try is gone");

    on("GET", "/containers/json", 200, "{\"not\":\"a list\"}");
    ck_assert_int_eq(run(task("true")), MLF_SUCCESS); /* a sweep that fails does not fail the try */
    log_has("Looking for orphaned containers failed: listing containers: the container listing is not a JSON list");
}
END_TEST

START_TEST(test_hook_tests_connection)
{
    good_engine();
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_HOOK, "docker");
    ck_assert_ptr_nonnull(e);
    const mlf_hook_desc *h = e->desc;
    mlf_value *extra = mlf_value_map();
    mlf_connection c = {.struct_size = sizeof c, .conn_id = "engine", .conn_type = "docker", .host = sock_path,
                        .extra = extra};
    char err[512] = "";
    ck_assert_int_eq(h->test_connection(&c, err, sizeof err), MLF_OK);
    on_n("GET", "/_ping", 200, "Api-Version: 1.24\r\n", "OK", 2);
    ck_assert_int_ne(h->test_connection(&c, err, sizeof err), MLF_OK);
    ck_assert_ptr_nonnull(strstr(err, "speaks API 1.24"));
    mlf_value_free(extra);
}
END_TEST

/* ------------------------------------------------- operators.container.* settings and the load-time check */

/* Loads a configuration whose file holds @p yaml and applies its operators.* settings to the catalog.
 * Returns the problems reported (a new string, "" when none). */
static char *configure(const char *yaml)
{
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/mlflowd.yaml", dir);
    tu_write_file(file, yaml, 0644);
    const char *const envp[] = {NULL};
    mlf_config *cfg = NULL;
    char *errors = NULL;
    mlf_config_args args = {.config_file = file, .home = dir, .envp = envp};
    ck_assert_int_eq(mlf_config_load(&args, &cfg, &errors), MLF_OK);
    free(errors);
    mlf_buf b = {0};
    size_t problems = mlf_operators_configure(cat, cfg, &b);
    char *out = strndup(b.data ? b.data : "", b.len);
    ck_assert_int_eq(problems != 0, *out != '\0');
    mlf_buf_free(&b);
    mlf_config_free(cfg);
    return out;
}

START_TEST(test_settings_unknown_key_and_bad_type)
{
    char *err = configure("operators:\n  container:\n    allowed_mount: [/srv]\n");
    ck_assert_msg(strstr(err, "mlflowd.yaml:3:20: operators.container.allowed_mount: operator 'container' has no "
                              "setting 'allowed_mount' (did you mean 'allowed_mounts'?)"), "got: %s", err);
    free(err);
    err = configure("operators:\n  container:\n    allowed_mounts: {a: 1}\n");
    ck_assert_msg(strstr(err, "mlflowd.yaml:3:21: operators.container.allowed_mounts: "), "got: %s", err);
    free(err);
    err = configure("operators:\n  containr:\n    allowed_mounts: [/srv]\n");
    ck_assert_msg(strstr(err, "no operator named 'containr' is loaded (did you mean 'container'?)"), "got: %s", err);
    free(err);
    err = configure("operators:\n  container:\n    allowed_mounts: [/srv, /data]\n");
    ck_assert_str_eq(err, "");
    free(err);
    const mlf_value *set = mlf_operator_settings(cat, "container");
    ck_assert_ptr_nonnull(set);
    ck_assert_uint_eq(mlf_value_len(mlf_map_get(set, "allowed_mounts")), 2);
}
END_TEST

/* Parses a one-task DAG whose task has @p mounts_yaml; returns the first diagnostic ("" when it loads). */
static char *parse_with_mounts(const char *mounts_yaml)
{
    char buf[2 * PATH_MAX + 256];
    snprintf(buf, sizeof buf,
             "dag_id: d\n"
             "tasks:\n"
             "  run:\n"
             "    operator: container\n"
             "    image: alpine\n"
             "    mounts: %s\n",
             mounts_yaml);
    mlf_dag_parser *p = mlf_dag_parser_new(cat);
    mlf_dag *dag = NULL;
    mlf_diag diag = {0};
    int rc = mlf_dag_parse_buffer(p, buf, strlen(buf), "d.yaml", &dag, &diag);
    char *out = diag.n ? mlf_diag_format(&diag, 0) : strdup("");
    ck_assert_int_eq(rc == MLF_OK, diag.n == 0);
    mlf_dag_free(dag);
    mlf_diag_clear(&diag);
    mlf_dag_parser_free(p);
    return out;
}

START_TEST(test_validate_mounts_at_load)
{
    char yaml[PATH_MAX + 128], m[2 * PATH_MAX + 32];
    snprintf(yaml, sizeof yaml, "operators:\n  container:\n    allowed_mounts: [%s]\n", allowed_dir);
    char *err = configure(yaml);
    ck_assert_str_eq(err, "");
    free(err);

    snprintf(m, sizeof m, "[\"%s:/data:ro\"]", allowed_dir); /* inside: loads */
    err = parse_with_mounts(m);
    ck_assert_str_eq(err, "");
    free(err);

    snprintf(m, sizeof m, "[\"%s:/private\"]", outside_dir); /* outside: a load error at the value */
    err = parse_with_mounts(m);
    ck_assert_msg(strstr(err, "d.yaml:6:13: task 'run': mounts: mount source ") &&
                      strstr(err, "is not under an allowed folder (operators.container.allowed_mounts: ") &&
                      strstr(err, allowed_dir),
                  "got: %s", err);
    free(err);

    char link[PATH_MAX + 16]; /* a symbolic link inside that leads outside: refused, as at try time */
    snprintf(link, sizeof link, "%s/escape", allowed_dir);
    ck_assert_int_eq(symlink(outside_dir, link), 0);
    snprintf(m, sizeof m, "[\"%s:/x\"]", link);
    err = parse_with_mounts(m);
    ck_assert_msg(strstr(err, "is not under an allowed folder"), "got: %s", err);
    free(err);

    err = parse_with_mounts("[\"{{ params.src }}:/x\"]"); /* templated: left to the try */
    ck_assert_str_eq(err, "");
    free(err);
}
END_TEST

START_TEST(test_validate_without_settings_allows_no_mounts)
{
    char m[PATH_MAX + 32];
    snprintf(m, sizeof m, "[\"%s:/data\"]", allowed_dir);
    char *err = parse_with_mounts(m); /* mlf_operators_configure() never ran: the defaults (none) apply */
    ck_assert_msg(strstr(err, "operators.container.allowed_mounts lists no host folders"), "got: %s", err);
    free(err);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("op_container");
    TCase *tc = tcase_create("container");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_success_builds_request_and_pushes_last_line);
    tcase_add_test(tc, test_settings_unknown_key_and_bad_type);
    tcase_add_test(tc, test_validate_mounts_at_load);
    tcase_add_test(tc, test_validate_without_settings_allows_no_mounts);
    tcase_add_test(tc, test_list_command_and_entrypoint_kept_as_argv);
    tcase_add_test(tc, test_exit_code_fails_with_masked_last_lines);
    tcase_add_test(tc, test_exit_99_skips);
    tcase_add_test(tc, test_oom_kill_is_named);
    tcase_add_test(tc, test_missing_image_with_pull_never);
    tcase_add_test(tc, test_pull_error_in_progress_stream);
    tcase_add_test(tc, test_pull_always_then_runs);
    tcase_add_test(tc, test_old_api_refused);
    tcase_add_test(tc, test_version_fallback_and_malformed_version);
    tcase_add_test(tc, test_missing_socket);
    tcase_add_test(tc, test_bad_engine_address);
    tcase_add_test(tc, test_default_engine_from_docker_host);
    tcase_add_test(tc, test_tcp_engine_unreachable);
    tcase_add_test(tc, test_malformed_create_answers);
    tcase_add_test(tc, test_malformed_wait_and_inspect);
    tcase_add_test(tc, test_malformed_log_stream);
    tcase_add_test(tc, test_start_failure_removes_container);
    tcase_add_test(tc, test_mount_outside_allow_list);
    tcase_add_test(tc, test_mount_escapes_refused);
    tcase_add_test(tc, test_bad_parameters_refused);
    tcase_add_test(tc, test_cancel_stops_and_removes);
    tcase_add_test(tc, test_orphans_swept_others_kept);
    tcase_add_test(tc, test_hook_tests_connection);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
