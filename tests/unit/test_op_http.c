/* Unit tests for the http plugin (plugins/http): the `http` operator, the `http_sensor` and the `http` hook,
 * loaded from their .la and run through the SDK task context against an HTTP server started inside the test
 * on 127.0.0.1 (tests/unit/http_test_server.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_test_server.h"
#include "plugin/registry.h"
#include "base/strutil.h"
#include "plugin/task_ctx.h"

static mlf_catalog *cat;
static test_server *srv;
static int closed_port;
static char logpath[64];
static int logfd = -1;
static mlf_task_ctx *ctx;
static mlf_value *params;

/* alice:s3cret-pw */
#define ALICE_BASIC "Basic YWxpY2U6czNjcmV0LXB3"

static int conns(void *ud, const char *conn_id, mlf_value **out)
{
    (void)ud;
    mlf_value *m = mlf_value_map();
    mlf_map_set(m, "conn_type", mlf_value_str("http"));
    if (strcmp(conn_id, "web") == 0) {
        mlf_value *extra = mlf_value_map();
        mlf_map_set(extra, "X-Conn", mlf_value_str("from-conn"));
        mlf_map_set(extra, "X-Both", mlf_value_str("conn"));
        mlf_map_set(extra, "timeout", mlf_value_int(5)); /* an Airflow transfer option: never a header */
        mlf_map_set(m, "host", mlf_value_str("127.0.0.1"));
        mlf_map_set(m, "port", mlf_value_int(ts_port(srv)));
        mlf_map_set(m, "login", mlf_value_str("alice"));
        mlf_map_set(m, "password", mlf_value_str("s3cret-pw"));
        mlf_map_set(m, "extra", extra);
    } else if (strcmp(conn_id, "web_url") == 0) {
        mlf_map_set(m, "host", mlf_value_str("http://127.0.0.1"));
        mlf_map_set(m, "port", mlf_value_int(ts_port(srv)));
    } else if (strcmp(conn_id, "closed") == 0) {
        mlf_map_set(m, "host", mlf_value_str("127.0.0.1"));
        mlf_map_set(m, "port", mlf_value_int(closed_port));
    } else if (strcmp(conn_id, "nohost") == 0) {
        mlf_map_set(m, "port", mlf_value_int(80));
    } else {
        mlf_value_free(m);
        return MLF_ENOTFOUND;
    }
    *out = m;
    return MLF_OK;
}

static void setup(void)
{
    cat = ts_load_plugin("http");
    srv = ts_start();
    closed_port = ts_closed_port();
    strcpy(logpath, "/tmp/mlf-http-log-XXXXXX");
    logfd = mkstemp(logpath);
    ck_assert_int_ge(logfd, 0);
}

static void teardown(void)
{
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    ctx = NULL;
    params = NULL;
    ts_stop(srv);
    mlf_catalog_free(cat);
    close(logfd);
    unlink(logpath);
}

static char *log_text(void)
{
    FILE *f = fopen(logpath, "r");
    ck_assert_ptr_nonnull(f);
    mlf_buf b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        mlf_buf_append(&b, buf, n);
    fclose(f);
    mlf_buf_puts(&b, "");
    return mlf_buf_steal(&b);
}

/* New parameters naming a connection, an endpoint and (when not NULL) a method. */
static mlf_value *task(const char *conn_id, const char *endpoint, const char *method)
{
    mlf_value *p = mlf_value_map();
    mlf_map_set(p, "conn_id", mlf_value_str(conn_id));
    if (endpoint)
        mlf_map_set(p, "endpoint", mlf_value_str(endpoint));
    if (method)
        mlf_map_set(p, "method", mlf_value_str(method));
    return p;
}

/* Runs operator @p op_name with @p p (ownership taken) in a fresh context. */
static mlf_outcome run(const char *op_name, mlf_value *p)
{
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
    const mlf_operator_desc *op = mlf_catalog_operator(cat, op_name);
    ck_assert_ptr_nonnull(op);
    mlf_task_ctx_init in = {.dag_id = "d", .task_id = "call", .run_id = "manual__1", .try_number = 1,
                            .map_index = -1, .log_fd = logfd, .conn_lookup = conns};
    in.params = params = p;
    ctx = mlf_task_ctx_new(&in);
    ck_assert_ptr_nonnull(ctx);
    return op->execute(ctx, op->data);
}

static const mlf_value *xcom(void)
{
    return mlf_map_get(mlf_task_ctx_xcoms(ctx), "return_value");
}

static const char *message(void)
{
    const char *m = mlf_task_ctx_message(ctx);
    return m ? m : "";
}

/* ---- the operator ---- */

START_TEST(test_post_json_pushes_parsed_xcom)
{
    mlf_value *p = task("web", "/json", NULL); /* POST by default, as Airflow's HttpOperator */
    mlf_value *data = mlf_value_map();
    mlf_map_set(data, "symbol", mlf_value_str("btc"));
    mlf_map_set(data, "qty", mlf_value_int(2));
    mlf_map_set(p, "data", data);
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ts_request r = ts_last(srv);
    char h[256];
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.path, "/json");
    ck_assert_str_eq(r.body, "{\"symbol\":\"btc\",\"qty\":2}");
    ck_assert_str_eq(ts_header(&r, "Content-Type", h, sizeof h), "application/json");
    const mlf_value *v = xcom();
    ck_assert_int_eq(mlf_value_type(v), MLF_MAP);
    int b = 0;
    int64_t n = 0;
    double pi = 0;
    ck_assert_int_eq(mlf_value_get_bool(mlf_map_get(v, "ok"), &b), MLF_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(mlf_value_get_int(mlf_map_get(v, "n"), &n), MLF_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(mlf_value_get_float(mlf_map_get(v, "pi"), &pi), MLF_OK);
    ck_assert_double_eq(pi, 1.5);
    ck_assert_str_eq(mlf_value_get_str(mlf_array_at(mlf_map_get(v, "items"), 1), NULL), "b");
    ck_assert_int_eq(mlf_value_type(mlf_map_get(v, "none")), MLF_NIL);
    ck_assert_str_eq(mlf_map_key_at(v, 0), "ok"); /* key order kept */
}
END_TEST

START_TEST(test_basic_auth_and_header_layers)
{
    mlf_value *p = task("web", "/text", "GET");
    mlf_value *headers = mlf_value_map();
    mlf_map_set(headers, "x-both", mlf_value_str("task")); /* any case replaces the connection's */
    mlf_map_set(headers, "X-Count", mlf_value_int(7));
    mlf_map_set(p, "headers", headers);
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ts_request r = ts_last(srv);
    char h[256];
    ck_assert_str_eq(ts_header(&r, "Authorization", h, sizeof h), ALICE_BASIC);
    ck_assert_str_eq(ts_header(&r, "X-Conn", h, sizeof h), "from-conn");
    ck_assert_str_eq(ts_header(&r, "X-Both", h, sizeof h), "task");
    ck_assert_str_eq(ts_header(&r, "X-Count", h, sizeof h), "7");
    ck_assert_ptr_null(ts_header(&r, "timeout", h, sizeof h));
    ck_assert_str_eq(mlf_value_get_str(xcom(), NULL), "plain words");
    char *log = log_text();
    ck_assert_ptr_null(strstr(log, "s3cret-pw"));
    ck_assert_ptr_nonnull(strstr(log, "Calling HTTP method GET on http://127.0.0.1:"));
    free(log);
}
END_TEST

START_TEST(test_get_data_becomes_query)
{
    mlf_value *p = task("web", "/text?fixed=1", "GET");
    mlf_value *data = mlf_value_map(), *many = mlf_value_array();
    mlf_array_append(many, mlf_value_str("x"));
    mlf_array_append(many, mlf_value_str("y"));
    mlf_map_set(data, "q", mlf_value_str("a b&c"));
    mlf_map_set(data, "tag", many);
    mlf_map_set(data, "skip", mlf_value_nil());
    mlf_map_set(p, "data", data);
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ts_request r = ts_last(srv);
    ck_assert_str_eq(r.method, "GET");
    ck_assert_uint_eq(r.body_len, 0);
    /* decoded by the server: the pairs arrived intact, a list repeated its key, nil was left out */
    ck_assert_ptr_nonnull(strstr(r.query, "fixed=1"));
    ck_assert_ptr_nonnull(strstr(r.query, "q=a b&c"));
    ck_assert_ptr_nonnull(strstr(r.query, "tag="));
    ck_assert_ptr_null(strstr(r.query, "skip"));
}
END_TEST

START_TEST(test_put_string_body_is_sent_as_is)
{
    mlf_value *p = task("web", "/", "PUT");
    mlf_map_set(p, "data", mlf_value_str("raw=text"));
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ts_request r = ts_last(srv);
    char h[256];
    ck_assert_str_eq(r.method, "PUT");
    ck_assert_str_eq(r.body, "raw=text");
    ck_assert_ptr_null(ts_header(&r, "Content-Type", h, sizeof h)); /* not libcurl's form default */
    ck_assert_ptr_null(ts_header(&r, "Expect", h, sizeof h));
}
END_TEST

START_TEST(test_http_500_fails_with_status_and_body)
{
    ck_assert_int_eq(run("http", task("web", "/fail", NULL)), MLF_FAILED);
    char want[512];
    int n = snprintf(want, sizeof want, "HTTP 500 from POST http://127.0.0.1:%d/fail: database on fire ", ts_port(srv));
    memset(want + n, 'x', 183); /* the first 200 bytes of the body, its newline shown as a space */
    want[n + 183] = '\0';
    ck_assert_str_eq(message(), want);
    ck_assert_ptr_null(xcom());
}
END_TEST

START_TEST(test_response_check_none_accepts_404)
{
    mlf_value *p = task("web", "/nowhere", "GET");
    mlf_map_set(p, "response_check", mlf_value_str("none"));
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ck_assert_str_eq(mlf_value_get_str(xcom(), NULL), "no such thing");
    p = task("web", "/nowhere", "GET");
    mlf_map_set(p, "response_check", mlf_value_str("maybe"));
    size_t before = ts_count(srv);
    ck_assert_int_eq(run("http", p), MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(), "http: response_check must be status_2xx or none, not 'maybe'");
    ck_assert_uint_eq(ts_count(srv), before);
}
END_TEST

START_TEST(test_unreachable_host_fails_with_curl_message)
{
    ck_assert_int_eq(run("http", task("closed", "/x", NULL)), MLF_FAILED);
    char want[128];
    snprintf(want, sizeof want, "POST http://127.0.0.1:%d/x: ", closed_port);
    ck_assert_msg(strncmp(message(), want, strlen(want)) == 0, "message: %s", message());
    ck_assert_msg(strstr(message(), "onnect") != NULL, "message: %s", message()); /* libcurl: "Failed to connect" */
}
END_TEST

START_TEST(test_missing_connection_and_host)
{
    ck_assert_int_eq(run("http", task("nosuch", "/x", NULL)), MLF_FAILED);
    ck_assert_str_eq(message(), "http: connection 'nosuch' is not defined");
    ck_assert_int_eq(run("http", task("nohost", "/x", NULL)), MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(), "http: connection 'nohost' has no host");
    mlf_value *p = mlf_value_map();
    ck_assert_int_eq(run("http", p), MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(), "http: conn_id is required");
}
END_TEST

START_TEST(test_timeout_fails_fast)
{
    mlf_value *p = task("web", "/slow", "GET");
    mlf_map_set(p, "timeout", mlf_value_int(200000)); /* durations arrive as µs */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(run("http", p), MLF_FAILED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(took < 2.0, "took %.2f s", took);
    ck_assert_msg(strstr(message(), "timed out") != NULL, "message: %s", message());
    p = task("web", "/slow", "GET");
    mlf_map_set(p, "timeout", mlf_value_int(-1));
    ck_assert_int_eq(run("http", p), MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(), "http: timeout must not be negative");
}
END_TEST

START_TEST(test_body_over_max_response_bytes_fails)
{
    mlf_value *p = task("web", "/big", "GET");
    mlf_map_set(p, "max_response_bytes", mlf_value_int(100));
    ck_assert_int_eq(run("http", p), MLF_FAILED);
    char want[256];
    snprintf(want, sizeof want, "the response of GET http://127.0.0.1:%d/big is larger than max_response_bytes (100)",
             ts_port(srv));
    ck_assert_str_eq(message(), want);
    p = task("web", "/big", "GET");
    mlf_map_set(p, "max_response_bytes", mlf_value_int(0));
    ck_assert_int_eq(run("http", p), MLF_FAILED_NO_RETRY);
    ck_assert_int_eq(run("http", task("web", "/big", "GET")), MLF_SUCCESS); /* 5000 bytes under the 1 MiB default */
    ck_assert_uint_eq(mlf_value_len(xcom()), 5000);
}
END_TEST

START_TEST(test_invalid_json_is_pushed_as_text)
{
    mlf_value *p = task("web", "/badjson", "GET");
    mlf_map_set(p, "log_response", mlf_value_bool(1));
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ck_assert_str_eq(mlf_value_get_str(xcom(), NULL), "{not json");
    char *log = log_text();
    ck_assert_ptr_nonnull(strstr(log, "WARNING - the response is typed application/json but is not usable JSON"));
    ck_assert_ptr_nonnull(strstr(log, "Response: {not json"));
    free(log);
}
END_TEST

START_TEST(test_header_injection_is_refused)
{
    mlf_value *p = task("web", "/", "GET");
    mlf_value *headers = mlf_value_map();
    mlf_map_set(headers, "X-Evil", mlf_value_str("a\r\nInjected: 1"));
    mlf_map_set(p, "headers", headers);
    size_t before = ts_count(srv);
    ck_assert_int_eq(run("http", p), MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(), "http: the value of header 'X-Evil' contains a line break");
    p = task("web", "/", "GET");
    headers = mlf_value_map();
    mlf_map_set(headers, "Bad Name", mlf_value_str("v"));
    mlf_map_set(p, "headers", headers);
    ck_assert_int_eq(run("http", p), MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(message(), "http: header name 'Bad Name' is not a valid HTTP token");
    ck_assert_uint_eq(ts_count(srv), before);
}
END_TEST

START_TEST(test_host_with_scheme_redirects_and_no_xcom)
{
    /* host "http://127.0.0.1" gets the connection's port; "json" is joined with one slash */
    mlf_value *p = task("web_url", "redirect", "GET");
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ts_request r = ts_last(srv);
    char h[256];
    ck_assert_str_eq(r.path, "/json"); /* the redirect was followed */
    ck_assert_ptr_null(ts_header(&r, "Authorization", h, sizeof h));
    ck_assert_int_eq(mlf_value_type(xcom()), MLF_MAP);
    p = task("web_url", "/text", "GET");
    mlf_map_set(p, "do_xcom_push", mlf_value_bool(0));
    ck_assert_int_eq(run("http", p), MLF_SUCCESS);
    ck_assert_ptr_null(xcom());
}
END_TEST

/* A redirect to another origin is refused unless the connection allows it: it would hand the request's
 * headers (custom auth headers included) to another host, or downgrade https to http. */
START_TEST(test_cross_origin_redirect_refused)
{
    mlf_value *p = task("web", "/away", "GET");
    mlf_value *headers = mlf_value_map();
    mlf_map_set(headers, "X-Api-Key", mlf_value_str("k-123"));
    mlf_map_set(p, "headers", headers);
    size_t before = ts_count(srv);
    ck_assert_int_ne(run("http", p), MLF_SUCCESS);
    ck_assert_msg(strstr(message(), "refusing the redirect") && strstr(message(), "the host changes"), "%s",
                  message());
    ck_assert_uint_eq(ts_count(srv), before + 1); /* /away only: /json was never asked for */
}
END_TEST

START_TEST(test_head_request)
{
    ck_assert_int_eq(run("http", task("web", "/text", "HEAD")), MLF_SUCCESS);
    ck_assert_str_eq(ts_last(srv).method, "HEAD");
    ck_assert_str_eq(mlf_value_get_str(xcom(), NULL), "");
}
END_TEST

/* ---- the sensor ---- */

START_TEST(test_sensor_200_succeeds)
{
    ck_assert_int_eq(run("http_sensor", task("web", "/ready", NULL)), MLF_SUCCESS);
    ck_assert_str_eq(ts_last(srv).method, "GET"); /* GET by default, as Airflow's HttpSensor */
    mlf_value *p = task("web", "/ready", NULL);
    mlf_map_set(p, "response_contains", mlf_value_str("ready"));
    ck_assert_int_eq(run("http_sensor", p), MLF_SUCCESS);
}
END_TEST

START_TEST(test_sensor_404_and_missing_text_reschedule)
{
    ck_assert_int_eq(run("http_sensor", task("web", "/nowhere", NULL)), MLF_RESCHEDULE);
    char want[256];
    snprintf(want, sizeof want, "HTTP 404 from GET http://127.0.0.1:%d/nowhere: no such thing", ts_port(srv));
    ck_assert_str_eq(message(), want);
    ck_assert_int_eq(run("http_sensor", task("web", "/fail", NULL)), MLF_RESCHEDULE);
    mlf_value *p = task("web", "/ready", NULL);
    mlf_map_set(p, "response_contains", mlf_value_str("done"));
    ck_assert_int_eq(run("http_sensor", p), MLF_RESCHEDULE);
    ck_assert_int_eq(run("http_sensor", task("closed", "/", NULL)), MLF_RESCHEDULE);
}
END_TEST

START_TEST(test_sensor_401_403_fail_without_retry)
{
    ck_assert_int_eq(run("http_sensor", task("web", "/secret", NULL)), MLF_FAILED_NO_RETRY);
    ck_assert_msg(strstr(message(), "HTTP 401 from GET") == message(), "message: %s", message());
    ck_assert_int_eq(run("http_sensor", task("web", "/forbidden", NULL)), MLF_FAILED_NO_RETRY);
    ck_assert_msg(strstr(message(), "HTTP 403 from GET") == message(), "message: %s", message());
    ck_assert_int_eq(run("http_sensor", task("nosuch", "/", NULL)), MLF_FAILED);
}
END_TEST

/* ---- the hook ---- */

START_TEST(test_hook_test_connection)
{
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_HOOK, "http");
    ck_assert_ptr_nonnull(e);
    const mlf_hook_desc *hook = e->desc;
    ck_assert_str_eq(hook->conn_type, "http");
    mlf_value *extra = mlf_value_map();
    mlf_connection c = {.struct_size = sizeof c, .conn_id = "t", .conn_type = "http", .host = "127.0.0.1",
                        .port = ts_port(srv), .login = "alice", .password = "s3cret-pw", .extra = extra};
    char err[512] = "";
    ck_assert_int_eq(hook->test_connection(&c, err, sizeof err), MLF_OK);
    char h[256];
    ts_request r = ts_last(srv);
    ck_assert_str_eq(ts_header(&r, "Authorization", h, sizeof h), ALICE_BASIC);
    c.port = closed_port;
    ck_assert_int_eq(hook->test_connection(&c, err, sizeof err), MLF_EIO);
    ck_assert_msg(strncmp(err, "GET http://127.0.0.1:", 21) == 0, "err: %s", err);
    c.port = ts_port(srv);
    c.host = "http://127.0.0.1/secret";
    ck_assert_int_eq(hook->test_connection(&c, err, sizeof err), MLF_EIO);
    ck_assert_msg(strstr(err, "HTTP 401 from GET") == err, "err: %s", err);
    mlf_value_free(extra);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("op_http");
    TCase *op = tcase_create("operator");
    tcase_add_checked_fixture(op, setup, teardown);
    tcase_add_test(op, test_post_json_pushes_parsed_xcom);
    tcase_add_test(op, test_basic_auth_and_header_layers);
    tcase_add_test(op, test_get_data_becomes_query);
    tcase_add_test(op, test_put_string_body_is_sent_as_is);
    tcase_add_test(op, test_http_500_fails_with_status_and_body);
    tcase_add_test(op, test_response_check_none_accepts_404);
    tcase_add_test(op, test_unreachable_host_fails_with_curl_message);
    tcase_add_test(op, test_missing_connection_and_host);
    tcase_add_test(op, test_timeout_fails_fast);
    tcase_add_test(op, test_body_over_max_response_bytes_fails);
    tcase_add_test(op, test_invalid_json_is_pushed_as_text);
    tcase_add_test(op, test_header_injection_is_refused);
    tcase_add_test(op, test_host_with_scheme_redirects_and_no_xcom);
    tcase_add_test(op, test_cross_origin_redirect_refused);
    tcase_add_test(op, test_head_request);
    suite_add_tcase(s, op);
    TCase *sensor = tcase_create("sensor");
    tcase_add_checked_fixture(sensor, setup, teardown);
    tcase_add_test(sensor, test_sensor_200_succeeds);
    tcase_add_test(sensor, test_sensor_404_and_missing_text_reschedule);
    tcase_add_test(sensor, test_sensor_401_403_fail_without_retry);
    suite_add_tcase(s, sensor);
    TCase *hook = tcase_create("hook");
    tcase_add_checked_fixture(hook, setup, teardown);
    tcase_add_test(hook, test_hook_test_connection);
    suite_add_tcase(s, hook);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
