/* redact.h -- keeping secrets and oversized text out of what is stored, logged and sent: TI messages are
 * bounded (MLF_TI_MESSAGE_MAX) and secret strings masked as "***" before they leave the process that saw
 * them (doc/security.md). */
#ifndef MLF_CORE_REDACT_H
#define MLF_CORE_REDACT_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** The most bytes of a task instance's message that are stored (and logged, and sent to notifiers); a
 * longer message keeps its first bytes (cut on a UTF-8 boundary) and says how many were dropped. */
#define MLF_TI_MESSAGE_MAX 4096u

/** A copy of @p msg bounded to MLF_TI_MESSAGE_MAX bytes: the whole of it when it fits, else its head and
 * " [... N more bytes truncated]". NULL for a NULL @p msg or out of memory. Free with free(). */
char *mlf_ti_message_bound(const char *msg);

/** A copy of @p text with every occurrence of each of the @p n strings of @p secrets (those of at least 3
 * bytes: masking "a" everywhere destroys text and protects nothing) replaced by "***". NULL for a NULL
 * @p text or out of memory. Free with free(). */
char *mlf_mask_text(const char *text, const char *const *secrets, size_t n);

/** A deep copy of @p v with every string masked as mlf_mask_text() does (map keys kept). NULL on out of
 * memory. Free with mlf_value_free(). */
mlf_value *mlf_mask_value(const mlf_value *v, const char *const *secrets, size_t n);

/** Removes from this process's environment what a task must not inherit from the daemon: connection URIs
 * (MLFLOWD_CONN_*), configuration overrides that may hold secrets (MLFLOWD__*) and the secrets key
 * (MLFLOWD_SECRETS_KEY). The task processes and hosts call it before running anything of a user's. */
void mlf_env_scrub(void);

#endif
