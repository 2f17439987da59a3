/*
 * state.h -- the states of task instances and DAG runs, and the types of DAG runs (doc/architecture.md §6), with their
 * Airflow names.
 *
 * The numeric values are stored in the state store (records and the TI-by-state index): they are never
 * renumbered and never reused; new states are appended before the _COUNT member.
 */
#ifndef MLF_CORE_STATE_H
#define MLF_CORE_STATE_H

#include <stdbool.h>

#include <mlflowd/mlflowd.h>

/** The state of one task instance. MLF_TI_NONE is Airflow's "no state yet" (None). */
typedef enum mlf_ti_state {
    MLF_TI_NONE = 0,
    MLF_TI_SCHEDULED = 1,
    MLF_TI_QUEUED = 2,
    MLF_TI_RUNNING = 3,
    MLF_TI_SUCCESS = 4,
    MLF_TI_FAILED = 5,
    MLF_TI_UP_FOR_RETRY = 6,
    MLF_TI_UP_FOR_RESCHEDULE = 7,
    MLF_TI_UPSTREAM_FAILED = 8,
    MLF_TI_SKIPPED = 9,
    MLF_TI_REMOVED = 10,
    MLF_TI_STATE_COUNT
} mlf_ti_state;

/** The state of one DAG run. */
typedef enum mlf_run_state {
    MLF_RUN_QUEUED = 0,
    MLF_RUN_RUNNING = 1,
    MLF_RUN_SUCCESS = 2,
    MLF_RUN_FAILED = 3,
    MLF_RUN_STATE_COUNT
} mlf_run_state;

/** Why a DAG run exists. The name is also the prefix of generated run ids ("scheduled__2024-01-01..."). */
typedef enum mlf_run_type {
    MLF_RUN_TYPE_SCHEDULED = 0,
    MLF_RUN_TYPE_MANUAL = 1,
    MLF_RUN_TYPE_BACKFILL = 2,
    MLF_RUN_TYPE_ASSET_TRIGGERED = 3, /**< created when its DAG's assets were updated (doc/assets.md) */
    MLF_RUN_TYPE_COUNT
} mlf_run_type;

/** The Airflow name of @p s ("none", "scheduled", "queued", "running", "success", "failed",
 * "up_for_retry", "up_for_reschedule", "upstream_failed", "skipped", "removed"). A static string; "unknown"
 * for a value outside the enum. */
const char *mlf_ti_state_name(mlf_ti_state s);

/** Parses a TI state name (exact, lower case) into @p *out. Returns MLF_OK, or MLF_EINVAL for NULL or an
 * unknown name (then @p *out is unchanged). */
int mlf_ti_state_parse(const char *name, mlf_ti_state *out);

/** True for the states a try cannot leave by itself: success, failed, upstream_failed, skipped, removed
 * (Airflow's State.finished). Everything else is still waiting or working. */
bool mlf_ti_state_is_finished(mlf_ti_state s);

/** The name of a DAG run state ("queued", "running", "success", "failed"); "unknown" when out of range. */
const char *mlf_run_state_name(mlf_run_state s);

/** Parses a DAG run state name. Returns MLF_OK or MLF_EINVAL (then @p *out is unchanged). */
int mlf_run_state_parse(const char *name, mlf_run_state *out);

/** True for success and failed. */
bool mlf_run_state_is_finished(mlf_run_state s);

/** The name of a run type ("scheduled", "manual", "backfill"); "unknown" when out of range. */
const char *mlf_run_type_name(mlf_run_type t);

/** Parses a run type name. Returns MLF_OK or MLF_EINVAL (then @p *out is unchanged). */
int mlf_run_type_parse(const char *name, mlf_run_type *out);

#endif
