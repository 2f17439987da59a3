/*
 * value.h -- the dynamic value type that crosses the SDK.
 *
 * An mlf_value is one of nil, bool, int (64-bit signed), float (double), str (UTF-8 bytes), bin (raw
 * bytes), array or map. The types map one-to-one onto msgpack, so plugin authors need no msgpack
 * headers: operator parameters, XCom values, connection extras and macro arguments are all mlf_values.
 *
 * Restrictions against full msgpack, enforced when decoding: map keys are strings; unsigned integers
 * above INT64_MAX and msgpack ext types are rejected with MLF_ETYPE; nesting depth is bounded
 * (MLF_VALUE_MAX_DEPTH).
 *
 * Ownership: constructors return a new value owned by the caller, released with mlf_value_free().
 * mlf_array_append() and mlf_map_set() take ownership of the item they are given, even when they fail,
 * so calls can be nested: mlf_map_set(m, "n", mlf_value_int(3)). Accessors return borrowed pointers that
 * live as long as their container is neither freed nor modified at that position.
 * Values are not thread-safe; share read-only values freely, write from one thread.
 */
#ifndef MLFLOWD_VALUE_H
#define MLFLOWD_VALUE_H

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque dynamic value. */
typedef struct mlf_value mlf_value;

/** The type of a value. Numbering is part of the ABI. */
typedef enum mlf_type {
    MLF_NIL = 0,
    MLF_BOOL = 1,
    MLF_INT = 2,
    MLF_FLOAT = 3,
    MLF_STR = 4,
    MLF_BIN = 5,
    MLF_ARRAY = 6,
    MLF_MAP = 7
} mlf_type;

/** Deepest nesting of arrays and maps that decoding accepts. */
#define MLF_VALUE_MAX_DEPTH 64

/** @name Constructors
 * Each returns a new value (free with mlf_value_free()) or NULL when memory runs out.
 * String and binary constructors copy their input. @{ */
MLF_API mlf_value *mlf_value_nil(void);
MLF_API mlf_value *mlf_value_bool(int b);
MLF_API mlf_value *mlf_value_int(int64_t i);
MLF_API mlf_value *mlf_value_float(double d);
/** Copies the NUL-terminated string @p s; NULL @p s yields NULL. */
MLF_API mlf_value *mlf_value_str(const char *s);
/** Copies @p n bytes of @p s (which may contain NULs); the copy is NUL-terminated for convenience. */
MLF_API mlf_value *mlf_value_strn(const char *s, size_t n);
/** Copies @p n bytes from @p p. */
MLF_API mlf_value *mlf_value_bin(const void *p, size_t n);
/** An empty array. */
MLF_API mlf_value *mlf_value_array(void);
/** An empty map. Maps keep insertion order. */
MLF_API mlf_value *mlf_value_map(void);
/** A deep copy of @p v, or NULL when memory runs out (or @p v is NULL). */
MLF_API mlf_value *mlf_value_copy(const mlf_value *v);
/** @} */

/** Frees @p v and everything it contains. NULL is allowed. */
MLF_API void mlf_value_free(mlf_value *v);

/** The type of @p v; a NULL pointer reads as MLF_NIL. */
MLF_API mlf_type mlf_value_type(const mlf_value *v);

/** The name of type @p t ("nil", "bool", "int", "float", "str", "bin", "array", "map"). Static string. */
MLF_API const char *mlf_type_name(mlf_type t);

/** @name Scalar accessors
 * Each returns MLF_OK and stores the value in @p out, or MLF_ETYPE when @p v has another type.
 * mlf_value_get_float() also accepts an int and converts it. @{ */
MLF_API int mlf_value_get_bool(const mlf_value *v, int *out);
MLF_API int mlf_value_get_int(const mlf_value *v, int64_t *out);
MLF_API int mlf_value_get_float(const mlf_value *v, double *out);
/** @} */

/** The bytes of a str value (NUL-terminated) and, if @p len is not NULL, their count. Borrowed.
 * Returns NULL when @p v is not a str. */
MLF_API const char *mlf_value_get_str(const mlf_value *v, size_t *len);

/** The bytes of a bin value and their count. Borrowed. Returns NULL when @p v is not a bin. */
MLF_API const void *mlf_value_get_bin(const mlf_value *v, size_t *len);

/** The element count of an array or map, the byte count of a str or bin, 0 for anything else. */
MLF_API size_t mlf_value_len(const mlf_value *v);

/** Appends @p item (ownership taken, even on error) to array @p arr.
 * Errors: MLF_EINVAL (@p item is NULL, as after a failed constructor), MLF_ETYPE (@p arr is not an
 * array), MLF_ENOMEM. */
MLF_API int mlf_array_append(mlf_value *arr, mlf_value *item);

/** Element @p i of array @p arr (borrowed), or NULL when out of range or not an array. */
MLF_API const mlf_value *mlf_array_at(const mlf_value *arr, size_t i);

/** Sets @p key (copied) to @p val (ownership taken, even on error) in map @p map, replacing and
 * freeing any previous value of that key. Errors: MLF_EINVAL (NULL key or value), MLF_ETYPE, MLF_ENOMEM. */
MLF_API int mlf_map_set(mlf_value *map, const char *key, mlf_value *val);

/** The value of @p key in @p map (borrowed), or NULL when absent or @p map is not a map. */
MLF_API const mlf_value *mlf_map_get(const mlf_value *map, const char *key);

/** Key / value of entry @p i of @p map in insertion order (borrowed), or NULL when out of range. */
MLF_API const char *mlf_map_key_at(const mlf_value *map, size_t i);
MLF_API const mlf_value *mlf_map_value_at(const mlf_value *map, size_t i);

/** Removes @p key from @p map, freeing its value. Returns MLF_OK, MLF_ENOTFOUND or MLF_ETYPE. */
MLF_API int mlf_map_remove(mlf_value *map, const char *key);

/** 1 when @p a and @p b are deeply equal (same types; maps compared ignoring order), else 0. */
MLF_API int mlf_value_equal(const mlf_value *a, const mlf_value *b);

/** Encodes @p v as msgpack into a new buffer stored in @p *buf (free with mlf_free()) and its size in
 * @p *len. Errors: MLF_EINVAL, MLF_ENOMEM. */
MLF_API int mlf_value_pack(const mlf_value *v, void **buf, size_t *len);

/** Decodes exactly one msgpack object occupying all @p len bytes of @p buf into a new value stored in
 * @p *out. Untrusted input is safe: counts are checked against the remaining bytes before anything is
 * allocated, and nesting is bounded by MLF_VALUE_MAX_DEPTH.
 * Errors: MLF_EPARSE (malformed, truncated or trailing bytes), MLF_ETYPE (a non-string map key, an
 * unsigned int above INT64_MAX, an ext type), MLF_ERANGE (too deep), MLF_ENOMEM. */
MLF_API int mlf_value_unpack(const void *buf, size_t len, mlf_value **out);

/** Checks the one msgpack object at the start of the @p len untrusted bytes at @p buf before anything is
 * allocated for it: every length and count against the bytes that remain, nesting at most @p max_depth
 * deep, at most @p max_values values in all (every scalar, string, container and map key counts one: so
 * that a few bytes cannot make a decoder allocate much), and the restrictions above. Bytes after the
 * object are not examined: @p *consumed (may be NULL) is its size. Errors: MLF_EPARSE (empty, truncated or
 * malformed), MLF_ETYPE, MLF_ERANGE (too deep), MLF_ETOOBIG (too many values), MLF_ENOMEM, MLF_EINVAL.
 * Added in ABI 1.2 (for protocol code that decodes network frames, such as the zmq executor's). */
MLF_API int mlf_msgpack_prescan_budget(const void *buf, size_t len, size_t max_depth, size_t max_values,
                                       size_t *consumed);

/** Encodes @p v as compact JSON into a new NUL-terminated string stored in @p *out (free with mlf_free()).
 * bin values become base64 strings; non-finite floats become null. Errors: MLF_EINVAL, MLF_ENOMEM. */
MLF_API int mlf_value_to_json(const mlf_value *v, char **out);

/** Renders @p v as a user-facing string (as a template does): a str is itself, nil is "None", bools are
 * "True"/"False" (Python's spelling, which Airflow users expect), numbers are decimal, arrays and maps are
 * JSON. Returns a new string (free with mlf_free()) or NULL when memory runs out. */
MLF_API char *mlf_value_to_display(const mlf_value *v);

#ifdef __cplusplus
}
#endif

#endif /* MLFLOWD_VALUE_H */
