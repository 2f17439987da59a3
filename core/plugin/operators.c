/* operators.c -- checking operators.NAME.KEY settings and keeping each operator's settings map
 * (operators.h; the contract is mlf_operator_desc.settings in mlflowd/plugin.h). */
#include "plugin/operators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/suggest.h"
#include "plugin/params.h"

#define SECTION "operators."

/* The catalog entry of operator @p name, writable (the catalog owns it and @p cat is ours), or NULL. */
static mlf_reg_entry *entry_of(mlf_catalog *cat, const char *name)
{
    return (mlf_reg_entry *)mlf_catalog_find(cat, MLF_REG_OPERATOR, name);
}

/* Gives every operator with a settings table its defaults. Returns the number of problems. */
static size_t set_defaults(mlf_catalog *cat, mlf_buf *errors)
{
    size_t problems = 0;
    for (size_t i = 0; i < mlf_catalog_count(cat, MLF_REG_OPERATOR); i++) {
        mlf_reg_entry *e = (mlf_reg_entry *)mlf_catalog_at(cat, MLF_REG_OPERATOR, i);
        if (!e->settings || !e->settings->name)
            continue;
        char why[600];
        mlf_value *map = NULL;
        int rc = mlf_params_defaults(e->settings, &map, why, sizeof why);
        if (rc == MLF_EINVAL)
            mlf_buf_printf(errors, "operator '%s' declares an invalid default for setting %s\n", e->name, why);
        else if (rc != MLF_OK)
            mlf_buf_printf(errors, "operator '%s': out of memory\n", e->name);
        problems += rc != MLF_OK;
        mlf_value_free(e->config);
        e->config = map;
    }
    return problems;
}

/* Checks one setting @p full ("operators.NAME.KEY") of value @p text set at @p origin and stores it. */
static int apply_setting(mlf_catalog *cat, const char *full, const char *text, const char *origin,
                         mlf_buf *errors)
{
    const char *n = full + strlen(SECTION), *dot = strchr(n, '.');
    char name[80];
    if (!dot || dot == n || (size_t)(dot - n) >= sizeof name) {
        mlf_buf_printf(errors, "%s: %s: expected operators.NAME.SETTING\n", origin, full);
        return 0;
    }
    memcpy(name, n, (size_t)(dot - n));
    name[dot - n] = '\0';
    const char *key = dot + 1;
    mlf_reg_entry *e = entry_of(cat, name);
    if (!e) {
        size_t nn = 0;
        const char **names = mlf_catalog_names(cat, MLF_REG_OPERATOR, &nn);
        const char *hint = names ? mlf_suggest(name, names, nn) : NULL;
        mlf_buf_printf(errors, "%s: %s: no operator named '%s' is loaded%s%s%s\n", origin, full, name,
                       hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        free(names);
        return 0;
    }
    const mlf_param_spec *spec = mlf_params_find(e->settings, key);
    if (!spec) {
        const char *cands[MLF_PARAMS_MAX];
        size_t nc = mlf_params_names(e->settings, cands, MLF_PARAMS_MAX);
        const char *hint = nc ? mlf_suggest(key, cands, nc) : NULL;
        mlf_buf_printf(errors, "%s: %s: operator '%s' has no setting '%s'%s%s%s\n", origin, full, name, key,
                       hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return 0;
    }
    char why[512];
    mlf_value *v = mlf_param_from_text(spec, text, why, sizeof why);
    if (!v) {
        mlf_buf_printf(errors, "%s: %s: %s\n", origin, full, why);
        return 0;
    }
    if (!e->config) { /* its defaults were refused (reported already) */
        mlf_value_free(v);
        return 0;
    }
    if (mlf_map_set(e->config, key, v) != MLF_OK) {
        mlf_buf_printf(errors, "%s: %s: out of memory\n", origin, full);
        return 0;
    }
    return 1;
}

size_t mlf_operators_configure(mlf_catalog *cat, const mlf_config *cfg, mlf_buf *errors)
{
    size_t problems = set_defaults(cat, errors);
    for (size_t i = 0; cfg && i < mlf_config_executor_setting_count(cfg); i++) {
        const char *full, *text, *origin;
        mlf_config_executor_setting_at(cfg, i, &full, &text, &origin);
        if (strncmp(full, SECTION, strlen(SECTION)) == 0 && !apply_setting(cat, full, text, origin, errors))
            problems++;
    }
    return problems;
}

const mlf_value *mlf_operator_settings(const mlf_catalog *cat, const char *name)
{
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_OPERATOR, name);
    return e ? e->config : NULL;
}
