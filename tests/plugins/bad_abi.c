/* A plugin that claims to be built against a future ABI major. */
#include <mlflowd/mlflowd.h>

static int bad_abi_init(const struct mlf_host *host, mlf_registry *reg)
{
    (void)host;
    (void)reg;
    return MLF_OK;
}

MLF_EXPORT extern const mlf_plugin_info mlf_plugin_entry;
const mlf_plugin_info mlf_plugin_entry = {999, 0, sizeof(mlf_plugin_info), 0, "bad_abi", "1", "wrong ABI",
                                          bad_abi_init, NULL};
