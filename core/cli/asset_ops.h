/*
 * asset_ops.h -- asset events from outside the scheduler (`mlflowd assets create-event`, the webserver's
 * POST /api/v1/assets/events, event source plugins), shared so that each records them the same way, and
 * the asset catalogue of a DAG bag (doc/assets.md).
 */
#ifndef MLF_CORE_ASSET_OPS_H
#define MLF_CORE_ASSET_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "dag/dagbag.h"
#include "store/store.h"

/** 1 when some DAG of @p bag produces, consumes or declares asset @p uri. */
int mlf_ops_asset_known(const mlf_dagbag *bag, const char *uri);

/** The known asset URI nearest to @p uri (a plausible typo), or NULL. Borrowed from @p bag. */
const char *mlf_ops_asset_suggest(const mlf_dagbag *bag, const char *uri);

/** Records an event of asset @p uri from @p source ("cli", "api", "watch:NAME") with @p extra (a map or
 * NULL), in one write batch, for a running scheduler to pick up (the store's asset inbox). *@p seq (may be
 * NULL) receives the event's number. With @p idem_key (may be NULL), a key already used for an event of
 * @p uri records nothing: *@p seq is that event's number and *@p replayed (may be NULL) 1; the check and
 * the record are in the same write batch, so two processes cannot both record. Errors: MLF_EINVAL (a bad
 * URI, extra or key; @p err says why), MLF_ENOTFOUND (no DAG knows the asset; @p err names the nearest
 * known one), MLF_EEXIST (the key was used for another request), store errors. */
int mlf_ops_asset_event(mlf_store *st, const mlf_dagbag *bag, const char *uri, const char *source,
                        const mlf_value *extra, const char *idem_key, int64_t *seq, int *replayed, char *err,
                        size_t errlen);

/** mlf_ops_asset_event() inside the caller's write batch @p w (the scheduler's turn: `events.listen`,
 * doc/assets.md), which the caller commits; nothing is written on a replay or an error. With @p inbox the
 * event also goes to the asset inbox (for a scheduler in another process); the scheduler itself passes 0
 * and evaluates its consumers. Errors: as mlf_ops_asset_event(). */
int mlf_ops_asset_event_in(mlf_store_txn *w, const mlf_dagbag *bag, const char *uri, const char *source,
                           const mlf_value *extra, const char *idem_key, int inbox, int64_t *seq, int *replayed,
                           char *err, size_t errlen);

/** 1 when @p key is an acceptable idempotency key: 1..MLF_IDEM_KEY_MAX printable ASCII bytes. */
int mlf_ops_idem_key_ok(const char *key);
/** In write batch @p w: whether @p key already created a run of @p dag_id (*@p replay 1, its id copied to
 * @p run_id). Errors: MLF_EINVAL (a malformed key), MLF_EEXIST (the key was used for another request), store
 * errors; each with a sentence in @p err. Shared by the HTTP API and the scheduler's event socket, so a key
 * used on one is recognised on the other. */
int mlf_ops_idem_replay(mlf_store_txn *w, const char *key, const char *dag_id, char *run_id, size_t run_id_len,
                        int *replay, char *err, size_t errlen);
/** Records in @p w that @p key created run @p run_id of @p dag_id. Errors: store errors (sentence in @p err). */
int mlf_ops_idem_record(mlf_store_txn *w, const char *key, const char *dag_id, const char *run_id, char *err,
                        size_t errlen);

#endif
