/* container_engine.h -- a client of the Docker Engine API (served by Docker and by `podman system service`)
 * over a unix socket or TCP (with TLS), with libcurl. Plugin-internal.
 *
 * An endpoint says where the engine listens; ctr_negotiate() asks it for its API version (GET /version) and
 * every later request goes to /v<that version>/..., as the docker CLI does, so one build talks to old and
 * new engines alike. Requests either collect a bounded body (ctr_call) or hand the body to a callback as it
 * arrives (ctr_stream: logs, image pulls). Nothing here decides what a status means. */
#ifndef MLF_PLUGIN_CONTAINER_ENGINE_H
#define MLF_PLUGIN_CONTAINER_ENGINE_H

#include <mlflowd/mlflowd.h>

/** The oldest engine API this plugin speaks: 1.40 (Docker 19.03) brought HostConfig.DeviceRequests. */
#define CTR_API_MIN_MAJOR 1
#define CTR_API_MIN_MINOR 40
/** Largest body ctr_call() keeps (a container listing of a busy engine fits easily). */
#define CTR_MAX_BODY ((size_t)8 << 20)
/** Socket paths tried, in order, when no connection names one (after $DOCKER_HOST). */
#define CTR_DOCKER_SOCKET "/var/run/docker.sock"
#define CTR_PODMAN_ROOT_SOCKET "/run/podman/podman.sock"

/** Where an engine listens and how to reach it. Every string is owned by the endpoint. */
typedef struct ctr_endpoint {
    char *socket_path;  /**< unix socket, or NULL for TCP */
    char *base_url;     /**< "http://localhost" (unix) or "http[s]://HOST:PORT" */
    char *describe;     /**< for messages: "unix:///run/podman/podman.sock" or the TCP URL */
    char *ca_file, *cert_file, *key_file; /**< TLS files, or NULL */
    int verify_tls;
    char *api_version;  /**< "1.41" once negotiated, NULL before */
    int64_t timeout_us; /**< limit of each short request (0: none) */
    /** Polled during transfers; non-zero aborts them with MLF_ESTATE. May be NULL. */
    int (*cancelled)(void *ud);
    void *cancel_ud;
} ctr_endpoint;

/** A collected response. */
typedef struct ctr_response {
    long status; /**< HTTP status */
    char *body;  /**< NUL-terminated, never NULL after MLF_OK */
    size_t len;
    int truncated; /**< the body was longer than CTR_MAX_BODY */
    char api_version[32]; /**< the Api-Version header ("1.41"), empty when absent */
} ctr_response;

/**
 * Fills @p ep from an engine address @p where: "unix:///path", "/path" (a unix socket), "tcp://HOST:PORT",
 * "http://..." or "https://..." (TCP; tcp:// becomes https when @p tls is set). @p where NULL or empty picks
 * the default: $DOCKER_HOST, else the first existing socket of CTR_DOCKER_SOCKET,
 * $XDG_RUNTIME_DIR/podman/podman.sock and CTR_PODMAN_ROOT_SOCKET. Free with ctr_endpoint_free().
 * Errors (reason in @p err): MLF_ENOTFOUND (no default socket exists; every path tried is named),
 * MLF_EINVAL (an address of another scheme), MLF_ENOMEM.
 */
int ctr_endpoint_init(ctr_endpoint *ep, const char *where, int tls, char *err, size_t errlen);

/** Frees what @p ep holds and zeroes it. */
void ctr_endpoint_free(ctr_endpoint *ep);

/**
 * Asks the engine for its API version and keeps it in @p ep->api_version: the Api-Version header of
 * GET /_ping (cheap), else the ApiVersion of GET /version (Podman's /version runs its runtime to ask for
 * versions: seconds).
 * Errors (a sentence a user can act on in @p err): MLF_ENOTFOUND (the socket does not exist), EACCES
 * (permission denied on the socket), MLF_EIO (cannot connect or read), MLF_ETIMEDOUT, MLF_EPARSE (the
 * answer is not an engine's), MLF_ENOTSUP (the engine's API is older than 1.40), MLF_ESTATE (cancelled).
 */
int ctr_negotiate(ctr_endpoint *ep, char *err, size_t errlen);

/**
 * Sends @p method @p path (below the negotiated version prefix; already URL-encoded) with JSON @p body (or
 * none) and the extra header line @p header (or NULL) and collects the response in @p resp (free it with
 * ctr_response_free() whatever the result). @p timeout_us overrides the endpoint's limit when positive;
 * a negative one means no limit (waiting for a container to exit).
 * Returns MLF_OK when a response arrived, whatever its status; otherwise MLF_EIO, MLF_ETIMEDOUT,
 * MLF_ESTATE (cancelled), MLF_ENOMEM, EACCES or MLF_ENOTFOUND (socket), with the reason in @p err.
 */
int ctr_call(ctr_endpoint *ep, const char *method, const char *path, const char *body, const char *header,
             int64_t timeout_us, ctr_response *resp, char *err, size_t errlen);

/** Receives the body of a streamed response: returns 0 to go on, non-zero to stop the transfer. */
typedef int (*ctr_sink_fn)(void *ud, const char *data, size_t len);

/**
 * Like ctr_call() without a time limit, but hands the body of a 2xx response to @p sink as it arrives
 * (other statuses are collected into @p resp->body for the error message). Returns MLF_OK when the
 * response ended, MLF_ECORRUPT when @p sink stopped it, or an error of ctr_call().
 */
int ctr_stream(ctr_endpoint *ep, const char *method, const char *path, const char *header, ctr_sink_fn sink,
               void *ud, ctr_response *resp, char *err, size_t errlen);

/** Frees what @p resp holds and zeroes it. */
void ctr_response_free(ctr_response *resp);

/** @p s percent-encoded for a URL path segment or query value (new string, free()), or NULL (no memory). */
char *ctr_escape(const char *s);

/** curl_global_init()/cleanup() for the plugin's init and fini; ctr_global_init returns MLF_OK or
 * MLF_EPLUGIN. */
int ctr_global_init(void);
void ctr_global_cleanup(void);

#endif
