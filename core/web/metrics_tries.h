/*
 * metrics_tries.h -- the scheduler's try counters, task durations by DAG and task, zombies and DAG file parse
 * times for /metrics (doc/webserver.md "Metrics"). The scheduler loop records with relaxed atomic adds only
 * (no lock; a (dag, task) series is allocated once, the first time that task ends a try); the /metrics thread
 * reads them at scrape time.
 */
#ifndef MLF_CORE_METRICS_TRIES_H
#define MLF_CORE_METRICS_TRIES_H

#include "store/store.h"
#include "web/metrics.h"

/** At most this many (dag, task) duration series; tries of further tasks are counted as dropped. */
#define MLF_METRICS_TASK_SERIES 4096

/** A try was handed to an executor. Called by the scheduler loop only. */
void mlf_metrics_try_started(void);
/** A try ended with @p outcome (an mlf_outcome of sdk/mlflowd/plugin.h), having run from @p start to @p end
 * (microseconds; no duration is observed when @p start is unset). @p message is the try's message: one
 * starting with "zombie" counts as a zombie. Called by the scheduler loop only. */
void mlf_metrics_try_ended(const char *dag_id, const char *task_id, int outcome, const char *message,
                           mlf_time_us start, mlf_time_us end);
/** A try was found to be a zombie without an executor's result (scheduler recovery). */
void mlf_metrics_zombie(void);
/** One DAG file took @p us microseconds to parse. Any thread. */
void mlf_metrics_dag_parse(long long us);

/** Appends the counters and histograms above to @p out. Duration series are written only for DAGs that
 * @p txn lists as active (a DAG file still defines them), which bounds the label set by what is loaded. */
void mlf_metrics_tries_write(mlf_buf *out, mlf_store_txn *txn);

#endif
