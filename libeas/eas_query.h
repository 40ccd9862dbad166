/*
 * The request URI's query (MS-ASHTTP 2.2.1.1.1): plain text
 * ("Cmd=Sync&User=u&DeviceId=d&DeviceType=t&...") or the base64-encoded
 * binary form used by 12.1+ clients.  Both parse into one structure.
 */
#ifndef EAS_QUERY_H
#define EAS_QUERY_H

#include <apr_pools.h>
#include "eas_protocol.h"

typedef struct eas_query_t {
    int base64;                 /* came in the base64 form */
    eas_cmd_e cmd;
    const char *cmd_name;       /* as sent, for logging unknown commands */
    const char *user;
    const char *device_id;      /* binary base64 ids are hex-encoded */
    const char *device_type;
    /* Only the base64 form carries these; otherwise from headers. */
    int version;                /* 0 when absent */
    int has_policy_key;
    apr_uint32_t policy_key;
    int locale;                 /* -1 when absent */
    /* Command parameters (2.2.1.1.1.1.3 / 2.2.1.1.1.2.5). */
    const char *attachment_name;
    const char *collection_id;
    const char *item_id;
    const char *long_id;
    const char *occurrence;
    int save_in_sent;
    int accept_multipart;
} eas_query_t;

typedef enum {
    EAS_QUERY_OK = 0,
    EAS_QUERY_E_SYNTAX,     /* malformed encoding or parameter */
    EAS_QUERY_E_MISSING,    /* Cmd, User, DeviceId or DeviceType absent */
    EAS_QUERY_E_DEVICEID    /* DeviceId with characters we refuse */
} eas_query_status_e;

/* Parses args (r->args, may be NULL).  *why gets a short reason on error. */
eas_query_status_e eas_query_parse(apr_pool_t *p, const char *args, eas_query_t *q,
                                   const char **why);

/* Builds the base64 form of q (for test clients and the load generator). */
const char *eas_query_encode_base64(apr_pool_t *p, const eas_query_t *q);

#endif
