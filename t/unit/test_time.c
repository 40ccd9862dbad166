/* EAS date-time parsing and formatting (MS-ASDTYPE 2.3). */
#include "tap.h"
#include "eas_time.h"

#include <apr_general.h>

int main(void)
{
    apr_pool_t *p;
    apr_time_t t;

    apr_initialize();
    apr_pool_create(&p, NULL);
    is_int(eas_time_parse("2026-11-22T08:30:05.250Z", &t), 0, "long form parses");
    is_str(eas_time_format(p, t), "2026-11-22T08:30:05.250Z", "and formats back");
    is_int(eas_time_parse("20261122T083005Z", &t), 0, "compact form parses");
    is_str(eas_time_format_compact(p, t), "20261122T083005Z", "and formats back");
    is_int(eas_time_parse("2026-11-22T08:30:05Z", &t), 0, "no fraction");
    is_int(eas_time_parse("1965-03-01T00:00:00.000Z", &t), 0, "a date before 1970");
    is_str(eas_time_format(p, t), "1965-03-01T00:00:00.000Z", "formats back before 1970");
    is_int(eas_time_parse("2024-02-29T00:00:00.000Z", &t), 0, "29 February of a leap year");
    ok(eas_time_parse("2026-02-29T00:00:00.000Z", &t) != 0, "29 February of a common year refused");
    ok(eas_time_parse("2026-02-31T00:00:00.000Z", &t) != 0, "31 February refused");
    ok(eas_time_parse("2026-04-31T00:00:00.000Z", &t) != 0, "31 April refused");
    ok(eas_time_parse("2026-11-22T08:30:60.000Z", &t) != 0, "second 60 refused");
    ok(eas_time_parse("2026-11-22T24:00:00.000Z", &t) != 0, "hour 24 refused");
    ok(eas_time_parse("2026-11-22T08:30:00.000", &t) != 0, "no Z refused");
    ok(eas_time_parse("2026-11-22T08:30:00.Z", &t) != 0, "empty fraction refused");
    ok(eas_time_parse("2026-1x-22T08:30:00Z", &t) != 0, "letters refused");
    ok(eas_time_parse("", &t) != 0 && eas_time_parse(NULL, &t) != 0, "empty and NULL refused");
    is_int(eas_time_parse("1970-01-01T00:00:00.000Z", &t), 0, "the epoch");
    is_int(t, 0, "is zero");
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
