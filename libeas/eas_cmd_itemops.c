/*
 * ItemOperations (MS-ASCMD 2.2.1.10) on the mailbox store: Fetch of mail
 * items (by ServerId or a Search LongId) with the client's body options,
 * of attachments (FileReference, with Range) and of MIME (BodyPreference
 * Type 4); EmptyFolderContents (with DeleteSubFolders); Move of a
 * conversation (MS-ASCON 2.2.2.7).  GetAttachment (2.2.1.7, 2.5-12.1)
 * answers an attachment as the raw body.
 *
 * The response is collected, not streamed, so a backend failure halfway
 * still becomes a clean 503.  Large data is never copied on its way out:
 * the document is kept as pieces that point into the decoded attachment
 * or the base64 text, and the glue sends those pieces as they are.  With
 * MS-ASAcceptMultiPart the body is the MultiPartResponse of 2.2.1.10.1.1:
 * the WBXML is part 0 and every body or attachment a part of its own.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_mailitem.h"
#include "eas_mime_opts.h"
#include "eas_status.h"

/* MS-ASCMD 2.2.3.177.8 */
enum {
    IO_OK = 1, IO_PROTOCOL = 2, IO_SERVER = 3, IO_NOT_FOUND = 6, IO_RANGE = 8,
    IO_STORE = 9, IO_BAD_ATTACHMENT = 15, IO_PARTIAL = 17,
    IO_MOVE_NOT_ALWAYS = 155, IO_MOVE_DESTINATION = 156
};

typedef struct {
    eas_request_t *req;
    apr_pool_t *pool;
    eas_wbxml_writer_t *w;
    apr_array_header_t *doc;    /* eas_bytes_t: the WBXML as produced */
    apr_size_t doc_len;
    apr_array_header_t *lent;   /* eas_bytes_t: memory the writer may hand over as is */
    int multipart;
    apr_array_header_t *parts;  /* of apr_array_header_t * (eas_bytes_t): parts 1.. */
    eas_imap_t *imap;
} ctx_t;

static int is_lent(const ctx_t *x, const char *data, apr_size_t len)
{
    int i;

    for (i = 0; i < x->lent->nelts; i++) {
        const eas_bytes_t *b = &APR_ARRAY_IDX(x->lent, i, eas_bytes_t);
        if (data >= b->data && data + len <= b->data + b->len)
            return 1;
    }
    return 0;
}

/* The writer's flush: its own buffer is reused, so that is copied; data
 * we lent it (attachments, base64) stays where it is. */
static apr_status_t collect(void *baton, const char *data, apr_size_t len)
{
    ctx_t *x = baton;
    eas_bytes_t *b = apr_array_push(x->doc);

    b->data = is_lent(x, data, len) ? data : apr_pmemdup(x->pool, data, len);
    b->len = len;
    x->doc_len += len;
    return APR_SUCCESS;
}

static void lend(ctx_t *x, const char *data, apr_size_t len)
{
    eas_bytes_t *b = apr_array_push(x->lent);

    b->data = data;
    b->len = len;
}

/* A binary part of the multipart response; returns its number. */
static int add_part(ctx_t *x, apr_array_header_t *pieces)
{
    APR_ARRAY_PUSH(x->parts, apr_array_header_t *) = pieces;
    return x->parts->nelts;
}

static apr_status_t body_part(void *baton, const char *data, apr_size_t len, int *part)
{
    ctx_t *x = baton;
    apr_array_header_t *pieces = apr_array_make(x->pool, 1, sizeof(eas_bytes_t));
    eas_bytes_t *b = apr_array_push(pieces);

    b->data = data;
    b->len = len;
    *part = add_part(x, pieces);
    return APR_SUCCESS;
}

static apr_status_t imap(ctx_t *x)
{
    return x->imap ? APR_SUCCESS : eas_mail_imap(x->req, &x->imap);
}

/* "lo-hi" (MS-ASCMD 2.2.3.143.2); 0 when malformed. */
static int parse_range(const char *s, apr_off_t *lo, apr_off_t *hi)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return 0;
    *lo = (apr_off_t)strtoll(s, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return 0;
    *hi = (apr_off_t)strtoll(end + 1, &end, 10);
    return !*end && *lo <= *hi;
}

/* base64 of pieces into one buffer (a Data element is one string). */
static char *base64_pieces(apr_pool_t *p, const apr_array_header_t *pieces, apr_size_t total,
                           apr_size_t *out_len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = apr_palloc(p, (total + 2) / 3 * 4 + 1), *o = out;
    unsigned char acc[3];
    int n = 0, i;

    for (i = 0; i < pieces->nelts; i++) {
        const eas_bytes_t *b = &APR_ARRAY_IDX(pieces, i, eas_bytes_t);
        const unsigned char *s = (const unsigned char *)b->data;
        apr_size_t k;

        for (k = 0; k < b->len; k++) {
            acc[n++] = s[k];
            if (n == 3) {
                *o++ = tab[acc[0] >> 2];
                *o++ = tab[((acc[0] & 3) << 4) | (acc[1] >> 4)];
                *o++ = tab[((acc[1] & 15) << 2) | (acc[2] >> 6)];
                *o++ = tab[acc[2] & 63];
                n = 0;
            }
        }
    }
    if (n) {
        *o++ = tab[acc[0] >> 2];
        *o++ = tab[((acc[0] & 3) << 4) | (n > 1 ? acc[1] >> 4 : 0)];
        *o++ = n > 1 ? tab[(acc[1] & 15) << 2] : '=';
        *o++ = '=';
    }
    *o = '\0';
    *out_len = (apr_size_t)(o - out);
    return out;
}

static void fetch_status(ctx_t *x, int status, eas_tag_t id_tag, const char *id)
{
    eas_wbxml_textf(x->w, EAS_ItemOperations_Status, "%d", status);
    if (id)
        eas_wbxml_text(x->w, id_tag, id);
}

/* An attachment by FileReference. */
static apr_status_t fetch_attachment(ctx_t *x, const char *ref, const eas_node_t *opts)
{
    eas_request_t *req = x->req;
    const char *range = eas_node_child_text(opts, EAS_ItemOperations_Range);
    apr_off_t lo = 0, hi = -1;
    eas_mailitem_t *it;
    eas_mail_part_t *part;
    apr_pool_t *sp = NULL;
    eas_imap_rc_e rc;
    apr_status_t rv;

    if (range && !parse_range(range, &lo, &hi)) {
        fetch_status(x, IO_RANGE, EAS_AirSyncBase_FileReference, ref);
        return APR_SUCCESS;
    }
    if ((rv = eas_mailitem_lookup(req, EAS_MAILID_FILEREF, ref, &it)) != APR_SUCCESS)
        return rv;
    if (!it) {
        fetch_status(x, IO_BAD_ATTACHMENT, EAS_AirSyncBase_FileReference, ref);
        return APR_SUCCESS;
    }
    if ((rv = imap(x)) != APR_SUCCESS)
        return rv;
    /* Inline, the decoded bytes only live until they are base64. */
    if (!x->multipart)
        apr_pool_create(&sp, x->pool);
    rc = eas_mailitem_part(x->imap, it, lo, hi, sp ? sp : x->pool, &part);
    if (rc == EAS_IMAP_NO_MESSAGE || rc == EAS_IMAP_NO_MAILBOX) {
        fetch_status(x, IO_BAD_ATTACHMENT, EAS_AirSyncBase_FileReference, ref);
        rv = APR_SUCCESS;
        goto leave;
    }
    if (rc != EAS_IMAP_OK) {
        if ((rv = eas_mail_imap_failed(req, x->imap, rc, "FETCH of an attachment")) == APR_EAGAIN)
            goto leave;
        fetch_status(x, IO_SERVER, EAS_AirSyncBase_FileReference, ref);
        rv = APR_SUCCESS;
        goto leave;
    }
    if (range && part->total > 0 && lo >= part->total) {
        fetch_status(x, IO_RANGE, EAS_AirSyncBase_FileReference, ref);
        goto leave;
    }
    fetch_status(x, IO_OK, EAS_AirSyncBase_FileReference, ref);
    eas_wbxml_start(x->w, EAS_ItemOperations_Properties);
    eas_wbxml_text(x->w, EAS_AirSyncBase_ContentType, part->content_type);
    if (range) {
        eas_wbxml_textf(x->w, EAS_ItemOperations_Range, "%" APR_OFF_T_FMT "-%" APR_OFF_T_FMT,
                        part->first, part->first + (apr_off_t)part->len - (part->len ? 1 : 0));
        eas_wbxml_textf(x->w, EAS_ItemOperations_Total, "%" APR_OFF_T_FMT, part->total);
    }
    if (x->multipart) {
        eas_wbxml_textf(x->w, EAS_ItemOperations_Part, "%d", add_part(x, part->pieces));
    }
    else {
        apr_size_t blen;
        char *b64 = base64_pieces(x->pool, part->pieces, part->len, &blen);

        lend(x, b64, blen);
        eas_wbxml_textn(x->w, EAS_ItemOperations_Data, b64, blen);
    }
    eas_wbxml_end(x->w);
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_DEBUG, APR_SUCCESS,
                   EASLOGNO(01810) "%s fetched attachment %s: %" APR_SIZE_T_FMT " of %"
                   APR_OFF_T_FMT " bytes%s", req->login, ref, part->len, part->total,
                   x->multipart ? " (multipart)" : "");
leave:
    if (sp)
        apr_pool_destroy(sp);
    return rv;
}

/* A message by ServerId (with its CollectionId) or by LongId. */
static apr_status_t fetch_item(ctx_t *x, eas_mailid_kind_e kind, const char *id,
                               const char *collection, const eas_node_t *opts)
{
    eas_request_t *req = x->req;
    eas_tag_t id_tag = kind == EAS_MAILID_LONGID ? EAS_Search_LongId : EAS_AirSync_ServerId;
    eas_mime_options_t o;
    eas_mime_state_t st;
    eas_mailitem_t *it;
    eas_imap_msg_t *meta;
    eas_mime_msg_t *msg;
    eas_imap_rc_e rc;
    apr_status_t rv;

    if ((rv = eas_mailitem_lookup(req, kind, id, &it)) != APR_SUCCESS)
        return rv;
    if (it && kind == EAS_MAILID_SERVERID && collection && strcmp(collection, it->folder->id))
        it = NULL;
    if (!it) {
        eas_wbxml_textf(x->w, EAS_ItemOperations_Status, "%d", IO_NOT_FOUND);
        if (kind == EAS_MAILID_SERVERID && collection)
            eas_wbxml_text(x->w, EAS_AirSync_CollectionId, collection);
        eas_wbxml_text(x->w, id_tag, id);
        return APR_SUCCESS;
    }
    if ((rv = imap(x)) != APR_SUCCESS)
        return rv;
    rc = eas_mailitem_fetch(x->imap, it, x->pool, &meta, &msg);
    if (rc == EAS_IMAP_NO_MESSAGE || rc == EAS_IMAP_NO_MAILBOX) {
        fetch_status(x, IO_NOT_FOUND, id_tag, id);
        return APR_SUCCESS;
    }
    if (rc != EAS_IMAP_OK) {
        rv = eas_mail_imap_failed(req, x->imap, rc, "FETCH of a message");
        if (rv == APR_EAGAIN)
            return rv;
        fetch_status(x, IO_SERVER, id_tag, id);
        return APR_SUCCESS;
    }

    eas_wbxml_textf(x->w, EAS_ItemOperations_Status, "%d", IO_OK);
    if (kind == EAS_MAILID_SERVERID)
        eas_wbxml_text(x->w, EAS_AirSync_CollectionId, it->folder->id);
    eas_wbxml_text(x->w, id_tag, id);
    eas_wbxml_text(x->w, EAS_AirSync_Class, "Email");
    eas_wbxml_start(x->w, EAS_ItemOperations_Properties);
    memset(&o, 0, sizeof(o));
    o.version = req->version;
    o.user_address = req->user->email;
    /* the fetch filled in the UIDVALIDITY a ServerId leaves out */
    o.file_ref_prefix = eas_mailid_fileref_prefix(x->pool, it->folder->id, it->uidvalidity,
                                                  it->uid);
    if (x->multipart) {
        o.multipart = body_part;
        o.multipart_baton = x;
    }
    eas_mime_options_read(x->pool, opts, &o);
    eas_mailitem_state(x->pool, meta, &st);
    rv = eas_mime_write(x->pool, msg, &st, &o, x->w);
    eas_wbxml_end(x->w);
    return rv;
}

static apr_status_t fetch(ctx_t *x, const eas_node_t *f)
{
    const char *store = eas_node_child_text(f, EAS_ItemOperations_Store);
    const char *ref = eas_node_child_text(f, EAS_AirSyncBase_FileReference);
    const char *longid = eas_node_child_text(f, EAS_Search_LongId);
    const char *sid = eas_node_child_text(f, EAS_AirSync_ServerId);
    const char *coll = eas_node_child_text(f, EAS_AirSync_CollectionId);
    const eas_node_t *opts = eas_node_child(f, EAS_ItemOperations_Options);
    apr_status_t rv = APR_SUCCESS;

    eas_wbxml_start(x->w, EAS_ItemOperations_Fetch);
    if (!store || strcasecmp(store, "Mailbox"))
        fetch_status(x, IO_STORE, EAS_TAG_NONE, NULL);      /* no document libraries */
    else if (ref)
        rv = fetch_attachment(x, ref, opts);
    else if (longid)
        rv = fetch_item(x, EAS_MAILID_LONGID, longid, NULL, opts);
    else if (sid)
        rv = fetch_item(x, EAS_MAILID_SERVERID, sid, coll, opts);
    else
        fetch_status(x, IO_PROTOCOL, EAS_TAG_NONE, NULL);
    eas_wbxml_end(x->w);
    return rv;
}

/* The folder's descendants, deepest first. */
static apr_status_t subfolders(ctx_t *x, const char *id, eas_db_rows_t **rows)
{
    eas_request_t *req = x->req;

    return eas_db_select(req->db, x->pool, rows,
                         "WITH RECURSIVE sub(id, depth) AS ("
                         " SELECT id, 1 FROM eas.folders WHERE parent_id = %s::bigint "
                         "   AND user_id = %s::bigint AND NOT deleted"
                         " UNION ALL SELECT f.id, s.depth + 1 FROM eas.folders f "
                         "   JOIN sub s ON f.parent_id = s.id WHERE NOT f.deleted) "
                         "SELECT id FROM sub ORDER BY depth DESC, id",
                         EAS_DB_ARGS(id, req->user->id));
}

/* MS-ASCMD 2.2.3.58: every message of the folder is deleted (not moved to
 * Deleted Items); with DeleteSubFolders its subfolders go too. */
static apr_status_t empty_folder(ctx_t *x, const eas_node_t *n)
{
    eas_request_t *req = x->req;
    const char *id = eas_node_child_text(n, EAS_AirSync_CollectionId);
    const eas_node_t *opts = eas_node_child(n, EAS_ItemOperations_Options);
    int subs = eas_node_child(opts, EAS_ItemOperations_DeleteSubFolders) != NULL;
    int status = IO_OK, r;
    eas_imap_search_t crit;
    eas_imap_uidset_t *uids;
    eas_folder_t *f;
    eas_imap_rc_e rc;
    apr_status_t rv;

    eas_wbxml_start(x->w, EAS_ItemOperations_EmptyFolderContents);
    if ((rv = eas_folders_get(req, id, &f)) != APR_SUCCESS)
        return rv;
    if (!f)
        status = IO_NOT_FOUND;
    else if (!f->imap_name) {
        /* PIM folders are emptied with their items (Sync engine's tables). */
        status = IO_SERVER;
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01811) "%s: EmptyFolderContents of %s folder %s is not "
                       "supported", req->login, f->cls, f->id);
    }
    else {
        if ((rv = imap(x)) != APR_SUCCESS)
            return rv;
        memset(&crit, 0, sizeof(crit));
        rc = eas_imap_search(x->imap, f->imap_name, &crit, x->pool, &uids);
        if (rc == EAS_IMAP_OK && eas_imap_uidset_count(uids) > 0) {
            rc = eas_imap_store(x->imap, f->imap_name, 0, uids, 1, EAS_IMAP_DELETED, NULL);
            if (rc == EAS_IMAP_OK)
                rc = eas_imap_expunge(x->imap, f->imap_name, 0, uids);
            if (rc == EAS_IMAP_INVALID) /* no UIDPLUS: everything is \Deleted anyway */
                rc = eas_imap_expunge(x->imap, f->imap_name, 0, NULL);
        }
        if (rc == EAS_IMAP_TRANSIENT || rc == EAS_IMAP_AUTH)
            return eas_mail_imap_failed(req, x->imap, rc, "EmptyFolderContents");
        if (rc != EAS_IMAP_OK) {
            eas_mail_imap_failed(req, x->imap, rc, "EmptyFolderContents");
            status = IO_SERVER;
        }
        if (status == IO_OK && subs) {
            eas_db_rows_t *rows;

            if ((rv = subfolders(x, f->id, &rows)) != APR_SUCCESS)
                return rv;
            for (r = 0; r < rows->nrows; r++) {
                eas_folder_t *sf;
                int fs = EAS_FS_OK;

                if ((rv = eas_folders_get(req, eas_db_val(rows, r, 0), &sf)) != APR_SUCCESS ||
                    (sf && (rv = eas_folders_delete(req, sf, &fs)) != APR_SUCCESS))
                    return rv;
                if (fs != EAS_FS_OK)
                    status = IO_PARTIAL;
            }
        }
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01812) "%s emptied %s (%" APR_UINT64_T_FMT " messages%s): "
                       "Status %d", req->login, f->imap_name,
                       rc == EAS_IMAP_OK ? eas_imap_uidset_count(uids) : 0,
                       subs ? ", subfolders too" : "", status);
    }
    eas_wbxml_textf(x->w, EAS_ItemOperations_Status, "%d", status);
    eas_wbxml_text(x->w, EAS_AirSync_CollectionId, id ? id : "");
    eas_wbxml_end(x->w);
    return APR_SUCCESS;
}

/* ---- Move of a conversation ------------------------------------------ */

/* Messages looked at per folder, newest first: a conversation is found
 * by its messages' headers, one fetch each, so the scan is bounded. */
#define MOVE_SCAN_MAX 2000

/* The UIDs among the newest of mailbox whose conversation is conv. */
static apr_status_t conversation_uids(ctx_t *x, const char *mailbox, const unsigned char *conv,
                                      eas_imap_uidset_t **found)
{
    eas_request_t *req = x->req;
    eas_imap_search_t crit;
    eas_imap_uidset_t *all;
    apr_array_header_t *uids;
    apr_pool_t *sp;
    eas_imap_rc_e rc;
    int i, seen = 0;

    *found = eas_imap_uidset_make(x->pool);
    memset(&crit, 0, sizeof(crit));
    crit.undeleted = 1;
    if ((rc = eas_imap_search(x->imap, mailbox, &crit, x->pool, &all)) != EAS_IMAP_OK)
        return eas_mail_imap_failed(req, x->imap, rc, "SEARCH for a conversation");
    uids = eas_imap_uidset_members(x->pool, all);
    apr_pool_create(&sp, x->pool);
    for (i = uids->nelts - 1; i >= 0 && seen < MOVE_SCAN_MAX; i--, seen++) {
        apr_uint32_t uid = APR_ARRAY_IDX(uids, i, apr_uint32_t);
        eas_mime_msg_t *m;
        const char *hdr;
        apr_size_t len;

        apr_pool_clear(sp);
        rc = eas_imap_fetch_body(x->imap, mailbox, 0, uid, "HEADER", 0, 0, 1024 * 1024, sp,
                                 &hdr, &len);
        if (rc == EAS_IMAP_NO_MESSAGE)
            continue;
        if (rc != EAS_IMAP_OK) {
            apr_pool_destroy(sp);
            return eas_mail_imap_failed(req, x->imap, rc, "FETCH of headers");
        }
        if (len && eas_mime_parse(sp, hdr, len, 0, &m) == APR_SUCCESS &&
            !memcmp(m->conversation_id, conv, sizeof(m->conversation_id)))
            eas_imap_uidset_add(*found, uid, uid);
    }
    apr_pool_destroy(sp);
    return APR_SUCCESS;
}

/* MS-ASCMD 2.2.3.117.1, MS-ASCON 2.2.2.7/2.2.2.8: every message of the
 * conversation, in any folder but Sent Items, goes to DstFldId.  Only
 * MoveAlways requests are valid; messages that arrive later are not moved
 * (that needs a delivery rule mod_eas does not have). */
static apr_status_t conversation_move(ctx_t *x, const eas_node_t *n)
{
    eas_request_t *req = x->req;
    const eas_node_t *conv = eas_node_child(n, EAS_ItemOperations_ConversationId);
    const char *dst_id = eas_node_child_text(n, EAS_ItemOperations_DstFldId);
    const eas_node_t *opts = eas_node_child(n, EAS_ItemOperations_Options);
    int status = IO_OK, r, moved = 0;
    eas_folder_t *dst = NULL;
    eas_db_rows_t *rows;
    apr_status_t rv;

    eas_wbxml_start(x->w, EAS_ItemOperations_Move);
    if (!conv || conv->len != 16)
        status = IO_PROTOCOL;
    else if (!eas_node_child(opts, EAS_ItemOperations_MoveAlways))
        status = IO_MOVE_NOT_ALWAYS;
    else {
        if ((rv = eas_folders_get(req, dst_id, &dst)) != APR_SUCCESS)
            return rv;
        if (!dst || !dst->imap_name)
            status = IO_MOVE_DESTINATION;
    }
    if (status == IO_OK) {
        if ((rv = imap(x)) != APR_SUCCESS)
            return rv;
        rv = eas_db_select(req->db, x->pool, &rows,
                           "SELECT id FROM eas.folders WHERE user_id = %s::bigint "
                           "AND class = 'Email' AND NOT deleted AND type NOT IN (5, 6) "
                           "AND id <> %s::bigint ORDER BY id",
                           EAS_DB_ARGS(req->user->id, dst->id));
        if (rv != APR_SUCCESS)
            return rv;
        for (r = 0; r < rows->nrows && status == IO_OK; r++) {
            eas_folder_t *f;
            eas_imap_uidset_t *uids;
            eas_imap_rc_e rc;

            if ((rv = eas_folders_get(req, eas_db_val(rows, r, 0), &f)) != APR_SUCCESS)
                return rv;
            if (!f || !f->imap_name)
                continue;
            rv = conversation_uids(x, f->imap_name, (const unsigned char *)conv->text, &uids);
            if (rv != APR_SUCCESS)
                return rv;
            if (!eas_imap_uidset_count(uids))
                continue;
            rc = eas_imap_move(x->imap, f->imap_name, 0, uids, dst->imap_name, x->pool, NULL);
            if (rc == EAS_IMAP_TRANSIENT || rc == EAS_IMAP_AUTH)
                return eas_mail_imap_failed(req, x->imap, rc, "MOVE of a conversation");
            if (rc != EAS_IMAP_OK) {
                eas_mail_imap_failed(req, x->imap, rc, "MOVE of a conversation");
                status = IO_SERVER;
            }
            moved += (int)eas_imap_uidset_count(uids);
        }
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01813) "%s moved a conversation of %d message(s) to %s",
                       req->login, moved, dst->imap_name);
    }
    eas_wbxml_textf(x->w, EAS_ItemOperations_Status, "%d", status);
    if (conv)
        eas_wbxml_opaque(x->w, EAS_ItemOperations_ConversationId, conv->text, conv->len);
    eas_wbxml_end(x->w);
    return APR_SUCCESS;
}

/* The MultiPartResponse (MS-ASCMD 2.2.1.10.1.1): a count, then offset and
 * length of every part (little-endian 32-bit), then the parts. */
static apr_status_t finish_multipart(ctx_t *x)
{
    int count = 1 + x->parts->nelts, i, j;
    apr_size_t hdr_len = 4 + 8 * (apr_size_t)count, off = hdr_len;
    unsigned char *hdr = apr_palloc(x->pool, hdr_len), *h = hdr;
    apr_array_header_t *out = apr_array_make(x->pool, count + x->doc->nelts + 1,
                                             sizeof(eas_bytes_t));
    eas_bytes_t *b;

#define PUT32(v)                                                                 \
    do {                                                                         \
        apr_uint64_t v_ = (v);                                                   \
        if (v_ > 0x7fffffffu)                                                    \
            return APR_ENOSPC;                                                   \
        h[0] = v_ & 0xff, h[1] = (v_ >> 8) & 0xff;                               \
        h[2] = (v_ >> 16) & 0xff, h[3] = (v_ >> 24) & 0xff;                      \
        h += 4;                                                                  \
    } while (0)

    PUT32(count);
    PUT32(off);
    PUT32(x->doc_len);
    off += x->doc_len;
    for (i = 0; i < x->parts->nelts; i++) {
        const apr_array_header_t *pieces = APR_ARRAY_IDX(x->parts, i, apr_array_header_t *);
        apr_size_t len = 0;

        for (j = 0; j < pieces->nelts; j++)
            len += APR_ARRAY_IDX(pieces, j, eas_bytes_t).len;
        PUT32(off);
        PUT32(len);
        off += len;
    }
#undef PUT32
    b = apr_array_push(out);
    b->data = (const char *)hdr;
    b->len = hdr_len;
    apr_array_cat(out, x->doc);
    for (i = 0; i < x->parts->nelts; i++)
        apr_array_cat(out, APR_ARRAY_IDX(x->parts, i, apr_array_header_t *));
    x->req->raw_parts = out;
    x->req->raw_type = "application/vnd.ms-sync.multipart";
    return APR_SUCCESS;
}

apr_status_t eas_cmd_itemoperations(eas_request_t *req)
{
    ctx_t x;
    const eas_node_t *n;
    const char *data;
    apr_size_t len;
    apr_status_t rv = APR_SUCCESS;

    memset(&x, 0, sizeof(x));
    x.req = req;
    x.pool = req->pool;
    x.doc = apr_array_make(req->pool, 16, sizeof(eas_bytes_t));
    x.lent = apr_array_make(req->pool, 4, sizeof(eas_bytes_t));
    x.parts = apr_array_make(req->pool, 4, sizeof(apr_array_header_t *));
    x.multipart = req->accept_multipart;
    x.w = eas_wbxml_writer_create(req->pool, collect, &x);

    eas_wbxml_start(x.w, EAS_ItemOperations_ItemOperations);
    eas_wbxml_textf(x.w, EAS_ItemOperations_Status, "%d", IO_OK);
    eas_wbxml_start(x.w, EAS_ItemOperations_Response);
    for (n = req->doc->first; n && rv == APR_SUCCESS; n = n->next) {
        switch (n->tag) {
        case EAS_ItemOperations_Fetch:
            rv = fetch(&x, n);
            break;
        case EAS_ItemOperations_EmptyFolderContents:
            rv = empty_folder(&x, n);
            break;
        case EAS_ItemOperations_Move:
            rv = conversation_move(&x, n);
            break;
        default:
            break;
        }
    }
    if (rv != APR_SUCCESS)
        return rv;
    if ((rv = eas_wbxml_finish(x.w, &data, &len)) != APR_SUCCESS)
        return rv;
    if (x.multipart)
        return finish_multipart(&x);
    req->raw_parts = x.doc;
    req->raw_type = "application/vnd.ms-sync.wbxml";
    return APR_SUCCESS;
}

/* ---- GetAttachment ---------------------------------------------------- */

apr_status_t eas_cmd_getattachment(eas_request_t *req)
{
    const char *ref = req->q.attachment_name;
    eas_mailitem_t *it;
    eas_mail_part_t *part;
    eas_imap_t *c;
    eas_imap_rc_e rc;
    apr_status_t rv;

    if ((rv = eas_mailitem_lookup(req, EAS_MAILID_FILEREF, ref, &it)) != APR_SUCCESS)
        return rv;
    if (!it) {
        req->http_status = 500;
        req->status_note = "no such attachment";
        return APR_SUCCESS;
    }
    if ((rv = eas_mail_imap(req, &c)) != APR_SUCCESS)
        return rv;
    rc = eas_mailitem_part(c, it, 0, -1, req->pool, &part);
    if (rc == EAS_IMAP_NO_MESSAGE || rc == EAS_IMAP_NO_MAILBOX) {
        req->http_status = 500;
        req->status_note = "no such attachment";
        return APR_SUCCESS;
    }
    if (rc != EAS_IMAP_OK)
        return eas_mail_imap_failed(req, c, rc, "FETCH of an attachment");
    req->raw_type = part->content_type;
    req->raw_parts = part->pieces;
    return APR_SUCCESS;
}
