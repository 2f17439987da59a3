/* dag_assets.c -- assets in DAG files: URI validation, `outlets:`, asset schedules, `assets:`
 * declarations, and the cross-DAG check of a bag (doc/assets.md). */
#include "dag/dag_assets.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/suggest.h"
#include "dag/dag.h"

const char *mlf_asset_uri_problem(const char *uri)
{
    size_t n = uri ? strlen(uri) : 0;
    if (n == 0)
        return "an asset URI must not be empty";
    if (n > MLF_ASSET_URI_MAX)
        return "an asset URI must be at most 380 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)uri[i] <= ' ' || (unsigned char)uri[i] >= 0x7f)
            return "an asset URI must be printable ASCII without spaces (percent-encode the rest)";
    const char *sep = strstr(uri, "://");
    if (!sep)
        return NULL; /* a plain name, as Airflow 3's Asset(name=...) */
    if (sep == uri || !isalpha((unsigned char)uri[0]))
        return "an asset URI's scheme must start with a letter";
    for (const char *p = uri; p < sep; p++)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '.' && *p != '-')
            return "an asset URI's scheme may hold only letters, digits, + . and -";
    if (!sep[3])
        return "an asset URI needs something after the scheme";
    const char *auth = sep + 3, *end = strchr(auth, '/');
    const char *at = memchr(auth, '@', end ? (size_t)(end - auth) : strlen(auth));
    if (at && memchr(auth, ':', (size_t)(at - auth)))
        return "an asset URI must not hold credentials (user:password@): they would show in logs and the UI";
    return NULL;
}

static size_t problem(mlf_diag *diag, const char *file, const mlf_yaml_node *n, const char *fmt, ...)
    MLF_PRINTF(4, 5);
static size_t problem(mlf_diag *diag, const char *file, const mlf_yaml_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_diag_vadd(diag, file, n ? (int)n->line : 0, n ? (int)n->col : 0, fmt, ap);
    va_end(ap);
    return 1;
}

static int is_text(const mlf_yaml_node *n)
{
    return n && n->kind == MLF_YAML_SCALAR && !mlf_yaml_is_null(n) && strlen(n->text) == n->len;
}

/* A URI node: 0 problems and *out set, or the problems reported. */
static size_t want_uri(const mlf_yaml_node *n, const char *file, mlf_diag *diag, const char *key, char **out)
{
    *out = NULL;
    if (!is_text(n))
        return problem(diag, file, n, "%s: expected an asset URI, got %s", key, mlf_yaml_describe(n));
    const char *why = mlf_asset_uri_problem(n->text);
    if (why)
        return problem(diag, file, n, "%s: '%s': %s", key, n->text, why);
    *out = strdup(n->text);
    return 0;
}

static size_t parse_req(const mlf_yaml_node *n, const char *file, mlf_diag *diag, const char *key, mlf_asset_req *r)
{
    memset(r, 0, sizeof *r);
    r->updates = 1;
    r->line = (int)n->line;
    r->col = (int)n->col;
    if (n->kind != MLF_YAML_MAPPING)
        return want_uri(n, file, diag, key, &r->uri);
    size_t bad = 0;
    for (size_t i = 0; i < n->n; i++) {
        const char *k = n->items[i]->text;
        const mlf_yaml_node *v = n->values[i];
        if (strcmp(k, "uri") == 0) {
            bad += want_uri(v, file, diag, key, &r->uri);
            r->line = (int)v->line;
            r->col = (int)v->col;
        } else if (strcmp(k, "updates") == 0) {
            char *end = NULL;
            long long u = is_text(v) ? strtoll(v->text, &end, 10) : 0;
            if (!is_text(v) || *end || u < 1 || u > 1000000)
                bad += problem(diag, file, v, "%s: updates: expected an integer 1..1000000, got %s", key,
                               is_text(v) ? v->text : mlf_yaml_describe(v));
            else
                r->updates = u;
        } else {
            bad += problem(diag, file, n->items[i], "%s: unknown key '%s' in an asset (uri, updates)", key, k);
        }
    }
    if (!r->uri && !bad)
        bad += problem(diag, file, n, "%s: an asset given as a mapping needs 'uri'", key);
    return bad;
}

size_t mlf_asset_parse_schedule(const mlf_yaml_node *n, const char *file, mlf_diag *diag, mlf_asset_cond *out,
                                char **cron)
{
    memset(out, 0, sizeof *out);
    *cron = NULL;
    size_t bad = 0;
    const mlf_yaml_node *list = NULL;
    for (size_t i = 0; i < n->n; i++) {
        const char *k = n->items[i]->text;
        const mlf_yaml_node *v = n->values[i];
        if (strcmp(k, "assets") == 0 || strcmp(k, "any") == 0) {
            if (list)
                bad += problem(diag, file, n->items[i],
                               "schedule: give either 'assets' (all of them) or 'any' (one of them), not both");
            list = v;
            out->any = k[1] == 'n';
        } else if (strcmp(k, "cron") == 0) {
            if (!is_text(v))
                bad += problem(diag, file, v, "schedule: cron: expected a cron expression or preset, got %s",
                               mlf_yaml_describe(v));
            else
                *cron = strdup(v->text);
        } else {
            static const char *const keys[] = {"assets", "any", "cron"};
            const char *s = mlf_suggest(k, keys, 3);
            bad += problem(diag, file, n->items[i], "schedule: unknown key '%s'%s%s%s (assets, any, cron)", k,
                           s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
        }
    }
    if (!list) {
        if (!bad)
            bad += problem(diag, file, n, "schedule: a schedule mapping needs 'assets' or 'any' (a list of asset URIs)");
        return bad;
    }
    if (list->kind != MLF_YAML_SEQUENCE || list->n == 0)
        return bad + problem(diag, file, list, "schedule: %s: expected a non-empty list of asset URIs, got %s",
                             out->any ? "any" : "assets", mlf_yaml_describe(list));
    out->v = calloc(list->n, sizeof *out->v);
    if (!out->v)
        return bad + problem(diag, file, list, "out of memory");
    for (size_t i = 0; i < list->n; i++) {
        mlf_asset_req r;
        size_t b = parse_req(list->items[i], file, diag, out->any ? "schedule: any" : "schedule: assets", &r);
        bad += b;
        if (b) {
            free(r.uri);
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k < out->n && !dup; k++)
            dup = strcmp(out->v[k].uri, r.uri) == 0;
        if (dup) {
            bad += problem(diag, file, list->items[i], "schedule: asset '%s' is listed twice", r.uri);
            free(r.uri);
            continue;
        }
        out->v[out->n++] = r;
    }
    return bad;
}

size_t mlf_asset_parse_outlets(const mlf_yaml_node *n, const char *file, const char *task_id, mlf_diag *diag,
                               char ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    char key[200];
    snprintf(key, sizeof key, "task '%s': outlets", task_id);
    if (mlf_yaml_is_null(n))
        return 0;
    size_t count = n->kind == MLF_YAML_SEQUENCE ? n->n : 1;
    if (n->kind == MLF_YAML_MAPPING)
        return problem(diag, file, n, "%s: expected an asset URI or a list of them, got a mapping", key);
    char **v = calloc(count ? count : 1, sizeof *v);
    if (!v)
        return problem(diag, file, n, "out of memory");
    size_t bad = 0, k = 0;
    for (size_t i = 0; i < count; i++) {
        char *uri = NULL;
        size_t b = want_uri(n->kind == MLF_YAML_SEQUENCE ? n->items[i] : n, file, diag, key, &uri);
        bad += b;
        int dup = 0;
        for (size_t j = 0; uri && j < k && !dup; j++)
            dup = strcmp(v[j], uri) == 0;
        if (uri && !dup)
            v[k++] = uri;
        else
            free(uri);
    }
    *out = v;
    *nout = k;
    return bad;
}

static void decl_clear(mlf_asset_decl *d);

size_t mlf_asset_parse_decls(const mlf_yaml_node *n, const char *file, mlf_diag *diag, mlf_asset_decl **out,
                             size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (mlf_yaml_is_null(n))
        return 0;
    if (n->kind != MLF_YAML_MAPPING)
        return problem(diag, file, n, "assets: expected a mapping of asset URI to {external: true, watch: ...}, got %s",
                       mlf_yaml_describe(n));
    mlf_asset_decl *d = calloc(n->n ? n->n : 1, sizeof *d);
    if (!d)
        return problem(diag, file, n, "out of memory");
    size_t bad = 0, k = 0;
    for (size_t i = 0; i < n->n; i++) {
        mlf_asset_decl one = {.line = (int)n->items[i]->line, .col = (int)n->items[i]->col};
        size_t b = want_uri(n->items[i], file, diag, "assets", &one.uri);
        const mlf_yaml_node *v = n->values[i];
        if (!b && v->kind != MLF_YAML_MAPPING && !mlf_yaml_is_null(v))
            b += problem(diag, file, v, "assets: '%s': expected a mapping (external, watch), got %s", one.uri,
                         mlf_yaml_describe(v));
        for (size_t j = 0; !b && v->kind == MLF_YAML_MAPPING && j < v->n; j++) {
            const char *key = v->items[j]->text;
            const mlf_yaml_node *x = v->values[j];
            if (strcmp(key, "external") == 0) {
                if (is_text(x) && (strcmp(x->text, "true") == 0 || strcmp(x->text, "false") == 0))
                    one.external = x->text[0] == 't';
                else
                    b += problem(diag, file, x, "assets: '%s': external: expected true or false", one.uri);
            } else if (strcmp(key, "watch") == 0) {
                const mlf_yaml_node *src = x->kind == MLF_YAML_MAPPING ? mlf_yaml_map_get(x, "source") : NULL;
                const mlf_yaml_node *cfg = x->kind == MLF_YAML_MAPPING ? mlf_yaml_map_get(x, "config") : NULL;
                for (size_t w = 0; x->kind == MLF_YAML_MAPPING && w < x->n; w++)
                    if (strcmp(x->items[w]->text, "source") != 0 && strcmp(x->items[w]->text, "config") != 0)
                        b += problem(diag, file, x->items[w], "assets: '%s': watch: unknown key '%s' (source, config)",
                                     one.uri, x->items[w]->text);
                if (!is_text(src)) {
                    b += problem(diag, file, x, "assets: '%s': watch: needs source: NAME (an event source plugin)",
                                 one.uri);
                } else {
                    one.watch_source = strdup(src->text);
                    mlf_value *cv = NULL;
                    char err[256], *json = NULL;
                    if (cfg && !mlf_yaml_is_null(cfg) &&
                        (cfg->kind != MLF_YAML_MAPPING || mlf_yaml_node_to_value(cfg, &cv, err, sizeof err) != MLF_OK ||
                         mlf_value_to_json(cv, &json) != MLF_OK))
                        b += problem(diag, file, cfg, "assets: '%s': watch: config: expected a mapping", one.uri);
                    else
                        one.watch_config = json;
                    mlf_value_free(cv);
                }
            } else {
                b += problem(diag, file, v->items[j], "assets: '%s': unknown key '%s' (external, watch)", one.uri, key);
            }
        }
        if (!b && !one.external && !one.watch_source)
            b += problem(diag, file, n->items[i],
                         "assets: '%s': a declaration says where the data comes from: external: true (or a watch:)",
                         one.uri);
        if (one.watch_source)
            one.external = 1;
        bad += b;
        if (b) {
            decl_clear(&one);
            continue;
        }
        d[k++] = one;
    }
    *out = d;
    *nout = k;
    return bad;
}

int mlf_asset_cond_ready(const mlf_asset_cond *c, const int64_t *pending)
{
    if (!c || c->n == 0)
        return 0;
    size_t met = 0;
    for (size_t i = 0; i < c->n; i++)
        met += pending[i] >= c->v[i].updates;
    return c->any ? met > 0 : met == c->n;
}

void mlf_asset_cond_clear(mlf_asset_cond *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].uri);
    free(c->v);
    memset(c, 0, sizeof *c);
}

void mlf_asset_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void decl_clear(mlf_asset_decl *d)
{
    free(d->uri);
    free(d->watch_source);
    free(d->watch_config);
}

void mlf_asset_decls_free(mlf_asset_decl *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++)
        decl_clear(&d[i]);
    free(d);
}

/* ------------------------------------------------------------------------------------------ the bag */

typedef struct uri_set {
    const char **v;
    size_t n, cap;
} uri_set;

static void set_add(uri_set *s, const char *uri)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], uri) == 0)
            return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        const char **nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = uri;
}

static int set_has(const uri_set *s, const char *uri)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], uri) == 0)
            return 1;
    return 0;
}

size_t mlf_asset_check_bag(const struct mlf_dag *const *dags, size_t ndags, mlf_diag *diag, unsigned char *bad)
{
    uri_set known = {0};
    for (size_t d = 0; d < ndags; d++) {
        for (size_t t = 0; t < dags[d]->ntasks; t++)
            for (size_t o = 0; o < dags[d]->tasks[t].noutlets; o++)
                set_add(&known, dags[d]->tasks[t].outlets[o]);
        for (size_t k = 0; k < dags[d]->nasset_decls; k++)
            set_add(&known, dags[d]->asset_decls[k].uri);
    }
    size_t nbad = 0;
    for (size_t d = 0; d < ndags; d++) {
        const mlf_asset_cond *c = &dags[d]->asset_sched;
        bad[d] = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (set_has(&known, c->v[i].uri))
                continue;
            const char *s = known.n ? mlf_suggest(c->v[i].uri, known.v, known.n) : NULL;
            mlf_diag_add(diag, dags[d]->fileloc, c->v[i].line, c->v[i].col,
                         "DAG '%s': schedule: unknown asset '%s'%s%s%s: no task lists it in its outlets and no DAG "
                         "file declares it (assets: {URI: {external: true}} for data made outside mlflowd)",
                         dags[d]->dag_id, c->v[i].uri, s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
            bad[d] = 1;
        }
        nbad += bad[d];
    }
    free(known.v);
    return nbad;
}
