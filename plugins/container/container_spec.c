/* container_spec.c -- task parameters to engine requests (see container_spec.h). */
#define _GNU_SOURCE /* asprintf */
#include "container_spec.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "container_engine.h"
#include "container_parse.h"

/* A failed build: the reason and the code. */
#define FAIL(code, ...) (snprintf(err, errlen, __VA_ARGS__), (code))

static const char *str(const mlf_value *params, const char *name)
{
    return mlf_value_get_str(mlf_map_get(params, name), NULL);
}

/* A scalar as the string a container sees (templates' display form). New string, or NULL. */
static char *scalar_text(const mlf_value *v)
{
    mlf_type t = mlf_value_type(v);
    if (t == MLF_ARRAY || t == MLF_MAP || t == MLF_BIN)
        return NULL;
    return mlf_value_to_display(v);
}

/* A new JSON array of the scalars of list @p v (a scalar counts as a list of one). */
static int string_list(const mlf_value *v, const char *what, json_t **out, char *err, size_t errlen)
{
    json_t *arr = json_array();
    if (!arr)
        return FAIL(MLF_ENOMEM, "out of memory");
    int single = mlf_value_type(v) != MLF_ARRAY;
    size_t n = single ? 1 : mlf_value_len(v);
    for (size_t i = 0; i < n; i++) {
        const mlf_value *item = single ? v : mlf_array_at(v, i);
        char *text = scalar_text(item);
        if (!text) {
            json_decref(arr);
            return FAIL(MLF_ETYPE, "%s: item %zu is a %s, not a string", what, i + 1,
                        mlf_type_name(mlf_value_type(item)));
        }
        json_t *s = json_string(text);
        free(text);
        if (!s) {
            json_decref(arr);
            return FAIL(MLF_EINVAL, "%s: item %zu is not valid UTF-8", what, i + 1);
        }
        json_array_append_new(arr, s);
    }
    *out = arr;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ sizes */

int ctr_parse_memory(const mlf_value *v, int64_t *bytes)
{
    int64_t i;
    if (mlf_value_get_int(v, &i) == MLF_OK) {
        if (i <= 0)
            return MLF_EINVAL;
        *bytes = i;
        return MLF_OK;
    }
    const char *s = mlf_value_get_str(v, NULL);
    if (!s)
        return MLF_EINVAL;
    char *end;
    double d = strtod(s, &end);
    if (end == s || !isfinite(d) || d <= 0)
        return MLF_EINVAL;
    while (*end == ' ')
        end++;
    double mult = 1;
    const char *units = "bkmgt";
    const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
    if (*end && !u)
        return MLF_EINVAL;
    if (u) {
        for (const char *p = units; p < u; p++)
            mult *= 1024;
        end++;
        if (*u != 'b' && (strcasecmp(end, "b") == 0 || strcasecmp(end, "ib") == 0))
            end += strlen(end);
    }
    if (*end)
        return MLF_EINVAL;
    double total = d * mult;
    if (total < 1 || total > (double)INT64_MAX / 2)
        return MLF_EINVAL;
    *bytes = (int64_t)total;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ mounts */

/* Removes "." components and doubled slashes of absolute @p p in place; returns 0 when it holds a ".." (a
 * path must not climb out of the folder it names). */
static int clean_path(char *p)
{
    char *o = p;
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        const char *e = strchrnul(s, '/');
        size_t n = (size_t)(e - s);
        if (n == 0)
            break;
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        if (!(n == 1 && s[0] == '.')) {
            *o++ = '/';
            memmove(o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == p)
        *o++ = '/';
    *o = '\0';
    return 1;
}

/* @p path (absolute, cleaned) resolved through symbolic links when it exists, into @p out. */
static void resolved(const char *path, int local, char *out)
{
    char buf[PATH_MAX];
    if (local && realpath(path, buf))
        snprintf(out, PATH_MAX, "%s", buf);
    else
        snprintf(out, PATH_MAX, "%s", path);
}

static int under(const char *path, const char *folder)
{
    size_t n = strlen(folder);
    while (n > 1 && folder[n - 1] == '/')
        n--;
    if (n == 1 && folder[0] == '/')
        return 1;
    return strncmp(path, folder, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Checks @p source against every folder of @p allowed; on refusal writes why into err, naming the list as
 * @p list_name (NULL: the connection's extra). */
static int check_allowed(const char *source, const mlf_value *allowed, int local, const char *list_name, char *err,
                         size_t errlen)
{
    char src[PATH_MAX];
    resolved(source, local, src);
    char list[1024] = "";
    size_t o = 0;
    const char *csv = mlf_value_get_str(allowed, NULL);
    size_t n = csv ? 1 : mlf_value_len(allowed);
    if (mlf_value_type(allowed) != MLF_ARRAY && !csv)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        const char *item = csv ? csv : mlf_value_get_str(mlf_array_at(allowed, i), NULL);
        char *items = strdup(item ? item : "");
        if (!items)
            return FAIL(MLF_ENOMEM, "out of memory");
        char *save = NULL;
        for (char *tok = strtok_r(items, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            size_t tl = strlen(tok);
            while (tl > 0 && tok[tl - 1] == ' ')
                tok[--tl] = '\0';
            if (tok[0] != '/' || !clean_path(tok))
                continue; /* only absolute, plain folders count */
            char folder[PATH_MAX];
            resolved(tok, local, folder);
            if (under(src, folder)) {
                free(items);
                return MLF_OK;
            }
            int w = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", tok);
            if (w > 0 && (size_t)w < sizeof list - o)
                o += (size_t)w;
        }
        free(items);
    }
    if (!o && list_name)
        return FAIL(MLF_EINVAL, "mount source %s is refused: %s lists no host folders (see "
                    "doc/operators/container.md)", source, list_name);
    if (!o)
        return FAIL(MLF_EINVAL,
                    "mount source %s is refused: the engine's connection allows no host folders (set its extra "
                    "allowed_mounts, see doc/operators/container.md)",
                    source);
    return FAIL(MLF_EINVAL, "mount source %s%s%s%s is not under an allowed folder (%s: %s)", source,
                strcmp(src, source) ? " (" : "", strcmp(src, source) ? src : "", strcmp(src, source) ? ")" : "",
                list_name ? list_name : "the connection's allowed_mounts", list);
}

/* One mount: "SRC:DST[:ro|rw]" or {source, target, read_only}. Appends a Mounts entry to @p mounts. */
static int add_mount(json_t *mounts, const mlf_value *m, size_t idx, const mlf_value *allowed, int local,
                     const char *list_name, char *err, size_t errlen)
{
    char src[PATH_MAX], dst[PATH_MAX];
    int ro = 0;
    if (mlf_value_type(m) == MLF_STR) {
        const char *s = mlf_value_get_str(m, NULL);
        const char *c1 = strchr(s, ':');
        const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || (size_t)(c1 - s) >= sizeof src)
            return FAIL(MLF_EINVAL, "mounts: item %zu '%s' is not SOURCE:TARGET[:ro|rw]", idx, s);
        snprintf(src, sizeof src, "%.*s", (int)(c1 - s), s);
        size_t tl = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
        if (tl >= sizeof dst)
            return FAIL(MLF_EINVAL, "mounts: item %zu: the target is too long", idx);
        snprintf(dst, sizeof dst, "%.*s", (int)tl, c1 + 1);
        if (c2 && strcmp(c2 + 1, "ro") == 0)
            ro = 1;
        else if (c2 && strcmp(c2 + 1, "rw") != 0)
            return FAIL(MLF_EINVAL, "mounts: item %zu: mode '%s' is neither ro nor rw", idx, c2 + 1);
    } else if (mlf_value_type(m) == MLF_MAP) {
        const char *s = str(m, "source"), *t = str(m, "target");
        for (size_t i = 0; i < mlf_value_len(m); i++) {
            const char *k = mlf_map_key_at(m, i);
            if (strcmp(k, "source") && strcmp(k, "target") && strcmp(k, "read_only"))
                return FAIL(MLF_EINVAL, "mounts: item %zu: unknown key '%s' (source, target, read_only)", idx, k);
        }
        if (!s || !t)
            return FAIL(MLF_EINVAL, "mounts: item %zu needs source and target strings", idx);
        if (strlen(s) >= sizeof src || strlen(t) >= sizeof dst)
            return FAIL(MLF_EINVAL, "mounts: item %zu: a path is too long", idx);
        snprintf(src, sizeof src, "%s", s);
        snprintf(dst, sizeof dst, "%s", t);
        const mlf_value *r = mlf_map_get(m, "read_only");
        if (r && mlf_value_get_bool(r, &ro) != MLF_OK)
            return FAIL(MLF_ETYPE, "mounts: item %zu: read_only must be true or false", idx);
    } else {
        return FAIL(MLF_ETYPE, "mounts: item %zu is a %s, not SOURCE:TARGET[:ro] or a map", idx,
                    mlf_type_name(mlf_value_type(m)));
    }
    if (src[0] != '/' || dst[0] != '/')
        return FAIL(MLF_EINVAL, "mounts: item %zu: source and target must be absolute paths", idx);
    if (!clean_path(src) || !clean_path(dst))
        return FAIL(MLF_EINVAL, "mounts: item %zu: a path holds '..'", idx);
    int rc = check_allowed(src, allowed, local, list_name, err, errlen);
    if (rc != MLF_OK)
        return rc;
    json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", src, "Target", dst, "ReadOnly", ro);
    if (!j)
        return FAIL(MLF_EINVAL, "mounts: item %zu: a path is not valid UTF-8", idx);
    json_array_append_new(mounts, j);
    return MLF_OK;
}

int ctr_mounts_check(const mlf_value *mounts, const mlf_value *allowed, const char *list_name, char *err,
                     size_t errlen)
{
    json_t *arr = json_array();
    if (!arr)
        return FAIL(MLF_ENOMEM, "out of memory");
    int rc = MLF_OK;
    int single = mlf_value_type(mounts) != MLF_ARRAY;
    size_t n = single ? 1 : mlf_value_len(mounts);
    for (size_t i = 0; i < n && rc == MLF_OK; i++)
        rc = add_mount(arr, single ? mounts : mlf_array_at(mounts, i), i + 1, allowed, 1, list_name, err, errlen);
    json_decref(arr);
    return rc;
}

/* ------------------------------------------------------------------------------------------ pieces */

static int is_sensitive_name(const char *name)
{
    static const char *const words[] = {"secret", "password", "passwd", "token", "key", "credential", "auth"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasestr(name, words[i]))
            return 1;
    return 0;
}

static int push_sensitive(ctr_spec *spec, size_t *n, const char *value)
{
    if (strlen(value) < 3)
        return MLF_OK;
    char **v = realloc(spec->sensitive, (*n + 2) * sizeof *v);
    if (!v)
        return MLF_ENOMEM;
    spec->sensitive = v;
    if (!(v[*n] = strdup(value)))
        return MLF_ENOMEM;
    v[++*n] = NULL;
    return MLF_OK;
}

static int build_env(const mlf_value *params, const ctr_identity *id, ctr_spec *spec, json_t **out, char *err,
                     size_t errlen)
{
    const mlf_value *env = mlf_map_get(params, "env");
    json_t *arr = json_array();
    size_t nsens = 0;
    if (!arr)
        return FAIL(MLF_ENOMEM, "out of memory");
    int rc = MLF_OK;
    for (size_t i = 0; i < mlf_value_len(env) && rc == MLF_OK; i++) {
        const char *k = mlf_map_key_at(env, i);
        char *text = scalar_text(mlf_map_value_at(env, i));
        char *line = NULL;
        if (!*k || strchr(k, '=') || strchr(k, '\n'))
            rc = FAIL(MLF_EINVAL, "env: '%s' is not a variable name", k);
        else if (!text)
            rc = FAIL(MLF_ETYPE, "env: %s must be a scalar, not a %s", k,
                      mlf_type_name(mlf_value_type(mlf_map_value_at(env, i))));
        else if (asprintf(&line, "%s=%s", k, text) < 0)
            rc = FAIL(MLF_ENOMEM, "out of memory"), line = NULL;
        else if (json_array_append_new(arr, json_string(line)) != 0)
            rc = FAIL(MLF_EINVAL, "env: the value of %s is not valid UTF-8", k);
        else if (is_sensitive_name(k) && push_sensitive(spec, &nsens, text) != MLF_OK)
            rc = FAIL(MLF_ENOMEM, "out of memory");
        free(line);
        free(text);
    }
    char num[32];
    const char *ctxvars[][2] = {{"MLFLOWD_CTX_DAG_ID", id->dag_id},
                                {"MLFLOWD_CTX_TASK_ID", id->task_id},
                                {"MLFLOWD_CTX_RUN_ID", id->run_id},
                                {"MLFLOWD_CTX_TRY_NUMBER", num}};
    snprintf(num, sizeof num, "%d", id->try_number);
    for (size_t i = 0; i < 4 && rc == MLF_OK; i++) {
        if (mlf_map_get(env, ctxvars[i][0]))
            continue;
        char *line = NULL;
        if (asprintf(&line, "%s=%s", ctxvars[i][0], ctxvars[i][1]) < 0)
            rc = FAIL(MLF_ENOMEM, "out of memory");
        else
            json_array_append_new(arr, json_string(line));
        free(line);
    }
    if (rc != MLF_OK) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return MLF_OK;
}

static int build_labels(const mlf_value *params, const ctr_identity *id, int auto_remove, json_t **out, char *err,
                        size_t errlen)
{
    json_t *labels = json_object();
    if (!labels)
        return FAIL(MLF_ENOMEM, "out of memory");
    const mlf_value *user = mlf_map_get(params, "labels");
    for (size_t i = 0; i < mlf_value_len(user); i++) {
        const char *k = mlf_map_key_at(user, i);
        char *text = scalar_text(mlf_map_value_at(user, i));
        int bad = !text || strncmp(k, CTR_LABEL_PREFIX, strlen(CTR_LABEL_PREFIX)) == 0 ||
                  json_object_set_new(labels, k, json_string(text)) != 0;
        free(text);
        if (bad) {
            json_decref(labels);
            return FAIL(MLF_EINVAL, "labels: '%s' must be a string label outside the reserved prefix %s", k,
                        CTR_LABEL_PREFIX);
        }
    }
    char map_index[16], try_number[16];
    snprintf(map_index, sizeof map_index, "%d", id->map_index);
    snprintf(try_number, sizeof try_number, "%d", id->try_number);
    json_object_set_new(labels, CTR_LABEL_DAG, json_string(id->dag_id));
    json_object_set_new(labels, CTR_LABEL_RUN, json_string(id->run_id));
    json_object_set_new(labels, CTR_LABEL_TASK, json_string(id->task_id));
    json_object_set_new(labels, CTR_LABEL_MAP_INDEX, json_string(map_index));
    json_object_set_new(labels, CTR_LABEL_TRY, json_string(try_number));
    json_object_set_new(labels, CTR_LABEL_ATTEMPT, json_string(id->attempt));
    json_object_set_new(labels, CTR_LABEL_OWNER, json_string(id->owner));
    json_object_set_new(labels, CTR_LABEL_AUTO_REMOVE, json_string(auto_remove ? "true" : "false"));
    *out = labels;
    return MLF_OK;
}

static int build_gpus(const mlf_value *g, json_t **out, char *err, size_t errlen)
{
    json_t *caps = json_pack("[[s]]", "gpu");
    json_t *req = NULL;
    int64_t count;
    const char *s = mlf_value_get_str(g, NULL);
    if (mlf_value_get_int(g, &count) == MLF_OK && count > 0)
        req = json_pack("{s:s, s:I, s:o}", "Driver", "", "Count", (json_int_t)count, "Capabilities", caps);
    else if (s && strcmp(s, "all") == 0)
        req = json_pack("{s:s, s:i, s:o}", "Driver", "", "Count", -1, "Capabilities", caps);
    else if (mlf_value_type(g) == MLF_ARRAY && mlf_value_len(g) > 0) {
        json_t *ids = NULL;
        int rc = string_list(g, "gpus", &ids, err, errlen);
        if (rc != MLF_OK) {
            json_decref(caps);
            return rc;
        }
        req = json_pack("{s:s, s:o, s:o}", "Driver", "", "DeviceIDs", ids, "Capabilities", caps);
    } else {
        json_decref(caps);
        return FAIL(MLF_EINVAL, "gpus must be a positive count, \"all\" or a list of device ids");
    }
    *out = json_pack("[o]", req);
    return *out ? MLF_OK : FAIL(MLF_ENOMEM, "out of memory");
}

/* [a-zA-Z0-9_.-] of @p s (others become '_'), at most @p max bytes, appended to @p o. */
static size_t name_part(char *o, size_t room, const char *s, size_t max)
{
    size_t n = 0;
    for (; *s && n < max && n + 1 < room; s++)
        o[n++] = (isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-') ? *s : '_';
    o[n] = '\0';
    return n;
}

static char *container_name(const ctr_identity *id)
{
    char buf[256];
    size_t o = (size_t)snprintf(buf, sizeof buf, "mlflowd-");
    o += name_part(buf + o, sizeof buf - o, id->dag_id, 60);
    o += name_part(buf + o, sizeof buf - o, ".", 1);
    o += name_part(buf + o, sizeof buf - o, id->task_id, 60);
    if (id->map_index >= 0)
        o += (size_t)snprintf(buf + o, sizeof buf - o, ".%d", id->map_index);
    snprintf(buf + o, sizeof buf - o, "-%d-%s", id->try_number, id->attempt);
    return strdup(buf);
}

/* ------------------------------------------------------------------------------------------ the body */

int ctr_spec_build(const mlf_value *params, const ctr_identity *id, const mlf_value *allowed_mounts,
                   int local_paths, ctr_spec *out, char *err, size_t errlen)
{
    *out = (ctr_spec){.pull = CTR_PULL_IF_NOT_PRESENT, .auto_remove = 1};
    const char *image = str(params, "image");
    if (!image || !*image || strpbrk(image, " \t\r\n"))
        return FAIL(MLF_EINVAL, "image must be a non-empty image reference without spaces");
    const char *pull = str(params, "pull");
    if (pull && strcmp(pull, "never") == 0)
        out->pull = CTR_PULL_NEVER;
    else if (pull && strcmp(pull, "always") == 0)
        out->pull = CTR_PULL_ALWAYS;
    else if (pull && strcmp(pull, "if_not_present") != 0)
        return FAIL(MLF_EINVAL, "pull must be never, if_not_present or always");
    const mlf_value *ar = mlf_map_get(params, "auto_remove");
    if (ar && mlf_value_get_bool(ar, &out->auto_remove) != MLF_OK)
        return FAIL(MLF_ETYPE, "auto_remove must be true or false");
    if (!(out->image = strdup(image)) || !(out->name = container_name(id)))
        return FAIL(MLF_ENOMEM, "out of memory");

    json_t *body = json_object(), *host = json_object(), *piece = NULL;
    int rc = body && host ? MLF_OK : FAIL(MLF_ENOMEM, "out of memory");
    if (rc == MLF_OK) {
        json_object_set_new(body, "Image", json_string(image));
        json_object_set_new(body, "Tty", json_false());
        json_object_set_new(body, "OpenStdin", json_false());
        json_object_set_new(body, "AttachStdin", json_false());
        json_object_set_new(body, "AttachStdout", json_true());
        json_object_set_new(body, "AttachStderr", json_true());
    }
    const mlf_value *cmd = mlf_map_get(params, "command");
    if (rc == MLF_OK && cmd && mlf_value_type(cmd) != MLF_NIL) {
        if (mlf_value_type(cmd) == MLF_STR) {
            piece = json_pack("[s,s,s]", "/bin/sh", "-c", mlf_value_get_str(cmd, NULL));
            rc = piece ? MLF_OK : FAIL(MLF_EINVAL, "command is not valid UTF-8");
        } else {
            rc = string_list(cmd, "command", &piece, err, errlen);
        }
        if (rc == MLF_OK) {
            out->command_text = json_dumps(piece, JSON_COMPACT);
            json_object_set_new(body, "Cmd", piece);
        }
    }
    if (rc == MLF_OK && !out->command_text && !(out->command_text = strdup("(the image's default command)")))
        rc = FAIL(MLF_ENOMEM, "out of memory");
    const mlf_value *ep = mlf_map_get(params, "entrypoint");
    if (rc == MLF_OK && ep && mlf_value_type(ep) != MLF_NIL && (rc = string_list(ep, "entrypoint", &piece, err, errlen)) == MLF_OK)
        json_object_set_new(body, "Entrypoint", piece);
    if (rc == MLF_OK && (rc = build_env(params, id, out, &piece, err, errlen)) == MLF_OK)
        json_object_set_new(body, "Env", piece);
    const char *wd = str(params, "working_dir"), *user = str(params, "user"), *net = str(params, "network_mode");
    if (rc == MLF_OK && wd && *wd) {
        if (wd[0] != '/')
            rc = FAIL(MLF_EINVAL, "working_dir must be an absolute path inside the container");
        else
            json_object_set_new(body, "WorkingDir", json_string(wd));
    }
    if (rc == MLF_OK && user && *user)
        json_object_set_new(body, "User", json_string(user));
    if (rc == MLF_OK && (rc = build_labels(params, id, out->auto_remove, &piece, err, errlen)) == MLF_OK)
        json_object_set_new(body, "Labels", piece);

    const mlf_value *mounts = mlf_map_get(params, "mounts");
    if (rc == MLF_OK && mounts && mlf_value_len(mounts) > 0) {
        json_t *arr = json_array();
        int single = mlf_value_type(mounts) != MLF_ARRAY;
        size_t n = single ? 1 : mlf_value_len(mounts);
        for (size_t i = 0; i < n && rc == MLF_OK; i++)
            rc = add_mount(arr, single ? mounts : mlf_array_at(mounts, i), i + 1, allowed_mounts, local_paths, NULL,
                           err, errlen);
        json_object_set_new(host, "Mounts", arr);
    }
    if (rc == MLF_OK && net && *net)
        json_object_set_new(host, "NetworkMode", json_string(net));
    const mlf_value *cpus = mlf_map_get(params, "cpus");
    double c = 0;
    if (rc == MLF_OK && cpus && mlf_value_type(cpus) != MLF_NIL) {
        if (mlf_value_get_float(cpus, &c) != MLF_OK || !(c > 0) || c > 4096)
            rc = FAIL(MLF_EINVAL, "cpus must be a number of CPUs above 0 (1.5 means one and a half)");
        else
            json_object_set_new(host, "NanoCpus", json_integer((json_int_t)llround(c * 1e9)));
    }
    const mlf_value *mem = mlf_map_get(params, "memory");
    if (rc == MLF_OK && mem && mlf_value_type(mem) != MLF_NIL) {
        if (ctr_parse_memory(mem, &out->memory) != MLF_OK)
            rc = FAIL(MLF_EINVAL, "memory must be a byte count or a size such as 512m or 2g");
        else
            json_object_set_new(host, "Memory", json_integer((json_int_t)out->memory));
    }
    const mlf_value *gpus = mlf_map_get(params, "gpus");
    if (rc == MLF_OK && gpus && mlf_value_type(gpus) != MLF_NIL && (rc = build_gpus(gpus, &piece, err, errlen)) == MLF_OK)
        json_object_set_new(host, "DeviceRequests", piece);
    if (rc == MLF_OK) {
        json_object_set_new(body, "HostConfig", host);
        host = NULL;
        if (!(out->body = json_dumps(body, JSON_COMPACT)))
            rc = FAIL(MLF_ENOMEM, "out of memory");
    }
    json_decref(host);
    json_decref(body);
    return rc;
}

void ctr_spec_free(ctr_spec *spec)
{
    free(spec->image);
    free(spec->body);
    free(spec->name);
    free(spec->command_text);
    for (char **p = spec->sensitive; p && *p; p++)
        free(*p);
    free(spec->sensitive);
    *spec = (ctr_spec){0};
}

char *ctr_pull_query(const char *image)
{
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    int tagged = colon != NULL || strchr(image, '@') != NULL;
    char *name = ctr_escape(image);
    char *q = NULL;
    if (name && asprintf(&q, "fromImage=%s%s", name, tagged ? "" : "&tag=latest") < 0)
        q = NULL;
    free(name);
    return q;
}

char *ctr_registry_auth_header(const char *login, const char *password, const char *server)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "username", login ? login : "", "password", password ? password : "",
                          "serveraddress", server ? server : "");
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return NULL;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(text), o = 0;
    const char *prefix = "X-Registry-Auth: ";
    size_t pl = strlen(prefix);
    char *out = malloc(pl + (n + 2) / 3 * 4 + 1);
    if (out) {
        memcpy(out, prefix, pl);
        o = pl;
        for (size_t i = 0; i < n; i += 3) {
            unsigned v = (unsigned char)text[i] << 16;
            if (i + 1 < n)
                v |= (unsigned char)text[i + 1] << 8;
            if (i + 2 < n)
                v |= (unsigned char)text[i + 2];
            out[o++] = b64[(v >> 18) & 63];
            out[o++] = b64[(v >> 12) & 63];
            out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
            out[o++] = i + 2 < n ? b64[v & 63] : '=';
        }
        out[o] = '\0';
    }
    free(text);
    return out;
}
