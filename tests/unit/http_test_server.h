/* http_test_server.h -- test support for the http and notifiers plugins: plugin loading, and an HTTP server on
 * 127.0.0.1 (libmicrohttpd, ephemeral port) that records every request and answers by path:
 *   /json      200 application/json {"ok":true,"n":3,"items":["a","b"],"pi":1.5,"none":null}
 *   /text      200 text/plain "plain words"
 *   /badjson   200 application/json "{not json"
 *   /ready     200 text/plain "status: ready"
 *   /big       200 text/plain, 5000 bytes of 'b'
 *   /redirect  302 to /json
 *   /fail      500 "database on fire\n" followed by 300 'x'
 *   /hook500   500 "webhook broke"
 *   /secret    401, /forbidden 403
 *   /slow      200 after 3 s (or at once when the server stops)
 *   /  /hook   200 "ok"
 *   anything else 404 "no such thing" */
#ifndef MLF_TEST_HTTP_SERVER_H
#define MLF_TEST_HTTP_SERVER_H

#include <stddef.h>

#include "plugin/registry.h"

/** One recorded request. */
typedef struct ts_request {
    char method[16];
    char path[256];
    char query[1024];   /**< decoded arguments, "k=v&k2=v2" */
    char headers[4096]; /**< "Name: value\n" per header */
    char body[8192];
    size_t body_len;
} ts_request;

typedef struct test_server test_server;

/** Starts a server (aborts the test when it cannot). */
test_server *ts_start(void);
/** The port it listens on. */
int ts_port(const test_server *s);
/** Requests answered so far. */
size_t ts_count(test_server *s);
/** A copy of the last request (the test fails when there is none). */
ts_request ts_last(test_server *s);
/** Stops the server (a /slow request still waiting is answered at once) and frees it. */
void ts_stop(test_server *s);

/** Unsets the proxy variables libcurl honours (the tests must reach their own loopback servers), then loads
 * plugin @p name from the build tree into a new catalog (the test fails when it does not load). */
mlf_catalog *ts_load_plugin(const char *name);

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
int ts_closed_port(void);

/** The value of header @p name in @p r->headers, copied into @p buf; NULL when absent. */
const char *ts_header(const ts_request *r, const char *name, char *buf, size_t buflen);

#endif
