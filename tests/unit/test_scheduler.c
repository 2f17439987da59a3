/* Unit tests for the scheduler loop (core/sched/), driven in-process against a fake executor
 * (fake_executor.h): dispatch order and limits, results and trigger rules, retries with delay and
 * exponential backoff (and its cap), recovery after a restart, operators that need no try (empty). A real
 * DAG bag, catalog (the build tree's shell and empty plugins, the test plugin "good" for its notifier) and
 * state store in a temporary folder; nothing is executed. */
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
#include "sched/sched_internal.h"
#include "testutil.h"

#define LOGICAL_DATE INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */

/* ------------------------------------------------------------------------------------------ fixture */

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
    strcpy(base, "/tmp/mlf-test-sched-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    char *dags = mlf_strdup_printf("%s/dags", base), *home = mlf_strdup_printf("%s/home", base);
    ck_assert_int_eq(mkdir(dags, 0755), 0);
    ck_assert_int_eq(mkdir(home, 0755), 0);
    const char *env[] = {"MLFLOWD__EXECUTOR=local", NULL};
    mlf_config_args args = {.home = home, .dags_folder = dags, .envp = env};
    char *errors = NULL;
    ck_assert_msg(mlf_config_load(&args, &cfg, &errors) == MLF_OK, "config: %s", errors ? errors : "?");
    cat = mlf_catalog_new();
    const char *paths[] = {TEST_BUILDDIR "/plugins", TEST_BUILDDIR "/tests/plugins"};
    const char *names[] = {"shell", "empty", "good"}; /* good: the "record" notifier */
    mlf_diag diag = {0};
    ck_assert_int_eq(mlf_plugins_load(cat, paths, 2, names, 3, &diag), 0);
    mlf_diag_clear(&diag);
    char *state = mlf_strdup_printf("%s/state", home), err[256];
    ck_assert_msg(mlf_store_open(state, MLF_STORE_CREATE, &st, err, sizeof err) == MLF_OK, "store: %s", err);
    bag = mlf_dagbag_new(dags, cat);
    memset(&fx, 0, sizeof fx);
    sched = NULL;
    free(state);
    free(dags);
    free(home);
}

static void report_problem(void *ud, const char *table, const char *key, const char *problem)
{
    (void)ud;
    fprintf(stderr, "store check: %s %s: %s\n", table, key, problem);
}

static void teardown(void)
{
    mlf_scheduler_free(sched);
    sched = NULL;
    /* however the test went, the records the scheduler wrote are consistent (the TI state index too) */
    unsigned long problems = 0;
    ck_assert_int_eq(mlf_store_check(st, report_problem, NULL, &problems), MLF_OK);
    ck_assert_uint_eq(problems, 0);
    fake_exec_clear(&fx);
    mlf_dagbag_free(bag);
    mlf_store_close(st);
    mlf_catalog_free(cat);
    mlf_config_free(cfg);
    tu_rm_rf(base);
}

/* Writes DAG "t" (its tasks: @p tasks, YAML lines under `tasks:`) and loads it. */
static const mlf_dag *load_dag(const char *tasks)
{
    char *path = mlf_strdup_printf("%s/dags/t.yaml", base);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "dag_id: t\nschedule: null\nstart_date: 2024-01-01\ntasks:\n%s", tasks);
    fclose(f);
    free(path);
    ck_assert_int_eq(mlf_dagbag_refresh(bag, NULL), MLF_OK);
    const mlf_dag *dag = mlf_dagbag_get(bag, "t");
    if (!dag)
        mlf_diag_print(mlf_dagbag_errors(bag), "test: ");
    ck_assert_ptr_nonnull(dag);
    return dag;
}

/* A scheduler over the fake executor (parallelism @p par). */
static void open_scheduler(int par)
{
    mlf_scheduler_opts o = {.cfg = cfg, .cat = cat, .bag = bag, .store = st, .exe = TEST_BUILDDIR "/mlflowd",
                            .parallelism = par};
    char err[256];
    ck_assert_msg(mlf_sc_new_with_executor(&o, fake_executor(&fx), &sched, err, sizeof err) == MLF_OK, "scheduler: %s",
                  err);
}

static void create_run(const mlf_dag *dag)
{
    char err[256];
    ck_assert_msg(mlf_scheduler_create_run(sched, dag, MLF_RUN_TYPE_MANUAL, LOGICAL_DATE, NULL, NULL, run_id,
                                           sizeof run_id, err, sizeof err) == MLF_OK, "run: %s", err);
}

/* Turns the loop until nothing is in flight (held tries do not count). */
static void step(void)
{
    ck_assert_int_eq(mlf_scheduler_run(sched, NULL, "no-such-dag", NULL), MLF_OK);
}

/* Turns the loop until the run has finished. */
static void finish(void)
{
    ck_assert_int_eq(mlf_scheduler_run(sched, NULL, "t", run_id), MLF_OK);
}

static mlf_ti_state ti_state(const char *task_id, mlf_ti_rec *out)
{
    mlf_store_txn *txn = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_ti_key key = {.dag_id = "t", .run_id = run_id, .task_id = task_id, .map_index = -1};
    mlf_ti_rec rec;
    mlf_ti_rec_init(&rec);
    int rc = mlf_store_ti_get(txn, &key, &rec);
    mlf_store_read_end(txn);
    ck_assert_msg(rc == MLF_OK, "no TI record for %s", task_id);
    mlf_ti_state s = rec.state;
    if (out)
        *out = rec;
    else
        mlf_ti_rec_clear(&rec);
    return s;
}

/* Turns the loop until @p task_id is up for retry after try @p try_number (waiting for each retry's
 * timer), at most 10 s. */
static void step_until_retry(const char *task_id, int try_number)
{
    for (int i = 0; i < 1000; i++) {
        step();
        mlf_ti_rec rec;
        mlf_ti_state s = ti_state(task_id, &rec);
        mlf_time_us wake = rec.wake_at, now = mlf_time_now();
        int tries = rec.try_number;
        mlf_ti_rec_clear(&rec);
        if (s == MLF_TI_UP_FOR_RETRY && tries == try_number)
            return;
        ck_assert_msg(s == MLF_TI_UP_FOR_RETRY && tries < try_number, "%s: state %s after try %d", task_id,
                      mlf_ti_state_name(s), tries);
        if (wake > now)
            usleep((useconds_t)(wake - now));
    }
    ck_abort_msg("%s never reached try %d", task_id, try_number);
}

static mlf_run_state run_state(void)
{
    mlf_store_txn *txn = NULL;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_run_rec rec;
    mlf_run_rec_init(&rec);
    ck_assert_int_eq(mlf_store_run_get(txn, "t", run_id, &rec), MLF_OK);
    mlf_store_read_end(txn);
    mlf_run_state s = rec.state;
    mlf_run_rec_clear(&rec);
    return s;
}

#define SHELL "    operator: shell\n    command: \"true\"\n"

/* ------------------------------------------------------------------------------------------ policies */

/* Fails every try of tasks whose id starts with "bad"; holds every try of tasks starting with "hold". */
static mlf_outcome by_name(void *ud, const char *task_id, int try_number, int *hold)
{
    (void)ud;
    (void)try_number;
    *hold = strncmp(task_id, "hold", 4) == 0;
    return strncmp(task_id, "bad", 3) == 0 ? MLF_FAILED : MLF_SUCCESS;
}

/* Fails the first *(int *)ud tries of task "a", then succeeds; other tasks succeed. */
static mlf_outcome fail_first(void *ud, const char *task_id, int try_number, int *hold)
{
    *hold = 0;
    return strcmp(task_id, "a") == 0 && try_number <= *(int *)ud ? MLF_FAILED : MLF_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ dispatch, results */

START_TEST(test_dispatch_follows_the_graph)
{
    const mlf_dag *dag = load_dag("  a:\n" SHELL "  b:\n" SHELL "    upstream: [a]\n  c:\n" SHELL
                                  "    upstream: [a]\n  d:\n" SHELL "    upstream: [b, c]\n");
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_uint_eq(fx.ntries, 4);
    ck_assert_str_eq(fx.tries[0].task_id, "a");
    ck_assert_str_eq(fx.tries[3].task_id, "d");
    for (size_t i = 0; i < fx.ntries; i++)
        ck_assert_int_eq(fx.tries[i].try_number, 1);
    /* b and c went out in the same turn, after a's result */
    ck_assert(fx.tries[1].submitted >= fx.tries[0].submitted);
    const char *ids[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++) {
        mlf_ti_rec rec;
        ck_assert_int_eq(ti_state(ids[i], &rec), MLF_TI_SUCCESS);
        ck_assert_int_eq(rec.try_number, 1);
        ck_assert_str_eq(rec.hostname, "fake");
        mlf_ti_rec_clear(&rec);
    }
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS);
    ck_assert_uint_eq(fx.ntries, 4); /* nothing ran twice */
}
END_TEST

START_TEST(test_dispatch_by_priority_within_slots)
{
    /* independent tasks: each one's weight is its own; the fake takes one try at a time */
    const mlf_dag *dag = load_dag("  low:\n" SHELL "    priority_weight: 1\n  high:\n" SHELL
                                  "    priority_weight: 9\n  mid:\n" SHELL "    priority_weight: 5\n");
    fx.slots = 1;
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_uint_eq(fx.ntries, 3);
    ck_assert_str_eq(fx.tries[0].task_id, "high");
    ck_assert_str_eq(fx.tries[1].task_id, "mid");
    ck_assert_str_eq(fx.tries[2].task_id, "low");
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS);
}
END_TEST

START_TEST(test_failure_propagates_by_trigger_rule)
{
    const mlf_dag *dag = load_dag("  bad:\n" SHELL "  after:\n" SHELL "    upstream: [bad]\n  cleanup:\n" SHELL
                                  "    upstream: [bad]\n    trigger_rule: all_done\n");
    fx.policy = by_name;
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_int_eq(ti_state("bad", NULL), MLF_TI_FAILED);
    ck_assert_int_eq(ti_state("after", NULL), MLF_TI_UPSTREAM_FAILED);
    ck_assert_int_eq(ti_state("cleanup", NULL), MLF_TI_SUCCESS);
    ck_assert_uint_eq(fake_tries_of(&fx, "after"), 0);
    ck_assert_uint_eq(fake_tries_of(&fx, "cleanup"), 1);
    ck_assert_int_eq(run_state(), MLF_RUN_FAILED); /* a leaf failed upstream */
}
END_TEST

START_TEST(test_templated_params_rendered_at_dispatch)
{
    const mlf_dag *dag = load_dag("  a:\n    operator: shell\n    command: \"echo {{ ds }} {{ task_id }} "
                                  "{{ try_number }}\"\n  b:\n" SHELL);
    /* compiled once, when the DAG loaded; a parameter without template syntax has nothing to compile */
    ck_assert(dag->tasks[0].templates_ready && dag->tasks[1].templates_ready);
    ck_assert_uint_eq(dag->tasks[0].ntemplates, 1);
    ck_assert_str_eq(dag->tasks[0].templates[0].param, "command");
    ck_assert_ptr_nonnull(dag->tasks[0].templates[0].tmpl);
    ck_assert_uint_eq(dag->tasks[1].ntemplates, 0);
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_uint_eq(fx.ntries, 2);
    long a = fake_find(&fx, "a", 0), b = fake_find(&fx, "b", 0);
    const char *cmd = mlf_value_get_str(mlf_map_get(fx.tries[a].params, "command"), NULL);
    ck_assert_ptr_nonnull(cmd);
    ck_assert_str_eq(cmd, "echo 2024-01-01 a 1");
    cmd = mlf_value_get_str(mlf_map_get(fx.tries[b].params, "command"), NULL);
    ck_assert_str_eq(cmd, "true");
}
END_TEST

START_TEST(test_leases_for_a_new_run)
{
    /* a remote executor persists a lease while submitting, in the turn the run was created: the TI's
     * record must already be in the batch (the lease refers to it) */
    const mlf_dag *dag = load_dag("  a:\n" SHELL "  b:\n" SHELL "    upstream: [a]\n");
    fx.leases = 1;
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_int_eq(fx.lease_rc, MLF_OK);
    ck_assert_uint_eq(fx.ntries, 2);
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS); /* teardown's check: no lease outlives its try */
}
END_TEST

START_TEST(test_wait_asks_once_per_queue_and_operator)
{
    /* the executor says WAIT (nothing serves the queue now): every TI of that queue and operator waits with
     * the reason, and the executor is asked once per turn, not once per TI */
    const mlf_dag *dag = load_dag("  a:\n" SHELL "  b:\n" SHELL "  c:\n" SHELL "  d:\n" SHELL);
    fx.wait_all = 1;
    open_scheduler(8);
    create_run(dag);
    step();
    ck_assert_uint_eq(fx.accept_calls, 1);
    ck_assert_uint_eq(fx.ntries, 0);
    const char *ids[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++) {
        mlf_ti_rec rec;
        ck_assert_int_eq(ti_state(ids[i], &rec), MLF_TI_SCHEDULED);
        ck_assert_str_eq(rec.message, "nobody serves it");
        mlf_ti_rec_clear(&rec);
    }
    fx.wait_all = 0; /* a worker arrives */
    finish();
    ck_assert_uint_eq(fx.ntries, 4);
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS);
}
END_TEST

/* ------------------------------------------------------------------------------------------ retries */

START_TEST(test_retry_after_delay)
{
    const mlf_dag *dag = load_dag("  a:\n" SHELL "    retries: 2\n    retry_delay: 50ms\n  b:\n" SHELL
                                  "    upstream: [a]\n");
    int failures = 2;
    fx.policy = fail_first;
    fx.ud = &failures;
    open_scheduler(8);
    create_run(dag);
    /* the first failure: up_for_retry, to wake retry_delay after it ended */
    step();
    mlf_ti_rec rec;
    ck_assert_int_eq(ti_state("a", &rec), MLF_TI_UP_FOR_RETRY);
    ck_assert_int_eq(rec.try_number, 1);
    ck_assert_int_ge(rec.wake_at - rec.end_date, 50000);
    ck_assert_int_lt(rec.wake_at - rec.end_date, 50000 + 60 * 1000000LL);
    mlf_ti_rec_clear(&rec);
    ck_assert_int_eq(ti_state("b", NULL), MLF_TI_NONE);
    finish();
    ck_assert_uint_eq(fake_tries_of(&fx, "a"), 3);
    for (size_t k = 1; k < 3; k++) {
        const fake_try *prev = &fx.tries[fake_find(&fx, "a", k - 1)], *next = &fx.tries[fake_find(&fx, "a", k)];
        ck_assert_int_eq(next->try_number, (int)k + 1);
        ck_assert_int_ge(next->submitted - prev->submitted, 50000); /* never before the delay */
    }
    ck_assert_int_eq(ti_state("a", &rec), MLF_TI_SUCCESS);
    ck_assert_int_eq(rec.try_number, 3);
    mlf_ti_rec_clear(&rec);
    ck_assert_int_eq(ti_state("b", NULL), MLF_TI_SUCCESS);
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS);
}
END_TEST

START_TEST(test_retries_exhausted_fail)
{
    const mlf_dag *dag = load_dag("  bad:\n" SHELL "    retries: 1\n    retry_delay: 0s\n");
    fx.policy = by_name;
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_uint_eq(fake_tries_of(&fx, "bad"), 2);
    mlf_ti_rec rec;
    ck_assert_int_eq(ti_state("bad", &rec), MLF_TI_FAILED);
    ck_assert_int_eq(rec.try_number, 2);
    mlf_ti_rec_clear(&rec);
    ck_assert_int_eq(run_state(), MLF_RUN_FAILED);
}
END_TEST

START_TEST(test_backoff_doubles_and_is_capped)
{
    mlf_task t = {.retry_delay_us = 10 * 1000000LL, .retry_exponential_backoff = 1};
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 1), 10 * 1000000LL);
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 2), 20 * 1000000LL);
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 3), 40 * 1000000LL);
    /* no max_retry_delay: Airflow's 24 h cap, also where doubling would overflow */
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 40), MAX_RETRY_DELAY_US);
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 1000000), MAX_RETRY_DELAY_US);
    t.max_retry_delay_us = 30 * 1000000LL;
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 2), 20 * 1000000LL);
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 3), 30 * 1000000LL);
    /* without backoff the delay is constant, still under the cap */
    t.retry_exponential_backoff = 0;
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 5), 10 * 1000000LL);
    t.retry_delay_us = 60 * 1000000LL;
    ck_assert_int_eq(mlf_sc_retry_delay(&t, 1), 30 * 1000000LL);
}
END_TEST

START_TEST(test_backoff_in_the_loop)
{
    /* delays 20, 40, then the 60 ms cap: each retry waits at least that long after the previous try */
    const mlf_dag *dag = load_dag("  bad:\n" SHELL "    retries: 3\n    retry_delay: 20ms\n"
                                  "    retry_exponential_backoff: true\n    max_retry_delay: 60ms\n");
    fx.policy = by_name;
    open_scheduler(8);
    create_run(dag);
    step_until_retry("bad", 2); /* the second failure: its wake is 40 ms after it ended */
    mlf_ti_rec rec;
    ck_assert_int_eq(ti_state("bad", &rec), MLF_TI_UP_FOR_RETRY);
    ck_assert_int_eq(rec.try_number, 2);
    ck_assert_int_ge(rec.wake_at - rec.end_date, 40000);
    mlf_ti_rec_clear(&rec);
    step_until_retry("bad", 3);
    ck_assert_int_eq(ti_state("bad", &rec), MLF_TI_UP_FOR_RETRY);
    ck_assert_int_eq(rec.try_number, 3);
    ck_assert_int_ge(rec.wake_at - rec.end_date, 60000);
    mlf_ti_rec_clear(&rec);
    finish();
    ck_assert_uint_eq(fake_tries_of(&fx, "bad"), 4);
    static const int64_t min_gap[] = {20000, 40000, 60000};
    for (size_t k = 1; k < 4; k++)
        ck_assert_int_ge(fx.tries[k].submitted - fx.tries[k - 1].submitted, min_gap[k - 1]);
    ck_assert_int_eq(run_state(), MLF_RUN_FAILED);
}
END_TEST

/* ------------------------------------------------------------------------------------------ recovery */

/* The scheduler stops while "hold" runs (its try is lost with the process); a new one recovers the run. */
static void stop_while_running(const mlf_dag *dag)
{
    fx.policy = by_name;
    open_scheduler(8);
    create_run(dag);
    step();
    ck_assert_int_eq(ti_state("hold", NULL), MLF_TI_RUNNING);
    if (fx.slots)
        ck_assert_int_eq(ti_state("waiting", NULL), MLF_TI_SCHEDULED);
    mlf_scheduler_free(sched);
    sched = NULL;
    ck_assert(fx.freed && fx.shut_down);
    ck_assert_int_eq(ti_state("hold", NULL), MLF_TI_RUNNING); /* as a crash would leave it */
    fake_exec_clear(&fx);
    memset(&fx, 0, sizeof fx); /* the new scheduler's executor: every try succeeds */
    open_scheduler(8);
    ck_assert_int_eq(mlf_scheduler_recover(sched), MLF_OK);
}

START_TEST(test_recover_retries_a_zombie)
{
    const mlf_dag *dag = load_dag("  done:\n" SHELL "  hold:\n" SHELL "    retries: 1\n    retry_delay: 0s\n"
                                  "  after:\n" SHELL "    upstream: [hold, done]\n");
    stop_while_running(dag);
    mlf_ti_rec rec;
    ck_assert_int_eq(ti_state("hold", &rec), MLF_TI_UP_FOR_RETRY);
    ck_assert_ptr_nonnull(strstr(rec.message, "zombie"));
    mlf_ti_rec_clear(&rec);
    finish();
    ck_assert_uint_eq(fake_tries_of(&fx, "done"), 0); /* finished before the restart: not run again */
    ck_assert_uint_eq(fake_tries_of(&fx, "hold"), 1);
    ck_assert_int_eq(fx.tries[fake_find(&fx, "hold", 0)].try_number, 2);
    ck_assert_int_eq(ti_state("hold", NULL), MLF_TI_SUCCESS);
    ck_assert_int_eq(ti_state("after", NULL), MLF_TI_SUCCESS);
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS);
}
END_TEST

START_TEST(test_recover_fails_a_zombie_without_tries)
{
    const mlf_dag *dag = load_dag("  hold:\n" SHELL "  after:\n" SHELL "    upstream: [hold]\n");
    stop_while_running(dag);
    finish();
    mlf_ti_rec rec;
    ck_assert_int_eq(ti_state("hold", &rec), MLF_TI_FAILED);
    ck_assert_ptr_nonnull(strstr(rec.message, "zombie"));
    mlf_ti_rec_clear(&rec);
    ck_assert_int_eq(ti_state("after", NULL), MLF_TI_UPSTREAM_FAILED);
    ck_assert_uint_eq(fx.ntries, 0);
    ck_assert_int_eq(run_state(), MLF_RUN_FAILED);
}
END_TEST

START_TEST(test_recover_resumes_scheduled_work)
{
    /* one slot: "hold" takes it, "waiting" stays scheduled until the stop; the new scheduler runs it */
    const mlf_dag *dag = load_dag("  hold:\n" SHELL "    priority_weight: 10\n  waiting:\n" SHELL
                                  "    priority_weight: 1\n");
    fx.slots = 1;
    stop_while_running(dag);
    finish();
    ck_assert_uint_eq(fake_tries_of(&fx, "waiting"), 1);
    ck_assert_int_eq(fx.tries[fake_find(&fx, "waiting", 0)].try_number, 1);
    ck_assert_int_eq(ti_state("waiting", NULL), MLF_TI_SUCCESS);
    ck_assert_int_eq(ti_state("hold", NULL), MLF_TI_FAILED);
}
END_TEST

/* ------------------------------------------------------------------------------------------ no try */

START_TEST(test_empty_finishes_without_dispatch)
{
    /* a chain of empties between shell tasks, and an empty join */
    const mlf_dag *dag = load_dag("  first:\n" SHELL "  e1:\n    operator: empty\n    upstream: [first]\n"
                                  "  e2:\n    operator: empty\n    upstream: [e1]\n  last:\n" SHELL
                                  "    upstream: [e2]\n  join:\n    operator: empty\n    upstream: [last]\n");
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_uint_eq(fx.ntries, 2);
    ck_assert_str_eq(fx.tries[0].task_id, "first");
    ck_assert_str_eq(fx.tries[1].task_id, "last");
    const char *empties[] = {"e1", "e2", "join"};
    for (size_t i = 0; i < 3; i++) {
        mlf_ti_rec rec;
        ck_assert_int_eq(ti_state(empties[i], &rec), MLF_TI_SUCCESS);
        ck_assert_int_eq(rec.try_number, 1);
        ck_assert_int_ge(rec.end_date, rec.start_date);
        ck_assert_int_gt(rec.start_date, 0);
        ck_assert_ptr_null(rec.hostname); /* no process ran it */
        mlf_ti_rec_clear(&rec);
    }
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS);
}
END_TEST

START_TEST(test_empty_only_dag_runs_in_one_turn)
{
    /* nothing reaches the executor: one turn decides the whole run */
    const mlf_dag *dag = load_dag("  a:\n    operator: empty\n  b:\n    operator: empty\n    upstream: [a]\n"
                                  "  c:\n    operator: empty\n    upstream: [b]\n");
    open_scheduler(8);
    create_run(dag);
    step();
    ck_assert_int_eq(run_state(), MLF_RUN_SUCCESS);
    ck_assert_uint_eq(fx.ntries, 0);
}
END_TEST

START_TEST(test_empty_with_success_callback_runs_a_try)
{
    char *ev = mlf_strdup_printf("%s/events", base);
    char *tasks = mlf_strdup_printf("  e:\n    operator: empty\n    on_success_callback: {notifier: record, path: %s}\n"
                                    "  plain:\n    operator: empty\n", ev);
    const mlf_dag *dag = load_dag(tasks);
    open_scheduler(8);
    create_run(dag);
    finish();
    ck_assert_uint_eq(fake_tries_of(&fx, "e"), 1); /* dispatched, so that its callback runs as for any try */
    ck_assert_uint_eq(fake_tries_of(&fx, "plain"), 0);
    ck_assert_int_eq(ti_state("e", NULL), MLF_TI_SUCCESS);
    ck_assert_int_eq(ti_state("plain", NULL), MLF_TI_SUCCESS);
    mlf_scheduler_free(sched); /* waits for the notifier process */
    sched = NULL;
    char line[4096] = "";
    FILE *f = fopen(ev, "r");
    ck_assert_msg(f != NULL, "the callback did not run");
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    ck_assert_ptr_nonnull(strstr(line, "on_success_callback"));
    ck_assert_ptr_nonnull(strstr(line, "\"e\""));
    ck_assert_ptr_null(strstr(line, "plain"));
    free(tasks);
    free(ev);
}
END_TEST

START_TEST(test_empty_run_by_tasks_run_is_dispatched)
{
    /* `tasks run` of one TI asks for a try: it gets one */
    const mlf_dag *dag = load_dag("  e:\n    operator: empty\n");
    open_scheduler(8);
    create_run(dag);
    step();
    ck_assert_int_eq(ti_state("e", NULL), MLF_TI_SUCCESS);
    ck_assert_uint_eq(fx.ntries, 0);
    mlf_ti_state state = MLF_TI_NONE;
    char err[256];
    ck_assert_int_eq(mlf_scheduler_run_task(sched, "t", run_id, "e", -1, NULL, &state, err, sizeof err), MLF_OK);
    ck_assert_int_eq(state, MLF_TI_SUCCESS);
    ck_assert_uint_eq(fake_tries_of(&fx, "e"), 1);
    ck_assert_int_eq(fx.tries[0].try_number, 2);
}
END_TEST

static Suite *scheduler_suite(void)
{
    Suite *s = suite_create("scheduler");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_dispatch_follows_the_graph);
    tcase_add_test(tc, test_dispatch_by_priority_within_slots);
    tcase_add_test(tc, test_failure_propagates_by_trigger_rule);
    tcase_add_test(tc, test_templated_params_rendered_at_dispatch);
    tcase_add_test(tc, test_leases_for_a_new_run);
    tcase_add_test(tc, test_wait_asks_once_per_queue_and_operator);
    tcase_add_test(tc, test_retry_after_delay);
    tcase_add_test(tc, test_retries_exhausted_fail);
    tcase_add_test(tc, test_backoff_doubles_and_is_capped);
    tcase_add_test(tc, test_backoff_in_the_loop);
    tcase_add_test(tc, test_recover_retries_a_zombie);
    tcase_add_test(tc, test_recover_fails_a_zombie_without_tries);
    tcase_add_test(tc, test_recover_resumes_scheduled_work);
    tcase_add_test(tc, test_empty_finishes_without_dispatch);
    tcase_add_test(tc, test_empty_only_dag_runs_in_one_turn);
    tcase_add_test(tc, test_empty_with_success_callback_runs_a_try);
    tcase_add_test(tc, test_empty_run_by_tasks_run_is_dispatched);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scheduler_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
