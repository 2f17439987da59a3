/*
 * store_cache.c -- the table of cached results and of the --no-cache marks (layout in store_cache.h).
 * Entries are msgpack maps {"v": 1, "run_id", "map_index", "created_at", "expires_at", "xcoms": bin};
 * decoding goes through mlf_value_unpack(), which checks every length before it allocates.
 */
#include "store/store_cache.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define ENTRY_TAG 'e'
#define MARK_TAG 'n'
#define ENTRY_VERSION 1

void mlf_cache_rec_init(mlf_cache_rec *r)
{
    memset(r, 0, sizeof *r);
    r->map_index = -1;
    r->created_at = MLF_TIME_NONE;
    r->expires_at = MLF_TIME_NONE;
}

void mlf_cache_rec_clear(mlf_cache_rec *r)
{
    free(r->dag_id);
    free(r->task_id);
    free(r->run_id);
    free(r->xcoms);
    mlf_cache_rec_init(r);
}

int mlf_cache_rec_live(const mlf_cache_rec *rec, mlf_time_us now)
{
    return rec->expires_at == MLF_TIME_NONE || now < rec->expires_at;
}

/* Appends id @p s (1..MLF_STORE_ID_MAX bytes) and, when @p nul, a NUL. */
static int put_id(mlf_st_key *k, const char *s, int nul)
{
    if (!s || !*s)
        return MLF_EINVAL;
    size_t n = strlen(s);
    if (n > MLF_STORE_ID_MAX)
        return MLF_ETOOBIG;
    if (n + (nul ? 1 : 0) > sizeof k->b - k->n)
        return MLF_ETOOBIG;
    memcpy(k->b + k->n, s, n);
    k->n += n;
    if (nul)
        k->b[k->n++] = '\0';
    return MLF_OK;
}

/* 'e' dag_id \0 [task_id \0 [digest]]: an entry's key, or the prefix of a DAG's or a task's entries. */
static int entry_key(mlf_st_key *k, const char *dag_id, const char *task_id, const uint8_t *digest)
{
    k->n = 0;
    k->b[k->n++] = ENTRY_TAG;
    int rc = put_id(k, dag_id, 1);
    if (rc == MLF_OK && task_id)
        rc = put_id(k, task_id, 1);
    if (rc == MLF_OK && task_id && digest) {
        memcpy(k->b + k->n, digest, MLF_CACHE_DIGEST_LEN);
        k->n += MLF_CACHE_DIGEST_LEN;
    }
    return rc;
}

/* Parses an entry key into @p rec's identity (strings copied). MLF_ECORRUPT for a malformed key. */
static int parse_entry_key(const MDB_val *k, mlf_cache_rec *rec)
{
    const uint8_t *p = k->mv_data;
    size_t n = k->mv_size;
    if (n < 1 + 2 + 2 + MLF_CACHE_DIGEST_LEN || p[0] != ENTRY_TAG)
        return MLF_ECORRUPT;
    const uint8_t *dag = p + 1, *end = p + n - MLF_CACHE_DIGEST_LEN;
    const uint8_t *nul1 = memchr(dag, '\0', (size_t)(end - dag));
    if (!nul1 || nul1 == dag || (size_t)(nul1 - dag) > MLF_STORE_ID_MAX)
        return MLF_ECORRUPT;
    const uint8_t *task = nul1 + 1;
    const uint8_t *nul2 = task < end ? memchr(task, '\0', (size_t)(end - task)) : NULL;
    if (!nul2 || nul2 == task || nul2 + 1 != end || (size_t)(nul2 - task) > MLF_STORE_ID_MAX)
        return MLF_ECORRUPT;
    rec->dag_id = strndup((const char *)dag, (size_t)(nul1 - dag));
    rec->task_id = strndup((const char *)task, (size_t)(nul2 - task));
    memcpy(rec->digest, end, MLF_CACHE_DIGEST_LEN);
    return rec->dag_id && rec->task_id ? MLF_OK : MLF_ENOMEM;
}

static mlf_value *time_value(mlf_time_us t)
{
    return t == MLF_TIME_NONE ? mlf_value_nil() : mlf_value_int(t);
}

int mlf_store_cache_put(mlf_store_txn *w, const mlf_cache_rec *rec)
{
    if (!w || !rec || !rec->run_id || rec->map_index < -1)
        return MLF_EINVAL;
    mlf_st_key k;
    int rc = entry_key(&k, rec->dag_id, rec->task_id, rec->digest);
    if (rc != MLF_OK)
        return rc;
    if (rec->xcoms && (mlf_st_mp_check(rec->xcoms, rec->xcoms_len, MLF_ST_OPAQUE_DEPTH) != MLF_OK ||
                       ((rec->xcoms[0] & 0xf0) != 0x80 && rec->xcoms[0] != 0xde && rec->xcoms[0] != 0xdf)))
        return MLF_EPARSE; /* one msgpack map (fixmap, map 16, map 32) */
    mlf_value *m = mlf_value_map();
    if (!m)
        return MLF_ENOMEM;
    mlf_map_set(m, "v", mlf_value_int(ENTRY_VERSION));
    mlf_map_set(m, "run_id", mlf_value_str(rec->run_id));
    mlf_map_set(m, "map_index", mlf_value_int(rec->map_index));
    mlf_map_set(m, "created_at", time_value(rec->created_at));
    mlf_map_set(m, "expires_at", time_value(rec->expires_at));
    if (rec->xcoms)
        mlf_map_set(m, "xcoms", mlf_value_bin(rec->xcoms, rec->xcoms_len));
    void *buf = NULL;
    size_t len = 0;
    rc = mlf_value_len(m) == (rec->xcoms ? 6u : 5u) ? mlf_value_pack(m, &buf, &len) : MLF_ENOMEM;
    mlf_value_free(m);
    if (rc == MLF_OK)
        rc = mlf_st_put(w, MLF_ST_CACHE, k.b, k.n, buf, len);
    free(buf);
    return rc;
}

/* An optional time field: nil or absent is MLF_TIME_NONE. */
static int get_time(const mlf_value *m, const char *name, mlf_time_us *out)
{
    const mlf_value *v = mlf_map_get(m, name);
    *out = MLF_TIME_NONE;
    if (!v || mlf_value_type(v) == MLF_NIL)
        return MLF_OK;
    int64_t t;
    if (mlf_value_get_int(v, &t) != MLF_OK || t == MLF_TIME_NONE)
        return MLF_ECORRUPT;
    *out = t;
    return MLF_OK;
}

/* Decodes entry @p k / @p v into @p rec (initialised here). */
static int decode_entry(const MDB_val *k, const MDB_val *v, mlf_cache_rec *rec)
{
    mlf_cache_rec_init(rec);
    mlf_value *m = NULL;
    int rc = parse_entry_key(k, rec);
    if (rc == MLF_OK && mlf_value_unpack(v->mv_data, v->mv_size, &m) != MLF_OK)
        rc = MLF_ECORRUPT;
    int64_t ver = 0, mi = 0;
    const char *run = mlf_value_get_str(mlf_map_get(m, "run_id"), NULL);
    if (rc == MLF_OK && (mlf_value_type(m) != MLF_MAP || mlf_value_get_int(mlf_map_get(m, "v"), &ver) != MLF_OK ||
                         ver < 1 || !run || !*run || mlf_value_get_int(mlf_map_get(m, "map_index"), &mi) != MLF_OK ||
                         mi < -1 || mi > INT32_MAX - 1))
        rc = MLF_ECORRUPT;
    if (rc == MLF_OK)
        rc = get_time(m, "created_at", &rec->created_at);
    if (rc == MLF_OK)
        rc = get_time(m, "expires_at", &rec->expires_at);
    const mlf_value *x = mlf_map_get(m, "xcoms");
    size_t xlen = 0;
    const void *xb = x ? mlf_value_get_bin(x, &xlen) : NULL;
    if (rc == MLF_OK && x && (!xb || mlf_st_mp_check(xb, xlen, MLF_ST_OPAQUE_DEPTH) != MLF_OK))
        rc = MLF_ECORRUPT;
    if (rc == MLF_OK) {
        rec->run_id = strdup(run);
        rec->map_index = (int)mi;
        if (xb && xlen) {
            rec->xcoms = malloc(xlen);
            if (rec->xcoms) {
                memcpy(rec->xcoms, xb, xlen);
                rec->xcoms_len = xlen;
            }
        }
        if (!rec->run_id || (xb && xlen && !rec->xcoms))
            rc = MLF_ENOMEM;
    }
    mlf_value_free(m);
    if (rc != MLF_OK)
        mlf_cache_rec_clear(rec);
    return rc;
}

int mlf_store_cache_get(mlf_store_txn *txn, const char *dag_id, const char *task_id,
                        const uint8_t digest[MLF_CACHE_DIGEST_LEN], mlf_cache_rec *out)
{
    if (!out || !task_id || !digest)
        return MLF_EINVAL;
    mlf_cache_rec_init(out);
    mlf_st_key k;
    int rc = entry_key(&k, dag_id, task_id, digest);
    MDB_val v;
    if (rc == MLF_OK)
        rc = mlf_st_get(txn, MLF_ST_CACHE, k.b, k.n, &v);
    if (rc != MLF_OK)
        return rc;
    MDB_val key = {k.n, k.b};
    return decode_entry(&key, &v, out);
}

int mlf_store_cache_delete(mlf_store_txn *w, const char *dag_id, const char *task_id,
                           const uint8_t digest[MLF_CACHE_DIGEST_LEN])
{
    if (!task_id || !digest)
        return MLF_EINVAL;
    mlf_st_key k;
    int rc = entry_key(&k, dag_id, task_id, digest);
    return rc == MLF_OK ? mlf_st_del(w, MLF_ST_CACHE, k.b, k.n) : rc;
}

struct entry_iter {
    mlf_store_cache_cb cb;
    void *ud;
};

static int entry_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    const struct entry_iter *it = ud;
    mlf_cache_rec rec;
    int rc = decode_entry(k, v, &rec);
    if (rc != MLF_OK)
        return rc;
    rc = it->cb(it->ud, &rec);
    mlf_cache_rec_clear(&rec);
    return rc;
}

int mlf_store_cache_foreach(mlf_store_txn *txn, const char *dag_id, const char *task_id, mlf_store_cache_cb cb,
                            void *ud)
{
    if (!cb || (task_id && !dag_id))
        return MLF_EINVAL;
    mlf_st_key prefix, hi;
    int rc = MLF_OK;
    if (dag_id) {
        rc = entry_key(&prefix, dag_id, task_id, NULL);
    } else {
        prefix.n = 1;
        prefix.b[0] = ENTRY_TAG;
    }
    if (rc != MLF_OK)
        return rc;
    mlf_st_range r;
    mlf_st_range_prefix(&r, &prefix, &hi);
    struct entry_iter it = {cb, ud};
    return mlf_st_iter(txn, MLF_ST_CACHE, &r, entry_kv, &it);
}

/* 'n' TIKEY */
static int mark_key(mlf_st_key *k, const mlf_ti_key *ti)
{
    mlf_st_key tk;
    int rc = mlf_st_key_ti(&tk, ti);
    if (rc != MLF_OK)
        return rc;
    if (tk.n + 1 > sizeof k->b)
        return MLF_ETOOBIG;
    k->b[0] = MARK_TAG;
    memcpy(k->b + 1, tk.b, tk.n);
    k->n = tk.n + 1;
    return MLF_OK;
}

int mlf_store_cache_mark_put(mlf_store_txn *w, const mlf_ti_key *ti)
{
    mlf_st_key k;
    int rc = mark_key(&k, ti);
    return rc == MLF_OK ? mlf_st_put(w, MLF_ST_CACHE, k.b, k.n, "", 0) : rc;
}

int mlf_store_cache_mark_get(mlf_store_txn *txn, const mlf_ti_key *ti)
{
    mlf_st_key k;
    MDB_val v;
    int rc = mark_key(&k, ti);
    return rc == MLF_OK ? mlf_st_get(txn, MLF_ST_CACHE, k.b, k.n, &v) : rc;
}

int mlf_store_cache_mark_delete(mlf_store_txn *w, const mlf_ti_key *ti)
{
    mlf_st_key k;
    int rc = mark_key(&k, ti);
    return rc == MLF_OK ? mlf_st_del(w, MLF_ST_CACHE, k.b, k.n) : rc;
}
