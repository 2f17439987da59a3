/*
 * store.c -- the state store's LMDB environment: open and schema init, read transactions, the write batch
 * with its op log, map growth, and the raw get/put/delete/iterate every record module builds on.
 *
 * Map growth. LMDB answers MDB_MAP_FULL when the map is full, and mdb_env_set_mapsize() may only be
 * called while the process has no transaction open: it unmaps and remaps the file, so a reader in another
 * thread would be left with dangling pointers. Read transactions therefore hold st->remap shared for their
 * (short) life and a resize takes it exclusively. The batch applies each operation to its LMDB write txn
 * at once (so reads through the batch see it) and appends it to an op log; on MDB_MAP_FULL, from a put or
 * from the commit, it aborts the txn, doubles the map, begins a new txn and replays the log. The replay is
 * exact only on the snapshot the batch began with: if another process committed in between (the txn id
 * differs), the batch fails with MLF_ESTATE instead of committing changes computed on stale reads.
 */
#include "store/store_internal.h"
#include "time/timefmt.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

const char *const mlf_st_db_names[MLF_ST_DB_COUNT] = {
    [MLF_ST_META] = "meta",
    [MLF_ST_DAGS] = "dags",
    [MLF_ST_RUNS] = "dag_runs",
    [MLF_ST_RUN_IDS] = "run_ids",
    [MLF_ST_TIS] = "task_instances",
    [MLF_ST_TI_BY_STATE] = "ti_by_state",
    [MLF_ST_XCOM] = "xcom",
    [MLF_ST_VARS] = "variables",
    [MLF_ST_CONNS] = "connections",
    [MLF_ST_POOLS] = "pools",
    [MLF_ST_IMPORT_ERRORS] = "import_errors",
    [MLF_ST_LEASES] = "leases",
    [MLF_ST_USERS] = "users",
    [MLF_ST_CACHE] = "cache",
    [MLF_ST_ASSETS] = "assets",
    [MLF_ST_ASSET_EVENTS] = "asset_events",
    [MLF_ST_ASSET_CURSORS] = "asset_cursors",
    [MLF_ST_ASSET_INBOX] = "asset_inbox",
    [MLF_ST_RUN_ASSETS] = "run_assets",
    [MLF_ST_IDEMPOTENCY] = "idempotency",
    [MLF_ST_WORKERS] = "workers",
};

/* The map never grows past this. */
#if SIZE_MAX > 0xffffffffu
#define MAP_SIZE_MAX ((size_t)1 << 40)
#else
#define MAP_SIZE_MAX ((size_t)1 << 30)
#endif

/* Op log entry: header then key then value bytes. */
enum { OP_PUT = 1, OP_DEL = 2 };
struct op_hdr {
    uint8_t db;
    uint8_t op;
    uint32_t klen;
    uint32_t vlen;
};

static void end_batch(mlf_store_txn *w);

/* Whether this thread holds a store transaction (LMDB's rule of one transaction per thread, which also
 * keeps a thread from waiting for a resize while it holds the remap lock itself). */
static _Thread_local bool tls_in_txn;

int mlf_st_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return MLF_OK;
    case MDB_NOTFOUND: return MLF_ENOTFOUND;
    case MDB_KEYEXIST: return MLF_EEXIST;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE: return MLF_ECORRUPT;
    case MDB_TXN_FULL:
    case MDB_BAD_VALSIZE: return MLF_ETOOBIG;
    case ENOMEM: return MLF_ENOMEM;
    default: break;
    }
    if (rc > 0)
        return rc;
    mlf_log(MLF_LOG_ERROR, "store", "LMDB: %s", mdb_strerror(rc));
    return MLF_EIO;
}

static int set_err(char *err, size_t errlen, int rc, const char *fmt, ...) MLF_PRINTF(4, 5);
/* Formats a message into @p err and returns @p rc. */
static int set_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Sets the map size (0: adopt the size another process grew the map to). The caller holds no txn. */
static int resize_map(mlf_store *st, size_t size)
{
    pthread_rwlock_wrlock(&st->remap);
    int rc = mdb_env_set_mapsize(st->env, size);
    if (rc == MDB_SUCCESS) {
        MDB_envinfo info;
        mdb_env_info(st->env, &info);
        atomic_store(&st->map_size, info.me_mapsize);
    }
    pthread_rwlock_unlock(&st->remap);
    return rc;
}

/* Begins an LMDB write txn, adopting a map another process grew. Returns an LMDB code. */
static int begin_write_txn(mlf_store *st, MDB_txn **txn)
{
    int rc = MDB_SUCCESS;
    for (int i = 0; i < 3; i++) {
        rc = mdb_txn_begin(st->env, NULL, 0, txn);
        if (rc != MDB_MAP_RESIZED)
            break;
        rc = resize_map(st, 0);
        if (rc != MDB_SUCCESS)
            break;
        rc = MDB_MAP_RESIZED;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------ open, close */

/* Reads meta schema_version: 1 found (into *version), 0 absent, or an MLF error. */
static int read_schema_version(mlf_store *st, MDB_txn *txn, int64_t *version)
{
    MDB_val k = {strlen(MLF_ST_META_SCHEMA), MLF_ST_META_SCHEMA}, v;
    int rc = mdb_get(txn, st->dbi[MLF_ST_META], &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != MDB_SUCCESS)
        return mlf_st_err(rc);
    rc = mlf_st_int_decode(v.mv_data, v.mv_size, version);
    return rc == MLF_OK ? 1 : rc;
}

static int put_meta_int(mlf_store *st, MDB_txn *txn, const char *key, int64_t value)
{
    mlf_buf b = {0};
    int rc = mlf_st_int_encode(value, &b);
    if (rc == MLF_OK) {
        MDB_val k = {strlen(key), (void *)key}, v = {b.len, b.data};
        rc = mlf_st_err(mdb_put(txn, st->dbi[MLF_ST_META], &k, &v, 0));
    }
    mlf_buf_free(&b);
    return rc;
}

/* Creates the default pool when it is missing. */
static int ensure_default_pool(mlf_store *st, MDB_txn *txn)
{
    MDB_val k = {strlen(MLF_DEFAULT_POOL), MLF_DEFAULT_POOL}, v;
    int rc = mdb_get(txn, st->dbi[MLF_ST_POOLS], &k, &v);
    if (rc != MDB_NOTFOUND)
        return mlf_st_err(rc);
    mlf_pool_rec pool;
    mlf_pool_rec_init(&pool);
    pool.name = MLF_DEFAULT_POOL;
    pool.slots = MLF_DEFAULT_POOL_SLOTS;
    pool.description = "Default pool";
    mlf_buf b = {0};
    rc = mlf_st_rec_encode(&mlf_st_pool_type, &pool, &b);
    if (rc == MLF_OK) {
        v.mv_size = b.len;
        v.mv_data = b.data;
        rc = mlf_st_err(mdb_put(txn, st->dbi[MLF_ST_POOLS], &k, &v, 0));
    }
    mlf_buf_free(&b);
    return rc;
}

/* Opens every table and checks (or, with CREATE, writes) the schema, in one txn. */
static int open_tables(mlf_store *st, const char *dir, char *err, size_t errlen)
{
    bool create = st->flags & MLF_STORE_CREATE;
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, (st->flags & MLF_STORE_RDONLY) ? MDB_RDONLY : 0, &txn);
    if (rc != MDB_SUCCESS)
        return set_err(err, errlen, mlf_st_err(rc), "cannot read the state store in %s: %s", dir,
                       mdb_strerror(rc));
    for (int i = 0; i < MLF_ST_DB_COUNT; i++) {
        bool rdonly = st->flags & MLF_STORE_RDONLY;
        bool add = i >= MLF_ST_FIRST_ADDED && !rdonly; /* a table this schema gained later: created */
        rc = mdb_dbi_open(txn, mlf_st_db_names[i], create || add ? MDB_CREATE : 0, &st->dbi[i]);
        if (rc == MDB_NOTFOUND && i >= MLF_ST_FIRST_ADDED && rdonly) {
            st->absent[i] = true; /* nothing was ever written to it */
            continue;
        }
        if (rc == MDB_NOTFOUND) {
            mdb_txn_abort(txn);
            return set_err(err, errlen, MLF_ECORRUPT,
                           "%s is not an mlflowd state store (table \"%s\" is missing); "
                           "run `mlflowd db init`",
                           dir, mlf_st_db_names[i]);
        }
        if (rc != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            return set_err(err, errlen, mlf_st_err(rc), "cannot open table %s in %s: %s", mlf_st_db_names[i],
                           dir, mdb_strerror(rc));
        }
    }
    int64_t version = 0;
    rc = read_schema_version(st, txn, &version);
    if (rc < 0) {
        mdb_txn_abort(txn);
        return set_err(err, errlen, rc, "the schema version of the state store in %s is unreadable: %s", dir,
                       mlf_strerror(rc));
    }
    if (rc == 0 && !create) {
        mdb_txn_abort(txn);
        return set_err(err, errlen, MLF_ECORRUPT,
                       "the state store in %s is not initialised (no schema version); run `mlflowd db init`",
                       dir);
    }
    if (rc == 1 && version != MLF_STORE_SCHEMA_VERSION) {
        mdb_txn_abort(txn);
        return set_err(err, errlen, MLF_ECORRUPT,
                       "the state store in %s has schema version %lld, but this mlflowd reads schema version "
                       "%d only; use the mlflowd release that wrote it",
                       dir, (long long)version, MLF_STORE_SCHEMA_VERSION);
    }
    if (create) {
        rc = MLF_OK;
        if (version == 0) {
            rc = put_meta_int(st, txn, MLF_ST_META_SCHEMA, MLF_STORE_SCHEMA_VERSION);
            if (rc == MLF_OK)
                rc = put_meta_int(st, txn, MLF_ST_META_CREATED, mlf_time_now());
        }
        if (rc == MLF_OK)
            rc = ensure_default_pool(st, txn);
        if (rc != MLF_OK) {
            mdb_txn_abort(txn);
            return set_err(err, errlen, rc, "cannot initialise the state store in %s: %s", dir,
                           mlf_strerror(rc));
        }
    }
    /* Committing (also a read-only txn) makes the table handles usable by every later txn. */
    rc = mdb_txn_commit(txn);
    if (rc != MDB_SUCCESS)
        return set_err(err, errlen, mlf_st_err(rc), "cannot initialise the state store in %s: %s", dir,
                       mdb_strerror(rc));
    return MLF_OK;
}

/* Checks @p dir, creating it with CREATE. Sets *exists to whether it holds an LMDB data file. */
static int prepare_dir(const char *dir, unsigned flags, bool *exists, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno != ENOENT)
            return set_err(err, errlen, errno, "cannot access %s: %s", dir, strerror(errno));
        if (!(flags & MLF_STORE_CREATE))
            return set_err(err, errlen, MLF_ENOTFOUND, "there is no state store in %s; run `mlflowd db init`",
                           dir);
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return set_err(err, errlen, errno, "cannot create %s: %s", dir, strerror(errno));
    } else if (!S_ISDIR(sb.st_mode)) {
        return set_err(err, errlen, ENOTDIR, "%s is not a directory", dir);
    }
    char *data = mlf_strdup_printf("%s/data.mdb", dir);
    if (!data)
        return set_err(err, errlen, MLF_ENOMEM, "out of memory");
    *exists = stat(data, &sb) == 0;
    free(data);
    if (!*exists && !(flags & MLF_STORE_CREATE))
        return set_err(err, errlen, MLF_ENOTFOUND, "there is no state store in %s; run `mlflowd db init`",
                       dir);
    return MLF_OK;
}

static int init_locks(mlf_store *st)
{
    pthread_rwlockattr_t attr;
    if (pthread_rwlockattr_init(&attr) != 0)
        return MLF_ENOMEM;
    /* A waiting resize must not starve behind a stream of overlapping readers. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&st->remap, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0)
        return rc;
    rc = pthread_mutex_init(&st->writer_mu, NULL);
    if (rc != 0) {
        pthread_rwlock_destroy(&st->remap);
        return rc;
    }
    return MLF_OK;
}

int mlf_store_open(const char *dir, unsigned flags, mlf_store **out, char *err, size_t errlen)
{
    return mlf_store_open_sized(dir, flags, MLF_STORE_DEFAULT_MAP_SIZE, out, err, errlen);
}

int mlf_store_open_sized(const char *dir, unsigned flags, size_t map_size, mlf_store **out, char *err,
                         size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return set_err(err, errlen, MLF_EINVAL, "no output handle");
    *out = NULL;
    if (!dir || !*dir)
        return set_err(err, errlen, MLF_EINVAL, "no state store directory given");
    if ((flags & ~(MLF_STORE_RDONLY | MLF_STORE_CREATE)) ||
        ((flags & MLF_STORE_RDONLY) && (flags & MLF_STORE_CREATE)))
        return set_err(err, errlen, MLF_EINVAL, "invalid flags for opening the state store");
    if (map_size == 0 || map_size > MAP_SIZE_MAX)
        return set_err(err, errlen, MLF_EINVAL, "invalid map size %zu", map_size);

    bool exists = false;
    int rc = prepare_dir(dir, flags, &exists, err, errlen);
    if (rc != MLF_OK)
        return rc;

    mlf_store *st = calloc(1, sizeof *st);
    if (!st)
        return set_err(err, errlen, MLF_ENOMEM, "out of memory");
    st->flags = flags;
    rc = init_locks(st);
    if (rc != MLF_OK) {
        free(st);
        return set_err(err, errlen, rc, "cannot create locks: %s", mlf_strerror(rc));
    }
    rc = mdb_env_create(&st->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(st->env, MLF_ST_DB_COUNT);
    if (rc == MDB_SUCCESS && !exists)
        rc = mdb_env_set_mapsize(st->env, map_size);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open(st->env, dir, MDB_NOTLS | ((flags & MLF_STORE_RDONLY) ? MDB_RDONLY : 0), 0600);
    if (rc != MDB_SUCCESS) {
        rc = set_err(err, errlen, mlf_st_err(rc), "cannot open the state store in %s: %s", dir,
                     mdb_strerror(rc));
        mlf_store_close(st);
        return rc;
    }
    /* Free the reader slots of processes that died inside a read transaction (LMDB's caveats). */
    int dead = 0;
    mdb_reader_check(st->env, &dead);

    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    atomic_store(&st->map_size, info.me_mapsize);
    if (!(flags & MLF_STORE_RDONLY) && info.me_mapsize < map_size) {
        rc = resize_map(st, map_size);
        if (rc != MDB_SUCCESS) {
            rc = set_err(err, errlen, mlf_st_err(rc), "cannot size the state store in %s: %s", dir,
                         mdb_strerror(rc));
            mlf_store_close(st);
            return rc;
        }
    }
    st->max_key = (size_t)mdb_env_get_maxkeysize(st->env);
    if (st->max_key < MLF_STORE_KEY_MAX) {
        rc = set_err(err, errlen, MLF_ENOTSUP, "this LMDB build limits keys to %zu bytes; mlflowd needs %d",
                     st->max_key, MLF_STORE_KEY_MAX);
        mlf_store_close(st);
        return rc;
    }
    rc = open_tables(st, dir, err, errlen);
    if (rc != MLF_OK) {
        mlf_store_close(st);
        return rc;
    }
    st->pid = getpid();
    st->writer.st = st;
    st->writer.write = true;
    *out = st;
    return MLF_OK;
}

void mlf_store_close(mlf_store *st)
{
    if (!st)
        return;
    if (st->writer_busy)
        end_batch(&st->writer);
    if (st->env)
        mdb_env_close(st->env);
    mlf_buf_free(&st->writer.log);
    pthread_mutex_destroy(&st->writer_mu);
    pthread_rwlock_destroy(&st->remap);
    explicit_bzero(st->key, sizeof st->key);
    free(st);
}

size_t mlf_store_map_size(mlf_store *st)
{
    return atomic_load(&st->map_size);
}

/* ------------------------------------------------------------------------------------ transactions */

/* The checks every begin makes. */
static int may_begin(mlf_store *st)
{
    if (getpid() != st->pid)
        return MLF_ESTATE; /* LMDB environments do not survive fork() */
    if (tls_in_txn)
        return MLF_ESTATE;
    return MLF_OK;
}

int mlf_store_read_begin(mlf_store *st, mlf_store_txn **out)
{
    if (!st || !out)
        return MLF_EINVAL;
    *out = NULL;
    int rc = may_begin(st);
    if (rc != MLF_OK)
        return rc;
    mlf_store_txn *t = calloc(1, sizeof *t);
    if (!t)
        return MLF_ENOMEM;
    t->st = st;
    for (int i = 0;; i++) {
        pthread_rwlock_rdlock(&st->remap);
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t->txn);
        if (rc != MDB_MAP_RESIZED || i == 3)
            break;
        pthread_rwlock_unlock(&st->remap);
        rc = resize_map(st, 0);
        if (rc != MDB_SUCCESS) {
            free(t);
            return mlf_st_err(rc);
        }
    }
    if (rc != MDB_SUCCESS) {
        pthread_rwlock_unlock(&st->remap);
        free(t);
        return mlf_st_err(rc);
    }
    tls_in_txn = true;
    *out = t;
    return MLF_OK;
}

void mlf_store_read_end(mlf_store_txn *t)
{
    if (!t)
        return;
    if (t->write) {
        mlf_store_write_abort(t);
        return;
    }
    mdb_txn_abort(t->txn);
    pthread_rwlock_unlock(&t->st->remap);
    tls_in_txn = false;
    free(t);
}

int mlf_store_write_begin(mlf_store *st, mlf_store_txn **out)
{
    if (!st || !out)
        return MLF_EINVAL;
    *out = NULL;
    if (st->flags & MLF_STORE_RDONLY)
        return MLF_ESTATE;
    int rc = may_begin(st);
    if (rc != MLF_OK)
        return rc;
    pthread_mutex_lock(&st->writer_mu);
    bool busy = st->writer_busy;
    st->writer_busy = true;
    pthread_mutex_unlock(&st->writer_mu);
    if (busy)
        return MLF_ESTATE;

    mlf_store_txn *w = &st->writer;
    w->error = MLF_OK;
    w->log.len = 0;
    rc = begin_write_txn(st, &w->txn);
    if (rc != MDB_SUCCESS) {
        w->txn = NULL;
        pthread_mutex_lock(&st->writer_mu);
        st->writer_busy = false;
        pthread_mutex_unlock(&st->writer_mu);
        return mlf_st_err(rc);
    }
    w->txn_id = mdb_txn_id(w->txn);
    tls_in_txn = true;
    *out = w;
    return MLF_OK;
}

/* Ends the batch: frees its txn, keeps the op log's memory for the next batch. */
static void end_batch(mlf_store_txn *w)
{
    if (w->txn)
        mdb_txn_abort(w->txn);
    w->txn = NULL;
    w->log.len = 0;
    if (w->log.cap > ((size_t)1 << 20)) /* do not keep a huge log around after a big batch */
        mlf_buf_free(&w->log);
    tls_in_txn = false;
    pthread_mutex_lock(&w->st->writer_mu);
    w->st->writer_busy = false;
    pthread_mutex_unlock(&w->st->writer_mu);
}

/* Applies one put or delete to w->txn. Returns an LMDB code. */
static int apply_op(mlf_store_txn *w, int op, int db, MDB_val *k, MDB_val *v)
{
    MDB_dbi dbi = w->st->dbi[db];
    return op == OP_PUT ? mdb_put(w->txn, dbi, k, v, 0) : mdb_del(w->txn, dbi, k, NULL);
}

/* Applies every logged operation to w->txn. Returns an LMDB code (MDB_MAP_FULL: grow again). */
static int replay(mlf_store_txn *w)
{
    size_t pos = 0;
    while (pos < w->log.len) {
        struct op_hdr h;
        memcpy(&h, w->log.data + pos, sizeof h);
        pos += sizeof h;
        MDB_val k = {h.klen, w->log.data + pos};
        MDB_val v = {h.vlen, w->log.data + pos + h.klen};
        pos += (size_t)h.klen + h.vlen;
        int rc = apply_op(w, h.op, h.db, &k, &v);
        if (rc != MDB_SUCCESS && !(h.op == OP_DEL && rc == MDB_NOTFOUND))
            return rc;
    }
    return MDB_SUCCESS;
}

/* Aborts the txn (if any), doubles the map and replays the log into a new txn. Returns MLF_*. */
static int grow_and_replay(mlf_store_txn *w)
{
    mlf_store *st = w->st;
    for (int round = 0; round < 64; round++) {
        if (w->txn)
            mdb_txn_abort(w->txn);
        w->txn = NULL;
        size_t cur = atomic_load(&st->map_size);
        if (cur >= MAP_SIZE_MAX) {
            mlf_log(MLF_LOG_ERROR, "store", "the state store map cannot grow past %zu MiB", cur >> 20);
            return MLF_ETOOBIG;
        }
        int rc = resize_map(st, cur * 2 < MAP_SIZE_MAX ? cur * 2 : MAP_SIZE_MAX);
        if (rc != MDB_SUCCESS)
            return mlf_st_err(rc);
        mlf_log(MLF_LOG_DEBUG, "store", "map grown to %zu KiB", atomic_load(&st->map_size) >> 10);
        rc = begin_write_txn(st, &w->txn);
        if (rc != MDB_SUCCESS) {
            w->txn = NULL;
            return mlf_st_err(rc);
        }
        if (mdb_txn_id(w->txn) != w->txn_id) {
            mlf_log(MLF_LOG_WARNING, "store",
                    "another process wrote the state store while the map was growing; batch discarded");
            return MLF_ESTATE;
        }
        rc = replay(w);
        if (rc != MDB_MAP_FULL)
            return mlf_st_err(rc);
    }
    return MLF_ETOOBIG;
}

int mlf_store_write_commit(mlf_store_txn *w)
{
    if (!w || !w->write)
        return MLF_EINVAL;
    int rc = w->error;
    while (rc == MLF_OK) {
        int mrc = mdb_txn_commit(w->txn);
        w->txn = NULL; /* freed by LMDB whatever the outcome */
        if (mrc != MDB_MAP_FULL) {
            rc = mlf_st_err(mrc);
            break;
        }
        rc = grow_and_replay(w);
    }
    end_batch(w);
    return rc;
}

void mlf_store_write_abort(mlf_store_txn *w)
{
    if (!w)
        return;
    if (!w->write) {
        mlf_store_read_end(w);
        return;
    }
    end_batch(w);
}

/* ------------------------------------------------------------------------------------ raw operations */

/* Records @p rc as the batch's failure and returns it. */
static int fail(mlf_store_txn *w, int rc)
{
    if (w->error == MLF_OK)
        w->error = rc;
    return rc;
}

/* MLF_OK when @p w may write a key of @p klen bytes and a value of @p vlen bytes. */
static int writable(mlf_store_txn *w, size_t klen, size_t vlen)
{
    if (!w)
        return MLF_EINVAL;
    if (!w->write)
        return MLF_ESTATE;
    if (w->error != MLF_OK)
        return w->error;
    if (klen == 0)
        return MLF_EINVAL;
    if (klen > w->st->max_key || vlen > UINT32_MAX)
        return MLF_ETOOBIG;
    return MLF_OK;
}

static int log_op(mlf_store_txn *w, int op, int db, const void *k, size_t klen, const void *v, size_t vlen)
{
    struct op_hdr h = {.db = (uint8_t)db, .op = (uint8_t)op, .klen = (uint32_t)klen, .vlen = (uint32_t)vlen};
    if (mlf_buf_append(&w->log, &h, sizeof h) != MLF_OK || mlf_buf_append(&w->log, k, klen) != MLF_OK ||
        mlf_buf_append(&w->log, v, vlen) != MLF_OK)
        return MLF_ENOMEM;
    return MLF_OK;
}

int mlf_st_get(mlf_store_txn *t, int db, const void *key, size_t klen, MDB_val *val)
{
    if (!t)
        return MLF_EINVAL;
    if (t->error != MLF_OK)
        return t->error;
    if (klen == 0 || klen > t->st->max_key)
        return MLF_ENOTFOUND;
    if (t->st->absent[db])
        return MLF_ENOTFOUND;
    MDB_val k = {klen, (void *)key};
    return mlf_st_err(mdb_get(t->txn, t->st->dbi[db], &k, val));
}

/* Logs and applies one put or delete, growing the map when it is full. */
static int write_op(mlf_store_txn *w, int op, int db, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = writable(w, klen, vlen);
    if (rc != MLF_OK)
        return rc;
    rc = log_op(w, op, db, key, klen, val, vlen);
    if (rc != MLF_OK)
        return fail(w, rc);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int mrc = apply_op(w, op, db, &k, &v);
    if (mrc == MDB_NOTFOUND && op == OP_DEL)
        return MLF_ENOTFOUND; /* nothing changed; the logged delete replays as a no-op */
    /* After a growth the replay has applied this operation too. */
    rc = mrc == MDB_MAP_FULL ? grow_and_replay(w) : mlf_st_err(mrc);
    return rc == MLF_OK ? MLF_OK : fail(w, rc);
}

int mlf_st_put(mlf_store_txn *w, int db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return write_op(w, OP_PUT, db, key, klen, val, vlen);
}

int mlf_st_del(mlf_store_txn *w, int db, const void *key, size_t klen)
{
    return write_op(w, OP_DEL, db, key, klen, NULL, 0);
}

/* LMDB's default order: bytewise, a prefix first. */
static int key_cmp(const MDB_val *a, const void *b, size_t blen)
{
    size_t n = a->mv_size < blen ? a->mv_size : blen;
    int c = n ? memcmp(a->mv_data, b, n) : 0;
    if (c)
        return c;
    return a->mv_size < blen ? -1 : a->mv_size > blen;
}

/* Positions @p cur on the first key of @p r in its direction. Returns an LMDB code. */
static int cursor_first(MDB_cursor *cur, const mlf_st_range *r, MDB_val *k, MDB_val *v)
{
    if (!r->reverse) {
        if (!r->lo)
            return mdb_cursor_get(cur, k, v, MDB_FIRST);
        k->mv_size = r->lo_len;
        k->mv_data = (void *)r->lo;
        return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    }
    if (!r->hi)
        return mdb_cursor_get(cur, k, v, MDB_LAST);
    k->mv_size = r->hi_len;
    k->mv_data = (void *)r->hi;
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE); /* the first key >= hi, then one back */
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(cur, k, v, MDB_LAST);
    if (rc != MDB_SUCCESS)
        return rc;
    return mdb_cursor_get(cur, k, v, MDB_PREV);
}

/* Whether @p k is past the far end of @p r. */
static bool past_end(const MDB_val *k, const mlf_st_range *r)
{
    if (!r->reverse)
        return r->hi && key_cmp(k, r->hi, r->hi_len) >= 0;
    return r->lo && key_cmp(k, r->lo, r->lo_len) < 0;
}

typedef int (*walk_fn)(void *ud, const MDB_val *k, const MDB_val *v);

/* Walks the cursor over @p r, calling @p fn. Returns an MLF code, or @p fn's non-zero return. */
static int walk(mlf_store_txn *t, int db, const mlf_st_range *r, walk_fn fn, void *ud)
{
    if (t->st->absent[db])
        return MLF_OK;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->st->dbi[db], &cur);
    if (rc != MDB_SUCCESS)
        return mlf_st_err(rc);
    MDB_val k, v;
    rc = cursor_first(cur, r, &k, &v);
    int out = MLF_OK;
    while (rc == MDB_SUCCESS && !past_end(&k, r)) {
        out = fn(ud, &k, &v);
        if (out != MLF_OK)
            break;
        rc = mdb_cursor_get(cur, &k, &v, r->reverse ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (out != MLF_OK)
        return out;
    return rc == MDB_NOTFOUND ? MLF_OK : mlf_st_err(rc);
}

/* Appends a key (4-byte length, bytes) to the mlf_buf @p ud. */
static int collect_key(void *ud, const MDB_val *k, const MDB_val *v)
{
    (void)v;
    uint32_t n = (uint32_t)k->mv_size;
    mlf_buf *b = ud;
    if (mlf_buf_append(b, &n, sizeof n) != MLF_OK || mlf_buf_append(b, k->mv_data, n) != MLF_OK)
        return MLF_ENOMEM;
    return MLF_OK;
}

int mlf_st_iter(mlf_store_txn *t, int db, const mlf_st_range *range, mlf_st_kv_cb cb, void *ud)
{
    if (!t)
        return MLF_EINVAL;
    if (t->error != MLF_OK)
        return t->error;
    int rc;
    if (!t->write) {
        rc = walk(t, db, range, cb, ud);
    } else {
        /* No cursor may be open while the callback writes: a map growth replaces the txn. */
        mlf_buf keys = {0};
        rc = walk(t, db, range, collect_key, &keys);
        for (size_t pos = 0; rc == MLF_OK && pos < keys.len;) {
            uint32_t n;
            memcpy(&n, keys.data + pos, sizeof n);
            MDB_val k = {n, keys.data + pos + sizeof n}, v;
            pos += sizeof n + n;
            rc = mlf_st_get(t, db, k.mv_data, k.mv_size, &v);
            if (rc == MLF_ENOTFOUND) {
                rc = MLF_OK;
                continue;
            }
            if (rc == MLF_OK)
                rc = cb(ud, &k, &v);
        }
        mlf_buf_free(&keys);
    }
    return rc == MLF_STORE_STOP ? MLF_OK : rc;
}

int mlf_store_meta(mlf_store_txn *txn, int64_t *schema_version, mlf_time_us *created_at)
{
    if (!txn)
        return MLF_EINVAL;
    const char *keys[2] = {MLF_ST_META_SCHEMA, MLF_ST_META_CREATED};
    int64_t *outs[2] = {schema_version, created_at};
    for (int i = 0; i < 2; i++) {
        if (!outs[i])
            continue;
        MDB_val v;
        int rc = mlf_st_get(txn, MLF_ST_META, keys[i], strlen(keys[i]), &v);
        if (rc == MLF_OK)
            rc = mlf_st_int_decode(v.mv_data, v.mv_size, outs[i]);
        if (rc != MLF_OK)
            return rc == MLF_ENOTFOUND ? MLF_ECORRUPT : rc;
    }
    return MLF_OK;
}
