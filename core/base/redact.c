/* redact.c -- bounded TI messages and secret masking (see redact.h). */
#include "base/redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mlf_ti_message_bound(const char *msg)
{
    if (!msg)
        return NULL;
    size_t len = strlen(msg);
    if (len <= MLF_TI_MESSAGE_MAX)
        return strdup(msg);
    size_t keep = MLF_TI_MESSAGE_MAX - 64; /* room for the note */
    while (keep > 0 && ((unsigned char)msg[keep] & 0xc0) == 0x80) /* not inside a UTF-8 sequence */
        keep--;
    char *out = malloc(MLF_TI_MESSAGE_MAX + 1);
    if (!out)
        return NULL;
    memcpy(out, msg, keep);
    snprintf(out + keep, MLF_TI_MESSAGE_MAX + 1 - keep, " [... %zu more bytes truncated]", len - keep);
    return out;
}

mlf_value *mlf_mask_value(const mlf_value *v, const char *const *secrets, size_t n)
{
    switch (mlf_value_type(v)) {
    case MLF_STR: {
        char *m = mlf_mask_text(mlf_value_get_str(v, NULL), secrets, n);
        mlf_value *out = m ? mlf_value_str(m) : NULL;
        free(m);
        return out;
    }
    case MLF_ARRAY: {
        mlf_value *out = mlf_value_array();
        for (size_t i = 0; out && i < mlf_value_len(v); i++) {
            mlf_value *item = mlf_mask_value(mlf_array_at(v, i), secrets, n);
            if (!item || mlf_array_append(out, item) != MLF_OK) {
                mlf_value_free(out);
                return NULL;
            }
        }
        return out;
    }
    case MLF_MAP: {
        mlf_value *out = mlf_value_map();
        for (size_t i = 0; out && i < mlf_value_len(v); i++) {
            mlf_value *item = mlf_mask_value(mlf_map_value_at(v, i), secrets, n);
            if (!item || mlf_map_set(out, mlf_map_key_at(v, i), item) != MLF_OK) {
                mlf_value_free(out);
                return NULL;
            }
        }
        return out;
    }
    default:
        return mlf_value_copy(v);
    }
}

extern char **environ;

void mlf_env_scrub(void)
{
    for (size_t i = 0; environ && environ[i];) {
        const char *e = environ[i];
        if (strncmp(e, "MLFLOWD_CONN_", 13) == 0 || strncmp(e, "MLFLOWD__", 9) == 0 ||
            strncmp(e, "MLFLOWD_SECRETS_KEY=", 20) == 0 ||
            strncmp(e, "MLFLOWD_NEW_SECRETS_KEY=", 24) == 0) {
            char name[256];
            size_t n = strcspn(e, "=");
            snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), e);
            if (unsetenv(name) == 0)
                continue; /* the array shrank: look at index i again */
        }
        i++;
    }
}

char *mlf_mask_text(const char *text, const char *const *secrets, size_t n)
{
    if (!text)
        return NULL;
    char *cur = strdup(text);
    for (size_t i = 0; cur && i < n; i++) {
        const char *s = secrets[i];
        size_t sl = s ? strlen(s) : 0;
        if (sl < 3)
            continue;
        size_t hits = 0;
        for (const char *p = strstr(cur, s); p; p = strstr(p + sl, s))
            hits++;
        if (!hits)
            continue;
        size_t len = strlen(cur);
        char *out = malloc(len - hits * sl + hits * 3 + 1), *o = out;
        if (!out) {
            free(cur);
            return NULL;
        }
        const char *p = cur, *hit;
        while ((hit = strstr(p, s))) {
            memcpy(o, p, (size_t)(hit - p));
            o += hit - p;
            memcpy(o, "***", 3);
            o += 3;
            p = hit + sl;
        }
        strcpy(o, p);
        free(cur);
        cur = out;
    }
    return cur;
}
