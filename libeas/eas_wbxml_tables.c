/*
 * Names of the EAS code pages and tokens, built from eas_codepages.def
 * (MS-ASWBXML 2.1.2.1), and the lookups between names and tags.
 */
#include "eas_wbxml_private.h"

#include <string.h>

static const char *const page_ns[EAS_CODEPAGE_COUNT] = {
#define EAS_PAGE(num, id, ns) [num] = ns,
#define EAS_TOKEN(page, id, token, name)
#include "eas_codepages.def"
#undef EAS_PAGE
#undef EAS_TOKEN
};

static const char *const tag_names[EAS_CODEPAGE_COUNT][64] = {
#define EAS_PAGE(num, id, ns)
#define EAS_TOKEN(page, id, token, name) [page][token] = #name,
#include "eas_codepages.def"
#undef EAS_PAGE
#undef EAS_TOKEN
};

/* One bit per defined token, so the decoder checks a tag with a shift. */
const uint64_t wbxml_known_tokens[WBXML_PAGE_SLOTS] = {
    [WBXML_PAGE_SLOTS - 1] = 0
#define EAS_PAGE(num, id, ns) , [num] = 0
#define EAS_TOKEN(page, id, token, name) | (UINT64_C(1) << (token))
#include "eas_codepages.def"
#undef EAS_PAGE
#undef EAS_TOKEN
};

/* Spellings other Microsoft documents use for the same token (see the
 * notes' "Names" section); accepted on input, never written. */
static const struct {
    eas_tag_t tag;
    const char *name;
} alt_names[] = {
    {EAS_Find_GalSearchCriterion, "GALSearchCriterion"},   /* MS-ASCMD 2.2.3.82 */
    {EAS_ComposeMail_Name, "ForwardeeName"},                /* MS-ASWBXML test suite */
    {EAS_ComposeMail_Email, "ForwardeeEmail"},
};

/* Elements whose type is "byte array", which MS-ASDTYPE 2.7.1 says MUST be
 * sent as WBXML opaque data. */
static const eas_tag_t opaque_tags[] = {
    EAS_ResolveRecipients_Data,
    EAS_Search_ConversationId,
    EAS_GAL_Data,                    /* MS-ASCMD 2.2.3.39.1 */
    EAS_AirSyncBase_Content,
    EAS_ItemOperations_ConversationId,
    EAS_ComposeMail_Mime,            /* MS-ASCMD 2.2.3.109 */
    EAS_Email2_ConversationId,
    EAS_Email2_ConversationIndex,
};

const char *eas_wbxml_page_ns(unsigned page)
{
    return page < EAS_CODEPAGE_COUNT ? page_ns[page] : NULL;
}

int eas_wbxml_page_by_ns(const char *ns, apr_size_t len)
{
    unsigned i;

    if (!ns)
        return -1;
    if (len && ns[len - 1] == ':')
        --len;
    for (i = 0; i < EAS_CODEPAGE_COUNT; ++i) {
        if (strlen(page_ns[i]) == len && memcmp(page_ns[i], ns, len) == 0)
            return (int)i;
    }
    return -1;
}

const char *eas_wbxml_tag_name(eas_tag_t tag)
{
    unsigned page = EAS_TAG_PAGE(tag), token = (unsigned)tag & 0xff;

    if (page >= EAS_CODEPAGE_COUNT || token >= 64)
        return NULL;
    return tag_names[page][token];
}

eas_tag_t eas_wbxml_tag_by_name(unsigned page, const char *name, apr_size_t len)
{
    unsigned t;
    apr_size_t i;

    if (page >= EAS_CODEPAGE_COUNT || !name || !len)
        return EAS_TAG_NONE;
    for (t = 5; t < 64; ++t) {
        const char *n = tag_names[page][t];
        if (n && n[0] == name[0] && strlen(n) == len && memcmp(n, name, len) == 0)
            return EAS_TAG(page, t);
    }
    for (i = 0; i < sizeof(alt_names) / sizeof(alt_names[0]); ++i) {
        const char *n = alt_names[i].name;
        if (EAS_TAG_PAGE(alt_names[i].tag) == page && strlen(n) == len
            && memcmp(n, name, len) == 0)
            return alt_names[i].tag;
    }
    return EAS_TAG_NONE;
}

int eas_wbxml_tag_opaque(eas_tag_t tag)
{
    apr_size_t i;

    for (i = 0; i < sizeof(opaque_tags) / sizeof(opaque_tags[0]); ++i) {
        if (opaque_tags[i] == tag)
            return 1;
    }
    return 0;
}
