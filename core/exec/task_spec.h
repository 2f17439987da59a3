/* task_spec.h -- the two messages of one try of a task instance: the TASK SPEC an executor hands to a task
 * process (what to run, with everything it needs, already resolved by the scheduler) and the TASK RESULT
 * the task process hands back (how it ended).
 *
 * Each message is ONE msgpack map, encoded with mlf_value_pack() and decoded with mlf_value_unpack(). The
 * same bytes travel over a pipe to a local task process today and over the network to remote workers
 * later, so decoding is strict: every known field is type- and range-checked, unknown fields are ignored
 * (a newer sender may add some), a missing required field is refused, and every refusal is MLF_EPARSE with
 * a message naming the field ("task spec: field 'try_number' must be int, got str").
 *
 * TASK SPEC fields (R = required; optional fields take the default shown):
 *   dag_id, task_id, run_id   str R, non-empty
 *   map_index                 int R, -1 (not mapped) .. INT32_MAX
 *   try_number                int R, 1 .. INT32_MAX
 *   attempt                   str R, non-empty: the attempt token (doc/architecture.md §6) echoed in the result
 *   operator                  str R: operator name, as registered by its plugin
 *   plugin                    str R: the plugin file to load (path form, e.g. /usr/lib/mlflowd/shell.la)
 *   logical_date, data_interval_start, data_interval_end   int R (µs since the epoch)
 *   log_path                  str R: the try's log file (doc/architecture.md §8); opened for append, folders created
 *   is_branch                 bool, false: the operator may call follow()
 *   downstream                array of non-empty str, []: direct downstream task ids (for follow)
 *   params                    map, {}: rendered operator parameters
 *   dag_params                map, {}: the DAG's params
 *   xcom_inputs               map task_id -> map key -> value, {}: what xcom_pull() can read
 *   xcom_max_size             int >= 0, 0 (unlimited): packed bytes allowed per pushed XCom
 *   secrets                   array of str, []: strings masked as *** in the log
 *   connections               map conn_id -> map, {}: connections resolved by the scheduler; each map may
 *                             hold conn_type, host, login, password, schema (str or nil), port (int 0..65535
 *                             or nil), extra (map or nil)
 *   execution_timeout         int >= 0 µs, 0 (none): enforced by the executor, which kills the process group
 *   sensor_poke               bool, false: this try is one poke of a sensor
 *   sensor                    bool, false: the operator is a sensor (the only kind whose try may report
 *                             "reschedule"; a remote worker's RESULT saying otherwise is refused)
 *
 * TASK RESULT fields:
 *   attempt                   str R, non-empty: the spec's attempt token
 *   outcome                   str R: "success", "failed", "failed_no_retry", "skipped", "reschedule"
 *   start_date, end_date      int R (µs since the epoch): when the try started and ended
 *   message                   str or nil, nil: why it ended as it did
 *   xcoms                     map key -> value, {}: XComs pushed by the try
 *   followed                  array of str, or nil when follow() was never called; absent means nil
 *   reschedule_at             int, 0: a sensor's requested next poke (0: poke_interval decides)
 *   exit_status               int, -1: the task process's exit code (-1: unknown or killed by a signal)
 *   exit_signal               int, 0: the signal that killed the task process (0: none)
 *   pid                       int, 0: the task process id
 *   hostname                  str, "": the host it ran on
 *
 * Frames: `mlflowd task-exec` reads one spec and writes one result, each as a FRAME: a 4-byte big-endian
 * length followed by that many bytes of msgpack. MLF_TASK_FRAME_MAX bounds the length either way.
 */
#ifndef MLF_CORE_TASK_SPEC_H
#define MLF_CORE_TASK_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

/** Largest frame body (bytes) a reader accepts: a bigger length prefix is refused before allocating. */
#define MLF_TASK_FRAME_MAX (64u * 1024u * 1024u)

/** Bytes of a frame's length prefix. */
#define MLF_TASK_FRAME_HEADER 4u

/** One try to run. In a decoded spec every pointer borrows from the decoded mlf_value (which must outlive
 * it) except the two arrays, owned by the spec; no pointer is ever NULL after decoding. To encode, fill
 * the structure with borrowed pointers (NULL values and arrays mean empty). */
typedef struct mlf_task_spec {
    const char *dag_id, *task_id, *run_id;
    int map_index;
    int try_number;
    const char *attempt;
    const char *operator_name;
    const char *plugin_path;
    int is_branch;
    const char *const *downstream;
    size_t ndownstream;
    const mlf_value *params;
    const mlf_value *dag_params;
    const mlf_value *xcom_inputs;
    mlf_time_us logical_date, data_interval_start, data_interval_end;
    const char *log_path;
    int64_t xcom_max_size;
    const char *const *secrets;
    size_t nsecrets;
    const mlf_value *connections;
    int64_t execution_timeout;
    int sensor_poke;
    int sensor; /* the operator is a sensor: only its tries may end in "reschedule" */
} mlf_task_spec;

/** How one try ended. Same borrowing rules as mlf_task_spec; message may be NULL, and followed is NULL
 * exactly when follow() was never called (branched is then 0). */
typedef struct mlf_task_result {
    const char *attempt;
    mlf_outcome outcome;
    const char *message;
    const mlf_value *xcoms;
    int branched;
    const char *const *followed;
    size_t nfollowed;
    mlf_time_us reschedule_at;
    mlf_time_us start_date, end_date;
    int exit_status;
    int exit_signal;
    int64_t pid;
    const char *hostname;
} mlf_task_result;

/** The wire name of @p o ("success", "failed", "failed_no_retry", "skipped", "reschedule"), or "unknown".
 * Static string. */
const char *mlf_outcome_name(mlf_outcome o);

/** Parses a wire name of an outcome. Returns MLF_OK or MLF_EPARSE. */
int mlf_outcome_parse(const char *name, mlf_outcome *out);

/** Encodes @p spec as a new map stored in @p *out (free with mlf_value_free()). Values are deep-copied.
 * Errors: MLF_EINVAL (a required string is NULL, a count without its array, a value of the wrong type
 * such as params that is not a map), MLF_ENOMEM. */
int mlf_task_spec_encode(const mlf_task_spec *spec, mlf_value **out);

/** Decodes and validates @p v into a new spec stored in @p *out (free with mlf_task_spec_free()); its
 * pointers borrow from @p v. Errors: MLF_EINVAL (NULL argument), MLF_EPARSE (not a map, a required field
 * missing, a field of the wrong type or out of range; @p err names the field), MLF_ENOMEM. @p err may be
 * NULL when @p errlen is 0. */
int mlf_task_spec_decode(const mlf_value *v, mlf_task_spec **out, char *err, size_t errlen);

/** Frees a decoded spec (not the value it borrows from). NULL is allowed. */
void mlf_task_spec_free(mlf_task_spec *spec);

/** Encodes @p res as a new map stored in @p *out (free with mlf_value_free()). A NULL message is nil, a NULL
 * xcoms an empty map, followed is nil unless branched. Errors: MLF_EINVAL (NULL attempt, an outcome out of
 * range, xcoms not a map), MLF_ENOMEM. */
int mlf_task_result_encode(const mlf_task_result *res, mlf_value **out);

/** Decodes and validates a result, as mlf_task_spec_decode() does a spec. Free with mlf_task_result_free(). */
int mlf_task_result_decode(const mlf_value *v, mlf_task_result **out, char *err, size_t errlen);

/** Frees a decoded result (not the value it borrows from). NULL is allowed. */
void mlf_task_result_free(mlf_task_result *res);

/** Packs @p v as one frame (length prefix + msgpack) into a new buffer stored in @p *buf (free with free())
 * and its size in @p *len. Errors: MLF_EINVAL, MLF_ETOOBIG (body above MLF_TASK_FRAME_MAX), MLF_ENOMEM. */
int mlf_task_frame_pack(const mlf_value *v, void **buf, size_t *len);

/** Reads a frame's length prefix from its first MLF_TASK_FRAME_HEADER bytes at @p p. */
uint32_t mlf_task_frame_length(const void *p);

/** Reads one spec frame from blocking descriptor @p fd and unpacks its body into @p *out (free with
 * mlf_value_free()). Errors, with the reason in @p err (may be NULL when @p errlen is 0): MLF_ENOTFOUND (the
 * input ended before the frame began), MLF_EIO (a read error, or the input ended inside the frame),
 * MLF_ETOOBIG (a length above MLF_TASK_FRAME_MAX, refused before allocating), MLF_EPARSE (not msgpack),
 * MLF_ENOMEM, MLF_EINVAL. */
int mlf_task_frame_read(int fd, mlf_value **out, char *err, size_t errlen);

#endif
