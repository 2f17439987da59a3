/* exec_host.h -- what executors built into the daemon may ask of their mlf_exec_host beyond the SDK. */
#ifndef MLF_CORE_EXEC_HOST_H
#define MLF_CORE_EXEC_HOST_H

#include <mlflowd/mlflowd.h>

#include "conf/config.h"

/** The configuration the executor was opened with (borrowed), or NULL for a NULL @p host. */
const mlf_config *mlf_exec_host_config(const mlf_exec_host *host);

/** The zmq executor as a descriptor of the executor ABI (static storage). */
const mlf_executor_desc *mlf_zmq_executor_desc(void);

#endif
