/*
 * libFuzzer target: EAS Timezone blobs (MS-ASDTYPE 2.7.6), as base64 text and
 * as raw bytes, through decoding, zone matching and conversions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "eas_tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(apr_pool_t *p, const eas_tzinfo_t *tzi, int year)
{
    eas_tz_t *tz;
    eas_tzinfo_t back;
    eas_walltime_t wt = { year, 1, 1, 0, 30, 0 };
    apr_time_t t;
    int exact, off, dst, m;

    if (eas_tz_from_tzinfo(p, tzi, year, &tz) != APR_SUCCESS)
        return;
    eas_tz_to_tzinfo(tz, year, &back, &exact);
    eas_tzinfo_encode(p, &back);
    /* Wall times around each month's transitions, both readings. */
    for (m = 1; m <= 12; ++m) {
        wt.month = m;
        wt.day = 1 + (m * 7) % 28;
        wt.hour = m % 24;
        if (eas_tz_local_to_utc(tz, &wt, m & 1 ? EAS_TZ_LATTER : EAS_TZ_FORMER, &t, NULL)
            == APR_SUCCESS) {
            eas_walltime_t back_wt;
            eas_tz_utc_to_local(tz, t, &back_wt, &off);
            eas_tz_offset(tz, t, &off, &dst);
            eas_tz_next_transition(tz, t, &t);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *root;
    apr_pool_t *p;
    eas_tzinfo_t tzi;
    const char *why;
    int year = 2024;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    if (size >= 2)
        year = 1900 + (data[size - 1] | data[size - 2] << 8) % 250;
    /* The input as the element's text. */
    if (eas_tzinfo_decode(apr_pstrmemdup(p, (const char *)data, size), &tzi, &why)
        == APR_SUCCESS)
        exercise(p, &tzi, year);
    /* The input as the decoded structure. */
    if (size >= EAS_TZINFO_LEN
        && eas_tzinfo_from_bytes(data, EAS_TZINFO_LEN, &tzi, &why) == APR_SUCCESS) {
        eas_tzinfo_name(p, tzi.standard_name);
        eas_tzinfo_name(p, tzi.daylight_name);
        exercise(p, &tzi, year);
    }
    apr_pool_destroy(p);
    return 0;
}
