/* Unit tests for the template engine's logic (core/tmpl/template.c, template_render.c): comparisons, and /
 * or / not, `in`, conditional expressions, {% if %} / {% elif %} / {% else %} and {% for %} with `loop`.
 * Expectations are Jinja2's (what Airflow renders with, StrictUndefined): Python's comparison and truth
 * rules, `a or b` giving an operand, an undefined value an error wherever it is used. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "tmpl/template.h"

static mlf_value *ctx;

static void setup(void)
{
    ctx = mlf_value_map();
    mlf_map_set(ctx, "ds", mlf_value_str("2024-01-05"));
    mlf_map_set(ctx, "n", mlf_value_int(3));
    mlf_map_set(ctx, "ratio", mlf_value_float(1.5));
    mlf_map_set(ctx, "yes", mlf_value_bool(1));
    mlf_map_set(ctx, "no", mlf_value_bool(0));
    mlf_map_set(ctx, "nothing", mlf_value_nil());
    mlf_map_set(ctx, "empty", mlf_value_str(""));
    mlf_value *l = mlf_value_array();
    mlf_array_append(l, mlf_value_str("btc"));
    mlf_array_append(l, mlf_value_str("eth"));
    mlf_array_append(l, mlf_value_str("sol"));
    mlf_map_set(ctx, "symbols", l);
    mlf_map_set(ctx, "none_list", mlf_value_array());
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "mode", mlf_value_str("full"));
    mlf_map_set(m, "days", mlf_value_int(7));
    mlf_map_set(ctx, "params", m);
    mlf_value *grid = mlf_value_array();
    for (int i = 1; i <= 2; i++) {
        mlf_value *row = mlf_value_array();
        mlf_array_append(row, mlf_value_int(i));
        mlf_array_append(row, mlf_value_int(i * 10));
        mlf_array_append(grid, row);
    }
    mlf_map_set(ctx, "grid", grid);
}

static void teardown(void)
{
    mlf_value_free(ctx);
}

static int lookup(void *ud, const char *name, const mlf_value **out)
{
    const mlf_value *v = mlf_map_get(ud, name);
    if (!v)
        return MLF_ENOTFOUND;
    *out = v;
    return MLF_OK;
}

static int render(const char *text, mlf_value **out, char *err)
{
    mlf_template *t = NULL;
    *out = NULL;
    int rc = mlf_template_compile(text, strlen(text), &t, err, 256);
    if (rc != MLF_OK)
        return rc;
    mlf_template_env e = {.lookup = lookup, .ud = ctx};
    rc = mlf_template_render(t, &e, out, err, 256);
    mlf_template_free(t);
    return rc;
}

/* @p text renders to the display text @p want. */
static void expect(const char *text, const char *want)
{
    char err[256] = "";
    mlf_value *v = NULL;
    int rc = render(text, &v, err);
    ck_assert_msg(rc == MLF_OK, "%s: %s", text, err);
    char *shown = mlf_value_to_display(v);
    ck_assert_msg(strcmp(shown, want) == 0, "%s: got '%s', want '%s'", text, shown, want);
    free(shown);
    mlf_value_free(v);
}

static void expect_err(const char *text, int want_rc, const char *want)
{
    char err[256] = "";
    mlf_value *v = NULL;
    int rc = render(text, &v, err);
    ck_assert_msg(rc == want_rc, "%s: rc %d (%s), want %d", text, rc, err, want_rc);
    ck_assert_msg(strstr(err, want) != NULL, "%s: error '%s' does not contain '%s'", text, err, want);
    mlf_value_free(v);
}

START_TEST(test_comparisons)
{
    expect("{{ n == 3 }}", "True");
    expect("{{ n != 3 }}", "False");
    expect("{{ n == 3.0 }}", "True"); /* Python: 3 == 3.0 */
    expect("{{ yes == 1 }}", "True"); /* Python: True == 1 */
    expect("{{ ds == '2024-01-05' }}", "True");
    expect("{{ ds == 5 }}", "False"); /* different types are unequal, not an error */
    expect("{{ n < 4 }}", "True");
    expect("{{ n <= 3 }}", "True");
    expect("{{ ratio > 1 }}", "True");
    expect("{{ n >= 4 }}", "False");
    expect("{{ ds < '2024-02-01' }}", "True"); /* strings by code point, as ISO dates sort */
    expect("{{ 'b' > 'abc' }}", "True");
    expect("{{ nothing == None }}", "True");
    expect("{{ symbols == ['btc', 'eth', 'sol'] }}", "True");
    expect("{{ 'eth' in symbols }}", "True");
    expect("{{ 'ada' not in symbols }}", "True");
    expect("{{ 'mode' in params }}", "True"); /* a map's keys */
    expect("{{ '01' in ds }}", "True");       /* a substring */
    expect("{{ n + 1 == 4 }}", "True");       /* arithmetic binds tighter */
    expect_err("{{ ds < 3 }}", MLF_ETYPE, "'<' is not supported between str and int");
    expect_err("{{ 3 in n }}", MLF_ETYPE, "'in' needs a string, a list or a map on the right, not int");
    expect_err("{{ 1 < 2 < 3 }}", MLF_ENOTSUP, "chained comparisons are not supported yet");
    expect_err("{{ missing == 1 }}", MLF_ENOTFOUND, "'missing' is undefined");
}
END_TEST

START_TEST(test_and_or_not)
{
    expect("{{ yes and n }}", "3"); /* Python: the deciding operand */
    expect("{{ no and missing }}", "False"); /* not evaluated: no error */
    expect("{{ empty or 'fallback' }}", "fallback");
    expect("{{ ds or missing }}", "2024-01-05");
    expect("{{ not empty }}", "True");
    expect("{{ not not n }}", "True");
    expect("{{ not n == 3 }}", "False"); /* not binds looser than == */
    expect("{{ no or yes and no }}", "False"); /* and binds tighter than or */
    expect("{{ none_list or ['x'] }}", "[\"x\"]");
    expect_err("{{ missing or 1 }}", MLF_ENOTFOUND, "'missing' is undefined"); /* StrictUndefined */
    expect_err("{{ n not 3 }}", MLF_EPARSE, "expected 'in' after 'not'");
}
END_TEST

START_TEST(test_conditional_expression)
{
    expect("{{ 'full' if params.mode == 'full' else 'delta' }}", "full");
    expect("{{ 'a' if no else 'b' if yes else 'c' }}", "b");
    expect("{{ (n if n > 5 else 5) + 1 }}", "6");
    expect("x{{ 'y' if yes }}", "xy");
    /* the whole value keeps its type, as any one-expression template */
    mlf_value *v = NULL;
    char err[256];
    ck_assert_int_eq(render("{{ symbols if yes else [] }}", &v, err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_ARRAY);
    mlf_value_free(v);
    expect_err("x{{ 'y' if no }}", MLF_ENOTFOUND, "is false and it has no else");
    expect_err("{{ 'y' if missing else 'z' }}", MLF_ENOTFOUND, "'missing' is undefined");
}
END_TEST

START_TEST(test_if_blocks)
{
    expect("{% if yes %}A{% endif %}", "A");
    expect("{% if no %}A{% endif %}", "");
    expect("{% if no %}A{% else %}B{% endif %}", "B");
    expect("{% if n == 1 %}one{% elif n == 2 %}two{% elif n == 3 %}three{% else %}many{% endif %}", "three");
    expect("{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %}", "many");
    expect("{% if n > 1 %}{% if no %}x{% else %}nested{% endif %}{% endif %}!", "nested!");
    expect("--mode {% if params.mode == 'full' %}full --days {{ params.days }}{% else %}delta{% endif %}",
           "--mode full --days 7");
    expect("a\n  {%- if yes -%}\n  b\n  {%- endif %}\nc", "ab\nc"); /* whitespace control, as Jinja */
    expect_err("{% if missing %}x{% endif %}", MLF_ENOTFOUND, "'missing' is undefined");
    expect_err("{% if yes %}x", MLF_EPARSE, "unclosed {% if %} (expected {% endif %})");
    expect_err("x{% endif %}", MLF_EPARSE, "{% endif %} without an open {% if %}");
    expect_err("{% if yes %}{% else %}{% elif no %}{% endif %}", MLF_EPARSE, "{% elif %} after the {% else %}");
    expect_err("{% if yes %}{% endfor %}", MLF_EPARSE, "{% endfor %} without an open {% for %}; the open block is {% if %}");
    expect_err("{% if yes }}", MLF_EPARSE, "expected '%}' to close the '{%' at column 1");
}
END_TEST

START_TEST(test_for_blocks)
{
    expect("{% for s in symbols %}{{ s }},{% endfor %}", "btc,eth,sol,");
    expect("{% for s in symbols %}{{ loop.index }}={{ s }}{% if not loop.last %} {% endif %}{% endfor %}",
           "1=btc 2=eth 3=sol");
    expect("{% for s in symbols %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.length }};{% endfor %}",
           "03True3;12False3;21False3;");
    expect("{% for k in params %}{{ k }}={{ params[k] }} {% endfor %}", "mode=full days=7 ");
    expect("[{% for s in none_list %}x{% endfor %}]", "[]");
    expect("{% for row in grid %}{% for x in row %}{{ loop.index }}:{{ x }} {% endfor %}| {% endfor %}",
           "1:1 2:10 | 1:2 2:20 | ");
    expect("{% for ds in symbols %}{{ ds }}{% endfor %}{{ ds }}", "btcethsol2024-01-05"); /* shadowing ends */
    expect_err("{% for s in n %}{% endfor %}", MLF_ETYPE, "{% for %} needs a list or a map, not int");
    expect_err("{% for a, b in grid %}{% endfor %}", MLF_ENOTSUP, "unpacking several loop variables");
    expect_err("{% for s in symbols %}{% else %}{% endfor %}", MLF_ENOTSUP, "{% else %} in a {% for %}");
    expect_err("{% for s in symbols if s %}{% endfor %}", MLF_ENOTSUP, "'if' in a {% for %} is not supported yet");
    expect_err("{% for s in symbols %}", MLF_EPARSE, "unclosed {% for %} (expected {% endfor %})");
}
END_TEST

/* Loop variables are not names a DAG must provide: they are not listed as references. */
START_TEST(test_loop_variables_are_not_references)
{
    const char *text = "{% for s in symbols %}{{ s }}{{ loop.index }}{{ ds }}{% endfor %}{% if n %}{{ params.mode }}{% endif %}";
    mlf_template *t = NULL;
    char err[256];
    ck_assert_int_eq(mlf_template_compile(text, strlen(text), &t, err, sizeof err), MLF_OK);
    const char *const *names;
    size_t n;
    ck_assert_int_eq(mlf_template_names(t, &names, &n), MLF_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(names[0], "symbols");
    ck_assert_str_eq(names[1], "ds");
    ck_assert_str_eq(names[2], "n");
    ck_assert_str_eq(names[3], "params");
    ck_assert_int_eq(mlf_template_get_kind(t), MLF_TEMPLATE_TEXT);
    mlf_template_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template_logic");
    TCase *tc = tcase_create("logic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_comparisons);
    tcase_add_test(tc, test_and_or_not);
    tcase_add_test(tc, test_conditional_expression);
    tcase_add_test(tc, test_if_blocks);
    tcase_add_test(tc, test_for_blocks);
    tcase_add_test(tc, test_loop_variables_are_not_references);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
