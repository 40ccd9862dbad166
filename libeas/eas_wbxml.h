/*
 * WBXML 1.3 as Exchange ActiveSync uses it (MS-ASWBXML).
 *
 * A tag is a code page and a token packed into 16 bits; every tag of every
 * EAS code page (0..25, EAS 16.1) has a constant EAS_<Page>_<Name> from
 * eas_codepages.def, spelled as MS-ASWBXML spells it (EAS_AirSync_SyncKey,
 * EAS_FolderHierarchy_ServerId, EAS_Email2_ConversationId, ...).
 *
 * The decoder builds a compact tree in an APR pool in one pass and never
 * reads outside the input; limits bound depth, element count and size.
 * The writer emits WBXML into a growing buffer and can hand full chunks to
 * a flush callback so a large response streams while it is built.
 */
#ifndef EAS_WBXML_H
#define EAS_WBXML_H

#include <stdint.h>
#include <apr_pools.h>

typedef uint16_t eas_tag_t;

#define EAS_TAG(page, token) ((eas_tag_t)(((page) << 8) | (token)))
#define EAS_TAG_PAGE(tag) ((unsigned)(tag) >> 8)
#define EAS_TAG_TOKEN(tag) ((unsigned)(tag) & 0x3f)

enum {
#define EAS_PAGE(num, id, ns)
#define EAS_TOKEN(page, id, token, name) EAS_##id##_##name = EAS_TAG(page, token),
#include "eas_codepages.def"
#undef EAS_PAGE
#undef EAS_TOKEN
    EAS_TAG_NONE = 0
};

#define EAS_CODEPAGE_COUNT 26

/* Namespace of a code page ("AirSync", "FolderHierarchy", ...), NULL if unknown. */
const char *eas_wbxml_page_ns(unsigned page);
/* Page number for a namespace (with or without the trailing ':'), -1 if unknown. */
int eas_wbxml_page_by_ns(const char *ns, apr_size_t len);
/* MS-ASWBXML name of a tag, NULL if the page has no such token. */
const char *eas_wbxml_tag_name(eas_tag_t tag);
/* Tag for (page, name); also accepts the documented alternative spellings
 * (Find GALSearchCriterion, ComposeMail ForwardeeName/ForwardeeEmail).
 * EAS_TAG_NONE if the page has no such name. */
eas_tag_t eas_wbxml_tag_by_name(unsigned page, const char *name, apr_size_t len);
/* Non-zero when EAS types the element as a byte array, which MS-ASDTYPE
 * 2.7.1 says is sent as OPAQUE (ComposeMail:Mime, AirSyncBase:Content,
 * the ConversationId/ConversationIndex elements, GAL:Data,
 * ResolveRecipients:Data). */
int eas_wbxml_tag_opaque(eas_tag_t tag);

/* ---- tree ------------------------------------------------------------ */

typedef struct eas_node_t eas_node_t;
struct eas_node_t {
    eas_tag_t tag;
    unsigned char opaque;    /* content came as OPAQUE (or is to be written as such) */
    unsigned char has_content; /* element was not encoded as empty */
    apr_size_t len;          /* bytes in text */
    const char *text;        /* content, NUL-terminated; "" when none */
    eas_node_t *parent;
    eas_node_t *first;       /* first child element */
    eas_node_t *next;        /* next sibling */
};

/* First child with tag, or NULL.  n may be NULL. */
eas_node_t *eas_node_child(const eas_node_t *n, eas_tag_t tag);
/* Next sibling after n with the same tag, or NULL. */
eas_node_t *eas_node_next_same(const eas_node_t *n);
/* Text of the first child with tag, or NULL if there is no such child. */
const char *eas_node_child_text(const eas_node_t *n, eas_tag_t tag);
/* Walks a path of tags from n: eas_node_path(root, 3, EAS_AirSync_Collections, ...). */
eas_node_t *eas_node_path(const eas_node_t *n, int depth, ...);

typedef struct eas_wbxml_limits_t {
    apr_size_t max_depth;    /* nesting of elements (default 32) */
    apr_size_t max_nodes;    /* elements in one document (default 200000) */
    apr_size_t max_string;   /* bytes of one inline string or opaque (default 0: input size) */
} eas_wbxml_limits_t;

extern const eas_wbxml_limits_t eas_wbxml_default_limits;

typedef enum {
    EAS_WBXML_OK = 0,
    EAS_WBXML_E_TRUNCATED,    /* input ends inside a construct */
    EAS_WBXML_E_HEADER,       /* version / public id / charset not acceptable */
    EAS_WBXML_E_TOKEN,        /* unknown global token or unknown tag on a page */
    EAS_WBXML_E_PAGE,         /* SWITCH_PAGE to a page that does not exist */
    EAS_WBXML_E_STRUCTURE,    /* END without element, content outside root, ... */
    EAS_WBXML_E_DEPTH,        /* limit exceeded */
    EAS_WBXML_E_NODES,        /* limit exceeded */
    EAS_WBXML_E_STRING,       /* limit exceeded or invalid string */
    EAS_WBXML_E_EMPTY         /* no body at all */
} eas_wbxml_error_e;

typedef struct eas_wbxml_error_t {
    eas_wbxml_error_e code;
    apr_size_t offset;        /* byte position in the input where it went wrong */
} eas_wbxml_error_t;

/* Decodes buf; on success *root is the document element and the tree lives
 * in p (all text is copied, buf may go away).  limits NULL means
 * eas_wbxml_default_limits.
 *
 * Accepted: WBXML 1.1-1.3 headers with public id 1 (unknown, as devices
 * send) or a string-table public id (as libwbxml writes), charset UTF-8 (or
 * 0, unknown), a string table (for STR_T); tags defined on their page,
 * SWITCH_PAGE, END, STR_I, STR_T, ENTITY, OPAQUE.  Text must be UTF-8.
 * Rejected: attributes, LITERAL*, EXT*, PI, content outside the root,
 * anything after the root.  Consecutive text pieces of one element are
 * joined; the element is marked opaque if any piece was OPAQUE.
 *
 * On failure *root is NULL and err (if not NULL) holds the code and the
 * offset of the token that failed: for invalid UTF-8 the offending byte,
 * for an input that ends inside a token the start of that token, and the
 * input length when elements are still open at the end. */
eas_wbxml_error_e eas_wbxml_decode(apr_pool_t *p, const void *buf, apr_size_t len,
                                   const eas_wbxml_limits_t *limits,
                                   eas_node_t **root, eas_wbxml_error_t *err);

const char *eas_wbxml_strerror(eas_wbxml_error_e code);

/* ---- writer ---------------------------------------------------------- */

typedef struct eas_wbxml_writer_t eas_wbxml_writer_t;

/* Receives complete bytes of the document; return non-zero to abort. */
typedef apr_status_t eas_wbxml_flush_fn(void *baton, const char *data, apr_size_t len);

/* The header (version 1.3, public id 1, UTF-8, no string table) is written
 * at creation.  With flush == NULL everything stays in the buffer; with a
 * callback, full chunks (and large text or opaque data, uncopied) are handed
 * to it as they are produced.
 *
 * Text is written as inline strings: NUL bytes are dropped and invalid
 * UTF-8 bytes become U+FFFD, so the document stays well-formed whatever a
 * backend returned.  Misuse (an unknown tag, END or content with no open
 * element, a second root) writes nothing and makes eas_wbxml_status()
 * return APR_EINVAL. */
eas_wbxml_writer_t *eas_wbxml_writer_create(apr_pool_t *p, eas_wbxml_flush_fn *flush,
                                            void *baton);
/* Opens an element; if it is closed with nothing inside, it is written as empty. */
void eas_wbxml_start(eas_wbxml_writer_t *w, eas_tag_t tag);
void eas_wbxml_end(eas_wbxml_writer_t *w);
/* <tag/> */
void eas_wbxml_empty(eas_wbxml_writer_t *w, eas_tag_t tag);
/* <tag>text</tag>; text must be UTF-8 without NUL. */
void eas_wbxml_text(eas_wbxml_writer_t *w, eas_tag_t tag, const char *text);
void eas_wbxml_textn(eas_wbxml_writer_t *w, eas_tag_t tag, const char *text, apr_size_t len);
void eas_wbxml_textf(eas_wbxml_writer_t *w, eas_tag_t tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* <tag>OPAQUE</tag> */
void eas_wbxml_opaque(eas_wbxml_writer_t *w, eas_tag_t tag, const void *data, apr_size_t len);
/* Content without its own element, into the currently open one. */
void eas_wbxml_content(eas_wbxml_writer_t *w, const char *text, apr_size_t len);
void eas_wbxml_content_opaque(eas_wbxml_writer_t *w, const void *data, apr_size_t len);
/* Writes a decoded subtree back out unchanged (used to echo client data). */
void eas_wbxml_node(eas_wbxml_writer_t *w, const eas_node_t *n);
/* Current nesting depth (0 when the document is complete). */
int eas_wbxml_depth(const eas_wbxml_writer_t *w);
/* Hands buffered bytes to the flush callback now (no-op without one). */
apr_status_t eas_wbxml_flush(eas_wbxml_writer_t *w);
/* Closes open elements; returns the buffered document (all of it when
 * there is no flush callback; with one, everything has been handed to it
 * and *len is 0).  Returns eas_wbxml_status(). */
apr_status_t eas_wbxml_finish(eas_wbxml_writer_t *w, const char **data, apr_size_t *len);
/* Bytes produced so far, flushed or not. */
apr_size_t eas_wbxml_size(const eas_wbxml_writer_t *w);
/* First error (from the flush callback, or APR_EINVAL on misuse), sticky;
 * after one, further calls write nothing. */
apr_status_t eas_wbxml_status(const eas_wbxml_writer_t *w);

#endif
