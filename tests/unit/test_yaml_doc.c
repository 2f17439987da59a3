/* Unit tests for core/yaml_doc.c: positions, every refused input, limits, core-schema values. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/yaml_doc.h"

#define DATA TEST_SRCDIR "/tests/data/config"

static char err[1024];

/* Loads @p text (no source name) and returns the document; fails the test when loading fails. */
static mlf_yaml_doc *load_ok(const char *text)
{
    mlf_yaml_doc *doc = NULL;
    int rc = mlf_yaml_load(text, strlen(text), NULL, NULL, &doc, err, sizeof err);
    ck_assert_msg(rc == MLF_OK, "load failed (%d): %s", rc, err);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* Loads @p text expecting error @p want; returns the message. */
static const char *load_bad(const char *text, const mlf_yaml_limits *lim, int want)
{
    mlf_yaml_doc *doc = (mlf_yaml_doc *)1;
    int rc = mlf_yaml_load(text, strlen(text), NULL, lim, &doc, err, sizeof err);
    ck_assert_msg(rc == want, "got %d (%s), want %d", rc, err, want);
    ck_assert_ptr_null(doc);
    return err;
}

START_TEST(test_positions_styles_and_tree)
{
    mlf_yaml_doc *doc = load_ok("# comment\n"
                                "a: 1\n"
                                "list:\n"
                                "  - plain\n"
                                "  - 'single'\n"
                                "  - \"double\"\n"
                                "  - |\n"
                                "    block\n"
                                "map: {x: y}\n");
    const mlf_yaml_node *root = mlf_yaml_root(doc);
    ck_assert_int_eq(root->kind, MLF_YAML_MAPPING);
    ck_assert_uint_eq(root->n, 3);
    ck_assert_uint_eq(root->line, 2);
    ck_assert_uint_eq(root->col, 1);
    ck_assert_str_eq(root->items[0]->text, "a");
    ck_assert_uint_eq(root->values[0]->line, 2);
    ck_assert_uint_eq(root->values[0]->col, 4);
    const mlf_yaml_node *list = mlf_yaml_map_get(root, "list");
    ck_assert_ptr_nonnull(list);
    ck_assert_int_eq(list->kind, MLF_YAML_SEQUENCE);
    ck_assert_uint_eq(list->n, 4);
    ck_assert_uint_eq(list->line, 4);
    ck_assert_uint_eq(list->col, 3);
    ck_assert_int_eq(list->items[0]->style, MLF_YAML_PLAIN);
    ck_assert_int_eq(list->items[1]->style, MLF_YAML_QUOTED);
    ck_assert_str_eq(list->items[1]->text, "single");
    ck_assert_uint_eq(list->items[1]->line, 5);
    ck_assert_uint_eq(list->items[1]->col, 5);
    ck_assert_int_eq(list->items[2]->style, MLF_YAML_QUOTED);
    ck_assert_int_eq(list->items[3]->style, MLF_YAML_BLOCK);
    ck_assert_str_eq(list->items[3]->text, "block\n");
    const mlf_yaml_node *map = mlf_yaml_map_get(root, "map");
    ck_assert_uint_eq(map->line, 9);
    ck_assert_uint_eq(map->col, 6);
    ck_assert_str_eq(mlf_yaml_map_get(map, "x")->text, "y");
    ck_assert_ptr_null(mlf_yaml_map_get(map, "nope"));
    ck_assert_ptr_null(mlf_yaml_map_get(list, "x"));
    ck_assert_ptr_null(mlf_yaml_doc_name(doc));
    ck_assert_ptr_null(root->source);
    mlf_yaml_free(doc);
}
END_TEST

START_TEST(test_empty_input_is_null)
{
    const char *inputs[] = {"", "# only a comment\n", "---\n", "\n\n"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        mlf_yaml_doc *doc = load_ok(inputs[i]);
        const mlf_yaml_node *root = mlf_yaml_root(doc);
        ck_assert_int_eq(root->kind, MLF_YAML_SCALAR);
        ck_assert(mlf_yaml_is_null(root));
        ck_assert_str_eq(mlf_yaml_describe(root), "null");
        mlf_yaml_free(doc);
    }
    mlf_yaml_doc *doc = NULL;
    ck_assert_int_eq(mlf_yaml_load(NULL, 0, NULL, NULL, &doc, err, sizeof err), MLF_OK);
    mlf_yaml_free(doc);
    ck_assert_int_eq(mlf_yaml_load(NULL, 3, NULL, NULL, &doc, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_yaml_load("", 0, NULL, NULL, NULL, err, sizeof err), MLF_EINVAL);
}
END_TEST

START_TEST(test_syntax_errors_are_positioned)
{
    /* An unclosed flow sequence: libyaml's problem, and its context with the context's position. */
    load_bad("a: [1, 2\nb: 3\n", NULL, MLF_EPARSE);
    ck_assert_msg(strncmp(err, "2:2: ", 5) == 0, "%s", err);
    ck_assert_msg(strstr(err, "did not find expected ',' or ']' (while parsing a flow sequence at 1:4)"), "%s", err);
    /* A bad indentation. */
    load_bad("a:\n  b: 1\n c: 2\n", NULL, MLF_EPARSE);
    ck_assert_msg(strncmp(err, "3:2: ", 5) == 0, "%s", err);
    /* A tab where indentation is expected (scanner error). */
    load_bad("a:\n\t- b\n", NULL, MLF_EPARSE);
    ck_assert_msg(strncmp(err, "2:1: ", 5) == 0, "%s", err);
    ck_assert_msg(strstr(err, "while scanning"), "%s", err);
    /* With a source name, messages start with it. */
    mlf_yaml_doc *doc = NULL;
    ck_assert_int_eq(mlf_yaml_load("[", 1, "x.yaml", NULL, &doc, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strncmp(err, "x.yaml:2:1: ", 12) == 0, "%s", err);
}
END_TEST

START_TEST(test_invalid_utf8_is_positioned)
{
    load_bad("a: ok\nb: x\xff\n", NULL, MLF_EPARSE);
    ck_assert_msg(strncmp(err, "2:5: ", 5) == 0, "%s", err);
    ck_assert_msg(strstr(err, "#FF"), "%s", err);
    /* A NUL byte is not a YAML character either. */
    mlf_yaml_doc *doc = NULL;
    ck_assert_int_eq(mlf_yaml_load("a: \0b\n", 6, NULL, NULL, &doc, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strncmp(err, "1:4: ", 5) == 0, "%s", err);
}
END_TEST

START_TEST(test_second_document_refused)
{
    load_bad("a: 1\n---\nb: 2\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "2:1: a second document starts here; only one is allowed");
    load_bad("--- 1\n...\n--- 2\n", NULL, MLF_EPARSE);
    ck_assert_msg(strncmp(err, "3:1: a second document", 22) == 0, "%s", err);
    /* An explicit end marker alone is fine. */
    mlf_yaml_free(load_ok("a: 1\n...\n"));
}
END_TEST

START_TEST(test_duplicate_keys_name_both_positions)
{
    load_bad("a: 1\nb: 2\n  \na: 3\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "4:1: duplicate key 'a' (first at 1:1)");
    load_bad("top:\n  x: 1\n  y: {q: 1, q: 2}\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "3:13: duplicate key 'q' (first at 3:7)");
    /* Keys compare as text: 1 and "1" are the same key. */
    load_bad("1: a\n\"1\": b\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "2:1: duplicate key '1' (first at 1:1)");
    /* A key repeated through an alias names the alias's own position. */
    load_bad("&k a: 1\n*k : 2\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "2:1: duplicate key 'a' (first at 1:1)");
}
END_TEST

START_TEST(test_duplicate_keys_in_big_mapping)
{
    /* Past 16 keys the check sorts; the pair reported is the one whose repeat comes first. */
    mlf_buf b = {0};
    for (int i = 0; i < 200; i++)
        mlf_buf_printf(&b, "k%d: %d\n", i, i);
    mlf_buf_printf(&b, "k150: again\nk7: again\nk150: third\n");
    load_bad(b.data, NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "201:1: duplicate key 'k150' (first at 151:1)");
    mlf_buf_free(&b);
    for (int i = 0; i < 200; i++)
        mlf_buf_printf(&b, "k%d: %d\n", i, i);
    mlf_yaml_doc *doc = load_ok(b.data);
    ck_assert_uint_eq(mlf_yaml_root(doc)->n, 200);
    ck_assert_str_eq(mlf_yaml_map_get(mlf_yaml_root(doc), "k199")->text, "199");
    mlf_yaml_free(doc);
    mlf_buf_free(&b);
}
END_TEST

START_TEST(test_non_scalar_keys_refused)
{
    load_bad("? [a, b]\n: 1\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "1:3: a mapping key must be a scalar, not a list");
    load_bad("{{a: 1}: 2}\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "1:2: a mapping key must be a scalar, not a mapping");
    load_bad("x: &l [1]\ny: {*l : 2}\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "2:5: a mapping key must be a scalar, not a list");
}
END_TEST

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth * 2 - 1 - i] = ']';
    }
    s[depth * 2] = '\0';
    return s;
}

START_TEST(test_depth_bomb)
{
    char *ok = nested(MLF_YAML_MAX_DEPTH);
    mlf_yaml_doc *doc = load_ok(ok);
    ck_assert_uint_eq(mlf_yaml_root(doc)->height, MLF_YAML_MAX_DEPTH);
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_yaml_node_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_OK);
    mlf_value_free(v);
    mlf_yaml_free(doc);
    free(ok);
    char *bad = nested(MLF_YAML_MAX_DEPTH + 1);
    load_bad(bad, NULL, MLF_ERANGE);
    ck_assert_str_eq(err, "1:65: nesting deeper than 64 levels");
    free(bad);
    /* A deep bomb of a hundred thousand levels stops at the limit, quickly. */
    char *huge = nested(100000);
    load_bad(huge, NULL, MLF_ERANGE);
    free(huge);
    /* Mappings count too, and the limit is configurable. */
    mlf_yaml_limits lim = {.max_depth = 2};
    load_bad("a: {b: {c: 1}}\n", &lim, MLF_ERANGE);
    ck_assert_str_eq(err, "1:8: nesting deeper than 2 levels");
}
END_TEST

START_TEST(test_alias_depth_counts_expanded)
{
    /* The anchored list is 40 deep; used 30 levels down it would be 70 deep. */
    mlf_buf b = {0};
    char *deep = nested(40);
    mlf_buf_printf(&b, "a: &d %s\nb: ", deep);
    char *wrap = nested(30);
    wrap[30] = '\0';
    mlf_buf_printf(&b, "%s*d", wrap);
    for (int i = 0; i < 30; i++)
        mlf_buf_puts(&b, "]");
    mlf_buf_puts(&b, "\n");
    load_bad(b.data, NULL, MLF_ERANGE);
    ck_assert_msg(strstr(err, "nesting deeper than 64 levels (through alias *d)"), "%s", err);
    ck_assert_msg(strncmp(err, "2:34: ", 6) == 0, "%s", err);
    free(deep);
    free(wrap);
    mlf_buf_free(&b);
}
END_TEST

START_TEST(test_alias_bomb)
{
    /* "Billion laughs": 10^9 nodes when expanded, a few hundred bytes of input. */
    const char *bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    load_bad(bomb, NULL, MLF_ETOOBIG);
    ck_assert_msg(strstr(err, "the document has more than 1000000 nodes (aliases expanded)"), "%s", err);
    ck_assert_msg(strncmp(err, "7:", 2) == 0, "%s", err);
    /* The limit is configurable and counts every expanded node: [x, x] is 3 nodes, used twice 7 in all. */
    mlf_yaml_limits lim = {.max_nodes = 8};
    const char *small = "- &a [x, x]\n- *a\n";
    mlf_yaml_doc *doc = NULL;
    ck_assert_int_eq(mlf_yaml_load(small, strlen(small), NULL, &lim, &doc, err, sizeof err), MLF_OK);
    ck_assert_uint_eq(mlf_yaml_root(doc)->weight, 7);
    mlf_yaml_free(doc);
    lim.max_nodes = 6;
    load_bad(small, &lim, MLF_ETOOBIG);
    ck_assert_str_eq(err, "2:3: the document has more than 6 nodes (aliases expanded)");
}
END_TEST

START_TEST(test_aliases_resolve_and_share)
{
    mlf_yaml_doc *doc = load_ok("base: &b {retries: 2, tags: [x]}\n"
                                "copy: *b\n"
                                "name: &n hello\n"
                                "again: *n\n"
                                "re: &n bye\n"
                                "last: *n\n");
    const mlf_yaml_node *root = mlf_yaml_root(doc);
    ck_assert_ptr_eq(mlf_yaml_map_get(root, "copy"), mlf_yaml_map_get(root, "base"));
    ck_assert_str_eq(mlf_yaml_map_get(root, "again")->text, "hello");
    ck_assert_str_eq(mlf_yaml_map_get(root, "last")->text, "bye"); /* the most recent anchor wins */
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_yaml_node_to_value(root, &v, err, sizeof err), MLF_OK);
    ck_assert(mlf_value_equal(mlf_map_get(v, "base"), mlf_map_get(v, "copy")));
    ck_assert_int_eq(mlf_value_type(mlf_map_get(mlf_map_get(v, "copy"), "tags")), MLF_ARRAY);
    mlf_value_free(v);
    mlf_yaml_free(doc);
}
END_TEST

START_TEST(test_bad_aliases)
{
    load_bad("a: *nope\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "1:4: alias *nope refers to an unknown anchor");
    load_bad("a: &x [1, *x]\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "1:11: alias *x refers to a node that contains it (recursive structures are not "
                          "supported)");
    /* An anchor defined later is unknown where it is used. */
    load_bad("a: *x\nb: &x 1\n", NULL, MLF_EPARSE);
    ck_assert_str_eq(err, "1:4: alias *x refers to an unknown anchor");
}
END_TEST

START_TEST(test_many_anchors)
{
    /* Enough anchors to grow the anchor table several times. */
    mlf_buf b = {0};
    for (int i = 0; i < 500; i++)
        mlf_buf_printf(&b, "- &a%d %d\n", i, i);
    for (int i = 0; i < 500; i++)
        mlf_buf_printf(&b, "- *a%d\n", i);
    mlf_yaml_doc *doc = load_ok(b.data);
    const mlf_yaml_node *root = mlf_yaml_root(doc);
    ck_assert_uint_eq(root->n, 1000);
    for (int i = 0; i < 500; i++)
        ck_assert_ptr_eq(root->items[i], root->items[500 + i]);
    mlf_yaml_free(doc);
    mlf_buf_free(&b);
}
END_TEST

/* Converts the single scalar document @p text. */
static mlf_value *scalar(const char *text)
{
    mlf_yaml_doc *doc = load_ok(text);
    mlf_value *v = NULL;
    int rc = mlf_yaml_scalar_to_value(mlf_yaml_root(doc), &v, err, sizeof err);
    ck_assert_msg(rc == MLF_OK, "%s: %s", text, err);
    mlf_yaml_free(doc);
    return v;
}

static void expect_type(const char *text, mlf_type t)
{
    mlf_value *v = scalar(text);
    ck_assert_msg(mlf_value_type(v) == t, "'%s' resolved to %s, want %s", text, mlf_type_name(mlf_value_type(v)),
                  mlf_type_name(t));
    mlf_value_free(v);
}

static void expect_int(const char *text, int64_t want)
{
    mlf_value *v = scalar(text);
    int64_t got = 0;
    ck_assert_msg(mlf_value_get_int(v, &got) == MLF_OK, "'%s' is not an int", text);
    ck_assert_msg(got == want, "'%s': %lld", text, (long long)got);
    mlf_value_free(v);
}

static void expect_float(const char *text, double want)
{
    mlf_value *v = scalar(text);
    double got = 0;
    ck_assert_msg(mlf_value_type(v) == MLF_FLOAT, "'%s' is not a float", text);
    mlf_value_get_float(v, &got);
    if (isnan(want))
        ck_assert_msg(isnan(got), "'%s'", text);
    else
        ck_assert_msg(got == want, "'%s': %g", text, got);
    mlf_value_free(v);
}

static void expect_str(const char *text, const char *want)
{
    mlf_value *v = scalar(text);
    ck_assert_msg(mlf_value_type(v) == MLF_STR, "'%s' is not a str", text);
    ck_assert_str_eq(mlf_value_get_str(v, NULL), want);
    mlf_value_free(v);
}

START_TEST(test_core_schema_plain)
{
    const char *nulls[] = {"null", "Null", "NULL", "~", "\"\"\n"};
    for (size_t i = 0; i < 4; i++)
        expect_type(nulls[i], MLF_NIL);
    expect_str(nulls[4], ""); /* quoted empty is a string */
    expect_str("nULL", "nULL");
    const char *trues[] = {"true", "True", "TRUE"}, *falses[] = {"false", "False", "FALSE"};
    for (size_t i = 0; i < 3; i++) {
        mlf_value *t = scalar(trues[i]), *f = scalar(falses[i]);
        int b = -1;
        ck_assert_int_eq(mlf_value_get_bool(t, &b), MLF_OK);
        ck_assert_int_eq(b, 1);
        ck_assert_int_eq(mlf_value_get_bool(f, &b), MLF_OK);
        ck_assert_int_eq(b, 0);
        mlf_value_free(t);
        mlf_value_free(f);
    }
    /* YAML 1.1 booleans are strings in 1.2. */
    expect_str("yes", "yes");
    expect_str("on", "on");
    expect_str("tRUE", "tRUE");
    expect_int("0", 0);
    expect_int("42", 42);
    expect_int("-17", -17);
    expect_int("+5", 5);
    expect_int("0777", 777); /* no octal by leading zero in 1.2 */
    expect_int("0x1F", 31);
    expect_int("0xff", 255);
    expect_int("0o17", 15);
    expect_int("9223372036854775807", INT64_MAX);
    expect_int("-9223372036854775808", INT64_MIN);
    expect_int("0x7FFFFFFFFFFFFFFF", INT64_MAX);
    expect_str("0x", "0x");
    expect_str("0o8", "0o8");
    expect_str("-0x1", "-0x1");
    expect_str("1_000", "1_000");
    expect_float("1.5", 1.5);
    expect_float("-0.25", -0.25);
    expect_float(".5", 0.5);
    expect_float("1.", 1.0);
    expect_float("1e3", 1000.0);
    expect_float("+1.5E-2", 0.015);
    expect_float(".inf", INFINITY);
    expect_float("-.Inf", -INFINITY);
    expect_float("+.INF", INFINITY);
    expect_float(".nan", NAN);
    expect_float(".NaN", NAN);
    expect_str(".", ".");
    expect_str("1e", "1e");
    expect_str("e5", "e5");
    expect_str("+.nan", "+.nan");
    expect_str("1.2.3", "1.2.3");
    /* Dates stay strings; the DAG parser interprets them. */
    expect_str("2024-01-01", "2024-01-01");
    expect_str("2024-01-01T06:00:00Z", "2024-01-01T06:00:00Z");
    expect_str("30s", "30s");
    expect_str("hello world", "hello world");
}
END_TEST

START_TEST(test_quoted_and_block_are_strings)
{
    expect_str("'true'", "true");
    expect_str("\"42\"", "42");
    expect_str("'~'", "~");
    expect_str("\"1.5\"", "1.5");
    expect_str("|\n  42\n", "42\n");
    expect_str(">-\n  null\n", "null");
    /* A double-quoted NUL survives with its length. */
    mlf_value *v = scalar("\"a\\0b\"");
    size_t len = 0;
    ck_assert_ptr_nonnull(mlf_value_get_str(v, &len));
    ck_assert_uint_eq(len, 3);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_tags)
{
    expect_str("!!str 42", "42");
    expect_str("! 42", "42");
    expect_int("!!int \"42\"", 42);
    expect_float("!!float 5", 5.0);
    expect_type("!!null ''", MLF_NIL);
    expect_type("!!bool True", MLF_BOOL);
    const char *bad[][2] = {{"!!int abc", "1:1: 'abc' is not a valid !!int"},
                            {"!!bool yes", "1:1: 'yes' is not a valid !!bool"},
                            {"!!null 0", "1:1: '0' is not a valid !!null"},
                            {"!custom x", "1:1: unsupported tag '!custom'"},
                            {"!!binary aGk=", "1:1: unsupported tag 'tag:yaml.org,2002:binary'"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mlf_yaml_doc *doc = load_ok(bad[i][0]);
        mlf_value *v = (mlf_value *)1;
        ck_assert_int_eq(mlf_yaml_scalar_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_ETYPE);
        ck_assert_ptr_null(v);
        ck_assert_str_eq(err, bad[i][1]);
        mlf_yaml_free(doc);
    }
    /* Collections accept only their own standard tags. */
    mlf_yaml_doc *doc = load_ok("a: !!seq [1]\nb: !!map {x: 1}\n");
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_yaml_node_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_OK);
    mlf_value_free(v);
    mlf_yaml_free(doc);
    doc = load_ok("a: !!map [1]\n");
    ck_assert_int_eq(mlf_yaml_node_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_ETYPE);
    ck_assert_str_eq(err, "1:4: unsupported tag 'tag:yaml.org,2002:map' on a list");
    mlf_yaml_free(doc);
}
END_TEST

START_TEST(test_int_out_of_range)
{
    const char *big[] = {"9223372036854775808", "-9223372036854775809", "0x8000000000000000",
                         "99999999999999999999999"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        mlf_yaml_doc *doc = load_ok(big[i]);
        mlf_value *v = NULL;
        ck_assert_int_eq(mlf_yaml_scalar_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_ERANGE);
        ck_assert_msg(strstr(err, "is out of range"), "%s", err);
        ck_assert_str_eq(mlf_yaml_describe(mlf_yaml_root(doc)), "int");
        mlf_yaml_free(doc);
    }
}
END_TEST

START_TEST(test_tree_to_value)
{
    mlf_yaml_doc *doc = load_ok("dag_id: x\n"
                                "start_date: 2024-01-01\n"
                                "retries: 3\n"
                                "catchup: false\n"
                                "end_date:\n"
                                "tags: [a, 'b', 3]\n"
                                "params: {w: 1.5, n: ~}\n");
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_yaml_node_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_MAP);
    ck_assert_uint_eq(mlf_value_len(v), 7);
    ck_assert_str_eq(mlf_map_key_at(v, 0), "dag_id"); /* document order */
    ck_assert_str_eq(mlf_map_key_at(v, 6), "params");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(v, "start_date"), NULL), "2024-01-01");
    ck_assert_int_eq(mlf_value_type(mlf_map_get(v, "retries")), MLF_INT);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(v, "catchup")), MLF_BOOL);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(v, "end_date")), MLF_NIL);
    const mlf_value *tags = mlf_map_get(v, "tags");
    ck_assert_uint_eq(mlf_value_len(tags), 3);
    ck_assert_int_eq(mlf_value_type(mlf_array_at(tags, 2)), MLF_INT);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(mlf_map_get(v, "params"), "w")), MLF_FLOAT);
    mlf_value_free(v);
    /* A node that is not a scalar is refused by the scalar converter. */
    ck_assert_int_eq(mlf_yaml_scalar_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_EINVAL);
    ck_assert_str_eq(err, "1:1: expected a scalar, got a mapping");
    mlf_yaml_free(doc);
    /* Errors deep in the tree carry the position of the bad node. */
    doc = load_ok("a:\n  b: [1, !!int x]\n");
    ck_assert_int_eq(mlf_yaml_node_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_ETYPE);
    ck_assert_str_eq(err, "2:10: 'x' is not a valid !!int");
    mlf_yaml_free(doc);
    /* Keys with a NUL cannot become map keys. */
    doc = load_ok("\"a\\0b\": 1\n");
    ck_assert_int_eq(mlf_yaml_node_to_value(mlf_yaml_root(doc), &v, err, sizeof err), MLF_ETYPE);
    ck_assert_str_eq(err, "1:1: a mapping key contains a NUL character");
    mlf_yaml_free(doc);
}
END_TEST

START_TEST(test_describe_and_errorf)
{
    mlf_yaml_doc *doc = NULL;
    const char *text = "s: x\ni: 1\nf: 1.0\nb: true\nn:\nl: []\nm: {}\nq: '1'\n";
    ck_assert_int_eq(mlf_yaml_load(text, strlen(text), "cfg.yaml", NULL, &doc, err, sizeof err), MLF_OK);
    const mlf_yaml_node *r = mlf_yaml_root(doc);
    const char *want[][2] = {{"s", "string"}, {"i", "int"},  {"f", "float"},   {"b", "bool"},
                             {"n", "null"},   {"l", "list"}, {"m", "mapping"}, {"q", "string"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_str_eq(mlf_yaml_describe(mlf_yaml_map_get(r, want[i][0])), want[i][1]);
    ck_assert_str_eq(mlf_yaml_doc_name(doc), "cfg.yaml");
    mlf_buf b = {0};
    ck_assert_int_eq(mlf_yaml_errorf(&b, mlf_yaml_map_get(r, "f"), "bad %s", "thing"), MLF_OK);
    ck_assert_int_eq(mlf_yaml_errorf(&b, mlf_yaml_map_get(r, "l"), "second"), MLF_OK);
    ck_assert_str_eq(b.data, "cfg.yaml:3:4: bad thing\ncfg.yaml:6:4: second\n");
    mlf_buf_free(&b);
    /* Conversion errors name the source too. */
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_yaml_scalar_to_value(mlf_yaml_map_get(r, "l"), &v, err, sizeof err), MLF_EINVAL);
    ck_assert_str_eq(err, "cfg.yaml:6:4: expected a scalar, got a list");
    mlf_yaml_free(doc);
}
END_TEST

START_TEST(test_load_file)
{
    mlf_yaml_doc *doc = NULL;
    ck_assert_int_eq(mlf_yaml_load_file(DATA "/good.yaml", NULL, &doc, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_yaml_doc_name(doc), DATA "/good.yaml");
    ck_assert_str_eq(mlf_yaml_root(doc)->source, DATA "/good.yaml");
    mlf_yaml_free(doc);
    ck_assert_int_eq(mlf_yaml_load_file(DATA "/missing.yaml", NULL, &doc, err, sizeof err), ENOENT);
    ck_assert_ptr_null(doc);
    ck_assert_str_eq(err, DATA "/missing.yaml: cannot open: No such file or directory");
    ck_assert_int_eq(mlf_yaml_load_file(DATA, NULL, &doc, err, sizeof err), EISDIR);
    ck_assert_int_eq(mlf_yaml_load_file(DATA "/syntax.yaml", NULL, &doc, err, sizeof err), MLF_EPARSE);
    ck_assert_msg(strncmp(err, DATA "/syntax.yaml:4:11: ", strlen(DATA "/syntax.yaml:4:11: ")) == 0, "%s", err);
    mlf_yaml_limits lim = {.max_bytes = 10};
    ck_assert_int_eq(mlf_yaml_load_file(DATA "/good.yaml", &lim, &doc, err, sizeof err), MLF_ETOOBIG);
    ck_assert_str_eq(err, DATA "/good.yaml: the file exceeds the limit of 10 bytes");
    ck_assert_int_eq(mlf_yaml_load("a: 12345678", 11, "buf", &lim, &doc, err, sizeof err), MLF_ETOOBIG);
    ck_assert_str_eq(err, "buf: input of 11 bytes exceeds the limit of 10 bytes");
}
END_TEST

START_TEST(test_small_error_buffers)
{
    char tiny[8];
    mlf_yaml_doc *doc = NULL;
    ck_assert_int_eq(mlf_yaml_load("a: 1\na: 2\n", 10, "long-name.yaml", NULL, &doc, tiny, sizeof tiny),
                     MLF_EPARSE);
    ck_assert_str_eq(tiny, "long-na");
    ck_assert_int_eq(mlf_yaml_load("a: 1\na: 2\n", 10, NULL, NULL, &doc, NULL, 0), MLF_EPARSE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("yaml_doc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_positions_styles_and_tree);
    tcase_add_test(tc, test_empty_input_is_null);
    tcase_add_test(tc, test_syntax_errors_are_positioned);
    tcase_add_test(tc, test_invalid_utf8_is_positioned);
    tcase_add_test(tc, test_second_document_refused);
    tcase_add_test(tc, test_duplicate_keys_name_both_positions);
    tcase_add_test(tc, test_duplicate_keys_in_big_mapping);
    tcase_add_test(tc, test_non_scalar_keys_refused);
    tcase_add_test(tc, test_depth_bomb);
    tcase_add_test(tc, test_alias_depth_counts_expanded);
    tcase_add_test(tc, test_alias_bomb);
    tcase_add_test(tc, test_aliases_resolve_and_share);
    tcase_add_test(tc, test_bad_aliases);
    tcase_add_test(tc, test_many_anchors);
    tcase_add_test(tc, test_core_schema_plain);
    tcase_add_test(tc, test_quoted_and_block_are_strings);
    tcase_add_test(tc, test_tags);
    tcase_add_test(tc, test_int_out_of_range);
    tcase_add_test(tc, test_tree_to_value);
    tcase_add_test(tc, test_describe_and_errorf);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_small_error_buffers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
