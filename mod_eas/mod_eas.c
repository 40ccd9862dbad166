/*
 * mod_eas: Exchange ActiveSync for httpd 2.4.  Module declaration and hook
 * registration; the work is done by libeas through the glue files.
 */
#include <curl/curl.h>
#include <libxml/parser.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "eas_mime.h"
#include "mod_eas_config.h"
#include "mod_eas_handler.h"
#include "mod_eas_private.h"
#include "mod_eas_push.h"
#include "mod_eas_stats.h"

static apr_status_t curl_cleanup(void *data)
{
    curl_global_cleanup();
    return APR_SUCCESS;
}

static int eas_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    /* The first pass only checks the configuration. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, EASLOGNO(00060) "curl_global_init failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, curl_cleanup, apr_pool_cleanup_null);
    xmlInitParser(); /* before any thread parses Autodiscover requests */
    if (eas_push_post_config(pconf, s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    eas_stats_post_config(pconf, s);
    return eas_handler_post_config(pconf, s);
}

static void eas_child_init(apr_pool_t *p, server_rec *s)
{
    /* GMime registers GObject types, which cannot survive the unloading of
     * modules on a graceful restart: only children, fresh each generation
     * and before their threads start, initialise it. */
    if (eas_mime_init() != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, EASLOGNO(01801) "GMime initialisation failed");
    eas_handler_child_init(p, s);
    eas_auth_child_init(p, s);
    eas_push_child_init(p, s);
    eas_stats_child_init(p, s);
}

static int eas_handler(request_rec *r)
{
    if (!r->handler)
        return DECLINED;
    if (!strcmp(r->handler, "eas"))
        return eas_handle_activesync(r);
    if (!strcmp(r->handler, "eas-autodiscover"))
        return eas_handle_autodiscover(r);
    if (!strcmp(r->handler, "eas-notify"))
        return eas_handle_notify(r);
    return DECLINED;
}

static void eas_register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(eas_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(eas_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(eas_handler, NULL, NULL, APR_HOOK_MIDDLE);
    eas_auth_register(p);
    eas_push_register_hooks(p);
    eas_stats_register_hooks(p);
}

module AP_MODULE_DECLARE_DATA eas_module = {
    STANDARD20_MODULE_STUFF,
    eas_create_dir_conf,
    eas_merge_dir_conf,
    eas_create_srv_conf,
    eas_merge_srv_conf,
    eas_cmds,
    eas_register_hooks
};
