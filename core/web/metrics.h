/*
 * metrics.h -- Prometheus metrics (text exposition format 0.0.4): a histogram that any thread may observe
 * with atomic adds only (no lock on the scheduler loop's path), text writers, and a small /metrics
 * listener (one libmicrohttpd thread) whose scrapes run off the loop (doc/webserver.md "Metrics").
 */
#ifndef MLF_CORE_METRICS_H
#define MLF_CORE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "base/strutil.h"

#define MLF_HIST_BUCKETS 12

/** A histogram of seconds with fixed bounds (1 ms .. 10 s unless @c bounds is set); zero-initialised is
 * empty. */
typedef struct mlf_histogram {
    const double *bounds; /**< MLF_HIST_BUCKETS increasing upper bounds in seconds; NULL: 1 ms .. 10 s */
    atomic_ullong buckets[MLF_HIST_BUCKETS + 1]; /**< counts per bound, the last one +Inf (not cumulative) */
    atomic_ullong count;
    atomic_ullong sum_us;
} mlf_histogram;

/** The scheduler loop's turn durations (observed by the loop, written by its /metrics). */
extern mlf_histogram mlf_metric_loop_turn;

/** Adds one observation of @p us microseconds. Lock-free. */
void mlf_histogram_observe(mlf_histogram *h, long long us);

/** Appends "# HELP", "# TYPE" and one sample of a gauge or counter (@p type "gauge" / "counter"). @p labels
 * is NULL or "name=\"value\"" text. The HELP/TYPE lines are written when @p labels is NULL or
 * @p first is set. */
void mlf_metric_write(mlf_buf *out, const char *name, const char *type, const char *help, const char *labels,
                      int first, double value);
/** Appends histogram @p h as NAME_bucket{le=...}, NAME_sum, NAME_count. */
void mlf_histogram_write(mlf_buf *out, const char *name, const char *help, mlf_histogram *h);

/** Appends the samples of histogram @p h (no HELP/TYPE lines) with extra @p labels ("k=\"v\"" text, or NULL),
 * for a histogram family of several labelled series. */
void mlf_histogram_write_series(mlf_buf *out, const char *name, const char *labels, mlf_histogram *h);
/** Appends @p s to @p out escaped for a label value (backslash, double quote, newline). */
void mlf_metric_label_escape(mlf_buf *out, const char *s);

/** Writes the whole exposition into @p out; returns MLF_OK or an error (then 500). */
typedef int (*mlf_metrics_collect_fn)(void *ud, mlf_buf *out);

typedef struct mlf_metrics_server mlf_metrics_server;

/** Serves GET /metrics on @p listen ("HOST:PORT", port 0: any) from a thread of its own, calling @p fn per
 * scrape. *@p url receives "http://HOST:PORT/metrics" (static storage of the server). Errors: MLF_EINVAL
 * (bad address, with @p err), MLF_EIO (cannot bind), MLF_ENOMEM. */
int mlf_metrics_start(const char *listen, mlf_metrics_collect_fn fn, void *ud, mlf_metrics_server **out,
                      const char **url, char *err, size_t errlen);
/** Stops and frees the server. NULL is a no-op. */
void mlf_metrics_stop(mlf_metrics_server *m);

#endif
