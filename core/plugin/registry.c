/* registry.c -- staging and committing plugin registrations; the catalog of everything registered. */
#include "plugin/registry.h"

#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

const char *const mlf_core_task_keys[] = {
    "operator", "upstream", "trigger_rule", "retries", "retry_delay", "retry_exponential_backoff",
    "max_retry_delay", "execution_timeout", "depends_on_past", "wait_for_downstream", "pool", "pool_slots",
    "queue", "priority_weight", "weight_rule", "expand", "group", "doc", "on_failure_callback",
    "on_success_callback", "on_retry_callback", "owner", "email", "setup", "teardown", "teardowns",
    "on_failure_fail_dagrun",
    "cache", /* cached results (doc/caching.md) */
    "outlets", /* assets (doc/assets.md) */
    "executor_config", /* per-executor task settings (doc/executors/slurm.md) */
    NULL};

const mlf_param_spec mlf_sensor_params[] = {
    {.name = "mode", .type = MLF_PARAM_ENUM, .default_value = "poke", .choices = "poke|reschedule",
     .help = "poke holds a worker slot between pokes; reschedule frees it (state up_for_reschedule)"},
    {.name = "poke_interval", .type = MLF_PARAM_DURATION, .default_value = "60s",
     .help = "time between pokes"},
    {.name = "timeout", .type = MLF_PARAM_DURATION, .default_value = "7d",
     .help = "total time allowed across pokes and reschedules; then the sensor fails without retry"},
    {.name = "soft_fail", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "on timeout, mark the task skipped instead of failed"},
    {.name = "exponential_backoff", .type = MLF_PARAM_BOOL, .default_value = "false",
     .help = "grow the interval between pokes exponentially"},
    {0}};

/* Minimum struct_size accepted for each descriptor: the size of its ABI 1.0 layout. */
#define MIN_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

typedef struct entry_vec {
    mlf_reg_entry *v;
    size_t n, cap;
} entry_vec;

struct mlf_catalog {
    entry_vec kinds[MLF_REG_KIND_COUNT];
    mlf_plugin **plugins;
    size_t nplugins, capplugins;
    char *searched; /* the plugin folders searched, comma-separated */
};

struct mlf_registry {
    mlf_catalog *cat;
    const mlf_plugin *owner;
    entry_vec staged;
    char *message;
    int closed;
    int committed; /* the staged copies now belong to the catalog */
};

static const char *const kind_names[MLF_REG_KIND_COUNT] = {"operator", "hook", "macro", "notifier",
                                                            "executor", "event source"};

static int vec_push(entry_vec *v, const mlf_reg_entry *e)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        mlf_reg_entry *nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return MLF_ENOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = *e;
    return MLF_OK;
}

mlf_catalog *mlf_catalog_new(void)
{
    return calloc(1, sizeof(mlf_catalog));
}

static void plugin_unload(mlf_plugin *p)
{
    if (p->info && p->info->fini)
        p->info->fini();
    if (p->handle)
        lt_dlclose((lt_dlhandle)p->handle);
    free(p->path);
    free(p);
}

static void entry_clear(mlf_reg_entry *e)
{
    free((void *)e->desc);
    free(e->params);
    free(e->settings);
    mlf_value_free(e->config);
    e->desc = NULL;
    e->params = NULL;
    e->settings = NULL;
    e->config = NULL;
}

void mlf_catalog_free(mlf_catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = cat->nplugins; i-- > 0;)
        plugin_unload(cat->plugins[i]);
    free(cat->plugins);
    for (int k = 0; k < MLF_REG_KIND_COUNT; k++) {
        for (size_t i = 0; i < cat->kinds[k].n; i++)
            entry_clear(&cat->kinds[k].v[i]);
        free(cat->kinds[k].v);
    }
    free(cat->searched);
    free(cat);
}

int mlf_catalog_set_searched(mlf_catalog *cat, const char *const *paths, size_t npaths)
{
    size_t len = 1;
    for (size_t i = 0; i < npaths; i++)
        len += strlen(paths[i]) + 2;
    char *s = malloc(len);
    if (!s)
        return MLF_ENOMEM;
    s[0] = '\0';
    for (size_t i = 0; i < npaths; i++) {
        if (i)
            strcat(s, ", ");
        strcat(s, paths[i]);
    }
    free(cat->searched);
    cat->searched = s;
    return MLF_OK;
}

const char *mlf_catalog_searched(const mlf_catalog *cat)
{
    return cat->searched ? cat->searched : "";
}

const mlf_reg_entry *mlf_catalog_find(const mlf_catalog *cat, mlf_reg_kind kind, const char *name)
{
    if (!cat || kind >= MLF_REG_KIND_COUNT || !name)
        return NULL;
    const entry_vec *v = &cat->kinds[kind];
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].name, name) == 0)
            return &v->v[i];
    return NULL;
}

const mlf_operator_desc *mlf_catalog_operator(const mlf_catalog *cat, const char *name)
{
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_OPERATOR, name);
    return e ? e->desc : NULL;
}

const mlf_executor_desc *mlf_catalog_executor(const mlf_catalog *cat, const char *name)
{
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_EXECUTOR, name);
    return e ? e->desc : NULL;
}

const mlf_event_source_desc *mlf_catalog_event_source(const mlf_catalog *cat, const char *name)
{
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_EVENT_SOURCE, name);
    return e ? e->desc : NULL;
}

size_t mlf_catalog_count(const mlf_catalog *cat, mlf_reg_kind kind)
{
    return cat && kind < MLF_REG_KIND_COUNT ? cat->kinds[kind].n : 0;
}

const mlf_reg_entry *mlf_catalog_at(const mlf_catalog *cat, mlf_reg_kind kind, size_t i)
{
    return i < mlf_catalog_count(cat, kind) ? &cat->kinds[kind].v[i] : NULL;
}

const char **mlf_catalog_names(const mlf_catalog *cat, mlf_reg_kind kind, size_t *n)
{
    size_t count = mlf_catalog_count(cat, kind);
    *n = 0;
    if (!count)
        return NULL;
    const char **names = malloc(count * sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < count; i++)
        names[i] = cat->kinds[kind].v[i].name;
    *n = count;
    return names;
}

size_t mlf_catalog_plugin_count(const mlf_catalog *cat)
{
    return cat ? cat->nplugins : 0;
}

const mlf_plugin *mlf_catalog_plugin_at(const mlf_catalog *cat, size_t i)
{
    return i < mlf_catalog_plugin_count(cat) ? cat->plugins[i] : NULL;
}

const mlf_plugin *mlf_catalog_plugin_by_name(const mlf_catalog *cat, const char *name)
{
    for (size_t i = 0; i < mlf_catalog_plugin_count(cat); i++)
        if (cat->plugins[i]->info && strcmp(cat->plugins[i]->info->name, name) == 0)
            return cat->plugins[i];
    return NULL;
}

mlf_plugin *mlf_catalog_add_plugin(mlf_catalog *cat, const char *path, const mlf_plugin_info *info,
                                   void *handle)
{
    if (cat->nplugins == cat->capplugins) {
        size_t cap = cat->capplugins ? cat->capplugins * 2 : 8;
        mlf_plugin **np = realloc(cat->plugins, cap * sizeof *np);
        if (!np)
            return NULL;
        cat->plugins = np;
        cat->capplugins = cap;
    }
    mlf_plugin *p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path))) {
        free(p);
        return NULL;
    }
    p->info = info;
    p->handle = handle;
    cat->plugins[cat->nplugins++] = p;
    return p;
}

void mlf_catalog_drop_last_plugin(mlf_catalog *cat)
{
    if (!cat->nplugins)
        return;
    mlf_plugin *p = cat->plugins[--cat->nplugins];
    /* fini() belongs to plugins whose init() succeeded; a dropped plugin never finished init. */
    if (p->handle)
        lt_dlclose((lt_dlhandle)p->handle);
    free(p->path);
    free(p);
}

mlf_registry *mlf_registry_begin(mlf_catalog *cat, const mlf_plugin *owner)
{
    mlf_registry *reg = calloc(1, sizeof *reg);
    if (reg) {
        reg->cat = cat;
        reg->owner = owner;
    }
    return reg;
}

const char *mlf_registry_message(const mlf_registry *reg)
{
    return reg ? reg->message : NULL;
}

void mlf_registry_end(mlf_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; !reg->committed && i < reg->staged.n; i++)
        entry_clear(&reg->staged.v[i]);
    free(reg->staged.v);
    free(reg->message);
    free(reg);
}

void mlf_registry_errorv(mlf_registry *reg, const char *fmt, va_list ap)
{
    if (!reg || !fmt)
        return;
    mlf_buf b = {0};
    if (mlf_buf_vprintf(&b, fmt, ap) != MLF_OK) {
        mlf_buf_free(&b);
        return;
    }
    free(reg->message);
    reg->message = mlf_buf_steal(&b);
}

/* Records the first validation problem as the plugin's message (unless it gave its own) and returns err. */
static int reject(mlf_registry *reg, int err, const char *fmt, ...) MLF_PRINTF(3, 4);
static int reject(mlf_registry *reg, int err, const char *fmt, ...)
{
    if (!reg->message) {
        va_list ap;
        va_start(ap, fmt);
        mlf_registry_errorv(reg, fmt, ap);
        va_end(ap);
    }
    return err;
}

static int valid_name(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return !(s[0] >= '0' && s[0] <= '9');
}

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

static int in_params(const char *name, const mlf_param_spec *params)
{
    for (; params && params->name; params++)
        if (strcmp(name, params->name) == 0)
            return 1;
    return 0;
}

/* Validates a normalized {0}-terminated parameter table. @p what names the owner for messages. Task keys
 * are reserved only where parameters sit beside them (operators). */
static int check_params(mlf_registry *reg, const char *what, const mlf_param_spec *params, int is_sensor,
                        int task_keys)
{
    size_t count = 0;
    for (const mlf_param_spec *p = params; p && p->name; p++, count++) {
        if (count > 256)
            return reject(reg, MLF_EINVAL, "%s: parameter table has more than 256 entries (missing {0} end?)",
                          what);
        if (!valid_name(p->name, 64))
            return reject(reg, MLF_EINVAL, "%s: parameter name '%s' is not an identifier", what, p->name);
        if (task_keys && in_list(p->name, mlf_core_task_keys))
            return reject(reg, MLF_EINVAL, "%s: parameter '%s' clashes with a core task key", what, p->name);
        if (is_sensor && in_params(p->name, mlf_sensor_params))
            return reject(reg, MLF_EINVAL, "%s: parameter '%s' clashes with a key the core adds to sensors",
                          what, p->name);
        if (p->type < MLF_PARAM_STR || p->type > MLF_PARAM_ENUM)
            return reject(reg, MLF_EINVAL, "%s: parameter '%s' has an unknown type %d", what, p->name,
                          (int)p->type);
        if (p->type == MLF_PARAM_ENUM && (!p->choices || !*p->choices))
            return reject(reg, MLF_EINVAL, "%s: enum parameter '%s' declares no choices", what, p->name);
        for (const mlf_param_spec *q = params; q != p; q++)
            if (strcmp(q->name, p->name) == 0)
                return reject(reg, MLF_EINVAL, "%s: parameter '%s' is declared twice", what, p->name);
    }
    return MLF_OK;
}

/* Common checks, then staging of @p copy (a descriptor in the daemon's layout, taken even on failure)
 * with its normalized table @p params (taken too). */
static int stage(mlf_registry *reg, mlf_reg_kind kind, const char *name, void *copy, mlf_param_spec *params)
{
    mlf_reg_entry e = {.kind = kind, .name = name, .desc = copy, .owner = reg->owner, .params = params};
    int rc = MLF_OK;
    if (!valid_name(name, 64))
        rc = reject(reg, MLF_EINVAL, "%s name '%s' must match [A-Za-z_][A-Za-z0-9_]{0,63}", kind_names[kind],
                    name ? name : "(null)");
    for (size_t i = 0; rc == MLF_OK && i < reg->staged.n; i++)
        if (reg->staged.v[i].kind == kind && strcmp(reg->staged.v[i].name, name) == 0)
            rc = reject(reg, MLF_EEXIST, "%s '%s' is registered twice by this plugin", kind_names[kind], name);
    if (rc == MLF_OK)
        rc = vec_push(&reg->staged, &e);
    if (rc != MLF_OK)
        entry_clear(&e);
    return rc;
}

/* A copy of descriptor @p desc (@p have bytes written by the plugin) in the daemon's layout of @p size
 * bytes, zero beyond what the plugin knew; its struct_size becomes @p size. NULL when memory runs out. */
static void *copy_desc(const void *desc, uint32_t have, size_t size)
{
    void *copy = calloc(1, size);
    if (copy) {
        memcpy(copy, desc, have < size ? have : size);
        uint32_t s32 = (uint32_t)size;
        memcpy(copy, &s32, sizeof s32); /* every descriptor starts with uint32_t struct_size */
    }
    return copy;
}

/* Normalizes the table @p table of element size @p elem_size for @p what, or rejects it. */
static int normalize(mlf_registry *reg, const char *what, const void *table, uint32_t elem_size,
                     mlf_param_spec **out)
{
    int rc = mlf_params_normalize(table, elem_size, out, NULL);
    if (rc == MLF_EINVAL)
        return reject(reg, rc, "%s: parameter table has an element size of %u (at least %zu) or more than %d "
                      "entries (missing {0} end?)", what, (unsigned)elem_size, MLF_PARAM_SPEC_SIZE_1_0,
                      MLF_PARAMS_MAX);
    return rc;
}

#define CHECK_REG(reg, desc, type, last, what)                                                          \
    do {                                                                                                \
        if (!(reg))                                                                                     \
            return MLF_EINVAL;                                                                          \
        if ((reg)->closed)                                                                              \
            return MLF_ESTATE;                                                                          \
        if (!(desc))                                                                                    \
            return reject((reg), MLF_EINVAL, "%s descriptor is NULL", (what));                          \
        if ((desc)->struct_size < MIN_SIZE(type, last))                                                 \
            return reject((reg), MLF_EINVAL, "%s descriptor: struct_size %u is smaller than its first ABI layout (%zu bytes)", \
                          (what), (unsigned)(desc)->struct_size, MIN_SIZE(type, last));                 \
    } while (0)

/* The declared element size of a table: the member at @p off of a descriptor of @p struct_size bytes,
 * or 0 (the ABI 1.0 size) when the plugin's layout ends before it. */
static uint32_t declared_size(const void *desc, uint32_t struct_size, size_t off)
{
    uint32_t v = 0;
    if (struct_size >= off + sizeof v)
        memcpy(&v, (const char *)desc + off, sizeof v);
    return v;
}

/* Stages descriptor @p desc (@p struct_size bytes as the plugin wrote it) of @p kind as a copy in the
 * daemon's layout of @p size bytes, after normalizing and checking the parameter table whose pointer sits
 * at @p table_off and whose element size at @p elem_off: the copy points at the normalized table. */
static int stage_with_table(mlf_registry *reg, mlf_reg_kind kind, const char *what, const char *name,
                            const void *desc, uint32_t struct_size, size_t size, size_t table_off,
                            size_t elem_off, int is_sensor, int task_keys)
{
    const mlf_param_spec *table = NULL;
    if (struct_size >= table_off + sizeof table)
        memcpy(&table, (const char *)desc + table_off, sizeof table);
    mlf_param_spec *params = NULL;
    int rc = normalize(reg, what, table, declared_size(desc, struct_size, elem_off), &params);
    if (!rc)
        rc = check_params(reg, what, params, is_sensor, task_keys);
    char *copy = rc ? NULL : copy_desc(desc, struct_size, size);
    if (!copy) {
        free(params);
        return rc ? rc : MLF_ENOMEM;
    }
    const mlf_param_spec *normalized = params;
    uint32_t elem = sizeof(mlf_param_spec);
    memcpy(copy + table_off, &normalized, sizeof normalized);
    memcpy(copy + elem_off, &elem, sizeof elem);
    return stage(reg, kind, name, copy, params);
}

int mlf_register_operator(mlf_registry *reg, const mlf_operator_desc *desc)
{
    CHECK_REG(reg, desc, mlf_operator_desc, data, "operator");
    if (!desc->execute)
        return reject(reg, MLF_EINVAL, "operator '%s' has no execute callback", desc->name ? desc->name : "?");
    char what[96];
    snprintf(what, sizeof what, "operator '%s'", desc->name ? desc->name : "?");
    int rc = stage_with_table(reg, MLF_REG_OPERATOR, what, desc->name, desc, desc->struct_size, sizeof *desc,
                              offsetof(mlf_operator_desc, params), offsetof(mlf_operator_desc, param_size),
                              (desc->flags & MLF_OP_SENSOR) != 0, 1);
    if (rc != MLF_OK)
        return rc;
    /* (ABI 1.2) the settings table: normalized like params, pointed at by the staged copy */
    mlf_reg_entry *e = &reg->staged.v[reg->staged.n - 1];
    mlf_operator_desc *copy = (mlf_operator_desc *)e->desc;
    snprintf(what, sizeof what, "operator '%s' settings", desc->name);
    rc = normalize(reg, what, copy->settings, copy->settings_size, &e->settings);
    if (rc == MLF_OK)
        rc = check_params(reg, what, e->settings, 0, 0);
    copy->settings = e->settings;
    copy->settings_size = sizeof(mlf_param_spec);
    if (rc != MLF_OK) { /* refused: the descriptor is not staged */
        entry_clear(e);
        reg->staged.n--;
    }
    return rc;
}

int mlf_register_hook(mlf_registry *reg, const mlf_hook_desc *desc)
{
    CHECK_REG(reg, desc, mlf_hook_desc, test_connection, "hook");
    if (!desc->conn_type || !*desc->conn_type)
        return reject(reg, MLF_EINVAL, "hook '%s' declares no conn_type", desc->name ? desc->name : "?");
    char what[96];
    snprintf(what, sizeof what, "hook '%s' extras", desc->name ? desc->name : "?");
    return stage_with_table(reg, MLF_REG_HOOK, what, desc->name, desc, desc->struct_size, sizeof *desc,
                            offsetof(mlf_hook_desc, extras), offsetof(mlf_hook_desc, extras_size), 0, 0);
}

int mlf_register_macro(mlf_registry *reg, const mlf_macro_desc *desc)
{
    CHECK_REG(reg, desc, mlf_macro_desc, data, "macro");
    if (!desc->call)
        return reject(reg, MLF_EINVAL, "macro '%s' has no call callback", desc->name ? desc->name : "?");
    if (desc->min_args < 0 || (desc->max_args != -1 && desc->max_args < desc->min_args))
        return reject(reg, MLF_EINVAL, "macro '%s': bad argument counts %d..%d", desc->name ? desc->name : "?",
                      desc->min_args, desc->max_args);
    mlf_macro_desc *copy = copy_desc(desc, desc->struct_size, sizeof *copy);
    return copy ? stage(reg, MLF_REG_MACRO, desc->name, copy, NULL) : MLF_ENOMEM;
}

int mlf_register_notifier(mlf_registry *reg, const mlf_notifier_desc *desc)
{
    CHECK_REG(reg, desc, mlf_notifier_desc, notify, "notifier");
    if (!desc->notify)
        return reject(reg, MLF_EINVAL, "notifier '%s' has no notify callback", desc->name ? desc->name : "?");
    char what[96];
    snprintf(what, sizeof what, "notifier '%s'", desc->name ? desc->name : "?");
    return stage_with_table(reg, MLF_REG_NOTIFIER, what, desc->name, desc, desc->struct_size, sizeof *desc,
                            offsetof(mlf_notifier_desc, params), offsetof(mlf_notifier_desc, param_size), 0, 0);
}

int mlf_register_executor(mlf_registry *reg, const mlf_executor_desc *desc)
{
    CHECK_REG(reg, desc, mlf_executor_desc, close, "executor");
    const char *name = desc->name ? desc->name : "?";
    const char *missing = !desc->open ? "open" : !desc->can_accept ? "can_accept" : !desc->submit ? "submit"
                        : !desc->kill ? "kill" : !desc->fd ? "fd" : !desc->next_deadline ? "next_deadline"
                        : !desc->process ? "process" : !desc->shutdown ? "shutdown"
                        : !desc->in_flight ? "in_flight" : !desc->close ? "close" : NULL;
    if (missing)
        return reject(reg, MLF_EINVAL, "executor '%s' has no %s callback", name, missing);
    if (desc->flags & ~MLF_EXEC_OUTLIVES)
        return reject(reg, MLF_EINVAL, "executor '%s': unknown flags 0x%x", name, desc->flags & ~MLF_EXEC_OUTLIVES);
    char what[96];
    snprintf(what, sizeof what, "executor '%s'", name);
    int rc = stage_with_table(reg, MLF_REG_EXECUTOR, what, desc->name, desc, desc->struct_size, sizeof *desc,
                              offsetof(mlf_executor_desc, params), offsetof(mlf_executor_desc, param_size), 0, 0);
    if (rc != MLF_OK)
        return rc;
    /* (ABI 1.3) the per-task table (executor_config.NAME): normalized like params, in the entry's settings
     * slot, pointed at by the staged copy */
    mlf_reg_entry *e = &reg->staged.v[reg->staged.n - 1];
    mlf_executor_desc *copy = (mlf_executor_desc *)e->desc;
    snprintf(what, sizeof what, "executor '%s' task params", name);
    rc = normalize(reg, what, copy->task_params, copy->task_param_size, &e->settings);
    if (rc == MLF_OK)
        rc = check_params(reg, what, e->settings, 0, 0);
    copy->task_params = e->settings;
    copy->task_param_size = sizeof(mlf_param_spec);
    if (rc != MLF_OK) { /* refused: the descriptor is not staged */
        entry_clear(e);
        reg->staged.n--;
    }
    return rc;
}

int mlf_register_event_source(mlf_registry *reg, const mlf_event_source_desc *desc)
{
    CHECK_REG(reg, desc, mlf_event_source_desc, close, "event source");
    const char *name = desc->name ? desc->name : "?";
    const char *missing = !desc->open ? "open" : !desc->fd ? "fd" : !desc->process ? "process"
                        : !desc->close ? "close" : NULL;
    if (missing)
        return reject(reg, MLF_EINVAL, "event source '%s' has no %s callback", name, missing);
    if (desc->flags)
        return reject(reg, MLF_EINVAL, "event source '%s': unknown flags 0x%x", name, desc->flags);
    char what[96];
    snprintf(what, sizeof what, "event source '%s'", name);
    return stage_with_table(reg, MLF_REG_EVENT_SOURCE, what, desc->name, desc, desc->struct_size, sizeof *desc,
                            offsetof(mlf_event_source_desc, params), offsetof(mlf_event_source_desc, param_size),
                            0, 0);
}

int mlf_registry_commit(mlf_registry *reg, mlf_diag *errors)
{
    int collisions = 0;
    for (size_t i = 0; i < reg->staged.n; i++) {
        const mlf_reg_entry *e = &reg->staged.v[i];
        const mlf_reg_entry *prev = mlf_catalog_find(reg->cat, e->kind, e->name);
        if (prev) {
            mlf_diag_add(errors, reg->owner ? reg->owner->path : NULL, 0, 0,
                         "%s '%s' is already registered by plugin '%s' (%s)", kind_names[e->kind], e->name,
                         prev->owner && prev->owner->info ? prev->owner->info->name : "?",
                         prev->owner ? prev->owner->path : "?");
            collisions++;
        }
    }
    reg->closed = 1;
    if (collisions)
        return MLF_EEXIST;
    for (size_t k = 0; k < MLF_REG_KIND_COUNT; k++) { /* room first, so that nothing is half-committed */
        entry_vec *v = &reg->cat->kinds[k];
        size_t need = v->n;
        for (size_t i = 0; i < reg->staged.n; i++)
            need += reg->staged.v[i].kind == (mlf_reg_kind)k;
        if (need > v->cap) {
            mlf_reg_entry *nv = realloc(v->v, need * sizeof *nv);
            if (!nv)
                return MLF_ENOMEM;
            v->v = nv;
            v->cap = need;
        }
    }
    for (size_t i = 0; i < reg->staged.n; i++)
        vec_push(&reg->cat->kinds[reg->staged.v[i].kind], &reg->staged.v[i]); /* cannot fail now */
    reg->committed = 1;
    return MLF_OK;
}

