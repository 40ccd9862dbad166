/*
 * The folder hierarchy a device sees (eas.folders): mail folders mirrored
 * from IMAP LIST, PIM folders kept in PostgreSQL.  Every change gets the
 * user's next hierarchy sequence number, which FolderSync diffs against.
 */
#ifndef EAS_FOLDERS_H
#define EAS_FOLDERS_H

#include "eas_request.h"

/* MS-ASCMD 2.2.3.186.3 */
enum {
    EAS_FOLDER_GENERIC = 1, EAS_FOLDER_INBOX = 2, EAS_FOLDER_DRAFTS = 3,
    EAS_FOLDER_DELETED = 4, EAS_FOLDER_SENT = 5, EAS_FOLDER_OUTBOX = 6,
    EAS_FOLDER_TASKS = 7, EAS_FOLDER_CALENDAR = 8, EAS_FOLDER_CONTACTS = 9,
    EAS_FOLDER_NOTES = 10, EAS_FOLDER_JOURNAL = 11, EAS_FOLDER_USER_MAIL = 12,
    EAS_FOLDER_USER_CALENDAR = 13, EAS_FOLDER_USER_CONTACTS = 14,
    EAS_FOLDER_USER_TASKS = 15, EAS_FOLDER_USER_JOURNAL = 16, EAS_FOLDER_USER_NOTES = 17
};

/* FolderSync/Create/Update/Delete Status values (MS-ASCMD 2.2.3.177.3-6). */
enum {
    EAS_FS_OK = 1, EAS_FS_EXISTS = 2, EAS_FS_SPECIAL = 3, EAS_FS_MISSING = 4,
    EAS_FS_NO_PARENT = 5, EAS_FS_SERVER = 6, EAS_FS_BAD_KEY = 9, EAS_FS_MALFORMED = 10
};

/* Brings eas.folders up to date for req->user: default PIM folders exist,
 * mail folders match IMAP LIST.  APR_EAGAIN when IMAP cannot be reached. */
apr_status_t eas_folders_refresh(eas_request_t *req);

typedef struct eas_folder_t {
    const char *id;           /* ServerId */
    const char *parent_id;    /* NULL: root */
    const char *display_name;
    const char *imap_name;    /* NULL for PIM folders */
    const char *cls;          /* Email, Contacts, Calendar, Tasks, Notes */
    int type;
} eas_folder_t;

/* Looks up a live folder of the user by ServerId; *f NULL if none. */
apr_status_t eas_folders_get(eas_request_t *req, const char *server_id, eas_folder_t **f);

/* Mail folder operations on IMAP and eas.folders together; changed_by is
 * the device that asked (its next FolderSync does not echo the change).
 * Return EAS FolderCreate/Update/Delete Status values (1 = success) in
 * *status; apr_status_t reports database/IMAP-transient failures. */
apr_status_t eas_folders_create(eas_request_t *req, const eas_folder_t *parent,
                                const char *name, int type, const char **server_id,
                                int *status);
apr_status_t eas_folders_update(eas_request_t *req, const eas_folder_t *f,
                                const eas_folder_t *new_parent, const char *name, int *status);
apr_status_t eas_folders_delete(eas_request_t *req, const eas_folder_t *f, int *status);

#endif
