/*
 * IMAP response parsing, UID sets and modified UTF-7: pure functions, no
 * I/O, so the unit tests exercise them without a server.  Grammar from
 * RFC 3501 section 9, with the extensions' responses from RFC 4315
 * (UIDPLUS), RFC 4731 (ESEARCH), RFC 5258/6154 (LIST), RFC 7162
 * (CONDSTORE/QRESYNC).  Parsing is lenient where servers differ in
 * harmless ways and strict where a wrong number would corrupt sync state.
 */
#include "eas_imap_int.h"

#include <stdio.h>
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

/* ---- UID sets ----------------------------------------------------------- */

#define RANGE(set, i) (&APR_ARRAY_IDX((set)->ranges, (i), eas_imap_range_t))

eas_imap_uidset_t *eas_imap_uidset_make(apr_pool_t *p)
{
    eas_imap_uidset_t *set = apr_palloc(p, sizeof(*set));
    set->ranges = apr_array_make(p, 4, sizeof(eas_imap_range_t));
    return set;
}

void eas_imap_uidset_add(eas_imap_uidset_t *set, apr_uint32_t lo, apr_uint32_t hi)
{
    apr_array_header_t *a = set->ranges;
    int i, j, n = a->nelts;

    if (lo > hi) {
        apr_uint32_t t = lo;
        lo = hi;
        hi = t;
    }
    if (lo == 0)
        lo = 1;
    if (hi == 0)
        return;
    /* Appending in ascending order is the common case (parsing a set). */
    if (n == 0 || (apr_uint64_t)RANGE(set, n - 1)->hi + 1 < lo) {
        eas_imap_range_t *r = apr_array_push(a);
        r->lo = lo;
        r->hi = hi;
        return;
    }
    /* First range that touches or follows lo..hi. */
    for (i = 0; i < n && (apr_uint64_t)RANGE(set, i)->hi + 1 < lo; i++)
        ;
    /* Last range that touches lo..hi. */
    for (j = i; j < n && RANGE(set, j)->lo <= (apr_uint64_t)hi + 1; j++)
        ;
    if (j == i) {                 /* touches nothing: insert at i */
        apr_array_push(a);
        memmove(RANGE(set, i + 1), RANGE(set, i), (n - i) * sizeof(eas_imap_range_t));
        RANGE(set, i)->lo = lo;
        RANGE(set, i)->hi = hi;
        return;
    }
    /* Merge ranges i..j-1 into one. */
    if (RANGE(set, i)->lo < lo)
        lo = RANGE(set, i)->lo;
    if (RANGE(set, j - 1)->hi > hi)
        hi = RANGE(set, j - 1)->hi;
    RANGE(set, i)->lo = lo;
    RANGE(set, i)->hi = hi;
    if (j - i > 1) {
        memmove(RANGE(set, i + 1), RANGE(set, j), (n - j) * sizeof(eas_imap_range_t));
        a->nelts -= j - i - 1;
    }
}

static int parse_seq_number(const char **s, const char *end, apr_uint32_t star,
                            apr_uint32_t *v)
{
    apr_uint64_t n = 0;
    const char *q = *s;

    if (q < end && *q == '*') {
        if (!star)
            return 0;
        *v = star;
        *s = q + 1;
        return 1;
    }
    while (q < end && apr_isdigit(*q)) {
        n = n * 10 + (apr_uint64_t)(*q - '0');
        if (n > 0xFFFFFFFFu)
            return 0;
        q++;
    }
    if (q == *s || n == 0)
        return 0;
    *v = (apr_uint32_t)n;
    *s = q;
    return 1;
}

apr_status_t eas_imap_uidset_parse(apr_pool_t *p, const char *s, apr_size_t len,
                                   apr_uint32_t star, eas_imap_uidset_t **out)
{
    eas_imap_uidset_t *set = eas_imap_uidset_make(p);
    const char *end = s + len;

    while (s < end) {
        apr_uint32_t lo, hi;
        if (!parse_seq_number(&s, end, star, &lo))
            return APR_EGENERAL;
        hi = lo;
        if (s < end && *s == ':') {
            s++;
            if (!parse_seq_number(&s, end, star, &hi))
                return APR_EGENERAL;
        }
        eas_imap_uidset_add(set, lo, hi);
        if (s < end) {
            if (*s != ',' || s + 1 == end)
                return APR_EGENERAL;
            s++;
        }
    }
    *out = set;
    return APR_SUCCESS;
}

const char *eas_imap_uidset_format(apr_pool_t *p, const eas_imap_uidset_t *set)
{
    int i, n = set->ranges->nelts;
    char *buf, *w;

    /* "4294967295:4294967295," is 22 bytes per range at most. */
    w = buf = apr_palloc(p, (apr_size_t)n * 22 + 1);
    for (i = 0; i < n; i++) {
        const eas_imap_range_t *r = RANGE(set, i);
        if (i)
            *w++ = ',';
        if (r->lo == r->hi)
            w += apr_snprintf(w, 22, "%u", r->lo);
        else
            w += apr_snprintf(w, 22, "%u:%u", r->lo, r->hi);
    }
    *w = '\0';
    return buf;
}

apr_uint64_t eas_imap_uidset_count(const eas_imap_uidset_t *set)
{
    apr_uint64_t n = 0;
    int i;

    for (i = 0; i < set->ranges->nelts; i++)
        n += (apr_uint64_t)RANGE(set, i)->hi - RANGE(set, i)->lo + 1;
    return n;
}

int eas_imap_uidset_contains(const eas_imap_uidset_t *set, apr_uint32_t uid)
{
    int lo = 0, hi = set->ranges->nelts - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const eas_imap_range_t *r = RANGE(set, mid);
        if (uid < r->lo)
            hi = mid - 1;
        else if (uid > r->hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

eas_imap_uidset_t *eas_imap_uidset_complement(apr_pool_t *p, const eas_imap_uidset_t *set,
                                              apr_uint32_t lo, apr_uint32_t hi)
{
    eas_imap_uidset_t *out = eas_imap_uidset_make(p);
    apr_uint64_t next = lo;
    int i;

    for (i = 0; i < set->ranges->nelts && next <= hi; i++) {
        const eas_imap_range_t *r = RANGE(set, i);
        if (r->hi < next)
            continue;
        if (r->lo > next)
            eas_imap_uidset_add(out, (apr_uint32_t)next, r->lo - 1 < hi ? r->lo - 1 : hi);
        next = (apr_uint64_t)r->hi + 1;
    }
    if (next <= hi)
        eas_imap_uidset_add(out, (apr_uint32_t)next, hi);
    return out;
}

apr_array_header_t *eas_imap_uidset_members(apr_pool_t *p, const eas_imap_uidset_t *set)
{
    apr_array_header_t *a = apr_array_make(p, (int)eas_imap_uidset_count(set) + 1,
                                           sizeof(apr_uint32_t));
    int i;

    for (i = 0; i < set->ranges->nelts; i++) {
        apr_uint64_t u;
        for (u = RANGE(set, i)->lo; u <= RANGE(set, i)->hi; u++)
            APR_ARRAY_PUSH(a, apr_uint32_t) = (apr_uint32_t)u;
    }
    return a;
}

/* ---- The cursor --------------------------------------------------------- */

void imapi_cur_init(imapi_cur_t *c, const char *line, apr_size_t len)
{
    c->p = line;
    c->end = line + len;
    if (c->end > c->p && c->end[-1] == '\n')
        c->end--;
    if (c->end > c->p && c->end[-1] == '\r')
        c->end--;
}

int imapi_sp(imapi_cur_t *c)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p == ' ')
        c->p++;
    return c->p != s;
}

int imapi_eat(imapi_cur_t *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int is_delim(char ch)
{
    return ch == ' ' || ch == '(' || ch == ')' || ch == '[' || ch == ']' || ch == '"'
        || ch == '{' || ch == '\r' || ch == '\n';
}

int imapi_word(imapi_cur_t *c, const char **s, apr_size_t *n)
{
    const char *start = c->p;
    while (c->p < c->end && !is_delim(*c->p))
        c->p++;
    *s = start;
    *n = (apr_size_t)(c->p - start);
    return *n > 0;
}

int imapi_is(const char *s, apr_size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(s, kw, n) == 0;
}

int imapi_keyword(imapi_cur_t *c, const char *kw)
{
    imapi_cur_t save = *c;
    const char *s;
    apr_size_t n;

    if (imapi_word(c, &s, &n) && imapi_is(s, n, kw))
        return 1;
    *c = save;
    return 0;
}

int imapi_number(imapi_cur_t *c, apr_uint64_t *v)
{
    apr_uint64_t n = 0;
    const char *s = c->p;

    while (c->p < c->end && apr_isdigit(*c->p)) {
        apr_uint64_t d = (apr_uint64_t)(*c->p - '0');
        if (n > (APR_UINT64_MAX - d) / 10)
            return 0;
        n = n * 10 + d;
        c->p++;
    }
    if (c->p == s || (c->p < c->end && !is_delim(*c->p)))
        return 0;
    *v = n;
    return 1;
}

int imapi_number32(imapi_cur_t *c, apr_uint32_t *v)
{
    apr_uint64_t n;
    if (!imapi_number(c, &n) || n > 0xFFFFFFFFu)
        return 0;
    *v = (apr_uint32_t)n;
    return 1;
}

/* "{n}" or "{n+}" then CRLF then n bytes. */
static int literal(imapi_cur_t *c, const char **s, apr_size_t *n)
{
    apr_uint64_t len = 0;
    const char *q = c->p + 1;

    while (q < c->end && apr_isdigit(*q)) {
        len = len * 10 + (apr_uint64_t)(*q - '0');
        if (len > (apr_uint64_t)(c->end - c->p))
            return 0;
        q++;
    }
    if (q < c->end && *q == '+')
        q++;
    if (q + 3 > c->end || q[0] != '}' || q[1] != '\r' || q[2] != '\n')
        return 0;
    q += 3;
    if ((apr_uint64_t)(c->end - q) < len)
        return 0;
    *s = q;
    *n = (apr_size_t)len;
    c->p = q + len;
    return 1;
}

int imapi_string(imapi_cur_t *c, apr_pool_t *p, int nil_ok, const char **out, apr_size_t *outlen)
{
    const char *s;
    apr_size_t n;

    if (c->p >= c->end)
        return 0;
    if (*c->p == '"') {
        char *buf, *w;
        const char *q = c->p + 1;
        /* Unescaped length is at most the quoted length. */
        w = buf = apr_palloc(p, (apr_size_t)(c->end - q) + 1);
        while (q < c->end && *q != '"') {
            if (*q == '\\') {
                if (++q == c->end)
                    return 0;
            }
            *w++ = *q++;
        }
        if (q == c->end)
            return 0;
        *w = '\0';
        c->p = q + 1;
        *out = buf;
        if (outlen)
            *outlen = (apr_size_t)(w - buf);
        return 1;
    }
    if (*c->p == '{') {
        if (!literal(c, &s, &n))
            return 0;
        *out = apr_pstrmemdup(p, s, n);
        if (outlen)
            *outlen = n;
        return 1;
    }
    /* An astring atom may contain ']' (RFC 3501 ASTRING-CHAR). */
    s = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '(' && *c->p != ')' && *c->p != '"')
        c->p++;
    n = (apr_size_t)(c->p - s);
    if (!n)
        return 0;
    if (nil_ok && imapi_is(s, n, "NIL")) {
        *out = NULL;
        if (outlen)
            *outlen = 0;
        return 1;
    }
    *out = apr_pstrmemdup(p, s, n);
    if (outlen)
        *outlen = n;
    return 1;
}

int imapi_skip_value(imapi_cur_t *c)
{
    const char *s;
    apr_size_t n;
    int depth = 0;

    do {
        if (c->p >= c->end)
            return 0;
        switch (*c->p) {
        case '(':
            depth++;
            c->p++;
            break;
        case ')':
            if (!depth)
                return 0;
            depth--;
            c->p++;
            break;
        case ' ':
            c->p++;
            break;
        case '"': {
            const char *q = c->p + 1;
            while (q < c->end && *q != '"')
                q += (*q == '\\') ? 2 : 1;
            if (q >= c->end)
                return 0;
            c->p = q + 1;
            break;
        }
        case '{':
            if (!literal(c, &s, &n))
                return 0;
            break;
        default:
            /* Atoms here may carry a section: BODY[HEADER.FIELDS (A B)]<0>. */
            while (c->p < c->end && *c->p != ' ' && *c->p != '(' && *c->p != ')') {
                if (*c->p == '[') {
                    int b = 0;
                    do {
                        if (*c->p == '[')
                            b++;
                        else if (*c->p == ']')
                            b--;
                        c->p++;
                    } while (c->p < c->end && b);
                    if (b)
                        return 0;
                }
                else
                    c->p++;
            }
            break;
        }
    } while (depth);
    return 1;
}

/* ---- Status responses --------------------------------------------------- */

int imapi_parse_resp(const char *line, apr_size_t len, imapi_resp_t *r)
{
    imapi_cur_t c;
    const char *s;
    apr_size_t n;

    memset(r, 0, sizeof(*r));
    imapi_cur_init(&c, line, len);
    if (imapi_eat(&c, '+')) {
        r->kind = IMAPI_CONT;
        imapi_sp(&c);
        r->text = c.p;
        r->textlen = (apr_size_t)(c.end - c.p);
        return 1;
    }
    if (!imapi_eat(&c, '*')) {
        if (!imapi_word(&c, &s, &n))
            return 0;
        r->tag = s;
        r->taglen = n;
    }
    if (!imapi_sp(&c))
        return 0;
    if (!r->tag && c.p < c.end && apr_isdigit(*c.p)) {
        if (!imapi_number32(&c, &r->num) || !imapi_sp(&c))
            return 0;
        r->has_num = 1;
    }
    if (!imapi_word(&c, &s, &n))
        return 0;
    r->name = s;
    r->namelen = n;
    if (imapi_is(s, n, "OK"))
        r->kind = IMAPI_OK;
    else if (imapi_is(s, n, "NO"))
        r->kind = IMAPI_NO;
    else if (imapi_is(s, n, "BAD"))
        r->kind = IMAPI_BAD;
    else if (imapi_is(s, n, "BYE"))
        r->kind = IMAPI_BYE;
    else if (imapi_is(s, n, "PREAUTH"))
        r->kind = IMAPI_PREAUTH;
    else if (r->tag)
        return 0;
    else {
        r->kind = IMAPI_DATA;
        imapi_sp(&c);
        r->rest = c.p;
        r->restlen = (apr_size_t)(c.end - c.p);
        return 1;
    }
    imapi_sp(&c);
    if (imapi_eat(&c, '[')) {
        const char *close = memchr(c.p, ']', (apr_size_t)(c.end - c.p));
        if (!close)
            return 0;
        imapi_word(&c, &r->code, &r->codelen);
        if (c.p > close)
            return 0;
        imapi_sp(&c);
        r->codeargs = c.p;
        r->codeargslen = (apr_size_t)(close - c.p);
        c.p = close + 1;
        imapi_sp(&c);
    }
    r->text = c.p;
    r->textlen = (apr_size_t)(c.end - c.p);
    return 1;
}

unsigned int imapi_parse_caps(const char *s, apr_size_t len)
{
    static const struct {
        const char *name;
        unsigned int bit;
    } caps[] = {
        {"CONDSTORE", EAS_IMAP_CAP_CONDSTORE},
        {"QRESYNC", EAS_IMAP_CAP_QRESYNC},
        {"MOVE", EAS_IMAP_CAP_MOVE},
        {"SPECIAL-USE", EAS_IMAP_CAP_SPECIAL_USE},
        {"UIDPLUS", EAS_IMAP_CAP_UIDPLUS},
        {"LIST-EXTENDED", EAS_IMAP_CAP_LIST_EXTENDED},
        {"ESEARCH", EAS_IMAP_CAP_ESEARCH},
        {"ENABLE", EAS_IMAP_CAP_ENABLE},
        {"IDLE", EAS_IMAP_CAP_IDLE},
        {"LIST-STATUS", EAS_IMAP_CAP_LIST_STATUS},
    };
    imapi_cur_t c;
    unsigned int bits = 0;
    const char *w;
    apr_size_t n, i;

    imapi_cur_init(&c, s, len);
    for (;;) {
        imapi_sp(&c);
        if (!imapi_word(&c, &w, &n))
            break;
        for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
            if (imapi_is(w, n, caps[i].name))
                bits |= caps[i].bit;
    }
    /* RFC 7162 3.2: QRESYNC implies CONDSTORE. */
    if (bits & EAS_IMAP_CAP_QRESYNC)
        bits |= EAS_IMAP_CAP_CONDSTORE;
    return bits;
}

/* Appends the members of a sequence-set to out in the order written;
 * bounded so that a hostile answer cannot make us allocate gigabytes. */
static apr_status_t expand_in_order(const char *s, apr_size_t len, apr_array_header_t *out)
{
    const char *end = s + len;

    while (s < end) {
        apr_uint32_t lo, hi;
        apr_uint64_t u;
        if (!parse_seq_number(&s, end, 0, &lo))
            return APR_EGENERAL;
        hi = lo;
        if (s < end && *s == ':') {
            s++;
            if (!parse_seq_number(&s, end, 0, &hi))
                return APR_EGENERAL;
        }
        if (lo > hi) {
            apr_uint32_t t = lo;
            lo = hi;
            hi = t;
        }
        if ((apr_uint64_t)hi - lo + (apr_uint64_t)out->nelts > 1000000)
            return APR_EGENERAL;
        for (u = lo; u <= hi; u++)
            APR_ARRAY_PUSH(out, apr_uint32_t) = (apr_uint32_t)u;
        if (s < end && *s++ != ',')
            return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t imapi_parse_copyuid(apr_pool_t *p, const char *args, apr_size_t len,
                                 eas_imap_copyuid_t *map)
{
    imapi_cur_t c;
    const char *s;
    apr_size_t n;

    imapi_cur_init(&c, args, len);
    if (!imapi_number32(&c, &map->uidvalidity) || !imapi_sp(&c))
        return APR_EGENERAL;
    map->src = apr_array_make(p, 4, sizeof(apr_uint32_t));
    map->dst = apr_array_make(p, 4, sizeof(apr_uint32_t));
    if (!imapi_word(&c, &s, &n))
        return APR_EGENERAL;
    if (c.p == c.end)           /* APPENDUID v uid-set */
        return expand_in_order(s, n, map->dst);
    /* COPYUID v src dst: RFC 4315 pairs the two sets element by element in
     * the order written, so expand them as written, not sorted. */
    {
        const char *d;
        apr_size_t dn;
        if (!imapi_sp(&c) || !imapi_word(&c, &d, &dn)
            || expand_in_order(s, n, map->src) != APR_SUCCESS
            || expand_in_order(d, dn, map->dst) != APR_SUCCESS
            || map->src->nelts != map->dst->nelts)
            return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

unsigned int imapi_flag_bit(const char *s, apr_size_t n)
{
    if (imapi_is(s, n, "\\Seen"))
        return EAS_IMAP_SEEN;
    if (imapi_is(s, n, "\\Answered"))
        return EAS_IMAP_ANSWERED;
    if (imapi_is(s, n, "\\Flagged"))
        return EAS_IMAP_FLAGGED;
    if (imapi_is(s, n, "\\Deleted"))
        return EAS_IMAP_DELETED;
    if (imapi_is(s, n, "\\Draft"))
        return EAS_IMAP_DRAFT;
    if (imapi_is(s, n, "\\Recent"))
        return EAS_IMAP_RECENT;
    return 0;
}

int imapi_keyword_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        /* ATOM-CHAR minus '\\' (which would make it a system flag). */
        if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch))
            return 0;
    }
    return 1;
}

/* ---- LIST, STATUS, FETCH, SEARCH, VANISHED ------------------------------ */

/* Expects "* NAME " and leaves c after it. */
static int data_start(imapi_cur_t *c, const char *line, apr_size_t len, const char *name,
                      apr_uint32_t *num)
{
    imapi_cur_init(c, line, len);
    if (!imapi_eat(c, '*') || !imapi_sp(c))
        return 0;
    if (num) {
        if (!imapi_number32(c, num) || !imapi_sp(c))
            return 0;
    }
    if (!imapi_keyword(c, name))
        return 0;
    imapi_sp(c);
    return 1;
}

apr_status_t eas_imap_parse_list(apr_pool_t *p, const char *line, apr_size_t len,
                                 eas_imap_mailbox_t *mb)
{
    static const struct {
        const char *name;
        unsigned int bit;
    } attrs[] = {
        {"\\Noselect", EAS_IMAP_MBX_NOSELECT},
        {"\\NonExistent", EAS_IMAP_MBX_NONEXISTENT | EAS_IMAP_MBX_NOSELECT},
        {"\\Noinferiors", EAS_IMAP_MBX_NOINFERIORS},
        {"\\HasChildren", EAS_IMAP_MBX_HASCHILDREN},
        {"\\HasNoChildren", EAS_IMAP_MBX_HASNOCHILDREN},
        {"\\Subscribed", EAS_IMAP_MBX_SUBSCRIBED},
        {"\\Marked", EAS_IMAP_MBX_MARKED},
        {"\\Unmarked", EAS_IMAP_MBX_UNMARKED},
        {"\\All", EAS_IMAP_MBX_ALL},
        {"\\Archive", EAS_IMAP_MBX_ARCHIVE},
        {"\\Drafts", EAS_IMAP_MBX_DRAFTS},
        {"\\Flagged", EAS_IMAP_MBX_FLAGGED},
        {"\\Junk", EAS_IMAP_MBX_JUNK},
        {"\\Sent", EAS_IMAP_MBX_SENT},
        {"\\Trash", EAS_IMAP_MBX_TRASH},
    };
    imapi_cur_t c;
    const char *s, *delim, *name;
    apr_size_t n, i;

    memset(mb, 0, sizeof(*mb));
    if (!data_start(&c, line, len, "LIST", NULL) || !imapi_eat(&c, '('))
        return APR_EGENERAL;
    for (;;) {
        imapi_sp(&c);
        if (imapi_eat(&c, ')'))
            break;
        /* Attributes are "\" atom; a stray "\" alone is malformed. */
        if (!imapi_eat(&c, '\\') || !imapi_word(&c, &s, &n))
            return APR_EGENERAL;
        for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            if (imapi_is(s - 1, n + 1, attrs[i].name))
                mb->attrs |= attrs[i].bit;
    }
    if (!imapi_sp(&c) || !imapi_string(&c, p, 1, &delim, &n) || (delim && n != 1))
        return APR_EGENERAL;
    mb->delim = delim ? delim[0] : 0;
    if (!imapi_sp(&c) || !imapi_string(&c, p, 0, &name, NULL))
        return APR_EGENERAL;
    mb->wire = name;
    /* RFC 3501: INBOX is case-insensitive; show it in one spelling. */
    if (imapi_is(name, strlen(name), "INBOX"))
        mb->wire = name = "INBOX";
    if (eas_imap_mutf7_decode(p, name, &mb->name) != APR_SUCCESS)
        mb->name = name;
    /* RFC 5258 extended data, e.g. ("CHILDINFO" ("SUBSCRIBED")), is ignored. */
    return APR_SUCCESS;
}

apr_status_t eas_imap_parse_status(apr_pool_t *p, const char *line, apr_size_t len,
                                   const char **mailbox, eas_imap_status_t *st)
{
    imapi_cur_t c;
    const char *name, *s;
    apr_size_t n;
    apr_uint64_t v;

    memset(st, 0, sizeof(*st));
    if (!data_start(&c, line, len, "STATUS", NULL)
        || !imapi_string(&c, p, 0, &name, NULL))
        return APR_EGENERAL;
    imapi_sp(&c);
    if (!imapi_eat(&c, '('))
        return APR_EGENERAL;
    for (;;) {
        imapi_sp(&c);
        if (imapi_eat(&c, ')'))
            break;
        if (!imapi_word(&c, &s, &n) || !imapi_sp(&c) || !imapi_number(&c, &v))
            return APR_EGENERAL;
        if (imapi_is(s, n, "HIGHESTMODSEQ")) {
            st->highestmodseq = v;
            st->have |= EAS_IMAP_ST_HIGHESTMODSEQ;
            continue;
        }
        if (v > 0xFFFFFFFFu)
            return APR_EGENERAL;
        if (imapi_is(s, n, "MESSAGES")) {
            st->messages = (apr_uint32_t)v;
            st->have |= EAS_IMAP_ST_MESSAGES;
        }
        else if (imapi_is(s, n, "UIDNEXT")) {
            st->uidnext = (apr_uint32_t)v;
            st->have |= EAS_IMAP_ST_UIDNEXT;
        }
        else if (imapi_is(s, n, "UIDVALIDITY")) {
            st->uidvalidity = (apr_uint32_t)v;
            st->have |= EAS_IMAP_ST_UIDVALIDITY;
        }
        else if (imapi_is(s, n, "UNSEEN")) {
            st->unseen = (apr_uint32_t)v;
            st->have |= EAS_IMAP_ST_UNSEEN;
        }
    }
    if (mailbox) {
        if (eas_imap_mutf7_decode(p, name, mailbox) != APR_SUCCESS)
            *mailbox = name;
    }
    return APR_SUCCESS;
}

static int parse_flags(imapi_cur_t *c, apr_pool_t *p, eas_imap_msg_t *msg)
{
    const char *s;
    apr_size_t n;

    if (!imapi_eat(c, '('))
        return 0;
    for (;;) {
        unsigned int bit;
        imapi_sp(c);
        if (imapi_eat(c, ')'))
            return 1;
        /* A backslash is not a delimiter, so "\\Seen" is one word. */
        if (!imapi_word(c, &s, &n))
            return 0;
        bit = imapi_flag_bit(s, n);
        if (bit)
            msg->flags |= bit;
        else if (s[0] != '\\') {
            if (!msg->keywords)
                msg->keywords = apr_array_make(p, 2, sizeof(const char *));
            APR_ARRAY_PUSH(msg->keywords, const char *) = apr_pstrmemdup(p, s, n);
        }
    }
}

apr_status_t eas_imap_parse_fetch(apr_pool_t *p, const char *line, apr_size_t len,
                                  eas_imap_msg_t *msg)
{
    imapi_cur_t c;
    const char *s;
    apr_size_t n;

    memset(msg, 0, sizeof(*msg));
    if (!data_start(&c, line, len, "FETCH", &msg->seq) || !imapi_eat(&c, '('))
        return APR_EGENERAL;
    for (;;) {
        imapi_sp(&c);
        if (imapi_eat(&c, ')'))
            break;
        if (!imapi_word(&c, &s, &n))
            return APR_EGENERAL;
        if (imapi_is(s, n, "UID")) {
            if (!imapi_sp(&c) || !imapi_number32(&c, &msg->uid) || !msg->uid)
                return APR_EGENERAL;
        }
        else if (imapi_is(s, n, "FLAGS")) {
            if (!imapi_sp(&c) || !parse_flags(&c, p, msg))
                return APR_EGENERAL;
            msg->have |= EAS_IMAP_F_FLAGS;
        }
        else if (imapi_is(s, n, "MODSEQ")) {
            if (!imapi_sp(&c) || !imapi_eat(&c, '(') || !imapi_number(&c, &msg->modseq)
                || !imapi_eat(&c, ')'))
                return APR_EGENERAL;
            msg->have |= EAS_IMAP_F_MODSEQ;
        }
        else if (imapi_is(s, n, "INTERNALDATE")) {
            const char *d;
            apr_size_t dn;
            if (!imapi_sp(&c) || !imapi_string(&c, p, 0, &d, &dn)
                || eas_imap_parse_date_time(d, dn, &msg->internaldate) != APR_SUCCESS)
                return APR_EGENERAL;
            msg->have |= EAS_IMAP_F_INTERNALDATE;
        }
        else if (imapi_is(s, n, "RFC822.SIZE")) {
            if (!imapi_sp(&c) || !imapi_number(&c, &msg->size))
                return APR_EGENERAL;
            msg->have |= EAS_IMAP_F_SIZE;
        }
        else {
            /* Any other item (BODY[...] with its section, ENVELOPE, ...):
             * put the cursor back to skip the whole name, then the value. */
            c.p = s;
            if (!imapi_skip_value(&c) || !imapi_sp(&c) || !imapi_skip_value(&c))
                return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t eas_imap_parse_search(apr_pool_t *p, const char *line, apr_size_t len,
                                   eas_imap_uidset_t *set, apr_uint64_t *count)
{
    imapi_cur_t c;
    const char *s;
    apr_size_t n;
    apr_uint64_t hits = 0, given = 0;
    int have_count = 0;
    eas_imap_uidset_t *part;
    int i;

    imapi_cur_init(&c, line, len);
    if (!imapi_eat(&c, '*') || !imapi_sp(&c) || !imapi_word(&c, &s, &n))
        return APR_EGENERAL;
    if (imapi_is(s, n, "SEARCH")) {
        for (;;) {
            apr_uint32_t uid;
            imapi_sp(&c);
            if (c.p == c.end)
                break;
            if (*c.p == '(') {              /* RFC 7162: (MODSEQ n) */
                if (!imapi_skip_value(&c))
                    return APR_EGENERAL;
                continue;
            }
            if (!imapi_number32(&c, &uid) || !uid)
                return APR_EGENERAL;
            eas_imap_uidset_add(set, uid, uid);
            hits++;
        }
        if (count)
            *count = hits;
        return APR_SUCCESS;
    }
    if (!imapi_is(s, n, "ESEARCH"))
        return APR_EGENERAL;
    imapi_sp(&c);
    if (c.p < c.end && *c.p == '(' && !imapi_skip_value(&c))   /* (TAG "A5") */
        return APR_EGENERAL;
    for (;;) {
        imapi_sp(&c);
        if (c.p == c.end)
            break;
        if (!imapi_word(&c, &s, &n))
            return APR_EGENERAL;
        if (imapi_is(s, n, "UID"))
            continue;
        if (!imapi_sp(&c))
            return APR_EGENERAL;
        if (imapi_is(s, n, "ALL")) {
            const char *v;
            apr_size_t vn;
            if (!imapi_word(&c, &v, &vn)
                || eas_imap_uidset_parse(p, v, vn, 0, &part) != APR_SUCCESS)
                return APR_EGENERAL;
            for (i = 0; i < part->ranges->nelts; i++)
                eas_imap_uidset_add(set, RANGE(part, i)->lo, RANGE(part, i)->hi);
            hits += eas_imap_uidset_count(part);
        }
        else if (imapi_is(s, n, "COUNT")) {
            if (!imapi_number(&c, &given))
                return APR_EGENERAL;
            have_count = 1;
        }
        else if (!imapi_skip_value(&c))     /* MIN, MAX, MODSEQ, PARTIAL ... */
            return APR_EGENERAL;
    }
    if (count)
        *count = have_count ? given : hits;
    return APR_SUCCESS;
}

apr_status_t eas_imap_parse_vanished(apr_pool_t *p, const char *line, apr_size_t len,
                                     eas_imap_uidset_t *set, int *earlier)
{
    imapi_cur_t c;
    const char *s;
    apr_size_t n;
    eas_imap_uidset_t *part;
    int i;

    if (earlier)
        *earlier = 0;
    if (!data_start(&c, line, len, "VANISHED", NULL))
        return APR_EGENERAL;
    if (imapi_eat(&c, '(')) {
        if (!imapi_keyword(&c, "EARLIER") || !imapi_eat(&c, ')') || !imapi_sp(&c))
            return APR_EGENERAL;
        if (earlier)
            *earlier = 1;
    }
    if (!imapi_word(&c, &s, &n) || c.p != c.end
        || eas_imap_uidset_parse(p, s, n, 0, &part) != APR_SUCCESS)
        return APR_EGENERAL;
    for (i = 0; i < part->ranges->nelts; i++)
        eas_imap_uidset_add(set, RANGE(part, i)->lo, RANGE(part, i)->hi);
    return APR_SUCCESS;
}

apr_status_t eas_imap_parse_date_time(const char *s, apr_size_t len, apr_time_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    apr_time_exp_t tm;
    char buf[32];
    int day, year, hh, mm, ss, zone, m, used = 0;
    char mon[4], sign;

    if (len >= sizeof(buf))
        return APR_EGENERAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (sscanf(buf, "%2d-%3s-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year, &hh, &mm, &ss,
               &sign, &zone, &used) != 8 || (size_t)used != len
        || (sign != '+' && sign != '-'))
        return APR_EGENERAL;
    for (m = 0; m < 12; m++)
        if (strncasecmp(mon, months + 3 * m, 3) == 0)
            break;
    if (m == 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zone % 100 > 59)
        return APR_EGENERAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_mday = day;
    tm.tm_mon = m;
    tm.tm_year = year - 1900;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    if (apr_time_exp_gmt_get(t, &tm) != APR_SUCCESS)
        return APR_EGENERAL;
    /* Local time = UTC + offset, so UTC = local - offset. */
    *t -= apr_time_from_sec((apr_time_t)(sign == '-' ? -1 : 1)
                            * ((zone / 100) * 3600 + (zone % 100) * 60));
    return APR_SUCCESS;
}

/* ---- Line ends -------------------------------------------------------- */

const char *imapi_crlf(apr_pool_t *p, const char *msg, apr_size_t len, apr_size_t *outlen)
{
    apr_size_t i, bare = 0;
    char *buf, *w;

    for (i = 0; i < len; i++)
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            bare++;
    *outlen = len + bare;
    if (!bare)
        return msg;
    w = buf = apr_palloc(p, len + bare);
    for (i = 0; i < len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            *w++ = '\r';
        *w++ = msg[i];
    }
    return buf;
}

/* ---- Modified UTF-7 (RFC 3501 5.1.3) ------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64val(char ch)
{
    const char *q = ch ? strchr(b64, ch) : NULL;
    return q ? (int)(q - b64) : -1;
}

static char *put_utf8(char *w, apr_uint32_t cp)
{
    if (cp < 0x80)
        *w++ = (char)cp;
    else if (cp < 0x800) {
        *w++ = (char)(0xC0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *w++ = (char)(0xF0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

apr_status_t eas_imap_mutf7_decode(apr_pool_t *p, const char *in, const char **out)
{
    /* 8 base64 chars carry 3 UTF-16 units, up to 9 bytes of UTF-8. */
    char *buf = apr_palloc(p, strlen(in) * 2 + 1), *w = buf;
    const char *s = in;

    while (*s) {
        unsigned char ch = (unsigned char)*s;
        if (ch != '&') {
            if (ch < 0x20 || ch > 0x7e)
                return APR_EINVAL;
            *w++ = *s++;
            continue;
        }
        s++;
        if (*s == '-') {
            *w++ = '&';
            s++;
            continue;
        }
        {
            apr_uint32_t bits = 0, high = 0;
            int nbits = 0, units = 0;
            while (*s && *s != '-') {
                int v = b64val(*s++);
                if (v < 0)
                    return APR_EINVAL;
                bits = (bits << 6) | (apr_uint32_t)v;
                nbits += 6;
                if (nbits >= 16) {
                    apr_uint32_t u = (bits >> (nbits - 16)) & 0xFFFF;
                    nbits -= 16;
                    units++;
                    if (high) {
                        if (u < 0xDC00 || u > 0xDFFF)
                            return APR_EINVAL;
                        w = put_utf8(w, 0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00));
                        high = 0;
                    }
                    else if (u >= 0xD800 && u <= 0xDBFF)
                        high = u;
                    else if (u >= 0xDC00 && u <= 0xDFFF)
                        return APR_EINVAL;
                    /* Printable ASCII must not be encoded (RFC 3501). */
                    else if (u >= 0x20 && u <= 0x7e)
                        return APR_EINVAL;
                    else
                        w = put_utf8(w, u);
                }
            }
            /* Unterminated, empty, half a surrogate or non-zero padding. */
            if (*s != '-' || !units || high || nbits >= 6
                || (bits & ((1u << nbits) - 1)))
                return APR_EINVAL;
            s++;
        }
    }
    *w = '\0';
    *out = buf;
    return APR_SUCCESS;
}

/* Next code point of valid UTF-8, or -1. */
static long next_cp(const unsigned char **sp)
{
    const unsigned char *s = *sp;
    long cp;
    int n, i;

    if (s[0] < 0x80) {
        *sp = s + 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0)
        cp = s[0] & 0x1F, n = 1;
    else if ((s[0] & 0xF0) == 0xE0)
        cp = s[0] & 0x0F, n = 2;
    else if ((s[0] & 0xF8) == 0xF0)
        cp = s[0] & 0x07, n = 3;
    else
        return -1;
    for (i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, surrogates, beyond Unicode. */
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
        || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return -1;
    *sp = s + n + 1;
    return cp;
}

apr_status_t eas_imap_mutf7_encode(apr_pool_t *p, const char *in, const char **out)
{
    /* Worst case: every code point alone in a run, 4 bytes of UTF-8 ->
     * "&" + 6 base64 + "-" ... bounded by 3x the input plus slack. */
    char *buf = apr_palloc(p, strlen(in) * 3 + 4), *w = buf;
    const unsigned char *s = (const unsigned char *)in;
    apr_uint32_t bits = 0;
    int nbits = 0, inrun = 0;

    for (;;) {
        long cp = *s ? next_cp(&s) : 0;
        if (cp < 0)
            return APR_EINVAL;
        if (cp == 0 || (cp >= 0x20 && cp <= 0x7e)) {
            if (inrun) {
                if (nbits)
                    *w++ = b64[(bits << (6 - nbits)) & 0x3F];
                *w++ = '-';
                inrun = 0;
                nbits = 0;
                bits = 0;
            }
            if (cp == 0)
                break;
            *w++ = (char)cp;
            if (cp == '&')
                *w++ = '-';
            continue;
        }
        if (!inrun) {
            *w++ = '&';
            inrun = 1;
        }
        {
            apr_uint32_t units[2];
            int nu = 1, i;
            if (cp >= 0x10000) {
                units[0] = 0xD800 + (((apr_uint32_t)cp - 0x10000) >> 10);
                units[1] = 0xDC00 + (((apr_uint32_t)cp - 0x10000) & 0x3FF);
                nu = 2;
            }
            else
                units[0] = (apr_uint32_t)cp;
            for (i = 0; i < nu; i++) {
                bits = (bits << 16) | units[i];
                nbits += 16;
                while (nbits >= 6) {
                    *w++ = b64[(bits >> (nbits - 6)) & 0x3F];
                    nbits -= 6;
                }
                bits &= (1u << nbits) - 1;
            }
        }
    }
    *w = '\0';
    *out = buf;
    return APR_SUCCESS;
}
