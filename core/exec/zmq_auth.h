/* zmq_auth.h -- who may talk to the scheduler: CurveZMQ key files, the authorized-keys allow-list, the ZAP
 * handler that enforces it (RFC 27), and the loopback test that decides when CURVE is on by default.
 *
 * Key files hold one Z85 key (40 characters) on the first line that is not a comment; a comment line
 * starts with '#' (no Z85 key can). `mlflowd keys generate FILE` writes the secret key to FILE (mode 0600)
 * and the public key to FILE.pub. An authorized-keys file lists public keys, one per line, each optionally followed by
 * whitespace and a comment (`cat worker.key.pub >> authorized_keys` works).
 *
 * CurveZMQ without a ZAP handler accepts any client key: the handler is bound (inproc://zeromq.zap.01 in
 * the executor's own zmq context) before the CURVE server socket binds, and answers each handshake with
 * 200 and the client key as User-Id when the key is listed, 400 otherwise. */
#ifndef MLF_CORE_ZMQ_AUTH_H
#define MLF_CORE_ZMQ_AUTH_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** Characters of a Z85-encoded CURVE key (32 bytes), without the NUL. */
#define MLF_CURVE_KEY_LEN 40

/** 1 when the linked libzmq supports CURVE (built with libsodium), else 0. */
int mlf_curve_available(void);

/** 1 when @p z85 is exactly MLF_CURVE_KEY_LEN valid Z85 characters, else 0. */
int mlf_curve_key_valid(const char *z85);

/** Generates a new key pair into @p public_z85 and @p secret_z85 (each MLF_CURVE_KEY_LEN + 1 bytes).
 * Errors: MLF_ENOTSUP (no CURVE in libzmq), MLF_EINVAL (NULL argument). */
int mlf_curve_keypair(char *public_z85, char *secret_z85);

/** Derives the public key of @p secret_z85 into @p public_z85 (MLF_CURVE_KEY_LEN + 1 bytes).
 * Errors: MLF_EINVAL (not a key), MLF_ENOTSUP. */
int mlf_curve_public_of(const char *secret_z85, char *public_z85);

/**
 * Writes a new key pair: the secret key to @p path (mode 0600) and the public key to @p path + ".pub"
 * (mode 0644), each with a comment line saying what it is. The public key is also stored in
 * @p public_out (MLF_CURVE_KEY_LEN + 1 bytes) when not NULL. An existing @p path is refused unless
 * @p force. Errors: MLF_EINVAL, MLF_EEXIST (the file exists), MLF_ENOTSUP, or an errno value from creating
 * or writing a file; @p err (may be NULL when @p errlen is 0) says which file and why.
 */
int mlf_curve_write_keypair(const char *path, int force, char *public_out, char *err, size_t errlen);

/**
 * Reads the key in @p path into @p z85_out (MLF_CURVE_KEY_LEN + 1 bytes). The file must pass
 * mlf_key_file_check(): owned by this user or root, not writable by others, with @p secret not readable
 * by them either.
 * Errors: an errno value (the file cannot be read; EACCES for a secret key file with loose permissions),
 * MLF_EPARSE (no key in it, or the first non-comment line is not a key: @p err names FILE:LINE).
 */
int mlf_curve_read_key_file(const char *path, int secret, char *z85_out, char *err, size_t errlen);

/**
 * The CurveZMQ keys a home provides by default, so that the scheduler and the workers of one host are
 * authenticated without any configuration (doc/security.md): HOME/keys/ (mode 0700) holds scheduler.key,
 * worker.key (secrets, 0600), their .pub files, and authorized_keys listing worker.key.pub. Paths are
 * new strings owned by the struct (release with mlf_home_keys_clear()).
 */
typedef struct mlf_home_keys {
    char *dir, *server_secret, *server_public, *worker_secret, *authorized;
} mlf_home_keys;

/**
 * Fills @p out with the home's key paths; with @p create, makes the folder and every missing key file
 * (the scheduler does this on its first start). Existing files are kept. Errors: MLF_EINVAL, MLF_ENOMEM,
 * MLF_ENOTSUP (no CURVE in libzmq), or an errno value from creating a file (@p err says which).
 */
int mlf_home_keys_get(const char *home, int create, mlf_home_keys *out, char *err, size_t errlen);

/** Frees the paths of @p k and zeroes it. NULL is allowed. */
void mlf_home_keys_clear(mlf_home_keys *k);

/**
 * Checks that key material at @p path cannot have been planted or read by another user: a regular file
 * owned by this user or root, not writable by group or others, and with @p secret not readable by them
 * either (as ssh insists). Errors: an errno value from stat(), EACCES (with the fix in @p err).
 */
int mlf_key_file_check(const char *path, int secret, char *err, size_t errlen);

/** Asks every zmq executor of this process to reload its allow-list (zmq.curve.authorized_keys) at its
 * next turn. Async-signal-safe: the daemon calls it from its SIGHUP handler. */
void mlf_zmq_request_reload(void);

/** A counter that mlf_zmq_request_reload() increments: an executor reloads when it changed. */
unsigned mlf_zmq_reload_generation(void);

/** An allow-list of public keys. */
typedef struct mlf_authkeys mlf_authkeys;

/**
 * Parses the @p len bytes of @p text (an authorized-keys file; @p origin names it in errors) into a new
 * allow-list stored in @p *out (free with mlf_authkeys_free()). Every line that is not blank or a comment
 * must start with a key. Errors: MLF_EINVAL (NULL argument), MLF_EPARSE (a line that is not a key:
 * "ORIGIN:LINE: ..." in @p err), MLF_ENOMEM.
 */
int mlf_authkeys_parse(const char *text, size_t len, const char *origin, mlf_authkeys **out, char *err,
                       size_t errlen);

/** Reads and parses the authorized-keys file @p path (at most 16 MiB), which must pass
 * mlf_key_file_check() (not secret). Errors: those of mlf_authkeys_parse(), an errno value (unreadable;
 * EACCES: owned by another user or writable by others), MLF_ETOOBIG. */
int mlf_authkeys_load(const char *path, mlf_authkeys **out, char *err, size_t errlen);

/** Keys in the list (duplicates counted once). */
size_t mlf_authkeys_count(const mlf_authkeys *ak);

/** 1 when the 32-byte key @p key is listed, else 0. */
int mlf_authkeys_allows(const mlf_authkeys *ak, const unsigned char *key);

/** Frees @p ak. NULL is allowed. */
void mlf_authkeys_free(mlf_authkeys *ak);

/** A ZAP handler: a REP socket on inproc://zeromq.zap.01 of one zmq context. */
typedef struct mlf_zap mlf_zap;

/**
 * Binds the ZAP handler of zmq context @p ctx, allowing the CURVE clients whose keys @p ak lists (borrowed:
 * it must outlive the handler). Must run before any CURVE server socket of @p ctx binds. Stores the
 * handler in @p *out (free with mlf_zap_free()). Errors: MLF_EINVAL, MLF_ENOMEM, or the errno value of a
 * failed zmq call (EADDRINUSE: the context already has a handler).
 */
int mlf_zap_start(void *ctx, const mlf_authkeys *ak, mlf_zap **out);

/** Makes the handler allow the keys of @p ak from the next handshake on (borrowed, as in mlf_zap_start()). */
void mlf_zap_set_keys(mlf_zap *z, const mlf_authkeys *ak);

/** The handler's zmq socket, to poll for ZMQ_POLLIN (or its ZMQ_FD). Owned by the handler. */
void *mlf_zap_socket(const mlf_zap *z);

/** Answers every waiting ZAP request without blocking; refusals are logged (at most once a minute per
 * key). Returns the number of requests answered. */
int mlf_zap_process(mlf_zap *z);

/** Handshakes refused so far. */
size_t mlf_zap_refused(const mlf_zap *z);

/** Closes the handler's socket and frees it. NULL is allowed. */
void mlf_zap_free(mlf_zap *z);

/** 1 when zmq endpoint @p endpoint can only be reached from this host: ipc:// and inproc://, and tcp://
 * on a loopback address (127.0.0.0/8, ::1, localhost, the interface lo); 0 for anything else, including
 * tcp://\*:PORT, 0.0.0.0, host names and other interfaces. */
int mlf_endpoint_is_loopback(const char *endpoint);

#endif
