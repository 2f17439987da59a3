/* civil.c -- Gregorian calendar arithmetic (Howard Hinnant's algorithms), no libc time functions. */
#include "time/civil.h"

int64_t mlf_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t mlf_floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

int mlf_is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int mlf_days_in_month(int64_t y, int m)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return DAYS[m - 1] + (m == 2 && mlf_is_leap_year(y));
}

int64_t mlf_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void mlf_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                       /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int mlf_weekday_from_days(int64_t z)
{
    return (int)(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

void mlf_civil_from_time(int64_t t, mlf_civil *out)
{
    int64_t days = mlf_floor_div(t, MLF_US_PER_DAY);
    int64_t rem = mlf_floor_mod(t, MLF_US_PER_DAY); /* [0, one day); t - days * DAY could overflow */
    mlf_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(rem / MLF_US_PER_HOUR);
    out->minute = (int)(rem / MLF_US_PER_MIN % 60);
    out->second = (int)(rem / MLF_US_PER_SEC % 60);
    out->usec = (int)(rem % MLF_US_PER_SEC);
    out->wday = mlf_weekday_from_days(days);
    out->yday = (int)(days - mlf_days_from_civil(out->year, 1, 1));
}

int mlf_time_from_civil(const mlf_civil *c, int64_t *out)
{
    /* The int64 microsecond range spans about +-292,277 years around 1970. */
    if (c->month < 1 || c->month > 12 || c->day < 1 || c->day > mlf_days_in_month(c->year, c->month) ||
        c->hour < 0 || c->hour > 23 || c->minute < 0 || c->minute > 59 || c->second < 0 ||
        c->second > 59 || c->usec < 0 || c->usec > 999999)
        return MLF_EINVAL;
    if (c->year < -290000 || c->year > 290000)
        return MLF_ERANGE;
    int64_t days = mlf_days_from_civil(c->year, c->month, c->day);
    *out = days * MLF_US_PER_DAY + c->hour * MLF_US_PER_HOUR + c->minute * MLF_US_PER_MIN +
           c->second * MLF_US_PER_SEC + c->usec;
    return MLF_OK;
}

int64_t mlf_add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

const char *mlf_month_name(int m)
{
    static const char *const NAMES[12] = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};
    return m >= 1 && m <= 12 ? NAMES[m - 1] : "?";
}

const char *mlf_weekday_name(int wd)
{
    static const char *const NAMES[7] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    return wd >= 0 && wd <= 6 ? NAMES[wd] : "?";
}
