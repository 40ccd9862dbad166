/*
 * Time zones of calendar items.
 *
 * EAS carries a zone as a base64 TIME_ZONE_INFORMATION (MS-ASDTYPE 2.7.6,
 * used by MS-ASCAL 2.2.2.44 Timezone and MS-ASEMAIL meeting requests): one
 * standard offset plus at most one yearly DST rule.  The server thinks in
 * real zones from the tz database (ICU's copy).  This unit converts between
 * the two and converts wall-clock times to and from UTC.
 *
 * A zone built from a blob is an IANA zone whenever one has exactly the
 * blob's rules in the year that matters; otherwise it keeps the blob's own
 * rules, so conversions stay right and nothing falls back to GMT.
 *
 * Times are apr_time_t (microseconds since 1970-01-01T00:00:00Z); offsets are
 * seconds east of UTC.  An eas_tz_t is used by one thread at a time.
 */
#ifndef EAS_TZ_H
#define EAS_TZ_H

#include <apr_pools.h>
#include <apr_time.h>

/* ---- wall-clock dates (proleptic Gregorian, years 1..9999) ----------- */

typedef struct eas_walltime_t {
    int year, month, day;         /* month 1..12 */
    int hour, minute, second;
} eas_walltime_t;

/* The wall time of t read as UTC (no zone involved). */
void eas_walltime_from_time(apr_time_t t, eas_walltime_t *wt);
/* wt read as UTC; APR_EINVAL when a field is out of range. */
apr_status_t eas_walltime_to_time(const eas_walltime_t *wt, apr_time_t *t);
/* 0 = Sunday .. 6 = Saturday. */
int eas_walltime_weekday(const eas_walltime_t *wt);
int eas_days_in_month(int year, int month);

/* ---- the TIME_ZONE_INFORMATION blob ---------------------------------- */

#define EAS_TZINFO_LEN 172          /* bytes before base64 */
#define EAS_TZINFO_NAME_LEN 32      /* UTF-16 code units per name */

/*
 * MS-DTYP 2.3.13 SYSTEMTIME as used for a transition.  year == 0: a rule that
 * recurs every year on the day-th (1..4, 5 = last) day_of_week (0 = Sunday)
 * of month; otherwise an absolute date (day = day of month) that happens
 * once.  month == 0: no transition.  The time is local time just before the
 * transition.
 */
typedef struct eas_systemtime_t {
    int year, month, day_of_week, day;
    int hour, minute, second, milliseconds;
} eas_systemtime_t;

typedef struct eas_tzinfo_t {
    int bias;                     /* minutes, UTC = local + bias */
    apr_uint16_t standard_name[EAS_TZINFO_NAME_LEN];
    eas_systemtime_t standard_date;     /* daylight -> standard */
    int standard_bias;            /* added to bias in standard time */
    apr_uint16_t daylight_name[EAS_TZINFO_NAME_LEN];
    eas_systemtime_t daylight_date;     /* standard -> daylight */
    int daylight_bias;            /* added to bias in daylight time */
} eas_tzinfo_t;

/* Decodes the base64 Timezone value.  Invalid base64, a length other than
 * 172 bytes or out-of-range fields give APR_EINVAL and a reason in *why
 * (static string; why may be NULL). */
apr_status_t eas_tzinfo_decode(const char *b64, eas_tzinfo_t *tzi, const char **why);
/* The same from the raw bytes. */
apr_status_t eas_tzinfo_from_bytes(const unsigned char *buf, apr_size_t len,
                                   eas_tzinfo_t *tzi, const char **why);
/* Range checks of eas_tzinfo_decode, for a structure built by hand.  A
 * blob with only one of the two dates set is accepted as "no DST". */
apr_status_t eas_tzinfo_check(const eas_tzinfo_t *tzi, const char **why);

/* 172 little-endian bytes / their base64 text (pool-allocated). */
void eas_tzinfo_to_bytes(const eas_tzinfo_t *tzi, unsigned char *buf);
const char *eas_tzinfo_encode(apr_pool_t *p, const eas_tzinfo_t *tzi);

/* A name field as UTF-8 (stops at the first NUL or after 32 units; ill-formed
 * UTF-16 becomes U+FFFD). */
const char *eas_tzinfo_name(apr_pool_t *p, const apr_uint16_t *name);
/* Stores UTF-8 s into a name field, truncated to whole characters that fit
 * in 32 units; APR_EINVAL if s is not UTF-8. */
apr_status_t eas_tzinfo_set_name(apr_uint16_t *name, const char *s);

/* ---- zones ----------------------------------------------------------- */

typedef struct eas_tz_t eas_tz_t;

/* An IANA zone by name ("Europe/Berlin", links such as "Asia/Calcutta" too).
 * APR_NOTFOUND for a name ICU does not know (never a silent GMT). */
apr_status_t eas_tz_open(apr_pool_t *p, const char *id, eas_tz_t **tz);

/*
 * The zone a blob describes.  year is the year that matters (the item's
 * start): the IANA zone returned has exactly the blob's offsets and
 * transitions in that year.  Candidates are tried in this order: the Windows
 * zone named by StandardName (then DaylightName), StandardName as an IANA
 * name, other zones of that Windows zone, a list of widely used zones, the
 * zones CLDR maps Windows zones to, all other zones.  When none matches, the
 * result is a zone that follows the blob's rules itself (eas_tz_id() NULL).
 * APR_EINVAL if the blob fails eas_tzinfo_check().
 */
apr_status_t eas_tz_from_tzinfo(apr_pool_t *p, const eas_tzinfo_t *tzi, int year,
                                eas_tz_t **tz);

/* A zone that follows tzi's own rules, without looking for an IANA zone. */
apr_status_t eas_tz_from_rules(apr_pool_t *p, const eas_tzinfo_t *tzi, eas_tz_t **tz);

/* The tz database release ICU's data comes from ("2022e" for Debian 12's ICU
 * 72).  ICU reads newer zoneinfo64.res, windowsZones.res, metaZones.res and
 * timezoneTypes.res from the directory in the environment variable
 * ICU_TIMEZONE_FILES_DIR, set before the process first uses a zone. */
const char *eas_tz_data_version(void);

/* IANA name (tz database spelling, e.g. "Asia/Kolkata"), or NULL for a zone
 * that follows a blob's rules. */
const char *eas_tz_id(const eas_tz_t *tz);
/* The Windows zone name CLDR maps the zone to, or NULL. */
const char *eas_tz_windows_id(const eas_tz_t *tz);

/*
 * The blob for tz whose rules give tz's offsets and transitions in year.
 * Names are the Windows zone names where CLDR has them (else the IANA name).
 * A year that one yearly DST rule cannot describe (more than two
 * transitions, a change of standard offset, offsets that are not whole
 * minutes) gets the closest blob and *exact = 0; exact may be NULL.
 */
apr_status_t eas_tz_to_tzinfo(eas_tz_t *tz, int year, eas_tzinfo_t *tzi, int *exact);

/* Offset from UTC at instant t, and whether DST is in effect. */
apr_status_t eas_tz_offset(eas_tz_t *tz, apr_time_t t, int *offset, int *is_dst);
/* The first instant after t at which the offset or the DST flag changes;
 * APR_NOTFOUND when there is none. */
apr_status_t eas_tz_next_transition(eas_tz_t *tz, apr_time_t t, apr_time_t *next);

/*
 * How a wall time that does not exist (in a spring-forward gap) or exists
 * twice (in a fall-back overlap) is read:
 *   EAS_TZ_FORMER  with the offset in effect before the transition: a
 *                  skipped 02:30 (CET->CEST) is 03:30 CEST, a repeated 02:30
 *                  (CEST->CET) is the first one.  RFC 5545 3.3.5 semantics.
 *   EAS_TZ_LATTER  with the offset after it: skipped 02:30 is 01:30 CET, a
 *                  repeated 02:30 the second one.
 */
typedef enum { EAS_TZ_FORMER = 0, EAS_TZ_LATTER = 1 } eas_tz_pick_e;
#define EAS_TZ_SKIPPED  0x1   /* the wall time fell in a gap */
#define EAS_TZ_REPEATED 0x2   /* the wall time occurs twice */

/* Wall time in tz -> UTC.  *flags (may be NULL) gets EAS_TZ_SKIPPED or
 * EAS_TZ_REPEATED when one applied. */
apr_status_t eas_tz_local_to_utc(eas_tz_t *tz, const eas_walltime_t *wt, eas_tz_pick_e pick,
                                 apr_time_t *utc, int *flags);
/* UTC -> wall time in tz; *offset (may be NULL) gets the offset used. */
apr_status_t eas_tz_utc_to_local(eas_tz_t *tz, apr_time_t utc, eas_walltime_t *wt,
                                 int *offset);

#endif
