/* executors.c -- opening executor plugins, checking their settings, and the host functions they call
 * (executors.h; the contract is mlflowd/executor.h). */
#include "plugin/executors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/strutil.h"
#include "base/suggest.h"
#include "exec/taskproc_pool.h"
#include "exec/zmq_auth.h"
#include "plugin/params.h"
#include "plugin/plugin_loader.h"
#include "time/timefmt.h"

#define SECTION "executors."

struct mlf_exec_host {
    mlf_executor_callbacks cb;
    const mlf_config *cfg;
};

struct mlf_executor {
    const mlf_executor_desc *desc;
    void *inst;
    mlf_exec_host host;
};

/* ------------------------------------------------------------------------------------------ settings */

/* Splits "executors.NAME.KEY" into NAME (copied into @p name) and KEY (borrowed). 0 when malformed. */
static int split_setting(const char *full, char *name, size_t namelen, const char **key)
{
    const char *n = full + strlen(SECTION);
    const char *dot = strchr(n, '.');
    if (strncmp(full, SECTION, strlen(SECTION)) != 0 || !dot || dot == n || (size_t)(dot - n) >= namelen)
        return 0;
    memcpy(name, n, (size_t)(dot - n));
    name[dot - n] = '\0';
    *key = dot + 1;
    return 1;
}

/* Checks every executors.* setting; the values of executor @p want (when not NULL) go into @p *config. */
static size_t check_settings(const mlf_catalog *cat, const mlf_config *cfg, const char *want, mlf_value *config,
                             mlf_buf *errors)
{
    size_t problems = 0;
    for (size_t i = 0; i < mlf_config_executor_setting_count(cfg); i++) {
        const char *full, *text, *origin, *key;
        char name[80];
        mlf_config_executor_setting_at(cfg, i, &full, &text, &origin);
        if (strncmp(full, "operators.", 10) == 0)
            continue; /* an operator's (plugin/operators.h) */
        if (!split_setting(full, name, sizeof name, &key)) {
            mlf_buf_printf(errors, "%s: %s: expected executors.NAME.SETTING\n", origin, full);
            problems++;
            continue;
        }
        const mlf_executor_desc *d = mlf_catalog_executor(cat, name);
        if (!d) {
            size_t nn = 0;
            const char **names = mlf_catalog_names(cat, MLF_REG_EXECUTOR, &nn);
            const char *hint = names ? mlf_suggest(name, names, nn) : NULL;
            mlf_buf_printf(errors, "%s: %s: no executor named '%s' is loaded%s%s%s\n", origin, full, name,
                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            free(names);
            problems++;
            continue;
        }
        const mlf_param_spec *spec = mlf_params_find(d->params, key);
        if (!spec) {
            const char *cands[MLF_PARAMS_MAX];
            size_t nc = mlf_params_names(d->params, cands, MLF_PARAMS_MAX);
            const char *hint = mlf_suggest(key, cands, nc);
            mlf_buf_printf(errors, "%s: %s: executor '%s' has no setting '%s'%s%s%s\n", origin, full, name, key,
                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            problems++;
            continue;
        }
        char why[512];
        mlf_value *v = mlf_param_from_text(spec, text, why, sizeof why);
        if (!v) {
            mlf_buf_printf(errors, "%s: %s: %s\n", origin, full, why);
            problems++;
            continue;
        }
        if (want && config && strcmp(want, name) == 0)
            mlf_map_set(config, key, v);
        else
            mlf_value_free(v);
    }
    return problems;
}

size_t mlf_executors_check_config(const mlf_catalog *cat, const mlf_config *cfg, mlf_buf *errors)
{
    return check_settings(cat, cfg, NULL, NULL, errors);
}

/* The settings map of executor @p d named @p name: defaults, then the configuration. */
static int build_config(const mlf_catalog *cat, const mlf_config *cfg, const mlf_executor_desc *d,
                        const char *name, mlf_value **out, mlf_buf *errors)
{
    char why[600];
    int rc = mlf_params_defaults(d->params, out, why, sizeof why);
    if (rc == MLF_EINVAL)
        mlf_buf_printf(errors, "executor '%s' declares an invalid default for %s\n", name, why);
    if (rc != MLF_OK)
        return rc;
    if (check_settings(cat, cfg, name, *out, errors))
        rc = MLF_EINVAL;
    for (const mlf_param_spec *s = d->params; rc == MLF_OK && s && s->name; s++)
        if ((s->flags & MLF_PARAM_REQUIRED) && !mlf_map_get(*out, s->name)) {
            mlf_buf_printf(errors, "executor '%s' requires executors.%s.%s (%s)\n", name, name, s->name,
                           s->help ? s->help : mlf_param_type_name(s->type));
            rc = MLF_EINVAL;
        }
    if (rc != MLF_OK) {
        mlf_value_free(*out);
        *out = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ opening */

static void copy_errors(mlf_buf *b, char *err, size_t errlen)
{
    if (!err || !errlen)
        return;
    size_t len = b->len;
    while (len && b->data[len - 1] == '\n')
        len--; /* the caller adds its own line end */
    snprintf(err, errlen, "%.*s", (int)len, b->data ? b->data : "");
}

/* Loads the plugin that provides executor @p name when it is not registered yet (executors.h). Errors of
 * that load other than "not found" are logged: they explain why the executor is missing. */
static void load_provider(mlf_catalog *cat, const mlf_config *cfg, const char *name)
{
    if (mlf_catalog_executor(cat, name) || mlf_config_plugin_load_all(cfg))
        return;
    const char *plugin = strcmp(name, "sequential") == 0 ? "local" : name;
    if (mlf_catalog_plugin_by_name(cat, plugin))
        return;
    size_t npaths = 0;
    const char *const *paths = mlf_config_plugin_path(cfg, &npaths);
    mlf_diag errs = {0};
    if (mlf_plugins_load(cat, paths, npaths, &plugin, 1, &errs) != 0 && errs.n &&
        !strstr(errs.v[0].message, "not found")) {
        for (size_t i = 0; i < errs.n; i++) {
            char *line = mlf_diag_format(&errs, i);
            mlf_log(MLF_LOG_ERROR, "executor", "%s", line ? line : errs.v[i].message);
            free(line);
        }
    }
    mlf_diag_clear(&errs);
}

int mlf_executor_open(mlf_catalog *cat, const mlf_config *cfg, const char *name, int parallelism,
                      const char *exe, const mlf_executor_callbacks *callbacks, mlf_executor **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!name)
        name = mlf_config_str(cfg, "executor");
    if (!name || !callbacks || !callbacks->report)
        return MLF_EINVAL;
    mlf_buf errors = {0};
    load_provider(cat, cfg, name);
    const mlf_executor_desc *d = mlf_catalog_executor(cat, name);
    if (!d) {
        size_t nn = 0;
        const char **names = mlf_catalog_names(cat, MLF_REG_EXECUTOR, &nn);
        const char *hint = names ? mlf_suggest(name, names, nn) : NULL;
        mlf_buf_printf(&errors, "executor '%s' is not loaded", name);
        if (hint)
            mlf_buf_printf(&errors, " (did you mean '%s'?)", hint);
        mlf_buf_puts(&errors, nn ? "; loaded executors:" : "; no executor plugin is loaded (see plugins.path "
                                                          "and plugins.load, and `mlflowd plugins list`)");
        for (size_t i = 0; i < nn; i++)
            mlf_buf_printf(&errors, "%s %s", i ? "," : "", names[i]);
        free(names);
        copy_errors(&errors, err, errlen);
        mlf_buf_free(&errors);
        return MLF_ENOTFOUND;
    }
    mlf_value *config = NULL;
    int rc = build_config(cat, cfg, d, name, &config, &errors);
    if (rc == MLF_OK)
        rc = mlf_taskproc_configure(exe, cfg);
    mlf_executor *ex = rc == MLF_OK ? calloc(1, sizeof *ex) : NULL;
    if (rc == MLF_OK && !ex)
        rc = MLF_ENOMEM;
    if (rc != MLF_OK) {
        copy_errors(&errors, err, errlen);
        mlf_buf_free(&errors);
        mlf_value_free(config);
        return rc;
    }
    mlf_buf_free(&errors);
    free(ex);
    rc = mlf_executor_open_desc(d, name, config, cfg, parallelism, callbacks, out, err, errlen);
    mlf_value_free(config);
    return rc;
}

int mlf_executor_open_desc(const mlf_executor_desc *desc, const char *name, const mlf_value *config,
                           const mlf_config *cfg, int parallelism, const mlf_executor_callbacks *callbacks,
                           mlf_executor **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!desc || !callbacks || !callbacks->report)
        return MLF_EINVAL;
    mlf_executor *ex = calloc(1, sizeof *ex);
    mlf_value *empty = config ? NULL : mlf_value_map();
    if (!ex || (!config && !empty)) {
        free(ex);
        return MLF_ENOMEM;
    }
    ex->desc = desc;
    ex->host.cb = *callbacks;
    ex->host.cfg = cfg;
    mlf_exec_open_args args = {.struct_size = sizeof args, .name = name ? name : desc->name,
                               .config = config ? config : empty, .host = &ex->host,
                               .parallelism = parallelism, .kill_grace = 5 * INT64_C(1000000)};
    char oerr[512] = "";
    int rc = desc->open(&args, &ex->inst, oerr, sizeof oerr);
    mlf_value_free(empty);
    if (rc != MLF_OK) {
        if (err && errlen)
            snprintf(err, errlen, "%s", oerr[0] ? oerr : mlf_strerror(rc));
        free(ex);
        return rc;
    }
    *out = ex;
    return MLF_OK;
}

void mlf_executor_close(mlf_executor *ex)
{
    if (!ex)
        return;
    ex->desc->close(ex->inst);
    free(ex);
}

const char *mlf_executor_name(const mlf_executor *ex)
{
    return ex->desc->name;
}

/* ------------------------------------------------------------------------------------------ operations */

mlf_exec_accept mlf_executor_can_accept(mlf_executor *ex, const char *queue, const char *operator_name,
                                        char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    mlf_exec_accept a = ex->desc->can_accept(ex->inst, queue, operator_name, why, whylen);
    if ((unsigned)a > MLF_EXEC_NEVER)
        a = MLF_EXEC_BUSY; /* a plugin answering nonsense holds tries back rather than failing them */
    return a;
}

int mlf_executor_submit(mlf_executor *ex, const mlf_value *spec, const char *queue, mlf_time_us now, char *err,
                        size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    return ex->desc->submit(ex->inst, spec, queue, now, err, errlen);
}

int mlf_executor_kill(mlf_executor *ex, const char *attempt, mlf_time_us now)
{
    return ex->desc->kill(ex->inst, attempt, now);
}

int mlf_executor_fd(mlf_executor *ex)
{
    return ex->desc->fd(ex->inst);
}

mlf_time_us mlf_executor_next_deadline(mlf_executor *ex)
{
    return ex->desc->next_deadline(ex->inst);
}

int mlf_executor_process(mlf_executor *ex, mlf_time_us now)
{
    return ex->desc->process(ex->inst, now);
}

void mlf_executor_after_commit(mlf_executor *ex, mlf_time_us now)
{
    if (ex->desc->after_commit)
        ex->desc->after_commit(ex->inst, now);
}

int mlf_executor_shutdown(mlf_executor *ex, int64_t grace, mlf_time_us now)
{
    return ex->desc->shutdown(ex->inst, grace, now);
}

size_t mlf_executor_in_flight(mlf_executor *ex)
{
    return ex->desc->in_flight(ex->inst);
}

int mlf_executor_adopt(mlf_executor *ex, const char *attempt, const char *worker, const char *log_path,
                       mlf_time_us now)
{
    return ex->desc->adopt ? ex->desc->adopt(ex->inst, attempt, worker, log_path, now) : MLF_ENOTSUP;
}

unsigned mlf_executor_flags(const mlf_executor *ex)
{
    return ex->desc->flags;
}

int mlf_executor_can_adopt(const mlf_executor *ex)
{
    return ex->desc->adopt != NULL;
}

mlf_value *mlf_executor_describe(mlf_executor *ex)
{
    return ex->desc->describe ? ex->desc->describe(ex->inst) : NULL;
}

/* ------------------------------------------------------------------------------------------ host functions */

int mlf_exec_report(mlf_exec_host *host, const mlf_value *result)
{
    if (!host || !result)
        return MLF_EINVAL;
    return host->cb.report(host->cb.ud, result);
}

int mlf_exec_lease_persist(mlf_exec_host *host, const char *attempt, const char *worker, mlf_time_us deadline)
{
    if (!host || !attempt || !worker)
        return MLF_EINVAL;
    if (!host->cb.persist_lease)
        return MLF_ENOTSUP;
    return host->cb.persist_lease(host->cb.ud, attempt, worker, deadline);
}

int mlf_exec_note(mlf_exec_host *host, const char *attempt, const char *note)
{
    if (!host || !attempt)
        return MLF_EINVAL;
    if (!host->cb.note)
        return MLF_ENOTSUP;
    return host->cb.note(host->cb.ud, attempt, note && *note ? note : NULL);
}

void mlf_exec_lease_drop(mlf_exec_host *host, const char *attempt)
{
    if (host && attempt && host->cb.drop_lease)
        host->cb.drop_lease(host->cb.ud, attempt);
}

int mlf_exec_worker_update(mlf_exec_host *host, const mlf_value *worker)
{
    if (!host || mlf_value_type(worker) != MLF_MAP)
        return MLF_EINVAL;
    size_t len = 0;
    const char *name = mlf_value_get_str(mlf_map_get(worker, "name"), &len);
    const char *state = mlf_value_get_str(mlf_map_get(worker, "state"), NULL);
    if (!name || len == 0 || len > 128 || strlen(name) != len || !state ||
        (strcmp(state, "ready") != 0 && strcmp(state, "gone") != 0))
        return MLF_EINVAL;
    if (!host->cb.worker_update)
        return MLF_ENOTSUP;
    return host->cb.worker_update(host->cb.ud, worker);
}

const char *mlf_exec_self(mlf_exec_host *host)
{
    (void)host;
    return mlf_taskproc_exe();
}

int mlf_exec_setting(mlf_exec_host *host, const char *key, mlf_value **out)
{
    if (!host || !key || !out)
        return MLF_EINVAL;
    *out = NULL;
    const mlf_config_key *k = mlf_config_key_find(key);
    if (!k || !host->cfg)
        return MLF_ENOTFOUND;
    const mlf_value *v = mlf_config_get(host->cfg, key);
    if (k->type == MLF_CFG_DURATION && mlf_value_type(v) == MLF_STR)
        *out = mlf_value_int(mlf_config_duration_us(host->cfg, key));
    else
        *out = v ? mlf_value_copy(v) : mlf_value_nil();
    return *out ? MLF_OK : MLF_ENOMEM;
}

unsigned mlf_reload_generation(void)
{
    return mlf_zmq_reload_generation(); /* what the daemon's SIGHUP handler bumps */
}

void mlf_free(void *p)
{
    free(p);
}

mlf_time_us mlf_clock_wall(void)
{
    return mlf_time_now();
}

int64_t mlf_clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
