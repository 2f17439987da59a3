/* log.h -- the daemon's own diagnostics (not task logs): leveled lines on stderr. */
#ifndef MLF_CORE_LOG_H
#define MLF_CORE_LOG_H

#include <mlflowd/mlflowd.h>

/** Sets the lowest level printed (default MLF_LOG_INFO; MLFLOWD_LOG_LEVEL=debug|info|warning|error). */
void mlf_log_set_level(mlf_log_level level);

/** Parses a level name; returns MLF_OK or MLF_EINVAL. */
int mlf_log_parse_level(const char *name, mlf_log_level *out);

/** Writes "LEVEL component: message" to stderr when @p level is enabled. Thread-safe (one write(2)). */
void mlf_log(mlf_log_level level, const char *component, const char *fmt, ...) MLF_PRINTF(3, 4);

/* mlf_logv() is declared in the SDK (mlflowd/task.h): plugins reach it through the host table. */

#endif
