/* libFuzzer target for the DAG parser: any bytes as a DAG file. It must never crash, leak or hang; a DAG
 * it accepts must be consistent (every edge within the task table, a topological order covering all). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dag/dag_parser.h"
#include "plugin/plugin_loader.h"

static mlf_catalog *cat;
static mlf_dag_parser *parser;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cat = mlf_catalog_new();
    const char *paths[] = {MLF_BUILD_PLUGINDIR};
    const char *names[] = {"*"};
    mlf_diag errs = {0};
    mlf_plugins_load(cat, paths, 1, names, 1, &errs); /* without plugins every operator is unknown: still useful */
    mlf_diag_clear(&errs);
    parser = mlf_dag_parser_new(cat);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlf_dag *dag = NULL;
    mlf_diag diag = {0};
    int rc = mlf_dag_parse_buffer(parser, (const char *)data, size, "fuzz.yaml", &dag, &diag);
    if (rc == MLF_OK) {
        if (!dag || diag.n)
            abort();
        for (size_t i = 0; i < dag->ntasks; i++) {
            for (size_t j = 0; j < dag->tasks[i].ndownstream; j++)
                if (dag->tasks[i].downstream[j] >= dag->ntasks)
                    abort();
            if (dag->topo[i] >= dag->ntasks)
                abort();
        }
    } else if (dag || diag.n == 0) {
        abort(); /* a refusal always says why */
    }
    mlf_dag_free(dag);
    mlf_diag_clear(&diag);
    return 0;
}
