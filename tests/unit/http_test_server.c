/* http_test_server.c -- see http_test_server.h. */
#include "http_test_server.h"

#include <arpa/inet.h>
#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/diag.h"
#include "plugin/plugin_loader.h"
#include "testutil.h"

struct test_server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t lock;
    size_t count;
    ts_request last;
    volatile int stopping;
};

typedef struct pending {
    char body[8192];
    size_t len;
} pending;

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    char *dst = cls;
    size_t used = strlen(dst);
    snprintf(dst + used, sizeof((ts_request *)0)->headers - used, "%s: %s\n", key, value ? value : "");
    return MHD_YES;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    char *dst = cls;
    size_t used = strlen(dst);
    snprintf(dst + used, sizeof((ts_request *)0)->query - used, "%s%s=%s", used ? "&" : "", key, value ? value : "");
    return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                             size_t len, const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    if (location)
        MHD_add_response_header(r, "Location", location);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route(test_server *s, struct MHD_Connection *c, const char *url)
{
    static char big[5000], fail[17 + 300];
    if (!big[0]) {
        memset(big, 'b', sizeof big);
        memcpy(fail, "database on fire\n", 17);
        memset(fail + 17, 'x', 300);
    }
    if (strcmp(url, "/json") == 0) {
        const char *j = "{\"ok\":true,\"n\":3,\"items\":[\"a\",\"b\"],\"pi\":1.5,\"none\":null}";
        return reply(c, 200, "application/json; charset=utf-8", j, strlen(j), NULL);
    }
    if (strcmp(url, "/text") == 0)
        return reply(c, 200, "text/plain", "plain words", 11, NULL);
    if (strcmp(url, "/badjson") == 0)
        return reply(c, 200, "application/json", "{not json", 9, NULL);
    if (strcmp(url, "/ready") == 0)
        return reply(c, 200, "text/plain", "status: ready", 13, NULL);
    if (strcmp(url, "/big") == 0)
        return reply(c, 200, "text/plain", big, sizeof big, NULL);
    if (strcmp(url, "/redirect") == 0)
        return reply(c, 302, "text/plain", "moved", 5, "/json");
    if (strcmp(url, "/away") == 0) { /* the same server under another host name: another origin */
        char loc[64];
        snprintf(loc, sizeof loc, "http://localhost:%d/json", s->port);
        return reply(c, 302, "text/plain", "moved", 5, loc);
    }
    if (strcmp(url, "/fail") == 0)
        return reply(c, 500, "text/plain", fail, sizeof fail, NULL);
    if (strcmp(url, "/hook500") == 0)
        return reply(c, 500, "text/plain", "webhook broke", 13, NULL);
    if (strcmp(url, "/secret") == 0)
        return reply(c, 401, "text/plain", "who are you", 11, NULL);
    if (strcmp(url, "/forbidden") == 0)
        return reply(c, 403, "text/plain", "not you", 7, NULL);
    if (strcmp(url, "/slow") == 0) {
        for (int i = 0; i < 300 && !s->stopping; i++)
            usleep(10000);
        return reply(c, 200, "text/plain", "finally", 7, NULL);
    }
    if (strcmp(url, "/") == 0 || strcmp(url, "/hook") == 0)
        return reply(c, 200, "text/plain", "ok", 2, NULL);
    return reply(c, 404, "text/plain", "no such thing", 13, NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    test_server *s = cls;
    pending *p = *state;
    if (!p) {
        *state = p = calloc(1, sizeof *p);
        return p ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        size_t take = *upload_size;
        if (take > sizeof p->body - 1 - p->len)
            take = sizeof p->body - 1 - p->len;
        memcpy(p->body + p->len, upload, take);
        p->len += take;
        *upload_size = 0;
        return MHD_YES;
    }
    ts_request r = {0};
    snprintf(r.method, sizeof r.method, "%s", method);
    snprintf(r.path, sizeof r.path, "%s", url);
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, r.headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, r.query);
    memcpy(r.body, p->body, p->len);
    r.body_len = p->len;
    pthread_mutex_lock(&s->lock);
    s->last = r;
    s->count++;
    pthread_mutex_unlock(&s->lock);
    free(p);
    *state = NULL;
    return route(s, c, url);
}

test_server *ts_start(void)
{
    test_server *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    pthread_mutex_init(&s->lock, NULL);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_END);
    ck_assert_msg(s->d != NULL, "libmicrohttpd did not start");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    ck_assert_ptr_nonnull(info);
    s->port = info->port;
    ck_assert_int_gt(s->port, 0);
    return s;
}

int ts_port(const test_server *s)
{
    return s->port;
}

size_t ts_count(test_server *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

ts_request ts_last(test_server *s)
{
    pthread_mutex_lock(&s->lock);
    ts_request r = s->last;
    size_t n = s->count;
    pthread_mutex_unlock(&s->lock);
    ck_assert_msg(n > 0, "the server received no request");
    return r;
}

void ts_stop(test_server *s)
{
    s->stopping = 1;
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

mlf_catalog *ts_load_plugin(const char *name)
{
    const char *proxies[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof *proxies; i++)
        unsetenv(proxies[i]);
    return tu_load_plugins(&name, 1);
}

int ts_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

const char *ts_header(const ts_request *r, const char *name, char *buf, size_t buflen)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; *line;) {
        const char *end = strchr(line, '\n');
        size_t ll = end ? (size_t)(end - line) : strlen(line);
        if (ll > nl + 1 && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            snprintf(buf, buflen, "%.*s", (int)(ll - nl - 2), line + nl + 2);
            return buf;
        }
        line += ll + (end ? 1 : 0);
    }
    return NULL;
}
