/* Unit tests for core/proto.c: every command round-trips; hostile frames (wrong counts, signatures,
 * commands, truncated msgpack, 4 GB headers, deep nesting, wrong types, oversized bodies, random bytes)
 * are refused with a reason and never crash; whole messages over real zmq sockets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "exec/proto.h"
#include "exec/task_spec.h"

/* ---------------------------------------------------------------- helpers */

typedef struct wire {
    void *body;
    size_t len;
    unsigned char cmd;
} wire;

static wire encode_ok(const mlf_proto_msg *m)
{
    wire w = {.cmd = (unsigned char)m->cmd};
    int rc = mlf_proto_encode(m, &w.body, &w.len);
    ck_assert_msg(rc == MLF_OK, "encode %s: %s", mlf_proto_cmd_name(m->cmd), mlf_strerror(rc));
    return w;
}

/* Decodes signature + command byte + @p body. */
static int decode_body(int cmd, const void *body, size_t len, mlf_proto_msg *out, char *err, size_t errlen)
{
    unsigned char c = (unsigned char)cmd;
    mlf_proto_frame f[3] = {{MLF_PROTO_SIGNATURE, MLF_PROTO_SIGNATURE_LEN}, {&c, 1}, {body, len}};
    return mlf_proto_decode(f, 3, out, err, errlen);
}

static void roundtrip(const mlf_proto_msg *m, mlf_proto_msg *out)
{
    wire w = encode_ok(m);
    char err[512];
    int rc = decode_body(w.cmd, w.body, w.len, out, err, sizeof err);
    ck_assert_msg(rc == MLF_OK, "decode %s: %s", mlf_proto_cmd_name(m->cmd), err);
    ck_assert_int_eq(out->cmd, m->cmd);
    free(w.body);
}

/* Expects decoding to fail with @p code and a message containing @p needle. */
static void expect_refused(int cmd, const void *body, size_t len, int code, const char *needle)
{
    mlf_proto_msg m;
    char err[512] = "";
    int rc = decode_body(cmd, body, len, &m, err, sizeof err);
    ck_assert_msg(rc == code, "expected %s, got %s (%s)", mlf_strerror(code), mlf_strerror(rc), err);
    ck_assert_msg(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
    mlf_proto_msg_clear(&m);
}

/* Packs @p v (taken) as a body and expects it refused. */
static void expect_value_refused(int cmd, mlf_value *v, const char *needle)
{
    void *buf;
    size_t len;
    ck_assert_int_eq(mlf_value_pack(v, &buf, &len), MLF_OK);
    expect_refused(cmd, buf, len, MLF_EPARSE, needle);
    free(buf);
    mlf_value_free(v);
}

static const char *const QUEUES[] = {"default", "gpu"};
static const char *const OPS[] = {"shell", "empty", "http_sensor"};
static const char *const RUNNING[] = {"a1b2c3", "d4e5f6"};

static mlf_proto_msg ready_msg(void)
{
    return (mlf_proto_msg){.cmd = MLF_PROTO_READY, .name = "w1", .instance = "0123abcd", .capacity = 4,
                           .queues = QUEUES, .nqueues = 2, .operators = OPS, .noperators = 3, .host = "host-a",
                           .pid = 4242, .version = "0.1.0", .running = RUNNING, .nrunning = 2};
}

/* A valid READY body as a value, to break field by field. */
static mlf_value *ready_value(void)
{
    mlf_proto_msg r = ready_msg();
    wire w = encode_ok(&r);
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_value_unpack(w.body, w.len, &v), MLF_OK);
    free(w.body);
    return v;
}

static mlf_value *spec_value(const char *attempt)
{
    mlf_task_spec s = {.dag_id = "d", .task_id = "t", .run_id = "r", .map_index = -1, .try_number = 1,
                       .attempt = attempt, .operator_name = "shell", .plugin_path = "/p/shell.la",
                       .log_path = "/tmp/x.log"};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_OK);
    return v;
}

static mlf_value *result_value(const char *attempt)
{
    mlf_value *x = mlf_value_map();
    mlf_map_set(x, "return_value", mlf_value_str("42"));
    mlf_task_result r = {.attempt = attempt, .outcome = MLF_SUCCESS, .message = "done", .xcoms = x,
                         .start_date = 10, .end_date = 20, .exit_status = 0, .pid = 7, .hostname = "h"};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_result_encode(&r, &v), MLF_OK);
    mlf_value_free(x);
    return v;
}

/* ---------------------------------------------------------------- round trips */

START_TEST(test_ready_roundtrip)
{
    mlf_proto_msg in = ready_msg(), out;
    roundtrip(&in, &out);
    ck_assert_str_eq(out.name, "w1");
    ck_assert_str_eq(out.instance, "0123abcd");
    ck_assert_int_eq(out.capacity, 4);
    ck_assert_uint_eq(out.nqueues, 2);
    ck_assert_str_eq(out.queues[1], "gpu");
    ck_assert_uint_eq(out.noperators, 3);
    ck_assert_str_eq(out.operators[2], "http_sensor");
    ck_assert_str_eq(out.host, "host-a");
    ck_assert_int_eq(out.pid, 4242);
    ck_assert_str_eq(out.version, "0.1.0");
    ck_assert_uint_eq(out.nrunning, 2);
    ck_assert_str_eq(out.running[0], "a1b2c3");
    ck_assert_uint_eq(out.nfinished, 0);
    ck_assert_ptr_nonnull(out.finished); /* empty, not NULL */
    mlf_proto_msg_clear(&out);
    ck_assert_ptr_null(out.name);
}
END_TEST

START_TEST(test_small_commands_roundtrip)
{
    mlf_proto_msg out;
    mlf_proto_msg st = {.cmd = MLF_PROTO_STARTED, .attempt = "abc", .host = "h1", .start_date = 1234567};
    roundtrip(&st, &out);
    ck_assert_str_eq(out.attempt, "abc");
    ck_assert_str_eq(out.host, "h1");
    ck_assert_int_eq(out.start_date, 1234567);
    mlf_proto_msg_clear(&out);

    char data[300];
    memset(data, 'x', sizeof data);
    data[0] = '\0'; /* log bytes are binary: NULs included */
    mlf_proto_msg log = {.cmd = MLF_PROTO_LOG, .attempt = "abc", .offset = 99, .data = data, .data_len = sizeof data};
    roundtrip(&log, &out);
    ck_assert_int_eq(out.offset, 99);
    ck_assert_uint_eq(out.data_len, sizeof data);
    ck_assert(memcmp(out.data, data, sizeof data) == 0);
    mlf_proto_msg_clear(&out);

    mlf_proto_msg empty_log = {.cmd = MLF_PROTO_LOG, .attempt = "abc", .offset = 0};
    roundtrip(&empty_log, &out);
    ck_assert_uint_eq(out.data_len, 0);
    mlf_proto_msg_clear(&out);

    mlf_proto_msg hb = {.cmd = MLF_PROTO_HEARTBEAT};
    roundtrip(&hb, &out);
    mlf_proto_msg_clear(&out);

    mlf_proto_msg kill = {.cmd = MLF_PROTO_KILL, .attempt = "abc", .reason = "cleared"};
    roundtrip(&kill, &out);
    ck_assert_str_eq(out.attempt, "abc");
    ck_assert_str_eq(out.reason, "cleared");
    mlf_proto_msg_clear(&out);

    mlf_proto_msg disc = {.cmd = MLF_PROTO_DISCONNECT, .reason = "bye"};
    roundtrip(&disc, &out);
    ck_assert_str_eq(out.reason, "bye");
    mlf_proto_msg_clear(&out);

    mlf_proto_msg ack = {.cmd = MLF_PROTO_ACK, .attempt = "abc"};
    roundtrip(&ack, &out);
    ck_assert_str_eq(out.attempt, "abc");
    mlf_proto_msg_clear(&out);
}
END_TEST

START_TEST(test_task_and_result_roundtrip)
{
    mlf_value *spec = spec_value("att1"), *res = result_value("att1");
    mlf_proto_msg out;
    mlf_proto_msg task = {.cmd = MLF_PROTO_TASK, .payload = spec};
    roundtrip(&task, &out);
    ck_assert_str_eq(out.attempt, "att1");
    ck_assert_str_eq(out.spec->operator_name, "shell");
    ck_assert(mlf_value_equal(out.payload, spec));
    mlf_proto_msg_clear(&out);

    mlf_proto_msg result = {.cmd = MLF_PROTO_RESULT, .payload = res};
    roundtrip(&result, &out);
    ck_assert_str_eq(out.attempt, "att1");
    ck_assert_int_eq(out.result->outcome, MLF_SUCCESS);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(out.result->xcoms, "return_value"), NULL), "42");
    mlf_proto_msg_clear(&out);
    mlf_value_free(spec);
    mlf_value_free(res);
}
END_TEST

/* ---------------------------------------------------------------- refusals: encoding */

START_TEST(test_encode_refuses_invalid)
{
    void *b;
    size_t n;
    mlf_proto_msg m = ready_msg();
    m.name = "has space";
    ck_assert_int_eq(mlf_proto_encode(&m, &b, &n), MLF_EINVAL);
    m = ready_msg();
    m.capacity = -1;
    ck_assert_int_eq(mlf_proto_encode(&m, &b, &n), MLF_EINVAL);
    m = ready_msg();
    m.nqueues = 3; /* beyond the array: caught only as an invalid item, never read past NULL */
    m.queues = (const char *const[]){"a", "b", "bad queue"};
    ck_assert_int_eq(mlf_proto_encode(&m, &b, &n), MLF_EINVAL);
    mlf_proto_msg t = {.cmd = MLF_PROTO_TASK};
    ck_assert_int_eq(mlf_proto_encode(&t, &b, &n), MLF_EINVAL);
    static char big[MLF_PROTO_LOG_CHUNK + 1];
    mlf_proto_msg l = {.cmd = MLF_PROTO_LOG, .attempt = "a", .data = big, .data_len = sizeof big};
    ck_assert_int_eq(mlf_proto_encode(&l, &b, &n), MLF_EINVAL);
    mlf_proto_msg u = {.cmd = (mlf_proto_cmd)42};
    ck_assert_int_eq(mlf_proto_encode(&u, &b, &n), MLF_EINVAL);
    mlf_proto_msg k = {.cmd = MLF_PROTO_KILL, .attempt = "a/b", .reason = "x"};
    ck_assert_int_eq(mlf_proto_encode(&k, &b, &n), MLF_EINVAL);
    /* a RESULT above its 16 MiB limit */
    mlf_value *res = result_value("a");
    mlf_value *x = mlf_value_map();
    static char blob[1024 * 1024];
    for (int i = 0; i < 17; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        mlf_map_set(x, key, mlf_value_bin(blob, sizeof blob));
    }
    mlf_map_set(res, "xcoms", x);
    mlf_proto_msg r = {.cmd = MLF_PROTO_RESULT, .payload = res};
    ck_assert_int_eq(mlf_proto_encode(&r, &b, &n), MLF_ETOOBIG);
    mlf_value_free(res);
}
END_TEST

/* ---------------------------------------------------------------- refusals: frames */

START_TEST(test_frame_counts_signature_command)
{
    mlf_proto_msg m;
    char err[256];
    unsigned char c = MLF_PROTO_HEARTBEAT, body = 0x80;
    mlf_proto_frame ok[4] = {{MLF_PROTO_SIGNATURE, 6}, {&c, 1}, {&body, 1}, {&body, 1}};
    for (size_t n = 0; n <= 4; n++) {
        int rc = mlf_proto_decode(ok, n, &m, err, sizeof err);
        if (n == 3) {
            ck_assert_int_eq(rc, MLF_OK);
            ck_assert_int_eq(m.cmd, MLF_PROTO_HEARTBEAT);
        } else {
            ck_assert_int_eq(rc, MLF_EPARSE);
            ck_assert_ptr_nonnull(strstr(err, "expected 3 frames"));
        }
        mlf_proto_msg_clear(&m);
    }
    mlf_proto_frame f[3] = {{"MLFW02", 6}, {&c, 1}, {&body, 1}};
    ck_assert_int_eq(mlf_proto_decode(f, 3, &m, err, sizeof err), MLF_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(err, "protocol version '02', this end speaks '01'"));
    f[0] = (mlf_proto_frame){"MLFW0", 5};
    ck_assert_int_eq(mlf_proto_decode(f, 3, &m, err, sizeof err), MLF_ENOTSUP);
    f[0] = (mlf_proto_frame){"HTTP/1.1 GET", 12};
    ck_assert_int_eq(mlf_proto_decode(f, 3, &m, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "not an MLFW message"));
    f[0] = (mlf_proto_frame){"", 0};
    ck_assert_int_eq(mlf_proto_decode(f, 3, &m, err, sizeof err), MLF_EPARSE);
    f[0] = (mlf_proto_frame){MLF_PROTO_SIGNATURE, 6};
    unsigned char bad[2] = {0, 10};
    for (int i = 0; i < 2; i++) {
        f[1] = (mlf_proto_frame){&bad[i], 1};
        ck_assert_int_eq(mlf_proto_decode(f, 3, &m, err, sizeof err), MLF_EPARSE);
        ck_assert_ptr_nonnull(strstr(err, "unknown command"));
    }
    f[1] = (mlf_proto_frame){bad, 2};
    ck_assert_int_eq(mlf_proto_decode(f, 3, &m, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "command frame holds 2 bytes"));
    f[1] = (mlf_proto_frame){bad, 0};
    ck_assert_int_eq(mlf_proto_decode(f, 3, &m, err, sizeof err), MLF_EPARSE);
    ck_assert_int_eq(mlf_proto_decode(NULL, 3, &m, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_proto_decode(f, 3, NULL, err, sizeof err), MLF_EINVAL);
}
END_TEST

START_TEST(test_hostile_bodies)
{
    /* empty, not a map, truncated, trailing bytes */
    expect_refused(MLF_PROTO_HEARTBEAT, "", 0, MLF_EPARSE, "not a msgpack map");
    expect_refused(MLF_PROTO_HEARTBEAT, "\x90", 1, MLF_EPARSE, "not a msgpack map"); /* [] */
    expect_refused(MLF_PROTO_HEARTBEAT, "\x2a", 1, MLF_EPARSE, "not a msgpack map"); /* 42 */
    expect_refused(MLF_PROTO_HEARTBEAT, "\x81\xa1", 2, MLF_EPARSE, "not valid msgpack");
    expect_refused(MLF_PROTO_HEARTBEAT, "\x80\x80", 2, MLF_EPARSE, "1 bytes follow");
    /* 4 GB headers: a map32 and, inside a map, an array32 and a str32, all claiming 2^32-1 entries */
    expect_refused(MLF_PROTO_READY, "\xdf\xff\xff\xff\xff", 5, MLF_EPARSE, "not valid msgpack");
    expect_refused(MLF_PROTO_READY, "\x81\xa4name\xdd\xff\xff\xff\xff", 11, MLF_EPARSE, "not valid msgpack");
    expect_refused(MLF_PROTO_READY, "\x81\xa4name\xdb\xff\xff\xff\xff", 11, MLF_EPARSE, "not valid msgpack");
    expect_refused(MLF_PROTO_LOG, "\x81\xa4" "data\xc6\xff\xff\xff\xff", 11, MLF_EPARSE, "not valid msgpack");
    /* non-string keys, ext types, reserved byte */
    expect_refused(MLF_PROTO_HEARTBEAT, "\x81\x01\x02", 3, MLF_EPARSE, "non-string map key");
    expect_refused(MLF_PROTO_HEARTBEAT, "\x81\xa1x\xd4\x01\x02", 6, MLF_EPARSE, "ext type");
    expect_refused(MLF_PROTO_HEARTBEAT, "\x81\xa1x\xc1", 4, MLF_EPARSE, "not valid msgpack");
    /* nesting 100 deep */
    unsigned char deep[120];
    size_t n = 0;
    deep[n++] = 0x81;
    deep[n++] = 0xa1;
    deep[n++] = 'x';
    for (int i = 0; i < 100; i++)
        deep[n++] = 0x91;
    deep[n++] = 0xc0;
    expect_refused(MLF_PROTO_READY, deep, n, MLF_EPARSE, "deeper than 64"); /* (a HEARTBEAT: 64 values at most) */
    /* a body over the command's limit is refused before it is parsed */
    static unsigned char huge[4097];
    memset(huge, 0x80, sizeof huge);
    expect_refused(MLF_PROTO_ACK, huge, sizeof huge, MLF_ETOOBIG, "above the limit of 4096");
    expect_refused(MLF_PROTO_HEARTBEAT, huge, sizeof huge, MLF_ETOOBIG, "HEARTBEAT");
}
END_TEST

START_TEST(test_wrong_fields)
{
    mlf_value *v;
    v = ready_value();
    mlf_map_remove(v, "capacity");
    expect_value_refused(MLF_PROTO_READY, v, "field 'capacity' is missing");
    v = ready_value();
    mlf_map_set(v, "capacity", mlf_value_str("8"));
    expect_value_refused(MLF_PROTO_READY, v, "field 'capacity' must be int, got str");
    v = ready_value();
    mlf_map_set(v, "capacity", mlf_value_int(-1));
    expect_value_refused(MLF_PROTO_READY, v, "out of range");
    v = ready_value();
    mlf_map_set(v, "capacity", mlf_value_int(MLF_PROTO_MAX_CAPACITY + 1));
    expect_value_refused(MLF_PROTO_READY, v, "out of range");
    v = ready_value();
    mlf_map_set(v, "name", mlf_value_str("../../etc"));
    expect_value_refused(MLF_PROTO_READY, v, "field 'name' must be a name");
    v = ready_value();
    mlf_map_set(v, "name", mlf_value_strn("w\0x", 3));
    expect_value_refused(MLF_PROTO_READY, v, "NUL byte");
    v = ready_value();
    mlf_map_set(v, "name", mlf_value_str(""));
    expect_value_refused(MLF_PROTO_READY, v, "field 'name' must be a name");
    char longname[MLF_PROTO_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    v = ready_value();
    mlf_map_set(v, "name", mlf_value_str(longname));
    expect_value_refused(MLF_PROTO_READY, v, "field 'name' must be a name");
    v = ready_value();
    mlf_map_set(v, "queues", mlf_value_str("gpu"));
    expect_value_refused(MLF_PROTO_READY, v, "field 'queues' must be array, got str");
    v = ready_value();
    mlf_value *q = mlf_value_array();
    mlf_array_append(q, mlf_value_int(1));
    mlf_map_set(v, "queues", q);
    expect_value_refused(MLF_PROTO_READY, v, "field 'queues[0]' must be a name");
    v = ready_value();
    mlf_value *ops = mlf_value_array();
    for (unsigned i = 0; i <= MLF_PROTO_MAX_OPERATORS; i++)
        mlf_array_append(ops, mlf_value_str("o"));
    mlf_map_set(v, "operators", ops);
    expect_value_refused(MLF_PROTO_READY, v, "at most 4096 are allowed");
    v = ready_value();
    mlf_map_set(v, "host", mlf_value_str("a host"));
    expect_value_refused(MLF_PROTO_READY, v, "field 'host'");
    v = ready_value();
    mlf_map_set(v, "pid", mlf_value_float(1.5));
    expect_value_refused(MLF_PROTO_READY, v, "field 'pid' must be int, got float");

    v = mlf_value_map();
    mlf_map_set(v, "attempt", mlf_value_str("a"));
    mlf_map_set(v, "offset", mlf_value_int(0));
    mlf_map_set(v, "data", mlf_value_str("text, not bin"));
    expect_value_refused(MLF_PROTO_LOG, v, "field 'data' must be bin, got str");
    v = mlf_value_map();
    mlf_map_set(v, "attempt", mlf_value_str("a"));
    mlf_map_set(v, "offset", mlf_value_int(-5));
    mlf_map_set(v, "data", mlf_value_bin("", 0));
    expect_value_refused(MLF_PROTO_LOG, v, "field 'offset' is out of range");
    static char chunk[MLF_PROTO_LOG_CHUNK + 1];
    v = mlf_value_map();
    mlf_map_set(v, "attempt", mlf_value_str("a"));
    mlf_map_set(v, "offset", mlf_value_int(0));
    mlf_map_set(v, "data", mlf_value_bin(chunk, sizeof chunk));
    expect_value_refused(MLF_PROTO_LOG, v, "at most 262144 are allowed");

    v = mlf_value_map();
    mlf_map_set(v, "attempt", mlf_value_int(3));
    expect_value_refused(MLF_PROTO_ACK, v, "field 'attempt' must be str, got int");
    v = mlf_value_map();
    mlf_map_set(v, "attempt", mlf_value_str("a\nFAKE LOG LINE"));
    expect_value_refused(MLF_PROTO_ACK, v, "must be a token");
    v = mlf_value_map();
    expect_value_refused(MLF_PROTO_KILL, v, "field 'attempt' is missing");
    v = mlf_value_map();
    mlf_map_set(v, "reason", mlf_value_nil());
    expect_value_refused(MLF_PROTO_DISCONNECT, v, "field 'reason' must be str, got nil");

    /* TASK and RESULT go through task_spec.h's strict decoders */
    v = spec_value("a");
    mlf_map_set(v, "try_number", mlf_value_str("1"));
    expect_value_refused(MLF_PROTO_TASK, v, "field 'try_number' must be int");
    v = spec_value("a b");
    expect_value_refused(MLF_PROTO_TASK, v, "field 'attempt' must be a token");
    v = result_value("a");
    mlf_map_set(v, "outcome", mlf_value_str("exploded"));
    expect_value_refused(MLF_PROTO_RESULT, v, "outcome");
    v = result_value("../x");
    expect_value_refused(MLF_PROTO_RESULT, v, "field 'attempt' must be a token");
}
END_TEST

/* Unknown fields are ignored: a newer peer may add some. */
START_TEST(test_unknown_fields_ignored)
{
    mlf_value *v = ready_value();
    mlf_map_set(v, "gpu_memory", mlf_value_int(80));
    void *buf;
    size_t len;
    ck_assert_int_eq(mlf_value_pack(v, &buf, &len), MLF_OK);
    mlf_proto_msg m;
    char err[256];
    ck_assert_int_eq(decode_body(MLF_PROTO_READY, buf, len, &m, err, sizeof err), MLF_OK);
    ck_assert_str_eq(m.name, "w1");
    mlf_proto_msg_clear(&m);
    free(buf);
    mlf_value_free(v);
}
END_TEST

/* Random bytes and mutations of valid messages: decoding ends with OK or an error, never a crash or a leak
 * (the sanitizer build checks the latter). */
START_TEST(test_random_frames)
{
    unsigned seed = 12345;
    mlf_value *spec = spec_value("att");
    mlf_proto_msg r = ready_msg(), t = {.cmd = MLF_PROTO_TASK, .payload = spec};
    wire seeds[2] = {encode_ok(&r), encode_ok(&t)};
    unsigned char buf[4096];
    int decoded = 0, refused = 0;
    for (int i = 0; i < 20000; i++) {
        wire *s = &seeds[i % 2];
        size_t len;
        if (i % 4 == 0) { /* pure noise */
            len = (size_t)rand_r(&seed) % 64;
            for (size_t k = 0; k < len; k++)
                buf[k] = (unsigned char)rand_r(&seed);
        } else { /* a valid body, truncated and with a few bytes flipped */
            len = s->len < sizeof buf ? s->len : sizeof buf;
            memcpy(buf, s->body, len);
            if (i % 3 == 0)
                len = (size_t)rand_r(&seed) % (len + 1);
            for (int k = 0; k < 1 + i % 4 && len; k++)
                buf[(size_t)rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
        }
        mlf_proto_msg m;
        char err[256];
        int rc = decode_body(s->cmd, buf, len, &m, err, sizeof err);
        if (rc == MLF_OK)
            decoded++;
        else
            refused++;
        ck_assert(rc == MLF_OK || rc == MLF_EPARSE || rc == MLF_ETOOBIG);
        mlf_proto_msg_clear(&m);
    }
    ck_assert_int_gt(refused, 10000);
    ck_assert_int_gt(decoded, 0); /* flips inside strings keep some valid */
    free(seeds[0].body);
    free(seeds[1].body);
    mlf_value_free(spec);
}
END_TEST

/* ---------------------------------------------------------------- over zmq */

/* mlf_proto_recv() after waiting up to a second for the socket to become readable. */
static int recv_wait(void *sock, int router, mlf_proto_peer *peer, mlf_proto_msg *m, char *err, size_t errlen)
{
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 1000);
    return mlf_proto_recv(sock, router, peer, m, err, errlen);
}

/* Issue 15: a body of 1-byte values is refused by its value budget before anything is allocated (each
 * decodes into ~70 bytes), and a LOG offset near INT64_MAX (offset + length would overflow) is refused. */
START_TEST(test_value_budget_and_log_offset)
{
    size_t n = 200000, len = 0;
    unsigned char *b = malloc(n + 32);
    b[len++] = 0x81;
    b[len++] = 0xa4;
    memcpy(b + len, "name", 4);
    len += 4;
    b[len++] = 0xdd; /* array32 of n nils */
    b[len++] = (unsigned char)(n >> 24);
    b[len++] = (unsigned char)(n >> 16);
    b[len++] = (unsigned char)(n >> 8);
    b[len++] = (unsigned char)n;
    memset(b + len, 0xc0, n);
    len += n;
    mlf_proto_msg m;
    char err[300];
    ck_assert_int_eq(decode_body(MLF_PROTO_READY, b, len, &m, err, sizeof err), MLF_ETOOBIG);
    ck_assert_msg(strstr(err, "values allowed"), "%s", err);
    mlf_proto_msg_clear(&m);
    len = 0;
    b[len++] = 0x81;
    b[len++] = 0xa1;
    b[len++] = 'x';
    b[len++] = 0xdc; /* array16 of 100 nils: far below 4 KiB, above 64 values */
    b[len++] = 0;
    b[len++] = 100;
    memset(b + len, 0xc0, 100);
    len += 100;
    ck_assert_int_eq(decode_body(MLF_PROTO_HEARTBEAT, b, len, &m, err, sizeof err), MLF_ETOOBIG);
    mlf_proto_msg_clear(&m);
    free(b);
    ck_assert_uint_eq(mlf_proto_value_budget(MLF_PROTO_HEARTBEAT), 64);
    ck_assert(mlf_proto_from_worker(MLF_PROTO_RESULT) && !mlf_proto_from_worker(MLF_PROTO_TASK));
    ck_assert(mlf_proto_from_scheduler(MLF_PROTO_ACK) && !mlf_proto_from_scheduler(MLF_PROTO_READY));

    mlf_value *body = mlf_value_map();
    mlf_map_set(body, "attempt", mlf_value_str("a1"));
    mlf_map_set(body, "offset", mlf_value_int(INT64_MAX - 2));
    mlf_map_set(body, "data", mlf_value_bin("xyz", 3));
    void *packed;
    size_t plen;
    ck_assert_int_eq(mlf_value_pack(body, &packed, &plen), MLF_OK);
    ck_assert_int_eq(decode_body(MLF_PROTO_LOG, packed, plen, &m, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strstr(err, "offset"), "%s", err);
    mlf_proto_msg_clear(&m);
    free(packed);
    mlf_value_free(body);
}
END_TEST

START_TEST(test_send_recv_zmq)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER), *dealer = zmq_socket(ctx, ZMQ_DEALER);
    ck_assert_int_eq(zmq_bind(router, "inproc://proto-test"), 0);
    ck_assert_int_eq(zmq_connect(dealer, "inproc://proto-test"), 0);
    mlf_proto_peer peer;
    mlf_proto_msg m;
    char err[256];
    ck_assert_int_eq(mlf_proto_recv(router, 1, &peer, &m, err, sizeof err), EAGAIN);

    mlf_proto_msg r = ready_msg();
    ck_assert_int_eq(mlf_proto_send(dealer, NULL, 0, &r), MLF_OK);
    /* garbage in between: six frames, then a truncated body */
    for (int i = 0; i < 6; i++)
        zmq_send(dealer, "junk", 4, i < 5 ? ZMQ_SNDMORE : 0);
    zmq_send(dealer, MLF_PROTO_SIGNATURE, 6, ZMQ_SNDMORE);
    zmq_send(dealer, "\x01", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "\x8f", 1, 0);
    mlf_proto_msg hb = {.cmd = MLF_PROTO_HEARTBEAT};
    ck_assert_int_eq(mlf_proto_send(dealer, NULL, 0, &hb), MLF_OK);

    ck_assert_int_eq(recv_wait(router, 1, &peer, &m, err, sizeof err), MLF_OK);
    ck_assert_int_eq(m.cmd, MLF_PROTO_READY);
    ck_assert_str_eq(m.name, "w1");
    ck_assert_uint_gt(peer.rid_len, 0);
    ck_assert_str_eq(peer.user_id, "");
    mlf_proto_msg_clear(&m);
    mlf_proto_peer first = peer;
    ck_assert_int_eq(mlf_proto_recv(router, 1, &peer, &m, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "expected 3 frames, got 6"));
    ck_assert(peer.rid_len == first.rid_len && memcmp(peer.rid, first.rid, peer.rid_len) == 0);
    mlf_proto_msg_clear(&m);
    ck_assert_int_eq(mlf_proto_recv(router, 1, &peer, &m, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "READY: the body is not valid msgpack"));
    mlf_proto_msg_clear(&m);
    ck_assert_int_eq(mlf_proto_recv(router, 1, &peer, &m, err, sizeof err), MLF_OK);
    ck_assert_int_eq(m.cmd, MLF_PROTO_HEARTBEAT);
    mlf_proto_msg_clear(&m);
    ck_assert_int_eq(mlf_proto_recv(router, 1, &peer, &m, err, sizeof err), EAGAIN);

    /* and back, through the routing id */
    mlf_proto_msg kill = {.cmd = MLF_PROTO_KILL, .attempt = "a1", .reason = "cleared"};
    ck_assert_int_eq(mlf_proto_send(router, first.rid, first.rid_len, &kill), MLF_OK);
    ck_assert_int_eq(recv_wait(dealer, 0, &peer, &m, err, sizeof err), MLF_OK);
    ck_assert_int_eq(m.cmd, MLF_PROTO_KILL);
    ck_assert_str_eq(m.attempt, "a1");
    ck_assert_uint_eq(peer.rid_len, 0);
    mlf_proto_msg_clear(&m);
    /* a peer that does not exist: with ROUTER_MANDATORY the send fails instead of vanishing */
    int one = 1;
    zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    ck_assert_int_eq(mlf_proto_send(router, "nobody", 6, &kill), EHOSTUNREACH);

    zmq_close(dealer);
    zmq_close(router);
    zmq_ctx_term(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ready_roundtrip);
    tcase_add_test(tc, test_small_commands_roundtrip);
    tcase_add_test(tc, test_task_and_result_roundtrip);
    tcase_add_test(tc, test_encode_refuses_invalid);
    tcase_add_test(tc, test_frame_counts_signature_command);
    tcase_add_test(tc, test_hostile_bodies);
    tcase_add_test(tc, test_wrong_fields);
    tcase_add_test(tc, test_unknown_fields_ignored);
    tcase_add_test(tc, test_random_frames);
    tcase_add_test(tc, test_send_recv_zmq);
    tcase_add_test(tc, test_value_budget_and_log_offset);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
