/* sdnotify.h -- tells systemd how the daemon is doing (Type=notify units, dist/systemd/): READY=1 once it
 * serves, STOPPING=1 when it drains, WATCHDOG=1 while its loop turns.
 *
 * This is the sd_notify(3) datagram protocol, which systemd documents as stable: one AF_UNIX SOCK_DGRAM
 * message of "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET (a path, or an abstract name written
 * with a leading '@'). It is a dozen lines, so mlflowd implements it rather than link libsystemd: no
 * build or run-time dependency, and the same binary works with and without systemd (no $NOTIFY_SOCKET:
 * nothing is sent). */
#ifndef MLF_CORE_SDNOTIFY_H
#define MLF_CORE_SDNOTIFY_H

#include <stdint.h>

/** Sends @p state (e.g. "READY=1\nSTATUS=running") to $NOTIFY_SOCKET. The first call takes the variable out
 * of the environment (children must not notify in the daemon's name); call it once early. Returns 1 when
 * sent, 0 when there is no $NOTIFY_SOCKET (not started by systemd), or a positive errno value (a bad
 * socket name, send failed). Not thread-safe: the daemon's main thread calls it. */
int mlf_sd_notify(const char *state);

/** The watchdog interval systemd expects pings within ($WATCHDOG_USEC, when $WATCHDOG_PID is unset or is
 * this process), in microseconds; 0 when there is no watchdog. */
int64_t mlf_sd_watchdog_us(void);

#endif
