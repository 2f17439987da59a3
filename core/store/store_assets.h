/*
 * store_assets.h -- assets in the state store (doc/assets.md): each asset's update counter, its events,
 * each consumer DAG's cursor, the inbox of events written by other processes, the events that triggered a
 * run, and the idempotency keys of outside triggers.
 *
 * Tables (keys as in store_internal.h; records are msgpack maps {"v": 1, ...}):
 *   assets         URI                           -> {v, seq: last event's number, at: its time}
 *   asset_events   URI \0 seq(8, BE)              -> event map (below)
 *   asset_cursors  dag_id \0 URI                  -> {v, seq: the last event a run of dag_id consumed}
 *   asset_inbox    URI                            -> empty: events from other processes, not yet seen by
 *                                                    the scheduler (a burst leaves one key)
 *   run_assets     dag_id \0 run_id               -> the triggering events of an asset-triggered run: a
 *                                                    map URI -> [event map...]
 *   idempotency    key                            -> {v, dag_id, run_id, at}
 * An event map: {uri, seq, at (µs), source ("task", "cli", "api", "watch:NAME"), dag_id, run_id, task_id,
 * map_index (a task's event), extra (a map; {} when none)}.
 * Functions return MLF_OK or a store error; *_get give MLF_ENOTFOUND when absent. Values handed out are
 * the caller's (mlf_value_free()).
 */
#ifndef MLF_CORE_STORE_ASSETS_H
#define MLF_CORE_STORE_ASSETS_H

#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "store/store.h"

/** The longest idempotency key, in bytes. */
#define MLF_IDEM_KEY_MAX 200

/** Records an event of asset @p uri: numbers it (its asset's counter + 1, returned in *@p seq when not
 * NULL), stamps it (at: now, or @p ev's "at" when it has one) and stores @p ev (a map; the uri, seq and at
 * fields are set here; borrowed). With @p outside, the asset is put in the inbox for a running scheduler
 * (events recorded by the scheduler itself are not). Errors: MLF_EINVAL (no map, a bad URI), store errors. */
int mlf_store_asset_event_add(mlf_store_txn *w, const char *uri, const mlf_value *ev, int outside, int64_t *seq);

/** The asset record of @p uri: its last event's number and time. MLF_ENOTFOUND: no event yet. */
int mlf_store_asset_get(mlf_store_txn *txn, const char *uri, int64_t *seq, mlf_time_us *at);

typedef int (*mlf_store_asset_cb)(void *ud, const char *uri, int64_t seq, mlf_time_us at);
/** Calls @p cb for every asset with events, in URI order. */
int mlf_store_asset_foreach(mlf_store_txn *txn, mlf_store_asset_cb cb, void *ud);

typedef int (*mlf_store_asset_event_cb)(void *ud, const mlf_value *ev);
/** Calls @p cb for the events of @p uri numbered above @p after_seq, oldest first (newest first with
 * @p reverse), at most @p limit of them (0: all). @p ev is borrowed for the call. */
int mlf_store_asset_events(mlf_store_txn *txn, const char *uri, int64_t after_seq, size_t limit, int reverse,
                           mlf_store_asset_event_cb cb, void *ud);

/** The cursor of consumer @p dag_id on @p uri (MLF_ENOTFOUND: none yet) / sets it. */
int mlf_store_asset_cursor_get(mlf_store_txn *txn, const char *dag_id, const char *uri, int64_t *seq);
int mlf_store_asset_cursor_put(mlf_store_txn *w, const char *dag_id, const char *uri, int64_t seq);

typedef int (*mlf_store_uri_cb)(void *ud, const char *uri);
/** Calls @p cb for every URI in the inbox and empties it (one write). */
int mlf_store_asset_inbox_take(mlf_store_txn *w, mlf_store_uri_cb cb, void *ud);
/** 1 when the inbox holds something (a cheap look in a read transaction), else 0. */
int mlf_store_asset_inbox_any(mlf_store_txn *txn);

/** The triggering events of run @p run_id (a map URI -> list of events) / records them. */
int mlf_store_run_assets_get(mlf_store_txn *txn, const char *dag_id, const char *run_id, mlf_value **out);
int mlf_store_run_assets_put(mlf_store_txn *w, const char *dag_id, const char *run_id, const mlf_value *events);

/** The run an idempotency key created (*@p dag_id, *@p run_id: new strings) / records it.
 * Errors: MLF_EINVAL or MLF_ETOOBIG for a key that is empty or longer than MLF_IDEM_KEY_MAX. */
int mlf_store_idem_get(mlf_store_txn *txn, const char *key, char **dag_id, char **run_id);
int mlf_store_idem_put(mlf_store_txn *w, const char *key, const char *dag_id, const char *run_id);

#endif
