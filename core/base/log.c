/* log.c -- the daemon's own diagnostics on stderr, one write(2) per line so lines never interleave. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static mlf_log_level log_level = MLF_LOG_INFO;
static int log_level_from_env_done;

void mlf_log_set_level(mlf_log_level level)
{
    log_level = level;
    log_level_from_env_done = 1;
}

int mlf_log_parse_level(const char *name, mlf_log_level *out)
{
    static const struct { const char *name; mlf_log_level level; } names[] = {
        {"debug", MLF_LOG_DEBUG}, {"info", MLF_LOG_INFO}, {"warning", MLF_LOG_WARNING},
        {"warn", MLF_LOG_WARNING}, {"error", MLF_LOG_ERROR}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name && strcasecmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return MLF_OK;
        }
    return MLF_EINVAL;
}

static const char *level_name(mlf_log_level level)
{
    if (level >= MLF_LOG_ERROR) return "ERROR";
    if (level >= MLF_LOG_WARNING) return "WARNING";
    if (level >= MLF_LOG_INFO) return "INFO";
    return "DEBUG";
}

void mlf_log(mlf_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_logv(level, component, fmt, ap);
    va_end(ap);
}

void mlf_logv(mlf_log_level level, const char *component, const char *fmt, va_list ap)
{
    if (!log_level_from_env_done) {
        mlf_log_level l;
        if (mlf_log_parse_level(getenv("MLFLOWD_LOG_LEVEL"), &l) == MLF_OK)
            log_level = l;
        log_level_from_env_done = 1;
    }
    if (level < log_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_name(level), component ? component : "mlflowd");
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
