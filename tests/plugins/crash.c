/* A test plugin whose operator crashes its task process with a real SIGSEGV (the executor tests check that
 * the daemon survives and reports "killed by signal 11"). It writes to a page mapped without access rather
 * than through NULL, so that UndefinedBehaviorSanitizer builds crash the same way as production ones. */
#include <mlflowd/mlflowd.h>

#include <sys/mman.h>

static mlf_outcome crash_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    mlf_ctx_log(ctx, MLF_LOG_INFO, "about to crash");
    volatile int *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return MLF_FAILED;
    *page = 42;
    return MLF_SUCCESS;
}

static const mlf_operator_desc crash_op = {.struct_size = sizeof(mlf_operator_desc), .name = "crash",
                                           .help = "Writes to an inaccessible page.", .execute = crash_execute};

static int crash_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &crash_op);
}

MLF_PLUGIN("crash", "1.0.0", "A test plugin that crashes its task process", crash_init, NULL);
