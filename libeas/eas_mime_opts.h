/*
 * Helpers of the mail commands around eas_mime.h.
 *
 * Reading the body options of a request (the Options element of Sync,
 * ItemOperations Fetch and Search) into eas_mime_options_t: AirSyncBase
 * BodyPreference and BodyPartPreference (MS-ASAIRS 2.2.2.11, 2.2.2.12),
 * AirSync MIMESupport (MS-ASCMD 2.2.3.110), and the 2.5 Truncation and
 * MIMETruncation (2.2.3.185, 2.2.3.111).
 */
#ifndef EAS_MIME_OPTS_H
#define EAS_MIME_OPTS_H

#include "eas_mime.h"
#include "eas_wbxml.h"

/* Fills the body fields of o from opts (may be NULL: no preferences) and
 * leaves the other fields alone.  Preferences of an unknown Type and
 * more than 8 of a kind are ignored.  Allocates from p. */
void eas_mime_options_read(apr_pool_t *p, const eas_node_t *opts, eas_mime_options_t *o);

/* The display names of an address list ("Name" <a@b>, c@d) joined by
 * "; " the way DisplayTo / Find DisplayCc show them (an address stands in
 * for a missing name); NULL for an empty or absent list. */
const char *eas_mime_display_names(apr_pool_t *p, const char *list);

#endif
