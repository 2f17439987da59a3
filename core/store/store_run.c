/*
 * store_run.c -- DAG runs: records keyed by (dag_id, logical date, run_id) so that a DAG's runs iterate in
 * date order, plus the run_ids table that finds a run by its id.
 */
#include <string.h>

#include "store/store_internal.h"

MLF_ST_TRAMPOLINE(run_tramp, mlf_store_run_cb, mlf_run_rec)

/* Looks run @p run_id of @p dag_id up in run_ids: its dag_runs key into @p *run_key. */
static int find_run_key(mlf_store_txn *t, const char *dag_id, const char *run_id, mlf_st_key *run_key)
{
    mlf_st_key k;
    int rc = mlf_st_key_run_id(&k, dag_id, run_id);
    if (rc != MLF_OK)
        return rc;
    MDB_val v;
    rc = mlf_st_get(t, MLF_ST_RUN_IDS, k.b, k.n, &v);
    if (rc != MLF_OK)
        return rc;
    if (v.mv_size == 0 || v.mv_size > sizeof run_key->b)
        return MLF_ECORRUPT;
    memcpy(run_key->b, v.mv_data, v.mv_size);
    run_key->n = v.mv_size;
    return MLF_OK;
}

int mlf_store_run_put(mlf_store_txn *w, const mlf_run_rec *rec)
{
    if (!w || !rec)
        return MLF_EINVAL;
    mlf_st_key k, id_key, existing;
    int rc = mlf_st_rec_key(&mlf_st_run_type, rec, &k);
    if (rc == MLF_OK)
        rc = mlf_st_key_run_id(&id_key, rec->dag_id, rec->run_id);
    if (rc != MLF_OK)
        return rc;
    rc = find_run_key(w, rec->dag_id, rec->run_id, &existing);
    bool is_new = rc == MLF_ENOTFOUND;
    if (rc == MLF_OK && (existing.n != k.n || memcmp(existing.b, k.b, k.n) != 0))
        return MLF_EEXIST; /* the same run_id at another logical date */
    if (rc != MLF_OK && !is_new)
        return rc;
    rc = mlf_st_rec_put(w, &mlf_st_run_type, rec);
    if (rc == MLF_OK && is_new)
        rc = mlf_st_put(w, MLF_ST_RUN_IDS, id_key.b, id_key.n, k.b, k.n);
    return rc;
}

int mlf_store_run_get(mlf_store_txn *txn, const char *dag_id, const char *run_id, mlf_run_rec *out)
{
    if (!out)
        return MLF_EINVAL;
    mlf_run_rec_init(out);
    mlf_st_key k;
    int rc = find_run_key(txn, dag_id, run_id, &k);
    if (rc != MLF_OK)
        return rc;
    rc = mlf_st_rec_get(txn, &mlf_st_run_type, &k, out);
    return rc == MLF_ENOTFOUND ? MLF_ECORRUPT : rc; /* run_ids points at nothing */
}

static int delete_ti_cb(void *ud, const MDB_val *k, const MDB_val *v)
{
    (void)v;
    mlf_st_key key;
    key.n = k->mv_size;
    memcpy(key.b, k->mv_data, k->mv_size);
    int rc = mlf_st_ti_delete_key(ud, &key);
    return rc == MLF_ENOTFOUND ? MLF_OK : rc;
}

int mlf_store_run_delete(mlf_store_txn *w, const char *dag_id, const char *run_id)
{
    mlf_st_key run_key, id_key, prefix, hi;
    mlf_st_range r;
    int rc = mlf_st_key_run_id(&id_key, dag_id, run_id);
    if (rc == MLF_OK)
        rc = mlf_st_range_run(&r, &prefix, &hi, dag_id, run_id, NULL);
    if (rc == MLF_OK)
        rc = find_run_key(w, dag_id, run_id, &run_key);
    if (rc != MLF_OK)
        return rc;
    if (!w->write)
        return MLF_ESTATE;
    rc = mlf_st_iter(w, MLF_ST_TIS, &r, delete_ti_cb, w);
    if (rc == MLF_OK)
        rc = mlf_st_del_prefix(w, MLF_ST_XCOM, &prefix); /* XComs left without a TI */
    if (rc == MLF_OK)
        rc = mlf_st_del(w, MLF_ST_RUNS, run_key.b, run_key.n);
    if (rc == MLF_OK || rc == MLF_ENOTFOUND)
        rc = mlf_st_del(w, MLF_ST_RUN_IDS, id_key.b, id_key.n);
    return rc;
}

int mlf_store_run_foreach(mlf_store_txn *txn, const char *dag_id, mlf_time_us from, mlf_time_us to,
                          unsigned flags, mlf_store_run_cb cb, void *ud)
{
    if (!cb || (flags & ~MLF_STORE_REVERSE))
        return MLF_EINVAL;
    mlf_st_key lo, hi;
    int rc = mlf_st_key_run_bound(&lo, dag_id, from);
    if (rc == MLF_OK)
        rc = mlf_st_key_run_bound(&hi, dag_id, to);
    if (rc != MLF_OK || from >= to)
        return rc;
    mlf_st_range r = {lo.b, lo.n, hi.b, hi.n, flags & MLF_STORE_REVERSE};
    struct mlf_st_typed_cb tc = {(void (*)(void))cb, ud};
    return mlf_st_rec_foreach(txn, &mlf_st_run_type, &r, run_tramp, &tc);
}
