/* cli_assets.c -- `mlflowd assets list | events | create-event | graph` (doc/assets.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "cli/asset_ops.h"
#include "cli/cli.h"
#include "dag/dag_assets.h"
#include "store/store.h"
#include "store/store_assets.h"
#include "time/timefmt.h"
#include "value/value_json.h"

/* One asset of the catalogue: who produces (DAG.task), consumes and declares it, and its events. */
typedef struct cat_asset {
    const char *uri;
    mlf_buf producers, consumers;
    int declared, external;
    int64_t events;
    mlf_time_us last;
} cat_asset;

typedef struct catalogue {
    cat_asset *v;
    size_t n, cap;
} catalogue;

static cat_asset *cat_get(catalogue *c, const char *uri)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].uri, uri) == 0)
            return &c->v[i];
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        cat_asset *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return NULL;
        c->v = nv;
        c->cap = cap;
    }
    cat_asset *a = &c->v[c->n++];
    memset(a, 0, sizeof *a);
    a->uri = uri;
    return a;
}

static void add_name(mlf_buf *b, const char *a, const char *sep, const char *t)
{
    if (b->len)
        mlf_buf_append(b, ", ", 2);
    mlf_buf_append(b, a, strlen(a));
    if (t) {
        mlf_buf_append(b, sep, strlen(sep));
        mlf_buf_append(b, t, strlen(t));
    }
}

static int cmp_asset(const void *a, const void *b)
{
    return strcmp(((const cat_asset *)a)->uri, ((const cat_asset *)b)->uri);
}

/* The catalogue of the DAG bag (URIs borrowed from it), sorted by URI. */
static void build_catalogue(const mlf_dagbag *bag, catalogue *c)
{
    for (size_t i = 0; i < mlf_dagbag_count(bag); i++) {
        const mlf_dag *d = mlf_dagbag_at(bag, i);
        for (size_t t = 0; t < d->ntasks; t++)
            for (size_t o = 0; o < d->tasks[t].noutlets; o++) {
                cat_asset *a = cat_get(c, d->tasks[t].outlets[o]);
                if (a)
                    add_name(&a->producers, d->dag_id, ".", d->tasks[t].task_id);
            }
        for (size_t k = 0; k < d->asset_sched.n; k++) {
            cat_asset *a = cat_get(c, d->asset_sched.v[k].uri);
            char n[32];
            snprintf(n, sizeof n, "%lld", (long long)d->asset_sched.v[k].updates);
            if (a)
                add_name(&a->consumers, d->dag_id, " x", d->asset_sched.v[k].updates > 1 ? n : NULL);
        }
        for (size_t k = 0; k < d->nasset_decls; k++) {
            cat_asset *a = cat_get(c, d->asset_decls[k].uri);
            if (a) {
                a->declared = 1;
                a->external |= d->asset_decls[k].external;
            }
        }
    }
    if (c->n > 1)
        qsort(c->v, c->n, sizeof *c->v, cmp_asset);
}

static void free_catalogue(catalogue *c)
{
    for (size_t i = 0; i < c->n; i++) {
        mlf_buf_free(&c->v[i].producers);
        mlf_buf_free(&c->v[i].consumers);
    }
    free(c->v);
}

static const char *buf_str(const mlf_buf *b)
{
    return b->len ? b->data : "";
}

int mlf_cmd_assets_list(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    catalogue c = {0};
    build_catalogue(cli->bag, &c);
    mlf_store_txn *txn;
    if (mlf_store_read_begin(st, &txn) == MLF_OK) {
        for (size_t i = 0; i < c.n; i++)
            mlf_store_asset_get(txn, c.v[i].uri, &c.v[i].events, &c.v[i].last);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    char ts[64];
    if (cli->output == MLF_OUTPUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < c.n; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, s:I, s:o}", "uri", c.v[i].uri, "producers",
                                                 buf_str(&c.v[i].producers), "consumers", buf_str(&c.v[i].consumers),
                                                 "external", c.v[i].external, "events", (json_int_t)c.v[i].events,
                                                 "last_event", mlf_cli_time_json(c.v[i].last)));
        mlf_cli_print_json(cli, arr);
    } else {
        fprintf(cli->out, "%-40s %-24s %-24s %-7s %s\n", "uri", "producers", "consumers", "events", "last_event");
        for (size_t i = 0; i < c.n; i++) {
            const char *prod = c.v[i].producers.len ? c.v[i].producers.data : c.v[i].external ? "(external)" : "-";
            if (!c.v[i].last || mlf_time_format_ts(c.v[i].last, ts, sizeof ts) != MLF_OK)
                strcpy(ts, "-");
            fprintf(cli->out, "%-40s %-24s %-24s %-7lld %s\n", c.v[i].uri, prod,
                    c.v[i].consumers.len ? c.v[i].consumers.data : "-", (long long)c.v[i].events, ts);
        }
        if (!c.n)
            fprintf(cli->out, "No assets: no task has outlets and no DAG is scheduled on assets.\n");
    }
    free_catalogue(&c);
    return MLF_EXIT_OK;
}

typedef struct event_printer {
    mlf_cli *cli;
    size_t n;
} event_printer;

static int print_event(void *ud, const mlf_value *ev)
{
    event_printer *ep = ud;
    mlf_cli *cli = ep->cli;
    char *json = NULL;
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_value *shown = mlf_value_copy(ev);
        int64_t at = 0;
        char ts[64];
        mlf_value_get_int(mlf_map_get(ev, "at"), &at);
        mlf_map_remove(shown, "v");
        if (mlf_time_format_ts(at, ts, sizeof ts) == MLF_OK)
            mlf_map_set(shown, "timestamp", mlf_value_str(ts));
        if (shown && mlf_value_to_json(shown, &json) == MLF_OK)
            fprintf(cli->out, "%s%s", ep->n++ ? ",\n" : "", json);
        mlf_value_free(shown);
    } else {
        int64_t seq = 0, at = 0, mi = -1;
        char ts[64] = "-";
        mlf_value_get_int(mlf_map_get(ev, "seq"), &seq);
        mlf_value_get_int(mlf_map_get(ev, "at"), &at);
        mlf_value_get_int(mlf_map_get(ev, "map_index"), &mi);
        mlf_time_format_ts(at, ts, sizeof ts);
        const char *src = mlf_value_get_str(mlf_map_get(ev, "source"), NULL);
        const char *dag = mlf_value_get_str(mlf_map_get(ev, "dag_id"), NULL);
        const char *run = mlf_value_get_str(mlf_map_get(ev, "run_id"), NULL);
        const char *task = mlf_value_get_str(mlf_map_get(ev, "task_id"), NULL);
        mlf_value_to_json(mlf_map_get(ev, "extra"), &json);
        char from[400];
        if (dag && run && task)
            snprintf(from, sizeof from, "%s/%s/%s", dag, run, task);
        else
            snprintf(from, sizeof from, "%s", src ? src : "-");
        fprintf(cli->out, "%-6lld %-34s %-50s %s\n", (long long)seq, ts, from, json ? json : "{}");
    }
    mlf_free(json);
    return MLF_OK;
}

int mlf_cmd_assets_events(mlf_cli *cli)
{
    int missing = 0, limit = 20;
    const char *n = mlf_cli_take_value(cli, "--limit", "-n", &missing);
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "--limit needs a value");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--limit", NULL});
    if (rc || (n && (rc = mlf_cli_parse_int("--limit", n, 1, 100000, &limit))))
        return rc;
    const char *why = mlf_asset_uri_problem(cli->argv[0]);
    if (why)
        return mlf_cli_fail(MLF_EXIT_USAGE, "'%s': %s", cli->argv[0], why);
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_store_txn *txn;
    rc = mlf_store_read_begin(st, &txn);
    if (rc == MLF_OK) {
        if (cli->output == MLF_OUTPUT_JSON)
            fprintf(cli->out, "[");
        else
            fprintf(cli->out, "%-6s %-34s %-50s %s\n", "event", "time", "from", "extra");
        event_printer ep = {cli, 0};
        rc = mlf_store_asset_events(txn, cli->argv[0], 0, (size_t)limit, 1, print_event, &ep);
        if (cli->output == MLF_OUTPUT_JSON)
            fprintf(cli->out, "]\n");
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    return rc == MLF_OK ? MLF_EXIT_OK : mlf_cli_fail(MLF_EXIT_FAILED, "cannot read the events: %s", mlf_strerror(rc));
}

int mlf_cmd_assets_create_event(mlf_cli *cli)
{
    int missing = 0;
    const char *extra_text = mlf_cli_take_value(cli, "--extra", NULL, &missing);
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "--extra needs a JSON object");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--extra", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    mlf_value *extra = NULL;
    char err[512];
    if (extra_text && (mlf_value_from_json(extra_text, strlen(extra_text), &extra, err, sizeof err) != MLF_OK ||
                       mlf_value_type(extra) != MLF_MAP)) {
        mlf_value_free(extra);
        return mlf_cli_fail(MLF_EXIT_USAGE, "--extra must be a JSON object, e.g. '{\"rows\": 120}'");
    }
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st) {
        mlf_value_free(extra);
        return MLF_EXIT_FAILED;
    }
    int64_t seq = 0;
    rc = mlf_ops_asset_event(st, cli->bag, cli->argv[0], "cli", extra, &seq, err, sizeof err);
    mlf_store_close(st);
    mlf_value_free(extra);
    if (rc != MLF_OK)
        return mlf_cli_fail(rc == MLF_EINVAL || rc == MLF_ENOTFOUND ? MLF_EXIT_USAGE : MLF_EXIT_FAILED, "%s", err);
    fprintf(cli->out, "Asset %s: event %lld recorded (a running scheduler starts the DAGs it completes)\n",
            cli->argv[0], (long long)seq);
    return MLF_EXIT_OK;
}

static void dot_str(FILE *out, const char *prefix, const char *s)
{
    fprintf(out, "\"%s", prefix);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The lineage graph: DAGs (boxes) -> assets they produce (ellipses, labelled by task) -> DAGs scheduled on
 * them (labelled "x N" for an update count). */
static void write_graph(FILE *out, const mlf_dagbag *bag)
{
    fprintf(out, "digraph assets {\n  rankdir=LR;\n");
    catalogue c = {0};
    build_catalogue(bag, &c);
    for (size_t i = 0; i < c.n; i++) {
        fprintf(out, "  ");
        dot_str(out, "asset:", c.v[i].uri);
        fprintf(out, " [shape=ellipse, label=");
        dot_str(out, "", c.v[i].uri);
        fprintf(out, "%s];\n", c.v[i].external ? ", style=dashed" : "");
    }
    free_catalogue(&c);
    for (size_t i = 0; i < mlf_dagbag_count(bag); i++) {
        const mlf_dag *d = mlf_dagbag_at(bag, i);
        int involved = d->asset_sched.n > 0;
        for (size_t t = 0; t < d->ntasks && !involved; t++)
            involved = d->tasks[t].noutlets > 0;
        if (!involved)
            continue;
        fprintf(out, "  ");
        dot_str(out, "dag:", d->dag_id);
        fprintf(out, " [shape=box, style=rounded, label=");
        dot_str(out, "", d->dag_id);
        fprintf(out, "];\n");
        for (size_t t = 0; t < d->ntasks; t++)
            for (size_t o = 0; o < d->tasks[t].noutlets; o++) {
                fprintf(out, "  ");
                dot_str(out, "dag:", d->dag_id);
                fprintf(out, " -> ");
                dot_str(out, "asset:", d->tasks[t].outlets[o]);
                fprintf(out, " [label=");
                dot_str(out, "", d->tasks[t].task_id);
                fprintf(out, "];\n");
            }
        for (size_t k = 0; k < d->asset_sched.n; k++) {
            fprintf(out, "  ");
            dot_str(out, "asset:", d->asset_sched.v[k].uri);
            fprintf(out, " -> ");
            dot_str(out, "dag:", d->dag_id);
            if (d->asset_sched.v[k].updates > 1 || d->asset_sched.any)
                fprintf(out, " [label=\"%s%s%lld\"]", d->asset_sched.any ? "any" : "",
                        d->asset_sched.any ? " " : "x", (long long)d->asset_sched.v[k].updates);
            fprintf(out, ";\n");
        }
    }
    fprintf(out, "}\n");
}

int mlf_cmd_assets_graph(mlf_cli *cli)
{
    const char *fmt = mlf_cli_take_value(cli, "--format", NULL, NULL);
    const char *save = mlf_cli_take_value(cli, "--save", NULL, NULL);
    int rc = mlf_cli_check_args(cli, 0, 0, (const char *const[]){"--format", "--save", NULL});
    if (rc || (rc = mlf_cli_dagbag(cli)))
        return rc;
    if (!fmt)
        fmt = save && mlf_str_endswith(save, ".svg") ? "svg" : "dot";
    if (strcmp(fmt, "dot") == 0) {
        FILE *out = save ? fopen(save, "w") : cli->out;
        if (!out)
            return mlf_cli_fail(MLF_EXIT_FAILED, "cannot write %s", save);
        write_graph(out, cli->bag);
        if (save && fclose(out) != 0)
            return mlf_cli_fail(MLF_EXIT_FAILED, "cannot write %s", save);
        return MLF_EXIT_OK;
    }
    if (strcmp(fmt, "svg") != 0)
        return mlf_cli_fail(MLF_EXIT_USAGE, "unknown format '%s' (use dot or svg)", fmt);
    if (system("command -v dot >/dev/null 2>&1") != 0)
        return mlf_cli_fail(MLF_EXIT_FAILED, "SVG output needs graphviz's dot on PATH (apt-get install graphviz); "
                            "--format dot prints the graph without it");
    if (save)
        setenv("MLF_SVG_OUT", save, 1);
    fflush(cli->out);
    FILE *p = popen(save ? "dot -Tsvg -o \"$MLF_SVG_OUT\"" : "dot -Tsvg", "w");
    if (!p)
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot run dot");
    write_graph(p, cli->bag);
    return pclose(p) == 0 ? MLF_EXIT_OK : mlf_cli_fail(MLF_EXIT_FAILED, "dot failed");
}
