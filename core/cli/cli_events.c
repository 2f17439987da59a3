/* cli_events.c -- `mlflowd events send`: a client of the scheduler's event socket (events.listen,
 * doc/assets.md). It sends one msgpack request over a CurveZMQ DEALER socket, with the keys a worker of this
 * home uses unless told otherwise, waits for the reply (bounded), prints it as JSON and exits 0 when it says
 * ok. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cli/cli.h"
#include "exec/zmq_auth.h"
#include "value/value_json.h"

/* The request's bytes: --raw FILE as is (for tests of the socket's validation), else the packed @p req. */
static int request_bytes(const char *raw, const mlf_value *req, void **buf, size_t *len, char *err, size_t errlen)
{
    if (!raw)
        return mlf_value_pack(req, buf, len);
    FILE *f = fopen(raw, "rb");
    if (!f) {
        snprintf(err, errlen, "--raw %s: cannot open", raw);
        return MLF_EIO;
    }
    char *b = malloc(1 << 20);
    size_t n = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    if (!b)
        return MLF_ENOMEM;
    *buf = b;
    *len = n;
    return MLF_OK;
}

/* Sets up CURVE on @p sock: --server-key/--secret-key, else zmq.curve.*, else the home's worker keys. */
static int client_curve(mlf_cli *cli, void *sock, const char *server_key_file, const char *secret_key_file,
                        char *err, size_t errlen)
{
    char server_key[MLF_CURVE_KEY_LEN + 1], secret_key[MLF_CURVE_KEY_LEN + 1], public_key[MLF_CURVE_KEY_LEN + 1];
    if (!server_key_file)
        server_key_file = mlf_config_str(cli->cfg, "zmq.curve.server_public_key_file");
    if (!secret_key_file)
        secret_key_file = mlf_config_str(cli->cfg, "zmq.curve.worker_secret_key_file");
    mlf_home_keys hk = {0};
    int rc = MLF_OK;
    if ((!server_key_file || !secret_key_file) &&
        (rc = mlf_home_keys_get(mlf_config_home(cli->cfg), 0, &hk, err, errlen)) != MLF_OK)
        return rc;
    if (!server_key_file)
        server_key_file = hk.server_public;
    if (!secret_key_file)
        secret_key_file = hk.worker_secret;
    rc = mlf_curve_read_key_file(server_key_file, 0, server_key, err, errlen);
    if (rc == MLF_OK)
        rc = mlf_curve_read_key_file(secret_key_file, 1, secret_key, err, errlen);
    if (rc == MLF_OK && (rc = mlf_curve_public_of(secret_key, public_key)) != MLF_OK)
        snprintf(err, errlen, "%s: not a secret key", secret_key_file);
    mlf_home_keys_clear(&hk);
    if (rc == MLF_OK && (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, MLF_CURVE_KEY_LEN) != 0 ||
                         zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, public_key, MLF_CURVE_KEY_LEN) != 0 ||
                         zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret_key, MLF_CURVE_KEY_LEN) != 0)) {
        rc = zmq_errno();
        snprintf(err, errlen, "cannot set up CurveZMQ: %s", zmq_strerror(rc));
    }
    return rc;
}

int mlf_cmd_events_send(mlf_cli *cli)
{
    int missing = 0;
    const char *endpoint = mlf_cli_take_value(cli, "--endpoint", NULL, &missing);
    const char *json = mlf_cli_take_value(cli, "--extra", NULL, &missing);
    const char *conf = mlf_cli_take_value(cli, "--conf", NULL, &missing);
    const char *key = mlf_cli_take_value(cli, "--key", NULL, &missing);
    const char *run_id = mlf_cli_take_value(cli, "--run-id", NULL, &missing);
    const char *date = mlf_cli_take_value(cli, "--logical-date", NULL, &missing);
    const char *server_key = mlf_cli_take_value(cli, "--server-key", NULL, &missing);
    const char *secret_key = mlf_cli_take_value(cli, "--secret-key", NULL, &missing);
    const char *timeout_s = mlf_cli_take_value(cli, "--timeout", NULL, &missing);
    const char *raw = mlf_cli_take_value(cli, "--raw", NULL, &missing);
    int insecure = mlf_cli_take_flag(cli, "--insecure", NULL);
    if (missing)
        return mlf_cli_fail(MLF_EXIT_USAGE, "events send: a flag is missing its value");
    int rc = mlf_cli_check_args(cli, 2, 2, (const char *const[]){"--endpoint", "--extra", "--conf", "--key",
                                "--run-id", "--logical-date", "--server-key", "--secret-key", "--timeout", "--raw",
                                "--insecure", NULL});
    if (rc || (rc = mlf_cli_config(cli)))
        return rc;
    const char *op = cli->argv[0], *target = cli->argv[1];
    int is_asset = strcmp(op, "asset") == 0, is_trigger = strcmp(op, "trigger") == 0;
    if (!is_asset && !is_trigger)
        return mlf_cli_fail(MLF_EXIT_USAGE, "events send: the first argument is 'asset' (URI) or 'trigger' (DAG_ID)");
    if (!endpoint && !(endpoint = mlf_config_str(cli->cfg, "events.listen")))
        return mlf_cli_fail(MLF_EXIT_USAGE, "events send: --endpoint EP is required (events.listen is not set)");
    long timeout = timeout_s ? strtol(timeout_s, NULL, 10) : 10;
    if (timeout < 1 || timeout > 3600)
        return mlf_cli_fail(MLF_EXIT_USAGE, "events send: --timeout must be 1..3600 seconds");
    const char *ins = mlf_config_str(cli->cfg, "zmq.insecure");
    insecure = insecure || (ins && strcmp(ins, "true") == 0);

    char err[600] = "";
    mlf_value *req = mlf_value_map(), *parsed = NULL;
    mlf_map_set(req, "op", mlf_value_str(is_asset ? "asset_event" : "trigger"));
    mlf_map_set(req, is_asset ? "uri" : "dag_id", mlf_value_str(target));
    const char *obj = is_asset ? json : conf;
    if ((is_asset ? conf : json) != NULL) {
        mlf_value_free(req);
        return mlf_cli_fail(MLF_EXIT_USAGE, "events send: --extra goes with 'asset', --conf with 'trigger'");
    }
    if (obj) {
        if (mlf_value_from_json(obj, strlen(obj), &parsed, err, sizeof err) != MLF_OK ||
            mlf_value_type(parsed) != MLF_MAP) {
            mlf_value_free(parsed);
            mlf_value_free(req);
            return mlf_cli_fail(MLF_EXIT_USAGE, "events send: %s must be a JSON object", is_asset ? "--extra"
                                                                                                   : "--conf");
        }
        mlf_map_set(req, is_asset ? "extra" : "conf", parsed);
    }
    if (key)
        mlf_map_set(req, "idempotency_key", mlf_value_str(key));
    if (run_id && is_trigger)
        mlf_map_set(req, "run_id", mlf_value_str(run_id));
    if (date && is_trigger)
        mlf_map_set(req, "logical_date", mlf_value_str(date));

    void *buf = NULL;
    size_t len = 0;
    rc = request_bytes(raw, req, &buf, &len, err, sizeof err);
    mlf_value_free(req);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "events send: %s", err[0] ? err : mlf_strerror(rc));
    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
    int zero = 0;
    if (sock)
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    rc = sock ? MLF_OK : MLF_ENOMEM;
    if (rc == MLF_OK && !insecure)
        rc = client_curve(cli, sock, server_key, secret_key, err, sizeof err);
    if (rc == MLF_OK && zmq_connect(sock, endpoint) != 0) {
        rc = zmq_errno();
        snprintf(err, sizeof err, "cannot connect to %s: %s", endpoint, zmq_strerror(rc));
    }
    if (rc == MLF_OK && zmq_send(sock, buf, len, 0) < 0) {
        rc = zmq_errno();
        snprintf(err, sizeof err, "cannot send: %s", zmq_strerror(rc));
    }
    raw ? free(buf) : mlf_free(buf);
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    if (rc == MLF_OK && zmq_poll(&it, 1, timeout * 1000) <= 0) {
        rc = MLF_ETIMEDOUT;
        snprintf(err, sizeof err, "no reply from %s within %lds (is the scheduler listening there, and is this "
                 "client's public key in its zmq.curve.authorized_keys?)", endpoint, timeout);
    }
    int ok = 0;
    if (rc == MLF_OK) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        mlf_value *rep = NULL;
        char *text = NULL;
        if (zmq_msg_recv(&m, sock, 0) >= 0 && mlf_value_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep) == MLF_OK &&
            mlf_value_to_json(rep, &text) == MLF_OK) {
            mlf_value_get_bool(mlf_map_get(rep, "ok"), &ok);
            fprintf(cli->out, "%s\n", text);
        } else {
            rc = MLF_EPARSE;
            snprintf(err, sizeof err, "a reply that is not msgpack");
        }
        mlf_free(text);
        mlf_value_free(rep);
        zmq_msg_close(&m);
    }
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
    if (rc != MLF_OK)
        return mlf_cli_fail(MLF_EXIT_FAILED, "events send: %s", err[0] ? err : mlf_strerror(rc));
    return ok ? MLF_EXIT_OK : MLF_EXIT_FAILED;
}
