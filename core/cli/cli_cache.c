/* cli_cache.c -- `mlflowd cache list | purge`: the cached results of doc/caching.md, read and deleted through
 * the store's cache table (store/store_cache.h). Neither needs the DAG folder: entries of a DAG whose file is
 * gone can still be listed and purged. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sched/cache_key.h"
#include "store/store.h"
#include "store/store_cache.h"
#include "time/duration.h"
#include "time/timefmt.h"

typedef struct list_ctx {
    json_t *rows;
    mlf_time_us now;
} list_ctx;

static int list_one(void *ud, const mlf_cache_rec *rec)
{
    list_ctx *c = ud;
    char hex[2 * MLF_CACHE_DIGEST_LEN + 1];
    mlf_cache_digest_hex(rec->digest, hex);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:b, s:I}", "dag_id", rec->dag_id, "task_id",
                            rec->task_id, "key", hex, "run_id", rec->run_id, "map_index", rec->map_index,
                            "created_at", mlf_cli_time_json(rec->created_at), "expires_at",
                            mlf_cli_time_json(rec->expires_at), "live", mlf_cache_rec_live(rec, c->now),
                            "xcom_bytes", (json_int_t)rec->xcoms_len);
    return row && json_array_append_new(c->rows, row) == 0 ? 0 : MLF_ENOMEM;
}

/* `cache list [DAG_ID] [-o table|json]` */
int mlf_cmd_cache_list(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 1, (const char *const[]){NULL});
    if (rc)
        return rc;
    const char *dag_id = cli->argc ? cli->argv[0] : NULL;
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    list_ctx c = {.rows = json_array(), .now = mlf_time_now()};
    mlf_store_txn *txn = NULL;
    int src = c.rows ? mlf_store_read_begin(st, &txn) : MLF_ENOMEM;
    if (src == MLF_OK) {
        src = mlf_store_cache_foreach(txn, dag_id, NULL, list_one, &c);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    if (src != MLF_OK) {
        json_decref(c.rows);
        return mlf_cli_fail(src == MLF_EINVAL || src == MLF_ETOOBIG ? MLF_EXIT_USAGE : MLF_EXIT_FAILED,
                            "cannot list the cache: %s", mlf_strerror(src));
    }
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, c.rows);
        return MLF_EXIT_OK;
    }
    fprintf(cli->out, "%-20s %-20s %-16s %-36s %-32s %s\n", "dag_id", "task_id", "key", "from run", "created",
            "expires");
    size_t i;
    json_t *row;
    json_array_foreach(c.rows, i, row) {
        char task[160], expires[64];
        int mi = (int)json_integer_value(json_object_get(row, "map_index"));
        if (mi >= 0)
            snprintf(task, sizeof task, "%s[%d]", json_string_value(json_object_get(row, "task_id")), mi);
        else
            snprintf(task, sizeof task, "%s", json_string_value(json_object_get(row, "task_id")));
        const char *exp = json_string_value(json_object_get(row, "expires_at"));
        snprintf(expires, sizeof expires, "%s%s", exp ? exp : "never",
                 json_is_true(json_object_get(row, "live")) ? "" : " (expired)");
        const char *created = json_string_value(json_object_get(row, "created_at"));
        fprintf(cli->out, "%-20s %-20s %-16.16s %-36s %-32s %s\n",
                json_string_value(json_object_get(row, "dag_id")), task,
                json_string_value(json_object_get(row, "key")), json_string_value(json_object_get(row, "run_id")),
                created ? created : "?", expires);
    }
    json_decref(c.rows);
    return MLF_EXIT_OK;
}

typedef struct purge_ctx {
    mlf_store_txn *w;
    mlf_time_us cutoff; /* entries created before it go (INT64_MAX: every entry) */
    size_t purged;
} purge_ctx;

static int purge_one(void *ud, const mlf_cache_rec *rec)
{
    purge_ctx *c = ud;
    if (c->cutoff != INT64_MAX && rec->created_at != MLF_TIME_NONE && rec->created_at >= c->cutoff)
        return 0;
    int rc = mlf_store_cache_delete(c->w, rec->dag_id, rec->task_id, rec->digest);
    if (rc == MLF_OK)
        c->purged++;
    return rc == MLF_ENOTFOUND ? 0 : rc;
}

/* `cache purge [DAG_ID] [--task TASK_ID] [--older-than AGE] [-o table|json]`: deletes entries (of a DAG, of one
 * of its tasks, created more than AGE ago); the next try of their tasks runs. One write batch. */
int mlf_cmd_cache_purge(mlf_cli *cli)
{
    int missing = 0;
    const char *task_id = mlf_cli_take_value(cli, "--task", "-t", &missing);
    const char *age_s = mlf_cli_take_value(cli, "--older-than", NULL, &missing);
    int rc = mlf_cli_check_args(cli, 0, 1, (const char *const[]){"--task", "--older-than", NULL});
    if (rc)
        return rc;
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "cache purge: --task and --older-than take a value");
    const char *dag_id = cli->argc ? cli->argv[0] : NULL;
    if (task_id && !dag_id)
        return mlf_cli_fail(MLF_EXIT_USAGE, "cache purge: --task needs the DAG_ID too");
    purge_ctx c = {.cutoff = INT64_MAX};
    if (age_s) {
        int64_t age = 0;
        char err[256] = "";
        if (mlf_duration_parse(age_s, &age, err, sizeof err) != MLF_OK || age <= 0)
            return mlf_cli_fail(MLF_EXIT_USAGE, "--older-than: %s", err[0] ? err : "must be positive");
        c.cutoff = mlf_time_now() - age;
    }
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    int src = mlf_store_write_begin(st, &c.w);
    if (src == MLF_OK) {
        src = mlf_store_cache_foreach(c.w, dag_id, task_id, purge_one, &c);
        src = src == MLF_OK ? mlf_store_write_commit(c.w) : (mlf_store_write_abort(c.w), src);
    }
    mlf_store_close(st);
    if (src != MLF_OK)
        return mlf_cli_fail(src == MLF_EINVAL || src == MLF_ETOOBIG ? MLF_EXIT_USAGE : MLF_EXIT_FAILED,
                            "cannot purge the cache: %s", mlf_strerror(src));
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:o, s:o, s:I}", "dag_id", dag_id ? json_string(dag_id) : json_null(),
                                          "task_id", task_id ? json_string(task_id) : json_null(), "purged",
                                          (json_int_t)c.purged));
    else
        fprintf(cli->out, "Purged %zu cache entr%s; the next try of their tasks runs\n", c.purged,
                c.purged == 1 ? "y" : "ies");
    return MLF_EXIT_OK;
}
