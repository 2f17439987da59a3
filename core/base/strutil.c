/* strutil.c -- growable buffers and small string helpers. */
#include "base/strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for @p extra more bytes plus the terminating NUL. */
static int buf_reserve(mlf_buf *b, size_t extra)
{
    if (extra > ((size_t)-1) / 2 - b->len)
        return MLF_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return MLF_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return MLF_ENOMEM;
    b->data = d;
    b->cap = cap;
    return MLF_OK;
}

int mlf_buf_append(mlf_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != MLF_OK)
        return MLF_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return MLF_OK;
}

int mlf_buf_puts(mlf_buf *b, const char *s)
{
    return mlf_buf_append(b, s, strlen(s));
}

int mlf_buf_vprintf(mlf_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return MLF_EINVAL;
    if (buf_reserve(b, (size_t)n) != MLF_OK)
        return MLF_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return MLF_OK;
}

int mlf_buf_printf(mlf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mlf_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *mlf_buf_steal(mlf_buf *b)
{
    char *s = b->data ? b->data : strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void mlf_buf_free(mlf_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *mlf_strdup_printf(const char *fmt, ...)
{
    mlf_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    int rc = mlf_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc != MLF_OK) {
        mlf_buf_free(&b);
        return NULL;
    }
    return mlf_buf_steal(&b);
}

size_t mlf_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int mlf_str_endswith(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}
