/* Unit tests for core/value_codec.c on hostile msgpack input: every bad input returns its documented error,
 * without crashing and without allocating for counts the bytes cannot back (a decoder that trusted the
 * 2^32-1 element header below would ask for 32 GiB and fail with MLF_ENOMEM, or be killed, instead of
 * returning MLF_EPARSE at once). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "value/value_codec.h"

/* Unpacks @p len bytes and checks the result is @p want (and that nothing is returned on error). */
static void expect_unpack(const void *buf, size_t len, int want)
{
    mlf_value *sentinel = mlf_value_nil(), *v = sentinel; /* must be overwritten */
    int rc = mlf_value_unpack(buf, len, &v);
    ck_assert_msg(rc == want, "unpack of %zu bytes gave %d (%s), want %d (%s)", len, rc, mlf_strerror(rc), want,
                  mlf_strerror(want));
    if (rc != MLF_OK)
        ck_assert_ptr_null(v);
    else
        ck_assert_ptr_ne(v, sentinel);
    if (v != sentinel)
        mlf_value_free(v);
    mlf_value_free(sentinel);
}

#define EXPECT(want, ...)                                                                                     \
    do {                                                                                                      \
        static const unsigned char in_[] = {__VA_ARGS__};                                                     \
        expect_unpack(in_, sizeof in_, (want));                                                               \
    } while (0)

/* A value using every type and size class, packed by our own packer. */
static void *valid_encoding(size_t *len)
{
    mlf_value *m = mlf_value_map(), *a = mlf_value_array();
    char big[300];
    memset(big, 'x', sizeof big);
    mlf_map_set(m, "nil", mlf_value_nil());
    mlf_map_set(m, "bool", mlf_value_bool(1));
    mlf_map_set(m, "i8", mlf_value_int(-100));
    mlf_map_set(m, "u16", mlf_value_int(60000));
    mlf_map_set(m, "i64", mlf_value_int(INT64_MIN));
    mlf_map_set(m, "float", mlf_value_float(0.1));
    mlf_map_set(m, "str8", mlf_value_strn(big, 200));
    mlf_map_set(m, "str16", mlf_value_strn(big, 300));
    mlf_map_set(m, "bin", mlf_value_bin(big, 3));
    for (int i = 0; i < 20; i++)
        mlf_array_append(a, mlf_value_int(i * 1000));
    mlf_map_set(m, "array16", a);
    mlf_map_set(m, "empty", mlf_value_array());
    void *buf = NULL;
    ck_assert_int_eq(mlf_value_pack(m, &buf, len), MLF_OK);
    mlf_value_free(m);
    return buf;
}

START_TEST(test_truncated_at_every_byte)
{
    size_t len;
    unsigned char *buf = valid_encoding(&len);
    expect_unpack(buf, len, MLF_OK);
    for (size_t cut = 0; cut < len; cut++) {
        /* A fresh heap copy of exactly `cut` bytes, so that ASan sees any read past the end. */
        unsigned char *part = malloc(cut ? cut : 1);
        memcpy(part, buf, cut);
        expect_unpack(part, cut, MLF_EPARSE);
        size_t used = 12345;
        ck_assert_int_eq(mlf_msgpack_prescan(part, cut, MLF_VALUE_MAX_DEPTH, &used), MLF_EPARSE);
        ck_assert_uint_eq(used, 12345); /* untouched on error */
        free(part);
    }
    free(buf);
}
END_TEST

START_TEST(test_huge_counts)
{
    EXPECT(MLF_EPARSE, 0xdd, 0xff, 0xff, 0xff, 0xff);             /* array32 of 2^32-1 in 5 bytes */
    EXPECT(MLF_EPARSE, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0); /* ... followed by two elements */
    EXPECT(MLF_EPARSE, 0xdf, 0xff, 0xff, 0xff, 0xff);             /* map32 of 2^32-1 entries */
    EXPECT(MLF_EPARSE, 0xdc, 0xff, 0xff, 0xc0);                   /* array16 of 65535 */
    EXPECT(MLF_EPARSE, 0xde, 0x00, 0x02, 0xa1, 'a', 0xc0, 0xa1);  /* map16 of 2, 1.5 given */
    EXPECT(MLF_EPARSE, 0x81, 0xa1, 'a');                          /* a key without its value */
    EXPECT(MLF_EPARSE, 0x92, 0xc0);                               /* fixarray of 2, one given */
    EXPECT(MLF_EPARSE, 0xdb, 0x00, 0x01, 0x00, 0x00, 'a');        /* str32 of 65536, 1 byte */
    EXPECT(MLF_EPARSE, 0xdb, 0xff, 0xff, 0xff, 0xff);             /* str32 of 4 GiB */
    EXPECT(MLF_EPARSE, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00);       /* bin32 of 4 GiB */
    EXPECT(MLF_EPARSE, 0xd9, 0x02, 'a');                          /* str8 of 2, 1 byte */
    EXPECT(MLF_EPARSE, 0xa3, 'a', 'b');                           /* fixstr of 3, 2 bytes */
    EXPECT(MLF_EPARSE, 0xdb, 0x00, 0x00);                         /* str32 length cut short */
    /* Nested: an array of one array32 claiming 2^32-1 elements. */
    EXPECT(MLF_EPARSE, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02);
    /* The counts that the bytes do back are fine, even at the limit: 3 elements in 3 bytes. */
    EXPECT(MLF_OK, 0xdd, 0x00, 0x00, 0x00, 0x03, 0xc0, 0xc0, 0xc0);
}
END_TEST

START_TEST(test_depth)
{
    unsigned char buf[200];
    size_t used;
    memset(buf, 0x91, sizeof buf); /* fixarray of one */
    buf[64] = 0xc0;
    expect_unpack(buf, 65, MLF_OK); /* 64 levels */
    buf[64] = 0x91;
    buf[65] = 0xc0;
    expect_unpack(buf, 66, MLF_ERANGE); /* 65 levels */
    buf[65] = 0x90;                     /* ... even when the innermost is empty */
    expect_unpack(buf, 66, MLF_ERANGE);
    buf[63] = 0x80; /* 63 arrays around an empty map: 64 levels */
    expect_unpack(buf, 64, MLF_OK);
    buf[63] = 0x91;
    /* Maps count too: {"k": {"k": ...}}. */
    unsigned char maps[3 * 65 + 1];
    for (size_t i = 0; i < 65; i++)
        memcpy(maps + 3 * i, "\x81\xa1k", 3);
    maps[3 * 64] = 0xc0;
    expect_unpack(maps, 3 * 64 + 1, MLF_OK);
    maps[3 * 64] = 0x81;
    maps[3 * 65] = 0xc0;
    expect_unpack(maps, sizeof maps, MLF_ERANGE);

    /* Depth is checked before truncation is noticed: an endless nest fails fast, not deep. */
    unsigned char *endless = malloc(1 << 20);
    memset(endless, 0x91, 1 << 20);
    expect_unpack(endless, 1 << 20, MLF_ERANGE);
    /* The pre-scan's own stack grows past its first 16 levels for callers that allow more. */
    endless[(1 << 20) - 1] = 0xc0;
    ck_assert_int_eq(mlf_msgpack_prescan(endless, 1 << 20, SIZE_MAX, &used), MLF_OK);
    ck_assert_uint_eq(used, 1 << 20);
    ck_assert_int_eq(mlf_msgpack_prescan(endless, 1 << 20, 1000, &used), MLF_ERANGE);
    free(endless);
    ck_assert_int_eq(mlf_msgpack_prescan(buf, 10, 2, &used), MLF_ERANGE);
    ck_assert_int_eq(mlf_msgpack_prescan("\xc0", 1, 0, &used), MLF_OK); /* scalars need no depth */
}
END_TEST

START_TEST(test_ext_types)
{
    EXPECT(MLF_ETYPE, 0xd4, 0x01, 0x00);                            /* fixext 1 */
    EXPECT(MLF_ETYPE, 0xd5, 0x01, 0x00, 0x00);                      /* fixext 2 */
    EXPECT(MLF_ETYPE, 0xd6, 0xff, 0x00, 0x00, 0x00, 0x00);          /* fixext 4: timestamp */
    EXPECT(MLF_ETYPE, 0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0);          /* fixext 8 */
    EXPECT(MLF_ETYPE, 0xd8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); /* fixext 16 */
    EXPECT(MLF_ETYPE, 0xc7, 0x01, 0x05, 0x00);                      /* ext 8 */
    EXPECT(MLF_ETYPE, 0xc8, 0x00, 0x01, 0x05, 0x00);                /* ext 16 */
    EXPECT(MLF_ETYPE, 0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00);    /* ext 32 */
    EXPECT(MLF_ETYPE, 0x92, 0xc0, 0xd4, 0x01, 0x00);                /* inside an array */
    EXPECT(MLF_ETYPE, 0x81, 0xa1, 'k', 0xc9, 0xff, 0xff, 0xff, 0xff); /* as a map value */
    EXPECT(MLF_EPARSE, 0xc1);                                       /* the never-used byte */
    EXPECT(MLF_EPARSE, 0x91, 0xc1);
}
END_TEST

START_TEST(test_map_keys)
{
    EXPECT(MLF_ETYPE, 0x81, 0x01, 0x01);             /* int key */
    EXPECT(MLF_ETYPE, 0x81, 0xc0, 0x01);             /* nil key */
    EXPECT(MLF_ETYPE, 0x81, 0xc4, 0x01, 'k', 0x01);  /* bin key */
    EXPECT(MLF_ETYPE, 0x81, 0x90, 0x01);             /* array key */
    EXPECT(MLF_ETYPE, 0x82, 0xa1, 'a', 0x01, 0x02, 0x02); /* the second key */
    EXPECT(MLF_EPARSE, 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02); /* duplicate key */
    EXPECT(MLF_OK, 0x82, 0xa1, 'a', 0x01, 0xa2, 'a', 0x00, 0x02); /* "a" and "a\0" differ */
    EXPECT(MLF_OK, 0x81, 0xa0, 0xc0);                 /* the empty key */

    /* Duplicates are found in large (indexed) maps too. */
    unsigned char big[3 + 40 * 4];
    big[0] = 0xde;
    big[1] = 0;
    big[2] = 40;
    for (int i = 0; i < 40; i++) {
        unsigned char *e = big + 3 + 4 * i;
        e[0] = 0xa2;
        e[1] = (unsigned char)('a' + i / 10);
        e[2] = (unsigned char)('0' + i % 10);
        e[3] = 0xc0;
    }
    expect_unpack(big, sizeof big, MLF_OK);
    big[3 + 4 * 39 + 1] = 'a'; /* the last key becomes "a9", already present */
    expect_unpack(big, sizeof big, MLF_EPARSE);
}
END_TEST

START_TEST(test_integers)
{
    mlf_value *v;
    int64_t i;
    double d;
    EXPECT(MLF_ETYPE, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); /* uint64 max */
    EXPECT(MLF_ETYPE, 0xcf, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00); /* INT64_MAX + 1 */
    EXPECT(MLF_EPARSE, 0xcf, 0x00, 0x00);                                    /* truncated */

    static const unsigned char max[] = {0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_eq(mlf_value_unpack(max, sizeof max, &v), MLF_OK);
    ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_OK);
    ck_assert(i == INT64_MAX);
    mlf_value_free(v);

    static const struct {
        unsigned char in[9];
        size_t len;
        int64_t want;
    } cases[] = {
        {{0xd0, 0x80}, 2, -128},
        {{0xd0, 0x7f}, 2, 127},
        {{0xd1, 0x80, 0x00}, 3, -32768},
        {{0xd2, 0xff, 0xff, 0xff, 0xfe}, 5, -2},
        {{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, 9, INT64_MIN},
        {{0xcc, 0xff}, 2, 255},
        {{0xcd, 0xff, 0xff}, 3, 65535},
        {{0xce, 0xff, 0xff, 0xff, 0xff}, 5, 4294967295LL},
        {{0xe0}, 1, -32},
        {{0x7f}, 1, 127},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ck_assert_int_eq(mlf_value_unpack(cases[k].in, cases[k].len, &v), MLF_OK);
        ck_assert_int_eq(mlf_value_get_int(v, &i), MLF_OK);
        ck_assert_msg(i == cases[k].want, "case %zu gave %lld", k, (long long)i);
        mlf_value_free(v);
    }
    static const unsigned char f32[] = {0xca, 0x3f, 0xc0, 0x00, 0x00}; /* float32 1.5 */
    ck_assert_int_eq(mlf_value_unpack(f32, sizeof f32, &v), MLF_OK);
    ck_assert_int_eq(mlf_value_type(v), MLF_FLOAT);
    ck_assert_int_eq(mlf_value_get_float(v, &d), MLF_OK);
    ck_assert(d == 1.5);
    mlf_value_free(v);
}
END_TEST

START_TEST(test_trailing_and_empty)
{
    size_t used = 0;
    EXPECT(MLF_EPARSE, 0xc0, 0xc0);
    EXPECT(MLF_EPARSE, 0x90, 0x00);
    EXPECT(MLF_EPARSE, 0xa1, 'a', 'b');
    ck_assert_int_eq(mlf_msgpack_prescan("\x92\x01\x02\xff\xff", 5, MLF_VALUE_MAX_DEPTH, &used), MLF_OK);
    ck_assert_uint_eq(used, 3); /* the pre-scan leaves trailing bytes to its caller */

    expect_unpack("", 0, MLF_EPARSE);
    expect_unpack(NULL, 0, MLF_EPARSE);
    mlf_value *v;
    ck_assert_int_eq(mlf_value_unpack(NULL, 5, &v), MLF_EINVAL);
    ck_assert_int_eq(mlf_value_unpack("\xc0", 1, NULL), MLF_EINVAL);
    ck_assert_int_eq(mlf_msgpack_prescan(NULL, 0, 8, NULL), MLF_EPARSE);
    ck_assert_int_eq(mlf_msgpack_prescan(NULL, 1, 8, NULL), MLF_EINVAL);
}
END_TEST

/* Random corruptions of a valid encoding: every outcome is a documented one, and whatever decodes
 * packs and decodes again to an equal value. */
START_TEST(test_random_corruption)
{
    size_t len;
    unsigned char *good = valid_encoding(&len);
    unsigned char *buf = malloc(len);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int decoded = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, good, len);
        for (int flips = 0; flips < 1 + round % 4; flips++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[(x >> 8) % len] = (unsigned char)x;
        }
        size_t cut = round % 3 ? len : (size_t)(x >> 20) % (len + 1);
        mlf_value *v = NULL;
        int rc = mlf_value_unpack(buf, cut, &v);
        if (rc != MLF_OK && rc != MLF_EPARSE && rc != MLF_ETYPE && rc != MLF_ERANGE)
            ck_abort_msg("round %d: undocumented error %d", round, rc);
        if (rc != MLF_OK)
            continue;
        decoded++;
        void *again = NULL;
        size_t again_len;
        mlf_value *back = NULL;
        if (mlf_value_pack(v, &again, &again_len) != MLF_OK ||
            mlf_value_unpack(again, again_len, &back) != MLF_OK || !mlf_value_equal(v, back))
            ck_abort_msg("round %d: decoded value does not survive pack and unpack", round);
        mlf_value_free(back);
        mlf_value_free(v);
        free(again);
    }
    ck_assert_int_gt(decoded, 0);
    free(buf);
    free(good);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("value_codec");
    TCase *tc = tcase_create("hostile");
    tcase_add_test(tc, test_truncated_at_every_byte);
    tcase_add_test(tc, test_huge_counts);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_ext_types);
    tcase_add_test(tc, test_map_keys);
    tcase_add_test(tc, test_integers);
    tcase_add_test(tc, test_trailing_and_empty);
    tcase_add_test(tc, test_random_corruption);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
