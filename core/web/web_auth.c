/*
 * web_auth.c -- users, passwords, API tokens, sessions and CSRF (doc/webserver.md "Authentication").
 *
 * Passwords are stored as libsodium crypto_pwhash_str() strings (Argon2id, interactive limits). A script
 * authenticates with "Authorization: Bearer NAME.SECRET"; only the BLAKE2b hash of SECRET is stored. The
 * UI logs in once (POST /api/v1/auth/login) and gets a session cookie (HttpOnly, SameSite=Strict, Secure
 * under TLS) plus a CSRF token that every state-changing request of that session sends back in the
 * X-CSRF-Token header. Sessions live in this process only (a restart logs everybody out) and expire after
 * 12 hours without use.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

#include "store/store_users.h"
#include "time/timefmt.h"
#include "web/web_internal.h"

#define SESSION_COOKIE "mlflowd_session"
#define MAX_SESSIONS 1024
#define SESSION_IDLE (12 * 3600)
#define TOKEN_SECRET_BYTES 32

static const char *const role_names[] = {"viewer", "op", "admin"};

int mlf_role_parse(const char *name, mlf_role *out)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, role_names[i]) == 0) {
            *out = (mlf_role)i;
            return MLF_OK;
        }
    return MLF_EINVAL;
}

const char *mlf_role_name(mlf_role r)
{
    return r >= MLF_ROLE_VIEWER && r <= MLF_ROLE_ADMIN ? role_names[r] : "?";
}

int mlf_user_name_check(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > MLF_USER_NAME_MAX)
        return MLF_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return MLF_EINVAL;
    }
    return MLF_OK;
}

void mlf_web_random_password(char *out, size_t len)
{
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    if (len == 0)
        return;
    for (size_t i = 0; i + 1 < len; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[len - 1] = '\0';
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    sodium_bin2hex(out, n * 2 + 1, b, n);
}

int mlf_web_user_create(mlf_store *st, const char *name, mlf_role role, const char *password, int replace)
{
    if (mlf_user_name_check(name) != MLF_OK || !password || strlen(password) < 8)
        return MLF_EINVAL;
    if (sodium_init() < 0)
        return MLF_EIO;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return MLF_ENOMEM;
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    mlf_user_rec old;
    int exists = mlf_store_user_get(w, name, &old) == MLF_OK;
    if (exists && !replace) {
        mlf_user_rec_clear(&old);
        mlf_store_write_abort(w);
        return MLF_EEXIST;
    }
    mlf_user_rec rec;
    mlf_user_rec_init(&rec);
    rec.name = (char *)name;
    rec.role = (char *)mlf_role_name(role);
    rec.password_hash = hash;
    rec.token_hash = exists ? old.token_hash : NULL;
    rec.created_at = exists ? old.created_at : mlf_time_now();
    rc = mlf_store_user_put(w, &rec);
    if (exists)
        mlf_user_rec_clear(&old);
    return rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
}

static void token_hash(const char *secret_hex, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)secret_hex, strlen(secret_hex), NULL, 0);
    hex(h, sizeof h, out);
}

int mlf_web_user_new_token(mlf_store *st, const char *name, char *tok, size_t toklen)
{
    if (mlf_user_name_check(name) != MLF_OK || toklen < 200)
        return MLF_EINVAL;
    if (sodium_init() < 0)
        return MLF_EIO;
    unsigned char secret[TOKEN_SECRET_BYTES];
    randombytes_buf(secret, sizeof secret);
    char secret_hex[TOKEN_SECRET_BYTES * 2 + 1], h[65];
    hex(secret, sizeof secret, secret_hex);
    token_hash(secret_hex, h);
    mlf_store_txn *w;
    int rc = mlf_store_write_begin(st, &w);
    if (rc != MLF_OK)
        return rc;
    mlf_user_rec rec;
    rc = mlf_store_user_get(w, name, &rec);
    if (rc == MLF_OK) {
        free(rec.token_hash);
        rec.token_hash = h;
        rc = mlf_store_user_put(w, &rec);
        rec.token_hash = NULL;
        mlf_user_rec_clear(&rec);
    }
    rc = rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
    if (rc == MLF_OK)
        snprintf(tok, toklen, "%s.%s", name, secret_hex);
    sodium_memzero(secret_hex, sizeof secret_hex);
    return rc;
}

/* ------------------------------------------------------------------------------------- sessions */

typedef struct session {
    char id[65];
    char csrf[65];
    char user[72];
    mlf_role role;
    time_t last;
} session;

static session sessions[MAX_SESSIONS];
static pthread_mutex_t sessions_mu = PTHREAD_MUTEX_INITIALIZER;

static void random_hex(char out[65])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    hex(b, sizeof b, out);
}

/* Creates a session for @p user; copies its id and CSRF token out. Evicts the least recently used one when
 * the table is full. */
static void session_new(const char *user, mlf_role role, char id[65], char csrf[65])
{
    pthread_mutex_lock(&sessions_mu);
    size_t slot = 0;
    time_t now = time(NULL);
    for (size_t i = 0; i < MAX_SESSIONS; i++) {
        if (!sessions[i].id[0] || now - sessions[i].last > SESSION_IDLE) {
            slot = i;
            break;
        }
        if (sessions[i].last < sessions[slot].last)
            slot = i;
    }
    session *s = &sessions[slot];
    random_hex(s->id);
    random_hex(s->csrf);
    mlf_strlcpy(s->user, user, sizeof s->user);
    s->role = role;
    s->last = now;
    memcpy(id, s->id, 65);
    memcpy(csrf, s->csrf, 65);
    pthread_mutex_unlock(&sessions_mu);
}

/* Finds session @p id (constant-time compare), refreshing its use; copies it to @p out. */
static int session_find(const char *id, session *out)
{
    if (strlen(id) != 64)
        return 0;
    int found = 0;
    pthread_mutex_lock(&sessions_mu);
    time_t now = time(NULL);
    for (size_t i = 0; i < MAX_SESSIONS && !found; i++)
        if (sessions[i].id[0] && sodium_memcmp(sessions[i].id, id, 64) == 0) {
            if (now - sessions[i].last > SESSION_IDLE) {
                memset(&sessions[i], 0, sizeof sessions[i]);
                break;
            }
            sessions[i].last = now;
            *out = sessions[i];
            found = 1;
        }
    pthread_mutex_unlock(&sessions_mu);
    return found;
}

static void session_drop(const char *id)
{
    pthread_mutex_lock(&sessions_mu);
    for (size_t i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].id[0] && strlen(id) == 64 && sodium_memcmp(sessions[i].id, id, 64) == 0)
            memset(&sessions[i], 0, sizeof sessions[i]);
    pthread_mutex_unlock(&sessions_mu);
}

/* ------------------------------------------------------------------------------ authentication */

/* Looks user @p name up; MLF_OK fills @p rec. */
static int load_user(mlf_web *web, const char *name, mlf_user_rec *rec)
{
    if (mlf_user_name_check(name) != MLF_OK)
        return MLF_ENOTFOUND;
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(web->o.store, &txn);
    if (rc != MLF_OK)
        return rc;
    rc = mlf_store_user_get(txn, name, rec);
    mlf_store_read_end(txn);
    return rc;
}

static int bearer(mlf_web_req *rq, const char *tok)
{
    const char *dot = strrchr(tok, '.');
    if (!dot || dot == tok || (size_t)(dot - tok) > MLF_USER_NAME_MAX || strlen(dot + 1) != TOKEN_SECRET_BYTES * 2)
        return MLF_ENOTFOUND;
    char name[MLF_USER_NAME_MAX + 1];
    memcpy(name, tok, (size_t)(dot - tok));
    name[dot - tok] = '\0';
    mlf_user_rec rec;
    int rc = load_user(rq->web, name, &rec);
    if (rc != MLF_OK)
        return rc;
    char h[65];
    token_hash(dot + 1, h);
    mlf_role role;
    rc = rec.token_hash && strlen(rec.token_hash) == 64 && sodium_memcmp(h, rec.token_hash, 64) == 0 &&
                 mlf_role_parse(rec.role, &role) == MLF_OK
             ? MLF_OK
             : MLF_ENOTFOUND;
    if (rc == MLF_OK) {
        mlf_strlcpy(rq->user.name, name, sizeof rq->user.name);
        rq->user.role = role;
        rq->user.via_session = false;
    }
    mlf_user_rec_clear(&rec);
    return rc;
}

int mlf_web_authenticate(mlf_web_req *rq)
{
    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0)
            return MLF_ENOTFOUND;
        return bearer(rq, auth + 7);
    }
    char id[72];
    const char *cookies = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    session s;
    if (mlf_web_cookie(cookies, SESSION_COOKIE, id, sizeof id) != MLF_OK || !session_find(id, &s))
        return MLF_ENOTFOUND;
    /* a role taken away or a user deleted ends the session's rights at once */
    mlf_user_rec rec;
    mlf_role role;
    int rc = load_user(rq->web, s.user, &rec);
    if (rc != MLF_OK)
        return rc;
    rc = mlf_role_parse(rec.role, &role);
    mlf_user_rec_clear(&rec);
    if (rc != MLF_OK)
        return MLF_ENOTFOUND;
    mlf_strlcpy(rq->user.name, s.user, sizeof rq->user.name);
    rq->user.role = role;
    rq->user.via_session = true;
    mlf_strlcpy(rq->user.session_id, s.id, sizeof rq->user.session_id);
    return MLF_OK;
}

int mlf_web_csrf_ok(const mlf_web_req *rq)
{
    if (!rq->user.via_session)
        return MLF_OK;
    const char *tok = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    session s;
    if (!tok || strlen(tok) != 64 || !session_find(rq->user.session_id, &s))
        return MLF_EINVAL;
    return sodium_memcmp(tok, s.csrf, 64) == 0 ? MLF_OK : MLF_EINVAL;
}

/* ------------------------------------------------------------------------------------- handlers */

static char *cookie_header(const mlf_web *web, const char *value, int max_age)
{
    return mlf_strdup_printf("%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", SESSION_COOKIE, value,
                             max_age, web->tls ? "; Secure" : "");
}

void mlf_web_h_login(mlf_web_req *rq, mlf_web_resp *rs)
{
    json_t *body;
    char err[256];
    if (mlf_web_parse_object(rq->body, rq->body_len, &body, err, sizeof err) != MLF_OK) {
        mlf_web_problem(rs, 400, "%s", err);
        return;
    }
    const char *name = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!name || !password) {
        json_decref(body);
        mlf_web_problem(rs, 400, "the body needs \"username\" and \"password\" strings");
        return;
    }
    mlf_user_rec rec;
    int rc = load_user(rq->web, name, &rec);
    mlf_role role = MLF_ROLE_VIEWER;
    int ok = 0;
    if (rc == MLF_OK) {
        pthread_mutex_lock(&rq->web->login_mu);
        ok = rec.password_hash && crypto_pwhash_str_verify(rec.password_hash, password, strlen(password)) == 0 &&
             mlf_role_parse(rec.role, &role) == MLF_OK;
        pthread_mutex_unlock(&rq->web->login_mu);
        mlf_user_rec_clear(&rec);
    }
    if (!ok) {
        json_decref(body);
        if (rc != MLF_OK && rc != MLF_ENOTFOUND)
            mlf_web_store_problem(rs, rc, "the user");
        else
            mlf_web_problem(rs, 401, "unknown user or wrong password");
        return;
    }
    char id[65], csrf[65];
    session_new(name, role, id, csrf);
    rs->set_cookie = cookie_header(rq->web, id, SESSION_IDLE);
    mlf_web_json(rs, 200, json_pack("{s:s, s:s, s:s}", "username", name, "role", mlf_role_name(role), "csrf_token",
                                    csrf));
    json_decref(body);
}

void mlf_web_h_logout(mlf_web_req *rq, mlf_web_resp *rs)
{
    if (rq->user.via_session)
        session_drop(rq->user.session_id);
    rs->set_cookie = cookie_header(rq->web, "", 0);
    mlf_web_json(rs, 200, json_pack("{s:b}", "logged_out", 1));
}

void mlf_web_h_session(mlf_web_req *rq, mlf_web_resp *rs)
{
    session s;
    json_t *j = json_pack("{s:s, s:s}", "username", rq->user.name, "role", mlf_role_name(rq->user.role));
    if (rq->user.via_session && session_find(rq->user.session_id, &s))
        json_object_set_new(j, "csrf_token", json_string(s.csrf));
    mlf_web_json(rs, 200, j);
}
