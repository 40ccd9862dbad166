/*
 * The Sync engine: one collection of one Sync request at a time, exactly
 * as docs/design-sync.md describes it.  Everything happens inside the
 * request's transaction; the device row lock taken by the pipeline keeps
 * two requests of one device from interleaving.
 */
#include "eas_sync.h"

#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "eas_pim.h"
#include "eas_time.h"

/* bytea columns travel as base64 text (apr_dbd binds text only). */
#define B64(col) "translate(encode(" col ", 'base64'), E'\\n', '')"

const eas_sync_provider_t *eas_sync_provider_for(const char *cls)
{
    if (cls && (!strcmp(cls, "Contacts") || !strcmp(cls, "Calendar") || !strcmp(cls, "Tasks") ||
                !strcmp(cls, "Notes")))
        return &eas_pim_provider;
    return NULL;
}

/* ---- small helpers ------------------------------------------------- */

static const char *b64enc(apr_pool_t *p, const char *data, apr_size_t len)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));

    apr_base64_encode(out, data, (int)len);
    return out;
}

static const char *b64dec(apr_pool_t *p, const char *s, apr_size_t *len)
{
    char *out;

    if (!s) {
        *len = 0;
        return NULL;
    }
    out = apr_palloc(p, (apr_size_t)apr_base64_decode_len(s) + 1);
    *len = (apr_size_t)apr_base64_decode(out, s);
    return out;
}

static const char *i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

static const char *md5_hex(apr_pool_t *p, const void *data, apr_size_t len)
{
    unsigned char d[APR_MD5_DIGESTSIZE];
    char *hex = apr_palloc(p, 2 * APR_MD5_DIGESTSIZE + 1);
    int i;

    apr_md5(d, data, len);
    for (i = 0; i < APR_MD5_DIGESTSIZE; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return hex;
}

/* Our own documents: no element count limit worth hitting. */
static const eas_wbxml_limits_t own_limits = {64, 100000000, 0};

static int int_text(const char *s, int dflt)
{
    char *end;
    long v;

    if (!s || !*s)
        return dflt;
    v = strtol(s, &end, 10);
    return *end || v < 0 || v > 1000000 ? dflt : (int)v;
}

/* ---- options ---------------------------------------------------------- */

static void body_pref_parse(eas_body_pref_t *b, const eas_node_t *n)
{
    const char *ts = eas_node_child_text(n, EAS_AirSyncBase_TruncationSize);

    memset(b, 0, sizeof(*b));
    b->type = int_text(eas_node_child_text(n, EAS_AirSyncBase_Type), 1);
    if (ts && *ts) {
        b->has_truncation = 1;
        b->truncation = (apr_size_t)apr_atoi64(ts);
    }
    b->all_or_none = int_text(eas_node_child_text(n, EAS_AirSyncBase_AllOrNone), 0) == 1;
    b->preview = int_text(eas_node_child_text(n, EAS_AirSyncBase_Preview), 0);
}

void eas_sync_options_parse(eas_sync_options_t *o, const eas_node_t *options, int reset)
{
    const eas_node_t *n;

    if (reset) {
        memset(o, 0, sizeof(*o));
        o->conflict = 1;
        o->truncation = -1;
    }
    for (n = options ? options->first : NULL; n; n = n->next) {
        switch (n->tag) {
        case EAS_AirSync_FilterType:
            o->filter_type = int_text(n->text, 0);
            break;
        case EAS_AirSync_Conflict:
            o->conflict = int_text(n->text, 1) == 0 ? 0 : 1;
            break;
        case EAS_AirSync_MIMESupport:
            o->mime_support = int_text(n->text, 0);
            break;
        case EAS_AirSync_MIMETruncation:
            o->has_mime_truncation = 1;
            o->mime_truncation = int_text(n->text, 8);
            break;
        case EAS_AirSync_Truncation:
            o->truncation = int_text(n->text, -1);
            break;
        case EAS_AirSync_MaxItems:
            o->max_items = int_text(n->text, 0);
            break;
        case EAS_RightsManagement_RightsManagementSupport:
            o->rm_support = int_text(n->text, 0) == 1;
            break;
        case EAS_AirSyncBase_BodyPreference:
            if (o->n_body_prefs < EAS_MAX_BODY_PREFS)
                body_pref_parse(&o->body_prefs[o->n_body_prefs++], n);
            break;
        case EAS_AirSyncBase_BodyPartPreference:
            if (o->n_part_prefs < EAS_MAX_BODY_PREFS)
                body_pref_parse(&o->part_prefs[o->n_part_prefs++], n);
            break;
        default:
            break;
        }
    }
}

/* ---- state ------------------------------------------------------------ */

const char *eas_sync_server_id(eas_sync_coll_t *c, apr_int64_t item)
{
    return apr_psprintf(c->pool, "%s:%" APR_INT64_T_FMT, c->folder->id, item);
}

/* The item key of a ServerId of this collection, -1 if it is not one. */
static apr_int64_t parse_server_id(const eas_sync_coll_t *c, const char *server_id)
{
    apr_size_t flen = strlen(c->folder->id);
    const char *s;
    char *end;
    apr_int64_t v;

    if (!server_id || strncmp(server_id, c->folder->id, flen) || server_id[flen] != ':')
        return -1;
    s = server_id + flen + 1;
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return -1;
    v = apr_strtoi64(s, &end, 10);
    return *end ? -1 : v;
}

apr_status_t eas_sync_view_get(eas_sync_coll_t *c, apr_int64_t item, apr_int64_t *version)
{
    const char *v;
    apr_status_t rv = eas_db_value(c->req->db, c->pool, &v,
                                   "SELECT version FROM eas.sync_items WHERE device_id = %s::bigint "
                                   "AND folder_id = %s::bigint AND item = %s::bigint",
                                   EAS_DB_ARGS(c->req->device->id, c->folder->id,
                                               i64(c->pool, item)));

    *version = v ? apr_atoi64(v) : -1;
    return rv;
}

static apr_status_t view_put(eas_sync_coll_t *c, apr_int64_t item, apr_int64_t version)
{
    return eas_db_exec(c->req->db, c->pool, NULL,
                       "INSERT INTO eas.sync_items (device_id, folder_id, item, version) "
                       "VALUES (%s::bigint, %s::bigint, %s::bigint, %s::bigint) "
                       "ON CONFLICT (device_id, folder_id, item) DO UPDATE SET version = "
                       "EXCLUDED.version",
                       EAS_DB_ARGS(c->req->device->id, c->folder->id, i64(c->pool, item),
                                   i64(c->pool, version)));
}

static apr_status_t view_del(eas_sync_coll_t *c, apr_int64_t item)
{
    return eas_db_exec(c->req->db, c->pool, NULL,
                       "DELETE FROM eas.sync_items WHERE device_id = %s::bigint "
                       "AND folder_id = %s::bigint AND item = %s::bigint",
                       EAS_DB_ARGS(c->req->device->id, c->folder->id, i64(c->pool, item)));
}

/* Records the server changes sent, in two statements whatever their number. */
static apr_status_t view_apply(eas_sync_coll_t *c, const apr_array_header_t *changes)
{
    apr_array_header_t *put_items = apr_array_make(c->pool, changes->nelts, sizeof(char *));
    apr_array_header_t *put_vers = apr_array_make(c->pool, changes->nelts, sizeof(char *));
    apr_array_header_t *dels = apr_array_make(c->pool, changes->nelts, sizeof(char *));
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < changes->nelts; i++) {
        const eas_sync_change_t *ch = &APR_ARRAY_IDX(changes, i, eas_sync_change_t);
        if (ch->op == EAS_CHANGE_ADD || ch->op == EAS_CHANGE_CHANGE) {
            APR_ARRAY_PUSH(put_items, const char *) = i64(c->pool, ch->item);
            APR_ARRAY_PUSH(put_vers, const char *) = i64(c->pool, ch->version);
        }
        else {
            APR_ARRAY_PUSH(dels, const char *) = i64(c->pool, ch->item);
        }
    }
    if (put_items->nelts)
        rv = eas_db_exec(c->req->db, c->pool, NULL,
                         "INSERT INTO eas.sync_items (device_id, folder_id, item, version) "
                         "SELECT %s::bigint, %s::bigint, unnest(%s::bigint[]), "
                         "unnest(%s::bigint[]) ON CONFLICT (device_id, folder_id, item) "
                         "DO UPDATE SET version = EXCLUDED.version",
                         EAS_DB_ARGS(c->req->device->id, c->folder->id,
                                     apr_pstrcat(c->pool, "{", apr_array_pstrcat(c->pool, put_items, ','), "}", NULL),
                                     apr_pstrcat(c->pool, "{", apr_array_pstrcat(c->pool, put_vers, ','), "}", NULL)));
    if (rv == APR_SUCCESS && dels->nelts)
        rv = eas_db_exec(c->req->db, c->pool, NULL,
                         "DELETE FROM eas.sync_items WHERE device_id = %s::bigint "
                         "AND folder_id = %s::bigint AND item = ANY(%s::bigint[])",
                         EAS_DB_ARGS(c->req->device->id, c->folder->id,
                                     apr_pstrcat(c->pool, "{", apr_array_pstrcat(c->pool, dels, ','), "}", NULL)));
    return rv;
}

static apr_status_t load_state(eas_sync_coll_t *c, const char **options_b64,
                               const char **last_hash)
{
    eas_db_rows_t *rows;
    apr_status_t rv;
    const char *sup;

    rv = eas_db_select(c->req->db, c->pool, &rows,
                       "SELECT generation, sync_key, cursor, filter_type, "
                       EAS_SQL_TIME("filter_cutoff") ", " B64("options") ", supported::text, "
                       "last_hash FROM eas.collections WHERE device_id = %s::bigint "
                       "AND folder_id = %s::bigint",
                       EAS_DB_ARGS(c->req->device->id, c->folder->id));
    *options_b64 = *last_hash = NULL;
    if (rv != APR_SUCCESS || rows->nrows == 0)
        return rv;
    c->exists = 1;
    c->generation = eas_db_val(rows, 0, 0);
    c->key = atoi(eas_db_val(rows, 0, 1));
    c->cursor = apr_atoi64(eas_db_val(rows, 0, 2));
    c->filter_type = atoi(eas_db_val(rows, 0, 3));
    c->filter_cutoff = eas_db_val(rows, 0, 4);
    *options_b64 = eas_db_val(rows, 0, 5);
    sup = eas_db_val(rows, 0, 6);
    *last_hash = eas_db_val(rows, 0, 7);
    if (sup) {
        /* "{1,2,3}" or "{}" */
        apr_array_header_t *tags = apr_array_make(c->pool, 16, sizeof(eas_tag_t));
        char *s = apr_pstrdup(c->pool, sup + 1), *last, *tok;
        for (tok = apr_strtok(s, ",}", &last); tok; tok = apr_strtok(NULL, ",}", &last))
            APR_ARRAY_PUSH(tags, eas_tag_t) = (eas_tag_t)atoi(tok);
        c->supported = tags;
    }
    return APR_SUCCESS;
}

static const char *new_generation(apr_pool_t *p, const char *old)
{
    unsigned char r[4];
    const char *g;

    do {
        if (apr_generate_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
            apr_uint64_t t = (apr_uint64_t)apr_time_now();
            memcpy(r, &t, sizeof(r));
        }
        g = apr_psprintf(p, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    } while (old && !strcmp(g, old));
    return g;
}

/* ---- request pieces ------------------------------------------------- */

/* Bytes of a subtree as a document of its own. */
static const char *node_bytes(apr_pool_t *p, const eas_node_t *n, apr_size_t *len)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(p, NULL, NULL);
    const char *data;

    eas_wbxml_node(w, n);
    eas_wbxml_finish(w, &data, len);
    return data;
}

/* What identifies a collection's request for retries: SyncKey + Commands. */
static const char *request_hash(apr_pool_t *p, const eas_sync_creq_t *cr)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(p, NULL, NULL);
    const char *data;
    apr_size_t len;

    eas_wbxml_start(w, EAS_AirSync_Collection);
    eas_wbxml_text(w, EAS_AirSync_SyncKey, cr->sync_key);
    if (cr->commands)
        eas_wbxml_node(w, cr->commands);
    eas_wbxml_end(w);
    eas_wbxml_finish(w, &data, &len);
    return md5_hex(p, data, len);
}

typedef enum { KEY_BAD, KEY_INITIAL, KEY_CURRENT, KEY_RETRY } key_kind_e;

static key_kind_e classify_key(const eas_sync_coll_t *c, const char *key, const char *hash,
                               const char *last_hash)
{
    apr_size_t glen;
    char *end;
    long n;

    if (!strcmp(key, "0"))
        return KEY_INITIAL;
    if (!c->exists)
        return KEY_BAD;
    glen = strlen(c->generation);
    if (key[0] != '{' || strncmp(key + 1, c->generation, glen) || key[glen + 1] != '}')
        return KEY_BAD;
    n = strtol(key + glen + 2, &end, 10);
    if (*end || n <= 0 || key[glen + 2] == '0')
        return KEY_BAD;
    if (n == c->key)
        return KEY_CURRENT;
    if (n == c->key - 1 && last_hash && !strcmp(hash, last_hash))
        return KEY_RETRY;
    return KEY_BAD;
}

/* ---- client commands ---------------------------------------------------- */

typedef struct {
    eas_tag_t op;             /* Add, Change, Delete, Fetch */
    const char *client_id, *server_id, *instance_id;
    int status;
    apr_int64_t item;
    void *data;               /* Fetch */
} response_t;

/* Runs one item's work in a savepoint: a value the database refuses fails
 * that item (Status 6), not the request.  A backend that is down fails the
 * collection (Status 16); a broken connection still fails the request. */
static apr_status_t item_begin(eas_sync_coll_t *c)
{
    return eas_db_savepoint(c->req->db, "eas_item");
}

static apr_status_t item_end(eas_sync_coll_t *c, apr_status_t rv, int *status)
{
    eas_db_t *db = c->req->db;

    if (rv == APR_SUCCESS)
        return eas_db_release(db, "eas_item");
    if (rv == APR_EAGAIN)
        return rv;
    eas_log_printf(c->req->log, EAS_LOG_MARK, EAS_LOG_ERR, rv,
                   EASLOGNO(01500) "Sync of %s/%s folder %s: an item failed in the database (%s); "
                   "answering Status 6 for it", c->req->login, c->req->device->device_id,
                   c->folder->id, db->error ? db->error : "?");
    if (eas_db_rollback_to(db, "eas_item") != APR_SUCCESS ||
        eas_db_release(db, "eas_item") != APR_SUCCESS)
        return APR_EGENERAL;
    *status = EAS_SYNC_CONVERSION;
    return APR_SUCCESS;
}

static apr_status_t client_add(eas_sync_coll_t *c, const eas_node_t *cmd, response_t *r)
{
    const eas_node_t *appdata = eas_node_child(cmd, EAS_AirSync_ApplicationData);
    eas_request_t *req = c->req;
    apr_int64_t item = -1, version = -1;
    eas_db_rows_t *rows;
    const char *hash, *data;
    apr_size_t len;
    apr_status_t rv;

    r->client_id = eas_node_child_text(cmd, EAS_AirSync_ClientId);
    if (!r->client_id || !*r->client_id || strlen(r->client_id) > 256 || !appdata) {
        r->status = EAS_SYNC_PROTOCOL;
        return APR_SUCCESS;
    }
    data = node_bytes(c->pool, appdata, &len);
    hash = md5_hex(c->pool, data, len);

    /* The same Add again (its answer was lost): the same ServerId. */
    rv = eas_db_select(req->db, c->pool, &rows,
                       "SELECT item, hash, seq FROM eas.client_ids WHERE device_id = %s::bigint "
                       "AND folder_id = %s::bigint AND client_id = %s",
                       EAS_DB_ARGS(req->device->id, c->folder->id, r->client_id));
    if (rv != APR_SUCCESS)
        return rv;
    if (rows->nrows && !strcmp(eas_db_val(rows, 0, 1), hash)) {
        apr_int64_t known = apr_atoi64(eas_db_val(rows, 0, 0)), cur, held;
        if ((rv = c->provider->load(c, known, NULL, &cur)) != APR_SUCCESS)
            return rv;
        if (cur >= 0) {
            if ((rv = eas_sync_view_get(c, known, &held)) != APR_SUCCESS)
                return rv;
            /* After a reset the device holds it again; if it changed since,
             * version 0 makes the next scan send the server's copy. */
            if (held < 0 &&
                (rv = view_put(c, known, cur == apr_atoi64(eas_db_val(rows, 0, 2)) ? cur : 0)) !=
                    APR_SUCCESS)
                return rv;
            r->item = known;
            r->server_id = eas_sync_server_id(c, known);
            r->status = EAS_SYNC_OK;
            return APR_SUCCESS;
        }
    }

    if ((rv = item_begin(c)) != APR_SUCCESS)
        return rv;
    rv = c->provider->add(c, appdata, &item, &version, &r->status);
    if (rv == APR_SUCCESS && r->status == EAS_SYNC_OK) {
        rv = view_put(c, item, version);
        if (rv == APR_SUCCESS)
            rv = eas_db_exec(req->db, c->pool, NULL,
                             "INSERT INTO eas.client_ids (device_id, folder_id, client_id, item, "
                             "hash, seq) VALUES (%s::bigint, %s::bigint, %s, %s::bigint, %s, "
                             "%s::bigint) ON CONFLICT (device_id, folder_id, client_id) DO UPDATE "
                             "SET item = EXCLUDED.item, hash = EXCLUDED.hash, seq = EXCLUDED.seq, "
                             "created_at = now()",
                             EAS_DB_ARGS(req->device->id, c->folder->id, r->client_id,
                                         i64(c->pool, item), hash, i64(c->pool, version)));
    }
    if ((rv = item_end(c, rv, &r->status)) != APR_SUCCESS)
        return rv;
    if (r->status == EAS_SYNC_OK) {
        r->item = item;
        r->server_id = eas_sync_server_id(c, item);
    }
    return APR_SUCCESS;
}

static apr_status_t client_change(eas_sync_coll_t *c, const eas_node_t *cmd, response_t *r)
{
    const eas_node_t *appdata = eas_node_child(cmd, EAS_AirSync_ApplicationData);
    apr_int64_t item, held, version = -1;
    apr_status_t rv;

    r->server_id = eas_node_child_text(cmd, EAS_AirSync_ServerId);
    r->instance_id = eas_node_child_text(cmd, EAS_AirSyncBase_InstanceId);
    if (!r->server_id || !appdata) {
        r->status = EAS_SYNC_PROTOCOL;
        return APR_SUCCESS;
    }
    item = parse_server_id(c, r->server_id);
    if (item < 0) {
        r->status = EAS_SYNC_NOT_FOUND;
        return APR_SUCCESS;
    }
    if ((rv = eas_sync_view_get(c, item, &held)) != APR_SUCCESS)
        return rv;
    if (held < 0) {
        r->status = EAS_SYNC_NOT_FOUND;
        return APR_SUCCESS;
    }
    if ((rv = item_begin(c)) != APR_SUCCESS)
        return rv;
    rv = c->provider->change(c, item, held, r->instance_id, appdata, &version, &r->status);
    if (rv == APR_SUCCESS && r->status == EAS_SYNC_OK)
        rv = view_put(c, item, version);
    return item_end(c, rv, &r->status);
}

static apr_status_t client_delete(eas_sync_coll_t *c, const eas_node_t *cmd, response_t *r)
{
    apr_int64_t item, held, version = -1;
    apr_status_t rv;

    r->server_id = eas_node_child_text(cmd, EAS_AirSync_ServerId);
    r->instance_id = eas_node_child_text(cmd, EAS_AirSyncBase_InstanceId);
    item = parse_server_id(c, r->server_id);
    if (item < 0) {
        r->status = EAS_SYNC_NOT_FOUND;
        return APR_SUCCESS;
    }
    if ((rv = eas_sync_view_get(c, item, &held)) != APR_SUCCESS)
        return rv;
    if (held < 0) {
        r->status = EAS_SYNC_NOT_FOUND;
        return APR_SUCCESS;
    }
    if ((rv = item_begin(c)) != APR_SUCCESS)
        return rv;
    rv = c->provider->remove(c, item, r->instance_id, &version, &r->status);
    if (rv == APR_SUCCESS && r->status == EAS_SYNC_OK)
        rv = version >= 0 ? view_put(c, item, version) : view_del(c, item);
    return item_end(c, rv, &r->status);
}

static apr_status_t client_fetch(eas_sync_coll_t *c, const eas_node_t *cmd, response_t *r)
{
    apr_int64_t item, version;
    apr_status_t rv;

    r->server_id = eas_node_child_text(cmd, EAS_AirSync_ServerId);
    item = parse_server_id(c, r->server_id);
    r->status = EAS_SYNC_NOT_FOUND;
    if (item < 0)
        return APR_SUCCESS;
    if ((rv = c->provider->load(c, item, &r->data, &version)) != APR_SUCCESS)
        return rv;
    if (version >= 0 && r->data) {
        r->item = item;
        r->status = EAS_SYNC_OK;
    }
    return APR_SUCCESS;
}

/* ---- the collection ----------------------------------------------------- */

static void write_change(eas_sync_coll_t *c, eas_wbxml_writer_t *w, const eas_sync_change_t *ch)
{
    static const eas_tag_t ops[] = {EAS_AirSync_Add, EAS_AirSync_Change, EAS_AirSync_Delete,
                                    EAS_AirSync_SoftDelete};

    eas_wbxml_start(w, ops[ch->op]);
    eas_wbxml_text(w, EAS_AirSync_ServerId, eas_sync_server_id(c, ch->item));
    if (ch->op == EAS_CHANGE_ADD || ch->op == EAS_CHANGE_CHANGE)
        c->provider->write(c, ch, w);
    eas_wbxml_end(w);
}

static void write_responses(eas_sync_coll_t *c, eas_wbxml_writer_t *w,
                            const apr_array_header_t *resp)
{
    int i, any = 0;

    for (i = 0; i < resp->nelts; i++) {
        const response_t *r = &APR_ARRAY_IDX(resp, i, response_t);
        /* MS-ASCMD 2.2.3.24, 2.2.3.42.2: successful Changes and Deletes
         * get no response. */
        if ((r->op == EAS_AirSync_Change || r->op == EAS_AirSync_Delete) &&
            r->status == EAS_SYNC_OK)
            continue;
        if (!any++)
            eas_wbxml_start(w, EAS_AirSync_Responses);
        eas_wbxml_start(w, r->op);
        if (r->op == EAS_AirSync_Add) {
            eas_wbxml_text(w, EAS_AirSync_ClientId, r->client_id ? r->client_id : "");
            if (r->server_id)
                eas_wbxml_text(w, EAS_AirSync_ServerId, r->server_id);
        }
        else if (r->server_id) {
            eas_wbxml_text(w, EAS_AirSync_ServerId, r->server_id);
        }
        if (r->instance_id && c->req->version >= 160)
            eas_wbxml_text(w, EAS_AirSyncBase_InstanceId, r->instance_id);
        eas_wbxml_textf(w, EAS_AirSync_Status, "%d", r->status);
        if (r->op == EAS_AirSync_Fetch && r->status == EAS_SYNC_OK) {
            eas_sync_change_t ch = {EAS_CHANGE_CHANGE, r->item, 0, r->data};
            c->provider->write(c, &ch, w);
        }
        eas_wbxml_end(w);
    }
    if (any)
        eas_wbxml_end(w);
}

static void write_status_only(eas_wbxml_writer_t *w, const eas_sync_creq_t *cr, int version,
                              const char *key, int status)
{
    eas_wbxml_start(w, EAS_AirSync_Collection);
    if (cr->cls && version < 140)
        eas_wbxml_text(w, EAS_AirSync_Class, cr->cls);
    eas_wbxml_text(w, EAS_AirSync_SyncKey, key);
    eas_wbxml_text(w, EAS_AirSync_CollectionId, cr->collection_id);
    eas_wbxml_textf(w, EAS_AirSync_Status, "%d", status);
    eas_wbxml_end(w);
}

static apr_status_t fragment(apr_pool_t *p, eas_wbxml_writer_t *w, const char **frag,
                             apr_size_t *len)
{
    apr_status_t rv = eas_wbxml_finish(w, frag, len);
    char *copy;

    if (rv != APR_SUCCESS)
        return rv;
    copy = apr_palloc(p, *len);
    memcpy(copy, *frag, *len);
    *frag = copy;
    return APR_SUCCESS;
}

apr_status_t eas_sync_emit(eas_wbxml_writer_t *w, apr_pool_t *p, const char *frag,
                           apr_size_t len)
{
    eas_node_t *root;

    if (eas_wbxml_decode(p, frag, len, &own_limits, &root, NULL) != EAS_WBXML_OK)
        return APR_EGENERAL;
    eas_wbxml_node(w, root);
    return eas_wbxml_status(w);
}

static apr_status_t initial(eas_sync_coll_t *c, const eas_sync_creq_t *cr, const char **key)
{
    eas_request_t *req = c->req;
    const char *gen = new_generation(c->pool, c->generation), *options = NULL, *sup = NULL;
    apr_status_t rv;
    apr_size_t len;

    if (cr->options) {
        const char *bytes = node_bytes(c->pool, cr->options, &len);
        options = b64enc(c->pool, bytes, len);
    }
    if (cr->supported) {
        /* MS-ASCMD 2.2.3.179: what the initial Sync names is managed by
         * the client; an empty Supported ghosts everything ghostable. */
        apr_array_header_t *tags = apr_array_make(c->pool, 16, sizeof(char *));
        const eas_node_t *n;
        for (n = cr->supported->first; n; n = n->next)
            APR_ARRAY_PUSH(tags, const char *) = apr_itoa(c->pool, n->tag);
        sup = apr_pstrcat(c->pool, "{", apr_array_pstrcat(c->pool, tags, ','), "}", NULL);
    }
    c->cursor = 0;
    if (c->provider->reset && (rv = c->provider->reset(c)) != APR_SUCCESS)
        return rv;
    if ((rv = eas_db_exec(req->db, c->pool, NULL,
                          "DELETE FROM eas.sync_items WHERE device_id = %s::bigint "
                          "AND folder_id = %s::bigint",
                          EAS_DB_ARGS(req->device->id, c->folder->id))) != APR_SUCCESS)
        return rv;
    rv = eas_db_exec(req->db, c->pool, NULL,
                     "INSERT INTO eas.collections (device_id, folder_id, generation, sync_key, "
                     "cursor, filter_type, options, supported) VALUES (%s::bigint, %s::bigint, "
                     "%s, 1, %s::bigint, %s::smallint, decode(%s, 'base64'), %s::integer[]) "
                     "ON CONFLICT (device_id, folder_id) DO UPDATE SET generation = "
                     "EXCLUDED.generation, sync_key = 1, cursor = EXCLUDED.cursor, "
                     "filter_type = EXCLUDED.filter_type, filter_cutoff = NULL, "
                     "options = EXCLUDED.options, supported = EXCLUDED.supported, "
                     "last_hash = NULL, last_response = NULL, uidvalidity = NULL, "
                     "modseq = NULL, uidnext = NULL, created_at = now(), last_sync = now()",
                     EAS_DB_ARGS(req->device->id, c->folder->id, gen, i64(c->pool, c->cursor),
                                 apr_itoa(c->pool, c->opts.filter_type), options, sup));
    *key = apr_psprintf(c->pool, "{%s}1", gen);
    return rv;
}

static apr_status_t collection(eas_request_t *req, const eas_sync_creq_t *cr,
                               const eas_folder_t *folder, int window, apr_pool_t *p,
                               const char **frag, apr_size_t *frag_len, int *sent, int *said)
{
    eas_sync_coll_t *c = apr_pcalloc(p, sizeof(*c));
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(p, NULL, NULL);
    apr_array_header_t *resp, *changes;
    const char *options_b64, *last_hash, *hash, *key, *new_options = NULL;
    const eas_node_t *cmd;
    apr_status_t rv;
    key_kind_e kind;
    int more = 0, advance, get_changes;

    *sent = 0;
    *said = 1;
    c->req = req;
    c->pool = p;
    c->folder = folder;
    c->provider = eas_sync_provider_for(folder->cls);
    if (!c->provider) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                       EASLOGNO(01501) "Sync of %s folder %s (%s): no provider serves this class "
                       "yet: Status 5", req->login, folder->id, folder->cls);
        write_status_only(w, cr, req->version, cr->sync_key, EAS_SYNC_SERVER);
        return fragment(p, w, frag, frag_len);
    }
    if ((rv = load_state(c, &options_b64, &last_hash)) != APR_SUCCESS)
        return rv;

    /* Options are sticky (MS-ASCMD 2.2.3.125.6). */
    if (cr->options) {
        eas_sync_options_parse(&c->opts, cr->options, 1);
    }
    else {
        apr_size_t len;
        const char *bytes = b64dec(p, options_b64, &len);
        eas_node_t *stored = NULL;
        if (bytes && len)
            eas_wbxml_decode(p, bytes, len, &own_limits, &stored, NULL);
        eas_sync_options_parse(&c->opts, stored, 1);
    }

    hash = request_hash(p, cr);
    kind = classify_key(c, cr->sync_key, hash, last_hash);

    if (kind == KEY_BAD) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01502) "Sync key %s of %s/%s for folder %s is neither current "
                       "(%s{%s}%d) nor a retry of the previous one: Status 3", cr->sync_key,
                       req->login, req->device->device_id, folder->id, c->exists ? "" : "none, ",
                       c->exists ? c->generation : "-", c->exists ? c->key : 0);
        write_status_only(w, cr, req->version, "0", EAS_SYNC_BAD_KEY);
        return fragment(p, w, frag, frag_len);
    }
    if (kind == KEY_RETRY) {
        /* The answer to this very request was lost: the same bytes again. */
        const char *resp_b64;
        apr_size_t len;
        if ((rv = eas_db_value(req->db, p, &resp_b64,
                               "SELECT " B64("last_response") " FROM eas.collections "
                               "WHERE device_id = %s::bigint AND folder_id = %s::bigint",
                               EAS_DB_ARGS(req->device->id, folder->id))) != APR_SUCCESS)
            return rv;
        *frag = b64dec(p, resp_b64, &len);
        *frag_len = len;
        if (!*frag || !len)
            return APR_EGENERAL;
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01503) "Sync of %s/%s folder %s: key %s resent with the same "
                       "request, answering it again", req->login, req->device->device_id,
                       folder->id, cr->sync_key);
        return APR_SUCCESS;
    }
    if (kind == KEY_INITIAL) {
        /* MS-ASCMD 2.2.3.181.4: key 0 carries no commands. */
        if (cr->commands) {
            write_status_only(w, cr, req->version, "0", EAS_SYNC_PROTOCOL);
            return fragment(p, w, frag, frag_len);
        }
        if ((rv = initial(c, cr, &key)) != APR_SUCCESS)
            return rv;
        write_status_only(w, cr, req->version, key, EAS_SYNC_OK);
        return fragment(p, w, frag, frag_len);
    }

    /* KEY_CURRENT */
    if (cr->options) {
        apr_size_t len;
        const char *bytes = node_bytes(p, cr->options, &len);
        new_options = b64enc(p, bytes, len);
    }
    c->filter_changed = c->opts.filter_type != c->filter_type;
    c->deletes_as_moves = cr->deletes_as_moves != 0;

    resp = apr_array_make(p, 8, sizeof(response_t));
    for (cmd = cr->commands ? cr->commands->first : NULL; cmd; cmd = cmd->next) {
        response_t *r = apr_array_push(resp);
        memset(r, 0, sizeof(*r));
        r->op = cmd->tag;
        switch (cmd->tag) {
        case EAS_AirSync_Add:
            rv = client_add(c, cmd, r);
            break;
        case EAS_AirSync_Change:
            rv = client_change(c, cmd, r);
            break;
        case EAS_AirSync_Delete:
            rv = client_delete(c, cmd, r);
            break;
        case EAS_AirSync_Fetch:
            rv = client_fetch(c, cmd, r);
            break;
        default:
            resp->nelts--;
            rv = APR_SUCCESS;
            break;
        }
        if (rv != APR_SUCCESS)
            return rv;
    }

    /* Server changes (MS-ASCMD 2.2.3.84: GetChanges defaults to 1 after key 0). */
    changes = apr_array_make(p, window > 0 ? window : 1, sizeof(eas_sync_change_t));
    get_changes = cr->get_changes != 0;
    if (get_changes && (rv = c->provider->changes(c, window, changes, &more)) != APR_SUCCESS)
        return rv;

    advance = cr->commands != NULL || changes->nelts > 0;
    key = apr_psprintf(p, "{%s}%d", c->generation, advance ? c->key + 1 : c->key);

    eas_wbxml_start(w, EAS_AirSync_Collection);
    if (cr->cls && req->version < 140)
        eas_wbxml_text(w, EAS_AirSync_Class, cr->cls);
    eas_wbxml_text(w, EAS_AirSync_SyncKey, key);
    eas_wbxml_text(w, EAS_AirSync_CollectionId, cr->collection_id);
    eas_wbxml_text(w, EAS_AirSync_Status, "1");
    write_responses(c, w, resp);
    if (changes->nelts) {
        int i;
        eas_wbxml_start(w, EAS_AirSync_Commands);
        for (i = 0; i < changes->nelts; i++)
            write_change(c, w, &APR_ARRAY_IDX(changes, i, eas_sync_change_t));
        eas_wbxml_end(w);
    }
    if (more)
        eas_wbxml_empty(w, EAS_AirSync_MoreAvailable);
    eas_wbxml_end(w);
    if ((rv = fragment(p, w, frag, frag_len)) != APR_SUCCESS)
        return rv;

    if ((rv = view_apply(c, changes)) != APR_SUCCESS)
        return rv;
    rv = eas_db_exec(req->db, p, NULL,
                     "UPDATE eas.collections SET sync_key = %s::int, cursor = %s::bigint, "
                     "filter_type = %s::smallint, filter_cutoff = %s::timestamptz, "
                     "options = CASE WHEN %s::text IS NULL THEN options ELSE decode(%s, 'base64') END, "
                     "last_hash = CASE WHEN %s::boolean THEN %s ELSE last_hash END, "
                     "last_response = CASE WHEN %s::boolean THEN decode(%s, 'base64') "
                     "ELSE last_response END, last_sync = now() "
                     "WHERE device_id = %s::bigint AND folder_id = %s::bigint",
                     EAS_DB_ARGS(apr_itoa(p, advance ? c->key + 1 : c->key),
                                 i64(p, c->cursor), apr_itoa(p, c->filter_type), c->filter_cutoff,
                                 new_options, new_options, advance ? "t" : "f", hash,
                                 advance ? "t" : "f",
                                 advance ? b64enc(p, *frag, *frag_len) : NULL,
                                 req->device->id, folder->id));
    if (rv != APR_SUCCESS)
        return rv;
    *sent = changes->nelts;
    *said = advance || more;
    return APR_SUCCESS;
}

/* Each collection in a savepoint: when it fails (a backend down, a
 * statement refused) it is undone and answered with Status 16, the client
 * retries it later with the same key, and the other collections go on. */
apr_status_t eas_sync_collection(eas_request_t *req, const eas_sync_creq_t *cr,
                                 const eas_folder_t *folder, int window, apr_pool_t *p,
                                 const char **frag, apr_size_t *frag_len, int *sent, int *said)
{
    eas_wbxml_writer_t *w;
    apr_status_t rv;

    if ((rv = eas_db_savepoint(req->db, "eas_coll")) != APR_SUCCESS)
        return rv;
    rv = collection(req, cr, folder, window, p, frag, frag_len, sent, said);
    if (rv == APR_SUCCESS)
        return eas_db_release(req->db, "eas_coll");
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_ERR, rv,
                   EASLOGNO(01505) "Sync of %s/%s folder %s failed (%s): undone, Status 16",
                   req->login, req->device->device_id, folder->id,
                   req->db->error ? req->db->error : rv == APR_EAGAIN ? "backend unavailable"
                                                                      : "?");
    if (eas_db_rollback_to(req->db, "eas_coll") != APR_SUCCESS ||
        eas_db_release(req->db, "eas_coll") != APR_SUCCESS)
        return rv;
    w = eas_wbxml_writer_create(p, NULL, NULL);
    write_status_only(w, cr, req->version, cr->sync_key, EAS_SYNC_RETRY);
    *sent = 0;
    *said = 1;
    return fragment(p, w, frag, frag_len);
}

/* ---- shared by the other commands ------------------------------------- */

apr_status_t eas_sync_lock_folders(eas_request_t *req, const apr_array_header_t *ids)
{
    eas_db_rows_t *rows;
    const char *list;

    if (!ids->nelts)
        return APR_SUCCESS;
    list = apr_pstrcat(req->pool, "{", apr_array_pstrcat(req->pool, ids, ','), "}", NULL);
    return eas_db_select(req->db, req->pool, &rows,
                         "SELECT id FROM eas.folders WHERE id = ANY(%s::bigint[]) "
                         "AND user_id = %s::bigint ORDER BY id FOR UPDATE",
                         EAS_DB_ARGS(list, req->user->id));
}

/* A collection context for a folder outside of Sync; *c NULL when the
 * folder is not the user's, c->exists 0 when the device never synced it. */
static apr_status_t open_coll(eas_request_t *req, apr_pool_t *p, const char *folder_id,
                              eas_sync_coll_t **out)
{
    eas_sync_coll_t *c;
    eas_folder_t *f;
    const char *options_b64, *last_hash;
    apr_status_t rv;

    *out = NULL;
    if ((rv = eas_folders_get(req, folder_id, &f)) != APR_SUCCESS || !f)
        return rv;
    c = apr_pcalloc(p, sizeof(*c));
    c->req = req;
    c->pool = p;
    c->folder = f;
    c->provider = eas_sync_provider_for(f->cls);
    if (c->provider && (rv = load_state(c, &options_b64, &last_hash)) != APR_SUCCESS)
        return rv;
    if (c->exists) {
        apr_size_t len;
        const char *bytes = b64dec(p, options_b64, &len);
        eas_node_t *stored = NULL;
        if (bytes && len)
            eas_wbxml_decode(p, bytes, len, &own_limits, &stored, NULL);
        eas_sync_options_parse(&c->opts, stored, 1);
        c->filter_changed = c->opts.filter_type != c->filter_type;
    }
    *out = c;
    return APR_SUCCESS;
}

apr_status_t eas_sync_pending(eas_request_t *req, const char *folder_id, int *pending)
{
    eas_sync_coll_t *c;
    apr_pool_t *p;
    apr_status_t rv;

    *pending = 0;
    apr_pool_create(&p, req->pool);
    rv = open_coll(req, p, folder_id, &c);
    if (rv == APR_SUCCESS && !c)
        rv = APR_NOTFOUND;
    else if (rv == APR_SUCCESS && !c->provider)
        rv = APR_ENOTIMPL;
    else if (rv == APR_SUCCESS && !c->exists)
        *pending = 1;
    else if (rv == APR_SUCCESS)
        rv = c->provider->pending(c, pending);
    apr_pool_destroy(p);
    return rv;
}

apr_status_t eas_sync_estimate(eas_request_t *req, const char *collection_id,
                               const char *sync_key, const eas_node_t *options, int *status,
                               int *estimate)
{
    eas_sync_coll_t *c;
    apr_status_t rv;

    *estimate = 0;
    if ((rv = open_coll(req, req->pool, collection_id, &c)) != APR_SUCCESS)
        return rv;
    if (!c || !c->provider) {
        *status = 2;
        return APR_SUCCESS;
    }
    if (!c->exists || (sync_key && !strcmp(sync_key, "0"))) {
        *status = 3;
        return APR_SUCCESS;
    }
    if (sync_key && strcmp(sync_key, apr_psprintf(req->pool, "{%s}%d", c->generation, c->key))) {
        *status = 4;
        return APR_SUCCESS;
    }
    if (options) {
        eas_sync_options_parse(&c->opts, options, 0);
        c->filter_changed = c->opts.filter_type != c->filter_type;
    }
    *status = 1;
    return c->provider->estimate(c, estimate);
}

apr_status_t eas_sync_move(eas_request_t *req, const char *src_msg, const char *src_fld,
                           const char *dst_fld, int *status, const char **dst_id)
{
    eas_sync_coll_t *src, *dst;
    apr_int64_t item, dst_item = -1, dst_version = -1, held = -1, current = -1;
    apr_array_header_t *ids;
    apr_status_t rv;

    *dst_id = NULL;
    if ((rv = open_coll(req, req->pool, src_fld, &src)) != APR_SUCCESS)
        return rv;
    if (!src || (item = parse_server_id(src, src_msg)) < 0) {
        *status = 1;
        return APR_SUCCESS;
    }
    if ((rv = open_coll(req, req->pool, dst_fld, &dst)) != APR_SUCCESS)
        return rv;
    if (!dst) {
        *status = 2;
        return APR_SUCCESS;
    }
    if (!strcmp(src->folder->id, dst->folder->id)) {
        *status = 4;
        return APR_SUCCESS;
    }
    if (!src->provider || src->provider != dst->provider ||
        strcmp(src->folder->cls, dst->folder->cls)) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01504) "MoveItems of %s from folder %s (%s) to %s (%s): not "
                       "possible between these folders: Status 5", req->login, src->folder->id,
                       src->folder->cls, dst->folder->id, dst->folder->cls);
        *status = 5;
        return APR_SUCCESS;
    }
    ids = apr_array_make(req->pool, 2, sizeof(char *));
    APR_ARRAY_PUSH(ids, const char *) = src->folder->id;
    APR_ARRAY_PUSH(ids, const char *) = dst->folder->id;
    if (apr_atoi64(dst->folder->id) < apr_atoi64(src->folder->id)) {
        APR_ARRAY_IDX(ids, 0, const char *) = dst->folder->id;
        APR_ARRAY_IDX(ids, 1, const char *) = src->folder->id;
    }
    if ((rv = eas_sync_lock_folders(req, ids)) != APR_SUCCESS)
        return rv;
    if (src->exists && ((rv = eas_sync_view_get(src, item, &held)) != APR_SUCCESS ||
                        (rv = src->provider->load(src, item, NULL, &current)) != APR_SUCCESS))
        return rv;
    if ((rv = src->provider->move(src, item, dst->folder, &dst_item, &dst_version, status)) !=
            APR_SUCCESS ||
        *status != 3)
        return rv;
    /* The device moved it itself: it must get neither a Delete in the
     * source nor an Add in the destination (the classic duplicate).  If it
     * held an older version than the one moved, version 0 makes the next
     * Sync of the destination send the newer one as a Change. */
    if (src->exists && (rv = view_del(src, item)) != APR_SUCCESS)
        return rv;
    if (dst->exists &&
        (rv = view_put(dst, dst_item, held >= 0 && held != current ? 0 : dst_version)) !=
            APR_SUCCESS)
        return rv;
    *dst_id = eas_sync_server_id(dst, dst_item);
    return APR_SUCCESS;
}
