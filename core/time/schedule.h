/*
 * schedule.h -- a DAG's schedule, and the data intervals of its runs, computed as Airflow 2.x does.
 *
 * A schedule is one of (doc/architecture.md §5, key "schedule"):
 *   - a cron expression "0 6 * * *" or a preset @hourly @daily @midnight @weekly @monthly @quarterly
 *     @yearly @annually: Airflow's CronDataIntervalTimetable, evaluated in the DAG's time zone;
 *   - a fixed interval "30m", "1h", "P1D" (mlf_duration_parse): DeltaDataIntervalTimetable;
 *   - "@once": OnceTimetable, one run at start_date;
 *   - null (NULL, or "null"/"none" in any case): NullTimetable, manual triggers only.
 *
 * A run covers the data interval [data_interval_start, data_interval_end); its logical date is the start,
 * and it is due (the scheduler creates it) once run_after <= now, run_after being the interval's end.
 * mlf_schedule_next() is Airflow's next_dagrun_info(last_automated_data_interval, restriction) with
 * restriction = (earliest=start_date, latest=end_date, catchup), and Airflow 2.x defaults
 * ([scheduler] catchup_false_no_dagrun_airflow_2_fix = False):
 *   - catchup: the first interval starts at start_date aligned forward to the schedule, each next one
 *     where the previous one ended;
 *   - no catchup: the run offered is the latest complete interval -- the one whose end is <= now -- but
 *     never one that starts before start_date (cron intervals are aligned to the cron; fixed intervals to
 *     multiples of the interval since the Unix epoch, as Airflow's _round does);
 *   - no run starts after end_date.
 * DST: see cron.h for how cron times are placed around clock changes; fixed intervals are exact
 * durations of real time.
 */
#ifndef MLF_CORE_SCHEDULE_H
#define MLF_CORE_SCHEDULE_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "time/tz.h"

typedef enum mlf_schedule_kind {
    MLF_SCHEDULE_NONE = 0, /**< manual triggers only */
    MLF_SCHEDULE_ONCE,     /**< @once */
    MLF_SCHEDULE_CRON,     /**< a cron expression or preset */
    MLF_SCHEDULE_INTERVAL  /**< a fixed duration */
} mlf_schedule_kind;

/** The interval of one DAG run. */
typedef struct mlf_interval {
    mlf_time_us data_interval_start;
    mlf_time_us data_interval_end;
    mlf_time_us logical_date; /**< = data_interval_start for scheduled runs */
    mlf_time_us run_after;    /**< the run may start once now >= run_after (= data_interval_end) */
} mlf_interval;

/** A parsed schedule: opaque, immutable, freed with mlf_schedule_free(). */
typedef struct mlf_schedule mlf_schedule;

/**
 * Parses schedule @p expr (NULL for none) with cron times read in zone @p tz_name (NULL means UTC).
 * On success *out is a new schedule owned by the caller. Returns MLF_OK; MLF_EINVAL (NULL @p out);
 * MLF_EPARSE for a bad expression -- the message says which kind was expected and what is wrong, e.g.
 * "minute field: 61 is out of range 0-59", "schedule interval must be positive", an unknown preset with
 * the valid ones --; or the errors of mlf_tz_load() for the zone; MLF_ENOMEM. @p err may be NULL when
 * @p errlen is 0.
 */
int mlf_schedule_parse(const char *expr, const char *tz_name, mlf_schedule **out, char *err, size_t errlen);

/** Frees @p s (NULL is fine). */
void mlf_schedule_free(mlf_schedule *s);

/** The kind of schedule. */
mlf_schedule_kind mlf_schedule_kind_of(const mlf_schedule *s);

/** The zone cron times are read in (borrowed from the zone cache). */
const mlf_tz *mlf_schedule_tz(const mlf_schedule *s);

/**
 * The next automated run after @p last (NULL when the DAG has none yet), for a DAG starting at
 * @p start_date, ending at @p end_date (0 for none), with @p catchup, at time @p now (which matters only
 * without catchup). Fills *out and returns MLF_OK; returns MLF_ENOTFOUND when no run is to come (null
 * schedule, @once already run, past end_date); MLF_EINVAL for NULL arguments. The returned run may lie
 * in the future: it is due once out->run_after <= now.
 */
int mlf_schedule_next(const mlf_schedule *s, const mlf_interval *last, mlf_time_us start_date,
                      mlf_time_us end_date, int catchup, mlf_time_us now, mlf_interval *out);

/**
 * The data interval of a run triggered by hand at @p run_after (Airflow's infer_manual_data_interval):
 * cron: the last complete interval that ends at or before run_after; fixed interval: [run_after -
 * interval, run_after); @once and null: [run_after, run_after]. As in Airflow 2, the logical date of a
 * manual run is the trigger time: out->logical_date = out->run_after = run_after.
 * Returns MLF_OK, MLF_EINVAL, or MLF_ENOTFOUND when no cron time precedes run_after.
 */
int mlf_schedule_infer_manual(const mlf_schedule *s, mlf_time_us run_after, mlf_interval *out);

/**
 * A one-line summary for `dags list`: the expression as written ("@daily", "0 6 * * *") followed by the
 * zone when it is not UTC ("0 6 * * * (Europe/Berlin)"), the normalised interval ("1h30m"), "@once" or
 * "None". Returns MLF_OK, or MLF_ERANGE when @p n is too small (output truncated, NUL-terminated).
 */
int mlf_schedule_describe(const mlf_schedule *s, char *buf, size_t n);

#endif
