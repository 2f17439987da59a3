/*
 * store_xcom.c -- XCom values: opaque msgpack bytes keyed by TI key + XCom key, so that the XComs of a
 * run, of a task (every map index) or of one TI are each one key range.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int mlf_store_xcom_put(mlf_store_txn *w, const mlf_ti_key *ti, const char *key, const void *val, size_t len)
{
    mlf_st_key k, tk;
    int rc = mlf_st_key_xcom(&k, ti, key);
    if (rc == MLF_OK)
        rc = mlf_st_key_ti(&tk, ti);
    if (rc != MLF_OK)
        return rc;
    if (!val || mlf_st_mp_check(val, len, MLF_ST_OPAQUE_DEPTH) != MLF_OK)
        return MLF_EPARSE;
    rc = mlf_st_ti_exists(w, &tk);
    return rc == MLF_OK ? mlf_st_put(w, MLF_ST_XCOM, k.b, k.n, val, len) : rc;
}

int mlf_store_xcom_get(mlf_store_txn *txn, const mlf_ti_key *ti, const char *key, void **val, size_t *len)
{
    if (!val || !len)
        return MLF_EINVAL;
    *val = NULL;
    *len = 0;
    mlf_st_key k;
    int rc = mlf_st_key_xcom(&k, ti, key);
    MDB_val v;
    if (rc == MLF_OK)
        rc = mlf_st_get(txn, MLF_ST_XCOM, k.b, k.n, &v);
    if (rc != MLF_OK)
        return rc;
    *val = malloc(v.mv_size ? v.mv_size : 1);
    if (!*val)
        return MLF_ENOMEM;
    memcpy(*val, v.mv_data, v.mv_size);
    *len = v.mv_size;
    return MLF_OK;
}

int mlf_store_xcom_delete_ti(mlf_store_txn *w, const mlf_ti_key *ti)
{
    mlf_st_key prefix;
    int rc = mlf_st_key_ti(&prefix, ti);
    if (rc != MLF_OK)
        return rc;
    prefix.b[prefix.n++] = '\0';
    return mlf_st_del_prefix(w, MLF_ST_XCOM, &prefix);
}

struct xcom_iter {
    mlf_store_xcom_cb cb;
    void *ud;
    mlf_buf val; /* a copy: the callback may write, which can move LMDB's pages */
};

static int xcom_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct xcom_iter *it = ud;
    mlf_ti_key ti;
    const char *key;
    size_t key_len;
    if (mlf_st_parse_xcom(k->mv_data, k->mv_size, &ti, &key, &key_len) != MLF_OK)
        return MLF_ECORRUPT;
    char name[MLF_STORE_ID_MAX + 1];
    memcpy(name, key, key_len);
    name[key_len] = '\0';
    it->val.len = 0;
    if (mlf_buf_append(&it->val, v->mv_data, v->mv_size) != MLF_OK)
        return MLF_ENOMEM;
    return it->cb(it->ud, &ti, name, it->val.data, it->val.len);
}

int mlf_store_xcom_foreach(mlf_store_txn *txn, const char *dag_id, const char *run_id, const char *task_id,
                           mlf_store_xcom_cb cb, void *ud)
{
    if (!cb)
        return MLF_EINVAL;
    mlf_st_key lo, hi;
    mlf_st_range r;
    int rc = mlf_st_range_run(&r, &lo, &hi, dag_id, run_id, task_id);
    if (rc != MLF_OK)
        return rc;
    struct xcom_iter it = {cb, ud, {0}};
    rc = mlf_st_iter(txn, MLF_ST_XCOM, &r, xcom_kv, &it);
    mlf_buf_free(&it.val);
    return rc;
}
