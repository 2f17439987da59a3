/* fs_watch -- an event source (sdk/mlflowd/event_source.h) that records one asset event per new file in a
 * folder, watched with inotify (doc/assets.md):
 *
 *     assets:
 *       file:///data/incoming:
 *         watch: {source: fs_watch, config: {path: /data/incoming, pattern: "*.csv"}}
 *
 * A file counts when it is complete: closed after writing (IN_CLOSE_WRITE) or moved into the folder
 * (IN_MOVED_TO: write to a temporary name, then rename, the usual way to publish a file). Hidden names
 * (a leading '.') and names the pattern (fnmatch(3), default "*") does not match are ignored, as are
 * directories and files already there when the watch starts. The event's extra is {path, name, size}.
 * The idempotency key is the file's name, inode and modification time: a file closed twice without a change
 * makes one event; a file written again makes another.
 *
 * Linux only (inotify). The folder must exist when the watch starts; if it is deleted or moved away, the
 * watch ends (logged) until the DAG file's watch changes or the daemon restarts. */
#define _GNU_SOURCE
#include <mlflowd/mlflowd.h>

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

static const mlf_param_spec fs_watch_params[] = {
    {.name = "path", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED,
     .help = "the folder to watch (absolute; it must exist when the watch starts)"},
    {.name = "pattern", .type = MLF_PARAM_STR, .default_value = "'*'",
     .help = "fnmatch(3) pattern a new file's name must match (hidden names never do)"},
    {0}};

typedef struct fs_watch {
    int fd;
    char *path;
    char *pattern;
    mlf_event_host *host;
    int gone; /* the folder went away: the watch has ended */
} fs_watch;

static void fs_watch_close(void *inst)
{
    fs_watch *w = inst;
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w->pattern);
    free(w);
}

static int fs_watch_open(const mlf_event_source_open_args *args, void **inst, char *err, size_t errlen)
{
    const char *path = mlf_value_get_str(mlf_map_get(args->config, "path"), NULL);
    const char *pattern = mlf_value_get_str(mlf_map_get(args->config, "pattern"), NULL);
    if (!path || path[0] != '/') {
        snprintf(err, errlen, "path must be an absolute folder, got '%s'", path ? path : "");
        return MLF_EINVAL;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot watch %s: %s", path, errno ? strerror(errno) : "not a folder");
        return MLF_EINVAL;
    }
    fs_watch *w = calloc(1, sizeof *w);
    if (!w)
        return MLF_ENOMEM;
    w->host = args->host;
    w->path = strdup(path);
    w->pattern = strdup(pattern ? pattern : "*");
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (!w->path || !w->pattern || w->fd < 0 ||
        inotify_add_watch(w->fd, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0) {
        snprintf(err, errlen, "cannot watch %s: %s", path, strerror(errno));
        fs_watch_close(w);
        return MLF_EIO;
    }
    *inst = w;
    return MLF_OK;
}

static int fs_watch_fd(void *inst)
{
    return ((fs_watch *)inst)->fd;
}

/* Emits the event of new file @p name, if it is one that counts. Returns 1 when emitted. */
static int emit_file(fs_watch *w, const char *name)
{
    if (name[0] == '.' || fnmatch(w->pattern, name, 0) != 0)
        return 0;
    char full[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(full, sizeof full, "%s/%s", w->path, name) >= sizeof full || stat(full, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return 0;
    unsigned long h = 5381; /* the name hashed, so that the key stays short whatever the name's length */
    for (const char *p = name; *p; p++)
        h = h * 33 + (unsigned char)*p;
    char key[96];
    snprintf(key, sizeof key, "%lx:%lx:%lld.%09ld", h, (unsigned long)st.st_ino, (long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec);
    mlf_value *extra = mlf_value_map();
    mlf_map_set(extra, "path", mlf_value_str(full));
    mlf_map_set(extra, "name", mlf_value_str(name));
    mlf_map_set(extra, "size", mlf_value_int((int64_t)st.st_size));
    int rc = extra ? mlf_event_emit(w->host, extra, key) : MLF_ENOMEM;
    mlf_value_free(extra);
    if (rc != MLF_OK)
        mlf_log(MLF_LOG_WARNING, "fs_watch", "%s: the event was not recorded: %s", full, mlf_strerror(rc));
    return rc == MLF_OK;
}

static int fs_watch_process(void *inst, mlf_time_us now)
{
    (void)now;
    fs_watch *w = inst;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int emitted = 0;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n <= 0)
            return n < 0 && errno != EAGAIN && errno != EINTR ? MLF_EIO : emitted;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if ((e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) && !w->gone) {
                w->gone = 1;
                mlf_log(MLF_LOG_WARNING, "fs_watch", "%s was removed or moved away: the watch has ended", w->path);
            } else if (e->mask & IN_Q_OVERFLOW) {
                mlf_log(MLF_LOG_WARNING, "fs_watch", "%s: the kernel's event queue overflowed: some files were missed",
                        w->path);
            } else if (e->len && !(e->mask & IN_ISDIR) && (e->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) {
                emitted += emit_file(w, e->name);
            }
            p += sizeof *e + e->len;
        }
    }
}

static const mlf_event_source_desc fs_watch_source = {
    .struct_size = sizeof(mlf_event_source_desc),
    .name = "fs_watch",
    .help = "Records an event of the watched asset for every new file in a folder (inotify: a file closed "
            "after writing or moved in); extra {path, name, size}.",
    .params = fs_watch_params,
    .param_size = sizeof(mlf_param_spec),
    .open = fs_watch_open,
    .fd = fs_watch_fd,
    .process = fs_watch_process,
    .close = fs_watch_close,
};

static int fs_watch_init(mlf_registry *reg)
{
    return mlf_register_event_source(reg, &fs_watch_source);
}

MLF_PLUGIN("fs_watch", MLF_VERSION_STRING, "A folder watcher (inotify): an asset event per new file", fs_watch_init,
           NULL);
