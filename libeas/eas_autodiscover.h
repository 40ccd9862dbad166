/*
 * Autodiscover for ActiveSync clients: the POX request/response of
 * MS-ASCMD 2.2.1.1 (mobilesync responseschema/2006) with the errors of
 * MS-ASCMD 2.2.3.64 / MS-OXDSCLI 2.2.4.1.1.3, and the JSON "autodiscover
 * v2" answer newer clients ask for with
 *   GET /autodiscover/autodiscover.json?Email=a@b&Protocol=ActiveSync
 *   GET /autodiscover/autodiscover.json/v1.0/a@b?Protocol=ActiveSync
 *
 * Pure functions: no network, no configuration lookups.  The glue reads the
 * body (at most EAS_AUTOD_MAX_REQUEST bytes), finds the user's display name
 * and the ActiveSync URL, and sends what these return with HTTP 200 and
 * Content-Type text/xml (POX, errors included) or the status given for JSON.
 *
 * The parser uses libxml2 with DTDs refused outright (no entity expansion,
 * no external loads) and the network disabled.  libxml2 must have been
 * initialised once before threads start (xmlInitParser()).
 */
#ifndef EAS_AUTODISCOVER_H
#define EAS_AUTODISCOVER_H

#include <apr_pools.h>

/* Real requests are a few hundred bytes; larger ones are refused with 600. */
#define EAS_AUTOD_MAX_REQUEST 16384

#define EAS_AUTOD_NS_RESPONSE "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define EAS_AUTOD_NS_MOBILESYNC \
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"

typedef enum {
    EAS_AUTOD_OK = 0,
    EAS_AUTOD_E_INVALID = 600,   /* not a well-formed mobilesync request */
    EAS_AUTOD_E_PROVIDER = 601   /* AcceptableResponseSchema we do not serve (Outlook's) */
} eas_autod_status_e;

typedef struct eas_autod_request_t {
    const char *email;           /* EMailAddress, trimmed; NULL if absent */
    const char *schema;          /* AcceptableResponseSchema, trimmed; NULL if absent */
} eas_autod_request_t;

/* Parses a POX request.  EAS_AUTOD_OK when it names one plausible address
 * and asks for the mobilesync schema; 601 when it asks for another schema;
 * 600 for anything else (malformed XML, a DTD, oversize, no or several
 * Request elements, a missing element, an address without '@').  Element
 * names are matched case-insensitively in any namespace, as clients differ.
 * req is filled as far as parsing got; *why (may be NULL) gets a short
 * reason for the log on failure. */
eas_autod_status_e eas_autod_parse(apr_pool_t *p, const char *body, apr_size_t len,
                                   eas_autod_request_t *req, const char **why);

/* The answer: User (DisplayName, EMailAddress) and one Server of Type
 * MobileSync whose Url and Name are url (MS-ASCMD 2.2.3.164).  display_name
 * may be NULL.  Text is escaped; bytes that are not valid UTF-8 or not
 * allowed in XML are replaced by '?'. */
const char *eas_autod_settings_xml(apr_pool_t *p, const char *email, const char *display_name,
                                   const char *url);

/* Action/Redirect: the client should retry Autodiscover as redirect_email. */
const char *eas_autod_redirect_xml(apr_pool_t *p, const char *email, const char *redirect_email);

/* Action/Error with a Status (MS-ASCMD 2.2.3.177.1; 2 = protocol error) and
 * a message, for a request that parsed but cannot be answered (unknown user). */
const char *eas_autod_action_error_xml(apr_pool_t *p, const char *email, int status,
                                       const char *message);

/* The Error response for 600 or 601: Response in the generic responseschema
 * namespace, since no mobilesync answer can be given (MS-ASCMD 6.4). */
const char *eas_autod_error_xml(apr_pool_t *p, eas_autod_status_e code);

/* ---- JSON (autodiscover v2) ------------------------------------------ */

typedef struct eas_autod_json_t {
    int http_status;             /* 200, 400 (bad protocol or address), 404 (bad path) */
    const char *body;            /* JSON, Content-Type application/json */
    const char *email;           /* the address asked about, decoded; NULL if none */
    const char *protocol;        /* Protocol as sent, decoded; NULL if none */
} eas_autod_json_t;

/* Answers a GET.  path is the request path as received (still %-encoded,
 * e.g. r->parsed_uri.path) ending in autodiscover.json or
 * autodiscover.json/v1.0/<email>; query is the raw query string (may be
 * NULL).  Protocol "ActiveSync" (any case) gets {"Protocol":"ActiveSync",
 * "Url":eas_url}; "AutodiscoverV1" gets pox_url when one is given (the
 * autodiscover.xml URL); anything else 400 with ErrorCode InvalidProtocol,
 * as Exchange answers.  An address is optional, but one without '@' is a
 * 400 InvalidUser. */
void eas_autod_json(apr_pool_t *p, const char *path, const char *query, const char *eas_url,
                    const char *pox_url, eas_autod_json_t *out);

#endif
