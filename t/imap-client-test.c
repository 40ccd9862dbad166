/*
 * The IMAP and SMTP client layer against a real Dovecot and MTA (run by
 * t/10-imap.t inside an eas-stack).  Environment, as eas-stack prints it:
 *   IMAP_URL   imap://127.0.0.1:PORT
 *   SMTP_URL   smtp://127.0.0.1:PORT (empty: no MTA, SMTP tests skipped)
 *   EAS_USERS  "user1:pass1 user2:pass2"
 *   EAS_DOMAIN mail domain of the users (default example.test)
 *   IMAP_MASTER "master:password" of a Dovecot master user (optional)
 * Everything it creates lives under a mailbox named eas-t-PID, removed at
 * the end.
 */
#include "tap.h"
#include "eas_imap.h"
#include "eas_smtp.h"

#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>

static apr_pool_t *p;
static eas_imap_pool_t *pool;
static eas_imap_server_t srv;
static const char *u1, *p1, *u2, *p2, *domain, *prefix;
static char delim = '/';
static eas_log_t quiet = {eas_log_stderr_sink, NULL, EAS_LOG_CRIT};

#define SKIP(n, why)                                                              \
    do {                                                                          \
        int i_;                                                                   \
        for (i_ = 0; i_ < (n); i_++)                                              \
            printf("ok %d # skip %s\n", ++tap_n, (why));                          \
    } while (0)

static eas_imap_t *conn(const char *user, const char *pw)
{
    eas_imap_t *c;
    if (eas_imap_acquire(pool, &srv, user, pw, p, &c) != APR_SUCCESS) {
        printf("Bail out! cannot acquire a connection for %s\n", user);
        exit(1);
    }
    return c;
}

static const char *mbox(const char *leaf)
{
    return apr_psprintf(p, "%s%c%s", prefix, delim, leaf);
}

static eas_imap_uidset_t *one(apr_uint32_t uid)
{
    eas_imap_uidset_t *s = eas_imap_uidset_make(p);
    eas_imap_uidset_add(s, uid, uid);
    return s;
}

static const eas_imap_msg_t *find_msg(const apr_array_header_t *msgs, apr_uint32_t uid)
{
    int i;
    for (i = 0; msgs && i < msgs->nelts; i++)
        if (APR_ARRAY_IDX(msgs, i, eas_imap_msg_t).uid == uid)
            return &APR_ARRAY_IDX(msgs, i, eas_imap_msg_t);
    return NULL;
}

static int has_keyword(const eas_imap_msg_t *m, const char *kw)
{
    int i;
    for (i = 0; m && m->keywords && i < m->keywords->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(m->keywords, i, const char *), kw))
            return 1;
    return 0;
}

static const eas_imap_mailbox_t *find_mbox(const apr_array_header_t *list, const char *name)
{
    int i;
    for (i = 0; list && i < list->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(list, i, eas_imap_mailbox_t).name, name))
            return &APR_ARRAY_IDX(list, i, eas_imap_mailbox_t);
    return NULL;
}

static apr_uint32_t append_simple(eas_imap_t *c, const char *mb, const char *subject,
                                  unsigned int flags)
{
    apr_uint32_t v = 0, uid = 0;
    const char *m = apr_psprintf(p, "From: <%s@%s>\nTo: <%s@%s>\nSubject: %s\n"
                                 "Message-ID: <%s.%d@test>\n\nhello %s\n",
                                 u1, domain, u2, domain, subject, subject, (int)getpid(), subject);
    if (eas_imap_append(c, mb, m, strlen(m), flags, NULL, &v, &uid) != EAS_IMAP_OK)
        return 0;
    return uid;
}

/* A port nothing listens on: bound, then released. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t n = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &n);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* ---- Login -------------------------------------------------------------- */

static void test_login(void)
{
    eas_imap_server_t down = srv;
    eas_imap_t *c;
    eas_imap_status_t st;

    is_int(eas_imap_login_check(pool, &srv, u1, p1, p), EAS_IMAP_OK, "login: right password");
    is_int(eas_imap_login_check(pool, &srv, u1, "not-the-password", p), EAS_IMAP_AUTH,
           "login: wrong password is AUTH");
    is_int(eas_imap_login_check(pool, &srv, "no-such-user", "x", p), EAS_IMAP_AUTH,
           "login: unknown user is AUTH");
    is_int(eas_imap_login_check(pool, &srv, u1, p1, p), EAS_IMAP_OK,
           "login: right password again after a failure");
    down.url = apr_psprintf(p, "imap://127.0.0.1:%d", closed_port());
    is_int(eas_imap_login_check(pool, &down, u1, p1, p), EAS_IMAP_TRANSIENT,
           "login: server down is TRANSIENT, not AUTH");
    c = conn(u1, "not-the-password");
    is_int(eas_imap_status(c, "INBOX", &st), EAS_IMAP_AUTH, "an operation with a wrong password: AUTH");
    eas_imap_release(c);
}

static void test_master(void)
{
    const char *m = getenv("IMAP_MASTER");
    eas_imap_server_t ms = srv;
    eas_imap_status_t st;
    eas_imap_t *c;

    if (!m || !strchr(m, ':')) {
        SKIP(3, "IMAP_MASTER not set");
        return;
    }
    ms.master_user = apr_pstrndup(p, m, (apr_size_t)(strchr(m, ':') - m));
    ms.master_password = strchr(m, ':') + 1;
    eas_imap_acquire(pool, &ms, u1, NULL, p, &c);
    is_int(eas_imap_status(c, "INBOX", &st), EAS_IMAP_OK, "master user (user*master): STATUS");
    eas_imap_release(c);
    ms.master_authzid = 1;
    eas_imap_acquire(pool, &ms, u1, NULL, p, &c);
    is_int(eas_imap_status(c, "INBOX", &st), EAS_IMAP_OK, "master user (SASL authzid): STATUS");
    eas_imap_release(c);
    ms.master_password = "wrong";
    eas_imap_acquire(pool, &ms, u2, NULL, p, &c);
    is_int(eas_imap_status(c, "INBOX", &st), EAS_IMAP_AUTH, "master user, wrong password: AUTH");
    eas_imap_release(c);
}

/* ---- Capabilities, LIST, names ------------------------------------------ */

static void test_list_and_names(void)
{
    eas_imap_t *c = conn(u1, p1);
    apr_array_header_t *list;
    unsigned int caps = 0, seen = 0;
    const eas_imap_mailbox_t *mb;
    const char *name, *renamed;
    eas_imap_status_t st;
    int i;

    is_int(eas_imap_capabilities(c, &caps), EAS_IMAP_OK, "CAPABILITY");
    ok((caps & (EAS_IMAP_CAP_CONDSTORE | EAS_IMAP_CAP_QRESYNC | EAS_IMAP_CAP_MOVE
                | EAS_IMAP_CAP_SPECIAL_USE | EAS_IMAP_CAP_UIDPLUS))
       == (EAS_IMAP_CAP_CONDSTORE | EAS_IMAP_CAP_QRESYNC | EAS_IMAP_CAP_MOVE
           | EAS_IMAP_CAP_SPECIAL_USE | EAS_IMAP_CAP_UIDPLUS),
       "CAPABILITY: CONDSTORE QRESYNC MOVE SPECIAL-USE UIDPLUS");
    is_int(eas_imap_list(c, p, &list), EAS_IMAP_OK, "LIST");
    for (i = 0; i < list->nelts; i++) {
        mb = &APR_ARRAY_IDX(list, i, eas_imap_mailbox_t);
        seen |= mb->attrs & (EAS_IMAP_MBX_DRAFTS | EAS_IMAP_MBX_SENT | EAS_IMAP_MBX_TRASH
                             | EAS_IMAP_MBX_JUNK);
        if (!strcmp(mb->name, "INBOX")) {
            seen |= 1;
            if (mb->delim)
                delim = mb->delim;
        }
    }
    is_int(seen, 1 | EAS_IMAP_MBX_DRAFTS | EAS_IMAP_MBX_SENT | EAS_IMAP_MBX_TRASH
           | EAS_IMAP_MBX_JUNK, "LIST: INBOX and the special uses \\Drafts \\Sent \\Trash \\Junk");
    diag("hierarchy delimiter '%c'", delim);

    is_int(eas_imap_create(c, prefix), EAS_IMAP_OK, "CREATE the test's mailbox");
    name = mbox("Entwürfe & 日本語 \xF0\x9F\x98\x80");
    is_int(eas_imap_create(c, name), EAS_IMAP_OK, "CREATE a UTF-8 name");
    is_int(eas_imap_create(c, name), EAS_IMAP_EXISTS, "CREATE it again: EXISTS");
    eas_imap_list(c, p, &list);
    mb = find_mbox(list, name);
    ok(mb != NULL, "LIST shows the UTF-8 name decoded");
    ok(mb && strstr(mb->wire, "Entw&APw-rfe &- &ZeVnLIqe- &2D3eAA-") != NULL,
       "...and it travelled as modified UTF-7");
    ok(mb && mb->delim == delim && !(mb->attrs & EAS_IMAP_MBX_NOSELECT), "...selectable, same delimiter");
    is_int(eas_imap_status(c, name, &st), EAS_IMAP_OK, "STATUS of the UTF-8 name");
    ok(st.messages == 0 && st.uidvalidity && st.uidnext == 1 && (st.have & EAS_IMAP_ST_HIGHESTMODSEQ),
       "STATUS: MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ");
    renamed = mbox("Ablage ü");
    is_int(eas_imap_rename(c, name, renamed), EAS_IMAP_OK, "RENAME to another UTF-8 name");
    eas_imap_list(c, p, &list);
    ok(find_mbox(list, renamed) && !find_mbox(list, name), "LIST shows only the new name");
    is_int(eas_imap_subscribe(c, renamed, 1), EAS_IMAP_OK, "SUBSCRIBE");
    eas_imap_list(c, p, &list);
    mb = find_mbox(list, renamed);
    ok(mb && (mb->attrs & EAS_IMAP_MBX_SUBSCRIBED), "LIST: \\Subscribed");
    is_int(eas_imap_subscribe(c, renamed, 0), EAS_IMAP_OK, "UNSUBSCRIBE");
    is_int(eas_imap_rename(c, mbox("nothing here"), mbox("x")), EAS_IMAP_NO_MAILBOX,
           "RENAME of a missing mailbox: NO_MAILBOX");
    is_int(eas_imap_delete(c, renamed), EAS_IMAP_OK, "DELETE");
    is_int(eas_imap_status(c, renamed, &st), EAS_IMAP_NO_MAILBOX, "STATUS of it: NO_MAILBOX");
    is_int(eas_imap_delete(c, renamed), EAS_IMAP_NO_MAILBOX, "DELETE again: NO_MAILBOX");
    is_int(eas_imap_select(c, mbox("missing"), 0, NULL, 0, p, &(eas_imap_selected_t *){0}),
           EAS_IMAP_NO_MAILBOX, "SELECT of a missing mailbox: NO_MAILBOX");
    is_int(eas_imap_status(c, "INBOX", &st), EAS_IMAP_OK, "and the connection goes on");
    eas_imap_release(c);
}

/* ---- APPEND and content ------------------------------------------------- */

static const char *crlf_of(const char *s)
{
    const char *q;
    char *buf = apr_palloc(p, strlen(s) * 2 + 1), *w = buf;
    for (q = s; *q; q++) {
        if (*q == '\n')
            *w++ = '\r';
        *w++ = *q;
    }
    *w = '\0';
    return buf;
}

static void test_content(void)
{
    eas_imap_t *c = conn(u1, p1);
    const char *mb = mbox("trap"), *data, *head, *body, *msg, *want;
    const char *const kws[] = {"$Label1", NULL};
    apr_array_header_t *msgs;
    apr_uint32_t v = 0, uid = 0, uid2 = 0;
    eas_imap_uidset_t *hits;
    eas_imap_search_t k;
    eas_imap_status_t st;
    apr_size_t len;
    const eas_imap_msg_t *m;
    int i, letter;

    eas_imap_create(c, mb);
    /* Every tag curl could use on its first connections, as body lines. */
    body = "hello Grüße\n* 3 EXISTS\n+ OK go ahead\n)\n{5}\nA001 OK done\n";
    for (letter = 'A'; letter <= 'E'; letter++)
        for (i = 1; i <= 40; i++)
            body = apr_psprintf(p, "%s%c%03d OK fake completion\n", body, letter, i);
    head = "From: <a@example.org>\nTo: <b@example.org>\n"
           "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= trap\nMessage-ID: <trap@test>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n\n";
    msg = apr_pstrcat(p, head, body, NULL);
    is_int(eas_imap_append(c, mb, msg, strlen(msg), 0, kws, &v, &uid), EAS_IMAP_OK,
           "APPEND a message full of fake tagged completions");
    ok(v && uid, "APPEND: APPENDUID");
    want = crlf_of(msg);
    is_int(eas_imap_fetch_body(c, mb, v, uid, "", 0, 0, 1 << 20, p, &data, &len), EAS_IMAP_OK,
           "FETCH BODY[] by URL");
    ok(len == strlen(want) && !memcmp(data, want, len),
       "...returns exactly what was appended (CRLF), no desynchronisation");
    is_int(eas_imap_fetch_body(c, mb, v, uid, "TEXT", 0, 0, 1 << 20, p, &data, &len), EAS_IMAP_OK,
           "FETCH BODY[TEXT]");
    ok(!strcmp(data, crlf_of(body)), "...the body");
    is_int(eas_imap_fetch_body(c, mb, v, uid, "HEADER", 0, 0, 1 << 20, p, &data, &len),
           EAS_IMAP_OK, "FETCH BODY[HEADER]");
    ok(!strcmp(data, crlf_of(head)), "...the header with its blank line");
    is_int(eas_imap_fetch_body(c, mb, v, uid, "", 10, 25, 1 << 20, p, &data, &len), EAS_IMAP_OK,
           "FETCH a partial range");
    ok(len == 25 && !memcmp(data, want + 10, 25), "...bytes 10 to 34");
    is_int(eas_imap_fetch_body(c, mb, v, uid, "", 0, 0, 100, p, &data, &len), EAS_IMAP_PROTOCOL,
           "FETCH into too small a limit: PROTOCOL");
    is_int(eas_imap_fetch_body(c, mb, v, uid + 100, "", 0, 0, 1 << 20, p, &data, &len),
           EAS_IMAP_NO_MESSAGE, "FETCH of a missing UID: NO_MESSAGE");
    is_int(eas_imap_fetch_body(c, mb, v + 1, uid, "", 0, 0, 1 << 20, p, &data, &len),
           EAS_IMAP_NO_MESSAGE, "FETCH with a stale UIDVALIDITY: NO_MESSAGE");
    is_int(eas_imap_fetch_body(c, mb, v, uid, "1 BODY", 0, 0, 1 << 20, p, &data, &len),
           EAS_IMAP_INVALID, "a section with spaces: INVALID");
    is_int(eas_imap_fetch_meta(c, mb, v, one(uid), EAS_IMAP_F_FLAGS | EAS_IMAP_F_SIZE, 0, p, &msgs),
           EAS_IMAP_OK, "FETCH FLAGS after reading the content");
    m = find_msg(msgs, uid);
    ok(m && !(m->flags & EAS_IMAP_SEEN), "...not \\Seen: APPEND's \\Seen was undone, FETCH did not set it");
    ok(has_keyword(m, "$Label1"), "...the keyword given to APPEND");
    ok(m && m->size == strlen(want), "...RFC822.SIZE");
    is_int(eas_imap_status(c, mb, &st), EAS_IMAP_OK, "STATUS after the trap");
    is_int(st.messages, 1, "...one message: the session is in step");

    /* A multipart message, part by part. */
    msg = "From: <a@example.org>\nSubject: parts\nMIME-Version: 1.0\n"
          "Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n"
          "Content-Type: text/plain\n\nfirst part\n--b1\n"
          "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
          "AAECAwQ=\n--b1--\n";
    is_int(eas_imap_append(c, mb, msg, strlen(msg), EAS_IMAP_SEEN | EAS_IMAP_FLAGGED, NULL, &v, &uid2),
           EAS_IMAP_OK, "APPEND a multipart message");
    is_int(eas_imap_fetch_body(c, mb, v, uid2, "1", 0, 0, 4096, p, &data, &len), EAS_IMAP_OK,
           "FETCH section 1");
    is_str(data, "first part", "...its content");
    is_int(eas_imap_fetch_body(c, mb, v, uid2, "2", 0, 0, 4096, p, &data, &len), EAS_IMAP_OK,
           "FETCH section 2");
    is_str(data, "AAECAwQ=", "...its (encoded) content");
    is_int(eas_imap_fetch_body(c, mb, v, uid2, "2.MIME", 0, 0, 4096, p, &data, &len), EAS_IMAP_OK,
           "FETCH section 2.MIME");
    ok(strstr(data, "application/octet-stream") != NULL, "...its MIME header");
    is_int(eas_imap_fetch_body(c, mb, v, uid2, "7", 0, 0, 4096, p, &data, &len), EAS_IMAP_OK,
           "FETCH a section the message lacks: OK");
    is_int(len, 0, "...and empty");
    eas_imap_fetch_meta(c, mb, v, one(uid2), EAS_IMAP_F_FLAGS, 0, p, &msgs);
    m = find_msg(msgs, uid2);
    ok(m && m->flags == (EAS_IMAP_SEEN | EAS_IMAP_FLAGGED), "APPEND with \\Seen \\Flagged");

    memset(&k, 0, sizeof(k));
    k.subject = "Grüße";
    is_int(eas_imap_search(c, mb, &k, p, &hits), EAS_IMAP_OK, "SEARCH SUBJECT (UTF-8)");
    is_str(eas_imap_uidset_format(p, hits), apr_psprintf(p, "%u", uid), "...finds the trap");
    memset(&k, 0, sizeof(k));
    k.body = "first part";
    eas_imap_search(c, mb, &k, p, &hits);
    is_str(eas_imap_uidset_format(p, hits), apr_psprintf(p, "%u", uid2), "SEARCH BODY");
    memset(&k, 0, sizeof(k));
    k.text = "100% fake";
    is_int(eas_imap_search(c, mb, &k, p, &hits), EAS_IMAP_OK, "SEARCH TEXT with a '%'");
    is_int(hits->ranges->nelts, 0, "...finds nothing (and '%' was not URL-decoded away)");
    memset(&k, 0, sizeof(k));
    k.since = apr_time_now() - apr_time_from_sec(86400);
    k.undeleted = 1;
    eas_imap_search(c, mb, &k, p, &hits);
    is_int(eas_imap_uidset_count(hits), 2, "SEARCH SINCE yesterday UNDELETED");
    memset(&k, 0, sizeof(k));
    k.before = apr_time_from_sec(946684800);   /* 2000-01-01 */
    eas_imap_search(c, mb, &k, p, &hits);
    is_int(eas_imap_uidset_count(hits), 0, "SEARCH BEFORE 2000");
    memset(&k, 0, sizeof(k));
    k.uids = one(uid2);
    eas_imap_search(c, mb, &k, p, &hits);
    is_str(eas_imap_uidset_format(p, hits), apr_psprintf(p, "%u", uid2), "SEARCH within a UID set");
    eas_imap_release(c);
}

/* ---- 25 MB, streamed ---------------------------------------------------- */

typedef struct cmp_t {
    const char *want;
    apr_size_t len, off;
    int differ, calls;
} cmp_t;

static apr_status_t cmp_sink(void *baton, const char *data, apr_size_t n)
{
    cmp_t *cm = baton;
    if (cm->off + n > cm->len || memcmp(cm->want + cm->off, data, n))
        cm->differ = 1;
    cm->off += n;
    cm->calls++;
    return APR_SUCCESS;
}

static apr_status_t stop_sink(void *baton, const char *data, apr_size_t n)
{
    return APR_EGENERAL;
}

static void test_large(void)
{
    eas_imap_t *c = conn(u1, p1);
    const char *mb = mbox("large");
    apr_size_t total = 25 * 1024 * 1024, i;
    char *msg = apr_palloc(p, total + 1024), *w;
    apr_uint32_t v = 0, uid = 0, x = 12345;
    apr_off_t size = 0;
    apr_time_t t0;
    eas_imap_status_t st;
    cmp_t cm;

    eas_imap_create(c, mb);
    w = msg + sprintf(msg, "From: <a@example.org>\r\nSubject: large\r\nMIME-Version: 1.0\r\n"
                           "Content-Type: application/octet-stream\r\n"
                           "Content-Transfer-Encoding: base64\r\n\r\n");
    /* Pseudo-random base64 lines: nothing compresses, nothing repeats. */
    for (i = 0; (apr_size_t)(w - msg) < total; i++) {
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int j;
        for (j = 0; j < 76; j++) {
            x = x * 1103515245u + 12345u;
            *w++ = b64[(x >> 16) & 63];
        }
        *w++ = '\r';
        *w++ = '\n';
    }
    t0 = apr_time_now();
    is_int(eas_imap_append(c, mb, msg, (apr_size_t)(w - msg), EAS_IMAP_SEEN, NULL, &v, &uid),
           EAS_IMAP_OK, "APPEND 25 MB");
    diag("APPEND of %.1f MB: %.2f s", (w - msg) / 1048576.0, (apr_time_now() - t0) / 1e6);
    memset(&cm, 0, sizeof(cm));
    cm.want = msg;
    cm.len = (apr_size_t)(w - msg);
    t0 = apr_time_now();
    is_int(eas_imap_fetch_stream(c, mb, v, uid, "", 0, 0, cmp_sink, &cm, &size), EAS_IMAP_OK,
           "FETCH 25 MB streamed to a callback");
    diag("streamed in %d pieces, %.2f s", cm.calls, (apr_time_now() - t0) / 1e6);
    ok(size == (apr_off_t)cm.len && cm.off == cm.len && !cm.differ, "...every byte, in order");
    ok(cm.calls > 100, "...in pieces, never as one buffer");
    is_int(eas_imap_fetch_stream(c, mb, v, uid, "", 0, 0, stop_sink, NULL, &size), EAS_IMAP_ABORTED,
           "a sink that stops the stream: ABORTED");
    is_int(eas_imap_status(c, mb, &st), EAS_IMAP_OK, "the connection recovers after the abort");
    eas_imap_release(c);
}

/* ---- CONDSTORE, QRESYNC, MOVE, flags ------------------------------------ */

static void test_sync(void)
{
    eas_imap_t *c = conn(u1, p1);
    const char *mb = mbox("sync"), *mb2 = mbox("moved");
    const char *const work[] = {"$Forwarded", "Work", NULL}, *const only_work[] = {"Work", NULL};
    const char *const bad[] = {"a b", NULL}, *const big[] = {"$Big", NULL};
    apr_uint32_t ua, ub, uc, ud, v, moved_v;
    eas_imap_selected_t *sel;
    eas_imap_known_t known;
    apr_uint64_t h0, h1, h2;
    apr_array_header_t *msgs;
    eas_imap_uidset_t *van, *hits, *all;
    eas_imap_copyuid_t *map;
    eas_imap_search_t k;
    eas_imap_status_t st;
    const eas_imap_msg_t *m;
    int i, n, bad_uids;

    eas_imap_create(c, mb);
    eas_imap_create(c, mb2);
    ua = append_simple(c, mb, "a", 0);
    ub = append_simple(c, mb, "b", 0);
    uc = append_simple(c, mb, "c", 0);
    ok(ua && ub && uc, "three messages appended");
    is_int(eas_imap_select(c, mb, 0, NULL, 0, p, &sel), EAS_IMAP_OK, "SELECT");
    ok(sel->exists == 3 && sel->uidvalidity && sel->uidnext == uc + 1 && sel->highestmodseq
       && !sel->readonly && !sel->changed, "SELECT: EXISTS UIDVALIDITY UIDNEXT HIGHESTMODSEQ");
    v = sel->uidvalidity;
    h0 = sel->highestmodseq;

    is_int(eas_imap_store(c, mb, v, one(ua), 1, EAS_IMAP_FLAGGED, NULL), EAS_IMAP_OK, "STORE +\\Flagged");
    ud = append_simple(c, mb, "d", EAS_IMAP_SEEN);
    known.uidvalidity = v;
    known.modseq = h0;
    is_int(eas_imap_select(c, mb, 1, &known, EAS_IMAP_F_FLAGS | EAS_IMAP_F_MODSEQ, p, &sel),
           EAS_IMAP_OK, "EXAMINE with what the client knew (CONDSTORE)");
    ok(sel->readonly && sel->highestmodseq > h0, "...read-only, HIGHESTMODSEQ moved on");
    ok(sel->changed && sel->changed->nelts == 2, "...two messages changed");
    m = find_msg(sel->changed, ua);
    ok(m && (m->flags & EAS_IMAP_FLAGGED) && m->modseq > h0, "...the flagged one, with its MODSEQ");
    m = find_msg(sel->changed, ud);
    ok(m && (m->flags & EAS_IMAP_SEEN), "...the new one");
    ok(sel->vanished && sel->vanished->ranges->nelts == 0, "...nothing vanished");
    h1 = sel->highestmodseq;
    known.modseq = h1;
    is_int(eas_imap_select(c, mb, 0, &known, EAS_IMAP_F_FLAGS, p, &sel), EAS_IMAP_OK,
           "SELECT when nothing changed");
    ok(sel->changed && sel->changed->nelts == 0 && sel->vanished, "...no changes");

    is_int(eas_imap_store(c, mb, v, one(ub), 1, EAS_IMAP_DELETED, NULL), EAS_IMAP_OK, "STORE +\\Deleted");
    is_int(eas_imap_expunge(c, mb, v, one(ub)), EAS_IMAP_OK, "UID EXPUNGE");
    is_int(eas_imap_changes(c, mb, v, h1, EAS_IMAP_F_FLAGS, p, &msgs, &van), EAS_IMAP_OK,
           "changes since a MODSEQ");
    ok(van && eas_imap_uidset_contains(van, ub), "...VANISHED (EARLIER) holds the expunged UID");
    ok(!find_msg(msgs, ub) && !eas_imap_uidset_contains(van, ua) && !eas_imap_uidset_contains(van, uc),
       "...and nothing that still exists");
    memset(&k, 0, sizeof(k));
    k.changedsince = h0;
    eas_imap_search(c, mb, &k, p, &hits);
    ok(eas_imap_uidset_contains(hits, ua) && eas_imap_uidset_contains(hits, ud)
       && !eas_imap_uidset_contains(hits, uc), "SEARCH MODSEQ");

    /* Flags and keywords. */
    is_int(eas_imap_store(c, mb, v, one(ua), 1, EAS_IMAP_SEEN | EAS_IMAP_ANSWERED, work),
           EAS_IMAP_OK, "STORE +FLAGS with keywords");
    eas_imap_fetch_meta(c, mb, v, one(ua), EAS_IMAP_F_FLAGS, 0, p, &msgs);
    m = find_msg(msgs, ua);
    ok(m && m->flags == (EAS_IMAP_SEEN | EAS_IMAP_ANSWERED | EAS_IMAP_FLAGGED)
       && has_keyword(m, "$Forwarded") && has_keyword(m, "Work"), "...flags and keywords set");
    is_int(eas_imap_store(c, mb, v, one(ua), -1, EAS_IMAP_SEEN, only_work), EAS_IMAP_OK, "STORE -FLAGS");
    eas_imap_fetch_meta(c, mb, v, one(ua), EAS_IMAP_F_FLAGS, 0, p, &msgs);
    m = find_msg(msgs, ua);
    ok(m && !(m->flags & EAS_IMAP_SEEN) && !has_keyword(m, "Work") && has_keyword(m, "$Forwarded"),
       "...removed again");
    is_int(eas_imap_store(c, mb, v, one(ua), 0, EAS_IMAP_FLAGGED, NULL), EAS_IMAP_OK, "STORE FLAGS");
    eas_imap_fetch_meta(c, mb, v, one(ua), EAS_IMAP_F_FLAGS, 0, p, &msgs);
    m = find_msg(msgs, ua);
    ok(m && m->flags == EAS_IMAP_FLAGGED && !m->keywords, "...replaced");
    is_int(eas_imap_store(c, mb, v, one(ua), 1, 0, bad), EAS_IMAP_INVALID, "a keyword with a space: INVALID");
    is_int(eas_imap_store(c, mb, v + 1, one(ua), 1, EAS_IMAP_SEEN, NULL), EAS_IMAP_NO_MESSAGE,
           "STORE with a stale UIDVALIDITY: NO_MESSAGE");

    /* MOVE */
    eas_imap_status(c, mb2, &st);
    moved_v = st.uidvalidity;
    is_int(eas_imap_move(c, mb, v, one(uc), mb2, p, &map), EAS_IMAP_OK, "UID MOVE");
    ok(map->uidvalidity == moved_v && map->src->nelts == 1
       && APR_ARRAY_IDX(map->src, 0, apr_uint32_t) == uc, "...COPYUID names the source");
    eas_imap_fetch_meta(c, mb2, moved_v, one(APR_ARRAY_IDX(map->dst, 0, apr_uint32_t)),
                        EAS_IMAP_F_FLAGS, 0, p, &msgs);
    is_int(msgs->nelts, 1, "...the new UID exists in the destination");
    memset(&k, 0, sizeof(k));
    k.uids = one(uc);
    eas_imap_search(c, mb, &k, p, &hits);
    is_int(hits->ranges->nelts, 0, "...and is gone from the source");
    is_int(eas_imap_move(c, mb, v, one(ud), mbox("nowhere"), p, &map), EAS_IMAP_NO_MAILBOX,
           "MOVE to a missing mailbox: NO_MAILBOX");

    /* More changes than one command can carry comfortably. */
    for (i = 0, n = 0; i < 60; i++)
        n += append_simple(c, mb, apr_psprintf(p, "bulk %d", i), 0) != 0;
    is_int(n, 60, "60 more messages");
    eas_imap_status(c, mb, &st);
    h2 = st.highestmodseq;
    memset(&k, 0, sizeof(k));
    eas_imap_search(c, mb, &k, p, &all);
    is_int(eas_imap_store(c, mb, v, all, 1, 0, big), EAS_IMAP_OK, "STORE on all of them");
    hits = eas_imap_uidset_make(p);
    for (i = 0; i < 5; i++) {
        apr_uint32_t u = APR_ARRAY_IDX(eas_imap_uidset_members(p, all), 10 + 7 * i, apr_uint32_t);
        eas_imap_uidset_add(hits, u, u);
    }
    eas_imap_store(c, mb, v, hits, 1, EAS_IMAP_DELETED, NULL);
    is_int(eas_imap_expunge(c, mb, v, hits), EAS_IMAP_OK, "expunge five of them");
    is_int(eas_imap_changes(c, mb, v, h2, EAS_IMAP_F_FLAGS | EAS_IMAP_F_MODSEQ, p, &msgs, &van),
           EAS_IMAP_OK, "changes: many at once");
    is_int(msgs->nelts, (int)eas_imap_uidset_count(all) - 5, "...every changed message once");
    for (i = 0, bad_uids = 0; i < msgs->nelts; i++) {
        m = &APR_ARRAY_IDX(msgs, i, eas_imap_msg_t);
        bad_uids += !has_keyword(m, "$Big") || m->modseq <= h2 || eas_imap_uidset_contains(hits, m->uid);
    }
    is_int(bad_uids, 0, "...each with the new keyword and MODSEQ");
    for (i = 0, n = 0; i < hits->ranges->nelts; i++)
        n += eas_imap_uidset_contains(van, APR_ARRAY_IDX(hits->ranges, i, eas_imap_range_t).lo);
    is_int(n, 5, "...and the five expunged in VANISHED");
    eas_imap_release(c);
}

/* ---- Paths for servers without the extensions ------------------------- */

static void test_fallbacks(void)
{
    eas_imap_server_t plain = srv;
    const char *a = mbox("fb1"), *b = mbox("fb2");
    apr_uint32_t ua, ub, uc, v, v2 = 0, up = 1;
    eas_imap_selected_t *sel;
    apr_array_header_t *msgs, *list;
    eas_imap_uidset_t *hits, *van = NULL;
    eas_imap_copyuid_t *map;
    eas_imap_search_t k;
    eas_imap_status_t st;
    const eas_imap_msg_t *m;
    unsigned int caps = 0;
    eas_imap_t *c;

    plain.disable_caps = EAS_IMAP_CAP_MOVE | EAS_IMAP_CAP_QRESYNC | EAS_IMAP_CAP_ESEARCH
                         | EAS_IMAP_CAP_LIST_EXTENDED | EAS_IMAP_CAP_ENABLE;
    eas_imap_acquire(pool, &plain, u1, p1, p, &c);
    eas_imap_capabilities(c, &caps);
    ok(!(caps & plain.disable_caps) && (caps & EAS_IMAP_CAP_CONDSTORE),
       "without MOVE QRESYNC ESEARCH LIST-EXTENDED ENABLE: not used");
    eas_imap_create(c, a);
    eas_imap_create(c, b);
    ua = append_simple(c, a, "fa", 0);
    ub = append_simple(c, a, "fb", 0);
    uc = append_simple(c, a, "fc", 0);
    is_int(eas_imap_select(c, a, 0, NULL, 0, p, &sel), EAS_IMAP_OK, "SELECT (CONDSTORE) without ENABLE");
    ok(sel->highestmodseq > 0, "...still reports HIGHESTMODSEQ");
    v = sel->uidvalidity;
    eas_imap_store(c, a, v, one(ua), 1, EAS_IMAP_FLAGGED, NULL);
    is_int(eas_imap_changes(c, a, v, sel->highestmodseq, EAS_IMAP_F_FLAGS, p, &msgs, &van),
           EAS_IMAP_OK, "changes with CONDSTORE alone");
    ok(msgs->nelts == 1 && find_msg(msgs, ua) && van == NULL, "...the change, no VANISHED");
    memset(&k, 0, sizeof(k));
    is_int(eas_imap_search(c, a, &k, p, &hits), EAS_IMAP_OK, "plain SEARCH");
    is_int(eas_imap_uidset_count(hits), 3, "...all three");
    is_int(eas_imap_move(c, a, v, one(ub), b, p, &map), EAS_IMAP_OK,
           "MOVE as COPY + \\Deleted + UID EXPUNGE");
    ok(map->src->nelts == 1 && APR_ARRAY_IDX(map->src, 0, apr_uint32_t) == ub,
       "...COPYUID names the new UID");
    k.uids = one(ub);
    eas_imap_search(c, a, &k, p, &hits);
    is_int(hits->ranges->nelts, 0, "...the original is gone");
    is_int(eas_imap_list(c, p, &list), EAS_IMAP_OK, "plain LIST");
    ok(find_mbox(list, a) && find_mbox(list, b), "...lists the mailboxes");
    eas_imap_release(c);

    plain.disable_caps = EAS_IMAP_CAP_MOVE | EAS_IMAP_CAP_UIDPLUS;
    eas_imap_acquire(pool, &plain, u1, p1, p, &c);
    is_int(eas_imap_append(c, a, "Subject: x\n\nx\n", 14, 0, NULL, &v2, &up), EAS_IMAP_OK,
           "APPEND without UIDPLUS");
    ok(v2 == 0 && up == 0, "...no UID to report");
    is_int(eas_imap_move(c, a, v, one(uc), b, p, &map), EAS_IMAP_OK, "MOVE without MOVE and UIDPLUS");
    is_int(map->src->nelts, 0, "...no new UID known");
    eas_imap_fetch_meta(c, a, v, one(uc), EAS_IMAP_F_FLAGS, 0, p, &msgs);
    m = find_msg(msgs, uc);
    ok(m && (m->flags & EAS_IMAP_DELETED), "...the original stays, flagged \\Deleted (no blind EXPUNGE)");
    is_int(eas_imap_expunge(c, a, v, one(uc)), EAS_IMAP_INVALID, "UID EXPUNGE without UIDPLUS: INVALID");
    eas_imap_release(c);

    plain.disable_caps = EAS_IMAP_CAP_CONDSTORE;
    eas_imap_acquire(pool, &plain, u1, p1, p, &c);
    is_int(eas_imap_status(c, a, &st), EAS_IMAP_OK, "STATUS without CONDSTORE");
    ok(!(st.have & EAS_IMAP_ST_HIGHESTMODSEQ), "...no HIGHESTMODSEQ asked");
    is_int(eas_imap_changes(c, a, v, 1, 0, p, &msgs, &van), EAS_IMAP_INVALID, "changes: INVALID");
    is_int(eas_imap_select(c, a, 1, &(eas_imap_known_t){v, 1}, 0, p, &sel), EAS_IMAP_OK,
           "EXAMINE with what the client knew");
    ok(sel->highestmodseq == 0 && sel->changed == NULL, "...no MODSEQ: the caller must diff");
    eas_imap_release(c);
}

/* ---- Volume: chunked FETCH and LIST ------------------------------------- */

static void test_volume(void)
{
    eas_imap_t *c = conn(u1, p1);
    const char *mb = mbox("volume"), *parent = mbox("many"), *longname;
    apr_array_header_t *msgs = NULL, *list = NULL;
    eas_imap_uidset_t *all, *hits;
    const char **kws;
    eas_imap_search_t k;
    eas_imap_status_t st;
    apr_time_t t0;
    int i, n, bad;

    eas_imap_create(c, mb);
    t0 = apr_time_now();
    for (i = 0, n = 0; i < 700; i++)
        n += append_simple(c, mb, apr_psprintf(p, "v%d", i), i % 3 ? EAS_IMAP_SEEN : 0) != 0;
    is_int(n, 700, "700 messages appended");
    diag("700 APPENDs: %.2f s", (apr_time_now() - t0) / 1e6);
    eas_imap_status(c, mb, &st);
    memset(&k, 0, sizeof(k));
    is_int(eas_imap_search(c, mb, &k, p, &all), EAS_IMAP_OK, "SEARCH ALL");
    t0 = apr_time_now();
    is_int(eas_imap_fetch_meta(c, mb, st.uidvalidity, all, EAS_IMAP_F_FLAGS | EAS_IMAP_F_MODSEQ
                               | EAS_IMAP_F_INTERNALDATE | EAS_IMAP_F_SIZE, 0, p, &msgs),
           EAS_IMAP_OK, "FETCH attributes of 700 messages");
    diag("FETCH of 700: %.3f s", (apr_time_now() - t0) / 1e6);
    is_int(msgs->nelts, 700, "...all of them, once");
    for (i = 0, bad = 0; i < msgs->nelts; i++) {
        const eas_imap_msg_t *m = &APR_ARRAY_IDX(msgs, i, eas_imap_msg_t);
        bad += m->have != (EAS_IMAP_F_FLAGS | EAS_IMAP_F_MODSEQ | EAS_IMAP_F_INTERNALDATE
                           | EAS_IMAP_F_SIZE) || !m->size || !eas_imap_uidset_contains(all, m->uid);
    }
    is_int(bad, 0, "...with every item");

    /* A FETCH line longer than curl's small buffer: 80 keywords. */
    kws = apr_palloc(p, 81 * sizeof(*kws));
    for (i = 0; i < 80; i++)
        kws[i] = apr_psprintf(p, "$keyword-number-%02d", i);
    kws[80] = NULL;
    hits = eas_imap_uidset_make(p);
    eas_imap_uidset_add(hits, APR_ARRAY_IDX(all->ranges, 0, eas_imap_range_t).lo,
                        APR_ARRAY_IDX(all->ranges, 0, eas_imap_range_t).lo + 2);
    is_int(eas_imap_store(c, mb, st.uidvalidity, hits, 1, 0, kws), EAS_IMAP_OK,
           "STORE 80 keywords on three messages");
    is_int(eas_imap_fetch_meta(c, mb, st.uidvalidity, all, EAS_IMAP_F_FLAGS, 0, p, &msgs),
           EAS_IMAP_OK, "FETCH with three lines too long for curl's small buffer");
    for (i = 0, n = 0, bad = 0; i < msgs->nelts; i++) {
        const eas_imap_msg_t *m = &APR_ARRAY_IDX(msgs, i, eas_imap_msg_t);
        if (eas_imap_uidset_contains(hits, m->uid))
            n += m->keywords && m->keywords->nelts == 80 && has_keyword(m, "$keyword-number-79");
        else
            bad += m->keywords != NULL;
    }
    ok(msgs->nelts == 700 && n == 3 && !bad, "...every keyword, every message");
    diag("%d messages, %d with 80 keywords, %d others with keywords", msgs->nelts, n, bad);

    eas_imap_create(c, parent);
    /* Dovecot sends a name holding '"' as a literal, even in LIST. */
    longname = mbox("say \"hello\" \\ bye");
    is_int(eas_imap_create(c, longname), EAS_IMAP_OK, "CREATE a name with quotes and a backslash");
    is_int(eas_imap_list(c, p, &list), EAS_IMAP_OK, "LIST when a name comes as a literal");
    ok(find_mbox(list, longname) != NULL, "...shows it whole");
    is_int(eas_imap_status(c, longname, &st), EAS_IMAP_OK, "...STATUS of it");
    is_int(st.messages, 0, "...answers for it");
    t0 = apr_time_now();
    for (i = 0, n = 0; i < 600; i++)
        n += eas_imap_create(c, apr_psprintf(p, "%s%cfolder number %03d", parent, delim, i))
             == EAS_IMAP_OK;
    is_int(n, 600, "600 mailboxes created");
    diag("600 CREATEs: %.2f s", (apr_time_now() - t0) / 1e6);
    t0 = apr_time_now();
    is_int(eas_imap_list(c, p, &list), EAS_IMAP_OK, "LIST of more mailboxes than one answer can hold");
    diag("LIST: %.3f s", (apr_time_now() - t0) / 1e6);
    for (i = 0, n = 0; list && i < list->nelts; i++)
        n += !strncmp(APR_ARRAY_IDX(list, i, eas_imap_mailbox_t).name, parent, strlen(parent))
             && APR_ARRAY_IDX(list, i, eas_imap_mailbox_t).name[strlen(parent)] == delim;
    is_int(n, 600, "...all 600 are there");
    ok(find_mbox(list, "INBOX") && find_mbox(list, mbox("sync")) && find_mbox(list, longname),
       "...and the others");
    eas_imap_release(c);
}

/* ---- Connection loss, fork, threads ------------------------------------- */

static void test_reconnect(void)
{
    eas_imap_t *c = conn(u1, p1);
    const char *mb = mbox("sync");
    eas_imap_selected_t *sel;
    eas_imap_known_t known;
    apr_array_header_t *msgs;
    eas_imap_uidset_t *van;
    curl_socket_t fd = CURL_SOCKET_BAD;

    is_int(eas_imap_select(c, mb, 0, NULL, 0, p, &sel), EAS_IMAP_OK, "SELECT before losing the connection");
    curl_easy_getinfo(eas_imap_handle(c), CURLINFO_ACTIVESOCKET, &fd);
    ok(fd != CURL_SOCKET_BAD && shutdown(fd, SHUT_RDWR) == 0, "the connection is cut");
    /* changes() needs ENABLE QRESYNC and the mailbox selected: both must be
     * redone on the new connection before it runs. */
    is_int(eas_imap_changes(c, mb, sel->uidvalidity, 1, EAS_IMAP_F_FLAGS, p, &msgs, &van),
           EAS_IMAP_OK, "changes() on a new connection");
    ok(van != NULL && msgs->nelts > 0, "...with QRESYNC enabled again");
    known.uidvalidity = sel->uidvalidity;
    known.modseq = 1;
    curl_easy_getinfo(eas_imap_handle(c), CURLINFO_ACTIVESOCKET, &fd);
    shutdown(fd, SHUT_RDWR);
    is_int(eas_imap_select(c, mb, 1, &known, 0, p, &sel), EAS_IMAP_OK, "EXAMINE on a new connection");
    eas_imap_release(c);
}

static void test_fork(void)
{
    eas_imap_pool_stats_t st;
    eas_imap_status_t s;
    eas_imap_t *c;
    pid_t pid;
    int status = -1;

    c = conn(u1, p1);
    eas_imap_status(c, "INBOX", &s);
    eas_imap_release(c);
    eas_imap_pool_stats(pool, &st);
    ok(st.idle > 0, "idle connections before fork");
    fflush(stdout);
    if ((pid = fork()) == 0) {
        eas_imap_pool_child_init(pool);
        eas_imap_pool_stats(pool, &st);
        _exit(st.idle == 0 && st.busy == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child forgets them");
    c = conn(u1, p1);
    is_int(eas_imap_status(c, "INBOX", &s), EAS_IMAP_OK, "the parent's connection still works");
    eas_imap_release(c);
}

#define THREADS 6
#define ROUNDS 15
static volatile int thread_failures;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    apr_pool_t *tp;
    int i, id = (int)(apr_uintptr_t)data;

    apr_pool_create(&tp, NULL);
    for (i = 0; i < ROUNDS; i++) {
        const char *u = (i + id) % 2 ? u1 : u2, *pw = (i + id) % 2 ? p1 : p2;
        eas_imap_status_t st;
        eas_imap_search_t k;
        eas_imap_uidset_t *hits;
        eas_imap_t *c;
        if (eas_imap_acquire(pool, &srv, u, pw, tp, &c) != APR_SUCCESS
            || eas_imap_status(c, "INBOX", &st) != EAS_IMAP_OK) {
            thread_failures++;
            continue;
        }
        memset(&k, 0, sizeof(k));
        if (eas_imap_search(c, "INBOX", &k, tp, &hits) != EAS_IMAP_OK
            || eas_imap_uidset_count(hits) != st.messages)
            thread_failures++;
        eas_imap_release(c);
        apr_pool_clear(tp);
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
    int i;

    for (i = 0; i < THREADS; i++)
        apr_thread_create(&t[i], NULL, worker, (void *)(apr_uintptr_t)i, p);
    for (i = 0; i < THREADS; i++)
        apr_thread_join(&rv, t[i]);
    is_int(thread_failures, 0, "6 threads x 15 rounds of STATUS + SEARCH on a shared pool");
    eas_imap_pool_stats(pool, &st);
    ok(st.busy == 0 && st.reused > 0, "...connections reused, all checked in");
    diag("pool: created %" APR_UINT64_T_FMT ", reused %" APR_UINT64_T_FMT ", idle %d",
         st.created, st.reused, st.idle);
}

/* ---- SMTP --------------------------------------------------------------- */

static void test_smtp(void)
{
    const char *url = getenv("SMTP_URL");
    eas_smtp_server_t ss;
    eas_smtp_result_t *res;
    apr_array_header_t *rcpts = apr_array_make(p, 2, sizeof(const char *));
    const char *token = apr_psprintf(p, "eas-smtp-%d-%" APR_TIME_T_FMT, (int)getpid(), apr_time_now());
    const char *from = apr_psprintf(p, "%s@%s", u1, domain), *msg, *data;
    eas_imap_uidset_t *hits = NULL;
    eas_imap_search_t k;
    eas_imap_t *c;
    apr_size_t len;
    int i;

    if (!url || !*url) {
        SKIP(10, "no MTA in this stack (SMTP_URL empty)");
        return;
    }
    memset(&ss, 0, sizeof(ss));
    ss.url = url;
    ss.starttls = 1;
    msg = apr_psprintf(p, "From: <%s>\nTo: <%s@%s>\nSubject: %s\nMessage-ID: <%s@test>\n\n"
                       "first line\n.hidden line that starts with a dot\n.\nlast line\n",
                       from, u2, domain, token, token);
    APR_ARRAY_PUSH(rcpts, const char *) = apr_psprintf(p, "%s@%s", u2, domain);
    is_int(eas_smtp_send(&ss, NULL, NULL, NULL, from, rcpts, msg, strlen(msg), p, &quiet, &res),
           EAS_SMTP_OK, "SMTP: user1 -> user2 accepted");
    is_int(res->code, 250, "...250");
    c = conn(u2, p2);
    memset(&k, 0, sizeof(k));
    k.subject = token;
    /* Delivery is asynchronous: poll, bounded only to avoid hanging. */
    for (i = 0; i < 300; i++) {
        if (eas_imap_search(c, "INBOX", &k, p, &hits) == EAS_IMAP_OK && hits->ranges->nelts)
            break;
        apr_sleep(apr_time_from_msec(100));
    }
    ok(hits && eas_imap_uidset_count(hits) == 1, "...and arrives in user2's INBOX");
    if (hits && hits->ranges->nelts) {
        apr_uint32_t uid = APR_ARRAY_IDX(hits->ranges, 0, eas_imap_range_t).lo;
        eas_imap_fetch_body(c, "INBOX", 0, uid, "TEXT", 0, 0, 65536, p, &data, &len);
        ok(strstr(data, "\r\n.hidden line that starts with a dot\r\n.\r\nlast line") != NULL,
           "...lines starting with '.' intact (dot-stuffing)");
    }
    else
        ok(0, "...lines starting with '.' intact (dot-stuffing)");
    eas_imap_release(c);

    APR_ARRAY_PUSH(rcpts, const char *) = apr_psprintf(p, "nobody-%s@%s", token, domain);
    is_int(eas_smtp_send(&ss, NULL, NULL, NULL, from, rcpts, msg, strlen(msg), p, &quiet, &res),
           EAS_SMTP_OK, "SMTP: one good and one unknown recipient: OK");
    ok(res->refused->nelts == 1 && strstr(APR_ARRAY_IDX(res->refused, 0, const char *), "nobody-"),
       "...the unknown one is reported refused");
    rcpts->nelts = 0;
    APR_ARRAY_PUSH(rcpts, const char *) = apr_psprintf(p, "nobody-%s@%s", token, domain);
    is_int(eas_smtp_send(&ss, NULL, NULL, NULL, from, rcpts, msg, strlen(msg), p, &quiet, &res),
           EAS_SMTP_REJECTED, "SMTP: only unknown recipients: REJECTED (5xx)");
    ok(res->code >= 500 && res->code < 600, "...with the 5xx reply");
    is_int(eas_smtp_send(&ss, NULL, NULL, NULL, "bad<address>", rcpts, msg, strlen(msg), p,
                         &quiet, &res), EAS_SMTP_INVALID, "SMTP: an address with '<': INVALID");
    ss.url = apr_psprintf(p, "smtp://127.0.0.1:%d", closed_port());
    is_int(eas_smtp_send(&ss, NULL, NULL, NULL, from, rcpts, msg, strlen(msg), p, &quiet, &res),
           EAS_SMTP_TRANSIENT, "SMTP: server down: TRANSIENT");
}

/* ---- Cleanup ------------------------------------------------------------ */

static int by_length_desc(const void *a, const void *b)
{
    return (int)strlen(*(const char *const *)b) - (int)strlen(*(const char *const *)a);
}

static void cleanup(void)
{
    eas_imap_t *c = conn(u1, p1);
    apr_array_header_t *list, *names;
    int i, failed = 0;

    if (eas_imap_list(c, p, &list) != EAS_IMAP_OK) {
        ok(0, "cleanup: LIST");
        return;
    }
    names = apr_array_make(p, list->nelts, sizeof(const char *));
    for (i = 0; i < list->nelts; i++) {
        const char *n = APR_ARRAY_IDX(list, i, eas_imap_mailbox_t).name;
        if (!strcmp(n, prefix) || (!strncmp(n, prefix, strlen(prefix)) && n[strlen(prefix)] == delim))
            APR_ARRAY_PUSH(names, const char *) = n;
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), by_length_desc);
    for (i = 0; i < names->nelts; i++)
        failed += eas_imap_delete(c, APR_ARRAY_IDX(names, i, const char *)) != EAS_IMAP_OK;
    is_int(failed, 0, "cleanup: the test's mailboxes deleted");
    eas_imap_release(c);
}

int main(void)
{
    const char *users = getenv("EAS_USERS"), *url = getenv("IMAP_URL");
    char *copy, *last, *tok;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!users || !url || !*url) {
        printf("1..0 # SKIP IMAP_URL and EAS_USERS not set\n");
        return 0;
    }
    apr_initialize();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_create(&p, NULL);
    copy = apr_pstrdup(p, users);
    tok = apr_strtok(copy, " ", &last);
    if (tok && strchr(tok, ':')) {
        *strchr(tok, ':') = '\0';
        u1 = tok;
        p1 = tok + strlen(tok) + 1;
    }
    tok = apr_strtok(NULL, " ", &last);
    if (tok && strchr(tok, ':')) {
        *strchr(tok, ':') = '\0';
        u2 = tok;
        p2 = tok + strlen(tok) + 1;
    }
    if (!u1 || !u2) {
        printf("Bail out! EAS_USERS needs two user:password pairs\n");
        return 1;
    }
    domain = getenv("EAS_DOMAIN") && *getenv("EAS_DOMAIN") ? getenv("EAS_DOMAIN") : "example.test";
    prefix = apr_psprintf(p, "eas-t-%d", (int)getpid());
    srv.url = url;
    srv.timeout = apr_time_from_sec(30);
    if (eas_imap_pool_create(&pool, p, 4, apr_time_from_sec(60), &quiet) != APR_SUCCESS) {
        printf("Bail out! no pool\n");
        return 1;
    }

    test_login();
    test_master();
    test_list_and_names();
    test_content();
    test_large();
    test_sync();
    test_fallbacks();
    test_volume();
    test_reconnect();
    test_fork();
    test_threads();
    test_smtp();
    cleanup();

    apr_pool_destroy(p);
    curl_global_cleanup();
    apr_terminate();
    return tap_done();
}
