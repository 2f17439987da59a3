/*
 * store_codec.c -- record <-> bytes for the state store. Each record type is a table of fields (name,
 * C type, offset, key role), so one encoder and one decoder serve every type.
 *
 * Decoding never trusts the bytes: msgpack-c's unpacker believes array and map headers (a few bytes can ask
 * it for gigabytes), so mlf_st_mp_check() first walks the whole input checking every length and count
 * against the bytes that remain and bounding the nesting depth; only then does msgpack_unpack_next() run,
 * and a damaged record comes back as MLF_ECORRUPT.
 */
#include <msgpack.h>
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "conf/conn_uri.h"

/* Records are flat maps; a newer minor version may nest a little. */
#define RECORD_DEPTH 8

/* ------------------------------------------------------------------------------------ field tables */

#define FIELD(T, f, kind, role) {#f, kind, role, offsetof(T, f), 0, 0, MLF_ST_SEAL_NO}
#define VAL(T, f, kind) FIELD(T, f, kind, MLF_ST_VALUE)
#define BIN(T, f, len) {#f, MLF_ST_BIN, MLF_ST_VALUE, offsetof(T, f), offsetof(T, len), 0, MLF_ST_SEAL_NO}
#define ENUM(T, f, count) {#f, MLF_ST_ENUM, MLF_ST_VALUE, offsetof(T, f), 0, count, MLF_ST_SEAL_NO}
#define SEALED_STR(T, f, seal) {#f, MLF_ST_STR, MLF_ST_VALUE, offsetof(T, f), 0, 0, seal}
#define SEALED_BIN(T, f, len, seal) {#f, MLF_ST_BIN, MLF_ST_VALUE, offsetof(T, f), offsetof(T, len), 0, seal}
#define TYPE(what, db, keykind, key_max, T, fields)                                                         \
    {what, db, keykind, key_max, sizeof(T), fields, sizeof fields / sizeof fields[0]}

_Static_assert(sizeof(mlf_ti_state) == sizeof(int) && sizeof(mlf_run_state) == sizeof(int) &&
                   sizeof(mlf_run_type) == sizeof(int),
               "enums are accessed as int");

static const mlf_st_field dag_fields[] = {
    FIELD(mlf_dag_rec, dag_id, MLF_ST_STR, MLF_ST_NAME),
    VAL(mlf_dag_rec, is_paused, MLF_ST_BOOL),
    VAL(mlf_dag_rec, is_active, MLF_ST_BOOL),
    VAL(mlf_dag_rec, has_import_errors, MLF_ST_BOOL),
    VAL(mlf_dag_rec, fileloc, MLF_ST_STR),
    VAL(mlf_dag_rec, last_parsed, MLF_ST_TIME),
    VAL(mlf_dag_rec, next_dagrun, MLF_ST_TIME),
    VAL(mlf_dag_rec, next_dagrun_interval_start, MLF_ST_TIME),
    VAL(mlf_dag_rec, next_dagrun_interval_end, MLF_ST_TIME),
    VAL(mlf_dag_rec, next_dagrun_create_after, MLF_ST_TIME),
};

static const mlf_st_field run_fields[] = {
    FIELD(mlf_run_rec, dag_id, MLF_ST_STR, MLF_ST_DAG),
    FIELD(mlf_run_rec, run_id, MLF_ST_STR, MLF_ST_RUN),
    FIELD(mlf_run_rec, logical_date, MLF_ST_TIME, MLF_ST_LOGICAL_DATE),
    ENUM(mlf_run_rec, state, MLF_RUN_STATE_COUNT),
    ENUM(mlf_run_rec, run_type, MLF_RUN_TYPE_COUNT),
    VAL(mlf_run_rec, external_trigger, MLF_ST_BOOL),
    VAL(mlf_run_rec, data_interval_start, MLF_ST_TIME),
    VAL(mlf_run_rec, data_interval_end, MLF_ST_TIME),
    VAL(mlf_run_rec, queued_at, MLF_ST_TIME),
    VAL(mlf_run_rec, start_date, MLF_ST_TIME),
    VAL(mlf_run_rec, end_date, MLF_ST_TIME),
    VAL(mlf_run_rec, last_scheduling_decision, MLF_ST_TIME),
    BIN(mlf_run_rec, conf, conf_len),
    VAL(mlf_run_rec, note, MLF_ST_STR),
    VAL(mlf_run_rec, owner, MLF_ST_STR),
    VAL(mlf_run_rec, owner_heartbeat, MLF_ST_TIME),
};

static const mlf_st_field ti_fields[] = {
    FIELD(mlf_ti_rec, dag_id, MLF_ST_STR, MLF_ST_DAG),
    FIELD(mlf_ti_rec, run_id, MLF_ST_STR, MLF_ST_RUN),
    FIELD(mlf_ti_rec, task_id, MLF_ST_STR, MLF_ST_TASK),
    FIELD(mlf_ti_rec, map_index, MLF_ST_INT, MLF_ST_MAP_INDEX),
    ENUM(mlf_ti_rec, state, MLF_TI_STATE_COUNT),
    VAL(mlf_ti_rec, try_number, MLF_ST_INT),
    VAL(mlf_ti_rec, max_tries, MLF_ST_INT),
    VAL(mlf_ti_rec, start_date, MLF_ST_TIME),
    VAL(mlf_ti_rec, end_date, MLF_ST_TIME),
    VAL(mlf_ti_rec, duration, MLF_ST_I64),
    VAL(mlf_ti_rec, hostname, MLF_ST_STR),
    VAL(mlf_ti_rec, pid, MLF_ST_INT),
    VAL(mlf_ti_rec, attempt_token, MLF_ST_U64),
    VAL(mlf_ti_rec, queued_at, MLF_ST_TIME),
    VAL(mlf_ti_rec, wake_at, MLF_ST_TIME),
    VAL(mlf_ti_rec, first_poke_at, MLF_ST_TIME),
    VAL(mlf_ti_rec, operator_name, MLF_ST_STR),
    VAL(mlf_ti_rec, pool, MLF_ST_STR),
    VAL(mlf_ti_rec, pool_slots, MLF_ST_INT),
    VAL(mlf_ti_rec, queue, MLF_ST_STR),
    VAL(mlf_ti_rec, priority_weight, MLF_ST_INT),
    VAL(mlf_ti_rec, external_executor_id, MLF_ST_STR),
    VAL(mlf_ti_rec, message, MLF_ST_STR),
    VAL(mlf_ti_rec, note, MLF_ST_STR),
};

static const mlf_st_field var_fields[] = {
    FIELD(mlf_var_rec, key, MLF_ST_STR, MLF_ST_NAME),
    SEALED_STR(mlf_var_rec, val, MLF_ST_SEAL_SENSITIVE_NAME),
    VAL(mlf_var_rec, description, MLF_ST_STR),
};

static const mlf_st_field conn_fields[] = {
    FIELD(mlf_conn_rec, conn_id, MLF_ST_STR, MLF_ST_NAME),
    VAL(mlf_conn_rec, conn_type, MLF_ST_STR),
    VAL(mlf_conn_rec, description, MLF_ST_STR),
    VAL(mlf_conn_rec, host, MLF_ST_STR),
    VAL(mlf_conn_rec, port, MLF_ST_INT),
    VAL(mlf_conn_rec, login, MLF_ST_STR),
    SEALED_STR(mlf_conn_rec, password, MLF_ST_SEAL_ALWAYS),
    VAL(mlf_conn_rec, schema, MLF_ST_STR),
    SEALED_BIN(mlf_conn_rec, extra, extra_len, MLF_ST_SEAL_ALWAYS),
};

static const mlf_st_field pool_fields[] = {
    FIELD(mlf_pool_rec, name, MLF_ST_STR, MLF_ST_NAME),
    VAL(mlf_pool_rec, slots, MLF_ST_INT),
    VAL(mlf_pool_rec, description, MLF_ST_STR),
};

static const mlf_st_field import_error_fields[] = {
    FIELD(mlf_import_error_rec, filename, MLF_ST_STR, MLF_ST_NAME),
    VAL(mlf_import_error_rec, line, MLF_ST_INT),
    VAL(mlf_import_error_rec, column, MLF_ST_INT),
    VAL(mlf_import_error_rec, message, MLF_ST_STR),
    VAL(mlf_import_error_rec, timestamp, MLF_ST_TIME),
};

static const mlf_st_field lease_fields[] = {
    FIELD(mlf_lease_rec, dag_id, MLF_ST_STR, MLF_ST_DAG),
    FIELD(mlf_lease_rec, run_id, MLF_ST_STR, MLF_ST_RUN),
    FIELD(mlf_lease_rec, task_id, MLF_ST_STR, MLF_ST_TASK),
    FIELD(mlf_lease_rec, map_index, MLF_ST_INT, MLF_ST_MAP_INDEX),
    VAL(mlf_lease_rec, attempt_token, MLF_ST_U64),
    VAL(mlf_lease_rec, worker, MLF_ST_STR),
    VAL(mlf_lease_rec, deadline, MLF_ST_TIME),
};

const mlf_st_rectype mlf_st_dag_type =
    TYPE("DAG", MLF_ST_DAGS, MLF_ST_KEY_NAME, MLF_STORE_ID_MAX, mlf_dag_rec, dag_fields);
const mlf_st_rectype mlf_st_run_type =
    TYPE("DAG run", MLF_ST_RUNS, MLF_ST_KEY_RUN, 0, mlf_run_rec, run_fields);
const mlf_st_rectype mlf_st_ti_type =
    TYPE("task instance", MLF_ST_TIS, MLF_ST_KEY_TI, 0, mlf_ti_rec, ti_fields);
const mlf_st_rectype mlf_st_var_type =
    TYPE("variable", MLF_ST_VARS, MLF_ST_KEY_NAME, MLF_STORE_KEY_MAX, mlf_var_rec, var_fields);
const mlf_st_rectype mlf_st_conn_type =
    TYPE("connection", MLF_ST_CONNS, MLF_ST_KEY_NAME, MLF_STORE_KEY_MAX, mlf_conn_rec, conn_fields);
const mlf_st_rectype mlf_st_pool_type =
    TYPE("pool", MLF_ST_POOLS, MLF_ST_KEY_NAME, MLF_STORE_KEY_MAX, mlf_pool_rec, pool_fields);
const mlf_st_rectype mlf_st_import_error_type = TYPE("import error", MLF_ST_IMPORT_ERRORS, MLF_ST_KEY_NAME,
                                                     MLF_STORE_KEY_MAX, mlf_import_error_rec,
                                                     import_error_fields);
const mlf_st_rectype mlf_st_lease_type =
    TYPE("lease", MLF_ST_LEASES, MLF_ST_KEY_TI, 0, mlf_lease_rec, lease_fields);

/* --------------------------------------------------------------------------------- field access */

#define AT(rec, f, T) ((T *)((char *)(rec) + (f)->off))
#define CAT(rec, f, T) ((const T *)((const char *)(rec) + (f)->off))

static const mlf_st_field *field_of_role(const mlf_st_rectype *rt, int role)
{
    for (size_t i = 0; i < rt->nfields; i++)
        if (rt->fields[i].role == role)
            return &rt->fields[i];
    return NULL;
}

static const char *role_str(const mlf_st_rectype *rt, const void *rec, int role)
{
    const mlf_st_field *f = field_of_role(rt, role);
    return f ? *CAT(rec, f, char *) : NULL;
}

void mlf_st_rec_init(const mlf_st_rectype *rt, void *rec)
{
    memset(rec, 0, rt->size);
    for (size_t i = 0; i < rt->nfields; i++) {
        const mlf_st_field *f = &rt->fields[i];
        if (f->kind == MLF_ST_TIME)
            *AT(rec, f, int64_t) = MLF_TIME_NONE;
        else if (f->role == MLF_ST_MAP_INDEX)
            *AT(rec, f, int) = -1;
    }
}

void mlf_st_rec_clear(const mlf_st_rectype *rt, void *rec)
{
    for (size_t i = 0; i < rt->nfields; i++) {
        const mlf_st_field *f = &rt->fields[i];
        if (f->kind == MLF_ST_STR)
            free(*AT(rec, f, char *));
        else if (f->kind == MLF_ST_BIN)
            free(*AT(rec, f, uint8_t *));
    }
    mlf_st_rec_init(rt, rec);
}

int mlf_st_rec_key(const mlf_st_rectype *rt, const void *rec, mlf_st_key *k)
{
    switch (rt->keykind) {
    case MLF_ST_KEY_NAME: return mlf_st_key_name(k, role_str(rt, rec, MLF_ST_NAME), rt->key_max);
    case MLF_ST_KEY_RUN:
        return mlf_st_key_run(k, role_str(rt, rec, MLF_ST_DAG),
                              *CAT(rec, field_of_role(rt, MLF_ST_LOGICAL_DATE), int64_t),
                              role_str(rt, rec, MLF_ST_RUN));
    default: {
        mlf_ti_key ti = {role_str(rt, rec, MLF_ST_DAG), role_str(rt, rec, MLF_ST_RUN),
                         role_str(rt, rec, MLF_ST_TASK), *CAT(rec, field_of_role(rt, MLF_ST_MAP_INDEX), int)};
        return mlf_st_key_ti(k, &ti);
    }
    }
}

/* A copy of @p n bytes at @p p with a NUL after them, into @p *out. */
static int dup_str(const void *p, size_t n, char **out)
{
    char *s = malloc(n + 1);
    if (!s)
        return MLF_ENOMEM;
    memcpy(s, p, n);
    s[n] = '\0';
    *out = s;
    return MLF_OK;
}

static int set_role_str(const mlf_st_rectype *rt, void *rec, int role, const char *p, size_t n)
{
    return dup_str(p, n, AT(rec, field_of_role(rt, role), char *));
}

/* Fills the identity fields of @p rec from key @p k. */
static int parse_key(const mlf_st_rectype *rt, const MDB_val *k, void *rec)
{
    switch (rt->keykind) {
    case MLF_ST_KEY_NAME:
        if (mlf_st_parse_name(k->mv_data, k->mv_size, rt->key_max) != MLF_OK)
            return MLF_ECORRUPT;
        return set_role_str(rt, rec, MLF_ST_NAME, k->mv_data, k->mv_size);
    case MLF_ST_KEY_RUN: {
        const char *dag, *run;
        size_t run_len;
        mlf_time_us ld;
        if (mlf_st_parse_run(k->mv_data, k->mv_size, &dag, &ld, &run, &run_len) != MLF_OK)
            return MLF_ECORRUPT;
        *AT(rec, field_of_role(rt, MLF_ST_LOGICAL_DATE), int64_t) = ld;
        int rc = set_role_str(rt, rec, MLF_ST_DAG, dag, strlen(dag));
        return rc == MLF_OK ? set_role_str(rt, rec, MLF_ST_RUN, run, run_len) : rc;
    }
    default: {
        mlf_ti_key ti;
        size_t used;
        if (mlf_st_parse_ti(k->mv_data, k->mv_size, &ti, &used) != MLF_OK || used != k->mv_size)
            return MLF_ECORRUPT;
        *AT(rec, field_of_role(rt, MLF_ST_MAP_INDEX), int) = ti.map_index;
        int rc = set_role_str(rt, rec, MLF_ST_DAG, ti.dag_id, strlen(ti.dag_id));
        if (rc == MLF_OK)
            rc = set_role_str(rt, rec, MLF_ST_RUN, ti.run_id, strlen(ti.run_id));
        return rc == MLF_OK ? set_role_str(rt, rec, MLF_ST_TASK, ti.task_id, strlen(ti.task_id)) : rc;
    }
    }
}

/* ---------------------------------------------------------------------------------- msgpack check */

/* Reads a @p bytes-long big-endian unsigned integer at p[*pos]. */
static bool read_uint(const uint8_t *p, size_t n, size_t *pos, int bytes, uint64_t *out)
{
    if (n - *pos < (size_t)bytes)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[*pos + (size_t)i];
    *pos += (size_t)bytes;
    *out = v;
    return true;
}

/* Skips one msgpack object at p[*pos], checking every length against the bytes left. */
static bool mp_skip(const uint8_t *p, size_t n, size_t *pos, int depth)
{
    if (depth <= 0 || *pos >= n)
        return false;
    uint8_t b = p[(*pos)++];
    uint64_t len = 0;   /* payload bytes to skip */
    uint64_t items = 0; /* nested objects to skip */
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return true; /* fixint, nil, bool */
    if (b <= 0x8f) /* b is in 0x80..0xdf from here on */
        items = (uint64_t)(b & 0x0f) * 2; /* fixmap */
    else if (b <= 0x9f)
        items = b & 0x0f; /* fixarray */
    else if (b <= 0xbf)
        len = b & 0x1f; /* fixstr */
    else {
        /* Fixed payload sizes, or the width of the length that follows the type byte. */
        static const struct {
            uint8_t fixed, lenw, ext, container;
        } t[0x20] = {
            [0x04] = {0, 1, 0, 0}, [0x05] = {0, 2, 0, 0}, [0x06] = {0, 4, 0, 0},   /* bin 8/16/32 */
            [0x07] = {0, 1, 1, 0}, [0x08] = {0, 2, 1, 0}, [0x09] = {0, 4, 1, 0},   /* ext 8/16/32 */
            [0x0a] = {4, 0, 0, 0}, [0x0b] = {8, 0, 0, 0},                           /* float 32/64 */
            [0x0c] = {1, 0, 0, 0}, [0x0d] = {2, 0, 0, 0}, [0x0e] = {4, 0, 0, 0}, [0x0f] = {8, 0, 0, 0},
            [0x10] = {1, 0, 0, 0}, [0x11] = {2, 0, 0, 0}, [0x12] = {4, 0, 0, 0}, [0x13] = {8, 0, 0, 0},
            [0x14] = {2, 0, 0, 0}, [0x15] = {3, 0, 0, 0}, [0x16] = {5, 0, 0, 0}, [0x17] = {9, 0, 0, 0},
            [0x18] = {17, 0, 0, 0},                                                 /* fixext 1..16 */
            [0x19] = {0, 1, 0, 0}, [0x1a] = {0, 2, 0, 0}, [0x1b] = {0, 4, 0, 0},   /* str 8/16/32 */
            [0x1c] = {0, 2, 0, 1}, [0x1d] = {0, 4, 0, 1},                           /* array 16/32 */
            [0x1e] = {0, 2, 0, 2}, [0x1f] = {0, 4, 0, 2},                           /* map 16/32 */
        };
        unsigned i = b - 0xc0u;
        if (t[i].fixed)
            len = t[i].fixed;
        else if (!t[i].lenw)
            return false; /* 0xc1: never used */
        else if (!read_uint(p, n, pos, t[i].lenw, &len))
            return false;
        if (t[i].container) {
            items = len * t[i].container;
            len = 0;
        } else {
            len += t[i].ext; /* the ext type byte */
        }
    }
    if (len > n - *pos || items > n - *pos) /* every nested object takes at least one byte */
        return false;
    *pos += len;
    for (uint64_t i = 0; i < items; i++)
        if (!mp_skip(p, n, pos, depth - 1))
            return false;
    return true;
}

/* Reads a msgpack integer at p[*pos] (any width, signed or not). */
static bool mp_int(const uint8_t *p, size_t n, size_t *pos, int64_t *out)
{
    if (*pos >= n)
        return false;
    uint8_t b = p[(*pos)++];
    uint64_t u;
    if (b <= 0x7f || b >= 0xe0) {
        *out = (int8_t)b;
        return true;
    }
    static const int width[] = {1, 2, 4, 8}; /* 0xcc..0xcf unsigned, 0xd0..0xd3 signed */
    if (b >= 0xcc && b <= 0xcf) {
        if (!read_uint(p, n, pos, width[b - 0xcc], &u) || u > INT64_MAX)
            return false;
        *out = (int64_t)u;
        return true;
    }
    if (b >= 0xd0 && b <= 0xd3) {
        int w = width[b - 0xd0];
        if (!read_uint(p, n, pos, w, &u))
            return false;
        if (w < 8 && (u >> (w * 8 - 1)))
            u |= ~UINT64_C(0) << (w * 8); /* sign-extend */
        *out = (int64_t)u;
        return true;
    }
    return false;
}

int mlf_st_rec_find_int(const void *data, size_t n, const char *name, int64_t *out)
{
    const uint8_t *p = data;
    size_t pos = 0;
    uint64_t count;
    if (n == 0)
        return MLF_ECORRUPT;
    uint8_t b = p[pos++];
    if (b >= 0x80 && b <= 0x8f)
        count = b & 0x0f;
    else if (b != 0xde && b != 0xdf)
        return MLF_ECORRUPT;
    else if (!read_uint(p, n, &pos, b == 0xde ? 2 : 4, &count))
        return MLF_ECORRUPT;
    size_t want = strlen(name);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t len;
        if (pos >= n)
            return MLF_ECORRUPT;
        b = p[pos++];
        if (b >= 0xa0 && b <= 0xbf)
            len = b & 0x1f;
        else if (b < 0xd9 || b > 0xdb || !read_uint(p, n, &pos, 1 << (b - 0xd9), &len))
            return MLF_ECORRUPT; /* keys are strings */
        if (len > n - pos)
            return MLF_ECORRUPT;
        bool match = len == want && memcmp(p + pos, name, want) == 0;
        pos += len;
        if (match)
            return mp_int(p, n, &pos, out) ? MLF_OK : MLF_ECORRUPT;
        if (!mp_skip(p, n, &pos, RECORD_DEPTH))
            return MLF_ECORRUPT;
    }
    return MLF_ENOTFOUND;
}

int mlf_st_mp_check(const void *p, size_t n, int max_depth)
{
    size_t pos = 0;
    if (!p || !mp_skip(p, n, &pos, max_depth) || pos != n)
        return MLF_EPARSE;
    return MLF_OK;
}

/* -------------------------------------------------------------------------------------- encoding */

static int buf_write(void *data, const char *buf, size_t len)
{
    return mlf_buf_append(data, buf, len) == MLF_OK ? 0 : -1;
}

/* Whether field @p f of @p rec is worth writing (unset strings, bytes and times are left out). */
static bool present(const mlf_st_field *f, const void *rec)
{
    switch (f->kind) {
    case MLF_ST_STR: return *CAT(rec, f, char *) != NULL;
    case MLF_ST_BIN: return *CAT(rec, f, uint8_t *) != NULL;
    case MLF_ST_TIME: return *CAT(rec, f, int64_t) != MLF_TIME_NONE;
    default: return true;
    }
}

static int validate(const mlf_st_field *f, const void *rec)
{
    if (f->kind == MLF_ST_ENUM) {
        int v = *CAT(rec, f, int);
        return v >= 0 && v < f->max ? MLF_OK : MLF_EINVAL;
    }
    if (f->kind == MLF_ST_BIN) {
        const uint8_t *p = *CAT(rec, f, uint8_t *);
        size_t len = *(const size_t *)((const char *)rec + f->len_off);
        if (!p)
            return len ? MLF_EINVAL : MLF_OK;
        return mlf_st_mp_check(p, len, MLF_ST_OPAQUE_DEPTH);
    }
    return MLF_OK;
}

bool mlf_st_seal_wanted(const mlf_st_rectype *rt, const mlf_st_field *f, const void *rec)
{
    switch (f->seal) {
    case MLF_ST_SEAL_ALWAYS: return true;
    case MLF_ST_SEAL_SENSITIVE_NAME: return mlf_is_sensitive_name(role_str(rt, rec, MLF_ST_NAME)) != 0;
    default: return false;
    }
}

/* Where the fields of one record are sealed or unsealed: the store (its key) and the record's key. */
typedef struct seal_ctx {
    const mlf_store *st;
    int db;
    const void *kb;
    size_t kn;
} seal_ctx;

/* Packs field @p f of @p rec sealed: an ext object holding the sealed clear bytes. */
static int pack_sealed(msgpack_packer *pk, const seal_ctx *sc, const mlf_st_field *f, const void *rec)
{
    const void *p;
    size_t n;
    if (f->kind == MLF_ST_STR) {
        p = *CAT(rec, f, char *);
        n = strlen(p);
    } else {
        p = *CAT(rec, f, uint8_t *);
        n = *(const size_t *)((const char *)rec + f->len_off);
    }
    mlf_buf sealed = {0};
    int rc = mlf_st_seal(sc->st, sc->db, sc->kb, sc->kn, f->name, p, n, &sealed);
    if (rc == MLF_OK && (msgpack_pack_ext(pk, sealed.len, MLF_ST_SEAL_EXT) ||
                         msgpack_pack_ext_body(pk, sealed.data, sealed.len)))
        rc = MLF_ENOMEM;
    mlf_buf_free(&sealed);
    return rc;
}

static int pack_field(msgpack_packer *pk, const mlf_st_field *f, const void *rec)
{
    switch (f->kind) {
    case MLF_ST_STR: {
        const char *s = *CAT(rec, f, char *);
        return msgpack_pack_str_with_body(pk, s, strlen(s));
    }
    case MLF_ST_BIN:
        return msgpack_pack_bin_with_body(pk, *CAT(rec, f, uint8_t *),
                                          *(const size_t *)((const char *)rec + f->len_off));
    case MLF_ST_BOOL: return *CAT(rec, f, bool) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case MLF_ST_INT:
    case MLF_ST_ENUM: return msgpack_pack_int64(pk, *CAT(rec, f, int));
    case MLF_ST_U64: return msgpack_pack_uint64(pk, *CAT(rec, f, uint64_t));
    default: return msgpack_pack_int64(pk, *CAT(rec, f, int64_t)); /* I64, TIME */
    }
}

int mlf_st_rec_encode(const mlf_st_rectype *rt, const void *rec, mlf_buf *out)
{
    return mlf_st_rec_encode_st(NULL, rt, rec, out);
}

int mlf_st_rec_encode_st(const mlf_store *st, const mlf_st_rectype *rt, const void *rec, mlf_buf *out)
{
    mlf_st_key key;
    seal_ctx sc = {st, rt->db, NULL, 0};
    size_t n = 1; /* "v" */
    for (size_t i = 0; i < rt->nfields; i++) {
        const mlf_st_field *f = &rt->fields[i];
        if (f->role != MLF_ST_VALUE)
            continue;
        int rc = validate(f, rec);
        if (rc != MLF_OK)
            return rc;
        n += present(f, rec);
        if (present(f, rec) && !sc.kb && mlf_st_seal_wanted(rt, f, rec)) {
            if (!st || !st->has_key)
                return MLF_ESTATE;
            rc = mlf_st_rec_key(rt, rec, &key);
            if (rc != MLF_OK)
                return rc;
            sc.kb = key.b;
            sc.kn = key.n;
        }
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    int bad = msgpack_pack_map(&pk, n);
    bad |= msgpack_pack_str_with_body(&pk, "v", 1);
    bad |= msgpack_pack_int64(&pk, MLF_ST_RECORD_VERSION);
    for (size_t i = 0; i < rt->nfields; i++) {
        const mlf_st_field *f = &rt->fields[i];
        if (f->role != MLF_ST_VALUE || !present(f, rec))
            continue;
        bad |= msgpack_pack_str_with_body(&pk, f->name, strlen(f->name));
        if (sc.kb && mlf_st_seal_wanted(rt, f, rec)) {
            int rc = pack_sealed(&pk, &sc, f, rec);
            if (rc != MLF_OK)
                return rc;
        } else {
            bad |= pack_field(&pk, f, rec);
        }
    }
    return bad ? MLF_ENOMEM : MLF_OK;
}

int mlf_st_int_encode(int64_t v, mlf_buf *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    return msgpack_pack_int64(&pk, v) ? MLF_ENOMEM : MLF_OK;
}

/* -------------------------------------------------------------------------------------- decoding */

/* A msgpack integer that fits int64_t. */
static bool obj_int(const msgpack_object *o, int64_t *out)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *out = (int64_t)o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return true;
    }
    return false;
}

/* Stores @p o into field @p f of @p rec, opening a sealed value with @p sc. Returns MLF_OK, MLF_ECORRUPT
 * (wrong type or range, a sealed value that does not open), MLF_ESTATE (sealed, and no key), MLF_ENOMEM. */
static int decode_field(const seal_ctx *sc, const mlf_st_field *f, const msgpack_object *o, void *rec)
{
    int64_t i;
    if (o->type == MSGPACK_OBJECT_EXT) {
        if (f->seal == MLF_ST_SEAL_NO || o->via.ext.type != MLF_ST_SEAL_EXT)
            return MLF_ECORRUPT;
        uint8_t *clear = NULL;
        size_t n = 0;
        int rc = mlf_st_unseal(sc->st, sc->db, sc->kb, sc->kn, f->name, o->via.ext.ptr, o->via.ext.size, &clear,
                               &n);
        if (rc != MLF_OK)
            return rc;
        msgpack_object c = {.type = f->kind == MLF_ST_STR ? MSGPACK_OBJECT_STR : MSGPACK_OBJECT_BIN};
        if (f->kind == MLF_ST_STR)
            c.via.str = (msgpack_object_str){(uint32_t)n, (const char *)clear};
        else
            c.via.bin = (msgpack_object_bin){(uint32_t)n, (const char *)clear};
        rc = n > UINT32_MAX ? MLF_ECORRUPT : decode_field(sc, f, &c, rec);
        sodium_memzero(clear, n);
        free(clear);
        return rc;
    }
    switch (f->kind) {
    case MLF_ST_STR: {
        char **s = AT(rec, f, char *);
        if (o->type == MSGPACK_OBJECT_NIL) {
            free(*s);
            *s = NULL;
            return MLF_OK;
        }
        if (o->type != MSGPACK_OBJECT_STR || memchr(o->via.str.ptr, '\0', o->via.str.size))
            return MLF_ECORRUPT;
        free(*s);
        *s = NULL;
        return dup_str(o->via.str.ptr, o->via.str.size, s);
    }
    case MLF_ST_BIN: {
        uint8_t **p = AT(rec, f, uint8_t *);
        size_t *len = (size_t *)((char *)rec + f->len_off);
        free(*p);
        *p = NULL;
        *len = 0;
        if (o->type == MSGPACK_OBJECT_NIL)
            return MLF_OK;
        if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size == 0 ||
            mlf_st_mp_check(o->via.bin.ptr, o->via.bin.size, MLF_ST_OPAQUE_DEPTH) != MLF_OK)
            return MLF_ECORRUPT;
        *p = malloc(o->via.bin.size);
        if (!*p)
            return MLF_ENOMEM;
        memcpy(*p, o->via.bin.ptr, o->via.bin.size);
        *len = o->via.bin.size;
        return MLF_OK;
    }
    case MLF_ST_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return MLF_ECORRUPT;
        *AT(rec, f, bool) = o->via.boolean;
        return MLF_OK;
    case MLF_ST_INT:
    case MLF_ST_ENUM:
        if (!obj_int(o, &i) || i < (f->kind == MLF_ST_ENUM ? 0 : INT32_MIN) ||
            i > (f->kind == MLF_ST_ENUM ? f->max - 1 : INT32_MAX))
            return MLF_ECORRUPT;
        *AT(rec, f, int) = (int)i;
        return MLF_OK;
    case MLF_ST_U64:
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return MLF_ECORRUPT;
        *AT(rec, f, uint64_t) = o->via.u64;
        return MLF_OK;
    case MLF_ST_TIME:
        if (o->type == MSGPACK_OBJECT_NIL) {
            *AT(rec, f, int64_t) = MLF_TIME_NONE;
            return MLF_OK;
        }
        /* fall through */
    default: /* I64 */
        if (!obj_int(o, &i))
            return MLF_ECORRUPT;
        *AT(rec, f, int64_t) = i;
        return MLF_OK;
    }
}

static const mlf_st_field *value_field(const mlf_st_rectype *rt, const char *name, size_t len)
{
    for (size_t i = 0; i < rt->nfields; i++) {
        const mlf_st_field *f = &rt->fields[i];
        if (f->role == MLF_ST_VALUE && strlen(f->name) == len && memcmp(f->name, name, len) == 0)
            return f;
    }
    return NULL;
}

/* Unpacks exactly one object from validated bytes. */
static int unpack(const void *p, size_t n, int depth, msgpack_unpacked *u)
{
    if (mlf_st_mp_check(p, n, depth) != MLF_OK)
        return MLF_ECORRUPT;
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(u, p, n, &off);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        return MLF_ENOMEM;
    return r == MSGPACK_UNPACK_SUCCESS && off == n ? MLF_OK : MLF_ECORRUPT;
}

static int decode_value(const seal_ctx *sc, const mlf_st_rectype *rt, const void *p, size_t n, void *rec)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = unpack(p, n, RECORD_DEPTH, &u);
    if (rc == MLF_OK && u.data.type != MSGPACK_OBJECT_MAP)
        rc = MLF_ECORRUPT;
    bool have_version = false;
    for (uint32_t i = 0; rc == MLF_OK && i < u.data.via.map.size; i++) {
        const msgpack_object *k = &u.data.via.map.ptr[i].key, *v = &u.data.via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR) {
            rc = MLF_ECORRUPT;
        } else if (k->via.str.size == 1 && k->via.str.ptr[0] == 'v') {
            int64_t version;
            have_version = obj_int(v, &version) && version >= 1;
            if (!have_version)
                rc = MLF_ECORRUPT;
        } else {
            const mlf_st_field *f = value_field(rt, k->via.str.ptr, k->via.str.size);
            if (f) /* unknown fields come from a newer minor version: skip them */
                rc = decode_field(sc, f, v, rec);
        }
    }
    msgpack_unpacked_destroy(&u);
    if (rc == MLF_OK && !have_version)
        rc = MLF_ECORRUPT;
    return rc;
}

int mlf_st_rec_decode(const mlf_st_rectype *rt, const MDB_val *k, const MDB_val *v, void *rec)
{
    return mlf_st_rec_decode_st(NULL, rt, k, v, rec);
}

int mlf_st_rec_decode_st(const mlf_store *st, const mlf_st_rectype *rt, const MDB_val *k, const MDB_val *v,
                         void *rec)
{
    mlf_st_rec_init(rt, rec);
    seal_ctx sc = {st, rt->db, k->mv_data, k->mv_size};
    int rc = decode_value(&sc, rt, v->mv_data, v->mv_size, rec);
    if (rc == MLF_OK)
        rc = parse_key(rt, k, rec);
    if (rc != MLF_OK)
        mlf_st_rec_clear(rt, rec);
    return rc;
}

int mlf_st_int_decode(const void *p, size_t n, int64_t *out)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = unpack(p, n, 1, &u);
    if (rc == MLF_OK && !obj_int(&u.data, out))
        rc = MLF_ECORRUPT;
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ------------------------------------------------------------------------- public init and clear */

#define REC_INIT_CLEAR(name, T, type)                                                                       \
    void name##_init(T *r) { mlf_st_rec_init(&type, r); }                                                 \
    void name##_clear(T *r) { mlf_st_rec_clear(&type, r); }

REC_INIT_CLEAR(mlf_dag_rec, mlf_dag_rec, mlf_st_dag_type)
REC_INIT_CLEAR(mlf_run_rec, mlf_run_rec, mlf_st_run_type)
REC_INIT_CLEAR(mlf_ti_rec, mlf_ti_rec, mlf_st_ti_type)
REC_INIT_CLEAR(mlf_var_rec, mlf_var_rec, mlf_st_var_type)
REC_INIT_CLEAR(mlf_conn_rec, mlf_conn_rec, mlf_st_conn_type)
REC_INIT_CLEAR(mlf_pool_rec, mlf_pool_rec, mlf_st_pool_type)
REC_INIT_CLEAR(mlf_import_error_rec, mlf_import_error_rec, mlf_st_import_error_type)
REC_INIT_CLEAR(mlf_lease_rec, mlf_lease_rec, mlf_st_lease_type)

mlf_ti_key mlf_ti_rec_key(const mlf_ti_rec *r)
{
    return (mlf_ti_key){r->dag_id, r->run_id, r->task_id, r->map_index};
}
