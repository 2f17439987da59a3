/* sched_owner.h -- one owner per DAG run (doc/architecture.md §2): the process that runs a run's task
 * instances (the daemon, `dags backfill`, `dags test`, `tasks run`) is recorded in the run's store record as
 * "KIND PID STARTTIME BOOT_ID" with a heartbeat on CLOCK_BOOTTIME; nobody else resumes, evaluates or fails
 * its TIs while that process lives, and a dead owner's runs are taken over (its tries fail as zombies and
 * are retried). The daemon also holds a shared lock on HOME/scheduler.lock, so that `dags backfill` can
 * refuse to run beside it. */
#ifndef MLF_CORE_SCHED_OWNER_H
#define MLF_CORE_SCHED_OWNER_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** How often an owner refreshes its runs' heartbeat, and after how long without one a live-looking owner
 * counts as gone (a hung process, or a PID reused across a lost /proc). */
#define MLF_OWNER_BEAT (5 * 1000000LL)
#define MLF_OWNER_STALE (60 * 1000000LL)

/** This process as an owner of kind @p kind ("scheduler", "cli"): "KIND PID STARTTIME BOOT_ID" into @p buf. */
void mlf_owner_self(const char *kind, char *buf, size_t n);

/** The owner clock: CLOCK_BOOTTIME in µs (comparable between the processes of one boot). */
mlf_time_us mlf_owner_clock(void);

/** 1 when @p owner (as mlf_owner_self() writes it) names a process that still runs on this boot and beat
 * within MLF_OWNER_STALE (@p heartbeat on mlf_owner_clock()), else 0 (also for NULL, "" and garbage). */
int mlf_owner_alive(const char *owner, mlf_time_us heartbeat);

/** Takes the daemon's shared lock on HOME/scheduler.lock; the descriptor (kept open for the process's
 * life) goes to @p *fd. Errors: an errno value from open(). */
int mlf_daemon_lock(const char *home, int *fd);

/** 1 when a daemon holds HOME/scheduler.lock now, else 0. */
int mlf_daemon_running(const char *home);

#endif
