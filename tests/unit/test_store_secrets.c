/* Unit tests for secrets at rest (core/store/store_secrets.c, core/store/secrets_key.c): sealed connection
 * passwords, extras and sensitive variables, the key check, legacy clear records, tampering, rotation and
 * the key file. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/secrets_key.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "testutil.h"

static char *dir;
static mlf_store *st;
static const unsigned char key_a[MLF_STORE_SECRETS_KEY_LEN] = {0xa1, 0xa2, 0xa3};
static const unsigned char key_b[MLF_STORE_SECRETS_KEY_LEN] = {0xb1, 0xb2, 0xb3};
/* msgpack {"api_key": "EXTRA-SECRET-7"} */
static const unsigned char extra[] = {0x81, 0xa7, 'a', 'p', 'i', '_', 'k', 'e', 'y', 0xae, 'E', 'X', 'T', 'R', 'A',
                                      '-', 'S', 'E', 'C', 'R', 'E', 'T', '-', '7'};

static void open_store(unsigned flags)
{
    char err[256] = "";
    ck_assert_msg(mlf_store_open(dir, flags, &st, err, sizeof err) == MLF_OK, "%s", err);
}

static void setup(void)
{
    dir = tu_tmpdir("secrets");
    open_store(MLF_STORE_CREATE);
}

static void teardown(void)
{
    mlf_store_close(st);
    st = NULL;
    tu_rm_rf(dir);
    free(dir);
}

static void put_conn(const char *id, const char *password)
{
    mlf_conn_rec r;
    mlf_conn_rec_init(&r);
    r.conn_id = (char *)id;
    r.conn_type = "postgres";
    r.host = "db.example";
    r.login = "etl";
    r.password = (char *)password;
    r.extra = (uint8_t *)extra;
    r.extra_len = sizeof extra;
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_conn_put(w, &r), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
}

static void put_var(const char *k, const char *v)
{
    mlf_var_rec r;
    mlf_var_rec_init(&r);
    r.key = (char *)k;
    r.val = (char *)v;
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_var_put(w, &r), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
}

/* Reads connection @p id: the result code; its password into @p pw (when given and found). */
static int get_conn(const char *id, char *pw, size_t pwlen)
{
    mlf_store_txn *r;
    ck_assert_int_eq(mlf_store_read_begin(st, &r), MLF_OK);
    mlf_conn_rec c;
    int rc = mlf_store_conn_get(r, id, &c);
    if (rc == MLF_OK) {
        if (pw)
            snprintf(pw, pwlen, "%s", c.password ? c.password : "");
        ck_assert_uint_eq(c.extra_len, sizeof extra);
        ck_assert(memcmp(c.extra, extra, sizeof extra) == 0);
        ck_assert_str_eq(c.login, "etl");
    }
    mlf_conn_rec_clear(&c);
    mlf_store_read_end(r);
    return rc;
}

static int get_var(const char *k, char *out, size_t outlen)
{
    mlf_store_txn *r;
    ck_assert_int_eq(mlf_store_read_begin(st, &r), MLF_OK);
    mlf_var_rec v;
    int rc = mlf_store_var_get(r, k, &v);
    if (rc == MLF_OK)
        snprintf(out, outlen, "%s", v.val ? v.val : "");
    mlf_var_rec_clear(&v);
    mlf_store_read_end(r);
    return rc;
}

/* The raw bytes stored under name @p name in table @p db (caller frees). */
static void *raw_get(int db, const char *name, size_t *n)
{
    mlf_store_txn *r;
    ck_assert_int_eq(mlf_store_read_begin(st, &r), MLF_OK);
    MDB_val v;
    ck_assert_int_eq(mlf_st_get(r, db, name, strlen(name), &v), MLF_OK);
    void *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    *n = v.mv_size;
    mlf_store_read_end(r);
    return copy;
}

static void raw_put(int db, const char *name, const void *val, size_t n)
{
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_st_put(w, db, name, strlen(name), val, n), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
}

static int contains(const void *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static unsigned long check_problems(void)
{
    unsigned long problems = 99;
    ck_assert_int_eq(mlf_store_check(st, NULL, NULL, &problems), MLF_OK);
    return problems;
}

/* ------------------------------------------------------------------------------------------- tests */

START_TEST(test_round_trip_sealed)
{
    char err[256] = "", pw[64], val[64];
    ck_assert_int_eq(mlf_store_secrets_sealed(st), 0);
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_OK);
    put_var("greeting", "hello-plain-text");
    ck_assert_int_eq(mlf_store_secrets_sealed(st), 0); /* no secret yet: the store opens with any key */
    put_conn("wh", "PW-Sup3r-S3cret");
    ck_assert_int_eq(mlf_store_secrets_sealed(st), 1);
    put_var("db_password", "VAR-S3cret-9");
    put_var("greeting", "hello-plain-text");
    ck_assert_int_eq(get_conn("wh", pw, sizeof pw), MLF_OK);
    ck_assert_str_eq(pw, "PW-Sup3r-S3cret");
    ck_assert_int_eq(get_var("db_password", val, sizeof val), MLF_OK);
    ck_assert_str_eq(val, "VAR-S3cret-9");
    ck_assert_int_eq(get_var("greeting", val, sizeof val), MLF_OK);
    ck_assert_str_eq(val, "hello-plain-text");
    /* the bytes at rest: no password, no extra, no sensitive value; the plain variable stays readable */
    size_t n;
    void *raw = raw_get(MLF_ST_CONNS, "wh", &n);
    ck_assert(!contains(raw, n, "PW-Sup3r-S3cret"));
    ck_assert(!contains(raw, n, "EXTRA-SECRET-7"));
    ck_assert(!contains(raw, n, "api_key"));
    ck_assert(contains(raw, n, "db.example"));
    free(raw);
    raw = raw_get(MLF_ST_VARS, "db_password", &n);
    ck_assert(!contains(raw, n, "VAR-S3cret-9"));
    free(raw);
    raw = raw_get(MLF_ST_VARS, "greeting", &n);
    ck_assert(contains(raw, n, "hello-plain-text"));
    free(raw);
    /* two writes of one value seal it differently (a fresh nonce each time) */
    raw = raw_get(MLF_ST_CONNS, "wh", &n);
    put_conn("wh", "PW-Sup3r-S3cret");
    size_t n2;
    void *raw2 = raw_get(MLF_ST_CONNS, "wh", &n2);
    ck_assert(n == n2 && memcmp(raw, raw2, n) != 0);
    free(raw);
    free(raw2);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

START_TEST(test_no_key)
{
    /* without a key nothing secret can be written (never in clear), and a sealed value does not read */
    mlf_conn_rec r;
    mlf_conn_rec_init(&r);
    r.conn_id = "c";
    r.password = "x";
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_conn_put(w, &r), MLF_ESTATE);
    mlf_store_write_abort(w);
    put_var("harmless", "fine"); /* not sensitive: no key needed */
    char err[256];
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_OK);
    put_conn("wh", "PW-1");
    mlf_store_close(st);
    open_store(0);
    ck_assert_int_eq(get_conn("wh", NULL, 0), MLF_ESTATE);
    unsigned long problems = check_problems();
    ck_assert_uint_eq(problems, 1); /* the check says it cannot open the sealed record */
}
END_TEST

START_TEST(test_wrong_key)
{
    char err[256] = "", pw[64];
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_OK);
    put_conn("wh", "PW-1");
    mlf_store_close(st);
    open_store(0);
    ck_assert_int_eq(mlf_store_secrets_key(st, key_b, err, sizeof err), MLF_STORE_EKEY);
    ck_assert_msg(strstr(err, "secrets key does not match the store"), "%s", err);
    ck_assert_int_eq(get_conn("wh", NULL, 0), MLF_ESTATE); /* nothing attached: no garbage either */
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_OK);
    ck_assert_int_eq(get_conn("wh", pw, sizeof pw), MLF_OK);
    ck_assert_str_eq(pw, "PW-1");
    /* a read-only store says the same */
    mlf_store_close(st);
    open_store(MLF_STORE_RDONLY);
    ck_assert_int_eq(mlf_store_secrets_key(st, key_b, err, sizeof err), MLF_STORE_EKEY);
}
END_TEST

START_TEST(test_legacy_clear_records)
{
    /* records as a build without sealing wrote them: plain msgpack strings and bytes */
    mlf_conn_rec r;
    mlf_conn_rec_init(&r);
    r.conn_id = "old";
    r.conn_type = "postgres";
    r.login = "etl";
    r.password = "LEGACY-PW-42";
    r.extra = (uint8_t *)extra;
    r.extra_len = sizeof extra;
    mlf_buf b = {0};
    ck_assert_int_eq(mlf_st_rec_encode(&mlf_st_conn_type, &r, &b), MLF_ESTATE); /* no key: refused */
    mlf_buf_free(&b);
    r.password = NULL;
    r.extra = NULL;
    r.extra_len = 0;
    ck_assert_int_eq(mlf_st_rec_encode(&mlf_st_conn_type, &r, &b), MLF_OK);
    mlf_buf_free(&b);
    /* hand-made clear record {"v":1,"conn_type":"postgres","login":"etl","password":"LEGACY-PW-42",
     * "extra":bin(extra)} */
    unsigned char rec[256];
    size_t n = 0;
    rec[n++] = 0x85;
    const char *parts[] = {"v", NULL, "conn_type", "postgres", "login", "etl", "password", "LEGACY-PW-42", "extra"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!parts[i]) {
            rec[n++] = 0x01;
            continue;
        }
        rec[n++] = (unsigned char)(0xa0 | strlen(parts[i]));
        memcpy(rec + n, parts[i], strlen(parts[i]));
        n += strlen(parts[i]);
    }
    rec[n++] = 0xc4;
    rec[n++] = sizeof extra;
    memcpy(rec + n, extra, sizeof extra);
    n += sizeof extra;
    raw_put(MLF_ST_CONNS, "old", rec, n);
    ck_assert_int_eq(mlf_store_secrets_sealed(st), 0);
    /* the first key attached to a writable store seals it in place */
    char err[256] = "", pw[64];
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_OK);
    size_t rn;
    void *raw = raw_get(MLF_ST_CONNS, "old", &rn);
    ck_assert(!contains(raw, rn, "LEGACY-PW-42"));
    ck_assert(!contains(raw, rn, "EXTRA-SECRET-7"));
    free(raw);
    ck_assert_int_eq(get_conn("old", pw, sizeof pw), MLF_OK);
    ck_assert_str_eq(pw, "LEGACY-PW-42");
    /* a clear record that appears later (written by an old build beside) still reads, and is sealed on write */
    raw_put(MLF_ST_CONNS, "old2", rec, n);
    ck_assert_int_eq(get_conn("old2", pw, sizeof pw), MLF_OK);
    ck_assert_str_eq(pw, "LEGACY-PW-42");
    put_conn("old2", pw);
    raw = raw_get(MLF_ST_CONNS, "old2", &rn);
    ck_assert(!contains(raw, rn, "LEGACY-PW-42"));
    free(raw);
    ck_assert_uint_eq(check_problems(), 0);
}
END_TEST

START_TEST(test_tamper_detection)
{
    char err[256] = "", pw[64];
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_OK);
    put_conn("a", "PW-A");
    put_conn("b", "PW-B");
    size_t n;
    unsigned char *raw = raw_get(MLF_ST_CONNS, "a", &n);
    /* one flipped bit anywhere in the sealed extra (the last field written) is refused */
    raw[n - 5] ^= 0x01;
    raw_put(MLF_ST_CONNS, "a", raw, n);
    ck_assert_int_eq(get_conn("a", NULL, 0), MLF_ECORRUPT);
    ck_assert_uint_eq(check_problems(), 1);
    raw[n - 5] ^= 0x01;
    raw_put(MLF_ST_CONNS, "a", raw, n);
    ck_assert_int_eq(get_conn("a", pw, sizeof pw), MLF_OK);
    ck_assert_str_eq(pw, "PW-A");
    /* a whole sealed record moved under another name does not open there */
    raw_put(MLF_ST_CONNS, "b", raw, n);
    ck_assert_int_eq(get_conn("b", NULL, 0), MLF_ECORRUPT);
    free(raw);
    /* a sealed value of an unknown format version is refused too */
    ck_assert_int_eq(mlf_st_unseal(st, MLF_ST_CONNS, "a", 1, "password", "\x02xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                   "xxxxxxxxxxxxxxxxx", 58, (uint8_t **)&raw, &n), MLF_ECORRUPT);
}
END_TEST

START_TEST(test_rotate)
{
    char err[256] = "", pw[64], val[64];
    ck_assert_int_eq(mlf_store_secrets_rotate(st, key_b, NULL, err, sizeof err), MLF_ESTATE); /* no key */
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_OK);
    put_conn("wh", "PW-ROT");
    put_var("api_token", "TOKEN-ROT");
    put_var("greeting", "hello");
    size_t n = 0, rn;
    void *before = raw_get(MLF_ST_CONNS, "wh", &rn);
    ck_assert_int_eq(mlf_store_secrets_rotate(st, key_b, &n, err, sizeof err), MLF_OK);
    ck_assert_uint_eq(n, 2);
    size_t rn2;
    void *after = raw_get(MLF_ST_CONNS, "wh", &rn2);
    ck_assert(rn == rn2 && memcmp(before, after, rn) != 0);
    free(before);
    free(after);
    ck_assert_int_eq(get_conn("wh", pw, sizeof pw), MLF_OK);
    ck_assert_str_eq(pw, "PW-ROT");
    mlf_store_close(st);
    open_store(0);
    ck_assert_int_eq(mlf_store_secrets_key(st, key_a, err, sizeof err), MLF_STORE_EKEY);
    ck_assert_int_eq(mlf_store_secrets_key(st, key_b, err, sizeof err), MLF_OK);
    ck_assert_int_eq(get_var("api_token", val, sizeof val), MLF_OK);
    ck_assert_str_eq(val, "TOKEN-ROT");
    ck_assert_uint_eq(check_problems(), 0);
    /* another process rotated meanwhile (here: the check value changed under us): writing a secret with the
     * key this process holds is refused instead of sealing under a key the store no longer has */
    unsigned char other[32] = {9};
    raw_put(MLF_ST_META, MLF_ST_META_SECRETS, other, sizeof other);
    mlf_conn_rec r;
    mlf_conn_rec_init(&r);
    r.conn_id = "late";
    r.password = "x";
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_conn_put(w, &r), MLF_STORE_EKEY);
    mlf_store_write_abort(w);
    ck_assert_uint_eq(check_problems(), 1);
}
END_TEST

START_TEST(test_key_file)
{
    char err[512] = "";
    unsigned char k[MLF_STORE_SECRETS_KEY_LEN], k2[MLF_STORE_SECRETS_KEY_LEN];
    char *path = tu_path(dir, "keys/secrets.key");
    mlf_secrets_key_generate(k);
    ck_assert_int_eq(mlf_secrets_key_write(path, k, 0, err, sizeof err), MLF_OK);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0600);
    char *kdir = tu_path(dir, "keys");
    ck_assert_int_eq(stat(kdir, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0700);
    ck_assert_int_eq(mlf_secrets_key_read(path, k2, err, sizeof err), MLF_OK);
    ck_assert(memcmp(k, k2, sizeof k) == 0);
    ck_assert_int_eq(mlf_secrets_key_write(path, k, 0, err, sizeof err), MLF_EEXIST);
    /* readable by the group: refused, with the fix */
    chmod(path, 0640);
    ck_assert_int_eq(mlf_secrets_key_read(path, k2, err, sizeof err), EACCES);
    ck_assert_msg(strstr(err, "too open") && strstr(err, "chmod 600"), "%s", err);
    chmod(path, 0600);
    mlf_secrets_key_generate(k2);
    ck_assert_int_eq(mlf_secrets_key_write(path, k2, 1, err, sizeof err), MLF_OK); /* replace */
    ck_assert_int_eq(mlf_secrets_key_read(path, k, err, sizeof err), MLF_OK);
    ck_assert(memcmp(k, k2, sizeof k) == 0);
    tu_write_file(path, "# comment\nnot-hex\n", 0600);
    ck_assert_int_eq(mlf_secrets_key_read(path, k, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strstr(err, ":2:"), "%s", err);
    ck_assert_int_eq(mlf_secrets_key_read("/nonexistent/secrets.key", k, err, sizeof err), ENOENT);
    /* text form */
    ck_assert_int_eq(mlf_secrets_key_parse(" 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", k),
                     MLF_OK);
    ck_assert_uint_eq(k[31], 0x1f);
    ck_assert_int_eq(mlf_secrets_key_parse("0001", k), MLF_EPARSE);
    ck_assert_int_eq(mlf_secrets_key_parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fzz", k),
                     MLF_EPARSE);
    free(kdir);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_secrets");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_round_trip_sealed);
    tcase_add_test(tc, test_no_key);
    tcase_add_test(tc, test_wrong_key);
    tcase_add_test(tc, test_legacy_clear_records);
    tcase_add_test(tc, test_tamper_detection);
    tcase_add_test(tc, test_rotate);
    tcase_add_test(tc, test_key_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
