/* cli_table.c -- listings as a table or a plain listing (cli_table.h). */
#include "cli/cli_table.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

/* The longest cell of a table before it is cut with "..." (plain listings are never cut). */
#define TABLE_CELL_MAX 60

/* The text of one JSON value as a cell (a new string; NULL: no memory). */
static char *cell_text(const json_t *v, int cut)
{
    char *s;
    if (!v || json_is_null(v)) {
        s = strdup("");
    } else if (json_is_string(v)) {
        s = strdup(json_string_value(v));
    } else if (json_is_array(v)) {
        mlf_buf b = {0};
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            char *t = cell_text(e, 0);
            mlf_buf_printf(&b, "%s%s", i ? "," : "", t ? t : "");
            free(t);
        }
        s = b.data ? b.data : strdup("");
    } else {
        s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    }
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    if (cut && strlen(s) > TABLE_CELL_MAX)
        strcpy(s + TABLE_CELL_MAX - 3, "...");
    return s;
}

static void pad(FILE *f, char c, size_t n)
{
    while (n--)
        fputc(c, f);
}

int mlf_cli_print_rows(mlf_cli *cli, const json_t *rows, const mlf_cli_column *cols, size_t ncols)
{
    int plain = cli->output == MLF_OUTPUT_PLAIN;
    size_t nrows = json_array_size(rows);
    char **cells = calloc((nrows + 1) * ncols + 1, sizeof *cells);
    size_t *width = calloc(ncols + 1, sizeof *width);
    int rc = cells && width ? MLF_OK : MLF_ENOMEM;
    for (size_t c = 0; rc == MLF_OK && c < ncols; c++) {
        cells[c] = strdup(cols[c].header ? cols[c].header : cols[c].key);
        for (size_t r = 0; cells[c] && r < nrows; r++) {
            const json_t *row = json_array_get(rows, r);
            char **at = &cells[(r + 1) * ncols + c];
            *at = cell_text(json_object_get(row, cols[c].key), !plain);
            if (!*at)
                break;
        }
        for (size_t r = 0; r <= nrows; r++) {
            const char *s = cells[r * ncols + c];
            if (!s) {
                rc = MLF_ENOMEM;
                break;
            }
            if (strlen(s) > width[c])
                width[c] = strlen(s);
        }
    }
    for (size_t r = 0; rc == MLF_OK && r <= nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *s = cells[r * ncols + c];
            int last = c + 1 == ncols;
            fputs(s, cli->out);
            if (!last) {
                pad(cli->out, ' ', width[c] - strlen(s));
                fputs(plain ? "  " : " | ", cli->out);
            }
        }
        fputc('\n', cli->out);
        if (r == 0 && !plain) { /* the rule under the header */
            for (size_t c = 0; c < ncols; c++) {
                pad(cli->out, '=', width[c] + (c ? 1 : 0) + (c + 1 < ncols ? 1 : 0));
                if (c + 1 < ncols)
                    fputc('+', cli->out);
            }
            fputc('\n', cli->out);
        }
    }
    for (size_t i = 0; cells && i < (nrows + 1) * ncols; i++)
        free(cells[i]);
    free(cells);
    free(width);
    return rc;
}
