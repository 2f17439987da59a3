/* libFuzzer target for connection URIs and JSON (core/conf/conn_uri.c): any bytes as
 * MLFLOWD_CONN_<ID>. It must never crash, leak or hang; a URI it accepts must print back to a URI that
 * parses again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conn_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    mlf_conn_rec rec;
    mlf_conn_rec_init(&rec);
    char err[300];
    if (mlf_conn_from_uri("fuzz", s, &rec, err, sizeof err) == MLF_OK) {
        char *back = NULL;
        if (mlf_conn_to_uri(&rec, 0, &back) == MLF_OK && back) {
            mlf_conn_rec again;
            mlf_conn_rec_init(&again);
            if (mlf_conn_from_uri("fuzz", back, &again, err, sizeof err) != MLF_OK)
                abort(); /* what we print must parse */
            mlf_conn_rec_clear(&again);
        }
        free(back);
        mlf_value *v = NULL;
        mlf_conn_to_value(&rec, 0, &v);
        mlf_value_free(v);
    }
    mlf_conn_rec_clear(&rec);
    mlf_conn_rec_init(&rec);
    if (mlf_conn_from_json("fuzz", s, size, &rec, err, sizeof err) == MLF_OK) {
        mlf_value *v = NULL;
        mlf_conn_to_value(&rec, 0, &v);
        mlf_value_free(v);
    }
    mlf_conn_rec_clear(&rec);
    free(s);
    return 0;
}
