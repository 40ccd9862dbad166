/*
 * IMAP client for libeas, built on libcurl 7.88 easy handles.
 *
 * A per-process pool keeps one easy handle (one IMAP connection) per
 * (server URL, login identity) and hands it to one thread at a time.
 * Operations parse the server's answers into structs allocated from the
 * caller's pool.  Mailbox names are UTF-8 everywhere in this API; the
 * modified UTF-7 of the wire (RFC 3501 5.1.3) is handled inside.
 *
 * How libcurl is driven, and why (see eas_imap.c for the details):
 * - message content is fetched only through the URL form
 *   (imap://host/MAILBOX/;UID=n;SECTION=s), which parses literals; custom
 *   commands are used only where the answer cannot carry message content;
 * - every server line is read from curl's header callback, every command
 *   from its debug callback, so the layer knows which command each answer
 *   belongs to;
 * - curl counts each perform's response lines against a 300 KB limit (and
 *   re-counts buffered lines), so large answers are fetched in bounded
 *   chunks;
 * - a connection is prepared once (CAPABILITY, ENABLE QRESYNC) and an
 *   operation that would silently run on a fresh, unprepared connection is
 *   stopped before it connects and retried after preparing it.
 *
 * The embedder calls curl_global_init() once per process before the first
 * handle is created (mod_eas does so in post_config).
 */
#ifndef EAS_IMAP_H
#define EAS_IMAP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "eas_log.h"

/* Outcome of every operation.  Only OK means the out parameters are set. */
typedef enum {
    EAS_IMAP_OK = 0,
    EAS_IMAP_AUTH,          /* the server refused the credentials */
    EAS_IMAP_TRANSIENT,     /* unreachable, timed out, busy: try again later */
    EAS_IMAP_NO_MAILBOX,    /* the mailbox does not exist */
    EAS_IMAP_NO_MESSAGE,    /* the UID or section does not exist, or UIDVALIDITY changed */
    EAS_IMAP_EXISTS,        /* CREATE/RENAME: the target exists already */
    EAS_IMAP_REFUSED,       /* the server said NO for another reason (quota, rights) */
    EAS_IMAP_PROTOCOL,      /* unexpected or unparsable answer, BAD, client limit reached */
    EAS_IMAP_INVALID,       /* an argument cannot be expressed in IMAP (bad keyword, ...) */
    EAS_IMAP_ABORTED        /* the caller's sink stopped a streamed fetch */
} eas_imap_rc_e;

/* A short constant name for logs ("transient", "no-mailbox", ...). */
const char *eas_imap_rc_name(eas_imap_rc_e rc);

/* ---- UID sets ----------------------------------------------------------- */

typedef struct eas_imap_range_t {
    apr_uint32_t lo, hi;    /* inclusive, lo <= hi, lo >= 1 */
} eas_imap_range_t;

/* A set of UIDs as sorted, disjoint, non-adjacent ranges. */
typedef struct eas_imap_uidset_t {
    apr_array_header_t *ranges;     /* of eas_imap_range_t */
} eas_imap_uidset_t;

eas_imap_uidset_t *eas_imap_uidset_make(apr_pool_t *p);
/* Adds lo..hi (any order of calls; overlapping and adjacent ranges merge). */
void eas_imap_uidset_add(eas_imap_uidset_t *set, apr_uint32_t lo, apr_uint32_t hi);
/* Parses an IMAP sequence-set ("1:3,7,9:*"); '*' stands for star (0 rejects '*'). */
apr_status_t eas_imap_uidset_parse(apr_pool_t *p, const char *s, apr_size_t len,
                                   apr_uint32_t star, eas_imap_uidset_t **set);
/* "1:3,7" ("" for the empty set). */
const char *eas_imap_uidset_format(apr_pool_t *p, const eas_imap_uidset_t *set);
apr_uint64_t eas_imap_uidset_count(const eas_imap_uidset_t *set);
int eas_imap_uidset_contains(const eas_imap_uidset_t *set, apr_uint32_t uid);
/* lo..hi minus set. */
eas_imap_uidset_t *eas_imap_uidset_complement(apr_pool_t *p, const eas_imap_uidset_t *set,
                                              apr_uint32_t lo, apr_uint32_t hi);
/* The members, ascending (for callers that need them one by one). */
apr_array_header_t *eas_imap_uidset_members(apr_pool_t *p, const eas_imap_uidset_t *set);

/* ---- Parsed server data ------------------------------------------------- */

/* LIST attributes (RFC 3501, RFC 5258, RFC 6154). */
#define EAS_IMAP_MBX_NOSELECT      0x0001
#define EAS_IMAP_MBX_NOINFERIORS   0x0002
#define EAS_IMAP_MBX_HASCHILDREN   0x0004
#define EAS_IMAP_MBX_HASNOCHILDREN 0x0008
#define EAS_IMAP_MBX_NONEXISTENT   0x0010
#define EAS_IMAP_MBX_SUBSCRIBED    0x0020
#define EAS_IMAP_MBX_MARKED        0x0040
#define EAS_IMAP_MBX_UNMARKED      0x0080
#define EAS_IMAP_MBX_ALL           0x0100
#define EAS_IMAP_MBX_ARCHIVE       0x0200
#define EAS_IMAP_MBX_DRAFTS        0x0400
#define EAS_IMAP_MBX_FLAGGED       0x0800
#define EAS_IMAP_MBX_JUNK          0x1000
#define EAS_IMAP_MBX_SENT          0x2000
#define EAS_IMAP_MBX_TRASH         0x4000

typedef struct eas_imap_mailbox_t {
    const char *name;       /* UTF-8 */
    const char *wire;       /* as the server sent it (modified UTF-7) */
    char delim;             /* hierarchy delimiter, 0 for NIL */
    unsigned int attrs;     /* EAS_IMAP_MBX_* */
} eas_imap_mailbox_t;

/* Which STATUS items a eas_imap_status_t carries. */
#define EAS_IMAP_ST_MESSAGES      0x01
#define EAS_IMAP_ST_UIDNEXT       0x02
#define EAS_IMAP_ST_UIDVALIDITY   0x04
#define EAS_IMAP_ST_UNSEEN        0x08
#define EAS_IMAP_ST_HIGHESTMODSEQ 0x10

typedef struct eas_imap_status_t {
    unsigned int have;              /* EAS_IMAP_ST_* present in the answer */
    apr_uint32_t messages, uidnext, uidvalidity, unseen;
    apr_uint64_t highestmodseq;
} eas_imap_status_t;

/* System flags. */
#define EAS_IMAP_SEEN      0x01
#define EAS_IMAP_ANSWERED  0x02
#define EAS_IMAP_FLAGGED   0x04
#define EAS_IMAP_DELETED   0x08
#define EAS_IMAP_DRAFT     0x10
#define EAS_IMAP_RECENT    0x20

/* FETCH items beyond UID (which is always fetched). */
#define EAS_IMAP_F_FLAGS        0x01
#define EAS_IMAP_F_MODSEQ       0x02
#define EAS_IMAP_F_INTERNALDATE 0x04
#define EAS_IMAP_F_SIZE         0x08

typedef struct eas_imap_msg_t {
    unsigned int have;              /* EAS_IMAP_F_* present in the answer */
    apr_uint32_t seq, uid;
    unsigned int flags;             /* EAS_IMAP_SEEN ... */
    apr_array_header_t *keywords;   /* const char *, NULL when there are none */
    apr_uint64_t modseq;
    apr_time_t internaldate;
    apr_uint64_t size;
} eas_imap_msg_t;

/* The pure parsers.  Each takes one complete response line starting with
 * "* " (trailing CRLF optional; literals inline as "{n}\r\n" + n bytes) and
 * returns APR_EGENERAL when the line is not of that kind or is malformed. */
apr_status_t eas_imap_parse_list(apr_pool_t *p, const char *line, apr_size_t len,
                                 eas_imap_mailbox_t *mb);
apr_status_t eas_imap_parse_status(apr_pool_t *p, const char *line, apr_size_t len,
                                   const char **mailbox, eas_imap_status_t *st);
apr_status_t eas_imap_parse_fetch(apr_pool_t *p, const char *line, apr_size_t len,
                                  eas_imap_msg_t *msg);
/* "* SEARCH 1 2 3 [(MODSEQ n)]" or "* ESEARCH (TAG "x") UID ALL 1:3 COUNT 3":
 * adds the hits to set; *count is COUNT when given, else the number of hits. */
apr_status_t eas_imap_parse_search(apr_pool_t *p, const char *line, apr_size_t len,
                                   eas_imap_uidset_t *set, apr_uint64_t *count);
/* "* VANISHED [(EARLIER)] set": adds the UIDs to set. */
apr_status_t eas_imap_parse_vanished(apr_pool_t *p, const char *line, apr_size_t len,
                                     eas_imap_uidset_t *set, int *earlier);
/* "17-Jul-1996 02:44:25 -0700" */
apr_status_t eas_imap_parse_date_time(const char *s, apr_size_t len, apr_time_t *t);

/* Modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8.  APR_EINVAL for malformed
 * input (bad base64, unpaired surrogates, invalid UTF-8). */
apr_status_t eas_imap_mutf7_decode(apr_pool_t *p, const char *in, const char **out);
apr_status_t eas_imap_mutf7_encode(apr_pool_t *p, const char *in, const char **out);

/* ---- The connection pool ------------------------------------------------ */

typedef struct eas_imap_pool_t eas_imap_pool_t;
typedef struct eas_imap_t eas_imap_t;

/* Where and how to connect.  One struct per configured server; it must
 * outlive every connection acquired with it. */
typedef struct eas_imap_server_t {
    const char *url;            /* "imap://host[:port]" or "imaps://host[:port]" */
    int starttls;               /* imap:// only: 0 never, 1 if offered, 2 required */
    int tls_verify;             /* verify the certificate and the host name */
    const char *ca_file;        /* NULL: the system's trust store */
    /* A master user logs in on behalf of every user, so no user password is
     * needed after httpd authenticated the request.  NULL: users log in
     * with their own password. */
    const char *master_user;
    const char *master_password;
    int master_authzid;         /* 1: SASL PLAIN authzid; 0: "user<sep>master" */
    const char *master_sep;     /* NULL: "*" (Dovecot's auth_master_user_separator) */
    apr_interval_time_t connect_timeout;  /* 0: 10 s */
    apr_interval_time_t timeout;          /* longest wait for a response; 0: 60 s */
    /* EAS_IMAP_CAP_* not to use even when offered (a server's broken
     * extension); every operation has a path without them. */
    unsigned int disable_caps;
} eas_imap_server_t;

typedef struct eas_imap_pool_stats_t {
    int idle, busy;
    apr_uint64_t created, reused, discarded, expired;
} eas_imap_pool_stats_t;

/* Creates the pool.  max_idle bounds the connections kept open while
 * nobody uses them (least recently used go first); max_idle_time closes
 * those unused for longer (keep it below the server's autologout).
 * Idle connections are logged out when p is destroyed. */
apr_status_t eas_imap_pool_create(eas_imap_pool_t **pool, apr_pool_t *p, int max_idle,
                                  apr_interval_time_t max_idle_time, const eas_log_t *log);
/* In a freshly forked child: forgets the connections inherited from the
 * parent without talking on them (their sockets are closed, the handles
 * leaked on purpose: cleaning them up would speak on the parent's session). */
void eas_imap_pool_child_init(eas_imap_pool_t *pool);
/* Logs out connections idle since before now - max_idle_time; returns how many. */
int eas_imap_pool_expire(eas_imap_pool_t *pool, apr_time_t now);
void eas_imap_pool_stats(eas_imap_pool_t *pool, eas_imap_pool_stats_t *st);

/* Checks out a connection for user (nothing is sent yet).  password is the
 * user's own and is ignored when srv has a master user.  The connection
 * goes back to the pool with eas_imap_release() or when p is destroyed. */
apr_status_t eas_imap_acquire(eas_imap_pool_t *pool, const eas_imap_server_t *srv,
                              const char *user, const char *password, apr_pool_t *p,
                              eas_imap_t **conn);
void eas_imap_release(eas_imap_t *conn);

/* Verifies user's own password with a fresh login (for an authn provider),
 * whatever srv says about master users.  AUTH: wrong credentials;
 * TRANSIENT: the server could not be asked.  Without a master user the
 * authenticated connection stays in the pool for the user's requests. */
eas_imap_rc_e eas_imap_login_check(eas_imap_pool_t *pool, const eas_imap_server_t *srv,
                                   const char *user, const char *password, apr_pool_t *p);

/* The last failure on conn in words, for logs (never contains a password). */
const char *eas_imap_error(const eas_imap_t *conn);
/* The easy handle behind conn (tests use it to prove exclusive use). */
void *eas_imap_handle(const eas_imap_t *conn);

/* ---- Operations --------------------------------------------------------- */

#define EAS_IMAP_CAP_CONDSTORE     0x0001
#define EAS_IMAP_CAP_QRESYNC       0x0002
#define EAS_IMAP_CAP_MOVE          0x0004
#define EAS_IMAP_CAP_SPECIAL_USE   0x0008
#define EAS_IMAP_CAP_UIDPLUS       0x0010
#define EAS_IMAP_CAP_LIST_EXTENDED 0x0020
#define EAS_IMAP_CAP_ESEARCH       0x0040
#define EAS_IMAP_CAP_ENABLE        0x0080
#define EAS_IMAP_CAP_IDLE          0x0100
#define EAS_IMAP_CAP_LIST_STATUS   0x0200

/* The server's capabilities after login (connects if needed). */
eas_imap_rc_e eas_imap_capabilities(eas_imap_t *c, unsigned int *caps);

/* Every mailbox (LIST "" "*", with RETURN (SPECIAL-USE SUBSCRIBED) where
 * the server has LIST-EXTENDED), as eas_imap_mailbox_t.  More than about
 * 500 mailboxes are listed level by level, with narrower patterns where a
 * level alone is too many (names with '%' or '*' can then be missed). */
eas_imap_rc_e eas_imap_list(eas_imap_t *c, apr_pool_t *p, apr_array_header_t **mailboxes);

/* STATUS (MESSAGES UIDNEXT UIDVALIDITY UNSEEN [HIGHESTMODSEQ]). */
eas_imap_rc_e eas_imap_status(eas_imap_t *c, const char *mailbox, eas_imap_status_t *st);

/* What the client already knows, for a quick resynchronisation. */
typedef struct eas_imap_known_t {
    apr_uint32_t uidvalidity;
    apr_uint64_t modseq;        /* the HIGHESTMODSEQ of the last sync */
} eas_imap_known_t;

typedef struct eas_imap_selected_t {
    apr_uint32_t exists, uidvalidity, uidnext;
    apr_uint64_t highestmodseq;     /* 0: NOMODSEQ or no CONDSTORE */
    int readonly;
    /* With known, an unchanged UIDVALIDITY and MODSEQ support (RFC 7162):
     * messages changed since known->modseq, and UIDs expunged since then
     * (NULL without QRESYNC; may include UIDs the client never saw).
     * changed is NULL when not asked or not possible: diff by UID then.
     * Record highestmodseq for the next sync: later changes have higher
     * MODSEQs, so none is lost (some may be reported twice). */
    apr_array_header_t *changed;    /* eas_imap_msg_t */
    eas_imap_uidset_t *vanished;
} eas_imap_selected_t;

/* SELECT (readonly: EXAMINE) with CONDSTORE/QRESYNC enabled on the
 * connection.  known may be NULL; items (EAS_IMAP_F_*) is what to fetch
 * of changed messages; see eas_imap_selected_t. */
eas_imap_rc_e eas_imap_select(eas_imap_t *c, const char *mailbox, int readonly,
                              const eas_imap_known_t *known, unsigned int items,
                              apr_pool_t *p, eas_imap_selected_t **sel);

typedef struct eas_imap_search_t {
    apr_time_t since;           /* SINCE that day (UTC); 0: none */
    apr_time_t before;          /* BEFORE that day (UTC); 0: none */
    int undeleted;              /* UNDELETED */
    const eas_imap_uidset_t *uids;  /* restrict to these UIDs; NULL: all */
    apr_uint64_t changedsince;  /* MODSEQ > changedsince; 0: none (needs CONDSTORE) */
    /* Free text (UTF-8), each ANDed: TEXT, SUBJECT, FROM, TO, BODY. */
    const char *text, *subject, *from, *to, *body;
} eas_imap_search_t;

/* UID SEARCH (ESEARCH where offered): the matching UIDs. */
eas_imap_rc_e eas_imap_search(eas_imap_t *c, const char *mailbox,
                              const eas_imap_search_t *crit, apr_pool_t *p,
                              eas_imap_uidset_t **uids);

/* UID FETCH (UID + items) of uids, in as many commands as needed.
 * uidvalidity: when not 0, NO_MESSAGE if the mailbox's differs.
 * changedsince: when not 0, only messages changed after it.  Messages
 * that no longer exist are simply absent from *msgs (eas_imap_msg_t). */
eas_imap_rc_e eas_imap_fetch_meta(eas_imap_t *c, const char *mailbox,
                                  apr_uint32_t uidvalidity, const eas_imap_uidset_t *uids,
                                  unsigned int items, apr_uint64_t changedsince,
                                  apr_pool_t *p, apr_array_header_t **msgs);

/* Everything that changed in mailbox since modseq (CONDSTORE): *changed
 * as eas_imap_msg_t with items; *vanished the UIDs expunged since then
 * (QRESYNC; NULL without it; may include UIDs never seen by the client). */
eas_imap_rc_e eas_imap_changes(eas_imap_t *c, const char *mailbox, apr_uint32_t uidvalidity,
                               apr_uint64_t modseq, unsigned int items, apr_pool_t *p,
                               apr_array_header_t **changed, eas_imap_uidset_t **vanished);

/* Receives streamed content; a status other than APR_SUCCESS stops the
 * fetch (EAS_IMAP_ABORTED). */
typedef apr_status_t eas_imap_sink_fn(void *baton, const char *data, apr_size_t len);

/* Streams BODY[section]<offset.length> of uid without setting \Seen.
 * section: "" (whole message), "HEADER", "TEXT", "1.2", "1.2.MIME", ...;
 * length 0: to the end.  *size (may be NULL): the bytes delivered. */
eas_imap_rc_e eas_imap_fetch_stream(eas_imap_t *c, const char *mailbox,
                                    apr_uint32_t uidvalidity, apr_uint32_t uid,
                                    const char *section, apr_off_t offset, apr_off_t length,
                                    eas_imap_sink_fn *sink, void *baton, apr_off_t *size);

/* The same into memory from p (NUL-terminated); PROTOCOL when the content
 * is larger than max. */
eas_imap_rc_e eas_imap_fetch_body(eas_imap_t *c, const char *mailbox,
                                  apr_uint32_t uidvalidity, apr_uint32_t uid,
                                  const char *section, apr_off_t offset, apr_off_t length,
                                  apr_size_t max, apr_pool_t *p,
                                  const char **data, apr_size_t *len);

/* UID STORE: how > 0 adds, < 0 removes, 0 replaces the flags; keywords is
 * NULL or NULL-terminated (IMAP atoms, e.g. "$Forwarded"). */
eas_imap_rc_e eas_imap_store(eas_imap_t *c, const char *mailbox, apr_uint32_t uidvalidity,
                             const eas_imap_uidset_t *uids, int how, unsigned int flags,
                             const char *const *keywords);

/* Where moved or appended messages landed (RFC 4315 COPYUID/APPENDUID). */
typedef struct eas_imap_copyuid_t {
    apr_uint32_t uidvalidity;       /* of the destination; 0 if not reported */
    apr_array_header_t *src, *dst;  /* apr_uint32_t, pairwise */
} eas_imap_copyuid_t;

/* UID MOVE, or UID COPY + \Deleted + UID EXPUNGE without MOVE (without
 * UIDPLUS the originals are left flagged \Deleted, never expunged
 * wholesale).  *map (may be NULL) tells the new UIDs when the server does. */
eas_imap_rc_e eas_imap_move(eas_imap_t *c, const char *from, apr_uint32_t uidvalidity,
                            const eas_imap_uidset_t *uids, const char *to,
                            apr_pool_t *p, eas_imap_copyuid_t **map);

/* APPEND msg with exactly these flags (curl always sends \Seen; the flags
 * are corrected afterwards).  *uidvalidity and *uid (may be NULL) are 0
 * when the server has no UIDPLUS.  Bare LFs are sent as CRLF. */
eas_imap_rc_e eas_imap_append(eas_imap_t *c, const char *mailbox, const char *msg,
                              apr_size_t len, unsigned int flags, const char *const *keywords,
                              apr_uint32_t *uidvalidity, apr_uint32_t *uid);

eas_imap_rc_e eas_imap_create(eas_imap_t *c, const char *mailbox);
eas_imap_rc_e eas_imap_delete(eas_imap_t *c, const char *mailbox);
eas_imap_rc_e eas_imap_rename(eas_imap_t *c, const char *from, const char *to);
eas_imap_rc_e eas_imap_subscribe(eas_imap_t *c, const char *mailbox, int subscribe);

/* UID EXPUNGE of uids (needs UIDPLUS, else INVALID); uids NULL: EXPUNGE,
 * i.e. every message flagged \Deleted. */
eas_imap_rc_e eas_imap_expunge(eas_imap_t *c, const char *mailbox, apr_uint32_t uidvalidity,
                               const eas_imap_uidset_t *uids);

#endif
