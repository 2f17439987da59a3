/* http_task.h -- one HTTP call described by a task's parameters, for the http operator and http_sensor.
 * Plugin-internal. */
#ifndef MLF_PLUGIN_HTTP_TASK_H
#define MLF_PLUGIN_HTTP_TASK_H

#include "http_client.h"

/** A request built from a task's parameters and its connection; every member is owned by the call. */
typedef struct http_call {
    httpc_request req; /**< points into the members below and into the connection */
    httpc_headers headers;
    char *url;
    char *body;
    const char *method;
} http_call;

/** Builds @p call from the parameters of @p ctx: conn_id (looked up), endpoint, method (@p default_method
 * when absent), data (GET: the query; HEAD: ignored; other methods: the body, a string or binary as it is,
 * anything else as JSON with Content-Type application/json unless headers say otherwise), headers (over
 * the connection's extra headers), the timeout named @p timeout_key, max_response_bytes.
 * Returns MLF_SUCCESS, or after setting the task message: MLF_FAILED (unknown connection, which may be
 * added before the next try; out of memory) or MLF_FAILED_NO_RETRY (an invalid parameter or connection).
 * Free @p call with http_call_free() whatever the outcome. */
mlf_outcome http_call_prepare(mlf_task_ctx *ctx, const char *default_method, const char *timeout_key,
                              http_call *call);

/** Performs @p call (logging the request and the status) into @p resp (free it with
 * httpc_response_free()). Returns MLF_OK when a response arrived, or an error of httpc_perform() after
 * writing "METHOD URL: reason" into @p err. */
int http_call_perform(mlf_task_ctx *ctx, http_call *call, httpc_response *resp, char *err, size_t errlen);

/** Writes the response body to the task log when the task's log_response is true. */
void http_call_log_response(mlf_task_ctx *ctx, const httpc_response *resp);

/** Frees what @p call holds and zeroes it. */
void http_call_free(http_call *call);

#endif
