/* executors.h -- the daemon's side of executor plugins (mlflowd/executor.h): choosing the executor the
 * configuration names, checking its executors.NAME.* settings against the parameter table it declares,
 * opening it, and the host functions it calls back (results, leases).
 *
 * The scheduler knows executors only through this header: it never asks which executor it runs. */
#ifndef MLF_CORE_EXECUTORS_H
#define MLF_CORE_EXECUTORS_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "conf/config.h"
#include "plugin/registry.h"

/** What the daemon does with an executor's call-backs. Every member but report may be NULL. */
typedef struct mlf_executor_callbacks {
    /** One TASK RESULT map (borrowed). Returns MLF_OK, or MLF_EPARSE when it does not decode. */
    int (*report)(void *ud, const mlf_value *result);
    /** As mlf_exec_lease_persist(); NULL: MLF_ENOTSUP. */
    int (*persist_lease)(void *ud, const char *attempt, const char *worker, mlf_time_us deadline);
    /** As mlf_exec_lease_drop(). */
    void (*drop_lease)(void *ud, const char *attempt);
    /** As mlf_exec_worker_update() (a WORKER map, borrowed, already checked for name and state); NULL:
     * MLF_ENOTSUP. */
    int (*worker_update)(void *ud, const mlf_value *worker);
    /** As mlf_exec_note(); NULL: MLF_ENOTSUP. */
    int (*note)(void *ud, const char *attempt, const char *note);
    void *ud;
} mlf_executor_callbacks;

/** An open executor. */
typedef struct mlf_executor mlf_executor;

/**
 * Checks every executors.NAME.* setting of @p cfg against the executors of @p cat: NAME must be a
 * registered executor and KEY one of its declared parameters (else "did you mean"), and the value must
 * have the declared type. Appends one line per problem to @p errors, each starting with where the setting
 * was made ("FILE:L:C: executors.local.paralelism: unknown setting (did you mean 'parallelism'?)").
 * Returns the number of problems.
 */
size_t mlf_executors_check_config(const mlf_catalog *cat, const mlf_config *cfg, mlf_buf *errors);

/**
 * Opens executor @p name of @p cat (NULL: the `executor` setting) with its settings from @p cfg (checked
 * as mlf_executors_check_config() does; defaults filled in), @p parallelism (the daemon's) and the
 * daemon's @p callbacks (copied). @p exe is the mlflowd binary that runs tries (copied; NULL: this one).
 * When no loaded plugin registers @p name and plugins.load lists plugins by name, the plugin providing it
 * is loaded first: the plugin named @p name (`local` for `sequential`), found in plugins.path, so that
 * `plugins.load: [shell]` still runs tries with the default executor.
 * Stores the executor in @p *out (close with mlf_executor_close()).
 * Errors, with one line per problem in @p err: MLF_ENOTFOUND (no executor of that name is loaded, with
 * "did you mean" and the plugin folders searched), MLF_EINVAL (a bad executors.* setting), or the
 * executor's own open() error with its message.
 */
int mlf_executor_open(mlf_catalog *cat, const mlf_config *cfg, const char *name, int parallelism,
                      const char *exe, const mlf_executor_callbacks *callbacks, mlf_executor **out, char *err,
                      size_t errlen);

/** Opens descriptor @p desc directly, under @p name (NULL: its own), with @p config (a settings map already
 * checked; NULL: empty) and the rest as mlf_executor_open() (@p cfg may be NULL: then mlf_exec_setting()
 * finds nothing). For executors that are not in a catalog, such as the scheduler tests' fake. */
int mlf_executor_open_desc(const mlf_executor_desc *desc, const char *name, const mlf_value *config,
                           const mlf_config *cfg, int parallelism, const mlf_executor_callbacks *callbacks,
                           mlf_executor **out, char *err, size_t errlen);

/** Closes @p ex (killing what still runs). NULL is allowed. */
void mlf_executor_close(mlf_executor *ex);

/** The executor's registered name. Borrowed. */
const char *mlf_executor_name(const mlf_executor *ex);

/** @name The executor's operations (mlflowd/executor.h documents each); optional ones have defaults:
 * after_commit does nothing, adopt returns MLF_ENOTSUP, describe returns NULL. @{ */
mlf_exec_accept mlf_executor_can_accept(mlf_executor *ex, const char *queue, const char *operator_name,
                                        char *why, size_t whylen);
int mlf_executor_submit(mlf_executor *ex, const mlf_value *spec, const char *queue, mlf_time_us now, char *err,
                        size_t errlen);
int mlf_executor_kill(mlf_executor *ex, const char *attempt, mlf_time_us now);
int mlf_executor_fd(mlf_executor *ex);
mlf_time_us mlf_executor_next_deadline(mlf_executor *ex);
int mlf_executor_process(mlf_executor *ex, mlf_time_us now);
void mlf_executor_after_commit(mlf_executor *ex, mlf_time_us now);
int mlf_executor_shutdown(mlf_executor *ex, int64_t grace, mlf_time_us now);
size_t mlf_executor_in_flight(mlf_executor *ex);
int mlf_executor_adopt(mlf_executor *ex, const char *attempt, const char *worker, const char *log_path,
                       mlf_time_us now);
/** 1 when the executor can take tries back after a restart (it has adopt). */
int mlf_executor_can_adopt(const mlf_executor *ex);
/** The descriptor's MLF_EXEC_* flags. */
unsigned mlf_executor_flags(const mlf_executor *ex);
/** New map (free with mlf_value_free()) or NULL. */
mlf_value *mlf_executor_describe(mlf_executor *ex);
/** @} */

#endif
