/* store_ops.c -- variables, connections and pools writes shared by the CLI and the webserver (store_ops.h). */
#include <string.h>

#include "cli/store_ops.h"

/* Commits @p w when @p rc is MLF_OK, aborts it otherwise; returns the outcome. */
static int finish(mlf_store_txn *w, int rc)
{
    if (rc == MLF_OK)
        return mlf_store_write_commit(w);
    mlf_store_write_abort(w);
    return rc;
}

int mlf_ops_check_id(const char *s, int strict)
{
    if (!*s)
        return MLF_EINVAL;
    if (strict && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(s))
        return MLF_EINVAL;
    return MLF_OK;
}

int mlf_ops_var_set(mlf_store *st, const char *key, const char *val, const char *description)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    mlf_var_rec old, rec;
    mlf_var_rec_init(&old);
    mlf_var_rec_init(&rec);
    mlf_store_var_get(w, key, &old); /* a new value keeps the description unless one is given */
    rec.key = (char *)key;
    rec.val = (char *)val;
    rec.description = description ? (char *)description : old.description;
    rc = mlf_store_var_put(w, &rec);
    mlf_var_rec_clear(&old);
    return finish(w, rc);
}

int mlf_ops_conn_put(mlf_store *st, const mlf_conn_rec *rec, int replace)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    mlf_conn_rec old;
    mlf_conn_rec_init(&old);
    rc = !replace && mlf_store_conn_get(w, rec->conn_id, &old) == MLF_OK ? MLF_EEXIST : mlf_store_conn_put(w, rec);
    mlf_conn_rec_clear(&old);
    return finish(w, rc);
}

int mlf_ops_pool_set(mlf_store *st, const char *name, int slots, const char *description)
{
    if (slots < -1)
        return MLF_EINVAL;
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    mlf_pool_rec old, rec;
    mlf_pool_rec_init(&old);
    mlf_pool_rec_init(&rec);
    mlf_store_pool_get(w, name, &old); /* resizing keeps the description unless one is given */
    rec.name = (char *)name;
    rec.slots = slots;
    rec.description = description ? (char *)description : old.description;
    rc = mlf_store_pool_put(w, &rec);
    mlf_pool_rec_clear(&old);
    return finish(w, rc);
}

int mlf_ops_delete(mlf_store *st, int (*del)(mlf_store_txn *, const char *), const char *id)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    return finish(w, del(w, id));
}
