/* fake_executor.c -- see fake_executor.h. */
#include "fake_executor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "time/timefmt.h"

static size_t in_flight_of(const fake_exec *fx)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->ntries; i++)
        n += !fx->tries[i].reported && !fx->tries[i].held;
    return n;
}

static fake_exec *opening; /* the fake the next open() takes */

static int fx_open(const mlf_exec_open_args *args, void **inst, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    opening->host = args->host;
    *inst = opening;
    return MLF_OK;
}

static mlf_exec_accept fx_can_accept(void *impl, const char *queue, const char *operator_name, char *why,
                                     size_t whylen)
{
    fake_exec *fx = impl;
    (void)queue;
    (void)operator_name;
    fx->accept_calls++;
    if (fx->wait_all) {
        snprintf(why, whylen, "nobody serves it");
        return MLF_EXEC_WAIT;
    }
    size_t busy = 0; /* held tries occupy their slot */
    for (size_t i = 0; i < fx->ntries; i++)
        busy += !fx->tries[i].reported;
    if (fx->slots > 0 && busy >= (size_t)fx->slots) {
        snprintf(why, whylen, "all %d slots are busy", fx->slots);
        return MLF_EXEC_BUSY;
    }
    return MLF_EXEC_ACCEPT;
}

static int fx_submit(void *impl, const mlf_value *spec, const char *queue, mlf_time_us now, char *err, size_t errlen)
{
    fake_exec *fx = impl;
    (void)queue;
    (void)now;
    mlf_task_spec *ts = NULL;
    int rc = mlf_task_spec_decode(spec, &ts, err, errlen);
    if (rc != MLF_OK)
        return rc;
    if (fx->ntries == fx->cap) {
        size_t cap = fx->cap ? fx->cap * 2 : 16;
        fake_try *v = realloc(fx->tries, cap * sizeof *v);
        if (!v) {
            mlf_task_spec_free(ts);
            return MLF_ENOMEM;
        }
        fx->tries = v;
        fx->cap = cap;
    }
    fake_try *t = &fx->tries[fx->ntries++];
    memset(t, 0, sizeof *t);
    mlf_strlcpy(t->attempt, ts->attempt, sizeof t->attempt);
    mlf_strlcpy(t->task_id, ts->task_id, sizeof t->task_id);
    t->try_number = ts->try_number;
    t->map_index = ts->map_index;
    t->submitted = mlf_time_now();
    t->params = mlf_value_copy(ts->params);
    t->outcome = fx->policy ? fx->policy(fx->ud, t->task_id, t->try_number, &t->held) : MLF_SUCCESS;
    mlf_task_spec_free(ts);
    if (fx->leases) {
        int lrc = mlf_exec_lease_persist(fx->host, t->attempt, "fake-worker", now + 3600 * INT64_C(1000000));
        if (lrc != MLF_OK && fx->lease_rc == MLF_OK)
            fx->lease_rc = lrc;
    }
    return MLF_OK;
}

static int fx_fd(void *impl)
{
    (void)impl;
    return -1;
}

static int fx_process(void *impl, mlf_time_us now)
{
    fake_exec *fx = impl;
    for (size_t i = 0; i < fx->ntries; i++) {
        fake_try *t = &fx->tries[i];
        if (t->reported || t->held)
            continue;
        t->reported = 1;
        mlf_task_result res = {.attempt = t->attempt, .outcome = t->outcome, .message = "from the fake executor",
                               .start_date = t->submitted, .end_date = now, .hostname = "fake"};
        char attempt[33];
        mlf_strlcpy(attempt, t->attempt, sizeof attempt); /* the report may realloc fx->tries */
        res.attempt = attempt;
        if (fx->leases)
            mlf_exec_lease_drop(fx->host, attempt);
        mlf_value *xc = NULL;
        if (fx->push_xcoms && t->outcome == MLF_SUCCESS && (xc = mlf_value_map())) {
            mlf_value *rv = mlf_value_map();
            mlf_map_set(rv, "task", mlf_value_str(t->task_id));
            mlf_map_set(rv, "map_index", mlf_value_int(t->map_index));
            mlf_map_set(rv, "try", mlf_value_int(t->try_number));
            mlf_map_set(xc, "return_value", rv);
            res.xcoms = xc;
        }
        mlf_value *v = NULL;
        if (mlf_task_result_encode(&res, &v) == MLF_OK)
            mlf_exec_report(fx->host, v); /* the documented TASK RESULT map, as a plugin would */
        mlf_value_free(v);
        mlf_value_free(xc);
    }
    return MLF_OK;
}

static mlf_time_us fx_next_deadline(void *impl)
{
    return in_flight_of(impl) ? 1 : 0; /* results wait: the loop must not sleep */
}

static int fx_kill(void *impl, const char *attempt, mlf_time_us now)
{
    fake_exec *fx = impl;
    (void)now;
    for (size_t i = 0; i < fx->ntries; i++)
        if (strcmp(fx->tries[i].attempt, attempt) == 0) {
            fx->tries[i].held = 0;
            fx->tries[i].outcome = MLF_FAILED;
        }
    return MLF_OK;
}

static int fx_shutdown(void *impl, int64_t grace, mlf_time_us now)
{
    (void)grace;
    (void)now;
    ((fake_exec *)impl)->shut_down = 1;
    return MLF_OK;
}

static size_t fx_in_flight(void *impl)
{
    return in_flight_of(impl);
}

static void fx_close(void *impl)
{
    ((fake_exec *)impl)->freed = 1;
}

static const mlf_executor_desc fake_desc = {
    .struct_size = sizeof(mlf_executor_desc), .name = "fake", .help = "runs nothing",
    .param_size = sizeof(mlf_param_spec), .open = fx_open, .can_accept = fx_can_accept, .submit = fx_submit,
    .kill = fx_kill, .fd = fx_fd, .next_deadline = fx_next_deadline, .process = fx_process,
    .after_commit = NULL, .shutdown = fx_shutdown, .in_flight = fx_in_flight, .adopt = NULL, .describe = NULL,
    .close = fx_close};

const mlf_executor_desc *fake_executor(fake_exec *fx)
{
    opening = fx;
    return &fake_desc;
}

void fake_exec_clear(fake_exec *fx)
{
    for (size_t i = 0; i < fx->ntries; i++)
        mlf_value_free(fx->tries[i].params);
    free(fx->tries);
    fx->tries = NULL;
    fx->ntries = fx->cap = 0;
}

size_t fake_tries_of(const fake_exec *fx, const char *task_id)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->ntries; i++)
        n += strcmp(fx->tries[i].task_id, task_id) == 0;
    return n;
}

long fake_find(const fake_exec *fx, const char *task_id, size_t n)
{
    for (size_t i = 0; i < fx->ntries; i++)
        if (strcmp(fx->tries[i].task_id, task_id) == 0 && n-- == 0)
            return (long)i;
    return -1;
}
