/*
 * Has a folder changed since the device was last told?  Ping (and a
 * waiting Sync) ask this of every folder they watch.  A folder's state
 * is a string: PIM folders use their change counter, mail folders what
 * IMAP STATUS says (eas_mail_pending.c).  What the device was last told
 * is kept per device and folder in eas.push_seen, so each change is
 * reported once, and the check costs one indexed row per folder.
 */
#ifndef EAS_PENDING_H
#define EAS_PENDING_H

#include "eas_folders.h"
#include "eas_imap.h"

typedef struct eas_pending_t {
    const eas_folder_t *folder;   /* in */
    int changed;                  /* out: a change the device has not been told about */
    int gone;                     /* out: the mailbox no longer exists on IMAP */
    const char *state;            /* out: the folder's state now */
} eas_pending_t;

/* Checks every item (an array of eas_pending_t) and records the states
 * seen for req->device.  A folder the device never asked about before
 * is recorded without being reported.  APR_EAGAIN when IMAP cannot be
 * reached; another error from IMAP leaves req->db untouched (the caller
 * answers with its own status), one from the database sets db->failed. */
apr_status_t eas_pending_check(eas_request_t *req, apr_array_header_t *items);

/* Compares it->state with what req->device was last told, records
 * it->state, and sets it->changed. */
apr_status_t eas_pending_seen(eas_request_t *req, eas_pending_t *it);

/* Mail folders (eas_mail_pending.c): sets state (and changed, through
 * eas_pending_seen) or gone for each of the n items, all mail folders. */
apr_status_t eas_mail_pending(eas_request_t *req, eas_pending_t **items, int n);

/* The state string of a mailbox from its STATUS answer: what watchers
 * compare with req->wait_mail_states. */
const char *eas_mail_state(apr_pool_t *p, const eas_imap_status_t *st);

#endif
