/* cli_table.h -- the text forms of a listing, as Airflow's CLI prints them (its AirflowConsole): -o table
 * draws the columns with separators and a rule under the header; -o plain aligns them with spaces only,
 * for pipes and scripts (`awk '{print $1}'`). Commands build their rows once, as the JSON that -o json
 * prints, and hand them here for the other two forms. */
#ifndef MLF_CORE_CLI_TABLE_H
#define MLF_CORE_CLI_TABLE_H

#include <stddef.h>

#include "cli/cli.h"

/** One column: the row object's key, and the header printed for it (NULL: the key). */
typedef struct mlf_cli_column {
    const char *key;
    const char *header;
} mlf_cli_column;

/**
 * Prints @p rows (a JSON array of objects; borrowed) to cli->out as the @p ncols @p cols, in the form
 * cli->output asks for: MLF_OUTPUT_PLAIN as a plain listing (a header line, cells separated by two spaces,
 * no decoration, nothing cut), anything else as a table (cells separated by " | ", the header underlined
 * with "=" and "+", cells longer than 60 bytes cut with "..."). A cell is the value's text: strings as they
 * are, null as nothing, arrays joined with ",", numbers and booleans as JSON writes them; line breaks and
 * tabs become spaces. Returns MLF_OK or MLF_ENOMEM (nothing printed).
 */
int mlf_cli_print_rows(mlf_cli *cli, const struct json_t *rows, const mlf_cli_column *cols, size_t ncols);

#endif
