/*
 * mod_eas: Exchange ActiveSync for httpd 2.4.  Module declaration and hook
 * registration; the work is done by libeas.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_eas_private.h"

static int eas_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "eas"))
        return DECLINED;

    if (r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "MS-Server-ActiveSync", "16.1");
        apr_table_setn(r->headers_out, "MS-ASProtocolVersions",
                       "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
        apr_table_setn(r->headers_out, "MS-ASProtocolCommands",
                       "Sync,FolderSync,FolderCreate,FolderDelete,FolderUpdate,"
                       "GetItemEstimate,Ping,Provision,Settings");
        apr_table_setn(r->headers_out, "Allow", "OPTIONS,POST");
        apr_table_setn(r->headers_out, "Public", "OPTIONS,POST");
        return OK;
    }
    return HTTP_BAD_REQUEST;
}

static void eas_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(eas_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA eas_module = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL,
    eas_register_hooks
};
