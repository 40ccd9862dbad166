/*
 * libeas MIME layer: a corpus of real-world-shaped messages (t/mime-corpus)
 * through eas_mime_parse / eas_mime_write / attachments, the text helpers,
 * and eas_mime_compose for SendMail, SmartReply and SmartForward.
 */
#include "eas_mime.h"
#include "eas_utf8.h"
#include "eas_wbxml.h"
#include "tap.h"

#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_base64.h>
#include <apr_md5.h>
#include <libical/ical.h>

static apr_pool_t *pool;

/* ---- helpers --------------------------------------------------------- */

static const char *load(const char *name, apr_size_t *len)
{
    const char *dir = getenv("top_srcdir");
    const char *path = apr_pstrcat(pool, dir ? dir : ".", "/t/mime-corpus/", name, NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;

    if (apr_file_open(&f, path, APR_READ | APR_BINARY, 0, pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        diag("cannot read %s", path);
        exit(2);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(pool, n + 1);
    apr_file_read_full(f, buf, n, &n);
    buf[n] = '\0';
    apr_file_close(f);
    *len = n;
    return buf;
}

static eas_mime_msg_t *parse(const char *name)
{
    apr_size_t n;
    const char *d = load(name, &n);
    eas_mime_msg_t *m = NULL;

    if (eas_mime_parse(pool, d, n, 0, &m) != APR_SUCCESS || !m) {
        diag("cannot parse %s", name);
        exit(2);
    }
    return m;
}

static eas_mime_msg_t *parse_str(const char *s)
{
    eas_mime_msg_t *m = NULL;

    eas_mime_parse(pool, s, strlen(s), 0, &m);
    return m;
}

/* Writes m as ApplicationData and decodes it back. */
static eas_node_t *write_doc(eas_mime_msg_t *m, const eas_mime_state_t *st,
                             const eas_mime_options_t *o)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(pool, NULL, NULL);
    const char *data;
    apr_size_t len;
    eas_node_t *root = NULL;
    apr_status_t rv;

    eas_wbxml_start(w, EAS_AirSync_ApplicationData);
    rv = eas_mime_write(pool, m, st, o, w);
    eas_wbxml_end(w);
    if (rv != APR_SUCCESS || eas_wbxml_finish(w, &data, &len) != APR_SUCCESS)
        return NULL;
    if (eas_wbxml_decode(pool, data, len, NULL, &root, NULL) != EAS_WBXML_OK)
        return NULL;
    return root;
}

static eas_mime_options_t opts(int version, int type, apr_uint64_t trunc)
{
    eas_mime_options_t o;
    eas_mime_bodypref_t *b = apr_pcalloc(pool, sizeof(*b));

    memset(&o, 0, sizeof(o));
    o.version = version;
    b->type = type;
    b->truncation_size = trunc;
    o.body_prefs = b;
    o.n_body_prefs = 1;
    o.truncation = EAS_MIME_NO_TRUNCATION;
    o.mime_truncation = EAS_MIME_NO_TRUNCATION;
    return o;
}

static const char *ctext(const eas_node_t *n, eas_tag_t tag)
{
    return eas_node_child_text(n, tag);
}

static const eas_node_t *body_node(const eas_node_t *root)
{
    return eas_node_child(root, EAS_AirSyncBase_Body);
}

static int valid(const char *s, apr_size_t n)
{
    return s && eas_utf8_valid(s, n) && !memchr(s, 0, n);
}

/* Every text node of a tree is valid UTF-8. */
static int tree_valid(const eas_node_t *n)
{
    for (; n; n = n->next) {
        if (!n->opaque && !valid(n->text, n->len))
            return 0;
        if (n->first && !tree_valid(n->first))
            return 0;
    }
    return 1;
}

static const eas_mime_attachment_t *att(const eas_mime_msg_t *m, int i)
{
    return i < m->attachments->nelts ? &APR_ARRAY_IDX(m->attachments, i, eas_mime_attachment_t)
                                     : NULL;
}

static apr_status_t count_sink(void *baton, const char *data, apr_size_t len)
{
    apr_size_t *n = baton;
    (void)data;
    *n += len;
    return APR_SUCCESS;
}

static apr_status_t fail_sink(void *baton, const char *data, apr_size_t len)
{
    (void)baton;
    (void)data;
    (void)len;
    return APR_EGENERAL;
}

/* The bytes after the header block. */
static const char *body_of(const char *msg, apr_size_t len, apr_size_t *blen)
{
    const char *b = strstr(msg, "\r\n\r\n");

    if (!b) {
        *blen = 0;
        return "";
    }
    b += 4;
    *blen = len - (apr_size_t)(b - msg);
    return b;
}

/* A header line of msg ("Name: value"), up to its line break, or NULL. */
static const char *header(const char *msg, const char *name)
{
    apr_size_t hl;
    const char *end = strstr(msg, "\r\n\r\n"), *s = msg;
    size_t n = strlen(name);

    hl = end ? (apr_size_t)(end - msg) : strlen(msg);
    while (s < msg + hl) {
        const char *eol = strstr(s, "\r\n");
        if (!eol)
            eol = msg + hl;
        if (!strncasecmp(s, name, n) && s[n] == ':')
            return apr_pstrmemdup(pool, s, (apr_size_t)(eol - s));
        s = eol + 2;
    }
    return NULL;
}

/* ---- properties of the corpus ---------------------------------------- */

static void test_properties(void)
{
    eas_mime_msg_t *m;

    m = parse("outlook-cp1252.eml");
    is_str(m->to, "\"Sales Team\" <sales@corp.example.com>, \"Dana Lee\" <dana@corp.example.com>",
           "outlook: To");
    is_str(m->cc, "\"O'Brien, Pat\" <pat.obrien@corp.example.com>", "outlook: Cc keeps the comma name");
    is_str(m->from, "\"Chris Taylor\" <chris.taylor@corp.example.com>", "outlook: From");
    is_str(m->display_to, "Sales Team; Dana Lee", "outlook: DisplayTo");
    is_str(m->subject, "RE: Q1 numbers", "outlook: Subject");
    is_str(m->thread_topic, "Q1 numbers", "outlook: ThreadTopic from Thread-Topic");
    is_int(m->importance, 2, "outlook: Importance high");
    is_str(m->message_class, "IPM.Note", "outlook: IPM.Note");
    is_str(m->content_class, "urn:content-classes:message", "outlook: ContentClass");
    is_int(m->internet_cpid, 1252, "outlook: InternetCPID windows-1252");
    is_int(m->native_body_type, EAS_BODY_HTML, "outlook: NativeBodyType HTML");
    is_int(m->date, apr_time_from_sec(1709626363), "outlook: Date");
    is_int(m->date_received, m->date, "outlook: DateReceived falls back to Date");
    is_str(m->in_reply_to, "DB9PR01MB0000AAAA@DB9PR01MB0000.eurprd01.prod.exchangelabs.com",
           "outlook: In-Reply-To without <>");
    /* Thread-Index: 22-byte header + one reply block -> 5 + 5 bytes. */
    is_int(m->conversation_index_len, 10, "outlook: ConversationIndex from Thread-Index");
    ok(m->conversation_index && m->conversation_index[0] == 0xDA, "outlook: index starts with the time bytes");

    m = parse("thunderbird-mixed.eml");
    is_str(m->to, "\"J\xC3\xB6rg M\xC3\xBCller\" <joerg@example.de>", "thunderbird: RFC 2047 name");
    is_str(m->cc, NULL, "thunderbird: empty group gives no Cc");
    is_str(m->reply_to, "\"Eva Weber\" <eva.weber@example.net>", "thunderbird: ReplyTo");
    is_str(m->subject, "Re: Vertrag f\xC3\xBCr M\xC3\xBCnchen", "thunderbird: Subject decoded");
    is_str(m->thread_topic, "Vertrag f\xC3\xBCr M\xC3\xBCnchen", "thunderbird: ThreadTopic strips Re:");
    is_int(m->internet_cpid, 65001, "thunderbird: UTF-8 is 65001");
    {
        unsigned char want[16];
        apr_md5(want, "root-abc@example.de", strlen("root-abc@example.de"));
        ok(!memcmp(m->conversation_id, want, 16), "thunderbird: ConversationId is the thread root");
    }
    is_int(m->conversation_index_len, 15, "thunderbird: one index block per References level");

    m = parse("plain-ascii.eml");
    is_int(m->importance, 0, "plain: X-Priority 5 is low");
    is_str(m->display_to, "anna@example.com; Ben Miller", "plain: DisplayTo falls back to the address");
    is_int(m->internet_cpid, 20127, "plain: no charset is us-ascii");
    is_int(m->native_body_type, EAS_BODY_PLAIN, "plain: NativeBodyType plain");
    ok(m->html == NULL, "plain: no HTML body");

    m = parse("gmail-invite.eml");
    is_str(m->sender, "\"Google Calendar\" <calendar-notification@google.com>", "invite: Sender differs from From");
    {
        apr_size_t n;
        const char *d = load("gmail-invite.eml", &n);
        eas_mime_msg_t *m2;

        eas_mime_parse(pool, d, n, apr_time_from_sec(1709700000), &m2);
        is_int(m2->date_received, apr_time_from_sec(1709700000), "DateReceived is the INTERNALDATE given");
    }
}

/* ---- bodies and charsets --------------------------------------------- */

static void test_bodies(void)
{
    eas_mime_msg_t *m;

    m = parse("apple-alt-related.eml");
    ok(strstr(m->text, "here is the picture from the trip \xE2\x80\x93 the view was fantastic.\r\n\r\nCheers,")
       != NULL, "apple: format=flowed is unwrapped, paragraphs kept");
    is_str(m->subject, "Trip photos \xF0\x9F\x8F\x94", "apple: emoji subject");
    ok(m->html && strstr(m->html, "cid:8F2A1C55") != NULL, "apple: HTML from the related root");
    is_int(m->attachments->nelts, 1, "apple: one attachment (the inline image)");
    is_str(att(m, 0)->path, "2.2", "apple: image path 2.2");
    is_str(att(m, 0)->content_id, "8F2A1C55-1B3E-4C7D-9E1A-6A2B3C4D5E6F", "apple: ContentId without <>");
    is_int(att(m, 0)->is_inline, 1, "apple: IsInline (referenced from the HTML)");
    is_int(att(m, 0)->size, 71, "apple: decoded size");
    is_str(att(m, 0)->display_name, "IMG_0042.png", "apple: name");

    m = parse("outlook-cp1252.eml");
    ok(strstr(m->text, "please find the \xE2\x80\x9CQ1 numbers\xE2\x80\x9D below \xE2\x80\x93 total \xE2\x82\xAC 12,500.") != NULL,
       "cp1252: smart quotes, dash and euro");
    ok(strstr(m->html, "\xE2\x80\x9CQ1 numbers\xE2\x80\x9D") != NULL, "cp1252: HTML converted to UTF-8");

    m = parse("latin1-8bit.eml");
    is_str(m->text, "Gr\xC3\xBC\xC3\x9F" "e aus M\xC3\xBCnchen!\r\nDie Stra\xC3\x9F" "e ist na\xC3\x9F, \xC3\xA7" "a va? Preis: 5 \xC2\xA3.\r\n",
           "latin1: 8bit body");
    is_str(m->from, "\"Fran\xC3\xA7ois B\xC3\xA9rard\" <francois@example.fr>", "latin1: encoded-word name");
    is_int(m->internet_cpid, 28591, "latin1: InternetCPID 28591");

    m = parse("shift-jis.eml");
    is_str(m->text, "\xE3\x81\x8A\xE4\xB8\x96\xE8\xA9\xB1\xE3\x81\xAB\xE3\x81\xAA\xE3\x81\xA3\xE3\x81\xA6"
                    "\xE3\x81\x8A\xE3\x82\x8A\xE3\x81\xBE\xE3\x81\x99\xE3\x80\x82\r\n"
                    "\xE6\x9D\xA5\xE9\x80\xB1\xE3\x81\xAE\xE4\xBC\x9A\xE8\xAD\xB0\xE3\x81\xAE\xE4\xBB\xB6"
                    "\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82\r\n", "shift_jis: base64 body");
    is_str(m->subject, "\xE4\xBC\x9A\xE8\xAD\xB0\xE3\x81\xAE\xE4\xBB\xB6", "shift_jis: ISO-2022-JP subject");
    is_int(m->internet_cpid, 932, "shift_jis: 932");

    m = parse("iso-2022-jp.eml");
    ok(!strncmp(m->text, "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF", 15),
       "iso-2022-jp: 7bit escapes decoded");
    is_str(m->subject, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "iso-2022-jp: subject");
    is_int(m->internet_cpid, 50220, "iso-2022-jp: 50220");

    m = parse("koi8-r.eml");
    ok(!strncmp(m->text, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xD0\xBC\xD0\xB8\xD1\x80!", 21),
       "koi8-r: body");
    is_str(m->from, "\"\xD0\x98\xD0\xB2\xD0\xB0\xD0\xBD\" <ivan@example.ru>", "koi8-r: B-encoded name");
    is_int(m->internet_cpid, 20866, "koi8-r: 20866");

    m = parse("mislabeled-charset.eml");
    ok(!strncmp(m->text, "R\xC3\xA9union \xC3\xA0 10h, caf\xC3\xA9 offert.", 28),
       "mislabeled: Latin-1 bytes under a UTF-8 label");
    ok(strstr(m->text, "Zweiter Teil: sch\xC3\xB6n.") != NULL, "mislabeled: unknown label, UTF-8 bytes");
    is_str(m->subject, "R\xC3\xA9union demain", "mislabeled: raw 8-bit subject");
    ok(valid(m->text, m->text_len), "mislabeled: valid UTF-8");

    m = parse("html-only.eml");
    is_str(m->text, "Deals & offers\r\n\r\nCaf\xC3\xA9 \xE2\x80\x93 50% off today \xF0\x9F\x98\x80\r\n\r\n"
                    "- One\r\n- Two <b>\r\n\r\nA\r\nB\r\n\r\nC\r\n\r\n  keep   spaces\r\n  here\r\n\r\nVisit our shop.",
           "html-only: text made from HTML");
    is_int(m->native_body_type, EAS_BODY_HTML, "html-only: native HTML");

    m = parse_str("From: a@example.ru\r\nContent-Type: text/html\r\n\r\n<html><head>"
                  "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
                  "</head><body>\xcf\xf0\xe8\xe2\xe5\xf2</body></html>");
    is_str(m->text, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "html: charset from <meta>");
    is_int(m->internet_cpid, 1251, "html: InternetCPID from <meta>");
    m = parse_str("From: a@example.com\r\n\r\ncaf\xC3\xA9\r\n");
    is_int(m->internet_cpid, 65001, "undeclared 8-bit UTF-8 text: 65001");

    m = parse("smime-encrypted.eml");
    is_int(m->text_len, 0, "encrypted: no readable body");
    is_str(m->message_class, "IPM.Note.SMIME", "encrypted: IPM.Note.SMIME");
    is_int(m->smime, EAS_SMIME_OPAQUE, "encrypted: opaque");
    is_str(att(m, 0)->display_name, "smime.p7m", "encrypted: the p7m is the attachment");

    m = parse("smime-signed.eml");
    is_str(m->message_class, "IPM.Note.SMIME.MultipartSigned", "signed: MultipartSigned");
    is_str(m->text, "Signed hello from Ben \xE2\x9C\x93\r\n", "signed: the signed text is readable");
    is_str(att(m, 0)->display_name, "smime.p7s", "signed: signature listed");
    is_str(att(m, 0)->path, "2", "signed: signature path 2");
}

/* ---- attachments ----------------------------------------------------- */

static const unsigned char pdf_bytes[] =
    "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

static void test_attachments(void)
{
    eas_mime_msg_t *m;
    const char *data;
    apr_size_t len, n = 0;

    m = parse("thunderbird-mixed.eml");
    is_int(m->attachments->nelts, 2, "thunderbird: two attachments");
    is_str(att(m, 0)->display_name, "Vertrag f\xC3\xBCr M\xC3\xBCnchen \xE2\x80\x93 final Version.pdf",
           "RFC 2231 continuation with charset");
    is_str(att(m, 0)->content_type, "application/pdf", "pdf content type");
    is_str(att(m, 0)->path, "2", "pdf path 2");
    is_int(att(m, 0)->size, sizeof(pdf_bytes) - 1, "pdf decoded size");
    is_int(att(m, 0)->method, 1, "pdf Method 1");
    is_int(att(m, 0)->is_inline, 0, "pdf not inline");
    is_str(att(m, 1)->display_name, "B\xC3\xBCro 2024.jpg", "RFC 2047 encoded-word file name");
    ok(eas_mime_part_get(pool, m, "2", &data, &len) == APR_SUCCESS
       && len == sizeof(pdf_bytes) - 1 && !memcmp(data, pdf_bytes, len), "pdf content by path");
    ok(eas_mime_attachment_find(m, "3") == att(m, 1), "find by path");
    ok(eas_mime_attachment_find(m, "1.1") == NULL, "find: body part is no attachment");
    ok(eas_mime_part_get(pool, m, "1.2", &data, &len) == APR_SUCCESS
       && strstr(data, "<p>Hallo J\xC3\xB6rg,</p>"), "any leaf part by path (1.2 = html)");
    ok(eas_mime_part_get(pool, m, "1", &data, &len) == APR_NOTFOUND, "a multipart has no content");
    ok(eas_mime_part_get(pool, m, "4", &data, &len) == APR_NOTFOUND, "no part 4");
    ok(eas_mime_part_get(pool, m, "x", &data, &len) == APR_NOTFOUND, "garbage path");
    ok(eas_mime_part_get(pool, m, "", &data, &len) == APR_NOTFOUND, "empty path");
    ok(eas_mime_part_get(pool, m, "2.", &data, &len) == APR_NOTFOUND, "trailing dot");
    ok(eas_mime_part_write(m, "2", count_sink, &n) == APR_SUCCESS && n == sizeof(pdf_bytes) - 1,
       "streamed to a sink");
    ok(eas_mime_part_write(m, "2", fail_sink, NULL) == APR_EGENERAL, "a sink error stops the stream");

    /* multipart/alternative inside multipart/mixed inside multipart/related. */
    m = parse("outlook-mac-related.eml");
    ok(!strncmp(m->text, "Hi Anna,\r\n\r\nthe floor plan is attached", 37), "related/mixed/alt: plain body");
    ok(m->html && strstr(m->html, "cid:logo001@corp.example.com"), "related/mixed/alt: HTML body");
    is_int(m->attachments->nelts, 2, "related/mixed/alt: pdf and logo");
    is_str(att(m, 0)->path, "1.2", "related/mixed/alt: pdf at 1.2");
    is_int(att(m, 0)->is_inline, 0, "related/mixed/alt: pdf not inline");
    is_str(att(m, 1)->path, "2", "related/mixed/alt: logo at 2");
    is_int(att(m, 1)->is_inline, 1, "related/mixed/alt: logo inline");
    is_str(att(m, 1)->content_location, "logo.png", "related/mixed/alt: ContentLocation");
    ok(eas_mime_part_get(pool, m, "1.1.2", &data, &len) == APR_SUCCESS && !strncmp(data, "<html>", 6),
       "related/mixed/alt: html at 1.1.2");
    is_int(m->conversation_index_len, 5, "Thread-Index without reply blocks");

    m = parse("nested-rfc822.eml");
    is_int(m->attachments->nelts, 1, "nested: the message is one attachment");
    is_int(att(m, 0)->method, 5, "nested: Method 5 embedded message");
    is_str(att(m, 0)->display_name, "Original report.eml", "nested: named after its subject");
    ok(eas_mime_part_get(pool, m, "2", &data, &len) == APR_SUCCESS
       && !strncmp(data, "From: Carol <carol@example.org>", 31) && (apr_off_t)len == att(m, 0)->size,
       "nested: the embedded message as .eml");
    ok(eas_mime_part_get(pool, m, "2.2", &data, &len) == APR_SUCCESS && len == 14
       && !memcmp(data, "a,b,c\r\n1,2,3\r\n", 14), "nested: IMAP path into the embedded message");
    ok(eas_mime_part_get(pool, m, "2.1", &data, &len) == APR_SUCCESS
       && !strncmp(data, "See the attached CSV.", 21), "nested: embedded text 2.1");

    m = parse("gmail-invite.eml");
    is_int(m->attachments->nelts, 1, "invite: only invite.ics is an attachment");
    is_str(att(m, 0)->display_name, "invite.ics", "invite: invite.ics");

    m = parse("malformed.eml");
    is_str(m->text, "Body text survives.", "malformed: text before the missing end boundary");
    is_str(m->subject, "broken MIME", "malformed: headers");
    is_int(m->date, 0, "malformed: unreadable Date is 0");
    is_int(m->attachments->nelts, 1, "malformed: truncated attachment listed");
    ok(eas_mime_part_get(pool, m, "2", &data, &len) == APR_SUCCESS
       && (apr_off_t)len == att(m, 0)->size && len >= 96 && !memcmp(data, "\x00\x01\x02\x03", 4),
       "malformed: truncated base64 gives what it has");

    {
        /* eas_mime_decode for a part fetched on its own. */
        static const char b64[] = "aGVsbG8g\r\nd29ybGQ=\r\n";

        n = 0;
        ok(eas_mime_decode("base64", b64, sizeof(b64) - 1, count_sink, &n) == APR_SUCCESS && n == 11,
           "decode base64 section");
        n = 0;
        ok(eas_mime_decode("quoted-printable", "a=3Db=\r\nc", 9, count_sink, &n) == APR_SUCCESS && n == 4,
           "decode quoted-printable section");
        n = 0;
        ok(eas_mime_decode(NULL, "raw", 3, count_sink, &n) == APR_SUCCESS && n == 3, "identity");
    }
}

/* A message with a 10 MB base64 attachment, built in memory. */
static void test_big_attachment(void)
{
    apr_size_t size = 10 * 1024 * 1024, i, enc_len, pos = 0;
    unsigned char *raw = apr_palloc(pool, size);
    char *enc, *msg;
    const char *head = "From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\n"
                       "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                       "--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
                       "--b\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n";
    const char *tail = "\r\n--b--\r\n";
    eas_mime_msg_t *m;
    const char *data;
    apr_size_t len;

    for (i = 0; i < size; i++)
        raw[i] = (unsigned char)((i * 7 + (i >> 12)) & 0xFF);
    enc = apr_palloc(pool, apr_base64_encode_len((int)size));
    enc_len = (apr_size_t)apr_base64_encode(enc, (const char *)raw, (int)size) - 1;
    msg = apr_palloc(pool, strlen(head) + enc_len + enc_len / 76 * 2 + strlen(tail) + 8);
    memcpy(msg, head, strlen(head));
    pos = strlen(head);
    for (i = 0; i < enc_len; i += 76) {
        apr_size_t n = enc_len - i < 76 ? enc_len - i : 76;
        memcpy(msg + pos, enc + i, n);
        pos += n;
        memcpy(msg + pos, "\r\n", 2);
        pos += 2;
    }
    memcpy(msg + pos, tail, strlen(tail));
    pos += strlen(tail);

    ok(eas_mime_parse(pool, msg, pos, 0, &m) == APR_SUCCESS, "10 MB: parses");
    is_int(att(m, 0)->size, size, "10 MB: exact decoded size");
    ok(eas_mime_part_get(pool, m, "2", &data, &len) == APR_SUCCESS && len == size
       && !memcmp(data, raw, size), "10 MB: content intact");
    is_str(m->text, "see attachment", "10 MB: body");
}

/* ---- meetings -------------------------------------------------------- */

static int le32(const unsigned char *b)
{
    return (int)(apr_uint32_t)(b[0] | b[1] << 8 | b[2] << 16 | (apr_uint32_t)b[3] << 24);
}

static int le16(const unsigned char *b)
{
    return b[0] | b[1] << 8;
}

static const char *ics_message(const char *uid, const char *extra)
{
    return apr_psprintf(pool,
        "From: o@example.com\r\nTo: a@example.com\r\nSubject: m\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
        "DTSTART:20240401T150000Z\r\nDTEND:20240401T160000Z\r\nDTSTAMP:20240325T120000Z\r\n"
        "%sEND:VEVENT\r\nEND:VCALENDAR\r\n", uid, extra);
}

static void test_meetings(void)
{
    eas_mime_msg_t *m;
    const eas_mime_meeting_t *mt;
    const eas_mime_recurrence_t *r;

    m = parse("gmail-invite.eml");
    mt = m->meeting;
    ok(mt != NULL, "invite: meeting found in the alternative");
    if (!mt)
        return;
    is_str(m->message_class, "IPM.Schedule.Meeting.Request", "invite: MessageClass");
    is_str(m->content_class, "urn:content-classes:calendarmessage", "invite: ContentClass");
    is_str(mt->method, "REQUEST", "invite: method");
    is_str(mt->uid, "7kukuqrfedlm2f4mnsqn8b9g3u@google.com", "invite: UID");
    is_int(mt->start, apr_time_from_sec(1710147600), "invite: 10:00 Berlin = 09:00Z");
    is_int(mt->end, apr_time_from_sec(1710149400), "invite: end");
    is_int(mt->dtstamp, apr_time_from_sec(1709640000), "invite: DtStamp");
    is_str(mt->location, "Room 4.01, Building B", "invite: location unescaped");
    is_str(mt->organizer, "\"Frank Organizer\" <frank@example.com>", "invite: organizer with CN");
    is_int(mt->instance_type, 1, "invite: recurring master");
    is_int(mt->reminder, 15, "invite: VALARM -15 min");
    is_int(mt->response_requested, 1, "invite: RSVP");
    is_int(mt->busy_status, 2, "invite: busy");
    is_int(mt->meeting_message_type, 1, "invite: initial request");
    r = mt->recurrence;
    ok(r != NULL, "invite: recurrence");
    if (r) {
        is_int(r->type, 1, "recurrence: weekly");
        is_int(r->interval, 1, "recurrence: every week");
        is_int(r->day_of_week, 2 | 8, "recurrence: Monday and Wednesday");
        is_int(r->until, apr_time_from_sec(1719784799), "recurrence: until");
        is_int(r->first_day_of_week, 1, "recurrence: WKST=MO");
    }
    /* MS-ASDTYPE 2.7.6 for Europe/Berlin: UTC+1, DST last Sunday of March 02:00
     * until last Sunday of October 03:00. */
    is_int(le32(mt->tzinfo), -60, "tz: bias");
    is_int(le16(mt->tzinfo + 68 + 2), 10, "tz: standard month October");
    is_int(le16(mt->tzinfo + 68 + 4), 0, "tz: standard on Sunday");
    is_int(le16(mt->tzinfo + 68 + 6), 5, "tz: standard last week");
    is_int(le16(mt->tzinfo + 68 + 8), 3, "tz: standard 03:00");
    is_int(le16(mt->tzinfo + 152 + 2), 3, "tz: daylight month March");
    is_int(le16(mt->tzinfo + 152 + 6), 5, "tz: daylight last week");
    is_int(le16(mt->tzinfo + 152 + 8), 2, "tz: daylight 02:00");
    is_int(le32(mt->tzinfo + 168), -60, "tz: daylight bias");
    is_int(le16(mt->tzinfo + 4), 'E', "tz: standard name from the TZID");

    m = parse("outlook-cancel.eml");
    mt = m->meeting;
    is_str(m->message_class, "IPM.Schedule.Meeting.Canceled", "cancel: MessageClass");
    ok(mt && !strcmp(mt->global_obj_id,
                     "BAAAAIIA4AB0xbcQGoLgCAAAAACwpcOh8G7ZAQAAAAAAAAAAEAAAAKbx1bakwOhNniwtDB4/Wns="),
       "cancel: an Outlook UID is the GlobalObjId in hex");
    if (mt) {
        is_int(mt->sensitivity, 2, "cancel: CLASS:PRIVATE");
        is_int(mt->busy_status, 0, "cancel: INTENDEDSTATUS FREE");
        is_int(mt->disallow_new_time, 1, "cancel: DISALLOW-COUNTER");
        is_int(mt->response_requested, 0, "cancel: RSVP=FALSE");
        is_int(mt->start, apr_time_from_sec(1721077200), "cancel: 14:00 PDT = 21:00Z");
        is_int(le32(mt->tzinfo), 480, "cancel: Pacific bias");
        is_int(le16(mt->tzinfo + 68 + 2), 11, "cancel: standard in November");
        is_int(le16(mt->tzinfo + 68 + 6), 1, "cancel: first Sunday");
        is_int(le16(mt->tzinfo + 152 + 2), 3, "cancel: daylight in March");
        is_int(le16(mt->tzinfo + 152 + 6), 2, "cancel: second Sunday");
    }

    m = parse("apple-reply-accepted.eml");
    is_str(m->message_class, "IPM.Schedule.Meeting.Resp.Pos", "reply: accepted is Resp.Pos");
    ok(m->meeting && !strcmp(m->meeting->partstat, "ACCEPTED"), "reply: PARTSTAT");

    /* MS-ASEMAIL 4.3 example 2, the other way round. */
    m = parse_str(ics_message("{81412D3C-2A24-4E9D-B20E-11F7BBE92799}", ""));
    ok(m->meeting && !strcmp(m->meeting->global_obj_id,
        "BAAAAIIA4AB0xbcQGoLgCAAAAAAAAAAAAAAAAAAAAAAAAAAAMwAAAHZDYWwtVWlkAQAAAHs4MTQxMkQzQy0yQTI0LTRFOUQtQjIwRS0xMUY3QkJFOTI3OTl9AA=="),
       "GlobalObjId of a vCal UID (MS-ASEMAIL 4.3 example 2)");
    /* MS-ASEMAIL 4.3 example 1: the UID that came from an Outlook GlobalObjId. */
    m = parse_str(ics_message("040000008200E00074C5B7101A82E00800000000E040C9C12685C4010000000000000000100000000BF0ED4B6E4EE94E9E39E3867B378EF3", ""));
    ok(m->meeting && !strcmp(m->meeting->global_obj_id,
        "BAAAAIIA4AB0xbcQGoLgCAAAAADgQMnBJoXEAQAAAAAAAAAAEAAAAAvw7UtuTulOnjnjhns3jvM="),
       "GlobalObjId of an Outlook UID (MS-ASEMAIL 4.3 example 1)");
    is_int(le32(m->meeting->tzinfo), 0, "UTC times: UTC blob");

    m = parse_str(ics_message("u1", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=6\r\n"));
    r = m->meeting ? m->meeting->recurrence : NULL;
    ok(r && r->type == 3 && r->week_of_month == 5 && r->day_of_week == 32 && r->occurrences == 6,
       "monthly on the last Friday, 6 times");
    m = parse_str(ics_message("u2", "RRULE:FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=1\r\n"));
    r = m->meeting ? m->meeting->recurrence : NULL;
    ok(r && r->type == 5 && r->month_of_year == 4 && r->day_of_month == 1, "yearly on April 1");
    m = parse_str(ics_message("u3", "RRULE:FREQ=DAILY;INTERVAL=2\r\nRECURRENCE-ID:20240403T150000Z\r\n"));
    ok(m->meeting && m->meeting->recurrence && m->meeting->recurrence->type == 0
       && m->meeting->recurrence->interval == 2, "every other day");
    ok(m->meeting && m->meeting->instance_type == 3 && m->meeting->recurrence_id, "an exception instance");
    m = parse_str(ics_message("u4", "SEQUENCE:3\r\nCLASS:CONFIDENTIAL\r\n"));
    ok(m->meeting && m->meeting->meeting_message_type == 2 && m->meeting->sensitivity == 3,
       "an updated request");
    m = parse_str("From: o@example.com\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
    ok(m && !m->meeting && !strcmp(m->message_class, "IPM.Note"), "a calendar without VEVENT is no meeting");
}


/* Meeting times through the invitation's own VTIMEZONE agree with libical's
 * conversion (the oracle) on every day of the year, in zones north and
 * south of the equator, without DST, in the old US rule form and after DST
 * was abolished. */
static const char *const vtimezones[] = {
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE\r\n",
    "BEGIN:VTIMEZONE\r\nTZID:AUS Eastern Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=4\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+1000\r\n"
    "TZOFFSETTO:+1100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=10\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE\r\n",
    "BEGIN:VTIMEZONE\r\nTZID:India Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
    "TZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
    "BEGIN:VTIMEZONE\r\nTZID:US/Eastern\r\nBEGIN:DAYLIGHT\r\nDTSTART:20070311T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYMONTHDAY=8,9,10,11,12,13,14\r\nTZOFFSETFROM:-0500\r\n"
    "TZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nDTSTART:20071104T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE\r\n",
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Istanbul\r\nBEGIN:DAYLIGHT\r\nDTSTART:19960331T030000\r\n"
    "RRULE:FREQ=YEARLY;UNTIL=20150329T010000Z;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0300\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nDTSTART:19961027T040000\r\n"
    "RRULE:FREQ=YEARLY;UNTIL=20151108T010000Z;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0300\r\n"
    "TZOFFSETTO:+0200\r\nEND:STANDARD\r\nBEGIN:STANDARD\r\nDTSTART:20160907T000000\r\n"
    "TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
};

static void test_zone_oracle(void)
{
    unsigned z;

    for (z = 0; z < sizeof(vtimezones) / sizeof(vtimezones[0]); z++) {
        icalcomponent *vtz = icalparser_parse_string(vtimezones[z]);
        icaltimezone *oracle = icaltimezone_new();
        const char *tzid = icalproperty_get_tzid(icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY));
        int day, hour, bad = 0, checked = 0, year = z == 4 ? 2019 : 2024;

        icaltimezone_set_component(oracle, vtz);
        for (day = 0; day < 365 && !bad; day += 1) {
            for (hour = 0; hour < 24 && !bad; hour += 6) {
                struct icaltimetype tt = icaltime_from_day_of_year(day + 1, year);
                apr_pool_t *sp;
                eas_mime_msg_t *m;
                const char *msg;
                apr_time_t want;

                tt.hour = hour;
                tt.minute = tt.second = 0;
                tt.is_date = 0;
                want = apr_time_from_sec((apr_time_t)icaltime_as_timet_with_zone(tt, oracle));
                apr_pool_create(&sp, pool);
                msg = apr_psprintf(sp,
                    "From: o@example.com\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
                    "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n%sBEGIN:VEVENT\r\nUID:z\r\n"
                    "DTSTART;TZID=\"%s\":%04d%02d%02dT%02d0000\r\nDTSTAMP:20240101T000000Z\r\n"
                    "END:VEVENT\r\nEND:VCALENDAR\r\n", vtimezones[z], tzid, tt.year, tt.month, tt.day, hour);
                eas_mime_parse(sp, msg, strlen(msg), 0, &m);
                checked++;
                if (!m->meeting || m->meeting->start != want) {
                    diag("%s %04d-%02d-%02d %02d:00: got %" APR_TIME_T_FMT ", want %" APR_TIME_T_FMT,
                         tzid, tt.year, tt.month, tt.day, hour,
                         m->meeting ? apr_time_sec(m->meeting->start) : 0, apr_time_sec(want));
                    bad = 1;
                }
                apr_pool_destroy(sp);
            }
        }
        ok(!bad && checked == 365 * 4, apr_psprintf(pool, "%s: the invitation's rules agree with libical", tzid));
        icaltimezone_free(oracle, 1);
    }
}

/* ---- writing ApplicationData ----------------------------------------- */

static void test_write_versions(void)
{
    eas_mime_msg_t *m = parse("thunderbird-mixed.eml");
    eas_mime_options_t o;
    eas_node_t *root, *n;
    eas_mime_state_t st;

    memset(&st, 0, sizeof(st));
    o = opts(141, EAS_BODY_HTML, EAS_MIME_NO_TRUNCATION);
    o.file_ref_prefix = "5:42:";
    o.user_address = "JOERG@example.de";
    root = write_doc(m, &st, &o);
    ok(root != NULL, "14.1: writes and decodes");
    if (!root)
        return;
    ok(tree_valid(root->first), "14.1: all text valid UTF-8");
    is_str(ctext(root, EAS_Email_Subject), "Re: Vertrag f\xC3\xBCr M\xC3\xBCnchen", "14.1: Subject");
    is_str(ctext(root, EAS_Email_Read), "0", "14.1: unread");
    is_str(ctext(root, EAS_Email_MessageClass), "IPM.Note", "14.1: MessageClass");
    is_str(ctext(root, EAS_Email_InternetCPID), "65001", "14.1: InternetCPID");
    is_str(ctext(root, EAS_AirSyncBase_NativeBodyType), "2", "14.1: NativeBodyType");
    is_str(ctext(root, EAS_Email2_ReceivedAsBcc), "0", "14.1: ReceivedAsBcc 0 for a To recipient");
    n = eas_node_child(root, EAS_Email2_ConversationId);
    ok(n && n->opaque && n->len == 16 && !memcmp(n->text, m->conversation_id, 16), "14.1: ConversationId opaque");
    n = eas_node_child(root, EAS_Email2_ConversationIndex);
    ok(n && n->opaque && n->len == 15, "14.1: ConversationIndex opaque");
    n = eas_node_child(root, EAS_Email_Flag);
    ok(n && !n->first, "14.1: an empty Flag when not flagged");
    n = eas_node_child(root, EAS_Email_Categories);
    ok(n && !n->first, "14.1: empty Categories");
    n = eas_node_path(root, 2, EAS_AirSyncBase_Attachments, EAS_AirSyncBase_Attachment);
    ok(n != NULL, "14.1: AirSyncBase attachments");
    if (n) {
        is_str(ctext(n, EAS_AirSyncBase_FileReference), "5:42:2", "14.1: FileReference prefix + path");
        is_str(ctext(n, EAS_AirSyncBase_Method), "1", "14.1: Method");
        is_str(ctext(n, EAS_AirSyncBase_EstimatedDataSize), apr_psprintf(pool, "%d", (int)sizeof(pdf_bytes) - 1),
               "14.1: attachment size");
        is_str(ctext(n, EAS_AirSyncBase_IsInline), "0", "14.1: IsInline");
        n = eas_node_next_same(n);
        is_str(n ? ctext(n, EAS_AirSyncBase_DisplayName) : NULL, "B\xC3\xBCro 2024.jpg", "14.1: second attachment");
    }
    ok(!eas_node_child(root, EAS_Email_Attachments), "14.1: no 2.5 attachments");

    o.version = 121;
    root = write_doc(m, &st, &o);
    ok(root && !eas_node_child(root, EAS_Email2_ConversationId), "12.1: no ConversationId");
    ok(root && !eas_node_child(root, EAS_Email_Categories), "12.1: no Categories");
    ok(root && eas_node_child(root, EAS_Email_Flag), "12.1: Flag");
    ok(root && eas_node_child(root, EAS_Email_InternetCPID), "12.1: InternetCPID");

    o.version = 25;
    o.truncation = eas_mime_truncation_size(1);
    root = write_doc(m, &st, &o);
    ok(root && !eas_node_child(root, EAS_AirSyncBase_Body), "2.5: no AirSyncBase body");
    ok(root && !eas_node_child(root, EAS_Email_InternetCPID), "2.5: no InternetCPID");
    ok(root && !eas_node_child(root, EAS_Email_Flag), "2.5: no Flag");
    n = root ? eas_node_path(root, 2, EAS_Email_Attachments, EAS_Email_Attachment) : NULL;
    is_str(n ? ctext(n, EAS_Email_AttName) : NULL, "5:42:2", "2.5: AttName");
    is_str(n ? ctext(n, EAS_Email_AttMethod) : NULL, "1", "2.5: AttMethod");
    is_str(root ? ctext(root, EAS_Email_BodyTruncated) : NULL, "0", "2.5: 512 is enough");
    ok(root && ctext(root, EAS_Email_Body) && !strncmp(ctext(root, EAS_Email_Body), "Hallo J\xC3\xB6rg,", 10),
       "2.5: plain Body");
    o.truncation = eas_mime_truncation_size(0);
    root = write_doc(m, &st, &o);
    ok(root && !eas_node_child(root, EAS_Email_Body), "2.5: Truncation 0 sends no text");
    is_str(root ? ctext(root, EAS_Email_BodyTruncated) : NULL, "1", "2.5: BodyTruncated");
    is_str(root ? ctext(root, EAS_Email_BodySize) : NULL, apr_psprintf(pool, "%d", (int)m->text_len),
           "2.5: BodySize");
    o.mime_support = 2;
    o.mime_truncation = eas_mime_mime_truncation_size(1);
    root = write_doc(m, &st, &o);
    is_str(root ? ctext(root, EAS_Email_MIMETruncated) : NULL, "0", "2.5: MIME fits 4096");
    is_str(root ? ctext(root, EAS_Email_MIMESize) : NULL, apr_psprintf(pool, "%d", (int)m->size), "2.5: MIMESize");
    ok(root && !eas_node_child(root, EAS_Email_Body), "2.5: MIMEData instead of Body");

    is_int(eas_mime_truncation_size(9), (long long)EAS_MIME_NO_TRUNCATION, "Truncation 9 is all");
    is_int(eas_mime_truncation_size(4), 5120, "Truncation 4 is 5120");
    is_int(eas_mime_mime_truncation_size(8), (long long)EAS_MIME_NO_TRUNCATION, "MIMETruncation 8 is all");
    is_int(eas_mime_mime_truncation_size(7), 102400, "MIMETruncation 7 is 102400");

    /* Meetings per version. */
    m = parse("gmail-invite.eml");
    o = opts(161, EAS_BODY_PLAIN, EAS_MIME_NO_TRUNCATION);
    root = write_doc(m, &st, &o);
    n = root ? eas_node_child(root, EAS_Email_MeetingRequest) : NULL;
    ok(n != NULL, "16.1: MeetingRequest");
    if (n) {
        is_str(ctext(n, EAS_Email_StartTime), "2024-03-11T09:00:00.000Z", "16.1: StartTime");
        is_str(ctext(n, EAS_Email_DtStamp), "2024-03-05T12:00:00.000Z", "16.1: DtStamp");
        ok(!eas_node_child(n, EAS_Email_Location), "16.1: no Email:Location");
        is_str(eas_node_child_text(eas_node_child(n, EAS_AirSyncBase_Location), EAS_AirSyncBase_DisplayName),
               "Room 4.01, Building B", "16.1: airsyncbase:Location");
        is_str(ctext(n, EAS_Email_GlobalObjId), m->meeting->global_obj_id, "16.1: GlobalObjId");
        is_str(ctext(n, EAS_Email2_MeetingMessageType), "1", "16.1: MeetingMessageType");
        is_str(eas_node_child_text(eas_node_path(n, 2, EAS_Email_Recurrences, EAS_Email_Recurrence),
                                   EAS_Email_DayOfWeek), "10", "16.1: recurrence days");
        ok(ctext(n, EAS_Email_TimeZone) && strlen(ctext(n, EAS_Email_TimeZone)) == 232, "16.1: TimeZone is 172 bytes");
    }
    o.version = 120;
    root = write_doc(m, &st, &o);
    n = root ? eas_node_child(root, EAS_Email_MeetingRequest) : NULL;
    is_str(n ? ctext(n, EAS_Email_Location) : NULL, "Room 4.01, Building B", "12.0: Email:Location");
    ok(n && !eas_node_child(n, EAS_Email2_MeetingMessageType), "12.0: no MeetingMessageType");
    ok(n && !eas_node_child(n, EAS_Email_DisallowNewTimeProposal), "12.0: no DisallowNewTimeProposal");
    m = parse("apple-reply-accepted.eml");
    root = write_doc(m, &st, &o);
    ok(root && !eas_node_child(root, EAS_Email_MeetingRequest), "a meeting reply has no MeetingRequest");
}

static void test_write_bodies(void)
{
    eas_mime_msg_t *m;
    eas_mime_options_t o;
    eas_mime_bodypref_t prefs[3];
    const eas_node_t *b;
    eas_node_t *root;
    const char *d;
    apr_size_t i;

    /* Native HTML, plain asked, truncated on a character boundary. */
    m = parse("shift-jis.eml");
    for (i = 1; i <= 40; i++) {
        o = opts(141, EAS_BODY_PLAIN, i);
        root = write_doc(m, NULL, &o);
        b = root ? body_node(root) : NULL;
        d = b ? eas_node_child_text(b, EAS_AirSyncBase_Data) : "";
        if (!d)
            d = "";
        if (!(valid(d, strlen(d)) && strlen(d) <= i && !strncmp(d, m->text, strlen(d))
              && strlen(d) + 3 > i)) {
            ok(0, apr_psprintf(pool, "truncation at %d bytes keeps whole characters", (int)i));
            break;
        }
    }
    if (i > 40)
        ok(1, "truncation at 1..40 bytes always ends on a character boundary");

    m = parse("outlook-cp1252.eml");
    o = opts(141, EAS_BODY_PLAIN, 20);
    root = write_doc(m, NULL, &o);
    b = root ? body_node(root) : NULL;
    is_str(b ? ctext(b, EAS_AirSyncBase_Type) : NULL, "1", "plain asked of HTML mail: Type 1");
    is_str(b ? ctext(b, EAS_AirSyncBase_Truncated) : NULL, "1", "Truncated 1");
    is_str(b ? ctext(b, EAS_AirSyncBase_EstimatedDataSize) : NULL, apr_psprintf(pool, "%d", (int)m->text_len),
           "EstimatedDataSize is the whole body");
    is_str(b ? ctext(b, EAS_AirSyncBase_Data) : NULL, "Hello team,\r\n\r\npleas", "Data is the first 20 bytes");

    /* Both types asked: the native one. */
    memset(prefs, 0, sizeof(prefs));
    prefs[0].type = EAS_BODY_PLAIN;
    prefs[0].truncation_size = EAS_MIME_NO_TRUNCATION;
    prefs[1].type = EAS_BODY_HTML;
    prefs[1].truncation_size = EAS_MIME_NO_TRUNCATION;
    o = opts(141, 1, 0);
    o.body_prefs = prefs;
    o.n_body_prefs = 2;
    root = write_doc(m, NULL, &o);
    is_str(root ? ctext(body_node(root), EAS_AirSyncBase_Type) : NULL, "2", "plain+HTML asked of HTML mail: HTML");
    root = write_doc(parse("plain-ascii.eml"), NULL, &o);
    is_str(root ? ctext(body_node(root), EAS_AirSyncBase_Type) : NULL, "1", "plain+HTML asked of plain mail: plain");

    /* AllOrNone: HTML does not fit, plain does. */
    prefs[0].type = EAS_BODY_HTML;
    prefs[0].truncation_size = 100;
    prefs[0].all_or_none = 1;
    prefs[1].type = EAS_BODY_PLAIN;
    prefs[1].truncation_size = 1000;
    root = write_doc(m, NULL, &o);
    b = root ? body_node(root) : NULL;
    is_str(b ? ctext(b, EAS_AirSyncBase_Type) : NULL, "1", "AllOrNone: the type that fits");
    is_str(b ? ctext(b, EAS_AirSyncBase_Truncated) : NULL, "0", "AllOrNone: not truncated");
    o.n_body_prefs = 1;
    root = write_doc(m, NULL, &o);
    b = root ? body_node(root) : NULL;
    is_str(b ? ctext(b, EAS_AirSyncBase_Truncated) : NULL, "1", "AllOrNone alone: Truncated");
    ok(b && !eas_node_child(b, EAS_AirSyncBase_Data), "AllOrNone alone: no Data");

    /* HTML asked of a plain message: escaped, linked. */
    m = parse("plain-ascii.eml");
    o = opts(140, EAS_BODY_HTML, EAS_MIME_NO_TRUNCATION);
    root = write_doc(m, NULL, &o);
    d = root ? ctext(body_node(root), EAS_AirSyncBase_Data) : NULL;
    ok(d && strstr(d, "&lt;here&gt; &amp; bring"), "plain -> HTML escapes");
    ok(d && strstr(d, "<a href=\"https://maps.example/place\">"), "plain -> HTML links URLs");
    ok(d && strstr(d, "<br>"), "plain -> HTML keeps line breaks");

    /* Preview (14.0+) from the plain text. */
    m = parse("html-only.eml");
    prefs[0].type = EAS_BODY_HTML;
    prefs[0].truncation_size = 0;
    prefs[0].all_or_none = 0;
    prefs[0].preview = 20;
    o = opts(140, 1, 0);
    o.body_prefs = prefs;
    o.n_body_prefs = 1;
    root = write_doc(m, NULL, &o);
    b = root ? body_node(root) : NULL;
    is_str(b ? ctext(b, EAS_AirSyncBase_Preview) : NULL, "Deals & offers Caf\xC3\xA9",
           "Preview: at most 20 characters, white space folded");
    ok(b && !eas_node_child(b, EAS_AirSyncBase_Data), "TruncationSize 0: no Data");
    o.version = 121;
    root = write_doc(m, NULL, &o);
    ok(root && !eas_node_child(body_node(root), EAS_AirSyncBase_Preview), "12.1: no Preview");

    /* BodyPart (14.1+). */
    prefs[1].type = EAS_BODY_HTML;
    prefs[1].truncation_size = 50;
    prefs[1].all_or_none = 0;
    prefs[1].preview = 0;
    o = opts(141, EAS_BODY_PLAIN, EAS_MIME_NO_TRUNCATION);
    o.part_prefs = &prefs[1];
    o.n_part_prefs = 1;
    root = write_doc(m, NULL, &o);
    b = root ? eas_node_child(root, EAS_AirSyncBase_BodyPart) : NULL;
    is_str(b ? ctext(b, EAS_AirSyncBase_Status) : NULL, "1", "BodyPart Status");
    is_str(b ? ctext(b, EAS_AirSyncBase_Type) : NULL, "2", "BodyPart Type HTML");
    ok(b && ctext(b, EAS_AirSyncBase_Data) && strlen(ctext(b, EAS_AirSyncBase_Data)) <= 50, "BodyPart truncated");
    o.version = 140;
    root = write_doc(m, NULL, &o);
    ok(root && !eas_node_child(root, EAS_AirSyncBase_BodyPart), "14.0: no BodyPart");

    /* MIME (Type 4). */
    m = parse("smime-signed.eml");
    memset(prefs, 0, sizeof(prefs));
    prefs[0].type = EAS_BODY_MIME;
    prefs[0].truncation_size = EAS_MIME_NO_TRUNCATION;
    prefs[1].type = EAS_BODY_HTML;
    prefs[1].truncation_size = EAS_MIME_NO_TRUNCATION;
    o = opts(141, 1, 0);
    o.body_prefs = prefs;
    o.n_body_prefs = 2;
    o.mime_support = 1;
    root = write_doc(m, NULL, &o);
    b = root ? body_node(root) : NULL;
    is_str(b ? ctext(b, EAS_AirSyncBase_Type) : NULL, "4", "S/MIME with MIMESupport 1: MIME");
    {
        apr_size_t n;
        const char *raw = load("smime-signed.eml", &n);
        const eas_node_t *dn = b ? eas_node_child(b, EAS_AirSyncBase_Data) : NULL;
        ok(dn && dn->len == n && !memcmp(dn->text, raw, n), "S/MIME: MIME is the message byte for byte");
    }
    is_str(root ? ctext(root, EAS_Email_MessageClass) : NULL, "IPM.Note.SMIME.MultipartSigned",
           "S/MIME: MessageClass written");
    root = write_doc(parse("plain-ascii.eml"), NULL, &o);
    is_str(root ? ctext(body_node(root), EAS_AirSyncBase_Type) : NULL, "2",
           "MIMESupport 1 of a normal message: not MIME but the other type asked for");
    o.mime_support = 2;
    m = parse("latin1-8bit.eml");
    root = write_doc(m, NULL, &o);
    d = root ? ctext(body_node(root), EAS_AirSyncBase_Data) : NULL;
    ok(d && valid(d, strlen(d)), "MIME of an 8-bit Latin-1 message is valid UTF-8");
    {
        eas_mime_msg_t *again = d ? parse_str(d) : NULL;
        ok(again && !strcmp(again->text, m->text), "... re-encoded so that it reads the same");
    }
    o.n_body_prefs = 0;
    root = write_doc(m, NULL, &o);
    is_str(root ? ctext(body_node(root), EAS_AirSyncBase_Type) : NULL, "1", "no preference: plain text");
}

static void test_write_state(void)
{
    eas_mime_msg_t *m = parse("plain-ascii.eml");
    eas_mime_options_t o = opts(161, EAS_BODY_PLAIN, EAS_MIME_NO_TRUNCATION);
    eas_mime_state_t st;
    eas_mime_flag_t fl;
    const char *cats[] = {"Work", "Caf\xC3\xA9"};
    eas_node_t *root, *n;
    eas_wbxml_writer_t *w;
    const char *data;
    apr_size_t len;

    memset(&st, 0, sizeof(st));
    st.seen = 1;
    st.flagged = 1;
    st.answered = 1;
    st.categories = cats;
    st.n_categories = 2;
    o.user_address = "someone.else@example.com";
    root = write_doc(m, &st, &o);
    is_str(root ? ctext(root, EAS_Email_Read) : NULL, "1", "Read from \\Seen");
    n = root ? eas_node_child(root, EAS_Email_Flag) : NULL;
    is_str(n ? ctext(n, EAS_Email_Status) : NULL, "2", "\\Flagged: active flag");
    is_str(n ? ctext(n, EAS_Email_FlagType) : NULL, "Flag for follow up", "FlagType");
    n = root ? eas_node_child(root, EAS_Email_Categories) : NULL;
    is_str(n ? ctext(n, EAS_Email_Category) : NULL, "Work", "first category");
    is_str(n && n->first ? eas_node_next_same(n->first)->text : NULL, "Caf\xC3\xA9", "second category");
    is_str(root ? ctext(root, EAS_Email2_LastVerbExecuted) : NULL, "1", "\\Answered: reply");
    is_str(root ? ctext(root, EAS_Email2_ReceivedAsBcc) : NULL, "1", "ReceivedAsBcc");

    memset(&fl, 0, sizeof(fl));
    fl.status = 1;
    fl.complete_time = apr_time_from_sec(1710000000);
    fl.utc_due_date = apr_time_from_sec(1710086400);
    st.flag = &fl;
    st.answered = 0;
    st.forwarded = 1;
    st.last_verb_time = apr_time_from_sec(1710001000);
    root = write_doc(m, &st, &o);
    n = root ? eas_node_child(root, EAS_Email_Flag) : NULL;
    is_str(n ? ctext(n, EAS_Email_Status) : NULL, "1", "flag details: complete");
    is_str(n ? ctext(n, EAS_Email_CompleteTime) : NULL, "2024-03-09T16:00:00.000Z", "CompleteTime");
    is_str(n ? ctext(n, EAS_Tasks_UtcDueDate) : NULL, "2024-03-10T16:00:00.000Z", "tasks:UtcDueDate");
    is_str(root ? ctext(root, EAS_Email2_LastVerbExecuted) : NULL, "3", "$Forwarded: forward");
    is_str(root ? ctext(root, EAS_Email2_LastVerbExecutionTime) : NULL, "2024-03-09T16:16:40.000Z",
           "LastVerbExecutionTime");

    w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_wbxml_start(w, EAS_AirSync_ApplicationData);
    memset(&st, 0, sizeof(st));
    ok(eas_mime_write_state(pool, &st, 121, w) == APR_SUCCESS, "write_state");
    eas_wbxml_end(w);
    root = NULL;
    if (eas_wbxml_finish(w, &data, &len) == APR_SUCCESS)
        eas_wbxml_decode(pool, data, len, NULL, &root, NULL);
    is_str(root ? ctext(root, EAS_Email_Read) : NULL, "0", "state: Read");
    ok(root && eas_node_child(root, EAS_Email_Flag) && !eas_node_child(root, EAS_Email_Categories),
       "state 12.1: Flag, no Categories");
}

/* ---- text helpers ---------------------------------------------------- */

static const char *h2t(const char *html)
{
    apr_size_t n;

    return eas_mime_html_to_text(pool, html, strlen(html), &n);
}

static const char *unflow(const char *text, int delsp)
{
    apr_size_t n;

    return eas_mime_unflow(pool, text, strlen(text), delsp, &n);
}

static void test_text(void)
{
    apr_size_t n;
    const char *s;
    static const char bad[] = "ok \xC3\xA9 \xff\xfe \xc3 end";

    s = h2t("<p>a &amp; b</p><p>c<br>d</p>");
    is_str(s, "a & b\r\n\r\nc\r\nd", "html: paragraphs and <br>");
    s = h2t("x<script>alert('<p>')</script>y<style>p{}</style>z");
    is_str(s, "xyz", "html: script and style dropped");
    s = h2t("a &#8364; &#x41; &#150; &bogus; &lt &copy");
    is_str(s, "a \xE2\x82\xAC A \xE2\x80\x93 &bogus; < \xC2\xA9", "html: numeric, legacy and unknown entities");
    s = h2t("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>");
    is_str(s, "a b\r\nc", "html: table cells and rows");
    s = h2t("1 < 2 and <b>bold</b>");
    is_str(s, "1 < 2 and bold", "html: a lone < is text");
    s = h2t("<head><title>t</title>no end of head <p>x");
    is_str(s, "no end of head\r\n\r\nx", "html: an unclosed head does not hide the body");
    s = h2t("<p>unclosed <script>bad");
    is_str(s, "unclosed", "html: unclosed script hides the rest");

    s = "a <b> & c\nhttp://x.example/";
    s = eas_mime_text_to_html(pool, s, strlen(s), &n);
    ok(strstr(s, "a &lt;b&gt; &amp; c<br>") && strstr(s, "<a href=\"http://x.example/\">http://x.example/</a>"),
       "text -> html: escaped, <br>, linked");
    s = "  see www.x.example, or https://y.example/a?b=1&c=2).\nmailhttp://no";
    s = eas_mime_text_to_html(pool, s, strlen(s), &n);
    ok(strstr(s, "<body>&nbsp;&nbsp;see <a href=\"http://www.x.example\">www.x.example</a>, or "
                 "<a href=\"https://y.example/a?b=1&amp;c=2\">https://y.example/a?b=1&amp;c=2</a>).<br>")
       && strstr(s, "mailhttp://no</body>"), "text -> html: indentation, URL ends, word boundary");

    s = unflow("one \r\ntwo\r\n> q1 \r\n> q2\r\n-- \r\nsig\r\n", 0);
    is_str(s, "one two\r\n> q1 q2\r\n-- \r\nsig", "unflow: soft breaks, quotes, sig separator");
    s = unflow("ab \r\ncd", 1);
    is_str(s, "abcd", "unflow: DelSp=yes");

    is_int(eas_mime_utf8_cut("a\xC3\xA9z", 4, 2), 1, "cut: not inside a character");
    is_int(eas_mime_utf8_cut("a\xC3\xA9z", 4, 3), 3, "cut: after a character");
    is_int(eas_mime_utf8_cut("abc", 3, 10), 3, "cut: short enough");
    is_str(eas_mime_preview(pool, "  a \r\n\t b  c ", 13, 255), "a b c", "preview: white space folded");
    is_str(eas_mime_preview(pool, "\xC3\xA9\xC3\xA9\xC3\xA9", 6, 2), "\xC3\xA9\xC3\xA9", "preview: counts characters");

    is_int(eas_mime_cpid("UTF-8"), 65001, "cpid utf-8");
    is_int(eas_mime_cpid("\"ISO-8859-15\""), 28605, "cpid quoted iso-8859-15");
    is_int(eas_mime_cpid("ks_c_5601-1987"), 949, "cpid Korean");
    is_int(eas_mime_cpid("x-nonsense"), 65001, "cpid unknown");

    s = eas_mime_to_utf8(pool, "utf-8", bad, sizeof(bad) - 1, &n, NULL);
    ok(valid(s, n) && strstr(s, "\xEF\xBF\xBD"), "utf-8 with broken bytes: U+FFFD");
    s = eas_mime_to_utf8(pool, "bogus-charset-name", "caf\xe9", 4, &n, NULL);
    is_str(s, "caf\xC3\xA9", "unknown label, Latin-1 bytes");
    s = eas_mime_to_utf8(pool, NULL, "plain", 5, &n, NULL);
    is_str(s, "plain", "no label, ASCII");
    s = eas_mime_to_utf8(pool, "iso-8859-1", "\x93quoted\x94", 8, &n, NULL);
    is_str(s, "\xE2\x80\x9Cquoted\xE2\x80\x9D", "ISO-8859-1 read as windows-1252");
    s = eas_mime_to_utf8(pool, "iso-8859-1", "caf\xC3\xA9", 5, &n, NULL);
    is_str(s, "caf\xC3\xA9", "UTF-8 under a Latin-1 label");
    s = eas_mime_to_utf8(pool, "windows-1251", "\xcf\xf0\xe8\xe2\xe5\xf2", 6, &n, NULL);
    is_str(s, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "windows-1251");
    s = eas_mime_to_utf8(pool, "utf-8", "a\0b", 3, &n, NULL);
    is_str(s, "ab", "NUL dropped");
}

/* ---- sending --------------------------------------------------------- */

static const eas_mime_sender_t *user(eas_from_policy_e policy)
{
    static const char *aliases[] = {"anna.schmidt@example.com"};
    eas_mime_sender_t *s = apr_pcalloc(pool, sizeof(*s));

    s->address = "anna@example.com";
    s->name = "Anna Schmidt";
    s->aliases = aliases;
    s->n_aliases = 1;
    s->from_policy = policy;
    return s;
}

static eas_mime_compose_t compose_of(eas_compose_kind_e kind, const char *mime, const char *orig_file)
{
    eas_mime_compose_t c;

    memset(&c, 0, sizeof(c));
    c.kind = kind;
    c.mime = mime;
    c.mime_len = mime ? strlen(mime) : 0;
    if (orig_file)
        c.orig = load(orig_file, &c.orig_len);
    c.now = apr_time_from_sec(1710400000);
    return c;
}

static int has_rcpt(const eas_mime_outgoing_t *o, const char *a)
{
    int i;

    for (i = 0; i < o->rcpt->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(o->rcpt, i, const char *), a))
            return 1;
    return 0;
}

static const char client_plain[] =
    "From: Anna Schmidt <ANNA@example.com>\r\n"
    "To: Ben Miller <ben@example.org>, dana@corp.example.com\r\n"
    "Cc: ben@example.org\r\n"
    "Bcc: secret@example.net,\r\n Boss <boss@example.net>\r\n"
    "Subject: Re: lunch?\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Sure, see you there. \xE2\x9C\x93\r\n";

static const char client_alt[] =
    "From: anna@example.com\r\n"
    "To: chris.taylor@corp.example.com\r\n"
    "Subject: RE: Q1 numbers\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThanks!\r\n"
    "--alt\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n"
    "<html><body><p>Thanks!</p></body></html>\r\n"
    "--alt--\r\n";

static void test_send(void)
{
    eas_mime_compose_t c;
    eas_mime_outgoing_t *o;
    const char *why, *b, *ib;
    apr_size_t bl, ibl;

    c = compose_of(EAS_COMPOSE_SEND, client_plain, NULL);
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "send: ok");
    if (!o)
        return;
    ok(!header(o->data, "Bcc") && !strstr(o->data, "secret@example.net"), "send: Bcc stripped for SMTP");
    ok(header(o->sent, "Bcc") && strstr(o->sent, "boss@example.net"), "send: Bcc kept in the Sent copy");
    is_int(o->rcpt->nelts, 4, "send: four distinct recipients");
    ok(has_rcpt(o, "ben@example.org") && has_rcpt(o, "dana@corp.example.com")
       && has_rcpt(o, "secret@example.net") && has_rcpt(o, "boss@example.net"), "send: To, Cc and Bcc");
    is_str(header(o->data, "From"), "From: Anna Schmidt <ANNA@example.com>", "send: the user's From is kept");
    ok(header(o->data, "Date") != NULL, "send: Date added");
    ok(o->message_id && strstr(o->message_id, "@example.com")
       && !strcmp(header(o->data, "Message-ID"), apr_psprintf(pool, "Message-ID: <%s>", o->message_id)),
       "send: Message-ID added");
    is_str(o->envelope_from, "anna@example.com", "send: envelope sender");
    b = body_of(o->data, o->len, &bl);
    ib = body_of(client_plain, sizeof(client_plain) - 1, &ibl);
    ok(bl == ibl && !memcmp(b, ib, bl), "send: body untouched");

    /* A foreign From. */
    c.mime = apr_pstrcat(pool, "From: Mallory <ceo@bank.example>\r\n", strchr(client_plain, '\n') + 1, NULL);
    c.mime_len = strlen(c.mime);
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_E_SENDAS,
           "send: foreign From rejected");
    ok(o == NULL && why, "send: with a reason");
    is_int(eas_mime_compose(pool, user(EAS_FROM_REWRITE), &c, &o, &why), EAS_COMPOSE_OK, "send: foreign From rewritten");
    is_str(o ? header(o->data, "From") : NULL, "From: Anna Schmidt <anna@example.com>", "send: From is the user");
    ok(o && !strstr(o->data, "bank.example"), "send: nothing left of the foreign From");

    /* An alias is the user too; no From at all gets one even when rejecting. */
    c.mime = "From: anna.schmidt@example.com\r\nTo: x@example.org\r\n\r\nhi\r\n";
    c.mime_len = strlen(c.mime);
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "send: alias accepted");
    c.mime = "To: x@example.org\nSubject: no from\n\nhi\n";
    c.mime_len = strlen(c.mime);
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "send: no From");
    is_str(o ? header(o->data, "From") : NULL, "From: Anna Schmidt <anna@example.com>", "send: From added");
    ok(o && !strstr(o->data, "\n\n") && strstr(o->data, "\r\n\r\nhi\r\n"), "send: LF input becomes CRLF");

    c.mime = "From: anna@example.com\r\nSubject: nobody\r\n\r\nhi\r\n";
    c.mime_len = strlen(c.mime);
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_E_NORCPT, "send: no recipient");
    c.mime = "this is not a message";
    c.mime_len = strlen(c.mime);
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_E_MIME, "send: not MIME");
    c.mime_len = 0;
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_E_MIME, "send: empty");
}

static void test_reply_forward(void)
{
    eas_mime_compose_t c;
    eas_mime_outgoing_t *o;
    eas_mime_msg_t *m;
    const char *why;
    apr_size_t n;

    /* Reply, plain client text to a plain original. */
    c = compose_of(EAS_COMPOSE_REPLY, client_plain, "plain-ascii.eml");
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "reply: ok");
    m = o ? parse_str(o->data) : NULL;
    ok(m && strstr(m->text, "Sure, see you there. \xE2\x9C\x93"), "reply: the client's text");
    ok(m && strstr(m->text, "\"Dana Lee\" <dana@corp.example.com> wrote:"), "reply: attribution line");
    ok(m && strstr(m->text, "> Lunch at noon? See https://maps.example/place <here> & bring friends.\r\n> Second line."),
       "reply: original quoted");
    is_str(o ? header(o->data, "In-Reply-To") : NULL, "In-Reply-To: <plain-1@corp.example.com>", "reply: In-Reply-To");
    is_str(o ? header(o->data, "References") : NULL, "References: <plain-1@corp.example.com>", "reply: References");
    ok(o && !header(o->data, "Bcc"), "reply: Bcc stripped");

    /* Reply with HTML to an HTML thread: references continue the chain. */
    c = compose_of(EAS_COMPOSE_REPLY, client_alt, "outlook-cp1252.eml");
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "reply html: ok");
    m = o ? parse_str(o->data) : NULL;
    ok(m && m->html && strstr(m->html, "<p>Thanks!</p>") && strstr(m->html, "<blockquote type=\"cite\"")
       && strstr(m->html, "\xE2\x80\x9CQ1 numbers\xE2\x80\x9D"), "reply html: original quoted in a blockquote");
    ok(m && m->html && strstr(m->html, "<blockquote") < strstr(m->html, "</body>"), "reply html: inside the body");
    ok(m && strstr(m->text, "> please find the"), "reply html: plain alternative quoted too");
    ok(o && strstr(header(o->data, "References"), "<root-1234@corp.example.com>")
       && strstr(header(o->data, "References"), "<DB9PR01MB1234ABCD@"), "reply html: References chain");

    /* Forward keeps the attachments. */
    c = compose_of(EAS_COMPOSE_FORWARD, client_alt, "thunderbird-mixed.eml");
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "forward: ok");
    m = o ? parse_str(o->data) : NULL;
    ok(m && m->attachments->nelts == 2, "forward: both attachments");
    if (m && m->attachments->nelts == 2) {
        const char *d;
        apr_size_t l;

        is_str(att(m, 0)->display_name, "Vertrag f\xC3\xBCr M\xC3\xBCnchen \xE2\x80\x93 final Version.pdf",
               "forward: pdf name");
        ok(eas_mime_part_get(pool, m, att(m, 0)->path, &d, &l) == APR_SUCCESS && l == sizeof(pdf_bytes) - 1
           && !memcmp(d, pdf_bytes, l), "forward: pdf content intact");
        is_str(att(m, 1)->display_name, "B\xC3\xBCro 2024.jpg", "forward: jpg");
    }
    ok(m && strstr(m->text, "---------- Forwarded message ----------") && strstr(m->text, "anbei der Vertrag"),
       "forward: original text inline");
    ok(m && m->html && strstr(m->html, "<p>Thanks!</p>") && strstr(m->html, "anbei der Vertrag"),
       "forward: HTML too");
    ok(o && !header(o->data, "In-Reply-To"), "forward: no In-Reply-To");

    /* ReplaceMime: sent as it is. */
    c = compose_of(EAS_COMPOSE_REPLY, client_plain, "plain-ascii.eml");
    c.replace_mime = 1;
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "replacemime: ok");
    m = o ? parse_str(o->data) : NULL;
    is_str(m ? m->text : NULL, "Sure, see you there. \xE2\x9C\x93\r\n", "replacemime: nothing added");
    ok(o && header(o->data, "In-Reply-To"), "replacemime: still threaded");

    /* The original is required. */
    c = compose_of(EAS_COMPOSE_FORWARD, client_plain, NULL);
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_E_ORIGINAL,
           "forward without original");

    /* 16.x Forwardees with a body and no MIME (a meeting forward). */
    {
        eas_mime_forwardee_t fw[2] = {{"Zoe", "zoe@example.org"}, {NULL, "yann@example.org"}};

        c = compose_of(EAS_COMPOSE_FORWARD, NULL, "gmail-invite.eml");
        c.forwardees = fw;
        c.n_forwardees = 2;
        c.body = "Please join.";
        c.body_type = EAS_BODY_PLAIN;
        is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "forwardees: ok");
        ok(o && o->rcpt->nelts == 2 && has_rcpt(o, "zoe@example.org") && has_rcpt(o, "yann@example.org"),
           "forwardees: recipients");
        m = o ? parse_str(o->data) : NULL;
        ok(m && m->to && strstr(m->to, "\"Zoe\" <zoe@example.org>"), "forwardees: To");
        ok(m && m->subject && !strncmp(m->subject, "Fw: Invitation: Team sync", 25), "forwardees: subject");
        ok(m && !strncmp(m->text, "Please join.", 12), "forwardees: the body");
        ok(m && m->meeting && !strcmp(m->meeting->uid, "7kukuqrfedlm2f4mnsqn8b9g3u@google.com"),
           "forwardees: the invitation goes along");
        is_str(m ? m->from : NULL, "\"Anna Schmidt\" <anna@example.com>", "forwardees: From");

        c = compose_of(EAS_COMPOSE_FORWARD, client_plain, "gmail-invite.eml");
        c.forwardees = fw;
        c.n_forwardees = 1;
        is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "forwardees + MIME");
        ok(o && has_rcpt(o, "zoe@example.org") && o->rcpt->nelts == 5, "forwardees + MIME: one more recipient");
        ok(o && strstr(header(o->data, "To"), "zoe@example.org"), "forwardees + MIME: in To");
    }
    (void)n;
}

static void test_smime_send(void)
{
    eas_mime_compose_t c;
    eas_mime_outgoing_t *o;
    eas_mime_msg_t *m;
    const char *why, *raw, *b, *ib;
    apr_size_t n, bl, ibl;
    char *client;

    /* The client signed its message: SmartForward must not touch it. */
    raw = load("smime-signed.eml", &n);
    client = apr_pstrcat(pool, "Bcc: hidden@example.net\r\n", raw, NULL);
    c = compose_of(EAS_COMPOSE_FORWARD, client, "thunderbird-mixed.eml");
    c.mime_len = n + 25;
    is_int(eas_mime_compose(pool, user(EAS_FROM_REWRITE), &c, &o, &why), EAS_COMPOSE_OK, "signed forward: ok");
    if (!o)
        return;
    b = body_of(o->data, o->len, &bl);
    ib = body_of(raw, n, &ibl);
    ok(bl == ibl && !memcmp(b, ib, bl), "signed forward: body byte for byte");
    ok(!header(o->data, "Bcc") && has_rcpt(o, "hidden@example.net"), "signed forward: Bcc still stripped");
    is_str(header(o->data, "From"), "From: Anna Schmidt <anna@example.com>",
           "signed forward: the header is still fixed (S/MIME signs the body)");
    m = parse_str(o->data);
    is_str(m ? m->message_class : NULL, "IPM.Note.SMIME.MultipartSigned", "signed forward: still signed");

    /* Forwarding an encrypted original attaches it untouched. */
    c = compose_of(EAS_COMPOSE_FORWARD, client_plain, "smime-encrypted.eml");
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "forward of S/MIME: ok");
    m = o ? parse_str(o->data) : NULL;
    ok(m && m->attachments->nelts == 1 && att(m, 0)->method == 5, "forward of S/MIME: a message/rfc822 attachment");
    if (m && m->attachments->nelts == 1) {
        const char *d;
        apr_size_t l;

        raw = load("smime-encrypted.eml", &n);
        ok(eas_mime_part_get(pool, m, att(m, 0)->path, &d, &l) == APR_SUCCESS && l == n && !memcmp(d, raw, n),
           "forward of S/MIME: the original byte for byte");
    }
    ok(m && !strcmp(m->text, "Sure, see you there. \xE2\x9C\x93\r\n"), "forward of S/MIME: no inline text");

    /* Replying to an encrypted message quotes nothing. */
    c = compose_of(EAS_COMPOSE_REPLY, client_plain, "smime-encrypted.eml");
    is_int(eas_mime_compose(pool, user(EAS_FROM_REJECT), &c, &o, &why), EAS_COMPOSE_OK, "reply to S/MIME: ok");
    m = o ? parse_str(o->data) : NULL;
    is_str(m ? m->text : NULL, "Sure, see you there. \xE2\x9C\x93\r\n", "reply to S/MIME: no quote");
}

/* ---- robustness ------------------------------------------------------ */

static void test_robust(void)
{
    eas_mime_msg_t *m;
    char junk[4096];
    unsigned int seed = 12345;
    int i, all_ok = 1;
    eas_mime_options_t o = opts(161, EAS_BODY_HTML, 300);

    ok(eas_mime_parse(pool, "", 0, 0, &m) == APR_EINVAL && m == NULL, "empty input: EINVAL");
    for (i = 0; i < 200; i++) {
        apr_size_t k, len = (apr_size_t)(rand_r(&seed) % sizeof(junk)) + 1;
        eas_node_t *root;

        for (k = 0; k < len; k++)
            junk[k] = (char)(rand_r(&seed) & 0xFF);
        if (i % 2)
            memcpy(junk, "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n", len > 48 ? 48 : len);
        if (eas_mime_parse(pool, junk, len, 0, &m) != APR_SUCCESS || !valid(m->text, m->text_len)
            || !(root = write_doc(m, NULL, &o)) || !tree_valid(root->first)) {
            all_ok = 0;
            break;
        }
    }
    ok(all_ok, "random bytes parse and write valid UTF-8");
    m = parse_str("Subject: only a header");
    ok(m && !strcmp(m->subject, "only a header") && m->text_len == 0, "a header without body");
    m = parse_str("no header at all, just text\r\n");
    ok(m && valid(m->text, m->text_len), "no header at all");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (eas_mime_init() != APR_SUCCESS || eas_mime_init() != APR_SUCCESS)
        return 1;
    test_properties();
    test_bodies();
    test_attachments();
    test_big_attachment();
    test_meetings();
    test_zone_oracle();
    test_write_versions();
    test_write_bodies();
    test_write_state();
    test_text();
    test_send();
    test_reply_forward();
    test_smime_send();
    test_robust();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
