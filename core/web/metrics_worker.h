/*
 * metrics_worker.h -- what a worker's /metrics shows (worker.metrics_listen; doc/webserver.md "Metrics"):
 * heartbeats to and from the scheduler, the round trip of a result to its ACK, slots used and free, tries
 * run. The worker's loop records with relaxed atomic stores and adds only; the listener's thread reads.
 */
#ifndef MLF_CORE_METRICS_WORKER_H
#define MLF_CORE_METRICS_WORKER_H

#include "web/metrics.h"

/** The worker sent a heartbeat to the scheduler. */
void mlf_worker_metrics_heartbeat_sent(void);
/** A heartbeat from the scheduler arrived. */
void mlf_worker_metrics_heartbeat_received(void);
/** The scheduler acknowledged a result @p us microseconds after the worker (last) sent it. */
void mlf_worker_metrics_rtt(long long us);
/** @p used of the worker's @p total slots hold a try (once per loop turn). */
void mlf_worker_metrics_slots(long long used, long long total);
/** A try the worker ran ended with @p outcome (an mlf_outcome); failed outcomes are counted apart. */
void mlf_worker_metrics_try_done(int outcome);

/** An mlf_metrics_collect_fn (@p ud unused): writes the worker's metrics. Returns MLF_OK. */
int mlf_worker_metrics_collect(void *ud, mlf_buf *out);

#endif
