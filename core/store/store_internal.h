/*
 * store_internal.h -- what the files of the state store share and nobody else sees: the handle layouts,
 * the raw operations of store.c (which own the op log and map growth), composite keys (store_key.c) and
 * record codecs (store_codec.c).
 *
 * Tables (LMDB named databases) and their keys; "\0" is a NUL byte, BE big-endian:
 *   meta            "schema_version" | "created_at"                   -> msgpack int
 *   dags            dag_id                                            -> dag record
 *   dag_runs        dag_id \0 logical_date(8, BE, sign bit flipped) \0 run_id -> run record
 *   run_ids         dag_id \0 run_id                                  -> the dag_runs key
 *   task_instances  TIKEY = dag_id \0 run_id \0 task_id \0 map_index+1 (4, BE) -> TI record
 *   ti_by_state     state(1) TIKEY                                    -> empty
 *   xcom            TIKEY \0 key                                      -> msgpack bytes (opaque)
 *   variables, connections, pools, import_errors: the name            -> record
 *   leases          TIKEY                                             -> lease record
 *   users           user name                                         -> user record (store_users.c)
 *   cache           'e' dag_id \0 task_id \0 digest(32) | 'n' TIKEY    -> cached result | empty (store_cache.h)
 *   assets, asset_events, asset_cursors, asset_inbox, run_assets, idempotency: store_assets.h
 *   workers         worker name                                       -> worker record (store_workers.c)
 * Tables from MLF_ST_FIRST_ADDED on came after schema version 1 was fixed: a writable open creates them
 * in a store that lacks them; a read-only open sees them empty.
 * Flipping the sign bit of the logical date makes negative dates sort before positive ones; adding one
 * to map_index makes -1 sort first. Records are msgpack maps {"v": record version, field: value...}
 * without their key fields; unknown fields are skipped so that a newer minor version stays readable.
 */
#ifndef MLF_CORE_STORE_INTERNAL_H
#define MLF_CORE_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "store/store.h"
#include "base/strutil.h"

/* ------------------------------------------------------------------------------- tables, handles */

enum mlf_st_db {
    MLF_ST_META,
    MLF_ST_DAGS,
    MLF_ST_RUNS,
    MLF_ST_RUN_IDS,
    MLF_ST_TIS,
    MLF_ST_TI_BY_STATE,
    MLF_ST_XCOM,
    MLF_ST_VARS,
    MLF_ST_CONNS,
    MLF_ST_POOLS,
    MLF_ST_IMPORT_ERRORS,
    MLF_ST_LEASES,
    MLF_ST_USERS,
    MLF_ST_CACHE, /* cached results and --no-cache marks (store_cache.c) */
    /* assets (store_assets.c) */
    MLF_ST_ASSETS,
    MLF_ST_ASSET_EVENTS,
    MLF_ST_ASSET_CURSORS,
    MLF_ST_ASSET_INBOX,
    MLF_ST_RUN_ASSETS,
    MLF_ST_IDEMPOTENCY,
    MLF_ST_WORKERS,
    MLF_ST_DB_COUNT
};

/** The first table added to schema version 1 after its release (see the table list above). */
#define MLF_ST_FIRST_ADDED MLF_ST_CACHE

/** LMDB names of the tables, by enum mlf_st_db. */
extern const char *const mlf_st_db_names[MLF_ST_DB_COUNT];

/** Meta keys. */
#define MLF_ST_META_SCHEMA "schema_version"
#define MLF_ST_META_CREATED "created_at"

struct mlf_store_txn {
    mlf_store *st;
    MDB_txn *txn;  /* NULL only inside a failed map growth */
    bool write;
    int error;     /* write batch: the first failure; every later call returns it */
    size_t txn_id; /* write batch: the LMDB txn id it began with (a replay must get the same one) */
    mlf_buf log;   /* write batch: every put/delete so far, to replay after a map resize */
};

struct mlf_store {
    MDB_env *env;
    MDB_dbi dbi[MLF_ST_DB_COUNT];
    bool absent[MLF_ST_DB_COUNT]; /* an added table missing from a store opened read-only: reads find nothing */
    unsigned flags;
    pid_t pid;               /* the process that opened the store */
    size_t max_key;          /* LMDB's key size limit */
    atomic_size_t map_size;  /* the current map size */
    pthread_rwlock_t remap;  /* read transactions hold it shared; a map resize holds it exclusively */
    pthread_mutex_t writer_mu;
    bool writer_busy;        /* under writer_mu */
    mlf_store_txn writer;    /* the one write batch */
    bool has_key;            /* a secrets key is attached (store_secrets.c) */
    unsigned char key[MLF_STORE_SECRETS_KEY_LEN]; /* seals and unseals secret fields */
};

/** Translates an LMDB return code into MLF_* (logging unexpected LMDB errors). */
int mlf_st_err(int rc);

/* ---------------------------------------------------------------------------------- raw operations */

/** Reads the value under @p key into @p *val (borrowed: valid until the next write or the end of the txn).
 * Errors: MLF_ENOTFOUND, the batch's error. */
int mlf_st_get(mlf_store_txn *t, int db, const void *key, size_t klen, MDB_val *val);

/** Writes through the batch, logging the operation for replay. mlf_st_del gives MLF_ENOTFOUND when the key
 * is absent. Validation errors (MLF_ESTATE for a read txn, MLF_ETOOBIG) leave the batch intact; any other
 * failure fails the batch. */
int mlf_st_put(mlf_store_txn *w, int db, const void *key, size_t klen, const void *val, size_t vlen);
int mlf_st_del(mlf_store_txn *w, int db, const void *key, size_t klen);

/** A key range [lo, hi) (a NULL bound is open), walked backwards when @p reverse. */
typedef struct mlf_st_range {
    const void *lo;
    size_t lo_len;
    const void *hi;
    size_t hi_len;
    bool reverse;
} mlf_st_range;

typedef int (*mlf_st_kv_cb)(void *ud, const MDB_val *key, const MDB_val *val);

/** Calls @p cb for each key in @p range of table @p db. In a write batch the keys are collected first and
 * each value is read when visited (keys deleted meanwhile are skipped), so @p cb may write. Returns MLF_OK
 * (also when @p cb returned MLF_STORE_STOP), @p cb's error, or an LMDB error. */
int mlf_st_iter(mlf_store_txn *t, int db, const mlf_st_range *range, mlf_st_kv_cb cb, void *ud);

/* -------------------------------------------------------------------------------- composite keys */

/** A key being built: at most MLF_STORE_KEY_MAX bytes. */
typedef struct mlf_st_key {
    size_t n;
    uint8_t b[MLF_STORE_KEY_MAX];
} mlf_st_key;

/** Each builder resets @p k and fills it; errors: MLF_EINVAL (NULL/empty id), MLF_ETOOBIG (an id longer
 * than its limit), MLF_ERANGE (map_index < -1), MLF_EINVAL (logical date MLF_TIME_NONE). */
int mlf_st_key_name(mlf_st_key *k, const char *name, size_t max);
int mlf_st_key_ti(mlf_st_key *k, const mlf_ti_key *ti);
int mlf_st_key_run(mlf_st_key *k, const char *dag_id, mlf_time_us logical_date, const char *run_id);
int mlf_st_key_run_id(mlf_st_key *k, const char *dag_id, const char *run_id);
int mlf_st_key_xcom(mlf_st_key *k, const mlf_ti_key *ti, const char *key);
/** "dag_id\0" [+ "run_id\0" [+ "task_id\0"]]: the prefix of a DAG's runs, a run's TIs, a task's TIs. */
int mlf_st_key_prefix(mlf_st_key *k, const char *dag_id, const char *run_id, const char *task_id);
/** "dag_id\0" + 8 date bytes: a bound for ranges of a DAG's runs (any date, INT64_MIN included). */
int mlf_st_key_run_bound(mlf_st_key *k, const char *dag_id, mlf_time_us t);
/** The TI-by-state index key of @p ti_key. */
int mlf_st_key_state(mlf_st_key *k, mlf_ti_state state, const mlf_st_key *ti_key);

/** Sets @p r to the range of every key starting with @p prefix; @p hi receives the upper bound. */
void mlf_st_range_prefix(mlf_st_range *r, const mlf_st_key *prefix, mlf_st_key *hi);
/** The range of one run's keys (one task's when @p task_id is not NULL) in a TIKEY-keyed table; @p lo and
 * @p hi hold the bounds. Errors as mlf_st_key_prefix(), MLF_EINVAL for a NULL run_id. */
int mlf_st_range_run(mlf_st_range *r, mlf_st_key *lo, mlf_st_key *hi, const char *dag_id, const char *run_id,
                     const char *task_id);

/** Key parsers. Strings are borrowed from @p p; every parser gives MLF_ECORRUPT for a malformed key.
 * mlf_st_parse_ti reads a TIKEY at the start of @p p and stores its length in @p *used. */
int mlf_st_parse_name(const void *p, size_t n, size_t max);
int mlf_st_parse_ti(const void *p, size_t n, mlf_ti_key *out, size_t *used);
int mlf_st_parse_run(const void *p, size_t n, const char **dag_id, mlf_time_us *logical_date,
                     const char **run_id, size_t *run_len);
int mlf_st_parse_run_id(const void *p, size_t n, const char **dag_id, const char **run_id, size_t *run_len);
int mlf_st_parse_xcom(const void *p, size_t n, mlf_ti_key *ti, const char **key, size_t *key_len);

/* --------------------------------------------------------------------------------- record codecs */

/** What a record field is: its C type, and whether it lives in the value or in the key. */
enum mlf_st_kind { MLF_ST_STR, MLF_ST_BIN, MLF_ST_BOOL, MLF_ST_INT, MLF_ST_I64, MLF_ST_U64, MLF_ST_TIME,
                   MLF_ST_ENUM };
enum mlf_st_role { MLF_ST_VALUE, MLF_ST_NAME, MLF_ST_DAG, MLF_ST_RUN, MLF_ST_TASK, MLF_ST_MAP_INDEX,
                   MLF_ST_LOGICAL_DATE };
/** How a record's key is made from its identity fields. */
enum mlf_st_keykind { MLF_ST_KEY_NAME, MLF_ST_KEY_RUN, MLF_ST_KEY_TI };

typedef struct mlf_st_field {
    const char *name;
    unsigned char kind; /* enum mlf_st_kind */
    unsigned char role; /* enum mlf_st_role */
    size_t off;         /* offset in the record struct */
    size_t len_off;     /* MLF_ST_BIN: offset of the size_t length */
    int max;            /* MLF_ST_ENUM: values are 0..max-1 */
    unsigned char seal; /* MLF_ST_STR/BIN values: enum mlf_st_seal */
} mlf_st_field;

/** Which fields are sealed (encrypted) at rest: connection passwords and extras always, variable values when
 * the variable's name is sensitive (conn_uri.h's mlf_is_sensitive_name()). */
enum mlf_st_seal { MLF_ST_SEAL_NO, MLF_ST_SEAL_ALWAYS, MLF_ST_SEAL_SENSITIVE_NAME };

/** A record type: its table, key and fields. */
typedef struct mlf_st_rectype {
    const char *what; /* "task instance", for messages */
    int db;
    int keykind;  /* enum mlf_st_keykind */
    size_t key_max; /* MLF_ST_KEY_NAME: longest name */
    size_t size;
    const mlf_st_field *fields;
    size_t nfields;
} mlf_st_rectype;

/** Room for a record of any type, to decode into when the type is only known at run time. */
typedef union mlf_st_any_rec {
    mlf_dag_rec dag;
    mlf_run_rec run;
    mlf_ti_rec ti;
    mlf_var_rec var;
    mlf_conn_rec conn;
    mlf_pool_rec pool;
    mlf_import_error_rec import_error;
    mlf_lease_rec lease;
} mlf_st_any_rec;

extern const mlf_st_rectype mlf_st_dag_type, mlf_st_run_type, mlf_st_ti_type, mlf_st_var_type,
    mlf_st_conn_type, mlf_st_pool_type, mlf_st_import_error_type, mlf_st_lease_type;
/** The users of the webserver (store_users.c). */
extern const mlf_st_rectype mlf_st_user_type;
/** The workers of remote executors (store_workers.c). */
extern const mlf_st_rectype mlf_st_worker_type;

/** The record format version written in "v". */
#define MLF_ST_RECORD_VERSION 1

void mlf_st_rec_init(const mlf_st_rectype *rt, void *rec);
void mlf_st_rec_clear(const mlf_st_rectype *rt, void *rec);
/** Builds the key of @p rec from its identity fields (errors as the key builders). */
int mlf_st_rec_key(const mlf_st_rectype *rt, const void *rec, mlf_st_key *k);
/** Encodes the value of @p rec (its non-key fields) as a msgpack map appended to @p out.
 * Errors: MLF_EINVAL (an enum out of range, bytes with a length but no pointer), MLF_EPARSE (opaque bytes
 * that are not one msgpack object), MLF_ENOMEM. */
int mlf_st_rec_encode(const mlf_st_rectype *rt, const void *rec, mlf_buf *out);
/** Decodes key @p k and value @p v into @p rec (initialised here; release with mlf_st_rec_clear()).
 * Errors: MLF_ECORRUPT (then @p rec holds nothing), MLF_ENOMEM. */
int mlf_st_rec_decode(const mlf_st_rectype *rt, const MDB_val *k, const MDB_val *v, void *rec);

/** As mlf_st_rec_encode() and mlf_st_rec_decode() in store @p st, whose secrets key seals the fields marked
 * for it (store_secrets.c) and unseals sealed ones. With @p st NULL (or no key attached) encoding a field
 * to seal gives MLF_ESTATE, and decoding a sealed field gives MLF_ESTATE; a sealed field that fails
 * authentication gives MLF_ECORRUPT. */
int mlf_st_rec_encode_st(const mlf_store *st, const mlf_st_rectype *rt, const void *rec, mlf_buf *out);
int mlf_st_rec_decode_st(const mlf_store *st, const mlf_st_rectype *rt, const MDB_val *k, const MDB_val *v,
                         void *rec);

/* -------------------------------------------------------------------------------- sealed fields */

/** The msgpack ext type of a sealed field; its payload is MLF_ST_SEAL_VERSION, a 24-byte nonce, then the
 * crypto_secretbox_easy() of a 16-byte context (a hash of table, record key and field name: a sealed value
 * copied into another record or field does not open) followed by the clear value. */
#define MLF_ST_SEAL_EXT 1
#define MLF_ST_SEAL_VERSION 1
/** Meta key of the secrets key's check value (a keyed BLAKE2b of a constant: it reveals nothing). */
#define MLF_ST_META_SECRETS "secrets_key_check"

/** Seals @p n bytes at @p p (field @p field of the record under key @p kb/@p kn of table @p db) with the
 * store's key, appending the ext payload to @p out. Errors: MLF_ESTATE (no key), MLF_ENOMEM. */
int mlf_st_seal(const mlf_store *st, int db, const void *kb, size_t kn, const char *field, const void *p,
                size_t n, mlf_buf *out);
/** Opens a sealed payload (@p n bytes at @p p) into a new buffer @p *out (free(); NUL-terminated, the NUL
 * not counted in @p *outn). Errors: MLF_ESTATE (no key), MLF_ECORRUPT (another version, damaged,
 * tampered, moved from another record, or sealed with another key), MLF_ENOMEM. */
int mlf_st_unseal(const mlf_store *st, int db, const void *kb, size_t kn, const char *field, const void *p,
                  size_t n, uint8_t **out, size_t *outn);
/** Compares the store's check value with the attached key: MLF_OK (they match, or no key attached),
 * MLF_ENOTFOUND (no check value: nothing sealed yet), MLF_STORE_EKEY, MLF_ECORRUPT. */
int mlf_st_secrets_check(mlf_store_txn *t);
/** Records the check value of the attached key in batch @p w. Errors: MLF_ESTATE (no key), write errors. */
int mlf_st_secrets_check_put(mlf_store_txn *w);
/** Whether field @p f of record @p rec (of type @p rt) is sealed when written. */
bool mlf_st_seal_wanted(const mlf_st_rectype *rt, const mlf_st_field *f, const void *rec);

/** MLF_OK when @p p holds exactly one well-formed msgpack object nested at most @p max_depth deep, else
 * MLF_EPARSE. Never reads outside [p, p + n). */
int mlf_st_mp_check(const void *p, size_t n, int max_depth);
/** Finds top-level integer field @p name of an encoded record (@p n bytes at @p p) without decoding the
 * rest: what a write needs to know of the record it replaces (a TI's state, for the state index).
 * Errors: MLF_ENOTFOUND (no such field), MLF_ECORRUPT (not a map with string keys, or the field is not an
 * integer). */
int mlf_st_rec_find_int(const void *p, size_t n, const char *name, int64_t *out);
/** A msgpack integer: encode appends it to @p out; decode reads exactly one (MLF_ECORRUPT otherwise). */
int mlf_st_int_encode(int64_t v, mlf_buf *out);
int mlf_st_int_decode(const void *p, size_t n, int64_t *out);

/** Depth limit for opaque msgpack values (conf, extra, XCom). */
#define MLF_ST_OPAQUE_DEPTH 64

/* --------------------------------------------------------------------------------- record helpers */

typedef int (*mlf_st_rec_cb)(void *ud, const void *rec);

/** Encodes @p rec and puts it under its key. */
int mlf_st_rec_put(mlf_store_txn *w, const mlf_st_rectype *rt, const void *rec);
/** Reads and decodes the record under @p k into @p out. Errors: MLF_ENOTFOUND, MLF_ECORRUPT. */
int mlf_st_rec_get(mlf_store_txn *t, const mlf_st_rectype *rt, const mlf_st_key *k, void *out);
/** Decodes every record in @p range and passes it to @p cb (released after the call). */
int mlf_st_rec_foreach(mlf_store_txn *t, const mlf_st_rectype *rt, const mlf_st_range *range,
                       mlf_st_rec_cb cb, void *ud);
/** A typed user callback (mlf_store_ti_cb...), reached through a generic mlf_st_rec_cb trampoline. */
struct mlf_st_typed_cb {
    void (*fn)(void);
    void *ud;
};

/** Defines trampoline @p name that passes a record to the typed callback in a struct mlf_st_typed_cb. */
#define MLF_ST_TRAMPOLINE(name, cb_type, rec_type)                                                          \
    static int name(void *ud, const void *rec)                                                              \
    {                                                                                                       \
        const struct mlf_st_typed_cb *t = ud;                                                               \
        return ((cb_type)t->fn)(t->ud, (const rec_type *)rec);                                              \
    }

/** Deletes every key of table @p db starting with @p prefix (collected first; none is fine). */
int mlf_st_del_prefix(mlf_store_txn *w, int db, const mlf_st_key *prefix);
/** MLF_OK when a TI with key @p ti_key exists, MLF_ENOTFOUND otherwise. */
int mlf_st_ti_exists(mlf_store_txn *t, const mlf_st_key *ti_key);
/** Deletes the TI with key @p ti_key and everything hanging from it (index entry, lease, XComs).
 * Errors: MLF_ENOTFOUND. */
int mlf_st_ti_delete_key(mlf_store_txn *w, const mlf_st_key *ti_key);

#endif
