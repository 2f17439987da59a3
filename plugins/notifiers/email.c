/* email.c -- the `email` notifier: a plain-text mail describing the event, sent with libcurl's SMTP. */
#define _GNU_SOURCE /* open_memstream */
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "notifiers.h"

#define DEFAULT_SUBJECT "[mlflowd] {dag_id}.{task_id} {state}"

static const mlf_param_spec email_params[] = {
    {.name = "to", .type = MLF_PARAM_LIST, .flags = MLF_PARAM_REQUIRED, .help = "recipient addresses"},
    {.name = "from", .type = MLF_PARAM_STR, .default_value = "mlflowd@localhost", .help = "sender address"},
    {.name = "smtp_url", .type = MLF_PARAM_STR, .default_value = "smtp://localhost:25",
     .help = "the mail server: smtp://HOST:PORT (smtps:// for TLS)"},
    {.name = "smtp_user", .type = MLF_PARAM_STR, .help = "login for SMTP AUTH (none by default)"},
    {.name = "smtp_password", .type = MLF_PARAM_STR, .help = "password for SMTP AUTH"},
    {.name = "smtp_starttls", .type = MLF_PARAM_BOOL, .default_value = "true",
     .help = "with smtp_user: require TLS (STARTTLS on smtp://) before AUTH, so the password never travels in "
             "clear; false sends it to servers without TLS"},
    {.name = "subject", .type = MLF_PARAM_STR, .default_value = "\"" DEFAULT_SUBJECT "\"",
     .help = "subject template: {key} is the event's key (dag_id, task_id, state, run_id, try_number...)"},
    {.name = "timeout", .type = MLF_PARAM_DURATION, .default_value = "30s", .help = "limit for the whole exchange"},
    {0}};

/* Longest subject kept (bytes, before encoding); the rest is cut on a UTF-8 boundary. */
#define SUBJECT_MAX 250
/* Body lines are broken before SMTP's 998-byte limit. */
#define LINE_MAX_BYTES 900

/* A plain address: local@domain, printable ASCII, nothing that could end the SMTP command or header. */
static int valid_address(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1] || strlen(a) > 254)
        return 0;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>,;\"()[]\\", *p))
            return 0;
    return 1;
}

/* Renders @p tmpl: {key} becomes the event's value, {{ and }} are braces, an unknown {name} stays as written.
 * Writes to @p f. */
static void render(FILE *f, const char *tmpl, const mlf_value *event)
{
    for (const char *p = tmpl; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            fputc(*p++, f);
            continue;
        }
        const char *end = *p == '{' ? strchr(p + 1, '}') : NULL;
        char key[64];
        if (end && (size_t)(end - p - 1) < sizeof key) {
            memcpy(key, p + 1, (size_t)(end - p - 1));
            key[end - p - 1] = '\0';
            const mlf_value *v = mlf_map_get(event, key);
            char *text = v ? mlf_value_to_display(v) : NULL;
            if (text) {
                fputs(text, f);
                mlf_free(text);
                p = end;
                continue;
            }
        }
        fputc(*p, f);
    }
}

static void base64(FILE *f, const unsigned char *s, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        fputc(tbl[v >> 18], f);
        fputc(tbl[(v >> 12) & 63], f);
        fputc(i + 1 < n ? tbl[(v >> 6) & 63] : '=', f);
        fputc(i + 2 < n ? tbl[v & 63] : '=', f);
    }
}

/* Bytes of @p s (length @p n) that can be taken at most @p max without cutting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* The Subject header: line breaks become spaces, long subjects are cut, non-ASCII ones become RFC 2047
 * encoded words of at most 75 characters folded onto continuation lines. */
static void write_subject(FILE *f, const char *tmpl, const mlf_value *event)
{
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    if (!m)
        return;
    render(m, tmpl, event);
    if (fclose(m) != 0 || !s) {
        free(s);
        return;
    }
    int ascii = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\t')
            s[i] = ' ';
        ascii &= (unsigned char)s[i] < 0x80;
    }
    n = utf8_cut(s, n, SUBJECT_MAX);
    fputs("Subject: ", f);
    if (ascii) {
        fwrite(s, 1, n, f);
    } else {
        for (size_t off = 0; off < n;) {
            size_t take = utf8_cut(s + off, n - off, 45); /* 45 bytes are 60 base64 characters */
            if (take == 0)
                take = 1;
            fputs(off ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?", f);
            base64(f, (const unsigned char *)s + off, take);
            fputs("?=", f);
            off += take;
        }
    }
    fputs("\r\n", f);
    free(s);
}

/* Writes @p text with every line ending as CRLF and no line longer than LINE_MAX_BYTES. */
static void write_text(FILE *f, const char *text)
{
    size_t col = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n' || col >= LINE_MAX_BYTES) {
            fputs("\r\n", f);
            col = 0;
            if (*p == '\n')
                continue;
        }
        fputc(*p, f);
        col++;
    }
}

static void write_date(FILE *f)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    fprintf(f, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
            tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The whole message (headers and body) as a new string, or NULL when memory runs out. */
static char *build_message(const mlf_value *event, const char *from, const mlf_value *to, const char *subject,
                           size_t *len)
{
    char *msg = NULL;
    FILE *f = open_memstream(&msg, len);
    if (!f)
        return NULL;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    write_date(f);
    fprintf(f, "From: %s\r\nTo: ", from);
    for (size_t i = 0; i < mlf_value_len(to); i++)
        fprintf(f, "%s%s", i ? ", " : "", mlf_value_get_str(mlf_array_at(to, i), NULL));
    fprintf(f, "\r\nMessage-ID: <%lld.%06ld.%ld@mlflowd>\r\n", (long long)tv.tv_sec, (long)tv.tv_usec,
            (long)getpid());
    write_subject(f, subject, event);
    fputs("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
          f);
    for (size_t i = 0; i < mlf_value_len(event); i++) {
        char *text = mlf_value_to_display(mlf_map_value_at(event, i));
        fprintf(f, "%s: ", mlf_map_key_at(event, i));
        write_text(f, text ? text : "?");
        fputs("\r\n", f);
        mlf_free(text);
    }
    if (fclose(f) != 0) {
        free(msg);
        return NULL;
    }
    return msg;
}

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    upload *u = ud;
    size_t n = size * nitems;
    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

/* The recipients as a new array of strings (the parameter is a list; a lone string is one recipient), checked. */
static int recipients(const mlf_value *config, mlf_value **out, char *errbuf, size_t errlen)
{
    const mlf_value *to = mlf_map_get(config, "to");
    mlf_type t = mlf_value_type(to);
    mlf_value *list = mlf_value_array();
    if (!list)
        return MLF_ENOMEM;
    if (t == MLF_STR) {
        mlf_array_append(list, mlf_value_copy(to));
    } else if (t == MLF_ARRAY) {
        for (size_t i = 0; i < mlf_value_len(to); i++)
            mlf_array_append(list, mlf_value_copy(mlf_array_at(to, i)));
    }
    int rc = MLF_OK;
    if (mlf_value_len(list) == 0 || mlf_value_len(list) != (t == MLF_STR ? 1 : mlf_value_len(to))) {
        snprintf(errbuf, errlen, "email: to must list at least one address");
        rc = MLF_EINVAL;
    }
    for (size_t i = 0; i < mlf_value_len(list) && rc == MLF_OK; i++) {
        const char *a = mlf_value_get_str(mlf_array_at(list, i), NULL);
        if (!a || !valid_address(a)) {
            snprintf(errbuf, errlen, "email: '%s' in to is not a plain address (local@domain)", a ? a : "(not a string)");
            rc = MLF_EINVAL;
        }
    }
    if (rc != MLF_OK) {
        mlf_value_free(list);
        return rc;
    }
    *out = list;
    return MLF_OK;
}

/* Sends @p msg from @p from to @p to over @p url. */
static int smtp_send(const char *url, const char *from, const mlf_value *to, const char *user, const char *password,
                     int require_tls, int64_t timeout_us, const char *msg, size_t len, char *errbuf, size_t errlen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(errbuf, errlen, "email: libcurl could not create a handle");
        return MLF_ENOMEM;
    }
    char curl_err[CURL_ERROR_SIZE] = "", addr[300];
    struct curl_slist *rcpt = NULL;
    int rc = MLF_OK;
    for (size_t i = 0; i < mlf_value_len(to) && rc == MLF_OK; i++) {
        snprintf(addr, sizeof addr, "<%s>", mlf_value_get_str(mlf_array_at(to, i), NULL));
        struct curl_slist *next = curl_slist_append(rcpt, addr);
        if (next)
            rcpt = next;
        else
            rc = MLF_ENOMEM;
    }
    if (rc != MLF_OK) {
        snprintf(errbuf, errlen, "email: out of memory");
        goto out;
    }
    snprintf(addr, sizeof addr, "<%s>", from);
    upload u = {.data = msg, .len = len};
    curl_easy_setopt(c, CURLOPT_URL, url);
    httpc_set_protocols(c, 1);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    if (timeout_us > 0) {
        int64_t ms = (timeout_us + 999) / 1000;
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(ms > LONG_MAX ? LONG_MAX : ms));
    }
    if (require_tls) /* STARTTLS or nothing: AUTH never goes out in clear */
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(errbuf, errlen, "email: %s: %s", url, curl_err[0] ? curl_err : curl_easy_strerror(cc));
        rc = httpc_curl_error(cc);
    }
out:
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return rc;
}

static int email_notify(const mlf_value *event, const mlf_value *config, char *errbuf, size_t errlen)
{
    const char *from, *url, *subject, *user, *password;
    int64_t timeout;
    int rc = notifier_str(config, "email", "from", "mlflowd@localhost", &from, errbuf, errlen);
    if (rc == MLF_OK)
        rc = notifier_str(config, "email", "smtp_url", "smtp://localhost:25", &url, errbuf, errlen);
    if (rc == MLF_OK)
        rc = notifier_str(config, "email", "subject", DEFAULT_SUBJECT, &subject, errbuf, errlen);
    if (rc == MLF_OK)
        rc = notifier_str(config, "email", "smtp_user", NULL, &user, errbuf, errlen);
    if (rc == MLF_OK)
        rc = notifier_str(config, "email", "smtp_password", NULL, &password, errbuf, errlen);
    if (rc == MLF_OK)
        rc = notifier_duration(config, "email", "timeout", 30 * INT64_C(1000000), &timeout, errbuf, errlen);
    if (rc != MLF_OK)
        return rc;
    int starttls = 1;
    const mlf_value *tv = mlf_map_get(config, "smtp_starttls");
    if (tv && mlf_value_get_bool(tv, &starttls) != MLF_OK) {
        snprintf(errbuf, errlen, "email: smtp_starttls must be a bool, not %s", mlf_type_name(mlf_value_type(tv)));
        return MLF_EINVAL;
    }
    if (!valid_address(from)) {
        snprintf(errbuf, errlen, "email: from '%s' is not a plain address (local@domain)", from);
        return MLF_EINVAL;
    }
    mlf_value *to = NULL;
    if ((rc = recipients(config, &to, errbuf, errlen)) != MLF_OK)
        return rc;
    size_t len = 0;
    char *msg = build_message(event, from, to, subject, &len);
    if (!msg) {
        snprintf(errbuf, errlen, "email: out of memory");
        rc = MLF_ENOMEM;
    } else {
        rc = smtp_send(url, from, to, user, password, user && starttls, timeout, msg, len, errbuf, errlen);
    }
    free(msg);
    mlf_value_free(to);
    return rc;
}

const mlf_notifier_desc notifier_email = {
    .struct_size = sizeof(mlf_notifier_desc),
    .name = "email",
    .help = "Mails a plain-text description of the event (every key of it) to the `to` addresses through an SMTP "
            "server.",
    .params = email_params,
    .notify = email_notify,
};
