/* libFuzzer target for mlf_value_unpack(): any bytes either decode or give a documented error, and
 * whatever decodes packs, decodes again to an equal value, and packs to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "value/value_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlf_value *v = NULL;
    int rc = mlf_value_unpack(data, size, &v);
    size_t used;
    int pre = mlf_msgpack_prescan(data, size, MLF_VALUE_MAX_DEPTH, &used);
    if (rc != MLF_OK) {
        if ((rc != MLF_EPARSE && rc != MLF_ETYPE && rc != MLF_ERANGE) || v)
            abort();
        /* Failures the pre-scan did not see can only be trailing bytes or a duplicate key. */
        if (pre == MLF_OK && rc != MLF_EPARSE)
            abort();
        return 0;
    }
    if (pre != MLF_OK || used != size)
        abort();

    void *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    mlf_value *back = NULL;
    if (mlf_value_pack(v, &buf, &len) != MLF_OK || mlf_value_unpack(buf, len, &back) != MLF_OK ||
        !mlf_value_equal(v, back) || !mlf_value_equal(back, v))
        abort();
    if (mlf_value_pack(back, &buf2, &len2) != MLF_OK || len2 != len || memcmp(buf, buf2, len) != 0)
        abort();

    /* The other consumers of decoded values must cope with anything that decodes. */
    char *json = NULL, *shown = mlf_value_to_display(v);
    mlf_value *copy = mlf_value_copy(v);
    if (mlf_value_to_json(v, &json) != MLF_OK || !shown || !mlf_value_equal(copy, v))
        abort();

    free(json);
    free(shown);
    free(buf);
    free(buf2);
    mlf_value_free(copy);
    mlf_value_free(back);
    mlf_value_free(v);
    return 0;
}
