/* libFuzzer target for the state store's record decoder with sealed secrets (core/store/store_codec.c,
 * core/store/store_secrets.c): any bytes as a stored connection record, which must decode or be refused,
 * never crash or leak; and a password sealed from the input, which must open to exactly the input, and no
 * longer open once any one byte of the stored record is changed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mlf_store *st;
    if (!st) { /* the codec needs only the key of a store */
        mlf_log_set_level((mlf_log_level)(MLF_LOG_ERROR + 1)); /* failures to open are expected */
        st = calloc(1, sizeof *st);
        if (!st)
            return 0;
        st->has_key = true;
        memset(st->key, 0x5a, sizeof st->key);
    }
    if (size < 1 || size > 8192)
        return 0;
    MDB_val k = {2, "fz"};
    mlf_conn_rec rec;
    if (data[0] & 1) { /* the input is a stored record */
        MDB_val v = {size - 1, (void *)(data + 1)};
        if (mlf_st_rec_decode_st(st, &mlf_st_conn_type, &k, &v, &rec) == MLF_OK)
            mlf_conn_rec_clear(&rec);
        return 0;
    }
    /* the input is a password: sealed, it opens to itself; one changed byte and it does not open */
    char *pw = malloc(size);
    if (!pw)
        return 0;
    memcpy(pw, data + 1, size - 1);
    pw[size - 1] = '\0';
    mlf_conn_rec_init(&rec);
    rec.conn_id = "fz";
    rec.password = pw;
    mlf_buf b = {0};
    if (mlf_st_rec_encode_st(st, &mlf_st_conn_type, &rec, &b) == MLF_OK) {
        MDB_val v = {b.len, b.data};
        mlf_conn_rec out;
        if (mlf_st_rec_decode_st(st, &mlf_st_conn_type, &k, &v, &out) != MLF_OK || !out.password ||
            strcmp(out.password, pw) != 0)
            abort();
        mlf_conn_rec_clear(&out);
        size_t at = (size_t)data[0] * 7919u % b.len; /* any byte, ciphertext and header alike */
        b.data[at] ^= (uint8_t)(data[0] | 0x80);
        if (mlf_st_rec_decode_st(st, &mlf_st_conn_type, &k, &v, &out) == MLF_OK) {
            if (out.password && strcmp(out.password, pw) != 0)
                abort(); /* a changed field name may still decode, never to another secret */
            mlf_conn_rec_clear(&out);
        }
    }
    mlf_buf_free(&b);
    free(pw);
    return 0;
}
