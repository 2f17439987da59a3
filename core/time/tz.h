/*
 * tz.h -- IANA time zones read from the system's TZif files, without libc's TZ machinery.
 *
 * Zones are read from $TZDIR (when set and not empty) or /usr/share/zoneinfo (Debian package tzdata), in
 * the format of RFC 8536: version 1 files, and the 64-bit section of version 2+ files together with their
 * footer, a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3") that gives the rule for instants after the
 * last listed transition. "UTC" needs no file.
 *
 * A loaded zone is immutable and cached for the life of the process (or until mlf_tz_cache_clear()):
 * the pointers these functions hand out are borrowed from the cache, may be shared between threads, and
 * must not be freed. Loading is thread-safe.
 *
 * Wall-clock times ("local microseconds") are written like instants: microseconds since
 * 1970-01-01T00:00:00 of the local calendar. Converting one to an instant follows one documented rule:
 *   - in a gap (the hour skipped when clocks spring forward) the time is shifted forward by the length of
 *     the gap: 02:30 on the day Berlin goes 02:00 -> 03:00 becomes 03:30 CEST (as pendulum and Airflow,
 *     and Python's fold=0);
 *   - in a fold (the hour that repeats when clocks fall back) the caller picks the first (earlier) or
 *     the second (later) occurrence; MLF_TZ_FOLD_EARLIER is the default everywhere dates are parsed.
 */
#ifndef MLF_CORE_TZ_H
#define MLF_CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

/** A time zone: opaque, immutable, owned by the cache. */
typedef struct mlf_tz mlf_tz;

/** Which of the two instants a repeated wall-clock time means. */
enum { MLF_TZ_FOLD_EARLIER = 0, MLF_TZ_FOLD_LATER = 1 };

/** A stretch of time with one UTC offset. */
typedef struct mlf_tz_period {
    mlf_time_us start;  /**< first instant of the period; INT64_MIN when it has no start */
    mlf_time_us end;    /**< first instant after it; INT64_MAX when it has no end */
    int32_t utoff;      /**< seconds east of UTC during the period */
    int32_t prev_utoff; /**< offset just before start (== utoff when start is INT64_MIN) */
    int32_t next_utoff; /**< offset from end on (== utoff when end is INT64_MAX) */
    int is_dst;         /**< 1 during daylight saving time */
    const char *abbr;   /**< "CET", "EDT", "+03"...: borrowed from the zone */
} mlf_tz_period;

/**
 * Finds zone @p name ("Europe/Berlin", "UTC") and sets *out to it, loading and caching it on first use.
 * Names must be relative paths below the zone directory made of letters, digits and "_+-./", without
 * "..". Returns MLF_OK; MLF_EINVAL for a NULL argument or a refused name; MLF_ENOTFOUND when no zone file
 * exists (the message names the path tried); MLF_EPARSE when the file is not a valid TZif file (the
 * message says what is wrong); MLF_ENOMEM; or MLF_EIO for a read error. Messages go to @p err (which may be
 * NULL when @p errlen is 0).
 */
int mlf_tz_load(const char *name, const mlf_tz **out, char *err, size_t errlen);

/** The UTC zone (named "UTC"). Never NULL, needs no file. */
const mlf_tz *mlf_tz_utc(void);

/**
 * A zone with the constant offset @p utoff seconds east of UTC, named like "+02:00" ("UTC" for 0).
 * Returns MLF_OK, MLF_ERANGE when |utoff| is 24 hours or more, or MLF_ENOMEM.
 */
int mlf_tz_fixed(int32_t utoff, const mlf_tz **out);

/** The zone's name as given to mlf_tz_load() (borrowed). */
const char *mlf_tz_name(const mlf_tz *tz);

/** 1 when the zone is UTC or a fixed offset of zero (so that local time is UTC). */
int mlf_tz_is_utc(const mlf_tz *tz);

/** Describes the period of constant offset that contains instant @p t. Never fails. */
void mlf_tz_period_at(const mlf_tz *tz, mlf_time_us t, mlf_tz_period *out);

/** The UTC offset in seconds east of UTC at instant @p t. */
int32_t mlf_tz_utoff_at(const mlf_tz *tz, mlf_time_us t);

/** The wall-clock reading (local microseconds) at instant @p t (saturating at the int64 limits). */
int64_t mlf_tz_to_local(const mlf_tz *tz, mlf_time_us t);

/**
 * The instant at which the zone's clocks show @p local_us: in a gap, shifted forward by the gap's length;
 * in a fold, the earlier or later occurrence as @p fold says (MLF_TZ_FOLD_EARLIER or MLF_TZ_FOLD_LATER).
 */
mlf_time_us mlf_tz_from_local(const mlf_tz *tz, int64_t local_us, int fold);

/**
 * Frees every cached zone. Only for tests and shutdown: no zone pointer obtained before may be used
 * afterwards, and no other thread may use the cache meanwhile.
 */
void mlf_tz_cache_clear(void);

/** Parses the @p len bytes of a TZif file (RFC 8536) into a new zone named "buffer" that is not cached
 * (free with mlf_tz_free_parsed()): what mlf_tz_load() does with a file's bytes, for tests and the fuzzer.
 * Errors: those of mlf_tz_load() for a malformed file (MLF_EPARSE with the reason in @p err), MLF_ENOMEM. */
int mlf_tz_parse_buffer(const void *buf, size_t len, mlf_tz **out, char *err, size_t errlen);

/** Frees a zone of mlf_tz_parse_buffer(). NULL is allowed. */
void mlf_tz_free_parsed(mlf_tz *tz);

#endif
