/* libFuzzer target for the webserver's parsers of untrusted input (core/web/web_parse.c): query values
 * (numbers, booleans, limit/offset pages), Cookie headers and JSON request bodies. The first byte picks the
 * parser; each either accepts with a result in range or refuses with a documented error, never reading
 * outside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input after the selector as a NUL-terminated string (cut at the first NUL), and what follows it. */
static char *take(const uint8_t **p, size_t *n)
{
    const uint8_t *nul = memchr(*p, 0, *n);
    size_t len = nul ? (size_t)(nul - *p) : *n;
    char *s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, *p, len);
    s[len] = '\0';
    *p += nul ? len + 1 : len;
    *n -= nul ? len + 1 : len;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0] % 5;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char err[256] = "";
    switch (which) {
    case 0: { /* a number in a query string */
        char *s = take(&p, &n);
        long v = -1;
        int rc = mlf_web_parse_uint(s, 1000, &v);
        if (rc == MLF_OK ? v < 0 || v > 1000 : rc != MLF_EINVAL && rc != MLF_ERANGE)
            abort();
        bool b;
        rc = mlf_web_parse_bool(s, &b);
        if (rc != MLF_OK && rc != MLF_EINVAL)
            abort();
        free(s);
        break;
    }
    case 1: { /* limit and offset */
        char *l = take(&p, &n), *o = take(&p, &n);
        long limit, offset;
        int rc = mlf_web_parse_page(*l ? l : NULL, *o ? o : NULL, &limit, &offset, err, sizeof err);
        if (rc == MLF_OK ? limit < 1 || limit > MLF_WEB_MAX_LIMIT || offset < 0 : rc != MLF_EINVAL || !err[0])
            abort();
        free(l);
        free(o);
        break;
    }
    case 2: { /* a Cookie header */
        char *name = take(&p, &n), *header = take(&p, &n);
        char out[72];
        int rc = mlf_web_cookie(header, name, out, sizeof out);
        if (rc == MLF_OK ? strlen(out) >= sizeof out : rc != MLF_ENOTFOUND && rc != MLF_ETOOBIG)
            abort();
        free(name);
        free(header);
        break;
    }
    default: { /* a JSON body, then the unknown-field check the handlers make */
        json_t *j = NULL;
        int rc = mlf_web_parse_object((const char *)p, n, &j, err, sizeof err);
        if (rc == MLF_OK) {
            if (!json_is_object(j))
                abort();
            rc = mlf_web_only_keys(j, (const char *const[]){"conf", "dag_run_id", "logical_date", NULL}, err,
                                   sizeof err);
            if (rc != MLF_OK && (rc != MLF_EINVAL || !err[0]))
                abort();
            json_decref(j);
        } else if (rc != MLF_EPARSE || j || !err[0]) {
            abort();
        }
        break;
    }
    }
    return 0;
}
