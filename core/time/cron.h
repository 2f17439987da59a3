/*
 * cron.h -- 5-field cron expressions, evaluated in a time zone.
 *
 * Syntax (Vixie cron, as croniter reads it for Airflow): "minute hour day-of-month month day-of-week",
 * fields separated by white space. Each field is a comma-separated list of items: "*", "N", "A-B", each
 * optionally followed by "/STEP" ("*\/15", "1-30/5"; "N/STEP" means N-max/STEP). Ranges: minute 0-59,
 * hour 0-23, day-of-month 1-31, month 1-12 or jan-dec, day-of-week 0-7 or sun-sat (0 and 7 are Sunday;
 * "fri-sun" wraps to Sunday). Names are case-insensitive. Presets: @hourly, @daily, @midnight, @weekly,
 * @monthly, @quarterly, @yearly, @annually.
 *
 * Days: when both day-of-month and day-of-week are restricted, a day matches if EITHER matches (Vixie's
 * OR); otherwise both must. As in croniter (which Airflow uses), a field counts as restricted when it
 * does not cover its whole range, so "*\/2" restricts while "1-31" does not.
 *
 * Time zones: the expression is matched against the wall clock of the zone. Across DST changes:
 *   - a wall time skipped by a spring-forward gap fires once, shifted forward by the gap ("30 2 * * *" in
 *     Berlin on 2024-03-31 fires at 03:30 CEST);
 *   - a wall time repeated by a fall-back fold fires once, at its second (later) occurrence, as Airflow's
 *     make_aware() does ("30 1 * * *" in New York on 2024-11-03 fires at 01:30 EST);
 *   - an expression whose hour field covers every hour fires at both occurrences of the repeated hour, so
 *     that "0 * * * *" keeps firing every hour of real time (Airflow's _covers_every_hour fix).
 * The fire instants are a fixed set; next and prev walk it forwards and backwards consistently.
 * Searches jump over whole months, days and hours, never minute by minute.
 */
#ifndef MLF_CORE_CRON_H
#define MLF_CORE_CRON_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "time/tz.h"

/** A parsed expression: a plain value (no memory to free), members private to cron.c. */
typedef struct mlf_cron {
    uint64_t minutes; /* bit m set: minute m matches */
    uint32_t hours;
    uint32_t mdays; /* bits 1-31 */
    uint16_t months; /* bits 1-12 */
    uint8_t wdays;   /* bits 0-6, 0 is Sunday */
    uint8_t flags;
} mlf_cron;

/**
 * Parses @p expr (5 fields or a preset) into @p out. Returns MLF_OK, MLF_EINVAL for a NULL argument, or
 * MLF_EPARSE with a message in @p err naming the field, the bad value and the allowed range
 * ("minute field: 61 is out of range 0-59"), an unknown preset (listing the valid ones), the wrong number of
 * fields, or an expression that can never fire ("0 0 30 2 *"). @p err may be NULL when @p errlen is 0.
 */
int mlf_cron_parse(const char *expr, mlf_cron *out, char *err, size_t errlen);

/** The 5-field expression a preset stands for ("@daily" -> "0 0 * * *"), or NULL when @p name is not a
 * cron preset (static string). */
const char *mlf_cron_preset(const char *name);

/** 1 when the hour field covers all 24 hours (see the fold rule above). */
int mlf_cron_covers_every_hour(const mlf_cron *c);

/** 1 when the wall-clock minute containing @p local_us matches the expression. */
int mlf_cron_matches_local(const mlf_cron *c, int64_t local_us);

/**
 * The first matching wall-clock minute strictly after / strictly before @p local_us, ignoring time zones
 * (croniter on naive datetimes). Returns MLF_OK, or MLF_ENOTFOUND when none exists within the range of
 * representable times (or @p c was not filled by mlf_cron_parse(), e.g. zeroed).
 */
int mlf_cron_next_local(const mlf_cron *c, int64_t local_us, int64_t *out);
int mlf_cron_prev_local(const mlf_cron *c, int64_t local_us, int64_t *out);

/**
 * The first fire instant strictly after @p t, with the expression read in zone @p tz (NULL means UTC).
 * Returns MLF_OK, or MLF_ENOTFOUND when there is none within the representable range.
 */
int mlf_cron_next(const mlf_cron *c, const mlf_tz *tz, mlf_time_us t, mlf_time_us *out);

/**
 * The last fire instant strictly before @p t, or at-or-before @p t when @p inclusive is non-zero.
 * Returns MLF_OK or MLF_ENOTFOUND.
 */
int mlf_cron_prev(const mlf_cron *c, const mlf_tz *tz, mlf_time_us t, int inclusive, mlf_time_us *out);

#endif
