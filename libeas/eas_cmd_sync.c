/*
 * Sync, GetItemEstimate and MoveItems (MS-ASCMD 2.2.1.21, 2.2.1.9,
 * 2.2.1.12): requests in, responses out; the engine (eas_sync.h) does the
 * work collection by collection.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_sync.h"

/* A Sync request as the engine sees it, after empty and Partial requests
 * have been completed from the cache. */
typedef struct {
    apr_array_header_t *colls;    /* eas_sync_creq_t */
    int window;                   /* Sync WindowSize, -1 absent */
    int wait;                     /* minutes, -1 absent */
    int heartbeat;                /* seconds, -1 absent */
    int partial;
    int duplicate;                /* a CollectionId twice */
} sync_req_t;

static int num(const char *s, int dflt)
{
    char *end;
    long v;

    if (!s || !*s)
        return dflt;
    v = strtol(s, &end, 10);
    return *end || v < 0 || v > 100000000 ? dflt : (int)v;
}

/* MS-ASCMD 2.2.3.84: an empty GetChanges means 1. */
static int flag(const eas_node_t *n)
{
    if (!n)
        return -1;
    return !n->len ? 1 : num(n->text, 1) != 0;
}

static void parse_collection(const eas_node_t *n, eas_sync_creq_t *cr)
{
    const eas_node_t *o;

    memset(cr, 0, sizeof(*cr));
    cr->sync_key = eas_node_child_text(n, EAS_AirSync_SyncKey);
    cr->collection_id = eas_node_child_text(n, EAS_AirSync_CollectionId);
    cr->cls = eas_node_child_text(n, EAS_AirSync_Class);
    cr->get_changes = flag(eas_node_child(n, EAS_AirSync_GetChanges));
    cr->window_size = num(eas_node_child_text(n, EAS_AirSync_WindowSize), -1);
    cr->deletes_as_moves = flag(eas_node_child(n, EAS_AirSync_DeletesAsMoves));
    cr->supported = eas_node_child(n, EAS_AirSync_Supported);
    cr->commands = eas_node_child(n, EAS_AirSync_Commands);
    /* Two Options only when one is for SMS (MS-ASCMD 2.2.3.125.6). */
    for (o = eas_node_child(n, EAS_AirSync_Options); o; o = eas_node_next_same(o)) {
        const char *cls = eas_node_child_text(o, EAS_AirSync_Class);
        if (!cls || strcmp(cls, "SMS")) {
            cr->options = o;
            break;
        }
    }
}

static void parse_sync(apr_pool_t *p, const eas_node_t *doc, sync_req_t *sr)
{
    const eas_node_t *cs = eas_node_child(doc, EAS_AirSync_Collections), *n;
    int i;

    sr->colls = apr_array_make(p, 8, sizeof(eas_sync_creq_t));
    sr->window = num(eas_node_child_text(doc, EAS_AirSync_WindowSize), -1);
    sr->wait = eas_node_child(doc, EAS_AirSync_Wait)
                   ? num(eas_node_child_text(doc, EAS_AirSync_Wait), 0) : -1;
    sr->heartbeat = eas_node_child(doc, EAS_AirSync_HeartbeatInterval)
                        ? num(eas_node_child_text(doc, EAS_AirSync_HeartbeatInterval), 0) : -1;
    sr->partial = eas_node_child(doc, EAS_AirSync_Partial) != NULL;
    sr->duplicate = 0;
    for (n = cs ? cs->first : NULL; n; n = n->next) {
        eas_sync_creq_t *cr;
        if (n->tag != EAS_AirSync_Collection)
            continue;
        cr = apr_array_push(sr->colls);
        parse_collection(n, cr);
        for (i = 0; i < sr->colls->nelts - 1; i++)
            if (cr->collection_id &&
                !strcmp(APR_ARRAY_IDX(sr->colls, i, eas_sync_creq_t).collection_id
                            ? APR_ARRAY_IDX(sr->colls, i, eas_sync_creq_t).collection_id : "",
                        cr->collection_id))
                sr->duplicate = 1;
    }
}

/* ---- the cache of the last request (empty and Partial Sync) ----------- */

static void write_flag(eas_wbxml_writer_t *w, eas_tag_t tag, int v)
{
    if (v >= 0)
        eas_wbxml_text(w, tag, v ? "1" : "0");
}

static apr_status_t cache_save(eas_request_t *req, const sync_req_t *sr)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(req->pool, NULL, NULL);
    const char *data;
    char *b64;
    apr_size_t len;
    int i;

    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_start(w, EAS_AirSync_Collections);
    for (i = 0; i < sr->colls->nelts; i++) {
        const eas_sync_creq_t *cr = &APR_ARRAY_IDX(sr->colls, i, eas_sync_creq_t);
        eas_wbxml_start(w, EAS_AirSync_Collection);
        if (cr->cls)
            eas_wbxml_text(w, EAS_AirSync_Class, cr->cls);
        eas_wbxml_text(w, EAS_AirSync_SyncKey, cr->sync_key);
        eas_wbxml_text(w, EAS_AirSync_CollectionId, cr->collection_id);
        write_flag(w, EAS_AirSync_GetChanges, cr->get_changes);
        write_flag(w, EAS_AirSync_DeletesAsMoves, cr->deletes_as_moves);
        if (cr->window_size >= 0)
            eas_wbxml_textf(w, EAS_AirSync_WindowSize, "%d", cr->window_size);
        if (cr->options)
            eas_wbxml_node(w, cr->options);
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
    if (sr->window >= 0)
        eas_wbxml_textf(w, EAS_AirSync_WindowSize, "%d", sr->window);
    if (sr->wait >= 0)
        eas_wbxml_textf(w, EAS_AirSync_Wait, "%d", sr->wait);
    if (sr->heartbeat >= 0)
        eas_wbxml_textf(w, EAS_AirSync_HeartbeatInterval, "%d", sr->heartbeat);
    eas_wbxml_end(w);
    if (eas_wbxml_finish(w, &data, &len) != APR_SUCCESS)
        return APR_EGENERAL;
    b64 = apr_palloc(req->pool, (apr_size_t)apr_base64_encode_len((int)len));
    apr_base64_encode(b64, data, (int)len);
    return eas_db_exec(req->db, req->pool, NULL,
                       "INSERT INTO eas.sync_cache (device_id, request) VALUES "
                       "(%s::bigint, decode(%s, 'base64')) ON CONFLICT (device_id) DO UPDATE "
                       "SET request = EXCLUDED.request, updated_at = now()",
                       EAS_DB_ARGS(req->device->id, b64));
}

/* *found 0 when the device has no cached request. */
static apr_status_t cache_load(eas_request_t *req, sync_req_t *sr, int *found)
{
    const char *b64;
    eas_node_t *doc;
    apr_status_t rv;
    char *bytes;
    int len;

    *found = 0;
    rv = eas_db_value(req->db, req->pool, &b64,
                      "SELECT translate(encode(request, 'base64'), E'\\n', '') "
                      "FROM eas.sync_cache WHERE device_id = %s::bigint",
                      EAS_DB_ARGS(req->device->id));
    if (rv != APR_SUCCESS || !b64)
        return rv;
    bytes = apr_palloc(req->pool, (apr_size_t)apr_base64_decode_len(b64) + 1);
    len = apr_base64_decode(bytes, b64);
    if (eas_wbxml_decode(req->pool, bytes, (apr_size_t)len, NULL, &doc, NULL) != EAS_WBXML_OK)
        return APR_SUCCESS;
    parse_sync(req->pool, doc, sr);
    *found = 1;
    return APR_SUCCESS;
}

/* MS-ASCMD 2.2.3.131: collections the Partial request leaves out keep
 * what the previous request said about them. */
static void merge_partial(apr_pool_t *p, sync_req_t *sr, const sync_req_t *cached)
{
    int i, j;

    for (i = 0; i < cached->colls->nelts; i++) {
        const eas_sync_creq_t *c = &APR_ARRAY_IDX(cached->colls, i, eas_sync_creq_t);
        int mentioned = 0;
        for (j = 0; j < sr->colls->nelts && !mentioned; j++) {
            const char *id = APR_ARRAY_IDX(sr->colls, j, eas_sync_creq_t).collection_id;
            mentioned = id && c->collection_id && !strcmp(id, c->collection_id);
        }
        if (!mentioned)
            *(eas_sync_creq_t *)apr_array_push(sr->colls) = *c;
    }
    if (sr->window < 0)
        sr->window = cached->window;
    if (sr->wait < 0 && sr->heartbeat < 0) {
        sr->wait = cached->wait;
        sr->heartbeat = cached->heartbeat;
    }
    (void)p;
}

/* ---- Sync --------------------------------------------------------------- */

static void sync_status(eas_request_t *req, int status, int limit)
{
    eas_wbxml_writer_t *w = eas_request_writer(req);

    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_textf(w, EAS_AirSync_Status, "%d", status);
    if (limit >= 0)
        eas_wbxml_textf(w, EAS_AirSync_Limit, "%d", limit);
    eas_wbxml_end(w);
    req->status_note = apr_itoa(req->pool, status);
}

/* Status 14 (MS-ASCMD 2.2.3.177.17) when the long-poll interval is outside
 * EASHeartbeatBounds; *seconds the wait otherwise (0: none). */
static int check_wait(eas_request_t *req, const sync_req_t *sr, int *seconds)
{
    int lo = req->cfg->heartbeat_min, hi = req->cfg->heartbeat_max;

    *seconds = 0;
    if (sr->wait >= 0) {
        /* Wait is in minutes (MS-ASCMD 2.2.3.198) */
        if (sr->wait * 60 < lo) {
            sync_status(req, EAS_SYNC_BAD_WAIT, (lo + 59) / 60);
            return 0;
        }
        if (sr->wait * 60 > hi) {
            sync_status(req, EAS_SYNC_BAD_WAIT, hi / 60);
            return 0;
        }
        *seconds = sr->wait * 60;
    }
    else if (sr->heartbeat >= 0) {
        if (sr->heartbeat < lo || sr->heartbeat > hi) {
            sync_status(req, EAS_SYNC_BAD_WAIT, sr->heartbeat < lo ? lo : hi);
            return 0;
        }
        *seconds = sr->heartbeat;
    }
    return 1;
}

typedef struct {
    const char *data;
    apr_size_t len;
} frag_t;

static apr_status_t start_response(eas_request_t *req, eas_wbxml_writer_t **w)
{
    *w = eas_request_writer(req);
    eas_wbxml_start(*w, EAS_AirSync_Sync);
    eas_wbxml_start(*w, EAS_AirSync_Collections);
    return eas_wbxml_status(*w);
}

apr_status_t eas_cmd_sync(eas_request_t *req)
{
    sync_req_t sr, cached;
    eas_folder_t **folders;
    apr_array_header_t *locks, *held;
    eas_wbxml_writer_t *w = NULL;
    apr_status_t rv;
    int i, found, wait, budget, total = 0;
    apr_time_t last_flush = apr_time_now();
    apr_pool_t *cp;

    if (!req->doc) {
        /* MS-ASCMD 2.2.1.21.1: the empty request repeats the cached one. */
        if (req->version < 121) {
            sync_status(req, EAS_SYNC_PROTOCOL, -1);
            return APR_SUCCESS;
        }
        if ((rv = cache_load(req, &sr, &found)) != APR_SUCCESS)
            return rv;
        if (!found) {
            sync_status(req, EAS_SYNC_INCOMPLETE, -1);
            return APR_SUCCESS;
        }
    }
    else {
        parse_sync(req->pool, req->doc, &sr);
        if ((sr.wait >= 0 && sr.heartbeat >= 0) || sr.duplicate ||
            (!sr.partial && !sr.colls->nelts)) {
            sync_status(req, EAS_SYNC_PROTOCOL, -1);
            return APR_SUCCESS;
        }
        if (sr.partial) {
            if ((rv = cache_load(req, &cached, &found)) != APR_SUCCESS)
                return rv;
            if (!found) {
                sync_status(req, EAS_SYNC_INCOMPLETE, -1);
                return APR_SUCCESS;
            }
            merge_partial(req->pool, &sr, &cached);
        }
    }
    for (i = 0; i < sr.colls->nelts; i++) {
        const eas_sync_creq_t *cr = &APR_ARRAY_IDX(sr.colls, i, eas_sync_creq_t);
        if (!cr->sync_key || !cr->collection_id) {
            sync_status(req, EAS_SYNC_PROTOCOL, -1);
            return APR_SUCCESS;
        }
    }
    if (sr.colls->nelts > req->cfg->max_folders) {
        sync_status(req, EAS_SYNC_TOO_MANY, -1);
        return APR_SUCCESS;
    }
    if (!check_wait(req, &sr, &wait))
        return APR_SUCCESS;

    /* Every collection must be a folder the device knows (Status 12). */
    folders = apr_pcalloc(req->pool, sizeof(*folders) * (apr_size_t)(sr.colls->nelts + 1));
    locks = apr_array_make(req->pool, 4, sizeof(char *));
    for (i = 0; i < sr.colls->nelts; i++) {
        const eas_sync_creq_t *cr = &APR_ARRAY_IDX(sr.colls, i, eas_sync_creq_t);
        if ((rv = eas_folders_get(req, cr->collection_id, &folders[i])) != APR_SUCCESS)
            return rv;
        if (!folders[i]) {
            eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                           EASLOGNO(01520) "Sync of %s/%s names collection %s, which is not a "
                           "folder of the user: Status 12", req->login, req->device->device_id,
                           cr->collection_id);
            sync_status(req, EAS_SYNC_HIERARCHY, -1);
            return APR_SUCCESS;
        }
        if (cr->commands)
            APR_ARRAY_PUSH(locks, const char *) = folders[i]->id;
    }
    if ((rv = eas_sync_lock_folders(req, locks)) != APR_SUCCESS)
        return rv;

    /* Collections are answered in order; nothing is written until one has
     * something to say, so that a 12.1+ Sync with nothing at all to say
     * gets an empty response (MS-ASCMD 2.2.1.21.2) or waits. */
    budget = sr.window < 0 ? -1 : sr.window == 0 || sr.window > req->cfg->max_window
                                      ? req->cfg->max_window : sr.window;
    held = apr_array_make(req->pool, sr.colls->nelts, sizeof(frag_t));
    for (i = 0; i < sr.colls->nelts; i++) {
        const eas_sync_creq_t *cr = &APR_ARRAY_IDX(sr.colls, i, eas_sync_creq_t);
        int window = cr->window_size < 0 ? 100 : cr->window_size;
        int sent, said;
        frag_t f;

        /* MS-ASCMD 2.2.3.199: absent means 100, 0 and above 512 mean 512 */
        if (window == 0 || window > 512)
            window = 512;
        if (window > req->cfg->max_window)
            window = req->cfg->max_window;
        if (budget >= 0 && window > budget)
            window = budget;
        /* Each collection's work in its own pool: only what is held back
         * for the response outlives it. */
        apr_pool_create(&cp, req->pool);
        rv = eas_sync_collection(req, cr, folders[i], window, cp, &f.data, &f.len, &sent, &said);
        if (rv != APR_SUCCESS)
            return rv;
        total += sent;
        if (budget >= 0)
            budget -= sent;
        if (!w && (said || req->version < 121)) {
            int j;
            if ((rv = start_response(req, &w)) != APR_SUCCESS)
                return rv;
            for (j = 0; j < held->nelts; j++) {
                const frag_t *h = &APR_ARRAY_IDX(held, j, frag_t);
                if ((rv = eas_sync_emit(w, cp, h->data, h->len)) != APR_SUCCESS)
                    return rv;
            }
        }
        if (w) {
            if ((rv = eas_sync_emit(w, cp, f.data, f.len)) != APR_SUCCESS)
                return rv;
            /* Clients give up after ~30 s of silence: what is ready goes out
             * when the last bytes left a while ago, full chunk or not. */
            if (apr_time_now() - last_flush > apr_time_from_sec(5)) {
                if ((rv = eas_wbxml_flush(w)) != APR_SUCCESS)
                    return rv;
                last_flush = apr_time_now();
            }
        }
        else {
            f.data = apr_pmemdup(req->pool, f.data, f.len);
            *(frag_t *)apr_array_push(held) = f;
        }
        apr_pool_destroy(cp);
    }
    if (req->doc) {
        /* The cache keeps the keys as sent, so that an empty request after
         * a lost answer is answered again; a key 0 becomes the key it was
         * answered with, or every later empty or Partial request would
         * start that collection over. */
        for (i = 0; i < sr.colls->nelts; i++) {
            eas_sync_creq_t *cr = &APR_ARRAY_IDX(sr.colls, i, eas_sync_creq_t);
            const char *k;
            if (strcmp(cr->sync_key, "0"))
                continue;
            if ((rv = eas_db_value(req->db, req->pool, &k,
                                   "SELECT '{' || generation || '}' || sync_key "
                                   "FROM eas.collections WHERE device_id = %s::bigint "
                                   "AND folder_id = %s::bigint",
                                   EAS_DB_ARGS(req->device->id, folders[i]->id))) != APR_SUCCESS)
                return rv;
            if (k && strlen(k) > 2 && !strcmp(k + strlen(k) - 2, "}1"))
                cr->sync_key = k;
        }
        if ((rv = cache_save(req, &sr)) != APR_SUCCESS)
            return rv;
    }
    if (w) {
        eas_wbxml_end(w);
        eas_wbxml_end(w);
        req->status_note = apr_psprintf(req->pool, "1 (%d changes)", total);
        return eas_wbxml_status(w);
    }
    if (wait > 0 && !req->wait_expired) {
        /* Nothing yet: wait like a Ping for a change in these folders. */
        req->wait_seconds = wait;
        req->wait_folders = apr_array_make(req->pool, sr.colls->nelts, sizeof(char *));
        req->wait_mailboxes = apr_array_make(req->pool, 1, sizeof(char *));
        for (i = 0; i < sr.colls->nelts; i++) {
            APR_ARRAY_PUSH(req->wait_folders, const char *) = folders[i]->id;
            if (folders[i]->imap_name)
                APR_ARRAY_PUSH(req->wait_mailboxes, const char *) = folders[i]->imap_name;
        }
        req->status_note = "waiting";
        return APR_SUCCESS;
    }
    req->status_note = "1 (empty)";
    return APR_SUCCESS;
}

/* ---- GetItemEstimate ------------------------------------------------- */

apr_status_t eas_cmd_getitemestimate(eas_request_t *req)
{
    const eas_node_t *cs = eas_node_child(req->doc, EAS_GetItemEstimate_Collections), *n;
    eas_wbxml_writer_t *w;
    apr_status_t rv;

    if (!cs || !cs->first) {
        /* MS-ASCMD 2.2.3.177.8: 2, a collection was invalid */
        eas_cmd_status_only(req, 2);
        return APR_SUCCESS;
    }
    w = eas_request_writer(req);
    eas_wbxml_start(w, EAS_GetItemEstimate_GetItemEstimate);
    for (n = cs->first; n; n = n->next) {
        const char *id = eas_node_child_text(n, EAS_GetItemEstimate_CollectionId);
        const char *key = eas_node_child_text(n, EAS_AirSync_SyncKey);
        const eas_node_t *options = eas_node_child(n, EAS_AirSync_Options);
        int status = 2, estimate = 0;

        if (n->tag != EAS_GetItemEstimate_Collection)
            continue;
        /* Before 14.0 FilterType sits in the Collection itself. */
        if (!options && eas_node_child(n, EAS_AirSync_FilterType))
            options = n;
        if (id && (rv = eas_sync_estimate(req, id, key, options, &status, &estimate)) !=
                      APR_SUCCESS)
            return rv;
        eas_wbxml_start(w, EAS_GetItemEstimate_Response);
        eas_wbxml_textf(w, EAS_GetItemEstimate_Status, "%d", status);
        eas_wbxml_start(w, EAS_GetItemEstimate_Collection);
        eas_wbxml_text(w, EAS_GetItemEstimate_CollectionId, id ? id : "");
        if (status == 1)
            eas_wbxml_textf(w, EAS_GetItemEstimate_Estimate, "%d", estimate);
        eas_wbxml_end(w);
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
    req->status_note = "1";
    return eas_wbxml_status(w);
}

/* ---- MoveItems ---------------------------------------------------------- */

apr_status_t eas_cmd_moveitems(eas_request_t *req)
{
    const eas_node_t *n;
    apr_array_header_t *ids = apr_array_make(req->pool, 4, sizeof(char *));
    eas_wbxml_writer_t *w;
    apr_status_t rv;
    int moved = 0, count = 0;

    /* All folders involved are locked first, in id order (no deadlock with
     * another request moving the other way). */
    for (n = req->doc->first; n; n = n->next) {
        const char *src = eas_node_child_text(n, EAS_Move_SrcFldId);
        const char *dst = eas_node_child_text(n, EAS_Move_DstFldId);
        if (n->tag != EAS_Move_Move)
            continue;
        if (src && *src && strspn(src, "0123456789") == strlen(src) && strlen(src) < 19)
            APR_ARRAY_PUSH(ids, const char *) = src;
        if (dst && *dst && strspn(dst, "0123456789") == strlen(dst) && strlen(dst) < 19)
            APR_ARRAY_PUSH(ids, const char *) = dst;
    }
    if ((rv = eas_sync_lock_folders(req, ids)) != APR_SUCCESS)
        return rv;

    w = eas_request_writer(req);
    eas_wbxml_start(w, EAS_Move_MoveItems);
    for (n = req->doc->first; n; n = n->next) {
        const char *src_msg = eas_node_child_text(n, EAS_Move_SrcMsgId);
        const char *src = eas_node_child_text(n, EAS_Move_SrcFldId);
        const char *dst = eas_node_child_text(n, EAS_Move_DstFldId);
        const char *dst_id = NULL;
        int status = 1;

        if (n->tag != EAS_Move_Move)
            continue;
        count++;
        if (src_msg && src && dst &&
            (rv = eas_sync_move(req, src_msg, src, dst, &status, &dst_id)) != APR_SUCCESS)
            return rv;
        moved += status == 3;
        eas_wbxml_start(w, EAS_Move_Response);
        eas_wbxml_text(w, EAS_Move_SrcMsgId, src_msg ? src_msg : "");
        eas_wbxml_textf(w, EAS_Move_Status, "%d", status);
        if (dst_id)
            eas_wbxml_text(w, EAS_Move_DstMsgId, dst_id);
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
    req->status_note = apr_psprintf(req->pool, "%d of %d moved", moved, count);
    return eas_wbxml_status(w);
}
