/*
 * Common status codes (MS-ASCMD 2.2.2) and how they reach a client: in the
 * command's Status element from 14.0 on, as an HTTP status before that.
 */
#ifndef EAS_STATUS_H
#define EAS_STATUS_H

#include "eas_request.h"

enum {
    EAS_STATUS_OK = 1,
    EAS_STATUS_INVALID_CONTENT = 101,
    EAS_STATUS_INVALID_WBXML = 102,
    EAS_STATUS_INVALID_XML = 103,
    EAS_STATUS_INVALID_IDS = 106,
    EAS_STATUS_SERVER_ERROR = 110,
    EAS_STATUS_RETRY_LATER = 111,
    EAS_STATUS_DEVICE_BLOCKED = 129,
    EAS_STATUS_ACCESS_DENIED = 130,
    EAS_STATUS_NOT_FULLY_PROVISIONABLE = 139,
    EAS_STATUS_REMOTE_WIPE = 140,
    EAS_STATUS_LEGACY_DEVICE_STRICT_POLICY = 141,
    EAS_STATUS_NOT_PROVISIONED = 142,
    EAS_STATUS_POLICY_REFRESH = 143,
    EAS_STATUS_INVALID_POLICY_KEY = 144,
    EAS_STATUS_EXTERNALLY_MANAGED = 145,
    EAS_STATUS_INVALID_STORED_REQUEST = 149,
    EAS_STATUS_DEVICE_INFORMATION_REQUIRED = 165,
    EAS_STATUS_MAXIMUM_DEVICES = 177
};

/* HTTP status a pre-14.0 client gets for a common code. */
int eas_status_http(const eas_request_t *req, int status);

/* Answers the request with a common status in the form its version needs. */
void eas_status_respond(eas_request_t *req, int status);

#endif
