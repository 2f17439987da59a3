/*
 * cache_key.h -- the cache key of a try (doc/caching.md): a BLAKE2b digest (libsodium's crypto_generichash,
 * 32 bytes) over what decides the try's result. `cache: auto` hashes the operator's name and its plugin's
 * version, the digest of the plugin file taken when it was loaded, the rendered operator parameters and the
 * XComs the try can read; `cache: {key: TEMPLATE}` hashes the rendered template instead (and the map index
 * of a mapped instance). Both hash the DAG and task ids first, so that keys of two tasks never meet.
 * Values are hashed in a canonical form (map keys sorted, every value tagged with its type), so that the
 * order a map was built in never changes a key. Pure functions: no store, no scheduler.
 */
#ifndef MLF_CORE_CACHE_KEY_H
#define MLF_CORE_CACHE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "store/store_cache.h"

/** What a key is made of. Strings may be NULL (hashed as absent, which differs from ""). */
typedef struct mlf_cache_inputs {
    const char *dag_id, *task_id;
    int map_index;                 /**< -1: unmapped */
    /** `key:` mode: the rendered key template; NULL: auto mode, the fields below */
    const char *user_key;
    const char *operator_name;
    const char *operator_version;  /**< the version of the plugin that registered the operator */
    const uint8_t *plugin_digest;  /**< MLF_CACHE_DIGEST_LEN bytes, or NULL when unknown */
    const mlf_value *params;       /**< the rendered operator parameters */
    const mlf_value *xcom_inputs;  /**< task_id -> {key: value}: the XComs the try can read */
} mlf_cache_inputs;

/** Computes the key of @p in into @p out. Returns MLF_OK, or MLF_EINVAL (NULL argument, missing ids),
 * MLF_ENOMEM. */
int mlf_cache_key(const mlf_cache_inputs *in, uint8_t out[MLF_CACHE_DIGEST_LEN]);

/** Hex of @p digest into @p out (65 bytes with the NUL). */
void mlf_cache_digest_hex(const uint8_t digest[MLF_CACHE_DIGEST_LEN], char out[2 * MLF_CACHE_DIGEST_LEN + 1]);

/** The digest of the file at @p path (read in pieces) into @p out. Returns MLF_OK or an errno value. */
int mlf_cache_file_digest(const char *path, uint8_t out[MLF_CACHE_DIGEST_LEN]);

#endif
