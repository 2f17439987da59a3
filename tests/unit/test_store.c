/* Unit tests for the state store (core/store*.c): records, key order, the state index, map growth,
 * transactions, damaged data, schema versions. */
#include <check.h>
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_internal.h"

/* ------------------------------------------------------------------------------------------ helpers */

static char dir[64];
static mlf_store *st;

static void rm_store_dir(const char *d)
{
    char p[256];
    snprintf(p, sizeof p, "%s/data.mdb", d);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", d);
    unlink(p);
    rmdir(d);
}

/* The secrets key of the test stores (connections and sensitive variables are sealed with it). */
static const unsigned char test_key[MLF_STORE_SECRETS_KEY_LEN] = {1, 2, 3};

/* A fresh, initialised store in a new temporary directory, with a 1 MiB map to exercise growth. */
static void setup(void)
{
    strcpy(dir, "/tmp/mlf-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char err[256];
    ck_assert_int_eq(mlf_store_open_sized(dir, MLF_STORE_CREATE, 1 << 20, &st, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_store_secrets_key(st, test_key, err, sizeof err), MLF_OK);
}

static void teardown(void)
{
    mlf_store_close(st);
    st = NULL;
    rm_store_dir(dir);
}

static void reopen(unsigned flags)
{
    mlf_store_close(st);
    char err[256];
    ck_assert_int_eq(mlf_store_open_sized(dir, flags, 1 << 20, &st, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_store_secrets_key(st, test_key, err, sizeof err), MLF_OK);
}

static mlf_store_txn *wbegin(void)
{
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    return w;
}

static mlf_store_txn *rbegin(void)
{
    mlf_store_txn *r;
    ck_assert_int_eq(mlf_store_read_begin(st, &r), MLF_OK);
    return r;
}

static void put_run(mlf_store_txn *w, const char *dag, const char *run, mlf_time_us ld)
{
    mlf_run_rec r;
    mlf_run_rec_init(&r);
    r.dag_id = (char *)dag;
    r.run_id = (char *)run;
    r.logical_date = ld;
    ck_assert_int_eq(mlf_store_run_put(w, &r), MLF_OK);
}

static void put_ti(mlf_store_txn *w, const char *dag, const char *run, const char *task, int mi,
                   mlf_ti_state s)
{
    mlf_ti_rec t;
    mlf_ti_rec_init(&t);
    t.dag_id = (char *)dag;
    t.run_id = (char *)run;
    t.task_id = (char *)task;
    t.map_index = mi;
    t.state = s;
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_OK);
}

static unsigned long check_problems(void)
{
    unsigned long n = 99;
    ck_assert_int_eq(mlf_store_check(st, NULL, NULL, &n), MLF_OK);
    return n;
}

/* Collects "task:map_index" (or run ids) into a comma-separated list. */
struct list {
    char s[4096];
};

static void list_add(struct list *l, const char *item)
{
    if (l->s[0])
        strcat(l->s, ",");
    strcat(l->s, item);
}

static int list_ti(void *ud, const mlf_ti_rec *t)
{
    char item[300];
    snprintf(item, sizeof item, "%s:%d", t->task_id, t->map_index);
    list_add(ud, item);
    return MLF_OK;
}

static int list_run(void *ud, const mlf_run_rec *r)
{
    list_add(ud, r->run_id);
    return MLF_OK;
}

/* Opens the store's LMDB environment directly (the store must be closed), to damage it on purpose. */
static void raw_put(const char *table, const void *k, size_t kn, const void *v, size_t vn)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(env, 32), 0);
    ck_assert_int_eq(mdb_env_open(env, dir, 0, 0600), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, table, 0, &dbi), 0);
    MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
    if (v)
        ck_assert_int_eq(mdb_put(txn, dbi, &key, &val, 0), 0);
    else
        ck_assert_int_eq(mdb_del(txn, dbi, &key, NULL), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* ------------------------------------------------------------------------------------------ records */

START_TEST(test_init_creates_meta_and_default_pool)
{
    mlf_store_txn *r = rbegin();
    int64_t version = 0;
    mlf_time_us created = 0;
    ck_assert_int_eq(mlf_store_meta(r, &version, &created), MLF_OK);
    ck_assert_int_eq(version, MLF_STORE_SCHEMA_VERSION);
    ck_assert(created > 1600000000LL * 1000000);
    mlf_pool_rec p;
    ck_assert_int_eq(mlf_store_pool_get(r, MLF_DEFAULT_POOL, &p), MLF_OK);
    ck_assert_int_eq(p.slots, 128);
    mlf_pool_rec_clear(&p);
    mlf_store_read_end(r);
    ck_assert_uint_eq(check_problems(), 0);

    /* init again is harmless and keeps created_at */
    reopen(MLF_STORE_CREATE);
    r = rbegin();
    mlf_time_us again = 0;
    ck_assert_int_eq(mlf_store_meta(r, NULL, &again), MLF_OK);
    ck_assert_int_eq(again, created);
    mlf_store_read_end(r);
}
END_TEST

START_TEST(test_roundtrip_dag_var_conn_pool_import_error)
{
    static const uint8_t extra[] = {0x81, 0xa3, 'k', 'e', 'y', 0x2a}; /* {"key": 42} */
    mlf_store_txn *w = wbegin();
    mlf_dag_rec d;
    mlf_dag_rec_init(&d);
    d.dag_id = "crypto_daily";
    d.is_paused = true;
    d.has_import_errors = true;
    d.fileloc = "/dags/crypto.yaml";
    d.last_parsed = 1700000000000001;
    d.next_dagrun = -86400000000; /* before 1970 */
    d.next_dagrun_create_after = 0;
    ck_assert_int_eq(mlf_store_dag_put(w, &d), MLF_OK);
    mlf_var_rec v = {.key = "api.token", .val = "s3cr\xc3\xa9t", .description = NULL};
    ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_OK);
    mlf_conn_rec c;
    mlf_conn_rec_init(&c);
    c.conn_id = "warehouse";
    c.conn_type = "sqlite";
    c.host = "db.local";
    c.port = 5432;
    c.login = "me";
    c.password = "pw";
    c.schema = "public";
    c.extra = (uint8_t *)extra;
    c.extra_len = sizeof extra;
    ck_assert_int_eq(mlf_store_conn_put(w, &c), MLF_OK);
    mlf_pool_rec p = {.name = "gpu", .slots = -1, .description = "unlimited"};
    ck_assert_int_eq(mlf_store_pool_put(w, &p), MLF_OK);
    mlf_import_error_rec ie = {.filename = "/dags/bad.yaml", .line = 3, .column = 7, .message = "unknown key",
                               .timestamp = 42};
    ck_assert_int_eq(mlf_store_import_error_put(w, &ie), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    reopen(MLF_STORE_RDONLY);
    mlf_store_txn *r = rbegin();
    mlf_dag_rec d2;
    ck_assert_int_eq(mlf_store_dag_get(r, "crypto_daily", &d2), MLF_OK);
    ck_assert_str_eq(d2.dag_id, "crypto_daily");
    ck_assert(d2.is_paused && !d2.is_active && d2.has_import_errors);
    ck_assert_str_eq(d2.fileloc, "/dags/crypto.yaml");
    ck_assert_int_eq(d2.last_parsed, 1700000000000001);
    ck_assert_int_eq(d2.next_dagrun, -86400000000);
    ck_assert_int_eq(d2.next_dagrun_interval_start, MLF_TIME_NONE);
    ck_assert_int_eq(d2.next_dagrun_create_after, 0);
    mlf_dag_rec_clear(&d2);
    ck_assert_ptr_null(d2.dag_id);

    mlf_var_rec v2;
    ck_assert_int_eq(mlf_store_var_get(r, "api.token", &v2), MLF_OK);
    ck_assert_str_eq(v2.val, "s3cr\xc3\xa9t");
    ck_assert_ptr_null(v2.description);
    mlf_var_rec_clear(&v2);

    mlf_conn_rec c2;
    ck_assert_int_eq(mlf_store_conn_get(r, "warehouse", &c2), MLF_OK);
    ck_assert_str_eq(c2.conn_type, "sqlite");
    ck_assert_str_eq(c2.host, "db.local");
    ck_assert_int_eq(c2.port, 5432);
    ck_assert_str_eq(c2.login, "me");
    ck_assert_str_eq(c2.password, "pw");
    ck_assert_str_eq(c2.schema, "public");
    ck_assert_ptr_null(c2.description);
    ck_assert_uint_eq(c2.extra_len, sizeof extra);
    ck_assert_mem_eq(c2.extra, extra, sizeof extra);
    mlf_conn_rec_clear(&c2);

    mlf_pool_rec p2;
    ck_assert_int_eq(mlf_store_pool_get(r, "gpu", &p2), MLF_OK);
    ck_assert_int_eq(p2.slots, -1);
    ck_assert_str_eq(p2.description, "unlimited");
    mlf_pool_rec_clear(&p2);

    mlf_import_error_rec ie2;
    ck_assert_int_eq(mlf_store_import_error_get(r, "/dags/bad.yaml", &ie2), MLF_OK);
    ck_assert_int_eq(ie2.line, 3);
    ck_assert_int_eq(ie2.column, 7);
    ck_assert_str_eq(ie2.message, "unknown key");
    ck_assert_int_eq(ie2.timestamp, 42);
    mlf_import_error_rec_clear(&ie2);

    ck_assert_int_eq(mlf_store_var_get(r, "nope", &v2), MLF_ENOTFOUND);
    mlf_var_rec_clear(&v2); /* a failed get leaves an initialised record */
    mlf_store_read_end(r);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

START_TEST(test_roundtrip_run_ti_lease_xcom)
{
    static const uint8_t conf[] = {0x81, 0xa6, 'w', 'i', 'n', 'd', 'o', 'w', 0x1e}; /* {"window": 30} */
    static const uint8_t xval[] = {0x92, 0xa3, 'b', 't', 'c', 0xc3};               /* ["btc", true] */
    mlf_store_txn *w = wbegin();
    mlf_run_rec r;
    mlf_run_rec_init(&r);
    r.dag_id = "d";
    r.run_id = "manual__2024-01-01T00:00:00+00:00";
    r.logical_date = 1704067200000000;
    r.state = MLF_RUN_RUNNING;
    r.run_type = MLF_RUN_TYPE_MANUAL;
    r.external_trigger = true;
    r.data_interval_start = 1704067200000000;
    r.data_interval_end = 1704153600000000;
    r.queued_at = 1;
    r.start_date = 2;
    r.last_scheduling_decision = 3;
    r.conf = (uint8_t *)conf;
    r.conf_len = sizeof conf;
    r.note = "by hand";
    ck_assert_int_eq(mlf_store_run_put(w, &r), MLF_OK);

    mlf_ti_rec t;
    mlf_ti_rec_init(&t);
    ck_assert_int_eq(t.map_index, -1);
    ck_assert_int_eq(t.wake_at, MLF_TIME_NONE);
    t.dag_id = "d";
    t.run_id = r.run_id;
    t.task_id = "predict";
    t.map_index = 3;
    t.state = MLF_TI_UP_FOR_RESCHEDULE;
    t.try_number = 2;
    t.max_tries = 4;
    t.start_date = 10;
    t.end_date = 20;
    t.duration = 10;
    t.hostname = "worker-1";
    t.pid = 4242;
    t.attempt_token = UINT64_MAX;
    t.queued_at = 5;
    t.wake_at = 30;
    t.first_poke_at = 9;
    t.operator_name = "python";
    t.pool = "default_pool";
    t.pool_slots = 2;
    t.queue = "gpu";
    t.priority_weight = -7;
    t.external_executor_id = "ext-9";
    t.message = "poke again";
    t.note = "n";
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_OK);

    mlf_ti_key tk = mlf_ti_rec_key(&t);
    mlf_lease_rec l;
    mlf_lease_rec_init(&l);
    l.dag_id = "d";
    l.run_id = r.run_id;
    l.task_id = "predict";
    l.map_index = 3;
    l.attempt_token = 77;
    l.worker = "w1";
    l.deadline = 1234;
    ck_assert_int_eq(mlf_store_lease_put(w, &l), MLF_OK);
    ck_assert_int_eq(mlf_store_xcom_put(w, &tk, "return_value", xval, sizeof xval), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    mlf_store_txn *rd = rbegin();
    mlf_run_rec r2;
    ck_assert_int_eq(mlf_store_run_get(rd, "d", r.run_id, &r2), MLF_OK);
    ck_assert_str_eq(r2.dag_id, "d");
    ck_assert_str_eq(r2.run_id, r.run_id);
    ck_assert_int_eq(r2.logical_date, r.logical_date);
    ck_assert_int_eq(r2.state, MLF_RUN_RUNNING);
    ck_assert_int_eq(r2.run_type, MLF_RUN_TYPE_MANUAL);
    ck_assert(r2.external_trigger);
    ck_assert_int_eq(r2.data_interval_end, 1704153600000000);
    ck_assert_int_eq(r2.queued_at, 1);
    ck_assert_int_eq(r2.start_date, 2);
    ck_assert_int_eq(r2.end_date, MLF_TIME_NONE);
    ck_assert_int_eq(r2.last_scheduling_decision, 3);
    ck_assert_uint_eq(r2.conf_len, sizeof conf);
    ck_assert_mem_eq(r2.conf, conf, sizeof conf);
    ck_assert_str_eq(r2.note, "by hand");
    mlf_run_rec_clear(&r2);

    mlf_ti_rec t2;
    ck_assert_int_eq(mlf_store_ti_get(rd, &tk, &t2), MLF_OK);
    ck_assert_str_eq(t2.task_id, "predict");
    ck_assert_int_eq(t2.map_index, 3);
    ck_assert_int_eq(t2.state, MLF_TI_UP_FOR_RESCHEDULE);
    ck_assert_int_eq(t2.try_number, 2);
    ck_assert_int_eq(t2.max_tries, 4);
    ck_assert_int_eq(t2.start_date, 10);
    ck_assert_int_eq(t2.end_date, 20);
    ck_assert_int_eq(t2.duration, 10);
    ck_assert_str_eq(t2.hostname, "worker-1");
    ck_assert_int_eq(t2.pid, 4242);
    ck_assert(t2.attempt_token == UINT64_MAX);
    ck_assert_int_eq(t2.queued_at, 5);
    ck_assert_int_eq(t2.wake_at, 30);
    ck_assert_int_eq(t2.first_poke_at, 9);
    ck_assert_str_eq(t2.operator_name, "python");
    ck_assert_str_eq(t2.pool, "default_pool");
    ck_assert_int_eq(t2.pool_slots, 2);
    ck_assert_str_eq(t2.queue, "gpu");
    ck_assert_int_eq(t2.priority_weight, -7);
    ck_assert_str_eq(t2.external_executor_id, "ext-9");
    ck_assert_str_eq(t2.message, "poke again");
    ck_assert_str_eq(t2.note, "n");
    mlf_ti_rec_clear(&t2);

    mlf_lease_rec l2;
    ck_assert_int_eq(mlf_store_lease_get(rd, &tk, &l2), MLF_OK);
    ck_assert_str_eq(l2.task_id, "predict");
    ck_assert_int_eq(l2.map_index, 3);
    ck_assert(l2.attempt_token == 77);
    ck_assert_str_eq(l2.worker, "w1");
    ck_assert_int_eq(l2.deadline, 1234);
    mlf_lease_rec_clear(&l2);

    void *val;
    size_t len;
    ck_assert_int_eq(mlf_store_xcom_get(rd, &tk, "return_value", &val, &len), MLF_OK);
    ck_assert_uint_eq(len, sizeof xval);
    ck_assert_mem_eq(val, xval, len);
    free(val);
    ck_assert_int_eq(mlf_store_xcom_get(rd, &tk, "other", &val, &len), MLF_ENOTFOUND);
    ck_assert_ptr_null(val);
    mlf_store_read_end(rd);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

static int count_cb(void *ud, const void *rec)
{
    (void)rec;
    ++*(int *)ud;
    return MLF_OK;
}

static int count_var(void *ud, const mlf_var_rec *rec)
{
    return count_cb(ud, rec);
}

static int count_lease(void *ud, const mlf_lease_rec *rec)
{
    return count_cb(ud, rec);
}

static int count_ti(void *ud, const mlf_ti_rec *rec)
{
    return count_cb(ud, rec);
}

static int stop_after_two(void *ud, const mlf_var_rec *rec)
{
    (void)rec;
    return ++*(int *)ud == 2 ? MLF_STORE_STOP : MLF_OK;
}

static int fail_on_b(void *ud, const mlf_var_rec *rec)
{
    (void)ud;
    return strcmp(rec->key, "b") == 0 ? MLF_ERANGE : MLF_OK;
}

START_TEST(test_delete_and_foreach_control)
{
    mlf_store_txn *w = wbegin();
    const char *keys[] = {"c", "a", "b"};
    for (int i = 0; i < 3; i++) {
        mlf_var_rec v = {.key = (char *)keys[i], .val = "x"};
        ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_OK);
    }
    int n = 0;
    ck_assert_int_eq(mlf_store_var_foreach(w, count_var, &n), MLF_OK);
    ck_assert_int_eq(n, 3);
    n = 0;
    ck_assert_int_eq(mlf_store_var_foreach(w, stop_after_two, &n), MLF_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(mlf_store_var_foreach(w, fail_on_b, NULL), MLF_ERANGE);
    ck_assert_int_eq(mlf_store_var_delete(w, "b"), MLF_OK);
    ck_assert_int_eq(mlf_store_var_delete(w, "b"), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_store_var_foreach(w, fail_on_b, NULL), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    /* abort discards */
    w = wbegin();
    ck_assert_int_eq(mlf_store_var_delete(w, "a"), MLF_OK);
    mlf_store_write_abort(w);
    mlf_store_txn *r = rbegin();
    n = 0;
    ck_assert_int_eq(mlf_store_var_foreach(r, count_var, &n), MLF_OK);
    ck_assert_int_eq(n, 2);
    mlf_store_read_end(r);
}
END_TEST

/* ------------------------------------------------------------------------------------- key order */

START_TEST(test_runs_iterate_in_logical_date_order)
{
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r2024", 1704067200000000);
    put_run(w, "d", "r1969", -1000000);
    put_run(w, "d", "r1970", 0);
    put_run(w, "d", "r2023", 1672531200000000);
    put_run(w, "d", "r2024b", 1704067200000000); /* same date: run_id order */
    put_run(w, "d2", "other", 5);                /* another DAG whose id extends "d" */
    put_run(w, "c", "before", 5);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    mlf_store_txn *r = rbegin();
    struct list l = {{0}};
    ck_assert_int_eq(mlf_store_run_foreach(r, "d", INT64_MIN, INT64_MAX, 0, list_run, &l), MLF_OK);
    ck_assert_str_eq(l.s, "r1969,r1970,r2023,r2024,r2024b");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_run_foreach(r, "d", INT64_MIN, INT64_MAX, MLF_STORE_REVERSE, list_run, &l),
                     MLF_OK);
    ck_assert_str_eq(l.s, "r2024b,r2024,r2023,r1970,r1969");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_run_foreach(r, "d", 0, 1704067200000000, 0, list_run, &l), MLF_OK);
    ck_assert_str_eq(l.s, "r1970,r2023"); /* [from, to) */
    memset(&l, 0, sizeof l);
    /* the previous run before a date: reverse, stop at the first */
    ck_assert_int_eq(
        mlf_store_run_foreach(r, "d", INT64_MIN, 1704067200000000, MLF_STORE_REVERSE, list_run, &l), MLF_OK);
    ck_assert_str_eq(l.s, "r2023,r1970,r1969");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_run_foreach(r, "d2", INT64_MIN, INT64_MAX, 0, list_run, &l), MLF_OK);
    ck_assert_str_eq(l.s, "other");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_run_foreach(r, "nodag", INT64_MIN, INT64_MAX, 0, list_run, &l), MLF_OK);
    ck_assert_str_eq(l.s, "");
    mlf_store_read_end(r);
}
END_TEST

START_TEST(test_tis_iterate_by_task_then_map_index)
{
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r", 1);
    put_run(w, "d", "r2", 2);
    put_ti(w, "d", "r", "b", -1, MLF_TI_NONE);
    put_ti(w, "d", "r", "a", 10, MLF_TI_NONE);
    put_ti(w, "d", "r", "a", 2, MLF_TI_NONE);
    put_ti(w, "d", "r", "a", -1, MLF_TI_NONE);
    put_ti(w, "d", "r", "ab", -1, MLF_TI_NONE);
    put_ti(w, "d", "r", "a", 0, MLF_TI_NONE);
    put_ti(w, "d", "r", "a", 256, MLF_TI_NONE);
    put_ti(w, "d", "r2", "a", -1, MLF_TI_NONE); /* a run whose id extends "r" */
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    mlf_store_txn *r = rbegin();
    struct list l = {{0}};
    ck_assert_int_eq(mlf_store_ti_foreach_run(r, "d", "r", NULL, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "a:-1,a:0,a:2,a:10,a:256,ab:-1,b:-1");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_ti_foreach_run(r, "d", "r", "a", list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "a:-1,a:0,a:2,a:10,a:256");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_ti_foreach_run(r, "d", "r2", NULL, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "a:-1");
    mlf_store_read_end(r);
}
END_TEST

START_TEST(test_key_builders_and_parsers)
{
    mlf_st_key k;
    mlf_ti_key ti = {"dag", "run", "task", -1}, back;
    size_t used;
    ck_assert_int_eq(mlf_st_key_ti(&k, &ti), MLF_OK);
    ck_assert_uint_eq(k.n, 4 + 4 + 5 + 4);
    ck_assert_mem_eq(k.b, "dag\0run\0task\0\0\0\0\0", k.n);
    ck_assert_int_eq(mlf_st_parse_ti(k.b, k.n, &back, &used), MLF_OK);
    ck_assert_str_eq(back.task_id, "task");
    ck_assert_int_eq(back.map_index, -1);
    ck_assert_uint_eq(used, k.n);
    for (size_t cut = 0; cut < k.n; cut++) /* every truncation is refused */
        ck_assert_int_eq(mlf_st_parse_ti(k.b, cut, &back, &used), MLF_ECORRUPT);

    ck_assert_int_eq(mlf_st_key_run(&k, "dag", -1, "run"), MLF_OK);
    const char *dag, *run;
    size_t run_len;
    mlf_time_us ld;
    ck_assert_int_eq(mlf_st_parse_run(k.b, k.n, &dag, &ld, &run, &run_len), MLF_OK);
    ck_assert_int_eq(ld, -1);
    ck_assert_uint_eq(run_len, 3);
    ck_assert_int_eq(mlf_st_key_run(&k, "dag", MLF_TIME_NONE, "run"), MLF_EINVAL);

    char long_id[MLF_STORE_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    ti.task_id = long_id;
    ck_assert_int_eq(mlf_st_key_ti(&k, &ti), MLF_ETOOBIG);
    long_id[MLF_STORE_ID_MAX] = '\0'; /* exactly the limit */
    ck_assert_int_eq(mlf_st_key_xcom(&k, &(mlf_ti_key){long_id, long_id, long_id, 5}, long_id), MLF_OK);
    ti.task_id = "";
    ck_assert_int_eq(mlf_st_key_ti(&k, &ti), MLF_EINVAL);
    ti.task_id = "t";
    ti.map_index = -2;
    ck_assert_int_eq(mlf_st_key_ti(&k, &ti), MLF_ERANGE);

    mlf_st_key p = {.n = 2, .b = {'a', 0xff}}, hi;
    mlf_st_range r;
    mlf_st_range_prefix(&r, &p, &hi);
    ck_assert_uint_eq(hi.n, 1);
    ck_assert_int_eq(hi.b[0], 'b');
    p = (mlf_st_key){.n = 1, .b = {0xff}};
    mlf_st_range_prefix(&r, &p, &hi);
    ck_assert_ptr_null(r.hi);
}
END_TEST

/* ------------------------------------------------------------------------------------- state index */

struct mover {
    mlf_store_txn *w;
    int n;
};

static int to_running(void *ud, const mlf_ti_rec *t)
{
    struct mover *m = ud;
    mlf_ti_rec copy = *t;
    copy.state = MLF_TI_RUNNING;
    m->n++;
    return mlf_store_ti_put(m->w, &copy);
}

START_TEST(test_state_index_follows_state_changes)
{
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r", 1);
    for (int i = 0; i < 5; i++)
        put_ti(w, "d", "r", "t", i, MLF_TI_QUEUED);
    put_ti(w, "d", "r", "u", -1, MLF_TI_SCHEDULED);
    put_ti(w, "d", "r", "t", 1, MLF_TI_QUEUED); /* same state again: one index entry */
    put_ti(w, "d", "r", "t", 3, MLF_TI_SUCCESS);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    mlf_store_txn *r = rbegin();
    struct list l = {{0}};
    ck_assert_int_eq(mlf_store_ti_foreach_state(r, MLF_TI_QUEUED, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "t:0,t:1,t:2,t:4");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_ti_foreach_state(r, MLF_TI_SUCCESS, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "t:3");
    mlf_store_read_end(r);
    ck_assert_uint_eq(check_problems(), 0);

    /* the scheduler's pattern: move every queued TI to running while iterating the queued ones */
    w = wbegin();
    struct mover m = {w, 0};
    ck_assert_int_eq(mlf_store_ti_foreach_state(w, MLF_TI_QUEUED, to_running, &m), MLF_OK);
    ck_assert_int_eq(m.n, 4);
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_ti_foreach_state(w, MLF_TI_QUEUED, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_ti_foreach_state(w, MLF_TI_RUNNING, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "t:0,t:1,t:2,t:4");
    ck_assert_int_eq(mlf_store_ti_delete(w, &(mlf_ti_key){"d", "r", "t", 2}), MLF_OK);
    ck_assert_int_eq(mlf_store_ti_delete(w, &(mlf_ti_key){"d", "r", "t", 2}), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    r = rbegin();
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_ti_foreach_state(r, MLF_TI_RUNNING, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "t:0,t:1,t:4");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_ti_foreach_state(r, MLF_TI_SCHEDULED, list_ti, &l), MLF_OK);
    ck_assert_str_eq(l.s, "u:-1");
    ck_assert_int_eq(mlf_store_ti_foreach_state(r, MLF_TI_STATE_COUNT, list_ti, &l), MLF_EINVAL);
    mlf_store_read_end(r);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

START_TEST(test_run_delete_cascades)
{
    static const uint8_t one[] = {0x01};
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r", 1);
    put_run(w, "d", "keep", 2);
    put_ti(w, "d", "r", "a", -1, MLF_TI_RUNNING);
    put_ti(w, "d", "r", "b", 0, MLF_TI_QUEUED);
    put_ti(w, "d", "keep", "a", -1, MLF_TI_RUNNING);
    mlf_ti_key a = {"d", "r", "a", -1}, kept = {"d", "keep", "a", -1};
    ck_assert_int_eq(mlf_store_xcom_put(w, &a, "return_value", one, 1), MLF_OK);
    ck_assert_int_eq(mlf_store_xcom_put(w, &kept, "return_value", one, 1), MLF_OK);
    mlf_lease_rec l;
    mlf_lease_rec_init(&l);
    l.dag_id = "d";
    l.run_id = "r";
    l.task_id = "a";
    ck_assert_int_eq(mlf_store_lease_put(w, &l), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    w = wbegin();
    ck_assert_int_eq(mlf_store_run_delete(w, "d", "r"), MLF_OK);
    ck_assert_int_eq(mlf_store_run_delete(w, "d", "r"), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    mlf_store_txn *r = rbegin();
    struct list ls = {{0}};
    ck_assert_int_eq(mlf_store_ti_foreach_state(r, MLF_TI_RUNNING, list_ti, &ls), MLF_OK);
    ck_assert_str_eq(ls.s, "a:-1"); /* the kept run's */
    int n = 0;
    ck_assert_int_eq(mlf_store_lease_foreach(r, count_lease, &n), MLF_OK);
    ck_assert_int_eq(n, 0);
    void *v;
    size_t len;
    ck_assert_int_eq(mlf_store_xcom_get(r, &a, "return_value", &v, &len), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_store_xcom_get(r, &kept, "return_value", &v, &len), MLF_OK);
    free(v);
    mlf_run_rec run;
    ck_assert_int_eq(mlf_store_run_get(r, "d", "r", &run), MLF_ENOTFOUND);
    mlf_store_read_end(r);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

static int list_xcom(void *ud, const mlf_ti_key *ti, const char *key, const void *val, size_t len)
{
    char item[300];
    snprintf(item, sizeof item, "%s:%d:%s:%zu:%d", ti->task_id, ti->map_index, key, len,
             *(const uint8_t *)val);
    list_add(ud, item);
    return MLF_OK;
}

START_TEST(test_xcom_ranges_and_clear)
{
    static const uint8_t v1[] = {0x01}, v2[] = {0x02}, bad[] = {0x92, 0x01}; /* array of 2 with 1 item */
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r", 1);
    put_ti(w, "d", "r", "m", 1, MLF_TI_SUCCESS);
    put_ti(w, "d", "r", "m", -1, MLF_TI_SUCCESS);
    put_ti(w, "d", "r", "n", -1, MLF_TI_SUCCESS);
    mlf_ti_key m1 = {"d", "r", "m", 1}, m = {"d", "r", "m", -1}, nn = {"d", "r", "n", -1};
    ck_assert_int_eq(mlf_store_xcom_put(w, &m1, "return_value", v1, 1), MLF_OK);
    ck_assert_int_eq(mlf_store_xcom_put(w, &m, "return_value", v2, 1), MLF_OK);
    ck_assert_int_eq(mlf_store_xcom_put(w, &m, "extra", v1, 1), MLF_OK);
    ck_assert_int_eq(mlf_store_xcom_put(w, &nn, "return_value", v2, 1), MLF_OK);
    ck_assert_int_eq(mlf_store_xcom_put(w, &nn, "x", bad, sizeof bad), MLF_EPARSE);
    ck_assert_int_eq(mlf_store_xcom_put(w, &nn, "x", bad, 0), MLF_EPARSE);
    ck_assert_int_eq(mlf_store_xcom_put(w, &(mlf_ti_key){"d", "r", "ghost", -1}, "x", v1, 1), MLF_ENOTFOUND);

    struct list l = {{0}};
    ck_assert_int_eq(mlf_store_xcom_foreach(w, "d", "r", "m", list_xcom, &l), MLF_OK);
    ck_assert_str_eq(l.s, "m:-1:extra:1:1,m:-1:return_value:1:2,m:1:return_value:1:1");
    ck_assert_int_eq(mlf_store_xcom_delete_ti(w, &m), MLF_OK);
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_xcom_foreach(w, "d", "r", NULL, list_xcom, &l), MLF_OK);
    ck_assert_str_eq(l.s, "m:1:return_value:1:1,n:-1:return_value:1:2");

    /* deleting a TI takes its XComs and its lease along */
    mlf_lease_rec lease;
    mlf_lease_rec_init(&lease);
    lease.dag_id = "d";
    lease.run_id = "r";
    lease.task_id = "n";
    ck_assert_int_eq(mlf_store_lease_put(w, &lease), MLF_OK);
    ck_assert_int_eq(mlf_store_ti_delete(w, &nn), MLF_OK);
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(mlf_store_xcom_foreach(w, "d", "r", NULL, list_xcom, &l), MLF_OK);
    ck_assert_str_eq(l.s, "m:1:return_value:1:1");
    ck_assert_int_eq(mlf_store_lease_get(w, &nn, &lease), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

/* ---------------------------------------------------------------------------------- transactions */

START_TEST(test_map_grows_inside_one_batch)
{
    size_t before = mlf_store_map_size(st);
    ck_assert_uint_le(before, 1 << 20);
    char msg[2000];
    memset(msg, 'm', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r", 1);
    for (int i = 0; i < 3000; i++) { /* ~6 MB of records into a 1 MiB map */
        mlf_ti_rec t;
        mlf_ti_rec_init(&t);
        char task[32];
        snprintf(task, sizeof task, "task%05d", i);
        t.dag_id = "d";
        t.run_id = "r";
        t.task_id = task;
        t.state = (mlf_ti_state)(i % MLF_TI_STATE_COUNT);
        t.try_number = i;
        t.message = msg;
        ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_OK);
        if (i % 500 == 0) { /* reads through the batch see its writes, across growths too */
            mlf_ti_rec back;
            ck_assert_int_eq(mlf_store_ti_get(w, &(mlf_ti_key){"d", "r", task, -1}, &back), MLF_OK);
            ck_assert_int_eq(back.try_number, i);
            mlf_ti_rec_clear(&back);
        }
    }
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    ck_assert_uint_ge(mlf_store_map_size(st), 8u << 20);

    reopen(0);
    ck_assert_uint_eq(check_problems(), 0);
    mlf_store_txn *r = rbegin();
    int n = 0;
    for (int s = 0; s < MLF_TI_STATE_COUNT; s++)
        ck_assert_int_eq(mlf_store_ti_foreach_state(r, (mlf_ti_state)s, count_ti, &n), MLF_OK);
    ck_assert_int_eq(n, 3000);
    mlf_store_read_end(r);
}
END_TEST

/* Deleting many records makes the commit itself write a large free list: with a map that is just full,
 * MDB_MAP_FULL then comes from mdb_txn_commit(), not from a put. Find the smallest such batch (a few
 * records with a 64 KiB map) and check the commit grew the map, replayed and committed the deletions. */
START_TEST(test_map_full_at_commit_is_absorbed)
{
    char sub[128], err[256], val[128];
    snprintf(sub, sizeof sub, "%s/commitfull", dir);
    int hit = 0;
    for (int n = 1; n <= 64 && !hit; n++) {
        mlf_store *s;
        ck_assert_int_eq(mlf_store_open_sized(sub, MLF_STORE_CREATE, 64 << 10, &s, err, sizeof err), MLF_OK);
        mlf_store_txn *w;
        ck_assert_int_eq(mlf_store_write_begin(s, &w), MLF_OK);
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%05d", i);
            memset(val, 'v', sizeof val);
            val[100 + i % 7] = '\0';
            mlf_var_rec v = {.key = key, .val = val};
            ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_OK);
        }
        ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
        ck_assert_int_eq(mlf_store_write_begin(s, &w), MLF_OK);
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%05d", i);
            ck_assert_int_eq(mlf_store_var_delete(w, key), MLF_OK);
        }
        size_t before = mlf_store_map_size(s);
        ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
        hit = mlf_store_map_size(s) > before; /* grown inside the commit */
        mlf_store_close(s);
        if (hit) {
            ck_assert_int_eq(mlf_store_open(sub, 0, &s, err, sizeof err), MLF_OK);
            mlf_store_txn *r;
            ck_assert_int_eq(mlf_store_read_begin(s, &r), MLF_OK);
            int left = 0;
            ck_assert_int_eq(mlf_store_var_foreach(r, count_var, &left), MLF_OK);
            ck_assert_int_eq(left, 0);
            mlf_store_read_end(r);
            unsigned long problems = 1;
            ck_assert_int_eq(mlf_store_check(s, NULL, NULL, &problems), MLF_OK);
            ck_assert_uint_eq(problems, 0);
            mlf_store_close(s);
        }
        rm_store_dir(sub);
    }
    ck_assert_msg(hit, "no batch made the commit run out of map");
}
END_TEST

struct reader_ctx {
    sem_t opened, committed;
    int write_rc;  /* write_begin from this thread while the batch is open */
    int saw_old;   /* the reader opened before the commit saw the write */
    int saw_new;   /* a reader opened after the commit saw it */
};

static void *isolation_reader(void *arg)
{
    struct reader_ctx *c = arg;
    mlf_store_txn *w, *r;
    c->write_rc = mlf_store_write_begin(st, &w);
    if (mlf_store_read_begin(st, &r) != MLF_OK)
        return NULL;
    sem_post(&c->opened);
    sem_wait(&c->committed);
    mlf_var_rec v;
    c->saw_old = mlf_store_var_get(r, "k", &v) == MLF_OK;
    mlf_var_rec_clear(&v);
    mlf_store_read_end(r);
    if (mlf_store_read_begin(st, &r) != MLF_OK)
        return NULL;
    c->saw_new = mlf_store_var_get(r, "k", &v) == MLF_OK;
    mlf_var_rec_clear(&v);
    mlf_store_read_end(r);
    return NULL;
}

START_TEST(test_batch_reads_own_writes_and_readers_are_isolated)
{
    struct reader_ctx c = {.saw_old = -1, .saw_new = -1};
    sem_init(&c.opened, 0, 0);
    sem_init(&c.committed, 0, 0);
    mlf_store_txn *w = wbegin();
    mlf_var_rec v = {.key = "k", .val = "1"}, back;
    ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_OK);
    ck_assert_int_eq(mlf_store_var_get(w, "k", &back), MLF_OK); /* the batch sees its own write */
    ck_assert_str_eq(back.val, "1");
    mlf_var_rec_clear(&back);

    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, isolation_reader, &c), 0);
    sem_wait(&c.opened); /* a reader is open on the snapshot before the commit */
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    sem_post(&c.committed);
    pthread_join(th, NULL);
    ck_assert_int_eq(c.write_rc, MLF_ESTATE); /* one writer */
    ck_assert_int_eq(c.saw_old, 0);
    ck_assert_int_eq(c.saw_new, 1);
}
END_TEST

struct spinner {
    atomic_bool stop;
    int reads;
    int errors;
};

static void *spin_reader(void *arg)
{
    struct spinner *s = arg;
    while (!atomic_load(&s->stop)) {
        mlf_store_txn *r;
        mlf_var_rec v;
        if (mlf_store_read_begin(st, &r) != MLF_OK) {
            s->errors++;
            continue;
        }
        if (mlf_store_var_get(r, "fixed", &v) != MLF_OK || strcmp(v.val, "still here") != 0)
            s->errors++;
        mlf_var_rec_clear(&v);
        mlf_store_read_end(r);
        s->reads++;
    }
    return NULL;
}

START_TEST(test_readers_run_beside_a_growing_writer)
{
    mlf_store_txn *w = wbegin();
    mlf_var_rec v = {.key = "fixed", .val = "still here"};
    ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    struct spinner s[2] = {{.reads = 0}, {.reads = 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, spin_reader, &s[i]), 0);
    char blob[1500];
    memset(blob, 'b', sizeof blob - 1);
    blob[sizeof blob - 1] = '\0';
    for (int batch = 0; batch < 4; batch++) { /* each batch ~0.75 MB: the map grows several times */
        w = wbegin();
        for (int i = 0; i < 500; i++) {
            char key[32];
            snprintf(key, sizeof key, "blob-%d-%d", batch, i);
            mlf_var_rec b = {.key = key, .val = blob};
            ck_assert_int_eq(mlf_store_var_put(w, &b), MLF_OK);
        }
        ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    }
    for (int i = 0; i < 2; i++) {
        atomic_store(&s[i].stop, true);
        pthread_join(th[i], NULL);
        ck_assert_int_eq(s[i].errors, 0);
    }
    ck_assert_int_gt(s[0].reads + s[1].reads, 0);
    ck_assert_uint_ge(mlf_store_map_size(st), 2u << 20);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

START_TEST(test_one_transaction_per_thread_and_read_only_txns)
{
    mlf_store_txn *r = rbegin(), *x;
    ck_assert_int_eq(mlf_store_read_begin(st, &x), MLF_ESTATE);
    ck_assert_int_eq(mlf_store_write_begin(st, &x), MLF_ESTATE);
    mlf_var_rec v = {.key = "k", .val = "v"};
    ck_assert_int_eq(mlf_store_var_put(r, &v), MLF_ESTATE);
    ck_assert_int_eq(mlf_store_var_delete(r, "k"), MLF_ESTATE);
    mlf_store_read_end(r);

    mlf_store_txn *w = wbegin();
    ck_assert_int_eq(mlf_store_write_begin(st, &x), MLF_ESTATE);
    ck_assert_int_eq(mlf_store_read_begin(st, &x), MLF_ESTATE);
    mlf_store_write_abort(w);

    reopen(MLF_STORE_RDONLY);
    ck_assert_int_eq(mlf_store_write_begin(st, &x), MLF_ESTATE);
    r = rbegin();
    mlf_store_read_end(r);
}
END_TEST

START_TEST(test_store_refuses_use_after_fork)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mlf_store_txn *t;
        int a = mlf_store_read_begin(st, &t), b = mlf_store_write_begin(st, &t);
        _exit(a == MLF_ESTATE && b == MLF_ESTATE ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_invalid_records_are_refused_and_leave_the_batch_usable)
{
    static const uint8_t bad[] = {0x93, 0x01}; /* an array of 3 with 1 element */
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r", 100);

    mlf_ti_rec t;
    mlf_ti_rec_init(&t);
    t.dag_id = "d";
    t.run_id = "nope";
    t.task_id = "t";
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_ENOTFOUND); /* no such run */
    t.run_id = "r";
    t.map_index = -2;
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_ERANGE);
    t.map_index = -1;
    t.state = MLF_TI_STATE_COUNT;
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_EINVAL);
    t.state = MLF_TI_NONE;
    char long_id[MLF_STORE_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    t.task_id = long_id;
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_ETOOBIG);
    t.task_id = "";
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_EINVAL);
    t.task_id = NULL;
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_EINVAL);

    mlf_run_rec r;
    mlf_run_rec_init(&r);
    r.dag_id = "d";
    r.run_id = "r2";
    ck_assert_int_eq(mlf_store_run_put(w, &r), MLF_EINVAL); /* no logical date */
    r.run_id = "r";
    r.logical_date = 200;
    ck_assert_int_eq(mlf_store_run_put(w, &r), MLF_EEXIST); /* run "r" is at 100 */
    r.logical_date = 100;
    r.state = MLF_RUN_STATE_COUNT;
    ck_assert_int_eq(mlf_store_run_put(w, &r), MLF_EINVAL);
    r.state = MLF_RUN_SUCCESS;
    r.conf = (uint8_t *)bad;
    r.conf_len = sizeof bad;
    ck_assert_int_eq(mlf_store_run_put(w, &r), MLF_EPARSE);
    r.conf = NULL;
    r.conf_len = 3;
    ck_assert_int_eq(mlf_store_run_put(w, &r), MLF_EINVAL);

    mlf_pool_rec p = {.name = "p", .slots = -2};
    ck_assert_int_eq(mlf_store_pool_put(w, &p), MLF_ERANGE);
    ck_assert_int_eq(mlf_store_pool_delete(w, MLF_DEFAULT_POOL), MLF_EINVAL);
    mlf_conn_rec c;
    mlf_conn_rec_init(&c);
    c.conn_id = "c";
    c.extra = (uint8_t *)bad;
    c.extra_len = sizeof bad;
    ck_assert_int_eq(mlf_store_conn_put(w, &c), MLF_EPARSE);
    mlf_lease_rec l;
    mlf_lease_rec_init(&l);
    l.dag_id = "d";
    l.run_id = "r";
    l.task_id = "ghost";
    ck_assert_int_eq(mlf_store_lease_put(w, &l), MLF_ENOTFOUND);

    char key[MLF_STORE_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    mlf_var_rec v = {.key = key, .val = "v"};
    ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_ETOOBIG);
    key[MLF_STORE_KEY_MAX] = '\0'; /* exactly LMDB's limit */
    ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_OK);

    t.task_id = "t"; /* finally a valid TI: the batch was not harmed by the refusals */
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);

    mlf_store_txn *rd = rbegin();
    mlf_ti_rec back;
    ck_assert_int_eq(mlf_store_ti_get(rd, &(mlf_ti_key){"d", "r", "t", -1}, &back), MLF_OK);
    mlf_ti_rec_clear(&back);
    mlf_var_rec vb;
    ck_assert_int_eq(mlf_store_var_get(rd, key, &vb), MLF_OK);
    mlf_var_rec_clear(&vb);
    mlf_store_read_end(rd);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

/* --------------------------------------------------------------------------------- damaged stores */

static void collect_report(void *ud, const char *table, const char *key, const char *problem)
{
    char item[700];
    snprintf(item, sizeof item, "%s[%s] %s", table, key, problem);
    list_add(ud, item);
}

START_TEST(test_corrupt_records_give_ecorrupt)
{
    mlf_store_txn *w = wbegin();
    put_run(w, "d", "r", 1);
    put_ti(w, "d", "r", "t", -1, MLF_TI_QUEUED);
    put_ti(w, "d", "r", "u", -1, MLF_TI_RUNNING);
    mlf_var_rec v = {.key = "v", .val = "x"};
    ck_assert_int_eq(mlf_store_var_put(w, &v), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    mlf_store_close(st);
    st = NULL;

    /* a map32 header that claims 4 billion entries; a reserved byte; an index entry removed */
    raw_put("task_instances", "d\0r\0t\0\0\0\0\0", 10, "\xdf\xff\xff\xff\xff", 5);
    raw_put("variables", "v", 1, "\xc1", 1);
    raw_put("ti_by_state", "\x03" "d\0r\0u\0\0\0\0\0", 11, NULL, 0);
    reopen(0);

    struct list l = {{0}};
    unsigned long n = 0;
    ck_assert_int_eq(mlf_store_check(st, collect_report, &l, &n), MLF_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_ptr_nonnull(
        strstr(l.s, "task_instances[d\\x00r\\x00t\\x00\\x00\\x00\\x00\\x00] the task instance"));
    ck_assert_ptr_nonnull(strstr(l.s, "variables[v]"));
    ck_assert_ptr_nonnull(strstr(l.s, "state running is missing from the ti_by_state index"));

    mlf_store_txn *r = rbegin();
    mlf_ti_rec t;
    ck_assert_int_eq(mlf_store_ti_get(r, &(mlf_ti_key){"d", "r", "t", -1}, &t), MLF_ECORRUPT);
    ck_assert_ptr_null(t.task_id);
    mlf_var_rec vb;
    ck_assert_int_eq(mlf_store_var_get(r, "v", &vb), MLF_ECORRUPT);
    ck_assert_int_eq(mlf_store_ti_foreach_run(r, "d", "r", NULL, list_ti, &l), MLF_ECORRUPT);
    mlf_store_read_end(r);

    /* repairs: overwriting is refused (the old state is unknown), deleting works */
    w = wbegin();
    mlf_ti_rec_init(&t);
    t.dag_id = "d";
    t.run_id = "r";
    t.task_id = "t";
    ck_assert_int_eq(mlf_store_ti_put(w, &t), MLF_ECORRUPT);
    ck_assert_int_eq(mlf_store_ti_delete(w, &(mlf_ti_key){"d", "r", "t", -1}), MLF_OK);
    ck_assert_int_eq(mlf_store_var_delete(w, "v"), MLF_OK);
    put_ti(w, "d", "r", "u", -1, MLF_TI_SUCCESS); /* a state change re-creates the index entry */
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

START_TEST(test_damaged_bytes_never_crash_the_decoder)
{
    static const uint8_t conf[] = {0x91, 0xc0};
    mlf_ti_rec t;
    mlf_ti_rec_init(&t);
    t.dag_id = "d";
    t.run_id = "r";
    t.task_id = "t";
    t.hostname = "h";
    t.attempt_token = 1234567890123ULL;
    t.start_date = -5;
    mlf_buf enc = {0};
    ck_assert_int_eq(mlf_st_rec_encode(&mlf_st_ti_type, &t, &enc), MLF_OK);
    MDB_val k = {10, "d\0r\0t\0\0\0\0\0"}, v;
    int ok = 0;
    for (size_t cut = 0; cut <= enc.len; cut++) { /* every truncation */
        v.mv_size = cut;
        v.mv_data = enc.data;
        mlf_ti_rec out;
        int rc = mlf_st_rec_decode(&mlf_st_ti_type, &k, &v, &out);
        ck_assert(rc == MLF_OK || rc == MLF_ECORRUPT);
        ok += rc == MLF_OK;
        mlf_ti_rec_clear(&out);
    }
    ck_assert_int_eq(ok, 1); /* only the whole record */
    for (size_t i = 0; i < enc.len; i++) /* every byte replaced by every value */
        for (int b = 0; b < 256; b++) {
            char save = enc.data[i];
            enc.data[i] = (char)b;
            v.mv_size = enc.len;
            v.mv_data = enc.data;
            mlf_ti_rec out;
            int rc = mlf_st_rec_decode(&mlf_st_ti_type, &k, &v, &out);
            ck_assert(rc == MLF_OK || rc == MLF_ECORRUPT);
            mlf_ti_rec_clear(&out);
            enc.data[i] = save;
        }
    mlf_buf_free(&enc);

    /* the pre-scan: headers that ask for more than there is, nesting, reserved bytes */
    ck_assert_int_eq(mlf_st_mp_check(conf, sizeof conf, 4), MLF_OK);
    ck_assert_int_eq(mlf_st_mp_check(conf, sizeof conf, 1), MLF_EPARSE);
    ck_assert_int_eq(mlf_st_mp_check("\xdd\xff\xff\xff\xff\xc0", 6, 8), MLF_EPARSE);
    ck_assert_int_eq(mlf_st_mp_check("\xdb\x00\x00\x00\x02" "ab", 7, 8), MLF_OK);
    ck_assert_int_eq(mlf_st_mp_check("\xdb\x00\x00\x00\x03" "ab", 7, 8), MLF_EPARSE);
    ck_assert_int_eq(mlf_st_mp_check("\xc7\x01\x05" "x", 4, 8), MLF_OK);
    ck_assert_int_eq(mlf_st_mp_check("\xc7\x01\x05", 3, 8), MLF_EPARSE);
    ck_assert_int_eq(mlf_st_mp_check("\xcb\x00", 2, 8), MLF_EPARSE);
    ck_assert_int_eq(mlf_st_mp_check("\xc1", 1, 8), MLF_EPARSE);
    ck_assert_int_eq(mlf_st_mp_check("\x01\x02", 2, 8), MLF_EPARSE); /* two objects */
    ck_assert_int_eq(mlf_st_mp_check("", 0, 8), MLF_EPARSE);
    uint8_t deep[100];
    memset(deep, 0x91, sizeof deep); /* [[[[...1]]]] */
    deep[99] = 0x01;
    ck_assert_int_eq(mlf_st_mp_check(deep, sizeof deep, 64), MLF_EPARSE);
    ck_assert_int_eq(mlf_st_mp_check(deep + 40, 60, 64), MLF_OK);
    srand(7);
    for (int i = 0; i < 20000; i++) { /* random bytes never read out of bounds (ASan watches) */
        uint8_t buf[24];
        size_t n = (size_t)(rand() % (int)sizeof buf) + 1;
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)rand();
        uint8_t *copy = malloc(n);
        memcpy(copy, buf, n);
        int rc = mlf_st_mp_check(copy, n, 8);
        ck_assert(rc == MLF_OK || rc == MLF_EPARSE);
        free(copy);
    }
}
END_TEST

START_TEST(test_wrong_schema_version_is_refused)
{
    mlf_store_close(st);
    st = NULL;
    raw_put("meta", MLF_ST_META_SCHEMA, strlen(MLF_ST_META_SCHEMA), "\x02", 1);
    const unsigned modes[] = {0, MLF_STORE_RDONLY, MLF_STORE_CREATE};
    for (size_t i = 0; i < 3; i++) {
        char err[256];
        ck_assert_int_eq(mlf_store_open(dir, modes[i], &st, err, sizeof err), MLF_ECORRUPT);
        ck_assert_ptr_null(st);
        ck_assert_ptr_nonnull(strstr(err, "schema version 2"));
        ck_assert_ptr_nonnull(strstr(err, "schema version 1 only"));
    }
    raw_put("meta", MLF_ST_META_SCHEMA, strlen(MLF_ST_META_SCHEMA), NULL, 0); /* uninitialised */
    char err[256];
    ck_assert_int_eq(mlf_store_open(dir, 0, &st, err, sizeof err), MLF_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "db init"));
    ck_assert_int_eq(mlf_store_open(dir, MLF_STORE_CREATE, &st, err, sizeof err), MLF_OK); /* init repairs */
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

START_TEST(test_open_errors)
{
    char path[128], err[256];
    static int dummy;
    mlf_store *s = (mlf_store *)&dummy;
    snprintf(path, sizeof path, "%s/nope", dir);
    ck_assert_int_eq(mlf_store_open(path, 0, &s, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "db init"));
    ck_assert_int_eq(mlf_store_open(path, MLF_STORE_RDONLY, &s, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_store_open(path, MLF_STORE_RDONLY | MLF_STORE_CREATE, &s, err, sizeof err),
                     MLF_EINVAL);
    ck_assert_int_eq(mlf_store_open(NULL, 0, &s, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_store_open(path, 0x80, &s, NULL, 0), MLF_EINVAL);
    struct stat sb;
    ck_assert_int_ne(stat(path, &sb), 0); /* nothing was created */

    /* an existing empty directory is not a store either, and stays empty */
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(mlf_store_open(path, 0, &s, err, sizeof err), MLF_ENOTFOUND);
    char data[160];
    snprintf(data, sizeof data, "%s/data.mdb", path);
    ck_assert_int_ne(stat(data, &sb), 0);

    /* an LMDB environment without our tables */
    MDB_env *env;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_open(env, path, 0, 0600), 0);
    mdb_env_close(env);
    ck_assert_int_eq(mlf_store_open(path, 0, &s, err, sizeof err), MLF_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "not an mlflowd state store"));
    rm_store_dir(path);

    /* a file where the directory should be */
    snprintf(data, sizeof data, "%s/file", dir);
    FILE *f = fopen(data, "w");
    fclose(f);
    ck_assert_int_eq(mlf_store_open(data, MLF_STORE_CREATE, &s, err, sizeof err), ENOTDIR);
    unlink(data);

    /* CREATE makes the directory, private */
    ck_assert_int_eq(mlf_store_open(path, MLF_STORE_CREATE, &s, err, sizeof err), MLF_OK);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0700);
    mlf_store_close(s);
    rm_store_dir(path);
}
END_TEST

/* mlf_st_rec_find_int: one field of an encoded record, read without decoding the rest; bad bytes are
 * refused, never read past. */
START_TEST(test_rec_find_int)
{
    mlf_ti_rec r;
    mlf_ti_rec_init(&r);
    r.dag_id = "d";
    r.run_id = "r";
    r.task_id = "t";
    r.map_index = -1;
    r.state = MLF_TI_UP_FOR_RETRY;
    r.try_number = 300;
    r.pid = -5;
    r.message = "a message before the end";
    mlf_buf b = {0};
    ck_assert_int_eq(mlf_st_rec_encode(&mlf_st_ti_type, &r, &b), MLF_OK);
    int64_t v = 0;
    ck_assert_int_eq(mlf_st_rec_find_int(b.data, b.len, "state", &v), MLF_OK);
    ck_assert_int_eq(v, MLF_TI_UP_FOR_RETRY);
    ck_assert_int_eq(mlf_st_rec_find_int(b.data, b.len, "try_number", &v), MLF_OK);
    ck_assert_int_eq(v, 300);
    ck_assert_int_eq(mlf_st_rec_find_int(b.data, b.len, "pid", &v), MLF_OK);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(mlf_st_rec_find_int(b.data, b.len, "no_such_field", &v), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_st_rec_find_int(b.data, b.len, "message", &v), MLF_ECORRUPT); /* not an integer */
    for (size_t n = 0; n < b.len; n++) { /* every truncation: refused, never a read past n (sanitizers) */
        void *cut = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(cut);
        memcpy(cut, b.data, n);
        ck_assert_int_ne(mlf_st_rec_find_int(cut, n, "note", &v), MLF_OK);
        free(cut);
    }
    static const unsigned char not_a_map[] = {0x93, 0x01, 0x02, 0x03};
    ck_assert_int_eq(mlf_st_rec_find_int(not_a_map, sizeof not_a_map, "state", &v), MLF_ECORRUPT);
    static const unsigned char int_key[] = {0x81, 0x01, 0x02};
    ck_assert_int_eq(mlf_st_rec_find_int(int_key, sizeof int_key, "state", &v), MLF_ECORRUPT);
    mlf_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_init_creates_meta_and_default_pool);
    tcase_add_test(tc, test_rec_find_int);
    tcase_add_test(tc, test_roundtrip_dag_var_conn_pool_import_error);
    tcase_add_test(tc, test_roundtrip_run_ti_lease_xcom);
    tcase_add_test(tc, test_delete_and_foreach_control);
    tcase_add_test(tc, test_runs_iterate_in_logical_date_order);
    tcase_add_test(tc, test_tis_iterate_by_task_then_map_index);
    tcase_add_test(tc, test_key_builders_and_parsers);
    tcase_add_test(tc, test_state_index_follows_state_changes);
    tcase_add_test(tc, test_run_delete_cascades);
    tcase_add_test(tc, test_xcom_ranges_and_clear);
    tcase_add_test(tc, test_map_grows_inside_one_batch);
    tcase_add_test(tc, test_map_full_at_commit_is_absorbed);
    tcase_add_test(tc, test_batch_reads_own_writes_and_readers_are_isolated);
    tcase_add_test(tc, test_readers_run_beside_a_growing_writer);
    tcase_add_test(tc, test_one_transaction_per_thread_and_read_only_txns);
    tcase_add_test(tc, test_store_refuses_use_after_fork);
    tcase_add_test(tc, test_invalid_records_are_refused_and_leave_the_batch_usable);
    tcase_add_test(tc, test_corrupt_records_give_ecorrupt);
    tcase_add_test(tc, test_damaged_bytes_never_crash_the_decoder);
    tcase_add_test(tc, test_wrong_schema_version_is_refused);
    tcase_add_test(tc, test_open_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
