/*
 * duration.h -- durations as DAG files write them ("30s", "1h30m", "PT5M", "90") to and from microseconds.
 *
 * Accepted forms (surrounding white space is ignored):
 *   - unit form: one or more NUMBER UNIT parts, optionally separated by spaces: "30s", "1h30m",
 *     "1d 12h", "1.5h", "500ms". Units: us, ms, s, m, h, d, w (a week is exactly 7 days).
 *   - a plain number of seconds: "90", "1.5".
 *   - ISO 8601: "PnW" or "P[nD][T[nH][nM][nS]]": "PT5M", "P1D", "P1DT2H30M", "PT0.5S". Years and months
 *     have no fixed length and are refused.
 * Numbers are decimal with an optional fraction ("1.5", "0,5" in ISO form); precision below one microsecond
 * is truncated. Negative durations are refused.
 */
#ifndef MLF_CORE_DURATION_H
#define MLF_CORE_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

/** A buffer of this size holds any string mlf_duration_format() writes. */
#define MLF_DURATION_FMT_MAX 48

/**
 * Parses duration @p s into microseconds.
 * Returns MLF_OK and sets *out_us; on failure returns MLF_EINVAL (NULL argument), MLF_EPARSE (empty, bad
 * syntax, unknown unit -- the message lists the valid units --, negative, ISO years or months) or
 * MLF_ERANGE (larger than INT64_MAX microseconds), and writes a message naming the input to @p err
 * (which may be NULL when @p errlen is 0). *out_us is unchanged on failure.
 */
int mlf_duration_parse(const char *s, int64_t *out_us, char *err, size_t errlen);

/**
 * Writes @p us as the shortest unit form that mlf_duration_parse() reads back to the same value, using
 * d, h, m, s, ms and us: "1h30m", "30s", "1d2h", "1s500ms", "0s"; negative values get a leading '-'.
 * Returns MLF_OK, or MLF_ERANGE when @p n is too small (the output is then truncated but NUL-terminated
 * when n > 0). MLF_DURATION_FMT_MAX bytes are always enough.
 */
int mlf_duration_format(int64_t us, char *buf, size_t n);

#endif
