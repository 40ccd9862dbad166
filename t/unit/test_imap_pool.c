/*
 * The IMAP connection pool without a server: keys, LRU bound, idle expiry,
 * child-init reset, release by pool cleanup, and exclusive use of every
 * handle while eight threads check handles in and out.  A server that is
 * down (a closed loopback port) must give TRANSIENT, quickly.
 */
#include "tap.h"
#include "eas_imap.h"

#include <stdlib.h>
#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <curl/curl.h>

static apr_pool_t *p;

static eas_imap_server_t down = {
    .url = "imap://127.0.0.1:1/ignored/path",
    .connect_timeout = APR_USEC_PER_SEC * 2,
    .timeout = APR_USEC_PER_SEC * 2,
};

static void *handle_of(eas_imap_pool_t *pool, const eas_imap_server_t *srv, const char *user,
                       const char *pw, apr_pool_t *pp, eas_imap_t **c)
{
    if (eas_imap_acquire(pool, srv, user, pw, pp, c) != APR_SUCCESS)
        return NULL;
    return eas_imap_handle(*c);
}

static void test_keys_and_lru(void)
{
    eas_imap_pool_t *pool;
    eas_imap_pool_stats_t st;
    eas_imap_t *c1, *c2, *c3, *c;
    void *h1, *h3, *h;
    eas_imap_server_t master = down;

    eas_imap_pool_create(&pool, p, 2, apr_time_from_sec(60), NULL);
    h1 = handle_of(pool, &down, "u1", "pw", p, &c1);
    handle_of(pool, &down, "u2", "pw", p, &c2);
    h3 = handle_of(pool, &down, "u3", "pw", p, &c3);
    ok(h1 && h3 && h1 != h3, "three users, three handles");
    eas_imap_pool_stats(pool, &st);
    ok(st.busy == 3 && st.idle == 0 && st.created == 3, "all three checked out");
    eas_imap_release(c1);
    eas_imap_release(c2);
    eas_imap_release(c3);
    eas_imap_release(c3);   /* twice is harmless */
    eas_imap_pool_stats(pool, &st);
    ok(st.busy == 0 && st.idle == 2 && st.discarded == 1,
       "max_idle 2: the least recently used one is closed");
    h = handle_of(pool, &down, "u3", "other password", p, &c);
    ok(h == h3, "the same user gets the same handle back");
    eas_imap_release(c);
    /* (malloc may hand out the freed address again: count, don't compare.) */
    h = handle_of(pool, &down, "u1", "pw", p, &c);
    eas_imap_release(c);
    eas_imap_pool_stats(pool, &st);
    ok(h && st.created == 4 && st.reused == 1, "the evicted user gets a new one");

    master.master_user = "master";
    master.master_password = "secret";
    h = handle_of(pool, &master, "u3", NULL, p, &c);
    ok(h && h != h3, "a master-user login is another identity");
    eas_imap_release(c);
    master.master_authzid = 1;
    h = handle_of(pool, &master, "u3", NULL, p, &c);
    eas_imap_release(c);
    eas_imap_pool_stats(pool, &st);
    is_int(st.created, 6, "SASL authzid is yet another identity");

    ok(eas_imap_acquire(pool, &down, "u\r\n1", "pw", p, &c) == APR_EINVAL,
       "a user name with CR/LF is refused");
    ok(eas_imap_acquire(pool, &down, "u1", NULL, p, &c) == APR_EINVAL,
       "no password and no master user is refused");
    master.master_password = NULL;
    ok(eas_imap_acquire(pool, &master, "u1", "pw", p, &c) == APR_EINVAL,
       "a master user without a password is refused");

    is_int(eas_imap_pool_expire(pool, apr_time_now()), 0, "nothing expires early");
    eas_imap_pool_stats(pool, &st);
    is_int(eas_imap_pool_expire(pool, apr_time_now() + apr_time_from_sec(61)), st.idle,
           "idle handles expire after max_idle_time");
    eas_imap_pool_stats(pool, &st);
    ok(st.idle == 0 && st.expired == 2, "expired ones are gone and counted");
}

static void test_cleanup_and_child(void)
{
    eas_imap_pool_t *pool;
    eas_imap_pool_stats_t st;
    apr_pool_t *req, *sub;
    eas_imap_t *c;

    apr_pool_create(&sub, p);
    eas_imap_pool_create(&pool, sub, 8, 0, NULL);
    apr_pool_create(&req, p);
    handle_of(pool, &down, "a", "pw", req, &c);
    handle_of(pool, &down, "b", "pw", req, &c);
    apr_pool_destroy(req);
    eas_imap_pool_stats(pool, &st);
    ok(st.busy == 0 && st.idle == 2, "destroying the request pool checks connections in");
    eas_imap_pool_child_init(pool);
    eas_imap_pool_stats(pool, &st);
    ok(st.busy == 0 && st.idle == 0, "child_init forgets inherited handles");
    handle_of(pool, &down, "a", "pw", p, &c);
    eas_imap_pool_stats(pool, &st);
    ok(st.reused == 0 && st.busy == 1, "after child_init a new handle is made");
    eas_imap_release(c);
    apr_pool_destroy(sub);
    ok(1, "destroying the pool's pool closes what is idle");

    eas_imap_pool_create(&pool, p, 0, 0, NULL);
    handle_of(pool, &down, "a", "pw", p, &c);
    eas_imap_release(c);
    eas_imap_pool_stats(pool, &st);
    ok(st.idle == 0 && st.discarded == 1, "max_idle 0 keeps nothing");
}

static void test_server_down(void)
{
    eas_imap_pool_t *pool;
    eas_imap_t *c;
    unsigned int caps = 0;
    apr_time_t t0;

    eas_imap_pool_create(&pool, p, 4, 0, NULL);
    t0 = apr_time_now();
    is_int(eas_imap_login_check(pool, &down, "u1", "pw", p), EAS_IMAP_TRANSIENT,
           "login check against a closed port: TRANSIENT, not AUTH");
    {
        eas_imap_server_t master = down;
        eas_imap_pool_stats_t st0, st1;
        master.master_user = "m";
        master.master_password = "pw";
        eas_imap_pool_stats(pool, &st0);
        eas_imap_login_check(pool, &master, "u9", "pw", p);
        eas_imap_pool_stats(pool, &st1);
        ok(st1.idle == st0.idle && st1.discarded == st0.discarded + 1,
           "with a master user, a login check's connection is not kept");
    }
    handle_of(pool, &down, "u1", "pw", p, &c);
    is_int(eas_imap_capabilities(c, &caps), EAS_IMAP_TRANSIENT, "an operation: TRANSIENT");
    ok(*eas_imap_error(c) != '\0', "the failure is described");
    diag("%s", eas_imap_error(c));
    is_int(eas_imap_status(c, "INBOX", &(eas_imap_status_t){0}), EAS_IMAP_TRANSIENT,
           "STATUS: TRANSIENT");
    is_int(eas_imap_create(c, "bad\xC3"), EAS_IMAP_INVALID, "a mailbox name that is not UTF-8");
    is_str(eas_imap_rc_name(EAS_IMAP_NO_MAILBOX), "no-mailbox", "rc names");
    eas_imap_release(c);
    diag("%.1f s for three refused connections", (apr_time_now() - t0) / 1e6);
}

/* ---- Threads ------------------------------------------------------------ */

#define THREADS 8
#define ROUNDS 400

static eas_imap_pool_t *shared;
static apr_thread_mutex_t *seen_lock;
static apr_hash_t *in_use;
static volatile int clashes, acquired;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    apr_pool_t *tp;
    unsigned int seed = (unsigned int)(apr_uintptr_t)data;
    int i;

    apr_pool_create(&tp, NULL);
    for (i = 0; i < ROUNDS; i++) {
        char user[8];
        eas_imap_t *c;
        void *h;
        apr_snprintf(user, sizeof(user), "u%d", rand_r(&seed) % 5);
        if (eas_imap_acquire(shared, &down, user, "pw", tp, &c) != APR_SUCCESS)
            continue;
        h = eas_imap_handle(c);
        apr_thread_mutex_lock(seen_lock);
        if (apr_hash_get(in_use, &h, sizeof(h)))
            clashes++;
        apr_hash_set(in_use, apr_pmemdup(p, &h, sizeof(h)), sizeof(h), "x");
        acquired++;
        apr_thread_mutex_unlock(seen_lock);
        if (i % 7 == 0)
            apr_thread_yield();
        apr_thread_mutex_lock(seen_lock);
        apr_hash_set(in_use, &h, sizeof(h), NULL);
        apr_thread_mutex_unlock(seen_lock);
        if (i % 2)
            eas_imap_release(c);
        else
            apr_pool_clear(tp);     /* checked in by the pool cleanup */
    }
    apr_pool_destroy(tp);
    /* Returning, not apr_thread_exit(): ASan misreports pthread_exit. */
    return NULL;
}

static void test_threads(void)
{
    apr_thread_t *t[THREADS];
    eas_imap_pool_stats_t st;
    apr_status_t rv;
    int i, started = 0;

    eas_imap_pool_create(&shared, p, 3, 0, NULL);
    apr_thread_mutex_create(&seen_lock, APR_THREAD_MUTEX_DEFAULT, p);
    in_use = apr_hash_make(p);
    for (i = 0; i < THREADS; i++)
        started += apr_thread_create(&t[i], NULL, worker, (void *)(apr_uintptr_t)(i + 1), p)
                   == APR_SUCCESS;
    for (i = 0; i < started; i++)
        apr_thread_join(&rv, t[i]);
    is_int(started, THREADS, "threads started");
    is_int(clashes, 0, "no handle was ever used by two threads at once");
    is_int(acquired, THREADS * ROUNDS, "every checkout succeeded");
    eas_imap_pool_stats(shared, &st);
    ok(st.busy == 0 && st.idle <= 3, "all checked in, idle within bound");
    ok(st.created + st.reused == (apr_uint64_t)(THREADS * ROUNDS), "created + reused = checkouts");
    ok(st.reused > 0, "handles were reused across threads");
}

int main(void)
{
    apr_initialize();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_create(&p, NULL);
    test_keys_and_lru();
    test_cleanup_and_child();
    test_server_down();
    test_threads();
    apr_pool_destroy(p);
    curl_global_cleanup();
    apr_terminate();
    return tap_done();
}
