/*
 * libFuzzer target for the template engine: compiles the input as a template, lists its references,
 * and renders it (alone and inside a value) against a fixed environment with a few names, an echoing
 * macro and the built-in macros. Any crash, leak or sanitizer report is a bug; errors are expected.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tmpl/template.h"
#include "tmpl/template_macros.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mlf_value *names;

static mlf_value *build_names(void)
{
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "ds", mlf_value_str("2024-01-05"));
    mlf_map_set(m, "n", mlf_value_int(7));
    mlf_map_set(m, "f", mlf_value_float(-0.5));
    mlf_map_set(m, "b", mlf_value_bool(1));
    mlf_map_set(m, "z", mlf_value_nil());
    mlf_map_set(m, "bin", mlf_value_bin("\x00\xff", 2));
    mlf_value *l = mlf_value_array();
    mlf_array_append(l, mlf_value_str("btc"));
    mlf_array_append(l, mlf_value_int(-3));
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "symbols", l);
    mlf_map_set(p, "dir", mlf_value_str("/d\xc3\xa9"));
    mlf_map_set(m, "params", p);
    return m;
}

static int lookup(void *ud, const char *name, const mlf_value **out)
{
    const mlf_value *v = mlf_map_get(ud, name);
    if (!v)
        return MLF_ENOTFOUND;
    *out = v;
    return MLF_OK;
}

/* echo(args...) returns its arguments as a list; other names go to the built-in macros. */
static int call(void *ud, const char *name, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                size_t errlen)
{
    if (strcmp(name, "echo") != 0)
        return mlf_template_call_builtin(ud, name, args, nargs, out, err, errlen);
    *out = mlf_value_array();
    for (size_t i = 0; i < nargs; i++)
        mlf_array_append(*out, mlf_value_copy(args[i]));
    return MLF_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!names)
        names = build_names();
    mlf_template_env env = {.lookup = lookup, .call = call, .ud = names};
    char err[256];
    mlf_template *t = NULL;
    if (mlf_template_compile((const char *)data, size, &t, err, sizeof err) == MLF_OK) {
        const mlf_template_ref *refs;
        size_t n;
        mlf_template_refs(t, &refs, &n);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < refs[i].npath; k++)
                (void)strlen(refs[i].path[k]);
        mlf_value *out = NULL;
        mlf_template_render(t, &env, &out, err, sizeof err);
        mlf_value_free(out);
        mlf_template_free(t);
    }
    mlf_value *in = mlf_value_array();
    mlf_array_append(in, mlf_value_strn((const char *)data, size));
    mlf_value *out = NULL;
    mlf_template_render_value(in, &env, &out, err, sizeof err);
    mlf_value_free(out);
    mlf_value_free(in);
    return 0;
}
