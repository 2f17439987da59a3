/* container_parse.c -- Docker Engine API answers read with jansson (see container_parse.h). */
#include "container_parse.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *load_object(const char *body, size_t len, const char *what, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", len, 0, &jerr);
    if (!root) {
        snprintf(why, whylen, "%s is not JSON (line %d, column %d: %s)", what, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(why, whylen, "%s is not a JSON object", what);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Copies @p s into @p buf, control characters shown as spaces. */
static void copy_printable(char *buf, size_t buflen, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < buflen; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (buflen)
        buf[o] = '\0';
}

void ctr_parse_error(const ctr_response *resp, char *msg, size_t msglen)
{
    if (!msglen)
        return;
    json_t *root = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
    const char *m = json_is_object(root) ? json_string_value(json_object_get(root, "message")) : NULL;
    if (m && *m) {
        copy_printable(msg, msglen, m, strlen(m));
    } else {
        size_t start = 0, n = resp->body ? resp->len : 0;
        while (start < n && (resp->body[start] == ' ' || resp->body[start] == '\n' || resp->body[start] == '\r'))
            start++;
        while (n > start && (resp->body[n - 1] == ' ' || resp->body[n - 1] == '\n' || resp->body[n - 1] == '\r'))
            n--;
        if (n - start > 200)
            n = start + 200;
        if (n > start)
            copy_printable(msg, msglen, resp->body + start, n - start);
        else
            snprintf(msg, msglen, "no explanation");
    }
    json_decref(root);
}

/* Parses "MAJOR.MINOR" (digits only, each below 10000). Returns 1 when it is one. */
static int split_version(const char *v, int *major, int *minor)
{
    char *end;
    if (!v || *v < '0' || *v > '9')
        return 0;
    long ma = strtol(v, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9' || ma > 9999)
        return 0;
    long mi = strtol(end + 1, &end, 10);
    if (*end || mi > 9999)
        return 0;
    *major = (int)ma;
    *minor = (int)mi;
    return 1;
}

int ctr_parse_version(const char *body, size_t len, char *version, size_t vlen, char *why, size_t whylen)
{
    json_t *root = load_object(body, len, "the version answer", why, whylen);
    if (!root)
        return MLF_EPARSE;
    const char *v = json_string_value(json_object_get(root, "ApiVersion"));
    int ma, mi, rc = MLF_OK;
    if (!v)
        snprintf(why, whylen, "the version answer has no ApiVersion string"), rc = MLF_EPARSE;
    else if (!split_version(v, &ma, &mi) || strlen(v) >= vlen)
        snprintf(why, whylen, "ApiVersion '%.40s' is not MAJOR.MINOR", v), rc = MLF_EPARSE;
    else
        snprintf(version, vlen, "%s", v);
    json_decref(root);
    return rc;
}

int ctr_parse_version_text(const char *version, char *why, size_t whylen)
{
    int ma, mi;
    if (split_version(version, &ma, &mi))
        return MLF_OK;
    snprintf(why, whylen, "API version '%.40s' is not MAJOR.MINOR", version ? version : "");
    return MLF_EPARSE;
}

int ctr_version_at_least(const char *version, int major, int minor)
{
    int ma, mi;
    if (!split_version(version, &ma, &mi))
        return 0;
    return ma > major || (ma == major && mi >= minor);
}

static int is_container_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 12 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int ctr_parse_created(const char *body, size_t len, char *id, char *warnings, size_t wlen, char *why,
                      size_t whylen)
{
    json_t *root = load_object(body, len, "the create answer", why, whylen);
    if (!root)
        return MLF_EPARSE;
    int rc = MLF_OK;
    const char *s = json_string_value(json_object_get(root, "Id"));
    json_t *w = json_object_get(root, "Warnings");
    warnings[0] = '\0';
    if (!is_container_id(s)) {
        snprintf(why, whylen, "the create answer has no container Id of 12 to 64 hex digits");
        rc = MLF_EPARSE;
    } else if (w && !json_is_null(w) && !json_is_array(w)) {
        snprintf(why, whylen, "the create answer's Warnings is not a list");
        rc = MLF_EPARSE;
    } else {
        snprintf(id, CTR_ID_MAX, "%s", s);
        size_t o = 0, i;
        json_t *item;
        json_array_foreach(w, i, item) {
            const char *t = json_string_value(item);
            if (!t) {
                snprintf(why, whylen, "the create answer's Warnings holds a %s, not a string",
                         json_is_object(item) ? "map" : "non-string");
                rc = MLF_EPARSE;
                break;
            }
            int n = snprintf(warnings + o, wlen - o, "%s%s", o ? "; " : "", t);
            if (n < 0 || (size_t)n >= wlen - o)
                break;
            o += (size_t)n;
        }
    }
    json_decref(root);
    return rc;
}

int ctr_parse_wait(const char *body, size_t len, int64_t *status, char *error, size_t elen, char *why,
                   size_t whylen)
{
    json_t *root = load_object(body, len, "the wait answer", why, whylen);
    if (!root)
        return MLF_EPARSE;
    int rc = MLF_OK;
    json_t *code = json_object_get(root, "StatusCode");
    json_t *e = json_object_get(root, "Error");
    error[0] = '\0';
    if (!json_is_integer(code)) {
        snprintf(why, whylen, "the wait answer has no integer StatusCode");
        rc = MLF_EPARSE;
    } else {
        *status = (int64_t)json_integer_value(code);
        const char *m = json_is_object(e) ? json_string_value(json_object_get(e, "Message")) : NULL;
        if (m)
            copy_printable(error, elen, m, strlen(m));
    }
    json_decref(root);
    return rc;
}

int ctr_parse_inspect(const char *body, size_t len, ctr_state *st, char *why, size_t whylen)
{
    json_t *root = load_object(body, len, "the inspect answer", why, whylen);
    if (!root)
        return MLF_EPARSE;
    int rc = MLF_OK;
    json_t *state = json_object_get(root, "State");
    json_t *code = json_object_get(state, "ExitCode");
    const char *status = json_string_value(json_object_get(state, "Status"));
    *st = (ctr_state){0};
    if (!json_is_object(state) || !json_is_integer(code) || !status) {
        snprintf(why, whylen, "the inspect answer has no State with an integer ExitCode and a Status");
        rc = MLF_EPARSE;
    } else {
        st->exit_code = (int64_t)json_integer_value(code);
        st->running = json_is_true(json_object_get(state, "Running"));
        st->oom_killed = json_is_true(json_object_get(state, "OOMKilled"));
        copy_printable(st->status, sizeof st->status, status, strlen(status));
    }
    json_decref(root);
    return rc;
}

void ctr_owner_format(const ctr_owner *o, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "%s %s %s %ld %llu", o->host, o->boot, o->pidns, o->pid, o->start);
}

int ctr_owner_parse(const char *text, ctr_owner *o)
{
    char host[256], boot[64], pidns[64];
    long pid;
    unsigned long long start;
    int used = 0;
    *o = (ctr_owner){0};
    if (!text || sscanf(text, "%255s %63s %63s %ld %llu%n", host, boot, pidns, &pid, &start, &used) != 5 ||
        text[used] != '\0' || pid <= 0)
        return MLF_EPARSE;
    snprintf(o->host, sizeof o->host, "%s", host);
    snprintf(o->boot, sizeof o->boot, "%s", boot);
    snprintf(o->pidns, sizeof o->pidns, "%s", pidns);
    o->pid = pid;
    o->start = start;
    return MLF_OK;
}

int ctr_parse_list(const char *body, size_t len, ctr_listed **items, size_t *n, char *why, size_t whylen)
{
    *items = NULL;
    *n = 0;
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", len, 0, &jerr);
    if (!json_is_array(root)) {
        snprintf(why, whylen, "the container listing is not a JSON list");
        json_decref(root);
        return MLF_EPARSE;
    }
    size_t count = json_array_size(root);
    ctr_listed *out = calloc(count ? count : 1, sizeof *out);
    if (!out) {
        json_decref(root);
        snprintf(why, whylen, "out of memory");
        return MLF_ENOMEM;
    }
    size_t k = 0, i;
    json_t *c;
    json_array_foreach(root, i, c) {
        const char *id = json_string_value(json_object_get(c, "Id"));
        if (!json_is_object(c) || !is_container_id(id))
            continue;
        ctr_listed *l = &out[k++];
        snprintf(l->id, sizeof l->id, "%s", id);
        const char *state = json_string_value(json_object_get(c, "State"));
        l->running = state && (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0 ||
                               strcmp(state, "restarting") == 0);
        json_t *labels = json_object_get(c, "Labels");
        const char *owner = json_string_value(json_object_get(labels, CTR_LABEL_OWNER));
        l->has_owner = ctr_owner_parse(owner, &l->owner) == MLF_OK;
        const char *keep = json_string_value(json_object_get(labels, CTR_LABEL_AUTO_REMOVE));
        l->keep = keep && strcmp(keep, "false") == 0;
        const char *dag = json_string_value(json_object_get(labels, CTR_LABEL_DAG));
        const char *task = json_string_value(json_object_get(labels, CTR_LABEL_TASK));
        const char *run = json_string_value(json_object_get(labels, CTR_LABEL_RUN));
        const char *try = json_string_value(json_object_get(labels, CTR_LABEL_TRY));
        char what[256];
        snprintf(what, sizeof what, "%s.%s try %s (run %s)", dag ? dag : "?", task ? task : "?", try ? try : "?",
                 run ? run : "?");
        copy_printable(l->what, sizeof l->what, what, strlen(what));
    }
    json_decref(root);
    *items = out;
    *n = k;
    return MLF_OK;
}

int ctr_parse_pull_line(const char *line, size_t len, char *status, size_t slen, char *error, size_t elen)
{
    status[0] = error[0] = '\0';
    size_t start = 0;
    while (start < len && (line[start] == ' ' || line[start] == '\r' || line[start] == '\n'))
        start++;
    if (start == len)
        return MLF_OK;
    json_t *root = json_loadb(line + start, len - start, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return MLF_EPARSE;
    }
    const char *e = json_string_value(json_object_get(root, "error"));
    if (!e)
        e = json_string_value(json_object_get(json_object_get(root, "errorDetail"), "message"));
    if (e)
        copy_printable(error, elen, e, strlen(e));
    const char *s = json_string_value(json_object_get(root, "status"));
    const char *id = json_string_value(json_object_get(root, "id"));
    if (s && !json_object_get(root, "progress")) {
        char text[512];
        snprintf(text, sizeof text, "%s%s%s", id ? id : "", id ? ": " : "", s);
        copy_printable(status, slen, text, strlen(text));
    }
    json_decref(root);
    return MLF_OK;
}

int ctr_demux_feed(ctr_demux *d, const char *data, size_t len, ctr_demux_fn fn, void *ud)
{
    while (len > 0) {
        if (d->left > 0) {
            size_t take = len < d->left ? len : d->left;
            if (d->stream != 0)
                fn(ud, d->stream, data, take);
            data += take;
            len -= take;
            d->left -= (uint32_t)take;
            continue;
        }
        d->hdr[d->hdr_len++] = (unsigned char)*data++;
        len--;
        if (d->hdr_len < 8)
            continue;
        d->hdr_len = 0;
        if (d->hdr[0] > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3])
            return MLF_EPARSE;
        d->stream = d->hdr[0];
        d->left = (uint32_t)d->hdr[4] << 24 | (uint32_t)d->hdr[5] << 16 | (uint32_t)d->hdr[6] << 8 | d->hdr[7];
    }
    return MLF_OK;
}

int ctr_demux_finish(const ctr_demux *d)
{
    return d->left == 0 && d->hdr_len == 0 ? MLF_OK : MLF_EPARSE;
}
