/*
 * SetHandler eas-notify: the mail server says "something changed for
 * USER" (Dovecot's push_notification plugin with its OX driver PUTs
 * {"user":"...","event":"messageNew",...}; a script may POST ?user=NAME).
 * The call becomes NOTIFY 'eas' 'u:<id>' through eas.notify_mail(), so
 * the user's waiting Pings wake on every front end.  Who may call it is
 * the site's httpd configuration (Require ip <the IMAP server>).
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "eas_db.h"
#include "mod_eas_private.h"
#include "mod_eas_push.h"

#define MAX_NOTIFY_BODY 65536

/* The string value of "user" at the top of a JSON object (the OX driver's
 * shape); NULL when there is none.  Escapes other than \" and \\ are not
 * expected in mailbox owner names and make the value unusable. */
static const char *json_user(apr_pool_t *p, const char *s, apr_size_t len)
{
    const char *end = s + len, *k;
    char *out, *o;

    for (k = s; k + 6 <= end; k++) {
        if (memcmp(k, "\"user\"", 6))
            continue;
        k += 6;
        while (k < end && (*k == ' ' || *k == '\t' || *k == '\r' || *k == '\n'))
            k++;
        if (k >= end || *k++ != ':')
            return NULL;
        while (k < end && (*k == ' ' || *k == '\t' || *k == '\r' || *k == '\n'))
            k++;
        if (k >= end || *k++ != '"')
            return NULL;
        out = o = apr_palloc(p, end - k + 1);
        while (k < end && *k != '"') {
            if (*k == '\\') {
                if (k + 1 >= end || (k[1] != '"' && k[1] != '\\'))
                    return NULL;
                k++;
            }
            *o++ = *k++;
        }
        if (k >= end)
            return NULL;
        *o = '\0';
        return *out ? out : NULL;
    }
    return NULL;
}

static const char *query_user(apr_pool_t *p, const char *args)
{
    char *last, *pair, *s;

    if (!args)
        return NULL;
    s = apr_pstrdup(p, args);
    for (pair = apr_strtok(s, "&", &last); pair; pair = apr_strtok(NULL, "&", &last))
        if (!strncmp(pair, "user=", 5) && pair[5]) {
            char *v = pair + 5;

            if (ap_unescape_urlencoded(v) != OK)
                return NULL;
            return v;
        }
    return NULL;
}

static int read_small_body(request_rec *r, const char **body, apr_size_t *len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_off_t total = 0;
    int seen_eos = 0, rc;
    char *buf;

    *body = "";
    *len = 0;
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK)
        return rc;
    if (r->remaining > MAX_NOTIFY_BODY)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    do {
        apr_bucket *b;

        if (ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ, 8192) !=
            APR_SUCCESS)
            return HTTP_BAD_REQUEST;
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b))
            if (APR_BUCKET_IS_EOS(b))
                seen_eos = 1;
        apr_brigade_length(bb, 1, &total);
        if (total > MAX_NOTIFY_BODY)
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
    } while (!seen_eos);
    if (apr_brigade_pflatten(bb, &buf, len, r->pool) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    *body = buf;
    return OK;
}

int eas_handle_notify(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) *open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    eas_log_t log = {eas_log_server_sink, r->server, APLOG_WARNING};
    eas_db_t db;
    ap_dbd_t *dbd;
    const char *body, *user, *woken = NULL;
    apr_size_t len;
    int rc;

    if (r->method_number != M_POST && r->method_number != M_PUT) {
        apr_table_setn(r->headers_out, "Allow", "POST,PUT");
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if ((rc = read_small_body(r, &body, &len)) != OK)
        return rc;
    if (!(user = query_user(r->pool, r->args)) && !(user = json_user(r->pool, body, len))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, EASLOGNO(00230)
                      "mail notification without a user");
        return HTTP_BAD_REQUEST;
    }
    if (!open || !close || !(dbd = open(r->pool, r->server))) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    memset(&db, 0, sizeof(db));
    db.driver = dbd->driver;
    db.handle = dbd->handle;
    db.pool = dbd->pool;
    db.log = &log;
    /* One statement outside a transaction: NOTIFY leaves at its end. */
    if (eas_db_value(&db, r->pool, &woken, "SELECT eas.notify_mail(%s)", EAS_DB_ARGS(user)) !=
        APR_SUCCESS) {
        close(r->server, dbd);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, EASLOGNO(00231)
                      "mail notification for %s failed: %s", user,
                      db.error ? db.error : "database error");
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    close(r->server, dbd);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, EASLOGNO(00232)
                  "mail notification for %s woke %s user(s)", user, woken ? woken : "0");
    apr_table_setn(r->notes, "eas-status", woken ? woken : "0");
    return HTTP_NO_CONTENT;
}
