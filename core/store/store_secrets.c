/*
 * store_secrets.c -- secrets at rest (see store.h): sealing and opening the secret fields of records with
 * crypto_secretbox, the key's check value in meta, and re-sealing every secret under a new key.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "conf/conn_uri.h"
#include "store/store_internal.h"

#define COMPONENT "store"
#define CTX_BYTES 16
#define CHECK_BYTES 32
#define CHECK_TEXT "mlflowd secrets key check v1"

/* The context of one sealed value: a hash of table, record key and field name, so that a sealed value
 * copied into another record or field does not open. */
static void seal_context(int db, const void *kb, size_t kn, const char *field, unsigned char ctx[CTX_BYTES])
{
    crypto_generichash_state h;
    unsigned char d = (unsigned char)db;
    crypto_generichash_init(&h, NULL, 0, CTX_BYTES);
    crypto_generichash_update(&h, &d, 1);
    crypto_generichash_update(&h, (const unsigned char *)kb, kn);
    crypto_generichash_update(&h, (const unsigned char *)"", 1);
    crypto_generichash_update(&h, (const unsigned char *)field, strlen(field));
    crypto_generichash_final(&h, ctx, CTX_BYTES);
}

int mlf_st_seal(const mlf_store *st, int db, const void *kb, size_t kn, const char *field, const void *p,
                size_t n, mlf_buf *out)
{
    if (!st || !st->has_key)
        return MLF_ESTATE;
    if (n > SIZE_MAX / 2)
        return MLF_ENOMEM;
    size_t clear_len = CTX_BYTES + n, total = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + clear_len;
    unsigned char *clear = malloc(clear_len), *sealed = malloc(total);
    int rc = clear && sealed ? MLF_OK : MLF_ENOMEM;
    if (rc == MLF_OK) {
        seal_context(db, kb, kn, field, clear);
        if (n)
            memcpy(clear + CTX_BYTES, p, n);
        sealed[0] = MLF_ST_SEAL_VERSION;
        randombytes_buf(sealed + 1, crypto_secretbox_NONCEBYTES);
        crypto_secretbox_easy(sealed + 1 + crypto_secretbox_NONCEBYTES, clear, clear_len, sealed + 1, st->key);
        rc = mlf_buf_append(out, sealed, total);
    }
    if (clear)
        sodium_memzero(clear, clear_len);
    free(clear);
    free(sealed);
    return rc;
}

int mlf_st_unseal(const mlf_store *st, int db, const void *kb, size_t kn, const char *field, const void *p,
                  size_t n, uint8_t **out, size_t *outn)
{
    static const size_t head = 1 + crypto_secretbox_NONCEBYTES;
    const unsigned char *s = p;
    if (!st || !st->has_key) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "a %s field of the store is sealed, but this process has no secrets "
                "key to open it (doc/security.md)", field);
        return MLF_ESTATE;
    }
    if (n < head + crypto_secretbox_MACBYTES + CTX_BYTES || s[0] != MLF_ST_SEAL_VERSION)
        return MLF_ECORRUPT;
    size_t clear_len = n - head - crypto_secretbox_MACBYTES;
    unsigned char *clear = malloc(clear_len + 1);
    if (!clear)
        return MLF_ENOMEM;
    unsigned char ctx[CTX_BYTES];
    seal_context(db, kb, kn, field, ctx);
    if (crypto_secretbox_open_easy(clear, s + head, n - head, s + 1, st->key) != 0 ||
        sodium_memcmp(clear, ctx, CTX_BYTES) != 0) {
        sodium_memzero(clear, clear_len);
        free(clear);
        mlf_log(MLF_LOG_ERROR, COMPONENT, "a sealed %s field of table %s does not open: tampered with, or moved "
                "from another record", field, mlf_st_db_names[db]);
        return MLF_ECORRUPT;
    }
    memmove(clear, clear + CTX_BYTES, clear_len - CTX_BYTES);
    clear[clear_len - CTX_BYTES] = '\0';
    *out = clear;
    *outn = clear_len - CTX_BYTES;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------ check value */

static void key_check(const unsigned char *key, unsigned char out[CHECK_BYTES])
{
    crypto_generichash(out, CHECK_BYTES, (const unsigned char *)CHECK_TEXT, sizeof CHECK_TEXT - 1, key,
                       MLF_STORE_SECRETS_KEY_LEN);
}

/* Reads the check value of the store's key into @p out: MLF_OK, MLF_ENOTFOUND, MLF_ECORRUPT. */
static int read_check(mlf_store_txn *t, unsigned char out[CHECK_BYTES])
{
    MDB_val v;
    int rc = mlf_st_get(t, MLF_ST_META, MLF_ST_META_SECRETS, strlen(MLF_ST_META_SECRETS), &v);
    if (rc != MLF_OK)
        return rc;
    if (v.mv_size != CHECK_BYTES)
        return MLF_ECORRUPT;
    memcpy(out, v.mv_data, CHECK_BYTES);
    return MLF_OK;
}

int mlf_store_secrets_sealed(mlf_store *st)
{
    mlf_store_txn *r;
    int rc = mlf_store_read_begin(st, &r);
    if (rc != MLF_OK)
        return rc;
    unsigned char check[CHECK_BYTES];
    rc = read_check(r, check);
    mlf_store_read_end(r);
    return rc == MLF_OK ? 1 : rc == MLF_ENOTFOUND ? 0 : rc;
}

/* ----------------------------------------------------------------------------------------- reseal */

/* Every secret record, read (opened) before any is written again. */
typedef struct secrets {
    mlf_conn_rec *conns;
    size_t nconns, capconns;
    mlf_var_rec *vars;
    size_t nvars, capvars;
} secrets;

static int take_conn(void *ud, const mlf_conn_rec *rec)
{
    secrets *s = ud;
    if (s->nconns == s->capconns) {
        size_t cap = s->capconns ? s->capconns * 2 : 16;
        mlf_conn_rec *p = realloc(s->conns, cap * sizeof *p);
        if (!p)
            return MLF_ENOMEM;
        s->conns = p;
        s->capconns = cap;
    }
    mlf_conn_rec *c = &s->conns[s->nconns++]; /* the store frees the record it passed: take copies */
    mlf_conn_rec_init(c);
    c->port = rec->port;
    char **dst[] = {&c->conn_id, &c->conn_type, &c->description, &c->host, &c->login, &c->password, &c->schema};
    const char *src[] = {rec->conn_id, rec->conn_type, rec->description, rec->host, rec->login, rec->password,
                         rec->schema};
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++)
        if (src[i] && !(*dst[i] = strdup(src[i])))
            return MLF_ENOMEM;
    if (rec->extra) {
        if (!(c->extra = malloc(rec->extra_len)))
            return MLF_ENOMEM;
        memcpy(c->extra, rec->extra, rec->extra_len);
        c->extra_len = rec->extra_len;
    }
    return MLF_OK;
}

static int take_var(void *ud, const mlf_var_rec *rec)
{
    secrets *s = ud;
    if (!mlf_is_sensitive_name(rec->key))
        return MLF_OK;
    if (s->nvars == s->capvars) {
        size_t cap = s->capvars ? s->capvars * 2 : 16;
        mlf_var_rec *p = realloc(s->vars, cap * sizeof *p);
        if (!p)
            return MLF_ENOMEM;
        s->vars = p;
        s->capvars = cap;
    }
    mlf_var_rec *v = &s->vars[s->nvars++];
    mlf_var_rec_init(v);
    if (!(v->key = strdup(rec->key)) || (rec->val && !(v->val = strdup(rec->val))) ||
        (rec->description && !(v->description = strdup(rec->description))))
        return MLF_ENOMEM;
    return MLF_OK;
}

static void secrets_free(secrets *s)
{
    for (size_t i = 0; i < s->nconns; i++) {
        if (s->conns[i].password)
            sodium_memzero(s->conns[i].password, strlen(s->conns[i].password));
        if (s->conns[i].extra)
            sodium_memzero(s->conns[i].extra, s->conns[i].extra_len);
        mlf_conn_rec_clear(&s->conns[i]);
    }
    for (size_t i = 0; i < s->nvars; i++) {
        if (s->vars[i].val)
            sodium_memzero(s->vars[i].val, strlen(s->vars[i].val));
        mlf_var_rec_clear(&s->vars[i]);
    }
    free(s->conns);
    free(s->vars);
    memset(s, 0, sizeof *s);
}

/* In one write batch: reads every secret record with the attached key, attaches @p new_key, writes them all
 * again (sealed under it) with its check value. On failure the old key stays attached. */
static int reseal_all(mlf_store *st, const unsigned char *new_key, bool first, size_t *count, char *err,
                      size_t errlen)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot begin a write batch: %s", mlf_strerror(rc));
        return rc;
    }
    secrets s = {0};
    rc = mlf_store_conn_foreach(w, take_conn, &s);
    if (rc == MLF_OK)
        rc = mlf_store_var_foreach(w, take_var, &s);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot read the store's secrets with the current key: %s%s", mlf_strerror(rc),
                 rc == MLF_ECORRUPT ? " (a sealed value does not open: see the log)" : "");
        secrets_free(&s);
        mlf_store_write_abort(w);
        return rc;
    }
    unsigned char old[MLF_STORE_SECRETS_KEY_LEN];
    bool had_key = st->has_key;
    memcpy(old, st->key, sizeof old);
    memcpy(st->key, new_key, sizeof old);
    st->has_key = true;
    /* first: the puts below check that the store's key is the attached one. A store without secrets stays
     * without a check value (so that it opens with any key) until its first secret is written. */
    if (s.nconns + s.nvars || !first)
        rc = mlf_st_secrets_check_put(w);
    for (size_t i = 0; rc == MLF_OK && i < s.nconns; i++)
        rc = mlf_store_conn_put(w, &s.conns[i]);
    for (size_t i = 0; rc == MLF_OK && i < s.nvars; i++)
        rc = mlf_store_var_put(w, &s.vars[i]);
    if (rc == MLF_OK && first && !(s.nconns + s.nvars))
        mlf_store_write_abort(w); /* nothing to write: no commit, no fsync */
    else
        rc = rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
    if (rc != MLF_OK) {
        memcpy(st->key, old, sizeof old);
        st->has_key = had_key;
        snprintf(err, errlen, "cannot write the re-sealed secrets: %s (nothing changed)", mlf_strerror(rc));
    } else if (count) {
        *count = s.nconns + s.nvars;
    }
    sodium_memzero(old, sizeof old);
    secrets_free(&s);
    return rc;
}

/* -------------------------------------------------------------------------------------- public */

int mlf_store_secrets_key(mlf_store *st, const unsigned char *key, char *err, size_t errlen)
{
    if (!st || !key)
        return MLF_EINVAL;
    unsigned char want[CHECK_BYTES], have[CHECK_BYTES];
    key_check(key, want);
    mlf_store_txn *r;
    int rc = mlf_store_read_begin(st, &r);
    if (rc != MLF_OK)
        return rc;
    rc = read_check(r, have);
    mlf_store_read_end(r);
    if (rc == MLF_OK) {
        if (sodium_memcmp(want, have, CHECK_BYTES) != 0) {
            snprintf(err, errlen, "secrets key does not match the store: its secrets were sealed with another "
                     "key (restore the key file the store was written with, or the environment variable that "
                     "held it; doc/security.md)");
            return MLF_STORE_EKEY;
        }
        memcpy(st->key, key, MLF_STORE_SECRETS_KEY_LEN);
        st->has_key = true;
        return MLF_OK;
    }
    if (rc != MLF_ENOTFOUND) {
        snprintf(err, errlen, "the store's secrets key check is unreadable: %s", mlf_strerror(rc));
        return rc;
    }
    if (st->flags & MLF_STORE_RDONLY) { /* nothing is sealed yet, and a reader cannot seal */
        memcpy(st->key, key, MLF_STORE_SECRETS_KEY_LEN);
        st->has_key = true;
        return MLF_OK;
    }
    /* the first key of this store: seal what an older build stored in clear */
    size_t n = 0;
    st->has_key = false;
    rc = reseal_all(st, key, true, &n, err, errlen);
    if (rc == MLF_ECORRUPT) { /* a damaged record (db check names it) must not keep the store closed */
        mlf_log(MLF_LOG_WARNING, COMPONENT, "secrets stored in clear stay in clear for now: %s (see mlflowd db check)",
                err);
        memcpy(st->key, key, MLF_STORE_SECRETS_KEY_LEN);
        st->has_key = true;
        return MLF_OK;
    }
    if (rc == MLF_OK && n)
        mlf_log(MLF_LOG_INFO, COMPONENT, "sealed %zu secret record(s) that were stored in clear", n);
    return rc;
}

int mlf_store_secrets_rotate(mlf_store *st, const unsigned char *new_key, size_t *count, char *err,
                             size_t errlen)
{
    if (!st || !new_key)
        return MLF_EINVAL;
    if (!st->has_key || (st->flags & MLF_STORE_RDONLY)) {
        snprintf(err, errlen, "%s", st->has_key ? "the store is open read-only" : "no secrets key is attached");
        return MLF_ESTATE;
    }
    return reseal_all(st, new_key, false, count, err, errlen);
}

int mlf_st_secrets_check_put(mlf_store_txn *w)
{
    if (!w->st->has_key)
        return MLF_ESTATE;
    unsigned char check[CHECK_BYTES];
    key_check(w->st->key, check);
    return mlf_st_put(w, MLF_ST_META, MLF_ST_META_SECRETS, strlen(MLF_ST_META_SECRETS), check, sizeof check);
}

int mlf_st_secrets_check(mlf_store_txn *t)
{
    unsigned char have[CHECK_BYTES], want[CHECK_BYTES];
    int rc = read_check(t, have);
    if (rc != MLF_OK || !t->st->has_key)
        return rc;
    key_check(t->st->key, want);
    return sodium_memcmp(have, want, CHECK_BYTES) == 0 ? MLF_OK : MLF_STORE_EKEY;
}
