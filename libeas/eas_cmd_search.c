/*
 * Search (MS-ASCMD 2.2.1.16) of the Mailbox and GAL stores, and Find
 * (2.2.1.2, 16.1) over the same machinery.
 *
 * A mailbox query becomes IMAP SEARCHes per folder (each free-text word
 * narrows the previous hits; dates go to SINCE/BEFORE and are then checked
 * exactly against INTERNALDATE), the hits of all folders are ordered
 * newest first, and only the requested Range is fetched and written.
 * Nothing is cached between requests, so RebuildResults needs no work and
 * a LongId stays valid as long as the message exists.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_directory.h"
#include "eas_mailitem.h"
#include "eas_mime_opts.h"
#include "eas_status.h"
#include "eas_time.h"

/* MS-ASCMD 2.2.3.177.13 (Store) */
enum { ST_OK = 1, ST_INVALID = 2, ST_SERVER = 3, ST_COMPLEX = 8 };

/* Results in one response at most (the Range the client asks is cut). */
#define MAX_RESULTS 100
/* Free-text words per query (each is one SEARCH per folder). */
#define MAX_TERMS 8
/* Messages whose headers are read to match a ConversationId, per folder. */
#define CONV_SCAN_MAX 2000

typedef enum { F_TEXT, F_SUBJECT, F_FROM, F_TO, F_BODY } field_e;

typedef struct {
    field_e field;
    const char *word;
} term_t;

typedef struct {
    apr_array_header_t *folder_ids;   /* const char *: CollectionIds asked for */
    int deep;
    apr_array_header_t *terms;        /* term_t */
    apr_time_t after, before;         /* exclusive; 0: none */
    const unsigned char *conv;        /* 16 bytes, NULL: any */
    int complex;                      /* something we cannot search for */
    int bad;                          /* malformed */
} query_t;

typedef struct {
    eas_folder_t *folder;
    apr_uint32_t uidvalidity, uid;
    apr_time_t date;
} hit_t;

/* ---- the query ------------------------------------------------------- */

static void add_words(apr_pool_t *p, query_t *q, field_e field, const char *text)
{
    char *s = apr_pstrdup(p, text ? text : ""), *last, *tok;

    for (tok = apr_strtok(s, " \t\r\n", &last); tok; tok = apr_strtok(NULL, " \t\r\n", &last)) {
        term_t *t;
        if (q->terms->nelts >= MAX_TERMS) {
            q->complex = 1;
            return;
        }
        t = apr_array_push(q->terms);
        t->field = field;
        t->word = tok;
    }
}

/* A comparison: <GreaterThan><email:DateReceived/><Value>..</Value></...> */
static void read_compare(const eas_node_t *n, query_t *q)
{
    const char *v = eas_node_child_text(n, EAS_Search_Value);
    apr_time_t t;

    if (!eas_node_child(n, EAS_Email_DateReceived) || !v || eas_time_parse(v, &t)) {
        q->complex = 1;
        return;
    }
    if (n->tag == EAS_Search_GreaterThan)
        q->after = q->after > t ? q->after : t;
    else
        q->before = !q->before || q->before > t ? t : q->before;
}

/* <EqualTo><airsync:CollectionId/><Value>5</Value></EqualTo> names a
 * folder; with email:From, To or Subject the value is searched for in
 * that field (IMAP matches substrings, which includes equality). */
static void read_equal(apr_pool_t *p, const eas_node_t *n, query_t *q)
{
    const char *v = eas_node_child_text(n, EAS_Search_Value);

    if (!v || !*v)
        q->bad = 1;
    else if (eas_node_child(n, EAS_AirSync_CollectionId))
        APR_ARRAY_PUSH(q->folder_ids, const char *) = v;
    else if (eas_node_child(n, EAS_Email_From))
        add_words(p, q, F_FROM, v);
    else if (eas_node_child(n, EAS_Email_To))
        add_words(p, q, F_TO, v);
    else if (eas_node_child(n, EAS_Email_Subject))
        add_words(p, q, F_SUBJECT, v);
    else
        q->complex = 1;
}

static void read_and(apr_pool_t *p, const eas_node_t *n, query_t *q, int depth)
{
    const eas_node_t *c;

    if (depth > 4) {
        q->complex = 1;
        return;
    }
    for (c = n->first; c; c = c->next) {
        switch (c->tag) {
        case EAS_AirSync_Class:
            if (strcmp(c->text, "Email"))
                q->complex = 1;  /* no other class lives in the mailbox store here */
            break;
        case EAS_AirSync_CollectionId:
            APR_ARRAY_PUSH(q->folder_ids, const char *) = c->text;
            break;
        case EAS_Search_FreeText:
            add_words(p, q, F_TEXT, c->text);
            break;
        case EAS_Search_GreaterThan:
        case EAS_Search_LessThan:
            read_compare(c, q);
            break;
        case EAS_Search_ConversationId:
            if (c->len != 16)
                q->bad = 1;
            q->conv = (const unsigned char *)c->text;
            break;
        case EAS_Search_EqualTo:
            read_equal(p, c, q);
            break;
        case EAS_Search_And:
            read_and(p, c, q, depth + 1);
            break;
        default:
            q->complex = 1;  /* Or, and anything else: not offered */
            break;
        }
    }
}

static query_t *new_query(apr_pool_t *p)
{
    query_t *q = apr_pcalloc(p, sizeof(*q));

    q->folder_ids = apr_array_make(p, 2, sizeof(const char *));
    q->terms = apr_array_make(p, 4, sizeof(term_t));
    return q;
}

/* Find's FreeText is KQL (MS-ASCMD 2.2.3.73.1): words, and field:word for
 * the properties IMAP can search separately. */
static void read_kql(apr_pool_t *p, query_t *q, const char *text)
{
    static const struct {
        const char *name;
        field_e field;
    } fields[] = {{"subject", F_SUBJECT}, {"from", F_FROM}, {"to", F_TO}, {"body", F_BODY},
                  {"participants", F_TEXT}, {"cc", F_TEXT}};
    char *s = apr_pstrdup(p, text ? text : ""), *last, *tok;
    unsigned i;

    for (tok = apr_strtok(s, " \t\r\n", &last); tok; tok = apr_strtok(NULL, " \t\r\n", &last)) {
        char *colon = strchr(tok, ':');
        field_e f = F_TEXT;

        if (colon) {
            for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
                if ((apr_size_t)(colon - tok) == strlen(fields[i].name) &&
                    !strncasecmp(tok, fields[i].name, strlen(fields[i].name))) {
                    f = fields[i].field;
                    tok = colon + 1;
                    break;
                }
        }
        if (*tok == '"')
            tok++;
        if (*tok && tok[strlen(tok) - 1] == '"')
            tok[strlen(tok) - 1] = '\0';
        if (*tok)
            add_words(p, q, f, tok);
    }
}

/* ---- running it ------------------------------------------------------ */

typedef struct {
    eas_request_t *req;
    apr_pool_t *pool;
    eas_imap_t *imap;
} run_t;

static apr_status_t folders_of(run_t *x, query_t *q, apr_array_header_t **out)
{
    eas_request_t *req = x->req;
    eas_db_rows_t *rows;
    apr_status_t rv;
    int i, r;

    *out = apr_array_make(x->pool, 8, sizeof(eas_folder_t *));
    if (!q->folder_ids->nelts) {
        rv = eas_db_select(req->db, x->pool, &rows,
                           "SELECT id FROM eas.folders WHERE user_id = %s::bigint "
                           "AND class = 'Email' AND NOT deleted ORDER BY id",
                           EAS_DB_ARGS(req->user->id));
    }
    else {
        const char *list = "";
        for (i = 0; i < q->folder_ids->nelts; i++) {
            const char *id = APR_ARRAY_IDX(q->folder_ids, i, const char *);
            if (!*id || strspn(id, "0123456789") != strlen(id) || strlen(id) > 18) {
                q->bad = 1;
                return APR_SUCCESS;
            }
            list = apr_pstrcat(x->pool, list, i ? "," : "", id, NULL);
        }
        /* The folders asked for, with their subfolders under DeepTraversal. */
        rv = eas_db_select(req->db, x->pool, &rows,
                           "WITH RECURSIVE sub(id) AS ("
                           " SELECT id FROM eas.folders WHERE user_id = %s::bigint AND NOT deleted"
                           "   AND id = ANY (string_to_array(%s, ',')::bigint[])"
                           " UNION SELECT f.id FROM eas.folders f JOIN sub s ON f.parent_id = s.id"
                           "   WHERE %s::boolean AND NOT f.deleted) "
                           "SELECT id FROM sub ORDER BY id",
                           EAS_DB_ARGS(req->user->id, list, q->deep ? "true" : "false"));
    }
    if (rv != APR_SUCCESS)
        return rv;
    for (r = 0; r < rows->nrows; r++) {
        eas_folder_t *f;
        if ((rv = eas_folders_get(req, eas_db_val(rows, r, 0), &f)) != APR_SUCCESS)
            return rv;
        if (f && f->imap_name)
            APR_ARRAY_PUSH(*out, eas_folder_t *) = f;
        else if (f && q->folder_ids->nelts && !q->deep)
            q->bad = 1;     /* a PIM folder is not in the mailbox store */
    }
    if (q->folder_ids->nelts && rows->nrows == 0)
        q->bad = 1;
    return APR_SUCCESS;
}

static void set_term(eas_imap_search_t *crit, const term_t *t)
{
    crit->text = crit->subject = crit->from = crit->to = crit->body = NULL;
    switch (t->field) {
    case F_SUBJECT: crit->subject = t->word; break;
    case F_FROM: crit->from = t->word; break;
    case F_TO: crit->to = t->word; break;
    case F_BODY: crit->body = t->word; break;
    default: crit->text = t->word; break;
    }
}

/* The newest of uids whose conversation is q->conv. */
static apr_status_t conversation_filter(run_t *x, const eas_folder_t *f, const query_t *q,
                                        eas_imap_uidset_t **uids)
{
    apr_array_header_t *m = eas_imap_uidset_members(x->pool, *uids);
    eas_imap_uidset_t *keep = eas_imap_uidset_make(x->pool);
    apr_pool_t *sp;
    int i, seen = 0;

    apr_pool_create(&sp, x->pool);
    for (i = m->nelts - 1; i >= 0 && seen < CONV_SCAN_MAX; i--, seen++) {
        apr_uint32_t uid = APR_ARRAY_IDX(m, i, apr_uint32_t);
        eas_mime_msg_t *msg;
        const char *hdr;
        apr_size_t len;
        eas_imap_rc_e rc;

        apr_pool_clear(sp);
        rc = eas_imap_fetch_body(x->imap, f->imap_name, 0, uid, "HEADER", 0, 0, 1024 * 1024, sp,
                                 &hdr, &len);
        if (rc == EAS_IMAP_NO_MESSAGE)
            continue;
        if (rc != EAS_IMAP_OK) {
            apr_pool_destroy(sp);
            return eas_mail_imap_failed(x->req, x->imap, rc, "FETCH of headers");
        }
        if (len && eas_mime_parse(sp, hdr, len, 0, &msg) == APR_SUCCESS &&
            !memcmp(msg->conversation_id, q->conv, 16))
            eas_imap_uidset_add(keep, uid, uid);
    }
    apr_pool_destroy(sp);
    *uids = keep;
    return APR_SUCCESS;
}

static apr_status_t search_folder(run_t *x, eas_folder_t *f, const query_t *q,
                                  apr_array_header_t *hits)
{
    eas_imap_search_t crit;
    eas_imap_status_t st;
    eas_imap_uidset_t *uids = NULL;
    apr_array_header_t *msgs;
    eas_imap_rc_e rc;
    apr_status_t rv;
    int i;

    if ((rc = eas_mail_status(x->imap, f->imap_name, &st)) != EAS_IMAP_OK)
        goto failed;
    memset(&crit, 0, sizeof(crit));
    crit.undeleted = 1;
    /* IMAP compares days; the exact instants are checked below */
    if (q->after)
        crit.since = q->after;
    if (q->before)
        crit.before = q->before + apr_time_from_sec(86400);
    i = 0;
    do {
        if (q->terms->nelts)
            set_term(&crit, &APR_ARRAY_IDX(q->terms, i, term_t));
        crit.uids = uids;
        if ((rc = eas_imap_search(x->imap, f->imap_name, &crit, x->pool, &uids)) != EAS_IMAP_OK)
            goto failed;
    } while (++i < q->terms->nelts && eas_imap_uidset_count(uids) > 0);
    if (!eas_imap_uidset_count(uids))
        return APR_SUCCESS;
    if (q->conv && (rv = conversation_filter(x, f, q, &uids)) != APR_SUCCESS)
        return rv;
    rc = eas_imap_fetch_meta(x->imap, f->imap_name, st.uidvalidity, uids, EAS_IMAP_F_INTERNALDATE,
                             0, x->pool, &msgs);
    if (rc != EAS_IMAP_OK)
        goto failed;
    for (i = 0; i < msgs->nelts; i++) {
        const eas_imap_msg_t *m = &APR_ARRAY_IDX(msgs, i, eas_imap_msg_t);
        hit_t *h;

        if ((q->after && m->internaldate <= q->after) ||
            (q->before && m->internaldate >= q->before))
            continue;
        h = apr_array_push(hits);
        h->folder = f;
        h->uidvalidity = st.uidvalidity;
        h->uid = m->uid;
        h->date = m->internaldate;
    }
    return APR_SUCCESS;

failed:
    /* a folder that went away since the last FolderSync has no hits */
    if (rc == EAS_IMAP_NO_MAILBOX)
        return APR_SUCCESS;
    return eas_mail_imap_failed(x->req, x->imap, rc, "SEARCH");
}

static int newest_first(const void *a, const void *b)
{
    const hit_t *x = a, *y = b;

    if (x->date != y->date)
        return x->date < y->date ? 1 : -1;
    if (strcmp(x->folder->id, y->folder->id))
        return strcmp(x->folder->id, y->folder->id);
    return x->uid < y->uid ? 1 : x->uid > y->uid ? -1 : 0;
}

/* Every hit of q, newest first; *status other than ST_OK when the query
 * cannot run. */
static apr_status_t run_query(run_t *x, query_t *q, apr_array_header_t **hits, int *status)
{
    apr_array_header_t *folders;
    apr_status_t rv;
    int i;

    *hits = apr_array_make(x->pool, 32, sizeof(hit_t));
    *status = ST_OK;
    if ((rv = folders_of(x, q, &folders)) != APR_SUCCESS)
        return rv;
    if (q->bad) {
        *status = ST_INVALID;
        return APR_SUCCESS;
    }
    if (q->complex) {
        *status = ST_COMPLEX;
        return APR_SUCCESS;
    }
    if (!folders->nelts)
        return APR_SUCCESS;
    if ((rv = eas_mail_imap(x->req, &x->imap)) != APR_SUCCESS)
        return rv;
    for (i = 0; i < folders->nelts; i++)
        if ((rv = search_folder(x, APR_ARRAY_IDX(folders, i, eas_folder_t *), q, *hits)) != APR_SUCCESS)
            return rv;
    qsort((*hits)->elts, (size_t)(*hits)->nelts, sizeof(hit_t), newest_first);
    return APR_SUCCESS;
}

/* "lo-hi" (MS-ASCMD 2.2.3.143.3), cut to MAX_RESULTS; default 0-99. */
static int parse_range(const char *s, int *lo, int *hi)
{
    char *end;
    long a, b;

    *lo = 0;
    *hi = MAX_RESULTS - 1;
    if (!s)
        return 1;
    a = strtol(s, &end, 10);
    if (end == s || *end != '-' || a < 0)
        return 0;
    b = strtol(end + 1, &end, 10);
    if (*end || b < a || b > 1000000)
        return 0;
    *lo = (int)a;
    *hi = (int)(b - a >= MAX_RESULTS ? a + MAX_RESULTS - 1 : b);
    return 1;
}

/* ---- Search ---------------------------------------------------------- */

static void store_status(eas_wbxml_writer_t *w, int status)
{
    eas_wbxml_textf(w, EAS_Search_Status, "%d", status);
}

static void write_range(eas_wbxml_writer_t *w, eas_tag_t range, eas_tag_t total, int lo, int n,
                        int all)
{
    if (n > 0)
        eas_wbxml_textf(w, range, "%d-%d", lo, lo + n - 1);
    eas_wbxml_textf(w, total, "%d", all);
}

static apr_status_t search_mailbox(run_t *x, const eas_node_t *store, eas_wbxml_writer_t *w)
{
    eas_request_t *req = x->req;
    const eas_node_t *opts = eas_node_child(store, EAS_Search_Options);
    const eas_node_t *query = eas_node_child(store, EAS_Search_Query);
    query_t *q = new_query(x->pool);
    apr_array_header_t *hits;
    int status, lo, hi, i, n = 0;
    apr_status_t rv;

    q->deep = eas_node_child(opts, EAS_Search_DeepTraversal) != NULL;
    if (!query || !parse_range(eas_node_child_text(opts, EAS_Search_Range), &lo, &hi))
        q->bad = 1;
    else if (query->first && query->first->tag == EAS_Search_And && !query->first->next)
        read_and(x->pool, query->first, q, 0);
    else
        read_and(x->pool, query, q, 0);
    if (!q->terms->nelts && !q->after && !q->before && !q->conv && !q->complex)
        q->bad = 1;     /* MS-ASCMD 2.2.3.73.2: a mailbox query needs a FreeText */
    if ((rv = run_query(x, q, &hits, &status)) != APR_SUCCESS)
        return rv;
    store_status(w, status);
    if (status != ST_OK)
        return APR_SUCCESS;

    for (i = lo; i <= hi && i < hits->nelts; i++, n++) {
        const hit_t *h = &APR_ARRAY_IDX(hits, i, hit_t);
        eas_mailitem_t it = {h->folder, h->uidvalidity, h->uid, NULL};
        eas_mime_options_t o;
        eas_mime_state_t st;
        eas_imap_msg_t *meta;
        eas_mime_msg_t *msg;
        eas_imap_rc_e rc;

        rc = eas_mailitem_fetch(x->imap, &it, x->pool, &meta, &msg);
        if (rc != EAS_IMAP_OK) {
            if (rc == EAS_IMAP_NO_MESSAGE)
                continue;   /* expunged since the SEARCH */
            return eas_mail_imap_failed(req, x->imap, rc, "FETCH of a search result");
        }
        eas_wbxml_start(w, EAS_Search_Result);
        eas_wbxml_text(w, EAS_AirSync_Class, "Email");
        eas_wbxml_text(w, EAS_Search_LongId,
                       eas_mailid_longid(x->pool, h->folder->id, h->uidvalidity, h->uid));
        eas_wbxml_text(w, EAS_AirSync_CollectionId, h->folder->id);
        eas_wbxml_start(w, EAS_Search_Properties);
        memset(&o, 0, sizeof(o));
        o.version = req->version;
        o.user_address = req->user->email;
        o.file_ref_prefix = eas_mailid_fileref_prefix(x->pool, h->folder->id, h->uidvalidity,
                                                      h->uid);
        eas_mime_options_read(x->pool, opts, &o);
        eas_mailitem_state(x->pool, meta, &st);
        if ((rv = eas_mime_write(x->pool, msg, &st, &o, w)) != APR_SUCCESS)
            return rv;
        eas_wbxml_end(w);
        eas_wbxml_end(w);
    }
    /* MS-ASCMD 2.2.3.155.3: no match is one empty Result */
    if (n == 0)
        eas_wbxml_empty(w, EAS_Search_Result);
    write_range(w, EAS_Search_Range, EAS_Search_Total, lo, n, hits->nelts);
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_DEBUG, APR_SUCCESS,
                   EASLOGNO(01814) "%s searched the mailbox: %d hit(s), %d returned",
                   req->login, hits->nelts, n);
    return APR_SUCCESS;
}

static apr_status_t search_gal(run_t *x, const eas_node_t *store, eas_wbxml_writer_t *w)
{
    const eas_node_t *opts = eas_node_child(store, EAS_Search_Options);
    const char *q = eas_node_child_text(store, EAS_Search_Query);
    apr_array_header_t *entries;
    eas_picture_opts_t po;
    apr_status_t rv;
    int lo, hi, total, i;

    eas_picture_opts_read(eas_node_child(opts, EAS_Search_Picture), EAS_Search_MaxSize,
                          EAS_Search_MaxPictures, &po);
    if (!q || !*q || !parse_range(eas_node_child_text(opts, EAS_Search_Range), &lo, &hi)) {
        store_status(w, ST_INVALID);
        return APR_SUCCESS;
    }
    rv = eas_directory_find(x->req, q, 0, lo, hi - lo + 1, x->pool, &entries, &total);
    if (rv != APR_SUCCESS)
        return rv;
    store_status(w, ST_OK);
    for (i = 0; i < entries->nelts; i++) {
        eas_wbxml_start(w, EAS_Search_Result);
        eas_wbxml_start(w, EAS_Search_Properties);
        rv = eas_directory_write_gal(x->req, &APR_ARRAY_IDX(entries, i, eas_dir_entry_t), &po, w);
        if (rv != APR_SUCCESS)
            return rv;
        eas_wbxml_end(w);
        eas_wbxml_end(w);
    }
    write_range(w, EAS_Search_Range, EAS_Search_Total, lo, entries->nelts, total);
    return APR_SUCCESS;
}

apr_status_t eas_cmd_search(eas_request_t *req)
{
    const eas_node_t *store = eas_node_child(req->doc, EAS_Search_Store);
    const char *name = eas_node_child_text(store, EAS_Search_Name);
    eas_wbxml_writer_t *w;
    run_t x = {req, req->pool, NULL};
    apr_status_t rv = APR_SUCCESS;

    /* Collected in a writer of its own: a backend failing halfway must
     * still become a clean 503. */
    if (!store || !name) {
        eas_status_respond(req, EAS_STATUS_INVALID_XML);
        return APR_SUCCESS;
    }
    w = eas_wbxml_writer_create(req->pool, NULL, NULL);
    eas_wbxml_start(w, EAS_Search_Search);
    eas_wbxml_textf(w, EAS_Search_Status, "%d", ST_OK);
    eas_wbxml_start(w, EAS_Search_Response);
    eas_wbxml_start(w, EAS_Search_Store);
    if (!strcasecmp(name, "Mailbox"))
        rv = search_mailbox(&x, store, w);
    else if (!strcasecmp(name, "GAL"))
        rv = search_gal(&x, store, w);
    else
        store_status(w, ST_INVALID);     /* document libraries are not offered */
    if (rv != APR_SUCCESS)
        return rv;
    eas_wbxml_end(w);
    eas_wbxml_end(w);
    eas_wbxml_end(w);
    req->out = w;
    return eas_wbxml_status(w);
}

/* ---- Find (16.1) ------------------------------------------------------ */

/* MS-ASCMD 2.2.3.177.2 */
enum { FIND_OK = 1, FIND_INVALID = 2, FIND_FOLDERSYNC = 3 };

static void text_if(eas_wbxml_writer_t *w, eas_tag_t tag, const char *s)
{
    if (s && *s)
        eas_wbxml_text(w, tag, s);
}

static apr_status_t find_mailbox(run_t *x, const eas_node_t *crit, eas_wbxml_writer_t *w)
{
    eas_request_t *req = x->req;
    const eas_node_t *query = eas_node_child(crit, EAS_Find_Query);
    const eas_node_t *opts = eas_node_child(crit, EAS_Find_Options);
    query_t *q = new_query(x->pool);
    apr_array_header_t *hits;
    const eas_node_t *c;
    int status, lo, hi, i, n = 0;
    apr_status_t rv;

    q->deep = eas_node_child(opts, EAS_Find_DeepTraversal) != NULL;
    if (!parse_range(eas_node_child_text(opts, EAS_Find_Range), &lo, &hi))
        q->bad = 1;
    for (c = query ? query->first : NULL; c; c = c->next) {
        if (c->tag == EAS_AirSync_CollectionId)
            APR_ARRAY_PUSH(q->folder_ids, const char *) = c->text;
        else if (c->tag == EAS_Find_FreeText)
            read_kql(x->pool, q, c->text);
        else if (c->tag == EAS_AirSync_Class && strcmp(c->text, "Email"))
            q->complex = 1;
    }
    if (!q->terms->nelts)
        q->bad = 1;
    if ((rv = run_query(x, q, &hits, &status)) != APR_SUCCESS)
        return rv;
    eas_wbxml_text(w, EAS_ItemOperations_Store, "Mailbox");
    eas_wbxml_textf(w, EAS_Find_Status, "%d",
                    status == ST_OK ? FIND_OK : q->bad && q->folder_ids->nelts ? FIND_FOLDERSYNC
                                                                                : FIND_INVALID);
    if (status != ST_OK)
        return APR_SUCCESS;
    for (i = lo; i <= hi && i < hits->nelts; i++) {
        const hit_t *h = &APR_ARRAY_IDX(hits, i, hit_t);
        eas_mailitem_t it = {h->folder, h->uidvalidity, h->uid, NULL};
        eas_imap_msg_t *meta;
        eas_mime_msg_t *msg;
        eas_imap_rc_e rc;
        int k, attached = 0;

        rc = eas_mailitem_fetch(x->imap, &it, x->pool, &meta, &msg);
        if (rc == EAS_IMAP_NO_MESSAGE)
            continue;
        if (rc != EAS_IMAP_OK)
            return eas_mail_imap_failed(req, x->imap, rc, "FETCH of a search result");
        for (k = 0; k < msg->attachments->nelts; k++)
            attached |= !APR_ARRAY_IDX(msg->attachments, k, eas_mime_attachment_t).is_inline;
        /* MS-ASCMD 2.2.3.155.1 / 2.2.3.139.1 */
        eas_wbxml_start(w, EAS_Find_Result);
        eas_wbxml_text(w, EAS_AirSync_Class, "Email");
        eas_wbxml_text(w, EAS_AirSync_ServerId, eas_mailid_serverid(x->pool, h->folder->id, h->uid));
        eas_wbxml_text(w, EAS_AirSync_CollectionId, h->folder->id);
        eas_wbxml_start(w, EAS_Find_Properties);
        text_if(w, EAS_Email_Subject, msg->subject);
        eas_wbxml_text(w, EAS_Email_DateReceived, eas_time_format(x->pool, msg->date_received));
        text_if(w, EAS_Email_DisplayTo, msg->display_to);
        text_if(w, EAS_Find_DisplayCc, eas_mime_display_names(x->pool, msg->cc));
        eas_wbxml_textf(w, EAS_Email_Importance, "%d", msg->importance);
        eas_wbxml_text(w, EAS_Email_Read, meta->flags & EAS_IMAP_SEEN ? "1" : "0");
        eas_wbxml_text(w, EAS_Email2_IsDraft, meta->flags & EAS_IMAP_DRAFT ? "1" : "0");
        text_if(w, EAS_Find_Preview, eas_mime_preview(x->pool, msg->text, msg->text_len, 255));
        eas_wbxml_text(w, EAS_Find_HasAttachments, attached ? "1" : "0");
        text_if(w, EAS_Email_From, msg->from);
        eas_wbxml_end(w);
        eas_wbxml_end(w);
        n++;
    }
    write_range(w, EAS_Find_Range, EAS_Find_Total, lo, n, hits->nelts);
    return APR_SUCCESS;
}

static apr_status_t find_gal(run_t *x, const eas_node_t *crit, eas_wbxml_writer_t *w)
{
    const eas_node_t *opts = eas_node_child(crit, EAS_Find_Options);
    const char *q = eas_node_child_text(eas_node_child(crit, EAS_Find_Query), EAS_Find_FreeText);
    apr_array_header_t *entries;
    eas_picture_opts_t po;
    apr_status_t rv;
    int lo, hi, total, i;

    eas_wbxml_text(w, EAS_ItemOperations_Store, "GAL");
    eas_picture_opts_read(eas_node_child(opts, EAS_Find_Picture), EAS_Find_MaxSize,
                          EAS_Find_MaxPictures, &po);
    if (!q || !*q || !parse_range(eas_node_child_text(opts, EAS_Find_Range), &lo, &hi)) {
        eas_wbxml_textf(w, EAS_Find_Status, "%d", FIND_INVALID);
        return APR_SUCCESS;
    }
    if ((rv = eas_directory_find(x->req, q, 0, lo, hi - lo + 1, x->pool, &entries, &total)))
        return rv;
    eas_wbxml_textf(w, EAS_Find_Status, "%d", FIND_OK);
    for (i = 0; i < entries->nelts; i++) {
        eas_wbxml_start(w, EAS_Find_Result);
        eas_wbxml_start(w, EAS_Find_Properties);
        rv = eas_directory_write_gal(x->req, &APR_ARRAY_IDX(entries, i, eas_dir_entry_t), &po, w);
        if (rv != APR_SUCCESS)
            return rv;
        eas_wbxml_end(w);
        eas_wbxml_end(w);
    }
    write_range(w, EAS_Find_Range, EAS_Find_Total, lo, entries->nelts, total);
    return APR_SUCCESS;
}

apr_status_t eas_cmd_find(eas_request_t *req)
{
    const eas_node_t *exec = eas_node_child(req->doc, EAS_Find_ExecuteSearch);
    const eas_node_t *mbx = eas_node_child(exec, EAS_Find_MailBoxSearchCriterion);
    const eas_node_t *gal = eas_node_child(exec, EAS_Find_GalSearchCriterion);
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(req->pool, NULL, NULL);
    run_t x = {req, req->pool, NULL};
    apr_status_t rv = APR_SUCCESS;

    eas_wbxml_start(w, EAS_Find_Find);
    if (!eas_node_child_text(req->doc, EAS_Find_SearchId) || (!mbx && !gal) || (mbx && gal)) {
        eas_wbxml_textf(w, EAS_Find_Status, "%d", FIND_INVALID);
        eas_wbxml_end(w);
        req->out = w;
        return APR_SUCCESS;
    }
    eas_wbxml_textf(w, EAS_Find_Status, "%d", FIND_OK);
    eas_wbxml_start(w, EAS_Find_Response);
    rv = mbx ? find_mailbox(&x, mbx, w) : find_gal(&x, gal, w);
    if (rv != APR_SUCCESS)
        return rv;
    eas_wbxml_end(w);
    eas_wbxml_end(w);
    req->out = w;
    return eas_wbxml_status(w);
}
