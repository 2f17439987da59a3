/* task_host.c -- `mlflowd task-host`: tries one after another in one process (see task_host.h). */
#include "exec/task_host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/redact.h"
#include "base/fsutil.h"
#include "exec/task_runner.h"
#include "exec/task_spec.h"

/* Rounds of "kill the children, reap them" before giving up on a try that keeps forking. */
#define LEFTOVER_ROUNDS 64

static int host_fail(char *err, size_t errlen, int code, const char *fmt, ...) MLF_PRINTF(4, 5);
static int host_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Reaps every child that has exited. Returns 1 when children remain, 0 when none, -1 on an error. */
static int reap_exited(void)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) != 0) {
            if (errno == EINTR)
                continue;
            return errno == ECHILD ? 0 : -1;
        }
        if (si.si_pid == 0)
            return 1;
    }
}

/* SIGKILLs the children listed in /proc/self/task/TID/children (the host has one thread). Returns how many
 * were signalled, or -1 when the list cannot be read (a kernel without CONFIG_PROC_CHILDREN). */
static int kill_children(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int n = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1)
        if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
            n++;
    fclose(f);
    return n;
}

/* Kills and reaps whatever the try left running: children, and the orphans that come back to this
 * subreaper when their parents die. Returns 0 when nothing is left, -1 when something may be. */
static int kill_leftovers(void)
{
    for (int round = 0; round < LEFTOVER_ROUNDS; round++) {
        int left = reap_exited();
        if (left <= 0)
            return left;
        if (kill_children() < 0)
            return -1;
        /* wait for one to die (its orphans are then ours), then look again */
        siginfo_t si;
        while (waitid(P_ALL, 0, &si, WEXITED) != 0 && errno == EINTR) {
        }
    }
    return reap_exited() == 0 ? 0 : -1;
}

/* Makes @p fd close-on-exec and moves it above 2 (so stdio can be taken over). Returns the fd or -1. */
static int private_fd(int fd)
{
    if (fd > 2)
        return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 ? fd : -1;
    return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int mlf_task_host_main(int in_fd, int out_fd, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    mlf_env_scrub(); /* nothing of the daemon's secrets reaches the operators or their commands */
    int in = private_fd(in_fd), out = private_fd(out_fd);
    if (in < 0 || out < 0)
        return host_fail(err, errlen, 1, "cannot set up the channels: %s", strerror(errno));
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO); /* also when in_fd was stdin: `in` is a private copy */
        close(devnull);
    }
    /* orphans of a try's processes come back to us, so they can be killed when the try ends */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    mlf_plugin_cache *cache = NULL;
    if (mlf_plugin_cache_new(&cache) != MLF_OK)
        return host_fail(err, errlen, 1, "out of memory");

    int code = 0;
    for (;;) {
        mlf_value *spec = NULL;
        char why[256] = "";
        int rc = mlf_task_frame_read(in, &spec, why, sizeof why);
        if (rc == MLF_ENOTFOUND)
            break; /* the pool closed our input: we are retired */
        if (rc != MLF_OK) {
            code = host_fail(err, errlen, rc == MLF_ENOMEM ? 1 : 2, "%s", why);
            break;
        }
        mlf_value *result = NULL;
        rc = mlf_task_run_hosted(cache, spec, &result);
        mlf_value_free(spec);
        if (cwd >= 0 && fchdir(cwd) != 0) { /* an operator that chdir()ed does not move the next try */
            mlf_value_free(result);
            code = host_fail(err, errlen, 1, "cannot return to the host's working directory: %s", strerror(errno));
            break;
        }
        int leftovers = kill_leftovers();

        void *frame = NULL;
        size_t flen = 0;
        static const unsigned char isolated[MLF_TASK_FRAME_HEADER] = {0, 0, 0, 0};
        if (rc == MLF_ENOTSUP) {
            frame = (void *)isolated;
            flen = sizeof isolated;
        } else if (rc != MLF_OK) {
            code = host_fail(err, errlen, rc == MLF_EPARSE ? 2 : 1, "cannot run the task: %s%s", mlf_strerror(rc),
                             rc == MLF_EPARSE ? " (the spec has no attempt token)" : "");
            break;
        } else {
            rc = mlf_task_frame_pack(result, &frame, &flen);
            mlf_value_free(result);
            if (rc != MLF_OK) {
                code = host_fail(err, errlen, 1, "cannot encode a task result: %s", mlf_strerror(rc));
                break;
            }
        }
        int wrc = mlf_write_full(out, frame, flen);
        int werr = errno;
        if (frame != isolated)
            free(frame);
        if (wrc != 0) {
            code = host_fail(err, errlen, 1, "cannot write a task result: %s", strerror(werr));
            break;
        }
        if (leftovers != 0) {
            /* something of the try may still run: end here, the pool kills our process group as it reaps us */
            code = host_fail(err, errlen, 0, "processes left by a try could not all be killed; exiting");
            break;
        }
    }
    mlf_plugin_cache_free(cache);
    if (cwd >= 0)
        close(cwd);
    return code;
}
