/* operators.h -- operator plugins' settings (mlf_operator_desc.settings, ABI 1.2): checking the
 * operators.NAME.KEY settings of the configuration against the table each operator declares, and keeping
 * each operator's typed settings map in the catalog for its load-time validate() hook (doc/sdk.md
 * "Operator settings and load-time validation"). */
#ifndef MLF_CORE_OPERATORS_H
#define MLF_CORE_OPERATORS_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "base/strutil.h"
#include "conf/config.h"
#include "plugin/registry.h"

/**
 * Checks every operators.NAME.KEY setting of @p cfg against the operators of @p cat: NAME must be a
 * registered operator and KEY one of its declared settings (else "did you mean"), and the value must have
 * the declared type; then stores in @p cat, for every operator that declares settings, its typed map
 * (defaults, then the configuration), which mlf_operator_settings() returns. Appends one line per problem
 * to @p errors, each starting with where the setting was made ("FILE:L:C: operators.container.allowed_mount:
 * operator 'container' has no setting 'allowed_mount' (did you mean 'allowed_mounts'?)"). Returns the
 * number of problems (0: all good); the maps of operators with problems are left at their defaults.
 */
size_t mlf_operators_configure(mlf_catalog *cat, const mlf_config *cfg, mlf_buf *errors);

/**
 * Operator @p name's settings map as mlf_operators_configure() stored it, or NULL when it was not run or
 * the operator declares no settings (the caller then uses the declared defaults). Borrowed from @p cat.
 */
const mlf_value *mlf_operator_settings(const mlf_catalog *cat, const char *name);

#endif
