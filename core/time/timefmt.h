/*
 * timefmt.h -- dates and timestamps as DAG files write them, and the formats templates print.
 *
 * Parsing accepts (surrounding white space ignored):
 *   "2024-01-01"                        midnight of that day, in the given zone (UTC by default)
 *   "2024-01-01T06:00", "...T06:00:00", "...T06:00:00.25"    wall-clock time in the given zone
 *   "2024-01-01 06:00:00"               the same with a space (or 't') instead of 'T'
 *   "2024-01-01T06:00:00Z", "...+02:00", "...-0530", "...+02"  an instant with an explicit UTC offset
 * Years are 0001-9999, fields are checked against the calendar (February 30 is an error, leap years are
 * counted), hours 0-23, seconds 0-59, fractions up to 9 digits (truncated to microseconds), offsets below
 * 24 hours. A wall-clock time in a DST gap or fold is resolved as tz.h says (gap: shifted forward; fold:
 * the earlier occurrence).
 *
 * Formatting takes an instant and writes it in UTC unless a zone is given. The template names follow
 * Airflow: ds "2024-01-01", ds_nodash "20240101", ts "2024-01-01T00:00:00+00:00" (Python's isoformat:
 * ".ffffff" only when there are microseconds), ts_nodash "20240101T000000", ts_nodash_with_tz
 * "20240101T000000+0000". Format functions return MLF_OK, or MLF_ERANGE when the buffer is too small (the
 * output is then truncated but NUL-terminated when n > 0); MLF_TIME_FMT_MAX bytes are always enough for
 * every fixed format.
 */
#ifndef MLF_CORE_TIMEFMT_H
#define MLF_CORE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "time/civil.h"
#include "time/tz.h"

#define MLF_TIME_FMT_MAX 48

/** What a date/timestamp string said, before any zone is applied. */
typedef struct mlf_time_parts {
    mlf_civil civil; /**< the fields as written (wday and yday not set) */
    int has_time;    /**< a time of day was written (else 00:00:00) */
    int has_offset;  /**< 'Z' or an offset was written */
    int32_t utoff;   /**< that offset, seconds east of UTC (0 for 'Z'); 0 without one */
} mlf_time_parts;

/**
 * Parses @p s into its parts without applying any zone. Returns MLF_OK, MLF_EINVAL for a NULL argument,
 * or MLF_EPARSE with a message quoting the input and saying what is wrong (bad syntax, a field out of
 * range, a day that does not exist in that month). @p err may be NULL when @p errlen is 0.
 */
int mlf_time_parse_parts(const char *s, mlf_time_parts *out, char *err, size_t errlen);

/**
 * Parses @p s into an instant. A string without an offset is a wall-clock time in @p tz (NULL means UTC).
 * Returns what mlf_time_parse_parts() returns; *out is unchanged on failure.
 */
int mlf_time_parse(const char *s, const mlf_tz *tz, mlf_time_us *out, char *err, size_t errlen);

/** The current time (CLOCK_REALTIME) in microseconds since the epoch. */
mlf_time_us mlf_time_now(void);

/** "YYYY-MM-DD" of @p t in UTC (Airflow's ds). */
int mlf_time_format_ds(mlf_time_us t, char *buf, size_t n);

/** "YYYYMMDD" of @p t in UTC (ds_nodash). */
int mlf_time_format_ds_nodash(mlf_time_us t, char *buf, size_t n);

/** "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00" (ts). */
int mlf_time_format_ts(mlf_time_us t, char *buf, size_t n);

/** "YYYYMMDDTHHMMSS" (ts_nodash). */
int mlf_time_format_ts_nodash(mlf_time_us t, char *buf, size_t n);

/** "YYYYMMDDTHHMMSS[.ffffff]+0000": ts without '-' and ':' (ts_nodash_with_tz). */
int mlf_time_format_ts_nodash_with_tz(mlf_time_us t, char *buf, size_t n);

/** Flags of mlf_time_format_iso(). */
enum {
    MLF_ISO_ZULU = 1,   /**< write "Z" instead of "+00:00" for a zero offset (RFC 3339 style) */
    MLF_ISO_MICROS = 2, /**< always write 6 fraction digits */
    MLF_ISO_SECONDS = 4 /**< never write a fraction (truncates) */
};

/**
 * ISO 8601 / RFC 3339 "YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM" of @p t as the clocks of @p tz (NULL: UTC) show
 * it, with the zone's offset at that instant; @p flags is a set of MLF_ISO_*.
 */
int mlf_time_format_iso(mlf_time_us t, const mlf_tz *tz, unsigned flags, char *buf, size_t n);

/**
 * strftime for a UTC instant, with Python's conversions: %Y %m %d %H %M %S %f (microseconds, 6 digits)
 * %y %C %j %e %I %p %a %A %b %B %h %u %w %s (epoch seconds) %z ("+0000") %Z ("UTC") %F %T %R %D %n %t %%.
 * Returns MLF_OK; MLF_EINVAL (NULL argument, or an unknown conversion, named in @p err); or MLF_ERANGE
 * when the output does not fit in @p n bytes.
 */
int mlf_time_strftime(const char *fmt, mlf_time_us t, char *buf, size_t n, char *err, size_t errlen);

#endif
