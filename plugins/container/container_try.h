/* container_try.h -- one try of a `container` task: create, start, stream the output into the try's log,
 * wait, judge, remove; stop and remove on cancellation. Plugin-internal. */
#ifndef MLF_PLUGIN_CONTAINER_TRY_H
#define MLF_PLUGIN_CONTAINER_TRY_H

#include <mlflowd/mlflowd.h>

#include "container_engine.h"

/** How many of the last output lines a failure message quotes. */
#define CTR_TAIL_LINES 5

/**
 * Fills @p ep from docker connection @p conn (NULL: the default engine): its host is the engine address
 * (a socket path, unix://, tcp://, https://; a bare host name becomes tcp://HOST:PORT, port 2376 with TLS
 * and 2375 without), its extra tls / ca_cert / client_cert / client_key set TLS. Errors as
 * ctr_endpoint_init(), and MLF_ETYPE for a malformed extra field (reason in @p err).
 */
int ctr_endpoint_from_conn(const mlf_connection *conn, ctr_endpoint *ep, char *err, size_t errlen);

/** Runs one try of the container task of @p ctx (see doc/operators/container.md) and returns its outcome:
 * MLF_SUCCESS (exit 0; the last line of stdout pushed as XCom return_value), MLF_SKIPPED (exit
 * skip_on_exit_code), MLF_FAILED (another exit code, an OOM kill, an engine that cannot be reached, a
 * cancelled try) or MLF_FAILED_NO_RETRY (a parameter or connection that no retry can fix). */
mlf_outcome ctr_try_run(mlf_task_ctx *ctx);

#endif
