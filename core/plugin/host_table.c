/* host_table.c -- the table of host functions every plugin receives, generated from the SDK's own list
 * (MLF_HOST_FUNCTIONS in sdk/mlflowd/host.h), so that its order is exactly the ABI order. */
#include <mlflowd/mlflowd.h>

#include "plugin/plugin_loader.h"

#define HOST_ENTRY(ret, name, params, args, ret_kw) .name = name,

static const struct mlf_host host_table = {
    .abi_major = MLF_ABI_MAJOR,
    .abi_minor = MLF_ABI_MINOR,
    .struct_size = sizeof(struct mlf_host),
    MLF_HOST_FUNCTIONS(HOST_ENTRY)};

const struct mlf_host *mlf_host_table(void)
{
    return &host_table;
}
