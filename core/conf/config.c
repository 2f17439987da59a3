/* config.c -- the table of known settings and the loader that merges defaults, file, environment and CLI. */
#include "conf/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "time/duration.h"
#include "base/strutil.h"
#include "base/suggest.h"
#include "conf/yaml_doc.h"

#if !defined(MLF_PLUGINDIR) || !defined(MLF_BUILD_PLUGINDIR) || !defined(MLF_ABS_BUILDDIR) || !defined(MLF_PREFIX) || \
    !defined(MLF_BINDIR)
#error "MLF_PLUGINDIR, MLF_BUILD_PLUGINDIR, MLF_ABS_BUILDDIR, MLF_PREFIX and MLF_BINDIR come from CORE_CPPFLAGS in Makefile.am"
#endif

extern char **environ;

#define ENV_PREFIX "MLFLOWD__"
#define ENV_PREFIX_LEN (sizeof ENV_PREFIX - 1)

/* ------------------------------------------------------------------------------------------ the table */
/* Defaults are written as environment text and parsed by the same code as MLFLOWD__* values. */
static const mlf_config_key keys[] = {
    {.name = "home", .type = MLF_CFG_PATH, .def = "~/.mlflowd",
     .help = "where state, logs, plugins and mlflowd.yaml live (also MLFLOWD_HOME, --home)"},
    {.name = "dags_folder", .type = MLF_CFG_PATH, .def = "{home}/dags",
     .help = "the folder of DAG files (also MLFLOWD_DAGS_FOLDER, --dags-folder)"},
    {.name = "plugins.path", .type = MLF_CFG_PATH_LIST, .def = "{home}/plugins,{plugindir}",
     .help = "directories searched for plugins, in order; {plugindir} is the built-in plugin directory"},
    {.name = "plugins.load", .type = MLF_CFG_LIST, .def = "*",
     .help = "plugins to load by name; [\"*\"] loads every plugin found in plugins.path"},
    {.name = "executor", .type = MLF_CFG_STR, .def = "local",
     .help = "the executor plugin that runs task instances: local, sequential, zmq or another; settings executors.NAME.*"},
    {.name = "parallelism", .type = MLF_CFG_INT, .def = "32", .min = 1, .max = 1000000,
     .help = "most task instances running at once, all DAGs together"},
    {.name = "zmq.bind", .type = MLF_CFG_STR, .def = "tcp://127.0.0.1:5555",
     .help = "the endpoint the scheduler binds for workers (workers use --connect)"},
    {.name = "zmq.heartbeat", .type = MLF_CFG_DURATION, .def = "1s", .min = 10000,
     .help = "interval between heartbeats, both ways"},
    {.name = "zmq.liveness", .type = MLF_CFG_INT, .def = "3", .min = 1, .max = 1000,
     .help = "heartbeats a peer may miss before it counts as gone"},
    {.name = "zmq.curve.enabled", .type = MLF_CFG_ENUM, .def = "auto", .choices = "auto|true|false",
     .help = "CurveZMQ encryption and worker allow-list: auto (on unless zmq.insecure), true, false"},
    {.name = "zmq.curve.secret_key_file", .type = MLF_CFG_PATH, .def = NULL, .nullable = 1,
     .help = "file holding the scheduler's CURVE secret key (Z85); null: none configured"},
    {.name = "zmq.curve.authorized_keys", .type = MLF_CFG_PATH, .def = NULL, .nullable = 1,
     .help = "file of worker public keys (Z85, one per line) allowed to connect; null: none configured"},
    {.name = "zmq.curve.server_public_key_file", .type = MLF_CFG_PATH, .def = NULL, .nullable = 1,
     .help = "workers: file holding the scheduler's CURVE public key; when set, workers connect with CurveZMQ"},
    {.name = "zmq.curve.worker_secret_key_file", .type = MLF_CFG_PATH, .def = NULL, .nullable = 1,
     .help = "workers: file holding this worker's CURVE secret key (its public key must be authorized)"},
    {.name = "zmq.insecure", .type = MLF_CFG_ENUM, .def = "false", .choices = "false|true",
     .help = "true: run the zmq endpoint without CurveZMQ, loopback included (what --insecure sets; logged)"},
    {.name = "events.listen", .type = MLF_CFG_STR, .def = NULL, .nullable = 1,
     .help = "zmq endpoint of the scheduler's event socket (asset events, triggers; CURVE as zmq.bind); null: none"},
    {.name = "api.listen", .type = MLF_CFG_STR, .def = "127.0.0.1:8080",
     .help = "HOST:PORT the HTTP API and web UI listen on"},
    {.name = "scheduler.metrics_listen", .type = MLF_CFG_STR, .def = NULL, .nullable = 1,
     .help = "HOST:PORT of the scheduler's Prometheus /metrics listener (port 0: any); null: none"},
    {.name = "worker.metrics_listen", .type = MLF_CFG_STR, .def = NULL, .nullable = 1,
     .help = "HOST:PORT of a worker's Prometheus /metrics listener (port 0: any); null: none"},
    {.name = "api.tls_cert_file", .type = MLF_CFG_PATH, .def = NULL, .nullable = 1,
     .help = "PEM certificate (chain) for HTTPS; with api.tls_key_file the webserver serves HTTPS only"},
    {.name = "api.tls_key_file", .type = MLF_CFG_PATH, .def = NULL, .nullable = 1,
     .help = "PEM private key of api.tls_cert_file"},
    {.name = "xcom.max_size", .type = MLF_CFG_INT, .def = "49152", .min = 1, .max = 64 * 1024 * 1024,
     .help = "largest XCom value in bytes (msgpack); bigger pushes fail: pass files, not data"},
    {.name = "logging.level", .type = MLF_CFG_ENUM, .def = "info", .choices = "debug|info|warning|error",
     .help = "lowest level of daemon diagnostics written"},
    {.name = "scheduler.dag_dir_list_interval", .type = MLF_CFG_DURATION, .def = "30s", .min = 1000000,
     .help = "how often dags_folder is scanned for new and deleted DAG files"},
    {.name = "core.default_pool_slots", .type = MLF_CFG_INT, .def = "128", .min = 1, .max = 1000000,
     .help = "slots of default_pool, which tasks without a pool use"},
    {.name = "task_hosts.max_tries_per_host", .type = MLF_CFG_INT, .def = "1000", .min = 1, .max = 1000000000,
     .help = "tries a long-lived task host runs before it is replaced; 1: a fresh task-exec process per try"},
    {.name = "task_hosts.max_rss", .type = MLF_CFG_INT, .def = "512", .min = 0, .max = 1048576,
     .help = "MiB of resident memory after which a task host is replaced once its try ends; 0: no limit"},
    {.name = "core.secrets_key_file", .type = MLF_CFG_PATH, .def = "{home}/keys/secrets.key",
     .help = "file (mode 0600) of the key that seals connection secrets and sensitive variables in the store; "
             "made on first start"},
    {.name = "core.secrets_key", .type = MLF_CFG_STR, .def = NULL, .nullable = 1,
     .help = "the secrets key itself (64 hex digits), best set as MLFLOWD__CORE__SECRETS_KEY; null: use the key file"},
    {.name = "retention.runs", .type = MLF_CFG_DURATION, .def = NULL, .nullable = 1, .min = 3600000000LL,
     .help = "db clean deletes finished runs (TIs, XComs, logs) that ended longer ago than this; null: keep"},
    {.name = "retention.logs", .type = MLF_CFG_DURATION, .def = NULL, .nullable = 1, .min = 3600000000LL,
     .help = "db clean deletes task log files older than this, even of runs it keeps; null: keep"},
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])

/* Variables that set a key besides MLFLOWD__SECTION__KEY (doc/architecture.md §7). */
static const struct {
    const char *var;
    const char *key;
} env_aliases[] = {{"MLFLOWD_HOME", "home"}, {"MLFLOWD_DAGS_FOLDER", "dags_folder"}};

size_t mlf_config_key_count(void)
{
    return KEY_COUNT;
}

const mlf_config_key *mlf_config_key_at(size_t i)
{
    return i < KEY_COUNT ? &keys[i] : NULL;
}

static int key_index(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

const mlf_config_key *mlf_config_key_find(const char *name)
{
    int i = name ? key_index(name) : -1;
    return i < 0 ? NULL : &keys[i];
}

const char *mlf_config_type_name(mlf_config_type type)
{
    switch (type) {
    case MLF_CFG_STR: return "string";
    case MLF_CFG_PATH: return "path";
    case MLF_CFG_INT: return "int";
    case MLF_CFG_ENUM: return "enum";
    case MLF_CFG_DURATION: return "duration";
    case MLF_CFG_LIST: return "list";
    case MLF_CFG_PATH_LIST: return "path list";
    }
    return "?";
}

const char *mlf_config_source_name(mlf_config_source source)
{
    switch (source) {
    case MLF_CFG_FROM_DEFAULT: return "default";
    case MLF_CFG_FROM_FILE: return "file";
    case MLF_CFG_FROM_ENV: return "env";
    case MLF_CFG_FROM_CLI: return "cli";
    }
    return "?";
}

/* The built-in plugin folder for an executable in folder @p dir, into @p out (PATH_MAX bytes): 1 found. A
 * build tree (the binary beside libmlfcore.la) has them in DIR/plugins; an installed tree, wherever its
 * prefix was moved, in the configured plugin folder taken relative to the configured bindir. */
static int plugindir_near(const char *dir, char *out)
{
    struct stat st;
    char probe[PATH_MAX];
    if (snprintf(probe, sizeof probe, "%s/libmlfcore.la", dir) < (int)sizeof probe && stat(probe, &st) == 0 &&
        snprintf(out, PATH_MAX, "%s/plugins", dir) < PATH_MAX && stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        return 1;
    size_t pl = strlen(MLF_PREFIX), dl = strlen(dir);
    const char *bin_rel = MLF_BINDIR + pl; /* "/bin" */
    size_t bl = strlen(bin_rel);
    if (strncmp(MLF_BINDIR, MLF_PREFIX, pl) != 0 || strncmp(MLF_PLUGINDIR, MLF_PREFIX, pl) != 0 || dl < bl ||
        strcmp(dir + dl - bl, bin_rel) != 0)
        return 0;
    if (snprintf(out, PATH_MAX, "%.*s%s", (int)(dl - bl), dir, MLF_PLUGINDIR + pl) >= PATH_MAX)
        return 0;
    return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *mlf_config_builtin_plugindir(void)
{
    static char found[PATH_MAX];
    static int done; /* computed once; every thread computes the same text */
    if (done)
        return found[0] ? found : MLF_PLUGINDIR;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        size_t bl = strlen(MLF_ABS_BUILDDIR);
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if (!plugindir_near(exe, found))
                found[0] = '\0';
            /* another program of the build tree (a unit test, a bench) */
            if (!found[0] && strncmp(exe, MLF_ABS_BUILDDIR, bl) == 0 && (exe[bl] == '/' || !exe[bl]))
                snprintf(found, sizeof found, "%s", MLF_BUILD_PLUGINDIR);
        }
    }
    done = 1;
    return found[0] ? found : MLF_PLUGINDIR;
}

/* ------------------------------------------------------------------------------------------ the config */
typedef struct entry {
    mlf_value *value;
    mlf_config_source source;
    char *origin;          /* "default", "FILE:L:C", "MLFLOWD__X", "--home" */
    unsigned line, col;    /* where the file set it (0: not in the file) */
} entry;

/* One executors.NAME.KEY setting, kept as YAML text until the executor plugins are loaded (they declare
 * what is valid: see mlf_config_executor_setting_at()). */
typedef struct exec_setting {
    char *name;   /* "executors.local.parallelism" */
    char *text;   /* YAML: the scalar as written, or JSON for a sequence or mapping */
    char *origin; /* "FILE:L:C" or "MLFLOWD__EXECUTORS__LOCAL__PARALLELISM" */
    mlf_config_source source;
} exec_setting;

struct mlf_config {
    entry entries[KEY_COUNT];
    exec_setting *exec;
    size_t nexec;
    char *file;
    const char **plugin_path;
    size_t n_plugin_path;
    const char **plugin_load;
    size_t n_plugin_load;
};

void mlf_config_free(mlf_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        mlf_value_free(cfg->entries[i].value);
        free(cfg->entries[i].origin);
    }
    for (size_t i = 0; i < cfg->nexec; i++) {
        free(cfg->exec[i].name);
        free(cfg->exec[i].text);
        free(cfg->exec[i].origin);
    }
    free(cfg->exec);
    free(cfg->file);
    free(cfg->plugin_path);
    free(cfg->plugin_load);
    free(cfg);
}

static const entry *find_entry(const mlf_config *cfg, const char *key)
{
    int i = key ? key_index(key) : -1;
    return i < 0 ? NULL : &cfg->entries[i];
}

const mlf_value *mlf_config_get(const mlf_config *cfg, const char *key)
{
    const entry *e = find_entry(cfg, key);
    return e ? e->value : NULL;
}

const char *mlf_config_str(const mlf_config *cfg, const char *key)
{
    return mlf_value_get_str(mlf_config_get(cfg, key), NULL);
}

int64_t mlf_config_duration_us(const mlf_config *cfg, const char *key)
{
    const mlf_config_key *k = mlf_config_key_find(key);
    const char *s = mlf_config_str(cfg, key);
    int64_t us = 0;
    if (!k || k->type != MLF_CFG_DURATION || !s || mlf_duration_parse(s, &us, NULL, 0) != MLF_OK)
        return 0;
    return us;
}

int64_t mlf_config_int(const mlf_config *cfg, const char *key)
{
    int64_t v = 0;
    if (mlf_value_get_int(mlf_config_get(cfg, key), &v) != MLF_OK)
        return 0;
    return v;
}

mlf_config_source mlf_config_source_of(const mlf_config *cfg, const char *key)
{
    const entry *e = find_entry(cfg, key);
    return e ? e->source : MLF_CFG_FROM_DEFAULT;
}

const char *mlf_config_origin(const mlf_config *cfg, const char *key)
{
    const entry *e = find_entry(cfg, key);
    return e ? e->origin : NULL;
}

const char *mlf_config_file(const mlf_config *cfg)
{
    return cfg->file;
}

const char *mlf_config_home(const mlf_config *cfg)
{
    return mlf_config_str(cfg, "home");
}

const char *mlf_config_dags_folder(const mlf_config *cfg)
{
    return mlf_config_str(cfg, "dags_folder");
}

const char *const *mlf_config_plugin_path(const mlf_config *cfg, size_t *n)
{
    *n = cfg->n_plugin_path;
    return cfg->plugin_path;
}

const char *const *mlf_config_plugin_load(const mlf_config *cfg, size_t *n)
{
    *n = cfg->n_plugin_load;
    return cfg->plugin_load;
}

size_t mlf_config_executor_setting_count(const mlf_config *cfg)
{
    return cfg ? cfg->nexec : 0;
}

int mlf_config_executor_setting_at(const mlf_config *cfg, size_t i, const char **name, const char **text,
                                   const char **origin)
{
    if (!cfg || i >= cfg->nexec)
        return MLF_ENOTFOUND;
    *name = cfg->exec[i].name;
    *text = cfg->exec[i].text;
    *origin = cfg->exec[i].origin;
    return MLF_OK;
}

int mlf_config_plugin_load_all(const mlf_config *cfg)
{
    return cfg->n_plugin_load == 1 && strcmp(cfg->plugin_load[0], "*") == 0;
}

/* ------------------------------------------------------------------------------------------ loading */
typedef struct loadctx {
    mlf_config *cfg;
    const char *const *envp;
    const char *names[KEY_COUNT]; /* candidates for "did you mean" */
    mlf_buf errs;
    int rc; /* the first error's code */
} loadctx;

static void note_rc(loadctx *C, int rc)
{
    if (!C->rc)
        C->rc = rc;
}

static void add_error(loadctx *C, int rc, const char *fmt, ...) MLF_PRINTF(3, 4);
static void add_error(loadctx *C, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (mlf_buf_vprintf(&C->errs, fmt, ap) != MLF_OK || mlf_buf_puts(&C->errs, "\n") != MLF_OK)
        rc = MLF_ENOMEM;
    va_end(ap);
    note_rc(C, rc);
}

#define NODE_ERROR(C, rc, node, ...)                                                                               \
    do {                                                                                                           \
        note_rc(C, mlf_yaml_errorf(&(C)->errs, node, __VA_ARGS__) ? MLF_ENOMEM : (rc));                          \
    } while (0)

static const char *env_get(const char *const *envp, const char *name)
{
    size_t nl = strlen(name);
    for (; *envp; envp++)
        if (strncmp(*envp, name, nl) == 0 && (*envp)[nl] == '=')
            return *envp + nl + 1;
    return NULL;
}

/* An environment value, or NULL when unset or empty. */
static const char *env_nonempty(const char *const *envp, const char *name)
{
    const char *v = env_get(envp, name);
    return v && *v ? v : NULL;
}

/* What a key's values must be, for messages: "expected <this>, got ...". */
static void describe_expected(const mlf_config_key *k, char *out, size_t size)
{
    switch (k->type) {
    case MLF_CFG_INT: snprintf(out, size, "an integer"); return;
    case MLF_CFG_DURATION: snprintf(out, size, "a duration such as 30s, 5m or 1h30m"); return;
    case MLF_CFG_LIST:
    case MLF_CFG_PATH_LIST: snprintf(out, size, "a list of strings"); return;
    case MLF_CFG_ENUM: {
        size_t o = (size_t)snprintf(out, size, "one of ");
        for (const char *c = k->choices; *c && o + 3 < size; c++) {
            if (*c == '|') {
                out[o++] = ',';
                out[o++] = ' ';
            } else {
                out[o++] = *c;
            }
        }
        out[o < size ? o : size - 1] = '\0';
        return;
    }
    default: snprintf(out, size, "a string"); return;
    }
}

/* The choice of @p k's choices equal to @p s ignoring case, copied into @p out; 0 if none. */
static int enum_choice(const mlf_config_key *k, const char *s, char *out, size_t size)
{
    size_t sl = strlen(s);
    for (const char *c = k->choices; *c;) {
        size_t cl = strcspn(c, "|");
        if (cl == sl && strncasecmp(c, s, sl) == 0 && cl < size) {
            memcpy(out, c, cl);
            out[cl] = '\0';
            return 1;
        }
        c += cl;
        if (*c == '|')
            c++;
    }
    return 0;
}

/* Checks string @p s for a scalar key @p k; returns a new str value, or NULL with @p why filled. */
static mlf_value *string_value(const mlf_config_key *k, const char *s, char *why, size_t whylen)
{
    char expected[128];
    describe_expected(k, expected, sizeof expected);
    if (!*s) {
        snprintf(why, whylen, "expected %s, got an empty string", expected);
        return NULL;
    }
    if (k->type == MLF_CFG_ENUM) {
        char choice[64];
        if (!enum_choice(k, s, choice, sizeof choice)) {
            snprintf(why, whylen, "expected %s, got '%.64s'", expected, s);
            return NULL;
        }
        return mlf_value_str(choice);
    }
    if (k->type == MLF_CFG_DURATION) {
        int64_t us;
        if (mlf_duration_parse(s, &us, why, whylen) != MLF_OK)
            return NULL;
        if (us < k->min) {
            char have[MLF_DURATION_FMT_MAX], least[MLF_DURATION_FMT_MAX];
            mlf_duration_format(us, have, sizeof have);
            mlf_duration_format(k->min, least, sizeof least);
            snprintf(why, whylen, "%s is less than the minimum of %s", have, least);
            return NULL;
        }
    }
    return mlf_value_str(s);
}

#define WHY_OOM "out of memory"

/* Parses environment-style @p text for @p k into a new value; NULL with @p why filled on error. */
static mlf_value *value_from_text(const mlf_config_key *k, const char *text, char *why, size_t whylen)
{
    if (!text && !k->nullable) {
        snprintf(why, whylen, "must be set");
        return NULL;
    }
    if (!text || (!*text && k->nullable))
        return mlf_value_nil();
    mlf_value *v = NULL;
    if (k->type == MLF_CFG_INT) {
        char *end;
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (!*text || *end || isspace((unsigned char)*text)) {
            snprintf(why, whylen, "expected an integer, got '%.64s'", text);
            return NULL;
        }
        if (errno == ERANGE || n < k->min || n > k->max) {
            snprintf(why, whylen, "%.64s is out of range [%lld, %lld]", text, (long long)k->min,
                     (long long)k->max);
            return NULL;
        }
        v = mlf_value_int(n);
    } else if (k->type == MLF_CFG_LIST || k->type == MLF_CFG_PATH_LIST) {
        v = mlf_value_array();
        for (const char *p = text; v && *p;) {
            size_t n = strcspn(p, ",");
            const char *a = p, *b = p + n;
            while (a < b && isspace((unsigned char)*a))
                a++;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            if (b > a && mlf_array_append(v, mlf_value_strn(a, (size_t)(b - a))) != MLF_OK) {
                mlf_value_free(v);
                v = NULL;
            }
            p += n;
            if (*p == ',')
                p++;
        }
    } else {
        return string_value(k, text, why, whylen);
    }
    if (!v)
        snprintf(why, whylen, WHY_OOM);
    return v;
}

/* Why str value @p v cannot be a setting's string ("an empty string", ...), or NULL when it can. */
static const char *string_problem(const mlf_value *v)
{
    size_t len = 0;
    const char *s = mlf_value_get_str(v, &len);
    if (!len)
        return "an empty string";
    if (strlen(s) != len)
        return "a string with a NUL character";
    return NULL;
}

/* Converts list node @p node for key @p k into a new array, or reports positioned errors and returns NULL. */
static mlf_value *list_from_node(loadctx *C, const mlf_config_key *k, const mlf_yaml_node *node)
{
    if (node->kind != MLF_YAML_SEQUENCE) {
        NODE_ERROR(C, MLF_EINVAL, node, "%s: expected a list of strings, got %s", k->name, mlf_yaml_describe(node));
        return NULL;
    }
    mlf_value *arr = mlf_value_array();
    int bad = !arr;
    for (size_t i = 0; i < node->n; i++) {
        const mlf_yaml_node *item = node->items[i];
        mlf_value *v = NULL;
        char err[512];
        int rc = item->kind == MLF_YAML_SCALAR ? mlf_yaml_scalar_to_value(item, &v, err, sizeof err) : MLF_OK;
        const char *problem = NULL;
        if (rc) {
            add_error(C, rc, "%s", err);
        } else if (mlf_value_type(v) != MLF_STR || (problem = string_problem(v))) {
            NODE_ERROR(C, MLF_EINVAL, item, "%s[%zu]: expected a non-empty string, got %s", k->name, i,
                       problem ? problem : mlf_yaml_describe(item));
        } else if (!bad) {
            if (mlf_array_append(arr, v) != MLF_OK) { /* which took v, even on failure */
                note_rc(C, MLF_ENOMEM);
                bad = 1;
            }
            continue;
        }
        mlf_value_free(v);
        bad = 1;
    }
    if (bad) {
        mlf_value_free(arr);
        return NULL;
    }
    return arr;
}

/* Converts file node @p node for key @p k into a new value, or reports positioned errors and returns NULL. */
static mlf_value *value_from_node(loadctx *C, const mlf_config_key *k, const mlf_yaml_node *node)
{
    if (k->type == MLF_CFG_LIST || k->type == MLF_CFG_PATH_LIST)
        return list_from_node(C, k, node);
    char expected[128], err[512], why[256];
    describe_expected(k, expected, sizeof expected);
    const char *what = mlf_yaml_describe(node);
    if (node->kind != MLF_YAML_SCALAR || !strcmp(what, "null") ||
        (k->type == MLF_CFG_DURATION && !strcmp(what, "bool"))) {
        if (k->nullable && !strcmp(what, "null"))
            return mlf_value_nil();
        NODE_ERROR(C, MLF_EINVAL, node, "%s: expected %s, got %s", k->name, expected, what);
        return NULL;
    }
    mlf_value *v = NULL;
    int rc = mlf_yaml_scalar_to_value(node, &v, err, sizeof err);
    if (rc) {
        add_error(C, rc, "%s", err);
        return NULL;
    }
    mlf_value *out = NULL;
    const char *problem = NULL;
    if (k->type == MLF_CFG_INT) {
        int64_t n;
        if (mlf_value_get_int(v, &n) != MLF_OK)
            NODE_ERROR(C, MLF_EINVAL, node, "%s: expected %s, got %s", k->name, expected, what);
        else if (n < k->min || n > k->max)
            NODE_ERROR(C, MLF_EINVAL, node, "%s: %lld is out of range [%lld, %lld]", k->name, (long long)n,
                       (long long)k->min, (long long)k->max);
        else
            return v;
    } else if (k->type != MLF_CFG_ENUM && k->type != MLF_CFG_DURATION && mlf_value_type(v) != MLF_STR) {
        NODE_ERROR(C, MLF_EINVAL, node, "%s: expected %s, got %s", k->name, expected, what);
    } else if (mlf_value_type(v) == MLF_STR && (problem = string_problem(v))) {
        NODE_ERROR(C, MLF_EINVAL, node, "%s: expected %s, got %s", k->name, expected, problem);
    } else if (!(out = string_value(k, node->text, why, sizeof why))) {
        /* Enums and durations read the text as written: `enabled: true` is the choice "true" whatever YAML
         * resolves it to, and `heartbeat: 90` is 90 seconds. */
        NODE_ERROR(C, MLF_EINVAL, node, "%s: %s", k->name, why);
    }
    mlf_value_free(v);
    return out;
}

/* Replaces entry @p i's value (ownership of @p v taken). Returns MLF_OK or MLF_ENOMEM. */
static int set_entry(loadctx *C, size_t i, mlf_value *v, mlf_config_source source, char *origin)
{
    entry *e = &C->cfg->entries[i];
    if (!origin) {
        mlf_value_free(v);
        note_rc(C, MLF_ENOMEM);
        return MLF_ENOMEM;
    }
    mlf_value_free(e->value);
    free(e->origin);
    e->value = v;
    e->source = source;
    e->origin = origin;
    return MLF_OK;
}

static void load_defaults(loadctx *C)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        char why[256];
        mlf_value *v = value_from_text(&keys[i], keys[i].def, why, sizeof why);
        if (!v) {
            add_error(C, MLF_EINVAL, "default: %s: %s", keys[i].name, why); /* a bug in the table */
            continue;
        }
        set_entry(C, i, v, MLF_CFG_FROM_DEFAULT, strdup("default"));
    }
}

/* ------------------------------------------------------------------------------------------ executors.* */
#define EXEC_SECTION "executors"

#define OP_SECTION "operators"

/* 3 for "executors.NAME.KEY", 2 for "executors.NAME", 1 for "executors", 0 for anything else; the same for
 * "operators" (operator plugins' settings, kept in the same list and checked by plugin/operators.h). */
static int exec_depth(const char *full)
{
    size_t sl = strlen(EXEC_SECTION);
    if (strncmp(full, EXEC_SECTION, sl) != 0)
        sl = strncmp(full, OP_SECTION, strlen(OP_SECTION)) == 0 ? strlen(OP_SECTION) : 0;
    if (!sl || (full[sl] != '\0' && full[sl] != '.'))
        return 0;
    if (!full[sl])
        return 1;
    const char *name = full + sl + 1;
    return *name && !strchr(name, '.') ? 2 : 3;
}

/* Records (or replaces: a later source wins) executors setting @p name. Takes @p text and @p origin. */
static void exec_setting_set(loadctx *C, const char *name, char *text, char *origin, mlf_config_source source)
{
    mlf_config *cfg = C->cfg;
    char *copy = strdup(name);
    exec_setting *v = copy && text && origin ? realloc(cfg->exec, (cfg->nexec + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        free(text);
        free(origin);
        note_rc(C, MLF_ENOMEM);
        return;
    }
    cfg->exec = v;
    for (size_t i = 0; i < cfg->nexec; i++)
        if (strcmp(v[i].name, name) == 0) {
            if (v[i].source == source && source == MLF_CFG_FROM_FILE)
                add_error(C, MLF_EINVAL, "%s: %s is set twice (first at %s)", origin, name, v[i].origin);
            free(copy);
            free(v[i].text);
            free(v[i].origin);
            v[i].text = text;
            v[i].origin = origin;
            v[i].source = source;
            return;
        }
    v[cfg->nexec++] = (exec_setting){.name = copy, .text = text, .origin = origin, .source = source};
}

/* A file value under executors.NAME: its YAML text (a scalar as written, else JSON). */
static void exec_file_setting(loadctx *C, const char *full, const mlf_yaml_node *val)
{
    char *text = NULL;
    if (val->kind == MLF_YAML_SCALAR) {
        text = strdup(val->text);
    } else {
        mlf_value *v = NULL;
        char err[512];
        if (mlf_yaml_node_to_value(val, &v, err, sizeof err) != MLF_OK) {
            NODE_ERROR(C, MLF_EINVAL, val, "%s: %s", full, err);
            return;
        }
        mlf_value_to_json(v, &text);
        mlf_value_free(v);
    }
    exec_setting_set(C, full, text, mlf_strdup_printf("%s:%u:%u", val->source ? val->source : "", val->line, val->col),
                     MLF_CFG_FROM_FILE);
}

/* ------------------------------------------------------------------------------------------ the file */
static int is_section(const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strncmp(keys[i].name, name, nl) == 0 && keys[i].name[nl] == '.')
            return 1;
    return 0;
}

static void file_setting(loadctx *C, size_t i, const mlf_yaml_node *key, const mlf_yaml_node *val)
{
    entry *e = &C->cfg->entries[i];
    if (e->line) {
        NODE_ERROR(C, MLF_EINVAL, key, "%s is set twice (first at %u:%u)", keys[i].name, e->line, e->col);
        return;
    }
    e->line = key->line; /* even when the value is bad: a second setting is still reported */
    e->col = key->col;
    mlf_value *v = value_from_node(C, &keys[i], val);
    if (v)
        set_entry(C, i, v, MLF_CFG_FROM_FILE,
                  mlf_strdup_printf("%s:%u:%u", val->source ? val->source : "", val->line, val->col));
}

static void walk_file(loadctx *C, const mlf_yaml_node *map, const char *prefix)
{
    for (size_t i = 0; i < map->n; i++) {
        const mlf_yaml_node *key = map->items[i], *val = map->values[i];
        char *full = prefix ? mlf_strdup_printf("%s.%s", prefix, key->text) : strdup(key->text);
        if (!full) {
            note_rc(C, MLF_ENOMEM);
            return;
        }
        int k = key_index(full);
        int ed = exec_depth(full);
        if (k >= 0) {
            file_setting(C, (size_t)k, key, val);
        } else if (ed == 3) { /* executors.NAME.KEY: checked once the executor plugins are loaded */
            exec_file_setting(C, full, val);
        } else if (ed && val->kind == MLF_YAML_MAPPING) {
            walk_file(C, val, full);
        } else if (ed) {
            if (!mlf_yaml_is_null(val))
                NODE_ERROR(C, MLF_EINVAL, val, "%s: expected a mapping of %s, got %s", full,
                           ed == 1 ? "plugin names to their settings" : "settings", mlf_yaml_describe(val));
        } else if (val->kind == MLF_YAML_MAPPING && (val->n > 0 || is_section(full))) {
            /* An unknown section still gets walked, so that each of its keys gets its own suggestion. */
            walk_file(C, val, full);
        } else if (is_section(full)) {
            if (!mlf_yaml_is_null(val)) /* a section left empty is fine */
                NODE_ERROR(C, MLF_EINVAL, val, "%s: expected a mapping of settings, got %s", full,
                           mlf_yaml_describe(val));
        } else {
            const char *hint = mlf_suggest(full, C->names, KEY_COUNT);
            if (hint)
                NODE_ERROR(C, MLF_EINVAL, key, "unknown setting '%s' (did you mean '%s'?)", full, hint);
            else
                NODE_ERROR(C, MLF_EINVAL, key, "unknown setting '%s'", full);
        }
        free(full);
    }
}

/* Finds the file to read: --config or MLFLOWD_CONFIG (which must exist), or mlflowd.yaml in the home known
 * before reading any file, when it exists. Returns a new path or NULL (no file). */
static char *find_file(loadctx *C, const mlf_config_args *args, const char *user_home)
{
    if (args && args->config_file)
        return strdup(args->config_file);
    const char *env = env_nonempty(C->envp, "MLFLOWD_CONFIG");
    if (env)
        return strdup(env);
    const char *home = args && args->home && *args->home ? args->home : NULL;
    if (!home)
        home = env_nonempty(C->envp, ENV_PREFIX "HOME");
    if (!home)
        home = env_nonempty(C->envp, "MLFLOWD_HOME");
    char *path;
    if (home && !(home[0] == '~' && (home[1] == '\0' || home[1] == '/')))
        path = mlf_strdup_printf("%s/%s", home, MLF_CONFIG_FILE_NAME);
    else if (user_home)
        path = mlf_strdup_printf("%s%s/%s", user_home, home ? home + 1 : "/.mlflowd", MLF_CONFIG_FILE_NAME);
    else
        return NULL; /* no way to name a default home: the error comes when home is expanded */
    if (!path) {
        note_rc(C, MLF_ENOMEM);
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        free(path);
        return NULL;
    }
    return path;
}

static void load_file(loadctx *C, const mlf_config_args *args, const char *user_home)
{
    char *path = find_file(C, args, user_home);
    if (!path)
        return;
    mlf_yaml_doc *doc = NULL;
    char err[1024];
    int rc = mlf_yaml_load_file(path, NULL, &doc, err, sizeof err);
    if (rc) {
        add_error(C, rc, "%s", err);
        free(path);
        return;
    }
    C->cfg->file = path;
    const mlf_yaml_node *root = mlf_yaml_root(doc);
    if (root->kind == MLF_YAML_MAPPING)
        walk_file(C, root, NULL);
    else if (!mlf_yaml_is_null(root)) /* an empty file is fine */
        NODE_ERROR(C, MLF_EINVAL, root, "expected a mapping of settings, got %s", mlf_yaml_describe(root));
    mlf_yaml_free(doc);
}

/* ------------------------------------------------------------------------------------------ environment */
static void env_setting(loadctx *C, size_t i, const char *var, const char *text)
{
    char why[256];
    mlf_value *v = value_from_text(&keys[i], text, why, sizeof why);
    if (!v) {
        add_error(C, MLF_EINVAL, "%s: %s: %s", var, keys[i].name, why);
        return;
    }
    const entry *e = &C->cfg->entries[i];
    if (e->source == MLF_CFG_FROM_ENV && !mlf_value_equal(e->value, v)) {
        add_error(C, MLF_EINVAL, "%s: disagrees with %s (set only one)", var, e->origin);
        mlf_value_free(v);
        return;
    }
    set_entry(C, i, v, MLF_CFG_FROM_ENV, strdup(var));
}

/* "MLFLOWD__ZMQ__CURVE__ENABLED" -> "zmq.curve.enabled" (new string). */
static char *env_to_key(const char *name, size_t len)
{
    char *key = malloc(len + 1);
    if (!key)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '_' && i + 1 < len && name[i + 1] == '_') {
            key[o++] = '.';
            i++;
        } else {
            key[o++] = (char)tolower((unsigned char)name[i]);
        }
    }
    key[o] = '\0';
    return key;
}

/* "zmq.curve.enabled" -> "MLFLOWD__ZMQ__CURVE__ENABLED" (new string). */
static char *key_to_env(const char *key)
{
    mlf_buf b = {0};
    int rc = mlf_buf_puts(&b, ENV_PREFIX);
    for (const char *p = key; !rc && *p; p++)
        rc = *p == '.' ? mlf_buf_puts(&b, "__") : mlf_buf_printf(&b, "%c", toupper((unsigned char)*p));
    if (rc) {
        mlf_buf_free(&b);
        return NULL;
    }
    return mlf_buf_steal(&b);
}

static void load_env(loadctx *C)
{
    for (size_t a = 0; a < sizeof env_aliases / sizeof env_aliases[0]; a++) {
        const char *text = env_nonempty(C->envp, env_aliases[a].var);
        if (text)
            env_setting(C, (size_t)key_index(env_aliases[a].key), env_aliases[a].var, text);
    }
    for (const char *const *p = C->envp; *p; p++) {
        if (strncmp(*p, ENV_PREFIX, ENV_PREFIX_LEN) != 0)
            continue;
        const char *eq = strchr(*p, '=');
        if (!eq)
            continue;
        size_t var_len = (size_t)(eq - *p);
        char *var = strndup(*p, var_len);
        char *key = env_to_key(*p + ENV_PREFIX_LEN, var_len - ENV_PREFIX_LEN);
        if (!var || !key) {
            note_rc(C, MLF_ENOMEM);
        } else if (key_index(key) >= 0) {
            env_setting(C, (size_t)key_index(key), var, eq + 1);
        } else if (exec_depth(key) == 3) {
            exec_setting_set(C, key, strdup(eq + 1), strdup(var), MLF_CFG_FROM_ENV);
        } else {
            const char *hint = mlf_suggest(key, C->names, KEY_COUNT);
            char *hint_var = hint ? key_to_env(hint) : NULL;
            if (hint_var)
                add_error(C, MLF_EINVAL, "%s: unknown setting '%s' (did you mean %s?)", var, key, hint_var);
            else
                add_error(C, MLF_EINVAL, "%s: unknown setting '%s'", var, key);
            free(hint_var);
        }
        free(var);
        free(key);
    }
}

/* ------------------------------------------------------------------------------------------ command line */
static void cli_setting(loadctx *C, const char *key, const char *flag, const char *text)
{
    if (!text)
        return;
    size_t i = (size_t)key_index(key);
    char why[256];
    mlf_value *v = value_from_text(&keys[i], text, why, sizeof why);
    if (!v)
        add_error(C, MLF_EINVAL, "%s: %s", flag, why);
    else
        set_entry(C, i, v, MLF_CFG_FROM_CLI, strdup(flag));
}

/* ------------------------------------------------------------------------------------------ expansion */
/* A new copy of @p s with "{home}" and "{plugindir}" replaced and, for paths, a leading "~" made $HOME.
 * Returns NULL with @p why filled on error. */
static char *expand(const char *s, const char *home, const char *user_home, int is_path, char *why,
                    size_t whylen)
{
    mlf_buf b = {0};
    int rc = MLF_OK;
    if (is_path && s[0] == '~' && (s[1] == '\0' || s[1] == '/')) {
        if (!user_home) {
            snprintf(why, whylen, "cannot expand '~': HOME is not set");
            return NULL;
        }
        rc = mlf_buf_puts(&b, user_home);
        s++;
    }
    while (!rc && *s) {
        if (strncmp(s, "{home}", 6) == 0) {
            rc = mlf_buf_puts(&b, home);
            s += 6;
        } else if (strncmp(s, "{plugindir}", 11) == 0) {
            rc = mlf_buf_puts(&b, mlf_config_builtin_plugindir());
            s += 11;
        } else {
            rc = mlf_buf_append(&b, s, 1);
            s++;
        }
    }
    if (rc) {
        mlf_buf_free(&b);
        snprintf(why, whylen, WHY_OOM);
        return NULL;
    }
    return mlf_buf_steal(&b);
}

/* Expands entry @p i in place; returns MLF_OK or the error it reported. */
static int expand_entry(loadctx *C, size_t i, const char *home, const char *user_home)
{
    const mlf_config_key *k = &keys[i];
    entry *e = &C->cfg->entries[i];
    int is_path = k->type == MLF_CFG_PATH || k->type == MLF_CFG_PATH_LIST;
    char why[256];
    if (mlf_value_type(e->value) == MLF_STR) {
        char *s = expand(mlf_value_get_str(e->value, NULL), home, user_home, is_path, why, sizeof why);
        mlf_value *v = s ? mlf_value_str(s) : NULL;
        free(s);
        if (!v) {
            int rc = s ? MLF_ENOMEM : MLF_EINVAL;
            add_error(C, rc, "%s: %s: %s", e->origin, k->name, s ? WHY_OOM : why);
            return rc;
        }
        mlf_value_free(e->value);
        e->value = v;
    } else if (mlf_value_type(e->value) == MLF_ARRAY) {
        mlf_value *arr = mlf_value_array();
        for (size_t j = 0; arr && j < mlf_value_len(e->value); j++) {
            char *s = expand(mlf_value_get_str(mlf_array_at(e->value, j), NULL), home, user_home, is_path, why,
                             sizeof why);
            if (!s) {
                add_error(C, MLF_EINVAL, "%s: %s[%zu]: %s", e->origin, k->name, j, why);
                mlf_value_free(arr);
                return MLF_EINVAL;
            }
            if (mlf_array_append(arr, mlf_value_str(s)) != MLF_OK) {
                mlf_value_free(arr);
                arr = NULL;
            }
            free(s);
        }
        if (!arr) {
            note_rc(C, MLF_ENOMEM);
            return MLF_ENOMEM;
        }
        mlf_value_free(e->value);
        e->value = arr;
    }
    return MLF_OK;
}

/* Expands home itself first (it may use "~" but not "{home}"), then every other string. */
static void expand_all(loadctx *C, const char *user_home)
{
    size_t h = (size_t)key_index("home");
    const entry *he = &C->cfg->entries[h];
    const char *raw = mlf_value_get_str(he->value, NULL);
    if (!raw)
        return; /* already reported */
    if (strstr(raw, "{home}")) {
        add_error(C, MLF_EINVAL, "%s: home: cannot refer to {home}", he->origin);
        return;
    }
    if (expand_entry(C, h, NULL, user_home) != MLF_OK)
        return;
    char *home_copy = strdup(mlf_value_get_str(he->value, NULL));
    if (!home_copy) {
        note_rc(C, MLF_ENOMEM);
        return;
    }
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (i != h)
            expand_entry(C, i, home_copy, user_home);
    free(home_copy);
}

/* Builds the borrowed string arrays of a list setting. */
static int list_view(const mlf_value *arr, const char ***out, size_t *n)
{
    size_t len = mlf_value_len(arr);
    *out = calloc(len + 1, sizeof **out);
    if (!*out)
        return MLF_ENOMEM;
    for (size_t i = 0; i < len; i++)
        (*out)[i] = mlf_value_get_str(mlf_array_at(arr, i), NULL);
    *n = len;
    return MLF_OK;
}

static void finish_plugins(loadctx *C)
{
    mlf_config *cfg = C->cfg;
    const entry *load = &cfg->entries[key_index("plugins.load")];
    if (list_view(cfg->entries[key_index("plugins.path")].value, &cfg->plugin_path, &cfg->n_plugin_path) ||
        list_view(load->value, &cfg->plugin_load, &cfg->n_plugin_load)) {
        note_rc(C, MLF_ENOMEM);
        return;
    }
    for (size_t i = 0; i < cfg->n_plugin_load; i++)
        if (strcmp(cfg->plugin_load[i], "*") == 0 && cfg->n_plugin_load > 1) {
            add_error(C, MLF_EINVAL, "%s: plugins.load: \"*\" (every plugin) cannot be combined with names",
                      load->origin);
            return;
        }
}

/* $HOME, else the password database; a new string or NULL. */
static char *user_home_dir(const char *const *envp)
{
    const char *h = env_nonempty(envp, "HOME");
    if (h)
        return strdup(h);
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t bufsize = size > 0 ? (size_t)size : 16384;
    char *buf = malloc(bufsize);
    struct passwd pw, *res = NULL;
    char *dir = NULL;
    if (buf && getpwuid_r(getuid(), &pw, buf, bufsize, &res) == 0 && res && res->pw_dir && *res->pw_dir)
        dir = strdup(res->pw_dir);
    free(buf);
    return dir;
}

int mlf_config_load(const mlf_config_args *args, mlf_config **out, char **errors)
{
    if (errors)
        *errors = NULL;
    if (!out)
        return MLF_EINVAL;
    *out = NULL;
    loadctx C = {0};
    C.envp = args && args->envp ? args->envp : (const char *const *)environ;
    for (size_t i = 0; i < KEY_COUNT; i++)
        C.names[i] = keys[i].name;
    C.cfg = calloc(1, sizeof *C.cfg);
    char *user_home = user_home_dir(C.envp);
    if (!C.cfg) {
        free(user_home);
        return MLF_ENOMEM;
    }
    load_defaults(&C);
    load_file(&C, args, user_home);
    load_env(&C);
    if (args) {
        cli_setting(&C, "home", "--home", args->home);
        cli_setting(&C, "dags_folder", "--dags-folder", args->dags_folder);
    }
    /* Entries always hold valid values (defaults where a source was wrong), so these checks run even
     * after errors, to report everything at once. */
    expand_all(&C, user_home);
    finish_plugins(&C);
    free(user_home);
    if (C.rc) {
        if (errors)
            *errors = C.errs.data ? mlf_buf_steal(&C.errs) : strdup(mlf_strerror(C.rc));
        mlf_buf_free(&C.errs);
        mlf_config_free(C.cfg);
        return C.rc;
    }
    mlf_buf_free(&C.errs);
    *out = C.cfg;
    return MLF_OK;
}
