/* value_internal.h -- what the value codecs need beyond the public value API (core only). */
#ifndef MLF_CORE_VALUE_INTERNAL_H
#define MLF_CORE_VALUE_INTERNAL_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** Makes room for @p n more elements in array or map @p v so that the next @p n appends or inserts do
 * not reallocate. Returns MLF_OK, MLF_ETYPE or MLF_ENOMEM. */
int mlf_value_reserve(mlf_value *v, size_t n);

/** Adds @p key (@p klen bytes, which may contain NULs; copied) with value @p val (ownership taken, even
 * on error) to map @p map, unless the key is already present. Returns MLF_OK, MLF_EEXIST (key present;
 * the map is unchanged and @p val freed), MLF_EINVAL, MLF_ETYPE or MLF_ENOMEM. */
int mlf_map_add_n(mlf_value *map, const char *key, size_t klen, mlf_value *val);

/** Key of entry @p i of @p map (borrowed, NUL-terminated) with its byte count in @p *klen, or NULL
 * when out of range or not a map. */
const char *mlf_map_key_n_at(const mlf_value *map, size_t i, size_t *klen);

/** Ends one step of a decoder (msgpack or JSON) that built @p v with result @p rc, so that both decoders
 * report alike: on success stores @p v in @p *out and returns MLF_OK; otherwise frees @p v and returns
 * @p rc, except that a NULL @p v is MLF_ENOMEM and a duplicate map key (MLF_EEXIST) is MLF_EPARSE. */
int mlf_value_decoded(mlf_value *v, int rc, mlf_value **out);

/** Nesting depth of @p v: 0 for a scalar, 1 + the deepest element for an array or map (so an empty
 * array is 1). Stops counting at @p limit + 1, so the cost is bounded for any value. */
size_t mlf_value_depth(const mlf_value *v, size_t limit);

/** Longest text mlf_format_double() writes, with its NUL. */
#define MLF_DOUBLE_BUFSZ 32

/** Writes @p d into @p buf the way Python's repr() does: the shortest digits that read back as the same
 * double, positional between 1e-4 and 1e16 ("1.5", "2.0", "0.0001"), scientific outside ("1e+16",
 * "1.5e-05"); "nan", "inf" and "-inf" for non-finite values. Returns the length written. */
size_t mlf_format_double(double d, char buf[MLF_DOUBLE_BUFSZ]);

#endif
