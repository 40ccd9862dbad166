/* Device health: which events a processed request stands for. */
#include "tap.h"
#include "eas_health.h"

#include <apr_general.h>
#include <apr_strings.h>

static apr_pool_t *pool;

static eas_node_t *doc_foldersync(const char *key)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_node_t *root = NULL;
    eas_wbxml_error_t err;
    const char *data;
    apr_size_t len;

    eas_wbxml_start(w, EAS_FolderHierarchy_FolderSync);
    eas_wbxml_text(w, EAS_FolderHierarchy_SyncKey, key);
    eas_wbxml_finish(w, &data, &len);
    eas_wbxml_decode(pool, data, len, &eas_wbxml_default_limits, &root, &err);
    return root;
}

/* A Sync with one collection per key. */
static eas_node_t *doc_sync(int n, const char *const *keys)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(pool, NULL, NULL);
    eas_node_t *root = NULL;
    eas_wbxml_error_t err;
    const char *data;
    apr_size_t len;
    int i;

    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_start(w, EAS_AirSync_Collections);
    for (i = 0; i < n; i++) {
        eas_wbxml_start(w, EAS_AirSync_Collection);
        eas_wbxml_text(w, EAS_AirSync_SyncKey, keys[i]);
        eas_wbxml_textf(w, EAS_AirSync_CollectionId, "%d", i + 1);
        eas_wbxml_end(w);
    }
    eas_wbxml_finish(w, &data, &len);
    eas_wbxml_decode(pool, data, len, &eas_wbxml_default_limits, &root, &err);
    return root;
}

static eas_device_t device = {.id = "7", .device_id = "dev", .access = "allow"};

static eas_request_t *request(eas_cmd_e cmd, int http, const char *note)
{
    eas_request_t *req = apr_pcalloc(pool, sizeof(*req));

    req->pool = pool;
    req->q.cmd = cmd;
    req->device = &device;
    req->http_status = http;
    req->status_note = note;
    return req;
}

int main(void)
{
    static const char *const keys[] = {"0", "{ab}3", "0"};
    eas_health_event_t ev;
    eas_request_t *req;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    req = request(EAS_CMD_FOLDERSYNC, 200, "1 (12 changes)");
    req->doc = doc_foldersync("0");
    ok(req->doc, "FolderSync document built");
    ok(eas_health_classify(req, &ev), "a first FolderSync is recorded");
    is_int(ev.resets, 1, "FolderSync SyncKey 0: a reset");
    ok(ev.synced && !ev.error && !ev.invalid_keys, "and a successful sync");

    req = request(EAS_CMD_FOLDERSYNC, 200, "9");
    req->doc = doc_foldersync("ab12");
    eas_health_classify(req, &ev);
    is_int(ev.resets, 0, "FolderSync with a key: no reset");
    is_int(ev.invalid_keys, 1, "FolderSync Status 9: invalid key");
    ok(!ev.synced && !ev.error, "an invalid key is neither a sync nor an error");

    req = request(EAS_CMD_SYNC, 200, "1");
    req->doc = doc_sync(3, keys);
    eas_health_classify(req, &ev);
    is_int(ev.resets, 2, "Sync: one reset per collection with SyncKey 0");
    ok(ev.synced, "Sync Status 1: synced");
    req->status_note = "3";
    eas_health_classify(req, &ev);
    is_int(ev.invalid_keys, 1, "Sync Status 3: invalid key");
    req = request(EAS_CMD_SETTINGS, 200, "9");
    eas_health_classify(req, &ev);
    ok(!ev.invalid_keys && !ev.synced, "Settings Status 9 is nothing of the sort");

    req = request(EAS_CMD_SETTINGS, 500, "server error");
    eas_health_classify(req, &ev);
    ok(ev.error, "HTTP 500: an error");
    req = request(EAS_CMD_FOLDERSYNC, 200, "110");
    eas_health_classify(req, &ev);
    ok(ev.error && !ev.synced, "common Status 110: an error, not a sync");
    req = request(EAS_CMD_FOLDERSYNC, 449, "not provisioned");
    ok(!eas_health_classify(req, &ev), "449 (provision first) is not recorded");
    req = request(EAS_CMD_FOLDERSYNC, 200, "142");
    req->doc = doc_foldersync("0");
    eas_health_classify(req, &ev);
    ok(!ev.error, "Status 142 (provision first) is not an error");
    is_int(ev.resets, 0, "nor a reset: the command did not run");
    req = request(EAS_CMD_SYNC, 403, "device blocked");
    req->device = apr_pmemdup(pool, &device, sizeof(device));
    req->device->access = "block";
    ok(!eas_health_classify(req, &ev), "a blocked device's refusals are not errors");

    req = request(EAS_CMD_PING, 200, "wait");
    req->wait_seconds = 900;
    eas_health_classify(req, &ev);
    ok(ev.parked && !ev.done && !ev.superseded, "a Ping that waits: parked");
    ok(ev.synced, "and the device is in touch");
    req = request(EAS_CMD_PING, 200, "2");
    req->rerun = 1;
    eas_health_classify(req, &ev);
    ok(ev.done && !ev.parked, "a re-run Ping that answers: done");
    req = request(EAS_CMD_PING, 200, "1");
    req->wait_expired = 1;
    eas_health_classify(req, &ev);
    ok(ev.done, "a Ping whose heartbeat ended: done");
    req = request(EAS_CMD_PING, 200, "1 superseded");
    req->rerun = 1;
    eas_health_classify(req, &ev);
    ok(ev.superseded && !ev.done && !ev.synced, "a Ping ended by a newer one: superseded");
    req = request(EAS_CMD_PING, 200, "1");
    eas_health_classify(req, &ev);
    ok(!ev.parked && !ev.done, "a Ping answered at once neither parks nor completes a wait");

    req = request(EAS_CMD_FOLDERSYNC, 200, "1");
    req->device = NULL;
    ok(!eas_health_classify(req, &ev), "no device: nothing to record");

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
