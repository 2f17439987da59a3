/* container_spec.h -- a task's parameters turned into the engine requests that run it: the body of
 * POST /containers/create, the container's name and labels, the image reference to pull. Plugin-internal.
 *
 * Everything a user wrote is checked here, before the engine sees anything: commands and env values are
 * scalars or lists of scalars, env names carry no '=', user labels stay out of the org.mlflowd. prefix,
 * memory and cpus are positive, and every mount's host path lies under a folder of the allow-list. */
#ifndef MLF_PLUGIN_CONTAINER_SPEC_H
#define MLF_PLUGIN_CONTAINER_SPEC_H

#include <mlflowd/mlflowd.h>

/** The pull policies (parameter `pull`). */
typedef enum ctr_pull { CTR_PULL_NEVER = 0, CTR_PULL_IF_NOT_PRESENT = 1, CTR_PULL_ALWAYS = 2 } ctr_pull;

/** Who runs the container: the try's identity and its owner process, written into its labels. */
typedef struct ctr_identity {
    const char *dag_id, *run_id, *task_id;
    int map_index;        /**< -1: not mapped */
    int try_number;
    const char *attempt;  /**< this try's token (hex), also the end of the container's name */
    const char *owner;    /**< the owner label's value (ctr_owner_format()) */
} ctr_identity;

/** The built requests. Every member is owned by the spec. */
typedef struct ctr_spec {
    char *image;        /**< the image reference as the task gave it */
    char *body;         /**< JSON body of POST /containers/create */
    char *name;         /**< the container's name: mlflowd-DAG.TASK[.MAP]-TRY-ATTEMPT (sanitised) */
    char *command_text; /**< the command for the log ("(image default)" when none) */
    ctr_pull pull;
    int auto_remove;
    int64_t memory;     /**< bytes; 0 when unlimited */
    char **sensitive;   /**< env values whose names look secret, NULL-terminated (masked in messages) */
} ctr_spec;

/**
 * Builds @p out from the rendered task parameters @p params (image, command, entrypoint, env, working_dir,
 * user, mounts, network_mode, cpus, memory, gpus, pull, auto_remove, labels) for the try @p id.
 * @p allowed_mounts is the list of host folders mounts may come from (an array of strings, a
 * comma-separated string, or NULL for none). With @p local_paths the engine shares this machine's file
 * system, so mount sources and allowed folders are compared after resolving symbolic links.
 * Free @p out with ctr_spec_free() whatever the result.
 * Errors (reason in @p err): MLF_EINVAL (a bad value, or a mount outside the allow-list), MLF_ETYPE (a
 * wrong type inside a list or map), MLF_ENOMEM.
 */
int ctr_spec_build(const mlf_value *params, const ctr_identity *id, const mlf_value *allowed_mounts,
                   int local_paths, ctr_spec *out, char *err, size_t errlen);

/**
 * Checks the mount list @p mounts (as the `mounts` parameter takes it) against the host folders @p allowed
 * (as for ctr_spec_build(), symbolic links resolved on this machine), naming the list @p list_name in
 * messages ("operators.container.allowed_mounts"). Used when a DAG file is loaded. Returns MLF_OK, or
 * MLF_EINVAL / MLF_ETYPE / MLF_ENOMEM with the reason in @p err.
 */
int ctr_mounts_check(const mlf_value *mounts, const mlf_value *allowed, const char *list_name, char *err,
                     size_t errlen);

/** Frees what @p spec holds and zeroes it. */
void ctr_spec_free(ctr_spec *spec);

/** The query of POST /images/create for @p image: "fromImage=NAME&tag=TAG", the tag "latest" added when
 * the reference has neither tag nor digest (the engine would otherwise pull every tag). New string
 * (free()), or NULL when memory runs out. */
char *ctr_pull_query(const char *image);

/** Parses a memory size: an int (bytes) or "NUMBER[b|k|m|g|t]" with an optional "b"/"ib" after the unit
 * (binary multiples, as docker's --memory). Returns MLF_OK with @p *bytes, or MLF_EINVAL. */
int ctr_parse_memory(const mlf_value *v, int64_t *bytes);

/** The X-Registry-Auth header line for @p login / @p password at @p server (may be NULL), base64url JSON
 * as the Engine API wants it. New string (free()), or NULL when memory runs out. */
char *ctr_registry_auth_header(const char *login, const char *password, const char *server);

#endif
