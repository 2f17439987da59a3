/* notify.c -- running notifier plugins in a child process (see notify.h). */
#include "sched/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "exec/task_spec.h"

extern char **environ;

/* The largest frame the child accepts (mlf_notify_main()). */
#define NOTIFY_FRAME_MAX (1024u * 1024u)

/* Writes @p len bytes to the non-blocking pipe @p fd without ever blocking or dying of SIGPIPE (the child
 * may have exited): SIGPIPE is blocked for the write and a pending one is consumed. Returns the bytes
 * written. */
static size_t write_nosignal(int fd, const char *b, size_t len)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    size_t done = 0;
    int broken = 0;
    while (done < len) {
        ssize_t w = write(fd, b + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            broken = w < 0 && errno == EPIPE;
            break;
        }
        done += (size_t)w;
    }
    if (broken && !sigismember(&old, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return done;
}

int mlf_notify_spawn(const char *exe, const char *plugin_path, const char *notifier, const mlf_value *config,
                     const mlf_value *event, pid_t *pid)
{
    mlf_value *msg = mlf_value_map();
    if (!msg)
        return MLF_ENOMEM;
    mlf_map_set(msg, "plugin", mlf_value_str(plugin_path));
    mlf_map_set(msg, "notifier", mlf_value_str(notifier));
    mlf_map_set(msg, "config", config ? mlf_value_copy(config) : mlf_value_map());
    mlf_map_set(msg, "event", mlf_value_copy(event));
    void *frame = NULL;
    size_t len = 0;
    int rc = mlf_task_frame_pack(msg, &frame, &len);
    mlf_value_free(msg);
    if (rc != MLF_OK)
        return rc;
    if (len > NOTIFY_FRAME_MAX + MLF_TASK_FRAME_HEADER) { /* the child would refuse it */
        free(frame);
        return MLF_ETOOBIG;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        free(frame);
        return errno;
    }
    /* the whole frame must fit in the pipe, so that handing it over never waits for the child: grow the
     * pipe when needed (up to /proc/sys/fs/pipe-max-size), and never block on it */
    if (len > 60 * 1024)
        fcntl(p[1], F_SETPIPE_SZ, (int)len);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)exe, "notify", NULL};
    rc = posix_spawn(pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    if (rc == 0 && write_nosignal(p[1], frame, len) < len) /* the child sees a truncated frame and fails */
        mlf_log(MLF_LOG_ERROR, "notify", "notifier '%s': the pipe could not take the %zu-byte event whole; the "
                "notification is lost (the scheduler does not wait for it)", notifier, len);
    close(p[1]);
    free(frame);
    return rc;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int mlf_notify_main(int in_fd, char *err, size_t errlen)
{
    unsigned char hdr[MLF_TASK_FRAME_HEADER];
    if (read_all(in_fd, hdr, sizeof hdr) != 0) {
        snprintf(err, errlen, "no notification on stdin");
        return 1;
    }
    uint32_t len = mlf_task_frame_length(hdr);
    void *body = len <= NOTIFY_FRAME_MAX ? malloc(len ? len : 1) : NULL;
    mlf_value *msg = NULL;
    if (!body || read_all(in_fd, body, len) != 0 || mlf_value_unpack(body, len, &msg) != MLF_OK ||
        mlf_value_type(msg) != MLF_MAP) {
        free(body);
        mlf_value_free(msg);
        snprintf(err, errlen, "malformed notification frame");
        return 1;
    }
    free(body);
    const char *plugin = mlf_value_get_str(mlf_map_get(msg, "plugin"), NULL);
    const char *name = mlf_value_get_str(mlf_map_get(msg, "notifier"), NULL);
    mlf_catalog *cat = mlf_catalog_new();
    mlf_diag errs = {0};
    int rc = 1;
    const char *names[] = {plugin};
    if (!plugin || !name || !cat) {
        snprintf(err, errlen, "malformed notification: plugin and notifier are required");
    } else if (mlf_plugins_load(cat, NULL, 0, names, 1, &errs) != 0) {
        char *first = errs.n ? mlf_diag_format(&errs, 0) : NULL;
        snprintf(err, errlen, "%s", first ? first : "cannot load the notifier's plugin");
        free(first);
    } else {
        const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_NOTIFIER, name);
        if (!e) {
            snprintf(err, errlen, "plugin %s registers no notifier '%s'", plugin, name);
        } else {
            const mlf_notifier_desc *nd = e->desc;
            err[0] = '\0';
            int nrc = nd->notify(mlf_map_get(msg, "event"), mlf_map_get(msg, "config"), err, errlen);
            if (nrc == MLF_OK)
                rc = 0;
            else if (!err[0])
                snprintf(err, errlen, "notifier '%s' failed: %s", name, mlf_strerror(nrc));
        }
    }
    mlf_diag_clear(&errs);
    mlf_catalog_free(cat);
    mlf_value_free(msg);
    return rc;
}
