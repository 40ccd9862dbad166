/*
 * The message an attendee sends back to a meeting organizer (RFC 5546
 * iTIP over RFC 6047 iMIP): MeetingResponse with SendResponse (MS-ASCMD
 * 2.2.1.11, 16.0+).  The invitation is the eas_mime_meeting_t of the
 * request message; the reply names the same UID, SEQUENCE and instance.
 */
#ifndef EAS_MIME_ITIP_H
#define EAS_MIME_ITIP_H

#include "eas_mime.h"

/* MeetingResponse UserResponse values (MS-ASCMD 2.2.3.194). */
#define EAS_MEETING_ACCEPT 1
#define EAS_MEETING_TENTATIVE 2
#define EAS_MEETING_DECLINE 3

typedef struct eas_mime_itip_t {
    const char *address;        /* the attendee: the user */
    const char *name;           /* may be NULL */
    int response;               /* EAS_MEETING_* */
    apr_time_t instance;        /* one occurrence (RECURRENCE-ID), 0: the meeting */
    apr_time_t proposed_start;  /* 16.1 new time proposal (iTIP COUNTER); 0: none */
    apr_time_t proposed_end;
    const char *body;           /* the user's note, may be NULL */
    apr_time_t now;             /* DTSTAMP and Date: (0: apr_time_now()) */
} eas_mime_itip_t;

/* Builds the reply to the meeting request m (m->meeting must be set, with
 * an organizer address).  *data is the message (CRLF) for SMTP and the
 * Sent folder, *to the organizer's address.  APR_EINVAL when m is no
 * answerable request. */
apr_status_t eas_mime_itip_reply(apr_pool_t *p, const eas_mime_msg_t *m, const eas_mime_itip_t *r,
                                 const char **data, apr_size_t *len, const char **to);

#endif
