/* Unit tests for core/conn_uri.c: Airflow's connection URI and JSON forms, masking, and the
 * store-then-environment lookup. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conn_uri.h"
#include "value/value_json.h"

/* ------------------------------------------------------------------------------------------ helpers */

static mlf_conn_rec parse_ok(const char *uri)
{
    mlf_conn_rec r;
    char err[256] = "";
    int rc = mlf_conn_from_uri("c", uri, &r, err, sizeof err);
    ck_assert_msg(rc == MLF_OK, "%s: %s", uri, err);
    return r;
}

/* The extra of @p r as compact JSON ("" when there is none). */
static char *extra_json(const mlf_conn_rec *r)
{
    if (!r->extra)
        return strdup("");
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_value_unpack(r->extra, r->extra_len, &v), MLF_OK);
    char *j = NULL;
    ck_assert_int_eq(mlf_value_to_json(v, &j), MLF_OK);
    mlf_value_free(v);
    return j;
}

static void ck_str_or_null(const char *got, const char *want)
{
    if (!want)
        ck_assert_ptr_null(got);
    else {
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, want);
    }
}

static void same_rec(const mlf_conn_rec *a, const mlf_conn_rec *b)
{
    ck_str_or_null(a->conn_type, b->conn_type);
    ck_str_or_null(a->host, b->host);
    ck_str_or_null(a->login, b->login);
    ck_str_or_null(a->password, b->password);
    ck_str_or_null(a->schema, b->schema);
    ck_assert_int_eq(a->port, b->port);
    char *ea = extra_json(a), *eb = extra_json(b);
    ck_assert_str_eq(ea, eb);
    free(ea);
    free(eb);
}

/* to_uri then from_uri gives back the same record. Returns the URI (free()). */
static char *round_trip(const mlf_conn_rec *r)
{
    char *uri = NULL;
    ck_assert_int_eq(mlf_conn_to_uri(r, 0, &uri), MLF_OK);
    mlf_conn_rec back = parse_ok(uri);
    same_rec(r, &back);
    mlf_conn_rec_clear(&back);
    return uri;
}

/* from_uri fails with MLF_EPARSE and a message containing @p want. */
static void parse_bad(const char *uri, const char *want)
{
    mlf_conn_rec r;
    char err[256] = "";
    int rc = mlf_conn_from_uri("c", uri, &r, err, sizeof err);
    ck_assert_msg(rc == MLF_EPARSE, "'%s' gave %d", uri, rc);
    ck_assert_msg(strstr(err, want), "'%s': message '%s' lacks '%s'", uri, err, want);
}

static void json_bad(const char *json, const char *want)
{
    mlf_conn_rec r;
    char err[256] = "";
    int rc = mlf_conn_from_json("c", json, strlen(json), &r, err, sizeof err);
    ck_assert_msg(rc == MLF_EPARSE, "'%s' gave %d", json, rc);
    ck_assert_msg(strstr(err, want), "'%s': message '%s' lacks '%s'", json, err, want);
}

/* ------------------------------------------------------------------------------------------ URI form */

START_TEST(test_full_uri)
{
    const char *uri = "postgres://etl:s3cret@db.example.com:5432/analytics?sslmode=require&connect_timeout=10";
    mlf_conn_rec r = parse_ok(uri);
    ck_assert_str_eq(r.conn_id, "c");
    ck_assert_str_eq(r.conn_type, "postgres");
    ck_assert_str_eq(r.login, "etl");
    ck_assert_str_eq(r.password, "s3cret");
    ck_assert_str_eq(r.host, "db.example.com");
    ck_assert_int_eq(r.port, 5432);
    ck_assert_str_eq(r.schema, "analytics");
    char *e = extra_json(&r);
    ck_assert_str_eq(e, "{\"sslmode\":\"require\",\"connect_timeout\":\"10\"}");
    free(e);
    char *back = round_trip(&r);
    ck_assert_str_eq(back, uri); /* nothing here needs escaping: the text comes back as it was */
    free(back);
    mlf_conn_rec_clear(&r);
}
END_TEST

START_TEST(test_minimal_and_partial_uris)
{
    mlf_conn_rec r = parse_ok("sqlite://");
    ck_assert_str_eq(r.conn_type, "sqlite");
    ck_assert_ptr_null(r.host);
    ck_assert_ptr_null(r.login);
    ck_assert_ptr_null(r.password);
    ck_assert_ptr_null(r.schema);
    ck_assert_ptr_null(r.extra);
    ck_assert_int_eq(r.port, 0);
    mlf_conn_rec_clear(&r);

    r = parse_ok("sqlite:////tmp/db.sqlite"); /* no host, the schema is a path */
    ck_assert_ptr_null(r.host);
    ck_assert_str_eq(r.schema, "/tmp/db.sqlite");
    mlf_conn_rec_clear(&r);

    r = parse_ok("redis://:pw@cache:6379"); /* a password without a login */
    ck_assert_ptr_null(r.login);
    ck_assert_str_eq(r.password, "pw");
    char *u = round_trip(&r);
    ck_assert_str_eq(u, "redis://:pw@cache:6379");
    free(u);
    mlf_conn_rec_clear(&r);

    r = parse_ok("ftp://anon@files"); /* a login without a password */
    ck_assert_str_eq(r.login, "anon");
    ck_assert_ptr_null(r.password);
    mlf_conn_rec_clear(&r);

    r = parse_ok("x://h:"); /* an empty port is no port, as Python's urlsplit */
    ck_assert_int_eq(r.port, 0);
    mlf_conn_rec_clear(&r);

    /* a port without host nor login is written "@:PORT", as Airflow's get_uri() */
    mlf_conn_rec_init(&r);
    r.conn_type = "generic";
    r.port = 8080;
    r.schema = "s";
    u = round_trip(&r);
    ck_assert_str_eq(u, "generic://@:8080/s");
    free(u);
}
END_TEST

START_TEST(test_percent_encoding)
{
    mlf_conn_rec r = parse_ok("mysql://us%40er%3Ax:p%40ss%2Fw%3Ard%3F%23%25@%2Ftmp%2Fmysql.sock/my%20db");
    ck_assert_str_eq(r.login, "us@er:x");
    ck_assert_str_eq(r.password, "p@ss/w:rd?#%");
    ck_assert_str_eq(r.host, "/tmp/mysql.sock");
    ck_assert_str_eq(r.schema, "my db");
    char *u = round_trip(&r);
    ck_assert_str_eq(u, "mysql://us%40er%3Ax:p%40ss%2Fw%3Ard%3F%23%25@%2Ftmp%2Fmysql.sock/my%20db");
    free(u);
    mlf_conn_rec_clear(&r);

    /* lower-case escapes and UTF-8 bytes */
    r = parse_ok("x://h/caf%c3%a9");
    ck_assert_str_eq(r.schema, "caf\xc3\xa9");
    mlf_conn_rec_clear(&r);

    /* every byte that is not unreserved is escaped on the way out and comes back */
    mlf_conn_rec_init(&r);
    r.conn_type = "x";
    r.login = "a b+c&d=e";
    r.password = "!$'()*,;[]~._-";
    r.host = "h";
    r.schema = "s?t#u";
    u = round_trip(&r);
    ck_assert_ptr_null(strchr(u + strlen("x://"), ' '));
    ck_assert_ptr_null(strchr(u, '#'));
    free(u);
}
END_TEST

START_TEST(test_conn_type_normalised)
{
    mlf_conn_rec r = parse_ok("google-cloud-platform://");
    ck_assert_str_eq(r.conn_type, "google_cloud_platform");
    char *u = round_trip(&r);
    ck_assert_str_eq(u, "google-cloud-platform://");
    free(u);
    mlf_conn_rec_clear(&r);
    r = parse_ok("postgresql://h");
    ck_assert_str_eq(r.conn_type, "postgres");
    mlf_conn_rec_clear(&r);
    r = parse_ok("MySQL://h");
    ck_assert_str_eq(r.conn_type, "mysql");
    mlf_conn_rec_clear(&r);
    r = parse_ok("my_type://h"); /* '_' is accepted in the scheme too */
    ck_assert_str_eq(r.conn_type, "my_type");
    mlf_conn_rec_clear(&r);
    char t[] = "a-b-c";
    mlf_conn_normalize_type(t);
    ck_assert_str_eq(t, "a_b_c");
    mlf_conn_normalize_type(NULL);
}
END_TEST

START_TEST(test_ipv6_and_host_protocol)
{
    mlf_conn_rec r = parse_ok("postgres://u:p@[::1]:5433/db");
    ck_assert_str_eq(r.host, "::1");
    ck_assert_int_eq(r.port, 5433);
    char *u = round_trip(&r);
    ck_assert_str_eq(u, "postgres://u:p@%3A%3A1:5433/db");
    free(u);
    mlf_conn_rec_clear(&r);
    r = parse_ok("x://[fe80::1]");
    ck_assert_str_eq(r.host, "fe80::1");
    ck_assert_int_eq(r.port, 0);
    mlf_conn_rec_clear(&r);

    r = parse_ok("http://https://user:pw@example.com:8443/v1");
    ck_assert_str_eq(r.conn_type, "http");
    ck_assert_str_eq(r.host, "https://example.com");
    ck_assert_str_eq(r.login, "user");
    ck_assert_int_eq(r.port, 8443);
    ck_assert_str_eq(r.schema, "v1");
    u = round_trip(&r);
    ck_assert_str_eq(u, "http://https://user:pw@example.com:8443/v1");
    free(u);
    mlf_conn_rec_clear(&r);

    /* "://" later in the URI is not a host protocol */
    r = parse_ok("http://h/p?next=http://x");
    ck_assert_str_eq(r.host, "h");
    char *e = extra_json(&r);
    ck_assert_str_eq(e, "{\"next\":\"http://x\"}");
    free(e);
    mlf_conn_rec_clear(&r);
}
END_TEST

START_TEST(test_query_extras)
{
    mlf_conn_rec r = parse_ok("x://h/s?a=1+2&b=%26%3D&flag&&a=3&empty=");
    char *e = extra_json(&r);
    /* '+' is a space, a name without '=' is "", a repeated name keeps the last value, "&&" is skipped */
    ck_assert_str_eq(e, "{\"a\":\"3\",\"b\":\"&=\",\"flag\":\"\",\"empty\":\"\"}");
    free(e);
    char *u = round_trip(&r);
    free(u);
    mlf_conn_rec_clear(&r);

    r = parse_ok("x://h?"); /* an empty query is no extra */
    ck_assert_ptr_null(r.extra);
    mlf_conn_rec_clear(&r);

    r = parse_ok("x://h?__extra__=%7B%22n%22%3A1%2C%22l%22%3A%5Btrue%2Cnull%5D%2C%22m%22%3A%7B%7D%7D");
    e = extra_json(&r);
    ck_assert_str_eq(e, "{\"n\":1,\"l\":[true,null],\"m\":{}}");
    free(e);
    /* extras that are not all strings go out as __extra__ and come back */
    u = round_trip(&r);
    ck_assert_ptr_nonnull(strstr(u, "/?__extra__=%7B"));
    free(u);
    mlf_conn_rec_clear(&r);

    /* an extra whose only key is __extra__ must not be mistaken for the JSON form */
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "__extra__", mlf_value_str("x"));
    mlf_conn_rec_init(&r);
    r.conn_type = "x";
    ck_assert_int_eq(mlf_value_pack(m, (void **)&r.extra, &r.extra_len), MLF_OK);
    mlf_value_free(m);
    u = round_trip(&r);
    free(u);
    free(r.extra);
}
END_TEST

START_TEST(test_bad_uris)
{
    parse_bad("", "no scheme");
    parse_bad("db.example.com:5432", "no scheme");
    parse_bad("://h", "no scheme");
    parse_bad("postgres:/h", "no scheme");
    parse_bad("1pg://h", "bad scheme");
    parse_bad("p g://h", "bad scheme: character ' '");
    parse_bad("pg://h:abc", "bad port");
    parse_bad("pg://h:70000", "bad port '70000'");
    parse_bad("pg://h:-1", "bad port");
    parse_bad("pg://h:12345678901234567890", "out of range");
    parse_bad("pg://h/%zz", "bad percent-escape '%zz' in the schema");
    parse_bad("pg://h/%4", "bad percent-escape '%4' in the schema");
    parse_bad("pg://h%", "bad percent-escape '%' in the host");
    parse_bad("pg://%g1@h", "in the login");
    parse_bad("pg://h/%00", "NUL");
    parse_bad("pg://h#frag", "'#'");
    parse_bad("pg://[::1/db", "unclosed '['");
    parse_bad("pg://[::1]x", "after ']'");
    parse_bad("pg://[::1]:x", "bad port");
    parse_bad("pg://h?=v", "empty name");
    parse_bad("pg://h?a=%zz", "bad percent-escape in the value of query parameter 'a'");
    parse_bad("pg://h?__extra__=notjson", "__extra__ is not valid JSON");
    parse_bad("pg://h?__extra__=%5B1%5D", "__extra__ must be a JSON object, not array");
    parse_bad("pg://h?__extra__=%7B%7D&a=1", "cannot be combined");

    /* a password is never quoted in a message, even when it breaks the parse */
    const char *leaky[] = {"pg://u:pa%zzss@h", "pg://u:hunter2/x@h", "pg://u:hunter2?@h"};
    for (size_t i = 0; i < 3; i++) {
        mlf_conn_rec r;
        char err[256] = "";
        ck_assert_int_eq(mlf_conn_from_uri("c", leaky[i], &r, err, sizeof err), MLF_EPARSE);
        ck_assert_msg(!strstr(err, "pa%") && !strstr(err, "zz") && !strstr(err, "hunter"), "leaks: %s", err);
    }

    mlf_conn_rec r;
    ck_assert_int_eq(mlf_conn_from_uri("c", NULL, &r, NULL, 0), MLF_EINVAL);
    ck_assert_int_eq(mlf_conn_from_uri("c", "x://", NULL, NULL, 0), MLF_EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------------------- masking */

START_TEST(test_masking)
{
    ck_assert(mlf_is_sensitive_name("password"));
    ck_assert(mlf_is_sensitive_name("DB_PASSWORD"));
    ck_assert(mlf_is_sensitive_name("my_Secret_key"));
    ck_assert(mlf_is_sensitive_name("github_token"));
    ck_assert(mlf_is_sensitive_name("ApiKey"));
    ck_assert(mlf_is_sensitive_name("x_api_key"));
    ck_assert(mlf_is_sensitive_name("private_key_file"));
    ck_assert(mlf_is_sensitive_name("passwd"));
    ck_assert(!mlf_is_sensitive_name("username"));
    ck_assert(!mlf_is_sensitive_name("keyspace"));
    ck_assert(!mlf_is_sensitive_name(NULL));

    mlf_conn_rec r = parse_ok("pg://u:hunter2@h:1/s?sslmode=require&api_token=abc");
    char *u = NULL;
    ck_assert_int_eq(mlf_conn_to_uri(&r, MLF_CONN_MASK, &u), MLF_OK);
    ck_assert_str_eq(u, "pg://u:***@h:1/s?sslmode=require&api_token=***");
    free(u);
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_conn_to_value(&r, MLF_CONN_MASK, &v), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(v, "password"), NULL), "***");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_map_get(v, "extra"), "api_token"), NULL), "***");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_map_get(v, "extra"), "sslmode"), NULL), "require");
    mlf_value_free(v);
    ck_assert_int_eq(mlf_conn_to_value(&r, 0, &v), MLF_OK); /* unmasked: the resolver's view */
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(v, "password"), NULL), "hunter2");
    mlf_value_free(v);
    mlf_conn_rec_clear(&r);

    /* nested sensitive keys are masked at any depth, inside arrays too, whatever their type */
    r = parse_ok("x://h?__extra__=%7B%22a%22%3A%5B%7B%22secret%22%3A%7B%22x%22%3A1%7D%7D%5D%2C%22n%22%3A2%7D");
    ck_assert_int_eq(mlf_conn_to_value(&r, MLF_CONN_MASK, &v), MLF_OK);
    char *j = NULL;
    ck_assert_int_eq(mlf_value_to_json(mlf_map_get(v, "extra"), &j), MLF_OK);
    ck_assert_str_eq(j, "{\"a\":[{\"secret\":\"***\"}],\"n\":2}");
    free(j);
    mlf_value_free(v);
    ck_assert_int_eq(mlf_conn_to_uri(&r, MLF_CONN_MASK, &u), MLF_OK);
    ck_assert_ptr_null(strstr(u, "%7B%22x"));
    free(u);
    mlf_conn_rec_clear(&r);
}
END_TEST

START_TEST(test_to_value_shape)
{
    mlf_conn_rec r = parse_ok("sqlite://");
    mlf_value *v = NULL;
    ck_assert_int_eq(mlf_conn_to_value(&r, MLF_CONN_MASK, &v), MLF_OK);
    const char *keys[] = {"conn_id", "conn_type", "host", "port", "login", "password", "schema", "extra"};
    ck_assert_uint_eq(mlf_value_len(v), 8);
    for (size_t i = 0; i < 8; i++)
        ck_assert_str_eq(mlf_map_key_at(v, i), keys[i]);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(v, "password")), MLF_NIL); /* absent is nil, even masked */
    ck_assert_int_eq(mlf_value_type(mlf_map_get(v, "port")), MLF_NIL);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(v, "extra")), MLF_NIL);
    mlf_value_free(v);
    mlf_conn_rec_clear(&r);

    /* a damaged extra is reported, not guessed at */
    mlf_conn_rec_init(&r);
    r.conn_type = "x";
    r.extra = (uint8_t *)"\xc1";
    r.extra_len = 1;
    ck_assert_int_eq(mlf_conn_to_value(&r, 0, &v), MLF_ECORRUPT);
    char *u = NULL;
    ck_assert_int_eq(mlf_conn_to_uri(&r, 0, &u), MLF_ECORRUPT);
    ck_assert_int_eq(mlf_conn_to_uri(NULL, 0, &u), MLF_EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------------------- JSON form */

START_TEST(test_json_form)
{
    const char *j = "{\"conn_type\": \"google-cloud\", \"description\": \"d\", \"host\": \"h\", \"port\": \"5432\","
                    " \"login\": \"l\", \"password\": \"p\", \"schema\": \"s\", \"extra\": {\"k\": [1, 2]}}";
    mlf_conn_rec r;
    char err[256] = "";
    ck_assert_int_eq(mlf_conn_from_json("c", j, strlen(j), &r, err, sizeof err), MLF_OK);
    ck_assert_str_eq(r.conn_type, "google_cloud");
    ck_assert_str_eq(r.description, "d");
    ck_assert_str_eq(r.host, "h");
    ck_assert_int_eq(r.port, 5432);
    ck_assert_str_eq(r.login, "l");
    ck_assert_str_eq(r.password, "p");
    ck_assert_str_eq(r.schema, "s");
    char *e = extra_json(&r);
    ck_assert_str_eq(e, "{\"k\":[1,2]}");
    free(e);
    mlf_conn_rec_clear(&r);

    j = "{\"conn_type\": \"x\", \"port\": 80, \"host\": null, \"extra\": \"{\\\"a\\\": \\\"b\\\"}\"}";
    ck_assert_int_eq(mlf_conn_from_json(NULL, j, strlen(j), &r, err, sizeof err), MLF_OK);
    ck_assert_ptr_null(r.conn_id);
    ck_assert_ptr_null(r.host);
    ck_assert_int_eq(r.port, 80);
    e = extra_json(&r);
    ck_assert_str_eq(e, "{\"a\":\"b\"}");
    free(e);
    mlf_conn_rec_clear(&r);

    ck_assert_int_eq(mlf_conn_from_json("c", "{}", 2, &r, err, sizeof err), MLF_OK);
    ck_assert_ptr_null(r.conn_type);
    mlf_conn_rec_clear(&r);

    json_bad("{", "not valid JSON");
    json_bad("[1]", "must be an object, not array");
    json_bad("{\"prot\": 1}", "unknown key 'prot'; did you mean 'port'?");
    json_bad("{\"port\": \"abc\"}", "bad port");
    json_bad("{\"port\": 70000}", "bad port 70000");
    json_bad("{\"port\": 1.5}", "'port' must be a number");
    json_bad("{\"host\": 5}", "'host' must be a string, not int");
    json_bad("{\"extra\": [1]}", "'extra' must be an object");
    json_bad("{\"extra\": \"nope\"}", "the 'extra' string is not valid JSON");
    json_bad("{\"extra\": \"[1]\"}", "must be a JSON object");
    json_bad("{\"login\": \"a\\u0000b\"}", "NUL");
}
END_TEST

/* ----------------------------------------------------------------------------------------- lookup */

START_TEST(test_env_resolution)
{
    setenv("MLFLOWD_CONN_MY_DB", "postgres://u:p%40ss@db:5432/s?sslmode=require", 1);
    mlf_value *f = NULL;
    char err[256] = "";
    ck_assert_int_eq(mlf_conn_resolve(NULL, "my_db", &f, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(f, "conn_id"), NULL), "my_db");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(f, "conn_type"), NULL), "postgres");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(f, "password"), NULL), "p@ss");
    int64_t port = 0;
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(f, "port"), &port), MLF_OK);
    ck_assert_int_eq(port, 5432);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(mlf_map_get(f, "extra"), "sslmode"), NULL), "require");
    mlf_value_free(f);

    /* the JSON form, after white space, as AIRFLOW_CONN_ accepts it */
    setenv("MLFLOWD_CONN_API", "  \n{\"conn_type\": \"http\", \"host\": \"api.example.com\"}", 1);
    ck_assert_int_eq(mlf_conn_resolve(NULL, "api", &f, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(f, "host"), NULL), "api.example.com");
    ck_assert_int_eq(mlf_value_type(mlf_map_get(f, "login")), MLF_NIL);
    ck_assert_int_eq(mlf_value_type(mlf_map_get(f, "extra")), MLF_NIL);
    mlf_value_free(f);

    unsetenv("MLFLOWD_CONN_NOPE");
    ck_assert_int_eq(mlf_conn_resolve(NULL, "nope", &f, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(err, "$MLFLOWD_CONN_NOPE is not set"));

    setenv("MLFLOWD_CONN_BROKEN", "postgres://h:99999", 1);
    ck_assert_int_eq(mlf_conn_resolve(NULL, "broken", &f, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "$MLFLOWD_CONN_BROKEN: bad port"));
    setenv("MLFLOWD_CONN_BROKEN", "{\"conn_type\": 1}", 1);
    ck_assert_int_eq(mlf_conn_resolve(NULL, "broken", &f, err, sizeof err), MLF_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "$MLFLOWD_CONN_BROKEN: 'conn_type' must be a string"));

    ck_assert_int_eq(mlf_conn_resolve(NULL, "", &f, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_conn_resolve(NULL, NULL, &f, err, sizeof err), MLF_EINVAL);
    ck_assert_int_eq(mlf_conn_resolve(NULL, "api", NULL, err, sizeof err), MLF_EINVAL);
    unsetenv("MLFLOWD_CONN_MY_DB");
    unsetenv("MLFLOWD_CONN_API");
    unsetenv("MLFLOWD_CONN_BROKEN");
}
END_TEST

START_TEST(test_store_before_env)
{
    char dir[] = "/tmp/mlf-conn-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    mlf_store *st = NULL;
    char err[256] = "";
    ck_assert_int_eq(mlf_store_open(dir, MLF_STORE_CREATE, &st, err, sizeof err), MLF_OK);
    static const unsigned char key[MLF_STORE_SECRETS_KEY_LEN] = {7};
    ck_assert_int_eq(mlf_store_secrets_key(st, key, err, sizeof err), MLF_OK);
    mlf_conn_rec r = parse_ok("postgres://store-user:pw@store-host:1/s");
    free(r.conn_id);
    r.conn_id = strdup("both");
    mlf_store_txn *w;
    ck_assert_int_eq(mlf_store_write_begin(st, &w), MLF_OK);
    ck_assert_int_eq(mlf_store_conn_put(w, &r), MLF_OK);
    ck_assert_int_eq(mlf_store_write_commit(w), MLF_OK);
    mlf_conn_rec_clear(&r);

    setenv("MLFLOWD_CONN_BOTH", "postgres://env-host", 1);
    setenv("MLFLOWD_CONN_ENV_ONLY", "http://env-only-host", 1);
    mlf_store_txn *txn;
    ck_assert_int_eq(mlf_store_read_begin(st, &txn), MLF_OK);
    mlf_value *f = NULL;
    ck_assert_int_eq(mlf_conn_resolve(txn, "both", &f, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(f, "host"), NULL), "store-host");
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(f, "conn_id"), NULL), "both");
    mlf_value_free(f);
    ck_assert_int_eq(mlf_conn_resolve(txn, "env_only", &f, err, sizeof err), MLF_OK);
    ck_assert_str_eq(mlf_value_get_str(mlf_map_get(f, "host"), NULL), "env-only-host");
    mlf_value_free(f);
    ck_assert_int_eq(mlf_conn_resolve(txn, "missing", &f, err, sizeof err), MLF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "not in the state store"));
    mlf_store_read_end(txn);
    mlf_store_close(st);
    unsetenv("MLFLOWD_CONN_BOTH");
    unsetenv("MLFLOWD_CONN_ENV_ONLY");
    char p[64];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conn_uri");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_full_uri);
    tcase_add_test(tc, test_minimal_and_partial_uris);
    tcase_add_test(tc, test_percent_encoding);
    tcase_add_test(tc, test_conn_type_normalised);
    tcase_add_test(tc, test_ipv6_and_host_protocol);
    tcase_add_test(tc, test_query_extras);
    tcase_add_test(tc, test_bad_uris);
    tcase_add_test(tc, test_masking);
    tcase_add_test(tc, test_to_value_shape);
    tcase_add_test(tc, test_json_form);
    tcase_add_test(tc, test_env_resolution);
    tcase_add_test(tc, test_store_before_env);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
