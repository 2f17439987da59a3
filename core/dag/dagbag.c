/* dagbag.c -- a folder of DAG files, incrementally re-parsed, with import errors. */
#include "dag/dagbag.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strutil.h"
#include "time/timefmt.h"
#include "web/metrics_tries.h"

typedef struct bag_file {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    mlf_dag *dag;   /* NULL when the file failed */
    mlf_diag diag;  /* its own import errors */
    int seen;       /* found by the current scan */
} bag_file;

struct mlf_dagbag {
    char *folder;
    mlf_dag_parser *parser;
    bag_file *files;
    size_t nfiles, capfiles;
    const mlf_dag **dags; /* visible DAGs sorted by dag_id */
    size_t ndags;
    mlf_diag errors;      /* all import errors */
    int watch_fd;
    int64_t rescan_us;    /* scheduler.dag_dir_list_interval (0: inotify only) */
    mlf_time_us last_rescan;
};

mlf_dagbag *mlf_dagbag_new(const char *folder, const mlf_catalog *cat)
{
    mlf_dagbag *bag = calloc(1, sizeof *bag);
    if (!bag)
        return NULL;
    bag->watch_fd = -1;
    bag->folder = strdup(folder);
    bag->parser = mlf_dag_parser_new(cat);
    if (!bag->folder || !bag->parser) {
        mlf_dagbag_free(bag);
        return NULL;
    }
    return bag;
}

static void file_clear(bag_file *f)
{
    free(f->path);
    mlf_dag_free(f->dag);
    mlf_diag_clear(&f->diag);
}

void mlf_dagbag_free(mlf_dagbag *bag)
{
    if (!bag)
        return;
    for (size_t i = 0; i < bag->nfiles; i++)
        file_clear(&bag->files[i]);
    free(bag->files);
    free(bag->dags);
    mlf_diag_clear(&bag->errors);
    mlf_dag_parser_free(bag->parser);
    if (bag->watch_fd >= 0)
        close(bag->watch_fd);
    free(bag->folder);
    free(bag);
}

static bag_file *find_file(mlf_dagbag *bag, const char *path)
{
    for (size_t i = 0; i < bag->nfiles; i++)
        if (strcmp(bag->files[i].path, path) == 0)
            return &bag->files[i];
    return NULL;
}

static int is_dag_file(const char *name)
{
    return name[0] != '.' && (mlf_str_endswith(name, ".yaml") || mlf_str_endswith(name, ".yml"));
}

/* Parses (or re-parses) one file when it is new or changed. */
static int visit_file(mlf_dagbag *bag, const char *path, const struct stat *st, size_t *changed)
{
    bag_file *f = find_file(bag, path);
    if (f) {
        f->seen = 1;
        if (f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
            f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec)
            return MLF_OK;
        mlf_dag_free(f->dag);
        f->dag = NULL;
        mlf_diag_clear(&f->diag);
    } else {
        if (bag->nfiles == bag->capfiles) {
            size_t cap = bag->capfiles ? bag->capfiles * 2 : 64;
            bag_file *nf = realloc(bag->files, cap * sizeof *nf);
            if (!nf)
                return MLF_ENOMEM;
            bag->files = nf;
            bag->capfiles = cap;
        }
        f = &bag->files[bag->nfiles];
        memset(f, 0, sizeof *f);
        if (!(f->path = strdup(path)))
            return MLF_ENOMEM;
        bag->nfiles++;
        f->seen = 1;
    }
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = st->st_size;
    f->mtime = st->st_mtim;
    mlf_time_us t0 = mlf_time_now();
    int rc = mlf_dag_parse_file(bag->parser, path, &f->dag, &f->diag);
    mlf_metrics_dag_parse(mlf_time_now() - t0); /* /metrics: atomic adds */
    if (rc != MLF_OK && f->diag.n == 0)
        mlf_diag_add(&f->diag, path, 0, 0, "cannot load: %s", mlf_strerror(rc));
    if (changed)
        (*changed)++;
    return rc == MLF_ENOMEM ? rc : MLF_OK;
}

static int scan_dir(mlf_dagbag *bag, const char *dir, int depth, size_t *changed)
{
    if (depth > 32)
        return MLF_OK; /* a symlink loop, most likely */
    DIR *d = opendir(dir);
    if (!d)
        return MLF_OK;
    struct dirent *de;
    int rc = MLF_OK;
    while (rc == MLF_OK && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *path = mlf_strdup_printf("%s/%s", dir, de->d_name);
        struct stat st;
        if (!path) {
            rc = MLF_ENOMEM;
        } else if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = scan_dir(bag, path, depth + 1, changed);
            else if (S_ISREG(st.st_mode) && is_dag_file(de->d_name))
                rc = visit_file(bag, path, &st, changed);
        }
        free(path);
    }
    closedir(d);
    return rc;
}

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const bag_file *)a)->path, ((const bag_file *)b)->path);
}

static int cmp_dags(const void *a, const void *b)
{
    return strcmp((*(const mlf_dag *const *)a)->dag_id, (*(const mlf_dag *const *)b)->dag_id);
}

/* Rebuilds the sorted DAG list and the import errors. The first file (by path) that defines a dag_id
 * owns it; later files with the same dag_id become import errors. */
static int rebuild(mlf_dagbag *bag)
{
    if (bag->nfiles > 1) /* qsort's base must not be NULL, even for zero elements */
        qsort(bag->files, bag->nfiles, sizeof *bag->files, cmp_files);
    free(bag->dags);
    bag->dags = calloc(bag->nfiles ? bag->nfiles : 1, sizeof *bag->dags);
    mlf_diag_clear(&bag->errors);
    bag->ndags = 0;
    if (!bag->dags)
        return MLF_ENOMEM;
    for (size_t i = 0; i < bag->nfiles; i++) {
        bag_file *f = &bag->files[i];
        for (size_t k = 0; k < f->diag.n; k++)
            mlf_diag_add(&bag->errors, f->diag.v[k].file, f->diag.v[k].line, f->diag.v[k].col, "%s",
                         f->diag.v[k].message);
        if (f->dag)
            bag->dags[bag->ndags++] = f->dag;
    }
    if (bag->ndags > 1)
        qsort(bag->dags, bag->ndags, sizeof *bag->dags, cmp_dags);
    /* equal dag_ids are now adjacent; files were visited in path order, but qsort is not stable, so pick
     * the owner explicitly: the one with the smallest path */
    size_t out = 0;
    for (size_t i = 0; i < bag->ndags;) {
        size_t j = i + 1, owner = i;
        while (j < bag->ndags && strcmp(bag->dags[j]->dag_id, bag->dags[i]->dag_id) == 0) {
            if (strcmp(bag->dags[j]->fileloc, bag->dags[owner]->fileloc) < 0)
                owner = j;
            j++;
        }
        for (size_t k = i; k < j; k++)
            if (k != owner)
                mlf_diag_add(&bag->errors, bag->dags[k]->fileloc, bag->dags[k]->line, bag->dags[k]->col,
                             "dag_id '%s' is already defined in %s; each DAG needs its own dag_id",
                             bag->dags[k]->dag_id, bag->dags[owner]->fileloc);
        bag->dags[out++] = bag->dags[owner];
        i = j;
    }
    bag->ndags = out;
    /* assets (doc/assets.md): a DAG waiting for an asset nothing produces or declares is a load error */
    unsigned char *bad = calloc(bag->ndags ? bag->ndags : 1, 1);
    if (!bad)
        return MLF_ENOMEM;
    if (mlf_asset_check_bag(bag->dags, bag->ndags, &bag->errors, bad)) {
        out = 0;
        for (size_t i = 0; i < bag->ndags; i++)
            if (!bad[i])
                bag->dags[out++] = bag->dags[i];
        bag->ndags = out;
    }
    free(bad);
    return MLF_OK;
}

int mlf_dagbag_refresh(mlf_dagbag *bag, size_t *changed)
{
    size_t n = 0;
    for (size_t i = 0; i < bag->nfiles; i++)
        bag->files[i].seen = 0;
    struct stat st;
    int folder_ok = stat(bag->folder, &st) == 0 && S_ISDIR(st.st_mode);
    int rc = folder_ok ? scan_dir(bag, bag->folder, 0, &n) : MLF_OK;
    if (rc != MLF_OK)
        return rc;
    /* forget files that disappeared */
    size_t keep = 0;
    for (size_t i = 0; i < bag->nfiles; i++) {
        if (bag->files[i].seen) {
            bag->files[keep++] = bag->files[i];
        } else {
            file_clear(&bag->files[i]);
            n++;
        }
    }
    bag->nfiles = keep;
    if (changed)
        *changed = n;
    rc = rebuild(bag);
    if (rc == MLF_OK && !folder_ok)
        mlf_diag_add(&bag->errors, bag->folder, 0, 0, "the DAG folder does not exist (set dags_folder or --dags-folder)");
    return rc;
}

size_t mlf_dagbag_count(const mlf_dagbag *bag)
{
    return bag->ndags;
}

const mlf_dag *mlf_dagbag_at(const mlf_dagbag *bag, size_t i)
{
    return i < bag->ndags ? bag->dags[i] : NULL;
}

const mlf_dag *mlf_dagbag_get(const mlf_dagbag *bag, const char *dag_id)
{
    size_t lo = 0, hi = bag->ndags;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(bag->dags[mid]->dag_id, dag_id);
        if (c == 0)
            return bag->dags[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const mlf_diag *mlf_dagbag_errors(const mlf_dagbag *bag)
{
    return &bag->errors;
}

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF)

static void watch_tree(mlf_dagbag *bag, const char *dir, int depth)
{
    if (depth > 32 || inotify_add_watch(bag->watch_fd, dir, WATCH_MASK | IN_ONLYDIR) < 0)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *path = mlf_strdup_printf("%s/%s", dir, de->d_name);
        struct stat st;
        if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            watch_tree(bag, path, depth + 1);
        free(path);
    }
    closedir(d);
}

int mlf_dagbag_watch(mlf_dagbag *bag)
{
    if (bag->watch_fd >= 0)
        return bag->watch_fd;
    bag->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (bag->watch_fd >= 0)
        watch_tree(bag, bag->folder, 0);
    return bag->watch_fd;
}

void mlf_dagbag_set_rescan_interval(mlf_dagbag *bag, int64_t interval_us)
{
    bag->rescan_us = interval_us > 0 ? interval_us : 0;
}

int mlf_dagbag_poll(mlf_dagbag *bag, mlf_time_us now)
{
    int due = bag->watch_fd >= 0 && mlf_dagbag_watch_drain(bag);
    if (!bag->last_rescan)
        bag->last_rescan = now;
    if (bag->rescan_us && now - bag->last_rescan >= bag->rescan_us)
        due = 1;
    if (due)
        bag->last_rescan = now;
    return due;
}

int mlf_dagbag_watch_drain(mlf_dagbag *bag)
{
    if (bag->watch_fd < 0)
        return 1;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int due = 0, new_dirs = 0;
    for (;;) {
        ssize_t n = read(bag->watch_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            due = 1;
            if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
                new_dirs = 1;
            p += sizeof *ev + ev->len;
        }
    }
    if (new_dirs)
        watch_tree(bag, bag->folder, 0); /* re-adding an existing watch is harmless */
    return due;
}
