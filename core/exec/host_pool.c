/* host_pool.c -- long-lived task hosts and fresh task processes driven from one loop (see host_pool.h for
 * the threading model, the isolation rules and the results). */
#include "exec/host_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/strutil.h"
#include "time/duration.h"

extern char **environ;

/* Wake-up period when children cannot be watched with pidfds. */
#define POLL_PERIOD_US 50000

struct proc;

/* One submitted try, from the queue to its report. */
typedef struct job {
    struct job *next;      /* queue or done list */
    char *attempt;         /* the spec's attempt token */
    int64_t exec_timeout;  /* the spec's execution_timeout (µs, 0: none) */
    unsigned char *frame;  /* the spec as one frame: all the job keeps of it (no copy, no decoded view) */
    size_t frame_len;
    char *drop_reason;     /* reported without (further) running: killed while queued, no process... */
    struct proc *proc;     /* where it runs; NULL when queued or done */
    mlf_time_us started;   /* wall clock: the try's start_date (0: not started) */
    int64_t deadline;      /* monotonic: execution_timeout (0: none) */
    char *kill_reason;     /* set once we decided to kill it */
    /* how it ended, filled when it leaves its process */
    mlf_value *result;     /* the result the process reported (NULL: none) */
    char *fail;            /* why it failed, when the pool reports for it */
    int64_t pid;
    int exit_status, exit_signal;
} job;

/* A child process: a task host (many tries, one at a time) or a fresh task-exec (one try). */
typedef struct proc {
    struct proc *next;
    pid_t pid; /* also its process group id */
    int pidfd, in_fd, out_fd;
    int is_host;
    int in_armed;    /* in_fd is in the epoll set for EPOLLOUT */
    int tries;       /* tries handed to it */
    job *job;        /* the try it runs, or NULL when idle */
    size_t frame_off;
    mlf_buf out;     /* bytes read from its fd 3, not yet consumed */
    size_t discarded;
    int retiring;    /* no more tries: its input is closed once it is idle */
    int64_t kill_at; /* monotonic: SIGKILL of its group at this time (0: none planned) */
    int kill_sent;
    int reaped, status;
    int64_t started; /* monotonic */
} proc;

struct mlf_host_pool {
    mlf_host_pool_opts o;
    int epfd;
    int use_pidfd;
    char hostname[256];
    proc *procs;
    size_t nrunning; /* jobs attached to a process */
    job *queue, *queue_tail;
    size_t nqueued;
    job *done, *done_tail;
    int shutting_down;
    int64_t shutdown_at;  /* monotonic */
    int64_t last_process; /* monotonic */
    mlf_time_us wall_now; /* the wall-clock time of the current call: start and end dates only */
    mlf_host_pool_stats stats;
    long page_size;
};

/* ------------------------------------------------------------------------------------------ helpers */

static void job_free(job *j)
{
    if (!j)
        return;
    free(j->attempt);
    mlf_value_free(j->result);
    free(j->frame);
    free(j->drop_reason);
    free(j->kill_reason);
    free(j->fail);
    free(j);
}

static void free_list(job *j)
{
    while (j) {
        job *next = j->next;
        job_free(j);
        j = next;
    }
}

static void close_fd(mlf_host_pool *p, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
}

static void push_done(mlf_host_pool *p, job *j)
{
    j->next = NULL;
    if (p->done_tail)
        p->done_tail->next = j;
    else
        p->done = j;
    p->done_tail = j;
}

static char *vformat(const char *fmt, va_list ap)
{
    mlf_buf b = {0};
    mlf_buf_vprintf(&b, fmt, ap);
    return mlf_buf_steal(&b); /* NULL only when memory ran out; the report then says "unknown" */
}

static void set_reason(char **slot, const char *fmt, ...) MLF_PRINTF(2, 3);
static void set_reason(char **slot, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    free(*slot);
    *slot = s;
}

/* Moves @p fd to a number above 3, so that dup2() onto 0 or 3 in the child never meets itself. */
static int move_high(int fd)
{
    if (fd > 3)
        return fd;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, 4);
    int e = errno;
    close(fd);
    errno = e;
    return hi;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int epoll_add(mlf_host_pool *p, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void arm_input(mlf_host_pool *p, proc *c, int on)
{
    if (c->in_fd < 0 || c->in_armed == on)
        return;
    struct epoll_event ev = {.events = on ? EPOLLOUT : 0, .data.fd = c->in_fd};
    epoll_ctl(p->epfd, EPOLL_CTL_MOD, c->in_fd, &ev);
    c->in_armed = on;
}

/* 1 when the process's output holds a complete frame (a host's answer, a task process's result). */
static int frame_complete(const proc *c)
{
    return c->out.len >= MLF_TASK_FRAME_HEADER &&
           c->out.len - MLF_TASK_FRAME_HEADER >= mlf_task_frame_length(c->out.data);
}

static const char *kind(const proc *c)
{
    return c->is_host ? "task host" : "task process";
}

/* Describes how a process ended, e.g. "was killed by signal 11 (Segmentation fault)". */
static void describe_exit(int status, char *buf, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
}

/* ------------------------------------------------------------------------------------------ lifecycle */

/* The pool's monotonic clock: every duration (execution_timeout, kill grace, shutdown grace) is measured on
 * it, so that a wall-clock step neither kills a try early nor keeps one past its timeout (doc/security.md). */
static int64_t pool_clock(const mlf_host_pool *p)
{
    return p->o.clock ? p->o.clock() : mlf_clock_monotonic();
}

/* A public call begins at wall-clock time @p wall (kept for start and end dates): returns the monotonic now. */
static int64_t enter(mlf_host_pool *p, mlf_time_us wall)
{
    p->wall_now = wall;
    return pool_clock(p);
}

int mlf_host_pool_new(const mlf_host_pool_opts *opts, mlf_host_pool **out)
{
    if (!opts || !out || !opts->exe || opts->exe[0] != '/' || opts->size < 1 || opts->kill_grace < 0 ||
        opts->max_tries_per_host < 0)
        return MLF_EINVAL;
    *out = NULL;
    mlf_host_pool *p = calloc(1, sizeof *p);
    if (!p)
        return MLF_ENOMEM;
    p->epfd = -1;
    p->o = *opts;
    p->o.exe = strdup(opts->exe);
    if (!p->o.exe) {
        free(p);
        return MLF_ENOMEM;
    }
    if (!p->o.kill_grace)
        p->o.kill_grace = MLF_HOST_POOL_KILL_GRACE;
    if (!p->o.max_tries_per_host)
        p->o.max_tries_per_host = MLF_HOST_POOL_MAX_TRIES;
    if (!p->o.max_rss_bytes)
        p->o.max_rss_bytes = MLF_HOST_POOL_MAX_RSS;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
        int e = errno;
        mlf_host_pool_free(p);
        return e;
    }
#ifdef SYS_pidfd_open
    p->use_pidfd = 1;
#endif
    p->page_size = sysconf(_SC_PAGESIZE);
    gethostname(p->hostname, sizeof p->hostname - 1);
    *out = p;
    return MLF_OK;
}

static void proc_free(mlf_host_pool *p, proc *c)
{
    close_fd(p, &c->pidfd);
    close_fd(p, &c->in_fd);
    close_fd(p, &c->out_fd);
    mlf_buf_free(&c->out);
    free(c);
}

void mlf_host_pool_free(mlf_host_pool *p)
{
    if (!p)
        return;
    /* An idle host ends at the end of its input: close it and give the hosts up to 2 s to exit by themselves,
     * so that their exit handlers run (in a sanitizer build, LeakSanitizer's report reaches the log) before
     * the SIGKILL below ends whatever is left, busy hosts and task processes at once. */
    int idle = 0;
    for (proc *c = p->procs; c; c = c->next)
        if (c->is_host && !c->job && !c->reaped) {
            close_fd(p, &c->in_fd);
            idle++;
        }
    for (int waited = 0; idle && waited < 2000; waited += 10) {
        idle = 0;
        for (proc *c = p->procs; c; c = c->next)
            if (c->is_host && !c->job && !c->reaped) {
                if (waitpid(c->pid, &c->status, WNOHANG) == c->pid)
                    c->reaped = 1;
                else
                    idle++;
            }
        if (idle)
            usleep(10000);
    }
    for (proc *c = p->procs; c; c = c->next)
        if (!c->reaped)
            kill(-c->pid, SIGKILL);
    while (p->procs) {
        proc *c = p->procs;
        p->procs = c->next;
        if (!c->reaped)
            while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
            }
        job_free(c->job);
        proc_free(p, c);
    }
    free_list(p->queue);
    free_list(p->done);
    if (p->epfd >= 0)
        close(p->epfd);
    free((char *)p->o.exe);
    free(p);
}

int mlf_host_pool_fd(const mlf_host_pool *p)
{
    return p ? p->epfd : -1;
}

size_t mlf_host_pool_running(const mlf_host_pool *p)
{
    return p ? p->nrunning : 0;
}

size_t mlf_host_pool_queued(const mlf_host_pool *p)
{
    return p ? p->nqueued : 0;
}

void mlf_host_pool_get_stats(const mlf_host_pool *p, mlf_host_pool_stats *out)
{
    if (!p || !out)
        return;
    *out = p->stats;
    out->hosts_alive = 0;
    for (const proc *c = p->procs; c; c = c->next)
        if (c->is_host && !c->reaped)
            out->hosts_alive++;
}

/* ------------------------------------------------------------------------------------------ processes */

/* Starts `exe task-host` (@p host) or `exe task-exec` in its own process group, with a socket on its stdin
 * and a pipe on its fd 3. Returns 0 and the new process in @p *out, or an errno value. */
static int spawn_proc(mlf_host_pool *p, int host, mlf_time_us now, proc **out)
{
    proc *c = calloc(1, sizeof *c);
    if (!c)
        return ENOMEM;
    c->pidfd = c->in_fd = c->out_fd = -1;
    c->is_host = host;
    int sv[2] = {-1, -1}, pp[2] = {-1, -1};
    int err = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || pipe2(pp, O_CLOEXEC) != 0) {
        err = errno;
        goto fail;
    }
    if ((sv[1] = move_high(sv[1])) < 0 || (pp[1] = move_high(pp[1])) < 0 || set_nonblock(sv[0]) != 0 ||
        set_nonblock(pp[0]) != 0) {
        err = errno;
        goto fail;
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pp[1], 3);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* nothing else of the caller's (an LMDB or socket descriptor a library forgot to mark close-on-exec) */
    posix_spawn_file_actions_addclosefrom_np(&fa, 4);
#endif
    /* its own process group (so that a kill reaches everything it started), default signal dispositions
     * and an empty mask whatever the caller had set up */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    char ppid[24];
    snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
    char *argv[] = {(char *)p->o.exe, host ? "task-host" : "task-exec", "--parent", ppid, NULL}; /* dies with us */
    err = posix_spawn(&c->pid, p->o.exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    close(pp[1]);
    sv[1] = pp[1] = -1;
    if (err != 0)
        goto fail;

    c->in_fd = sv[0];
    c->out_fd = pp[0];
    c->started = now;
#ifdef SYS_pidfd_open
    if (p->use_pidfd) {
        c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
        if (c->pidfd < 0 && errno == ENOSYS)
            p->use_pidfd = 0; /* an old kernel: poll from now on */
        if (c->pidfd >= 0)
            fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
    }
#endif
    /* registration failures only cost latency: process() looks at every child anyway */
    if (c->pidfd >= 0)
        epoll_add(p, c->pidfd, EPOLLIN);
    epoll_add(p, c->out_fd, EPOLLIN);
    epoll_add(p, c->in_fd, 0);
    proc **tail = &p->procs; /* appended: process() may be walking the list when a try moves on */
    while (*tail)
        tail = &(*tail)->next;
    *tail = c;
    if (host)
        p->stats.hosts_started++;
    else
        p->stats.fresh_processes++;
    *out = c;
    return 0;

fail:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (pp[i] >= 0)
            close(pp[i]);
    }
    free(c);
    return err ? err : EIO;
}

/* Writes as much of the current spec frame as the process's input takes now. */
static void pump_spec(mlf_host_pool *p, proc *c)
{
    job *j = c->job;
    while (j && c->in_fd >= 0 && c->frame_off < j->frame_len) {
        /* MSG_NOSIGNAL: a child that died before reading must not kill us with SIGPIPE */
        ssize_t w = send(c->in_fd, j->frame + c->frame_off, j->frame_len - c->frame_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            arm_input(p, c, 1);
            return;
        }
        if (w <= 0) { /* the child is gone or closed its input: its exit tells the rest */
            close_fd(p, &c->in_fd);
            return;
        }
        c->frame_off += (size_t)w;
    }
    arm_input(p, c, 0);
    if (!c->is_host || c->retiring)
        close_fd(p, &c->in_fd); /* a task process needs nothing more; a retired host ends at end of input */
}

/* Reads whatever answer bytes the process has written so far. */
static void pump_out(mlf_host_pool *p, proc *c)
{
    char buf[65536];
    while (c->out_fd >= 0) {
        ssize_t r = read(c->out_fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            close_fd(p, &c->out_fd);
            return;
        }
        size_t keep = (size_t)r;
        size_t room = MLF_TASK_FRAME_HEADER + MLF_TASK_FRAME_MAX - c->out.len;
        if (c->discarded || keep > room) /* keep draining, so the child never blocks on a full pipe */
            keep = c->discarded ? 0 : room;
        c->discarded += (size_t)r - keep;
        if (keep && mlf_buf_append(&c->out, buf, keep) != MLF_OK)
            c->discarded += keep;
    }
}

/* Plans the end of @p c: no new tries, input closed when idle, SIGKILL of its group after the grace. */
static void retire(mlf_host_pool *p, proc *c, mlf_time_us now)
{
    if (!c->retiring) {
        c->retiring = 1;
        if (!c->kill_at)
            c->kill_at = now + p->o.kill_grace;
    }
    if (!c->job || c->frame_off >= c->job->frame_len)
        close_fd(p, &c->in_fd);
}

/* Resident memory of process @p pid in bytes, or -1. */
static int64_t rss_of(const mlf_host_pool *p, pid_t pid)
{
    char path[48], buf[128];
    snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    long long size = 0, resident = 0;
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
        return -1;
    return (int64_t)resident * p->page_size;
}

/* Hands @p j to @p c and starts writing its spec. */
static void assign(mlf_host_pool *p, proc *c, job *j, mlf_time_us now)
{
    c->job = j;
    c->frame_off = 0;
    c->tries++;
    j->proc = c;
    j->pid = c->pid;
    if (!j->started) { /* a try sent on from a host to a fresh process keeps its start and deadline */
        j->started = p->wall_now;
        j->deadline = j->exec_timeout > 0 ? now + j->exec_timeout : 0;
    }
    p->nrunning++;
    pump_spec(p, c);
}

/* Detaches the job of @p c (finished) and queues it for the report. */
static void finish(mlf_host_pool *p, proc *c)
{
    job *j = c->job;
    c->job = NULL;
    j->proc = NULL;
    p->nrunning--;
    push_done(p, j);
}

/* Runs @p j in a fresh task-exec process (no hosts, or an isolated operator). Returns 0 or an errno. */
static int start_fresh(mlf_host_pool *p, job *j, mlf_time_us now)
{
    proc *c = NULL;
    int err = spawn_proc(p, 0, now, &c);
    if (err != 0)
        return err;
    assign(p, c, j, now);
    return 0;
}

static proc *idle_host(mlf_host_pool *p, size_t *hosts)
{
    proc *found = NULL;
    *hosts = 0;
    for (proc *c = p->procs; c; c = c->next) {
        if (!c->is_host || c->retiring || c->reaped)
            continue;
        (*hosts)++;
        if (!c->job && !found)
            found = c;
    }
    return found;
}

/* Starts queued specs while slots are free. */
static void start_queued(mlf_host_pool *p, mlf_time_us now)
{
    while (p->queue && p->nrunning < (size_t)p->o.size) {
        job *j = p->queue;
        p->queue = j->next;
        if (!p->queue)
            p->queue_tail = NULL;
        p->nqueued--;
        j->next = NULL;
        int err = 0;
        if (p->o.max_tries_per_host == 1) {
            err = start_fresh(p, j, now);
        } else {
            size_t hosts;
            proc *c = idle_host(p, &hosts);
            if (!c)
                err = spawn_proc(p, 1, now, &c);
            if (!err)
                assign(p, c, j, now);
        }
        if (err != 0) {
            set_reason(&j->drop_reason, "cannot start the %s %s: %s",
                       p->o.max_tries_per_host == 1 ? "task process" : "task host", p->o.exe, strerror(err));
            j->started = now;
            push_done(p, j);
        }
    }
}

/* Keeps the prestarted hosts up (after a host was retired or lost). */
static void top_up(mlf_host_pool *p, mlf_time_us now)
{
    if (!p->o.prestart || p->shutting_down || p->o.max_tries_per_host == 1)
        return;
    size_t hosts;
    idle_host(p, &hosts);
    for (; hosts < (size_t)p->o.size; hosts++) {
        proc *c = NULL;
        if (spawn_proc(p, 1, now, &c) != 0)
            return; /* the try that needs one reports why */
    }
}

/* ------------------------------------------------------------------------------------------ answers */

/* Takes the complete frame at the front of @p c's output: returns its body in @p *v (NULL for an empty
 * frame), or an error message in @p why. The bytes are consumed. */
static int take_frame(proc *c, mlf_value **v, char *why, size_t whylen)
{
    uint32_t len = mlf_task_frame_length(c->out.data);
    *v = NULL;
    int rc = MLF_OK;
    if (len > 0) {
        rc = mlf_value_unpack(c->out.data + MLF_TASK_FRAME_HEADER, len, v);
        if (rc != MLF_OK)
            snprintf(why, whylen, "%s", mlf_strerror(rc));
    }
    size_t used = MLF_TASK_FRAME_HEADER + len;
    memmove(c->out.data, c->out.data + used, c->out.len - used);
    c->out.len -= used;
    return rc;
}

/* Checks a reported result for @p j: MLF_OK and ownership of @p v taken, or a failure message set. */
static void accept_result(job *j, mlf_value *v, const char *who, const char *how)
{
    char err[512] = "";
    mlf_task_result *res = NULL;
    int rc = mlf_task_result_decode(v, &res, err, sizeof err);
    if (rc != MLF_OK) {
        set_reason(&j->fail, "the %s %s; its result did not decode: %s", who, how, err);
        mlf_value_free(v);
    } else if (strcmp(res->attempt, j->attempt) != 0) {
        set_reason(&j->fail, "the %s %s; its result carries attempt token '%.100s', expected '%.100s'", who, how,
                   res->attempt, j->attempt);
        mlf_value_free(v);
    } else {
        j->result = v;
    }
    mlf_task_result_free(res);
}

/* A host answered its current try. */
static void host_answered(mlf_host_pool *p, proc *c, mlf_time_us now)
{
    job *j = c->job;
    mlf_value *v = NULL;
    char why[256] = "";
    int rc = take_frame(c, &v, why, sizeof why);
    if (j->kill_reason) { /* killed: reported when the host is gone, with the kill's reason */
        mlf_value_free(v);
        retire(p, c, now);
        return;
    }
    if (rc == MLF_OK && !v) { /* MLF_OP_ISOLATED: the try goes to a fresh process; the host stays */
        c->job = NULL;
        j->proc = NULL;
        p->nrunning--;
        int err = start_fresh(p, j, now);
        if (err != 0) {
            set_reason(&j->drop_reason, "cannot start the task process %s: %s", p->o.exe, strerror(err));
            push_done(p, j);
        }
        return;
    }
    if (rc != MLF_OK)
        set_reason(&j->fail, "the task host is running; its result did not decode: %s", why);
    else
        accept_result(j, v, "task host", "is running");
    j->exit_status = 0;
    j->exit_signal = 0;
    finish(p, c);
    int64_t rss;
    if (rc != MLF_OK || c->out.len > 0 || c->tries >= p->o.max_tries_per_host ||
        (p->o.max_rss_bytes > 0 && (rss = rss_of(p, c->pid)) > p->o.max_rss_bytes)) {
        if (rc == MLF_OK && c->out.len == 0)
            p->stats.hosts_recycled++;
        retire(p, c, now); /* a host that said more than it was asked is not trusted with another try */
    }
}

/* Reaps @p c if it has exited, after killing what is left of its process group. Returns 1 when reaped. */
static int try_reap(mlf_host_pool *p, proc *c)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* WNOWAIT: look without reaping, so the pid (= group id) stays reserved while we kill the group */
    if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
        return 0;
    kill(-c->pid, SIGKILL);
    while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR) {
    }
    c->reaped = 1;
    pump_out(p, c); /* what it wrote before exiting */
    close_fd(p, &c->pidfd);
    close_fd(p, &c->in_fd);
    close_fd(p, &c->out_fd);
    return 1;
}

/* The process of a running try is gone: settles the try. */
static void proc_ended(mlf_host_pool *p, proc *c, mlf_time_us now)
{
    job *j = c->job;
    if (c->is_host && frame_complete(c) && !j->kill_reason) {
        host_answered(p, c, now); /* answered just before it exited */
        j = c->job;
        if (!j)
            return;
    }
    j->exit_status = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
    j->exit_signal = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0;
    char how[160];
    describe_exit(c->status, how, sizeof how);
    if (c->is_host)
        p->stats.hosts_lost++;
    if (j->kill_reason) {
        /* the kill's reason, even when a result of its own arrived after the kill */
    } else if (c->discarded) {
        set_reason(&j->fail, "the %s %s; its result was bigger than the %u bytes allowed", kind(c), how,
                   MLF_TASK_FRAME_MAX);
    } else if (!frame_complete(c)) {
        if (c->is_host && WIFSIGNALED(c->status)) /* a crash or a kill from outside, during the try */
            set_reason(&j->fail, "the %s %s", kind(c), how);
        else if (c->out.len == 0 || WIFSIGNALED(c->status) || WEXITSTATUS(c->status) != 0)
            set_reason(&j->fail, "the %s %s without reporting a result", kind(c), how);
        else
            set_reason(&j->fail, "the %s %s after writing a truncated result (%zu bytes)", kind(c), how, c->out.len);
    } else {
        mlf_value *v = NULL;
        char why[256] = "";
        if (take_frame(c, &v, why, sizeof why) != MLF_OK)
            set_reason(&j->fail, "the %s %s; its result did not decode: %s", kind(c), how, why);
        else if (!v)
            set_reason(&j->fail, "the %s %s; its result did not decode: empty frame", kind(c), how);
        else
            accept_result(j, v, kind(c), how);
    }
    finish(p, c);
}

static char *timeout_reason(int64_t timeout)
{
    char d[MLF_DURATION_FMT_MAX];
    mlf_duration_format(timeout, d, sizeof d);
    return mlf_strdup_printf("execution_timeout of %s exceeded", d);
}

/* Kills the running try @p j: SIGTERM to its process group now, SIGKILL after the grace; the process is
 * retired (a host is never trusted with another try after a kill). Takes @p reason. */
static void kill_job(mlf_host_pool *p, job *j, mlf_time_us now, char *reason)
{
    if (j->kill_reason) {
        free(reason);
        return;
    }
    proc *c = j->proc;
    j->kill_reason = reason ? reason : strdup("killed");
    kill(-c->pid, SIGTERM);
    c->kill_at = now + p->o.kill_grace;
    c->retiring = 1;
    if (c->frame_off >= j->frame_len)
        close_fd(p, &c->in_fd);
}

/* ------------------------------------------------------------------------------------------ submitting */

static job *find_job(mlf_host_pool *p, const char *attempt, job ***queue_link)
{
    for (proc *c = p->procs; c; c = c->next)
        if (c->job && strcmp(c->job->attempt, attempt) == 0)
            return c->job;
    for (job **l = &p->queue; *l; l = &(*l)->next)
        if (strcmp((*l)->attempt, attempt) == 0) {
            if (queue_link)
                *queue_link = l;
            return *l;
        }
    return NULL;
}

int mlf_host_pool_submit(mlf_host_pool *p, const mlf_value *spec, mlf_time_us wall, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!p || !spec)
        return MLF_EINVAL;
    mlf_time_us now = enter(p, wall);
    if (p->shutting_down) {
        if (err && errlen)
            snprintf(err, errlen, "the executor is shutting down");
        return MLF_ESTATE;
    }
    job *j = calloc(1, sizeof *j);
    if (!j)
        return MLF_ENOMEM;
    mlf_task_spec *ts = NULL; /* borrows the caller's spec for the checks */
    int rc = mlf_task_spec_decode(spec, &ts, err, errlen);
    if (rc == MLF_OK && find_job(p, ts->attempt, NULL)) {
        if (err && errlen)
            snprintf(err, errlen, "a try with attempt token '%s' is already queued or running", ts->attempt);
        rc = MLF_EEXIST;
    }
    if (rc == MLF_OK && !(j->attempt = strdup(ts->attempt)))
        rc = MLF_ENOMEM;
    if (rc == MLF_OK) {
        j->exec_timeout = ts->execution_timeout;
        void *frame;
        rc = mlf_task_frame_pack(spec, &frame, &j->frame_len);
        j->frame = frame;
        if (rc == MLF_ETOOBIG && err && errlen)
            snprintf(err, errlen, "the task spec is bigger than the %u bytes a task process accepts",
                     MLF_TASK_FRAME_MAX);
    }
    mlf_task_spec_free(ts);
    if (rc != MLF_OK) {
        job_free(j);
        return rc;
    }
    if (p->queue_tail)
        p->queue_tail->next = j;
    else
        p->queue = j;
    p->queue_tail = j;
    p->nqueued++;
    start_queued(p, now);
    return MLF_OK;
}

int mlf_host_pool_kill(mlf_host_pool *p, const char *attempt, mlf_time_us wall)
{
    if (!p || !attempt)
        return MLF_EINVAL;
    mlf_time_us now = enter(p, wall);
    job **link = NULL;
    job *j = find_job(p, attempt, &link);
    if (!j)
        return MLF_ENOTFOUND;
    if (link) { /* still queued: it never starts */
        *link = j->next;
        if (p->queue_tail == j) {
            p->queue_tail = NULL;
            for (job *q = p->queue; q; q = q->next)
                p->queue_tail = q;
        }
        p->nqueued--;
        set_reason(&j->drop_reason, "killed on request before it started");
        j->started = now;
        push_done(p, j);
        return MLF_OK;
    }
    kill_job(p, j, now, strdup("killed on request"));
    return MLF_OK;
}

int mlf_host_pool_shutdown(mlf_host_pool *p, int64_t grace, mlf_time_us wall)
{
    if (!p || grace < 0)
        return MLF_EINVAL;
    mlf_time_us now = enter(p, wall);
    if (p->shutting_down)
        return MLF_OK;
    p->shutting_down = 1;
    p->shutdown_at = now + grace;
    while (p->queue) {
        job *j = p->queue;
        p->queue = j->next;
        set_reason(&j->drop_reason, "the executor shut down before the task started");
        j->started = p->wall_now;
        push_done(p, j);
    }
    p->queue_tail = NULL;
    p->nqueued = 0;
    for (proc *c = p->procs; c; c = c->next)
        if (!c->job)
            retire(p, c, now);
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ reporting */

/* Sets exit_status, exit_signal, pid and hostname in result map @p v. */
static int stamp(const mlf_host_pool *p, const job *j, mlf_value *v)
{
    int rc = mlf_map_set(v, "exit_status", mlf_value_int(j->exit_status));
    if (rc == MLF_OK)
        rc = mlf_map_set(v, "exit_signal", mlf_value_int(j->exit_signal));
    if (rc == MLF_OK)
        rc = mlf_map_set(v, "pid", mlf_value_int(j->pid));
    if (rc == MLF_OK)
        rc = mlf_map_set(v, "hostname", mlf_value_str(p->hostname));
    return rc;
}

static void report(mlf_host_pool *p, job *j, mlf_host_pool_result_fn cb, void *ud)
{
    mlf_time_us now = p->wall_now; /* the end date */
    const char *failed = j->drop_reason ? j->drop_reason : j->kill_reason ? j->kill_reason : j->fail;
    mlf_value *v = NULL;
    if (!failed && j->result) {
        v = j->result;
        j->result = NULL;
    } else {
        int ran = j->pid != 0 && !j->drop_reason;
        mlf_task_result r = {.attempt = j->attempt, .outcome = MLF_FAILED,
                             .message = failed ? failed : "the try ended for an unknown reason",
                             .start_date = j->started, .end_date = now,
                             .exit_status = ran ? j->exit_status : -1, .exit_signal = ran ? j->exit_signal : 0,
                             .pid = ran ? j->pid : 0, .hostname = p->hostname};
        if (mlf_task_result_encode(&r, &v) != MLF_OK) {
            cb(ud, NULL, &r); /* out of memory: no map rather than no report at all */
            return;
        }
    }
    mlf_task_result *res = NULL;
    if (stamp(p, j, v) == MLF_OK && mlf_task_result_decode(v, &res, NULL, 0) == MLF_OK) {
        cb(ud, v, res);
    } else {
        mlf_task_result r = {.attempt = j->attempt, .outcome = MLF_FAILED, .message = "out of memory",
                             .start_date = j->started, .end_date = now, .exit_status = -1,
                             .hostname = p->hostname};
        cb(ud, NULL, &r);
    }
    mlf_task_result_free(res);
    mlf_value_free(v);
}

/* ------------------------------------------------------------------------------------------ the loop */

int mlf_host_pool_process(mlf_host_pool *p, mlf_time_us wall, mlf_host_pool_result_fn cb, void *ud)
{
    if (!p || !cb)
        return MLF_EINVAL;
    mlf_time_us now = enter(p, wall);
    p->last_process = now;
    int shutdown_due = p->shutting_down && now >= p->shutdown_at;
    for (proc **link = &p->procs; *link;) {
        proc *c = *link;
        pump_spec(p, c);
        pump_out(p, c);
        if (c->is_host && c->job && frame_complete(c) && !c->reaped)
            host_answered(p, c, now);
        if (try_reap(p, c)) {
            if (c->job)
                proc_ended(p, c, now);
            else if (c->is_host && !c->retiring)
                p->stats.hosts_lost++; /* died while idle */
            *link = c->next;
            proc_free(p, c);
            continue;
        }
        job *j = c->job;
        if (j && !j->kill_reason && j->deadline && now >= j->deadline)
            kill_job(p, j, now, timeout_reason(j->exec_timeout));
        if (j && !j->kill_reason && shutdown_due)
            kill_job(p, j, now, strdup("killed: the executor shut down"));
        if (!j && p->shutting_down)
            retire(p, c, now);
        if (c->kill_at && !c->kill_sent && now >= c->kill_at) {
            kill(-c->pid, SIGKILL);
            c->kill_sent = 1;
        }
        link = &c->next;
    }
    if (!p->shutting_down) {
        start_queued(p, now);
        top_up(p, now);
    }

    /* detach the done list first: callbacks may submit or kill */
    job *done = p->done;
    p->done = p->done_tail = NULL;
    int reported = 0;
    while (done) {
        job *j = done;
        done = j->next;
        report(p, j, cb, ud);
        job_free(j);
        reported++;
    }
    return reported;
}

mlf_time_us mlf_host_pool_next_deadline(const mlf_host_pool *p)
{
    if (!p)
        return 0;
    if (p->done)
        return 1; /* long past: there are reports to hand out now */
    mlf_time_us next = 0;
#define CONSIDER(t)                              \
    do {                                         \
        mlf_time_us t_ = (t);                    \
        if (t_ > 0 && (next == 0 || t_ < next)) \
            next = t_;                           \
    } while (0)
    int need_poll = 0;
    mlf_time_us latest = p->last_process;
    for (const proc *c = p->procs; c; c = c->next) {
        const job *j = c->job;
        if (j && !j->kill_reason) {
            CONSIDER(j->deadline);
            if (p->shutting_down)
                CONSIDER(p->shutdown_at);
        }
        if (c->kill_at && !c->kill_sent)
            CONSIDER(c->kill_at);
        if (c->pidfd < 0 && (j || c->retiring)) {
            need_poll = 1;
            if (c->started > latest)
                latest = c->started;
        }
    }
#undef CONSIDER
    if (need_poll) { /* no pidfd to wake the loop: look again soon */
        mlf_time_us t = latest + POLL_PERIOD_US;
        if (next == 0 || t < next)
            next = t;
    }
    if (!next)
        return 0;
    /* the caller sleeps by the wall clock: the same distance from its present, whatever it stepped by */
    int64_t in = next - pool_clock(p);
    return mlf_clock_wall() + (in > 0 ? in : 0);
}
