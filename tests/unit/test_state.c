/* Unit tests for core/state.c: names both ways, predicates. */
#include <check.h>
#include <stdlib.h>

#include "store/state.h"

START_TEST(test_ti_state_names_roundtrip)
{
    for (int s = 0; s < MLF_TI_STATE_COUNT; s++) {
        mlf_ti_state back = MLF_TI_STATE_COUNT;
        ck_assert_int_eq(mlf_ti_state_parse(mlf_ti_state_name((mlf_ti_state)s), &back), MLF_OK);
        ck_assert_int_eq(back, s);
    }
    ck_assert_str_eq(mlf_ti_state_name(MLF_TI_UP_FOR_RESCHEDULE), "up_for_reschedule");
    ck_assert_str_eq(mlf_ti_state_name(MLF_TI_NONE), "none");
    ck_assert_str_eq(mlf_ti_state_name(MLF_TI_STATE_COUNT), "unknown");
}
END_TEST

START_TEST(test_parse_rejects_unknown_names)
{
    mlf_ti_state ts = MLF_TI_QUEUED;
    ck_assert_int_eq(mlf_ti_state_parse("Running", &ts), MLF_EINVAL);
    ck_assert_int_eq(mlf_ti_state_parse("deferred", &ts), MLF_EINVAL);
    ck_assert_int_eq(mlf_ti_state_parse("", &ts), MLF_EINVAL);
    ck_assert_int_eq(mlf_ti_state_parse(NULL, &ts), MLF_EINVAL);
    ck_assert_int_eq(ts, MLF_TI_QUEUED); /* unchanged */
    mlf_run_state rs = MLF_RUN_RUNNING;
    ck_assert_int_eq(mlf_run_state_parse("scheduled", &rs), MLF_EINVAL);
    ck_assert_int_eq(rs, MLF_RUN_RUNNING);
    mlf_run_type rt = MLF_RUN_TYPE_MANUAL;
    ck_assert_int_eq(mlf_run_type_parse("dataset_triggered", &rt), MLF_EINVAL);
    ck_assert_int_eq(rt, MLF_RUN_TYPE_MANUAL);
}
END_TEST

START_TEST(test_run_states_and_types)
{
    const char *states[] = {"queued", "running", "success", "failed"};
    for (int s = 0; s < MLF_RUN_STATE_COUNT; s++) {
        mlf_run_state back;
        ck_assert_str_eq(mlf_run_state_name((mlf_run_state)s), states[s]);
        ck_assert_int_eq(mlf_run_state_parse(states[s], &back), MLF_OK);
        ck_assert_int_eq(back, s);
    }
    const char *types[] = {"scheduled", "manual", "backfill", "asset_triggered"};
    for (int t = 0; t < MLF_RUN_TYPE_COUNT; t++) {
        mlf_run_type back;
        ck_assert_str_eq(mlf_run_type_name((mlf_run_type)t), types[t]);
        ck_assert_int_eq(mlf_run_type_parse(types[t], &back), MLF_OK);
        ck_assert_int_eq(back, t);
    }
    ck_assert_str_eq(mlf_run_state_name(MLF_RUN_STATE_COUNT), "unknown");
    ck_assert_str_eq(mlf_run_type_name(MLF_RUN_TYPE_COUNT), "unknown");
}
END_TEST

START_TEST(test_finished_predicates)
{
    const mlf_ti_state finished[] = {MLF_TI_SUCCESS, MLF_TI_FAILED, MLF_TI_UPSTREAM_FAILED, MLF_TI_SKIPPED,
                                     MLF_TI_REMOVED};
    int count = 0;
    for (int s = 0; s < MLF_TI_STATE_COUNT; s++)
        count += mlf_ti_state_is_finished((mlf_ti_state)s);
    ck_assert_int_eq(count, 5);
    for (size_t i = 0; i < sizeof finished / sizeof finished[0]; i++)
        ck_assert(mlf_ti_state_is_finished(finished[i]));
    ck_assert(!mlf_ti_state_is_finished(MLF_TI_UP_FOR_RETRY));
    ck_assert(!mlf_ti_state_is_finished(MLF_TI_UP_FOR_RESCHEDULE));
    ck_assert(!mlf_ti_state_is_finished(MLF_TI_NONE));
    ck_assert(mlf_run_state_is_finished(MLF_RUN_SUCCESS));
    ck_assert(mlf_run_state_is_finished(MLF_RUN_FAILED));
    ck_assert(!mlf_run_state_is_finished(MLF_RUN_QUEUED));
    ck_assert(!mlf_run_state_is_finished(MLF_RUN_RUNNING));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ti_state_names_roundtrip);
    tcase_add_test(tc, test_parse_rejects_unknown_names);
    tcase_add_test(tc, test_run_states_and_types);
    tcase_add_test(tc, test_finished_predicates);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
