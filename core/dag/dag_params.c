/* dag_params.c -- DAG params validated against their specs (Airflow's Param; dag_params.h). */
#include "dag/dag_params.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const spec_keys[] = {"type", "default", "enum", "minimum", "maximum", "minLength", "maxLength",
                                        "description", "title", NULL};
static const char *const type_names[] = {"string", "integer", "number", "boolean", "array", "object", "null", NULL};

static int in_names(const char *s, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return 1;
    return 0;
}

int mlf_param_is_spec(const mlf_value *v)
{
    if (mlf_value_type(v) != MLF_MAP || !mlf_map_get(v, "type"))
        return 0;
    for (size_t i = 0; i < mlf_value_len(v); i++)
        if (!in_names(mlf_map_key_at(v, i), spec_keys))
            return 0;
    return 1;
}

/* 1 when @p v is of JSON Schema type @p type (an integral float is an integer, as in JSON Schema). */
static int has_type(const mlf_value *v, const char *type)
{
    mlf_type t = mlf_value_type(v);
    double d;
    if (strcmp(type, "string") == 0)
        return t == MLF_STR;
    if (strcmp(type, "integer") == 0)
        return t == MLF_INT || (t == MLF_FLOAT && mlf_value_get_float(v, &d) == MLF_OK && d == (double)(int64_t)d);
    if (strcmp(type, "number") == 0)
        return t == MLF_INT || t == MLF_FLOAT;
    if (strcmp(type, "boolean") == 0)
        return t == MLF_BOOL;
    if (strcmp(type, "array") == 0)
        return t == MLF_ARRAY;
    if (strcmp(type, "object") == 0)
        return t == MLF_MAP;
    return t == MLF_NIL;
}

/* The type names of @p spec's `type` as "a or b" into @p buf; 1 when @p v has one of them. */
static int type_ok(const mlf_value *spec, const mlf_value *v, char *buf, size_t n)
{
    const mlf_value *type = mlf_map_get(spec, "type");
    int ok = 0;
    size_t used = 0;
    buf[0] = '\0';
    size_t count = mlf_value_type(type) == MLF_ARRAY ? mlf_value_len(type) : 1;
    for (size_t i = 0; i < count; i++) {
        const mlf_value *one = mlf_value_type(type) == MLF_ARRAY ? mlf_array_at(type, i) : type;
        const char *name = mlf_value_get_str(one, NULL);
        if (!name)
            continue;
        ok |= has_type(v, name);
        int w = snprintf(buf + used, n - used, "%s%s", i ? " or " : "", name);
        if (w > 0 && (size_t)w < n - used)
            used += (size_t)w;
    }
    return ok;
}

static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...) MLF_PRINTF(4, 5);
static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "param '%s': %s", name, what);
    return MLF_EINVAL;
}

int mlf_param_check(const char *name, const mlf_value *spec, const mlf_value *value, char *err, size_t errlen)
{
    char types[128];
    char *shown = mlf_value_to_display(value);
    const char *s = shown ? shown : "the value";
    int rc = MLF_OK;
    double d, bound;
    const mlf_value *e = mlf_map_get(spec, "enum");
    if (!type_ok(spec, value, types, sizeof types)) {
        rc = fail(err, errlen, name, "%s is not of type %s", s, types);
    } else if (e) {
        int found = 0;
        for (size_t i = 0; i < mlf_value_len(e) && !found; i++)
            found = mlf_value_equal(mlf_array_at(e, i), value);
        char *allowed = mlf_value_to_display(e);
        if (!found)
            rc = fail(err, errlen, name, "%s is not one of %s", s, allowed ? allowed : "its enum");
        free(allowed);
    }
    if (rc == MLF_OK && mlf_value_get_float(value, &d) == MLF_OK && mlf_value_type(value) != MLF_BOOL) {
        char b[64];
        if (mlf_value_get_float(mlf_map_get(spec, "minimum"), &bound) == MLF_OK && d < bound) {
            snprintf(b, sizeof b, "%g", bound);
            rc = fail(err, errlen, name, "%s is below its minimum %s", s, b);
        } else if (mlf_value_get_float(mlf_map_get(spec, "maximum"), &bound) == MLF_OK && d > bound) {
            snprintf(b, sizeof b, "%g", bound);
            rc = fail(err, errlen, name, "%s is above its maximum %s", s, b);
        }
    }
    size_t len;
    if (rc == MLF_OK && mlf_value_type(value) == MLF_STR && mlf_value_get_str(value, &len)) {
        int64_t lim;
        char b[32];
        if (mlf_value_get_int(mlf_map_get(spec, "minLength"), &lim) == MLF_OK && (int64_t)len < lim) {
            snprintf(b, sizeof b, "%lld", (long long)lim);
            rc = fail(err, errlen, name, "%s is shorter than its minLength %s", s, b);
        } else if (mlf_value_get_int(mlf_map_get(spec, "maxLength"), &lim) == MLF_OK && (int64_t)len > lim) {
            snprintf(b, sizeof b, "%lld", (long long)lim);
            rc = fail(err, errlen, name, "%s is longer than its maxLength %s", s, b);
        }
    }
    free(shown);
    return rc;
}

int mlf_param_spec_check(const char *name, const mlf_value *spec, char *err, size_t errlen)
{
    const mlf_value *type = mlf_map_get(spec, "type");
    size_t count = mlf_value_type(type) == MLF_ARRAY ? mlf_value_len(type) : 1;
    for (size_t i = 0; i < count; i++) {
        const mlf_value *one = mlf_value_type(type) == MLF_ARRAY ? mlf_array_at(type, i) : type;
        const char *t = mlf_value_get_str(one, NULL);
        if (!t || !in_names(t, type_names))
            return fail(err, errlen, name, "type must be one of string, integer, number, boolean, array, object, "
                        "null (or a list of them)");
    }
    const mlf_value *e = mlf_map_get(spec, "enum");
    if (e && mlf_value_type(e) != MLF_ARRAY)
        return fail(err, errlen, name, "enum must be a list of the allowed values");
    double d;
    const char *nums[] = {"minimum", "maximum", "minLength", "maxLength"};
    for (size_t i = 0; i < 4; i++)
        if (mlf_map_get(spec, nums[i]) && mlf_value_get_float(mlf_map_get(spec, nums[i]), &d) != MLF_OK)
            return fail(err, errlen, name, "%s must be a number", nums[i]);
    const mlf_value *def = mlf_map_get(spec, "default");
    if (def) {
        int rc = mlf_param_check(name, spec, def, err, errlen);
        if (rc != MLF_OK) {
            size_t l = strlen(err);
            snprintf(err + l, errlen > l ? errlen - l : 0, " (its default)");
        }
        return rc;
    }
    return MLF_OK;
}

int mlf_dag_check_params(const mlf_dag *dag, const mlf_value *conf, char *err, size_t errlen)
{
    for (size_t i = 0; dag->param_specs && i < mlf_value_len(dag->param_specs); i++) {
        const char *name = mlf_map_key_at(dag->param_specs, i);
        const mlf_value *spec = mlf_map_value_at(dag->param_specs, i);
        const mlf_value *v = mlf_value_type(conf) == MLF_MAP ? mlf_map_get(conf, name) : NULL;
        if (!v)
            v = mlf_map_get(spec, "default");
        if (!v)
            return fail(err, errlen, name, "has no default: give it in the trigger's conf");
        int rc = mlf_param_check(name, spec, v, err, errlen);
        if (rc != MLF_OK)
            return rc;
    }
    return MLF_OK;
}
