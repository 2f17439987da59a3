/* sqlite_run.h -- running a text of SQL statements on an open SQLite database for the sql operator and
 * sql_sensor: parameters bound with sqlite3_bind_* (never spliced into the text), all statements in one
 * transaction, the rows of the last result set collected as mlf_values. */
#ifndef MLF_PLUGIN_SQLITE_RUN_H
#define MLF_PLUGIN_SQLITE_RUN_H

#include <mlflowd/mlflowd.h>
#include <sqlite3.h>

/** How to run. */
typedef struct sql_run_opts {
    const mlf_value *parameters; /**< NULL/nil, an array (positional: ?, ?NNN) or a map (named: :x, @x, $x) */
    int autocommit;              /**< 1: each statement commits on its own; 0: one transaction for all */
    size_t max_rows;             /**< rows kept from the last result set; the rest are counted, not kept */
} sql_run_opts;

/** What running produced. Free with sql_run_result_free(). */
typedef struct sql_run_result {
    mlf_value *rows;   /**< array of maps column -> value of the last statement that returned columns, or NULL */
    int truncated;     /**< 1 when that result set had more rows than max_rows */
    size_t statements; /**< statements executed */
} sql_run_result;

/**
 * Runs every statement of @p sql on @p db. Unless opts->autocommit, they run inside BEGIN ... COMMIT and a
 * failure rolls all of them back. The same parameters are offered to every statement; a statement without
 * placeholders ignores them. Values bind as: nil NULL, bool and int INTEGER, float REAL, str TEXT, bin BLOB,
 * array and map JSON TEXT. A read-only statement stops being stepped once max_rows rows are kept; any other
 * statement runs to completion.
 * Returns MLF_OK; MLF_EINVAL (parameters neither a list nor a map; a placeholder with no value; a list of
 * the wrong length); MLF_EIO (SQLite refused a statement); MLF_ENOMEM. On error @p err names the statement
 * ("statement 2 (INSERT INTO ...)") and gives SQLite's message, and @p out holds nothing.
 */
int sql_run(sqlite3 *db, const char *sql, const sql_run_opts *opts, sql_run_result *out, char *err,
            size_t errlen);

/** Releases what @p r holds. */
void sql_run_result_free(sql_run_result *r);

#endif
