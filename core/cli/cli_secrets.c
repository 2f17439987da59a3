/* cli_secrets.c -- the secrets key of the state store as the commands see it: where it comes from (the
 * core.secrets_key setting, else the core.secrets_key_file, made on the first start) and `mlflowd db
 * rotate-key` (doc/security.md, "Secrets at rest"). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/log.h"
#include "base/strutil.h"
#include "store/secrets_key.h"
#include "store/store.h"

#define KEY_SETTING "core.secrets_key"
#define FILE_SETTING "core.secrets_key_file"

/* Where the key of this configuration comes from, for messages ("MLFLOWD__CORE__SECRETS_KEY", a file). */
static const char *key_origin(mlf_cli *cli)
{
    const char *text = mlf_config_str(cli->cfg, KEY_SETTING);
    if (text && *text) {
        const char *o = mlf_config_origin(cli->cfg, KEY_SETTING);
        return o ? o : KEY_SETTING;
    }
    return mlf_config_str(cli->cfg, FILE_SETTING);
}

/* Loads the configured key into @p key: 1 loaded, 0 no key (the file is missing and @p st, when not NULL,
 * seals nothing yet; with @p create the file is made instead), or an exit code after printing why. */
static int load_key(mlf_cli *cli, mlf_store *st, int create, unsigned char *key)
{
    char err[512] = "";
    const char *text = mlf_config_str(cli->cfg, KEY_SETTING);
    const char *file = mlf_config_str(cli->cfg, FILE_SETTING);
    if (text && *text) {
        if (mlf_secrets_key_parse(text, key) != MLF_OK)
            return mlf_cli_fail(MLF_EXIT_USAGE, "%s (%s): not a secrets key: 64 hexadecimal digits expected",
                                KEY_SETTING, key_origin(cli));
        return 1;
    }
    if (!file || !*file)
        return mlf_cli_fail(MLF_EXIT_USAGE, "neither %s nor %s is set", KEY_SETTING, FILE_SETTING);
    int rc = mlf_secrets_key_read(file, key, err, sizeof err);
    if (rc == MLF_OK)
        return 1;
    if (rc != ENOENT)
        return mlf_cli_fail(MLF_EXIT_FAILED, "secrets key: %s", err);
    int sealed = st ? mlf_store_secrets_sealed(st) : 0;
    if (sealed > 0)
        return mlf_cli_fail(MLF_EXIT_FAILED, "secrets key: %s does not exist, but the state store holds secrets "
                            "sealed with a key: restore that file (or set MLFLOWD__CORE__SECRETS_KEY); "
                            "doc/security.md", file);
    if (!create)
        return 0;
    mlf_secrets_key_generate(key);
    rc = mlf_secrets_key_write(file, key, 0, err, sizeof err);
    if (rc == MLF_EEXIST) /* another process made it meanwhile: use theirs */
        rc = mlf_secrets_key_read(file, key, err, sizeof err);
    else if (rc == MLF_OK)
        mlf_log(MLF_LOG_INFO, "store", "created the secrets key %s (mode 0600): back it up apart from the state "
                "store", file);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "secrets key: %s", err);
    return 1;
}

int mlf_cli_store_secrets(mlf_cli *cli, mlf_store *st)
{
    unsigned char key[MLF_STORE_SECRETS_KEY_LEN];
    int got = load_key(cli, st, 1, key);
    if (got != 1)
        return got ? got : MLF_EXIT_OK;
    char err[512] = "";
    int rc = mlf_store_secrets_key(st, key, err, sizeof err);
    sodium_memzero(key, sizeof key);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "%s (key from %s)", *err ? err : mlf_strerror(rc), key_origin(cli));
    return MLF_EXIT_OK;
}

/* `db rotate-key`. With the key in a file: the new key goes to FILE.new, the old one is copied to FILE.old,
 * the store is re-sealed in one commit, FILE.new replaces FILE, and FILE.old is removed. With the key in
 * the environment, the new one comes from MLFLOWD_NEW_SECRETS_KEY and the operator swaps the variables. */
int mlf_cmd_db_rotate_key(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 0); /* attaches the current key: a wrong one stops here */
    if (!st)
        return MLF_EXIT_FAILED;
    const char *text = mlf_config_str(cli->cfg, KEY_SETTING);
    const char *file = mlf_config_str(cli->cfg, FILE_SETTING);
    int from_env = text && *text;
    unsigned char old_key[MLF_STORE_SECRETS_KEY_LEN], new_key[MLF_STORE_SECRETS_KEY_LEN];
    char err[512] = "";
    char *newf = mlf_strdup_printf("%s.new", file), *oldf = mlf_strdup_printf("%s.old", file);
    if (!newf || !oldf) {
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
        goto out;
    }
    if (from_env) {
        const char *nk = getenv("MLFLOWD_NEW_SECRETS_KEY");
        if (!nk || mlf_secrets_key_parse(nk, new_key) != MLF_OK) {
            rc = mlf_cli_fail(MLF_EXIT_USAGE, "db rotate-key: the key comes from %s, so give the new one (64 hex "
                              "digits, such as `openssl rand -hex 32`) in MLFLOWD_NEW_SECRETS_KEY",
                              key_origin(cli));
            goto out;
        }
    } else {
        if ((rc = load_key(cli, st, 0, old_key)) != 1) {
            rc = rc ? rc : mlf_cli_fail(MLF_EXIT_FAILED, "db rotate-key: %s does not exist", file);
            goto out;
        }
        mlf_secrets_key_generate(new_key);
        /* the old key stays readable as FILE.old until the store is re-sealed and FILE is replaced */
        unlink(oldf);
        unlink(newf);
        if ((rc = mlf_secrets_key_write(oldf, old_key, 0, err, sizeof err)) != MLF_OK ||
            (rc = mlf_secrets_key_write(newf, new_key, 0, err, sizeof err)) != MLF_OK) {
            rc = mlf_cli_fail(MLF_EXIT_FAILED, "db rotate-key: %s; nothing changed", err);
            goto out;
        }
    }
    size_t n = 0;
    rc = mlf_store_secrets_rotate(st, new_key, &n, err, sizeof err);
    if (rc != MLF_OK) {
        if (!from_env) {
            unlink(newf);
            unlink(oldf);
        }
        rc = mlf_cli_fail(MLF_EXIT_FAILED, "db rotate-key: %s", err);
        goto out;
    }
    if (!from_env) {
        if (rename(newf, file) != 0) {
            rc = mlf_cli_fail(MLF_EXIT_FAILED, "db rotate-key: the store is re-sealed under the key in %s, but it "
                              "cannot replace %s: %s. Move it there by hand (the old key is kept in %s)", newf,
                              file, strerror(errno), oldf);
            goto out;
        }
        unlink(oldf);
        fprintf(cli->out, "Re-sealed %zu secret record(s) under a new key, now in %s\n", n, file);
    } else {
        fprintf(cli->out, "Re-sealed %zu secret record(s) under the key of MLFLOWD_NEW_SECRETS_KEY: set "
                "MLFLOWD__CORE__SECRETS_KEY to it for every mlflowd process of this home\n", n);
    }
    rc = MLF_EXIT_OK;
out:
    sodium_memzero(old_key, sizeof old_key);
    sodium_memzero(new_key, sizeof new_key);
    free(newf);
    free(oldf);
    mlf_store_close(st);
    return rc;
}
