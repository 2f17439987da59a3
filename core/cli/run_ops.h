/*
 * run_ops.h -- the state changes a person makes by hand (pause, clear, mark success/failed), shared by
 * the CLI and the webserver so that both change the store in exactly the same way. Each function is one
 * write batch on @p st (it blocks while another process writes, as any CLI command does). A running
 * scheduler picks the changes up at its next turn.
 */
#ifndef MLF_CORE_RUN_OPS_H
#define MLF_CORE_RUN_OPS_H

#include <stddef.h>

#include "base/strutil.h"
#include "dag/dag.h"
#include "store/store.h"

/** Pauses (@p paused 1) or unpauses @p dag, creating its DAG record when the scheduler has not yet.
 * Returns MLF_OK or a store error. */
int mlf_ops_set_paused(mlf_store *st, const mlf_dag *dag, int paused);

/** What mlf_ops_clear() clears. */
typedef struct mlf_clear_opts {
    const unsigned char *selected; /**< per task index of the DAG: 1 to clear (closures already applied) */
    mlf_time_us start, end;        /**< logical dates, inclusive; INT64_MIN / INT64_MAX: no bound */
    const char *run_id;            /**< NULL: every run in [start, end]; else only this run */
    int only_failed;               /**< clear only failed and upstream_failed task instances */
    int dry;                       /**< only count (and list) what would be cleared, in a read transaction */
    mlf_buf *listing;              /**< dry: receives "  run_id task_id[map_index] (state)" lines (first 50) */
    int no_cache;                  /**< their next try ignores cached results (doc/caching.md) */
} mlf_clear_opts;

/** Clears the selected task instances of @p dag (as `tasks clear`), with the setups and teardowns Airflow
 * clears along (mlf_dag_select_setups_teardowns): their state goes back to none, their
 * retries are given again, and their runs are queued again. *@p cleared receives how many were cleared (with
 * o->dry: how many would be, nothing written). Returns MLF_OK or a store error. */
int mlf_ops_clear(mlf_store *st, const mlf_dag *dag, const mlf_clear_opts *o, size_t *cleared);

/** Marks every task of @p dag selected in @p selected (all when NULL) of run @p run_id with @p state
 * (success or failed; a mapped task's instances too), setting the end date of those that had none.
 * *@p marked receives how many changed. Errors: MLF_ENOTFOUND (no such run), MLF_EINVAL (another
 * state), store errors. */
int mlf_ops_mark_tis(mlf_store *st, const mlf_dag *dag, const char *run_id, const unsigned char *selected,
                     mlf_ti_state state, size_t *marked);

/** Sets the state of run @p run_id of @p dag_id to @p state (queued, success or failed; success and failed
 * also mark its unfinished task instances so). Errors: MLF_ENOTFOUND, store errors. */
int mlf_ops_mark_run(mlf_store *st, const char *dag_id, const char *run_id, mlf_run_state state);

/** Adds to @p sel every task upstream (@p downstream 0) or downstream (1) of task @p t, transitively. */
void mlf_ops_select_closure(const mlf_dag *d, size_t t, int downstream, unsigned char *sel);

#endif
