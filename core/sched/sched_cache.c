/* sched_cache.c -- cached results in the scheduler (doc/caching.md): at dispatch, the key of a try of a task
 * with `cache:` is computed from what was just rendered and looked up with one keyed read in the turn's batch
 * (no scan of history, nothing that waits: doc/architecture.md §2, the loop never blocks); a live entry
 * finishes the TI as success with the XComs of the try that computed it. A try that succeeds records its
 * key; failed, skipped and retried-away tries never do. */
#include "sched/sched_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strutil.h"
#include "sched/cache_key.h"
#include "store/store_cache.h"
#include "tmpl/template.h"

/* The key template of @p task rendered in @p rc, as text (a non-string result as its JSON), or NULL with the
 * reason in @p err. */
static char *render_user_key(const mlf_task *task, render_ctx *rc, char *err, size_t errlen)
{
    mlf_template_env env = {.lookup = mlf_sc_render_lookup, .call = mlf_sc_render_call, .ud = rc};
    mlf_value *out = NULL;
    if (mlf_template_render(task->cache_key, &env, &out, err, errlen) != MLF_OK)
        return NULL;
    char *text = NULL;
    const char *str = mlf_value_get_str(out, NULL);
    if (str)
        text = strdup(str);
    else if (mlf_value_to_json(out, &text) != MLF_OK)
        text = NULL;
    mlf_value_free(out);
    if (!text)
        snprintf(err, errlen, "out of memory");
    return text;
}

/* The try's log says why it did not run (one short append, as for a parameter that did not render). */
static void write_hit_log(mlf_scheduler *s, const sti *t, const mlf_cache_rec *e)
{
    const mlf_task *task = &t->run->dag->tasks[t->task];
    char when[64] = "?", hex[2 * MLF_CACHE_DIGEST_LEN + 1], from[32] = "";
    mlf_time_format_ts(e->created_at, when, sizeof when);
    mlf_cache_digest_hex(e->digest, hex);
    if (e->map_index >= 0)
        snprintf(from, sizeof from, " map index %d", e->map_index);
    char *line = mlf_strdup_printf("cached from %s: the result of %s%s in run %s (succeeded %s, cache key %s) "
                                   "was reused; the task did not run and its XComs were copied\n",
                                   e->run_id, task->task_id, from, e->run_id, when, hex);
    mlf_sc_try_log_line(s, t, line);
    free(line);
}

/* Finishes @p t as success from entry @p e: XComs copied, note "cached from RUN". */
static void finish_from_cache(mlf_scheduler *s, sti *t, const mlf_cache_rec *e, mlf_time_us now)
{
    const srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    mlf_value *xcoms = NULL;
    /* a TI of a run created this turn has no record yet, and an XCom needs its TI's record */
    mlf_sc_save_ti(s, t);
    mlf_sc_flush_tis(s);
    if (e->xcoms && mlf_value_unpack(e->xcoms, e->xcoms_len, &xcoms) == MLF_OK && mlf_value_type(xcoms) == MLF_MAP &&
        mlf_value_len(xcoms))
        mlf_sc_store_xcoms(s, t, xcoms);
    mlf_value_free(xcoms);
    write_hit_log(s, t, e);
    char note[200], mi[16] = "";
    snprintf(note, sizeof note, "cached from %s", e->run_id);
    if (t->map_index >= 0)
        snprintf(mi, sizeof mi, "[%d]", t->map_index);
    mlf_log(MLF_LOG_INFO, COMPONENT, "%s/%s/%s%s: %s", r->rec.dag_id, r->rec.run_id, task->task_id, mi, note);
    t->start_date = now;
    t->end_date = now;
    t->cache_keyed = 0;
    mlf_sc_finish_ti(s, t, MLF_TI_SUCCESS, note);
}

int mlf_sc_cache_lookup(mlf_scheduler *s, sti *t, render_ctx *rc, const mlf_value *params,
                        const mlf_value *inputs, mlf_time_us now)
{
    const srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    t->cache_keyed = 0;
    if (task->cache_mode == MLF_CACHE_NONE)
        return 0;
    mlf_cache_inputs in = {.dag_id = r->rec.dag_id, .task_id = task->task_id, .map_index = t->map_index};
    char *user_key = NULL;
    if (task->cache_mode == MLF_CACHE_KEY) {
        char err[512] = "";
        if (!(user_key = render_user_key(task, rc, err, sizeof err))) {
            mlf_log(MLF_LOG_WARNING, COMPONENT, "%s/%s/%s: cache.key did not render (%s); the try runs uncached",
                    r->rec.dag_id, r->rec.run_id, task->task_id, err);
            return 0;
        }
        in.user_key = user_key;
    } else {
        const mlf_reg_entry *e = mlf_catalog_find(s->o.cat, MLF_REG_OPERATOR, task->operator_name);
        in.operator_name = task->operator_name;
        in.operator_version = e && e->owner && e->owner->info ? e->owner->info->version : NULL;
        in.plugin_digest = e && e->owner && e->owner->has_digest ? e->owner->digest : NULL;
        in.params = params;
        in.xcom_inputs = inputs;
    }
    int rc2 = mlf_cache_key(&in, t->cache_digest);
    free(user_key); /* may hold a secret: hashed, never kept */
    if (rc2 != MLF_OK)
        return 0;
    t->cache_keyed = 1;
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!w)
        return 0;
    mlf_ti_key key = {.dag_id = r->rec.dag_id, .run_id = r->rec.run_id, .task_id = task->task_id,
                      .map_index = t->map_index};
    if (!t->cache_ignore && mlf_store_cache_mark_get(w, &key) == MLF_OK) {
        t->cache_ignore = 1; /* for this try and its retries */
        mlf_sc_note_store(s, mlf_store_cache_mark_delete(w, &key), "cache mark");
        mlf_log(MLF_LOG_INFO, COMPONENT, "%s/%s/%s: cleared with --no-cache: the try runs, its result replaces the "
                "cached one", r->rec.dag_id, r->rec.run_id, task->task_id);
    }
    if (t->cache_ignore)
        return 0;
    mlf_cache_rec e;
    int rc3 = mlf_store_cache_get(w, r->rec.dag_id, task->task_id, t->cache_digest, &e);
    if (rc3 != MLF_OK) {
        if (rc3 != MLF_ENOTFOUND)
            mlf_log(MLF_LOG_WARNING, COMPONENT, "%s/%s/%s: the cache entry is unreadable (%s); the try runs",
                    r->rec.dag_id, r->rec.run_id, task->task_id, mlf_strerror(rc3));
        return 0;
    }
    int hit = mlf_cache_rec_live(&e, now);
    if (hit)
        finish_from_cache(s, t, &e, now);
    else /* expired: gone, the try's success writes a new one */
        mlf_sc_note_store(s, mlf_store_cache_delete(w, r->rec.dag_id, task->task_id, t->cache_digest), "cache");
    mlf_cache_rec_clear(&e);
    return hit;
}

void mlf_sc_cache_record(mlf_scheduler *s, sti *t, const mlf_value *xcoms, mlf_time_us now)
{
    if (!t->cache_keyed)
        return;
    t->cache_keyed = 0;
    const srun *r = t->run;
    const mlf_task *task = &r->dag->tasks[t->task];
    mlf_store_txn *w = mlf_sc_wtxn(s);
    if (!w)
        return;
    mlf_cache_rec e;
    mlf_cache_rec_init(&e);
    e.dag_id = r->rec.dag_id;
    e.task_id = task->task_id;
    memcpy(e.digest, t->cache_digest, MLF_CACHE_DIGEST_LEN);
    e.run_id = r->rec.run_id;
    e.map_index = t->map_index;
    e.created_at = now;
    e.expires_at = task->cache_ttl_us > 0 ? now + task->cache_ttl_us : MLF_TIME_NONE;
    void *buf = NULL;
    size_t len = 0;
    if (mlf_value_type(xcoms) == MLF_MAP && mlf_value_len(xcoms) && mlf_value_pack(xcoms, &buf, &len) == MLF_OK) {
        e.xcoms = buf;
        e.xcoms_len = len;
    }
    mlf_sc_note_store(s, mlf_store_cache_put(w, &e), "cache");
    free(buf);
}
