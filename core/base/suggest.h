/* suggest.h -- "did you mean": the closest known name to a misspelt one. */
#ifndef MLF_CORE_SUGGEST_H
#define MLF_CORE_SUGGEST_H

#include <stddef.h>

/** Longest word (in bytes) that mlf_suggest() and mlf_edit_distance() compare; longer input is never
 * "a typo" of anything and gets no suggestion. */
#define MLF_SUGGEST_MAX_LEN 256

/** The optimal string alignment distance (Damerau-Levenshtein where a transposed pair of adjacent
 * characters counts as one edit and no substring is edited twice) between @p a and @p b, comparing ASCII
 * letters case-insensitively and bytes otherwise. Returns (size_t)-1 when either string is longer than
 * MLF_SUGGEST_MAX_LEN. */
size_t mlf_edit_distance(const char *a, const char *b);

/** The candidate closest to @p word when it is a plausible typo of it, else NULL.
 *
 * A candidate is plausible when its distance to @p word is at most max(1, strlen(@p word) / 3) and smaller
 * than the length of the longer of the two (so "x" never suggests "y"). Among equally close candidates the
 * first wins. An exact match (ignoring case) is returned too. NULL entries of @p candidates are skipped.
 * The result is a borrowed pointer: one of the @p n elements of @p candidates. */
const char *mlf_suggest(const char *word, const char *const *candidates, size_t n);

#endif
