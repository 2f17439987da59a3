/* scheduler.h -- the scheduler loop: creates DAG runs, decides which task instances are ready, hands them
 * to the executor, applies results, and records every change in the state store.
 *
 * One thread owns it (and the store's write batch). Each loop turn polls the executor and timers (never
 * sleeping past the next deadline), applies all results of the turn, re-evaluates only the downstream
 * task instances of what finished (work in proportion to downstream edges, never a scan of all TIs),
 * dispatches ready TIs by priority within parallelism, per-DAG max_active_tasks and pool slots, and
 * commits the turn's writes in one LMDB transaction.
 *
 * Semantics follow Airflow (doc/architecture.md §6): trigger rules with skip / upstream_failed propagation, runs that
 * succeed when every leaf succeeded or was skipped, retries with (exponential) retry_delay capped by
 * max_retry_delay, execution_timeout, sensors in poke and reschedule mode, branching, dynamic task mapping,
 * XCom, depends_on_past, max_active_runs. */
#ifndef MLF_CORE_SCHEDULER_H
#define MLF_CORE_SCHEDULER_H

#include <signal.h>
#include <stdio.h>

#include "conf/config.h"
#include "dag/dagbag.h"
#include "plugin/registry.h"
#include "store/state.h"
#include "store/store.h"

typedef struct mlf_scheduler mlf_scheduler;

/** What a scheduler works with. Everything is borrowed and must outlive the scheduler. */
typedef struct mlf_scheduler_opts {
    const mlf_config *cfg;
    mlf_catalog *cat;
    mlf_dagbag *bag;
    mlf_store *store;
    const char *exe;            /**< the mlflowd binary that runs `task-exec` */
    int parallelism;            /**< at most this many task instances run at once */
    int create_scheduled_runs;  /**< 1: create runs from schedules (the daemon); 0: only explicit runs */
    int watch_dags;             /**< 1: re-read the DAG folder when it changes */
    /** NULL: the `executor` setting; else this executor (foreground commands run "local", so that with
     * executor zmq configured they never bind the running scheduler's port). */
    const char *executor;
    /** Called when a DAG run finishes (may be NULL): progress for `dags backfill`. */
    void (*on_run_finished)(void *ud, const char *dag_id, const char *run_id, mlf_run_state state);
    void *ud;
    /** Called at every turn of the loop (may be NULL; the loop turns at least every 5 s): the daemon's
     * systemd watchdog ping. */
    void (*on_turn)(void *ud, mlf_time_us now);
    /** 1: runs created here are handed to the daemon (no owner recorded), for a process that creates runs
     * and never runs them while it lives on (the webserver): else the daemon would leave them alone until
     * this process's owner heartbeat went stale (doc/architecture.md §2). */
    int hand_over_runs;
} mlf_scheduler_opts;

/** A new scheduler (free with mlf_scheduler_free()). Errors: MLF_ENOMEM, executor start failures (with a
 * message in @p err). */
int mlf_scheduler_new(const mlf_scheduler_opts *opts, mlf_scheduler **out, char *err, size_t errlen);

/** Stops the executor (killing what still runs), commits, and frees. NULL is allowed. */
void mlf_scheduler_free(mlf_scheduler *s);

/** Loads every unfinished DAG run from the store (after a restart or a crash). Task instances that were
 * queued or running belonged to processes that are gone: they fail as zombies and are retried when they
 * have tries left. Returns MLF_OK or a store error. */
int mlf_scheduler_recover(mlf_scheduler *s);

/** Creates a DAG run of @p dag for logical date @p logical_date (its data interval inferred from the
 * schedule, as Airflow does for manual runs), with @p conf (a map, may be NULL) and run id @p run_id (NULL:
 * "<type>__<logical date ISO>"). The run id is copied to @p run_id_out. Errors: MLF_EEXIST (a run with that
 * id or logical date exists), MLF_EINVAL, store errors; a message in @p err. */
int mlf_scheduler_create_run(mlf_scheduler *s, const mlf_dag *dag, mlf_run_type type, mlf_time_us logical_date,
                             const char *run_id, const mlf_value *conf, char *run_id_out, size_t run_id_len,
                             char *err, size_t errlen);

/** As mlf_scheduler_create_run() with the data interval given (backfills create scheduled intervals). */
int mlf_scheduler_create_run_interval(mlf_scheduler *s, const mlf_dag *dag, mlf_run_type type,
                                      mlf_time_us data_interval_start, mlf_time_us data_interval_end,
                                      mlf_time_us logical_date, char *run_id_out, size_t run_id_len, char *err,
                                      size_t errlen);

/** Runs the loop until *@p stop becomes non-zero (then drains: running tries are waited for, up to the
 * configured grace, and killed after it) or, when @p until_dag is not NULL, until run @p until_run of it has
 * finished (@p until_run NULL: until every run in memory has finished). Returns MLF_OK or a fatal store
 * error. */
int mlf_scheduler_run(mlf_scheduler *s, volatile sig_atomic_t *stop, const char *until_dag, const char *until_run);

/** Runs one task instance of an existing run, ignoring its dependencies and touching no other task
 * instance (`tasks run`, `tasks test`), until it finishes; its state is recorded. *@p state receives the
 * final TI state. Errors: MLF_ENOTFOUND (no such run or task), store errors; a message in @p err. */
int mlf_scheduler_run_task(mlf_scheduler *s, const char *dag_id, const char *run_id, const char *task_id, int map_index,
                           volatile sig_atomic_t *stop, mlf_ti_state *state, char *err, size_t errlen);

/** Renders the operator parameters of @p task_id as they would be for a run of @p dag at @p logical_date
 * (`tasks render`); mapped tasks get their expand lists rendered too, under "expand". Nothing is written.
 * Returns a new map in *@p out (free with mlf_value_free()), or an error with a message in @p err. */
int mlf_scheduler_render_task(mlf_scheduler *s, const mlf_dag *dag, const char *task_id, mlf_time_us logical_date,
                              mlf_value **out, char *err, size_t errlen);

/** The write batch of the scheduler's current turn (opened now if none is; committed by the loop or by
 * mlf_scheduler_free()), or NULL after a store failure: a caller that created a run with
 * mlf_scheduler_create_run() adds its own records to the same commit (the webserver's idempotency keys). */
mlf_store_txn *mlf_scheduler_txn(mlf_scheduler *s);

/** The endpoint remote workers connect to (a zmq executor), or NULL for local executors. Borrowed. */
const char *mlf_scheduler_worker_endpoint(const mlf_scheduler *s);

/** Remote workers registered with a zmq executor now (0 for local executors). Registrations are read while
 * mlf_scheduler_run() turns. */
size_t mlf_scheduler_worker_count(const mlf_scheduler *s);

/** The log file path of one try (new string: free()). */
char *mlf_ti_log_path(const char *home, const char *dag_id, const char *run_id, const char *task_id, int map_index,
                      int try_number);

#endif
