/*
 * template.c -- compiling templates: splitting text from "{{ }}" and "{# #}", the lexer and parser of
 * expressions, and the list of names and macros a template refers to. Rendering is in
 * template_render.c, filters in template_filters.c.
 */
#include "tmpl/template_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"

typedef enum tok_kind { TK_EOF, TK_END, TK_NAME, TK_INT, TK_FLOAT, TK_STR, TK_PUNCT, TK_OP } tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t off, len; /* the token's bytes in the source */
    int strip;       /* TK_END written "-}}" or "-%}" */
    char c;          /* TK_PUNCT: the character */
    tpl_cmp_op op;   /* TK_OP: a comparison */
} tok;

typedef struct parser {
    const char *s; /* the whole template text */
    size_t n;
    int multiline; /* the text has a newline: positions are given as line and column */
    size_t pos;    /* where the lexer continues */
    tok cur;       /* the current (not yet consumed) token */
    size_t prev_end; /* end of the last consumed token */
    int prev_dot;    /* the last consumed token was '.': digits lex as an integer index */
    unsigned level;  /* bracket / unary nesting of the expression being parsed */
    int stmt;        /* inside "{% %}": the tag ends with "%}" */
    int rc;          /* first error, MLF_OK while none */
    char *err;
    size_t errlen;
} parser;

/* ------------------------------------------------------------------------------------------ errors */

/* A byte offset of a text with its 1-based line and column (in characters). */
typedef struct textpos {
    size_t off;
    unsigned line, col;
} textpos;

/* Moves @p pos to byte offset @p off (the start of a character) of @p s: forward from where it is, or from
 * the start when @p off lies before it. Listing positions in increasing order costs one pass. */
static void locate(const char *s, size_t off, textpos *pos)
{
    if (off < pos->off || pos->line == 0)
        *pos = (textpos){.off = 0, .line = 1, .col = 1};
    for (size_t i = pos->off; i < off;) {
        if (s[i] == '\n') {
            pos->line++;
            pos->col = 1;
            i++;
        } else {
            pos->col++;
            i = tpl_utf8_next(s, off, i);
        }
    }
    pos->off = off;
}

static void format_pos(const parser *p, size_t off, char *buf, size_t size)
{
    textpos pos = {0};
    locate(p->s, off, &pos);
    if (p->multiline)
        snprintf(buf, size, "line %u, column %u", pos.line, pos.col);
    else
        snprintf(buf, size, "column %u", pos.col);
}

/* Makes room for one more element in the array *@p items of *@p n elements and capacity *@p cap.
 * Returns 0, or -1 when memory runs out. */
static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = ncap <= SIZE_MAX / size ? realloc(*items, ncap * size) : NULL;
    if (!p)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

/* Records the first error: its code and "POSITION: message". */
static void perr(parser *p, int rc, size_t off, const char *fmt, ...) MLF_PRINTF(4, 5);
static void perr(parser *p, int rc, size_t off, const char *fmt, ...)
{
    if (p->rc != MLF_OK)
        return;
    p->rc = rc;
    if (!p->err || !p->errlen)
        return;
    char where[48], msg[256];
    format_pos(p, off, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s: %s", where, msg);
}

static void perr_nomem(parser *p)
{
    perr(p, MLF_ENOMEM, p->cur.off, "out of memory");
}

/* A short description of token @p t for "found ..." messages. */
static void describe(const parser *p, const tok *t, char *buf, size_t size)
{
    switch (t->kind) {
    case TK_EOF: snprintf(buf, size, "end of text"); break;
    case TK_STR: snprintf(buf, size, "a string"); break;
    default: {
        int len = t->len > 24 ? 24 : (int)t->len;
        snprintf(buf, size, "'%.*s%s'", len, p->s + t->off, t->len > 24 ? "..." : "");
        break;
    }
    }
}

/* "expected WHAT, found TOKEN" at the current token. */
static void perr_expected(parser *p, const char *what)
{
    char found[48];
    describe(p, &p->cur, found, sizeof found);
    perr(p, MLF_EPARSE, p->cur.off, "expected %s, found %s", what, found);
}

/* ------------------------------------------------------------------------------------------ lexer */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || is_digit(c);
}

static int digit_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Scans digits of @p base with single '_' between digits from @p i; returns the end, or 0 (with the
 * error recorded) when there is no digit or an '_' is misplaced. */
static size_t scan_digits(parser *p, size_t i, int base, size_t start)
{
    size_t j = i;
    if (j >= p->n || digit_value(p->s[j]) >= base)
        goto bad;
    while (j < p->n) {
        if (digit_value(p->s[j]) < base)
            j++;
        else if (p->s[j] == '_' && j + 1 < p->n && digit_value(p->s[j + 1]) < base)
            j++;
        else
            break;
    }
    return j;
bad:
    perr(p, MLF_EPARSE, start, "invalid number literal");
    return 0;
}

/* A number ending at @p end (0 after an error) must not run into a name: "12ab", "1__0", "1e". */
static size_t check_number_end(parser *p, size_t end, size_t start)
{
    if (end && end < p->n && is_name_char(p->s[end])) {
        perr(p, MLF_EPARSE, start, "invalid number literal");
        return 0;
    }
    return end;
}

static size_t lex_number(parser *p, size_t i, tok *t)
{
    const char *s = p->s;
    t->kind = TK_INT;
    if (s[i] == '0' && i + 1 < p->n && strchr("xXoObB", s[i + 1])) {
        int base = (s[i + 1] == 'x' || s[i + 1] == 'X') ? 16 : (s[i + 1] == 'o' || s[i + 1] == 'O') ? 8 : 2;
        size_t j = i + 2;
        if (j < p->n && s[j] == '_') /* Python allows 0x_ff */
            j++;
        return check_number_end(p, scan_digits(p, j, base, i), i);
    }
    size_t j = scan_digits(p, i, 10, i);
    if (!j || p->prev_dot) /* after '.', "x.0.1" is two indexes, not a float */
        return check_number_end(p, j, i);
    if (j + 1 < p->n && s[j] == '.' && is_digit(s[j + 1])) {
        t->kind = TK_FLOAT;
        if (!(j = scan_digits(p, j + 1, 10, i)))
            return 0;
    }
    if (j < p->n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < p->n && (s[k] == '+' || s[k] == '-'))
            k++;
        if (k < p->n && is_digit(s[k])) {
            t->kind = TK_FLOAT;
            if (!(j = scan_digits(p, k, 10, i)))
                return 0;
        }
    }
    return check_number_end(p, j, i);
}

static size_t lex_string(parser *p, size_t i)
{
    char q = p->s[i];
    size_t j = i + 1;
    while (j < p->n && p->s[j] != q)
        j += p->s[j] == '\\' ? 2 : 1;
    if (j >= p->n) {
        perr(p, MLF_EPARSE, i, "unterminated string (expected a closing %c)", q);
        return 0;
    }
    return j + 1;
}

/* Lexes the token at p->pos into p->cur. On error p->rc is set and the token is TK_EOF. */
static void lex(parser *p)
{
    const char *s = p->s;
    size_t n = p->n, i = p->pos;
    while (i < n && is_space(s[i]))
        i++;
    tok t = {.kind = TK_EOF, .off = i};
    size_t end = i;
    char c = i < n ? s[i] : '\0';
    char c1 = i + 1 < n ? s[i + 1] : '\0';
    char close = p->stmt ? '%' : '}';
    if (i >= n) {
        end = i;
    } else if (c == '-' && c1 == close && i + 2 < n && s[i + 2] == '}') {
        t.kind = TK_END;
        t.strip = 1;
        end = i + 3;
    } else if (c == close && c1 == '}') {
        t.kind = TK_END;
        end = i + 2;
    } else if ((c == '=' && c1 == '=') || (c == '!' && c1 == '=')) {
        t.kind = TK_OP;
        t.op = c == '=' ? TPL_EQ : TPL_NE;
        end = i + 2;
    } else if (c == '<' || c == '>') {
        t.kind = TK_OP;
        t.op = c == '<' ? (c1 == '=' ? TPL_LE : TPL_LT) : (c1 == '=' ? TPL_GE : TPL_GT);
        end = i + 1 + (c1 == '=');
    } else if (is_name_start(c)) {
        t.kind = TK_NAME;
        for (end = i + 1; end < n && is_name_char(s[end]); end++)
            ;
    } else if (is_digit(c)) {
        end = lex_number(p, i, &t);
    } else if (c == '\'' || c == '"') {
        t.kind = TK_STR;
        end = lex_string(p, i);
    } else if (c && strchr(".[](),|~+-:{}", c)) {
        t.kind = TK_PUNCT;
        t.c = c;
        end = i + 1;
    } else if (c == '=' && c1 != '=') {
        t.kind = TK_PUNCT;
        t.c = c;
        end = i + 1;
    } else if (c == '*' || c == '/' || c == '%') {
        int two = c1 == c && c != '%';
        perr(p, MLF_ENOTSUP, i, "operator '%.*s' is not supported yet (supported: ~ + -)", two ? 2 : 1, s + i);
    } else if (c == '!' || c == '=') {
        perr(p, MLF_EPARSE, i, "unexpected '%c' (comparisons are == != < <= > >=)", c);
    } else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
        size_t k = tpl_utf8_next(s, n, i);
        if ((unsigned char)c >= 0xC0)
            perr(p, MLF_EPARSE, i, "unexpected character '%.*s'", (int)(k - i), s + i);
        else
            perr(p, MLF_EPARSE, i, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
    } else {
        perr(p, MLF_EPARSE, i, "unexpected character '%c'", c);
    }
    if (p->rc != MLF_OK || end == 0) {
        t.kind = TK_EOF;
        end = n;
    }
    t.len = end - i;
    p->cur = t;
    p->pos = end;
}

/* Consumes the current token. */
static void advance(parser *p)
{
    p->prev_end = p->cur.off + p->cur.len;
    p->prev_dot = p->cur.kind == TK_PUNCT && p->cur.c == '.';
    lex(p);
}

static int at_punct(const parser *p, char c)
{
    return p->cur.kind == TK_PUNCT && p->cur.c == c;
}

static int at_name(const parser *p, const char *name)
{
    size_t k = strlen(name);
    return p->cur.kind == TK_NAME && p->cur.len == k && memcmp(p->s + p->cur.off, name, k) == 0;
}

/* Expects closing punctuation @p c of the bracket opened at @p open_off, and consumes it. */
static int expect_close(parser *p, char c, size_t open_off)
{
    if (at_punct(p, c)) {
        advance(p);
        return 0;
    }
    char what[112], where[48];
    format_pos(p, open_off, where, sizeof where);
    snprintf(what, sizeof what, "'%c' to close the '%c' at %s", c, p->s[open_off], where);
    perr_expected(p, what);
    return -1;
}

/* ------------------------------------------------------------------------------------------ nodes */

static void node_free(tpl_node *nd)
{
    if (!nd)
        return;
    node_free(nd->a);
    node_free(nd->b);
    for (size_t i = 0; i < nd->nargs; i++)
        node_free(nd->args[i]);
    free(nd->args);
    free(nd->name);
    mlf_value_free(nd->lit);
    free(nd);
}

static tpl_node *node_new(parser *p, tpl_node_kind kind, size_t off)
{
    tpl_node *nd = calloc(1, sizeof *nd);
    if (!nd) {
        perr_nomem(p);
        return NULL;
    }
    nd->kind = kind;
    nd->off = off;
    return nd;
}

static unsigned child_depth(const tpl_node *c)
{
    return c ? c->depth + 1 : 0;
}

/* Sets the node's extent (up to the last consumed token) and depth. On error frees it, returns NULL. */
static tpl_node *node_finish(parser *p, tpl_node *nd)
{
    unsigned d = child_depth(nd->a);
    if (child_depth(nd->b) > d)
        d = child_depth(nd->b);
    for (size_t i = 0; i < nd->nargs; i++)
        if (child_depth(nd->args[i]) > d)
            d = child_depth(nd->args[i]);
    nd->depth = d;
    nd->len = p->prev_end - nd->off;
    if (d > MLF_TEMPLATE_MAX_DEPTH) {
        perr(p, MLF_ERANGE, nd->off, "expression nested too deeply (more than %d levels)",
             MLF_TEMPLATE_MAX_DEPTH);
        node_free(nd);
        return NULL;
    }
    return nd;
}

/* A node with operands @p a and @p b (ownership taken, even on error). */
static tpl_node *node_binary(parser *p, tpl_node_kind kind, tpl_node *a, tpl_node *b)
{
    tpl_node *nd = node_new(p, kind, a ? a->off : p->cur.off);
    if (!nd) {
        node_free(a);
        node_free(b);
        return NULL;
    }
    nd->a = a;
    nd->b = b;
    return node_finish(p, nd);
}

static tpl_node *node_literal(parser *p, size_t off, mlf_value *v)
{
    if (!v) {
        perr_nomem(p);
        return NULL;
    }
    tpl_node *nd = node_new(p, TPL_LIT, off);
    if (!nd) {
        mlf_value_free(v);
        return NULL;
    }
    nd->lit = v;
    return node_finish(p, nd);
}

/* ------------------------------------------------------------------------------------------ literals */

static int utf8_put(mlf_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return mlf_buf_append(b, u, n);
}

/* Decodes the string token at the current position (quotes included) and appends it to @p b, with
 * Python's escapes. */
static int decode_string(parser *p, mlf_buf *b)
{
    const char *s = p->s + p->cur.off;
    size_t n = p->cur.len - 1, i = 1;
    while (i < n) {
        size_t run = i;
        while (run < n && s[run] != '\\')
            run++;
        if (mlf_buf_append(b, s + i, run - i) != MLF_OK)
            goto nomem;
        if (run >= n)
            break;
        size_t esc = run; /* the backslash; the lexer guarantees a character after it */
        char c = s[esc + 1];
        static const char in[] = "\\'\"abfnrtv\n", out[] = "\\'\"\a\b\f\n\r\t\v";
        const char *simple = c ? strchr(in, c) : NULL;
        i = esc + 2;
        if (simple) { /* a backslash before a newline continues the line */
            if (c != '\n' && mlf_buf_append(b, &out[simple - in], 1) != MLF_OK)
                goto nomem;
            continue;
        }
        uint32_t cp = 0;
        int want = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
        if (c >= '0' && c <= '7') {
            i = esc + 1;
            for (int k = 0; k < 3 && i < n && s[i] >= '0' && s[i] <= '7'; k++, i++)
                cp = cp * 8 + (uint32_t)(s[i] - '0');
        } else if (want) {
            for (int k = 0; k < want; k++, i++) {
                if (i >= n || digit_value(s[i]) >= 16) {
                    perr(p, MLF_EPARSE, p->cur.off + esc, "truncated \\%c escape (expected %d hex digits)", c,
                         want);
                    return -1;
                }
                cp = cp * 16 + (uint32_t)digit_value(s[i]);
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                perr(p, MLF_EPARSE, p->cur.off + esc, "invalid \\%c escape: U+%X is not a character", c,
                     (unsigned)cp);
                return -1;
            }
        } else { /* unknown escapes stay as written, as in Python */
            if (mlf_buf_append(b, s + esc, 1) != MLF_OK)
                goto nomem;
            i = esc + 1;
            continue;
        }
        if (utf8_put(b, cp) != MLF_OK)
            goto nomem;
    }
    return 0;
nomem:
    perr_nomem(p);
    return -1;
}

/* Strings, joined when adjacent ("a" 'b' is "ab", as in Jinja). */
static tpl_node *parse_strings(parser *p)
{
    size_t off = p->cur.off;
    mlf_buf b = {0};
    while (p->cur.kind == TK_STR) {
        if (decode_string(p, &b) != 0) {
            mlf_buf_free(&b);
            return NULL;
        }
        advance(p);
    }
    mlf_value *v = mlf_value_strn(b.data ? b.data : "", b.len);
    mlf_buf_free(&b);
    return node_literal(p, off, v);
}

static tpl_node *parse_number(parser *p)
{
    char digits[72];
    size_t k = 0;
    const tok *t = &p->cur;
    for (size_t i = 0; i < t->len; i++) {
        if (p->s[t->off + i] == '_')
            continue;
        if (k + 1 >= sizeof digits) {
            perr(p, MLF_ERANGE, t->off, "number literal out of range");
            return NULL;
        }
        digits[k++] = p->s[t->off + i];
    }
    digits[k] = '\0';
    mlf_value *v;
    errno = 0;
    if (t->kind == TK_FLOAT) {
        double d = strtod(digits, NULL);
        if (errno == ERANGE && isinf(d)) {
            perr(p, MLF_ERANGE, t->off, "number literal out of range");
            return NULL;
        }
        v = mlf_value_float(d);
    } else {
        int base = 10;
        const char *start = digits;
        if (k > 1 && digits[0] == '0' && !is_digit(digits[1])) {
            base = digits[1] == 'x' || digits[1] == 'X' ? 16 : digits[1] == 'o' || digits[1] == 'O' ? 8 : 2;
            start = digits + 2;
        } else if (digits[0] == '0' && strspn(digits, "0") != k) {
            perr(p, MLF_EPARSE, t->off, "leading zeros are not allowed in integer literals");
            return NULL;
        }
        long long ll = strtoll(start, NULL, base);
        if (errno == ERANGE) {
            perr(p, MLF_ERANGE, t->off, "number literal out of range");
            return NULL;
        }
        v = mlf_value_int((int64_t)ll);
    }
    size_t off = t->off;
    advance(p);
    return node_literal(p, off, v);
}

/* ------------------------------------------------------------------------------------------ parser */

static tpl_node *parse_additive(parser *p);
static tpl_node *parse_expression(parser *p);
static tpl_node *parse_unary(parser *p, int with_filters);

/* One level deeper into brackets or unary operators; fails past MLF_TEMPLATE_MAX_DEPTH. */
static int enter(parser *p)
{
    if (++p->level > MLF_TEMPLATE_MAX_DEPTH) {
        perr(p, MLF_ERANGE, p->cur.off, "expression nested too deeply (more than %d levels)",
             MLF_TEMPLATE_MAX_DEPTH);
        return -1;
    }
    return 0;
}

static void leave(parser *p)
{
    p->level--;
}

static int push_arg(parser *p, tpl_node *nd, tpl_node *arg)
{
    tpl_node **args = realloc(nd->args, (nd->nargs + 1) * sizeof *args);
    if (!args) {
        node_free(arg);
        perr_nomem(p);
        return -1;
    }
    args[nd->nargs++] = arg;
    nd->args = args;
    return 0;
}

/* 1 when the current token is a name followed by a single '=' (a keyword argument). */
static int at_keyword_arg(const parser *p)
{
    if (p->cur.kind != TK_NAME)
        return 0;
    size_t i = p->cur.off + p->cur.len;
    while (i < p->n && is_space(p->s[i]))
        i++;
    return i < p->n && p->s[i] == '=' && (i + 1 >= p->n || p->s[i + 1] != '=');
}

/* The items of a list or the arguments of a call, up to @p close, into nd->args. */
static int parse_items(parser *p, tpl_node *nd, char close)
{
    size_t open_off = p->cur.off;
    if (enter(p) != 0)
        goto fail;
    advance(p);
    while (!at_punct(p, close)) {
        if (close == ')' && at_keyword_arg(p)) {
            perr(p, MLF_ENOTSUP, p->cur.off, "keyword arguments are not supported yet (pass '%.*s' by position)",
                 (int)p->cur.len, p->s + p->cur.off);
            goto fail;
        }
        tpl_node *arg = parse_expression(p);
        if (!arg || push_arg(p, nd, arg) != 0)
            goto fail;
        if (at_punct(p, ','))
            advance(p);
        else if (!at_punct(p, close)) {
            char what[112], where[48];
            format_pos(p, open_off, where, sizeof where);
            snprintf(what, sizeof what, "',' or '%c' to close the '%c' at %s", close, p->s[open_off], where);
            perr_expected(p, what);
            goto fail;
        }
    }
    advance(p);
    leave(p);
    return 0;
fail:
    leave(p);
    return -1;
}

static tpl_node *parse_list(parser *p)
{
    tpl_node *nd = node_new(p, TPL_LIST, p->cur.off);
    if (!nd)
        return NULL;
    if (parse_items(p, nd, ']') != 0) {
        node_free(nd);
        return NULL;
    }
    return node_finish(p, nd);
}

static tpl_node *parse_paren(parser *p)
{
    size_t open_off = p->cur.off;
    if (enter(p) != 0) {
        leave(p);
        return NULL;
    }
    advance(p);
    tpl_node *nd = parse_expression(p);
    leave(p);
    if (nd && at_punct(p, ',')) {
        perr(p, MLF_ENOTSUP, p->cur.off, "tuples are not supported yet");
    } else if (nd && expect_close(p, ')', open_off) == 0) {
        return nd;
    }
    node_free(nd);
    return NULL;
}

static tpl_node *parse_primary(parser *p)
{
    const tok *t = &p->cur;
    switch (t->kind) {
    case TK_NAME: {
        static const struct {
            const char *word;
            int value; /* 1 true, 0 false, -1 none */
        } consts[] = {{"true", 1}, {"True", 1}, {"false", 0}, {"False", 0}, {"none", -1}, {"None", -1}};
        for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
            if (at_name(p, consts[i].word)) {
                size_t off = t->off;
                advance(p);
                return node_literal(p, off, consts[i].value < 0 ? mlf_value_nil() : mlf_value_bool(consts[i].value));
            }
        tpl_node *nd = node_new(p, TPL_NAME, t->off);
        if (!nd)
            return NULL;
        if (!(nd->name = strndup(p->s + t->off, t->len))) {
            node_free(nd);
            perr_nomem(p);
            return NULL;
        }
        advance(p);
        return node_finish(p, nd);
    }
    case TK_STR: return parse_strings(p);
    case TK_INT:
    case TK_FLOAT: return parse_number(p);
    case TK_PUNCT:
        if (t->c == '(')
            return parse_paren(p);
        if (t->c == '[')
            return parse_list(p);
        if (t->c == '{') {
            perr(p, MLF_ENOTSUP, t->off, "dict literals are not supported yet");
            return NULL;
        }
        break;
    default: break;
    }
    perr_expected(p, "an expression");
    return NULL;
}

/* A call of @p callee: a macro, NAME(...) or macros.NAME(...). Takes ownership of @p callee. */
static tpl_node *parse_call(parser *p, tpl_node *callee)
{
    const char *name = NULL;
    if (callee->kind == TPL_NAME)
        name = callee->name;
    else if (callee->kind == TPL_ATTR && callee->a->kind == TPL_NAME && strcmp(callee->a->name, "macros") == 0)
        name = callee->name;
    if (!name) {
        perr(p, MLF_ENOTSUP, callee->off,
             "'%.*s(...)': only macros can be called, as NAME(...) or macros.NAME(...); for string "
             "methods use filters, e.g. x | replace('-', '')",
             (int)(callee->len > 40 ? 40 : callee->len), p->s + callee->off);
        node_free(callee);
        return NULL;
    }
    tpl_node *nd = node_new(p, TPL_CALL, callee->off);
    if (!nd || !(nd->name = strdup(name))) {
        if (nd)
            perr_nomem(p);
        node_free(nd);
        node_free(callee);
        return NULL;
    }
    node_free(callee);
    if (parse_items(p, nd, ')') != 0) {
        node_free(nd);
        return NULL;
    }
    return node_finish(p, nd);
}

/* Attribute access, subscripts and calls after @p nd (ownership taken). */
static tpl_node *parse_postfix(parser *p, tpl_node *nd)
{
    while (nd && p->cur.kind == TK_PUNCT) {
        if (p->cur.c == '.') {
            advance(p);
            tpl_node *x;
            if (p->cur.kind == TK_NAME) {
                x = node_new(p, TPL_ATTR, nd->off);
                if (x && !(x->name = strndup(p->s + p->cur.off, p->cur.len))) {
                    perr_nomem(p);
                    node_free(x);
                    x = NULL;
                }
                if (x) {
                    x->a = nd;
                    advance(p);
                    x = node_finish(p, x);
                } else {
                    node_free(nd);
                }
            } else if (p->cur.kind == TK_INT) { /* x.0 is x[0], as in Jinja */
                tpl_node *key = parse_number(p);
                x = key ? node_binary(p, TPL_INDEX, nd, key) : (node_free(nd), NULL);
            } else {
                perr_expected(p, "a name or an index after '.'");
                node_free(nd);
                return NULL;
            }
            nd = x;
        } else if (p->cur.c == '[') {
            size_t open_off = p->cur.off;
            if (enter(p) != 0) {
                leave(p);
                node_free(nd);
                return NULL;
            }
            advance(p);
            tpl_node *key = at_punct(p, ':') ? NULL : parse_expression(p);
            leave(p);
            if (at_punct(p, ':') && p->rc == MLF_OK)
                perr(p, MLF_ENOTSUP, p->cur.off, "slices are not supported yet");
            else if (key && at_punct(p, ','))
                perr(p, MLF_ENOTSUP, p->cur.off, "tuples are not supported yet");
            if (!key || p->rc != MLF_OK || expect_close(p, ']', open_off) != 0) {
                node_free(key);
                node_free(nd);
                return NULL;
            }
            nd = node_binary(p, TPL_INDEX, nd, key);
        } else if (p->cur.c == '(') {
            nd = parse_call(p, nd);
        } else {
            break;
        }
    }
    return nd;
}

/* Filters after @p nd (ownership taken): | name, | name(args...). */
static tpl_node *parse_filters(parser *p, tpl_node *nd)
{
    while (nd && at_punct(p, '|')) {
        advance(p);
        if (p->cur.kind != TK_NAME) {
            perr_expected(p, "a filter name after '|'");
            node_free(nd);
            return NULL;
        }
        const tpl_filter *f = tpl_filter_find(p->s + p->cur.off, p->cur.len);
        if (!f) {
            const char *near = tpl_filter_suggest(p->s + p->cur.off, p->cur.len);
            perr(p, MLF_EPARSE, p->cur.off, "unknown filter '%.*s'%s%s%s", (int)p->cur.len, p->s + p->cur.off,
                 near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            node_free(nd);
            return NULL;
        }
        size_t name_off = p->cur.off;
        tpl_node *x = node_new(p, TPL_FILTER, nd->off);
        if (!x) {
            node_free(nd);
            return NULL;
        }
        x->a = nd;
        x->filter = f;
        advance(p);
        if (at_punct(p, '(') && parse_items(p, x, ')') != 0) {
            node_free(x);
            return NULL;
        }
        if (x->nargs < (size_t)f->min_args || x->nargs > (size_t)f->max_args) {
            if (f->min_args == f->max_args)
                perr(p, MLF_EPARSE, name_off, "filter '%s' takes %d argument%s, got %zu", f->name, f->min_args,
                     f->min_args == 1 ? "" : "s", x->nargs);
            else
                perr(p, MLF_EPARSE, name_off, "filter '%s' takes %d to %d arguments, got %zu", f->name,
                     f->min_args, f->max_args, x->nargs);
            node_free(x);
            return NULL;
        }
        nd = node_finish(p, x);
    }
    if (nd && at_name(p, "is")) {
        perr(p, MLF_ENOTSUP, p->cur.off, "tests ('is') are not supported yet");
        node_free(nd);
        return NULL;
    }
    return nd;
}

/* -x and +x bind looser than postfix and tighter than filters: -x.y|f is (-(x.y))|f, as in Jinja. */
static tpl_node *parse_unary(parser *p, int with_filters)
{
    tpl_node *nd;
    if (at_punct(p, '-') || at_punct(p, '+')) {
        tpl_node_kind kind = p->cur.c == '-' ? TPL_NEG : TPL_POS;
        size_t off = p->cur.off;
        if (enter(p) != 0) {
            leave(p);
            return NULL;
        }
        advance(p);
        tpl_node *operand = parse_unary(p, 0);
        leave(p);
        if (!operand)
            return NULL;
        nd = node_new(p, kind, off);
        if (!nd) {
            node_free(operand);
            return NULL;
        }
        nd->a = operand;
        nd = node_finish(p, nd);
    } else {
        nd = parse_postfix(p, parse_primary(p));
    }
    return with_filters ? parse_filters(p, nd) : nd;
}

static tpl_node *parse_concat(parser *p)
{
    tpl_node *nd = parse_unary(p, 1);
    while (nd && at_punct(p, '~')) {
        advance(p);
        tpl_node *right = parse_unary(p, 1);
        nd = right ? node_binary(p, TPL_CONCAT, nd, right) : (node_free(nd), NULL);
    }
    return nd;
}

static tpl_node *parse_additive(parser *p)
{
    tpl_node *nd = parse_concat(p);
    while (nd && (at_punct(p, '+') || at_punct(p, '-'))) {
        tpl_node_kind kind = p->cur.c == '+' ? TPL_ADD : TPL_SUB;
        advance(p);
        tpl_node *right = parse_concat(p);
        nd = right ? node_binary(p, kind, nd, right) : (node_free(nd), NULL);
    }
    return nd;
}

/* A node with one operand (ownership taken). */
static tpl_node *node_unary(parser *p, tpl_node_kind kind, size_t off, tpl_node *a)
{
    tpl_node *nd = node_new(p, kind, off);
    if (!nd) {
        node_free(a);
        return NULL;
    }
    nd->a = a;
    return node_finish(p, nd);
}

/* comparison := additive [('==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in') additive] */
static tpl_node *parse_compare(parser *p)
{
    tpl_node *nd = parse_additive(p);
    if (!nd)
        return NULL;
    tpl_cmp_op op;
    if (p->cur.kind == TK_OP) {
        op = p->cur.op;
        advance(p);
    } else if (at_name(p, "in")) {
        op = TPL_IN;
        advance(p);
    } else if (at_name(p, "not")) { /* after an operand, only "not in" */
        advance(p);
        if (!at_name(p, "in")) {
            perr_expected(p, "'in' after 'not'");
            node_free(nd);
            return NULL;
        }
        op = TPL_NOT_IN;
        advance(p);
    } else {
        return nd;
    }
    tpl_node *right = parse_additive(p);
    nd = right ? node_binary(p, TPL_CMP, nd, right) : (node_free(nd), NULL);
    if (nd)
        nd->op = op;
    if (nd && (p->cur.kind == TK_OP || at_name(p, "in"))) {
        perr(p, MLF_ENOTSUP, p->cur.off, "chained comparisons are not supported yet (write a < b and b < c)");
        node_free(nd);
        return NULL;
    }
    return nd;
}

/* not_expr := 'not' not_expr | comparison */
static tpl_node *parse_not(parser *p)
{
    if (!at_name(p, "not"))
        return parse_compare(p);
    size_t off = p->cur.off;
    if (enter(p) != 0) {
        leave(p);
        return NULL;
    }
    advance(p);
    tpl_node *operand = parse_not(p);
    leave(p);
    return operand ? node_unary(p, TPL_NOT, off, operand) : NULL;
}

/* and_expr := not_expr ('and' not_expr)*;  or_expr := and_expr ('or' and_expr)* */
static tpl_node *parse_logic(parser *p, int is_or)
{
    tpl_node *nd = is_or ? parse_logic(p, 0) : parse_not(p);
    while (nd && at_name(p, is_or ? "or" : "and")) {
        advance(p);
        tpl_node *right = is_or ? parse_logic(p, 0) : parse_not(p);
        nd = right ? node_binary(p, is_or ? TPL_OR : TPL_AND, nd, right) : (node_free(nd), NULL);
    }
    return nd;
}

/* expression := or_expr ['if' or_expr ['else' expression]], Jinja's conditional expression */
static tpl_node *parse_expression(parser *p)
{
    tpl_node *nd = parse_logic(p, 1);
    while (nd && at_name(p, "if")) {
        advance(p);
        tpl_node *cond = parse_logic(p, 1), *otherwise = NULL;
        if (cond && at_name(p, "else")) {
            advance(p);
            if (enter(p) == 0) /* "a if b else c if d else ..." recurses */
                otherwise = parse_expression(p);
            leave(p);
            if (!otherwise) {
                node_free(cond);
                cond = NULL;
            }
        }
        tpl_node *x = cond ? node_new(p, TPL_COND, nd->off) : NULL;
        if (!x) {
            node_free(nd);
            node_free(cond);
            node_free(otherwise);
            nd = NULL;
            break;
        }
        x->a = nd;
        x->b = cond;
        if (otherwise && push_arg(p, x, otherwise) != 0) {
            node_free(x);
            nd = NULL;
            break;
        }
        nd = node_finish(p, x);
    }
    return nd;
}

/* Parses the expression after the "{{" at @p open (its body starts at p->pos) up to "}}". */
static tpl_node *parse_print(parser *p, size_t open)
{
    p->level = 0;
    p->prev_dot = 0;
    p->stmt = 0;
    lex(p);
    tpl_node *nd = parse_expression(p);
    if (!nd)
        return NULL;
    if (p->cur.kind == TK_END)
        return nd;
    if (at_name(p, "for")) {
        perr(p, MLF_ENOTSUP, p->cur.off, "'for' inside {{ }} (a comprehension) is not supported; write "
             "{%% for x in ... %%}...{%% endfor %%}");
        node_free(nd);
        return NULL;
    }
    char what[112], where[48];
    format_pos(p, open, where, sizeof where);
    snprintf(what, sizeof what, "'}}' to close the '{{' at %s", where);
    perr_expected(p, what);
    node_free(nd);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ template */

/* Appends @p part (its expression and variable owned by the template from now on, even on error). */
static int push_tpl_part(parser *p, mlf_template *t, tpl_part part)
{
    if (grow((void **)&t->parts, &t->parts_cap, t->nparts, sizeof *t->parts) != 0) {
        node_free(part.expr);
        free(part.var);
        perr_nomem(p);
        return -1;
    }
    t->parts[t->nparts++] = part;
    return 0;
}

static int push_part(parser *p, mlf_template *t, size_t off, size_t len, tpl_node *expr)
{
    return push_tpl_part(p, t, (tpl_part){.off = off, .len = len, .expr = expr,
                                          .kind = expr ? TPL_P_EXPR : TPL_P_TEXT});
}

/* An open {% if %} or {% for %} block while splitting. */
typedef struct block {
    size_t start, last; /* the IF / FOR part, and the last IF / ELIF / ELSE part of an if chain */
    int has_else, is_for;
} block;

static const char *block_name(const block *b)
{
    return b->is_for ? "{% for %}" : "{% if %}";
}

/* Parses the statement after the "{%" at @p open (its body starts at p->pos) up to "%}" into a part, and
 * links it into the open blocks. */
static int parse_statement(parser *p, mlf_template *t, size_t open, block *blocks, size_t *nblocks)
{
    p->level = 0;
    p->prev_dot = 0;
    p->stmt = 1;
    lex(p);
    tpl_part part = {.off = open};
    const char *kw = NULL;
    static const char *const words[] = {"if", "elif", "else", "endif", "for", "endfor"};
    static const tpl_part_kind kinds[] = {TPL_P_IF, TPL_P_ELIF, TPL_P_ELSE, TPL_P_ENDIF, TPL_P_FOR, TPL_P_ENDFOR};
    for (size_t k = 0; k < sizeof words / sizeof words[0] && !kw; k++)
        if (at_name(p, words[k])) {
            kw = words[k];
            part.kind = kinds[k];
        }
    if (!kw) {
        if (p->cur.kind == TK_NAME)
            perr(p, MLF_ENOTSUP, p->cur.off, "{%% %.*s %%} is not supported (statements: if, elif, else, endif, "
                 "for, endfor)", (int)p->cur.len, p->s + p->cur.off);
        else if (p->rc == MLF_OK)
            perr_expected(p, "a statement (if, elif, else, endif, for, endfor)");
        p->stmt = 0;
        return -1;
    }
    size_t kw_off = p->cur.off;
    advance(p);
    if (part.kind == TPL_P_FOR) {
        if (p->cur.kind != TK_NAME || at_name(p, "in")) {
            perr_expected(p, "the loop variable's name after 'for'");
        } else if (!(part.var = strndup(p->s + p->cur.off, p->cur.len))) {
            perr_nomem(p);
        } else {
            advance(p);
            if (at_punct(p, ','))
                perr(p, MLF_ENOTSUP, p->cur.off, "unpacking several loop variables is not supported yet");
            else if (!at_name(p, "in"))
                perr_expected(p, "'in' after the loop variable");
            else
                advance(p);
        }
    }
    if (p->rc == MLF_OK && (part.kind == TPL_P_IF || part.kind == TPL_P_ELIF || part.kind == TPL_P_FOR)) {
        /* Jinja parses a loop's sequence without a conditional expression: its 'if' filters the loop */
        part.expr = part.kind == TPL_P_FOR ? parse_logic(p, 1) : parse_expression(p);
        if (part.expr && part.kind == TPL_P_FOR && (at_name(p, "if") || at_name(p, "recursive")))
            perr(p, MLF_ENOTSUP, p->cur.off, "'%.*s' in a {%% for %%} is not supported yet", (int)p->cur.len,
                 p->s + p->cur.off);
    }
    if (p->rc == MLF_OK && p->cur.kind != TK_END) {
        char what[112], where[48];
        format_pos(p, open, where, sizeof where);
        snprintf(what, sizeof what, "'%%}' to close the '{%%' at %s", where);
        perr_expected(p, what);
    }
    p->stmt = 0;
    if (p->rc != MLF_OK) {
        node_free(part.expr);
        free(part.var);
        return -1;
    }
    part.len = p->pos - open;
    size_t idx = t->nparts;
    block *top = *nblocks ? &blocks[*nblocks - 1] : NULL;
    switch (part.kind) {
    case TPL_P_IF:
    case TPL_P_FOR:
        if (*nblocks == TPL_MAX_BLOCKS) {
            perr(p, MLF_ERANGE, kw_off, "blocks nested too deeply (more than %d)", TPL_MAX_BLOCKS);
            break;
        }
        blocks[(*nblocks)++] = (block){.start = idx, .last = idx, .is_for = part.kind == TPL_P_FOR};
        break;
    case TPL_P_ELIF:
    case TPL_P_ELSE:
    case TPL_P_ENDIF:
        if (!top || top->is_for) {
            if (top && part.kind == TPL_P_ELSE)
                perr(p, MLF_ENOTSUP, kw_off, "{%% else %%} in a {%% for %%} is not supported yet");
            else
                perr(p, MLF_EPARSE, kw_off, "{%% %s %%} without an open {%% if %%}%s%s", kw, top ? "; the open block is " : "",
                     top ? block_name(top) : "");
            break;
        }
        if (top->has_else && part.kind != TPL_P_ENDIF) {
            perr(p, MLF_EPARSE, kw_off, "{%% %s %%} after the {%% else %%} of its {%% if %%}", kw);
            break;
        }
        t->parts[top->last].next = idx;
        top->last = idx;
        top->has_else |= part.kind == TPL_P_ELSE;
        if (part.kind == TPL_P_ENDIF) {
            for (size_t k = top->start; k != idx; k = t->parts[k].next)
                t->parts[k].end = idx;
            (*nblocks)--;
        }
        break;
    case TPL_P_ENDFOR:
        if (!top || !top->is_for) {
            perr(p, MLF_EPARSE, kw_off, "{%% endfor %%} without an open {%% for %%}%s%s", top ? "; the open block is " : "",
                 top ? block_name(top) : "");
            break;
        }
        t->parts[top->start].end = idx;
        part.next = top->start;
        (*nblocks)--;
        break;
    default: break;
    }
    if (p->rc != MLF_OK) {
        node_free(part.expr);
        free(part.var);
        return -1;
    }
    return push_tpl_part(p, t, part);
}

/* The next "{{", "{#" or "{%" at or after @p i, or n. */
static size_t find_tag(const char *s, size_t n, size_t i)
{
    while (i + 1 < n) {
        const char *b = memchr(s + i, '{', n - 1 - i);
        if (!b)
            break;
        i = (size_t)(b - s);
        if (s[i + 1] == '{' || s[i + 1] == '#' || s[i + 1] == '%')
            return i;
        i++;
    }
    return n;
}

/* Splits the text into literal and expression parts. */
static int split(parser *p, mlf_template *t)
{
    const char *s = p->s;
    size_t n = p->n, i = 0;
    int lstrip = 0; /* the previous tag ended with '-': strip whitespace at the start of the next text */
    block blocks[TPL_MAX_BLOCKS];
    size_t nblocks = 0;
    for (;;) {
        size_t j = find_tag(s, n, i);
        size_t lit = i, lit_end = j;
        if (lstrip)
            while (lit < lit_end && is_space(s[lit]))
                lit++;
        if (j == n) {
            if (lit < lit_end && push_part(p, t, lit, lit_end - lit, NULL) != 0)
                return -1;
            if (nblocks) {
                const block *b = &blocks[nblocks - 1];
                perr(p, MLF_EPARSE, t->parts[b->start].off, "unclosed %s (expected {%% %s %%})", block_name(b),
                     b->is_for ? "endfor" : "endif");
                return -1;
            }
            return 0;
        }
        char kind = s[j + 1];
        int rstrip = j + 2 < n && s[j + 2] == '-';
        if (rstrip)
            while (lit_end > lit && is_space(s[lit_end - 1]))
                lit_end--;
        if (lit < lit_end && push_part(p, t, lit, lit_end - lit, NULL) != 0)
            return -1;
        if (kind == '#') {
            size_t k = j + 2;
            while (k + 1 < n && !(s[k] == '#' && s[k + 1] == '}'))
                k++;
            if (k + 1 >= n) {
                perr(p, MLF_EPARSE, j, "unclosed comment (expected '#}')");
                return -1;
            }
            lstrip = k > j + 2 + (size_t)rstrip && s[k - 1] == '-';
            i = k + 2;
            continue;
        }
        p->pos = j + 2 + (size_t)rstrip;
        if (kind == '%') {
            if (parse_statement(p, t, j, blocks, &nblocks) != 0)
                return -1;
            lstrip = p->cur.strip;
            i = p->pos;
            continue;
        }
        tpl_node *expr = parse_print(p, j);
        if (!expr)
            return -1;
        lstrip = p->cur.strip;
        i = p->pos;
        if (push_part(p, t, j, i - j, expr) != 0)
            return -1;
    }
}

static int all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i]))
            return 0;
    return 1;
}

/* Decides the kind; a literal template keeps its text, compacted in place, and no parts. */
static void classify(mlf_template *t)
{
    size_t exprs = 0, spaces = 1, stmts = 0;
    for (size_t i = 0; i < t->nparts; i++) {
        if (t->parts[i].kind == TPL_P_EXPR) {
            exprs++;
            t->expr_part = i;
        } else if (t->parts[i].kind != TPL_P_TEXT) {
            stmts++;
        } else if (!all_space(t->src + t->parts[i].off, t->parts[i].len)) {
            spaces = 0;
        }
    }
    if (exprs == 0 && stmts == 0) {
        size_t len = 0;
        for (size_t i = 0; i < t->nparts; i++) { /* parts only move left: offsets increase */
            memmove(t->src + len, t->src + t->parts[i].off, t->parts[i].len);
            len += t->parts[i].len;
        }
        t->src[len] = '\0';
        t->literal = t->src;
        t->literal_len = len;
        free(t->parts);
        t->parts = NULL;
        t->nparts = t->parts_cap = 0;
        t->kind = MLF_TEMPLATE_LITERAL;
    } else {
        t->kind = exprs == 1 && spaces && !stmts ? MLF_TEMPLATE_EXPR : MLF_TEMPLATE_TEXT;
    }
}

/* ------------------------------------------------------------------------------------------ refs */

/* Walks the expressions of a template to list what they refer to. */
typedef struct collector {
    mlf_template *t;
    textpos pos; /* of the last reference: references come nearly in source order */
    const char *bound[2 * TPL_MAX_BLOCKS]; /* names bound by the enclosing {% for %}s: not references */
    size_t nbound;
} collector;

static int is_bound(const collector *cl, const char *name)
{
    for (size_t i = 0; i < cl->nbound; i++)
        if (strcmp(cl->bound[i], name) == 0)
            return 1;
    return 0;
}

static int add_ref(collector *cl, mlf_template_ref_kind kind, const char *name, size_t off, const char **path,
                   size_t npath, size_t nargs)
{
    mlf_template *t = cl->t;
    if (grow((void **)&t->refs, &t->refs_cap, t->nrefs, sizeof *t->refs) != 0) {
        free(path);
        return MLF_ENOMEM;
    }
    locate(t->src, off, &cl->pos);
    t->refs[t->nrefs++] = (mlf_template_ref){.kind = kind, .name = name, .npath = npath, .path = path,
                                              .line = cl->pos.line, .column = cl->pos.col, .nargs = nargs};
    return MLF_OK;
}

/* The constant key of an ATTR or INDEX node, or NULL. */
static const char *const_key(const tpl_node *nd)
{
    if (nd->kind == TPL_ATTR)
        return nd->name;
    if (nd->b->kind == TPL_LIT && mlf_value_type(nd->b->lit) == MLF_STR)
        return mlf_value_get_str(nd->b->lit, NULL);
    return NULL;
}

static int collect(collector *cl, const tpl_node *nd);

/* A chain of ATTR / INDEX nodes topped by @p top: a name ref with the constant keys after the name. */
static int collect_chain(collector *cl, const tpl_node *top)
{
    const tpl_node *links[MLF_TEMPLATE_MAX_DEPTH + 1];
    size_t nlinks = 0;
    const tpl_node *root = top;
    while (root->kind == TPL_ATTR || root->kind == TPL_INDEX) {
        links[nlinks++] = root; /* depth is bounded, and so is the chain */
        root = root->a;
    }
    int rc = MLF_OK;
    if (root->kind == TPL_NAME && is_bound(cl, root->name)) {
        /* a loop variable: nothing to look up */
    } else if (root->kind == TPL_NAME) {
        const char **path = NULL;
        size_t npath = 0;
        while (npath < nlinks && const_key(links[nlinks - 1 - npath]))
            npath++;
        if (npath && !(path = malloc(npath * sizeof *path)))
            return MLF_ENOMEM;
        for (size_t i = 0; i < npath; i++)
            path[i] = const_key(links[nlinks - 1 - i]);
        rc = add_ref(cl, MLF_TEMPLATE_REF_NAME, root->name, root->off, path, npath, 0);
    } else {
        rc = collect(cl, root);
    }
    for (size_t i = nlinks; i-- > 0 && rc == MLF_OK;)
        if (links[i]->kind == TPL_INDEX)
            rc = collect(cl, links[i]->b);
    return rc;
}

static int collect(collector *cl, const tpl_node *nd)
{
    int rc = MLF_OK;
    switch (nd->kind) {
    case TPL_NAME:
    case TPL_ATTR:
    case TPL_INDEX: return collect_chain(cl, nd);
    case TPL_CALL: rc = add_ref(cl, MLF_TEMPLATE_REF_MACRO, nd->name, nd->off, NULL, 0, nd->nargs); break;
    default:
        if (nd->a)
            rc = collect(cl, nd->a);
        if (rc == MLF_OK && nd->b)
            rc = collect(cl, nd->b);
        break;
    }
    for (size_t i = 0; i < nd->nargs && rc == MLF_OK; i++)
        rc = collect(cl, nd->args[i]);
    return rc;
}

static int by_name_then_index(const void *a, const void *b)
{
    const mlf_template_ref *const *x = a, *const *y = b;
    int c = strcmp((*x)->name, (*y)->name);
    return c ? c : (*x < *y ? -1 : *x > *y);
}

/* t->names: the distinct names of the name refs in order of first appearance (sorting, not a scan per
 * name, so that a template with very many names stays cheap). */
static int list_names(mlf_template *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nrefs; i++)
        n += t->refs[i].kind == MLF_TEMPLATE_REF_NAME;
    if (n == 0)
        return MLF_OK;
    const mlf_template_ref **sorted = malloc(n * sizeof *sorted);
    unsigned char *first = calloc(t->nrefs, 1);
    if (!sorted || !first || !(t->names = malloc(n * sizeof *t->names))) {
        free(sorted);
        free(first);
        return MLF_ENOMEM;
    }
    for (size_t i = 0, k = 0; i < t->nrefs; i++)
        if (t->refs[i].kind == MLF_TEMPLATE_REF_NAME)
            sorted[k++] = &t->refs[i];
    qsort(sorted, n, sizeof *sorted, by_name_then_index);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(sorted[i - 1]->name, sorted[i]->name) != 0)
            first[sorted[i] - t->refs] = 1;
    for (size_t i = 0; i < t->nrefs; i++)
        if (first[i])
            t->names[t->nnames++] = t->refs[i].name;
    free(sorted);
    free(first);
    return MLF_OK;
}

/* ------------------------------------------------------------------------------------------ API */

int mlf_template_compile(const char *text, size_t len, mlf_template **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out || (!text && len))
        return MLF_EINVAL;
    *out = NULL;
    mlf_template *t = calloc(1, sizeof *t);
    if (!t || !(t->src = malloc(len + 1))) {
        free(t);
        if (err && errlen)
            mlf_strlcpy(err, "out of memory", errlen);
        return MLF_ENOMEM;
    }
    if (len)
        memcpy(t->src, text, len);
    t->src[len] = '\0';
    t->srclen = len;
    parser p = {.s = t->src, .n = len, .multiline = memchr(t->src, '\n', len) != NULL, .err = err, .errlen = errlen};
    if (split(&p, t) == 0) {
        classify(t);
        collector cl = {.t = t};
        for (size_t i = 0; i < t->nparts && p.rc == MLF_OK; i++) {
            const tpl_part *part = &t->parts[i];
            if (part->expr && collect(&cl, part->expr) != MLF_OK)
                perr(&p, MLF_ENOMEM, part->off, "out of memory");
            if (part->kind == TPL_P_FOR) { /* its variable and `loop` name no context value in its body */
                cl.bound[cl.nbound++] = part->var;
                cl.bound[cl.nbound++] = "loop";
            } else if (part->kind == TPL_P_ENDFOR) {
                cl.nbound -= 2;
            }
        }
        if (p.rc == MLF_OK && list_names(t) != MLF_OK)
            perr(&p, MLF_ENOMEM, 0, "out of memory");
    }
    if (p.rc != MLF_OK) {
        mlf_template_free(t);
        return p.rc;
    }
    *out = t;
    return MLF_OK;
}

void mlf_template_free(mlf_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nparts; i++) {
        node_free(t->parts[i].expr);
        free(t->parts[i].var);
    }
    free(t->parts);
    for (size_t i = 0; i < t->nrefs; i++)
        free((void *)t->refs[i].path);
    free(t->refs);
    free(t->names);
    free(t->src);
    free(t);
}

mlf_template_kind mlf_template_get_kind(const mlf_template *t)
{
    return t ? t->kind : MLF_TEMPLATE_LITERAL;
}

int mlf_template_names(const mlf_template *t, const char *const **names, size_t *count)
{
    if (!t || !names || !count)
        return MLF_EINVAL;
    *names = t->names;
    *count = t->nnames;
    return MLF_OK;
}

int mlf_template_refs(const mlf_template *t, const mlf_template_ref **refs, size_t *count)
{
    if (!t || !refs || !count)
        return MLF_EINVAL;
    *refs = t->refs;
    *count = t->nrefs;
    return MLF_OK;
}
