/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF.  For checking text that goes into XML and JSON.
 */
#ifndef EAS_UTF8_H
#define EAS_UTF8_H

#include <apr.h>

/* Decodes the character at s (len bytes available) into *cp; returns its
 * length in bytes, or 0 if s does not start with a valid character. */
apr_size_t eas_utf8_next(const unsigned char *s, apr_size_t len, apr_uint32_t *cp);
/* Non-zero when all len bytes are valid UTF-8. */
int eas_utf8_valid(const char *s, apr_size_t len);

#endif
