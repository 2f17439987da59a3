/* task_host.h -- `mlflowd task-host`: a long-lived process that runs tries one after another, in-process,
 * for a host pool (host_pool.h).
 *
 * It reads TASK SPEC frames from its input and answers each with one frame on its output (task_spec.h's
 * frames, the very bytes `mlflowd task-exec` reads and writes):
 * - a TASK RESULT frame, after running the try with mlf_task_run_hosted(): the plugin stays loaded for the
 *   next tries, the try's stdout and stderr go to its log, SIGTERM cancels the running try;
 * - an EMPTY frame (length 0) when the operator is flagged MLF_OP_ISOLATED: nothing was run or logged, the
 *   pool must run the try in a fresh `mlflowd task-exec` process.
 * Between tries it restores its working directory, and it kills (SIGKILL) and reaps every process the try
 * left behind before it answers (it is a child subreaper, so a `sleep 1000 &` orphaned by a shell command
 * comes back to it): a try's processes never outlive it. It exits 0 at the end of its input: that is how
 * a pool retires it.
 */
#ifndef MLF_CORE_TASK_HOST_H
#define MLF_CORE_TASK_HOST_H

#include <stddef.h>

/**
 * The body of `mlflowd task-host`: serves spec frames from @p in_fd with answers on @p out_fd until the
 * input ends. Both descriptors are made close-on-exec (an operator's children never see them), and stdin
 * becomes /dev/null.
 *
 * Returns the process exit code: 0 at a clean end of input, 2 when the input was not a spec frame
 * (truncated, too big, not msgpack, no attempt token), 1 when an answer could not be written or memory
 * ran out; on a non-zero code the reason is in @p err (may be NULL when @p errlen is 0).
 */
int mlf_task_host_main(int in_fd, int out_fd, char *err, size_t errlen);

#endif
