/*
 * web_api_tis.c -- task instances of a run (list, get, PATCH new_state), a try's log (with an offset, for
 * tailing) and XCom entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/run_ops.h"
#include "sched/scheduler.h"
#include "web/web_internal.h"

/* Largest log chunk answered at once. */
#define LOG_CHUNK (256 * 1024)

static json_t *ti_json(const mlf_ti_rec *r, mlf_time_us logical_date)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:s, s:i, s:i, s:s?, s:s?, s:s?, s:i, s:s?, s:i, "
                     "s:o, s:i, s:s?, s:s?}",
                     "task_id", r->task_id, "dag_id", r->dag_id, "dag_run_id", r->run_id, "map_index", r->map_index,
                     "execution_date", mlf_web_time(logical_date), "start_date", mlf_web_time(r->start_date),
                     "end_date", mlf_web_time(r->end_date), "duration",
                     r->duration > 0 ? json_real((double)r->duration / 1e6)
                     : r->start_date > 0 && r->end_date > r->start_date
                         ? json_real((double)(r->end_date - r->start_date) / 1e6)
                         : json_null(),
                     "state",
                     r->state == MLF_TI_NONE ? "none" : mlf_ti_state_name(r->state), "try_number", r->try_number,
                     "max_tries", r->max_tries, "hostname", r->hostname, "operator", r->operator_name, "pool",
                     r->pool, "pool_slots", r->pool_slots, "queue", r->queue, "priority_weight", r->priority_weight,
                     "queued_when", mlf_web_time(r->queued_at), "pid", r->pid, "note", r->note, "message",
                     r->message);
}

/* The run's logical date (for execution_date), or a 404 problem. */
static int run_date(mlf_web_req *rq, mlf_web_resp *rs, mlf_store_txn *txn, const char *dag_id, const char *run_id,
                    mlf_time_us *out)
{
    mlf_run_rec r;
    int rc = mlf_store_run_get(txn, dag_id, run_id, &r);
    if (rc != MLF_OK) {
        char what[300];
        snprintf(what, sizeof what, "DAG run '%.120s' of DAG '%.120s'", run_id, dag_id);
        mlf_web_store_problem(rs, rc, what);
        return rc;
    }
    (void)rq;
    *out = r.logical_date;
    mlf_run_rec_clear(&r);
    return MLF_OK;
}

typedef struct ti_list {
    unsigned states;
    long limit, offset, total;
    mlf_time_us date;
    json_t *list;
} ti_list;

static int add_ti(void *ud, const mlf_ti_rec *r)
{
    ti_list *l = ud;
    if (l->states && !(l->states & (1u << r->state)))
        return 0;
    if (l->total >= l->offset && (long)json_array_size(l->list) < l->limit)
        json_array_append_new(l->list, ti_json(r, l->date));
    l->total++;
    return 0;
}

/* The TIs of a run, of one task of it when @p task_id is not NULL (its mapped instances by map index). */
static void list_tis(mlf_web_req *rq, mlf_web_resp *rs, const char *task_id)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    if (task_id && mlf_dag_task_index(d, task_id) < 0) {
        mlf_web_problem(rs, 404, "DAG %s has no task %.200s", d->dag_id, task_id);
        return;
    }
    ti_list l = {0};
    char err[200];
    if (mlf_web_parse_page(mlf_web_arg(rq, "limit"), mlf_web_arg(rq, "offset"), &l.limit, &l.offset, err,
                           sizeof err)) {
        mlf_web_problem(rs, 400, "%s", err);
        return;
    }
    if (mlf_web_state_filter(rq, rs, 1, &l.states))
        return;
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc != MLF_OK) {
        mlf_web_store_problem(rs, rc, "the task instances");
        return;
    }
    if (run_date(rq, rs, txn, d->dag_id, rq->params[1], &l.date) != MLF_OK) {
        mlf_store_read_end(txn);
        return;
    }
    l.list = json_array();
    rc = mlf_store_ti_foreach_run(txn, d->dag_id, rq->params[1], task_id, add_ti, &l);
    mlf_store_read_end(txn);
    if (rc != MLF_OK) {
        json_decref(l.list);
        mlf_web_store_problem(rs, rc, "the task instances");
        return;
    }
    mlf_web_json(rs, 200, json_pack("{s:o, s:I}", "task_instances", l.list, "total_entries", (json_int_t)l.total));
}

void mlf_web_h_tis_list(mlf_web_req *rq, mlf_web_resp *rs)
{
    list_tis(rq, rs, NULL);
}

void mlf_web_h_ti_list_mapped(mlf_web_req *rq, mlf_web_resp *rs)
{
    list_tis(rq, rs, rq->params[2]);
}

/* Reads one TI (and its run's date) into @p r; a problem on failure. */
static int load_ti(mlf_web_req *rq, mlf_web_resp *rs, int map_index, mlf_ti_rec *r, mlf_time_us *date)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return MLF_ENOTFOUND;
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc != MLF_OK) {
        mlf_web_store_problem(rs, rc, "the task instance");
        return rc;
    }
    rc = run_date(rq, rs, txn, d->dag_id, rq->params[1], date);
    if (rc == MLF_OK) {
        mlf_ti_key k = {d->dag_id, rq->params[1], rq->params[2], map_index};
        rc = mlf_store_ti_get(txn, &k, r);
        if (rc != MLF_OK) {
            char what[400];
            snprintf(what, sizeof what, "task instance %.120s (map index %d) of run '%.120s'", rq->params[2],
                     map_index, rq->params[1]);
            mlf_web_store_problem(rs, rc, what);
        }
    }
    mlf_store_read_end(txn);
    return rc;
}

static int map_index_arg(mlf_web_resp *rs, const char *s, int *out)
{
    long v;
    if (!s) {
        *out = -1;
        return MLF_OK;
    }
    if (strcmp(s, "-1") == 0) {
        *out = -1;
        return MLF_OK;
    }
    if (mlf_web_parse_uint(s, 1000000, &v) != MLF_OK) {
        mlf_web_problem(rs, 400, "map_index must be -1 or a whole number up to 1000000");
        return MLF_EINVAL;
    }
    *out = (int)v;
    return MLF_OK;
}

static void answer_ti(mlf_web_req *rq, mlf_web_resp *rs, int map_index)
{
    mlf_ti_rec r;
    mlf_ti_rec_init(&r);
    mlf_time_us date;
    if (load_ti(rq, rs, map_index, &r, &date) == MLF_OK)
        mlf_web_json(rs, 200, ti_json(&r, date));
    mlf_ti_rec_clear(&r);
}

void mlf_web_h_ti_get(mlf_web_req *rq, mlf_web_resp *rs)
{
    int mi;
    if (map_index_arg(rs, mlf_web_arg(rq, "map_index"), &mi) == MLF_OK)
        answer_ti(rq, rs, mi);
}

void mlf_web_h_ti_get_mapped(mlf_web_req *rq, mlf_web_resp *rs)
{
    int mi;
    if (map_index_arg(rs, rq->params[3], &mi) == MLF_OK)
        answer_ti(rq, rs, mi);
}

void mlf_web_h_ti_patch(mlf_web_req *rq, mlf_web_resp *rs)
{
    const mlf_dag *d = mlf_web_dag(rq, rs, rq->params[0]);
    if (!d)
        return;
    json_t *body = mlf_web_body(
        rq, rs, (const char *const[]){"new_state", "dry_run", "include_downstream", "include_upstream", NULL}, 0);
    if (!body)
        return;
    const char *ns = json_string_value(json_object_get(body, "new_state"));
    mlf_ti_state st = MLF_TI_NONE;
    if (!ns || mlf_ti_state_parse(ns, &st) != MLF_OK || (st != MLF_TI_SUCCESS && st != MLF_TI_FAILED)) {
        json_decref(body);
        mlf_web_problem(rs, 400, "new_state must be \"success\" or \"failed\"");
        return;
    }
    if (mlf_dag_task_index(d, rq->params[2]) < 0) {
        json_decref(body);
        mlf_web_problem(rs, 404, "DAG %s has no task %.200s", d->dag_id, rq->params[2]);
        return;
    }
    unsigned char *sel = malloc(d->ntasks);
    json_t *ids = json_pack("[s]", rq->params[2]);
    int rc = sel && ids ? mlf_web_select_tasks(rs, d, ids, json_is_true(json_object_get(body, "include_downstream")),
                                               json_is_true(json_object_get(body, "include_upstream")), sel)
                        : MLF_ENOMEM;
    int dry = json_is_true(json_object_get(body, "dry_run"));
    json_decref(ids);
    json_decref(body);
    size_t marked = 0;
    if (rc == MLF_OK && !dry) {
        pthread_mutex_lock(&rq->web->write_mu);
        rc = mlf_ops_mark_tis(rq->web->o.store, d, rq->params[1], sel, st, &marked);
        pthread_mutex_unlock(&rq->web->write_mu);
        if (rc != MLF_OK)
            mlf_web_store_problem(rs, rc, "the DAG run");
    } else if (rc == MLF_ENOMEM) {
        mlf_web_problem(rs, 500, "out of memory");
    }
    free(sel);
    if (rc == MLF_OK)
        answer_ti(rq, rs, -1);
}

/* ----------------------------------------------------------------------------------------------- logs */

/* An id that can name a directory of the log tree: no '/', not "." or "..". */
static int path_safe(const char *s)
{
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Appends @p n bytes of @p p to @p out, replacing bytes that are not UTF-8 with '?' (JSON needs UTF-8);
 * returns how many input bytes it took (an incomplete sequence at the end is left for the next read). */
static size_t utf8_clean(const unsigned char *p, size_t n, mlf_buf *out, int at_eof)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len > 1 && i + len > n && !at_eof)
            break; /* wait for the rest of it */
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[i + k] & 0xC0) == 0x80;
        if (ok && c != 0) {
            mlf_buf_append(out, p + i, len);
            i += len;
        } else {
            mlf_buf_append(out, "?", 1);
            i++;
        }
    }
    return i;
}

void mlf_web_h_ti_log(mlf_web_req *rq, mlf_web_resp *rs)
{
    long try_number, offset = 0;
    int mi;
    if (mlf_web_parse_uint(rq->params[3], 100000, &try_number) != MLF_OK || try_number < 1) {
        mlf_web_problem(rs, 400, "the try number must be a whole number from 1");
        return;
    }
    const char *off_s = mlf_web_arg(rq, "offset");
    if (!off_s)
        off_s = mlf_web_arg(rq, "token"); /* Airflow's continuation token */
    if (off_s && mlf_web_parse_uint(off_s, (long)1 << 50, &offset) != MLF_OK) {
        mlf_web_problem(rs, 400, "offset must be a whole number of bytes");
        return;
    }
    if (map_index_arg(rs, mlf_web_arg(rq, "map_index"), &mi) != MLF_OK)
        return;
    mlf_ti_rec r;
    mlf_ti_rec_init(&r);
    mlf_time_us date;
    if (load_ti(rq, rs, mi, &r, &date) != MLF_OK) {
        mlf_ti_rec_clear(&r);
        return;
    }
    int tries = r.try_number;
    int running = r.state == MLF_TI_RUNNING || r.state == MLF_TI_QUEUED;
    mlf_ti_rec_clear(&r);
    if (try_number > tries || !path_safe(rq->params[0]) || !path_safe(rq->params[1]) || !path_safe(rq->params[2])) {
        mlf_web_problem(rs, 404, "task instance %.120s has no try %ld (it has had %d)", rq->params[2], try_number,
                        tries);
        return;
    }
    char *path = mlf_ti_log_path(mlf_config_home(rq->web->o.cfg), rq->params[0], rq->params[1], rq->params[2], mi,
                                 (int)try_number);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    free(path);
    struct stat sb;
    long size = 0;
    unsigned char *buf = NULL;
    ssize_t got = 0;
    if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        size = (long)sb.st_size;
        if (offset < size) {
            size_t want = (size_t)(size - offset) < LOG_CHUNK ? (size_t)(size - offset) : LOG_CHUNK;
            buf = malloc(want);
            got = buf ? pread(fd, buf, want, offset) : -1;
            if (got < 0)
                got = 0;
        }
    }
    if (fd >= 0)
        close(fd);
    mlf_buf text = {0};
    size_t used = buf ? utf8_clean(buf, (size_t)got, &text, offset + got >= size) : 0;
    free(buf);
    long next = offset + (long)used;
    const char *accept = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if (accept && strstr(accept, "text/plain")) {
        rs->status = 200;
        rs->content_type = "text/plain; charset=utf-8";
        rs->len = text.len;
        rs->body = text.data ? mlf_buf_steal(&text) : strdup("");
        return;
    }
    char tok[32];
    snprintf(tok, sizeof tok, "%ld", next);
    mlf_web_json(rs, 200, json_pack("{s:s%, s:s, s:I, s:I, s:b}", "content", text.data ? text.data : "", text.len,
                                    "continuation_token", tok, "offset", (json_int_t)next, "size", (json_int_t)size,
                                    "eof", next >= size && !running));
    mlf_buf_free(&text);
}

/* ----------------------------------------------------------------------------------------------- XCom */

typedef struct xcom_list {
    json_t *list;
    const char *key; /* one key, or NULL */
    int map_index;
    json_t *found;
} xcom_list;

static int add_xcom(void *ud, const mlf_ti_key *ti, const char *key, const void *val, size_t len)
{
    xcom_list *x = ud;
    if (ti->map_index != x->map_index)
        return 0;
    if (x->key) {
        if (strcmp(key, x->key) != 0)
            return 0;
        x->found = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o}", "key", key, "dag_id", ti->dag_id, "dag_run_id",
                             ti->run_id, "task_id", ti->task_id, "map_index", ti->map_index, "value",
                             mlf_web_msgpack_json(val, len, json_null()));
        return MLF_STORE_STOP;
    }
    json_array_append_new(x->list, json_pack("{s:s, s:s, s:s, s:s, s:i}", "key", key, "dag_id", ti->dag_id,
                                             "dag_run_id", ti->run_id, "task_id", ti->task_id, "map_index",
                                             ti->map_index));
    return 0;
}

static void xcoms(mlf_web_req *rq, mlf_web_resp *rs, const char *key)
{
    mlf_ti_rec r;
    mlf_ti_rec_init(&r);
    mlf_time_us date;
    int mi;
    if (map_index_arg(rs, mlf_web_arg(rq, "map_index"), &mi) != MLF_OK || load_ti(rq, rs, mi, &r, &date) != MLF_OK) {
        mlf_ti_rec_clear(&r);
        return;
    }
    mlf_ti_rec_clear(&r);
    xcom_list x = {json_array(), key, mi, NULL};
    mlf_store_txn *txn;
    int rc = mlf_store_read_begin(rq->web->o.store, &txn);
    if (rc == MLF_OK) {
        rc = mlf_store_xcom_foreach(txn, rq->params[0], rq->params[1], rq->params[2], add_xcom, &x);
        mlf_store_read_end(txn);
    }
    if (rc != MLF_OK)
        mlf_web_store_problem(rs, rc, "the XCom entries");
    else if (key && !x.found)
        mlf_web_problem(rs, 404, "task instance %.120s has no XCom '%.120s'", rq->params[2], key);
    else if (key)
        mlf_web_json(rs, 200, json_incref(x.found));
    else
        mlf_web_json(rs, 200, json_pack("{s:O, s:I}", "xcom_entries", x.list, "total_entries",
                                        (json_int_t)json_array_size(x.list)));
    json_decref(x.found);
    json_decref(x.list);
}

void mlf_web_h_xcom_list(mlf_web_req *rq, mlf_web_resp *rs)
{
    xcoms(rq, rs, NULL);
}

void mlf_web_h_xcom_get(mlf_web_req *rq, mlf_web_resp *rs)
{
    xcoms(rq, rs, rq->params[3]);
}
