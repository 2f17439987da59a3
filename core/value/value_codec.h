/* value_codec.h -- msgpack helpers for core modules beyond the public mlf_value_pack()/unpack(). */
#ifndef MLF_CORE_VALUE_CODEC_H
#define MLF_CORE_VALUE_CODEC_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** Validates the one msgpack object at the start of the @p len bytes at @p buf without allocating
 * anything for it, so that an unpacker can then be trusted with it: every str/bin length and every
 * array/map count is checked against the bytes that remain (each element needs at least one byte),
 * arrays and maps may nest at most @p max_depth deep (an array holding an empty array is depth 2), and
 * the restrictions of <mlflowd/value.h> hold (map keys are strings, no unsigned int above INT64_MAX, no
 * ext types, no reserved byte 0xc1). Bytes after the object are not examined: on success @p *consumed
 * (if not NULL) is the object's size, which may be less than @p len.
 * Cost is linear in the object's size; memory is constant up to depth 16, then linear in the depth.
 * Errors: MLF_EINVAL (NULL @p buf with a non-zero @p len), MLF_EPARSE (empty, truncated or malformed),
 * MLF_ETYPE (a non-string map key, a uint above INT64_MAX, an ext type), MLF_ERANGE (deeper than
 * @p max_depth), MLF_ENOMEM (nesting beyond depth 16 needs a stack). */
int mlf_msgpack_prescan(const void *buf, size_t len, size_t max_depth, size_t *consumed);

/** mlf_msgpack_prescan() with a value budget: the object may hold at most @p max_values values (every
 * scalar, str, bin, array, map and map key counts one), so that a small input of 1-byte nils cannot make
 * the unpacker allocate ~70 bytes per input byte. Errors: those of mlf_msgpack_prescan(), and
 * MLF_ETOOBIG (more values than @p max_values). */
int mlf_msgpack_prescan_budget(const void *buf, size_t len, size_t max_depth, size_t max_values, size_t *consumed);

#endif
