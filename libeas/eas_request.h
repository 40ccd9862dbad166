/*
 * One EAS request as libeas sees it: what the glue parsed from HTTP, the
 * configuration in effect, the database handle, and the response being
 * built.  eas_request_process() runs the whole pipeline of DESIGN.md
 * "Request flow" steps 2-4: version and user checks, WBXML decoding,
 * device bookkeeping, access and provisioning checks, the command, commit.
 */
#ifndef EAS_REQUEST_H
#define EAS_REQUEST_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "eas_db.h"
#include "eas_log.h"
#include "eas_protocol.h"
#include "eas_query.h"
#include "eas_wbxml.h"

typedef enum {
    EAS_PROVISION_NONE = 0,   /* no policies at all */
    EAS_PROVISION_ALLOW = 1,  /* enforce on devices that can, let the others in */
    EAS_PROVISION_FORCE = 2   /* unprovisioned devices may only Provision */
} eas_provisioning_e;

/* A version ceiling for devices whose DeviceType or User-Agent matches. */
typedef struct eas_version_cap_t {
    const char *pattern;      /* fnmatch pattern, case-insensitive */
    int max_version;
} eas_version_cap_t;

/* Everything an administrator can tune; mod_eas fills it from directives. */
typedef struct eas_config_t {
    eas_version_set_t versions;        /* offered (EASProtocolVersions) */
    const apr_array_header_t *caps;    /* of eas_version_cap_t */
    eas_provisioning_e provisioning;
    const char *default_policy;        /* policy for users without one */
    const char *mail_domain;           /* for login -> address when SQL has none */
    const char *server_name;           /* shown in Autodiscover / UserInformation */
    int heartbeat_min, heartbeat_max;  /* Ping / Sync Wait bounds, seconds */
    int max_folders;                   /* Ping folders */
    int max_window;                    /* Sync WindowSize ceiling */
    apr_size_t max_body;               /* bytes */
    eas_wbxml_limits_t wbxml;
    int budget_requests;               /* per device per window; 0 = unlimited */
    int budget_window;                 /* seconds */
    int budget_penalty;                /* Retry-After seconds when over budget */
    int user_budget_requests;          /* per user (all devices) per window; 0 = unlimited */
    const char *default_access;        /* when no access rule matches: allow|block|quarantine */
} eas_config_t;

/* Defaults documented with the directives (docs/configuration.md). */
void eas_config_defaults(eas_config_t *cfg);

typedef struct eas_user_t {
    const char *id;           /* eas.users.id */
    const char *login;
    const char *display_name;
    const char *email;
    const char *policy;       /* NULL: default policy */
    int provisioning;         /* -1: location default */
    int max_version;          /* 0: none */
} eas_user_t;

typedef struct eas_device_t {
    const char *id;           /* eas.devices.id */
    const char *device_id;
    const char *device_type;
    const char *policy_key;   /* final key acknowledged, NULL if never */
    const char *temp_policy_key;
    const char *wipe_kind;    /* NULL, "full", "account" */
    const char *wipe_state;   /* none, requested, sent, acknowledged */
    const char *access;       /* allow, block, quarantine */
    int hierarchy_key;
    const char *hierarchy_seq, *hierarchy_prev_seq;
    const char *key_generation;
    const char *versions_seen;  /* MS-ASProtocolVersions last offered, NULL if never */
} eas_device_t;

typedef struct eas_request_t eas_request_t;
struct eas_imap_pool_t;
struct eas_imap_server_t;
struct eas_smtp_server_t;

/* A piece of a response body that is sent as it is (not copied). */
typedef struct eas_bytes_t {
    const char *data;
    apr_size_t len;
} eas_bytes_t;

/* Where the response goes while it is being built (chunked streaming). */
typedef apr_status_t eas_response_start_fn(eas_request_t *req);

struct eas_request_t {
    apr_pool_t *pool;
    const eas_log_t *log;
    const eas_config_t *cfg;
    eas_db_t *db;
    struct eas_imap_pool_t *imap;               /* per-process connection pool */
    const struct eas_imap_server_t *imap_server;
    /* Mail submission (SendMail, SmartReply, SmartForward, meeting
     * replies); NULL when none is configured.  With smtp_auth the
     * submission authenticates as login with password when the server
     * offers AUTH. */
    const struct eas_smtp_server_t *smtp_server;
    int smtp_auth;

    /* from HTTP */
    const char *method;       /* "POST" (OPTIONS is answered by the glue) */
    eas_query_t q;
    const char *login;        /* authenticated user as httpd knows it */
    const char *password;     /* for IMAP pass-through; never logged */
    const char *version_hdr;  /* MS-ASProtocolVersion */
    const char *policy_key_hdr; /* X-MS-PolicyKey */
    const char *user_agent;
    const char *content_type;
    const char *remote_ip;
    int accept_multipart;     /* MS-ASAcceptMultiPart: T or query option */
    const char *body;
    apr_size_t body_len;

    /* established by the pipeline */
    int version;              /* negotiated, e.g. 141 */
    eas_node_t *doc;          /* decoded WBXML body, NULL when none (or raw MIME) */
    int mime_body;            /* the body is a MIME message (12.x SendMail,
                               * SmartReply, SmartForward), not WBXML */
    eas_user_t *user;
    eas_device_t *device;

    /* the response */
    int http_status;          /* 200 unless a check or command says otherwise */
    apr_table_t *headers_out; /* extra response headers */
    eas_wbxml_writer_t *out;  /* WBXML body; NULL for an empty body */
    eas_wbxml_flush_fn *flush;/* set by the glue to stream the body */
    void *flush_baton;
    const char *raw_type;     /* a non-WBXML body (2.5 provisioning XML, MIME) */
    const char *raw_body;
    apr_size_t raw_len;
    /* Instead of raw_body: the body as pieces (eas_bytes_t) in request
     * memory, sent in order without copying (multipart ItemOperations,
     * attachments of any size); raw_type applies. */
    apr_array_header_t *raw_parts;
    const char *status_note;  /* short outcome for the access log */

    /* Long-poll (Ping, Sync with Wait/HeartbeatInterval).  A command with
     * nothing to say yet sets wait_seconds > 0 and what may wake it, writes
     * no body and returns APR_SUCCESS (its transaction is committed).  The
     * glue then parks the request without a thread where it can, and runs
     * the command again (rerun = 1, same body) when a watched folder
     * changes, the device sends a newer request, or an administrator acts;
     * when the time is up it runs it once more with wait_expired = 1, and
     * the command then gives its "nothing changed" answer. */
    int wait_seconds;
    apr_array_header_t *wait_folders;   /* eas.folders.id (const char *) */
    apr_array_header_t *wait_mailboxes; /* IMAP names of the mail folders among them */
    /* What the command saw of each of wait_mailboxes (eas_mail_state()),
     * parallel to it: a mail watcher that sees another state wakes it. */
    apr_array_header_t *wait_mail_states;
    int rerun;
    int wait_expired;
    /* The device's push generation this Ping or Sync holds (eas_push.h);
     * set by the first run, handed to every re-run by the glue. */
    const char *push_gen;
};

/* Runs the request; afterwards http_status, headers_out and the body tell
 * what to send.  Never fails outright: every error becomes an HTTP status
 * or an EAS Status and a log line. */
void eas_request_process(eas_request_t *req);

/* The writer for the response body, created on first use. */
eas_wbxml_writer_t *eas_request_writer(eas_request_t *req);

/* Offered versions for this device/user, after caps. */
eas_version_set_t eas_request_versions(const eas_request_t *req);
/* The same from its parts (OPTIONS knows only the User-Agent); user_max 0: none. */
eas_version_set_t eas_versions_offered(const eas_config_t *cfg, const char *device_type,
                                       const char *user_agent, int user_max);

/* The comma list for MS-ASProtocolCommands: implemented commands available
 * in at least one version of the set. */
const char *eas_commands_str(apr_pool_t *p, eas_version_set_t set);

#endif
