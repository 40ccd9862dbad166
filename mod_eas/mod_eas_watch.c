/*
 * Mail watchers (see mod_eas_watch.h).  A watcher lives while a waiting
 * request of its user holds it, plus while a poll of it is scheduled or
 * running; its mailboxes only grow (a user has few), so a request that
 * leaves never has to say which mailboxes were its own.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_pool.h>

#include "eas_pending.h"
#include "mod_eas_handler.h"
#include "mod_eas_private.h"
#include "mod_eas_push.h"
#include "mod_eas_watch.h"

#define POLL_THREADS 4

struct eas_watch_t {
    apr_int64_t user;
    char *login, *password;
    const eas_imap_server_t *srv;
    int interval;             /* seconds */
    int waiters;              /* requests holding it */
    int scheduled;            /* a poll is scheduled or running */
    int n, cap;
    char **mailboxes;
};

static server_rec *server;
static apr_thread_pool_t *pollers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static apr_hash_t *watchers;  /* user id -> eas_watch_t */
static apr_pool_t *hash_pool;

static void watch_free(eas_watch_t *w)
{
    int i;

    for (i = 0; i < w->n; i++)
        free(w->mailboxes[i]);
    free(w->mailboxes);
    free(w->login);
    if (w->password) {
        memset(w->password, 0, strlen(w->password));
        free(w->password);
    }
    free(w);
}

static int add_mailboxes(eas_watch_t *w, int n, const char *const *mailboxes)
{
    int i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < w->n && strcmp(w->mailboxes[j], mailboxes[i]); j++)
            ;
        if (j < w->n)
            continue;
        if (w->n == w->cap) {
            int cap = w->cap ? w->cap * 2 : 8;
            char **m = realloc(w->mailboxes, sizeof(char *) * cap);

            if (!m)
                return 0;
            w->mailboxes = m;
            w->cap = cap;
        }
        if (!(w->mailboxes[w->n] = strdup(mailboxes[i])))
            return 0;
        w->n++;
    }
    return 1;
}

static void *APR_THREAD_FUNC poll_task(apr_thread_t *t, void *data);

/* Lock held. */
static void schedule(eas_watch_t *w)
{
    if (w->scheduled || !pollers)
        return;
    if (apr_thread_pool_schedule(pollers, poll_task, w, apr_time_from_sec(w->interval), w) ==
        APR_SUCCESS)
        w->scheduled = 1;
}

/* Lock held: forgets w once nobody waits and no poll is due. */
static void maybe_free(eas_watch_t *w)
{
    if (w->waiters > 0 || w->scheduled)
        return;
    if (apr_hash_get(watchers, &w->user, sizeof(w->user)) == w)
        apr_hash_set(watchers, &w->user, sizeof(w->user), NULL);
    watch_free(w);
}

static void *APR_THREAD_FUNC poll_task(apr_thread_t *t, void *data)
{
    eas_watch_t *w = data;
    const char **names, **states;
    char *login, *password;
    eas_imap_status_t st;
    eas_imap_t *c;
    apr_pool_t *p;
    int i, n, got = 0;

    pthread_mutex_lock(&lock);
    if (w->waiters == 0) {
        w->scheduled = 0;
        maybe_free(w);
        pthread_mutex_unlock(&lock);
        return NULL;
    }
    apr_pool_create(&p, NULL);
    n = w->n;
    names = apr_palloc(p, sizeof(char *) * (n + 1));
    states = apr_palloc(p, sizeof(char *) * (n + 1));
    for (i = 0; i < n; i++)
        names[i] = apr_pstrdup(p, w->mailboxes[i]);
    login = apr_pstrdup(p, w->login);
    password = w->password ? apr_pstrdup(p, w->password) : NULL;
    pthread_mutex_unlock(&lock);

    if (eas_imap_acquire(eas_handler_imap_pool(), w->srv, login, password, p, &c) ==
        APR_SUCCESS) {
        for (i = 0; i < n; i++) {
            eas_imap_rc_e rc = eas_imap_status(c, names[i], &st);

            if (rc == EAS_IMAP_OK) {
                names[got] = names[i];
                states[got++] = eas_mail_state(p, &st);
            }
            else if (rc != EAS_IMAP_NO_MAILBOX) {
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, server, EASLOGNO(00220)
                             "mail watcher: STATUS \"%s\" for %s failed (%s): %s", names[i],
                             login, eas_imap_rc_name(rc), eas_imap_error(c));
                break;
            }
        }
        eas_imap_release(c);
    }
    if (got)
        eas_push_mail_states(w->user, got, names, states);
    apr_pool_destroy(p);

    pthread_mutex_lock(&lock);
    w->scheduled = 0;
    if (w->waiters > 0)
        schedule(w);
    maybe_free(w);
    pthread_mutex_unlock(&lock);
    return NULL;
}

eas_watch_t *eas_watch_join(apr_int64_t user, const char *login, const char *password,
                            const eas_imap_server_t *srv, int n, const char *const *mailboxes,
                            int interval)
{
    eas_watch_t *w;
    char *pw;

    if (!watchers || !login)
        return NULL;
    pthread_mutex_lock(&lock);
    if (!(w = apr_hash_get(watchers, &user, sizeof(user)))) {
        if (!(w = calloc(1, sizeof(*w))) || !(w->login = strdup(login))) {
            free(w);
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        w->user = user;
        apr_hash_set(watchers, &w->user, sizeof(w->user), w);
    }
    /* The newest request's password: it is the one IMAP accepts now. */
    if (password && (!w->password || strcmp(w->password, password)) &&
        (pw = strdup(password))) {
        if (w->password) {
            memset(w->password, 0, strlen(w->password));
            free(w->password);
        }
        w->password = pw;
    }
    w->srv = srv;
    w->interval = interval;
    w->waiters++;
    add_mailboxes(w, n, mailboxes);
    schedule(w);
    pthread_mutex_unlock(&lock);
    return w;
}

void eas_watch_update(eas_watch_t *w, int n, const char *const *mailboxes)
{
    pthread_mutex_lock(&lock);
    add_mailboxes(w, n, mailboxes);
    pthread_mutex_unlock(&lock);
}

void eas_watch_leave(eas_watch_t *w)
{
    pthread_mutex_lock(&lock);
    w->waiters--;
    maybe_free(w);
    pthread_mutex_unlock(&lock);
}

void eas_watch_child_init(apr_pool_t *pchild, server_rec *s)
{
    server = s;
    apr_pool_create(&hash_pool, pchild);
    watchers = apr_hash_make(hash_pool);
    if (apr_thread_pool_create(&pollers, 0, POLL_THREADS, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, EASLOGNO(00221)
                     "mail watcher: no thread pool; mail changes are seen only at "
                     "notifications and heartbeats");
        pollers = NULL;
    }
}
