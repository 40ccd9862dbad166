/*
 * MS-ASHTTP 2.2.1.1.1.1 (base64-encoded query value) and 2.2.1.1.1.2
 * (plain text query value).
 */
#include "eas_query.h"

#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>

#define MAX_ID_LEN 128
#define MAX_QUERY_LEN 4096

enum { P_ATTACHMENTNAME = 0, P_COLLECTIONID = 1, P_ITEMID = 3, P_LONGID = 4,
       P_OCCURRENCE = 6, P_OPTIONS = 7, P_USER = 8 };
enum { OPT_SAVEINSENT = 0x01, OPT_ACCEPTMULTIPART = 0x02 };

static int id_char(int c)
{
    return apr_isalnum(c) || c == '-' || c == '_' || c == '.';
}

static int valid_id(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (n == 0 || n > MAX_ID_LEN)
        return 0;
    for (i = 0; i < n; i++)
        if (!id_char((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Percent-decoding; '+' stays '+' because it is legal in addresses. */
static char *unescape(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || !apr_isxdigit(s[i + 1]) || !apr_isxdigit(s[i + 2]))
                return NULL;
            {
                char hex[3] = {s[i + 1], s[i + 2], 0};
                int c = (int)strtol(hex, NULL, 16);
                if (c == 0)
                    return NULL;
                *o++ = (char)c;
            }
            i += 2;
        }
        else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

static int is_plain(const char *args)
{
    const char *eq = strchr(args, '=');

    /* base64 only has '=' as trailing padding */
    return strchr(args, '&') || (eq && eq[1] && eq[1] != '=');
}

static eas_query_status_e parse_plain(apr_pool_t *p, const char *args, eas_query_t *q,
                                      const char **why)
{
    const char *s = args;

    while (*s) {
        const char *amp = strchr(s, '&'), *eq;
        apr_size_t len = amp ? (apr_size_t)(amp - s) : strlen(s);
        char *name, *val;

        eq = memchr(s, '=', len);
        if (len == 0) {
            s++;
            continue;
        }
        if (!eq) {
            *why = "query parameter without a value";
            return EAS_QUERY_E_SYNTAX;
        }
        name = apr_pstrmemdup(p, s, (apr_size_t)(eq - s));
        val = unescape(p, eq + 1, len - (apr_size_t)(eq + 1 - s));
        if (!val) {
            *why = "bad percent-encoding in the query";
            return EAS_QUERY_E_SYNTAX;
        }
        if (!strcasecmp(name, "Cmd")) {
            q->cmd_name = val;
            q->cmd = eas_cmd_by_name(val);
        }
        else if (!strcasecmp(name, "User"))
            q->user = val;
        else if (!strcasecmp(name, "DeviceId")) {
            if (!valid_id(val, strlen(val))) {
                *why = "DeviceId has characters other than letters, digits, '-', '_', '.'";
                return EAS_QUERY_E_DEVICEID;
            }
            q->device_id = val;
        }
        else if (!strcasecmp(name, "DeviceType"))
            q->device_type = val;
        else if (!strcasecmp(name, "AttachmentName"))
            q->attachment_name = val;
        else if (!strcasecmp(name, "CollectionId"))
            q->collection_id = val;
        else if (!strcasecmp(name, "ItemId"))
            q->item_id = val;
        else if (!strcasecmp(name, "LongId"))
            q->long_id = val;
        else if (!strcasecmp(name, "Occurrence"))
            q->occurrence = val;
        else if (!strcasecmp(name, "SaveInSent"))
            q->save_in_sent = (val[0] == 'T' || val[0] == 't');
        /* anything else is ignored: clients add their own parameters */
        s = amp ? amp + 1 : s + len;
    }
    return EAS_QUERY_OK;
}

static const char *hex_id(apr_pool_t *p, const unsigned char *b, apr_size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, n * 2 + 1);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

static eas_query_status_e parse_base64(apr_pool_t *p, const char *args, eas_query_t *q,
                                       const char **why)
{
    char *b64 = unescape(p, args, strlen(args));
    unsigned char *buf;
    apr_size_t i, n, len, pos = 0;

    if (!b64) {
        *why = "bad percent-encoding in the base64 query";
        return EAS_QUERY_E_SYNTAX;
    }
    n = strlen(b64);
    for (i = 0; i < n; i++) {
        int c = (unsigned char)b64[i];
        if (!(apr_isalnum(c) || c == '+' || c == '/' || (c == '=' && i >= n - 2))) {
            *why = "the query is neither plain text nor base64";
            return EAS_QUERY_E_SYNTAX;
        }
    }
    buf = apr_palloc(p, (apr_size_t)apr_base64_decode_len(b64) + 1);
    len = (apr_size_t)apr_base64_decode_binary(buf, b64);

#define NEED(k)                                                                  \
    do {                                                                         \
        if (pos + (k) > len) {                                                   \
            *why = "the base64 query ends early";                                \
            return EAS_QUERY_E_SYNTAX;                                           \
        }                                                                        \
    } while (0)

    NEED(5);
    q->base64 = 1;
    q->version = buf[0];
    q->cmd = buf[1];
    q->cmd_name = eas_cmd_name(q->cmd);
    if (!q->cmd_name) {
        q->cmd_name = apr_itoa(p, buf[1]);
        q->cmd = EAS_CMD_UNKNOWN;
    }
    q->locale = buf[2] | (buf[3] << 8);
    pos = 4;
    n = buf[pos++];
    NEED(n);
    if (n) {
        const char *raw = (const char *)buf + pos;
        q->device_id = valid_id(raw, n) ? apr_pstrmemdup(p, raw, n) : hex_id(p, buf + pos, n);
        if (strlen(q->device_id) > MAX_ID_LEN) {
            *why = "DeviceId too long";
            return EAS_QUERY_E_DEVICEID;
        }
    }
    pos += n;
    NEED(1);
    n = buf[pos++];
    if (n != 0 && n != 4) {
        *why = "policy key length must be 0 or 4";
        return EAS_QUERY_E_SYNTAX;
    }
    NEED(n);
    if (n == 4) {
        q->has_policy_key = 1;
        q->policy_key = (apr_uint32_t)buf[pos] | ((apr_uint32_t)buf[pos + 1] << 8) |
                        ((apr_uint32_t)buf[pos + 2] << 16) | ((apr_uint32_t)buf[pos + 3] << 24);
    }
    pos += n;
    NEED(1);
    n = buf[pos++];
    NEED(n);
    if (n)
        q->device_type = apr_pstrmemdup(p, (const char *)buf + pos, n);
    pos += n;
    while (pos < len) {
        int tag;
        const char *val;

        NEED(2);
        tag = buf[pos];
        n = buf[pos + 1];
        pos += 2;
        NEED(n);
        val = apr_pstrmemdup(p, (const char *)buf + pos, n);
        switch (tag) {
        case P_ATTACHMENTNAME: q->attachment_name = val; break;
        case P_COLLECTIONID: q->collection_id = val; break;
        case P_ITEMID: q->item_id = val; break;
        case P_LONGID: q->long_id = val; break;
        case P_OCCURRENCE: q->occurrence = val; break;
        case P_USER: q->user = val; break;
        case P_OPTIONS:
            if (n != 1) {
                *why = "Options parameter must be one byte";
                return EAS_QUERY_E_SYNTAX;
            }
            q->save_in_sent = !!(buf[pos] & OPT_SAVEINSENT);
            q->accept_multipart = !!(buf[pos] & OPT_ACCEPTMULTIPART);
            break;
        default:
            break; /* unknown tags are skipped, their length is known */
        }
        pos += n;
    }
#undef NEED
    return EAS_QUERY_OK;
}

eas_query_status_e eas_query_parse(apr_pool_t *p, const char *args, eas_query_t *q,
                                   const char **why)
{
    eas_query_status_e st;

    memset(q, 0, sizeof(*q));
    q->cmd = EAS_CMD_UNKNOWN;
    q->locale = -1;
    *why = NULL;
    if (!args || !*args) {
        *why = "no query string";
        return EAS_QUERY_E_MISSING;
    }
    if (strlen(args) > MAX_QUERY_LEN) {
        *why = "query string too long";
        return EAS_QUERY_E_SYNTAX;
    }
    st = is_plain(args) ? parse_plain(p, args, q, why) : parse_base64(p, args, q, why);
    if (st != EAS_QUERY_OK)
        return st;
    if (!q->cmd_name || !q->user || !*q->user || !q->device_id || !q->device_type ||
        !*q->device_type) {
        *why = "Cmd, User, DeviceId and DeviceType are required";
        return EAS_QUERY_E_MISSING;
    }
    return EAS_QUERY_OK;
}

static void put_param(unsigned char *buf, apr_size_t *pos, int tag, const char *val)
{
    apr_size_t n = strlen(val);

    if (n > 255)
        n = 255;
    buf[(*pos)++] = (unsigned char)tag;
    buf[(*pos)++] = (unsigned char)n;
    memcpy(buf + *pos, val, n);
    *pos += n;
}

const char *eas_query_encode_base64(apr_pool_t *p, const eas_query_t *q)
{
    unsigned char buf[2304]; /* fixed fields + 6 parameters of <= 255 bytes */
    apr_size_t pos = 0, n;
    char *out;
    int locale = q->locale < 0 ? 0x0409 : q->locale;

    buf[pos++] = (unsigned char)q->version;
    buf[pos++] = (unsigned char)q->cmd;
    buf[pos++] = (unsigned char)(locale & 0xff);
    buf[pos++] = (unsigned char)(locale >> 8);
    n = q->device_id ? strlen(q->device_id) : 0;
    n = n > 255 ? 255 : n;
    buf[pos++] = (unsigned char)n;
    memcpy(buf + pos, q->device_id, n);
    pos += n;
    if (q->has_policy_key) {
        buf[pos++] = 4;
        buf[pos++] = (unsigned char)(q->policy_key & 0xff);
        buf[pos++] = (unsigned char)((q->policy_key >> 8) & 0xff);
        buf[pos++] = (unsigned char)((q->policy_key >> 16) & 0xff);
        buf[pos++] = (unsigned char)(q->policy_key >> 24);
    }
    else
        buf[pos++] = 0;
    n = q->device_type ? strlen(q->device_type) : 0;
    n = n > 255 ? 255 : n;
    buf[pos++] = (unsigned char)n;
    memcpy(buf + pos, q->device_type, n);
    pos += n;
    if (q->attachment_name) put_param(buf, &pos, P_ATTACHMENTNAME, q->attachment_name);
    if (q->collection_id) put_param(buf, &pos, P_COLLECTIONID, q->collection_id);
    if (q->item_id) put_param(buf, &pos, P_ITEMID, q->item_id);
    if (q->long_id) put_param(buf, &pos, P_LONGID, q->long_id);
    if (q->occurrence) put_param(buf, &pos, P_OCCURRENCE, q->occurrence);
    if (q->user) put_param(buf, &pos, P_USER, q->user);
    if (q->save_in_sent || q->accept_multipart) {
        buf[pos++] = P_OPTIONS;
        buf[pos++] = 1;
        buf[pos++] = (unsigned char)((q->save_in_sent ? OPT_SAVEINSENT : 0) |
                                     (q->accept_multipart ? OPT_ACCEPTMULTIPART : 0));
    }
    out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)pos));
    apr_base64_encode_binary(out, buf, (int)pos);
    return out;
}
