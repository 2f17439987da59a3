/* notify.h -- callbacks (on_failure_callback & co.) run notifier plugins in a short-lived child process, so
 * that a slow SMTP server or webhook never blocks the scheduler loop. */
#ifndef MLF_CORE_NOTIFY_H
#define MLF_CORE_NOTIFY_H

#include <sys/types.h>

#include <mlflowd/mlflowd.h>

/** Starts `EXE notify` and hands it (on its stdin, one length-prefixed msgpack frame) the plugin file, the
 * notifier's name, its configuration (a map) and the event (a map). Never blocks and never raises SIGPIPE
 * in the caller: the frame goes into a pipe grown to hold it, written without blocking with SIGPIPE held.
 * (A pipe that cannot take the frame whole is logged; the child then fails on the truncated frame.)
 * Does not wait: the caller reaps *@p pid with waitpid(). Errors: MLF_ENOMEM, MLF_ETOOBIG (the frame is
 * above the 1 MiB the child accepts: nothing started), an errno value from posix_spawn or pipe. */
int mlf_notify_spawn(const char *exe, const char *plugin_path, const char *notifier, const mlf_value *config,
                     const mlf_value *event, pid_t *pid);

/** The `notify` verb: reads the frame from @p in_fd, loads the plugin and calls its notifier. Returns 0, or
 * 1 with a message in @p err (the notifier's own reason when it failed). */
int mlf_notify_main(int in_fd, char *err, size_t errlen);

#endif
