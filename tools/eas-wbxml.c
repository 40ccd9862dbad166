/*
 * eas-wbxml: converts Exchange ActiveSync requests and responses between
 * XML and WBXML (MS-ASWBXML) with libeas's codec, so tests and
 * administrators can read and write them.  docs/eas-wbxml.md describes
 * the XML form.
 */
#include "config.h"
#include "eas_wbxml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

static const char *prog = "eas-wbxml";
static const char *input_name;

static void usage(FILE *f)
{
    fprintf(f,
"Usage: %s encode [FILE]    XML -> WBXML on stdout\n"
"       %s decode [FILE]    WBXML -> indented XML on stdout\n"
"       %s --help | --version\n"
"Reads stdin when FILE is absent or '-'.  Exits 1 on bad input, 2 on bad usage.\n"
"\n"
"XML: every element is in the namespace of its code page (\"AirSync:\",\n"
"\"FolderHierarchy:\", \"Email:\", ... with or without the trailing ':'), as a\n"
"default xmlns or a prefix; a DOCTYPE is optional and ignored.  Element names\n"
"are MS-ASWBXML's.  Whitespace-only text in an element that has child elements\n"
"is layout and is dropped; all other text is kept exactly.\n"
"WBXML: version 1.3, public id 1, UTF-8, no string table, as devices send.\n"
"\n"
"Opaque data.  Elements EAS types as byte arrays (ComposeMail:Mime,\n"
"AirSyncBase:Content, Email2:ConversationId, Email2:ConversationIndex,\n"
"Search:ConversationId, ItemOperations:ConversationId, GAL:Data,\n"
"ResolveRecipients:Data) hold base64 in XML and are written as OPAQUE.  All\n"
"other elements hold plain text and are written as inline strings (Calendar\n"
"Timezone, for one, is a base64 string in EAS itself and stays as it is).\n"
"An attribute wbxml=\"...\" on an element overrides that:\n"
"  wbxml=\"opaque\"         text is base64, written as OPAQUE\n"
"  wbxml=\"string\"         text is plain, written as an inline string\n"
"  wbxml=\"string-base64\"  text is base64 of an inline string (for strings\n"
"                         with characters XML cannot carry)\n"
"decode adds the attribute only where the default would not reproduce the\n"
"input, so decode then encode gives back the same elements and content.\n"
"More in docs/eas-wbxml.md.\n",
            prog, prog, prog);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: %s: ", prog, input_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static char *read_all(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    apr_size_t cap = 65536, n = 0;
    char *buf;

    if (!f)
        die("%s", strerror(errno));
    buf = apr_palloc(p, cap + 1);
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            if (ferror(f))
                die("read error: %s", strerror(errno));
            break;
        }
        {
            char *b = apr_palloc(p, cap * 2 + 1);
            memcpy(b, buf, n);
            buf = b;
            cap *= 2;
        }
    }
    if (f != stdin)
        fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- base64 ---------------------------------------------------------- */

/* Base64 (RFC 4648 4) with or without padding, whitespace ignored; -1 on
 * any other character or a length no encoder produces. */
static long b64_decode(const char *s, apr_size_t n, unsigned char *out)
{
    unsigned acc = 0, bits = 0;
    long o = 0;
    apr_size_t i, digits = 0, pad = 0;

    for (i = 0; i < n; ++i) {
        int c = (unsigned char)s[i], v;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == '=') {
            ++pad;
            continue;
        }
        if (pad)
            return -1;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            return -1;
        ++digits;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (digits % 4 == 1 || pad > 2 || (pad && (digits + pad) % 4))
        return -1;
    return o;
}

/* ---- encode ---------------------------------------------------------- */

typedef enum { FORM_DEFAULT, FORM_OPAQUE, FORM_STRING, FORM_STRING_B64 } form_e;

static int is_blank(const xmlChar *s)
{
    for (; *s; ++s) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    }
    return 1;
}

static void put_text(apr_pool_t *p, eas_wbxml_writer_t *w, xmlNodePtr el, form_e form,
                     const char *text, apr_size_t len)
{
    unsigned char *bytes;
    long n;

    if (form == FORM_STRING) {
        eas_wbxml_content(w, text, len);
        return;
    }
    bytes = apr_palloc(p, len / 4 * 3 + 3);
    if ((n = b64_decode(text, len, bytes)) < 0)
        die("line %ld: <%s> needs base64 content", xmlGetLineNo(el), (const char *)el->name);
    if (form == FORM_OPAQUE)
        eas_wbxml_content_opaque(w, bytes, (apr_size_t)n);
    else
        eas_wbxml_content(w, (const char *)bytes, (apr_size_t)n);
}

static void encode_element(apr_pool_t *p, eas_wbxml_writer_t *w, xmlNodePtr el)
{
    const char *ns = el->ns ? (const char *)el->ns->href : NULL;
    int page = ns ? eas_wbxml_page_by_ns(ns, strlen(ns)) : -1;
    const char *name = (const char *)el->name;
    form_e form = FORM_DEFAULT;
    eas_tag_t tag;
    xmlAttrPtr a;
    xmlNodePtr c;
    int elements = 0;

    if (page < 0)
        die("line %ld: <%s> is not in an EAS namespace (%s)", xmlGetLineNo(el), name,
            ns ? ns : "none");
    tag = eas_wbxml_tag_by_name((unsigned)page, name, strlen(name));
    if (tag == EAS_TAG_NONE)
        die("line %ld: %s has no element %s", xmlGetLineNo(el), eas_wbxml_page_ns((unsigned)page),
            name);
    for (a = el->properties; a; a = a->next) {
        xmlChar *v = xmlNodeListGetString(el->doc, a->children, 1);
        const char *vs = (const char *)v;
        if (a->ns || strcmp((const char *)a->name, "wbxml") != 0)
            die("line %ld: <%s> has an attribute %s; EAS elements have none (except wbxml=)",
                xmlGetLineNo(el), name, (const char *)a->name);
        if (strcmp(vs, "opaque") == 0)
            form = FORM_OPAQUE;
        else if (strcmp(vs, "string") == 0)
            form = FORM_STRING;
        else if (strcmp(vs, "string-base64") == 0)
            form = FORM_STRING_B64;
        else
            die("line %ld: wbxml=\"%s\": use opaque, string or string-base64",
                xmlGetLineNo(el), vs);
        xmlFree(v);
    }
    if (form == FORM_DEFAULT)
        form = eas_wbxml_tag_opaque(tag) ? FORM_OPAQUE : FORM_STRING;

    for (c = el->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            elements = 1;
        else if (c->type == XML_ENTITY_REF_NODE)
            die("line %ld: entity &%s; is not supported", xmlGetLineNo(el),
                (const char *)c->name);
    }
    eas_wbxml_start(w, tag);
    if (elements) {
        for (c = el->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE)
                encode_element(p, w, c);
            else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
                     && !is_blank(c->content))
                put_text(p, w, el, form, (const char *)c->content,
                         strlen((const char *)c->content));
        }
    }
    else {
        xmlChar *t = xmlNodeGetContent(el);
        apr_size_t n = strlen((const char *)t);
        if (n)
            put_text(p, w, el, form, (const char *)t, n);
        xmlFree(t);
    }
    eas_wbxml_end(w);
}

static int encode(apr_pool_t *p, const char *buf, apr_size_t len)
{
    xmlDocPtr doc = xmlReadMemory(buf, (int)len, input_name, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    eas_wbxml_writer_t *w;
    xmlNodePtr root;
    const char *out;
    apr_size_t out_len;

    if (len > 0x7FFFFFFF)
        die("input too large");
    if (!doc)
        die("not well-formed XML");
    root = xmlDocGetRootElement(doc);
    if (!root)
        die("no root element");
    /* Buffered, so that bad input leaves no partial document on stdout. */
    w = eas_wbxml_writer_create(p, NULL, NULL);
    encode_element(p, w, root);
    if (eas_wbxml_finish(w, &out, &out_len) != APR_SUCCESS)
        die("cannot encode the document");
    if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0)
        die("cannot write the output: %s", strerror(errno));
    xmlFreeDoc(doc);
    return 0;
}

/* ---- decode ---------------------------------------------------------- */

/* Whether XML 1.0 can carry the text (2.2 Char): no C0 controls other than
 * TAB, LF and CR, no U+FFFE or U+FFFF.  The decoder already checked UTF-8. */
static int xml_safe(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        if (u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r')
            return 0;
        if (u[i] == 0xEF && i + 2 < n && u[i + 1] == 0xBF && (u[i + 2] & 0xFE) == 0xBE)
            return 0;
    }
    return 1;
}

static void put_escaped(const char *s, apr_size_t n)
{
    apr_size_t i, from = 0;

    for (i = 0; i < n; ++i) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '\r': rep = "&#13;"; break;   /* XML parsers would turn CRLF into LF */
        default: continue;
        }
        fwrite(s + from, 1, i - from, stdout);
        fputs(rep, stdout);
        from = i + 1;
    }
    fwrite(s + from, 1, n - from, stdout);
}

static void indent(int depth)
{
    int i;

    for (i = 0; i < depth; ++i)
        fputs("  ", stdout);
}

static void put_base64(apr_pool_t *p, const char *s, apr_size_t n, int depth, int compact)
{
    char *b = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));
    int len = apr_base64_encode(b, s, (int)n) - 1, i;

    if (compact || len <= 76) {
        fputs(b, stdout);
        return;
    }
    /* Long data on lines of its own: base64 ignores the layout. */
    for (i = 0; i < len; i += 76) {
        fputc('\n', stdout);
        indent(depth + 1);
        fwrite(b + i, 1, (apr_size_t)(len - i < 76 ? len - i : 76), stdout);
    }
    fputc('\n', stdout);
    indent(depth);
}

static unsigned root_page;

static void put_name(eas_tag_t tag)
{
    unsigned page = EAS_TAG_PAGE(tag);

    if (page != root_page) {
        const char *ns = eas_wbxml_page_ns(page);
        for (; *ns; ++ns)
            fputc(apr_tolower(*ns), stdout);
        fputc(':', stdout);
    }
    fputs(eas_wbxml_tag_name(tag), stdout);
}

static void pages_used(const eas_node_t *n, int *used)
{
    for (; n; n = n->next) {
        used[EAS_TAG_PAGE(n->tag)] = 1;
        pages_used(n->first, used);
    }
}

/* compact: inside an element whose text sits next to child elements, where
 * added layout would become part of the text. */
static void decode_element(apr_pool_t *p, const eas_node_t *n, int depth, int compact)
{
    const eas_node_t *c;
    form_e form = FORM_DEFAULT;
    int def_opaque = eas_wbxml_tag_opaque(n->tag), tight;

    if (!compact)
        indent(depth);
    fputc('<', stdout);
    put_name(n->tag);
    if (depth == 0) {
        int used[EAS_CODEPAGE_COUNT] = {0};
        unsigned pg;
        /* Every page used in the document gets its prefix on the root. */
        pages_used(n, used);
        printf(" xmlns=\"%s:\"", eas_wbxml_page_ns(root_page));
        for (pg = 0; pg < EAS_CODEPAGE_COUNT; ++pg) {
            if (used[pg] && pg != root_page) {
                const char *ns = eas_wbxml_page_ns(pg), *s;
                fputs(" xmlns:", stdout);
                for (s = ns; *s; ++s)
                    fputc(apr_tolower(*s), stdout);
                printf("=\"%s:\"", ns);
            }
        }
    }
    if (n->len) {
        if (n->opaque)
            form = def_opaque ? FORM_DEFAULT : FORM_OPAQUE;
        else if (!xml_safe(n->text, n->len))
            form = FORM_STRING_B64;
        else
            form = def_opaque ? FORM_STRING : FORM_DEFAULT;
        if (form != FORM_DEFAULT)
            printf(" wbxml=\"%s\"", form == FORM_OPAQUE ? "opaque"
                                    : form == FORM_STRING ? "string" : "string-base64");
    }
    if (!n->len && !n->first) {
        fputs(compact ? "/>" : "/>\n", stdout);
        return;
    }
    fputc('>', stdout);
    tight = compact || (n->len && n->first);
    if (n->len) {
        if (n->opaque || form == FORM_STRING_B64)
            put_base64(p, n->text, n->len, depth, tight);
        else
            put_escaped(n->text, n->len);
    }
    if (n->first) {
        if (!tight)
            fputc('\n', stdout);
        for (c = n->first; c; c = c->next)
            decode_element(p, c, depth + 1, tight);
        if (!tight)
            indent(depth);
    }
    fputs("</", stdout);
    put_name(n->tag);
    fputs(compact ? ">" : ">\n", stdout);
}

static int decode(apr_pool_t *p, const char *buf, apr_size_t len)
{
    eas_node_t *root;
    eas_wbxml_error_t err;

    if (eas_wbxml_decode(p, buf, len, NULL, &root, &err) != EAS_WBXML_OK)
        die("offset %lu: %s", (unsigned long)err.offset, eas_wbxml_strerror(err.code));
    root_page = EAS_TAG_PAGE(root->tag);
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", stdout);
    decode_element(p, root, 0, 0);
    if (fflush(stdout) != 0 || ferror(stdout))
        die("cannot write the output: %s", strerror(errno));
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    const char *buf;
    apr_size_t len;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
        return 0;
    }
    if (argc < 2 || argc > 3
        || (strcmp(argv[1], "encode") != 0 && strcmp(argv[1], "decode") != 0)) {
        usage(stderr);
        return 2;
    }
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    LIBXML_TEST_VERSION;
    input_name = argc == 3 ? argv[2] : "-";
    buf = read_all(p, input_name, &len);
    if (strcmp(input_name, "-") == 0)
        input_name = "stdin";
    rc = argv[1][0] == 'e' ? encode(p, buf, len) : decode(p, buf, len);
    xmlCleanupParser();
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
