/* dag_assets.h -- assets in DAG files (doc/assets.md): the URIs tasks produce (`outlets:`), the asset
 * conditions DAGs are scheduled on (`schedule: {assets: [...]}`), the top-level `assets:` declarations of
 * data made outside mlflowd, and the cross-DAG check that every asset a schedule waits for is produced or
 * declared somewhere.
 *
 * Everything here is owned by the DAG it belongs to and immutable once the DAG is parsed. */
#ifndef MLF_CORE_DAG_ASSETS_H
#define MLF_CORE_DAG_ASSETS_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "conf/yaml_doc.h"

/** The longest asset URI, in bytes (it is a store key part). */
#define MLF_ASSET_URI_MAX 380

/** One asset a schedule waits for: updated at least @c updates times since the DAG's last asset run. */
typedef struct mlf_asset_req {
    char *uri;
    int64_t updates; /**< 1 unless written as {uri: U, updates: N} (an mlflowd extension; doc/assets.md) */
    int line, col;   /**< where the URI is written */
} mlf_asset_req;

/** A DAG's asset condition: all of the requirements (`assets:`) or any of them (`any:`). */
typedef struct mlf_asset_cond {
    int any;
    mlf_asset_req *v;
    size_t n;
} mlf_asset_cond;

/** A top-level `assets:` declaration: data this DAG file knows of that may not be produced by a DAG. */
typedef struct mlf_asset_decl {
    char *uri;
    int external;          /**< `external: true`: produced outside mlflowd (CLI, API, an event source) */
    char *watch_source;    /**< NULL, or the event source plugin that watches it (`watch: {source: NAME}`) */
    char *watch_config;    /**< the watch's config as JSON text (NULL when none) */
    int line, col;
} mlf_asset_decl;

/** Checks asset URI @p uri: 1..MLF_ASSET_URI_MAX bytes of printable ASCII without spaces; when it has a
 * scheme ("s3://bucket/key") the scheme is a letter followed by letters, digits, + . - and the URI holds no
 * credentials (user:password@). Returns NULL when valid, else a static text saying what is wrong. */
const char *mlf_asset_uri_problem(const char *uri);

/** Parses the mapping form of `schedule:` (@p n: {assets: [...]}, {any: [...]}, optionally with
 * cron: EXPR). Each list item is a URI or {uri: U, updates: N}. Fills *@p out (free with
 * mlf_asset_cond_clear()) and *@p cron (a new string or NULL). Problems go to @p diag with @p file and
 * their position; returns how many were reported (0: valid). */
size_t mlf_asset_parse_schedule(const mlf_yaml_node *n, const char *file, mlf_diag *diag, mlf_asset_cond *out,
                                char **cron);

/** Parses a task's `outlets:` (a URI or a list of URIs) into a new array of new strings (*@p out, *@p nout;
 * free with mlf_asset_strv_free()). Returns how many problems went to @p diag. */
size_t mlf_asset_parse_outlets(const mlf_yaml_node *n, const char *file, const char *task_id, mlf_diag *diag,
                               char ***out, size_t *nout);

/** Parses the top-level `assets:` mapping (URI -> {external: BOOL, watch: {source: NAME, config: MAP}}).
 * Returns how many problems went to @p diag. */
size_t mlf_asset_parse_decls(const mlf_yaml_node *n, const char *file, mlf_diag *diag, mlf_asset_decl **out,
                             size_t *nout);

/** 1 when a condition is met, given @p pending[i], the updates of requirement i since the last asset run:
 * all (or, with `any`, one) requirement has pending >= updates. An empty condition is never met. */
int mlf_asset_cond_ready(const mlf_asset_cond *c, const int64_t *pending);

/** Frees what a condition, a string array or declarations own (NULL is fine). */
void mlf_asset_cond_clear(mlf_asset_cond *c);
void mlf_asset_strv_free(char **v, size_t n);
void mlf_asset_decls_free(mlf_asset_decl *d, size_t n);

struct mlf_dag;

/** The cross-DAG check of a DAG bag: every asset in a schedule must be an outlet of some task of @p dags or
 * declared in some DAG file. A DAG that waits for an unknown asset gets a diagnostic at the URI's position
 * ("did you mean" the nearest known URI) and its entry in @p bad is set to 1 (the caller drops it). Returns
 * how many DAGs are bad. */
size_t mlf_asset_check_bag(const struct mlf_dag *const *dags, size_t ndags, mlf_diag *diag, unsigned char *bad);

#endif
