/* file_sensor -- waits for a file, or a directory with files in it, to appear (Airflow's FileSensor).
 *
 * One poke: expand `path` as a glob pattern and succeed when some match is a regular file (symbolic links
 * followed) or a directory holding at least one non-directory entry anywhere below it (an empty directory,
 * or one with only empty subdirectories, does not count). Otherwise ask to be poked again; the core owns
 * mode, poke_interval, timeout and soft_fail.
 *
 * Follows Airflow: `*`, `?` and `[...]` match within one path component and never match a leading '.'
 * unless the pattern spells it; with `recursive: true` a component that is exactly `**` matches zero or
 * more directories (without it, `**` is a plain `*`); a pattern ending in '/' matches directories only; a
 * directory match is searched the way os.walk does (hidden entries count, symbolic links to directories are
 * not entered). `fs_conn_id` names a connection whose extra `path` is joined in front of a relative `path`,
 * as Airflow's FSHook does.
 *
 * Differs from Airflow: there is no default fs_default connection, so without fs_conn_id a relative path is
 * refused (failed without retry: a worker's current directory means nothing to a DAG author); `**` does not
 * descend into symbolic links to directories (no cycles); a backslash escapes the next character inside a
 * pattern component (fnmatch(3)), where Python's glob has only `[*]`; a component or path longer than
 * PATH_MAX is ignored. */
#define _GNU_SOURCE /* fstatat, dirfd */
#include <mlflowd/mlflowd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const mlf_param_spec file_sensor_params[] = {
    {.name = "path", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "file or directory to wait for; may be a glob (*, ?, [...]); absolute unless fs_conn_id gives a base"},
    {.name = "recursive", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "let a `**` path component match any number of nested directories"},
    {.name = "fs_conn_id", .type = MLF_PARAM_STR,
     .help = "a connection whose extra `path` is the base directory of a relative path"},
    {0}};

/* One search: the pattern split into components, and what was found. */
typedef struct search {
    mlf_task_ctx *ctx;
    char **comps;          /* pattern components (no empty ones) */
    size_t ncomps;
    int recursive;         /* `**` spans directories */
    int dirs_only;         /* the pattern ended in '/' */
    int cancelled;         /* the daemon asked us to stop */
    char path[PATH_MAX];   /* the path being looked at; "" stands for "/" */
    char found[PATH_MAX];  /* the first match that satisfied the sensor */
    int found_dir;
} search;

static int has_magic(const char *comp)
{
    return strpbrk(comp, "*?[") != NULL;
}

/* Appends "/name" to s->path; returns the previous length to restore, or -1 when it would not fit. */
static long path_push(search *s, const char *name)
{
    size_t len = strlen(s->path), nl = strlen(name);
    if (len + 1 + nl >= sizeof s->path)
        return -1;
    s->path[len] = '/';
    memcpy(s->path + len + 1, name, nl + 1);
    return (long)len;
}

static void path_pop(search *s, long len)
{
    s->path[len] = '\0';
}

static const char *dir_name(const search *s)
{
    return s->path[0] ? s->path : "/";
}

/* Opens the directory s->path; NULL when it is not one or cannot be read (treated as "nothing here"). */
static DIR *open_dir(search *s)
{
    if (mlf_ctx_cancelled(s->ctx)) {
        s->cancelled = 1;
        return NULL;
    }
    return opendir(dir_name(s));
}

/* 1 when entry @p e of @p d is a directory, following symbolic links (os.walk's test). */
static int entry_is_dir(DIR *d, const struct dirent *e)
{
    if (e->d_type == DT_DIR)
        return 1;
    if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
        return 0;
    struct stat st;
    return fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* 1 when entry @p e of @p d is a directory itself, not a symbolic link to one. */
static int entry_is_real_dir(DIR *d, const struct dirent *e)
{
    if (e->d_type != DT_UNKNOWN)
        return e->d_type == DT_DIR;
    struct stat st;
    return fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The next entry of @p d other than "." and "..", or NULL at the end or once the search is cancelled. */
static struct dirent *next_entry(search *s, DIR *d)
{
    struct dirent *e;
    while (!s->cancelled && (e = readdir(d))) {
        const char *n = e->d_name;
        if (!(n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))))
            return e;
    }
    return NULL;
}

/* 1 when the directory s->path holds a non-directory entry somewhere below it (Airflow's os.walk test). */
static int dir_has_file(search *s)
{
    DIR *d = open_dir(s);
    if (!d)
        return 0;
    int hit = 0;
    struct dirent *e;
    while (!hit && (e = next_entry(s, d))) {
        if (!entry_is_dir(d, e)) {
            hit = 1;
        } else if (entry_is_real_dir(d, e)) {
            long len = path_push(s, e->d_name);
            if (len >= 0) {
                hit = dir_has_file(s);
                path_pop(s, len);
            }
        }
    }
    closedir(d);
    return hit;
}

/* 1 when the matched path s->path satisfies the sensor (and records it in s->found). */
static int satisfies(search *s)
{
    struct stat st;
    if (stat(dir_name(s), &st) != 0)
        return 0;
    int ok = 0;
    if (S_ISREG(st.st_mode) && !s->dirs_only)
        ok = 1;
    else if (S_ISDIR(st.st_mode))
        ok = dir_has_file(s);
    if (ok) {
        snprintf(s->found, sizeof s->found, "%s", dir_name(s));
        s->found_dir = S_ISDIR(st.st_mode);
    }
    return ok;
}

/* 1 when some path matching components i.. below s->path satisfies the sensor; stops at the first. */
static int match_from(search *s, size_t i)
{
    if (s->cancelled)
        return 0;
    if (i == s->ncomps)
        return satisfies(s);
    const char *comp = s->comps[i];
    int globstar = s->recursive && strcmp(comp, "**") == 0;
    if (globstar && i + 1 == s->ncomps) {
        /* a last `**` matches the directory and everything below it: the directory alone decides */
        struct stat st;
        return stat(dir_name(s), &st) == 0 && S_ISDIR(st.st_mode) && satisfies(s);
    }
    if (globstar && match_from(s, i + 1)) /* `**` as zero directories */
        return 1;
    if (!globstar && !has_magic(comp)) {
        long len = path_push(s, comp);
        int hit = len >= 0 && match_from(s, i + 1);
        if (len >= 0)
            path_pop(s, len);
        return hit;
    }
    DIR *d = open_dir(s);
    if (!d)
        return 0;
    int hit = 0;
    struct dirent *e;
    while (!hit && (e = next_entry(s, d))) {
        if (globstar) {
            /* `**` as one more directory: hidden ones and symbolic links are not entered */
            if (e->d_name[0] == '.' || !entry_is_real_dir(d, e))
                continue;
        } else if (fnmatch(comp, e->d_name, FNM_PERIOD) != 0) {
            continue;
        }
        long len = path_push(s, e->d_name);
        if (len < 0)
            continue;
        hit = match_from(s, globstar ? i : i + 1);
        path_pop(s, len);
    }
    closedir(d);
    return hit;
}

/* Splits @p pattern (absolute) into s->comps, in place. Returns 0 when memory runs out. */
static int split_pattern(search *s, char *pattern)
{
    size_t len = strlen(pattern);
    s->dirs_only = len > 1 && pattern[len - 1] == '/';
    s->comps = calloc(len / 2 + 1, sizeof *s->comps);
    if (!s->comps)
        return 0;
    for (char *save = NULL, *c = strtok_r(pattern, "/", &save); c; c = strtok_r(NULL, "/", &save))
        s->comps[s->ncomps++] = c;
    return 1;
}

/* The absolute pattern to search: @p path itself, or joined to the base path of connection @p conn_id.
 * Returns a new string, or NULL after setting the message and *outcome. */
static char *absolute_pattern(mlf_task_ctx *ctx, const char *path, const char *conn_id, mlf_outcome *outcome)
{
    *outcome = MLF_FAILED_NO_RETRY;
    const char *base = "";
    if (path[0] != '/' && conn_id) {
        const mlf_connection *conn;
        int rc = mlf_ctx_connection(ctx, conn_id, &conn);
        if (rc != MLF_OK) {
            mlf_ctx_set_message(ctx, "file_sensor: connection '%s': %s", conn_id, mlf_strerror(rc));
            *outcome = MLF_FAILED;
            return NULL;
        }
        base = mlf_value_get_str(mlf_map_get(conn->extra, "path"), NULL);
        if (!base)
            base = "";
    }
    if (path[0] != '/' && base[0] != '/') {
        if (conn_id)
            mlf_ctx_set_message(ctx, "file_sensor: path '%s' is relative and connection '%s' gives no absolute "
                                     "base directory in extra.path", path, conn_id);
        else
            mlf_ctx_set_message(ctx, "file_sensor: path '%s' is relative: give an absolute path, or an fs_conn_id "
                                     "whose extra.path is the base directory", path);
        return NULL;
    }
    size_t bl = path[0] == '/' ? 0 : strlen(base);
    size_t need = bl + 1 + strlen(path) + 1;
    char *full = malloc(need);
    if (!full) {
        mlf_ctx_set_message(ctx, "file_sensor: out of memory");
        *outcome = MLF_FAILED;
        return NULL;
    }
    snprintf(full, need, "%.*s%s%s", (int)bl, base, bl && base[bl - 1] != '/' ? "/" : "", path);
    return full;
}

static mlf_outcome file_sensor_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const char *path = mlf_value_get_str(mlf_ctx_param(ctx, "path"), NULL);
    const char *conn_id = mlf_value_get_str(mlf_ctx_param(ctx, "fs_conn_id"), NULL);
    int recursive = 0;
    mlf_value_get_bool(mlf_ctx_param(ctx, "recursive"), &recursive);
    if (!path || !*path) {
        mlf_ctx_set_message(ctx, "file_sensor: path is empty");
        return MLF_FAILED_NO_RETRY;
    }
    mlf_outcome outcome;
    char *pattern = absolute_pattern(ctx, path, conn_id && *conn_id ? conn_id : NULL, &outcome);
    if (!pattern)
        return outcome;
    mlf_ctx_log(ctx, MLF_LOG_INFO, "Poking for file %s", pattern);

    search *s = calloc(1, sizeof *s);
    if (!s || !split_pattern(s, pattern)) {
        mlf_ctx_set_message(ctx, "file_sensor: out of memory");
        free(s);
        free(pattern);
        return MLF_FAILED;
    }
    s->ctx = ctx;
    s->recursive = recursive;
    if (match_from(s, 0)) {
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Found %s %s", s->found_dir ? "files in directory" : "file", s->found);
        outcome = MLF_SUCCESS;
    } else if (s->cancelled) {
        mlf_ctx_set_message(ctx, "file_sensor: stopped while searching %s", pattern);
        outcome = MLF_FAILED;
    } else {
        outcome = MLF_RESCHEDULE;
    }
    free(s->comps);
    free(s);
    free(pattern);
    return outcome;
}

static const mlf_operator_desc file_sensor_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "file_sensor",
    .help = "Waits until `path` (a glob; `**` spans directories with recursive: true) matches a file, or a "
            "directory with files somewhere inside it (Airflow's FileSensor).",
    .flags = MLF_OP_SENSOR,
    .params = file_sensor_params,
    .execute = file_sensor_execute,
};

static int file_sensor_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &file_sensor_operator);
}

MLF_PLUGIN("file_sensor", MLF_VERSION_STRING, "The file sensor (wait for a file or glob match)", file_sensor_init,
           NULL);
