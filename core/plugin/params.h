/* params.h -- the one module that reads parameter tables (mlf_param_spec), whoever declared them: operator
 * parameters, notifier configurations, hook connection extras, executor settings.
 *
 * Tables cross the plugin boundary with an element size (the descriptor's param_size / extras_size), so
 * that mlf_param_spec can grow: mlf_params_normalize() copies a plugin's table into the daemon's layout
 * once, at registration, and everything else in the daemon reads normalized tables with plain pointer
 * arithmetic. Values are typed from YAML nodes (a DAG file, the configuration file) or from YAML text (a
 * declared default, an environment variable) by the same rules, so a setting means the same wherever it
 * is written. */
#ifndef MLF_CORE_PARAMS_H
#define MLF_CORE_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "conf/yaml_doc.h"

/** The element size of a table written against ABI 1.0 (what a declared size of 0 means). */
#define MLF_PARAM_SPEC_SIZE_1_0 (offsetof(mlf_param_spec, choices) + sizeof(const char *))

/** Most entries a table may have (a missing {0} terminator is caught by this bound). */
#define MLF_PARAMS_MAX 256

/**
 * Copies the {0}-terminated table at @p table, whose elements are @p elem_size bytes apart (0: the ABI 1.0
 * size), into a new array of the daemon's mlf_param_spec (members the plugin's layout lacks are zero),
 * {0}-terminated, stored in @p *out (free with free(); NULL when @p table is NULL), with the entry count in
 * @p *n (may be NULL). Strings are borrowed from the plugin. Errors: MLF_EINVAL (@p elem_size below the
 * ABI 1.0 size, or no terminator within MLF_PARAMS_MAX entries), MLF_ENOMEM.
 */
int mlf_params_normalize(const void *table, uint32_t elem_size, mlf_param_spec **out, size_t *n);

/** The entry of normalized @p table named @p name (borrowed), or NULL. */
const mlf_param_spec *mlf_params_find(const mlf_param_spec *table, const char *name);

/** Stores up to @p max names of @p table into @p names (borrowed), for "did you mean"; returns the count. */
size_t mlf_params_names(const mlf_param_spec *table, const char **names, size_t max);

/** Converts YAML node @p n into a new value of @p spec's type (durations become int µs, a scalar given for
 * a list becomes a one-element list; a templated parameter may hold a template string wherever a value of
 * its type is expected). Returns the value, or NULL after writing why into @p why ("expected an integer,
 * got str"). */
mlf_value *mlf_param_from_node(const mlf_param_spec *spec, const mlf_yaml_node *n, char *why, size_t whylen);

/** As mlf_param_from_node() for YAML text @p text (a declared default, an environment variable). */
mlf_value *mlf_param_from_text(const mlf_param_spec *spec, const char *text, char *why, size_t whylen);

/** The typed defaults of @p table's entries that have one and are not required, as a new map stored in
 * @p *out (free with mlf_value_free()). Errors: MLF_EINVAL with @p why naming the entry whose default does
 * not parse ("'timeout' (5x): unknown unit"), MLF_ENOMEM. */
int mlf_params_defaults(const mlf_param_spec *table, mlf_value **out, char *why, size_t whylen);

/** The name of a parameter type ("str", "int", ..., "enum"). Static string. */
const char *mlf_param_type_name(mlf_param_type t);

#endif
