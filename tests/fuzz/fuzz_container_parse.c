/* libFuzzer target for the container plugin's readers of Docker Engine API answers
 * (plugins/container/container_parse.c): the first byte picks the reader (the version, create, wait,
 * inspect, listing and pull answers, the owner label, the multiplexed log stream, error bodies), the rest is
 * the engine's answer. Every reader either accepts it or says MLF_EPARSE with a reason; what it accepts keeps
 * its promises (a container id is 12 to 64 hex digits, strings are NUL-terminated inside their buffers, the
 * log stream's payload is never longer than the input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/container/container_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
}

static size_t payload;

static void count_payload(void *ud, int stream, const char *bytes, size_t len)
{
    (void)ud;
    (void)bytes;
    if (stream != 1 && stream != 2)
        abort();
    payload += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char why[256] = "", a[512] = "", id[CTR_ID_MAX] = "";
    int rc = MLF_OK;
    switch (data[0] % 9) {
    case 0:
        rc = ctr_parse_version(body, len, a, 32, why, sizeof why);
        if (rc == MLF_OK && (ctr_parse_version_text(a, why, sizeof why) != MLF_OK))
            abort();
        break;
    case 1:
        rc = ctr_parse_created(body, len, id, a, sizeof a, why, sizeof why);
        if (rc == MLF_OK) {
            size_t n = strlen(id);
            if (n < 12 || n > 64 || strspn(id, "0123456789abcdef") != n)
                abort();
            check_text(a, sizeof a);
        }
        break;
    case 2: {
        int64_t status;
        rc = ctr_parse_wait(body, len, &status, a, sizeof a, why, sizeof why);
        check_text(a, sizeof a);
        break;
    }
    case 3: {
        ctr_state st;
        rc = ctr_parse_inspect(body, len, &st, why, sizeof why);
        if (rc == MLF_OK)
            check_text(st.status, sizeof st.status);
        break;
    }
    case 4: {
        ctr_listed *items = NULL;
        size_t n = 0;
        rc = ctr_parse_list(body, len, &items, &n, why, sizeof why);
        for (size_t i = 0; rc == MLF_OK && i < n; i++) {
            size_t k = strlen(items[i].id);
            if (k < 12 || k > 64 || strspn(items[i].id, "0123456789abcdef") != k)
                abort();
            check_text(items[i].what, sizeof items[i].what);
        }
        free(items);
        if (rc == MLF_ENOMEM)
            rc = MLF_OK;
        break;
    }
    case 5: {
        char status[128], error[128];
        rc = ctr_parse_pull_line(body, len, status, sizeof status, error, sizeof error);
        check_text(status, sizeof status);
        check_text(error, sizeof error);
        break;
    }
    case 6: {
        char text[300];
        ctr_owner o;
        size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
        memcpy(text, body, n);
        text[n] = '\0';
        if (ctr_owner_parse(text, &o) == MLF_OK) {
            char back[512];
            ctr_owner tmp;
            ctr_owner_format(&o, back, sizeof back);
            if (o.pid <= 0 || ctr_owner_parse(back, &tmp) != MLF_OK || tmp.pid != o.pid || tmp.start != o.start)
                abort();
        }
        break;
    }
    case 7: {
        ctr_demux d = {0};
        payload = 0;
        /* fed in two pieces, as a stream arrives */
        size_t half = len / 2;
        rc = ctr_demux_feed(&d, body, half, count_payload, NULL);
        if (rc == MLF_OK)
            rc = ctr_demux_feed(&d, body + half, len - half, count_payload, NULL);
        if (payload > len)
            abort();
        if (rc == MLF_OK)
            (void)ctr_demux_finish(&d);
        break;
    }
    default: {
        ctr_response r = {.status = 500, .body = (char *)body, .len = len};
        char *copy = malloc(len + 1); /* the reader expects a NUL after the body, as responses have */
        if (!copy)
            return 0;
        memcpy(copy, body, len);
        copy[len] = '\0';
        r.body = copy;
        ctr_parse_error(&r, a, sizeof a);
        check_text(a, sizeof a);
        free(copy);
        break;
    }
    }
    if (rc != MLF_OK && rc != MLF_EPARSE)
        abort();
    if (rc == MLF_EPARSE && data[0] % 9 != 5 && data[0] % 9 != 7 && !why[0])
        abort(); /* a refusal always says why */
    return 0;
}
