/* slurm_cmd.c -- Slurm's commands as non-blocking child processes (see slurm_cmd.h). */
#include "slurm_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct cmd {
    int used;
    pid_t pid;
    int out_fd, pid_fd; /* -1 once closed (EOF) / when there is no pidfd */
    int reaped, status;
    int kind;
    void *ud;
    char *buf;
    size_t len, cap;
    int truncated;
} cmd;

struct mlf_slurm_cmds {
    int epfd;
    cmd slot[MLF_SLURM_CMDS_MAX];
    size_t running;
};

int mlf_slurm_cmds_new(mlf_slurm_cmds **out)
{
    mlf_slurm_cmds *c = calloc(1, sizeof *c);
    if (!c)
        return ENOMEM;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->epfd < 0) {
        int e = errno;
        free(c);
        return e;
    }
    *out = c;
    return 0;
}

static void release(mlf_slurm_cmds *c, cmd *k)
{
    if (k->out_fd >= 0) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->out_fd, NULL);
        close(k->out_fd);
    }
    if (k->pid_fd >= 0) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->pid_fd, NULL);
        close(k->pid_fd);
    }
    free(k->buf);
    memset(k, 0, sizeof *k);
    c->running--;
}

void mlf_slurm_cmds_free(mlf_slurm_cmds *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < MLF_SLURM_CMDS_MAX; i++) {
        cmd *k = &c->slot[i];
        if (!k->used)
            continue;
        if (!k->reaped) {
            kill(k->pid, SIGKILL);
            while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
        release(c, k);
    }
    close(c->epfd);
    free(c);
}

int mlf_slurm_cmds_fd(const mlf_slurm_cmds *c)
{
    return c->epfd;
}

size_t mlf_slurm_cmds_running(const mlf_slurm_cmds *c)
{
    return c->running;
}

static int watch(mlf_slurm_cmds *c, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.fd = fd;
    return epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

int mlf_slurm_cmd_start(mlf_slurm_cmds *c, char *const argv[], int kind, void *ud)
{
    cmd *k = NULL;
    for (size_t i = 0; i < MLF_SLURM_CMDS_MAX && !k; i++)
        if (!c->slot[i].used)
            k = &c->slot[i];
    if (!k)
        return EAGAIN;
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return errno;
    posix_spawn_file_actions_t fa;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (!rc)
            rc = posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        if (!rc)
            rc = posix_spawn_file_actions_adddup2(&fa, p[1], 2);
        pid_t pid = 0;
        /* the child writes to a blocking pipe end (the write end is an open file description of its own) */
        if (!rc) {
            int fl = fcntl(p[1], F_GETFL);
            fcntl(p[1], F_SETFL, fl & ~O_NONBLOCK);
            rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        }
        posix_spawn_file_actions_destroy(&fa);
        if (!rc) {
            k->used = 1;
            k->pid = pid;
            k->kind = kind;
            k->ud = ud;
            k->out_fd = p[0];
            k->pid_fd = -1;
#ifdef SYS_pidfd_open
            k->pid_fd = (int)syscall(SYS_pidfd_open, pid, 0);
            if (k->pid_fd >= 0 && watch(c, k->pid_fd) != 0) {
                close(k->pid_fd);
                k->pid_fd = -1;
            }
#endif
            c->running++;
            close(p[1]);
            if (watch(c, p[0]) != 0 && k->pid_fd >= 0) {
                /* the pipe cannot wake the scheduler: fall back to looking every 20 ms */
                epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->pid_fd, NULL);
                close(k->pid_fd);
                k->pid_fd = -1;
            }
            return 0;
        }
    }
    close(p[0]);
    close(p[1]);
    return rc;
}

int64_t mlf_slurm_cmds_deadline(const mlf_slurm_cmds *c, int64_t mono_now)
{
    for (size_t i = 0; i < MLF_SLURM_CMDS_MAX; i++)
        if (c->slot[i].used && c->slot[i].pid_fd < 0)
            return mono_now + 20000; /* no pidfd: look for its exit every 20 ms */
    return 0;
}

/* Reads what @p k's pipe holds now; closes it at EOF. */
static void drain(mlf_slurm_cmds *c, cmd *k)
{
    char tmp[16384];
    while (k->out_fd >= 0) {
        ssize_t n = read(k->out_fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->out_fd, NULL);
            close(k->out_fd);
            k->out_fd = -1;
            return;
        }
        size_t keep = (size_t)n;
        if (k->len + keep > MLF_SLURM_CMD_OUT_MAX) {
            keep = MLF_SLURM_CMD_OUT_MAX - k->len;
            k->truncated = 1;
        }
        if (k->len + keep + 1 > k->cap) {
            size_t cap = k->cap ? k->cap : 4096;
            while (cap < k->len + keep + 1)
                cap *= 2;
            char *b = realloc(k->buf, cap);
            if (!b) {
                k->truncated = 1;
                continue;
            }
            k->buf = b;
            k->cap = cap;
        }
        memcpy(k->buf + k->len, tmp, keep);
        k->len += keep;
    }
}

int mlf_slurm_cmds_process(mlf_slurm_cmds *c, int64_t mono_now, void (*cb)(void *cbud, const mlf_slurm_done *d),
                           void *cbud)
{
    (void)mono_now; /* level-triggered epoll: nothing to acknowledge; every slot is looked at below */
    int delivered = 0;
    for (size_t i = 0; i < MLF_SLURM_CMDS_MAX; i++) {
        cmd *k = &c->slot[i];
        if (!k->used)
            continue;
        drain(c, k);
        if (!k->reaped) {
            pid_t r;
            while ((r = waitpid(k->pid, &k->status, WNOHANG)) < 0 && errno == EINTR) {
            }
            if (r == k->pid || (r < 0 && errno == ECHILD))
                k->reaped = r == k->pid ? 1 : 2;
        }
        if (!k->reaped || k->out_fd >= 0)
            continue;
        mlf_slurm_done d = {.kind = k->kind, .ud = k->ud, .out = k->buf ? k->buf : "", .len = k->len,
                            .truncated = k->truncated};
        if (k->buf)
            k->buf[k->len] = '\0';
        d.exit_status = k->reaped == 1 && WIFEXITED(k->status) ? WEXITSTATUS(k->status) : -1;
        cmd copy = *k;
        k->buf = NULL; /* the callback may start a command in this slot: release it first */
        release(c, k);
        cb(cbud, &d);
        free(copy.buf);
        delivered++;
    }
    return delivered;
}
