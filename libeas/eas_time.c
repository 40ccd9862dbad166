#include "eas_time.h"
#include "eas_tz.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!apr_isdigit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int eas_time_parse(const char *s, apr_time_t *t)
{
    eas_walltime_t wt;
    int y, mo, d, h, mi, sec, ms = 0;
    const char *p;

    if (!s)
        return -1;
    if (strlen(s) >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
        s[16] == ':') {
        if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
            !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
            return -1;
        p = s + 19;
        if (*p == '.') {
            int n = 0;
            for (p++; apr_isdigit(*p); p++, n++)
                if (n < 3)
                    ms = ms * 10 + (*p - '0');
            if (n == 0)
                return -1;
            for (; n < 3; n++)
                ms *= 10;
        }
    }
    else if (strlen(s) == 16 && s[8] == 'T') {
        if (!digits(s, 4, &y) || !digits(s + 4, 2, &mo) || !digits(s + 6, 2, &d) ||
            !digits(s + 9, 2, &h) || !digits(s + 11, 2, &mi) || !digits(s + 13, 2, &sec))
            return -1;
        p = s + 15;
    }
    else
        return -1;
    if (strcmp(p, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60 || y < 1601)
        return -1;
    /* Not apr_time_exp_gmt_get(): it refuses years before 1970, and
     * birthdays are older than that. */
    wt.year = y;
    wt.month = mo;
    wt.day = d;
    wt.hour = h;
    wt.minute = mi;
    wt.second = sec > 59 ? 59 : sec;
    if (d > eas_days_in_month(y, mo) || eas_walltime_to_time(&wt, t) != APR_SUCCESS)
        return -1;
    *t += (apr_time_t)ms * 1000;
    return 0;
}

/* Whole seconds (rounded down, also before 1970) and milliseconds. */
static void split(apr_time_t t, eas_walltime_t *wt, int *ms)
{
    apr_time_t us = t % APR_USEC_PER_SEC;

    if (us < 0)
        us += APR_USEC_PER_SEC;
    eas_walltime_from_time(t - us, wt);
    *ms = (int)(us / 1000);
}

const char *eas_time_format(apr_pool_t *p, apr_time_t t)
{
    eas_walltime_t wt;
    int ms;

    split(t, &wt, &ms);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", wt.year, wt.month, wt.day,
                        wt.hour, wt.minute, wt.second, ms);
}

const char *eas_time_format_compact(apr_pool_t *p, apr_time_t t)
{
    eas_walltime_t wt;
    int ms;

    split(t, &wt, &ms);
    return apr_psprintf(p, "%04d%02d%02dT%02d%02d%02dZ", wt.year, wt.month, wt.day, wt.hour,
                        wt.minute, wt.second);
}
