/* metrics_sched.h -- the scheduler's /metrics collector (metrics_sched.c). */
#ifndef MLF_CORE_METRICS_SCHED_H
#define MLF_CORE_METRICS_SCHED_H

#include "store/store.h"
#include "web/metrics.h"

/** What the collector reads; borrowed, must outlive the metrics server. */
typedef struct mlf_sched_metrics_src {
    mlf_store *store;
    long long parallelism;
} mlf_sched_metrics_src;

/** An mlf_metrics_collect_fn over an mlf_sched_metrics_src. Errors: store errors (the scrape gets 500). */
int mlf_sched_metrics_collect(void *ud, mlf_buf *out);

#endif
