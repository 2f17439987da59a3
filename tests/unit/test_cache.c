/* Unit tests for cached results (doc/caching.md): cache keys (core/sched/cache_key.c) change with every input
 * and only with them; the cache table (core/store/store_cache.c) keeps entries, TTLs and --no-cache marks;
 * and the scheduler (core/sched/sched_cache.c), driven in-process against the fake executor, reuses a
 * success of an unchanged try without running it ("cached from RUN", XComs copied), never caches a failed
 * try, lets an expired entry go, and runs a try cleared with --no-cache. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "fake_executor.h"
#include "plugin/plugin_loader.h"
#include "sched/cache_key.h"
#include "sched/sched_internal.h"
#include "store/store_cache.h"
#include "testutil.h"

#define DAY INT64_C(86400000000)
#define LOGICAL_DATE INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */

/* ------------------------------------------------------------------------------------------ keys */

/* The inputs of one try, owned here, so that a test can change one thing at a time. */
typedef struct key_fixture {
    mlf_value *params, *xcoms;
    uint8_t plugin[MLF_CACHE_DIGEST_LEN];
    mlf_cache_inputs in;
} key_fixture;

static void key_fixture_init(key_fixture *f)
{
    f->params = mlf_value_map();
    mlf_map_set(f->params, "command", mlf_value_str("python3 train.py"));
    mlf_map_set(f->params, "l2", mlf_value_float(10.0));
    mlf_value *env = mlf_value_map();
    mlf_map_set(env, "SEED", mlf_value_str("7"));
    mlf_map_set(env, "GROUP", mlf_value_str("size"));
    mlf_map_set(f->params, "env", env);
    f->xcoms = mlf_value_map();
    mlf_value *split = mlf_value_map();
    mlf_map_set(split, "return_value", mlf_value_int(1500));
    mlf_map_set(f->xcoms, "prepare", split);
    memset(f->plugin, 0xab, sizeof f->plugin);
    f->in = (mlf_cache_inputs){.dag_id = "sweep", .task_id = "train", .map_index = 3, .operator_name = "python",
                               .operator_version = "1.0.0", .plugin_digest = f->plugin, .params = f->params,
                               .xcom_inputs = f->xcoms};
}

static void key_fixture_free(key_fixture *f)
{
    mlf_value_free(f->params);
    mlf_value_free(f->xcoms);
}

static void key_of(const mlf_cache_inputs *in, uint8_t out[MLF_CACHE_DIGEST_LEN])
{
    ck_assert_int_eq(mlf_cache_key(in, out), MLF_OK);
}

START_TEST(test_key_stable_for_the_same_inputs)
{
    key_fixture a, b;
    key_fixture_init(&a);
    key_fixture_init(&b);
    uint8_t ka[MLF_CACHE_DIGEST_LEN], kb[MLF_CACHE_DIGEST_LEN];
    key_of(&a.in, ka);
    key_of(&b.in, kb);
    ck_assert_mem_eq(ka, kb, sizeof ka);
    /* a map built in another order is the same input */
    mlf_value *p = mlf_value_map();
    mlf_value *env = mlf_value_map();
    mlf_map_set(env, "GROUP", mlf_value_str("size"));
    mlf_map_set(env, "SEED", mlf_value_str("7"));
    mlf_map_set(p, "env", env);
    mlf_map_set(p, "l2", mlf_value_float(10.0));
    mlf_map_set(p, "command", mlf_value_str("python3 train.py"));
    b.in.params = p;
    key_of(&b.in, kb);
    ck_assert_mem_eq(ka, kb, sizeof ka);
    mlf_value_free(p);
    key_fixture_free(&a);
    key_fixture_free(&b);
}
END_TEST

/* Each case changes one input of the fixture; every one must give another key than the fixture's. */
static void change(key_fixture *f, int which)
{
    switch (which) {
    case 0: f->in.operator_version = "1.0.1"; break;
    case 1: f->in.operator_name = "shell"; break;
    case 2: f->plugin[31] ^= 1; break;
    case 3: f->in.plugin_digest = NULL; break;
    case 4: mlf_map_set(f->params, "command", mlf_value_str("python3 train.py ")); break;
    case 5: mlf_map_set(f->params, "l2", mlf_value_float(100.0)); break;
    case 6: mlf_map_set(f->params, "l2", mlf_value_int(10)); break; /* 10 is not 10.0 */
    case 7: mlf_map_set((mlf_value *)mlf_map_get(f->params, "env"), "SEED", mlf_value_str("8")); break;
    case 8: mlf_map_set(f->params, "extra", mlf_value_nil()); break; /* a parameter more */
    case 9: mlf_map_set((mlf_value *)mlf_map_get(f->xcoms, "prepare"), "return_value", mlf_value_int(1501)); break;
    case 10: mlf_map_set(f->xcoms, "split", mlf_value_map()); break; /* one more upstream XCom */
    case 11: f->in.map_index = 4; break;
    case 12: f->in.task_id = "train2"; break;
    case 13: f->in.dag_id = "sweep2"; break;
    default: ck_abort();
    }
}

START_TEST(test_key_changes_with_each_input)
{
    key_fixture base;
    key_fixture_init(&base);
    uint8_t kb[MLF_CACHE_DIGEST_LEN];
    key_of(&base.in, kb);
    for (int which = 0; which <= 13; which++) {
        key_fixture f;
        key_fixture_init(&f);
        change(&f, which);
        uint8_t k[MLF_CACHE_DIGEST_LEN];
        key_of(&f.in, k);
        ck_assert_msg(memcmp(k, kb, sizeof k) != 0, "change %d left the key as it was", which);
        key_fixture_free(&f);
    }
    key_fixture_free(&base);
}
END_TEST

START_TEST(test_key_template_mode)
{
    key_fixture f;
    key_fixture_init(&f);
    uint8_t a[MLF_CACHE_DIGEST_LEN], b[MLF_CACHE_DIGEST_LEN], c[MLF_CACHE_DIGEST_LEN];
    f.in.user_key = "features-v2";
    key_of(&f.in, a);
    /* in key mode only the rendered key (and the ids and map index) count: parameters do not */
    mlf_map_set(f.params, "l2", mlf_value_float(1.0));
    key_of(&f.in, b);
    ck_assert_mem_eq(a, b, sizeof a);
    f.in.user_key = "features-v3";
    key_of(&f.in, c);
    ck_assert(memcmp(a, c, sizeof a) != 0);
    /* and a rendered key is never the auto key of the same inputs */
    f.in.user_key = NULL;
    key_of(&f.in, c);
    ck_assert(memcmp(b, c, sizeof b) != 0);
    key_fixture_free(&f);
}
END_TEST

START_TEST(test_plugin_file_content_changes_the_key)
{
    char *dir = tu_tmpdir("cache-plugin");
    char *path = tu_path(dir, "op.so");
    tu_write_file(path, "\177ELF version one", 0644);
    uint8_t d1[MLF_CACHE_DIGEST_LEN], d2[MLF_CACHE_DIGEST_LEN], k1[MLF_CACHE_DIGEST_LEN], k2[MLF_CACHE_DIGEST_LEN];
    ck_assert_int_eq(mlf_cache_file_digest(path, d1), MLF_OK);
    tu_write_file(path, "\177ELF version twO", 0644);
    ck_assert_int_eq(mlf_cache_file_digest(path, d2), MLF_OK);
    ck_assert(memcmp(d1, d2, sizeof d1) != 0);
    key_fixture f;
    key_fixture_init(&f);
    f.in.plugin_digest = d1;
    key_of(&f.in, k1);
    f.in.plugin_digest = d2;
    key_of(&f.in, k2);
    ck_assert(memcmp(k1, k2, sizeof k1) != 0);
    ck_assert_int_ne(mlf_cache_file_digest("/nonexistent/op.so", d1), MLF_OK);
    key_fixture_free(&f);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------------------------ scheduler */

static char base[64];
static mlf_config *cfg;
static mlf_catalog *cat;
static mlf_dagbag *bag;
static mlf_store *st;
static mlf_scheduler *sched;
static fake_exec fx;
static char run_id[200];

static void setup(void)
{
    mlf_log_set_level(MLF_LOG_ERROR);
    strcpy(base, "/tmp/mlf-test-cache-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    char *dags = mlf_strdup_printf("%s/dags", base), *home = mlf_strdup_printf("%s/home", base);
    ck_assert_int_eq(mkdir(dags, 0755), 0);
    ck_assert_int_eq(mkdir(home, 0755), 0);
    const char *env[] = {"MLFLOWD__EXECUTOR=local", NULL};
    mlf_config_args args = {.home = home, .dags_folder = dags, .envp = env};
    char *errors = NULL;
    ck_assert_msg(mlf_config_load(&args, &cfg, &errors) == MLF_OK, "config: %s", errors ? errors : "?");
    cat = mlf_catalog_new();
    const char *paths[] = {TEST_BUILDDIR "/plugins"};
    const char *names[] = {"shell", "empty"};
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 1, names, 2, &diag), 0);
    mlf_diag_clear(&diag);
    char *state = mlf_strdup_printf("%s/state", home), err[256];
    ck_assert_msg(mlf_store_open(state, MLF_STORE_CREATE, &st, err, sizeof err) == MLF_OK, "store: %s", err);
    bag = mlf_dagbag_new(dags, cat);
    memset(&fx, 0, sizeof fx);
    fx.push_xcoms = 1;
    sched = NULL;
    free(state);
    free(dags);
    free(home);
}

static void teardown(void)
{
    mlf_scheduler_free(sched);
    sched = NULL;
    unsigned long problems = 0;
    ck_assert_int_eq(mlf_store_check(st, NULL, NULL, &problems), MLF_OK);
    ck_assert_uint_eq(problems, 0);
    fake_exec_clear(&fx);
    mlf_dagbag_free(bag);
    mlf_store_close(st);
    mlf_catalog_free(cat);
    mlf_config_free(cfg);
    tu_rm_rf(base);
}

/* Writes DAG "t" (params: @p params, a YAML flow map; tasks: @p tasks) and loads it. */
static const mlf_dag *load_dag(const char *params, const char *tasks)
{
    char *path = mlf_strdup_printf("%s/dags/t.yaml", base);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "dag_id: t\nschedule: null\nstart_date: 2024-01-01\nparams: %s\ntasks:\n%s", params, tasks);
    fclose(f);
    free(path);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, NULL), MLF_OK);
    const mlf_dag *dag = mlf_dagbag_get(bag, "t");
    if (!dag)
        mlf_diag_print(mlf_dagbag_errors(bag), "test: ");
    ck_assert_ptr_nonnull(dag);
    return dag;
}

static void open_scheduler(void)
{
    mlf_scheduler_opts o = {.cfg = cfg, .cat = cat, .bag = bag, .store = st, .exe = TEST_BUILDDIR "/mlflowd",
                            .parallelism = 8};
    char err[256];
    ck_assert_msg(mlf_sc_new_with_executor(&o, fake_executor(&fx), &sched, err, sizeof err) == MLF_OK, "scheduler: %s",
                  err);
}

/* Creates a run of DAG t on day @p day after LOGICAL_DATE (conf: @p conf_json, or NULL) and runs it to its
 * end; its id is left in run_id. */
static void run_day(const mlf_dag *dag, int day, const char *conf_json)
{
    char err[256];
    mlf_value *conf = NULL;
    if (conf_json) {
        mlf_value *params = mlf_value_map();
        mlf_map_set(params, "v", mlf_value_str(conf_json));
        conf = params;
    }
    ck_assert_msg(mlf_scheduler_create_run(sched, dag, MLF_RUN_TYPE_MANUAL, LOGICAL_DATE + day * DAY, NULL, conf,
                                           run_id, sizeof run_id, err, sizeof err) == MLF_OK, "run: %s", err);
    mlf_value_free(conf);
    ck_assert_int_eq(mlf_scheduler_run(sched, NULL, "t", run_id), MLF_OK);
}

/* The state, message and try number of TI @p task_id [@p map_index] of run_id. The message is copied into
 * @p msg (may be NULL). */
static mlf_ti_state ti_of(const char *task_id, int map_index, char *msg, size_t msglen)
{
    mlf_store_txn *txn = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_ti_key key = {.dag_id = "t", .run_id = run_id, .task_id = task_id, .map_index = map_index};
    mlf_ti_rec rec;
    mlf_ti_rec_init(&rec);
    int rc = mlf_store_ti_get(txn, &key, &rec);
    mlf_store_read_end(txn);
    ck_assert_msg(rc == MLF_OK, "no TI record for %s[%d]", task_id, map_index);
    if (msg)
        mlf_strlcpy(msg, rec.message ? rec.message : "", msglen);
    mlf_ti_state s = rec.state;
    mlf_ti_rec_clear(&rec);
    return s;
}

/* The return_value XCom of TI @p task_id [@p map_index] of run_id, as JSON (caller frees), or NULL. */
static char *xcom_json(const char *task_id, int map_index)
{
    mlf_store_txn *txn = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_ti_key key = {.dag_id = "t", .run_id = run_id, .task_id = task_id, .map_index = map_index};
    void *buf = NULL;
    size_t len = 0;
    int rc = mlf_store_xcom_get(txn, &key, "return_value", &buf, &len);
    mlf_store_read_end(txn);
    if (rc != MLF_OK)
        return NULL;
    mlf_value *v = NULL;
    char *json = NULL;
    ck_assert_int_eq(mlf_value_unpack(buf, len, &v), MLF_OK);
    ck_assert_int_eq(mlf_value_to_json(v, &json), MLF_OK);
    mlf_value_free(v);
    free(buf);
    return json;
}

static int count_entry(void *ud, const mlf_cache_rec *rec)
{
    (void)rec;
    ++*(size_t *)ud;
    return 0;
}

/* Cache entries of task @p task_id of DAG t. */
static size_t entries_of(const char *task_id)
{
    mlf_store_txn *txn = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_foreach(txn, "t", task_id, count_entry, &n), MLF_OK);
    mlf_store_read_end(txn);
    return n;
}

/* Fails every try of tasks whose id starts with "bad", and the first try of task "flaky". */
static mlf_outcome bad_fails(void *ud, const char *task_id, int try_number, int *hold)
{
    (void)ud;
    *hold = 0;
    if (strcmp(task_id, "flaky") == 0)
        return try_number == 1 ? MLF_FAILED : MLF_SUCCESS;
    return strncmp(task_id, "bad", 3) == 0 ? MLF_FAILED : MLF_SUCCESS;
}

#define CACHED_TASK                                                                                              \
    "  c:\n    operator: shell\n    cache: auto\n    command: \"echo {{ params.v }}\"\n"                         \
    "  plain:\n    operator: shell\n    command: \"true\"\n"

START_TEST(test_unchanged_rerun_is_a_hit)
{
    const mlf_dag *dag = load_dag("{v: a}", CACHED_TASK);
    open_scheduler();
    run_day(dag, 0, NULL);
    char first[200];
    mlf_strlcpy(first, run_id, sizeof first);
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 1);
    ck_assert_uint_eq(entries_of("c"), 1);
    ck_assert_uint_eq(entries_of("plain"), 0); /* no cache: key, no entry */
    char *want = xcom_json("c", -1);
    ck_assert_ptr_nonnull(want);

    run_day(dag, 1, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 1); /* not run again */
    ck_assert_uint_eq(fake_tries_of(&fx, "plain"), 2);
    char msg[300], note[300];
    ck_assert_int_eq(ti_of("c", -1, msg, sizeof msg), MLF_TI_SUCCESS);
    snprintf(note, sizeof note, "cached from %s", first);
    ck_assert_str_eq(msg, note);
    char *got = xcom_json("c", -1); /* the XComs of the try that computed it, copied */
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(entries_of("c"), 1);
    /* the try's log says why it did not run */
    char *log = mlf_ti_log_path(mlf_config_home(cfg), "t", run_id, "c", -1, 1);
    char *text = tu_read_file(log, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, note));
    free(text);
    free(log);
    free(want);
    free(got);
}
END_TEST

START_TEST(test_changed_param_misses)
{
    const mlf_dag *dag = load_dag("{v: a}", CACHED_TASK);
    open_scheduler();
    run_day(dag, 0, NULL);
    run_day(dag, 1, "b"); /* conf overrides params.v: the rendered command differs */
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 2);
    ck_assert_uint_eq(entries_of("c"), 2);
    run_day(dag, 2, "a"); /* back to the first: a hit on the first entry */
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 2);
}
END_TEST

START_TEST(test_mapped_instances_keyed_separately)
{
    const mlf_dag *dag = load_dag("{xs: [1, 2, 3]}", "  m:\n    operator: shell\n    cache: auto\n"
                                                    "    expand: {command: \"{{ params.xs }}\"}\n");
    open_scheduler();
    run_day(dag, 0, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "m"), 3);
    ck_assert_uint_eq(entries_of("m"), 3);
    run_day(dag, 1, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "m"), 3);
    for (int i = 0; i < 3; i++) {
        char msg[300];
        ck_assert_int_eq(ti_of("m", i, msg, sizeof msg), MLF_TI_SUCCESS);
        ck_assert_msg(strncmp(msg, "cached from ", 12) == 0, "m[%d]: %s", i, msg);
        char *x = xcom_json("m", i), want[64];
        snprintf(want, sizeof want, "\"map_index\":%d", i); /* each instance got its own result back */
        ck_assert_ptr_nonnull(x);
        ck_assert_msg(strstr(x, want), "m[%d]: %s", i, x);
        free(x);
    }
}
END_TEST

START_TEST(test_failed_tries_are_not_cached)
{
    const mlf_dag *dag = load_dag("{v: a}", "  bad:\n    operator: shell\n    cache: auto\n    command: \"false\"\n"
                                            "  flaky:\n    operator: shell\n    cache: auto\n    retries: 1\n"
                                            "    retry_delay: 0\n    command: \"true\"\n");
    fx.policy = bad_fails;
    open_scheduler();
    run_day(dag, 0, NULL);
    ck_assert_int_eq(ti_of("bad", -1, NULL, 0), MLF_TI_FAILED);
    ck_assert_uint_eq(entries_of("bad"), 0);
    run_day(dag, 1, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "bad"), 2); /* ran again: nothing was cached */
    ck_assert_uint_eq(entries_of("bad"), 0);
    /* flaky: its first try failed (not recorded), its retry succeeded (recorded), day 1 reused that */
    ck_assert_uint_eq(fake_tries_of(&fx, "flaky"), 2);
    ck_assert_uint_eq(entries_of("flaky"), 1);
    char msg[300];
    ck_assert_int_eq(ti_of("flaky", -1, msg, sizeof msg), MLF_TI_SUCCESS);
    ck_assert_msg(strncmp(msg, "cached from ", 12) == 0, "flaky: %s", msg);
    char *x = xcom_json("flaky", -1);
    ck_assert_ptr_nonnull(x);
    ck_assert_msg(strstr(x, "\"try\":2"), "the retry's XCom: %s", x);
    free(x);
}
END_TEST

static int expire_entry(void *ud, const mlf_cache_rec *rec)
{
    mlf_store_txn *w = ud;
    mlf_cache_rec copy = *rec;
    copy.expires_at = mlf_time_now() - 1;
    return mlf_store_cache_put(w, &copy);
}

START_TEST(test_ttl_expiry)
{
    const mlf_dag *dag = load_dag("{v: a}", "  c:\n    operator: shell\n    cache: {key: \"k-{{ params.v }}\", ttl: 1h}\n"
                                            "    command: \"true\"\n");
    open_scheduler();
    run_day(dag, 0, NULL);
    /* the entry lives an hour */
    mlf_store_txn *txn = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_cache_rec e;
    uint8_t digest[MLF_CACHE_DIGEST_LEN];
    mlf_cache_inputs in = {.dag_id = "t", .task_id = "c", .map_index = -1, .user_key = "k-a"};
    ck_assert_int_eq(mlf_cache_key(&in, digest), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_get(txn, "t", "c", digest, &e), MLF_OK);
    mlf_store_read_end(txn);
    ck_assert_int_eq(e.expires_at - e.created_at, INT64_C(3600000000));
    ck_assert(mlf_cache_rec_live(&e, e.created_at + INT64_C(3599000000)));
    ck_assert(!mlf_cache_rec_live(&e, e.expires_at));
    mlf_cache_rec_clear(&e);
    run_day(dag, 1, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 1);
    /* expired: the next try runs and records a fresh entry */
    mlf_store_txn *w = NULL;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_foreach(w, "t", "c", expire_entry, w), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    run_day(dag, 2, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 2);
    char msg[300];
    ti_of("c", -1, msg, sizeof msg);
    ck_assert_ptr_null(strstr(msg, "cached from"));
    run_day(dag, 3, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 2); /* the fresh entry serves */
    ck_assert_uint_eq(entries_of("c"), 1);
}
END_TEST

START_TEST(test_no_cache_mark_runs_the_try)
{
    const mlf_dag *dag = load_dag("{v: a}", CACHED_TASK);
    open_scheduler();
    run_day(dag, 0, NULL);
    /* the next run's TI marked as `tasks clear --no-cache` marks it, before its first dispatch */
    char err[256];
    ck_assert_int_eq(mlf_scheduler_create_run(sched, dag, MLF_RUN_TYPE_MANUAL, LOGICAL_DATE + DAY, NULL, NULL, run_id,
                                              sizeof run_id, err, sizeof err), MLF_OK);
    mlf_store_txn *w = mlf_sc_wtxn(sched); /* the scheduler's open batch: one transaction per thread */
    ck_assert_ptr_nonnull(w);
    mlf_ti_key key = {.dag_id = "t", .run_id = run_id, .task_id = "c", .map_index = -1};
    ck_assert_int_eq(mlf_store_cache_mark_put(w, &key), MLF_OK);
    ck_assert_int_eq(mlf_sc_commit(sched), MLF_OK);
    ck_assert_int_eq(mlf_scheduler_run(sched, NULL, "t", run_id), MLF_OK);
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 2);
    /* the mark is consumed */
    mlf_store_txn *txn = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_mark_get(txn, &key), MLF_ENOTFOUND);
    mlf_store_read_end(txn);
    run_day(dag, 2, NULL);
    ck_assert_uint_eq(fake_tries_of(&fx, "c"), 2); /* and the cache serves again */
}
END_TEST

/* Holds every try of tasks whose id starts with "hold" (lost when the scheduler stops). */
static mlf_outcome hold_all(void *ud, const char *task_id, int try_number, int *hold)
{
    (void)ud;
    (void)try_number;
    *hold = strncmp(task_id, "hold", 4) == 0;
    return MLF_SUCCESS;
}

/* A mapped task's instances resumed by a new scheduler (zombies retried) get their mapped parameters back,
 * rendered again from the run: the same key as before the restart, and the right element each. */
START_TEST(test_resumed_mapped_instances_keep_their_values)
{
    const mlf_dag *dag = load_dag("{xs: [\"echo a\", \"echo b\"]}",
                                  "  hold:\n    operator: shell\n    cache: auto\n    retries: 1\n    retry_delay: 0s\n"
                                  "    expand: {command: \"{{ params.xs }}\"}\n");
    fx.policy = hold_all;
    open_scheduler();
    char err[256];
    ck_assert_int_eq(mlf_scheduler_create_run(sched, dag, MLF_RUN_TYPE_MANUAL, LOGICAL_DATE, NULL, NULL, run_id,
                                              sizeof run_id, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_scheduler_run(sched, NULL, "no-such-dag", NULL), MLF_OK);
    ck_assert_uint_eq(fake_tries_of(&fx, "hold"), 2);
    mlf_scheduler_free(sched);
    sched = NULL;
    fake_exec_clear(&fx);
    memset(&fx, 0, sizeof fx);
    open_scheduler();
    ck_assert_int_eq(mlf_scheduler_recover(sched), MLF_OK);
    ck_assert_int_eq(mlf_scheduler_run(sched, NULL, "t", run_id), MLF_OK);
    ck_assert_uint_eq(fake_tries_of(&fx, "hold"), 2);
    for (size_t k = 0; k < 2; k++) {
        const fake_try *t = &fx.tries[fake_find(&fx, "hold", k)];
        ck_assert_int_eq(t->try_number, 2);
        const char *cmd = mlf_value_get_str(mlf_map_get(t->params, "command"), NULL);
        ck_assert_msg(cmd && strcmp(cmd, t->map_index == 0 ? "echo a" : "echo b") == 0, "hold[%d]: command %s",
                      t->map_index, cmd ? cmd : "(none)");
        char msg[64];
        ck_assert_int_eq(ti_of("hold", t->map_index, msg, sizeof msg), MLF_TI_SUCCESS);
    }
    ck_assert_uint_eq(entries_of("hold"), 2);
}
END_TEST

START_TEST(test_store_entries_and_marks)
{
    mlf_cache_rec r;
    mlf_cache_rec_init(&r);
    r.dag_id = "d";
    r.task_id = "x";
    memset(r.digest, 7, sizeof r.digest);
    r.run_id = "run1";
    r.map_index = 2;
    r.created_at = 100;
    uint8_t xc[] = {0x81, 0xa1, 'k', 0x01}; /* {"k": 1} */
    r.xcoms = xc;
    r.xcoms_len = sizeof xc;
    mlf_store_txn *w = NULL;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_put(w, &r), MLF_OK);
    uint8_t notmap[] = {0x01};
    r.xcoms = notmap;
    r.xcoms_len = 1;
    ck_assert_int_eq(mlf_store_cache_put(w, &r), MLF_EPARSE);
    r.xcoms = xc;
    r.xcoms_len = sizeof xc;
    r.task_id = "y";
    ck_assert_int_eq(mlf_store_cache_put(w, &r), MLF_OK);
    r.dag_id = "d2";
    ck_assert_int_eq(mlf_store_cache_put(w, &r), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    mlf_store_txn *txn = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_cache_rec got;
    ck_assert_int_eq(mlf_store_cache_get(txn, "d", "x", r.digest, &got), MLF_OK);
    ck_assert_str_eq(got.run_id, "run1");
    ck_assert_int_eq(got.map_index, 2);
    ck_assert_int_eq(got.created_at, 100);
    ck_assert_int_eq(got.expires_at, MLF_TIME_NONE);
    ck_assert(mlf_cache_rec_live(&got, INT64_MAX - 1));
    ck_assert_uint_eq(got.xcoms_len, sizeof xc);
    ck_assert_mem_eq(got.xcoms, xc, sizeof xc);
    mlf_cache_rec_clear(&got);
    uint8_t other[MLF_CACHE_DIGEST_LEN];
    memset(other, 8, sizeof other);
    ck_assert_int_eq(mlf_store_cache_get(txn, "d", "x", other, &got), MLF_ENOTFOUND);
    size_t n = 0;
    ck_assert_int_eq(mlf_store_cache_foreach(txn, "d", NULL, count_entry, &n), MLF_OK);
    ck_assert_uint_eq(n, 2);
    n = 0;
    ck_assert_int_eq(mlf_store_cache_foreach(txn, "d", "y", count_entry, &n), MLF_OK);
    ck_assert_uint_eq(n, 1);
    n = 0;
    ck_assert_int_eq(mlf_store_cache_foreach(txn, NULL, NULL, count_entry, &n), MLF_OK);
    ck_assert_uint_eq(n, 3);
    mlf_ti_key ti = {.dag_id = "d", .run_id = "r", .task_id = "x", .map_index = -1};
    ck_assert_int_eq(mlf_store_cache_mark_get(txn, &ti), MLF_ENOTFOUND);
    mlf_store_read_end(txn);
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_mark_put(w, &ti), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_mark_get(w, &ti), MLF_OK);
    n = 0; /* marks are not entries */
    ck_assert_int_eq(mlf_store_cache_foreach(w, NULL, NULL, count_entry, &n), MLF_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(mlf_store_cache_mark_delete(w, &ti), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_delete(w, "d", "x", r.digest), MLF_OK);
    ck_assert_int_eq(mlf_store_cache_delete(w, "d", "x", r.digest), MLF_ENOTFOUND);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
}
END_TEST

START_TEST(test_parser_rejects_bad_cache_keys)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"    cache: always\n", "cache: expected auto, false, or a mapping"},
        {"    cache: true\n", "got true"},
        {"    cache: {ttl: 1d}\n", "'key' is missing"},
        {"    cache: {key: auto, tll: 1d}\n", "unknown key 'tll' (did you mean 'ttl'?)"},
        {"    cache: {key: auto, ttl: 0}\n", "cache.ttl: must be longer than 0"},
        {"    cache: {key: \"{{ nope }}\"}\n", "unknown variable 'nope'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = mlf_strdup_printf("%s/dags/t.yaml", base);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "dag_id: t\nschedule: null\ntasks:\n  a:\n    operator: shell\n    command: \"true\"\n%s",
                cases[i].yaml);
        fclose(f);
        free(path);
        mlf_dagbag_refresh(bag, NULL);
        ck_assert_ptr_null(mlf_dagbag_get(bag, "t"));
        mlf_buf b = {0};
        const mlf_diag *d = mlf_dagbag_errors(bag);
        for (size_t k = 0; k < d->n; k++)
            mlf_buf_printf(&b, "%s\n", d->v[k].message);
        ck_assert_msg(b.data && strstr(b.data, cases[i].want), "case %zu: want '%s' in: %s", i, cases[i].want,
                      b.data ? b.data : "(nothing)");
        mlf_buf_free(&b);
    }
    /* false turns a default_args cache off for one task; default_args applies it to the others */
    char *path = mlf_strdup_printf("%s/dags/t.yaml", base);
    tu_write_file(path, "dag_id: t\nschedule: null\ndefault_args: {cache: {key: auto, ttl: 7d}}\ntasks:\n"
                        "  a:\n    operator: shell\n    command: \"true\"\n"
                        "  b:\n    operator: shell\n    command: \"true\"\n    cache: false\n", 0644);
    free(path);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, NULL), MLF_OK);
    const mlf_dag *dag = mlf_dagbag_get(bag, "t");
    ck_assert_ptr_nonnull(dag);
    ck_assert_int_eq(dag->tasks[mlf_dag_task_index(dag, "a")].cache_mode, MLF_CACHE_AUTO);
    ck_assert_int_eq(dag->tasks[mlf_dag_task_index(dag, "a")].cache_ttl_us, 7 * DAY);
    ck_assert_int_eq(dag->tasks[mlf_dag_task_index(dag, "b")].cache_mode, MLF_CACHE_NONE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cache");
    TCase *keys = tcase_create("keys");
    tcase_add_test(keys, test_key_stable_for_the_same_inputs);
    tcase_add_test(keys, test_key_changes_with_each_input);
    tcase_add_test(keys, test_key_template_mode);
    tcase_add_test(keys, test_plugin_file_content_changes_the_key);
    suite_add_tcase(s, keys);
    TCase *sc = tcase_create("scheduler");
    tcase_add_checked_fixture(sc, setup, teardown);
    tcase_set_timeout(sc, tu_bound_ms(30000) / 1000.0);
    tcase_add_test(sc, test_unchanged_rerun_is_a_hit);
    tcase_add_test(sc, test_changed_param_misses);
    tcase_add_test(sc, test_mapped_instances_keyed_separately);
    tcase_add_test(sc, test_failed_tries_are_not_cached);
    tcase_add_test(sc, test_ttl_expiry);
    tcase_add_test(sc, test_no_cache_mark_runs_the_try);
    tcase_add_test(sc, test_resumed_mapped_instances_keep_their_values);
    tcase_add_test(sc, test_store_entries_and_marks);
    tcase_add_test(sc, test_parser_rejects_bad_cache_keys);
    suite_add_tcase(s, sc);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
