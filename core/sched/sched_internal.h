/*
 * sched_internal.h -- what the files of the scheduler share and nobody else sees: the in-memory model
 * (runs, tasks, task instances, per-DAG counters, the ready and timer heaps) and the functions one
 * concern of the loop calls in another. doc/architecture.md describes the scheduler.
 *
 * The files, one concern each:
 *   scheduler.c       the loop, the turn's write batch, DAG sync, opening and closing, single TIs
 *   sched_heap.c      the ready heap (by priority) and the timer heap (by wake time)
 *   sched_ti.c        TI records and state transitions, trigger-rule evaluation, mapped-task expansion
 *   sched_callback.c  on_* callbacks run by notifier processes
 *   sched_run.c       runs: the in-memory model, creation (manual and by schedule), start, final state
 *   sched_context.c   the template context a TI's parameters render in
 *   sched_dispatch.c  handing ready TIs to the executor within parallelism, DAG and pool limits
 *   sched_result.c    results from the executor: success, skip, reschedule, retry (with backoff), failure
 *   sched_recover.c   resuming runs after a restart; runs and pauses written by other processes
 *   sched_lease.c     leases of remote tries (persisted for the executor; adopted after a restart)
 *   sched_cache.c     cached results: a try's cache key, the hit that finishes it without running, the record
 *   sched_assets.c    asset events of succeeded tries, asset-triggered runs (doc/assets.md)
 *   sched_workers.c   the executor's worker records, batched into the loop's commits
 *   sched_events.c    event source plugins watching declared assets (event_source.h)
 */
#ifndef MLF_CORE_SCHED_INTERNAL_H
#define MLF_CORE_SCHED_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sched/scheduler.h"
#include "exec/task_spec.h"
#include "plugin/executors.h"
#include "time/schedule.h"
#include "time/timefmt.h"
#include "sched/trigger_rule.h"

#define COMPONENT "scheduler"
#define MAX_RETRY_DELAY_US (24LL * 3600 * 1000000) /* Airflow's cap when max_retry_delay is not set */

/* ------------------------------------------------------------------------------------------ model */

struct srun;

/* One task instance (one map index of one task of one run). */
typedef struct sti {
    struct srun *run;
    size_t task;
    int map_index;
    mlf_ti_state state;
    int try_number;
    int max_tries;
    mlf_time_us start_date, end_date, queued_at, wake_at, first_poke_at;
    char attempt[33];
    char *message;
    char *hostname;
    int pid;
    size_t heap_idx; /* position in the ready or timer heap, (size_t)-1 when in none */
    int in_timer;
    int save_pending;      /* listed in the scheduler's unsaved TIs: its record is written at the flush */
    /* cached results (sched_cache.c, doc/caching.md) */
    unsigned char cache_digest[32]; /* the running try's cache key, when cache_keyed */
    int cache_keyed;       /* the running try has a cache key: its success is recorded under it */
    int cache_ignore;      /* `tasks clear --no-cache`: this TI's tries do not read the cache */
} sti;

/* Per task of a run: its TIs and the counters over its direct upstream TIs. */
typedef struct stask {
    sti **tis;
    size_t ntis;
    int expanded;          /* mapped tasks: 1 once expanded (unmapped: always 1) */
    int decided;           /* the trigger rule gave something other than WAIT */
    int dirty;             /* an upstream finished this turn: evaluate again */
    int complete;          /* decided and every TI finished */
    unsigned unfinished;   /* TIs not finished */
    mlf_upstream_counts up;
    unsigned up_pending_expansion; /* upstream mapped tasks not expanded yet (each counts as one TI) */
    mlf_value *expanded_values;    /* mapped: map param -> list, after rendering */
} stask;

typedef struct srun {
    mlf_run_rec rec;
    mlf_dag *dag;          /* retained */
    mlf_value *conf;
    mlf_value *params;     /* DAG params overridden by conf (Airflow's dag_run_conf_overrides_params) */
    mlf_value *xcoms;      /* task_id -> {key: value} (mapped: task_id -> [ {key: value} per map index ]) */
    mlf_value *xcom_view;  /* what templates see as `xcom`: every task_id -> its view (None until it pushes) */
    stask *tasks;
    size_t open_tasks;     /* tasks not complete */
    size_t active_tis;     /* TIs scheduled, queued, running, up_for_retry or up_for_reschedule */
    int finished;
    int timed_out;         /* dagrun_timeout passed: the run fails whatever its leaves */
    int in_dirty_runs;     /* listed in the scheduler's dirty_runs */
    size_t *dirty;         /* tasks to evaluate this turn (a worklist: no scan of the run's tasks) */
    size_t ndirty, capdirty;
    struct srun *next;
} srun;

/* Per DAG (by dag_id): counters the limits need and the schedule's next run. */
typedef struct sdag {
    char *dag_id;
    mlf_dag *dag;          /* the bag's current version (borrowed), or NULL when gone */
    mlf_schedule *sched;
    int paused;
    int running_tis;       /* queued or running TIs of this DAG */
    int active_runs;
    int has_last;          /* last automated interval known */
    mlf_interval last;
    mlf_time_us next_check; /* when to look at the schedule again (0: now) */
    int asset_due;         /* sched_assets.c: an asset it waits for was updated (or a run of it ended) */
} sdag;

typedef struct heap {
    sti **v;
    size_t n, cap;
} heap;

struct mlf_scheduler {
    mlf_scheduler_opts o;
    const char *home;
    mlf_executor *ex;      /* the executor plugin (plugin/executors.h): all the scheduler knows of it */
    char *endpoint;        /* where its workers connect (describe()), asked once; NULL: none */
    mlf_store_txn *w;      /* the turn's write batch, opened on first write; kept (suspended) after a
                            * transient commit failure until a later commit succeeds */
    int store_error;       /* a store failure that stops the loop */
    int store_failing;     /* the last transient commit failure (0: the store commits) */
    mlf_time_us store_failing_since, store_retry_at; /* monotonic: the first failure, the next attempt */
    int64_t store_backoff; /* the current wait between attempts */
    unsigned store_attempts;
    int store_resume_failed; /* the kept batch could not even be resumed: wait for store_retry_at */
    srun *runs;
    sdag *dags;
    size_t ndags, capdags;
    heap ready;            /* scheduled TIs, by priority */
    heap timers;           /* up_for_retry / up_for_reschedule TIs, by wake_at */
    sti **unsaved;         /* TIs changed this turn: each record written once, at mlf_sc_flush_tis() */
    size_t nunsaved, capunsaved;
    sti **running;         /* dispatched TIs, looked up by attempt token */
    size_t nrunning, caprunning;
    srun **dirty_runs;     /* runs with dirty tasks this turn */
    size_t ndirty, capdirty;
    mlf_pool_rec *pools;
    size_t npools;
    int *pool_used;
    int64_t default_pool_slots;
    int64_t xcom_max;
    int draining;
    mlf_time_us heartbeat_at; /* the last scheduler heartbeat written to the store (doc/webserver.md) */
    int watch_fd;
    mlf_time_us next_dag_check;
    mlf_time_us next_adopt;  /* when to look for runs and pauses written by other processes */
    int single;              /* run_task(): only the chosen TI runs; nothing else is evaluated */
    pid_t *notifiers;        /* callback processes not reaped yet */
    size_t nnotifiers;
    sti *submitting;         /* the TI whose spec is being handed to the executor (lease callbacks) */
    char (*keep)[33];        /* reload_run(): attempts still running here, reattached by resume_run */
    size_t nkeep;
    char owner_id[160];          /* this process as a run owner (sched_owner.c) */
    mlf_time_us next_owner_beat; /* CLOCK_BOOTTIME */
    int skipped_owned;           /* resume_run() left a run to its live owner */
    /* assets (sched_assets.c) */
    struct asset_consumer *consumers; /* (URI, DAG) pairs of asset schedules, sorted by URI */
    size_t nconsumers;
    size_t *due;                      /* indices (s->dags) of the DAGs with asset_due set */
    size_t ndue, capdue;
    mlf_time_us next_inbox;           /* when to look at the inbox of events from other processes */
    struct sworker *workers;     /* the executor's workers, with records waiting for a commit (sched_workers.c) */
    size_t nworkers, capworkers;
    struct mlf_event_host **sources;  /* event sources (sched_events.c) */
    size_t nsources;
    struct mlf_evsock *evsock;        /* the event socket, NULL when events.listen is off (sched_evsock.c) */
};

/* The environment templates render in (sched_context.c). */
typedef struct render_ctx {
    mlf_scheduler *s;
    srun *run;
    const sti *ti;         /* NULL while expanding */
    mlf_value *names;      /* name -> value, filled lazily (NULL until the first name is looked up) */
    mlf_value *secrets;    /* strings to mask in the try's log: passwords and sensitive variables read */
} render_ctx;

/* A run found by a store scan (mlf_sc_take_first_run fills it; the caller frees run_id). */
typedef struct prev_run {
    char *run_id;
} prev_run;

/* A run's key (both strings owned by whoever built it). */
typedef struct run_key {
    char *dag_id, *run_id;
} run_key;

/* ---------------------------------------------------------------------------- scheduler.c: the turn */

/* The turn's write batch, opened on first use. NULL after a store failure (logged once). */
mlf_store_txn *mlf_sc_wtxn(mlf_scheduler *s);
/* Writes the TIs changed this turn (mlf_sc_flush_tis) and commits the turn's write batch, if one is open.
 * Returns MLF_OK or the store's error (also kept). */
int mlf_sc_commit(mlf_scheduler *s);
/** mlf_sc_commit() and mlf_sc_store_resume(): the store cannot commit now; the batch is kept for later. */
#define MLF_EAGAIN_STORE (MLF_STORE_STOP + 1)
/** Takes up a batch kept after a failed commit, when its next attempt is due: MLF_OK (resumed, or none
 * kept), MLF_EAGAIN_STORE (not yet, or the store still fails), or a lasting store error. */
int mlf_sc_store_resume(mlf_scheduler *s);
/* Records the first store failure @p rc of the turn (logged once, with @p what). */
void mlf_sc_note_store(mlf_scheduler *s, int rc, const char *what);
/* As mlf_scheduler_new() with the executor of descriptor @p desc (opened here, with no settings)
 * instead of the configured one: the seam the scheduler's unit tests drive a fake executor through. */
int mlf_sc_new_with_executor(const mlf_scheduler_opts *opts, const mlf_executor_desc *desc, mlf_scheduler **out,
                             char *err, size_t errlen);
/* The per-DAG entry of @p dag_id, or NULL. */
sdag *mlf_sc_find_sdag(mlf_scheduler *s, const char *dag_id);

/* ---------------------------------------------------------------------------- sched_heap.c */

/* Orders of the ready heap (higher effective priority first, then older logical date, then task order)
 * and of the timer heap (earlier wake_at first). */
int mlf_sc_ready_before(const sti *a, const sti *b);
int mlf_sc_timer_before(const sti *a, const sti *b);
/* Adds @p t (its heap_idx follows it). Returns MLF_OK or MLF_ENOMEM. */
int mlf_sc_heap_push(heap *h, sti *t, int (*before)(const sti *, const sti *));
/* Removes and returns the first TI, or NULL when empty. */
sti *mlf_sc_heap_pop(heap *h, int (*before)(const sti *, const sti *));
/* Removes @p t if it is in @p h. */
void mlf_sc_heap_remove(heap *h, sti *t, int (*before)(const sti *, const sti *));

/* ---------------------------------------------------------------------------- sched_ti.c */

/* 1 for the states a TI counts as active in (scheduled, queued, running, up_for_retry/reschedule). */
int mlf_sc_is_unfinished_active(mlf_ti_state st);
/* Notes that @p t's record must be written: however often a TI changes in a turn, its record is encoded
 * and written once, by mlf_sc_flush_tis() (before the commit, before a run is freed, and before the turn
 * reads TI records back from the store). */
void mlf_sc_save_ti(mlf_scheduler *s, sti *t);
/* Writes the records of every TI noted by mlf_sc_save_ti() into the turn's batch. */
void mlf_sc_flush_tis(mlf_scheduler *s);
/* Writes @p r's record into the turn's batch. */
void mlf_sc_save_run(mlf_scheduler *s, srun *r);
/* Replaces @p t's message by a copy of @p msg (NULL clears it). */
void mlf_sc_set_message(sti *t, const char *msg);
/* A new TI of task @p task in @p r, state none (NULL when out of memory); mlf_sc_add_ti lists it. */
sti *mlf_sc_new_ti(srun *r, size_t task, int map_index);
int mlf_sc_add_ti(stask *st, sti *t);
/* Puts @p task of @p r on the worklist evaluate_dirty goes through (once; not when decided). */
void mlf_sc_mark_dirty(mlf_scheduler *s, srun *r, size_t task);
/* Adds @p delta to the counter of finished state @p st in @p c. */
void mlf_sc_count_finished(mlf_upstream_counts *c, mlf_ti_state st, int delta);
/* Moves @p t to a finished state and tells its downstream tasks (work: its downstream edges). */
void mlf_sc_finish_ti(mlf_scheduler *s, sti *t, mlf_ti_state state, const char *message);
/* 1 when @p t finishes in the scheduler without a try: its operator declares MLF_OP_NO_EXECUTE (empty)
 * and nothing needs a try (no on_success_callback; not a single TI run by `tasks run`). Airflow marks an
 * EmptyOperator without callbacks success in the scheduler the same way. */
int mlf_sc_needs_no_try(const mlf_scheduler *s, const sti *t);
/* Marks such a TI success now (start and end date now; its try number counts this as its try, as Airflow
 * shows such a TI with try 1). */
void mlf_sc_finish_without_try(mlf_scheduler *s, sti *t);
/* Schedules @p t: it joins the ready heap (dispatched by priority within the limits), or succeeds at once
 * when it needs no try (mlf_sc_needs_no_try). */
void mlf_sc_schedule_ti(mlf_scheduler *s, sti *t);
/* Applies a trigger decision to every TI of @p task. */
void mlf_sc_decide(mlf_scheduler *s, srun *r, size_t task, mlf_trigger_decision d);
/* Store callback: copies the first run's id into the prev_run @p ud and stops. */
int mlf_sc_take_first_run(void *ud, const mlf_run_rec *rec);
/* Evaluates the tasks whose upstream counters changed this turn (and new runs' roots). */
void mlf_sc_evaluate_dirty(mlf_scheduler *s);

/* sched_setup.c: setup tasks (Airflow 2.7+). Fills c's setup counters from @p task's direct upstream setups
 * (all_done_setup_success reads them). */
void mlf_sc_count_setups(const srun *r, size_t task, mlf_upstream_counts *c);
/* Airflow's _evaluate_setup_constraint: UPSTREAM_FAILED when an indirect setup of @p task failed, SKIP when
 * one was skipped, WAIT until all succeeded, then RUN (the trigger rule decides). */
mlf_trigger_decision mlf_sc_setup_constraint(const srun *r, size_t task);
/* Setup @p task finished: the tasks waiting on it as an indirect setup are evaluated again. */
void mlf_sc_wake_setup_waiters(mlf_scheduler *s, srun *r, size_t task);

/* ---------------------------------------------------------------------------- sched_callback.c */

/* Runs callback @p cb ({notifier, config}) for @p event in a child process; never waits for it. */
void mlf_sc_run_callback(mlf_scheduler *s, const mlf_value *cb, const char *which, mlf_value *event);
/* The task's on_failure / on_success / on_retry callback for @p t reaching @p state, if it has one. */
void mlf_sc_ti_callback(mlf_scheduler *s, const sti *t, mlf_ti_state state);
/* Reaps finished notifier processes, waiting up to @p wait_ms for the rest. */
void mlf_sc_reap_notifiers(mlf_scheduler *s, int wait_ms);

/* ---------------------------------------------------------------------------- sched_run.c */

/* Frees @p r and its TIs (NULL is fine). */
void mlf_sc_free_run(srun *r);
/* Builds the in-memory run around @p rec (copied): per-task state and upstream totals, nothing decided. */
srun *mlf_sc_make_run(mlf_dag *dag, const mlf_run_rec *rec);
/* A run whose tasks are all complete (or that cannot progress): success when every leaf succeeded or was
 * skipped, failed otherwise (Airflow's DagRun.update_state). */
void mlf_sc_finalize_run(mlf_scheduler *s, srun *r, int deadlock);
/* Queued runs start in logical-date order while the DAG has fewer than max_active_runs running. */
void mlf_sc_start_queued_runs(mlf_scheduler *s);
/* Creates the runs schedules say are due (one per DAG per turn; catchup fills the rest turn by turn),
 * never above a DAG's max_active_runs. */
void mlf_sc_create_scheduled_runs(mlf_scheduler *s, mlf_time_us now);
/* Drops finished runs from memory (their records stay in the store). */
void mlf_sc_reap_finished_runs(mlf_scheduler *s);
/* A running run with nothing in flight and nothing left to decide can never progress: deadlock. (Not
 * while an older run of the same DAG is active: a depends_on_past task may be waiting for it.) */
void mlf_sc_detect_deadlocks(mlf_scheduler *s);
/* dagrun_timeout (Airflow's): a running run started longer ago than its DAG's dagrun_timeout fails; its
 * running tries are killed (their results ignored) and every unfinished TI becomes skipped. Returns the
 * earliest time another run's timeout falls due, or 0 when none. */
mlf_time_us mlf_sc_time_out_runs(mlf_scheduler *s, mlf_time_us now);
/* 1 when no unfinished run of @p dag_id (and @p run_id, when not NULL) is in memory. */
int mlf_sc_run_finished(mlf_scheduler *s, const char *dag_id, const char *run_id);

/* ---------------------------------------------------------------------------- sched_context.c */

/* Adds @p secret (when not empty) to the strings masked in the try's log. */
void mlf_sc_add_secret(render_ctx *rc, const char *secret);
/* xcom.TASK is the task's return_value (a list over map indexes for a mapped task); other keys pushed by
 * the task are reachable as xcom.TASK.KEY when return_value is absent or a map. Returns a new value. */
mlf_value *mlf_sc_xcom_view(const mlf_value *per_task);
/* The template environment's name lookup and macro call over a render_ctx (@p ud). */
int mlf_sc_render_lookup(void *ud, const char *name, const mlf_value **out);
int mlf_sc_render_call(void *ud, const char *name, const mlf_value *const *args, size_t nargs, mlf_value **out,
                       char *err, size_t errlen);
/* The operator parameters of one TI: the task's params with a mapped TI's element of each expand list
 * (combinations in row-major order), templated ones rendered. *out is the caller's. */
int mlf_sc_render_params(mlf_scheduler *s, sti *t, render_ctx *rc, mlf_value **out, char *err, size_t errlen);

/* ---------------------------------------------------------------------------- sched_dispatch.c */

/* The index of pool @p name, or -1. */
int mlf_sc_pool_index(mlf_scheduler *s, const char *name);
/* Lists @p t as running (looked up by attempt token) / takes it off that list (NULL when absent). */
void mlf_sc_add_running(mlf_scheduler *s, sti *t);
sti *mlf_sc_take_running(mlf_scheduler *s, const char *attempt);
/* Gives back the pool slots and the DAG's running count a finished try held. */
void mlf_sc_release_slots(mlf_scheduler *s, sti *t);
/* Hands ready TIs to the executor by priority while parallelism, the DAG's max_active_tasks and the pool
 * allow; TIs held back by a DAG or pool limit wait for the next turn. */
void mlf_sc_dispatch(mlf_scheduler *s, mlf_time_us now);
/* Appends @p line (NULL: nothing) to the log of @p t's current try, for a try that ends in the scheduler
 * without running (its parameters did not render; a cache hit). One short synchronous append. */
void mlf_sc_try_log_line(mlf_scheduler *s, const sti *t, const char *line);

/* ---------------------------------------------------------------------------- sched_result.c */

/* The wait before try @p try_number + 1: retry_delay, doubled per try with exponential backoff, capped by
 * max_retry_delay (24 h when unset). */
int64_t mlf_sc_retry_delay(const mlf_task *task, int try_number);
/* Records @p xcoms of @p t in the store and in the run's cache and template view. */
void mlf_sc_store_xcoms(mlf_scheduler *s, sti *t, const mlf_value *xcoms);
/* Applies one decoded result (@p ud is the scheduler). */
void mlf_sc_on_result(void *ud, const mlf_task_result *res);
/* The executor's report of one TASK RESULT map (mlf_exec_report()): decodes it and applies it. Returns
 * MLF_OK or MLF_EPARSE (logged). */
int mlf_sc_on_report(void *ud, const mlf_value *result);
/* Schedules again the retries and reschedules whose time has come. */
void mlf_sc_process_timers(mlf_scheduler *s, mlf_time_us now);

/* ---------------------------------------------------------------------------- sched_recover.c */

/* Rebuilds one run's in-memory state from its records. */
int mlf_sc_resume_run(mlf_scheduler *s, mlf_store_txn *txn, const run_key *k, mlf_time_us now);

/* sched_owner.c: one owner per run. This process's owner id; 1 when @p rec's owner is another process
 * that lives; records this process as @p r's owner (and beats); refreshes every run's beat now and then. */
const char *mlf_sc_owner_id(mlf_scheduler *s);
int mlf_sc_owned_elsewhere(mlf_scheduler *s, const mlf_run_rec *rec);
void mlf_sc_claim_run(mlf_scheduler *s, srun *r);
void mlf_sc_owner_beat(mlf_scheduler *s);
/* Runs created and DAGs paused by other processes (`mlflowd dags trigger`, `dags pause` while this
 * scheduler runs): new runs have task instances in state none, found through the state index; pause
 * flags are read from the DAG records. */
void mlf_sc_adopt_external_changes(mlf_scheduler *s, mlf_time_us now);

/* ---------------------------------------------------------------------------- sched_lease.c */

/* The executor's host functions: persist / drop the lease of a remote try in the turn's batch. */
int mlf_sc_host_persist_lease(void *ud, const char *attempt, const char *worker, mlf_time_us deadline);
void mlf_sc_host_drop_lease(void *ud, const char *attempt);
/* mlf_exec_note(): the note shown beside a running try (its message until the try ends). */
int mlf_sc_host_note(void *ud, const char *attempt, const char *note);
/* After a restart with a remote executor: a try whose lease is in the store may still be running on its
 * worker; the executor takes it back instead of it being failed as a zombie. Returns 1 when adopted. */
int mlf_sc_adopt_leased(mlf_scheduler *s, mlf_store_txn *txn, sti *t, mlf_time_us now);

/* ---------------------------------------------------------------------------- sched_cache.c */

/* For a task with `cache:` (doc/caching.md): computes the key of try @p t from its rendered @p params and the
 * XComs it reads (@p inputs), in render context @p rc, and looks it up (one keyed read in the turn's batch).
 * A live entry finishes @p t as success without a try: its XComs are copied, its note is "cached from RUN",
 * its log says so; returns 1. Otherwise remembers the key on @p t (recorded if the try succeeds) and
 * returns 0: the try runs. A --no-cache mark on the TI is consumed here. */
int mlf_sc_cache_lookup(mlf_scheduler *s, sti *t, render_ctx *rc, const mlf_value *params,
                        const mlf_value *inputs, mlf_time_us now);
/* A try of @p t that succeeded with @p xcoms (may be NULL): records it under the key taken at dispatch. */
void mlf_sc_cache_record(mlf_scheduler *s, sti *t, const mlf_value *xcoms, mlf_time_us now);
/* ---------------------------------------------------------------------------- sched_assets.c */

/* sched_run.c: creates a run of @p dag over @p iv with id @p run_id (see mlf_scheduler_create_run). */
int mlf_sc_create_run_at(mlf_scheduler *s, mlf_dag *dag, mlf_run_type type, const mlf_interval *iv,
                         const char *run_id, char *err, size_t errlen);
/* After a DAG sync: rebuilds the URI -> consumer index, gives new consumers their cursors (events before a
 * DAG existed do not trigger it) and looks at every asset-scheduled DAG once. */
void mlf_sc_assets_sync(mlf_scheduler *s);
/* Frees the index. */
void mlf_sc_assets_free(mlf_scheduler *s);
/* Asset @p uri was updated: its consumers are looked at this turn (work: its consumers). */
void mlf_sc_asset_updated(mlf_scheduler *s, const char *uri);
/* A run of @p sd ended or @p sd was unpaused: if it is asset-scheduled, look at it again (a limit may
 * have held its run back). */
void mlf_sc_asset_recheck(mlf_scheduler *s, sdag *sd);
/* Records an asset event for every outlet of succeeded TI @p t; @p xcoms (may be NULL) is what the try
 * pushed: its "asset_extra" becomes the events' extra. */
void mlf_sc_record_outlets(mlf_scheduler *s, const sti *t, const mlf_value *xcoms);
/* Creates the asset-triggered runs whose conditions are met; events from other processes (the inbox)
 * are taken first, every 500 ms. */
void mlf_sc_create_asset_runs(mlf_scheduler *s, mlf_time_us now);
/* `triggering_asset_events` of run @p r: URI -> [events] (a new map, empty for other runs). */
mlf_value *mlf_sc_triggering_events(mlf_scheduler *s, const srun *r);
/* ---------------------------------------------------------------------------- sched_workers.c */

/* The executor's host function mlf_exec_worker_update(): keeps the latest record of the worker. */
int mlf_sc_host_worker_update(void *ud, const mlf_value *worker);
/* Writes the waiting worker records into the turn's batch when the turn commits anyway, when a worker
 * registered or went, when one has waited MLF_SC_WORKER_FLUSH, or when @p force: heartbeats never cost a
 * commit of their own. Call just before the turn's commit. */
void mlf_sc_flush_workers(mlf_scheduler *s, mlf_time_us now, int force);
/* Frees the records (at mlf_scheduler_free(), after the last flush). */
void mlf_sc_free_workers(mlf_scheduler *s);
/* The longest a heartbeat-only worker record waits for a commit: the scheduler heartbeat's period. */
#define MLF_SC_WORKER_FLUSH (5 * 1000000LL)

/* ---------------------------------------------------------------------------- sched_events.c */

struct pollfd;
/* The daemon's event sources follow the DAG folder's watch declarations (opened, reopened, closed). */
void mlf_sc_events_sync(mlf_scheduler *s);
/* Closes every event source. */
void mlf_sc_events_free(mlf_scheduler *s);
/* Fills at most @p max pollfds with the open sources' fds; returns how many. */
size_t mlf_sc_events_pollfds(mlf_scheduler *s, struct pollfd *pfd, size_t max);
/* The earliest next_deadline() of the open sources (0: none). */
mlf_time_us mlf_sc_events_deadline(mlf_scheduler *s);
/* Calls process() of the sources whose fd is readable or whose deadline passed. */
void mlf_sc_events_process(mlf_scheduler *s, mlf_time_us now);

/* ------------------------------------------------------- sched_evsock.c: the event socket (doc/assets.md) */

/* Binds the event socket of `events.listen` (the daemon only; nothing when empty), CURVE as the worker
 * endpoint. Errors: MLF_EINVAL (CURVE off without zmq.insecure), key and bind errors, with @p err. */
int mlf_sc_evsock_open(mlf_scheduler *s, char *err, size_t errlen);
/* Closes the event socket. */
void mlf_sc_evsock_free(mlf_scheduler *s);
/* Its fds for the loop's poll (at most @p max); returns how many. */
size_t mlf_sc_evsock_pollfds(mlf_scheduler *s, struct pollfd *pfd, size_t max);
/* 1 when a request or handshake waits (ZMQ_FD is edge-triggered: the loop must not sleep then). */
int mlf_sc_evsock_pending(mlf_scheduler *s);
/* Answers the waiting requests (at most 256 a turn); writes go to the turn's batch. */
void mlf_sc_evsock_process(mlf_scheduler *s);

#endif
