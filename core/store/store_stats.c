/*
 * store_stats.c -- counts for monitoring: TIs by state (keys of the state index), runs by state (decoded),
 * import errors, map size and use (store_stats.h).
 */
#include <string.h>

#include "store/store_internal.h"
#include "store/store_stats.h"

static int count_ti(void *ud, const MDB_val *k, const MDB_val *v)
{
    (void)v;
    mlf_store_stats *s = ud;
    if (k->mv_size < 1)
        return MLF_ECORRUPT;
    unsigned st = ((const unsigned char *)k->mv_data)[0];
    if (st < MLF_TI_STATE_COUNT)
        s->tis[st]++;
    return 0;
}

static int count_run(void *ud, const MDB_val *k, const MDB_val *v)
{
    mlf_store_stats *s = ud;
    mlf_run_rec r;
    int rc = mlf_st_rec_decode(&mlf_st_run_type, k, v, &r);
    if (rc != MLF_OK)
        return rc;
    if ((unsigned)r.state < MLF_RUN_STATE_COUNT)
        s->runs[r.state]++;
    mlf_run_rec_clear(&r);
    return 0;
}

static int count_one(void *ud, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    (void)v;
    ++*(uint64_t *)ud;
    return 0;
}

int mlf_store_stats_read(mlf_store *st, mlf_store_stats *out)
{
    if (!st || !out)
        return MLF_EINVAL;
    memset(out, 0, sizeof *out);
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(st, &txn);
    if (rc != MLF_OK)
        return rc;
    mlf_st_range all = {0};
    rc = mlf_st_iter(txn, MLF_ST_TI_BY_STATE, &all, count_ti, out);
    if (rc == MLF_OK)
        rc = mlf_st_iter(txn, MLF_ST_RUNS, &all, count_run, out);
    if (rc == MLF_OK)
        rc = mlf_st_iter(txn, MLF_ST_IMPORT_ERRORS, &all, count_one, &out->import_errors);
    MDB_envinfo info;
    MDB_stat stat;
    if (rc == MLF_OK && mdb_env_info(st->env, &info) == MDB_SUCCESS && mdb_env_stat(st->env, &stat) == MDB_SUCCESS) {
        out->map_size = info.me_mapsize;
        out->used_size = (size_t)(info.me_last_pgno + 1) * stat.ms_psize;
    }
    mlf_store_read_end(txn);
    return rc;
}
