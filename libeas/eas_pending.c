#include "eas_pending.h"

#include "eas_sync.h"

#include <string.h>

/* The previous state comes from the snapshot the statement starts with,
 * so one round trip both reads and replaces it. */
apr_status_t eas_pending_seen(eas_request_t *req, eas_pending_t *it)
{
    eas_db_rows_t *rows;
    const char *old;
    apr_status_t rv;

    rv = eas_db_select(req->db, req->pool, &rows,
                       "WITH old AS (SELECT state FROM eas.push_seen "
                       "             WHERE device = %s::bigint AND folder = %s::bigint), "
                       "up AS (INSERT INTO eas.push_seen (device, folder, state) "
                       "       VALUES (%s::bigint, %s::bigint, %s) "
                       "       ON CONFLICT (device, folder) DO UPDATE SET state = EXCLUDED.state "
                       "       WHERE eas.push_seen.state <> EXCLUDED.state) "
                       "SELECT (SELECT state FROM old)",
                       EAS_DB_ARGS(req->device->id, it->folder->id, req->device->id,
                                   it->folder->id, it->state));
    if (rv != APR_SUCCESS)
        return rv;
    old = eas_db_val(rows, 0, 0);
    it->changed = old && strcmp(old, it->state) != 0;
    return APR_SUCCESS;
}

/* PIM folders: the Sync engine knows whether the device's view lags behind
 * the collection (docs/design-sync.md). */
static apr_status_t pim_pending(eas_request_t *req, eas_pending_t *it)
{
    int pending = 0;
    apr_status_t rv = eas_sync_pending(req, it->folder->id, &pending);

    if (rv == APR_NOTFOUND) {
        it->gone = 1;
        return APR_SUCCESS;
    }
    it->changed = pending;
    return rv;
}

apr_status_t eas_pending_check(eas_request_t *req, apr_array_header_t *items)
{
    eas_pending_t *it = (eas_pending_t *)items->elts, **mail;
    apr_status_t rv;
    int i, n = 0;

    mail = apr_palloc(req->pool, sizeof(*mail) * (items->nelts + 1));
    for (i = 0; i < items->nelts; i++) {
        it[i].changed = it[i].gone = 0;
        if (it[i].folder->imap_name)
            mail[n++] = &it[i];
        else if ((rv = pim_pending(req, &it[i])) != APR_SUCCESS)
            return rv;
    }
    return n ? eas_mail_pending(req, mail, n) : APR_SUCCESS;
}
