/* ids.c -- the id rule (see ids.h). */
#include "base/ids.h"

#include <stdio.h>
#include <string.h>

static int id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '+' || c == '-';
}

int mlf_id_valid(mlf_id_kind kind, const char *s, char *err, size_t errlen)
{
    static const char *const names[] = {"dag_id", "task_id", "run_id"};
    const char *what = names[kind <= MLF_ID_RUN ? kind : 0];
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "%s is missing", what);
        return 0;
    }
    size_t n = strlen(s);
    int ok = n >= 1 && n <= MLF_ID_MAX && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = id_char((unsigned char)s[i]);
    if (!ok && err && errlen)
        snprintf(err, errlen, "%s '%.*s%s' may hold only letters, digits and _ . : + - (1-%d of them), and may not be "
                 "'.' or '..'", what, 60, s, n > 60 ? "..." : "", MLF_ID_MAX);
    return ok;
}
