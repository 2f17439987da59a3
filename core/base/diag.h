/* diag.h -- a list of user-facing diagnostics ("file:line:col: message"), so that one bad input reports
 * every problem it has instead of only the first. */
#ifndef MLF_CORE_DIAG_H
#define MLF_CORE_DIAG_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

typedef struct mlf_diag_entry {
    char *file;    /**< may be NULL */
    int line, col; /**< 1-based; 0 when unknown */
    char *message;
} mlf_diag_entry;

/** A growable list of diagnostics. Zero-initialise; release with mlf_diag_clear(). */
typedef struct mlf_diag {
    mlf_diag_entry *v;
    size_t n, cap;
} mlf_diag;

/** Appends one diagnostic (strings copied). Memory exhaustion drops the entry silently and counts it as
 * "out of memory" in the last slot when possible: diagnostics must never make things worse. */
void mlf_diag_add(mlf_diag *d, const char *file, int line, int col, const char *fmt, ...) MLF_PRINTF(5, 6);
void mlf_diag_vadd(mlf_diag *d, const char *file, int line, int col, const char *fmt, va_list ap) MLF_PRINTF(5, 0);

/** Formats entry @p i as "file:line:col: message" (parts omitted when unknown). New string: free(). */
char *mlf_diag_format(const mlf_diag *d, size_t i);

/** Writes every entry, one per line, prefixed by @p prefix (may be NULL), to stderr. */
void mlf_diag_print(const mlf_diag *d, const char *prefix);

/** Frees every entry and resets the list. */
void mlf_diag_clear(mlf_diag *d);

#endif
