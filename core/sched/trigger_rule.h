/* trigger_rule.h -- what a task instance's trigger rule says, given the final states of its direct upstreams.
 *
 * One pure function with the behaviour of Apache Airflow's TriggerRuleDep (airflow/ti_deps/deps/
 * trigger_rule_dep.py, _get_dep_statuses + _evaluate_direct_relatives) as the scheduler runs it, that is
 * with DepContext(flag_upstream_failed=True): besides "met" / "not met yet" it says when the rule can
 * never be met and the TI must become skipped or upstream_failed right away.
 *
 * all_done_setup_success reads three more counters, over the direct upstreams that are setup tasks
 * (setup_total, setup_success, setup_skipped; the scheduler fills them only for a task with that rule).
 * Airflow's other setup check, _evaluate_setup_constraint (indirect setups), is the scheduler's
 * (sched_setup.c). Not covered: the removed-upstream corrections Airflow applies to a TI that is itself an
 * expanded mapped instance (map_index > -1). Every TI evaluated here behaves like Airflow's map_index -1.
 *
 * Incremental use, for the scheduler:
 *  - The decision is a function of the counters alone (no time, no order). Counters change only when a
 *    direct upstream TI enters a finished state (success, skipped, failed, upstream_failed, removed:
 *    Airflow's State.finished) or leaves one (a clear). Moves between unfinished states (none, scheduled,
 *    queued, running, up_for_retry, up_for_reschedule, deferred) change nothing: a failed try that
 *    will be retried is not "failed" here. So: evaluate a TI once when it is created (no upstream, or
 *    rule always: RUN at once), then again only when one of its direct upstreams finishes. No scans.
 *  - `total` counts upstream TIs, not tasks: a mapped upstream contributes its expanded TIs. When an
 *    upstream is expanded, `total` changes, and its downstreams must be evaluated again then.
 *  - Any decision other than WAIT is final: apply it and stop evaluating that TI (Airflow's TI leaves
 *    the schedulable states). Re-evaluate from freshly computed counters only after a clear.
 *  - Apply every upstream result of one loop turn before evaluating: Airflow evaluates against all TIs
 *    finished at that time, and with all_success a failure outranks a skip (failed + skipped gives
 *    UPSTREAM_FAILED; a skip evaluated alone first gives SKIP, which is then final). That is the only
 *    decision that a later upstream result could have changed.
 *  - Which finishing upstream can end a WAIT, per rule (S success, K skipped, F failed,
 *    U upstream_failed, R removed):
 *      all_success       F/U -> UPSTREAM_FAILED at once; K -> SKIP at once; S -> RUN when all are S
 *      all_failed        S/K -> SKIP at once; F/U -> RUN when all are F or U
 *      all_done          any -> RUN when all are done
 *      all_done_min_one_success  K -> SKIP at once; otherwise when all are done: RUN with >= 1 S,
 *                        else UPSTREAM_FAILED
 *      all_skipped       S/F/U -> SKIP at once; K -> RUN when all are K
 *      one_success       S -> RUN at once; when all are done with no S: SKIP if all are K,
 *                        else UPSTREAM_FAILED
 *      one_failed        F/U -> RUN at once; when all are done with no F/U: SKIP
 *      one_done          S/F -> RUN at once; when all are done with no S/F: SKIP
 *      none_failed       F/U -> UPSTREAM_FAILED at once; S/K -> RUN when all are S or K
 *      none_failed_min_one_success  F/U -> UPSTREAM_FAILED at once; when all are S or K:
 *                        SKIP if all are K, else RUN
 *      none_skipped      K -> SKIP at once; any -> RUN when all are done without K
 *      always            RUN, never evaluated again
 *  - A removed upstream counts as done but as none of success/skipped/failed. So with all_success,
 *    all_failed, all_skipped, none_failed and none_failed_min_one_success a TI whose upstreams are all
 *    done can still get WAIT for ever (e.g. all_success with one removed, the rest success). Airflow
 *    leaves such a TI unscheduled and then fails the DAG run as deadlocked; so should the scheduler.
 *  - Airflow's per-task option wait_for_past_depends_before_skipping (default off; with depends_on_past,
 *    a SKIP is held back while the previous run's TI is unmet) is not a task key of ours; it would belong
 *    to the scheduler's depends_on_past check, not to this function.
 */
#ifndef MLF_CORE_TRIGGER_RULE_H
#define MLF_CORE_TRIGGER_RULE_H

#include "dag/dag.h"

/** Counters over the DIRECT upstream TIs of one TI. `total` is how many there are; the five others count
 * those in each finished state. Those not counted are unfinished. Expected: the five sum to <= total. */
typedef struct mlf_upstream_counts {
    unsigned total;
    unsigned success;
    unsigned skipped;
    unsigned failed;
    unsigned upstream_failed;
    unsigned removed;
    unsigned setup_total, setup_success, setup_skipped; /**< among them, setup tasks' TIs (all, success,
                                                             skipped): read by all_done_setup_success only */
} mlf_upstream_counts;

/** What the scheduler does with the TI. */
typedef enum mlf_trigger_decision {
    MLF_TRIGGER_WAIT = 0,          /**< not met yet, but may become met: leave the TI as it is */
    MLF_TRIGGER_RUN,               /**< met: the TI may be scheduled */
    MLF_TRIGGER_SKIP,              /**< can never be met: the TI becomes skipped */
    MLF_TRIGGER_UPSTREAM_FAILED    /**< can never be met: the TI becomes upstream_failed */
} mlf_trigger_decision;

/** Evaluates trigger rule @p rule against the counters @p c (not NULL) of one TI's direct upstreams,
 * the way Airflow's scheduler does (see the top of this file). total == 0 gives RUN for every rule, and
 * MLF_TR_ALWAYS always gives RUN. Counters that sum past `total` are evaluated with Airflow's formulas
 * all the same (they count as all done); no arithmetic wraps. A rule outside the enum gives WAIT (Airflow:
 * "No strategy to evaluate trigger rule"). Pure: no allocation, no errors, safe from any thread. */
mlf_trigger_decision mlf_trigger_evaluate(mlf_trigger_rule rule, const mlf_upstream_counts *c);

/** A static lower-case name for @p d ("wait", "run", "skip", "upstream_failed"), or "unknown". */
const char *mlf_trigger_decision_name(mlf_trigger_decision d);

#endif
