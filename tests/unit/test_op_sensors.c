/* Unit tests for the sensor plugins file_sensor, time_delta_sensor and datetime_sensor, loaded from their
 * .la and poked through the SDK exactly as a worker pokes them (one execute() call is one poke). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "plugin/plugin_loader.h"
#include "plugin/registry.h"
#include "base/strutil.h"
#include "plugin/task_ctx.h"
#include "testutil.h"

static mlf_catalog *cat;

static void plugins_setup(void)
{
    const char *names[] = {"file_sensor", "time_delta_sensor", "datetime_sensor"};
    cat = tu_load_plugins(names, 3);
}

static void plugins_teardown(void)
{
    mlf_catalog_free(cat);
}

static mlf_time_us now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (mlf_time_us)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One poke: the context and its parameters, freed by poke_free(). */
typedef struct poke {
    mlf_task_ctx *ctx;
    mlf_value *params;
    mlf_outcome outcome;
    char logpath[64];
    int logfd;
} poke;

/* Pokes sensor @p name once with @p params (ownership taken) and @p in as the rest of the context.
 * The try's log goes to a temporary file (see poke_log). */
static poke poke_with(const char *name, mlf_value *params, mlf_task_ctx_init in)
{
    const mlf_operator_desc *op = mlf_catalog_operator(cat, name);
    ck_assert_ptr_nonnull(op);
    ck_assert_uint_eq(op->flags & MLF_OP_SENSOR, MLF_OP_SENSOR);
    poke p = {.params = params};
    strcpy(p.logpath, "/tmp/mlf-sensor-log-XXXXXX");
    p.logfd = mkstemp(p.logpath);
    ck_assert_int_ge(p.logfd, 0);
    in.dag_id = "d";
    in.task_id = name;
    in.run_id = "manual__1";
    in.try_number = 1;
    in.map_index = -1;
    in.log_fd = p.logfd;
    in.params = params;
    p.ctx = mlf_task_ctx_new(&in);
    ck_assert_ptr_nonnull(p.ctx);
    p.outcome = op->execute(p.ctx, op->data);
    return p;
}

static poke poke_once(const char *name, mlf_value *params)
{
    mlf_task_ctx_init in = {0};
    return poke_with(name, params, in);
}

/* The try's log so far (new string). */
static char *poke_log(const poke *p)
{
    FILE *f = fopen(p->logpath, "r");
    ck_assert_ptr_nonnull(f);
    mlf_buf b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        mlf_buf_append(&b, buf, n);
    fclose(f);
    mlf_buf_puts(&b, "");
    return mlf_buf_steal(&b);
}

static void poke_free(poke *p)
{
    mlf_task_ctx_free(p->ctx);
    mlf_value_free(p->params);
    close(p->logfd);
    unlink(p->logpath);
}

/* ---- file_sensor ---- */

static char tmp[64];

static void files_setup(void)
{
    plugins_setup();
    strcpy(tmp, "/tmp/mlf-file-sensor-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void files_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
    plugins_teardown();
}

/* Creates tmp/REL (a file, or a directory when REL ends in '/'), with its parent directories. */
static void make(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    for (char *s = strchr(path + strlen(tmp) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        ck_assert(mkdir(path, 0700) == 0 || access(path, F_OK) == 0);
        *s = '/';
    }
    if (path[strlen(path) - 1] != '/') {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
}

/* Pokes file_sensor for tmp/REL (or REL itself when it does not start with "./"); returns the outcome. */
static mlf_outcome poke_file(const char *rel, int recursive)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "path", mlf_value_str(path));
    mlf_map_set(params, "recursive", mlf_value_bool(recursive));
    poke p = poke_once("file_sensor", params);
    mlf_outcome o = p.outcome;
    if (o == MLF_RESCHEDULE)
        ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), 0); /* poke_interval decides */
    poke_free(&p);
    return o;
}

START_TEST(test_file_present_absent)
{
    ck_assert_int_eq(poke_file("model.bin", 0), MLF_RESCHEDULE);
    make("model.bin");
    ck_assert_int_eq(poke_file("model.bin", 0), MLF_SUCCESS);
    /* a trailing slash asks for a directory */
    ck_assert_int_eq(poke_file("model.bin/", 0), MLF_RESCHEDULE);
    ck_assert_int_eq(poke_file("nodir/model.bin", 0), MLF_RESCHEDULE);
    /* a FIFO is neither a file nor a directory (Airflow's isfile / os.walk) */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/pipe", tmp);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(poke_file("pipe", 0), MLF_RESCHEDULE);
}
END_TEST

START_TEST(test_file_success_is_logged)
{
    make("in/day.csv");
    char path[256];
    snprintf(path, sizeof path, "%s/in/*.csv", tmp);
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "path", mlf_value_str(path));
    poke p = poke_once("file_sensor", params);
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    char *log = poke_log(&p);
    char want[300];
    snprintf(want, sizeof want, "Found file %s/in/day.csv\n", tmp);
    ck_assert_msg(strstr(log, want), "log lacks '%s': %s", want, log);
    free(log);
    poke_free(&p);
}
END_TEST

START_TEST(test_file_glob)
{
    make("out/data-1.txt");
    make("out/.data-3.csv");
    ck_assert_int_eq(poke_file("out/data-*.csv", 0), MLF_RESCHEDULE);
    ck_assert_int_eq(poke_file("out/*.csv", 0), MLF_RESCHEDULE);        /* '*' skips hidden files */
    ck_assert_int_eq(poke_file("out/.*.csv", 0), MLF_SUCCESS);          /* unless the pattern spells the dot */
    ck_assert_int_eq(poke_file("*/data-?.txt", 0), MLF_SUCCESS);        /* wildcards in a directory too */
    ck_assert_int_eq(poke_file("out/data-[2-9].txt", 0), MLF_RESCHEDULE);
    make("out/data-2.csv");
    ck_assert_int_eq(poke_file("out/data-*.csv", 0), MLF_SUCCESS);
    ck_assert_int_eq(poke_file("out/data-[2-9].*", 0), MLF_SUCCESS);
}
END_TEST

START_TEST(test_file_directory_needs_a_file_inside)
{
    make("land/");
    ck_assert_int_eq(poke_file("land", 0), MLF_RESCHEDULE);
    make("land/a/b/");
    ck_assert_int_eq(poke_file("land", 0), MLF_RESCHEDULE); /* only empty subdirectories */
    ck_assert_int_eq(poke_file("la*/", 0), MLF_RESCHEDULE);
    make("land/a/b/_SUCCESS");
    ck_assert_int_eq(poke_file("land", 0), MLF_SUCCESS);
    ck_assert_int_eq(poke_file("la*/", 0), MLF_SUCCESS);
    /* a symbolic link to a directory is not entered (os.walk does not follow links) */
    make("other/");
    char target[128], link[128];
    snprintf(target, sizeof target, "%s/land", tmp);
    snprintf(link, sizeof link, "%s/other/ln", tmp);
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(poke_file("other", 0), MLF_RESCHEDULE);
    ck_assert_int_eq(poke_file("other/ln", 0), MLF_SUCCESS); /* named itself, it is followed */
}
END_TEST

START_TEST(test_file_recursive_globstar)
{
    make("deep/a/b/x.bin");
    ck_assert_int_eq(poke_file("deep/**/x.bin", 0), MLF_RESCHEDULE); /* without recursive, ** is * */
    ck_assert_int_eq(poke_file("deep/**/x.bin", 1), MLF_SUCCESS);
    ck_assert_int_eq(poke_file("deep/**/b/*.bin", 1), MLF_SUCCESS);
    ck_assert_int_eq(poke_file("deep/**/y.bin", 1), MLF_RESCHEDULE);
    make("flat/x.bin");
    ck_assert_int_eq(poke_file("flat/**/x.bin", 1), MLF_SUCCESS); /* ** matches zero directories */
    ck_assert_int_eq(poke_file("deep/**", 1), MLF_SUCCESS);          /* the directory and all below it */
    ck_assert_int_eq(poke_file("deep/a/b/x.bin/**", 1), MLF_RESCHEDULE); /* a file has nothing below it */
    make("hollow/a/b/");
    ck_assert_int_eq(poke_file("hollow/**", 1), MLF_RESCHEDULE);
    make("hid/.cache/x.bin");
    ck_assert_int_eq(poke_file("hid/**/x.bin", 1), MLF_RESCHEDULE); /* ** skips hidden directories */
}
END_TEST

static int fs_conn(void *ud, const char *conn_id, mlf_value **out)
{
    if (strcmp(conn_id, "landing") != 0 && strcmp(conn_id, "nopath") != 0)
        return MLF_ENOTFOUND;
    mlf_value *m = mlf_value_map(), *extra = mlf_value_map();
    if (strcmp(conn_id, "landing") == 0)
        mlf_map_set(extra, "path", mlf_value_str(ud));
    mlf_map_set(m, "conn_type", mlf_value_str("fs"));
    mlf_map_set(m, "extra", extra);
    *out = m;
    return MLF_OK;
}

/* Pokes file_sensor for the relative @p path through connection @p conn_id (NULL: none). */
static poke poke_relative(const char *path, const char *conn_id)
{
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "path", mlf_value_str(path));
    if (conn_id)
        mlf_map_set(params, "fs_conn_id", mlf_value_str(conn_id));
    mlf_task_ctx_init in = {.conn_lookup = fs_conn, .conn_ud = tmp};
    return poke_with("file_sensor", params, in);
}

START_TEST(test_file_relative_path_needs_a_base)
{
    make("in/f.txt");
    poke p = poke_relative("in/f.txt", NULL);
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(p.ctx), "file_sensor: path 'in/f.txt' is relative: give an absolute path, "
                                                  "or an fs_conn_id whose extra.path is the base directory");
    poke_free(&p);
    p = poke_relative("in/f.txt", "landing");
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    poke_free(&p);
    p = poke_relative("in/g.txt", "landing");
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    poke_free(&p);
    p = poke_relative("in/f.txt", "nopath");
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_ptr_nonnull(strstr(mlf_task_ctx_message(p.ctx), "connection 'nopath' gives no absolute base"));
    poke_free(&p);
    p = poke_relative("in/f.txt", "nosuch");
    ck_assert_int_eq(p.outcome, MLF_FAILED); /* the connection may yet be created: retry */
    ck_assert_ptr_nonnull(strstr(mlf_task_ctx_message(p.ctx), "connection 'nosuch'"));
    poke_free(&p);
    p = poke_relative("", NULL);
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(p.ctx), "file_sensor: path is empty");
    poke_free(&p);
}
END_TEST

START_TEST(test_file_cancelled_search_fails)
{
    make("c/x.txt");
    char path[256];
    snprintf(path, sizeof path, "%s/c/*.txt", tmp);
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "path", mlf_value_str(path));
    const mlf_operator_desc *op = mlf_catalog_operator(cat, "file_sensor");
    mlf_task_ctx_init in = {.task_id = "w", .map_index = -1, .log_fd = -1, .params = params};
    mlf_task_ctx *ctx = mlf_task_ctx_new(&in);
    mlf_task_ctx_cancel(ctx);
    ck_assert_int_eq(op->execute(ctx, op->data), MLF_FAILED);
    ck_assert_ptr_nonnull(strstr(mlf_task_ctx_message(ctx), "stopped while searching"));
    mlf_task_ctx_free(ctx);
    mlf_value_free(params);
}
END_TEST

/* ---- time_delta_sensor ---- */

static poke poke_delta(mlf_time_us interval_end, mlf_value *delta)
{
    mlf_value *params = mlf_value_map();
    if (delta)
        mlf_map_set(params, "delta", delta);
    mlf_task_ctx_init in = {.data_interval_start = interval_end - 3600000000LL, .data_interval_end = interval_end};
    return poke_with("time_delta_sensor", params, in);
}

START_TEST(test_time_delta_before_reschedules_at_target)
{
    mlf_time_us end = now_us() + 3600000000LL; /* the interval ends in an hour */
    poke p = poke_delta(end, mlf_value_int(1800000000LL));
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), end + 1800000000LL);
    poke_free(&p);
    /* the interval has ended but the delta has not passed yet */
    end = now_us() - 60000000LL;
    p = poke_delta(end, mlf_value_int(3600000000LL));
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), end + 3600000000LL);
    poke_free(&p);
}
END_TEST

START_TEST(test_time_delta_after_succeeds)
{
    mlf_time_us end = now_us() - 7200000000LL;
    poke p = poke_delta(end, mlf_value_int(3600000000LL));
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), 0);
    poke_free(&p);
    /* 2024-01-01T00:00:00Z + 6h: long past, and logged as the moment waited for */
    p = poke_delta(1704067200000000LL, mlf_value_int(6 * 3600000000LL));
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    char *log = poke_log(&p);
    ck_assert_ptr_nonnull(strstr(log, "Checking if the time (2024-01-01T06:00:00Z) has come"));
    free(log);
    poke_free(&p);
}
END_TEST

START_TEST(test_time_delta_bad_input_fails_without_retry)
{
    poke p = poke_delta(INT64_MAX - 5, mlf_value_int(10));
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(p.ctx), "time_delta_sensor: data_interval_end + delta is out of range");
    poke_free(&p);
    p = poke_delta(0, mlf_value_str("1h"));
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(p.ctx), "time_delta_sensor: delta must be a duration");
    poke_free(&p);
    p = poke_delta(0, NULL);
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    poke_free(&p);
}
END_TEST

/* ---- datetime_sensor ---- */

static poke poke_target(mlf_value *target)
{
    mlf_value *params = mlf_value_map();
    mlf_map_set(params, "target_time", target);
    return poke_once("datetime_sensor", params);
}

/* Seconds since the epoch of a UTC calendar time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (int64_t)timegm(&tm);
}

START_TEST(test_datetime_bad_format)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "expected a date YYYY-MM-DD"},
        {"tomorrow", "expected a date YYYY-MM-DD"},
        {"2024-1-01T00:00:00Z", "expected a date YYYY-MM-DD"},
        {" 2024-01-01T00:00:00Z", "expected a date YYYY-MM-DD"},
        {"2024-13-01T00:00:00Z", "month out of range"},
        {"2024-00-10", "month out of range"},
        {"2023-02-29T00:00:00Z", "day out of range for the month"},
        {"2024-04-31", "day out of range for the month"},
        {"2100-02-29", "day out of range for the month"},
        {"2024-01-01X06:00:00Z", "expected 'T' between the date and the time"},
        {"2024-01-01T06:00Z", "expected a time HH:MM:SS"},
        {"2024-01-01T", "expected a time HH:MM:SS"},
        {"2024-01-01T24:00:00Z", "time out of range"},
        {"2024-01-01T06:60:00Z", "time out of range"},
        {"2024-01-01T06:00:61Z", "time out of range"},
        {"2024-01-01T06:00:00.Z", "expected digits after '.'"},
        {"2024-01-01T06:00:00+2:00", "expected an offset +HH:MM or -HH:MM"},
        {"2024-01-01T06:00:00+0200", "expected an offset +HH:MM or -HH:MM"},
        {"2024-01-01T06:00:00+24:00", "offset out of range"},
        {"2024-01-01T06:00:00Z ", "unexpected text after the timestamp"},
        {"2024-01-01T06:00:00Zjunk", "unexpected text after the timestamp"},
        {"2024-01-01T06:00:00 UTC", "unexpected text after the timestamp"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        poke p = poke_target(mlf_value_str(bad[i].text));
        ck_assert_msg(p.outcome == MLF_FAILED_NO_RETRY, "'%s' was accepted", bad[i].text);
        char want[256];
        snprintf(want, sizeof want,
                 "datetime_sensor: target_time '%s' is not an RFC 3339 timestamp: %s (e.g. 2024-01-01T06:00:00Z or "
                 "2024-01-01T08:00:00+02:00)",
                 bad[i].text, bad[i].why);
        ck_assert_str_eq(mlf_task_ctx_message(p.ctx), want);
        ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), 0);
        poke_free(&p);
    }
    poke p = poke_target(mlf_value_int(1704067200));
    ck_assert_int_eq(p.outcome, MLF_FAILED_NO_RETRY);
    ck_assert_str_eq(mlf_task_ctx_message(p.ctx), "datetime_sensor: target_time must be a timestamp string, not a int");
    poke_free(&p);
}
END_TEST

START_TEST(test_datetime_past_succeeds)
{
    const char *past[] = {"2024-01-01T06:00:00Z", "2024-01-01", "2020-02-29T23:59:60Z", "1969-07-20T20:17:40-05:00",
                          "2024-01-01 06:00:00", "2024-01-01t06:00:00.5z", "0001-01-01T00:00:00Z",
                          "2000-02-29T12:00:00+14:00"};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        poke p = poke_target(mlf_value_str(past[i]));
        ck_assert_msg(p.outcome == MLF_SUCCESS, "'%s': outcome %d, %s", past[i], (int)p.outcome,
                      mlf_task_ctx_message(p.ctx) ? mlf_task_ctx_message(p.ctx) : "");
        ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), 0);
        poke_free(&p);
    }
}
END_TEST

START_TEST(test_datetime_future_reschedules_at_target)
{
    const struct {
        const char *text;
        int64_t want_us;
    } future[] = {
        {"2999-12-31T22:30:00.1234567+02:00", utc(2999, 12, 31, 20, 30, 0) * 1000000 + 123456},
        {"2999-01-01T06:00:00Z", utc(2999, 1, 1, 6, 0, 0) * 1000000},
        {"2999-01-01 06:00:00", utc(2999, 1, 1, 6, 0, 0) * 1000000},
        {"2999-01-01T06:00:00-00:00", utc(2999, 1, 1, 6, 0, 0) * 1000000},
        {"2999-01-01T00:30:00-01:45", utc(2999, 1, 1, 2, 15, 0) * 1000000},
        {"2999-12-31T23:59:60Z", utc(3000, 1, 1, 0, 0, 0) * 1000000},
        {"2400-02-29", utc(2400, 2, 29, 0, 0, 0) * 1000000},
        {"9999-12-31T23:59:59.999999Z", utc(9999, 12, 31, 23, 59, 59) * 1000000 + 999999},
    };
    for (size_t i = 0; i < sizeof future / sizeof future[0]; i++) {
        poke p = poke_target(mlf_value_str(future[i].text));
        ck_assert_msg(p.outcome == MLF_RESCHEDULE, "'%s': outcome %d", future[i].text, (int)p.outcome);
        ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), future[i].want_us);
        poke_free(&p);
    }
    poke p = poke_target(mlf_value_str("2999-12-31T22:30:00.25+02:00"));
    char *log = poke_log(&p);
    ck_assert_ptr_nonnull(strstr(log, "Checking if the time (2999-12-31T20:30:00.250000Z) has come"));
    free(log);
    poke_free(&p);
}
END_TEST

START_TEST(test_datetime_now_plus_a_moment)
{
    /* a target a little ahead reschedules; the same target once passed succeeds */
    time_t t = time(NULL) + 2;
    struct tm tm;
    gmtime_r(&t, &tm);
    char text[32];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    poke p = poke_target(mlf_value_str(text));
    ck_assert_int_eq(p.outcome, MLF_RESCHEDULE);
    ck_assert_int_eq(mlf_task_ctx_reschedule_time(p.ctx), (int64_t)t * 1000000);
    poke_free(&p);
    while (now_us() < (int64_t)t * 1000000)
        usleep(50000);
    p = poke_target(mlf_value_str(text));
    ck_assert_int_eq(p.outcome, MLF_SUCCESS);
    poke_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("op_sensors");
    TCase *files = tcase_create("file_sensor");
    tcase_add_checked_fixture(files, files_setup, files_teardown);
    tcase_add_test(files, test_file_present_absent);
    tcase_add_test(files, test_file_success_is_logged);
    tcase_add_test(files, test_file_glob);
    tcase_add_test(files, test_file_directory_needs_a_file_inside);
    tcase_add_test(files, test_file_recursive_globstar);
    tcase_add_test(files, test_file_relative_path_needs_a_base);
    tcase_add_test(files, test_file_cancelled_search_fails);
    suite_add_tcase(s, files);
    TCase *times = tcase_create("time_sensors");
    tcase_add_checked_fixture(times, plugins_setup, plugins_teardown);
    tcase_add_test(times, test_time_delta_before_reschedules_at_target);
    tcase_add_test(times, test_time_delta_after_succeeds);
    tcase_add_test(times, test_time_delta_bad_input_fails_without_retry);
    tcase_add_test(times, test_datetime_bad_format);
    tcase_add_test(times, test_datetime_past_succeeds);
    tcase_add_test(times, test_datetime_future_reschedules_at_target);
    tcase_add_test(times, test_datetime_now_plus_a_moment);
    suite_add_tcase(s, times);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
