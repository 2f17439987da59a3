/* sched_result.c -- results from the executor: success (with branching and XComs), skip, reschedule, retry with
 * (exponential) delay, failure; timers that bring retries and reschedules back. */
#include "sched/sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "web/metrics_tries.h"
#include "time/duration.h"

/* ------------------------------------------------------------------------------------------ results */

int64_t mlf_sc_retry_delay(const mlf_task *task, int try_number)
{
    int64_t delay = task->retry_delay_us;
    if (task->retry_exponential_backoff) {
        /* Airflow: retry_delay * 2 ** (try_number - 1), capped by max_retry_delay */
        for (int i = 1; i < try_number && delay < MAX_RETRY_DELAY_US; i++)
            delay *= 2;
    }
    int64_t cap = task->max_retry_delay_us ? task->max_retry_delay_us : MAX_RETRY_DELAY_US;
    return delay < cap ? delay : cap;
}

void mlf_sc_store_xcoms(mlf_scheduler *s, sti *t, const mlf_value *xcoms)
{
    srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    mlf_store_txn *w = mlf_sc_wtxn(s);
    mlf_ti_key key = {.dag_id = r->rec.dag_id, .run_id = r->rec.run_id, .task_id = task->task_id, .map_index = t->map_index};
    for (size_t i = 0; i < mlf_value_len(xcoms); i++) {
        void *buf;
        size_t len;
        if (w && mlf_value_pack(mlf_map_value_at(xcoms, i), &buf, &len) == MLF_OK) {
            mlf_sc_note_store(s, mlf_store_xcom_put(w, &key, mlf_map_key_at(xcoms, i), buf, len), "xcom");
            free(buf);
        }
    }
    /* the run's cache: task -> {key: value}, or task -> [ {key: value} per map index ] */
    if (task->expand) {
        const mlf_value *arr = mlf_map_get(r->xcoms, task->task_id);
        if (!arr) {
            mlf_value *na = mlf_value_array();
            for (size_t i = 0; na && i < r->tasks[t->task].ntis; i++)
                mlf_array_append(na, mlf_value_map());
            mlf_map_set(r->xcoms, task->task_id, na);
            arr = mlf_map_get(r->xcoms, task->task_id);
        }
        mlf_value *slot = (mlf_value *)mlf_array_at(arr, (size_t)t->map_index);
        for (size_t i = 0; slot && i < mlf_value_len(xcoms); i++)
            mlf_map_set(slot, mlf_map_key_at(xcoms, i), mlf_value_copy(mlf_map_value_at(xcoms, i)));
    } else {
        mlf_value *m = mlf_value_copy(xcoms);
        if (m)
            mlf_map_set(r->xcoms, task->task_id, m);
    }
    const mlf_value *per = mlf_map_get(r->xcoms, task->task_id);
    if (per && r->xcom_view)
        mlf_map_set(r->xcom_view, task->task_id, mlf_sc_xcom_view(per));
}

/* Marks @p task and everything downstream of it in @p in (one byte per task of the DAG), with @p stack
 * (room for one index per task) as the worklist: each task is pushed at most once. */
static void mark_downstream(const mlf_dag *dag, size_t task, unsigned char *in, size_t *stack)
{
    if (in[task])
        return;
    size_t n = 0;
    in[task] = 1;
    stack[n++] = task;
    while (n) {
        const mlf_task *t = &dag->tasks[stack[--n]];
        for (size_t d = 0; d < t->ndownstream; d++)
            if (!in[t->downstream[d]]) {
                in[t->downstream[d]] = 1;
                stack[n++] = t->downstream[d];
            }
    }
}

/* Branching, as Airflow's skip_all_except: the followed set is every task the operator followed plus
 * everything downstream of those; each direct downstream task outside that set is skipped. (In
 * branch -> a -> join with branch -> join too, following a does not skip join.) */
static void apply_branch(mlf_scheduler *s, sti *t, const mlf_task_result *res)
{
    srun *r = t->run;
    const mlf_dag *dag = r->dag;
    const mlf_task *task = &dag->tasks[t->task];
    unsigned char *followed = calloc(dag->ntasks ? dag->ntasks : 1, 1);
    size_t *stack = malloc((dag->ntasks ? dag->ntasks : 1) * sizeof *stack);
    if (!followed || !stack) {
        free(followed);
        free(stack);
        mlf_log(MLF_LOG_ERROR, COMPONENT, "%s/%s/%s: out of memory applying the branch", r->rec.dag_id,
                r->rec.run_id, task->task_id);
        return;
    }
    for (size_t f = 0; f < res->nfollowed; f++) {
        long idx = mlf_dag_task_index(dag, res->followed[f]);
        if (idx >= 0)
            mark_downstream(dag, (size_t)idx, followed, stack);
    }
    for (size_t d = 0; d < task->ndownstream; d++) {
        size_t ds = task->downstream[d];
        if (!followed[ds] && !r->tasks[ds].decided)
            mlf_sc_decide(s, r, ds, MLF_TRIGGER_SKIP);
    }
    free(followed);
    free(stack);
}

void mlf_sc_on_result(void *ud, const mlf_task_result *res)
{
    mlf_scheduler *s = ud;
    sti *t = mlf_sc_take_running(s, res->attempt);
    if (!t) {
        mlf_log(MLF_LOG_WARNING, COMPONENT, "ignoring a result for attempt %s: it is not the current try of any task",
                res->attempt);
        return;
    }
    mlf_sc_release_slots(s, t);
    srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    mlf_time_us now = mlf_time_now();
    free(t->hostname);
    t->hostname = res->hostname ? strdup(res->hostname) : NULL;
    t->pid = (int)res->pid;
    if (res->start_date)
        t->start_date = res->start_date;
    t->end_date = res->end_date ? res->end_date : now;
    mlf_metrics_try_ended(r->rec.dag_id, task->task_id, res->outcome, res->message, t->start_date, t->end_date);
    if (mlf_value_len(res->xcoms))
        mlf_sc_store_xcoms(s, t, res->xcoms);
    switch (res->outcome) {
    case MLF_SUCCESS:
        if (task->op->flags & MLF_OP_BRANCH)
            apply_branch(s, t, res);
        mlf_sc_cache_record(s, t, res->xcoms, now); /* a no-op unless the task has cache: */
        mlf_sc_finish_ti(s, t, MLF_TI_SUCCESS, res->message);
        mlf_sc_record_outlets(s, t, res->xcoms); /* assets (doc/assets.md) */
        break;
    case MLF_SKIPPED:
        mlf_sc_finish_ti(s, t, MLF_TI_SKIPPED, res->message);
        break;
    case MLF_RESCHEDULE:
        if ((task->op->flags & MLF_OP_SENSOR) && now - t->first_poke_at >= task->sensor.timeout_us) {
            mlf_sc_finish_ti(s, t, task->sensor.soft_fail ? MLF_TI_SKIPPED : MLF_TI_FAILED,
                      task->sensor.soft_fail ? "sensor timed out; skipped (soft_fail)" : "sensor timed out");
            break;
        }
        /* a reschedule is not a try (Airflow gives the try number back) */
        t->try_number--;
        t->state = MLF_TI_UP_FOR_RESCHEDULE;
        {
            int64_t interval = task->sensor.poke_interval_us;
            t->wake_at = res->reschedule_at > now ? res->reschedule_at : now + interval;
        }
        mlf_sc_set_message(t, res->message);
        mlf_sc_save_ti(s, t);
        t->in_timer = 1;
        mlf_sc_heap_push(&s->timers, t, mlf_sc_timer_before);
        break;
    case MLF_FAILED:
        if (t->try_number < t->max_tries) {
            t->state = MLF_TI_UP_FOR_RETRY;
            int64_t delay = mlf_sc_retry_delay(task, t->try_number);
            t->wake_at = now + delay;
            mlf_sc_set_message(t, res->message);
            mlf_sc_save_ti(s, t);
            t->in_timer = 1;
            mlf_sc_heap_push(&s->timers, t, mlf_sc_timer_before);
            mlf_sc_ti_callback(s, t, MLF_TI_UP_FOR_RETRY);
            char in[32];
            if (mlf_duration_format(delay, in, sizeof in) != MLF_OK)
                snprintf(in, sizeof in, "%lld us", (long long)delay);
            mlf_log(MLF_LOG_INFO, COMPONENT, "%s/%s/%s try %d failed (%s); retrying in %s", r->rec.dag_id,
                    r->rec.run_id, task->task_id, t->try_number, res->message ? res->message : "no message", in);
            break;
        }
        /* fall through */
    case MLF_FAILED_NO_RETRY:
    default:
        mlf_sc_finish_ti(s, t, MLF_TI_FAILED, res->message);
        break;
    }
}

void mlf_sc_process_timers(mlf_scheduler *s, mlf_time_us now)
{
    while (s->timers.n && s->timers.v[0]->wake_at <= now) {
        sti *t = mlf_sc_heap_pop(&s->timers, mlf_sc_timer_before);
        t->in_timer = 0;
        if (t->state == MLF_TI_UP_FOR_RETRY || t->state == MLF_TI_UP_FOR_RESCHEDULE)
            mlf_sc_schedule_ti(s, t);
    }
}
