/* value_codec.c -- dynamic values to and from msgpack.
 *
 * Packing uses msgpack-c's packer. Unpacking does not use msgpack-c's unpacker: its parser trusts array
 * and map headers (a 5-byte input asks it for gigabytes), and its nesting stack is fixed at build time
 * (MSGPACK_EMBED_STACK_SIZE, 32 in Debian's library), below the MLF_VALUE_MAX_DEPTH we promise. So bytes
 * are first validated by mlf_msgpack_prescan() without allocating, then decoded by a small recursive
 * reader built on the same header parser; both stages share read_head(), so they cannot disagree on the
 * format.
 *
 * Beyond the errors value.h lists, mlf_value_unpack() rejects a map with two equal keys (MLF_EPARSE:
 * msgpack leaves them undefined and no writer of ours produces them), and mlf_value_pack() refuses a
 * value nested deeper than MLF_VALUE_MAX_DEPTH or a str/bin/array/map longer than msgpack's 2^32-1
 * (MLF_EINVAL): the receiver could not decode it. */
#include "value/value_codec.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "value/value_internal.h"

/* ---------------------------------------------------------------------------------------- reading */

typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
} reader;

/* One msgpack header with its payload: a scalar, the bytes of a str/bin, or the count of an array/map. */
typedef struct head {
    mlf_type type;
    union {
        int b;
        int64_t i;
        double d;
        struct {
            const char *p;
            size_t n;
        } s;
        size_t count; /* elements of an array, entries of a map */
    } u;
} head;

/* Reads an unsigned big-endian integer of @p n bytes; the caller checked they are there. */
static uint64_t read_be(reader *r, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | r->p[r->pos + i];
    r->pos += n;
    return x;
}

/* Reads the header at the reader's position and its payload. Checks every length against the bytes that
 * remain: a str/bin needs its n bytes, an array needs one byte per element, a map two per entry.
 * Returns MLF_OK, MLF_EPARSE or MLF_ETYPE. */
static int read_head(reader *r, head *h)
{
    size_t left = r->len - r->pos;
    if (left == 0)
        return MLF_EPARSE;
    unsigned c = r->p[r->pos++];
    left--;

    size_t width = 0; /* bytes of the length or number that follow the type byte */
    uint64_t n = 0;
    if (c <= 0x7f) {
        h->type = MLF_INT;
        h->u.i = c;
        return MLF_OK;
    }
    if (c >= 0xe0) {
        h->type = MLF_INT;
        h->u.i = (int64_t)c - 256;
        return MLF_OK;
    }
    if (c <= 0x8f) {
        h->type = MLF_MAP;
        n = c & 0x0f;
        goto container;
    }
    if (c <= 0x9f) {
        h->type = MLF_ARRAY;
        n = c & 0x0f;
        goto container;
    }
    if (c <= 0xbf) {
        h->type = MLF_STR;
        n = c & 0x1f;
        goto bytes;
    }
    switch (c) {
    case 0xc0:
        h->type = MLF_NIL;
        return MLF_OK;
    case 0xc2:
    case 0xc3:
        h->type = MLF_BOOL;
        h->u.b = c == 0xc3;
        return MLF_OK;
    case 0xc4: case 0xc5: case 0xc6: /* bin 8/16/32 */
        h->type = MLF_BIN;
        width = (size_t)1 << (c - 0xc4);
        break;
    case 0xc7: case 0xc8: case 0xc9: /* ext 8/16/32 */
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: /* fixext 1..16 */
        return MLF_ETYPE;
    case 0xca: case 0xcb: { /* float 32/64 */
        width = c == 0xca ? 4 : 8;
        if (left < width)
            return MLF_EPARSE;
        uint64_t bits = read_be(r, width);
        h->type = MLF_FLOAT;
        if (width == 4) {
            uint32_t b32 = (uint32_t)bits;
            float f;
            memcpy(&f, &b32, sizeof f);
            h->u.d = f;
        } else
            memcpy(&h->u.d, &bits, sizeof h->u.d);
        return MLF_OK;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf: /* uint 8..64 */
        width = (size_t)1 << (c - 0xcc);
        if (left < width)
            return MLF_EPARSE;
        n = read_be(r, width);
        if (n > INT64_MAX)
            return MLF_ETYPE;
        h->type = MLF_INT;
        h->u.i = (int64_t)n;
        return MLF_OK;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: /* int 8..64 */
        width = (size_t)1 << (c - 0xd0);
        if (left < width)
            return MLF_EPARSE;
        n = read_be(r, width);
        if (width < 8 && (n >> (width * 8 - 1))) /* sign-extend */
            n |= ~(uint64_t)0 << (width * 8);
        h->type = MLF_INT;
        memcpy(&h->u.i, &n, sizeof h->u.i);
        return MLF_OK;
    case 0xd9: case 0xda: case 0xdb: /* str 8/16/32 */
        h->type = MLF_STR;
        width = (size_t)1 << (c - 0xd9);
        break;
    case 0xdc: case 0xdd: /* array 16/32 */
        h->type = MLF_ARRAY;
        width = c == 0xdc ? 2 : 4;
        break;
    case 0xde: case 0xdf: /* map 16/32 */
        h->type = MLF_MAP;
        width = c == 0xde ? 2 : 4;
        break;
    default: /* 0xc1 is never used */
        return MLF_EPARSE;
    }
    if (left < width)
        return MLF_EPARSE;
    n = read_be(r, width);
    left -= width;
    if (h->type == MLF_ARRAY || h->type == MLF_MAP)
        goto container;
bytes:
    if (n > left)
        return MLF_EPARSE;
    h->u.s.p = (const char *)r->p + r->pos;
    h->u.s.n = (size_t)n;
    r->pos += (size_t)n;
    return MLF_OK;
container:
    if (n > (h->type == MLF_MAP ? left / 2 : left))
        return MLF_EPARSE;
    h->u.count = (size_t)n;
    return MLF_OK;
}

/* An open array or map during the pre-scan: elements still to read (two per map entry). */
typedef struct open_container {
    size_t left;
    bool map;
} open_container;

int mlf_msgpack_prescan(const void *buf, size_t len, size_t max_depth, size_t *consumed)
{
    return mlf_msgpack_prescan_budget(buf, len, max_depth, SIZE_MAX, consumed);
}

int mlf_msgpack_prescan_budget(const void *buf, size_t len, size_t max_depth, size_t max_values, size_t *consumed)
{
    if (!buf && len)
        return MLF_EINVAL;
    reader r = {.p = buf, .len = len};
    size_t values = 0;
    open_container local[16], *stack = local;
    size_t cap = sizeof local / sizeof local[0], depth = 0;
    int rc;
    do {
        open_container *top = depth ? &stack[depth - 1] : NULL;
        bool is_key = top && top->map && top->left % 2 == 0;
        head h;
        if ((rc = read_head(&r, &h)) != MLF_OK)
            break;
        if (is_key && h.type != MLF_STR) {
            rc = MLF_ETYPE;
            break;
        }
        if (++values > max_values) {
            rc = MLF_ETOOBIG;
            break;
        }
        if (top)
            top->left--;
        if (h.type == MLF_ARRAY || h.type == MLF_MAP) {
            if (depth >= max_depth) {
                rc = MLF_ERANGE;
                break;
            }
            if (depth == cap) {
                open_container *s = malloc(2 * cap * sizeof *s);
                if (!s) {
                    rc = MLF_ENOMEM;
                    break;
                }
                memcpy(s, stack, depth * sizeof *s);
                if (stack != local)
                    free(stack);
                stack = s;
                cap *= 2;
            }
            bool map = h.type == MLF_MAP;
            stack[depth++] = (open_container){.left = map ? 2 * h.u.count : h.u.count, .map = map};
        }
        while (depth && stack[depth - 1].left == 0)
            depth--;
    } while (depth);
    if (stack != local)
        free(stack);
    if (rc == MLF_OK && consumed)
        *consumed = r.pos;
    return rc;
}

/* Decodes the value at the reader's position. The bytes passed the pre-scan, so depth is bounded by
 * MLF_VALUE_MAX_DEPTH and counts by the input size; errors are still propagated, never assumed away. */
static int decode(reader *r, mlf_value **out)
{
    head h;
    int rc = read_head(r, &h);
    *out = NULL;
    if (rc != MLF_OK)
        return rc;
    mlf_value *v = NULL;
    switch (h.type) {
    case MLF_NIL:
        v = mlf_value_nil();
        break;
    case MLF_BOOL:
        v = mlf_value_bool(h.u.b);
        break;
    case MLF_INT:
        v = mlf_value_int(h.u.i);
        break;
    case MLF_FLOAT:
        v = mlf_value_float(h.u.d);
        break;
    case MLF_STR:
        v = mlf_value_strn(h.u.s.p, h.u.s.n);
        break;
    case MLF_BIN:
        v = mlf_value_bin(h.u.s.p, h.u.s.n);
        break;
    case MLF_ARRAY:
        v = mlf_value_array();
        if (v)
            rc = mlf_value_reserve(v, h.u.count);
        for (size_t i = 0; v && rc == MLF_OK && i < h.u.count; i++) {
            mlf_value *item;
            if ((rc = decode(r, &item)) == MLF_OK)
                rc = mlf_array_append(v, item);
        }
        break;
    case MLF_MAP:
        v = mlf_value_map();
        if (v)
            rc = mlf_value_reserve(v, h.u.count);
        for (size_t i = 0; v && rc == MLF_OK && i < h.u.count; i++) {
            head key;
            mlf_value *val;
            if ((rc = read_head(r, &key)) != MLF_OK)
                break;
            if (key.type != MLF_STR) {
                rc = MLF_ETYPE;
                break;
            }
            if ((rc = decode(r, &val)) == MLF_OK)
                rc = mlf_map_add_n(v, key.u.s.p, key.u.s.n, val);
        }
        break;
    }
    return mlf_value_decoded(v, rc, out);
}

int mlf_value_unpack(const void *buf, size_t len, mlf_value **out)
{
    if (!out)
        return MLF_EINVAL;
    *out = NULL;
    size_t used = 0;
    int rc = mlf_msgpack_prescan(buf, len, MLF_VALUE_MAX_DEPTH, &used);
    if (rc != MLF_OK)
        return rc;
    if (used != len)
        return MLF_EPARSE; /* trailing bytes */
    reader r = {.p = buf, .len = len};
    return decode(&r, out);
}

/* ---------------------------------------------------------------------------------------- writing */

/* Packs @p v; a msgpack-c failure can only be its buffer's realloc(). */
static int pack(msgpack_packer *pk, const mlf_value *v)
{
    size_t n = mlf_value_len(v);
    if (n > UINT32_MAX)
        return MLF_EINVAL;
    int bad = 0; /* msgpack-c returns -1 on failure */
    switch (mlf_value_type(v)) {
    case MLF_NIL:
        bad = msgpack_pack_nil(pk);
        break;
    case MLF_BOOL: {
        int b = 0;
        mlf_value_get_bool(v, &b);
        bad = b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        break;
    }
    case MLF_INT: {
        int64_t i = 0;
        mlf_value_get_int(v, &i);
        bad = msgpack_pack_int64(pk, i);
        break;
    }
    case MLF_FLOAT: {
        double d = 0;
        mlf_value_get_float(v, &d);
        bad = msgpack_pack_double(pk, d);
        break;
    }
    case MLF_STR:
        bad = msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, mlf_value_get_str(v, NULL), n);
        break;
    case MLF_BIN:
        bad = msgpack_pack_bin(pk, n) || msgpack_pack_bin_body(pk, mlf_value_get_bin(v, NULL), n);
        break;
    case MLF_ARRAY:
        if (msgpack_pack_array(pk, n))
            return MLF_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = pack(pk, mlf_array_at(v, i));
            if (rc != MLF_OK)
                return rc;
        }
        break;
    case MLF_MAP:
        if (msgpack_pack_map(pk, n))
            return MLF_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            size_t klen = 0;
            const char *key = mlf_map_key_n_at(v, i, &klen);
            if (klen > UINT32_MAX)
                return MLF_EINVAL;
            if (msgpack_pack_str(pk, klen) || msgpack_pack_str_body(pk, key, klen))
                return MLF_ENOMEM;
            int rc = pack(pk, mlf_map_value_at(v, i));
            if (rc != MLF_OK)
                return rc;
        }
        break;
    }
    return bad ? MLF_ENOMEM : MLF_OK;
}

int mlf_value_pack(const mlf_value *v, void **buf, size_t *len)
{
    if (!v || !buf || !len)
        return MLF_EINVAL;
    *buf = NULL;
    *len = 0;
    if (mlf_value_depth(v, MLF_VALUE_MAX_DEPTH) > MLF_VALUE_MAX_DEPTH)
        return MLF_EINVAL;
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    int rc = pack(&pk, v);
    if (rc != MLF_OK) {
        msgpack_sbuffer_destroy(&sbuf);
        return rc;
    }
    *len = sbuf.size;
    *buf = msgpack_sbuffer_release(&sbuf);
    return MLF_OK;
}
