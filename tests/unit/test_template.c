/* Unit tests for the template engine: core/template.c, template_render.c, template_filters.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "tmpl/template.h"
#include "tmpl/template_macros.h"

/* ------------------------------------------------------------------------------------------ fixture */

static mlf_value *ctx; /* the names templates see: a map */
static const char *ctx_names[16]; /* its keys, for suggestions */

static mlf_value *str_list(const char *a, const char *b)
{
    mlf_value *l = mlf_value_array();
    mlf_array_append(l, mlf_value_str(a));
    mlf_array_append(l, mlf_value_str(b));
    return l;
}

static void setup(void)
{
    ctx = mlf_value_map();
    mlf_map_set(ctx, "ds", mlf_value_str("2024-01-05"));
    mlf_map_set(ctx, "ds_nodash", mlf_value_str("20240105"));
    mlf_map_set(ctx, "try_number", mlf_value_int(2));
    mlf_map_set(ctx, "nothing", mlf_value_nil());
    mlf_map_set(ctx, "yes", mlf_value_bool(1));
    mlf_map_set(ctx, "no", mlf_value_bool(0));
    mlf_map_set(ctx, "ratio", mlf_value_float(1.5));
    mlf_map_set(ctx, "empty", mlf_value_str(""));
    mlf_map_set(ctx, "name", mlf_value_str("  Crypto Daily  "));
    mlf_map_set(ctx, "big", mlf_value_int(INT64_MAX));
    mlf_map_set(ctx, "blob", mlf_value_bin("\x01\x02\x03", 3));
    mlf_map_set(ctx, "word", mlf_value_str("h\xc3\xa9llo")); /* héllo: 5 characters, 6 bytes */
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "dir", mlf_value_str("/data"));
    mlf_map_set(params, "window", mlf_value_int(30));
    mlf_map_set(params, "symbols", str_list("btc", "eth"));
    mlf_map_set(params, "count", mlf_value_str("42"));
    mlf_map_set(ctx, "params", params);
    mlf_value *xcom = mlf_value_map();
    mlf_map_set(xcom, "predict", str_list("store", "trade"));
    mlf_value *train = mlf_value_map();
    mlf_map_set(train, "model", mlf_value_str("m1"));
    mlf_map_set(xcom, "train", train);
    mlf_map_set(ctx, "xcom", xcom);
    mlf_value *mixed = mlf_value_array();
    mlf_array_append(mixed, mlf_value_int(1));
    mlf_array_append(mixed, mlf_value_str("a"));
    mlf_map_set(ctx, "mixed", mixed);
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "k", mlf_value_str("v"));
    mlf_map_set(ctx, "m", m);
    ck_assert_uint_eq(mlf_value_len(ctx), 16);
    for (size_t i = 0; i < 16; i++)
        ctx_names[i] = mlf_map_key_at(ctx, i);
}

static void teardown(void)
{
    mlf_value_free(ctx);
    ctx = NULL;
}

static int lookups; /* how many times the lookup callback ran */

static int lookup(void *ud, const char *name, const mlf_value **out)
{
    lookups++;
    if (strcmp(name, "broken") == 0)
        return MLF_EIO;
    const mlf_value *v = mlf_map_get(ud, name);
    if (!v)
        return MLF_ENOTFOUND;
    *out = v;
    return MLF_OK;
}

/* Macros for tests: echo(args...) returns its arguments as a list; shift(ds, n) appends "+n";
 * fail() fails with a reason; silent() fails without one; novalue() succeeds without a value. Other
 * names go to the built-in macros (ds_add, ds_format). */
static int call(void *ud, const char *name, const mlf_value *const *args, size_t nargs, mlf_value **out, char *err,
                size_t errlen)
{
    if (strcmp(name, "echo") == 0) {
        *out = mlf_value_array();
        for (size_t i = 0; i < nargs; i++)
            mlf_array_append(*out, mlf_value_copy(args[i]));
        return MLF_OK;
    }
    if (strcmp(name, "shift") == 0) {
        int64_t n = 0;
        if (nargs != 2 || !mlf_value_get_str(args[0], NULL) || mlf_value_get_int(args[1], &n) != MLF_OK) {
            snprintf(err, errlen, "expected (ds, days)");
            return MLF_EINVAL;
        }
        char *s = mlf_strdup_printf("%s%+lld", mlf_value_get_str(args[0], NULL), (long long)n);
        *out = mlf_value_str(s);
        free(s);
        return MLF_OK;
    }
    if (strcmp(name, "fail") == 0) {
        snprintf(err, errlen, "it broke");
        return MLF_EINVAL;
    }
    if (strcmp(name, "silent") == 0)
        return MLF_EIO;
    if (strcmp(name, "novalue") == 0)
        return MLF_OK;
    return mlf_template_call_builtin(ud, name, args, nargs, out, err, errlen);
}

static mlf_template_env env(void)
{
    return (mlf_template_env){.lookup = lookup, .call = call, .ud = ctx, .names = ctx_names, .nnames = 16};
}

/* Compiles and renders @p text; the error message (if any) goes to @p err (256 bytes). */
static int render(const char *text, mlf_value **out, char *err)
{
    mlf_template *t = NULL;
    *out = NULL;
    int rc = mlf_template_compile(text, strlen(text), &t, err, 256);
    if (rc != MLF_OK) {
        ck_assert_ptr_null(t);
        return rc;
    }
    mlf_template_env e = env();
    rc = mlf_template_render(t, &e, out, err, 256);
    if (rc != MLF_OK)
        ck_assert_ptr_null(*out);
    mlf_template_free(t);
    return rc;
}

/* @p text renders to the string @p want. */
#define expect_str(text, want)                                                                     \
    do {                                                                                           \
        mlf_value *v_;                                                                             \
        char e_[256];                                                                              \
        int rc_ = render((text), &v_, e_);                                                         \
        ck_assert_msg(rc_ == MLF_OK, "%s: %s", (text), e_);                                         \
        ck_assert_msg(mlf_value_type(v_) == MLF_STR, "%s: not a string", (text));                 \
        ck_assert_str_eq(mlf_value_get_str(v_, NULL), (want));                                    \
        mlf_value_free(v_);                                                                        \
    } while (0)

/* @p text fails (to compile or render) with @p code and a message containing @p part. */
#define expect_err(text, code, part)                                                               \
    do {                                                                                           \
        mlf_value *v_;                                                                             \
        char e_[256];                                                                              \
        int rc_ = render((text), &v_, e_);                                                         \
        ck_assert_msg(rc_ == (code), "%s: got %d (%s), want %d", (text), rc_, e_, (code));          \
        ck_assert_msg(strstr(e_, (part)) != NULL, "%s: message '%s' lacks '%s'", (text), e_, (part)); \
    } while (0)

/* ------------------------------------------------------------------------------------------ syntax */

START_TEST(test_literal_fast_path)
{
    mlf_template *t;
    char err[128];
    const char *text = "echo } {x} { { }} done";
    ck_assert_int_eq(mlf_template_compile(text, strlen(text), &t, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_template_get_kind(t), MLF_TEMPLATE_LITERAL);
    const char *const *names;
    size_t n;
    ck_assert_int_eq(mlf_template_names(t, &names, &n), MLF_OK);
    ck_assert_uint_eq(n, 0);
    mlf_value *v;
    ck_assert_int_eq(mlf_template_render(t, NULL, &v, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(v, NULL), text);
    mlf_value_free(v);
    mlf_template_free(t);

    /* Not NUL-terminated input, and the empty template. */
    ck_assert_int_eq(mlf_template_compile("abc{{", 3, &t, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_template_render(t, NULL, &v, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(v, NULL), "abc");
    mlf_value_free(v);
    mlf_template_free(t);
    expect_str("", "");
    ck_assert_int_eq(mlf_template_compile(NULL, 0, &t, err, sizeof err), MLF_OK);
    mlf_template_free(t);
    ck_assert_int_eq(mlf_template_compile(NULL, 1, &t, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_template_compile("x", 1, NULL, err, sizeof err), MLF_EINVAL);
    mlf_template_free(NULL);
}
END_TEST

START_TEST(test_stray_close_is_text)
{
    expect_str("a }} b", "a }} b");
    expect_str("{{ ds }}}}", "2024-01-05}}");
    expect_str("}", "}");
}
END_TEST

START_TEST(test_syntax_errors)
{
    expect_err("a {{ ds", MLF_EPARSE, "column 8: expected '}}' to close the '{{' at column 3, found end of text");
    expect_err("{{ ds }", MLF_EPARSE, "column 7: expected '}}' to close the '{{' at column 1, found '}'");
    expect_err("{{ ds ds }}", MLF_EPARSE, "column 7: expected '}}' to close the '{{' at column 1, found 'ds'");
    expect_err("{{ }}", MLF_EPARSE, "column 4: expected an expression, found '}}'");
    expect_err("{{ ds @ 1 }}", MLF_EPARSE, "column 7: unexpected character '@'");
    expect_err("{{ ds \xc3\xa9 }}", MLF_EPARSE, "column 7: unexpected character '\xc3\xa9'");
    expect_err("{{ ds \x01 }}", MLF_EPARSE, "column 7: unexpected byte 0x01");
    expect_err("{{ 'abc }}", MLF_EPARSE, "column 4: unterminated string (expected a closing ')");
    expect_err("{{ \"abc\\\" }}", MLF_EPARSE, "column 4: unterminated string (expected a closing \")");
    expect_err("{{ '\\x4' }}", MLF_EPARSE, "column 5: truncated \\x escape (expected 2 hex digits)");
    expect_err("{{ '\\ud800' }}", MLF_EPARSE, "invalid \\u escape: U+D800 is not a character");
    expect_err("{{ '\\U00110000' }}", MLF_EPARSE, "U+110000 is not a character");
    expect_err("{{ [1, 2 }}", MLF_EPARSE, "column 10: expected ',' or ']' to close the '[' at column 4, found '}}'");
    expect_err("{{ (ds }}", MLF_EPARSE, "column 8: expected ')' to close the '(' at column 4, found '}}'");
    expect_err("{{ ds[1 }}", MLF_EPARSE, "expected ']' to close the '[' at column 6");
    expect_err("{{ ds. }}", MLF_EPARSE, "column 8: expected a name or an index after '.', found '}}'");
    expect_err("{{ ds | }}", MLF_EPARSE, "column 9: expected a filter name after '|', found '}}'");
    expect_err("{{ ds | uper }}", MLF_EPARSE, "column 9: unknown filter 'uper' (did you mean 'upper'?)");
    expect_err("{{ ds | tojsn }}", MLF_EPARSE, "unknown filter 'tojsn' (did you mean 'tojson'?)");
    {
        mlf_value *v;
        char e[256];
        ck_assert_int_eq(render("{{ ds | slugify }}", &v, e), MLF_EPARSE);
        ck_assert_str_eq(e, "column 9: unknown filter 'slugify'"); /* nothing close: no suggestion */
    }
    expect_err("{{ ds | upper(1) }}", MLF_EPARSE, "filter 'upper' takes 0 arguments, got 1");
    expect_err("{{ ds | replace('a') }}", MLF_EPARSE, "filter 'replace' takes 2 to 3 arguments, got 1");
    expect_err("{{ ds | join(',', 1) }}", MLF_EPARSE, "filter 'join' takes 0 to 1 arguments, got 2");
    expect_err("{{ echo(1 2) }}", MLF_EPARSE, "expected ',' or ')' to close the '(' at column 8, found '2'");
    expect_err("{{ 1__0 }}", MLF_EPARSE, "column 4: invalid number literal");
    expect_err("{{ 0x }}", MLF_EPARSE, "invalid number literal");
    expect_err("{{ 12ab }}", MLF_EPARSE, "column 4: invalid number literal");
    expect_err("{{ 1.5e }}", MLF_EPARSE, "invalid number literal");
    expect_err("{{ 012 }}", MLF_EPARSE, "leading zeros are not allowed");
    expect_err("{{ 99999999999999999999 }}", MLF_ERANGE, "column 4: number literal out of range");
    expect_err("{{ 1e999 }}", MLF_ERANGE, "number literal out of range");
    expect_err("a {# note", MLF_EPARSE, "column 3: unclosed comment (expected '#}')");
    expect_err("{{ ds = 1 }}", MLF_EPARSE, "found '='");
    /* Positions in several lines, and columns in characters. */
    expect_err("first\nsecond {{ ds", MLF_EPARSE, "line 2, column 13: expected '}}' to close the '{{' at line 2, column 8");
    expect_err("\xc3\xa9\xc3\xa9 {{ @", MLF_EPARSE, "column 7: unexpected character '@'");
}
END_TEST

START_TEST(test_unsupported_syntax)
{
    expect_err("{{ 2 * 3 }}", MLF_ENOTSUP, "column 6: operator '*' is not supported yet (supported: ~ + -)");
    expect_err("{{ 2 ** 3 }}", MLF_ENOTSUP, "operator '**' is not supported yet");
    expect_err("{{ 7 // 2 }}", MLF_ENOTSUP, "operator '//' is not supported yet");
    expect_err("{{ 7 % 2 }}", MLF_ENOTSUP, "operator '%' is not supported yet");
    expect_err("{{ ds is defined }}", MLF_ENOTSUP, "tests ('is') are not supported yet");
    expect_err("x {% set a = 1 %}", MLF_ENOTSUP, "column 6: {% set %} is not supported (statements: if, elif, else, endif, for, endfor)");
    expect_err("{{ ds | default(value='x') }}", MLF_ENOTSUP, "keyword arguments are not supported yet (pass 'value' by position)");
    expect_err("{{ ds.replace('-', '') }}", MLF_ENOTSUP, "'ds.replace(...)': only macros can be called");
    expect_err("{{ echo(1)(2) }}", MLF_ENOTSUP, "only macros can be called");
    expect_err("{{ ds[0:4] }}", MLF_ENOTSUP, "column 8: slices are not supported yet");
    expect_err("{{ ds[:4] }}", MLF_ENOTSUP, "slices are not supported yet");
    expect_err("{{ (1, 2) }}", MLF_ENOTSUP, "tuples are not supported yet");
    expect_err("{{ {'a': 1} }}", MLF_ENOTSUP, "dict literals are not supported yet");
}
END_TEST

/* "{{" + @p open * @p n + "1" + @p close * @p n + "}}", or with @p n attribute accesses. */
static char *nested(const char *open, const char *close, int n)
{
    mlf_buf b = {0};
    mlf_buf_puts(&b, "{{ ");
    for (int i = 0; i < n; i++)
        mlf_buf_puts(&b, open);
    mlf_buf_puts(&b, "1");
    for (int i = 0; i < n; i++)
        mlf_buf_puts(&b, close);
    mlf_buf_puts(&b, " }}");
    return mlf_buf_steal(&b);
}

static int compile_rc(const char *text)
{
    mlf_template *t = NULL;
    char err[256];
    int rc = mlf_template_compile(text, strlen(text), &t, err, sizeof err);
    if (rc == MLF_ERANGE)
        ck_assert_msg(strstr(err, "nested too deeply (more than 64 levels)"), "%s", err);
    mlf_template_free(t);
    return rc;
}

/* Airflow's date filters format a datetime in its own zone (airflow/templates.py: strftime / isoformat on
 * the value): a timestamp written with an offset keeps it; ts_nodash_with_tz removes every '-', so a
 * negative offset loses its sign there, as in Airflow. */
START_TEST(test_date_filters_keep_the_offset)
{
    expect_str("{{ '2024-01-02T01:30:00+01:00' | ds }} {{ '2024-01-02T01:30:00+01:00' | ds_nodash }}",
               "2024-01-02 20240102");
    expect_str("{{ '2024-01-02T01:30:00+01:00' | ts }}", "2024-01-02T01:30:00+01:00");
    expect_str("{{ '2024-01-02T01:30:00+01:00' | ts_nodash }}", "20240102T013000");
    expect_str("{{ '2024-01-02T01:30:00+01:00' | ts_nodash_with_tz }}", "20240102T013000+0100");
    expect_str("{{ '2024-01-01T23:30:00-05:00' | ds }}", "2024-01-01"); /* not UTC's 2024-01-02 */
    expect_str("{{ '2024-01-01T23:30:00-05:00' | ts }}", "2024-01-01T23:30:00-05:00");
    expect_str("{{ '2024-01-01T23:30:00-05:00' | ts_nodash_with_tz }}", "20240101T2330000500");
    expect_str("{{ '2024-01-02T00:00:00Z' | ts }} {{ '2024-01-02' | ts }}", "2024-01-02T00:00:00+00:00 2024-01-02T00:00:00+00:00");
}
END_TEST

START_TEST(test_depth_bound)
{
    static const char *const shapes[][2] = {{"(", ")"}, {"[", "]"}, {"-", ""}, {"echo(", ")"}, {"", "|string"},
                                            {"", ".a"}, {"", "[0]"}, {"", "~1"}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char *ok = nested(shapes[i][0], shapes[i][1], MLF_TEMPLATE_MAX_DEPTH);
        char *deep = nested(shapes[i][0], shapes[i][1], MLF_TEMPLATE_MAX_DEPTH + 1);
        ck_assert_msg(compile_rc(ok) == MLF_OK, "shape %zu at the limit", i);
        ck_assert_msg(compile_rc(deep) == MLF_ERANGE, "shape %zu past the limit", i);
        free(ok);
        free(deep);
    }
    /* Far past the limit: no stack exhaustion. */
    char *huge = nested("(", ")", 100000);
    ck_assert_int_eq(compile_rc(huge), MLF_ERANGE);
    free(huge);
    /* 64 nested lists render. */
    char *lists = nested("[", "]", MLF_TEMPLATE_MAX_DEPTH);
    mlf_value *v;
    char err[256];
    ck_assert_int_eq(render(lists, &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_ARRAY);
    mlf_value_free(v);
    free(lists);
}
END_TEST

START_TEST(test_literals)
{
    expect_str("{{ 'it''s' }}", "its");
    expect_str("{{ 'a' \"b\" }}", "ab");
    expect_str("{{ 'q\\'s\\\"\\\\' }}", "q's\"\\");
    expect_str("{{ 'tab\\tnl\\n' }}", "tab\tnl\n");
    expect_str("{{ '\\x41\\u00e9\\U0001F600\\101' }}", "A\xc3\xa9\xf0\x9f\x98\x80" "A");
    expect_str("{{ '\\d\\w' }}", "\\d\\w"); /* unknown escapes stay, as in Python */
    expect_str("{{ 'line\\\ncont' }}", "linecont");
    expect_str("{{ '}}' }}", "}}");
    expect_str("{{ 42 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 0 }} {{ 00 }}", "42 1000 31 15 5 0 0");
    expect_str("{{ 1.5 }} {{ 2e3 }} {{ 2.5e-1 }}", "1.5 2000.0 0.25");
    expect_str("{{ true }} {{ True }} {{ false }} {{ False }} {{ none }} {{ None }}", "True True False False None None");
    expect_str("{{ [1, 'a', [true], none, ] | tojson }}", "[1,\"a\",[true],null]");
    expect_str("{{ [] | tojson }}", "[]");
    expect_str("{{ (ds) }}", "2024-01-05");
}
END_TEST

START_TEST(test_comments_and_whitespace_control)
{
    expect_str("a{# note #}b", "ab");
    expect_str("a{# {{ not parsed }} #}b", "ab");
    expect_str("a {#- note -#}\n b", "ab");
    expect_str("a {#-#} b", "a b");
    expect_str("x  \n {{- ds -}} \n  y", "x2024-01-05y");
    expect_str("x {{- ds }} y", "x2024-01-05 y");
    expect_str("x {{ ds -}} y", "x 2024-01-05y");
    expect_str("a {{-1-}} b", "a1b");
    expect_str("[{{ 5 -}} ]", "[5]");
    mlf_template *t;
    char err[64];
    ck_assert_int_eq(mlf_template_compile("  {# c #}  ", 11, &t, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_template_get_kind(t), MLF_TEMPLATE_LITERAL);
    mlf_template_free(t);
}
END_TEST

/* ------------------------------------------------------------------------------------------ built-in macros */

START_TEST(test_builtin_ds_add)
{
    expect_str("{{ macros.ds_add(ds, 7) }}", "2024-01-12");
    expect_str("{{ ds_add(ds, -5) }}", "2023-12-31");
    expect_str("{{ ds_add('2024-02-28', 1) }} {{ ds_add('2023-02-28', 1) }} {{ ds_add('2024-03-01', -1) }}",
               "2024-02-29 2023-03-01 2024-02-29");
    expect_str("{{ ds_add('2024-1-5', 1) }}", "2024-01-06"); /* Python's %m and %d take one digit too */
    expect_str("{{ ds_add('9999-12-30', 1) }} {{ ds_add('0001-01-02', -1) }}", "9999-12-31 0001-01-01");
    expect_str("{{ ds_add('not a date', 0) }}", "not a date"); /* Airflow returns ds when days is 0 */
    expect_str("{{ ds_add(ds, 366) }}", "2025-01-05");
    expect_err("{{ ds_add('2024-13-01', 1) }}", MLF_EPARSE,
               "macro 'ds_add': time data '2024-13-01' does not match format '%Y-%m-%d'");
    expect_err("{{ ds_add('2024-02-30', 1) }}", MLF_ERANGE, "macro 'ds_add': day is out of range for month");
    expect_err("{{ ds_add('2024-01-05T06:00', 1) }}", MLF_EPARSE, "unconverted data remains: 'T06:00'");
    expect_err("{{ ds_add('0000-01-01', 1) }}", MLF_ERANGE, "year 0 is out of range");
    expect_err("{{ ds_add('9999-12-31', 1) }}", MLF_ERANGE, "date value out of range (years 1 to 9999)");
    expect_err("{{ ds_add('0001-01-01', -1) }}", MLF_ERANGE, "date value out of range");
    expect_err("{{ ds_add(ds, 999999999999) }}", MLF_ERANGE, "date value out of range");
    expect_err("{{ ds_add(5, 1) }}", MLF_ETYPE, "macro 'ds_add': ds must be a string, got int");
    expect_err("{{ ds_add(ds, '1') }}", MLF_ETYPE, "macro 'ds_add': days must be an integer, got str");
    expect_err("{{ ds_add(ds, 1.5) }}", MLF_ETYPE, "days must be an integer, got float");
    expect_err("{{ ds_add('2024-01-05\\x00', 1) }}", MLF_EINVAL, "macro 'ds_add': ds contains a NUL character");
    expect_err("{{ ds_add(ds) }}", MLF_EINVAL, "macro 'ds_add': takes 2 arguments, got 1");
}
END_TEST

START_TEST(test_builtin_ds_format)
{
    expect_str("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", "05/01/2024");
    expect_str("{{ ds_format(ds_nodash, '%Y%m%d', '%Y-%m-%d') }}", "2024-01-05");
    expect_str("{{ ds_format('20240105T063000', '%Y%m%dT%H%M%S', '%Y-%m-%d-%H-%M') }}", "2024-01-05-06-30");
    expect_str("{{ ds_format('5 January 24, 07:05:09.25 pm', '%d %B %y, %I:%M:%S.%f %p', '%F %T.%f') }}",
               "2024-01-05 19:05:09.250000");
    expect_str("{{ ds_format('12 AM', '%I %p', '%H') }} {{ ds_format('12 PM', '%I %p', '%H') }} "
               "{{ ds_format('1 pm', '%I %p', '%H') }} {{ ds_format('12', '%I', '%H') }}",
               "00 12 13 00");
    expect_str("{{ ds_format('FRI JAN 5 2024', '%a %b %d %Y', '%j %A') }}", "005 Friday");
    expect_str("{{ ds_format('2024 060', '%Y %j', '%F') }} {{ ds_format('69 01 01', '%y %m %d', '%Y') }}",
               "2024-02-29 1969");
    expect_str("{{ ds_format(' 5/01/2024', '%d/%m/%Y', '%F') }}", "2024-01-05"); /* space-padded day */
    expect_str("{{ ds_format('2024-01-05 \\t\\n at', '%Y-%m-%d AT', '%F') }}", "2024-01-05");
    expect_str("{{ ds_format('05%', '%d%%', '%d') }} {{ ds_format('', '', '%F') }}", "05 1900-01-01");
}
END_TEST

START_TEST(test_builtin_macro_errors)
{
    expect_err("{{ ds_format('2024-01-05x', '%Y-%m-%d x', '%F') }}", MLF_EPARSE,
               "time data '2024-01-05x' does not match format '%Y-%m-%d x'");
    expect_err("{{ ds_format('2024-1-5', '%Y%m%d', '%F') }}", MLF_EPARSE, "does not match format");
    expect_err("{{ ds_format(ds, '%Q', '%F') }}", MLF_EINVAL, "macro 'ds_format': 'Q' is a bad directive in format '%Q'");
    expect_err("{{ ds_format(ds, '%Y-%m-%d%z', '%F') }}", MLF_EINVAL, "%z is not supported in input formats yet");
    expect_err("{{ ds_format(ds, '%Y-%m-%d%', '%F') }}", MLF_EINVAL, "stray % at the end of format '%Y-%m-%d%'");
    expect_err("{{ ds_format(ds, '%Y-%m-%d', '%Q') }}", MLF_EINVAL, "strftime: unknown conversion %Q");
    expect_err("{{ ds_format('2024-01-05 60', '%Y-%m-%d %S', '%F') }}", MLF_ERANGE, "second must be in 0..59");
    expect_err("{{ ds_format(ds, 1, '%F') }}", MLF_ETYPE, "macro 'ds_format': input_format must be a string, got int");
    expect_err("{{ ds_format(ds, '%Y', none) }}", MLF_ETYPE, "output_format must be a string, got nil");
    expect_err("{{ ds_format(ds, '%Y-%m-%d') }}", MLF_EINVAL, "macro 'ds_format': takes 3 arguments, got 2");
    /* 12 * 8^6 "%A" make a 6 MiB format whose output, as many "Friday", is longer than the limit. */
    expect_err("{{ ds_format(ds, '%Y-%m-%d', 'a'|replace('a', 'aaaaaaaa')|replace('a', 'aaaaaaaa')|replace('a', "
               "'aaaaaaaa')|replace('a', 'aaaaaaaa')|replace('a', 'aaaaaaaa')|replace('a', 'aaaaaaaa')|replace('a', "
               "'%A%A%A%A%A%A%A%A%A%A%A%A')) }}",
               MLF_ETOOBIG, "macro 'ds_format': the result would be longer than 16777216 bytes");

    size_t n;
    const mlf_macro_desc *d = mlf_template_builtin_macros(&n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(d[0].name, "ds_add");
    ck_assert_int_eq(d[0].min_args, 2);
    ck_assert_int_eq(d[0].max_args, 2);
    ck_assert_str_eq(d[1].name, "ds_format");
    ck_assert_int_eq(d[1].min_args, 3);
    ck_assert_uint_eq(d[1].struct_size, sizeof(mlf_macro_desc));
    ck_assert_ptr_nonnull(d[1].help);
    mlf_value *v = NULL;
    char err[64] = "junk";
    ck_assert_int_eq(mlf_template_call_builtin(NULL, "ds_ad", NULL, 0, &v, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "");
    ck_assert_ptr_null(v);
}
END_TEST

/* ------------------------------------------------------------------------------------------ rendering */

START_TEST(test_type_keeping)
{
    mlf_value *v;
    char err[256];
    mlf_template *t;
    ck_assert_int_eq(mlf_template_compile("{{ params.symbols }}", 20, &t, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_template_get_kind(t), MLF_TEMPLATE_EXPR);
    mlf_template_free(t);

    ck_assert_int_eq(render("{{ params.symbols }}", &v, err), MLF_OK);
    ck_assert(mlf_value_equal(v, mlf_map_get(mlf_map_get(ctx, "params"), "symbols")));
    mlf_value_free(v);
    /* Whitespace and comments around one expression keep the type too. */
    ck_assert_int_eq(render("  {{ params.window }}\n", &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_INT);
    mlf_value_free(v);
    ck_assert_int_eq(render("{# the window #}{{ params.window }}", &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_INT);
    mlf_value_free(v);
    ck_assert_int_eq(render("{{ nothing }}", &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_NIL);
    mlf_value_free(v);
    ck_assert_int_eq(render("{{ m }}", &v, err), MLF_OK);
    ck_assert(mlf_value_equal(v, mlf_map_get(ctx, "m")));
    mlf_value_free(v);
    ck_assert_int_eq(render("{{ [params.window, ratio] }}", &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_ARRAY);
    ck_assert_int_eq(mlf_value_type(mlf_array_at(v, 1)), MLF_FLOAT);
    mlf_value_free(v);
    ck_assert_int_eq(render("{{ params.count | int }}", &v, err), MLF_OK);
    int64_t i = 0;
    ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_OK);
    ck_assert_int_eq(i, 42);
    mlf_value_free(v);
    /* A string keeps the text around it; two expressions or any text make a string. */
    expect_str(" {{ ds }}\n", " 2024-01-05\n");
    expect_str("{{ params.window }}{{ try_number }}", "302");
    expect_str("w={{ params.window }}", "w=30");
    expect_str("{{ params.symbols }}!", "[\"btc\",\"eth\"]!");
}
END_TEST

START_TEST(test_display_of_every_type)
{
    expect_str("{{ nothing }}|{{ yes }}|{{ no }}|{{ try_number }}|{{ ratio }}|{{ mixed }}|{{ m }}|{{ ds }}",
               "None|True|False|2|1.5|[1,\"a\"]|{\"k\":\"v\"}|2024-01-05");
    expect_str("{{ -5 }} {{ -ratio }} {{ +try_number }}", "-5 -1.5 2");
    mlf_value *v;
    char err[256];
    ck_assert_int_eq(render("<{{ blob }}>", &v, err), MLF_OK);
    char *want_inner = mlf_value_to_display(mlf_map_get(ctx, "blob"));
    char *want = mlf_strdup_printf("<%s>", want_inner);
    ck_assert_str_eq(mlf_value_get_str(v, NULL), want);
    free(want);
    free(want_inner);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_airflow_style_command)
{
    expect_str("fetch_prices --date {{ ds }} --out {{ params.dir }}/{{ ds_nodash }}.csv",
               "fetch_prices --date 2024-01-05 --out /data/20240105.csv");
    expect_str("{{ xcom.train.model }} {{ xcom['train'][\"model\"] }} {{ xcom.predict[0] }} {{ xcom.predict.1 }}",
               "m1 m1 store trade");
    expect_str("{{ params.symbols[-1] }} {{ word[1] }} {{ word[-1] }}", "eth \xc3\xa9 o");
}
END_TEST

START_TEST(test_operators)
{
    expect_str("{{ ds ~ '/' ~ try_number }}", "2024-01-05/2");
    expect_str("{{ nothing ~ yes ~ 1.5 }}", "NoneTrue1.5");
    expect_str("{{ 1 + 2 }} {{ 1 + 0.5 }} {{ 5 - 7 }} {{ 1.5 - 1 }}", "3 1.5 -2 0.5");
    expect_str("{{ 'a' + 'b' }}", "ab");
    expect_str("{{ ([1] + ['x']) | tojson }}", "[1,\"x\"]");
    expect_str("{{ params.symbols + ['sol'] }}!", "[\"btc\",\"eth\",\"sol\"]!");
}
END_TEST

START_TEST(test_operator_errors)
{
    expect_err("{{ 'a' + 1 }}", MLF_ETYPE, "unsupported operand types for +: str and int (use ~ to join values as text)");
    expect_err("{{ ds - 1 }}", MLF_ETYPE, "unsupported operand types for -: str and int");
    expect_err("{{ yes + 1 }}", MLF_ETYPE, "unsupported operand types for +: bool and int");
    expect_err("{{ -ds }}", MLF_ETYPE, "bad operand type for unary -: str");
    expect_err("{{ big + 1 }}", MLF_ERANGE, "integer overflow in 9223372036854775807 + 1");
    expect_err("{{ -big - 2 }}", MLF_ERANGE, "integer overflow");
    /* ~ binds tighter than +, as in Jinja: this is 1 + "23". */
    expect_err("{{ 1 + 2 ~ 3 }}", MLF_ETYPE, "unsupported operand types for +: int and str");
    expect_err("{{ ds[1.5] }}", MLF_ETYPE, "a subscript must be a string or an integer, got float");
}
END_TEST

START_TEST(test_undefined)
{
    lookups = 0;
    expect_err("{{ dss }}", MLF_ENOTFOUND, "'dss' is undefined");
    ck_assert_int_eq(lookups, 1);
    expect_err("a {{ dss }} b", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ params.dirr }}", MLF_ENOTFOUND, "'params' has no key 'dirr'");
    expect_err("{{ params['dirr'] }}", MLF_ENOTFOUND, "'params' has no key 'dirr'");
    expect_err("{{ xcom.train.modl }}", MLF_ENOTFOUND, "'xcom.train' has no key 'modl'");
    expect_err("{{ ds.year }}", MLF_ENOTFOUND, "'ds' is a str, it has no key 'year'");
    expect_err("{{ params.symbols.first }}", MLF_ENOTFOUND, "'params.symbols' is an array, it has no key 'first'");
    expect_err("{{ try_number[0] }}", MLF_ENOTFOUND, "'try_number' is an int, it cannot be indexed by number");
    /* Access on an undefined value stays undefined and names the first missing part. */
    expect_err("{{ xcom.missing.key }}", MLF_ENOTFOUND, "'xcom' has no key 'missing'");
    expect_err("{{ dss.x[0] }}", MLF_ENOTFOUND, "'dss' is undefined");
    /* Undefined values used by operators, lists, filters and macros. */
    expect_err("{{ dss ~ 'x' }}", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ 'x' ~ dss }}", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ [1, dss] }}", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ dss | upper }}", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ ds | replace(dss, 'x') }}", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ echo(dss) }}", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ ds[dss] }}", MLF_ENOTFOUND, "'dss' is undefined");
    expect_err("{{ -dss }}", MLF_ENOTFOUND, "'dss' is undefined");
    /* A failing lookup is not an undefined value. */
    expect_err("{{ broken | default('x') }}", MLF_EIO, "looking up 'broken':");
    /* Without a lookup callback everything is undefined. */
    mlf_template *t;
    char err[128];
    mlf_value *v;
    ck_assert_int_eq(mlf_template_compile("{{ ds }}", 8, &t, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_template_render(t, NULL, &v, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'ds' is undefined");
    mlf_template_free(t);
}
END_TEST

START_TEST(test_did_you_mean)
{
    mlf_value *v;
    char err[256];
    ck_assert_int_eq(render("{{ dss }}", &v, err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'dss' is undefined (did you mean 'ds'?)");
    ck_assert_int_eq(render("{{ Params.dir }}", &v, err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'Params' is undefined (did you mean 'params'?)");
    ck_assert_int_eq(render("{{ zzzzzz }}", &v, err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'zzzzzz' is undefined");
    ck_assert_int_eq(render("{{ params.dirr }}", &v, err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'params' has no key 'dirr' (did you mean 'dir'?)");
    ck_assert_int_eq(render("{{ xcom['predcit'][0] }}", &v, err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'xcom' has no key 'predcit' (did you mean 'predict'?)");
    ck_assert_int_eq(render("{{ params.zzzzzz }}", &v, err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'params' has no key 'zzzzzz'");
    ck_assert_int_eq(render("{{ echo(m)[0].x }}", &v, err), MLF_ENOTFOUND); /* a key of an owned map */
    ck_assert_str_eq(err, "'echo(m)[0]' has no key 'x'");
    /* Suggestions for names need the environment's list of names. */
    mlf_template *t;
    ck_assert_int_eq(mlf_template_compile("{{ dss }}", 9, &t, err, sizeof err), MLF_OK);
    mlf_template_env e = {.lookup = lookup, .ud = ctx};
    ck_assert_int_eq(mlf_template_render(t, &e, &v, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'dss' is undefined");
    mlf_template_free(t);
}
END_TEST

START_TEST(test_subscripts_out_of_range)
{
    expect_err("{{ params.symbols[2] }}", MLF_ERANGE, "index 2 is out of range for 'params.symbols' (an array of length 2)");
    expect_err("{{ params.symbols[-3] }}", MLF_ERANGE, "index -3 is out of range");
    expect_err("{{ xcom.predict.7 }}", MLF_ERANGE, "index 7 is out of range for 'xcom.predict'");
    expect_err("{{ word[5] }}", MLF_ERANGE, "index 5 is out of range for 'word' (a string of length 5)");
    expect_err("{{ [][0] }}", MLF_ERANGE, "index 0 is out of range for '[]'");
    expect_str("{{ params.symbols[2] | default('none') }}", "none");
    expect_str("<{{ [5, 6][1] }}>", "<6>");
    expect_str("{{ echo('a', 'b')[1] }}", "b");
}
END_TEST

START_TEST(test_filter_default)
{
    expect_str("{{ dss | default('x') }}", "x");
    expect_str("{{ dss | d('x') }}", "x");
    expect_str("[{{ dss | default }}]", "[]");
    expect_str("{{ ds | default('x') }}", "2024-01-05");
    expect_str("{{ xcom.missing.key | default('none') }}", "none");
    expect_str("{{ params.nope | default(params.dir) }}", "/data");
    expect_str("{{ empty | default('e') }}|{{ empty | default('e', true) }}", "|e");
    expect_str("{{ nothing | default('n', true) }} {{ no | default('n', true) }} {{ yes | default('n', true) }}",
               "n n True");
    expect_str("[{{ dss | default(none) }}]", "[None]");
    mlf_value *v;
    char err[256];
    ck_assert_int_eq(render("{{ dss | default([1, 2]) }}", &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_ARRAY);
    mlf_value_free(v);
    expect_err("{{ dss | default(dsss) }}", MLF_ENOTFOUND, "'dsss' is undefined");
    expect_err("{{ dss | default('x', dsss) }}", MLF_ENOTFOUND, "'dsss' is undefined");
}
END_TEST

START_TEST(test_filters)
{
    expect_str("{{ ds_nodash | upper }} {{ 'MiXed' | lower }} {{ 'abc' | upper }}", "20240105 mixed ABC");
    expect_str("{{ word | upper }} {{ yes | lower }}", "H\xc3\xa9LLO true");
    /* shell_quote: one single-quoted shell word whatever the value holds */
    expect_str("{{ \"it's; $(touch x)\" | shell_quote }}", "'it'\\''s; $(touch x)'");
    expect_str("{{ '' | shell_quote }} {{ ds_nodash | shell_quote }}", "'' '20240105'");
    expect_str("[{{ name | trim }}] [{{ 'xxhixx' | trim('x') }}] [{{ '\xc3\xa9" "a\xc3\xa9' | trim('\xc3\xa9') }}]",
               "[Crypto Daily] [hi] [a]");
    expect_str("[{{ '  a  ' | trim(none) }}]", "[a]");
    expect_str("{{ ds | replace('-', '') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | replace('', '-') }}",
               "20240105 bba -a-b-c-");
    expect_str("{{ 'abc' | replace('', '-', 2) }} {{ 'aaa' | replace('a', 'b', -1) }} {{ 'x' | replace('y', 'z') }}",
               "-a-bc bbb x");
    expect_str("{{ 2024 | replace(2, 3) }}", "3034");
    expect_str("{{ params.symbols | join(',') }} {{ mixed | join }} {{ m | join }} {{ 'abc' | join('.') }}",
               "btc,eth 1a k a.b.c");
    expect_str("{{ [] | join(',') }}|{{ [nothing, yes] | join(' ') }}", "|None True");
    expect_str("{{ params.symbols | length }} {{ word | length }} {{ m | count }} {{ blob | length }} {{ '' | length }}",
               "2 5 1 3 0");
    expect_str("{{ params.count | int + 1 }} {{ ' 7 ' | int }} {{ '3.9' | int }} {{ ratio | int }} {{ yes | int }}",
               "43 7 3 1 1");
    expect_str("{{ 'x' | int }} {{ 'x' | int(-1) }} {{ nothing | int }} {{ 'ff' | int(0, 16) }} {{ '1e30' | int('big') }}",
               "0 -1 0 255 big");
    expect_str("{{ '101' | int(0, 2) }} {{ params.symbols | int }}", "5 0");
    expect_str("{{ '2.5' | float }} {{ 2 | float }} {{ 'x' | float }} {{ 'x' | float(1.5) }} {{ no | float }}",
               "2.5 2.0 0.0 1.5 0.0");
    expect_str("{{ params.window | string ~ 'd' }} {{ nothing | string }}", "30d None");
    expect_str("{{ params.symbols | tojson }} {{ 'a\"b' | tojson }} {{ nothing | tojson }}", "[\"btc\",\"eth\"] \"a\\\"b\" null");
    expect_str("={{ ds | replace('-', '') | int + 1 }}", "=20240106");
    expect_str("{{ -ratio | string }}", "-1.5"); /* (-ratio) | string, as in Jinja */
}
END_TEST

START_TEST(test_filter_errors)
{
    expect_err("{{ try_number | length }}", MLF_ETYPE, "filter 'length': a value of type int has no length");
    expect_err("{{ nothing | length }}", MLF_ETYPE, "a value of type nil has no length");
    expect_err("{{ try_number | join(',') }}", MLF_ETYPE, "filter 'join': expected a list, a map or a string, got int");
    expect_err("{{ ds | replace('a', 'b', 'c') }}", MLF_ETYPE, "filter 'replace': the count must be an integer, got str");
    expect_err("{{ '1' | int(0, 99) }}", MLF_ERANGE, "filter 'int': the base must be an integer from 2 to 36");
}
END_TEST

/* "'a'" replaced six times by 16 a's: exactly MLF_TEMPLATE_MAX_STRING (16^6) bytes. */
#define SIXTEEN "'aaaaaaaaaaaaaaaa'"
#define AT_LIMIT "'a'" "|replace('a'," SIXTEEN ")|replace('a'," SIXTEEN ")|replace('a'," SIXTEEN ")" \
                 "|replace('a'," SIXTEEN ")|replace('a'," SIXTEEN ")|replace('a'," SIXTEEN ")"

START_TEST(test_size_limit)
{
    ck_assert_uint_eq(MLF_TEMPLATE_MAX_STRING, 16u * 16u * 16u * 16u * 16u * 16u);
    expect_str("{{ (" AT_LIMIT ") | length | string }}", "16777216");
    expect_err("{{ " AT_LIMIT "|replace('a', 'aa') }}", MLF_ETOOBIG,
               "filter 'replace': the result would be longer than 16777216 bytes");
    expect_err("{{ " AT_LIMIT " ~ 'b' }}", MLF_ETOOBIG, "joining strings: the result would be longer than 16777216 bytes");
    expect_err("{{ " AT_LIMIT " + 'b' }}", MLF_ETOOBIG, "joining strings: the result would be longer");
    expect_err("b{{ " AT_LIMIT " }}", MLF_ETOOBIG, "the rendered text would be longer than 16777216 bytes");
    expect_err("{{ [" AT_LIMIT ", 'b'] | join }}", MLF_ETOOBIG, "filter 'join': the result would be longer");
    expect_err("{{ (" AT_LIMIT ") | join('b') }}", MLF_ETOOBIG, "filter 'join': the result would be longer");
    expect_err("{{ (" AT_LIMIT ") | tojson }}", MLF_ETOOBIG, "filter 'tojson': the result would be longer");
}
END_TEST

START_TEST(test_macros)
{
    expect_str("{{ macros.shift(ds, 7) }}", "2024-01-05+7");
    expect_str("{{ shift(ds, -7) }}", "2024-01-05-7");
    expect_str("{{ echo() | length }} {{ echo(1, 'a', [2],) | tojson }}", "0 [1,\"a\",[2]]");
    mlf_value *v;
    char err[256];
    ck_assert_int_eq(render("{{ echo(params.window, ds) }}", &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_ARRAY);
    ck_assert_uint_eq(mlf_value_len(v), 2);
    mlf_value_free(v);
    /* More arguments than fit in the renderer's small array. */
    expect_str("{{ echo(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) | join('') }}", "12345678910");
    expect_err("{{ shift(ds) }}", MLF_EINVAL, "macro 'shift': expected (ds, days)");
    expect_err("x{{ fail() }}", MLF_EINVAL, "macro 'fail': it broke");
    expect_err("{{ silent() }}", MLF_EIO, "macro 'silent' failed: ");
    expect_err("{{ nosuch(1) }}", MLF_ENOTFOUND, "'nosuch' is not a known macro");
    expect_err("{{ novalue() }}", MLF_EPLUGIN, "macro 'novalue' returned no value");
    /* Without a call callback. */
    mlf_template *t;
    ck_assert_int_eq(mlf_template_compile("{{ echo() }}", 12, &t, err, sizeof err), MLF_OK);
    mlf_template_env e = {.lookup = lookup, .ud = ctx};
    ck_assert_int_eq(mlf_template_render(t, &e, &v, err, sizeof err), MLF_ENOTSUP);
    ck_assert_str_eq(err, "macro 'echo' cannot be called: no macros are available here");
    mlf_template_free(t);
}
END_TEST

START_TEST(test_names_and_refs)
{
    const char *text = "{{ xcom.predict.key }} {{ params['dir'] }} {{ x[0].a }} {{ macros.ds_add(ds, 1) }}\n"
                       "{{ ds }} {{ m[k] | default(xcom['train'].model) }}";
    mlf_template *t;
    char err[128];
    ck_assert_int_eq(mlf_template_compile(text, strlen(text), &t, err, sizeof err), MLF_OK);
    const char *const *names;
    size_t n;
    ck_assert_int_eq(mlf_template_names(t, &names, &n), MLF_OK);
    static const char *const want_names[] = {"xcom", "params", "x", "ds", "m", "k"};
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(names[i], want_names[i]);

    const mlf_template_ref *refs;
    ck_assert_int_eq(mlf_template_refs(t, &refs, &n), MLF_OK);
    ck_assert_uint_eq(n, 9);
    ck_assert_int_eq(refs[0].kind, MLF_TEMPLATE_REF_NAME);
    ck_assert_str_eq(refs[0].name, "xcom");
    ck_assert_uint_eq(refs[0].npath, 2);
    ck_assert_str_eq(refs[0].path[0], "predict");
    ck_assert_str_eq(refs[0].path[1], "key");
    ck_assert_uint_eq(refs[0].line, 1);
    ck_assert_uint_eq(refs[0].column, 4);
    ck_assert_str_eq(refs[1].name, "params");
    ck_assert_uint_eq(refs[1].npath, 1);
    ck_assert_str_eq(refs[1].path[0], "dir");
    ck_assert_str_eq(refs[2].name, "x");
    ck_assert_uint_eq(refs[2].npath, 0); /* an integer index ends the path */
    ck_assert_int_eq(refs[3].kind, MLF_TEMPLATE_REF_MACRO);
    ck_assert_str_eq(refs[3].name, "ds_add");
    ck_assert_uint_eq(refs[3].npath, 0);
    ck_assert_uint_eq(refs[3].nargs, 2);
    ck_assert_uint_eq(refs[4].nargs, 0);
    ck_assert_str_eq(refs[4].name, "ds");
    ck_assert_str_eq(refs[5].name, "ds");
    ck_assert_uint_eq(refs[5].line, 2);
    ck_assert_uint_eq(refs[5].column, 4);
    ck_assert_str_eq(refs[6].name, "m");
    ck_assert_uint_eq(refs[6].npath, 0); /* a computed subscript ends the path */
    ck_assert_str_eq(refs[7].name, "k");
    ck_assert_str_eq(refs[8].name, "xcom");
    ck_assert_uint_eq(refs[8].npath, 2);
    ck_assert_str_eq(refs[8].path[0], "train");
    ck_assert_str_eq(refs[8].path[1], "model");
    ck_assert_int_eq(mlf_template_refs(NULL, &refs, &n), MLF_EINVAL);
    ck_assert_int_eq(mlf_template_names(t, NULL, &n), MLF_EINVAL);
    mlf_template_free(t);
}
END_TEST

START_TEST(test_many_names)
{
    /* 20000 lines "{{ nI }} {{ nI }}" with I = line % 5000: 40000 refs, 5000 names. */
    mlf_buf b = {0};
    for (int i = 0; i < 20000; i++)
        ck_assert_int_eq(mlf_buf_printf(&b, "{{ n%d }} {{ n%d }}\n", i % 5000, i % 5000), MLF_OK);
    mlf_template *t;
    char err[128];
    ck_assert_int_eq(mlf_template_compile(b.data, b.len, &t, err, sizeof err), MLF_OK);
    const char *const *names;
    size_t n;
    ck_assert_int_eq(mlf_template_names(t, &names, &n), MLF_OK);
    ck_assert_uint_eq(n, 5000);
    ck_assert_str_eq(names[0], "n0");
    ck_assert_str_eq(names[1234], "n1234");
    ck_assert_str_eq(names[4999], "n4999");
    const mlf_template_ref *refs;
    ck_assert_int_eq(mlf_template_refs(t, &refs, &n), MLF_OK);
    ck_assert_uint_eq(n, 40000);
    ck_assert_str_eq(refs[39999].name, "n4999");
    ck_assert_uint_eq(refs[39999].line, 20000);
    ck_assert_uint_eq(refs[39999].column, 16); /* after "{{ n4999 }} {{ " */
    ck_assert_uint_eq(refs[2].line, 2);
    ck_assert_uint_eq(refs[2].column, 4);
    mlf_template_free(t);
    mlf_buf_free(&b);
}
END_TEST

START_TEST(test_render_value)
{
    mlf_value *in = mlf_value_map();
    mlf_map_set(in, "command", mlf_value_str("echo {{ ds }}"));
    mlf_map_set(in, "symbols", mlf_value_str("{{ params.symbols }}"));
    mlf_map_set(in, "retries", mlf_value_int(3));
    mlf_value *env_map = mlf_value_map();
    mlf_map_set(env_map, "{{ ds }}", mlf_value_str("{{ ds_nodash }}")); /* keys stay as written */
    mlf_map_set(in, "env", env_map);
    mlf_value *list = mlf_value_array();
    mlf_array_append(list, mlf_value_str("--window={{ params.window }}"));
    mlf_array_append(list, mlf_value_bool(1));
    mlf_map_set(in, "args", list);

    mlf_template_env e = env();
    mlf_value *out;
    char err[256];
    ck_assert_int_eq(mlf_template_render_value(in, &e, &out, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(out, "command"), NULL), "echo 2024-01-05");
    ck_assert(mlf_value_equal(mlf_map_get(out, "symbols"), mlf_map_get(mlf_map_get(ctx, "params"), "symbols")));
    ck_assert(mlf_value_equal(mlf_map_get(out, "retries"), mlf_map_get(in, "retries")));
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_map_get(out, "env"), "{{ ds }}"), NULL), "20240105");
    ck_assert_str_eq(mlf_value_get_str(mlf_array_at(mlf_map_get(out, "args"), 0), NULL), "--window=30");
    ck_assert_int_eq(mlf_value_type(mlf_array_at(mlf_map_get(out, "args"), 1)), MLF_BOOL);
    mlf_value_free(out);

    /* Errors say where the string sits. */
    mlf_array_append(list, mlf_value_str("{{ dss }}"));
    ck_assert_int_eq(mlf_template_render_value(in, &e, &out, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err, "args[2]: 'dss' is undefined (did you mean 'ds'?)");
    mlf_map_set(env_map, "PATH", mlf_value_str("{{ ds"));
    ck_assert_int_eq(mlf_template_render_value(env_map, &e, &out, err, sizeof err), MLF_EPARSE);
    ck_assert_str_eq(err, "PATH: column 6: expected '}}' to close the '{{' at column 1, found end of text");
    mlf_value_free(in);

    /* A string alone, and scalars. */
    mlf_value *s = mlf_value_str("{{ try_number }}");
    ck_assert_int_eq(mlf_template_render_value(s, &e, &out, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(out), MLF_INT);
    mlf_value_free(out);
    mlf_value_free(s);
    s = mlf_value_str("{{ nope }}");
    ck_assert_int_eq(mlf_template_render_value(s, &e, &out, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_str_eq(err, "'nope' is undefined");
    mlf_value_free(s);
    ck_assert_int_eq(mlf_template_render_value(NULL, &e, &out, err, sizeof err), MLF_EINVAL);

    /* Values nested deeper than MLF_VALUE_MAX_DEPTH are refused, not recursed into. */
    mlf_value *deep = mlf_value_str("{{ ds }}");
    for (int i = 0; i <= MLF_VALUE_MAX_DEPTH; i++) {
        mlf_value *a = mlf_value_array();
        mlf_array_append(a, deep);
        deep = a;
    }
    ck_assert_int_eq(mlf_template_render_value(deep, &e, &out, err, sizeof err), MLF_ERANGE);
    ck_assert_msg(strstr(err, "nested deeper than 64 levels"), "%s", err);
    mlf_value_free(deep);
}
END_TEST

START_TEST(test_compile_once_render_many)
{
    const char *text = "{{ ds }}/{{ try_number }}";
    mlf_template *t;
    char err[128];
    ck_assert_int_eq(mlf_template_compile(text, strlen(text), &t, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_template_get_kind(t), MLF_TEMPLATE_TEXT);
    mlf_template_env e = env();
    for (int i = 0; i < 3; i++) {
        mlf_map_set(ctx, "try_number", mlf_value_int(i));
        mlf_value *v;
        ck_assert_int_eq(mlf_template_render(t, &e, &v, err, sizeof err), MLF_OK);
        char want[32];
        snprintf(want, sizeof want, "2024-01-05/%d", i);
        ck_assert_str_eq(mlf_value_get_str(v, NULL), want);
        mlf_value_free(v);
    }
    ck_assert_int_eq(mlf_template_render(NULL, &e, NULL, err, sizeof err), MLF_EINVAL);
    mlf_template_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template");
    TCase *syntax = tcase_create("syntax");
    tcase_add_checked_fixture(syntax, setup, teardown);
    tcase_add_test(syntax, test_literal_fast_path);
    tcase_add_test(syntax, test_stray_close_is_text);
    tcase_add_test(syntax, test_syntax_errors);
    tcase_add_test(syntax, test_unsupported_syntax);
    tcase_add_test(syntax, test_depth_bound);
    tcase_add_test(syntax, test_date_filters_keep_the_offset);
    tcase_add_test(syntax, test_literals);
    tcase_add_test(syntax, test_comments_and_whitespace_control);
    suite_add_tcase(s, syntax);
    TCase *builtin = tcase_create("builtin macros");
    tcase_add_checked_fixture(builtin, setup, teardown);
    tcase_add_test(builtin, test_builtin_ds_add);
    tcase_add_test(builtin, test_builtin_ds_format);
    tcase_add_test(builtin, test_builtin_macro_errors);
    suite_add_tcase(s, builtin);
    TCase *render_tc = tcase_create("render");
    tcase_add_checked_fixture(render_tc, setup, teardown);
    tcase_add_test(render_tc, test_type_keeping);
    tcase_add_test(render_tc, test_display_of_every_type);
    tcase_add_test(render_tc, test_airflow_style_command);
    tcase_add_test(render_tc, test_operators);
    tcase_add_test(render_tc, test_operator_errors);
    tcase_add_test(render_tc, test_undefined);
    tcase_add_test(render_tc, test_did_you_mean);
    tcase_add_test(render_tc, test_subscripts_out_of_range);
    tcase_add_test(render_tc, test_filter_default);
    tcase_add_test(render_tc, test_filters);
    tcase_add_test(render_tc, test_filter_errors);
    tcase_add_test(render_tc, test_size_limit);
    tcase_add_test(render_tc, test_macros);
    tcase_add_test(render_tc, test_names_and_refs);
    tcase_add_test(render_tc, test_many_names);
    tcase_add_test(render_tc, test_render_value);
    tcase_add_test(render_tc, test_compile_once_render_many);
    suite_add_tcase(s, render_tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
