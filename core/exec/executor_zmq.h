/* executor_zmq.h -- the zmq executor: task instances run on remote `mlflowd worker` processes that connect
 * to a ROUTER socket the scheduler binds (doc/protocol.md, MLFW/1).
 *
 * Dispatch is credit-based: each worker advertises its capacity, queues and loaded operators in READY; a
 * try goes only to a worker that listens on its queue, has its operator and has a free slot (never more
 * tries than slots). Before a TASK is sent, the try's lease (attempt token, worker, deadline) goes into the
 * scheduler's write batch through mlf_executor_host.persist_lease() from submit(); the TASK leaves in
 * after_commit(), once that batch is committed (or in a later process(), which only ever runs after a
 * commit). Every ended try drops its lease through drop_lease() just before its result is reported.
 *
 * Every submitted try yields exactly one result through process()'s callback: the worker's own RESULT when
 * it carries the try's attempt token and comes from the worker holding the lease, else a synthesized
 * "failed" result saying what happened ("zombie: worker w1 (host a, pid 12) stopped heartbeating: no
 * message for 3.0 s", "... disconnected", "the worker never acknowledged the task", "killed on request",
 * "the executor shut down before the task started"). A RESULT for an attempt without a current lease is
 * logged and ignored (a worker coming back late never overwrites a newer try), and acknowledged so that
 * the worker forgets it. LOG messages are appended to the try's log_path from its spec.
 *
 * Security: CurveZMQ with a ZAP allow-list, loopback included, unless zmq.insecure is true (keys: the
 * configured files, else the home's, created on the first start; SIGHUP re-reads the allow-list through
 * mlf_zmq_request_reload()). Messages are gated by direction and sender before decoding, bounded in
 * size and value count. Every duration runs on CLOCK_MONOTONIC; the wall-clock `now` passed in only dates
 * results. ACKs of RESULTs leave in after_commit(), after the commit holding the result. Every message
 * is decoded by proto.c's strict decoder; malformed ones are dropped and logged (rate-limited), and a
 * registered worker that sends one is unregistered.
 *
 * THREADING: as executor.h: one thread makes every call; the executor owns a private zmq context (its
 * own inproc namespace, so its ZAP handler serves only its socket). fd() is an epoll descriptor over the
 * ZMQ_FD of its sockets; ZMQ_FD is edge-like, so next_deadline() returns "now" whenever a socket still
 * holds messages. */
#ifndef MLF_CORE_EXECUTOR_ZMQ_H
#define MLF_CORE_EXECUTOR_ZMQ_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "conf/config.h"
#include "exec/executor.h"

/**
 * Opens the zmq executor: binds zmq.bind (with the ZAP handler first when CURVE is on) and fills @p out.
 * Settings read: zmq.bind, zmq.heartbeat, zmq.liveness, zmq.curve.enabled, zmq.curve.secret_key_file,
 * zmq.curve.authorized_keys, zmq.insecure, and the home (for its default keys). @p host is copied; its callbacks may be NULL (no leases are
 * persisted; TASKs then leave at once). Free with out->ops->free(out->impl).
 * Errors (with a message in @p err): MLF_EINVAL (NULL argument; a non-loopback bind without CURVE and
 * without zmq.insecure; CURVE on without its key files; an authorized-keys file listing no key),
 * MLF_ENOTSUP (CURVE asked for but libzmq lacks it), MLF_EPARSE / errno values (unreadable or malformed key
 * files), MLF_ENOMEM, or the errno value of a failed zmq call (EADDRINUSE: the port is taken).
 */
int mlf_executor_zmq_open(const mlf_config *cfg, const mlf_executor_host *host, mlf_executor *out, char *err,
                          size_t errlen);

/** The endpoint actually bound (tcp://127.0.0.1:PORT even when zmq.bind asked for port * or 0), or NULL
 * when @p ex is not a zmq executor. Borrowed. */
const char *mlf_executor_zmq_endpoint(const mlf_executor *ex);

/** Workers registered now (0 when @p ex is not a zmq executor). */
size_t mlf_executor_zmq_worker_count(const mlf_executor *ex);

/**
 * After a scheduler restart: takes back a try whose lease was found in the store, leased to @p worker (the
 * identity persisted through persist_lease(): "NAME INSTANCE KEY", KEY "-" without CURVE; a bare NAME from
 * an older store matches by name), logging to @p log_path. It counts as in flight; the try is settled when
 * that worker registers again (a READY with the same name, key and instance listing it running or
 * finished: its RESULT is then accepted; not listing it, or the same key with another instance: failed as
 * lost; another key: ignored), and failed as a zombie when no such worker registers within one liveness
 * period (at least 2 s) of the executor's first process() call. Errors: MLF_EINVAL (not a zmq executor, invalid token or
 * identity), MLF_EEXIST (the attempt is already in flight), MLF_ENOMEM.
 */
int mlf_executor_zmq_adopt(mlf_executor *ex, const char *attempt, const char *worker, const char *log_path,
                           mlf_time_us now);

#endif
