/*
 * FolderSync, FolderCreate, FolderDelete, FolderUpdate (MS-ASCMD 2.2.1.3-6).
 *
 * The device's hierarchy state is a key counter and the user's hierarchy
 * sequence number it has seen; the previous pair is kept too, so a device
 * that resends its previous key (the response was lost) is answered from
 * the same starting point again.  Keys look like "{generation}N": a new
 * generation on every SyncKey 0 makes keys of an abandoned state invalid.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_folders.h"

typedef enum { KEY_BAD = -1, KEY_INITIAL = 0, KEY_CURRENT = 1, KEY_PREVIOUS = 2 } key_kind_e;

static const char *make_key(eas_request_t *req, const char *gen, int n)
{
    return apr_psprintf(req->pool, "{%s}%d", gen, n);
}

static key_kind_e classify_key(eas_request_t *req, const char *key)
{
    const eas_device_t *d = req->device;
    const char *gen = d->key_generation;
    apr_size_t glen = strlen(gen);
    char *end;
    long n;

    if (!key)
        return KEY_BAD;
    if (!strcmp(key, "0"))
        return KEY_INITIAL;
    if (key[0] != '{' || strncmp(key + 1, gen, glen) || key[glen + 1] != '}')
        return KEY_BAD;
    n = strtol(key + glen + 2, &end, 10);
    if (*end || n <= 0)
        return KEY_BAD;
    if (n == d->hierarchy_key)
        return KEY_CURRENT;
    if (n == d->hierarchy_key - 1 && d->hierarchy_prev_seq)
        return KEY_PREVIOUS;
    return KEY_BAD;
}

static void write_folder(eas_wbxml_writer_t *w, eas_tag_t op, const eas_db_rows_t *rows, int r)
{
    const char *parent = eas_db_val(rows, r, 1);

    eas_wbxml_start(w, op);
    eas_wbxml_text(w, EAS_FolderHierarchy_ServerId, eas_db_val(rows, r, 0));
    if (op != EAS_FolderHierarchy_Delete) {
        eas_wbxml_text(w, EAS_FolderHierarchy_ParentId, parent ? parent : "0");
        eas_wbxml_text(w, EAS_FolderHierarchy_DisplayName, eas_db_val(rows, r, 2));
        eas_wbxml_text(w, EAS_FolderHierarchy_Type, eas_db_val(rows, r, 3));
    }
    eas_wbxml_end(w);
}

static void folder_status(eas_request_t *req, eas_tag_t root, int status)
{
    eas_wbxml_writer_t *w = eas_request_writer(req);

    eas_wbxml_start(w, root);
    eas_wbxml_textf(w, EAS_FolderHierarchy_Status, "%d", status);
    eas_wbxml_end(w);
    req->status_note = apr_itoa(req->pool, status);
}

apr_status_t eas_cmd_foldersync(eas_request_t *req)
{
    const char *key = eas_node_child_text(req->doc, EAS_FolderHierarchy_SyncKey);
    key_kind_e kind = classify_key(req, key);
    eas_device_t *d = req->device;
    const char *base, *cur, *gen = d->key_generation, *new_key;
    eas_db_rows_t *rows;
    eas_wbxml_writer_t *w;
    apr_status_t rv;
    int n = d->hierarchy_key, count = 0, r, pass;

    if (!key) {
        folder_status(req, EAS_FolderHierarchy_FolderSync, EAS_FS_MALFORMED);
        return APR_SUCCESS;
    }
    if (kind == KEY_BAD) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(00051) "FolderSync key %s of %s/%s is neither current nor "
                       "previous: Status 9", key, req->login, d->device_id);
        folder_status(req, EAS_FolderHierarchy_FolderSync, EAS_FS_BAD_KEY);
        return APR_SUCCESS;
    }
    if ((rv = eas_folders_refresh(req)) != APR_SUCCESS)
        return rv;
    if ((rv = eas_db_value(req->db, req->pool, &cur,
                           "SELECT hierarchy_seq FROM eas.users WHERE id = %s::bigint",
                           EAS_DB_ARGS(req->user->id))) != APR_SUCCESS)
        return rv;

    if (kind == KEY_INITIAL) {
        rv = eas_db_value(req->db, req->pool, &gen, "SELECT substr(md5(random()::text), 1, 8)",
                          EAS_DB_NOARGS);
        if (rv == APR_SUCCESS)
            rv = eas_db_select(req->db, req->pool, &rows,
                               "SELECT id, parent_id, display_name, type, false, true "
                               "FROM eas.folders WHERE user_id = %s::bigint AND NOT deleted "
                               "ORDER BY id", EAS_DB_ARGS(req->user->id));
        base = NULL;
        /* A fresh hierarchy: announce what this server offers (MS-ASHTTP 3.2.5.1). */
        apr_table_setn(req->headers_out, "MS-ASProtocolVersions",
                       eas_version_set_str(req->pool, eas_request_versions(req)));
        apr_table_setn(req->headers_out, "MS-ASProtocolCommands",
                       eas_commands_str(req->pool, eas_request_versions(req)));
    }
    else {
        base = kind == KEY_CURRENT ? d->hierarchy_seq : d->hierarchy_prev_seq;
        /* A change this device made itself is known to it already. */
        rv = eas_db_select(req->db, req->pool, &rows,
                           "SELECT id, parent_id, display_name, type, deleted, "
                           "created_seq > %s::bigint FROM eas.folders WHERE user_id = %s::bigint "
                           "AND changed_seq > %s::bigint AND changed_by IS DISTINCT FROM %s::bigint "
                           "AND NOT (deleted AND created_seq > %s::bigint) ORDER BY id",
                           EAS_DB_ARGS(base, req->user->id, base, d->id, base));
    }
    if (rv != APR_SUCCESS)
        return rv;
    count = rows->nrows;

    if (kind == KEY_INITIAL)
        n = 1;
    else if (kind == KEY_CURRENT && count > 0)
        n = d->hierarchy_key + 1;
    /* KEY_PREVIOUS answers with the key that got lost, KEY_CURRENT without
     * changes keeps its key. */
    new_key = make_key(req, gen, n);
    rv = eas_db_exec(req->db, req->pool, NULL,
                     "UPDATE eas.devices SET key_generation = %s, hierarchy_key = %s::int, "
                     "hierarchy_seq = %s::bigint, hierarchy_prev_seq = CASE "
                     "WHEN %s::int = 0 THEN NULL WHEN %s::int = hierarchy_key THEN hierarchy_prev_seq "
                     "ELSE coalesce(%s::bigint, -1) END WHERE id = %s::bigint",
                     EAS_DB_ARGS(gen, apr_itoa(req->pool, n), cur,
                                 kind == KEY_INITIAL ? "0" : "1", apr_itoa(req->pool, n), base,
                                 d->id));
    if (rv != APR_SUCCESS)
        return rv;

    w = eas_request_writer(req);
    eas_wbxml_start(w, EAS_FolderHierarchy_FolderSync);
    eas_wbxml_text(w, EAS_FolderHierarchy_Status, "1");
    eas_wbxml_text(w, EAS_FolderHierarchy_SyncKey, new_key);
    eas_wbxml_start(w, EAS_FolderHierarchy_Changes);
    eas_wbxml_textf(w, EAS_FolderHierarchy_Count, "%d", count);
    /* Updates, then deletes, then adds (parents before children, by id). */
    for (pass = 0; pass < 3; pass++)
        for (r = 0; r < rows->nrows; r++) {
            int deleted = !strcmp(eas_db_val(rows, r, 4), "t");
            int is_new = !strcmp(eas_db_val(rows, r, 5), "t");
            if (pass == 0 && !deleted && !is_new)
                write_folder(w, EAS_FolderHierarchy_Update, rows, r);
            else if (pass == 1 && deleted)
                write_folder(w, EAS_FolderHierarchy_Delete, rows, r);
            else if (pass == 2 && !deleted && is_new)
                write_folder(w, EAS_FolderHierarchy_Add, rows, r);
        }
    eas_wbxml_end(w);
    eas_wbxml_end(w);
    req->status_note = apr_psprintf(req->pool, "1 (%d changes)", count);
    return APR_SUCCESS;
}

/* The common part of the three folder commands: a current key and, after
 * success, the next one (the device's own change is not echoed back). */
static apr_status_t folder_op_key(eas_request_t *req, eas_tag_t root, int *ok)
{
    const char *key = eas_node_child_text(req->doc, EAS_FolderHierarchy_SyncKey);
    key_kind_e kind = classify_key(req, key);

    *ok = 0;
    if (!key) {
        folder_status(req, root, EAS_FS_MALFORMED);
        return APR_SUCCESS;
    }
    if (kind != KEY_CURRENT) {
        folder_status(req, root, EAS_FS_BAD_KEY);
        return APR_SUCCESS;
    }
    *ok = 1;
    return APR_SUCCESS;
}

static apr_status_t advance_key(eas_request_t *req, const char **new_key)
{
    eas_device_t *d = req->device;
    int n = d->hierarchy_key + 1;

    *new_key = make_key(req, d->key_generation, n);
    return eas_db_exec(req->db, req->pool, NULL,
                       "UPDATE eas.devices SET hierarchy_key = %s::int, "
                       "hierarchy_prev_seq = hierarchy_seq WHERE id = %s::bigint",
                       EAS_DB_ARGS(apr_itoa(req->pool, n), d->id));
}

/* "0" is the root; anything else must be a live folder of the user. */
static apr_status_t lookup_parent(eas_request_t *req, const char *id, eas_folder_t **parent,
                                  int *found)
{
    *parent = NULL;
    *found = 1;
    if (!id || !strcmp(id, "0"))
        return APR_SUCCESS;
    {
        apr_status_t rv = eas_folders_get(req, id, parent);
        *found = *parent != NULL;
        return rv;
    }
}

static void op_response(eas_request_t *req, eas_tag_t root, int status, const char *key,
                        const char *server_id)
{
    eas_wbxml_writer_t *w = eas_request_writer(req);

    eas_wbxml_start(w, root);
    eas_wbxml_textf(w, EAS_FolderHierarchy_Status, "%d", status);
    if (status == EAS_FS_OK) {
        eas_wbxml_text(w, EAS_FolderHierarchy_SyncKey, key);
        if (server_id)
            eas_wbxml_text(w, EAS_FolderHierarchy_ServerId, server_id);
    }
    eas_wbxml_end(w);
    req->status_note = apr_itoa(req->pool, status);
}

apr_status_t eas_cmd_foldercreate(eas_request_t *req)
{
    const char *name = eas_node_child_text(req->doc, EAS_FolderHierarchy_DisplayName);
    const char *type = eas_node_child_text(req->doc, EAS_FolderHierarchy_Type);
    const char *server_id = NULL, *key = NULL;
    eas_folder_t *parent;
    apr_status_t rv;
    int ok, found, status;

    if ((rv = folder_op_key(req, EAS_FolderHierarchy_FolderCreate, &ok)) != APR_SUCCESS || !ok)
        return rv;
    if (!name || !type) {
        folder_status(req, EAS_FolderHierarchy_FolderCreate, EAS_FS_MALFORMED);
        return APR_SUCCESS;
    }
    if ((rv = lookup_parent(req, eas_node_child_text(req->doc, EAS_FolderHierarchy_ParentId),
                            &parent, &found)) != APR_SUCCESS)
        return rv;
    if (!found) {
        folder_status(req, EAS_FolderHierarchy_FolderCreate, EAS_FS_NO_PARENT);
        return APR_SUCCESS;
    }
    if ((rv = eas_folders_create(req, parent, name, atoi(type), &server_id, &status)) !=
        APR_SUCCESS)
        return rv;
    if (status == EAS_FS_OK && (rv = advance_key(req, &key)) != APR_SUCCESS)
        return rv;
    op_response(req, EAS_FolderHierarchy_FolderCreate, status, key, server_id);
    return APR_SUCCESS;
}

apr_status_t eas_cmd_folderdelete(eas_request_t *req)
{
    const char *id = eas_node_child_text(req->doc, EAS_FolderHierarchy_ServerId), *key = NULL;
    eas_folder_t *f;
    apr_status_t rv;
    int ok, status;

    if ((rv = folder_op_key(req, EAS_FolderHierarchy_FolderDelete, &ok)) != APR_SUCCESS || !ok)
        return rv;
    if ((rv = eas_folders_get(req, id, &f)) != APR_SUCCESS)
        return rv;
    if (!f) {
        folder_status(req, EAS_FolderHierarchy_FolderDelete, EAS_FS_MISSING);
        return APR_SUCCESS;
    }
    if ((rv = eas_folders_delete(req, f, &status)) != APR_SUCCESS)
        return rv;
    if (status == EAS_FS_OK && (rv = advance_key(req, &key)) != APR_SUCCESS)
        return rv;
    op_response(req, EAS_FolderHierarchy_FolderDelete, status, key, NULL);
    return APR_SUCCESS;
}

apr_status_t eas_cmd_folderupdate(eas_request_t *req)
{
    const char *id = eas_node_child_text(req->doc, EAS_FolderHierarchy_ServerId), *key = NULL;
    const char *name = eas_node_child_text(req->doc, EAS_FolderHierarchy_DisplayName);
    eas_folder_t *f, *parent;
    apr_status_t rv;
    int ok, found, status;

    if ((rv = folder_op_key(req, EAS_FolderHierarchy_FolderUpdate, &ok)) != APR_SUCCESS || !ok)
        return rv;
    if ((rv = eas_folders_get(req, id, &f)) != APR_SUCCESS)
        return rv;
    if (!f) {
        folder_status(req, EAS_FolderHierarchy_FolderUpdate, EAS_FS_MISSING);
        return APR_SUCCESS;
    }
    if ((rv = lookup_parent(req, eas_node_child_text(req->doc, EAS_FolderHierarchy_ParentId),
                            &parent, &found)) != APR_SUCCESS)
        return rv;
    if (!found) {
        folder_status(req, EAS_FolderHierarchy_FolderUpdate, EAS_FS_NO_PARENT);
        return APR_SUCCESS;
    }
    if ((rv = eas_folders_update(req, f, parent, name ? name : f->display_name, &status)) !=
        APR_SUCCESS)
        return rv;
    if (status == EAS_FS_OK && (rv = advance_key(req, &key)) != APR_SUCCESS)
        return rv;
    op_response(req, EAS_FolderHierarchy_FolderUpdate, status, key, NULL);
    return APR_SUCCESS;
}
