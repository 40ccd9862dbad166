/*
 * Shared by the eas_mime*.c units; not installed.  Helpers are named
 * mime_* so the library does not export them.
 */
#ifndef EAS_MIME_PRIVATE_H
#define EAS_MIME_PRIVATE_H

#include "eas_mime.h"

#include <gmime/gmime.h>

/* A byte buffer growing in a pool (old blocks stay until the pool goes). */
typedef struct mime_buf_t {
    apr_pool_t *p;
    char *d;
    apr_size_t n, cap;
} mime_buf_t;

void mime_buf_init(mime_buf_t *b, apr_pool_t *p, apr_size_t hint);
void mime_buf_add(mime_buf_t *b, const char *s, apr_size_t n);
void mime_buf_adds(mime_buf_t *b, const char *s);
void mime_buf_addc(mime_buf_t *b, char c);
/* NUL-terminates and returns the data (stays valid while the pool lives). */
char *mime_buf_str(mime_buf_t *b);

/* Appends code point cp as UTF-8. */
void mime_buf_add_cp(mime_buf_t *b, apr_uint32_t cp);

/* Replaces invalid UTF-8 with U+FFFD and drops NUL; returns s itself when
 * nothing had to change. */
const char *mime_utf8_clean(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t *out_len);
/* Every line break (CRLF, LF, lone CR) becomes CRLF. */
char *mime_crlf(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t *out_len);

/* Parses bytes into a GMimeMessage (new reference) or NULL. */
GMimeMessage *mime_parse_bytes(const char *data, apr_size_t len);
/* Unrefs obj when p is destroyed. */
void mime_unref_on_cleanup(apr_pool_t *p, void *obj);

/* Decoded text of a text part as UTF-8 (charset converted, format=flowed
 * undone for text/plain); *charset (may be NULL) gets the charset label the
 * part declares (in Content-Type, or in <meta> for HTML), else "us-ascii"
 * for ASCII text, else the charset the bytes were read as. */
char *mime_part_text(apr_pool_t *p, GMimePart *part, apr_size_t *len, const char **charset);

/* Appends the bare addresses of l (groups flattened) to arr (const char *). */
void mime_addr_collect(apr_pool_t *p, InternetAddressList *l, apr_array_header_t *arr);

/* The object at an IMAP section of the message, or NULL. */
GMimeObject *mime_msg_part(const eas_mime_msg_t *m, const char *path);
/* The text/calendar part the meeting came from, or NULL. */
GMimePart *mime_msg_calendar(const eas_mime_msg_t *m);
/* The bytes the message was parsed from. */
const char *mime_msg_raw(const eas_mime_msg_t *m);

/* Non-zero when user is none of the To / Cc recipients (ReceivedAsBcc). */
int mime_received_as_bcc(const eas_mime_msg_t *m, const char *user);

/* libical setup (errors must never abort the process). */
void mime_ical_init(void);

/* The meeting of a text/calendar body (UTF-8), or NULL when it has no usable VEVENT. */
const eas_mime_meeting_t *mime_meeting_parse(apr_pool_t *p, const char *ics, apr_size_t len);

/* The HTML inside <body> (the whole text when there is no body element). */
const char *mime_html_inner(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t *out_len);
/* Escapes &, <, >, " for HTML. */
const char *mime_html_escape(apr_pool_t *p, const char *s);

#endif
