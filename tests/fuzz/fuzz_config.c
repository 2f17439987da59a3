/* libFuzzer target for the configuration file (core/conf/config.c with the YAML loader): any bytes as
 * mlflowd.yaml, read with an empty environment. It must never crash, leak or hang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/config.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/mlf-fuzz-config-%ld.yaml", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    static const char *const envp[] = {NULL};
    mlf_config_args args = {.config_file = path, .home = "/tmp/mlf-fuzz-home", .envp = envp};
    mlf_config *cfg = NULL;
    char *errors = NULL;
    if (mlf_config_load(&args, &cfg, &errors) == MLF_OK)
        (void)mlf_config_str(cfg, "executor");
    free(errors);
    mlf_config_free(cfg);
    return 0;
}
