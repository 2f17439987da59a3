/*
 * store_key.c -- the state store's composite keys: builders that validate ids, and parsers that never
 * trust a stored key (the layouts are described in store_internal.h).
 */
#include <stdint.h>
#include <string.h>

#include "store/store_internal.h"

static int append(mlf_st_key *k, const void *p, size_t n)
{
    if (n > sizeof k->b - k->n)
        return MLF_ETOOBIG;
    memcpy(k->b + k->n, p, n);
    k->n += n;
    return MLF_OK;
}

/* Appends id @p s (1..max bytes), followed by a NUL when @p terminate. */
static int append_id(mlf_st_key *k, const char *s, size_t max, bool terminate)
{
    if (!s || !*s)
        return MLF_EINVAL;
    size_t n = strlen(s);
    if (n > max)
        return MLF_ETOOBIG;
    int rc = append(k, s, n);
    if (rc == MLF_OK && terminate)
        rc = append(k, "", 1);
    return rc;
}

static int append_be(mlf_st_key *k, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return append(k, b, (size_t)bytes);
}

static uint64_t read_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

int mlf_st_key_name(mlf_st_key *k, const char *name, size_t max)
{
    k->n = 0;
    return append_id(k, name, max, false);
}

int mlf_st_key_ti(mlf_st_key *k, const mlf_ti_key *ti)
{
    k->n = 0;
    if (!ti)
        return MLF_EINVAL;
    if (ti->map_index < -1 || ti->map_index == INT32_MAX)
        return MLF_ERANGE;
    int rc = append_id(k, ti->dag_id, MLF_STORE_ID_MAX, true);
    if (rc == MLF_OK)
        rc = append_id(k, ti->run_id, MLF_STORE_ID_MAX, true);
    if (rc == MLF_OK)
        rc = append_id(k, ti->task_id, MLF_STORE_ID_MAX, true);
    if (rc == MLF_OK)
        rc = append_be(k, (uint32_t)(ti->map_index + 1), 4);
    return rc;
}

int mlf_st_key_run(mlf_st_key *k, const char *dag_id, mlf_time_us logical_date, const char *run_id)
{
    k->n = 0;
    if (logical_date == MLF_TIME_NONE)
        return MLF_EINVAL;
    int rc = append_id(k, dag_id, MLF_STORE_ID_MAX, true);
    if (rc == MLF_OK)
        rc = append_be(k, (uint64_t)logical_date ^ ((uint64_t)1 << 63), 8);
    if (rc == MLF_OK)
        rc = append(k, "", 1);
    if (rc == MLF_OK)
        rc = append_id(k, run_id, MLF_STORE_ID_MAX, false);
    return rc;
}

int mlf_st_key_run_id(mlf_st_key *k, const char *dag_id, const char *run_id)
{
    k->n = 0;
    int rc = append_id(k, dag_id, MLF_STORE_ID_MAX, true);
    if (rc == MLF_OK)
        rc = append_id(k, run_id, MLF_STORE_ID_MAX, false);
    return rc;
}

int mlf_st_key_xcom(mlf_st_key *k, const mlf_ti_key *ti, const char *key)
{
    int rc = mlf_st_key_ti(k, ti);
    if (rc == MLF_OK)
        rc = append(k, "", 1);
    if (rc == MLF_OK)
        rc = append_id(k, key, MLF_STORE_ID_MAX, false);
    return rc;
}

int mlf_st_key_prefix(mlf_st_key *k, const char *dag_id, const char *run_id, const char *task_id)
{
    k->n = 0;
    int rc = append_id(k, dag_id, MLF_STORE_ID_MAX, true);
    if (rc == MLF_OK && run_id)
        rc = append_id(k, run_id, MLF_STORE_ID_MAX, true);
    if (rc == MLF_OK && run_id && task_id)
        rc = append_id(k, task_id, MLF_STORE_ID_MAX, true);
    return rc;
}

int mlf_st_key_run_bound(mlf_st_key *k, const char *dag_id, mlf_time_us t)
{
    int rc = mlf_st_key_prefix(k, dag_id, NULL, NULL);
    return rc == MLF_OK ? append_be(k, (uint64_t)t ^ ((uint64_t)1 << 63), 8) : rc;
}

int mlf_st_key_state(mlf_st_key *k, mlf_ti_state state, const mlf_st_key *ti_key)
{
    k->n = 0;
    if ((unsigned)state >= MLF_TI_STATE_COUNT)
        return MLF_EINVAL;
    uint8_t s = (uint8_t)state;
    int rc = append(k, &s, 1);
    if (rc == MLF_OK)
        rc = append(k, ti_key->b, ti_key->n);
    return rc;
}

void mlf_st_range_prefix(mlf_st_range *r, const mlf_st_key *prefix, mlf_st_key *hi)
{
    /* The smallest key greater than every key with this prefix: drop trailing 0xff bytes, then add one
     * to the last byte. A prefix of only 0xff bytes has no upper bound. */
    *hi = *prefix;
    while (hi->n && hi->b[hi->n - 1] == 0xff)
        hi->n--;
    if (hi->n)
        hi->b[hi->n - 1]++;
    *r = (mlf_st_range){.lo = prefix->b, .lo_len = prefix->n, .hi = hi->n ? hi->b : NULL, .hi_len = hi->n};
}

int mlf_st_range_run(mlf_st_range *r, mlf_st_key *lo, mlf_st_key *hi, const char *dag_id, const char *run_id,
                     const char *task_id)
{
    if (!run_id)
        return MLF_EINVAL;
    int rc = mlf_st_key_prefix(lo, dag_id, run_id, task_id);
    if (rc == MLF_OK)
        mlf_st_range_prefix(r, lo, hi);
    return rc;
}

/* ------------------------------------------------------------------------------------------ parsers */

/* Reads a NUL-terminated id of 1..MLF_STORE_ID_MAX bytes at p[*pos]. */
static int take_id(const uint8_t *p, size_t n, size_t *pos, const char **out)
{
    const uint8_t *end = memchr(p + *pos, '\0', n - *pos);
    if (!end)
        return MLF_ECORRUPT;
    size_t len = (size_t)(end - (p + *pos));
    if (len == 0 || len > MLF_STORE_ID_MAX)
        return MLF_ECORRUPT;
    *out = (const char *)p + *pos;
    *pos += len + 1;
    return MLF_OK;
}

/* Checks that the rest p[pos..n) is an unterminated id of 1..max bytes without NUL. */
static int take_tail(const uint8_t *p, size_t n, size_t pos, size_t max, const char **out, size_t *len)
{
    if (pos >= n || n - pos > max || memchr(p + pos, '\0', n - pos))
        return MLF_ECORRUPT;
    *out = (const char *)p + pos;
    *len = n - pos;
    return MLF_OK;
}

int mlf_st_parse_name(const void *p, size_t n, size_t max)
{
    const char *s;
    size_t len;
    return take_tail(p, n, 0, max, &s, &len);
}

int mlf_st_parse_ti(const void *p, size_t n, mlf_ti_key *out, size_t *used)
{
    const uint8_t *b = p;
    size_t pos = 0;
    if (take_id(b, n, &pos, &out->dag_id) != MLF_OK || take_id(b, n, &pos, &out->run_id) != MLF_OK ||
        take_id(b, n, &pos, &out->task_id) != MLF_OK || n - pos < 4)
        return MLF_ECORRUPT;
    uint32_t mi = (uint32_t)read_be(b + pos, 4);
    if (mi > INT32_MAX)
        return MLF_ECORRUPT;
    out->map_index = (int)mi - 1;
    *used = pos + 4;
    return MLF_OK;
}

int mlf_st_parse_run(const void *p, size_t n, const char **dag_id, mlf_time_us *logical_date,
                     const char **run_id, size_t *run_len)
{
    const uint8_t *b = p;
    size_t pos = 0;
    if (take_id(b, n, &pos, dag_id) != MLF_OK || n - pos < 9 || b[pos + 8] != '\0')
        return MLF_ECORRUPT;
    *logical_date = (mlf_time_us)(read_be(b + pos, 8) ^ ((uint64_t)1 << 63));
    if (*logical_date == MLF_TIME_NONE)
        return MLF_ECORRUPT;
    return take_tail(b, n, pos + 9, MLF_STORE_ID_MAX, run_id, run_len);
}

int mlf_st_parse_run_id(const void *p, size_t n, const char **dag_id, const char **run_id, size_t *run_len)
{
    const uint8_t *b = p;
    size_t pos = 0;
    if (take_id(b, n, &pos, dag_id) != MLF_OK)
        return MLF_ECORRUPT;
    return take_tail(b, n, pos, MLF_STORE_ID_MAX, run_id, run_len);
}

int mlf_st_parse_xcom(const void *p, size_t n, mlf_ti_key *ti, const char **key, size_t *key_len)
{
    size_t used;
    if (mlf_st_parse_ti(p, n, ti, &used) != MLF_OK || used >= n || ((const uint8_t *)p)[used] != '\0')
        return MLF_ECORRUPT;
    return take_tail(p, n, used + 1, MLF_STORE_ID_MAX, key, key_len);
}
