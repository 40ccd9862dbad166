/*
 * Waiting requests (Ping, Sync with Wait): parks a request whose command
 * has nothing to say yet (eas_request.h, the long-poll contract) until a
 * change, a newer request of the device, the deadline or a server stop,
 * then runs the command again.  Two drivers (notes/httpd-apr-curl.md §1):
 * async (event MPM, HTTP/1.1: no thread while waiting; one reactor thread
 * per child owns epoll over the parked sockets, the deadlines and a
 * PostgreSQL LISTEN connection) and blocking (the worker waits in poll()).
 */
#ifndef MOD_EAS_PUSH_H
#define MOD_EAS_PUSH_H

#include <httpd.h>
#include <apr_dbd.h>

struct eas_request_t;

void eas_push_register_hooks(apr_pool_t *p);
/* post_config: logs which driver EASPingMode results in. */
int eas_push_post_config(apr_pool_t *pconf, server_rec *s);
/* child_init: the reactor thread and its LISTEN connection. */
void eas_push_child_init(apr_pool_t *pchild, server_rec *s);

/* The handler's last step for a request whose first run (first) waits:
 * returns SUSPENDED (async) or, after waiting (blocking), what
 * eas_handler_respond returned for the final run. */
int eas_push_wait(request_rec *r, const struct eas_request_t *tmpl, struct eas_request_t *first);

/* Learns how to reach the database for LISTEN from a mod_dbd handle
 * (the first time only; cheap afterwards). */
void eas_push_learn_db(server_rec *s, const apr_dbd_driver_t *driver, apr_dbd_t *handle);

/* From a mail watcher: the user's mailboxes now are in these states;
 * waiters that saw another state of one of them are woken. */
void eas_push_mail_states(apr_int64_t user, int n, const char *const *mailboxes,
                          const char *const *states);

/* Wakes every waiting request of the user in this process. */
void eas_push_wake_user(apr_int64_t user);

/* SetHandler eas-notify: a mail server's "new mail for USER" hook. */
int eas_handle_notify(request_rec *r);

#endif
