/* schedule.c -- Airflow 2.x timetables: cron, fixed interval, @once, none; next run and manual intervals. */
#include "time/schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "time/civil.h"
#include "time/cron.h"
#include "time/duration.h"
#include "base/strutil.h"

struct mlf_schedule {
    mlf_schedule_kind kind;
    char *text; /* the expression as written, trimmed; NULL for none */
    const mlf_tz *tz;
    mlf_cron cron;
    int64_t delta; /* microseconds, > 0 */
};

/* ------------------------------------------------------------------------------ parsing */

static int parse_kind(mlf_schedule *s, const char *text, char *err, size_t errlen)
{
    if (strcasecmp(text, "@once") == 0) {
        s->kind = MLF_SCHEDULE_ONCE;
        return MLF_OK;
    }
    if (text[0] == '@' && !mlf_cron_preset(text)) {
        snprintf(err, errlen,
                 "unknown schedule preset \"%s\" (valid: @once, @hourly, @daily, @midnight, @weekly, @monthly, "
                 "@quarterly, @yearly, @annually)",
                 text);
        return MLF_EPARSE;
    }
    if (text[0] == '@' || strpbrk(text, " \t")) {
        s->kind = MLF_SCHEDULE_CRON;
        return mlf_cron_parse(text, &s->cron, err, errlen);
    }
    if (!isdigit((unsigned char)text[0]) && !strchr(".-+Pp", text[0])) {
        snprintf(err, errlen,
                 "schedule \"%s\" is not a cron expression (5 fields, e.g. \"0 6 * * *\"), a preset (e.g. "
                 "@daily), a duration (e.g. 30m) or null",
                 text);
        return MLF_EPARSE;
    }
    s->kind = MLF_SCHEDULE_INTERVAL;
    int rc = mlf_duration_parse(text, &s->delta, err, errlen);
    if (rc == MLF_OK && s->delta <= 0) {
        snprintf(err, errlen, "schedule interval must be positive, not \"%s\"", text);
        rc = MLF_EPARSE;
    }
    return rc;
}

int mlf_schedule_parse(const char *expr, const char *tz_name, mlf_schedule **out, char *err, size_t errlen)
{
    if (!out) {
        snprintf(err, errlen, "schedule: NULL argument");
        return MLF_EINVAL;
    }
    mlf_schedule *s = calloc(1, sizeof *s);
    if (!s)
        return MLF_ENOMEM;
    int rc = mlf_tz_load(tz_name ? tz_name : "UTC", &s->tz, err, errlen);
    if (rc == MLF_OK && expr) {
        while (isspace((unsigned char)*expr))
            expr++;
        size_t len = strlen(expr);
        while (len > 0 && isspace((unsigned char)expr[len - 1]))
            len--;
        s->text = mlf_strdup_printf("%.*s", (int)len, expr);
        if (!s->text)
            rc = MLF_ENOMEM;
        else if (len == 0) {
            snprintf(err, errlen, "empty schedule (write null for a DAG that only runs when triggered)");
            rc = MLF_EPARSE;
        } else if (strcasecmp(s->text, "null") == 0 || strcasecmp(s->text, "none") == 0) {
            free(s->text);
            s->text = NULL;
        } else {
            rc = parse_kind(s, s->text, err, errlen);
        }
    }
    if (rc != MLF_OK) {
        mlf_schedule_free(s);
        return rc;
    }
    *out = s;
    return MLF_OK;
}

void mlf_schedule_free(mlf_schedule *s)
{
    if (!s)
        return;
    free(s->text);
    free(s);
}

mlf_schedule_kind mlf_schedule_kind_of(const mlf_schedule *s)
{
    return s->kind;
}

const mlf_tz *mlf_schedule_tz(const mlf_schedule *s)
{
    return s->tz;
}

/* ------------------------------------------------------------------------------ timetable primitives */

/* Airflow's _get_next: the first schedule time strictly after t. */
static int get_next(const mlf_schedule *s, mlf_time_us t, mlf_time_us *out)
{
    if (s->kind == MLF_SCHEDULE_INTERVAL) {
        if (t > INT64_MAX - s->delta)
            return MLF_ENOTFOUND;
        *out = t + s->delta;
        return MLF_OK;
    }
    return mlf_cron_next(&s->cron, s->tz, t, out);
}

/* Airflow's _get_prev: the last schedule time strictly before t. */
static int get_prev(const mlf_schedule *s, mlf_time_us t, mlf_time_us *out)
{
    if (s->kind == MLF_SCHEDULE_INTERVAL) {
        if (t < INT64_MIN + s->delta)
            return MLF_ENOTFOUND;
        *out = t - s->delta;
        return MLF_OK;
    }
    return mlf_cron_prev(&s->cron, s->tz, t, 0, out);
}

/* Airflow's _align_to_next: t when it lies on the schedule, else the next schedule time. */
static int align_to_next(const mlf_schedule *s, mlf_time_us t, mlf_time_us *out)
{
    mlf_time_us next, back;
    if (s->kind == MLF_SCHEDULE_INTERVAL) {
        *out = t;
        return MLF_OK;
    }
    int rc = get_next(s, t, &next);
    if (rc != MLF_OK)
        return rc;
    *out = get_prev(s, next, &back) == MLF_OK && back == t ? t : next;
    return MLF_OK;
}

/* Airflow's _align_to_prev: t when it lies on the schedule, else the previous schedule time. */
static int align_to_prev(const mlf_schedule *s, mlf_time_us t, mlf_time_us *out)
{
    mlf_time_us prev, fwd;
    if (s->kind == MLF_SCHEDULE_INTERVAL) {
        *out = t;
        return MLF_OK;
    }
    int rc = get_prev(s, t, &prev);
    if (rc != MLF_OK)
        return rc;
    *out = get_next(s, prev, &fwd) == MLF_OK && fwd == t ? t : prev;
    return MLF_OK;
}

/*
 * Airflow's _skip_to_latest (catchup=False): the start of the latest complete interval at @p now, but not
 * before @p earliest (aligned forward for cron).
 */
static int skip_to_latest(const mlf_schedule *s, mlf_time_us earliest, mlf_time_us now, mlf_time_us *out)
{
    mlf_time_us start, floor_start;
    int rc;
    if (s->kind == MLF_SCHEDULE_INTERVAL) {
        /* _round: now down to a multiple of the interval since the epoch; then one interval back. */
        mlf_time_us rounded = now - mlf_floor_mod(now, s->delta);
        if ((rc = get_prev(s, rounded, &start)) != MLF_OK)
            return rc;
        floor_start = earliest;
    } else {
        mlf_time_us last_start, next_start;
        if ((rc = get_prev(s, now, &last_start)) != MLF_OK || (rc = get_next(s, last_start, &next_start)) != MLF_OK)
            return rc;
        if (next_start == now) /* now is on a boundary: the interval ending now is complete */
            start = last_start;
        else if ((rc = get_prev(s, last_start, &start)) != MLF_OK)
            return rc;
        if ((rc = align_to_next(s, earliest, &floor_start)) != MLF_OK)
            return rc;
    }
    *out = start > floor_start ? start : floor_start;
    return MLF_OK;
}

static void set_interval(mlf_interval *out, mlf_time_us start, mlf_time_us end, mlf_time_us logical,
                         mlf_time_us run_after)
{
    out->data_interval_start = start;
    out->data_interval_end = end;
    out->logical_date = logical;
    out->run_after = run_after;
}

/* ------------------------------------------------------------------------------ public */

int mlf_schedule_next(const mlf_schedule *s, const mlf_interval *last, mlf_time_us start_date,
                      mlf_time_us end_date, int catchup, mlf_time_us now, mlf_interval *out)
{
    if (!s || !out)
        return MLF_EINVAL;
    switch (s->kind) {
    case MLF_SCHEDULE_NONE:
        return MLF_ENOTFOUND;
    case MLF_SCHEDULE_ONCE:
        /* OnceTimetable: at start_date, regardless of catchup, unless it already ran. */
        if (last || (end_date && start_date > end_date))
            return MLF_ENOTFOUND;
        set_interval(out, start_date, start_date, start_date, start_date);
        return MLF_OK;
    case MLF_SCHEDULE_CRON:
    case MLF_SCHEDULE_INTERVAL:
        break;
    }
    mlf_time_us earliest, start, end;
    int rc = catchup ? align_to_next(s, start_date, &earliest) : skip_to_latest(s, start_date, now, &earliest);
    if (rc != MLF_OK)
        return rc;
    if (!last) {
        start = earliest;
    } else {
        /* Aligning matters when the schedule changed since the last run. */
        if ((rc = align_to_prev(s, last->data_interval_end, &start)) != MLF_OK)
            return rc;
        if (earliest > start)
            start = earliest;
    }
    if (end_date && start > end_date)
        return MLF_ENOTFOUND;
    if ((rc = get_next(s, start, &end)) != MLF_OK)
        return rc;
    set_interval(out, start, end, start, end);
    return MLF_OK;
}

int mlf_schedule_infer_manual(const mlf_schedule *s, mlf_time_us run_after, mlf_interval *out)
{
    if (!s || !out)
        return MLF_EINVAL;
    mlf_time_us start = run_after, end = run_after;
    int rc = MLF_OK;
    if (s->kind == MLF_SCHEDULE_CRON) {
        if ((rc = align_to_prev(s, run_after, &end)) == MLF_OK)
            rc = get_prev(s, end, &start);
    } else if (s->kind == MLF_SCHEDULE_INTERVAL) {
        rc = get_prev(s, run_after, &start);
    }
    if (rc != MLF_OK)
        return rc;
    set_interval(out, start, end, run_after, run_after);
    return MLF_OK;
}

int mlf_schedule_describe(const mlf_schedule *s, char *buf, size_t n)
{
    char tmp[512];
    switch (s->kind) {
    case MLF_SCHEDULE_NONE:
        snprintf(tmp, sizeof tmp, "None");
        break;
    case MLF_SCHEDULE_ONCE:
        snprintf(tmp, sizeof tmp, "@once");
        break;
    case MLF_SCHEDULE_INTERVAL:
        mlf_duration_format(s->delta, tmp, sizeof tmp);
        break;
    case MLF_SCHEDULE_CRON:
        if (mlf_tz_is_utc(s->tz))
            snprintf(tmp, sizeof tmp, "%s", s->text);
        else
            snprintf(tmp, sizeof tmp, "%s (%s)", s->text, mlf_tz_name(s->tz));
        break;
    }
    return mlf_strlcpy(buf, tmp, n) < n ? MLF_OK : MLF_ERANGE;
}
