/* zmq_auth.c -- CurveZMQ key files, the authorized-keys allow-list and its ZAP handler (see zmq_auth.h). */
#include "exec/zmq_auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#ifdef MLF_HOST_INTERNAL /* in the zmq plugin, mlf_log() is the SDK's */
#include "base/log.h"
#endif
#include "base/strutil.h"

#define COMPONENT "zap"
#define KEY_BYTES 32
#define AUTHKEYS_FILE_MAX (16 * 1024 * 1024)
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* ------------------------------------------------------------------------------------------ keys */

int mlf_curve_available(void)
{
    return zmq_has("curve") == 1;
}

int mlf_curve_key_valid(const char *z85)
{
    unsigned char key[KEY_BYTES];
    return z85 && strlen(z85) == MLF_CURVE_KEY_LEN && zmq_z85_decode(key, z85) != NULL;
}

int mlf_curve_keypair(char *public_z85, char *secret_z85)
{
    if (!public_z85 || !secret_z85)
        return MLF_EINVAL;
    if (!mlf_curve_available())
        return MLF_ENOTSUP;
    return zmq_curve_keypair(public_z85, secret_z85) == 0 ? MLF_OK : MLF_ENOTSUP;
}

int mlf_curve_public_of(const char *secret_z85, char *public_z85)
{
    if (!public_z85 || !mlf_curve_key_valid(secret_z85))
        return MLF_EINVAL;
    if (!mlf_curve_available())
        return MLF_ENOTSUP;
    return zmq_curve_public(public_z85, secret_z85) == 0 ? MLF_OK : MLF_EINVAL;
}

/* Writes @p text to a new file @p path with @p mode. Returns MLF_OK, MLF_EEXIST or an errno value. */
static int write_new_file(const char *path, int force, mode_t mode, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), mode);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s%s", path, strerror(e), e == EEXIST ? " (use --force to replace it)" : "");
        return e == EEXIST ? MLF_EEXIST : e;
    }
    size_t len = strlen(text), off = 0;
    int rc = fchmod(fd, mode) == 0 ? MLF_OK : errno; /* an existing file keeps its mode otherwise */
    while (rc == MLF_OK && off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = w < 0 ? errno : EIO;
        else
            off += (size_t)w;
    }
    if (close(fd) != 0 && rc == MLF_OK)
        rc = errno;
    if (rc != MLF_OK)
        snprintf(err, errlen, "%s: %s", path, strerror(rc));
    return rc;
}

int mlf_curve_write_keypair(const char *path, int force, char *public_out, char *err, size_t errlen)
{
    if (!path || !*path)
        return MLF_EINVAL;
    char pub[MLF_CURVE_KEY_LEN + 1], sec[MLF_CURVE_KEY_LEN + 1];
    int rc = mlf_curve_keypair(pub, sec);
    if (rc != MLF_OK) {
        snprintf(err, errlen, "this libzmq has no CURVE support (it was built without libsodium)");
        return rc;
    }
    char *pub_path = mlf_strdup_printf("%s.pub", path);
    char *sec_text = mlf_strdup_printf("# mlflowd CURVE secret key: keep it private. Its public key is in %s.pub\n"
                                       "%s\n", path, sec);
    char *pub_text = mlf_strdup_printf("# mlflowd CURVE public key of %s (one line of an authorized-keys file)\n"
                                       "%s\n", path, pub);
    rc = pub_path && sec_text && pub_text ? MLF_OK : MLF_ENOMEM;
    if (rc == MLF_OK)
        rc = write_new_file(path, force, 0600, sec_text, err, errlen);
    if (rc == MLF_OK)
        rc = write_new_file(pub_path, 1, 0644, pub_text, err, errlen);
    if (rc == MLF_OK && public_out)
        memcpy(public_out, pub, sizeof pub);
    explicit_bzero(sec, sizeof sec);
    if (sec_text)
        explicit_bzero(sec_text, strlen(sec_text));
    free(sec_text);
    free(pub_text);
    free(pub_path);
    return rc;
}

int mlf_key_file_check(const char *path, int secret, char *err, size_t errlen)
{
    if (!path)
        return MLF_EINVAL;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return EACCES;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(err, errlen, "%s: owned by uid %u, not by this user (uid %u) or root: refusing key material "
                 "another user could have written", path, (unsigned)st.st_uid, (unsigned)geteuid());
        return EACCES;
    }
    if (st.st_mode & 022) {
        snprintf(err, errlen, "%s: permissions %04o let others change it (chmod go-w %s)", path,
                 (unsigned)(st.st_mode & 07777), path);
        return EACCES;
    }
    if (secret && (st.st_mode & 077)) {
        snprintf(err, errlen, "%s: permissions %04o are too open for a secret key (chmod 600 %s)", path,
                 (unsigned)(st.st_mode & 07777), path);
        return EACCES;
    }
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ home keys */

void mlf_home_keys_clear(mlf_home_keys *k)
{
    if (!k)
        return;
    free(k->dir);
    free(k->server_secret);
    free(k->server_public);
    free(k->worker_secret);
    free(k->authorized);
    memset(k, 0, sizeof *k);
}

static int missing(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 && errno == ENOENT;
}

int mlf_home_keys_get(const char *home, int create, mlf_home_keys *out, char *err, size_t errlen)
{
    if (!home || !out)
        return MLF_EINVAL;
    memset(out, 0, sizeof *out);
    out->dir = mlf_strdup_printf("%s/keys", home);
    out->server_secret = mlf_strdup_printf("%s/keys/scheduler.key", home);
    out->server_public = mlf_strdup_printf("%s/keys/scheduler.key.pub", home);
    out->worker_secret = mlf_strdup_printf("%s/keys/worker.key", home);
    out->authorized = mlf_strdup_printf("%s/keys/authorized_keys", home);
    if (!out->dir || !out->server_secret || !out->server_public || !out->worker_secret || !out->authorized) {
        mlf_home_keys_clear(out);
        return MLF_ENOMEM;
    }
    if (!create)
        return MLF_OK;
    int rc = MLF_OK;
    if (mkdir(home, 0700) != 0 && errno != EEXIST)
        rc = errno;
    if (rc == MLF_OK && mkdir(out->dir, 0700) != 0 && errno != EEXIST)
        rc = errno;
    if (rc != MLF_OK) {
        snprintf(err, errlen, "%s: %s", out->dir, strerror(rc));
        return rc;
    }
    /* the worker's pair and the allow-list first, the scheduler's public key last: a worker that finds
     * scheduler.key.pub finds everything else too */
    char pub[MLF_CURVE_KEY_LEN + 1];
    if (missing(out->worker_secret)) {
        rc = mlf_curve_write_keypair(out->worker_secret, 0, pub, err, errlen);
        if (rc == MLF_EEXIST) /* another process made it meanwhile */
            rc = MLF_OK;
        else if (rc == MLF_OK && missing(out->authorized)) {
            char *text = mlf_strdup_printf("# workers allowed to connect (one public key per line); SIGHUP "
                                           "reloads this file\n%s worker.key.pub of this home\n", pub);
            rc = text ? write_new_file(out->authorized, 0, 0600, text, err, errlen) : MLF_ENOMEM;
            if (rc == MLF_EEXIST)
                rc = MLF_OK;
            free(text);
        }
    }
    if (rc == MLF_OK && missing(out->server_secret)) {
        rc = mlf_curve_write_keypair(out->server_secret, 0, NULL, err, errlen);
        if (rc == MLF_EEXIST)
            rc = MLF_OK;
        else if (rc == MLF_OK)
            mlf_log(MLF_LOG_INFO, COMPONENT, "created CurveZMQ keys for this home's scheduler and workers in %s",
                    out->dir);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ reload */

static volatile sig_atomic_t reload_generation;

void mlf_zmq_request_reload(void)
{
    reload_generation++;
}

unsigned mlf_zmq_reload_generation(void)
{
    return (unsigned)reload_generation;
}

/* Reads a whole file of at most @p max bytes into a new NUL-terminated buffer. */
static int slurp(const char *path, size_t max, mlf_buf *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return e;
    }
    char buf[4096];
    int rc = MLF_OK;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = errno;
            snprintf(err, errlen, "%s: %s", path, strerror(rc));
            break;
        }
        if (r == 0)
            break;
        if (out->len + (size_t)r > max) {
            rc = MLF_ETOOBIG;
            snprintf(err, errlen, "%s: bigger than %zu bytes", path, max);
            break;
        }
        if ((rc = mlf_buf_append(out, buf, (size_t)r)) != MLF_OK)
            break;
    }
    close(fd);
    if (rc == MLF_OK && !out->data)
        rc = mlf_buf_puts(out, "");
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* Splits the next line of @p text off: its first word (at most @p wordmax - 1 bytes kept in @p word) and
 * whether the line is blank. Returns the start of the following line. */
static const char *next_line(const char *p, const char *end, char *word, size_t wordmax, size_t *wordlen)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    const char *w = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
        p++;
    *wordlen = (size_t)(p - w);
    size_t keep = *wordlen < wordmax - 1 ? *wordlen : wordmax - 1;
    memcpy(word, w, keep);
    word[keep] = '\0';
    while (p < end && *p != '\n')
        p++;
    return p < end ? p + 1 : p;
}

/* What a line's first word is: 0 blank, 1 comment, 2 key, 3 anything else. (No key starts with '#': the
 * first character of a Z85 group is at most '%', or the group would overflow 32 bits.) */
static int classify(const char *word, size_t wordlen)
{
    if (wordlen == 0)
        return 0;
    if (word[0] == '#')
        return 1;
    return wordlen == MLF_CURVE_KEY_LEN && mlf_curve_key_valid(word) ? 2 : 3;
}

int mlf_curve_read_key_file(const char *path, int secret, char *z85_out, char *err, size_t errlen)
{
    if (!path || !z85_out)
        return MLF_EINVAL;
    int rc = mlf_key_file_check(path, secret, err, errlen);
    if (rc != MLF_OK)
        return rc;
    mlf_buf b = {0};
    rc = slurp(path, 64 * 1024, &b, err, errlen);
    if (rc != MLF_OK) {
        mlf_buf_free(&b);
        return rc;
    }
    const char *p = b.data, *end = b.data + b.len;
    char word[MLF_CURVE_KEY_LEN + 2];
    size_t wl;
    rc = MLF_EPARSE;
    snprintf(err, errlen, "%s: holds no CURVE key", path);
    for (int line = 1; p < end; line++) {
        p = next_line(p, end, word, sizeof word, &wl);
        int kind = classify(word, wl);
        if (kind == 2) {
            memcpy(z85_out, word, MLF_CURVE_KEY_LEN + 1);
            rc = MLF_OK;
            break;
        }
        if (kind == 3) {
            snprintf(err, errlen, "%s:%d: not a CURVE key (%d Z85 characters expected)", path, line,
                     MLF_CURVE_KEY_LEN);
            break;
        }
    }
    if (rc == MLF_OK && err && errlen)
        err[0] = '\0';
    explicit_bzero(word, sizeof word);
    if (b.data)
        explicit_bzero(b.data, b.len);
    mlf_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------------------------ allow-list */

struct mlf_authkeys {
    unsigned char (*keys)[KEY_BYTES]; /* sorted, unique */
    size_t n;
};

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, KEY_BYTES);
}

int mlf_authkeys_parse(const char *text, size_t len, const char *origin, mlf_authkeys **out, char *err,
                       size_t errlen)
{
    if ((!text && len) || !out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_authkeys *ak = calloc(1, sizeof *ak);
    if (!ak)
        return MLF_ENOMEM;
    size_t cap = 0;
    const char *p = text, *end = text + len;
    char word[MLF_CURVE_KEY_LEN + 2];
    size_t wl;
    for (int line = 1; p < end; line++) {
        p = next_line(p, end, word, sizeof word, &wl);
        int kind = classify(word, wl);
        if (kind == 0 || kind == 1)
            continue;
        if (kind == 3) {
            snprintf(err, errlen, "%s:%d: not a CURVE public key (%d Z85 characters expected, as in a .pub file "
                     "written by mlflowd keys generate)", origin ? origin : "authorized keys", line,
                     MLF_CURVE_KEY_LEN);
            mlf_authkeys_free(ak);
            return MLF_EPARSE;
        }
        if (ak->n == cap) {
            cap = cap ? cap * 2 : 16;
            void *v = realloc(ak->keys, cap * sizeof *ak->keys);
            if (!v) {
                mlf_authkeys_free(ak);
                return MLF_ENOMEM;
            }
            ak->keys = v;
        }
        zmq_z85_decode(ak->keys[ak->n++], word);
    }
    if (ak->n)
        qsort(ak->keys, ak->n, sizeof *ak->keys, key_cmp);
    size_t u = 0;
    for (size_t i = 0; i < ak->n; i++)
        if (u == 0 || memcmp(ak->keys[u - 1], ak->keys[i], KEY_BYTES) != 0)
            memmove(ak->keys[u++], ak->keys[i], KEY_BYTES);
    ak->n = u;
    *out = ak;
    return MLF_OK;
}

int mlf_authkeys_load(const char *path, mlf_authkeys **out, char *err, size_t errlen)
{
    if (!path || !out)
        return MLF_EINVAL;
    mlf_buf b = {0};
    int rc = mlf_key_file_check(path, 0, err, errlen);
    if (rc == MLF_OK)
        rc = slurp(path, AUTHKEYS_FILE_MAX, &b, err, errlen);
    if (rc == MLF_OK)
        rc = mlf_authkeys_parse(b.data, b.len, path, out, err, errlen);
    mlf_buf_free(&b);
    return rc;
}

size_t mlf_authkeys_count(const mlf_authkeys *ak)
{
    return ak ? ak->n : 0;
}

int mlf_authkeys_allows(const mlf_authkeys *ak, const unsigned char *key)
{
    return ak && key && ak->n && bsearch(key, ak->keys, ak->n, sizeof *ak->keys, key_cmp) != NULL;
}

void mlf_authkeys_free(mlf_authkeys *ak)
{
    if (!ak)
        return;
    free(ak->keys);
    free(ak);
}

/* ------------------------------------------------------------------------------------------ ZAP */

/* Refusals already logged, so that a worker retrying every 100 ms does not flood the log. */
#define REFUSAL_MEMORY 32
#define REFUSAL_LOG_PERIOD 60

struct mlf_zap {
    void *sock;
    const mlf_authkeys *ak;
    size_t refused;
    struct {
        unsigned char key[KEY_BYTES];
        time_t at;
    } logged[REFUSAL_MEMORY];
    size_t nlogged;
};

int mlf_zap_start(void *ctx, const mlf_authkeys *ak, mlf_zap **out)
{
    if (!ctx || !ak || !out)
        return MLF_EINVAL;
    *out = NULL;
    mlf_zap *z = calloc(1, sizeof *z);
    if (!z)
        return MLF_ENOMEM;
    z->ak = ak;
    z->sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (!z->sock || zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(z->sock, ZAP_ENDPOINT) != 0) {
        int e = zmq_errno();
        mlf_zap_free(z);
        return e ? e : MLF_ENOMEM;
    }
    *out = z;
    return MLF_OK;
}

void mlf_zap_set_keys(mlf_zap *z, const mlf_authkeys *ak)
{
    if (z && ak)
        z->ak = ak;
}

void *mlf_zap_socket(const mlf_zap *z)
{
    return z ? z->sock : NULL;
}

size_t mlf_zap_refused(const mlf_zap *z)
{
    return z ? z->refused : 0;
}

void mlf_zap_free(mlf_zap *z)
{
    if (!z)
        return;
    if (z->sock)
        zmq_close(z->sock);
    free(z);
}

/* 1 when this key's refusal should be logged now. */
static int should_log(mlf_zap *z, const unsigned char *key)
{
    time_t now = time(NULL);
    size_t oldest = 0;
    for (size_t i = 0; i < z->nlogged; i++) {
        if (memcmp(z->logged[i].key, key, KEY_BYTES) == 0) {
            if (now - z->logged[i].at < REFUSAL_LOG_PERIOD)
                return 0;
            z->logged[i].at = now;
            return 1;
        }
        if (z->logged[i].at < z->logged[oldest].at)
            oldest = i;
    }
    size_t slot = z->nlogged < REFUSAL_MEMORY ? z->nlogged++ : oldest;
    memcpy(z->logged[slot].key, key, KEY_BYTES);
    z->logged[slot].at = now;
    return 1;
}

static void send_reply(void *sock, const zmq_msg_t *request_id, const char *code, const char *text,
                       const char *user_id)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, zmq_msg_data((zmq_msg_t *)request_id), zmq_msg_size((zmq_msg_t *)request_id), ZMQ_SNDMORE);
    zmq_send(sock, code, 3, ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user_id, strlen(user_id), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* Frames of a ZAP request after the REP envelope: version, request id, domain, address, identity,
 * mechanism, then the mechanism's credentials (CURVE: one, the client's 32-byte public key). */
enum { Z_VERSION, Z_REQUEST_ID, Z_DOMAIN, Z_ADDRESS, Z_IDENTITY, Z_MECHANISM, Z_CREDENTIALS, Z_FRAMES };

/* Answers one request. Returns 1 when one was waiting, 0 when none. */
static int handle_one(mlf_zap *z)
{
    zmq_msg_t f[Z_FRAMES];
    size_t n = 0, total = 0;
    for (;;) {
        zmq_msg_t spare;
        memset(&spare, 0, sizeof spare);
        zmq_msg_t *p = n < Z_FRAMES ? &f[n] : &spare;
        zmq_msg_init(p);
        if (zmq_msg_recv(p, z->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(p);
            if (total == 0)
                return 0;
            break;
        }
        total++;
        int more = zmq_msg_more(p);
        if (p == &spare)
            zmq_msg_close(p);
        else
            n++;
        if (!more)
            break;
    }
    const unsigned char *key = NULL;
    char address[64] = "?";
    if (n > Z_ADDRESS) {
        size_t al = zmq_msg_size(&f[Z_ADDRESS]);
        al = al < sizeof address - 1 ? al : sizeof address - 1;
        memcpy(address, zmq_msg_data(&f[Z_ADDRESS]), al);
        address[al] = '\0';
    }
    int curve = total == Z_FRAMES && zmq_msg_size(&f[Z_VERSION]) == 3 &&
                memcmp(zmq_msg_data(&f[Z_VERSION]), "1.0", 3) == 0 && zmq_msg_size(&f[Z_MECHANISM]) == 5 &&
                memcmp(zmq_msg_data(&f[Z_MECHANISM]), "CURVE", 5) == 0 && zmq_msg_size(&f[Z_CREDENTIALS]) == KEY_BYTES;
    if (curve)
        key = zmq_msg_data(&f[Z_CREDENTIALS]);
    if (n > Z_REQUEST_ID) {
        if (key && mlf_authkeys_allows(z->ak, key)) {
            char z85[MLF_CURVE_KEY_LEN + 1];
            zmq_z85_encode(z85, key, KEY_BYTES);
            send_reply(z->sock, &f[Z_REQUEST_ID], "200", "OK", z85);
        } else {
            z->refused++;
            if (key && should_log(z, key)) {
                char z85[MLF_CURVE_KEY_LEN + 1];
                zmq_z85_encode(z85, key, KEY_BYTES);
                mlf_log(MLF_LOG_WARNING, COMPONENT,
                        "refused a worker connection from %s: its public key %s is not in the authorized keys", address,
                        z85);
            } else if (!key) {
                mlf_log(MLF_LOG_WARNING, COMPONENT, "refused a connection from %s: not a CURVE handshake", address);
            }
            send_reply(z->sock, &f[Z_REQUEST_ID], "400", "key not authorized", "");
        }
    } else {
        /* too short to answer by protocol; a REP socket still owes a reply */
        zmq_send(z->sock, "", 0, 0);
    }
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
    return 1;
}

int mlf_zap_process(mlf_zap *z)
{
    int handled = 0;
    while (z && handle_one(z))
        handled++;
    return handled;
}

/* ------------------------------------------------------------------------------------------ endpoints */

int mlf_endpoint_is_loopback(const char *endpoint)
{
    if (!endpoint)
        return 0;
    if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0)
        return 1;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return 0;
    const char *host = endpoint + 6;
    const char *semi = strchr(host, ';'); /* connect syntax "tcp://SOURCE;HOST:PORT" */
    if (semi)
        host = semi + 1;
    const char *colon = strrchr(host, ':');
    if (!colon || colon == host)
        return 0;
    char h[128];
    size_t len = (size_t)(colon - host);
    if (len >= sizeof h)
        return 0;
    memcpy(h, host, len);
    h[len] = '\0';
    if (h[0] == '[' && len >= 2 && h[len - 1] == ']') {
        memmove(h, h + 1, len - 2);
        h[len - 2] = '\0';
    }
    if (strcmp(h, "localhost") == 0 || strcmp(h, "lo") == 0)
        return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, h, &a6) == 1) {
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return 1;
        return memcmp(a6.s6_addr, v4mapped, 12) == 0 && a6.s6_addr[12] == 127;
    }
    return 0;
}
