/*
 * template_render.c -- rendering compiled templates: evaluating expressions against an environment
 * (names through a lookup callback, macros through a call callback), undefined values, type keeping
 * for one-expression templates, and rendering every string inside a value.
 */
#include "tmpl/template_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "base/suggest.h"

/* The value of an expression: borrowed (from the environment or the template) or owned. */
typedef struct tval {
    const mlf_value *v; /* NULL: undefined */
    mlf_value *own;     /* non-NULL when v is owned here */
} tval;

/* One running {% for %}: its variable's value and `loop`. */
typedef struct loop_frame {
    const char *var;
    tval seq;            /* the sequence (a list, or a map whose keys are iterated) */
    size_t i, n;
    mlf_value *key;      /* a map's current key, as a str */
    mlf_value *loop;     /* {index, index0, revindex, revindex0, first, last, length} */
    const mlf_value *item;
} loop_frame;

typedef struct rctx {
    const mlf_template *t;
    const mlf_template_env *env;
    char *err;
    size_t errlen;
    int undef_rc;        /* the error for using the last undefined value */
    char undef_msg[320]; /* and why it is undefined */
    loop_frame loops[TPL_MAX_BLOCKS];
    size_t nloops;
} rctx;

static void tval_free(tval *x)
{
    mlf_value_free(x->own);
    x->v = NULL;
    x->own = NULL;
}

/* Makes @p v (new, or NULL when memory ran out) the owned value of @p out. */
static int set_own(tval *out, mlf_value *v)
{
    out->v = out->own = v;
    return v ? MLF_OK : MLF_ENOMEM;
}

static int fail(rctx *c, int rc, const char *fmt, ...) MLF_PRINTF(3, 4);
static int fail(rctx *c, int rc, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Makes @p out undefined, remembering why (the error if it is used) and with which code. */
static int undefined(rctx *c, tval *out, int rc, const char *fmt, ...) MLF_PRINTF(4, 5);
static int undefined(rctx *c, tval *out, int rc, const char *fmt, ...)
{
    tval_free(out);
    c->undef_rc = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->undef_msg, sizeof c->undef_msg, fmt, ap);
    va_end(ap);
    return MLF_OK;
}

/* Fails when @p x is undefined: using an undefined value is an error. */
static int need(rctx *c, const tval *x)
{
    if (x->v)
        return MLF_OK;
    return fail(c, c->undef_rc, "%s", c->undef_msg);
}

/* The source text of @p nd for messages, shortened. */
static const char *snip(const rctx *c, const tpl_node *nd, char *buf, size_t size)
{
    size_t max = 40;
    if (nd->len > max)
        snprintf(buf, size, "%.*s...", (int)max, c->t->src + nd->off);
    else
        snprintf(buf, size, "%.*s", (int)nd->len, c->t->src + nd->off);
    return buf;
}

/* " (did you mean 'X'?)" when one of the @p n @p candidates is close to @p word, else "". */
static const char *did_you_mean(const char *word, const char *const *candidates, size_t n, char *buf, size_t size)
{
    const char *near = n ? mlf_suggest(word, candidates, n) : NULL;
    buf[0] = '\0';
    if (near && strcmp(near, word) != 0)
        snprintf(buf, size, " (did you mean '%s'?)", near);
    return buf;
}

static int truthy(const mlf_value *v)
{
    int b = 0;
    int64_t i = 0;
    double d = 0;
    switch (mlf_value_type(v)) {
    case MLF_NIL: return 0;
    case MLF_BOOL: return mlf_value_get_bool(v, &b) == MLF_OK && b;
    case MLF_INT: return mlf_value_get_int(v, &i) == MLF_OK && i != 0;
    case MLF_FLOAT: return mlf_value_get_float(v, &d) == MLF_OK && d != 0;
    default: return mlf_value_len(v) > 0;
    }
}

static int eval(rctx *c, const tpl_node *nd, tval *out);

/* Evaluates the arguments of @p nd into @p vals / @p argv (arrays of nd->nargs); each must be defined.
 * On failure every value is released. */
static int eval_args(rctx *c, const tpl_node *nd, tval *vals, const mlf_value **argv)
{
    for (size_t i = 0; i < nd->nargs; i++) {
        vals[i] = (tval){0};
        int rc = eval(c, nd->args[i], &vals[i]);
        if (rc == MLF_OK)
            rc = need(c, &vals[i]);
        if (rc != MLF_OK) {
            for (size_t k = 0; k <= i; k++)
                tval_free(&vals[k]);
            return rc;
        }
        argv[i] = vals[i].v;
    }
    return MLF_OK;
}

static void free_args(tval *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tval_free(&vals[i]);
}

/* Arguments live in a small array, or on the heap when there are many. */
typedef struct args {
    tval small_vals[8];
    const mlf_value *small_argv[8];
    tval *vals;
    const mlf_value **argv;
} args;

static int args_eval(rctx *c, const tpl_node *nd, args *a)
{
    a->vals = a->small_vals;
    a->argv = a->small_argv;
    if (nd->nargs > 8) {
        a->vals = malloc(nd->nargs * sizeof *a->vals);
        a->argv = malloc(nd->nargs * sizeof *a->argv);
        if (!a->vals || !a->argv) {
            free(a->vals);
            free(a->argv);
            fail(c, MLF_ENOMEM, "out of memory");
            return MLF_ENOMEM;
        }
    }
    int rc = eval_args(c, nd, a->vals, a->argv);
    if (rc != MLF_OK && nd->nargs > 8) {
        free(a->vals);
        free(a->argv);
    }
    return rc;
}

static void args_free(const tpl_node *nd, args *a)
{
    free_args(a->vals, nd->nargs);
    if (nd->nargs > 8) {
        free(a->vals);
        free(a->argv);
    }
}

static int eval_name(rctx *c, const tpl_node *nd, tval *out)
{
    for (size_t i = c->nloops; i-- > 0;) { /* loop variables shadow the environment's names */
        if (strcmp(nd->name, c->loops[i].var) == 0) {
            out->v = c->loops[i].item;
            return MLF_OK;
        }
        if (strcmp(nd->name, "loop") == 0) {
            out->v = c->loops[i].loop;
            return MLF_OK;
        }
    }
    const mlf_value *v = NULL;
    int rc = c->env && c->env->lookup ? c->env->lookup(c->env->ud, nd->name, &v) : MLF_ENOTFOUND;
    if (rc == MLF_ENOTFOUND || (rc == MLF_OK && !v)) {
        char hint[80];
        did_you_mean(nd->name, c->env ? c->env->names : NULL, c->env ? c->env->nnames : 0, hint, sizeof hint);
        return undefined(c, out, MLF_ENOTFOUND, "'%s' is undefined%s", nd->name, hint);
    }
    if (rc != MLF_OK)
        return fail(c, rc, "looking up '%s': %s", nd->name, mlf_strerror(rc));
    out->v = v;
    return MLF_OK;
}

/* obj[key] for a str key: a map entry. */
static int get_key(rctx *c, const tpl_node *nd, const mlf_value *obj, const char *key, size_t keylen, tval *out)
{
    char what[64];
    snip(c, nd->a, what, sizeof what);
    mlf_type type = mlf_value_type(obj);
    if (type != MLF_MAP)
        return undefined(c, out, MLF_ENOTFOUND, "'%s' is %s %s, it has no key '%s'", what,
                         type == MLF_ARRAY || type == MLF_INT ? "an" : "a", mlf_type_name(type), key);
    const mlf_value *v = strlen(key) == keylen ? mlf_map_get(obj, key) : NULL;
    if (!v) {
        size_t n = mlf_value_len(obj);
        const char **keys = malloc((n ? n : 1) * sizeof *keys);
        char hint[80] = "";
        if (keys) { /* without memory, no suggestion */
            for (size_t i = 0; i < n; i++)
                keys[i] = mlf_map_key_at(obj, i);
            did_you_mean(key, keys, n, hint, sizeof hint);
            free(keys);
        }
        return undefined(c, out, MLF_ENOTFOUND, "'%s' has no key '%s'%s", what, key, hint);
    }
    out->v = v;
    return MLF_OK;
}

/* obj[i] for an integer index: an array element or a character of a string; negative counts from
 * the end, as in Python. */
static int get_index(rctx *c, const tpl_node *nd, const mlf_value *obj, int64_t i, tval *out)
{
    char what[64];
    snip(c, nd->a, what, sizeof what);
    mlf_type type = mlf_value_type(obj);
    const char *s = NULL;
    size_t n = 0;
    if (type == MLF_ARRAY)
        n = mlf_value_len(obj);
    else if (type == MLF_STR) {
        s = mlf_value_get_str(obj, &n);
        n = tpl_utf8_count(s, n);
    } else
        return undefined(c, out, MLF_ENOTFOUND, "'%s' is %s %s, it cannot be indexed by number", what,
                         type == MLF_INT ? "an" : "a", mlf_type_name(type));
    int64_t k = i < 0 ? i + (int64_t)n : i;
    if (k < 0 || (uint64_t)k >= n)
        return undefined(c, out, MLF_ERANGE, "index %lld is out of range for '%s' (%s of length %zu)",
                         (long long)i, what, type == MLF_ARRAY ? "an array" : "a string", n);
    if (type == MLF_ARRAY) {
        out->v = mlf_array_at(obj, (size_t)k);
        return MLF_OK;
    }
    size_t bytes = mlf_value_len(obj), at = 0;
    for (int64_t step = 0; step < k; step++)
        at = tpl_utf8_next(s, bytes, at);
    return set_own(out, mlf_value_strn(s + at, tpl_utf8_next(s, bytes, at) - at));
}

static int eval_access(rctx *c, const tpl_node *nd, tval *out)
{
    tval obj = {0}, key = {0};
    int rc = eval(c, nd->a, &obj);
    if (rc != MLF_OK || !obj.v) /* access on an undefined value stays undefined */
        return rc;
    if (nd->kind == TPL_ATTR) {
        rc = get_key(c, nd, obj.v, nd->name, strlen(nd->name), out);
    } else if ((rc = eval(c, nd->b, &key)) == MLF_OK && (rc = need(c, &key)) == MLF_OK) {
        int64_t i;
        size_t keylen;
        const char *ks = mlf_value_get_str(key.v, &keylen);
        if (ks)
            rc = get_key(c, nd, obj.v, ks, keylen, out);
        else if (mlf_value_type(key.v) == MLF_INT && mlf_value_get_int(key.v, &i) == MLF_OK)
            rc = get_index(c, nd, obj.v, i, out);
        else
            rc = fail(c, MLF_ETYPE, "a subscript must be a string or an integer, got %s",
                      mlf_type_name(mlf_value_type(key.v)));
    }
    tval_free(&key);
    /* A part of an owned container must outlive it. */
    if (rc == MLF_OK && obj.own && out->v && !out->own)
        rc = set_own(out, mlf_value_copy(out->v));
    tval_free(&obj);
    return rc;
}

static int eval_list(rctx *c, const tpl_node *nd, tval *out)
{
    mlf_value *arr = mlf_value_array();
    if (!arr)
        return MLF_ENOMEM;
    int rc = MLF_OK;
    for (size_t i = 0; i < nd->nargs && rc == MLF_OK; i++) {
        tval item = {0};
        rc = eval(c, nd->args[i], &item);
        if (rc == MLF_OK)
            rc = need(c, &item);
        if (rc == MLF_OK) {
            mlf_value *copy = item.own ? item.own : mlf_value_copy(item.v);
            item.own = NULL;
            rc = copy ? mlf_array_append(arr, copy) : MLF_ENOMEM;
        }
        tval_free(&item);
    }
    if (rc != MLF_OK) {
        mlf_value_free(arr);
        return rc;
    }
    return set_own(out, arr);
}

static int eval_call(rctx *c, const tpl_node *nd, tval *out)
{
    if (!c->env || !c->env->call)
        return fail(c, MLF_ENOTSUP, "macro '%s' cannot be called: no macros are available here", nd->name);
    args a;
    int rc = args_eval(c, nd, &a);
    if (rc != MLF_OK)
        return rc;
    mlf_value *v = NULL;
    char merr[256] = "";
    rc = c->env->call(c->env->ud, nd->name, a.argv, nd->nargs, &v, merr, sizeof merr);
    args_free(nd, &a);
    if (rc != MLF_OK) {
        if (merr[0])
            return fail(c, rc, "macro '%s': %s", nd->name, merr);
        if (rc == MLF_ENOTFOUND)
            return fail(c, rc, "'%s' is not a known macro", nd->name);
        return fail(c, rc, "macro '%s' failed: %s", nd->name, mlf_strerror(rc));
    }
    if (!v)
        return fail(c, MLF_EPLUGIN, "macro '%s' returned no value", nd->name);
    return set_own(out, v);
}

/* x | default(value='', boolean=false): the value when x is undefined (or false, when boolean is). */
static int filter_default(const tpl_node *nd, tval *in, const mlf_value *const *argv, tval *out)
{
    if (in->v && !(nd->nargs > 1 && truthy(argv[1]) && !truthy(in->v))) {
        *out = *in;
        *in = (tval){0};
        return MLF_OK;
    }
    return set_own(out, nd->nargs ? mlf_value_copy(argv[0]) : mlf_value_str(""));
}

static int eval_filter(rctx *c, const tpl_node *nd, tval *out)
{
    tval in = {0};
    int rc = eval(c, nd->a, &in);
    if (rc == MLF_OK && nd->filter->fn)
        rc = need(c, &in);
    args a;
    if (rc != MLF_OK || (rc = args_eval(c, nd, &a)) != MLF_OK) {
        tval_free(&in);
        return rc;
    }
    if (!nd->filter->fn) {
        rc = filter_default(nd, &in, a.argv, out);
    } else {
        mlf_value *v = NULL;
        char ferr[256] = "";
        rc = nd->filter->fn(in.v, a.argv, nd->nargs, &v, ferr, sizeof ferr);
        if (rc == MLF_OK)
            rc = set_own(out, v);
        else
            rc = fail(c, rc, "filter '%s': %s", nd->filter->name, ferr[0] ? ferr : mlf_strerror(rc));
    }
    args_free(nd, &a);
    tval_free(&in);
    return rc;
}

static int eval_concat(rctx *c, const tval *a, const tval *b, tval *out)
{
    char *ta, *tb;
    size_t na, nb;
    const char *sa = tpl_text_of(a->v, &na, &ta);
    const char *sb = sa ? tpl_text_of(b->v, &nb, &tb) : NULL;
    mlf_buf buf = {0};
    int rc = sb ? mlf_buf_append(&buf, sa, na) : MLF_ENOMEM;
    if (rc == MLF_OK && na + nb > MLF_TEMPLATE_MAX_STRING)
        rc = fail(c, MLF_ETOOBIG, "joining strings: the result would be longer than %u bytes", MLF_TEMPLATE_MAX_STRING);
    if (rc == MLF_OK)
        rc = mlf_buf_append(&buf, sb, nb);
    if (rc == MLF_OK)
        rc = set_own(out, mlf_value_strn(buf.data ? buf.data : "", buf.len));
    mlf_buf_free(&buf);
    free(ta);
    if (sa)
        free(tb);
    return rc == MLF_ENOMEM ? fail(c, rc, "out of memory") : rc;
}

static int is_number(mlf_type t)
{
    return t == MLF_INT || t == MLF_FLOAT;
}

static int eval_arith(rctx *c, tpl_node_kind kind, const tval *a, const tval *b, tval *out)
{
    mlf_type ta = mlf_value_type(a->v), tb = mlf_value_type(b->v);
    char op = kind == TPL_ADD ? '+' : '-';
    if (ta == MLF_INT && tb == MLF_INT) {
        int64_t x = 0, y = 0, r;
        mlf_value_get_int(a->v, &x);
        mlf_value_get_int(b->v, &y);
        if (kind == TPL_ADD ? __builtin_add_overflow(x, y, &r) : __builtin_sub_overflow(x, y, &r))
            return fail(c, MLF_ERANGE, "integer overflow in %lld %c %lld", (long long)x, op, (long long)y);
        return set_own(out, mlf_value_int(r));
    }
    if (is_number(ta) && is_number(tb)) {
        double x = 0, y = 0;
        mlf_value_get_float(a->v, &x);
        mlf_value_get_float(b->v, &y);
        return set_own(out, mlf_value_float(kind == TPL_ADD ? x + y : x - y));
    }
    if (kind == TPL_ADD && ta == MLF_STR && tb == MLF_STR)
        return eval_concat(c, a, b, out);
    if (kind == TPL_ADD && ta == MLF_ARRAY && tb == MLF_ARRAY) {
        mlf_value *arr = mlf_value_copy(a->v);
        int rc = arr ? MLF_OK : MLF_ENOMEM;
        for (size_t i = 0; i < mlf_value_len(b->v) && rc == MLF_OK; i++) {
            mlf_value *copy = mlf_value_copy(mlf_array_at(b->v, i));
            rc = copy ? mlf_array_append(arr, copy) : MLF_ENOMEM;
        }
        if (rc != MLF_OK) {
            mlf_value_free(arr);
            return fail(c, rc, "out of memory");
        }
        return set_own(out, arr);
    }
    return fail(c, MLF_ETYPE, "unsupported operand types for %c: %s and %s%s", op, mlf_type_name(ta),
                mlf_type_name(tb), kind == TPL_ADD && (ta == MLF_STR || tb == MLF_STR) ? " (use ~ to join values as text)" : "");
}

static int eval_sign(rctx *c, tpl_node_kind kind, const tval *a, tval *out)
{
    mlf_type t = mlf_value_type(a->v);
    char op = kind == TPL_NEG ? '-' : '+';
    if (t == MLF_INT) {
        int64_t x = 0;
        mlf_value_get_int(a->v, &x);
        if (kind == TPL_NEG && x == INT64_MIN)
            return fail(c, MLF_ERANGE, "integer overflow in -(%lld)", (long long)x);
        return set_own(out, mlf_value_int(kind == TPL_NEG ? -x : x));
    }
    if (t == MLF_FLOAT) {
        double x = 0;
        mlf_value_get_float(a->v, &x);
        return set_own(out, mlf_value_float(kind == TPL_NEG ? -x : x));
    }
    return fail(c, MLF_ETYPE, "bad operand type for unary %c: %s", op, mlf_type_name(t));
}

/* Python's == between numbers (bools count as 0 and 1), else mlflowd's value equality. */
static int values_equal(const mlf_value *a, const mlf_value *b)
{
    mlf_type ta = mlf_value_type(a), tb = mlf_value_type(b);
    if ((is_number(ta) || ta == MLF_BOOL) && (is_number(tb) || tb == MLF_BOOL)) {
        if (ta == MLF_FLOAT || tb == MLF_FLOAT) {
            double x = 0, y = 0;
            int bx = 0, by = 0;
            if (ta == MLF_BOOL)
                mlf_value_get_bool(a, &bx), x = bx;
            else
                mlf_value_get_float(a, &x);
            if (tb == MLF_BOOL)
                mlf_value_get_bool(b, &by), y = by;
            else
                mlf_value_get_float(b, &y);
            return x == y;
        }
        int64_t x = 0, y = 0;
        int bx = 0, by = 0;
        if (ta == MLF_BOOL)
            mlf_value_get_bool(a, &bx), x = bx;
        else
            mlf_value_get_int(a, &x);
        if (tb == MLF_BOOL)
            mlf_value_get_bool(b, &by), y = by;
        else
            mlf_value_get_int(b, &y);
        return x == y;
    }
    return mlf_value_equal(a, b);
}

/* Python's ordering of two numbers or two strings (code point order is UTF-8's byte order): -1, 0, 1 in
 * *order, or MLF_ETYPE. */
static int values_order(rctx *c, const tpl_node *nd, const mlf_value *a, const mlf_value *b, int *order)
{
    mlf_type ta = mlf_value_type(a), tb = mlf_value_type(b);
    if (is_number(ta) && is_number(tb)) {
        if (ta == MLF_INT && tb == MLF_INT) {
            int64_t x = 0, y = 0;
            mlf_value_get_int(a, &x);
            mlf_value_get_int(b, &y);
            *order = (x > y) - (x < y);
        } else {
            double x = 0, y = 0;
            mlf_value_get_float(a, &x);
            mlf_value_get_float(b, &y);
            *order = (x > y) - (x < y);
        }
        return MLF_OK;
    }
    if (ta == MLF_STR && tb == MLF_STR) {
        size_t la, lb;
        const char *sa = mlf_value_get_str(a, &la), *sb = mlf_value_get_str(b, &lb);
        int r = memcmp(sa, sb, la < lb ? la : lb);
        *order = r ? (r > 0) - (r < 0) : (la > lb) - (la < lb);
        return MLF_OK;
    }
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    return fail(c, MLF_ETYPE, "'%s' is not supported between %s and %s (numbers with numbers, strings with strings)",
                ops[nd->op], mlf_type_name(ta), mlf_type_name(tb));
}

/* x in seq: a substring of a string, an element of a list (==), a key of a map. */
static int value_in(rctx *c, const mlf_value *x, const mlf_value *seq, int *in)
{
    mlf_type ts = mlf_value_type(seq);
    *in = 0;
    if (ts == MLF_STR) {
        if (mlf_value_type(x) != MLF_STR)
            return fail(c, MLF_ETYPE, "'in <string>' requires a string on the left, not %s",
                        mlf_type_name(mlf_value_type(x)));
        size_t lx, ls;
        const char *sx = mlf_value_get_str(x, &lx), *ss = mlf_value_get_str(seq, &ls);
        *in = lx == 0 || (lx <= ls && memmem(ss, ls, sx, lx) != NULL);
        return MLF_OK;
    }
    if (ts == MLF_ARRAY) {
        for (size_t i = 0; i < mlf_value_len(seq) && !*in; i++)
            *in = values_equal(x, mlf_array_at(seq, i));
        return MLF_OK;
    }
    if (ts == MLF_MAP) {
        if (mlf_value_type(x) == MLF_STR)
            *in = mlf_map_get(seq, mlf_value_get_str(x, NULL)) != NULL;
        return MLF_OK;
    }
    return fail(c, MLF_ETYPE, "'in' needs a string, a list or a map on the right, not %s", mlf_type_name(ts));
}

static int eval_compare(rctx *c, const tpl_node *nd, const tval *a, const tval *b, tval *out)
{
    int r = 0, order = 0, rc = MLF_OK;
    switch (nd->op) {
    case TPL_EQ: r = values_equal(a->v, b->v); break;
    case TPL_NE: r = !values_equal(a->v, b->v); break;
    case TPL_IN:
    case TPL_NOT_IN:
        rc = value_in(c, a->v, b->v, &r);
        r = nd->op == TPL_IN ? r : !r;
        break;
    default:
        rc = values_order(c, nd, a->v, b->v, &order);
        r = nd->op == TPL_LT ? order < 0 : nd->op == TPL_LE ? order <= 0 : nd->op == TPL_GT ? order > 0 : order >= 0;
        break;
    }
    return rc != MLF_OK ? rc : set_own(out, mlf_value_bool(r));
}

/* and, or, not and the conditional expression: operands evaluated only when needed, as in Python. Using an
 * undefined value as a condition is an error (Airflow renders with StrictUndefined). */
static int eval_logic(rctx *c, const tpl_node *nd, tval *out)
{
    tval a = {0};
    const tpl_node *cond = nd->kind == TPL_COND ? nd->b : nd->a;
    int rc = eval(c, cond, &a);
    if (rc == MLF_OK)
        rc = need(c, &a);
    if (rc != MLF_OK) {
        tval_free(&a);
        return rc;
    }
    int t = truthy(a.v);
    switch (nd->kind) {
    case TPL_NOT:
        tval_free(&a);
        return set_own(out, mlf_value_bool(!t));
    case TPL_AND:
    case TPL_OR:
        if (t == (nd->kind == TPL_OR)) { /* the left operand decides: it is the value */
            *out = a;
            return MLF_OK;
        }
        tval_free(&a);
        return eval(c, nd->b, out);
    default: /* TPL_COND */
        tval_free(&a);
        if (t)
            return eval(c, nd->a, out);
        if (nd->nargs)
            return eval(c, nd->args[0], out);
        return undefined(c, out, MLF_ENOTFOUND, "the condition of '%.*s' is false and it has no else",
                         (int)(nd->len > 60 ? 60 : nd->len), c->t->src + nd->off);
    }
}

/* Operators: both operands must be defined. */
static int eval_operator(rctx *c, const tpl_node *nd, tval *out)
{
    tval a = {0}, b = {0};
    int rc = eval(c, nd->a, &a);
    if (rc == MLF_OK)
        rc = need(c, &a);
    if (rc == MLF_OK && nd->b && (rc = eval(c, nd->b, &b)) == MLF_OK)
        rc = need(c, &b);
    if (rc == MLF_OK) {
        switch (nd->kind) {
        case TPL_CONCAT: rc = eval_concat(c, &a, &b, out); break;
        case TPL_CMP: rc = eval_compare(c, nd, &a, &b, out); break;
        case TPL_ADD:
        case TPL_SUB: rc = eval_arith(c, nd->kind, &a, &b, out); break;
        default: rc = eval_sign(c, nd->kind, &a, out); break;
        }
    }
    tval_free(&a);
    tval_free(&b);
    return rc;
}

/* Evaluates @p nd into *out (zero-initialised by the caller). Undefined values are MLF_OK with
 * out->v NULL. Recursion is bounded by the tree depth (MLF_TEMPLATE_MAX_DEPTH). */
static int eval(rctx *c, const tpl_node *nd, tval *out)
{
    int rc;
    switch (nd->kind) {
    case TPL_LIT: out->v = nd->lit; return MLF_OK;
    case TPL_NAME: rc = eval_name(c, nd, out); break;
    case TPL_ATTR:
    case TPL_INDEX: rc = eval_access(c, nd, out); break;
    case TPL_LIST: rc = eval_list(c, nd, out); break;
    case TPL_CALL: rc = eval_call(c, nd, out); break;
    case TPL_FILTER: rc = eval_filter(c, nd, out); break;
    case TPL_AND:
    case TPL_OR:
    case TPL_NOT:
    case TPL_COND: rc = eval_logic(c, nd, out); break;
    default: rc = eval_operator(c, nd, out); break;
    }
    if (rc == MLF_ENOMEM)
        fail(c, rc, "out of memory");
    return rc;
}

/* Parts run at most this many times in one rendering (loops over large lists in loops), so that a
 * template cannot keep the scheduler busy for long. */
#define TPL_MAX_STEPS 10000000u

static void loop_free(loop_frame *f)
{
    tval_free(&f->seq);
    mlf_value_free(f->key);
    mlf_value_free(f->loop);
}

/* Sets the loop variable and `loop` for element f->i. */
static int loop_bind(rctx *c, loop_frame *f)
{
    mlf_value_free(f->key);
    mlf_value_free(f->loop);
    f->key = f->loop = NULL;
    if (mlf_value_type(f->seq.v) == MLF_MAP) {
        if (!(f->key = mlf_value_str(mlf_map_key_at(f->seq.v, f->i))))
            return fail(c, MLF_ENOMEM, "out of memory");
        f->item = f->key;
    } else {
        f->item = mlf_array_at(f->seq.v, f->i);
    }
    mlf_value *l = mlf_value_map();
    if (!l)
        return fail(c, MLF_ENOMEM, "out of memory");
    f->loop = l;
    int64_t i = (int64_t)f->i, n = (int64_t)f->n;
    if (mlf_map_set(l, "index", mlf_value_int(i + 1)) || mlf_map_set(l, "index0", mlf_value_int(i)) ||
        mlf_map_set(l, "revindex", mlf_value_int(n - i)) || mlf_map_set(l, "revindex0", mlf_value_int(n - i - 1)) ||
        mlf_map_set(l, "first", mlf_value_bool(i == 0)) || mlf_map_set(l, "last", mlf_value_bool(i == n - 1)) ||
        mlf_map_set(l, "length", mlf_value_int(n)))
        return fail(c, MLF_ENOMEM, "out of memory");
    return MLF_OK;
}

/* The truth of an {% if %} / {% elif %} condition in *truth. */
static int test_condition(rctx *c, const tpl_part *part, int *truth)
{
    tval v = {0};
    int rc = eval(c, part->expr, &v);
    if (rc == MLF_OK)
        rc = need(c, &v);
    *truth = rc == MLF_OK && truthy(v.v);
    tval_free(&v);
    return rc;
}

/* Renders the template as text, running its statements; @p pre, when given, is the already computed
 * value of the one expression part (ownership taken). */
static int render_text(rctx *c, tval *pre, mlf_value **out)
{
    const mlf_template *t = c->t;
    mlf_buf b = {0};
    int rc = MLF_OK;
    unsigned steps = 0;
    for (size_t i = 0; i < t->nparts && rc == MLF_OK;) {
        const tpl_part *part = &t->parts[i];
        if (++steps > TPL_MAX_STEPS) {
            rc = fail(c, MLF_ETOOBIG, "the template runs too long (more than %u steps)", TPL_MAX_STEPS);
            break;
        }
        int truth = 0;
        switch (part->kind) {
        case TPL_P_TEXT:
            rc = mlf_buf_append(&b, t->src + part->off, part->len);
            i++;
            continue;
        case TPL_P_IF:
            if ((rc = test_condition(c, part, &truth)) != MLF_OK)
                continue;
            /* false: on to the next branch; an ELIF reached this way tests its own condition */
            while (!truth) {
                i = part->next;
                part = &t->parts[i];
                if (part->kind != TPL_P_ELIF)
                    break;
                if ((rc = test_condition(c, part, &truth)) != MLF_OK)
                    break;
            }
            i++;
            continue;
        case TPL_P_ELIF:
        case TPL_P_ELSE: /* reached after a branch ran: the if is done */
            i = part->end + 1;
            continue;
        case TPL_P_ENDIF:
            i++;
            continue;
        case TPL_P_FOR: {
            loop_frame *f = &c->loops[c->nloops];
            *f = (loop_frame){.var = part->var};
            if ((rc = eval(c, part->expr, &f->seq)) == MLF_OK)
                rc = need(c, &f->seq);
            mlf_type ty = mlf_value_type(f->seq.v);
            if (rc == MLF_OK && ty != MLF_ARRAY && ty != MLF_MAP)
                rc = fail(c, MLF_ETYPE, "{%% for %%} needs a list or a map, not %s", mlf_type_name(ty));
            f->n = rc == MLF_OK ? mlf_value_len(f->seq.v) : 0;
            if (rc != MLF_OK || f->n == 0) {
                loop_free(f);
                i = part->end + 1;
                continue;
            }
            c->nloops++;
            rc = loop_bind(c, f);
            i++;
            continue;
        }
        case TPL_P_ENDFOR: {
            loop_frame *f = &c->loops[c->nloops - 1];
            if (++f->i < f->n) {
                rc = loop_bind(c, f);
                i = part->next + 1;
            } else {
                loop_free(f);
                c->nloops--;
                i++;
            }
            continue;
        }
        case TPL_P_EXPR: break;
        }
        tval v = {0};
        if (pre && i == t->expr_part) {
            v = *pre;
            *pre = (tval){0};
        } else if ((rc = eval(c, part->expr, &v)) == MLF_OK) {
            rc = need(c, &v);
        }
        if (rc == MLF_OK) {
            char *tmp;
            size_t n;
            const char *s = tpl_text_of(v.v, &n, &tmp);
            rc = s ? mlf_buf_append(&b, s, n) : MLF_ENOMEM;
            free(tmp);
        }
        tval_free(&v);
        if (rc == MLF_OK && b.len > MLF_TEMPLATE_MAX_STRING)
            rc = fail(c, MLF_ETOOBIG, "the rendered text would be longer than %u bytes", MLF_TEMPLATE_MAX_STRING);
        i++;
    }
    while (c->nloops) /* left early on an error */
        loop_free(&c->loops[--c->nloops]);
    if (pre)
        tval_free(pre);
    if (rc == MLF_OK && !(*out = mlf_value_strn(b.data ? b.data : "", b.len)))
        rc = MLF_ENOMEM;
    mlf_buf_free(&b);
    return rc == MLF_ENOMEM ? fail(c, rc, "out of memory") : rc;
}

int mlf_template_render(const mlf_template *t, const mlf_template_env *env, mlf_value **out, char *err,
                        size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!t || !out)
        return MLF_EINVAL;
    *out = NULL;
    rctx c = {.t = t, .env = env, .err = err, .errlen = errlen};
    if (t->kind == MLF_TEMPLATE_LITERAL) {
        *out = mlf_value_strn(t->literal, t->literal_len);
        return *out ? MLF_OK : fail(&c, MLF_ENOMEM, "out of memory");
    }
    if (t->kind == MLF_TEMPLATE_TEXT)
        return render_text(&c, NULL, out);
    tval v = {0};
    int rc = eval(&c, t->parts[t->expr_part].expr, &v);
    if (rc == MLF_OK)
        rc = need(&c, &v);
    if (rc != MLF_OK) {
        tval_free(&v);
        return rc;
    }
    if (mlf_value_type(v.v) == MLF_STR) /* text: the whitespace around the expression stays */
        return render_text(&c, &v, out);
    *out = v.own ? v.own : mlf_value_copy(v.v);
    return *out ? MLF_OK : fail(&c, MLF_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------------------------------ values */

/* Renders one string; errors are prefixed with @p path (where the string sits) when it is not empty. */
static int render_string(const mlf_value *in, const mlf_template_env *env, const mlf_buf *path, mlf_value **out,
                         char *err, size_t errlen)
{
    size_t n;
    const char *s = mlf_value_get_str(in, &n);
    char msg[512] = "";
    mlf_template *t = NULL;
    int rc = mlf_template_compile(s, n, &t, msg, sizeof msg);
    if (rc == MLF_OK)
        rc = mlf_template_render(t, env, out, msg, sizeof msg);
    mlf_template_free(t);
    if (rc != MLF_OK && err && errlen) {
        if (path->len)
            snprintf(err, errlen, "%s: %s", path->data, msg);
        else
            mlf_strlcpy(err, msg, errlen);
    }
    return rc;
}

static int render_walk(const mlf_value *in, const mlf_template_env *env, mlf_buf *path, unsigned depth,
                       mlf_value **out, char *err, size_t errlen)
{
    mlf_type type = mlf_value_type(in);
    if (type == MLF_STR)
        return render_string(in, env, path, out, err, errlen);
    if (type != MLF_ARRAY && type != MLF_MAP) {
        *out = mlf_value_copy(in);
        return *out ? MLF_OK : MLF_ENOMEM;
    }
    if (depth >= MLF_VALUE_MAX_DEPTH) {
        if (err && errlen)
            snprintf(err, errlen, "%s%svalue nested deeper than %d levels", path->len ? path->data : "",
                     path->len ? ": " : "", MLF_VALUE_MAX_DEPTH);
        return MLF_ERANGE;
    }
    mlf_value *res = type == MLF_ARRAY ? mlf_value_array() : mlf_value_map();
    int rc = res ? MLF_OK : MLF_ENOMEM;
    size_t mark = path->len;
    for (size_t i = 0; i < mlf_value_len(in) && rc == MLF_OK; i++) {
        const char *key = type == MLF_MAP ? mlf_map_key_at(in, i) : NULL;
        rc = key ? mlf_buf_printf(path, "%s%s", mark ? "." : "", key) : mlf_buf_printf(path, "[%zu]", i);
        mlf_value *item = NULL;
        if (rc == MLF_OK)
            rc = render_walk(key ? mlf_map_value_at(in, i) : mlf_array_at(in, i), env, path, depth + 1, &item,
                             err, errlen);
        if (rc == MLF_OK)
            rc = key ? mlf_map_set(res, key, item) : mlf_array_append(res, item);
        path->len = mark;
        if (path->data)
            path->data[mark] = '\0';
    }
    if (rc != MLF_OK) {
        mlf_value_free(res);
        if (rc == MLF_ENOMEM && err && errlen && !err[0])
            mlf_strlcpy(err, "out of memory", errlen);
        return rc;
    }
    *out = res;
    return MLF_OK;
}

int mlf_template_render_value(const mlf_value *in, const mlf_template_env *env, mlf_value **out, char *err,
                              size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!in || !out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_buf path = {0};
    int rc = render_walk(in, env, &path, 0, out, err, errlen);
    mlf_buf_free(&path);
    return rc;
}
