/*
 * store_ops.h -- writes to the variables, connections and pools tables, shared by the CLI (`variables set`,
 * `connections add`, `pools set`, the deletes) and the webserver's API so that both change the store in
 * exactly the same way, through the store's public functions (whatever they do to the records at rest
 * applies to both). Each function is one write transaction on @p st.
 */
#ifndef MLF_CORE_STORE_OPS_H
#define MLF_CORE_STORE_OPS_H

#include "store/store.h"

/** MLF_OK when @p s is a usable id: not empty and, with @p strict (connection ids), only letters, digits,
 * '_', '.' and '-'; else MLF_EINVAL. */
int mlf_ops_check_id(const char *s, int strict);

/** Sets variable @p key to @p val. @p description NULL keeps the variable's description (none when it is
 * new). Returns MLF_OK or a store error (MLF_EINVAL: a bad key). */
int mlf_ops_var_set(mlf_store *st, const char *key, const char *val, const char *description);

/** Adds connection @p rec (its conn_id set). With @p replace an existing one is replaced, otherwise that is
 * MLF_EEXIST. Returns MLF_OK or a store error. */
int mlf_ops_conn_put(mlf_store *st, const mlf_conn_rec *rec, int replace);

/** Sets pool @p name to @p slots (-1: unlimited). @p description NULL keeps the pool's description. Returns
 * MLF_OK, MLF_EINVAL (slots below -1) or a store error. */
int mlf_ops_pool_set(mlf_store *st, const char *name, int slots, const char *description);

/** Deletes @p id with @p del (mlf_store_var_delete, mlf_store_conn_delete or mlf_store_pool_delete).
 * Returns MLF_OK, MLF_ENOTFOUND or a store error. */
int mlf_ops_delete(mlf_store *st, int (*del)(mlf_store_txn *, const char *), const char *id);

#endif
