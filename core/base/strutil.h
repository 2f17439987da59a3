/* strutil.h -- small string and buffer helpers shared by core modules. */
#ifndef MLF_CORE_STRUTIL_H
#define MLF_CORE_STRUTIL_H

#include <stdarg.h>
#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** A growable byte buffer, always NUL-terminated when data is not NULL. Zero-initialise to start. */
typedef struct mlf_buf {
    char *data;
    size_t len;
    size_t cap;
} mlf_buf;

/** Appends @p n bytes. Returns MLF_OK or MLF_ENOMEM (the buffer is unchanged then). */
int mlf_buf_append(mlf_buf *b, const void *p, size_t n);
/** Appends a NUL-terminated string. */
int mlf_buf_puts(mlf_buf *b, const char *s);
/** Appends printf-formatted text. */
int mlf_buf_printf(mlf_buf *b, const char *fmt, ...) MLF_PRINTF(2, 3);
int mlf_buf_vprintf(mlf_buf *b, const char *fmt, va_list ap) MLF_PRINTF(2, 0);
/** Hands the buffer's string to the caller (free with free(); never NULL unless memory ran out) and
 * resets the buffer. */
char *mlf_buf_steal(mlf_buf *b);
/** Frees the buffer's memory and resets it. */
void mlf_buf_free(mlf_buf *b);

/** A new printf-formatted string (free with free()), or NULL when memory runs out. */
char *mlf_strdup_printf(const char *fmt, ...) MLF_PRINTF(1, 2);

/** Copies @p src into @p dst of size @p size, always NUL-terminating; returns strlen(src). */
size_t mlf_strlcpy(char *dst, const char *src, size_t size);

/** 1 if @p s ends with @p suffix. */
int mlf_str_endswith(const char *s, const char *suffix);

#endif
