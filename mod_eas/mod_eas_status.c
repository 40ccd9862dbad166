/*
 * The mod_eas section of server-status (mod_status's status_hook): open
 * Pings and, per command, requests, errors and latency since httpd last
 * started, summed over all children.  "?auto" gets "Key: value" lines.
 */
#include <apr_strings.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "mod_eas_private.h"
#include "mod_eas_stats.h"

static const char *const bin_names[EAS_STATS_BINS] = {"&le;10ms", "&le;100ms", "&le;1s",
                                                      "&le;10s", "slower"};

static double avg_ms(const eas_stats_row_t *row)
{
    return row->requests ? (double)row->usec / (double)row->requests / 1000.0 : 0.0;
}

static void short_report(request_rec *r, const eas_stats_row_t *rows, const apr_uint64_t *max,
                         apr_uint64_t requests, apr_uint64_t errors, apr_uint32_t active,
                         apr_uint32_t suspended)
{
    int c;

    ap_rprintf(r, "EASPingsActive: %u\nEASPingsSuspended: %u\n", active, suspended);
    ap_rprintf(r, "EASRequests: %" APR_UINT64_T_FMT "\nEASErrors: %" APR_UINT64_T_FMT "\n",
               requests, errors);
    for (c = 0; c < EAS_STATS_ROWS; c++) {
        const char *name = eas_stats_row_name(c);

        if (!rows[c].requests)
            continue;
        ap_rprintf(r, "EASRequests-%s: %" APR_UINT64_T_FMT "\n", name, rows[c].requests);
        ap_rprintf(r, "EASErrors-%s: %" APR_UINT64_T_FMT "\n", name, rows[c].errors);
        ap_rprintf(r, "EASAvgMs-%s: %.1f\n", name, avg_ms(&rows[c]));
        ap_rprintf(r, "EASMaxMs-%s: %.1f\n", name, (double)max[c] / 1000.0);
    }
}

int eas_status_hook(request_rec *r, int flags)
{
    eas_stats_row_t rows[EAS_STATS_ROWS];
    apr_uint64_t max[EAS_STATS_ROWS], requests = 0, errors = 0;
    apr_uint32_t active, suspended;
    int c, b;

    eas_stats_total(rows, max, &active, &suspended);
    for (c = 0; c < EAS_STATS_ROWS; c++) {
        requests += rows[c].requests;
        errors += rows[c].errors;
    }
    if (flags & AP_STATUS_SHORT) {
        short_report(r, rows, max, requests, errors, active, suspended);
        return OK;
    }

    ap_rputs("<hr />\n<h2>mod_eas (Exchange ActiveSync)</h2>\n", r);
    ap_rprintf(r, "<dl><dt>Pings in a worker: %u</dt>\n"
                  "<dt>Pings parked without a thread: %u</dt>\n"
                  "<dt>Requests: %" APR_UINT64_T_FMT ", errors: %" APR_UINT64_T_FMT
                  " (HTTP 4xx/5xx except 449, common Status 101 and above except "
                  "provisioning)</dt></dl>\n", active, suspended, requests, errors);
    if (flags & AP_STATUS_NOTABLE) {
        for (c = 0; c < EAS_STATS_ROWS; c++)
            if (rows[c].requests)
                ap_rprintf(r, "<p>%s: %" APR_UINT64_T_FMT " requests, %" APR_UINT64_T_FMT
                              " errors, %.1f ms average</p>\n", eas_stats_row_name(c),
                           rows[c].requests, rows[c].errors, avg_ms(&rows[c]));
        return OK;
    }
    ap_rputs("<table border=\"0\"><tr><th>Command</th><th>Requests</th><th>Errors</th>"
             "<th>Avg ms</th><th>Max ms</th>", r);
    for (b = 0; b < EAS_STATS_BINS; b++)
        ap_rprintf(r, "<th>%s</th>", bin_names[b]);
    ap_rputs("</tr>\n", r);
    for (c = 0; c < EAS_STATS_ROWS; c++) {
        if (!rows[c].requests)
            continue;
        ap_rprintf(r, "<tr><td>%s</td><td>%" APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT
                      "</td><td>%.1f</td><td>%.1f</td>", ap_escape_html(r->pool,
                                                                  eas_stats_row_name(c)),
                   rows[c].requests, rows[c].errors, avg_ms(&rows[c]),
                   (double)max[c] / 1000.0);
        for (b = 0; b < EAS_STATS_BINS; b++)
            ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td>", rows[c].bins[b]);
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table>\n", r);
    return OK;
}
