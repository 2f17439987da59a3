/*
 * Crash safety of the state store: a child process commits batches in a loop (a counter variable, several
 * TIs whose state and try number follow the counter, so their index entries move, and a 32 KB XCom that
 * keeps the map growing from 1 MiB) and reports each committed counter on a pipe; the parent SIGKILLs it
 * at a random moment, reopens the store, checks it (no problem allowed) and verifies that every reported
 * batch survived, whole: the counter is at least the last reported one, at most one more (a commit that
 * finished just before the kill, unreported), and every TI carries the counter of the same batch.
 * Commits use LMDB's default durable sync.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define ROUNDS 50
#define TIS 6
#define MAP_SIZE (1 << 20)
#define BLOB 32768

static char dir[64];

static int64_t read_counter(mlf_store_txn *t)
{
    mlf_var_rec v;
    int rc = mlf_store_var_get(t, "counter", &v);
    int64_t n = rc == MLF_OK ? strtoll(v.val, NULL, 10) : rc == MLF_ENOTFOUND ? 0 : -1;
    mlf_var_rec_clear(&v);
    return n;
}

/* One batch: everything that carries counter @p n. */
static int write_batch(mlf_store *st, int64_t n)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    char num[32], blob_key[32];
    snprintf(num, sizeof num, "%lld", (long long)n);
    mlf_var_rec v = {.key = "counter", .val = num};
    rc = mlf_store_var_put(w, &v);
    for (int i = 0; rc == MLF_OK && i < TIS; i++) {
        mlf_ti_rec t;
        mlf_ti_rec_init(&t);
        t.dag_id = "crash";
        t.run_id = "run";
        t.task_id = "t";
        t.map_index = i;
        t.state = (mlf_ti_state)((n + i) % MLF_TI_STATE_COUNT);
        t.try_number = (int)n;
        rc = mlf_store_ti_put(w, &t);
    }
    if (rc == MLF_OK) { /* 32 KB more per batch: the map keeps growing */
        static uint8_t blob[BLOB];
        blob[0] = 0xc5; /* bin16 of BLOB - 3 bytes: one msgpack object */
        blob[1] = ((BLOB - 3) >> 8) & 0xff;
        blob[2] = (BLOB - 3) & 0xff;
        snprintf(blob_key, sizeof blob_key, "blob%lld", (long long)n);
        rc = mlf_store_xcom_put(w, &(mlf_ti_key){"crash", "run", "t", 0}, blob_key, blob, sizeof blob);
    }
    if (rc != MLF_OK) {
        mlf_store_write_abort(w);
        return rc;
    }
    return mlf_store_write_commit(w);
}

/* The child: commit batches until killed, reporting each committed counter. */
_Noreturn static void writer_child(int fd)
{
    mlf_store *st;
    mlf_store_txn *r;
    if (mlf_store_open_sized(dir, 0, MAP_SIZE, &st, NULL, 0) != MLF_OK ||
        mlf_store_read_begin(st, &r) != MLF_OK)
        _exit(10);
    int64_t n = read_counter(r);
    mlf_store_read_end(r);
    if (n < 0)
        _exit(11);
    for (;;) {
        n++;
        if (write_batch(st, n) != MLF_OK)
            _exit(12);
        if (write(fd, &n, sizeof n) != sizeof n)
            _exit(13);
    }
}

struct ti_check {
    int64_t counter;
    int seen;
    int wrong;
};

static int check_ti(void *ud, const mlf_ti_rec *t)
{
    struct ti_check *c = ud;
    c->seen++;
    c->wrong += t->try_number != c->counter ||
                t->state != (mlf_ti_state)((c->counter + t->map_index) % MLF_TI_STATE_COUNT);
    return MLF_OK;
}

START_TEST(test_committed_batches_survive_sigkill)
{
    strcpy(dir, "/tmp/mlf-crash-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    mlf_store *st;
    char err[256];
    ck_assert_int_eq(mlf_store_open_sized(dir, MLF_STORE_CREATE, MAP_SIZE, &st, err, sizeof err), MLF_OK);
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    run.dag_id = "crash";
    run.run_id = "run";
    run.logical_date = 0;
    ck_assert_int_eq(mlf_store_run_put(w, &run), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    mlf_store_close(st); /* never carry an open store across fork() */

    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    int64_t counter = 0; /* the counter found in the store after the last round */
    int killed_mid_run = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            writer_child(fds[1]);
        }
        close(fds[1]);
        /* even rounds: the kill lands after the child's first durable commit of the round, whatever the load of
         * the machine (it may take longer than 30 ms to get there); odd rounds: anywhere, also during open */
        int64_t reported = counter, n; /* nothing reported: at least what the last round left */
        if (round % 2 == 0 && read(fds[0], &n, sizeof n) == (ssize_t)sizeof n)
            reported = n;
        struct timespec delay = {0, (long)(rand() % 30000) * 1000}; /* 0..30 ms */
        nanosleep(&delay, NULL);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status), "round %d: the writer exited by itself (status %d), seed %u",
                      round, WIFEXITED(status) ? WEXITSTATUS(status) : -1, seed);

        while (read(fds[0], &n, sizeof n) == (ssize_t)sizeof n)
            reported = n;
        close(fds[0]);
        killed_mid_run += reported > counter;

        ck_assert_int_eq(mlf_store_open_sized(dir, 0, MAP_SIZE, &st, err, sizeof err), MLF_OK);
        unsigned long problems = 1;
        ck_assert_int_eq(mlf_store_check(st, NULL, NULL, &problems), MLF_OK);
        ck_assert_msg(problems == 0, "round %d: %lu problems, seed %u", round, problems, seed);
        mlf_store_txn *r;
        ck_assert_int_eq(mlf_store_read_begin(st, &r), MLF_OK);
        int64_t found = read_counter(r);
        ck_assert_msg(found >= reported && found <= reported + 1,
                      "round %d: counter %lld, reported %lld, seed %u", round, (long long)found,
                      (long long)reported, seed);
        if (found > 0) {
            struct ti_check c = {found, 0, 0};
            ck_assert_int_eq(mlf_store_ti_foreach_run(r, "crash", "run", NULL, check_ti, &c), MLF_OK);
            ck_assert_msg(c.seen == TIS && c.wrong == 0, "round %d: %d TIs, %d from another batch, seed %u",
                          round, c.seen, c.wrong, seed);
        }
        mlf_store_read_end(r);
        if (round == ROUNDS - 1 && found * BLOB > 2 * MAP_SIZE) /* the map grew between the kills */
            ck_assert_msg(mlf_store_map_size(st) >= 2 * MAP_SIZE, "%lld batches, map %zu", (long long)found,
                          mlf_store_map_size(st));
        mlf_store_close(st);
        counter = found;
    }
    /* the kills must have landed while batches were being written, not only before the first: every even
     * round's did */
    ck_assert_int_ge(killed_mid_run, ROUNDS / 2);
    ck_assert_int_gt(counter, 0);

    char p[128];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_committed_batches_survive_sigkill);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
