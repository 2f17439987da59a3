/* sched_events.c -- event sources in the scheduler daemon (sdk/mlflowd/event_source.h, doc/assets.md): one
 * instance per `assets: {URI: {watch: {source, config}}}` declaration of the DAG folder, opened, reopened
 * (its config changed) and closed as DAG files change; their fds are polled with the loop's other sources
 * and each mlf_event_emit() records an asset event in the turn's write batch, evaluated in the same turn. */
#include "sched/sched_internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/asset_ops.h"
#include "plugin/params.h"
#include "store/store_assets.h"
#include "value/value_json.h"

struct mlf_event_host {
    mlf_scheduler *s;
    char *uri, *source, *config_json; /* what was opened (config_json: NULL for none) */
    const mlf_event_source_desc *desc;
    void *inst;
    int fd;
    int ready;      /* its fd is readable (this turn's look) */
    int processing; /* inside process(): mlf_event_emit() is allowed */
    int seen;       /* still declared at this sync */
};

void mlf_sc_events_free(mlf_scheduler *s)
{
    for (size_t i = 0; i < s->nsources; i++) {
        mlf_event_host *h = s->sources[i];
        if (h->inst)
            h->desc->close(h->inst);
        free(h->uri);
        free(h->source);
        free(h->config_json);
        free(h);
    }
    free(s->sources);
    s->sources = NULL;
    s->nsources = 0;
}

/* The watch's config as a typed map checked against @p params, defaults filled in; NULL with @p err. */
static mlf_value *typed_config(const mlf_param_spec *params, const char *json, char *err, size_t errlen)
{
    mlf_value *given = NULL, *out = NULL;
    char why[256];
    if (mlf_params_defaults(params, &out, why, sizeof why) != MLF_OK) {
        snprintf(err, errlen, "the event source's own defaults: %s", why);
        return NULL;
    }
    if (json && mlf_value_from_json(json, strlen(json), &given, why, sizeof why) != MLF_OK) {
        snprintf(err, errlen, "config: %s", why);
        mlf_value_free(out);
        return NULL;
    }
    for (size_t i = 0; i < mlf_value_len(given); i++) {
        const char *key = mlf_map_key_at(given, i);
        const mlf_value *v = mlf_map_value_at(given, i);
        const mlf_param_spec *spec = mlf_params_find(params, key);
        mlf_value *typed = NULL;
        if (!spec) {
            snprintf(err, errlen, "config: unknown key '%s'", key);
        } else if (mlf_value_type(v) == MLF_STR && spec->type == MLF_PARAM_STR) {
            typed = mlf_value_copy(v); /* as written: a string is not YAML text to parse again */
        } else if (mlf_value_type(v) == MLF_STR) { /* "30s", "true", an enum choice */
            typed = mlf_param_from_text(spec, mlf_value_get_str(v, NULL), why, sizeof why);
            if (!typed)
                snprintf(err, errlen, "config: %s: %s", key, why);
        } else {
            typed = mlf_value_copy(v);
        }
        if (!typed) {
            mlf_value_free(given);
            mlf_value_free(out);
            return NULL;
        }
        mlf_map_set(out, key, typed);
    }
    mlf_value_free(given);
    for (const mlf_param_spec *p = params; p && p->name; p++)
        if ((p->flags & MLF_PARAM_REQUIRED) && !mlf_map_get(out, p->name)) {
            snprintf(err, errlen, "config: '%s' is required", p->name);
            mlf_value_free(out);
            return NULL;
        }
    return out;
}

static void open_source(mlf_scheduler *s, mlf_event_host *h)
{
    char err[400] = "";
    h->desc = mlf_catalog_event_source(s->o.cat, h->source);
    if (!h->desc) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "asset %s: no event source named '%s' is loaded", h->uri, h->source);
        return;
    }
    mlf_value *config = typed_config(h->desc->params, h->config_json, err, sizeof err);
    mlf_event_source_open_args args = {.struct_size = sizeof args, .asset_uri = h->uri, .config = config,
                                       .host = h, .home = s->home};
    int rc = config ? h->desc->open(&args, &h->inst, err, sizeof err) : MLF_EINVAL;
    mlf_value_free(config);
    if (rc != MLF_OK) {
        h->inst = NULL;
        mlf_log(MLF_LOG_ERROR, COMPONENT, "asset %s: event source %s not started: %s", h->uri, h->source,
                err[0] ? err : mlf_strerror(rc));
        return;
    }
    h->fd = h->desc->fd(h->inst);
    mlf_log(MLF_LOG_INFO, COMPONENT, "asset %s: event source %s started", h->uri, h->source);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void mlf_sc_events_sync(mlf_scheduler *s)
{
    if (!s->o.create_scheduled_runs)
        return; /* only the daemon watches */
    for (size_t i = 0; i < s->nsources; i++)
        s->sources[i]->seen = 0;
    for (size_t d = 0; d < mlf_dagbag_count(s->o.bag); d++) {
        const mlf_dag *dag = mlf_dagbag_at(s->o.bag, d);
        for (size_t k = 0; k < dag->nasset_decls; k++) {
            const mlf_asset_decl *decl = &dag->asset_decls[k];
            if (!decl->watch_source)
                continue;
            mlf_event_host *h = NULL;
            for (size_t i = 0; i < s->nsources && !h; i++)
                if (strcmp(s->sources[i]->uri, decl->uri) == 0)
                    h = s->sources[i];
            if (h && h->seen)
                continue; /* declared twice: the first declaration (in DAG id order) watches */
            if (h && (!same(h->source, decl->watch_source) || !same(h->config_json, decl->watch_config))) {
                if (h->inst)
                    h->desc->close(h->inst);
                h->inst = NULL;
                free(h->source);
                free(h->config_json);
                h->source = strdup(decl->watch_source);
                h->config_json = decl->watch_config ? strdup(decl->watch_config) : NULL;
                open_source(s, h);
            }
            if (!h) {
                mlf_event_host **nv = realloc(s->sources, (s->nsources + 1) * sizeof *nv);
                h = nv ? calloc(1, sizeof *h) : NULL;
                if (nv)
                    s->sources = nv;
                if (!h)
                    return;
                h->s = s;
                h->fd = -1;
                h->uri = strdup(decl->uri);
                h->source = strdup(decl->watch_source);
                h->config_json = decl->watch_config ? strdup(decl->watch_config) : NULL;
                s->sources[s->nsources++] = h;
                open_source(s, h);
            }
            h->seen = 1;
        }
    }
    size_t keep = 0;
    for (size_t i = 0; i < s->nsources; i++) {
        mlf_event_host *h = s->sources[i];
        if (h->seen) {
            s->sources[keep++] = h;
            continue;
        }
        mlf_log(MLF_LOG_INFO, COMPONENT, "asset %s: event source %s stopped (no longer declared)", h->uri, h->source);
        if (h->inst)
            h->desc->close(h->inst);
        free(h->uri);
        free(h->source);
        free(h->config_json);
        free(h);
    }
    s->nsources = keep;
}

size_t mlf_sc_events_pollfds(mlf_scheduler *s, struct pollfd *pfd, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nsources && n < max; i++)
        if (s->sources[i]->inst && s->sources[i]->fd >= 0)
            pfd[n++] = (struct pollfd){.fd = s->sources[i]->fd, .events = POLLIN};
    return n;
}

mlf_time_us mlf_sc_events_deadline(mlf_scheduler *s)
{
    mlf_time_us next = 0;
    for (size_t i = 0; i < s->nsources; i++) {
        mlf_event_host *h = s->sources[i];
        mlf_time_us d = h->inst && h->desc->next_deadline ? h->desc->next_deadline(h->inst) : 0;
        if (d && (!next || d < next))
            next = d;
    }
    return next;
}

void mlf_sc_events_process(mlf_scheduler *s, mlf_time_us now)
{
    /* which fds are readable now: one poll() without waiting (the loop's own poll only woke it up; a turn
     * may also come from anything else) */
    if (s->nsources == 0)
        return;
    struct pollfd *pfd = calloc(s->nsources, sizeof *pfd);
    size_t n = 0;
    for (size_t i = 0; pfd && i < s->nsources; i++) {
        s->sources[i]->ready = 0;
        if (s->sources[i]->inst && s->sources[i]->fd >= 0)
            pfd[n++] = (struct pollfd){.fd = s->sources[i]->fd, .events = POLLIN};
    }
    if (n && poll(pfd, n, 0) > 0)
        for (size_t k = 0; k < n; k++)
            for (size_t i = 0; pfd[k].revents && i < s->nsources; i++)
                if (s->sources[i]->inst && s->sources[i]->fd == pfd[k].fd)
                    s->sources[i]->ready = 1;
    free(pfd);
    for (size_t i = 0; i < s->nsources; i++) {
        mlf_event_host *h = s->sources[i];
        if (!h->inst)
            continue;
        mlf_time_us d = h->desc->next_deadline ? h->desc->next_deadline(h->inst) : 0;
        if (!h->ready && !(d && d <= now))
            continue;
        h->ready = 0;
        h->processing = 1;
        int rc = h->desc->process(h->inst, now);
        h->processing = 0;
        if (rc < 0)
            mlf_log(MLF_LOG_WARNING, COMPONENT, "asset %s: event source %s: %s", h->uri, h->source, mlf_strerror(rc));
    }
}

int mlf_event_emit(mlf_event_host *h, const mlf_value *extra, const char *key)
{
    if (!h || !h->processing)
        return MLF_ESTATE;
    if (extra && mlf_value_type(extra) != MLF_MAP)
        return MLF_EINVAL;
    mlf_scheduler *s = h->s;
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!w)
        return s->store_error ? s->store_error : MLF_EIO;
    char scoped[MLF_IDEM_KEY_MAX + 1];
    if (key) { /* keys are per asset: two watched folders may both see "a.csv" */
        size_t n = strlen(key);
        if (n == 0 || n > 100)
            return MLF_EINVAL;
        unsigned long hsh = 5381;
        for (const char *p = h->uri; *p; p++)
            hsh = hsh * 33 + (unsigned char)*p;
        snprintf(scoped, sizeof scoped, "watch:%lx:%s", hsh, key);
        mlf_value *rec = NULL;
        int rc = mlf_store_idem_get(w, scoped, &rec);
        const char *was = mlf_value_get_str(mlf_map_get(rec, "asset_uri"), NULL);
        int again = rc == MLF_OK && was && strcmp(was, h->uri) == 0;
        mlf_value_free(rec);
        if (again)
            return MLF_OK;
        if (rc != MLF_OK && rc != MLF_ENOTFOUND)
            return rc;
    }
    mlf_value *ev = mlf_value_map();
    char src[100];
    snprintf(src, sizeof src, "watch:%s", h->source);
    mlf_map_set(ev, "source", mlf_value_str(src));
    mlf_map_set(ev, "extra", extra ? mlf_value_copy(extra) : mlf_value_map());
    int64_t seq = 0;
    int rc = mlf_store_asset_event_add(w, h->uri, ev, 0, &seq);
    mlf_value_free(ev);
    if (rc == MLF_OK && key) {
        mlf_value *rec = mlf_value_map();
        mlf_map_set(rec, "asset_uri", mlf_value_str(h->uri));
        mlf_map_set(rec, "seq", mlf_value_int(seq));
        rc = mlf_store_idem_put(w, scoped, rec);
        mlf_value_free(rec);
    }
    mlf_sc_note_store(s, rc, "asset event");
    if (rc != MLF_OK)
        return rc;
    mlf_log(MLF_LOG_INFO, COMPONENT, "asset %s updated (event %lld) by event source %s", h->uri, (long long)seq,
            h->source);
    mlf_sc_asset_updated(s, h->uri);
    return MLF_OK;
}
