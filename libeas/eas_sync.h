/*
 * The Sync engine (docs/design-sync.md): collection state, SyncKeys, the
 * device view, client commands and server changes with windowing, for any
 * kind of folder.  What an item is and where it lives is a provider's
 * business: the PIM provider (eas_pim.h) keeps contacts, calendar items,
 * tasks and notes in PostgreSQL; a mail provider plugs in the same way.
 *
 * The protocol side (eas_cmd_sync.c) parses the request and writes the
 * response envelope; the engine processes one collection at a time and
 * produces its <Collection> element.
 */
#ifndef EAS_SYNC_H
#define EAS_SYNC_H

#include <apr_tables.h>
#include "eas_folders.h"
#include "eas_request.h"
#include "eas_wbxml.h"

/* Sync Status values (MS-ASCMD 2.2.3.177.17). */
enum {
    EAS_SYNC_OK = 1,
    EAS_SYNC_BAD_KEY = 3,
    EAS_SYNC_PROTOCOL = 4,
    EAS_SYNC_SERVER = 5,
    EAS_SYNC_CONVERSION = 6,
    EAS_SYNC_CONFLICT = 7,
    EAS_SYNC_NOT_FOUND = 8,
    EAS_SYNC_CANNOT_COMPLETE = 9,
    EAS_SYNC_HIERARCHY = 12,
    EAS_SYNC_INCOMPLETE = 13,
    EAS_SYNC_BAD_WAIT = 14,
    EAS_SYNC_TOO_MANY = 15,
    EAS_SYNC_RETRY = 16
};

/* FilterType (MS-ASCMD 2.2.3.68.2). */
enum {
    EAS_FILTER_ALL = 0, EAS_FILTER_1DAY = 1, EAS_FILTER_3DAYS = 2, EAS_FILTER_1WEEK = 3,
    EAS_FILTER_2WEEKS = 4, EAS_FILTER_1MONTH = 5, EAS_FILTER_3MONTHS = 6,
    EAS_FILTER_6MONTHS = 7, EAS_FILTER_INCOMPLETE = 8
};

/* One BodyPreference / BodyPartPreference (MS-ASAIRS 2.2.2.11, 2.2.2.12). */
typedef struct eas_body_pref_t {
    int type;                 /* 1 plain, 2 HTML, 3 RTF, 4 MIME */
    apr_size_t truncation;    /* bytes; 0 with has_truncation = 0: whole body */
    int has_truncation;
    int all_or_none;
    int preview;              /* characters, 0: none */
} eas_body_pref_t;

#define EAS_MAX_BODY_PREFS 4

/* The Options of a collection (MS-ASCMD 2.2.3.125.6), sticky across
 * requests: a request without Options keeps the last ones. */
typedef struct eas_sync_options_t {
    int filter_type;          /* EAS_FILTER_*, 0 when absent */
    int conflict;             /* 0: client wins, 1: server wins (default) */
    int mime_support;         /* 0, 1, 2 */
    int has_mime_truncation;
    int mime_truncation;      /* code 0..8 */
    int truncation;           /* 2.5 Truncation code 0..9; -1 absent */
    int max_items;            /* 0 when absent */
    int rm_support;
    int n_body_prefs, n_part_prefs;
    eas_body_pref_t body_prefs[EAS_MAX_BODY_PREFS];
    eas_body_pref_t part_prefs[EAS_MAX_BODY_PREFS];
} eas_sync_options_t;

/* Reads an Options element into o (defaults first when reset is set). */
void eas_sync_options_parse(eas_sync_options_t *o, const eas_node_t *options, int reset);

/* A server change the engine is to send: what the device view says
 * decides the operation. */
typedef enum {
    EAS_CHANGE_ADD, EAS_CHANGE_CHANGE, EAS_CHANGE_DELETE, EAS_CHANGE_SOFTDELETE
} eas_change_op_e;

typedef struct eas_sync_change_t {
    eas_change_op_e op;
    apr_int64_t item;         /* item key inside the folder */
    apr_int64_t version;      /* what the view records once sent (ADD/CHANGE) */
    void *data;               /* provider's, for write() */
} eas_sync_change_t;

typedef struct eas_sync_coll_t eas_sync_coll_t;

/*
 * A provider.  Every function runs inside the request's transaction and
 * returns APR_SUCCESS or a failure (APR_EAGAIN: backend down), which undoes
 * the collection and answers it with Status 16; item-level outcomes go in
 * *status (EAS_SYNC_OK, _CONVERSION, ...).  The engine keeps the view and
 * c->cursor / filter state; a provider with more state (mail: uidvalidity,
 * modseq, uidnext) keeps it in its own columns of eas.collections.
 */
typedef struct eas_sync_provider_t {
    const char *name;
    /* SyncKey 0: forget the provider's cursor (the engine drops the view). */
    apr_status_t (*reset)(eas_sync_coll_t *c);
    /* Client Add: stores the item; *item and *version are what the view
     * records.  The engine has checked ClientId duplicates already. */
    apr_status_t (*add)(eas_sync_coll_t *c, const eas_node_t *appdata, apr_int64_t *item,
                        apr_int64_t *version, int *status);
    /* Client Change of an item the device holds at view_version;
     * instance_id (16.x) names one occurrence of a series, or NULL.
     * *version: the view's new version. */
    apr_status_t (*change)(eas_sync_coll_t *c, apr_int64_t item, apr_int64_t view_version,
                           const char *instance_id, const eas_node_t *appdata,
                           apr_int64_t *version, int *status);
    /* Client Delete.  With instance_id only that occurrence goes and the
     * item stays in the view at *version; otherwise *version is -1. */
    apr_status_t (*remove)(eas_sync_coll_t *c, apr_int64_t item, const char *instance_id,
                           apr_int64_t *version, int *status);
    /* Loads one item: *version its current version, -1 when it does not
     * exist (or is deleted).  With data not NULL, *data is what write()
     * needs (Fetch); NULL data only asks whether it exists. */
    apr_status_t (*load)(eas_sync_coll_t *c, apr_int64_t item, void **data,
                         apr_int64_t *version);
    /* Up to max server changes, in the order they are to be sent, appended
     * to out (eas_sync_change_t); *more when others remain.  The provider
     * advances its own cursor in c as it goes; it is saved only if the
     * request commits. */
    apr_status_t (*changes)(eas_sync_coll_t *c, int max, apr_array_header_t *out, int *more);
    /* The ApplicationData element of an ADD or CHANGE from changes() or of
     * an item from load().  Whatever can fail about an item fails in
     * changes() or load(), which leave it out: write() only writes. */
    void (*write)(eas_sync_coll_t *c, const eas_sync_change_t *ch, eas_wbxml_writer_t *w);
    /* How many changes the next Sync would send (GetItemEstimate). */
    apr_status_t (*estimate)(eas_sync_coll_t *c, int *count);
    /* Whether anything is to be sent, cheaply (Ping, Sync Wait). */
    apr_status_t (*pending)(eas_sync_coll_t *c, int *pending);
    /* MoveItems of one item to another folder of the same provider:
     * *dst_item / *dst_version are the new item in dst. */
    apr_status_t (*move)(eas_sync_coll_t *c, apr_int64_t item, const eas_folder_t *dst,
                         apr_int64_t *dst_item, apr_int64_t *dst_version, int *status);
} eas_sync_provider_t;

/* The provider for a folder class ("Contacts", "Email", ...), NULL if none. */
const eas_sync_provider_t *eas_sync_provider_for(const char *cls);

/* One collection being synced: request, options and state. */
struct eas_sync_coll_t {
    eas_request_t *req;
    apr_pool_t *pool;         /* lives while this collection is processed */
    const eas_folder_t *folder;
    const eas_sync_provider_t *provider;
    void *pdata;              /* provider's own */

    /* from the request (and the cache) */
    eas_sync_options_t opts;
    int filter_changed;       /* FilterType differs from what the view reflects */
    const apr_array_header_t *supported;  /* eas_tag_t of Supported; NULL: none sent */
    int deletes_as_moves;

    /* eas.collections */
    int exists;
    const char *generation;
    int key;
    apr_int64_t cursor;       /* provider-defined progress marker */
    int filter_type;          /* the view reflects this filter */
    const char *filter_cutoff;/* timestamptz text, NULL when none */
};

/* ServerId "<folder>:<item>" of an item of this collection. */
const char *eas_sync_server_id(eas_sync_coll_t *c, apr_int64_t item);

/* The device's view of the collection, one item: *version -1 when the
 * device does not hold it. */
apr_status_t eas_sync_view_get(eas_sync_coll_t *c, apr_int64_t item, apr_int64_t *version);

/* One <Collection> of a Sync request, after the empty/Partial handling. */
typedef struct eas_sync_creq_t {
    const char *sync_key;
    const char *collection_id;
    const char *cls;          /* Class, echoed for clients before 14.0 */
    int get_changes;          /* -1 absent */
    int window_size;          /* -1 absent */
    int deletes_as_moves;     /* -1 absent */
    const eas_node_t *options;    /* Options for the folder's class, or NULL */
    const eas_node_t *supported;
    const eas_node_t *commands;
} eas_sync_creq_t;

/*
 * Processes one collection: key check, client commands, server changes,
 * state, in a savepoint (a failure is undone and answered with Status 16;
 * only a broken database connection fails the request).  window is how
 * many changes the engine may send (the collection's
 * WindowSize, capped by what is left of the request's); *sent gets how
 * many it did.  The <Collection> element comes back as a WBXML document
 * of its own in *frag (allocated from p), to be copied into the response
 * with eas_sync_emit().  *said is 0 when the collection had nothing at all
 * to say (key unchanged, nothing sent, Status 1), so that a 12.1+ response
 * may be empty.
 */
apr_status_t eas_sync_collection(eas_request_t *req, const eas_sync_creq_t *cr,
                                 const eas_folder_t *folder, int window, apr_pool_t *p,
                                 const char **frag, apr_size_t *frag_len, int *sent, int *said);

/* Copies a fragment from eas_sync_collection() into the response. */
apr_status_t eas_sync_emit(eas_wbxml_writer_t *w, apr_pool_t *p, const char *frag,
                           apr_size_t len);

/* Locks the folders in ids (char *) in id order, so that two requests
 * changing several folders never deadlock. */
apr_status_t eas_sync_lock_folders(eas_request_t *req, const apr_array_header_t *ids);

/*
 * Whether the device has changes to receive in folder_id (for Ping and a
 * waiting Sync).  *pending is 1 when the device never synced the folder.
 * APR_NOTFOUND: not a live folder of the user; APR_ENOTIMPL: no provider
 * answers for the folder's class yet (Email): the caller must find out
 * another way.
 */
apr_status_t eas_sync_pending(eas_request_t *req, const char *folder_id, int *pending);

/* GetItemEstimate for one collection: *status is a GetItemEstimate Status
 * (MS-ASCMD 2.2.3.177.8: 1, 2 unknown collection, 3 not primed, 4 bad key). */
apr_status_t eas_sync_estimate(eas_request_t *req, const char *collection_id,
                               const char *sync_key, const eas_node_t *options,
                               int *status, int *estimate);

/* MoveItems for one item (MS-ASCMD 2.2.1.12): *status is a MoveItems
 * Status (2.2.3.177.9), *dst_id the new ServerId on success. */
apr_status_t eas_sync_move(eas_request_t *req, const char *src_msg, const char *src_fld,
                           const char *dst_fld, int *status, const char **dst_id);

#endif
