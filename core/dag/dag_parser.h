/* dag_parser.h -- DAG files (doc/architecture.md §5) to validated mlf_dag models.
 *
 * Every problem in a file is reported, each as one diagnostic "file:line:col: message" with a "did you
 * mean" where a name is close to a known one: YAML syntax, missing or malformed dag_id, unknown DAG keys,
 * unknown task keys (the operator's declared parameter table decides), wrong value types, unknown
 * operators, missing required parameters, upstream naming a missing task, cycles (with their path),
 * unknown trigger or weight rules, bad durations, dates, time zones and schedules, end before start,
 * `expand` on a key that is not an operator parameter, templates that do not parse or name unknown
 * variables or tasks. */
#ifndef MLF_CORE_DAG_PARSER_H
#define MLF_CORE_DAG_PARSER_H

#include "dag/dag.h"
#include "base/diag.h"
#include "plugin/registry.h"

/** A parser bound to a catalog of operators (caches parsed parameter defaults). */
typedef struct mlf_dag_parser mlf_dag_parser;

/** A new parser for operators of @p cat (borrowed: it must outlive the parser and its DAGs), or NULL
 * when memory runs out. Free with mlf_dag_parser_free(). */
mlf_dag_parser *mlf_dag_parser_new(const mlf_catalog *cat);
void mlf_dag_parser_free(mlf_dag_parser *p);

/** Parses the DAG file at @p path. On success stores a new DAG in *out (free with mlf_dag_free()) and
 * returns MLF_OK; otherwise appends one diagnostic per problem to @p diag and returns MLF_EPARSE (or an
 * errno value when the file cannot be read, MLF_ENOMEM). */
int mlf_dag_parse_file(mlf_dag_parser *p, const char *path, mlf_dag **out, mlf_diag *diag);

/** As mlf_dag_parse_file() for @p len bytes at @p buf named @p name in messages. */
int mlf_dag_parse_buffer(mlf_dag_parser *p, const char *buf, size_t len, const char *name, mlf_dag **out,
                         mlf_diag *diag);

/** The template variables a task may use (NULL-terminated), as doc/architecture.md §5 lists them. */
extern const char *const mlf_template_context_names[];

#endif
