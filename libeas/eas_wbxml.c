/*
 * WBXML 1.3 (WAP-192-WBXML) as MS-ASWBXML 2.1 profiles it: a one-pass
 * decoder into a pool-allocated tree, and a streaming writer.
 */
#include "eas_wbxml_private.h"

#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>

/* Global tokens (WAP-192-WBXML 7). */
#define WB_SWITCH_PAGE 0x00
#define WB_END 0x01
#define WB_ENTITY 0x02
#define WB_STR_I 0x03
#define WB_STR_T 0x83
#define WB_OPAQUE 0xC3
#define WB_TAG_CONTENT 0x40
#define WB_TAG_ATTRS 0x80
#define WB_CHARSET_UTF8 106

const eas_wbxml_limits_t eas_wbxml_default_limits = {32, 200000, 0};

/* ---- UTF-8 ----------------------------------------------------------- */

/* Length of the valid UTF-8 prefix of s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF); n when all of it is valid. */
static apr_size_t utf8_valid_prefix(const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0;

    while (i < n) {
        unsigned c;

        /* Text in EAS is mostly ASCII: skip it eight bytes at a time. */
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if (v & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        c = s[i];
        if (c < 0x80) {
            ++i;
        }
        else if (c < 0xC2) {
            return i;
        }
        else if (c < 0xE0) {
            if (n - i < 2 || (s[i + 1] & 0xC0) != 0x80)
                return i;
            i += 2;
        }
        else if (c < 0xF0) {
            unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            if (n - i < 3 || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80)
                return i;
            i += 3;
        }
        else if (c < 0xF5) {
            unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            if (n - i < 4 || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80
                || (s[i + 3] & 0xC0) != 0x80)
                return i;
            i += 4;
        }
        else {
            return i;
        }
    }
    return n;
}

static apr_size_t utf8_put(unsigned char *o, apr_uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- decoder --------------------------------------------------------- */

/* mb_u_int32 (WAP-192-WBXML 5.1): big-endian 7-bit groups, high bit set on
 * all but the last byte, at most five bytes. */
#define MB_OK 0
#define MB_SHORT 1
#define MB_BAD 2

static APR_INLINE int mb_read(const unsigned char **ps, const unsigned char *end,
                              apr_uint32_t *out)
{
    const unsigned char *s = *ps;
    apr_uint32_t v = 0;
    int i;

    for (i = 0; i < 5; ++i) {
        unsigned c;
        if (s >= end)
            return MB_SHORT;
        c = *s++;
        if (v >> 25)
            return MB_BAD;
        v = v << 7 | (c & 0x7F);
        if (!(c & 0x80)) {
            *ps = s;
            *out = v;
            return MB_OK;
        }
    }
    return MB_BAD;
}

typedef struct {
    apr_pool_t *p;
    char *a_cur, *a_end;      /* text arena; a_cur is the next free byte */
    eas_node_t *tail;         /* the node whose text (and NUL) ends at a_cur */
    eas_node_t *nodes;        /* free nodes of the current chunk */
    apr_size_t nodes_left, chunk;
    apr_size_t arena_size;
} dec_t;

static APR_INLINE eas_node_t *node_new(dec_t *d)
{
    if (!d->nodes_left) {
        if (d->chunk < 1024)
            d->chunk *= 2;
        d->nodes = apr_palloc(d->p, d->chunk * sizeof(eas_node_t));
        d->nodes_left = d->chunk;
    }
    --d->nodes_left;
    return d->nodes++;
}

/* Appends k bytes to n's text, keeping it NUL-terminated.  Text normally
 * lands contiguously in one arena sized from the input; a text interrupted
 * by a child element, or one that does not fit, is moved. */
static void text_add(dec_t *d, eas_node_t *n, const void *src, apr_size_t k)
{
    char *dst;

    if (!k)
        return;
    if (!d->a_cur) {
        d->a_cur = apr_palloc(d->p, d->arena_size);
        d->a_end = d->a_cur + d->arena_size;
    }
    if (n == d->tail && (apr_size_t)(d->a_end - d->a_cur) >= k) {
        dst = d->a_cur - 1;       /* over the old NUL */
        d->a_cur += k;
    }
    else if ((apr_size_t)(d->a_end - d->a_cur) >= n->len + k + 1) {
        memcpy(d->a_cur, n->text, n->len);
        n->text = d->a_cur;
        dst = d->a_cur + n->len;
        d->a_cur += n->len + k + 1;
        d->tail = n;
    }
    else {
        char *t = apr_palloc(d->p, n->len + k + 1);
        memcpy(t, n->text, n->len);
        n->text = t;
        dst = t + n->len;
        if (n == d->tail)
            d->tail = NULL;
    }
    memcpy(dst, src, k);
    dst[k] = '\0';
    n->len += k;
}

eas_wbxml_error_e eas_wbxml_decode(apr_pool_t *p, const void *buf, apr_size_t len,
                                   const eas_wbxml_limits_t *limits,
                                   eas_node_t **root, eas_wbxml_error_t *err)
{
    const unsigned char *const base = buf, *const end = base + len;
    const unsigned char *s = base, *tok = base, *strtbl = NULL;
    apr_uint32_t v, tbl_len = 0, pubid, pub_index = 0;
    apr_size_t pub_at = 0;
    apr_size_t depth = 0, count = 0, max_string, max_depth, max_nodes;
    eas_node_t *doc = NULL, *cur = NULL;
    eas_wbxml_error_e code = EAS_WBXML_OK;
    unsigned page = 0;
    int mb;
    dec_t d;

    *root = NULL;
    if (!limits)
        limits = &eas_wbxml_default_limits;
    max_string = limits->max_string ? limits->max_string : len;
    max_depth = limits->max_depth;
    max_nodes = limits->max_nodes;
    if (!len) {
        code = EAS_WBXML_E_EMPTY;
        goto fail;
    }

    /* Header (WAP-192-WBXML 5).  MS-ASWBXML 2.1 uses no string table,
     * entities or public id strings, but libwbxml2 writes them: accepted. */
    if (*s < 0x01 || *s > 0x03) {
        code = EAS_WBXML_E_HEADER;
        goto fail;
    }
    tok = ++s;
    if ((mb = mb_read(&s, end, &pubid)) != MB_OK)
        goto header_mb;
    if (pubid == 0) {
        tok = s;
        pub_at = (apr_size_t)(s - base);
        if ((mb = mb_read(&s, end, &pub_index)) != MB_OK)
            goto header_mb;
    }
    else if (pubid != 1) {
        code = EAS_WBXML_E_HEADER;
        goto fail;
    }
    tok = s;
    if ((mb = mb_read(&s, end, &v)) != MB_OK)
        goto header_mb;
    if (v != WB_CHARSET_UTF8 && v != 0) {
        code = EAS_WBXML_E_HEADER;
        goto fail;
    }
    tok = s;
    if ((mb = mb_read(&s, end, &tbl_len)) != MB_OK)
        goto header_mb;
    if (tbl_len > (apr_size_t)(end - s)) {
        code = EAS_WBXML_E_TRUNCATED;
        goto fail;
    }
    strtbl = s;
    s += tbl_len;
    /* Public id 0: the id is a string in the table (libwbxml writes that). */
    if (pubid == 0 && pub_index >= tbl_len) {
        tok = base + pub_at;
        code = EAS_WBXML_E_HEADER;
        goto fail;
    }

    memset(&d, 0, sizeof(d));
    d.p = p;
    d.chunk = 16;
    /* Each piece of text costs at least as many input bytes as it takes in
     * the arena with its NUL, except ENTITY and STR_T (handled by moving). */
    d.arena_size = (apr_size_t)(end - s) + 1;

    while (s < end) {
        unsigned c = *s;
        tok = s;

        if (!(c & 0x80) && (c & 0x3F) >= 5) {
            /* A tag: bits 0-5 token, bit 6 content follows. */
            eas_tag_t tag = (eas_tag_t)(page << 8 | (c & 0x3F));
            eas_node_t *n;

            if (!(wbxml_known_tokens[page] >> (c & 0x3F) & 1)) {
                code = EAS_WBXML_E_TOKEN;
                goto fail;
            }
            if (depth + 1 > max_depth) {
                code = EAS_WBXML_E_DEPTH;
                goto fail;
            }
            if (++count > max_nodes) {
                code = EAS_WBXML_E_NODES;
                goto fail;
            }
            n = node_new(&d);
            n->tag = tag;
            n->opaque = 0;
            n->has_content = (c & WB_TAG_CONTENT) != 0;
            n->len = 0;
            n->text = "";
            n->parent = cur;
            n->first = n->next = NULL;
            /* While an element is open its own next is still unknown, so
             * it holds the element's last child until END. */
            if (cur) {
                if (cur->first)
                    cur->next->next = n;
                else
                    cur->first = n;
                cur->next = n;
            }
            else {
                doc = n;
            }
            ++s;
            if (n->has_content) {
                ++depth;
                cur = n;
            }
            else if (!cur && s < end) {
                tok = s;
                code = EAS_WBXML_E_STRUCTURE;    /* bytes after an empty root */
                goto fail;
            }
            continue;
        }

        switch (c) {
        case WB_SWITCH_PAGE:
            if (end - s < 2) {
                code = EAS_WBXML_E_TRUNCATED;
                goto fail;
            }
            if (s[1] >= EAS_CODEPAGE_COUNT) {
                code = EAS_WBXML_E_PAGE;
                goto fail;
            }
            page = s[1];
            s += 2;
            break;

        case WB_END:
            if (!cur) {
                code = EAS_WBXML_E_STRUCTURE;
                goto fail;
            }
            cur->next = NULL;
            cur = cur->parent;
            --depth;
            ++s;
            if (!cur && s < end) {
                tok = s;
                code = EAS_WBXML_E_STRUCTURE;    /* bytes after the root */
                goto fail;
            }
            break;

        case WB_STR_I: {
            const unsigned char *z;
            apr_size_t k, ok;

            if (!cur) {
                code = EAS_WBXML_E_STRUCTURE;
                goto fail;
            }
            ++s;
            z = memchr(s, 0, (apr_size_t)(end - s));
            if (!z) {
                code = EAS_WBXML_E_TRUNCATED;
                goto fail;
            }
            k = (apr_size_t)(z - s);
            if (k > max_string || cur->len + k > max_string) {
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            if ((ok = utf8_valid_prefix(s, k)) != k) {
                tok = s + ok;
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            text_add(&d, cur, s, k);
            s = z + 1;
            break;
        }

        case WB_OPAQUE:
            if (!cur) {
                code = EAS_WBXML_E_STRUCTURE;
                goto fail;
            }
            ++s;
            if ((mb = mb_read(&s, end, &v)) != MB_OK)
                goto body_mb;
            if (v > (apr_size_t)(end - s)) {
                code = EAS_WBXML_E_TRUNCATED;
                goto fail;
            }
            if (v > max_string || cur->len + v > max_string) {
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            text_add(&d, cur, s, v);
            cur->opaque = 1;
            s += v;
            break;

        case WB_ENTITY: {
            unsigned char u[4];

            if (!cur) {
                code = EAS_WBXML_E_STRUCTURE;
                goto fail;
            }
            ++s;
            if ((mb = mb_read(&s, end, &v)) != MB_OK)
                goto body_mb;
            if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            if (cur->len + 4 > max_string) {
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            text_add(&d, cur, u, utf8_put(u, v));
            break;
        }

        case WB_STR_T: {
            const unsigned char *str, *z;
            apr_size_t k;

            if (!cur) {
                code = EAS_WBXML_E_STRUCTURE;
                goto fail;
            }
            ++s;
            if ((mb = mb_read(&s, end, &v)) != MB_OK)
                goto body_mb;
            if (v >= tbl_len) {
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            str = strtbl + v;
            z = memchr(str, 0, tbl_len - v);
            if (!z) {
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            k = (apr_size_t)(z - str);
            if (k > max_string || cur->len + k > max_string
                || utf8_valid_prefix(str, k) != k) {
                code = EAS_WBXML_E_STRING;
                goto fail;
            }
            text_add(&d, cur, str, k);
            break;
        }

        default:
            /* Attributes, LITERAL*, EXT*, PI: not part of EAS. */
            code = EAS_WBXML_E_TOKEN;
            goto fail;
        }
    }

    if (!doc || cur) {
        tok = end;
        code = EAS_WBXML_E_TRUNCATED;
        goto fail;
    }
    *root = doc;
    if (err) {
        err->code = EAS_WBXML_OK;
        err->offset = 0;
    }
    return EAS_WBXML_OK;

header_mb:
    code = mb == MB_SHORT ? EAS_WBXML_E_TRUNCATED : EAS_WBXML_E_HEADER;
    goto fail;
body_mb:
    code = mb == MB_SHORT ? EAS_WBXML_E_TRUNCATED : EAS_WBXML_E_TOKEN;
fail:
    if (err) {
        err->code = code;
        err->offset = (apr_size_t)(tok - base);
    }
    return code;
}

const char *eas_wbxml_strerror(eas_wbxml_error_e code)
{
    switch (code) {
    case EAS_WBXML_OK:
        return "no error";
    case EAS_WBXML_E_TRUNCATED:
        return "input ends inside a construct";
    case EAS_WBXML_E_HEADER:
        return "unsupported WBXML version, public id or charset";
    case EAS_WBXML_E_TOKEN:
        return "unknown or unsupported token";
    case EAS_WBXML_E_PAGE:
        return "switch to a code page that does not exist";
    case EAS_WBXML_E_STRUCTURE:
        return "misplaced END or content";
    case EAS_WBXML_E_DEPTH:
        return "elements nested too deeply";
    case EAS_WBXML_E_NODES:
        return "too many elements";
    case EAS_WBXML_E_STRING:
        return "string too long or not valid UTF-8";
    case EAS_WBXML_E_EMPTY:
        return "empty body";
    }
    return "unknown error";
}

/* ---- tree access ----------------------------------------------------- */

eas_node_t *eas_node_child(const eas_node_t *n, eas_tag_t tag)
{
    eas_node_t *c;

    for (c = n ? n->first : NULL; c; c = c->next) {
        if (c->tag == tag)
            return c;
    }
    return NULL;
}

eas_node_t *eas_node_next_same(const eas_node_t *n)
{
    eas_node_t *c;

    for (c = n ? n->next : NULL; c; c = c->next) {
        if (c->tag == n->tag)
            return c;
    }
    return NULL;
}

const char *eas_node_child_text(const eas_node_t *n, eas_tag_t tag)
{
    const eas_node_t *c = eas_node_child(n, tag);

    return c ? c->text : NULL;
}

eas_node_t *eas_node_path(const eas_node_t *n, int depth, ...)
{
    va_list ap;
    int i;

    va_start(ap, depth);
    for (i = 0; i < depth && n; ++i)
        n = eas_node_child(n, (eas_tag_t)va_arg(ap, int));
    va_end(ap);
    return (eas_node_t *)n;
}

/* ---- writer ---------------------------------------------------------- */

/* Bytes collected before the flush callback gets them. */
#define WRITER_CHUNK 16384

struct eas_wbxml_writer_t {
    apr_pool_t *p;
    unsigned char *buf;
    apr_size_t len, cap;
    apr_size_t flushed;
    eas_wbxml_flush_fn *flush;
    void *baton;
    apr_status_t status;
    unsigned page;            /* code page the decoder is on */
    int pending;              /* top of stack opened, its tag not yet written */
    int done;                 /* the root element has been closed */
    int depth, stack_cap;
    eas_tag_t *stack;
};

static void w_flush(eas_wbxml_writer_t *w)
{
    apr_status_t rv;

    if (!w->len)
        return;
    rv = w->flush(w->baton, (const char *)w->buf, w->len);
    w->flushed += w->len;
    w->len = 0;
    if (rv != APR_SUCCESS && w->status == APR_SUCCESS)
        w->status = rv;
}

/* Room for n more bytes in the buffer. */
static unsigned char *w_room(eas_wbxml_writer_t *w, apr_size_t n)
{
    if (w->cap - w->len < n) {
        if (w->flush)
            w_flush(w);
        if (w->cap - w->len < n) {
            apr_size_t cap = w->cap * 2;
            unsigned char *b;
            while (cap - w->len < n)
                cap *= 2;
            b = apr_palloc(w->p, cap);
            memcpy(b, w->buf, w->len);
            w->buf = b;
            w->cap = cap;
        }
    }
    return w->buf + w->len;
}

static APR_INLINE void w_byte(eas_wbxml_writer_t *w, unsigned char c)
{
    if (w->len == w->cap)
        w_room(w, 1);
    w->buf[w->len++] = c;
}

static void w_data(eas_wbxml_writer_t *w, const void *data, apr_size_t n)
{
    if (w->flush && n >= WRITER_CHUNK / 2) {
        /* Large data goes to the callback as it is. */
        apr_status_t rv;

        w_flush(w);
        rv = w->flush(w->baton, data, n);
        if (rv != APR_SUCCESS && w->status == APR_SUCCESS)
            w->status = rv;
        w->flushed += n;
        return;
    }
    memcpy(w_room(w, n), data, n);
    w->len += n;
}

static void w_mb(eas_wbxml_writer_t *w, apr_uint32_t v)
{
    unsigned char tmp[5];
    int i = 5;

    tmp[--i] = v & 0x7F;
    while (v >>= 7)
        tmp[--i] = 0x80 | (v & 0x7F);
    w_data(w, tmp + i, (apr_size_t)(5 - i));
}

static APR_INLINE void w_tag(eas_wbxml_writer_t *w, eas_tag_t tag, int content)
{
    unsigned page = EAS_TAG_PAGE(tag);

    if (page != w->page) {
        w_byte(w, WB_SWITCH_PAGE);
        w_byte(w, (unsigned char)page);
        w->page = page;
    }
    w_byte(w, (unsigned char)((tag & 0x3F) | (content ? WB_TAG_CONTENT : 0)));
}

/* The open element gets content: its start tag can no longer be empty. */
static APR_INLINE void w_settle(eas_wbxml_writer_t *w)
{
    if (w->pending) {
        w_tag(w, w->stack[w->depth - 1], 1);
        w->pending = 0;
    }
}

static int w_misuse(eas_wbxml_writer_t *w)
{
    if (w->status == APR_SUCCESS)
        w->status = APR_EINVAL;
    return 0;
}

/* Whether an element with tag may start here. */
static APR_INLINE int w_can_start(eas_wbxml_writer_t *w, eas_tag_t tag)
{
    if (w->status != APR_SUCCESS)
        return 0;
    if (!wbxml_tag_known(tag) || (w->depth == 0 && w->done))
        return w_misuse(w);
    return 1;
}

/* STR_I with text made safe: NULs dropped, invalid UTF-8 bytes replaced. */
static void w_string(eas_wbxml_writer_t *w, const char *text, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)text;

    w_byte(w, WB_STR_I);
    while (len) {
        apr_size_t ok = utf8_valid_prefix(s, len), i = 0;

        while (i < ok) {
            const unsigned char *z = memchr(s + i, 0, ok - i);
            apr_size_t k = z ? (apr_size_t)(z - s) - i : ok - i;
            w_data(w, s + i, k);
            i += k + (z != NULL);
        }
        if (ok == len)
            break;
        w_data(w, "\xEF\xBF\xBD", 3);
        s += ok + 1;
        len -= ok + 1;
    }
    w_byte(w, 0);
}

eas_wbxml_writer_t *eas_wbxml_writer_create(apr_pool_t *p, eas_wbxml_flush_fn *flush,
                                            void *baton)
{
    eas_wbxml_writer_t *w = apr_pcalloc(p, sizeof(*w));

    w->p = p;
    w->flush = flush;
    w->baton = baton;
    w->cap = flush ? WRITER_CHUNK : 1024;
    w->buf = apr_palloc(p, w->cap);
    w->stack_cap = 16;
    w->stack = apr_palloc(p, (apr_size_t)w->stack_cap * sizeof(*w->stack));
    /* As devices send it (MS-ASWBXML 3.1): version 1.3, public id 1 (unknown),
     * UTF-8, empty string table. */
    memcpy(w->buf, "\x03\x01\x6A\x00", 4);
    w->len = 4;
    return w;
}

void eas_wbxml_start(eas_wbxml_writer_t *w, eas_tag_t tag)
{
    if (!w_can_start(w, tag))
        return;
    w_settle(w);
    if (w->depth == w->stack_cap) {
        eas_tag_t *st = apr_palloc(w->p, (apr_size_t)w->stack_cap * 2 * sizeof(*st));
        memcpy(st, w->stack, (apr_size_t)w->stack_cap * sizeof(*st));
        w->stack = st;
        w->stack_cap *= 2;
    }
    w->stack[w->depth++] = tag;
    w->pending = 1;
}

void eas_wbxml_end(eas_wbxml_writer_t *w)
{
    if (w->status != APR_SUCCESS)
        return;
    if (!w->depth) {
        w_misuse(w);
        return;
    }
    if (w->pending) {
        w_tag(w, w->stack[w->depth - 1], 0);
        w->pending = 0;
    }
    else {
        w_byte(w, WB_END);
    }
    if (--w->depth == 0)
        w->done = 1;
}

void eas_wbxml_empty(eas_wbxml_writer_t *w, eas_tag_t tag)
{
    if (!w_can_start(w, tag))
        return;
    w_settle(w);
    w_tag(w, tag, 0);
    if (w->depth == 0)
        w->done = 1;
}

void eas_wbxml_textn(eas_wbxml_writer_t *w, eas_tag_t tag, const char *text, apr_size_t len)
{
    if (!len) {
        eas_wbxml_empty(w, tag);
        return;
    }
    if (!w_can_start(w, tag))
        return;
    w_settle(w);
    w_tag(w, tag, 1);
    w_string(w, text, len);
    w_byte(w, WB_END);
    if (w->depth == 0)
        w->done = 1;
}

void eas_wbxml_text(eas_wbxml_writer_t *w, eas_tag_t tag, const char *text)
{
    eas_wbxml_textn(w, tag, text, text ? strlen(text) : 0);
}

void eas_wbxml_textf(eas_wbxml_writer_t *w, eas_tag_t tag, const char *fmt, ...)
{
    char buf[256];
    va_list ap, aq;
    apr_size_t n;

    va_start(ap, fmt);
    va_copy(aq, ap);
    n = (apr_size_t)apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < sizeof(buf) - 1) {
        eas_wbxml_textn(w, tag, buf, n);
    }
    else {
        /* Possibly truncated: format again without a bound. */
        const char *s = apr_pvsprintf(w->p, fmt, aq);
        eas_wbxml_textn(w, tag, s, strlen(s));
    }
    va_end(aq);
    va_end(ap);
}

void eas_wbxml_opaque(eas_wbxml_writer_t *w, eas_tag_t tag, const void *data, apr_size_t len)
{
    if (!len) {
        eas_wbxml_empty(w, tag);
        return;
    }
    if (!w_can_start(w, tag))
        return;
    if (len > 0xFFFFFFFFu) {
        w_misuse(w);
        return;
    }
    w_settle(w);
    w_tag(w, tag, 1);
    w_byte(w, WB_OPAQUE);
    w_mb(w, (apr_uint32_t)len);
    w_data(w, data, len);
    w_byte(w, WB_END);
    if (w->depth == 0)
        w->done = 1;
}

void eas_wbxml_content(eas_wbxml_writer_t *w, const char *text, apr_size_t len)
{
    if (w->status != APR_SUCCESS || !len)
        return;
    if (!w->depth) {
        w_misuse(w);
        return;
    }
    w_settle(w);
    w_string(w, text, len);
}

void eas_wbxml_content_opaque(eas_wbxml_writer_t *w, const void *data, apr_size_t len)
{
    if (w->status != APR_SUCCESS || !len)
        return;
    if (!w->depth || len > 0xFFFFFFFFu) {
        w_misuse(w);
        return;
    }
    w_settle(w);
    w_byte(w, WB_OPAQUE);
    w_mb(w, (apr_uint32_t)len);
    w_data(w, data, len);
}

void eas_wbxml_node(eas_wbxml_writer_t *w, const eas_node_t *n)
{
    const eas_node_t *c = n;

    if (!n)
        return;
    for (;;) {
        eas_wbxml_start(w, c->tag);
        if (c->len) {
            if (c->opaque)
                eas_wbxml_content_opaque(w, c->text, c->len);
            else
                eas_wbxml_content(w, c->text, c->len);
        }
        if (c->first) {
            c = c->first;
            continue;
        }
        for (;;) {
            eas_wbxml_end(w);
            if (c == n)
                return;
            if (c->next) {
                c = c->next;
                break;
            }
            c = c->parent;
        }
    }
}

int eas_wbxml_depth(const eas_wbxml_writer_t *w)
{
    return w->depth;
}

apr_status_t eas_wbxml_flush(eas_wbxml_writer_t *w)
{
    if (w->flush)
        w_flush(w);
    return w->status;
}

apr_status_t eas_wbxml_finish(eas_wbxml_writer_t *w, const char **data, apr_size_t *len)
{
    while (w->depth && w->status == APR_SUCCESS)
        eas_wbxml_end(w);
    if (w->flush)
        w_flush(w);
    *data = (const char *)w->buf;
    *len = w->len;
    return w->status;
}

apr_size_t eas_wbxml_size(const eas_wbxml_writer_t *w)
{
    return w->flushed + w->len;
}

apr_status_t eas_wbxml_status(const eas_wbxml_writer_t *w)
{
    return w->status;
}
