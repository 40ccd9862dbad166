/*
 * Test helper for t/02-wbxml-crosscheck.t: reduces an EAS document, WBXML
 * or XML, to a canonical stream of code page and token numbers and content
 * bytes, so libeas and libwbxml2 can be compared without caring how either
 * spells a tag.  Also rewrites XML into libwbxml2's spelling for xml2wbxml.
 *
 *   wbxml-canon wbxml FILE                  decoded by libeas
 *   wbxml-canon xml [--libwbxml] [--mask] FILE
 *   wbxml-canon to-libwbxml FILE            XML for xml2wbxml, on stdout
 *   wbxml-canon lacks FILE                  tags the document uses that
 *                                           libwbxml2 lacks, one a line
 *
 * Canonical form, one item a line: "+PP.TT" opens an element (page and
 * token in hex), "=HEX" is the element's content (all its text joined,
 * before its children, as libeas's tree keeps it), "-" closes.
 *
 * --mask writes "+?" for a tag libwbxml2 lacks and for everything inside
 * it; --libwbxml does the same for libwbxml2's <unknown> elements.  Inside
 * those, wbxml2xml's namespaces are wrong (it keeps whichever namespace it
 * last knew), so only structure and content can be compared there.
 */
#include "eas_wbxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* Where libwbxml2 0.11.8 (ActiveSync language) differs from MS-ASWBXML,
 * from ../shared/notes/wbxml-code-pages.md: its name for the token, or NULL
 * when it lacks the token.  Page 16 is "Gal:" there. */
static const struct {
    unsigned page, token;
    const char *name;
} libwbxml_names[] = {
    {1, 0x07, "AssistantTelephoneNumber"},
    {1, 0x0D, "BusinessCity"},
    {1, 0x0E, "BusinessCountry"},
    {1, 0x0F, "BusinessPostalCode"},
    {1, 0x10, "BusinessState"},
    {1, 0x11, "BusinessStreet"},
    {1, 0x21, "HomeCity"},
    {1, 0x22, "HomeCountry"},
    {1, 0x23, "HomePostalCode"},
    {1, 0x24, "HomeState"},
    {1, 0x25, "HomeStreet"},
    {1, 0x2D, "OtherCity"},
    {1, 0x2E, "OtherCountry"},
    {1, 0x2F, "OtherPostalCode"},
    {1, 0x30, "OtherState"},
    {1, 0x31, "OtherStreet"},
    {2, 0x09, "AttOId"},
    {2, 0x19, "Reply-To"},
    {2, 0x1D, "DTStamp"},
    {2, 0x29, "Recurrence_Type"},
    {2, 0x2A, "Recurrence_Until"},
    {2, 0x2B, "Recurrence_Occurrences"},
    {2, 0x2C, "Recurrence_Interval"},
    {2, 0x2D, "Recurrence_DayOfWeek"},
    {2, 0x2E, "Recurrence_DayOfMonth"},
    {2, 0x2F, "Recurrence_WeekOfMonth"},
    {2, 0x30, "Recurrence_MonthOfYear"},
    {2, 0x3B, "FlagStatus"},
    {4, 0x05, "TimeZone"},
    {4, 0x09, "Attendee_Email"},
    {4, 0x0A, "Attendee_Name"},
    {4, 0x11, "DTStamp"},
    {4, 0x15, "Exception_Deleted"},
    {4, 0x16, "Exception_StartTime"},
    {4, 0x19, "Organizer_Email"},
    {4, 0x1A, "Organizer_Name"},
    {4, 0x1C, "Recurrence_Type"},
    {4, 0x1D, "Recurrence_Until"},
    {4, 0x1E, "Recurrence_Occurrences"},
    {4, 0x1F, "Recurrence_Interval"},
    {4, 0x20, "Recurrence_DayOfWeek"},
    {4, 0x21, "Recurrence_DayOfMonth"},
    {4, 0x22, "Recurrence_WeekOfMonth"},
    {4, 0x23, "Recurrence_MonthOfYear"},
    {4, 0x29, "Attendee_Status"},
    {4, 0x2A, "Attendee_Type"},
    {8, 0x10, NULL},
    {8, 0x11, NULL},
    {9, 0x0D, "UTCDueDate"},
    {9, 0x10, "Recurrence_Type"},
    {9, 0x11, "Recurrence_Start"},
    {9, 0x12, "Recurrence_Until"},
    {9, 0x13, "Recurrence_Occurrences"},
    {9, 0x14, "Recurrence_Interval"},
    {9, 0x15, "Recurrence_DayOfMonth"},
    {9, 0x16, "Recurrence_DayOfWeek"},
    {9, 0x17, "Recurrence_WeekOfMonth"},
    {9, 0x18, "Recurrence_MonthOfYear"},
    {9, 0x19, "Recurrence_Regenerate"},
    {9, 0x1A, "Recurrence_DeadOccur"},
    {9, 0x1F, "UTCStartDate"},
    {14, 0x3B, NULL},
    {18, 0x1F, "SmtpAddress"},
    {18, 0x2B, "ihsManagementInformation"},
    {21, 0x10, "MIME"},
    {21, 0x17, "ForwardeeName"},
    {21, 0x18, "ForwardeeEmail"},
    {24, 0x12, "RMOwner"},
    {24, 0x18, "RemoveRightsManagementDistribution"},
    {25, 0x05, NULL},
    {25, 0x06, NULL},
    {25, 0x07, NULL},
    {25, 0x08, NULL},
    {25, 0x09, NULL},
    {25, 0x0A, NULL},
    {25, 0x0B, NULL},
    {25, 0x0C, NULL},
    {25, 0x0D, NULL},
    {25, 0x0E, NULL},
    {25, 0x11, NULL},
    {25, 0x12, NULL},
    {25, 0x13, NULL},
    {25, 0x14, NULL},
    {25, 0x15, NULL},
    {25, 0x16, NULL},
    {25, 0x17, NULL},
    {25, 0x18, NULL},
    {25, 0x19, NULL},
    {25, 0x20, NULL},
    {25, 0x21, NULL},
    {25, 0x22, NULL},
};

/* libwbxml2 has two names for Provision 0x10 and prints the first. */
static const char libwbxml_provision_10[] = "DeviceEncryptionEnabled";

static apr_pool_t *pool;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "wbxml-canon: %s: %s\n", what, detail);
    exit(1);
}

static int lacks(eas_tag_t tag)
{
    size_t i;

    for (i = 0; i < sizeof(libwbxml_names) / sizeof(libwbxml_names[0]); ++i) {
        if (EAS_TAG(libwbxml_names[i].page, libwbxml_names[i].token) == tag)
            return libwbxml_names[i].name == NULL;
    }
    return 0;
}

static const char *libwbxml_name(eas_tag_t tag)
{
    size_t i;

    for (i = 0; i < sizeof(libwbxml_names) / sizeof(libwbxml_names[0]); ++i) {
        if (EAS_TAG(libwbxml_names[i].page, libwbxml_names[i].token) == tag)
            return libwbxml_names[i].name;
    }
    return eas_wbxml_tag_name(tag);
}

static const char *libwbxml_ns(unsigned page)
{
    return page == 16 ? "Gal" : eas_wbxml_page_ns(page);
}

static void put_hex(const unsigned char *s, size_t n)
{
    size_t i;

    if (!n)
        return;
    putchar('=');
    for (i = 0; i < n; ++i)
        printf("%02X", s[i]);
    putchar('\n');
}

static void put_open(eas_tag_t tag, int mask)
{
    if (mask)
        puts("+?");
    else
        printf("+%02X.%02X\n", EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, n = 0, r;
    char *buf;

    if (!f)
        die(path, "cannot open");
    buf = malloc(cap);
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ---- WBXML ----------------------------------------------------------- */

static void canon_node(const eas_node_t *n, int mask, int masked)
{
    for (; n; n = n->next) {
        int m = masked || (mask && lacks(n->tag));
        put_open(n->tag, m);
        put_hex((const unsigned char *)n->text, n->len);
        canon_node(n->first, mask, m);
        puts("-");
    }
}

static int canon_wbxml(const char *path, int mask)
{
    size_t len;
    char *buf = slurp(path, &len);
    eas_node_t *root;
    eas_wbxml_error_t err;

    if (eas_wbxml_decode(pool, buf, len, NULL, &root, &err) != EAS_WBXML_OK) {
        fprintf(stderr, "wbxml-canon: %s: offset %lu: %s\n", path, (unsigned long)err.offset,
                eas_wbxml_strerror(err.code));
        return 1;
    }
    canon_node(root, mask, 0);
    free(buf);
    return 0;
}

/* ---- XML ------------------------------------------------------------- */

typedef struct {
    int libwbxml;             /* names, namespaces and <unknown> of libwbxml2 */
    int mask;
} xml_opts_t;

/* The tag of an element; EAS_TAG_NONE for libwbxml2's <unknown>. */
static eas_tag_t element_tag(const xml_opts_t *o, xmlNodePtr el)
{
    const char *ns = el->ns ? (const char *)el->ns->href : "";
    const char *name = (const char *)el->name;
    int page;
    size_t i;
    eas_tag_t tag;

    if (o->libwbxml && strcmp(name, "unknown") == 0)
        return EAS_TAG_NONE;
    page = eas_wbxml_page_by_ns(ns, strlen(ns));
    if (o->libwbxml && (strcmp(ns, "Gal:") == 0 || strcmp(ns, "Gal") == 0))
        page = 16;
    if (page < 0)
        die(name, apr_psprintf(pool, "unknown namespace '%s'", ns));
    if (o->libwbxml) {
        for (i = 0; i < sizeof(libwbxml_names) / sizeof(libwbxml_names[0]); ++i) {
            if (libwbxml_names[i].page == (unsigned)page && libwbxml_names[i].name
                && strcmp(libwbxml_names[i].name, name) == 0)
                return EAS_TAG(page, libwbxml_names[i].token);
        }
        if (page == 14 && strcmp(name, libwbxml_provision_10) == 0)
            return EAS_Provision_RequireStorageCardEncryption;
    }
    tag = eas_wbxml_tag_by_name((unsigned)page, name, strlen(name));
    if (tag == EAS_TAG_NONE)
        die(name, apr_psprintf(pool, "no such element on %s", eas_wbxml_page_ns(page)));
    return tag;
}

static int is_blank(const xmlChar *s)
{
    for (; *s; ++s) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    }
    return 1;
}

/* The element's content as eas-wbxml encodes it: all text when there are
 * no child elements, else the text that is not layout. */
static char *gather_text(xmlNodePtr el)
{
    xmlNodePtr c;
    int elements = 0;
    char *t = "";

    for (c = el->children; c; c = c->next)
        elements |= c->type == XML_ELEMENT_NODE;
    for (c = el->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            && !(elements && is_blank(c->content)))
            t = apr_pstrcat(pool, t, (const char *)c->content, NULL);
    }
    return t;
}

static int opaque_form(const xml_opts_t *o, xmlNodePtr el, eas_tag_t tag, int *b64)
{
    xmlChar *f = o->libwbxml ? NULL : xmlGetProp(el, (const xmlChar *)"wbxml");
    int opaque = tag != EAS_TAG_NONE && eas_wbxml_tag_opaque(tag);

    *b64 = opaque;
    if (f) {
        *b64 = strcmp((const char *)f, "string") != 0;
        xmlFree(f);
    }
    return *b64;
}

static void canon_element(const xml_opts_t *o, xmlNodePtr el, int masked)
{
    eas_tag_t tag = masked && o->libwbxml ? EAS_TAG_NONE : element_tag(o, el);
    char *text = gather_text(el);
    size_t n = strlen(text);
    xmlNodePtr c;
    int b64;

    masked = masked || tag == EAS_TAG_NONE || (o->mask && lacks(tag));
    put_open(tag, masked);
    if (opaque_form(o, el, tag, &b64) && n) {
        unsigned char *bytes = apr_palloc(pool, n);
        char *packed = apr_palloc(pool, n + 1), *q = packed;
        const char *s;
        int k;
        /* eas-wbxml breaks long base64 into lines. */
        for (s = text; *s; ++s) {
            if (!strchr(" \t\r\n", *s))
                *q++ = *s;
        }
        *q = '\0';
        k = apr_base64_decode_binary(bytes, packed);
        put_hex(bytes, (size_t)k);
    }
    else {
        put_hex((const unsigned char *)text, n);
    }
    for (c = el->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            canon_element(o, c, masked);
    }
    puts("-");
}

/* wbxml2xml writes CR into text as it is, and any XML parser would read
 * CR LF as LF; escaping it first keeps the bytes libwbxml2 decoded. */
static xmlDocPtr parse(const char *path, int libwbxml)
{
    size_t len, i, n = 0;
    char *raw = slurp(path, &len), *buf = apr_palloc(pool, len * 5 + 1);
    xmlDocPtr doc;

    for (i = 0; i < len; ++i) {
        if (libwbxml && raw[i] == '\r') {
            memcpy(buf + n, "&#13;", 5);
            n += 5;
        }
        else {
            buf[n++] = raw[i];
        }
    }
    free(raw);
    doc = xmlReadMemory(buf, (int)n, path, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    if (!doc || !xmlDocGetRootElement(doc))
        die(path, "not well-formed XML");
    return doc;
}

/* ---- XML for libwbxml2 ----------------------------------------------- */

static void put_escaped(const char *s)
{
    for (; *s; ++s) {
        switch (*s) {
        case '&': fputs("&amp;", stdout); break;
        case '<': fputs("&lt;", stdout); break;
        case '>': fputs("&gt;", stdout); break;
        case '\r': fputs("&#13;", stdout); break;
        default: putchar(*s);
        }
    }
}

static void to_libwbxml(xmlNodePtr el, unsigned parent_page)
{
    const xml_opts_t o = {0, 0};
    eas_tag_t tag = element_tag(&o, el);
    const char *name = libwbxml_name(tag);
    xmlNodePtr c;

    if (xmlHasProp(el, (const xmlChar *)"wbxml"))
        die((const char *)el->name, "libwbxml2 has no form of the wbxml attribute");
    /* Tags libwbxml2 lacks keep MS-ASWBXML's name, so xml2wbxml must fail. */
    if (!name)
        name = eas_wbxml_tag_name(tag);
    printf("<%s", name);
    if (EAS_TAG_PAGE(tag) != parent_page)
        printf(" xmlns=\"%s:\"", libwbxml_ns(EAS_TAG_PAGE(tag)));
    putchar('>');
    put_escaped(gather_text(el));
    for (c = el->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            to_libwbxml(c, EAS_TAG_PAGE(tag));
    }
    printf("</%s>", name);
}

static void list_lacking(xmlNodePtr el)
{
    const xml_opts_t o = {0, 0};
    eas_tag_t tag = element_tag(&o, el);
    xmlNodePtr c;

    if (lacks(tag))
        printf("%s:%s\n", eas_wbxml_page_ns(EAS_TAG_PAGE(tag)), eas_wbxml_tag_name(tag));
    for (c = el->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            list_lacking(c);
    }
}

int main(int argc, const char *const *argv)
{
    xml_opts_t o = {0, 0};
    const char *cmd, *path = NULL;
    xmlDocPtr doc = NULL;
    int i, rc = 0;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&pool, NULL);
    if (argc < 3) {
        fprintf(stderr, "usage: wbxml-canon wbxml|xml|to-libwbxml|lacks [--libwbxml] [--mask] FILE\n");
        return 2;
    }
    cmd = argv[1];
    for (i = 2; i < argc; ++i) {
        if (strcmp(argv[i], "--libwbxml") == 0)
            o.libwbxml = 1;
        else if (strcmp(argv[i], "--mask") == 0)
            o.mask = 1;
        else
            path = argv[i];
    }
    if (!path)
        die(cmd, "no FILE");
    if (strcmp(cmd, "wbxml") == 0) {
        rc = canon_wbxml(path, o.mask);
    }
    else if (strcmp(cmd, "xml") == 0) {
        doc = parse(path, o.libwbxml);
        canon_element(&o, xmlDocGetRootElement(doc), 0);
    }
    else if (strcmp(cmd, "to-libwbxml") == 0) {
        doc = parse(path, 0);
        fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE ActiveSync PUBLIC "
              "\"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">\n", stdout);
        to_libwbxml(xmlDocGetRootElement(doc), 256);
        putchar('\n');
    }
    else if (strcmp(cmd, "lacks") == 0) {
        doc = parse(path, 0);
        list_lacking(xmlDocGetRootElement(doc));
    }
    else {
        die(cmd, "unknown command");
    }
    if (doc)
        xmlFreeDoc(doc);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
