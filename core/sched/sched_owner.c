/* sched_owner.c -- one owner per DAG run (see sched_owner.h). */
#include "sched/sched_owner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strutil.h"
#include "sched/sched_internal.h"

/* The kernel's id of this boot (a fresh one after every reboot). */
static const char *boot_id(void)
{
    static char id[64];
    if (!id[0]) {
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
        if (!f || !fgets(id, sizeof id, f))
            snprintf(id, sizeof id, "unknown");
        if (f)
            fclose(f);
        id[strcspn(id, "\n ")] = '\0';
    }
    return id;
}

/* Field 22 of /proc/PID/stat: when the process started (clock ticks since boot); 0 when unknown. A PID
 * reused by another process has another start time. */
static unsigned long long start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long t = 0;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &t) != 1)
        t = 0;
    return t;
}

mlf_time_us mlf_owner_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void mlf_owner_self(const char *kind, char *buf, size_t n)
{
    snprintf(buf, n, "%s %ld %llu %s", kind, (long)getpid(), start_time(getpid()), boot_id());
}

int mlf_owner_alive(const char *owner, mlf_time_us heartbeat)
{
    char kind[32], boot[64];
    long pid = 0;
    unsigned long long started = 0;
    if (!owner || sscanf(owner, "%31s %ld %llu %63s", kind, &pid, &started, boot) != 4 || pid <= 0)
        return 0;
    if (strcmp(boot, boot_id()) != 0)
        return 0; /* written before a reboot */
    if (pid == (long)getpid())
        return 1;
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    if (start_time(pid) != started)
        return 0; /* the PID belongs to another process now */
    return mlf_owner_clock() - heartbeat < MLF_OWNER_STALE;
}

static char *lock_path(const char *home)
{
    return mlf_strdup_printf("%s/scheduler.lock", home);
}

int mlf_daemon_lock(const char *home, int *fd)
{
    char *p = lock_path(home);
    if (!p)
        return MLF_ENOMEM;
    *fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(p);
    if (*fd < 0)
        return errno;
    flock(*fd, LOCK_SH | LOCK_NB); /* shared: two daemons may share a home (each owns its own runs) */
    return MLF_OK;
}

int mlf_daemon_running(const char *home)
{
    char *p = lock_path(home);
    int fd = p ? open(p, O_RDWR | O_CLOEXEC) : -1;
    free(p);
    if (fd < 0)
        return 0;
    int busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* releases the probe's lock, if it got one */
    return busy;
}

/* ------------------------------------------------------------------------------------------ the scheduler */

const char *mlf_sc_owner_id(mlf_scheduler *s)
{
    if (!s->owner_id[0])
        mlf_owner_self(s->o.create_scheduled_runs ? "scheduler" : "cli", s->owner_id, sizeof s->owner_id);
    return s->owner_id;
}

int mlf_sc_owned_elsewhere(mlf_scheduler *s, const mlf_run_rec *rec)
{
    if (!rec->owner || !rec->owner[0] || strcmp(rec->owner, mlf_sc_owner_id(s)) == 0)
        return 0;
    return mlf_owner_alive(rec->owner, rec->owner_heartbeat);
}

void mlf_sc_claim_run(mlf_scheduler *s, srun *r)
{
    const char *me = mlf_sc_owner_id(s);
    if (r->rec.owner && r->rec.owner[0] && strcmp(r->rec.owner, me) != 0)
        mlf_log(MLF_LOG_INFO, "scheduler", "taking DAG run %s/%s over from its owner (%s), which is gone",
                r->rec.dag_id, r->rec.run_id, r->rec.owner);
    if (!r->rec.owner || strcmp(r->rec.owner, me) != 0) {
        char *c = strdup(me);
        if (!c)
            return;
        free(r->rec.owner);
        r->rec.owner = c;
    }
    r->rec.owner_heartbeat = mlf_owner_clock();
    mlf_sc_save_run(s, r);
}

void mlf_sc_owner_beat(mlf_scheduler *s)
{
    mlf_time_us now = mlf_owner_clock();
    if (now < s->next_owner_beat)
        return;
    s->next_owner_beat = now + MLF_OWNER_BEAT;
    mlf_store_txn *w = mlf_sc_wtxn(s);
    for (srun *r = s->runs; r; r = r->next) {
        if (r->finished)
            continue;
        if (w && r->rec.state == MLF_RUN_RUNNING) {
            /* `tasks clear` (another process) set the run back to queued since our last turn: writing our
             * record now would erase that, and the clear would be lost; the next look for external changes
             * reloads the run (and claims it again) */
            mlf_run_rec rec;
            mlf_run_rec_init(&rec);
            int cleared = mlf_store_run_get(w, r->rec.dag_id, r->rec.run_id, &rec) == MLF_OK &&
                          rec.state == MLF_RUN_QUEUED;
            mlf_run_rec_clear(&rec);
            if (cleared) {
                s->next_adopt = 0;
                continue;
            }
        }
        mlf_sc_claim_run(s, r);
    }
}
