/*
 * store_records.c -- put/get/delete/foreach of one record type, and the tables that need nothing more:
 * DAGs, variables, connections, pools, import errors, leases.
 */
#include <string.h>

#include "store/store_internal.h"

/* Before a record with sealed fields is written: the store must remember the attached key (the first
 * sealed value records its check value), and no other: a process started before a rotate-key holds the
 * old key, and must not seal under it. */
static int seals(mlf_store_txn *w, const mlf_st_rectype *rt, const void *rec)
{
    if (!w->st->has_key)
        return MLF_OK; /* the encoder refuses what it would have to seal */
    bool any = false;
    for (size_t i = 0; !any && i < rt->nfields; i++)
        any = rt->fields[i].seal != MLF_ST_SEAL_NO && mlf_st_seal_wanted(rt, &rt->fields[i], rec);
    if (!any)
        return MLF_OK;
    int rc = mlf_st_secrets_check(w);
    return rc == MLF_ENOTFOUND ? mlf_st_secrets_check_put(w) : rc;
}

int mlf_st_rec_put(mlf_store_txn *w, const mlf_st_rectype *rt, const void *rec)
{
    if (!w || !rec)
        return MLF_EINVAL;
    mlf_st_key k;
    int rc = mlf_st_rec_key(rt, rec, &k);
    if (rc != MLF_OK)
        return rc;
    rc = seals(w, rt, rec);
    if (rc != MLF_OK)
        return rc;
    mlf_buf v = {0};
    rc = mlf_st_rec_encode_st(w->st, rt, rec, &v);
    if (rc == MLF_OK)
        rc = mlf_st_put(w, rt->db, k.b, k.n, v.data, v.len);
    mlf_buf_free(&v);
    return rc;
}

int mlf_st_rec_get(mlf_store_txn *t, const mlf_st_rectype *rt, const mlf_st_key *k, void *out)
{
    MDB_val key = {k->n, (void *)k->b}, val;
    int rc = mlf_st_get(t, rt->db, k->b, k->n, &val);
    if (rc != MLF_OK)
        return rc;
    return mlf_st_rec_decode_st(t->st, rt, &key, &val, out);
}

struct rec_iter {
    const mlf_store *st;
    const mlf_st_rectype *rt;
    mlf_st_rec_cb cb;
    void *ud;
};

static int rec_iter_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    const struct rec_iter *it = ud;
    mlf_st_any_rec rec;
    int rc = mlf_st_rec_decode_st(it->st, it->rt, k, v, &rec);
    if (rc != MLF_OK)
        return rc;
    rc = it->cb(it->ud, &rec);
    mlf_st_rec_clear(it->rt, &rec);
    return rc;
}

int mlf_st_rec_foreach(mlf_store_txn *t, const mlf_st_rectype *rt, const mlf_st_range *range,
                       mlf_st_rec_cb cb, void *ud)
{
    if (!t || !cb)
        return MLF_EINVAL;
    struct rec_iter it = {t->st, rt, cb, ud};
    return mlf_st_iter(t, rt->db, range, rec_iter_kv, &it);
}

struct del_ctx {
    mlf_store_txn *w;
    int db;
};

static int del_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    (void)v;
    const struct del_ctx *c = ud;
    int rc = mlf_st_del(c->w, c->db, k->mv_data, k->mv_size);
    return rc == MLF_ENOTFOUND ? MLF_OK : rc;
}

int mlf_st_del_prefix(mlf_store_txn *w, int db, const mlf_st_key *prefix)
{
    if (!w)
        return MLF_EINVAL;
    if (!w->write)
        return MLF_ESTATE;
    mlf_st_range r;
    mlf_st_key hi;
    mlf_st_range_prefix(&r, prefix, &hi);
    struct del_ctx c = {w, db};
    /* In a write batch mlf_st_iter collects the keys before calling back, so deleting is safe. */
    return mlf_st_iter(w, db, &r, del_kv, &c);
}

/* ---------------------------------------------------------------------------- shared by the tables */

MLF_ST_TRAMPOLINE(dag_tramp, mlf_store_dag_cb, mlf_dag_rec)
MLF_ST_TRAMPOLINE(var_tramp, mlf_store_var_cb, mlf_var_rec)
MLF_ST_TRAMPOLINE(conn_tramp, mlf_store_conn_cb, mlf_conn_rec)
MLF_ST_TRAMPOLINE(pool_tramp, mlf_store_pool_cb, mlf_pool_rec)
MLF_ST_TRAMPOLINE(import_error_tramp, mlf_store_import_error_cb, mlf_import_error_rec)
MLF_ST_TRAMPOLINE(lease_tramp, mlf_store_lease_cb, mlf_lease_rec)

/* Calls @p fn (a typed callback, reached through @p tramp) for every record of @p rt. */
static int foreach_all(mlf_store_txn *t, const mlf_st_rectype *rt, void (*fn)(void), mlf_st_rec_cb tramp,
                       void *ud)
{
    if (!fn)
        return MLF_EINVAL;
    struct mlf_st_typed_cb tc = {fn, ud};
    mlf_st_range all = {0};
    return mlf_st_rec_foreach(t, rt, &all, tramp, &tc);
}

static int get_named(mlf_store_txn *t, const mlf_st_rectype *rt, const char *name, void *out)
{
    if (!out)
        return MLF_EINVAL;
    mlf_st_rec_init(rt, out);
    mlf_st_key k;
    int rc = mlf_st_key_name(&k, name, rt->key_max);
    return rc == MLF_OK ? mlf_st_rec_get(t, rt, &k, out) : rc;
}

static int del_named(mlf_store_txn *w, const mlf_st_rectype *rt, const char *name)
{
    mlf_st_key k;
    int rc = mlf_st_key_name(&k, name, rt->key_max);
    return rc == MLF_OK ? mlf_st_del(w, rt->db, k.b, k.n) : rc;
}

/* -------------------------------------------------------------------------------------------- DAGs */

int mlf_store_dag_put(mlf_store_txn *w, const mlf_dag_rec *rec)
{
    return mlf_st_rec_put(w, &mlf_st_dag_type, rec);
}

int mlf_store_dag_get(mlf_store_txn *txn, const char *dag_id, mlf_dag_rec *out)
{
    return get_named(txn, &mlf_st_dag_type, dag_id, out);
}

int mlf_store_dag_delete(mlf_store_txn *w, const char *dag_id)
{
    return del_named(w, &mlf_st_dag_type, dag_id);
}

int mlf_store_dag_foreach(mlf_store_txn *txn, mlf_store_dag_cb cb, void *ud)
{
    return foreach_all(txn, &mlf_st_dag_type, (void (*)(void))cb, dag_tramp, ud);
}

/* --------------------------------------------------------------------------------------- variables */

int mlf_store_var_put(mlf_store_txn *w, const mlf_var_rec *rec)
{
    return mlf_st_rec_put(w, &mlf_st_var_type, rec);
}

int mlf_store_var_get(mlf_store_txn *txn, const char *key, mlf_var_rec *out)
{
    return get_named(txn, &mlf_st_var_type, key, out);
}

int mlf_store_var_delete(mlf_store_txn *w, const char *key)
{
    return del_named(w, &mlf_st_var_type, key);
}

int mlf_store_var_foreach(mlf_store_txn *txn, mlf_store_var_cb cb, void *ud)
{
    return foreach_all(txn, &mlf_st_var_type, (void (*)(void))cb, var_tramp, ud);
}

/* ------------------------------------------------------------------------------------- connections */

int mlf_store_conn_put(mlf_store_txn *w, const mlf_conn_rec *rec)
{
    return mlf_st_rec_put(w, &mlf_st_conn_type, rec);
}

int mlf_store_conn_get(mlf_store_txn *txn, const char *conn_id, mlf_conn_rec *out)
{
    return get_named(txn, &mlf_st_conn_type, conn_id, out);
}

int mlf_store_conn_delete(mlf_store_txn *w, const char *conn_id)
{
    return del_named(w, &mlf_st_conn_type, conn_id);
}

int mlf_store_conn_foreach(mlf_store_txn *txn, mlf_store_conn_cb cb, void *ud)
{
    return foreach_all(txn, &mlf_st_conn_type, (void (*)(void))cb, conn_tramp, ud);
}

/* ------------------------------------------------------------------------------------------- pools */

int mlf_store_pool_put(mlf_store_txn *w, const mlf_pool_rec *rec)
{
    if (rec && rec->slots < -1)
        return MLF_ERANGE;
    return mlf_st_rec_put(w, &mlf_st_pool_type, rec);
}

int mlf_store_pool_get(mlf_store_txn *txn, const char *name, mlf_pool_rec *out)
{
    return get_named(txn, &mlf_st_pool_type, name, out);
}

int mlf_store_pool_delete(mlf_store_txn *w, const char *name)
{
    if (name && strcmp(name, MLF_DEFAULT_POOL) == 0)
        return MLF_EINVAL;
    return del_named(w, &mlf_st_pool_type, name);
}

int mlf_store_pool_foreach(mlf_store_txn *txn, mlf_store_pool_cb cb, void *ud)
{
    return foreach_all(txn, &mlf_st_pool_type, (void (*)(void))cb, pool_tramp, ud);
}

/* ----------------------------------------------------------------------------------- import errors */

int mlf_store_import_error_put(mlf_store_txn *w, const mlf_import_error_rec *rec)
{
    return mlf_st_rec_put(w, &mlf_st_import_error_type, rec);
}

int mlf_store_import_error_get(mlf_store_txn *txn, const char *filename, mlf_import_error_rec *out)
{
    return get_named(txn, &mlf_st_import_error_type, filename, out);
}

int mlf_store_import_error_delete(mlf_store_txn *w, const char *filename)
{
    return del_named(w, &mlf_st_import_error_type, filename);
}

int mlf_store_import_error_foreach(mlf_store_txn *txn, mlf_store_import_error_cb cb, void *ud)
{
    return foreach_all(txn, &mlf_st_import_error_type, (void (*)(void))cb, import_error_tramp, ud);
}

/* ------------------------------------------------------------------------------------------ leases */

int mlf_store_lease_put(mlf_store_txn *w, const mlf_lease_rec *rec)
{
    if (!w || !rec)
        return MLF_EINVAL;
    mlf_st_key k;
    int rc = mlf_st_rec_key(&mlf_st_lease_type, rec, &k);
    if (rc == MLF_OK)
        rc = mlf_st_ti_exists(w, &k);
    return rc == MLF_OK ? mlf_st_rec_put(w, &mlf_st_lease_type, rec) : rc;
}

int mlf_store_lease_get(mlf_store_txn *txn, const mlf_ti_key *ti, mlf_lease_rec *out)
{
    if (!out)
        return MLF_EINVAL;
    mlf_lease_rec_init(out);
    mlf_st_key k;
    int rc = mlf_st_key_ti(&k, ti);
    return rc == MLF_OK ? mlf_st_rec_get(txn, &mlf_st_lease_type, &k, out) : rc;
}

int mlf_store_lease_delete(mlf_store_txn *w, const mlf_ti_key *ti)
{
    mlf_st_key k;
    int rc = mlf_st_key_ti(&k, ti);
    return rc == MLF_OK ? mlf_st_del(w, MLF_ST_LEASES, k.b, k.n) : rc;
}

int mlf_store_lease_foreach(mlf_store_txn *txn, mlf_store_lease_cb cb, void *ud)
{
    return foreach_all(txn, &mlf_st_lease_type, (void (*)(void))cb, lease_tramp, ud);
}
