/*
 * store_assets.c -- assets in the state store: counters, events, consumer cursors, the inbox, the events
 * that triggered a run, idempotency keys (layouts in store_assets.h). Records are packed mlf_value maps.
 */
#include "store/store_assets.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "time/timefmt.h"

#define URI_MAX 380 /* MLF_ASSET_URI_MAX (dag/dag_assets.h): the store does not depend on the DAG model */

/* ------------------------------------------------------------------------------------------ keys */

static int add(mlf_st_key *k, const void *p, size_t n)
{
    if (n > sizeof k->b - k->n)
        return MLF_ETOOBIG;
    memcpy(k->b + k->n, p, n);
    k->n += n;
    return MLF_OK;
}

/* Appends @p s (1..max bytes, no NUL inside by construction), then a NUL when @p term. */
static int add_str(mlf_st_key *k, const char *s, size_t max, int term)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return MLF_EINVAL;
    if (n > max)
        return MLF_ETOOBIG;
    int rc = add(k, s, n);
    return rc == MLF_OK && term ? add(k, "", 1) : rc;
}

static int key_event(mlf_st_key *k, const char *uri, int64_t seq)
{
    k->n = 0;
    int rc = add_str(k, uri, URI_MAX, 1);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)seq >> (8 * (7 - i)));
    return rc == MLF_OK ? add(k, b, 8) : rc;
}

static int key_pair(mlf_st_key *k, const char *a, size_t amax, const char *b, size_t bmax)
{
    k->n = 0;
    int rc = add_str(k, a, amax, 1);
    return rc == MLF_OK ? add_str(k, b, bmax, 0) : rc;
}

/* ------------------------------------------------------------------------------------------ records */

static int put_value(mlf_store_txn *w, int db, const mlf_st_key *k, const mlf_value *v)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = mlf_value_pack(v, &buf, &len);
    if (rc == MLF_OK)
        rc = mlf_st_put(w, db, k->b, k->n, buf, len);
    free(buf);
    return rc;
}

/* Reads and decodes one record; a record that does not decode as a map is MLF_ECORRUPT. */
static int get_value(mlf_store_txn *txn, int db, const mlf_st_key *k, mlf_value **out)
{
    MDB_val v;
    *out = NULL;
    int rc = mlf_st_get(txn, db, k->b, k->n, &v);
    if (rc != MLF_OK)
        return rc;
    if (mlf_value_unpack(v.mv_data, v.mv_size, out) != MLF_OK || mlf_value_type(*out) != MLF_MAP) {
        mlf_value_free(*out);
        *out = NULL;
        return MLF_ECORRUPT;
    }
    return MLF_OK;
}

static int64_t int_field(const mlf_value *m, const char *name)
{
    int64_t i = 0;
    mlf_value_get_int(mlf_map_get(m, name), &i);
    return i;
}

static mlf_value *counter_rec(int64_t seq, mlf_time_us at)
{
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "v", mlf_value_int(1));
    mlf_map_set(m, "seq", mlf_value_int(seq));
    if (at)
        mlf_map_set(m, "at", mlf_value_int(at));
    return m;
}

/* ------------------------------------------------------------------------------------------ events */

int mlf_store_asset_get(mlf_store_txn *txn, const char *uri, int64_t *seq, mlf_time_us *at)
{
    mlf_st_key k = {0};
    int rc = add_str(&k, uri, URI_MAX, 0);
    mlf_value *rec = NULL;
    if (rc == MLF_OK)
        rc = get_value(txn, MLF_ST_ASSETS, &k, &rec);
    if (rc == MLF_OK) {
        if (seq)
            *seq = int_field(rec, "seq");
        if (at)
            *at = int_field(rec, "at");
    }
    mlf_value_free(rec);
    return rc;
}

int mlf_store_asset_event_add(mlf_store_txn *w, const char *uri, const mlf_value *ev, int outside, int64_t *seq_out)
{
    if (mlf_value_type(ev) != MLF_MAP)
        return MLF_EINVAL;
    int64_t seq = 0;
    int rc = mlf_store_asset_get(w, uri, &seq, NULL);
    if (rc != MLF_OK && rc != MLF_ENOTFOUND)
        return rc;
    seq++;
    mlf_time_us at = int_field(ev, "at");
    if (!at)
        at = mlf_time_now();
    mlf_value *e = mlf_value_copy(ev), *counter = counter_rec(seq, at);
    if (!e || !counter) {
        mlf_value_free(e);
        mlf_value_free(counter);
        return MLF_ENOMEM;
    }
    mlf_map_set(e, "v", mlf_value_int(1));
    mlf_map_set(e, "uri", mlf_value_str(uri));
    mlf_map_set(e, "seq", mlf_value_int(seq));
    mlf_map_set(e, "at", mlf_value_int(at));
    if (!mlf_map_get(e, "extra"))
        mlf_map_set(e, "extra", mlf_value_map());
    mlf_st_key k = {0};
    rc = add_str(&k, uri, URI_MAX, 0);
    if (rc == MLF_OK)
        rc = put_value(w, MLF_ST_ASSETS, &k, counter);
    if (rc == MLF_OK && outside)
        rc = mlf_st_put(w, MLF_ST_ASSET_INBOX, k.b, k.n, "", 0);
    if (rc == MLF_OK)
        rc = key_event(&k, uri, seq);
    if (rc == MLF_OK)
        rc = put_value(w, MLF_ST_ASSET_EVENTS, &k, e);
    mlf_value_free(e);
    mlf_value_free(counter);
    if (rc == MLF_OK && seq_out)
        *seq_out = seq;
    return rc;
}

struct asset_iter {
    mlf_store_asset_cb cb;
    void *ud;
};

static int asset_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct asset_iter *it = ud;
    char uri[URI_MAX + 1];
    mlf_value *rec = NULL;
    if (k->mv_size == 0 || k->mv_size > URI_MAX || memchr(k->mv_data, 0, k->mv_size))
        return MLF_ECORRUPT;
    memcpy(uri, k->mv_data, k->mv_size);
    uri[k->mv_size] = '\0';
    if (mlf_value_unpack(v->mv_data, v->mv_size, &rec) != MLF_OK)
        return MLF_ECORRUPT;
    int rc = it->cb(it->ud, uri, int_field(rec, "seq"), int_field(rec, "at"));
    mlf_value_free(rec);
    return rc;
}

int mlf_store_asset_foreach(mlf_store_txn *txn, mlf_store_asset_cb cb, void *ud)
{
    struct asset_iter it = {cb, ud};
    mlf_st_range all = {0};
    return mlf_st_iter(txn, MLF_ST_ASSETS, &all, asset_kv, &it);
}

struct event_iter {
    mlf_store_asset_event_cb cb;
    void *ud;
    size_t left; /* 0: no limit */
    int limited;
};

static int event_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct event_iter *it = ud;
    (void)k;
    mlf_value *ev = NULL;
    if (mlf_value_unpack(v->mv_data, v->mv_size, &ev) != MLF_OK)
        return MLF_ECORRUPT;
    int rc = it->cb(it->ud, ev);
    mlf_value_free(ev);
    if (rc == MLF_OK && it->limited && --it->left == 0)
        return MLF_STORE_STOP;
    return rc;
}

int mlf_store_asset_events(mlf_store_txn *txn, const char *uri, int64_t after_seq, size_t limit, int reverse,
                           mlf_store_asset_event_cb cb, void *ud)
{
    mlf_st_key lo, hi;
    int rc = key_event(&lo, uri, after_seq + 1);
    if (rc == MLF_OK)
        rc = key_event(&hi, uri, INT64_MAX);
    if (rc != MLF_OK)
        return rc;
    struct event_iter it = {cb, ud, limit, limit > 0};
    mlf_st_range r = {.lo = lo.b, .lo_len = lo.n, .hi = hi.b, .hi_len = hi.n, .reverse = reverse != 0};
    return mlf_st_iter(txn, MLF_ST_ASSET_EVENTS, &r, event_kv, &it);
}

/* ------------------------------------------------------------------------------------------ cursors */

int mlf_store_asset_cursor_get(mlf_store_txn *txn, const char *dag_id, const char *uri, int64_t *seq)
{
    mlf_st_key k;
    mlf_value *rec = NULL;
    int rc = key_pair(&k, dag_id, MLF_STORE_ID_MAX, uri, URI_MAX);
    if (rc == MLF_OK)
        rc = get_value(txn, MLF_ST_ASSET_CURSORS, &k, &rec);
    if (rc == MLF_OK)
        *seq = int_field(rec, "seq");
    mlf_value_free(rec);
    return rc;
}

int mlf_store_asset_cursor_put(mlf_store_txn *w, const char *dag_id, const char *uri, int64_t seq)
{
    mlf_st_key k;
    int rc = key_pair(&k, dag_id, MLF_STORE_ID_MAX, uri, URI_MAX);
    mlf_value *rec = rc == MLF_OK ? counter_rec(seq, 0) : NULL;
    if (rc == MLF_OK)
        rc = rec ? put_value(w, MLF_ST_ASSET_CURSORS, &k, rec) : MLF_ENOMEM;
    mlf_value_free(rec);
    return rc;
}

/* ------------------------------------------------------------------------------------------ inbox */

struct inbox_iter {
    mlf_store_txn *w;
    mlf_store_uri_cb cb;
    void *ud;
};

static int inbox_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    struct inbox_iter *it = ud;
    (void)v;
    char uri[URI_MAX + 1];
    if (k->mv_size == 0 || k->mv_size > URI_MAX || memchr(k->mv_data, 0, k->mv_size))
        return MLF_OK; /* not ours: dropped below */
    memcpy(uri, k->mv_data, k->mv_size);
    uri[k->mv_size] = '\0';
    int rc = mlf_st_del(it->w, MLF_ST_ASSET_INBOX, k->mv_data, k->mv_size);
    return rc == MLF_OK ? it->cb(it->ud, uri) : rc;
}

int mlf_store_asset_inbox_take(mlf_store_txn *w, mlf_store_uri_cb cb, void *ud)
{
    struct inbox_iter it = {w, cb, ud};
    mlf_st_range all = {0};
    return mlf_st_iter(w, MLF_ST_ASSET_INBOX, &all, inbox_kv, &it);
}

static int any_kv(void *ud, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    (void)v;
    *(int *)ud = 1;
    return MLF_STORE_STOP;
}

int mlf_store_asset_inbox_any(mlf_store_txn *txn)
{
    int any = 0;
    mlf_st_range all = {0};
    mlf_st_iter(txn, MLF_ST_ASSET_INBOX, &all, any_kv, &any);
    return any;
}

/* ------------------------------------------------------------------------------------------ runs, keys */

int mlf_store_run_assets_get(mlf_store_txn *txn, const char *dag_id, const char *run_id, mlf_value **out)
{
    mlf_st_key k;
    int rc = mlf_st_key_run_id(&k, dag_id, run_id);
    return rc == MLF_OK ? get_value(txn, MLF_ST_RUN_ASSETS, &k, out) : rc;
}

int mlf_store_run_assets_put(mlf_store_txn *w, const char *dag_id, const char *run_id, const mlf_value *events)
{
    mlf_st_key k;
    int rc = mlf_st_key_run_id(&k, dag_id, run_id);
    return rc == MLF_OK ? put_value(w, MLF_ST_RUN_ASSETS, &k, events) : rc;
}

int mlf_store_idem_get(mlf_store_txn *txn, const char *key, char **dag_id, char **run_id)
{
    mlf_st_key k = {0};
    mlf_value *rec = NULL;
    int rc = add_str(&k, key, MLF_IDEM_KEY_MAX, 0);
    if (rc == MLF_OK)
        rc = get_value(txn, MLF_ST_IDEMPOTENCY, &k, &rec);
    if (rc == MLF_OK) {
        const char *d = mlf_value_get_str(mlf_map_get(rec, "dag_id"), NULL);
        const char *r = mlf_value_get_str(mlf_map_get(rec, "run_id"), NULL);
        *dag_id = strdup(d ? d : "");
        *run_id = strdup(r ? r : "");
        if (!*dag_id || !*run_id) {
            free(*dag_id);
            free(*run_id);
            rc = MLF_ENOMEM;
        }
    }
    mlf_value_free(rec);
    return rc;
}

int mlf_store_idem_put(mlf_store_txn *w, const char *key, const char *dag_id, const char *run_id)
{
    mlf_st_key k = {0};
    int rc = add_str(&k, key, MLF_IDEM_KEY_MAX, 0);
    if (rc != MLF_OK)
        return rc;
    mlf_value *rec = mlf_value_map();
    mlf_map_set(rec, "v", mlf_value_int(1));
    mlf_map_set(rec, "dag_id", mlf_value_str(dag_id ? dag_id : ""));
    mlf_map_set(rec, "run_id", mlf_value_str(run_id ? run_id : ""));
    mlf_map_set(rec, "at", mlf_value_int(mlf_time_now()));
    rc = put_value(w, MLF_ST_IDEMPOTENCY, &k, rec);
    mlf_value_free(rec);
    return rc;
}
