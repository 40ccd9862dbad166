/*
 * EAS Timezone blobs, IANA zones (through ICU's C API) and wall-clock <-> UTC
 * conversion.  All ICU use of libeas lives here.
 */
#include "eas_tz.h"

#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_base64.h>
#include <apr_lib.h>

#include <unicode/ucal.h>
#include <unicode/uenum.h>
#include <unicode/ustring.h>

#define USEC APR_USEC_PER_SEC
#define HOUR_US (3600 * (apr_time_t)USEC)
#define DAY_US (86400 * (apr_time_t)USEC)
#define MIN_YEAR 1
#define MAX_YEAR 9999
/* Offsets beyond a day are nonsense; bounding them bounds every search. */
#define MAX_OFFSET_MIN 1440
#define MAX_ZONE_ID 64
#define MAX_YEAR_TRANSITIONS 8

/* ---- calendar arithmetic ---------------------------------------------- */

static apr_int64_t fdiv(apr_int64_t a, apr_int64_t b)
{
    apr_int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int is_leap(apr_int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int eas_days_in_month(int year, int month)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12)
        return 0;
    return dim[month - 1] + (month == 2 && is_leap(year));
}

/* Days from 1970-01-01 to y-m-d; valid for any y (m and d already checked). */
static apr_int64_t days_from_civil(apr_int64_t y, int m, int d)
{
    static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    apr_int64_t y1 = y - 1;
    apr_int64_t days = 365 * y1 + fdiv(y1, 4) - fdiv(y1, 100) + fdiv(y1, 400);
    days += before[m - 1] + (m > 2 && is_leap(y)) + d - 1;
    return days - 719162;    /* days from 0001-01-01 to 1970-01-01 */
}

static void civil_from_days(apr_int64_t days, apr_int64_t *y, int *m, int *d)
{
    apr_int64_t year = 1970 + fdiv(days * 400, 146097);
    apr_int64_t doy;
    int month;

    while (days_from_civil(year, 1, 1) > days)
        --year;
    while (days_from_civil(year + 1, 1, 1) <= days)
        ++year;
    doy = days - days_from_civil(year, 1, 1);
    for (month = 1; month < 12; ++month) {
        int n = eas_days_in_month((int)(is_leap(year) ? 2000 : 2001), month);
        if (doy < n)
            break;
        doy -= n;
    }
    *y = year;
    *m = month;
    *d = (int)doy + 1;
}

void eas_walltime_from_time(apr_time_t t, eas_walltime_t *wt)
{
    apr_int64_t secs = fdiv(t, USEC);
    apr_int64_t days = fdiv(secs, 86400);
    apr_int64_t sod = secs - days * 86400;
    apr_int64_t y;

    civil_from_days(days, &y, &wt->month, &wt->day);
    wt->year = (int)y;
    wt->hour = (int)(sod / 3600);
    wt->minute = (int)(sod / 60 % 60);
    wt->second = (int)(sod % 60);
}

static int walltime_valid(const eas_walltime_t *wt)
{
    return wt->year >= MIN_YEAR && wt->year <= MAX_YEAR
        && wt->month >= 1 && wt->month <= 12
        && wt->day >= 1 && wt->day <= eas_days_in_month(wt->year, wt->month)
        && wt->hour >= 0 && wt->hour <= 23 && wt->minute >= 0 && wt->minute <= 59
        && wt->second >= 0 && wt->second <= 59;
}

static apr_time_t civil_to_time(apr_int64_t y, int m, int d, int hh, int mm, int ss)
{
    return ((days_from_civil(y, m, d) * 86400) + hh * 3600 + mm * 60 + ss) * USEC;
}

apr_status_t eas_walltime_to_time(const eas_walltime_t *wt, apr_time_t *t)
{
    if (!walltime_valid(wt))
        return APR_EINVAL;
    *t = civil_to_time(wt->year, wt->month, wt->day, wt->hour, wt->minute, wt->second);
    return APR_SUCCESS;
}

static int weekday_of_days(apr_int64_t days)
{
    return (int)(((days % 7) + 11) % 7);    /* 1970-01-01 was a Thursday (4) */
}

int eas_walltime_weekday(const eas_walltime_t *wt)
{
    return weekday_of_days(days_from_civil(wt->year, wt->month, wt->day));
}

/* ---- the TIME_ZONE_INFORMATION blob (MS-ASDTYPE 2.7.6) ------------------ */

static apr_uint32_t get32(const unsigned char *b)
{
    return (apr_uint32_t)b[0] | (apr_uint32_t)b[1] << 8 | (apr_uint32_t)b[2] << 16
           | (apr_uint32_t)b[3] << 24;
}

static int get16(const unsigned char *b)
{
    return b[0] | b[1] << 8;
}

static void put32(unsigned char *b, apr_int32_t v)
{
    apr_uint32_t u = (apr_uint32_t)v;
    b[0] = u & 0xff;
    b[1] = (u >> 8) & 0xff;
    b[2] = (u >> 16) & 0xff;
    b[3] = (u >> 24) & 0xff;
}

static void put16(unsigned char *b, int v)
{
    b[0] = v & 0xff;
    b[1] = (v >> 8) & 0xff;
}

static void get_systemtime(const unsigned char *b, eas_systemtime_t *st)
{
    st->year = get16(b);
    st->month = get16(b + 2);
    st->day_of_week = get16(b + 4);
    st->day = get16(b + 6);
    st->hour = get16(b + 8);
    st->minute = get16(b + 10);
    st->second = get16(b + 12);
    st->milliseconds = get16(b + 14);
}

static void put_systemtime(unsigned char *b, const eas_systemtime_t *st)
{
    put16(b, st->year);
    put16(b + 2, st->month);
    put16(b + 4, st->day_of_week);
    put16(b + 6, st->day);
    put16(b + 8, st->hour);
    put16(b + 10, st->minute);
    put16(b + 12, st->second);
    put16(b + 14, st->milliseconds);
}

static const char *check_systemtime(const eas_systemtime_t *st)
{
    if (st->month == 0)
        return NULL;
    if (st->month < 0 || st->month > 12)
        return "transition month out of range";
    if (st->year == 0) {
        if (st->day < 1 || st->day > 5)
            return "transition week of month out of range";
        if (st->day_of_week < 0 || st->day_of_week > 6)
            return "transition day of week out of range";
    }
    else {
        if (st->year < MIN_YEAR || st->year > MAX_YEAR)
            return "transition year out of range";
        if (st->day < 1 || st->day > eas_days_in_month(st->year, st->month))
            return "transition day out of range";
    }
    if (st->hour < 0 || st->hour > 23 || st->minute < 0 || st->minute > 59
        || st->second < 0 || st->second > 59 || st->milliseconds < 0
        || st->milliseconds > 999)
        return "transition time out of range";
    return NULL;
}

apr_status_t eas_tzinfo_check(const eas_tzinfo_t *tzi, const char **why)
{
    const char *w = NULL;

    if (abs(tzi->bias) > MAX_OFFSET_MIN || abs(tzi->standard_bias) > MAX_OFFSET_MIN
        || abs(tzi->daylight_bias) > MAX_OFFSET_MIN
        || abs(tzi->bias + tzi->standard_bias) > MAX_OFFSET_MIN
        || abs(tzi->bias + tzi->daylight_bias) > MAX_OFFSET_MIN)
        w = "bias out of range";
    else if ((w = check_systemtime(&tzi->standard_date)) == NULL)
        w = check_systemtime(&tzi->daylight_date);
    if (why)
        *why = w;
    return w ? APR_EINVAL : APR_SUCCESS;
}

apr_status_t eas_tzinfo_from_bytes(const unsigned char *buf, apr_size_t len,
                                   eas_tzinfo_t *tzi, const char **why)
{
    int i;

    if (len != EAS_TZINFO_LEN) {
        if (why)
            *why = "Timezone is not 172 bytes long";
        return APR_EINVAL;
    }
    tzi->bias = (apr_int32_t)get32(buf);
    for (i = 0; i < EAS_TZINFO_NAME_LEN; ++i)
        tzi->standard_name[i] = (apr_uint16_t)get16(buf + 4 + 2 * i);
    get_systemtime(buf + 68, &tzi->standard_date);
    tzi->standard_bias = (apr_int32_t)get32(buf + 84);
    for (i = 0; i < EAS_TZINFO_NAME_LEN; ++i)
        tzi->daylight_name[i] = (apr_uint16_t)get16(buf + 88 + 2 * i);
    get_systemtime(buf + 152, &tzi->daylight_date);
    tzi->daylight_bias = (apr_int32_t)get32(buf + 168);
    return eas_tzinfo_check(tzi, why);
}

apr_status_t eas_tzinfo_decode(const char *b64, eas_tzinfo_t *tzi, const char **why)
{
    unsigned char buf[EAS_TZINFO_LEN + 8];
    size_t len, pad = 0, i;

    /* apr_base64_decode_binary() skips nothing and checks nothing: reject
     * anything but canonical base64 of exactly 172 bytes first. */
    len = b64 ? strlen(b64) : 0;
    while (pad < 2 && len > pad && b64[len - 1 - pad] == '=')
        ++pad;
    for (i = 0; i < len - pad; ++i) {
        char c = b64[i];
        if (!apr_isalnum(c) && c != '+' && c != '/')
            break;
    }
    if (len == 0 || i != len - pad || (pad && len % 4 != 0)
        || (len - pad) * 3 / 4 != EAS_TZINFO_LEN || (len - pad) % 4 == 1) {
        if (why)
            *why = "Timezone is not base64 of 172 bytes";
        return APR_EINVAL;
    }
    if (apr_base64_decode_binary(buf, b64) != EAS_TZINFO_LEN) {
        if (why)
            *why = "Timezone is not base64 of 172 bytes";
        return APR_EINVAL;
    }
    return eas_tzinfo_from_bytes(buf, EAS_TZINFO_LEN, tzi, why);
}

void eas_tzinfo_to_bytes(const eas_tzinfo_t *tzi, unsigned char *buf)
{
    int i;

    put32(buf, tzi->bias);
    for (i = 0; i < EAS_TZINFO_NAME_LEN; ++i)
        put16(buf + 4 + 2 * i, tzi->standard_name[i]);
    put_systemtime(buf + 68, &tzi->standard_date);
    put32(buf + 84, tzi->standard_bias);
    for (i = 0; i < EAS_TZINFO_NAME_LEN; ++i)
        put16(buf + 88 + 2 * i, tzi->daylight_name[i]);
    put_systemtime(buf + 152, &tzi->daylight_date);
    put32(buf + 168, tzi->daylight_bias);
}

const char *eas_tzinfo_encode(apr_pool_t *p, const eas_tzinfo_t *tzi)
{
    unsigned char buf[EAS_TZINFO_LEN];
    char *out = apr_palloc(p, apr_base64_encode_len(EAS_TZINFO_LEN));

    eas_tzinfo_to_bytes(tzi, buf);
    apr_base64_encode_binary(out, buf, EAS_TZINFO_LEN);
    return out;
}

static int32_t name_len(const apr_uint16_t *name)
{
    int32_t n = 0;
    while (n < EAS_TZINFO_NAME_LEN && name[n])
        ++n;
    return n;
}

const char *eas_tzinfo_name(apr_pool_t *p, const apr_uint16_t *name)
{
    char buf[EAS_TZINFO_NAME_LEN * 3 + 1];
    int32_t out = 0, subs = 0;
    UErrorCode st = U_ZERO_ERROR;

    u_strToUTF8WithSub(buf, sizeof(buf), &out, (const UChar *)name, name_len(name), 0xFFFD,
                       &subs, &st);
    if (U_FAILURE(st))
        return "";
    return apr_pstrmemdup(p, buf, out);
}

apr_status_t eas_tzinfo_set_name(apr_uint16_t *name, const char *s)
{
    UChar buf[256];
    int32_t n = 0;
    UErrorCode st = U_ZERO_ERROR;

    memset(name, 0, EAS_TZINFO_NAME_LEN * sizeof(*name));
    if (!s)
        return APR_SUCCESS;
    /* Preflight validates all of s; the copy may then stop at buf's end. */
    u_strFromUTF8(NULL, 0, &n, s, -1, &st);
    if (U_FAILURE(st) && st != U_BUFFER_OVERFLOW_ERROR)
        return APR_EINVAL;
    st = U_ZERO_ERROR;
    u_strFromUTF8(buf, 256, &n, s, -1, &st);
    if (n > 256)
        n = 256;
    if (n > EAS_TZINFO_NAME_LEN) {
        n = EAS_TZINFO_NAME_LEN;
        if (U16_IS_LEAD(buf[n - 1]))
            --n;    /* never split a surrogate pair */
    }
    memcpy(name, buf, n * sizeof(UChar));
    return APR_SUCCESS;
}

/* ---- zones -------------------------------------------------------------- */

struct eas_tz_t {
    const char *id;           /* IANA name; NULL for a zone following a blob */
    const char *winid;        /* CLDR's Windows name, or NULL */
    UCalendar *cal;           /* ICU zone, or NULL */
    eas_tzinfo_t rules;       /* blob-rule zone */
    int std_off, dst_off;     /* seconds east of UTC, blob-rule zone */
    int has_dst;
};

/* One change of offset or DST flag. */
typedef struct {
    apr_time_t at;
    int off;                  /* offset after the transition */
    int dst;                  /* DST flag after it */
} tz_change_t;

/*
 * ICU (CLDR) keeps a few superseded spellings as canonical ids; the tz
 * database spelling is what other software (libical, PostgreSQL) expects.
 */
static const char *const renamed[][2] = {
    { "Africa/Asmera", "Africa/Asmara" },
    { "America/Buenos_Aires", "America/Argentina/Buenos_Aires" },
    { "America/Catamarca", "America/Argentina/Catamarca" },
    { "America/Coral_Harbour", "America/Atikokan" },
    { "America/Cordoba", "America/Argentina/Cordoba" },
    { "America/Godthab", "America/Nuuk" },
    { "America/Indianapolis", "America/Indiana/Indianapolis" },
    { "America/Jujuy", "America/Argentina/Jujuy" },
    { "America/Louisville", "America/Kentucky/Louisville" },
    { "America/Mendoza", "America/Argentina/Mendoza" },
    { "Asia/Calcutta", "Asia/Kolkata" },
    { "Asia/Katmandu", "Asia/Kathmandu" },
    { "Asia/Rangoon", "Asia/Yangon" },
    { "Asia/Saigon", "Asia/Ho_Chi_Minh" },
    { "Atlantic/Faeroe", "Atlantic/Faroe" },
    { "Europe/Kiev", "Europe/Kyiv" },
    { "Pacific/Enderbury", "Pacific/Kanton" },
    { "Pacific/Ponape", "Pacific/Pohnpei" },
    { "Pacific/Truk", "Pacific/Chuuk" },
};

static const char *tzdb_spelling(const char *icu_id)
{
    size_t i;
    for (i = 0; i < sizeof(renamed) / sizeof(renamed[0]); ++i)
        if (strcmp(renamed[i][0], icu_id) == 0)
            return renamed[i][1];
    return icu_id;
}

/*
 * Zones preferred when a blob matches several: the most used zone of each
 * offset and rule set first (a blob with US Eastern rules should become
 * America/New_York, not America/Grand_Turk).
 */
static const char *const common_zones[] = {
    "Etc/UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Helsinki",
    "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "America/New_York",
    "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Halifax", "America/St_Johns",
    "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/Mexico_City",
    "America/Bogota", "America/Santiago", "Africa/Lagos", "Africa/Johannesburg",
    "Africa/Cairo", "Africa/Nairobi", "Asia/Jerusalem", "Asia/Dubai", "Asia/Tehran",
    "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok",
    "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul", "Australia/Perth",
    "Australia/Darwin", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney",
    "Pacific/Auckland",
};

static void ascii_to_uchar(UChar *dst, const char *src, int32_t cap)
{
    u_uastrncpy(dst, src, cap);
    dst[cap - 1] = 0;
}

static const char *uchar_to_pool(apr_pool_t *p, const UChar *src, int32_t len)
{
    char *out = apr_palloc(p, len + 1);
    int32_t i;
    for (i = 0; i < len; ++i)
        out[i] = src[i] < 0x80 ? (char)src[i] : '?';
    out[len] = 0;
    return out;
}

static apr_status_t close_cal(void *data)
{
    ucal_close(data);
    return APR_SUCCESS;
}

static UDate to_udate(apr_time_t t)
{
    return (UDate)fdiv(t, 1000);
}

static void rule_changes_in_year(const eas_tz_t *tz, apr_int64_t year, tz_change_t *out,
                                 int *n);

static int cmp_change(const void *a, const void *b)
{
    const tz_change_t *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* The blob's transitions of years y-1 .. y+2 in time order. */
static int rule_changes_around(const eas_tz_t *tz, apr_int64_t y, tz_change_t *out)
{
    int n = 0, k, i;
    for (i = -1; i <= 2; ++i) {
        rule_changes_in_year(tz, y + i, out + n, &k);
        n += k;
    }
    qsort(out, n, sizeof(*out), cmp_change);
    return n;
}

static apr_int64_t year_of(apr_time_t t)
{
    apr_int64_t y;
    int m, d;
    civil_from_days(fdiv(fdiv(t, USEC), 86400), &y, &m, &d);
    return y;
}

/* Offset and DST flag at t, from ICU or from the blob's own rules. */
static apr_status_t raw_offset(eas_tz_t *tz, apr_time_t t, int *off, int *dst)
{
    if (tz->cal) {
        UErrorCode st = U_ZERO_ERROR;
        int32_t raw, ds;
        ucal_setMillis(tz->cal, to_udate(t), &st);
        raw = ucal_get(tz->cal, UCAL_ZONE_OFFSET, &st);
        ds = ucal_get(tz->cal, UCAL_DST_OFFSET, &st);
        if (U_FAILURE(st))
            return APR_EGENERAL;
        *off = (raw + ds) / 1000;
        *dst = ds != 0;
        return APR_SUCCESS;
    }
    *off = tz->std_off;
    *dst = 0;
    if (tz->has_dst) {
        tz_change_t ch[8];
        int n = rule_changes_around(tz, year_of(t + tz->std_off * (apr_time_t)USEC) - 1, ch), i;
        for (i = 0; i < n && ch[i].at <= t; ++i) {
            *off = ch[i].off;
            *dst = ch[i].dst;
        }
    }
    return APR_SUCCESS;
}

/* The next transition of the underlying data after t (it may change nothing). */
static apr_status_t raw_next(eas_tz_t *tz, apr_time_t t, apr_time_t *next)
{
    if (tz->cal) {
        UErrorCode st = U_ZERO_ERROR;
        UDate d;
        ucal_setMillis(tz->cal, to_udate(t), &st);
        if (!ucal_getTimeZoneTransitionDate(tz->cal, UCAL_TZ_TRANSITION_NEXT, &d, &st)
            || U_FAILURE(st) || d > 253402300800000.0)    /* past 9999 */
            return APR_NOTFOUND;
        *next = (apr_time_t)d * 1000;
        return APR_SUCCESS;
    }
    if (tz->has_dst) {
        tz_change_t ch[8];
        int n = rule_changes_around(tz, year_of(t), ch), i;
        for (i = 0; i < n; ++i)
            if (ch[i].at > t) {
                *next = ch[i].at;
                return APR_SUCCESS;
            }
    }
    return APR_NOTFOUND;
}

/* Instants whose wall time stays within years 1..9999 whatever the zone. */
static int time_ok(apr_time_t t)
{
    return t >= civil_to_time(MIN_YEAR, 1, 2, 0, 0, 0)
           && t < civil_to_time(MAX_YEAR, 12, 31, 0, 0, 0);
}

apr_status_t eas_tz_offset(eas_tz_t *tz, apr_time_t t, int *offset, int *is_dst)
{
    int off, dst;
    apr_status_t rv = time_ok(t) ? raw_offset(tz, t, &off, &dst) : APR_EINVAL;
    if (rv == APR_SUCCESS) {
        if (offset)
            *offset = off;
        if (is_dst)
            *is_dst = dst;
    }
    return rv;
}

apr_status_t eas_tz_next_transition(eas_tz_t *tz, apr_time_t t, apr_time_t *next)
{
    int off0, dst0, off, dst, guard;
    apr_status_t rv;

    if (!time_ok(t))
        return APR_EINVAL;
    if ((rv = raw_offset(tz, t, &off0, &dst0)) != APR_SUCCESS)
        return rv;
    /* ICU reports name-only changes as transitions; skip them. */
    for (guard = 0; guard < 64; ++guard) {
        if ((rv = raw_next(tz, t, &t)) != APR_SUCCESS)
            return rv;
        if ((rv = raw_offset(tz, t, &off, &dst)) != APR_SUCCESS)
            return rv;
        if (off != off0 || dst != dst0) {
            *next = t;
            return APR_SUCCESS;
        }
    }
    return APR_NOTFOUND;
}

/* ---- the blob's own rules ------------------------------------------------ */

/* The wall date a SYSTEMTIME rule names in year, or 0 if none that year. */
static int rule_date(const eas_systemtime_t *st, apr_int64_t year, int *day)
{
    if (st->month == 0)
        return 0;
    if (st->year == 0) {
        apr_int64_t first = days_from_civil(year, st->month, 1);
        int dim = eas_days_in_month((int)(is_leap(year) ? 2000 : 2001), st->month);
        int d = 1 + (st->day_of_week - weekday_of_days(first) + 7) % 7 + 7 * (st->day - 1);
        while (d > dim)
            d -= 7;     /* week 5 means the last one */
        *day = d;
        return 1;
    }
    if (st->year != year)
        return 0;
    *day = st->day;
    return 1;
}

static void rule_changes_in_year(const eas_tz_t *tz, apr_int64_t year, tz_change_t *out,
                                 int *n)
{
    const eas_systemtime_t *sts[2] = { &tz->rules.daylight_date, &tz->rules.standard_date };
    int i, day;

    *n = 0;
    if (!tz->has_dst)
        return;
    for (i = 0; i < 2; ++i) {
        const eas_systemtime_t *st = sts[i];
        int to_dst = i == 0;
        /* The rule's time is the wall clock before the change. */
        int before = to_dst ? tz->std_off : tz->dst_off;
        apr_time_t local;
        if (!rule_date(st, year, &day))
            continue;
        local = civil_to_time(year, st->month, day, st->hour, st->minute, st->second)
                + st->milliseconds * (apr_time_t)1000;
        out[*n].at = local - before * (apr_time_t)USEC;
        out[*n].off = to_dst ? tz->dst_off : tz->std_off;
        out[*n].dst = to_dst;
        ++*n;
    }
}

static void rule_zone_init(eas_tz_t *tz, const eas_tzinfo_t *tzi)
{
    memset(tz, 0, sizeof(*tz));
    tz->rules = *tzi;
    tz->std_off = -(tzi->bias + tzi->standard_bias) * 60;
    tz->dst_off = -(tzi->bias + tzi->daylight_bias) * 60;
    tz->has_dst = tzi->standard_date.month != 0 && tzi->daylight_date.month != 0
                  && tzi->standard_bias != tzi->daylight_bias;
}

static eas_tz_t *rule_zone(apr_pool_t *p, const eas_tzinfo_t *tzi)
{
    eas_tz_t *tz = apr_palloc(p, sizeof(*tz));
    rule_zone_init(tz, tzi);
    return tz;
}

/* ---- ICU zones ----------------------------------------------------------- */

/* ICU's canonical id for id, or NULL when ICU does not know it. */
static const char *icu_canonical(apr_pool_t *p, const UChar *id, int32_t len)
{
    UChar canon[MAX_ZONE_ID];
    UBool system = 0;
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = ucal_getCanonicalTimeZoneID(id, len, canon, MAX_ZONE_ID, &system, &st);
    const char *out;

    if (U_FAILURE(st) || !system || n <= 0 || n >= MAX_ZONE_ID)
        return NULL;
    out = uchar_to_pool(p, canon, n);
    return strcmp(out, "Etc/Unknown") ? out : NULL;
}

static const char *windows_id(apr_pool_t *p, const char *icu_id)
{
    UChar id[MAX_ZONE_ID], win[MAX_ZONE_ID];
    UErrorCode st = U_ZERO_ERROR;
    int32_t n;

    ascii_to_uchar(id, icu_id, MAX_ZONE_ID);
    n = ucal_getWindowsTimeZoneID(id, -1, win, MAX_ZONE_ID, &st);
    if (U_FAILURE(st) || n <= 0 || n >= MAX_ZONE_ID)
        return NULL;
    return uchar_to_pool(p, win, n);
}

/* The zone CLDR maps a Windows name (len -1: NUL-terminated) to (its "001"
 * zone), or NULL. */
static const char *zone_for_windows(apr_pool_t *p, const UChar *win, int32_t len)
{
    UChar id[MAX_ZONE_ID];
    UErrorCode st = U_ZERO_ERROR;
    int32_t n;

    if (len == 0)
        return NULL;
    n = ucal_getTimeZoneIDForWindowsID(win, len, NULL, id, MAX_ZONE_ID, &st);
    if (U_FAILURE(st) || n <= 0 || n >= MAX_ZONE_ID)
        return NULL;
    return uchar_to_pool(p, id, n);
}

static apr_status_t open_icu(apr_pool_t *p, const char *canon, eas_tz_t **out)
{
    UChar id[MAX_ZONE_ID];
    UErrorCode st = U_ZERO_ERROR;
    eas_tz_t *tz;

    ascii_to_uchar(id, canon, MAX_ZONE_ID);
    tz = apr_pcalloc(p, sizeof(*tz));
    tz->cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st) || !tz->cal)
        return APR_ENOMEM;
    apr_pool_cleanup_register(p, tz->cal, close_cal, apr_pool_cleanup_null);
    tz->id = apr_pstrdup(p, tzdb_spelling(canon));
    tz->winid = windows_id(p, canon);
    *out = tz;
    return APR_SUCCESS;
}

apr_status_t eas_tz_open(apr_pool_t *p, const char *id, eas_tz_t **tz)
{
    UChar uid[MAX_ZONE_ID];
    const char *canon;
    size_t i, len = id ? strlen(id) : 0;

    if (len == 0 || len >= MAX_ZONE_ID)
        return APR_NOTFOUND;
    for (i = 0; i < len; ++i)
        if ((unsigned char)id[i] >= 0x80 || id[i] <= ' ')
            return APR_NOTFOUND;
    ascii_to_uchar(uid, id, MAX_ZONE_ID);
    if (!(canon = icu_canonical(p, uid, -1)))
        return APR_NOTFOUND;
    return open_icu(p, canon, tz);
}

apr_status_t eas_tz_from_rules(apr_pool_t *p, const eas_tzinfo_t *tzi, eas_tz_t **tz)
{
    apr_status_t rv = eas_tzinfo_check(tzi, NULL);
    if (rv == APR_SUCCESS)
        *tz = rule_zone(p, tzi);
    return rv;
}

const char *eas_tz_data_version(void)
{
    UErrorCode st = U_ZERO_ERROR;
    const char *v = ucal_getTZDataVersion(&st);
    return U_SUCCESS(st) && v ? v : "unknown";
}

const char *eas_tz_id(const eas_tz_t *tz)
{
    return tz->id;
}

const char *eas_tz_windows_id(const eas_tz_t *tz)
{
    return tz->winid;
}

/* ---- wall clock <-> UTC ---------------------------------------------------- */

apr_status_t eas_tz_local_to_utc(eas_tz_t *tz, const eas_walltime_t *wt, eas_tz_pick_e pick,
                                 apr_time_t *utc, int *flags)
{
    apr_time_t local, start, hi, cand[8];
    int nc = 0, off, dst, guard, gap = 0;
    apr_time_t gap_former = 0, gap_latter = 0;
    apr_status_t rv;

    if (flags)
        *flags = 0;
    if ((rv = eas_walltime_to_time(wt, &local)) != APR_SUCCESS)
        return rv;
    /* Every instant whose wall time is `local` lies within a day of it:
     * walk the offset intervals there and keep those that contain one. */
    start = local - 30 * HOUR_US;
    hi = local + 30 * HOUR_US;
    if ((rv = raw_offset(tz, start, &off, &dst)) != APR_SUCCESS)
        return rv;
    for (guard = 0; guard < 16; ++guard) {
        apr_time_t next, c = local - off * (apr_time_t)USEC;
        int has_next = eas_tz_next_transition(tz, start, &next) == APR_SUCCESS && next <= hi;
        int off2, dst2;

        if (c >= start && (!has_next || c < next) && nc < 8)
            cand[nc++] = c;
        if (!has_next)
            break;
        if ((rv = raw_offset(tz, next, &off2, &dst2)) != APR_SUCCESS)
            return rv;
        if (!gap && next + off * (apr_time_t)USEC <= local
            && local < next + off2 * (apr_time_t)USEC) {
            gap = 1;
            gap_former = local - off * (apr_time_t)USEC;
            gap_latter = local - off2 * (apr_time_t)USEC;
        }
        start = next;
        off = off2;
    }
    if (nc > 0) {
        *utc = pick == EAS_TZ_LATTER ? cand[nc - 1] : cand[0];
        if (flags && nc > 1)
            *flags = EAS_TZ_REPEATED;
        return APR_SUCCESS;
    }
    if (!gap)
        return APR_EGENERAL;
    *utc = pick == EAS_TZ_LATTER ? gap_latter : gap_former;
    if (flags)
        *flags = EAS_TZ_SKIPPED;
    return APR_SUCCESS;
}

apr_status_t eas_tz_utc_to_local(eas_tz_t *tz, apr_time_t utc, eas_walltime_t *wt, int *offset)
{
    int off, dst;
    apr_status_t rv;

    if (!time_ok(utc))
        return APR_EINVAL;
    if ((rv = raw_offset(tz, utc, &off, &dst)) != APR_SUCCESS)
        return rv;
    eas_walltime_from_time(utc + off * (apr_time_t)USEC, wt);
    if (wt->year < MIN_YEAR || wt->year > MAX_YEAR)
        return APR_EINVAL;
    if (offset)
        *offset = off;
    return APR_SUCCESS;
}

/* ---- a zone's behaviour in one year ---------------------------------------- */

typedef struct {
    int off0, dst0;           /* at 1 January 00:00 UTC */
    int n;                    /* changes in the year; MAX_YEAR_TRANSITIONS + 1: more */
    tz_change_t ch[MAX_YEAR_TRANSITIONS];
} year_sig_t;

static int year_ok(int year)
{
    /* Neighbouring years are consulted, and stay inside 1..9999. */
    return year > MIN_YEAR + 2 && year < MAX_YEAR - 2;
}

static apr_status_t year_signature(eas_tz_t *tz, int year, year_sig_t *s)
{
    apr_time_t t = civil_to_time(year, 1, 1, 0, 0, 0), next;
    apr_time_t end = civil_to_time(year + 1, 1, 1, 0, 0, 0);
    apr_status_t rv;

    s->n = 0;
    if ((rv = raw_offset(tz, t, &s->off0, &s->dst0)) != APR_SUCCESS)
        return rv;
    while (eas_tz_next_transition(tz, t, &next) == APR_SUCCESS && next < end) {
        tz_change_t *c;
        if (s->n == MAX_YEAR_TRANSITIONS) {
            s->n = MAX_YEAR_TRANSITIONS + 1;
            break;
        }
        c = &s->ch[s->n++];
        c->at = next;
        if ((rv = raw_offset(tz, next, &c->off, &c->dst)) != APR_SUCCESS)
            return rv;
        t = next;
    }
    return APR_SUCCESS;
}

/* Windows writes a change at midnight as 23:59:59.999 the day before: a
 * second apart is the same change. */
static int sig_equal(const year_sig_t *a, const year_sig_t *b)
{
    int i;
    if (a->off0 != b->off0 || a->dst0 != b->dst0 || a->n != b->n
        || a->n > MAX_YEAR_TRANSITIONS)
        return 0;
    for (i = 0; i < a->n; ++i)
        if (a->ch[i].at - b->ch[i].at > USEC || b->ch[i].at - a->ch[i].at > USEC
            || a->ch[i].off != b->ch[i].off
            || a->ch[i].dst != b->ch[i].dst)
            return 0;
    return 1;
}

/* A year one yearly rule describes: one change into DST, one out of it, and
 * the same standard and daylight offsets on both sides. */
static int clean_pair(const year_sig_t *s, const tz_change_t **on, const tz_change_t **off)
{
    const tz_change_t *a = &s->ch[0], *b = &s->ch[1];

    if (s->n != 2)
        return 0;
    *on = s->dst0 ? b : a;
    *off = s->dst0 ? a : b;
    if (!(*on)->dst || (*off)->dst)
        return 0;
    return s->off0 == (s->dst0 ? (*on)->off : (*off)->off);
}

/* Wall time just before change c, whose previous offset was before_off. */
static void local_before(const tz_change_t *c, int before_off, eas_walltime_t *wt, int *ms)
{
    apr_time_t local = c->at + before_off * (apr_time_t)USEC;
    eas_walltime_from_time(local, wt);
    *ms = (int)((local - fdiv(local, USEC) * USEC) / 1000);
}

static int last_week(const eas_walltime_t *wt)
{
    return wt->day + 7 > eas_days_in_month(wt->year, wt->month);
}

/*
 * The week-of-month of a change on the 22nd..28th that is also the last such
 * weekday of its month: "4th" or "last" (5) depending on what the zone does
 * in the years around.
 */
static int rule_week(eas_tz_t *tz, int year, int to_dst, const eas_walltime_t *wt)
{
    static const int around[] = { 1, -1, 2, -2, 3, -3 };
    int w = (wt->day - 1) / 7 + 1;
    size_t i;

    if (w == 5 || !last_week(wt))
        return w;
    for (i = 0; i < sizeof(around) / sizeof(around[0]); ++i) {
        year_sig_t s;
        const tz_change_t *on, *off;
        eas_walltime_t wt2;
        int ms;
        if (year_signature(tz, year + around[i], &s) != APR_SUCCESS || !clean_pair(&s, &on, &off))
            continue;
        if (to_dst)
            local_before(on, off->off, &wt2, &ms);
        else
            local_before(off, on->off, &wt2, &ms);
        if (wt2.month != wt->month || eas_walltime_weekday(&wt2) != eas_walltime_weekday(wt)
            || wt2.hour != wt->hour || wt2.minute != wt->minute)
            continue;
        if (!last_week(&wt2))
            return 4;
        if (wt2.day > 28)
            return 5;
    }
    return 5;
}

static void rule_from_change(eas_tz_t *tz, int year, const tz_change_t *c, int before_off,
                             int to_dst, eas_systemtime_t *st)
{
    eas_walltime_t wt;
    int ms;

    local_before(c, before_off, &wt, &ms);
    st->year = 0;
    st->month = wt.month;
    st->day_of_week = eas_walltime_weekday(&wt);
    st->day = rule_week(tz, year, to_dst, &wt);
    st->hour = wt.hour;
    st->minute = wt.minute;
    st->second = wt.second;
    st->milliseconds = ms;
}

static void set_names(eas_tz_t *tz, eas_tzinfo_t *tzi)
{
    const char *std = tz->winid ? tz->winid : tz->id;
    char dl[MAX_ZONE_ID + 8];
    size_t n = strlen(std);
    static const char suffix[] = " Standard Time";

    eas_tzinfo_set_name(tzi->standard_name, std);
    if (tz->winid && n > sizeof(suffix) - 1
        && strcmp(std + n - (sizeof(suffix) - 1), suffix) == 0)
        apr_snprintf(dl, sizeof(dl), "%.*s Daylight Time", (int)(n - (sizeof(suffix) - 1)), std);
    else
        apr_cpystrn(dl, std, sizeof(dl));
    eas_tzinfo_set_name(tzi->daylight_name, dl);
}

apr_status_t eas_tz_to_tzinfo(eas_tz_t *tz, int year, eas_tzinfo_t *tzi, int *exact)
{
    year_sig_t s;
    const tz_change_t *on = NULL, *off = NULL;
    int ex = 1, i;
    apr_status_t rv;

    if (!year_ok(year))
        return APR_EINVAL;
    if (!tz->cal) {
        *tzi = tz->rules;
        if (exact)
            *exact = 1;
        return APR_SUCCESS;
    }
    memset(tzi, 0, sizeof(*tzi));
    set_names(tz, tzi);
    if ((rv = year_signature(tz, year, &s)) != APR_SUCCESS)
        return rv;
    if (!clean_pair(&s, &on, &off)) {
        ex = 0;
        /* Closest description: the year's last switches into and out of
         * DST, or else the offset the year ends with. */
        on = off = NULL;
        for (i = 0; i < s.n && i < MAX_YEAR_TRANSITIONS; ++i) {
            if (s.ch[i].dst)
                on = &s.ch[i];
            else if (i > 0 && s.ch[i - 1].dst)
                off = &s.ch[i];
        }
        if (s.n == 0)
            ex = !s.dst0;
        if (!on || !off) {
            int last = s.n == 0 ? s.off0 : s.ch[(s.n > MAX_YEAR_TRANSITIONS
                                                 ? MAX_YEAR_TRANSITIONS : s.n) - 1].off;
            tzi->bias = -last / 60;
            if (last % 60)
                ex = 0;
            if (exact)
                *exact = ex;
            return APR_SUCCESS;
        }
    }
    tzi->bias = -off->off / 60;
    tzi->standard_bias = 0;
    tzi->daylight_bias = -(on->off - off->off) / 60;
    if (off->off % 60 || on->off % 60)
        ex = 0;
    rule_from_change(tz, year, on, off->off, 1, &tzi->daylight_date);
    rule_from_change(tz, year, off, on->off, 0, &tzi->standard_date);
    if (ex) {
        /* A change whose wall time falls in another year (Asia/Dhaka ended
         * DST at 24:00 on 31 December 2009) has no yearly rule: check. */
        eas_tz_t rz;
        year_sig_t back;
        rule_zone_init(&rz, tzi);
        ex = year_signature(&rz, year, &back) == APR_SUCCESS && sig_equal(&back, &s);
    }
    if (exact)
        *exact = ex;
    return APR_SUCCESS;
}

/* ---- blob -> zone ------------------------------------------------------------ */

static int probe_matches(eas_tz_t *probe, const UChar *id, int32_t len, int year,
                         const year_sig_t *want)
{
    UErrorCode st = U_ZERO_ERROR;
    year_sig_t s;
    int off, dst;

    ucal_setTimeZone(probe->cal, id, len, &st);
    if (U_FAILURE(st))
        return 0;
    /* Most zones differ on 1 January already. */
    if (raw_offset(probe, civil_to_time(year, 1, 1, 0, 0, 0), &off, &dst) != APR_SUCCESS
        || off != want->off0 || dst != want->dst0)
        return 0;
    return year_signature(probe, year, &s) == APR_SUCCESS && sig_equal(&s, want);
}

static int zone_rank(apr_pool_t *p, const char *icu_id, const char *named_win)
{
    const char *wid = windows_id(p, icu_id), *spelled = tzdb_spelling(icu_id), *golden;
    size_t k;

    if (named_win && wid && strcmp(wid, named_win) == 0)
        return 0;
    for (k = 0; k < sizeof(common_zones) / sizeof(common_zones[0]); ++k)
        if (strcmp(spelled, common_zones[k]) == 0)
            return 100 + (int)k;
    if (wid) {
        UChar uw[MAX_ZONE_ID];
        ascii_to_uchar(uw, wid, MAX_ZONE_ID);
        golden = zone_for_windows(p, uw, -1);
        if (golden && strcmp(golden, icu_id) == 0)
            return 1000;
    }
    return strncmp(icu_id, "Etc/", 4) == 0 ? 3000 : 2000;
}

static const char *scan_zones(apr_pool_t *p, eas_tz_t *probe, int year, const year_sig_t *want,
                              const char *named_win)
{
    UErrorCode st = U_ZERO_ERROR;
    UEnumeration *zones = ucal_openTimeZoneIDEnumeration(UCAL_ZONE_TYPE_CANONICAL, NULL, NULL,
                                                         &st);
    const char *best = NULL, *id;
    int best_rank = 1 << 30, len;

    if (U_FAILURE(st))
        return NULL;
    while ((id = uenum_next(zones, &len, &st)) != NULL && U_SUCCESS(st)) {
        UChar uid[MAX_ZONE_ID];
        int rank;
        if (strncmp(id, "SystemV/", 8) == 0 || len >= MAX_ZONE_ID)
            continue;
        ascii_to_uchar(uid, id, MAX_ZONE_ID);
        if (!probe_matches(probe, uid, -1, year, want))
            continue;
        rank = zone_rank(p, id, named_win);
        if (rank < best_rank) {
            best_rank = rank;
            best = apr_pstrdup(p, id);
        }
    }
    uenum_close(zones);
    return best;
}

apr_status_t eas_tz_from_tzinfo(apr_pool_t *p, const eas_tzinfo_t *tzi, int year,
                                eas_tz_t **out)
{
    eas_tz_t *rules, probe;
    year_sig_t want;
    apr_pool_t *sp;
    UErrorCode st = U_ZERO_ERROR;
    const char *named[3], *named_win = NULL, *found = NULL;
    int32_t slen = name_len(tzi->standard_name), dlen = name_len(tzi->daylight_name);
    apr_status_t rv;
    int i;

    if (!year_ok(year))
        return APR_EINVAL;
    if ((rv = eas_tzinfo_check(tzi, NULL)) != APR_SUCCESS)
        return rv;
    rules = rule_zone(p, tzi);
    if ((rv = year_signature(rules, year, &want)) != APR_SUCCESS)
        return rv;
    if ((rv = apr_pool_create(&sp, p)) != APR_SUCCESS)
        return rv;
    memset(&probe, 0, sizeof(probe));
    probe.cal = ucal_open(NULL, 0, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st) || !probe.cal) {
        apr_pool_destroy(sp);
        return APR_ENOMEM;
    }
    /* What the names say: a Windows zone (Exchange, Outlook), or an IANA
     * name (what eas_tz_to_tzinfo() writes for zones Windows lacks). */
    named[0] = zone_for_windows(sp, (const UChar *)tzi->standard_name, slen);
    named[1] = zone_for_windows(sp, (const UChar *)tzi->daylight_name, dlen);
    named[2] = slen ? icu_canonical(sp, (const UChar *)tzi->standard_name, slen) : NULL;
    if (named[0])
        named_win = eas_tzinfo_name(sp, tzi->standard_name);
    else if (named[1])
        named_win = eas_tzinfo_name(sp, tzi->daylight_name);
    for (i = 0; i < 3 && !found; ++i) {
        UChar uid[MAX_ZONE_ID];
        if (!named[i])
            continue;
        ascii_to_uchar(uid, named[i], MAX_ZONE_ID);
        if (probe_matches(&probe, uid, -1, year, &want))
            found = named[i];
    }
    if (!found)
        found = scan_zones(sp, &probe, year, &want, named_win);
    ucal_close(probe.cal);
    if (found)
        rv = open_icu(p, found, out);
    else
        *out = rules;
    apr_pool_destroy(sp);
    return rv;
}
