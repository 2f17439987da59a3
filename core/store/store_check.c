/*
 * store_check.c -- `mlflowd db check`: walks every table of the store in one read transaction and reports
 * what does not decode or does not agree with the rest (schema version, run ids, the state index, orphans).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

struct checker {
    mlf_store_txn *txn;
    mlf_store_report_fn report;
    void *ud;
    unsigned long problems;
    int db; /* the table being walked */
};

static void problem(struct checker *c, int db, const void *key, size_t klen, const char *fmt, ...)
    MLF_PRINTF(5, 6);
/* Counts one problem and reports it with the key in printable form. */
static void problem(struct checker *c, int db, const void *key, size_t klen, const char *fmt, ...)
{
    c->problems++;
    if (!c->report)
        return;
    char k[MLF_STORE_KEY_MAX * 4 + 1], msg[512];
    size_t n = 0;
    for (size_t i = 0; i < klen && n + 5 <= sizeof k; i++) {
        unsigned char b = ((const unsigned char *)key)[i];
        if (b >= 0x20 && b < 0x7f && b != '\\')
            k[n++] = (char)b;
        else
            n += (size_t)snprintf(k + n, sizeof k - n, "\\x%02x", b);
    }
    k[n] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->report(c->ud, mlf_st_db_names[db], k, msg);
}

/* Whether key @p k exists in table @p db. An unexpected error is returned through @p err. */
static bool exists(struct checker *c, int db, const void *k, size_t n, int *err)
{
    MDB_val v;
    int rc = mlf_st_get(c->txn, db, k, n, &v);
    if (rc != MLF_OK && rc != MLF_ENOTFOUND)
        *err = rc;
    return rc == MLF_OK;
}

/* Decodes one record of the table being walked; reports it when it does not decode. */
static int decode(struct checker *c, const mlf_st_rectype *rt, const MDB_val *k, const MDB_val *v, void *rec)
{
    int rc = mlf_st_rec_decode_st(c->txn->st, rt, k, v, rec);
    if (rc == MLF_ECORRUPT)
        problem(c, c->db, k->mv_data, k->mv_size, "the %s record or its key does not decode%s", rt->what,
                c->txn->st->has_key && (rt->db == MLF_ST_CONNS || rt->db == MLF_ST_VARS)
                    ? " (or a sealed secret in it does not open with the secrets key: tampered)"
                    : "");
    else if (rc == MLF_ESTATE) { /* a sealed secret, and no key to open it */
        problem(c, c->db, k->mv_data, k->mv_size, "the %s record holds a sealed secret but no secrets key was "
                "given to check it", rt->what);
        rc = MLF_ECORRUPT;
    }
    return rc;
}

static void check_meta(struct checker *c)
{
    int sk = mlf_st_secrets_check(c->txn);
    if (sk == MLF_STORE_EKEY || sk == MLF_ECORRUPT)
        problem(c, MLF_ST_META, MLF_ST_META_SECRETS, strlen(MLF_ST_META_SECRETS), "%s",
                sk == MLF_STORE_EKEY ? "secrets key does not match the store: its secrets were sealed with "
                                       "another key"
                                     : "unreadable");
    static const char *const keys[] = {MLF_ST_META_SCHEMA, MLF_ST_META_CREATED};
    for (size_t i = 0; i < 2; i++) {
        MDB_val v;
        int64_t value = 0;
        int rc = mlf_st_get(c->txn, MLF_ST_META, keys[i], strlen(keys[i]), &v);
        if (rc == MLF_OK)
            rc = mlf_st_int_decode(v.mv_data, v.mv_size, &value);
        if (rc != MLF_OK)
            problem(c, MLF_ST_META, keys[i], strlen(keys[i]), "%s",
                    rc == MLF_ENOTFOUND ? "missing" : "unreadable");
        else if (i == 0 && value != MLF_STORE_SCHEMA_VERSION)
            problem(c, MLF_ST_META, keys[i], strlen(keys[i]),
                    "schema version %lld, but this mlflowd reads schema version %d only", (long long)value,
                    MLF_STORE_SCHEMA_VERSION);
    }
}

/* Tables whose records stand alone: they only have to decode. */
static int check_plain(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct checker *c = ud;
    static const mlf_st_rectype *const types[MLF_ST_DB_COUNT] = {
        [MLF_ST_DAGS] = &mlf_st_dag_type,   [MLF_ST_VARS] = &mlf_st_var_type,
        [MLF_ST_CONNS] = &mlf_st_conn_type, [MLF_ST_POOLS] = &mlf_st_pool_type,
        [MLF_ST_IMPORT_ERRORS] = &mlf_st_import_error_type, [MLF_ST_USERS] = &mlf_st_user_type,
        [MLF_ST_WORKERS] = &mlf_st_worker_type,
    };
    mlf_st_any_rec rec;
    int rc = decode(c, types[c->db], k, v, &rec);
    if (rc == MLF_OK)
        mlf_st_rec_clear(types[c->db], &rec);
    return rc == MLF_ECORRUPT ? MLF_OK : rc;
}

static int check_run(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct checker *c = ud;
    mlf_run_rec rec;
    int rc = decode(c, &mlf_st_run_type, k, v, &rec);
    if (rc != MLF_OK)
        return rc == MLF_ECORRUPT ? MLF_OK : rc;
    mlf_st_key id;
    MDB_val target;
    rc = mlf_st_key_run_id(&id, rec.dag_id, rec.run_id);
    if (rc == MLF_OK)
        rc = mlf_st_get(c->txn, MLF_ST_RUN_IDS, id.b, id.n, &target);
    if (rc == MLF_ENOTFOUND)
        problem(c, MLF_ST_RUNS, k->mv_data, k->mv_size, "run %s has no run_ids entry", rec.run_id);
    else if (rc == MLF_OK && (target.mv_size != k->mv_size || memcmp(target.mv_data, k->mv_data, k->mv_size)))
        problem(c, MLF_ST_RUNS, k->mv_data, k->mv_size, "the run_ids entry of run %s points elsewhere",
                rec.run_id);
    mlf_run_rec_clear(&rec);
    return rc == MLF_ENOTFOUND ? MLF_OK : rc;
}

static int check_run_id(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct checker *c = ud;
    const char *dag, *run, *vdag, *vrun;
    size_t run_len, vrun_len;
    mlf_time_us ld;
    if (mlf_st_parse_run_id(k->mv_data, k->mv_size, &dag, &run, &run_len) != MLF_OK ||
        mlf_st_parse_run(v->mv_data, v->mv_size, &vdag, &ld, &vrun, &vrun_len) != MLF_OK) {
        problem(c, MLF_ST_RUN_IDS, k->mv_data, k->mv_size, "the entry or its run key does not decode");
        return MLF_OK;
    }
    if (strcmp(dag, vdag) != 0 || run_len != vrun_len || memcmp(run, vrun, run_len) != 0) {
        problem(c, MLF_ST_RUN_IDS, k->mv_data, k->mv_size, "the entry points at another run");
        return MLF_OK;
    }
    int err = MLF_OK;
    if (!exists(c, MLF_ST_RUNS, v->mv_data, v->mv_size, &err) && err == MLF_OK)
        problem(c, MLF_ST_RUN_IDS, k->mv_data, k->mv_size, "the run it points at does not exist");
    return err;
}

static int check_ti(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct checker *c = ud;
    mlf_ti_rec rec;
    int rc = decode(c, &mlf_st_ti_type, k, v, &rec);
    if (rc != MLF_OK)
        return rc == MLF_ECORRUPT ? MLF_OK : rc;
    int err = MLF_OK;
    mlf_st_key id, tk, ik;
    if (mlf_st_key_run_id(&id, rec.dag_id, rec.run_id) == MLF_OK &&
        !exists(c, MLF_ST_RUN_IDS, id.b, id.n, &err))
        problem(c, MLF_ST_TIS, k->mv_data, k->mv_size, "its run does not exist");
    tk.n = k->mv_size;
    memcpy(tk.b, k->mv_data, k->mv_size);
    if (mlf_st_key_state(&ik, rec.state, &tk) == MLF_OK && !exists(c, MLF_ST_TI_BY_STATE, ik.b, ik.n, &err))
        problem(c, MLF_ST_TIS, k->mv_data, k->mv_size, "state %s is missing from the ti_by_state index",
                mlf_ti_state_name(rec.state));
    mlf_ti_rec_clear(&rec);
    return err;
}

static int check_index(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct checker *c = ud;
    const uint8_t *b = k->mv_data;
    mlf_ti_key ti;
    size_t used;
    if (k->mv_size < 2 || b[0] >= MLF_TI_STATE_COUNT || v->mv_size != 0 ||
        mlf_st_parse_ti(b + 1, k->mv_size - 1, &ti, &used) != MLF_OK || used != k->mv_size - 1) {
        problem(c, MLF_ST_TI_BY_STATE, k->mv_data, k->mv_size, "the index entry does not decode");
        return MLF_OK;
    }
    mlf_st_key tk = {.n = k->mv_size - 1};
    memcpy(tk.b, b + 1, tk.n);
    mlf_ti_rec rec;
    int rc = mlf_st_rec_get(c->txn, &mlf_st_ti_type, &tk, &rec);
    if (rc == MLF_ENOTFOUND) {
        problem(c, MLF_ST_TI_BY_STATE, k->mv_data, k->mv_size, "the index entry has no task instance");
        return MLF_OK;
    }
    if (rc != MLF_OK) /* an undecodable TI is reported with its own table */
        return rc == MLF_ECORRUPT ? MLF_OK : rc;
    if (rec.state != (mlf_ti_state)b[0])
        problem(c, MLF_ST_TI_BY_STATE, k->mv_data, k->mv_size, "the index says %s, the task instance is %s",
                mlf_ti_state_name((mlf_ti_state)b[0]), mlf_ti_state_name(rec.state));
    mlf_ti_rec_clear(&rec);
    return MLF_OK;
}

static int check_xcom(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct checker *c = ud;
    mlf_ti_key ti;
    const char *key;
    size_t key_len;
    if (mlf_st_parse_xcom(k->mv_data, k->mv_size, &ti, &key, &key_len) != MLF_OK) {
        problem(c, MLF_ST_XCOM, k->mv_data, k->mv_size, "the key does not decode");
        return MLF_OK;
    }
    if (mlf_st_mp_check(v->mv_data, v->mv_size, MLF_ST_OPAQUE_DEPTH) != MLF_OK)
        problem(c, MLF_ST_XCOM, k->mv_data, k->mv_size, "the value is not one msgpack object");
    int err = MLF_OK;
    /* A TIKEY is the XCom key up to the NUL before the XCom's own key. */
    size_t ti_len = (size_t)(key - (const char *)k->mv_data) - 1;
    if (!exists(c, MLF_ST_TIS, k->mv_data, ti_len, &err) && err == MLF_OK)
        problem(c, MLF_ST_XCOM, k->mv_data, k->mv_size, "its task instance does not exist");
    return err;
}

static int check_lease(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct checker *c = ud;
    mlf_lease_rec rec;
    int rc = decode(c, &mlf_st_lease_type, k, v, &rec);
    if (rc != MLF_OK)
        return rc == MLF_ECORRUPT ? MLF_OK : rc;
    mlf_lease_rec_clear(&rec);
    int err = MLF_OK;
    if (!exists(c, MLF_ST_TIS, k->mv_data, k->mv_size, &err) && err == MLF_OK)
        problem(c, MLF_ST_LEASES, k->mv_data, k->mv_size, "its task instance does not exist");
    return err;
}

int mlf_store_check(mlf_store *st, mlf_store_report_fn report, void *ud, unsigned long *problems)
{
    if (!st || !problems)
        return MLF_EINVAL;
    *problems = 0;
    struct checker c = {.report = report, .ud = ud};
    int rc = mlf_store_read_begin(st, &c.txn);
    if (rc != MLF_OK)
        return rc;
    check_meta(&c);
    static const struct {
        int db;
        mlf_st_kv_cb fn;
    } walks[] = {
        {MLF_ST_DAGS, check_plain},         {MLF_ST_RUNS, check_run},   {MLF_ST_RUN_IDS, check_run_id},
        {MLF_ST_TIS, check_ti},             {MLF_ST_TI_BY_STATE, check_index}, {MLF_ST_XCOM, check_xcom},
        {MLF_ST_VARS, check_plain},         {MLF_ST_CONNS, check_plain}, {MLF_ST_POOLS, check_plain},
        {MLF_ST_IMPORT_ERRORS, check_plain}, {MLF_ST_LEASES, check_lease},
        {MLF_ST_USERS, check_plain},        {MLF_ST_WORKERS, check_plain},
    };
    mlf_st_range all = {0};
    for (size_t i = 0; rc == MLF_OK && i < sizeof walks / sizeof walks[0]; i++) {
        c.db = walks[i].db;
        rc = mlf_st_iter(c.txn, c.db, &all, walks[i].fn, &c);
    }
    int err = MLF_OK;
    size_t pool_len = strlen(MLF_DEFAULT_POOL);
    if (rc == MLF_OK && !exists(&c, MLF_ST_POOLS, MLF_DEFAULT_POOL, pool_len, &err) && err == MLF_OK)
        problem(&c, MLF_ST_POOLS, MLF_DEFAULT_POOL, pool_len, "the default pool is missing");
    mlf_store_read_end(c.txn);
    *problems = c.problems;
    return rc != MLF_OK ? rc : err;
}
