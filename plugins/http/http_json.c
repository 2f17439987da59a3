/* http_json.c -- JSON text to mlf_value through jansson (see http_json.h). */
#include "http_json.h"

#include <jansson.h>
#include <stdio.h>

/* A new value for @p j, or NULL: *rc says why (MLF_ERANGE too deep, MLF_ENOMEM). */
static mlf_value *convert(const json_t *j, int depth, int *rc)
{
    if (depth > MLF_VALUE_MAX_DEPTH) {
        *rc = MLF_ERANGE;
        return NULL;
    }
    mlf_value *v = NULL;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        if (!(v = mlf_value_map()))
            break;
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)j, key, item) {
            mlf_value *c = convert(item, depth + 1, rc);
            if (!c || mlf_map_set(v, key, c) != MLF_OK) {
                mlf_value_free(v);
                if (*rc == MLF_OK)
                    *rc = MLF_ENOMEM;
                return NULL;
            }
        }
        break;
    }
    case JSON_ARRAY: {
        if (!(v = mlf_value_array()))
            break;
        for (size_t i = 0; i < json_array_size(j); i++) {
            mlf_value *c = convert(json_array_get(j, i), depth + 1, rc);
            if (!c || mlf_array_append(v, c) != MLF_OK) {
                mlf_value_free(v);
                if (*rc == MLF_OK)
                    *rc = MLF_ENOMEM;
                return NULL;
            }
        }
        break;
    }
    case JSON_STRING:
        v = mlf_value_strn(json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        v = mlf_value_int((int64_t)json_integer_value(j));
        break;
    case JSON_REAL:
        v = mlf_value_float(json_real_value(j));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v = mlf_value_bool(json_is_true(j));
        break;
    case JSON_NULL:
        v = mlf_value_nil();
        break;
    }
    if (!v && *rc == MLF_OK)
        *rc = MLF_ENOMEM;
    return v;
}

int httpc_json_parse(const char *text, size_t len, mlf_value **out, char *err, size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return MLF_EPARSE;
    }
    int rc = MLF_OK;
    *out = convert(root, 1, &rc);
    json_decref(root);
    if (rc == MLF_ERANGE)
        snprintf(err, errlen, "JSON nested deeper than %d levels", MLF_VALUE_MAX_DEPTH);
    else if (rc != MLF_OK)
        snprintf(err, errlen, "out of memory");
    return rc;
}
