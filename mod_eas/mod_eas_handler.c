/*
 * The content handler: turns an httpd request into an eas_request_t,
 * lets libeas run it, and writes what libeas produced (MS-ASHTTP).
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "eas_login.h"
#include "mod_eas_config.h"
#include "mod_eas_handler.h"
#include "mod_eas_private.h"
#include "mod_eas_push.h"
#include "mod_eas_stats.h"

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

static eas_imap_pool_t *imap_pool;

eas_imap_pool_t *eas_handler_imap_pool(void)
{
    return imap_pool;
}

void eas_handler_child_init(apr_pool_t *p, server_rec *s)
{
    static eas_log_t log;

    log.sink = eas_log_server_sink;
    log.baton = s;
    log.level = s->log.level;
    /* Idle IMAP connections are closed after 5 minutes, before the
     * server's own autologout (30 minutes by RFC 3501). */
    if (eas_imap_pool_create(&imap_pool, p, 64, apr_time_from_sec(300), &log) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, EASLOGNO(00017)
                     "cannot create the IMAP connection pool");
}

int eas_handler_post_config(apr_pool_t *p, server_rec *s)
{
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_open || !dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, EASLOGNO(00010)
                     "mod_dbd is not loaded: mod_eas keeps its state in PostgreSQL "
                     "through mod_dbd (LoadModule dbd_module, DBDriver pgsql)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void log_sink(void *baton, int level, apr_status_t rv, const char *file, int line,
                     const char *msg)
{
    request_rec *r = baton;

    ap_log_rerror_(file, line, APLOG_MODULE_INDEX, level, rv, r, "%s", msg);
}

void eas_log_server_sink(void *baton, int level, apr_status_t rv, const char *file, int line,
                         const char *msg)
{
    ap_log_error_(file, line, APLOG_MODULE_INDEX, level, rv, baton, "%s", msg);
}

/* Reads the whole body, refusing more than max bytes (413). */
static int read_body(request_rec *r, apr_size_t max, const char **body, apr_size_t *len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_bucket_brigade *got = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_off_t total = 0;
    int seen_eos = 0, rc;
    char *buf;
    apr_size_t n;

    *body = "";
    *len = 0;
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK)
        return rc;
    if (r->remaining > (apr_off_t)max) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, EASLOGNO(00011)
                      "request body of %" APR_OFF_T_FMT " bytes exceeds EASMaxBodySize %"
                      APR_SIZE_T_FMT, r->remaining, max);
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    do {
        /* Each read into an empty brigade; what came is set aside (the TLS
         * filter hands out transient buckets over a buffer it reuses). */
        apr_status_t rv = ap_get_brigade(r->input_filters, got, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, 65536);
        apr_bucket *b;

        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, EASLOGNO(00012)
                          "reading the request body failed");
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(got); b != APR_BRIGADE_SENTINEL(got); b = APR_BUCKET_NEXT(b)) {
            if (APR_BUCKET_IS_EOS(b))
                seen_eos = 1;
            else if ((rv = apr_bucket_setaside(b, r->pool)) != APR_SUCCESS &&
                     rv != APR_ENOTIMPL)
                return HTTP_INTERNAL_SERVER_ERROR;
        }
        APR_BRIGADE_CONCAT(bb, got);
        apr_brigade_length(bb, 1, &total);
        if (total > (apr_off_t)max) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, EASLOGNO(00013)
                          "chunked request body exceeds EASMaxBodySize %" APR_SIZE_T_FMT, max);
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    } while (!seen_eos);
    if (apr_brigade_pflatten(bb, &buf, &n, r->pool) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    *body = buf;
    *len = n;
    return OK;
}

typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
    eas_request_t *req;       /* the run whose response is being written */
} stream_t;

/* Headers a run set go to r->headers_out (copied: a run's pool may go
 * before r's), at the latest before the first body byte. */
static void take_headers(request_rec *r, eas_request_t *req)
{
    const apr_array_header_t *arr = apr_table_elts(req->headers_out);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++)
        apr_table_set(r->headers_out, e[i].key, e[i].val);
    apr_table_clear(req->headers_out);
}

/* Writes body bytes; with flush, they leave at once (chunked when the
 * length is not known yet), which keeps slow clients from timing out. */
static apr_status_t send_bytes(stream_t *st, const char *data, apr_size_t len, int flush)
{
    request_rec *r = st->r;
    apr_status_t rv;

    if (!st->bb)
        st->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (len)
        apr_brigade_write(st->bb, NULL, NULL, data, len);
    if (flush)
        APR_BRIGADE_INSERT_TAIL(st->bb, apr_bucket_flush_create(r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, st->bb);
    apr_brigade_cleanup(st->bb);
    return rv;
}

static apr_status_t flush_out(void *baton, const char *data, apr_size_t len)
{
    stream_t *st = baton;

    if (!st->bb) {
        take_headers(st->r, st->req);
        ap_set_content_type(st->r, "application/vnd.ms-sync.wbxml");
    }
    return send_bytes(st, data, len, 1);
}

/* A body in pieces that live in the request pool: transient buckets pass
 * them on uncopied, and the closing flush makes the core write them out
 * before this returns (a filter that holds data back copies it itself). */
static int send_parts(stream_t *st, const eas_request_t *req)
{
    request_rec *r = st->r;
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    apr_off_t total = 0;
    apr_status_t rv;
    int i;

    for (i = 0; i < req->raw_parts->nelts; i++)
        total += (apr_off_t)APR_ARRAY_IDX(req->raw_parts, i, eas_bytes_t).len;
    ap_set_content_type(r, req->raw_type);
    ap_set_content_length(r, total);
    if (!st->bb)
        st->bb = apr_brigade_create(r->pool, ba);
    for (i = 0; i < req->raw_parts->nelts; i++) {
        const eas_bytes_t *b = &APR_ARRAY_IDX(req->raw_parts, i, eas_bytes_t);
        if (b->len)
            APR_BRIGADE_INSERT_TAIL(st->bb, apr_bucket_transient_create(b->data, b->len, ba));
    }
    APR_BRIGADE_INSERT_TAIL(st->bb, apr_bucket_flush_create(ba));
    rv = ap_pass_brigade(r->output_filters, st->bb);
    apr_brigade_cleanup(st->bb);
    if (rv != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, EASLOGNO(01800)
                      "sending a %" APR_OFF_T_FMT "-byte %s response failed", total,
                      req->raw_type);
    return OK;
}

static int send_options(request_rec *r, const eas_dir_conf_t *dc)
{
    /* OPTIONS carries no DeviceType: caps apply by User-Agent only. */
    eas_version_set_t set = eas_versions_offered(&dc->eas, NULL,
                                                 apr_table_get(r->headers_in, "User-Agent"), 0);

    apr_table_setn(r->headers_out, "MS-Server-ActiveSync",
                   eas_version_str(eas_version_set_max(set)));
    apr_table_setn(r->headers_out, "MS-ASProtocolVersions", eas_version_set_str(r->pool, set));
    apr_table_setn(r->headers_out, "MS-ASProtocolCommands", eas_commands_str(r->pool, set));
    apr_table_setn(r->headers_out, "Allow", "OPTIONS,POST");
    apr_table_setn(r->headers_out, "Public", "OPTIONS,POST");
    apr_table_setn(r->headers_out, "Cache-Control", "private");
    ap_set_content_length(r, 0);
    return OK;
}

/* A run's pool has an allocator of its own: when a request waits, what
 * the run used goes back to the system instead of staying with the
 * connection (which may wait for an hour). */
static apr_pool_t *run_pool(request_rec *r)
{
    apr_allocator_t *al;
    apr_pool_t *p;

    if (apr_allocator_create(&al) != APR_SUCCESS)
        return NULL;
    apr_allocator_max_free_set(al, 64 * 1024);
    if (apr_pool_create_ex(&p, r->pool, NULL, al) != APR_SUCCESS) {
        apr_allocator_destroy(al);
        return NULL;
    }
    apr_allocator_owner_set(al, p);
    apr_pool_tag(p, "eas_run");
    return p;
}

eas_request_t *eas_handler_run(request_rec *r, const eas_request_t *tmpl, int rerun,
                               int expired, const char *push_gen)
{
    stream_t *st = tmpl->flush_baton;
    apr_pool_t *p = run_pool(r);
    eas_request_t *req;
    ap_dbd_t *dbd;

    if (!p)
        return NULL;
    req = apr_palloc(p, sizeof(*req));
    *req = *tmpl;
    req->pool = p;
    req->headers_out = apr_table_make(p, 8);
    req->rerun = rerun;
    req->wait_expired = expired;
    req->push_gen = push_gen ? apr_pstrdup(p, push_gen) : NULL;
    st->req = req;

    if (!(dbd = dbd_open(p, r->server))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, EASLOGNO(00016)
                      "no database connection (see mod_dbd's messages); answering 503");
        apr_table_setn(req->headers_out, "Retry-After", "30");
        req->http_status = HTTP_SERVICE_UNAVAILABLE;
        return req;
    }
    eas_push_learn_db(r->server, dbd->driver, dbd->handle);
    req->db = apr_pcalloc(p, sizeof(*req->db));
    req->db->driver = dbd->driver;
    req->db->handle = dbd->handle;
    req->db->pool = dbd->pool;
    req->db->log = req->log;

    if (req->q.cmd == EAS_CMD_PING)
        eas_stats_ping_active(1);
    eas_request_process(req);
    if (req->q.cmd == EAS_CMD_PING)
        eas_stats_ping_active(-1);
    eas_db_rollback(req->db); /* no-op unless a command left one open */
    dbd_close(r->server, dbd);
    req->db = NULL;
    return req;
}

void eas_handler_run_done(eas_request_t *req)
{
    apr_pool_destroy(req->pool);
}

int eas_handler_respond(request_rec *r, eas_request_t *req)
{
    stream_t *st = req->flush_baton;

    if (req->status_note)
        apr_table_set(r->notes, "eas-status", req->status_note);
    if (!st->bb)
        take_headers(r, req);
    if (req->http_status == 449) {
        /* httpd has no reason phrase for 449 (MS-ASHTTP, Exchange's own). */
        r->status = 449;
        r->status_line = "449 Retry after sending a PROVISION command";
        ap_set_content_length(r, 0);
        return OK;
    }
    if (req->http_status != HTTP_OK && !st->bb) {
        /* httpd sends only err_headers_out with an error status. */
        apr_table_overlap(r->err_headers_out, r->headers_out, APR_OVERLAP_TABLES_SET);
        return req->http_status;
    }
    if (req->raw_parts)
        return send_parts(st, req);
    if (req->raw_body) {
        ap_set_content_type(r, req->raw_type);
        ap_set_content_length(r, (apr_off_t)req->raw_len);
        send_bytes(st, req->raw_body, req->raw_len, 0);
        return OK;
    }
    if (req->out) {
        const char *data;
        apr_size_t len;

        eas_wbxml_finish(req->out, &data, &len);
        if (!st->bb) {
            ap_set_content_type(r, "application/vnd.ms-sync.wbxml");
            ap_set_content_length(r, (apr_off_t)len);
        }
        if (len)
            send_bytes(st, data, len, 0);
        return OK;
    }
    ap_set_content_length(r, 0);
    return OK;
}

int eas_handle_activesync(request_rec *r)
{
    const eas_dir_conf_t *dc = eas_dir_conf(r);
    eas_request_t *tmpl, *req;
    eas_log_t *log;
    stream_t *st;
    const char *why, *user = NULL, *pw = NULL, *hdr;
    int rc;

    if (r->method_number == M_OPTIONS)
        return send_options(r, dc);
    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "OPTIONS,POST");
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, EASLOGNO(00014)
                      "no authenticated user: configure AuthType Basic and Require "
                      "valid-user on the ActiveSync location");
        return HTTP_UNAUTHORIZED;
    }

    /* What every run of the request starts from (a waiting request runs
     * again when woken): everything here lives in r->pool. */
    tmpl = apr_pcalloc(r->pool, sizeof(*tmpl));
    log = apr_pcalloc(r->pool, sizeof(*log));
    log->sink = log_sink;
    log->baton = r;
    log->level = ap_get_request_module_loglevel(r, APLOG_MODULE_INDEX);
    tmpl->log = log;
    tmpl->cfg = &dc->eas;
    tmpl->method = r->method;
    tmpl->imap = imap_pool;
    tmpl->imap_server = &dc->imap;
    tmpl->smtp_server = &dc->smtp;
    tmpl->smtp_auth = dc->smtp_auth;

    switch (eas_query_parse(r->pool, r->args, &tmpl->q, &why)) {
    case EAS_QUERY_OK:
        break;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, EASLOGNO(00015)
                      "bad request URI query: %s", why);
        return HTTP_BAD_REQUEST;
    }

    /* The password goes to IMAP for users who authenticate there. */
    if (ap_get_basic_auth_components(r, &user, &pw) == APR_SUCCESS)
        tmpl->password = pw;
    tmpl->login = eas_login_normalize(r->pool, r->user, dc->login_domain_strip);
    tmpl->version_hdr = apr_table_get(r->headers_in, "MS-ASProtocolVersion");
    tmpl->policy_key_hdr = apr_table_get(r->headers_in, "X-MS-PolicyKey");
    tmpl->user_agent = apr_table_get(r->headers_in, "User-Agent");
    tmpl->content_type = apr_table_get(r->headers_in, "Content-Type");
    tmpl->remote_ip = r->useragent_ip;
    hdr = apr_table_get(r->headers_in, "MS-ASAcceptMultiPart");
    tmpl->accept_multipart = tmpl->q.accept_multipart || (hdr && (*hdr == 'T' || *hdr == 't'));
    tmpl->http_status = HTTP_OK;

    if ((rc = read_body(r, dc->eas.max_body, &tmpl->body, &tmpl->body_len)) != OK)
        return rc;

    st = apr_pcalloc(r->pool, sizeof(*st));
    st->r = r;
    tmpl->flush = flush_out;
    tmpl->flush_baton = st;

    if (!(req = eas_handler_run(r, tmpl, 0, 0, NULL)))
        return HTTP_INTERNAL_SERVER_ERROR;
    if (req->wait_seconds > 0 && !req->out && !st->bb)
        return eas_push_wait(r, tmpl, req);
    return eas_handler_respond(r, req);
}
