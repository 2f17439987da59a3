/* slurm_text.h -- the slurm executor's dealings with Slurm's command-line text: the sbatch command line of a
 * try, the lines of `squeue`, `sbatch --parsable`'s answer, and what a job state means for the try. Pure
 * functions on C strings (no daemon, no I/O), so the unit test checks them against real Slurm output. */
#ifndef MLF_PLUGIN_SLURM_TEXT_H
#define MLF_PLUGIN_SLURM_TEXT_H

#include <stddef.h>

/** The squeue format the executor asks for: job id, name, state, reason, node list. */
#define MLF_SLURM_SQUEUE_FORMAT "%i|%j|%T|%r|%N"

/** Longest job id kept ("123" or an array element "123_4"). */
#define MLF_SLURM_JOBID_MAX 32

/** One line of `squeue -o MLF_SLURM_SQUEUE_FORMAT`. Pointers borrow from the line parsed. */
typedef struct mlf_slurm_row {
    char jobid[MLF_SLURM_JOBID_MAX];
    const char *name, *state, *reason, *nodes;
    size_t name_len, state_len, reason_len, nodes_len;
} mlf_slurm_row;

/** What a Slurm job state means for the try in it. */
typedef enum mlf_slurm_phase {
    MLF_SLURM_PENDING = 0,  /**< PENDING, REQUEUED, CONFIGURING...: waiting for a node */
    MLF_SLURM_RUNNING = 1,  /**< RUNNING, COMPLETING, SUSPENDED, STOPPED... */
    MLF_SLURM_FINISHED = 2, /**< COMPLETED or FAILED: the job's script ran to its end; look for its result */
    MLF_SLURM_ENDED = 3     /**< CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE,
                                 REVOKED...: Slurm stopped it; the try did not end on its own */
} mlf_slurm_phase;

/**
 * Parses one squeue line (without its newline) of @p len bytes into @p row. Returns 0, or -1 when the line
 * does not have the five fields or its job id is not digits (optionally "_digits"). Nothing allocated.
 */
int mlf_slurm_parse_row(const char *line, size_t len, mlf_slurm_row *row);

/** The phase of job state @p state (@p len bytes, e.g. "RUNNING"); an unknown state counts as running
 * (Slurm adds states; a job ends only in a state it names). */
mlf_slurm_phase mlf_slurm_phase_of(const char *state, size_t len);

/**
 * Reads the job id from `sbatch --parsable`'s output @p out (@p len bytes: "123" or "123;cluster", one
 * line, maybe after warnings on other lines) into @p jobid (MLF_SLURM_JOBID_MAX bytes). Returns 0, or -1
 * when no line starts with a job id.
 */
int mlf_slurm_parse_sbatch(const char *out, size_t len, char *jobid);

/**
 * Whether @p flag ("--exclusive", "--nice=10") is one of the extra sbatch flags a DAG may pass
 * (executor_config.slurm.extra_flags): flags that shape where and how the job runs, never ones that change
 * what it runs, who it runs as, where its output goes or how Slurm notifies anyone. Returns 1 or 0.
 * @p allowed, when not NULL, receives the allow-list as one static string for error messages.
 */
int mlf_slurm_flag_allowed(const char *flag, const char **allowed);

/**
 * Validates a Slurm time limit @p s as sbatch takes it ("30", "1:00:00", "2-12", "2-12:30:00"): digits,
 * ':' and one '-'. Returns 0 or -1.
 */
int mlf_slurm_valid_time(const char *s);

/** Validates a Slurm name-like value @p s (partition, account, qos, gres, constraint, memory): printable,
 * no space, no quote, at most 256 bytes, not starting with '-'. Returns 0 or -1. */
int mlf_slurm_valid_word(const char *s);

#endif
