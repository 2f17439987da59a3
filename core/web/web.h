/*
 * web.h -- the webserver (`mlflowd webserver`, doc/webserver.md): the REST API under /api/v1 (doc/api.md),
 * the web UI and /health, served by libmicrohttpd threads from a process of its own. It reads the state
 * store through short read transactions (never blocking the scheduler) and changes state through the same
 * functions as the CLI (cli/run_ops.h).
 */
#ifndef MLF_CORE_WEB_H
#define MLF_CORE_WEB_H

#include <stddef.h>
#include <stdio.h>

#include "conf/config.h"
#include "dag/dagbag.h"
#include "plugin/registry.h"
#include "store/store.h"

typedef struct mlf_web mlf_web;

/** What the webserver works with. Everything is borrowed and must outlive it. */
typedef struct mlf_web_opts {
    const mlf_config *cfg;
    mlf_catalog *cat;
    mlf_dagbag *bag;   /**< the DAG folder, loaded (read by the request threads; mlf_web_reload_dags()) */
    mlf_store *store;  /**< opened read-write (state changes are write batches) */
    const char *exe;   /**< the mlflowd binary (for the trigger's scheduler object) */
    const char *listen; /**< "HOST:PORT" (port 0: any free port) */
    const char *tls_cert_file, *tls_key_file; /**< both NULL: plain HTTP */
} mlf_web_opts;

/**
 * Starts serving on @p o->listen in threads of its own and returns at once; *@p out receives the server
 * (stop it with mlf_web_stop()). On failure writes a sentence to @p err. Errors: MLF_EINVAL (a bad listen
 * address), MLF_ENOTSUP (TLS asked of a libmicrohttpd without it), MLF_EIO (cannot bind or read the
 * certificate), MLF_ENOMEM.
 */
int mlf_web_start(const mlf_web_opts *o, mlf_web **out, char *err, size_t errlen);

/** The base URL, e.g. "http://127.0.0.1:8080" (with the port actually bound). Borrowed. */
const char *mlf_web_url(const mlf_web *w);

/** Reads the DAG folder again (mlf_dagbag_refresh()) while no request runs: added, changed and removed DAG
 * files show in the next answers. *@p changed receives how many files changed. Returns MLF_OK or
 * mlf_dagbag_refresh()'s error (MLF_ENOMEM, MLF_EIO). */
int mlf_web_reload_dags(mlf_web *w, size_t *changed);

/** Stops the threads, closes the listening socket and frees the server. NULL is a no-op. */
void mlf_web_stop(mlf_web *w);

/** One line per route ("METHOD PATH ROLE") to @p out: what the OpenAPI test compares with. */
void mlf_web_print_routes(FILE *out);

/* ------------------------------------------------------------------------------- users (web_auth.c) */

/** The roles, weakest first. */
typedef enum mlf_role { MLF_ROLE_VIEWER = 0, MLF_ROLE_OP = 1, MLF_ROLE_ADMIN = 2 } mlf_role;

/** Parses "viewer" / "op" / "admin". Errors: MLF_EINVAL. */
int mlf_role_parse(const char *name, mlf_role *out);
/** The name of @p r. */
const char *mlf_role_name(mlf_role r);

/** MLF_OK when @p name is a valid user name (1..64 of [A-Za-z0-9_-]), else MLF_EINVAL. */
int mlf_user_name_check(const char *name);

/** Creates (or, with @p replace, replaces the password and role of) user @p name. Errors: MLF_EEXIST,
 * MLF_EINVAL (bad name or a password shorter than 8 bytes), MLF_ENOMEM, store errors. */
int mlf_web_user_create(mlf_store *st, const char *name, mlf_role role, const char *password, int replace);

/** Gives user @p name a new API token (replacing the old one) and writes it, NUL-terminated, to @p tok
 * (at least 200 bytes): "NAME.SECRET", shown once; only a hash is stored. Errors: MLF_ENOTFOUND, store
 * errors. */
int mlf_web_user_new_token(mlf_store *st, const char *name, char *tok, size_t toklen);

/** Writes a random password of @p len - 1 characters (URL-safe letters and digits) to @p out. */
void mlf_web_random_password(char *out, size_t len);

#endif
