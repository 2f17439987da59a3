/* plugin_loader.c -- plugin discovery, safety checks and loading with libltdl. */
#include "plugin/plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strutil.h"
#include "sched/cache_key.h"

/* libltdl keeps a global reference count; init once per process and never exit it early. */
static int ltdl_ready(mlf_diag *errors)
{
    static int ready;
    if (!ready) {
        if (lt_dlinit() != 0) {
            mlf_diag_add(errors, NULL, 0, 0, "cannot initialise libltdl: %s", lt_dlerror());
            return 0;
        }
        ready = 1;
    }
    return 1;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Refuses files and folders that another user could replace: writable by group or others, or owned by a
 * user other than us or root. Returns 1 when safe, else 0 with a reason in @p why. */
static int path_is_safe(const char *path, int want_dir, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "cannot stat %s: %s", path, strerror(errno));
        return 0;
    }
    if (want_dir && !S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a directory", path);
        return 0;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, whylen, "refusing %s %s: it is writable by %s (mode %04o); run chmod go-w on it",
                 want_dir ? "plugin folder" : "plugin file", path,
                 (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777));
        return 0;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(why, whylen, "refusing %s %s: it is owned by uid %u, neither root nor this user",
                 want_dir ? "plugin folder" : "plugin file", path, (unsigned)st.st_uid);
        return 0;
    }
    return 1;
}

/* Checks the file, its folder, and for a libtool .la the .libs folder and shared object it points to. */
static int plugin_files_safe(const char *file, char *why, size_t whylen)
{
    char dir[PATH_MAX];
    mlf_strlcpy(dir, file, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        mlf_strlcpy(dir, ".", sizeof dir);
    if (!path_is_safe(file, 0, why, whylen) || !path_is_safe(dir, 1, why, whylen))
        return 0;
    if (mlf_str_endswith(file, ".la")) {
        char *libs = mlf_strdup_printf("%s/.libs", dir);
        struct stat st;
        int ok = !libs || stat(libs, &st) != 0 || path_is_safe(libs, 1, why, whylen);
        free(libs);
        if (!ok)
            return 0;
    }
    return 1;
}

/* Finds NAME.la or NAME.so in the search path. Returns a new path or NULL. */
static char *find_plugin(const char *name, const char *const *paths, size_t npaths)
{
    static const char *const exts[] = {".la", ".so"};
    for (size_t i = 0; i < npaths; i++)
        for (size_t e = 0; e < 2; e++) {
            char *p = mlf_strdup_printf("%s/%s%s", paths[i], name, exts[e]);
            if (p && is_file(p))
                return p;
            free(p);
        }
    return NULL;
}

static void report_not_found(const char *name, const char *const *paths, size_t npaths, mlf_diag *errors)
{
    mlf_buf b = {0};
    for (size_t i = 0; i < npaths; i++)
        mlf_buf_printf(&b, "%s%s/%s.{la,so}", i ? ", " : "", paths[i], name);
    mlf_diag_add(errors, NULL, 0, 0, "plugin '%s' not found; searched: %s", name,
                 npaths ? b.data : "(no plugin directories configured: set plugins.path)");
    mlf_buf_free(&b);
}

static int valid_plugin_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Opens, checks and initialises one plugin file. Returns MLF_OK or an error (reported in errors). */
static int load_one(mlf_catalog *cat, const char *file, mlf_diag *errors)
{
    char why[PATH_MAX + 256];
    if (!plugin_files_safe(file, why, sizeof why)) {
        mlf_diag_add(errors, file, 0, 0, "%s", why);
        return MLF_EPLUGIN;
    }
    lt_dladvise advise;
    lt_dladvise_init(&advise);
    lt_dladvise_local(&advise); /* plugins must not see each other's symbols */
    /* never unmapped, even by lt_dlclose: a library a plugin pulled in (libcurl's TLS stack...) may keep
     * threads, atexit handlers or thread-local blocks that must not outlive their code */
    lt_dladvise_resident(&advise);
    lt_dlhandle h = lt_dlopenadvise(file, advise);
    lt_dladvise_destroy(&advise);
    if (!h) {
        mlf_diag_add(errors, file, 0, 0, "cannot load plugin: %s", lt_dlerror());
        return MLF_EPLUGIN;
    }
    const mlf_plugin_info *info = lt_dlsym(h, MLF_PLUGIN_ENTRY_SYMBOL);
    if (!info) {
        mlf_diag_add(errors, file, 0, 0,
                     "not an mlflowd plugin: it does not export the symbol '%s' (define it with MLF_PLUGIN())",
                     MLF_PLUGIN_ENTRY_SYMBOL);
        lt_dlclose(h);
        return MLF_EPLUGIN;
    }
    if (info->abi_major != MLF_ABI_MAJOR) {
        mlf_diag_add(errors, file, 0, 0,
                     "ABI mismatch: the plugin was built against SDK ABI %u.%u, this mlflowd provides ABI %d.%d; "
                     "rebuild the plugin against this SDK",
                     (unsigned)info->abi_major, (unsigned)info->abi_minor, MLF_ABI_MAJOR, MLF_ABI_MINOR);
        lt_dlclose(h);
        return MLF_EABI;
    }
    /* doc/sdk.md, "The ABI in one paragraph": a plugin built against a newer minor runs here only when it
     * declared (abi_minor_min, ABI 1.2) that it checks MLF_HOST_HAS() for everything after that minor.
     * Before 1.2 the member was reserved and zero: such a plugin needs exactly its abi_minor. */
    uint32_t needs = info->abi_minor >= 2 ? info->abi_minor_min : info->abi_minor;
    if (needs > MLF_ABI_MINOR) {
        mlf_diag_add(errors, file, 0, 0,
                     "ABI mismatch: the plugin was built against SDK ABI %u.%u and needs at least ABI %u.%u, this "
                     "mlflowd provides ABI %d.%d; upgrade mlflowd, or rebuild the plugin against this SDK (or with "
                     "MLF_PLUGIN_ABI_MINOR_MIN %d if it checks MLF_HOST_HAS() before newer calls)",
                     (unsigned)info->abi_major, (unsigned)info->abi_minor, (unsigned)info->abi_major, (unsigned)needs,
                     MLF_ABI_MAJOR, MLF_ABI_MINOR, MLF_ABI_MINOR);
        lt_dlclose(h);
        return MLF_EABI;
    }
    if (info->struct_size < offsetof(mlf_plugin_info, fini) + sizeof info->fini || !info->init) {
        mlf_diag_add(errors, file, 0, 0, "malformed plugin info: struct_size %u, init %s",
                     (unsigned)info->struct_size, info->init ? "set" : "missing");
        lt_dlclose(h);
        return MLF_EPLUGIN;
    }
    if (!valid_plugin_name(info->name)) {
        mlf_diag_add(errors, file, 0, 0, "malformed plugin info: name '%s' must match [a-z0-9_-]{1,64}",
                     info->name ? info->name : "(null)");
        lt_dlclose(h);
        return MLF_EPLUGIN;
    }
    const mlf_plugin *same = mlf_catalog_plugin_by_name(cat, info->name);
    if (same) {
        mlf_diag_add(errors, file, 0, 0, "a plugin named '%s' is already loaded from %s", info->name, same->path);
        lt_dlclose(h);
        return MLF_EEXIST;
    }
    mlf_plugin *p = mlf_catalog_add_plugin(cat, file, info, h);
    if (p) { /* the shared object's content, hashed once here for cache keys (doc/caching.md) */
        Dl_info where;
        const char *so = dladdr(info, &where) && where.dli_fname && *where.dli_fname ? where.dli_fname : file;
        p->has_digest = mlf_cache_file_digest(so, p->digest) == MLF_OK;
    }
    mlf_registry *reg = p ? mlf_registry_begin(cat, p) : NULL;
    if (!reg) {
        mlf_diag_add(errors, file, 0, 0, "out of memory");
        if (p)
            mlf_catalog_drop_last_plugin(cat);
        else
            lt_dlclose(h);
        return MLF_ENOMEM;
    }
    int rc = info->init(mlf_host_table(), reg);
    if (rc != MLF_OK) {
        const char *msg = mlf_registry_message(reg);
        mlf_diag_add(errors, file, 0, 0, "plugin '%s' failed to initialise: %s", info->name,
                     msg ? msg : mlf_strerror(rc));
        mlf_registry_end(reg);
        mlf_catalog_drop_last_plugin(cat);
        return MLF_EPLUGIN;
    }
    rc = mlf_registry_commit(reg, errors);
    mlf_registry_end(reg);
    if (rc != MLF_OK) {
        if (p->info->fini)
            p->info->fini();
        mlf_catalog_drop_last_plugin(cat);
        return rc;
    }
    return MLF_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lists NAME of every NAME.la / NAME.so in @p dir (sorted, .la preferred); appends new paths to @p files
 * unless the name was seen in an earlier directory. */
static void scan_dir(const char *dir, char ***files, size_t *nfiles, char ***seen, size_t *nseen)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.' || !(mlf_str_endswith(nm, ".la") || mlf_str_endswith(nm, ".so")))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(nm)))
            break;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        size_t stem = strlen(names[i]) - 3;
        int dup = 0;
        for (size_t j = 0; j < *nseen && !dup; j++)
            dup = strlen((*seen)[j]) == stem && strncmp((*seen)[j], names[i], stem) == 0;
        if (!dup) {
            char **ns = realloc(*seen, (*nseen + 1) * sizeof *ns);
            char **nf = ns ? realloc(*files, (*nfiles + 1) * sizeof *nf) : NULL;
            if (ns)
                *seen = ns;
            if (nf) {
                *files = nf;
                (*seen)[*nseen] = strndup(names[i], stem);
                (*files)[*nfiles] = mlf_strdup_printf("%s/%s", dir, names[i]);
                if ((*seen)[*nseen] && (*files)[*nfiles]) {
                    (*nseen)++;
                    (*nfiles)++;
                } else {
                    free((*seen)[*nseen]);
                    free((*files)[*nfiles]);
                }
            }
        }
        free(names[i]);
    }
    free(names);
}

int mlf_plugins_load(mlf_catalog *cat, const char *const *paths, size_t npaths, const char *const *names,
                     size_t nnames, mlf_diag *errors)
{
    if (!ltdl_ready(errors))
        return (int)(nnames ? nnames : 1);
    mlf_catalog_set_searched(cat, paths, npaths); /* only for messages: out of memory leaves it empty */
    int refused = 0;
    for (size_t i = 0; i < nnames; i++) {
        if (strcmp(names[i], "*") == 0) {
            char **files = NULL, **seen = NULL;
            size_t nfiles = 0, nseen = 0;
            for (size_t d = 0; d < npaths; d++)
                scan_dir(paths[d], &files, &nfiles, &seen, &nseen);
            for (size_t f = 0; f < nfiles; f++) {
                /* "*" skips what an explicit name already loaded (e.g. ["hello", "*"]). */
                int loaded = 0;
                for (size_t p = 0; p < mlf_catalog_plugin_count(cat) && !loaded; p++)
                    loaded = strcmp(mlf_catalog_plugin_at(cat, p)->path, files[f]) == 0;
                if (!loaded && load_one(cat, files[f], errors) != MLF_OK)
                    refused++;
                free(files[f]);
            }
            for (size_t s = 0; s < nseen; s++)
                free(seen[s]);
            free(files);
            free(seen);
            continue;
        }
        char *file = strchr(names[i], '/') ? strdup(names[i]) : find_plugin(names[i], paths, npaths);
        if (!file) {
            if (strchr(names[i], '/'))
                mlf_diag_add(errors, names[i], 0, 0, "out of memory");
            else
                report_not_found(names[i], paths, npaths, errors);
            refused++;
            continue;
        }
        if (!is_file(file)) {
            mlf_diag_add(errors, file, 0, 0, "plugin file not found");
            refused++;
        } else if (load_one(cat, file, errors) != MLF_OK) {
            refused++;
        }
        free(file);
    }
    return refused;
}
