/* sched_workers.c -- the executor's workers in the state store (`mlflowd workers list`): the records the
 * executor hands over with mlf_exec_worker_update() wait here, the latest per worker name, and go into the
 * store with a commit the loop makes anyway. A worker that registers or goes is written in the same turn;
 * heartbeats only move last_heartbeat, so they ride on other commits and, on an idle scheduler, on one
 * commit every MLF_SC_WORKER_FLUSH for all workers together (the scheduler heartbeat's own period). */
#include "sched/sched_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_workers.h"

typedef struct sworker {
    char name[MLF_WORKER_NAME_MAX + 1];
    char written[8];      /* the state of the last record written ("" before the first) */
    mlf_value *pending;   /* the latest record not written yet, or NULL */
    int urgent;           /* the pending record changes the state: write it this turn */
    mlf_time_us since;    /* when the oldest unwritten update came */
} sworker;

static sworker *find_or_add(mlf_scheduler *s, const char *name)
{
    for (size_t i = 0; i < s->nworkers; i++)
        if (strcmp(s->workers[i].name, name) == 0)
            return &s->workers[i];
    if (s->nworkers == s->capworkers) {
        size_t cap = s->capworkers ? 2 * s->capworkers : 16;
        sworker *v = realloc(s->workers, cap * sizeof *v);
        if (!v)
            return NULL;
        s->workers = v;
        s->capworkers = cap;
    }
    sworker *w = &s->workers[s->nworkers++];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    return w;
}

int mlf_sc_host_worker_update(void *ud, const mlf_value *worker)
{
    mlf_scheduler *s = ud;
    const char *name = mlf_value_get_str(mlf_map_get(worker, "name"), NULL);
    const char *state = mlf_value_get_str(mlf_map_get(worker, "state"), NULL);
    sworker *w = name && state ? find_or_add(s, name) : NULL;
    mlf_value *copy = w ? mlf_value_copy(worker) : NULL;
    if (!copy)
        return name && state ? MLF_ENOMEM : MLF_EINVAL;
    if (!w->pending)
        w->since = mlf_time_now();
    mlf_value_free(w->pending);
    w->pending = copy;
    w->urgent |= strcmp(w->written, state) != 0;
    return MLF_OK;
}

static const char *str_of(const mlf_value *m, const char *key)
{
    return mlf_value_get_str(mlf_map_get(m, key), NULL);
}

static int64_t int_of(const mlf_value *m, const char *key, int64_t dflt)
{
    int64_t v;
    return mlf_value_get_int(mlf_map_get(m, key), &v) == MLF_OK ? v : dflt;
}

/* The strings of array @p key of @p m joined with commas (a new string, "" for none; NULL: no memory).
 * Worker names, queues and operators never hold commas (doc/protocol.md: [A-Za-z0-9_.@:+-]). */
static char *joined(const mlf_value *m, const char *key)
{
    const mlf_value *a = mlf_map_get(m, key);
    mlf_buf b = {0};
    for (size_t i = 0; i < mlf_value_len(a); i++) {
        const char *s = mlf_value_get_str(mlf_array_at(a, i), NULL);
        if (s)
            mlf_buf_printf(&b, "%s%s", b.len ? "," : "", s);
    }
    return b.data ? b.data : strdup("");
}

static int write_one(mlf_store_txn *txn, const mlf_value *m)
{
    mlf_worker_rec rec;
    mlf_worker_rec_init(&rec);
    rec.name = (char *)str_of(m, "name");
    rec.executor = (char *)str_of(m, "executor");
    rec.host = (char *)str_of(m, "host");
    rec.pid = int_of(m, "pid", 0);
    rec.state = (char *)str_of(m, "state");
    rec.reason = (char *)str_of(m, "reason");
    rec.slots = (int)int_of(m, "slots", 0);
    rec.running = (int)int_of(m, "running", 0);
    rec.key = (char *)str_of(m, "key");
    rec.registered_at = int_of(m, "registered_at", MLF_TIME_NONE);
    rec.last_heartbeat = int_of(m, "last_heartbeat", MLF_TIME_NONE);
    rec.liveness = int_of(m, "liveness", 0);
    char *queues = joined(m, "queues"), *ops = joined(m, "operators");
    int rc = queues && ops ? MLF_OK : MLF_ENOMEM;
    rec.queues = queues;
    rec.operators = ops;
    if (rc == MLF_OK)
        rc = mlf_store_worker_put(txn, &rec);
    free(queues);
    free(ops);
    return rc;
}

void mlf_sc_flush_workers(mlf_scheduler *s, mlf_time_us now, int force)
{
    int due = force || s->w != NULL;
    for (size_t i = 0; i < s->nworkers && !due; i++) {
        const sworker *w = &s->workers[i];
        due = w->pending && (w->urgent || now - w->since >= MLF_SC_WORKER_FLUSH);
    }
    if (!due)
        return;
    for (size_t i = 0; i < s->nworkers; i++) {
        sworker *w = &s->workers[i];
        if (!w->pending)
            continue;
        mlf_store_txn *txn = mlf_sc_wtxn(s);
        if (!txn)
            return; /* the store failed (logged); the records wait */
        int rc = write_one(txn, w->pending);
        if (rc != MLF_OK && rc != MLF_EINVAL && rc != MLF_ETOOBIG) {
            mlf_sc_note_store(s, rc, "worker record");
            return;
        }
        if (rc != MLF_OK) /* a record the store refuses is dropped, once, loudly */
            mlf_log(MLF_LOG_WARNING, COMPONENT, "dropping the record of worker %s: %s", w->name, mlf_strerror(rc));
        snprintf(w->written, sizeof w->written, "%s", str_of(w->pending, "state"));
        mlf_value_free(w->pending);
        w->pending = NULL;
        w->urgent = 0;
    }
}

void mlf_sc_free_workers(mlf_scheduler *s)
{
    for (size_t i = 0; i < s->nworkers; i++)
        mlf_value_free(s->workers[i].pending);
    free(s->workers);
    s->workers = NULL;
    s->nworkers = s->capworkers = 0;
}
