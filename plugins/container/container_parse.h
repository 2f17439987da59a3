/* container_parse.h -- what the Docker Engine API answers, read with jansson and checked before use.
 * Plugin-internal.
 *
 * Every function takes untrusted bytes: a wrong type, a missing member or text that is not JSON gives
 * MLF_EPARSE with the reason in @p why, never a crash. Container ids are checked to be hexadecimal before
 * they are used in a URL. */
#ifndef MLF_PLUGIN_CONTAINER_PARSE_H
#define MLF_PLUGIN_CONTAINER_PARSE_H

#include <mlflowd/mlflowd.h>

#include "container_engine.h"

/** Labels every container of this operator carries (doc/operators/container.md, "Labels"). */
#define CTR_LABEL_DAG "org.mlflowd.dag"
#define CTR_LABEL_RUN "org.mlflowd.run"
#define CTR_LABEL_TASK "org.mlflowd.task"
#define CTR_LABEL_MAP_INDEX "org.mlflowd.map_index"
#define CTR_LABEL_TRY "org.mlflowd.try"
#define CTR_LABEL_ATTEMPT "org.mlflowd.attempt"
#define CTR_LABEL_AUTO_REMOVE "org.mlflowd.auto_remove"
/** The process that owns the container: "HOST BOOT_ID PID_NAMESPACE PID START_TICKS". */
#define CTR_LABEL_OWNER "org.mlflowd.owner"
/** The prefix reserved for the labels above (user labels may not use it). */
#define CTR_LABEL_PREFIX "org.mlflowd."

/** Longest container id (64 hex digits) plus its NUL. */
#define CTR_ID_MAX 65

/** Writes the engine's explanation of an error response into @p msg: the "message" member of a JSON body,
 * else the start of the body (control characters as spaces), else "no explanation". */
void ctr_parse_error(const ctr_response *resp, char *msg, size_t msglen);

/** Reads "ApiVersion" ("MAJOR.MINOR") from the body of GET /version into @p version.
 * Errors: MLF_EPARSE (not JSON, not an object, no ApiVersion or not MAJOR.MINOR). */
int ctr_parse_version(const char *body, size_t len, char *version, size_t vlen, char *why, size_t whylen);

/** MLF_OK when @p version is "MAJOR.MINOR", else MLF_EPARSE with the reason in @p why. */
int ctr_parse_version_text(const char *version, char *why, size_t whylen);

/** 1 when API version text @p version ("1.41") is at least @p major.@p minor, else 0 (also for bad text). */
int ctr_version_at_least(const char *version, int major, int minor);

/** Reads the new container's "Id" from the body of POST /containers/create into @p id (CTR_ID_MAX bytes)
 * and its "Warnings" joined with "; " into @p warnings (empty when none).
 * Errors: MLF_EPARSE (not JSON, no Id, an Id that is not 12 to 64 hex digits, Warnings not strings). */
int ctr_parse_created(const char *body, size_t len, char *id, char *warnings, size_t wlen, char *why,
                      size_t whylen);

/** Reads "StatusCode" (and "Error.Message", into @p error, empty when none) from the body of
 * POST /containers/ID/wait. Errors: MLF_EPARSE. */
int ctr_parse_wait(const char *body, size_t len, int64_t *status, char *error, size_t elen, char *why,
                   size_t whylen);

/** A container's state from GET /containers/ID/json. */
typedef struct ctr_state {
    int running;
    int oom_killed;
    int64_t exit_code;
    char status[32]; /**< "created", "running", "exited", ... */
} ctr_state;

/** Reads the "State" object of GET /containers/ID/json into @p st. Errors: MLF_EPARSE. */
int ctr_parse_inspect(const char *body, size_t len, ctr_state *st, char *why, size_t whylen);

/** The process that created a container, as the owner label records it. */
typedef struct ctr_owner {
    char host[256];
    char boot[64];
    char pidns[64];
    long pid;
    unsigned long long start; /**< the process's start time in clock ticks since boot (/proc/PID/stat) */
} ctr_owner;

/** Formats @p o as the owner label's value into @p buf. */
void ctr_owner_format(const ctr_owner *o, char *buf, size_t buflen);

/** Parses an owner label's value. Returns MLF_OK or MLF_EPARSE. */
int ctr_owner_parse(const char *text, ctr_owner *o);

/** One container of a listing (GET /containers/json). */
typedef struct ctr_listed {
    char id[CTR_ID_MAX];
    int running;      /**< State is "running", "paused" or "restarting" */
    int keep;         /**< labelled auto_remove=false: not removed once stopped */
    int has_owner;    /**< carries a well-formed owner label */
    ctr_owner owner;
    char what[256];   /**< "DAG.TASK try N (run RUN)" from its labels, for the log */
} ctr_listed;

/** Reads the listing of GET /containers/json into a new array @p *items (free()) of @p *n entries.
 * Entries without a valid Id are left out. Errors: MLF_EPARSE (not a JSON array), MLF_ENOMEM. */
int ctr_parse_list(const char *body, size_t len, ctr_listed **items, size_t *n, char *why, size_t whylen);

/** Reads one line of the progress stream of POST /images/create. Stores in @p status its "status" (with
 * "id" when present; empty for progress-bar lines and blank lines) and in @p error its "error" or
 * "errorDetail.message" (empty when none). Errors: MLF_EPARSE (the line is not a JSON object). */
int ctr_parse_pull_line(const char *line, size_t len, char *status, size_t slen, char *error, size_t elen);

/** Splits the multiplexed stream of GET /containers/ID/logs (a container without a TTY): frames of an
 * 8-byte header (stream 0 stdin, 1 stdout, 2 stderr; three zero bytes; big-endian payload length) and the
 * payload. Zero-initialise it before the first ctr_demux_feed(). */
typedef struct ctr_demux {
    unsigned char hdr[8];
    size_t hdr_len;  /**< header bytes collected */
    uint32_t left;   /**< payload bytes still to come in the current frame */
    int stream;
} ctr_demux;

/** Receives payload bytes of @p stream (1 stdout, 2 stderr); a frame may arrive in several pieces. */
typedef void (*ctr_demux_fn)(void *ud, int stream, const char *data, size_t len);

/** Feeds @p len bytes. Returns MLF_OK, or MLF_EPARSE on a header that is not a frame header (a stream
 * number other than 0-2, or non-zero padding). */
int ctr_demux_feed(ctr_demux *d, const char *data, size_t len, ctr_demux_fn fn, void *ud);

/** MLF_OK when the stream ended on a frame boundary, else MLF_EPARSE (truncated). */
int ctr_demux_finish(const ctr_demux *d);

#endif
