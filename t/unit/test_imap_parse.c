/*
 * The IMAP response parsers, UID sets and modified UTF-7, without a server.
 * Built with eas_imap_parse.c itself so the internal helpers (imapi_*) can
 * be tested too.
 */
#include "tap.h"
#include "eas_imap_int.h"

#include <apr_general.h>
#include <apr_strings.h>

static apr_pool_t *p;

#define L(s) (s), (sizeof(s) - 1)

static const char *fmt(const eas_imap_uidset_t *set)
{
    return eas_imap_uidset_format(p, set);
}

static void test_uidset(void)
{
    eas_imap_uidset_t *s = eas_imap_uidset_make(p), *t;

    eas_imap_uidset_add(s, 5, 7);
    eas_imap_uidset_add(s, 1, 1);
    eas_imap_uidset_add(s, 10, 12);
    is_str(fmt(s), "1,5:7,10:12", "uidset: out-of-order adds stay sorted");
    eas_imap_uidset_add(s, 8, 9);
    is_str(fmt(s), "1,5:12", "uidset: an adjacent range merges both neighbours");
    eas_imap_uidset_add(s, 3, 2);
    is_str(fmt(s), "1:3,5:12", "uidset: reversed bounds, merged with 1");
    eas_imap_uidset_add(s, 2, 20);
    is_str(fmt(s), "1:20", "uidset: a covering range swallows everything");
    is_int(eas_imap_uidset_count(s), 20, "uidset: count");
    ok(eas_imap_uidset_contains(s, 20) && !eas_imap_uidset_contains(s, 21)
       && !eas_imap_uidset_contains(s, 0), "uidset: contains at the edges");

    ok(eas_imap_uidset_parse(p, L("4,1:2,9:*"), 12, &t) == APR_SUCCESS
       && !strcmp(fmt(t), "1:2,4,9:12"), "uidset: parse with '*'");
    ok(eas_imap_uidset_parse(p, L("7:3"), 0, &t) == APR_SUCCESS && !strcmp(fmt(t), "3:7"),
       "uidset: parse a reversed range");
    ok(eas_imap_uidset_parse(p, L("1:*"), 0, &t) != APR_SUCCESS, "uidset: '*' refused when unknown");
    ok(eas_imap_uidset_parse(p, L("1,,2"), 0, &t) != APR_SUCCESS, "uidset: empty element refused");
    ok(eas_imap_uidset_parse(p, L("0"), 0, &t) != APR_SUCCESS, "uidset: UID 0 refused");
    ok(eas_imap_uidset_parse(p, L("4294967296"), 0, &t) != APR_SUCCESS,
       "uidset: beyond 32 bits refused");
    ok(eas_imap_uidset_parse(p, L("3,"), 0, &t) != APR_SUCCESS, "uidset: trailing comma refused");
    ok(eas_imap_uidset_parse(p, L("4294967295"), 0, &t) == APR_SUCCESS
       && eas_imap_uidset_contains(t, 4294967295u), "uidset: the largest UID");

    eas_imap_uidset_parse(p, L("3:5,9"), 0, &t);
    is_str(fmt(eas_imap_uidset_complement(p, t, 1, 12)), "1:2,6:8,10:12", "uidset: complement");
    is_str(fmt(eas_imap_uidset_complement(p, t, 4, 9)), "6:8", "uidset: complement inside");
    is_str(fmt(eas_imap_uidset_complement(p, t, 1, 4294967295u)), "1:2,6:8,10:4294967295",
           "uidset: complement up to the largest UID");
    is_int(eas_imap_uidset_members(p, t)->nelts, 4, "uidset: members");
    is_str(fmt(eas_imap_uidset_make(p)), "", "uidset: empty formats as nothing");
}

static void test_list(void)
{
    eas_imap_mailbox_t mb;

    ok(eas_imap_parse_list(p, L("* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"), &mb)
       == APR_SUCCESS, "LIST: plain line");
    is_str(mb.name, "Sent", "LIST: name");
    is_int(mb.delim, '/', "LIST: delimiter");
    is_int(mb.attrs, EAS_IMAP_MBX_HASNOCHILDREN | EAS_IMAP_MBX_SENT, "LIST: attributes");

    ok(eas_imap_parse_list(p, L("* LIST (\\Noselect \\HasChildren) \".\" \"My \\\"quoted\\\" "
                                "folder\""), &mb) == APR_SUCCESS
       && !strcmp(mb.name, "My \"quoted\" folder") && mb.delim == '.'
       && (mb.attrs & EAS_IMAP_MBX_NOSELECT), "LIST: quoted name with escapes, \\Noselect");
    ok(eas_imap_parse_list(p, L("* LIST () NIL inbox"), &mb) == APR_SUCCESS && mb.delim == 0
       && !strcmp(mb.name, "INBOX"), "LIST: NIL delimiter, INBOX in one spelling");
    ok(eas_imap_parse_list(p, L("* LIST (\\HasNoChildren) \"/\" \"Entw&APw-rfe/&ZeVnLIqe-\""),
                           &mb) == APR_SUCCESS
       && !strcmp(mb.name, "Entwürfe/日本語") && !strcmp(mb.wire, "Entw&APw-rfe/&ZeVnLIqe-"),
       "LIST: modified UTF-7 decoded, wire form kept");
    ok(eas_imap_parse_list(p, L("* LIST (\\Drafts \\Subscribed) \"/\" {6}\r\nDr aft"), &mb)
       == APR_SUCCESS && !strcmp(mb.name, "Dr aft")
       && mb.attrs == (EAS_IMAP_MBX_DRAFTS | EAS_IMAP_MBX_SUBSCRIBED),
       "LIST: a name sent as a literal");
    ok(eas_imap_parse_list(p, L("* LIST (\\Trash \\Junk \\Archive \\All \\Flagged) \"/\" X "
                                "(\"CHILDINFO\" (\"SUBSCRIBED\"))"), &mb) == APR_SUCCESS
       && mb.attrs == (EAS_IMAP_MBX_TRASH | EAS_IMAP_MBX_JUNK | EAS_IMAP_MBX_ARCHIVE
                       | EAS_IMAP_MBX_ALL | EAS_IMAP_MBX_FLAGGED),
       "LIST: every special use, extended data ignored");
    ok(eas_imap_parse_list(p, L("* LIST (\\NonExistent) \"/\" gone"), &mb) == APR_SUCCESS
       && (mb.attrs & EAS_IMAP_MBX_NOSELECT), "LIST: \\NonExistent implies \\Noselect");
    ok(eas_imap_parse_list(p, L("* LIST (\\Sent \"/\" Sent"), &mb) != APR_SUCCESS,
       "LIST: unbalanced attributes refused");
    ok(eas_imap_parse_list(p, L("* LIST () \"//\" x"), &mb) != APR_SUCCESS,
       "LIST: two-character delimiter refused");
    ok(eas_imap_parse_list(p, L("* LSUB () \"/\" x"), &mb) != APR_SUCCESS, "LIST: LSUB is not LIST");
    ok(eas_imap_parse_list(p, L("* LIST () \"/\" {10}\r\nabc"), &mb) != APR_SUCCESS,
       "LIST: a truncated literal refused");
}

static void test_status(void)
{
    eas_imap_status_t st;
    const char *name;

    ok(eas_imap_parse_status(p, L("* STATUS \"Sent Items\" (MESSAGES 231 UIDNEXT 44292 "
                                  "UIDVALIDITY 1795321548 UNSEEN 3 HIGHESTMODSEQ "
                                  "18446744073709551615)\r\n"), &name, &st) == APR_SUCCESS,
       "STATUS: parsed");
    is_str(name, "Sent Items", "STATUS: quoted name");
    is_int(st.messages, 231, "STATUS: MESSAGES");
    is_int(st.uidnext, 44292, "STATUS: UIDNEXT");
    is_int(st.uidvalidity, 1795321548u, "STATUS: UIDVALIDITY");
    is_int(st.unseen, 3, "STATUS: UNSEEN");
    ok(st.highestmodseq == APR_UINT64_C(18446744073709551615), "STATUS: 64-bit HIGHESTMODSEQ");
    is_int(st.have, 0x1f, "STATUS: every item flagged present");
    ok(eas_imap_parse_status(p, L("* STATUS INBOX (MESSAGES 2)"), &name, &st) == APR_SUCCESS
       && st.have == EAS_IMAP_ST_MESSAGES && st.uidnext == 0, "STATUS: only what was sent");
    ok(eas_imap_parse_status(p, L("* STATUS &ZeVnLIqe- ()"), &name, &st) == APR_SUCCESS
       && !strcmp(name, "日本語"), "STATUS: atom name decoded");
    ok(eas_imap_parse_status(p, L("* STATUS INBOX (UIDNEXT 4294967296)"), &name, &st)
       != APR_SUCCESS, "STATUS: 33-bit UIDNEXT refused");
    ok(eas_imap_parse_status(p, L("* STATUS INBOX (MESSAGES x)"), &name, &st) != APR_SUCCESS,
       "STATUS: non-number refused");
}

static void test_fetch(void)
{
    eas_imap_msg_t m;
    apr_time_exp_t tm;

    ok(eas_imap_parse_fetch(p, L("* 12 FETCH (UID 5 FLAGS (\\Seen \\Flagged $Forwarded Work) "
                                 "MODSEQ (90210) INTERNALDATE \" 1-Feb-2024 10:30:00 +0100\" "
                                 "RFC822.SIZE 4711)\r\n"), &m) == APR_SUCCESS,
       "FETCH: parsed");
    is_int(m.seq, 12, "FETCH: sequence number");
    is_int(m.uid, 5, "FETCH: UID");
    is_int(m.flags, EAS_IMAP_SEEN | EAS_IMAP_FLAGGED, "FETCH: system flags");
    ok(m.keywords && m.keywords->nelts == 2
       && !strcmp(APR_ARRAY_IDX(m.keywords, 0, const char *), "$Forwarded")
       && !strcmp(APR_ARRAY_IDX(m.keywords, 1, const char *), "Work"), "FETCH: keywords");
    ok(m.modseq == 90210, "FETCH: MODSEQ");
    apr_time_exp_gmt(&tm, m.internaldate);
    ok(tm.tm_mday == 1 && tm.tm_mon == 1 && tm.tm_year == 124 && tm.tm_hour == 9
       && tm.tm_min == 30, "FETCH: INTERNALDATE in UTC");
    ok(m.size == 4711, "FETCH: RFC822.SIZE");
    is_int(m.have, EAS_IMAP_F_FLAGS | EAS_IMAP_F_MODSEQ | EAS_IMAP_F_INTERNALDATE
           | EAS_IMAP_F_SIZE, "FETCH: items present");

    ok(eas_imap_parse_fetch(p, L("* 1 FETCH (BODY[HEADER.FIELDS (FROM TO)]<0> {12}\r\n"
                                 "From: a\r\n)\r\n UID 7 ENVELOPE (NIL \"x\" ((NIL NIL \"a\" "
                                 "\"b\")) NIL) FLAGS ())"), &m) == APR_SUCCESS
       && m.uid == 7 && m.flags == 0 && !m.keywords,
       "FETCH: a literal holding ')' and nested lists are skipped");
    ok(eas_imap_parse_fetch(p, L("* 3 FETCH (FLAGS (\\Deleted \\Answered \\Draft \\Recent))"), &m)
       == APR_SUCCESS && m.uid == 0 && m.flags == (EAS_IMAP_DELETED | EAS_IMAP_ANSWERED
                                                   | EAS_IMAP_DRAFT | EAS_IMAP_RECENT),
       "FETCH: unsolicited update without UID");
    ok(eas_imap_parse_fetch(p, L("* 3 FETCH (UID 0)"), &m) != APR_SUCCESS, "FETCH: UID 0 refused");
    ok(eas_imap_parse_fetch(p, L("* 3 FETCH (UID 4 MODSEQ 9)"), &m) != APR_SUCCESS,
       "FETCH: MODSEQ without parentheses refused");
    ok(eas_imap_parse_fetch(p, L("* 3 FETCH (UID 4 FLAGS (\\Seen)"), &m) != APR_SUCCESS,
       "FETCH: unterminated list refused");
    ok(eas_imap_parse_fetch(p, L("* 3 FETCH (INTERNALDATE \"31-Foo-2024 00:00:00 +0000\")"), &m)
       != APR_SUCCESS, "FETCH: bad month refused");
}

static void test_search(void)
{
    eas_imap_uidset_t *s = eas_imap_uidset_make(p);
    apr_uint64_t n;

    ok(eas_imap_parse_search(p, L("* SEARCH 9 2 3 4 (MODSEQ 917162500)\r\n"), s, &n)
       == APR_SUCCESS && n == 4 && !strcmp(fmt(s), "2:4,9"), "SEARCH: numbers and MODSEQ");
    s = eas_imap_uidset_make(p);
    ok(eas_imap_parse_search(p, L("* SEARCH"), s, &n) == APR_SUCCESS && n == 0
       && !s->ranges->nelts, "SEARCH: no hits");
    s = eas_imap_uidset_make(p);
    ok(eas_imap_parse_search(p, L("* ESEARCH (TAG \"A285\") UID ALL 2,10:11 COUNT 3 MIN 2"), s, &n)
       == APR_SUCCESS && n == 3 && !strcmp(fmt(s), "2,10:11"), "ESEARCH: ALL and COUNT");
    s = eas_imap_uidset_make(p);
    ok(eas_imap_parse_search(p, L("* ESEARCH (TAG \"C5\") UID"), s, &n) == APR_SUCCESS && n == 0,
       "ESEARCH: no hits");
    ok(eas_imap_parse_search(p, L("* SEARCH 1 x"), s, &n) != APR_SUCCESS, "SEARCH: garbage refused");
    ok(eas_imap_parse_search(p, L("* ESEARCH UID ALL 1:"), s, &n) != APR_SUCCESS,
       "ESEARCH: bad set refused");
}

static void test_vanished(void)
{
    eas_imap_uidset_t *s = eas_imap_uidset_make(p);
    int earlier;

    ok(eas_imap_parse_vanished(p, L("* VANISHED (EARLIER) 300:310,405,411\r\n"), s, &earlier)
       == APR_SUCCESS && earlier && !strcmp(fmt(s), "300:310,405,411"), "VANISHED (EARLIER)");
    ok(eas_imap_parse_vanished(p, L("* VANISHED 412"), s, &earlier) == APR_SUCCESS && !earlier
       && !strcmp(fmt(s), "300:310,405,411:412"), "VANISHED: adds to the set");
    ok(eas_imap_parse_vanished(p, L("* VANISHED (LATER) 1"), s, &earlier) != APR_SUCCESS,
       "VANISHED: unknown modifier refused");
}

static void test_dates(void)
{
    apr_time_t t;
    apr_time_exp_t tm;

    ok(eas_imap_parse_date_time(L("17-Jul-1996 02:44:25 -0700"), &t) == APR_SUCCESS, "date: RFC example");
    apr_time_exp_gmt(&tm, t);
    ok(tm.tm_hour == 9 && tm.tm_min == 44 && tm.tm_mday == 17, "date: converted to UTC");
    ok(eas_imap_parse_date_time(L("17-Jul-1996 02:44:25"), &t) != APR_SUCCESS, "date: zone required");
    ok(eas_imap_parse_date_time(L("17-Jul-1996 25:44:25 +0000"), &t) != APR_SUCCESS,
       "date: bad hour refused");
}

static void test_mutf7(void)
{
    const char *out;

    ok(eas_imap_mutf7_decode(p, "~peter/mail/&U,BTFw-/&ZeVnLIqe-", &out) == APR_SUCCESS
       && !strcmp(out, "~peter/mail/台北/日本語"), "mUTF-7: RFC 3501 example decodes");
    ok(eas_imap_mutf7_encode(p, "~peter/mail/台北/日本語", &out) == APR_SUCCESS
       && !strcmp(out, "~peter/mail/&U,BTFw-/&ZeVnLIqe-"), "mUTF-7: and encodes back");
    ok(eas_imap_mutf7_encode(p, "Tom & Jerry", &out) == APR_SUCCESS
       && !strcmp(out, "Tom &- Jerry"), "mUTF-7: '&' encodes as &-");
    ok(eas_imap_mutf7_decode(p, "Tom &- Jerry", &out) == APR_SUCCESS
       && !strcmp(out, "Tom & Jerry"), "mUTF-7: &- decodes");
    ok(eas_imap_mutf7_encode(p, "Entwürfe", &out) == APR_SUCCESS && !strcmp(out, "Entw&APw-rfe"),
       "mUTF-7: Latin-1 letter");
    ok(eas_imap_mutf7_encode(p, "\xF0\x9F\x98\x80", &out) == APR_SUCCESS
       && !strcmp(out, "&2D3eAA-"), "mUTF-7: outside the BMP as a surrogate pair");
    ok(eas_imap_mutf7_decode(p, "&2D3eAA-", &out) == APR_SUCCESS
       && !strcmp(out, "\xF0\x9F\x98\x80"), "mUTF-7: surrogate pair decodes");
    ok(eas_imap_mutf7_encode(p, "a\tb", &out) == APR_SUCCESS && !strcmp(out, "a&AAk-b"),
       "mUTF-7: control characters are encoded, never sent raw");
    ok(eas_imap_mutf7_encode(p, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5\xE6\x9C\xAC"
                             "\xE8\xAA\x9E", &out) == APR_SUCCESS
       && eas_imap_mutf7_decode(p, out, &out) == APR_SUCCESS
       && !strcmp(out, "日本語日本語"), "mUTF-7: a long run round-trips");
    ok(eas_imap_mutf7_decode(p, "&U,BTFw", &out) != APR_SUCCESS, "mUTF-7: unterminated refused");
    ok(eas_imap_mutf7_decode(p, "&AGE-", &out) != APR_SUCCESS, "mUTF-7: encoded ASCII refused");
    ok(eas_imap_mutf7_decode(p, "&2D0-", &out) != APR_SUCCESS, "mUTF-7: half a surrogate refused");
    ok(eas_imap_mutf7_decode(p, "&U!B-", &out) != APR_SUCCESS, "mUTF-7: bad base64 refused");
    ok(eas_imap_mutf7_decode(p, "caf\xC3\xA9", &out) != APR_SUCCESS, "mUTF-7: raw 8-bit refused");
    ok(eas_imap_mutf7_encode(p, "bad\xC3", &out) != APR_SUCCESS, "mUTF-7: invalid UTF-8 refused");
    ok(eas_imap_mutf7_encode(p, "\xC0\xAF", &out) != APR_SUCCESS, "mUTF-7: overlong UTF-8 refused");
    ok(eas_imap_mutf7_encode(p, "\xED\xA0\x80", &out) != APR_SUCCESS,
       "mUTF-7: UTF-8 encoded surrogate refused");
}

static void test_internals(void)
{
    imapi_resp_t r;
    eas_imap_copyuid_t map;

    ok(imapi_parse_resp(L("A004 NO [NONEXISTENT] Mailbox doesn't exist: Foo\r\n"), &r)
       && r.kind == IMAPI_NO && r.taglen == 4 && imapi_is(r.code, r.codelen, "NONEXISTENT")
       && r.textlen == 26, "resp: tagged NO with a code");
    ok(imapi_parse_resp(L("* OK [UIDVALIDITY 1795321548] UIDs valid"), &r) && !r.tag
       && r.kind == IMAPI_OK && imapi_is(r.code, r.codelen, "UIDVALIDITY")
       && r.codeargslen == 10, "resp: untagged OK with code arguments");
    ok(imapi_parse_resp(L("* 40000 EXISTS"), &r) && r.kind == IMAPI_DATA && r.has_num
       && r.num == 40000 && imapi_is(r.name, r.namelen, "EXISTS"), "resp: numbered data");
    ok(imapi_parse_resp(L("+ OK"), &r) && r.kind == IMAPI_CONT, "resp: continuation");
    ok(!imapi_parse_resp(L(")"), &r), "resp: a lone ')' is not a response");
    ok(!imapi_parse_resp(L("A1 FOO bar"), &r), "resp: tagged lines are status responses only");
    is_int(imapi_parse_caps(L("IMAP4rev1 qresync MOVE SPECIAL-USE UIDPLUS LITERAL+")),
           EAS_IMAP_CAP_QRESYNC | EAS_IMAP_CAP_CONDSTORE | EAS_IMAP_CAP_MOVE
           | EAS_IMAP_CAP_SPECIAL_USE | EAS_IMAP_CAP_UIDPLUS, "caps: QRESYNC implies CONDSTORE");
    ok(imapi_parse_copyuid(p, L("38505 304,319:320 3956:3958"), &map) == APR_SUCCESS
       && map.uidvalidity == 38505 && map.src->nelts == 3
       && APR_ARRAY_IDX(map.src, 1, apr_uint32_t) == 319
       && APR_ARRAY_IDX(map.dst, 1, apr_uint32_t) == 3957, "COPYUID: pairs");
    ok(imapi_parse_copyuid(p, L("7 5,3 10:11"), &map) == APR_SUCCESS
       && APR_ARRAY_IDX(map.src, 0, apr_uint32_t) == 5
       && APR_ARRAY_IDX(map.dst, 0, apr_uint32_t) == 10, "COPYUID: pairs in written order");
    ok(imapi_parse_copyuid(p, L("38505 3955"), &map) == APR_SUCCESS && map.dst->nelts == 1
       && APR_ARRAY_IDX(map.dst, 0, apr_uint32_t) == 3955, "APPENDUID");
    ok(imapi_parse_copyuid(p, L("1 1:3 4"), &map) != APR_SUCCESS, "COPYUID: unequal sets refused");
    ok(imapi_keyword_ok("$Forwarded") && !imapi_keyword_ok("\\Seen") && !imapi_keyword_ok("a b")
       && !imapi_keyword_ok("a(b") && !imapi_keyword_ok("") && !imapi_keyword_ok("caf\xC3\xA9"),
       "keywords: atoms only");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_uidset();
    test_list();
    test_status();
    test_fetch();
    test_search();
    test_vanished();
    test_dates();
    test_mutf7();
    test_internals();
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
