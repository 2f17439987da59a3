/* xcom_lines.h -- the python operator's protocol on a script's output (stdout and stderr): a line
 *
 *     MLFLOWD_XCOM <json>
 *
 * pushes an XCom. <json> is either an object with exactly the two members "key" (a non-empty string) and
 * "value" (pushed under that key), or any other JSON value (pushed as return_value). Every other line is
 * plain output. The JSON is decoded with jansson (the plugin links it itself; the SDK has no JSON decoder). */
#ifndef MLF_PLUGIN_PYTHON_XCOM_LINES_H
#define MLF_PLUGIN_PYTHON_XCOM_LINES_H

#include <mlflowd/mlflowd.h>

/** The marker that starts an XCom line; a space or a tab separates it from the JSON. */
#define PY_XCOM_MARKER "MLFLOWD_XCOM"

/** Longest JSON text accepted on one XCom line; the context's xcom size limit usually bites first. */
#define PY_XCOM_MAX_LINE (16u << 20)

/** Scans a script's output as it arrives. Zero-initialise, set ctx, feed, finish, then py_xcom_scan_free(). */
typedef struct py_xcom_scan {
    mlf_task_ctx *ctx; /**< where XComs are pushed */
    size_t lineno;     /**< lines completed so far */
    int state;         /**< internal: matching the marker, collecting JSON, or skipping a plain line */
    size_t matched;    /**< internal: marker bytes matched on the current line */
    char *json;        /**< internal: the JSON text of the current XCom line */
    size_t len, cap;
    size_t pushed;     /**< XComs pushed */
    char *error;       /**< the first problem (a new string), or NULL; nothing is pushed after it */
} py_xcom_scan;

/** Feeds @p n bytes of output. A malformed XCom line (bad JSON, a bad "key", a line longer than
 * PY_XCOM_MAX_LINE, an XCom the context refuses such as one above the size limit) records an error that names
 * the line; later XCom lines are then ignored, plain output is not affected. */
void py_xcom_scan_feed(py_xcom_scan *s, const char *buf, size_t n);

/** Ends the output: a last line without a newline is handled as a complete line. */
void py_xcom_scan_finish(py_xcom_scan *s);

/** Releases what the scanner holds (the error string included). */
void py_xcom_scan_free(py_xcom_scan *s);

/** Decodes @p text (one JSON value, NUL-terminated) into a new value in @p *out (free with mlf_value_free()).
 * Objects keep their member order; nesting deeper than MLF_VALUE_MAX_DEPTH, duplicate keys and integers
 * outside int64 are refused. Returns MLF_OK, MLF_EPARSE (with the reason and column in @p err), MLF_ERANGE
 * (too deep), MLF_ENOMEM. */
int py_json_decode(const char *text, size_t len, mlf_value **out, char *err, size_t errlen);

#endif
