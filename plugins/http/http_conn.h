/* http_conn.h -- what an `http` connection means for a request (Airflow's HttpHook.get_conn). Plugin-internal. */
#ifndef MLF_PLUGIN_HTTP_CONN_H
#define MLF_PLUGIN_HTTP_CONN_H

#include "http_client.h"

/** Stores the base URL of @p conn in a new string @p *out (free()): the host as given when it carries a
 * scheme ("https://api.example/v1"; the port is inserted when the connection sets one and the host has
 * none), otherwise SCHEMA://HOST[:PORT] with the schema defaulting to http and an IPv6 literal
 * bracketed. Errors: MLF_EINVAL (no host; the reason in @p err), MLF_ENOMEM. */
int httpc_conn_base_url(const mlf_connection *conn, char **out, char *err, size_t errlen);

/** Applies @p conn to @p req and @p headers: login/password become basic auth; the extra fields verify
 * (alias verify_ssl: false, or a CA bundle path), allow_redirects, max_redirects and proxy set transfer
 * options; Airflow's other transfer options (proxies, cert, stream, trust_env, timeout, check_response)
 * are ignored; every other scalar extra field is a default header. Strings stay borrowed from @p conn.
 * Errors: MLF_EINVAL / MLF_ETYPE (a malformed extra field; the reason in @p err), MLF_ENOMEM. */
int httpc_conn_apply(const mlf_connection *conn, httpc_request *req, httpc_headers *headers, char *err,
                     size_t errlen);

/** Airflow's url_from_endpoint: @p base and @p endpoint (either may be NULL) joined with one '/' between
 * them. Returns a new string (free()) or NULL when memory runs out. */
char *httpc_join_url(const char *base, const char *endpoint);

/** Appends @p data to the URL in @p *url (replaced by a new string) as its query, as requests does with
 * `params`: a map becomes URL-encoded key=value pairs (a list value repeats its key, nil is left out), a
 * string is appended as it is. NULL or nil appends nothing. Errors: MLF_ETYPE (another type, or a nested
 * map; the reason in @p err), MLF_ENOMEM. */
int httpc_append_query(char **url, const mlf_value *data, char *err, size_t errlen);

#endif
