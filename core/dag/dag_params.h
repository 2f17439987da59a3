/* dag_params.h -- DAG params with a schema, as Airflow's Param: `params: {window: {type: integer, default: 30,
 * minimum: 1, maximum: 365}}`. A param written as such a map (it has `type`, and only the keys below) is a
 * spec; its default is the value templates see, and every run's value (the default overridden by a trigger's
 * conf) must satisfy it. Keys: type (string integer number boolean array object null, or a list of them),
 * default, enum, minimum, maximum, minLength, maxLength, description, title. */
#ifndef MLF_CORE_DAG_PARAMS_H
#define MLF_CORE_DAG_PARAMS_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

#include "dag/dag.h"

/** 1 when @p v is written as a param spec (a map with `type` and only spec keys). */
int mlf_param_is_spec(const mlf_value *v);

/** Checks the shape of spec @p spec of param @p name (known type names, an enum list, numeric bounds) and
 * that its default, when given, satisfies it. Returns MLF_OK, or MLF_EINVAL with a message in @p err. */
int mlf_param_spec_check(const char *name, const mlf_value *spec, char *err, size_t errlen);

/** Checks @p value of param @p name against @p spec. Returns MLF_OK, or MLF_EINVAL with a message naming the
 * param and the rule it breaks in @p err ("param 'window': 400 is above its maximum 365"). */
int mlf_param_check(const char *name, const mlf_value *spec, const mlf_value *value, char *err, size_t errlen);

/** Checks the params a run of @p dag would see: the DAG's params overridden by @p conf (a map, or NULL),
 * against the DAG's param specs; a spec without a default needs a value from conf. Returns MLF_OK or
 * MLF_EINVAL with the first problem in @p err. */
int mlf_dag_check_params(const mlf_dag *dag, const mlf_value *conf, char *err, size_t errlen);

#endif
