/* taskproc_pool.h -- the daemon's side of the SDK's task-process pool (mlf_taskproc_pool_* in
 * mlflowd/executor.h, declared there; this header adds what only the daemon sets). */
#ifndef MLF_CORE_TASKPROC_POOL_H
#define MLF_CORE_TASKPROC_POOL_H

#include <mlflowd/mlflowd.h>

/** Sets the mlflowd binary that pools start as `task-exec` (copied; NULL: the running executable).
 * Returns MLF_OK or MLF_ENOMEM. Call it before the first pool is created. */
int mlf_taskproc_set_exe(const char *exe);

/** The binary pools start (borrowed; the running executable unless set). */
const char *mlf_taskproc_exe(void);

#endif
