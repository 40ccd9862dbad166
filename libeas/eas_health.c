#include "eas_health.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "eas_status.h"

/* The leading number of a status note, 0 when it has none. */
static int note_status(const char *note)
{
    return note && *note >= '0' && *note <= '9' ? atoi(note) : 0;
}

/* SyncKey 0 asks for a fresh start (MS-ASCMD 2.2.3.166.4 FolderSync,
 * 2.2.3.166.5 Sync): one for the hierarchy, one per collection. */
static int count_resets(const eas_request_t *req)
{
    const eas_node_t *c;
    const char *key;
    int n = 0;

    if (!req->doc)
        return 0;
    if (req->q.cmd == EAS_CMD_FOLDERSYNC) {
        key = eas_node_child_text(req->doc, EAS_FolderHierarchy_SyncKey);
        return key && !strcmp(key, "0");
    }
    if (req->q.cmd != EAS_CMD_SYNC)
        return 0;
    for (c = eas_node_path(req->doc, 2, EAS_AirSync_Collections, EAS_AirSync_Collection); c;
         c = eas_node_next_same(c)) {
        key = eas_node_child_text(c, EAS_AirSync_SyncKey);
        n += key && !strcmp(key, "0");
    }
    return n;
}

/* Failures a device (or its user) should not see repeatedly.  Provisioning
 * steps (449, Status 140-144) are the protocol working, and a device an
 * administrator blocked or quarantined is refused on purpose. */
static int is_error(const eas_request_t *req, int status)
{
    if (req->device && req->device->access && strcmp(req->device->access, "allow"))
        return 0;
    if (req->http_status >= 400 && req->http_status != 449)
        return 1;
    return status > 100 && status != EAS_STATUS_DEVICE_BLOCKED &&
           !(status >= EAS_STATUS_REMOTE_WIPE && status <= EAS_STATUS_INVALID_POLICY_KEY);
}

int eas_health_classify(const eas_request_t *req, eas_health_event_t *ev)
{
    int status = note_status(req->status_note);
    int waiting_cmd = req->q.cmd == EAS_CMD_PING || req->q.cmd == EAS_CMD_SYNC;

    memset(ev, 0, sizeof(*ev));
    if (!req->device || !req->device->id)
        return 0;
    ev->error = is_error(req, status);
    /* Only a command that ran tells about keys: one refused for
     * provisioning or access is asked again as it was. */
    if (req->http_status == 200 && status < 100) {
        ev->resets = req->rerun ? 0 : count_resets(req);
        ev->invalid_keys = (req->q.cmd == EAS_CMD_FOLDERSYNC && status == 9) ||
                           (req->q.cmd == EAS_CMD_SYNC && status == 3);
    }
    if (waiting_cmd && req->http_status == 200 && !ev->error) {
        ev->superseded = req->status_note && strstr(req->status_note, "superseded") != NULL;
        ev->parked = req->wait_seconds > 0 && !req->rerun;
        ev->done = (req->rerun || req->wait_expired) && req->wait_seconds == 0 &&
                   !ev->superseded;
    }
    ev->synced = (waiting_cmd || req->q.cmd == EAS_CMD_FOLDERSYNC) && req->http_status == 200 &&
                 !ev->error && !ev->invalid_keys && !ev->superseded;
    return ev->resets || ev->invalid_keys || ev->error || ev->parked || ev->done ||
           ev->superseded || ev->synced;
}

void eas_health_record(eas_request_t *req)
{
    /* One warning per process is enough to tell an administrator that the
     * schema is behind; a benign race may print it twice. */
    static volatile int warned;
    eas_health_event_t ev;
    const char *ignored;
    apr_status_t rv;

    if (!req->db || req->db->in_txn || !eas_health_classify(req, &ev))
        return;
    /* The flag describes the transaction that was rolled back; a failed
     * request is exactly what has to be recorded now. */
    req->db->failed = 0;
#define B(x) ((x) ? "true" : "false")
    rv = eas_db_value(req->db, req->pool, &ignored,
                     "SELECT eas.record_activity(%s::bigint, %s::integer, %s::integer, "
                     "%s::boolean, %s::boolean, %s::boolean, %s::boolean, %s::boolean)",
                     EAS_DB_ARGS(req->device->id, apr_itoa(req->pool, ev.resets),
                                 apr_itoa(req->pool, ev.invalid_keys), B(ev.error),
                                 B(ev.parked), B(ev.done), B(ev.superseded), B(ev.synced)));
#undef B
    if (rv != APR_SUCCESS && !warned) {
        warned = 1;
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, rv,
                       EASLOGNO(01700) "cannot record device health for %s/%s (%s); "
                       "is the schema current (eas-dbupgrade)?",
                       req->login ? req->login : "-", req->device->device_id,
                       req->db->error ? req->db->error : "database error");
    }
}
