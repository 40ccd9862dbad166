#include "eas_folders.h"

#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "eas_imap.h"

/* The default PIM folders every user has (MS-ASCMD 2.2.3.186.3). */
static const struct {
    int type;
    const char *cls, *name;
} pim_defaults[] = {
    {EAS_FOLDER_CONTACTS, "Contacts", "Contacts"},
    {EAS_FOLDER_CALENDAR, "Calendar", "Calendar"},
    {EAS_FOLDER_TASKS, "Tasks", "Tasks"},
    {EAS_FOLDER_NOTES, "Notes", "Notes"},
};

/* Well-known names for servers without SPECIAL-USE (top level only). */
static const struct {
    const char *name;
    int type;
} fallback_names[] = {
    {"Drafts", EAS_FOLDER_DRAFTS},       {"Sent", EAS_FOLDER_SENT},
    {"Sent Items", EAS_FOLDER_SENT},     {"Sent Messages", EAS_FOLDER_SENT},
    {"Trash", EAS_FOLDER_DELETED},       {"Deleted Items", EAS_FOLDER_DELETED},
    {"Deleted Messages", EAS_FOLDER_DELETED},
};

typedef struct {
    apr_pool_t *pool;
    eas_request_t *req;
    const char *seq;          /* allocated on the first change */
} changes_t;

static apr_status_t next_seq(changes_t *c, const char **seq)
{
    apr_status_t rv = APR_SUCCESS;

    if (!c->seq)
        rv = eas_db_value(c->req->db, c->pool, &c->seq, "SELECT eas.next_hierarchy_seq(%s::bigint)",
                          EAS_DB_ARGS(c->req->user->id));
    *seq = c->seq;
    return rv;
}

static apr_status_t ensure_pim_defaults(changes_t *c)
{
    eas_request_t *req = c->req;
    eas_db_rows_t *rows;
    apr_status_t rv;
    unsigned i;
    int r, have;

    rv = eas_db_select(req->db, c->pool, &rows,
                       "SELECT type FROM eas.folders WHERE user_id = %s::bigint AND NOT deleted "
                       "AND type IN (7, 8, 9, 10)", EAS_DB_ARGS(req->user->id));
    for (i = 0; rv == APR_SUCCESS && i < sizeof(pim_defaults) / sizeof(pim_defaults[0]); i++) {
        const char *seq;
        for (have = 0, r = 0; r < rows->nrows; r++)
            have |= atoi(eas_db_val(rows, r, 0)) == pim_defaults[i].type;
        if (have)
            continue;
        if ((rv = next_seq(c, &seq)) == APR_SUCCESS)
            rv = eas_db_exec(req->db, c->pool, NULL,
                             "INSERT INTO eas.folders (user_id, class, type, display_name, "
                             "created_seq, changed_seq) VALUES (%s::bigint, %s, %s::smallint, %s, "
                             "%s::bigint, %s::bigint)",
                             EAS_DB_ARGS(req->user->id, pim_defaults[i].cls,
                                         apr_itoa(c->pool, pim_defaults[i].type),
                                         pim_defaults[i].name, seq, seq));
    }
    return rv;
}

typedef struct {
    const eas_imap_mailbox_t *mb;
    const char *parent;       /* imap name of the nearest selectable ancestor */
    const char *display;
    int type, depth;
} wanted_t;

static int by_depth(const void *a, const void *b)
{
    const wanted_t *x = a, *y = b;

    return x->depth - y->depth;
}

static const char *parent_name(apr_pool_t *p, const eas_imap_mailbox_t *mb, apr_hash_t *selectable)
{
    const char *name = mb->name;

    while (mb->delim) {
        const char *cut = strrchr(name, mb->delim);
        if (!cut)
            return NULL;
        name = apr_pstrmemdup(p, name, (apr_size_t)(cut - name));
        if (apr_hash_get(selectable, name, APR_HASH_KEY_STRING))
            return name;
    }
    return NULL;
}

/* Mailboxes the device should see, parents before children. */
static apr_array_header_t *wanted_mailboxes(apr_pool_t *p, const apr_array_header_t *list)
{
    apr_array_header_t *out = apr_array_make(p, list->nelts, sizeof(wanted_t));
    apr_hash_t *selectable = apr_hash_make(p);
    int have_type[EAS_FOLDER_USER_NOTES + 1] = {0}, special_use = 0, i;
    unsigned k;

    for (i = 0; i < list->nelts; i++) {
        const eas_imap_mailbox_t *mb = &APR_ARRAY_IDX(list, i, eas_imap_mailbox_t);
        if (!(mb->attrs & (EAS_IMAP_MBX_NOSELECT | EAS_IMAP_MBX_NONEXISTENT)))
            apr_hash_set(selectable, mb->name, APR_HASH_KEY_STRING, mb);
        if (mb->attrs & (EAS_IMAP_MBX_DRAFTS | EAS_IMAP_MBX_SENT | EAS_IMAP_MBX_TRASH))
            special_use = 1;
    }
    for (i = 0; i < list->nelts; i++) {
        const eas_imap_mailbox_t *mb = &APR_ARRAY_IDX(list, i, eas_imap_mailbox_t);
        wanted_t *w;
        const char *c;
        int type = EAS_FOLDER_USER_MAIL;

        if (!apr_hash_get(selectable, mb->name, APR_HASH_KEY_STRING))
            continue;
        if (!strcasecmp(mb->name, "INBOX"))
            type = EAS_FOLDER_INBOX;
        else if (mb->attrs & EAS_IMAP_MBX_DRAFTS)
            type = EAS_FOLDER_DRAFTS;
        else if (mb->attrs & EAS_IMAP_MBX_SENT)
            type = EAS_FOLDER_SENT;
        else if (mb->attrs & EAS_IMAP_MBX_TRASH)
            type = EAS_FOLDER_DELETED;
        else if (!special_use)
            for (k = 0; k < sizeof(fallback_names) / sizeof(fallback_names[0]); k++)
                if (!strcasecmp(mb->name, fallback_names[k].name))
                    type = fallback_names[k].type;
        if (type != EAS_FOLDER_USER_MAIL && have_type[type]++)
            type = EAS_FOLDER_USER_MAIL; /* only one default folder of a kind */
        w = apr_array_push(out);
        w->mb = mb;
        w->type = type;
        w->parent = parent_name(p, mb, selectable);
        w->display = type == EAS_FOLDER_INBOX ? "Inbox"
                     : mb->delim && (c = strrchr(mb->name, mb->delim)) ? c + 1 : mb->name;
        for (w->depth = 0, c = mb->name; mb->delim && (c = strchr(c, mb->delim)); c++)
            w->depth++;
    }
    qsort(out->elts, (size_t)out->nelts, sizeof(wanted_t), by_depth);
    return out;
}

static apr_status_t imap_conn(eas_request_t *req, apr_pool_t *p, eas_imap_t **c)
{
    if (!req->imap || !req->imap_server)
        return APR_EAGAIN;
    return eas_imap_acquire(req->imap, req->imap_server, req->login, req->password, p, c);
}

static apr_status_t imap_failed(eas_request_t *req, eas_imap_t *c, eas_imap_rc_e rc,
                                const char *what)
{
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                   EASLOGNO(00050) "IMAP %s for %s failed (%s): %s", what, req->login,
                   eas_imap_rc_name(rc), c ? eas_imap_error(c) : "no connection");
    return rc == EAS_IMAP_TRANSIENT || rc == EAS_IMAP_AUTH ? APR_EAGAIN : APR_EGENERAL;
}

static apr_status_t sync_mail_folders(changes_t *c)
{
    eas_request_t *req = c->req;
    apr_array_header_t *list, *wanted;
    apr_hash_t *ids = apr_hash_make(c->pool), *seen = apr_hash_make(c->pool);
    eas_db_rows_t *rows;
    eas_imap_t *imap;
    eas_imap_rc_e rc;
    apr_status_t rv;
    int i, r;

    if ((rv = imap_conn(req, c->pool, &imap)) != APR_SUCCESS)
        return imap_failed(req, NULL, EAS_IMAP_TRANSIENT, "connect");
    rc = eas_imap_list(imap, c->pool, &list);
    if (rc != EAS_IMAP_OK)
        return imap_failed(req, imap, rc, "LIST");
    wanted = wanted_mailboxes(c->pool, list);

    rv = eas_db_select(req->db, c->pool, &rows,
                       "SELECT id, imap_name, coalesce(parent_id::text, ''), display_name, type "
                       "FROM eas.folders WHERE user_id = %s::bigint AND class = 'Email' "
                       "AND NOT deleted", EAS_DB_ARGS(req->user->id));
    if (rv != APR_SUCCESS)
        return rv;
    for (r = 0; r < rows->nrows; r++)
        apr_hash_set(ids, eas_db_val(rows, r, 1), APR_HASH_KEY_STRING, apr_itoa(c->pool, r));

    for (i = 0; i < wanted->nelts && rv == APR_SUCCESS; i++) {
        const wanted_t *w = &APR_ARRAY_IDX(wanted, i, wanted_t);
        const char *row = apr_hash_get(ids, w->mb->name, APR_HASH_KEY_STRING);
        const char *parent_id = w->parent ? apr_hash_get(seen, w->parent, APR_HASH_KEY_STRING) : "";
        const char *type = apr_itoa(c->pool, w->type), *seq, *id;

        if (!parent_id)
            parent_id = "";
        if (row) {
            r = atoi(row);
            id = eas_db_val(rows, r, 0);
            if (strcmp(eas_db_val(rows, r, 2), parent_id) ||
                strcmp(eas_db_val(rows, r, 3), w->display) || strcmp(eas_db_val(rows, r, 4), type)) {
                if ((rv = next_seq(c, &seq)) == APR_SUCCESS)
                    rv = eas_db_exec(req->db, c->pool, NULL,
                                     "UPDATE eas.folders SET parent_id = nullif(%s, '')::bigint, "
                                     "display_name = %s, type = %s::smallint, changed_seq = %s::bigint, "
                                     "changed_by = NULL WHERE id = %s::bigint",
                                     EAS_DB_ARGS(parent_id, w->display, type, seq, id));
            }
            apr_hash_set(ids, w->mb->name, APR_HASH_KEY_STRING, NULL);
        }
        else {
            if ((rv = next_seq(c, &seq)) == APR_SUCCESS)
                rv = eas_db_value(req->db, c->pool, &id,
                                  "INSERT INTO eas.folders (user_id, class, type, parent_id, "
                                  "display_name, imap_name, created_seq, changed_seq) VALUES "
                                  "(%s::bigint, 'Email', %s::smallint, nullif(%s, '')::bigint, %s, %s, "
                                  "%s::bigint, %s::bigint) RETURNING id",
                                  EAS_DB_ARGS(req->user->id, type, parent_id, w->display,
                                              w->mb->name, seq, seq));
        }
        if (rv == APR_SUCCESS)
            apr_hash_set(seen, w->mb->name, APR_HASH_KEY_STRING, id);
    }
    /* What is left in ids no longer exists on the server. */
    {
        apr_hash_index_t *hi;
        for (hi = apr_hash_first(c->pool, ids); hi && rv == APR_SUCCESS; hi = apr_hash_next(hi)) {
            const char *row, *seq;
            apr_hash_this(hi, NULL, NULL, (void **)&row);
            if ((rv = next_seq(c, &seq)) == APR_SUCCESS)
                rv = eas_db_exec(req->db, c->pool, NULL,
                                 "UPDATE eas.folders SET deleted = true, changed_seq = %s::bigint, "
                                 "changed_by = NULL WHERE id = %s::bigint",
                                 EAS_DB_ARGS(seq, eas_db_val(rows, atoi(row), 0)));
        }
    }
    eas_imap_release(imap);
    return rv;
}

apr_status_t eas_folders_refresh(eas_request_t *req)
{
    changes_t c = {NULL, req, NULL};
    apr_status_t rv;

    apr_pool_create(&c.pool, req->pool);
    rv = ensure_pim_defaults(&c);
    if (rv == APR_SUCCESS)
        rv = sync_mail_folders(&c);
    apr_pool_destroy(c.pool);
    return rv;
}

apr_status_t eas_folders_get(eas_request_t *req, const char *server_id, eas_folder_t **out)
{
    eas_db_rows_t *rows;
    eas_folder_t *f;
    apr_status_t rv;

    *out = NULL;
    if (!server_id || !*server_id || strspn(server_id, "0123456789") != strlen(server_id) ||
        strlen(server_id) > 18)
        return APR_SUCCESS;
    rv = eas_db_select(req->db, req->pool, &rows,
                       "SELECT id, parent_id, display_name, imap_name, class, type FROM eas.folders "
                       "WHERE id = %s::bigint AND user_id = %s::bigint AND NOT deleted",
                       EAS_DB_ARGS(server_id, req->user->id));
    if (rv != APR_SUCCESS || rows->nrows == 0)
        return rv;
    f = apr_pcalloc(req->pool, sizeof(*f));
    f->id = eas_db_val(rows, 0, 0);
    f->parent_id = eas_db_val(rows, 0, 1);
    f->display_name = eas_db_val(rows, 0, 2);
    f->imap_name = eas_db_val(rows, 0, 3);
    f->cls = eas_db_val(rows, 0, 4);
    f->type = atoi(eas_db_val(rows, 0, 5));
    *out = f;
    return APR_SUCCESS;
}

static const char *class_for_type(int type)
{
    switch (type) {
    case EAS_FOLDER_GENERIC:
    case EAS_FOLDER_USER_MAIL: return "Email";
    case EAS_FOLDER_USER_CALENDAR: return "Calendar";
    case EAS_FOLDER_USER_CONTACTS: return "Contacts";
    case EAS_FOLDER_USER_TASKS: return "Tasks";
    case EAS_FOLDER_USER_NOTES: return "Notes";
    default: return NULL;
    }
}

/* The IMAP delimiter, from the listing of the parent (or INBOX). */
static apr_status_t imap_delim(eas_request_t *req, eas_imap_t *imap, apr_pool_t *p, char *delim)
{
    apr_array_header_t *list;
    eas_imap_rc_e rc = eas_imap_list(imap, p, &list);
    int i;

    if (rc != EAS_IMAP_OK)
        return imap_failed(req, imap, rc, "LIST");
    *delim = '/';
    for (i = 0; i < list->nelts; i++)
        if (APR_ARRAY_IDX(list, i, eas_imap_mailbox_t).delim) {
            *delim = APR_ARRAY_IDX(list, i, eas_imap_mailbox_t).delim;
            break;
        }
    return APR_SUCCESS;
}

/* Connects and works out the IMAP name of a mail folder called name under
 * parent (NULL: top level).  *imap_name NULL: the name holds the hierarchy
 * delimiter and cannot be used. */
static apr_status_t mail_target(eas_request_t *req, const eas_folder_t *parent, const char *name,
                                eas_imap_t **imap, const char **imap_name, char *delim)
{
    apr_status_t rv;

    *imap_name = NULL;
    if (imap_conn(req, req->pool, imap) != APR_SUCCESS)
        return imap_failed(req, NULL, EAS_IMAP_TRANSIENT, "connect");
    if ((rv = imap_delim(req, *imap, req->pool, delim)) != APR_SUCCESS)
        return rv;
    if (!strchr(name, *delim))
        *imap_name = parent ? apr_psprintf(req->pool, "%s%c%s", parent->imap_name, *delim, name)
                            : name;
    return APR_SUCCESS;
}

static apr_status_t name_taken(eas_request_t *req, const char *parent_id, const char *name,
                               const char *except, int *taken)
{
    const char *v;
    apr_status_t rv = eas_db_value(req->db, req->pool, &v,
                                   "SELECT count(*) FROM eas.folders WHERE user_id = %s::bigint "
                                   "AND NOT deleted AND parent_id IS NOT DISTINCT FROM "
                                   "nullif(%s, '')::bigint AND lower(display_name) = lower(%s) "
                                   "AND id <> coalesce(nullif(%s, '')::bigint, 0)",
                                   EAS_DB_ARGS(req->user->id, parent_id ? parent_id : "", name,
                                               except ? except : ""));
    *taken = rv == APR_SUCCESS && v && atoi(v) > 0;
    return rv;
}

apr_status_t eas_folders_create(eas_request_t *req, const eas_folder_t *parent,
                                const char *name, int type, const char **server_id,
                                int *status)
{
    const char *cls = class_for_type(type), *imap_name = NULL, *seq;
    apr_status_t rv;
    int taken;

    *status = EAS_FS_MALFORMED;
    if (!cls || !*name || strlen(name) > 256)
        return APR_SUCCESS;
    if (parent && strcmp(parent->cls, cls)) {
        *status = EAS_FS_SPECIAL;
        return APR_SUCCESS;
    }
    if ((rv = name_taken(req, parent ? parent->id : NULL, name, NULL, &taken)) != APR_SUCCESS)
        return rv;
    if (taken) {
        *status = EAS_FS_EXISTS;
        return APR_SUCCESS;
    }
    if (!strcmp(cls, "Email")) {
        eas_imap_t *imap;
        eas_imap_rc_e rc;
        char delim;

        if ((rv = mail_target(req, parent, name, &imap, &imap_name, &delim)) != APR_SUCCESS)
            return rv;
        if (!imap_name)
            return APR_SUCCESS; /* EAS_FS_MALFORMED: the name would nest */
        rc = eas_imap_create(imap, imap_name);
        if (rc == EAS_IMAP_EXISTS) {
            *status = EAS_FS_EXISTS;
            return APR_SUCCESS;
        }
        if (rc != EAS_IMAP_OK)
            return imap_failed(req, imap, rc, "CREATE");
        eas_imap_subscribe(imap, imap_name, 1);
        eas_imap_release(imap);
        type = EAS_FOLDER_USER_MAIL;
    }
    if ((rv = eas_db_value(req->db, req->pool, &seq, "SELECT eas.next_hierarchy_seq(%s::bigint)",
                           EAS_DB_ARGS(req->user->id))) != APR_SUCCESS)
        return rv;
    rv = eas_db_value(req->db, req->pool, server_id,
                      "INSERT INTO eas.folders (user_id, class, type, parent_id, display_name, "
                      "imap_name, created_seq, changed_seq, changed_by) VALUES (%s::bigint, %s, "
                      "%s::smallint, %s::bigint, %s, %s, %s::bigint, %s::bigint, %s::bigint) "
                      "RETURNING id",
                      EAS_DB_ARGS(req->user->id, cls, apr_itoa(req->pool, type),
                                  parent ? parent->id : NULL, name, imap_name, seq, seq,
                                  req->device->id));
    if (rv == APR_SUCCESS)
        *status = EAS_FS_OK;
    return rv;
}

apr_status_t eas_folders_update(eas_request_t *req, const eas_folder_t *f,
                                const eas_folder_t *new_parent, const char *name, int *status)
{
    const char *seq, *imap_name = NULL;
    apr_status_t rv;
    int taken;

    *status = EAS_FS_MALFORMED;
    if (!*name || strlen(name) > 256)
        return APR_SUCCESS;
    if (f->type >= EAS_FOLDER_INBOX && f->type <= EAS_FOLDER_JOURNAL) {
        *status = EAS_FS_EXISTS; /* a special folder cannot be renamed or moved */
        return APR_SUCCESS;
    }
    if (new_parent && (strcmp(new_parent->cls, f->cls) || !strcmp(new_parent->id, f->id))) {
        *status = EAS_FS_NO_PARENT;
        return APR_SUCCESS;
    }
    if ((rv = name_taken(req, new_parent ? new_parent->id : NULL, name, f->id, &taken)) !=
        APR_SUCCESS)
        return rv;
    if (taken) {
        *status = EAS_FS_EXISTS;
        return APR_SUCCESS;
    }
    if (f->imap_name) {
        eas_imap_t *imap;
        eas_imap_rc_e rc;
        char delim;

        if ((rv = mail_target(req, new_parent, name, &imap, &imap_name, &delim)) != APR_SUCCESS)
            return rv;
        if (!imap_name)
            return APR_SUCCESS;
        if (strcmp(imap_name, f->imap_name)) {
            if (!strncmp(imap_name, f->imap_name, strlen(f->imap_name)) &&
                imap_name[strlen(f->imap_name)] == delim) {
                *status = EAS_FS_NO_PARENT; /* into its own subtree */
                return APR_SUCCESS;
            }
            rc = eas_imap_rename(imap, f->imap_name, imap_name);
            if (rc == EAS_IMAP_EXISTS) {
                *status = EAS_FS_EXISTS;
                return APR_SUCCESS;
            }
            if (rc != EAS_IMAP_OK)
                return imap_failed(req, imap, rc, "RENAME");
            eas_imap_subscribe(imap, imap_name, 1);
        }
        eas_imap_release(imap);
        /* The server renamed the subtree; keep the children's ServerIds. */
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "UPDATE eas.folders SET imap_name = %s || substr(imap_name, %s::int) "
                         "WHERE user_id = %s::bigint AND NOT deleted AND "
                         "left(imap_name, %s::int) = %s",
                         EAS_DB_ARGS(imap_name, apr_itoa(req->pool, (int)strlen(f->imap_name) + 1),
                                     req->user->id,
                                     apr_itoa(req->pool, (int)strlen(f->imap_name) + 1),
                                     apr_psprintf(req->pool, "%s%c", f->imap_name, delim)));
        if (rv != APR_SUCCESS)
            return rv;
    }
    if ((rv = eas_db_value(req->db, req->pool, &seq, "SELECT eas.next_hierarchy_seq(%s::bigint)",
                           EAS_DB_ARGS(req->user->id))) != APR_SUCCESS)
        return rv;
    rv = eas_db_exec(req->db, req->pool, NULL,
                     "UPDATE eas.folders SET display_name = %s, parent_id = %s::bigint, "
                     "imap_name = coalesce(%s, imap_name), changed_seq = %s::bigint, "
                     "changed_by = %s::bigint WHERE id = %s::bigint",
                     EAS_DB_ARGS(name, new_parent ? new_parent->id : NULL, imap_name, seq,
                                 req->device->id, f->id));
    if (rv == APR_SUCCESS)
        *status = EAS_FS_OK;
    return rv;
}

apr_status_t eas_folders_delete(eas_request_t *req, const eas_folder_t *f, int *status)
{
    eas_db_rows_t *rows;
    const char *seq;
    apr_status_t rv;
    int r;

    if (f->type >= EAS_FOLDER_INBOX && f->type <= EAS_FOLDER_JOURNAL) {
        *status = EAS_FS_SPECIAL;
        return APR_SUCCESS;
    }
    /* The folder and everything below it, deepest first. */
    rv = eas_db_select(req->db, req->pool, &rows,
                       "WITH RECURSIVE t(id, imap_name, depth) AS ("
                       " SELECT id, imap_name, 0 FROM eas.folders WHERE id = %s::bigint "
                       " UNION ALL SELECT f.id, f.imap_name, t.depth + 1 FROM eas.folders f "
                       " JOIN t ON f.parent_id = t.id WHERE NOT f.deleted) "
                       "SELECT id, imap_name FROM t ORDER BY depth DESC",
                       EAS_DB_ARGS(f->id));
    if (rv != APR_SUCCESS)
        return rv;
    if (f->imap_name) {
        eas_imap_t *imap;
        if ((rv = imap_conn(req, req->pool, &imap)) != APR_SUCCESS)
            return imap_failed(req, NULL, EAS_IMAP_TRANSIENT, "connect");
        for (r = 0; r < rows->nrows; r++) {
            eas_imap_rc_e rc = eas_imap_delete(imap, eas_db_val(rows, r, 1));
            if (rc != EAS_IMAP_OK && rc != EAS_IMAP_NO_MAILBOX)
                return imap_failed(req, imap, rc, "DELETE");
            eas_imap_subscribe(imap, eas_db_val(rows, r, 1), 0);
        }
        eas_imap_release(imap);
    }
    if ((rv = eas_db_value(req->db, req->pool, &seq, "SELECT eas.next_hierarchy_seq(%s::bigint)",
                           EAS_DB_ARGS(req->user->id))) != APR_SUCCESS)
        return rv;
    for (r = 0; r < rows->nrows && rv == APR_SUCCESS; r++)
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "UPDATE eas.folders SET deleted = true, changed_seq = %s::bigint, "
                         "changed_by = %s::bigint WHERE id = %s::bigint",
                         EAS_DB_ARGS(seq, req->device->id, eas_db_val(rows, r, 0)));
    if (rv == APR_SUCCESS)
        *status = EAS_FS_OK;
    return rv;
}
