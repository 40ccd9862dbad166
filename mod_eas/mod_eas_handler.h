/* The request handlers and the per-process state they share. */
#ifndef MOD_EAS_HANDLER_H
#define MOD_EAS_HANDLER_H

#include <httpd.h>

struct eas_imap_pool_t;

/* post_config: fetches mod_dbd's functions; fails the start without them. */
int eas_handler_post_config(apr_pool_t *p, server_rec *s);
/* child_init: the per-process IMAP connection pool. */
void eas_handler_child_init(apr_pool_t *p, server_rec *s);
struct eas_imap_pool_t *eas_handler_imap_pool(void);

/* SetHandler eas: POST/OPTIONS /Microsoft-Server-ActiveSync */
int eas_handle_activesync(request_rec *r);
/* SetHandler eas-autodiscover: POX and JSON Autodiscover */
int eas_handle_autodiscover(request_rec *r);

/* AuthBasicProvider imap */
void eas_auth_register(apr_pool_t *p);
void eas_auth_child_init(apr_pool_t *p, server_rec *s);

#endif
