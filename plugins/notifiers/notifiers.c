/* notifiers -- the `webhook` and `email` notifiers (on_failure_callback and co.), over libcurl.
 * See doc/notifiers.md. */
#include "notifiers.h"

#include <stdio.h>

#include "http_client.h"

int notifier_str(const mlf_value *config, const char *notifier, const char *key, const char *dflt,
                 const char **out, char *errbuf, size_t errlen)
{
    const mlf_value *v = mlf_map_get(config, key);
    *out = v ? mlf_value_get_str(v, NULL) : dflt;
    if (v && !*out) {
        snprintf(errbuf, errlen, "%s: %s must be a string, not %s", notifier, key, mlf_type_name(mlf_value_type(v)));
        return MLF_EINVAL;
    }
    return MLF_OK;
}

int notifier_duration(const mlf_value *config, const char *notifier, const char *key, int64_t dflt, int64_t *out,
                      char *errbuf, size_t errlen)
{
    const mlf_value *v = mlf_map_get(config, key);
    *out = dflt;
    if (v && (mlf_value_get_int(v, out) != MLF_OK || *out < 0)) {
        snprintf(errbuf, errlen, "%s: %s must be a non-negative duration", notifier, key);
        return MLF_EINVAL;
    }
    return MLF_OK;
}

static int notifiers_init(mlf_registry *reg)
{
    if (httpc_global_init() != MLF_OK) {
        mlf_registry_error(reg, "libcurl failed to initialise");
        return MLF_EPLUGIN;
    }
    int rc = mlf_register_notifier(reg, &notifier_webhook);
    if (rc == MLF_OK)
        rc = mlf_register_notifier(reg, &notifier_email);
    if (rc != MLF_OK)
        httpc_global_cleanup();
    return rc;
}

MLF_PLUGIN("notifiers", MLF_VERSION_STRING, "The webhook and email notifiers (libcurl)", notifiers_init,
           httpc_global_cleanup);
