/* libFuzzer target for cron expressions (core/time/cron.c): any bytes as a schedule. It must never crash,
 * leak or hang; an expression it accepts must give next/previous fire times that bracket the instant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "time/cron.h"
#include "time/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512)
        return 0;
    char expr[513];
    memcpy(expr, data, size);
    expr[size] = '\0';
    mlf_cron c;
    char err[256];
    if (mlf_cron_parse(expr, &c, err, sizeof err) != MLF_OK)
        return 0;
    mlf_time_us t = 1700000000LL * 1000000 + 123456, next = 0, prev = 0;
    (void)mlf_cron_covers_every_hour(&c);
    if (mlf_cron_next(&c, mlf_tz_utc(), t, &next) == MLF_OK && next <= t)
        abort();
    if (mlf_cron_prev(&c, mlf_tz_utc(), t, 0, &prev) == MLF_OK && prev >= t)
        abort();
    return 0;
}
