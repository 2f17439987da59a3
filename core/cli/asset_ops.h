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
 * NULL) receives the event's number. Errors: MLF_EINVAL (a bad URI or extra; @p err says why),
 * MLF_ENOTFOUND (no DAG knows the asset; @p err names the nearest known one), store errors. */
int mlf_ops_asset_event(mlf_store *st, const mlf_dagbag *bag, const char *uri, const char *source,
                        const mlf_value *extra, int64_t *seq, char *err, size_t errlen);

#endif
