/* suggest.c -- optimal string alignment distance and the "did you mean" pick built on it. */
#include "base/suggest.h"

#include <string.h>

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t mlf_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > MLF_SUGGEST_MAX_LEN || lb > MLF_SUGGEST_MAX_LEN)
        return (size_t)-1;
    /* Three rolling rows of the (la+1) x (lb+1) table: i-2, i-1 and i. */
    size_t rows[3][MLF_SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        unsigned char ca = fold((unsigned char)a[i - 1]);
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned char cb = fold((unsigned char)b[j - 1]);
            size_t cost = ca == cb ? 0 : 1;
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && ca == fold((unsigned char)b[j - 2]) &&
                fold((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *mlf_suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t wl = strlen(word);
    if (wl > MLF_SUGGEST_MAX_LEN)
        return NULL;
    size_t limit = wl / 3 > 1 ? wl / 3 : 1;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c)
            continue;
        size_t d = mlf_edit_distance(word, c);
        size_t cl = strlen(c);
        size_t longer = cl > wl ? cl : wl;
        if (d <= limit && d < longer && d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}
