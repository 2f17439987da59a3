/* http_client.h -- one HTTP request with libcurl, for the http plugin and the webhook notifier.
 *
 * Plugin-internal (hidden by -fvisibility=hidden): nothing here is part of the SDK. A request is described
 * by an httpc_request (start from httpc_request_init()), performed by httpc_perform(), and its answer lands
 * in an httpc_response. The caller decides what a status means; this file only moves bytes. */
#ifndef MLF_PLUGIN_HTTP_CLIENT_H
#define MLF_PLUGIN_HTTP_CLIENT_H

#include <mlflowd/mlflowd.h>

/** Default cap on a response body (1 MiB). */
#define HTTPC_DEFAULT_MAX_BODY ((size_t)1 << 20)
/** requests' DEFAULT_REDIRECT_LIMIT, which Airflow's HttpHook inherits. */
#define HTTPC_DEFAULT_MAX_REDIRECTS 30L
/** How many body bytes an error message quotes. */
#define HTTPC_ERROR_QUOTE 200

/** Request headers as "Name: value" lines; a later set of the same name (any case) replaces it. */
typedef struct httpc_headers {
    char **v;
    size_t n, cap;
} httpc_headers;

/** Sets header @p name to @p value. Returns MLF_OK, MLF_EINVAL (the name is not an HTTP token or either
 * contains CR/LF/NUL, which would let a value inject headers: the reason is written to @p err),
 * or MLF_ENOMEM. */
int httpc_headers_set(httpc_headers *h, const char *name, const char *value, char *err, size_t errlen);

/** Sets header @p name to scalar @p value rendered as templates render it (a string as it is, other
 * scalars in their display form). Errors as httpc_headers_set(), plus MLF_ETYPE when @p value is an array,
 * a map or nil. */
int httpc_headers_set_value(httpc_headers *h, const char *name, const mlf_value *value, char *err, size_t errlen);

/** Sets every entry of map @p map with httpc_headers_set_value(). NULL or an empty map sets nothing. Errors
 * as httpc_headers_set_value(), plus MLF_ETYPE when @p map is not a map. */
int httpc_headers_set_map(httpc_headers *h, const mlf_value *map, char *err, size_t errlen);

/** The value of header @p name (any case; borrowed), or NULL. */
const char *httpc_headers_get(const httpc_headers *h, const char *name);

/** Frees the lines of @p h and empties it. */
void httpc_headers_free(httpc_headers *h);

/** One request. Strings are borrowed for the duration of httpc_perform(). */
typedef struct httpc_request {
    const char *method;           /**< GET, HEAD, POST, PUT, PATCH or DELETE */
    const char *url;              /**< absolute http:// or https:// URL */
    const httpc_headers *headers; /**< may be NULL */
    const char *body;             /**< request body, or NULL for none */
    size_t body_len;
    const char *username;         /**< basic auth when not NULL */
    const char *password;         /**< NULL means empty */
    int64_t timeout_us;           /**< whole transfer, connect included; 0 means no limit */
    size_t max_body;              /**< response bytes kept; more marks the response truncated */
    int verify_tls;               /**< verify the peer's certificate and host name */
    const char *ca_file;          /**< CA bundle to verify against, or NULL for the system's */
    int follow_redirects;
    long max_redirects;
    /** Follow a redirect to another scheme, host or port (https -> http, or to a host that would get the
     * request's headers and credentials); 0 (the default) refuses it with an error. */
    int allow_cross_origin_redirects;
    const char *proxy;            /**< proxy URL, or NULL (libcurl then honours http_proxy & co.) */
    /** Polled during the transfer; a non-zero return aborts it (MLF_ESTATE). May be NULL. */
    int (*cancelled)(void *ud);
    void *cancel_ud;
} httpc_request;

/** What came back. */
typedef struct httpc_response {
    long status;        /**< the final HTTP status (after redirects) */
    char *body;         /**< NUL-terminated (the NUL is not counted), never NULL after MLF_OK */
    size_t body_len;
    int truncated;      /**< the server sent more than max_body bytes; the rest was not read */
    char *content_type; /**< the Content-Type header, or NULL */
} httpc_response;

/** Defaults: verify TLS, follow up to 30 redirects, 30 s timeout, 1 MiB cap. Method and URL unset. */
void httpc_request_init(httpc_request *req);

/**
 * Performs @p req and fills @p resp (free it with httpc_response_free(), whatever the result).
 * Returns MLF_OK when an HTTP response arrived, whatever its status (a body larger than max_body still
 * counts: it is cut and flagged truncated). Otherwise returns, with libcurl's explanation in @p err:
 * MLF_ETIMEDOUT (the timeout passed), MLF_EINVAL (malformed URL, scheme other than http/https, unknown
 * method), MLF_ESTATE (cancelled), MLF_ENOMEM, or MLF_EIO (could not resolve, connect, send or receive).
 */
int httpc_perform(const httpc_request *req, httpc_response *resp, char *err, size_t errlen);

/** Frees what @p resp holds and zeroes it. */
void httpc_response_free(httpc_response *resp);

/** 1 when media type @p content_type is JSON (application/json or application/<anything>+json, any case,
 * parameters ignored), else 0. NULL gives 0. */
int httpc_is_json_type(const char *content_type);

/** Writes "HTTP <status> from <method> <url>" and, when the body is not empty, ": " and its first
 * HTTPC_ERROR_QUOTE bytes (control characters shown as spaces, cut on a UTF-8 boundary) into @p buf. */
void httpc_describe_status(const httpc_response *resp, const char *method, const char *url, char *buf,
                           size_t buflen);

/** Restricts libcurl handle @p curl (a CURL *) to, with @p smtp, smtp and smtps, otherwise http and https,
 * for the first transfer and every redirect. */
void httpc_set_protocols(void *curl, int smtp);

/** The MLF_E* code for libcurl error @p curl_code (a CURLcode other than CURLE_OK): MLF_ETIMEDOUT,
 * MLF_EINVAL (malformed URL, protocol not allowed), MLF_ESTATE (aborted by a callback), MLF_ENOMEM or
 * MLF_EIO. */
int httpc_curl_error(int curl_code);

/** curl_global_init()/curl_global_cleanup(), for a plugin's init and fini. httpc_global_init returns
 * MLF_OK or MLF_EPLUGIN. */
int httpc_global_init(void);
void httpc_global_cleanup(void);

#endif
