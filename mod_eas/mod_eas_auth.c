/*
 * "AuthBasicProvider imap": checks a password with an IMAP LOGIN to the
 * server named by EASImapURL.  Verdicts are cached per process for
 * EASAuthCacheTTL seconds as a salted SHA-256 of login and password, never
 * the password itself.  Failed logins are logged with the client address
 * and answered more slowly the more there are (brute force).
 */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <http_core.h>
#include <http_request.h>
#include <mod_auth.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "eas_imap.h"
#include "eas_login.h"
#include "mod_eas_config.h"
#include "mod_eas_handler.h"
#include "mod_eas_private.h"

#define CACHE_MAX 20000
#define FAIL_WINDOW apr_time_from_sec(900)

typedef struct {
    unsigned char digest[32];
    apr_time_t expires;       /* a good password until then */
    int failures;             /* recent failed attempts */
    apr_time_t last_failure;
} entry_t;

static apr_pool_t *cache_pool;
static apr_hash_t *cache;
static apr_thread_mutex_t *cache_lock;
static unsigned char salt[16];

void eas_auth_child_init(apr_pool_t *p, server_rec *s)
{
    apr_pool_create(&cache_pool, p);
    cache = apr_hash_make(cache_pool);
    apr_thread_mutex_create(&cache_lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, EASLOGNO(00080)
                     "no random salt for the authentication cache");
}

static void digest(const char *login, const char *password, unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 32;

    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, salt, sizeof(salt));
    EVP_DigestUpdate(ctx, login, strlen(login) + 1);
    EVP_DigestUpdate(ctx, password, strlen(password));
    EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
}

/* Looks the login up; returns the entry (created when absent), locked. */
static entry_t *entry_for(const char *login)
{
    entry_t *e;

    apr_thread_mutex_lock(cache_lock);
    e = apr_hash_get(cache, login, APR_HASH_KEY_STRING);
    if (!e) {
        if (apr_hash_count(cache) >= CACHE_MAX) {
            /* Crude but bounded: start over rather than grow without end. */
            apr_pool_clear(cache_pool);
            cache = apr_hash_make(cache_pool);
        }
        e = apr_pcalloc(cache_pool, sizeof(*e));
        apr_hash_set(cache, apr_pstrdup(cache_pool, login), APR_HASH_KEY_STRING, e);
    }
    return e;
}

static authn_status check_password(request_rec *r, const char *user, const char *password)
{
    const eas_dir_conf_t *dc = eas_dir_conf(r);
    const char *login = eas_login_normalize(r->pool, user, dc->login_domain_strip);
    unsigned char d[32];
    entry_t *e;
    eas_imap_rc_e rc;
    int failures;

    if (!login || !*login || !password || !*password || !eas_handler_imap_pool())
        return AUTH_DENIED;
    digest(login, password, d);
    e = entry_for(login);
    if (e->expires > r->request_time && !memcmp(e->digest, d, sizeof(d))) {
        apr_thread_mutex_unlock(cache_lock);
        return AUTH_GRANTED;
    }
    failures = e->last_failure > r->request_time - FAIL_WINDOW ? e->failures : 0;
    apr_thread_mutex_unlock(cache_lock);

    rc = eas_imap_login_check(eas_handler_imap_pool(), &dc->imap, login, password, r->pool);

    e = entry_for(login);
    if (rc == EAS_IMAP_OK) {
        memcpy(e->digest, d, sizeof(d));
        e->expires = r->request_time + apr_time_from_sec(dc->auth_cache_ttl);
        e->failures = 0;
        apr_thread_mutex_unlock(cache_lock);
        return AUTH_GRANTED;
    }
    if (rc == EAS_IMAP_AUTH) {
        e->failures = failures + 1;
        e->last_failure = r->request_time;
        e->expires = 0;
        apr_thread_mutex_unlock(cache_lock);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, EASLOGNO(00081)
                      "IMAP refused the password of %s from %s (%d recent failures)", login,
                      r->useragent_ip, failures + 1);
        /* One more second per recent failure, at most ten: slows guessing,
         * costs a legitimate user with a stale password little. */
        apr_sleep(apr_time_from_sec(failures < 10 ? failures : 10));
        return AUTH_DENIED;
    }
    apr_thread_mutex_unlock(cache_lock);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, EASLOGNO(00082)
                  "cannot verify %s's password: IMAP %s", login, eas_imap_rc_name(rc));
    return AUTH_GENERAL_ERROR;
}

static const authn_provider imap_provider = {check_password, NULL};

void eas_auth_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "imap", AUTHN_PROVIDER_VERSION,
                              &imap_provider, AP_AUTH_INTERNAL_PER_CONF);
}
