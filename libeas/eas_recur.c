/*
 * EAS Recurrence <-> RRULE, and expansion through libical's iterator run on
 * floating wall-clock times, each occurrence then placed in the series' zone
 * with eas_tz (so blob-rule zones work as well as IANA ones).
 */
#include "eas_recur.h"
#include "eas_time.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include <libical/ical.h>

#define USEC APR_USEC_PER_SEC
#define DAY_US (86400 * (apr_time_t)USEC)
#define MAX_EAS_COUNT 999         /* MS-ASCAL 2.2.2.32 Occurrences */
#define MAX_INTERVAL 999          /* MS-ASCAL 2.2.2.25 Interval */
/* Iterator steps one expansion may take; a FilterType window needs a few
 * thousand at most (the iterator jumps to the window when it can). */
#define MAX_STEPS 200000

static const char *const day_names[7] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

/* MS-ASCAL 2.2.2.10: the CalendarType values a request may carry. */
static int valid_calendar_type(int t)
{
    return (t >= 0 && t <= 12) || t == 14 || t == 15 || t == 20;
}

/*
 * Lunar calendars recur in their own months (RFC 7529).  The Gregorian
 * variants (US, Japanese Emperor Era, Taiwan, Thai, ...) only number years
 * differently, so their occurrences are Gregorian ones.  CLDR has no
 * Japanese lunar calendar; the Chinese one is its nearest.
 */
static const char *rscale_of(int calendar_type)
{
    switch (calendar_type) {
    case 6: return "ISLAMIC-CIVIL";
    case 8: return "HEBREW";
    case 14: /* fall through */
    case 15: return "CHINESE";
    case 20: return "DANGI";
    default: return NULL;
    }
}

void eas_recur_init(eas_recur_t *r)
{
    memset(r, 0, sizeof(*r));
    r->first_day_of_week = -1;
}

/* MS-ASCAL 2.2.2.45 Type, 2.2.2.25 Interval, 2.2.2.32 Occurrences, 2.2.2.15
 * DayOfWeek, 2.2.2.14 DayOfMonth, 2.2.2.48 WeekOfMonth, 2.2.2.29 MonthOfYear,
 * 2.2.2.24 FirstDayOfWeek, 2.2.2.26 IsLeapMonth; MS-ASTASK 2.2.2.21
 * Regenerate, 2.2.2.11 DeadOccur. */
apr_status_t eas_recur_check(const eas_recur_t *r, const char **why)
{
    const char *w = NULL;

    if (r->type < EAS_RECUR_DAILY || r->type > EAS_RECUR_YEARLY_NTH || r->type == 4)
        w = "Type must be 0, 1, 2, 3, 5 or 6";
    else if (r->interval < 0 || r->interval > MAX_INTERVAL)
        w = "Interval must be 1..999";
    else if (r->occurrences < 0 || r->occurrences > MAX_EAS_COUNT)
        w = "Occurrences must be 1..999";
    else if (r->day_of_week < 0 || r->day_of_week > EAS_DOW_ANY)
        w = "DayOfWeek must be 1..127";
    else if (r->day_of_month < 0 || r->day_of_month > 31)
        w = "DayOfMonth must be 1..31";
    else if (r->week_of_month < 0 || r->week_of_month > 5)
        w = "WeekOfMonth must be 1..5";
    else if (!valid_calendar_type(r->calendar_type))
        w = "CalendarType is not one of MS-ASCAL 2.2.2.10";
    else if (r->month_of_year < 0
             || r->month_of_year > (rscale_of(r->calendar_type) ? 13 : 12))
        w = "MonthOfYear must be 1..12";
    else if (r->first_day_of_week < -1 || r->first_day_of_week > 6)
        w = "FirstDayOfWeek must be 0..6";
    else if ((r->is_leap_month & ~1) || (r->regenerate & ~1) || (r->dead_occur & ~1))
        w = "IsLeapMonth, Regenerate and DeadOccur are 0 or 1";
    else if (r->is_leap_month && !rscale_of(r->calendar_type))
        w = "IsLeapMonth needs a lunar CalendarType";
    if (why)
        *why = w;
    return w ? APR_EINVAL : APR_SUCCESS;
}

/* ---- EAS -> RRULE ----------------------------------------------------------- */

static int walltime_ok(const eas_walltime_t *wt)
{
    apr_time_t t;
    return wt && eas_walltime_to_time(wt, &t) == APR_SUCCESS;
}

static const char *day_list(apr_pool_t *p, int mask)
{
    const char *s = NULL;
    int i;
    for (i = 1; i <= 7; ++i) {
        int d = i % 7;    /* Monday first, as RFC 5545 examples write it */
        if (mask & (1 << d))
            s = s ? apr_pstrcat(p, s, ",", day_names[d], NULL) : day_names[d];
    }
    return s;
}

static int single_day(int mask)
{
    int i;
    for (i = 0; i < 7; ++i)
        if (mask == 1 << i)
            return i;
    return -1;
}

/* "the week-th (5 = last) of the days in mask" */
static const char *nth_day(apr_pool_t *p, int mask, int week)
{
    int pos = week == 5 ? -1 : week, d = single_day(mask);
    if (d >= 0)
        return apr_psprintf(p, "BYDAY=%d%s", pos, day_names[d]);
    return apr_psprintf(p, "BYDAY=%s;BYSETPOS=%d", day_list(p, mask), pos);
}

/* Day d of a month, the month's last day when it is shorter (Exchange). */
static const char *month_day(apr_pool_t *p, int d, int month, int lunar)
{
    int shortest = 28, longest = 31;

    if (lunar)      /* RFC 7529 SKIP=BACKWARD gives the last day */
        return apr_psprintf(p, "BYMONTHDAY=%d", d);
    if (month) {
        shortest = eas_days_in_month(2001, month);
        longest = eas_days_in_month(2000, month);
    }
    if (d > longest)
        d = longest;
    if (d <= shortest)
        return apr_psprintf(p, "BYMONTHDAY=%d", d);
    if (d == 31)
        return "BYMONTHDAY=-1";
    /* 29 or 30: the last of 28..d that the month has. */
    return d == 29 ? "BYMONTHDAY=28,29;BYSETPOS=-1" : "BYMONTHDAY=28,29,30;BYSETPOS=-1";
}

static int week_of(const eas_walltime_t *wt)
{
    return (wt->day - 1) / 7 + 1;
}

/* The pattern part of the RRULE: everything but COUNT and UNTIL. */
static apr_status_t pattern_rule(apr_pool_t *p, const eas_recur_t *r,
                                 const eas_walltime_t *dtstart, const char **out,
                                 const char **why)
{
    int dow = eas_walltime_weekday(dtstart);
    int mask = r->day_of_week ? r->day_of_week : 1 << dow;
    int week = r->week_of_month ? r->week_of_month : week_of(dtstart);
    int mday = r->day_of_month ? r->day_of_month : dtstart->day;
    int month = r->month_of_year ? r->month_of_year : dtstart->month;
    const char *rscale = NULL, *s, *leap = r->is_leap_month ? "L" : "";

    if (r->type == EAS_RECUR_MONTHLY || r->type == EAS_RECUR_MONTHLY_NTH
        || r->type == EAS_RECUR_YEARLY || r->type == EAS_RECUR_YEARLY_NTH)
        rscale = rscale_of(r->calendar_type);
    if (!rscale && month > 12) {
        *why = "MonthOfYear 13 exists only in lunar calendars";
        return APR_EINVAL;
    }
    switch (r->type) {
    case EAS_RECUR_DAILY:
        /* MS-ASCAL allows DayOfWeek in daily patterns ("every weekday"). */
        s = r->day_of_week && r->day_of_week != EAS_DOW_ANY
            ? apr_pstrcat(p, "FREQ=DAILY;BYDAY=", day_list(p, r->day_of_week), NULL)
            : "FREQ=DAILY";
        break;
    case EAS_RECUR_WEEKLY:
        s = apr_pstrcat(p, "FREQ=WEEKLY;BYDAY=", day_list(p, mask), NULL);
        break;
    case EAS_RECUR_MONTHLY:
        s = apr_pstrcat(p, "FREQ=MONTHLY;", month_day(p, mday, 0, rscale != NULL), NULL);
        break;
    case EAS_RECUR_MONTHLY_NTH:
        s = apr_pstrcat(p, "FREQ=MONTHLY;", nth_day(p, mask, week), NULL);
        break;
    case EAS_RECUR_YEARLY:
        s = apr_psprintf(p, "FREQ=YEARLY;BYMONTH=%d%s;%s", month, leap,
                         month_day(p, mday, rscale ? 0 : month, rscale != NULL));
        break;
    default:    /* EAS_RECUR_YEARLY_NTH */
        s = apr_psprintf(p, "FREQ=YEARLY;BYMONTH=%d%s;%s", month, leap,
                         nth_day(p, mask, week));
        break;
    }
    if (r->interval > 1)
        s = apr_psprintf(p, "%s;INTERVAL=%d", s, r->interval);
    if (r->first_day_of_week >= 0)
        s = apr_pstrcat(p, s, ";WKST=", day_names[r->first_day_of_week], NULL);
    if (rscale)
        s = apr_pstrcat(p, "RSCALE=", rscale, ";", s, ";SKIP=BACKWARD", NULL);
    *out = s;
    return APR_SUCCESS;
}

/* ---- walking a rule ------------------------------------------------------------- */

typedef int walk_fn(void *baton, apr_time_t start, const eas_walltime_t *local);

static apr_status_t parse_rule(const char *s, struct icalrecurrencetype *rr)
{
    *rr = icalrecurrencetype_from_string(s);
    icalerror_clear_errno();
    if (rr->freq == ICAL_NO_RECURRENCE) {
        free(rr->rscale);
        rr->rscale = NULL;
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static void free_rule(struct icalrecurrencetype *rr)
{
    free(rr->rscale);
    rr->rscale = NULL;
}

static struct icaltimetype to_ical(const eas_walltime_t *wt)
{
    struct icaltimetype t = icaltime_null_time();
    t.year = wt->year;
    t.month = wt->month;
    t.day = wt->day;
    t.hour = wt->hour;
    t.minute = wt->minute;
    t.second = wt->second;
    return t;
}

static int list_len(const short *a, int cap)
{
    int n = 0;
    while (n < cap && a[n] != ICAL_RECURRENCE_ARRAY_MAX)
        ++n;
    return n;
}

/*
 * A weekly rule with days of the week only.  libical 3.0 splits weeks at
 * Sunday whatever WKST says (DTSTART Monday 2007-08-27,
 * "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;WKST=MO" gives 9 September, RFC 5545
 * wants 2 September), so these are walked here.
 */
static int plain_weekly(const struct icalrecurrencetype *rr)
{
    int n = list_len(rr->by_day, ICAL_BY_DAY_SIZE), i;

    if (rr->freq != ICAL_WEEKLY_RECURRENCE || rr->rscale
        || list_len(rr->by_second, ICAL_BY_SECOND_SIZE)
        || list_len(rr->by_minute, ICAL_BY_MINUTE_SIZE)
        || list_len(rr->by_hour, ICAL_BY_HOUR_SIZE)
        || list_len(rr->by_month, ICAL_BY_MONTH_SIZE)
        || list_len(rr->by_month_day, ICAL_BY_MONTHDAY_SIZE)
        || list_len(rr->by_year_day, ICAL_BY_YEARDAY_SIZE)
        || list_len(rr->by_week_no, ICAL_BY_WEEKNO_SIZE)
        || list_len(rr->by_set_pos, ICAL_BY_SETPOS_SIZE))
        return 0;
    for (i = 0; i < n; ++i)
        if (icalrecurrencetype_day_position(rr->by_day[i]) != 0)
            return 0;
    return 1;
}

static apr_status_t walk_weekly(const struct icalrecurrencetype *rr,
                                const eas_walltime_t *dtstart, eas_tz_t *tz, int has_until,
                                apr_time_t until, apr_time_t jump, walk_fn *fn, void *baton)
{
    int wkst = rr->week_start >= ICAL_SUNDAY_WEEKDAY && rr->week_start <= ICAL_SATURDAY_WEEKDAY
               ? rr->week_start - 1 : 1;
    int interval = rr->interval > 0 ? rr->interval : 1, wd0 = eas_walltime_weekday(dtstart);
    int n = list_len(rr->by_day, ICAL_BY_DAY_SIZE), mask = 0, offs[7], no = 0, i, count = 0;
    apr_time_t local0, first, tod;
    apr_int64_t day0, sow0, k = 0;
    long steps = 0;
    apr_status_t rv;

    if ((rv = eas_walltime_to_time(dtstart, &local0)) != APR_SUCCESS
        || (rv = eas_tz_local_to_utc(tz, dtstart, EAS_TZ_FORMER, &first, NULL)) != APR_SUCCESS)
        return rv;
    for (i = 0; i < n; ++i)
        mask |= 1 << (icalrecurrencetype_day_day_of_week(rr->by_day[i]) - 1);
    if (!mask)
        mask = 1 << wd0;
    for (i = 0; i < 7; ++i)          /* days in week order, from WKST */
        if (mask & (1 << ((wkst + i) % 7)))
            offs[no++] = i;
    day0 = local0 / DAY_US;
    if (local0 < 0 && local0 % DAY_US)
        --day0;                      /* floor before 1970 */
    tod = local0 - day0 * DAY_US;
    sow0 = day0 - (wd0 - wkst + 7) % 7;
    if (jump > first + 2 * DAY_US && rr->count == 0) {
        apr_int64_t weeks = (jump - first) / DAY_US / 7 - 1;
        k = weeks > 0 ? weeks - weeks % interval : 0;
    }
    for (;; k += interval) {
        for (i = 0; i < no; ++i) {
            apr_int64_t day = sow0 + 7 * k + offs[i];
            eas_walltime_t wt;
            apr_time_t u;
            if (day < day0)
                continue;
            if (++steps > MAX_STEPS)
                return APR_INCOMPLETE;
            eas_walltime_from_time(day * DAY_US + tod, &wt);
            if (wt.year > 9999 || (rr->count && ++count > rr->count)
                || eas_tz_local_to_utc(tz, &wt, EAS_TZ_FORMER, &u, NULL) != APR_SUCCESS
                || (has_until && u > until) || fn(baton, u, &wt))
                return APR_SUCCESS;
        }
    }
}

#define NO_STOP APR_INT64_MAX

/*
 * Calls fn for each occurrence of rr (its COUNT applies, its UNTIL must be
 * cleared: until is ours, in UTC) until fn returns non-zero.  jump, when
 * later than dtstart, lets the iterator skip ahead (not with COUNT, whose
 * numbering needs every occurrence).  No occurrence after stop is wanted.
 * APR_INCOMPLETE when the step limit ended the walk.
 */
static apr_status_t walk(const struct icalrecurrencetype *rr, const eas_walltime_t *dtstart,
                         eas_tz_t *tz, int has_until, apr_time_t until, apr_time_t jump,
                         apr_time_t stop, walk_fn *fn, void *baton)
{
    struct icalrecurrencetype bounded = *rr;
    icalrecur_iterator *it;
    apr_time_t first;
    apr_status_t rv;
    long steps;

    if (plain_weekly(rr))
        return walk_weekly(rr, dtstart, tz, has_until, until, jump, fn, baton);
    if ((rv = eas_tz_local_to_utc(tz, dtstart, EAS_TZ_FORMER, &first, NULL)) != APR_SUCCESS)
        return rv;
    /* libical searches up to the 26th century for a rule that never
     * matches (BYMONTH=2;BYMONTHDAY=30); its own UNTIL, in the wall-clock
     * time it iterates in, ends the search where we stop looking. */
    if (has_until && until < stop)
        stop = until;
    if (stop < NO_STOP - 3 * DAY_US) {
        eas_walltime_t sw;
        if (eas_tz_utc_to_local(tz, stop + 2 * DAY_US, &sw, NULL) == APR_SUCCESS)
            bounded.until = to_ical(&sw);
    }
    it = icalrecur_iterator_new(bounded, to_ical(dtstart));
    icalerror_clear_errno();
    if (!it)
        return APR_EINVAL;    /* libical found the rule malformed or empty */
    if (jump > first + 2 * DAY_US && jump < stop && rr->count == 0 && !rr->rscale) {
        eas_walltime_t jw;
        if (eas_tz_utc_to_local(tz, jump - 2 * DAY_US, &jw, NULL) == APR_SUCCESS)
            icalrecur_iterator_set_start(it, to_ical(&jw));
        icalerror_clear_errno();
    }
    rv = APR_INCOMPLETE;
    for (steps = 0; steps < MAX_STEPS; ++steps) {
        struct icaltimetype t = icalrecur_iterator_next(it);
        eas_walltime_t wt;
        apr_time_t u;
        if (icaltime_is_null_time(t)) {
            rv = APR_SUCCESS;
            break;
        }
        wt.year = t.year;
        wt.month = t.month;
        wt.day = t.day;
        wt.hour = t.hour;
        wt.minute = t.minute;
        wt.second = t.second;
        if (eas_tz_local_to_utc(tz, &wt, EAS_TZ_FORMER, &u, NULL) != APR_SUCCESS
            || (has_until && u > until) || fn(baton, u, &wt)) {
            rv = APR_SUCCESS;
            break;
        }
    }
    icalrecur_iterator_free(it);
    icalerror_clear_errno();
    return rv;
}

typedef struct {
    int n, want;
    apr_time_t at;
} nth_baton_t;

static int nth_cb(void *baton, apr_time_t start, const eas_walltime_t *local)
{
    nth_baton_t *b = baton;
    b->at = start;
    return ++b->n >= b->want;
}

/* Start of the last occurrence of a COUNT rule (its n-th). */
static apr_status_t last_of_count(struct icalrecurrencetype *rr, const eas_walltime_t *dtstart,
                                  eas_tz_t *tz, apr_time_t *at)
{
    nth_baton_t b = { 0, rr->count, 0 };
    apr_status_t rv = walk(rr, dtstart, tz, 0, 0, 0, NO_STOP, nth_cb, &b);
    if (rv != APR_SUCCESS)
        return rv;
    if (b.n == 0)
        return APR_NOTFOUND;
    *at = b.at;
    return APR_SUCCESS;
}

static const char *until_text(apr_pool_t *p, apr_time_t until, eas_tz_t *tz, int all_day)
{
    if (all_day) {
        eas_walltime_t wt;
        if (eas_tz_utc_to_local(tz, until, &wt, NULL) != APR_SUCCESS)
            return NULL;
        return apr_psprintf(p, "%04d%02d%02d", wt.year, wt.month, wt.day);
    }
    return eas_time_format_compact(p, until);
}

apr_status_t eas_recur_to_rrule(apr_pool_t *p, const eas_recur_t *r,
                                const eas_walltime_t *dtstart, eas_tz_t *tz, int all_day,
                                const char **rrule, const char **why)
{
    const char *s, *w = NULL, *u;
    int use_count = r->occurrences > 0, use_until = r->has_until;
    apr_status_t rv;

    if (!why)
        why = &w;
    if ((rv = eas_recur_check(r, why)) != APR_SUCCESS)
        return rv;
    if (!walltime_ok(dtstart)) {
        *why = "invalid start";
        return APR_EINVAL;
    }
    if ((rv = pattern_rule(p, r, dtstart, &s, why)) != APR_SUCCESS)
        return rv;
    if (use_count && use_until) {
        /* MS-ASCAL 2.2.2.32: mutually exclusive; honour whichever ends first. */
        struct icalrecurrencetype rr;
        apr_time_t last;
        if (parse_rule(apr_psprintf(p, "%s;COUNT=%d", s, r->occurrences), &rr) != APR_SUCCESS) {
            *why = "no iCalendar form";
            return APR_EINVAL;
        }
        rv = last_of_count(&rr, dtstart, tz, &last);
        free_rule(&rr);
        if (rv == APR_SUCCESS && last > r->until)
            use_count = 0;
        else
            use_until = 0;
    }
    if (use_count)
        s = apr_psprintf(p, "%s;COUNT=%d", s, r->occurrences);
    else if (use_until) {
        if (!(u = until_text(p, r->until, tz, all_day))) {
            *why = "Until out of range";
            return APR_EINVAL;
        }
        s = apr_pstrcat(p, s, ";UNTIL=", u, NULL);
    }
    *rrule = s;
    return APR_SUCCESS;
}

/* ---- RRULE -> EAS ----------------------------------------------------------- */

static int calendar_type_of(const char *rscale, int *inexact)
{
    static const struct { const char *name; int type; int exact; } map[] = {
        { "GREGORIAN", 0, 1 }, { "ISLAMIC-CIVIL", 6, 1 }, { "ISLAMIC", 6, 0 },
        { "ISLAMIC-UMALQURA", 6, 0 }, { "ISLAMIC-TBLA", 6, 0 }, { "ISLAMIC-RGSA", 6, 0 },
        { "HEBREW", 8, 1 }, { "CHINESE", 15, 1 }, { "DANGI", 20, 1 },
    };
    size_t i;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); ++i)
        if (strcasecmp(rscale, map[i].name) == 0) {
            if (!map[i].exact)
                *inexact = 1;
            return map[i].type;
        }
    return -1;
}

static apr_status_t until_from_ical(struct icaltimetype u, eas_tz_t *tz, int all_day,
                                    apr_time_t *out)
{
    eas_walltime_t wt = { u.year, u.month, u.day, u.hour, u.minute, u.second };

    if (u.is_date) {
        /* The whole last day counts (an all-day item starts at midnight). */
        wt.hour = all_day ? 0 : 23;
        wt.minute = wt.second = all_day ? 0 : 59;
        return eas_tz_local_to_utc(tz, &wt, EAS_TZ_FORMER, out, NULL);
    }
    if (icaltime_is_utc(u))
        return eas_walltime_to_time(&wt, out);
    return eas_tz_local_to_utc(tz, &wt, EAS_TZ_FORMER, out, NULL);
}

/* BYDAY without positions -> mask; -1 when a position is present. */
static int plain_days(const short *by_day, int n)
{
    int mask = 0, i;
    for (i = 0; i < n; ++i) {
        if (icalrecurrencetype_day_position(by_day[i]) != 0)
            return -1;
        mask |= 1 << (icalrecurrencetype_day_day_of_week(by_day[i]) - 1);
    }
    return mask;
}

/* A week of month from an RFC position: 1..4, -1 (last), 5 (only in some
 * months; EAS's 5 is "last"). */
static int week_from_pos(int pos, int *inexact)
{
    if (pos >= 1 && pos <= 4)
        return pos;
    if (pos == -1)
        return 5;
    if (pos == 5) {
        *inexact = 1;
        return 5;
    }
    return 0;
}

static apr_status_t from_rule(struct icalrecurrencetype *rr, const eas_walltime_t *dtstart,
                              eas_tz_t *tz, int all_day, eas_recur_t *r, int *inexact,
                              const char **why)
{
    int nday = list_len(rr->by_day, ICAL_BY_DAY_SIZE);
    int nmday = list_len(rr->by_month_day, ICAL_BY_MONTHDAY_SIZE);
    int nmonth = list_len(rr->by_month, ICAL_BY_MONTH_SIZE);
    int npos = list_len(rr->by_set_pos, ICAL_BY_SETPOS_SIZE);
    int yearly = rr->freq == ICAL_YEARLY_RECURRENCE, lunar = 0, month = 0, mask, i;
    apr_status_t rv;

    eas_recur_init(r);
    if (rr->freq != ICAL_DAILY_RECURRENCE && rr->freq != ICAL_WEEKLY_RECURRENCE
        && rr->freq != ICAL_MONTHLY_RECURRENCE && !yearly) {
        *why = "EAS recurs daily at most";
        return APR_ENOTIMPL;
    }
    if (list_len(rr->by_second, ICAL_BY_SECOND_SIZE)
        || list_len(rr->by_minute, ICAL_BY_MINUTE_SIZE)
        || list_len(rr->by_hour, ICAL_BY_HOUR_SIZE)) {
        *why = "EAS has no BYHOUR, BYMINUTE or BYSECOND";
        return APR_ENOTIMPL;
    }
    if (list_len(rr->by_year_day, ICAL_BY_YEARDAY_SIZE)
        || list_len(rr->by_week_no, ICAL_BY_WEEKNO_SIZE)) {
        *why = "EAS has no BYYEARDAY or BYWEEKNO";
        return APR_ENOTIMPL;
    }
    if (nmonth > 1 || npos > 1) {
        *why = "EAS has one month and one set position at most";
        return APR_ENOTIMPL;
    }
    if (rr->interval > MAX_INTERVAL) {
        *why = "Interval beyond 999";
        return APR_ENOTIMPL;
    }
    if (rr->rscale) {
        r->calendar_type = calendar_type_of(rr->rscale, inexact);
        if (r->calendar_type < 0) {
            *why = "EAS has no such calendar";
            return APR_ENOTIMPL;
        }
        lunar = r->calendar_type != 0;
        if (lunar && rr->skip != ICAL_SKIP_BACKWARD)
            *inexact = 1;
    }
    r->interval = rr->interval > 1 ? rr->interval : 1;
    r->first_day_of_week = rr->week_start >= ICAL_SUNDAY_WEEKDAY
                           && rr->week_start <= ICAL_SATURDAY_WEEKDAY ? rr->week_start - 1 : 1;
    if (nmonth) {
        if (!yearly) {
            *why = "EAS has BYMONTH only in yearly patterns";
            return APR_ENOTIMPL;
        }
        month = icalrecurrencetype_month_month(rr->by_month[0]);
        r->is_leap_month = icalrecurrencetype_month_is_leap(rr->by_month[0]) != 0;
    }

    if (rr->freq == ICAL_DAILY_RECURRENCE || rr->freq == ICAL_WEEKLY_RECURRENCE) {
        if (nmday || npos || (mask = plain_days(rr->by_day, nday)) < 0) {
            *why = "EAS daily and weekly patterns take plain days of the week only";
            return APR_ENOTIMPL;
        }
        if (rr->freq == ICAL_DAILY_RECURRENCE) {
            r->type = EAS_RECUR_DAILY;
            r->day_of_week = mask == EAS_DOW_ANY ? 0 : mask;
        }
        else {
            r->type = EAS_RECUR_WEEKLY;
            r->day_of_week = mask ? mask : 1 << eas_walltime_weekday(dtstart);
        }
    }
    else if (nmday) {
        short *md = rr->by_month_day;
        int longest = yearly && month && !lunar ? eas_days_in_month(2000, month) : 31;
        int shortest = yearly && month && !lunar ? eas_days_in_month(2001, month) : 28;
        if (nday || (yearly && !month && r->interval > 1)) {
            *why = "EAS cannot combine these BYMONTHDAY and BYDAY parts";
            return APR_ENOTIMPL;
        }
        if (nmday == 1 && npos == 0 && md[0] == -1)
            r->day_of_month = longest;
        else if (nmday == 1 && npos == 0 && md[0] >= 1 && md[0] <= 31) {
            r->day_of_month = md[0];
            if (md[0] > shortest && !(lunar && rr->skip == ICAL_SKIP_BACKWARD))
                *inexact = 1;    /* RFC 5545 skips months without that day */
        }
        else if (npos == 1 && rr->by_set_pos[0] == -1 && md[0] == 28 && md[nmday - 1] <= 31) {
            /* "BYMONTHDAY=28,29,30;BYSETPOS=-1": day 30 or the month's last */
            for (i = 1; i < nmday; ++i)
                if (md[i] != 28 + i)
                    break;
            if (i < nmday || nmday < 2) {
                *why = "EAS has one day of the month";
                return APR_ENOTIMPL;
            }
            r->day_of_month = md[nmday - 1];
        }
        else {
            *why = "EAS has one day of the month";
            return APR_ENOTIMPL;
        }
        /* YEARLY;BYMONTHDAY without BYMONTH recurs every month. */
        r->type = yearly && month ? EAS_RECUR_YEARLY : EAS_RECUR_MONTHLY;
    }
    else if (nday) {
        int pos;
        if (nday == 1 && npos == 0 && icalrecurrencetype_day_position(rr->by_day[0]) != 0) {
            pos = icalrecurrencetype_day_position(rr->by_day[0]);
            mask = 1 << (icalrecurrencetype_day_day_of_week(rr->by_day[0]) - 1);
        }
        else if (npos == 1 && (mask = plain_days(rr->by_day, nday)) > 0)
            pos = rr->by_set_pos[0];
        else {
            *why = "EAS has the n-th of a set of days only";
            return APR_ENOTIMPL;
        }
        if (!(r->week_of_month = week_from_pos(pos, inexact))) {
            *why = "EAS counts weeks 1..4 and last";
            return APR_ENOTIMPL;
        }
        if (yearly && !month) {
            /* The n-th day of the year: in January, or December for "last". */
            if (r->week_of_month == 5 && pos != -1) {
                *why = "EAS counts weeks 1..4 and last";
                return APR_ENOTIMPL;
            }
            month = r->week_of_month == 5 ? 12 : 1;
        }
        r->day_of_week = mask;
        r->type = yearly ? EAS_RECUR_YEARLY_NTH : EAS_RECUR_MONTHLY_NTH;
    }
    else {
        /* The day (and month) of dtstart. */
        r->type = yearly ? EAS_RECUR_YEARLY : EAS_RECUR_MONTHLY;
        r->day_of_month = dtstart->day;
        if (!lunar && (yearly ? dtstart->month == 2 && dtstart->day == 29 : dtstart->day > 28))
            *inexact = 1;
    }
    if (r->type == EAS_RECUR_YEARLY || r->type == EAS_RECUR_YEARLY_NTH)
        r->month_of_year = month ? month : dtstart->month;

    if (rr->count > MAX_EAS_COUNT) {
        apr_time_t last;
        if ((rv = last_of_count(rr, dtstart, tz, &last)) != APR_SUCCESS) {
            *why = "COUNT too large to resolve";
            return rv == APR_INCOMPLETE ? APR_ENOTIMPL : rv;
        }
        r->has_until = 1;
        r->until = last;
    }
    else if (rr->count > 0)
        r->occurrences = rr->count;
    else if (!icaltime_is_null_time(rr->until)) {
        if (until_from_ical(rr->until, tz, all_day, &r->until) != APR_SUCCESS) {
            *why = "UNTIL out of range";
            return APR_EINVAL;
        }
        r->has_until = 1;
    }
    return eas_recur_check(r, why);
}

apr_status_t eas_recur_from_rrule(const char *rrule, const eas_walltime_t *dtstart,
                                  eas_tz_t *tz, int all_day, eas_recur_t *r, int *inexact,
                                  const char **why)
{
    struct icalrecurrencetype rr;
    const char *w = NULL;
    int inx = 0;
    apr_status_t rv;

    if (!why)
        why = &w;
    if (!rrule || !walltime_ok(dtstart)) {
        *why = "no rule or invalid start";
        return APR_EINVAL;
    }
    if (parse_rule(rrule, &rr) != APR_SUCCESS) {
        *why = "malformed RRULE";
        return APR_EINVAL;
    }
    rv = from_rule(&rr, dtstart, tz, all_day, r, &inx, why);
    free_rule(&rr);
    if (inexact)
        *inexact = inx;
    return rv;
}

/* ---- expansion ------------------------------------------------------------------ */

typedef struct {
    apr_array_header_t *out;
    const apr_array_header_t *skip;
    apr_interval_time_t duration;
    apr_time_t from, to;
    int max, more;
} expand_baton_t;

static int expand_cb(void *baton, apr_time_t start, const eas_walltime_t *local)
{
    expand_baton_t *b = baton;
    int i;

    /* Wall-clock order is UTC order but for a gap's few hours. */
    if (start >= b->to && start - b->to >= 2 * DAY_US)
        return 1;
    if (start >= b->to
        || (b->duration > 0 ? start + b->duration <= b->from : start < b->from))
        return 0;
    for (i = 0; b->skip && i < b->skip->nelts; ++i)
        if (APR_ARRAY_IDX(b->skip, i, apr_time_t) == start)
            return 0;
    if (b->out->nelts >= b->max) {
        b->more = 1;
        return 1;
    }
    {
        eas_occurrence_t *o = apr_array_push(b->out);
        o->start = start;
        o->local = *local;
    }
    return 0;
}

static apr_status_t expand_rule(apr_pool_t *p, struct icalrecurrencetype *rr, int has_until,
                                apr_time_t until, const eas_walltime_t *dtstart, eas_tz_t *tz,
                                apr_interval_time_t duration, apr_time_t from, apr_time_t to,
                                const apr_array_header_t *skip, int max,
                                apr_array_header_t **out)
{
    expand_baton_t b;
    apr_status_t rv;

    if (max <= 0 || duration < 0)
        return APR_EINVAL;
    b.out = apr_array_make(p, max < 64 ? max : 64, sizeof(eas_occurrence_t));
    b.skip = skip;
    b.duration = duration;
    b.from = from;
    b.to = to;
    b.max = max;
    b.more = 0;
    rv = walk(rr, dtstart, tz, has_until, until, from - duration, to, expand_cb, &b);
    *out = b.out;
    if (rv == APR_SUCCESS && b.more)
        rv = APR_INCOMPLETE;
    return rv;
}

apr_status_t eas_recur_expand(apr_pool_t *p, const eas_recur_t *r,
                              const eas_walltime_t *dtstart, eas_tz_t *tz,
                              apr_interval_time_t duration, apr_time_t from, apr_time_t to,
                              const apr_array_header_t *skip, int max,
                              apr_array_header_t **out)
{
    struct icalrecurrencetype rr;
    const char *s, *why;
    apr_status_t rv;

    if ((rv = eas_recur_check(r, &why)) != APR_SUCCESS || !walltime_ok(dtstart))
        return APR_EINVAL;
    if ((rv = pattern_rule(p, r, dtstart, &s, &why)) != APR_SUCCESS)
        return rv;
    /* Occurrences go to libical as COUNT, Until stays ours: with both, the
     * series ends at whichever comes first. */
    if (r->occurrences)
        s = apr_psprintf(p, "%s;COUNT=%d", s, r->occurrences);
    if (parse_rule(s, &rr) != APR_SUCCESS)
        return APR_EINVAL;
    rv = expand_rule(p, &rr, r->has_until, r->until, dtstart, tz, duration, from, to, skip, max,
                     out);
    free_rule(&rr);
    return rv;
}

/* RFC 5545 3.3.10 restrictions libical does not enforce, and sub-daily
 * frequencies, which no EAS item has and libical walks second by second. */
static apr_status_t expandable(const struct icalrecurrencetype *rr)
{
    int i, n = list_len(rr->by_day, ICAL_BY_DAY_SIZE);
    int monthly_or_yearly = rr->freq == ICAL_MONTHLY_RECURRENCE
                            || rr->freq == ICAL_YEARLY_RECURRENCE;

    if (rr->freq == ICAL_SECONDLY_RECURRENCE || rr->freq == ICAL_MINUTELY_RECURRENCE
        || rr->freq == ICAL_HOURLY_RECURRENCE)
        return APR_ENOTIMPL;
    for (i = 0; i < n && !monthly_or_yearly; ++i)
        if (icalrecurrencetype_day_position(rr->by_day[i]) != 0)
            return APR_EINVAL;
    if ((rr->freq == ICAL_WEEKLY_RECURRENCE && list_len(rr->by_month_day, ICAL_BY_MONTHDAY_SIZE))
        || (rr->freq != ICAL_YEARLY_RECURRENCE
            && (list_len(rr->by_year_day, ICAL_BY_YEARDAY_SIZE)
                || list_len(rr->by_week_no, ICAL_BY_WEEKNO_SIZE))))
        return APR_EINVAL;
    return APR_SUCCESS;
}

apr_status_t eas_rrule_expand(apr_pool_t *p, const char *rrule, const eas_walltime_t *dtstart,
                              eas_tz_t *tz, int all_day, apr_interval_time_t duration,
                              apr_time_t from, apr_time_t to, const apr_array_header_t *skip,
                              int max, apr_array_header_t **out)
{
    struct icalrecurrencetype rr;
    apr_time_t until = 0;
    int has_until = 0;
    apr_status_t rv;

    if (!rrule || !walltime_ok(dtstart) || parse_rule(rrule, &rr) != APR_SUCCESS)
        return APR_EINVAL;
    if ((rv = expandable(&rr)) != APR_SUCCESS) {
        free_rule(&rr);
        return rv;
    }
    if (!icaltime_is_null_time(rr.until)) {
        if (until_from_ical(rr.until, tz, all_day, &until) != APR_SUCCESS) {
            free_rule(&rr);
            return APR_EINVAL;
        }
        has_until = 1;
        rr.until = icaltime_null_time();
    }
    rv = expand_rule(p, &rr, has_until, until, dtstart, tz, duration, from, to, skip, max, out);
    free_rule(&rr);
    return rv;
}

/* ---- occurrence identity ---------------------------------------------------------- */

apr_status_t eas_recur_find(const eas_recur_t *r, const eas_walltime_t *dtstart, eas_tz_t *tz,
                            apr_time_t original)
{
    apr_pool_t *sp;
    apr_array_header_t *occ;
    apr_status_t rv;

    if ((rv = apr_pool_create(&sp, NULL)) != APR_SUCCESS)
        return rv;
    rv = eas_recur_expand(sp, r, dtstart, tz, 0, original, original + 1, NULL, 1, &occ);
    if (rv == APR_SUCCESS || rv == APR_INCOMPLETE)
        rv = occ->nelts == 1 && APR_ARRAY_IDX(occ, 0, eas_occurrence_t).start == original
             ? APR_SUCCESS : APR_NOTFOUND;
    apr_pool_destroy(sp);
    return rv;
}

const char *eas_recur_instance_id(apr_pool_t *p, apr_time_t original)
{
    return eas_time_format_compact(p, original);
}

const char *eas_recur_exdate(apr_pool_t *p, apr_time_t original, eas_tz_t *tz, int all_day)
{
    return all_day ? until_text(p, original, tz, 1) : eas_recur_instance_id(p, original);
}

static int num(const char *s, int n)
{
    int v = 0;
    while (n--)
        v = v * 10 + (*s++ - '0');
    return v;
}

apr_status_t eas_recur_exdate_parse(const char *value, eas_tz_t *tz, apr_time_t *original)
{
    eas_walltime_t wt = { 0, 0, 0, 0, 0, 0 };
    size_t len = value ? strlen(value) : 0, i;
    int utc = len == 16 && value[15] == 'Z';

    if (utc)
        --len;
    if (len != 8 && len != 15)
        return APR_EINVAL;
    for (i = 0; i < len; ++i)
        if (i == 8 ? value[i] != 'T' : !apr_isdigit(value[i]))
            return APR_EINVAL;
    wt.year = num(value, 4);
    wt.month = num(value + 4, 2);
    wt.day = num(value + 6, 2);
    if (len == 15) {
        wt.hour = num(value + 9, 2);
        wt.minute = num(value + 11, 2);
        wt.second = num(value + 13, 2);
    }
    if (utc)
        return eas_walltime_to_time(&wt, original);
    return eas_tz_local_to_utc(tz, &wt, EAS_TZ_FORMER, original, NULL);
}
