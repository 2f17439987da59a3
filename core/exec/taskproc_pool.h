/* taskproc_pool.h -- the daemon's side of the SDK's task-process pool (mlf_taskproc_pool_* in
 * mlflowd/executor.h, declared there; this header adds what only the daemon sets). */
#ifndef MLF_CORE_TASKPROC_POOL_H
#define MLF_CORE_TASKPROC_POOL_H

#include <mlflowd/mlflowd.h>

#include "conf/config.h"

/** Sets the mlflowd binary that pools start as `task-host` / `task-exec` (copied; NULL: the running
 * executable) and the configuration whose task_hosts.* settings shape the pools (borrowed: it must outlive
 * them; NULL: the defaults). Returns MLF_OK or MLF_ENOMEM. Call it before the first pool is created. */
int mlf_taskproc_configure(const char *exe, const mlf_config *cfg);

/** The binary pools start (borrowed; the running executable unless set). */
const char *mlf_taskproc_exe(void);

#endif
