/*
 * Mail item identifiers, lookups and the IMAP fetches the mail commands
 * share (see eas_mailitem.h).
 */
#include "eas_mailitem.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <gmime/gmime.h>

/* A decimal number without sign or leading zero that fits 32 bits (uids,
 * UIDVALIDITY) or is a database id (digits, at most 18). */
static int take_number(const char **s, char stop, apr_uint64_t max, apr_uint64_t *out)
{
    const char *p = *s;
    apr_uint64_t v = 0;
    int n = 0;

    if (*p == '0' && p[1] != stop && p[1] != '\0')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++, n++) {
        if (n >= 18)
            return 0;
        v = v * 10 + (apr_uint64_t)(*p - '0');
    }
    if (n == 0 || v > max || *p != stop)
        return 0;
    *out = v;
    *s = *p ? p + 1 : p;
    return 1;
}

/* IMAP section numbers: "1", "2.1.3" (no MIME/HEADER/TEXT suffixes). */
static int valid_part(const char *s)
{
    const char *p = s;

    if (!*p || strlen(p) > 64)
        return 0;
    while (*p) {
        if (*p < '1' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == '.') {
            if (!p[1])
                return 0;
            p++;
        }
        else if (*p)
            return 0;
    }
    return 1;
}

apr_status_t eas_mailid_parse(apr_pool_t *p, eas_mailid_kind_e kind, const char *id,
                              const char **folder, apr_uint32_t *uidvalidity,
                              apr_uint32_t *uid, const char **part)
{
    const char *s = id;
    apr_uint64_t f, v = 0, u;

    *folder = NULL;
    *uidvalidity = 0;
    *uid = 0;
    *part = NULL;
    if (!s || !take_number(&s, ':', APR_INT64_C(999999999999999999), &f) || f == 0)
        return APR_EINVAL;
    if (kind != EAS_MAILID_SERVERID && (!take_number(&s, ':', 0xffffffffu, &v) || v == 0))
        return APR_EINVAL;
    if (!take_number(&s, kind == EAS_MAILID_FILEREF ? ':' : '\0', 0xffffffffu, &u) || u == 0)
        return APR_EINVAL;
    if (kind == EAS_MAILID_FILEREF) {
        if (!valid_part(s))
            return APR_EINVAL;
        *part = apr_pstrdup(p, s);
    }
    else if (*s)
        return APR_EINVAL;
    *folder = apr_psprintf(p, "%" APR_UINT64_T_FMT, f);
    *uidvalidity = (apr_uint32_t)v;
    *uid = (apr_uint32_t)u;
    return APR_SUCCESS;
}

const char *eas_mailid_serverid(apr_pool_t *p, const char *folder, apr_uint32_t uid)
{
    return apr_psprintf(p, "%s:%u", folder, (unsigned)uid);
}

const char *eas_mailid_longid(apr_pool_t *p, const char *folder, apr_uint32_t uidvalidity,
                              apr_uint32_t uid)
{
    return apr_psprintf(p, "%s:%u:%u", folder, (unsigned)uidvalidity, (unsigned)uid);
}

const char *eas_mailid_fileref_prefix(apr_pool_t *p, const char *folder,
                                      apr_uint32_t uidvalidity, apr_uint32_t uid)
{
    return apr_psprintf(p, "%s:%u:%u:", folder, (unsigned)uidvalidity, (unsigned)uid);
}

apr_status_t eas_mailitem_lookup(eas_request_t *req, eas_mailid_kind_e kind, const char *id,
                                 eas_mailitem_t **item)
{
    const char *folder, *part;
    apr_uint32_t v, u;
    eas_folder_t *f;
    eas_mailitem_t *it;
    apr_status_t rv;

    *item = NULL;
    if (eas_mailid_parse(req->pool, kind, id, &folder, &v, &u, &part) != APR_SUCCESS)
        return APR_SUCCESS;
    if ((rv = eas_folders_get(req, folder, &f)) != APR_SUCCESS || !f || !f->imap_name)
        return rv;
    it = apr_pcalloc(req->pool, sizeof(*it));
    it->folder = f;
    it->uidvalidity = v;
    it->uid = u;
    it->part = part;
    *item = it;
    return APR_SUCCESS;
}

/* ---- IMAP ------------------------------------------------------------ */

apr_status_t eas_mail_imap(eas_request_t *req, eas_imap_t **conn)
{
    if (!req->imap || !req->imap_server)
        return APR_EAGAIN;
    if (eas_imap_acquire(req->imap, req->imap_server, req->login, req->password, req->pool,
                         conn) != APR_SUCCESS) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                       EASLOGNO(01802) "no IMAP connection for %s", req->login);
        return APR_EAGAIN;
    }
    return APR_SUCCESS;
}

apr_status_t eas_mail_imap_failed(eas_request_t *req, eas_imap_t *c, eas_imap_rc_e rc,
                                  const char *what)
{
    int transient = rc == EAS_IMAP_TRANSIENT || rc == EAS_IMAP_AUTH;

    eas_log_printf(req->log, EAS_LOG_MARK, transient ? EAS_LOG_WARNING : EAS_LOG_ERR,
                   APR_SUCCESS, EASLOGNO(01803) "IMAP %s for %s failed (%s): %s", what,
                   req->login, eas_imap_rc_name(rc), c ? eas_imap_error(c) : "no connection");
    return transient ? APR_EAGAIN : APR_EGENERAL;
}

eas_imap_rc_e eas_mail_status(eas_imap_t *c, const char *mailbox, eas_imap_status_t *st)
{
    eas_imap_rc_e rc = eas_imap_status(c, mailbox, st);

    if (rc == EAS_IMAP_TRANSIENT)
        rc = eas_imap_status(c, mailbox, st);
    return rc;
}

/* A connection from the pool may have the mailbox selected since an
 * earlier request and not have heard of newer messages yet: select it
 * again (read-only), which also checks the UIDVALIDITY. */
static eas_imap_rc_e reselect(eas_imap_t *c, eas_mailitem_t *it, apr_pool_t *p)
{
    eas_imap_selected_t *sel;
    eas_imap_rc_e rc = eas_imap_select(c, it->folder->imap_name, 1, NULL, 0, p, &sel);

    if (rc == EAS_IMAP_TRANSIENT)   /* a dead pooled connection: once more */
        rc = eas_imap_select(c, it->folder->imap_name, 1, NULL, 0, p, &sel);
    if (rc != EAS_IMAP_OK)
        return rc;
    if (it->uidvalidity && sel->uidvalidity != it->uidvalidity)
        return EAS_IMAP_NO_MESSAGE;
    it->uidvalidity = sel->uidvalidity;
    return EAS_IMAP_OK;
}

eas_imap_rc_e eas_mailitem_fetch_raw(eas_imap_t *c, eas_mailitem_t *it, apr_pool_t *p,
                                     eas_imap_msg_t **meta, const char **data,
                                     apr_size_t *len)
{
    eas_imap_uidset_t *set = eas_imap_uidset_make(p);
    apr_array_header_t *msgs;
    eas_imap_rc_e rc;

    eas_imap_uidset_add(set, it->uid, it->uid);
    if ((rc = reselect(c, it, p)) != EAS_IMAP_OK)
        return rc;
    rc = eas_imap_fetch_meta(c, it->folder->imap_name, it->uidvalidity, set,
                             EAS_IMAP_F_FLAGS | EAS_IMAP_F_INTERNALDATE | EAS_IMAP_F_SIZE, 0, p,
                             &msgs);
    if (rc != EAS_IMAP_OK)
        return rc;
    if (msgs->nelts == 0)
        return EAS_IMAP_NO_MESSAGE;
    *meta = &APR_ARRAY_IDX(msgs, 0, eas_imap_msg_t);
    return eas_imap_fetch_body(c, it->folder->imap_name, it->uidvalidity, it->uid, "", 0, 0,
                               EAS_MAIL_MAX_MESSAGE, p, data, len);
}

eas_imap_rc_e eas_mailitem_fetch(eas_imap_t *c, eas_mailitem_t *it, apr_pool_t *p,
                                 eas_imap_msg_t **meta, eas_mime_msg_t **msg)
{
    const char *data;
    apr_size_t len;
    eas_imap_rc_e rc = eas_mailitem_fetch_raw(c, it, p, meta, &data, &len);

    if (rc != EAS_IMAP_OK)
        return rc;
    /* An empty message is still a message: parse a blank header. */
    if (eas_mime_parse(p, len ? data : "\r\n", len ? len : 2, (*meta)->internaldate, msg)
        != APR_SUCCESS)
        return EAS_IMAP_PROTOCOL;
    return EAS_IMAP_OK;
}

void eas_mailitem_state(apr_pool_t *p, const eas_imap_msg_t *meta, eas_mime_state_t *st)
{
    const char **cats;
    int i, n = 0;

    memset(st, 0, sizeof(*st));
    st->seen = !!(meta->flags & EAS_IMAP_SEEN);
    st->flagged = !!(meta->flags & EAS_IMAP_FLAGGED);
    st->answered = !!(meta->flags & EAS_IMAP_ANSWERED);
    if (!meta->keywords)
        return;
    cats = apr_pcalloc(p, sizeof(*cats) * (apr_size_t)(meta->keywords->nelts + 1));
    for (i = 0; i < meta->keywords->nelts; i++) {
        const char *k = APR_ARRAY_IDX(meta->keywords, i, const char *);
        if (!strcasecmp(k, "$Forwarded"))
            st->forwarded = 1;
        else if (*k != '$' && *k != '\\')
            cats[n++] = k;
    }
    st->categories = cats;
    st->n_categories = n;
}

static apr_status_t special_lookup(eas_request_t *req, int type, eas_folder_t **f)
{
    const char *id;
    apr_status_t rv;

    rv = eas_db_value(req->db, req->pool, &id,
                      "SELECT id FROM eas.folders WHERE user_id = %s::bigint AND class = 'Email' "
                      "AND type = %s::smallint AND NOT deleted ORDER BY id LIMIT 1",
                      EAS_DB_ARGS(req->user->id, apr_itoa(req->pool, type)));
    if (rv != APR_SUCCESS || !id)
        return rv;
    return eas_folders_get(req, id, f);
}

apr_status_t eas_mail_special_folder(eas_request_t *req, int type, eas_folder_t **f)
{
    apr_status_t rv;

    *f = NULL;
    if ((rv = special_lookup(req, type, f)) != APR_SUCCESS || *f)
        return rv;
    /* A device may send before its first FolderSync. */
    if ((rv = eas_folders_refresh(req)) != APR_SUCCESS)
        return rv;
    return special_lookup(req, type, f);
}

/* ---- parts ----------------------------------------------------------- */

#define PIECE_SIZE (1024 * 1024)

typedef struct {
    apr_pool_t *p;
    GMimeEncoding enc;
    int identity;
    char *scratch;
    apr_size_t scratch_len;
    apr_off_t lo, hi;           /* hi < 0: no end */
    apr_off_t pos;              /* decoded bytes seen */
    char *piece;                /* current piece, PIECE_SIZE bytes */
    apr_size_t piece_used;
    eas_mail_part_t *part;
} decode_t;

static void keep(decode_t *d, const char *data, apr_size_t len)
{
    apr_off_t start = d->pos, end = d->pos + (apr_off_t)len;    /* [start, end) */
    apr_off_t from = start > d->lo ? start : d->lo;
    apr_off_t to = d->hi >= 0 && end > d->hi + 1 ? d->hi + 1 : end;

    d->pos = end;
    if (from >= to)
        return;
    if (d->part->len == 0)
        d->part->first = from;
    data += from - start;
    len = (apr_size_t)(to - from);
    d->part->len += len;
    while (len) {
        apr_size_t n;
        if (!d->piece || d->piece_used == PIECE_SIZE) {
            eas_bytes_t *b = apr_array_push(d->part->pieces);
            d->piece = apr_palloc(d->p, PIECE_SIZE);
            d->piece_used = 0;
            b->data = d->piece;
            b->len = 0;
        }
        n = PIECE_SIZE - d->piece_used;
        if (n > len)
            n = len;
        memcpy(d->piece + d->piece_used, data, n);
        d->piece_used += n;
        APR_ARRAY_IDX(d->part->pieces, d->part->pieces->nelts - 1, eas_bytes_t).len += n;
        data += n;
        len -= n;
    }
}

static char *scratch(decode_t *d, apr_size_t need)
{
    if (need > d->scratch_len) {
        d->scratch_len = need > 65536 ? need : 65536;
        d->scratch = apr_palloc(d->p, d->scratch_len);
    }
    return d->scratch;
}

static apr_status_t decode_sink(void *baton, const char *data, apr_size_t len)
{
    decode_t *d = baton;
    char *out;
    apr_size_t n;

    if (d->identity) {
        keep(d, data, len);
        return APR_SUCCESS;
    }
    out = scratch(d, g_mime_encoding_outlen(&d->enc, len));
    n = g_mime_encoding_step(&d->enc, data, len, out);
    keep(d, out, n);
    return APR_SUCCESS;
}

/* Content-Type and transfer encoding from the part's MIME header. */
static void part_header(apr_pool_t *p, const char *hdr, apr_size_t len, eas_mail_part_t *part,
                        GMimeContentEncoding *enc)
{
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeObject *obj;
    char *buf = apr_palloc(p, len + 4);

    /* a header block alone: end it so that the parser sees an empty body */
    memcpy(buf, hdr, len);
    memcpy(buf + len, "\r\n\r\n", 4);
    stream = g_mime_stream_mem_new_with_buffer(buf, len + 4);
    parser = g_mime_parser_new_with_stream(stream);
    obj = g_mime_parser_construct_part(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    part->content_type = "application/octet-stream";
    *enc = GMIME_CONTENT_ENCODING_DEFAULT;
    if (!obj)
        return;
    if (g_mime_object_get_content_type(obj)) {
        char *t = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
        if (t) {
            char *c;
            for (c = t; *c; c++)
                *c = (char)g_ascii_tolower(*c);
            part->content_type = apr_pstrdup(p, t);
            g_free(t);
        }
    }
    if (GMIME_IS_PART(obj)) {
        const char *fn = g_mime_part_get_filename(GMIME_PART(obj));
        part->filename = fn ? apr_pstrdup(p, fn) : NULL;
        *enc = g_mime_part_get_content_encoding(GMIME_PART(obj));
    }
    g_object_unref(obj);
}

eas_imap_rc_e eas_mailitem_part(eas_imap_t *c, eas_mailitem_t *it, apr_off_t lo,
                                apr_off_t hi, apr_pool_t *p, eas_mail_part_t **out)
{
    const char *mbox = it->folder->imap_name, *hdr;
    apr_size_t hlen = 0;
    eas_mail_part_t *part = apr_pcalloc(p, sizeof(*part));
    GMimeContentEncoding enc;
    decode_t d;
    eas_imap_rc_e rc;

    if ((rc = reselect(c, it, p)) != EAS_IMAP_OK)
        return rc;
    /* The part's own header; a message that is not multipart has none of
     * its own for section 1, and its message header says what it is. */
    rc = eas_imap_fetch_body(c, mbox, it->uidvalidity, it->uid,
                             apr_pstrcat(p, it->part, ".MIME", NULL), 0, 0, 256 * 1024, p, &hdr,
                             &hlen);
    if (rc == EAS_IMAP_OK && hlen == 0 && !strcmp(it->part, "1"))
        rc = eas_imap_fetch_body(c, mbox, it->uidvalidity, it->uid, "HEADER", 0, 0,
                                 256 * 1024, p, &hdr, &hlen);
    if (rc != EAS_IMAP_OK)
        return rc;
    if (hlen == 0)
        return EAS_IMAP_NO_MESSAGE;
    part->pieces = apr_array_make(p, 4, sizeof(eas_bytes_t));
    part_header(p, hdr, hlen, part, &enc);
    if (!strncmp(part->content_type, "multipart/", 10))
        return EAS_IMAP_NO_MESSAGE;

    memset(&d, 0, sizeof(d));
    d.p = p;
    d.lo = lo < 0 ? 0 : lo;
    d.hi = hi;
    d.part = part;
    d.identity = enc != GMIME_CONTENT_ENCODING_BASE64 &&
                 enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
                 enc != GMIME_CONTENT_ENCODING_UUENCODE;
    if (!d.identity)
        g_mime_encoding_init_decode(&d.enc, enc);
    rc = eas_imap_fetch_stream(c, mbox, it->uidvalidity, it->uid, it->part, 0, 0, decode_sink,
                               &d, NULL);
    if (rc != EAS_IMAP_OK)
        return rc;
    if (!d.identity) {
        char *o = scratch(&d, g_mime_encoding_outlen(&d.enc, 0) + 8);
        keep(&d, o, g_mime_encoding_flush(&d.enc, NULL, 0, o));
    }
    part->total = d.pos;
    if (part->len == 0)
        part->first = d.lo;
    *out = part;
    return EAS_IMAP_OK;
}
