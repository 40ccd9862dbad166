/*
 * Messages the client sends (MS-ASCMD 2.2.1.17 SendMail, 2.2.1.19
 * SmartForward, 2.2.1.20 SmartReply): envelope from To/Cc/Bcc (plus 16.x
 * Forwardees), Bcc stripped from what is submitted, From held to the
 * authenticated user, Date and Message-ID added when missing; SmartReply
 * quotes the original under the client's text, SmartForward inlines the
 * original text and re-attaches its attachments, as Exchange does.
 *
 * The client's bytes are only rewritten where the message changes: header
 * edits work on the raw header block, so a body the client signed or
 * encrypted (S/MIME) reaches SMTP byte for byte; such messages are never
 * combined with the original (ReplaceMime semantics), and an S/MIME
 * original is forwarded as an attached message/rfc822, unaltered.
 */
#include "eas_mime_private.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

/* ---- the raw header block -------------------------------------------- */

typedef struct {
    const char *start;          /* first byte of the field */
    apr_size_t len;             /* with its line breaks and continuation lines */
    const char *name;
    apr_size_t name_len;
} field_t;

/* Splits data into header fields and the body (after the empty line). */
static apr_array_header_t *split_header(apr_pool_t *p, const char *data, apr_size_t len,
                                        const char **body, apr_size_t *body_len)
{
    apr_array_header_t *fields = apr_array_make(p, 16, sizeof(field_t));
    apr_size_t i = 0;

    *body = data + len;
    *body_len = 0;
    while (i < len) {
        const char *line = data + i;
        field_t *f;
        apr_size_t j;

        if (line[0] == '\n' || (line[0] == '\r' && i + 1 < len && line[1] == '\n')) {
            i += line[0] == '\n' ? 1 : 2;
            *body = data + i;
            *body_len = len - i;
            break;
        }
        f = apr_array_push(fields);
        f->start = line;
        for (j = 0; i + j < len && line[j] != ':' && line[j] != '\n'; j++)
            ;
        f->name = line;
        f->name_len = (i + j < len && line[j] == ':') ? j : 0;
        /* The field runs to a line break not followed by white space. */
        for (j = i; j < len; j++) {
            if (data[j] == '\n' && !(j + 1 < len && (data[j + 1] == ' ' || data[j + 1] == '\t')))
                break;
        }
        j = j < len ? j + 1 : len;
        f->len = j - i;
        i = j;
    }
    return fields;
}

static int field_is(const field_t *f, const char *name)
{
    apr_size_t n = f->name_len;

    while (n && (f->name[n - 1] == ' ' || f->name[n - 1] == '\t'))
        n--;
    return n == strlen(name) && !strncasecmp(f->name, name, n);
}

static int has_field(apr_array_header_t *fields, const char *name)
{
    int i;

    for (i = 0; i < fields->nelts; i++)
        if (field_is(&APR_ARRAY_IDX(fields, i, field_t), name))
            return 1;
    return 0;
}

/* ---- helpers --------------------------------------------------------- */

static int addr_eq(const char *a, const char *b)
{
    return a && b && !strcasecmp(a, b);
}

static int is_user(const eas_mime_sender_t *s, const char *addr)
{
    int i;

    if (addr_eq(addr, s->address))
        return 1;
    for (i = 0; i < s->n_aliases; i++)
        if (addr_eq(addr, s->aliases[i]))
            return 1;
    return 0;
}

static GMimeFormatOptions *dos_format(void)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();

    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    return fo;
}

/* "Name: value" of an address list, RFC 2047 encoded and folded, with CRLF. */
static const char *addr_field(apr_pool_t *p, const char *name, InternetAddressList *l)
{
    GMimeFormatOptions *fo = dos_format();
    char *v = internet_address_list_to_string(l, fo, TRUE);
    const char *r = apr_psprintf(p, "%s: %s\r\n", name, v ? v : "");

    g_free(v);
    g_mime_format_options_free(fo);
    return r;
}

static const char *make_message_id(apr_pool_t *p, const char *address)
{
    unsigned char rnd[16];
    char hex[33];
    const char *at = address ? strrchr(address, '@') : NULL;
    int i;

    if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
        apr_time_t now = apr_time_now();
        for (i = 0; i < 16; i++)
            rnd[i] = (unsigned char)((now >> (i % 8 * 8)) ^ (apr_uint64_t)(i * 131));
    }
    for (i = 0; i < 16; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    return apr_psprintf(p, "%s@%s", hex, at && at[1] ? at + 1 : "localhost");
}

static const char *format_date(apr_pool_t *p, apr_time_t t)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(apr_time_sec(t));
    char *s = g_mime_utils_header_format_date(dt);
    const char *r = apr_pstrdup(p, s);

    g_free(s);
    g_date_time_unref(dt);
    return r;
}

/* The client's body text parts: the first plain and HTML parts in body position. */
static void find_body(GMimeObject *obj, GMimeTextPart **plain, GMimeTextPart **html, int depth)
{
    GMimeContentType *ct;

    if (!obj || depth > 20)
        return;
    ct = g_mime_object_get_content_type(obj);
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int i, n = g_mime_multipart_get_count(mp);

        if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
            for (i = 0; i < n; i++)
                find_body(g_mime_multipart_get_part(mp, i), plain, html, depth + 1);
        } else if (n > 0 && !g_mime_content_type_is_type(ct, "multipart", "signed")
                   && !g_mime_content_type_is_type(ct, "multipart", "encrypted")) {
            /* mixed, related, ...: the body comes first. */
            find_body(g_mime_multipart_get_part(mp, 0), plain, html, depth + 1);
        }
        return;
    }
    if (!GMIME_IS_TEXT_PART(obj) || g_mime_part_is_attachment(GMIME_PART(obj)))
        return;
    if (g_mime_content_type_is_type(ct, "text", "plain") && !*plain)
        *plain = GMIME_TEXT_PART(obj);
    else if (g_mime_content_type_is_type(ct, "text", "html") && !*html)
        *html = GMIME_TEXT_PART(obj);
}

/* Replaces a text part's content with UTF-8 text. */
static void set_text(GMimeTextPart *tp, const char *text)
{
    GMimeObject *obj = GMIME_OBJECT(tp);

    g_mime_text_part_set_text(tp, text);
    /* The text was unflowed when read; it is plain text now. */
    g_mime_param_list_remove(g_mime_content_type_get_parameters(g_mime_object_get_content_type(obj)),
                             "format");
    g_mime_param_list_remove(g_mime_content_type_get_parameters(g_mime_object_get_content_type(obj)),
                             "delsp");
    g_mime_part_set_content_encoding(GMIME_PART(tp),
        g_mime_part_get_best_content_encoding(GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
}

static const char *part_text(apr_pool_t *p, GMimeTextPart *tp)
{
    apr_size_t n;

    return mime_part_text(p, GMIME_PART(tp), &n, NULL);
}

/* Inserts html before the last </body> of doc (or appends it). */
static const char *html_insert(apr_pool_t *p, const char *doc, const char *html)
{
    const char *at = NULL, *s;

    for (s = doc; *s; s++)
        if (*s == '<' && !strncasecmp(s, "</body", 6))
            at = s;
    if (!at)
        return apr_pstrcat(p, doc, html, NULL);
    return apr_pstrcat(p, apr_pstrmemdup(p, doc, (apr_size_t)(at - doc)), html, at, NULL);
}

/* "> " before every line of text. */
static const char *quote_lines(apr_pool_t *p, const char *text, apr_size_t len)
{
    mime_buf_t b;
    apr_size_t i = 0;

    mime_buf_init(&b, p, len + len / 8 + 16);
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        apr_size_t n = nl ? (apr_size_t)(nl - text - i) : len - i;

        if (n && text[i + n - 1] == '\r')
            n--;
        mime_buf_add(&b, text[i] == '>' ? ">" : "> ", text[i] == '>' ? 1 : 2);
        mime_buf_add(&b, text + i, n);
        mime_buf_add(&b, "\r\n", 2);
        i = nl ? (apr_size_t)(nl - text) + 1 : len;
    }
    return mime_buf_str(&b);
}

static const char *orig_html(apr_pool_t *p, eas_mime_msg_t *o)
{
    apr_size_t n;
    const char *h = eas_mime_html(o, &n);

    return mime_html_inner(p, h, n, &n);
}

/* The lines that introduce a forwarded message, plain and HTML. */
static void forward_header(apr_pool_t *p, eas_mime_msg_t *o, const char **plain,
                           const char **html)
{
    const char *date = o->date ? format_date(p, o->date) : NULL;

    *plain = apr_pstrcat(p, "\r\n\r\n---------- Forwarded message ----------\r\n",
                         "From: ", o->from ? o->from : "", "\r\n",
                         date ? "Date: " : "", date ? date : "", date ? "\r\n" : "",
                         "Subject: ", o->subject ? o->subject : "", "\r\n",
                         "To: ", o->to ? o->to : "", "\r\n",
                         o->cc ? "Cc: " : "", o->cc ? o->cc : "", o->cc ? "\r\n" : "",
                         "\r\n", NULL);
    *html = apr_pstrcat(p, "<br><div>---------- Forwarded message ----------<br>",
                        "From: ", mime_html_escape(p, o->from ? o->from : ""), "<br>",
                        date ? "Date: " : "", date ? mime_html_escape(p, date) : "",
                        date ? "<br>" : "",
                        "Subject: ", mime_html_escape(p, o->subject ? o->subject : ""), "<br>",
                        "To: ", mime_html_escape(p, o->to ? o->to : ""), "<br>",
                        o->cc ? "Cc: " : "", o->cc ? mime_html_escape(p, o->cc) : "",
                        o->cc ? "<br>" : "", "</div><br>", NULL);
}

static void reply_header(apr_pool_t *p, eas_mime_msg_t *o, const char **plain,
                         const char **html)
{
    const char *who = o->from ? o->from : "", *when = o->date ? format_date(p, o->date) : NULL;
    const char *line = when ? apr_psprintf(p, "On %s, %s wrote:", when, who)
                            : apr_psprintf(p, "%s wrote:", who);

    *plain = apr_pstrcat(p, "\r\n\r\n", line, "\r\n", NULL);
    *html = apr_pstrcat(p, "<br><div>", mime_html_escape(p, line), "</div>", NULL);
}

/* Adds the parts to the message next to its body (in its multipart/mixed,
 * or in a new one around it). */
static void add_parts(GMimeMessage *gm, GMimeObject **parts, int n)
{
    GMimeObject *body = g_mime_message_get_mime_part(gm);
    GMimeMultipart *mixed;
    int i;

    if (!n)
        return;
    if (body && GMIME_IS_MULTIPART(body)
        && g_mime_content_type_is_type(g_mime_object_get_content_type(body), "multipart", "mixed")) {
        mixed = GMIME_MULTIPART(body);
    } else {
        mixed = g_mime_multipart_new_with_subtype("mixed");
        if (body)
            g_mime_multipart_add(mixed, body);
        g_mime_message_set_mime_part(gm, GMIME_OBJECT(mixed));
        g_object_unref(mixed);
    }
    for (i = 0; i < n; i++)
        g_mime_multipart_add(mixed, parts[i]);
}

/* The original as an attached message/rfc822, its bytes untouched. */
static GMimeObject *attach_original(apr_pool_t *p, eas_mime_msg_t *o)
{
    GMimePart *part = g_mime_part_new_with_type("message", "rfc822");
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(mime_msg_raw(o), o->size);
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_8BIT);
    const char *name = apr_pstrcat(p, o->subject && *o->subject ? o->subject : "message",
                                   ".eml", NULL);

    g_mime_part_set_content(part, dw);
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_8BIT);
    g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
    g_mime_part_set_filename(part, name);
    g_object_unref(dw);
    g_object_unref(s);
    return GMIME_OBJECT(part);
}

/* Builds the reply / forward around the client's text.  The parts added
 * from the original stay owned by o's message (kept alive by p). */
static void combine(apr_pool_t *p, GMimeMessage *gm, eas_mime_msg_t *o, int forward)
{
    GMimeTextPart *plain = NULL, *html = NULL;
    const char *hp, *hh;
    apr_array_header_t *extra = apr_array_make(p, 4, sizeof(GMimeObject *));
    int i;

    if (forward && o->smime) {
        GMimeObject *att = attach_original(p, o);

        APR_ARRAY_PUSH(extra, GMimeObject *) = att;
        add_parts(gm, (GMimeObject **)extra->elts, extra->nelts);
        g_object_unref(att);
        return;
    }
    if (!forward && o->smime == EAS_SMIME_OPAQUE)
        return;     /* nothing readable to quote */
    find_body(g_mime_message_get_mime_part(gm), &plain, &html, 0);
    if (!plain && !html) {
        /* No text of its own (only attachments): give it one. */
        plain = g_mime_text_part_new_with_subtype("plain");
        g_mime_text_part_set_text(plain, "");
        if (g_mime_message_get_mime_part(gm)) {
            GMimeObject *t = GMIME_OBJECT(plain);
            GMimeObject *body = g_mime_message_get_mime_part(gm);
            GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");

            g_mime_multipart_add(mixed, t);
            g_mime_multipart_add(mixed, body);
            g_mime_message_set_mime_part(gm, GMIME_OBJECT(mixed));
            g_object_unref(mixed);
        } else {
            g_mime_message_set_mime_part(gm, GMIME_OBJECT(plain));
        }
        g_object_unref(plain);
    }
    if (forward)
        forward_header(p, o, &hp, &hh);
    else
        reply_header(p, o, &hp, &hh);
    if (plain) {
        const char *orig = forward ? o->text : quote_lines(p, o->text, o->text_len);
        set_text(plain, apr_pstrcat(p, part_text(p, plain), hp, orig, NULL));
    }
    if (html) {
        const char *inner = orig_html(p, o);
        const char *add = forward
            ? apr_pstrcat(p, hh, inner, NULL)
            : apr_pstrcat(p, hh, "<blockquote type=\"cite\" style=\"margin:0 0 0 .8ex;"
                                 "border-left:1px #ccc solid;padding-left:1ex\">",
                          inner, "</blockquote>", NULL);
        set_text(html, html_insert(p, part_text(p, html), add));
    }
    /* Forward: every attachment and the invitation; reply: the images the
     * quoted HTML shows. */
    for (i = 0; i < o->attachments->nelts; i++) {
        eas_mime_attachment_t *a = &APR_ARRAY_IDX(o->attachments, i, eas_mime_attachment_t);
        GMimeObject *obj;

        if (!forward && !(html && a->is_inline))
            continue;
        if ((obj = mime_msg_part(o, a->path)))
            APR_ARRAY_PUSH(extra, GMimeObject *) = obj;
    }
    if (forward && mime_msg_calendar(o)) {
        GMimeObject *cal = GMIME_OBJECT(mime_msg_calendar(o));
        int seen = 0;

        for (i = 0; i < extra->nelts; i++)
            if (APR_ARRAY_IDX(extra, i, GMimeObject *) == cal)
                seen = 1;
        if (!seen)
            APR_ARRAY_PUSH(extra, GMimeObject *) = cal;
    }
    add_parts(gm, (GMimeObject **)extra->elts, extra->nelts);
}

/* A 16.x SmartForward of Forwardees with an airsyncbase:Body and no MIME. */
static GMimeMessage *new_forward(apr_pool_t *p, const eas_mime_sender_t *s,
                                 const eas_mime_compose_t *c, eas_mime_msg_t *o)
{
    GMimeMessage *gm = g_mime_message_new(TRUE);
    GMimeTextPart *tp;
    const char *subj = o->subject ? o->subject : "";
    int i;

    g_mime_message_add_mailbox(gm, GMIME_ADDRESS_TYPE_FROM, s->name, s->address);
    for (i = 0; i < c->n_forwardees; i++)
        g_mime_message_add_mailbox(gm, GMIME_ADDRESS_TYPE_TO, c->forwardees[i].name,
                                   c->forwardees[i].email);
    if (strncasecmp(subj, "fw:", 3) && strncasecmp(subj, "fwd:", 4))
        subj = apr_pstrcat(p, "Fw: ", subj, NULL);
    g_mime_message_set_subject(gm, subj, "utf-8");
    tp = g_mime_text_part_new_with_subtype(c->body_type == EAS_BODY_HTML ? "html" : "plain");
    set_text(tp, c->body ? mime_utf8_clean(p, c->body, strlen(c->body), NULL) : "");
    g_mime_message_set_mime_part(gm, GMIME_OBJECT(tp));
    g_object_unref(tp);
    return gm;
}

/* ---- the header edits ------------------------------------------------ */

typedef struct {
    const char *from_field;     /* replaces every From (NULL: keep) */
    int drop_sender;
    const char *to_field;       /* replaces To (forwardees added) */
    const char *added;          /* fields to add at the end of the header */
} edits_t;

static void rebuild(apr_pool_t *p, apr_array_header_t *fields, const char *body,
                    apr_size_t body_len, const edits_t *e, int keep_bcc, const char **out,
                    apr_size_t *out_len)
{
    mime_buf_t b;
    int i, from_done = 0, to_done = 0;

    mime_buf_init(&b, p, body_len + 4096);
    for (i = 0; i < fields->nelts; i++) {
        field_t *f = &APR_ARRAY_IDX(fields, i, field_t);

        if (!keep_bcc && (field_is(f, "Bcc") || field_is(f, "Resent-Bcc")))
            continue;
        if (e->from_field && field_is(f, "From")) {
            if (!from_done++)
                mime_buf_adds(&b, e->from_field);
            continue;
        }
        if (e->drop_sender && field_is(f, "Sender"))
            continue;
        if (e->to_field && field_is(f, "To")) {
            if (!to_done++)
                mime_buf_adds(&b, e->to_field);
            continue;
        }
        mime_buf_add(&b, f->start, f->len);
        if (f->len && f->start[f->len - 1] != '\n')
            mime_buf_add(&b, "\r\n", 2);
    }
    if (e->from_field && !from_done)
        mime_buf_adds(&b, e->from_field);
    if (e->to_field && !to_done)
        mime_buf_adds(&b, e->to_field);
    if (e->added)
        mime_buf_adds(&b, e->added);
    mime_buf_add(&b, "\r\n", 2);
    mime_buf_add(&b, body, body_len);
    *out_len = b.n;
    *out = mime_buf_str(&b);
}

/* Lone LF -> CRLF (SMTP and IMAP want CRLF; CRLF input is left as it is). */
static const char *to_crlf(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t *out_len)
{
    mime_buf_t b;
    apr_size_t i;

    if (!memchr(s, '\n', len)) {
        *out_len = len;
        return s;
    }
    for (i = 0; i < len; i++)
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            break;
    if (i == len) {
        *out_len = len;
        return s;
    }
    mime_buf_init(&b, p, len + len / 32 + 16);
    for (i = 0; i < len; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            mime_buf_addc(&b, '\r');
        mime_buf_addc(&b, s[i]);
    }
    *out_len = b.n;
    return mime_buf_str(&b);
}

/* ---- compose --------------------------------------------------------- */

static int add_rcpt(apr_array_header_t *rcpt, const char *addr)
{
    int i;

    if (!addr || !strchr(addr, '@'))
        return 0;
    for (i = 0; i < rcpt->nelts; i++)
        if (!strcasecmp(APR_ARRAY_IDX(rcpt, i, const char *), addr))
            return 0;
    APR_ARRAY_PUSH(rcpt, const char *) = addr;
    return 1;
}

static int looks_like_header(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len && s[i] != '\n'; i++) {
        if (s[i] == ':')
            return i > 0;
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127)
            return 0;
    }
    return 0;
}

eas_compose_status_e eas_mime_compose(apr_pool_t *p, const eas_mime_sender_t *s,
                                      const eas_mime_compose_t *c, eas_mime_outgoing_t **out,
                                      const char **why)
{
    eas_mime_outgoing_t *o;
    eas_mime_msg_t *orig = NULL;
    GMimeMessage *gm;
    GMimeObject *top;
    InternetAddressList *from;
    apr_array_header_t *fields;
    const char *data, *body, *ct, *sender_addr = NULL;
    apr_size_t len, body_len;
    edits_t e;
    int i, smime = 0, rebuilt = 0, from_ok = 0, nfrom;
    const char *dummy;

    if (!why)
        why = &dummy;
    *out = NULL;
    *why = NULL;
    eas_mime_init();
    memset(&e, 0, sizeof(e));

    if (c->kind != EAS_COMPOSE_SEND && c->orig && c->orig_len)
        eas_mime_parse(p, c->orig, c->orig_len, 0, &orig);
    if (c->kind != EAS_COMPOSE_SEND && (!c->replace_mime || !c->mime) && !orig) {
        *why = "the original message is missing";
        return EAS_COMPOSE_E_ORIGINAL;
    }
    if (c->mime) {
        if (!c->mime_len || !looks_like_header(c->mime, c->mime_len)) {
            *why = "the client's MIME has no header";
            return EAS_COMPOSE_E_MIME;
        }
        gm = mime_parse_bytes(c->mime, c->mime_len);
        if (!gm) {
            *why = "the client's MIME does not parse";
            return EAS_COMPOSE_E_MIME;
        }
    } else {
        if (c->kind != EAS_COMPOSE_FORWARD || !c->n_forwardees) {
            *why = "no MIME in the request";
            return EAS_COMPOSE_E_MIME;
        }
        gm = new_forward(p, s, c, orig);
        rebuilt = 1;
    }
    mime_unref_on_cleanup(p, gm);

    o = apr_pcalloc(p, sizeof(*o));
    o->rcpt = apr_array_make(p, 8, sizeof(const char *));
    {
        apr_array_header_t *all = apr_array_make(p, 8, sizeof(const char *));

        mime_addr_collect(p, g_mime_message_get_to(gm), all);
        mime_addr_collect(p, g_mime_message_get_cc(gm), all);
        mime_addr_collect(p, g_mime_message_get_bcc(gm), all);
        for (i = 0; i < all->nelts; i++)
            add_rcpt(o->rcpt, APR_ARRAY_IDX(all, i, const char *));
    }
    if (c->mime && c->n_forwardees) {
        InternetAddressList *to = internet_address_list_new();
        int added = 0;

        internet_address_list_append(to, g_mime_message_get_to(gm));
        for (i = 0; i < c->n_forwardees; i++) {
            if (!add_rcpt(o->rcpt, apr_pstrdup(p, c->forwardees[i].email)))
                continue;
            InternetAddress *ia = internet_address_mailbox_new(c->forwardees[i].name,
                                                               c->forwardees[i].email);

            internet_address_list_add(to, ia);
            g_object_unref(ia);
            added++;
        }
        if (added)
            e.to_field = addr_field(p, "To", to);
        g_object_unref(to);
    }
    if (!o->rcpt->nelts) {
        *why = "no recipient";
        return EAS_COMPOSE_E_NORCPT;
    }

    /* From must be the user (or an alias). */
    from = g_mime_message_get_from(gm);
    nfrom = from ? internet_address_list_length(from) : 0;
    if (nfrom == 1) {
        InternetAddress *ia = internet_address_list_get_address(from, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            from_ok = is_user(s, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
    }
    if (!from_ok) {
        const char *name = s->name;
        InternetAddressList *l;
        InternetAddress *ia;

        if (nfrom && s->from_policy == EAS_FROM_REJECT) {
            *why = "From is not the authenticated user";
            return EAS_COMPOSE_E_SENDAS;
        }
        if (!name && nfrom)
            name = internet_address_get_name(internet_address_list_get_address(from, 0));
        ia = internet_address_mailbox_new(name, s->address);
        l = internet_address_list_new();
        internet_address_list_add(l, ia);
        g_object_unref(ia);
        e.from_field = addr_field(p, "From", l);
        g_object_unref(l);
    }
    {
        InternetAddressList *sl = g_mime_message_get_sender(gm);

        if (sl && internet_address_list_length(sl)) {
            InternetAddress *ia = internet_address_list_get_address(sl, 0);
            if (INTERNET_ADDRESS_IS_MAILBOX(ia))
                sender_addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            e.drop_sender = !is_user(s, sender_addr);
        }
    }

    top = g_mime_message_get_mime_part(gm);
    ct = top ? g_mime_content_type_get_mime_type(g_mime_object_get_content_type(top)) : NULL;
    if (ct) {
        smime = !strcasecmp(ct, "multipart/signed") || !strcasecmp(ct, "multipart/encrypted")
                || !strcasecmp(ct, "application/pkcs7-mime")
                || !strcasecmp(ct, "application/x-pkcs7-mime");
        g_free((char *)ct);
    }
    if (c->kind != EAS_COMPOSE_SEND && !c->replace_mime && !smime && orig) {
        combine(p, gm, orig, c->kind == EAS_COMPOSE_FORWARD);
        rebuilt = 1;
    }
    if (rebuilt) {
        GMimeFormatOptions *fo = dos_format();
        char *str = g_mime_object_to_string(GMIME_OBJECT(gm), fo);

        data = apr_pstrdup(p, str);
        len = strlen(data);
        g_free(str);
        g_mime_format_options_free(fo);
    } else {
        data = to_crlf(p, c->mime, c->mime_len, &len);
    }

    fields = split_header(p, data, len, &body, &body_len);
    {
        mime_buf_t add;
        const char *mid = g_mime_message_get_message_id(gm);

        mime_buf_init(&add, p, 256);
        if (!has_field(fields, "Date"))
            mime_buf_adds(&add, apr_psprintf(p, "Date: %s\r\n",
                                             format_date(p, c->now ? c->now : apr_time_now())));
        if (!has_field(fields, "Message-ID") || !mid || !*mid) {
            o->message_id = make_message_id(p, s->address);
            mime_buf_adds(&add, apr_psprintf(p, "Message-ID: <%s>\r\n", o->message_id));
        } else {
            o->message_id = apr_pstrdup(p, mid);
        }
        if (c->kind == EAS_COMPOSE_REPLY && orig && orig->message_id) {
            if (!has_field(fields, "In-Reply-To"))
                mime_buf_adds(&add, apr_psprintf(p, "In-Reply-To: <%s>\r\n", orig->message_id));
            if (!has_field(fields, "References")) {
                const char *refs = orig->references;
                char *r = refs ? g_mime_utils_header_unfold(refs) : NULL;

                mime_buf_adds(&add, apr_psprintf(p, "References: %s%s<%s>\r\n", r ? r : "",
                                                 r ? " " : "", orig->message_id));
                g_free(r);
            }
        }
        if (!has_field(fields, "MIME-Version"))
            mime_buf_adds(&add, "MIME-Version: 1.0\r\n");
        e.added = add.n ? mime_buf_str(&add) : NULL;
    }
    rebuild(p, fields, body, body_len, &e, 0, &o->data, &o->len);
    rebuild(p, fields, body, body_len, &e, 1, &o->sent, &o->sent_len);
    o->envelope_from = apr_pstrdup(p, s->address);
    *out = o;
    return EAS_COMPOSE_OK;
}
