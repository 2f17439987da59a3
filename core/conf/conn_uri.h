/*
 * conn_uri.h -- connections in Airflow's two text forms, and the lookup the scheduler uses.
 *
 * URI FORM (Airflow's `--conn-uri` and AIRFLOW_CONN_ form)
 *   conn_type://login:password@host:port/schema?extra1=a&extra2=b
 *   - every part is optional except the scheme; each is percent-decoded ("%40" is '@'); in the query '+'
 *     is a space, as in HTML forms;
 *   - the scheme is the conn_type, lower-cased, '-' read as '_' ("google-cloud" is google_cloud) and
 *     "postgresql" read as "postgres", as Airflow does;
 *   - login and password are split at the first ':' of the part before the last '@'; an IPv6 host is
 *     written in brackets ("[::1]:5432") or percent-encoded;
 *   - a host that carries its own protocol is written after the scheme: "http://https://example.com"
 *     is conn_type http with host "https://example.com";
 *   - the query's parameters become the extra map (string values; a repeated name keeps the last value),
 *     or `__extra__=<percent-encoded JSON object>` gives the whole extra map, of any value types.
 *   Refused (MLF_EPARSE, with a message that names the problem and never quotes the password): no
 *   scheme, a bad scheme, a bad port (not a number up to 65535; an empty port or 0 is no port, as in
 *   Airflow), a bad percent-escape or an escaped NUL, a '#', an unclosed '[', an empty query parameter
 *   name, an `__extra__` that is not a JSON object or that comes with other parameters.
 *
 * JSON FORM (Airflow's `--conn-json` and AIRFLOW_CONN_ JSON form)
 *   {"conn_type": "postgres", "description": "...", "host": "...", "port": 5432, "login": "...",
 *    "password": "...", "schema": "...", "extra": {"sslmode": "require"}}
 *   Every key is optional; values may be null; port may be a string of digits; extra may be an object or
 *   a string holding a JSON object. Any other key is refused.
 *
 * Records filled here follow store.h's rules: strings are owned by the record (release it with
 * mlf_conn_rec_clear()), absent fields are NULL (port 0), extra is one packed msgpack map or NULL.
 */
#ifndef MLF_CORE_CONN_URI_H
#define MLF_CORE_CONN_URI_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "store/store.h"

/** What a masked secret is shown as. */
#define MLF_CONN_MASKED "***"
/** The environment variable prefix of connections defined outside the store: MLFLOWD_CONN_<CONN_ID>. */
#define MLF_CONN_ENV_PREFIX "MLFLOWD_CONN_"

/** mlf_conn_to_uri() and mlf_conn_to_value() flag: show the password and every extra value whose key is
 * sensitive (mlf_is_sensitive_name()) as MLF_CONN_MASKED. */
#define MLF_CONN_MASK 0x1u

/** 1 when @p name contains (ignoring case) one of Airflow's sensitive field names: access_token, api_key,
 * apikey, authorization, passphrase, passwd, password, private_key, secret, token, keyfile_dict,
 * service_account. Such variables and connection extras are shown masked. 0 for NULL. */
int mlf_is_sensitive_name(const char *name);

/** Normalises a conn_type in place as Airflow does: '-' becomes '_', "postgresql" becomes "postgres".
 * NULL is a no-op. */
void mlf_conn_normalize_type(char *conn_type);

/**
 * Parses the URI form @p uri into @p *out for connection @p conn_id (copied into out->conn_id; may be
 * NULL). @p *out is initialised here (any previous content is not freed). Empty parts are absent (NULL).
 * On failure @p *out holds nothing to release and a sentence is written to @p err (may be NULL when
 * @p errlen is 0).
 * Errors: MLF_EINVAL (NULL @p uri or @p out), MLF_EPARSE (see the top of this file), MLF_ENOMEM.
 */
int mlf_conn_from_uri(const char *conn_id, const char *uri, mlf_conn_rec *out, char *err, size_t errlen);

/**
 * Parses the JSON form (@p len bytes at @p json) into @p *out for connection @p conn_id, as
 * mlf_conn_from_uri() does. Errors: MLF_EINVAL, MLF_EPARSE (not JSON, not an object, an unknown key with
 * a "did you mean", a field of the wrong type, a bad port, an extra that is not an object), MLF_ENOMEM.
 */
int mlf_conn_from_json(const char *conn_id, const char *json, size_t len, mlf_conn_rec *out, char *err,
                       size_t errlen);

/**
 * Writes @p rec in the URI form into a new string @p *out (free()), as Airflow's get_uri() does: the
 * conn_type with '_' written '-', every part percent-encoded, the extra map as query parameters when all
 * its values are strings, else as `__extra__=<JSON>`. An empty extra map and the description are not
 * written. With MLF_CONN_MASK the password and sensitive extra values are written as "***" (such a URI is
 * for display only). mlf_conn_from_uri() reads back what this writes (without MLF_CONN_MASK).
 * Errors: MLF_EINVAL, MLF_ECORRUPT (extra is not one msgpack object), MLF_ENOMEM.
 */
int mlf_conn_to_uri(const mlf_conn_rec *rec, unsigned flags, char **out);

/**
 * The fields of @p rec as a new map value @p *out (mlf_value_free()), in this order: conn_id, conn_type,
 * host, port (int), login, password, schema, extra (a map, decoded from the record); absent fields are
 * nil. With MLF_CONN_MASK a set password and sensitive extra values (at any depth) read MLF_CONN_MASKED.
 * Errors: MLF_EINVAL, MLF_ECORRUPT (extra does not decode), MLF_ENOMEM.
 */
int mlf_conn_to_value(const mlf_conn_rec *rec, unsigned flags, mlf_value **out);

/**
 * Finds connection @p conn_id: in the store through @p txn first (@p txn may be NULL: environment only),
 * then in the environment variable MLFLOWD_CONN_<CONN_ID upper-cased>, whose value is the URI form, or
 * the JSON form when it starts with '{' (after white space). Fills @p *out (initialised here; release
 * with mlf_conn_rec_clear()). Reads the environment with getenv(): not for threads that race setenv().
 * Errors: MLF_EINVAL (NULL or empty @p conn_id, NULL @p out), MLF_ENOTFOUND (in neither place),
 * MLF_EPARSE (the variable is malformed: the message names it), the store's read errors, MLF_ENOMEM.
 * A message is written to @p err on every error.
 */
int mlf_conn_lookup(mlf_store_txn *txn, const char *conn_id, mlf_conn_rec *out, char *err, size_t errlen);

/**
 * The resolver of task contexts and templates: mlf_conn_lookup() then mlf_conn_to_value() without
 * masking, into a new map @p *fields (mlf_value_free()): {conn_id, conn_type, host, port, login,
 * password, schema, extra}, absent fields nil. Errors: those of mlf_conn_lookup(), MLF_ECORRUPT.
 */
int mlf_conn_resolve(mlf_store_txn *txn, const char *conn_id, mlf_value **fields, char *err, size_t errlen);

#endif
