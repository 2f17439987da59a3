/* proto.h -- MLFW/1, the wire protocol between the scheduler's zmq executor and `mlflowd worker`
 * (doc/protocol.md is the specification; this is its only implementation, used by both sides).
 *
 * A message is three frames: the signature "MLFW01", one command byte, and one msgpack map (the body).
 * Decoding trusts nothing: the frame count, the signature, the command, the body size against the
 * command's limit, the msgpack structure (pre-scanned: lengths and counts against the bytes that remain,
 * nesting depth, before anything is allocated) and then every field's type and range are checked, and each
 * refusal says what was wrong. TASK and RESULT bodies are the TASK SPEC and TASK RESULT maps of
 * task_spec.h, decoded with its strict decoders.
 *
 * The zmq helpers send and receive whole messages without blocking. THREADING: none here; a socket
 * belongs to one thread, as libzmq requires. */
#ifndef MLF_CORE_PROTO_H
#define MLF_CORE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "exec/task_spec.h"

/** Frame 0 of every message: signature and version. */
#define MLF_PROTO_SIGNATURE "MLFW01"
#define MLF_PROTO_SIGNATURE_LEN 6u

/** The commands (frame 1). Values never change. */
typedef enum mlf_proto_cmd {
    MLF_PROTO_READY = 1,
    MLF_PROTO_TASK = 2,
    MLF_PROTO_STARTED = 3,
    MLF_PROTO_LOG = 4,
    MLF_PROTO_RESULT = 5,
    MLF_PROTO_HEARTBEAT = 6,
    MLF_PROTO_KILL = 7,
    MLF_PROTO_DISCONNECT = 8,
    MLF_PROTO_ACK = 9
} mlf_proto_cmd;

/** The largest frame either side accepts (ZMQ_MAXMSGSIZE): the TASK body limit. */
#define MLF_PROTO_MAX_FRAME ((int64_t)MLF_TASK_FRAME_MAX)

/** Most bytes of log data in one LOG message. */
#define MLF_PROTO_LOG_CHUNK (256u * 1024u)

/** Longest name (worker name, queue, operator) and longest token (attempt, instance), in bytes. */
#define MLF_PROTO_NAME_MAX 128u
#define MLF_PROTO_TOKEN_MAX 64u

/** Most entries of READY's lists. */
#define MLF_PROTO_MAX_QUEUES 1024u
#define MLF_PROTO_MAX_OPERATORS 4096u
#define MLF_PROTO_MAX_ATTEMPTS 65536u

/** Largest READY capacity. */
#define MLF_PROTO_MAX_CAPACITY 65536

/** One decoded or to-be-encoded message. Members a command does not use are ignored (encoding) or zero
 * (decoding). When decoded, every pointer borrows from the message's own storage (freed by
 * mlf_proto_msg_clear()); strings are never NULL for the fields the command has. */
typedef struct mlf_proto_msg {
    mlf_proto_cmd cmd;
    /* READY */
    const char *name, *instance, *host, *version;
    int64_t pid;
    int capacity;
    const char *const *queues;
    size_t nqueues;
    const char *const *operators;
    size_t noperators;
    const char *const *running; /* attempts still executing */
    size_t nrunning;
    const char *const *finished; /* attempts whose RESULT awaits an ACK */
    size_t nfinished;
    /* STARTED, LOG, KILL, ACK; also set from the spec (TASK) and the result (RESULT) when decoded */
    const char *attempt;
    /* STARTED (host above) */
    mlf_time_us start_date;
    /* LOG */
    int64_t offset;
    const void *data;
    size_t data_len;
    /* KILL, DISCONNECT */
    const char *reason;
    /* TASK and RESULT: to encode, the TASK SPEC / TASK RESULT map; decoded, the body (owned by the
     * message) with its decoded form in spec / result */
    const mlf_value *payload;
    mlf_task_spec *spec;
    mlf_task_result *result;
    /* decoding storage */
    mlf_value *body_;
    const char **lists_[4];
} mlf_proto_msg;

/** One received frame. */
typedef struct mlf_proto_frame {
    const void *data;
    size_t len;
} mlf_proto_frame;

/** Where a received message came from: the ROUTER's routing id (empty on a DEALER) and the ZAP User-Id
 * (the worker's Z85 public key under CURVE, "" without). */
typedef struct mlf_proto_peer {
    unsigned char rid[256];
    size_t rid_len;
    char user_id[64];
} mlf_proto_peer;

/** "READY", "TASK", ... or "unknown". Static string. */
const char *mlf_proto_cmd_name(int cmd);

/** The largest body (bytes) a message of @p cmd may carry; 0 for an unknown command. */
size_t mlf_proto_body_max(int cmd);

/** 1 when a worker may send @p cmd (READY, STARTED, LOG, RESULT, HEARTBEAT, DISCONNECT), else 0. */
int mlf_proto_from_worker(int cmd);

/** 1 when the scheduler may send @p cmd (TASK, HEARTBEAT, KILL, DISCONNECT, ACK), else 0. */
int mlf_proto_from_scheduler(int cmd);

/** The most msgpack values (scalars, strings, containers and map keys) a body of @p cmd may hold: decoding
 * costs ~70 bytes per value, so this bounds the memory one message can make a receiver spend. 0 for an
 * unknown command. */
size_t mlf_proto_value_budget(int cmd);

/** 1 when @p s is a valid name (1..MLF_PROTO_NAME_MAX bytes of [A-Za-z0-9_.@:+-]), else 0. */
int mlf_proto_valid_name(const char *s);

/** 1 when @p s is a valid token (an attempt or an instance: 1..MLF_PROTO_TOKEN_MAX name bytes). */
int mlf_proto_valid_token(const char *s);

/**
 * Encodes the body of @p m into a new msgpack buffer stored in @p *body (free with free()) and its size in
 * @p *len. Errors: MLF_EINVAL (an unknown command, a required string NULL or invalid, a TASK or RESULT
 * without payload, a count without its array, LOG data beyond MLF_PROTO_LOG_CHUNK), MLF_ETOOBIG (the body
 * is above the command's limit), MLF_ENOMEM.
 */
int mlf_proto_encode(const mlf_proto_msg *m, void **body, size_t *len);

/**
 * Decodes and validates one message of @p nframes frames into @p out (initialised here; release with
 * mlf_proto_msg_clear() whatever the result). @p err (may be NULL when @p errlen is 0) says why on failure.
 * Errors: MLF_EINVAL (NULL frames with a count, NULL out), MLF_EPARSE (wrong frame count, signature or
 * command, a body that is not msgpack or not a map, a field missing, of the wrong type or out of range),
 * MLF_ENOTSUP (the MLFW signature with another version: @p err names both), MLF_ETOOBIG (the body is above
 * the command's limit), MLF_ENOMEM.
 */
int mlf_proto_decode(const mlf_proto_frame *frames, size_t nframes, mlf_proto_msg *out, char *err, size_t errlen);

/** Frees what a decoded message owns and zeroes it. NULL is allowed. */
void mlf_proto_msg_clear(mlf_proto_msg *m);

/**
 * Sends @p m on zmq socket @p sock without blocking, preceded by routing id @p rid (@p rid_len bytes) when
 * @p rid is not NULL (ROUTER). Returns MLF_OK, an error of mlf_proto_encode(), or the errno value of the
 * failed zmq_send() (EAGAIN: the peer's queue is full; EHOSTUNREACH: the peer is gone); nothing is sent
 * on error.
 */
int mlf_proto_send(void *sock, const void *rid, size_t rid_len, const mlf_proto_msg *m);

/**
 * As mlf_proto_send() for a body that mlf_proto_encode() already made for command @p cmd (@p len bytes at
 * @p body, copied: the caller keeps them), so that a message sent again, or checked before it is sent, is
 * encoded once. Returns MLF_OK, MLF_EINVAL, or the errno value of the failed zmq_send(); nothing is sent on
 * error.
 */
int mlf_proto_send_encoded(void *sock, const void *rid, size_t rid_len, int cmd, const void *body, size_t len);

/**
 * Receives one whole message from zmq socket @p sock without blocking and decodes it into @p out (release
 * with mlf_proto_msg_clear() whatever the result). With @p router the first frame is the routing id. Frames
 * beyond the expected count are read and discarded, so that a malformed message never stays in the queue.
 * @p peer receives the sender's routing id and ZAP User-Id even when decoding fails.
 * Returns MLF_OK; EAGAIN when no message is waiting; another errno value when zmq_msg_recv() failed; or an
 * error of mlf_proto_decode() (with @p err) for a malformed message.
 */
int mlf_proto_recv(void *sock, int router, mlf_proto_peer *peer, mlf_proto_msg *out, char *err, size_t errlen);

/**
 * Decides, before a body is decoded, whether a message of command @p cmd with a body of @p body_len bytes
 * from @p peer is wanted (the right direction, a sender allowed to send it). Returns MLF_OK to decode it, or
 * an error code with the reason in @p err: the message is then dropped undecoded.
 */
typedef int (*mlf_proto_gate_fn)(void *ud, const mlf_proto_peer *peer, int cmd, size_t body_len, char *err,
                                 size_t errlen);

/**
 * mlf_proto_recv() with a gate: once the frames are read and the signature and command checked, @p gate
 * (may be NULL) sees the sender, command and body size; a refusal returns its code (and reason in @p err)
 * without the body being pre-scanned or decoded, so an unwanted sender or command costs no decoding memory.
 * Returns what mlf_proto_recv() returns, or the gate's refusal; @p out->cmd is set for a refused message.
 */
int mlf_proto_recv_gated(void *sock, int router, mlf_proto_gate_fn gate, void *gate_ud, mlf_proto_peer *peer,
                         mlf_proto_msg *out, char *err, size_t errlen);

#endif
