/*
 * Mail watchers: one per user per process, shared by all of the user's
 * waiting requests, polling IMAP STATUS of their mail folders every
 * EASMailPollInterval seconds on a small thread pool (never the reactor)
 * and waking the requests that saw another state (eas_push_mail_states).
 */
#ifndef MOD_EAS_WATCH_H
#define MOD_EAS_WATCH_H

#include <httpd.h>
#include "eas_imap.h"

typedef struct eas_watch_t eas_watch_t;

void eas_watch_child_init(apr_pool_t *pchild, server_rec *s);

/* The user's watcher (made on first use), now also watching the n
 * mailboxes; password is the user's (NULL with an IMAP master user).
 * NULL when watching is not possible; eas_watch_leave once per join. */
eas_watch_t *eas_watch_join(apr_int64_t user, const char *login, const char *password,
                            const eas_imap_server_t *srv, int n, const char *const *mailboxes,
                            int interval);
/* Adds mailboxes to what the watcher polls. */
void eas_watch_update(eas_watch_t *w, int n, const char *const *mailboxes);
void eas_watch_leave(eas_watch_t *w);

#endif
