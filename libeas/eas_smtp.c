/*
 * SMTP submission over libcurl 7.88.  curl reports every server line to the
 * header callback and every command to the debug callback, so the reply to
 * each RCPT TO is known even with CURLOPT_MAIL_RCPT_ALLOWFAILS (one bad
 * recipient must not lose the message for the others).
 */
#include "eas_smtp.h"
#include "eas_imap_int.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <curl/curl.h>

/* Spelt with three Ls before curl 8.2 (which kept that name as an alias). */
#if LIBCURL_VERSION_NUM < 0x080200
#define RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#else
#define RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#endif

typedef struct smtp_run_t {
    apr_pool_t *p;
    const char *msg;
    apr_size_t len, off;
    const char *rcpt;           /* the RCPT TO in flight, NULL otherwise */
    int in_auth;                /* an AUTH exchange is in flight */
    int auth_failed;
    int code;                   /* the last reply */
    char reply[256];
    int fail_code;              /* the first reply of 400 or more */
    char fail_reply[256];
    apr_array_header_t *refused;
} smtp_run_t;

static const char *const rc_names[] = {
    "ok", "rejected", "transient", "auth", "protocol", "invalid"
};

const char *eas_smtp_rc_name(eas_smtp_rc_e rc)
{
    return (unsigned)rc < sizeof(rc_names) / sizeof(rc_names[0]) ? rc_names[rc] : "?";
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    smtp_run_t *r = ud;
    apr_size_t n = size * nitems;

    if (n > r->len - r->off)
        n = r->len - r->off;
    memcpy(buf, r->msg + r->off, n);
    r->off += n;
    return n;
}

static size_t header_cb(char *data, size_t size, size_t nitems, void *ud)
{
    smtp_run_t *r = ud;
    apr_size_t n = size * nitems, tl;

    /* Only the last line of a reply ("250 ok", not "250-PIPELINING"). */
    if (n < 4 || !apr_isdigit(data[0]) || !apr_isdigit(data[1]) || !apr_isdigit(data[2])
        || data[3] == '-')
        return n;
    r->code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
    tl = n - 4;
    while (tl && (data[4 + tl - 1] == '\r' || data[4 + tl - 1] == '\n'))
        tl--;
    if (tl >= sizeof(r->reply))
        tl = sizeof(r->reply) - 1;
    memcpy(r->reply, data + 4, tl);
    r->reply[tl] = '\0';
    /* QUIT's 221 follows a failure; the failure is what matters. */
    if (r->code >= 400 && !r->fail_code) {
        r->fail_code = r->code;
        memcpy(r->fail_reply, r->reply, tl + 1);
    }
    if (r->rcpt) {
        if (r->code >= 400)
            APR_ARRAY_PUSH(r->refused, const char *) = r->rcpt;
        r->rcpt = NULL;
    }
    if (r->in_auth && r->code != 334) {
        r->auth_failed = r->code >= 400;
        r->in_auth = 0;
    }
    return n;
}

static int debug_cb(CURL *e, curl_infotype type, char *data, size_t size, void *ud)
{
    smtp_run_t *r = ud;

    if (type != CURLINFO_HEADER_OUT)
        return 0;
    r->rcpt = NULL;
    if (size > 9 && strncasecmp(data, "RCPT TO:", 8) == 0) {
        const char *s = data + 8, *e2 = data + size;
        while (e2 > s && (e2[-1] == '\r' || e2[-1] == '\n'))
            e2--;
        r->rcpt = apr_pstrmemdup(r->p, s, (apr_size_t)(e2 - s));
    }
    else if (size > 5 && strncasecmp(data, "AUTH ", 5) == 0)
        r->in_auth = 1;
    return 0;
}

static int address_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '<' || *s == '>')
            return 0;
    return 1;
}

eas_smtp_rc_e eas_smtp_send(const eas_smtp_server_t *srv, const char *user,
                            const char *password, const char *authzid, const char *from,
                            const apr_array_header_t *rcpts, const char *msg, apr_size_t len,
                            apr_pool_t *p, const eas_log_t *log, eas_smtp_result_t **result)
{
    apr_interval_time_t ct = srv->connect_timeout > 0 ? srv->connect_timeout
                                                      : apr_time_from_sec(10);
    apr_interval_time_t to = srv->timeout > 0 ? srv->timeout : apr_time_from_sec(60);
    eas_smtp_result_t *res = apr_pcalloc(p, sizeof(*res));
    struct curl_slist *list = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    eas_smtp_rc_e rc;
    smtp_run_t r;
    CURLcode cc;
    CURL *e;
    int i;

    res->reply = "";
    res->refused = apr_array_make(p, 1, sizeof(const char *));
    if (result)
        *result = res;
    if (!srv->url || !address_ok(from) || !rcpts || !rcpts->nelts || !msg || !len)
        return EAS_SMTP_INVALID;
    for (i = 0; i < rcpts->nelts; i++)
        if (!address_ok(APR_ARRAY_IDX(rcpts, i, const char *)))
            return EAS_SMTP_INVALID;
    if (!(e = curl_easy_init()))
        return EAS_SMTP_PROTOCOL;

    memset(&r, 0, sizeof(r));
    r.p = p;
    r.msg = imapi_crlf(p, msg, len, &r.len);
    r.refused = res->refused;
    for (i = 0; i < rcpts->nelts; i++)
        list = curl_slist_append(list, apr_pstrcat(p, "<", APR_ARRAY_IDX(rcpts, i, const char *),
                                                   ">", NULL));
    curl_easy_setopt(e, CURLOPT_URL, srv->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)apr_time_as_msec(ct));
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                     (long)(apr_time_sec(to) > 0 ? apr_time_sec(to) : 1));
    /* No overall limit: a large message on a slow link is not a hang. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)apr_time_sec(to) + 1);
    curl_easy_setopt(e, CURLOPT_USE_SSL, srv->starttls == 2 ? (long)CURLUSESSL_ALL
                     : srv->starttls == 1 ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, srv->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, srv->tls_verify ? 2L : 0L);
    if (srv->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, srv->ca_file);
    if (user) {
        /* RFC 4954 initial response: one round trip less. */
        curl_easy_setopt(e, CURLOPT_SASL_IR, 1L);
        curl_easy_setopt(e, CURLOPT_USERNAME, user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, password ? password : "");
        if (authzid)
            curl_easy_setopt(e, CURLOPT_SASL_AUTHZID, authzid);
    }
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, apr_pstrcat(p, "<", from, ">", NULL));
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, list);
    curl_easy_setopt(e, RCPT_ALLOWFAILS, 1L);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r.len);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, &r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, &r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(e);
    /* Before cleanup, which may still send QUIT. */
    res->code = r.code;
    res->reply = apr_pstrdup(p, r.reply);
    curl_easy_cleanup(e);
    curl_slist_free_all(list);
    if (cc == CURLE_OK)
        return EAS_SMTP_OK;
    if (r.fail_code) {
        r.code = r.fail_code;
        memcpy(r.reply, r.fail_reply, sizeof(r.reply));
        res->code = r.code;
        res->reply = apr_pstrdup(p, r.reply);
    }
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
        /* A reply code says more than the transport error that follows it. */
        if (r.code >= 500 && r.code < 600 && cc != CURLE_COULDNT_CONNECT)
            rc = EAS_SMTP_REJECTED;
        else
            rc = EAS_SMTP_TRANSIENT;
        break;
    case CURLE_LOGIN_DENIED:
        rc = r.code >= 400 && r.code < 500 ? EAS_SMTP_TRANSIENT : EAS_SMTP_AUTH;
        break;
    default:
        if (r.auth_failed)
            rc = r.code < 500 ? EAS_SMTP_TRANSIENT : EAS_SMTP_AUTH;
        else if (r.code >= 500 && r.code < 600)
            rc = EAS_SMTP_REJECTED;
        else if (r.code >= 400 && r.code < 500)
            rc = EAS_SMTP_TRANSIENT;
        else
            rc = EAS_SMTP_PROTOCOL;
        break;
    }
    eas_log_printf(log, EAS_LOG_MARK, rc == EAS_SMTP_PROTOCOL ? EAS_LOG_ERR : EAS_LOG_WARNING,
                   APR_SUCCESS, EASLOGNO(01340) "SMTP %s: submission from <%s> %s: %s%s",
                   srv->url, from, eas_smtp_rc_name(rc),
                   errbuf[0] ? errbuf : curl_easy_strerror(cc), r.code ? apr_psprintf(p, " (last reply %d %s)", r.code, r.reply) : "");
    return rc;
}
