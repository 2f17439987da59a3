/* sched_callback.c -- the DAG's and tasks' on_* callbacks, sent by notifier processes the loop never waits for. */
#include "sched/sched_internal.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "sched/notify.h"
#include "time/timefmt.h"

/* ------------------------------------------------------------------------------------------ callbacks */

/* Runs callback @p cb ({notifier, config}) for @p event in a child process; never waits for it. */
void mlf_sc_run_callback(mlf_scheduler *s, const mlf_value *cb, const char *which, mlf_value *event)
{
    const char *name = mlf_value_get_str(mlf_map_get(cb, "notifier"), NULL);
    const mlf_reg_entry *e = name ? mlf_catalog_find(s->o.cat, MLF_REG_NOTIFIER, name) : NULL;
    if (!e || !e->owner) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "%s: notifier '%s' is not loaded", which, name ? name : "?");
        return;
    }
    mlf_map_set(event, "callback", mlf_value_str(which));
    pid_t pid;
    int rc = mlf_notify_spawn(s->o.exe, e->owner->path, name, mlf_map_get(cb, "config"), event, &pid);
    if (rc != 0) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "%s: cannot start notifier '%s': %s", which, name, mlf_strerror(rc));
        return;
    }
    pid_t *v = realloc(s->notifiers, (s->nnotifiers + 1) * sizeof *v);
    if (v) {
        s->notifiers = v;
        s->notifiers[s->nnotifiers++] = pid;
    }
}

static mlf_value *ti_event(const sti *t, const char *state)
{
    const srun *r = t->run;
    mlf_value *ev = mlf_value_map();
    char ts[64];
    mlf_time_format_ts(r->rec.logical_date, ts, sizeof ts);
    mlf_map_set(ev, "dag_id", mlf_value_str(r->rec.dag_id));
    mlf_map_set(ev, "run_id", mlf_value_str(r->rec.run_id));
    mlf_map_set(ev, "task_id", mlf_value_str(r->dag->tasks[t->task].task_id));
    mlf_map_set(ev, "map_index", mlf_value_int(t->map_index));
    mlf_map_set(ev, "state", mlf_value_str(state));
    mlf_map_set(ev, "try_number", mlf_value_int(t->try_number));
    mlf_map_set(ev, "logical_date", mlf_value_str(ts));
    mlf_map_set(ev, "message", t->message ? mlf_value_str(t->message) : mlf_value_nil());
    return ev;
}

void mlf_sc_ti_callback(mlf_scheduler *s, const sti *t, mlf_ti_state state)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    const mlf_value *cb = state == MLF_TI_FAILED ? task->on_failure_callback
                          : state == MLF_TI_SUCCESS ? task->on_success_callback
                          : state == MLF_TI_UP_FOR_RETRY ? task->on_retry_callback : NULL;
    if (!cb)
        return;
    mlf_value *ev = ti_event(t, state == MLF_TI_NONE ? "none" : mlf_ti_state_name(state));
    if (ev)
        mlf_sc_run_callback(s, cb, state == MLF_TI_FAILED ? "on_failure_callback"
                            : state == MLF_TI_SUCCESS ? "on_success_callback" : "on_retry_callback", ev);
    mlf_value_free(ev);
}

void mlf_sc_reap_notifiers(mlf_scheduler *s, int wait_ms)
{
    for (int waited = 0;; waited += 10) {
        size_t keep = 0;
        for (size_t i = 0; i < s->nnotifiers; i++) {
            int status;
            pid_t rc = waitpid(s->notifiers[i], &status, WNOHANG);
            if (rc == 0)
                s->notifiers[keep++] = s->notifiers[i];
            else if (rc > 0 && WIFSIGNALED(status))
                mlf_log(MLF_LOG_WARNING, COMPONENT, "a notifier process (pid %d) was killed by signal %d",
                        (int)s->notifiers[i], WTERMSIG(status));
            else if (rc > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                mlf_log(MLF_LOG_WARNING, COMPONENT, "a notifier process (pid %d) failed with exit status %d (see the "
                        "lines above)", (int)s->notifiers[i], WEXITSTATUS(status));
        }
        s->nnotifiers = keep;
        if (!keep || waited >= wait_ms)
            return;
        usleep(10000);
    }
}
