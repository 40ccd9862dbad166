/*
 * Unit tests of the mail commands' pure parts: item identifiers
 * (eas_mailitem.h), body options and display names (eas_mime_opts.h), and
 * the iTIP reply builder (eas_mime_itip.h).
 */
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "eas_mailitem.h"
#include "eas_mime_itip.h"
#include "eas_mime_opts.h"
#include "eas_time.h"
#include "../tap.h"

static apr_pool_t *p;

static void test_ids(void)
{
    static const struct {
        eas_mailid_kind_e kind;
        const char *id;
    } bad[] = {
        {EAS_MAILID_SERVERID, ""}, {EAS_MAILID_SERVERID, "12"}, {EAS_MAILID_SERVERID, "12:"},
        {EAS_MAILID_SERVERID, ":5"}, {EAS_MAILID_SERVERID, "012:5"}, {EAS_MAILID_SERVERID, "12:05"},
        {EAS_MAILID_SERVERID, "12:0"}, {EAS_MAILID_SERVERID, "0:5"}, {EAS_MAILID_SERVERID, "-1:5"},
        {EAS_MAILID_SERVERID, "12:4294967296"}, {EAS_MAILID_SERVERID, "12:5:7"},
        {EAS_MAILID_SERVERID, "12: 5"}, {EAS_MAILID_SERVERID, "1234567890123456789:5"},
        {EAS_MAILID_LONGID, "12:5"}, {EAS_MAILID_LONGID, "12:0:5"}, {EAS_MAILID_LONGID, "12:5:7:1"},
        {EAS_MAILID_FILEREF, "12:5:7"}, {EAS_MAILID_FILEREF, "12:5:7:"},
        {EAS_MAILID_FILEREF, "12:5:7:0"}, {EAS_MAILID_FILEREF, "12:5:7:1..2"},
        {EAS_MAILID_FILEREF, "12:5:7:1."}, {EAS_MAILID_FILEREF, "12:5:7:.1"},
        {EAS_MAILID_FILEREF, "12:5:7:2.MIME"}, {EAS_MAILID_FILEREF, "12:5:7:HEADER"},
        {EAS_MAILID_FILEREF, "12:5:7:1.0"}, {EAS_MAILID_FILEREF, "12:5:7:1 2"},
    };
    const char *folder, *part;
    apr_uint32_t v, u;
    unsigned i;
    int fails = 0;

    ok(eas_mailid_parse(p, EAS_MAILID_SERVERID, "12:34", &folder, &v, &u, &part) == APR_SUCCESS,
       "a ServerId parses");
    is_str(folder, "12", "its folder");
    is_int(u, 34, "its UID");
    is_int(v, 0, "no UIDVALIDITY in a ServerId");
    ok(part == NULL, "and no part");
    ok(eas_mailid_parse(p, EAS_MAILID_LONGID, "7:4294967295:9", &folder, &v, &u, &part)
           == APR_SUCCESS && v == 4294967295u && u == 9,
       "a LongId with the largest UIDVALIDITY");
    ok(eas_mailid_parse(p, EAS_MAILID_FILEREF, "7:3:9:1.10.2", &folder, &v, &u, &part)
           == APR_SUCCESS,
       "a FileReference with a nested part");
    is_str(part, "1.10.2", "its part");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (eas_mailid_parse(p, bad[i].kind, bad[i].id, &folder, &v, &u, &part) != APR_EINVAL) {
            diag("accepted: kind %d '%s'", bad[i].kind, bad[i].id);
            fails++;
        }
    ok(fails == 0, "malformed identifiers are refused (26 cases)");
    ok(eas_mailid_parse(p, EAS_MAILID_SERVERID, NULL, &folder, &v, &u, &part) == APR_EINVAL,
       "NULL is refused");

    is_str(eas_mailid_serverid(p, "12", 34), "12:34", "ServerId format");
    is_str(eas_mailid_longid(p, "12", 4000000000u, 34), "12:4000000000:34", "LongId format");
    is_str(eas_mailid_fileref_prefix(p, "12", 7, 34), "12:7:34:", "FileReference prefix");
    ok(eas_mailid_parse(p, EAS_MAILID_FILEREF,
                        apr_pstrcat(p, eas_mailid_fileref_prefix(p, "99", 5, 6), "3", NULL),
                        &folder, &v, &u, &part) == APR_SUCCESS &&
           !strcmp(folder, "99") && v == 5 && u == 6 && !strcmp(part, "3"),
       "prefix + part parses back");
}

/* An Options element through the real encoder and decoder. */
static eas_node_t *options_doc(void)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(p, NULL, NULL);
    eas_node_t *root = NULL;
    const char *data;
    apr_size_t len;

    eas_wbxml_start(w, EAS_ItemOperations_Options);
    eas_wbxml_start(w, EAS_AirSyncBase_BodyPreference);
    eas_wbxml_text(w, EAS_AirSyncBase_Type, "7");          /* not a body type */
    eas_wbxml_end(w);
    eas_wbxml_start(w, EAS_AirSyncBase_BodyPreference);
    eas_wbxml_text(w, EAS_AirSyncBase_Type, "2");
    eas_wbxml_text(w, EAS_AirSyncBase_TruncationSize, "5120");
    eas_wbxml_text(w, EAS_AirSyncBase_AllOrNone, "1");
    eas_wbxml_text(w, EAS_AirSyncBase_Preview, "400");
    eas_wbxml_end(w);
    eas_wbxml_start(w, EAS_AirSyncBase_BodyPreference);
    eas_wbxml_text(w, EAS_AirSyncBase_Type, "4");
    eas_wbxml_end(w);
    eas_wbxml_start(w, EAS_AirSyncBase_BodyPartPreference);
    eas_wbxml_text(w, EAS_AirSyncBase_Type, "2");
    eas_wbxml_text(w, EAS_AirSyncBase_TruncationSize, "100");
    eas_wbxml_end(w);
    eas_wbxml_text(w, EAS_AirSync_MIMESupport, "1");
    eas_wbxml_end(w);
    if (eas_wbxml_finish(w, &data, &len) != APR_SUCCESS ||
        eas_wbxml_decode(p, data, len, NULL, &root, NULL) != EAS_WBXML_OK)
        return NULL;
    return root;
}

static void test_options(void)
{
    eas_mime_options_t o;
    eas_node_t *doc = options_doc();

    ok(doc != NULL, "Options document built");
    memset(&o, 0, sizeof(o));
    o.version = 141;
    eas_mime_options_read(p, doc, &o);
    is_int(o.n_body_prefs, 2, "an unknown Type is skipped");
    is_int(o.body_prefs[0].type, 2, "HTML first, as the client ordered");
    ok(o.body_prefs[0].truncation_size == 5120, "TruncationSize");
    is_int(o.body_prefs[0].all_or_none, 1, "AllOrNone");
    is_int(o.body_prefs[0].preview, 255, "Preview is held to 255 characters");
    ok(o.body_prefs[1].type == 4 && o.body_prefs[1].truncation_size == EAS_MIME_NO_TRUNCATION,
       "MIME without a size is not truncated");
    ok(o.n_part_prefs == 1 && o.part_prefs[0].truncation_size == 100, "BodyPartPreference");
    is_int(o.mime_support, 1, "MIMESupport");
    is_int(o.version, 141, "other fields are left alone");
    eas_mime_options_read(p, NULL, &o);
    ok(o.n_body_prefs == 0 && o.mime_support == 0 &&
           o.truncation == EAS_MIME_NO_TRUNCATION,
       "no Options: no preferences");
}

static void test_names(void)
{
    is_str(eas_mime_display_names(p, "\"Chris Gray\" <chris@example.test>, dana@example.test"),
           "Chris Gray; dana@example.test", "names, or the address where there is none");
    is_str(eas_mime_display_names(p, "Team: a@x.test, \"B\" <b@x.test>;"), "a@x.test; B",
           "group members");
    ok(eas_mime_display_names(p, NULL) == NULL && eas_mime_display_names(p, "") == NULL,
       "no list, no names");
}

static const char invite[] =
    "From: Organizer <org@example.test>\r\n"
    "To: me@example.test\r\n"
    "Subject: Budget review\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n"
    "\r\n"
    "BEGIN:VCALENDAR\r\nPRODID:-//t//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:budget-7@example.test\r\nDTSTAMP:20260301T090000Z\r\n"
    "DTSTART:20260310T140000Z\r\nDTEND:20260310T150000Z\r\nSUMMARY:Budget review\r\n"
    "SEQUENCE:4\r\nORGANIZER:mailto:org@example.test\r\n"
    "ATTENDEE;RSVP=TRUE:mailto:me@example.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

static void test_itip(void)
{
    eas_mime_msg_t *m, *r;
    eas_mime_itip_t it;
    const char *data, *to;
    apr_size_t len;
    apr_time_t t;

    ok(eas_mime_parse(p, invite, sizeof(invite) - 1, 0, &m) == APR_SUCCESS && m->meeting,
       "the invitation parses");
    memset(&it, 0, sizeof(it));
    it.address = "me@example.test";
    it.name = "Me Myself";
    it.response = EAS_MEETING_ACCEPT;
    eas_time_parse("2026-03-02T08:00:00.000Z", &it.now);
    ok(eas_mime_itip_reply(p, m, &it, &data, &len, &to) == APR_SUCCESS, "a reply is built");
    is_str(to, "org@example.test", "addressed to the organizer");
    ok(strstr(data, "Subject: Accepted: Budget review\r\n") != NULL, "Subject: Accepted: ...");
    ok(strstr(data, "Date: Mon, 02 Mar 2026 08:00:00 +0000") != NULL, "Date: from now");
    ok(strstr(data, "\r\n") && !strstr(data, "\n\n"), "CRLF line ends");
    ok(eas_mime_parse(p, data, len, 0, &r) == APR_SUCCESS && r->meeting, "the reply parses back");
    if (r->meeting) {
        is_str(r->meeting->method, "REPLY", "METHOD:REPLY");
        is_str(r->meeting->uid, "budget-7@example.test", "same UID");
        is_str(r->meeting->partstat, "ACCEPTED", "PARTSTAT=ACCEPTED");
        is_int(r->meeting->sequence, 4, "same SEQUENCE");
        ok(r->meeting->recurrence_id == 0, "the whole meeting: no RECURRENCE-ID");
    }
    ok(strstr(data, "CN=Me Myself") != NULL, "the attendee's name");

    it.response = EAS_MEETING_DECLINE;
    eas_time_parse("2026-03-17T14:00:00.000Z", &it.instance);
    it.body = "On holiday";
    ok(eas_mime_itip_reply(p, m, &it, &data, &len, &to) == APR_SUCCESS &&
           eas_mime_parse(p, data, len, 0, &r) == APR_SUCCESS && r->meeting,
       "a declined occurrence");
    if (r->meeting) {
        is_str(r->meeting->partstat, "DECLINED", "PARTSTAT=DECLINED");
        eas_time_parse("2026-03-17T14:00:00.000Z", &t);
        ok(r->meeting->recurrence_id == t, "RECURRENCE-ID of the instance");
    }
    ok(strstr(data, "On holiday") != NULL, "the note is the text part");

    it.response = EAS_MEETING_TENTATIVE;
    it.instance = 0;
    eas_time_parse("2026-03-11T09:00:00.000Z", &it.proposed_start);
    eas_time_parse("2026-03-11T10:00:00.000Z", &it.proposed_end);
    ok(eas_mime_itip_reply(p, m, &it, &data, &len, &to) == APR_SUCCESS, "a proposal");
    ok(strstr(data, "METHOD:COUNTER") && strstr(data, "DTSTART:20260311T090000Z") &&
           strstr(data, "method=COUNTER"),
       "is an iTIP COUNTER with the new time");
    ok(strstr(data, "Subject: New Time Proposed: Budget review") != NULL, "and says so");
    it.response = EAS_MEETING_ACCEPT;
    ok(eas_mime_itip_reply(p, m, &it, &data, &len, &to) == APR_SUCCESS &&
           strstr(data, "METHOD:REPLY") && !strstr(data, "COUNTER"),
       "accepting ignores a proposed time");

    it.response = 4;
    ok(eas_mime_itip_reply(p, m, &it, &data, &len, &to) == APR_EINVAL, "response 4 is refused");
    it.response = EAS_MEETING_ACCEPT;
    ok(eas_mime_parse(p, "Subject: x\r\n\r\nplain\r\n", 21, 0, &r) == APR_SUCCESS &&
           eas_mime_itip_reply(p, r, &it, &data, &len, &to) == APR_EINVAL,
       "a message without an invitation is refused");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&p, NULL);
    eas_mime_init();
    test_ids();
    test_options();
    test_names();
    test_itip();
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
