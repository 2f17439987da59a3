/* datetime_sensor -- waits until a given moment (Airflow's DateTimeSensor).
 *
 * One poke: parse the rendered `target_time` and succeed once now >= target; otherwise ask to be poked
 * again exactly at the target (mlf_ctx_reschedule_at), so that in reschedule mode the sensor wakes up once.
 * The core owns mode, poke_interval, timeout and soft_fail. Because the target is usually a template over
 * the run's dates ("{{ data_interval_end }}"), a backfilled run whose moment has long passed succeeds at
 * once: the idempotence Airflow's DateTimeSensor is made for.
 *
 * `target_time` must be an RFC 3339 timestamp: YYYY-MM-DD, 'T' (or 't', or a space as RFC 3339 section
 * 5.6 allows), HH:MM:SS, an optional fraction (digits past microseconds are dropped), and 'Z' or a +HH:MM /
 * -HH:MM offset. Like the DAG file format this also takes a date alone (midnight UTC) and a timestamp
 * without offset (UTC). Second 60 (a leap second) is read as the first second of the next minute.
 *
 * Differs from Airflow: Airflow hands the string to pendulum, which guesses at many more spellings; this
 * parser is strict (exact digit counts, calendar-checked fields, no surrounding spaces) and a malformed
 * timestamp fails without retry, since a retry would render the same text. The comparison is >= where
 * Airflow's poke uses >, so that the poke the core makes at the requested moment succeeds. */
#include <mlflowd/mlflowd.h>

#include "../common/wait_until.h"

static const mlf_param_spec datetime_sensor_params[] = {
    {.name = "target_time", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "the moment to wait for, an RFC 3339 timestamp such as 2024-01-01T06:00:00Z or \"{{ data_interval_end "
             "}}\""},
    {0}};

/* Reads exactly @p n decimal digits at *p into *out and moves *p past them; 0 (nothing read) otherwise. */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i]; /* stops at the NUL, never reads past it */
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

/* Moves *p past @p c when it is there. */
static int accept(const char **p, char c)
{
    if (**p != c)
        return 0;
    (*p)++;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parses the whole of @p s (see the top comment) into *out. Returns NULL, or why @p s was refused. */
static const char *parse_rfc3339(const char *s, mlf_time_us *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, us = 0, off_min = 0;
    if (!read_digits(&p, 4, &y) || !accept(&p, '-') || !read_digits(&p, 2, &mo) || !accept(&p, '-') ||
        !read_digits(&p, 2, &d))
        return "expected a date YYYY-MM-DD";
    if (mo < 1 || mo > 12)
        return "month out of range";
    if (d < 1 || d > days_in_month(y, mo))
        return "day out of range for the month";
    if (*p) {
        if (!accept(&p, 'T') && !accept(&p, 't') && !accept(&p, ' '))
            return "expected 'T' between the date and the time";
        if (!read_digits(&p, 2, &h) || !accept(&p, ':') || !read_digits(&p, 2, &mi) || !accept(&p, ':') ||
            !read_digits(&p, 2, &sec))
            return "expected a time HH:MM:SS";
        if (h > 23 || mi > 59 || sec > 60)
            return "time out of range";
        if (accept(&p, '.')) {
            int ndigits = 0, digit;
            for (; read_digits(&p, 1, &digit); ndigits++)
                if (ndigits < 6)
                    us = us * 10 + digit;
            if (ndigits == 0)
                return "expected digits after '.'";
            for (; ndigits < 6; ndigits++)
                us *= 10;
        }
        if (accept(&p, 'Z') || accept(&p, 'z')) {
            /* UTC */
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!read_digits(&p, 2, &oh) || !accept(&p, ':') || !read_digits(&p, 2, &om))
                return "expected an offset +HH:MM or -HH:MM";
            if (oh > 23 || om > 59)
                return "offset out of range";
            off_min = sign * (oh * 60 + om);
        }
        if (*p)
            return "unexpected text after the timestamp";
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off_min * 60;
    *out = secs * 1000000 + us;
    return NULL;
}

static mlf_outcome datetime_sensor_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const mlf_value *v = mlf_ctx_param(ctx, "target_time");
    const char *text = mlf_value_get_str(v, NULL);
    if (!text) {
        mlf_ctx_set_message(ctx, "datetime_sensor: target_time must be a timestamp string, not a %s",
                            mlf_type_name(mlf_value_type(v)));
        return MLF_FAILED_NO_RETRY;
    }
    mlf_time_us target;
    const char *why = parse_rfc3339(text, &target);
    if (why) {
        mlf_ctx_set_message(ctx,
                            "datetime_sensor: target_time '%.80s' is not an RFC 3339 timestamp: %s "
                            "(e.g. 2024-01-01T06:00:00Z or 2024-01-01T08:00:00+02:00)",
                            text, why);
        return MLF_FAILED_NO_RETRY;
    }
    return wait_until(ctx, target);
}

static const mlf_operator_desc datetime_sensor_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "datetime_sensor",
    .help = "Waits until `target_time`, an RFC 3339 timestamp that is usually a template over the run's dates "
            "(Airflow's DateTimeSensor); asks to be poked again exactly then.",
    .flags = MLF_OP_SENSOR,
    .params = datetime_sensor_params,
    .execute = datetime_sensor_execute,
};

static int datetime_sensor_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &datetime_sensor_operator);
}

MLF_PLUGIN("datetime_sensor", MLF_VERSION_STRING, "The datetime sensor (wait until a moment)", datetime_sensor_init,
           NULL);
