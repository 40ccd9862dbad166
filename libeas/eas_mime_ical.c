/*
 * Meeting messages: the MS-ASEMAIL 2.2.2.48 MeetingRequest data of a
 * text/calendar part (libical), the GlobalObjId of its UID (MS-ASEMAIL
 * 2.2.2.37, 3.1.4.7) and the TIME_ZONE_INFORMATION of its start
 * (MS-ASDTYPE 2.7.6) computed from the zone's actual transitions.
 */
#include "eas_mime_private.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <libical/ical.h>

void mime_ical_init(void)
{
    icalerror_set_errors_are_fatal(0);
}

/* ---- GlobalObjId ----------------------------------------------------- */

static const unsigned char class_id[16] = {
    0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00,
    0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08,
};

static int hexval(int c)
{
    return apr_isdigit(c) ? c - '0' : apr_tolower(c) - 'a' + 10;
}

/* Outlook UIDs are the hex of the GlobalObjId itself (MS-OXCICAL
 * 2.1.3.1.1.20.26 EncodedGlobalId); others are wrapped as "vCal-Uid". */
static const char *global_obj_id(apr_pool_t *p, const char *uid, apr_time_t instance)
{
    apr_size_t n = strlen(uid), i, len;
    unsigned char *b;

    for (i = 0; i < n && apr_isxdigit(uid[i]); i++)
        ;
    if (i == n && n % 2 == 0 && n >= 80 && !strncasecmp(uid, "040000008200E00074C5B7101A82E008", 32)) {
        len = n / 2;
        b = apr_palloc(p, len);
        for (i = 0; i < len; i++)
            b[i] = (unsigned char)(hexval(uid[2 * i]) << 4 | hexval(uid[2 * i + 1]));
    } else {
        apr_size_t count = 8 + 4 + n + 1;

        len = 40 + count;
        b = apr_pcalloc(p, len);
        memcpy(b, class_id, 16);
        b[36] = (unsigned char)(count & 0xFF);
        b[37] = (unsigned char)((count >> 8) & 0xFF);
        b[38] = (unsigned char)((count >> 16) & 0xFF);
        b[39] = (unsigned char)((count >> 24) & 0xFF);
        memcpy(b + 40, "vCal-Uid", 8);
        b[48] = 1;
        memcpy(b + 52, uid, n);
    }
    if (instance) {
        apr_time_exp_t tm;

        apr_time_exp_gmt(&tm, instance);
        b[16] = (unsigned char)((tm.tm_year + 1900) >> 8);
        b[17] = (unsigned char)((tm.tm_year + 1900) & 0xFF);
        b[18] = (unsigned char)(tm.tm_mon + 1);
        b[19] = (unsigned char)tm.tm_mday;
    }
    {
        gchar *s = g_base64_encode(b, len);
        const char *r = apr_pstrdup(p, s);

        g_free(s);
        return r;
    }
}

/* ---- TIME_ZONE_INFORMATION ------------------------------------------- */

typedef struct {
    int month, dow, week, hour, minute;
} rule_t;

static void put16(unsigned char *b, int v)
{
    b[0] = (unsigned char)(v & 0xFF);
    b[1] = (unsigned char)((v >> 8) & 0xFF);
}

static void put32(unsigned char *b, int v)
{
    apr_uint32_t u = (apr_uint32_t)v;

    b[0] = (unsigned char)(u & 0xFF);
    b[1] = (unsigned char)((u >> 8) & 0xFF);
    b[2] = (unsigned char)((u >> 16) & 0xFF);
    b[3] = (unsigned char)((u >> 24) & 0xFF);
}

/* A 32-unit UTF-16LE name field from ASCII-ish text (zone ids are ASCII). */
static void put_name(unsigned char *b, const char *name)
{
    int i;

    for (i = 0; name && name[i] && i < 31; i++)
        put16(b + 2 * i, (unsigned char)name[i] < 0x80 ? name[i] : '?');
}

static void put_rule(unsigned char *b, const rule_t *r)
{
    /* SYSTEMTIME: year 0 = every year, day = week of the month (5 = last). */
    put16(b + 2, r->month);
    put16(b + 4, r->dow);
    put16(b + 6, r->week);
    put16(b + 8, r->hour);
    put16(b + 10, r->minute);
}

static int offset_at(icaltimezone *z, time_t t)
{
    icaltimezone *utc = icaltimezone_get_utc_timezone();
    struct icaltimetype tt = icaltime_from_timet_with_zone(t, 0, utc);
    int dst = 0;

    return icaltimezone_get_utc_offset_of_utc_time(z, &tt, &dst);
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* The wall clock just before the transition at t, as a yearly rule. */
static void make_rule(time_t t, int old_offset, rule_t *r)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, apr_time_from_sec((apr_time_t)t + old_offset));
    r->month = tm.tm_mon + 1;
    r->dow = tm.tm_wday;
    r->week = tm.tm_mday + 7 > days_in_month(tm.tm_year + 1900, r->month)
              ? 5 : (tm.tm_mday - 1) / 7 + 1;
    r->hour = tm.tm_hour;
    r->minute = tm.tm_min;
}

/* Finds up to two offset changes in the year of `when`: weekly samples (no
 * zone changes its offset twice within a week), then bisection to the
 * minute. */
static void tzinfo_from_zone(icaltimezone *z, const char *name, time_t when,
                             unsigned char out[EAS_TZINFO_SIZE])
{
    apr_time_exp_t tm;
    apr_time_t y0;
    time_t start, t, lo, hi, trans[2];
    int prev, cur, from[2], to[2], n = 0, d, std, dst;
    rule_t std_rule, dst_rule;

    memset(out, 0, EAS_TZINFO_SIZE);
    apr_time_exp_gmt(&tm, apr_time_from_sec(when));
    tm.tm_mon = 0;
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_usec = 0;
    apr_time_exp_gmt_get(&y0, &tm);
    start = (time_t)apr_time_sec(y0);
    prev = offset_at(z, start);
    for (d = 7; d <= 371 && n < 3; d += 7) {
        t = start + (time_t)d * 86400;
        cur = offset_at(z, t);
        if (cur == prev)
            continue;
        lo = t - 7 * 86400;
        hi = t;
        /* offset(lo) == prev, offset(hi) == cur: bisect to the minute. */
        while (hi - lo > 60) {
            time_t mid = lo + (hi - lo) / 2;
            if (offset_at(z, mid) == prev)
                lo = mid;
            else
                hi = mid;
        }
        if (n < 2) {
            trans[n] = hi;
            from[n] = prev;
            to[n] = cur;
        }
        n++;
        prev = cur;
    }
    put_name(out + 4, name);
    put_name(out + 88, name);
    if (n != 2 || from[0] != to[1] || to[0] != from[1]) {
        /* No DST (or a year the one-rule blob cannot describe): the offset at the start. */
        put32(out, -offset_at(z, when) / 60);
        return;
    }
    std = from[0] < to[0] ? from[0] : to[0];
    dst = from[0] < to[0] ? to[0] : from[0];
    if (to[0] == dst) {
        make_rule(trans[0], from[0], &dst_rule);
        make_rule(trans[1], from[1], &std_rule);
    } else {
        make_rule(trans[0], from[0], &std_rule);
        make_rule(trans[1], from[1], &dst_rule);
    }
    put32(out, -std / 60);
    put_rule(out + 68, &std_rule);
    put32(out + 84, 0);
    put_rule(out + 152, &dst_rule);
    put32(out + 168, -(dst - std) / 60);
}

/* ---- VTIMEZONE rules ------------------------------------------------- */

/*
 * Outlook, Google and Apple describe a zone in the invitation itself with a
 * STANDARD and a DAYLIGHT observance, each a yearly RRULE.  That is exactly
 * the one-rule model of TIME_ZONE_INFORMATION, so the blob and the wall
 * clock conversions are computed from the observances directly; libical's
 * own conversion expands every year since the observance's DTSTART (1601 in
 * Exchange invitations) and costs milliseconds per message.  Zones that do
 * not fit (no VTIMEZONE, RDATE lists, a change in the year asked for) go to
 * libical.
 */
/* Seconds since 1970 as apr_time_t; 0 for instants outside 1601..9999. */
static apr_time_t from_sec(apr_int64_t sec)
{
    if (sec < APR_INT64_C(-11644473600) || sec > APR_INT64_C(253402300799))
        return 0;
    return apr_time_from_sec(sec);
}

typedef struct {
    int std_off, dst_off;       /* seconds east of UTC */
    int has_dst;
    rule_t to_dst, to_std;      /* local wall clock of each transition */
} zrule_t;

typedef struct {
    int year, month, day, hour, minute, second;
    int offset_to;
    int has_rule;
    apr_time_t until;           /* of the RRULE, 0 none */
    rule_t rule;
} observance_t;

/* The yearly rule of an observance: BYMONTH with BYDAY=nDD, or BYDAY=DD with
 * a seven-day BYMONTHDAY range (the older US form). */
static int observance_rule(icalproperty *rr, int hour, int minute, observance_t *o)
{
    struct icalrecurrencetype r = icalproperty_get_rrule(rr);
    int pos, first;

    if (r.freq != ICAL_YEARLY_RECURRENCE || r.by_month[0] == ICAL_RECURRENCE_ARRAY_MAX
        || r.by_month[1] != ICAL_RECURRENCE_ARRAY_MAX || r.by_day[0] == ICAL_RECURRENCE_ARRAY_MAX
        || r.by_day[1] != ICAL_RECURRENCE_ARRAY_MAX || (r.interval && r.interval != 1))
        return 0;
    o->rule.month = icalrecurrencetype_month_month(r.by_month[0]);
    o->rule.dow = (int)icalrecurrencetype_day_day_of_week(r.by_day[0]) - 1;
    pos = icalrecurrencetype_day_position(r.by_day[0]);
    if (!pos && r.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
        first = r.by_month_day[0];
        pos = first < 0 || first >= 22 ? -1 : (first - 1) / 7 + 1;
    }
    if (o->rule.dow < 0 || o->rule.dow > 6 || pos == 0 || pos < -1 || pos > 5)
        return 0;
    o->rule.week = pos < 0 ? 5 : pos;
    o->rule.hour = hour;
    o->rule.minute = minute;
    o->until = icaltime_is_null_time(r.until) ? 0
        : from_sec((apr_int64_t)icaltime_as_timet_with_zone(r.until, icaltimezone_get_utc_timezone()));
    return 1;
}

static int read_observance(icalcomponent *c, observance_t *o)
{
    icalproperty *pr;
    struct icaltimetype st;

    memset(o, 0, sizeof(*o));
    if (!(pr = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY))
        || !(pr = icalcomponent_get_first_property(c, ICAL_TZOFFSETTO_PROPERTY)))
        return 0;
    st = icalproperty_get_dtstart(icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY));
    o->year = st.year;
    o->month = st.month;
    o->day = st.day;
    o->hour = st.hour;
    o->minute = st.minute;
    o->second = st.second;
    o->offset_to = icalproperty_get_tzoffsetto(pr);
    if (o->offset_to < -18 * 3600 || o->offset_to > 18 * 3600
        || icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY))
        return 0;
    if ((pr = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY))) {
        if (icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)
            || !observance_rule(pr, st.hour, st.minute, o))
            return 0;
        o->has_rule = 1;
    }
    return 1;
}

/* The rule of the zone in year; 0 when it cannot be said with one rule. */
static int zone_rule(icalcomponent *vtz, int year, zrule_t *z)
{
    icalcomponent *c;
    observance_t o, best[2];
    int have[2] = {0, 0}, k;
    apr_time_exp_t tm;
    apr_time_t y0;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mday = 1;
    if (apr_time_exp_gmt_get(&y0, &tm) != APR_SUCCESS)
        return 0;
    for (c = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); c;
         c = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
        icalcomponent_kind kind = icalcomponent_isa(c);

        if (kind != ICAL_XSTANDARD_COMPONENT && kind != ICAL_XDAYLIGHT_COMPONENT)
            continue;
        if (!read_observance(c, &o))
            return 0;
        if (o.year > year)
            continue;
        if (o.has_rule && o.until && o.until < y0)
            o.has_rule = 0;     /* ended before this year: only its offset stays */
        k = kind == ICAL_XDAYLIGHT_COMPONENT;
        if (!have[k] || o.year > best[k].year
            || (o.year == best[k].year && (o.month > best[k].month
                                           || (o.month == best[k].month && o.day > best[k].day)))) {
            best[k] = o;
            have[k] = 1;
        }
    }
    if (!have[0] && !have[1])
        return 0;
    memset(z, 0, sizeof(*z));
    if (have[0] && have[1] && best[0].has_rule && best[1].has_rule) {
        z->has_dst = 1;
        z->std_off = best[0].offset_to;
        z->dst_off = best[1].offset_to;
        z->to_std = best[0].rule;
        z->to_dst = best[1].rule;
        return z->dst_off != z->std_off;
    }
    /* No yearly change: the latest observance gives the offset, unless it
     * changes within this very year. */
    k = !have[0] || (have[1] && best[1].year > best[0].year) ? 1 : 0;
    if (best[k].has_rule || best[k].year == year)
        return 0;
    z->std_off = z->dst_off = best[k].offset_to;
    return 1;
}

/* Day of the month of the week-th (5 = last) dow of month in year. */
static int nth_weekday(int year, int month, int dow, int week)
{
    apr_time_exp_t tm;
    apr_time_t t;
    int first, day;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = 1;
    apr_time_exp_gmt_get(&t, &tm);
    apr_time_exp_gmt(&tm, t);
    first = tm.tm_wday;
    day = 1 + (dow - first + 7) % 7 + (week - 1) * 7;
    while (day > days_in_month(year, month))
        day -= 7;
    return day;
}

/* A wall clock (year .. second) as seconds, read as if it were UTC. */
static apr_int64_t wall(int year, int month, int day, int hour, int minute, int second)
{
    apr_time_exp_t tm;
    apr_time_t t;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    if (apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS)
        return 0;
    return apr_time_sec(t);
}

static apr_int64_t transition(int year, const rule_t *r)
{
    return wall(year, r->month, nth_weekday(year, r->month, r->dow, r->week), r->hour, r->minute, 0);
}

static apr_time_t zone_to_utc(const zrule_t *z, struct icaltimetype tt)
{
    apr_int64_t l = wall(tt.year, tt.month, tt.day, tt.hour, tt.minute, tt.second);
    int off = z->std_off;

    if (z->has_dst) {
        apr_int64_t on = transition(tt.year, &z->to_dst), off_at = transition(tt.year, &z->to_std);
        int in = on < off_at ? (l >= on && l < off_at) : (l >= on || l < off_at);

        if (in)
            off = z->dst_off;
    }
    return from_sec(l - off);
}

static void tzinfo_from_rule(const zrule_t *z, const char *name, unsigned char out[EAS_TZINFO_SIZE])
{
    memset(out, 0, EAS_TZINFO_SIZE);
    put_name(out + 4, name);
    put_name(out + 88, name);
    put32(out, -z->std_off / 60);
    if (!z->has_dst)
        return;
    put_rule(out + 68, &z->to_std);
    put_rule(out + 152, &z->to_dst);
    put32(out + 168, -(z->dst_off - z->std_off) / 60);
}

/* Times of one calendar: UTC, via the invitation's own VTIMEZONE rules where
 * they fit, else via libical. */
typedef struct {
    icalcomponent *cal;
} conv_t;

static icalcomponent *find_vtimezone(icalcomponent *cal, const char *tzid)
{
    icalcomponent *c;

    for (c = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); c;
         c = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT)) {
        icalproperty *pr = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);
        const char *id = pr ? icalproperty_get_tzid(pr) : NULL;

        if (id && !strcmp(id, tzid))
            return c;
    }
    return NULL;
}

/* ---- the event ------------------------------------------------------- */

static apr_time_t to_time(const conv_t *cv, struct icaltimetype tt)
{
    icaltimezone *z = (icaltimezone *)tt.zone;
    icalcomponent *vtz;
    zrule_t zr;

    if (icaltime_is_null_time(tt) || tt.year < 1601 || tt.year > 9999)
        return 0;
    if (!z || tt.is_date)
        z = icaltimezone_get_utc_timezone();
    if (z != icaltimezone_get_utc_timezone() && cv && icaltimezone_get_tzid(z)
        && (vtz = find_vtimezone(cv->cal, icaltimezone_get_tzid(z)))
        && zone_rule(vtz, tt.year, &zr))
        return zone_to_utc(&zr, tt);
    return from_sec((apr_int64_t)icaltime_as_timet_with_zone(tt, z));
}

static const char *xprop(icalcomponent *ev, const char *name)
{
    icalproperty *pr;

    for (pr = icalcomponent_get_first_property(ev, ICAL_X_PROPERTY); pr;
         pr = icalcomponent_get_next_property(ev, ICAL_X_PROPERTY)) {
        const char *n = icalproperty_get_x_name(pr);
        if (n && !strcasecmp(n, name))
            return icalproperty_get_value_as_string(pr);
    }
    return NULL;
}

static const char *clean(apr_pool_t *p, const char *s)
{
    return s ? mime_utf8_clean(p, apr_pstrdup(p, s), strlen(s), NULL) : NULL;
}

static int weekday_bit(enum icalrecurrencetype_weekday d)
{
    /* ICAL_SUNDAY_WEEKDAY is 1 .. ICAL_SATURDAY_WEEKDAY 7; EAS Sunday is bit 0. */
    return d >= ICAL_SUNDAY_WEEKDAY && d <= ICAL_SATURDAY_WEEKDAY ? 1 << (d - 1) : 0;
}

/* MS-ASEMAIL 2.2.2.60 from an RRULE; NULL when EAS cannot say it. */
static eas_mime_recurrence_t *recurrence(apr_pool_t *p, const conv_t *cv,
                                         struct icalrecurrencetype *r, struct icaltimetype start)
{
    eas_mime_recurrence_t *rc = apr_pcalloc(p, sizeof(*rc));
    int i, days = 0, pos = 0, setpos;

    rc->first_day_of_week = -1;
    rc->interval = r->interval > 1 ? r->interval : 1;
    if (!icaltime_is_null_time(r->until))
        rc->until = to_time(cv, r->until);
    rc->occurrences = r->count > 0 ? r->count : 0;
    for (i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        days |= weekday_bit(icalrecurrencetype_day_day_of_week(r->by_day[i]));
        if (icalrecurrencetype_day_position(r->by_day[i]))
            pos = icalrecurrencetype_day_position(r->by_day[i]);
    }
    setpos = r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX ? r->by_set_pos[0] : 0;
    if (!pos && setpos)
        pos = setpos;
    if (pos < 0)
        pos = 5;
    if (pos > 5)
        return NULL;
    switch (r->freq) {
    case ICAL_DAILY_RECURRENCE:
        if (days) {
            /* Every weekday and the like are weekly in EAS. */
            rc->type = 1;
            rc->day_of_week = days;
        } else {
            rc->type = 0;
        }
        break;
    case ICAL_WEEKLY_RECURRENCE:
        rc->type = 1;
        rc->day_of_week = days ? days : 1 << (icaltime_day_of_week(start) - 1);
        if (r->week_start >= ICAL_SUNDAY_WEEKDAY && r->week_start <= ICAL_SATURDAY_WEEKDAY)
            rc->first_day_of_week = r->week_start - 1;
        break;
    case ICAL_MONTHLY_RECURRENCE:
        if (days && pos) {
            rc->type = 3;
            rc->week_of_month = pos;
            rc->day_of_week = days;
        } else {
            rc->type = 2;
            rc->day_of_month = r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX
                               && r->by_month_day[0] > 0 ? r->by_month_day[0] : start.day;
        }
        break;
    case ICAL_YEARLY_RECURRENCE:
        rc->month_of_year = r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX
                            ? icalrecurrencetype_month_month(r->by_month[0]) : start.month;
        if (days && pos) {
            rc->type = 6;
            rc->week_of_month = pos;
            rc->day_of_week = days;
        } else {
            rc->type = 5;
            rc->day_of_month = r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX
                               && r->by_month_day[0] > 0 ? r->by_month_day[0] : start.day;
        }
        break;
    default:
        return NULL;
    }
    return rc;
}

/* BEGIN and END lines pair up. */
static int well_nested(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    int depth = 0;

    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        apr_size_t n = nl ? (apr_size_t)(nl - s) - i : len - i;

        if (n >= 6 && !strncasecmp(s + i, "BEGIN:", 6))
            depth++;
        else if (n >= 4 && !strncasecmp(s + i, "END:", 4) && --depth < 0)
            return 0;
        i += n + 1;
    }
    return depth == 0;
}

const eas_mime_meeting_t *mime_meeting_parse(apr_pool_t *p, const char *ics, apr_size_t len)
{
    icalcomponent *cal, *ev, *c, *alarm;
    icalproperty *pr;
    eas_mime_meeting_t *mt = NULL;
    struct icaltimetype start, end, rid;
    const char *s;
    const char *b = NULL, *e = NULL;
    char *copy;
    int rsvp_seen = 0, rsvp_true = 0;
    apr_size_t i;
    conv_t cv;

    /* Only a well-nested calendar: libical writes a warning to stderr for
     * every misplaced BEGIN/END, and the server's stderr is its error log. */
    for (i = 0; i + 13 <= len; i++) {
        if (!b && i + 15 <= len && !strncasecmp(ics + i, "BEGIN:VCALENDAR", 15))
            b = ics + i;
        else if (b && !strncasecmp(ics + i, "END:VCALENDAR", 13))
            e = ics + i + 13;
    }
    if (!b || !e || !well_nested(b, (apr_size_t)(e - b)))
        return NULL;
    copy = apr_pstrmemdup(p, b, (apr_size_t)(e - b));
    cal = icalparser_parse_string(copy);
    if (!cal)
        return NULL;
    cv.cal = cal;
    if (icalcomponent_isa(cal) == ICAL_VEVENT_COMPONENT) {
        ev = cal;
    } else {
        /* The master (no RECURRENCE-ID) if there is one, else the first VEVENT. */
        ev = NULL;
        for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
             c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
            if (!ev)
                ev = c;
            if (!icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)) {
                ev = c;
                break;
            }
        }
    }
    if (!ev || !(s = icalcomponent_get_uid(ev)) || !*s)
        goto leave;
    start = icalcomponent_get_dtstart(ev);
    if (icaltime_is_null_time(start))
        goto leave;

    mt = apr_pcalloc(p, sizeof(*mt));
    mt->uid = clean(p, s);
    mt->method = "";
    if ((pr = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY))
        && (s = icalproperty_get_value_as_string(pr))) {
        char *u = apr_pstrdup(p, s), *x;
        for (x = u; *x; x++)
            *x = (char)apr_toupper(*x);
        mt->method = u;
    }
    end = icalcomponent_get_dtend(ev);
    mt->all_day = start.is_date;
    mt->start = to_time(&cv, start);
    if (!mt->start) {
        mt = NULL;
        goto leave;
    }
    mt->end = icaltime_is_null_time(end) ? mt->start : to_time(&cv, end);
    if (mt->end < mt->start)
        mt->end = mt->start;
    if (mt->all_day && mt->end <= mt->start)
        mt->end = mt->start + apr_time_from_sec(86400);
    mt->dtstamp = to_time(&cv, icalcomponent_get_dtstamp(ev));
    if (!mt->dtstamp)
        mt->dtstamp = mt->start;
    mt->sequence = icalcomponent_get_sequence(ev);
    mt->location = clean(p, icalcomponent_get_location(ev));
    if (mt->location && !*mt->location)
        mt->location = NULL;
    if ((pr = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY))) {
        const char *addr = icalproperty_get_organizer(pr);
        icalparameter *cn = icalproperty_get_first_parameter(pr, ICAL_CN_PARAMETER);
        const char *name = cn ? icalparameter_get_cn(cn) : NULL;

        if (addr && !strncasecmp(addr, "mailto:", 7))
            addr += 7;
        if (addr && *addr) {
            mt->organizer_email = clean(p, addr);
            mt->organizer = name && *name
                ? apr_psprintf(p, "\"%s\" <%s>", clean(p, name), mt->organizer_email)
                : mt->organizer_email;
        }
    }
    for (pr = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); pr;
         pr = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
        icalparameter *par = icalproperty_get_first_parameter(pr, ICAL_RSVP_PARAMETER);

        if (par) {
            rsvp_seen = 1;
            if (icalparameter_get_rsvp(par) == ICAL_RSVP_TRUE)
                rsvp_true = 1;
        }
        if (!mt->partstat
            && (par = icalproperty_get_first_parameter(pr, ICAL_PARTSTAT_PARAMETER))) {
            switch (icalparameter_get_partstat(par)) {
            case ICAL_PARTSTAT_ACCEPTED: mt->partstat = "ACCEPTED"; break;
            case ICAL_PARTSTAT_DECLINED: mt->partstat = "DECLINED"; break;
            case ICAL_PARTSTAT_TENTATIVE: mt->partstat = "TENTATIVE"; break;
            default: break;
            }
        }
    }
    mt->response_requested = rsvp_true || !rsvp_seen;
    mt->sensitivity = 0;
    if ((pr = icalcomponent_get_first_property(ev, ICAL_CLASS_PROPERTY))) {
        enum icalproperty_class cl = icalproperty_get_class(pr);
        mt->sensitivity = cl == ICAL_CLASS_PRIVATE ? 2 : cl == ICAL_CLASS_CONFIDENTIAL ? 3 : 0;
    }
    /* Outlook's intended status wins over TRANSP. */
    mt->busy_status = 2;
    if ((pr = icalcomponent_get_first_property(ev, ICAL_TRANSP_PROPERTY))
        && icalproperty_get_transp(pr) == ICAL_TRANSP_TRANSPARENT)
        mt->busy_status = 0;
    if ((s = xprop(ev, "X-MICROSOFT-CDO-INTENDEDSTATUS"))
        || (s = xprop(ev, "X-MICROSOFT-CDO-BUSYSTATUS"))) {
        if (!strcasecmp(s, "FREE"))
            mt->busy_status = 0;
        else if (!strcasecmp(s, "TENTATIVE"))
            mt->busy_status = 1;
        else if (!strcasecmp(s, "OOF"))
            mt->busy_status = 3;
        else if (!strcasecmp(s, "WORKINGELSEWHERE"))
            mt->busy_status = 4;
        else
            mt->busy_status = 2;
    }
    if ((s = xprop(ev, "X-MICROSOFT-DISALLOW-COUNTER")) && !strcasecmp(s, "TRUE"))
        mt->disallow_new_time = 1;
    mt->reminder = -1;
    if ((alarm = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT))
        && (pr = icalcomponent_get_first_property(alarm, ICAL_TRIGGER_PROPERTY))) {
        struct icaltriggertype tr = icalproperty_get_trigger(pr);

        apr_int64_t mins;

        if (icaltime_is_null_time(tr.time)) {
            apr_int64_t secs = icaldurationtype_as_int(tr.duration);
            mins = secs <= 0 ? -secs / 60 : 0;
        } else {
            apr_time_t at = to_time(&cv, tr.time);
            mins = at && at < mt->start ? apr_time_sec(mt->start - at) / 60 : 0;
        }
        /* A year at most; anything larger is not a reminder anyone set. */
        mt->reminder = mins > 525600 ? 525600 : (int)mins;
    }
    rid = icalcomponent_get_recurrenceid(ev);
    if (!icaltime_is_null_time(rid)) {
        mt->recurrence_id = to_time(&cv, rid);
        mt->instance_type = 3;
    }
    if ((pr = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY))) {
        struct icalrecurrencetype r = icalproperty_get_rrule(pr);

        mt->recurrence = recurrence(p, &cv, &r, start);
        if (!mt->recurrence_id)
            mt->instance_type = 1;
    }
    /* MS-ASEMAIL 2.2.2.47: a first request or an update of it. */
    if (!strcmp(mt->method, "REQUEST"))
        mt->meeting_message_type = mt->sequence > 0 ? 2 : 1;
    mt->global_obj_id = global_obj_id(p, mt->uid, mt->recurrence_id);
    if (start.zone && !start.is_date && start.zone != icaltimezone_get_utc_timezone()) {
        icaltimezone *z = (icaltimezone *)start.zone;
        const char *name = icaltimezone_get_tzid(z);
        icalcomponent *vtz = name ? find_vtimezone(cal, name) : NULL;
        zrule_t zr;

        if (vtz && zone_rule(vtz, start.year, &zr))
            tzinfo_from_rule(&zr, name, mt->tzinfo);
        else
            tzinfo_from_zone(z, name, (time_t)apr_time_sec(mt->start), mt->tzinfo);
    } else {
        memset(mt->tzinfo, 0, sizeof(mt->tzinfo));
        put_name(mt->tzinfo + 4, "UTC");
        put_name(mt->tzinfo + 88, "UTC");
    }
leave:
    icalcomponent_free(cal);
    return mt;
}
