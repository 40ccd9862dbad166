/*
 * libeas WBXML codec: tables, decoder, writer (MS-ASWBXML, WBXML 1.3).
 */
#include "eas_wbxml.h"
#include "tap.h"

#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

static apr_pool_t *pool;

typedef struct {
    unsigned page, token;
    const char *name;
} token_t;

static const token_t all_tokens[] = {
#define EAS_PAGE(num, id, ns)
#define EAS_TOKEN(page, id, token, name) {page, token, #name},
#include "eas_codepages.def"
#undef EAS_PAGE
#undef EAS_TOKEN
};
#define N_TOKENS (sizeof(all_tokens) / sizeof(all_tokens[0]))

/* Decodes a document given as bytes; returns the error code. */
static eas_wbxml_error_e dec(const void *b, apr_size_t n, const eas_wbxml_limits_t *lim,
                             eas_node_t **root, eas_wbxml_error_t *err)
{
    return eas_wbxml_decode(pool, b, n, lim, root, err);
}

#define DEC_ERR(bytes, lim, want_code, want_off, desc)                           \
    do {                                                                         \
        static const unsigned char b_[] = bytes;                                 \
        eas_node_t *r_;                                                          \
        eas_wbxml_error_t e_ = {0, 0};                                           \
        eas_wbxml_error_e c_ = dec(b_, sizeof(b_) - 1, lim, &r_, &e_);           \
        is_int(c_, want_code, desc ": code");                                    \
        is_int(e_.offset, want_off, desc ": offset");                            \
        ok(r_ == NULL && e_.code == c_, desc ": no tree");                        \
    } while (0)

#define HDR "\x03\x01\x6a\x00"

/* A compact, unambiguous rendering of a tree: page:token names, text. */
static void dump(const eas_node_t *n, char **out)
{
    for (; n; n = n->next) {
        *out = apr_pstrcat(pool, *out, eas_wbxml_tag_name(n->tag), NULL);
        if (n->len)
            *out = apr_pstrcat(pool, *out, n->opaque ? "=#" : "=", n->text, NULL);
        if (n->first) {
            *out = apr_pstrcat(pool, *out, "(", NULL);
            dump(n->first, out);
            *out = apr_pstrcat(pool, *out, ")", NULL);
        }
        if (n->next)
            *out = apr_pstrcat(pool, *out, ",", NULL);
    }
}

static const char *dumps(const eas_node_t *n)
{
    char *s = "";
    if (!n)
        return "(null)";
    dump(n, &s);
    return s;
}

static void test_tables(void)
{
    apr_size_t i, bad_name = 0, bad_lookup = 0;
    unsigned page;
    int tok;

    is_int(N_TOKENS, 608, "the table has every MS-ASWBXML 16.1 token");
    for (i = 0; i < N_TOKENS; ++i) {
        eas_tag_t tag = EAS_TAG(all_tokens[i].page, all_tokens[i].token);
        const char *n = eas_wbxml_tag_name(tag);
        if (!n || strcmp(n, all_tokens[i].name) != 0)
            ++bad_name;
        if (eas_wbxml_tag_by_name(all_tokens[i].page, all_tokens[i].name,
                                  strlen(all_tokens[i].name)) != tag)
            ++bad_lookup;
    }
    is_int(bad_name, 0, "every tag has its name");
    is_int(bad_lookup, 0, "every name finds its tag");
    for (page = 0, i = 0; page < EAS_CODEPAGE_COUNT; ++page) {
        const char *ns = eas_wbxml_page_ns(page);
        if (!ns || eas_wbxml_page_by_ns(ns, strlen(ns)) != (int)page
            || eas_wbxml_page_by_ns(apr_pstrcat(pool, ns, ":", NULL), strlen(ns) + 1)
                   != (int)page)
            ++i;
    }
    is_int(i, 0, "every page's namespace maps back, with and without ':'");
    is_int(eas_wbxml_page_by_ns("Gal:", 4), -1, "namespaces are case-sensitive");
    is_int(eas_wbxml_page_by_ns("AirSyncX", 7), 0, "the length bounds the namespace");
    ok(eas_wbxml_page_ns(26) == NULL, "no page 26");
    is_str(eas_wbxml_page_ns(16), "GAL", "page 16 is GAL");
    is_str(eas_wbxml_page_ns(3), "AirNotify", "page 3 keeps its name");
    for (tok = 0, i = 0; tok < 64; ++tok)
        i += eas_wbxml_tag_name(EAS_TAG(3, tok)) != NULL;
    is_int(i, 0, "AirNotify has no tokens");

    is_str(eas_wbxml_tag_name(EAS_Email_Status), "Status", "Email 0x3B is Status");
    is_str(eas_wbxml_tag_name(EAS_Calendar_Timezone), "Timezone", "Calendar 0x05 is Timezone");
    is_str(eas_wbxml_tag_name(EAS_Email_TimeZone), "TimeZone", "Email 0x33 is TimeZone");
    is_int(eas_wbxml_tag_by_name(25, "GALSearchCriterion", 18), EAS_Find_GalSearchCriterion,
           "GALSearchCriterion is accepted");
    is_str(eas_wbxml_tag_name(EAS_Find_GalSearchCriterion), "GalSearchCriterion",
           "GalSearchCriterion is written");
    is_int(eas_wbxml_tag_by_name(21, "ForwardeeName", 13), EAS_ComposeMail_Name,
           "ForwardeeName is accepted");
    is_int(eas_wbxml_tag_by_name(21, "ForwardeeEmail", 14), EAS_ComposeMail_Email,
           "ForwardeeEmail is accepted");
    is_int(eas_wbxml_tag_by_name(0, "GALSearchCriterion", 18), EAS_TAG_NONE,
           "alternates only on their page");
    is_int(eas_wbxml_tag_by_name(0, "SyncKeyX", 7), EAS_AirSync_SyncKey,
           "the length bounds the name");
    is_int(eas_wbxml_tag_by_name(0, "Sync", 3), EAS_TAG_NONE, "no prefix matches");
    is_int(eas_wbxml_tag_by_name(0, "", 0), EAS_TAG_NONE, "empty name");
    is_int(eas_wbxml_tag_by_name(26, "Sync", 4), EAS_TAG_NONE, "no page 26");
    ok(eas_wbxml_tag_name(EAS_TAG(0, 0x11)) == NULL, "AirSync 0x11 (libwbxml's Version) is undefined");

    ok(eas_wbxml_tag_opaque(EAS_ComposeMail_Mime) && eas_wbxml_tag_opaque(EAS_Email2_ConversationId)
           && eas_wbxml_tag_opaque(EAS_AirSyncBase_Content) && eas_wbxml_tag_opaque(EAS_GAL_Data),
       "byte-array elements are opaque");
    ok(!eas_wbxml_tag_opaque(EAS_AirSyncBase_Data) && !eas_wbxml_tag_opaque(EAS_Calendar_Timezone),
       "Body Data and Calendar Timezone are strings");
}

static void test_every_token(void)
{
    unsigned page;
    apr_size_t i;

    /* One document per page: all its tokens as children of the first. */
    for (page = 0; page < EAS_CODEPAGE_COUNT; ++page) {
        eas_wbxml_writer_t *w;
        eas_node_t *root = NULL, *c;
        eas_wbxml_error_t err;
        const char *data;
        apr_size_t len, n = 0, bad = 0;
        int started = 0;

        if (page == 3)
            continue;
        w = eas_wbxml_writer_create(pool, NULL, NULL);
        for (i = 0; i < N_TOKENS; ++i) {
            if (all_tokens[i].page != page)
                continue;
            if (!started) {
                eas_wbxml_start(w, EAS_TAG(page, all_tokens[i].token));
                started = 1;
            }
            /* A tag from another page in between forces SWITCH_PAGE both ways. */
            eas_wbxml_text(w, EAS_TAG(page ? 0 : 1, 0x0B), "x");
            eas_wbxml_text(w, EAS_TAG(page, all_tokens[i].token), all_tokens[i].name);
        }
        ok(eas_wbxml_finish(w, &data, &len) == APR_SUCCESS, "page writes");
        if (dec(data, len, NULL, &root, &err) != EAS_WBXML_OK) {
            ok(0, apr_psprintf(pool, "page %u decodes (error %d at %lu)", page, err.code,
                               (unsigned long)err.offset));
            continue;
        }
        c = root->first;
        for (i = 0; i < N_TOKENS; ++i) {
            if (all_tokens[i].page != page)
                continue;
            if (!c || !c->next || c->tag != EAS_TAG(page ? 0 : 1, 0x0B)
                || EAS_TAG_PAGE(c->next->tag) != page
                || EAS_TAG_TOKEN(c->next->tag) != all_tokens[i].token
                || strcmp(c->next->text, all_tokens[i].name) != 0)
                ++bad;
            ++n;
            c = c && c->next ? c->next->next : NULL;
        }
        ok(bad == 0 && c == NULL && n > 0,
           apr_psprintf(pool, "page %u (%s): all %lu tokens round-trip", page,
                        eas_wbxml_page_ns(page), (unsigned long)n));
    }
}

static void test_ms_example(void)
{
    /* MS-ASWBXML 3.1: a Sync response adding a contact.  The bytes up to
     * "Funk" are quoted from the spec; the rest follows from its XML. */
    static const unsigned char ex[] =
        "\x03\x01\x6A\x00\x45\x5C\x4F\x50\x03\x43\x6F\x6E\x74\x61\x63\x74\x73\x00\x01"
        "\x4B\x03\x32\x00\x01\x52\x03\x32\x00\x01\x4E\x03\x31\x00\x01\x56\x47\x4D\x03"
        "\x32\x3A\x31\x00\x01\x5D\x00\x11\x4A\x46\x03\x31\x00\x01\x4C\x03\x30\x00\x01"
        "\x4D\x03\x31\x00\x01\x01\x00\x01\x5E\x03\x46\x75\x6E\x6B\x2C\x20\x44\x6F\x6E"
        "\x00\x01\x5F\x03\x44\x6F\x6E\x00\x01\x69\x03\x46\x75\x6E\x6B\x00\x01\x00\x11"
        "\x56\x03\x31\x00\x01\x01\x01\x01\x01\x01\x01";
    eas_node_t *root = NULL, *ad;
    eas_wbxml_writer_t *w;
    const char *data;
    apr_size_t len;

    is_int(dec(ex, sizeof(ex) - 1, NULL, &root, NULL), EAS_WBXML_OK, "MS-ASWBXML 3.1 decodes");
    is_str(dumps(root),
           "Sync(Collections(Collection(Class=Contacts,SyncKey=2,CollectionId=2,Status=1,"
           "Commands(Add(ServerId=2:1,ApplicationData(Body(Type=1,EstimatedDataSize=0,"
           "Truncated=1),FileAs=Funk, Don,FirstName=Don,LastName=Funk,NativeBodyType=1))))))",
           "to the documented tree");
    ad = eas_node_path(root, 5, EAS_AirSync_Collections, EAS_AirSync_Collection,
                       EAS_AirSync_Commands, EAS_AirSync_Add, EAS_AirSync_ApplicationData);
    ok(ad && EAS_TAG_PAGE(ad->first->tag) == 17 && ad->first->first->tag == EAS_AirSyncBase_Type,
       "Body is on AirSyncBase");
    is_str(eas_node_child_text(ad, EAS_Contacts_FileAs), "Funk, Don", "FileAs on Contacts");
    is_str(eas_node_child_text(ad, EAS_AirSyncBase_NativeBodyType), "1", "back on AirSyncBase");
    ok(ad->parent->tag == EAS_AirSync_Add && root->parent == NULL, "parents");

    w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_wbxml_node(w, root);
    eas_wbxml_finish(w, &data, &len);
    ok(len == sizeof(ex) - 1 && memcmp(data, ex, len) == 0,
       "the writer reproduces Microsoft's bytes");
}

static void test_empty_and_opaque(void)
{
    static const unsigned char bin[] = {0x00, 0xFF, 0x01, 0x80, 0x00, 'a', 0xC3};
    static const unsigned char want[] = HDR
        "\x45\x1C\x13\x0B"                                     /* Sync, 3 empty */
        "\x00\x16\x49\xC3\x07\x00\xFF\x01\x80\x00" "a\xC3\x01"   /* ConversationId */
        "\x00\x15\x50\xC3\x02" "ab\xC3\x02" "cd\x01"             /* Mime in pieces */
        "\x01";
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_node_t *root, *n;
    const char *data;
    apr_size_t len;

    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_start(w, EAS_AirSync_Collections);   /* nothing inside: written empty */
    eas_wbxml_end(w);
    eas_wbxml_empty(w, EAS_AirSync_GetChanges);
    eas_wbxml_text(w, EAS_AirSync_SyncKey, "");     /* empty text: empty element */
    eas_wbxml_opaque(w, EAS_Email2_ConversationId, bin, sizeof(bin));
    eas_wbxml_start(w, EAS_ComposeMail_Mime);
    eas_wbxml_content_opaque(w, "ab", 2);
    eas_wbxml_content_opaque(w, "", 0);
    eas_wbxml_content_opaque(w, "cd", 2);
    eas_wbxml_end(w);
    is_int(eas_wbxml_finish(w, &data, &len), APR_SUCCESS, "written");
    ok(len == sizeof(want) - 1 && memcmp(data, want, len) == 0,
       "lazy empty elements and OPAQUE bytes as expected");
    is_int(dec(data, len, NULL, &root, NULL), EAS_WBXML_OK, "decodes");
    n = root->first;
    ok(n->tag == EAS_AirSync_Collections && !n->has_content && n->len == 0 && *n->text == '\0',
       "empty element has no content");
    n = eas_node_child(root, EAS_Email2_ConversationId);
    ok(n && n->opaque && n->has_content && n->len == sizeof(bin) && memcmp(n->text, bin, n->len) == 0
           && n->text[n->len] == '\0',
       "opaque bytes kept, NULs included, terminated");
    n = eas_node_child(root, EAS_ComposeMail_Mime);
    ok(n && n->opaque && n->len == 4 && strcmp(n->text, "abcd") == 0, "opaque pieces are joined");

    /* A content flag followed by END at once is not an empty element. */
    is_int(dec(HDR "\x45\x4B\x01\x01", 8, NULL, &root, NULL), EAS_WBXML_OK, "content, no text");
    ok(root->first->has_content && root->first->len == 0, "has_content without text");
    is_int(dec(HDR "\x45\x4B\xC3\x00\x01\x01", 10, NULL, &root, NULL), EAS_WBXML_OK,
           "zero-length OPAQUE");
    ok(root->first->opaque && root->first->len == 0, "is opaque without text");
}

static void test_text_pieces(void)
{
    eas_node_t *root;
    static const unsigned char strtbl[] =
        "\x03\x00\x00\x6a\x07" "ab\0" "xyz\0"        /* public id "ab", a 7-byte table */
        "\x45\x4B\x83\x03\x01\x4C\x83\x00\x01\x01";
    static const unsigned char mixed[] = HDR
        "\x45\x03" "a\0" "\x02\x81\x20" "\x03" "b\0" "\x4B\x03" "k\0\x01" "\x02\x64"
        "\x02\x8C\x80\x00" "\x03" "c\0\x01";

    is_int(dec(strtbl, sizeof(strtbl) - 1, NULL, &root, NULL), EAS_WBXML_OK,
           "string table and STR_T (as libwbxml writes)");
    is_str(dumps(root), "Sync(SyncKey=xyz,ClientId=ab)", "STR_T texts");
    is_int(dec(mixed, sizeof(mixed) - 1, NULL, &root, NULL), EAS_WBXML_OK,
           "STR_I, ENTITY and a child in one element");
    is_str(root->text, "a\xC2\xA0" "bd\xF0\xB0\x80\x80" "c", "pieces joined, entities in UTF-8");
    is_str(dumps(root->first), "SyncKey=k", "the child stays a child");
}

static void test_errors(void)
{
    eas_wbxml_limits_t lim = {4, 5, 3};
    eas_node_t *root;
    eas_wbxml_error_t err;

    is_int(dec("", 0, NULL, &root, &err), EAS_WBXML_E_EMPTY, "empty");
    is_int(err.offset, 0, "empty: offset");
    ok(eas_wbxml_decode(pool, "x", 0, NULL, &root, NULL) == EAS_WBXML_E_EMPTY,
       "err may be NULL");

    DEC_ERR("\x04\x01\x6a\x00\x45\x01", NULL, EAS_WBXML_E_HEADER, 0, "version 1.4");
    DEC_ERR("\x03\x02\x6a\x00\x45\x01", NULL, EAS_WBXML_E_HEADER, 1, "public id 2");
    DEC_ERR("\x03\x01\x04\x00\x45\x01", NULL, EAS_WBXML_E_HEADER, 2, "charset ASCII");
    DEC_ERR("\x03\x00\x05\x6a\x02" "a\0\x45\x01", NULL, EAS_WBXML_E_HEADER, 2,
            "public id index outside the string table");
    DEC_ERR("\x03\x81\x80\x80\x80\x80\x01", NULL, EAS_WBXML_E_HEADER, 1, "6-byte mb_u_int32");
    DEC_ERR("\x03\x01\x6a", NULL, EAS_WBXML_E_TRUNCATED, 3, "no string table length");
    DEC_ERR("\x03\x01\x6a\x05" "ab", NULL, EAS_WBXML_E_TRUNCATED, 3, "short string table");
    DEC_ERR(HDR, NULL, EAS_WBXML_E_TRUNCATED, 4, "header only");
    DEC_ERR(HDR "\x45\x4B", NULL, EAS_WBXML_E_TRUNCATED, 6, "elements left open");
    DEC_ERR(HDR "\x45\x4B\x03" "ab", NULL, EAS_WBXML_E_TRUNCATED, 6, "unterminated STR_I");
    DEC_ERR(HDR "\x45\x4B\xC3\x05" "ab", NULL, EAS_WBXML_E_TRUNCATED, 6, "short OPAQUE");
    DEC_ERR(HDR "\x45\x4B\xC3\x85", NULL, EAS_WBXML_E_TRUNCATED, 6, "OPAQUE length cut");
    DEC_ERR(HDR "\x45\x00", NULL, EAS_WBXML_E_TRUNCATED, 5, "SWITCH_PAGE without page");
    DEC_ERR(HDR "\x45\x4B\xC3\x90\x80\x80\x80\x00", NULL, EAS_WBXML_E_TOKEN, 6,
            "OPAQUE length over 32 bits");
    DEC_ERR(HDR "\x45\x51\x01\x01", NULL, EAS_WBXML_E_TOKEN, 5, "AirSync 0x11 is undefined");
    DEC_ERR(HDR "\x00\x03\x45\x01", NULL, EAS_WBXML_E_TOKEN, 6, "no tag on AirNotify");
    DEC_ERR(HDR "\x45\xCB\x01\x01\x01", NULL, EAS_WBXML_E_TOKEN, 5, "attributes");
    DEC_ERR(HDR "\x45\x04\x00\x01", NULL, EAS_WBXML_E_TOKEN, 5, "LITERAL");
    DEC_ERR(HDR "\x45\x43\x01", NULL, EAS_WBXML_E_TOKEN, 5, "PI");
    DEC_ERR(HDR "\x45\x80\x01\x01", NULL, EAS_WBXML_E_TOKEN, 5, "EXT_T_0");
    DEC_ERR(HDR "\x45\x02\x80\x80\x80\x80\x80\x01", NULL, EAS_WBXML_E_TOKEN, 5,
            "ENTITY with a 6-byte number");
    DEC_ERR(HDR "\x45\x00\x1A\x45\x01\x01", NULL, EAS_WBXML_E_PAGE, 5, "page 26");
    DEC_ERR(HDR "\x01\x45\x01", NULL, EAS_WBXML_E_STRUCTURE, 4, "END before the root");
    DEC_ERR(HDR "\x03" "a\0\x45\x01", NULL, EAS_WBXML_E_STRUCTURE, 4, "text before the root");
    DEC_ERR(HDR "\xC3\x01" "a\x45\x01", NULL, EAS_WBXML_E_STRUCTURE, 4, "opaque before the root");
    DEC_ERR(HDR "\x45\x01\x45\x01", NULL, EAS_WBXML_E_STRUCTURE, 6, "a second root");
    DEC_ERR(HDR "\x05\x00", NULL, EAS_WBXML_E_STRUCTURE, 5, "bytes after an empty root");
    DEC_ERR(HDR "\x05\x05", NULL, EAS_WBXML_E_STRUCTURE, 5, "a second empty root");

    /* Limits: depth 4, 5 elements, strings of 3 bytes. */
    is_int(dec(HDR "\x45\x4F\x4F\x0F\x01\x01\x01", 11, &lim, &root, &err), EAS_WBXML_OK,
           "depth at the limit");
    DEC_ERR(HDR "\x45\x4F\x4F\x4F\x0F\x01\x01\x01\x01", &lim, EAS_WBXML_E_DEPTH, 8,
            "depth beyond the limit");
    is_int(dec(HDR "\x45\x0F\x0F\x0F\x0F\x01", 10, &lim, &root, &err), EAS_WBXML_OK,
           "elements at the limit");
    DEC_ERR(HDR "\x45\x0F\x0F\x0F\x0F\x0F\x01", &lim, EAS_WBXML_E_NODES, 9,
            "elements beyond the limit");
    is_int(dec(HDR "\x45\x03" "abc\0\x01", 11, &lim, &root, &err), EAS_WBXML_OK,
           "string at the limit");
    DEC_ERR(HDR "\x45\x03" "abcd\0\x01", &lim, EAS_WBXML_E_STRING, 5, "string beyond the limit");
    DEC_ERR(HDR "\x45\x03" "ab\0\x03" "cd\0\x01", &lim, EAS_WBXML_E_STRING, 9,
            "pieces beyond the limit together");
    DEC_ERR(HDR "\x45\xC3\x04" "abcd\x01", &lim, EAS_WBXML_E_STRING, 5, "opaque beyond the limit");

    DEC_ERR(HDR "\x45\x03" "a\xC0\x80\0\x01", NULL, EAS_WBXML_E_STRING, 7, "overlong UTF-8");
    DEC_ERR(HDR "\x45\x03" "ab\xED\xA0\x80\0\x01", NULL, EAS_WBXML_E_STRING, 8,
            "UTF-8 surrogate");
    DEC_ERR(HDR "\x45\x03\xF4\x90\x80\x80\0\x01", NULL, EAS_WBXML_E_STRING, 6,
            "UTF-8 above U+10FFFF");
    DEC_ERR(HDR "\x45\x03" "abcdefghij\xE2\x82\0\x01", NULL, EAS_WBXML_E_STRING, 16,
            "cut UTF-8 sequence after ASCII");
    DEC_ERR(HDR "\x45\x03\x80\0\x01", NULL, EAS_WBXML_E_STRING, 6, "lone continuation byte");
    DEC_ERR(HDR "\x45\x02\x00\x01", NULL, EAS_WBXML_E_STRING, 5, "ENTITY 0");
    DEC_ERR(HDR "\x45\x02\x83\xB0\x00\x01", NULL, EAS_WBXML_E_STRING, 5, "ENTITY surrogate");
    DEC_ERR(HDR "\x45\x83\x00\x01", NULL, EAS_WBXML_E_STRING, 5, "STR_T without a table");
    DEC_ERR("\x03\x01\x6a\x02" "ab" "\x45\x83\x00\x01", NULL, EAS_WBXML_E_STRING, 7,
            "STR_T to an unterminated string");
}

static void test_depth_default(void)
{
    unsigned char b[4 + 33 + 33];
    eas_node_t *root;
    eas_wbxml_error_t err;
    apr_size_t k, n;

    for (k = 32; k <= 33; ++k) {
        memcpy(b, HDR, 4);
        n = 4;
        memset(b + n, 0x45, k - 1);
        n += k - 1;
        b[n++] = 0x05;
        memset(b + n, 0x01, k - 1);
        n += k - 1;
        if (k == 32) {
            is_int(dec(b, n, NULL, &root, &err), EAS_WBXML_OK, "32 levels by default");
        }
        else {
            is_int(dec(b, n, NULL, &root, &err), EAS_WBXML_E_DEPTH, "33 levels are too deep");
            is_int(err.offset, 4 + 32, "at the 33rd tag");
        }
    }
}

/* A document with a bit of everything, for the truncation sweep. */
static void sample(const char **data, apr_size_t *len)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(pool, NULL, NULL);

    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_start(w, EAS_AirSync_Collections);
    eas_wbxml_start(w, EAS_AirSync_Collection);
    eas_wbxml_text(w, EAS_AirSync_SyncKey, "{6f2c-\xC3\xA9t\xC3\xA9}");
    eas_wbxml_empty(w, EAS_AirSync_DeletesAsMoves);
    eas_wbxml_start(w, EAS_AirSync_ApplicationData);
    eas_wbxml_opaque(w, EAS_Email2_ConversationId, "\x01\x02\x00\x03", 4);
    eas_wbxml_text(w, EAS_Email_Subject, "Hello");
    eas_wbxml_start(w, EAS_AirSyncBase_Body);
    eas_wbxml_textf(w, EAS_AirSyncBase_Type, "%d", 2);
    eas_wbxml_text(w, EAS_AirSyncBase_Data, "<p>\xE2\x82\xAC 5</p>");
    eas_wbxml_finish(w, data, len);
}

static void test_truncation(void)
{
    const char *data;
    apr_size_t len, i, accepted = 0, bad_offset = 0;
    eas_node_t *root;
    eas_wbxml_error_t err;

    sample(&data, &len);
    is_int(dec(data, len, NULL, &root, &err), EAS_WBXML_OK, "the sample decodes");
    for (i = 0; i < len; ++i) {
        /* An exact-size heap copy, so a sanitizer build catches overreads. */
        char *cut = malloc(i ? i : 1);
        memcpy(cut, data, i);
        if (dec(cut, i, NULL, &root, &err) == EAS_WBXML_OK)
            ++accepted;
        else if (err.offset > i)
            ++bad_offset;
        free(cut);
    }
    is_int(accepted, 0, apr_psprintf(pool, "each of the %lu prefixes is an error",
                                     (unsigned long)len));
    is_int(bad_offset, 0, "and the offset stays inside the prefix");
}

typedef struct {
    char *buf;
    apr_size_t len, cap;
    int calls, fail_after;
    const void *big;          /* set when this pointer is passed through */
    int saw_big;
} sink_t;

static apr_status_t sink_fn(void *baton, const char *data, apr_size_t len)
{
    sink_t *s = baton;

    if (s->fail_after && s->calls >= s->fail_after)
        return APR_EGENERAL;
    ++s->calls;
    if (data == s->big)
        s->saw_big = 1;
    while (s->len + len > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->buf = realloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return APR_SUCCESS;
}

static void big_doc(eas_wbxml_writer_t *w, const char *big, apr_size_t big_len)
{
    int i;

    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_start(w, EAS_AirSync_Commands);
    for (i = 0; i < 5000; ++i) {
        eas_wbxml_start(w, EAS_AirSync_Add);
        eas_wbxml_textf(w, EAS_AirSync_ServerId, "1:%d", i);
        eas_wbxml_end(w);
    }
    eas_wbxml_opaque(w, EAS_ComposeMail_Mime, big, big_len);
    eas_wbxml_text(w, EAS_AirSyncBase_Data, big);
}

static void test_writer_stream(void)
{
    apr_size_t big_len = 100000, len, plain_len;
    char *big = apr_palloc(pool, big_len + 1);
    eas_wbxml_writer_t *w;
    sink_t s = {0};
    const char *data, *plain;
    eas_node_t *root, *n;

    memset(big, 'm', big_len);
    big[big_len] = '\0';
    w = eas_wbxml_writer_create(pool, NULL, NULL);
    big_doc(w, big, big_len);
    is_int(eas_wbxml_finish(w, &plain, &plain_len), APR_SUCCESS, "buffered document");
    is_int(eas_wbxml_size(w), plain_len, "size of a buffered document");
    is_int(dec(plain, plain_len, NULL, &root, NULL), EAS_WBXML_OK, "it decodes");
    n = eas_node_path(root, 2, EAS_AirSync_Commands, EAS_ComposeMail_Mime);
    ok(n && n->opaque && n->len == big_len, "with the large opaque");

    s.big = big;
    w = eas_wbxml_writer_create(pool, sink_fn, &s);
    big_doc(w, big, big_len);
    is_int(eas_wbxml_depth(w), 2, "two elements open");
    is_int(eas_wbxml_flush(w), APR_SUCCESS, "flush");
    ok(s.calls > 3, "the callback got chunks as they filled");
    ok(s.saw_big, "large data passed through uncopied");
    is_int(eas_wbxml_finish(w, &data, &len), APR_SUCCESS, "finish");
    is_int(len, 0, "nothing left after finish with a callback");
    is_int(eas_wbxml_depth(w), 0, "finish closed the open elements");
    ok(s.len == plain_len && memcmp(s.buf, plain, plain_len) == 0,
       "streamed bytes equal the buffered document");
    is_int(eas_wbxml_size(w), plain_len, "size counts flushed bytes");
    free(s.buf);

    memset(&s, 0, sizeof(s));
    s.fail_after = 2;
    w = eas_wbxml_writer_create(pool, sink_fn, &s);
    big_doc(w, big, big_len);
    is_int(eas_wbxml_finish(w, &data, &len), APR_EGENERAL, "a failing callback's error");
    is_int(eas_wbxml_status(w), APR_EGENERAL, "is sticky");
    is_int(s.calls, 2, "and nothing more is handed over");
    free(s.buf);
}

static void test_writer_misc(void)
{
    eas_wbxml_writer_t *w;
    eas_node_t *root;
    const char *data;
    apr_size_t len;
    char *longs;

    w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_textn(w, EAS_AirSync_SyncKey, "a\0b\xFF" "c\xE2\x82", 7);
    eas_wbxml_start(w, EAS_AirSync_Status);
    eas_wbxml_content(w, "1", 1);
    eas_wbxml_content(w, "2", 1);
    longs = apr_psprintf(pool, "%0300d|%s", 7, "end");
    eas_wbxml_textf(w, EAS_AirSync_ServerId, "%0300d|%s", 7, "end");
    is_int(eas_wbxml_depth(w), 2, "depth counts open elements");
    is_int(eas_wbxml_finish(w, &data, &len), APR_SUCCESS, "finish closes what is open");
    is_int(dec(data, len, NULL, &root, NULL), EAS_WBXML_OK, "and the result decodes");
    is_str(eas_node_child_text(root, EAS_AirSync_SyncKey), "ab\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD",
           "NUL dropped, invalid UTF-8 replaced");
    is_str(eas_node_child_text(root, EAS_AirSync_Status), "12", "content pieces");
    is_str(eas_node_child_text(eas_node_child(root, EAS_AirSync_Status), EAS_AirSync_ServerId),
           longs, "textf beyond its stack buffer");

    w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_wbxml_end(w);
    is_int(eas_wbxml_status(w), APR_EINVAL, "END with nothing open");
    w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_wbxml_content(w, "x", 1);
    is_int(eas_wbxml_status(w), APR_EINVAL, "content outside the root");
    w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_wbxml_start(w, EAS_TAG(3, 5));
    is_int(eas_wbxml_status(w), APR_EINVAL, "a tag AirNotify does not have");
    w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_wbxml_empty(w, EAS_Ping_Ping);
    eas_wbxml_empty(w, EAS_Ping_Ping);
    is_int(eas_wbxml_status(w), APR_EINVAL, "a second root");
    eas_wbxml_finish(w, &data, &len);
    ok(len == 7 && memcmp(data, HDR "\x00\x0D\x05", 7) == 0, "misuse writes nothing");
}

static void test_tree_helpers(void)
{
    eas_node_t *root, *n;
    static const unsigned char b[] = HDR
        "\x45\x5C\x4F\x4B\x03" "1\0\x01\x01\x4F\x4B\x03" "2\0\x01\x01\x0F\x01\x01";

    is_int(dec(b, sizeof(b) - 1, NULL, &root, NULL), EAS_WBXML_OK, "three collections");
    n = eas_node_path(root, 2, EAS_AirSync_Collections, EAS_AirSync_Collection);
    is_str(eas_node_child_text(n, EAS_AirSync_SyncKey), "1", "first by path");
    n = eas_node_next_same(n);
    is_str(eas_node_child_text(n, EAS_AirSync_SyncKey), "2", "next of the same tag");
    n = eas_node_next_same(n);
    ok(n && !n->has_content && n->first == NULL, "third, empty");
    ok(eas_node_next_same(n) == NULL, "no fourth");
    ok(eas_node_child_text(n, EAS_AirSync_SyncKey) == NULL, "no text without the child");
    ok(eas_node_path(root, 2, EAS_AirSync_Collections, EAS_AirSync_Status) == NULL,
       "a path that does not exist");
    ok(eas_node_child(NULL, EAS_AirSync_Sync) == NULL && eas_node_next_same(NULL) == NULL
           && eas_node_path(NULL, 1, EAS_AirSync_Sync) == NULL,
       "NULL is accepted");
    ok(eas_node_path(root, 0) == root, "an empty path");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_tables();
    test_every_token();
    test_ms_example();
    test_empty_and_opaque();
    test_text_pieces();
    test_errors();
    test_depth_default();
    test_truncation();
    test_writer_stream();
    test_writer_misc();
    test_tree_helpers();

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
