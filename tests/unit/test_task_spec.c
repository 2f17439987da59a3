/* Unit tests for core/task_spec.c: the TASK SPEC and TASK RESULT messages survive msgpack round trips, and
 * strict decoding refuses every malformed field with a message naming it. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/task_spec.h"

/* ---- a full spec, built through the encoder ---- */

static mlf_value *full_spec_value(void)
{
    static const char *const downstream[] = {"left", "right"};
    static const char *const secrets[] = {"s3cr3t", "t0ken"};
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "command", mlf_value_str("echo hi"));
    mlf_map_set(params, "retries", mlf_value_int(3));
    mlf_value *dag_params = mlf_value_map();
    mlf_value *syms = mlf_value_array();
    mlf_array_append(syms, mlf_value_str("btc"));
    mlf_map_set(dag_params, "symbols", syms);
    mlf_value *xin = mlf_value_map();
    mlf_value *up = mlf_value_map();
    mlf_map_set(up, "return_value", mlf_value_float(1.5));
    mlf_map_set(xin, "fetch", up);
    mlf_value *conns = mlf_value_map();
    mlf_value *db = mlf_value_map();
    mlf_map_set(db, "conn_type", mlf_value_str("sqlite"));
    mlf_map_set(db, "host", mlf_value_str("db.local"));
    mlf_map_set(db, "port", mlf_value_int(5432));
    mlf_map_set(db, "password", mlf_value_nil());
    mlf_map_set(db, "extra", mlf_value_map());
    mlf_map_set(conns, "db", db);
    mlf_task_spec s = {.dag_id = "crypto", .task_id = "fetch", .run_id = "scheduled__2024-01-01",
                       .map_index = 2, .try_number = 3, .attempt = "tok-1", .operator_name = "shell",
                       .plugin_path = "/p/shell.la", .is_branch = 1, .downstream = downstream,
                       .ndownstream = 2, .params = params, .dag_params = dag_params, .xcom_inputs = xin,
                       .logical_date = INT64_C(1704067200000000), .data_interval_start = INT64_C(1704067200000000),
                       .data_interval_end = INT64_C(1704153600000000), .log_path = "/logs/a/1.log",
                       .xcom_max_size = 65536, .secrets = secrets, .nsecrets = 2, .connections = conns,
                       .execution_timeout = INT64_C(900000000), .sensor_poke = 1};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_OK);
    mlf_value_free(params);
    mlf_value_free(dag_params);
    mlf_value_free(xin);
    mlf_value_free(conns);
    return v;
}

/* pack + unpack, as the bytes travel */
static mlf_value *through_msgpack(const mlf_value *v)
{
    void *buf;
    size_t len;
    ck_assert_int_eq(mlf_value_pack(v, &buf, &len), MLF_OK);
    mlf_value *out = NULL;
    ck_assert_int_eq(mlf_value_unpack(buf, len, &out), MLF_OK);
    free(buf);
    return out;
}

START_TEST(test_spec_round_trip)
{
    mlf_value *v = full_spec_value();
    mlf_value *w = through_msgpack(v);
    mlf_task_spec *s = NULL;
    char err[256];
    ck_assert_int_eq(mlf_task_spec_decode(w, &s, err, sizeof err), MLF_OK);
    ck_assert_str_eq(s->dag_id, "crypto");
    ck_assert_str_eq(s->task_id, "fetch");
    ck_assert_str_eq(s->run_id, "scheduled__2024-01-01");
    ck_assert_int_eq(s->map_index, 2);
    ck_assert_int_eq(s->try_number, 3);
    ck_assert_str_eq(s->attempt, "tok-1");
    ck_assert_str_eq(s->operator_name, "shell");
    ck_assert_str_eq(s->plugin_path, "/p/shell.la");
    ck_assert_int_eq(s->is_branch, 1);
    ck_assert_uint_eq(s->ndownstream, 2);
    ck_assert_str_eq(s->downstream[0], "left");
    ck_assert_str_eq(s->downstream[1], "right");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(s->params, "command"), NULL), "echo hi");
    ck_assert_str_eq(mlf_value_get_str(mlf_array_at(mlf_map_get(s->dag_params, "symbols"), 0), NULL), "btc");
    double d = 0;
    ck_assert_int_eq(mlf_value_get_float(mlf_map_get(mlf_map_get(s->xcom_inputs, "fetch"), "return_value"), &d), MLF_OK);
    ck_assert(d == 1.5);
    ck_assert(s->logical_date == INT64_C(1704067200000000));
    ck_assert(s->data_interval_start == INT64_C(1704067200000000));
    ck_assert(s->data_interval_end == INT64_C(1704153600000000));
    ck_assert_str_eq(s->log_path, "/logs/a/1.log");
    ck_assert(s->xcom_max_size == 65536);
    ck_assert_uint_eq(s->nsecrets, 2);
    ck_assert_str_eq(s->secrets[1], "t0ken");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_map_get(s->connections, "db"), "host"), NULL), "db.local");
    ck_assert(s->execution_timeout == INT64_C(900000000));
    ck_assert_int_eq(s->sensor_poke, 1);
    /* re-encoding the decoded spec gives the same message */
    mlf_value *again = NULL;
    ck_assert_int_eq(mlf_task_spec_encode(s, &again), MLF_OK);
    ck_assert(mlf_value_equal(again, v));
    mlf_value_free(again);
    mlf_task_spec_free(s);
    mlf_value_free(w);
    mlf_value_free(v);
}
END_TEST

/* Only the required fields: the optional ones take their documented defaults. */
START_TEST(test_spec_minimal_defaults)
{
    mlf_value *v = full_spec_value();
    static const char *const optional[] = {"is_branch", "downstream", "params", "dag_params", "xcom_inputs",
                                           "xcom_max_size", "secrets", "connections", "execution_timeout",
                                           "sensor_poke"};
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        ck_assert_int_eq(mlf_map_remove(v, optional[i]), MLF_OK);
    mlf_map_set(v, "from_the_future", mlf_value_str("ignored")); /* unknown fields are ignored */
    mlf_task_spec *s = NULL;
    char err[256];
    ck_assert_msg(mlf_task_spec_decode(v, &s, err, sizeof err) == MLF_OK, "%s", err);
    ck_assert_int_eq(s->is_branch, 0);
    ck_assert_uint_eq(s->ndownstream, 0);
    ck_assert_ptr_nonnull(s->downstream);
    ck_assert_int_eq(mlf_value_type(s->params), MLF_MAP);
    ck_assert_uint_eq(mlf_value_len(s->params), 0);
    ck_assert_int_eq(mlf_value_type(s->dag_params), MLF_MAP);
    ck_assert_int_eq(mlf_value_type(s->xcom_inputs), MLF_MAP);
    ck_assert_int_eq(mlf_value_type(s->connections), MLF_MAP);
    ck_assert(s->xcom_max_size == 0);
    ck_assert_uint_eq(s->nsecrets, 0);
    ck_assert(s->execution_timeout == 0);
    ck_assert_int_eq(s->sensor_poke, 0);
    mlf_task_spec_free(s);
    mlf_value_free(v);
}
END_TEST

static const char *const required_spec_fields[] = {
    "dag_id", "task_id", "run_id", "map_index", "try_number", "attempt", "operator", "plugin",
    "logical_date", "data_interval_start", "data_interval_end", "log_path"};

START_TEST(test_spec_missing_required)
{
    const char *key = required_spec_fields[_i];
    mlf_value *v = full_spec_value();
    ck_assert_int_eq(mlf_map_remove(v, key), MLF_OK);
    mlf_task_spec *s = (mlf_task_spec *)1;
    char err[256], want[128];
    ck_assert_int_eq(mlf_task_spec_decode(v, &s, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_null(s);
    snprintf(want, sizeof want, "task spec: field '%s' is missing", key);
    ck_assert_str_eq(err, want);
    mlf_value_free(v);
}
END_TEST

/* One malformed field: the key to set (dotted paths go into nested maps), a value maker, and a piece of the
 * message the refusal must contain. */
typedef struct bad_field {
    const char *key;
    mlf_value *(*make)(void);
    const char *expect;
} bad_field;

static mlf_value *mk_str(void) { return mlf_value_str("x"); }
static mlf_value *mk_empty_str(void) { return mlf_value_str(""); }
static mlf_value *mk_nul_str(void) { return mlf_value_strn("a\0b", 3); }
static mlf_value *mk_int(void) { return mlf_value_int(7); }
static mlf_value *mk_neg2(void) { return mlf_value_int(-2); }
static mlf_value *mk_zero(void) { return mlf_value_int(0); }
static mlf_value *mk_neg1(void) { return mlf_value_int(-1); }
static mlf_value *mk_big(void) { return mlf_value_int(INT64_C(1) << 40); }
static mlf_value *mk_float(void) { return mlf_value_float(1.5); }
static mlf_value *mk_nil(void) { return mlf_value_nil(); }
static mlf_value *mk_true(void) { return mlf_value_bool(1); }
static mlf_value *mk_bin(void) { return mlf_value_bin("ab", 2); }
static mlf_value *mk_map(void) { return mlf_value_map(); }
static mlf_value *mk_array(void) { return mlf_value_array(); }
static mlf_value *mk_array_with_int(void)
{
    mlf_value *a = mlf_value_array();
    mlf_array_append(a, mlf_value_str("ok"));
    mlf_array_append(a, mlf_value_int(1));
    return a;
}
static mlf_value *mk_array_with_empty(void)
{
    mlf_value *a = mlf_value_array();
    mlf_array_append(a, mlf_value_str(""));
    return a;
}
static mlf_value *mk_map_of_int(void)
{
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "up", mlf_value_int(1));
    return m;
}
static mlf_value *mk_port_70000(void) { return mlf_value_int(70000); }

static const bad_field bad_spec_fields[] = {
    {"dag_id", mk_int, "field 'dag_id' must be str, got int"},
    {"dag_id", mk_empty_str, "field 'dag_id' is empty"},
    {"dag_id", mk_nul_str, "field 'dag_id' contains a NUL byte"},
    {"dag_id", mk_bin, "field 'dag_id' must be str, got bin"},
    {"task_id", mk_nil, "field 'task_id' must be str, got nil"},
    {"run_id", mk_map, "field 'run_id' must be str, got map"},
    {"map_index", mk_str, "field 'map_index' must be int, got str"},
    {"map_index", mk_neg2, "field 'map_index' is out of range (-2"},
    {"map_index", mk_big, "field 'map_index' is out of range"},
    {"try_number", mk_zero, "field 'try_number' is out of range (0, expected 1..2147483647)"},
    {"try_number", mk_float, "field 'try_number' must be int, got float"},
    {"attempt", mk_empty_str, "field 'attempt' is empty"},
    {"operator", mk_true, "field 'operator' must be str, got bool"},
    {"plugin", mk_array, "field 'plugin' must be str, got array"},
    {"is_branch", mk_int, "field 'is_branch' must be bool, got int"},
    {"downstream", mk_str, "field 'downstream' must be array, got str"},
    {"downstream", mk_array_with_int, "field 'downstream[1]' must be str, got int"},
    {"downstream", mk_array_with_empty, "field 'downstream[0]' is empty"},
    {"params", mk_array, "field 'params' must be map, got array"},
    {"dag_params", mk_str, "field 'dag_params' must be map, got str"},
    {"xcom_inputs", mk_int, "field 'xcom_inputs' must be map, got int"},
    {"xcom_inputs", mk_map_of_int, "field 'xcom_inputs.up' must be map, got int"},
    {"logical_date", mk_str, "field 'logical_date' must be int, got str"},
    {"data_interval_start", mk_float, "field 'data_interval_start' must be int, got float"},
    {"data_interval_end", mk_nil, "field 'data_interval_end' must be int, got nil"},
    {"log_path", mk_empty_str, "field 'log_path' is empty"},
    {"xcom_max_size", mk_neg1, "field 'xcom_max_size' is out of range (-1"},
    {"xcom_max_size", mk_str, "field 'xcom_max_size' must be int, got str"},
    {"secrets", mk_map, "field 'secrets' must be array, got map"},
    {"secrets", mk_array_with_int, "field 'secrets[1]' must be str, got int"},
    {"connections", mk_array, "field 'connections' must be map, got array"},
    {"connections", mk_map_of_int, "field 'connections.up' must be map, got int"},
    {"connections.db.port", mk_str, "field 'connections.db.port' must be int or nil, got str"},
    {"connections.db.port", mk_port_70000, "field 'connections.db.port' is out of range (70000"},
    {"connections.db.host", mk_int, "field 'connections.db.host' must be str or nil, got int"},
    {"connections.db.password", mk_nul_str, "field 'connections.db.password' contains a NUL byte"},
    {"connections.db.extra", mk_array, "field 'connections.db.extra' must be map or nil, got array"},
    {"execution_timeout", mk_neg1, "field 'execution_timeout' is out of range (-1"},
    {"execution_timeout", mk_str, "field 'execution_timeout' must be int, got str"},
    {"sensor_poke", mk_str, "field 'sensor_poke' must be bool, got str"},
};

/* Sets a (possibly dotted) key of a message map. */
static void set_path(mlf_value *v, const char *path, mlf_value *val)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    char *key = buf, *dot;
    while ((dot = strchr(key, '.'))) {
        *dot = '\0';
        v = (mlf_value *)mlf_map_get(v, key);
        ck_assert_ptr_nonnull(v);
        key = dot + 1;
    }
    ck_assert_int_eq(mlf_map_set(v, key, val), MLF_OK);
}

START_TEST(test_spec_malformed_field)
{
    const bad_field *b = &bad_spec_fields[_i];
    mlf_value *v = full_spec_value();
    set_path(v, b->key, b->make());
    mlf_value *w = through_msgpack(v); /* what a peer would send */
    mlf_task_spec *s = NULL;
    char err[256];
    ck_assert_int_eq(mlf_task_spec_decode(w, &s, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, b->expect) != NULL, "%s: got '%s', want '%s'", b->key, err, b->expect);
    ck_assert(strncmp(err, "task spec: ", 11) == 0);
    mlf_value_free(w);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_spec_not_a_map_and_bad_args)
{
    char err[64];
    mlf_task_spec *s = NULL;
    mlf_value *a = mlf_value_array();
    ck_assert_int_eq(mlf_task_spec_decode(a, &s, err, sizeof err), MLF_EPARSE);
    ck_assert_str_eq(err, "task spec: expected a map, got array");
    ck_assert_int_eq(mlf_task_spec_decode(NULL, &s, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_task_spec_decode(a, &s, NULL, 0), MLF_EPARSE); /* no message buffer is fine */
    /* a short buffer truncates the message but never overflows */
    char tiny[8];
    ck_assert_int_eq(mlf_task_spec_decode(a, &s, tiny, sizeof tiny), MLF_EPARSE);
    ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1);
    mlf_value_free(a);
    mlf_task_spec_free(NULL);
}
END_TEST

START_TEST(test_spec_encode_refuses_incomplete)
{
    mlf_value *v = NULL;
    mlf_task_spec s = {.dag_id = "d", .task_id = "t", .run_id = "r", .try_number = 1, .attempt = "a",
                       .operator_name = "o", .plugin_path = "/p", .log_path = NULL};
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_EINVAL); /* no log path */
    s.log_path = "/l";
    s.ndownstream = 2; /* a count without its array */
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_EINVAL);
    s.ndownstream = 0;
    mlf_value *notmap = mlf_value_array();
    s.params = notmap;
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_EINVAL);
    ck_assert_ptr_null(v);
    s.params = NULL;
    ck_assert_int_eq(mlf_task_spec_encode(&s, &v), MLF_OK);
    mlf_task_spec *d = NULL;
    ck_assert_int_eq(mlf_task_spec_decode(v, &d, NULL, 0), MLF_OK);
    ck_assert_int_eq(d->map_index, 0);
    mlf_task_spec_free(d);
    mlf_value_free(v);
    mlf_value_free(notmap);
}
END_TEST

/* ---- results ---- */

static mlf_value *full_result_value(int branched)
{
    static const char *const followed[] = {"left"};
    mlf_value *xcoms = mlf_value_map();
    mlf_map_set(xcoms, "return_value", mlf_value_str("42"));
    mlf_map_set(xcoms, "blob", mlf_value_bin("\0\1", 2));
    mlf_task_result r = {.attempt = "tok-1", .outcome = MLF_RESCHEDULE, .message = "not yet",
                         .xcoms = xcoms, .branched = branched, .followed = branched ? followed : NULL,
                         .nfollowed = branched ? 1 : 0, .reschedule_at = 77, .start_date = 100,
                         .end_date = 200, .exit_status = 0, .exit_signal = 0, .pid = 4242,
                         .hostname = "worker-1"};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_result_encode(&r, &v), MLF_OK);
    mlf_value_free(xcoms);
    return v;
}

START_TEST(test_result_round_trip)
{
    for (int branched = 0; branched < 2; branched++) {
        mlf_value *v = full_result_value(branched);
        mlf_value *w = through_msgpack(v);
        mlf_task_result *r = NULL;
        char err[256];
        ck_assert_int_eq(mlf_task_result_decode(w, &r, err, sizeof err), MLF_OK);
        ck_assert_str_eq(r->attempt, "tok-1");
        ck_assert_int_eq(r->outcome, MLF_RESCHEDULE);
        ck_assert_str_eq(r->message, "not yet");
        ck_assert_str_eq(mlf_value_get_str(mlf_map_get(r->xcoms, "return_value"), NULL), "42");
        ck_assert_int_eq(mlf_value_type(mlf_map_get(r->xcoms, "blob")), MLF_BIN);
        ck_assert_int_eq(r->branched, branched);
        if (branched) {
            ck_assert_uint_eq(r->nfollowed, 1);
            ck_assert_str_eq(r->followed[0], "left");
        } else {
            ck_assert_ptr_null(r->followed); /* follow never called: nil on the wire */
            ck_assert_int_eq(mlf_value_type(mlf_map_get(w, "followed")), MLF_NIL);
        }
        ck_assert(r->reschedule_at == 77 && r->start_date == 100 && r->end_date == 200);
        ck_assert_int_eq(r->exit_status, 0);
        ck_assert(r->pid == 4242);
        ck_assert_str_eq(r->hostname, "worker-1");
        mlf_value *again = NULL;
        ck_assert_int_eq(mlf_task_result_encode(r, &again), MLF_OK);
        ck_assert(mlf_value_equal(again, v));
        mlf_value_free(again);
        mlf_task_result_free(r);
        mlf_value_free(w);
        mlf_value_free(v);
    }
}
END_TEST

/* A branch that followed nothing is not the same as one that never called follow. */
START_TEST(test_result_followed_empty_list)
{
    mlf_task_result r = {.attempt = "a", .outcome = MLF_SUCCESS, .branched = 1};
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_task_result_encode(&r, &v), MLF_OK);
    mlf_task_result *d = NULL;
    ck_assert_int_eq(mlf_task_result_decode(v, &d, NULL, 0), MLF_OK);
    ck_assert_int_eq(d->branched, 1);
    ck_assert_uint_eq(d->nfollowed, 0);
    ck_assert_ptr_null(d->message);
    mlf_task_result_free(d);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_result_minimal_defaults)
{
    mlf_value *v = mlf_value_map();
    mlf_map_set(v, "attempt", mlf_value_str("a"));
    mlf_map_set(v, "outcome", mlf_value_str("skipped"));
    mlf_map_set(v, "start_date", mlf_value_int(1));
    mlf_map_set(v, "end_date", mlf_value_int(2));
    mlf_task_result *r = NULL;
    char err[256];
    ck_assert_msg(mlf_task_result_decode(v, &r, err, sizeof err) == MLF_OK, "%s", err);
    ck_assert_int_eq(r->outcome, MLF_SKIPPED);
    ck_assert_ptr_null(r->message);
    ck_assert_int_eq(mlf_value_type(r->xcoms), MLF_MAP);
    ck_assert_int_eq(r->branched, 0);
    ck_assert(r->reschedule_at == 0);
    ck_assert_int_eq(r->exit_status, -1);
    ck_assert_int_eq(r->exit_signal, 0);
    ck_assert(r->pid == 0);
    ck_assert_str_eq(r->hostname, "");
    mlf_task_result_free(r);
    for (const char *const *k = (const char *const[]){"attempt", "outcome", "start_date", "end_date", NULL}; *k;
         k++) {
        mlf_value *c = mlf_value_copy(v);
        mlf_map_remove(c, *k);
        char want[96];
        snprintf(want, sizeof want, "task result: field '%s' is missing", *k);
        ck_assert_int_eq(mlf_task_result_decode(c, &r, err, sizeof err), MLF_EPARSE);
        ck_assert_str_eq(err, want);
        mlf_value_free(c);
    }
    mlf_value_free(v);
}
END_TEST

static const bad_field bad_result_fields[] = {
    {"attempt", mk_int, "field 'attempt' must be str, got int"},
    {"attempt", mk_empty_str, "field 'attempt' is empty"},
    {"outcome", mk_int, "field 'outcome' must be str, got int"},
    {"outcome", mk_str, "field 'outcome' has an unknown value 'x'"},
    {"start_date", mk_str, "field 'start_date' must be int, got str"},
    {"end_date", mk_float, "field 'end_date' must be int, got float"},
    {"message", mk_int, "field 'message' must be str or nil, got int"},
    {"message", mk_nul_str, "field 'message' contains a NUL byte"},
    {"xcoms", mk_array, "field 'xcoms' must be map, got array"},
    {"followed", mk_str, "field 'followed' must be array or nil, got str"},
    {"followed", mk_array_with_int, "field 'followed[1]' must be str, got int"},
    {"reschedule_at", mk_true, "field 'reschedule_at' must be int, got bool"},
    {"exit_status", mk_neg2, "field 'exit_status' is out of range (-2"},
    {"exit_signal", mk_port_70000, "field 'exit_signal' is out of range (70000"},
    {"pid", mk_neg1, "field 'pid' is out of range (-1"},
    {"hostname", mk_nil, "field 'hostname' must be str, got nil"},
};

START_TEST(test_result_malformed_field)
{
    const bad_field *b = &bad_result_fields[_i];
    mlf_value *v = full_result_value(1);
    set_path(v, b->key, b->make());
    mlf_value *w = through_msgpack(v);
    mlf_task_result *r = NULL;
    char err[256];
    ck_assert_int_eq(mlf_task_result_decode(w, &r, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err, b->expect) != NULL, "%s: got '%s', want '%s'", b->key, err, b->expect);
    ck_assert(strncmp(err, "task result: ", 13) == 0);
    mlf_value_free(w);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_result_encode_refuses_bad)
{
    mlf_value *v = NULL;
    mlf_task_result r = {.attempt = NULL, .outcome = MLF_SUCCESS};
    ck_assert_int_eq(mlf_task_result_encode(&r, &v), MLF_EINVAL);
    r.attempt = "a";
    r.outcome = (mlf_outcome)9;
    ck_assert_int_eq(mlf_task_result_encode(&r, &v), MLF_EINVAL);
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_outcome_names)
{
    for (int o = MLF_SUCCESS; o <= MLF_RESCHEDULE; o++) {
        mlf_outcome back;
        ck_assert_int_eq(mlf_outcome_parse(mlf_outcome_name((mlf_outcome)o), &back), MLF_OK);
        ck_assert_int_eq(back, o);
    }
    ck_assert_str_eq(mlf_outcome_name(MLF_FAILED_NO_RETRY), "failed_no_retry");
    ck_assert_str_eq(mlf_outcome_name((mlf_outcome)17), "unknown");
    mlf_outcome o;
    ck_assert_int_eq(mlf_outcome_parse("Success", &o), MLF_EPARSE);
    ck_assert_int_eq(mlf_outcome_parse(NULL, &o), MLF_EPARSE);
}
END_TEST

START_TEST(test_frame_pack)
{
    mlf_value *v = full_result_value(0);
    void *frame;
    size_t len;
    ck_assert_int_eq(mlf_task_frame_pack(v, &frame, &len), MLF_OK);
    ck_assert_uint_gt(len, MLF_TASK_FRAME_HEADER);
    ck_assert_uint_eq(mlf_task_frame_length(frame), len - MLF_TASK_FRAME_HEADER);
    mlf_value *back = NULL;
    ck_assert_int_eq(mlf_value_unpack((char *)frame + MLF_TASK_FRAME_HEADER, len - MLF_TASK_FRAME_HEADER, &back),
                     MLF_OK);
    ck_assert(mlf_value_equal(back, v));
    const unsigned char big[4] = {0x01, 0x02, 0x03, 0x04};
    ck_assert_uint_eq(mlf_task_frame_length(big), 0x01020304u); /* big-endian */
    ck_assert_int_eq(mlf_task_frame_pack(NULL, &frame, &len), MLF_EINVAL);
    free(frame);
    mlf_value_free(back);
    mlf_value_free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("task_spec");
    TCase *tc = tcase_create("spec");
    tcase_add_test(tc, test_spec_round_trip);
    tcase_add_test(tc, test_spec_minimal_defaults);
    tcase_add_loop_test(tc, test_spec_missing_required, 0,
                        (int)(sizeof required_spec_fields / sizeof required_spec_fields[0]));
    tcase_add_loop_test(tc, test_spec_malformed_field, 0, (int)(sizeof bad_spec_fields / sizeof bad_spec_fields[0]));
    tcase_add_test(tc, test_spec_not_a_map_and_bad_args);
    tcase_add_test(tc, test_spec_encode_refuses_incomplete);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("result");
    tcase_add_test(tr, test_result_round_trip);
    tcase_add_test(tr, test_result_followed_empty_list);
    tcase_add_test(tr, test_result_minimal_defaults);
    tcase_add_loop_test(tr, test_result_malformed_field, 0,
                        (int)(sizeof bad_result_fields / sizeof bad_result_fields[0]));
    tcase_add_test(tr, test_result_encode_refuses_bad);
    tcase_add_test(tr, test_outcome_names);
    tcase_add_test(tr, test_frame_pack);
    suite_add_tcase(s, tr);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
