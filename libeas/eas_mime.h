/*
 * MIME for the Email class.
 *
 * Incoming: a message as IMAP hands it over is parsed once into a summary
 * (eas_mime_msg_t) that holds every MS-ASEMAIL property, the decoded bodies,
 * the attachment list and the meeting request of a text/calendar part; the
 * summary is then written as Sync / ItemOperations / Search ApplicationData
 * for a protocol version, the client's body preferences and the message's
 * IMAP state.  Attachment content is fetched again by MIME part path.
 *
 * Outgoing: the client's MIME of SendMail / SmartReply / SmartForward is
 * turned into what goes to SMTP and to the Sent folder (envelope, Bcc
 * stripped, From enforced, reply quoting, forwarded attachments, S/MIME
 * untouched).
 *
 * Built on GMime 3, which wants g_mime_init() once per process: the embedder
 * calls eas_mime_init() before it starts threads (mod_eas in child_init, never
 * in post_config: GLib's types do not survive httpd unloading modules on a
 * graceful restart; tools, tests and fuzzers in main).  After that every function
 * here may run in any thread on its own objects.
 *
 * All text coming out is valid UTF-8 without NUL, whatever the message's
 * charsets claim.
 */
#ifndef EAS_MIME_H
#define EAS_MIME_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "eas_wbxml.h"

/* Idempotent; not thread-safe (call it before threads exist). */
apr_status_t eas_mime_init(void);

/* ---- the summary ----------------------------------------------------- */

/* AirSyncBase body types (MS-ASAIRS 2.2.2.41). */
#define EAS_BODY_PLAIN 1
#define EAS_BODY_HTML 2
#define EAS_BODY_RTF 3
#define EAS_BODY_MIME 4

typedef enum {
    EAS_SMIME_NONE = 0,
    EAS_SMIME_SIGNED,           /* multipart/signed: clear-signed */
    EAS_SMIME_OPAQUE            /* application/pkcs7-mime: encrypted or opaque-signed */
} eas_smime_e;

typedef struct eas_mime_attachment_t {
    const char *path;           /* IMAP section of the part ("2", "1.2"): the part of a
                                 * FileReference that names the attachment */
    const char *display_name;   /* decoded (RFC 2231 / 2047); invented when the part has none */
    const char *content_type;   /* lower case, "image/png" */
    apr_off_t size;             /* bytes after transfer decoding */
    const char *content_id;     /* without <>, NULL if none */
    const char *content_location;
    int is_inline;
    int method;                 /* MS-ASAIRS 2.2.2.31.2: 1 normal, 5 embedded message, 6 OLE */
} eas_mime_attachment_t;

/* MS-ASEMAIL 2.2.2.60 Recurrence; fields are 0 / -1 when absent. */
typedef struct eas_mime_recurrence_t {
    int type;                   /* 0 daily, 1 weekly, 2 monthly, 3 monthly on the nth day,
                                 * 5 yearly, 6 yearly on the nth day */
    int interval;               /* 0: absent */
    apr_time_t until;           /* 0: absent */
    int occurrences;            /* 0: absent */
    int day_of_week;            /* bit mask, Sunday 1 .. Saturday 64; 0 absent */
    int day_of_month;
    int week_of_month;          /* 1..5, 5 = last */
    int month_of_year;
    int first_day_of_week;      /* 0 Sunday .. 6; -1 absent */
} eas_mime_recurrence_t;

#define EAS_TZINFO_SIZE 172     /* MS-ASDTYPE 2.7.6 TIME_ZONE_INFORMATION */

/* A meeting message (MS-ASEMAIL 2.2.2.48) from the first text/calendar part. */
typedef struct eas_mime_meeting_t {
    const char *method;         /* "REQUEST", "CANCEL", "REPLY", ... upper case */
    const char *uid;
    const char *global_obj_id;  /* base64, MS-ASEMAIL 2.2.2.37 / 3.1.4.7 */
    apr_time_t start, end, dtstamp;
    apr_time_t recurrence_id;   /* 0 when not an instance */
    int all_day;
    const char *location;       /* NULL when absent */
    const char *organizer;      /* '"Name" <addr>' or addr, NULL when absent */
    const char *organizer_email;
    int instance_type;          /* MS-ASEMAIL 2.2.2.39: 0 single, 1 master, 3 exception */
    int reminder;               /* minutes before start, -1 none */
    int response_requested;
    int sensitivity;            /* 0 normal, 2 private, 3 confidential */
    int busy_status;            /* 0 free, 1 tentative, 2 busy, 3 OOF, 4 elsewhere */
    int disallow_new_time;
    int sequence;
    int meeting_message_type;   /* MS-ASEMAIL 2.2.2.47 */
    const char *partstat;       /* REPLY: the attendee's PARTSTAT, upper case */
    const eas_mime_recurrence_t *recurrence; /* NULL when not recurring (or not expressible) */
    unsigned char tzinfo[EAS_TZINFO_SIZE];  /* zone of the start (UTC when none) */
} eas_mime_meeting_t;

typedef struct eas_mime_priv_t eas_mime_priv_t;

typedef struct eas_mime_msg_t {
    /* Address lists as Exchange writes them: '"Name" <a@b>, c@d'; NULL when absent. */
    const char *to, *cc, *from, *reply_to;
    const char *sender;         /* Sender: when it names someone else than From */
    const char *display_to;     /* names of the To recipients, "; " separated */
    const char *subject;        /* NULL when absent */
    const char *thread_topic;   /* Thread-Topic:, else the subject without Re:/Fwd: */
    apr_time_t date;            /* Date:, 0 when absent or unreadable */
    apr_time_t date_received;   /* the IMAP INTERNALDATE given, else date */
    int importance;             /* 0 low, 1 normal, 2 high */
    const char *message_class;  /* IPM.Note, IPM.Note.SMIME, IPM.Schedule.Meeting.Request ... */
    const char *content_class;  /* urn:content-classes:message / calendarmessage */
    int internet_cpid;          /* Windows code page of the main text part */
    int native_body_type;       /* EAS_BODY_PLAIN or EAS_BODY_HTML */
    eas_smime_e smime;
    const char *message_id;     /* without <>, NULL when absent */
    const char *in_reply_to;    /* without <> */
    const char *references;     /* raw header, NULL when absent */
    unsigned char conversation_id[16];
    const unsigned char *conversation_index;
    apr_size_t conversation_index_len;
    apr_array_header_t *attachments;        /* of eas_mime_attachment_t */
    const eas_mime_meeting_t *meeting;      /* NULL unless a usable text/calendar part */
    apr_size_t size;            /* bytes of the message */
    /* Bodies, UTF-8: text is always there (from the HTML when the message has
     * no plain text, empty for an encrypted message); html only when the
     * message has HTML. */
    const char *text;
    apr_size_t text_len;
    const char *html;
    apr_size_t html_len;
    eas_mime_priv_t *priv;
} eas_mime_msg_t;

/*
 * Parses len bytes of a message (RFC 5322, CRLF or LF).  internaldate is the
 * IMAP INTERNALDATE (0 when unknown).  The data is copied; the summary and
 * everything it points to live in p (GMime's objects are released by a
 * cleanup of p).  Malformed MIME never fails: missing boundaries, truncated
 * base64 and broken charsets give what can be read.  APR_EINVAL only for
 * len == 0.
 */
apr_status_t eas_mime_parse(apr_pool_t *p, const char *data, apr_size_t len,
                            apr_time_t internaldate, eas_mime_msg_t **msg);

/* The HTML body, converted from the plain text when the message has none. */
const char *eas_mime_html(eas_mime_msg_t *m, apr_size_t *len);

/* The message as a Type 4 body / MIMEData: the original bytes when they are
 * UTF-8 text (always for S/MIME, which must stay byte-exact), otherwise
 * re-encoded to 7bit so that it survives as a WBXML string. */
const char *eas_mime_mime_data(eas_mime_msg_t *m, apr_size_t *len);

/* ---- attachments ----------------------------------------------------- */

typedef apr_status_t eas_mime_sink_fn(void *baton, const char *data, apr_size_t len);

/* The listed attachment with that path, or NULL. */
const eas_mime_attachment_t *eas_mime_attachment_find(const eas_mime_msg_t *m,
                                                      const char *path);
/* Streams the decoded content of the part at path (any IMAP section of the
 * message; for message/rfc822 the embedded message as it is) to sink.
 * APR_NOTFOUND if there is no such part or it is a multipart; a sink error
 * stops the stream and is returned. */
apr_status_t eas_mime_part_write(eas_mime_msg_t *m, const char *path,
                                 eas_mime_sink_fn *sink, void *baton);
/* The same into one buffer in p. */
apr_status_t eas_mime_part_get(apr_pool_t *p, eas_mime_msg_t *m, const char *path,
                               const char **data, apr_size_t *len);
/* Decodes a part fetched on its own (IMAP BODY[section]) given its
 * Content-Transfer-Encoding (NULL: identity). */
apr_status_t eas_mime_decode(const char *transfer_encoding, const char *data, apr_size_t len,
                             eas_mime_sink_fn *sink, void *baton);

/* ---- writing ApplicationData ------------------------------------------ */

#define EAS_MIME_NO_TRUNCATION ((apr_uint64_t)-1)

/* One AirSyncBase BodyPreference or BodyPartPreference (MS-ASAIRS 2.2.2.11/12). */
typedef struct eas_mime_bodypref_t {
    int type;                   /* EAS_BODY_* */
    apr_uint64_t truncation_size;   /* bytes; EAS_MIME_NO_TRUNCATION when absent */
    int all_or_none;
    int preview;                /* 14.0+: characters of Preview, 0 for none */
} eas_mime_bodypref_t;

typedef struct eas_mime_options_t {
    int version;                /* 25, 120, 121, 140, 141, 160, 161 (eas_protocol.h) */
    const eas_mime_bodypref_t *body_prefs;  /* in the client's order */
    int n_body_prefs;
    const eas_mime_bodypref_t *part_prefs;  /* 14.1+ BodyPartPreference */
    int n_part_prefs;
    int mime_support;           /* MS-ASCMD 2.2.3.110: 0 never, 1 S/MIME only, 2 always */
    apr_uint64_t truncation;    /* 2.5: Email:Body bytes (eas_mime_truncation_size) */
    apr_uint64_t mime_truncation;   /* 2.5: MIMEData bytes (eas_mime_mime_truncation_size) */
    const char *user_address;   /* 14.0+: the mailbox owner, for ReceivedAsBcc; may be NULL */
    const char *file_ref_prefix;    /* FileReference / AttName = prefix + part path */
    /* ItemOperations with MS-ASAcceptMultiPart (MS-ASCMD 2.2.1.10.1): when
     * set, the body data goes to this callback, which gives it a part number
     * that is written as AirSyncBase:Part instead of Data. */
    apr_status_t (*multipart)(void *baton, const char *data, apr_size_t len, int *part);
    void *multipart_baton;
} eas_mime_options_t;

/* Bytes for AirSync:Truncation 0..9 (MS-ASCMD 2.2.3.185) and
 * MIMETruncation 0..8 (2.2.3.111); EAS_MIME_NO_TRUNCATION for "all" and for
 * values out of range. */
apr_uint64_t eas_mime_truncation_size(int code);
apr_uint64_t eas_mime_mime_truncation_size(int code);

/* Follow-up flag details kept by the caller (MS-ASEMAIL 2.2.2.34); times
 * are 0 when absent. */
typedef struct eas_mime_flag_t {
    int status;                 /* 0 cleared, 1 complete, 2 active */
    const char *flag_type;      /* NULL: "Flag for follow up" */
    apr_time_t complete_time;
    apr_time_t start_date, utc_start_date;
    apr_time_t due_date, utc_due_date;
    apr_time_t date_completed;
    int reminder_set;
    apr_time_t reminder_time;
    apr_time_t ordinal_date;
    const char *sub_ordinal_date;
} eas_mime_flag_t;

/* LastVerbExecuted (MS-ASEMAIL 2.2.2.45). */
#define EAS_VERB_REPLY 1
#define EAS_VERB_REPLY_ALL 2
#define EAS_VERB_FORWARD 3

/* What IMAP (and the caller's store) knows about the message. */
typedef struct eas_mime_state_t {
    int seen;                   /* \Seen -> Read */
    int flagged;                /* \Flagged -> Flag Status 2 when there are no details */
    const eas_mime_flag_t *flag;
    int answered;               /* \Answered */
    int forwarded;              /* $Forwarded */
    int last_verb;              /* 0: from answered / forwarded; else EAS_VERB_* */
    apr_time_t last_verb_time;  /* 0: absent */
    const char *const *categories;  /* keywords to show as Categories (14.0+) */
    int n_categories;
} eas_mime_state_t;

/* Writes the Email ApplicationData children of m (the caller has opened
 * ApplicationData / Properties).  Returns eas_wbxml_status(w). */
apr_status_t eas_mime_write(apr_pool_t *p, eas_mime_msg_t *m, const eas_mime_state_t *st,
                            const eas_mime_options_t *o, eas_wbxml_writer_t *w);
/* The properties of a flag-only change: Read, Flag (12.0+), Categories and
 * LastVerbExecuted (14.0+). */
apr_status_t eas_mime_write_state(apr_pool_t *p, const eas_mime_state_t *st, int version,
                                  eas_wbxml_writer_t *w);

/* ---- sending (MS-ASCMD 2.2.1.17 SendMail, 2.2.1.19 SmartForward,
 *      2.2.1.20 SmartReply) ------------------------------------------- */

typedef enum {
    EAS_COMPOSE_SEND = 0,
    EAS_COMPOSE_REPLY,
    EAS_COMPOSE_FORWARD
} eas_compose_kind_e;

typedef enum {
    EAS_FROM_REWRITE = 0,       /* a foreign From becomes the user */
    EAS_FROM_REJECT             /* a foreign From fails with EAS_COMPOSE_E_SENDAS */
} eas_from_policy_e;

typedef struct eas_mime_sender_t {
    const char *address;        /* the authenticated user's address */
    const char *name;           /* display name for a From we write; may be NULL */
    const char *const *aliases; /* other addresses the user may send as */
    int n_aliases;
    eas_from_policy_e from_policy;
} eas_mime_sender_t;

typedef struct eas_mime_forwardee_t {
    const char *name;           /* may be NULL */
    const char *email;
} eas_mime_forwardee_t;

typedef struct eas_mime_compose_t {
    eas_compose_kind_e kind;
    const char *mime;           /* the client's message; NULL for a 16.x SmartForward
                                 * with Forwardees and airsyncbase:Body */
    apr_size_t mime_len;
    const char *orig;           /* reply / forward: the original message */
    apr_size_t orig_len;
    int replace_mime;           /* ComposeMail:ReplaceMime: the client sent everything */
    const eas_mime_forwardee_t *forwardees; /* 16.x: more recipients */
    int n_forwardees;
    const char *body;           /* with mime == NULL: the new text */
    int body_type;              /* EAS_BODY_PLAIN or EAS_BODY_HTML */
    apr_time_t now;             /* for Date: (0: apr_time_now()) */
} eas_mime_compose_t;

typedef enum {
    EAS_COMPOSE_OK = 0,
    EAS_COMPOSE_E_MIME,         /* the client's MIME is unusable (Status 107 InvalidMIME) */
    EAS_COMPOSE_E_NORCPT,       /* no recipient (119 MessageHasNoRecipient) */
    EAS_COMPOSE_E_SENDAS,       /* From is not the user and the policy rejects (130 AccessDenied) */
    EAS_COMPOSE_E_ORIGINAL      /* reply/forward without a usable original (150 ItemNotFound) */
} eas_compose_status_e;

typedef struct eas_mime_outgoing_t {
    const char *data;           /* the message to submit, Bcc removed, CRLF */
    apr_size_t len;
    const char *sent;           /* the copy for the Sent folder: the same with Bcc kept */
    apr_size_t sent_len;
    const char *envelope_from;  /* the user's address */
    apr_array_header_t *rcpt;   /* const char *: bare addresses, each once */
    const char *message_id;     /* without <> */
} eas_mime_outgoing_t;

/* Builds the message to submit.  On failure *out is NULL and *why (may be
 * NULL) gets a static reason for the log. */
eas_compose_status_e eas_mime_compose(apr_pool_t *p, const eas_mime_sender_t *s,
                                      const eas_mime_compose_t *c, eas_mime_outgoing_t **out,
                                      const char **why);

/* ---- text helpers (exported for the other units and for tests) -------- */

/* charset (a MIME label, may be NULL or unknown) -> UTF-8.  Never fails:
 * unknown or missing labels are detected (UTF-8, else ICU's detector, else
 * windows-1252), ISO-8859-1 and US-ASCII are read as windows-1252 (as
 * browsers do), invalid bytes become U+FFFD.  *used (may be NULL) gets the
 * name of the charset actually used. */
char *eas_mime_to_utf8(apr_pool_t *p, const char *charset, const char *in, apr_size_t len,
                       apr_size_t *out_len, const char **used);
/* Windows code page for a charset label (MS-ASEMAIL InternetCPID); 65001 when unknown. */
int eas_mime_cpid(const char *charset);
/* HTML (UTF-8) -> plain text: tags removed, entities decoded, script / style
 * / head dropped, block elements and <br> become line breaks. */
char *eas_mime_html_to_text(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t *out_len);
/* Plain text -> HTML: escaped, line breaks and indentation kept, URLs linked. */
char *eas_mime_text_to_html(apr_pool_t *p, const char *text, apr_size_t len, apr_size_t *out_len);
/* Undoes RFC 3676 format=flowed. */
char *eas_mime_unflow(apr_pool_t *p, const char *text, apr_size_t len, int delsp,
                      apr_size_t *out_len);
/* Longest prefix of s (UTF-8) of at most max bytes that ends on a character boundary. */
apr_size_t eas_mime_utf8_cut(const char *s, apr_size_t len, apr_size_t max);
/* The first n characters of text with white space runs made one space. */
char *eas_mime_preview(apr_pool_t *p, const char *text, apr_size_t len, int n);

#endif
