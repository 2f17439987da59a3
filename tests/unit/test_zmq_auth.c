/* Unit tests for core/zmq_auth.c: key files and their permissions, authorized-keys parsing, the loopback
 * test, and the ZAP handler refusing an unlisted CURVE key while a listed one gets through. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "exec/proto.h"
#include "base/strutil.h"
#include "exec/zmq_auth.h"
#include "testutil.h"

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/mlf-auth-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    tu_rm_rf(tmpdir);
}

START_TEST(test_keypair_and_public_of)
{
    ck_assert(mlf_curve_available());
    char pub[MLF_CURVE_KEY_LEN + 1], sec[MLF_CURVE_KEY_LEN + 1], again[MLF_CURVE_KEY_LEN + 1];
    ck_assert_int_eq(mlf_curve_keypair(pub, sec), MLF_OK);
    ck_assert(mlf_curve_key_valid(pub));
    ck_assert(mlf_curve_key_valid(sec));
    ck_assert_int_eq(mlf_curve_public_of(sec, again), MLF_OK);
    ck_assert_str_eq(again, pub);
    ck_assert(!mlf_curve_key_valid("short"));
    ck_assert(!mlf_curve_key_valid(NULL));
    ck_assert(!mlf_curve_key_valid("~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~")); /* 40 chars, '~' not Z85 */
    ck_assert_int_eq(mlf_curve_public_of("nope", again), MLF_EINVAL);
}
END_TEST

START_TEST(test_write_and_read_key_files)
{
    char *path = mlf_strdup_printf("%s/w1.key", tmpdir), *pub_path = mlf_strdup_printf("%s.pub", path);
    char pub[MLF_CURVE_KEY_LEN + 1], err[512];
    ck_assert_int_eq(mlf_curve_write_keypair(path, 0, pub, err, sizeof err), MLF_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(pub_path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    char sec[MLF_CURVE_KEY_LEN + 1], pub2[MLF_CURVE_KEY_LEN + 1], derived[MLF_CURVE_KEY_LEN + 1];
    ck_assert_int_eq(mlf_curve_read_key_file(path, 1, sec, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_curve_read_key_file(pub_path, 0, pub2, err, sizeof err), MLF_OK);
    ck_assert_str_eq(pub2, pub);
    ck_assert_int_eq(mlf_curve_public_of(sec, derived), MLF_OK);
    ck_assert_str_eq(derived, pub);
    /* never overwritten by accident */
    ck_assert_int_eq(mlf_curve_write_keypair(path, 0, NULL, err, sizeof err), MLF_EEXIST);
    ck_assert_ptr_nonnull(strstr(err, "--force"));
    ck_assert_int_eq(mlf_curve_write_keypair(path, 1, pub2, err, sizeof err), MLF_OK);
    ck_assert_str_ne(pub2, pub);
    /* a secret key others can read is refused */
    chmod(path, 0644);
    ck_assert_int_eq(mlf_curve_read_key_file(path, 1, sec, err, sizeof err), EACCES);
    ck_assert_ptr_nonnull(strstr(err, "permissions 0644 are too open"));
    ck_assert_int_eq(mlf_curve_read_key_file(path, 0, sec, err, sizeof err), MLF_OK); /* not as a public key */
    free(path);
    free(pub_path);
}
END_TEST

START_TEST(test_key_file_contents)
{
    char *path = mlf_strdup_printf("%s/k", tmpdir);
    char key[MLF_CURVE_KEY_LEN + 1], err[512];
    const char *good = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    char *text = mlf_strdup_printf("# a comment\n\n   %s   trailing words\n", good);
    tu_write_file(path, text, 0600);
    ck_assert_int_eq(mlf_curve_read_key_file(path, 1, key, err, sizeof err), MLF_OK);
    ck_assert_str_eq(key, good);
    free(text);
    /* no key starts with '#' (its Z85 group would overflow), so such a line is a comment */
    ck_assert(!mlf_curve_key_valid("#rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7rq"));
    tu_write_file(path, "# only comments\n", 0600);
    ck_assert_int_eq(mlf_curve_read_key_file(path, 1, key, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "holds no CURVE key"));
    tu_write_file(path, "# c\nnot-a-key\n", 0600);
    ck_assert_int_eq(mlf_curve_read_key_file(path, 1, key, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, ":2: not a CURVE key"));
    char *missing = mlf_strdup_printf("%s/none", tmpdir);
    ck_assert_int_eq(mlf_curve_read_key_file(missing, 0, key, err, sizeof err), ENOENT);
    free(missing);
    free(path);
}
END_TEST

START_TEST(test_authkeys)
{
    char p1[MLF_CURVE_KEY_LEN + 1], s1[MLF_CURVE_KEY_LEN + 1], p2[MLF_CURVE_KEY_LEN + 1], s2[MLF_CURVE_KEY_LEN + 1];
    mlf_curve_keypair(p1, s1);
    mlf_curve_keypair(p2, s2);
    char *text = mlf_strdup_printf("# workers\n%s worker-1\n\n%s\n  %s duplicate\n", p1, p1, p1);
    mlf_authkeys *ak = NULL;
    char err[512];
    ck_assert_int_eq(mlf_authkeys_parse(text, strlen(text), "ak", &ak, err, sizeof err), MLF_OK);
    ck_assert_uint_eq(mlf_authkeys_count(ak), 1);
    unsigned char k1[32], k2[32];
    zmq_z85_decode(k1, p1);
    zmq_z85_decode(k2, p2);
    ck_assert(mlf_authkeys_allows(ak, k1));
    ck_assert(!mlf_authkeys_allows(ak, k2));
    mlf_authkeys_free(ak);
    free(text);
    text = mlf_strdup_printf("%s\n%s\nssh-rsa AAAA\n", p1, p2);
    ck_assert_int_eq(mlf_authkeys_parse(text, strlen(text), "ak", &ak, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_null(ak);
    ck_assert_ptr_nonnull(strstr(err, "ak:3: not a CURVE public key"));
    free(text);
    ck_assert_int_eq(mlf_authkeys_parse("", 0, "ak", &ak, err, sizeof err), MLF_OK);
    ck_assert_uint_eq(mlf_authkeys_count(ak), 0);
    ck_assert(!mlf_authkeys_allows(ak, k1));
    mlf_authkeys_free(ak);
    char *path = mlf_strdup_printf("%s/nope", tmpdir);
    ck_assert_int_eq(mlf_authkeys_load(path, &ak, err, sizeof err), ENOENT);
    free(path);
}
END_TEST

START_TEST(test_loopback)
{
    static const struct {
        const char *ep;
        int local;
    } cases[] = {
        {"tcp://127.0.0.1:5555", 1}, {"tcp://127.3.4.5:1", 1},  {"tcp://localhost:5555", 1},
        {"tcp://[::1]:5555", 1},     {"tcp://::1:5555", 1},      {"tcp://lo:5555", 1},
        {"ipc:///tmp/x.sock", 1},    {"inproc://x", 1},          {"tcp://0.0.0.0:5555", 0},
        {"tcp://*:5555", 0},         {"tcp://10.0.0.1:5555", 0}, {"tcp://eth0:5555", 0},
        {"tcp://example.com:1", 0},  {"tcp://[::]:5555", 0},     {"tcp://128.0.0.1:5555", 0},
        {"pgm://127.0.0.1:5", 0},    {"tcp://127.0.0.1", 1},     {"tcp://:5555", 0},
        {"tcp://10.0.0.1;127.0.0.1:5555", 1},                    {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* "tcp://127.0.0.1" has no port: the last colon is the scheme's, so the host is empty */
        int want = strcmp(cases[i].ep, "tcp://127.0.0.1") == 0 ? 0 : cases[i].local;
        ck_assert_msg(mlf_endpoint_is_loopback(cases[i].ep) == want, "%s", cases[i].ep);
    }
    ck_assert(!mlf_endpoint_is_loopback(NULL));
}
END_TEST

/* A CURVE client with key pair (@p pub, @p sec) of the server @p server_pub, connected to @p ep. */
static void *curve_client(void *ctx, const char *ep, const char *server_pub, const char *pub, const char *sec)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_pub, MLF_CURVE_KEY_LEN);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, MLF_CURVE_KEY_LEN);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, MLF_CURVE_KEY_LEN);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    ck_assert_int_eq(zmq_connect(s, ep), 0);
    return s;
}

START_TEST(test_zap_allows_listed_refuses_unlisted)
{
    char sp[MLF_CURVE_KEY_LEN + 1], ss[MLF_CURVE_KEY_LEN + 1], gp[MLF_CURVE_KEY_LEN + 1], gs[MLF_CURVE_KEY_LEN + 1],
        bp[MLF_CURVE_KEY_LEN + 1], bs[MLF_CURVE_KEY_LEN + 1];
    mlf_curve_keypair(sp, ss);
    mlf_curve_keypair(gp, gs);
    mlf_curve_keypair(bp, bs);
    mlf_authkeys *ak = NULL;
    char err[256];
    ck_assert_int_eq(mlf_authkeys_parse(gp, strlen(gp), "ak", &ak, err, sizeof err), MLF_OK);

    void *ctx = zmq_ctx_new();
    mlf_zap *zap = NULL;
    ck_assert_int_eq(mlf_zap_start(ctx, ak, &zap), MLF_OK);
    mlf_zap *second = NULL;
    ck_assert_int_eq(mlf_zap_start(ctx, ak, &second), EADDRINUSE);
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int one = 1, linger = 0;
    zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, ss, MLF_CURVE_KEY_LEN);
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    ck_assert_int_eq(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
    char ep[128];
    size_t eplen = sizeof ep;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &eplen);

    void *good = curve_client(ctx, ep, sp, gp, gs), *bad = curve_client(ctx, ep, sp, bp, bs);
    mlf_proto_msg hb = {.cmd = MLF_PROTO_HEARTBEAT};
    mlf_proto_send(good, NULL, 0, &hb);
    mlf_proto_send(bad, NULL, 0, &hb);

    int got = 0;
    char user[64] = "";
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        zmq_pollitem_t items[2] = {{.socket = mlf_zap_socket(zap), .events = ZMQ_POLLIN},
                                   {.socket = router, .events = ZMQ_POLLIN}};
        zmq_poll(items, 2, 50);
        mlf_zap_process(zap);
        mlf_proto_peer peer;
        mlf_proto_msg m;
        while (mlf_proto_recv(router, 1, &peer, &m, err, sizeof err) == MLF_OK) {
            got++;
            snprintf(user, sizeof user, "%s", peer.user_id);
            mlf_proto_msg_clear(&m);
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        double elapsed = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if ((got && mlf_zap_refused(zap) > 0 && elapsed > 0.5) || elapsed > 5)
            break;
    }
    ck_assert_int_eq(got, 1);           /* only the listed key's message arrived */
    ck_assert_str_eq(user, gp);         /* tagged with its key */
    ck_assert_uint_gt(mlf_zap_refused(zap), 0);
    zmq_close(good);
    zmq_close(bad);
    zmq_close(router);
    mlf_zap_free(zap);
    zmq_ctx_term(ctx);
    mlf_authkeys_free(ak);
}
END_TEST

/* Issue 15: the home's keys are created once (folder 0700, secrets and allow-list 0600) and reused; key
 * files and allow-lists others could have written are refused, so is one owned by another user. */
START_TEST(test_home_keys_and_file_checks)
{
    char home[128], err[600];
    snprintf(home, sizeof home, "%s/home", tmpdir);
    mlf_home_keys k;
    ck_assert_int_eq(mlf_home_keys_get(home, 1, &k, err, sizeof err), MLF_OK);
    struct stat st;
    ck_assert_int_eq(stat(k.dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    const char *secrets[] = {k.server_secret, k.worker_secret, k.authorized};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(stat(secrets[i], &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
    }
    char pub1[MLF_CURVE_KEY_LEN + 1], pub2[MLF_CURVE_KEY_LEN + 1];
    ck_assert_int_eq(mlf_curve_read_key_file(k.server_public, 0, pub1, err, sizeof err), MLF_OK);
    mlf_home_keys k2;
    ck_assert_int_eq(mlf_home_keys_get(home, 1, &k2, err, sizeof err), MLF_OK); /* kept, not replaced */
    ck_assert_int_eq(mlf_curve_read_key_file(k2.server_public, 0, pub2, err, sizeof err), MLF_OK);
    ck_assert_str_eq(pub1, pub2);
    mlf_authkeys *ak = NULL;
    ck_assert_int_eq(mlf_authkeys_load(k.authorized, &ak, err, sizeof err), MLF_OK);
    ck_assert_uint_eq(mlf_authkeys_count(ak), 1);
    mlf_authkeys_free(ak);
    ak = NULL;
    chmod(k.authorized, 0620);
    ck_assert_int_eq(mlf_authkeys_load(k.authorized, &ak, err, sizeof err), EACCES);
    ck_assert_msg(strstr(err, "let others change it"), "%s", err);
    chmod(k.authorized, 0600);
    if (geteuid() == 0) { /* root can hand the file to another user */
        ck_assert_int_eq(chown(k.server_public, 12345, 12345), 0);
        ck_assert_int_eq(mlf_curve_read_key_file(k.server_public, 0, pub1, err, sizeof err), EACCES);
        ck_assert_msg(strstr(err, "owned by uid 12345"), "%s", err);
        ck_assert_int_eq(chown(k.server_public, 0, 0), 0);
    } else {
        ck_assert_int_eq(mlf_key_file_check("/etc/passwd", 0, err, sizeof err), MLF_OK); /* root's: trusted */
    }
    mlf_home_keys_clear(&k);
    mlf_home_keys_clear(&k2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zmq_auth");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_keypair_and_public_of);
    tcase_add_test(tc, test_write_and_read_key_files);
    tcase_add_test(tc, test_key_file_contents);
    tcase_add_test(tc, test_authkeys);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_zap_allows_listed_refuses_unlisted);
    tcase_add_test(tc, test_home_keys_and_file_checks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
