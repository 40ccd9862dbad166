/* mod_eas directives: per-directory (per <Location>) and per-server settings. */
#ifndef MOD_EAS_CONFIG_H
#define MOD_EAS_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include "eas_imap.h"
#include "eas_smtp.h"
#include "eas_request.h"

typedef enum { EAS_PING_AUTO = 0, EAS_PING_ASYNC, EAS_PING_BLOCKING } eas_ping_mode_e;

typedef struct eas_dir_conf_t {
    eas_config_t eas;         /* merged view handed to libeas */
    unsigned set;             /* which fields this level set (bit per directive) */
    eas_imap_server_t imap;   /* EASImapURL, EASImapTLSVerify, EASImapMasterUser */
    eas_smtp_server_t smtp;   /* EASSmtpURL (TLS verification as EASImapTLSVerify) */
    int smtp_auth;            /* EASSmtpAuth: submit as the user when AUTH is offered */
    const char *eas_url;      /* EASAutodiscoverURL; NULL: from the request */
    int auth_cache_ttl;       /* EASAuthCacheTTL seconds */
    int login_domain_strip;   /* EASLoginStripDomain */
} eas_dir_conf_t;

typedef struct eas_srv_conf_t {
    eas_ping_mode_e ping_mode;
    int ping_mode_set;
    int mail_poll;            /* EASMailPollInterval seconds, 0: off; -1: unset */
    int stats_interval;       /* EASStatsInterval seconds, 0: off; -1: unset */
} eas_srv_conf_t;

extern const command_rec eas_cmds[];
void *eas_create_dir_conf(apr_pool_t *p, char *dir);
void *eas_merge_dir_conf(apr_pool_t *p, void *base, void *add);
void *eas_create_srv_conf(apr_pool_t *p, server_rec *s);
void *eas_merge_srv_conf(apr_pool_t *p, void *base, void *add);

const eas_dir_conf_t *eas_dir_conf(request_rec *r);
/* EASMailPollInterval in effect (seconds, 0: off). */
int eas_srv_mail_poll(const eas_srv_conf_t *sc);
/* EASStatsInterval in effect (seconds, 0: off). */
int eas_srv_stats_interval(const eas_srv_conf_t *sc);

#endif
