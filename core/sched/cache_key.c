/*
 * cache_key.c -- cache keys: a BLAKE2b digest over a canonical, type-tagged walk of the inputs
 * (cache_key.h, doc/caching.md "Key composition").
 */
#include "sched/cache_key.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first bytes hashed: a new layout of the walk below gets a new domain, so old keys simply miss. */
#define DOMAIN "mlflowd-cache-key-1"

typedef crypto_generichash_state hstate;

static void h_bytes(hstate *h, const void *p, size_t n)
{
    crypto_generichash_update(h, p, n);
}

static void h_u64(hstate *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    h_bytes(h, b, sizeof b);
}

static void h_tag(hstate *h, char tag)
{
    h_bytes(h, &tag, 1);
}

/* A length-prefixed string; NULL hashes as its own tag, so that absent and "" differ. */
static void h_str(hstate *h, const char *s, size_t n)
{
    if (!s) {
        h_tag(h, 'N');
        return;
    }
    h_tag(h, 's');
    h_u64(h, n);
    h_bytes(h, s, n);
}

static void h_cstr(hstate *h, const char *s)
{
    h_str(h, s, s ? strlen(s) : 0);
}

typedef struct keyed {
    const char *key;
    const mlf_value *val;
} keyed;

static int by_key(const void *a, const void *b)
{
    return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

/* The canonical walk of @p v: a type tag, then the content; maps in key order. */
static int h_value(hstate *h, const mlf_value *v, int depth)
{
    if (depth > MLF_VALUE_MAX_DEPTH)
        return MLF_EINVAL;
    switch (mlf_value_type(v)) {
    case MLF_NIL:
        h_tag(h, 'n');
        return MLF_OK;
    case MLF_BOOL: {
        int b = 0;
        mlf_value_get_bool(v, &b);
        h_tag(h, b ? 'T' : 'F');
        return MLF_OK;
    }
    case MLF_INT: {
        int64_t i = 0;
        mlf_value_get_int(v, &i);
        h_tag(h, 'i');
        h_u64(h, (uint64_t)i);
        return MLF_OK;
    }
    case MLF_FLOAT: {
        double d = 0;
        mlf_value_get_float(v, &d);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        h_tag(h, 'f');
        h_u64(h, bits);
        return MLF_OK;
    }
    case MLF_STR: {
        size_t n = 0;
        const char *s = mlf_value_get_str(v, &n);
        h_str(h, s ? s : "", n);
        return MLF_OK;
    }
    case MLF_BIN: {
        size_t n = 0;
        const void *p = mlf_value_get_bin(v, &n);
        h_tag(h, 'b');
        h_u64(h, n);
        if (n)
            h_bytes(h, p, n);
        return MLF_OK;
    }
    case MLF_ARRAY: {
        size_t n = mlf_value_len(v);
        h_tag(h, 'a');
        h_u64(h, n);
        for (size_t i = 0; i < n; i++) {
            int rc = h_value(h, mlf_array_at(v, i), depth + 1);
            if (rc != MLF_OK)
                return rc;
        }
        return MLF_OK;
    }
    case MLF_MAP: {
        size_t n = mlf_value_len(v);
        keyed *kv = n ? malloc(n * sizeof *kv) : NULL;
        if (n && !kv)
            return MLF_ENOMEM;
        for (size_t i = 0; i < n; i++)
            kv[i] = (keyed){mlf_map_key_at(v, i), mlf_map_value_at(v, i)};
        if (n > 1)
            qsort(kv, n, sizeof *kv, by_key);
        h_tag(h, 'm');
        h_u64(h, n);
        int rc = MLF_OK;
        for (size_t i = 0; i < n && rc == MLF_OK; i++) {
            h_cstr(h, kv[i].key);
            rc = h_value(h, kv[i].val, depth + 1);
        }
        free(kv);
        return rc;
    }
    }
    return MLF_EINVAL;
}

int mlf_cache_key(const mlf_cache_inputs *in, uint8_t out[MLF_CACHE_DIGEST_LEN])
{
    if (!in || !out || !in->dag_id || !in->task_id)
        return MLF_EINVAL;
    hstate h;
    crypto_generichash_init(&h, NULL, 0, MLF_CACHE_DIGEST_LEN);
    h_cstr(&h, DOMAIN);
    h_cstr(&h, in->dag_id);
    h_cstr(&h, in->task_id);
    h_u64(&h, (uint64_t)(int64_t)in->map_index);
    int rc = MLF_OK;
    if (in->user_key) {
        /* key: the user's template decides; the map index keeps a mapped task's instances apart */
        h_tag(&h, 'K');
        h_cstr(&h, in->user_key);
    } else {
        h_tag(&h, 'A');
        h_cstr(&h, in->operator_name);
        h_cstr(&h, in->operator_version);
        if (in->plugin_digest) {
            h_tag(&h, 'd');
            h_bytes(&h, in->plugin_digest, MLF_CACHE_DIGEST_LEN);
        } else {
            h_tag(&h, 'N');
        }
        rc = h_value(&h, in->params, 0);
        if (rc == MLF_OK)
            rc = h_value(&h, in->xcom_inputs, 0);
    }
    crypto_generichash_final(&h, out, MLF_CACHE_DIGEST_LEN);
    return rc;
}

void mlf_cache_digest_hex(const uint8_t digest[MLF_CACHE_DIGEST_LEN], char out[2 * MLF_CACHE_DIGEST_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < MLF_CACHE_DIGEST_LEN; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * MLF_CACHE_DIGEST_LEN] = '\0';
}

int mlf_cache_file_digest(const char *path, uint8_t out[MLF_CACHE_DIGEST_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    hstate h;
    crypto_generichash_init(&h, NULL, 0, MLF_CACHE_DIGEST_LEN);
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return e;
        }
        if (n == 0)
            break;
        h_bytes(&h, buf, (size_t)n);
    }
    close(fd);
    crypto_generichash_final(&h, out, MLF_CACHE_DIGEST_LEN);
    return MLF_OK;
}
