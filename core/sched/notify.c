/* notify.c -- running notifier plugins in a child process (see notify.h). */
#include "sched/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "exec/task_spec.h"

extern char **environ;

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
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        free(frame);
        return errno;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)exe, "notify", NULL};
    rc = posix_spawn(pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    if (rc == 0) {
        /* events are small (well under a pipe's 64 KiB), so this write does not block */
        const char *b = frame;
        size_t left = len;
        while (left) {
            ssize_t w = write(p[1], b, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            b += w;
            left -= (size_t)w;
        }
    }
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
    void *body = len <= 1024 * 1024 ? malloc(len ? len : 1) : NULL;
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
