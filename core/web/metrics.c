/*
 * metrics.c -- histograms, the Prometheus text format, and the /metrics listener (metrics.h).
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "web/metrics.h"
#include "web/web_internal.h"

mlf_histogram mlf_metric_loop_turn;

static const double bounds[MLF_HIST_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,   0.25,   0.5,   1,    2.5,   10};

void mlf_histogram_observe(mlf_histogram *h, long long us)
{
    if (us < 0)
        us = 0;
    double s = (double)us / 1e6;
    const double *b = h->bounds ? h->bounds : bounds;
    size_t i = 0;
    while (i < MLF_HIST_BUCKETS && s > b[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, (unsigned long long)us, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void mlf_metric_write(mlf_buf *out, const char *name, const char *type, const char *help, const char *labels,
                      int first, double value)
{
    if (!labels || first)
        mlf_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    if (labels)
        mlf_buf_printf(out, "%s{%s} %.17g\n", name, labels, value);
    else
        mlf_buf_printf(out, "%s %.17g\n", name, value);
}

void mlf_histogram_write_series(mlf_buf *out, const char *name, const char *labels, mlf_histogram *h)
{
    const double *b = h->bounds ? h->bounds : bounds;
    const char *sep = labels ? "," : "";
    if (!labels)
        labels = "";
    unsigned long long cum = 0;
    for (size_t i = 0; i <= MLF_HIST_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < MLF_HIST_BUCKETS)
            mlf_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, b[i], cum);
        else
            mlf_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, cum);
    }
    /* the count is the +Inf bucket, so that a scrape racing an observation stays consistent */
    const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";
    mlf_buf_printf(out, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, open, labels, close,
                   (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6, name, open, labels, close,
                   cum);
}

void mlf_histogram_write(mlf_buf *out, const char *name, const char *help, mlf_histogram *h)
{
    mlf_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    mlf_histogram_write_series(out, name, NULL, h);
}

void mlf_metric_label_escape(mlf_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            mlf_buf_printf(out, "\\%c", *s);
        else if (*s == '\n')
            mlf_buf_puts(out, "\\n");
        else
            mlf_buf_append(out, s, 1);
    }
}

struct mlf_metrics_server {
    struct MHD_Daemon *d;
    mlf_metrics_collect_fn fn;
    void *ud;
    char url[160];
};

static enum MHD_Result on_scrape(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    mlf_metrics_server *m = cls;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    int status = 200;
    mlf_buf b = {0};
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(url, "/metrics") != 0) {
        status = 404;
        mlf_buf_puts(&b, "only /metrics here\n");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = 405;
        mlf_buf_puts(&b, "GET /metrics\n");
    } else if (m->fn(m->ud, &b) != MLF_OK) {
        status = 500;
        mlf_buf_free(&b);
        mlf_buf_puts(&b, "cannot collect the metrics (see the log)\n");
    }
    size_t len = b.len;
    char *body = b.data ? mlf_buf_steal(&b) : strdup("");
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

int mlf_metrics_start(const char *listen, mlf_metrics_collect_fn fn, void *ud, mlf_metrics_server **out,
                      const char **url, char *err, size_t errlen)
{
    *out = NULL;
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    long port;
    struct sockaddr_in a = {.sin_family = AF_INET};
    char host[64];
    if (!colon || (size_t)(colon - listen) >= sizeof host || mlf_web_parse_uint(colon + 1, 65535, &port) != MLF_OK) {
        snprintf(err, errlen, "metrics address '%s' is not IPv4:PORT", listen ? listen : "");
        return MLF_EINVAL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(err, errlen, "metrics address '%s' is not IPv4:PORT", listen);
        return MLF_EINVAL;
    }
    a.sin_port = htons((uint16_t)port);
    mlf_metrics_server *m = calloc(1, sizeof *m);
    if (!m)
        return MLF_ENOMEM;
    m->fn = fn;
    m->ud = ud;
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_scrape, m,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!m->d) {
        free(m);
        snprintf(err, errlen, "cannot listen on %s for /metrics", listen);
        return MLF_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(m->url, sizeof m->url, "http://%s:%u/metrics", host, di ? di->port : 0);
    *url = m->url;
    *out = m;
    return MLF_OK;
}

void mlf_metrics_stop(mlf_metrics_server *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
