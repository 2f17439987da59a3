/* container_orphans.c -- sweeping the containers of dead tries (see container_orphans.h). */
#include "container_orphans.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Field 22 of /proc/PID/stat (starttime, clock ticks since boot). Returns 0 when the process does not
 * exist or the file cannot be read. */
static int proc_start(long pid, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p)
        return 0;
    p++;
    /* after ")": field 3 (state) ... field 22 (starttime): skip 19 fields */
    for (int field = 3; field < 22; field++) {
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
    }
    return sscanf(p, " %llu", start) == 1;
}

static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno ? errno : EIO;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return EIO;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

int ctr_owner_self(ctr_owner *o)
{
    *o = (ctr_owner){.pid = (long)getpid()};
    if (gethostname(o->host, sizeof o->host - 1) != 0 || !o->host[0])
        snprintf(o->host, sizeof o->host, "localhost");
    for (char *p = o->host; *p; p++)
        if (*p == ' ')
            *p = '_';
    int rc = read_line("/proc/sys/kernel/random/boot_id", o->boot, sizeof o->boot);
    if (rc)
        return rc;
    ssize_t n = readlink("/proc/self/ns/pid", o->pidns, sizeof o->pidns - 1);
    if (n <= 0)
        return errno ? errno : EIO;
    o->pidns[n] = '\0';
    if (!proc_start(o->pid, &o->start))
        return EIO;
    return 0;
}

int ctr_owner_gone(const ctr_owner *o, const ctr_owner *self)
{
    if (strcmp(o->host, self->host) != 0)
        return 0; /* another machine's process: not ours to judge */
    if (strcmp(o->boot, self->boot) != 0)
        return 1; /* this machine rebooted since: every process of then is gone */
    if (strcmp(o->pidns, self->pidns) != 0)
        return 0; /* a PID of another namespace means nothing here */
    unsigned long long start;
    if (!proc_start(o->pid, &start))
        return 1;
    return start != o->start; /* the PID was recycled */
}

int ctr_sweep_orphans(ctr_endpoint *ep, ctr_log_fn log, void *ud, size_t *cleaned, char *err, size_t errlen)
{
    if (cleaned)
        *cleaned = 0;
    ctr_owner self;
    if (ctr_owner_self(&self) != 0) {
        snprintf(err, errlen, "cannot read this process's identity from /proc");
        return MLF_EIO;
    }
    /* filters={"label":["org.mlflowd.owner"]} */
    char *filter = ctr_escape("{\"label\":[\"" CTR_LABEL_OWNER "\"]}");
    if (!filter) {
        snprintf(err, errlen, "out of memory");
        return MLF_ENOMEM;
    }
    char path[256];
    snprintf(path, sizeof path, "/containers/json?all=1&filters=%s", filter);
    free(filter);
    ctr_response resp;
    int rc = ctr_call(ep, "GET", path, NULL, NULL, 0, &resp, err, errlen);
    ctr_listed *items = NULL;
    size_t n = 0;
    if (rc == MLF_OK && resp.status != 200) {
        char msg[512];
        ctr_parse_error(&resp, msg, sizeof msg);
        snprintf(err, errlen, "listing containers: HTTP %ld: %s", resp.status, msg);
        rc = MLF_EIO;
    } else if (rc == MLF_OK) {
        char why[256];
        rc = ctr_parse_list(resp.body, resp.len, &items, &n, why, sizeof why);
        if (rc != MLF_OK)
            snprintf(err, errlen, "listing containers: %s", why);
    }
    ctr_response_free(&resp);
    for (size_t i = 0; rc == MLF_OK && i < n; i++) {
        ctr_listed *l = &items[i];
        if (!l->has_owner || !ctr_owner_gone(&l->owner, &self) || (l->keep && !l->running))
            continue;
        char why[512] = "", line[1024];
        ctr_response r = {0};
        int rc2 = MLF_OK;
        long status;
        if (l->keep || l->running) {
            /* SIGKILL first: a forced removal would wait for the container's own stop timeout (10 s) */
            snprintf(path, sizeof path, "/containers/%s/kill", l->id);
            rc2 = ctr_call(ep, "POST", path, NULL, NULL, 0, &r, why, sizeof why);
        }
        if (!l->keep) {
            if (l->running)
                ctr_response_free(&r);
            snprintf(path, sizeof path, "/containers/%s?force=1&v=1", l->id);
            rc2 = ctr_call(ep, "DELETE", path, NULL, NULL, 0, &r, why, sizeof why);
        }
        status = r.status;
        if (rc2 == MLF_OK && !(status >= 200 && status < 300) && status != 404 && status != 409)
            ctr_parse_error(&r, why, sizeof why);
        ctr_response_free(&r);
        if (rc2 == MLF_OK && (status == 404 || status == 409))
            continue; /* another sweep got there first */
        int done = rc2 == MLF_OK && status >= 200 && status < 300;
        if (done && cleaned)
            (*cleaned)++;
        if (done)
            snprintf(line, sizeof line, "Removed orphaned container %.12s of %s: the process that ran its try is gone%s",
                     l->id, l->what, l->keep ? " (killed and kept: auto_remove is false)" : "");
        else
            snprintf(line, sizeof line, "Could not remove orphaned container %.12s of %s: %s", l->id, l->what, why);
        if (log)
            log(ud, line);
    }
    free(items);
    return rc;
}
