/* secrets_key.h -- the secrets key's file and text forms (the key that seals secrets in the state store;
 * store.h, doc/security.md): 64 hexadecimal digits, in a file of mode 0600 or in the environment. */
#ifndef MLF_CORE_SECRETS_KEY_H
#define MLF_CORE_SECRETS_KEY_H

#include <stddef.h>

#include "store/store.h"

/** Parses @p text (64 hexadecimal digits, surrounding white space ignored) into @p key
 * (MLF_STORE_SECRETS_KEY_LEN bytes). Errors: MLF_EINVAL (NULL), MLF_EPARSE (not 64 hex digits). */
int mlf_secrets_key_parse(const char *text, unsigned char *key);

/** Reads the key file @p path into @p key: the first line that is not a comment ('#') holds the key. The
 * file must be a regular file owned by this user (or root) that neither group nor others can read or
 * write (as zmq_auth.h's mlf_key_file_check()). Errors: an errno value (ENOENT: no such file; EACCES: the
 * permissions, with the fix in @p err), MLF_EPARSE (no key in it); @p err says which file and why. */
int mlf_secrets_key_read(const char *path, unsigned char *key, char *err, size_t errlen);

/** Writes @p key to a new file @p path (mode 0600, synced; its folder is made with mode 0700 when missing).
 * An existing file is replaced only with @p replace (through a temporary file and rename(), so that the old
 * key stays whole until the new one is). Errors: MLF_EEXIST, an errno value; @p err says why. */
int mlf_secrets_key_write(const char *path, const unsigned char *key, int replace, char *err, size_t errlen);

/** Generates a new random key into @p key. */
void mlf_secrets_key_generate(unsigned char *key);

#endif
