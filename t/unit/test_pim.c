/*
 * eas_pim without a database: what clients send becomes the neutral form,
 * Changes merge with ghosting, derived windows of recurring events, 16.x
 * instance edits, what each protocol version gets back, bodies; and the
 * date parsing it rests on (eas_time, birthdays before 1970).
 */
#include "../tap.h"

#include <stdlib.h>
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "eas_pim.h"
#include "eas_time.h"

static apr_pool_t *pool;

/* Documents are built with the writer and decoded: the same trees the
 * request pipeline hands over. */
static eas_wbxml_writer_t *w;
#define S(tag) eas_wbxml_start(w, tag)
#define E() eas_wbxml_end(w)
#define T(tag, text) eas_wbxml_text(w, tag, text)

static void begin(void)
{
    w = eas_wbxml_writer_create(pool, NULL, NULL);
    S(EAS_AirSync_ApplicationData);
}

static eas_node_t *done(void)
{
    const char *data;
    apr_size_t len;
    eas_node_t *root = NULL;

    eas_wbxml_finish(w, &data, &len);
    eas_wbxml_decode(pool, data, len, NULL, &root, NULL);
    return root;
}

/* "ns:Name=text" / "ns:Name(child,child)": a tree as one line. */
static const char *render(const eas_node_t *n)
{
    const char *ns = eas_wbxml_page_ns(EAS_TAG_PAGE(n->tag));
    char *name = apr_pstrcat(pool, ns, ":", eas_wbxml_tag_name(n->tag), NULL);
    const eas_node_t *c;
    char *s;

    name[0] = (char)apr_tolower(name[0]);
    for (s = name + 1; *s != ':'; s++)
        *s = (char)apr_tolower(*s);
    if (!n->first)
        return apr_pstrcat(pool, name, "=", n->text, NULL);
    s = apr_pstrcat(pool, name, "(", NULL);
    for (c = n->first; c; c = c->next)
        s = apr_pstrcat(pool, s, render(c), c->next ? "," : "", NULL);
    return apr_pstrcat(pool, s, ")", NULL);
}

static int has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* What a client of version gets for item. */
static const char *out_for(const eas_pim_item_t *item, int version, const eas_sync_options_t *o)
{
    eas_sync_options_t dflt;
    eas_wbxml_writer_t *ow = eas_wbxml_writer_create(pool, NULL, NULL);
    const char *data;
    apr_size_t len;
    eas_node_t *root = NULL;

    if (!o) {
        eas_sync_options_parse(&dflt, NULL, 1);
        o = &dflt;
    }
    eas_pim_write(ow, pool, item, version, o);
    eas_wbxml_finish(ow, &data, &len);
    if (eas_wbxml_decode(pool, data, len, NULL, &root, NULL) != EAS_WBXML_OK)
        return NULL;
    return render(root);
}

static const char WEU[] =
    "xP///1cALgAgAEUAdQByAG8AcABlACAAUwB0AGEAbgBkAGEAcgBkACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAoAAAAFAAMAAAAAAAAAAAAAAFcALgAgAEUAdQByAG8AcABlACAARABhAHkAbABpAGcAaAB0ACAAVABpAG0AZQAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAxP///w==";

static void test_time(void)
{
    apr_time_t t;

    ok(eas_time_parse("1815-12-10T00:00:00.000Z", &t) == 0, "a birthday in 1815 parses");
    is_str(eas_time_format(pool, t), "1815-12-10T00:00:00.000Z", "and formats back");
    ok(eas_time_parse("19690720T201800Z", &t) == 0, "a compact date-time before 1970");
    is_str(eas_time_format_compact(pool, t), "19690720T201800Z", "formats back");
    ok(eas_time_parse("2026-02-30T00:00:00.000Z", &t) != 0, "30 February is refused");
    ok(eas_time_parse("2026-03-01T00:00:00.250Z", &t) == 0 &&
           !strcmp(eas_time_format(pool, t), "2026-03-01T00:00:00.250Z"),
       "milliseconds are kept");
}

static void test_bodies(void)
{
    apr_size_t n;
    const char *s;

    s = eas_pim_html_to_text(pool, "<p>One &amp; <b>two</b></p><script>evil()</script>"
                                   "<div>three&nbsp;&#228;&#x263A;</div>line<br>break<!-- gone -->",
                             strlen("<p>One &amp; <b>two</b></p><script>evil()</script>"
                                    "<div>three&nbsp;&#228;&#x263A;</div>line<br>break<!-- gone -->"),
                             &n);
    is_str(s, "One & two\nthree \xC3\xA4\xE2\x98\xBA\nline\nbreak",
           "HTML -> text: tags, script and comments go, entities decoded, blocks break lines");
    is_int(n, strlen(s), "the length is returned");
    s = eas_pim_html_to_text(pool, "<html><head><title>T</title></head><body>x</body></html>",
                             53, &n);
    is_str(s, "x", "the head is not text");
    s = eas_pim_text_to_html(pool, "a < b & \"c\"\nnext", 16, &n);
    is_str(s, "<html><body>a &lt; b &amp; &quot;c&quot;<br>\nnext</body></html>",
           "text -> HTML escapes and keeps line breaks");
}

static void test_contacts(void)
{
    eas_pim_item_t a, b, m;
    apr_array_header_t *sup;
    const char *why, *r;

    begin();
    T(EAS_Contacts_FirstName, "Ada");
    T(EAS_Contacts_LastName, "Lovelace");
    T(EAS_Contacts_MobilePhoneNumber, "+44");
    T(EAS_Email_Subject, "not a contact property");
    S(EAS_AirSyncBase_Body);
    T(EAS_AirSyncBase_Type, "1");
    T(EAS_AirSyncBase_Data, "notes");
    E();
    ok(eas_pim_from_client(pool, "Contacts", 141, done(), &a, &why) == APR_SUCCESS,
       "a contact is accepted");
    is_str(render(a.props), "airsync:ApplicationData(contacts:FirstName=Ada,contacts:LastName="
                            "Lovelace,contacts:MobilePhoneNumber=+44)",
           "the body and another class's elements are not properties");
    ok(a.has_body && a.body_type == 1 && !strcmp(a.body, "notes"), "the body is taken out");
    is_str(a.subject, "Ada Lovelace", "subject from the names");

    begin();
    T(EAS_Contacts_Birthday, "");
    eas_wbxml_empty(w, EAS_Contacts_Anniversary);
    ok(eas_pim_from_client(pool, "Contacts", 141, done(), &b, &why) == APR_SUCCESS,
       "empty date elements (clearing them) are accepted");
    begin();
    T(EAS_Contacts_Birthday, "10/12/1815");
    ok(eas_pim_from_client(pool, "Contacts", 141, done(), &b, &why) == APR_EINVAL,
       "an invalid Birthday is refused");
    diag("%s", why);

    /* A Change: LastName and JobTitle sent. */
    begin();
    T(EAS_Contacts_LastName, "King");
    T(EAS_Contacts_JobTitle, "Countess");
    eas_pim_from_client(pool, "Contacts", 141, done(), &b, &why);
    ok(eas_pim_merge(pool, &a, &b, 141, NULL, &m, &why) == APR_SUCCESS, "merge");
    is_str(render(m.props), "airsync:ApplicationData(contacts:LastName=King,contacts:JobTitle=Countess)",
           "no Supported: what was not sent is gone");
    ok(m.body && !strcmp(m.body, "notes"), "the body not sent is kept");

    sup = apr_array_make(pool, 2, sizeof(eas_tag_t));
    APR_ARRAY_PUSH(sup, eas_tag_t) = EAS_Contacts_FirstName;
    APR_ARRAY_PUSH(sup, eas_tag_t) = EAS_Contacts_LastName;
    eas_pim_merge(pool, &a, &b, 141, sup, &m, &why);
    r = render(m.props);
    ok(!has(r, "FirstName") && has(r, "MobilePhoneNumber=+44") && has(r, "LastName=King"),
       "Supported: a supported property not sent goes, a ghosted one stays");
    sup = apr_array_make(pool, 1, sizeof(eas_tag_t));
    eas_pim_merge(pool, &a, &b, 141, sup, &m, &why);
    r = render(m.props);
    ok(has(r, "FirstName=Ada") && has(r, "MobilePhoneNumber"), "an empty Supported ghosts everything");
}

static void test_tasks_notes(void)
{
    eas_pim_item_t t, u, m;
    const char *why, *r;
    eas_sync_options_t o;

    begin();
    T(EAS_Tasks_Subject, "Plants");
    T(EAS_Tasks_Complete, "1");
    T(EAS_Tasks_UtcDueDate, "2026-03-02T08:00:00.000Z");
    S(EAS_Tasks_Recurrence);
    T(EAS_Tasks_Type, "1");
    T(EAS_Tasks_DayOfWeek, "2");
    T(EAS_Tasks_Start, "2026-03-02T08:00:00.000Z");
    E();
    ok(eas_pim_from_client(pool, "Tasks", 141, done(), &t, &why) == APR_SUCCESS, "a task");
    ok(t.complete == 1 && t.has_due, "complete and due are derived");
    begin();
    T(EAS_Tasks_Subject, "Plants");
    eas_pim_from_client(pool, "Tasks", 141, done(), &u, &why);
    eas_pim_merge(pool, &t, &u, 141, NULL, &m, &why);
    ok(m.complete == 0 && !has(render(m.props), "Recurrence"), "tasks are never ghosted");
    begin();
    S(EAS_Tasks_Recurrence);
    T(EAS_Tasks_Interval, "2");
    E();
    ok(eas_pim_from_client(pool, "Tasks", 141, done(), &u, &why) == APR_EINVAL,
       "a Recurrence without Type is refused");
    begin();
    T(EAS_Tasks_CalendarType, "0");
    T(EAS_Tasks_FirstDayOfWeek, "1");
    T(EAS_Tasks_Subject, "x");
    eas_pim_from_client(pool, "Tasks", 141, done(), &u, &why);
    r = out_for(&u, 140, NULL);
    ok(has(r, "CalendarType") && !has(r, "FirstDayOfWeek"), "14.0 gets CalendarType, not FirstDayOfWeek");
    r = out_for(&u, 121, NULL);
    ok(!has(r, "CalendarType"), "12.1 gets neither");

    begin();
    T(EAS_Notes_Subject, "List");
    S(EAS_AirSyncBase_Body);
    T(EAS_AirSyncBase_Type, "2");
    T(EAS_AirSyncBase_Data, "<p>milk &amp; eggs and more</p>");
    E();
    ok(eas_pim_from_client(pool, "Notes", 141, done(), &u, &why) == APR_SUCCESS, "a note");
    eas_sync_options_parse(&o, NULL, 1);
    o.n_body_prefs = 1;
    o.body_prefs[0].type = 1;
    o.body_prefs[0].has_truncation = 1;
    o.body_prefs[0].truncation = 4;
    o.body_prefs[0].preview = 5;
    r = out_for(&u, 141, &o);
    is_str(r, "airsync:ApplicationData(notes:Subject=List,airsyncbase:Body(airsyncbase:Type=1,"
              "airsyncbase:EstimatedDataSize=20,airsyncbase:Truncated=1,airsyncbase:Data=milk,"
              "airsyncbase:Preview=milk ))",
           "plain text asked for: converted, truncated, with a preview");
    o.body_prefs[0].all_or_none = 1;
    r = out_for(&u, 141, &o);
    ok(!has(r, "Data=") && has(r, "Truncated=1"), "AllOrNone: no data at all when it does not fit");
    o.body_prefs[0].type = 3;
    r = out_for(&u, 141, &o);
    ok(has(r, "airsyncbase:Type=1"), "only RTF asked for, HTML stored: plain text, which every client reads");
}

static void test_calendar(void)
{
    eas_pim_item_t ev, ch, m, x;
    const char *why, *r;
    int status;
    apr_time_t t;

    begin();
    T(EAS_Calendar_Timezone, WEU);
    T(EAS_Calendar_StartTime, "20260302T080000Z");
    T(EAS_Calendar_EndTime, "20260302T090000Z");
    T(EAS_Calendar_Subject, "Weekly");
    T(EAS_Calendar_Location, "Room 1");
    T(EAS_Calendar_ClientUid, "cuid");
    S(EAS_Calendar_Recurrence);
    T(EAS_Calendar_Type, "1");
    T(EAS_Calendar_DayOfWeek, "2");
    T(EAS_Calendar_Occurrences, "5");
    T(EAS_Calendar_FirstDayOfWeek, "1");
    E();
    S(EAS_Calendar_Exceptions);
    S(EAS_Calendar_Exception);
    T(EAS_AirSyncBase_InstanceId, "20260309T080000Z");
    T(EAS_Calendar_Location, "Room 2");
    E();
    E();
    ok(eas_pim_from_client(pool, "Calendar", 161, done(), &ev, &why) == APR_SUCCESS, "a series");
    r = render(ev.props);
    ok(has(r, "airsyncbase:Location(airsyncbase:DisplayName=Room 1)"),
       "Calendar:Location is kept as airsyncbase:Location");
    ok(has(r, "calendar:Exception(calendar:ExceptionStartTime=20260309T080000Z,"
              "airsyncbase:Location(airsyncbase:DisplayName=Room 2))"),
       "an InstanceId names the exception as ExceptionStartTime");
    eas_time_parse("20260330T080000Z", &t);
    /* five Mondays at 09:00 Berlin: the last, on 30 March, starts at 07:00Z
     * (summer time) and ends an hour later */
    ok(ev.has_end && ev.end == t, "the window ends with the last occurrence, in its zone");
    diag("end %s", eas_time_format(pool, ev.end));

    r = out_for(&ev, 141, NULL);
    ok(has(r, "calendar:Location=Room 1") && has(r, "calendar:ExceptionStartTime=20260309T080000Z") &&
           has(r, "calendar:Location=Room 2") && !has(r, "ClientUid") && has(r, "FirstDayOfWeek"),
       "14.1 gets strings for locations, ExceptionStartTime, no ClientUid");
    r = out_for(&ev, 161, NULL);
    ok(has(r, "airsyncbase:InstanceId=20260309T080000Z") && !has(r, "ExceptionStartTime") &&
           has(r, "ClientUid=cuid") && has(r, "airsyncbase:Location("),
       "16.1 gets InstanceId, ClientUid, the Location container");
    r = out_for(&ev, 140, NULL);
    ok(!has(r, "FirstDayOfWeek"), "14.0 has no FirstDayOfWeek");

    /* unbounded series: no end */
    begin();
    T(EAS_Calendar_StartTime, "20260302T080000Z");
    S(EAS_Calendar_Recurrence);
    T(EAS_Calendar_Type, "0");
    E();
    eas_pim_from_client(pool, "Calendar", 141, done(), &x, &why);
    ok(x.has_start && !x.has_end, "a series without end has no window end");
    begin();
    T(EAS_Calendar_StartTime, "20260302T080000Z");
    T(EAS_Calendar_EndTime, "20260301T080000Z");
    ok(eas_pim_from_client(pool, "Calendar", 141, done(), &x, &why) == APR_EINVAL,
       "EndTime before StartTime is refused");
    begin();
    T(EAS_Calendar_StartTime, "20260302T080000Z");
    T(EAS_Calendar_MeetingStatus, "2");
    ok(eas_pim_from_client(pool, "Calendar", 141, done(), &x, &why) == APR_EINVAL,
       "MeetingStatus 2 is refused");
    begin();
    T(EAS_Calendar_Timezone, "AAAA");
    ok(eas_pim_from_client(pool, "Calendar", 141, done(), &x, &why) == APR_EINVAL,
       "a Timezone that is not 172 bytes is refused");

    /* 16.x instance edits */
    begin();
    T(EAS_Calendar_Subject, "Special");
    T(EAS_Calendar_StartTime, "20260316T090000Z");
    eas_pim_from_client(pool, "Calendar", 161, done(), &ch, &why);
    eas_pim_instance(pool, &ev, "20260316T080000Z", &ch, &m, &status);
    is_int(status, EAS_SYNC_OK, "an occurrence edited by InstanceId");
    ok(has(render(m.props), "calendar:Exception(calendar:ExceptionStartTime=20260316T080000Z,"
                            "calendar:Subject=Special,calendar:StartTime=20260316T090000Z)"),
       "becomes an exception");
    eas_pim_instance(pool, &m, "20260323T080000Z", NULL, &x, &status);
    ok(status == EAS_SYNC_OK &&
           has(render(x.props), "calendar:Exception(calendar:ExceptionStartTime=20260323T080000Z,"
                                "calendar:Deleted=1)"),
       "a deleted occurrence becomes a deleted exception");
    eas_pim_instance(pool, &ev, "20260317T080000Z", &ch, &x, &status);
    is_int(status, EAS_SYNC_NOT_FOUND, "no occurrence starts then: Status 8");

    /* 16.x series changes */
    begin();
    T(EAS_Calendar_Subject, "Renamed");
    eas_pim_from_client(pool, "Calendar", 161, done(), &ch, &why);
    eas_pim_merge(pool, &m, &ch, 161, NULL, &x, &why);
    ok(has(render(x.props), "Exceptions"), "16.1: a Change keeps the exceptions it never sends");
    r = render(x.props);
    ok(has(r, "calendar:Subject=Renamed") && has(r, "airsyncbase:Location(") &&
           has(r, "calendar:Recurrence("),
       "16.1: every calendar property not sent is ghosted (MS-ASCAL 3.1.5.3)");
    eas_pim_merge(pool, &m, &ch, 141, NULL, &x, &why);
    ok(!has(render(x.props), "Location"), "14.1 without Supported: not sent, removed");
    begin();
    T(EAS_Calendar_StartTime, "20260302T100000Z");
    T(EAS_Calendar_EndTime, "20260302T110000Z");
    eas_pim_from_client(pool, "Calendar", 161, done(), &ch, &why);
    eas_pim_merge(pool, &m, &ch, 161, NULL, &x, &why);
    ok(!has(render(x.props), "Exceptions"), "16.1: new series times drop them");
    eas_pim_merge(pool, &m, &ch, 141, NULL, &x, &why);
    ok(!has(render(x.props), "Exceptions"), "14.1: a Change without Exceptions removes them");
    begin();
    T(EAS_Calendar_UID, "another");
    eas_pim_from_client(pool, "Calendar", 141, done(), &ch, &why);
    begin();
    T(EAS_Calendar_UID, "first");
    eas_pim_from_client(pool, "Calendar", 141, done(), &x, &why);
    eas_pim_merge(pool, &x, &ch, 141, NULL, &m, &why);
    is_str(m.uid, "first", "a Change cannot replace the UID");
}

static void test_25(void)
{
    eas_pim_item_t c;
    eas_sync_options_t o;
    const char *why, *r;
    char big[700];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    begin();
    T(EAS_Contacts_FirstName, "Old");
    T(EAS_Contacts_Body, big);
    T(EAS_Contacts_BodyTruncated, "0");
    ok(eas_pim_from_client(pool, "Contacts", 25, done(), &c, &why) == APR_SUCCESS &&
           c.has_body && c.body_len == 699,
       "2.5: Contacts:Body is the body");
    eas_sync_options_parse(&o, NULL, 1);
    o.truncation = 1;
    r = out_for(&c, 25, &o);
    ok(has(r, "contacts:BodyTruncated=1") && !has(r, "airsyncbase"),
       "2.5 Truncation 1: 512 characters and BodyTruncated");
    ok(has(r, apr_psprintf(pool, "contacts:Body=%.512s,", big)), "exactly 512");
    o.truncation = -1;
    r = out_for(&c, 25, &o);
    ok(has(r, "contacts:BodyTruncated=0"), "no Truncation: all of it");
    begin();
    T(EAS_Contacts_FirstName, "Old");
    T(EAS_Contacts_Body, "xxxx");
    T(EAS_Contacts_BodyTruncated, "1");
    eas_pim_from_client(pool, "Contacts", 25, done(), &c, &why);
    ok(!c.has_body, "2.5: a body the client has only truncated is not taken as new");
    begin();
    S(EAS_AirSyncBase_Body);
    T(EAS_AirSyncBase_Type, "1");
    T(EAS_AirSyncBase_Truncated, "1");
    T(EAS_AirSyncBase_Data, "xxxx");
    E();
    eas_pim_from_client(pool, "Contacts", 141, done(), &c, &why);
    ok(!c.has_body, "nor a truncated AirSyncBase:Body");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_time();
    test_bodies();
    test_contacts();
    test_tasks_notes();
    test_calendar();
    test_25();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
