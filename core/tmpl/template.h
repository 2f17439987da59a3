/*
 * template.h -- Jinja-style templates in DAG parameters: "{{ params.dir }}/{{ ds_nodash }}.csv".
 *
 * A template is compiled once (when the DAG file loads) and rendered many times (once per task instance,
 * just before it is dispatched). The syntax is the subset of Jinja2 that DAG files need:
 *
 *   text {{ expression }} text {# comment #}        {{- / -}} (and {#- / -#}, {%- / -%}) strip whitespace
 *   {% if expression %} ... {% elif expression %} ... {% else %} ... {% endif %}
 *   {% for NAME in or_expr %} ... {% endfor %}       a list's items or a map's keys; `loop.index`, index0,
 *                                                     revindex, revindex0, first, last, length inside
 *
 *   expression := or_expr ['if' or_expr ['else' expression]]   a false condition without else: undefined
 *   or_expr    := and_expr ('or' and_expr)*          Python's: the deciding operand, the right one
 *   and_expr   := not_expr ('and' not_expr)*         evaluated only when needed
 *   not_expr   := 'not' not_expr | comparison
 *   comparison := additive [('==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in') additive]
 *                 == as Python (3 == 3.0, True == 1); ordering between numbers or between strings (code
 *                 points); 'in' on a string (substring), a list (an element) or a map (a key)
 *   additive   := concat (('+' | '-') concat)*       numbers add, strings and lists concatenate
 *   concat     := unary ('~' unary)*                 both sides rendered as text and joined
 *   unary      := ('-' | '+') unary | postfix ('|' filter)*      (-x|f) is ((-x)|f), as in Jinja
 *   postfix    := primary ('.' NAME | '.' INT | '[' expression ']' | '(' arguments ')')*
 *   primary    := NAME | STRING | INT | FLOAT | true | false | none | '[' list ']' | '(' expression ')'
 *   filter     := NAME ['(' arguments ')']
 *
 * Strings take single or double quotes with Python's escapes (\n \t \\ \' \" \xHH \uXXXX ...); adjacent
 * strings are joined. Integers may use '_' separators and 0x / 0o / 0b prefixes. True/False/None are
 * accepted in either case. Calls are macro calls only: NAME(args) or macros.NAME(args), resolved by the
 * environment's call callback (template_macros.h has the built-in ds_add and ds_format).
 *
 * Filters: default(value='', boolean=false) (alias d), upper, lower, trim(chars), replace(old, new
 * [, count]), join(separator=''), length (alias count), int(default=0, base=10), float(default=0.0),
 * string, tojson, and Airflow's date filters ds, ds_nodash, ts, ts_nodash, ts_nodash_with_tz (on a date or
 * timestamp string, formatted in the offset it is written with). Arguments are positional. upper/lower change ASCII letters only; trim without
 * arguments strips ASCII whitespace; length counts the characters (code points) of a string.
 *
 * Not supported yet, each with an error that says so: statements other than if/for ({% set %}, macros,
 * includes...), {% else %} in a for and loop filters ({% for x in l if c %}), several loop variables,
 * chained comparisons (a < b < c), 'is' tests, arithmetic other than + and -, keyword arguments, slices,
 * tuples and dict literals. Truth is Python's (None, False, 0, "" and empty lists and maps are false); an
 * undefined value used as a condition is an error, as with Airflow's StrictUndefined. Unlike Jinja's
 * default, a trailing newline of the text is kept. A template with a statement renders to a string.
 *
 * Undefined values: an unknown top-level name, a missing map key or an index out of range yields an
 * undefined value. The default filter replaces it; any other use of it is a rendering error that names
 * what was undefined. Accessing a key or index of an undefined value stays undefined (like Jinja's
 * ChainableUndefined), so "xcom.train.model | default('none')" works when the XCom is missing.
 *
 * Result types (doc/architecture.md §5): a template that is one whole expression, optionally with
 * whitespace around it, keeps the type of its value ("{{ params.symbols }}" renders to a list); when
 * that value is a string the surrounding whitespace is kept as text. Every other template renders to a
 * string, each expression's value converted with mlf_value_to_display() (None, True/False, numbers,
 * JSON for lists and maps).
 *
 * Compiled templates are immutable and may be rendered from several threads at once, provided the
 * environment's callbacks allow it.
 */
#ifndef MLF_CORE_TEMPLATE_H
#define MLF_CORE_TEMPLATE_H

#include <stddef.h>

#include <mlflowd/mlflowd.h>

/** Deepest nesting accepted in an expression: brackets, parentheses, operators, filters and attribute
 * chains each count one level. Deeper expressions fail to compile with MLF_ERANGE. */
#define MLF_TEMPLATE_MAX_DEPTH 64

/** Longest string (in bytes) that rendering builds: a filter, a '~' or a text template whose result
 * would be longer fails with MLF_ETOOBIG, so that a template cannot exhaust the scheduler's memory
 * (chained replace filters grow exponentially). */
#define MLF_TEMPLATE_MAX_STRING (16u * 1024u * 1024u)

/** A compiled template (opaque). */
typedef struct mlf_template mlf_template;

/** What a compiled template is, which decides the type of what it renders to. */
typedef enum mlf_template_kind {
    MLF_TEMPLATE_LITERAL = 0, /**< no expression: renders to its text (comments removed) */
    MLF_TEMPLATE_EXPR = 1,    /**< one whole expression (whitespace around allowed): keeps its type */
    MLF_TEMPLATE_TEXT = 2     /**< text and expressions mixed: renders to a string */
} mlf_template_kind;

/** What a template refers to, as listed by mlf_template_refs(). */
typedef enum mlf_template_ref_kind {
    MLF_TEMPLATE_REF_NAME = 0, /**< a top-level name resolved by the environment's lookup callback */
    MLF_TEMPLATE_REF_MACRO = 1 /**< a macro call: NAME(...) or macros.NAME(...) */
} mlf_template_ref_kind;

/** One reference in a template. Every string is owned by the template. */
typedef struct mlf_template_ref {
    mlf_template_ref_kind kind;
    const char *name; /**< the top-level name, or the macro name (without "macros.") */
    /** For names: the constant keys that follow it, up to the first computed or integer subscript or
     * call: "xcom.predict.key" and "xcom['predict']['key']" both give {"predict", "key"}; "x[0].a" gives
     * none. Always 0 / NULL for macros. */
    size_t npath;
    const char *const *path;
    unsigned line;   /**< 1-based line of the reference within the template text */
    unsigned column; /**< 1-based column (in characters) within that line */
    size_t nargs;    /**< macros: how many arguments the call passes (to check against min/max_args) */
} mlf_template_ref;

/** Where names and macros come from while rendering. Callbacks may be NULL (and so may the whole
 * environment): every name is then undefined, and every macro call fails with MLF_ENOTSUP. */
typedef struct mlf_template_env {
    /** Resolves top-level @p name. Returns MLF_OK and a borrowed value in *out that must stay valid until
     * mlf_template_render() returns; MLF_ENOTFOUND when the name is unknown (the value is undefined);
     * any other code aborts rendering with it. */
    int (*lookup)(void *ud, const char *name, const mlf_value **out);
    /** Calls macro @p name with @p nargs defined argument values. Returns MLF_OK and a new value in
     * *out (the engine frees it), or an error code with a reason in @p err (MLF_ENOTFOUND: no such
     * macro) and nothing in *out (the engine ignores it then). */
    int (*call)(void *ud, const char *name, const mlf_value *const *args, size_t nargs, mlf_value **out,
                char *err, size_t errlen);
    void *ud; /**< passed to both callbacks */
    /** Optional: the top-level names lookup knows (@p nnames of them), used only to suggest one when a
     * name is undefined ("'dss' is undefined (did you mean 'ds'?)"). */
    const char *const *names;
    size_t nnames;
} mlf_template_env;

/**
 * Compiles the @p len bytes of @p text (need not be NUL-terminated) into a new template in *out, to be
 * released with mlf_template_free(). Text without "{{", "{#" or "{%" compiles to a literal quickly.
 * On failure *out is NULL and @p err receives "column C: what went wrong (what was expected)", or
 * "line L, column C: ..." when the text has several lines; columns count characters from 1.
 * Errors: MLF_EINVAL (NULL text with non-zero len, NULL out), MLF_EPARSE (malformed: unclosed "{{" or
 * comment, bad token, unterminated string, bad escape, unknown filter or wrong number of filter
 * arguments), MLF_ENOTSUP (valid Jinja this engine does not support yet, e.g. "{% ... %}"),
 * MLF_ERANGE (nested deeper than MLF_TEMPLATE_MAX_DEPTH, number literal out of range), MLF_ENOMEM.
 */
int mlf_template_compile(const char *text, size_t len, mlf_template **out, char *err, size_t errlen);

/** Frees @p t. NULL is allowed. */
void mlf_template_free(mlf_template *t);

/** The kind of @p t (which decides the type of what it renders to). */
mlf_template_kind mlf_template_get_kind(const mlf_template *t);

/**
 * Renders @p t with @p env into a new value in *out (free with mlf_value_free()): a str, or for an
 * MLF_TEMPLATE_EXPR template the expression's value whatever its type. On failure *out is NULL and
 * @p err explains, naming what was undefined and the closest known name or key when one is close
 * ("'dss' is undefined (did you mean 'ds'?)", "'params' has no key 'dirr' (did you mean 'dir'?)").
 * Errors: MLF_EINVAL (NULL t or out), MLF_ENOTFOUND (an undefined name or key was used),
 * MLF_ERANGE (an index out of range was used, integer overflow), MLF_ETYPE (an operator or filter got a
 * value of the wrong type), MLF_ETOOBIG (a string would exceed MLF_TEMPLATE_MAX_STRING), MLF_ENOTSUP (a macro call without a call callback), the code returned by a
 * failing lookup or macro callback (MLF_EPLUGIN when a macro succeeds without a value), MLF_ENOMEM.
 */
int mlf_template_render(const mlf_template *t, const mlf_template_env *env, mlf_value **out, char *err,
                        size_t errlen);

/**
 * Renders every string inside @p in (a string itself, or strings nested in arrays and map values; map
 * keys are left alone) as a template, into a new value in *out that has the same shape with each
 * string replaced by what it renders to; other scalars are copied. Errors are those of
 * mlf_template_compile() and mlf_template_render(); the message starts with where the string sits
 * ("args[2]: ..." or "env.PATH: ...") unless @p in is itself the string. MLF_ERANGE also when @p in
 * nests deeper than MLF_VALUE_MAX_DEPTH.
 */
int mlf_template_render_value(const mlf_value *in, const mlf_template_env *env, mlf_value **out,
                              char *err, size_t errlen);

/**
 * The distinct top-level names @p t looks up (macro names excluded), in order of first appearance:
 * *names receives a borrowed array of *count strings, valid while @p t lives (NULL when there are
 * none). Lets the DAG parser reject unknown names at load time. Returns MLF_OK, or MLF_EINVAL when an
 * argument is NULL.
 */
int mlf_template_names(const mlf_template *t, const char *const **names, size_t *count);

/**
 * Every reference in @p t (names with their constant key paths, and macro calls), in source order:
 * *refs receives a borrowed array of *count entries, valid while @p t lives (NULL when there are none).
 * Lets the scheduler see which XComs a task needs ("xcom" refs and their first path element) and the
 * DAG parser point at an unknown name or macro. Returns MLF_OK, or MLF_EINVAL when an argument is NULL.
 */
int mlf_template_refs(const mlf_template *t, const mlf_template_ref **refs, size_t *count);

#endif
