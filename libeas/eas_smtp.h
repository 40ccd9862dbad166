/*
 * Mail submission through libcurl's SMTP (RFC 5321, RFC 6409), for
 * SendMail, SmartReply, SmartForward and meeting responses.  One
 * connection per message: submissions are rare next to IMAP traffic.
 * The caller builds the message (Bcc already removed) and the envelope.
 */
#ifndef EAS_SMTP_H
#define EAS_SMTP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "eas_log.h"

typedef enum {
    EAS_SMTP_OK = 0,
    EAS_SMTP_REJECTED,      /* a 5xx answer: do not retry this message as it is */
    EAS_SMTP_TRANSIENT,     /* a 4xx answer, unreachable, timed out: retry later */
    EAS_SMTP_AUTH,          /* the credentials were refused */
    EAS_SMTP_PROTOCOL,      /* anything else unexpected */
    EAS_SMTP_INVALID        /* an address or argument that cannot be sent */
} eas_smtp_rc_e;

const char *eas_smtp_rc_name(eas_smtp_rc_e rc);

typedef struct eas_smtp_server_t {
    /* "smtp://host:587" or "smtps://host:465"; a path names the EHLO host
     * ("smtp://relay:25/eas.example.org"). */
    const char *url;
    int starttls;               /* smtp:// only: 0 never, 1 if offered, 2 required */
    int tls_verify;             /* verify the certificate and the host name */
    const char *ca_file;        /* NULL: the system's trust store */
    apr_interval_time_t connect_timeout;  /* 0: 10 s */
    apr_interval_time_t timeout;          /* longest wait for an answer; 0: 60 s */
} eas_smtp_server_t;

typedef struct eas_smtp_result_t {
    int code;                   /* the last reply code (0: none came) */
    const char *reply;          /* its text ("" if none) */
    /* Recipients the server refused while it took others (const char *);
     * the caller owes the user a report about those. */
    apr_array_header_t *refused;
} eas_smtp_result_t;

/* Submits msg (bare LFs are sent as CRLF; curl dot-stuffs) from the
 * envelope sender from to every address in rcpts (const char *, at least
 * one).  user NULL: no AUTH (e.g. a relay trusting loopback); otherwise
 * SASL with password, or, when authzid is not NULL, as user on behalf of
 * authzid.  OK when the server took the message for at least one
 * recipient.  *result (may be NULL) is filled in every case. */
eas_smtp_rc_e eas_smtp_send(const eas_smtp_server_t *srv, const char *user,
                            const char *password, const char *authzid, const char *from,
                            const apr_array_header_t *rcpts, const char *msg, apr_size_t len,
                            apr_pool_t *p, const eas_log_t *log, eas_smtp_result_t **result);

#endif
