/* Unit tests for the notifiers plugin (plugins/notifiers): `webhook` against an HTTP server started inside the
 * test (tests/unit/http_test_server.c) and `email` against a small SMTP sink thread, both on 127.0.0.1. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_test_server.h"
#include "plugin/registry.h"
#include "base/strutil.h"

static mlf_catalog *cat;
static test_server *srv;
static mlf_value *event, *config;
static char err[1024];

/* ---- an SMTP sink: one session, enough of RFC 5321 for libcurl ---- */

typedef struct smtp_sink {
    int fd, port;
    pthread_t thread;
    volatile int stop;
    mlf_buf commands; /* every command line the client sent, "\n"-separated */
    mlf_buf data;     /* the message received with DATA, dot-unstuffed, CRLF kept */
} smtp_sink;

static smtp_sink sink;

/* Reads one CRLF-terminated line into @p line (without CRLF). Returns its length, or -1 at EOF, error or stop. */
static int sink_line(int fd, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 50);
        if (sink.stop)
            return -1;
        if (r <= 0)
            continue;
        char ch;
        if (recv(fd, &ch, 1, 0) != 1)
            return -1;
        if (ch == '\n') {
            if (n && line[n - 1] == '\r')
                n--;
            line[n] = '\0';
            return (int)n;
        }
        if (n + 1 < cap)
            line[n++] = ch;
    }
}

static void sink_say(int fd, const char *s)
{
    ssize_t w = send(fd, s, strlen(s), MSG_NOSIGNAL);
    (void)w;
}

static void *sink_main(void *ud)
{
    (void)ud;
    int c = -1;
    while (!sink.stop && c < 0) {
        struct pollfd p = {.fd = sink.fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0)
            c = accept(sink.fd, NULL, NULL);
    }
    if (c < 0)
        return NULL;
    char line[2048];
    sink_say(c, "220 sink ESMTP ready\r\n");
    while (sink_line(c, line, sizeof line) >= 0) {
        mlf_buf_printf(&sink.commands, "%s\n", line);
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            sink_say(c, "250 sink\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            sink_say(c, "250 sender ok\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            sink_say(c, strstr(line, "reject") ? "550 no such user here\r\n" : "250 recipient ok\r\n");
        } else if (strcasecmp(line, "DATA") == 0) {
            sink_say(c, "354 end with <CRLF>.<CRLF>\r\n");
            int n;
            while ((n = sink_line(c, line, sizeof line)) >= 0 && strcmp(line, ".") != 0)
                mlf_buf_printf(&sink.data, "%s\r\n", line[0] == '.' ? line + 1 : line);
            sink_say(c, "250 queued\r\n");
        } else if (strcasecmp(line, "QUIT") == 0) {
            sink_say(c, "221 bye\r\n");
            break;
        } else {
            sink_say(c, "502 not implemented\r\n");
        }
    }
    close(c);
    return NULL;
}

static void sink_start(void)
{
    memset(&sink, 0, sizeof sink);
    sink.fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(sink.fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    ck_assert_int_eq(bind(sink.fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(sink.fd, 4), 0);
    ck_assert_int_eq(getsockname(sink.fd, (struct sockaddr *)&sin, &len), 0);
    sink.port = ntohs(sin.sin_port);
    ck_assert_int_eq(pthread_create(&sink.thread, NULL, sink_main, NULL), 0);
}

/* Waits for the session to end (or ends it) so that the transcript can be read. */
static void sink_finish(void)
{
    sink.stop = 1;
    pthread_join(sink.thread, NULL);
    close(sink.fd);
    mlf_buf_puts(&sink.commands, "");
    mlf_buf_puts(&sink.data, "");
}

/* ---- fixture ---- */

static void setup(void)
{
    cat = ts_load_plugin("notifiers");
    srv = ts_start();
    event = mlf_value_map();
    mlf_map_set(event, "dag_id", mlf_value_str("etl"));
    mlf_map_set(event, "run_id", mlf_value_str("manual__2024-01-01"));
    mlf_map_set(event, "task_id", mlf_value_str("load"));
    mlf_map_set(event, "state", mlf_value_str("failed"));
    mlf_map_set(event, "try_number", mlf_value_int(2));
    mlf_map_set(event, "message", mlf_value_str("boom"));
    config = mlf_value_map();
    err[0] = '\0';
}

static void teardown(void)
{
    mlf_value_free(event);
    mlf_value_free(config);
    ts_stop(srv);
    mlf_catalog_free(cat);
    mlf_buf_free(&sink.commands);
    mlf_buf_free(&sink.data);
}

static int notify(const char *name)
{
    const mlf_reg_entry *e = mlf_catalog_find(cat, MLF_REG_NOTIFIER, name);
    ck_assert_ptr_nonnull(e);
    const mlf_notifier_desc *d = e->desc;
    return d->notify(event, config, err, sizeof err);
}

static void set_url(const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", ts_port(srv), path);
    mlf_map_set(config, "url", mlf_value_str(url));
}

/* ---- webhook ---- */

START_TEST(test_webhook_posts_event_as_json)
{
    set_url("/hook");
    mlf_value *headers = mlf_value_map();
    mlf_map_set(headers, "X-Token", mlf_value_str("abc"));
    mlf_map_set(config, "headers", headers);
    ck_assert_int_eq(notify("webhook"), MLF_OK);
    ts_request r = ts_last(srv);
    char h[256], *want = NULL;
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.path, "/hook");
    ck_assert_int_eq(mlf_value_to_json(event, &want), MLF_OK);
    ck_assert_str_eq(r.body, want);
    ck_assert_ptr_nonnull(strstr(r.body, "\"state\":\"failed\""));
    ck_assert_str_eq(ts_header(&r, "Content-Type", h, sizeof h), "application/json");
    ck_assert_str_eq(ts_header(&r, "X-Token", h, sizeof h), "abc");
    free(want);
}
END_TEST

START_TEST(test_webhook_http_error)
{
    set_url("/hook500");
    ck_assert_int_eq(notify("webhook"), MLF_EIO);
    char want[256];
    snprintf(want, sizeof want, "webhook: HTTP 500 from POST http://127.0.0.1:%d/hook500: webhook broke", ts_port(srv));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_webhook_unreachable_and_timeout)
{
    int port = ts_closed_port();
    char url[128], want[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
    mlf_map_set(config, "url", mlf_value_str(url));
    ck_assert_int_eq(notify("webhook"), MLF_EIO);
    snprintf(want, sizeof want, "webhook: POST %s: ", url);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err: %s", err);
    set_url("/slow");
    mlf_map_set(config, "timeout", mlf_value_int(200000));
    ck_assert_int_eq(notify("webhook"), MLF_ETIMEDOUT);
    ck_assert_msg(strstr(err, "timed out") != NULL, "err: %s", err);
}
END_TEST

START_TEST(test_webhook_bad_config)
{
    ck_assert_int_eq(notify("webhook"), MLF_EINVAL);
    ck_assert_str_eq(err, "webhook: url is required");
    mlf_map_set(config, "url", mlf_value_int(3));
    ck_assert_int_eq(notify("webhook"), MLF_EINVAL);
    ck_assert_str_eq(err, "webhook: url must be a string, not int");
    mlf_map_set(config, "url", mlf_value_str("ftp://127.0.0.1/x"));
    ck_assert_int_eq(notify("webhook"), MLF_EINVAL);
    set_url("/hook");
    mlf_map_set(config, "timeout", mlf_value_str("soon"));
    ck_assert_int_eq(notify("webhook"), MLF_EINVAL);
    ck_assert_str_eq(err, "webhook: timeout must be a non-negative duration");
    mlf_map_remove(config, "timeout");
    mlf_value *headers = mlf_value_map();
    mlf_map_set(headers, "X-Evil", mlf_value_str("a\nBcc: x"));
    mlf_map_set(config, "headers", headers);
    ck_assert_int_eq(notify("webhook"), MLF_EINVAL);
    ck_assert_str_eq(err, "webhook: the value of header 'X-Evil' contains a line break");
}
END_TEST

/* ---- email ---- */

static void email_config(void)
{
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", sink.port);
    mlf_map_set(config, "smtp_url", mlf_value_str(url));
    mlf_map_set(config, "from", mlf_value_str("ops@example.com"));
    mlf_value *to = mlf_value_array();
    mlf_array_append(to, mlf_value_str("a@example.com"));
    mlf_array_append(to, mlf_value_str("b@example.com"));
    mlf_map_set(config, "to", to);
}

START_TEST(test_email_is_sent)
{
    sink_start();
    email_config();
    ck_assert_msg(notify("email") == MLF_OK, "err: %s", err);
    sink_finish();
    const char *cmds = sink.commands.data, *msg = sink.data.data;
    ck_assert_ptr_nonnull(strstr(cmds, "MAIL FROM:<ops@example.com>"));
    ck_assert_ptr_nonnull(strstr(cmds, "RCPT TO:<a@example.com>"));
    ck_assert_ptr_nonnull(strstr(cmds, "RCPT TO:<b@example.com>"));
    ck_assert_ptr_nonnull(strstr(msg, "From: ops@example.com\r\n"));
    ck_assert_ptr_nonnull(strstr(msg, "To: a@example.com, b@example.com\r\n"));
    ck_assert_ptr_nonnull(strstr(msg, "Subject: [mlflowd] etl.load failed\r\n"));
    ck_assert_ptr_nonnull(strstr(msg, "Content-Type: text/plain; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(strstr(msg, "\r\n\r\ndag_id: etl\r\n"));
    ck_assert_ptr_nonnull(strstr(msg, "try_number: 2\r\nmessage: boom\r\n"));
}
END_TEST

/* With a login, TLS is required before AUTH by default: a server without STARTTLS gets no AUTH and no mail
 * (the password never travels in clear); smtp_starttls: false allows it explicitly. */
START_TEST(test_email_auth_requires_starttls)
{
    sink_start();
    email_config();
    mlf_map_set(config, "smtp_user", mlf_value_str("ops"));
    mlf_map_set(config, "smtp_password", mlf_value_str("pw-in-clear"));
    ck_assert_int_ne(notify("email"), MLF_OK);
    sink_finish();
    ck_assert_ptr_null(strstr(sink.commands.data, "AUTH"));
    ck_assert_ptr_null(strstr(sink.commands.data, "MAIL FROM"));
    mlf_buf_free(&sink.commands);
    mlf_buf_free(&sink.data);
    sink_start();
    email_config(); /* the new sink's port */
    mlf_map_set(config, "smtp_starttls", mlf_value_bool(0));
    ck_assert_msg(notify("email") == MLF_OK, "err: %s", err);
    sink_finish();
    ck_assert_ptr_nonnull(strstr(sink.commands.data, "MAIL FROM:<ops@example.com>"));
}
END_TEST

START_TEST(test_email_subject_template_and_injection)
{
    sink_start();
    email_config();
    mlf_map_set(config, "to", mlf_value_str("a@example.com")); /* a lone string is one recipient */
    mlf_map_set(config, "subject", mlf_value_str("{{x}} {state}: {message} {unknown}"));
    mlf_map_set(event, "message", mlf_value_str("line1\r\nBcc: evil@example.com\n.\nline3"));
    ck_assert_msg(notify("email") == MLF_OK, "err: %s", err);
    sink_finish();
    const char *msg = sink.data.data;
    ck_assert_ptr_nonnull(strstr(msg, "Subject: {x} failed: line1  Bcc: evil@example.com . line3 {unknown}\r\n"));
    const char *body = strstr(msg, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    const char *bcc = strstr(msg, "\r\nBcc:");
    ck_assert_msg(bcc > body, "a Bcc header was injected"); /* only the body has such a line */
    /* in the body the lone "." line arrived intact (libcurl dot-stuffed it, the sink unstuffed it) */
    ck_assert_ptr_nonnull(strstr(msg, "message: line1\r\nBcc: evil@example.com\r\n.\r\nline3\r\n"));
}
END_TEST

START_TEST(test_email_non_ascii_subject_is_encoded)
{
    sink_start();
    email_config();
    mlf_map_set(config, "subject", mlf_value_str("\xc3\xa9" "chec {task_id}"));
    ck_assert_msg(notify("email") == MLF_OK, "err: %s", err);
    sink_finish();
    /* base64 of "échec load" */
    ck_assert_ptr_nonnull(strstr(sink.data.data, "Subject: =?UTF-8?B?w6ljaGVjIGxvYWQ=?=\r\n"));
}
END_TEST

START_TEST(test_email_rejected_recipient)
{
    sink_start();
    email_config();
    mlf_map_set(config, "to", mlf_value_str("reject@example.com"));
    int rc = notify("email");
    sink_finish();
    ck_assert_int_eq(rc, MLF_EIO);
    char want[64];
    snprintf(want, sizeof want, "email: smtp://127.0.0.1:%d: ", sink.port);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err: %s", err);
    ck_assert_msg(strstr(err, "550") != NULL, "err: %s", err);
    ck_assert_ptr_null(strstr(sink.commands.data, "DATA"));
}
END_TEST

START_TEST(test_email_bad_config_and_unreachable)
{
    ck_assert_int_eq(notify("email"), MLF_EINVAL);
    ck_assert_str_eq(err, "email: to must list at least one address");
    mlf_map_set(config, "to", mlf_value_str("not an address"));
    ck_assert_int_eq(notify("email"), MLF_EINVAL);
    ck_assert_str_eq(err, "email: 'not an address' in to is not a plain address (local@domain)");
    mlf_map_set(config, "to", mlf_value_str("a@example.com>\r\nRCPT TO:<b@example.com"));
    ck_assert_int_eq(notify("email"), MLF_EINVAL);
    mlf_map_set(config, "to", mlf_value_str("a@example.com"));
    mlf_map_set(config, "from", mlf_value_str("nobody"));
    ck_assert_int_eq(notify("email"), MLF_EINVAL);
    ck_assert_str_eq(err, "email: from 'nobody' is not a plain address (local@domain)");
    mlf_map_set(config, "from", mlf_value_str("ops@example.com"));
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", ts_closed_port());
    mlf_map_set(config, "smtp_url", mlf_value_str(url));
    ck_assert_int_eq(notify("email"), MLF_EIO);
    ck_assert_msg(strncmp(err, "email: smtp://127.0.0.1:", 24) == 0, "err: %s", err);
    mlf_map_set(config, "smtp_url", mlf_value_str("http://127.0.0.1:1"));
    ck_assert_int_eq(notify("email"), MLF_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notifiers");
    TCase *wh = tcase_create("webhook");
    tcase_add_checked_fixture(wh, setup, teardown);
    tcase_add_test(wh, test_webhook_posts_event_as_json);
    tcase_add_test(wh, test_webhook_http_error);
    tcase_add_test(wh, test_webhook_unreachable_and_timeout);
    tcase_add_test(wh, test_webhook_bad_config);
    suite_add_tcase(s, wh);
    TCase *em = tcase_create("email");
    tcase_add_checked_fixture(em, setup, teardown);
    tcase_add_test(em, test_email_is_sent);
    tcase_add_test(em, test_email_subject_template_and_injection);
    tcase_add_test(em, test_email_non_ascii_subject_is_encoded);
    tcase_add_test(em, test_email_rejected_recipient);
    tcase_add_test(em, test_email_bad_config_and_unreachable);
    tcase_add_test(em, test_email_auth_requires_starttls);
    suite_add_tcase(s, em);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
