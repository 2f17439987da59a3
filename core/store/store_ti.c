/*
 * store_ti.c -- task instances and the ti_by_state index (state byte + TI key -> empty) that lets the
 * scheduler find every queued or running TI without a scan. Every change of a TI's state moves its index
 * entry in the same batch, so the index always matches the records (mlf_store_check verifies it).
 */
#include <string.h>

#include "store/store_internal.h"

MLF_ST_TRAMPOLINE(ti_tramp, mlf_store_ti_cb, mlf_ti_rec)

int mlf_st_ti_exists(mlf_store_txn *t, const mlf_st_key *ti_key)
{
    MDB_val v;
    return mlf_st_get(t, MLF_ST_TIS, ti_key->b, ti_key->n, &v);
}

/* The state of the stored TI under @p k. Errors: MLF_ENOTFOUND, MLF_ECORRUPT. */
/* The state of the stored record at @p k, read without decoding the whole record (every TI write asks). */
static int stored_state(mlf_store_txn *t, const mlf_st_key *k, mlf_ti_state *state)
{
    MDB_val v;
    int rc = mlf_st_get(t, MLF_ST_TIS, k->b, k->n, &v);
    if (rc != MLF_OK)
        return rc;
    int64_t st;
    rc = mlf_st_rec_find_int(v.mv_data, v.mv_size, "state", &st);
    if (rc != MLF_OK || st < 0 || st >= MLF_TI_STATE_COUNT)
        return MLF_ECORRUPT;
    *state = (mlf_ti_state)st;
    return MLF_OK;
}

static int index_put(mlf_store_txn *w, mlf_ti_state state, const mlf_st_key *k)
{
    mlf_st_key ik;
    int rc = mlf_st_key_state(&ik, state, k);
    return rc == MLF_OK ? mlf_st_put(w, MLF_ST_TI_BY_STATE, ik.b, ik.n, "", 0) : rc;
}

static int index_del(mlf_store_txn *w, mlf_ti_state state, const mlf_st_key *k)
{
    mlf_st_key ik;
    int rc = mlf_st_key_state(&ik, state, k);
    if (rc == MLF_OK)
        rc = mlf_st_del(w, MLF_ST_TI_BY_STATE, ik.b, ik.n);
    return rc == MLF_ENOTFOUND ? MLF_OK : rc;
}

int mlf_store_ti_put(mlf_store_txn *w, const mlf_ti_rec *rec)
{
    if (!w || !rec)
        return MLF_EINVAL;
    if (!w->write)
        return MLF_ESTATE;
    mlf_st_key k;
    int rc = mlf_st_rec_key(&mlf_st_ti_type, rec, &k);
    if (rc != MLF_OK)
        return rc;
    mlf_buf v = {0};
    rc = mlf_st_rec_encode(&mlf_st_ti_type, rec, &v); /* validates the state before anything is written */
    if (rc != MLF_OK) {
        mlf_buf_free(&v);
        return rc;
    }
    mlf_ti_state old = MLF_TI_NONE;
    rc = stored_state(w, &k, &old);
    bool is_new = rc == MLF_ENOTFOUND;
    if (is_new) {
        mlf_st_key run_key;
        rc = mlf_st_key_run_id(&run_key, rec->dag_id, rec->run_id);
        MDB_val unused;
        if (rc == MLF_OK)
            rc = mlf_st_get(w, MLF_ST_RUN_IDS, run_key.b, run_key.n, &unused); /* the run must exist */
    }
    bool moved = is_new || old != rec->state;
    if (rc == MLF_OK && moved && !is_new)
        rc = index_del(w, old, &k);
    if (rc == MLF_OK)
        rc = mlf_st_put(w, MLF_ST_TIS, k.b, k.n, v.data, v.len);
    if (rc == MLF_OK && moved)
        rc = index_put(w, rec->state, &k);
    mlf_buf_free(&v);
    return rc;
}

int mlf_store_ti_get(mlf_store_txn *txn, const mlf_ti_key *key, mlf_ti_rec *out)
{
    if (!out)
        return MLF_EINVAL;
    mlf_ti_rec_init(out);
    mlf_st_key k;
    int rc = mlf_st_key_ti(&k, key);
    return rc == MLF_OK ? mlf_st_rec_get(txn, &mlf_st_ti_type, &k, out) : rc;
}

int mlf_st_ti_delete_key(mlf_store_txn *w, const mlf_st_key *k)
{
    if (!w->write)
        return MLF_ESTATE;
    mlf_ti_state state;
    int rc = stored_state(w, k, &state);
    if (rc == MLF_ENOTFOUND)
        return rc;
    if (rc == MLF_ECORRUPT) {
        /* The state is unreadable: drop whatever index entry the TI has. */
        rc = MLF_OK;
        for (int s = 0; rc == MLF_OK && s < MLF_TI_STATE_COUNT; s++)
            rc = index_del(w, (mlf_ti_state)s, k);
    } else if (rc == MLF_OK) {
        rc = index_del(w, state, k);
    }
    if (rc == MLF_OK)
        rc = mlf_st_del(w, MLF_ST_TIS, k->b, k->n);
    if (rc == MLF_OK) {
        rc = mlf_st_del(w, MLF_ST_LEASES, k->b, k->n);
        if (rc == MLF_ENOTFOUND)
            rc = MLF_OK;
    }
    if (rc == MLF_OK) {
        mlf_st_key xcom_prefix = *k;
        xcom_prefix.b[xcom_prefix.n++] = '\0'; /* a TIKEY is far shorter than a key can be */
        rc = mlf_st_del_prefix(w, MLF_ST_XCOM, &xcom_prefix);
    }
    return rc;
}

int mlf_store_ti_delete(mlf_store_txn *w, const mlf_ti_key *key)
{
    if (!w)
        return MLF_EINVAL;
    mlf_st_key k;
    int rc = mlf_st_key_ti(&k, key);
    return rc == MLF_OK ? mlf_st_ti_delete_key(w, &k) : rc;
}

int mlf_store_ti_foreach_run(mlf_store_txn *txn, const char *dag_id, const char *run_id, const char *task_id,
                             mlf_store_ti_cb cb, void *ud)
{
    if (!cb)
        return MLF_EINVAL;
    mlf_st_key lo, hi;
    mlf_st_range r;
    int rc = mlf_st_range_run(&r, &lo, &hi, dag_id, run_id, task_id);
    if (rc != MLF_OK)
        return rc;
    struct mlf_st_typed_cb tc = {(void (*)(void))cb, ud};
    return mlf_st_rec_foreach(txn, &mlf_st_ti_type, &r, ti_tramp, &tc);
}

struct state_iter {
    mlf_store_txn *txn;
    mlf_store_ti_cb cb;
    void *ud;
};

/* One index entry: load its TI and hand it over. */
static int state_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    (void)v;
    const struct state_iter *it = ud;
    if (k->mv_size < 2)
        return MLF_ECORRUPT;
    mlf_st_key tk;
    tk.n = k->mv_size - 1;
    memcpy(tk.b, (const uint8_t *)k->mv_data + 1, tk.n);
    mlf_ti_rec rec;
    int rc = mlf_st_rec_get(it->txn, &mlf_st_ti_type, &tk, &rec);
    if (rc == MLF_ENOTFOUND)
        return MLF_ECORRUPT; /* an index entry without its TI */
    if (rc != MLF_OK)
        return rc;
    rc = it->cb(it->ud, &rec);
    mlf_ti_rec_clear(&rec);
    return rc;
}

int mlf_store_ti_foreach_state(mlf_store_txn *txn, mlf_ti_state state, mlf_store_ti_cb cb, void *ud)
{
    if (!cb || (unsigned)state >= MLF_TI_STATE_COUNT)
        return MLF_EINVAL;
    mlf_st_key prefix = {.n = 1, .b = {(uint8_t)state}}, hi;
    mlf_st_range r;
    mlf_st_range_prefix(&r, &prefix, &hi);
    struct state_iter it = {txn, cb, ud};
    return mlf_st_iter(txn, MLF_ST_TI_BY_STATE, &r, state_kv, &it);
}
