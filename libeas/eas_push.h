/*
 * Push without httpd: the generation that makes one waiting request per
 * device the live one, and the NOTIFY payloads that wake waiting requests
 * on every front end (sql/004_push.sql describes them).  mod_eas parks
 * the requests; this is what it and the commands agree on.
 */
#ifndef EAS_PUSH_H
#define EAS_PUSH_H

#include "eas_request.h"

/* The LISTEN/NOTIFY channel. */
#define EAS_PUSH_CHANNEL "eas"

typedef enum {
    EAS_PUSH_EV_NONE = 0,
    EAS_PUSH_EV_USER,         /* "u:<user id>": re-check the user's waiting requests */
    EAS_PUSH_EV_DEVICE        /* "d:<device id>:<gen>": requests of the device older than gen end */
} eas_push_ev_e;

typedef struct eas_push_event_t {
    eas_push_ev_e kind;
    apr_int64_t id;           /* user or device id */
    apr_int64_t gen;          /* EAS_PUSH_EV_DEVICE only */
} eas_push_event_t;

/* Parses a NOTIFY payload; 0 (kind NONE) for anything else, which
 * listeners ignore so that later payload kinds stay compatible. */
int eas_push_parse(const char *payload, eas_push_event_t *ev);

/* For a new (not re-run) Ping or Sync: takes the device's next push
 * generation into req->push_gen and announces it, so that an older
 * waiting request of the device ends wherever it waits. */
apr_status_t eas_push_claim(eas_request_t *req);

/* On a re-run: whether a newer Ping or Sync of the device exists. */
apr_status_t eas_push_superseded(eas_request_t *req, int *superseded);

/* NOTIFY 'u:<user id>' inside db's transaction (delivered at commit). */
apr_status_t eas_push_notify_user(eas_db_t *db, apr_pool_t *p, const char *user_id);

#endif
