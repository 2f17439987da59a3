/*
 * metrics_sched.c -- what the scheduler's /metrics shows (doc/webserver.md "Metrics"). Everything is read
 * at scrape time in the listener's thread, from one store read transaction and atomics: the loop never
 * waits for a scrape. Label sets are bounded (states, slot kinds).
 */
#include <stdio.h>

#include "store/store_stats.h"
#include "store/store_users.h"
#include "time/timefmt.h"
#include "web/metrics.h"
#include "web/metrics_sched.h"
#include "web/metrics_tries.h"

static int count_dag(void *ud, const mlf_dag_rec *r)
{
    uint64_t *n = ud;
    n[0]++;
    if (r->is_paused)
        n[1]++;
    return 0;
}

int mlf_sched_metrics_collect(void *ud, mlf_buf *out)
{
    const mlf_sched_metrics_src *src = ud;
    mlf_store_stats s;
    int rc = mlf_store_stats_read(src->store, &s);
    if (rc != MLF_OK)
        return rc;
    uint64_t dags[2] = {0, 0};
    mlf_time_us hb = MLF_TIME_NONE;
    mlf_store_txn *txn;
    if (mlf_store_read_begin(src->store, &txn) == MLF_OK) {
        mlf_store_dag_foreach(txn, count_dag, dags);
        mlf_store_heartbeat_get(txn, &hb);
        mlf_metrics_tries_write(out, txn);
        mlf_store_read_end(txn);
    }
    mlf_histogram_write(out, "mlflowd_scheduler_loop_duration_seconds",
                        "Duration of one scheduler loop turn (work and commit, not the wait).", &mlf_metric_loop_turn);
    char labels[64];
    for (int i = 0; i < MLF_TI_STATE_COUNT; i++) {
        snprintf(labels, sizeof labels, "state=\"%s\"", i == MLF_TI_NONE ? "none" : mlf_ti_state_name(i));
        mlf_metric_write(out, "mlflowd_task_instances", "gauge", "Task instances in the store by state.", labels,
                         i == 0, (double)s.tis[i]);
    }
    for (int i = 0; i < MLF_RUN_STATE_COUNT; i++) {
        snprintf(labels, sizeof labels, "state=\"%s\"", mlf_run_state_name(i));
        mlf_metric_write(out, "mlflowd_dag_runs", "gauge", "DAG runs in the store by state.", labels, i == 0,
                         (double)s.runs[i]);
    }
    uint64_t used = s.tis[MLF_TI_RUNNING] + s.tis[MLF_TI_QUEUED];
    uint64_t par = src->parallelism > 0 ? (uint64_t)src->parallelism : 0;
    mlf_metric_write(out, "mlflowd_executor_slots", "gauge",
                     "Executor slots (parallelism) used by queued and running task instances, and free.",
                     "kind=\"used\"", 1, (double)used);
    mlf_metric_write(out, "mlflowd_executor_slots", "gauge", "", "kind=\"free\"", 0,
                     (double)(used < par ? par - used : 0));
    mlf_metric_write(out, "mlflowd_queued_task_instances", "gauge", "Task instances queued for an executor.", NULL,
                     0, (double)s.tis[MLF_TI_QUEUED]);
    mlf_metric_write(out, "mlflowd_dags", "gauge", "DAGs the scheduler knows.", NULL, 0, (double)dags[0]);
    mlf_metric_write(out, "mlflowd_dags_paused", "gauge", "Paused DAGs.", NULL, 0, (double)dags[1]);
    mlf_metric_write(out, "mlflowd_dag_import_errors", "gauge", "DAG files that failed to load.", NULL, 0,
                     (double)s.import_errors);
    mlf_metric_write(out, "mlflowd_lmdb_map_size_bytes", "gauge", "Size of the LMDB map.", NULL, 0,
                     (double)s.map_size);
    mlf_metric_write(out, "mlflowd_lmdb_used_bytes", "gauge", "Bytes of the LMDB map in use.", NULL, 0,
                     (double)s.used_size);
    if (hb != MLF_TIME_NONE)
        mlf_metric_write(out, "mlflowd_scheduler_heartbeat_timestamp_seconds", "gauge",
                         "When the scheduler last recorded its heartbeat (Unix time).", NULL, 0, (double)hb / 1e6);
    return MLF_OK;
}
