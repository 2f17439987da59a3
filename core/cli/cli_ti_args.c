/* cli_ti_args.c -- the task instance a `tasks` command names: DAG_ID TASK_ID RUN, RUN a run id or a logical
 * date, as Airflow's LOGICAL_DATE_OR_RUN_ID (see cli.h). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "time/timefmt.h"

/* A foreach callback: the first run seen (its id into *ud, a new string), then stop. */
static int take_first(void *ud, const mlf_run_rec *rec)
{
    char **run_id = ud;
    *run_id = strdup(rec->run_id);
    return MLF_STORE_STOP;
}

/* The run @p text names in @p dag_id: its id, or its logical date. A new string, or NULL. */
static char *find_run(mlf_store_txn *txn, const char *dag_id, const char *text)
{
    mlf_run_rec run;
    mlf_run_rec_init(&run);
    int found = mlf_store_run_get(txn, dag_id, text, &run) == MLF_OK;
    mlf_run_rec_clear(&run);
    if (found)
        return strdup(text);
    mlf_time_us t;
    char err[160];
    if (mlf_time_parse(text, NULL, &t, err, sizeof err) != MLF_OK)
        return NULL;
    char *run_id = NULL;
    mlf_store_run_foreach(txn, dag_id, t, t + 1, 0, take_first, &run_id);
    return run_id;
}

int mlf_cli_ti_args(mlf_cli *cli, mlf_store *st)
{
    const char *dag_id = cli->argv[0], *a = cli->argv[1], *b = cli->argv[2];
    mlf_store_txn *txn;
    char *run_id = NULL;
    int swapped = 0;
    if (mlf_store_read_begin(st, &txn) == MLF_OK) {
        run_id = find_run(txn, dag_id, b);
        if (!run_id && (run_id = find_run(txn, dag_id, a))) /* the older DAG_ID RUN_ID TASK_ID */
            swapped = 1;
        mlf_store_read_end(txn);
    }
    free(cli->ti_run_id);
    cli->ti_run_id = run_id;
    if (swapped) {
        cli->argv[1] = (char *)b;
        cli->argv[2] = (char *)a;
    }
    if (run_id)
        cli->argv[2] = run_id;
    return MLF_OK;
}
