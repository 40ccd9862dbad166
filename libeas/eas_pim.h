/*
 * PIM items: contacts (MS-ASCNTC), calendar items (MS-ASCAL), tasks
 * (MS-ASTASK) and notes (MS-ASNOTE), kept in PostgreSQL (eas.items).
 *
 * An item is stored as a property bag: the ApplicationData subtree a client
 * sent, as WBXML, without the body; the body is kept as text with its type.
 * The stored form is version-neutral: a calendar Location is always the
 * AirSyncBase:Location container (16.x) and an exception is always named by
 * Calendar:ExceptionStartTime; eas_pim_write() gives each protocol version
 * the elements it knows (Calendar:Location, airsyncbase:InstanceId, the 2.5
 * <class>:Body, ...).
 *
 * The conversion functions need no database (unit-tested on their own);
 * eas_pim_provider plugs the store into the Sync engine.
 */
#ifndef EAS_PIM_H
#define EAS_PIM_H

#include "eas_sync.h"

extern const eas_sync_provider_t eas_pim_provider;

typedef struct eas_pim_item_t {
    const char *cls;          /* Contacts, Calendar, Tasks, Notes */
    eas_node_t *props;        /* AirSync:ApplicationData, no body inside */
    int has_body;             /* a client sent one (Change keeps the old one otherwise) */
    const char *body;         /* UTF-8 (RTF: its base64 text); NULL or "" when none */
    apr_size_t body_len;
    int body_type;            /* 1 plain, 2 HTML, 3 RTF; 0 when no body */
    /* derived by eas_pim_derive() */
    const char *subject;
    const char *uid;          /* Calendar UID, NULL when none */
    int has_start, has_end, has_due, complete;   /* complete: -1 when not a task */
    apr_time_t start, end, due;  /* end: of the last occurrence; !has_end = unbounded */
} eas_pim_item_t;

/*
 * A client's ApplicationData (Add or Change) -> item, for class cls and
 * protocol version.  Elements of other classes are dropped; the body is
 * taken out; the version-specific forms are made neutral.  Values EAS
 * defines (dates, Timezone, Recurrence, enumerations) are checked:
 * APR_EINVAL with a static reason in *why means Status 6 for that item.
 */
apr_status_t eas_pim_from_client(apr_pool_t *p, const char *cls, int version,
                                 const eas_node_t *appdata, eas_pim_item_t *item,
                                 const char **why);

/*
 * A client's Change applied to the stored item (MS-ASCMD 2.2.3.179):
 * properties the client sent replace the stored ones; one it did not send
 * is removed when the client manages it and kept when it is ghosted.
 * supported: the tags of the initial Sync's Supported, NULL when none was
 * sent (nothing is ghosted).  Only contact and calendar properties can be
 * ghosted; from 16.0 every calendar property is (MS-ASCAL 3.1.5.3);
 * Calendar UID is the server's and always kept.  The body changes
 * only when one was sent.  16.x: a change of Recurrence, StartTime or
 * EndTime drops the exceptions, which 16.x clients never send otherwise
 * (MS-ASCAL 2.2.2.22).  The result is derived again (and may fail).
 */
apr_status_t eas_pim_merge(apr_pool_t *p, const eas_pim_item_t *stored,
                           const eas_pim_item_t *change, int version,
                           const apr_array_header_t *supported, eas_pim_item_t *out,
                           const char **why);

/*
 * 16.x: a Change (change not NULL) or a Delete of the one occurrence of a
 * recurring calendar item that starts at instance_id (MS-ASAIRS 2.2.2.25)
 * becomes an exception of the series.  *status: EAS_SYNC_OK, or
 * EAS_SYNC_NOT_FOUND when no occurrence starts then.
 */
apr_status_t eas_pim_instance(apr_pool_t *p, const eas_pim_item_t *stored,
                              const char *instance_id, const eas_pim_item_t *change,
                              eas_pim_item_t *out, int *status);

/* Fills the derived fields from props: subject, UID, start, end of the
 * last occurrence (Recurrence expanded in the item's zone, exceptions
 * included), due date and completion.  APR_EINVAL for a recurrence that
 * cannot be expanded. */
apr_status_t eas_pim_derive(apr_pool_t *p, eas_pim_item_t *item, const char **why);

/* props <-> stored bytes (a WBXML document with ApplicationData as root). */
const char *eas_pim_encode(apr_pool_t *p, const eas_node_t *props, apr_size_t *len);
apr_status_t eas_pim_decode(apr_pool_t *p, const char *bytes, apr_size_t len,
                            eas_node_t **props);

/* <ApplicationData> for a client of this version with these options:
 * elements the version does not know are left out, the neutral forms are
 * turned into the version's, and the body follows the BodyPreference
 * (12.0+: AirSyncBase:Body with truncation, AllOrNone, Preview) or the
 * 2.5 Truncation (<class>:Body, BodyTruncated).  Conversions allocate
 * from p. */
void eas_pim_write(eas_wbxml_writer_t *w, apr_pool_t *p, const eas_pim_item_t *item,
                   int version, const eas_sync_options_t *opts);

/* Body conversions, simple and safe: HTML -> text drops tags, script and
 * style, decodes entities, turns block ends into line breaks; text -> HTML
 * escapes and turns line breaks into <br>. */
char *eas_pim_html_to_text(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t *out_len);
char *eas_pim_text_to_html(apr_pool_t *p, const char *text, apr_size_t len, apr_size_t *out_len);

#endif
