/* sched_evsock.c -- the scheduler daemon's event socket (`events.listen`, doc/assets.md): a CurveZMQ ROUTER
 * socket that takes asset events and "trigger DAG with conf" requests from authorized clients, with the same
 * server key, authorized_keys allow-list, ZAP handler and insecure rule as the worker endpoint (zmq.curve.*,
 * zmq.insecure; doc/security.md). Each request is one msgpack map (size- and value-bounded, validated before
 * use); its change and its idempotency key go into the loop turn's write batch, through the same functions as
 * the HTTP endpoint (mlf_ops_asset_event_in, mlf_scheduler_create_run, the MLF_ST_IDEMPOTENCY records). The
 * reply is one msgpack map after the request's envelope: {ok: true, ...} or {ok: false, error: "..."}. */
#include "sched/sched_internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "base/log.h"
#include "cli/asset_ops.h"
#include "exec/zmq_auth.h"
#include "store/store_assets.h"
#include "time/timefmt.h"
#include "value/value_codec.h"

#define EVSOCK_MAX_MSG (256 * 1024) /* bytes of one request (ZMQ_MAXMSGSIZE drops larger ones) */
#define EVSOCK_MAX_VALUES 4096      /* values in one request (mlf_msgpack_prescan_budget) */
#define EVSOCK_MAX_FRAMES 8         /* envelope frames + the request */
#define EVSOCK_PER_TURN 256         /* requests answered per loop turn (the rest wait for the next) */

struct mlf_evsock {
    void *ctx, *sock;
    mlf_zap *zap;
    mlf_authkeys *ak;
    char *ak_path;
    unsigned reload_seen;
    int fd, zap_fd;
    char endpoint[256];
};

static void evsock_free(struct mlf_evsock *e)
{
    if (!e)
        return;
    if (e->sock)
        zmq_close(e->sock);
    mlf_zap_free(e->zap);
    if (e->ctx)
        zmq_ctx_term(e->ctx);
    mlf_authkeys_free(e->ak);
    free(e->ak_path);
    free(e);
}

void mlf_sc_evsock_free(mlf_scheduler *s)
{
    evsock_free(s->evsock);
    s->evsock = NULL;
}

/* CURVE keys as the worker endpoint reads them: zmq.curve.* files, else the home's own. */
static int setup_curve(struct mlf_evsock *e, const mlf_config *cfg, char *err, size_t errlen)
{
    if (!mlf_curve_available()) {
        snprintf(err, errlen, "events.listen: CurveZMQ is required but this libzmq was built without it");
        return MLF_ENOTSUP;
    }
    char secret[MLF_CURVE_KEY_LEN + 1];
    const char *sk = mlf_config_str(cfg, "zmq.curve.secret_key_file");
    const char *ak = mlf_config_str(cfg, "zmq.curve.authorized_keys");
    if (sk && !*sk)
        sk = NULL;
    if (ak && !*ak)
        ak = NULL;
    mlf_home_keys hk = {0};
    int rc = MLF_OK;
    if ((!sk || !ak) && (rc = mlf_home_keys_get(mlf_config_home(cfg), 1, &hk, err, errlen)) != MLF_OK) {
        mlf_home_keys_clear(&hk);
        return rc;
    }
    if (!sk)
        sk = hk.server_secret;
    if (!ak)
        ak = hk.authorized;
    rc = mlf_curve_read_key_file(sk, 1, secret, err, errlen);
    if (rc == MLF_OK)
        rc = mlf_authkeys_load(ak, &e->ak, err, errlen);
    if (rc == MLF_OK && !(e->ak_path = strdup(ak)))
        rc = MLF_ENOMEM;
    mlf_home_keys_clear(&hk);
    e->reload_seen = mlf_zmq_reload_generation();
    /* the ZAP handler first: a CURVE server without one accepts any client key */
    if (rc == MLF_OK && (rc = mlf_zap_start(e->ctx, e->ak, &e->zap)) != MLF_OK)
        snprintf(err, errlen, "events.listen: cannot start the ZAP handler: %s", mlf_strerror(rc));
    int one = 1;
    if (rc == MLF_OK && (zmq_setsockopt(e->sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
                         zmq_setsockopt(e->sock, ZMQ_CURVE_SECRETKEY, secret, MLF_CURVE_KEY_LEN) != 0 ||
                         zmq_setsockopt(e->sock, ZMQ_ZAP_DOMAIN, "mlflowd", 7) != 0)) {
        rc = zmq_errno();
        snprintf(err, errlen, "events.listen: cannot set up CurveZMQ: %s", zmq_strerror(rc));
    }
    volatile char *wipe = secret;
    for (size_t i = 0; i < sizeof secret; i++)
        wipe[i] = 0;
    return rc;
}

int mlf_sc_evsock_open(mlf_scheduler *s, char *err, size_t errlen)
{
    const char *ep = s->o.cfg ? mlf_config_str(s->o.cfg, "events.listen") : NULL;
    if (!s->o.create_scheduled_runs || !ep || !*ep)
        return MLF_OK; /* off unless configured, and only in the daemon */
    const char *en = mlf_config_str(s->o.cfg, "zmq.curve.enabled");
    const char *ins = mlf_config_str(s->o.cfg, "zmq.insecure");
    int insecure = ins && strcmp(ins, "true") == 0;
    int curve = en && strcmp(en, "true") == 0 ? 1 : en && strcmp(en, "false") == 0 ? 0 : !insecure;
    if (!curve && !insecure) {
        snprintf(err, errlen, "zmq.curve.enabled is false: refusing to accept unauthenticated events on %s (pass "
                 "--insecure, i.e. zmq.insecure: true, to accept them anyway)", ep);
        return MLF_EINVAL;
    }
    struct mlf_evsock *e = calloc(1, sizeof *e);
    if (!e)
        return MLF_ENOMEM;
    snprintf(e->endpoint, sizeof e->endpoint, "%s", ep);
    e->fd = e->zap_fd = -1;
    int rc = MLF_OK;
    int64_t maxmsg = EVSOCK_MAX_MSG;
    int zero = 0;
    e->ctx = zmq_ctx_new();
    e->sock = e->ctx ? zmq_socket(e->ctx, ZMQ_ROUTER) : NULL;
    if (!e->sock || zmq_setsockopt(e->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(e->sock, ZMQ_LINGER, &zero, sizeof zero) != 0) {
        rc = zmq_errno();
        snprintf(err, errlen, "events.listen: %s", zmq_strerror(rc));
    }
    if (rc == MLF_OK && curve)
        rc = setup_curve(e, s->o.cfg, err, errlen);
    if (rc == MLF_OK && !curve)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "events.listen %s WITHOUT CurveZMQ (--insecure): any %s that reaches "
                "it can record asset events and trigger DAG runs", ep, mlf_endpoint_is_loopback(ep) ? "local user"
                                                                                                    : "peer");
    if (rc == MLF_OK && zmq_bind(e->sock, ep) != 0) {
        rc = zmq_errno();
        snprintf(err, errlen, "events.listen: cannot bind %s: %s", ep, zmq_strerror(rc));
    }
    size_t sz = sizeof e->fd;
    if (rc == MLF_OK && zmq_getsockopt(e->sock, ZMQ_FD, &e->fd, &sz) != 0)
        rc = zmq_errno();
    sz = sizeof e->zap_fd;
    if (rc == MLF_OK && e->zap && zmq_getsockopt(mlf_zap_socket(e->zap), ZMQ_FD, &e->zap_fd, &sz) != 0)
        rc = zmq_errno();
    if (rc != MLF_OK) {
        if (!err[0])
            snprintf(err, errlen, "events.listen: %s", mlf_strerror(rc));
        evsock_free(e);
        return rc;
    }
    mlf_log(MLF_LOG_INFO, COMPONENT, "event socket on %s (%s)", ep,
            curve ? "CurveZMQ, zmq.curve.authorized_keys" : "no authentication");
    s->evsock = e;
    return MLF_OK;
}

size_t mlf_sc_evsock_pollfds(mlf_scheduler *s, struct pollfd *pfd, size_t max)
{
    size_t n = 0;
    if (s->evsock && n < max)
        pfd[n++] = (struct pollfd){.fd = s->evsock->fd, .events = POLLIN};
    if (s->evsock && s->evsock->zap_fd >= 0 && n < max)
        pfd[n++] = (struct pollfd){.fd = s->evsock->zap_fd, .events = POLLIN};
    return n;
}

/* 1 when @p sock has a message waiting (also re-arms its edge-triggered ZMQ_FD). */
static int readable(void *sock)
{
    int ev = 0;
    size_t sz = sizeof ev;
    return zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &sz) == 0 && (ev & ZMQ_POLLIN);
}

int mlf_sc_evsock_pending(mlf_scheduler *s)
{
    struct mlf_evsock *e = s->evsock;
    return e && (readable(e->sock) || (e->zap && readable(mlf_zap_socket(e->zap))));
}

/* The reply: {ok: false, error: @p why}. */
static mlf_value *refusal(const char *why)
{
    mlf_value *r = mlf_value_map();
    mlf_map_set(r, "ok", mlf_value_bool(0));
    mlf_map_set(r, "error", mlf_value_str(why));
    return r;
}

/* The optional string field @p name of @p req: NULL when absent or nil; sets @p *bad when not a string. */
static const char *opt_str(const mlf_value *req, const char *name, const char **bad)
{
    const mlf_value *v = mlf_map_get(req, name);
    if (!v || mlf_value_type(v) == MLF_NIL)
        return NULL;
    const char *str = mlf_value_get_str(v, NULL);
    if (!str && !*bad)
        *bad = name;
    return str;
}

/* The optional map field @p name of @p req: NULL when absent or nil; sets @p *bad when not a map. */
static const mlf_value *opt_map(const mlf_value *req, const char *name, const char **bad)
{
    const mlf_value *v = mlf_map_get(req, name);
    if (!v || mlf_value_type(v) == MLF_NIL)
        return NULL;
    if (mlf_value_type(v) != MLF_MAP && !*bad)
        *bad = name;
    return mlf_value_type(v) == MLF_MAP ? v : NULL;
}

static mlf_value *do_asset_event(mlf_scheduler *s, const mlf_value *req, const char *who)
{
    const char *bad = NULL;
    const char *uri = opt_str(req, "uri", &bad);
    const mlf_value *extra = opt_map(req, "extra", &bad);
    const char *key = opt_str(req, "idempotency_key", &bad);
    char err[600];
    if (bad || !uri) {
        snprintf(err, sizeof err, "%s must be a %s", bad ? bad : "uri", bad && strcmp(bad, "extra") == 0 ? "map"
                                                                                                      : "string");
        return refusal(err);
    }
    if (key && !mlf_ops_idem_key_ok(key))
        return refusal("idempotency_key must be 1 to 200 printable ASCII characters");
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!w)
        return refusal("the state store is not writable");
    int64_t seq = 0;
    int replayed = 0;
    char src[80];
    snprintf(src, sizeof src, "zmq:%.70s", who);
    int rc = mlf_ops_asset_event_in(w, s->o.bag, uri, src, extra, key, 0, &seq, &replayed, err, sizeof err);
    if (rc != MLF_OK)
        return refusal(err);
    if (!replayed) {
        mlf_log(MLF_LOG_INFO, COMPONENT, "asset %s updated (event %lld) from the event socket (%s)", uri,
                (long long)seq, who);
        mlf_sc_asset_updated(s, uri);
    }
    mlf_value *r = mlf_value_map();
    mlf_map_set(r, "ok", mlf_value_bool(1));
    mlf_map_set(r, "seq", mlf_value_int(seq));
    mlf_map_set(r, "replayed", mlf_value_bool(replayed));
    return r;
}

static mlf_value *do_trigger(mlf_scheduler *s, const mlf_value *req, const char *who)
{
    const char *bad = NULL;
    const char *dag_id = opt_str(req, "dag_id", &bad);
    const mlf_value *conf = opt_map(req, "conf", &bad);
    const char *run_id = opt_str(req, "run_id", &bad);
    const char *date = opt_str(req, "logical_date", &bad);
    const char *key = opt_str(req, "idempotency_key", &bad);
    char err[600], id[200] = "";
    if (bad || !dag_id) {
        snprintf(err, sizeof err, "%s must be a %s", bad ? bad : "dag_id", bad && strcmp(bad, "conf") == 0 ? "map"
                                                                                                       : "string");
        return refusal(err);
    }
    if (run_id && (!*run_id || strlen(run_id) > MLF_STORE_ID_MAX || strchr(run_id, '/')))
        return refusal("run_id must be a string of 1 to 120 bytes without '/'");
    mlf_time_us logical = mlf_time_now();
    if (date && mlf_time_parse(date, NULL, &logical, err, sizeof err) != MLF_OK)
        return refusal("logical_date must be an RFC 3339 date-time");
    const mlf_dag *dag = mlf_dagbag_get(s->o.bag, dag_id);
    if (!dag) {
        snprintf(err, sizeof err, "no DAG '%s'", dag_id);
        return refusal(err);
    }
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!w)
        return refusal("the state store is not writable");
    int replay = 0, rc = MLF_OK;
    if (key) /* the same records as POST .../dagRuns with an Idempotency-Key */
        rc = mlf_ops_idem_replay(w, key, dag_id, id, sizeof id, &replay, err, sizeof err);
    if (rc == MLF_OK && !replay)
        rc = mlf_scheduler_create_run(s, dag, MLF_RUN_TYPE_MANUAL, logical, run_id, conf, id, sizeof id, err,
                                      sizeof err);
    if (rc == MLF_OK && key && !replay)
        rc = mlf_ops_idem_record(mlf_sc_wtxn(s), key, dag_id, id, err, sizeof err);
    if (rc != MLF_OK)
        return refusal(err[0] ? err : mlf_strerror(rc));
    if (!replay)
        mlf_log(MLF_LOG_INFO, COMPONENT, "DAG run %s/%s triggered from the event socket (%s)", dag_id, id, who);
    mlf_value *r = mlf_value_map();
    mlf_map_set(r, "ok", mlf_value_bool(1));
    mlf_map_set(r, "dag_id", mlf_value_str(dag_id));
    mlf_map_set(r, "run_id", mlf_value_str(id));
    mlf_map_set(r, "replayed", mlf_value_bool(replay));
    return r;
}

/* The answer to the request in the @p len bytes at @p buf, from client @p who (its public key, or "insecure"). */
static mlf_value *handle(mlf_scheduler *s, const void *buf, size_t len, const char *who)
{
    size_t used = 0;
    int rc = mlf_msgpack_prescan_budget(buf, len, 8, EVSOCK_MAX_VALUES, &used);
    if (rc == MLF_OK && used != len)
        rc = MLF_EPARSE;
    mlf_value *req = NULL;
    if (rc == MLF_OK)
        rc = mlf_value_unpack(buf, len, &req);
    if (rc != MLF_OK || mlf_value_type(req) != MLF_MAP) {
        mlf_log(MLF_LOG_WARNING, COMPONENT, "event socket: a malformed request from %s (%zu bytes): %s", who, len,
                rc != MLF_OK ? mlf_strerror(rc) : "not a map");
        mlf_value_free(req);
        return refusal("the request must be one msgpack map");
    }
    const char *op = mlf_value_get_str(mlf_map_get(req, "op"), NULL);
    mlf_value *r;
    if (op && strcmp(op, "asset_event") == 0)
        r = do_asset_event(s, req, who);
    else if (op && strcmp(op, "trigger") == 0)
        r = do_trigger(s, req, who);
    else
        r = refusal("op must be \"asset_event\" or \"trigger\"");
    int ok = 0;
    mlf_value_get_bool(mlf_map_get(r, "ok"), &ok);
    if (!ok)
        mlf_log(MLF_LOG_WARNING, COMPONENT, "event socket: refused a request from %s: %s", who,
                mlf_value_get_str(mlf_map_get(r, "error"), NULL));
    mlf_value_free(req);
    return r;
}

/* SIGHUP: the allow-list again (keys gone from it are refused from the next handshake on). */
static void reload(struct mlf_evsock *e)
{
    e->reload_seen = mlf_zmq_reload_generation();
    if (!e->zap || !e->ak_path)
        return;
    mlf_authkeys *ak = NULL;
    char err[400];
    if (mlf_authkeys_load(e->ak_path, &ak, err, sizeof err) != MLF_OK) {
        mlf_log(MLF_LOG_ERROR, COMPONENT, "event socket: keeping the old allow-list: %s", err);
        return;
    }
    mlf_zap_set_keys(e->zap, ak);
    mlf_authkeys_free(e->ak);
    e->ak = ak;
}

void mlf_sc_evsock_process(mlf_scheduler *s)
{
    struct mlf_evsock *e = s->evsock;
    if (!e)
        return;
    if (e->reload_seen != mlf_zmq_reload_generation())
        reload(e);
    if (e->zap)
        mlf_zap_process(e->zap);
    for (int k = 0; k < EVSOCK_PER_TURN; k++) {
        zmq_msg_t fr[EVSOCK_MAX_FRAMES];
        int nf = 0, more = 1, dropped = 0;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, e->sock, nf == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (nf < EVSOCK_MAX_FRAMES)
                fr[nf++] = m;
            else {
                zmq_msg_close(&m);
                dropped = 1;
            }
        }
        if (nf == 0)
            return;
        char who[MLF_CURVE_KEY_LEN + 1] = "insecure";
        const char *uid = zmq_msg_gets(&fr[nf - 1], "User-Id");
        if (uid && *uid)
            snprintf(who, sizeof who, "%s", uid);
        if (e->zap && (!uid || !*uid)) { /* never believed: CURVE without a ZAP answer cannot get here */
            dropped = 1;
        }
        if (dropped || nf < 2) {
            mlf_log(MLF_LOG_WARNING, COMPONENT, "event socket: dropped a message of %d frame(s) from %s", nf, who);
        } else {
            mlf_value *r = handle(s, zmq_msg_data(&fr[nf - 1]), zmq_msg_size(&fr[nf - 1]), who);
            void *buf = NULL;
            size_t len = 0;
            if (r && mlf_value_pack(r, &buf, &len) == MLF_OK) {
                for (int i = 0; i < nf - 1; i++)
                    zmq_send(e->sock, zmq_msg_data(&fr[i]), zmq_msg_size(&fr[i]), ZMQ_SNDMORE | ZMQ_DONTWAIT);
                zmq_send(e->sock, buf, len, ZMQ_DONTWAIT);
            }
            mlf_free(buf);
            mlf_value_free(r);
        }
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&fr[i]);
    }
}
