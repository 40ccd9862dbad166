/*
 * Internals shared by eas_imap_parse.c and eas_imap.c: a cursor over one
 * IMAP response line and the status-response parser.  Not installed; the
 * names carry no eas_ prefix so the library does not export them.
 */
#ifndef EAS_IMAP_INT_H
#define EAS_IMAP_INT_H

#include "eas_imap.h"

/* A cursor over one response line; literals appear inline as
 * "{n}\r\n" followed by n raw bytes. */
typedef struct imapi_cur_t {
    const char *p, *end;
} imapi_cur_t;

/* Sets up c over line, without its trailing CRLF. */
void imapi_cur_init(imapi_cur_t *c, const char *line, apr_size_t len);
/* Skips spaces; true if there was at least one. */
int imapi_sp(imapi_cur_t *c);
/* Consumes ch if it is next. */
int imapi_eat(imapi_cur_t *c, char ch);
/* An atom-like token: up to SP ( ) [ ] " { or the end.  False if empty. */
int imapi_word(imapi_cur_t *c, const char **s, apr_size_t *n);
/* True if the next token is the atom kw (case-insensitive); consumes it. */
int imapi_keyword(imapi_cur_t *c, const char *kw);
int imapi_number(imapi_cur_t *c, apr_uint64_t *v);
int imapi_number32(imapi_cur_t *c, apr_uint32_t *v);
/* A quoted string, a literal or (astring) an atom, copied into p; NIL is
 * returned as NULL when nil_ok. */
int imapi_string(imapi_cur_t *c, apr_pool_t *p, int nil_ok, const char **s, apr_size_t *n);
/* Skips one value of any kind, nested lists included. */
int imapi_skip_value(imapi_cur_t *c);

/* Kinds of response lines. */
typedef enum {
    IMAPI_DATA = 0,     /* untagged data: "* 3 EXISTS", "* LIST ..." */
    IMAPI_OK, IMAPI_NO, IMAPI_BAD, IMAPI_BYE, IMAPI_PREAUTH,
    IMAPI_CONT          /* "+ ..." */
} imapi_kind_e;

typedef struct imapi_resp_t {
    imapi_kind_e kind;
    const char *tag;            /* NULL when untagged */
    apr_size_t taglen;
    int has_num;
    apr_uint32_t num;           /* "* 3 EXISTS" */
    const char *name;           /* data keyword ("EXISTS", "LIST") or status word */
    apr_size_t namelen;
    const char *code;           /* response code name inside [...] or NULL */
    apr_size_t codelen;
    const char *codeargs;       /* the rest of the code up to ']' */
    apr_size_t codeargslen;
    const char *text;           /* human-readable text after the code */
    apr_size_t textlen;
    const char *rest;           /* data after the keyword (IMAPI_DATA) */
    apr_size_t restlen;
} imapi_resp_t;

/* Splits a response line (CRLF optional); false if it is not one. */
int imapi_parse_resp(const char *line, apr_size_t len, imapi_resp_t *r);
/* True if the token (s, n) equals kw, ignoring case. */
int imapi_is(const char *s, apr_size_t n, const char *kw);

/* CAPABILITY words -> EAS_IMAP_CAP_* bits. */
unsigned int imapi_parse_caps(const char *s, apr_size_t len);
/* "[COPYUID v src dst]" / "[APPENDUID v uid]" arguments. */
apr_status_t imapi_parse_copyuid(apr_pool_t *p, const char *args, apr_size_t len,
                                 eas_imap_copyuid_t *map);
/* The system flag bit of "\Seen" etc., 0 for keywords. */
unsigned int imapi_flag_bit(const char *s, apr_size_t n);
/* True if s can be sent as a flag keyword (an IMAP atom, no backslash). */
int imapi_keyword_ok(const char *s);

/* msg with every bare LF made CRLF, as IMAP (RFC 3501 4.3) and SMTP
 * (RFC 5321 2.3.8) want; msg itself when there is none. */
const char *imapi_crlf(apr_pool_t *p, const char *msg, apr_size_t len, apr_size_t *outlen);

#endif
