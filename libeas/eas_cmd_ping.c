/*
 * Ping (MS-ASCMD 2.2.1.13): the device names folders and a heartbeat; the
 * answer comes when one of the folders changes (Status 2 with the folders)
 * or the heartbeat ends (Status 1).  This file decides what to answer; how
 * the request waits in between is the glue's business (eas_request.h, the
 * long-poll contract).  Parameters a Ping leaves out come from the
 * device's previous Ping (3.1.5.8), kept in eas.ping_cache.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_pending.h"
#include "eas_push.h"

/* Ping Status values (MS-ASCMD 2.2.3.177.11). */
enum {
    PING_EXPIRED = 1, PING_CHANGES = 2, PING_MISSING = 3, PING_SYNTAX = 4,
    PING_BAD_HEARTBEAT = 5, PING_TOO_MANY = 6, PING_HIERARCHY = 7, PING_SERVER = 8
};

typedef struct {
    int heartbeat;                /* 0: not given */
    apr_array_header_t *ids;      /* const char *, NULL: not given */
    apr_array_header_t *classes;  /* const char *, parallel to ids */
} ping_args_t;

static void respond(eas_request_t *req, int status, eas_tag_t extra, int value)
{
    eas_wbxml_writer_t *w = eas_request_writer(req);

    eas_wbxml_start(w, EAS_Ping_Ping);
    eas_wbxml_textf(w, EAS_Ping_Status, "%d", status);
    if (extra)
        eas_wbxml_textf(w, extra, "%d", value);
    eas_wbxml_end(w);
    req->status_note = apr_itoa(req->pool, status);
}

static int all_digits(const char *s, apr_size_t max)
{
    apr_size_t n = strspn(s, "0123456789");

    return n > 0 && n <= max && s[n] == '\0';
}

static int word(const char *s)
{
    apr_size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    return n > 0 && n <= 32 && s[n] == '\0';
}

/* The request body; returns a Ping Status when it is malformed, else 0. */
static int parse_request(eas_request_t *req, ping_args_t *a)
{
    const eas_node_t *folders, *f;
    const char *hb, *id, *cls;

    memset(a, 0, sizeof(*a));
    if (!req->doc)
        return 0;
    if ((hb = eas_node_child_text(req->doc, EAS_Ping_HeartbeatInterval))) {
        if (!all_digits(hb, 6) || (a->heartbeat = atoi(hb)) == 0)
            return PING_SYNTAX;
    }
    if (!(folders = eas_node_child(req->doc, EAS_Ping_Folders)))
        return 0;
    a->ids = apr_array_make(req->pool, 8, sizeof(const char *));
    a->classes = apr_array_make(req->pool, 8, sizeof(const char *));
    for (f = eas_node_child(folders, EAS_Ping_Folder); f; f = eas_node_next_same(f)) {
        id = eas_node_child_text(f, EAS_Ping_Id);
        cls = eas_node_child_text(f, EAS_Ping_Class);
        if (!id || !cls || !word(cls))
            return PING_SYNTAX;
        /* A ServerId this server never hands out cannot name a folder:
         * the device's hierarchy is out of date. */
        APR_ARRAY_PUSH(a->ids, const char *) = all_digits(id, 18) ? id : "0";
        APR_ARRAY_PUSH(a->classes, const char *) = cls;
    }
    if (a->ids->nelts == 0)
        return PING_SYNTAX;
    return 0;
}

static apr_array_header_t *split(apr_pool_t *p, const char *list)
{
    apr_array_header_t *arr = apr_array_make(p, 8, sizeof(const char *));
    char *last, *tok, *s = apr_pstrdup(p, list);

    for (tok = apr_strtok(s, ",", &last); tok; tok = apr_strtok(NULL, ",", &last))
        APR_ARRAY_PUSH(arr, const char *) = tok;
    return arr;
}

static const char *pg_array(apr_pool_t *p, const apr_array_header_t *arr)
{
    return apr_pstrcat(p, "{", apr_array_pstrcat(p, arr, ','), "}", NULL);
}

/* Fills what the request left out from the cache and stores what it gave. */
static apr_status_t merge_cache(eas_request_t *req, ping_args_t *a)
{
    eas_db_rows_t *rows;
    const char *hb, *ids, *classes;
    apr_status_t rv;
    int given = a->heartbeat || a->ids;

    rv = eas_db_select(req->db, req->pool, &rows,
                       "SELECT heartbeat, array_to_string(folders, ','), "
                       "array_to_string(classes, ',') FROM eas.ping_cache "
                       "WHERE device = %s::bigint", EAS_DB_ARGS(req->device->id));
    if (rv != APR_SUCCESS)
        return rv;
    hb = eas_db_val(rows, 0, 0);
    ids = eas_db_val(rows, 0, 1);
    classes = eas_db_val(rows, 0, 2);
    if (!a->heartbeat && hb)
        a->heartbeat = atoi(hb);
    if (!a->ids && ids && *ids && classes) {
        a->ids = split(req->pool, ids);
        a->classes = split(req->pool, classes);
        if (a->classes->nelts != a->ids->nelts)
            a->ids = a->classes = NULL;
    }
    if (!given || req->rerun)
        return APR_SUCCESS;
    return eas_db_exec(req->db, req->pool, NULL,
                       "INSERT INTO eas.ping_cache (device, heartbeat, folders, classes) "
                       "VALUES (%s::bigint, %s::int, %s::bigint[], %s::text[]) "
                       "ON CONFLICT (device) DO UPDATE SET heartbeat = EXCLUDED.heartbeat, "
                       "folders = EXCLUDED.folders, classes = EXCLUDED.classes, updated_at = now()",
                       EAS_DB_ARGS(req->device->id,
                                   a->heartbeat ? apr_itoa(req->pool, a->heartbeat) : NULL,
                                   a->ids ? pg_array(req->pool, a->ids) : NULL,
                                   a->classes ? pg_array(req->pool, a->classes) : NULL));
}

/* The watched folders as eas_pending_t, in request order; *missing when one
 * is not (or no longer) a folder of the user. */
static apr_status_t load_folders(eas_request_t *req, const ping_args_t *a,
                                 apr_array_header_t **items, int *missing)
{
    eas_db_rows_t *rows;
    eas_pending_t *it;
    apr_status_t rv;
    int i, r;

    *missing = 0;
    rv = eas_db_select(req->db, req->pool, &rows,
                       "SELECT id, parent_id, display_name, imap_name, class, type "
                       "FROM eas.folders WHERE user_id = %s::bigint AND NOT deleted "
                       "AND id = ANY(%s::bigint[])",
                       EAS_DB_ARGS(req->user->id, pg_array(req->pool, a->ids)));
    if (rv != APR_SUCCESS)
        return rv;
    *items = apr_array_make(req->pool, a->ids->nelts, sizeof(eas_pending_t));
    for (i = 0; i < a->ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(a->ids, i, const char *);
        eas_folder_t *f = NULL;

        for (r = 0; r < rows->nrows && !f; r++)
            if (!strcmp(eas_db_val(rows, r, 0), id)) {
                f = apr_pcalloc(req->pool, sizeof(*f));
                f->id = eas_db_val(rows, r, 0);
                f->parent_id = eas_db_val(rows, r, 1);
                f->display_name = eas_db_val(rows, r, 2);
                f->imap_name = eas_db_val(rows, r, 3);
                f->cls = eas_db_val(rows, r, 4);
                f->type = atoi(eas_db_val(rows, r, 5));
            }
        if (!f) {
            *missing = 1;
            return APR_SUCCESS;
        }
        it = apr_array_push(*items);
        memset(it, 0, sizeof(*it));
        it->folder = f;
    }
    return APR_SUCCESS;
}

static void changes(eas_request_t *req, const apr_array_header_t *items)
{
    const eas_pending_t *it = (const eas_pending_t *)items->elts;
    eas_wbxml_writer_t *w = eas_request_writer(req);
    int i;

    eas_wbxml_start(w, EAS_Ping_Ping);
    eas_wbxml_text(w, EAS_Ping_Status, "2");
    eas_wbxml_start(w, EAS_Ping_Folders);
    for (i = 0; i < items->nelts; i++)
        if (it[i].changed)
            eas_wbxml_text(w, EAS_Ping_Folder, it[i].folder->id);
    eas_wbxml_end(w);
    eas_wbxml_end(w);
    req->status_note = "2";
}

static void wait_for(eas_request_t *req, const ping_args_t *a, const apr_array_header_t *items)
{
    const eas_pending_t *it = (const eas_pending_t *)items->elts;
    int i;

    req->wait_seconds = a->heartbeat;
    req->wait_folders = apr_array_make(req->pool, items->nelts, sizeof(const char *));
    req->wait_mailboxes = apr_array_make(req->pool, 4, sizeof(const char *));
    req->wait_mail_states = apr_array_make(req->pool, 4, sizeof(const char *));
    for (i = 0; i < items->nelts; i++) {
        APR_ARRAY_PUSH(req->wait_folders, const char *) = it[i].folder->id;
        if (it[i].folder->imap_name) {
            APR_ARRAY_PUSH(req->wait_mailboxes, const char *) = it[i].folder->imap_name;
            APR_ARRAY_PUSH(req->wait_mail_states, const char *) = it[i].state;
        }
    }
    req->status_note = "wait";
}

apr_status_t eas_cmd_ping(eas_request_t *req)
{
    const eas_config_t *cfg = req->cfg;
    apr_array_header_t *items;
    const eas_pending_t *it;
    ping_args_t a;
    apr_status_t rv;
    int st, missing, superseded = 0, any = 0, i;

    if ((st = parse_request(req, &a)) != 0) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01601) "malformed Ping from %s/%s: Status %d", req->login,
                       req->device->device_id, st);
        respond(req, st, 0, 0);
        return APR_SUCCESS;
    }
    if ((rv = merge_cache(req, &a)) != APR_SUCCESS)
        return rv;
    if (!a.heartbeat || !a.ids) {
        respond(req, PING_MISSING, 0, 0);
        return APR_SUCCESS;
    }
    /* Out of bounds: Status 5 with the bound it crossed (2.2.3.88.1). */
    if (a.heartbeat < cfg->heartbeat_min || a.heartbeat > cfg->heartbeat_max) {
        respond(req, PING_BAD_HEARTBEAT, EAS_Ping_HeartbeatInterval,
                a.heartbeat < cfg->heartbeat_min ? cfg->heartbeat_min : cfg->heartbeat_max);
        return APR_SUCCESS;
    }
    if (a.ids->nelts > cfg->max_folders) {
        respond(req, PING_TOO_MANY, EAS_Ping_MaxFolders, cfg->max_folders);
        return APR_SUCCESS;
    }

    /* A device told to wipe, or whose hierarchy an administrator reset,
     * learns it from its next command: FolderSync is the one Status 7
     * asks for (eas_provision_check answers it). */
    if (strcmp(req->device->wipe_state, "none") || req->device->hierarchy_key == 0) {
        respond(req, PING_HIERARCHY, 0, 0);
        return APR_SUCCESS;
    }
    if ((rv = load_folders(req, &a, &items, &missing)) != APR_SUCCESS)
        return rv;
    if (missing) {
        respond(req, PING_HIERARCHY, 0, 0);
        return APR_SUCCESS;
    }

    /* A newer Ping or Sync of the device is the one it listens to: report
     * nothing here, or the change would count as told (MS-ASCMD says
     * nothing of this case; Status 1 only asks for the next Ping). */
    if (req->rerun && (rv = eas_push_superseded(req, &superseded)) != APR_SUCCESS)
        return rv;
    if (superseded) {
        respond(req, PING_EXPIRED, 0, 0);
        req->status_note = "1 superseded";
        return APR_SUCCESS;
    }
    rv = eas_pending_check(req, items);
    if (rv == APR_EAGAIN || req->db->failed)
        return rv;
    if (rv != APR_SUCCESS) {
        respond(req, PING_SERVER, 0, 0);
        return APR_SUCCESS;
    }
    it = (const eas_pending_t *)items->elts;
    for (i = 0; i < items->nelts; i++) {
        if (it[i].gone) {
            respond(req, PING_HIERARCHY, 0, 0);
            return APR_SUCCESS;
        }
        any |= it[i].changed;
    }
    if (any)
        changes(req, items);
    else if (req->wait_expired)
        respond(req, PING_EXPIRED, 0, 0);
    else
        wait_for(req, &a, items);
    return APR_SUCCESS;
}
