/*
 * Recurring calendar items and tasks: the EAS Recurrence element
 * (MS-ASCAL 2.2.2.37, MS-ASTASK 2.2.2.20, MS-ASEMAIL 2.2.2.60), its iCalendar
 * form (an RFC 5545 RRULE, RFC 7529 RSCALE for lunar calendars), the identity
 * of one occurrence (ExceptionStartTime, 16.x InstanceId, EXDATE) and the
 * expansion of a series into occurrences.
 *
 * A series is given by its rule, the wall-clock start of its first
 * occurrence (dtstart) and its zone: occurrences keep their wall-clock time
 * across DST changes; a wall time that falls in a gap is read with the
 * offset before the gap, a repeated one is the first (RFC 5545 3.3.5,
 * EAS_TZ_FORMER).  Occurrences are the days matching the pattern from
 * dtstart's day on, at dtstart's time of day; dtstart itself is one only
 * when its day matches the pattern.
 *
 * Semantics taken from Exchange where RFC 5545 differs: a DayOfMonth beyond
 * the end of a month means the month's last day (monthly "31st" falls on 30
 * April and 28/29 February; yearly 29 February falls on 28 February in
 * common years).  FirstDayOfWeek absent means Monday (RFC 5545 WKST default).
 */
#ifndef EAS_RECUR_H
#define EAS_RECUR_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "eas_tz.h"

/* MS-ASCAL 2.2.2.45 Type. */
typedef enum {
    EAS_RECUR_DAILY = 0,
    EAS_RECUR_WEEKLY = 1,
    EAS_RECUR_MONTHLY = 2,        /* on DayOfMonth */
    EAS_RECUR_MONTHLY_NTH = 3,    /* on the WeekOfMonth-th DayOfWeek */
    EAS_RECUR_YEARLY = 5,         /* on DayOfMonth of MonthOfYear */
    EAS_RECUR_YEARLY_NTH = 6      /* on the WeekOfMonth-th DayOfWeek of MonthOfYear */
} eas_recur_type_e;

/* MS-ASCAL 2.2.2.15 DayOfWeek bits.  In the _NTH types several bits mean
 * "the n-th of those days" (62 with week 1: the first weekday; 127 with
 * week 5: the last day of the month). */
#define EAS_DOW_SUNDAY    0x01
#define EAS_DOW_MONDAY    0x02
#define EAS_DOW_TUESDAY   0x04
#define EAS_DOW_WEDNESDAY 0x08
#define EAS_DOW_THURSDAY  0x10
#define EAS_DOW_FRIDAY    0x20
#define EAS_DOW_SATURDAY  0x40
#define EAS_DOW_WEEKDAYS  0x3e
#define EAS_DOW_WEEKEND   0x41
#define EAS_DOW_ANY       0x7f

typedef struct eas_recur_t {
    int type;                 /* eas_recur_type_e */
    int interval;             /* 1..999; 0 = absent (1) */
    int occurrences;          /* 1..999; 0 = absent */
    int has_until;
    apr_time_t until;         /* UTC; an occurrence starting then is included */
    int day_of_week;          /* EAS_DOW_* bits; 0 = absent */
    int day_of_month;         /* 1..31; 0 = absent */
    int week_of_month;        /* 1..5, 5 = last; 0 = absent */
    int month_of_year;        /* 1..12 (13 in lunar calendars); 0 = absent */
    int calendar_type;        /* MS-ASCAL 2.2.2.10; 0 = default (Gregorian) */
    int is_leap_month;        /* the lunar leap month of month_of_year */
    int first_day_of_week;    /* 0 = Sunday .. 6; -1 = absent */
    /* Tasks only (MS-ASTASK 2.2.2.20): carried, not part of the RRULE.
     * A task series is expanded with Start's wall time as dtstart; a
     * regenerating one has a single pending task, the pattern only gives
     * the distance to the next. */
    int has_start;
    apr_time_t start;         /* Start: first due date of the series */
    int regenerate;           /* next task Interval after completion */
    int dead_occur;           /* the task does not recur any more */
} eas_recur_t;

/* All fields absent: daily, no end, first_day_of_week -1. */
void eas_recur_init(eas_recur_t *r);

/* Range checks (MS-ASCAL 2.2.2.x): APR_EINVAL with a static reason in *why
 * (may be NULL) for e.g. Type 4, DayOfMonth 32, WeekOfMonth 6, Interval
 * 1000, CalendarType 13. */
apr_status_t eas_recur_check(const eas_recur_t *r, const char **why);

/*
 * r as an RRULE value (no "RRULE:" prefix).  Fields the type needs but r
 * lacks come from dtstart (weekly: its weekday; monthly: its day; yearly:
 * its month and day; _NTH: its weekday and week).  all_day writes UNTIL as a
 * DATE (the local date of Until in tz).  With both Occurrences and Until, the
 * one that ends the series first is written.
 */
apr_status_t eas_recur_to_rrule(apr_pool_t *p, const eas_recur_t *r,
                                const eas_walltime_t *dtstart, eas_tz_t *tz, int all_day,
                                const char **rrule, const char **why);

/*
 * An RRULE value -> r (task fields cleared).  APR_EINVAL for a malformed
 * rule, APR_ENOTIMPL for one EAS cannot express (hourly, BYWEEKNO, several
 * months, ...); *why says which.  *inexact (may be NULL) is set when Exchange
 * semantics give other occurrences than RFC 5545 (BYMONTHDAY=31 plain skips
 * short months; EAS takes their last day).  COUNT beyond 999 becomes the
 * Until of its last occurrence.  UNTIL as a DATE is the end of that local
 * day (all_day: its start); a floating UNTIL is wall clock in tz.
 */
apr_status_t eas_recur_from_rrule(const char *rrule, const eas_walltime_t *dtstart,
                                  eas_tz_t *tz, int all_day, eas_recur_t *r, int *inexact,
                                  const char **why);

typedef struct eas_occurrence_t {
    apr_time_t start;         /* UTC; the occurrence's identity */
    eas_walltime_t local;     /* wall-clock start in the series' zone */
} eas_occurrence_t;

/*
 * The occurrences of the series that overlap [from, to): start < to and
 * start + duration > from (duration 0: from <= start < to), in order, as
 * eas_occurrence_t in *out (allocated from p).  skip (may be NULL) holds the
 * apr_time_t starts of deleted occurrences (EXDATE), which still count for
 * Occurrences.  At most max (> 0) are returned; APR_INCOMPLETE when there
 * were more.  APR_EINVAL for a rule eas_recur_check() refuses.
 */
apr_status_t eas_recur_expand(apr_pool_t *p, const eas_recur_t *r,
                              const eas_walltime_t *dtstart, eas_tz_t *tz,
                              apr_interval_time_t duration, apr_time_t from, apr_time_t to,
                              const apr_array_header_t *skip, int max,
                              apr_array_header_t **out);

/* The same for a stored RRULE value (UNTIL read as in eas_recur_from_rrule).
 * APR_EINVAL for a malformed rule (RFC 5545 3.3.10 restrictions included) or
 * one libical finds never matches, APR_ENOTIMPL for hourly and finer ones. */
apr_status_t eas_rrule_expand(apr_pool_t *p, const char *rrule, const eas_walltime_t *dtstart,
                              eas_tz_t *tz, int all_day, apr_interval_time_t duration,
                              apr_time_t from, apr_time_t to, const apr_array_header_t *skip,
                              int max, apr_array_header_t **out);

/* Whether an occurrence of the series starts at original (an
 * ExceptionStartTime or InstanceId from a client): APR_SUCCESS or
 * APR_NOTFOUND. */
apr_status_t eas_recur_find(const eas_recur_t *r, const eas_walltime_t *dtstart, eas_tz_t *tz,
                            apr_time_t original);

/*
 * The identity of an occurrence is the UTC start it has in the series
 * (MS-ASCAL 2.2.2.23 ExceptionStartTime, MS-ASAIRS 2.2.2.25 InstanceId: a
 * Compact DateTime, read with eas_time_parse()).  An exception keeps that
 * identity when it is moved.
 */
const char *eas_recur_instance_id(apr_pool_t *p, apr_time_t original);

/* The EXDATE / RECURRENCE-ID value for the occurrence starting at original:
 * UTC date-time ("20240131T083000Z"), or for all-day items the local DATE. */
const char *eas_recur_exdate(apr_pool_t *p, apr_time_t original, eas_tz_t *tz, int all_day);

/* An EXDATE / RECURRENCE-ID value -> original start.  "...Z" is UTC; a
 * floating date-time is wall clock in tz (the property's TZID zone); a DATE
 * is local midnight in tz.  APR_EINVAL for anything else. */
apr_status_t eas_recur_exdate_parse(const char *value, eas_tz_t *tz, apr_time_t *original);

#endif
