/* asset_ops.c -- asset events from outside the scheduler, and a DAG bag's asset catalogue (asset_ops.h). */
#include "cli/asset_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/suggest.h"
#include "dag/dag_assets.h"
#include "store/store_assets.h"

/* Calls @p fn with every URI a DAG of @p bag produces, consumes or declares (repeats included); stops when it
 * returns non-zero and returns that. */
static int each_uri(const mlf_dagbag *bag, int (*fn)(void *, const char *), void *ud)
{
    int rc = 0;
    for (size_t i = 0; i < mlf_dagbag_count(bag) && !rc; i++) {
        const mlf_dag *d = mlf_dagbag_at(bag, i);
        for (size_t t = 0; t < d->ntasks && !rc; t++)
            for (size_t o = 0; o < d->tasks[t].noutlets && !rc; o++)
                rc = fn(ud, d->tasks[t].outlets[o]);
        for (size_t k = 0; k < d->asset_sched.n && !rc; k++)
            rc = fn(ud, d->asset_sched.v[k].uri);
        for (size_t k = 0; k < d->nasset_decls && !rc; k++)
            rc = fn(ud, d->asset_decls[k].uri);
    }
    return rc;
}

static int is_uri(void *ud, const char *uri)
{
    return strcmp(ud, uri) == 0;
}

int mlf_ops_asset_known(const mlf_dagbag *bag, const char *uri)
{
    return each_uri(bag, is_uri, (void *)uri);
}

typedef struct uris {
    const char **v;
    size_t n, cap;
} uris;

static int add_uri(void *ud, const char *uri)
{
    uris *u = ud;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 32;
        const char **nv = realloc(u->v, cap * sizeof *nv);
        if (!nv)
            return 1;
        u->v = nv;
        u->cap = cap;
    }
    u->v[u->n++] = uri;
    return 0;
}

const char *mlf_ops_asset_suggest(const mlf_dagbag *bag, const char *uri)
{
    uris u = {0};
    each_uri(bag, add_uri, &u);
    const char *s = u.n ? mlf_suggest(uri, u.v, u.n) : NULL;
    free(u.v);
    return s;
}

/* In write batch @p w: a replay of @p idem_key (1, *seq set), a new key (0), or an error. */
static int idem_check(mlf_store_txn *w, const char *idem_key, const char *uri, int64_t *seq, char *err,
                      size_t errlen)
{
    mlf_value *rec = NULL;
    int rc = mlf_store_idem_get(w, idem_key, &rec);
    if (rc == MLF_ENOTFOUND)
        return 0;
    if (rc != MLF_OK) {
        snprintf(err, errlen, "idempotency key: %s", rc == MLF_ETOOBIG ? "longer than 200 bytes" : mlf_strerror(rc));
        return rc;
    }
    const char *was = mlf_value_get_str(mlf_map_get(rec, "asset_uri"), NULL);
    int64_t s = 0;
    mlf_value_get_int(mlf_map_get(rec, "seq"), &s);
    rc = was && strcmp(was, uri) == 0 ? 1 : MLF_EEXIST;
    if (rc == 1 && seq)
        *seq = s;
    if (rc == MLF_EEXIST)
        snprintf(err, errlen, "idempotency key already used for another request");
    mlf_value_free(rec);
    return rc;
}

int mlf_ops_asset_event_in(mlf_store_txn *w, const mlf_dagbag *bag, const char *uri, const char *source,
                           const mlf_value *extra, const char *idem_key, int inbox, int64_t *seq, int *replayed,
                           char *err, size_t errlen)
{
    if (replayed)
        *replayed = 0;
    const char *why = mlf_asset_uri_problem(uri);
    if (why) {
        snprintf(err, errlen, "'%s': %s", uri ? uri : "", why);
        return MLF_EINVAL;
    }
    if (extra && mlf_value_type(extra) != MLF_MAP) {
        snprintf(err, errlen, "an asset event's extra must be a JSON object");
        return MLF_EINVAL;
    }
    if (!mlf_ops_asset_known(bag, uri)) {
        const char *s = mlf_ops_asset_suggest(bag, uri);
        snprintf(err, errlen, "unknown asset '%s'%s%s%s: no DAG produces, consumes or declares it", uri,
                 s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
        return MLF_ENOTFOUND;
    }
    int64_t n = 0;
    if (idem_key) {
        int again = idem_check(w, idem_key, uri, &n, err, errlen);
        if (again < 0)
            return again == MLF_ETOOBIG ? MLF_EINVAL : again;
        if (again) {
            if (seq)
                *seq = n;
            if (replayed)
                *replayed = 1;
            return MLF_OK;
        }
    }
    mlf_value *ev = mlf_value_map();
    if (!ev)
        return MLF_ENOMEM;
    mlf_map_set(ev, "source", mlf_value_str(source));
    mlf_map_set(ev, "extra", extra ? mlf_value_copy(extra) : mlf_value_map());
    int rc = mlf_store_asset_event_add(w, uri, ev, inbox, &n);
    mlf_value_free(ev);
    if (rc == MLF_OK && idem_key) {
        mlf_value *rec = mlf_value_map();
        mlf_map_set(rec, "asset_uri", mlf_value_str(uri));
        mlf_map_set(rec, "seq", mlf_value_int(n));
        rc = rec ? mlf_store_idem_put(w, idem_key, rec) : MLF_ENOMEM;
        mlf_value_free(rec);
    }
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot record the asset event: %s", mlf_strerror(rc));
        return rc;
    }
    if (seq)
        *seq = n;
    return MLF_OK;
}

int mlf_ops_asset_event(mlf_store *st, const mlf_dagbag *bag, const char *uri, const char *source,
                        const mlf_value *extra, const char *idem_key, int64_t *seq, int *replayed, char *err,
                        size_t errlen)
{
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w), again = 0;
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot record the asset event: %s", mlf_strerror(rc));
        return rc;
    }
    rc = mlf_ops_asset_event_in(w, bag, uri, source, extra, idem_key, 1, seq, &again, err, errlen);
    if (rc != MLF_OK || again) {
        mlf_store_write_abort(w);
    } else if ((rc = mlf_store_write_commit(w)) != MLF_OK) {
        snprintf(err, errlen, "cannot record the asset event: %s", mlf_strerror(rc));
    }
    if (replayed)
        *replayed = rc == MLF_OK && again;
    return rc;
}

/* ---------------------------------------------------------------- idempotency keys (HTTP and the event socket) */

int mlf_ops_idem_key_ok(const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] >= 0x7f)
            return 0;
    return n > 0 && n <= MLF_IDEM_KEY_MAX;
}

int mlf_ops_idem_replay(mlf_store_txn *w, const char *key, const char *dag_id, char *run_id, size_t run_id_len,
                        int *replay, char *err, size_t errlen)
{
    *replay = 0;
    if (!mlf_ops_idem_key_ok(key)) {
        snprintf(err, errlen, "Idempotency-Key must be 1 to %d printable ASCII characters", MLF_IDEM_KEY_MAX);
        return MLF_EINVAL;
    }
    if (!w) {
        snprintf(err, errlen, "the state store is not writable");
        return MLF_EIO;
    }
    mlf_value *rec = NULL;
    int rc = mlf_store_idem_get(w, key, &rec);
    if (rc == MLF_ENOTFOUND)
        return MLF_OK;
    if (rc != MLF_OK) {
        snprintf(err, errlen, "cannot read the idempotency key: %s", mlf_strerror(rc));
        return rc;
    }
    const char *d = mlf_value_get_str(mlf_map_get(rec, "dag_id"), NULL);
    const char *r = mlf_value_get_str(mlf_map_get(rec, "run_id"), NULL);
    if (d && r && strcmp(d, dag_id) == 0) {
        snprintf(run_id, run_id_len, "%s", r);
        *replay = 1;
    } else {
        snprintf(err, errlen, "Idempotency-Key '%s' was used for another request", key);
        rc = MLF_EEXIST;
    }
    mlf_value_free(rec);
    return rc;
}

int mlf_ops_idem_record(mlf_store_txn *w, const char *key, const char *dag_id, const char *run_id, char *err,
                        size_t errlen)
{
    if (!w) {
        snprintf(err, errlen, "the state store is not writable");
        return MLF_EIO;
    }
    mlf_value *rec = mlf_value_map();
    if (!rec)
        return MLF_ENOMEM;
    mlf_map_set(rec, "request", mlf_value_str("post_dag_run"));
    mlf_map_set(rec, "dag_id", mlf_value_str(dag_id));
    mlf_map_set(rec, "run_id", mlf_value_str(run_id));
    int rc = mlf_store_idem_put(w, key, rec);
    mlf_value_free(rec);
    if (rc != MLF_OK)
        snprintf(err, errlen, "cannot record the idempotency key: %s", mlf_strerror(rc));
    return rc;
}
