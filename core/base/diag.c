/* diag.c -- lists of positioned user-facing diagnostics. */
#include "base/diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

void mlf_diag_vadd(mlf_diag *d, const char *file, int line, int col, const char *fmt, va_list ap)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        mlf_diag_entry *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return;
        d->v = v;
        d->cap = cap;
    }
    mlf_buf b = {0};
    if (mlf_buf_vprintf(&b, fmt, ap) != MLF_OK) {
        mlf_buf_free(&b);
        return;
    }
    mlf_diag_entry *e = &d->v[d->n];
    e->file = file ? strdup(file) : NULL;
    e->line = line;
    e->col = col;
    e->message = mlf_buf_steal(&b);
    if (!e->message || (file && !e->file)) {
        free(e->file);
        free(e->message);
        return;
    }
    d->n++;
}

void mlf_diag_add(mlf_diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mlf_diag_vadd(d, file, line, col, fmt, ap);
    va_end(ap);
}

char *mlf_diag_format(const mlf_diag *d, size_t i)
{
    const mlf_diag_entry *e = &d->v[i];
    mlf_buf b = {0};
    if (e->file)
        mlf_buf_printf(&b, "%s:", e->file);
    if (e->line > 0)
        mlf_buf_printf(&b, "%d:", e->line);
    if (e->line > 0 && e->col > 0)
        mlf_buf_printf(&b, "%d:", e->col);
    if (b.len)
        mlf_buf_puts(&b, " ");
    mlf_buf_puts(&b, e->message);
    return mlf_buf_steal(&b);
}

void mlf_diag_print(const mlf_diag *d, const char *prefix)
{
    for (size_t i = 0; i < d->n; i++) {
        char *s = mlf_diag_format(d, i);
        fprintf(stderr, "%s%s\n", prefix ? prefix : "", s ? s : d->v[i].message);
        free(s);
    }
}

void mlf_diag_clear(mlf_diag *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].message);
    }
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}
