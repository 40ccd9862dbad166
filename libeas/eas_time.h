/*
 * EAS date-times (MS-ASDTYPE 2.3): "2026-11-22T08:30:00.000Z" in requests
 * and responses, and the compact "20261122T083000Z" form some elements use.
 */
#ifndef EAS_TIME_H
#define EAS_TIME_H

#include <apr_pools.h>
#include <apr_time.h>

/* Accepts both forms (fraction optional, 'Z' required); 0 on success. */
int eas_time_parse(const char *s, apr_time_t *t);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
const char *eas_time_format(apr_pool_t *p, apr_time_t t);
/* "YYYYMMDDTHHMMSSZ" */
const char *eas_time_format_compact(apr_pool_t *p, apr_time_t t);

/* SQL expression turning a timestamptz column into the EAS form. */
#define EAS_SQL_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#endif
