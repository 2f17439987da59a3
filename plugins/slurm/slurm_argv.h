/* slurm_argv.h -- the sbatch command line of one try: the executor's defaults, the task's queue and the
 * spec's executor_config.slurm (doc/executors/slurm.md, section 3), every value checked before it goes on
 * the line (plain Slurm words, Slurm times, extra flags from the allow-list of slurm_text.h). */
#ifndef MLF_PLUGIN_SLURM_ARGV_H
#define MLF_PLUGIN_SLURM_ARGV_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** What the executor contributes to every job's command line (all borrowed, none NULL; "" for unset). */
typedef struct mlf_slurm_sbatch_defaults {
    const char *sbatch;                    /**< the sbatch command (a path, or a name found on PATH) */
    const char *job_name;                  /**< jobs are named JOB_NAME-ATTEMPT */
    const char *spool;                     /**< the spool folder: job output and working directory */
    const char *script;                    /**< the job script, run as SCRIPT SPOOL ATTEMPT EXE */
    const char *exe;                       /**< mlflowd on the compute nodes */
    const char *partition, *account, *qos; /**< defaults for tasks that set none */
} mlf_slurm_sbatch_defaults;

/**
 * Builds the sbatch command line of try @p attempt of TASK SPEC @p spec, on queue @p queue (its partition
 * unless "default" or the task's executor_config.slurm.partition says otherwise), as a new NULL-terminated
 * array stored in @p *out (free with mlf_slurm_argv_free()). Errors, with the reason in @p err: MLF_EPARSE
 * (executor_config.slurm is not a map), MLF_EINVAL (a value that is not a plain Slurm word or time, cpus out
 * of range, an extra flag off the allow-list), MLF_ENOMEM.
 */
int mlf_slurm_sbatch_argv(const mlf_slurm_sbatch_defaults *d, const mlf_value *spec, const char *queue,
                          const char *attempt, char ***out, char *err, size_t errlen);

/** Frees an array built by mlf_slurm_sbatch_argv(). NULL is allowed. */
void mlf_slurm_argv_free(char **argv);

#endif
