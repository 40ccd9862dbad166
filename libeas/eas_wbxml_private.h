/*
 * Shared between the WBXML codec and its tables; not installed.
 */
#ifndef EAS_WBXML_PRIVATE_H
#define EAS_WBXML_PRIVATE_H

#include "eas_wbxml.h"

#include <apr.h>

/* A page byte is 8 bits, but only EAS_CODEPAGE_COUNT pages exist; the
 * table is rounded up so a page number below 32 can index it unchecked. */
#define WBXML_PAGE_SLOTS 32

/* Bit t of wbxml_known_tokens[page] is set when the page defines token t. */
extern const uint64_t wbxml_known_tokens[WBXML_PAGE_SLOTS];

static APR_INLINE int wbxml_tag_known(eas_tag_t tag)
{
    unsigned page = EAS_TAG_PAGE(tag), token = (unsigned)tag & 0xff;

    return page < WBXML_PAGE_SLOTS && token < 64
        && (wbxml_known_tokens[page] >> token & 1);
}

#endif
