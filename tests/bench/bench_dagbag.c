/* bench_dagbag -- how fast the DAG bag loads a large folder.
 *
 *   bench_dagbag [FILES [TASKS]]     (default 1000 files of 100 tasks)
 *
 * Generates FILES DAG files of TASKS tasks each in a temporary folder (a mix of shell tasks with templated
 * commands, empty joins, retries and trigger rules, each task depending on one to three earlier ones), then
 * measures a cold load (parse + validate everything), a refresh of the unchanged folder (one stat per
 * file), and a refresh after touching one file. Prints wall and CPU time; no assertions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dag/dagbag.h"
#include "base/diag.h"
#include "plugin/plugin_loader.h"
#include "base/strutil.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void write_dag(const char *dir, int f, int ntasks)
{
    char path[512];
    snprintf(path, sizeof path, "%s/dag_%04d.yaml", dir, f);
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        exit(1);
    }
    fprintf(out, "dag_id: bench_%04d\nschedule: \"%d * * * *\"\nstart_date: 2024-01-01\ncatchup: false\n"
                 "params: {dir: /tmp/bench, n: %d}\ndefault_args: {retries: 1, retry_delay: 30s}\ntasks:\n",
            f, f % 60, f);
    unsigned seed = (unsigned)f * 2654435761u;
    for (int t = 0; t < ntasks; t++) {
        fprintf(out, "  t%03d:\n", t);
        if (t % 10 == 9) {
            fprintf(out, "    operator: empty\n    trigger_rule: all_done\n");
        } else {
            fprintf(out, "    operator: shell\n    command: \"echo {{ ds }} {{ params.dir }}/%d-%d {{ run_id }}\"\n", f, t);
            if (t % 7 == 3)
                fprintf(out, "    execution_timeout: 10m\n    retries: 3\n");
        }
        if (t > 0) {
            int nup = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3;
            fprintf(out, "    upstream: [");
            for (int u = 0; u < nup; u++) {
                int up = (int)((seed = seed * 1103515245u + 12345u) >> 16) % t;
                fprintf(out, "%st%03d", u ? ", " : "", up);
            }
            fprintf(out, "]\n");
        }
    }
    fclose(out);
}

int main(int argc, char **argv)
{
    int nfiles = argc > 1 ? atoi(argv[1]) : 1000;
    int ntasks = argc > 2 ? atoi(argv[2]) : 100;
    char dir[] = "/tmp/mlf-bench-bag-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int f = 0; f < nfiles; f++)
        write_dag(dir, f, ntasks);

    mlf_catalog *cat = mlf_catalog_new();
    const char *paths[] = {MLF_BUILD_PLUGINDIR};
    const char *names[] = {"shell", "empty"};
    mlf_diag errs = {0};
    if (mlf_plugins_load(cat, paths, 1, names, 2, &errs) != 0) {
        mlf_diag_print(&errs, "bench: ");
        return 1;
    }

    mlf_dagbag *bag = mlf_dagbag_new(dir, cat);
    size_t changed = 0;
    double w0 = now_s(), c0 = cpu_s();
    mlf_dagbag_refresh(bag, &changed);
    double w1 = now_s(), c1 = cpu_s();
    size_t ndags = mlf_dagbag_count(bag), nerr = mlf_dagbag_errors(bag)->n;
    mlf_dagbag_refresh(bag, NULL);
    double w2 = now_s();
    char touched[600];
    snprintf(touched, sizeof touched, "%s/dag_%04d.yaml", dir, nfiles / 2);
    FILE *f = fopen(touched, "a");
    fputs("# touched\n", f);
    fclose(f);
    double w3 = now_s();
    size_t changed2 = 0;
    mlf_dagbag_refresh(bag, &changed2);
    double w4 = now_s();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("dagbag: %d files x %d tasks = %d tasks\n", nfiles, ntasks, nfiles * ntasks);
    printf("  cold load:          %8.3f s wall, %8.3f s cpu (%zu DAGs, %zu import errors)\n", w1 - w0, c1 - c0, ndags, nerr);
    printf("  per task:           %8.2f us\n", (w1 - w0) * 1e6 / (nfiles * (double)ntasks));
    printf("  unchanged refresh:  %8.3f ms\n", (w2 - w1) * 1e3);
    printf("  one file changed:   %8.3f ms (%zu re-parsed)\n", (w4 - w3) * 1e3, changed2);
    printf("  peak RSS:           %8.1f MiB\n", ru.ru_maxrss / 1024.0);
    if (nerr)
        mlf_diag_print(mlf_dagbag_errors(bag), "  error: ");

    mlf_dagbag_free(bag);
    mlf_catalog_free(cat);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return nerr ? 1 : 0;
}
