/*
 * Parsing a message into the Email class summary (MS-ASEMAIL, MS-ASAIRS):
 * headers to properties, the MIME tree to bodies and attachments, IMAP part
 * paths, and attachment content by path.
 */
#include "eas_mime_private.h"
#include "eas_utf8.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

struct eas_mime_priv_t {
    GMimeMessage *message;
    const char *raw;            /* the bytes as given (copied) */
    const char *html_made;      /* eas_mime_html() of a plain-only message */
    apr_size_t html_made_len;
    const char *mime;           /* eas_mime_mime_data() */
    apr_size_t mime_len;
    apr_array_header_t *rcpt;   /* To and Cc addresses, for ReceivedAsBcc */
    GMimePart *calendar;        /* the text/calendar part used for the meeting */
    GMimeFormatOptions *format; /* the message's own line breaks, for writing parts back */
};

static GMimeParserOptions *parser_options;

apr_status_t eas_mime_init(void)
{
    static const char *fallback[] = {"UTF-8", "windows-1252", NULL};

    if (parser_options)
        return APR_SUCCESS;
    g_mime_init();
    mime_ical_init();
    parser_options = g_mime_parser_options_new();
    g_mime_parser_options_set_address_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(parser_options,
                                                        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(parser_options, TRUE);
    g_mime_parser_options_set_fallback_charsets(parser_options, fallback);
    return APR_SUCCESS;
}

static apr_status_t unref_cleanup(void *obj)
{
    g_object_unref(obj);
    return APR_SUCCESS;
}

static apr_status_t format_cleanup(void *fo)
{
    g_mime_format_options_free(fo);
    return APR_SUCCESS;
}

void mime_unref_on_cleanup(apr_pool_t *p, void *obj)
{
    apr_pool_cleanup_register(p, obj, unref_cleanup, apr_pool_cleanup_null);
}

/* GMime writes a part without content by failing an assertion (a
 * truncated message can leave one): give such parts empty content. */
static void fill_empty(GMimeObject *obj, int depth)
{
    if (!obj || depth > 64)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        int i, n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));

        for (i = 0; i < n; i++)
            fill_empty(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

        if (m)
            fill_empty(g_mime_message_get_mime_part(m), depth + 1);
    } else if (GMIME_IS_PART(obj) && !g_mime_part_get_content(GMIME_PART(obj))) {
        GMimeStream *s = g_mime_stream_mem_new();
        GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);

        g_mime_part_set_content(GMIME_PART(obj), dw);
        g_object_unref(dw);
        g_object_unref(s);
    }
}

GMimeMessage *mime_parse_bytes(const char *data, apr_size_t len)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(s);
    GMimeMessage *m;

    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    m = g_mime_parser_construct_message(parser, parser_options);
    g_object_unref(parser);
    g_object_unref(s);
    if (m)
        fill_empty(g_mime_message_get_mime_part(m), 0);
    return m;
}

/* ---- small helpers --------------------------------------------------- */

static const char *mime_header(apr_pool_t *p, GMimeObject *obj, const char *name)
{
    const char *v = g_mime_object_get_header(obj, name);

    return v ? mime_utf8_clean(p, apr_pstrdup(p, v), strlen(v), NULL) : NULL;
}

static void addr_append(apr_pool_t *p, mime_buf_t *b, InternetAddressList *l)
{
    int i, n = l ? internet_address_list_length(l) : 0;

    for (i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);

        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            addr_append(p, b, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
        } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            const char *name = internet_address_get_name(ia);

            if (!addr || !*addr)
                continue;
            if (b->n)
                mime_buf_adds(b, ", ");
            if (name && *name) {
                mime_buf_addc(b, '"');
                for (; *name; name++) {
                    if (*name == '"' || *name == '\\')
                        mime_buf_addc(b, '\\');
                    mime_buf_addc(b, *name);
                }
                mime_buf_adds(b, "\" <");
                mime_buf_adds(b, addr);
                mime_buf_addc(b, '>');
            } else {
                mime_buf_adds(b, addr);
            }
        }
    }
}

static const char *mime_addr_list(apr_pool_t *p, InternetAddressList *l)
{
    mime_buf_t b;

    mime_buf_init(&b, p, 128);
    addr_append(p, &b, l);
    if (!b.n)
        return NULL;
    return mime_utf8_clean(p, mime_buf_str(&b), b.n, NULL);
}

void mime_addr_collect(apr_pool_t *p, InternetAddressList *l, apr_array_header_t *arr)
{
    int i, n = l ? internet_address_list_length(l) : 0;

    for (i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);

        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            mime_addr_collect(p, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                              arr);
        } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));

            if (a && *a)
                APR_ARRAY_PUSH(arr, const char *) = apr_pstrdup(p, a);
        }
    }
}

static const char *display_names(apr_pool_t *p, InternetAddressList *l, mime_buf_t *b)
{
    int i, n = l ? internet_address_list_length(l) : 0;

    for (i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        const char *name = internet_address_get_name(ia);

        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            display_names(p, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), b);
            continue;
        }
        if (!name || !*name)
            name = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        if (!name || !*name)
            continue;
        if (b->n)
            mime_buf_adds(b, "; ");
        mime_buf_adds(b, name);
    }
    return b->n ? mime_utf8_clean(p, mime_buf_str(b), b->n, NULL) : NULL;
}

static const char *mime_strip_prefixes(apr_pool_t *p, const char *subject)
{
    static const char *const prefixes[] = {"re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw",
                                           "tr", "rif", "r", "ref", "odp", "ynt", NULL};
    const char *s = subject;
    int again = 1;

    while (again) {
        int i;

        again = 0;
        while (apr_isspace(*s))
            s++;
        for (i = 0; prefixes[i]; i++) {
            apr_size_t n = strlen(prefixes[i]);
            const char *t = s + n;

            if (strncasecmp(s, prefixes[i], n))
                continue;
            /* "Re[2]:" and "Re(2):" too. */
            if (*t == '[' || *t == '(') {
                char close = *t == '[' ? ']' : ')';
                t++;
                while (apr_isdigit(*t))
                    t++;
                if (*t != close)
                    continue;
                t++;
            }
            while (*t == ' ')
                t++;
            if (*t == ':') {
                s = t + 1;
                again = 1;
                break;
            }
        }
    }
    while (apr_isspace(*s))
        s++;
    return apr_pstrdup(p, s);
}

static char *lower(apr_pool_t *p, const char *s)
{
    char *r = apr_pstrdup(p, s ? s : ""), *c;

    for (c = r; *c; c++)
        *c = (char)apr_tolower(*c);
    return r;
}

static const char *mime_type(apr_pool_t *p, GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    if (!ct)
        return "application/octet-stream";
    return apr_pstrcat(p, lower(p, g_mime_content_type_get_media_type(ct)), "/",
                       lower(p, g_mime_content_type_get_media_subtype(ct)), NULL);
}

/* ---- content --------------------------------------------------------- */

/* Streams the decoded content of a leaf part. */
static apr_status_t part_stream(GMimePart *part, eas_mime_sink_fn *sink, void *baton,
                                apr_off_t *total)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *src, *fs;
    GMimeFilter *dec;
    char buf[16384];
    ssize_t n;
    apr_status_t rv = APR_SUCCESS;

    if (total)
        *total = 0;
    if (!dw || !(src = g_mime_data_wrapper_get_stream(dw)))
        return APR_SUCCESS;
    g_mime_stream_reset(src);
    fs = g_mime_stream_filter_new(src);
    dec = g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(dw), FALSE);
    if (dec) {
        g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), dec);
        g_object_unref(dec);
    }
    while ((n = g_mime_stream_read(fs, buf, sizeof(buf))) > 0) {
        if (total)
            *total += n;
        if (sink && (rv = sink(baton, buf, (apr_size_t)n)) != APR_SUCCESS)
            break;
    }
    g_object_unref(fs);
    g_mime_stream_reset(src);
    return rv;
}

static apr_status_t buf_sink(void *baton, const char *data, apr_size_t len)
{
    mime_buf_add(baton, data, len);
    return APR_SUCCESS;
}

static char *mime_part_bytes(apr_pool_t *p, GMimePart *part, apr_size_t *len)
{
    mime_buf_t b;

    mime_buf_init(&b, p, 4096);
    part_stream(part, buf_sink, &b, NULL);
    *len = b.n;
    return mime_buf_str(&b);
}

/* The charset an HTML document declares in a <meta> tag (browsers look in
 * the first 1024 bytes). */
static const char *meta_charset(apr_pool_t *p, const char *html, apr_size_t len)
{
    apr_size_t i, n = len < 1024 ? len : 1024;

    for (i = 0; i + 8 < n; i++) {
        apr_size_t k;

        if (strncasecmp(html + i, "charset=", 8))
            continue;
        i += 8;
        while (i < n && (html[i] == '"' || html[i] == '\''))
            i++;
        for (k = i; k < n && (apr_isalnum(html[k]) || strchr("-_.:", html[k])); k++)
            ;
        return k > i ? apr_pstrmemdup(p, html + i, k - i) : NULL;
    }
    return NULL;
}

char *mime_part_text(apr_pool_t *p, GMimePart *part, apr_size_t *len, const char **charset)
{
    GMimeObject *obj = GMIME_OBJECT(part);
    const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
    const char *format = g_mime_object_get_content_type_parameter(obj, "format");
    const char *delsp = g_mime_object_get_content_type_parameter(obj, "delsp");
    const char *type = mime_type(p, obj), *used;
    char *raw, *text;
    apr_size_t n;
    int ascii = 1;

    raw = mime_part_bytes(p, part, &n);
    if (!cs && !strcmp(type, "text/html"))
        cs = meta_charset(p, raw, n);
    text = eas_mime_to_utf8(p, cs, raw, n, len, &used);
    if (charset) {
        /* Undeclared: RFC 2045's us-ascii, unless the bytes said otherwise. */
        for (; n && ascii; n--)
            ascii = (unsigned char)raw[n - 1] < 0x80;
        *charset = cs ? apr_pstrdup(p, cs) : ascii ? "us-ascii" : used;
    }
    if (!strcmp(type, "text/plain")) {
        if (format && !strcasecmp(format, "flowed"))
            return eas_mime_unflow(p, text, *len, delsp && !strcasecmp(delsp, "yes"), len);
        return mime_crlf(p, text, *len, len);
    }
    return text;
}

static apr_off_t object_size(GMimeObject *obj, GMimeFormatOptions *fo)
{
    apr_off_t n = 0;

    if (GMIME_IS_PART(obj)) {
        part_stream(GMIME_PART(obj), NULL, NULL, &n);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        GMimeStream *null = g_mime_stream_null_new();

        if (m)
            g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, null);
        n = (apr_off_t)GMIME_STREAM_NULL(null)->written;
        g_object_unref(null);
    }
    return n;
}

/* ---- the walk over the MIME tree ------------------------------------- */

typedef struct {
    const char *text;           /* NULL: make it from html */
    apr_size_t text_len;
    const char *html;           /* NULL: plain only */
    apr_size_t html_len;
} seg_t;

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *segs;   /* seg_t */
    apr_array_header_t *atts;   /* eas_mime_attachment_t */
    const char *charset;        /* of the first text part used as body */
    int have_charset;
    GMimePart *calendar;
    int *unnamed;
    int depth;
    GMimeFormatOptions *format;
} walk_t;

#define MAX_DEPTH 40

static const char *child_path(apr_pool_t *p, const char *prefix, int i)
{
    return *prefix ? apr_psprintf(p, "%s.%d", prefix, i) : apr_psprintf(p, "%d", i);
}

static const char *ext_for(const char *type)
{
    static const struct {
        const char *type, *ext;
    } map[] = {
        {"text/plain", "txt"}, {"text/html", "htm"}, {"text/calendar", "ics"},
        {"message/rfc822", "eml"}, {"message/global", "eml"},
        {"application/pkcs7-signature", "p7s"}, {"application/x-pkcs7-signature", "p7s"},
        {"application/pkcs7-mime", "p7m"}, {"application/x-pkcs7-mime", "p7m"},
        {"image/jpeg", "jpg"}, {"image/png", "png"}, {"image/gif", "gif"},
        {"application/pdf", "pdf"}, {"message/delivery-status", "txt"},
        {"text/rfc822-headers", "txt"},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(type, map[i].type))
            return map[i].ext;
    return "bin";
}

static void add_attachment(walk_t *w, GMimeObject *obj, const char *path)
{
    eas_mime_attachment_t *a = apr_array_push(w->atts);
    const char *name = NULL, *type = mime_type(w->p, obj), *s;

    memset(a, 0, sizeof(*a));
    a->path = path;
    a->content_type = type;
    a->method = 1;
    if (GMIME_IS_PART(obj)) {
        name = g_mime_part_get_filename(GMIME_PART(obj));
    } else {
        name = g_mime_object_get_content_disposition_parameter(obj, "filename");
        if (!name)
            name = g_mime_object_get_content_type_parameter(obj, "name");
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        a->method = 5;
        if (!name || !*name) {
            GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
            const char *subj = m ? g_mime_message_get_subject(m) : NULL;
            char *c, *n;

            if (subj && *subj) {
                /* A subject makes a file name once path separators are gone. */
                n = apr_pstrcat(w->p, subj, ".eml", NULL);
                for (c = n; *c; c++)
                    if (*c == '/' || *c == '\\' || (unsigned char)*c < 0x20)
                        *c = '_';
                name = n;
            }
        }
    } else if (!strcmp(type, "application/x-oleobject") || !strcmp(type, "application/vnd.ms-ole")
               || !strcmp(type, "application/ms-tnef") || !strcmp(type, "application/vnd.ms-tnef")) {
        a->method = 6;
    }
    if (name && *name) {
        a->display_name = mime_utf8_clean(w->p, apr_pstrdup(w->p, name), strlen(name), NULL);
    } else {
        ++*w->unnamed;
        a->display_name = apr_psprintf(w->p, "ATT%05d.%s", *w->unnamed, ext_for(type));
    }
    if ((s = g_mime_object_get_content_id(obj)) && *s)
        a->content_id = mime_utf8_clean(w->p, apr_pstrdup(w->p, s), strlen(s), NULL);
    if ((s = g_mime_object_get_header(obj, "Content-Location")) && *s)
        a->content_location = mime_utf8_clean(w->p, apr_pstrdup(w->p, s), strlen(s), NULL);
    a->size = object_size(obj, w->format);
}

static void walk(walk_t *w, GMimeObject *obj, const char *path, int body_ok);

/* Walks a message body: a multipart's children are prefix.N, a single part is prefix.1. */
static void walk_body(walk_t *w, GMimeObject *body, const char *prefix, int body_ok)
{
    if (!body)
        return;
    if (GMIME_IS_MULTIPART(body))
        walk(w, body, prefix, body_ok);
    else
        walk(w, body, child_path(w->p, prefix, 1), body_ok);
}

static void add_text(walk_t *w, GMimePart *part, int html)
{
    seg_t *s = apr_array_push(w->segs);
    const char *cs;
    apr_size_t n;
    char *t = mime_part_text(w->p, part, &n, &cs);

    memset(s, 0, sizeof(*s));
    if (html) {
        s->html = t;
        s->html_len = n;
    } else {
        s->text = t;
        s->text_len = n;
    }
    if (!w->have_charset) {
        w->charset = cs;
        w->have_charset = 1;
    }
}

/* Joins the segments of a walk into one plain and one HTML text. */
static void join_segs(apr_pool_t *p, apr_array_header_t *segs, seg_t *out)
{
    mime_buf_t t, h;
    int i, has_html = 0;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < segs->nelts; i++)
        if (APR_ARRAY_IDX(segs, i, seg_t).html)
            has_html = 1;
    if (segs->nelts == 1) {
        *out = APR_ARRAY_IDX(segs, 0, seg_t);
        if (!out->text && out->html)
            out->text = eas_mime_html_to_text(p, out->html, out->html_len, &out->text_len);
        return;
    }
    mime_buf_init(&t, p, 1024);
    mime_buf_init(&h, p, 1024);
    if (has_html)
        mime_buf_adds(&h, "<html><head><meta http-equiv=\"Content-Type\" "
                          "content=\"text/html; charset=utf-8\"></head><body>");
    for (i = 0; i < segs->nelts; i++) {
        seg_t *s = &APR_ARRAY_IDX(segs, i, seg_t);
        const char *txt = s->text, *inner;
        apr_size_t tl = s->text_len, il;

        if (!txt)
            txt = eas_mime_html_to_text(p, s->html, s->html_len, &tl);
        if (t.n && tl && t.d[t.n - 1] != '\n')
            mime_buf_add(&t, "\r\n", 2);
        mime_buf_add(&t, txt, tl);
        if (has_html) {
            if (s->html) {
                inner = mime_html_inner(p, s->html, s->html_len, &il);
            } else {
                const char *made = eas_mime_text_to_html(p, txt, tl, &il);
                inner = mime_html_inner(p, made, il, &il);
            }
            mime_buf_add(&h, inner, il);
        }
    }
    out->text = mime_buf_str(&t);
    out->text_len = t.n;
    if (has_html) {
        mime_buf_adds(&h, "</body></html>");
        out->html = mime_buf_str(&h);
        out->html_len = h.n;
    }
}

static void walk_alternative(walk_t *w, GMimeMultipart *mp, const char *prefix)
{
    int i, n = g_mime_multipart_get_count(mp), html_i = -1, plain_i = -1;
    walk_t *sub = apr_pcalloc(w->p, sizeof(walk_t) * (n ? n : 1));
    seg_t seg, *out;

    for (i = 0; i < n; i++) {
        sub[i] = *w;
        sub[i].segs = apr_array_make(w->p, 2, sizeof(seg_t));
        sub[i].atts = apr_array_make(w->p, 2, sizeof(eas_mime_attachment_t));
        sub[i].have_charset = 0;
        walk(&sub[i], g_mime_multipart_get_part(mp, i), child_path(w->p, prefix, i + 1), 1);
        if (!w->calendar && sub[i].calendar)
            w->calendar = sub[i].calendar;
        if (sub[i].segs->nelts) {
            int j, has_html = 0;

            for (j = 0; j < sub[i].segs->nelts; j++)
                if (APR_ARRAY_IDX(sub[i].segs, j, seg_t).html)
                    has_html = 1;
            /* The last alternative is the richest one (RFC 2046 5.1.4). */
            if (has_html)
                html_i = i;
            else
                plain_i = i;
        }
    }
    if (html_i < 0 && plain_i < 0) {
        for (i = 0; i < n; i++)
            apr_array_cat(w->atts, sub[i].atts);
        return;
    }
    out = apr_array_push(w->segs);
    memset(out, 0, sizeof(*out));
    if (plain_i >= 0) {
        join_segs(w->p, sub[plain_i].segs, &seg);
        out->text = seg.text;
        out->text_len = seg.text_len;
        apr_array_cat(w->atts, sub[plain_i].atts);
    }
    if (html_i >= 0) {
        join_segs(w->p, sub[html_i].segs, &seg);
        out->html = seg.html;
        out->html_len = seg.html_len;
        apr_array_cat(w->atts, sub[html_i].atts);
    }
    i = plain_i >= 0 ? plain_i : html_i;
    if (!w->have_charset && sub[i].have_charset) {
        w->charset = sub[i].charset;
        w->have_charset = 1;
    }
}

static void walk(walk_t *w, GMimeObject *obj, const char *path, int body_ok)
{
    const char *type;

    if (!obj || w->depth > MAX_DEPTH)
        return;
    type = mime_type(w->p, obj);
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int i, n = g_mime_multipart_get_count(mp), root = 0;

        w->depth++;
        if (!strcmp(type, "multipart/alternative") && body_ok) {
            walk_alternative(w, mp, path);
        } else if (!strcmp(type, "multipart/related")) {
            const char *start = g_mime_object_get_content_type_parameter(obj, "start");

            if (start) {
                char *id = g_mime_utils_decode_message_id(start);
                for (i = 0; id && i < n; i++) {
                    const char *cid = g_mime_object_get_content_id(g_mime_multipart_get_part(mp, i));
                    if (cid && !strcmp(cid, id)) {
                        root = i;
                        break;
                    }
                }
                g_free(id);
            }
            for (i = 0; i < n; i++)
                walk(w, g_mime_multipart_get_part(mp, i), child_path(w->p, path, i + 1),
                     i == root ? body_ok : 0);
        } else if (!strcmp(type, "multipart/signed")) {
            for (i = 0; i < n; i++)
                walk(w, g_mime_multipart_get_part(mp, i), child_path(w->p, path, i + 1),
                     i == 0 ? body_ok : 0);
        } else {
            int text_ok = body_ok && strcmp(type, "multipart/encrypted");

            for (i = 0; i < n; i++)
                walk(w, g_mime_multipart_get_part(mp, i), child_path(w->p, path, i + 1), text_ok);
        }
        w->depth--;
        return;
    }
    if (GMIME_IS_PART(obj)) {
        GMimePart *part = GMIME_PART(obj);
        const char *disp = g_mime_object_get_disposition(obj);
        int attached = disp && !strcasecmp(disp, "attachment");
        const char *fn = g_mime_part_get_filename(part);
        int named = fn && *fn;

        if (!strcmp(type, "text/calendar")) {
            if (!w->calendar)
                w->calendar = part;
            if (attached || named || !body_ok)
                add_attachment(w, obj, path);
            return;
        }
        if (body_ok && !attached && !named
            && (!strcmp(type, "text/plain") || !strcmp(type, "text/html"))) {
            add_text(w, part, type[5] == 'h');
            return;
        }
    }
    add_attachment(w, obj, path);
}

/* ---- the summary ----------------------------------------------------- */

static int importance(GMimeObject *obj)
{
    const char *v;

    if ((v = g_mime_object_get_header(obj, "Importance"))) {
        while (apr_isspace(*v))
            v++;
        if (!strncasecmp(v, "high", 4))
            return 2;
        if (!strncasecmp(v, "low", 3))
            return 0;
        return 1;
    }
    if ((v = g_mime_object_get_header(obj, "X-Priority"))) {
        while (apr_isspace(*v))
            v++;
        if (*v == '1' || *v == '2')
            return 2;
        if (*v == '4' || *v == '5')
            return 0;
        return 1;
    }
    if ((v = g_mime_object_get_header(obj, "X-MSMail-Priority"))) {
        while (apr_isspace(*v))
            v++;
        if (!strncasecmp(v, "high", 4))
            return 2;
        if (!strncasecmp(v, "low", 3))
            return 0;
        return 1;
    }
    if ((v = g_mime_object_get_header(obj, "Priority"))) {
        while (apr_isspace(*v))
            v++;
        if (!strncasecmp(v, "urgent", 6))
            return 2;
        if (!strncasecmp(v, "non-urgent", 10))
            return 0;
    }
    return 1;
}

static void md5(const char *s, unsigned char out[16])
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_MD5);
    gsize n = 16;

    g_checksum_update(c, (const guchar *)s, (gssize)strlen(s));
    g_checksum_get_digest(c, out, &n);
    g_checksum_free(c);
}

/* FILETIME: 100 ns ticks since 1601-01-01. */
static apr_uint64_t filetime(apr_time_t t)
{
    return (apr_uint64_t)(t + APR_INT64_C(11644473600000000)) * 10;
}

/* MS-ASCON 2.2.2.3/2.2.2.4: the conversation is the thread root (first
 * References entry, else In-Reply-To, else the message itself); the index
 * is Outlook's Thread-Index when there is one (its time and reply blocks),
 * else the message time plus one block per level of References. */
static void conversation(apr_pool_t *p, eas_mime_msg_t *m, GMimeObject *obj)
{
    const char *root = NULL, *ti;
    GMimeReferences *refs = NULL;
    int depth = 0;
    unsigned char *idx;
    apr_uint64_t ft;
    int i;

    if (m->references && (refs = g_mime_references_parse(parser_options, m->references))) {
        depth = g_mime_references_length(refs);
        if (depth > 0)
            root = apr_pstrdup(p, g_mime_references_get_message_id(refs, 0));
        g_mime_references_free(refs);
    }
    if (!root && m->in_reply_to) {
        root = m->in_reply_to;
        depth = 1;
    }
    if (!root)
        root = m->message_id;
    if (!root)
        root = apr_pstrcat(p, "topic:", lower(p, m->thread_topic), NULL);
    md5(root, m->conversation_id);

    ti = g_mime_object_get_header(obj, "Thread-Index");
    if (ti) {
        gsize n = 0;
        guchar *raw = g_base64_decode(ti, &n);

        if (raw && n >= 22 && (n - 22) % 5 == 0) {
            idx = apr_palloc(p, 5 + (n - 22));
            memcpy(idx, raw + 1, 5);
            memcpy(idx + 5, raw + 22, n - 22);
            m->conversation_index = idx;
            m->conversation_index_len = 5 + (n - 22);
            g_free(raw);
            return;
        }
        g_free(raw);
    }
    if (depth > 32)
        depth = 32;
    idx = apr_pcalloc(p, 5 + (apr_size_t)depth * 5);
    ft = filetime(m->date ? m->date : m->date_received);
    for (i = 0; i < 5; i++)
        idx[i] = (unsigned char)(ft >> (56 - 8 * i));
    m->conversation_index = idx;
    m->conversation_index_len = 5 + (apr_size_t)depth * 5;
}

static const char *meeting_class(const eas_mime_meeting_t *mt)
{
    if (!strcmp(mt->method, "REQUEST"))
        return "IPM.Schedule.Meeting.Request";
    if (!strcmp(mt->method, "CANCEL"))
        return "IPM.Schedule.Meeting.Canceled";
    if (!strcmp(mt->method, "REPLY") && mt->partstat) {
        if (!strcmp(mt->partstat, "ACCEPTED"))
            return "IPM.Schedule.Meeting.Resp.Pos";
        if (!strcmp(mt->partstat, "DECLINED"))
            return "IPM.Schedule.Meeting.Resp.Neg";
        if (!strcmp(mt->partstat, "TENTATIVE"))
            return "IPM.Schedule.Meeting.Resp.Tent";
    }
    return NULL;
}

static const char *strip_angle(apr_pool_t *p, const char *id)
{
    char *d;
    const char *r;

    if (!id)
        return NULL;
    d = g_mime_utils_decode_message_id(id);
    r = d && *d ? apr_pstrdup(p, d) : NULL;
    g_free(d);
    return r ? mime_utf8_clean(p, r, strlen(r), NULL) : NULL;
}

apr_status_t eas_mime_parse(apr_pool_t *p, const char *data, apr_size_t len,
                            apr_time_t internaldate, eas_mime_msg_t **msg)
{
    eas_mime_msg_t *m;
    GMimeMessage *gm;
    GMimeObject *obj, *body;
    GDateTime *dt;
    walk_t w;
    seg_t all;
    const char *s, *top;
    mime_buf_t b;
    int i, unnamed = 0;

    *msg = NULL;
    if (!len)
        return APR_EINVAL;
    eas_mime_init();
    m = apr_pcalloc(p, sizeof(*m));
    m->priv = apr_pcalloc(p, sizeof(eas_mime_priv_t));
    m->priv->raw = apr_pmemdup(p, data, len);
    m->size = len;
    gm = mime_parse_bytes(m->priv->raw, len);
    if (!gm)
        gm = g_mime_message_new(FALSE);
    mime_unref_on_cleanup(p, gm);
    m->priv->message = gm;
    obj = GMIME_OBJECT(gm);
    /* Embedded messages are written back with the line breaks they came with. */
    m->priv->format = g_mime_format_options_new();
    apr_pool_cleanup_register(p, m->priv->format, format_cleanup, apr_pool_cleanup_null);
    {
        const char *nl = memchr(m->priv->raw, '\n', len);
        if (nl && nl > m->priv->raw && nl[-1] == '\r')
            g_mime_format_options_set_newline_format(m->priv->format, GMIME_NEWLINE_FORMAT_DOS);
    }

    m->to = mime_addr_list(p, g_mime_message_get_to(gm));
    m->cc = mime_addr_list(p, g_mime_message_get_cc(gm));
    m->from = mime_addr_list(p, g_mime_message_get_from(gm));
    m->reply_to = mime_addr_list(p, g_mime_message_get_reply_to(gm));
    s = mime_addr_list(p, g_mime_message_get_sender(gm));
    if (s && (!m->from || strcasecmp(s, m->from)))
        m->sender = s;
    mime_buf_init(&b, p, 128);
    m->display_to = display_names(p, g_mime_message_get_to(gm), &b);
    m->priv->rcpt = apr_array_make(p, 4, sizeof(const char *));
    mime_addr_collect(p, g_mime_message_get_to(gm), m->priv->rcpt);
    mime_addr_collect(p, g_mime_message_get_cc(gm), m->priv->rcpt);

    if ((s = g_mime_message_get_subject(gm)))
        m->subject = mime_utf8_clean(p, apr_pstrdup(p, s), strlen(s), NULL);
    if ((s = mime_header(p, obj, "Thread-Topic")) && *s)
        m->thread_topic = s;
    else
        m->thread_topic = mime_strip_prefixes(p, m->subject ? m->subject : "");
    if ((dt = g_mime_message_get_date(gm)))
        m->date = apr_time_from_sec(g_date_time_to_unix(dt));
    m->date_received = internaldate ? internaldate : m->date;
    m->importance = importance(obj);
    m->message_id = strip_angle(p, g_mime_message_get_message_id(gm));
    m->in_reply_to = strip_angle(p, g_mime_object_get_header(obj, "In-Reply-To"));
    if ((s = g_mime_object_get_header(obj, "References")))
        m->references = apr_pstrdup(p, s);
    conversation(p, m, obj);

    memset(&w, 0, sizeof(w));
    w.p = p;
    w.segs = apr_array_make(p, 2, sizeof(seg_t));
    w.atts = apr_array_make(p, 4, sizeof(eas_mime_attachment_t));
    w.unnamed = &unnamed;
    w.format = m->priv->format;
    body = g_mime_message_get_mime_part(gm);
    walk_body(&w, body, "", 1);
    m->attachments = w.atts;

    join_segs(p, w.segs, &all);
    if (!w.segs->nelts) {
        all.text = "";
        all.text_len = 0;
    }
    m->text = all.text;
    m->text_len = all.text_len;
    m->html = all.html;
    m->html_len = all.html_len;
    m->native_body_type = m->html ? EAS_BODY_HTML : EAS_BODY_PLAIN;
    m->internet_cpid = eas_mime_cpid(w.have_charset ? w.charset : "utf-8");

    /* IsInline: the HTML shows it (MS-ASAIRS 2.2.2.26). */
    for (i = 0; i < m->attachments->nelts; i++) {
        eas_mime_attachment_t *a = &APR_ARRAY_IDX(m->attachments, i, eas_mime_attachment_t);

        if (a->content_id && m->html) {
            const char *ref = apr_pstrcat(p, "cid:", a->content_id, NULL);
            a->is_inline = strstr(m->html, ref) != NULL;
        }
    }

    m->priv->calendar = w.calendar;
    if (w.calendar) {
        apr_size_t n;
        const char *ics = mime_part_text(p, w.calendar, &n, NULL);
        const char *method = g_mime_object_get_content_type_parameter(GMIME_OBJECT(w.calendar),
                                                                      "method");
        eas_mime_meeting_t *mt = (eas_mime_meeting_t *)mime_meeting_parse(p, ics, n);

        if (mt && !*mt->method && method) {
            char *u = apr_pstrdup(p, method), *c;

            for (c = u; *c; c++)
                *c = (char)apr_toupper(*c);
            mt->method = u;
        }
        m->meeting = mt;
    }

    top = body ? mime_type(p, body) : "text/plain";
    m->message_class = "IPM.Note";
    if (!strcmp(top, "multipart/signed")) {
        const char *proto = g_mime_object_get_content_type_parameter(body, "protocol");

        if (proto && strstr(lower(p, proto), "pkcs7")) {
            m->smime = EAS_SMIME_SIGNED;
            m->message_class = "IPM.Note.SMIME.MultipartSigned";
        }
    } else if (!strcmp(top, "application/pkcs7-mime") || !strcmp(top, "application/x-pkcs7-mime")) {
        m->smime = EAS_SMIME_OPAQUE;
        m->message_class = "IPM.Note.SMIME";
    }
    if (!m->smime && m->meeting && (s = meeting_class(m->meeting)))
        m->message_class = s;
    m->content_class = strncmp(m->message_class, "IPM.Schedule.Meeting", 20)
                       ? "urn:content-classes:message" : "urn:content-classes:calendarmessage";
    *msg = m;
    return APR_SUCCESS;
}

const char *eas_mime_html(eas_mime_msg_t *m, apr_size_t *len)
{
    if (m->html) {
        *len = m->html_len;
        return m->html;
    }
    if (!m->priv->html_made) {
        apr_pool_t *p = m->attachments->pool;

        m->priv->html_made = eas_mime_text_to_html(p, m->text, m->text_len,
                                                   &m->priv->html_made_len);
    }
    *len = m->priv->html_made_len;
    return m->priv->html_made;
}

const char *eas_mime_mime_data(eas_mime_msg_t *m, apr_size_t *len)
{
    eas_mime_priv_t *pv = m->priv;

    if (!pv->mime) {
        apr_pool_t *p = m->attachments->pool;

        if (m->smime || (eas_utf8_valid(pv->raw, m->size) && !memchr(pv->raw, 0, m->size))) {
            pv->mime = pv->raw;
            pv->mime_len = m->size;
        } else {
            /* 8-bit parts in other charsets: a fresh copy re-encoded to 7bit
             * reads the same and stays intact as a WBXML string. */
            GMimeMessage *copy = mime_parse_bytes(pv->raw, m->size);
            GMimeFormatOptions *fo;
            char *s;
            apr_size_t n;

            if (!copy) {
                pv->mime = mime_utf8_clean(p, pv->raw, m->size, &pv->mime_len);
                *len = pv->mime_len;
                return pv->mime;
            }
            fo = g_mime_format_options_new();
            g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
            g_mime_object_encode(GMIME_OBJECT(copy), GMIME_ENCODING_CONSTRAINT_7BIT);
            s = g_mime_object_to_string(GMIME_OBJECT(copy), fo);
            pv->mime = mime_utf8_clean(p, apr_pstrdup(p, s), strlen(s), &n);
            pv->mime_len = n;
            g_free(s);
            g_mime_format_options_free(fo);
            g_object_unref(copy);
        }
    }
    *len = pv->mime_len;
    return pv->mime;
}

int mime_received_as_bcc(const eas_mime_msg_t *m, const char *user)
{
    int i;

    for (i = 0; i < m->priv->rcpt->nelts; i++)
        if (!strcasecmp(APR_ARRAY_IDX(m->priv->rcpt, i, const char *), user))
            return 0;
    return 1;
}

/* ---- attachments ----------------------------------------------------- */

const eas_mime_attachment_t *eas_mime_attachment_find(const eas_mime_msg_t *m, const char *path)
{
    int i;

    for (i = 0; path && i < m->attachments->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(m->attachments, i, eas_mime_attachment_t).path, path))
            return &APR_ARRAY_IDX(m->attachments, i, eas_mime_attachment_t);
    return NULL;
}

/* The object an IMAP section names, or NULL. */
static GMimeObject *resolve(GMimeMessage *msg, const char *path)
{
    GMimeObject *body = g_mime_message_get_mime_part(msg), *obj = NULL;
    int nums[64], n = 0, i = 0, at_body = 1;
    const char *s = path;

    while (s && *s && n < 64) {
        char *end;
        long k = strtol(s, &end, 10);

        if (end == s || k < 1 || k > 100000 || (*end && (*end != '.' || !apr_isdigit(end[1]))))
            return NULL;
        nums[n++] = (int)k;
        s = *end ? end + 1 : end;
    }
    if (!n || (s && *s))
        return NULL;
    while (i < n) {
        int k = nums[i++];

        if (at_body) {
            /* A message body: a multipart's children, or the single part as 1. */
            if (!body)
                return NULL;
            if (GMIME_IS_MULTIPART(body))
                obj = k <= g_mime_multipart_get_count(GMIME_MULTIPART(body))
                      ? g_mime_multipart_get_part(GMIME_MULTIPART(body), k - 1) : NULL;
            else
                obj = k == 1 ? body : NULL;
            at_body = 0;
        } else if (GMIME_IS_MULTIPART(obj)) {
            obj = k <= g_mime_multipart_get_count(GMIME_MULTIPART(obj))
                  ? g_mime_multipart_get_part(GMIME_MULTIPART(obj), k - 1) : NULL;
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
            GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

            /* The same number again, against the embedded message's body. */
            body = inner ? g_mime_message_get_mime_part(inner) : NULL;
            at_body = 1;
            i--;
            continue;
        } else {
            return NULL;
        }
        if (!obj)
            return NULL;
    }
    return obj;
}

GMimeObject *mime_msg_part(const eas_mime_msg_t *m, const char *path)
{
    return resolve(m->priv->message, path);
}

GMimePart *mime_msg_calendar(const eas_mime_msg_t *m)
{
    return m->priv->calendar;
}

const char *mime_msg_raw(const eas_mime_msg_t *m)
{
    return m->priv->raw;
}

apr_status_t eas_mime_part_write(eas_mime_msg_t *m, const char *path, eas_mime_sink_fn *sink,
                                 void *baton)
{
    GMimeObject *obj = resolve(m->priv->message, path);

    if (!obj || GMIME_IS_MULTIPART(obj))
        return APR_NOTFOUND;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        GMimeStream *mem;
        GByteArray *ba;
        apr_status_t rv = APR_SUCCESS;

        if (!inner)
            return APR_SUCCESS;
        mem = g_mime_stream_mem_new();
        g_mime_object_write_to_stream(GMIME_OBJECT(inner), m->priv->format, mem);
        ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
        if (ba->len)
            rv = sink(baton, (const char *)ba->data, ba->len);
        g_object_unref(mem);
        return rv;
    }
    if (!GMIME_IS_PART(obj))
        return APR_NOTFOUND;
    return part_stream(GMIME_PART(obj), sink, baton, NULL);
}

apr_status_t eas_mime_part_get(apr_pool_t *p, eas_mime_msg_t *m, const char *path,
                               const char **data, apr_size_t *len)
{
    mime_buf_t b;
    apr_status_t rv;

    mime_buf_init(&b, p, 4096);
    rv = eas_mime_part_write(m, path, buf_sink, &b);
    if (rv != APR_SUCCESS) {
        *data = NULL;
        *len = 0;
        return rv;
    }
    *len = b.n;
    *data = mime_buf_str(&b);
    return APR_SUCCESS;
}

apr_status_t eas_mime_decode(const char *transfer_encoding, const char *data, apr_size_t len,
                             eas_mime_sink_fn *sink, void *baton)
{
    GMimeContentEncoding enc = transfer_encoding
        ? g_mime_content_encoding_from_string(transfer_encoding) : GMIME_CONTENT_ENCODING_DEFAULT;
    GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
    apr_status_t rv = APR_SUCCESS;
    apr_size_t off = 0;
    char *out;
    size_t outlen, prespace;

    eas_mime_init();
    if (!f)
        return len ? sink(baton, data, len) : APR_SUCCESS;
    /* Chunks keep the filter's buffers small for big attachments. */
    while (off < len && rv == APR_SUCCESS) {
        apr_size_t n = len - off > 65536 ? 65536 : len - off;

        g_mime_filter_filter(f, (char *)data + off, n, 0, &out, &outlen, &prespace);
        if (outlen)
            rv = sink(baton, out, outlen);
        off += n;
    }
    if (rv == APR_SUCCESS) {
        g_mime_filter_complete(f, (char *)"", 0, 0, &out, &outlen, &prespace);
        if (outlen)
            rv = sink(baton, out, outlen);
    }
    g_object_unref(f);
    return rv;
}
