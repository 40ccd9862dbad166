#include "eas_policy.h"
#include "eas_protocol.h"
#include "eas_utf8.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <openssl/evp.h>

/* Entries in one list setting; a device has no use for thousands. */
#define LIST_MAX_ENTRIES 1000
#define APPNAME_MAX 255
#define HASH_MAX 128

#define U32 4294967295LL
#define I32 2147483647LL

#define BOOL(n, sec, ver, def, wap) \
    {#n, sec, EAS_Provision_##n, 0, EAS_POLICY_BOOL, ver, 0, 1, 0, 0, def, wap}
#define INT(n, sec, ver, lo, hi, empty, def, wap) \
    {#n, sec, EAS_Provision_##n, 0, EAS_POLICY_INT, ver, lo, hi, 0, empty, def, wap}
#define ENUM(n, sec, ver, mask, def) \
    {#n, sec, EAS_Provision_##n, 0, EAS_POLICY_ENUM, ver, 0, 31, mask, 0, def, 0}
#define LIST(n, sec, ver, item) \
    {#n, sec, EAS_Provision_##n, EAS_Provision_##item, EAS_POLICY_LIST, ver, 0, 0, 0, 0, "", 0}

/* MS-ASPROV 2.2.2: each element's type, range and first version.  The order
 * is the EASProvisionDoc order Exchange serves (the code page 14 token
 * order).  Defaults are the values a client assumes for an absent element;
 * where the spec leaves it open (MinDevicePasswordComplexCharacters) the
 * least restrictive valid value. */
const eas_policy_setting_t eas_policy_settings[] = {
    BOOL(DevicePasswordEnabled, "2.2.2.25", 120, "0", 1),
    BOOL(AlphanumericDevicePasswordRequired, "2.2.2.20", 120, "0", 1),
    BOOL(RequireStorageCardEncryption, "2.2.2.52", 121, "0", 0),
    BOOL(PasswordRecoveryEnabled, "2.2.2.39", 120, "0", 0),
    BOOL(AttachmentsEnabled, "2.2.2.23", 120, "1", 0),
    INT(MinDevicePasswordLength, "2.2.2.38", 120, 1, 16, 1, "", 1),
    INT(MaxInactivityTimeDeviceLock, "2.2.2.36", 120, 0, U32, 1, "", 1),
    INT(MaxDevicePasswordFailedAttempts, "2.2.2.32", 120, 4, 16, 1, "", 1),
    INT(MaxAttachmentSize, "2.2.2.30", 120, 0, U32, 1, "", 0),
    BOOL(AllowSimpleDevicePassword, "2.2.2.12", 120, "1", 0),
    INT(DevicePasswordExpiration, "2.2.2.26", 120, 0, U32, 1, "", 0),
    INT(DevicePasswordHistory, "2.2.2.27", 120, 0, U32, 0, "0", 0),
    BOOL(AllowStorageCard, "2.2.2.15", 121, "1", 0),
    BOOL(AllowCamera, "2.2.2.4", 121, "1", 0),
    BOOL(RequireDeviceEncryption, "2.2.2.46", 121, "0", 0),
    BOOL(AllowUnsignedApplications, "2.2.2.17", 121, "1", 0),
    BOOL(AllowUnsignedInstallationPackages, "2.2.2.18", 121, "1", 0),
    INT(MinDevicePasswordComplexCharacters, "2.2.2.37", 121, 1, 4, 0, "1", 0),
    BOOL(AllowWiFi, "2.2.2.19", 121, "1", 0),
    BOOL(AllowTextMessaging, "2.2.2.16", 121, "1", 0),
    BOOL(AllowPOPIMAPEmail, "2.2.2.10", 121, "1", 0),
    ENUM(AllowBluetooth, "2.2.2.2", 121, 0x07, "2"),
    BOOL(AllowIrDA, "2.2.2.9", 121, "1", 0),
    BOOL(RequireManualSyncWhenRoaming, "2.2.2.49", 121, "0", 0),
    BOOL(AllowDesktopSync, "2.2.2.6", 121, "1", 0),
    ENUM(MaxCalendarAgeFilter, "2.2.2.31", 121, 0xF1, "0"),    /* 0, 4..7 */
    BOOL(AllowHTMLEmail, "2.2.2.7", 121, "1", 0),
    ENUM(MaxEmailAgeFilter, "2.2.2.33", 121, 0x3F, "0"),       /* 0..5 */
    INT(MaxEmailBodyTruncationSize, "2.2.2.34", 121, -1, I32, 0, "-1", 0),
    INT(MaxEmailHTMLBodyTruncationSize, "2.2.2.35", 121, -1, I32, 0, "-1", 0),
    BOOL(RequireSignedSMIMEMessages, "2.2.2.51", 121, "0", 0),
    BOOL(RequireEncryptedSMIMEMessages, "2.2.2.47", 121, "0", 0),
    ENUM(RequireSignedSMIMEAlgorithm, "2.2.2.50", 121, 0x03, "0"),
    ENUM(RequireEncryptionSMIMEAlgorithm, "2.2.2.48", 121, 0x1F, "0"),
    ENUM(AllowSMIMEEncryptionAlgorithmNegotiation, "2.2.2.13", 121, 0x07, "2"),
    BOOL(AllowSMIMESoftCerts, "2.2.2.14", 121, "1", 0),
    BOOL(AllowBrowser, "2.2.2.3", 121, "1", 0),
    BOOL(AllowConsumerEmail, "2.2.2.5", 121, "1", 0),
    BOOL(AllowRemoteDesktop, "2.2.2.11", 121, "1", 0),
    BOOL(AllowInternetSharing, "2.2.2.8", 121, "1", 0),
    LIST(UnapprovedInROMApplicationList, "2.2.2.55", 121, ApplicationName),
    LIST(ApprovedApplicationList, "2.2.2.22", 121, Hash),
};

#define NSETTINGS ((int)(sizeof(eas_policy_settings) / sizeof(eas_policy_settings[0])))
const int eas_policy_setting_count = NSETTINGS;

struct eas_policy_t {
    apr_pool_t *pool;
    const char *value[NSETTINGS];   /* NULL: unset */
};

const eas_policy_setting_t *eas_policy_setting_find(const char *name)
{
    int i;

    if (name)
        for (i = 0; i < NSETTINGS; i++)
            if (!strcasecmp(eas_policy_settings[i].name, name))
                return &eas_policy_settings[i];
    return NULL;
}

int eas_policy_setting_in_version(const eas_policy_setting_t *s, int version)
{
    return eas_version_str(version) != NULL && version >= s->min_version;
}

const char *eas_policy_type_for_version(int version)
{
    if (version == 25)
        return "MS-WAP-Provisioning-XML";
    return eas_version_str(version) ? "MS-EAS-Provisioning-WBXML" : NULL;
}

eas_policy_t *eas_policy_create(apr_pool_t *p)
{
    eas_policy_t *pol = apr_pcalloc(p, sizeof(*pol));

    pol->pool = p;
    return pol;
}

/* ---- validation ------------------------------------------------------ */

static const char *trim(apr_pool_t *p, const char *v)
{
    const char *e;

    while (apr_isspace(*v))
        v++;
    e = v + strlen(v);
    while (e > v && apr_isspace(e[-1]))
        e--;
    return apr_pstrmemdup(p, v, e - v);
}

/* Plain decimal with an optional '-'; no '+', no inner spaces. */
static int parse_int(const char *v, apr_int64_t *out)
{
    int neg = 0, digits = 0;
    apr_int64_t n = 0;

    if (*v == '-') {
        neg = 1;
        v++;
    }
    for (; *v; v++, digits++) {
        if (!apr_isdigit(*v) || n > (I32 * 8))  /* far past any setting's range */
            return 0;
        n = n * 10 + (*v - '0');
    }
    if (!digits)
        return 0;
    *out = neg ? -n : n;
    return 1;
}

static int hash_char(char c)
{
    return apr_isalnum(c) || c == '+' || c == '/' || c == '=';
}

/* One list entry: ApplicationName is display text, Hash a SHA-1 written
 * as hex or base64 (MS-ASPROV 2.2.2.29 leaves the spelling open). */
static const char *check_entry(apr_pool_t *p, const eas_policy_setting_t *s, const char *e,
                               apr_size_t len)
{
    apr_size_t i;

    if (s->item_tag == EAS_Provision_Hash) {
        if (len > HASH_MAX)
            return apr_psprintf(p, "%s: hash longer than %d characters", s->name, HASH_MAX);
        for (i = 0; i < len; i++)
            if (!hash_char(e[i]))
                return apr_psprintf(p, "%s: '%.*s' is not a hex or base64 hash", s->name,
                                    (int)len, e);
        return NULL;
    }
    if (len > APPNAME_MAX)
        return apr_psprintf(p, "%s: name longer than %d bytes", s->name, APPNAME_MAX);
    if (!eas_utf8_valid(e, len))
        return apr_psprintf(p, "%s: name is not UTF-8", s->name);
    for (i = 0; i < len; i++)
        if ((unsigned char)e[i] < 0x20 || e[i] == 0x7F)
            return apr_psprintf(p, "%s: control character in a name", s->name);
    return NULL;
}

/* Entries one per line ("\r\n" too), blank lines dropped; joined by "\n". */
static const char *normalise_list(apr_pool_t *p, const eas_policy_setting_t *s,
                                  const char *v, const char **why)
{
    char *out = apr_palloc(p, strlen(v) + 1), *o = out;
    int count = 0;

    while (*v) {
        const char *nl = strchr(v, '\n'), *b = v, *e = nl ? nl : v + strlen(v);

        v = nl ? nl + 1 : e;
        while (b < e && apr_isspace(*b))
            b++;
        while (e > b && apr_isspace(e[-1]))
            e--;
        if (b == e)
            continue;
        if ((*why = check_entry(p, s, b, e - b)) != NULL)
            return NULL;
        if (++count > LIST_MAX_ENTRIES) {
            *why = apr_psprintf(p, "%s: more than %d entries", s->name, LIST_MAX_ENTRIES);
            return NULL;
        }
        if (o != out)
            *o++ = '\n';
        memcpy(o, b, e - b);
        o += e - b;
    }
    *o = '\0';
    return out;
}

static const char *normalise(apr_pool_t *p, const eas_policy_setting_t *s, const char *raw,
                             const char **why)
{
    const char *v;
    apr_int64_t n;

    if (s->type == EAS_POLICY_LIST)
        return normalise_list(p, s, raw, why);
    v = trim(p, raw);
    switch (s->type) {
    case EAS_POLICY_BOOL:
        if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "t"))
            return "1";
        if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "f"))
            return "0";
        *why = apr_psprintf(p, "%s: '%s' is not a boolean (0 or 1)", s->name, v);
        return NULL;
    case EAS_POLICY_INT:
        if (!*v && s->empty_ok)
            return "";
        if (!parse_int(v, &n)) {
            *why = apr_psprintf(p, "%s: '%s' is not an integer", s->name, v);
            return NULL;
        }
        if (n < s->min || n > s->max) {
            *why = apr_psprintf(p, "%s: %s is out of range %" APR_INT64_T_FMT
                                "..%" APR_INT64_T_FMT, s->name, v, s->min, s->max);
            return NULL;
        }
        return apr_psprintf(p, "%" APR_INT64_T_FMT, n);
    case EAS_POLICY_ENUM:
        if (!parse_int(v, &n) || n < 0 || n > 31 || !(s->allowed & (1u << n))) {
            *why = apr_psprintf(p, "%s: '%s' is not one of the allowed values", s->name, v);
            return NULL;
        }
        return apr_psprintf(p, "%" APR_INT64_T_FMT, n);
    case EAS_POLICY_LIST:
        break;
    }
    return NULL;
}

eas_policy_status_e eas_policy_set(eas_policy_t *pol, const char *name, const char *value,
                                   const char **why)
{
    const eas_policy_setting_t *s = eas_policy_setting_find(name);
    const char *v, *dummy;

    if (!why)
        why = &dummy;
    if (!s) {
        *why = apr_psprintf(pol->pool, "no policy setting named '%s'", name ? name : "");
        return EAS_POLICY_E_NAME;
    }
    if (!value) {
        pol->value[s - eas_policy_settings] = NULL;
        return EAS_POLICY_OK;
    }
    if (!eas_utf8_valid(value, strlen(value))) {
        *why = apr_psprintf(pol->pool, "%s: value is not UTF-8", s->name);
        return EAS_POLICY_E_VALUE;
    }
    if ((v = normalise(pol->pool, s, value, why)) == NULL)
        return EAS_POLICY_E_VALUE;
    pol->value[s - eas_policy_settings] = v;
    return EAS_POLICY_OK;
}

const char *eas_policy_explicit(const eas_policy_t *pol, const eas_policy_setting_t *s)
{
    return pol->value[s - eas_policy_settings];
}

const char *eas_policy_value(const eas_policy_t *pol, const eas_policy_setting_t *s)
{
    const char *v = pol->value[s - eas_policy_settings];

    return v ? v : s->def;
}

static const char *value_of(const eas_policy_t *pol, const char *name)
{
    return eas_policy_value(pol, eas_policy_setting_find(name));
}

/* ---- EASProvisionDoc (MS-ASPROV 2.2.2.28) ----------------------------- */

apr_status_t eas_policy_emit(const eas_policy_t *pol, int version,
                             const eas_policy_emit_t *emit, void *baton)
{
    int i;

    if (version < 120 || !eas_version_str(version))
        return APR_EINVAL;
    emit->start(baton, EAS_Provision_EASProvisionDoc);
    for (i = 0; i < NSETTINGS; i++) {
        const eas_policy_setting_t *s = &eas_policy_settings[i];
        const char *v = eas_policy_value(pol, s), *e;
        char entry[APPNAME_MAX + 1];

        if (!eas_policy_setting_in_version(s, version))
            continue;
        if (!*v) {
            emit->empty(baton, s->tag);
            continue;
        }
        if (s->type != EAS_POLICY_LIST) {
            emit->text(baton, s->tag, v);
            continue;
        }
        /* Entries are separated by "\n" and never contain one. */
        emit->start(baton, s->tag);
        while (*v) {
            e = strchr(v, '\n');
            if (!e)
                e = v + strlen(v);
            /* Set validated the length; copying keeps emit allocation-free. */
            memcpy(entry, v, e - v);
            entry[e - v] = '\0';
            emit->text(baton, s->item_tag, entry);
            v = *e ? e + 1 : e;
        }
        emit->end(baton);
    }
    emit->end(baton);
    return APR_SUCCESS;
}

/* ---- MS-WAP-Provisioning-XML (MS-ASPROV 2.2.2.24.2) -------------------- */

/* Long enough for the largest document: every number has at most 11 digits. */
#define WAP_DOC_MAX 1024

/* The Registry part only carries password settings, so it is sent only
 * when a password is required (as Exchange does; clients stop reading
 * after SecurityPolicy 4131 = 1). */
static apr_size_t wap_doc(const eas_policy_t *pol, char *buf)
{
    const char *lock = value_of(pol, "MaxInactivityTimeDeviceLock");
    const char *fails = value_of(pol, "MaxDevicePasswordFailedAttempts");
    const char *minlen = value_of(pol, "MinDevicePasswordLength");
    int password = !strcmp(value_of(pol, "DevicePasswordEnabled"), "1");
    int alnum = !strcmp(value_of(pol, "AlphanumericDevicePasswordRequired"), "1");
    apr_int64_t secs = 0, minutes = 0, wipe = 0, codeword = -1;

    if (!password)
        return apr_snprintf(buf, WAP_DOC_MAX, "%s",
            "<wap-provisioningdoc><characteristic type=\"SecurityPolicy\">"
            "<parm name=\"4131\" value=\"1\"/></characteristic></wap-provisioningdoc>");

    /* AEFrequencyValue is in minutes; 9999 seconds or more means no lock
     * (2.2.2.36), which AEFrequencyType 0 says. */
    if (*lock && parse_int(lock, &secs) && secs < 9999) {
        minutes = (secs + 59) / 60;
        if (minutes < 1)
            minutes = 1;
    }
    /* The device asks for a codeword half-way to the wipe threshold, so a
     * user is warned before the wipe; -1 and 0 when there is no threshold. */
    if (*fails && parse_int(fails, &wipe))
        codeword = wipe / 2;
    return apr_snprintf(buf, WAP_DOC_MAX,
        "<wap-provisioningdoc>"
        "<characteristic type=\"SecurityPolicy\"><parm name=\"4131\" value=\"0\"/>"
        "</characteristic>"
        "<characteristic type=\"Registry\">"
        "<characteristic type=\"HKLM\\Comm\\Security\\Policy\\LASSD\\AE\\"
        "{50C13377-C66D-400C-889E-C316FC4AB374}\">"
        "<parm name=\"AEFrequencyType\" value=\"%d\"/>"
        "<parm name=\"AEFrequencyValue\" value=\"%" APR_INT64_T_FMT "\"/></characteristic>"
        "<characteristic type=\"HKLM\\Comm\\Security\\Policy\\LASSD\">"
        "<parm name=\"DeviceWipeThreshold\" value=\"%" APR_INT64_T_FMT "\"/></characteristic>"
        "<characteristic type=\"HKLM\\Comm\\Security\\Policy\\LASSD\">"
        "<parm name=\"CodewordFrequency\" value=\"%" APR_INT64_T_FMT "\"/></characteristic>"
        "<characteristic type=\"HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw\">"
        "<parm name=\"MinimumPasswordLength\" value=\"%s\"/></characteristic>"
        "<characteristic type=\"HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw\">"
        "<parm name=\"PasswordComplexity\" value=\"%d\"/></characteristic>"
        "</characteristic></wap-provisioningdoc>",
        minutes ? 1 : 0, minutes, wipe, codeword, *minlen ? minlen : "1", alnum ? 0 : 2);
}

const char *eas_policy_wap_doc(const eas_policy_t *pol, apr_pool_t *p)
{
    char buf[WAP_DOC_MAX];
    apr_size_t n = wap_doc(pol, buf);

    return apr_pstrmemdup(p, buf, n);
}

/* ---- policy key ------------------------------------------------------ */

/* The key hashes a serialisation that mirrors the WBXML element stream
 * (tags and length-prefixed texts), so it follows the document's content,
 * not the encoder's choices.  Nothing is allocated from the policy's pool. */
static void md_tag(EVP_MD_CTX *md, char op, eas_tag_t tag)
{
    unsigned char b[3] = {(unsigned char)op, (unsigned char)(tag >> 8), (unsigned char)tag};

    EVP_DigestUpdate(md, b, sizeof(b));
}

static void md_start(void *baton, eas_tag_t tag)
{
    md_tag(baton, 'S', tag);
}

static void md_end(void *baton)
{
    EVP_DigestUpdate(baton, "E", 1);
}

static void md_empty(void *baton, eas_tag_t tag)
{
    md_tag(baton, 'Z', tag);
}

static void md_text(void *baton, eas_tag_t tag, const char *text)
{
    apr_size_t n = strlen(text);
    unsigned char l[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};

    md_tag(baton, 'T', tag);
    EVP_DigestUpdate(baton, l, sizeof(l));
    EVP_DigestUpdate(baton, text, n);
}

apr_uint32_t eas_policy_key(const eas_policy_t *pol, int version)
{
    static const eas_policy_emit_t to_md = {md_start, md_end, md_empty, md_text};
    const char *type = eas_policy_type_for_version(version);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    apr_uint32_t key = 0;
    EVP_MD_CTX *ctx;
    int ok;

    if (!type || (ctx = EVP_MD_CTX_new()) == NULL)
        return 0;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    /* The PolicyType leads, so the two document forms never share a key. */
    ok = ok && EVP_DigestUpdate(ctx, type, strlen(type) + 1);
    if (ok && version == 25) {
        char buf[WAP_DOC_MAX];
        apr_size_t n = wap_doc(pol, buf);

        ok = EVP_DigestUpdate(ctx, buf, n);
    } else if (ok) {
        ok = eas_policy_emit(pol, version, &to_md, ctx) == APR_SUCCESS;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= 4;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return 0;
    key = ((apr_uint32_t)md[0] << 24) | ((apr_uint32_t)md[1] << 16)
          | ((apr_uint32_t)md[2] << 8) | md[3];
    /* 0 means "no policy key" on the wire. */
    return key ? key : 1;
}
