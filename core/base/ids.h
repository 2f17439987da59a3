/* ids.h -- the one rule for dag_id, task_id and run_id, checked wherever an id enters (DAG files, the
 * CLI, the task spec a worker receives): 1..MLF_ID_MAX bytes of letters, digits and _ . : + - (run ids
 * carry ISO dates: "manual__2024-01-01T00:00:00+00:00"), and never "." or "..". Ids name folders of the
 * log tree (HOME/logs/DAG/RUN/TASK/), so no id can leave it. */
#ifndef MLF_CORE_IDS_H
#define MLF_CORE_IDS_H

#include <stddef.h>

/** Longest id: the state store's composite keys must fit LMDB's 511 bytes. */
#define MLF_ID_MAX 120

/** "dag_id", "task_id", "run_id": what the id is, for messages. */
typedef enum mlf_id_kind { MLF_ID_DAG, MLF_ID_TASK, MLF_ID_RUN } mlf_id_kind;

/** 1 when @p s follows the id rule, else 0 with the reason in @p err (may be NULL when @p errlen is 0):
 * "run_id '../x' may hold only letters, digits and _ . : + - (1-120 of them)". */
int mlf_id_valid(mlf_id_kind kind, const char *s, char *err, size_t errlen);

#endif
