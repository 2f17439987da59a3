/* trigger_rule.c -- Airflow's trigger rules (see trigger_rule.h).
 *
 * Transcribes Apache Airflow's airflow/ti_deps/deps/trigger_rule_dep.py (TriggerRuleDep; in Airflow 3
 * airflow-core/src/airflow/ti_deps/deps/trigger_rule_dep.py) for an unmapped TI (map_index == -1) with
 * DepContext(flag_upstream_failed=True), as DagRun.task_instance_scheduling_decisions() uses it:
 *   1. new_state():  the "if dep_context.flag_upstream_failed:" block, which sets the TI to skipped or
 *                    upstream_failed when the rule can never be met;
 *   2. rule_met():   the failing-status checks that follow it;
 *   3. mlf_trigger_evaluate(): DagRun._get_ready_tis() only queues a TI that is still in a schedulable
 *                    state, so a state set in step 1 wins over a passing step 2.
 * The counters are Airflow's _UpstreamTIStates; `done` is their sum, like _UpstreamTIStates.calculate()
 * summing every finished state (State.finished: success, failed, skipped, upstream_failed, removed).
 * The arithmetic is done in long long so that Airflow's subtractions ("upstream - success > 0") keep
 * their meaning whatever the counters are. */
#include "sched/trigger_rule.h"

/* Airflow's local variables of _evaluate_direct_relatives(). */
typedef struct counts {
    long long upstream, success, skipped, failed, upstream_failed, removed, done;
    long long upstream_setup, success_setup, skipped_setup;
} counts;

/* "if dep_context.flag_upstream_failed:" -- the decision when the rule can already never be met,
 * or MLF_TRIGGER_WAIT when it still can. The all_success "removed and success and ti.map_index > -1"
 * branch (new state REMOVED) needs a mapped TI and cannot be taken here. */
static mlf_trigger_decision new_state(mlf_trigger_rule rule, const counts *n)
{
    int upstream_done = n->done >= n->upstream;

    switch (rule) {
    case MLF_TR_ALL_SUCCESS:
        /* "Skipped tasks will cascade through trigger rules all_success and all_failed" (Airflow docs,
         * core-concepts/dags.rst, Trigger Rules); a failure outranks a skip. */
        if (n->upstream_failed || n->failed)
            return MLF_TRIGGER_UPSTREAM_FAILED;
        if (n->skipped)
            return MLF_TRIGGER_SKIP;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_ALL_FAILED:
        if (n->success || n->skipped)
            return MLF_TRIGGER_SKIP;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_ONE_SUCCESS:
        /* Airflow PR #15467: all skipped -> skipped, otherwise no success at all -> upstream_failed. */
        if (upstream_done && n->done == n->skipped)
            return MLF_TRIGGER_SKIP;
        if (upstream_done && n->success <= 0)
            return MLF_TRIGGER_UPSTREAM_FAILED;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_ONE_FAILED:
        if (upstream_done && !(n->failed || n->upstream_failed))
            return MLF_TRIGGER_SKIP;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_ONE_DONE:
        if (upstream_done && !(n->failed || n->success))
            return MLF_TRIGGER_SKIP;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_NONE_FAILED:
        if (n->upstream_failed || n->failed)
            return MLF_TRIGGER_UPSTREAM_FAILED;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_NONE_FAILED_MIN_ONE_SUCCESS:
        if (n->upstream_failed || n->failed)
            return MLF_TRIGGER_UPSTREAM_FAILED;
        if (n->skipped == n->upstream)
            return MLF_TRIGGER_SKIP;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_NONE_SKIPPED:
        if (n->skipped)
            return MLF_TRIGGER_SKIP;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_ALL_SKIPPED:
        if (n->success || n->failed || n->upstream_failed)
            return MLF_TRIGGER_SKIP;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_ALL_DONE_MIN_ONE_SUCCESS: {
        /* Airflow 3.1 (PR #53959). Skipped upstreams are "not done" for this rule, so one skip skips the
         * TI; the maintainers confirmed this against the docs' wording in PR #59954 / issue #59925. */
        long long non_skipped_done = n->success + n->failed + n->upstream_failed + n->removed;
        long long non_skipped_upstream = n->upstream - n->skipped;
        if (n->skipped > 0)
            return MLF_TRIGGER_SKIP;
        if (non_skipped_done >= non_skipped_upstream && n->success == 0)
            return MLF_TRIGGER_UPSTREAM_FAILED;
        return MLF_TRIGGER_WAIT;
    }
    case MLF_TR_ALL_DONE_SETUP_SUCCESS:
        /* all setups skipped: skipped; no setup succeeded: upstream_failed ("if at least one setup ran,
         * we'll let it run") */
        if (upstream_done && n->upstream_setup && n->skipped_setup >= n->upstream_setup)
            return MLF_TRIGGER_SKIP;
        if (upstream_done && n->upstream_setup && n->success_setup == 0)
            return MLF_TRIGGER_UPSTREAM_FAILED;
        return MLF_TRIGGER_WAIT;
    case MLF_TR_ALL_DONE:
    case MLF_TR_ALWAYS:
    case MLF_TR_COUNT:
        break;
    }
    return MLF_TRIGGER_WAIT;
}

/* The failing-status checks after the flag block: 1 when the dep passes. The "if ti.map_index > -1"
 * corrections by `removed` do not apply to an unmapped TI. */
static int rule_met(mlf_trigger_rule rule, const counts *n)
{
    int upstream_done = n->done >= n->upstream;

    switch (rule) {
    case MLF_TR_ONE_SUCCESS:
        return n->success > 0;
    case MLF_TR_ONE_FAILED:
        return n->failed || n->upstream_failed;
    case MLF_TR_ONE_DONE:
        return n->success + n->failed > 0;
    case MLF_TR_ALL_SUCCESS:
        return n->upstream - n->success <= 0;
    case MLF_TR_ALL_FAILED:
        return n->upstream - n->failed - n->upstream_failed <= 0;
    case MLF_TR_ALL_DONE:
        return upstream_done;
    case MLF_TR_NONE_FAILED:
    case MLF_TR_NONE_FAILED_MIN_ONE_SUCCESS:
        /* Both pass on "no failures"; min_one_success gets its "min one" from the SKIP above. */
        return n->upstream - n->success - n->skipped <= 0;
    case MLF_TR_NONE_SKIPPED:
        return upstream_done && n->skipped <= 0;
    case MLF_TR_ALL_SKIPPED:
        return n->upstream - n->skipped <= 0;
    case MLF_TR_ALL_DONE_MIN_ONE_SUCCESS: {
        long long non_skipped_done = n->success + n->failed + n->upstream_failed + n->removed;
        long long non_skipped_upstream = n->upstream - n->skipped;
        if (n->skipped > 0 || non_skipped_done < non_skipped_upstream)
            return 0;
        return n->success != 0;
    }
    case MLF_TR_ALL_DONE_SETUP_SUCCESS:
        return upstream_done && !(n->upstream_setup && !n->success_setup);
    case MLF_TR_ALWAYS: /* handled by the caller, as in _get_dep_statuses() */
    case MLF_TR_COUNT:
        break;
    }
    return 0; /* "No strategy to evaluate trigger rule" */
}

mlf_trigger_decision mlf_trigger_evaluate(mlf_trigger_rule rule, const mlf_upstream_counts *c)
{
    /* _get_dep_statuses(): "The task instance did not have any upstream tasks." and
     * "The task had a always trigger rule set." both pass before any counting. */
    if (c->total == 0 || rule == MLF_TR_ALWAYS)
        return MLF_TRIGGER_RUN;

    counts n = {
        .upstream = c->total,
        .success = c->success,
        .skipped = c->skipped,
        .failed = c->failed,
        .upstream_failed = c->upstream_failed,
        .removed = c->removed,
        .upstream_setup = c->setup_total,
        .success_setup = c->setup_success,
        .skipped_setup = c->setup_skipped,
    };
    n.done = n.success + n.skipped + n.failed + n.upstream_failed + n.removed;

    mlf_trigger_decision d = new_state(rule, &n);
    if (d != MLF_TRIGGER_WAIT)
        return d;
    return rule_met(rule, &n) ? MLF_TRIGGER_RUN : MLF_TRIGGER_WAIT;
}

const char *mlf_trigger_decision_name(mlf_trigger_decision d)
{
    switch (d) {
    case MLF_TRIGGER_WAIT:
        return "wait";
    case MLF_TRIGGER_RUN:
        return "run";
    case MLF_TRIGGER_SKIP:
        return "skip";
    case MLF_TRIGGER_UPSTREAM_FAILED:
        return "upstream_failed";
    }
    return "unknown";
}
