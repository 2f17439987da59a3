/*
 * store_users.c -- the users table (the webserver's accounts) and the scheduler heartbeat in meta.
 */
#include <stddef.h>
#include <string.h>

#include "store/store_internal.h"
#include "store/store_users.h"

#define META_HEARTBEAT "scheduler_heartbeat"

_Static_assert(sizeof(mlf_user_rec) <= sizeof(mlf_st_any_rec), "iterations decode into mlf_st_any_rec");

static const mlf_st_field user_fields[] = {
    {"name", MLF_ST_STR, MLF_ST_NAME, offsetof(mlf_user_rec, name), 0, 0, MLF_ST_SEAL_NO},
    {"role", MLF_ST_STR, MLF_ST_VALUE, offsetof(mlf_user_rec, role), 0, 0, MLF_ST_SEAL_NO},
    {"password_hash", MLF_ST_STR, MLF_ST_VALUE, offsetof(mlf_user_rec, password_hash), 0, 0, MLF_ST_SEAL_NO},
    {"token_hash", MLF_ST_STR, MLF_ST_VALUE, offsetof(mlf_user_rec, token_hash), 0, 0, MLF_ST_SEAL_NO},
    {"created_at", MLF_ST_TIME, MLF_ST_VALUE, offsetof(mlf_user_rec, created_at), 0, 0, MLF_ST_SEAL_NO},
};

const mlf_st_rectype mlf_st_user_type = {"user", MLF_ST_USERS, MLF_ST_KEY_NAME, MLF_USER_NAME_MAX,
                                         sizeof(mlf_user_rec), user_fields,
                                         sizeof user_fields / sizeof user_fields[0]};

void mlf_user_rec_init(mlf_user_rec *r) { mlf_st_rec_init(&mlf_st_user_type, r); }
void mlf_user_rec_clear(mlf_user_rec *r) { mlf_st_rec_clear(&mlf_st_user_type, r); }

int mlf_store_user_put(mlf_store_txn *w, const mlf_user_rec *rec)
{
    return mlf_st_rec_put(w, &mlf_st_user_type, rec);
}

int mlf_store_user_get(mlf_store_txn *txn, const char *name, mlf_user_rec *out)
{
    if (!out)
        return MLF_EINVAL;
    mlf_user_rec_init(out);
    mlf_st_key k;
    int rc = mlf_st_key_name(&k, name, MLF_USER_NAME_MAX);
    return rc == MLF_OK ? mlf_st_rec_get(txn, &mlf_st_user_type, &k, out) : rc;
}

int mlf_store_user_delete(mlf_store_txn *w, const char *name)
{
    mlf_st_key k;
    int rc = mlf_st_key_name(&k, name, MLF_USER_NAME_MAX);
    return rc == MLF_OK ? mlf_st_del(w, MLF_ST_USERS, k.b, k.n) : rc;
}

MLF_ST_TRAMPOLINE(user_tramp, mlf_store_user_cb, mlf_user_rec)

int mlf_store_user_foreach(mlf_store_txn *txn, mlf_store_user_cb cb, void *ud)
{
    if (!cb)
        return MLF_EINVAL;
    struct mlf_st_typed_cb tc = {(void (*)(void))cb, ud};
    mlf_st_range all = {0};
    return mlf_st_rec_foreach(txn, &mlf_st_user_type, &all, user_tramp, &tc);
}

int mlf_store_heartbeat_put(mlf_store_txn *w, mlf_time_us now)
{
    mlf_buf v = {0};
    int rc = mlf_st_int_encode(now, &v);
    if (rc == MLF_OK)
        rc = mlf_st_put(w, MLF_ST_META, META_HEARTBEAT, strlen(META_HEARTBEAT), v.data, v.len);
    mlf_buf_free(&v);
    return rc;
}

int mlf_store_heartbeat_get(mlf_store_txn *txn, mlf_time_us *out)
{
    if (!txn || !out)
        return MLF_EINVAL;
    MDB_val v;
    int rc = mlf_st_get(txn, MLF_ST_META, META_HEARTBEAT, strlen(META_HEARTBEAT), &v);
    if (rc != MLF_OK)
        return rc;
    int64_t t;
    rc = mlf_st_int_decode(v.mv_data, v.mv_size, &t);
    if (rc == MLF_OK)
        *out = t;
    return rc;
}
