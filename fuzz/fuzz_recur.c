/*
 * libFuzzer target: EAS Recurrence fields (the first bytes) and RRULE text
 * (the rest) through checks, conversion both ways and expansion.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "eas_recur.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 24

static const char *const zones[] = { "Europe/Berlin", "America/New_York", "Australia/Sydney",
                                     "Etc/UTC", "Pacific/Chatham", "Asia/Jerusalem" };

static int u16(const uint8_t *b)
{
    return b[0] | b[1] << 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *root;
    apr_pool_t *p;
    eas_recur_t r, back;
    eas_walltime_t ds;
    eas_tz_t *tz;
    apr_array_header_t *occ;
    apr_time_t from;
    const char *rule, *why;
    int inexact, all_day;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    if (size < FIELDS)
        return 0;
    apr_pool_create(&p, root);
    if (eas_tz_open(p, zones[data[0] % 6], &tz) != APR_SUCCESS)
        goto leave;
    all_day = data[0] >> 7;
    ds.year = 1900 + u16(data + 1) % 300;
    ds.month = 1 + data[3] % 12;
    ds.day = 1 + data[4] % 31;
    ds.hour = all_day ? 0 : data[5] % 24;
    ds.minute = all_day ? 0 : data[6] % 60;
    ds.second = 0;
    eas_recur_init(&r);
    r.type = (int)(data[7] % 9) - 1;
    r.interval = u16(data + 8) % 1100;
    r.occurrences = u16(data + 10) % 1100;
    r.day_of_week = data[12];
    r.day_of_month = data[13] % 40;
    r.week_of_month = data[14] % 8;
    r.month_of_year = data[15] % 16;
    r.calendar_type = data[16] % 24;
    r.is_leap_month = data[17] & 1;
    r.first_day_of_week = (int)(data[17] >> 1) % 9 - 1;
    r.has_until = data[18] & 1;
    r.until = apr_time_from_sec((apr_time_t)(u16(data + 19) | data[21] << 16) * 600);
    from = apr_time_from_sec((apr_time_t)(u16(data + 22)) * 86400);

    /* The fields. */
    if (eas_recur_check(&r, &why) == APR_SUCCESS
        && eas_recur_to_rrule(p, &r, &ds, tz, all_day, &rule, &why) == APR_SUCCESS) {
        eas_recur_from_rrule(rule, &ds, tz, all_day, &back, &inexact, &why);
        eas_recur_expand(p, &r, &ds, tz, 3600 * APR_USEC_PER_SEC, from,
                         from + 400 * 86400 * APR_USEC_PER_SEC, NULL, 50, &occ);
    }
    /* The rest as a stored RRULE. */
    rule = apr_pstrmemdup(p, (const char *)data + FIELDS, size - FIELDS);
    eas_recur_from_rrule(rule, &ds, tz, all_day, &back, &inexact, &why);
    eas_rrule_expand(p, rule, &ds, tz, all_day, 0, from, from + 400 * 86400 * APR_USEC_PER_SEC,
                     NULL, 50, &occ);
leave:
    apr_pool_destroy(p);
    return 0;
}
