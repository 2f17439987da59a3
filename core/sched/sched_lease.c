/* sched_lease.c -- leases of tries on remote workers: persisted in the turn's batch for the executor, so they
 * are committed before a task leaves, and adopted back after a restart. */
#include "sched/sched_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- leases (remote executors): recorded in the turn's batch, so they are committed before a TASK leaves */

static sti *find_by_attempt(mlf_scheduler *s, const char *attempt)
{
    if (s->submitting && strcmp(s->submitting->attempt, attempt) == 0)
        return s->submitting;
    for (size_t i = 0; i < s->nrunning; i++)
        if (strcmp(s->running[i]->attempt, attempt) == 0)
            return s->running[i];
    return NULL;
}

int mlf_sc_host_persist_lease(void *ud, const char *attempt, const char *worker, mlf_time_us deadline)
{
    mlf_scheduler *s = ud;
    sti *t = find_by_attempt(s, attempt);
    if (t && t->save_pending)
        mlf_sc_flush_tis(s); /* a lease needs its TI's record: a run created this turn has none yet */
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!t || !w)
        return t ? s->store_error : MLF_ENOTFOUND;
    if (t->save_pending) /* a TI of a run created this turn: its record must exist before its lease */
        mlf_sc_flush_tis(s);
    mlf_lease_rec rec;
    mlf_lease_rec_init(&rec);
    rec.dag_id = t->run->rec.dag_id;
    rec.run_id = t->run->rec.run_id;
    rec.task_id = t->run->dag->tasks[t->task].task_id;
    rec.map_index = t->map_index;
    rec.attempt_token = strtoull(attempt, NULL, 16);
    rec.worker = (char *)worker;
    rec.deadline = deadline;
    int rc = mlf_store_lease_put(w, &rec);
    mlf_sc_note_store(s, rc, "lease");
    return rc;
}

void mlf_sc_host_drop_lease(void *ud, const char *attempt)
{
    mlf_scheduler *s = ud;
    sti *t = find_by_attempt(s, attempt);
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!t || !w)
        return;
    mlf_ti_key key = {.dag_id = t->run->rec.dag_id, .run_id = t->run->rec.run_id,
                      .task_id = t->run->dag->tasks[t->task].task_id, .map_index = t->map_index};
    int rc = mlf_store_lease_delete(w, &key);
    if (rc != MLF_ENOTFOUND)
        mlf_sc_note_store(s, rc, "lease");
}

int mlf_sc_host_note(void *ud, const char *attempt, const char *note)
{
    mlf_scheduler *s = ud;
    sti *t = find_by_attempt(s, attempt);
    if (!t)
        return MLF_ENOTFOUND;
    if (note ? t->message && strcmp(t->message, note) == 0 : !t->message)
        return MLF_OK; /* unchanged: no store write */
    mlf_sc_set_message(t, note);
    mlf_sc_save_ti(s, t);
    return MLF_OK;
}

/* After a restart with a remote executor: a try whose lease is in the store may still be running on its
 * worker; the executor takes it back instead of it being failed as a zombie. Returns 1 when adopted. */
int mlf_sc_adopt_leased(mlf_scheduler *s, mlf_store_txn *txn, sti *t, mlf_time_us now)
{
    if (!mlf_executor_can_adopt(s->ex) || !t->attempt[0])
        return 0;
    mlf_ti_key key = {.dag_id = t->run->rec.dag_id, .run_id = t->run->rec.run_id,
                      .task_id = t->run->dag->tasks[t->task].task_id, .map_index = t->map_index};
    mlf_lease_rec lease;
    mlf_lease_rec_init(&lease);
    int adopted = 0;
    if (mlf_store_lease_get(txn, &key, &lease) == MLF_OK && lease.attempt_token == strtoull(t->attempt, NULL, 16)) {
        char *log = mlf_ti_log_path(s->home, key.dag_id, key.run_id, key.task_id, t->map_index, t->try_number);
        adopted = log && mlf_executor_adopt(s->ex, t->attempt, lease.worker, log, now) == MLF_OK;
        free(log);
    }
    mlf_lease_rec_clear(&lease);
    return adopted;
}
