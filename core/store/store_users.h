/*
 * store_users.h -- the webserver's users and the scheduler's heartbeat in the state store
 * (doc/webserver.md). Same transaction rules, record ownership and common errors as store.h.
 */
#ifndef MLF_CORE_STORE_USERS_H
#define MLF_CORE_STORE_USERS_H

#include "store/store.h"

/** Longest user name in bytes. */
#define MLF_USER_NAME_MAX 64

/** A user of the webserver (key: name). */
typedef struct mlf_user_rec {
    char *name;
    char *role;          /**< "viewer", "op" or "admin" (checked by the webserver, not here) */
    char *password_hash; /**< libsodium crypto_pwhash_str() output */
    char *token_hash;    /**< hex BLAKE2b of the user's API token secret, or NULL: no token */
    mlf_time_us created_at;
} mlf_user_rec;

void mlf_user_rec_init(mlf_user_rec *r);
void mlf_user_rec_clear(mlf_user_rec *r);

typedef int (*mlf_store_user_cb)(void *ud, const mlf_user_rec *rec);

/** Inserts or replaces; get fills @p *out (release with mlf_user_rec_clear(); MLF_ENOTFOUND when absent);
 * delete gives MLF_ENOTFOUND when absent; foreach goes in name order. Names are 1..MLF_USER_NAME_MAX
 * bytes (MLF_ETOOBIG, MLF_EINVAL). */
int mlf_store_user_put(mlf_store_txn *w, const mlf_user_rec *rec);
int mlf_store_user_get(mlf_store_txn *txn, const char *name, mlf_user_rec *out);
int mlf_store_user_delete(mlf_store_txn *w, const char *name);
int mlf_store_user_foreach(mlf_store_txn *txn, mlf_store_user_cb cb, void *ud);

/** Records that the scheduler loop is alive at @p now (meta "scheduler_heartbeat"). */
int mlf_store_heartbeat_put(mlf_store_txn *w, mlf_time_us now);
/** Reads the last scheduler heartbeat into @p *out. Errors: MLF_ENOTFOUND (no scheduler ever ran). */
int mlf_store_heartbeat_get(mlf_store_txn *txn, mlf_time_us *out);

#endif
