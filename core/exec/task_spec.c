/* task_spec.c -- the TASK SPEC and TASK RESULT messages: strict encode and decode (see task_spec.h). */
#include "base/ids.h"
#include "exec/task_spec.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"

static const char *const outcome_names[] = {
    [MLF_SUCCESS] = "success", [MLF_FAILED] = "failed", [MLF_FAILED_NO_RETRY] = "failed_no_retry",
    [MLF_SKIPPED] = "skipped", [MLF_RESCHEDULE] = "reschedule"};
#define NOUTCOMES (sizeof outcome_names / sizeof outcome_names[0])

const char *mlf_outcome_name(mlf_outcome o)
{
    return (unsigned)o < NOUTCOMES ? outcome_names[o] : "unknown";
}

int mlf_outcome_parse(const char *name, mlf_outcome *out)
{
    for (size_t i = 0; name && i < NOUTCOMES; i++)
        if (strcmp(name, outcome_names[i]) == 0) {
            *out = (mlf_outcome)i;
            return MLF_OK;
        }
    return MLF_EPARSE;
}

/* ------------------------------------------------------------------------------------------ decoding */

/* One decoding pass over a message map; the first error wins and is kept in err. */
typedef struct decoder {
    const mlf_value *map;
    const char *what; /* "task spec" / "task result" */
    char *err;
    size_t errlen;
    int rc;
} decoder;

static void fail(decoder *d, const char *fmt, ...) MLF_PRINTF(2, 3);
static void fail(decoder *d, const char *fmt, ...)
{
    if (d->rc != MLF_OK)
        return;
    d->rc = MLF_EPARSE;
    if (!d->err || !d->errlen)
        return;
    int n = snprintf(d->err, d->errlen, "%s: ", d->what);
    if (n < 0 || (size_t)n >= d->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void fail_type(decoder *d, const char *key, const char *want, const mlf_value *v)
{
    fail(d, "field '%s' must be %s, got %s", key, want, mlf_type_name(mlf_value_type(v)));
}

/* The field's value, or NULL when absent (an error when required). */
static const mlf_value *field(decoder *d, const char *key, int required)
{
    const mlf_value *v = mlf_map_get(d->map, key);
    if (!v && required)
        fail(d, "field '%s' is missing", key);
    return v;
}

/* A str without embedded NULs (C code reads it as a C string); non-empty when asked. */
static int check_str(decoder *d, const char *key, const mlf_value *v, int nonempty, const char **out)
{
    size_t len;
    const char *s = mlf_value_get_str(v, &len);
    if (!s) {
        fail_type(d, key, "str", v);
        return 0;
    }
    if (strlen(s) != len) {
        fail(d, "field '%s' contains a NUL byte", key);
        return 0;
    }
    if (nonempty && len == 0) {
        fail(d, "field '%s' is empty", key);
        return 0;
    }
    *out = s;
    return 1;
}

static void get_str(decoder *d, const char *key, int required, int nonempty, const char **out, const char *dflt)
{
    const mlf_value *v = field(d, key, required);
    *out = dflt;
    if (v)
        check_str(d, key, v, nonempty, out);
}

/* A str, or nil (stored as NULL). */
static void get_str_or_nil(decoder *d, const char *key, const char **out)
{
    const mlf_value *v = field(d, key, 0);
    *out = NULL;
    if (v && mlf_value_type(v) != MLF_NIL && mlf_value_type(v) != MLF_STR)
        fail_type(d, key, "str or nil", v);
    else if (v && mlf_value_type(v) == MLF_STR)
        check_str(d, key, v, 0, out);
}

static void get_int(decoder *d, const char *key, int required, int64_t lo, int64_t hi, int64_t *out, int64_t dflt)
{
    const mlf_value *v = field(d, key, required);
    *out = dflt;
    if (!v)
        return;
    int64_t i;
    if (mlf_value_get_int(v, &i) != MLF_OK) {
        fail_type(d, key, "int", v);
        return;
    }
    if (i < lo || i > hi) {
        fail(d, "field '%s' is out of range (%lld, expected %lld..%lld)", key, (long long)i, (long long)lo,
             (long long)hi);
        return;
    }
    *out = i;
}

static void get_int32(decoder *d, const char *key, int required, int lo, int hi, int *out, int dflt)
{
    int64_t i;
    get_int(d, key, required, lo, hi, &i, dflt);
    *out = (int)i;
}

static void get_bool(decoder *d, const char *key, int *out)
{
    const mlf_value *v = field(d, key, 0);
    *out = 0;
    if (v && mlf_value_get_bool(v, out) != MLF_OK)
        fail_type(d, key, "bool", v);
}

/* A map, or NULL when absent and optional (callers substitute an empty map). */
static const mlf_value *get_map(decoder *d, const char *key, int required)
{
    const mlf_value *v = field(d, key, required);
    if (v && mlf_value_type(v) != MLF_MAP) {
        fail_type(d, key, "map", v);
        return NULL;
    }
    return v;
}

/* An array of strings, as a new array of borrowed pointers (never NULL on success, even when empty). */
static const char **get_str_array(decoder *d, const char *key, int nonempty_items, const mlf_value *v,
                                  size_t *n)
{
    *n = 0;
    if (v && mlf_value_type(v) != MLF_ARRAY) {
        fail_type(d, key, "array", v);
        return NULL;
    }
    size_t count = mlf_value_len(v);
    const char **arr = calloc(count + 1, sizeof *arr);
    if (!arr) {
        if (d->rc == MLF_OK)
            d->rc = MLF_ENOMEM;
        return NULL;
    }
    char item[96];
    for (size_t i = 0; i < count; i++) {
        snprintf(item, sizeof item, "%s[%zu]", key, i);
        if (!check_str(d, item, mlf_array_at(v, i), nonempty_items, &arr[i])) {
            free(arr);
            return NULL;
        }
    }
    *n = count;
    return arr;
}

/* Every value of the map @p v must itself be a map. */
static void check_map_of_maps(decoder *d, const char *key, const mlf_value *v)
{
    char item[160];
    for (size_t i = 0; v && i < mlf_value_len(v) && d->rc == MLF_OK; i++) {
        const mlf_value *inner = mlf_map_value_at(v, i);
        if (mlf_value_type(inner) != MLF_MAP) {
            snprintf(item, sizeof item, "%s.%.100s", key, mlf_map_key_at(v, i));
            fail_type(d, item, "map", inner);
        }
    }
}

/* Each connection's known fields have the types mlf_ctx_connection() expects. */
static void check_connections(decoder *d, const mlf_value *conns)
{
    static const char *const str_fields[] = {"conn_type", "host", "login", "password", "schema"};
    char item[200];
    check_map_of_maps(d, "connections", conns);
    for (size_t i = 0; conns && i < mlf_value_len(conns) && d->rc == MLF_OK; i++) {
        const char *id = mlf_map_key_at(conns, i);
        const mlf_value *c = mlf_map_value_at(conns, i);
        for (size_t k = 0; k < sizeof str_fields / sizeof str_fields[0] && d->rc == MLF_OK; k++) {
            const mlf_value *f = mlf_map_get(c, str_fields[k]);
            snprintf(item, sizeof item, "connections.%.100s.%s", id, str_fields[k]);
            const char *s;
            if (f && mlf_value_type(f) == MLF_STR)
                check_str(d, item, f, 0, &s);
            else if (f && mlf_value_type(f) != MLF_NIL)
                fail_type(d, item, "str or nil", f);
        }
        const mlf_value *port = mlf_map_get(c, "port");
        int64_t p;
        snprintf(item, sizeof item, "connections.%.100s.port", id);
        if (port && mlf_value_type(port) != MLF_NIL) {
            if (mlf_value_get_int(port, &p) != MLF_OK)
                fail_type(d, item, "int or nil", port);
            else if (p < 0 || p > 65535)
                fail(d, "field '%s' is out of range (%lld, expected 0..65535)", item, (long long)p);
        }
        const mlf_value *extra = mlf_map_get(c, "extra");
        snprintf(item, sizeof item, "connections.%.100s.extra", id);
        if (extra && mlf_value_type(extra) != MLF_NIL && mlf_value_type(extra) != MLF_MAP)
            fail_type(d, item, "map or nil", extra);
    }
}

/* A decoded spec with the storage its public part points to. */
typedef struct spec_box {
    mlf_task_spec pub; /* first: mlf_task_spec_free() casts back */
    const char **downstream;
    const char **secrets;
    mlf_value *empty; /* substituted for absent optional maps */
} spec_box;

void mlf_task_spec_free(mlf_task_spec *spec)
{
    if (!spec)
        return;
    spec_box *b = (spec_box *)spec;
    free(b->downstream);
    free(b->secrets);
    mlf_value_free(b->empty);
    free(b);
}

static int decoder_start(decoder *d, const mlf_value *v, const char *what, char *err, size_t errlen)
{
    *d = (decoder){.map = v, .what = what, .err = err, .errlen = errlen, .rc = MLF_OK};
    if (err && errlen)
        err[0] = '\0';
    if (mlf_value_type(v) != MLF_MAP) {
        fail(d, "expected a map, got %s", mlf_type_name(mlf_value_type(v)));
        return d->rc;
    }
    return MLF_OK;
}

int mlf_task_spec_decode(const mlf_value *v, mlf_task_spec **out, char *err, size_t errlen)
{
    if (!v || !out)
        return MLF_EINVAL;
    *out = NULL;
    decoder d;
    if (decoder_start(&d, v, "task spec", err, errlen) != MLF_OK)
        return d.rc;
    spec_box *b = calloc(1, sizeof *b);
    if (!b || !(b->empty = mlf_value_map())) {
        free(b);
        return MLF_ENOMEM;
    }
    mlf_task_spec *s = &b->pub;
    get_str(&d, "dag_id", 1, 1, &s->dag_id, "");
    get_str(&d, "task_id", 1, 1, &s->task_id, "");
    get_str(&d, "run_id", 1, 1, &s->run_id, "");
    /* ids name the folders of the try's log: a spec from the wire follows the id rule (base/ids.h) */
    char iderr[300];
    if (d.rc == MLF_OK && (!mlf_id_valid(MLF_ID_DAG, s->dag_id, iderr, sizeof iderr) ||
                           !mlf_id_valid(MLF_ID_TASK, s->task_id, iderr, sizeof iderr) ||
                           !mlf_id_valid(MLF_ID_RUN, s->run_id, iderr, sizeof iderr)))
        fail(&d, "%s", iderr);
    get_int32(&d, "map_index", 1, -1, INT32_MAX, &s->map_index, -1);
    get_int32(&d, "try_number", 1, 1, INT32_MAX, &s->try_number, 1);
    get_str(&d, "attempt", 1, 1, &s->attempt, "");
    get_str(&d, "operator", 1, 1, &s->operator_name, "");
    get_str(&d, "plugin", 1, 1, &s->plugin_path, "");
    get_int(&d, "logical_date", 1, INT64_MIN, INT64_MAX, &s->logical_date, 0);
    get_int(&d, "data_interval_start", 1, INT64_MIN, INT64_MAX, &s->data_interval_start, 0);
    get_int(&d, "data_interval_end", 1, INT64_MIN, INT64_MAX, &s->data_interval_end, 0);
    get_str(&d, "log_path", 1, 1, &s->log_path, "");
    get_bool(&d, "is_branch", &s->is_branch);
    if (d.rc == MLF_OK)
        b->downstream = get_str_array(&d, "downstream", 1, field(&d, "downstream", 0), &s->ndownstream);
    s->params = get_map(&d, "params", 0);
    s->dag_params = get_map(&d, "dag_params", 0);
    s->xcom_inputs = get_map(&d, "xcom_inputs", 0);
    check_map_of_maps(&d, "xcom_inputs", s->xcom_inputs);
    get_int(&d, "xcom_max_size", 0, 0, INT64_MAX, &s->xcom_max_size, 0);
    if (d.rc == MLF_OK)
        b->secrets = get_str_array(&d, "secrets", 0, field(&d, "secrets", 0), &s->nsecrets);
    s->connections = get_map(&d, "connections", 0);
    check_connections(&d, s->connections);
    get_int(&d, "execution_timeout", 0, 0, INT64_MAX, &s->execution_timeout, 0);
    get_bool(&d, "sensor_poke", &s->sensor_poke);
    get_bool(&d, "sensor", &s->sensor);
    if (d.rc != MLF_OK) {
        mlf_task_spec_free(s);
        return d.rc;
    }
    s->downstream = b->downstream;
    s->secrets = b->secrets;
    if (!s->params)
        s->params = b->empty;
    if (!s->dag_params)
        s->dag_params = b->empty;
    if (!s->xcom_inputs)
        s->xcom_inputs = b->empty;
    if (!s->connections)
        s->connections = b->empty;
    *out = s;
    return MLF_OK;
}

typedef struct result_box {
    mlf_task_result pub; /* first: mlf_task_result_free() casts back */
    const char **followed;
    mlf_value *empty;
} result_box;

void mlf_task_result_free(mlf_task_result *res)
{
    if (!res)
        return;
    result_box *b = (result_box *)res;
    free(b->followed);
    mlf_value_free(b->empty);
    free(b);
}

int mlf_task_result_decode(const mlf_value *v, mlf_task_result **out, char *err, size_t errlen)
{
    if (!v || !out)
        return MLF_EINVAL;
    *out = NULL;
    decoder d;
    if (decoder_start(&d, v, "task result", err, errlen) != MLF_OK)
        return d.rc;
    result_box *b = calloc(1, sizeof *b);
    if (!b || !(b->empty = mlf_value_map())) {
        free(b);
        return MLF_ENOMEM;
    }
    mlf_task_result *r = &b->pub;
    get_str(&d, "attempt", 1, 1, &r->attempt, "");
    const char *outcome = NULL;
    get_str(&d, "outcome", 1, 0, &outcome, NULL);
    if (d.rc == MLF_OK && mlf_outcome_parse(outcome, &r->outcome) != MLF_OK)
        fail(&d, "field 'outcome' has an unknown value '%.64s' (expected success, failed, failed_no_retry, "
                 "skipped or reschedule)", outcome);
    get_int(&d, "start_date", 1, INT64_MIN, INT64_MAX, &r->start_date, 0);
    get_int(&d, "end_date", 1, INT64_MIN, INT64_MAX, &r->end_date, 0);
    get_str_or_nil(&d, "message", &r->message);
    r->xcoms = get_map(&d, "xcoms", 0);
    const mlf_value *followed = field(&d, "followed", 0);
    if (d.rc == MLF_OK && followed && mlf_value_type(followed) != MLF_NIL) {
        if (mlf_value_type(followed) != MLF_ARRAY)
            fail_type(&d, "followed", "array or nil", followed);
        else
            b->followed = get_str_array(&d, "followed", 1, followed, &r->nfollowed);
    }
    get_int(&d, "reschedule_at", 0, INT64_MIN, INT64_MAX, &r->reschedule_at, 0);
    get_int32(&d, "exit_status", 0, -1, 255, &r->exit_status, -1);
    get_int32(&d, "exit_signal", 0, 0, 128, &r->exit_signal, 0);
    get_int(&d, "pid", 0, 0, INT32_MAX, &r->pid, 0);
    get_str(&d, "hostname", 0, 0, &r->hostname, "");
    if (d.rc != MLF_OK) {
        mlf_task_result_free(r);
        return d.rc;
    }
    r->followed = b->followed;
    r->branched = b->followed != NULL;
    if (!r->xcoms)
        r->xcoms = b->empty;
    *out = r;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ encoding */

/* Sets key to a new value; a NULL value (failed constructor) is ENOMEM. Keeps the first error. */
static void put(mlf_value *m, const char *key, mlf_value *v, int *rc)
{
    if (*rc != MLF_OK) {
        mlf_value_free(v);
        return;
    }
    *rc = v ? mlf_map_set(m, key, v) : MLF_ENOMEM;
}

/* A deep copy of @p v, which must be a map (NULL gives an empty map). */
static mlf_value *copy_map(const mlf_value *v, int *rc)
{
    if (!v)
        return mlf_value_map();
    if (mlf_value_type(v) != MLF_MAP) {
        if (*rc == MLF_OK)
            *rc = MLF_EINVAL;
        return NULL;
    }
    return mlf_value_copy(v);
}

static mlf_value *str_array(const char *const *items, size_t n, int *rc)
{
    if (n && !items) {
        if (*rc == MLF_OK)
            *rc = MLF_EINVAL;
        return NULL;
    }
    mlf_value *a = mlf_value_array();
    for (size_t i = 0; a && i < n; i++) {
        int r = items[i] ? mlf_array_append(a, mlf_value_str(items[i])) : MLF_EINVAL;
        if (r != MLF_OK) {
            mlf_value_free(a);
            if (*rc == MLF_OK)
                *rc = r;
            return NULL;
        }
    }
    return a;
}

int mlf_task_spec_encode(const mlf_task_spec *s, mlf_value **out)
{
    if (!s || !out || !s->dag_id || !s->task_id || !s->run_id || !s->attempt || !s->operator_name ||
        !s->plugin_path || !s->log_path)
        return MLF_EINVAL;
    *out = NULL;
    mlf_value *m = mlf_value_map();
    if (!m)
        return MLF_ENOMEM;
    int rc = MLF_OK;
    put(m, "dag_id", mlf_value_str(s->dag_id), &rc);
    put(m, "task_id", mlf_value_str(s->task_id), &rc);
    put(m, "run_id", mlf_value_str(s->run_id), &rc);
    put(m, "map_index", mlf_value_int(s->map_index), &rc);
    put(m, "try_number", mlf_value_int(s->try_number), &rc);
    put(m, "attempt", mlf_value_str(s->attempt), &rc);
    put(m, "operator", mlf_value_str(s->operator_name), &rc);
    put(m, "plugin", mlf_value_str(s->plugin_path), &rc);
    put(m, "is_branch", mlf_value_bool(s->is_branch), &rc);
    put(m, "downstream", str_array(s->downstream, s->ndownstream, &rc), &rc);
    put(m, "params", copy_map(s->params, &rc), &rc);
    put(m, "dag_params", copy_map(s->dag_params, &rc), &rc);
    put(m, "xcom_inputs", copy_map(s->xcom_inputs, &rc), &rc);
    put(m, "logical_date", mlf_value_int(s->logical_date), &rc);
    put(m, "data_interval_start", mlf_value_int(s->data_interval_start), &rc);
    put(m, "data_interval_end", mlf_value_int(s->data_interval_end), &rc);
    put(m, "log_path", mlf_value_str(s->log_path), &rc);
    put(m, "xcom_max_size", mlf_value_int(s->xcom_max_size), &rc);
    put(m, "secrets", str_array(s->secrets, s->nsecrets, &rc), &rc);
    put(m, "connections", copy_map(s->connections, &rc), &rc);
    put(m, "execution_timeout", mlf_value_int(s->execution_timeout), &rc);
    put(m, "sensor_poke", mlf_value_bool(s->sensor_poke), &rc);
    put(m, "sensor", mlf_value_bool(s->sensor), &rc);
    if (rc != MLF_OK) {
        mlf_value_free(m);
        return rc;
    }
    *out = m;
    return MLF_OK;
}

int mlf_task_result_encode(const mlf_task_result *r, mlf_value **out)
{
    if (!r || !out || !r->attempt || (unsigned)r->outcome >= NOUTCOMES)
        return MLF_EINVAL;
    *out = NULL;
    mlf_value *m = mlf_value_map();
    if (!m)
        return MLF_ENOMEM;
    int rc = MLF_OK;
    put(m, "attempt", mlf_value_str(r->attempt), &rc);
    put(m, "outcome", mlf_value_str(mlf_outcome_name(r->outcome)), &rc);
    put(m, "message", r->message ? mlf_value_str(r->message) : mlf_value_nil(), &rc);
    put(m, "xcoms", copy_map(r->xcoms, &rc), &rc);
    put(m, "followed", r->branched ? str_array(r->followed, r->nfollowed, &rc) : mlf_value_nil(), &rc);
    put(m, "reschedule_at", mlf_value_int(r->reschedule_at), &rc);
    put(m, "start_date", mlf_value_int(r->start_date), &rc);
    put(m, "end_date", mlf_value_int(r->end_date), &rc);
    put(m, "exit_status", mlf_value_int(r->exit_status), &rc);
    put(m, "exit_signal", mlf_value_int(r->exit_signal), &rc);
    put(m, "pid", mlf_value_int(r->pid), &rc);
    put(m, "hostname", mlf_value_str(r->hostname ? r->hostname : ""), &rc);
    if (rc != MLF_OK) {
        mlf_value_free(m);
        return rc;
    }
    *out = m;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ frames */

int mlf_task_frame_pack(const mlf_value *v, void **buf, size_t *len)
{
    if (!v || !buf || !len)
        return MLF_EINVAL;
    void *body;
    size_t blen;
    int rc = mlf_value_pack(v, &body, &blen);
    if (rc != MLF_OK)
        return rc;
    if (blen > MLF_TASK_FRAME_MAX) {
        free(body);
        return MLF_ETOOBIG;
    }
    unsigned char *f = malloc(MLF_TASK_FRAME_HEADER + blen);
    if (!f) {
        free(body);
        return MLF_ENOMEM;
    }
    f[0] = (unsigned char)(blen >> 24);
    f[1] = (unsigned char)(blen >> 16);
    f[2] = (unsigned char)(blen >> 8);
    f[3] = (unsigned char)blen;
    memcpy(f + MLF_TASK_FRAME_HEADER, body, blen);
    free(body);
    *buf = f;
    *len = MLF_TASK_FRAME_HEADER + blen;
    return MLF_OK;
}

uint32_t mlf_task_frame_length(const void *p)
{
    const unsigned char *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

int mlf_task_frame_read(int fd, mlf_value **out, char *err, size_t errlen)
{
    if (!out)
        return MLF_EINVAL;
    *out = NULL;
    unsigned char hdr[MLF_TASK_FRAME_HEADER];
    if (mlf_read_full(fd, hdr, 1) != 0) { /* no byte at all: the input ended between frames */
        int clean = errno == 0;
        snprintf(err, errlen, "cannot read the task spec: %s", clean ? "no input" : strerror(errno));
        return clean ? MLF_ENOTFOUND : MLF_EIO;
    }
    if (mlf_read_full(fd, hdr + 1, sizeof hdr - 1) != 0) {
        snprintf(err, errlen, "cannot read the task spec: %s", errno ? strerror(errno) : "input ended early");
        return MLF_EIO;
    }
    uint32_t len = mlf_task_frame_length(hdr);
    if (len > MLF_TASK_FRAME_MAX) {
        snprintf(err, errlen, "the task spec is %lu bytes, more than the %u allowed", (unsigned long)len,
                 MLF_TASK_FRAME_MAX);
        return MLF_ETOOBIG;
    }
    void *body = malloc(len ? len : 1);
    if (!body) {
        snprintf(err, errlen, "out of memory reading the task spec");
        return MLF_ENOMEM;
    }
    if (mlf_read_full(fd, body, len) != 0) {
        snprintf(err, errlen, "the task spec is truncated: %s", errno ? strerror(errno) : "input ended early");
        free(body);
        return MLF_EIO;
    }
    int rc = mlf_value_unpack(body, len, out);
    free(body);
    if (rc != MLF_OK)
        snprintf(err, errlen, "the task spec is not valid msgpack: %s", mlf_strerror(rc));
    return rc == MLF_OK ? MLF_OK : MLF_EPARSE;
}
