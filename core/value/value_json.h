/* value_json.h -- JSON text to dynamic values (core only; the other direction, mlf_value_to_json(), is
 * public in <mlflowd/value.h>). */
#ifndef MLF_CORE_VALUE_JSON_H
#define MLF_CORE_VALUE_JSON_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** Parses the JSON text of @p len bytes at @p text (any JSON value, scalars included; need not be
 * NUL-terminated) into a new value stored in @p *out (free with mlf_value_free()). Objects become maps
 * in document order, integers become int, numbers with a fraction or exponent become float, strings
 * (which may contain \u0000) become str.
 * On error, *@p out is NULL and, if @p errbuf is not NULL, a message of at most @p errlen bytes is
 * written there, naming the line and column for syntax errors ("line 3 column 7: ...").
 * Errors: MLF_EINVAL (NULL text or out), MLF_EPARSE (invalid JSON or UTF-8, a duplicate object key),
 * MLF_ERANGE (an integer outside int64 or a number outside double's range; nesting deeper than
 * MLF_VALUE_MAX_DEPTH arrays and objects), MLF_ENOMEM. */
int mlf_value_from_json(const char *text, size_t len, mlf_value **out, char *errbuf, size_t errlen);

#endif
