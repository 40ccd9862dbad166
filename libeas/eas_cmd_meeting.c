/*
 * MeetingResponse (MS-ASCMD 2.2.1.11): accept, tentatively accept or
 * decline a meeting request in a mail folder (by CollectionId + RequestId,
 * or a Search LongId).
 *
 * Up to 14.1 the client tells the organizer itself (with SendMail); from
 * 16.0 the server sends the iTIP reply when the request has SendResponse
 * (a COUNTER when 16.1 proposes a new time), and keeps a copy in Sent.
 * The request message is marked read and answered.  Calendar items (a
 * RequestId in a Calendar folder, CalendarId in the result) belong to the
 * PIM store, which this command does not reach yet: such a request gets
 * Status 2.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_mailitem.h"
#include "eas_mime_itip.h"
#include "eas_smtp.h"
#include "eas_status.h"
#include "eas_time.h"

/* MS-ASCMD 2.2.3.177.9 */
enum { MR_OK = 1, MR_INVALID = 2, MR_MAILBOX = 3, MR_SERVER = 4 };

typedef struct {
    int response;
    const char *collection, *request_id, *long_id;
    apr_time_t instance;
    const eas_node_t *send;     /* SendResponse, 16.0+ */
} mr_request_t;

/* Sends the reply and files a copy in Sent; *status for the Result. */
static apr_status_t send_reply(eas_request_t *req, eas_imap_t *c, const eas_mime_msg_t *m,
                               const mr_request_t *mr, int *status)
{
    eas_mime_itip_t r;
    apr_array_header_t *rcpt;
    eas_smtp_result_t *res;
    eas_smtp_rc_e src;
    eas_folder_t *sent;
    const char *data, *to, *s;
    apr_size_t len;
    apr_status_t rv;

    memset(&r, 0, sizeof(r));
    r.address = req->user->email;
    r.name = req->user->display_name;
    r.response = mr->response;
    r.instance = mr->instance;
    r.body = eas_node_child_text(eas_node_child(mr->send, EAS_AirSyncBase_Body),
                                 EAS_AirSyncBase_Data);
    if ((s = eas_node_child_text(mr->send, EAS_MeetingResponse_ProposedStartTime)))
        eas_time_parse(s, &r.proposed_start);
    if ((s = eas_node_child_text(mr->send, EAS_MeetingResponse_ProposedEndTime)))
        eas_time_parse(s, &r.proposed_end);
    if (!r.address || eas_mime_itip_reply(req->pool, m, &r, &data, &len, &to) != APR_SUCCESS) {
        *status = MR_INVALID;
        return APR_SUCCESS;
    }
    rcpt = apr_array_make(req->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(rcpt, const char *) = to;
    if (!req->smtp_server || !req->smtp_server->url) {
        *status = MR_SERVER;
        return APR_SUCCESS;
    }
    src = eas_smtp_send(req->smtp_server, req->smtp_auth ? req->login : NULL, req->password,
                        NULL, r.address, rcpt, data, len, req->pool, req->log, &res);
    if (src != EAS_SMTP_OK) {
        eas_log_printf(req->log, EAS_LOG_MARK,
                       src == EAS_SMTP_TRANSIENT ? EAS_LOG_WARNING : EAS_LOG_ERR, APR_SUCCESS,
                       EASLOGNO(01815) "meeting reply of %s to %s failed (%s): %d %s",
                       req->login, to, eas_smtp_rc_name(src), res->code, res->reply);
        if (src == EAS_SMTP_TRANSIENT)
            return APR_EAGAIN;
        *status = MR_SERVER;
        return APR_SUCCESS;
    }
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                   EASLOGNO(01816) "%s answered the meeting %s of %s (response %d)", req->login,
                   m->meeting->uid, to, mr->response);
    if ((rv = eas_mail_special_folder(req, EAS_FOLDER_SENT, &sent)) != APR_SUCCESS)
        return rv;
    if (sent) {
        eas_imap_status_t sst;
        eas_imap_rc_e rc = eas_mail_status(c, sent->imap_name, &sst);

        if (rc == EAS_IMAP_OK)
            rc = eas_imap_append(c, sent->imap_name, data, len, EAS_IMAP_SEEN, NULL, NULL, NULL);
        if (rc != EAS_IMAP_OK)
            eas_mail_imap_failed(req, c, rc, "APPEND of a meeting reply to Sent");
    }
    return APR_SUCCESS;
}

static apr_status_t respond(eas_request_t *req, eas_imap_t **c, const mr_request_t *mr,
                            int *status)
{
    eas_mailitem_t *it;
    eas_imap_msg_t *meta;
    eas_mime_msg_t *m;
    eas_imap_uidset_t *set;
    eas_imap_rc_e rc;
    apr_status_t rv;

    *status = MR_INVALID;
    if (mr->response < EAS_MEETING_ACCEPT || mr->response > EAS_MEETING_DECLINE)
        return APR_SUCCESS;
    if (mr->long_id)
        rv = eas_mailitem_lookup(req, EAS_MAILID_LONGID, mr->long_id, &it);
    else
        rv = eas_mailitem_lookup(req, EAS_MAILID_SERVERID, mr->request_id, &it);
    if (rv != APR_SUCCESS)
        return rv;
    if (it && !mr->long_id && mr->collection && strcmp(mr->collection, it->folder->id))
        it = NULL;
    if (!it) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01817) "%s: MeetingResponse for %s, which is no message in a "
                       "mail folder of the user", req->login,
                       mr->long_id ? mr->long_id : mr->request_id ? mr->request_id : "-");
        return APR_SUCCESS;
    }
    if (!*c && (rv = eas_mail_imap(req, c)) != APR_SUCCESS)
        return rv;
    rc = eas_mailitem_fetch(*c, it, req->pool, &meta, &m);
    if (rc == EAS_IMAP_NO_MESSAGE || rc == EAS_IMAP_NO_MAILBOX)
        return APR_SUCCESS;
    if (rc != EAS_IMAP_OK) {
        rv = eas_mail_imap_failed(req, *c, rc, "FETCH of a meeting request");
        *status = MR_MAILBOX;
        return rv == APR_EAGAIN ? rv : APR_SUCCESS;
    }
    if (!m->meeting || strcmp(m->meeting->method, "REQUEST"))
        return APR_SUCCESS;
    *status = MR_OK;
    if (req->version >= 160 && mr->send &&
        (rv = send_reply(req, *c, m, mr, status)) != APR_SUCCESS)
        return rv;
    if (*status != MR_OK)
        return APR_SUCCESS;
    set = eas_imap_uidset_make(req->pool);
    eas_imap_uidset_add(set, it->uid, it->uid);
    rc = eas_imap_store(*c, it->folder->imap_name, it->uidvalidity, set, 1,
                        EAS_IMAP_SEEN | EAS_IMAP_ANSWERED, NULL);
    if (rc != EAS_IMAP_OK)
        eas_mail_imap_failed(req, *c, rc, "STORE on a meeting request");
    return APR_SUCCESS;
}

apr_status_t eas_cmd_meetingresponse(eas_request_t *req)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(req->pool, NULL, NULL);
    eas_imap_t *c = NULL;
    const eas_node_t *n;
    apr_status_t rv;
    int count = 0;

    eas_wbxml_start(w, EAS_MeetingResponse_MeetingResponse);
    for (n = req->doc->first; n; n = n->next) {
        mr_request_t mr;
        const char *s, *inst;
        int status;

        if (n->tag != EAS_MeetingResponse_Request)
            continue;
        count++;
        memset(&mr, 0, sizeof(mr));
        s = eas_node_child_text(n, EAS_MeetingResponse_UserResponse);
        mr.response = s ? atoi(s) : 0;
        mr.collection = eas_node_child_text(n, EAS_MeetingResponse_CollectionId);
        mr.request_id = eas_node_child_text(n, EAS_MeetingResponse_RequestId);
        mr.long_id = eas_node_child_text(n, EAS_Search_LongId);
        mr.send = eas_node_child(n, EAS_MeetingResponse_SendResponse);
        inst = eas_node_child_text(n, EAS_MeetingResponse_InstanceId);
        if (inst && eas_time_parse(inst, &mr.instance))
            mr.response = 0;    /* an InstanceId that is no time: invalid */
        if ((rv = respond(req, &c, &mr, &status)) != APR_SUCCESS)
            return rv;
        eas_wbxml_start(w, EAS_MeetingResponse_Result);
        if (mr.request_id)
            eas_wbxml_text(w, EAS_MeetingResponse_RequestId, mr.request_id);
        eas_wbxml_textf(w, EAS_MeetingResponse_Status, "%d", status);
        if (inst && req->version >= 160)
            eas_wbxml_text(w, EAS_MeetingResponse_InstanceId, inst);
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
    if (!count) {
        eas_status_respond(req, EAS_STATUS_INVALID_XML);
        return APR_SUCCESS;
    }
    req->out = w;
    return eas_wbxml_status(w);
}
