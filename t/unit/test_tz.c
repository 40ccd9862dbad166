/*
 * eas_tz: the Timezone blob codec, IANA <-> blob round trips over every ICU
 * zone and the years 2000..2037, and wall clock <-> UTC across DST changes
 * (checked against ICU's own Calendar as an independent oracle).
 */
#include "tap.h"
#include "eas_tz.h"
#include "eas_time.h"

#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#include <unicode/ucal.h>
#include <unicode/uenum.h>
#include <unicode/ustring.h>

/* Blobs written byte by byte from the Windows registry's rules (Python's
 * struct and base64, not this code).  PST is the value Exchange sends. */
static const char PST_B64[] =
    "4AEAAFAAYQBjAGkAZgBpAGMAIABTAHQAYQBuAGQAYQByAGQAIABUAGkAbQBlAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAsAAAABAAIAAAAAAAAAAAAAAFAAYQBjAGkAZgBpAGMAIABEAGEAeQBsAGkAZwBoAHQAIABUAGkAbQBlAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAMAAAACAAIAAAAAAAAAxP///w==";
static const char WEU_B64[] =
    "xP///1cALgAgAEUAdQByAG8AcABlACAAUwB0AGEAbgBkAGEAcgBkACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAoAAAAFAAMAAAAAAAAAAAAAAFcALgAgAEUAdQByAG8AcABlACAARABhAHkAbABpAGcAaAB0ACAAVABpAG0AZQAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAxP///w==";
static const char AUS_B64[] =
    "qP3//0EAVQBTACAARQBhAHMAdABlAHIAbgAgAFMAdABhAG4AZABhAHIAZAAgAFQAaQBtAGUAAAAAAAAAAAAAAAAAAAAA"
    "AAQAAAABAAMAAAAAAAAAAAAAAEEAVQBTACAARQBhAHMAdABlAHIAbgAgAEQAYQB5AGwAaQBnAGgAdAAgAFQAaQBtAGUA"
    "AAAAAAAAAAAAAAAAAAAAAAoAAAABAAIAAAAAAAAAxP///w==";
static const char IND_B64[] =
    "tv7//0kAbgBkAGkAYQAgAFMAdABhAG4AZABhAHIAZAAgAFQAaQBtAGUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAEkAbgBkAGkAYQAgAEQAYQB5AGwAaQBnAGgAdAAgAFQAaQBtAGUAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxP///w==";
/* A phone's blob: a display name cut at 32 units (no terminator), no
 * daylight name, EU rules. */
static const char DEV_B64[] =
    "xP///ygAVQBUAEMAKwAwADEAOgAwADAAKQAgAEEAbQBzAHQAZQByAGQAYQBtACwAIABCAGUAcgBsAGkAbgAsACAAQgAA"
    "AAoAAAAFAAMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAxP///w==";
/* Brazil as Windows wrote it: midnight changes as Saturday 23:59:59.999. */
static const char ESA_B64[] =
    "tAAAAEUALgAgAFMAbwB1AHQAaAAgAEEAbQBlAHIAaQBjAGEAIABTAHQAYQBuAGQAYQByAGQAIABUAGkAbQBlAAAAAAAA"
    "AAIABgADABcAOwA7AOcDAAAAAEUALgAgAFMAbwB1AHQAaAAgAEEAbQBlAHIAaQBjAGEAIABEAGEAeQBsAGkAZwBoAHQA"
    "IABUAGkAbQBlAAAAAAAAAAoABgADABcAOwA7AOcDxP///w==";
/* UTC+05:17, no names, southern-hemisphere DST: no real zone has this. */
static const char ODD_B64[] =
    "w/7//wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAQAAAABAAMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAoAAAABAAIAAAAAAAAAxP///w==";

/* The zones the brief names, on top of every ICU zone with DST. */
static const char *const picked[] = {
    "Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Sao_Paulo",
    "Asia/Tehran", "Pacific/Chatham", "Asia/Kolkata", "America/St_Johns",
    "Africa/Casablanca", "Europe/London", "Pacific/Auckland", "Australia/Lord_Howe",
    "America/Santiago", "Asia/Jerusalem", "Europe/Dublin", "America/Havana",
    "Pacific/Apia", "Europe/Moscow", "America/Asuncion", "Asia/Gaza",
};
#define NPICKED (int)(sizeof(picked) / sizeof(picked[0]))
#define FIRST_YEAR 2000
#define LAST_YEAR 2037

static apr_time_t T(int y, int mo, int d, int h, int mi, int s)
{
    eas_walltime_t wt = { y, mo, d, h, mi, s };
    apr_time_t t = 0;
    eas_walltime_to_time(&wt, &t);
    return t;
}

static eas_walltime_t W(int y, int mo, int d, int h, int mi, int s)
{
    eas_walltime_t wt = { y, mo, d, h, mi, s };
    return wt;
}

static const char *fmt(apr_pool_t *p, apr_time_t t)
{
    return eas_time_format(p, t);
}

/* Offsets and changes of a and b agree over the whole year. */
static int same_year(eas_tz_t *a, eas_tz_t *b, int year)
{
    apr_time_t t = T(year, 1, 1, 0, 0, 0), end = T(year + 1, 1, 1, 0, 0, 0), na, nb;
    int oa, da, ob, db, guard;

    eas_tz_offset(a, t, &oa, &da);
    eas_tz_offset(b, t, &ob, &db);
    if (oa != ob || da != db)
        return 0;
    for (guard = 0; guard < 64; ++guard) {
        int ha = eas_tz_next_transition(a, t, &na) == APR_SUCCESS && na < end;
        int hb = eas_tz_next_transition(b, t, &nb) == APR_SUCCESS && nb < end;
        if (ha != hb)
            return 0;
        if (!ha)
            return 1;
        if (na != nb)
            return 0;
        eas_tz_offset(a, na, &oa, &da);
        eas_tz_offset(b, nb, &ob, &db);
        if (oa != ob || da != db)
            return 0;
        t = na;
    }
    return 0;
}

static int is_picked(const char *id)
{
    int i;
    for (i = 0; i < NPICKED; ++i)
        if (strcmp(picked[i], id) == 0)
            return 1;
    return 0;
}

static void test_calendar(apr_pool_t *p)
{
    eas_walltime_t wt, bad = { 2023, 2, 29, 0, 0, 0 };
    apr_time_t t;

    is_int(eas_walltime_to_time(&bad, &t), APR_EINVAL, "29 February 2023 refused");
    bad = (eas_walltime_t){ 2024, 1, 1, 24, 0, 0 };
    is_int(eas_walltime_to_time(&bad, &t), APR_EINVAL, "hour 24 refused");
    t = T(1969, 12, 31, 23, 59, 59);
    ok(t == -APR_USEC_PER_SEC, "before 1970 is negative");
    eas_walltime_from_time(t, &wt);
    ok(wt.year == 1969 && wt.month == 12 && wt.day == 31 && wt.second == 59,
       "and reads back");
    is_str(fmt(p, T(2400, 2, 29, 12, 0, 0)), "2400-02-29T12:00:00.000Z", "29 February 2400");
    is_int(eas_walltime_weekday(&(eas_walltime_t){ 2024, 2, 29, 0, 0, 0 }), 4,
           "29 February 2024 was a Thursday");
    is_int(eas_walltime_weekday(&(eas_walltime_t){ 1601, 1, 1, 0, 0, 0 }), 1,
           "1 January 1601 was a Monday");
    is_int(eas_days_in_month(1900, 2), 28, "1900 is not a leap year");
    is_int(eas_days_in_month(2000, 2), 29, "2000 is a leap year");
}

static void test_codec(apr_pool_t *p)
{
    eas_tzinfo_t tzi, back;
    const char *why;
    unsigned char raw[EAS_TZINFO_LEN + 1];
    char *bad;

    is_int(eas_tzinfo_decode(PST_B64, &tzi, &why), APR_SUCCESS, "Pacific blob decodes");
    is_int(tzi.bias, 480, "PST bias 480");
    is_str(eas_tzinfo_name(p, tzi.standard_name), "Pacific Standard Time", "PST name");
    is_str(eas_tzinfo_name(p, tzi.daylight_name), "Pacific Daylight Time", "PDT name");
    ok(tzi.standard_date.month == 11 && tzi.standard_date.day == 1
       && tzi.standard_date.day_of_week == 0 && tzi.standard_date.hour == 2,
       "PST: standard time from the first Sunday of November, 02:00");
    ok(tzi.daylight_date.month == 3 && tzi.daylight_date.day == 2
       && tzi.daylight_date.hour == 2 && tzi.daylight_bias == -60,
       "PST: daylight time from the second Sunday of March, one hour");
    is_str(eas_tzinfo_encode(p, &tzi), PST_B64, "PST re-encodes byte for byte");

    is_int(eas_tzinfo_decode(ESA_B64, &tzi, &why), APR_SUCCESS, "Brazil blob decodes");
    ok(tzi.standard_date.milliseconds == 999 && tzi.standard_date.day_of_week == 6,
       "Brazil: Saturday 23:59:59.999");
    is_str(eas_tzinfo_encode(p, &tzi), ESA_B64, "Brazil re-encodes byte for byte");

    is_int(eas_tzinfo_decode(DEV_B64, &tzi, &why), APR_SUCCESS, "phone blob decodes");
    is_str(eas_tzinfo_name(p, tzi.standard_name), "(UTC+01:00) Amsterdam, Berlin, B",
           "a 32-unit name without terminator");

    /* Unpadded base64 is accepted; everything else malformed is not. */
    bad = apr_pstrndup(p, PST_B64, strlen(PST_B64) - 2);
    is_int(eas_tzinfo_decode(bad, &tzi, &why), APR_SUCCESS, "unpadded base64 accepted");
    is_int(eas_tzinfo_decode(NULL, &tzi, &why), APR_EINVAL, "NULL rejected");
    is_int(eas_tzinfo_decode("", &tzi, &why), APR_EINVAL, "empty rejected");
    is_int(eas_tzinfo_decode("AAAA", &tzi, &why), APR_EINVAL, "3 bytes rejected");
    bad = apr_pstrndup(p, PST_B64, strlen(PST_B64) - 4);
    is_int(eas_tzinfo_decode(bad, &tzi, &why), APR_EINVAL, "171 bytes rejected");
    ok(why && strstr(why, "172"), "reason names the length");
    bad = apr_pstrcat(p, PST_B64, "AAAA", NULL);
    is_int(eas_tzinfo_decode(bad, &tzi, &why), APR_EINVAL, "175 bytes rejected");
    bad = apr_pstrdup(p, PST_B64);
    bad[10] = '*';
    is_int(eas_tzinfo_decode(bad, &tzi, &why), APR_EINVAL, "non-base64 character rejected");
    bad = apr_pstrdup(p, PST_B64);
    bad[10] = '=';
    is_int(eas_tzinfo_decode(bad, &tzi, &why), APR_EINVAL, "padding inside rejected");
    bad = apr_pstrcat(p, PST_B64, "\n", NULL);
    is_int(eas_tzinfo_decode(bad, &tzi, &why), APR_EINVAL, "trailing newline rejected");

    /* Field checks on raw bytes. */
    is_int(eas_tzinfo_decode(PST_B64, &tzi, &why), APR_SUCCESS, "PST again");
    eas_tzinfo_to_bytes(&tzi, raw);
    raw[70] = 13;    /* StandardDate.wMonth */
    is_int(eas_tzinfo_from_bytes(raw, EAS_TZINFO_LEN, &back, &why), APR_EINVAL, "month 13");
    eas_tzinfo_to_bytes(&tzi, raw);
    raw[74] = 6;     /* StandardDate.wDay: week 6 */
    is_int(eas_tzinfo_from_bytes(raw, EAS_TZINFO_LEN, &back, &why), APR_EINVAL, "week 6");
    eas_tzinfo_to_bytes(&tzi, raw);
    raw[72] = 7;     /* StandardDate.wDayOfWeek */
    is_int(eas_tzinfo_from_bytes(raw, EAS_TZINFO_LEN, &back, &why), APR_EINVAL,
           "day of week 7");
    eas_tzinfo_to_bytes(&tzi, raw);
    raw[76] = 24;    /* StandardDate.wHour */
    is_int(eas_tzinfo_from_bytes(raw, EAS_TZINFO_LEN, &back, &why), APR_EINVAL, "hour 24");
    eas_tzinfo_to_bytes(&tzi, raw);
    raw[0] = 0xff;
    raw[1] = 0x7f;   /* bias 32767 minutes */
    is_int(eas_tzinfo_from_bytes(raw, EAS_TZINFO_LEN, &back, &why), APR_EINVAL, "huge bias");
    eas_tzinfo_to_bytes(&tzi, raw);
    raw[68] = 0xd0;
    raw[69] = 0x07;  /* StandardDate.wYear 2000: absolute date ... */
    raw[74] = 31;    /* ... 31 November */
    is_int(eas_tzinfo_from_bytes(raw, EAS_TZINFO_LEN, &back, &why), APR_EINVAL,
           "absolute 31 November");
    eas_tzinfo_to_bytes(&tzi, raw);
    is_int(eas_tzinfo_from_bytes(raw, EAS_TZINFO_LEN - 1, &back, &why), APR_EINVAL,
           "short buffer");

    /* Names. */
    is_int(eas_tzinfo_set_name(tzi.standard_name, "M\xc3\xbcnchen \xf0\x9f\x98\x80"),
           APR_SUCCESS, "UTF-8 name with a non-BMP character");
    is_str(eas_tzinfo_name(p, tzi.standard_name), "M\xc3\xbcnchen \xf0\x9f\x98\x80",
           "name round trip");
    is_int(eas_tzinfo_set_name(tzi.standard_name,
                               "0123456789012345678901234567890\xf0\x9f\x98\x80"),
           APR_SUCCESS, "a long name");
    is_str(eas_tzinfo_name(p, tzi.standard_name), "0123456789012345678901234567890",
           "truncation never splits a surrogate pair");
    is_int(eas_tzinfo_set_name(tzi.standard_name, "bad \xff"), APR_EINVAL, "bad UTF-8 refused");
}

static void check_rule(const eas_systemtime_t *st, int month, int week, int dow, int hour,
                       int minute, const char *what)
{
    char desc[160];
    apr_snprintf(desc, sizeof(desc), "%s: month %d week %d dow %d %02d:%02d", what, month,
                 week, dow, hour, minute);
    ok(st->year == 0 && st->month == month && st->day == week && st->day_of_week == dow
       && st->hour == hour && st->minute == minute && st->second == 0, desc);
    if (!(st->month == month && st->day == week))
        diag("got month %d week %d dow %d %02d:%02d", st->month, st->day, st->day_of_week,
             st->hour, st->minute);
}

static void test_zone_to_blob(apr_pool_t *p)
{
    eas_tz_t *tz;
    eas_tzinfo_t tzi;
    int exact;

    is_int(eas_tz_open(p, "Mars/Olympus_Mons", &tz), APR_NOTFOUND, "unknown zone refused");
    is_int(eas_tz_open(p, "", &tz), APR_NOTFOUND, "empty zone refused");
    is_int(eas_tz_open(p, "Etc/Unknown", &tz), APR_NOTFOUND, "Etc/Unknown refused");
    is_int(eas_tz_open(p, "Europe/Berlin\n", &tz), APR_NOTFOUND, "control character refused");
    is_int(eas_tz_open(p, "Asia/Calcutta", &tz), APR_SUCCESS, "link name opens");
    is_str(eas_tz_id(tz), "Asia/Kolkata", "link name normalised to tz database spelling");
    is_int(eas_tz_open(p, "US/Eastern", &tz), APR_SUCCESS, "alias opens");
    is_str(eas_tz_id(tz), "America/New_York", "alias normalised");
    is_str(eas_tz_windows_id(tz), "Eastern Standard Time", "Windows name from CLDR");

    eas_tz_open(p, "Europe/Berlin", &tz);
    is_int(eas_tz_to_tzinfo(tz, 2024, &tzi, &exact), APR_SUCCESS, "Berlin 2024 blob");
    ok(exact, "Berlin 2024 is exact");
    is_int(tzi.bias, -60, "Berlin bias -60");
    is_int(tzi.daylight_bias, -60, "Berlin daylight bias -60");
    check_rule(&tzi.daylight_date, 3, 5, 0, 2, 0, "Berlin DST starts last Sunday of March");
    check_rule(&tzi.standard_date, 10, 5, 0, 3, 0, "Berlin DST ends last Sunday of October");
    is_str(eas_tzinfo_name(p, tzi.standard_name), "W. Europe Standard Time", "Windows name");
    is_str(eas_tzinfo_name(p, tzi.daylight_name), "W. Europe Daylight Time", "daylight name");
    /* 26 March 2023 is both the 4th and the last Sunday: the rule is "last". */
    eas_tz_to_tzinfo(tz, 2023, &tzi, &exact);
    check_rule(&tzi.daylight_date, 3, 5, 0, 2, 0, "Berlin 2023: 4th = last Sunday -> last");

    eas_tz_open(p, "America/New_York", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    is_int(tzi.bias, 300, "New York bias 300");
    check_rule(&tzi.daylight_date, 3, 2, 0, 2, 0, "New York: second Sunday of March");
    check_rule(&tzi.standard_date, 11, 1, 0, 2, 0, "New York: first Sunday of November");
    eas_tz_to_tzinfo(tz, 2006, &tzi, &exact);
    check_rule(&tzi.daylight_date, 4, 1, 0, 2, 0, "New York 2006: first Sunday of April");
    check_rule(&tzi.standard_date, 10, 5, 0, 2, 0, "New York 2006: last Sunday of October");

    eas_tz_open(p, "Australia/Sydney", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    ok(exact && tzi.bias == -600, "Sydney bias -600");
    check_rule(&tzi.daylight_date, 10, 1, 0, 2, 0, "Sydney: DST from first Sunday of October");
    check_rule(&tzi.standard_date, 4, 1, 0, 3, 0, "Sydney: DST until first Sunday of April");

    eas_tz_open(p, "Pacific/Chatham", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    ok(exact && tzi.bias == -765, "Chatham bias -765 (UTC+12:45)");
    check_rule(&tzi.daylight_date, 9, 5, 0, 2, 45, "Chatham: last Sunday of September 02:45");

    eas_tz_open(p, "America/St_Johns", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    ok(exact && tzi.bias == 210, "St John's bias 210 (UTC-03:30)");

    eas_tz_open(p, "Australia/Lord_Howe", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    ok(exact && tzi.bias == -630 && tzi.daylight_bias == -30, "Lord Howe: half-hour DST");

    eas_tz_open(p, "Asia/Kolkata", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    ok(exact && tzi.bias == -330 && tzi.standard_date.month == 0
       && tzi.daylight_date.month == 0, "Kolkata: -330, no DST");
    is_str(eas_tzinfo_name(p, tzi.standard_name), "India Standard Time", "India's Windows name");

    eas_tz_open(p, "America/Sao_Paulo", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    ok(exact && tzi.bias == 180 && tzi.standard_date.month == 0, "Sao Paulo 2024: no DST");
    eas_tz_to_tzinfo(tz, 2013, &tzi, &exact);
    ok(exact && tzi.daylight_date.month == 10 && tzi.standard_date.month == 2,
       "Sao Paulo 2013: DST October to February");

    /* Moscow 2011 moved to permanent UTC+4: one change, no yearly rule. */
    eas_tz_open(p, "Europe/Moscow", &tz);
    eas_tz_to_tzinfo(tz, 2011, &tzi, &exact);
    ok(!exact, "Moscow 2011 cannot be exact");
    is_int(tzi.bias, -240, "Moscow 2011: the offset the year ends with");
    is_int(eas_tz_to_tzinfo(tz, 1, &tzi, &exact), APR_EINVAL, "year 1 refused");
}

static void test_blob_to_zone(apr_pool_t *p)
{
    eas_tzinfo_t tzi, back;
    eas_tz_t *tz;
    int off, dst, exact;
    apr_time_t next;

    eas_tzinfo_decode(PST_B64, &tzi, NULL);
    is_int(eas_tz_from_tzinfo(p, &tzi, 2024, &tz), APR_SUCCESS, "PST blob -> zone");
    is_str(eas_tz_id(tz), "America/Los_Angeles", "PST is America/Los_Angeles");
    /* In 2006 the US still used April..October: the PST blob's 2007 rules
     * match no zone then, and the blob's own rules are kept. */
    is_int(eas_tz_from_tzinfo(p, &tzi, 2006, &tz), APR_SUCCESS, "PST blob in 2006");
    ok(eas_tz_id(tz) == NULL, "2006: no IANA zone had those rules, blob rules kept");
    eas_tz_offset(tz, T(2006, 3, 20, 12, 0, 0), &off, &dst);
    ok(off == -7 * 3600 && dst, "2006 per the blob: DST on 20 March");

    eas_tzinfo_decode(WEU_B64, &tzi, NULL);
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "Europe/Berlin", "W. Europe -> Europe/Berlin");
    eas_tzinfo_decode(AUS_B64, &tzi, NULL);
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "Australia/Sydney", "AUS Eastern -> Australia/Sydney");
    eas_tzinfo_decode(IND_B64, &tzi, NULL);
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "Asia/Kolkata", "India -> Asia/Kolkata");
    eas_tzinfo_decode(DEV_B64, &tzi, NULL);
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "Europe/Berlin", "phone blob with a display name -> by rules");
    eas_tzinfo_decode(ESA_B64, &tzi, NULL);
    eas_tz_from_tzinfo(p, &tzi, 2013, &tz);
    is_str(eas_tz_id(tz), "America/Sao_Paulo", "23:59:59.999 Windows rules -> Sao Paulo");

    /* Names do not decide: US Eastern rules under a foreign name. */
    eas_tz_open(p, "America/New_York", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    eas_tzinfo_set_name(tzi.standard_name, "Hora de verano del Este");
    eas_tzinfo_set_name(tzi.daylight_name, "");
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "America/New_York", "unnamed US Eastern -> the common zone");
    /* A Windows name whose rules are wrong for the year does not win. */
    eas_tzinfo_set_name(tzi.standard_name, "Pacific Standard Time");
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "America/New_York", "rules beat a misleading name");
    /* An IANA name in StandardName is honoured when the rules agree. */
    eas_tz_open(p, "Europe/Amsterdam", &tz);
    eas_tz_to_tzinfo(tz, 2024, &tzi, &exact);
    eas_tzinfo_set_name(tzi.standard_name, "Europe/Amsterdam");
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "Europe/Amsterdam", "IANA name in StandardName");

    /* No zone has UTC+05:17: the blob's rules, never GMT. */
    eas_tzinfo_decode(ODD_B64, &tzi, NULL);
    is_int(eas_tz_from_tzinfo(p, &tzi, 2024, &tz), APR_SUCCESS, "odd blob -> zone");
    ok(eas_tz_id(tz) == NULL, "odd blob keeps its own rules");
    eas_tz_offset(tz, T(2024, 1, 15, 0, 0, 0), &off, &dst);
    ok(off == (5 * 60 + 17 + 60) * 60 && dst, "January: UTC+06:17 daylight (southern DST)");
    eas_tz_offset(tz, T(2024, 7, 15, 0, 0, 0), &off, &dst);
    ok(off == (5 * 60 + 17) * 60 && !dst, "July: UTC+05:17 standard");
    /* First Sunday of April 2024 is the 7th; 03:00 local daylight. */
    is_int(eas_tz_next_transition(tz, T(2024, 1, 1, 0, 0, 0), &next), APR_SUCCESS,
           "odd blob has transitions");
    is_str(fmt(p, next), "2024-04-06T20:43:00.000Z", "DST ends 7 April 03:00 UTC+06:17");
    eas_tz_next_transition(tz, next, &next);
    is_str(fmt(p, next), "2024-10-05T20:43:00.000Z", "DST starts 6 October 02:00 UTC+05:17");
    eas_tz_to_tzinfo(tz, 2024, &back, &exact);
    ok(exact && memcmp(&back, &tzi, sizeof(tzi)) == 0, "a rule zone gives its blob back");

    /* No DST at all and an odd offset. */
    memset(&tzi, 0, sizeof(tzi));
    tzi.bias = -317;
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    eas_tz_offset(tz, T(2024, 7, 1, 0, 0, 0), &off, &dst);
    ok(eas_tz_id(tz) == NULL && off == 317 * 60 && !dst, "fixed UTC+05:17, not GMT");
    /* Among many matches, a zone CLDR names for a Windows zone wins. */
    tzi.bias = 240;
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    {
        UChar win[64], golden[64];
        char g[64];
        UErrorCode st = U_ZERO_ERROR;
        int32_t n;
        u_uastrcpy(win, eas_tz_windows_id(tz) ? eas_tz_windows_id(tz) : "");
        n = ucal_getTimeZoneIDForWindowsID(win, -1, NULL, golden, 64, &st);
        u_austrncpy(g, golden, 64);
        g[n > 0 && n < 64 ? n : 0] = 0;
        is_str(eas_tz_id(tz), g, "nameless UTC-04:00 -> the zone CLDR gives its Windows zone");
    }
    /* UTC itself. */
    tzi.bias = 0;
    eas_tz_from_tzinfo(p, &tzi, 2024, &tz);
    is_str(eas_tz_id(tz), "Etc/UTC", "bias 0 without DST -> Etc/UTC");

    /* Absolute dates happen once. */
    memset(&tzi, 0, sizeof(tzi));
    tzi.bias = -60;
    tzi.daylight_bias = -60;
    tzi.daylight_date = (eas_systemtime_t){ 2021, 5, 0, 3, 12, 0, 0, 0 };
    tzi.standard_date = (eas_systemtime_t){ 2021, 6, 0, 7, 12, 0, 0, 0 };
    eas_tz_from_rules(p, &tzi, &tz);
    eas_tz_offset(tz, T(2021, 5, 20, 0, 0, 0), &off, &dst);
    ok(off == 7200 && dst, "absolute DST period of 2021 applies in 2021");
    eas_tz_offset(tz, T(2022, 5, 20, 0, 0, 0), &off, &dst);
    ok(off == 3600 && !dst, "and not in 2022");

    /* One date set only: no DST (Windows treats such data as invalid). */
    memset(&tzi, 0, sizeof(tzi));
    tzi.bias = -120;
    tzi.daylight_bias = -60;
    tzi.daylight_date = (eas_systemtime_t){ 0, 3, 0, 5, 2, 0, 0, 0 };
    is_int(eas_tz_from_rules(p, &tzi, &tz), APR_SUCCESS, "half a rule accepted");
    eas_tz_offset(tz, T(2024, 7, 1, 0, 0, 0), &off, &dst);
    ok(off == 7200 && !dst, "half a rule means no DST");
    tzi.daylight_date.month = 14;
    is_int(eas_tz_from_tzinfo(p, &tzi, 2024, &tz), APR_EINVAL, "invalid blob refused");
    is_int(eas_tz_from_tzinfo(p, &tzi, 10000, &tz), APR_EINVAL, "year 10000 refused");
}

static void check_l2u(apr_pool_t *p, eas_tz_t *tz, eas_walltime_t wt, eas_tz_pick_e pick,
                      const char *want, int want_flags, const char *what)
{
    apr_time_t u = 0;
    int flags = -1;
    char desc[200];

    apr_snprintf(desc, sizeof(desc), "%s %s", eas_tz_id(tz) ? eas_tz_id(tz) : "rules", what);
    ok(eas_tz_local_to_utc(tz, &wt, pick, &u, &flags) == APR_SUCCESS
       && strcmp(fmt(p, u), want) == 0 && flags == want_flags, desc);
    if (strcmp(fmt(p, u), want) != 0 || flags != want_flags)
        diag("got %s flags %d, expected %s flags %d", fmt(p, u), flags, want, want_flags);
}

static void test_local_utc(apr_pool_t *p)
{
    eas_tz_t *tz;
    eas_walltime_t wt;
    int off;

    eas_tz_open(p, "Europe/Berlin", &tz);
    check_l2u(p, tz, W(2024, 7, 1, 12, 0, 0), EAS_TZ_FORMER, "2024-07-01T10:00:00.000Z", 0,
              "summer noon");
    check_l2u(p, tz, W(2024, 3, 31, 2, 30, 0), EAS_TZ_FORMER, "2024-03-31T01:30:00.000Z",
              EAS_TZ_SKIPPED, "skipped 02:30, former offset: 03:30 CEST");
    check_l2u(p, tz, W(2024, 3, 31, 2, 30, 0), EAS_TZ_LATTER, "2024-03-31T00:30:00.000Z",
              EAS_TZ_SKIPPED, "skipped 02:30, latter offset: 01:30 CET");
    check_l2u(p, tz, W(2024, 10, 27, 2, 30, 0), EAS_TZ_FORMER, "2024-10-27T00:30:00.000Z",
              EAS_TZ_REPEATED, "repeated 02:30, former: the CEST one");
    check_l2u(p, tz, W(2024, 10, 27, 2, 30, 0), EAS_TZ_LATTER, "2024-10-27T01:30:00.000Z",
              EAS_TZ_REPEATED, "repeated 02:30, latter: the CET one");
    check_l2u(p, tz, W(2024, 3, 31, 3, 0, 0), EAS_TZ_FORMER, "2024-03-31T01:00:00.000Z", 0,
              "03:00 right after the gap");
    eas_tz_utc_to_local(tz, T(2024, 3, 31, 0, 59, 59), &wt, &off);
    ok(wt.hour == 1 && wt.minute == 59 && off == 3600, "00:59:59Z is 01:59:59 CET");
    eas_tz_utc_to_local(tz, T(2024, 3, 31, 1, 0, 0), &wt, &off);
    ok(wt.hour == 3 && wt.minute == 0 && off == 7200, "01:00:00Z is 03:00:00 CEST");

    eas_tz_open(p, "Australia/Sydney", &tz);
    check_l2u(p, tz, W(2024, 10, 6, 2, 30, 0), EAS_TZ_FORMER, "2024-10-05T16:30:00.000Z",
              EAS_TZ_SKIPPED, "October gap (southern spring)");
    check_l2u(p, tz, W(2024, 4, 7, 2, 30, 0), EAS_TZ_FORMER, "2024-04-06T15:30:00.000Z",
              EAS_TZ_REPEATED, "April overlap");
    eas_tz_open(p, "Australia/Lord_Howe", &tz);
    check_l2u(p, tz, W(2024, 10, 6, 2, 15, 0), EAS_TZ_FORMER, "2024-10-05T15:45:00.000Z",
              EAS_TZ_SKIPPED, "half-hour gap");
    eas_tz_open(p, "Pacific/Chatham", &tz);
    check_l2u(p, tz, W(2024, 9, 29, 2, 50, 0), EAS_TZ_FORMER, "2024-09-28T14:05:00.000Z",
              EAS_TZ_SKIPPED, "gap at 02:45");
    eas_tz_open(p, "America/St_Johns", &tz);
    check_l2u(p, tz, W(2024, 11, 3, 1, 15, 0), EAS_TZ_LATTER, "2024-11-03T04:45:00.000Z",
              EAS_TZ_REPEATED, "UTC-02:30/-03:30 overlap");
    /* Samoa skipped 30 December 2011 entirely. */
    eas_tz_open(p, "Pacific/Apia", &tz);
    check_l2u(p, tz, W(2011, 12, 30, 12, 0, 0), EAS_TZ_FORMER, "2011-12-30T22:00:00.000Z",
              EAS_TZ_SKIPPED, "the day Samoa skipped");
    wt = W(2024, 2, 30, 0, 0, 0);
    {
        apr_time_t u;
        is_int(eas_tz_local_to_utc(tz, &wt, EAS_TZ_FORMER, &u, NULL), APR_EINVAL,
               "30 February refused");
    }
}

/* ICU's Calendar as the oracle: FORMER is (repeated: first, skipped: last),
 * LATTER the opposite. */
static apr_time_t icu_l2u(UCalendar *cal, const eas_walltime_t *wt, eas_tz_pick_e pick)
{
    UErrorCode st = U_ZERO_ERROR;
    ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME,
                      pick == EAS_TZ_FORMER ? UCAL_WALLTIME_FIRST : UCAL_WALLTIME_LAST);
    ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME,
                      pick == EAS_TZ_FORMER ? UCAL_WALLTIME_LAST : UCAL_WALLTIME_FIRST);
    ucal_clear(cal);
    ucal_setDateTime(cal, wt->year, wt->month - 1, wt->day, wt->hour, wt->minute, wt->second,
                     &st);
    return (apr_time_t)ucal_getMillis(cal, &st) * 1000;
}

/* Wall times around every change of the year, both picks, ours vs ICU's. */
static int oracle_year(eas_tz_t *tz, UCalendar *cal, int year, char *msg, size_t msglen)
{
    apr_time_t t = T(year, 1, 1, 0, 0, 0), end = T(year + 1, 1, 1, 0, 0, 0), next;
    int bad = 0, guard;

    for (guard = 0; guard < 16 && eas_tz_next_transition(tz, t, &next) == APR_SUCCESS
                    && next < end; ++guard) {
        int ob, oa, d, step;
        eas_tz_offset(tz, next - 1, &ob, &d);
        eas_tz_offset(tz, next, &oa, &d);
        for (step = -8; step <= 8; ++step) {
            apr_time_t l = next + (apr_time_t)(step < 0 ? ob : oa) * APR_USEC_PER_SEC
                           + (apr_time_t)step * 15 * 60 * APR_USEC_PER_SEC, ours;
            eas_walltime_t wt;
            int pick;
            eas_walltime_from_time(l, &wt);
            for (pick = EAS_TZ_FORMER; pick <= EAS_TZ_LATTER; ++pick) {
                apr_time_t theirs = icu_l2u(cal, &wt, pick);
                if (eas_tz_local_to_utc(tz, &wt, pick, &ours, NULL) != APR_SUCCESS
                    || ours != theirs) {
                    if (!bad)
                        apr_snprintf(msg, msglen, "%04d-%02d-%02d %02d:%02d pick %d: ours %"
                                     APR_TIME_T_FMT " ICU %" APR_TIME_T_FMT, wt.year, wt.month,
                                     wt.day, wt.hour, wt.minute, pick, ours, theirs);
                    ++bad;
                }
            }
        }
        t = next;
    }
    return bad;
}

static void test_properties(apr_pool_t *p)
{
    UErrorCode st = U_ZERO_ERROR;
    UEnumeration *zones = ucal_openTimeZoneIDEnumeration(UCAL_ZONE_TYPE_CANONICAL_LOCATION, NULL,
                                                         NULL, &st);
    const char *id;
    int32_t len;
    int nzones = 0, ndst = 0, exact_years = 0, inexact = 0, picked_seen = 0;
    int codec_bad = 0, rules_bad = 0, match_bad = 0, scan_bad = 0, oracle_bad = 0, id_bad = 0;
    int scans = 0, oracles = 0, year;
    char first[6][300] = { "", "", "", "", "", "" };
    apr_pool_t *zp;

    apr_pool_create(&zp, p);
    while ((id = uenum_next(zones, &len, &st)) != NULL) {
        eas_tz_t *tz;
        int has_dst = 0, pick, k;
        UCalendar *cal = NULL;
        UChar uid[64];

        apr_pool_clear(zp);
        if (eas_tz_open(zp, id, &tz) != APR_SUCCESS) {
            ++match_bad;
            apr_snprintf(first[2], sizeof(first[2]), "%s does not open", id);
            continue;
        }
        ++nzones;
        {
            eas_tz_t *again;
            if (eas_tz_open(zp, eas_tz_id(tz), &again) != APR_SUCCESS
                || strcmp(eas_tz_id(again), eas_tz_id(tz)) != 0) {
                if (!id_bad++)
                    apr_snprintf(first[5], sizeof(first[5]), "%s -> %s", id, eas_tz_id(tz));
            }
        }
        pick = is_picked(eas_tz_id(tz)) || is_picked(id);
        picked_seen += pick;
        if (pick) {
            u_uastrcpy(uid, id);
            cal = ucal_open(uid, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
        }
        for (year = FIRST_YEAR; year <= LAST_YEAR; ++year) {
            eas_tzinfo_t tzi, dec;
            eas_tz_t *rz, *mz;
            int exact;
            if (eas_tz_to_tzinfo(tz, year, &tzi, &exact) != APR_SUCCESS || !exact) {
                ++inexact;
                continue;
            }
            ++exact_years;
            has_dst |= tzi.standard_date.month != 0;
            /* Byte-exact codec round trip. */
            if (eas_tzinfo_decode(eas_tzinfo_encode(zp, &tzi), &dec, NULL) != APR_SUCCESS
                || memcmp(&dec, &tzi, sizeof(tzi)) != 0) {
                if (!codec_bad++)
                    apr_snprintf(first[0], sizeof(first[0]), "%s %d", id, year);
                continue;
            }
            /* The blob's own rules reproduce the zone's year. */
            eas_tz_from_rules(zp, &dec, &rz);
            if (!same_year(tz, rz, year) && !rules_bad++)
                apr_snprintf(first[1], sizeof(first[1]), "%s %d", id, year);
            /* Blob -> zone' with the same changes. */
            if (eas_tz_from_tzinfo(zp, &dec, year, &mz) != APR_SUCCESS
                || !same_year(tz, mz, year)) {
                if (!match_bad++)
                    apr_snprintf(first[2], sizeof(first[2]), "%s %d -> %s", id, year,
                                 eas_tz_id(mz) ? eas_tz_id(mz) : "(rules)");
            }
            /* Without names the zone is found by its rules alone (every
             * year for the picked zones, every 6th for the others). */
            if (pick || year % 6 == 0) {
                memset(dec.standard_name, 0, sizeof(dec.standard_name));
                memset(dec.daylight_name, 0, sizeof(dec.daylight_name));
                ++scans;
                if (eas_tz_from_tzinfo(zp, &dec, year, &mz) != APR_SUCCESS
                    || !same_year(tz, mz, year) || !eas_tz_id(mz)) {
                    if (!scan_bad++)
                        apr_snprintf(first[3], sizeof(first[3]), "%s %d -> %s", id, year,
                                     eas_tz_id(mz) ? eas_tz_id(mz) : "(rules)");
                }
            }
            if (pick) {
                char msg[200];
                oracles += 2;
                if ((k = oracle_year(tz, cal, year, msg, sizeof(msg))) != 0 && !oracle_bad++)
                    apr_snprintf(first[4], sizeof(first[4]), "%s %d: %s", id, year, msg);
                if ((k = oracle_year(rz, cal, year, msg, sizeof(msg))) != 0 && !oracle_bad++)
                    apr_snprintf(first[4], sizeof(first[4]), "%s rules %d: %s", id, year, msg);
            }
        }
        ndst += has_dst;
        if (cal)
            ucal_close(cal);
    }
    uenum_close(zones);
    diag("%d zones (%d with DST in %d..%d), %d exact zone-years, %d not describable by one "
         "yearly rule, %d rule-only matches, %d oracle years", nzones, ndst, FIRST_YEAR,
         LAST_YEAR, exact_years, inexact, scans, oracles);
    ok(nzones > 400 && ndst > 100, "ICU offers the zones");
    is_int(picked_seen, NPICKED, "every picked zone is an ICU location zone");
    is_int(id_bad, 0, "every zone's IANA name opens the same zone again");
    if (id_bad)
        diag("first: %s", first[5]);
    is_int(codec_bad, 0, "property: blob encode/decode is byte-exact");
    if (codec_bad)
        diag("first: %s", first[0]);
    is_int(rules_bad, 0, "property: blob(zone, year) rules give zone's changes in year");
    if (rules_bad)
        diag("first: %s", first[1]);
    is_int(match_bad, 0, "property: blob(zone, year) -> zone' with the same changes");
    if (match_bad)
        diag("first: %s", first[2]);
    is_int(scan_bad, 0, "property: nameless blob -> IANA zone with the same changes");
    if (scan_bad)
        diag("first: %s", first[3]);
    is_int(oracle_bad, 0, "property: wall clock -> UTC agrees with ICU at every change");
    if (oracle_bad)
        diag("first: %s", first[4]);
}

/* The picked zones' DST years are exact; the known exceptions are not. */
static void test_picked_years(apr_pool_t *p)
{
    static const struct { const char *id; int from, to; } dst_years[] = {
        { "Europe/Berlin", 2000, 2037 },   { "America/New_York", 2000, 2037 },
        { "Australia/Sydney", 2000, 2037 }, { "America/Sao_Paulo", 2000, 2018 },
        { "Asia/Tehran", 2000, 2001 },     { "Asia/Tehran", 2008, 2021 },
        { "Pacific/Chatham", 2000, 2037 }, { "Pacific/Auckland", 2000, 2037 },
        { "America/St_Johns", 2000, 2037 }, { "Europe/London", 2000, 2037 },
    };
    size_t i;
    for (i = 0; i < sizeof(dst_years) / sizeof(dst_years[0]); ++i) {
        eas_tz_t *tz;
        int y, good = 0, n = 0;
        char desc[120];
        eas_tz_open(p, dst_years[i].id, &tz);
        for (y = dst_years[i].from; y <= dst_years[i].to; ++y) {
            eas_tzinfo_t tzi;
            int exact;
            ++n;
            good += eas_tz_to_tzinfo(tz, y, &tzi, &exact) == APR_SUCCESS && exact
                    && tzi.standard_date.month && tzi.daylight_date.month;
        }
        apr_snprintf(desc, sizeof(desc), "%s: DST %d..%d as exact yearly rules", dst_years[i].id,
                     dst_years[i].from, dst_years[i].to);
        is_int(good, n, desc);
    }
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    diag("ICU time zone data %s", eas_tz_data_version());
    test_calendar(p);
    test_codec(p);
    test_zone_to_blob(p);
    test_blob_to_zone(p);
    test_local_utc(p);
    test_picked_years(p);
    test_properties(p);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
