/*
 * Device security policies (MS-ASPROV 2.2.2): the settings, their types,
 * ranges and the protocol version that introduced each; a policy object
 * built from (name, value) text pairs as they are stored in SQL; the two
 * document forms served by Provision — the EASProvisionDoc element for
 * 12.0+ (emitted into a WBXML writer) and the MS-WAP-Provisioning-XML text
 * for 2.5 — and the policy key derived from the document.
 *
 * Versions are the integers of eas_protocol.h (25, 120, 121, ... 161).
 *
 * Semantics:
 * - An unset setting is served with its default, which is what a client
 *   assumes when the element is absent (no restriction).  Every setting a
 *   version knows is always written, so a setting an administrator unsets
 *   is unset on the device too (MS-ASPROV 3.2.5.1.1).
 * - Values are normalised on eas_policy_set(): booleans "0"/"1", integers
 *   in plain decimal, lists as entries joined by "\n".  What
 *   eas_policy_value() returns is what the lead stores and what is served.
 * - Only eas_policy_set() allocates from the policy's pool; everything else
 *   just reads the policy, so a policy no longer changed can be shared by
 *   threads (e.g. cached per process).
 */
#ifndef EAS_POLICY_H
#define EAS_POLICY_H

#include <apr_pools.h>
#include "eas_wbxml.h"

typedef enum {
    EAS_POLICY_BOOL,    /* "0" or "1" (set also accepts "true"/"false") */
    EAS_POLICY_INT,     /* decimal in [min, max]; "" allowed when empty_ok */
    EAS_POLICY_ENUM,    /* one of the values in the allowed mask */
    EAS_POLICY_LIST     /* entries, one per line; "" is the empty list */
} eas_policy_type_e;

typedef struct eas_policy_setting_t {
    const char *name;          /* MS-ASPROV element name, e.g. "AllowBluetooth" */
    const char *section;       /* MS-ASPROV section, e.g. "2.2.2.2" */
    eas_tag_t tag;             /* element on code page 14 */
    eas_tag_t item_tag;        /* LIST: element of one entry (Hash, ApplicationName) */
    eas_policy_type_e type;
    int min_version;           /* first version whose EASProvisionDoc has it */
    apr_int64_t min, max;        /* INT: inclusive range */
    unsigned allowed;          /* ENUM: bit v set when value v is valid */
    int empty_ok;              /* INT: "" is valid ("no limit", the ...OrEmpty types) */
    const char *def;           /* value served when unset */
    int wap25;                 /* feeds the 2.5 MS-WAP-Provisioning-XML document */
} eas_policy_setting_t;

/* Every EASProvisionDoc setting, in the order the document carries them. */
extern const eas_policy_setting_t eas_policy_settings[];
extern const int eas_policy_setting_count;

/* Setting by name (case-insensitive; "AllowWifi" finds "AllowWiFi"), NULL if none. */
const eas_policy_setting_t *eas_policy_setting_find(const char *name);
/* Non-zero when the EASProvisionDoc of version carries the setting. */
int eas_policy_setting_in_version(const eas_policy_setting_t *s, int version);

/* AccountOnlyRemoteWipe (MS-ASPROV 2.2.2.1) is a Provision element, not a
 * policy setting; it exists from this version on. */
#define EAS_PROVISION_ACCOUNT_ONLY_WIPE_VERSION 161

/* PolicyType for a version (MS-ASPROV 2.2.2.43): "MS-WAP-Provisioning-XML"
 * for 2.5, "MS-EAS-Provisioning-WBXML" for 12.0 and later. */
const char *eas_policy_type_for_version(int version);

typedef struct eas_policy_t eas_policy_t;

/* A policy with every setting unset (served as the spec defaults: no restrictions). */
eas_policy_t *eas_policy_create(apr_pool_t *p);

typedef enum {
    EAS_POLICY_OK = 0,
    EAS_POLICY_E_NAME,      /* no such setting */
    EAS_POLICY_E_VALUE      /* value malformed or out of range */
} eas_policy_status_e;

/* Validates and stores one setting; value NULL unsets it.  On error the
 * policy is unchanged and *why (if why is not NULL) explains, e.g.
 * "MaxDevicePasswordFailedAttempts: 3 is out of range 4..16". */
eas_policy_status_e eas_policy_set(eas_policy_t *pol, const char *name, const char *value,
                                   const char **why);
/* The normalised value set for s, or NULL when unset. */
const char *eas_policy_explicit(const eas_policy_t *pol, const eas_policy_setting_t *s);
/* The value served for s: the explicit one, else the default. */
const char *eas_policy_value(const eas_policy_t *pol, const eas_policy_setting_t *s);

/* ---- documents ------------------------------------------------------- */

/* Receives the EASProvisionDoc element tree (MS-ASPROV 2.2.2.28), depth first. */
typedef struct eas_policy_emit_t {
    void (*start)(void *baton, eas_tag_t tag);
    void (*end)(void *baton);
    void (*empty)(void *baton, eas_tag_t tag);
    void (*text)(void *baton, eas_tag_t tag, const char *text);
} eas_policy_emit_t;

/* Emits <EASProvisionDoc> with every setting of version (12.0 or later),
 * in document order, unset ones with their defaults, an empty value as an
 * empty element.  APR_EINVAL for 2.5 or an unknown version. */
apr_status_t eas_policy_emit(const eas_policy_t *pol, int version,
                             const eas_policy_emit_t *emit, void *baton);

/* The Data string for 2.5 (MS-ASPROV 2.2.2.24.2): a wap-provisioningdoc
 * without XML declaration, to be sent as the text of Provision:Data. */
const char *eas_policy_wap_doc(const eas_policy_t *pol, apr_pool_t *p);

/* The policy key for version: a non-zero 32-bit value taken from the
 * SHA-256 of the document served for that version, so it is the same on
 * every front end and for every version whose document is the same, and
 * changes whenever the document does.  It is the final key; the temporary
 * key of the first Provision phase is the caller's.  0 for an unknown version. */
apr_uint32_t eas_policy_key(const eas_policy_t *pol, int version);

/* Writes the EASProvisionDoc into a WBXML writer (the Data element's child). */
static inline void eas_policy_wbxml_start_(void *w, eas_tag_t tag)
{
    eas_wbxml_start((eas_wbxml_writer_t *)w, tag);
}
static inline void eas_policy_wbxml_end_(void *w)
{
    eas_wbxml_end((eas_wbxml_writer_t *)w);
}
static inline void eas_policy_wbxml_empty_(void *w, eas_tag_t tag)
{
    eas_wbxml_empty((eas_wbxml_writer_t *)w, tag);
}
static inline void eas_policy_wbxml_text_(void *w, eas_tag_t tag, const char *text)
{
    eas_wbxml_text((eas_wbxml_writer_t *)w, tag, text);
}
static inline apr_status_t eas_policy_write_wbxml(const eas_policy_t *pol, int version,
                                                  eas_wbxml_writer_t *w)
{
    static const eas_policy_emit_t to_wbxml = {
        eas_policy_wbxml_start_, eas_policy_wbxml_end_, eas_policy_wbxml_empty_,
        eas_policy_wbxml_text_};
    return eas_policy_emit(pol, version, &to_wbxml, w);
}

#endif
