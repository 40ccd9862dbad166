/*
 * Device health (sql/006_ops.sql, eas.device_health): what one run of a
 * request tells about its device — the device started over (SyncKey 0),
 * was told its key is invalid, failed, parked a Ping, had a Ping answered
 * after waiting or ended by a newer one, or synced successfully — added to
 * the device's counters in eas.device_activity.
 *
 * Conventions read from the request, so commands need no calls of their own:
 * status_note starts with the command's Status number ("9", "1 (3 changes)"),
 * contains "superseded" when a newer request of the device ended a waiting
 * one, and wait_seconds/rerun/wait_expired follow the long-poll contract of
 * eas_request.h.
 */
#ifndef EAS_HEALTH_H
#define EAS_HEALTH_H

#include "eas_request.h"

typedef struct eas_health_event_t {
    int resets;        /* SyncKey 0: the hierarchy and/or collections started over */
    int invalid_keys;  /* answered FolderSync Status 9 / Sync Status 3 */
    int error;         /* HTTP 4xx/5xx or common Status >= 101, not provisioning steps */
    int parked;        /* a Ping or Sync started to wait */
    int done;          /* a waiting one was answered: a change or its heartbeat ended */
    int superseded;    /* a waiting one was ended by a newer request of the device */
    int synced;        /* a Sync, FolderSync or Ping that went through */
} eas_health_event_t;

/* Reads the events off a processed request (no I/O).  Returns 0 when
 * there is nothing to record (no device, or no event). */
int eas_health_classify(const eas_request_t *req, eas_health_event_t *ev);

/* Classifies and records with eas.record_activity(), outside any
 * transaction (call after the request's own commit or rollback); a failure
 * is logged, once per process, and otherwise ignored. */
void eas_health_record(eas_request_t *req);

#endif
