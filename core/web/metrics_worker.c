/* metrics_worker.c -- a worker's /metrics (metrics_worker.h). */
#include <stdatomic.h>

#include "web/metrics_worker.h"

#include <mlflowd/plugin.h>

static atomic_ullong hb_sent, hb_received, tries_run, tries_failed;
static atomic_llong slots_used, slots_total;
static mlf_histogram rtt;

void mlf_worker_metrics_heartbeat_sent(void) { atomic_fetch_add_explicit(&hb_sent, 1, memory_order_relaxed); }

void mlf_worker_metrics_heartbeat_received(void)
{
    atomic_fetch_add_explicit(&hb_received, 1, memory_order_relaxed);
}

void mlf_worker_metrics_rtt(long long us) { mlf_histogram_observe(&rtt, us); }

void mlf_worker_metrics_slots(long long used, long long total)
{
    atomic_store_explicit(&slots_used, used, memory_order_relaxed);
    atomic_store_explicit(&slots_total, total, memory_order_relaxed);
}

void mlf_worker_metrics_try_done(int outcome)
{
    atomic_fetch_add_explicit(&tries_run, 1, memory_order_relaxed);
    if (outcome == MLF_FAILED || outcome == MLF_FAILED_NO_RETRY)
        atomic_fetch_add_explicit(&tries_failed, 1, memory_order_relaxed);
}

int mlf_worker_metrics_collect(void *ud, mlf_buf *out)
{
    (void)ud;
    mlf_metric_write(out, "mlflowd_worker_heartbeats_sent_total", "counter", "Heartbeats sent to the scheduler.",
                     NULL, 0, (double)atomic_load_explicit(&hb_sent, memory_order_relaxed));
    mlf_metric_write(out, "mlflowd_worker_heartbeats_received_total", "counter",
                     "Heartbeats received from the scheduler.", NULL, 0,
                     (double)atomic_load_explicit(&hb_received, memory_order_relaxed));
    mlf_histogram_write(out, "mlflowd_worker_result_rtt_seconds",
                        "Round trip to the scheduler: from sending a try's result to its acknowledgement.", &rtt);
    long long used = atomic_load_explicit(&slots_used, memory_order_relaxed);
    long long total = atomic_load_explicit(&slots_total, memory_order_relaxed);
    mlf_metric_write(out, "mlflowd_worker_slots", "gauge", "The worker's slots (concurrency) holding a try, and free.",
                     "kind=\"used\"", 1, (double)used);
    mlf_metric_write(out, "mlflowd_worker_slots", "gauge", "", "kind=\"free\"", 0,
                     (double)(total > used ? total - used : 0));
    mlf_metric_write(out, "mlflowd_worker_tries_total", "counter", "Tries this worker ran to an end.", NULL, 0,
                     (double)atomic_load_explicit(&tries_run, memory_order_relaxed));
    mlf_metric_write(out, "mlflowd_worker_tries_failed_total", "counter", "Tries this worker ran that failed.", NULL,
                     0, (double)atomic_load_explicit(&tries_failed, memory_order_relaxed));
    return MLF_OK;
}
