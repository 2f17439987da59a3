/* libFuzzer target for the TZif reader (core/time/tz.c): any bytes as a zoneinfo file. It must never crash,
 * leak or hang; a zone it accepts must answer offset and local-time questions for any instant. */
#include <stdint.h>
#include <stdlib.h>

#include "time/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlf_tz *tz = NULL;
    char err[256];
    if (mlf_tz_parse_buffer(data, size, &tz, err, sizeof err) != MLF_OK)
        return 0;
    static const mlf_time_us probes[] = {INT64_MIN / 4, -2208988800LL * 1000000, 0, 1700000000LL * 1000000,
                                         4102444800LL * 1000000, INT64_MAX / 4};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int32_t off = mlf_tz_utoff_at(tz, probes[i]);
        if (off < -26 * 3600 || off > 26 * 3600)
            abort(); /* the reader bounds offsets */
        int64_t local = mlf_tz_to_local(tz, probes[i]);
        (void)mlf_tz_from_local(tz, local, 0);
        (void)mlf_tz_from_local(tz, local, 1);
    }
    mlf_tz_free_parsed(tz);
    return 0;
}
