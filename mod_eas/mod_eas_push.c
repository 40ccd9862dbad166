/*
 * Parking waiting requests: the drivers, the reactor thread and its
 * PostgreSQL LISTEN connection (notes/httpd-apr-curl.md §1.4, §1.5, §2).
 *
 * Threads and ownership:
 * - a waiter (malloc'd: its lifetime is no pool's) belongs to the thread
 *   that runs its request: the handler, then (async) the worker a wake-up
 *   is handed to; r, c and their pools are touched by that thread only;
 * - the reactor thread only moves waiters between "waiting" and "woken"
 *   under the lock, and never blocks on anything but epoll_wait: the
 *   LISTEN connection is driven with libpq's non-blocking calls;
 * - an async waiter is freed by the reactor (zombies), after the epoll
 *   events of the round that might still name it have been looked at.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <apr_strings.h>
#include <ap_mmn.h>
#include <ap_mpm.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mpm_common.h>
#include <libpq-fe.h>

#include "eas_push.h"
#include "eas_request.h"
#include "eas_waitset.h"
#include "mod_eas_config.h"
#include "mod_eas_handler.h"
#include "mod_eas_private.h"
#include "mod_eas_push.h"
#include "mod_eas_watch.h"

/* A parked socket must not be handed to a worker while notify_suspend()
 * may still be writing the connection (notes §1.4 step 3). */
#define ARM_GRACE apr_time_from_msec(2)
#define PG_BACKOFF_MIN apr_time_from_sec(1)
#define PG_BACKOFF_MAX apr_time_from_sec(30)

typedef enum { R_NONE = 0, R_CHANGE, R_SUPERSEDED, R_EXPIRED, R_STOPPING, R_ABORTED } reason_e;

typedef struct waiter_t waiter_t;
struct waiter_t {
    eas_waitnode_t node;          /* first: the set hands nodes back */
    request_rec *r;
    conn_rec *c;
    const eas_request_t *tmpl;
    int async;
    int fd;                       /* client socket, -1 when it cannot be watched (h2) */
    int efd;                      /* blocking: woken through this eventfd */
    int in_epoll;
    reason_e reason;              /* set under the lock when it leaves the set */
    apr_time_t armed_at;
    char *push_gen;
    eas_watch_t *watch;           /* the user's mail watcher, NULL without mail folders */
    int nmail;
    char **mailboxes, **states;   /* what the last run saw */
    waiter_t *next_zombie;
    waiter_t *next_deferred;      /* woken within the grace period after arming */
};

typedef enum { PG_IDLE, PG_CONNECTING, PG_LISTENING, PG_READY } pg_state_e;

typedef struct {
    server_rec *s;
    pthread_mutex_t lock;
    eas_waitset_t *ws;
    int epfd, evfd;
    pthread_t thread;
    int running;                  /* the reactor thread is up */
    volatile int quit, stopping, stopped_all;
    int mpm_async;
    eas_ping_mode_e mode;
    waiter_t *zombies;
    waiter_t *deferred;           /* hand-offs waiting for ARM_GRACE to pass */
    int in_reactor;               /* set by the reactor thread while it holds the lock */
    /* the LISTEN connection */
    char *conninfo;               /* under lock */
    PGconn *pg;
    pg_state_e pg_state;
    int pg_fd;
    apr_time_t pg_retry_at, pg_backoff;
    int pg_failures;
} push_t;

static push_t *push;

/* ------------------------------------------------------------------ waking */

static void poke(void)
{
    apr_uint64_t one = 1;

    if (push && write(push->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, push->s, EASLOGNO(00200)
                     "cannot wake the push reactor");
}

static void finish_async(void *baton);

static void hand_off(waiter_t *w)
{
    if (ap_mpm_register_timed_callback(0, finish_async, w) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, push->s, EASLOGNO(00201)
                     "the MPM refused a callback: a parked request is lost");
}

/* Hands a waiter that left the set to whoever goes on with it.  Lock held. */
static void dispatch(waiter_t *w, reason_e why)
{
    ap_log_error(APLOG_MARK, APLOG_TRACE2, 0, push->s, EASLOGNO(00215)
                 "push: waiter %pp of user %" APR_INT64_T_FMT " device %" APR_INT64_T_FMT
                 " woken (%d)", w, w->node.user, w->node.device, why);
    w->reason = why;
    if (w->async) {
        if (w->in_epoll) {
            epoll_ctl(push->epfd, EPOLL_CTL_DEL, w->fd, NULL);
            w->in_epoll = 0;
        }
        /* Only zero-delay timers: 2.4's event MPM was seen to leave a
         * timer a few milliseconds ahead unserved until its next wake-up,
         * so the reactor keeps the grace period itself. */
        if (apr_time_now() - w->armed_at < ARM_GRACE) {
            w->next_deferred = push->deferred;
            push->deferred = w;
            if (!push->in_reactor)
                poke();
        }
        else
            hand_off(w);
    }
    else {
        apr_uint64_t one = 1;

        if (write(w->efd, &one, sizeof(one)) < 0)
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, push->s, EASLOGNO(00202)
                         "cannot wake a waiting worker");
    }
}

static void woken(eas_waitnode_t *n, eas_wake_e why, void *baton)
{
    waiter_t *w = (waiter_t *)n;

    switch (why) {
    case EAS_WAKE_CHANGE:
        dispatch(w, R_CHANGE);
        break;
    case EAS_WAKE_SUPERSEDED:
        dispatch(w, R_SUPERSEDED);
        break;
    case EAS_WAKE_EXPIRED:
        dispatch(w, R_EXPIRED);
        break;
    case EAS_WAKE_ALL:
        dispatch(w, push->stopping ? R_STOPPING : R_CHANGE);
        break;
    }
}

/* Puts w (back) into the set; a request superseded meanwhile, or arriving
 * while the server stops, is dispatched at once. */
static void arm(waiter_t *w)
{
    struct epoll_event ev;

    pthread_mutex_lock(&push->lock);
    w->armed_at = apr_time_now();
    if (push->stopping)
        dispatch(w, R_STOPPING);
    else if (eas_waitset_add(push->ws, &w->node, w->armed_at))
        dispatch(w, R_SUPERSEDED);
    else if (w->async && w->fd >= 0) {
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = w;
        if (epoll_ctl(push->epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0)
            w->in_epoll = 1;
    }
    pthread_mutex_unlock(&push->lock);
    poke(); /* the reactor's next deadline may be this one */
}

void eas_push_wake_user(apr_int64_t user)
{
    if (!push)
        return;
    pthread_mutex_lock(&push->lock);
    eas_waitset_user(push->ws, user, NULL, NULL, woken, NULL);
    pthread_mutex_unlock(&push->lock);
}

typedef struct {
    int n;
    const char *const *mailboxes, *const *states;
} states_t;

static int saw_other_state(const eas_waitnode_t *n, void *baton)
{
    const waiter_t *w = (const waiter_t *)n;
    const states_t *now = baton;
    int i, j;

    for (i = 0; i < w->nmail; i++)
        for (j = 0; j < now->n; j++)
            if (!strcmp(w->mailboxes[i], now->mailboxes[j]) &&
                strcmp(w->states[i], now->states[j]))
                return 1;
    return 0;
}

void eas_push_mail_states(apr_int64_t user, int n, const char *const *mailboxes,
                          const char *const *states)
{
    states_t now = {n, mailboxes, states};

    if (!push)
        return;
    pthread_mutex_lock(&push->lock);
    eas_waitset_user(push->ws, user, saw_other_state, &now, woken, NULL);
    pthread_mutex_unlock(&push->lock);
}

/* ----------------------------------------------------------------- waiters */

static void free_mail(waiter_t *w)
{
    int i;

    for (i = 0; i < w->nmail; i++) {
        free(w->mailboxes[i]);
        free(w->states[i]);
    }
    free(w->mailboxes);
    free(w->states);
    w->nmail = 0;
    w->mailboxes = w->states = NULL;
}

/* Keeps what the run saw of the mail folders (the watcher compares). */
static int take_mail(waiter_t *w, const eas_request_t *req)
{
    int i, n = req->wait_mailboxes ? req->wait_mailboxes->nelts : 0;

    free_mail(w);
    if (!n)
        return 1;
    w->mailboxes = calloc(n, sizeof(char *));
    w->states = calloc(n, sizeof(char *));
    if (!w->mailboxes || !w->states)
        return 0;
    w->nmail = n;
    for (i = 0; i < n; i++) {
        const char *st = req->wait_mail_states && i < req->wait_mail_states->nelts
                             ? APR_ARRAY_IDX(req->wait_mail_states, i, const char *) : NULL;

        w->mailboxes[i] = strdup(APR_ARRAY_IDX(req->wait_mailboxes, i, const char *));
        w->states[i] = strdup(st ? st : "");
        if (!w->mailboxes[i] || !w->states[i])
            return 0;
    }
    return 1;
}

static void waiter_free(waiter_t *w)
{
    if (w->watch)
        eas_watch_leave(w->watch);
    free_mail(w);
    if (w->efd >= 0)
        close(w->efd);
    free(w->push_gen);
    free(w);
}

static waiter_t *waiter_make(request_rec *r, const eas_request_t *tmpl, eas_request_t *first)
{
    const eas_srv_conf_t *sc = ap_get_module_config(r->server->module_config, &eas_module);
    waiter_t *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    eas_waitnode_init(&w->node);
    w->r = r;
    w->c = r->connection;
    w->tmpl = tmpl;
    w->fd = w->efd = -1;
    w->node.user = apr_atoi64(first->user->id);
    w->node.device = apr_atoi64(first->device->id);
    w->node.gen = first->push_gen ? apr_atoi64(first->push_gen) : 0;
    w->node.deadline = r->request_time + apr_time_from_sec(first->wait_seconds);
    if ((first->push_gen && !(w->push_gen = strdup(first->push_gen))) || !take_mail(w, first)) {
        waiter_free(w);
        return NULL;
    }
    if (w->nmail && eas_srv_mail_poll(sc) > 0)
        w->watch = eas_watch_join(w->node.user, tmpl->login, tmpl->password, tmpl->imap_server,
                                  w->nmail, (const char *const *)w->mailboxes,
                                  eas_srv_mail_poll(sc));
    return w;
}

/* Runs the request again after a wake-up.  Returns 1 when it waits more
 * (w updated); else *final is the run to answer with. */
static int run_again(waiter_t *w, eas_request_t **final)
{
    int expired = w->reason != R_CHANGE;
    eas_request_t *req = eas_handler_run(w->r, w->tmpl, 1, expired, w->push_gen);

    *final = req;
    if (!req || req->wait_seconds <= 0 || req->out || expired || push->stopping)
        return 0;
    if (!take_mail(w, req))
        return 0;
    if (w->watch)
        eas_watch_update(w->watch, w->nmail, (const char *const *)w->mailboxes);
    eas_handler_run_done(req);
    *final = NULL;
    return 1;
}

/* An answer with no run behind it (out of memory): 503, try again. */
static int no_run(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "30");
    return HTTP_SERVICE_UNAVAILABLE;
}

/* ------------------------------------------------------------ async driver */

static void zombie(waiter_t *w)
{
    pthread_mutex_lock(&push->lock);
    w->next_zombie = push->zombies;
    push->zombies = w;
    pthread_mutex_unlock(&push->lock);
    poke();
}

/* On an MPM worker, from the zero-delay timer the reactor set. */
static void finish_async(void *baton)
{
    waiter_t *w = baton;
    request_rec *r = w->r;
    conn_rec *c = w->c;
    eas_request_t *req = NULL;
    int rc;

    ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, EASLOGNO(00216) "push: waiter %pp runs (%d)",
                  w, w->reason);
    if (w->reason == R_ABORTED) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, EASLOGNO(00203)
                      "client closed a waiting %s", w->tmpl->q.cmd_name);
        c->aborted = 1;
        apr_table_setn(r->notes, "eas-status", "aborted");
        ap_die(OK, r);
    }
    else {
        if (r->invoke_mtx)
            apr_thread_mutex_lock(r->invoke_mtx);
        if (run_again(w, &req)) {
            if (r->invoke_mtx)
                apr_thread_mutex_unlock(r->invoke_mtx);
            arm(w);
            return;
        }
        rc = req ? eas_handler_respond(r, req) : no_run(r);
        if (r->invoke_mtx)
            apr_thread_mutex_unlock(r->invoke_mtx);
        ap_die(rc, r);
    }
    /* From here on the request and then the connection are gone. */
    ap_process_request_after_handler(r);
#if defined(AP_MPMQ_CAN_POLL)
    /* httpd 2.5+: the MPM takes the connection back, keep-alive works. */
    ap_mpm_resume_suspended(c);
#else
    /* 2.4 cannot take a suspended connection back: close it ourselves;
     * destroying c->pool runs the MPM's own cleanups, which release the
     * connection slot and count the suspended connection as resumed. */
    ap_lingering_close(c);
    c->cs->state = CONN_STATE_SUSPENDED;
    apr_pool_destroy(c->pool);
#endif
    zombie(w);
}

#if AP_MODULE_MAGIC_AT_LEAST(20120211, 33)
/* The MPM has let go of the connection: only now may a wake-up hand it to
 * another thread. */
static void suspend_connection(conn_rec *c, request_rec *r)
{
    waiter_t *w = ap_get_module_config(c->conn_config, &eas_module);

    if (!w)
        return;
    ap_set_module_config(c->conn_config, &eas_module, NULL);
    arm(w);
}
#endif

static int async_allowed(request_rec *r)
{
    conn_rec *c = r->connection;

    return push && push->running && push->mpm_async && push->mode != EAS_PING_BLOCKING &&
           !push->stopping && c->cs && !c->clogging_input_filters && !c->master;
}

/* --------------------------------------------------------- blocking driver */

static int client_gone(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Waits on the client socket, the waiter's eventfd and the deadline. */
static void block(waiter_t *w)
{
    struct pollfd pf[2];
    apr_uint64_t v;
    int nfds = 1, rc;

    pf[0].fd = w->efd;
    pf[0].events = POLLIN;
    if (w->fd >= 0) {
        pf[1].fd = w->fd;
        pf[1].events = POLLIN | POLLRDHUP;
        nfds = 2;
    }
    for (;;) {
        apr_time_t left = w->node.deadline - apr_time_now();

        rc = poll(pf, nfds, left > 0 ? (int)apr_time_as_msec(left) + 1 : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc > 0 && (pf[0].revents & POLLIN)) {
            if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, w->r, EASLOGNO(00204)
                              "reading a waiter's eventfd");
            return; /* the reason was set by whoever woke us */
        }
        if (rc > 0 && nfds == 2 && pf[1].revents) {
            if ((pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) || client_gone(w->fd)) {
                pthread_mutex_lock(&push->lock);
                if (eas_waitset_contains(&w->node)) {
                    eas_waitset_remove(push->ws, &w->node);
                    w->reason = R_ABORTED;
                }
                pthread_mutex_unlock(&push->lock);
                if (w->reason == R_ABORTED)
                    return;
                continue; /* woken at the same moment: the eventfd says why */
            }
            pf[1].events = POLLRDHUP; /* data (pipelining): only a hang-up matters now */
            continue;
        }
        if (rc == 0 || left <= 0) {
            pthread_mutex_lock(&push->lock);
            if (eas_waitset_contains(&w->node)) {
                eas_waitset_remove(push->ws, &w->node);
                w->reason = R_EXPIRED;
            }
            pthread_mutex_unlock(&push->lock);
            if (w->reason == R_EXPIRED)
                return;
        }
    }
}

static int wait_blocking(request_rec *r, waiter_t *w)
{
    eas_request_t *req = NULL;
    int rc;

    if ((w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, EASLOGNO(00205)
                      "no eventfd for a waiting request: answering at once");
        w->reason = R_EXPIRED;
    }
    else {
        do {
            w->reason = R_NONE;
            arm(w);
            block(w);
        } while (w->reason != R_ABORTED && run_again(w, &req));
    }
    if (w->reason == R_ABORTED) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, EASLOGNO(00206)
                      "client closed a waiting %s", w->tmpl->q.cmd_name);
        r->connection->aborted = 1;
        apr_table_setn(r->notes, "eas-status", "aborted");
        rc = OK;
    }
    else if (w->efd < 0)
        rc = (req = eas_handler_run(r, w->tmpl, 1, 1, w->push_gen)) ? eas_handler_respond(r, req)
                                                                    : no_run(r);
    else
        rc = req ? eas_handler_respond(r, req) : no_run(r);
    waiter_free(w);
    return rc;
}

/* ------------------------------------------------------------------ parking */

int eas_push_wait(request_rec *r, const eas_request_t *tmpl, eas_request_t *first)
{
    conn_rec *c = r->connection;
    apr_socket_t *sock;
    apr_os_sock_t fd = -1;
    eas_request_t *req;
    waiter_t *w;

    if (!push || push->stopping || !(w = waiter_make(r, tmpl, first))) {
        /* Nowhere to wait: give the "nothing yet" answer now. */
        const char *gen = first->push_gen ? apr_pstrdup(r->pool, first->push_gen) : NULL;

        eas_handler_run_done(first);
        req = eas_handler_run(r, tmpl, 1, 1, gen);
        return req ? eas_handler_respond(r, req) : no_run(r);
    }
    eas_handler_run_done(first);
    if (!c->master && (sock = ap_get_conn_socket(c)) && apr_os_sock_get(&fd, sock) == APR_SUCCESS)
        w->fd = fd;
    if (async_allowed(r)) {
        w->async = 1;
#if !defined(AP_MPMQ_CAN_POLL)
        c->keepalive = AP_CONN_CLOSE; /* finish_async closes it */
#endif
        ap_set_module_config(c->conn_config, &eas_module, w);
        return SUSPENDED;
    }
    return wait_blocking(r, w);
}

/* ------------------------------------------------------ the LISTEN socket */

void eas_push_learn_db(server_rec *s, const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    PQconninfoOption *opts, *o;
    apr_pool_t *tmp;
    PGconn *pg;
    char *info = NULL;

    if (!push || push->conninfo || strcmp(apr_dbd_name(driver), "pgsql"))
        return;
    if (!(pg = apr_dbd_native_handle(driver, handle)) || !(opts = PQconninfo(pg)))
        return;
    if (apr_pool_create(&tmp, NULL) != APR_SUCCESS) {
        PQconninfoFree(opts);
        return;
    }
    /* Every option of the pooled connection, so LISTEN reaches the same
     * database as mod_dbd (DBDParams) without a setting of its own. */
    for (o = opts; o->keyword; o++) {
        char *v, *q, *e;
        size_t len;

        if (!o->val || !*o->val || !strcmp(o->keyword, "replication"))
            continue;
        len = strlen(o->val);
        if (!(e = malloc(2 * len + 1)))
            break;
        for (v = o->val, q = e; *v; v++) {
            if (*v == '\'' || *v == '\\')
                *q++ = '\\';
            *q++ = *v;
        }
        *q = '\0';
        q = info;
        info = q ? apr_psprintf(tmp, "%s %s='%s'", q, o->keyword, e)
                 : apr_psprintf(tmp, "%s='%s'", o->keyword, e);
        free(e);
    }
    PQconninfoFree(opts);
    if (info) {
        pthread_mutex_lock(&push->lock);
        if (!push->conninfo)
            push->conninfo = strdup(info);
        pthread_mutex_unlock(&push->lock);
        poke();
    }
    apr_pool_destroy(tmp);
}

static void pg_watch(int events)
{
    struct epoll_event ev;
    int fd = PQsocket(push->pg);

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = &push->pg;
    if (fd != push->pg_fd) {
        if (push->pg_fd >= 0)
            epoll_ctl(push->epfd, EPOLL_CTL_DEL, push->pg_fd, NULL);
        push->pg_fd = fd;
        if (fd >= 0)
            epoll_ctl(push->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    else if (fd >= 0)
        epoll_ctl(push->epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void pg_fail(const char *what)
{
    apr_time_t now = apr_time_now();

    if (push->pg_failures++ == 0 || push->pg_state == PG_READY)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, push->s, EASLOGNO(00207)
                     "push: LISTEN connection to PostgreSQL %s: %s; retrying", what,
                     push->pg ? PQerrorMessage(push->pg) : "out of memory");
    if (push->pg_fd >= 0)
        epoll_ctl(push->epfd, EPOLL_CTL_DEL, push->pg_fd, NULL);
    push->pg_fd = -1;
    if (push->pg)
        PQfinish(push->pg);
    push->pg = NULL;
    push->pg_state = PG_IDLE;
    push->pg_backoff = push->pg_backoff ? push->pg_backoff * 2 : PG_BACKOFF_MIN;
    if (push->pg_backoff > PG_BACKOFF_MAX)
        push->pg_backoff = PG_BACKOFF_MAX;
    push->pg_retry_at = now + push->pg_backoff;
}

static void notification(const char *payload)
{
    eas_push_event_t ev;

    if (!eas_push_parse(payload, &ev))
        return;
    pthread_mutex_lock(&push->lock);
    if (ev.kind == EAS_PUSH_EV_USER)
        eas_waitset_user(push->ws, ev.id, NULL, NULL, woken, NULL);
    else
        eas_waitset_device(push->ws, ev.id, ev.gen, apr_time_now(), woken, NULL);
    pthread_mutex_unlock(&push->lock);
}

/* Reads what arrived: the LISTEN's completion, then notifications. */
static void pg_input(void)
{
    PGnotify *n;
    PGresult *res;

    if (!PQconsumeInput(push->pg)) {
        pg_fail("lost");
        return;
    }
    while (push->pg_state == PG_LISTENING && !PQisBusy(push->pg)) {
        if (!(res = PQgetResult(push->pg))) {
            ap_log_error(APLOG_MARK, push->pg_failures ? APLOG_NOTICE : APLOG_INFO, 0, push->s,
                         EASLOGNO(00208) "push: listening for changes on PostgreSQL");
            push->pg_state = PG_READY;
            push->pg_failures = 0;
            push->pg_backoff = 0;
            /* What was announced while nobody listened is lost: look again. */
            pthread_mutex_lock(&push->lock);
            eas_waitset_all(push->ws, woken, NULL);
            pthread_mutex_unlock(&push->lock);
            break;
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            PQclear(res);
            pg_fail("refused LISTEN");
            return;
        }
        PQclear(res);
    }
    while ((n = PQnotifies(push->pg))) {
        notification(n->extra);
        PQfreemem(n);
    }
}

static void pg_connect_poll(void)
{
    switch (PQconnectPoll(push->pg)) {
    case PGRES_POLLING_READING:
        pg_watch(EPOLLIN);
        break;
    case PGRES_POLLING_WRITING:
        pg_watch(EPOLLOUT);
        break;
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(push->pg, 1) != 0 ||
            !PQsendQuery(push->pg, "LISTEN " EAS_PUSH_CHANNEL)) {
            pg_fail("cannot send LISTEN");
            return;
        }
        push->pg_state = PG_LISTENING;
        pg_watch(PQflush(push->pg) == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);
        break;
    default:
        pg_fail("failed");
    }
}

/* Starts a connection when one is due (conninfo known, backoff over). */
static void pg_tick(apr_time_t now)
{
    char *info;

    if (push->pg_state != PG_IDLE || now < push->pg_retry_at)
        return;
    pthread_mutex_lock(&push->lock);
    info = push->conninfo;
    pthread_mutex_unlock(&push->lock);
    if (!info)
        return;
    if (!(push->pg = PQconnectStart(info)) || PQstatus(push->pg) == CONNECTION_BAD) {
        pg_fail("failed");
        return;
    }
    push->pg_state = PG_CONNECTING;
    pg_connect_poll();
}

static void pg_event(unsigned events)
{
    if (push->pg_state == PG_CONNECTING)
        pg_connect_poll();
    else if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        pg_input();
    else if (events & EPOLLOUT)
        pg_watch(PQflush(push->pg) == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* ----------------------------------------------------------------- reactor */

static void client_event(waiter_t *w, unsigned events)
{
    pthread_mutex_lock(&push->lock);
    /* The event may be older than a wake-up from another thread. */
    if (eas_waitset_contains(&w->node)) {
        if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || client_gone(w->fd)) {
            eas_waitset_remove(push->ws, &w->node);
            dispatch(w, R_ABORTED);
        }
        else {
            /* Data while waiting (pipelining): only a hang-up matters now. */
            struct epoll_event ev;

            memset(&ev, 0, sizeof(ev));
            ev.events = EPOLLRDHUP;
            ev.data.ptr = w;
            epoll_ctl(push->epfd, EPOLL_CTL_MOD, w->fd, &ev);
        }
    }
    pthread_mutex_unlock(&push->lock);
}

static void *reactor(void *data)
{
    struct epoll_event evs[256];
    apr_uint64_t v;
    int i, n;

    while (!push->quit) {
        apr_time_t now = apr_time_now(), next, wake, later;
        waiter_t *z, *d;
        long ms;

        pthread_mutex_lock(&push->lock);
        push->in_reactor = 1;
        z = push->zombies;
        push->zombies = NULL;
        if (push->deferred) {
            waiter_t *keep = NULL;

            d = push->deferred;
            push->deferred = NULL;
            while (d) {
                waiter_t *nd = d->next_deferred;

                if (now - d->armed_at >= ARM_GRACE)
                    hand_off(d);
                else {
                    d->next_deferred = keep;
                    keep = d;
                }
                d = nd;
            }
            push->deferred = keep;
        }
        if (push->stopping && !push->stopped_all) {
            int k = eas_waitset_all(push->ws, woken, NULL);

            push->stopped_all = 1;
            if (k)
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, push->s, EASLOGNO(00209)
                             "push: server stopping, answering %d waiting requests", k);
        }
        next = eas_waitset_expire(push->ws, now, woken, NULL);
        later = 0;
        for (d = push->deferred; d; d = d->next_deferred)
            if (!later || d->armed_at + ARM_GRACE < later)
                later = d->armed_at + ARM_GRACE;
        push->in_reactor = 0;
        pthread_mutex_unlock(&push->lock);
        while (z) {
            waiter_t *nz = z->next_zombie;

            waiter_free(z);
            z = nz;
        }
        pg_tick(now);

        wake = now + apr_time_from_sec(60);
        if (next && next < wake)
            wake = next;
        if (later && later < wake)
            wake = later;
        if (push->pg_state == PG_IDLE && push->pg_retry_at > now && push->pg_retry_at < wake)
            wake = push->pg_retry_at;
        ms = (long)apr_time_as_msec(wake - now) + 1;
        n = epoll_wait(push->epfd, evs, 256, (int)(ms > 0 ? ms : 0));
        for (i = 0; i < n; i++) {
            if (evs[i].data.ptr == &push->evfd) {
                if (read(push->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    break;
            }
            else if (evs[i].data.ptr == &push->pg)
                pg_event(evs[i].events);
            else
                client_event(evs[i].data.ptr, evs[i].events);
        }
    }
    return NULL;
}

static apr_status_t reactor_stop(void *data)
{
    if (push->running) {
        push->quit = 1;
        poke();
        pthread_join(push->thread, NULL);
        push->running = 0;
    }
    if (push->pg)
        PQfinish(push->pg);
    push->pg = NULL;
    return APR_SUCCESS;
}

#if AP_MODULE_MAGIC_AT_LEAST(20120211, 110)
/* Graceful restart (logrotate) must not keep old children for a whole
 * heartbeat: answer every waiting request now (notes §1.4 step 6). */
static void child_stopping(apr_pool_t *pchild, int graceful)
{
    if (!push)
        return;
    push->stopping = 1;
    poke();
}
#endif

void eas_push_child_init(apr_pool_t *pchild, server_rec *s)
{
    const eas_srv_conf_t *sc = ap_get_module_config(s->module_config, &eas_module);
    struct epoll_event ev;
    int async = 0;

    push = apr_pcalloc(pchild, sizeof(*push));
    push->s = s;
    push->mode = sc->ping_mode;
    push->pg_fd = -1;
    pthread_mutex_init(&push->lock, NULL);
    ap_mpm_query(AP_MPMQ_IS_ASYNC, &async);
    push->mpm_async = async;
    eas_watch_child_init(pchild, s);
    if (!(push->ws = eas_waitset_create()) ||
        (push->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (push->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s, EASLOGNO(00210)
                     "push: cannot set up the reactor; requests will not wait");
        push = NULL;
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = &push->evfd;
    epoll_ctl(push->epfd, EPOLL_CTL_ADD, push->evfd, &ev);
    if (pthread_create(&push->thread, NULL, reactor, NULL) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s, EASLOGNO(00211)
                     "push: cannot start the reactor thread; requests will not wait");
        push = NULL;
        return;
    }
    push->running = 1;
    apr_pool_cleanup_register(pchild, NULL, reactor_stop, apr_pool_cleanup_null);
}

int eas_push_post_config(apr_pool_t *pconf, server_rec *s)
{
    const eas_srv_conf_t *sc = ap_get_module_config(s->module_config, &eas_module);
    static const char *const names[] = {"auto", "async", "blocking"};
    const char *mpm = ap_show_mpm();
    int async = 0;

    ap_mpm_query(AP_MPMQ_IS_ASYNC, &async);
    if (sc->ping_mode == EAS_PING_BLOCKING)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, EASLOGNO(00212)
                     "EASPingMode blocking: waiting requests hold a %s worker each", mpm);
    else if (async)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, EASLOGNO(00213)
                     "EASPingMode %s: waiting requests are parked without a thread (%s MPM); "
                     "HTTP/2 streams wait on a worker", names[sc->ping_mode], mpm);
    else
        ap_log_error(APLOG_MARK, sc->ping_mode == EAS_PING_ASYNC ? APLOG_WARNING : APLOG_NOTICE,
                     0, s, EASLOGNO(00214) "EASPingMode %s: the %s MPM cannot park requests; "
                     "waiting requests hold a worker each", names[sc->ping_mode], mpm);
    return OK;
}

void eas_push_register_hooks(apr_pool_t *p)
{
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 33)
    ap_hook_suspend_connection(suspend_connection, NULL, NULL, APR_HOOK_MIDDLE);
#endif
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 110)
    ap_hook_child_stopping(child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
#endif
}
