/*
 * IMAP client over libcurl 7.88 (Debian 12).  What this file relies on,
 * each point checked against Dovecot 2.3 with curl 7.88.1-10+deb12u15:
 *
 * 1. Every server line reaches CURLOPT_HEADERFUNCTION; every command curl
 *    sends reaches CURLOPT_DEBUGFUNCTION as CURLINFO_HEADER_OUT.  So each
 *    answer is attributed to its command by tag, and failures name the
 *    command that failed (AUTHENTICATE vs SELECT both end in
 *    CURLE_LOGIN_DENIED).  Our own commands are sent with lower-case verbs
 *    ("uid fetch"); curl's are upper-case, which tells them apart.
 * 2. Custom commands (CURLOPT_CUSTOMREQUEST) do not parse literals, so they
 *    are only used where the answer cannot carry message content.  Content
 *    comes through the URL form ;UID=n;SECTION=s, whose literal curl reads
 *    correctly.  curl URL-decodes custom requests, so '%' is sent as %25.
 * 3. curl counts the bytes of each read of response lines against a 300 KB
 *    limit per perform, and re-reads (re-counts) the unconsumed rest of a
 *    read after every line it treats as a complete response.  For custom
 *    commands that is every untagged line, so the cost grows with lines x
 *    read size; a line longer than half the buffer is silently clipped
 *    ("Excessive server response line", seen as CURLINFO_TEXT).  Answers
 *    with many lines are therefore read with a 1 KB buffer in chunks of at
 *    most CHUNK messages, long single lines (SEARCH, VANISHED) with a
 *    512 KB buffer, and a clip or the limit makes the operation split its
 *    work and retry.
 * 4. curl SELECTs the URL's mailbox itself (plain SELECT, read-write)
 *    unless it believes it is selected, and fetches with BODY[] (which sets
 *    \Seen).  We keep a mirror of what curl believes and always select the
 *    mailbox ourselves first (via a URL naming it, so curl's belief and the
 *    server agree), with EXAMINE before fetching content.
 * 5. A connection is prepared once (CAPABILITY, ENABLE QRESYNC): on a new
 *    connection that state is gone.  When curl is about to open one in the
 *    middle of an operation, CURLOPT_SOCKOPTFUNCTION refuses it, and the
 *    operation is redone after preparing a new connection.
 * 6. APPEND always sends (\Seen); flags are corrected with UID STORE.
 *    There is no IDLE (curl cannot send DONE).
 */
#include "eas_imap_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_lib.h>
#include <apr_ring.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <curl/curl.h>

#define BUF_MANY    1024L           /* many short lines per answer */
#define BUF_LONG    (512L * 1024)   /* one long line per answer */
#define BUF_DEFAULT 16384L
#define CHUNK       200             /* messages per command at BUF_MANY */
#define CMD_MAX     8000            /* bytes of UID set per command */
#define LOGICAL_LINE_MAX    (16 * 1024 * 1024)
#define FEW_CHANGES 25              /* changes() fetches these in one command */

/* Internal outcomes beside eas_imap_rc_e; never returned to callers. */
#define RC_SESSION  100     /* a new connection was refused: prepare and redo */
#define RC_OVERFLOW 101     /* curl clipped a line or hit its size limit */

enum { SEL_NONE = 0, SEL_ANY, SEL_RO, SEL_RW };

typedef struct handle_t handle_t;
typedef struct run_t run_t;
typedef void line_fn(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp);

/* One pooled easy handle and the state of the connection it caches.  Its
 * lifetime is not any pool's (it moves between requests and threads), so
 * its few strings are malloc()ed and freed in handle_destroy(). */
struct handle_t {
    APR_RING_ENTRY(handle_t) link;
    CURL *curl;
    char *key;
    apr_time_t last_used;
    /* The connection. */
    int ready;                  /* CAPABILITY known and ENABLE done */
    int force_fresh;            /* curl's idea of the selection may be wrong */
    int discard;                /* close on release instead of keeping */
    unsigned int caps;
    int qresync, condstore;     /* enabled */
    char *sel;                  /* wire name curl and server have selected */
    int sel_ro;
    eas_imap_selected_t mirror; /* what that SELECT/EXAMINE said */
    /* The operation in progress. */
    run_t *run;
    char *lb;                   /* the logical line being assembled */
    apr_size_t lblen, lbcap, lit_end;
    char errbuf[CURL_ERROR_SIZE];
};

APR_RING_HEAD(handle_ring, handle_t);

struct eas_imap_pool_t {
    apr_pool_t *pool;
    apr_thread_mutex_t *mutex;
    const eas_log_t *log;
    int max_idle;
    apr_interval_time_t max_idle_time;
    struct handle_ring idle;    /* most recently released first */
    int nidle, nbusy, closed;
    apr_uint64_t created, reused, discarded, expired;
};

struct eas_imap_t {
    eas_imap_pool_t *pool;
    handle_t *h;
    const eas_imap_server_t *srv;
    apr_pool_t *p;
    const char *base;           /* "imap://host:port" */
    const char *user;           /* for logs */
    const char *err;
};

/* What one perform should do. */
typedef struct req_t {
    const char *mailbox;        /* wire name; NULL: URL without mailbox */
    int mode;                   /* SEL_* the mailbox must be in first */
    const char *custom;         /* custom command, NULL for URL operations */
    const char *suffix;         /* URL after the mailbox: "/;UID=5;SECTION=1" */
    const char *expect;         /* start of our command as sent (default: custom) */
    long bufsize;
    int prepare;                /* may open a connection */
    int selects;                /* is itself a SELECT/EXAMINE */
    int streaming;              /* no overall timeout, a low-speed limit instead */
    line_fn *on_line;
    void *baton;
    eas_imap_sink_fn *sink;
    void *sink_baton;
    const char *upload;
    apr_size_t uplen;
} req_t;

/* The state of one perform, seen by the callbacks. */
struct run_t {
    eas_imap_t *c;
    const req_t *q;
    char tag[16];
    char verb[24];              /* of the command in flight, upper-cased */
    int ours;                   /* the command in flight is q's */
    int new_conn, refused, overflow, bye, closed;
    /* the first failed command */
    int failed, fail_ours;
    imapi_kind_e fail_kind;
    char fail_verb[24], fail_code[32], fail_text[160];
    /* our command's completion */
    int done;
    imapi_kind_e status;
    char code[32];
    /* URL fetch */
    int fetch_line;             /* our FETCH line came */
    int fetch_nil, fetch_empty;
    apr_uint64_t lit_size;
    apr_off_t delivered;
    apr_status_t sink_rv;
    apr_size_t upoff;
    CURLcode cc;
};

static const char *const rc_names[] = {
    "ok", "auth", "transient", "no-mailbox", "no-message", "exists", "refused",
    "protocol", "invalid", "aborted"
};

const char *eas_imap_rc_name(eas_imap_rc_e rc)
{
    return (unsigned)rc < sizeof(rc_names) / sizeof(rc_names[0]) ? rc_names[rc] : "?";
}

/* ---- Text helpers ------------------------------------------------------- */

/* A quoted IMAP string.  Wire mailbox names are printable ASCII; free text
 * may be UTF-8 (Dovecot takes 8-bit quoted strings with CHARSET UTF-8,
 * and curl cannot send literals in a custom command), so only CR/LF are
 * replaced. */
static const char *quote(apr_pool_t *p, const char *s)
{
    char *buf = apr_palloc(p, strlen(s) * 2 + 3), *w = buf;

    *w++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *w++ = '\\';
        *w++ = (*s == '\r' || *s == '\n') ? ' ' : *s;
    }
    *w++ = '"';
    *w = '\0';
    return buf;
}

/* curl URL-decodes CURLOPT_CUSTOMREQUEST. */
static const char *escape_custom(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *q;
    char *buf, *w;

    for (q = s; *q; q++)
        n += *q == '%';
    if (!n)
        return s;
    w = buf = apr_palloc(p, strlen(s) + 2 * n + 1);
    for (q = s; *q; q++) {
        *w++ = *q;
        if (*q == '%') {
            *w++ = '2';
            *w++ = '5';
        }
    }
    *w = '\0';
    return buf;
}

static const char *url_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *buf = apr_palloc(p, strlen(s) * 3 + 1), *w = buf;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (apr_isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
            *w++ = (char)ch;
        else {
            *w++ = '%';
            *w++ = hex[ch >> 4];
            *w++ = hex[ch & 15];
        }
    }
    *w = '\0';
    return buf;
}

static const char *wire_name(apr_pool_t *p, const char *utf8)
{
    const char *w;
    if (!utf8 || !*utf8 || eas_imap_mutf7_encode(p, utf8, &w) != APR_SUCCESS)
        return NULL;
    /* RFC 3501: INBOX is case-insensitive and always spelled so on the wire. */
    if (strcasecmp(w, "INBOX") == 0)
        return "INBOX";
    return w;
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

static void copy_token(char *dst, apr_size_t size, const char *s, apr_size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* ---- Logging ------------------------------------------------------------ */

static void fail_text(eas_imap_t *c, run_t *r, CURLcode cc)
{
    if (r && r->failed)
        c->err = apr_psprintf(c->p, "%s %s%s%s%s %s", r->fail_verb,
                              r->fail_kind == IMAPI_BAD ? "BAD" : "NO",
                              r->fail_code[0] ? " [" : "", r->fail_code,
                              r->fail_code[0] ? "]" : "", r->fail_text);
    else
        c->err = apr_psprintf(c->p, "%s%s%s", curl_easy_strerror(cc),
                              c->h->errbuf[0] ? ": " : "", c->h->errbuf);
}

/* ---- Callbacks ---------------------------------------------------------- */

static void select_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp);

static int is_verb(const run_t *r, const char *v)
{
    return strcmp(r->verb, v) == 0;
}

/* One complete response line (literals inline). */
static void process_line(handle_t *h, run_t *r, const char *line, apr_size_t len)
{
    imapi_resp_t resp;

    if (!imapi_parse_resp(line, len, &resp))
        return;     /* ")" closing a URL fetch, continuation data, ... */
    /* BYE answering curl's own LOGOUT is no news. */
    if (resp.kind == IMAPI_BYE && !is_verb(r, "LOGOUT"))
        r->bye = 1;
    if (resp.tag && resp.taglen < sizeof(r->tag) && strncmp(resp.tag, r->tag, resp.taglen) == 0
        && r->tag[resp.taglen] == '\0') {
        if (resp.kind != IMAPI_OK && !r->failed) {
            r->failed = 1;
            r->fail_ours = r->ours;
            r->fail_kind = resp.kind;
            strcpy(r->fail_verb, r->verb);
            copy_token(r->fail_code, sizeof(r->fail_code), resp.code ? resp.code : "",
                       resp.codelen);
            copy_token(r->fail_text, sizeof(r->fail_text), resp.text, resp.textlen);
        }
        if (r->ours) {
            r->done = 1;
            r->status = resp.kind;
            copy_token(r->code, sizeof(r->code), resp.code ? resp.code : "", resp.codelen);
        }
    }
    /* curl SELECTs on its own when its idea of the selection differs from
     * the URL's mailbox; keep the mirror right even then. */
    if (!r->ours && (is_verb(r, "SELECT") || is_verb(r, "EXAMINE")))
        select_line(r, line, len, &resp);
    if (r->ours && r->q->on_line)
        r->q->on_line(r, line, len, &resp);
}

/* Does the line end in a literal announcement "{n}" / "{n+}"?  Only
 * untagged data can; the text of a status response is free text. */
static int literal_at_end(const char *s, apr_size_t len, apr_uint64_t *n)
{
    const char *e = s + len, *q;
    apr_uint64_t v = 0, mul = 1;
    imapi_resp_t resp;

    if (len < 6 || s[0] != '*' || e[-1] != '\n' || e[-2] != '\r' || e[-3] != '}')
        return 0;
    q = e - 4;
    if (*q == '+')
        q--;
    if (q <= s || !apr_isdigit(*q))
        return 0;
    while (q > s && apr_isdigit(*q)) {
        v += (apr_uint64_t)(*q - '0') * mul;
        mul *= 10;
        if (mul > 100000000000ULL)
            return 0;
        q--;
    }
    if (*q != '{' || !imapi_parse_resp(s, len, &resp) || resp.kind != IMAPI_DATA)
        return 0;
    *n = v;
    return 1;
}

static size_t header_cb(char *data, size_t size, size_t nitems, void *ud)
{
    handle_t *h = ud;
    run_t *r = h->run;
    apr_size_t n = size * nitems;
    apr_uint64_t lit;

    if (!r)
        return n;
    if (h->lblen + n + 1 > h->lbcap) {
        apr_size_t cap = h->lbcap ? h->lbcap : 1024;
        char *nb;
        while (cap < h->lblen + n + 1)
            cap *= 2;
        if (cap > LOGICAL_LINE_MAX || !(nb = realloc(h->lb, cap))) {
            r->overflow = 1;
            return 0;
        }
        h->lb = nb;
        h->lbcap = cap;
    }
    memcpy(h->lb + h->lblen, data, n);
    h->lblen += n;
    if (h->lit_end) {
        /* The literal's bytes come split wherever they hold a LF; the line
         * goes on after them up to the next CRLF. */
        if (h->lblen <= h->lit_end)
            return n;
        h->lit_end = 0;
    }
    /* Literals come through this stream only for our custom commands; for
     * a URL fetch curl reads the literal and sends it to the write callback. */
    if (r->ours && r->q->custom && literal_at_end(h->lb, h->lblen, &lit)) {
        if (lit > LOGICAL_LINE_MAX) {
            r->overflow = 1;
            return 0;
        }
        h->lit_end = h->lblen + (apr_size_t)lit;
        if (lit)
            return n;
        h->lit_end = 0;
        return n;   /* "{0}": the rest of the line follows */
    }
    process_line(h, r, h->lb, h->lblen);
    h->lblen = 0;
    return n;
}

static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *ud)
{
    handle_t *h = ud;
    run_t *r = h->run;
    const char *sp, *end = data + size;

    if (!r)
        return 0;
    if (type == CURLINFO_TEXT) {
        if (size > 9 && strncmp(data, "Excessive", 9) == 0)
            r->overflow = 1;
        return 0;
    }
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    /* SASL continuation data carries no tag (and no space). */
    sp = memchr(data, ' ', size);
    if (!sp || (apr_size_t)(sp - data) >= sizeof(r->tag))
        return 0;
    copy_token(r->tag, sizeof(r->tag), data, (apr_size_t)(sp - data));
    {
        const char *v = sp + 1, *ve = v;
        apr_size_t i, vn;
        while (ve < end && *ve != ' ' && *ve != '\r' && *ve != '\n')
            ve++;
        vn = (apr_size_t)(ve - v);
        if (vn >= sizeof(r->verb))
            vn = sizeof(r->verb) - 1;
        for (i = 0; i < vn; i++)
            r->verb[i] = (char)apr_toupper(v[i]);
        r->verb[vn] = '\0';
        r->ours = (apr_size_t)(end - v) >= strlen(r->q->expect)
            && strncmp(v, r->q->expect, strlen(r->q->expect)) == 0;
    }
    /* curl logs out before closing a connection it gave up on. */
    if (is_verb(r, "LOGOUT"))
        r->closed = 1;
    /* A new selection starts: forget what the last one said. */
    if (is_verb(r, "SELECT") || is_verb(r, "EXAMINE"))
        memset(&h->mirror, 0, sizeof(h->mirror));
    return 0;
}

static size_t write_cb(char *data, size_t size, size_t nitems, void *ud)
{
    handle_t *h = ud;
    run_t *r = h->run;
    apr_size_t n = size * nitems;

    /* Custom commands also copy their untagged lines here: ignored, the
     * header stream has them. */
    if (!r || !r->q->sink || r->q->custom)
        return n;
    r->delivered += (apr_off_t)n;
    if ((r->sink_rv = r->q->sink(r->q->sink_baton, data, n)) != APR_SUCCESS)
        return 0;
    return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    handle_t *h = ud;
    run_t *r = h->run;
    apr_size_t n = size * nitems;

    if (!r || !r->q->upload)
        return 0;
    if (n > r->q->uplen - r->upoff)
        n = r->q->uplen - r->upoff;
    memcpy(buf, r->q->upload + r->upoff, n);
    r->upoff += n;
    return n;
}

static int sockopt_cb(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    handle_t *h = ud;
    run_t *r = h->run;

    if (!r)
        return CURL_SOCKOPT_OK;
    r->new_conn = 1;
    if (!r->q->prepare) {
        r->refused = 1;
        return CURL_SOCKOPT_ERROR;
    }
    return CURL_SOCKOPT_OK;
}

/* ---- Handles and the pool ----------------------------------------------- */

static handle_t *handle_create(const char *key)
{
    handle_t *h = calloc(1, sizeof(*h));
    CURL *e;

    if (!h)
        return NULL;
    if (!(h->curl = e = curl_easy_init()) || !(h->key = strdup(key))) {
        if (h->curl)
            curl_easy_cleanup(h->curl);
        free(h);
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* One connection per handle: a second one would bypass our mirror. */
    curl_easy_setopt(e, CURLOPT_MAXCONNECTS, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, h);
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, h);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    return h;
}

static void handle_destroy(handle_t *h)
{
    /* curl logs out politely; don't let a hung server hold us long. */
    curl_easy_setopt(h->curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, 5L);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_cleanup(h->curl);
    free(h->key);
    free(h->sel);
    free(h->lb);
    free(h);
}

static void destroy_ring(struct handle_ring *ring)
{
    while (!APR_RING_EMPTY(ring, handle_t, link)) {
        handle_t *h = APR_RING_FIRST(ring);
        APR_RING_REMOVE(h, link);
        handle_destroy(h);
    }
}

static apr_status_t pool_cleanup(void *data)
{
    eas_imap_pool_t *pool = data;
    struct handle_ring doomed;

    APR_RING_INIT(&doomed, handle_t, link);
    apr_thread_mutex_lock(pool->mutex);
    pool->closed = 1;
    APR_RING_CONCAT(&doomed, &pool->idle, handle_t, link);
    pool->nidle = 0;
    apr_thread_mutex_unlock(pool->mutex);
    destroy_ring(&doomed);
    return APR_SUCCESS;
}

apr_status_t eas_imap_pool_create(eas_imap_pool_t **out, apr_pool_t *p, int max_idle,
                                  apr_interval_time_t max_idle_time, const eas_log_t *log)
{
    eas_imap_pool_t *pool = apr_pcalloc(p, sizeof(*pool));
    apr_status_t rv;

    pool->pool = p;
    pool->log = log;
    pool->max_idle = max_idle > 0 ? max_idle : 0;
    pool->max_idle_time = max_idle_time > 0 ? max_idle_time : apr_time_from_sec(300);
    APR_RING_INIT(&pool->idle, handle_t, link);
    if ((rv = apr_thread_mutex_create(&pool->mutex, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS)
        return rv;
    /* Registered after the mutex's own cleanup, so it runs first. */
    apr_pool_cleanup_register(p, pool, pool_cleanup, apr_pool_cleanup_null);
    *out = pool;
    return APR_SUCCESS;
}

void eas_imap_pool_child_init(eas_imap_pool_t *pool)
{
    handle_t *h;

    /* Single-threaded right after fork: no lock needed, none held. */
    for (h = APR_RING_FIRST(&pool->idle); h != APR_RING_SENTINEL(&pool->idle, handle_t, link);
         h = APR_RING_NEXT(h, link)) {
        curl_socket_t fd = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(h->curl, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK
            && fd != CURL_SOCKET_BAD)
            close(fd);
    }
    APR_RING_INIT(&pool->idle, handle_t, link);
    pool->nidle = pool->nbusy = 0;
}

/* Moves idle handles unused since before limit (and beyond max_idle) to
 * doomed; caller holds the mutex. */
static int trim_locked(eas_imap_pool_t *pool, apr_time_t limit, struct handle_ring *doomed)
{
    int n = 0;

    while (!APR_RING_EMPTY(&pool->idle, handle_t, link)) {
        handle_t *h = APR_RING_LAST(&pool->idle);
        if (pool->nidle <= pool->max_idle && h->last_used >= limit)
            break;
        APR_RING_REMOVE(h, link);
        APR_RING_INSERT_TAIL(doomed, h, handle_t, link);
        pool->nidle--;
        if (h->last_used < limit) {
            pool->expired++;
            n++;
        }
        else
            pool->discarded++;
    }
    return n;
}

int eas_imap_pool_expire(eas_imap_pool_t *pool, apr_time_t now)
{
    struct handle_ring doomed;
    int n;

    APR_RING_INIT(&doomed, handle_t, link);
    apr_thread_mutex_lock(pool->mutex);
    n = trim_locked(pool, now - pool->max_idle_time, &doomed);
    apr_thread_mutex_unlock(pool->mutex);
    destroy_ring(&doomed);
    return n;
}

void eas_imap_pool_stats(eas_imap_pool_t *pool, eas_imap_pool_stats_t *st)
{
    apr_thread_mutex_lock(pool->mutex);
    st->idle = pool->nidle;
    st->busy = pool->nbusy;
    st->created = pool->created;
    st->reused = pool->reused;
    st->discarded = pool->discarded;
    st->expired = pool->expired;
    apr_thread_mutex_unlock(pool->mutex);
}

static void do_release(eas_imap_t *c)
{
    eas_imap_pool_t *pool = c->pool;
    handle_t *h = c->h;
    struct handle_ring doomed;
    apr_time_t now = apr_time_now();

    c->h = NULL;
    h->run = NULL;
    APR_RING_INIT(&doomed, handle_t, link);
    apr_thread_mutex_lock(pool->mutex);
    pool->nbusy--;
    if (h->discard || pool->closed || pool->max_idle == 0) {
        APR_RING_INSERT_TAIL(&doomed, h, handle_t, link);
        pool->discarded++;
    }
    else {
        h->last_used = now;
        APR_RING_INSERT_HEAD(&pool->idle, h, handle_t, link);
        pool->nidle++;
    }
    trim_locked(pool, now - pool->max_idle_time, &doomed);
    apr_thread_mutex_unlock(pool->mutex);
    destroy_ring(&doomed);
}

static apr_status_t conn_cleanup(void *data)
{
    eas_imap_t *c = data;
    if (c->h)
        do_release(c);
    return APR_SUCCESS;
}

void eas_imap_release(eas_imap_t *c)
{
    if (!c || !c->h)
        return;
    apr_pool_cleanup_kill(c->p, c, conn_cleanup);
    do_release(c);
}

/* "imap://host:port" from whatever the administrator wrote. */
static const char *base_url(apr_pool_t *p, const char *url)
{
    const char *s = strstr(url, "://"), *slash;
    if (!s)
        return NULL;
    slash = strchr(s + 3, '/');
    return slash ? apr_pstrmemdup(p, url, (apr_size_t)(slash - url)) : url;
}

static int has_ctl(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20)
            return 1;
    return 0;
}

static apr_status_t acquire_as(eas_imap_pool_t *pool, const eas_imap_server_t *srv,
                               const char *user, const char *password, int own,
                               apr_pool_t *p, eas_imap_t **out)
{
    const char *login = user, *pass = password, *authzid = NULL, *base, *key;
    apr_interval_time_t ct = srv->connect_timeout > 0 ? srv->connect_timeout
                                                      : apr_time_from_sec(10);
    apr_interval_time_t to = srv->timeout > 0 ? srv->timeout : apr_time_from_sec(60);
    eas_imap_t *c;
    handle_t *h;
    CURL *e;

    if (!srv->url || !(base = base_url(p, srv->url)) || !user || !*user || has_ctl(user))
        return APR_EINVAL;
    if (!own && srv->master_user) {
        pass = srv->master_password;
        if (srv->master_authzid) {
            login = srv->master_user;
            authzid = user;
        }
        else
            login = apr_pstrcat(p, user, srv->master_sep ? srv->master_sep : "*",
                                srv->master_user, NULL);
    }
    if (!pass)
        return APR_EINVAL;
    key = apr_psprintf(p, "%s\n%s\n%s\n%x", base, login, authzid ? authzid : "",
                       srv->disable_caps);

    apr_thread_mutex_lock(pool->mutex);
    for (h = APR_RING_FIRST(&pool->idle); h != APR_RING_SENTINEL(&pool->idle, handle_t, link);
         h = APR_RING_NEXT(h, link))
        if (strcmp(h->key, key) == 0)
            break;
    if (h != APR_RING_SENTINEL(&pool->idle, handle_t, link)) {
        APR_RING_REMOVE(h, link);
        pool->nidle--;
        pool->reused++;
    }
    else
        h = NULL;
    pool->nbusy++;
    apr_thread_mutex_unlock(pool->mutex);

    if (!h) {
        if (!(h = handle_create(key))) {
            apr_thread_mutex_lock(pool->mutex);
            pool->nbusy--;
            apr_thread_mutex_unlock(pool->mutex);
            return APR_ENOMEM;
        }
        apr_thread_mutex_lock(pool->mutex);
        pool->created++;
        apr_thread_mutex_unlock(pool->mutex);
    }

    e = h->curl;
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)apr_time_as_msec(ct));
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                     (long)(apr_time_sec(to) > 0 ? apr_time_sec(to) : 1));
    curl_easy_setopt(e, CURLOPT_USE_SSL, srv->starttls == 2 ? (long)CURLUSESSL_ALL
                     : srv->starttls == 1 ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, srv->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, srv->tls_verify ? 2L : 0L);
    if (srv->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, srv->ca_file);
    /* curl keeps a connection only for the same credentials, so a changed
     * password opens a new connection and really logs in. */
    curl_easy_setopt(e, CURLOPT_USERNAME, login);
    curl_easy_setopt(e, CURLOPT_PASSWORD, pass);
    curl_easy_setopt(e, CURLOPT_SASL_AUTHZID, authzid);
    curl_easy_setopt(e, CURLOPT_LOGIN_OPTIONS, authzid ? "AUTH=PLAIN" : NULL);

    c = apr_pcalloc(p, sizeof(*c));
    c->pool = pool;
    c->h = h;
    c->srv = srv;
    c->p = p;
    c->base = base;
    c->user = apr_pstrdup(p, user);
    c->err = "";
    apr_pool_cleanup_register(p, c, conn_cleanup, apr_pool_cleanup_null);
    *out = c;
    return APR_SUCCESS;
}

apr_status_t eas_imap_acquire(eas_imap_pool_t *pool, const eas_imap_server_t *srv,
                              const char *user, const char *password, apr_pool_t *p,
                              eas_imap_t **conn)
{
    return acquire_as(pool, srv, user, password, 0, p, conn);
}

const char *eas_imap_error(const eas_imap_t *c)
{
    return c->err;
}

void *eas_imap_handle(const eas_imap_t *c)
{
    return c->h ? c->h->curl : NULL;
}

/* ---- Running commands --------------------------------------------------- */

static int classify(eas_imap_t *c, run_t *r, CURLcode cc)
{
    handle_t *h = c->h;
    const eas_log_t *log = c->pool->log;
    const char *code = r->fail_code;

    r->cc = cc;
    if (r->new_conn || r->closed) {
        set_str(&h->sel, NULL);
        if (!r->q->prepare || r->closed)
            h->ready = 0;
    }
    if (r->refused) {
        c->err = "a new connection was needed";
        return RC_SESSION;
    }
    if (cc == CURLE_OK) {
        if (r->overflow) {
            fail_text(c, r, cc);
            return RC_OVERFLOW;
        }
        if (r->q->custom && !r->done) {
            c->err = "no completion for our command";
            h->force_fresh = 1;
            h->ready = 0;
            return EAS_IMAP_PROTOCOL;
        }
        return EAS_IMAP_OK;
    }
    fail_text(c, r, cc);
    switch (cc) {
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        /* Stopped in the middle of an answer: the connection is unusable. */
        h->ready = 0;
        set_str(&h->sel, NULL);
        if (r->sink_rv != APR_SUCCESS)
            return EAS_IMAP_ABORTED;
        return r->overflow ? RC_OVERFLOW : EAS_IMAP_PROTOCOL;
    case CURLE_RECV_ERROR:
        if (r->overflow || strstr(h->errbuf, "Too large")) {
            h->ready = 0;
            set_str(&h->sel, NULL);
            return RC_OVERFLOW;
        }
        /* fall through */
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_AGAIN:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
        h->ready = 0;
        set_str(&h->sel, NULL);
        eas_log_printf(log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                       EASLOGNO(01300) "IMAP %s unavailable: %s", c->base, c->err);
        return EAS_IMAP_TRANSIENT;
    default:
        break;
    }
    if (r->failed) {
        if (!strcmp(r->fail_verb, "AUTHENTICATE") || !strcmp(r->fail_verb, "LOGIN")) {
            if (!strcasecmp(code, "UNAVAILABLE")) {
                eas_log_printf(log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                               EASLOGNO(01301) "IMAP %s cannot check logins now: %s",
                               c->base, c->err);
                return EAS_IMAP_TRANSIENT;
            }
            eas_log_printf(log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                           EASLOGNO(01302) "IMAP %s refused the login of %s: %s",
                           c->base, c->user, c->err);
            return EAS_IMAP_AUTH;
        }
        if (r->fail_kind == IMAPI_BAD || r->fail_kind == IMAPI_BYE) {
            eas_log_printf(log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                           EASLOGNO(01303) "IMAP %s (user %s): %s", c->base, c->user, c->err);
            return EAS_IMAP_PROTOCOL;
        }
        /* RFC 5530 response codes. */
        if (!strcasecmp(code, "NONEXISTENT") || !strcasecmp(code, "TRYCREATE"))
            return EAS_IMAP_NO_MAILBOX;
        if (!strcasecmp(code, "ALREADYEXISTS"))
            return EAS_IMAP_EXISTS;
        if (!strcasecmp(code, "UNAVAILABLE") || !strcasecmp(code, "INUSE")
            || !strcasecmp(code, "SERVERBUG"))
            return EAS_IMAP_TRANSIENT;
        if (!strcasecmp(code, "EXPUNGEISSUED"))
            return EAS_IMAP_NO_MESSAGE;
        if (!strcmp(r->fail_verb, "SELECT") || !strcmp(r->fail_verb, "EXAMINE")
            || !strcmp(r->fail_verb, "STATUS"))
            return EAS_IMAP_NO_MAILBOX;
        return EAS_IMAP_REFUSED;
    }
    if (r->bye) {
        h->ready = 0;
        set_str(&h->sel, NULL);
        eas_log_printf(log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                       EASLOGNO(01304) "IMAP %s closed the connection: %s", c->base, c->err);
        return EAS_IMAP_TRANSIENT;
    }
    if (cc == CURLE_LOGIN_DENIED) {
        eas_log_printf(log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01305) "IMAP %s: no login for %s: %s", c->base, c->user, c->err);
        return EAS_IMAP_AUTH;
    }
    if (cc == CURLE_REMOTE_FILE_NOT_FOUND)
        return EAS_IMAP_NO_MESSAGE;
    h->force_fresh = 1;
    h->ready = 0;
    if (cc != CURLE_WEIRD_SERVER_REPLY)
        eas_log_printf(log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                       EASLOGNO(01306) "IMAP %s (user %s): %s", c->base, c->user, c->err);
    return EAS_IMAP_PROTOCOL;
}

static int perform(eas_imap_t *c, req_t *q, run_t *r)
{
    handle_t *h = c->h;
    CURL *e = h->curl;
    const eas_imap_server_t *srv = c->srv;
    apr_interval_time_t ct = srv->connect_timeout > 0 ? srv->connect_timeout
                                                      : apr_time_from_sec(10);
    apr_interval_time_t to = srv->timeout > 0 ? srv->timeout : apr_time_from_sec(60);
    CURLcode cc;

    memset(r, 0, sizeof(*r));
    r->c = c;
    r->q = q;
    if (!q->expect)
        q->expect = q->custom ? q->custom : "";
    curl_easy_setopt(e, CURLOPT_URL,
                     apr_pstrcat(c->p, c->base, "/",
                                 q->mailbox ? url_encode(c->p, q->mailbox) : "",
                                 q->suffix ? q->suffix : "", NULL));
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->custom ? escape_custom(c->p, q->custom) : NULL);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, q->bufsize ? q->bufsize : BUF_DEFAULT);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, (long)(q->prepare && h->force_fresh));
    if (q->upload) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->uplen);
    }
    if (q->streaming) {
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)apr_time_sec(to) + 1);
    }
    else
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)apr_time_as_msec(ct + 2 * to));
    h->run = r;
    h->lblen = 0;
    h->lit_end = 0;
    h->errbuf[0] = '\0';
    cc = curl_easy_perform(e);
    h->run = NULL;
    if (q->upload)
        curl_easy_setopt(e, CURLOPT_UPLOAD, 0L);
    if (q->streaming) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 0L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 0L);
    }
    return classify(c, r, cc);
}

static int prepare(eas_imap_t *c);
static int ensure_select(eas_imap_t *c, const char *wire, int mode);

/* Performs q once the connection is prepared and q's mailbox is selected
 * as it needs, redoing both when the connection had to be replaced. */
static int run(eas_imap_t *c, req_t *q, run_t *r)
{
    int rc, attempt;

    for (attempt = 0; attempt < 3; attempt++) {
        if (!q->prepare && !c->h->ready && (rc = prepare(c)) != EAS_IMAP_OK)
            return rc;
        if (q->mode != SEL_NONE && !q->selects
            && (rc = ensure_select(c, q->mailbox, q->mode)) != EAS_IMAP_OK)
            return rc;
        if ((rc = perform(c, q, r)) != RC_SESSION)
            return rc;
    }
    c->err = "the connection kept being replaced";
    return EAS_IMAP_TRANSIENT;
}

static eas_imap_rc_e public_rc(eas_imap_t *c, int rc)
{
    if (rc == RC_OVERFLOW) {
        eas_log_printf(c->pool->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                       EASLOGNO(01307) "IMAP %s (user %s): answer too large for libcurl: %s",
                       c->base, c->user, c->err);
        return EAS_IMAP_PROTOCOL;
    }
    if (rc == RC_SESSION)
        return EAS_IMAP_TRANSIENT;
    return (eas_imap_rc_e)rc;
}

static void caps_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    unsigned int off = r->c->srv->disable_caps;

    /* Without CONDSTORE there is no QRESYNC either (RFC 7162 3.2). */
    if (off & EAS_IMAP_CAP_CONDSTORE)
        off |= EAS_IMAP_CAP_QRESYNC;
    if (resp->kind == IMAPI_DATA && imapi_is(resp->name, resp->namelen, "CAPABILITY"))
        r->c->h->caps = imapi_parse_caps(resp->rest, resp->restlen) & ~off;
}

static void enabled_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    handle_t *h = r->c->h;
    imapi_cur_t cur;
    const char *w;
    apr_size_t n;

    if (resp->kind != IMAPI_DATA || !imapi_is(resp->name, resp->namelen, "ENABLED"))
        return;
    imapi_cur_init(&cur, resp->rest, resp->restlen);
    while (imapi_sp(&cur), imapi_word(&cur, &w, &n)) {
        if (imapi_is(w, n, "QRESYNC"))
            h->qresync = h->condstore = 1;
        else if (imapi_is(w, n, "CONDSTORE"))
            h->condstore = 1;
    }
}

/* CAPABILITY after login, then ENABLE QRESYNC (RFC 7162 3.2.3) or
 * CONDSTORE, so every later SELECT reports HIGHESTMODSEQ and expunges
 * come as VANISHED. */
static int prepare(eas_imap_t *c)
{
    handle_t *h = c->h;
    req_t q;
    run_t r;
    int rc;

    memset(&q, 0, sizeof(q));
    q.custom = "capability";
    q.prepare = 1;
    q.on_line = caps_line;
    h->caps = 0;
    rc = perform(c, &q, &r);
    h->force_fresh = 0;
    if (rc != EAS_IMAP_OK)
        return rc == RC_OVERFLOW ? EAS_IMAP_PROTOCOL : rc;
    set_str(&h->sel, NULL);
    h->qresync = h->condstore = 0;
    if ((h->caps & EAS_IMAP_CAP_ENABLE)
        && (h->caps & (EAS_IMAP_CAP_QRESYNC | EAS_IMAP_CAP_CONDSTORE))) {
        memset(&q, 0, sizeof(q));
        q.custom = (h->caps & EAS_IMAP_CAP_QRESYNC) ? "enable QRESYNC" : "enable CONDSTORE";
        q.prepare = 1;
        q.on_line = enabled_line;
        if ((rc = perform(c, &q, &r)) != EAS_IMAP_OK)
            return rc == RC_OVERFLOW ? EAS_IMAP_PROTOCOL : rc;
    }
    h->ready = 1;
    return EAS_IMAP_OK;
}

static int need_ready(eas_imap_t *c)
{
    return c->h->ready ? EAS_IMAP_OK : prepare(c);
}

static apr_uint64_t code_number(const imapi_resp_t *resp)
{
    imapi_cur_t cur;
    apr_uint64_t v = 0;
    imapi_cur_init(&cur, resp->codeargs, resp->codeargslen);
    return imapi_number(&cur, &v) ? v : 0;
}

/* Keeps the mirror of the selected mailbox (RFC 3501 6.3.1, RFC 7162 3.1.2). */
static void select_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    eas_imap_selected_t *m = &r->c->h->mirror;

    if (resp->kind == IMAPI_DATA && resp->has_num && imapi_is(resp->name, resp->namelen, "EXISTS"))
        m->exists = resp->num;
    if (resp->kind != IMAPI_OK || !resp->code)
        return;
    if (imapi_is(resp->code, resp->codelen, "UIDVALIDITY"))
        m->uidvalidity = (apr_uint32_t)code_number(resp);
    else if (imapi_is(resp->code, resp->codelen, "UIDNEXT"))
        m->uidnext = (apr_uint32_t)code_number(resp);
    else if (imapi_is(resp->code, resp->codelen, "HIGHESTMODSEQ"))
        m->highestmodseq = code_number(resp);
    else if (imapi_is(resp->code, resp->codelen, "NOMODSEQ"))
        m->highestmodseq = 0;
    else if (resp->tag && imapi_is(resp->code, resp->codelen, "READ-ONLY"))
        m->readonly = 1;
    else if (resp->tag && imapi_is(resp->code, resp->codelen, "READ-WRITE"))
        m->readonly = 0;
}

/* SELECT or EXAMINE, named in the URL so that curl's idea of the selected
 * mailbox is the server's. */
static int do_select(eas_imap_t *c, const char *wire, int ro)
{
    handle_t *h = c->h;
    req_t q;
    run_t r;
    int rc;

    if ((rc = need_ready(c)) != EAS_IMAP_OK)
        return rc;
    memset(&q, 0, sizeof(q));
    q.mailbox = wire;
    q.mode = SEL_ANY;
    q.selects = 1;
    q.custom = apr_pstrcat(c->p, ro ? "examine " : "select ", quote(c->p, wire),
                           (h->caps & EAS_IMAP_CAP_CONDSTORE) && !h->condstore
                           ? " (CONDSTORE)" : "", NULL);
    q.on_line = select_line;
    rc = run(c, &q, &r);
    if (rc == EAS_IMAP_OK) {
        set_str(&h->sel, wire);
        h->sel_ro = h->mirror.readonly;
        return EAS_IMAP_OK;
    }
    set_str(&h->sel, NULL);
    /* Our SELECT failed after curl's own had succeeded: the server has
     * nothing selected but curl thinks it has. */
    if (r.failed && r.fail_ours) {
        h->force_fresh = 1;
        h->ready = 0;
    }
    return rc == RC_OVERFLOW ? EAS_IMAP_PROTOCOL : rc;
}

static int ensure_select(eas_imap_t *c, const char *wire, int mode)
{
    handle_t *h = c->h;

    if (h->ready && h->sel && strcmp(h->sel, wire) == 0
        && (mode == SEL_ANY || (mode == SEL_RO) == h->sel_ro))
        return EAS_IMAP_OK;
    return do_select(c, wire, mode == SEL_RO);
}

/* Selects the mailbox and checks that its UIDs still mean what the caller
 * thinks (uidvalidity 0: no check). */
static int select_checked(eas_imap_t *c, const char *wire, int mode, apr_uint32_t uidvalidity)
{
    int rc = ensure_select(c, wire, mode);

    if (rc == EAS_IMAP_OK && uidvalidity && c->h->mirror.uidvalidity != uidvalidity) {
        c->err = apr_psprintf(c->p, "UIDVALIDITY of %s is %u, not %u", wire,
                              c->h->mirror.uidvalidity, uidvalidity);
        return EAS_IMAP_NO_MESSAGE;
    }
    return rc;
}

/* ---- Chunked commands over UID sets ------------------------------------- */

/* Read-buffer size and UIDs per command, from cheap to safe: a clipped
 * line or curl's limit moves a chunk to the next level. */
static const struct {
    long bufsize;
    int chunk;
} levels[] = {{BUF_MANY, CHUNK}, {BUF_DEFAULT, 10}, {BUF_LONG, 1}};

typedef struct chunk_job_t {
    const char *wire;
    int mode;
    const char *prefix, *suffix;    /* command = prefix + UID set + suffix */
    line_fn *on_line;
    void *baton;
    const eas_imap_uidset_t **cur;  /* told the chunk in flight */
    /* Keeps (ok) or drops what on_line gathered from one command: a
     * clipped line may still parse, into something wrong. */
    void (*settle)(void *baton, int ok);
} chunk_job_t;

/* The next at most max members of set, from position (ri, next). */
static eas_imap_uidset_t *next_chunk(apr_pool_t *p, const eas_imap_uidset_t *set, int *ri,
                                     apr_uint64_t *next, int max)
{
    eas_imap_uidset_t *out = eas_imap_uidset_make(p);
    apr_uint64_t left = (apr_uint64_t)max;

    while (*ri < set->ranges->nelts && left) {
        const eas_imap_range_t *rg = &APR_ARRAY_IDX(set->ranges, *ri, eas_imap_range_t);
        apr_uint64_t lo = *next > rg->lo ? *next : rg->lo, hi = rg->hi;
        if (hi - lo + 1 > left)
            hi = lo + left - 1;
        eas_imap_uidset_add(out, (apr_uint32_t)lo, (apr_uint32_t)hi);
        left -= hi - lo + 1;
        if (hi == rg->hi) {
            (*ri)++;
            *next = 0;
        }
        else
            *next = hi + 1;
    }
    return out;
}

static int run_chunks(eas_imap_t *c, const chunk_job_t *job, const eas_imap_uidset_t *set,
                      int level)
{
    apr_pool_t *tmp;
    int ri = 0, rc = EAS_IMAP_OK;
    apr_uint64_t next = 0;

    apr_pool_create(&tmp, c->p);
    while (ri < set->ranges->nelts) {
        const eas_imap_uidset_t *chunk = next_chunk(tmp, set, &ri, &next, levels[level].chunk);
        req_t q;
        run_t r;

        memset(&q, 0, sizeof(q));
        q.mailbox = job->wire;
        q.mode = job->mode;
        q.custom = apr_pstrcat(tmp, job->prefix, eas_imap_uidset_format(tmp, chunk),
                               job->suffix, NULL);
        q.bufsize = levels[level].bufsize;
        q.on_line = job->on_line;
        q.baton = job->baton;
        if (job->cur)
            *job->cur = chunk;
        rc = run(c, &q, &r);
        if (job->settle)
            job->settle(job->baton, rc == EAS_IMAP_OK);
        if (rc == RC_OVERFLOW && level + 1 < (int)(sizeof(levels) / sizeof(levels[0]))) {
            eas_log_printf(c->pool->log, EAS_LOG_MARK, EAS_LOG_DEBUG, APR_SUCCESS,
                           EASLOGNO(01308) "IMAP %s: splitting a command the answer of "
                           "which libcurl cannot take whole", c->base);
            rc = run_chunks(c, job, chunk, level + 1);
        }
        if (rc != EAS_IMAP_OK)
            break;
    }
    apr_pool_destroy(tmp);
    return rc;
}

/* ---- Capabilities, LIST, STATUS ----------------------------------------- */

eas_imap_rc_e eas_imap_capabilities(eas_imap_t *c, unsigned int *caps)
{
    int rc = need_ready(c);
    if (rc == EAS_IMAP_OK)
        *caps = c->h->caps;
    return public_rc(c, rc);
}

typedef struct list_acc_t {
    apr_pool_t *p;
    apr_array_header_t *out;        /* eas_imap_mailbox_t */
    apr_hash_t *seen;               /* wire name -> 1 + index in out */
    apr_array_header_t *stage;      /* what the command in flight said */
    int bad, stage_bad;
} list_acc_t;

static void list_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    list_acc_t *acc = r->q->baton;
    eas_imap_mailbox_t mb;

    if (resp->kind != IMAPI_DATA || !imapi_is(resp->name, resp->namelen, "LIST"))
        return;
    if (eas_imap_parse_list(acc->p, line, len, &mb) != APR_SUCCESS)
        acc->stage_bad++;
    else
        APR_ARRAY_PUSH(acc->stage, eas_imap_mailbox_t) = mb;
}

/* Keeps (ok) or drops one command's lines; a name listed twice (by two
 * patterns) is kept once. */
static void list_settle(list_acc_t *acc, int ok)
{
    int i;

    for (i = 0; ok && i < acc->stage->nelts; i++) {
        eas_imap_mailbox_t *mb = &APR_ARRAY_IDX(acc->stage, i, eas_imap_mailbox_t);
        void *idx = apr_hash_get(acc->seen, mb->wire, APR_HASH_KEY_STRING);
        if (idx)
            APR_ARRAY_IDX(acc->out, (int)(apr_uintptr_t)idx - 1, eas_imap_mailbox_t) = *mb;
        else {
            APR_ARRAY_PUSH(acc->out, eas_imap_mailbox_t) = *mb;
            apr_hash_set(acc->seen, mb->wire, APR_HASH_KEY_STRING,
                         (void *)(apr_uintptr_t)acc->out->nelts);
        }
    }
    if (ok)
        acc->bad += acc->stage_bad;
    acc->stage->nelts = 0;
    acc->stage_bad = 0;
}

static int list_pattern(eas_imap_t *c, const char *pattern, list_acc_t *acc)
{
    unsigned int caps = c->h->caps;
    int rc;
    req_t q;
    run_t r;

    memset(&q, 0, sizeof(q));
    q.custom = apr_pstrcat(c->p, "list \"\" ", quote(c->p, pattern),
                           !(caps & EAS_IMAP_CAP_LIST_EXTENDED) ? ""
                           : (caps & EAS_IMAP_CAP_SPECIAL_USE) ? " RETURN (SPECIAL-USE SUBSCRIBED)"
                           : " RETURN (SUBSCRIBED)", NULL);
    q.bufsize = BUF_MANY;
    q.on_line = list_line;
    q.baton = acc;
    rc = run(c, &q, &r);
    list_settle(acc, rc == EAS_IMAP_OK);
    if (rc == RC_OVERFLOW && r.cc == CURLE_OK) {
        /* A line longer than half the buffer was clipped (a deep or long
         * name): the same pattern with room for long lines. */
        q.bufsize = BUF_LONG;
        rc = run(c, &q, &r);
        list_settle(acc, rc == EAS_IMAP_OK);
    }
    return rc;
}

/* Lists prefix + s + "%" + e.  When the answer is too large for curl,
 * narrows it by one more leading (even depth) or trailing (odd depth)
 * character, so long common prefixes and suffixes both get peeled off.
 * Names holding '%' or '*' at the narrowed position cannot be asked for. */
static int list_narrow(eas_imap_t *c, const char *prefix, const char *s, const char *e,
                       char delim, list_acc_t *acc, int depth, int *budget)
{
    int rc, ch;

    if (--*budget < 0)
        return RC_OVERFLOW;
    rc = list_pattern(c, apr_pstrcat(c->p, prefix, s, "%", e, NULL), acc);
    if (rc != RC_OVERFLOW || depth >= 16)
        return rc;
    /* "%" may match nothing: the name s + e itself. */
    if ((*s || *e) && (rc = list_pattern(c, apr_pstrcat(c->p, prefix, s, e, NULL), acc))
        != EAS_IMAP_OK)
        return rc;
    for (ch = 0x20; ch < 0x7f; ch++) {
        char one[2];
        if (ch == '%' || ch == '*' || ch == delim)
            continue;
        one[0] = (char)ch;
        one[1] = '\0';
        rc = depth % 2 ? list_narrow(c, prefix, s, apr_pstrcat(c->p, one, e, NULL), delim, acc,
                                     depth + 1, budget)
                       : list_narrow(c, prefix, apr_pstrcat(c->p, s, one, NULL), e, delim, acc,
                                     depth + 1, budget);
        if (rc != EAS_IMAP_OK)
            return rc;
    }
    return EAS_IMAP_OK;
}

/* Too many mailboxes for one answer: walk the hierarchy level by level. */
static int list_levels(eas_imap_t *c, const char *prefix, char delim, list_acc_t *acc,
                       int depth, int *budget)
{
    int first = acc->out->nelts, last, i, rc;

    if (depth > 32)
        return RC_OVERFLOW;
    if ((rc = list_narrow(c, prefix, "", "", delim, acc, 0, budget)) != EAS_IMAP_OK)
        return rc;
    last = acc->out->nelts;
    for (i = first; i < last; i++) {
        eas_imap_mailbox_t mb = APR_ARRAY_IDX(acc->out, i, eas_imap_mailbox_t);
        if (!mb.delim || (mb.attrs & (EAS_IMAP_MBX_HASNOCHILDREN | EAS_IMAP_MBX_NOINFERIORS)))
            continue;
        rc = list_levels(c, apr_pstrcat(c->p, mb.wire, apr_pstrmemdup(c->p, &mb.delim, 1), NULL),
                         mb.delim, acc, depth + 1, budget);
        if (rc != EAS_IMAP_OK)
            return rc;
    }
    return EAS_IMAP_OK;
}

eas_imap_rc_e eas_imap_list(eas_imap_t *c, apr_pool_t *p, apr_array_header_t **mailboxes)
{
    list_acc_t acc;
    int rc;

    if ((rc = need_ready(c)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    acc.p = p;
    acc.out = apr_array_make(p, 16, sizeof(eas_imap_mailbox_t));
    acc.seen = apr_hash_make(c->p);
    acc.stage = apr_array_make(c->p, 16, sizeof(eas_imap_mailbox_t));
    acc.bad = acc.stage_bad = 0;
    rc = list_pattern(c, "*", &acc);
    if (rc == RC_OVERFLOW) {
        int budget = 5000;
        eas_log_printf(c->pool->log, EAS_LOG_MARK, EAS_LOG_DEBUG, APR_SUCCESS,
                       EASLOGNO(01312) "IMAP %s: %s has more mailboxes than one LIST answer "
                       "can carry through libcurl; listing level by level", c->base, c->user);
        acc.out->nelts = 0;
        acc.seen = apr_hash_make(c->p);
        rc = list_levels(c, "", 0, &acc, 0, &budget);
    }
    if (rc == EAS_IMAP_OK && acc.bad) {
        c->err = "unparsable LIST line";
        rc = EAS_IMAP_PROTOCOL;
    }
    if (rc == EAS_IMAP_OK)
        *mailboxes = acc.out;
    return public_rc(c, rc);
}

typedef struct status_acc_t {
    apr_pool_t *p;
    eas_imap_status_t *st;
    int got;
} status_acc_t;

static void status_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    status_acc_t *acc = r->q->baton;

    if (resp->kind == IMAPI_DATA && imapi_is(resp->name, resp->namelen, "STATUS")
        && eas_imap_parse_status(acc->p, line, len, NULL, acc->st) == APR_SUCCESS)
        acc->got = 1;
}

eas_imap_rc_e eas_imap_status(eas_imap_t *c, const char *mailbox, eas_imap_status_t *st)
{
    const char *wire = wire_name(c->p, mailbox);
    status_acc_t acc;
    req_t q;
    run_t r;
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    if ((rc = need_ready(c)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    memset(&q, 0, sizeof(q));
    q.custom = apr_pstrcat(c->p, "status ", quote(c->p, wire),
                           " (MESSAGES UIDNEXT UIDVALIDITY UNSEEN",
                           (c->h->caps & EAS_IMAP_CAP_CONDSTORE) ? " HIGHESTMODSEQ)" : ")", NULL);
    q.on_line = status_line;
    acc.p = c->p;
    acc.st = st;
    acc.got = 0;
    q.baton = &acc;
    rc = run(c, &q, &r);
    if (rc == EAS_IMAP_OK && !acc.got) {
        c->err = "no STATUS in the answer";
        rc = EAS_IMAP_PROTOCOL;
    }
    return public_rc(c, rc);
}

/* ---- SEARCH ------------------------------------------------------------- */

typedef struct search_acc_t {
    apr_pool_t *p;
    eas_imap_uidset_t *hits;
    int bad;
} search_acc_t;

static void search_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    search_acc_t *acc = r->q->baton;

    if (resp->kind != IMAPI_DATA || !(imapi_is(resp->name, resp->namelen, "SEARCH")
                                      || imapi_is(resp->name, resp->namelen, "ESEARCH")))
        return;
    if (eas_imap_parse_search(acc->p, line, len, acc->hits, NULL) != APR_SUCCESS)
        acc->bad++;
}

static const char *imap_date(apr_pool_t *p, apr_time_t t)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    apr_time_exp_t tm;
    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(p, "%d-%s-%d", tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900);
}

static int has_8bit(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

/* The members of set within lo..hi. */
static eas_imap_uidset_t *intersect(apr_pool_t *p, const eas_imap_uidset_t *set,
                                    apr_uint32_t lo, apr_uint32_t hi)
{
    eas_imap_uidset_t *out = eas_imap_uidset_make(p);
    int i;

    for (i = 0; i < set->ranges->nelts; i++) {
        const eas_imap_range_t *rg = &APR_ARRAY_IDX(set->ranges, i, eas_imap_range_t);
        if (rg->hi < lo || rg->lo > hi)
            continue;
        eas_imap_uidset_add(out, rg->lo > lo ? rg->lo : lo, rg->hi < hi ? rg->hi : hi);
    }
    return out;
}

static const char *search_command(eas_imap_t *c, apr_pool_t *p, const eas_imap_search_t *k,
                                  const eas_imap_uidset_t *within)
{
    const char *cmd = "uid search", *keys = "";
    const char *const texts[][2] = {{"TEXT", k->text}, {"SUBJECT", k->subject},
                                    {"FROM", k->from}, {"TO", k->to}, {"BODY", k->body}};
    int i, utf8 = 0;

    if (c->h->caps & EAS_IMAP_CAP_ESEARCH)
        cmd = "uid search RETURN (ALL)";
    if (within)
        keys = apr_pstrcat(p, keys, " UID ", eas_imap_uidset_format(p, within), NULL);
    if (k->since)
        keys = apr_pstrcat(p, keys, " SINCE ", imap_date(p, k->since), NULL);
    if (k->before)
        keys = apr_pstrcat(p, keys, " BEFORE ", imap_date(p, k->before), NULL);
    if (k->undeleted)
        keys = apr_pstrcat(p, keys, " UNDELETED", NULL);
    if (k->changedsince)
        keys = apr_psprintf(p, "%s MODSEQ %" APR_UINT64_T_FMT, keys, k->changedsince + 1);
    for (i = 0; i < 5; i++) {
        if (!texts[i][1])
            continue;
        utf8 |= has_8bit(texts[i][1]);
        keys = apr_pstrcat(p, keys, " ", texts[i][0], " ", quote(p, texts[i][1]), NULL);
    }
    if (!*keys)
        keys = " ALL";
    return apr_pstrcat(p, cmd, utf8 ? " CHARSET UTF-8" : "", keys, NULL);
}

/* Searches within the UIDs of within (NULL: all); an answer too long for
 * curl is redone in two halves. */
static int search_part(eas_imap_t *c, const char *wire, const eas_imap_search_t *k,
                       const eas_imap_uidset_t *within, apr_uint32_t lo, apr_uint32_t hi,
                       eas_imap_uidset_t *hits, int depth)
{
    apr_pool_t *tmp;
    search_acc_t acc;
    req_t q;
    run_t r;
    int rc, i;
    const eas_imap_uidset_t *part = within ? intersect(c->p, within, lo, hi) : NULL;

    if (part && !part->ranges->nelts)
        return EAS_IMAP_OK;
    apr_pool_create(&tmp, c->p);
    memset(&q, 0, sizeof(q));
    q.mailbox = wire;
    q.mode = SEL_ANY;
    if (!part && (lo > 1 || hi < 0xFFFFFFFFu)) {
        eas_imap_uidset_t *rg = eas_imap_uidset_make(tmp);
        eas_imap_uidset_add(rg, lo, hi);
        part = rg;
    }
    q.custom = search_command(c, tmp, k, part);
    q.bufsize = BUF_LONG;
    q.on_line = search_line;
    acc.p = tmp;
    acc.hits = eas_imap_uidset_make(tmp);
    acc.bad = 0;
    q.baton = &acc;
    rc = run(c, &q, &r);
    if (rc == RC_OVERFLOW && lo < hi && depth < 40) {
        /* Split where the mailbox's UIDs actually are on the first cut. */
        apr_uint32_t mid = lo + (hi - lo) / 2;
        if (depth == 0 && c->h->mirror.uidnext > lo + 1 && c->h->mirror.uidnext - 1 < hi)
            mid = c->h->mirror.uidnext - 1;
        apr_pool_destroy(tmp);
        rc = search_part(c, wire, k, within, lo, mid, hits, depth + 1);
        if (rc == EAS_IMAP_OK)
            rc = search_part(c, wire, k, within, mid + 1, hi, hits, depth + 1);
        return rc;
    }
    if (rc == EAS_IMAP_OK && acc.bad) {
        c->err = "unparsable SEARCH answer";
        rc = EAS_IMAP_PROTOCOL;
    }
    if (rc == EAS_IMAP_OK)
        for (i = 0; i < acc.hits->ranges->nelts; i++) {
            const eas_imap_range_t *rg = &APR_ARRAY_IDX(acc.hits->ranges, i, eas_imap_range_t);
            eas_imap_uidset_add(hits, rg->lo, rg->hi);
        }
    apr_pool_destroy(tmp);
    return rc;
}

static int search_wire(eas_imap_t *c, const char *wire, const eas_imap_search_t *k,
                       apr_pool_t *p, eas_imap_uidset_t **uids)
{
    eas_imap_uidset_t *hits = eas_imap_uidset_make(p);
    int rc;

    if (k->uids && !k->uids->ranges->nelts) {
        *uids = hits;
        return EAS_IMAP_OK;
    }
    rc = search_part(c, wire, k, k->uids, 1, 0xFFFFFFFFu, hits, 0);
    if (rc == EAS_IMAP_OK)
        *uids = hits;
    return rc;
}

eas_imap_rc_e eas_imap_search(eas_imap_t *c, const char *mailbox,
                              const eas_imap_search_t *crit, apr_pool_t *p,
                              eas_imap_uidset_t **uids)
{
    const char *wire = wire_name(c->p, mailbox);
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    if ((rc = need_ready(c)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    if (crit->changedsince && !(c->h->caps & EAS_IMAP_CAP_CONDSTORE))
        return EAS_IMAP_INVALID;
    return public_rc(c, search_wire(c, wire, crit, p, uids));
}

/* ---- FETCH of message attributes ---------------------------------------- */

typedef struct meta_acc_t {
    apr_pool_t *p;
    apr_array_header_t *msgs;       /* eas_imap_msg_t */
    apr_hash_t *byuid;              /* UID -> 1 + index in msgs */
    const eas_imap_uidset_t *want;  /* NULL: any UID */
    eas_imap_uidset_t *vanished;    /* NULL: VANISHED not asked */
    apr_array_header_t *stage;      /* what the command in flight said */
    eas_imap_uidset_t *stage_vanished;
    int bad, stage_bad;
} meta_acc_t;

static void meta_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    meta_acc_t *acc = r->q->baton;
    eas_imap_msg_t m;

    if (resp->kind != IMAPI_DATA)
        return;
    if (acc->vanished && imapi_is(resp->name, resp->namelen, "VANISHED")) {
        int earlier;
        if (eas_imap_parse_vanished(acc->p, line, len, acc->stage_vanished, &earlier)
            != APR_SUCCESS)
            acc->stage_bad++;
        return;
    }
    if (!imapi_is(resp->name, resp->namelen, "FETCH"))
        return;
    if (eas_imap_parse_fetch(acc->p, line, len, &m) != APR_SUCCESS) {
        acc->stage_bad++;
        return;
    }
    /* Unsolicited updates of other messages, or without a UID, are not ours. */
    if (!m.uid || (acc->want && !eas_imap_uidset_contains(acc->want, m.uid)))
        return;
    APR_ARRAY_PUSH(acc->stage, eas_imap_msg_t) = m;
}

/* Keeps (ok) or drops one command's lines; of two answers for one UID the
 * later is the newer. */
static void meta_settle(void *baton, int ok)
{
    meta_acc_t *acc = baton;
    int i;

    for (i = 0; ok && i < acc->stage->nelts; i++) {
        eas_imap_msg_t *m = &APR_ARRAY_IDX(acc->stage, i, eas_imap_msg_t);
        void *idx = apr_hash_get(acc->byuid, &m->uid, sizeof(m->uid));
        if (idx)
            APR_ARRAY_IDX(acc->msgs, (int)(apr_uintptr_t)idx - 1, eas_imap_msg_t) = *m;
        else {
            APR_ARRAY_PUSH(acc->msgs, eas_imap_msg_t) = *m;
            apr_hash_set(acc->byuid, apr_pmemdup(acc->p, &m->uid, sizeof(m->uid)),
                         sizeof(m->uid), (void *)(apr_uintptr_t)acc->msgs->nelts);
        }
    }
    for (i = 0; ok && acc->vanished && i < acc->stage_vanished->ranges->nelts; i++) {
        const eas_imap_range_t *rg = &APR_ARRAY_IDX(acc->stage_vanished->ranges, i,
                                                    eas_imap_range_t);
        eas_imap_uidset_add(acc->vanished, rg->lo, rg->hi);
    }
    if (ok)
        acc->bad += acc->stage_bad;
    acc->stage->nelts = 0;
    acc->stage_vanished->ranges->nelts = 0;
    acc->stage_bad = 0;
}

static const char *items_text(apr_pool_t *p, unsigned int items)
{
    return apr_pstrcat(p, "(UID", items & EAS_IMAP_F_FLAGS ? " FLAGS" : "",
                       items & EAS_IMAP_F_MODSEQ ? " MODSEQ" : "",
                       items & EAS_IMAP_F_INTERNALDATE ? " INTERNALDATE" : "",
                       items & EAS_IMAP_F_SIZE ? " RFC822.SIZE" : "", ")", NULL);
}

/* want_vanished: also gather VANISHED answers. */
static void meta_init(meta_acc_t *acc, apr_pool_t *p, int want_vanished)
{
    acc->p = p;
    acc->msgs = apr_array_make(p, 16, sizeof(eas_imap_msg_t));
    acc->byuid = apr_hash_make(p);
    acc->want = NULL;
    acc->vanished = want_vanished ? eas_imap_uidset_make(p) : NULL;
    acc->stage = apr_array_make(p, 16, sizeof(eas_imap_msg_t));
    acc->stage_vanished = eas_imap_uidset_make(p);
    acc->bad = acc->stage_bad = 0;
}

static int fetch_meta_wire(eas_imap_t *c, const char *wire, const eas_imap_uidset_t *uids,
                           unsigned int items, apr_uint64_t changedsince, meta_acc_t *acc)
{
    chunk_job_t job;
    int rc;

    memset(&job, 0, sizeof(job));
    job.wire = wire;
    job.mode = SEL_ANY;
    job.prefix = "uid fetch ";
    job.suffix = changedsince
        ? apr_psprintf(c->p, " %s (CHANGEDSINCE %" APR_UINT64_T_FMT ")", items_text(c->p, items),
                       changedsince)
        : apr_pstrcat(c->p, " ", items_text(c->p, items), NULL);
    job.on_line = meta_line;
    job.baton = acc;
    job.cur = &acc->want;
    job.settle = meta_settle;
    rc = run_chunks(c, &job, uids, 0);
    acc->want = NULL;
    if (rc == EAS_IMAP_OK && acc->bad) {
        c->err = "unparsable FETCH answer";
        rc = EAS_IMAP_PROTOCOL;
    }
    return rc;
}

eas_imap_rc_e eas_imap_fetch_meta(eas_imap_t *c, const char *mailbox,
                                  apr_uint32_t uidvalidity, const eas_imap_uidset_t *uids,
                                  unsigned int items, apr_uint64_t changedsince,
                                  apr_pool_t *p, apr_array_header_t **msgs)
{
    const char *wire = wire_name(c->p, mailbox);
    meta_acc_t acc;
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    if ((rc = select_checked(c, wire, SEL_ANY, uidvalidity)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    if ((items & EAS_IMAP_F_MODSEQ || changedsince) && !(c->h->caps & EAS_IMAP_CAP_CONDSTORE))
        return EAS_IMAP_INVALID;
    meta_init(&acc, p, 0);
    rc = fetch_meta_wire(c, wire, uids, items, changedsince, &acc);
    if (rc == EAS_IMAP_OK)
        *msgs = acc.msgs;
    return public_rc(c, rc);
}

/* VANISHED (EARLIER) for the UIDs of set (RFC 7162 3.2.6).  set holds no
 * message that changed, so the answer is one VANISHED line; a set too long
 * to send, or an answer too long to read, is split. */
static int vanished_part(eas_imap_t *c, const char *wire, const eas_imap_uidset_t *set,
                         apr_uint64_t modseq, meta_acc_t *acc, int depth)
{
    apr_pool_t *tmp;
    const char *text;
    int n = set->ranges->nelts, rc;
    eas_imap_uidset_t *a, *b;
    req_t q;
    run_t r;

    if (!n)
        return EAS_IMAP_OK;
    if (depth > 40)
        return RC_OVERFLOW;
    apr_pool_create(&tmp, c->p);
    text = eas_imap_uidset_format(tmp, set);
    rc = RC_OVERFLOW;
    if (strlen(text) <= CMD_MAX) {
        memset(&q, 0, sizeof(q));
        q.mailbox = wire;
        q.mode = SEL_ANY;
        q.custom = apr_psprintf(tmp, "uid fetch %s (UID) (CHANGEDSINCE %" APR_UINT64_T_FMT
                                " VANISHED)", text, modseq);
        q.bufsize = BUF_LONG;
        q.on_line = meta_line;
        q.baton = acc;
        rc = run(c, &q, &r);
        meta_settle(acc, rc == EAS_IMAP_OK);
    }
    if (rc == RC_OVERFLOW) {
        /* Halve by ranges, or a single range by its middle. */
        a = eas_imap_uidset_make(tmp);
        b = eas_imap_uidset_make(tmp);
        if (n > 1) {
            int i;
            for (i = 0; i < n; i++) {
                const eas_imap_range_t *rg = &APR_ARRAY_IDX(set->ranges, i, eas_imap_range_t);
                eas_imap_uidset_add(i < n / 2 ? a : b, rg->lo, rg->hi);
            }
        }
        else {
            const eas_imap_range_t *rg = &APR_ARRAY_IDX(set->ranges, 0, eas_imap_range_t);
            apr_uint32_t mid = rg->lo + (rg->hi - rg->lo) / 2;
            if (rg->lo == rg->hi) {
                apr_pool_destroy(tmp);
                return RC_OVERFLOW;
            }
            eas_imap_uidset_add(a, rg->lo, mid);
            eas_imap_uidset_add(b, mid + 1, rg->hi);
        }
        rc = vanished_part(c, wire, a, modseq, acc, depth + 1);
        if (rc == EAS_IMAP_OK)
            rc = vanished_part(c, wire, b, modseq, acc, depth + 1);
    }
    apr_pool_destroy(tmp);
    return rc;
}

static int changes_wire(eas_imap_t *c, const char *wire, apr_uint64_t modseq,
                        unsigned int items, apr_pool_t *p, apr_array_header_t **changed,
                        eas_imap_uidset_t **vanished)
{
    handle_t *h = c->h;
    eas_imap_search_t k;
    eas_imap_uidset_t *hits;
    meta_acc_t acc;
    int rc;

    memset(&k, 0, sizeof(k));
    k.changedsince = modseq;
    if ((rc = search_wire(c, wire, &k, c->p, &hits)) != EAS_IMAP_OK)
        return rc;
    meta_init(&acc, p, h->qresync);
    if (h->qresync && eas_imap_uidset_count(hits) <= FEW_CHANGES) {
        /* The usual case, in one command. */
        req_t q;
        run_t r;
        memset(&q, 0, sizeof(q));
        q.mailbox = wire;
        q.mode = SEL_ANY;
        q.custom = apr_psprintf(c->p, "uid fetch 1:* %s (CHANGEDSINCE %" APR_UINT64_T_FMT
                                " VANISHED)", items_text(c->p, items), modseq);
        q.bufsize = BUF_LONG;
        q.on_line = meta_line;
        q.baton = &acc;
        rc = run(c, &q, &r);
        meta_settle(&acc, rc == EAS_IMAP_OK);
        if (rc != RC_OVERFLOW) {
            if (rc == EAS_IMAP_OK && acc.bad) {
                c->err = "unparsable FETCH answer";
                rc = EAS_IMAP_PROTOCOL;
            }
            goto leave;
        }
        meta_init(&acc, p, 1);
    }
    if ((rc = fetch_meta_wire(c, wire, hits, items, modseq, &acc)) != EAS_IMAP_OK)
        goto leave;
    if (h->qresync) {
        /* FETCH lines here are changes racing with us: the next sync has them. */
        acc.want = eas_imap_uidset_make(c->p);
        rc = vanished_part(c, wire, eas_imap_uidset_complement(c->p, hits, 1, 0xFFFFFFFFu),
                           modseq, &acc, 0);
        if (rc == EAS_IMAP_OK && acc.bad) {
            c->err = "unparsable VANISHED answer";
            rc = EAS_IMAP_PROTOCOL;
        }
    }
leave:
    if (rc == EAS_IMAP_OK) {
        *changed = acc.msgs;
        *vanished = acc.vanished;
    }
    return rc;
}

eas_imap_rc_e eas_imap_changes(eas_imap_t *c, const char *mailbox, apr_uint32_t uidvalidity,
                               apr_uint64_t modseq, unsigned int items, apr_pool_t *p,
                               apr_array_header_t **changed, eas_imap_uidset_t **vanished)
{
    const char *wire = wire_name(c->p, mailbox);
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    if ((rc = select_checked(c, wire, SEL_ANY, uidvalidity)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    if (!(c->h->caps & EAS_IMAP_CAP_CONDSTORE))
        return EAS_IMAP_INVALID;
    return public_rc(c, changes_wire(c, wire, modseq, items, p, changed, vanished));
}

eas_imap_rc_e eas_imap_select(eas_imap_t *c, const char *mailbox, int readonly,
                              const eas_imap_known_t *known, unsigned int items,
                              apr_pool_t *p, eas_imap_selected_t **sel)
{
    const char *wire = wire_name(c->p, mailbox);
    eas_imap_selected_t *s;
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    if ((rc = do_select(c, wire, readonly)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    s = apr_pmemdup(p, &c->h->mirror, sizeof(*s));
    s->changed = NULL;
    s->vanished = NULL;
    /* RFC 7162 3.1.2.1 has the server report HIGHESTMODSEQ to anyone; it
     * means nothing to us while CONDSTORE is off. */
    if (!(c->h->caps & EAS_IMAP_CAP_CONDSTORE))
        s->highestmodseq = 0;
    if (known && known->modseq && known->uidvalidity == s->uidvalidity && s->highestmodseq) {
        if (known->modseq >= s->highestmodseq) {
            /* Nothing changed: no need to ask. */
            s->changed = apr_array_make(p, 1, sizeof(eas_imap_msg_t));
            if (c->h->qresync)
                s->vanished = eas_imap_uidset_make(p);
        }
        else if ((rc = changes_wire(c, wire, known->modseq, items, p, &s->changed,
                                    &s->vanished)) != EAS_IMAP_OK)
            return public_rc(c, rc);
    }
    *sel = s;
    return EAS_IMAP_OK;
}

/* ---- Content ------------------------------------------------------------ */

static int contains(const char *s, apr_size_t len, const char *needle)
{
    apr_size_t n = strlen(needle), i;
    for (i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0)
            return 1;
    return 0;
}

static void fetch_url_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    apr_uint64_t n;

    if (resp->kind != IMAPI_DATA || !imapi_is(resp->name, resp->namelen, "FETCH"))
        return;
    r->fetch_line = 1;
    /* literal_at_end() wants the "* " start, which a FETCH line has. */
    if (literal_at_end(line, len, &n))
        r->lit_size = n;
    else if (contains(line, len, " NIL"))
        r->fetch_nil = 1;
    else if (contains(line, len, "\"\""))
        r->fetch_empty = 1;
}

static int section_ok(const char *s)
{
    for (; *s; s++)
        if (!apr_isalnum(*s) && *s != '.')
            return 0;
    return 1;
}

static int fetch_url(eas_imap_t *c, const char *wire, apr_uint32_t uidvalidity,
                     apr_uint32_t uid, const char *section, apr_off_t offset, apr_off_t length,
                     eas_imap_sink_fn *sink, void *baton, run_t *r)
{
    req_t q;
    int rc, attempt;

    if (!uid || !section || !section_ok(section) || offset < 0 || length < 0
        || length > 0xFFFFFFFFLL || offset > 0xFFFFFFFFLL)
        return EAS_IMAP_INVALID;
    for (attempt = 0; attempt < 2; attempt++) {
        if ((rc = select_checked(c, wire, SEL_RO, uidvalidity)) != EAS_IMAP_OK)
            return rc;
        memset(&q, 0, sizeof(q));
        q.mailbox = wire;
        q.mode = SEL_RO;
        q.suffix = apr_psprintf(c->p, "/;UID=%u%s%s", uid, *section ? ";SECTION=" : "", section);
        if (offset || length)
            q.suffix = apr_psprintf(c->p, "%s;PARTIAL=%" APR_OFF_T_FMT ".%" APR_OFF_T_FMT,
                                    q.suffix, offset, length ? length : (apr_off_t)0xFFFFFFFFLL);
        q.expect = "UID FETCH ";
        q.streaming = 1;
        q.on_line = fetch_url_line;
        q.sink = sink;
        q.sink_baton = baton;
        rc = run(c, &q, r);
        if (rc != EAS_IMAP_PROTOCOL || r->cc != CURLE_WEIRD_SERVER_REPLY)
            return rc;
        /* curl cannot parse a FETCH without a literal: the section is empty
         * or absent, or the server slipped in a flag update first (retry). */
        if (r->fetch_empty && !r->fetch_nil)
            return EAS_IMAP_OK;
        if (r->fetch_nil)
            return EAS_IMAP_NO_MESSAGE;
    }
    eas_log_printf(c->pool->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                   EASLOGNO(01309) "IMAP %s (user %s): %s", c->base, c->user, c->err);
    return rc;
}

eas_imap_rc_e eas_imap_fetch_stream(eas_imap_t *c, const char *mailbox,
                                    apr_uint32_t uidvalidity, apr_uint32_t uid,
                                    const char *section, apr_off_t offset, apr_off_t length,
                                    eas_imap_sink_fn *sink, void *baton, apr_off_t *size)
{
    const char *wire = wire_name(c->p, mailbox);
    run_t r;
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    rc = fetch_url(c, wire, uidvalidity, uid, section, offset, length, sink, baton, &r);
    if (rc == EAS_IMAP_OK && size)
        *size = r.delivered;
    return public_rc(c, rc);
}

typedef struct membuf_t {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    const run_t *r;
} membuf_t;

static apr_status_t mem_sink(void *baton, const char *data, apr_size_t n)
{
    membuf_t *mb = baton;

    if (n > mb->max - mb->len)
        return APR_ENOSPC;
    if (mb->len + n + 1 > mb->cap) {
        /* The FETCH line announced the size: allocate once. */
        apr_size_t cap = mb->r->lit_size && mb->r->lit_size <= mb->max
            ? (apr_size_t)mb->r->lit_size + 1 : (mb->cap ? mb->cap * 2 : 8192);
        char *nb;
        while (cap < mb->len + n + 1)
            cap *= 2;
        nb = apr_palloc(mb->p, cap);
        if (mb->len)
            memcpy(nb, mb->buf, mb->len);
        mb->buf = nb;
        mb->cap = cap;
    }
    memcpy(mb->buf + mb->len, data, n);
    mb->len += n;
    return APR_SUCCESS;
}

eas_imap_rc_e eas_imap_fetch_body(eas_imap_t *c, const char *mailbox,
                                  apr_uint32_t uidvalidity, apr_uint32_t uid,
                                  const char *section, apr_off_t offset, apr_off_t length,
                                  apr_size_t max, apr_pool_t *p,
                                  const char **data, apr_size_t *len)
{
    const char *wire = wire_name(c->p, mailbox);
    membuf_t mb;
    run_t r;
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    memset(&mb, 0, sizeof(mb));
    mb.p = p;
    mb.max = max;
    mb.r = &r;
    rc = fetch_url(c, wire, uidvalidity, uid, section, offset, length, mem_sink, &mb, &r);
    if (rc == EAS_IMAP_ABORTED) {
        c->err = apr_psprintf(c->p, "content larger than %" APR_SIZE_T_FMT " bytes", max);
        rc = EAS_IMAP_PROTOCOL;
    }
    if (rc == EAS_IMAP_OK) {
        if (!mb.buf)
            mb.buf = apr_palloc(p, 1);
        mb.buf[mb.len] = '\0';
        *data = mb.buf;
        *len = mb.len;
    }
    return public_rc(c, rc);
}

/* ---- Changing messages -------------------------------------------------- */

static const char *flag_list(apr_pool_t *p, unsigned int flags, const char *const *keywords)
{
    static const char *const names[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                        "\\Draft"};
    const char *s = "";
    int i;

    for (i = 0; i < 5; i++)
        if (flags & (1u << i))
            s = apr_pstrcat(p, s, *s ? " " : "", names[i], NULL);
    for (; keywords && *keywords; keywords++)
        s = apr_pstrcat(p, s, *s ? " " : "", *keywords, NULL);
    return apr_pstrcat(p, "(", s, ")", NULL);
}

static int keywords_ok(const char *const *keywords)
{
    for (; keywords && *keywords; keywords++)
        if (!imapi_keyword_ok(*keywords))
            return 0;
    return 1;
}

static int store_wire(eas_imap_t *c, const char *wire, const eas_imap_uidset_t *uids, int how,
                      unsigned int flags, const char *const *keywords)
{
    chunk_job_t job;

    memset(&job, 0, sizeof(job));
    job.wire = wire;
    job.mode = SEL_RW;
    job.prefix = "uid store ";
    job.suffix = apr_pstrcat(c->p, how > 0 ? " +FLAGS.SILENT " : how < 0 ? " -FLAGS.SILENT "
                             : " FLAGS.SILENT ", flag_list(c->p, flags, keywords), NULL);
    return run_chunks(c, &job, uids, 0);
}

eas_imap_rc_e eas_imap_store(eas_imap_t *c, const char *mailbox, apr_uint32_t uidvalidity,
                             const eas_imap_uidset_t *uids, int how, unsigned int flags,
                             const char *const *keywords)
{
    const char *wire = wire_name(c->p, mailbox);
    int rc;

    flags &= ~(unsigned int)EAS_IMAP_RECENT;
    if (!wire || !keywords_ok(keywords))
        return EAS_IMAP_INVALID;
    if (how && !flags && !(keywords && *keywords))
        return EAS_IMAP_OK;
    if ((rc = select_checked(c, wire, SEL_RW, uidvalidity)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    return public_rc(c, store_wire(c, wire, uids, how, flags, keywords));
}

typedef struct copy_acc_t {
    apr_pool_t *p;
    eas_imap_copyuid_t *map;
    int bad;
} copy_acc_t;

static void copyuid_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    copy_acc_t *acc = r->q->baton;
    eas_imap_copyuid_t part;
    int i;

    if (resp->kind != IMAPI_OK || !resp->code || !imapi_is(resp->code, resp->codelen, "COPYUID")
        || !(r->c->h->caps & EAS_IMAP_CAP_UIDPLUS))
        return;
    if (imapi_parse_copyuid(acc->p, resp->codeargs, resp->codeargslen, &part) != APR_SUCCESS) {
        acc->bad++;
        return;
    }
    acc->map->uidvalidity = part.uidvalidity;
    for (i = 0; i < part.src->nelts; i++) {
        APR_ARRAY_PUSH(acc->map->src, apr_uint32_t) = APR_ARRAY_IDX(part.src, i, apr_uint32_t);
        APR_ARRAY_PUSH(acc->map->dst, apr_uint32_t) = APR_ARRAY_IDX(part.dst, i, apr_uint32_t);
    }
}

eas_imap_rc_e eas_imap_move(eas_imap_t *c, const char *from, apr_uint32_t uidvalidity,
                            const eas_imap_uidset_t *uids, const char *to,
                            apr_pool_t *p, eas_imap_copyuid_t **map)
{
    const char *wfrom = wire_name(c->p, from), *wto = wire_name(c->p, to);
    copy_acc_t acc;
    chunk_job_t job;
    int rc;

    if (!wfrom || !wto)
        return EAS_IMAP_INVALID;
    if ((rc = select_checked(c, wfrom, SEL_RW, uidvalidity)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    acc.p = p;
    acc.map = apr_pcalloc(p, sizeof(*acc.map));
    acc.map->src = apr_array_make(p, 4, sizeof(apr_uint32_t));
    acc.map->dst = apr_array_make(p, 4, sizeof(apr_uint32_t));
    acc.bad = 0;
    memset(&job, 0, sizeof(job));
    job.wire = wfrom;
    job.mode = SEL_RW;
    job.suffix = apr_pstrcat(c->p, " ", quote(c->p, wto), NULL);
    job.on_line = copyuid_line;
    job.baton = &acc;
    if (c->h->caps & EAS_IMAP_CAP_MOVE) {
        /* RFC 6851 */
        job.prefix = "uid move ";
        rc = run_chunks(c, &job, uids, 0);
    }
    else {
        job.prefix = "uid copy ";
        rc = run_chunks(c, &job, uids, 0);
        if (rc == EAS_IMAP_OK)
            rc = store_wire(c, wfrom, uids, 1, EAS_IMAP_DELETED, NULL);
        if (rc == EAS_IMAP_OK && (c->h->caps & EAS_IMAP_CAP_UIDPLUS)) {
            memset(&job, 0, sizeof(job));
            job.wire = wfrom;
            job.mode = SEL_RW;
            job.prefix = "uid expunge ";
            job.suffix = "";
            rc = run_chunks(c, &job, uids, 0);
        }
    }
    if (rc == EAS_IMAP_OK && acc.bad) {
        c->err = "unparsable COPYUID";
        rc = EAS_IMAP_PROTOCOL;
    }
    if (rc == EAS_IMAP_OK && map)
        *map = acc.map;
    return public_rc(c, rc);
}

typedef struct append_acc_t {
    eas_imap_t *c;
    eas_imap_copyuid_t map;
    int got;
} append_acc_t;

static void appenduid_line(run_t *r, const char *line, apr_size_t len, const imapi_resp_t *resp)
{
    append_acc_t *acc = r->q->baton;

    /* Codes of an extension the administrator turned off are not trusted. */
    if (resp->kind == IMAPI_OK && resp->tag && resp->code
        && (r->c->h->caps & EAS_IMAP_CAP_UIDPLUS)
        && imapi_is(resp->code, resp->codelen, "APPENDUID")
        && imapi_parse_copyuid(acc->c->p, resp->codeargs, resp->codeargslen, &acc->map)
           == APR_SUCCESS
        && acc->map.dst->nelts == 1)
        acc->got = 1;
}

eas_imap_rc_e eas_imap_append(eas_imap_t *c, const char *mailbox, const char *msg,
                              apr_size_t len, unsigned int flags, const char *const *keywords,
                              apr_uint32_t *uidvalidity, apr_uint32_t *uid)
{
    const char *wire = wire_name(c->p, mailbox);
    append_acc_t acc;
    req_t q;
    run_t r;
    int rc;

    flags &= ~(unsigned int)EAS_IMAP_RECENT;
    if (!wire || !keywords_ok(keywords) || !len)
        return EAS_IMAP_INVALID;
    memset(&acc, 0, sizeof(acc));
    acc.c = c;
    memset(&q, 0, sizeof(q));
    q.mailbox = wire;
    q.expect = "APPEND ";
    q.upload = imapi_crlf(c->p, msg, len, &q.uplen);
    q.streaming = 1;
    q.on_line = appenduid_line;
    q.baton = &acc;
    if ((rc = run(c, &q, &r)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    if (uidvalidity)
        *uidvalidity = acc.got ? acc.map.uidvalidity : 0;
    if (uid)
        *uid = acc.got ? APR_ARRAY_IDX(acc.map.dst, 0, apr_uint32_t) : 0;
    /* curl 7.88 appends with (\Seen) whatever we want. */
    if (acc.got && (flags != EAS_IMAP_SEEN || (keywords && *keywords))) {
        eas_imap_uidset_t *one = eas_imap_uidset_make(c->p);
        apr_uint32_t u = APR_ARRAY_IDX(acc.map.dst, 0, apr_uint32_t);
        eas_imap_uidset_add(one, u, u);
        rc = select_checked(c, wire, SEL_RW, acc.map.uidvalidity);
        if (rc == EAS_IMAP_OK)
            rc = store_wire(c, wire, one, 0, flags, keywords);
        if (rc != EAS_IMAP_OK)
            /* The message is stored; reporting failure would make the
             * caller append it twice. */
            eas_log_printf(c->pool->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                           EASLOGNO(01310) "IMAP %s (user %s): appended UID %u to %s but "
                           "could not set its flags: %s", c->base, c->user, u, wire, c->err);
    }
    else if (!acc.got && flags != EAS_IMAP_SEEN)
        eas_log_printf(c->pool->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(01311) "IMAP %s has no UIDPLUS: a message appended to %s "
                       "keeps the flag \\Seen", c->base, wire);
    return EAS_IMAP_OK;
}

/* ---- Mailboxes ---------------------------------------------------------- */

static int simple(eas_imap_t *c, const char *cmd)
{
    req_t q;
    run_t r;

    memset(&q, 0, sizeof(q));
    q.custom = cmd;
    return run(c, &q, &r);
}

/* Before DELETE or RENAME of the selected mailbox (or a parent of it),
 * select another, or curl would keep believing in a vanished selection. */
static int move_off(eas_imap_t *c, const char *wire)
{
    const char *sel = c->h->sel;
    apr_size_t n = strlen(wire);

    if (!sel || strncmp(sel, wire, n) != 0 || (sel[n] && apr_isalnum(sel[n]))
        || strcmp(wire, "INBOX") == 0)
        return EAS_IMAP_OK;
    return do_select(c, "INBOX", 1);
}

eas_imap_rc_e eas_imap_create(eas_imap_t *c, const char *mailbox)
{
    const char *wire = wire_name(c->p, mailbox);
    if (!wire)
        return EAS_IMAP_INVALID;
    return public_rc(c, simple(c, apr_pstrcat(c->p, "create ", quote(c->p, wire), NULL)));
}

eas_imap_rc_e eas_imap_delete(eas_imap_t *c, const char *mailbox)
{
    const char *wire = wire_name(c->p, mailbox);
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    if ((rc = move_off(c, wire)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    return public_rc(c, simple(c, apr_pstrcat(c->p, "delete ", quote(c->p, wire), NULL)));
}

eas_imap_rc_e eas_imap_rename(eas_imap_t *c, const char *from, const char *to)
{
    const char *wfrom = wire_name(c->p, from), *wto = wire_name(c->p, to);
    int rc;

    if (!wfrom || !wto)
        return EAS_IMAP_INVALID;
    if ((rc = move_off(c, wfrom)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    return public_rc(c, simple(c, apr_pstrcat(c->p, "rename ", quote(c->p, wfrom), " ",
                                              quote(c->p, wto), NULL)));
}

eas_imap_rc_e eas_imap_subscribe(eas_imap_t *c, const char *mailbox, int subscribe)
{
    const char *wire = wire_name(c->p, mailbox);
    if (!wire)
        return EAS_IMAP_INVALID;
    return public_rc(c, simple(c, apr_pstrcat(c->p, subscribe ? "subscribe " : "unsubscribe ",
                                              quote(c->p, wire), NULL)));
}

eas_imap_rc_e eas_imap_expunge(eas_imap_t *c, const char *mailbox, apr_uint32_t uidvalidity,
                               const eas_imap_uidset_t *uids)
{
    const char *wire = wire_name(c->p, mailbox);
    chunk_job_t job;
    req_t q;
    run_t r;
    int rc;

    if (!wire)
        return EAS_IMAP_INVALID;
    if ((rc = select_checked(c, wire, SEL_RW, uidvalidity)) != EAS_IMAP_OK)
        return public_rc(c, rc);
    if (!uids) {
        memset(&q, 0, sizeof(q));
        q.mailbox = wire;
        q.mode = SEL_RW;
        q.custom = "expunge";
        q.bufsize = BUF_MANY;
        return public_rc(c, run(c, &q, &r));
    }
    /* Plain EXPUNGE would also remove what the user flagged \Deleted elsewhere. */
    if (!(c->h->caps & EAS_IMAP_CAP_UIDPLUS))
        return EAS_IMAP_INVALID;
    memset(&job, 0, sizeof(job));
    job.wire = wire;
    job.mode = SEL_RW;
    job.prefix = "uid expunge ";
    job.suffix = "";
    return public_rc(c, run_chunks(c, &job, uids, 0));
}

eas_imap_rc_e eas_imap_login_check(eas_imap_pool_t *pool, const eas_imap_server_t *srv,
                                   const char *user, const char *password, apr_pool_t *p)
{
    eas_imap_t *c;
    int rc;

    if (!password || has_ctl(password) || acquire_as(pool, srv, user, password, 1, p, &c)
        != APR_SUCCESS)
        return EAS_IMAP_INVALID;
    /* A new connection, so the password is really checked now.  With a
     * master user no operation will use this identity: don't keep it. */
    c->h->force_fresh = 1;
    c->h->ready = 0;
    c->h->discard = srv->master_user != NULL;
    rc = prepare(c);
    eas_imap_release(c);
    return public_rc(c, rc);
}
