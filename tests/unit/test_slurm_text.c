/* test_slurm_text.c -- the slurm executor's reading of Slurm's text (plugins/slurm/slurm_text.h): squeue
 * lines and sbatch answers as Slurm 22.05 prints them, job states, the extra-flag allow-list. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "slurm/slurm_text.h"

static int parse(const char *line, mlf_slurm_row *r)
{
    return mlf_slurm_parse_row(line, strlen(line), r);
}

START_TEST(test_rows)
{
    mlf_slurm_row r;
    ck_assert_int_eq(parse("12|mlflowd-00ab34cd56ef7890|PENDING|Priority|", &r), 0);
    ck_assert_str_eq(r.jobid, "12");
    ck_assert_int_eq((int)r.name_len, 24);
    ck_assert(strncmp(r.state, "PENDING", r.state_len) == 0 && r.state_len == 7);
    ck_assert(strncmp(r.reason, "Priority", r.reason_len) == 0 && r.reason_len == 8);
    ck_assert_int_eq((int)r.nodes_len, 0);
    ck_assert_int_eq(parse("345_7|x|RUNNING|None|node[01-02]", &r), 0);
    ck_assert_str_eq(r.jobid, "345_7");
    ck_assert(r.nodes_len == 11 && strncmp(r.nodes, "node[01-02]", 11) == 0);
    /* what a person may have in squeue's output that is not ours, or garbage: refused, never a crash */
    ck_assert_int_eq(parse("", &r), -1);
    ck_assert_int_eq(parse("12", &r), -1);
    ck_assert_int_eq(parse("12|a|b", &r), -1);
    ck_assert_int_eq(parse("12|a||r|n", &r), -1);           /* no state */
    ck_assert_int_eq(parse("abc|a|RUNNING|r|n", &r), -1);
    ck_assert_int_eq(parse("12_|a|RUNNING|r|n", &r), -1);
    ck_assert_int_eq(parse("12_[3-9]|a|PENDING|r|n", &r), -1); /* a compact array line (we ask for -r) */
    ck_assert_int_eq(parse("1234567890123456789012345678901234|a|RUNNING|r|n", &r), -1);
}
END_TEST

START_TEST(test_phases)
{
    ck_assert_int_eq(mlf_slurm_phase_of("PENDING", 7), MLF_SLURM_PENDING);
    ck_assert_int_eq(mlf_slurm_phase_of("RUNNING", 7), MLF_SLURM_RUNNING);
    ck_assert_int_eq(mlf_slurm_phase_of("COMPLETING", 10), MLF_SLURM_RUNNING);
    ck_assert_int_eq(mlf_slurm_phase_of("COMPLETED", 9), MLF_SLURM_FINISHED);
    ck_assert_int_eq(mlf_slurm_phase_of("FAILED", 6), MLF_SLURM_FINISHED);
    ck_assert_int_eq(mlf_slurm_phase_of("CANCELLED", 9), MLF_SLURM_ENDED);
    ck_assert_int_eq(mlf_slurm_phase_of("TIMEOUT", 7), MLF_SLURM_ENDED);
    ck_assert_int_eq(mlf_slurm_phase_of("NODE_FAIL", 9), MLF_SLURM_ENDED);
    ck_assert_int_eq(mlf_slurm_phase_of("PREEMPTED", 9), MLF_SLURM_ENDED);
    ck_assert_int_eq(mlf_slurm_phase_of("OUT_OF_MEMORY", 13), MLF_SLURM_ENDED);
    ck_assert_int_eq(mlf_slurm_phase_of("FAILEDX", 7), MLF_SLURM_RUNNING); /* unknown: not ended */
    ck_assert_int_eq(mlf_slurm_phase_of("FAIL", 4), MLF_SLURM_RUNNING);
}
END_TEST

START_TEST(test_sbatch)
{
    char id[MLF_SLURM_JOBID_MAX];
    ck_assert_int_eq(mlf_slurm_parse_sbatch("42\n", 3, id), 0);
    ck_assert_str_eq(id, "42");
    const char *fed = "sbatch: warning: something\n77;cluster1\n";
    ck_assert_int_eq(mlf_slurm_parse_sbatch(fed, strlen(fed), id), 0);
    ck_assert_str_eq(id, "77");
    const char *err = "sbatch: error: invalid partition specified: nope\n";
    ck_assert_int_eq(mlf_slurm_parse_sbatch(err, strlen(err), id), -1);
    ck_assert_int_eq(mlf_slurm_parse_sbatch("", 0, id), -1);
}
END_TEST

START_TEST(test_flags_and_values)
{
    const char *allowed = NULL;
    ck_assert(mlf_slurm_flag_allowed("--exclusive", &allowed));
    ck_assert_ptr_nonnull(allowed);
    ck_assert(mlf_slurm_flag_allowed("--nice=10", NULL));
    ck_assert(mlf_slurm_flag_allowed("--gpus=2", NULL));
    ck_assert(!mlf_slurm_flag_allowed("--nice=", NULL));     /* a value is needed */
    ck_assert(!mlf_slurm_flag_allowed("--exclusive=user", NULL));
    ck_assert(!mlf_slurm_flag_allowed("--uid=0", NULL));     /* who the job runs as */
    ck_assert(!mlf_slurm_flag_allowed("--output=/etc/x", NULL));
    ck_assert(!mlf_slurm_flag_allowed("--wrap=rm -rf /", NULL));
    ck_assert(!mlf_slurm_flag_allowed("--export=ALL", NULL));
    ck_assert(!mlf_slurm_flag_allowed("--mail-user=x", NULL));
    ck_assert(!mlf_slurm_flag_allowed("--comment=\"x\"", NULL));
    ck_assert(!mlf_slurm_flag_allowed(NULL, NULL));
    ck_assert_int_eq(mlf_slurm_valid_time("30"), 0);
    ck_assert_int_eq(mlf_slurm_valid_time("1:00:00"), 0);
    ck_assert_int_eq(mlf_slurm_valid_time("2-12:30:00"), 0);
    ck_assert_int_eq(mlf_slurm_valid_time("2-1-1"), -1);
    ck_assert_int_eq(mlf_slurm_valid_time("1h"), -1);
    ck_assert_int_eq(mlf_slurm_valid_time("-1"), -1);
    ck_assert_int_eq(mlf_slurm_valid_word("gpu:1"), 0);
    ck_assert_int_eq(mlf_slurm_valid_word("debug"), 0);
    ck_assert_int_eq(mlf_slurm_valid_word("--uid=0"), -1);
    ck_assert_int_eq(mlf_slurm_valid_word("a b"), -1);
    ck_assert_int_eq(mlf_slurm_valid_word("$(id)"), -1);
    ck_assert_int_eq(mlf_slurm_valid_word(""), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slurm_text");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, test_rows);
    tcase_add_test(tc, test_phases);
    tcase_add_test(tc, test_sbatch);
    tcase_add_test(tc, test_flags_and_values);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
