/*
 * mlflowd.h -- the plugin SDK of mlflowd, a workflow orchestrator.
 *
 * This is the one header a plugin author includes. A plugin is a shared object that exports exactly one
 * symbol, mlf_plugin_entry (see MLF_PLUGIN() below); the daemon loads it with libltdl, checks its ABI major
 * number, hands it a table of host functions and calls its init function, which registers operators,
 * sensors, hooks, executors and template macros with the registry it is given.
 *
 * Plugins never link against the daemon. Every function in this SDK is reached through the host table the
 * daemon passes at load time; in plugin builds the mlf_* names below are static inline wrappers around
 * that table, so an author calls them like ordinary functions and needs no library at link time:
 *
 *     cc -shared -fPIC $(pkg-config --cflags --libs mlflowd-plugin) op.c -o op.so
 *
 * STABILITY CONTRACT
 *   - Within one ABI major version (MLF_ABI_MAJOR), the values of constants never change and are never
 *     reused, structure members are only ever appended, and host-table entries are only ever appended.
 *     Every descriptor structure starts with a struct_size member so that both sides can tell which
 *     members the other knows.
 *   - A plugin built against ABI major N loads only into a daemon of ABI major N; the daemon refuses any
 *     other with an error naming both versions. A plugin built against ABI minor M loads into a daemon of
 *     minor M or newer. It loads into an older daemon only when it was built with MLF_PLUGIN_ABI_MINOR_MIN
 *     defined to that daemon's minor (or lower), which promises that it checks MLF_HOST_HAS() before
 *     calling anything added after that minor; otherwise the daemon refuses it, naming both versions.
 *   - Declarations inside #ifdef MLF_BUILD_DRAFT_API are not yet stable and may change in any release.
 *
 * CONVENTIONS
 *   - Functions that can fail return an int: 0 (MLF_OK) on success, otherwise a negative MLF_E* code
 *     from the reserved range below, or a positive errno value for system errors. mlf_strerror()
 *     explains any of them. Outputs come last in the argument list.
 *   - "Borrowed" pointers stay owned by their container and live as long as it does; "new" pointers are
 *     owned by the caller, who releases them with the function named in the comment. Memory the SDK
 *     allocates for a plugin (mlf_value_pack(), mlf_value_to_json(), mlf_value_to_display()) is released
 *     with mlf_free(), never the plugin's own free(): the two sides may use different allocators.
 *   - Times are int64_t microseconds since the Unix epoch, UTC (mlf_time_us); durations are int64_t
 *     microseconds.
 */
#ifndef MLFLOWD_MLFLOWD_H
#define MLFLOWD_MLFLOWD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup version Versions
 * The SDK release (major.minor.patch) and the binary interface (ABI major.minor). The ABI major changes
 * only when an existing member or function changes meaning; the minor grows when members are appended.
 * @{ */
#define MLF_VERSION_MAJOR 0
#define MLF_VERSION_MINOR 1
#define MLF_VERSION_PATCH 0
#define MLF_VERSION_STRING "0.1.0"

#define MLF_ABI_MAJOR 1
#define MLF_ABI_MINOR 3
/** @} */

/** Marks a symbol visible from a shared object built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define MLF_EXPORT __attribute__((visibility("default")))
#define MLF_HIDDEN __attribute__((visibility("hidden")))
#define MLF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MLF_EXPORT
#define MLF_HIDDEN
#define MLF_PRINTF(f, a)
#endif

/*
 * In the daemon (which defines MLF_HOST_INTERNAL before including this header) the mlf_* functions are
 * ordinary external functions. In plugins they are static inline wrappers over the host table.
 */
#ifdef MLF_HOST_INTERNAL
#define MLF_API extern
#else
#define MLF_API static inline
#endif

/** @defgroup errors Error codes
 * Library errors live in the reserved range [MLF_ERR_FIRST, MLF_ERR_LAST], far below any errno value.
 * Positive return values are errno codes. Values are never renumbered.
 * @{ */
#define MLF_OK 0
#define MLF_ERR_FIRST (-32000)
#define MLF_EINVAL (-32000)    /**< an argument is invalid (NULL where not allowed, bad value) */
#define MLF_ENOMEM (-31999)    /**< out of memory */
#define MLF_ENOTFOUND (-31998) /**< the named thing (key, parameter, connection, plugin) does not exist */
#define MLF_EEXIST (-31997)    /**< the name is already taken (registration, creation) */
#define MLF_ETYPE (-31996)     /**< a value has the wrong type for the request */
#define MLF_ERANGE (-31995)    /**< a number or index is out of range */
#define MLF_ETOOBIG (-31994)   /**< a value or message exceeds a configured size limit */
#define MLF_EPARSE (-31993)    /**< input could not be parsed (msgpack, template, date, duration) */
#define MLF_EABI (-31992)      /**< ABI mismatch between plugin and daemon */
#define MLF_ENOTSUP (-31991)   /**< the operation is not supported (yet) by this build or context */
#define MLF_ESTATE (-31990)    /**< the call is not valid in the current state */
#define MLF_EIO (-31989)       /**< an I/O operation failed (details in the log) */
#define MLF_ETIMEDOUT (-31988) /**< a deadline passed */
#define MLF_ECORRUPT (-31987)  /**< stored data is damaged or of an incompatible schema */
#define MLF_EPLUGIN (-31986)   /**< a plugin failed or misbehaved */
#define MLF_ERR_LAST (-31986)
/** @} */

/** Microseconds since the Unix epoch (UTC). */
typedef int64_t mlf_time_us;

/** Returns a static English description of any return code of this SDK or of errno. Never NULL. */
MLF_API const char *mlf_strerror(int err);

/** Releases memory the SDK allocated and handed to the plugin as "new" (the buffers of mlf_value_pack(),
 * mlf_value_to_json(), mlf_value_to_display()). NULL is allowed. Added in ABI 1.2: a plugin that may run
 * in an older daemon checks MLF_HOST_HAS(mlf_free) and falls back to free(). */
MLF_API void mlf_free(void *p);

#ifdef __cplusplus
}
#endif

#include <mlflowd/value.h>
#include <mlflowd/plugin.h>
#include <mlflowd/task.h>
#include <mlflowd/executor.h>
#include <mlflowd/host.h>

#endif /* MLFLOWD_MLFLOWD_H */
