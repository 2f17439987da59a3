/* yaml_doc.c -- a positioned YAML document tree built from libyaml events, and its core-schema values. */
#include "conf/yaml_doc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"
/* Longest piece of a key or scalar quoted in a message. */
#define QUOTE_MAX 64

/* ------------------------------------------------------------------------------------------ arena */
/* Every node, string and pointer array of a document lives in a chain of chunks freed at once, which also
 * makes nodes shared through aliases safe to free. */
#define CHUNK_SIZE (64u * 1024u)
#define ALIGN 16u

typedef struct chunk {
    struct chunk *next;
    size_t used;
    size_t cap;
    _Alignas(16) unsigned char data[];
} chunk;

struct mlf_yaml_doc {
    chunk *chunks;
    mlf_yaml_node *root;
    const char *name;
};

static void *arena_alloc(mlf_yaml_doc *d, size_t size)
{
    if (size > ((size_t)-1) / 2)
        return NULL;
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    chunk *c = d->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = d->chunks;
        d->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

static char *arena_strndup(mlf_yaml_doc *d, const char *s, size_t len)
{
    if (len == (size_t)-1)
        return NULL;
    char *p = arena_alloc(d, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void mlf_yaml_free(mlf_yaml_doc *doc)
{
    if (!doc)
        return;
    chunk *c = doc->chunks;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    free(doc);
}

const mlf_yaml_node *mlf_yaml_root(const mlf_yaml_doc *doc)
{
    return doc->root;
}

const char *mlf_yaml_doc_name(const mlf_yaml_doc *doc)
{
    return doc->name;
}

/* ------------------------------------------------------------------------------------------ anchors */
/* Open-addressing hash of anchor name -> node; redefining an anchor replaces it (YAML: an alias refers to
 * the most recent node with that anchor). */
typedef struct anchor {
    const char *name;
    mlf_yaml_node *node;
} anchor;

typedef struct anchors {
    anchor *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
} anchors;

static size_t hash_str(const char *s)
{
    size_t h = (size_t)14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= (size_t)1099511628211ULL;
    }
    return h;
}

static anchor *anchors_slot(const anchors *a, const char *name)
{
    size_t mask = a->cap - 1;
    for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask)
        if (!a->slots[i].name || strcmp(a->slots[i].name, name) == 0)
            return &a->slots[i];
}

static mlf_yaml_node *anchors_get(const anchors *a, const char *name)
{
    if (!a->cap)
        return NULL;
    return anchors_slot(a, name)->node;
}

/* @p name must outlive the table (it lives in the document's arena). */
static int anchors_put(anchors *a, const char *name, mlf_yaml_node *node)
{
    if ((a->count + 1) * 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        anchor *old = a->slots;
        size_t old_cap = a->cap;
        a->slots = calloc(cap, sizeof *a->slots);
        if (!a->slots) {
            a->slots = old;
            return MLF_ENOMEM;
        }
        a->cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].name)
                *anchors_slot(a, old[i].name) = old[i];
        free(old);
    }
    anchor *s = anchors_slot(a, name);
    if (!s->name) {
        s->name = name;
        a->count++;
    }
    s->node = node;
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ loader */
typedef struct kid_pos {
    unsigned line, col; /* where the child appeared (an alias's own position, not its anchor's) */
} kid_pos;

typedef struct frame {
    mlf_yaml_node *node;
    mlf_yaml_node **kids;
    kid_pos *pos;
    size_t n, cap;
} frame;

typedef struct loader {
    mlf_yaml_doc *doc;
    yaml_parser_t parser;
    const char *buf;
    size_t len;
    size_t max_nodes;
    unsigned max_depth;
    size_t total; /* nodes so far, aliases expanded */
    int seen_document;
    frame *stack; /* max_depth frames */
    unsigned depth;
    anchors anchors;
    char *err;
    size_t errlen;
} loader;

static void vput_error(char *err, size_t errlen, const char *source, unsigned line, unsigned col,
                       const char *fmt, va_list ap) MLF_PRINTF(6, 0);
static void vput_error(char *err, size_t errlen, const char *source, unsigned line, unsigned col,
                       const char *fmt, va_list ap)
{
    if (!err || !errlen)
        return;
    int n = 0;
    if (source && line)
        n = snprintf(err, errlen, "%s:%u:%u: ", source, line, col);
    else if (source)
        n = snprintf(err, errlen, "%s: ", source);
    else if (line)
        n = snprintf(err, errlen, "%u:%u: ", line, col);
    if (n < 0)
        n = 0;
    if ((size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

static int put_error(char *err, size_t errlen, const char *source, unsigned line, unsigned col, int rc,
                     const char *fmt, ...) MLF_PRINTF(7, 8);
static int put_error(char *err, size_t errlen, const char *source, unsigned line, unsigned col, int rc,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput_error(err, errlen, source, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

#define FAIL(L, rc, line, col, ...) put_error((L)->err, (L)->errlen, (L)->doc->name, line, col, rc, __VA_ARGS__)
#define OOM(L) FAIL(L, MLF_ENOMEM, 0, 0, "out of memory")

/* Copies at most QUOTE_MAX bytes of @p s (printable ASCII; others become '?') for a message. */
static const char *quoted(const char *s, size_t len, char out[QUOTE_MAX + 4])
{
    size_t n = len > QUOTE_MAX ? QUOTE_MAX : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) || c >= 0x80 ? (char)c : '?';
    }
    if (len > n) {
        memcpy(out + n, "...", 4);
    } else {
        out[n] = '\0';
    }
    return out;
}

static int count_nodes(loader *L, size_t add, const yaml_mark_t *at)
{
    if (add > L->max_nodes - L->total) {
        return FAIL(L, MLF_ETOOBIG, (unsigned)at->line + 1, (unsigned)at->column + 1,
                    "the document has more than %zu nodes (aliases expanded)", L->max_nodes);
    }
    L->total += add;
    return MLF_OK;
}

static mlf_yaml_node *new_node(loader *L, mlf_yaml_kind kind, const yaml_mark_t *at, const yaml_char_t *tag)
{
    mlf_yaml_node *n = arena_alloc(L->doc, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = (unsigned)at->line + 1;
    n->col = (unsigned)at->column + 1;
    n->source = L->doc->name;
    if (tag) {
        n->tag = arena_strndup(L->doc, (const char *)tag, strlen((const char *)tag));
        if (!n->tag)
            return NULL;
    }
    return n;
}

static int register_anchor(loader *L, const yaml_char_t *name, mlf_yaml_node *node)
{
    if (!name)
        return MLF_OK;
    const char *copy = arena_strndup(L->doc, (const char *)name, strlen((const char *)name));
    if (!copy || anchors_put(&L->anchors, copy, node) != MLF_OK)
        return OOM(L);
    return MLF_OK;
}

/* Attaches @p node to the open collection (or makes it the root); @p at is where it appeared. */
static int attach(loader *L, mlf_yaml_node *node, const yaml_mark_t *at)
{
    if (L->depth == 0) {
        L->doc->root = node;
        return MLF_OK;
    }
    frame *f = &L->stack[L->depth - 1];
    if (f->node->kind == MLF_YAML_MAPPING && f->n % 2 == 0 && node->kind != MLF_YAML_SCALAR)
        return FAIL(L, MLF_EPARSE, (unsigned)at->line + 1, (unsigned)at->column + 1,
                    "a mapping key must be a scalar, not a %s",
                    node->kind == MLF_YAML_MAPPING ? "mapping" : "list");
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        mlf_yaml_node **kids = realloc(f->kids, cap * sizeof *kids);
        if (!kids)
            return OOM(L);
        f->kids = kids;
        kid_pos *pos = realloc(f->pos, cap * sizeof *pos);
        if (!pos)
            return OOM(L);
        f->pos = pos;
        f->cap = cap;
    }
    f->kids[f->n] = node;
    f->pos[f->n].line = (unsigned)at->line + 1;
    f->pos[f->n].col = (unsigned)at->column + 1;
    f->n++;
    return MLF_OK;
}

static int on_scalar(loader *L, const yaml_event_t *ev)
{
    int rc = count_nodes(L, 1, &ev->start_mark);
    if (rc)
        return rc;
    mlf_yaml_node *n = new_node(L, MLF_YAML_SCALAR, &ev->start_mark, ev->data.scalar.tag);
    if (!n)
        return OOM(L);
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: n->style = MLF_YAML_QUOTED; break;
    case YAML_LITERAL_SCALAR_STYLE:
    case YAML_FOLDED_SCALAR_STYLE: n->style = MLF_YAML_BLOCK; break;
    default: n->style = MLF_YAML_PLAIN; break;
    }
    n->len = ev->data.scalar.length;
    n->text = arena_strndup(L->doc, (const char *)ev->data.scalar.value, n->len);
    if (!n->text)
        return OOM(L);
    n->weight = 1;
    rc = register_anchor(L, ev->data.scalar.anchor, n);
    if (rc)
        return rc;
    return attach(L, n, &ev->start_mark);
}

static int on_start(loader *L, const yaml_event_t *ev, mlf_yaml_kind kind)
{
    const yaml_mark_t *at = &ev->start_mark;
    int rc = count_nodes(L, 1, at);
    if (rc)
        return rc;
    if (L->depth >= L->max_depth)
        return FAIL(L, MLF_ERANGE, (unsigned)at->line + 1, (unsigned)at->column + 1,
                    "nesting deeper than %u levels", L->max_depth);
    const yaml_char_t *tag = kind == MLF_YAML_MAPPING ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    const yaml_char_t *anchor_name =
        kind == MLF_YAML_MAPPING ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    mlf_yaml_node *n = new_node(L, kind, at, tag);
    if (!n)
        return OOM(L);
    /* weight stays 0 while the collection is open: an alias to it is then recursive. */
    rc = register_anchor(L, anchor_name, n);
    if (!rc)
        rc = attach(L, n, at);
    if (rc)
        return rc;
    frame *f = &L->stack[L->depth++];
    f->node = n;
    f->n = 0;
    return MLF_OK;
}

typedef struct key_ref {
    const mlf_yaml_node *key;
    size_t index;
} key_ref;

static int key_ref_cmp(const void *pa, const void *pb)
{
    const key_ref *a = pa, *b = pb;
    if (a->key->len != b->key->len)
        return a->key->len < b->key->len ? -1 : 1;
    int c = memcmp(a->key->text, b->key->text, a->key->len);
    if (c)
        return c;
    return a->index < b->index ? -1 : (a->index > b->index);
}

static int same_key(const mlf_yaml_node *a, const mlf_yaml_node *b)
{
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

/* Finds the duplicate key whose second occurrence comes first; stores both indexes. Returns 1 if any. */
static int find_duplicate(mlf_yaml_node **keys, size_t n, size_t *first, size_t *second, int *oom)
{
    *oom = 0;
    size_t best = (size_t)-1;
    if (n <= 16) {
        for (size_t j = 1; j < n && best == (size_t)-1; j++)
            for (size_t i = 0; i < j; i++)
                if (same_key(keys[i], keys[j])) {
                    *first = i;
                    best = *second = j;
                    break;
                }
        return best != (size_t)-1;
    }
    key_ref *refs = malloc(n * sizeof *refs);
    if (!refs) {
        *oom = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        refs[i].key = keys[i];
        refs[i].index = i;
    }
    qsort(refs, n, sizeof *refs, key_ref_cmp);
    for (size_t i = 1; i < n; i++) {
        /* refs[i-1] starts a group when it differs from its predecessor: its first two are the pair. */
        if (same_key(refs[i - 1].key, refs[i].key) && (i == 1 || !same_key(refs[i - 2].key, refs[i].key)) &&
            refs[i].index < best) {
            best = refs[i].index;
            *first = refs[i - 1].index;
            *second = refs[i].index;
        }
    }
    free(refs);
    return best != (size_t)-1;
}

static int on_end(loader *L)
{
    frame *f = &L->stack[--L->depth];
    mlf_yaml_node *n = f->node;
    size_t weight = 1;
    unsigned height = 0;
    for (size_t i = 0; i < f->n; i++) {
        weight += f->kids[i]->weight; /* bounded by max_nodes: count_nodes() saw every one */
        if (f->kids[i]->height > height)
            height = f->kids[i]->height;
    }
    if (f->n) {
        mlf_yaml_node **kids = arena_alloc(L->doc, f->n * sizeof *kids);
        if (!kids)
            return OOM(L);
        if (n->kind == MLF_YAML_MAPPING) {
            size_t pairs = f->n / 2;
            /* keys first, then values, in one array (the parser always closes a mapping after a value) */
            for (size_t i = 0; i < pairs; i++) {
                kids[i] = f->kids[2 * i];
                kids[pairs + i] = f->kids[2 * i + 1];
            }
            n->items = kids;
            n->values = kids + pairs;
            n->n = pairs;
            size_t a, b;
            int oom;
            if (find_duplicate(n->items, pairs, &a, &b, &oom)) {
                char q[QUOTE_MAX + 4];
                return FAIL(L, MLF_EPARSE, f->pos[2 * b].line, f->pos[2 * b].col,
                            "duplicate key '%s' (first at %u:%u)", quoted(n->items[b]->text, n->items[b]->len, q),
                            f->pos[2 * a].line, f->pos[2 * a].col);
            }
            if (oom)
                return OOM(L);
        } else {
            memcpy(kids, f->kids, f->n * sizeof *kids);
            n->items = kids;
            n->n = f->n;
        }
    }
    n->weight = weight;
    n->height = height + 1;
    return MLF_OK;
}

static int on_alias(loader *L, const yaml_event_t *ev)
{
    const yaml_mark_t *at = &ev->start_mark;
    unsigned line = (unsigned)at->line + 1, col = (unsigned)at->column + 1;
    const char *name = (const char *)ev->data.alias.anchor;
    mlf_yaml_node *target = anchors_get(&L->anchors, name);
    char q[QUOTE_MAX + 4];
    if (!target)
        return FAIL(L, MLF_EPARSE, line, col, "alias *%s refers to an unknown anchor",
                    quoted(name, strlen(name), q));
    if (target->weight == 0)
        return FAIL(L, MLF_EPARSE, line, col,
                    "alias *%s refers to a node that contains it (recursive structures are not supported)",
                    quoted(name, strlen(name), q));
    int rc = count_nodes(L, target->weight, at);
    if (rc)
        return rc;
    if (target->height > L->max_depth - L->depth)
        return FAIL(L, MLF_ERANGE, line, col, "nesting deeper than %u levels (through alias *%s)", L->max_depth,
                    quoted(name, strlen(name), q));
    return attach(L, target, at);
}

/* Turns libyaml's error state into a message. */
static int parser_error(loader *L)
{
    const yaml_parser_t *p = &L->parser;
    const char *problem = p->problem ? p->problem : "syntax error";
    if (p->error == YAML_MEMORY_ERROR)
        return OOM(L);
    if (p->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset only: count lines and characters up to it. */
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < L->len; i++) {
            unsigned char c = (unsigned char)L->buf[i];
            if (c == '\n') {
                line++;
                col = 1;
            } else if ((c & 0xC0) != 0x80) {
                col++;
            }
        }
        if (p->problem_value != -1)
            return FAIL(L, MLF_EPARSE, line, col, "%s (#%X)", problem, (unsigned)p->problem_value);
        return FAIL(L, MLF_EPARSE, line, col, "%s", problem);
    }
    unsigned line = (unsigned)p->problem_mark.line + 1, col = (unsigned)p->problem_mark.column + 1;
    if (p->context)
        return FAIL(L, MLF_EPARSE, line, col, "%s (%s at %u:%u)", problem, p->context,
                    (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
    return FAIL(L, MLF_EPARSE, line, col, "%s", problem);
}

static int on_event(loader *L, const yaml_event_t *ev, int *done)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (L->seen_document)
            return FAIL(L, MLF_EPARSE, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                        "a second document starts here; only one is allowed");
        L->seen_document = 1;
        return MLF_OK;
    case YAML_SCALAR_EVENT: return on_scalar(L, ev);
    case YAML_SEQUENCE_START_EVENT: return on_start(L, ev, MLF_YAML_SEQUENCE);
    case YAML_MAPPING_START_EVENT: return on_start(L, ev, MLF_YAML_MAPPING);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return on_end(L);
    case YAML_ALIAS_EVENT: return on_alias(L, ev);
    case YAML_STREAM_END_EVENT: *done = 1; return MLF_OK;
    default: return MLF_OK; /* stream start, document end, none */
    }
}

static int run(loader *L)
{
    int done = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&L->parser, &ev))
            return parser_error(L);
        int rc = on_event(L, &ev, &done);
        yaml_event_delete(&ev);
        if (rc)
            return rc;
    }
    if (!L->doc->root) {
        static const yaml_mark_t start = {0, 0, 0};
        mlf_yaml_node *n = new_node(L, MLF_YAML_SCALAR, &start, NULL);
        if (!n || !(n->text = arena_strndup(L->doc, "", 0)))
            return OOM(L);
        n->weight = 1;
        L->doc->root = n;
    }
    return MLF_OK;
}

int mlf_yaml_load(const char *buf, size_t len, const char *name, const mlf_yaml_limits *limits,
                  mlf_yaml_doc **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out || (!buf && len))
        return MLF_EINVAL;
    *out = NULL;
    loader L = {0};
    L.err = err;
    L.errlen = errlen;
    L.buf = buf;
    L.len = len;
    L.max_nodes = limits && limits->max_nodes ? limits->max_nodes : MLF_YAML_MAX_NODES;
    L.max_depth = limits && limits->max_depth ? limits->max_depth : MLF_YAML_MAX_DEPTH;
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : MLF_YAML_MAX_BYTES;
    L.doc = calloc(1, sizeof *L.doc);
    if (!L.doc)
        return put_error(err, errlen, name, 0, 0, MLF_ENOMEM, "out of memory");
    if (name && !(L.doc->name = arena_strndup(L.doc, name, strlen(name)))) {
        mlf_yaml_free(L.doc);
        return put_error(err, errlen, name, 0, 0, MLF_ENOMEM, "out of memory");
    }
    if (len > max_bytes) {
        int rc = FAIL(&L, MLF_ETOOBIG, 0, 0, "input of %zu bytes exceeds the limit of %zu bytes", len, max_bytes);
        mlf_yaml_free(L.doc);
        return rc;
    }
    L.stack = calloc(L.max_depth, sizeof *L.stack);
    if (!L.stack || !yaml_parser_initialize(&L.parser)) {
        int rc = FAIL(&L, MLF_ENOMEM, 0, 0, "out of memory");
        free(L.stack);
        mlf_yaml_free(L.doc);
        return rc;
    }
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)(buf ? buf : ""), len);
    int rc = run(&L);
    yaml_parser_delete(&L.parser);
    for (unsigned i = 0; i < L.max_depth; i++) {
        free(L.stack[i].kids);
        free(L.stack[i].pos);
    }
    free(L.stack);
    free(L.anchors.slots);
    if (rc) {
        mlf_yaml_free(L.doc);
        return rc;
    }
    *out = L.doc;
    return MLF_OK;
}

int mlf_yaml_load_file(const char *path, const mlf_yaml_limits *limits, mlf_yaml_doc **out, char *err,
                       size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !out)
        return MLF_EINVAL;
    *out = NULL;
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : MLF_YAML_MAX_BYTES;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return put_error(err, errlen, path, 0, 0, e, "cannot open: %s", strerror(e));
    }
    mlf_buf b = {0};
    char chunk_buf[16384];
    int rc = MLF_OK;
    for (;;) {
        ssize_t got = read(fd, chunk_buf, sizeof chunk_buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            rc = put_error(err, errlen, path, 0, 0, e, "cannot read: %s", strerror(e));
            break;
        }
        if (got == 0)
            break;
        if ((size_t)got > max_bytes - b.len) {
            rc = put_error(err, errlen, path, 0, 0, MLF_ETOOBIG, "the file exceeds the limit of %zu bytes",
                           max_bytes);
            break;
        }
        if (mlf_buf_append(&b, chunk_buf, (size_t)got) != MLF_OK) {
            rc = put_error(err, errlen, path, 0, 0, MLF_ENOMEM, "out of memory");
            break;
        }
    }
    close(fd);
    if (rc == MLF_OK)
        rc = mlf_yaml_load(b.data, b.len, path, limits, out, err, errlen);
    mlf_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------------------------ queries */
const mlf_yaml_node *mlf_yaml_map_get(const mlf_yaml_node *map, const char *key)
{
    if (!map || map->kind != MLF_YAML_MAPPING || !key)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < map->n; i++)
        if (map->items[i]->len == kl && memcmp(map->items[i]->text, key, kl) == 0)
            return map->values[i];
    return NULL;
}

int mlf_yaml_errorf(mlf_buf *errs, const mlf_yaml_node *node, const char *fmt, ...)
{
    int rc;
    if (node && node->source)
        rc = mlf_buf_printf(errs, "%s:%u:%u: ", node->source, node->line, node->col);
    else if (node)
        rc = mlf_buf_printf(errs, "%u:%u: ", node->line, node->col);
    else
        rc = MLF_OK;
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = mlf_buf_vprintf(errs, fmt, ap);
    va_end(ap);
    return rc ? rc : mlf_buf_puts(errs, "\n");
}

/* ------------------------------------------------------------------------------------------ core schema */
typedef struct resolved {
    mlf_type type;
    int b;
    int64_t i;
    double d;
} resolved;

static int is_digit(char c, int base)
{
    if (base == 16)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return c >= '0' && c < '0' + base;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

/* 1 when @p s is an integer of the core schema; sets *range_err when it does not fit int64. */
static int parse_int(const char *s, size_t len, int64_t *out, int *range_err)
{
    int base = 10, neg = 0;
    size_t i = 0;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        i = 2;
    } else if (len > 1 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return 0;
    for (size_t j = i; j < len; j++)
        if (!is_digit(s[j], base))
            return 0;
    /* Accumulate the magnitude as unsigned; INT64_MIN's magnitude is one more than INT64_MAX. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    *range_err = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)digit_value(s[i]);
        if (v > (limit - d) / (unsigned)base) {
            *range_err = 1;
            return 1;
        }
        v = v * (unsigned)base + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static int one_of(const char *s, size_t len, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == len && memcmp(*words, s, len) == 0)
            return 1;
    return 0;
}

/* 1 when @p s (NUL-terminated at len) is a float of the core schema. */
static int parse_float(const char *s, size_t len, double *out)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", NULL};
    static const char *const nan_words[] = {".nan", ".NaN", ".NAN", NULL};
    size_t i = (len > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (one_of(s + i, len - i, inf)) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 1;
    }
    if (one_of(s, len, nan_words)) {
        *out = NAN;
        return 1;
    }
    /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
    size_t int_digits = 0;
    while (i < len && is_digit(s[i], 10)) {
        i++;
        int_digits++;
    }
    if (i < len && s[i] == '.') {
        size_t frac_digits = 0;
        i++;
        while (i < len && is_digit(s[i], 10)) {
            i++;
            frac_digits++;
        }
        if (!int_digits && !frac_digits)
            return 0;
    } else if (!int_digits) {
        return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t exp_digits = 0;
        while (i < len && is_digit(s[i], 10)) {
            i++;
            exp_digits++;
        }
        if (!exp_digits)
            return 0;
    }
    if (i != len)
        return 0;
    *out = strtod(s, NULL);
    return 1;
}

/* Resolves plain text. Returns MLF_OK or MLF_ERANGE (an integer outside int64). */
static int resolve_plain(const char *s, size_t len, resolved *r)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    int range_err = 0;
    if (memchr(s, '\0', len)) {
        r->type = MLF_STR;
    } else if (one_of(s, len, nulls)) {
        r->type = MLF_NIL;
    } else if (one_of(s, len, trues) || one_of(s, len, falses)) {
        r->type = MLF_BOOL;
        r->b = s[0] == 't' || s[0] == 'T';
    } else if (parse_int(s, len, &r->i, &range_err)) {
        r->type = MLF_INT;
        if (range_err)
            return MLF_ERANGE;
    } else if (parse_float(s, len, &r->d)) {
        r->type = MLF_FLOAT;
    } else {
        r->type = MLF_STR;
    }
    return MLF_OK;
}

static int node_error(const mlf_yaml_node *n, char *err, size_t errlen, int rc, const char *fmt, ...)
    MLF_PRINTF(5, 6);
static int node_error(const mlf_yaml_node *n, char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput_error(err, errlen, n->source, n->line, n->col, fmt, ap);
    va_end(ap);
    return rc;
}

/* Resolves scalar @p n (style and tag considered). */
static int resolve_scalar(const mlf_yaml_node *n, resolved *r, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4];
    const char *tag = n->tag;
    if (!tag) {
        if (n->style != MLF_YAML_PLAIN) {
            r->type = MLF_STR;
            return MLF_OK;
        }
        if (resolve_plain(n->text, n->len, r) != MLF_OK)
            return node_error(n, err, errlen, MLF_ERANGE, "integer %s is out of range",
                              quoted(n->text, n->len, q));
        return MLF_OK;
    }
    if (strcmp(tag, "!") == 0 || strcmp(tag, TAG_PREFIX "str") == 0) {
        r->type = MLF_STR;
        return MLF_OK;
    }
    static const struct {
        const char *tag;
        mlf_type type;
    } typed[] = {{TAG_PREFIX "null", MLF_NIL}, {TAG_PREFIX "bool", MLF_BOOL}, {TAG_PREFIX "int", MLF_INT},
                 {TAG_PREFIX "float", MLF_FLOAT}};
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        if (strcmp(tag, typed[i].tag) != 0)
            continue;
        if (resolve_plain(n->text, n->len, r) != MLF_OK)
            return node_error(n, err, errlen, MLF_ERANGE, "integer %s is out of range",
                              quoted(n->text, n->len, q));
        if (typed[i].type == MLF_FLOAT && r->type == MLF_INT) {
            r->type = MLF_FLOAT;
            r->d = (double)r->i;
        }
        if (r->type != typed[i].type)
            return node_error(n, err, errlen, MLF_ETYPE, "'%s' is not a valid !!%s", quoted(n->text, n->len, q),
                              typed[i].tag + strlen(TAG_PREFIX));
        return MLF_OK;
    }
    return node_error(n, err, errlen, MLF_ETYPE, "unsupported tag '%s'", quoted(tag, strlen(tag), q));
}

const char *mlf_yaml_describe(const mlf_yaml_node *node)
{
    if (!node)
        return "nothing";
    if (node->kind == MLF_YAML_SEQUENCE)
        return "list";
    if (node->kind == MLF_YAML_MAPPING)
        return "mapping";
    resolved r = {0};
    if (resolve_scalar(node, &r, NULL, 0) != MLF_OK)
        return r.type == MLF_INT ? "int" : "string";
    switch (r.type) {
    case MLF_NIL: return "null";
    case MLF_BOOL: return "bool";
    case MLF_INT: return "int";
    case MLF_FLOAT: return "float";
    default: return "string";
    }
}

int mlf_yaml_is_null(const mlf_yaml_node *node)
{
    resolved r = {0};
    return node && node->kind == MLF_YAML_SCALAR && resolve_scalar(node, &r, NULL, 0) == MLF_OK &&
           r.type == MLF_NIL;
}

int mlf_yaml_scalar_to_value(const mlf_yaml_node *node, mlf_value **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!node || !out)
        return MLF_EINVAL;
    *out = NULL;
    if (node->kind != MLF_YAML_SCALAR)
        return node_error(node, err, errlen, MLF_EINVAL, "expected a scalar, got a %s", mlf_yaml_describe(node));
    resolved r = {0};
    int rc = resolve_scalar(node, &r, err, errlen);
    if (rc)
        return rc;
    mlf_value *v;
    switch (r.type) {
    case MLF_NIL: v = mlf_value_nil(); break;
    case MLF_BOOL: v = mlf_value_bool(r.b); break;
    case MLF_INT: v = mlf_value_int(r.i); break;
    case MLF_FLOAT: v = mlf_value_float(r.d); break;
    default: v = mlf_value_strn(node->text, node->len); break;
    }
    if (!v)
        return node_error(node, err, errlen, MLF_ENOMEM, "out of memory");
    *out = v;
    return MLF_OK;
}

static int check_collection_tag(const mlf_yaml_node *n, char *err, size_t errlen)
{
    const char *want = n->kind == MLF_YAML_SEQUENCE ? TAG_PREFIX "seq" : TAG_PREFIX "map";
    if (!n->tag || strcmp(n->tag, "!") == 0 || strcmp(n->tag, want) == 0)
        return MLF_OK;
    char q[QUOTE_MAX + 4];
    return node_error(n, err, errlen, MLF_ETYPE, "unsupported tag '%s' on a %s", quoted(n->tag, strlen(n->tag), q),
                      n->kind == MLF_YAML_SEQUENCE ? "list" : "mapping");
}

int mlf_yaml_node_to_value(const mlf_yaml_node *node, mlf_value **out, char *err, size_t errlen)
{
    if (!node || !out)
        return MLF_EINVAL;
    if (node->kind == MLF_YAML_SCALAR)
        return mlf_yaml_scalar_to_value(node, out, err, errlen);
    *out = NULL;
    int rc = check_collection_tag(node, err, errlen);
    if (rc)
        return rc;
    int is_map = node->kind == MLF_YAML_MAPPING;
    mlf_value *c = is_map ? mlf_value_map() : mlf_value_array();
    if (!c)
        return node_error(node, err, errlen, MLF_ENOMEM, "out of memory");
    /* Depth is bounded by the loader (aliases expanded), so this recursion is too. */
    for (size_t i = 0; i < node->n; i++) {
        const mlf_yaml_node *key = node->items[i];
        if (is_map && memchr(key->text, '\0', key->len)) {
            mlf_value_free(c);
            return node_error(key, err, errlen, MLF_ETYPE, "a mapping key contains a NUL character");
        }
        mlf_value *v;
        rc = mlf_yaml_node_to_value(is_map ? node->values[i] : node->items[i], &v, err, errlen);
        if (rc) {
            mlf_value_free(c);
            return rc;
        }
        rc = is_map ? mlf_map_set(c, key->text, v) : mlf_array_append(c, v);
        if (rc) {
            mlf_value_free(c);
            return node_error(node, err, errlen, rc, "%s", mlf_strerror(rc));
        }
    }
    *out = c;
    return MLF_OK;
}
