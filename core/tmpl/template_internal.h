/*
 * template_internal.h -- the compiled form of a template, shared by the compiler (template.c), the
 * renderer (template_render.c) and the filters (template_filters.c). Not part of any public API.
 */
#ifndef MLF_CORE_TEMPLATE_INTERNAL_H
#define MLF_CORE_TEMPLATE_INTERNAL_H

#include <stddef.h>

#include "tmpl/template.h"

/** A filter implementation: computes a new value in *out from the defined value @p in and @p nargs
 * defined arguments (their count already checked against the table). On failure returns an error code
 * and writes a reason into @p err. */
typedef int (*tpl_filter_fn)(const mlf_value *in, const mlf_value *const *args, size_t nargs,
                             mlf_value **out, char *err, size_t errlen);

typedef struct tpl_filter {
    const char *name;
    int min_args, max_args;
    tpl_filter_fn fn; /**< NULL for 'default', which the renderer handles (it sees undefined values) */
} tpl_filter;

/** The text of @p v as templates show it: a str's own bytes (borrowed from @p v), or for any other type
 * mlf_value_to_display() in a new string stored in *tmp (free it; *tmp is NULL when not needed). Its
 * length goes to *len. Returns NULL when memory runs out. */
const char *tpl_text_of(const mlf_value *v, size_t *len, char **tmp);

/** The filter named by the @p len bytes at @p name, or NULL. */
const tpl_filter *tpl_filter_find(const char *name, size_t len);

/** The name of the filter closest to the @p len bytes at @p name (a likely typo of it), or NULL. */
const char *tpl_filter_suggest(const char *name, size_t len);

typedef enum tpl_node_kind {
    TPL_LIT,    /**< lit */
    TPL_NAME,   /**< name: a top-level name */
    TPL_ATTR,   /**< a.name: a map key (constant) */
    TPL_INDEX,  /**< a[b]: a map key or array index computed by b */
    TPL_LIST,   /**< [args...] */
    TPL_CALL,   /**< name(args...): a macro */
    TPL_FILTER, /**< a | filter(args...) */
    TPL_CONCAT, /**< a ~ b */
    TPL_ADD,    /**< a + b */
    TPL_SUB,    /**< a - b */
    TPL_NEG,    /**< -a */
    TPL_POS,    /**< +a */
    TPL_CMP,    /**< a OP b: op is one of == != < <= > >= in, "not in" (tpl_cmp_op) */
    TPL_AND,    /**< a and b: a when falsy, else b (b evaluated only then), as Python */
    TPL_OR,     /**< a or b: a when truthy, else b */
    TPL_NOT,    /**< not a */
    TPL_COND    /**< a if b else args[0]: without else (nargs 0) a false condition gives undefined */
} tpl_node_kind;

/** Comparison operators (TPL_CMP). */
typedef enum tpl_cmp_op { TPL_EQ, TPL_NE, TPL_LT, TPL_LE, TPL_GT, TPL_GE, TPL_IN, TPL_NOT_IN } tpl_cmp_op;

typedef struct tpl_node tpl_node;
struct tpl_node {
    tpl_node_kind kind;
    unsigned depth;       /**< 0 for leaves, else 1 + the deepest child */
    size_t off, len;      /**< the node's source text within mlf_template.src, for messages */
    tpl_node *a, *b;      /**< operands: object / left side, and key / right side */
    tpl_node **args;      /**< list items, call or filter arguments */
    size_t nargs;
    char *name;           /**< NAME, ATTR key, CALL macro name */
    const tpl_filter *filter;
    mlf_value *lit;       /**< LIT */
    tpl_cmp_op op;        /**< CMP */
};

/** What a part of a template is. Statements ({% if %}, {% for %}) are parts too: rendering walks the parts
 * with jumps, so a template stays one flat array however its blocks nest. */
typedef enum tpl_part_kind {
    TPL_P_TEXT,  /**< literal text: off, len */
    TPL_P_EXPR,  /**< {{ expr }} */
    TPL_P_IF,    /**< {% if expr %}: when false, continue at part `next` (an ELIF, ELSE or ENDIF) */
    TPL_P_ELIF,  /**< {% elif expr %}: reached by a jump, test expr (false: go to `next`); reached after a
                      branch ran, go to `end` (the ENDIF) */
    TPL_P_ELSE,  /**< {% else %}: reached after a branch ran, go to `end` */
    TPL_P_ENDIF, /**< {% endif %} */
    TPL_P_FOR,   /**< {% for var in expr %}: `end` is its ENDFOR */
    TPL_P_ENDFOR /**< {% endfor %}: `next` is its FOR */
} tpl_part_kind;

/** Deepest nesting of {% if %} / {% for %} blocks. */
#define TPL_MAX_BLOCKS 32

/** One piece of a template: literal text (a slice of src), an expression, or a statement. */
typedef struct tpl_part {
    size_t off, len; /**< literal text, or the tag's source for messages */
    tpl_node *expr;  /**< EXPR; the condition of IF / ELIF; the sequence of FOR; else NULL */
    tpl_part_kind kind;
    size_t next, end; /**< jumps (see tpl_part_kind) */
    char *var;        /**< FOR: the loop variable */
} tpl_part;

struct mlf_template {
    char *src; /**< a NUL-terminated copy of the source text */
    size_t srclen;
    mlf_template_kind kind;
    tpl_part *parts;
    size_t nparts, parts_cap;
    size_t expr_part; /**< MLF_TEMPLATE_EXPR: the index of the one expression part */
    char *literal;    /**< MLF_TEMPLATE_LITERAL: the text with comments removed */
    size_t literal_len;
    mlf_template_ref *refs;
    size_t nrefs, refs_cap;
    const char **names;
    size_t nnames;
};

/** 1 when byte @p c starts a UTF-8 character (is not a continuation byte). */
static inline int tpl_utf8_lead(unsigned char c)
{
    return (c & 0xC0u) != 0x80u;
}

/** The offset of the character after the one starting at @p i (< @p n) in the @p n bytes at @p s.
 * A character is a byte and at most three continuation bytes after it, so invalid UTF-8 still moves. */
static inline size_t tpl_utf8_next(const char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && j - i < 4 && !tpl_utf8_lead((unsigned char)s[j]))
        j++;
    return j;
}

/** The number of characters (as tpl_utf8_next() steps through them) in the @p n bytes at @p s. */
static inline size_t tpl_utf8_count(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i = tpl_utf8_next(s, n, i))
        k++;
    return k;
}

#endif
