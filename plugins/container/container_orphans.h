/* container_orphans.h -- finding and removing containers whose try is gone. Plugin-internal.
 *
 * Every container this operator creates carries an owner label naming the process that runs its try:
 * host name, boot id, PID namespace, PID and the process's start time (so a recycled PID is not mistaken
 * for the owner). A try that ends normally, times out or is killed with SIGTERM removes its own container.
 * A try whose process dies without cleaning up (SIGKILL, a crashed or killed worker, a reboot) leaves an
 * orphan; the next sweep of that engine removes it. A sweep only judges containers owned from this host,
 * this boot (a different boot id on the same host means the owner is gone) and this PID namespace; others
 * belong to processes it cannot see and are left alone. See doc/operators/container.md, "Orphans". */
#ifndef MLF_PLUGIN_CONTAINER_ORPHANS_H
#define MLF_PLUGIN_CONTAINER_ORPHANS_H

#include "container_engine.h"
#include "container_parse.h"

/** Fills @p o with the identity of the calling process. Returns MLF_OK, or an errno value when /proc
 * cannot be read (the owner label is then not written and sweeps never judge the container). */
int ctr_owner_self(ctr_owner *o);

/** 1 when the owner @p o is certainly gone as seen from @p self (same host, and another boot, or the same
 * boot and PID namespace with no process of that PID and start time), else 0 (alive, or not ours to
 * judge). */
int ctr_owner_gone(const ctr_owner *o, const ctr_owner *self);

/** Receives one line for the log. */
typedef void (*ctr_log_fn)(void *ud, const char *line);

/**
 * Lists the containers of engine @p ep (negotiated) that carry the owner label, and removes (force: a
 * running one is killed first) those whose owner is gone; a container labelled auto_remove=false is only
 * killed when it still runs, and kept. Each removal is reported through @p log (may be NULL). Stores the
 * count removed or killed in @p *cleaned (may be NULL). Returns MLF_OK, or an error of ctr_call() /
 * MLF_EPARSE (listing) with the reason in @p err; a removal that fails is reported and skipped.
 */
int ctr_sweep_orphans(ctr_endpoint *ep, ctr_log_fn log, void *ud, size_t *cleaned, char *err, size_t errlen);

#endif
