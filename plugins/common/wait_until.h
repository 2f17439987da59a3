/* wait_until.h -- the one poke shared by the time sensors (time_delta_sensor, datetime_sensor): succeed
 * once a moment has come, or ask the core to poke again exactly at that moment.
 *
 * A header of static inline functions over the public SDK only, compiled into each plugin that includes it
 * (plugins never share code at run time). */
#ifndef MLF_PLUGINS_WAIT_UNTIL_H
#define MLF_PLUGINS_WAIT_UNTIL_H

#include <mlflowd/mlflowd.h>

#include <stdio.h>
#include <time.h>

/** The current time (CLOCK_REALTIME) in microseconds since the epoch. */
static inline mlf_time_us wait_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/** Writes @p t as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (UTC) into @p buf of @p len bytes (48 is plenty). */
static inline void wait_format_time(mlf_time_us t, char *buf, size_t len)
{
    time_t sec = (time_t)(t / 1000000);
    long us = (long)(t % 1000000);
    if (us < 0) {
        sec--;
        us += 1000000;
    }
    struct tm tm;
    size_t n = gmtime_r(&sec, &tm) ? strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) : 0;
    if (n == 0)
        snprintf(buf, len, "%lld us since the epoch", (long long)t);
    else if (us)
        snprintf(buf + n, len - n, ".%06ldZ", us);
    else
        snprintf(buf + n, len - n, "Z");
}

/** One poke of a time sensor: MLF_SUCCESS once now >= @p target; otherwise asks to be poked again at
 * @p target and returns MLF_RESCHEDULE. Logs the moment it waits for. */
static inline mlf_outcome wait_until(mlf_task_ctx *ctx, mlf_time_us target)
{
    char when[48];
    wait_format_time(target, when, sizeof when);
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Checking if the time (%s) has come", when);
    if (wait_now_us() >= target)
        return MLF_SUCCESS;
    int rc = mlf_ctx_reschedule_at(ctx, target);
    if (rc != MLF_OK)
        mlf_ctx_log(ctx, MLF_LOG_WARNING, "cannot ask to be poked at %s (%s); poke_interval decides", when,
                    mlf_strerror(rc));
    return MLF_RESCHEDULE;
}

#endif
