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

/* One run of an ActiveSync request: tmpl holds what every run starts from
 * (in r->pool); the run gets a pool of its own and a database handle for
 * its duration only.  NULL when no pool could be made. */
struct eas_request_t *eas_handler_run(request_rec *r, const struct eas_request_t *tmpl,
                                      int rerun, int expired, const char *push_gen);
/* Frees a run that produced no response (it waits again). */
void eas_handler_run_done(struct eas_request_t *req);
/* Writes what the run produced; returns OK or an HTTP status for ap_die. */
int eas_handler_respond(request_rec *r, struct eas_request_t *req);
/* SetHandler eas-autodiscover: POX and JSON Autodiscover */
int eas_handle_autodiscover(request_rec *r);

/* AuthBasicProvider imap */
void eas_auth_register(apr_pool_t *p);
void eas_auth_child_init(apr_pool_t *p, server_rec *s);

#endif
