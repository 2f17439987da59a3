/* proto.c -- MLFW/1 frames: encoding, strict decoding, and whole-message send/receive on zmq sockets
 * (see proto.h and doc/protocol.md). */
#include "exec/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* mlf_msgpack_prescan_budget() is in the SDK: this file is compiled into the zmq plugin too */

/* Body limits per command (doc/protocol.md section 3). */
#define SMALL_BODY_MAX (4u * 1024u)
#define MEDIUM_BODY_MAX (1024u * 1024u)
#define RESULT_BODY_MAX (16u * 1024u * 1024u)

/* Value budgets per body (doc/protocol.md section 3): decoding costs ~70 bytes per value. */
#define TASK_VALUES_MAX (1024u * 1024u)
#define RESULT_VALUES_MAX (256u * 1024u)
#define SMALL_VALUES_MAX 64u

/* Longest host, version and reason strings. */
#define HOST_MAX 255u
#define VERSION_MAX 64u
#define REASON_MAX 1024u

const char *mlf_proto_cmd_name(int cmd)
{
    static const char *const names[] = {NULL, "READY", "TASK", "STARTED", "LOG", "RESULT", "HEARTBEAT", "KILL",
                                        "DISCONNECT", "ACK"};
    return cmd >= MLF_PROTO_READY && cmd <= MLF_PROTO_ACK ? names[cmd] : "unknown";
}

size_t mlf_proto_body_max(int cmd)
{
    switch (cmd) {
    case MLF_PROTO_TASK:
        return MLF_TASK_FRAME_MAX;
    case MLF_PROTO_RESULT:
        return RESULT_BODY_MAX;
    case MLF_PROTO_READY:
    case MLF_PROTO_LOG:
        return MEDIUM_BODY_MAX;
    case MLF_PROTO_STARTED:
    case MLF_PROTO_HEARTBEAT:
    case MLF_PROTO_KILL:
    case MLF_PROTO_DISCONNECT:
    case MLF_PROTO_ACK:
        return SMALL_BODY_MAX;
    default:
        return 0;
    }
}

int mlf_proto_from_worker(int cmd)
{
    return cmd == MLF_PROTO_READY || cmd == MLF_PROTO_STARTED || cmd == MLF_PROTO_LOG || cmd == MLF_PROTO_RESULT ||
           cmd == MLF_PROTO_HEARTBEAT || cmd == MLF_PROTO_DISCONNECT;
}

int mlf_proto_from_scheduler(int cmd)
{
    return cmd == MLF_PROTO_TASK || cmd == MLF_PROTO_HEARTBEAT || cmd == MLF_PROTO_KILL ||
           cmd == MLF_PROTO_DISCONNECT || cmd == MLF_PROTO_ACK;
}

size_t mlf_proto_value_budget(int cmd)
{
    switch (cmd) {
    case MLF_PROTO_TASK:
        return TASK_VALUES_MAX;
    case MLF_PROTO_RESULT:
        return RESULT_VALUES_MAX;
    case MLF_PROTO_READY: /* two attempt lists, operators, queues and the scalars */
        return 2 * MLF_PROTO_MAX_ATTEMPTS + MLF_PROTO_MAX_OPERATORS + MLF_PROTO_MAX_QUEUES + 64;
    case MLF_PROTO_LOG:
    case MLF_PROTO_STARTED:
    case MLF_PROTO_HEARTBEAT:
    case MLF_PROTO_KILL:
    case MLF_PROTO_DISCONNECT:
    case MLF_PROTO_ACK:
        return SMALL_VALUES_MAX;
    default:
        return 0;
    }
}

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '@' || c == ':' || c == '+' || c == '-';
}

static int valid_chars(const char *s, size_t max)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !name_char((unsigned char)s[n]))
            return 0;
    return 1;
}

int mlf_proto_valid_name(const char *s)
{
    return valid_chars(s, MLF_PROTO_NAME_MAX);
}

int mlf_proto_valid_token(const char *s)
{
    return valid_chars(s, MLF_PROTO_TOKEN_MAX);
}

/* Printable ASCII without spaces (hosts, versions). */
static int valid_printable(const char *s, size_t max)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || (unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------ encoding */

/* Sets @p key to @p val (taken); a NULL @p val is a constructor that ran out of memory. */
static int put(mlf_value *map, const char *key, mlf_value *val)
{
    return val ? mlf_map_set(map, key, val) : MLF_ENOMEM;
}

static int put_str(mlf_value *map, const char *key, const char *s)
{
    return s ? put(map, key, mlf_value_str(s)) : MLF_EINVAL;
}

static int put_list(mlf_value *map, const char *key, const char *const *items, size_t n, int (*valid)(const char *))
{
    if (n && !items)
        return MLF_EINVAL;
    mlf_value *arr = mlf_value_array();
    if (!arr)
        return MLF_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!valid(items[i])) {
            mlf_value_free(arr);
            return MLF_EINVAL;
        }
        mlf_value *item = mlf_value_str(items[i]);
        if (!item || mlf_array_append(arr, item) != MLF_OK) {
            mlf_value_free(arr);
            return MLF_ENOMEM;
        }
    }
    return put(map, key, arr);
}

/* Builds the body map of a command other than TASK and RESULT. */
static int build_body(const mlf_proto_msg *m, mlf_value *b)
{
    int rc = MLF_OK;
#define TRY(x)                   \
    do {                         \
        if (rc == MLF_OK)        \
            rc = (x);            \
    } while (0)
    switch (m->cmd) {
    case MLF_PROTO_READY:
        if (!mlf_proto_valid_name(m->name) || !mlf_proto_valid_token(m->instance) ||
            !valid_printable(m->host, HOST_MAX) || !valid_printable(m->version, VERSION_MAX) || m->capacity < 0 ||
            m->capacity > MLF_PROTO_MAX_CAPACITY || m->pid < 0 || m->nqueues > MLF_PROTO_MAX_QUEUES ||
            m->noperators > MLF_PROTO_MAX_OPERATORS || m->nrunning > MLF_PROTO_MAX_ATTEMPTS ||
            m->nfinished > MLF_PROTO_MAX_ATTEMPTS)
            return MLF_EINVAL;
        TRY(put_str(b, "name", m->name));
        TRY(put_str(b, "instance", m->instance));
        TRY(put(b, "capacity", mlf_value_int(m->capacity)));
        TRY(put_list(b, "queues", m->queues, m->nqueues, mlf_proto_valid_name));
        TRY(put_list(b, "operators", m->operators, m->noperators, mlf_proto_valid_name));
        TRY(put_str(b, "host", m->host));
        TRY(put(b, "pid", mlf_value_int(m->pid)));
        TRY(put_str(b, "version", m->version));
        TRY(put_list(b, "running", m->running, m->nrunning, mlf_proto_valid_token));
        TRY(put_list(b, "finished", m->finished, m->nfinished, mlf_proto_valid_token));
        break;
    case MLF_PROTO_STARTED:
        if (!mlf_proto_valid_token(m->attempt) || !valid_printable(m->host, HOST_MAX))
            return MLF_EINVAL;
        TRY(put_str(b, "attempt", m->attempt));
        TRY(put_str(b, "host", m->host));
        TRY(put(b, "start_date", mlf_value_int(m->start_date)));
        break;
    case MLF_PROTO_LOG:
        if (!mlf_proto_valid_token(m->attempt) || m->offset < 0 || m->data_len > MLF_PROTO_LOG_CHUNK ||
            (m->data_len && !m->data))
            return MLF_EINVAL;
        TRY(put_str(b, "attempt", m->attempt));
        TRY(put(b, "offset", mlf_value_int(m->offset)));
        TRY(put(b, "data", mlf_value_bin(m->data, m->data_len)));
        break;
    case MLF_PROTO_KILL:
        if (!mlf_proto_valid_token(m->attempt) || !m->reason)
            return MLF_EINVAL;
        TRY(put_str(b, "attempt", m->attempt));
        TRY(put(b, "reason", mlf_value_strn(m->reason, strnlen(m->reason, REASON_MAX))));
        break;
    case MLF_PROTO_DISCONNECT:
        if (!m->reason)
            return MLF_EINVAL;
        TRY(put(b, "reason", mlf_value_strn(m->reason, strnlen(m->reason, REASON_MAX))));
        break;
    case MLF_PROTO_ACK:
        if (!mlf_proto_valid_token(m->attempt))
            return MLF_EINVAL;
        TRY(put_str(b, "attempt", m->attempt));
        break;
    case MLF_PROTO_HEARTBEAT:
        break;
    default:
        return MLF_EINVAL;
    }
#undef TRY
    return rc;
}

int mlf_proto_encode(const mlf_proto_msg *m, void **body, size_t *len)
{
    if (!m || !body || !len)
        return MLF_EINVAL;
    *body = NULL;
    *len = 0;
    size_t max = mlf_proto_body_max((int)m->cmd);
    if (max == 0)
        return MLF_EINVAL;
    int rc;
    if (m->cmd == MLF_PROTO_TASK || m->cmd == MLF_PROTO_RESULT) {
        if (mlf_value_type(m->payload) != MLF_MAP)
            return MLF_EINVAL;
        rc = mlf_value_pack(m->payload, body, len);
    } else {
        mlf_value *b = mlf_value_map();
        if (!b)
            return MLF_ENOMEM;
        rc = build_body(m, b);
        if (rc == MLF_OK)
            rc = mlf_value_pack(b, body, len);
        mlf_value_free(b);
    }
    if (rc == MLF_OK && *len > max) {
        free(*body);
        *body = NULL;
        *len = 0;
        rc = MLF_ETOOBIG;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ decoding */

typedef struct decoder {
    const mlf_value *map;
    const char *cmd;
    char *err;
    size_t errlen;
    int rc;
} decoder;

static void fail(decoder *d, int code, const char *fmt, ...) MLF_PRINTF(3, 4);
static void fail(decoder *d, int code, const char *fmt, ...)
{
    if (d->rc != MLF_OK)
        return;
    d->rc = code;
    if (!d->err || !d->errlen)
        return;
    int n = snprintf(d->err, d->errlen, "%s: ", d->cmd);
    if (n < 0 || (size_t)n >= d->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static const mlf_value *field(decoder *d, const char *key)
{
    const mlf_value *v = mlf_map_get(d->map, key);
    if (!v)
        fail(d, MLF_EPARSE, "field '%s' is missing", key);
    return v;
}

/* A str field without NUL bytes that passes @p valid (NULL: any); @p what describes valid values. */
static const char *get_str(decoder *d, const char *key, int (*valid)(const char *), const char *what)
{
    const mlf_value *v = field(d, key);
    if (!v)
        return NULL;
    size_t len;
    const char *s = mlf_value_get_str(v, &len);
    if (!s) {
        fail(d, MLF_EPARSE, "field '%s' must be str, got %s", key, mlf_type_name(mlf_value_type(v)));
        return NULL;
    }
    if (strlen(s) != len) {
        fail(d, MLF_EPARSE, "field '%s' contains a NUL byte", key);
        return NULL;
    }
    if (valid && !valid(s)) {
        fail(d, MLF_EPARSE, "field '%s' must be %s", key, what);
        return NULL;
    }
    return s;
}

static int64_t get_int(decoder *d, const char *key, int64_t lo, int64_t hi)
{
    const mlf_value *v = field(d, key);
    int64_t i = 0;
    if (!v)
        return 0;
    if (mlf_value_get_int(v, &i) != MLF_OK) {
        fail(d, MLF_EPARSE, "field '%s' must be int, got %s", key, mlf_type_name(mlf_value_type(v)));
        return 0;
    }
    if (i < lo || i > hi) {
        fail(d, MLF_EPARSE, "field '%s' is out of range (%lld, expected %lld..%lld)", key, (long long)i,
             (long long)lo, (long long)hi);
        return 0;
    }
    return i;
}

static int valid_host(const char *s)
{
    return valid_printable(s, HOST_MAX);
}

static int valid_version(const char *s)
{
    return valid_printable(s, VERSION_MAX);
}

static int valid_reason(const char *s)
{
    return strlen(s) <= REASON_MAX;
}

/* An array of at most @p max strings passing @p valid, as a new NULL-terminated array of borrowed
 * pointers kept in @p slot (owned by the message). */
static const char *const *get_list(decoder *d, const char *key, size_t max, int (*valid)(const char *),
                                   const char *what, const char ***slot, size_t *n)
{
    *n = 0;
    const mlf_value *v = field(d, key);
    if (!v)
        return NULL;
    if (mlf_value_type(v) != MLF_ARRAY) {
        fail(d, MLF_EPARSE, "field '%s' must be array, got %s", key, mlf_type_name(mlf_value_type(v)));
        return NULL;
    }
    size_t count = mlf_value_len(v);
    if (count > max) {
        fail(d, MLF_EPARSE, "field '%s' has %zu items, at most %zu are allowed", key, count, max);
        return NULL;
    }
    const char **arr = calloc(count + 1, sizeof *arr);
    if (!arr) {
        fail(d, MLF_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        const mlf_value *it = mlf_array_at(v, i);
        size_t len;
        const char *s = mlf_value_get_str(it, &len);
        if (!s || strlen(s) != len || !valid(s)) {
            fail(d, MLF_EPARSE, "field '%s[%zu]' must be %s", key, i, what);
            free(arr);
            return NULL;
        }
        arr[i] = s;
    }
    *slot = arr;
    *n = count;
    return arr;
}

#define NAME_WHAT "a name (1..128 characters of A-Z a-z 0-9 _ . @ : + -)"
#define TOKEN_WHAT "a token (1..64 characters of A-Z a-z 0-9 _ . @ : + -)"

static void decode_fields(decoder *d, mlf_proto_msg *m)
{
    switch (m->cmd) {
    case MLF_PROTO_READY:
        m->name = get_str(d, "name", mlf_proto_valid_name, NAME_WHAT);
        m->instance = get_str(d, "instance", mlf_proto_valid_token, TOKEN_WHAT);
        m->capacity = (int)get_int(d, "capacity", 0, MLF_PROTO_MAX_CAPACITY);
        m->queues = get_list(d, "queues", MLF_PROTO_MAX_QUEUES, mlf_proto_valid_name, NAME_WHAT, &m->lists_[0],
                             &m->nqueues);
        m->operators = get_list(d, "operators", MLF_PROTO_MAX_OPERATORS, mlf_proto_valid_name, NAME_WHAT,
                                &m->lists_[1], &m->noperators);
        m->host = get_str(d, "host", valid_host, "printable ASCII without spaces, at most 255 bytes");
        m->pid = get_int(d, "pid", 0, INT32_MAX);
        m->version = get_str(d, "version", valid_version, "printable ASCII without spaces, at most 64 bytes");
        m->running = get_list(d, "running", MLF_PROTO_MAX_ATTEMPTS, mlf_proto_valid_token, TOKEN_WHAT,
                              &m->lists_[2], &m->nrunning);
        m->finished = get_list(d, "finished", MLF_PROTO_MAX_ATTEMPTS, mlf_proto_valid_token, TOKEN_WHAT,
                               &m->lists_[3], &m->nfinished);
        break;
    case MLF_PROTO_TASK: {
        char why[512] = "";
        int rc = mlf_task_spec_decode(m->body_, &m->spec, why, sizeof why);
        if (rc != MLF_OK)
            fail(d, rc, "%s", why[0] ? why : mlf_strerror(rc));
        else if (!mlf_proto_valid_token(m->spec->attempt))
            fail(d, MLF_EPARSE, "field 'attempt' must be %s", TOKEN_WHAT);
        else
            m->attempt = m->spec->attempt;
        break;
    }
    case MLF_PROTO_RESULT: {
        char why[512] = "";
        int rc = mlf_task_result_decode(m->body_, &m->result, why, sizeof why);
        if (rc != MLF_OK)
            fail(d, rc, "%s", why[0] ? why : mlf_strerror(rc));
        else if (!mlf_proto_valid_token(m->result->attempt))
            fail(d, MLF_EPARSE, "field 'attempt' must be %s", TOKEN_WHAT);
        else
            m->attempt = m->result->attempt;
        break;
    }
    case MLF_PROTO_STARTED:
        m->attempt = get_str(d, "attempt", mlf_proto_valid_token, TOKEN_WHAT);
        m->host = get_str(d, "host", valid_host, "printable ASCII without spaces, at most 255 bytes");
        m->start_date = get_int(d, "start_date", INT64_MIN, INT64_MAX);
        break;
    case MLF_PROTO_LOG: {
        m->attempt = get_str(d, "attempt", mlf_proto_valid_token, TOKEN_WHAT);
        /* offset + data length must not overflow where the log is appended */
        m->offset = get_int(d, "offset", 0, INT64_MAX - (int64_t)MLF_PROTO_LOG_CHUNK);
        const mlf_value *v = field(d, "data");
        if (v && !(m->data = mlf_value_get_bin(v, &m->data_len)))
            fail(d, MLF_EPARSE, "field 'data' must be bin, got %s", mlf_type_name(mlf_value_type(v)));
        else if (v && m->data_len > MLF_PROTO_LOG_CHUNK)
            fail(d, MLF_EPARSE, "field 'data' holds %zu bytes, at most %u are allowed", m->data_len,
                 MLF_PROTO_LOG_CHUNK);
        break;
    }
    case MLF_PROTO_KILL:
        m->attempt = get_str(d, "attempt", mlf_proto_valid_token, TOKEN_WHAT);
        m->reason = get_str(d, "reason", valid_reason, "at most 1024 bytes");
        break;
    case MLF_PROTO_DISCONNECT:
        m->reason = get_str(d, "reason", valid_reason, "at most 1024 bytes");
        break;
    case MLF_PROTO_ACK:
        m->attempt = get_str(d, "attempt", mlf_proto_valid_token, TOKEN_WHAT);
        break;
    case MLF_PROTO_HEARTBEAT:
        break;
    }
}

/* Describes a pre-scan refusal of the body. */
static const char *prescan_reason(int rc)
{
    switch (rc) {
    case MLF_ETYPE:
        return "not a valid body (a non-string map key, an integer above INT64_MAX or an ext type)";
    case MLF_ERANGE:
        return "nested deeper than 64 levels";
    default:
        return "not valid msgpack (truncated, or a length or count beyond the frame)";
    }
}

/* Copies @p n bytes of @p p into @p out as printable text (for messages about bad input). */
static void printable_copy(char *out, size_t outlen, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < outlen; i++)
        out[j++] = s[i] > 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    out[j] = '\0';
}

int mlf_proto_decode(const mlf_proto_frame *frames, size_t nframes, mlf_proto_msg *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out || (nframes && !frames))
        return MLF_EINVAL;
    memset(out, 0, sizeof *out);
    decoder d = {.cmd = "message", .err = err, .errlen = errlen, .rc = MLF_OK};
    if (nframes != 3) {
        fail(&d, MLF_EPARSE, "expected 3 frames, got %zu", nframes);
        return d.rc;
    }
    const mlf_proto_frame *sig = &frames[0], *cmd = &frames[1], *body = &frames[2];
    if ((sig->len && !sig->data) || (cmd->len && !cmd->data) || (body->len && !body->data))
        return MLF_EINVAL;
    if (sig->len != MLF_PROTO_SIGNATURE_LEN || memcmp(sig->data, MLF_PROTO_SIGNATURE, MLF_PROTO_SIGNATURE_LEN) != 0) {
        char got[16];
        printable_copy(got, sizeof got, sig->data, sig->len < 12 ? sig->len : 12);
        if (sig->len >= 4 && memcmp(sig->data, "MLFW", 4) == 0)
            fail(&d, MLF_ENOTSUP, "protocol version '%s', this end speaks '01'", got + 4);
        else
            fail(&d, MLF_EPARSE, "not an MLFW message (signature '%s')", got);
        return d.rc;
    }
    if (cmd->len != 1) {
        fail(&d, MLF_EPARSE, "the command frame holds %zu bytes, expected 1", cmd->len);
        return d.rc;
    }
    int c = *(const unsigned char *)cmd->data;
    if (c < MLF_PROTO_READY || c > MLF_PROTO_ACK) {
        fail(&d, MLF_EPARSE, "unknown command %d", c);
        return d.rc;
    }
    out->cmd = (mlf_proto_cmd)c;
    d.cmd = mlf_proto_cmd_name(c);
    size_t max = mlf_proto_body_max(c);
    if (body->len > max) {
        fail(&d, MLF_ETOOBIG, "a body of %zu bytes is above the limit of %zu", body->len, max);
        return d.rc;
    }
    const unsigned char *b = body->data;
    /* fixmap, map16 or map32: anything else cannot be a map, whatever follows */
    if (body->len == 0 || !((b[0] & 0xf0) == 0x80 || b[0] == 0xde || b[0] == 0xdf)) {
        fail(&d, MLF_EPARSE, "the body is not a msgpack map");
        return d.rc;
    }
    size_t used = 0;
    int rc = mlf_msgpack_prescan_budget(b, body->len, MLF_VALUE_MAX_DEPTH, mlf_proto_value_budget(c), &used);
    if (rc == MLF_ENOMEM) {
        fail(&d, MLF_ENOMEM, "out of memory");
        return d.rc;
    }
    if (rc == MLF_ETOOBIG) {
        fail(&d, MLF_ETOOBIG, "the body holds more than the %zu values allowed", mlf_proto_value_budget(c));
        return d.rc;
    }
    if (rc != MLF_OK) {
        fail(&d, MLF_EPARSE, "the body is %s", prescan_reason(rc));
        return d.rc;
    }
    if (used != body->len) {
        fail(&d, MLF_EPARSE, "%zu bytes follow the body's map", body->len - used);
        return d.rc;
    }
    rc = mlf_value_unpack(b, body->len, &out->body_);
    if (rc != MLF_OK) {
        fail(&d, rc == MLF_ENOMEM ? MLF_ENOMEM : MLF_EPARSE, "the body does not decode: %s", mlf_strerror(rc));
        return d.rc;
    }
    d.map = out->body_;
    decode_fields(&d, out);
    if (out->cmd == MLF_PROTO_TASK || out->cmd == MLF_PROTO_RESULT)
        out->payload = out->body_;
    return d.rc;
}

void mlf_proto_msg_clear(mlf_proto_msg *m)
{
    if (!m)
        return;
    mlf_task_spec_free(m->spec);
    mlf_task_result_free(m->result);
    mlf_value_free(m->body_);
    for (size_t i = 0; i < sizeof m->lists_ / sizeof m->lists_[0]; i++)
        free(m->lists_[i]);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------------------------------ zmq */

static void free_body(void *data, void *hint)
{
    (void)hint;
    free(data);
}

int mlf_proto_send(void *sock, const void *rid, size_t rid_len, const mlf_proto_msg *m)
{
    if (!sock || !m)
        return MLF_EINVAL;
    void *body;
    size_t len;
    int rc = mlf_proto_encode(m, &body, &len);
    if (rc != MLF_OK)
        return rc;
    unsigned char cmd = (unsigned char)m->cmd;
    /* a multipart message is atomic: once its first frame is queued the others cannot fail for lack of
     * room, and a first frame that fails leaves nothing behind */
    if (rid && zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        free(body);
        return zmq_errno();
    }
    if (zmq_send(sock, MLF_PROTO_SIGNATURE, MLF_PROTO_SIGNATURE_LEN, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(sock, &cmd, 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        free(body);
        return zmq_errno();
    }
    zmq_msg_t msg;
    if (zmq_msg_init_data(&msg, body, len, free_body, NULL) != 0) {
        free(body);
        return zmq_errno();
    }
    if (zmq_msg_send(&msg, sock, ZMQ_DONTWAIT) < 0) {
        int e = zmq_errno();
        zmq_msg_close(&msg); /* frees the body */
        return e;
    }
    return MLF_OK;
}

int mlf_proto_send_encoded(void *sock, const void *rid, size_t rid_len, int cmd, const void *body, size_t len)
{
    if (!sock || (!body && len))
        return MLF_EINVAL;
    unsigned char c = (unsigned char)cmd;
    if (rid && zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return zmq_errno();
    if (zmq_send(sock, MLF_PROTO_SIGNATURE, MLF_PROTO_SIGNATURE_LEN, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(sock, &c, 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 || zmq_send(sock, body, len, ZMQ_DONTWAIT) < 0)
        return zmq_errno();
    return MLF_OK;
}

int mlf_proto_recv(void *sock, int router, mlf_proto_peer *peer, mlf_proto_msg *out, char *err, size_t errlen)
{
    return mlf_proto_recv_gated(sock, router, NULL, NULL, peer, out, err, errlen);
}

int mlf_proto_recv_gated(void *sock, int router, mlf_proto_gate_fn gate, void *gate_ud, mlf_proto_peer *peer,
                         mlf_proto_msg *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!sock || !peer || !out)
        return MLF_EINVAL;
    memset(out, 0, sizeof *out);
    peer->rid_len = 0;
    peer->user_id[0] = '\0';
    enum { MAX_PARTS = 4 };
    zmq_msg_t parts[MAX_PARTS];
    size_t kept = 0, total = 0;
    size_t want = router ? 4 : 3;
    int rc = MLF_OK;
    for (;;) {
        zmq_msg_t spare;
        memset(&spare, 0, sizeof spare);
        zmq_msg_t *p = kept < want ? &parts[kept] : &spare; /* beyond the expected count: read to discard */
        zmq_msg_init(p);
        /* only the first frame can be missing: the rest of a multipart message arrives with it */
        if (zmq_msg_recv(p, sock, ZMQ_DONTWAIT) < 0) {
            rc = zmq_errno();
            zmq_msg_close(p);
            break;
        }
        if (!peer->user_id[0]) { /* the ROUTER's routing id frame carries no metadata: look further */
            const char *uid = zmq_msg_gets(p, "User-Id");
            if (uid)
                snprintf(peer->user_id, sizeof peer->user_id, "%s", uid);
        }
        total++;
        int more = zmq_msg_more(p);
        if (p == &spare)
            zmq_msg_close(p);
        else
            kept++;
        if (!more)
            break;
    }
    if (rc == MLF_OK) {
        size_t first = 0;
        if (router && kept > 0) {
            size_t n = zmq_msg_size(&parts[0]);
            peer->rid_len = n < sizeof peer->rid ? n : sizeof peer->rid;
            memcpy(peer->rid, zmq_msg_data(&parts[0]), peer->rid_len);
            first = 1;
        }
        if (total != want) {
            if (err && errlen)
                snprintf(err, errlen, "message: expected 3 frames, got %zu", total - first);
            rc = MLF_EPARSE;
        } else {
            mlf_proto_frame frames[3];
            for (size_t i = 0; i < 3; i++)
                frames[i] = (mlf_proto_frame){zmq_msg_data(&parts[first + i]), zmq_msg_size(&parts[first + i])};
            int cmd = frames[1].len == 1 ? *(const unsigned char *)frames[1].data : 0;
            int sig_ok = frames[0].len == MLF_PROTO_SIGNATURE_LEN &&
                         memcmp(frames[0].data, MLF_PROTO_SIGNATURE, MLF_PROTO_SIGNATURE_LEN) == 0;
            /* who may send what is decided before a byte of the body is looked at */
            if (gate && sig_ok && mlf_proto_body_max(cmd) &&
                (rc = gate(gate_ud, peer, cmd, frames[2].len, err, errlen)) != MLF_OK)
                out->cmd = (mlf_proto_cmd)cmd;
            else
                rc = mlf_proto_decode(frames, 3, out, err, errlen);
        }
    }
    for (size_t i = 0; i < kept; i++)
        zmq_msg_close(&parts[i]);
    return rc;
}
