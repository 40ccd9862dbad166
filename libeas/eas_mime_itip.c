#include "eas_mime_itip.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <gmime/gmime.h>
#include <libical/ical.h>

static struct icaltimetype utc(apr_time_t t)
{
    return icaltime_from_timet_with_zone((time_t)apr_time_sec(t), 0,
                                         icaltimezone_get_utc_timezone());
}

static char *mailto(const char *addr)
{
    char *s = malloc(strlen(addr) + 8);

    if (s) {
        memcpy(s, "mailto:", 7);
        strcpy(s + 7, addr);
    }
    return s;
}

/* The VCALENDAR of the reply (RFC 5546 3.2.3 REPLY, 3.2.7 COUNTER). */
static char *ical_reply(const eas_mime_msg_t *m, const eas_mime_itip_t *r, int counter)
{
    const eas_mime_meeting_t *mt = m->meeting;
    icalcomponent *cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
    icalcomponent *ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
    icalproperty *att;
    icalparameter_partstat ps = r->response == EAS_MEETING_ACCEPT      ? ICAL_PARTSTAT_ACCEPTED
                                : r->response == EAS_MEETING_TENTATIVE ? ICAL_PARTSTAT_TENTATIVE
                                                                       : ICAL_PARTSTAT_DECLINED;
    char *org = mailto(mt->organizer_email), *me = mailto(r->address), *s;

    icalcomponent_add_property(cal, icalproperty_new_prodid("-//mod_eas//ActiveSync//EN"));
    icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(cal, icalproperty_new_method(counter ? ICAL_METHOD_COUNTER
                                                                     : ICAL_METHOD_REPLY));
    icalcomponent_add_property(ev, icalproperty_new_uid(mt->uid));
    icalcomponent_add_property(ev, icalproperty_new_dtstamp(utc(r->now)));
    icalcomponent_add_property(ev, icalproperty_new_organizer(org ? org : ""));
    att = icalproperty_new_attendee(me ? me : "");
    icalproperty_add_parameter(att, icalparameter_new_partstat(ps));
    if (r->name && *r->name)
        icalproperty_add_parameter(att, icalparameter_new_cn(r->name));
    icalcomponent_add_property(ev, att);
    if (mt->sequence > 0)
        icalcomponent_add_property(ev, icalproperty_new_sequence(mt->sequence));
    if (r->instance || mt->recurrence_id)
        icalcomponent_add_property(ev, icalproperty_new_recurrenceid(
                                           utc(r->instance ? r->instance : mt->recurrence_id)));
    if (m->subject)
        icalcomponent_add_property(ev, icalproperty_new_summary(m->subject));
    /* Optional in a REPLY, but organizers' clients match on them. */
    if (counter) {
        icalcomponent_add_property(ev, icalproperty_new_dtstart(utc(r->proposed_start)));
        icalcomponent_add_property(ev, icalproperty_new_dtend(utc(r->proposed_end)));
    }
    else if (mt->start) {
        apr_time_t start = r->instance ? r->instance : mt->start;
        apr_time_t end = start + (mt->end > mt->start ? mt->end - mt->start : 0);
        struct icaltimetype ts = utc(start), te = utc(end);

        if (mt->all_day) {
            ts.is_date = te.is_date = 1;
            ts.hour = ts.minute = ts.second = te.hour = te.minute = te.second = 0;
        }
        icalcomponent_add_property(ev, icalproperty_new_dtstart(ts));
        if (end > start)
            icalcomponent_add_property(ev, icalproperty_new_dtend(te));
    }
    if (r->body && *r->body)
        icalcomponent_add_property(ev, icalproperty_new_comment(r->body));
    icalcomponent_add_component(cal, ev);
    s = icalcomponent_as_ical_string_r(cal);
    icalcomponent_free(cal);
    free(org);
    free(me);
    return s;
}

apr_status_t eas_mime_itip_reply(apr_pool_t *p, const eas_mime_msg_t *m, const eas_mime_itip_t *r0,
                                 const char **data, apr_size_t *len, const char **to)
{
    static const char *const verbs[] = {NULL, "Accepted", "Tentative", "Declined"};
    const eas_mime_meeting_t *mt = m->meeting;
    eas_mime_itip_t r = *r0;
    int counter = r.proposed_start && r.proposed_end > r.proposed_start &&
                  r.response != EAS_MEETING_ACCEPT;
    GMimeMessage *msg;
    GMimeMultipart *alt;
    GMimeTextPart *text, *cal;
    GMimeFormatOptions *fo;
    GDateTime *dt;
    const char *domain, *subject, *note;
    char *ics, *mid, *out;

    if (!mt || !mt->uid || !mt->organizer_email || !*mt->organizer_email ||
        strcmp(mt->method, "REQUEST") || r.response < EAS_MEETING_ACCEPT ||
        r.response > EAS_MEETING_DECLINE || !r.address)
        return APR_EINVAL;
    if (!r.now)
        r.now = apr_time_now();
    if (!(ics = ical_reply(m, &r, counter)))
        return APR_ENOMEM;

    subject = apr_pstrcat(p, counter ? "New Time Proposed" : verbs[r.response], ": ",
                          m->subject ? m->subject : "", NULL);
    note = r.body && *r.body ? r.body
           : apr_pstrcat(p, r.name && *r.name ? r.name : r.address,
                         r.response == EAS_MEETING_ACCEPT      ? " has accepted."
                         : r.response == EAS_MEETING_TENTATIVE ? " has tentatively accepted."
                                                               : " has declined.",
                         counter ? " A new time is proposed." : "", "\n", NULL);

    msg = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, r.name, r.address);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, mt->organizer_email);
    g_mime_message_set_subject(msg, subject, "utf-8");
    dt = g_date_time_new_from_unix_utc((gint64)apr_time_sec(r.now));
    g_mime_message_set_date(msg, dt);
    g_date_time_unref(dt);
    domain = strrchr(r.address, '@');
    mid = g_mime_utils_generate_message_id(domain && domain[1] ? domain + 1 : "localhost");
    g_mime_message_set_message_id(msg, mid);
    g_free(mid);

    alt = g_mime_multipart_new_with_subtype("alternative");
    text = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(text, note);
    cal = g_mime_text_part_new_with_subtype("calendar");
    g_mime_text_part_set_text(cal, ics);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(cal), "method",
                                             counter ? "COUNTER" : "REPLY");
    g_mime_multipart_add(alt, GMIME_OBJECT(text));
    g_mime_multipart_add(alt, GMIME_OBJECT(cal));
    g_object_unref(text);
    g_object_unref(cal);
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));
    g_object_unref(alt);
    g_mime_object_encode(GMIME_OBJECT(msg), GMIME_ENCODING_CONSTRAINT_7BIT);

    fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    out = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    free(ics);
    if (!out)
        return APR_ENOMEM;
    *len = strlen(out);
    *data = apr_pmemdup(p, out, *len + 1);
    g_free(out);
    *to = apr_pstrdup(p, mt->organizer_email);
    return APR_SUCCESS;
}
