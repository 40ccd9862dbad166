/*
 * Autodiscover (MS-ASCMD 2.2.1.1 POX, and the JSON v2 GET newer clients
 * use).  libeas parses and writes the documents; this file finds the URL
 * and the user's display name.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "eas_autodiscover.h"
#include "eas_db.h"
#include "mod_eas_config.h"
#include "mod_eas_handler.h"
#include "mod_eas_private.h"

static int send_text(request_rec *r, int status, const char *type, const char *body)
{
    r->status = status;
    ap_set_content_type(r, type);
    ap_set_content_length(r, (apr_off_t)strlen(body));
    ap_rputs(body, r);
    return OK;
}

static const char *display_name(request_rec *r, const char *email)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    eas_db_t db = {0};
    ap_dbd_t *dbd;
    const char *name = NULL;

    /* Only a nicety: without a database the answer simply has no name. */
    if (!dbd_open || !(dbd = dbd_open(r->pool, r->server)))
        return NULL;
    db.driver = dbd->driver;
    db.handle = dbd->handle;
    db.pool = dbd->pool;
    eas_db_value(&db, r->pool, &name,
                 "SELECT display_name FROM eas.users WHERE lower(email) = lower(%s) "
                 "OR login = lower(%s) ORDER BY email IS NULL LIMIT 1",
                 EAS_DB_ARGS(email, r->user ? r->user : email));
    dbd_close(r->server, dbd);
    return name;
}

int eas_handle_autodiscover(request_rec *r)
{
    const eas_dir_conf_t *dc = eas_dir_conf(r);
    const char *eas_url = dc->eas_url ? dc->eas_url
                                      : ap_construct_url(r->pool, "/Microsoft-Server-ActiveSync", r);
    const char *path = r->parsed_uri.path ? r->parsed_uri.path : r->uri, *why = NULL;
    char buf[EAS_AUTOD_MAX_REQUEST + 1];
    eas_autod_request_t req;
    eas_autod_status_e st;
    apr_size_t len = 0;
    long n;
    int rc;

    if (ap_strcasestr(path, "autodiscover.json")) {
        eas_autod_json_t out;
        if (r->method_number != M_GET)
            return HTTP_METHOD_NOT_ALLOWED;
        eas_autod_json(r->pool, path, r->args, eas_url,
                       ap_construct_url(r->pool, "/autodiscover/autodiscover.xml", r), &out);
        return send_text(r, out.http_status, "application/json", out.body);
    }
    if (r->method_number != M_POST)
        return send_text(r, HTTP_OK, "text/xml", eas_autod_error_xml(r->pool, EAS_AUTOD_E_INVALID));

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK)
        return rc;
    if (ap_should_client_block(r))
        while ((n = ap_get_client_block(r, buf + len, sizeof(buf) - len)) > 0) {
            len += (apr_size_t)n;
            if (len == sizeof(buf))
                break; /* over the limit: the parser refuses it */
        }
    st = eas_autod_parse(r->pool, buf, len, &req, &why);
    if (st != EAS_AUTOD_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, EASLOGNO(00070)
                      "Autodiscover request refused (%d): %s", st, why ? why : "-");
        return send_text(r, HTTP_OK, "text/xml", eas_autod_error_xml(r->pool, st));
    }
    return send_text(r, HTTP_OK, "text/xml",
                     eas_autod_settings_xml(r->pool, req.email, display_name(r, req.email),
                                            eas_url));
}
