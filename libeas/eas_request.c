/*
 * The request pipeline (DESIGN.md "Request flow"): checks that need no
 * database, then one transaction that records the device, applies access
 * rules, budgets and provisioning, runs the command and commits.
 */
#include "eas_request.h"

#include <string.h>
#include <strings.h>
#include <apr_fnmatch.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_device.h"
#include "eas_health.h"
#include "eas_login.h"
#include "eas_provision.h"
#include "eas_push.h"
#include "eas_status.h"

enum {
    F_BODY = 1,        /* a WBXML body is required */
    F_BODY_OPT = 2,    /* a WBXML body may be absent (12.1+ empty Sync/Ping) */
    F_NO_PROVCHECK = 4, /* runs before a device has a policy key */
    /* Before 14.0 the body is the message itself, Content-Type
     * message/rfc822 (MS-ASCMD 2.2.1.17, 2.2.1.19, 2.2.1.20); a message
     * labelled so is taken from any version. */
    F_MIME_12 = 8
};

typedef struct {
    eas_cmd_fn *fn;
    eas_tag_t root, status;
    unsigned flags;
} cmd_entry_t;

static const cmd_entry_t cmd_table[EAS_CMD_MAX] = {
    [EAS_CMD_SYNC] = {eas_cmd_sync, EAS_AirSync_Sync, EAS_AirSync_Status, F_BODY_OPT},
    [EAS_CMD_GETITEMESTIMATE] = {eas_cmd_getitemestimate, EAS_GetItemEstimate_GetItemEstimate,
                                 EAS_GetItemEstimate_Status, F_BODY},
    [EAS_CMD_MOVEITEMS] = {eas_cmd_moveitems, EAS_Move_MoveItems, EAS_Move_Status, F_BODY},
    [EAS_CMD_PROVISION] = {eas_cmd_provision, EAS_Provision_Provision, EAS_Provision_Status,
                           F_BODY | F_NO_PROVCHECK},
    [EAS_CMD_SETTINGS] = {eas_cmd_settings, EAS_Settings_Settings, EAS_Settings_Status, F_BODY},
    [EAS_CMD_FOLDERSYNC] = {eas_cmd_foldersync, EAS_FolderHierarchy_FolderSync,
                            EAS_FolderHierarchy_Status, F_BODY},
    [EAS_CMD_FOLDERCREATE] = {eas_cmd_foldercreate, EAS_FolderHierarchy_FolderCreate,
                              EAS_FolderHierarchy_Status, F_BODY},
    [EAS_CMD_FOLDERDELETE] = {eas_cmd_folderdelete, EAS_FolderHierarchy_FolderDelete,
                              EAS_FolderHierarchy_Status, F_BODY},
    [EAS_CMD_FOLDERUPDATE] = {eas_cmd_folderupdate, EAS_FolderHierarchy_FolderUpdate,
                              EAS_FolderHierarchy_Status, F_BODY},
    [EAS_CMD_PING] = {eas_cmd_ping, EAS_Ping_Ping, EAS_Ping_Status, F_BODY_OPT},
    [EAS_CMD_SENDMAIL] = {eas_cmd_sendmail, EAS_ComposeMail_SendMail, EAS_ComposeMail_Status,
                          F_BODY | F_MIME_12},
    [EAS_CMD_SMARTREPLY] = {eas_cmd_smartreply, EAS_ComposeMail_SmartReply,
                            EAS_ComposeMail_Status, F_BODY | F_MIME_12},
    [EAS_CMD_SMARTFORWARD] = {eas_cmd_smartforward, EAS_ComposeMail_SmartForward,
                              EAS_ComposeMail_Status, F_BODY | F_MIME_12},
    /* 2.5-12.1 only: errors are HTTP statuses, there is no document */
    [EAS_CMD_GETATTACHMENT] = {eas_cmd_getattachment, EAS_TAG_NONE, EAS_TAG_NONE, 0},
    [EAS_CMD_ITEMOPERATIONS] = {eas_cmd_itemoperations, EAS_ItemOperations_ItemOperations,
                                EAS_ItemOperations_Status, F_BODY},
    [EAS_CMD_SEARCH] = {eas_cmd_search, EAS_Search_Search, EAS_Search_Status, F_BODY},
    [EAS_CMD_FIND] = {eas_cmd_find, EAS_Find_Find, EAS_Find_Status, F_BODY},
    [EAS_CMD_RESOLVERECIPIENTS] = {eas_cmd_resolverecipients,
                                   EAS_ResolveRecipients_ResolveRecipients,
                                   EAS_ResolveRecipients_Status, F_BODY},
    [EAS_CMD_MEETINGRESPONSE] = {eas_cmd_meetingresponse, EAS_MeetingResponse_MeetingResponse,
                                 EAS_MeetingResponse_Status, F_BODY},
};

void eas_config_defaults(eas_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->versions = EAS_VERSIONS_ALL;
    cfg->provisioning = EAS_PROVISION_ALLOW;
    cfg->default_policy = "default";
    cfg->heartbeat_min = 60;
    cfg->heartbeat_max = 3540;
    cfg->max_folders = 300;
    cfg->max_window = 512;
    cfg->max_body = 50 * 1024 * 1024;
    cfg->wbxml = eas_wbxml_default_limits;
    cfg->budget_window = 60;
    cfg->default_access = "allow";
}

const char *eas_commands_str(apr_pool_t *p, eas_version_set_t set)
{
    const char *s = NULL;
    int hi = eas_version_set_max(set), lo = 0, i;

    for (i = 0; i < EAS_VERSION_COUNT; i++)
        if (set & (1u << i)) {
            lo = eas_versions_all[i];
            break;
        }
    for (i = 0; i < EAS_CMD_MAX; i++)
        if (cmd_table[i].fn && eas_cmd_min_version(i) <= hi && eas_cmd_max_version(i) >= lo)
            s = s ? apr_pstrcat(p, s, ",", eas_cmd_name(i), NULL) : eas_cmd_name(i);
    return s ? s : "";
}

eas_wbxml_writer_t *eas_request_writer(eas_request_t *req)
{
    if (!req->out)
        req->out = eas_wbxml_writer_create(req->pool, req->flush, req->flush_baton);
    return req->out;
}

void eas_cmd_status_only(eas_request_t *req, int status)
{
    const cmd_entry_t *e = &cmd_table[req->q.cmd];
    eas_wbxml_writer_t *w = eas_request_writer(req);

    eas_wbxml_start(w, e->root);
    eas_wbxml_textf(w, e->status, "%d", status);
    eas_wbxml_end(w);
    req->status_note = apr_itoa(req->pool, status);
}

eas_version_set_t eas_versions_offered(const eas_config_t *cfg, const char *device_type,
                                       const char *user_agent, int user_max)
{
    const eas_version_cap_t *caps;
    int i, cap = user_max ? user_max : EAS_VERSION_MAX;

    if (cfg->caps) {
        caps = (const eas_version_cap_t *)cfg->caps->elts;
        for (i = 0; i < cfg->caps->nelts; i++) {
            const char *pat = caps[i].pattern;
            if (caps[i].max_version < cap &&
                ((device_type && apr_fnmatch(pat, device_type, APR_FNM_CASE_BLIND) == APR_SUCCESS) ||
                 (user_agent && apr_fnmatch(pat, user_agent, APR_FNM_CASE_BLIND) == APR_SUCCESS)))
                cap = caps[i].max_version;
        }
    }
    return eas_version_set_cap(cfg->versions, cap);
}

eas_version_set_t eas_request_versions(const eas_request_t *req)
{
    return eas_versions_offered(req->cfg, req->q.device_type, req->user_agent,
                                req->user ? req->user->max_version : 0);
}

/* When a device is offered versions it was not offered before, X-MS-RP
 * tells it to start over with the new list (MS-ASHTTP 2.2.2.1.2.9). */
static apr_status_t announce_versions(eas_request_t *req)
{
    eas_version_set_t now = eas_request_versions(req), before;
    const char *list = eas_version_set_str(req->pool, now);

    if (req->device->versions_seen && !strcmp(req->device->versions_seen, list))
        return APR_SUCCESS;
    if (req->device->versions_seen && eas_version_set_parse(req->device->versions_seen, &before) &&
        (now & ~before)) {
        apr_table_setn(req->headers_out, "X-MS-RP", list);
        apr_table_setn(req->headers_out, "MS-ASProtocolVersions", list);
        apr_table_setn(req->headers_out, "MS-ASProtocolCommands", eas_commands_str(req->pool, now));
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(00032) "%s/%s is offered more versions now (%s): X-MS-RP",
                       req->login, req->device->device_id, list);
    }
    return eas_db_exec(req->db, req->pool, NULL,
                       "UPDATE eas.devices SET versions_seen = %s WHERE id = %s::bigint",
                       EAS_DB_ARGS(list, req->device->id));
}

static void refuse(eas_request_t *req, int http_status, int level, const char *why)
{
    req->http_status = http_status;
    req->status_note = why;
    eas_log_printf(req->log, EAS_LOG_MARK, level, APR_SUCCESS,
                   EASLOGNO(00030) "%s %s from %s/%s refused (%d): %s",
                   req->q.cmd_name ? req->q.cmd_name : "request", req->login ? req->login : "-",
                   req->q.device_id ? req->q.device_id : "-",
                   req->q.device_type ? req->q.device_type : "-", http_status, why);
}

/* Checks that need no database: command, version, user, body. */
static int precheck(eas_request_t *req, const cmd_entry_t **entry)
{
    eas_version_set_t offered = eas_request_versions(req);
    eas_wbxml_error_t err;
    const char *user;

    if (req->q.cmd == EAS_CMD_UNKNOWN) {
        refuse(req, 400, EAS_LOG_INFO, "unknown command");
        return 0;
    }

    req->version = req->q.base64 ? req->q.version : eas_version_parse(req->version_hdr);
    if (!req->version) {
        refuse(req, 400, EAS_LOG_INFO, "no valid MS-ASProtocolVersion");
        return 0;
    }
    if (!eas_version_in_set(offered, req->version)) {
        /* MS-ASHTTP: tell the client which versions it may use */
        apr_table_setn(req->headers_out, "MS-ASProtocolVersions",
                       eas_version_set_str(req->pool, offered));
        refuse(req, 400, EAS_LOG_INFO, "protocol version not offered to this device");
        return 0;
    }
    if (req->version < eas_cmd_min_version(req->q.cmd) ||
        req->version > eas_cmd_max_version(req->q.cmd)) {
        refuse(req, 400, EAS_LOG_INFO, "command does not exist in this protocol version");
        return 0;
    }
    if (!cmd_table[req->q.cmd].fn) {
        refuse(req, 501, EAS_LOG_INFO, "command not implemented");
        return 0;
    }
    *entry = &cmd_table[req->q.cmd];

    user = eas_login_normalize(req->pool, req->q.user, 0);
    if (strcmp(user, req->login) &&
        strcmp(eas_login_normalize(req->pool, req->q.user, 1),
               eas_login_normalize(req->pool, req->login, 1))) {
        refuse(req, 403, EAS_LOG_WARNING, "User in the query is not the authenticated user");
        return 0;
    }

    if (req->body_len > 0 && ((*entry)->flags & F_MIME_12) &&
        (req->version < 140 ||
         (req->content_type && !strncasecmp(req->content_type, "message/rfc822", 14)))) {
        req->mime_body = 1;
    }
    else if (req->body_len > 0) {
        if (eas_wbxml_decode(req->pool, req->body, req->body_len, &req->cfg->wbxml, &req->doc,
                             &err) != EAS_WBXML_OK) {
            eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                           EASLOGNO(00031) "malformed WBXML in %s: %s at byte %" APR_SIZE_T_FMT,
                           req->q.cmd_name, eas_wbxml_strerror(err.code), err.offset);
            refuse(req, 400, EAS_LOG_INFO, "malformed WBXML body");
            return 0;
        }
        if (req->doc->tag != (*entry)->root) {
            refuse(req, 400, EAS_LOG_INFO, "body is not a document of this command");
            return 0;
        }
    }
    else if ((*entry)->flags & F_BODY) {
        refuse(req, 400, EAS_LOG_INFO, "command needs a body");
        return 0;
    }
    return 1;
}

/* Budgets (MS-ASHTTP 503 + Retry-After, X-MS-ASThrottle). */
static int throttle(eas_request_t *req, const eas_device_touch_t *t)
{
    const eas_config_t *cfg = req->cfg;
    const char *reason = NULL;

    if (t->throttled)
        reason = "CommandFrequency";
    else if (cfg->budget_requests > 0 && t->budget_used > cfg->budget_requests)
        reason = "CommandFrequency";
    else if (cfg->user_budget_requests > 0 && t->user_budget_used > cfg->user_budget_requests)
        reason = "RecentCommands";
    if (!reason)
        return 0;
    if (!t->throttled)
        eas_device_throttle(req, cfg->budget_penalty);
    apr_table_setn(req->headers_out, "Retry-After", apr_itoa(req->pool, cfg->budget_penalty));
    apr_table_setn(req->headers_out, "X-MS-ASThrottle", reason);
    refuse(req, 503, EAS_LOG_WARNING, "request budget exceeded");
    return 1;
}

static void process(eas_request_t *req)
{
    const cmd_entry_t *entry = NULL;
    eas_device_touch_t touch;
    apr_status_t rv;
    int st;

    req->http_status = 200;
    if (!precheck(req, &entry))
        return;

    if ((rv = eas_db_begin(req->db)) != APR_SUCCESS) {
        apr_table_setn(req->headers_out, "Retry-After", "30");
        refuse(req, 503, EAS_LOG_ERR, "database unavailable");
        return;
    }
    if ((rv = eas_device_touch(req, &touch)) != APR_SUCCESS)
        goto server_error;
    /* the user's own ceiling is known only now */
    if (!eas_version_in_set(eas_request_versions(req), req->version)) {
        apr_table_setn(req->headers_out, "MS-ASProtocolVersions",
                       eas_version_set_str(req->pool, eas_request_versions(req)));
        eas_db_commit(req->db);
        refuse(req, 400, EAS_LOG_INFO, "protocol version above this user's ceiling");
        return;
    }
    if ((rv = announce_versions(req)) != APR_SUCCESS)
        goto server_error;
    if (throttle(req, &touch)) {
        eas_db_commit(req->db);
        return;
    }

    /* A quarantined device may still provision and describe itself, so the
     * administrator who decides about it sees what it is. */
    if (!strcmp(req->device->access, "block") ||
        (!strcmp(req->device->access, "quarantine") && req->q.cmd != EAS_CMD_PROVISION &&
         req->q.cmd != EAS_CMD_SETTINGS)) {
        eas_db_commit(req->db);
        eas_status_respond(req, EAS_STATUS_DEVICE_BLOCKED);
        refuse(req, req->http_status, EAS_LOG_NOTICE,
               !strcmp(req->device->access, "block") ? "device blocked" : "device quarantined");
        return;
    }

    if (!(entry->flags & F_NO_PROVCHECK) &&
        (st = eas_provision_check(req)) != EAS_STATUS_OK) {
        eas_db_commit(req->db);
        eas_status_respond(req, st);
        return;
    }

    /* One live Ping or Sync per device: this one ends any older one. */
    if ((req->q.cmd == EAS_CMD_PING || req->q.cmd == EAS_CMD_SYNC) && !req->rerun &&
        (rv = eas_push_claim(req)) != APR_SUCCESS)
        goto server_error;

    rv = entry->fn(req);
    if (rv == APR_SUCCESS && (rv = eas_db_commit(req->db)) == APR_SUCCESS)
        return;
    if (rv == APR_EAGAIN) {
        eas_db_rollback(req->db);
        req->out = NULL;
        apr_table_setn(req->headers_out, "Retry-After", "30");
        refuse(req, 503, EAS_LOG_WARNING, "a backend is unavailable");
        eas_device_error(req, "503", "backend unavailable");
        return;
    }

server_error:
    eas_db_rollback(req->db);
    req->out = NULL;
    refuse(req, 500, EAS_LOG_ERR,
           req->db->error ? apr_pstrcat(req->pool, "server error: ", req->db->error, NULL)
                          : "server error");
    eas_device_error(req, "500", req->status_note);
}

void eas_request_process(eas_request_t *req)
{
    process(req);
    eas_health_record(req);
}
