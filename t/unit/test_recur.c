/*
 * eas_recur: each recurrence type, RRULE round trips, expansion across DST,
 * Until vs Occurrences, last week of the month, leap years, lunar calendars,
 * exceptions, and invalid input.  The property tests compare the expansion
 * (libical) with a day-by-day model of the Exchange semantics written here.
 */
#include "tap.h"
#include "eas_recur.h"

#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#define SEC APR_USEC_PER_SEC
#define DAY_US (86400 * (apr_time_t)SEC)

static apr_pool_t *pool;

/* "yyyymmddThhmmssZ" -> UTC (any year, unlike apr_time_exp_gmt_get()). */
static apr_time_t U(const char *compact)
{
    eas_walltime_t wt;
    apr_time_t t = 0;
    if (sscanf(compact, "%4d%2d%2dT%2d%2d%2dZ", &wt.year, &wt.month, &wt.day, &wt.hour,
               &wt.minute, &wt.second) != 6 || eas_walltime_to_time(&wt, &t) != APR_SUCCESS)
        diag("bad test time %s", compact);
    return t;
}

static eas_walltime_t W(int y, int mo, int d, int h, int mi)
{
    eas_walltime_t wt = { y, mo, d, h, mi, 0 };
    return wt;
}

static eas_tz_t *zone(const char *id)
{
    eas_tz_t *tz = NULL;
    if (eas_tz_open(pool, id, &tz) != APR_SUCCESS)
        diag("no zone %s", id);
    return tz;
}

static eas_recur_t R(int type)
{
    eas_recur_t r;
    eas_recur_init(&r);
    r.type = type;
    return r;
}

static const char *rrule(const eas_recur_t *r, eas_walltime_t ds, eas_tz_t *tz, int all_day)
{
    const char *s = NULL, *why = NULL;
    if (eas_recur_to_rrule(pool, r, &ds, tz, all_day, &s, &why) != APR_SUCCESS)
        return apr_pstrcat(pool, "error: ", why ? why : "?", NULL);
    return s;
}

/* Occurrence starts as "yyyymmddThhmmssZ,..." (at most n). */
static const char *starts(const eas_recur_t *r, eas_walltime_t ds, eas_tz_t *tz, int n)
{
    apr_array_header_t *occ;
    const char *s = "";
    int i;
    apr_status_t rv = eas_recur_expand(pool, r, &ds, tz, 0, U("19000101T000000Z"),
                                       U("99990101T000000Z"), NULL, n, &occ);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
        return "error";
    for (i = 0; i < occ->nelts; ++i)
        s = apr_pstrcat(pool, s, i ? "," : "",
                        eas_recur_instance_id(pool, APR_ARRAY_IDX(occ, i, eas_occurrence_t).start),
                        NULL);
    return s;
}

/* Local dates "yyyymmdd,..." of the first n occurrences. */
static const char *dates(const eas_recur_t *r, eas_walltime_t ds, eas_tz_t *tz, int n)
{
    apr_array_header_t *occ;
    const char *s = "";
    int i;
    apr_status_t rv = eas_recur_expand(pool, r, &ds, tz, 0, U("19000101T000000Z"),
                                       U("99990101T000000Z"), NULL, n, &occ);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
        return "error";
    for (i = 0; i < occ->nelts; ++i) {
        eas_walltime_t *l = &APR_ARRAY_IDX(occ, i, eas_occurrence_t).local;
        s = apr_psprintf(pool, "%s%s%04d%02d%02d", s, i ? "," : "", l->year, l->month, l->day);
    }
    return s;
}

static void test_check(void)
{
    eas_recur_t r;
    const char *why;

    r = R(4);
    is_int(eas_recur_check(&r, &why), APR_EINVAL, "Type 4 refused");
    ok(why && strstr(why, "Type"), "reason names Type");
    r = R(7);
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "Type 7 refused");
    r = R(-1);
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "Type -1 refused");
    r = R(EAS_RECUR_MONTHLY);
    r.day_of_month = 32;
    is_int(eas_recur_check(&r, &why), APR_EINVAL, "DayOfMonth 32 refused");
    ok(why && strstr(why, "DayOfMonth"), "reason names DayOfMonth");
    r = R(EAS_RECUR_MONTHLY_NTH);
    r.week_of_month = 6;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "WeekOfMonth 6 refused");
    r = R(EAS_RECUR_DAILY);
    r.interval = 1000;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "Interval 1000 refused");
    r = R(EAS_RECUR_DAILY);
    r.occurrences = 1000;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "Occurrences 1000 refused");
    r = R(EAS_RECUR_WEEKLY);
    r.day_of_week = 128;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "DayOfWeek 128 refused");
    r = R(EAS_RECUR_YEARLY);
    r.month_of_year = 13;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "MonthOfYear 13 refused (Gregorian)");
    r.calendar_type = 8;
    is_int(eas_recur_check(&r, NULL), APR_SUCCESS, "MonthOfYear 13 accepted (Hebrew)");
    r.calendar_type = 13;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "CalendarType 13 (reserved) refused");
    r.calendar_type = 16;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "CalendarType 16 (reserved) refused");
    r = R(EAS_RECUR_WEEKLY);
    r.first_day_of_week = 7;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "FirstDayOfWeek 7 refused");
    r = R(EAS_RECUR_YEARLY);
    r.is_leap_month = 1;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "IsLeapMonth without a lunar calendar");
    r = R(EAS_RECUR_DAILY);
    r.regenerate = 2;
    is_int(eas_recur_check(&r, NULL), APR_EINVAL, "Regenerate 2 refused");
    r = R(EAS_RECUR_YEARLY_NTH);
    r.interval = 999;
    r.occurrences = 999;
    r.day_of_week = 127;
    r.week_of_month = 5;
    r.month_of_year = 12;
    r.calendar_type = 20;
    r.first_day_of_week = 6;
    is_int(eas_recur_check(&r, NULL), APR_SUCCESS, "limits accepted");
    {
        eas_tz_t *tz = zone("Europe/Berlin");
        eas_walltime_t bad = W(2024, 2, 30, 9, 0);
        const char *s, *w;
        apr_array_header_t *occ;
        r = R(EAS_RECUR_DAILY);
        is_int(eas_recur_to_rrule(pool, &r, &bad, tz, 0, &s, &w), APR_EINVAL,
               "start 30 February refused");
        r = R(4);
        bad = W(2024, 2, 1, 9, 0);
        is_int(eas_recur_expand(pool, &r, &bad, tz, 0, 0, 1, NULL, 10, &occ), APR_EINVAL,
               "expansion refuses Type 4");
    }
}

static void test_to_rrule(void)
{
    eas_tz_t *tz = zone("Europe/Berlin");
    eas_walltime_t ds = W(2024, 1, 15, 9, 0);    /* a Monday */
    eas_recur_t r;

    r = R(EAS_RECUR_DAILY);
    is_str(rrule(&r, ds, tz, 0), "FREQ=DAILY", "daily");
    r.interval = 3;
    r.occurrences = 10;
    is_str(rrule(&r, ds, tz, 0), "FREQ=DAILY;INTERVAL=3;COUNT=10", "every 3 days, 10 times");
    r = R(EAS_RECUR_DAILY);
    r.day_of_week = EAS_DOW_WEEKDAYS;
    is_str(rrule(&r, ds, tz, 0), "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "every weekday");
    r = R(EAS_RECUR_WEEKLY);
    is_str(rrule(&r, ds, tz, 0), "FREQ=WEEKLY;BYDAY=MO", "weekly: day from the start");
    r.day_of_week = EAS_DOW_TUESDAY | EAS_DOW_THURSDAY;
    r.interval = 2;
    r.first_day_of_week = 0;
    r.has_until = 1;
    r.until = U("20240630T220000Z");
    is_str(rrule(&r, ds, tz, 0),
           "FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2;WKST=SU;UNTIL=20240630T220000Z",
           "fortnightly Tuesday and Thursday until June");
    is_str(rrule(&r, ds, tz, 1), "FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2;WKST=SU;UNTIL=20240701",
           "all-day: UNTIL is the local date");
    r = R(EAS_RECUR_MONTHLY);
    r.day_of_month = 15;
    is_str(rrule(&r, ds, tz, 0), "FREQ=MONTHLY;BYMONTHDAY=15", "monthly on the 15th");
    r.day_of_month = 30;
    is_str(rrule(&r, ds, tz, 0), "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1",
           "monthly on the 30th or the last day");
    r.day_of_month = 31;
    is_str(rrule(&r, ds, tz, 0), "FREQ=MONTHLY;BYMONTHDAY=-1", "monthly on the 31st = last day");
    r = R(EAS_RECUR_MONTHLY_NTH);
    r.day_of_week = EAS_DOW_FRIDAY;
    r.week_of_month = 5;
    is_str(rrule(&r, ds, tz, 0), "FREQ=MONTHLY;BYDAY=-1FR", "last Friday of the month");
    r.day_of_week = EAS_DOW_WEEKDAYS;
    r.week_of_month = 1;
    is_str(rrule(&r, ds, tz, 0), "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
           "first weekday of the month");
    r.day_of_week = EAS_DOW_ANY;
    r.week_of_month = 5;
    is_str(rrule(&r, ds, tz, 0), "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYSETPOS=-1",
           "last day of the month (127, week 5)");
    r = R(EAS_RECUR_MONTHLY_NTH);
    is_str(rrule(&r, ds, tz, 0), "FREQ=MONTHLY;BYDAY=3MO", "nth from the start: third Monday");
    r = R(EAS_RECUR_YEARLY);
    r.month_of_year = 2;
    r.day_of_month = 29;
    is_str(rrule(&r, ds, tz, 0), "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1",
           "yearly 29 February, 28th in common years");
    r.month_of_year = 4;
    r.day_of_month = 31;
    is_str(rrule(&r, ds, tz, 0), "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=30", "yearly 31 April = 30th");
    r = R(EAS_RECUR_YEARLY);
    is_str(rrule(&r, ds, tz, 0), "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=15", "yearly from the start");
    r = R(EAS_RECUR_YEARLY_NTH);
    r.month_of_year = 11;
    r.day_of_week = EAS_DOW_THURSDAY;
    r.week_of_month = 4;
    is_str(rrule(&r, ds, tz, 0), "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "Thanksgiving");
    r = R(EAS_RECUR_YEARLY);
    r.calendar_type = 8;
    r.month_of_year = 5;
    r.is_leap_month = 1;
    r.day_of_month = 30;
    is_str(rrule(&r, ds, tz, 0),
           "RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=5L;BYMONTHDAY=30;SKIP=BACKWARD",
           "Hebrew leap month: RFC 7529");
    r = R(EAS_RECUR_YEARLY);
    r.calendar_type = 3;    /* Japanese Emperor Era: Gregorian days */
    r.month_of_year = 5;
    r.day_of_month = 3;
    is_str(rrule(&r, ds, tz, 0), "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=3",
           "Gregorian-based calendars need no RSCALE");
    /* Both ends: the one that comes first is written. */
    r = R(EAS_RECUR_DAILY);
    r.occurrences = 10;
    r.has_until = 1;
    r.until = U("20240118T080000Z");
    is_str(rrule(&r, ds, tz, 0), "FREQ=DAILY;UNTIL=20240118T080000Z", "Until before Occurrences");
    r.until = U("20250101T000000Z");
    is_str(rrule(&r, ds, tz, 0), "FREQ=DAILY;COUNT=10", "Occurrences before Until");
}

static void check_from(const char *rule, eas_walltime_t ds, int type, int interval, int dow,
                       int dom, int wom, int moy, int want_inexact, const char *what)
{
    eas_tz_t *tz = zone("Europe/Berlin");
    eas_recur_t r;
    int inexact = -1;
    const char *why = NULL;
    apr_status_t rv = eas_recur_from_rrule(rule, &ds, tz, 0, &r, &inexact, &why);
    int good = rv == APR_SUCCESS && r.type == type && r.interval == interval
               && r.day_of_week == dow && r.day_of_month == dom && r.week_of_month == wom
               && r.month_of_year == moy && inexact == want_inexact;
    ok(good, what);
    if (!good)
        diag("rv %d (%s) type %d interval %d dow %d dom %d wom %d moy %d inexact %d", rv,
             why ? why : "", r.type, r.interval, r.day_of_week, r.day_of_month, r.week_of_month,
             r.month_of_year, inexact);
}

static void check_refused(const char *rule, apr_status_t want, const char *what)
{
    eas_tz_t *tz = zone("Europe/Berlin");
    eas_walltime_t ds = W(2024, 1, 15, 9, 0);
    eas_recur_t r;
    const char *why = NULL;
    apr_status_t rv = eas_recur_from_rrule(rule, &ds, tz, 0, &r, NULL, &why);
    ok(rv == want && why != NULL, what);
    if (rv != want)
        diag("got %d", rv);
}

static void test_from_rrule(void)
{
    eas_walltime_t ds = W(2024, 1, 15, 9, 0);
    eas_tz_t *tz = zone("Europe/Berlin");
    eas_recur_t r;
    int inexact;

    check_from("FREQ=DAILY", ds, 0, 1, 0, 0, 0, 0, 0, "daily");
    check_from("FREQ=WEEKLY;INTERVAL=2", ds, 1, 2, EAS_DOW_MONDAY, 0, 0, 0, 0,
               "weekly without BYDAY: the start's weekday");
    check_from("FREQ=WEEKLY;BYDAY=SA,SU", ds, 1, 1, EAS_DOW_WEEKEND, 0, 0, 0, 0, "weekends");
    check_from("FREQ=MONTHLY", ds, 2, 1, 0, 15, 0, 0, 0, "monthly on the start's day");
    check_from("FREQ=MONTHLY", W(2024, 1, 31, 9, 0), 2, 1, 0, 31, 0, 0, 1,
               "monthly from the 31st: RFC skips short months (inexact)");
    check_from("FREQ=MONTHLY;BYMONTHDAY=31", ds, 2, 1, 0, 31, 0, 0, 1, "BYMONTHDAY=31: inexact");
    check_from("FREQ=MONTHLY;BYMONTHDAY=-1", ds, 2, 1, 0, 31, 0, 0, 0, "last day of month");
    check_from("FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1", ds, 2, 1, 0, 29, 0, 0, 0,
               "29th or last day");
    check_from("FREQ=MONTHLY;BYDAY=2TU", ds, 3, 1, EAS_DOW_TUESDAY, 0, 2, 0, 0, "2nd Tuesday");
    check_from("FREQ=MONTHLY;BYDAY=-1SU;INTERVAL=3", ds, 3, 3, EAS_DOW_SUNDAY, 0, 5, 0, 0,
               "last Sunday every 3 months");
    check_from("FREQ=MONTHLY;BYDAY=5FR", ds, 3, 1, EAS_DOW_FRIDAY, 0, 5, 0, 1,
               "5th Friday: only some months have one (inexact)");
    check_from("FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=-1", ds, 3, 1, EAS_DOW_WEEKEND, 0, 5, 0, 0,
               "last weekend day");
    check_from("FREQ=YEARLY", ds, 5, 1, 0, 15, 0, 1, 0, "yearly on the start's date");
    check_from("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", ds, 5, 1, 0, 29, 0, 2, 1,
               "29 February only in leap years: inexact");
    check_from("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1", ds, 5, 1, 0, 29, 0, 2, 0,
               "last day of February");
    check_from("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", ds, 6, 1, EAS_DOW_SUNDAY, 0, 5, 3, 0,
               "last Sunday of March");
    check_from("FREQ=YEARLY;BYDAY=1MO", ds, 6, 1, EAS_DOW_MONDAY, 0, 1, 1, 0,
               "first Monday of the year");
    check_from("FREQ=YEARLY;BYMONTHDAY=10", ds, 2, 1, 0, 10, 0, 0, 0,
               "YEARLY;BYMONTHDAY without BYMONTH recurs monthly");
    check_refused("FREQ=HOURLY", APR_ENOTIMPL, "hourly refused");
    check_refused("FREQ=DAILY;BYHOUR=9,17", APR_ENOTIMPL, "BYHOUR refused");
    check_refused("FREQ=YEARLY;BYWEEKNO=20", APR_ENOTIMPL, "BYWEEKNO refused");
    check_refused("FREQ=YEARLY;BYYEARDAY=100", APR_ENOTIMPL, "BYYEARDAY refused");
    check_refused("FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1", APR_ENOTIMPL, "two months refused");
    check_refused("FREQ=MONTHLY;BYMONTHDAY=1,15", APR_ENOTIMPL, "two days of month refused");
    check_refused("FREQ=MONTHLY;BYDAY=1MO,3MO", APR_ENOTIMPL, "two nth days refused");
    check_refused("FREQ=MONTHLY;BYDAY=-2MO", APR_ENOTIMPL, "second to last refused");
    check_refused("FREQ=WEEKLY;BYDAY=1MO", APR_ENOTIMPL, "nth day in weekly refused");
    check_refused("FREQ=MONTHLY;BYMONTH=3", APR_ENOTIMPL, "BYMONTH in monthly refused");
    check_refused("RSCALE=PERSIAN;FREQ=YEARLY", APR_ENOTIMPL, "Persian calendar refused");
    check_refused("FREQ=DAILY;INTERVAL=1000", APR_ENOTIMPL, "interval 1000 refused");
    check_refused("FREQ=SOMETIMES", APR_EINVAL, "unknown FREQ is malformed");
    check_refused("FREQ=DAILY;COUNT=3;UNTIL=20240101T000000Z", APR_EINVAL,
                  "COUNT with UNTIL is malformed");
    check_refused("", APR_EINVAL, "empty rule is malformed");

    is_int(eas_recur_from_rrule("FREQ=WEEKLY;BYDAY=MO;UNTIL=20240401", &ds, tz, 0, &r, &inexact,
                                NULL), APR_SUCCESS, "UNTIL as a DATE");
    ok(r.has_until && r.until == U("20240401T215959Z"), "a DATE UNTIL covers that whole day");
    eas_recur_from_rrule("FREQ=WEEKLY;BYDAY=MO;UNTIL=20240401", &ds, tz, 1, &r, &inexact, NULL);
    ok(r.until == U("20240331T220000Z"), "all-day: UNTIL is that day's local midnight");
    eas_recur_from_rrule("FREQ=WEEKLY;BYDAY=MO;UNTIL=20240401T090000", &ds, tz, 0, &r, &inexact,
                         NULL);
    ok(r.until == U("20240401T070000Z"), "floating UNTIL is wall clock in the zone");
    eas_recur_from_rrule("FREQ=WEEKLY;WKST=SU", &ds, tz, 0, &r, &inexact, NULL);
    is_int(r.first_day_of_week, 0, "WKST=SU -> FirstDayOfWeek 0");
    eas_recur_from_rrule("FREQ=DAILY;COUNT=1500", &ds, tz, 0, &r, &inexact, NULL);
    ok(r.occurrences == 0 && r.has_until && r.until == U("20280222T080000Z"),
       "COUNT=1500 (beyond 999) becomes the Until of the 1500th day");
    is_int(eas_recur_from_rrule("RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=5L;BYMONTHDAY=30;SKIP=BACKWARD",
                                &ds, tz, 0, &r, &inexact, NULL), APR_SUCCESS, "RSCALE=HEBREW");
    ok(r.calendar_type == 8 && r.month_of_year == 5 && r.is_leap_month && r.day_of_month == 30
       && !inexact, "Hebrew: CalendarType 8, leap month 5, day 30");
}

static void test_expand(void)
{
    eas_tz_t *berlin = zone("Europe/Berlin"), *sydney = zone("Australia/Sydney");
    eas_tz_t *ny = zone("America/New_York");
    eas_recur_t r;
    apr_array_header_t *occ, *skip;
    apr_status_t rv;

    /* Weekly Monday 09:00 Berlin over the March change: 08:00Z then 07:00Z. */
    r = R(EAS_RECUR_WEEKLY);
    r.occurrences = 4;
    is_str(starts(&r, W(2024, 3, 18, 9, 0), berlin, 10),
           "20240318T080000Z,20240325T080000Z,20240401T070000Z,20240408T070000Z",
           "weekly 09:00 keeps its wall time across DST (Berlin)");
    is_str(starts(&r, W(2024, 3, 25, 9, 0), sydney, 10),
           "20240324T220000Z,20240331T220000Z,20240407T230000Z,20240414T230000Z",
           "and in Sydney, where DST ends in April");
    /* Daily 02:30 through the spring gap and the autumn overlap. */
    r = R(EAS_RECUR_DAILY);
    r.occurrences = 3;
    is_str(starts(&r, W(2024, 3, 9, 2, 30), ny, 10),
           "20240309T073000Z,20240310T073000Z,20240311T063000Z",
           "02:30 on the gap day is read with the offset before it (03:30 EDT)");
    is_str(starts(&r, W(2024, 11, 2, 1, 30), ny, 10),
           "20241102T053000Z,20241103T053000Z,20241104T063000Z",
           "01:30 on the overlap day is the first (EDT) one");
    /* Until is inclusive, and ends the series before Occurrences does. */
    r = R(EAS_RECUR_DAILY);
    r.occurrences = 10;
    r.has_until = 1;
    r.until = U("20240103T080000Z");
    is_str(starts(&r, W(2024, 1, 1, 9, 0), berlin, 20),
           "20240101T080000Z,20240102T080000Z,20240103T080000Z",
           "Until is inclusive and comes first");
    r.until = U("20240103T075959Z");
    is_str(dates(&r, W(2024, 1, 1, 9, 0), berlin, 20), "20240101,20240102",
           "a second before the third start excludes it");
    r.occurrences = 2;
    r.until = U("20250101T000000Z");
    is_str(dates(&r, W(2024, 1, 1, 9, 0), berlin, 20), "20240101,20240102",
           "Occurrences come first");
    /* Last week of the month. */
    r = R(EAS_RECUR_MONTHLY_NTH);
    r.day_of_week = EAS_DOW_FRIDAY;
    r.week_of_month = 5;
    r.occurrences = 4;
    is_str(dates(&r, W(2024, 1, 1, 9, 0), berlin, 10), "20240126,20240223,20240329,20240426",
           "last Friday of each month");
    r.day_of_week = EAS_DOW_ANY;
    is_str(dates(&r, W(2024, 1, 1, 9, 0), berlin, 10), "20240131,20240229,20240331,20240430",
           "last day of each month (127)");
    r.day_of_week = EAS_DOW_WEEKDAYS;
    is_str(dates(&r, W(2024, 1, 1, 9, 0), berlin, 10), "20240131,20240229,20240329,20240430",
           "last weekday of each month");
    r.week_of_month = 1;
    is_str(dates(&r, W(2024, 6, 1, 9, 0), berlin, 10), "20240603,20240701,20240801,20240902",
           "first weekday of each month");
    r = R(EAS_RECUR_MONTHLY);
    r.day_of_month = 31;
    r.occurrences = 4;
    is_str(dates(&r, W(2024, 1, 31, 9, 0), berlin, 10), "20240131,20240229,20240331,20240430",
           "the 31st falls on the last day of shorter months");
    /* Leap years. */
    r = R(EAS_RECUR_YEARLY);
    r.month_of_year = 2;
    r.day_of_month = 29;
    r.occurrences = 5;
    is_str(dates(&r, W(2024, 2, 29, 0, 0), berlin, 10),
           "20240229,20250228,20260228,20270228,20280229",
           "29 February yearly: 28 February in common years");
    is_str(dates(&r, W(2096, 2, 29, 0, 0), berlin, 10),
           "20960229,20970228,20980228,20990228,21000228", "2100 is not a leap year");
    r = R(EAS_RECUR_YEARLY);
    r.interval = 4;
    r.occurrences = 3;
    is_str(dates(&r, W(2024, 2, 29, 0, 0), berlin, 10), "20240229,20280229,20320229",
           "every four years from a 29 February");
    /* Yearly nth, Thanksgiving. */
    r = R(EAS_RECUR_YEARLY_NTH);
    r.month_of_year = 11;
    r.day_of_week = EAS_DOW_THURSDAY;
    r.week_of_month = 4;
    r.occurrences = 3;
    is_str(dates(&r, W(2024, 1, 1, 12, 0), ny, 10), "20241128,20251127,20261126", "Thanksgiving");
    /* Daily weekdays across a weekend. */
    r = R(EAS_RECUR_DAILY);
    r.day_of_week = EAS_DOW_WEEKDAYS;
    r.occurrences = 4;
    is_str(dates(&r, W(2024, 1, 4, 9, 0), berlin, 10), "20240104,20240105,20240108,20240109",
           "every weekday skips the weekend");
    /* Lunar: Passover, 15 Nisan (RFC 7529 month 7). */
    r = R(EAS_RECUR_YEARLY);
    r.calendar_type = 8;
    r.month_of_year = 7;
    r.day_of_month = 15;
    r.occurrences = 3;
    is_str(dates(&r, W(2024, 4, 23, 0, 0), zone("Asia/Jerusalem"), 10),
           "20240423,20250413,20260402", "Hebrew calendar: 15 Nisan");

    /* Deleted occurrences (EXDATE) are skipped but still counted. */
    r = R(EAS_RECUR_DAILY);
    r.occurrences = 4;
    skip = apr_array_make(pool, 1, sizeof(apr_time_t));
    APR_ARRAY_PUSH(skip, apr_time_t) = U("20240102T080000Z");
    rv = eas_recur_expand(pool, &r, &(eas_walltime_t){ 2024, 1, 1, 9, 0, 0 }, berlin, 0,
                          U("20240101T000000Z"), U("20250101T000000Z"), skip, 10, &occ);
    ok(rv == APR_SUCCESS && occ->nelts == 3
       && APR_ARRAY_IDX(occ, 2, eas_occurrence_t).start == U("20240104T080000Z"),
       "a deleted occurrence is skipped and still counts");

    /* Windows: overlap with a duration, and the cap. */
    r = R(EAS_RECUR_DAILY);
    rv = eas_recur_expand(pool, &r, &(eas_walltime_t){ 2024, 1, 1, 9, 0, 0 }, berlin,
                          2 * 3600 * (apr_time_t)SEC, U("20240110T090000Z"),
                          U("20240112T000000Z"), NULL, 10, &occ);
    ok(rv == APR_SUCCESS && occ->nelts == 2
       && APR_ARRAY_IDX(occ, 0, eas_occurrence_t).start == U("20240110T080000Z"),
       "a 2 h occurrence from 08:00Z overlaps a window opening at 09:00Z");
    rv = eas_recur_expand(pool, &r, &(eas_walltime_t){ 2024, 1, 1, 9, 0, 0 }, berlin, 0,
                          U("20240110T090000Z"), U("20240112T000000Z"), NULL, 10, &occ);
    ok(rv == APR_SUCCESS && occ->nelts == 1, "without duration only starts in the window count");
    rv = eas_recur_expand(pool, &r, &(eas_walltime_t){ 2024, 1, 1, 9, 0, 0 }, berlin, 0,
                          U("20240101T000000Z"), U("20250101T000000Z"), NULL, 5, &occ);
    ok(rv == APR_INCOMPLETE && occ->nelts == 5, "the cap is reported");
    /* A window decades after the start (the iterator jumps there). */
    r = R(EAS_RECUR_DAILY);
    r.interval = 3;
    rv = eas_recur_expand(pool, &r, &(eas_walltime_t){ 1990, 1, 1, 9, 0, 0 }, berlin, 0,
                          U("20300101T000000Z"), U("20300110T000000Z"), NULL, 10, &occ);
    ok(rv == APR_SUCCESS && occ->nelts == 3
       && APR_ARRAY_IDX(occ, 0, eas_occurrence_t).start == U("20300101T080000Z"),
       "every 3rd day from 1990 (14610 days before 2030), seen in 2030, keeps its phase");
}

static void test_exceptions(void)
{
    eas_tz_t *berlin = zone("Europe/Berlin");
    eas_walltime_t ds = W(2024, 1, 1, 9, 0);
    eas_recur_t r = R(EAS_RECUR_WEEKLY);
    apr_time_t t;
    apr_array_header_t *occ;

    is_str(eas_recur_instance_id(pool, U("20240108T080000Z")), "20240108T080000Z",
           "InstanceId is the original UTC start as Compact DateTime");
    is_int(eas_recur_find(&r, &ds, berlin, U("20240108T080000Z")), APR_SUCCESS,
           "an occurrence is found by its original start");
    is_int(eas_recur_find(&r, &ds, berlin, U("20240108T080001Z")), APR_NOTFOUND,
           "a second off is not an occurrence");
    is_int(eas_recur_find(&r, &ds, berlin, U("20240109T080000Z")), APR_NOTFOUND,
           "a Tuesday is not an occurrence");
    is_int(eas_recur_find(&r, &ds, berlin, U("20240401T070000Z")), APR_SUCCESS,
           "after the DST change the identity is 07:00Z");
    is_str(eas_recur_exdate(pool, U("20240108T080000Z"), berlin, 0), "20240108T080000Z",
           "EXDATE in UTC");
    is_str(eas_recur_exdate(pool, U("20240107T230000Z"), berlin, 1), "20240108",
           "all-day EXDATE is the local date");
    is_int(eas_recur_exdate_parse("20240108T080000Z", berlin, &t), APR_SUCCESS, "UTC EXDATE");
    ok(t == U("20240108T080000Z"), "UTC EXDATE value");
    is_int(eas_recur_exdate_parse("20240108T090000", berlin, &t), APR_SUCCESS,
           "EXDATE with TZID (wall clock)");
    ok(t == U("20240108T080000Z"), "wall-clock EXDATE value");
    is_int(eas_recur_exdate_parse("20240108", berlin, &t), APR_SUCCESS, "DATE EXDATE");
    ok(t == U("20240107T230000Z"), "DATE EXDATE is local midnight");
    is_int(eas_recur_exdate_parse("2024010", berlin, &t), APR_EINVAL, "short EXDATE refused");
    is_int(eas_recur_exdate_parse("20240132", berlin, &t), APR_EINVAL, "32 January refused");
    is_int(eas_recur_exdate_parse("20240108X090000", berlin, &t), APR_EINVAL, "no T refused");
    is_int(eas_recur_exdate_parse("20230229T090000Z", berlin, &t), APR_EINVAL,
           "29 February 2023 refused");
    /* An EXDATE taken from the expansion removes exactly that occurrence. */
    eas_recur_exdate_parse(eas_recur_exdate(pool, U("20240115T080000Z"), berlin, 0), berlin, &t);
    is_int(eas_rrule_expand(pool, "FREQ=WEEKLY;COUNT=3", &ds, berlin, 0, 0, U("20240101T000000Z"),
                            U("20250101T000000Z"), NULL, 10, &occ), APR_SUCCESS,
           "RRULE expansion");
    is_int(occ->nelts, 3, "three Mondays");
    {
        apr_array_header_t *skip = apr_array_make(pool, 1, sizeof(apr_time_t));
        APR_ARRAY_PUSH(skip, apr_time_t) = t;
        eas_rrule_expand(pool, "FREQ=WEEKLY;COUNT=3", &ds, berlin, 0, 0, U("20240101T000000Z"),
                         U("20250101T000000Z"), skip, 10, &occ);
        ok(occ->nelts == 2
           && APR_ARRAY_IDX(occ, 0, eas_occurrence_t).start == U("20240101T080000Z")
           && APR_ARRAY_IDX(occ, 1, eas_occurrence_t).start == U("20240108T080000Z"),
           "EXDATE round trip removes the 15th");
    }
    is_int(eas_rrule_expand(pool, "FREQ=WEEKLY;UNTIL=20240115", &ds, berlin, 0, 0,
                            U("20240101T000000Z"), U("20250101T000000Z"), NULL, 10, &occ),
           APR_SUCCESS, "RRULE with a DATE UNTIL");
    is_int(occ->nelts, 3, "the DATE UNTIL day is included");
    is_int(eas_rrule_expand(pool, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", &ds, berlin, 0, 0,
                            U("20240101T000000Z"), U("20250101T000000Z"), NULL, 10, &occ),
           APR_EINVAL, "a rule that never matches is refused");
    is_int(eas_rrule_expand(pool, "NONSENSE", &ds, berlin, 0, 0, U("20240101T000000Z"),
                            U("20250101T000000Z"), NULL, 10, &occ), APR_EINVAL,
           "a malformed rule is refused");
    is_int(eas_rrule_expand(pool, "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", &ds, berlin, 0, 0,
                            U("20240101T000000Z"), U("20250101T000000Z"), NULL, 10, &occ),
           APR_ENOTIMPL, "an hourly rule is not expanded");
    is_int(eas_rrule_expand(pool, "FREQ=DAILY;BYDAY=1MO", &ds, berlin, 0, 0,
                            U("20240101T000000Z"), U("20250101T000000Z"), NULL, 10, &occ),
           APR_EINVAL, "BYDAY with a position in a daily rule violates RFC 5545");
    is_int(eas_rrule_expand(pool, "FREQ=WEEKLY;BYMONTHDAY=3", &ds, berlin, 0, 0,
                            U("20240101T000000Z"), U("20250101T000000Z"), NULL, 10, &occ),
           APR_EINVAL, "BYMONTHDAY in a weekly rule violates RFC 5545");
    is_int(eas_rrule_expand(pool, "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", &ds, berlin, 0, 0,
                            U("20240101T000000Z"), U("20250101T000000Z"), NULL, 10, &occ),
           APR_SUCCESS, "a daily rule that never matches ends with the window");
    is_int(occ->nelts, 0, "and has no occurrence");
}

/* ---- properties against a model of the Exchange semantics ---------------- */

#define RANDOM_RULES 1500
static apr_uint32_t rnd_state = 20240131;

static int rnd(int n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (int)((rnd_state >> 8) % (apr_uint32_t)n);
}

static long day_number(int y, int m, int d)
{
    eas_walltime_t wt = { y, m, d, 0, 0, 0 };
    apr_time_t t;
    eas_walltime_to_time(&wt, &t);
    return (long)(t / DAY_US);
}

static int weekday(int y, int m, int d)
{
    eas_walltime_t wt = { y, m, d, 0, 0, 0 };
    return eas_walltime_weekday(&wt);
}

/* The day of month that is the week-th (5 = last) of the days in mask. */
static int model_nth(int y, int m, int mask, int week)
{
    int days[31], n = 0, d, dim = eas_days_in_month(y, m);
    for (d = 1; d <= dim; ++d)
        if (mask & (1 << weekday(y, m, d)))
            days[n++] = d;
    if (n == 0)
        return 0;
    if (week == 5)
        return days[n - 1];
    return week <= n ? days[week - 1] : 0;
}

static int model_match(const eas_recur_t *r, const eas_walltime_t *ds, int y, int m, int d)
{
    long day = day_number(y, m, d) - day_number(ds->year, ds->month, ds->day);
    int interval = r->interval ? r->interval : 1, wd = weekday(y, m, d);
    int mask = r->day_of_week ? r->day_of_week : 1 << weekday(ds->year, ds->month, ds->day);
    int week = r->week_of_month ? r->week_of_month : (ds->day - 1) / 7 + 1;
    int mday = r->day_of_month ? r->day_of_month : ds->day;
    int moy = r->month_of_year ? r->month_of_year : ds->month;
    int months = (y * 12 + m) - (ds->year * 12 + ds->month), dim = eas_days_in_month(y, m);

    if (day < 0)
        return 0;
    switch (r->type) {
    case EAS_RECUR_DAILY:
        return day % interval == 0 && (!r->day_of_week || (r->day_of_week >> wd & 1));
    case EAS_RECUR_WEEKLY: {
        int wkst = r->first_day_of_week < 0 ? 1 : r->first_day_of_week;
        long sow = day_number(y, m, d) - (wd - wkst + 7) % 7;
        long sow0 = day_number(ds->year, ds->month, ds->day)
                    - (weekday(ds->year, ds->month, ds->day) - wkst + 7) % 7;
        return ((sow - sow0) / 7) % interval == 0 && (mask >> wd & 1);
    }
    case EAS_RECUR_MONTHLY:
        return months % interval == 0 && d == (mday < dim ? mday : dim);
    case EAS_RECUR_MONTHLY_NTH:
        return months % interval == 0 && d == model_nth(y, m, mask, week);
    case EAS_RECUR_YEARLY:
        return (y - ds->year) % interval == 0 && m == moy && d == (mday < dim ? mday : dim);
    default:
        return (y - ds->year) % interval == 0 && m == moy && d == model_nth(y, m, mask, week);
    }
}

/* The model's occurrences starting in [from, to): local dates as day numbers. */
static int model_expand(const eas_recur_t *r, const eas_walltime_t *ds, eas_tz_t *tz,
                        apr_time_t from, apr_time_t to, apr_time_t *out, int max)
{
    eas_walltime_t w = *ds;
    int n = 0, count = 0;
    long guard;

    for (guard = 0; guard < 50 * 366; ++guard) {
        apr_time_t u;
        if (model_match(r, ds, w.year, w.month, w.day)) {
            ++count;
            if (r->occurrences && count > r->occurrences)
                break;
            eas_tz_local_to_utc(tz, &w, EAS_TZ_FORMER, &u, NULL);
            if ((r->has_until && u > r->until) || u >= to)
                break;
            if (u >= from) {
                if (n == max)
                    break;
                out[n++] = u;
            }
        }
        if (++w.day > eas_days_in_month(w.year, w.month)) {
            w.day = 1;
            if (++w.month > 12) {
                w.month = 1;
                ++w.year;
            }
        }
    }
    return n;
}

static void random_rule(eas_recur_t *r, const eas_walltime_t *ds, eas_tz_t *tz)
{
    static const int types[] = { 0, 1, 2, 3, 5, 6 };
    eas_recur_init(r);
    r->type = types[rnd(6)];
    r->interval = rnd(3) ? 1 + rnd(3) : 1 + rnd(12);
    if (r->type == EAS_RECUR_DAILY && rnd(3) == 0)
        r->day_of_week = 1 + rnd(127);
    if (r->type == EAS_RECUR_WEEKLY || r->type == EAS_RECUR_MONTHLY_NTH
        || r->type == EAS_RECUR_YEARLY_NTH)
        r->day_of_week = rnd(5) ? 1 << rnd(7) : 1 + rnd(127);
    if (r->type == EAS_RECUR_MONTHLY || r->type == EAS_RECUR_YEARLY)
        r->day_of_month = rnd(3) ? 1 + rnd(28) : 29 + rnd(3);
    if (r->type == EAS_RECUR_MONTHLY_NTH || r->type == EAS_RECUR_YEARLY_NTH)
        r->week_of_month = 1 + rnd(5);
    if (r->type == EAS_RECUR_YEARLY || r->type == EAS_RECUR_YEARLY_NTH)
        r->month_of_year = 1 + rnd(12);
    r->first_day_of_week = rnd(8) - 1;
    if (rnd(3) == 0)
        r->occurrences = 1 + rnd(40);
    if (rnd(3) == 0) {
        eas_walltime_t u = *ds;
        u.year += 1 + rnd(6);
        u.day = 1;
        eas_tz_local_to_utc(tz, &u, EAS_TZ_FORMER, &r->until, NULL);
        r->has_until = 1;
    }
}

static void test_properties(void)
{
    static const char *const zones[] = { "Europe/Berlin", "America/New_York", "Australia/Sydney",
                                         "Etc/UTC", "Pacific/Chatham", "America/Sao_Paulo" };
    int iter, model_bad = 0, far_bad = 0, trip_bad = 0, trip_sem_bad = 0, inexact = 0, far = 0;
    char first[4][300] = { "", "", "", "" };
    apr_pool_t *ip;

    apr_pool_create(&ip, pool);
    for (iter = 0; iter < RANDOM_RULES; ++iter) {
        eas_tz_t *tz = zone(zones[rnd(6)]);
        eas_walltime_t ds = { 1995 + rnd(40), 1 + rnd(12), 1, rnd(24), rnd(4) * 15, 0 };
        eas_recur_t r, back;
        apr_time_t want[60], from, to;
        apr_array_header_t *occ;
        const char *s, *why;
        int n, i, inx, good;

        apr_pool_clear(ip);
        ds.day = 1 + rnd(eas_days_in_month(ds.year, ds.month));
        random_rule(&r, &ds, tz);
        /* The expansion from dtstart against the model. */
        eas_tz_local_to_utc(tz, &ds, EAS_TZ_FORMER, &from, NULL);
        from -= DAY_US;
        to = from + 12 * 366 * DAY_US;
        n = model_expand(&r, &ds, tz, from, to, want, 60);
        eas_recur_expand(ip, &r, &ds, tz, 0, from, to, NULL, 60, &occ);
        good = occ->nelts == n;
        for (i = 0; good && i < n; ++i)
            good = APR_ARRAY_IDX(occ, i, eas_occurrence_t).start == want[i];
        if (!good && !model_bad++ && eas_recur_to_rrule(ip, &r, &ds, tz, 0, &s, &why) == 0)
            apr_snprintf(first[0], sizeof(first[0]), "%s from %04d-%02d-%02d: model %d, got %d",
                         s, ds.year, ds.month, ds.day, n, occ->nelts);
        /* A window years later, where the iterator jumps ahead. */
        if (!r.occurrences) {
            ++far;
            from += (5 + rnd(20)) * 366 * DAY_US;
            to = from + 400 * DAY_US;
            n = model_expand(&r, &ds, tz, from, to, want, 60);
            eas_recur_expand(ip, &r, &ds, tz, 0, from, to, NULL, 60, &occ);
            good = occ->nelts == n;
            for (i = 0; good && i < n; ++i)
                good = APR_ARRAY_IDX(occ, i, eas_occurrence_t).start == want[i];
            if (!good && !far_bad++ && eas_recur_to_rrule(ip, &r, &ds, tz, 0, &s, &why) == 0)
                apr_snprintf(first[1], sizeof(first[1]), "%s from %04d-%02d-%02d: model %d, got %d",
                             s, ds.year, ds.month, ds.day, n, occ->nelts);
        }
        /* EAS -> RRULE -> EAS keeps the fields (the derived ones filled in)
         * and the occurrences. */
        if (eas_recur_to_rrule(ip, &r, &ds, tz, 0, &s, &why) != APR_SUCCESS
            || eas_recur_from_rrule(s, &ds, tz, 0, &back, &inx, &why) != APR_SUCCESS) {
            if (!trip_bad++)
                apr_snprintf(first[2], sizeof(first[2]), "conversion failed: %s", why);
            continue;
        }
        inexact += inx;
        if (back.type != r.type || back.interval != r.interval
            || back.first_day_of_week != (r.first_day_of_week < 0 ? 1 : r.first_day_of_week)
            || (r.type != EAS_RECUR_DAILY && r.type != EAS_RECUR_MONTHLY
                && r.type != EAS_RECUR_YEARLY && back.day_of_week != r.day_of_week)
            || (r.week_of_month && back.week_of_month != r.week_of_month)) {
            if (!trip_bad++)
                apr_snprintf(first[2], sizeof(first[2]), "%s: type %d/%d interval %d/%d",
                             s, r.type, back.type, r.interval, back.interval);
        }
        {
            apr_array_header_t *a, *b;
            apr_time_t f0;
            eas_tz_local_to_utc(tz, &ds, EAS_TZ_FORMER, &f0, NULL);
            eas_recur_expand(ip, &r, &ds, tz, 0, f0 - DAY_US, f0 + 12 * 366 * DAY_US, NULL, 60, &a);
            eas_recur_expand(ip, &back, &ds, tz, 0, f0 - DAY_US, f0 + 12 * 366 * DAY_US, NULL, 60,
                             &b);
            good = a->nelts == b->nelts;
            for (i = 0; good && i < a->nelts; ++i)
                good = APR_ARRAY_IDX(a, i, eas_occurrence_t).start
                       == APR_ARRAY_IDX(b, i, eas_occurrence_t).start;
            if (!good && !trip_sem_bad++)
                apr_snprintf(first[3], sizeof(first[3]), "%s: %d vs %d occurrences", s, a->nelts,
                             b->nelts);
        }
    }
    diag("%d random rules, %d far windows, %d round trips flagged inexact", RANDOM_RULES, far,
         inexact);
    is_int(model_bad, 0, "property: expansion = Exchange model from the start");
    if (model_bad)
        diag("first: %s", first[0]);
    is_int(far_bad, 0, "property: expansion = Exchange model in a window years later");
    if (far_bad)
        diag("first: %s", first[1]);
    is_int(trip_bad, 0, "property: EAS -> RRULE -> EAS keeps the pattern");
    if (trip_bad)
        diag("first: %s", first[2]);
    is_int(trip_sem_bad, 0, "property: EAS -> RRULE -> EAS keeps every occurrence");
    if (trip_sem_bad)
        diag("first: %s", first[3]);
    is_int(inexact, 0, "our own RRULEs never read back as inexact");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_check();
    test_to_rrule();
    test_from_rrule();
    test_expand();
    test_exceptions();
    test_properties();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
