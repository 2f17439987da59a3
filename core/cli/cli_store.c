/* cli_store.c -- `mlflowd connections add|get|list|delete`, `variables set|get|list|delete`,
 * `pools set|list|delete`: the records of the state store that users manage by hand, as Airflow's CLI does.
 *
 * Secrets are never printed in clear: connection passwords and sensitive extra values read "***" in every
 * form (table, JSON, URI), and `variables list` masks the values of sensitive keys (conn_uri.h's
 * mlf_is_sensitive_name()); `variables get` prints the value it is explicitly asked for. */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/store_ops.h"
#include "cli/cli.h"
#include "cli/cli_table.h"
#include "conf/conn_uri.h"
#include "store/store.h"
#include "base/strutil.h"
#include "base/suggest.h"
#include "value/value_json.h"

/* Longest value shown in a table cell before it is cut with "...". */
#define CELL_MAX 60

/* Reports a store error of a write: input the store refuses is bad input (exit 2), the rest a failure. */
static int store_failed(int rc, const char *what)
{
    if (rc == MLF_ETOOBIG)
        return mlf_cli_fail(MLF_EXIT_USAGE, "%s is too long (at most %d bytes)", what, MLF_STORE_KEY_MAX);
    if (rc == MLF_EINVAL || rc == MLF_ERANGE)
        return mlf_cli_fail(MLF_EXIT_USAGE, "%s is not valid: %s", what, mlf_strerror(rc));
    return mlf_cli_fail(MLF_EXIT_FAILED, "cannot update the state store: %s", mlf_strerror(rc));
}

/* Prints @p v as indented JSON (the shape of every other -o json listing). */
static int print_json(mlf_cli *cli, const mlf_value *v)
{
    char *text = NULL;
    if (mlf_value_to_json(v, &text) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    fprintf(cli->out, "%s\n", pretty ? pretty : text);
    json_decref(j);
    free(pretty);
    free(text);
    return MLF_EXIT_OK;
}

/* A table cell for @p v (free()): nil is empty, a string itself, anything else JSON; one line, cut at
 * @p max bytes (0: never). */
static char *cell(const mlf_value *v, size_t max)
{
    char *s = mlf_value_type(v) == MLF_NIL ? strdup("") : mlf_value_to_display(v);
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    if (max && strlen(s) > max)
        strcpy(s + max - 3, "...");
    return s;
}

/* Prints the fields @p keys of each map in @p rows as a table or a plain listing (cli_table.h). */
static int print_table(mlf_cli *cli, const mlf_value *rows, const char *const *keys, size_t ncols)
{
    char *text = NULL;
    json_t *j = mlf_value_to_json(rows, &text) == MLF_OK ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)
                                                          : NULL;
    free(text);
    mlf_cli_column cols[16];
    for (size_t c = 0; c < ncols && c < 16; c++)
        cols[c] = (mlf_cli_column){keys[c], NULL};
    int rc = j ? mlf_cli_print_rows(cli, j, cols, ncols < 16 ? ncols : 16) : MLF_ENOMEM;
    json_decref(j);
    return rc == MLF_OK ? MLF_EXIT_OK : mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
}

/* Appends to @p rows a map of the @p n @p keys to @p vals (each taken, even on failure). */
static int append_row(mlf_value *rows, const char *const *keys, mlf_value *const *vals, size_t n)
{
    mlf_value *row = mlf_value_map();
    int bad = !row;
    for (size_t i = 0; i < n; i++) /* mlf_map_set() takes the value even when it fails */
        bad |= mlf_map_set(row, keys[i], vals[i]) != MLF_OK;
    if (bad) {
        mlf_value_free(row);
        return MLF_ENOMEM;
    }
    return mlf_array_append(rows, row);
}

static mlf_value *str_or_nil(const char *s)
{
    return s ? mlf_value_str(s) : mlf_value_nil();
}

/* The rows of one table, collected by @p each in one read transaction into a new array @p *rows.
 * Returns 0 or an exit code (after printing why). */
static int read_rows(mlf_cli *cli, int (*each)(mlf_store_txn *, mlf_value *), const char *what, mlf_value **rows)
{
    int rc = mlf_cli_check_args(cli, 0, 0, NULL);
    if (rc)
        return rc;
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    *rows = mlf_value_array();
    mlf_store_txn *txn;
    rc = *rows ? mlf_store_read_begin(st, &txn) : MLF_ENOMEM;
    if (rc == MLF_OK) {
        rc = each(txn, *rows);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    if (rc != MLF_OK) {
        mlf_value_free(*rows);
        *rows = NULL;
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot list the %s: %s", what, mlf_strerror(rc));
    }
    return 0;
}

/* A listing command: the rows of one table (see read_rows()) as JSON, or as a table or plain listing of
 * @p keys. */
static int list_command(mlf_cli *cli, int (*each)(mlf_store_txn *, mlf_value *), const char *what,
                        const char *const *keys, size_t ncols)
{
    mlf_value *rows;
    int rc = read_rows(cli, each, what, &rows);
    if (rc)
        return rc;
    if (cli->output == MLF_OUTPUT_JSON)
        rc = print_json(cli, rows);
    else
        rc = print_table(cli, rows, keys, ncols);
    mlf_value_free(rows);
    return rc;
}

/* ------------------------------------------------------------------------------------------ names */

/* The ids of one table, for "did you mean". */
typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int names_add(names *ns, const char *s)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 16;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v)
            return MLF_ENOMEM;
        ns->v = v;
        ns->cap = cap;
    }
    if (!(ns->v[ns->n] = strdup(s)))
        return MLF_ENOMEM;
    ns->n++;
    return MLF_OK;
}

static int conn_name(void *ud, const mlf_conn_rec *r) { return names_add(ud, r->conn_id); }
static int var_name(void *ud, const mlf_var_rec *r) { return names_add(ud, r->key); }
static int pool_name(void *ud, const mlf_pool_rec *r) { return names_add(ud, r->name); }

/* Says that @p kind @p id does not exist, with the closest of @p ns; frees @p ns; returns @p code. */
static int not_found(int code, const char *kind, const char *id, names *ns, const char *group)
{
    const char *s = mlf_suggest(id, (const char *const *)ns->v, ns->n);
    mlf_cli_fail(code, "%s %s does not exist%s%s%s (see mlflowd %s list)", kind, id, s ? "; did you mean '" : "",
                 s ? s : "", s ? "'?" : "", group);
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    return code;
}

/* 0 when @p s is a usable id, else a usage error naming @p what. */
static int check_id(const char *s, const char *what, int strict)
{
    if (!*s)
        return mlf_cli_fail(MLF_EXIT_USAGE, "the %s cannot be empty", what);
    if (mlf_ops_check_id(s, strict) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "invalid %s '%s': letters, digits, '_', '.' and '-' only", what, s);
    return 0;
}

/* ------------------------------------------------------------------------------------ connections */

/* The masked display of a connection: conn_id, conn_type, host, port, login, password, schema, extra,
 * description, uri. NULL when memory runs out or the record is damaged. */
static mlf_value *conn_display(const mlf_conn_rec *rec)
{
    mlf_value *v = NULL;
    char *uri = NULL;
    if (mlf_conn_to_value(rec, MLF_CONN_MASK, &v) != MLF_OK || mlf_conn_to_uri(rec, MLF_CONN_MASK, &uri) != MLF_OK) {
        mlf_value_free(v);
        return NULL;
    }
    int bad = mlf_map_set(v, "description", str_or_nil(rec->description));
    bad |= mlf_map_set(v, "uri", mlf_value_str(uri));
    free(uri);
    if (bad) {
        mlf_value_free(v);
        return NULL;
    }
    return v;
}

enum { C_URI, C_JSON, C_TYPE, C_HOST, C_PORT, C_LOGIN, C_PASSWORD, C_SCHEMA, C_EXTRA, C_DESCRIPTION, C_N };
static const char *const add_flags[] = {"--conn-uri",   "--conn-json",     "--conn-type",   "--conn-host",
                                        "--conn-port",  "--conn-login",    "--conn-password", "--conn-schema",
                                        "--conn-extra", "--conn-description", NULL};

static int dup_opt(char **field, const char *v)
{
    return v && *v && !(*field = strdup(v)) ? MLF_ENOMEM : MLF_OK;
}

/* The connection of `connections add --conn-type ...` into @p rec. Returns 0 or an exit code. */
static int conn_from_fields(const char *conn_id, const char *const *v, mlf_conn_rec *rec)
{
    mlf_conn_rec_init(rec);
    if (v[C_PORT]) {
        char *end;
        long port = strtol(v[C_PORT], &end, 10);
        if (!*v[C_PORT] || *end || port < 1 || port > 65535)
            return mlf_cli_fail(MLF_EXIT_USAGE, "bad --conn-port '%s': a number from 1 to 65535", v[C_PORT]);
        rec->port = (int)port;
    }
    if (v[C_EXTRA]) {
        char err[256];
        mlf_value *extra = NULL;
        int rc = mlf_value_from_json(v[C_EXTRA], strlen(v[C_EXTRA]), &extra, err, sizeof err);
        if (rc == MLF_OK && mlf_value_type(extra) != MLF_MAP)
            snprintf(err, sizeof err, "a JSON object is needed, not %s", mlf_type_name(mlf_value_type(extra)));
        if (rc != MLF_OK || mlf_value_type(extra) != MLF_MAP) {
            mlf_value_free(extra);
            return mlf_cli_fail(MLF_EXIT_USAGE, "bad --conn-extra: %s", err);
        }
        void *buf = NULL;
        size_t len = 0;
        if (mlf_value_len(extra) && mlf_value_pack(extra, &buf, &len) != MLF_OK) {
            mlf_value_free(extra);
            return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
        }
        mlf_value_free(extra);
        rec->extra = buf;
        rec->extra_len = len;
    }
    if (dup_opt(&rec->conn_id, conn_id) || dup_opt(&rec->conn_type, v[C_TYPE]) || dup_opt(&rec->host, v[C_HOST]) ||
        dup_opt(&rec->login, v[C_LOGIN]) || dup_opt(&rec->password, v[C_PASSWORD]) ||
        dup_opt(&rec->schema, v[C_SCHEMA]))
        return mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
    mlf_conn_normalize_type(rec->conn_type);
    return 0;
}

/* Builds the connection that `connections add` was given. Returns 0 or an exit code (@p rec is then
 * released). */
static int conn_from_args(const char *conn_id, const char *const *v, mlf_conn_rec *rec)
{
    int forms = !!v[C_URI] + !!v[C_JSON] + !!v[C_TYPE];
    if (forms == 0)
        return mlf_cli_fail(MLF_EXIT_USAGE, "connections add needs --conn-uri URI, --conn-json JSON or --conn-type TYPE");
    if (forms > 1)
        return mlf_cli_fail(MLF_EXIT_USAGE, "--conn-uri, --conn-json and --conn-type cannot be combined");
    if (!v[C_TYPE])
        for (int i = C_HOST; i <= C_EXTRA; i++)
            if (v[i])
                return mlf_cli_fail(MLF_EXIT_USAGE, "%s cannot be combined with %s (put it in the %s)", add_flags[i],
                                    v[C_URI] ? "--conn-uri" : "--conn-json", v[C_URI] ? "URI" : "JSON");
    char err[512];
    int rc = 0;
    if (v[C_URI] && mlf_conn_from_uri(conn_id, v[C_URI], rec, err, sizeof err) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "bad --conn-uri: %s", err);
    if (v[C_JSON] && mlf_conn_from_json(conn_id, v[C_JSON], strlen(v[C_JSON]), rec, err, sizeof err) != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_USAGE, "bad --conn-json: %s", err);
    if (v[C_TYPE] && (rc = conn_from_fields(conn_id, v, rec)) != 0) {
        mlf_conn_rec_clear(rec);
        return rc;
    }
    if (!rec->conn_type)
        rc = mlf_cli_fail(MLF_EXIT_USAGE, "the connection has no conn_type");
    if (!rc && v[C_DESCRIPTION]) {
        free(rec->description);
        rec->description = NULL;
        if (dup_opt(&rec->description, v[C_DESCRIPTION]))
            rc = mlf_cli_fail(MLF_EXIT_FAILED, "out of memory");
    }
    if (rc)
        mlf_conn_rec_clear(rec);
    return rc;
}

int mlf_cmd_connections_add(mlf_cli *cli)
{
    const char *v[C_N];
    for (int i = 0; i < C_N; i++) {
        int missing = 0;
        v[i] = mlf_cli_take_value(cli, add_flags[i], NULL, &missing);
        if (missing)
            return mlf_cli_fail(MLF_EXIT_USAGE, "%s needs a value", add_flags[i]);
    }
    int rc = mlf_cli_check_args(cli, 1, 1, add_flags);
    if (rc || (rc = check_id(cli->argv[0], "connection id", 1)))
        return rc;
    const char *conn_id = cli->argv[0];
    mlf_conn_rec rec;
    if ((rc = conn_from_args(conn_id, v, &rec)))
        return rc;
    mlf_store *st = mlf_cli_store(cli, 1);
    rc = st ? mlf_ops_conn_put(st, &rec, 0) : MLF_EIO;
    mlf_store_close(st);
    char *uri = NULL;
    if (rc == MLF_OK)
        mlf_conn_to_uri(&rec, MLF_CONN_MASK, &uri);
    mlf_conn_rec_clear(&rec);
    if (!st)
        return MLF_EXIT_FAILED;
    if (rc == MLF_EEXIST)
        return mlf_cli_fail(MLF_EXIT_USAGE, "connection %s already exists (delete it first: mlflowd connections delete %s)",
                            conn_id, conn_id);
    if (rc != MLF_OK)
        return store_failed(rc, "the connection id");
    fprintf(cli->out, "Connection %s added: %s\n", conn_id, uri ? uri : "");
    free(uri);
    return MLF_EXIT_OK;
}

int mlf_cmd_connections_get(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    const char *conn_id = cli->argv[0];
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_store_txn *txn;
    if ((rc = mlf_store_read_begin(st, &txn)) != MLF_OK) {
        mlf_store_close(st);
        return mlf_cli_fail(MLF_EXIT_FAILED, "cannot read the state store: %s", mlf_strerror(rc));
    }
    mlf_conn_rec rec;
    char err[512];
    rc = mlf_conn_lookup(txn, conn_id, &rec, err, sizeof err);
    names ns = {0};
    if (rc == MLF_ENOTFOUND)
        mlf_store_conn_foreach(txn, conn_name, &ns);
    mlf_store_read_end(txn);
    mlf_store_close(st);
    if (rc == MLF_ENOTFOUND)
        return not_found(MLF_EXIT_USAGE, "connection", conn_id, &ns, "connections");
    if (rc != MLF_OK)
        return mlf_cli_fail(rc == MLF_EPARSE || rc == MLF_EINVAL || rc == MLF_ETOOBIG ? MLF_EXIT_USAGE : MLF_EXIT_FAILED,
                            "%s", err);
    mlf_value *v = conn_display(&rec);
    mlf_conn_rec_clear(&rec);
    if (!v)
        return mlf_cli_fail(MLF_EXIT_FAILED, "connection %s cannot be shown: its stored extra is damaged", conn_id);
    if (cli->output == MLF_OUTPUT_JSON)
        rc = print_json(cli, v);
    else
        for (size_t i = 0; i < mlf_value_len(v); i++) {
            char *s = cell(mlf_map_value_at(v, i), 0);
            fprintf(cli->out, "%-12s %s\n", mlf_map_key_at(v, i), s ? s : "?");
            free(s);
        }
    mlf_value_free(v);
    return rc;
}

static int collect_conn(void *ud, const mlf_conn_rec *r)
{
    mlf_value *v = conn_display(r);
    return v ? mlf_array_append(ud, v) : MLF_ECORRUPT;
}

static int each_conn(mlf_store_txn *txn, mlf_value *rows)
{
    return mlf_store_conn_foreach(txn, collect_conn, rows);
}

int mlf_cmd_connections_list(mlf_cli *cli)
{
    static const char *const keys[] = {"conn_id", "conn_type", "host", "port", "login", "schema"};
    return list_command(cli, each_conn, "connections", keys, 6);
}

/* Deletes one record through @p del, with "did you mean" from @p list over the ids when it is absent. */
static int delete_one(mlf_cli *cli, const char *kind, const char *group, int (*del)(mlf_store_txn *, const char *),
                      int (*list)(mlf_store_txn *, names *))
{
    int rc = mlf_cli_check_args(cli, 1, 1, NULL);
    if (rc)
        return rc;
    const char *id = cli->argv[0];
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_store_txn *w;
    names ns = {0};
    rc = mlf_store_write_begin(st, &w);
    if (rc == MLF_OK) {
        rc = del(w, id);
        if (rc == MLF_ENOTFOUND)
            list(w, &ns);
        rc = rc == MLF_OK ? mlf_store_write_commit(w) : (mlf_store_write_abort(w), rc);
    }
    mlf_store_close(st);
    if (rc == MLF_ENOTFOUND)
        return not_found(MLF_EXIT_USAGE, kind, id, &ns, group);
    if (rc != MLF_OK)
        return store_failed(rc, kind);
    fprintf(cli->out, "%c%s %s deleted\n", kind[0] - 'a' + 'A', kind + 1, id);
    return MLF_EXIT_OK;
}

static int list_conns(mlf_store_txn *txn, names *ns) { return mlf_store_conn_foreach(txn, conn_name, ns); }
static int list_vars(mlf_store_txn *txn, names *ns) { return mlf_store_var_foreach(txn, var_name, ns); }
static int list_pools(mlf_store_txn *txn, names *ns) { return mlf_store_pool_foreach(txn, pool_name, ns); }

int mlf_cmd_connections_delete(mlf_cli *cli)
{
    return delete_one(cli, "connection", "connections", mlf_store_conn_delete, list_conns);
}

/* -------------------------------------------------------------------------------------- variables */

int mlf_cmd_variables_set(mlf_cli *cli)
{
    int missing = 0;
    const char *description = mlf_cli_take_value(cli, "--description", NULL, &missing);
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "--description needs a value");
    int rc = mlf_cli_check_args(cli, 2, 2, (const char *const[]){"--description", NULL});
    if (rc || (rc = check_id(cli->argv[0], "variable key", 0)))
        return rc;
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    rc = mlf_ops_var_set(st, cli->argv[0], cli->argv[1], description);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return store_failed(rc, "the variable key");
    fprintf(cli->out, "Variable %s set\n", cli->argv[0]);
    return MLF_EXIT_OK;
}

int mlf_cmd_variables_get(mlf_cli *cli)
{
    int missing = 0;
    const char *def = mlf_cli_take_value(cli, "--default", "-d", &missing);
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "--default needs a value");
    int rc = mlf_cli_check_args(cli, 1, 1, (const char *const[]){"--default", NULL});
    if (rc)
        return rc;
    const char *key = cli->argv[0];
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    mlf_store_txn *txn;
    mlf_var_rec rec;
    mlf_var_rec_init(&rec);
    names ns = {0};
    rc = mlf_store_read_begin(st, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_var_get(txn, key, &rec);
        if (rc == MLF_ENOTFOUND && !def)
            list_vars(txn, &ns);
        mlf_store_read_end(txn);
    }
    mlf_store_close(st);
    if (rc == MLF_ENOTFOUND && def) {
        if (cli->output == MLF_OUTPUT_JSON)
            mlf_cli_print_json(cli, json_pack("{s:s, s:s, s:o}", "key", key, "value", def, "description", json_null()));
        else
            fprintf(cli->out, "%s\n", def);
        return MLF_EXIT_OK;
    }
    if (rc == MLF_ENOTFOUND) /* exit 1 as Airflow's `variables get` */
        return not_found(MLF_EXIT_FAILED, "variable", key, &ns, "variables");
    if (rc != MLF_OK)
        return mlf_cli_fail(rc == MLF_EINVAL || rc == MLF_ETOOBIG ? MLF_EXIT_USAGE : MLF_EXIT_FAILED,
                            "cannot read variable %s: %s", key, mlf_strerror(rc));
    if (cli->output == MLF_OUTPUT_JSON)
        mlf_cli_print_json(cli, json_pack("{s:s, s:s, s:o}", "key", key, "value", rec.val ? rec.val : "", "description",
                                          rec.description ? json_string(rec.description) : json_null()));
    else
        fprintf(cli->out, "%s\n", rec.val ? rec.val : "");
    mlf_var_rec_clear(&rec);
    return MLF_EXIT_OK;
}

static const char *const var_keys[] = {"key", "value", "description"};

static int collect_var(void *ud, const mlf_var_rec *r)
{
    const char *shown = mlf_is_sensitive_name(r->key) ? MLF_CONN_MASKED : r->val ? r->val : "";
    mlf_value *vals[] = {mlf_value_str(r->key), mlf_value_str(shown), str_or_nil(r->description)};
    return append_row(ud, var_keys, vals, 3);
}

static int each_var(mlf_store_txn *txn, mlf_value *rows)
{
    return mlf_store_var_foreach(txn, collect_var, rows);
}

int mlf_cmd_variables_list(mlf_cli *cli)
{
    return list_command(cli, each_var, "variables", var_keys, 3);
}

int mlf_cmd_variables_delete(mlf_cli *cli)
{
    return delete_one(cli, "variable", "variables", mlf_store_var_delete, list_vars);
}

/* ------------------------------------------------------------------------------------------ pools */

int mlf_cmd_pools_set(mlf_cli *cli)
{
    int rc = mlf_cli_check_args(cli, 2, 3, NULL);
    if (rc || (rc = check_id(cli->argv[0], "pool name", 0)))
        return rc;
    const char *name = cli->argv[0], *text = cli->argv[1];
    char *end;
    long slots = strtol(text, &end, 10);
    if (!*text || *end || slots < -1 || slots > INT_MAX)
        return mlf_cli_fail(MLF_EXIT_USAGE, "bad slot count '%s': an integer >= -1 (-1 is unlimited)", text);
    mlf_store *st = mlf_cli_store(cli, 1);
    if (!st)
        return MLF_EXIT_FAILED;
    rc = mlf_ops_pool_set(st, name, (int)slots, cli->argc > 2 ? cli->argv[2] : NULL);
    mlf_store_close(st);
    if (rc != MLF_OK)
        return store_failed(rc, "the pool name");
    if (slots < 0)
        fprintf(cli->out, "Pool %s set: unlimited slots\n", name);
    else
        fprintf(cli->out, "Pool %s set: %ld slot%s\n", name, slots, slots == 1 ? "" : "s");
    return MLF_EXIT_OK;
}

static int collect_pool(void *ud, const mlf_pool_rec *r)
{
    static const char *const keys[] = {"pool", "slots", "description"};
    mlf_value *vals[] = {mlf_value_str(r->name), mlf_value_int(r->slots), str_or_nil(r->description)};
    return append_row(ud, keys, vals, 3);
}

static int each_pool(mlf_store_txn *txn, mlf_value *rows)
{
    return mlf_store_pool_foreach(txn, collect_pool, rows);
}

int mlf_cmd_pools_list(mlf_cli *cli)
{
    mlf_value *rows;
    int rc = read_rows(cli, each_pool, "pools", &rows);
    if (rc)
        return rc;
    if (cli->output == MLF_OUTPUT_JSON) {
        rc = print_json(cli, rows);
        mlf_value_free(rows);
        return rc;
    }
    for (size_t i = 0; i < mlf_value_len(rows); i++) {
        mlf_value *r = (mlf_value *)mlf_array_at(rows, i);
        int64_t slots = 0;
        mlf_value_get_int(mlf_map_get(r, "slots"), &slots);
        if (slots < 0)
            mlf_map_set(r, "slots", mlf_value_str("unlimited"));
    }
    static const char *const keys[] = {"pool", "slots", "description"};
    rc = print_table(cli, rows, keys, 3);
    mlf_value_free(rows);
    return rc;
}

int mlf_cmd_pools_delete(mlf_cli *cli)
{
    if (cli->argc == 1 && strcmp(cli->argv[0], MLF_DEFAULT_POOL) == 0)
        return mlf_cli_fail(MLF_EXIT_USAGE, MLF_DEFAULT_POOL " cannot be deleted (resize it instead: mlflowd pools set "
                                            MLF_DEFAULT_POOL " SLOTS)");
    return delete_one(cli, "pool", "pools", mlf_store_pool_delete, list_pools);
}
