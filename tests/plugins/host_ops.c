/* Operators for the task-host tests: which process runs a try ("whoami"), an operator that must run in a
 * fresh process ("isolated", MLF_OP_ISOLATED), one that grows its process ("bloat"), one that prints with
 * stdio and changes directory ("printer"): what a long-lived host must contain between tries. */
#include <mlflowd/mlflowd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mlf_outcome push_pids(mlf_task_ctx *ctx)
{
    int rc = mlf_ctx_xcom_push(ctx, "pid", mlf_value_int(getpid()));
    if (rc == MLF_OK)
        rc = mlf_ctx_xcom_push(ctx, "ppid", mlf_value_int(getppid()));
    return rc == MLF_OK ? MLF_SUCCESS : MLF_FAILED;
}

static mlf_outcome whoami_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    return push_pids(ctx);
}

/* Allocates and touches `mib` MiB it never frees (kept reachable, so the compiler cannot drop them). */
static char *hoard;

static mlf_outcome bloat_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    int64_t mib = 0;
    mlf_value_get_int(mlf_ctx_param(ctx, "mib"), &mib);
    char *p = malloc((size_t)mib * 1024 * 1024 + 1);
    if (!p)
        return MLF_FAILED;
    memset(p, 1, (size_t)mib * 1024 * 1024);
    p[(size_t)mib * 1024 * 1024] = (char)(hoard != NULL);
    hoard = p;
    return push_pids(ctx);
}

/* Prints through stdio without a newline or a flush, and leaves the working directory elsewhere. */
static mlf_outcome printer_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    char cwd[4096] = "";
    if (!getcwd(cwd, sizeof cwd))
        return MLF_FAILED;
    printf("printed-by-%s", mlf_ctx_task_id(ctx));
    if (chdir("/") != 0)
        return MLF_FAILED;
    return mlf_ctx_xcom_push(ctx, "cwd", mlf_value_str(cwd)) == MLF_OK ? MLF_SUCCESS : MLF_FAILED;
}

#define OP(n, f, fl) {.struct_size = sizeof(mlf_operator_desc), .name = n, .help = n, .flags = fl, .execute = f}
static const mlf_operator_desc ops[] = {
    OP("whoami", whoami_execute, 0),
    OP("isolated", whoami_execute, MLF_OP_ISOLATED),
    OP("bloat", bloat_execute, 0),
    OP("printer", printer_execute, 0),
};

static int host_ops_init(mlf_registry *reg)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        int rc = mlf_register_operator(reg, &ops[i]);
        if (rc != MLF_OK)
            return rc;
    }
    return MLF_OK;
}

MLF_PLUGIN("host_ops", "1.0.0", "Operators that show which process runs a try", host_ops_init, NULL);
