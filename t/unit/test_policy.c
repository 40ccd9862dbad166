/* MS-ASPROV policies: validation of every setting, version filtering,
 * the 2.5 document and the policy key. */
#include "tap.h"
#include "eas_policy.h"
#include "eas_protocol.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

/* ---- a recording emitter: the document as text with setting names ---- */

typedef struct {
    apr_pool_t *p;
    const char *out;
    int tags[64];
    int ntags;
} rec_t;

static const char *tag_name(eas_tag_t tag)
{
    int i;

    if (tag == EAS_Provision_EASProvisionDoc)
        return "EASProvisionDoc";
    if (tag == EAS_Provision_Hash)
        return "Hash";
    if (tag == EAS_Provision_ApplicationName)
        return "ApplicationName";
    for (i = 0; i < eas_policy_setting_count; i++)
        if (eas_policy_settings[i].tag == tag)
            return eas_policy_settings[i].name;
    return "?";
}

static const char *open_tags[8];
static int depth;

static void rec_start(void *b, eas_tag_t tag)
{
    rec_t *r = b;

    r->out = apr_pstrcat(r->p, r->out, "<", tag_name(tag), ">", NULL);
    open_tags[depth++] = tag_name(tag);
    if (depth == 2 && r->ntags < 64)
        r->tags[r->ntags++] = tag;
}

static void rec_end(void *b)
{
    rec_t *r = b;

    r->out = apr_pstrcat(r->p, r->out, "</", open_tags[--depth], ">", NULL);
}

static void rec_empty(void *b, eas_tag_t tag)
{
    rec_t *r = b;

    r->out = apr_pstrcat(r->p, r->out, "<", tag_name(tag), "/>", NULL);
    if (depth == 1 && r->ntags < 64)
        r->tags[r->ntags++] = tag;
}

static void rec_text(void *b, eas_tag_t tag, const char *text)
{
    rec_t *r = b;

    r->out = apr_pstrcat(r->p, r->out, "<", tag_name(tag), ">", text, "</", tag_name(tag), ">",
                         NULL);
    if (depth == 1 && r->ntags < 64)
        r->tags[r->ntags++] = tag;
}

static const eas_policy_emit_t rec_ops = {rec_start, rec_end, rec_empty, rec_text};

static apr_status_t record(apr_pool_t *p, const eas_policy_t *pol, int version, rec_t *r)
{
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->out = "";
    depth = 0;
    return eas_policy_emit(pol, version, &rec_ops, r);
}

/* ---- helpers ---------------------------------------------------------- */

static int set_ok(eas_policy_t *pol, const char *name, const char *value, const char *want)
{
    const char *why = NULL;
    const eas_policy_setting_t *s = eas_policy_setting_find(name);

    if (eas_policy_set(pol, name, value, &why) != EAS_POLICY_OK) {
        diag("%s=%s rejected: %s", name, value, why);
        return 0;
    }
    if (strcmp(eas_policy_explicit(pol, s), want)) {
        diag("%s=%s stored as '%s', want '%s'", name, value, eas_policy_explicit(pol, s), want);
        return 0;
    }
    return 1;
}

/* A rejected value must leave the previous one in place and say why. */
static int set_bad(eas_policy_t *pol, const char *name, const char *value)
{
    const eas_policy_setting_t *s = eas_policy_setting_find(name);
    const char *before = eas_policy_explicit(pol, s), *why = NULL;
    eas_policy_status_e rc = eas_policy_set(pol, name, value, &why);

    if (rc != EAS_POLICY_E_VALUE || !why || eas_policy_explicit(pol, s) != before) {
        diag("%s='%s' was not rejected properly (rc %d)", name, value, rc);
        return 0;
    }
    return 1;
}

static const char *xpath_str(xmlDocPtr doc, const char *expr)
{
    static char buf[256];
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    const char *r = NULL;

    if (o && o->type == XPATH_NODESET && o->nodesetval && o->nodesetval->nodeNr == 1) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);

        apr_cpystrn(buf, (const char *)t, sizeof(buf));
        xmlFree(t);
        r = buf;
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return r;
}

static const char *wap_parm(apr_pool_t *p, xmlDocPtr doc, const char *name)
{
    return xpath_str(doc, apr_psprintf(p, "//parm[@name='%s']/@value", name));
}

/* ---- tests ------------------------------------------------------------ */

static void test_table(void)
{
    int i, j, dups = 0, order = 1, defaults = 1, v120 = 0;
    apr_pool_t *p;
    eas_policy_t *pol;

    apr_pool_create(&p, NULL);
    pol = eas_policy_create(p);
    is_int(eas_policy_setting_count, 42, "every EASProvisionDoc setting of MS-ASPROV 2.2.2");
    for (i = 0; i < eas_policy_setting_count; i++) {
        const eas_policy_setting_t *s = &eas_policy_settings[i];

        for (j = i + 1; j < eas_policy_setting_count; j++)
            dups += !strcasecmp(s->name, eas_policy_settings[j].name);
        if (i && s->tag <= eas_policy_settings[i - 1].tag)
            order = 0;
        if (EAS_TAG_PAGE(s->tag) != 14 || !s->section || strncmp(s->section, "2.2.2.", 6))
            order = 0;
        /* The default is itself a valid value and stays as it is. */
        if (eas_policy_set(pol, s->name, s->def, NULL) != EAS_POLICY_OK
            || strcmp(eas_policy_explicit(pol, s), s->def))
            defaults = 0;
        v120 += s->min_version == 120;
        if (s->min_version != 120 && s->min_version != 121)
            order = 0;
    }
    ok(!dups, "setting names are unique");
    ok(order, "settings are on code page 14, in token order, introduced in 12.0 or 12.1");
    ok(defaults, "every default validates as its own setting");
    is_int(v120, 11, "eleven settings date from 12.0");
    ok(eas_policy_setting_find("maxdevicepasswordfailedattempts")
           == eas_policy_setting_find("MaxDevicePasswordFailedAttempts"),
       "names are found case-insensitively");
    ok(eas_policy_setting_find("AllowWifi") != NULL, "AllowWifi (the spec's spelling) is found");
    ok(eas_policy_setting_find("DocumentBrowseEnabled") == NULL,
       "a token libwbxml has but MS-ASPROV does not is no setting");
    is_str(eas_policy_type_for_version(25), "MS-WAP-Provisioning-XML", "PolicyType for 2.5");
    is_str(eas_policy_type_for_version(141), "MS-EAS-Provisioning-WBXML", "PolicyType for 14.1");
    ok(eas_policy_type_for_version(130) == NULL, "no PolicyType for a version that does not exist");
    apr_pool_destroy(p);
}

static void test_names(apr_pool_t *p)
{
    eas_policy_t *pol = eas_policy_create(p);
    const char *why = NULL;

    is_int(eas_policy_set(pol, "Bogus", "1", &why), EAS_POLICY_E_NAME, "unknown name rejected");
    ok(why && strstr(why, "Bogus"), "the reason names the setting");
    is_int(eas_policy_set(pol, "", "1", NULL), EAS_POLICY_E_NAME, "empty name rejected");
    is_int(eas_policy_set(pol, NULL, "1", NULL), EAS_POLICY_E_NAME, "NULL name rejected");
    is_int(eas_policy_set(pol, "AllowCamera ", "1", NULL), EAS_POLICY_E_NAME,
           "names are not trimmed");
    is_int(eas_policy_set(pol, "ApplicationName", "x", NULL), EAS_POLICY_E_NAME,
           "a list entry element is not a setting");
}

/* Every setting: its valid range accepted and normalised, the values just
 * outside rejected. */
static void test_every_setting(apr_pool_t *p)
{
    eas_policy_t *pol = eas_policy_create(p);
    int i, v, all_ok = 1;
    char buf[64];

    for (i = 0; i < eas_policy_setting_count; i++) {
        const eas_policy_setting_t *s = &eas_policy_settings[i];
        const char *n = s->name;
        int good = 1;

        switch (s->type) {
        case EAS_POLICY_BOOL:
            good = set_ok(pol, n, "1", "1") && set_ok(pol, n, "0", "0")
                   && set_ok(pol, n, " true ", "1") && set_ok(pol, n, "FALSE", "0")
                   && set_ok(pol, n, "t", "1") && set_bad(pol, n, "2")
                   && set_bad(pol, n, "-1") && set_bad(pol, n, "") && set_bad(pol, n, "yes")
                   && set_bad(pol, n, "1x") && set_bad(pol, n, "01 1");
            break;
        case EAS_POLICY_INT:
            apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT, s->min);
            good = set_ok(pol, n, buf, buf);
            apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT, s->max);
            good = good && set_ok(pol, n, buf, buf);
            apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT, s->min - 1);
            good = good && set_bad(pol, n, buf);
            apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT, s->max + 1);
            good = good && set_bad(pol, n, buf);
            apr_snprintf(buf, sizeof(buf), "00%" APR_INT64_T_FMT, s->max);
            good = good && set_ok(pol, n, buf, buf + 2);
            good = good && set_bad(pol, n, "abc") && set_bad(pol, n, "1.5")
                   && set_bad(pol, n, "+2") && set_bad(pol, n, "2 2")
                   && set_bad(pol, n, "-") && set_bad(pol, n, "99999999999999999999999");
            good = good && (s->empty_ok ? set_ok(pol, n, " ", "") : set_bad(pol, n, ""));
            break;
        case EAS_POLICY_ENUM:
            for (v = 0; v < 40 && good; v++) {
                apr_snprintf(buf, sizeof(buf), "%d", v);
                good = (v < 32 && (s->allowed & (1u << v))) ? set_ok(pol, n, buf, buf)
                                                             : set_bad(pol, n, buf);
            }
            good = good && set_bad(pol, n, "-1") && set_bad(pol, n, "") && set_bad(pol, n, "x");
            break;
        case EAS_POLICY_LIST:
            good = set_ok(pol, n, "", "") && set_ok(pol, n, "\r\n  \n", "")
                   && set_bad(pol, n, "ok\nbad\x01name");
            break;
        }
        if (!good) {
            diag("setting %s failed", n);
            all_ok = 0;
        }
        eas_policy_set(pol, n, NULL, NULL);
        if (eas_policy_explicit(pol, s) != NULL)
            all_ok = 0;
    }
    ok(all_ok, "every setting accepts its range, rejects what is outside, and unsets");

    /* Ranges the spec states, spot-checked by name. */
    ok(set_bad(pol, "MaxDevicePasswordFailedAttempts", "3")
           && set_ok(pol, "MaxDevicePasswordFailedAttempts", "4", "4")
           && set_ok(pol, "MaxDevicePasswordFailedAttempts", "16", "16")
           && set_bad(pol, "MaxDevicePasswordFailedAttempts", "17"),
       "MaxDevicePasswordFailedAttempts is 4..16 (2.2.2.32)");
    ok(set_bad(pol, "MinDevicePasswordLength", "0") && set_bad(pol, "MinDevicePasswordLength", "17")
           && set_ok(pol, "MinDevicePasswordLength", "", ""),
       "MinDevicePasswordLength is 1..16 or empty (2.2.2.38)");
    ok(set_bad(pol, "MinDevicePasswordComplexCharacters", "5")
           && set_bad(pol, "MinDevicePasswordComplexCharacters", ""),
       "MinDevicePasswordComplexCharacters is 1..4 (2.2.2.37)");
    ok(set_bad(pol, "MaxCalendarAgeFilter", "3") && set_ok(pol, "MaxCalendarAgeFilter", "7", "7")
           && set_bad(pol, "MaxCalendarAgeFilter", "8"),
       "MaxCalendarAgeFilter takes 0, 4, 5, 6, 7 (2.2.2.31)");
    ok(set_ok(pol, "MaxEmailAgeFilter", "5", "5") && set_bad(pol, "MaxEmailAgeFilter", "6"),
       "MaxEmailAgeFilter is 0..5 (2.2.2.33)");
    ok(set_ok(pol, "AllowBluetooth", "1", "1") && set_bad(pol, "AllowBluetooth", "3"),
       "AllowBluetooth is 0, 1, 2 (2.2.2.2)");
    ok(set_ok(pol, "RequireEncryptionSMIMEAlgorithm", "4", "4")
           && set_bad(pol, "RequireEncryptionSMIMEAlgorithm", "5")
           && set_bad(pol, "RequireSignedSMIMEAlgorithm", "2"),
       "S/MIME algorithms: encryption 0..4, signing 0..1");
    ok(set_ok(pol, "MaxEmailBodyTruncationSize", "-1", "-1")
           && set_bad(pol, "MaxEmailBodyTruncationSize", "-2"),
       "truncation size -1 means no truncation, below is invalid");
    ok(set_ok(pol, "MaxAttachmentSize", "4294967295", "4294967295")
           && set_bad(pol, "MaxAttachmentSize", "4294967296")
           && set_bad(pol, "MaxAttachmentSize", "-1"),
       "MaxAttachmentSize is an unsignedInt");
    ok(set_bad(pol, "AllowCamera", "1\xff"), "a value that is not UTF-8 is rejected");
}

static void test_lists(apr_pool_t *p)
{
    eas_policy_t *pol = eas_policy_create(p);
    char *many, *o;
    int i;

    ok(set_ok(pol, "UnapprovedInROMApplicationList", " Solitaire \r\n\nInternet Explorer\n",
              "Solitaire\nInternet Explorer"),
       "application names: one per line, trimmed, blank lines dropped");
    ok(set_ok(pol, "UnapprovedInROMApplicationList", "Caf\xc3\xa9", "Caf\xc3\xa9"),
       "application names may be any UTF-8 text");
    ok(set_bad(pol, "UnapprovedInROMApplicationList", apr_psprintf(p, "%0300d", 0)),
       "an application name over 255 bytes is rejected");
    ok(set_ok(pol, "ApprovedApplicationList",
              "3a6e7a2f9a1d0c4b5e6f708192a3b4c5d6e7f809\nOm56L5qh0MtebnCBkqO0xdbn+Ak=",
              "3a6e7a2f9a1d0c4b5e6f708192a3b4c5d6e7f809\nOm56L5qh0MtebnCBkqO0xdbn+Ak="),
       "hashes in hex or base64");
    ok(set_bad(pol, "ApprovedApplicationList", "not a hash"), "a hash with a space is rejected");
    ok(set_bad(pol, "ApprovedApplicationList", "<script>"), "a hash with markup is rejected");
    many = o = apr_palloc(p, 1001 * 3 + 1);
    for (i = 0; i < 1001; i++)
        o += sprintf(o, "%02x\n", i % 256);
    ok(set_bad(pol, "ApprovedApplicationList", many), "more than 1000 entries are rejected");
    many[1000 * 3 - 1] = '\0';
    ok(eas_policy_set(pol, "ApprovedApplicationList", many, NULL) == EAS_POLICY_OK,
       "1000 entries are accepted");
}

static void test_versions(apr_pool_t *p)
{
    eas_policy_t *pol = eas_policy_create(p);
    rec_t r;
    int i, order = 1;

    is_int(record(p, pol, 25, &r), APR_EINVAL, "no EASProvisionDoc for 2.5");
    is_int(record(p, pol, 0, &r), APR_EINVAL, "no EASProvisionDoc for version 0");
    is_int(record(p, pol, 150, &r), APR_EINVAL, "no EASProvisionDoc for an unknown version");

    is_int(record(p, pol, 120, &r), APR_SUCCESS, "12.0 document");
    is_int(r.ntags, 11, "12.0 carries the eleven 12.0 settings");
    is_str(r.out,
           "<EASProvisionDoc><DevicePasswordEnabled>0</DevicePasswordEnabled>"
           "<AlphanumericDevicePasswordRequired>0</AlphanumericDevicePasswordRequired>"
           "<PasswordRecoveryEnabled>0</PasswordRecoveryEnabled>"
           "<AttachmentsEnabled>1</AttachmentsEnabled>"
           "<MinDevicePasswordLength/><MaxInactivityTimeDeviceLock/>"
           "<MaxDevicePasswordFailedAttempts/><MaxAttachmentSize/>"
           "<AllowSimpleDevicePassword>1</AllowSimpleDevicePassword>"
           "<DevicePasswordExpiration/><DevicePasswordHistory>0</DevicePasswordHistory>"
           "</EASProvisionDoc>",
           "12.0 default document, unlimited values as empty elements");
    for (i = 0; i < EAS_VERSION_COUNT; i++) {
        int v = eas_versions_all[i], j;

        if (v < 121)
            continue;
        record(p, pol, v, &r);
        if (r.ntags != 42)
            order = 0;
        for (j = 1; j < r.ntags; j++)
            if (r.tags[j] <= r.tags[j - 1])
                order = 0;
    }
    ok(order, "12.1 to 16.1 carry all 42 settings once each, in document order");
    ok(strstr(r.out, "<AllowBluetooth>2</AllowBluetooth>")
           && strstr(r.out, "<MaxEmailBodyTruncationSize>-1</MaxEmailBodyTruncationSize>")
           && strstr(r.out, "<UnapprovedInROMApplicationList/><ApprovedApplicationList/>"
                            "</EASProvisionDoc>"),
       "defaults are the permissive ones; empty lists are empty elements");

    eas_policy_set(pol, "DevicePasswordEnabled", "1", NULL);
    eas_policy_set(pol, "MinDevicePasswordLength", "6", NULL);
    eas_policy_set(pol, "AllowCamera", "0", NULL);
    eas_policy_set(pol, "ApprovedApplicationList", "aa\nbb", NULL);
    record(p, pol, 120, &r);
    ok(strstr(r.out, "<DevicePasswordEnabled>1</") && strstr(r.out, "<MinDevicePasswordLength>6<")
           && !strstr(r.out, "AllowCamera") && !strstr(r.out, "ApprovedApplicationList"),
       "12.0 gets its settings as set, and none of the 12.1 ones");
    record(p, pol, 161, &r);
    ok(strstr(r.out, "<AllowCamera>0</AllowCamera>")
           && strstr(r.out, "<ApprovedApplicationList><Hash>aa</Hash><Hash>bb</Hash>"
                            "</ApprovedApplicationList>"),
       "16.1 gets the 12.1 settings, lists as one element per entry");
    ok(!eas_policy_setting_in_version(eas_policy_setting_find("AllowCamera"), 120)
           && eas_policy_setting_in_version(eas_policy_setting_find("AllowCamera"), 121)
           && !eas_policy_setting_in_version(eas_policy_setting_find("DevicePasswordEnabled"), 25),
       "eas_policy_setting_in_version follows the spec tables");
}

static void test_key(apr_pool_t *p)
{
    eas_policy_t *a = eas_policy_create(p), *b = eas_policy_create(p);
    apr_uint32_t k120, k121, k25;
    int i, nonzero = 1;

    for (i = 0; i < EAS_VERSION_COUNT; i++)
        if (!eas_policy_key(a, eas_versions_all[i]))
            nonzero = 0;
    ok(nonzero, "the key is non-zero for every version");
    is_int(eas_policy_key(a, 99), 0, "no key for an unknown version");
    is_int(eas_policy_key(a, 141), eas_policy_key(a, 141), "same policy, same key");
    is_int(eas_policy_key(a, 141), eas_policy_key(b, 141), "two empty policies share the key");

    eas_policy_set(a, "DevicePasswordEnabled", "1", NULL);
    eas_policy_set(a, "MaxInactivityTimeDeviceLock", "900", NULL);
    eas_policy_set(b, "MaxInactivityTimeDeviceLock", "0900", NULL);
    eas_policy_set(b, "DevicePasswordEnabled", "true", NULL);
    is_int(eas_policy_key(a, 161), eas_policy_key(b, 161),
           "same settings set in another order and spelling: same key");

    k120 = eas_policy_key(a, 120);
    k121 = eas_policy_key(a, 121);
    k25 = eas_policy_key(a, 25);
    ok(k120 != k121, "12.0 and 12.1 documents differ, so do their keys");
    ok(k25 != k120, "2.5 and 12.0 keys differ");
    ok(eas_policy_key(a, 121) == eas_policy_key(a, 140) && eas_policy_key(a, 140)
           == eas_policy_key(a, 141) && eas_policy_key(a, 141) == eas_policy_key(a, 160)
           && eas_policy_key(a, 160) == eas_policy_key(a, 161),
       "12.1 to 16.1 serve the same document and share the key");

    eas_policy_set(a, "AllowCamera", "0", NULL);
    is_int(eas_policy_key(a, 120), k120, "a 12.1 setting leaves the 12.0 key alone");
    ok(eas_policy_key(a, 121) != k121, "but changes the 12.1 key");
    is_int(eas_policy_key(a, 25), k25, "and the 2.5 key");
    k121 = eas_policy_key(a, 121);
    eas_policy_set(a, "AllowCamera", "1", NULL);
    ok(eas_policy_key(a, 121) != k121, "changing it back changes the key again");
    eas_policy_set(a, "AllowCamera", NULL, NULL);
    is_int(eas_policy_key(a, 121), eas_policy_key(b, 121),
           "setting a default explicitly serves the same document as unset: same key");

    eas_policy_set(a, "MinDevicePasswordLength", "8", NULL);
    ok(eas_policy_key(a, 25) != k25, "a setting the 2.5 document carries changes the 2.5 key");
    ok(eas_policy_key(a, 120) != k120, "and the 12.0 key");

    eas_policy_set(b, "ApprovedApplicationList", "aa\nbb", NULL);
    k121 = eas_policy_key(b, 121);
    eas_policy_set(b, "ApprovedApplicationList", "aab\nb", NULL);
    ok(eas_policy_key(b, 121) != k121, "list entries are delimited in the key");
}

static void test_wap(apr_pool_t *p)
{
    eas_policy_t *pol = eas_policy_create(p);
    const char *doc = eas_policy_wap_doc(pol, p);
    xmlDocPtr x = xmlReadMemory(doc, strlen(doc), NULL, NULL, XML_PARSE_NONET);

    ok(x != NULL, "2.5 document without password is well-formed");
    is_str(x ? (const char *)xmlDocGetRootElement(x)->name : NULL, "wap-provisioningdoc",
           "its root is wap-provisioningdoc");
    is_str(wap_parm(p, x, "4131"), "1", "4131 = 1: no password required");
    ok(!strstr(doc, "Registry") && !strstr(doc, "<?xml"),
       "no Registry part, no XML declaration");
    xmlFreeDoc(x);

    eas_policy_set(pol, "DevicePasswordEnabled", "1", NULL);
    doc = eas_policy_wap_doc(pol, p);
    x = xmlReadMemory(doc, strlen(doc), NULL, NULL, XML_PARSE_NONET);
    ok(x != NULL, "2.5 document with a password is well-formed");
    is_str(wap_parm(p, x, "4131"), "0", "4131 = 0: password required");
    is_str(wap_parm(p, x, "AEFrequencyType"), "0", "no inactivity lock by default");
    is_str(wap_parm(p, x, "DeviceWipeThreshold"), "0", "no wipe threshold by default");
    is_str(wap_parm(p, x, "CodewordFrequency"), "-1", "no codeword by default");
    is_str(wap_parm(p, x, "MinimumPasswordLength"), "1", "no minimum length by default");
    is_str(wap_parm(p, x, "PasswordComplexity"), "2", "simple PINs by default");
    is_str(xpath_str(x, "/wap-provisioningdoc/characteristic[@type='Registry']"
                        "/characteristic[5]/@type"),
           "HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw",
           "Registry has five branches, the last one lap_pw");
    ok(!xpath_str(x, "/wap-provisioningdoc/characteristic[@type='Registry']/characteristic[6]"),
       "and no sixth");
    xmlFreeDoc(x);

    eas_policy_set(pol, "MaxInactivityTimeDeviceLock", "61", NULL);
    eas_policy_set(pol, "MaxDevicePasswordFailedAttempts", "8", NULL);
    eas_policy_set(pol, "MinDevicePasswordLength", "6", NULL);
    eas_policy_set(pol, "AlphanumericDevicePasswordRequired", "1", NULL);
    doc = eas_policy_wap_doc(pol, p);
    x = xmlReadMemory(doc, strlen(doc), NULL, NULL, XML_PARSE_NONET);
    is_str(wap_parm(p, x, "AEFrequencyType"), "1", "inactivity lock on");
    is_str(wap_parm(p, x, "AEFrequencyValue"), "2", "61 seconds round up to 2 minutes");
    is_str(wap_parm(p, x, "DeviceWipeThreshold"), "8", "wipe after 8 failures");
    is_str(wap_parm(p, x, "CodewordFrequency"), "4", "codeword half-way to the wipe");
    is_str(wap_parm(p, x, "MinimumPasswordLength"), "6", "minimum length");
    is_str(wap_parm(p, x, "PasswordComplexity"), "0", "alphanumeric password");
    is_str(xpath_str(x, "/wap-provisioningdoc/characteristic[2]/@type"), "Registry",
           "SecurityPolicy first, then Registry");
    xmlFreeDoc(x);

    eas_policy_set(pol, "MaxInactivityTimeDeviceLock", "9999", NULL);
    doc = eas_policy_wap_doc(pol, p);
    x = xmlReadMemory(doc, strlen(doc), NULL, NULL, XML_PARSE_NONET);
    is_str(wap_parm(p, x, "AEFrequencyType"), "0", "9999 seconds or more is no lock (2.2.2.36)");
    xmlFreeDoc(x);
    eas_policy_set(pol, "MaxInactivityTimeDeviceLock", "0", NULL);
    doc = eas_policy_wap_doc(pol, p);
    x = xmlReadMemory(doc, strlen(doc), NULL, NULL, XML_PARSE_NONET);
    is_str(wap_parm(p, x, "AEFrequencyValue"), "1", "a lock below a minute is one minute");
    xmlFreeDoc(x);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    xmlInitParser();
    apr_pool_create(&p, NULL);

    test_table();
    test_names(p);
    test_every_setting(p);
    test_lists(p);
    test_versions(p);
    test_key(p);
    test_wap(p);

    apr_pool_destroy(p);
    xmlCleanupParser();
    apr_terminate();
    return tap_done();
}
