/* executor_local.c -- a pool of `mlflowd task-exec` processes driven from the scheduler loop (see
 * executor_local.h for the threading model, why an epoll set of pidfds, and the kill rules). */
#include "exec/executor_local.h"
#include "exec/executor.h"

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

#include "time/duration.h"
#include "base/strutil.h"

extern char **environ;

/* Wake-up period when children cannot be watched with pidfds. */
#define POLL_PERIOD_US 50000

/* One submitted try, from the queue to its report. */
typedef struct job {
    struct job *next;       /* queue or done list */
    mlf_value *spec_value;  /* owned copy of the submitted spec */
    mlf_task_spec *spec;    /* decoded; borrows spec_value */
    unsigned char *frame;   /* the spec as one frame, written to the child's stdin */
    size_t frame_len, frame_off;
    char *drop_reason;      /* reported without (further) running: killed while queued, spawn failure... */

    pid_t pid;              /* 0 until started; also the process group id */
    int pidfd, in_fd, out_fd;
    mlf_buf result;         /* bytes read from the child's fd 3 */
    size_t discarded;       /* bytes beyond the largest frame allowed */
    mlf_time_us started, deadline; /* deadline: execution_timeout (0: none) */
    char *kill_reason;      /* set once we decided to kill it */
    int result_before_kill; /* a complete result had arrived when the kill was decided */
    mlf_time_us kill_at;    /* SIGKILL escalation time */
    int kill_sent;
    int reaped, status;
} job;

struct mlf_local_executor {
    char *exe;
    int parallelism;
    int64_t kill_grace;
    int epfd;
    int use_pidfd;
    char hostname[256];
    job **running; /* parallelism slots, the first nrunning used */
    size_t nrunning;
    job *queue, *queue_tail;
    size_t nqueued;
    job *done, *done_tail; /* to report at the next process() */
    int shutting_down;
    mlf_time_us shutdown_at;
    mlf_time_us last_process; /* the `now` of the latest process() call */
};

/* ------------------------------------------------------------------------------------------ helpers */

static void job_free(job *j)
{
    if (!j)
        return;
    mlf_task_spec_free(j->spec);
    mlf_value_free(j->spec_value);
    free(j->frame);
    free(j->drop_reason);
    free(j->kill_reason);
    mlf_buf_free(&j->result);
    free(j);
}

static void close_fd(mlf_local_executor *ex, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(ex->epfd, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
}

static void push_done(mlf_local_executor *ex, job *j)
{
    j->next = NULL;
    if (ex->done_tail)
        ex->done_tail->next = j;
    else
        ex->done = j;
    ex->done_tail = j;
}

static void set_reason(char **slot, const char *fmt, ...) MLF_PRINTF(2, 3);
static void set_reason(char **slot, const char *fmt, ...)
{
    mlf_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    mlf_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    free(*slot);
    *slot = mlf_buf_steal(&b); /* NULL only when memory ran out; the report then says "unknown" */
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

static int frame_complete(const job *j)
{
    return j->result.len >= MLF_TASK_FRAME_HEADER &&
           j->result.len - MLF_TASK_FRAME_HEADER >= mlf_task_frame_length(j->result.data);
}

/* ------------------------------------------------------------------------------------------ lifecycle */

int mlf_local_executor_new(const char *mlflowd_exe, int parallelism, int64_t kill_grace, mlf_local_executor **out)
{
    if (!mlflowd_exe || !out || parallelism < 1 || kill_grace < 0)
        return MLF_EINVAL;
    *out = NULL;
    mlf_local_executor *ex = calloc(1, sizeof *ex);
    if (!ex)
        return MLF_ENOMEM;
    ex->epfd = -1;
    ex->exe = strdup(mlflowd_exe);
    ex->running = calloc((size_t)parallelism, sizeof *ex->running);
    if (!ex->exe || !ex->running) {
        mlf_local_executor_free(ex);
        return MLF_ENOMEM;
    }
    ex->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ex->epfd < 0) {
        int e = errno;
        mlf_local_executor_free(ex);
        return e;
    }
    ex->parallelism = parallelism;
    ex->kill_grace = kill_grace ? kill_grace : MLF_LOCAL_EXECUTOR_KILL_GRACE;
#ifdef SYS_pidfd_open
    ex->use_pidfd = 1;
#endif
    gethostname(ex->hostname, sizeof ex->hostname - 1);
    *out = ex;
    return MLF_OK;
}

static void free_list(job *j)
{
    while (j) {
        job *next = j->next;
        job_free(j);
        j = next;
    }
}

void mlf_local_executor_free(mlf_local_executor *ex)
{
    if (!ex)
        return;
    for (size_t i = 0; i < ex->nrunning; i++) {
        job *j = ex->running[i];
        if (!j->reaped) {
            kill(-j->pid, SIGKILL);
            while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
        close_fd(ex, &j->pidfd);
        close_fd(ex, &j->in_fd);
        close_fd(ex, &j->out_fd);
        job_free(j);
    }
    free_list(ex->queue);
    free_list(ex->done);
    if (ex->epfd >= 0)
        close(ex->epfd);
    free(ex->running);
    free(ex->exe);
    free(ex);
}

int mlf_local_executor_fd(const mlf_local_executor *ex)
{
    return ex ? ex->epfd : -1;
}

size_t mlf_local_executor_running(const mlf_local_executor *ex)
{
    return ex ? ex->nrunning : 0;
}

size_t mlf_local_executor_queued(const mlf_local_executor *ex)
{
    return ex ? ex->nqueued : 0;
}

/* ------------------------------------------------------------------------------------------ starting */

/* Writes as much of the spec frame as the child's stdin takes now. */
static void pump_spec(mlf_local_executor *ex, job *j)
{
    while (j->in_fd >= 0 && j->frame_off < j->frame_len) {
        /* send(MSG_NOSIGNAL): a child that died before reading must not kill the daemon with SIGPIPE */
        ssize_t w = send(j->in_fd, j->frame + j->frame_off, j->frame_len - j->frame_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) { /* the child is gone or closed stdin: its exit tells the rest */
            close_fd(ex, &j->in_fd);
            return;
        }
        j->frame_off += (size_t)w;
    }
    close_fd(ex, &j->in_fd); /* all written: the child needs nothing more */
}

/* Reads whatever result bytes the child has written so far. */
static void pump_result(mlf_local_executor *ex, job *j)
{
    char buf[65536];
    while (j->out_fd >= 0) {
        ssize_t r = read(j->out_fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            close_fd(ex, &j->out_fd);
            return;
        }
        size_t keep = (size_t)r;
        size_t room = MLF_TASK_FRAME_HEADER + MLF_TASK_FRAME_MAX - j->result.len;
        if (j->discarded || keep > room) /* keep draining, so the child never blocks on a full pipe */
            keep = j->discarded ? 0 : room;
        j->discarded += (size_t)r - keep;
        if (keep && mlf_buf_append(&j->result, buf, keep) != MLF_OK)
            j->discarded += keep;
    }
}

static int epoll_add(mlf_local_executor *ex, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(ex->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Starts @p j's task process. Returns 0, or an errno value (nothing left open then). */
static int spawn_job(mlf_local_executor *ex, job *j, mlf_time_us now)
{
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
    /* nothing else of the daemon's (an LMDB or socket descriptor a library forgot to mark close-on-exec) */
    posix_spawn_file_actions_addclosefrom_np(&fa, 4);
#endif
    /* its own process group (so that a kill reaches everything it started), default signal dispositions
     * and an empty mask whatever the daemon had set up */
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
    char *argv[] = {ex->exe, "task-exec", "--parent", ppid, NULL}; /* it dies with us: see task-exec */
    pid_t pid;
    err = posix_spawn(&pid, ex->exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    close(pp[1]);
    sv[1] = pp[1] = -1;
    if (err != 0)
        goto fail;

    j->pid = pid;
    j->in_fd = sv[0];
    j->out_fd = pp[0];
    j->pidfd = -1;
#ifdef SYS_pidfd_open
    if (ex->use_pidfd) {
        j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (j->pidfd < 0 && errno == ENOSYS)
            ex->use_pidfd = 0; /* an old kernel: poll from now on */
        if (j->pidfd >= 0)
            fcntl(j->pidfd, F_SETFD, FD_CLOEXEC);
    }
#endif
    /* registration failures only cost latency: process() looks at every child anyway */
    if (j->pidfd >= 0)
        epoll_add(ex, j->pidfd, EPOLLIN);
    epoll_add(ex, j->out_fd, EPOLLIN);
    epoll_add(ex, j->in_fd, EPOLLOUT);
    j->started = now;
    j->deadline = j->spec->execution_timeout > 0 ? now + j->spec->execution_timeout : 0;
    pump_spec(ex, j);
    return 0;

fail:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (pp[i] >= 0)
            close(pp[i]);
    }
    return err ? err : EIO;
}

/* Starts queued specs while slots are free. */
static void start_queued(mlf_local_executor *ex, mlf_time_us now)
{
    while (ex->queue && ex->nrunning < (size_t)ex->parallelism) {
        job *j = ex->queue;
        ex->queue = j->next;
        if (!ex->queue)
            ex->queue_tail = NULL;
        ex->nqueued--;
        j->next = NULL;
        int err = spawn_job(ex, j, now);
        if (err != 0) {
            set_reason(&j->drop_reason, "cannot start the task process %s: %s", ex->exe, strerror(err));
            j->started = now;
            push_done(ex, j);
            continue;
        }
        ex->running[ex->nrunning++] = j;
    }
}

static job *find_job(mlf_local_executor *ex, const char *attempt, job ***queue_link)
{
    for (size_t i = 0; i < ex->nrunning; i++)
        if (strcmp(ex->running[i]->spec->attempt, attempt) == 0)
            return ex->running[i];
    for (job **l = &ex->queue; *l; l = &(*l)->next)
        if (strcmp((*l)->spec->attempt, attempt) == 0) {
            if (queue_link)
                *queue_link = l;
            return *l;
        }
    return NULL;
}

int mlf_local_executor_submit(mlf_local_executor *ex, const mlf_value *spec, mlf_time_us now, char *err,
                              size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!ex || !spec)
        return MLF_EINVAL;
    if (ex->shutting_down) {
        if (err && errlen)
            snprintf(err, errlen, "the executor is shutting down");
        return MLF_ESTATE;
    }
    job *j = calloc(1, sizeof *j);
    if (!j)
        return MLF_ENOMEM;
    j->pidfd = j->in_fd = j->out_fd = -1;
    if (!(j->spec_value = mlf_value_copy(spec))) {
        job_free(j);
        return MLF_ENOMEM;
    }
    int rc = mlf_task_spec_decode(j->spec_value, &j->spec, err, errlen);
    if (rc == MLF_OK && find_job(ex, j->spec->attempt, NULL)) {
        if (err && errlen)
            snprintf(err, errlen, "a try with attempt token '%s' is already queued or running", j->spec->attempt);
        rc = MLF_EEXIST;
    }
    if (rc == MLF_OK) {
        void *frame;
        rc = mlf_task_frame_pack(j->spec_value, &frame, &j->frame_len);
        j->frame = frame;
        if (rc == MLF_ETOOBIG && err && errlen)
            snprintf(err, errlen, "the task spec is bigger than the %u bytes a task process accepts",
                     MLF_TASK_FRAME_MAX);
    }
    if (rc != MLF_OK) {
        job_free(j);
        return rc;
    }
    if (ex->queue_tail)
        ex->queue_tail->next = j;
    else
        ex->queue = j;
    ex->queue_tail = j;
    ex->nqueued++;
    start_queued(ex, now);
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ killing */

static void kill_job(mlf_local_executor *ex, job *j, mlf_time_us now, char *reason)
{
    if (j->kill_reason) {
        free(reason);
        return;
    }
    j->kill_reason = reason ? reason : strdup("killed");
    j->result_before_kill = frame_complete(j);
    if (!j->reaped)
        kill(-j->pid, SIGTERM);
    j->kill_at = now + ex->kill_grace;
}

int mlf_local_executor_kill(mlf_local_executor *ex, const char *attempt, mlf_time_us now)
{
    if (!ex || !attempt)
        return MLF_EINVAL;
    job **link = NULL;
    job *j = find_job(ex, attempt, &link);
    if (!j)
        return MLF_ENOTFOUND;
    if (link) { /* still queued: it never starts */
        *link = j->next;
        if (ex->queue_tail == j) {
            ex->queue_tail = NULL;
            for (job *q = ex->queue; q; q = q->next)
                ex->queue_tail = q;
        }
        ex->nqueued--;
        set_reason(&j->drop_reason, "killed on request before it started");
        j->started = now;
        push_done(ex, j);
        return MLF_OK;
    }
    kill_job(ex, j, now, strdup("killed on request"));
    return MLF_OK;
}

int mlf_local_executor_shutdown(mlf_local_executor *ex, int64_t grace, mlf_time_us now)
{
    if (!ex || grace < 0)
        return MLF_EINVAL;
    if (ex->shutting_down)
        return MLF_OK;
    ex->shutting_down = 1;
    ex->shutdown_at = now + grace;
    while (ex->queue) {
        job *j = ex->queue;
        ex->queue = j->next;
        set_reason(&j->drop_reason, "the executor shut down before the task started");
        j->started = now;
        push_done(ex, j);
    }
    ex->queue_tail = NULL;
    ex->nqueued = 0;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ reporting */

/* Describes how the process ended, e.g. "killed by signal 11 (Segmentation fault)". */
static void describe_exit(int status, char *buf, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
}

/* Reports a failed result that the executor makes up. */
static void report_synth(mlf_local_executor *ex, job *j, mlf_time_us now, const char *message,
                         mlf_local_result_fn cb, void *ud)
{
    int exited = j->reaped && WIFEXITED(j->status), signaled = j->reaped && WIFSIGNALED(j->status);
    mlf_task_result r = {.attempt = j->spec->attempt, .outcome = MLF_FAILED,
                         .message = message ? message : "the try ended for an unknown reason",
                         .start_date = j->started, .end_date = now,
                         .exit_status = exited ? WEXITSTATUS(j->status) : -1,
                         .exit_signal = signaled ? WTERMSIG(j->status) : 0, .pid = j->pid,
                         .hostname = ex->hostname};
    /* encode + decode gives the callback exactly what a real result looks like (empty xcoms map...) */
    mlf_value *v = NULL;
    mlf_task_result *res = NULL;
    if (mlf_task_result_encode(&r, &v) == MLF_OK && mlf_task_result_decode(v, &res, NULL, 0) == MLF_OK)
        cb(ud, res);
    else
        cb(ud, &r); /* out of memory: xcoms NULL rather than no report at all */
    mlf_task_result_free(res);
    mlf_value_free(v);
}

/* Reports the result of a finished (reaped, or never started) job. */
static void report_job(mlf_local_executor *ex, job *j, mlf_time_us now, mlf_local_result_fn cb, void *ud)
{
    if (j->drop_reason || !j->pid) {
        report_synth(ex, j, now, j->drop_reason, cb, ud);
        return;
    }
    if (j->kill_reason && !j->result_before_kill) {
        report_synth(ex, j, now, j->kill_reason, cb, ud);
        return;
    }
    char how[160], msg[768];
    describe_exit(j->status, how, sizeof how);
    if (j->discarded) {
        snprintf(msg, sizeof msg, "the task process %s; its result was bigger than the %u bytes allowed", how,
                 MLF_TASK_FRAME_MAX);
        report_synth(ex, j, now, msg, cb, ud);
        return;
    }
    if (!frame_complete(j)) {
        if (j->result.len == 0 || WIFSIGNALED(j->status) || WEXITSTATUS(j->status) != 0)
            snprintf(msg, sizeof msg, "the task process %s without reporting a result", how);
        else
            snprintf(msg, sizeof msg, "the task process %s after writing a truncated result (%zu bytes)", how,
                     j->result.len);
        report_synth(ex, j, now, msg, cb, ud);
        return;
    }
    uint32_t len = mlf_task_frame_length(j->result.data);
    mlf_value *v = NULL;
    mlf_task_result *res = NULL;
    char err[512] = "";
    int rc = mlf_value_unpack(j->result.data + MLF_TASK_FRAME_HEADER, len, &v);
    if (rc != MLF_OK)
        snprintf(err, sizeof err, "%s", mlf_strerror(rc));
    else
        rc = mlf_task_result_decode(v, &res, err, sizeof err);
    if (rc != MLF_OK) {
        snprintf(msg, sizeof msg, "the task process %s; its result did not decode: %s", how, err);
        report_synth(ex, j, now, msg, cb, ud);
    } else if (strcmp(res->attempt, j->spec->attempt) != 0) {
        snprintf(msg, sizeof msg, "the task process %s; its result carries attempt token '%.100s', expected '%.100s'",
                 how, res->attempt, j->spec->attempt);
        report_synth(ex, j, now, msg, cb, ud);
    } else {
        res->exit_status = WIFEXITED(j->status) ? WEXITSTATUS(j->status) : -1;
        res->exit_signal = WIFSIGNALED(j->status) ? WTERMSIG(j->status) : 0;
        res->pid = j->pid;
        cb(ud, res);
    }
    mlf_task_result_free(res);
    mlf_value_free(v);
}

/* ------------------------------------------------------------------------------------------ the loop */

/* Reaps @p j if its process has exited, after killing what is left of its process group. Returns 1 when
 * reaped. */
static int try_reap(mlf_local_executor *ex, job *j)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* WNOWAIT: look without reaping, so the pid (= group id) stays reserved while we kill the group */
    if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
        return 0;
    kill(-j->pid, SIGKILL);
    while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR) {
    }
    j->reaped = 1;
    pump_result(ex, j); /* what it wrote before exiting */
    close_fd(ex, &j->pidfd);
    close_fd(ex, &j->in_fd);
    close_fd(ex, &j->out_fd);
    return 1;
}

static char *timeout_reason(int64_t timeout)
{
    char d[MLF_DURATION_FMT_MAX];
    mlf_duration_format(timeout, d, sizeof d);
    return mlf_strdup_printf("execution_timeout of %s exceeded", d);
}

int mlf_local_executor_process(mlf_local_executor *ex, mlf_time_us now, mlf_local_result_fn cb, void *ud)
{
    if (!ex || !cb)
        return MLF_EINVAL;
    ex->last_process = now;
    int shutdown_due = ex->shutting_down && now >= ex->shutdown_at;
    for (size_t i = 0; i < ex->nrunning;) {
        job *j = ex->running[i];
        pump_spec(ex, j);
        pump_result(ex, j);
        if (try_reap(ex, j)) {
            ex->running[i] = ex->running[--ex->nrunning];
            push_done(ex, j);
            continue;
        }
        if (!j->kill_reason && j->deadline && now >= j->deadline)
            kill_job(ex, j, now, timeout_reason(j->spec->execution_timeout));
        if (!j->kill_reason && shutdown_due)
            kill_job(ex, j, now, strdup("killed: the executor shut down"));
        if (j->kill_reason && !j->kill_sent && now >= j->kill_at) {
            kill(-j->pid, SIGKILL);
            j->kill_sent = 1;
        }
        i++;
    }
    if (!ex->shutting_down)
        start_queued(ex, now);

    /* detach the done list first: callbacks may submit or kill */
    job *done = ex->done;
    ex->done = ex->done_tail = NULL;
    int reported = 0;
    while (done) {
        job *j = done;
        done = j->next;
        report_job(ex, j, now, cb, ud);
        job_free(j);
        reported++;
    }
    return reported;
}

mlf_time_us mlf_local_executor_next_deadline(const mlf_local_executor *ex)
{
    if (!ex)
        return 0;
    if (ex->done)
        return 1; /* long past: there are reports to hand out now */
    mlf_time_us next = 0;
#define CONSIDER(t)                              \
    do {                                         \
        mlf_time_us t_ = (t);                    \
        if (t_ > 0 && (next == 0 || t_ < next)) \
            next = t_;                           \
    } while (0)
    int need_poll = 0;
    for (size_t i = 0; i < ex->nrunning; i++) {
        const job *j = ex->running[i];
        if (!j->kill_reason) {
            CONSIDER(j->deadline);
            if (ex->shutting_down)
                CONSIDER(ex->shutdown_at);
        } else if (!j->kill_sent) {
            CONSIDER(j->kill_at);
        }
        if (j->pidfd < 0)
            need_poll = 1;
    }
#undef CONSIDER
    if (need_poll) { /* no pidfd to wake the loop: look again soon */
        mlf_time_us latest = ex->last_process;
        for (size_t i = 0; i < ex->nrunning; i++)
            if (ex->running[i]->started > latest)
                latest = ex->running[i]->started;
        mlf_time_us t = latest + POLL_PERIOD_US;
        if (next == 0 || t < next)
            next = t;
    }
    return next;
}

/* ---------------------------------------------------------------- as an mlf_executor (executor.h) */

static int local_can_accept(void *impl, const char *queue, const char *operator_name, char *why, size_t whylen)
{
    mlf_local_executor *ex = impl;
    (void)queue;
    (void)operator_name;
    if (mlf_local_executor_running(ex) + mlf_local_executor_queued(ex) < (size_t)ex->parallelism)
        return 1;
    snprintf(why, whylen, "all %d local slots (parallelism) are busy", ex->parallelism);
    return 0;
}

static int local_submit(void *impl, const mlf_value *spec, const char *queue, mlf_time_us now, char *err, size_t errlen)
{
    (void)queue; /* one host: every queue runs here */
    return mlf_local_executor_submit(impl, spec, now, err, errlen);
}

static int local_fd(const void *impl) { return mlf_local_executor_fd(impl); }
static mlf_time_us local_deadline(const void *impl) { return mlf_local_executor_next_deadline(impl); }
static int local_kill(void *impl, const char *attempt, mlf_time_us now) { return mlf_local_executor_kill(impl, attempt, now); }
static void local_free(void *impl) { mlf_local_executor_free(impl); }

static size_t local_in_flight(const void *impl)
{
    return mlf_local_executor_running(impl) + mlf_local_executor_queued(impl);
}

static int local_shutdown(void *impl, int64_t grace, mlf_time_us now)
{
    return mlf_local_executor_shutdown(impl, grace, now);
}

static int local_process(void *impl, mlf_time_us now, mlf_executor_result_fn cb, void *ud)
{
    return mlf_local_executor_process(impl, now, cb, ud);
}

static const mlf_executor_ops local_ops = {
    .name = "local",
    .can_accept = local_can_accept,
    .submit = local_submit,
    .fd = local_fd,
    .process = local_process,
    .next_deadline = local_deadline,
    .after_commit = NULL,
    .kill = local_kill,
    .shutdown = local_shutdown,
    .in_flight = local_in_flight,
    .free = local_free,
};

int mlf_executor_local_open(const char *mlflowd_exe, int parallelism, mlf_executor *out)
{
    mlf_local_executor *ex = NULL;
    int rc = mlf_local_executor_new(mlflowd_exe, parallelism, MLF_LOCAL_EXECUTOR_KILL_GRACE, &ex);
    if (rc != MLF_OK)
        return rc;
    out->ops = &local_ops;
    out->impl = ex;
    return MLF_OK;
}
