/* notifiers.h -- the notifiers of the `notifiers` plugin and what they share. Plugin-internal. */
#ifndef MLF_PLUGIN_NOTIFIERS_H
#define MLF_PLUGIN_NOTIFIERS_H

#include <mlflowd/mlflowd.h>

extern const mlf_notifier_desc notifier_webhook; /**< POSTs the event as JSON (webhook.c) */
extern const mlf_notifier_desc notifier_email;   /**< mails the event over SMTP (email.c) */

/** The string @p key of @p config (borrowed), @p dflt when absent. Returns MLF_OK, or MLF_EINVAL after
 * writing "NOTIFIER: KEY must be a string" into @p errbuf. */
int notifier_str(const mlf_value *config, const char *notifier, const char *key, const char *dflt,
                 const char **out, char *errbuf, size_t errlen);

/** The duration @p key of @p config in µs (durations arrive as int µs), @p dflt when absent. Returns MLF_OK,
 * or MLF_EINVAL after writing why into @p errbuf (not an int, negative). */
int notifier_duration(const mlf_value *config, const char *notifier, const char *key, int64_t dflt, int64_t *out,
                      char *errbuf, size_t errlen);

#endif
