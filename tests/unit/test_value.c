/* Unit tests for core/value.c, core/value_codec.c (well-formed input) and core/value_json.c. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "value/value_codec.h"
#include "value/value_internal.h"
#include "value/value_json.h"

/* Packs @p v, unpacks the bytes and checks the result equals @p v; returns the encoded size. */
static size_t roundtrip_msgpack(const mlf_value *v)
{
    void *buf = NULL;
    size_t len = 0;
    mlf_value *back = NULL;
    ck_assert_int_eq(mlf_value_pack(v, &buf, &len), MLF_OK);
    ck_assert_int_eq(mlf_value_unpack(buf, len, &back), MLF_OK);
    ck_assert(mlf_value_equal(v, back));
    ck_assert_int_eq(mlf_value_type(back), mlf_value_type(v));
    mlf_value_free(back);
    free(buf);
    return len;
}

/* Encodes @p v as JSON, decodes it and checks the result equals @p v. */
static void roundtrip_json(const mlf_value *v)
{
    char *json = NULL, err[128];
    mlf_value *back = NULL;
    ck_assert_int_eq(mlf_value_to_json(v, &json), MLF_OK);
    ck_assert_msg(mlf_value_from_json(json, strlen(json), &back, err, sizeof err) == MLF_OK, "%s: %s", json,
                  err);
    ck_assert_msg(mlf_value_equal(v, back), "JSON roundtrip changed %s", json);
    mlf_value_free(back);
    free(json);
}

static void check_display(mlf_value *v, const char *want)
{
    char *s = mlf_value_to_display(v);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, want);
    free(s);
    mlf_value_free(v);
}

static void check_json(mlf_value *v, const char *want)
{
    char *s = NULL;
    ck_assert_int_eq(mlf_value_to_json(v, &s), MLF_OK);
    ck_assert_str_eq(s, want);
    free(s);
    mlf_value_free(v);
}

/* A map {"k0": 0, "k1": 1, ...} of @p n entries. (Hot loops in these tests count failures and assert
 * once: every ck_assert costs Check a write to its message pipe.) */
static mlf_value *numbered_map(size_t n)
{
    mlf_value *m = mlf_value_map();
    char key[32];
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        failed += mlf_map_set(m, key, mlf_value_int((int64_t)i)) != MLF_OK;
    }
    ck_assert_uint_eq(failed, 0);
    return m;
}

/* @p depth arrays nested in each other, the innermost holding nil. */
static mlf_value *nested_arrays(size_t depth)
{
    mlf_value *v = mlf_value_nil();
    for (size_t i = 0; i < depth; i++) {
        mlf_value *a = mlf_value_array();
        ck_assert_int_eq(mlf_array_append(a, v), MLF_OK);
        v = a;
    }
    return v;
}

/* One value of every type, nested. */
static mlf_value *sample_value(void)
{
    mlf_value *m = mlf_value_map(), *a = mlf_value_array(), *inner = mlf_value_map();
    mlf_map_set(m, "nil", mlf_value_nil());
    mlf_map_set(m, "t", mlf_value_bool(1));
    mlf_map_set(m, "f", mlf_value_bool(0));
    mlf_map_set(m, "int", mlf_value_int(-123456789012LL));
    mlf_map_set(m, "float", mlf_value_float(2.5));
    mlf_map_set(m, "str", mlf_value_str("h\xc3\xa9llo \"world\"\n"));
    mlf_map_set(m, "bin", mlf_value_bin("\x00\x01\xff", 3));
    mlf_array_append(a, mlf_value_int(1));
    mlf_array_append(a, mlf_value_str(""));
    mlf_array_append(a, mlf_value_array());
    mlf_map_set(inner, "deep", mlf_value_float(-0.25));
    mlf_array_append(a, inner);
    mlf_map_set(m, "array", a);
    mlf_map_set(m, "empty", mlf_value_map());
    return m;
}

START_TEST(test_scalars)
{
    mlf_value *v;
    int b;
    int64_t i;
    double d;
    size_t n;

    v = mlf_value_nil();
    ck_assert_int_eq(mlf_value_type(v), MLF_NIL);
    ck_assert_int_eq(mlf_value_get_bool(v, &b), MLF_ETYPE);
    ck_assert_uint_eq(mlf_value_len(v), 0);
    mlf_value_free(v);
    ck_assert_int_eq(mlf_value_type(NULL), MLF_NIL);

    v = mlf_value_bool(42);
    ck_assert_int_eq(mlf_value_get_bool(v, &b), MLF_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_ETYPE);
    mlf_value_free(v);

    v = mlf_value_int(INT64_MIN);
    ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_OK);
    ck_assert(i == INT64_MIN);
    ck_assert_int_eq(mlf_value_get_float(v, &d), MLF_OK); /* ints convert */
    ck_assert(d == (double)INT64_MIN);
    mlf_value_free(v);

    v = mlf_value_float(1.25);
    ck_assert_int_eq(mlf_value_get_float(v, &d), MLF_OK);
    ck_assert(d == 1.25);
    ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_ETYPE);
    ck_assert_ptr_null(mlf_value_get_str(v, NULL));
    mlf_value_free(v);

    v = mlf_value_strn("a\0b", 3);
    ck_assert_ptr_nonnull(mlf_value_get_str(v, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(mlf_value_len(v), 3);
    ck_assert(memcmp(mlf_value_get_str(v, NULL), "a\0b\0", 4) == 0); /* NUL-terminated copy */
    ck_assert_ptr_null(mlf_value_get_bin(v, &n));
    mlf_value_free(v);

    ck_assert_ptr_null(mlf_value_str(NULL));
    v = mlf_value_bin(NULL, 0);
    ck_assert_ptr_nonnull(mlf_value_get_bin(v, &n));
    ck_assert_uint_eq(n, 0);
    mlf_value_free(v);

    ck_assert_str_eq(mlf_type_name(MLF_NIL), "nil");
    ck_assert_str_eq(mlf_type_name(MLF_FLOAT), "float");
    ck_assert_str_eq(mlf_type_name(MLF_BIN), "bin");
    ck_assert_str_eq(mlf_type_name(MLF_MAP), "map");
    ck_assert_str_eq(mlf_type_name((mlf_type)99), "unknown");
    mlf_value_free(NULL);
}
END_TEST

START_TEST(test_array)
{
    mlf_value *a = mlf_value_array();
    for (int64_t k = 0; k < 1000; k++)
        ck_assert_int_eq(mlf_array_append(a, mlf_value_int(k)), MLF_OK);
    ck_assert_uint_eq(mlf_value_len(a), 1000);
    int64_t i;
    ck_assert_int_eq(mlf_value_get_int(mlf_array_at(a, 999), &i), MLF_OK);
    ck_assert_int_eq(i, 999);
    ck_assert_ptr_null(mlf_array_at(a, 1000));
    ck_assert_int_eq(mlf_array_append(a, NULL), MLF_EINVAL);
    mlf_value_free(a);
}
END_TEST

/* Writes take their item even when they fail (the sanitizer build's leak check proves the frees). */
START_TEST(test_ownership_on_error)
{
    mlf_value *m = mlf_value_map(), *a = mlf_value_array();
    ck_assert_int_eq(mlf_array_append(m, mlf_value_str("x")), MLF_ETYPE);
    ck_assert_int_eq(mlf_array_append(NULL, mlf_value_str("x")), MLF_EINVAL);
    ck_assert_int_eq(mlf_map_set(a, "k", mlf_value_str("x")), MLF_ETYPE);
    ck_assert_int_eq(mlf_map_set(m, NULL, mlf_value_str("x")), MLF_EINVAL);
    ck_assert_int_eq(mlf_map_set(NULL, "k", mlf_value_str("x")), MLF_EINVAL);
    ck_assert_int_eq(mlf_map_set(m, "k", NULL), MLF_EINVAL);
    ck_assert_int_eq(mlf_map_add_n(m, "k", 1, mlf_value_int(1)), MLF_OK);
    ck_assert_int_eq(mlf_map_add_n(m, "k", 1, mlf_value_int(2)), MLF_EEXIST);
    ck_assert_uint_eq(mlf_value_len(m), 1);
    ck_assert_uint_eq(mlf_value_len(a), 0);
    mlf_value_free(m);
    mlf_value_free(a);
}
END_TEST

START_TEST(test_map_order_replace_remove)
{
    mlf_value *m = mlf_value_map();
    int64_t i;
    ck_assert_int_eq(mlf_map_set(m, "a", mlf_value_int(1)), MLF_OK);
    ck_assert_int_eq(mlf_map_set(m, "b", mlf_value_int(2)), MLF_OK);
    ck_assert_int_eq(mlf_map_set(m, "c", mlf_value_int(3)), MLF_OK);
    ck_assert_int_eq(mlf_map_set(m, "b", mlf_value_str("two")), MLF_OK); /* replace keeps position */
    ck_assert_uint_eq(mlf_value_len(m), 3);
    ck_assert_str_eq(mlf_map_key_at(m, 0), "a");
    ck_assert_str_eq(mlf_map_key_at(m, 1), "b");
    ck_assert_str_eq(mlf_map_key_at(m, 2), "c");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_value_at(m, 1), NULL), "two");
    ck_assert_ptr_null(mlf_map_key_at(m, 3));
    ck_assert_ptr_null(mlf_map_value_at(m, 3));

    ck_assert_int_eq(mlf_map_remove(m, "b"), MLF_OK);
    ck_assert_int_eq(mlf_map_remove(m, "b"), MLF_ENOTFOUND);
    ck_assert_ptr_null(mlf_map_get(m, "b"));
    ck_assert_uint_eq(mlf_value_len(m), 2);
    ck_assert_str_eq(mlf_map_key_at(m, 1), "c");
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(m, "c"), &i), MLF_OK);
    ck_assert_int_eq(i, 3);
    ck_assert_ptr_null(mlf_map_get(m, NULL));

    mlf_value *a = mlf_value_array();
    ck_assert_int_eq(mlf_map_remove(a, "a"), MLF_ETYPE);
    ck_assert_ptr_null(mlf_map_get(a, "a"));
    ck_assert_ptr_null(mlf_map_key_at(a, 0));
    mlf_value_free(a);

    /* Keys may hold NULs when they come from msgpack or JSON; they stay distinct from their prefix. */
    ck_assert_int_eq(mlf_map_add_n(m, "a\0x", 3, mlf_value_int(9)), MLF_OK);
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(m, "a"), &i), MLF_OK);
    ck_assert_int_eq(i, 1);
    size_t klen;
    ck_assert_ptr_nonnull(mlf_map_key_n_at(m, 2, &klen));
    ck_assert_uint_eq(klen, 3);
    mlf_value_free(m);
}
END_TEST

/* Nanoseconds per lookup of @p lookups keys spread over the @p n keys of numbered_map(n). */
static double lookup_ns(const mlf_value *m, size_t n, size_t lookups)
{
    char key[32];
    size_t missing = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t k = 0; k < lookups; k++) {
        snprintf(key, sizeof key, "k%zu", (k * 7919) % n);
        missing += mlf_map_get(m, key) == NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_uint_eq(missing, 0);
    return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)lookups;
}

START_TEST(test_large_map)
{
    const size_t n = 100000;
    mlf_value *m = numbered_map(n);
    char key[32];
    int64_t i;
    size_t wrong = 0;
    ck_assert_uint_eq(mlf_value_len(m), n);
    for (size_t k = 0; k < n; k++) {
        snprintf(key, sizeof key, "k%zu", k);
        wrong += mlf_value_get_int(mlf_map_get(m, key), &i) != MLF_OK || i != (int64_t)k;
    }
    ck_assert_uint_eq(wrong, 0);
    ck_assert_ptr_null(mlf_map_get(m, "k100000"));
    ck_assert_str_eq(mlf_map_key_at(m, 12345), "k12345");

    /* Lookups in 100,000 entries cost about what they cost in 20 (a scan would be ~1000 times slower;
     * the margin absorbs cache misses and a busy machine). */
    mlf_value *twenty = numbered_map(20);
    double small_ns = lookup_ns(twenty, 20, 200000), large_ns = lookup_ns(m, n, 200000);
    ck_assert_msg(large_ns < 50 * small_ns, "lookup: %.0f ns in %zu entries, %.0f ns in 20", large_ns, n, small_ns);
    mlf_value_free(twenty);

    /* Removing keeps order and the index right. */
    for (size_t k = 0; k < 50; k++) {
        snprintf(key, sizeof key, "k%zu", k * 1000);
        ck_assert_int_eq(mlf_map_remove(m, key), MLF_OK);
    }
    ck_assert_uint_eq(mlf_value_len(m), n - 50);
    ck_assert_str_eq(mlf_map_key_at(m, 0), "k1");
    ck_assert_ptr_null(mlf_map_get(m, "k5000"));
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(m, "k5001"), &i), MLF_OK);
    ck_assert_int_eq(i, 5001);
    ck_assert_int_eq(mlf_map_set(m, "k5000", mlf_value_int(-1)), MLF_OK);
    ck_assert_str_eq(mlf_map_key_at(m, n - 50), "k5000");

    /* Shrinking below the index threshold and growing again. */
    mlf_value *small = numbered_map(20);
    for (size_t k = 0; k < 18; k++) {
        snprintf(key, sizeof key, "k%zu", k);
        ck_assert_int_eq(mlf_map_remove(small, key), MLF_OK);
    }
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(small, "k19"), &i), MLF_OK);
    for (size_t k = 100; k < 140; k++) {
        snprintf(key, sizeof key, "k%zu", k);
        ck_assert_int_eq(mlf_map_set(small, key, mlf_value_int((int64_t)k)), MLF_OK);
    }
    ck_assert_uint_eq(mlf_value_len(small), 42);
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(small, "k139"), &i), MLF_OK);
    ck_assert_int_eq(i, 139);
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(small, "k18"), &i), MLF_OK);
    mlf_value_free(small);

    mlf_value *c = mlf_value_copy(m);
    ck_assert(mlf_value_equal(c, m));
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(c, "k99999"), &i), MLF_OK);
    mlf_value_free(c);
    mlf_value_free(m);
}
END_TEST

START_TEST(test_equal)
{
    mlf_value *a = mlf_value_map(), *b = mlf_value_map();
    for (int k = 0; k < 40; k++) { /* both the scanned and the indexed paths */
        char key[8];
        snprintf(key, sizeof key, "%d", k);
        mlf_map_set(a, key, mlf_value_int(k));
        snprintf(key, sizeof key, "%d", 39 - k);
        mlf_map_set(b, key, mlf_value_int(39 - k));
        ck_assert(mlf_value_equal(a, b) == (k == 39));
    }
    mlf_map_set(b, "0", mlf_value_float(0.0));
    ck_assert(!mlf_value_equal(a, b)); /* int 0 is not float 0.0 */
    mlf_value_free(a);
    mlf_value_free(b);

    mlf_value *x = mlf_value_array(), *y = mlf_value_array();
    mlf_array_append(x, mlf_value_int(1));
    mlf_array_append(x, mlf_value_int(2));
    mlf_array_append(y, mlf_value_int(2));
    mlf_array_append(y, mlf_value_int(1));
    ck_assert(!mlf_value_equal(x, y)); /* arrays are ordered */
    mlf_value_free(x);
    mlf_value_free(y);

    x = mlf_value_float(NAN);
    y = mlf_value_float(NAN);
    ck_assert(mlf_value_equal(x, y));
    mlf_value_free(y);
    y = mlf_value_float(1.0);
    ck_assert(!mlf_value_equal(x, y));
    mlf_value_free(x);
    mlf_value_free(y);

    x = mlf_value_strn("ab", 2);
    y = mlf_value_strn("ab\0", 3);
    ck_assert(!mlf_value_equal(x, y));
    mlf_value_free(y);
    y = mlf_value_bin("ab", 2);
    ck_assert(!mlf_value_equal(x, y)); /* str is not bin */
    mlf_value_free(x);
    mlf_value_free(y);
    ck_assert(mlf_value_equal(NULL, NULL));
    x = mlf_value_nil();
    ck_assert(!mlf_value_equal(x, NULL));
    mlf_value_free(x);
}
END_TEST

START_TEST(test_copy_is_deep)
{
    mlf_value *v = sample_value();
    mlf_value *c = mlf_value_copy(v);
    ck_assert_ptr_ne(c, v);
    ck_assert(mlf_value_equal(c, v));
    ck_assert_int_eq(mlf_map_set(c, "str", mlf_value_str("changed")), MLF_OK);
    ck_assert(!mlf_value_equal(c, v));
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(v, "str"), NULL), "h\xc3\xa9llo \"world\"\n");
    ck_assert_ptr_ne(mlf_map_get(c, "array"), mlf_map_get(v, "array"));
    mlf_value_free(c);
    mlf_value_free(v);
    ck_assert_ptr_null(mlf_value_copy(NULL));
}
END_TEST

START_TEST(test_display)
{
    check_display(mlf_value_nil(), "None");
    check_display(mlf_value_bool(1), "True");
    check_display(mlf_value_bool(0), "False");
    check_display(mlf_value_int(-42), "-42");
    check_display(mlf_value_int(INT64_MAX), "9223372036854775807");
    check_display(mlf_value_float(1.5), "1.5");
    check_display(mlf_value_float(2.0), "2.0");
    check_display(mlf_value_float(0.1), "0.1");
    check_display(mlf_value_float(-0.0), "-0.0");
    check_display(mlf_value_float(100.0), "100.0");
    check_display(mlf_value_float(123456.789), "123456.789");
    check_display(mlf_value_float(1e15), "1000000000000000.0");
    check_display(mlf_value_float(1e16), "1e+16");
    check_display(mlf_value_float(1.5e300), "1.5e+300");
    check_display(mlf_value_float(0.0001), "0.0001");
    check_display(mlf_value_float(0.00001), "1e-05");
    check_display(mlf_value_float(1.0 / 3), "0.3333333333333333");
    check_display(mlf_value_float(5e-324), "5e-324");
    check_display(mlf_value_float(NAN), "nan");
    check_display(mlf_value_float(-INFINITY), "-inf");
    check_display(mlf_value_str("plain text"), "plain text");
    check_display(mlf_value_bin("hi", 2), "aGk=");

    mlf_value *a = mlf_value_array();
    mlf_array_append(a, mlf_value_int(1));
    mlf_array_append(a, mlf_value_str("a"));
    mlf_array_append(a, mlf_value_nil());
    mlf_array_append(a, mlf_value_bool(1));
    mlf_array_append(a, mlf_value_float(0.5));
    check_display(a, "[1,\"a\",null,true,0.5]");
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "z", mlf_value_int(1));
    mlf_map_set(m, "a", mlf_value_array());
    check_display(m, "{\"z\":1,\"a\":[]}");
}
END_TEST

/* Every finite double prints as text that reads back as the same double. */
START_TEST(test_format_double_roundtrips)
{
    uint64_t x = 0x243f6a8885a308d3ULL;
    char buf[MLF_DOUBLE_BUFSZ];
    for (int k = 0; k < 100000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        size_t n = mlf_format_double(d, buf);
        if (n >= sizeof buf || strtod(buf, NULL) != d)
            ck_abort_msg("%s does not read back as %.17g", buf, d);
    }
}
END_TEST

START_TEST(test_to_json)
{
    check_json(mlf_value_strn("q\"b\\n\n\t\x01\x7f\0", 10), "\"q\\\"b\\\\n\\n\\t\\u0001\x7f\\u0000\"");
    check_json(mlf_value_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* Invalid UTF-8 (a stray byte, an overlong, a surrogate, a truncated sequence) becomes U+FFFD. */
    check_json(mlf_value_str("a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");
    check_json(mlf_value_str("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    check_json(mlf_value_str("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    check_json(mlf_value_str("\xe2\x82"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    check_json(mlf_value_bin("", 0), "\"\"");
    check_json(mlf_value_bin("f", 1), "\"Zg==\"");
    check_json(mlf_value_bin("fo", 2), "\"Zm8=\"");
    check_json(mlf_value_bin("foo", 3), "\"Zm9v\"");
    check_json(mlf_value_bin("\xff\xfe\xfd\xfc", 4), "\"//79/A==\"");
    check_json(mlf_value_float(NAN), "null");
    check_json(mlf_value_float(INFINITY), "null");
    check_json(mlf_value_float(3.0), "3.0");
    check_json(mlf_value_nil(), "null");
    check_json(sample_value(),
               "{\"nil\":null,\"t\":true,\"f\":false,\"int\":-123456789012,\"float\":2.5,"
               "\"str\":\"h\xc3\xa9llo \\\"world\\\"\\n\",\"bin\":\"AAH/\","
               "\"array\":[1,\"\",[],{\"deep\":-0.25}],\"empty\":{}}");
    char *s = NULL;
    ck_assert_int_eq(mlf_value_to_json(NULL, &s), MLF_EINVAL);
}
END_TEST

START_TEST(test_from_json)
{
    mlf_value *v = NULL;
    char err[128];
    int64_t i;
    double d;
    size_t n;

    ck_assert_int_eq(mlf_value_from_json("42", 2, &v, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_OK);
    ck_assert_int_eq(i, 42);
    mlf_value_free(v);
    ck_assert_int_eq(mlf_value_from_json("-9223372036854775808", 20, &v, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_OK);
    ck_assert(i == INT64_MIN);
    mlf_value_free(v);
    ck_assert_int_eq(mlf_value_from_json("1e2", 3, &v, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_FLOAT);
    ck_assert_int_eq(mlf_value_get_float(v, &d), MLF_OK);
    ck_assert(d == 100.0);
    mlf_value_free(v);
    ck_assert_int_eq(mlf_value_from_json("\"a\\u0000b\"", 10, &v, err, sizeof err), MLF_OK);
    ck_assert_ptr_nonnull(mlf_value_get_str(v, &n));
    ck_assert_uint_eq(n, 3);
    mlf_value_free(v);
    /* Not NUL-terminated: only len bytes are read. */
    ck_assert_int_eq(mlf_value_from_json("null garbage", 4, &v, err, sizeof err), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_NIL);
    mlf_value_free(v);

    const char *doc = "{\"z\": [true, null], \"a\": {\"x\": 1.5}, \"m\": \"s\"}";
    ck_assert_int_eq(mlf_value_from_json(doc, strlen(doc), &v, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_map_key_at(v, 0), "z");
    ck_assert_str_eq(mlf_map_key_at(v, 1), "a");
    ck_assert_str_eq(mlf_map_key_at(v, 2), "m");
    ck_assert_int_eq(mlf_value_get_float(mlf_map_get(mlf_map_get(v, "a"), "x"), &d), MLF_OK);
    ck_assert(d == 1.5);
    mlf_value_free(v);

    const char *bad = "{\n  \"a\": }";
    ck_assert_int_eq(mlf_value_from_json(bad, strlen(bad), &v, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_null(v);
    ck_assert_msg(strncmp(err, "line 2 column ", 14) == 0, "%s", err);
    ck_assert_int_eq(mlf_value_from_json("9223372036854775808", 19, &v, err, sizeof err), MLF_ERANGE);
    ck_assert_msg(strncmp(err, "line 1 column ", 14) == 0, "%s", err);
    ck_assert_int_eq(mlf_value_from_json("[-9223372036854775809]", 22, &v, NULL, 0), MLF_ERANGE);
    ck_assert_int_eq(mlf_value_from_json("1e999", 5, &v, NULL, 0), MLF_ERANGE);
    ck_assert_int_eq(mlf_value_from_json("{\"a\":1,\"a\":2}", 13, &v, err, sizeof err), MLF_EPARSE);
    ck_assert_int_eq(mlf_value_from_json("\"\xff\"", 3, &v, err, sizeof err), MLF_EPARSE);
    ck_assert_int_eq(mlf_value_from_json("", 0, &v, err, sizeof err), MLF_EPARSE);
    ck_assert_int_eq(mlf_value_from_json("[1] [2]", 7, &v, err, sizeof err), MLF_EPARSE);
    ck_assert_int_eq(mlf_value_from_json(NULL, 0, &v, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_value_from_json("1", 1, NULL, err, sizeof err), MLF_EINVAL);

    /* Nesting: 64 levels are fine, 65 are refused, and so is far more (jansson's own limit). */
    char deep[4200];
    static const size_t nests[] = {64, 65, 2100};
    for (size_t k = 0; k < 3; k++) {
        size_t levels = nests[k];
        memset(deep, '[', levels);
        memset(deep + levels, ']', levels);
        int want = levels == 64 ? MLF_OK : MLF_ERANGE;
        ck_assert_int_eq(mlf_value_from_json(deep, 2 * levels, &v, err, sizeof err), want);
        if (want == MLF_OK)
            ck_assert_uint_eq(mlf_value_depth(v, 100), 64);
        mlf_value_free(v);
    }
}
END_TEST

START_TEST(test_json_roundtrip)
{
    mlf_value *v = sample_value();
    ck_assert_int_eq(mlf_map_remove(v, "bin"), MLF_OK); /* bin comes back as a base64 str */
    roundtrip_json(v);
    mlf_value_free(v);
    static const double floats[] = {0.1, -2.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 123.456};
    for (size_t k = 0; k < sizeof floats / sizeof floats[0]; k++) {
        v = mlf_value_float(floats[k]);
        roundtrip_json(v);
        mlf_value_free(v);
    }
    v = mlf_value_int(INT64_MAX);
    roundtrip_json(v);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_msgpack_roundtrip_every_type)
{
    static const int64_t ints[] = {0,      1,       127,          128,       255,       256,
                                   65535,  65536,   4294967295LL, 4294967296LL, -1,    -32,
                                   -33,    -128,    -129,         -32768,    -32769,    INT32_MIN,
                                   (int64_t)INT32_MIN - 1,        INT64_MAX, INT64_MIN};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        mlf_value *v = mlf_value_int(ints[k]);
        roundtrip_msgpack(v);
        mlf_value_free(v);
    }
    static const double floats[] = {0.0, -0.0, 1.5, -1e300, 5e-324, INFINITY, NAN};
    for (size_t k = 0; k < sizeof floats / sizeof floats[0]; k++) {
        mlf_value *v = mlf_value_float(floats[k]);
        ck_assert_uint_eq(roundtrip_msgpack(v), 9);
        mlf_value_free(v);
    }
    /* Lengths at every msgpack size class boundary. */
    static const size_t lens[] = {0, 15, 16, 31, 32, 255, 256, 65535, 65536};
    char *bytes = malloc(65536);
    for (size_t k = 0; k < 65536; k++)
        bytes[k] = (char)(k * 7);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        mlf_value *s = mlf_value_strn(bytes, lens[k]), *b = mlf_value_bin(bytes, lens[k]);
        mlf_value *a = mlf_value_array(), *m = numbered_map(lens[k]);
        for (size_t e = 0; e < lens[k]; e++)
            mlf_array_append(a, mlf_value_bool(e & 1));
        roundtrip_msgpack(s);
        roundtrip_msgpack(b);
        roundtrip_msgpack(a);
        roundtrip_msgpack(m);
        mlf_value_free(s);
        mlf_value_free(b);
        mlf_value_free(a);
        mlf_value_free(m);
    }
    free(bytes);
    mlf_value *v = mlf_value_nil();
    roundtrip_msgpack(v);
    mlf_value_free(v);
    v = sample_value();
    roundtrip_msgpack(v);
    mlf_value_free(v);
    v = mlf_value_map(); /* a key with a NUL survives */
    mlf_map_add_n(v, "a\0b", 3, mlf_value_int(1));
    mlf_map_add_n(v, "a", 1, mlf_value_int(2));
    roundtrip_msgpack(v);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_pack_encoding)
{
    void *buf;
    size_t len;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "a", mlf_value_int(1));
    mlf_map_set(m, "b", mlf_value_int(-1));
    static const unsigned char want[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xff};
    ck_assert_int_eq(mlf_value_pack(m, &buf, &len), MLF_OK);
    ck_assert_uint_eq(len, sizeof want);
    ck_assert(memcmp(buf, want, sizeof want) == 0);
    free(buf);
    mlf_value_free(m);

    mlf_value *v = mlf_value_int(300);
    ck_assert_int_eq(mlf_value_pack(v, &buf, &len), MLF_OK);
    ck_assert_uint_eq(len, 3); /* the smallest integer format */
    free(buf);
    ck_assert_int_eq(mlf_value_pack(NULL, &buf, &len), MLF_EINVAL);
    ck_assert_int_eq(mlf_value_pack(v, NULL, &len), MLF_EINVAL);
    mlf_value_free(v);

    /* The receiver decodes at most MLF_VALUE_MAX_DEPTH levels, so packing refuses more. */
    v = nested_arrays(MLF_VALUE_MAX_DEPTH);
    roundtrip_msgpack(v);
    mlf_value_free(v);
    v = nested_arrays(MLF_VALUE_MAX_DEPTH + 1);
    ck_assert_int_eq(mlf_value_pack(v, &buf, &len), MLF_EINVAL);
    ck_assert_ptr_null(buf);
    mlf_value_free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("value");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_array);
    tcase_add_test(tc, test_ownership_on_error);
    tcase_add_test(tc, test_map_order_replace_remove);
    tcase_add_test(tc, test_large_map);
    tcase_add_test(tc, test_equal);
    tcase_add_test(tc, test_copy_is_deep);
    tcase_add_test(tc, test_display);
    tcase_add_test(tc, test_format_double_roundtrips);
    tcase_add_test(tc, test_to_json);
    tcase_add_test(tc, test_from_json);
    tcase_add_test(tc, test_json_roundtrip);
    tcase_add_test(tc, test_msgpack_roundtrip_every_type);
    tcase_add_test(tc, test_pack_encoding);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
