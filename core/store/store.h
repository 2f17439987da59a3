/*
 * store.h -- the state store: DAGs, DAG runs, task instances, XCom, variables, connections, pools, import
 * errors and leases in one LMDB environment under $MLFLOWD_HOME/state (doc/architecture.md §8).
 *
 * TRANSACTIONS
 *   Every read and write goes through an mlf_store_txn:
 *   - read transactions (mlf_store_read_begin/_end) see one consistent snapshot, never block the writer
 *     and are cheap. Keep them SHORT: an open reader keeps LMDB from reusing pages freed by later commits
 *     (the file grows), and a map resize of the writer waits for it. Any thread may open one (the
 *     environment uses MDB_NOTLS), for example HTTP threads. Never wait for the scheduler loop while holding
 *     a read transaction: the loop's commit may be waiting for that reader to end.
 *   - ONE writer: a write batch (mlf_store_write_begin/_commit/_abort) groups every change of a scheduler
 *     loop turn into one durable commit (one fsync). Reads through the batch see the batch's own writes.
 *     The batch keeps a log of its operations; when the LMDB map is full it aborts, doubles the map and
 *     replays the log, so callers never see a "map full" error.
 *   - A transaction belongs to the thread that began it, which ends it. A thread holds at most one
 *     transaction (of any store) at a time: a second begin in the same thread fails with MLF_ESTATE.
 *     Read through the batch instead of opening a reader beside it.
 *   - Iterations (the *_foreach functions) call back once per record. In a write batch the callback may
 *     write: each record is read when it is visited, records deleted before their visit are skipped and
 *     records added during the iteration are not visited. A callback returns 0 to go on, MLF_STORE_STOP to
 *     stop (the foreach then returns MLF_OK) or an error code, which the foreach returns.
 *
 * PROCESSES
 *   Open a store once per process (LMDB forbids opening one environment twice in a process). Never use a
 *   store across fork(): a child must neither use nor close its parent's store; it execs or _exits, or
 *   opens its own after the fork. Several processes may open the same store (the CLI beside the
 *   scheduler); LMDB serialises their writers.
 *
 * RECORDS
 *   Each record type is a C struct. Identity fields (the key) are listed first. Records returned by get
 *   functions and passed to callbacks own their strings and bytes: release a record you got from a get
 *   with its _clear function; a record passed to a callback is released by the store after the call.
 *   Records you build for a put function are only read: fill them with your own pointers after _init
 *   (which sets every time to MLF_TIME_NONE and everything else to zero/NULL).
 *   Ids (dag_id, run_id, task_id, XCom keys) are 1..MLF_STORE_ID_MAX bytes, other keys (variable keys,
 *   conn_ids, pool names, file names) 1..MLF_STORE_KEY_MAX bytes; longer ones give MLF_ETOOBIG, empty or
 *   NULL ones MLF_EINVAL. Opaque msgpack values (run conf, connection extra, XCom values) must be exactly
 *   one well-formed msgpack object (else MLF_EPARSE); the store never looks inside otherwise.
 *
 * ERRORS common to every function below: MLF_EINVAL (NULL or invalid argument), MLF_ENOMEM, MLF_ESTATE (a
 * write through a read transaction, a store opened read-only, a use after fork), MLF_ECORRUPT (a damaged
 * record or key), MLF_EIO (an LMDB or file-system failure, logged), or a positive errno value. Functions
 * that write return the same errors; after a write error other than MLF_EINVAL / MLF_ETOOBIG / MLF_EPARSE /
 * MLF_ENOTFOUND / MLF_EEXIST (which leave the batch untouched) the batch is failed: every later call
 * returns that error and the commit discards the batch.
 */
#ifndef MLF_CORE_STORE_H
#define MLF_CORE_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mlflowd/mlflowd.h>

#include "store/state.h"

/** The schema version this build reads and writes. A store of another version is refused. */
#define MLF_STORE_SCHEMA_VERSION 1

/** mlf_store_open() flags. */
#define MLF_STORE_RDONLY 0x1u /**< read-only: no write batches (MDB_RDONLY) */
#define MLF_STORE_CREATE 0x2u /**< create the directory and initialise the store when needed (db init) */

/** The initial map size of a new store (it grows by doubling when full). */
#define MLF_STORE_DEFAULT_MAP_SIZE ((size_t)64 << 20)

/** Longest dag_id, run_id, task_id or XCom key in bytes (so that composite keys fit LMDB's 511). */
#define MLF_STORE_ID_MAX 120
/** Longest variable key, conn_id, pool name or import-error file name in bytes (LMDB's key limit). */
#define MLF_STORE_KEY_MAX 511

/** Bytes of the secrets key that seals connection passwords and extras and sensitive variables at rest. */
#define MLF_STORE_SECRETS_KEY_LEN 32

/** A foreach callback's "stop here, no error" (outside the MLF_E* and errno ranges). */
#define MLF_STORE_STOP 0x40000000

/** mlf_store_run_foreach() flag: newest logical date first. */
#define MLF_STORE_REVERSE 0x1u

/** A time that is not set (stored as msgpack nil). */
#ifndef MLF_TIME_NONE
#define MLF_TIME_NONE INT64_MIN
#endif

/** The pool every task uses unless it names another; init creates it with 128 slots. */
#define MLF_DEFAULT_POOL "default_pool"
#define MLF_DEFAULT_POOL_SLOTS 128

/** An open state store (one LMDB environment). */
typedef struct mlf_store mlf_store;
/** A read transaction or the write batch. */
typedef struct mlf_store_txn mlf_store_txn;

/* ---------------------------------------------------------------------------------------- records */

/** One DAG as the scheduler knows it (key: dag_id). */
typedef struct mlf_dag_rec {
    char *dag_id;
    bool is_paused;
    bool is_active;         /**< a DAG file still defines it */
    bool has_import_errors; /**< its file failed to load at the last parse */
    char *fileloc;          /**< the DAG file's path */
    mlf_time_us last_parsed;
    mlf_time_us next_dagrun;                /**< logical date of the next scheduled run */
    mlf_time_us next_dagrun_interval_start; /**< its data interval [start, end) */
    mlf_time_us next_dagrun_interval_end;
    mlf_time_us next_dagrun_create_after; /**< when that run may be created */
} mlf_dag_rec;

/** One DAG run (key: dag_id, logical_date, run_id). */
typedef struct mlf_run_rec {
    char *dag_id;
    char *run_id;
    mlf_time_us logical_date;
    mlf_run_state state;
    mlf_run_type run_type;
    bool external_trigger;
    mlf_time_us data_interval_start;
    mlf_time_us data_interval_end;
    mlf_time_us queued_at;
    mlf_time_us start_date;
    mlf_time_us end_date;
    mlf_time_us last_scheduling_decision;
    uint8_t *conf; /**< trigger-time conf: one msgpack object, or NULL */
    size_t conf_len;
    char *note;
    char *owner;                 /**< the process running it: "KIND PID STARTTIME BOOT_ID" (sched_owner.h) */
    mlf_time_us owner_heartbeat; /**< its latest beat, CLOCK_BOOTTIME µs */
} mlf_run_rec;

/** The identity of one task instance. map_index is -1 for an unmapped task, 0..n-1 for mapped ones. */
typedef struct mlf_ti_key {
    const char *dag_id;
    const char *run_id;
    const char *task_id;
    int map_index;
} mlf_ti_key;

/** One task instance (key: dag_id, run_id, task_id, map_index). */
typedef struct mlf_ti_rec {
    char *dag_id;
    char *run_id;
    char *task_id;
    int map_index; /**< -1 after _init */
    mlf_ti_state state;
    int try_number; /**< the current (or last) try, counting from 1; 0 before the first */
    int max_tries;
    mlf_time_us start_date;
    mlf_time_us end_date;
    int64_t duration; /**< microseconds */
    char *hostname;
    int pid;
    uint64_t attempt_token; /**< token of the dispatched try; results with another token are stale */
    mlf_time_us queued_at;
    mlf_time_us wake_at;       /**< up_for_reschedule: next poke; up_for_retry: when the retry is due */
    mlf_time_us first_poke_at; /**< sensors: start of the first poke (the timeout counts from here) */
    char *operator_name;
    char *pool;
    int pool_slots;
    char *queue;
    int priority_weight;
    char *external_executor_id;
    char *message; /**< why the try ended as it did */
    char *note;    /**< a user's note */
} mlf_ti_rec;

/** A variable (key: key). */
typedef struct mlf_var_rec {
    char *key;
    char *val;
    char *description;
} mlf_var_rec;

/** A connection (key: conn_id). */
typedef struct mlf_conn_rec {
    char *conn_id;
    char *conn_type;
    char *description;
    char *host;
    int port; /**< 0: not set */
    char *login;
    char *password;
    char *schema;
    uint8_t *extra; /**< one msgpack object (a map by convention), or NULL */
    size_t extra_len;
} mlf_conn_rec;

/** A pool (key: name). */
typedef struct mlf_pool_rec {
    char *name;
    int slots; /**< -1: unlimited */
    char *description;
} mlf_pool_rec;

/** A DAG file that failed to load (key: filename). */
typedef struct mlf_import_error_rec {
    char *filename;
    int line;
    int column;
    char *message;
    mlf_time_us timestamp;
} mlf_import_error_rec;

/** The lease of a dispatched try (key: the TI's key): a result counts only if it carries the token. */
typedef struct mlf_lease_rec {
    char *dag_id;
    char *run_id;
    char *task_id;
    int map_index; /**< -1 after _init */
    uint64_t attempt_token;
    char *worker;
    mlf_time_us deadline; /**< the worker must heartbeat (renew) before this */
} mlf_lease_rec;

/** Record initialisers (times MLF_TIME_NONE, map_index -1, everything else zero/NULL) and releasers (free
 * every string and byte buffer, then re-initialise). _clear accepts an initialised record; never NULL. */
void mlf_dag_rec_init(mlf_dag_rec *r);
void mlf_dag_rec_clear(mlf_dag_rec *r);
void mlf_run_rec_init(mlf_run_rec *r);
void mlf_run_rec_clear(mlf_run_rec *r);
void mlf_ti_rec_init(mlf_ti_rec *r);
void mlf_ti_rec_clear(mlf_ti_rec *r);
void mlf_var_rec_init(mlf_var_rec *r);
void mlf_var_rec_clear(mlf_var_rec *r);
void mlf_conn_rec_init(mlf_conn_rec *r);
void mlf_conn_rec_clear(mlf_conn_rec *r);
void mlf_pool_rec_init(mlf_pool_rec *r);
void mlf_pool_rec_clear(mlf_pool_rec *r);
void mlf_import_error_rec_init(mlf_import_error_rec *r);
void mlf_import_error_rec_clear(mlf_import_error_rec *r);
void mlf_lease_rec_init(mlf_lease_rec *r);
void mlf_lease_rec_clear(mlf_lease_rec *r);

/** The key of a task instance record, borrowed from @p r. */
mlf_ti_key mlf_ti_rec_key(const mlf_ti_rec *r);

/* -------------------------------------------------------------------------------- environment */

/**
 * Opens the store in directory @p dir with the default initial map size. See mlf_store_open_sized().
 */
int mlf_store_open(const char *dir, unsigned flags, mlf_store **out, char *err, size_t errlen);

/**
 * Opens the store in directory @p dir into @p *out (close with mlf_store_close()).
 * With MLF_STORE_CREATE the directory (one level) is created with mode 0700 and an uninitialised store is
 * initialised: schema_version and created_at in meta, the default pool. This is `db init`; it is harmless
 * on an initialised store. @p map_size is the map size of a new store (a store that already exists keeps
 * its own when that is larger); it grows by doubling when full. On failure a sentence fit for a person is
 * written to @p err (may be NULL when @p errlen is 0).
 * Errors: MLF_EINVAL (NULL dir/out, RDONLY with CREATE), MLF_ENOTFOUND (no store in @p dir and no
 * MLF_STORE_CREATE), MLF_ECORRUPT (not an mlflowd store, or a store of another schema version: the message
 * names both versions), MLF_EIO or errno values (LMDB could not open or lock the files).
 */
int mlf_store_open_sized(const char *dir, unsigned flags, size_t map_size, mlf_store **out, char *err,
                         size_t errlen);

/** Closes the store. No transaction may be open (a still-open write batch is aborted). NULL is a no-op. */
void mlf_store_close(mlf_store *st);

/** The current map size in bytes (grows when the writer fills the map). */
size_t mlf_store_map_size(mlf_store *st);

/** Begins a read transaction into @p *out; end it with mlf_store_read_end(), soon.
 * Errors: MLF_ESTATE (this thread already holds a store transaction, or use after fork), MLF_EIO. */
int mlf_store_read_begin(mlf_store *st, mlf_store_txn **out);

/** Ends a read transaction and frees it. NULL is a no-op. */
void mlf_store_read_end(mlf_store_txn *txn);

/** Begins the write batch into @p *out (end it with mlf_store_write_commit() or _abort()). Blocks while
 * another process (the CLI beside the scheduler) has a write batch open. Errors: MLF_ESTATE (the store is read-only, another batch is open, this thread holds a transaction, use
 * after fork), MLF_EIO. */
int mlf_store_write_begin(mlf_store *st, mlf_store_txn **out);

/** Commits every change of the batch at once, durably (fsync), and ends the batch (also on failure).
 * Grows the map and retries when it is full. Errors: the batch's first write error (nothing is committed),
 * MLF_ESTATE (another process committed while the map was being resized, so the batch could not be
 * replayed: nothing is committed), MLF_ETOOBIG (the map cannot grow further), MLF_EIO. */
int mlf_store_write_commit(mlf_store_txn *w);

/** Discards every change of the batch and ends it. NULL is a no-op. */
void mlf_store_write_abort(mlf_store_txn *w);

/** Reads the schema version and creation time of the store (either may be NULL). */
int mlf_store_meta(mlf_store_txn *txn, int64_t *schema_version, mlf_time_us *created_at);

/* ---------------------------------------------------------------------------------- secrets at rest */
/*
 * Connection passwords and extras, and the values of variables with a sensitive name (conn_uri.h's
 * mlf_is_sensitive_name()), are sealed in the store with crypto_secretbox (XSalsa20-Poly1305, a random
 * nonce per value) under the secrets key attached with mlf_store_secrets_key(); reads through the store
 * open them again, so callers only ever see clear values. A store remembers a check value of its key (a
 * keyed hash, in meta), so a store opened with another key says so instead of returning garbage. Values
 * written in clear by an older build still read, and are sealed when the key is first attached to a
 * writable store (and on every later write). Without a key attached, writing a connection or a sensitive
 * variable, or reading a sealed value, gives MLF_ESTATE. doc/security.md tells where the key lives.
 */

/** Mismatch of the secrets key and the store (an errno value: mlf_strerror() explains it). */
#define MLF_STORE_EKEY EKEYREJECTED

/**
 * Attaches the secrets key @p key (MLF_STORE_SECRETS_KEY_LEN bytes, copied) to @p st. When the store
 * remembers another key's check value, nothing is attached and MLF_STORE_EKEY is returned with "secrets
 * key does not match the store: ..." in @p err. When it remembers none yet and @p st is writable, one write
 * batch records the check value and seals every secret still stored in clear (their number is logged).
 * No transaction of this thread may be open. Errors: MLF_EINVAL, MLF_STORE_EKEY, the write batch's errors.
 */
int mlf_store_secrets_key(mlf_store *st, const unsigned char *key, char *err, size_t errlen);

/** 1 when the store remembers a secrets key's check value (so its secrets are sealed under some key), 0
 * when it does not, or a negative MLF_E* error. */
int mlf_store_secrets_sealed(mlf_store *st);

/**
 * Re-seals every secret of the store under @p new_key (`mlflowd db rotate-key`) in one write batch that
 * also records the new key's check value: after a failure nothing changed and the old key still opens
 * everything. On success @p new_key becomes the store's key and @p *count (may be NULL) receives the number
 * of records re-sealed. The old key must be attached. Errors: MLF_EINVAL, MLF_ESTATE (no key attached, a
 * read-only store), MLF_ECORRUPT (a secret that the old key does not open), the write batch's errors; a
 * sentence in @p err.
 */
int mlf_store_secrets_rotate(mlf_store *st, const unsigned char *new_key, size_t *count, char *err,
                             size_t errlen);

/* ------------------------------------------------------------------------------------------ DAGs */

typedef int (*mlf_store_dag_cb)(void *ud, const mlf_dag_rec *rec);

/** Inserts or replaces the DAG record. */
int mlf_store_dag_put(mlf_store_txn *w, const mlf_dag_rec *rec);
/** Reads DAG @p dag_id into @p *out (release with mlf_dag_rec_clear()). Errors: MLF_ENOTFOUND. */
int mlf_store_dag_get(mlf_store_txn *txn, const char *dag_id, mlf_dag_rec *out);
/** Deletes the DAG record only (its runs stay). Errors: MLF_ENOTFOUND. */
int mlf_store_dag_delete(mlf_store_txn *w, const char *dag_id);
/** Calls @p cb for every DAG in dag_id order. */
int mlf_store_dag_foreach(mlf_store_txn *txn, mlf_store_dag_cb cb, void *ud);

/* -------------------------------------------------------------------------------------- DAG runs */

typedef int (*mlf_store_run_cb)(void *ud, const mlf_run_rec *rec);

/** Inserts or replaces a DAG run. Errors: MLF_EEXIST (the DAG already has this run_id at another logical
 * date), MLF_EINVAL (logical_date MLF_TIME_NONE, state or type out of range). */
int mlf_store_run_put(mlf_store_txn *w, const mlf_run_rec *rec);
/** Reads run @p run_id of DAG @p dag_id into @p *out (release with mlf_run_rec_clear()).
 * Errors: MLF_ENOTFOUND. */
int mlf_store_run_get(mlf_store_txn *txn, const char *dag_id, const char *run_id, mlf_run_rec *out);
/** Deletes a run with its task instances, their state index entries and leases, and its XComs.
 * Errors: MLF_ENOTFOUND. */
int mlf_store_run_delete(mlf_store_txn *w, const char *dag_id, const char *run_id);
/** Calls @p cb for the runs of @p dag_id whose logical date is in [@p from, @p to), oldest first (newest
 * first with MLF_STORE_REVERSE); runs of one date in run_id order. INT64_MIN / INT64_MAX: no bound. */
int mlf_store_run_foreach(mlf_store_txn *txn, const char *dag_id, mlf_time_us from, mlf_time_us to,
                          unsigned flags, mlf_store_run_cb cb, void *ud);

/* ----------------------------------------------------------------------------- task instances */

typedef int (*mlf_store_ti_cb)(void *ud, const mlf_ti_rec *rec);

/** Inserts or replaces a task instance, keeping the TI-by-state index in step in the same batch.
 * Errors: MLF_ENOTFOUND (a new TI whose run does not exist), MLF_ERANGE (map_index < -1), MLF_EINVAL
 * (state out of range). */
int mlf_store_ti_put(mlf_store_txn *w, const mlf_ti_rec *rec);
/** Reads a task instance into @p *out (release with mlf_ti_rec_clear()). Errors: MLF_ENOTFOUND. */
int mlf_store_ti_get(mlf_store_txn *txn, const mlf_ti_key *key, mlf_ti_rec *out);
/** Deletes a task instance with its index entry, lease and XComs. Errors: MLF_ENOTFOUND. */
int mlf_store_ti_delete(mlf_store_txn *w, const mlf_ti_key *key);
/** Calls @p cb for the TIs of one run (of one task of it when @p task_id is not NULL), by task_id then
 * map_index (-1 first). */
int mlf_store_ti_foreach_run(mlf_store_txn *txn, const char *dag_id, const char *run_id, const char *task_id,
                             mlf_store_ti_cb cb, void *ud);
/** Calls @p cb for every TI in state @p state (through the index: no scan), by dag_id, run_id, task_id,
 * map_index. */
int mlf_store_ti_foreach_state(mlf_store_txn *txn, mlf_ti_state state, mlf_store_ti_cb cb, void *ud);

/* -------------------------------------------------------------------------------------------- XCom */

typedef int (*mlf_store_xcom_cb)(void *ud, const mlf_ti_key *ti, const char *key, const void *val,
                                 size_t len);

/** Stores XCom @p key of task instance @p ti: @p val is one msgpack object of @p len bytes (the size limit
 * is the caller's). Errors: MLF_ENOTFOUND (no such TI), MLF_EPARSE (not one msgpack object). */
int mlf_store_xcom_put(mlf_store_txn *w, const mlf_ti_key *ti, const char *key, const void *val, size_t len);
/** Reads XCom @p key of @p ti into a new buffer @p *val (free()) of @p *len bytes. Errors: MLF_ENOTFOUND. */
int mlf_store_xcom_get(mlf_store_txn *txn, const mlf_ti_key *ti, const char *key, void **val, size_t *len);
/** Deletes every XCom of @p ti (none is not an error). */
int mlf_store_xcom_delete_ti(mlf_store_txn *w, const mlf_ti_key *ti);
/** Calls @p cb for the XComs of one run (of one task when @p task_id is not NULL) by task_id, map_index,
 * key. Every pointer passed to @p cb is valid during the call only. */
int mlf_store_xcom_foreach(mlf_store_txn *txn, const char *dag_id, const char *run_id, const char *task_id,
                           mlf_store_xcom_cb cb, void *ud);

/* ----------------------------------------------------- variables, connections, pools, import errors */

typedef int (*mlf_store_var_cb)(void *ud, const mlf_var_rec *rec);
typedef int (*mlf_store_conn_cb)(void *ud, const mlf_conn_rec *rec);
typedef int (*mlf_store_pool_cb)(void *ud, const mlf_pool_rec *rec);
typedef int (*mlf_store_import_error_cb)(void *ud, const mlf_import_error_rec *rec);

/** Inserts or replaces; get fills @p *out (release with the _clear function; MLF_ENOTFOUND when absent);
 * delete gives MLF_ENOTFOUND when absent; foreach goes in key order. */
int mlf_store_var_put(mlf_store_txn *w, const mlf_var_rec *rec);
int mlf_store_var_get(mlf_store_txn *txn, const char *key, mlf_var_rec *out);
int mlf_store_var_delete(mlf_store_txn *w, const char *key);
int mlf_store_var_foreach(mlf_store_txn *txn, mlf_store_var_cb cb, void *ud);

int mlf_store_conn_put(mlf_store_txn *w, const mlf_conn_rec *rec);
int mlf_store_conn_get(mlf_store_txn *txn, const char *conn_id, mlf_conn_rec *out);
int mlf_store_conn_delete(mlf_store_txn *w, const char *conn_id);
int mlf_store_conn_foreach(mlf_store_txn *txn, mlf_store_conn_cb cb, void *ud);

/** Pools: slots must be >= -1 (MLF_ERANGE). Deleting MLF_DEFAULT_POOL gives MLF_EINVAL. */
int mlf_store_pool_put(mlf_store_txn *w, const mlf_pool_rec *rec);
int mlf_store_pool_get(mlf_store_txn *txn, const char *name, mlf_pool_rec *out);
int mlf_store_pool_delete(mlf_store_txn *w, const char *name);
int mlf_store_pool_foreach(mlf_store_txn *txn, mlf_store_pool_cb cb, void *ud);

int mlf_store_import_error_put(mlf_store_txn *w, const mlf_import_error_rec *rec);
int mlf_store_import_error_get(mlf_store_txn *txn, const char *filename, mlf_import_error_rec *out);
int mlf_store_import_error_delete(mlf_store_txn *w, const char *filename);
int mlf_store_import_error_foreach(mlf_store_txn *txn, mlf_store_import_error_cb cb, void *ud);

/* ------------------------------------------------------------------------------------------ leases */

typedef int (*mlf_store_lease_cb)(void *ud, const mlf_lease_rec *rec);

/** Inserts or replaces the lease of a TI. Errors: MLF_ENOTFOUND (no such TI). */
int mlf_store_lease_put(mlf_store_txn *w, const mlf_lease_rec *rec);
/** Reads the lease of @p ti into @p *out (release with mlf_lease_rec_clear()). Errors: MLF_ENOTFOUND. */
int mlf_store_lease_get(mlf_store_txn *txn, const mlf_ti_key *ti, mlf_lease_rec *out);
/** Deletes the lease of @p ti. Errors: MLF_ENOTFOUND. */
int mlf_store_lease_delete(mlf_store_txn *w, const mlf_ti_key *ti);
/** Calls @p cb for every lease (to find expired deadlines), in TI key order. */
int mlf_store_lease_foreach(mlf_store_txn *txn, mlf_store_lease_cb cb, void *ud);

/* -------------------------------------------------------------------------------------------- check */

/** Receives one problem: the table, the record's key (non-printable bytes as \xNN) and what is wrong. */
typedef void (*mlf_store_report_fn)(void *ud, const char *table, const char *key, const char *problem);

/**
 * Verifies the whole store in one read transaction (`mlflowd db check`): the schema version, that every
 * key and record decodes, that the TI-by-state index matches the task instances exactly, that run ids
 * resolve both ways, that no TI, lease or XCom outlives its run or TI, and that the default pool exists.
 * Calls @p report (may be NULL) for each problem and stores their number in @p *problems.
 * Returns MLF_OK when the check ran (whatever it found), else an error (MLF_ESTATE, MLF_ENOMEM, MLF_EIO).
 */
int mlf_store_check(mlf_store *st, mlf_store_report_fn report, void *ud, unsigned long *problems);

/**
 * Writes a compacted copy of the whole store to the file @p file (`mlflowd db backup`): one consistent
 * snapshot taken in a read transaction, while other processes (a running scheduler) keep writing. The copy
 * goes to FILE.partial first and is renamed to @p file once it is complete and synced, so a failed backup
 * never leaves a truncated FILE. The file is a valid data.mdb: `db restore` puts it back. No transaction of
 * this thread may be open. Returns MLF_OK, or an error with a sentence in @p err: MLF_EINVAL, an errno
 * value (the file cannot be created, written or renamed), MLF_EIO.
 */
int mlf_store_backup(mlf_store *st, const char *file, char *err, size_t errlen);

/**
 * Whether a process has the store in folder @p dir open (a scheduler, a worker, a CLI command): returns 0
 * when none does, else at least 1, with one holder's pid in @p pids[0] (when @p max > 0). Read from LMDB's
 * file lock on lock.mdb, so the calling process must not have this store open itself. Used to refuse
 * `db restore` under a running daemon.
 */
size_t mlf_store_dir_users(const char *dir, pid_t *pids, size_t max);

#endif
