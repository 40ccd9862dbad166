/*
 * PIM items as property bags (see eas_pim.h): conversion between what
 * clients of each version send and receive and the neutral stored form,
 * validation, ghosting, 16.x instance edits, bodies.
 */
#include "eas_pim.h"

#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "eas_recur.h"
#include "eas_time.h"
#include "eas_tz.h"

/* ---- tree helpers ------------------------------------------------------ */

static eas_node_t *nnew(apr_pool_t *p, eas_tag_t tag, const char *text)
{
    eas_node_t *n = apr_pcalloc(p, sizeof(*n));

    n->tag = tag;
    n->text = text ? text : "";
    n->len = strlen(n->text);
    n->has_content = n->len > 0;
    return n;
}

static void nappend(eas_node_t *parent, eas_node_t *child)
{
    eas_node_t **pp = &parent->first;

    while (*pp)
        pp = &(*pp)->next;
    child->parent = parent;
    child->next = NULL;
    *pp = child;
}

static eas_node_t *ncopy(apr_pool_t *p, const eas_node_t *n)
{
    eas_node_t *c = apr_pmemdup(p, n, sizeof(*n));
    const eas_node_t *ch;

    c->parent = c->first = c->next = NULL;
    for (ch = n->first; ch; ch = ch->next)
        nappend(c, ncopy(p, ch));
    return c;
}

/* Replaces the child with n's tag, or appends n. */
static void nset(eas_node_t *parent, eas_node_t *n)
{
    eas_node_t **pp;

    for (pp = &parent->first; *pp; pp = &(*pp)->next)
        if ((*pp)->tag == n->tag) {
            n->next = (*pp)->next;
            n->parent = parent;
            *pp = n;
            return;
        }
    nappend(parent, n);
}

/* Same content, byte for byte. */
static int nequal(const eas_node_t *a, const eas_node_t *b)
{
    const eas_node_t *x, *y;

    if (!a || !b)
        return a == b;
    if (a->tag != b->tag || a->len != b->len || memcmp(a->text, b->text, a->len))
        return 0;
    for (x = a->first, y = b->first; x && y; x = x->next, y = y->next)
        if (!nequal(x, y))
            return 0;
    return !x && !y;
}

/* ---- classes ------------------------------------------------------------- */

typedef enum { CLS_CONTACTS, CLS_CALENDAR, CLS_TASKS, CLS_NOTES, CLS_NONE } cls_e;

static cls_e cls_of(const char *cls)
{
    if (!cls)
        return CLS_NONE;
    if (!strcmp(cls, "Contacts"))
        return CLS_CONTACTS;
    if (!strcmp(cls, "Calendar"))
        return CLS_CALENDAR;
    if (!strcmp(cls, "Tasks"))
        return CLS_TASKS;
    if (!strcmp(cls, "Notes"))
        return CLS_NOTES;
    return CLS_NONE;
}

#define PAGE_CONTACTS 1
#define PAGE_CALENDAR 4
#define PAGE_TASKS 9
#define PAGE_CONTACTS2 12
#define PAGE_ASB 17
#define PAGE_NOTES 23

static int page_of_class(cls_e k, unsigned page)
{
    switch (k) {
    case CLS_CONTACTS: return page == PAGE_CONTACTS || page == PAGE_CONTACTS2;
    case CLS_CALENDAR: return page == PAGE_CALENDAR;
    case CLS_TASKS: return page == PAGE_TASKS;
    case CLS_NOTES: return page == PAGE_NOTES;
    default: return 0;
    }
}

/* The oldest and newest protocol versions that know an element
 * (MS-ASCAL / MS-ASCNTC / MS-ASTASK / MS-ASNOTE / MS-ASAIRS "Protocol
 * Versions" tables).  Neutral forms that have an older spelling
 * (Calendar:Location, ExceptionStartTime) are converted, not dropped. */
static int tag_in_version(eas_tag_t tag, int version)
{
    int lo = 25, hi = 161;

    switch (tag) {
    case EAS_Calendar_DisallowNewTimeProposal:
    case EAS_Calendar_ResponseRequested:
    case EAS_Calendar_AppointmentReplyTime:
    case EAS_Calendar_ResponseType:
    case EAS_Calendar_CalendarType:
    case EAS_Calendar_IsLeapMonth:
    case EAS_Tasks_CalendarType:
    case EAS_Tasks_IsLeapMonth:
    case EAS_Contacts_Alias:
    case EAS_Contacts_WeightedRank:
        lo = 140;
        break;
    case EAS_Calendar_FirstDayOfWeek:
    case EAS_Calendar_OnlineMeetingConfLink:
    case EAS_Calendar_OnlineMeetingExternalLink:
    case EAS_Tasks_FirstDayOfWeek:
        lo = 141;
        break;
    case EAS_Calendar_ClientUid:
        lo = 160;
        break;
    case EAS_Tasks_OrdinalDate:
    case EAS_Tasks_SubOrdinalDate:
    case EAS_Calendar_AttendeeStatus:
    case EAS_Calendar_AttendeeType:
        lo = 120;
        break;
    default:
        if (EAS_TAG_PAGE(tag) == PAGE_NOTES)
            lo = 140;
        else if (EAS_TAG_PAGE(tag) == PAGE_ASB)
            lo = 120;
        break;
    }
    return version >= lo && version <= hi;
}

/* ---- values -------------------------------------------------------------- */

static int int_in(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return 0;
    v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return 0;
    if (out)
        *out = v;
    return 1;
}

static int time_ok(const char *s, apr_time_t *t)
{
    apr_time_t dummy;

    return s && eas_time_parse(s, t ? t : &dummy) == 0;
}

/* Recurrence (Calendar or Tasks flavour) -> r. */
static apr_status_t parse_recurrence(const eas_node_t *n, int tasks, eas_recur_t *r,
                                     const char **why)
{
    const eas_node_t *c;
    long v;
    int have_type = 0;

    eas_recur_init(r);
    for (c = n->first; c; c = c->next) {
        eas_tag_t t = c->tag;
        if (t == (tasks ? EAS_Tasks_Type : EAS_Calendar_Type)) {
            if (!int_in(c->text, 0, 6, &v))
                goto bad;
            r->type = (int)v;
            have_type = 1;
        }
        else if (t == (tasks ? EAS_Tasks_Occurrences : EAS_Calendar_Occurrences)) {
            if (!int_in(c->text, 0, 999, &v))
                goto bad;
            r->occurrences = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_Interval : EAS_Calendar_Interval)) {
            if (!int_in(c->text, 0, 999, &v))
                goto bad;
            r->interval = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_Until : EAS_Calendar_Until)) {
            if (!time_ok(c->text, &r->until))
                goto bad;
            r->has_until = 1;
        }
        else if (t == (tasks ? EAS_Tasks_DayOfWeek : EAS_Calendar_DayOfWeek)) {
            if (!int_in(c->text, 0, 127, &v))
                goto bad;
            r->day_of_week = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_DayOfMonth : EAS_Calendar_DayOfMonth)) {
            if (!int_in(c->text, 0, 31, &v))
                goto bad;
            r->day_of_month = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_WeekOfMonth : EAS_Calendar_WeekOfMonth)) {
            if (!int_in(c->text, 0, 5, &v))
                goto bad;
            r->week_of_month = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_MonthOfYear : EAS_Calendar_MonthOfYear)) {
            if (!int_in(c->text, 0, 13, &v))
                goto bad;
            r->month_of_year = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_CalendarType : EAS_Calendar_CalendarType)) {
            if (!int_in(c->text, 0, 255, &v))
                goto bad;
            r->calendar_type = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_IsLeapMonth : EAS_Calendar_IsLeapMonth)) {
            if (!int_in(c->text, 0, 1, &v))
                goto bad;
            r->is_leap_month = (int)v;
        }
        else if (t == (tasks ? EAS_Tasks_FirstDayOfWeek : EAS_Calendar_FirstDayOfWeek)) {
            if (!int_in(c->text, 0, 6, &v))
                goto bad;
            r->first_day_of_week = (int)v;
        }
        else if (tasks && t == EAS_Tasks_Start) {
            if (!time_ok(c->text, &r->start))
                goto bad;
            r->has_start = 1;
        }
        else if (tasks && t == EAS_Tasks_Regenerate) {
            if (!int_in(c->text, 0, 1, &v))
                goto bad;
            r->regenerate = (int)v;
        }
        else if (tasks && t == EAS_Tasks_DeadOccur) {
            if (!int_in(c->text, 0, 1, &v))
                goto bad;
            r->dead_occur = (int)v;
        }
    }
    if (!have_type) {
        *why = "Recurrence without Type";
        return APR_EINVAL;
    }
    return eas_recur_check(r, why);
bad:
    *why = "invalid value in Recurrence";
    return APR_EINVAL;
}

/* Checks one element a client sent; 0 with *why when it is invalid. */
static int check_value(cls_e k, const eas_node_t *n, const char **why)
{
    eas_tag_t t = n->tag;
    const char *s = n->text;
    eas_tzinfo_t tzi;
    eas_recur_t r;

    /* An empty element clears the property (<Reminder/>, <Birthday/>). */
    if (!n->len && !n->first && t != EAS_Calendar_Recurrence && t != EAS_Tasks_Recurrence)
        return 1;
    switch (t) {
    case EAS_Calendar_Timezone:
        if (eas_tzinfo_decode(s, &tzi, why) != APR_SUCCESS) {
            *why = "invalid Timezone";
            return 0;
        }
        return 1;
    case EAS_Calendar_StartTime:
    case EAS_Calendar_EndTime:
    case EAS_Calendar_DtStamp:
    case EAS_Calendar_AppointmentReplyTime:
    case EAS_Calendar_ExceptionStartTime:
    case EAS_Contacts_Birthday:
    case EAS_Contacts_Anniversary:
    case EAS_Tasks_DateCompleted:
    case EAS_Tasks_DueDate:
    case EAS_Tasks_UtcDueDate:
    case EAS_Tasks_StartDate:
    case EAS_Tasks_UtcStartDate:
    case EAS_Tasks_ReminderTime:
    case EAS_Tasks_OrdinalDate:
    case EAS_Notes_LastModifiedDate:
        if (!time_ok(s, NULL)) {
            *why = "invalid date-time";
            return 0;
        }
        return 1;
    case EAS_Calendar_AllDayEvent:
    case EAS_Calendar_Deleted:
    case EAS_Calendar_ResponseRequested:
    case EAS_Calendar_DisallowNewTimeProposal:
    case EAS_Tasks_Complete:
    case EAS_Tasks_ReminderSet:
        if (!int_in(s, 0, 1, NULL)) {
            *why = "invalid boolean";
            return 0;
        }
        return 1;
    case EAS_Calendar_BusyStatus:
        if (!int_in(s, 0, 5, NULL)) {
            *why = "invalid BusyStatus";
            return 0;
        }
        return 1;
    case EAS_Calendar_Sensitivity:
    case EAS_Tasks_Sensitivity:
        if (!int_in(s, 0, 3, NULL)) {
            *why = "invalid Sensitivity";
            return 0;
        }
        return 1;
    case EAS_Tasks_Importance:
        if (!int_in(s, 0, 2, NULL)) {
            *why = "invalid Importance";
            return 0;
        }
        return 1;
    case EAS_Calendar_MeetingStatus: {
        long v;
        if (!int_in(s, 0, 15, &v) || (v != 0 && !(v & 1))) {
            *why = "invalid MeetingStatus";
            return 0;
        }
        return 1;
    }
    case EAS_Calendar_Reminder:
        if (!int_in(s, 0, 2147483647L, NULL)) {
            *why = "invalid Reminder";
            return 0;
        }
        return 1;
    case EAS_Calendar_ResponseType:
        if (!int_in(s, 0, 5, NULL)) {
            *why = "invalid ResponseType";
            return 0;
        }
        return 1;
    case EAS_Calendar_Recurrence:
    case EAS_Tasks_Recurrence:
        return parse_recurrence(n, t == EAS_Tasks_Recurrence, &r, why) == APR_SUCCESS;
    case EAS_Contacts_Picture:
        /* MS-ASCNTC 2.2.2.56: at most 48 KB of picture (base64 text) */
        if (n->len > 64 * 1024) {
            *why = "Picture larger than 48 KB";
            return 0;
        }
        return 1;
    default:
        (void)k;
        return 1;
    }
}

/* ---- client -> neutral ------------------------------------------------ */

static eas_tag_t class_body_tag(cls_e k)
{
    return k == CLS_CONTACTS ? EAS_Contacts_Body
         : k == CLS_CALENDAR ? EAS_Calendar_Body
         : k == CLS_TASKS ? EAS_Tasks_Body : EAS_TAG_NONE;
}

static int is_class_body_extra(eas_tag_t t)
{
    return t == EAS_Contacts_BodySize || t == EAS_Contacts_BodyTruncated ||
           t == EAS_Calendar_BodyTruncated || t == EAS_Tasks_BodySize ||
           t == EAS_Tasks_BodyTruncated;
}

/* Calendar:Location "x" -> AirSyncBase:Location{DisplayName x} */
static eas_node_t *neutral_location(apr_pool_t *p, const eas_node_t *n)
{
    eas_node_t *loc = nnew(p, EAS_AirSyncBase_Location, NULL);

    nappend(loc, nnew(p, EAS_AirSyncBase_DisplayName, n->text));
    return loc;
}

/* An Exception as a client of any version sends it -> neutral form. */
static apr_status_t neutral_exception(apr_pool_t *p, const eas_node_t *ex, eas_node_t **out,
                                      const char **why)
{
    eas_node_t *e = nnew(p, EAS_Calendar_Exception, NULL);
    const eas_node_t *c;
    int named = 0;

    for (c = ex->first; c; c = c->next) {
        if (c->tag == EAS_Calendar_ExceptionStartTime || c->tag == EAS_AirSyncBase_InstanceId) {
            if (!time_ok(c->text, NULL)) {
                *why = "invalid ExceptionStartTime";
                return APR_EINVAL;
            }
            nset(e, nnew(p, EAS_Calendar_ExceptionStartTime, c->text));
            named = 1;
        }
        else if (c->tag == EAS_Calendar_Location) {
            nset(e, neutral_location(p, c));
        }
        else if (c->tag == EAS_Calendar_Body) {
            eas_node_t *b = nnew(p, EAS_AirSyncBase_Body, NULL);
            nappend(b, nnew(p, EAS_AirSyncBase_Type, "1"));
            nappend(b, nnew(p, EAS_AirSyncBase_Data, c->text));
            nset(e, b);
        }
        else if (c->tag == EAS_AirSyncBase_Body) {
            eas_node_t *b = nnew(p, EAS_AirSyncBase_Body, NULL);
            const char *type = eas_node_child_text(c, EAS_AirSyncBase_Type);
            nappend(b, nnew(p, EAS_AirSyncBase_Type, type && int_in(type, 1, 3, NULL) ? type : "1"));
            nappend(b, nnew(p, EAS_AirSyncBase_Data, eas_node_child_text(c, EAS_AirSyncBase_Data)));
            nset(e, b);
        }
        else if (c->tag == EAS_AirSyncBase_Location) {
            nset(e, ncopy(p, c));
        }
        else if (EAS_TAG_PAGE(c->tag) == PAGE_CALENDAR && c->tag != EAS_Calendar_BodyTruncated &&
                 c->tag != EAS_Calendar_Exceptions && c->tag != EAS_Calendar_Recurrence &&
                 c->tag != EAS_Calendar_Timezone && c->tag != EAS_Calendar_UID) {
            if (!check_value(CLS_CALENDAR, c, why))
                return APR_EINVAL;
            nset(e, ncopy(p, c));
        }
    }
    if (!named) {
        *why = "Exception without ExceptionStartTime";
        return APR_EINVAL;
    }
    *out = e;
    return APR_SUCCESS;
}

static apr_status_t neutral_exceptions(apr_pool_t *p, const eas_node_t *n, eas_node_t **out,
                                       const char **why)
{
    eas_node_t *exs = nnew(p, EAS_Calendar_Exceptions, NULL);
    const eas_node_t *c;
    int count = 0;
    apr_status_t rv;

    for (c = n->first; c; c = c->next) {
        eas_node_t *e;
        if (c->tag != EAS_Calendar_Exception)
            continue;
        /* MS-ASCAL 2.2.2.21: at most 256 exceptions */
        if (++count > 256) {
            *why = "more than 256 exceptions";
            return APR_EINVAL;
        }
        if ((rv = neutral_exception(p, c, &e, why)) != APR_SUCCESS)
            return rv;
        nappend(exs, e);
    }
    *out = exs;
    return APR_SUCCESS;
}

apr_status_t eas_pim_from_client(apr_pool_t *p, const char *cls, int version,
                                 const eas_node_t *appdata, eas_pim_item_t *item,
                                 const char **why)
{
    cls_e k = cls_of(cls);
    const eas_node_t *c;
    eas_node_t *props;
    apr_status_t rv;

    (void)version;
    memset(item, 0, sizeof(*item));
    item->cls = cls;
    item->complete = -1;
    *why = NULL;
    if (k == CLS_NONE) {
        *why = "not a PIM class";
        return APR_EINVAL;
    }
    props = item->props = nnew(p, EAS_AirSync_ApplicationData, NULL);
    for (c = appdata->first; c; c = c->next) {
        if (c->tag == EAS_AirSyncBase_Body) {
            const char *type = eas_node_child_text(c, EAS_AirSyncBase_Type);
            const eas_node_t *data = eas_node_child(c, EAS_AirSyncBase_Data);
            long tv = 1;
            if (type && !int_in(type, 1, 3, &tv)) {
                *why = "body Type other than 1, 2 or 3";
                return APR_EINVAL;
            }
            /* A body the client itself only has truncated is no new body. */
            if (eas_node_child_text(c, EAS_AirSyncBase_Truncated) &&
                !strcmp(eas_node_child_text(c, EAS_AirSyncBase_Truncated), "1"))
                continue;
            item->has_body = 1;
            item->body_type = (int)tv;
            item->body = data ? data->text : "";
            item->body_len = data ? data->len : 0;
        }
        else if (c->tag == class_body_tag(k)) {
            const char *trunc = eas_node_child_text(appdata, k == CLS_CONTACTS
                                                                 ? EAS_Contacts_BodyTruncated
                                                             : k == CLS_CALENDAR
                                                                 ? EAS_Calendar_BodyTruncated
                                                                 : EAS_Tasks_BodyTruncated);
            if (trunc && !strcmp(trunc, "1"))
                continue;
            item->has_body = 1;
            item->body_type = 1;
            item->body = c->text;
            item->body_len = c->len;
        }
        else if (is_class_body_extra(c->tag) || c->tag == EAS_AirSyncBase_NativeBodyType) {
            continue;
        }
        else if (k == CLS_CALENDAR && c->tag == EAS_Calendar_Location) {
            nset(props, neutral_location(p, c));
        }
        else if (k == CLS_CALENDAR && c->tag == EAS_AirSyncBase_Location) {
            nset(props, ncopy(p, c));
        }
        else if (k == CLS_CALENDAR && c->tag == EAS_Calendar_Exceptions) {
            eas_node_t *exs;
            if ((rv = neutral_exceptions(p, c, &exs, why)) != APR_SUCCESS)
                return rv;
            nset(props, exs);
        }
        else if (page_of_class(k, EAS_TAG_PAGE(c->tag))) {
            if (!check_value(k, c, why))
                return APR_EINVAL;
            nset(props, ncopy(p, c));
        }
        /* anything else (another class's elements, attachments) is dropped */
    }
    if (item->has_body && item->body_type == 0)
        item->body_type = 1;
    return eas_pim_derive(p, item, why);
}

/* ---- derived fields ----------------------------------------------------- */

static const char *child_text(const eas_node_t *n, eas_tag_t tag)
{
    const char *s = eas_node_child_text(n, tag);

    return s && *s ? s : NULL;
}

static apr_status_t item_zone(apr_pool_t *p, const eas_node_t *props, eas_tz_t **tz)
{
    const char *b64 = child_text(props, EAS_Calendar_Timezone);
    eas_tzinfo_t tzi;

    if (b64 && eas_tzinfo_decode(b64, &tzi, NULL) == APR_SUCCESS)
        return eas_tz_from_rules(p, &tzi, tz);
    return eas_tz_open(p, "UTC", tz);
}

/* The deleted occurrences (Exception Deleted=1) as apr_time_t. */
static apr_array_header_t *deleted_occurrences(apr_pool_t *p, const eas_node_t *props)
{
    apr_array_header_t *skip = apr_array_make(p, 4, sizeof(apr_time_t));
    const eas_node_t *exs = eas_node_child(props, EAS_Calendar_Exceptions), *e;

    for (e = exs ? exs->first : NULL; e; e = e->next) {
        apr_time_t t;
        const char *d = eas_node_child_text(e, EAS_Calendar_Deleted);
        if (d && !strcmp(d, "1") &&
            time_ok(eas_node_child_text(e, EAS_Calendar_ExceptionStartTime), &t))
            APR_ARRAY_PUSH(skip, apr_time_t) = t;
    }
    return skip;
}

/* Start of the last occurrence of a bounded series; *found 0 when none. */
static apr_status_t last_occurrence(apr_pool_t *p, const eas_recur_t *r,
                                    const eas_walltime_t *dtstart, eas_tz_t *tz,
                                    apr_time_t start, apr_interval_time_t duration,
                                    const apr_array_header_t *skip, apr_time_t *last, int *found)
{
    static const apr_interval_time_t day = APR_TIME_C(86400) * APR_USEC_PER_SEC;
    apr_array_header_t *occ;
    apr_time_t from, to;
    apr_status_t rv;
    int tail;

    *found = 0;
    to = r->has_until ? r->until + duration + 1 : start + 1100 * 366 * day;
    /* A bounded tail first (cheap for long daily series), then everything. */
    for (tail = r->has_until ? 0 : 1; tail < 2; tail++) {
        from = tail == 0 ? r->until - 800 * day : start;
        if (from < start)
            from = start;
        rv = eas_recur_expand(p, r, dtstart, tz, 0, from, to, skip, 100000, &occ);
        if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
            return rv;
        if (occ->nelts) {
            *last = APR_ARRAY_IDX(occ, occ->nelts - 1, eas_occurrence_t).start;
            *found = 1;
            return APR_SUCCESS;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t derive_calendar(apr_pool_t *p, eas_pim_item_t *item, const char **why)
{
    const eas_node_t *props = item->props, *rn, *exs, *e;
    apr_time_t start, end;
    apr_status_t rv;

    item->uid = child_text(props, EAS_Calendar_UID);
    if (!time_ok(child_text(props, EAS_Calendar_StartTime), &start))
        return APR_SUCCESS;   /* no window without a start: always inside */
    item->has_start = 1;
    item->start = start;
    if (!time_ok(child_text(props, EAS_Calendar_EndTime), &end))
        end = start;
    if (end < start) {
        *why = "EndTime before StartTime";
        return APR_EINVAL;
    }
    item->has_end = 1;
    item->end = end;
    if ((rn = eas_node_child(props, EAS_Calendar_Recurrence))) {
        eas_recur_t r;
        eas_walltime_t dtstart;
        eas_tz_t *tz;
        apr_time_t last;
        int found;

        if ((rv = parse_recurrence(rn, 0, &r, why)) != APR_SUCCESS)
            return rv;
        if (!r.occurrences && !r.has_until) {
            item->has_end = 0;  /* the series never ends */
            return APR_SUCCESS;
        }
        if ((rv = item_zone(p, props, &tz)) != APR_SUCCESS ||
            (rv = eas_tz_utc_to_local(tz, start, &dtstart, NULL)) != APR_SUCCESS) {
            *why = "time zone unusable";
            return APR_EINVAL;
        }
        rv = last_occurrence(p, &r, &dtstart, tz, start, end - start,
                             deleted_occurrences(p, props), &last, &found);
        if (rv != APR_SUCCESS) {
            *why = "recurrence cannot be expanded";
            return APR_EINVAL;
        }
        if (found && last + (end - start) > item->end)
            item->end = last + (end - start);
    }
    /* An exception moved after the series' end keeps the item in the window. */
    exs = eas_node_child(props, EAS_Calendar_Exceptions);
    for (e = exs ? exs->first : NULL; e; e = e->next) {
        apr_time_t t;
        if (time_ok(child_text(e, EAS_Calendar_EndTime), &t) && t > item->end)
            item->end = t;
    }
    return APR_SUCCESS;
}

apr_status_t eas_pim_derive(apr_pool_t *p, eas_pim_item_t *item, const char **why)
{
    const eas_node_t *props = item->props;
    const char *s;
    apr_time_t t;

    item->subject = NULL;
    item->uid = NULL;
    item->has_start = item->has_end = item->has_due = 0;
    item->complete = -1;
    switch (cls_of(item->cls)) {
    case CLS_CONTACTS:
        if (!(item->subject = child_text(props, EAS_Contacts_FileAs))) {
            const char *first = child_text(props, EAS_Contacts_FirstName);
            const char *last = child_text(props, EAS_Contacts_LastName);
            if (first || last)
                item->subject = apr_pstrcat(p, first ? first : "", first && last ? " " : "",
                                            last ? last : "", NULL);
            else if (!(item->subject = child_text(props, EAS_Contacts_CompanyName)))
                item->subject = child_text(props, EAS_Contacts_Email1Address);
        }
        return APR_SUCCESS;
    case CLS_CALENDAR:
        item->subject = child_text(props, EAS_Calendar_Subject);
        return derive_calendar(p, item, why);
    case CLS_TASKS:
        item->subject = child_text(props, EAS_Tasks_Subject);
        s = child_text(props, EAS_Tasks_Complete);
        item->complete = s && !strcmp(s, "1");
        if (time_ok(child_text(props, EAS_Tasks_UtcDueDate), &t)) {
            item->has_due = 1;
            item->due = t;
        }
        if (time_ok(child_text(props, EAS_Tasks_UtcStartDate), &t)) {
            item->has_start = 1;
            item->start = t;
        }
        return APR_SUCCESS;
    case CLS_NOTES:
        item->subject = child_text(props, EAS_Notes_Subject);
        return APR_SUCCESS;
    default:
        *why = "not a PIM class";
        return APR_EINVAL;
    }
}

/* ---- Change ----------------------------------------------------------- */

static int in_list(const apr_array_header_t *tags, eas_tag_t tag)
{
    int i;

    for (i = 0; i < tags->nelts; i++)
        if (APR_ARRAY_IDX(tags, i, eas_tag_t) == tag)
            return 1;
    return 0;
}

/* Whether a stored property the client did not send survives its Change. */
static int kept(cls_e k, eas_tag_t tag, int version, const apr_array_header_t *supported)
{
    if (tag == EAS_Calendar_UID)
        return 1;
    if (k != CLS_CONTACTS && k != CLS_CALENDAR)
        return 0;
    /* MS-ASCAL 3.1.5.3: from 16.0 every calendar property not sent is ghosted */
    if (k == CLS_CALENDAR && version >= 160)
        return 1;
    /* Supported names the client's elements; Calendar:Location also
     * stands for the neutral AirSyncBase:Location. */
    if (!supported)
        return 0;
    if (tag == EAS_AirSyncBase_Location)
        return !in_list(supported, EAS_AirSyncBase_Location) &&
               !in_list(supported, EAS_Calendar_Location);
    return !in_list(supported, tag);
}

apr_status_t eas_pim_merge(apr_pool_t *p, const eas_pim_item_t *stored,
                           const eas_pim_item_t *change, int version,
                           const apr_array_header_t *supported, eas_pim_item_t *out,
                           const char **why)
{
    cls_e k = cls_of(stored->cls);
    const eas_node_t *s, *c;
    eas_node_t *props = nnew(p, EAS_AirSync_ApplicationData, NULL);
    int drop_exceptions = 0;

    *out = *stored;
    out->props = props;
    if (k == CLS_CALENDAR && version >= 160) {
        /* MS-ASCAL 2.2.2.22: 16.x clients never send exceptions in a
         * Change; a new pattern or new series times drop them. */
        static const eas_tag_t series[] = {EAS_Calendar_Recurrence, EAS_Calendar_StartTime,
                                           EAS_Calendar_EndTime};
        unsigned i;
        for (i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
            const eas_node_t *nc = eas_node_child(change->props, series[i]);
            if (nc && !nequal(nc, eas_node_child(stored->props, series[i])))
                drop_exceptions = 1;
        }
    }
    for (s = stored->props->first; s; s = s->next) {
        if (eas_node_child(change->props, s->tag))
            continue;
        if (s->tag == EAS_Calendar_Exceptions && k == CLS_CALENDAR && version >= 160) {
            if (!drop_exceptions)
                nappend(props, ncopy(p, s));
        }
        else if (kept(k, s->tag, version, supported)) {
            nappend(props, ncopy(p, s));
        }
    }
    for (c = change->props->first; c; c = c->next) {
        if (c->tag == EAS_Calendar_UID && eas_node_child(stored->props, EAS_Calendar_UID))
            nappend(props, ncopy(p, eas_node_child(stored->props, EAS_Calendar_UID)));
        else
            nappend(props, ncopy(p, c));
    }
    if (change->has_body) {
        out->has_body = 1;
        out->body = change->body;
        out->body_len = change->body_len;
        out->body_type = change->body_type;
    }
    return eas_pim_derive(p, out, why);
}

/* ---- 16.x instances ----------------------------------------------------- */

/* Elements an Exception may carry (MS-ASCAL 2.2.2.21). */
static int exception_child(eas_tag_t t)
{
    switch (t) {
    case EAS_Calendar_Subject:
    case EAS_Calendar_StartTime:
    case EAS_Calendar_EndTime:
    case EAS_Calendar_Categories:
    case EAS_Calendar_Sensitivity:
    case EAS_Calendar_BusyStatus:
    case EAS_Calendar_AllDayEvent:
    case EAS_Calendar_Reminder:
    case EAS_Calendar_DtStamp:
    case EAS_Calendar_MeetingStatus:
    case EAS_Calendar_Attendees:
    case EAS_Calendar_AppointmentReplyTime:
    case EAS_Calendar_ResponseType:
    case EAS_Calendar_OnlineMeetingConfLink:
    case EAS_Calendar_OnlineMeetingExternalLink:
    case EAS_AirSyncBase_Location:
        return 1;
    default:
        return 0;
    }
}

apr_status_t eas_pim_instance(apr_pool_t *p, const eas_pim_item_t *stored,
                              const char *instance_id, const eas_pim_item_t *change,
                              eas_pim_item_t *out, int *status)
{
    const eas_node_t *rn = eas_node_child(stored->props, EAS_Calendar_Recurrence), *s, *old = NULL;
    eas_node_t *props, *exs, *e;
    apr_time_t original, start, t;
    eas_walltime_t dtstart;
    eas_recur_t r;
    eas_tz_t *tz;
    const char *why;

    *status = EAS_SYNC_NOT_FOUND;
    if (cls_of(stored->cls) != CLS_CALENDAR || !rn || !time_ok(instance_id, &original) ||
        !time_ok(child_text(stored->props, EAS_Calendar_StartTime), &start) ||
        parse_recurrence(rn, 0, &r, &why) != APR_SUCCESS ||
        item_zone(p, stored->props, &tz) != APR_SUCCESS ||
        eas_tz_utc_to_local(tz, start, &dtstart, NULL) != APR_SUCCESS)
        return APR_SUCCESS;

    /* An existing exception may be edited again even where it was moved. */
    exs = nnew(p, EAS_Calendar_Exceptions, NULL);
    s = eas_node_child(stored->props, EAS_Calendar_Exceptions);
    for (s = s ? s->first : NULL; s; s = s->next) {
        if (time_ok(eas_node_child_text(s, EAS_Calendar_ExceptionStartTime), &t) &&
            t == original)
            old = s;
        else
            nappend(exs, ncopy(p, s));
    }
    if (!old && eas_recur_find(&r, &dtstart, tz, original) != APR_SUCCESS)
        return APR_SUCCESS;

    e = nnew(p, EAS_Calendar_Exception, NULL);
    nappend(e, nnew(p, EAS_Calendar_ExceptionStartTime, eas_time_format_compact(p, original)));
    if (!change) {
        nappend(e, nnew(p, EAS_Calendar_Deleted, "1"));
    }
    else {
        const eas_node_t *c;
        if (old)
            for (c = old->first; c; c = c->next)
                if (c->tag != EAS_Calendar_ExceptionStartTime && c->tag != EAS_Calendar_Deleted &&
                    !eas_node_child(change->props, c->tag) &&
                    !(c->tag == EAS_AirSyncBase_Body && change->has_body))
                    nappend(e, ncopy(p, c));
        for (c = change->props->first; c; c = c->next)
            if (exception_child(c->tag))
                nappend(e, ncopy(p, c));
        if (change->has_body) {
            eas_node_t *b = nnew(p, EAS_AirSyncBase_Body, NULL);
            nappend(b, nnew(p, EAS_AirSyncBase_Type, apr_itoa(p, change->body_type)));
            nappend(b, nnew(p, EAS_AirSyncBase_Data,
                            apr_pstrmemdup(p, change->body, change->body_len)));
            nappend(e, b);
        }
    }
    nappend(exs, e);

    props = nnew(p, EAS_AirSync_ApplicationData, NULL);
    for (s = stored->props->first; s; s = s->next)
        if (s->tag != EAS_Calendar_Exceptions)
            nappend(props, ncopy(p, s));
    nappend(props, exs);
    *out = *stored;
    out->props = props;
    out->has_body = 0;
    if (eas_pim_derive(p, out, &why) != APR_SUCCESS) {
        *status = EAS_SYNC_CONVERSION;
        return APR_SUCCESS;
    }
    *status = EAS_SYNC_OK;
    return APR_SUCCESS;
}

/* ---- storage ----------------------------------------------------------- */

const char *eas_pim_encode(apr_pool_t *p, const eas_node_t *props, apr_size_t *len)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(p, NULL, NULL);
    const char *data;

    eas_wbxml_node(w, props);
    if (eas_wbxml_finish(w, &data, len) != APR_SUCCESS)
        return NULL;
    return data;
}

apr_status_t eas_pim_decode(apr_pool_t *p, const char *bytes, apr_size_t len,
                            eas_node_t **props)
{
    static const eas_wbxml_limits_t limits = {64, 10000000, 0};

    if (!bytes || eas_wbxml_decode(p, bytes, len, &limits, props, NULL) != EAS_WBXML_OK ||
        (*props)->tag != EAS_AirSync_ApplicationData)
        return APR_EGENERAL;
    return APR_SUCCESS;
}

/* ---- bodies -------------------------------------------------------------- */

static void buf_add(char **b, apr_size_t *len, apr_size_t *cap, apr_pool_t *p, const char *s,
                    apr_size_t n)
{
    if (*len + n + 1 > *cap) {
        apr_size_t nc = (*cap ? *cap * 2 : 256);
        char *nb;
        while (nc < *len + n + 1)
            nc *= 2;
        nb = apr_palloc(p, nc);
        if (*len)
            memcpy(nb, *b, *len);
        *b = nb;
        *cap = nc;
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = '\0';
}

static apr_size_t utf8_put(char *out, unsigned long cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int tag_is(const char *tag, apr_size_t n, const char *name)
{
    return strlen(name) == n && !strncasecmp(tag, name, n);
}

char *eas_pim_html_to_text(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t *out_len)
{
    static const char *const entities[][2] = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "}};
    char *out = NULL;
    apr_size_t n = 0, cap = 0, i = 0;
    int space = 0;

    buf_add(&out, &n, &cap, p, "", 0);
    while (i < len) {
        char ch = html[i];
        if (ch == '<') {
            apr_size_t j = i + 1, name_start, name_len;
            int closing = 0;
            if (len - i >= 4 && !strncmp(html + i, "<!--", 4)) {
                const char *end = NULL;
                for (j = i + 4; j + 2 < len; j++)
                    if (!strncmp(html + j, "-->", 3)) {
                        end = html + j;
                        break;
                    }
                i = end ? (apr_size_t)(end - html) + 3 : len;
                continue;
            }
            if (j < len && html[j] == '/') {
                closing = 1;
                j++;
            }
            name_start = j;
            while (j < len && (apr_isalnum(html[j])))
                j++;
            name_len = j - name_start;
            while (j < len && html[j] != '>')
                j++;
            i = j < len ? j + 1 : len;
            if (!closing && (tag_is(html + name_start, name_len, "script") ||
                             tag_is(html + name_start, name_len, "style") ||
                             tag_is(html + name_start, name_len, "head"))) {
                /* skip to the matching end tag */
                const char *endname = apr_pstrmemdup(p, html + name_start, name_len);
                apr_size_t k;
                for (k = i; k + 2 + name_len < len; k++)
                    if (html[k] == '<' && html[k + 1] == '/' &&
                        !strncasecmp(html + k + 2, endname, name_len))
                        break;
                i = k;
                while (i < len && html[i] != '>')
                    i++;
                if (i < len)
                    i++;
                continue;
            }
            if (tag_is(html + name_start, name_len, "br") ||
                (closing && (tag_is(html + name_start, name_len, "p") ||
                             tag_is(html + name_start, name_len, "div") ||
                             tag_is(html + name_start, name_len, "tr") ||
                             tag_is(html + name_start, name_len, "li") ||
                             tag_is(html + name_start, name_len, "h1") ||
                             tag_is(html + name_start, name_len, "h2") ||
                             tag_is(html + name_start, name_len, "h3") ||
                             tag_is(html + name_start, name_len, "table")))) {
                buf_add(&out, &n, &cap, p, "\n", 1);
                space = 0;
            }
            else if (tag_is(html + name_start, name_len, "td") ||
                     tag_is(html + name_start, name_len, "th")) {
                if (n && out[n - 1] != '\n')
                    space = 1;  /* table cells stay apart */
            }
            continue;
        }
        if (ch == '&') {
            apr_size_t j = i + 1;
            char tmp[8];
            while (j < len && j - i < 12 && html[j] != ';' && !apr_isspace(html[j]))
                j++;
            if (j < len && html[j] == ';') {
                const char *ent = html + i + 1;
                apr_size_t elen = j - i - 1;
                unsigned k;
                int done = 0;
                if (elen > 1 && ent[0] == '#') {
                    unsigned long cp = (ent[1] == 'x' || ent[1] == 'X')
                                           ? strtoul(apr_pstrmemdup(p, ent + 2, elen - 2), NULL, 16)
                                           : strtoul(apr_pstrmemdup(p, ent + 1, elen - 1), NULL, 10);
                    if (space) {
                        buf_add(&out, &n, &cap, p, " ", 1);
                        space = 0;
                    }
                    buf_add(&out, &n, &cap, p, tmp, utf8_put(tmp, cp));
                    done = 1;
                }
                for (k = 0; !done && k < sizeof(entities) / sizeof(entities[0]); k++)
                    if (tag_is(ent, elen, entities[k][0])) {
                        if (space) {
                            buf_add(&out, &n, &cap, p, " ", 1);
                            space = 0;
                        }
                        buf_add(&out, &n, &cap, p, entities[k][1], strlen(entities[k][1]));
                        done = 1;
                    }
                if (done) {
                    i = j + 1;
                    continue;
                }
            }
        }
        if (apr_isspace(ch)) {
            if (n && out[n - 1] != '\n')
                space = 1;
            i++;
            continue;
        }
        if (space) {
            buf_add(&out, &n, &cap, p, " ", 1);
            space = 0;
        }
        buf_add(&out, &n, &cap, p, &html[i], 1);
        i++;
    }
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    *out_len = n;
    return out;
}

char *eas_pim_text_to_html(apr_pool_t *p, const char *text, apr_size_t len, apr_size_t *out_len)
{
    char *out = NULL;
    apr_size_t n = 0, cap = 0, i;

    buf_add(&out, &n, &cap, p, "<html><body>", 12);
    for (i = 0; i < len; i++) {
        switch (text[i]) {
        case '&': buf_add(&out, &n, &cap, p, "&amp;", 5); break;
        case '<': buf_add(&out, &n, &cap, p, "&lt;", 4); break;
        case '>': buf_add(&out, &n, &cap, p, "&gt;", 4); break;
        case '"': buf_add(&out, &n, &cap, p, "&quot;", 6); break;
        case '\r': break;
        case '\n': buf_add(&out, &n, &cap, p, "<br>\n", 5); break;
        default: buf_add(&out, &n, &cap, p, &text[i], 1); break;
        }
    }
    buf_add(&out, &n, &cap, p, "</body></html>", 14);
    *out_len = n;
    return out;
}

/* The longest prefix of at most max bytes that ends on a character. */
static apr_size_t utf8_cut(const char *s, apr_size_t len, apr_size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* Bytes of the first max characters. */
static apr_size_t utf8_chars(const char *s, apr_size_t len, apr_size_t max)
{
    apr_size_t i = 0, chars = 0;

    while (i < len && chars < max) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    return i;
}

/* The body in type want (1 or 2) from the stored one. */
static const char *body_as(apr_pool_t *p, const eas_pim_item_t *item, int want, apr_size_t *len)
{
    if (item->body_type == want || want == 3) {
        *len = item->body_len;
        return item->body;
    }
    if (want == 1)
        return eas_pim_html_to_text(p, item->body, item->body_len, len);
    return eas_pim_text_to_html(p, item->body, item->body_len, len);
}

static void write_body_25(eas_wbxml_writer_t *w, apr_pool_t *p, const eas_pim_item_t *item,
                          const eas_sync_options_t *opts)
{
    /* MS-ASCMD 2.2.3.185: characters kept per Truncation value */
    static const long limits[] = {0, 512, 1024, 2048, 5120, 10240, 20480, 51200, 102400};
    cls_e k = cls_of(item->cls);
    eas_tag_t body_tag = class_body_tag(k), trunc_tag;
    apr_size_t len, keep;
    const char *text;

    if (body_tag == EAS_TAG_NONE || item->body_type == 3)
        return;
    text = body_as(p, item, 1, &len);
    keep = len;
    if (opts->truncation >= 0 && opts->truncation < 9)
        keep = utf8_chars(text, len, (apr_size_t)limits[opts->truncation]);
    trunc_tag = k == CLS_CONTACTS ? EAS_Contacts_BodyTruncated
              : k == CLS_CALENDAR ? EAS_Calendar_BodyTruncated : EAS_Tasks_BodyTruncated;
    if (keep)
        eas_wbxml_textn(w, body_tag, text, keep);
    eas_wbxml_text(w, trunc_tag, keep < len ? "1" : "0");
}

static void write_body_asb(eas_wbxml_writer_t *w, apr_pool_t *p, const eas_pim_item_t *item,
                           int version, const eas_sync_options_t *opts)
{
    const eas_body_pref_t *pref = NULL;
    apr_size_t len, keep;
    const char *data;
    int i, type;

    for (i = 0; i < opts->n_body_prefs && !pref; i++) {
        int t = opts->body_prefs[i].type;
        if (((t == 1 || t == 2) && item->body_type != 3) || (t == 3 && item->body_type == 3))
            pref = &opts->body_prefs[i];
    }
    if (!pref && item->body_type == 3)
        return;   /* RTF nobody asked for, and no way to convert it */
    type = pref ? pref->type : 1;
    data = body_as(p, item, type, &len);
    keep = len;
    if (pref && pref->has_truncation && len > pref->truncation)
        keep = utf8_cut(data, len, pref->truncation);
    eas_wbxml_start(w, EAS_AirSyncBase_Body);
    eas_wbxml_textf(w, EAS_AirSyncBase_Type, "%d", type);
    eas_wbxml_textf(w, EAS_AirSyncBase_EstimatedDataSize, "%" APR_SIZE_T_FMT, len);
    if (keep < len)
        eas_wbxml_text(w, EAS_AirSyncBase_Truncated, "1");
    /* MS-ASAIRS 2.2.2.3.2: AllOrNone and too large: no data at all */
    if (!(keep < len && pref->all_or_none) && keep)
        eas_wbxml_textn(w, EAS_AirSyncBase_Data, data, keep);
    if (version >= 140 && pref && pref->preview > 0) {
        apr_size_t plen;
        const char *plain = body_as(p, item, 1, &plen);
        eas_wbxml_textn(w, EAS_AirSyncBase_Preview, plain,
                        utf8_chars(plain, plen, (apr_size_t)pref->preview));
    }
    eas_wbxml_end(w);
}

/* One stored element as the client's version has it. */
static void write_prop(eas_wbxml_writer_t *w, apr_pool_t *p, const eas_node_t *n, int version)
{
    const eas_node_t *c;

    if (n->tag == EAS_AirSyncBase_Location && version < 160) {
        const char *name = eas_node_child_text(n, EAS_AirSyncBase_DisplayName);
        eas_wbxml_text(w, EAS_Calendar_Location, name ? name : "");
        return;
    }
    if (n->tag == EAS_Calendar_ExceptionStartTime && version >= 160) {
        eas_wbxml_text(w, EAS_AirSyncBase_InstanceId, n->text);
        return;
    }
    if (n->tag == EAS_AirSyncBase_Body && n->parent &&
        n->parent->tag == EAS_Calendar_Exception) {
        /* an exception's own body */
        const char *type = eas_node_child_text(n, EAS_AirSyncBase_Type);
        const eas_node_t *data = eas_node_child(n, EAS_AirSyncBase_Data);
        if (version < 120) {
            if (data && (!type || !strcmp(type, "1")))
                eas_wbxml_textn(w, EAS_Calendar_Body, data->text, data->len);
            return;
        }
        eas_wbxml_start(w, EAS_AirSyncBase_Body);
        eas_wbxml_text(w, EAS_AirSyncBase_Type, type ? type : "1");
        eas_wbxml_textf(w, EAS_AirSyncBase_EstimatedDataSize, "%" APR_SIZE_T_FMT,
                        data ? data->len : 0);
        if (data && data->len)
            eas_wbxml_textn(w, EAS_AirSyncBase_Data, data->text, data->len);
        eas_wbxml_end(w);
        return;
    }
    if (!tag_in_version(n->tag, version))
        return;
    if (!n->first) {
        if (n->opaque)
            eas_wbxml_opaque(w, n->tag, n->text, n->len);
        else
            eas_wbxml_textn(w, n->tag, n->text, n->len);
        return;
    }
    eas_wbxml_start(w, n->tag);
    for (c = n->first; c; c = c->next)
        write_prop(w, p, c, version);
    eas_wbxml_end(w);
    (void)p;
}

void eas_pim_write(eas_wbxml_writer_t *w, apr_pool_t *p, const eas_pim_item_t *item,
                   int version, const eas_sync_options_t *opts)
{
    const eas_node_t *n;

    eas_wbxml_start(w, EAS_AirSync_ApplicationData);
    for (n = item->props->first; n; n = n->next)
        write_prop(w, p, n, version);
    if (item->body && item->body_len) {
        if (version < 120)
            write_body_25(w, p, item, opts);
        else
            write_body_asb(w, p, item, version, opts);
    }
    eas_wbxml_end(w);
}

/* ---- the provider: eas.items ------------------------------------------- */

#define B64(col) "translate(encode(" col ", 'base64'), E'\\n', '')"

static const char *i64s(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

static const char *b64(apr_pool_t *p, const char *data, apr_size_t len)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));

    apr_base64_encode(out, data, (int)len);
    return out;
}

static const char *time_param(apr_pool_t *p, int has, apr_time_t t)
{
    return has ? eas_time_format(p, t) : NULL;
}

/* An item from its stored columns; APR_EGENERAL for unreadable props. */
static apr_status_t item_from_row(apr_pool_t *p, const char *cls, const char *props_b64,
                                  const char *body, const char *body_type, eas_pim_item_t *it)
{
    apr_size_t len;
    char *bytes;

    memset(it, 0, sizeof(*it));
    it->cls = cls;
    it->complete = -1;
    if (!props_b64)
        return APR_EGENERAL;
    bytes = apr_palloc(p, (apr_size_t)apr_base64_decode_len(props_b64) + 1);
    len = (apr_size_t)apr_base64_decode(bytes, props_b64);
    if (eas_pim_decode(p, bytes, len, &it->props) != APR_SUCCESS)
        return APR_EGENERAL;
    if (body) {
        it->body = body;
        it->body_len = strlen(body);
        it->body_type = body_type ? atoi(body_type) : 1;
    }
    return APR_SUCCESS;
}

/* Stored row of an item of this folder: NULL rows when there is none. */
static apr_status_t select_item(eas_sync_coll_t *c, apr_int64_t item, eas_db_rows_t **rows)
{
    return eas_db_select(c->req->db, c->pool, rows,
                         "SELECT seq, deleted, " B64("props") ", body, body_type FROM eas.items "
                         "WHERE id = %s::bigint AND folder_id = %s::bigint",
                         EAS_DB_ARGS(i64s(c->pool, item), c->folder->id));
}

static void log_refused(eas_sync_coll_t *c, const char *what, const char *why)
{
    eas_log_printf(c->req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                   EASLOGNO(01510) "Sync %s from %s/%s in folder %s refused (Status 6): %s", what,
                   c->req->login, c->req->device->device_id, c->folder->id, why);
}

static apr_status_t store(eas_sync_coll_t *c, const eas_pim_item_t *it, apr_int64_t item,
                          apr_int64_t *id, apr_int64_t *seq)
{
    apr_pool_t *p = c->pool;
    eas_db_rows_t *rows;
    apr_size_t len;
    const char *props = eas_pim_encode(p, it->props, &len), *body = NULL, *type = NULL;
    const char *complete = it->complete < 0 ? NULL : it->complete ? "t" : "f";
    apr_status_t rv;

    if (!props)
        return APR_EGENERAL;
    if (it->body) {
        body = apr_pstrmemdup(p, it->body, it->body_len);
        type = apr_itoa(p, it->body_type ? it->body_type : 1);
    }
    if (item < 0)
        rv = eas_db_select(c->req->db, p, &rows,
                           "INSERT INTO eas.items (folder_id, props, body, body_type, subject, uid, "
                           "start_time, end_time, due_time, complete, changed_by) VALUES "
                           "(%s::bigint, decode(%s, 'base64'), %s, %s::smallint, %s, %s, "
                           "%s::timestamptz, %s::timestamptz, %s::timestamptz, %s::boolean, "
                           "%s::bigint) RETURNING id, seq",
                           EAS_DB_ARGS(c->folder->id, b64(p, props, len), body, type, it->subject,
                                       it->uid, time_param(p, it->has_start, it->start),
                                       time_param(p, it->has_end, it->end),
                                       time_param(p, it->has_due, it->due), complete,
                                       c->req->device->id));
    else
        rv = eas_db_select(c->req->db, p, &rows,
                           "UPDATE eas.items SET props = decode(%s, 'base64'), body = %s, "
                           "body_type = %s::smallint, subject = %s, uid = %s, "
                           "start_time = %s::timestamptz, end_time = %s::timestamptz, "
                           "due_time = %s::timestamptz, complete = %s::boolean, "
                           "changed_by = %s::bigint WHERE id = %s::bigint AND folder_id = %s::bigint "
                           "RETURNING id, seq",
                           EAS_DB_ARGS(b64(p, props, len), body, type, it->subject, it->uid,
                                       time_param(p, it->has_start, it->start),
                                       time_param(p, it->has_end, it->end),
                                       time_param(p, it->has_due, it->due), complete,
                                       c->req->device->id, i64s(p, item), c->folder->id));
    if (rv != APR_SUCCESS)
        return rv;
    if (rows->nrows != 1)
        return APR_EGENERAL;
    *id = apr_atoi64(eas_db_val(rows, 0, 0));
    *seq = apr_atoi64(eas_db_val(rows, 0, 1));
    return APR_SUCCESS;
}

static const char *random_uid(apr_pool_t *p)
{
    unsigned char r[16];
    char *s = apr_palloc(p, 33);
    int i;

    if (apr_generate_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
        apr_uint64_t t = (apr_uint64_t)apr_time_now();
        memset(r, 0x5a, sizeof(r));
        memcpy(r, &t, sizeof(t));
    }
    for (i = 0; i < 16; i++)
        apr_snprintf(s + 2 * i, 3, "%02X", r[i]);
    return s;
}

static apr_status_t pim_add(eas_sync_coll_t *c, const eas_node_t *appdata, apr_int64_t *item,
                            apr_int64_t *version, int *status)
{
    eas_pim_item_t it;
    const char *why;

    if (eas_pim_from_client(c->pool, c->folder->cls, c->req->version, appdata, &it, &why) !=
        APR_SUCCESS) {
        log_refused(c, "Add", why);
        *status = EAS_SYNC_CONVERSION;
        return APR_SUCCESS;
    }
    if (cls_of(it.cls) == CLS_CALENDAR && !it.uid) {
        /* Every event needs one (iCalendar, meeting responses); a 16.x
         * client's ClientUid is the natural choice (MS-ASCAL 2.2.2.13). */
        const char *cuid = child_text(it.props, EAS_Calendar_ClientUid);
        it.uid = cuid ? cuid : random_uid(c->pool);
        nset(it.props, nnew(c->pool, EAS_Calendar_UID, it.uid));
        if (cuid) {
            /* The same ClientUid again is the same event, added again: it
             * replaces the stored one instead of making a second. */
            const char *id;
            apr_status_t rv = eas_db_value(c->req->db, c->pool, &id,
                                           "SELECT id FROM eas.items WHERE folder_id = %s::bigint "
                                           "AND md5(uid) = md5(%s) AND uid = %s AND NOT deleted "
                                           "ORDER BY id LIMIT 1",
                                           EAS_DB_ARGS(c->folder->id, cuid, cuid));
            if (rv != APR_SUCCESS)
                return rv;
            if (id) {
                *status = EAS_SYNC_OK;
                return store(c, &it, apr_atoi64(id), item, version);
            }
        }
    }
    *status = EAS_SYNC_OK;
    return store(c, &it, -1, item, version);
}

static apr_status_t pim_change(eas_sync_coll_t *c, apr_int64_t item, apr_int64_t view_version,
                               const char *instance_id, const eas_node_t *appdata,
                               apr_int64_t *version, int *status)
{
    eas_pim_item_t stored, change, merged;
    eas_db_rows_t *rows;
    const char *why;
    apr_int64_t id, seq;
    apr_status_t rv;

    if ((rv = select_item(c, item, &rows)) != APR_SUCCESS)
        return rv;
    if (!rows->nrows || !strcmp(eas_db_val(rows, 0, 1), "t")) {
        *status = EAS_SYNC_NOT_FOUND;
        return APR_SUCCESS;
    }
    seq = apr_atoi64(eas_db_val(rows, 0, 0));
    if (seq > view_version && c->opts.conflict == 1) {
        /* MS-ASCMD 2.2.3.34: the server's version wins; it goes out as a
         * Change in this same response. */
        eas_log_printf(c->req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01511) "Sync Change of %s:%" APR_INT64_T_FMT " from %s/%s "
                       "conflicts with a newer server version: server wins (Status 7)",
                       c->folder->id, item, c->req->login, c->req->device->device_id);
        *status = EAS_SYNC_CONFLICT;
        return APR_SUCCESS;
    }
    if (item_from_row(c->pool, c->folder->cls, eas_db_val(rows, 0, 2), eas_db_val(rows, 0, 3),
                      eas_db_val(rows, 0, 4), &stored) != APR_SUCCESS) {
        log_refused(c, "Change", "the stored item is unreadable");
        *status = EAS_SYNC_CONVERSION;
        return APR_SUCCESS;
    }
    if (eas_pim_from_client(c->pool, c->folder->cls, c->req->version, appdata, &change, &why) !=
        APR_SUCCESS) {
        log_refused(c, "Change", why);
        *status = EAS_SYNC_CONVERSION;
        return APR_SUCCESS;
    }
    if (instance_id) {
        if ((rv = eas_pim_instance(c->pool, &stored, instance_id, &change, &merged, status)) !=
                APR_SUCCESS ||
            *status != EAS_SYNC_OK)
            return rv;
    }
    else if (eas_pim_merge(c->pool, &stored, &change, c->req->version, c->supported, &merged,
                           &why) != APR_SUCCESS) {
        log_refused(c, "Change", why);
        *status = EAS_SYNC_CONVERSION;
        return APR_SUCCESS;
    }
    *status = EAS_SYNC_OK;
    return store(c, &merged, item, &id, version);
}

static apr_status_t pim_remove(eas_sync_coll_t *c, apr_int64_t item, const char *instance_id,
                               apr_int64_t *version, int *status)
{
    eas_pim_item_t stored, out;
    eas_db_rows_t *rows;
    apr_int64_t id;
    apr_status_t rv;

    *version = -1;
    *status = EAS_SYNC_OK;
    if (!instance_id)
        /* MS-ASCMD 2.2.3.43: PIM items have no Deleted Items folder; a
         * tombstone tells the other devices. */
        return eas_db_exec(c->req->db, c->pool, NULL,
                           "UPDATE eas.items SET deleted = true, changed_by = %s::bigint "
                           "WHERE id = %s::bigint AND folder_id = %s::bigint AND NOT deleted",
                           EAS_DB_ARGS(c->req->device->id, i64s(c->pool, item), c->folder->id));
    if ((rv = select_item(c, item, &rows)) != APR_SUCCESS)
        return rv;
    if (!rows->nrows || !strcmp(eas_db_val(rows, 0, 1), "t") ||
        item_from_row(c->pool, c->folder->cls, eas_db_val(rows, 0, 2), eas_db_val(rows, 0, 3),
                      eas_db_val(rows, 0, 4), &stored) != APR_SUCCESS) {
        *status = EAS_SYNC_NOT_FOUND;
        return APR_SUCCESS;
    }
    if ((rv = eas_pim_instance(c->pool, &stored, instance_id, NULL, &out, status)) !=
            APR_SUCCESS ||
        *status != EAS_SYNC_OK)
        return rv;
    return store(c, &out, item, &id, version);
}

static apr_status_t pim_load(eas_sync_coll_t *c, apr_int64_t item, void **data,
                             apr_int64_t *version)
{
    eas_db_rows_t *rows;
    eas_pim_item_t *it;
    apr_status_t rv;

    *version = -1;
    if (data)
        *data = NULL;
    if ((rv = select_item(c, item, &rows)) != APR_SUCCESS)
        return rv;
    if (!rows->nrows || !strcmp(eas_db_val(rows, 0, 1), "t"))
        return APR_SUCCESS;
    if (data) {
        it = apr_palloc(c->pool, sizeof(*it));
        if (item_from_row(c->pool, c->folder->cls, eas_db_val(rows, 0, 2), eas_db_val(rows, 0, 3),
                          eas_db_val(rows, 0, 4), it) != APR_SUCCESS) {
            eas_log_printf(c->req->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                           EASLOGNO(01512) "item %" APR_INT64_T_FMT " of folder %s has unreadable "
                           "properties; not sent", item, c->folder->id);
            return APR_SUCCESS;
        }
        *data = it;
    }
    *version = apr_atoi64(eas_db_val(rows, 0, 0));
    return APR_SUCCESS;
}

/* ---- filters ----------------------------------------------------------- */

enum { FILTER_NONE = 0, FILTER_WINDOW = 1, FILTER_INCOMPLETE = 2 };

/* MS-ASCMD 2.2.3.68.2: time windows for calendars, "incomplete" for tasks;
 * contacts and notes have none. */
static int filter_kind(const eas_sync_coll_t *c)
{
    int ft = c->opts.filter_type;

    if (cls_of(c->folder->cls) == CLS_CALENDAR && ft >= EAS_FILTER_1DAY && ft <= EAS_FILTER_6MONTHS)
        return FILTER_WINDOW;
    if (cls_of(c->folder->cls) == CLS_TASKS && ft == EAS_FILTER_INCOMPLETE)
        return FILTER_INCOMPLETE;
    return FILTER_NONE;
}

static apr_status_t window_start(eas_sync_coll_t *c, const char **cutoff)
{
    static const char *const spans[] = {NULL, "1 day", "3 days", "7 days", "14 days",
                                        "1 month", "3 months", "6 months"};

    return eas_db_value(c->req->db, c->pool, cutoff,
                        "SELECT " EAS_SQL_TIME("(now() - %s::interval)"),
                        EAS_DB_ARGS(spans[c->opts.filter_type]));
}

/* The device view against the folder from cursor on: what each item
 * needs.  The view is probed per item by its key, never joined: a join
 * planned on stale statistics reads the whole view for every item. */
#define PIM_SCAN_X                                                                          \
    "WITH x AS (SELECT i.id, i.seq, i.deleted, (SELECT v.version FROM eas.sync_items v "   \
    " WHERE v.device_id = %s::bigint AND v.folder_id = %s::bigint AND v.item = i.id) "      \
    " AS version, CASE %s::int WHEN 1 THEN (i.end_time IS NULL "                            \
    " OR i.end_time >= %s::timestamptz) WHEN 2 THEN NOT coalesce(i.complete, false) "       \
    " ELSE true END AS inside FROM eas.items i "                                            \
    " WHERE i.folder_id = %s::bigint AND i.seq > %s::bigint)"
#define PIM_NEEDED                                                                     \
    "CASE WHEN deleted THEN version IS NOT NULL WHEN version IS NULL THEN inside "    \
    "WHEN NOT inside THEN true ELSE version <> seq END"

/* Prepares the filter of this request: the window start, and whether the
 * view must be rebuilt from scratch (FilterType changed). */
static apr_status_t filter_setup(eas_sync_coll_t *c, int *kind, const char **cutoff)
{
    apr_status_t rv = APR_SUCCESS;

    *kind = filter_kind(c);
    *cutoff = NULL;
    if (*kind == FILTER_WINDOW)
        rv = window_start(c, cutoff);
    return rv;
}

static apr_status_t pim_changes(eas_sync_coll_t *c, int max, apr_array_header_t *out, int *more)
{
    eas_request_t *req = c->req;
    const char *cutoff;
    eas_db_rows_t *rows;
    apr_status_t rv;
    int kind, batch, r;

    *more = 0;
    if (c->filter_changed) {
        /* Another window: every item is checked again against the view,
         * which adds what now belongs and soft-deletes what no longer does. */
        c->cursor = 0;
        c->filter_type = c->opts.filter_type;
        c->filter_cutoff = NULL;
        c->filter_changed = 0;
    }
    if ((rv = filter_setup(c, &kind, &cutoff)) != APR_SUCCESS)
        return rv;

    if (kind == FILTER_WINDOW && c->filter_cutoff) {
        /* Items the window left since the last Sync (MS-ASCMD 2.2.3.163
         * SoftDelete): those that ended between the old and new start. */
        rv = eas_db_select(req->db, c->pool, &rows,
                           "SELECT i.id FROM eas.items i WHERE i.folder_id = %s::bigint "
                           "AND NOT i.deleted AND i.end_time >= %s::timestamptz "
                           "AND i.end_time < %s::timestamptz AND (SELECT true FROM "
                           "eas.sync_items v WHERE v.device_id = %s::bigint AND v.folder_id = "
                           "%s::bigint AND v.item = i.id) ORDER BY i.end_time, i.id LIMIT %s::int",
                           EAS_DB_ARGS(c->folder->id, c->filter_cutoff, cutoff, req->device->id,
                                       c->folder->id, apr_itoa(c->pool, max + 1)));
        if (rv != APR_SUCCESS)
            return rv;
        for (r = 0; r < rows->nrows; r++) {
            eas_sync_change_t *ch;
            if (out->nelts >= max) {
                *more = 1;
                return APR_SUCCESS;   /* the window start stays: the rest next time */
            }
            ch = apr_array_push(out);
            ch->op = EAS_CHANGE_SOFTDELETE;
            ch->item = apr_atoi64(eas_db_val(rows, r, 0));
            ch->version = 0;
            ch->data = NULL;
        }
    }
    c->filter_cutoff = cutoff;

    for (batch = max * 2 > 500 ? max * 2 : 500;; batch = batch < 10000 ? batch * 2 : batch) {
        rv = eas_db_select(req->db, c->pool, &rows,
                           "SELECT id, seq, op, " B64("props") ", body, body_type "
                           "FROM eas.pim_changes(%s::bigint, %s::bigint, %s::bigint, %s::int, "
                           "%s::timestamptz, %s::int)",
                           EAS_DB_ARGS(req->device->id, c->folder->id, i64s(c->pool, c->cursor),
                                       apr_itoa(c->pool, kind), cutoff,
                                       apr_itoa(c->pool, batch)));
        if (rv != APR_SUCCESS)
            return rv;
        for (r = 0; r < rows->nrows; r++) {
            const char *op = eas_db_val(rows, r, 2);
            apr_int64_t seq = apr_atoi64(eas_db_val(rows, r, 1));
            eas_sync_change_t *ch;

            if (op) {
                if (out->nelts >= max) {
                    *more = 1;
                    return APR_SUCCESS;
                }
                ch = apr_array_push(out);
                ch->item = apr_atoi64(eas_db_val(rows, r, 0));
                ch->version = seq;
                ch->data = NULL;
                ch->op = *op == 'A' ? EAS_CHANGE_ADD : *op == 'C' ? EAS_CHANGE_CHANGE
                       : *op == 'D' ? EAS_CHANGE_DELETE : EAS_CHANGE_SOFTDELETE;
                if (ch->op == EAS_CHANGE_ADD || ch->op == EAS_CHANGE_CHANGE) {
                    eas_pim_item_t *it = apr_palloc(c->pool, sizeof(*it));
                    if (item_from_row(c->pool, c->folder->cls, eas_db_val(rows, r, 3),
                                      eas_db_val(rows, r, 4), eas_db_val(rows, r, 5), it) !=
                        APR_SUCCESS) {
                        /* Never loop on it: passed over, logged. */
                        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                                       EASLOGNO(01513) "item %" APR_INT64_T_FMT " of folder %s "
                                       "has unreadable properties; not sent to %s/%s",
                                       ch->item, c->folder->id, req->login,
                                       req->device->device_id);
                        out->nelts--;
                    }
                    else {
                        ch->data = it;
                    }
                }
            }
            c->cursor = seq;
        }
        if (rows->nrows < batch)
            return APR_SUCCESS;
    }
}

static void pim_write(eas_sync_coll_t *c, const eas_sync_change_t *ch, eas_wbxml_writer_t *w)
{
    eas_pim_write(w, c->pool, ch->data, c->req->version, &c->opts);
}

static apr_status_t pim_estimate(eas_sync_coll_t *c, int *count)
{
    eas_request_t *req = c->req;
    const char *cutoff, *n, *drift = "0";
    apr_int64_t cursor = c->filter_changed ? 0 : c->cursor;
    apr_status_t rv;
    int kind;

    if ((rv = filter_setup(c, &kind, &cutoff)) != APR_SUCCESS)
        return rv;
    rv = eas_db_value(req->db, c->pool, &n,
                      PIM_SCAN_X " SELECT count(*) FROM x WHERE " PIM_NEEDED,
                      EAS_DB_ARGS(req->device->id, c->folder->id, apr_itoa(c->pool, kind), cutoff,
                                  c->folder->id, i64s(c->pool, cursor)));
    if (rv == APR_SUCCESS && kind == FILTER_WINDOW && c->filter_cutoff && !c->filter_changed)
        rv = eas_db_value(req->db, c->pool, &drift,
                          "SELECT count(*) FROM eas.items i WHERE i.folder_id = %s::bigint "
                          "AND NOT i.deleted AND i.end_time >= %s::timestamptz "
                          "AND i.end_time < %s::timestamptz AND i.seq <= %s::bigint AND "
                          "(SELECT true FROM eas.sync_items v WHERE v.device_id = %s::bigint "
                          "AND v.folder_id = %s::bigint AND v.item = i.id)",
                          EAS_DB_ARGS(c->folder->id, c->filter_cutoff, cutoff,
                                      i64s(c->pool, cursor), req->device->id, c->folder->id));
    *count = rv == APR_SUCCESS ? atoi(n) + atoi(drift) : 0;
    return rv;
}

static apr_status_t pim_pending(eas_sync_coll_t *c, int *pending)
{
    const char *cutoff, *v;
    apr_status_t rv;
    int kind;

    if (c->filter_changed) {
        *pending = 1;
        return APR_SUCCESS;
    }
    if ((rv = filter_setup(c, &kind, &cutoff)) != APR_SUCCESS)
        return rv;
    rv = eas_db_value(c->req->db, c->pool, &v,
                      PIM_SCAN_X " SELECT EXISTS (SELECT 1 FROM x WHERE " PIM_NEEDED ")",
                      EAS_DB_ARGS(c->req->device->id, c->folder->id, apr_itoa(c->pool, kind),
                                  cutoff, c->folder->id, i64s(c->pool, c->cursor)));
    *pending = rv == APR_SUCCESS && v && !strcmp(v, "t");
    return rv;
}

static apr_status_t pim_move(eas_sync_coll_t *c, apr_int64_t item, const eas_folder_t *dst,
                             apr_int64_t *dst_item, apr_int64_t *dst_version, int *status)
{
    eas_db_rows_t *rows;
    apr_status_t rv;

    /* A new item in the destination and a tombstone in the source: each
     * folder's change counter tells its own story to the other devices. */
    rv = eas_db_select(c->req->db, c->pool, &rows,
                       "INSERT INTO eas.items (folder_id, props, body, body_type, subject, uid, "
                       "start_time, end_time, due_time, complete, changed_by) "
                       "SELECT %s::bigint, props, body, body_type, subject, uid, start_time, "
                       "end_time, due_time, complete, %s::bigint FROM eas.items "
                       "WHERE id = %s::bigint AND folder_id = %s::bigint AND NOT deleted "
                       "RETURNING id, seq",
                       EAS_DB_ARGS(dst->id, c->req->device->id, i64s(c->pool, item),
                                   c->folder->id));
    if (rv != APR_SUCCESS)
        return rv;
    if (!rows->nrows) {
        *status = 1;
        return APR_SUCCESS;
    }
    *dst_item = apr_atoi64(eas_db_val(rows, 0, 0));
    *dst_version = apr_atoi64(eas_db_val(rows, 0, 1));
    rv = eas_db_exec(c->req->db, c->pool, NULL,
                     "UPDATE eas.items SET deleted = true, changed_by = %s::bigint "
                     "WHERE id = %s::bigint", EAS_DB_ARGS(c->req->device->id, i64s(c->pool, item)));
    *status = 3;
    return rv;
}

const eas_sync_provider_t eas_pim_provider = {
    "pim",
    NULL,
    pim_add,
    pim_change,
    pim_remove,
    pim_load,
    pim_changes,
    pim_write,
    pim_estimate,
    pim_pending,
    pim_move,
};
