/* replay.c -- runs a libFuzzer target's entry point once on every saved input of its corpus, without libFuzzer,
 * so that `make check` replays tests/fuzz/corpus/NAME with any compiler (and under ASan+UBSan in the sanitizer
 * build). Linked with one fuzz_NAME.c; FUZZ_NAME names its corpus. Exits 0 when every input went through (the
 * target aborts on a broken invariant, the sanitizers on a memory error), 1 when the corpus cannot be read
 * or is empty. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads PATH whole into a fresh buffer (one byte more, so that an empty file still gets one). */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : TEST_SRCDIR "/tests/fuzz/corpus/" FUZZ_NAME;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open the corpus %s\n", dir);
        return 1;
    }
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < sizeof names / sizeof *names)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        uint8_t *data = read_all(path, &len);
        if (!data) {
            fprintf(stderr, "replay: cannot read %s\n", path);
            bad = 1;
        } else {
            printf("replay: %s (%zu bytes)\n", names[i], len);
            fflush(stdout);
            LLVMFuzzerTestOneInput(data, len);
        }
        free(data);
        free(names[i]);
    }
    if (n == 0) {
        fprintf(stderr, "replay: the corpus %s is empty\n", dir);
        return 1;
    }
    printf("replay: %zu inputs of %s went through\n", n, FUZZ_NAME);
    return bad;
}
