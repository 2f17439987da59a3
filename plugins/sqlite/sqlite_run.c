/* sqlite_run.c -- runs SQL statements with bound parameters in one transaction (see sqlite_run.h). */
#include "sqlite_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of a statement an error message quotes. */
#define QUOTE_MAX 100

/* Writes "statement N (TEXT)" into @p buf: TEXT is the statement with whitespace runs collapsed, cut at
 * QUOTE_MAX characters; a statement that did not compile is quoted up to its first ';'. */
static void describe(int index, const char *sql, int whole, char *buf, size_t n)
{
    char text[QUOTE_MAX + 4];
    size_t t = 0;
    int space = 0;
    const char *p = sql;
    for (; *p && t < QUOTE_MAX && (whole || *p != ';'); p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = t > 0;
            continue;
        }
        if (space && t + 1 < QUOTE_MAX)
            text[t++] = ' ';
        space = 0;
        text[t++] = *p;
    }
    if (*p && (whole || *p != ';'))
        t += (size_t)snprintf(text + t, sizeof text - t, "...");
    text[t] = '\0';
    snprintf(buf, n, "statement %d (%s)", index, text);
}

static int bind_value(sqlite3_stmt *st, int i, const mlf_value *v)
{
    size_t len = 0;
    switch (mlf_value_type(v)) {
    case MLF_BOOL: {
        int b = 0;
        mlf_value_get_bool(v, &b);
        return sqlite3_bind_int(st, i, b != 0);
    }
    case MLF_INT: {
        int64_t x = 0;
        mlf_value_get_int(v, &x);
        return sqlite3_bind_int64(st, i, x);
    }
    case MLF_FLOAT: {
        double d = 0;
        mlf_value_get_float(v, &d);
        return sqlite3_bind_double(st, i, d);
    }
    case MLF_STR: {
        const char *s = mlf_value_get_str(v, &len);
        return sqlite3_bind_text64(st, i, s, len, SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    case MLF_BIN: {
        const void *b = mlf_value_get_bin(v, &len);
        return sqlite3_bind_blob64(st, i, len ? b : "", len, SQLITE_TRANSIENT);
    }
    case MLF_ARRAY:
    case MLF_MAP: {
        char *json = NULL;
        if (mlf_value_to_json(v, &json) != MLF_OK)
            return SQLITE_NOMEM;
        int rc = sqlite3_bind_text64(st, i, json, strlen(json), SQLITE_TRANSIENT, SQLITE_UTF8);
        mlf_free(json);
        return rc;
    }
    default:
        return sqlite3_bind_null(st, i);
    }
}

/* Binds @p params to the placeholders of @p st; on a mismatch writes why into @p why. */
static int bind_all(sqlite3_stmt *st, const mlf_value *params, char *why, size_t n)
{
    int count = sqlite3_bind_parameter_count(st);
    if (count == 0)
        return MLF_OK;
    mlf_type type = mlf_value_type(params);
    if (type == MLF_ARRAY && mlf_value_len(params) != (size_t)count) {
        snprintf(why, n, "it has %d placeholder%s but parameters has %zu value%s", count, count == 1 ? "" : "s",
                 mlf_value_len(params), mlf_value_len(params) == 1 ? "" : "s");
        return MLF_EINVAL;
    }
    if (type != MLF_ARRAY && type != MLF_MAP) {
        snprintf(why, n, "it has %d placeholder%s but no parameters were given", count, count == 1 ? "" : "s");
        return MLF_EINVAL;
    }
    for (int i = 1; i <= count; i++) {
        const mlf_value *v;
        if (type == MLF_ARRAY) {
            v = mlf_array_at(params, (size_t)i - 1);
        } else {
            const char *name = sqlite3_bind_parameter_name(st, i);
            if (!name || name[0] == '?') {
                snprintf(why, n, "it uses positional placeholders (?) but parameters is a map");
                return MLF_EINVAL;
            }
            if (!(v = mlf_map_get(params, name + 1))) {
                snprintf(why, n, "parameters has no value for %s", name);
                return MLF_EINVAL;
            }
        }
        int rc = bind_value(st, i, v);
        if (rc != SQLITE_OK) {
            snprintf(why, n, "cannot bind parameter %d: %s", i, sqlite3_errstr(rc));
            return rc == SQLITE_NOMEM ? MLF_ENOMEM : MLF_EIO;
        }
    }
    return MLF_OK;
}

/* One result row as a map column name -> value (NULL when memory runs out). */
static mlf_value *row_value(sqlite3_stmt *st, int ncols)
{
    mlf_value *row = mlf_value_map();
    for (int c = 0; row && c < ncols; c++) {
        mlf_value *v;
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER:
            v = mlf_value_int(sqlite3_column_int64(st, c));
            break;
        case SQLITE_FLOAT:
            v = mlf_value_float(sqlite3_column_double(st, c));
            break;
        case SQLITE_TEXT: {
            const char *s = (const char *)sqlite3_column_text(st, c);
            v = mlf_value_strn(s ? s : "", (size_t)sqlite3_column_bytes(st, c));
            break;
        }
        case SQLITE_BLOB: {
            const void *b = sqlite3_column_blob(st, c);
            v = mlf_value_bin(b ? b : "", (size_t)sqlite3_column_bytes(st, c));
            break;
        }
        default:
            v = mlf_value_nil();
        }
        const char *name = sqlite3_column_name(st, c);
        if (!name || mlf_map_set(row, name, v) != MLF_OK) {
            mlf_value_free(row);
            return NULL;
        }
    }
    return row;
}

/* Steps @p st to its end (or, when read-only, until a row past max_rows shows up), keeping the rows of a
 * statement that returns columns in @p out. Returns the last sqlite3_step() code or SQLITE_NOMEM. */
static int step_all(sqlite3_stmt *st, const sql_run_opts *opts, sql_run_result *out)
{
    int ncols = sqlite3_column_count(st);
    if (ncols > 0) {
        mlf_value_free(out->rows);
        out->truncated = 0;
        if (!(out->rows = mlf_value_array()))
            return SQLITE_NOMEM;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (mlf_value_len(out->rows) < opts->max_rows) {
            if (mlf_array_append(out->rows, row_value(st, ncols)) != MLF_OK)
                return SQLITE_NOMEM;
            continue;
        }
        out->truncated = 1;
        if (sqlite3_stmt_readonly(st))
            break; /* nothing more to keep and nothing to change: do not read the rest */
    }
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

void sql_run_result_free(sql_run_result *r)
{
    mlf_value_free(r->rows);
    memset(r, 0, sizeof *r);
}

int sql_run(sqlite3 *db, const char *sql, const sql_run_opts *opts, sql_run_result *out, char *err,
            size_t errlen)
{
    memset(out, 0, sizeof *out);
    mlf_type ptype = mlf_value_type(opts->parameters);
    if (ptype != MLF_NIL && ptype != MLF_ARRAY && ptype != MLF_MAP) {
        snprintf(err, errlen, "parameters must be a list or a map, not a %s", mlf_type_name(ptype));
        return MLF_EINVAL;
    }
    if (!opts->autocommit && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "BEGIN: %s", sqlite3_errmsg(db));
        return MLF_EIO;
    }
    int result = MLF_OK, index = 0;
    char what[QUOTE_MAX + 64], why[256];
    for (const char *p = sql; p && *p;) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, p, -1, &st, &tail);
        if (rc != SQLITE_OK) {
            describe(index + 1, p, 0, what, sizeof what);
            snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
            result = rc == SQLITE_NOMEM ? MLF_ENOMEM : MLF_EIO;
            break;
        }
        p = tail;
        if (!st) /* only blanks or comments were left */
            continue;
        index++;
        int brc = bind_all(st, opts->parameters, why, sizeof why);
        if (brc != MLF_OK) {
            describe(index, sqlite3_sql(st), 1, what, sizeof what);
            snprintf(err, errlen, "%s: %s", what, why);
            result = brc;
        } else if ((rc = step_all(st, opts, out)) != SQLITE_DONE) {
            describe(index, sqlite3_sql(st), 1, what, sizeof what);
            snprintf(err, errlen, "%s: %s", what, rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
            result = rc == SQLITE_NOMEM ? MLF_ENOMEM : MLF_EIO;
        }
        sqlite3_finalize(st);
        if (result != MLF_OK)
            break;
        out->statements++;
    }
    if (result == MLF_OK && !opts->autocommit && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "COMMIT: %s", sqlite3_errmsg(db));
        result = MLF_EIO;
    }
    if (result != MLF_OK) {
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sql_run_result_free(out);
    }
    return result;
}
