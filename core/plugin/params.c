/* params.c -- parameter tables: normalizing plugins' tables, typing values against them (params.h). */
#include "plugin/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/duration.h"

int mlf_params_normalize(const void *table, uint32_t elem_size, mlf_param_spec **out, size_t *n)
{
    size_t stride = elem_size ? elem_size : MLF_PARAM_SPEC_SIZE_1_0;
    *out = NULL;
    if (n)
        *n = 0;
    if (!table)
        return MLF_OK;
    if (stride < MLF_PARAM_SPEC_SIZE_1_0)
        return MLF_EINVAL;
    const unsigned char *base = table;
    size_t count = 0;
    mlf_param_spec e;
    for (;; count++) {
        if (count > MLF_PARAMS_MAX)
            return MLF_EINVAL;
        memset(&e, 0, sizeof e);
        memcpy(&e, base + count * stride, stride < sizeof e ? stride : sizeof e);
        if (!e.name)
            break;
    }
    mlf_param_spec *v = calloc(count + 1, sizeof *v);
    if (!v)
        return MLF_ENOMEM;
    for (size_t i = 0; i < count; i++)
        memcpy(&v[i], base + i * stride, stride < sizeof *v ? stride : sizeof *v);
    *out = v;
    if (n)
        *n = count;
    return MLF_OK;
}

const mlf_param_spec *mlf_params_find(const mlf_param_spec *table, const char *name)
{
    for (const mlf_param_spec *s = table; s && s->name && name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

size_t mlf_params_names(const mlf_param_spec *table, const char **names, size_t max)
{
    size_t n = 0;
    for (const mlf_param_spec *s = table; s && s->name && n < max; s++)
        names[n++] = s->name;
    return n;
}

static int is_scalar(const mlf_yaml_node *n)
{
    return n && n->kind == MLF_YAML_SCALAR;
}

static int has_template_syntax(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '{' && (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#'))
            return 1;
    return 0;
}

/* 1 when @p text is one of the '|'-separated @p choices. */
static int in_choices(const char *text, const char *choices)
{
    size_t tl = strlen(text);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == tl && strncmp(p, text, l) == 0)
            return 1;
        p += l + (bar ? 1 : 0);
    }
    return 0;
}

mlf_value *mlf_param_from_node(const mlf_param_spec *spec, const mlf_yaml_node *n, char *why, size_t whylen)
{
    mlf_value *v = NULL;
    char err[512];
    int templ = (spec->flags & MLF_PARAM_TEMPLATED) && is_scalar(n) && n->len && has_template_syntax(n->text, n->len);
    if (templ && spec->type != MLF_PARAM_STR && spec->type != MLF_PARAM_ANY)
        return mlf_value_strn(n->text, n->len);
    const char *got = mlf_yaml_describe(n);
    switch (spec->type) {
    case MLF_PARAM_STR:
        if (!is_scalar(n)) {
            snprintf(why, whylen, "expected a string, got %s", got);
            return NULL;
        }
        return mlf_value_strn(n->text, n->len);
    case MLF_PARAM_INT:
    case MLF_PARAM_FLOAT:
    case MLF_PARAM_BOOL: {
        const char *want = spec->type == MLF_PARAM_INT ? "int" : spec->type == MLF_PARAM_BOOL ? "bool" : "float";
        int ok = is_scalar(n) && (strcmp(got, want) == 0 || (spec->type == MLF_PARAM_FLOAT && strcmp(got, "int") == 0));
        if (!ok || mlf_yaml_scalar_to_value(n, &v, err, sizeof err) != MLF_OK) {
            snprintf(why, whylen, "expected %s, got %s",
                     spec->type == MLF_PARAM_INT ? "an integer" : spec->type == MLF_PARAM_BOOL ? "true or false" : "a number",
                     ok ? err : got);
            mlf_value_free(v);
            return NULL;
        }
        if (spec->type == MLF_PARAM_FLOAT && mlf_value_type(v) == MLF_INT) {
            double d = 0;
            mlf_value_get_float(v, &d);
            mlf_value_free(v);
            v = mlf_value_float(d);
        }
        return v;
    }
    case MLF_PARAM_DURATION: {
        int64_t us;
        if (!is_scalar(n) || mlf_yaml_is_null(n)) {
            snprintf(why, whylen, "expected a duration such as 30s, 5m, 2h, 1d or PT5M, got %s", got);
            return NULL;
        }
        if (mlf_duration_parse(n->text, &us, err, sizeof err) != MLF_OK) {
            snprintf(why, whylen, "%s", err);
            return NULL;
        }
        return mlf_value_int(us);
    }
    case MLF_PARAM_ENUM:
        if (!is_scalar(n) || !in_choices(n->text, spec->choices)) {
            snprintf(why, whylen, "expected one of %s, got %s%s%s", spec->choices, is_scalar(n) ? "'" : "",
                     is_scalar(n) ? n->text : got, is_scalar(n) ? "'" : "");
            return NULL;
        }
        return mlf_value_strn(n->text, n->len);
    case MLF_PARAM_LIST:
        if (n->kind == MLF_YAML_MAPPING) {
            snprintf(why, whylen, "expected a list, got a mapping");
            return NULL;
        }
        if (mlf_yaml_node_to_value(n, &v, err, sizeof err) != MLF_OK) {
            snprintf(why, whylen, "%s", err);
            return NULL;
        }
        if (mlf_value_type(v) != MLF_ARRAY) { /* a scalar is a one-element list */
            mlf_value *arr = mlf_value_array();
            if (mlf_array_append(arr, v) != MLF_OK) {
                mlf_value_free(arr);
                snprintf(why, whylen, "out of memory");
                return NULL;
            }
            v = arr;
        }
        return v;
    case MLF_PARAM_MAP:
        if (n->kind != MLF_YAML_MAPPING) {
            snprintf(why, whylen, "expected a mapping, got %s", got);
            return NULL;
        }
        /* fall through */
    case MLF_PARAM_ANY:
    default:
        if (mlf_yaml_node_to_value(n, &v, err, sizeof err) != MLF_OK) {
            snprintf(why, whylen, "%s", err);
            return NULL;
        }
        return v;
    }
}

mlf_value *mlf_param_from_text(const mlf_param_spec *spec, const char *text, char *why, size_t whylen)
{
    mlf_yaml_doc *doc = NULL;
    char err[512];
    if (!text) {
        snprintf(why, whylen, "no value");
        return NULL;
    }
    if (mlf_yaml_load(text, strlen(text), NULL, NULL, &doc, err, sizeof err) != MLF_OK) {
        snprintf(why, whylen, "%s", err);
        return NULL;
    }
    mlf_value *v = mlf_param_from_node(spec, mlf_yaml_root(doc), why, whylen);
    mlf_yaml_free(doc);
    return v;
}

int mlf_params_defaults(const mlf_param_spec *table, mlf_value **out, char *why, size_t whylen)
{
    mlf_value *map = mlf_value_map();
    *out = NULL;
    if (!map)
        return MLF_ENOMEM;
    for (const mlf_param_spec *s = table; s && s->name; s++) {
        if (!s->default_value || (s->flags & MLF_PARAM_REQUIRED))
            continue;
        char w[512];
        mlf_value *v = mlf_param_from_text(s, s->default_value, w, sizeof w);
        if (!v) {
            snprintf(why, whylen, "'%s' (%s): %s", s->name, s->default_value, w);
            mlf_value_free(map);
            return MLF_EINVAL;
        }
        if (mlf_map_set(map, s->name, v) != MLF_OK) {
            mlf_value_free(map);
            return MLF_ENOMEM;
        }
    }
    *out = map;
    return MLF_OK;
}

const char *mlf_param_type_name(mlf_param_type t)
{
    static const char *const names[] = {"?", "str", "int", "float", "bool", "duration", "list", "map", "any",
                                        "enum"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}
