/* state.c -- names and predicates of TI states, DAG run states and run types. */
#include "store/state.h"

#include <mlflowd/mlflowd.h>
#include <string.h>

static const char *const ti_state_names[MLF_TI_STATE_COUNT] = {
    [MLF_TI_NONE] = "none",
    [MLF_TI_SCHEDULED] = "scheduled",
    [MLF_TI_QUEUED] = "queued",
    [MLF_TI_RUNNING] = "running",
    [MLF_TI_SUCCESS] = "success",
    [MLF_TI_FAILED] = "failed",
    [MLF_TI_UP_FOR_RETRY] = "up_for_retry",
    [MLF_TI_UP_FOR_RESCHEDULE] = "up_for_reschedule",
    [MLF_TI_UPSTREAM_FAILED] = "upstream_failed",
    [MLF_TI_SKIPPED] = "skipped",
    [MLF_TI_REMOVED] = "removed",
};

static const char *const run_state_names[MLF_RUN_STATE_COUNT] = {
    [MLF_RUN_QUEUED] = "queued",
    [MLF_RUN_RUNNING] = "running",
    [MLF_RUN_SUCCESS] = "success",
    [MLF_RUN_FAILED] = "failed",
};

static const char *const run_type_names[MLF_RUN_TYPE_COUNT] = {
    [MLF_RUN_TYPE_SCHEDULED] = "scheduled",
    [MLF_RUN_TYPE_MANUAL] = "manual",
    [MLF_RUN_TYPE_BACKFILL] = "backfill",
    [MLF_RUN_TYPE_ASSET_TRIGGERED] = "asset_triggered",
};

/* The name at @p v in a table of @p n names, or "unknown". */
static const char *name_of(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : "unknown";
}

/* The index of @p name in a table of @p n names, or -1. */
static int index_of(const char *const *names, int n, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *mlf_ti_state_name(mlf_ti_state s)
{
    return name_of(ti_state_names, MLF_TI_STATE_COUNT, (int)s);
}

int mlf_ti_state_parse(const char *name, mlf_ti_state *out)
{
    int i = index_of(ti_state_names, MLF_TI_STATE_COUNT, name);
    if (i < 0)
        return MLF_EINVAL;
    *out = (mlf_ti_state)i;
    return MLF_OK;
}

bool mlf_ti_state_is_finished(mlf_ti_state s)
{
    switch (s) {
    case MLF_TI_SUCCESS:
    case MLF_TI_FAILED:
    case MLF_TI_UPSTREAM_FAILED:
    case MLF_TI_SKIPPED:
    case MLF_TI_REMOVED: return true;
    default: return false;
    }
}

const char *mlf_run_state_name(mlf_run_state s)
{
    return name_of(run_state_names, MLF_RUN_STATE_COUNT, (int)s);
}

int mlf_run_state_parse(const char *name, mlf_run_state *out)
{
    int i = index_of(run_state_names, MLF_RUN_STATE_COUNT, name);
    if (i < 0)
        return MLF_EINVAL;
    *out = (mlf_run_state)i;
    return MLF_OK;
}

bool mlf_run_state_is_finished(mlf_run_state s)
{
    return s == MLF_RUN_SUCCESS || s == MLF_RUN_FAILED;
}

const char *mlf_run_type_name(mlf_run_type t)
{
    return name_of(run_type_names, MLF_RUN_TYPE_COUNT, (int)t);
}

int mlf_run_type_parse(const char *name, mlf_run_type *out)
{
    int i = index_of(run_type_names, MLF_RUN_TYPE_COUNT, name);
    if (i < 0)
        return MLF_EINVAL;
    *out = (mlf_run_type)i;
    return MLF_OK;
}
