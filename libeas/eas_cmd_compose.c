/*
 * SendMail, SmartReply, SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20,
 * 2.2.1.19).
 *
 * 2.5-12.1 send the message itself as the body (message/rfc822) with the
 * options in the query (SaveInSent, ItemId, CollectionId, LongId); 14.0+
 * send a ComposeMail document (ClientId, SaveInSentItems, ReplaceMime,
 * Source, Mime; 16.0 Forwardees and an AirSyncBase Body instead of Mime).
 *
 * The order of work keeps every failure clean: the original is read and
 * the message built first; the Sent copy is appended before submission
 * (so an unreachable IMAP server fails the request before anything left)
 * and removed again when the submission fails; the ClientId is recorded in
 * the request's transaction, so a device that resends a message it was
 * told went out gets Status 118 instead of a second copy.  Success is an
 * empty 200 in every version.
 */
#include <string.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_mailitem.h"
#include "eas_smtp.h"
#include "eas_status.h"

typedef struct {
    eas_compose_kind_e kind;
    const char *client_id;      /* 14.0+ */
    int save;
    eas_mime_compose_t c;
    const char *folder_id;      /* Source FolderId / CollectionId */
    const char *item_id;        /* Source ItemId / ItemId: a ServerId */
    const char *long_id;
} compose_t;

static apr_status_t fail(eas_request_t *req, int status, const char *why)
{
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                   EASLOGNO(01804) "%s from %s refused with Status %d: %s", req->q.cmd_name,
                   req->login, status, why);
    eas_status_respond(req, status);
    return APR_SUCCESS;
}

/* The request in either form; 0 when it cannot be used. */
static int read_request(eas_request_t *req, compose_t *cr)
{
    const eas_node_t *d = req->doc, *n;

    if (req->mime_body) {
        cr->c.mime = req->body;
        cr->c.mime_len = req->body_len;
        cr->save = req->q.save_in_sent;
        cr->folder_id = req->q.collection_id;
        cr->item_id = req->q.item_id;
        cr->long_id = req->q.long_id;
        return 1;
    }
    if (!d)
        return 0;
    cr->client_id = eas_node_child_text(d, EAS_ComposeMail_ClientId);
    cr->save = eas_node_child(d, EAS_ComposeMail_SaveInSentItems) != NULL;
    cr->c.replace_mime = eas_node_child(d, EAS_ComposeMail_ReplaceMime) != NULL;
    if ((n = eas_node_child(d, EAS_ComposeMail_Mime))) {
        cr->c.mime = n->text;
        cr->c.mime_len = n->len;
    }
    if ((n = eas_node_child(d, EAS_ComposeMail_Source))) {
        cr->folder_id = eas_node_child_text(n, EAS_ComposeMail_FolderId);
        cr->item_id = eas_node_child_text(n, EAS_ComposeMail_ItemId);
        cr->long_id = eas_node_child_text(n, EAS_ComposeMail_LongId);
    }
    if (cr->kind == EAS_COMPOSE_FORWARD && (n = eas_node_child(d, EAS_ComposeMail_Forwardees))) {
        const eas_node_t *f;
        eas_mime_forwardee_t *fw;
        int k = 0;

        for (f = n->first; f; f = f->next)
            k += f->tag == EAS_ComposeMail_Forwardee;
        fw = apr_pcalloc(req->pool, sizeof(*fw) * (apr_size_t)(k ? k : 1));
        for (k = 0, f = n->first; f; f = f->next) {
            const char *email = eas_node_child_text(f, EAS_ComposeMail_Email);
            if (f->tag != EAS_ComposeMail_Forwardee || !email || !*email)
                continue;
            fw[k].name = eas_node_child_text(f, EAS_ComposeMail_Name);
            fw[k++].email = email;
        }
        cr->c.forwardees = fw;
        cr->c.n_forwardees = k;
    }
    if ((n = eas_node_child(d, EAS_AirSyncBase_Body))) {
        const char *type = eas_node_child_text(n, EAS_AirSyncBase_Type);
        cr->c.body = eas_node_child_text(n, EAS_AirSyncBase_Data);
        cr->c.body_type = type && *type == '2' ? EAS_BODY_HTML : EAS_BODY_PLAIN;
    }
    if (!cr->c.mime && !(cr->c.n_forwardees && cr->c.body))
        return 0;
    return 1;
}

static apr_status_t load_sender(eas_request_t *req, eas_mime_sender_t *s)
{
    eas_db_rows_t *rows;
    const char **aliases;
    apr_status_t rv;
    int i;

    memset(s, 0, sizeof(*s));
    s->address = req->user->email;
    s->name = req->user->display_name;
    s->from_policy = EAS_FROM_REWRITE;
    rv = eas_db_select(req->db, req->pool, &rows,
                       "SELECT unnest(aliases) FROM eas.users WHERE id = %s::bigint",
                       EAS_DB_ARGS(req->user->id));
    if (rv != APR_SUCCESS)
        return rv;
    aliases = apr_pcalloc(req->pool, sizeof(*aliases) * (apr_size_t)(rows->nrows + 1));
    for (i = 0; i < rows->nrows; i++)
        aliases[i] = eas_db_val(rows, i, 0);
    s->aliases = aliases;
    s->n_aliases = rows->nrows;
    return APR_SUCCESS;
}

/* The message replied to or forwarded: *it NULL when it cannot be found. */
static apr_status_t load_original(eas_request_t *req, compose_t *cr, eas_imap_t **imap,
                                  eas_mailitem_t **it)
{
    const char *data;
    apr_size_t len;
    eas_imap_msg_t *meta;
    eas_imap_rc_e rc;
    apr_status_t rv;

    *it = NULL;
    if (cr->long_id && *cr->long_id)
        rv = eas_mailitem_lookup(req, EAS_MAILID_LONGID, cr->long_id, it);
    else
        rv = eas_mailitem_lookup(req, EAS_MAILID_SERVERID, cr->item_id, it);
    if (rv != APR_SUCCESS || !*it)
        return rv;
    /* A FolderId that is not the item's own names some other item. */
    if (!cr->long_id && cr->folder_id && *cr->folder_id && strcmp(cr->folder_id, (*it)->folder->id)) {
        *it = NULL;
        return APR_SUCCESS;
    }
    if ((rv = eas_mail_imap(req, imap)) != APR_SUCCESS)
        return rv;
    rc = eas_mailitem_fetch_raw(*imap, *it, req->pool, &meta, &data, &len);
    if (rc == EAS_IMAP_NO_MESSAGE || rc == EAS_IMAP_NO_MAILBOX) {
        *it = NULL;
        return APR_SUCCESS;
    }
    if (rc != EAS_IMAP_OK)
        return eas_mail_imap_failed(req, *imap, rc, "FETCH of the original");
    cr->c.orig = data;
    cr->c.orig_len = len;
    return APR_SUCCESS;
}

/* MS-ASCMD 2.2.2: what a refused submission tells the client. */
static int smtp_status(eas_request_t *req, eas_smtp_rc_e rc, const eas_smtp_result_t *res,
                       int nrcpt)
{
    if (rc == EAS_SMTP_INVALID)
        return req->version >= 160 ? EAS_STATUS_INVALID_RECIPIENTS
                                   : EAS_STATUS_RECIPIENT_UNRESOLVED;
    if (rc == EAS_SMTP_REJECTED && res->refused->nelts >= nrcpt)
        return EAS_STATUS_RECIPIENT_UNRESOLVED;
    if (rc == EAS_SMTP_REJECTED && (res->code == 552 || res->code == 523))
        return EAS_STATUS_ATTACHMENT_TOO_LARGE; /* message size exceeds the limit */
    return EAS_STATUS_SUBMISSION_FAILED;
}

/* Tells the user which recipients the server refused while it took the
 * message for the others: a short notice in the Inbox. */
static void report_refused(eas_request_t *req, eas_imap_t *c, const eas_mime_outgoing_t *out,
                           const eas_smtp_result_t *res)
{
    eas_folder_t *inbox = NULL;
    const char *list = "", *msg;
    char date[APR_RFC822_DATE_LEN];
    eas_imap_rc_e rc;
    int i;

    for (i = 0; i < res->refused->nelts; i++)
        list = apr_pstrcat(req->pool, list, "  ", APR_ARRAY_IDX(res->refused, i, const char *),
                           "\r\n", NULL);
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_NOTICE, APR_SUCCESS,
                   EASLOGNO(01805) "%s: the mail server refused %d recipient(s) of <%s>",
                   req->login, res->refused->nelts, out->message_id ? out->message_id : "");
    if (!c || eas_mail_special_folder(req, EAS_FOLDER_INBOX, &inbox) != APR_SUCCESS || !inbox)
        return;
    apr_rfc822_date(date, apr_time_now());
    msg = apr_psprintf(req->pool,
                       "From: Mail Delivery System <%s>\r\nTo: <%s>\r\n"
                       "Subject: Undeliverable: some recipients were refused\r\n"
                       "Date: %s\r\nMIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n\r\n"
                       "Your message <%s> was sent, but the mail server refused these "
                       "recipients:\r\n\r\n%s\r\nThe server said: %d %s\r\n",
                       req->user->email, req->user->email, date,
                       out->message_id ? out->message_id : "",
                       list, res->code, res->reply);
    rc = eas_imap_append(c, inbox->imap_name, msg, strlen(msg), 0, NULL, NULL, NULL);
    if (rc != EAS_IMAP_OK)
        eas_mail_imap_failed(req, c, rc, "APPEND of a delivery notice");
}

/* Takes the Sent copy back after the submission failed. */
static void unsave(eas_request_t *req, eas_imap_t *c, const eas_folder_t *sent, apr_uint32_t v,
                   apr_uint32_t uid)
{
    eas_imap_uidset_t *set = eas_imap_uidset_make(req->pool);
    eas_imap_rc_e rc;

    if (!uid) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                       EASLOGNO(01806) "%s: the server gave no UID for the Sent copy of a message "
                       "that was not sent; it stays in %s", req->login, sent->imap_name);
        return;
    }
    eas_imap_uidset_add(set, uid, uid);
    rc = eas_imap_store(c, sent->imap_name, v, set, 1, EAS_IMAP_DELETED, NULL);
    if (rc == EAS_IMAP_OK)
        rc = eas_imap_expunge(c, sent->imap_name, v, set);
    if (rc != EAS_IMAP_OK)
        eas_mail_imap_failed(req, c, rc, "removal of an unsent Sent copy");
}

static apr_status_t compose(eas_request_t *req, eas_compose_kind_e kind)
{
    compose_t cr;
    eas_mime_sender_t sender;
    eas_mime_outgoing_t *out;
    eas_mailitem_t *orig = NULL;
    eas_folder_t *sent = NULL;
    eas_imap_t *imap = NULL;
    eas_smtp_result_t *res;
    eas_smtp_rc_e src;
    eas_imap_rc_e rc;
    apr_uint32_t sent_v = 0, sent_uid = 0;
    const char *why, *seen;
    apr_status_t rv;

    memset(&cr, 0, sizeof(cr));
    cr.kind = cr.c.kind = kind;
    /* MS-ASCMD 2.2.2: WBXML where 12.x wants the message is InvalidContent */
    if (req->mime_body && req->body_len >= 2 && req->body[0] == 0x03 && req->body[1] == 0x01)
        return fail(req, EAS_STATUS_INVALID_CONTENT, "a WBXML body where MIME is expected");
    if (!read_request(req, &cr))
        return fail(req, req->mime_body ? EAS_STATUS_INVALID_MIME : EAS_STATUS_INVALID_XML,
                    "no message in the request");
    if (!req->user->email)
        return fail(req, EAS_STATUS_SUBMISSION_FAILED, "the user has no address");

    /* MS-ASCMD 2.2.3.28.1: a ClientId seen before is a resend. */
    if (cr.client_id) {
        if (!*cr.client_id || strlen(cr.client_id) > 64)
            return fail(req, EAS_STATUS_INVALID_XML, "bad ClientId");
        rv = eas_db_value(req->db, req->pool, &seen,
                          "SELECT message_id FROM eas.sent_messages WHERE device = %s::bigint "
                          "AND client_id = %s", EAS_DB_ARGS(req->device->id, cr.client_id));
        if (rv != APR_SUCCESS)
            return rv;
        if (seen)
            return fail(req, EAS_STATUS_PREVIOUSLY_SENT,
                        apr_pstrcat(req->pool, "ClientId ", cr.client_id, " was sent as <",
                                    seen, ">", NULL));
    }

    if (kind != EAS_COMPOSE_SEND) {
        if ((rv = load_original(req, &cr, &imap, &orig)) != APR_SUCCESS)
            return rv;
        if (!orig && !cr.c.replace_mime)
            return fail(req, EAS_STATUS_ITEM_NOT_FOUND, "the original message is not there");
        if (!orig)
            cr.c.kind = EAS_COMPOSE_SEND; /* the client sent everything itself */
    }

    if ((rv = load_sender(req, &sender)) != APR_SUCCESS)
        return rv;
    switch (eas_mime_compose(req->pool, &sender, &cr.c, &out, &why)) {
    case EAS_COMPOSE_OK:
        break;
    case EAS_COMPOSE_E_NORCPT:
        return fail(req, EAS_STATUS_NO_RECIPIENT, why);
    case EAS_COMPOSE_E_SENDAS:
        return fail(req, EAS_STATUS_ACCESS_DENIED, why);
    case EAS_COMPOSE_E_ORIGINAL:
        return fail(req, EAS_STATUS_ITEM_NOT_FOUND, why);
    default:
        return fail(req, EAS_STATUS_INVALID_MIME, why ? why : "unusable MIME");
    }

    if (cr.save) {
        if ((rv = eas_mail_special_folder(req, EAS_FOLDER_SENT, &sent)) != APR_SUCCESS)
            return rv;
        if (!sent)
            eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                           EASLOGNO(01807) "%s has no Sent folder: no copy is kept", req->login);
    }
    if (sent) {
        eas_imap_status_t sst;

        if (!imap && (rv = eas_mail_imap(req, &imap)) != APR_SUCCESS)
            return rv;
        if ((rc = eas_mail_status(imap, sent->imap_name, &sst)) == EAS_IMAP_OK)
            rc = eas_imap_append(imap, sent->imap_name, out->sent, out->sent_len, EAS_IMAP_SEEN,
                                 NULL, &sent_v, &sent_uid);
        if (rc == EAS_IMAP_TRANSIENT || rc == EAS_IMAP_AUTH)
            return eas_mail_imap_failed(req, imap, rc, "APPEND to Sent (or STATUS before)");
        if (rc != EAS_IMAP_OK) {
            /* quota, rights: the message still goes, the copy is what is lost */
            eas_mail_imap_failed(req, imap, rc, "APPEND to Sent");
            sent = NULL;
        }
    }

    if (!req->smtp_server || !req->smtp_server->url) {
        if (sent)
            unsave(req, imap, sent, sent_v, sent_uid);
        return fail(req, EAS_STATUS_SUBMISSION_FAILED, "no SMTP server is configured");
    }
    src = eas_smtp_send(req->smtp_server, req->smtp_auth ? req->login : NULL, req->password,
                        NULL, out->envelope_from, out->rcpt, out->data, out->len, req->pool,
                        req->log, &res);
    if (src != EAS_SMTP_OK) {
        if (sent)
            unsave(req, imap, sent, sent_v, sent_uid);
        eas_log_printf(req->log, EAS_LOG_MARK,
                       src == EAS_SMTP_TRANSIENT ? EAS_LOG_WARNING : EAS_LOG_ERR, APR_SUCCESS,
                       EASLOGNO(01808) "submission for %s failed (%s): %d %s", req->login,
                       eas_smtp_rc_name(src), res->code, res->reply);
        if (src == EAS_SMTP_TRANSIENT)
            return APR_EAGAIN;
        return fail(req, smtp_status(req, src, res, out->rcpt->nelts), "the mail server refused");
    }
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                   EASLOGNO(01809) "%s sent <%s> to %d recipient(s)%s", req->login,
                   out->message_id ? out->message_id : "", out->rcpt->nelts,
                   sent ? ", copy in Sent" : "");
    if (res->refused->nelts) {
        if (!imap)
            eas_mail_imap(req, &imap);
        report_refused(req, imap, out, res);
    }

    if (cr.client_id) {
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "INSERT INTO eas.sent_messages (device, client_id, message_id) "
                         "VALUES (%s::bigint, %s, %s)",
                         EAS_DB_ARGS(req->device->id, cr.client_id,
                                     out->message_id ? out->message_id : ""));
        if (rv == APR_SUCCESS)
            rv = eas_db_exec(req->db, req->pool, NULL,
                             "DELETE FROM eas.sent_messages WHERE device = %s::bigint "
                             "AND sent_at < now() - interval '30 days'",
                             EAS_DB_ARGS(req->device->id));
        if (rv != APR_SUCCESS)
            return rv;
    }

    /* MS-ASEMAIL LastVerbExecuted comes from these flags. */
    if (orig) {
        static const char *const fwd[] = {"$Forwarded", NULL};
        eas_imap_uidset_t *set = eas_imap_uidset_make(req->pool);

        eas_imap_uidset_add(set, orig->uid, orig->uid);
        rc = kind == EAS_COMPOSE_REPLY
                 ? eas_imap_store(imap, orig->folder->imap_name, orig->uidvalidity, set, 1,
                                  EAS_IMAP_ANSWERED, NULL)
                 : eas_imap_store(imap, orig->folder->imap_name, orig->uidvalidity, set, 1, 0,
                                  fwd);
        if (rc != EAS_IMAP_OK)
            eas_mail_imap_failed(req, imap, rc, "STORE on the original");
    }
    req->status_note = "1";
    return APR_SUCCESS;
}

apr_status_t eas_cmd_sendmail(eas_request_t *req)
{
    return compose(req, EAS_COMPOSE_SEND);
}

apr_status_t eas_cmd_smartreply(eas_request_t *req)
{
    return compose(req, EAS_COMPOSE_REPLY);
}

apr_status_t eas_cmd_smartforward(eas_request_t *req)
{
    return compose(req, EAS_COMPOSE_FORWARD);
}
