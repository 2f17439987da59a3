/*
 * event_source.h -- event sources: outside events that record asset events (ABI 1.3; doc/assets.md).
 *
 * An event source watches something outside mlflowd -- a folder, a message queue, a bucket's
 * notifications -- and turns what happens there into events of one asset, whose consumer DAGs then run.
 * `fs_watch` (plugins/fs_watch/: a folder watched with inotify, one event per new file) is an event source
 * plugin like any other; a Kafka or MQTT source is written the same way, out of tree, against this header.
 *
 * WHO OPENS ONE. A DAG file declares the asset and its watch:
 *
 *     assets:
 *       file:///data/incoming:
 *         watch: {source: fs_watch, config: {path: /data/incoming, pattern: "*.csv"}}
 *
 * The scheduler daemon opens one instance per declared watch, with `config` checked against the
 * descriptor's `params` (an unknown key, a wrong type or a missing required one is logged and that watch is
 * not opened); it closes the instance when the DAG file stops declaring it and reopens it when its config
 * changes. Foreground commands (`dags test`, `tasks run`) open none.
 *
 * THE LOOP. As for executors (executor.h): every callback runs on the scheduler's one thread and must not
 * block. The scheduler polls fd() for POLLIN with its other sources and calls process() when it is
 * readable or when next_deadline() has passed. A source that must block (a client library without a
 * non-blocking mode) runs its own thread, hands what it read to the loop through its fd (an eventfd, a
 * pipe), and calls no host function from that thread.
 *
 * EMITTING. process() calls mlf_event_emit(host, extra, key) once per event: @p extra (a map, may be NULL;
 * borrowed) is what the asset event's consumers see in {{ triggering_asset_events }}; @p key (may be NULL)
 * is an idempotency key -- a message id, a queue offset -- so that an event delivered twice (a source that
 * restarts and re-reads, an at-least-once queue) is recorded once. The event is written in the scheduler's
 * current store batch and its consumer DAGs are evaluated in the same loop turn.
 *
 * MEMORY. Every string and table of the descriptor stays the plugin's (static storage is the normal
 * choice). open()'s args are borrowed for the call: copy what the instance keeps. Values the host hands
 * out are freed with mlf_value_free(), buffers with mlf_free().
 */
#ifndef MLFLOWD_EVENT_SOURCE_H
#define MLFLOWD_EVENT_SOURCE_H

#ifdef __cplusplus
extern "C" {
#endif

/** The daemon's side of one open event source, handed to open() and given back to mlf_event_emit().
 * Opaque; valid until close() returns. */
typedef struct mlf_event_host mlf_event_host;

/** What open() receives (borrowed for the call). */
typedef struct mlf_event_source_open_args {
    uint32_t struct_size;     /**< sizeof(mlf_event_source_open_args) in the daemon */
    const char *asset_uri;    /**< the asset whose events this instance emits */
    const mlf_value *config;  /**< the watch's config: a map checked against params, defaults filled in
                                   (durations as int µs) */
    mlf_event_host *host;     /**< for mlf_event_emit() */
    const char *home;         /**< the daemon's home folder (a place for the source's own state), or NULL */
} mlf_event_source_open_args;

/** An event source. Register it with mlf_register_event_source() from a plugin's init(). Every callback
 * except those marked "may be NULL" is required. `inst` is what open() stored. */
typedef struct mlf_event_source_desc {
    uint32_t struct_size;          /**< sizeof(mlf_event_source_desc) */
    const char *name;              /**< the name used as `watch: {source: NAME}` in DAG files */
    const char *help;              /**< one paragraph of documentation (`mlflowd plugins list`) */
    unsigned flags;                /**< zero (reserved) */
    const mlf_param_spec *params;  /**< the watch's config keys, {0}-terminated; NULL: none */
    uint32_t param_size;           /**< sizeof(mlf_param_spec) as the plugin was built */

    /** Starts watching as @p args describe, storing the instance in @p *inst. Returns MLF_OK, or an error
     * code with a one-line reason in @p err (@p errlen bytes), which the daemon logs with the asset's URI
     * ("cannot watch /data/incoming: No such file or directory"); the daemon then goes on without it. */
    int (*open)(const mlf_event_source_open_args *args, void **inst, char *err, size_t errlen);

    /** One file descriptor the scheduler polls for POLLIN, owned by the instance, or -1 for none (then
     * next_deadline() drives it). The same descriptor for the life of the instance. */
    int (*fd)(void *inst);

    /** The earliest time (µs since the epoch, mlf_clock_wall()) at which process() must run even if fd()
     * stays quiet, or 0 for none. May be NULL: fd() alone drives it. */
    mlf_time_us (*next_deadline)(void *inst);

    /** Does everything due without blocking, calling mlf_event_emit() once per event. Returns the number
     * of events emitted, or a negative MLF_E* code (logged by the daemon; the instance stays open). */
    int (*process)(void *inst, mlf_time_us now);

    /** Stops watching and frees the instance. */
    void (*close)(void *inst);
} mlf_event_source_desc;

/** Registers an event source (during init()). Errors: MLF_EINVAL (a missing callback, a bad name, unknown
 * flags, a bad params table), MLF_EEXIST (the name is taken), MLF_ENOMEM. Added in ABI 1.3. */
MLF_API int mlf_register_event_source(mlf_registry *reg, const mlf_event_source_desc *desc);

/** Records one event of the instance's asset (from process() only): @p extra (a map or NULL; borrowed),
 * @p key an idempotency key or NULL (1..200 printable ASCII bytes; an event whose key was recorded before
 * for this asset is not recorded again). Returns MLF_OK (also for a repeated key), MLF_EINVAL (extra not a
 * map, a bad key), MLF_ESTATE (called outside process()), or a store error. Added in ABI 1.3. */
MLF_API int mlf_event_emit(mlf_event_host *host, const mlf_value *extra, const char *key);

#ifdef __cplusplus
}
#endif

#endif /* MLFLOWD_EVENT_SOURCE_H */
