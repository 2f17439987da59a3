/* slurm_argv.c -- the sbatch command line of one try (see slurm_argv.h). */
#include "slurm_argv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm_text.h"

static char *xprintf(const char *fmt, ...) MLF_PRINTF(1, 2);
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* A string member of map @p m, or "" (absent, not a string, or no map). */
static const char *str_of(const mlf_value *m, const char *key)
{
    const char *s = mlf_value_get_str(mlf_map_get(m, key), NULL);
    return s ? s : "";
}

void mlf_slurm_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

typedef struct argv_buf {
    char **v;
    size_t n, cap;
    int oom;
} argv_buf;

static void push(argv_buf *a, char *s)
{
    if (!s || a->oom) {
        free(s);
        a->oom = 1;
        return;
    }
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            free(s);
            a->oom = 1;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

/* Adds "--flag=value" when @p value is set, after checking it is a plain word. */
static int push_word(argv_buf *a, const char *flag, const char *value, char *err, size_t errlen)
{
    if (!value || !*value)
        return MLF_OK;
    if (mlf_slurm_valid_word(value) != 0) {
        snprintf(err, errlen, "executor_config.slurm: %s '%s' is not a valid Slurm value", flag + 2, value);
        return MLF_EINVAL;
    }
    push(a, xprintf("%s=%s", flag, value));
    return MLF_OK;
}

int mlf_slurm_sbatch_argv(const mlf_slurm_sbatch_defaults *d, const mlf_value *spec, const char *queue,
                          const char *attempt, char ***out, char *err, size_t errlen)
{
    const mlf_value *ec = mlf_map_get(mlf_map_get(spec, "executor_config"), "slurm");
    if (ec && mlf_value_type(ec) != MLF_MAP) {
        snprintf(err, errlen, "executor_config.slurm must be a map");
        return MLF_EPARSE;
    }
    argv_buf a = {0};
    push(&a, strdup(d->sbatch));
    push(&a, strdup("--parsable"));
    push(&a, xprintf("--job-name=%s-%s", d->job_name, attempt));
    push(&a, xprintf("--output=%s/%s.out", d->spool, attempt));
    push(&a, xprintf("--chdir=%s", d->spool));
    push(&a, strdup("--no-requeue")); /* a requeued job would run the same try twice: retries are ours */
    const char *part = str_of(ec, "partition");
    if (!*part)
        part = queue && *queue && strcmp(queue, "default") != 0 ? queue : d->partition;
    const char *account = *str_of(ec, "account") ? str_of(ec, "account") : d->account;
    const char *qos = *str_of(ec, "qos") ? str_of(ec, "qos") : d->qos;
    int rc = push_word(&a, "--partition", part, err, errlen);
    if (!rc)
        rc = push_word(&a, "--account", account, err, errlen);
    if (!rc)
        rc = push_word(&a, "--qos", qos, err, errlen);
    if (!rc)
        rc = push_word(&a, "--mem", str_of(ec, "memory"), err, errlen);
    if (!rc)
        rc = push_word(&a, "--gres", str_of(ec, "gres"), err, errlen);
    if (!rc)
        rc = push_word(&a, "--constraint", str_of(ec, "constraint"), err, errlen);
    int64_t cpus = 0;
    mlf_value_get_int(mlf_map_get(ec, "cpus"), &cpus);
    if (!rc && mlf_map_get(ec, "cpus")) {
        if (cpus < 1 || cpus > 100000) {
            snprintf(err, errlen, "executor_config.slurm: cpus must be 1..100000, got %lld", (long long)cpus);
            rc = MLF_EINVAL;
        } else
            push(&a, xprintf("--cpus-per-task=%lld", (long long)cpus));
    }
    const char *tl = str_of(ec, "time_limit");
    int64_t timeout = 0;
    mlf_value_get_int(mlf_map_get(spec, "execution_timeout"), &timeout);
    if (!rc && *tl) {
        if (mlf_slurm_valid_time(tl) != 0) {
            snprintf(err, errlen, "executor_config.slurm: time_limit '%s' is not a Slurm time", tl);
            rc = MLF_EINVAL;
        } else
            push(&a, xprintf("--time=%s", tl));
    } else if (!rc && timeout > 0) /* a backstop: the executor itself cancels the job at execution_timeout */
        push(&a, xprintf("--time=%lld", (long long)((timeout + 59999999) / 60000000 + 1)));
    const mlf_value *extra = mlf_map_get(ec, "extra_flags");
    for (size_t i = 0; !rc && i < mlf_value_len(extra); i++) {
        const char *f = mlf_value_get_str(mlf_array_at(extra, i), NULL);
        const char *allowed;
        if (!mlf_slurm_flag_allowed(f, &allowed)) {
            snprintf(err, errlen, "executor_config.slurm.extra_flags: '%s' is not allowed (allowed: %s)",
                     f ? f : "(not a string)", allowed);
            rc = MLF_EINVAL;
        } else
            push(&a, strdup(f));
    }
    push(&a, strdup(d->script));
    push(&a, strdup(d->spool));
    push(&a, strdup(attempt));
    push(&a, strdup(d->exe));
    if (!rc && a.oom)
        rc = MLF_ENOMEM;
    if (rc) {
        mlf_slurm_argv_free(a.v);
        return rc;
    }
    *out = a.v;
    return MLF_OK;
}
