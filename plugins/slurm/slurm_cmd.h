/* slurm_cmd.h -- Slurm's commands (sbatch, squeue, scancel) run as child processes without blocking the
 * scheduler: each is started with posix_spawn, its stdout and stderr go to one non-blocking pipe, and its
 * exit is watched with a pidfd. Every pipe and pidfd sits in one epoll set, whose descriptor is what the
 * executor hands the scheduler to poll: a command that wrote or ended makes it readable.
 *
 * Children are reaped by PID (waitpid(pid)), never with waitpid(-1): the daemon's other children belong to
 * others (doc/architecture.md, task processes). Without pidfds (kernels before 5.3) an unreaped child is
 * polled again after 20 ms (mlf_slurm_cmds_deadline()). */
#ifndef MLF_PLUGIN_SLURM_CMD_H
#define MLF_PLUGIN_SLURM_CMD_H

#include <stddef.h>
#include <stdint.h>

/** Most commands running at once. */
#define MLF_SLURM_CMDS_MAX 32
/** Output kept per command; the rest is read and dropped (and `truncated` set). */
#define MLF_SLURM_CMD_OUT_MAX (8u * 1024u * 1024u)

/** One finished command, as handed to the callback of mlf_slurm_cmds_process(). */
typedef struct mlf_slurm_done {
    int kind;           /**< what the caller passed to mlf_slurm_cmd_start() */
    void *ud;           /**< likewise */
    int exit_status;    /**< its exit code, or -1 when killed by a signal or not started */
    const char *out;    /**< stdout and stderr, NUL-terminated (borrowed for the callback) */
    size_t len;
    int truncated;      /**< the output was longer than MLF_SLURM_CMD_OUT_MAX */
} mlf_slurm_done;

typedef struct mlf_slurm_cmds mlf_slurm_cmds;

/** A new, empty set stored in @p *out. Returns 0 or an errno value. */
int mlf_slurm_cmds_new(mlf_slurm_cmds **out);

/** Kills (SIGKILL) and reaps every command still running, and frees @p c. NULL is allowed. */
void mlf_slurm_cmds_free(mlf_slurm_cmds *c);

/** The epoll descriptor to poll for POLLIN (owned by the set, the same for its life). */
int mlf_slurm_cmds_fd(const mlf_slurm_cmds *c);

/** Commands running now. */
size_t mlf_slurm_cmds_running(const mlf_slurm_cmds *c);

/**
 * Starts @p argv (argv[0] found on PATH unless it holds a '/'; NULL-terminated; copied by posix_spawn)
 * with stdin from /dev/null and the daemon's environment; @p kind and @p ud come back with its result.
 * Returns 0, EAGAIN when MLF_SLURM_CMDS_MAX commands run already, or the errno of the failed start (no
 * result is delivered then).
 */
int mlf_slurm_cmd_start(mlf_slurm_cmds *c, char *const argv[], int kind, void *ud);

/** The time (µs on the monotonic clock, mlf_clock_monotonic()) by which mlf_slurm_cmds_process() must run
 * although the descriptor stays quiet, or 0 for none. */
int64_t mlf_slurm_cmds_deadline(const mlf_slurm_cmds *c, int64_t mono_now);

/** Reads what the commands wrote and delivers each that ended (its output complete, its exit reaped) to
 * @p cb, which may start new commands. Never blocks. Returns the number delivered. */
int mlf_slurm_cmds_process(mlf_slurm_cmds *c, int64_t mono_now, void (*cb)(void *cbud, const mlf_slurm_done *d),
                           void *cbud);

#endif
