/*
 * store_stats.h -- counts for monitoring (the scheduler's /metrics, doc/webserver.md): task instances and
 * runs by state, and the LMDB map's size and use. Read in one read transaction; same rules as store.h.
 */
#ifndef MLF_CORE_STORE_STATS_H
#define MLF_CORE_STORE_STATS_H

#include "store/store.h"

typedef struct mlf_store_stats {
    uint64_t tis[MLF_TI_STATE_COUNT];   /**< task instances by state (from the state index: no record read) */
    uint64_t runs[MLF_RUN_STATE_COUNT]; /**< DAG runs by state */
    uint64_t import_errors;
    size_t map_size;  /**< bytes */
    size_t used_size; /**< bytes of the map in use (last page + 1) */
} mlf_store_stats;

/** Fills @p out from one read transaction of @p st. Errors: as mlf_store_read_begin(), MLF_ECORRUPT. */
int mlf_store_stats_read(mlf_store *st, mlf_store_stats *out);

#endif
