/* webhook.c -- the `webhook` notifier: POSTs the event map as JSON to a URL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "notifiers.h"

static const mlf_param_spec webhook_params[] = {
    {.name = "url", .type = MLF_PARAM_STR, .flags = MLF_PARAM_REQUIRED, .help = "the http(s) URL to POST to"},
    {.name = "headers", .type = MLF_PARAM_MAP, .help = "extra request headers (e.g. Authorization)"},
    {.name = "timeout", .type = MLF_PARAM_DURATION, .default_value = "10s", .help = "limit for the request"},
    {0}};

/* The body of an error response is read only to be quoted. */
#define WEBHOOK_MAX_BODY 4096

static int webhook_notify(const mlf_value *event, const mlf_value *config, char *errbuf, size_t errlen)
{
    const char *url;
    httpc_request req;
    httpc_request_init(&req);
    int rc = notifier_str(config, "webhook", "url", NULL, &url, errbuf, errlen);
    if (rc == MLF_OK)
        rc = notifier_duration(config, "webhook", "timeout", 10 * INT64_C(1000000), &req.timeout_us, errbuf, errlen);
    if (rc != MLF_OK)
        return rc;
    if (!url || !*url) {
        snprintf(errbuf, errlen, "webhook: url is required");
        return MLF_EINVAL;
    }
    httpc_headers headers = {0};
    httpc_response resp = {0};
    char *json = NULL, why[512];
    rc = httpc_headers_set_map(&headers, mlf_map_get(config, "headers"), why, sizeof why);
    if (rc == MLF_OK && !httpc_headers_get(&headers, "Content-Type"))
        rc = httpc_headers_set(&headers, "Content-Type", "application/json", why, sizeof why);
    if (rc != MLF_OK) {
        snprintf(errbuf, errlen, "webhook: %s", rc == MLF_ENOMEM ? "out of memory" : why);
        rc = rc == MLF_ENOMEM ? rc : MLF_EINVAL;
        goto out;
    }
    if ((rc = mlf_value_to_json(event, &json)) != MLF_OK) {
        snprintf(errbuf, errlen, "webhook: cannot encode the event as JSON: %s", mlf_strerror(rc));
        goto out;
    }
    req.method = "POST";
    req.url = url;
    req.headers = &headers;
    req.body = json;
    req.body_len = strlen(json);
    req.max_body = WEBHOOK_MAX_BODY;
    rc = httpc_perform(&req, &resp, why, sizeof why);
    if (rc != MLF_OK) {
        snprintf(errbuf, errlen, "webhook: POST %s: %s", url, why);
    } else if (resp.status < 200 || resp.status > 299) {
        int n = snprintf(errbuf, errlen, "webhook: ");
        if (n > 0 && (size_t)n < errlen)
            httpc_describe_status(&resp, "POST", url, errbuf + n, errlen - (size_t)n);
        rc = MLF_EIO;
    }
out:
    httpc_response_free(&resp);
    httpc_headers_free(&headers);
    mlf_free(json);
    return rc;
}

const mlf_notifier_desc notifier_webhook = {
    .struct_size = sizeof(mlf_notifier_desc),
    .name = "webhook",
    .help = "POSTs the event (dag_id, run_id, task_id, state, try_number, message...) as a JSON object to url; "
            "any status but 2xx is an error.",
    .params = webhook_params,
    .notify = webhook_notify,
};
