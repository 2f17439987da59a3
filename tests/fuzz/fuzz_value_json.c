/* libFuzzer target for mlf_value_from_json(): any text either parses or gives a documented error with a
 * message, and whatever parses prints as JSON that parses back to an equal value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "value/value_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlf_value *v = NULL;
    char err[160] = "";
    int rc = mlf_value_from_json((const char *)data, size, &v, err, sizeof err);
    if (rc != MLF_OK) {
        if ((rc != MLF_EPARSE && rc != MLF_ERANGE) || v || !err[0])
            abort();
        return 0;
    }
    char *json = NULL;
    mlf_value *back = NULL;
    if (mlf_value_to_json(v, &json) != MLF_OK ||
        mlf_value_from_json(json, strlen(json), &back, err, sizeof err) != MLF_OK || !mlf_value_equal(v, back))
        abort();
    free(json);
    mlf_value_free(back);
    mlf_value_free(v);
    return 0;
}
