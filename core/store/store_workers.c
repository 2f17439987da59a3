/*
 * store_workers.c -- the workers table (store_workers.h): one record per worker name.
 */
#include <stddef.h>
#include <string.h>

#include "store/store_internal.h"
#include "store/store_workers.h"

_Static_assert(sizeof(mlf_worker_rec) <= sizeof(mlf_st_any_rec), "iterations decode into mlf_st_any_rec");

#define F(field, kind, role) {#field, kind, role, offsetof(mlf_worker_rec, field), 0, 0, 0}
static const mlf_st_field worker_fields[] = {
    F(name, MLF_ST_STR, MLF_ST_NAME),
    F(executor, MLF_ST_STR, MLF_ST_VALUE),
    F(host, MLF_ST_STR, MLF_ST_VALUE),
    F(pid, MLF_ST_I64, MLF_ST_VALUE),
    F(state, MLF_ST_STR, MLF_ST_VALUE),
    F(reason, MLF_ST_STR, MLF_ST_VALUE),
    F(slots, MLF_ST_INT, MLF_ST_VALUE),
    F(running, MLF_ST_INT, MLF_ST_VALUE),
    F(queues, MLF_ST_STR, MLF_ST_VALUE),
    F(operators, MLF_ST_STR, MLF_ST_VALUE),
    F(key, MLF_ST_STR, MLF_ST_VALUE),
    F(registered_at, MLF_ST_TIME, MLF_ST_VALUE),
    F(last_heartbeat, MLF_ST_TIME, MLF_ST_VALUE),
    F(liveness, MLF_ST_I64, MLF_ST_VALUE),
};
#undef F

const mlf_st_rectype mlf_st_worker_type = {"worker", MLF_ST_WORKERS, MLF_ST_KEY_NAME, MLF_WORKER_NAME_MAX,
                                           sizeof(mlf_worker_rec), worker_fields,
                                           sizeof worker_fields / sizeof worker_fields[0]};

void mlf_worker_rec_init(mlf_worker_rec *r) { mlf_st_rec_init(&mlf_st_worker_type, r); }
void mlf_worker_rec_clear(mlf_worker_rec *r) { mlf_st_rec_clear(&mlf_st_worker_type, r); }

int mlf_store_worker_put(mlf_store_txn *w, const mlf_worker_rec *rec)
{
    return mlf_st_rec_put(w, &mlf_st_worker_type, rec);
}

int mlf_store_worker_get(mlf_store_txn *txn, const char *name, mlf_worker_rec *out)
{
    if (!out)
        return MLF_EINVAL;
    mlf_worker_rec_init(out);
    mlf_st_key k;
    int rc = mlf_st_key_name(&k, name, MLF_WORKER_NAME_MAX);
    return rc == MLF_OK ? mlf_st_rec_get(txn, &mlf_st_worker_type, &k, out) : rc;
}

int mlf_store_worker_delete(mlf_store_txn *w, const char *name)
{
    mlf_st_key k;
    int rc = mlf_st_key_name(&k, name, MLF_WORKER_NAME_MAX);
    return rc == MLF_OK ? mlf_st_del(w, MLF_ST_WORKERS, k.b, k.n) : rc;
}

MLF_ST_TRAMPOLINE(worker_tramp, mlf_store_worker_cb, mlf_worker_rec)

int mlf_store_worker_foreach(mlf_store_txn *txn, mlf_store_worker_cb cb, void *ud)
{
    if (!cb)
        return MLF_EINVAL;
    struct mlf_st_typed_cb tc = {(void (*)(void))cb, ud};
    mlf_st_range all = {0};
    return mlf_st_rec_foreach(txn, &mlf_st_worker_type, &all, worker_tramp, &tc);
}
