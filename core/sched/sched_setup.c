/* sched_setup.c -- what setup tasks decide for the tasks after them (Airflow 2.7+, doc/dags.md): the
 * setup counters of all_done_setup_success and Airflow's setup constraint on indirect setups
 * (ti_deps/deps/trigger_rule_dep.py, _evaluate_setup_constraint). */
#include "sched/sched_internal.h"

void mlf_sc_count_setups(const srun *r, size_t task, mlf_upstream_counts *c)
{
    const mlf_task *t = &r->dag->tasks[task];
    c->setup_total = c->setup_success = c->setup_skipped = 0;
    for (size_t u = 0; u < t->nupstream; u++) {
        if (!r->dag->tasks[t->upstream[u]].is_setup)
            continue;
        const stask *st = &r->tasks[t->upstream[u]];
        if (!st->expanded) { /* a mapped setup not expanded yet counts as one unfinished TI */
            c->setup_total++;
            continue;
        }
        for (size_t k = 0; k < st->ntis; k++) {
            c->setup_total++;
            c->setup_success += st->tis[k]->state == MLF_TI_SUCCESS;
            c->setup_skipped += st->tis[k]->state == MLF_TI_SKIPPED;
        }
    }
}

mlf_trigger_decision mlf_sc_setup_constraint(const srun *r, size_t task)
{
    const mlf_task *t = &r->dag->tasks[task];
    if (t->is_teardown) /* "a teardown cannot have any indirect setups" */
        return MLF_TRIGGER_RUN;
    int failed = 0, skipped = 0, unmet = 0;
    for (size_t i = 0; i < t->nsetups; i++) {
        size_t s = t->setups[i], direct = 0;
        for (size_t u = 0; u < t->nupstream && !direct; u++)
            direct = t->upstream[u] == s;
        if (direct) /* direct setups are the trigger rule's */
            continue;
        const stask *st = &r->tasks[s];
        unmet |= !st->expanded;
        for (size_t k = 0; k < st->ntis; k++) {
            mlf_ti_state state = st->tis[k]->state;
            failed |= state == MLF_TI_FAILED || state == MLF_TI_UPSTREAM_FAILED;
            skipped |= state == MLF_TI_SKIPPED;
            unmet |= state != MLF_TI_SUCCESS;
        }
    }
    if (failed)
        return MLF_TRIGGER_UPSTREAM_FAILED;
    if (skipped)
        return MLF_TRIGGER_SKIP;
    return unmet ? MLF_TRIGGER_WAIT : MLF_TRIGGER_RUN;
}

void mlf_sc_wake_setup_waiters(mlf_scheduler *s, srun *r, size_t task)
{
    const mlf_task *t = &r->dag->tasks[task];
    for (size_t i = 0; i < t->nsetup_waiters; i++)
        mlf_sc_mark_dirty(s, r, t->setup_waiters[i]);
}
