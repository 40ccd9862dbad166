#include "eas_status.h"

#include <apr_strings.h>
#include "eas_commands.h"

int eas_status_http(const eas_request_t *req, int status)
{
    switch (status) {
    case EAS_STATUS_INVALID_CONTENT:
    case EAS_STATUS_INVALID_WBXML:
    case EAS_STATUS_INVALID_XML:
    case EAS_STATUS_INVALID_IDS:
        return 400;
    case EAS_STATUS_RETRY_LATER:
        return 503;
    case EAS_STATUS_MAILBOX_QUOTA:
        return 507;
    case EAS_STATUS_REMOTE_WIPE:
        /* 403 when the client sent no policy key at all, else 449 */
        return req->q.has_policy_key || req->policy_key_hdr ? 449 : 403;
    case EAS_STATUS_LEGACY_DEVICE_STRICT_POLICY:
    case EAS_STATUS_NOT_PROVISIONED:
    case EAS_STATUS_POLICY_REFRESH:
    case EAS_STATUS_INVALID_POLICY_KEY:
        return 449;
    case EAS_STATUS_DEVICE_BLOCKED:
    case EAS_STATUS_ACCESS_DENIED:
    case EAS_STATUS_EXTERNALLY_MANAGED:
    case EAS_STATUS_NOT_FULLY_PROVISIONABLE:
        return 403;
    default:
        return 500;
    }
}

void eas_status_respond(eas_request_t *req, int status)
{
    if (req->version >= 140) {
        req->http_status = 200;
        eas_cmd_status_only(req, status);
    }
    else {
        req->out = NULL;
        req->http_status = eas_status_http(req, status);
        req->status_note = apr_itoa(req->pool, status);
    }
}
