/* value.c -- the dynamic value type: constructors, accessors, arrays, insertion-ordered maps, copy,
 * equality and display. */
#include "value/value_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

/* Maps of fewer entries than this are searched linearly; from this size on they keep a hash index. */
#define MAP_INDEX_MIN 16

typedef struct map_entry {
    char *key; /* NUL-terminated copy; klen bytes, which may include NULs */
    size_t klen;
    uint64_t hash;
    mlf_value *val;
} map_entry;

struct mlf_value {
    mlf_type type;
    union {
        int b;
        int64_t i;
        double d;
        struct { /* str and bin; str data is NUL-terminated */
            char *p;
            size_t n;
        } s;
        struct {
            mlf_value **items;
            size_t n, cap;
        } a;
        struct {
            map_entry *e;
            size_t n, cap;
            /* Open-addressing index over e[], built once n reaches MAP_INDEX_MIN and kept up to date by
             * every write (reads never modify a map, so shared read-only maps stay thread-safe). Slots
             * hold entry position + 1, 0 is empty; NULL when absent or when building it ran out of
             * memory (lookups then scan). */
            size_t *index;
            size_t index_cap; /* power of two, at least twice n */
            uint64_t seed;
        } m;
    } u;
};

static mlf_value *value_new(mlf_type t)
{
    mlf_value *v = calloc(1, sizeof *v);
    if (v)
        v->type = t;
    return v;
}

mlf_value *mlf_value_nil(void)
{
    return value_new(MLF_NIL);
}

mlf_value *mlf_value_bool(int b)
{
    mlf_value *v = value_new(MLF_BOOL);
    if (v)
        v->u.b = b != 0;
    return v;
}

mlf_value *mlf_value_int(int64_t i)
{
    mlf_value *v = value_new(MLF_INT);
    if (v)
        v->u.i = i;
    return v;
}

mlf_value *mlf_value_float(double d)
{
    mlf_value *v = value_new(MLF_FLOAT);
    if (v)
        v->u.d = d;
    return v;
}

/* A str or bin holding a NUL-terminated copy of @p n bytes at @p p. */
static mlf_value *bytes_new(mlf_type t, const void *p, size_t n)
{
    if ((!p && n) || n == SIZE_MAX)
        return NULL;
    mlf_value *v = value_new(t);
    if (!v)
        return NULL;
    v->u.s.p = malloc(n + 1);
    if (!v->u.s.p) {
        free(v);
        return NULL;
    }
    if (n)
        memcpy(v->u.s.p, p, n);
    v->u.s.p[n] = '\0';
    v->u.s.n = n;
    return v;
}

mlf_value *mlf_value_str(const char *s)
{
    return s ? bytes_new(MLF_STR, s, strlen(s)) : NULL;
}

mlf_value *mlf_value_strn(const char *s, size_t n)
{
    return bytes_new(MLF_STR, s, n);
}

mlf_value *mlf_value_bin(const void *p, size_t n)
{
    return bytes_new(MLF_BIN, p, n);
}

mlf_value *mlf_value_array(void)
{
    return value_new(MLF_ARRAY);
}

mlf_value *mlf_value_map(void)
{
    mlf_value *v = value_new(MLF_MAP);
    if (v) {
        /* A per-map hash seed keeps hostile keys from aiming at one bucket: heap addresses vary
         * between processes (ASLR), and mixing them through splitmix64 spreads them. */
        uint64_t z = (uint64_t)(uintptr_t)v + 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        v->u.m.seed = z ^ (z >> 31);
    }
    return v;
}

void mlf_value_free(mlf_value *v)
{
    if (!v)
        return;
    switch (v->type) {
    case MLF_STR:
    case MLF_BIN:
        free(v->u.s.p);
        break;
    case MLF_ARRAY:
        for (size_t i = 0; i < v->u.a.n; i++)
            mlf_value_free(v->u.a.items[i]);
        free(v->u.a.items);
        break;
    case MLF_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) {
            free(v->u.m.e[i].key);
            mlf_value_free(v->u.m.e[i].val);
        }
        free(v->u.m.e);
        free(v->u.m.index);
        break;
    default:
        break;
    }
    free(v);
}

mlf_type mlf_value_type(const mlf_value *v)
{
    return v ? v->type : MLF_NIL;
}

const char *mlf_type_name(mlf_type t)
{
    static const char *const names[] = {"nil", "bool", "int", "float", "str", "bin", "array", "map"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

int mlf_value_get_bool(const mlf_value *v, int *out)
{
    if (!v || v->type != MLF_BOOL)
        return MLF_ETYPE;
    *out = v->u.b;
    return MLF_OK;
}

int mlf_value_get_int(const mlf_value *v, int64_t *out)
{
    if (!v || v->type != MLF_INT)
        return MLF_ETYPE;
    *out = v->u.i;
    return MLF_OK;
}

int mlf_value_get_float(const mlf_value *v, double *out)
{
    if (v && v->type == MLF_FLOAT)
        *out = v->u.d;
    else if (v && v->type == MLF_INT)
        *out = (double)v->u.i;
    else
        return MLF_ETYPE;
    return MLF_OK;
}

const char *mlf_value_get_str(const mlf_value *v, size_t *len)
{
    if (!v || v->type != MLF_STR)
        return NULL;
    if (len)
        *len = v->u.s.n;
    return v->u.s.p;
}

const void *mlf_value_get_bin(const mlf_value *v, size_t *len)
{
    if (!v || v->type != MLF_BIN)
        return NULL;
    if (len)
        *len = v->u.s.n;
    return v->u.s.p;
}

size_t mlf_value_len(const mlf_value *v)
{
    switch (mlf_value_type(v)) {
    case MLF_STR:
    case MLF_BIN:
        return v->u.s.n;
    case MLF_ARRAY:
        return v->u.a.n;
    case MLF_MAP:
        return v->u.m.n;
    default:
        return 0;
    }
}

/* Grows *@p mem (of *@p cap elements of @p size bytes) to hold at least @p need elements, doubling so
 * that appends cost amortised O(1). */
static int grow(void **mem, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return MLF_OK;
    size_t c = *cap ? *cap : 4;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return MLF_ENOMEM;
        c *= 2;
    }
    if (c > SIZE_MAX / size)
        return MLF_ENOMEM;
    void *p = realloc(*mem, c * size);
    if (!p)
        return MLF_ENOMEM;
    *mem = p;
    *cap = c;
    return MLF_OK;
}

int mlf_value_reserve(mlf_value *v, size_t n)
{
    if (!v)
        return MLF_EINVAL;
    if (v->type == MLF_ARRAY) {
        if (n > SIZE_MAX - v->u.a.n)
            return MLF_ENOMEM;
        return grow((void **)&v->u.a.items, &v->u.a.cap, v->u.a.n + n, sizeof *v->u.a.items);
    }
    if (v->type == MLF_MAP) {
        if (n > SIZE_MAX - v->u.m.n)
            return MLF_ENOMEM;
        return grow((void **)&v->u.m.e, &v->u.m.cap, v->u.m.n + n, sizeof *v->u.m.e);
    }
    return MLF_ETYPE;
}

int mlf_array_append(mlf_value *arr, mlf_value *item)
{
    if (!item)
        return MLF_EINVAL;
    int rc = !arr ? MLF_EINVAL : arr->type != MLF_ARRAY ? MLF_ETYPE : mlf_value_reserve(arr, 1);
    if (rc != MLF_OK) {
        mlf_value_free(item);
        return rc;
    }
    arr->u.a.items[arr->u.a.n++] = item;
    return MLF_OK;
}

const mlf_value *mlf_array_at(const mlf_value *arr, size_t i)
{
    if (!arr || arr->type != MLF_ARRAY || i >= arr->u.a.n)
        return NULL;
    return arr->u.a.items[i];
}

/* ---------------------------------------------------------------------------------------- maps */

/* A keyed hash over the key's bytes, 8 at a time, finished with murmur3's avalanche. */
static uint64_t key_hash(uint64_t seed, const char *key, size_t klen)
{
    uint64_t h = seed ^ (klen * 0x9e3779b97f4a7c15ULL);
    size_t i = 0;
    for (; i + 8 <= klen; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    memcpy(&w, key + i, klen - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Puts entry @p pos into index slots of @p index (capacity @p cap, a power of two). */
static void index_put(size_t *index, size_t cap, uint64_t hash, size_t pos)
{
    size_t s = (size_t)hash & (cap - 1);
    while (index[s])
        s = (s + 1) & (cap - 1);
    index[s] = pos + 1;
}

/* Rebuilds the index of @p map from its entries, or drops it below MAP_INDEX_MIN entries. Running out
 * of memory only leaves the map without an index: lookups fall back to scanning. */
static void index_rebuild(mlf_value *map)
{
    free(map->u.m.index);
    map->u.m.index = NULL;
    map->u.m.index_cap = 0;
    if (map->u.m.n < MAP_INDEX_MIN)
        return;
    size_t cap = 64;
    while (cap < map->u.m.n * 2 + 2)
        cap *= 2;
    size_t *index = calloc(cap, sizeof *index);
    if (!index)
        return;
    for (size_t i = 0; i < map->u.m.n; i++)
        index_put(index, cap, map->u.m.e[i].hash, i);
    map->u.m.index = index;
    map->u.m.index_cap = cap;
}

/* Position of @p key in @p map, or -1. */
static ptrdiff_t map_find(const mlf_value *map, const char *key, size_t klen, uint64_t hash)
{
    const map_entry *e = map->u.m.e;
    if (map->u.m.index) {
        size_t cap = map->u.m.index_cap;
        for (size_t s = (size_t)hash & (cap - 1); map->u.m.index[s]; s = (s + 1) & (cap - 1)) {
            size_t pos = map->u.m.index[s] - 1;
            if (e[pos].hash == hash && e[pos].klen == klen && memcmp(e[pos].key, key, klen) == 0)
                return (ptrdiff_t)pos;
        }
        return -1;
    }
    for (size_t i = 0; i < map->u.m.n; i++)
        if (e[i].klen == klen && memcmp(e[i].key, key, klen) == 0)
            return (ptrdiff_t)i;
    return -1;
}

/* Appends a new entry; the key must be absent. Takes ownership of @p val only on success. */
static int map_append(mlf_value *map, const char *key, size_t klen, uint64_t hash, mlf_value *val)
{
    if (klen == SIZE_MAX || mlf_value_reserve(map, 1) != MLF_OK)
        return MLF_ENOMEM;
    char *k = malloc(klen + 1);
    if (!k)
        return MLF_ENOMEM;
    memcpy(k, key, klen);
    k[klen] = '\0';
    size_t pos = map->u.m.n++;
    map->u.m.e[pos] = (map_entry){.key = k, .klen = klen, .hash = hash, .val = val};
    if (map->u.m.index && map->u.m.n * 2 + 2 <= map->u.m.index_cap)
        index_put(map->u.m.index, map->u.m.index_cap, hash, pos);
    else
        index_rebuild(map);
    return MLF_OK;
}

/* Checks the arguments of a map write; frees @p val when they are wrong. */
static int map_check(mlf_value *map, const char *key, mlf_value *val)
{
    int rc = !map || !key || !val ? MLF_EINVAL : map->type != MLF_MAP ? MLF_ETYPE : MLF_OK;
    if (rc != MLF_OK)
        mlf_value_free(val);
    return rc;
}

int mlf_map_set(mlf_value *map, const char *key, mlf_value *val)
{
    int rc = map_check(map, key, val);
    if (rc != MLF_OK)
        return rc;
    size_t klen = strlen(key);
    uint64_t hash = key_hash(map->u.m.seed, key, klen);
    ptrdiff_t pos = map_find(map, key, klen, hash);
    if (pos >= 0) {
        mlf_value_free(map->u.m.e[pos].val);
        map->u.m.e[pos].val = val;
        return MLF_OK;
    }
    rc = map_append(map, key, klen, hash, val);
    if (rc != MLF_OK)
        mlf_value_free(val);
    return rc;
}

int mlf_map_add_n(mlf_value *map, const char *key, size_t klen, mlf_value *val)
{
    int rc = map_check(map, key, val);
    if (rc != MLF_OK)
        return rc;
    uint64_t hash = key_hash(map->u.m.seed, key, klen);
    rc = map_find(map, key, klen, hash) >= 0 ? MLF_EEXIST : map_append(map, key, klen, hash, val);
    if (rc != MLF_OK)
        mlf_value_free(val);
    return rc;
}

const mlf_value *mlf_map_get(const mlf_value *map, const char *key)
{
    if (!map || map->type != MLF_MAP || !key)
        return NULL;
    size_t klen = strlen(key);
    ptrdiff_t pos = map_find(map, key, klen, key_hash(map->u.m.seed, key, klen));
    return pos >= 0 ? map->u.m.e[pos].val : NULL;
}

const char *mlf_map_key_n_at(const mlf_value *map, size_t i, size_t *klen)
{
    if (!map || map->type != MLF_MAP || i >= map->u.m.n)
        return NULL;
    if (klen)
        *klen = map->u.m.e[i].klen;
    return map->u.m.e[i].key;
}

const char *mlf_map_key_at(const mlf_value *map, size_t i)
{
    return mlf_map_key_n_at(map, i, NULL);
}

const mlf_value *mlf_map_value_at(const mlf_value *map, size_t i)
{
    if (!map || map->type != MLF_MAP || i >= map->u.m.n)
        return NULL;
    return map->u.m.e[i].val;
}

int mlf_map_remove(mlf_value *map, const char *key)
{
    if (!map || map->type != MLF_MAP)
        return MLF_ETYPE;
    if (!key)
        return MLF_ENOTFOUND;
    size_t klen = strlen(key);
    ptrdiff_t pos = map_find(map, key, klen, key_hash(map->u.m.seed, key, klen));
    if (pos < 0)
        return MLF_ENOTFOUND;
    map_entry *e = map->u.m.e;
    free(e[pos].key);
    mlf_value_free(e[pos].val);
    memmove(&e[pos], &e[pos + 1], (map->u.m.n - (size_t)pos - 1) * sizeof *e);
    map->u.m.n--;
    /* Positions after the removed entry shifted: removal is O(n) anyway, so rebuild. */
    if (map->u.m.index)
        index_rebuild(map);
    return MLF_OK;
}

/* ---------------------------------------------------------------------------------------- whole values */

mlf_value *mlf_value_copy(const mlf_value *v)
{
    if (!v)
        return NULL;
    switch (v->type) {
    case MLF_NIL:
    case MLF_BOOL:
    case MLF_INT:
    case MLF_FLOAT: {
        mlf_value *c = value_new(v->type);
        if (c)
            c->u = v->u;
        return c;
    }
    case MLF_STR:
    case MLF_BIN:
        return bytes_new(v->type, v->u.s.p, v->u.s.n);
    case MLF_ARRAY: {
        mlf_value *c = mlf_value_array();
        int rc = c ? mlf_value_reserve(c, v->u.a.n) : MLF_ENOMEM;
        for (size_t i = 0; rc == MLF_OK && i < v->u.a.n; i++)
            rc = mlf_array_append(c, mlf_value_copy(v->u.a.items[i]));
        if (rc != MLF_OK) {
            mlf_value_free(c);
            return NULL;
        }
        return c;
    }
    case MLF_MAP: {
        mlf_value *c = mlf_value_map();
        int rc = c ? mlf_value_reserve(c, v->u.m.n) : MLF_ENOMEM;
        for (size_t i = 0; rc == MLF_OK && i < v->u.m.n; i++) {
            const map_entry *e = &v->u.m.e[i];
            rc = mlf_map_add_n(c, e->key, e->klen, mlf_value_copy(e->val));
        }
        if (rc != MLF_OK) {
            mlf_value_free(c);
            return NULL;
        }
        return c;
    }
    }
    return NULL;
}

int mlf_value_equal(const mlf_value *a, const mlf_value *b)
{
    if (a == b)
        return 1;
    if (!a || !b || a->type != b->type)
        return 0;
    switch (a->type) {
    case MLF_NIL:
        return 1;
    case MLF_BOOL:
        return a->u.b == b->u.b;
    case MLF_INT:
        return a->u.i == b->u.i;
    case MLF_FLOAT:
        /* NaN equals NaN here: a value read back from its own encoding must compare equal. */
        return a->u.d == b->u.d || (isnan(a->u.d) && isnan(b->u.d));
    case MLF_STR:
    case MLF_BIN:
        return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
    case MLF_ARRAY:
        if (a->u.a.n != b->u.a.n)
            return 0;
        for (size_t i = 0; i < a->u.a.n; i++)
            if (!mlf_value_equal(a->u.a.items[i], b->u.a.items[i]))
                return 0;
        return 1;
    case MLF_MAP:
        if (a->u.m.n != b->u.m.n)
            return 0;
        for (size_t i = 0; i < a->u.m.n; i++) {
            const map_entry *e = &a->u.m.e[i];
            ptrdiff_t pos = map_find(b, e->key, e->klen, key_hash(b->u.m.seed, e->key, e->klen));
            if (pos < 0 || !mlf_value_equal(e->val, b->u.m.e[pos].val))
                return 0;
        }
        return 1;
    }
    return 0;
}

int mlf_value_decoded(mlf_value *v, int rc, mlf_value **out)
{
    if (!v)
        return MLF_ENOMEM;
    if (rc != MLF_OK) {
        mlf_value_free(v);
        return rc == MLF_EEXIST ? MLF_EPARSE : rc;
    }
    *out = v;
    return MLF_OK;
}

static size_t depth_at(const mlf_value *v, size_t level, size_t limit)
{
    size_t deepest = level;
    if (level > limit || !v)
        return level;
    if (v->type == MLF_ARRAY || v->type == MLF_MAP) {
        deepest = level + 1;
        size_t n = mlf_value_len(v);
        for (size_t i = 0; i < n && deepest <= limit; i++) {
            const mlf_value *c = v->type == MLF_ARRAY ? v->u.a.items[i] : v->u.m.e[i].val;
            size_t d = depth_at(c, level + 1, limit);
            if (d > deepest)
                deepest = d;
        }
    }
    return deepest;
}

size_t mlf_value_depth(const mlf_value *v, size_t limit)
{
    return depth_at(v, 0, limit);
}

/* ---------------------------------------------------------------------------------------- display */

size_t mlf_format_double(double d, char buf[MLF_DOUBLE_BUFSZ])
{
    if (isnan(d))
        return (size_t)snprintf(buf, MLF_DOUBLE_BUFSZ, "nan");
    if (isinf(d))
        return (size_t)snprintf(buf, MLF_DOUBLE_BUFSZ, d < 0 ? "-inf" : "inf");
    /* Shortest "%.*e" that reads back as d: its digits and decimal exponent. */
    char e[MLF_DOUBLE_BUFSZ];
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, d);
        if (strtod(e, NULL) == d)
            break;
    }
    char digits[20] = "0";
    size_t nd = 0;
    const char *p = e;
    int neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof digits)
            digits[nd++] = *p;
    int exp = *p ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (nd == 0)
        nd = 1;

    size_t n = 0;
#define PUT(c) (buf[n++] = (c))
    if (neg)
        PUT('-');
    if (exp < -4 || exp >= 16) {
        PUT(digits[0]);
        if (nd > 1) {
            PUT('.');
            for (size_t i = 1; i < nd; i++)
                PUT(digits[i]);
        }
        n += (size_t)snprintf(buf + n, MLF_DOUBLE_BUFSZ - n, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) {
        PUT('0');
        PUT('.');
        for (int i = -1; i > exp; i--)
            PUT('0');
        for (size_t i = 0; i < nd; i++)
            PUT(digits[i]);
    } else {
        for (size_t i = 0; i <= (size_t)exp; i++)
            PUT(i < nd ? digits[i] : '0');
        PUT('.');
        if (nd <= (size_t)exp + 1)
            PUT('0');
        for (size_t i = (size_t)exp + 1; i < nd; i++)
            PUT(digits[i]);
    }
#undef PUT
    buf[n] = '\0';
    return n;
}

char *mlf_value_to_display(const mlf_value *v)
{
    char num[MLF_DOUBLE_BUFSZ];
    switch (mlf_value_type(v)) {
    case MLF_NIL:
        return strdup("None");
    case MLF_BOOL:
        return strdup(v->u.b ? "True" : "False");
    case MLF_INT:
        return mlf_strdup_printf("%lld", (long long)v->u.i);
    case MLF_FLOAT:
        mlf_format_double(v->u.d, num);
        return strdup(num);
    case MLF_STR:
        return strdup(v->u.s.p);
    case MLF_BIN: {
        /* A bin shows as its JSON form (base64) without the quotes. */
        char *json = NULL;
        if (mlf_value_to_json(v, &json) != MLF_OK)
            return NULL;
        size_t n = strlen(json);
        memmove(json, json + 1, n - 2);
        json[n - 2] = '\0';
        return json;
    }
    case MLF_ARRAY:
    case MLF_MAP: {
        char *json = NULL;
        return mlf_value_to_json(v, &json) == MLF_OK ? json : NULL;
    }
    }
    return NULL;
}
