/*
 * civil.h -- proleptic Gregorian calendar arithmetic on day and microsecond counts.
 *
 * Howard Hinnant's days_from_civil / civil_from_days algorithms ("chrono-Compatible Low-Level Date
 * Algorithms"): exact for every int64 microsecond count, no libc time functions, no TZ environment.
 * A "time" here is int64 microseconds since 1970-01-01T00:00:00; it is a UTC instant (mlf_time_us) or,
 * for the time-zone code, a wall-clock reading written the same way ("local microseconds").
 */
#ifndef MLF_CORE_CIVIL_H
#define MLF_CORE_CIVIL_H

#include <stdint.h>

#include <mlflowd/mlflowd.h>

#define MLF_US_PER_SEC INT64_C(1000000)
#define MLF_US_PER_MIN (60 * MLF_US_PER_SEC)
#define MLF_US_PER_HOUR (60 * MLF_US_PER_MIN)
#define MLF_US_PER_DAY (24 * MLF_US_PER_HOUR)

/** A broken-down time. */
typedef struct mlf_civil {
    int64_t year; /**< proleptic Gregorian; 0 is 1 BC */
    int month;    /**< 1-12 */
    int day;      /**< 1-31 */
    int hour;     /**< 0-23 */
    int minute;   /**< 0-59 */
    int second;   /**< 0-59 (no leap seconds) */
    int usec;     /**< 0-999999 */
    int wday;     /**< 0-6, 0 is Sunday; output of mlf_civil_from_time() only */
    int yday;     /**< 0-365, 0 is January 1; output of mlf_civil_from_time() only */
} mlf_civil;

/** Floor division and the matching non-negative remainder (b > 0). */
int64_t mlf_floor_div(int64_t a, int64_t b);
int64_t mlf_floor_mod(int64_t a, int64_t b);

/** 1 when @p y is a Gregorian leap year. */
int mlf_is_leap_year(int64_t y);

/** Days in month @p m (1-12) of year @p y; 0 when m is out of range. */
int mlf_days_in_month(int64_t y, int m);

/** Days since 1970-01-01 of the date y-m-d. Fields are not checked (m must be 1-12; d may overflow the
 * month and then counts on). Exact for |y| < 2^54. */
int64_t mlf_days_from_civil(int64_t y, int m, int d);

/** The date of day @p z (days since 1970-01-01). */
void mlf_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

/** Day of week of day @p z: 0 is Sunday. */
int mlf_weekday_from_days(int64_t z);

/** Breaks @p t (microseconds since 1970-01-01) into fields, including wday and yday. Never fails. */
void mlf_civil_from_time(int64_t t, mlf_civil *out);

/**
 * The microsecond count of the fields of @p c (wday and yday are ignored). Every field must be in its
 * range (day within the month, leap years counted). Returns MLF_OK, MLF_EINVAL for a field out of range,
 * or MLF_ERANGE when the result does not fit in int64.
 */
int mlf_time_from_civil(const mlf_civil *c, int64_t *out);

/** English name of month @p m (1-12: "January"...) or of weekday @p wd (0-6, 0: "Sunday"); "?" when out of
 * range. Static strings. */
const char *mlf_month_name(int m);
const char *mlf_weekday_name(int wd);

/** a + b, clamped to [INT64_MIN, INT64_MAX] instead of overflowing. */
int64_t mlf_add_sat(int64_t a, int64_t b);

#endif
