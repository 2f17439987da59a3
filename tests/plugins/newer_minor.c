/* A plugin built against a newer ABI minor than the daemon's, which needs that minor (it never checks
 * MLF_HOST_HAS()): the loader must refuse it, naming both versions. */
#include <mlflowd/mlflowd.h>

static int newer_minor_init(const struct mlf_host *host, mlf_registry *reg)
{
    (void)host;
    (void)reg;
    return MLF_OK;
}

MLF_EXPORT extern const mlf_plugin_info mlf_plugin_entry;
const mlf_plugin_info mlf_plugin_entry = {MLF_ABI_MAJOR,     MLF_ABI_MINOR + 1, sizeof(mlf_plugin_info),
                                          MLF_ABI_MINOR + 1, "newer_minor",     "1",
                                          "needs a newer daemon", newer_minor_init, NULL};
