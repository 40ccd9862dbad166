/*
 * Writing a parsed message as Email class ApplicationData (MS-ASEMAIL 2.2.2,
 * MS-ASAIRS 2.2.2) for protocol 2.5, 12.x, 14.x and 16.x.
 *
 * Version rules followed (element support tables of MS-ASEMAIL/MS-ASAIRS):
 * 2.5 carries attachments, body and MIME in the Email namespace
 * (Attachments, Body/BodyTruncated, MIMEData/MIMETruncated/MIMESize);
 * 12.0 brings AirSyncBase Attachments/Body/NativeBodyType, InternetCPID,
 * ContentClass and Flag; 14.0 Categories, Preview, the Email2 conversation
 * and verb elements, ReceivedAsBcc, Sender and DisallowNewTimeProposal;
 * 14.1 BodyPart and MeetingMessageType; 16.0 replaces Email:Location of a
 * meeting by airsyncbase:Location.
 */
#include "eas_mime_private.h"
#include "eas_time.h"

#include <string.h>
#include <apr_strings.h>

apr_uint64_t eas_mime_truncation_size(int code)
{
    static const apr_uint64_t sizes[] = {0, 512, 1024, 2048, 5120, 10240, 20480, 51200, 102400};

    return code >= 0 && code < 9 ? sizes[code] : EAS_MIME_NO_TRUNCATION;
}

apr_uint64_t eas_mime_mime_truncation_size(int code)
{
    static const apr_uint64_t sizes[] = {0, 4096, 5120, 7168, 10240, 20480, 51200, 102400};

    return code >= 0 && code < 8 ? sizes[code] : EAS_MIME_NO_TRUNCATION;
}

static void text_if(eas_wbxml_writer_t *w, eas_tag_t tag, const char *s)
{
    if (s)
        eas_wbxml_text(w, tag, s);
}

static void time_if(apr_pool_t *p, eas_wbxml_writer_t *w, eas_tag_t tag, apr_time_t t)
{
    if (t)
        eas_wbxml_text(w, tag, eas_time_format(p, t));
}

/* ---- state: Read, Flag, Categories, LastVerbExecuted ------------------ */

static void write_flag(apr_pool_t *p, const eas_mime_state_t *st, eas_wbxml_writer_t *w)
{
    const eas_mime_flag_t *f = st->flag;
    int status = f ? f->status : st->flagged ? 2 : 0;

    /* An empty Flag says "no flag" (MS-ASEMAIL 2.2.2.34), also in a Change. */
    if (!status) {
        eas_wbxml_empty(w, EAS_Email_Flag);
        return;
    }
    eas_wbxml_start(w, EAS_Email_Flag);
    eas_wbxml_textf(w, EAS_Email_Status, "%d", status);
    eas_wbxml_text(w, EAS_Email_FlagType, f && f->flag_type ? f->flag_type : "Flag for follow up");
    if (f) {
        time_if(p, w, EAS_Email_CompleteTime, f->complete_time);
        time_if(p, w, EAS_Tasks_StartDate, f->start_date);
        time_if(p, w, EAS_Tasks_UtcStartDate, f->utc_start_date);
        time_if(p, w, EAS_Tasks_DueDate, f->due_date);
        time_if(p, w, EAS_Tasks_UtcDueDate, f->utc_due_date);
        time_if(p, w, EAS_Tasks_DateCompleted, f->date_completed);
        if (f->reminder_set || f->reminder_time) {
            eas_wbxml_textf(w, EAS_Tasks_ReminderSet, "%d", f->reminder_set ? 1 : 0);
            time_if(p, w, EAS_Tasks_ReminderTime, f->reminder_time);
        }
        time_if(p, w, EAS_Tasks_OrdinalDate, f->ordinal_date);
        text_if(w, EAS_Tasks_SubOrdinalDate, f->sub_ordinal_date);
    }
    eas_wbxml_end(w);
}

static void write_categories(const eas_mime_state_t *st, eas_wbxml_writer_t *w)
{
    int i;

    if (!st->n_categories) {
        eas_wbxml_empty(w, EAS_Email_Categories);
        return;
    }
    eas_wbxml_start(w, EAS_Email_Categories);
    for (i = 0; i < st->n_categories; i++)
        eas_wbxml_text(w, EAS_Email_Category, st->categories[i]);
    eas_wbxml_end(w);
}

static void write_verb(apr_pool_t *p, const eas_mime_state_t *st, eas_wbxml_writer_t *w)
{
    int verb = st->last_verb;

    if (!verb)
        verb = st->answered ? EAS_VERB_REPLY : st->forwarded ? EAS_VERB_FORWARD : 0;
    if (!verb)
        return;
    eas_wbxml_textf(w, EAS_Email2_LastVerbExecuted, "%d", verb);
    time_if(p, w, EAS_Email2_LastVerbExecutionTime, st->last_verb_time);
}

apr_status_t eas_mime_write_state(apr_pool_t *p, const eas_mime_state_t *st, int version,
                                  eas_wbxml_writer_t *w)
{
    eas_wbxml_text(w, EAS_Email_Read, st->seen ? "1" : "0");
    if (version >= 120)
        write_flag(p, st, w);
    if (version >= 140) {
        write_categories(st, w);
        write_verb(p, st, w);
    }
    return eas_wbxml_status(w);
}

/* ---- attachments ----------------------------------------------------- */

static void write_attachments(eas_mime_msg_t *m, const eas_mime_options_t *o,
                              eas_wbxml_writer_t *w)
{
    const char *prefix = o->file_ref_prefix ? o->file_ref_prefix : "";
    apr_pool_t *p = m->attachments->pool;
    int i;

    if (!m->attachments->nelts)
        return;
    if (o->version < 120) {
        /* MS-ASEMAIL 2.2.2.3: AttName is what GetAttachment asks for. */
        eas_wbxml_start(w, EAS_Email_Attachments);
        for (i = 0; i < m->attachments->nelts; i++) {
            eas_mime_attachment_t *a = &APR_ARRAY_IDX(m->attachments, i, eas_mime_attachment_t);

            eas_wbxml_start(w, EAS_Email_Attachment);
            eas_wbxml_text(w, EAS_Email_AttName, apr_pstrcat(p, prefix, a->path, NULL));
            eas_wbxml_textf(w, EAS_Email_AttSize, "%" APR_OFF_T_FMT, a->size);
            text_if(w, EAS_Email_Att0Id, a->content_id);
            eas_wbxml_textf(w, EAS_Email_AttMethod, "%d", a->method);
            eas_wbxml_text(w, EAS_Email_DisplayName, a->display_name);
            eas_wbxml_end(w);
        }
        eas_wbxml_end(w);
        return;
    }
    eas_wbxml_start(w, EAS_AirSyncBase_Attachments);
    for (i = 0; i < m->attachments->nelts; i++) {
        eas_mime_attachment_t *a = &APR_ARRAY_IDX(m->attachments, i, eas_mime_attachment_t);

        eas_wbxml_start(w, EAS_AirSyncBase_Attachment);
        eas_wbxml_text(w, EAS_AirSyncBase_DisplayName, a->display_name);
        eas_wbxml_text(w, EAS_AirSyncBase_FileReference, apr_pstrcat(p, prefix, a->path, NULL));
        eas_wbxml_textf(w, EAS_AirSyncBase_Method, "%d", a->method);
        eas_wbxml_textf(w, EAS_AirSyncBase_EstimatedDataSize, "%" APR_OFF_T_FMT, a->size);
        text_if(w, EAS_AirSyncBase_ContentId, a->content_id);
        text_if(w, EAS_AirSyncBase_ContentLocation, a->content_location);
        eas_wbxml_text(w, EAS_AirSyncBase_IsInline, a->is_inline ? "1" : "0");
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
}

/* ---- bodies ---------------------------------------------------------- */

static const char *body_of(eas_mime_msg_t *m, int type, apr_size_t *len)
{
    switch (type) {
    case EAS_BODY_HTML:
        return eas_mime_html(m, len);
    case EAS_BODY_MIME:
        return eas_mime_mime_data(m, len);
    default:
        *len = m->text_len;
        return m->text;
    }
}

/*
 * Which BodyPreference answers (MS-ASAIRS 2.2.2.12, 2.2.2.3.2): MIME when
 * MIMESupport asks for it for this message (MS-ASCMD 2.2.3.110) or MIME is
 * all the client wants; else the message's own type if asked for, else the
 * client's first plain or HTML preference.  With AllOrNone a body that does
 * not fit gives way to another asked-for type that fits.
 */
static const eas_mime_bodypref_t *choose(eas_mime_msg_t *m, const eas_mime_options_t *o,
                                         eas_mime_bodypref_t *fallback)
{
    const eas_mime_bodypref_t *mime = NULL, *pick = NULL, *first = NULL;
    int i, only_mime = o->n_body_prefs > 0;
    apr_size_t len;

    for (i = 0; i < o->n_body_prefs; i++) {
        const eas_mime_bodypref_t *b = &o->body_prefs[i];

        if (b->type == EAS_BODY_MIME)
            mime = b;
        else
            only_mime = 0;
        if (b->type == EAS_BODY_PLAIN || b->type == EAS_BODY_HTML) {
            if (!first)
                first = b;
            if (b->type == m->native_body_type)
                pick = b;
        }
    }
    if (mime && (o->mime_support == 2 || (o->mime_support == 1 && m->smime) || only_mime))
        return mime;
    if (!pick)
        pick = first;
    if (!pick) {
        /* Nothing we can send as asked (no preference, or RTF only): plain text. */
        memset(fallback, 0, sizeof(*fallback));
        fallback->type = EAS_BODY_PLAIN;
        fallback->truncation_size = o->n_body_prefs ? o->body_prefs[0].truncation_size
                                                    : EAS_MIME_NO_TRUNCATION;
        fallback->preview = o->n_body_prefs ? o->body_prefs[0].preview : 0;
        return fallback;
    }
    body_of(m, pick->type, &len);
    if (pick->all_or_none && pick->truncation_size != EAS_MIME_NO_TRUNCATION
        && len > pick->truncation_size) {
        for (i = 0; i < o->n_body_prefs; i++) {
            const eas_mime_bodypref_t *b = &o->body_prefs[i];

            if (b == pick || b->type < EAS_BODY_PLAIN || b->type > EAS_BODY_HTML)
                continue;
            body_of(m, b->type, &len);
            if (b->truncation_size == EAS_MIME_NO_TRUNCATION || len <= b->truncation_size)
                return b;
        }
    }
    return pick;
}

/* Type, EstimatedDataSize, Truncated and Data (or Part) of one body. */
static apr_status_t write_body_data(apr_pool_t *p, eas_mime_msg_t *m,
                                    const eas_mime_bodypref_t *b, const eas_mime_options_t *o,
                                    eas_wbxml_writer_t *w)
{
    apr_size_t len, cut;
    const char *data = body_of(m, b->type, &len);
    int truncated = b->truncation_size != EAS_MIME_NO_TRUNCATION && len > b->truncation_size;

    eas_wbxml_textf(w, EAS_AirSyncBase_Type, "%d", b->type);
    eas_wbxml_textf(w, EAS_AirSyncBase_EstimatedDataSize, "%" APR_SIZE_T_FMT, len);
    eas_wbxml_text(w, EAS_AirSyncBase_Truncated, truncated ? "1" : "0");
    if (truncated && b->all_or_none)
        return APR_SUCCESS;
    cut = truncated ? eas_mime_utf8_cut(data, len, (apr_size_t)b->truncation_size) : len;
    if (o->multipart) {
        int part = 0;
        apr_status_t rv = o->multipart(o->multipart_baton, data, cut, &part);

        if (rv != APR_SUCCESS)
            return rv;
        eas_wbxml_textf(w, EAS_ItemOperations_Part, "%d", part);
    } else if (cut || !truncated) {
        eas_wbxml_textn(w, EAS_AirSyncBase_Data, data, cut);
    }
    return APR_SUCCESS;
}

static apr_status_t write_body(apr_pool_t *p, eas_mime_msg_t *m, const eas_mime_options_t *o,
                               eas_wbxml_writer_t *w)
{
    eas_mime_bodypref_t fallback;
    const eas_mime_bodypref_t *b = choose(m, o, &fallback);
    apr_status_t rv;
    int i;

    eas_wbxml_start(w, EAS_AirSyncBase_Body);
    rv = write_body_data(p, m, b, o, w);
    if (o->version >= 140 && b->preview > 0)
        eas_wbxml_text(w, EAS_AirSyncBase_Preview,
                       eas_mime_preview(p, m->text, m->text_len, b->preview > 255 ? 255 : b->preview));
    eas_wbxml_end(w);
    if (rv != APR_SUCCESS || o->version < 141)
        return rv;
    /* MS-ASAIRS 2.2.2.10: only HTML message parts exist. */
    for (i = 0; i < o->n_part_prefs; i++) {
        const eas_mime_bodypref_t *pp = &o->part_prefs[i];

        if (pp->type != EAS_BODY_HTML)
            continue;
        eas_wbxml_start(w, EAS_AirSyncBase_BodyPart);
        eas_wbxml_text(w, EAS_AirSyncBase_Status, "1");
        rv = write_body_data(p, m, pp, o, w);
        if (pp->preview > 0)
            eas_wbxml_text(w, EAS_AirSyncBase_Preview,
                           eas_mime_preview(p, m->text, m->text_len,
                                            pp->preview > 255 ? 255 : pp->preview));
        eas_wbxml_end(w);
        break;
    }
    return rv;
}

/* MS-ASEMAIL 2.2.2.10.2 Body, 2.2.2.49 MIMEData (protocol 2.5). */
static void write_body_25(eas_mime_msg_t *m, const eas_mime_options_t *o, eas_wbxml_writer_t *w)
{
    apr_size_t len, cut;
    const char *data;
    apr_uint64_t max;

    if (o->mime_support == 2 || (o->mime_support == 1 && m->smime)) {
        data = eas_mime_mime_data(m, &len);
        max = o->mime_truncation;
        cut = max != EAS_MIME_NO_TRUNCATION && len > max ? eas_mime_utf8_cut(data, len, (apr_size_t)max) : len;
        if (cut)
            eas_wbxml_textn(w, EAS_Email_MIMEData, data, cut);
        eas_wbxml_text(w, EAS_Email_MIMETruncated, cut < len ? "1" : "0");
        eas_wbxml_textf(w, EAS_Email_MIMESize, "%" APR_SIZE_T_FMT, len);
        return;
    }
    data = m->text;
    len = m->text_len;
    max = o->truncation;
    cut = max != EAS_MIME_NO_TRUNCATION && len > max ? eas_mime_utf8_cut(data, len, (apr_size_t)max) : len;
    if (cut || len == 0)
        eas_wbxml_textn(w, EAS_Email_Body, data, cut);
    if (cut < len)
        eas_wbxml_textf(w, EAS_Email_BodySize, "%" APR_SIZE_T_FMT, len);
    eas_wbxml_text(w, EAS_Email_BodyTruncated, cut < len ? "1" : "0");
}

/* ---- meeting requests ------------------------------------------------ */

static void write_meeting(apr_pool_t *p, const eas_mime_meeting_t *mt, int version,
                          eas_wbxml_writer_t *w)
{
    const eas_mime_recurrence_t *r = mt->recurrence;
    char *tz;

    eas_wbxml_start(w, EAS_Email_MeetingRequest);
    eas_wbxml_text(w, EAS_Email_AllDayEvent, mt->all_day ? "1" : "0");
    time_if(p, w, EAS_Email_StartTime, mt->start);
    eas_wbxml_text(w, EAS_Email_DtStamp, eas_time_format(p, mt->dtstamp));
    time_if(p, w, EAS_Email_EndTime, mt->end);
    eas_wbxml_textf(w, EAS_Email_InstanceType, "%d", mt->instance_type);
    if (mt->location) {
        if (version >= 160) {
            eas_wbxml_start(w, EAS_AirSyncBase_Location);
            eas_wbxml_text(w, EAS_AirSyncBase_DisplayName, mt->location);
            eas_wbxml_end(w);
        } else {
            eas_wbxml_text(w, EAS_Email_Location, mt->location);
        }
    }
    text_if(w, EAS_Email_Organizer, mt->organizer);
    time_if(p, w, EAS_Email_RecurrenceId, mt->recurrence_id);
    if (mt->reminder >= 0)
        eas_wbxml_textf(w, EAS_Email_Reminder, "%d", mt->reminder);
    eas_wbxml_text(w, EAS_Email_ResponseRequested, mt->response_requested ? "1" : "0");
    if (r) {
        eas_wbxml_start(w, EAS_Email_Recurrences);
        eas_wbxml_start(w, EAS_Email_Recurrence);
        eas_wbxml_textf(w, EAS_Email_Type, "%d", r->type);
        if (r->interval)
            eas_wbxml_textf(w, EAS_Email_Interval, "%d", r->interval);
        time_if(p, w, EAS_Email_Until, r->until);
        if (r->occurrences)
            eas_wbxml_textf(w, EAS_Email_Occurrences, "%d", r->occurrences);
        if (r->week_of_month)
            eas_wbxml_textf(w, EAS_Email_WeekOfMonth, "%d", r->week_of_month);
        if (r->day_of_month)
            eas_wbxml_textf(w, EAS_Email_DayOfMonth, "%d", r->day_of_month);
        if (r->day_of_week)
            eas_wbxml_textf(w, EAS_Email_DayOfWeek, "%d", r->day_of_week);
        if (r->month_of_year)
            eas_wbxml_textf(w, EAS_Email_MonthOfYear, "%d", r->month_of_year);
        if (version >= 141 && r->first_day_of_week >= 0)
            eas_wbxml_textf(w, EAS_Email2_FirstDayOfWeek, "%d", r->first_day_of_week);
        eas_wbxml_end(w);
        eas_wbxml_end(w);
    }
    eas_wbxml_textf(w, EAS_Email_Sensitivity, "%d", mt->sensitivity);
    eas_wbxml_textf(w, EAS_Email_BusyStatus, "%d", mt->busy_status);
    tz = g_base64_encode(mt->tzinfo, sizeof(mt->tzinfo));
    eas_wbxml_text(w, EAS_Email_TimeZone, tz);
    g_free(tz);
    eas_wbxml_text(w, EAS_Email_GlobalObjId, mt->global_obj_id);
    if (version >= 140)
        eas_wbxml_text(w, EAS_Email_DisallowNewTimeProposal, mt->disallow_new_time ? "1" : "0");
    if (version >= 141)
        eas_wbxml_textf(w, EAS_Email2_MeetingMessageType, "%d", mt->meeting_message_type);
    eas_wbxml_end(w);
}

/* ---- the item -------------------------------------------------------- */

apr_status_t eas_mime_write(apr_pool_t *p, eas_mime_msg_t *m, const eas_mime_state_t *st,
                            const eas_mime_options_t *o, eas_wbxml_writer_t *w)
{
    apr_pool_t *sp;
    apr_status_t rv = APR_SUCCESS;
    int v = o->version;
    static const eas_mime_state_t none;

    if (!st)
        st = &none;
    apr_pool_create(&sp, p);
    text_if(w, EAS_Email_To, m->to);
    text_if(w, EAS_Email_Cc, m->cc);
    text_if(w, EAS_Email_From, m->from);
    text_if(w, EAS_Email_Subject, m->subject);
    text_if(w, EAS_Email_ReplyTo, m->reply_to);
    time_if(sp, w, EAS_Email_DateReceived, m->date_received);
    text_if(w, EAS_Email_DisplayTo, m->display_to);
    if (m->thread_topic && *m->thread_topic)
        eas_wbxml_text(w, EAS_Email_ThreadTopic, m->thread_topic);
    eas_wbxml_textf(w, EAS_Email_Importance, "%d", m->importance);
    eas_wbxml_text(w, EAS_Email_Read, st->seen ? "1" : "0");
    write_attachments(m, o, w);
    if (v >= 120)
        rv = write_body(sp, m, o, w);
    else
        write_body_25(m, o, w);
    eas_wbxml_text(w, EAS_Email_MessageClass, m->message_class);
    /* MS-ASEMAIL 2.2.2.48: requests (and their cancellations) are answered
     * with MeetingResponse; replies only inform the organizer. */
    if (m->meeting && !m->smime
        && (!strcmp(m->meeting->method, "REQUEST") || !strcmp(m->meeting->method, "CANCEL")))
        write_meeting(sp, m->meeting, v, w);
    if (v >= 120) {
        eas_wbxml_textf(w, EAS_Email_InternetCPID, "%d", m->internet_cpid);
        write_flag(sp, st, w);
        eas_wbxml_text(w, EAS_Email_ContentClass, m->content_class);
        eas_wbxml_textf(w, EAS_AirSyncBase_NativeBodyType, "%d", m->native_body_type);
    }
    if (v >= 140) {
        eas_wbxml_opaque(w, EAS_Email2_ConversationId, m->conversation_id,
                         sizeof(m->conversation_id));
        eas_wbxml_opaque(w, EAS_Email2_ConversationIndex, m->conversation_index,
                         m->conversation_index_len);
        write_categories(st, w);
        write_verb(sp, st, w);
        if (o->user_address)
            eas_wbxml_text(w, EAS_Email2_ReceivedAsBcc,
                           mime_received_as_bcc(m, o->user_address) ? "1" : "0");
        text_if(w, EAS_Email2_Sender, m->sender);
    }
    apr_pool_destroy(sp);
    return rv != APR_SUCCESS ? rv : eas_wbxml_status(w);
}
