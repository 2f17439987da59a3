/*
 * yaml_doc.h -- one YAML document loaded into a small tree of positioned nodes.
 *
 * The loader reads exactly one document with libyaml's event parser and keeps, for every node, the 1-based
 * line and column where it starts, so that validators (configuration, DAG files) can report
 * `file:line:col: message`. It refuses, with a positioned message:
 *   - syntax errors:            "LINE:COL: <libyaml problem> (<context> at LINE:COL)"
 *   - a second document:        "LINE:COL: a second document starts here; only one is allowed"
 *   - duplicate mapping keys:   "LINE:COL: duplicate key 'k' (first at LINE:COL)"
 *   - non-scalar mapping keys, aliases to unknown anchors or to a node that contains the alias,
 *   - documents deeper than max_depth or larger than max_nodes, where both are counted with every alias
 *     expanded (so a "billion laughs" document is refused after a few events, not after it blew up).
 *
 * Anchors and aliases are resolved: an alias node IS the anchored node (the tree shares it, so an aliased
 * node reports the position of its anchor). YAML 1.1 merge keys (`<<: *x`) are not special: `<<` is an
 * ordinary key. Every message starts with "SOURCE:" when the document has a source name.
 *
 * Nodes are read-only views owned by their document; they live until mlf_yaml_free().
 */
#ifndef MLF_CORE_YAML_DOC_H
#define MLF_CORE_YAML_DOC_H

#include <stddef.h>
#include <stdint.h>

#include <mlflowd/mlflowd.h>

#include "base/strutil.h"

/** Default limits (see mlf_yaml_limits). */
#define MLF_YAML_MAX_NODES 1000000
#define MLF_YAML_MAX_DEPTH 64
#define MLF_YAML_MAX_BYTES (16u * 1024u * 1024u)

/** Bounds on the work one document may cause. A zero member means its default. */
typedef struct mlf_yaml_limits {
    size_t max_nodes;   /**< nodes with every alias expanded (default MLF_YAML_MAX_NODES) */
    unsigned max_depth; /**< nested sequences/mappings, aliases expanded (default MLF_YAML_MAX_DEPTH) */
    size_t max_bytes;   /**< input size (default MLF_YAML_MAX_BYTES) */
} mlf_yaml_limits;

typedef enum mlf_yaml_kind { MLF_YAML_SCALAR = 1, MLF_YAML_SEQUENCE = 2, MLF_YAML_MAPPING = 3 } mlf_yaml_kind;

/** How a scalar was written. Only plain scalars are resolved to null/bool/int/float. */
typedef enum mlf_yaml_style {
    MLF_YAML_PLAIN = 0,  /**< unquoted */
    MLF_YAML_QUOTED = 1, /**< 'single' or "double" quoted */
    MLF_YAML_BLOCK = 2   /**< literal | or folded > block scalar */
} mlf_yaml_style;

/** One node. Read the members; never write them. */
typedef struct mlf_yaml_node mlf_yaml_node;
struct mlf_yaml_node {
    mlf_yaml_kind kind;
    mlf_yaml_style style; /**< scalars only */
    unsigned line;        /**< 1-based line of the node's start */
    unsigned col;         /**< 1-based column (in characters) of the node's start */
    const char *source;   /**< the document's source name (e.g. its path), or NULL */
    const char *tag;      /**< explicit tag as libyaml resolved it ("tag:yaml.org,2002:str", "!x"), or NULL */
    const char *text;     /**< scalars: the text, NUL-terminated (it may contain NULs: see len) */
    size_t len;           /**< scalars: bytes in text */
    size_t n;             /**< sequences: items; mappings: key/value pairs */
    mlf_yaml_node **items;  /**< sequences: the n items; mappings: the n keys (always scalars) */
    mlf_yaml_node **values; /**< mappings: the n values, values[i] belongs to items[i] */
    size_t weight;          /**< internal: node count of this subtree with aliases expanded */
    unsigned height;        /**< internal: nesting depth of this subtree with aliases expanded */
};

/** An opaque loaded document. */
typedef struct mlf_yaml_doc mlf_yaml_doc;

/** Loads the one YAML document in the @p len bytes at @p buf (UTF-8, or UTF-16 with a BOM).
 * @p name is the source name used in messages and in nodes (copied; NULL for none); @p limits may be NULL.
 * On success stores a new document in @p *out (free with mlf_yaml_free()). An empty input (no document,
 * or only comments) yields a root that is an empty plain scalar at 1:1, which resolves to null.
 * On failure stores a message in @p err (of size @p errlen, always NUL-terminated when errlen > 0).
 * Errors: MLF_EINVAL (NULL argument), MLF_EPARSE (syntax error, second document, duplicate key, non-scalar
 * key, bad alias), MLF_ERANGE (too deep), MLF_ETOOBIG (too many nodes or bytes), MLF_ENOMEM. */
int mlf_yaml_load(const char *buf, size_t len, const char *name, const mlf_yaml_limits *limits,
                  mlf_yaml_doc **out, char *err, size_t errlen);

/** As mlf_yaml_load() for the file at @p path, which is also the source name. A file larger than
 * limits->max_bytes is refused with MLF_ETOOBIG. Errors also: an errno value when the file cannot be
 * opened or read ("PATH: cannot read: REASON"). */
int mlf_yaml_load_file(const char *path, const mlf_yaml_limits *limits, mlf_yaml_doc **out, char *err,
                       size_t errlen);

/** Frees @p doc and all of its nodes. NULL is allowed. */
void mlf_yaml_free(mlf_yaml_doc *doc);

/** The root node of @p doc (borrowed; never NULL). */
const mlf_yaml_node *mlf_yaml_root(const mlf_yaml_doc *doc);

/** The source name @p doc was loaded with (borrowed), or NULL. */
const char *mlf_yaml_doc_name(const mlf_yaml_doc *doc);

/** The value of the first key whose text is @p key in mapping @p map (borrowed), or NULL when absent or
 * @p map is not a mapping. */
const mlf_yaml_node *mlf_yaml_map_get(const mlf_yaml_node *map, const char *key);

/** What @p node holds, as a word for messages: "null", "bool", "int", "float", "string" (scalars, after
 * core-schema resolution and tags), "list", "mapping". Static string. */
const char *mlf_yaml_describe(const mlf_yaml_node *node);

/** 1 when @p node is a scalar that resolves to null (plain null, Null, NULL, ~ or empty, or !!null). */
int mlf_yaml_is_null(const mlf_yaml_node *node);

/** Converts scalar @p node into a new value stored in @p *out (free with mlf_value_free()).
 * Plain untagged scalars follow the YAML 1.2 core schema: null/Null/NULL/~/empty -> nil,
 * true/True/TRUE/false/False/FALSE -> bool, [-+]?[0-9]+ / 0x[0-9a-fA-F]+ / 0o[0-7]+ -> int,
 * decimal and exponent forms and [-+]?.inf / .nan (any of the three spellings) -> float, anything else
 * (dates included: 2024-01-01 stays a string) -> str. Quoted and block scalars are always str.
 * Tags: ! and !!str force a str; !!null, !!bool, !!int and !!float require text of that type.
 * Errors (message "[SOURCE:]LINE:COL: ..." in @p err): MLF_EINVAL (not a scalar), MLF_ERANGE (an integer
 * outside int64), MLF_ETYPE (text that does not match its tag, an unsupported tag), MLF_ENOMEM. */
int mlf_yaml_scalar_to_value(const mlf_yaml_node *node, mlf_value **out, char *err, size_t errlen);

/** Converts the tree at @p node into a new value stored in @p *out (free with mlf_value_free()): scalars as
 * mlf_yaml_scalar_to_value(), sequences to arrays, mappings to maps in document order keyed by the key's
 * text. Tags on collections other than !!seq / !!map are refused. Errors: those of
 * mlf_yaml_scalar_to_value(), and MLF_ETYPE for a key containing a NUL byte. */
int mlf_yaml_node_to_value(const mlf_yaml_node *node, mlf_value **out, char *err, size_t errlen);

/** Appends one line "[SOURCE:]LINE:COL: MESSAGE\n" about @p node to @p errs (a list of messages, one per
 * line). Returns MLF_OK or MLF_ENOMEM. */
int mlf_yaml_errorf(mlf_buf *errs, const mlf_yaml_node *node, const char *fmt, ...) MLF_PRINTF(3, 4);

#endif
