/*
 * store_cache.h -- the table of cached results (doc/caching.md): for each cache key of a task, the try that
 * computed it (run, map index, time), when the entry expires, and a copy of the XComs it pushed; and the
 * "ignore the cache on the next try" marks `mlflowd tasks clear --no-cache` leaves on task instances.
 *
 * Keys (table "cache"; "\0" a NUL byte):
 *   entries   'e' dag_id \0 task_id \0 digest(32)   -> entry record (a msgpack map, version "v": 1)
 *   marks     'n' TIKEY (store_internal.h)           -> empty
 * An entry is found by one keyed read (the scheduler never scans history to decide a hit); a DAG's or a
 * task's entries are one key range (`mlflowd cache list | purge`). A cache key is a hash: no rendered value
 * is ever stored in clear, only the XComs the task pushed, as any XCom is stored.
 *
 * Transactions, ownership and common errors are those of store/store.h.
 */
#ifndef MLF_CORE_STORE_CACHE_H
#define MLF_CORE_STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/** Bytes of a cache key (a BLAKE2b digest, libsodium's crypto_generichash). */
#define MLF_CACHE_DIGEST_LEN 32

/** One cached result (key: dag_id, task_id, digest). */
typedef struct mlf_cache_rec {
    char *dag_id;
    char *task_id;
    uint8_t digest[MLF_CACHE_DIGEST_LEN];
    char *run_id;              /**< the run whose try computed it */
    int map_index;             /**< that try's map index (-1: unmapped) */
    mlf_time_us created_at;    /**< when that try succeeded */
    mlf_time_us expires_at;    /**< MLF_TIME_NONE: never (no ttl) */
    uint8_t *xcoms;            /**< the XComs it pushed: one msgpack map {key: value}, or NULL (none) */
    size_t xcoms_len;
} mlf_cache_rec;

/** Initialiser (times MLF_TIME_NONE, map_index -1, the rest zero) and releaser (frees the strings and bytes a
 * get or a callback gave, then re-initialises). */
void mlf_cache_rec_init(mlf_cache_rec *r);
void mlf_cache_rec_clear(mlf_cache_rec *r);

/** Inserts or replaces the entry of @p rec's key. Errors: MLF_EPARSE (xcoms not one msgpack map). */
int mlf_store_cache_put(mlf_store_txn *w, const mlf_cache_rec *rec);

/** Reads the entry of (@p dag_id, @p task_id, @p digest) into @p *out (release with mlf_cache_rec_clear()).
 * One keyed read. Errors: MLF_ENOTFOUND, MLF_ECORRUPT. */
int mlf_store_cache_get(mlf_store_txn *txn, const char *dag_id, const char *task_id,
                        const uint8_t digest[MLF_CACHE_DIGEST_LEN], mlf_cache_rec *out);

/** Deletes one entry. Errors: MLF_ENOTFOUND. */
int mlf_store_cache_delete(mlf_store_txn *w, const char *dag_id, const char *task_id,
                           const uint8_t digest[MLF_CACHE_DIGEST_LEN]);

typedef int (*mlf_store_cache_cb)(void *ud, const mlf_cache_rec *rec);

/** Calls @p cb for every entry (of DAG @p dag_id when not NULL; of its task @p task_id when that is not NULL
 * either), by dag_id, task_id, digest. In a write batch @p cb may delete the entry it is given. */
int mlf_store_cache_foreach(mlf_store_txn *txn, const char *dag_id, const char *task_id, mlf_store_cache_cb cb,
                            void *ud);

/** Marks task instance @p ti: its next try ignores the cache (`tasks clear --no-cache`). The TI need not
 * exist yet. */
int mlf_store_cache_mark_put(mlf_store_txn *w, const mlf_ti_key *ti);
/** MLF_OK when @p ti is marked, MLF_ENOTFOUND when not. */
int mlf_store_cache_mark_get(mlf_store_txn *txn, const mlf_ti_key *ti);
/** Removes the mark of @p ti. Errors: MLF_ENOTFOUND. */
int mlf_store_cache_mark_delete(mlf_store_txn *w, const mlf_ti_key *ti);

/** 1 when entry @p rec is still valid at @p now (no expiry, or not yet expired), else 0. */
int mlf_cache_rec_live(const mlf_cache_rec *rec, mlf_time_us now);

#endif
