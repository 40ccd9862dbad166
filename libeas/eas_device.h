/*
 * The user and device records every request touches (eas.users,
 * eas.devices): looked up or created, stamped with what the request tells
 * about the device, charged against the request budget, and given the
 * access decision of the admin's rules.  The UPDATE of the device row also
 * takes its row lock until the transaction ends, which is what serialises
 * two requests of one device (DESIGN.md "Request flow").
 */
#ifndef EAS_DEVICE_H
#define EAS_DEVICE_H

#include "eas_request.h"

typedef struct eas_device_touch_t {
    int budget_used;          /* requests in the device's current window */
    int user_budget_used;     /* all devices of the user, when budgeted */
    int throttled;            /* still inside an earlier penalty */
} eas_device_touch_t;

/* Finds or creates req->user and req->device inside the open transaction. */
apr_status_t eas_device_touch(eas_request_t *req, eas_device_touch_t *touch);

/* Records a throttling decision (penalty window, counter) for admins. */
apr_status_t eas_device_throttle(eas_request_t *req, int seconds);

/* Stores a Settings DeviceInformation Set element (MS-ASCMD 2.2.3.45),
 * from the Settings command or a 14.1+ Provision.  set may be NULL. */
apr_status_t eas_device_set_info(eas_request_t *req, const eas_node_t *set);

/* Appends to eas.errors (kept to the most recent rows per device). */
void eas_device_error(eas_request_t *req, const char *status, const char *message);

#endif
