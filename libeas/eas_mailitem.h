/*
 * Mail items as the mail commands (SendMail family, ItemOperations,
 * GetAttachment, Search, Find, MeetingResponse) name and reach them.
 *
 * Identifiers, every number decimal without sign or padding:
 *   ServerId       "<folder>:<uid>"                    (docs/design-sync.md)
 *   LongId         "<folder>:<uidvalidity>:<uid>"      (Search results)
 *   FileReference  "<folder>:<uidvalidity>:<uid>:<part>" (attachments, and
 *                  the 2.5 AttName that GetAttachment's AttachmentName repeats)
 * <folder> is the eas.folders id of a mail folder, <part> the IMAP section
 * of the part ("2", "1.2").  An identifier resolves only to a folder row of
 * the requesting user, and IMAP is reached with that user's login, so no
 * identifier reaches another user's data.  The UIDVALIDITY in LongIds and
 * FileReferences makes an identifier that outlived a rebuilt mailbox fail
 * instead of naming some other message.
 */
#ifndef EAS_MAILITEM_H
#define EAS_MAILITEM_H

#include "eas_folders.h"
#include "eas_imap.h"
#include "eas_mime.h"
#include "eas_request.h"

typedef enum {
    EAS_MAILID_SERVERID,
    EAS_MAILID_LONGID,
    EAS_MAILID_FILEREF
} eas_mailid_kind_e;

/* Splits id of that kind (no database): APR_EINVAL when malformed.
 * uidvalidity is 0 and part NULL where the kind has none. */
apr_status_t eas_mailid_parse(apr_pool_t *p, eas_mailid_kind_e kind, const char *id,
                              const char **folder, apr_uint32_t *uidvalidity,
                              apr_uint32_t *uid, const char **part);
const char *eas_mailid_serverid(apr_pool_t *p, const char *folder, apr_uint32_t uid);
const char *eas_mailid_longid(apr_pool_t *p, const char *folder, apr_uint32_t uidvalidity,
                              apr_uint32_t uid);
/* What eas_mime_options_t.file_ref_prefix wants: the FileReference
 * without its part, ending in ':'. */
const char *eas_mailid_fileref_prefix(apr_pool_t *p, const char *folder,
                                      apr_uint32_t uidvalidity, apr_uint32_t uid);

typedef struct eas_mailitem_t {
    eas_folder_t *folder;       /* a live Email folder of req->user */
    apr_uint32_t uidvalidity;   /* 0: not part of the identifier, not checked */
    apr_uint32_t uid;
    const char *part;           /* FileReference: the IMAP section */
} eas_mailitem_t;

/* Resolves id for req->user.  *item is NULL when id is malformed or names
 * no mail folder of the user; the error is only a database failure. */
apr_status_t eas_mailitem_lookup(eas_request_t *req, eas_mailid_kind_e kind, const char *id,
                                 eas_mailitem_t **item);

/* ---- IMAP ------------------------------------------------------------- */

/* A connection for req->login from the pool (released with req->pool);
 * APR_EAGAIN when IMAP is not configured or cannot be had. */
apr_status_t eas_mail_imap(eas_request_t *req, eas_imap_t **conn);
/* Logs a failed operation and maps it for a command handler: APR_EAGAIN
 * for what may pass (unreachable, timeout, refused login), else
 * APR_EGENERAL. */
apr_status_t eas_mail_imap_failed(eas_request_t *req, eas_imap_t *c, eas_imap_rc_e rc,
                                  const char *what);

/* STATUS of mailbox, once more when the first attempt met a dead pooled
 * connection (after an IMAP restart the first command on each pooled
 * connection fails).  Called before an APPEND, which is never repeated
 * because it could store twice, it makes sure the connection is alive. */
eas_imap_rc_e eas_mail_status(eas_imap_t *c, const char *mailbox, eas_imap_status_t *st);

/* Largest message fetched into memory as a whole. */
#define EAS_MAIL_MAX_MESSAGE (64 * 1024 * 1024)

/* The message's flags, INTERNALDATE and size (*meta) and its bytes.
 * NO_MESSAGE when it is gone (or the UIDVALIDITY changed); an item
 * without one gets the mailbox's UIDVALIDITY. */
eas_imap_rc_e eas_mailitem_fetch_raw(eas_imap_t *c, eas_mailitem_t *it, apr_pool_t *p,
                                     eas_imap_msg_t **meta, const char **data,
                                     apr_size_t *len);
/* The same, parsed (eas_mime_parse). */
eas_imap_rc_e eas_mailitem_fetch(eas_imap_t *c, eas_mailitem_t *it, apr_pool_t *p,
                                 eas_imap_msg_t **meta, eas_mime_msg_t **msg);

/* What IMAP says about a message, for eas_mime_write: \Seen, \Flagged,
 * \Answered, $Forwarded, and the other keywords as categories. */
void eas_mailitem_state(apr_pool_t *p, const eas_imap_msg_t *meta, eas_mime_state_t *st);

/* The user's mail folder of a default type (EAS_FOLDER_SENT, ...), looking
 * at IMAP once when the user has none yet; *f NULL when there is none. */
apr_status_t eas_mail_special_folder(eas_request_t *req, int type, eas_folder_t **f);

/* ---- parts ------------------------------------------------------------ */

/* One part of a message, decoded, as pieces of at most 1 MB (eas_bytes_t)
 * so that no large buffer is ever copied or grown. */
typedef struct eas_mail_part_t {
    const char *content_type;   /* "application/pdf", lower case */
    const char *filename;       /* decoded, NULL when the part names none */
    apr_off_t total;            /* decoded size of the whole part */
    apr_off_t first;            /* offset of the first byte kept */
    apr_size_t len;             /* bytes kept */
    apr_array_header_t *pieces; /* eas_bytes_t */
} eas_mail_part_t;

/* Fetches the part it->part and decodes it while it streams in, keeping
 * the decoded bytes lo..hi (inclusive; hi < 0: to the end).  NO_MESSAGE
 * when there is no such part, or it is a multipart. */
eas_imap_rc_e eas_mailitem_part(eas_imap_t *c, eas_mailitem_t *it, apr_off_t lo,
                                apr_off_t hi, apr_pool_t *p, eas_mail_part_t **part);

#endif
