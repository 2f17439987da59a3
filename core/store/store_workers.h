/*
 * store_workers.h -- the workers of remote executors in the state store: what `mlflowd workers list` shows
 * (doc/deploy.md). The scheduler writes them from what its executor reports (mlf_exec_worker_update(),
 * mlflowd/executor.h); nothing else does. Same transaction rules, record ownership and common errors as
 * store.h.
 */
#ifndef MLF_CORE_STORE_WORKERS_H
#define MLF_CORE_STORE_WORKERS_H

#include "store/store.h"

/** Longest worker name in bytes (the protocol's own limit, doc/protocol.md). */
#define MLF_WORKER_NAME_MAX 128

/** One worker as its executor last saw it (key: name). */
typedef struct mlf_worker_rec {
    char *name;
    char *executor;          /**< the executor it serves ("zmq") */
    char *host;              /**< the host name it announced */
    int64_t pid;             /**< its process id on that host (0: unknown) */
    char *state;             /**< "ready" (registered and heartbeating) or "gone" */
    char *reason;            /**< why it is gone, or NULL */
    int slots;               /**< tries it runs at once */
    int running;             /**< tries it held when the record was written */
    char *queues;            /**< the queues it listens on, comma-separated ("" for none) */
    char *operators;         /**< the operators it can run, comma-separated */
    char *key;               /**< its CURVE public key (Z85), or NULL */
    mlf_time_us registered_at; /**< when it (re)registered */
    mlf_time_us last_heartbeat; /**< the latest message heard from it */
    int64_t liveness;        /**< µs without a message after which its executor gives it up */
} mlf_worker_rec;

void mlf_worker_rec_init(mlf_worker_rec *r);
void mlf_worker_rec_clear(mlf_worker_rec *r);

typedef int (*mlf_store_worker_cb)(void *ud, const mlf_worker_rec *rec);

/** Inserts or replaces; get fills @p *out (release with mlf_worker_rec_clear(); MLF_ENOTFOUND when absent);
 * delete gives MLF_ENOTFOUND when absent; foreach goes in name order. Names are 1..MLF_WORKER_NAME_MAX
 * bytes (MLF_ETOOBIG, MLF_EINVAL). */
int mlf_store_worker_put(mlf_store_txn *w, const mlf_worker_rec *rec);
int mlf_store_worker_get(mlf_store_txn *txn, const char *name, mlf_worker_rec *out);
int mlf_store_worker_delete(mlf_store_txn *w, const char *name);
int mlf_store_worker_foreach(mlf_store_txn *txn, mlf_store_worker_cb cb, void *ud);

#endif
