/* branch -- follows the downstream tasks named by `follow` and lets the core skip the others (Airflow's
 * BaseBranchOperator / BranchPythonOperator, with the choice made by a template instead of a callable).
 *
 * `follow` is rendered before execution and may be a task id, a list of task ids, or null / an empty list
 * (follow nothing: every direct downstream is skipped, as when Airflow's choose_branch returns None or []).
 * The followed ids, without duplicates and in the order given, become the XCom return_value, the way a
 * BranchPythonOperator's return value does.
 *
 * Where it differs from Airflow:
 *   - Airflow accepts any task id of the DAG; here only direct downstream tasks can be followed (that is
 *     what mlf_ctx_follow() allows), and any other id fails the task with the list of valid ids.
 *   - A bad `follow` (an unknown id, a non-string element, a number) fails without retry: the value was
 *     rendered from the DAG file and upstream XComs, so a retry would render it again to the same thing.
 *     Airflow raises AirflowException, which is retried.
 *   - The XCom return_value is always a list, even when `follow` was one string.
 *   - Which tasks end up skipped (and Airflow's exception for a join task that is also downstream of a
 *     followed branch) is the scheduler's business, not this operator's. */
#define _GNU_SOURCE /* open_memstream */
#include <mlflowd/mlflowd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mlf_param_spec branch_params[] = {
    {.name = "follow", .type = MLF_PARAM_ANY, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "the direct downstream task id(s) to run: a task id, a list of task ids, or a template that renders "
             "to one (e.g. \"{{ xcom.choose }}\"); null or [] skips every downstream task"},
    {0}};

/* Checks that @p follow is nil, a str or an array of str; on failure sets the message and returns 0. */
static int follow_is_well_formed(mlf_task_ctx *ctx, const mlf_value *follow)
{
    mlf_type t = mlf_value_type(follow);
    if (t == MLF_NIL || t == MLF_STR)
        return 1;
    if (t != MLF_ARRAY) {
        mlf_ctx_set_message(ctx, "branch: follow must be a task id or a list of task ids, not a %s",
                            mlf_type_name(t));
        return 0;
    }
    for (size_t i = 0; i < mlf_value_len(follow); i++) {
        mlf_type et = mlf_value_type(mlf_array_at(follow, i));
        if (et != MLF_STR) {
            mlf_ctx_set_message(ctx, "branch: follow[%zu] must be a task id (a string), not a %s", i,
                                mlf_type_name(et));
            return 0;
        }
    }
    return 1;
}

/* `follow` seen as a list: its element count and element @p i (a one-string follow counts as one). */
static size_t id_count(const mlf_value *follow)
{
    mlf_type t = mlf_value_type(follow);
    return t == MLF_STR ? 1 : t == MLF_ARRAY ? mlf_value_len(follow) : 0;
}

static const char *id_at(const mlf_value *follow, size_t i)
{
    return mlf_value_get_str(mlf_value_type(follow) == MLF_STR ? follow : mlf_array_at(follow, i), NULL);
}

/* 1 when id @p i of @p follow repeats an earlier one. */
static int seen_before(const mlf_value *follow, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(id_at(follow, j), id_at(follow, i)) == 0)
            return 1;
    return 0;
}

/* Appends "'id'" to @p f, after a comma unless it is the first. */
static void put_quoted(FILE *f, int *first, const char *id)
{
    fprintf(f, "%s'%s'", *first ? "" : ", ", id);
    *first = 0;
}

/* Explains which ids were refused and, when the daemon can say, which ones this task could follow. */
static void report_unknown(mlf_task_ctx *ctx, const mlf_value *follow, const unsigned char *unknown)
{
    char *text = NULL;
    size_t len = 0, bad = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        mlf_ctx_set_message(ctx, "branch: follow names a task that is not a direct downstream of '%s'",
                            mlf_ctx_task_id(ctx));
        return;
    }
    int first = 1;
    fputs("branch: follow names ", f);
    for (size_t i = 0; i < id_count(follow); i++)
        if (unknown[i] && !seen_before(follow, i)) {
            put_quoted(f, &first, id_at(follow, i));
            bad++;
        }
    fprintf(f, ", which %s not a direct downstream task of '%s'", bad == 1 ? "is" : "are", mlf_ctx_task_id(ctx));
    if (MLF_HOST_HAS(mlf_ctx_downstream)) {
        size_t ndown = 0;
        const char *const *down = mlf_ctx_downstream(ctx, &ndown);
        if (ndown == 0)
            fputs("; it has no downstream tasks", f);
        else
            fputs("; valid ids: ", f);
        first = 1;
        for (size_t i = 0; i < ndown; i++)
            put_quoted(f, &first, down[i]);
    }
    if (fclose(f) == 0 && text)
        mlf_ctx_set_message(ctx, "%s", text);
    else
        mlf_ctx_set_message(ctx, "branch: follow names a task that is not a direct downstream of '%s'",
                            mlf_ctx_task_id(ctx));
    free(text);
}

static mlf_outcome branch_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const mlf_value *follow = mlf_ctx_param(ctx, "follow");
    if (!follow_is_well_formed(ctx, follow))
        return MLF_FAILED_NO_RETRY;

    size_t n = id_count(follow);
    mlf_value *followed = mlf_value_array();
    unsigned char *unknown = calloc(n ? n : 1, 1);
    if (!followed || !unknown) {
        mlf_ctx_set_message(ctx, "branch: out of memory");
        mlf_value_free(followed);
        free(unknown);
        return MLF_FAILED;
    }

    mlf_outcome outcome = MLF_SUCCESS;
    int any_unknown = 0;
    for (size_t i = 0; i < n && outcome == MLF_SUCCESS; i++) {
        const char *id = id_at(follow, i);
        int rc = mlf_ctx_follow(ctx, id);
        if (rc == MLF_ENOTFOUND) {
            unknown[i] = 1;
            any_unknown = 1;
        } else if (rc != MLF_OK) {
            mlf_ctx_set_message(ctx, "branch: cannot follow '%s': %s", id, mlf_strerror(rc));
            outcome = rc == MLF_ENOMEM ? MLF_FAILED : MLF_FAILED_NO_RETRY;
        } else if (!seen_before(follow, i) && mlf_array_append(followed, mlf_value_str(id)) != MLF_OK) {
            mlf_ctx_set_message(ctx, "branch: out of memory");
            outcome = MLF_FAILED;
        }
    }
    if (outcome == MLF_SUCCESS && any_unknown) {
        report_unknown(ctx, follow, unknown);
        outcome = MLF_FAILED_NO_RETRY;
    }
    free(unknown);
    if (outcome != MLF_SUCCESS) {
        mlf_value_free(followed);
        return outcome;
    }

    if (mlf_value_len(followed) == 0)
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Following no branch: every downstream task will be skipped");
    for (size_t i = 0; i < mlf_value_len(followed); i++)
        mlf_ctx_log(ctx, MLF_LOG_INFO, "Following branch '%s'", mlf_value_get_str(mlf_array_at(followed, i), NULL));
    int rc = mlf_ctx_xcom_push(ctx, MLF_XCOM_RETURN_KEY, followed); /* takes followed, even on error */
    if (rc != MLF_OK) {
        mlf_ctx_set_message(ctx, "branch: cannot push the followed task ids as XCom: %s", mlf_strerror(rc));
        return MLF_FAILED;
    }
    return MLF_SUCCESS;
}

static const mlf_operator_desc branch_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "branch",
    .help = "Runs the direct downstream tasks named by `follow` (a task id or a list, usually a template over an "
            "upstream XCom) and skips every other direct downstream task (Airflow's BranchPythonOperator). The "
            "followed ids become the XCom return_value.",
    .flags = MLF_OP_BRANCH,
    .params = branch_params,
    .execute = branch_execute,
};

static int branch_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &branch_operator);
}

MLF_PLUGIN("branch", MLF_VERSION_STRING, "The branch operator (follow some downstream tasks, skip the rest)",
           branch_init, NULL);
