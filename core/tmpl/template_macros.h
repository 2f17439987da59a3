/*
 * template_macros.h -- the template macros built into the daemon, Airflow's date helpers:
 *
 *   ds_add(ds, days)                         "2024-01-05", 7 -> "2024-01-12" (negative days go back)
 *   ds_format(ds, input_format, output_format)  "20240105", "%Y%m%d", "%d/%m/%Y" -> "05/01/2024"
 *
 * Called in templates as macros.NAME(...) or NAME(...). As in Airflow, ds_add returns ds unchanged when
 * days is 0, and ds_format is Python's datetime.strptime(ds, input_format).strftime(output_format).
 *
 * Input formats follow Python's strptime for %Y %y %m %d %H %I %p %M %S %f %j %b %B %h %a %A %% (names
 * in English, any case), literal characters (any case) and white space (a run of it matches one or more
 * white space characters). Each numeric field takes the widest valid reading, without Python's
 * backtracking, so fields written without separators ("%Y%m%d") must be zero-padded, as DAG dates are.
 * Not supported in input formats: %z %Z %U %W %c %x %X %G %V %u %w. Output formats are those of
 * mlf_time_strftime() (core/timefmt.h). Dates are years 1 to 9999, as in Python.
 */
#ifndef MLF_CORE_TEMPLATE_MACROS_H
#define MLF_CORE_TEMPLATE_MACROS_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** The built-in macros as descriptors like those plugins register (static storage), so that the macro
 * registry can list, check and call them the same way; *count receives how many there are. */
const mlf_macro_desc *mlf_template_builtin_macros(size_t *count);

/**
 * Calls the built-in macro @p name with @p nargs arguments; has the type of mlf_template_env.call (@p ud
 * is unused), so an environment can use it directly or try it before the plugin registry.
 * Returns MLF_OK with a new str in *out, or an error with a reason in @p err: MLF_ENOTFOUND (no built-in
 * macro has that name; @p err is left empty), MLF_EINVAL (wrong argument count, a bad format directive),
 * MLF_ETYPE (an argument of the wrong type), MLF_EPARSE (ds does not match its format), MLF_ERANGE (a
 * date outside years 1-9999, a day outside its month), MLF_ETOOBIG (an output longer than
 * MLF_TEMPLATE_MAX_STRING), MLF_ENOMEM.
 */
int mlf_template_call_builtin(void *ud, const char *name, const mlf_value *const *args, size_t nargs,
                              mlf_value **out, char *err, size_t errlen);

#endif
