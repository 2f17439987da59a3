/* libFuzzer target for mlf_proto_decode(), the MLFW/1 frame decoder: any frames either decode or give a
 * documented error with a message, and whatever decodes encodes again and decodes to the same message.
 *
 * Input layout: byte 0 chooses the frame count (0..4); each frame but the last is a 1-byte length followed
 * by that many bytes; the last frame is the rest of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    mlf_proto_frame frames[4];
    size_t n = data[0] % 5, pos = 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = size - pos;
        if (i + 1 < n) {
            if (pos >= size)
                return 0;
            len = data[pos++];
            if (len > size - pos)
                len = size - pos;
        }
        frames[i] = (mlf_proto_frame){data + pos, len};
        pos += len;
    }
    mlf_proto_msg m;
    char err[512] = "";
    int rc = mlf_proto_decode(frames, n, &m, err, sizeof err);
    if (rc != MLF_OK) {
        if ((rc != MLF_EPARSE && rc != MLF_ENOTSUP && rc != MLF_ETOOBIG && rc != MLF_ENOMEM) || !err[0])
            abort();
        mlf_proto_msg_clear(&m);
        return 0;
    }
    /* a decoded message re-encodes (unknown fields dropped) and decodes to the same command and fields */
    void *body = NULL;
    size_t len = 0;
    if (mlf_proto_encode(&m, &body, &len) != MLF_OK)
        abort();
    unsigned char cmd = (unsigned char)m.cmd;
    mlf_proto_frame again[3] = {{MLF_PROTO_SIGNATURE, MLF_PROTO_SIGNATURE_LEN}, {&cmd, 1}, {body, len}};
    mlf_proto_msg m2;
    if (mlf_proto_decode(again, 3, &m2, err, sizeof err) != MLF_OK || m2.cmd != m.cmd ||
        (m.attempt && strcmp(m.attempt, m2.attempt) != 0) || (m.name && strcmp(m.name, m2.name) != 0) ||
        m.capacity != m2.capacity || m.nqueues != m2.nqueues || m.noperators != m2.noperators ||
        m.data_len != m2.data_len || (m.data_len && memcmp(m.data, m2.data, m.data_len) != 0))
        abort();
    mlf_proto_msg_clear(&m2);
    mlf_proto_msg_clear(&m);
    free(body);
    return 0;
}
