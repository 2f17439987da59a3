/* http_json.h -- a JSON response body turned into an mlf_value (with jansson). Plugin-internal. */
#ifndef MLF_PLUGIN_HTTP_JSON_H
#define MLF_PLUGIN_HTTP_JSON_H

#include <mlflowd/mlflowd.h>

/** Parses the @p len bytes of @p text as one JSON value (any type at the top; \u0000 allowed in strings)
 * into a new value stored in @p *out (free with mlf_value_free()). Objects keep their key order; a
 * duplicate key keeps its last value. Errors, with the reason in @p err: MLF_EPARSE (not JSON, trailing
 * bytes, an integer outside int64), MLF_ERANGE (nested deeper than MLF_VALUE_MAX_DEPTH), MLF_ENOMEM. */
int httpc_json_parse(const char *text, size_t len, mlf_value **out, char *err, size_t errlen);

#endif
