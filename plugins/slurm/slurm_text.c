/* slurm_text.c -- Slurm's command-line text: squeue lines, sbatch's answer, job states, allowed flags (see
 * slurm_text.h). */
#include "slurm_text.h"

#include <ctype.h>
#include <string.h>

/* Splits off the next '|'-separated field of [*p, end): returns its start, its length in *n. */
static const char *next_field(const char **p, const char *end, size_t *n)
{
    const char *s = *p, *bar = memchr(s, '|', (size_t)(end - s));
    const char *e = bar ? bar : end;
    *n = (size_t)(e - s);
    *p = bar ? bar + 1 : end + 1;
    return s;
}

static int valid_jobid(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (!digits)
        return 0;
    if (i < n && s[i] == '_') {
        size_t j = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == j)
            return 0;
    }
    return i == n && n < MLF_SLURM_JOBID_MAX;
}

int mlf_slurm_parse_row(const char *line, size_t len, mlf_slurm_row *row)
{
    const char *p = line, *end = line + len;
    size_t n;
    const char *id = next_field(&p, end, &n);
    if (p > end || !valid_jobid(id, n))
        return -1;
    memcpy(row->jobid, id, n);
    row->jobid[n] = '\0';
    const char **dst[] = {&row->name, &row->state, &row->reason, &row->nodes};
    size_t *lens[] = {&row->name_len, &row->state_len, &row->reason_len, &row->nodes_len};
    for (size_t i = 0; i < 4; i++) {
        if (p > end)
            return -1;
        *dst[i] = next_field(&p, end, lens[i]);
    }
    return row->state_len ? 0 : -1;
}

static int is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

mlf_slurm_phase mlf_slurm_phase_of(const char *state, size_t len)
{
    static const char *const pending[] = {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING",
                                          "RESV_DEL_HOLD", "SPECIAL_EXIT", NULL};
    static const char *const ended[] = {"CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY",
                                        "BOOT_FAIL", "DEADLINE", "REVOKED", NULL};
    if (is(state, len, "COMPLETED") || is(state, len, "FAILED"))
        return MLF_SLURM_FINISHED;
    for (size_t i = 0; ended[i]; i++)
        if (is(state, len, ended[i]))
            return MLF_SLURM_ENDED;
    for (size_t i = 0; pending[i]; i++)
        if (is(state, len, pending[i]))
            return MLF_SLURM_PENDING;
    return MLF_SLURM_RUNNING;
}

int mlf_slurm_parse_sbatch(const char *out, size_t len, char *jobid)
{
    const char *p = out, *end = out + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *semi = memchr(p, ';', (size_t)(e - p));
        size_t n = (size_t)((semi ? semi : e) - p);
        if (n && valid_jobid(p, n)) {
            memcpy(jobid, p, n);
            jobid[n] = '\0';
            return 0;
        }
        p = e + 1;
    }
    return -1;
}

/* The extra sbatch flags a DAG may give, as "--name" (a flag without a value) or "--name=" (with one). */
static const char *const allowed_flags[] = {
    "--exclusive", "--nice=", "--nodes=", "--ntasks=", "--ntasks-per-node=", "--mem-per-cpu=", "--gpus=",
    "--gpus-per-node=", "--gpus-per-task=", "--cpus-per-gpu=", "--mem-per-gpu=", "--tmp=", "--hint=",
    "--reservation=", "--nodelist=", "--exclude=", "--licenses=", "--priority=", "--begin=", "--deadline=",
    "--time-min=", "--requeue", "--no-requeue", "--overcommit", "--spread-job", "--contiguous", "--switches=",
    "--wckey=", "--comment=", "--sockets-per-node=", "--cores-per-socket=", "--threads-per-core=",
    "--distribution=", "--prefer=", "--cluster-constraint=", "--hold", NULL};

int mlf_slurm_flag_allowed(const char *flag, const char **allowed)
{
    if (allowed)
        *allowed = "--exclusive --nice= --nodes= --ntasks= --ntasks-per-node= --mem-per-cpu= --gpus= "
                   "--gpus-per-node= --gpus-per-task= --cpus-per-gpu= --mem-per-gpu= --tmp= --hint= "
                   "--reservation= --nodelist= --exclude= --licenses= --priority= --begin= --deadline= "
                   "--time-min= --requeue --no-requeue --overcommit --spread-job --contiguous --switches= "
                   "--wckey= --comment= --sockets-per-node= --cores-per-socket= --threads-per-core= "
                   "--distribution= --prefer= --cluster-constraint= --hold";
    if (!flag)
        return 0;
    for (const char *c = flag; *c; c++)
        if (!isprint((unsigned char)*c) || *c == '\'' || *c == '"' || *c == '\\')
            return 0;
    for (size_t i = 0; allowed_flags[i]; i++) {
        size_t n = strlen(allowed_flags[i]);
        if (allowed_flags[i][n - 1] == '=') {
            if (strncmp(flag, allowed_flags[i], n) == 0 && flag[n])
                return 1;
        } else if (strcmp(flag, allowed_flags[i]) == 0)
            return 1;
    }
    return 0;
}

int mlf_slurm_valid_time(const char *s)
{
    if (!s || !*s || strlen(s) > 32)
        return -1;
    int dashes = 0;
    for (const char *c = s; *c; c++) {
        if (*c == '-')
            dashes++;
        else if (!isdigit((unsigned char)*c) && *c != ':')
            return -1;
    }
    return dashes <= 1 && isdigit((unsigned char)s[0]) ? 0 : -1;
}

int mlf_slurm_valid_word(const char *s)
{
    if (!s || !*s || *s == '-' || strlen(s) > 256)
        return -1;
    for (const char *c = s; *c; c++)
        if (!isgraph((unsigned char)*c) || *c == '\'' || *c == '"' || *c == '\\' || *c == '`' || *c == '$')
            return -1;
    return 0;
}
