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
