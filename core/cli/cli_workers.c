/* cli_workers.c -- `mlflowd workers list`: the workers of the scheduler's executor as the state store last
 * recorded them (the zmq executor records registrations, heartbeats and departures; the scheduler batches
 * them into its commits, see core/sched/sched_workers.c).
 *
 * The state shown is derived: "running" or "idle" for a registered worker heard from recently, "offline"
 * for one its executor gave up (with the reason), and "unknown" when its record has not been refreshed for
 * longer than the executor would have waited for it plus the scheduler's write delay: the scheduler is
 * not running, or lost the worker without being able to record it. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_table.h"
#include "store/store_workers.h"
#include "time/timefmt.h"

/* Beyond the executor's liveness: the scheduler writes heartbeat-only records at most this late (its
 * MLF_SC_WORKER_FLUSH) and a turn may take a moment more. */
#define RECORD_SLACK (10 * 1000000LL)

/* A comma-separated list as a JSON array ("" is empty). */
static json_t *list_json(const char *csv)
{
    json_t *a = json_array();
    for (const char *p = csv ? csv : ""; a && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, n));
        p += n + (comma ? 1 : 0);
    }
    return a;
}

static const char *shown_state(const mlf_worker_rec *r, mlf_time_us now)
{
    if (!r->state || strcmp(r->state, "ready") != 0)
        return "offline";
    if (r->last_heartbeat == MLF_TIME_NONE || now - r->last_heartbeat > r->liveness + RECORD_SLACK)
        return "unknown";
    return r->running > 0 ? "running" : "idle";
}

static int add_worker(void *ud, const mlf_worker_rec *r)
{
    json_t *rows = ud;
    mlf_time_us now = mlf_time_now();
    const char *state = shown_state(r, now);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "host", r->host ? json_string(r->host) : json_null());
    json_object_set_new(o, "pid", r->pid ? json_integer(r->pid) : json_null());
    json_object_set_new(o, "slots", json_integer(r->slots));
    json_object_set_new(o, "running", json_integer(strcmp(state, "offline") == 0 ? 0 : r->running));
    json_object_set_new(o, "queues", list_json(r->queues));
    json_object_set_new(o, "operators", list_json(r->operators));
    json_object_set_new(o, "last_heartbeat", mlf_cli_time_json(r->last_heartbeat));
    json_object_set_new(o, "registered_at", mlf_cli_time_json(r->registered_at));
    json_object_set_new(o, "executor", r->executor ? json_string(r->executor) : json_null());
    json_object_set_new(o, "key", r->key ? json_string(r->key) : json_null());
    json_object_set_new(o, "reason", r->reason ? json_string(r->reason) : json_null());
    return json_array_append_new(rows, o) == 0 ? MLF_OK : MLF_ENOMEM;
}

int mlf_cmd_workers_list(mlf_cli *cli)
{
    const char *state = mlf_cli_take_value(cli, "--state", NULL, NULL);
    int rc = mlf_cli_check_args(cli, 0, 0, (const char *const[]){"--state", NULL});
    if (rc)
        return rc;
    static const char *const states[] = {"idle", "running", "offline", "unknown", NULL};
    int known = !state;
    for (const char *const *s = states; state && *s; s++)
        known |= strcmp(*s, state) == 0;
    if (!known)
        return mlf_cli_fail(MLF_EXIT_USAGE, "--state %s: expected idle, running, offline or unknown", state);
    mlf_store *st = mlf_cli_store(cli, 0);
    if (!st)
        return MLF_EXIT_FAILED;
    json_t *all = json_array();
    mlf_store_txn *txn;
    rc = all ? mlf_store_read_begin(st, &txn) : MLF_ENOMEM;
    if (rc == MLF_OK) {
        rc = mlf_store_worker_foreach(txn, add_worker, all);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    if (rc != MLF_OK) {
        json_decref(all);
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot read the workers: %s", mlf_strerror(rc));
    }
    json_t *rows = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
        if (!state || strcmp(json_string_value(json_object_get(o, "state")), state) == 0)
            json_array_append(rows, o);
    json_decref(all);
    if (cli->output == MLF_OUTPUT_JSON) {
        mlf_cli_print_json(cli, rows);
        return MLF_EXIT_OK;
    }
    static const mlf_cli_column cols[] = {{"name", NULL},    {"state", NULL},     {"host", NULL},
                                          {"slots", NULL},   {"running", NULL},   {"queues", NULL},
                                          {"operators", NULL}, {"last_heartbeat", NULL}};
    rc = mlf_cli_print_rows(cli, rows, cols, sizeof cols / sizeof cols[0]);
    json_decref(rows);
    return rc == MLF_OK ? MLF_EXIT_OK : mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
}
