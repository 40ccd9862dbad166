#include "eas_autodiscover.h"
#include "eas_utf8.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* RFC 5321 path limit. */
#define EMAIL_MAX 320

/* ---- common helpers -------------------------------------------------- */

/* An address we are willing to echo: text@text, no spaces or controls. */
static int email_plausible(const char *e)
{
    const char *at = strrchr(e, '@');
    apr_size_t len = strlen(e);
    const unsigned char *c;

    if (!at || at == e || !at[1] || len > EMAIL_MAX || !eas_utf8_valid(e, len))
        return 0;
    for (c = (const unsigned char *)e; *c; c++)
        if (*c <= 0x20 || *c == 0x7F)
            return 0;
    return 1;
}

static int xml_char_ok(apr_uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
           || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* Escapes for element content; what XML cannot carry becomes '?'. */
static const char *xml_text(apr_pool_t *p, const char *s)
{
    apr_size_t len = s ? strlen(s) : 0, n;
    const unsigned char *u = (const unsigned char *)s;
    char *out = apr_palloc(p, len * 6 + 1), *o = out;
    apr_uint32_t cp;

    while (len) {
        n = eas_utf8_next(u, len, &cp);
        if (!n || !xml_char_ok(cp)) {
            *o++ = '?';
            n = n ? n : 1;
        } else if (cp == '<') {
            memcpy(o, "&lt;", 4), o += 4;
        } else if (cp == '>') {
            memcpy(o, "&gt;", 4), o += 4;
        } else if (cp == '&') {
            memcpy(o, "&amp;", 5), o += 5;
        } else if (cp == '\r') {
            memcpy(o, "&#13;", 5), o += 5;
        } else {
            memcpy(o, u, n), o += n;
        }
        u += n;
        len -= n;
    }
    *o = '\0';
    return out;
}

/* A JSON string body (without quotes); invalid UTF-8 becomes '?'. */
static const char *json_text(apr_pool_t *p, const char *s)
{
    apr_size_t len = strlen(s), n;
    const unsigned char *u = (const unsigned char *)s;
    char *out = apr_palloc(p, len * 6 + 1), *o = out;
    apr_uint32_t cp;

    while (len) {
        n = eas_utf8_next(u, len, &cp);
        if (!n) {
            *o++ = '?';
            n = 1;
        } else if (cp == '"' || cp == '\\') {
            *o++ = '\\';
            *o++ = (char)cp;
        } else if (cp < 0x20 || cp == 0x7F) {
            o += apr_snprintf(o, 7, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(o, u, n), o += n;
        }
        u += n;
        len -= n;
    }
    *o = '\0';
    return out;
}

/* ---- POX request (MS-ASCMD 2.2.1.1, schema 6.3) ----------------------- */

/* Called when the parser meets <!DOCTYPE: the request schema has no DTD,
 * and refusing it before the internal subset is read leaves no room for
 * entity expansion or external loads. */
static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
    xmlParserCtxtPtr ctxt = ctx;

    ctxt->_private = (void *)"DTD";
    xmlStopParser(ctxt);
}

static int named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcasecmp((const char *)n->name, name);
}

/* The only child element called name; *dup is set when there are several. */
static xmlNode *only_child(xmlNode *parent, const char *name, int *dup)
{
    xmlNode *c, *found = NULL;

    *dup = 0;
    for (c = parent->children; c; c = c->next)
        if (named(c, name)) {
            if (found)
                *dup = 1;
            found = c;
        }
    return found;
}

/* Trimmed text content, copied into p. */
static const char *text_of(apr_pool_t *p, xmlNode *n)
{
    xmlChar *t = xmlNodeGetContent(n);
    const char *b = t ? (const char *)t : "", *e;
    const char *out;

    while (apr_isspace(*b))
        b++;
    e = b + strlen(b);
    while (e > b && apr_isspace(e[-1]))
        e--;
    out = apr_pstrmemdup(p, b, e - b);
    xmlFree(t);
    return out;
}

static eas_autod_status_e fail(const char **why, const char *reason, eas_autod_status_e code)
{
    if (why)
        *why = reason;
    return code;
}

eas_autod_status_e eas_autod_parse(apr_pool_t *p, const char *body, apr_size_t len,
                                   eas_autod_request_t *req, const char **why)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    xmlNode *root, *request, *email, *schema;
    eas_autod_status_e rc = EAS_AUTOD_E_INVALID;
    int dup;

    req->email = req->schema = NULL;
    if (!body || !len)
        return fail(why, "empty request", EAS_AUTOD_E_INVALID);
    if (len > EAS_AUTOD_MAX_REQUEST)
        return fail(why, "request too large", EAS_AUTOD_E_INVALID);
    if ((ctxt = xmlNewParserCtxt()) == NULL)
        return fail(why, "out of memory", EAS_AUTOD_E_INVALID);
    ctxt->sax->internalSubset = refuse_dtd;
    /* No XML_PARSE_NOENT / DTDLOAD / XINCLUDE / HUGE: entities stay
     * unexpanded and libxml2's size and depth limits hold. */
    doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
                                | XML_PARSE_NOCDATA);
    /* A stopped parse may still hand back an (empty) document. */
    if (ctxt->_private || !doc) {
        rc = fail(why, ctxt->_private ? "DTD not allowed" : "malformed XML",
                  EAS_AUTOD_E_INVALID);
        goto leave;
    }
    if ((root = xmlDocGetRootElement(doc)) == NULL || !named(root, "Autodiscover")) {
        rc = fail(why, "root element is not Autodiscover", EAS_AUTOD_E_INVALID);
        goto leave;
    }
    /* More than one Request is a 600 (MS-ASCMD 2.2.3.150.1). */
    if ((request = only_child(root, "Request", &dup)) == NULL || dup) {
        rc = fail(why, request ? "several Request elements" : "no Request element",
                  EAS_AUTOD_E_INVALID);
        goto leave;
    }
    schema = only_child(request, "AcceptableResponseSchema", &dup);
    if (schema && !dup)
        req->schema = text_of(p, schema);
    email = only_child(request, "EMailAddress", &dup);
    if (email && !dup)
        req->email = text_of(p, email);
    if (req->schema && strcasecmp(req->schema, EAS_AUTOD_NS_MOBILESYNC)) {
        rc = fail(why, "response schema not served", EAS_AUTOD_E_PROVIDER);
        goto leave;
    }
    if (!req->schema) {
        rc = fail(why, "no single AcceptableResponseSchema", EAS_AUTOD_E_INVALID);
        goto leave;
    }
    if (!req->email || !email_plausible(req->email)) {
        rc = fail(why, req->email ? "EMailAddress is not an address" : "no single EMailAddress",
                  EAS_AUTOD_E_INVALID);
        goto leave;
    }
    rc = EAS_AUTOD_OK;

leave:
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

/* ---- POX responses (MS-ASCMD 2.2.1.1, schemas 6.2 and 6.4) ------------- */

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
#define MS_OPEN  "<Autodiscover xmlns=\"" EAS_AUTOD_NS_RESPONSE "\">\n" \
                 "  <Response xmlns=\"" EAS_AUTOD_NS_MOBILESYNC "\">\n" \
                 "    <Culture>en:us</Culture>\n"
#define MS_CLOSE "  </Response>\n</Autodiscover>\n"

static const char *user_xml(apr_pool_t *p, const char *email, const char *display_name)
{
    return apr_pstrcat(p, "    <User>\n",
                       display_name ? "      <DisplayName>" : "",
                       display_name ? xml_text(p, display_name) : "",
                       display_name ? "</DisplayName>\n" : "",
                       "      <EMailAddress>", xml_text(p, email), "</EMailAddress>\n",
                       "    </User>\n", NULL);
}

const char *eas_autod_settings_xml(apr_pool_t *p, const char *email, const char *display_name,
                                   const char *url)
{
    const char *u = xml_text(p, url);

    return apr_pstrcat(p, XML_HEAD MS_OPEN, user_xml(p, email, display_name),
                       "    <Action>\n"
                       "      <Settings>\n"
                       "        <Server>\n"
                       "          <Type>MobileSync</Type>\n"
                       "          <Url>", u, "</Url>\n"
                       "          <Name>", u, "</Name>\n"
                       "        </Server>\n"
                       "      </Settings>\n"
                       "    </Action>\n" MS_CLOSE, NULL);
}

const char *eas_autod_redirect_xml(apr_pool_t *p, const char *email, const char *redirect_email)
{
    return apr_pstrcat(p, XML_HEAD MS_OPEN, user_xml(p, email, NULL),
                       "    <Action>\n"
                       "      <Redirect>", xml_text(p, redirect_email), "</Redirect>\n"
                       "    </Action>\n" MS_CLOSE, NULL);
}

const char *eas_autod_action_error_xml(apr_pool_t *p, const char *email, int status,
                                       const char *message)
{
    return apr_pstrcat(p, XML_HEAD MS_OPEN, user_xml(p, email, NULL),
                       "    <Action>\n"
                       "      <Error>\n"
                       "        <Status>", apr_itoa(p, status), "</Status>\n"
                       "        <Message>", xml_text(p, message), "</Message>\n"
                       "        <DebugData />\n"
                       "      </Error>\n"
                       "    </Action>\n" MS_CLOSE, NULL);
}

const char *eas_autod_error_xml(apr_pool_t *p, eas_autod_status_e code)
{
    /* Messages as Exchange words them (MS-OXDSCLI 2.2.4.1.1.3). */
    const char *msg = code == EAS_AUTOD_E_PROVIDER ? "Provider is not available"
                                                   : "Invalid Request";

    if (code != EAS_AUTOD_E_PROVIDER)
        code = EAS_AUTOD_E_INVALID;
    return apr_psprintf(p, XML_HEAD
                        "<Autodiscover xmlns=\"" EAS_AUTOD_NS_RESPONSE "\">\n"
                        "  <Response>\n"
                        "    <Error>\n"
                        "      <ErrorCode>%d</ErrorCode>\n"
                        "      <Message>%s</Message>\n"
                        "      <DebugData />\n"
                        "    </Error>\n"
                        "  </Response>\n"
                        "</Autodiscover>\n", (int)code, msg);
}

/* ---- JSON (autodiscover v2) ------------------------------------------ */

/* %-decoding ('+' is a space in a query); NULL when the result holds a NUL
 * or is not UTF-8.  A '%' without two hex digits stays as it is. */
static const char *url_decode(apr_pool_t *p, const char *s, apr_size_t len, int plus)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && apr_isxdigit(s[i + 1]) && apr_isxdigit(s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};

            *o = (char)strtol(hex, NULL, 16);
            if (!*o)
                return NULL;
            o++;
            i += 2;
        } else {
            *o++ = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    return eas_utf8_valid(out, o - out) ? out : NULL;
}

/* First value of a query parameter (name case-insensitive); *bad is set
 * when it is present but does not decode. */
static const char *query_param(apr_pool_t *p, const char *q, const char *name, int *bad)
{
    apr_size_t nlen = strlen(name);

    while (q && *q) {
        const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
        const char *eq = memchr(q, '=', end - q);

        if (eq && (apr_size_t)(eq - q) == nlen && !strncasecmp(q, name, nlen)) {
            const char *v = url_decode(p, eq + 1, end - eq - 1, 1);

            *bad = v == NULL;
            return v;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* Case-insensitive search for needle in haystack. */
static const char *find_nocase(const char *h, const char *needle)
{
    apr_size_t n = strlen(needle);

    for (; *h; h++)
        if (!strncasecmp(h, needle, n))
            return h;
    return NULL;
}

static void json_reply(apr_pool_t *p, eas_autod_json_t *out, int status, const char *k1,
                       const char *v1, const char *k2, const char *v2)
{
    out->http_status = status;
    out->body = apr_pstrcat(p, "{\"", k1, "\":\"", json_text(p, v1), "\",\"", k2, "\":\"",
                            json_text(p, v2), "\"}", NULL);
}

void eas_autod_json(apr_pool_t *p, const char *path, const char *query, const char *eas_url,
                    const char *pox_url, eas_autod_json_t *out)
{
    const char *at = path ? find_nocase(path, "autodiscover.json") : NULL;
    const char *rest, *proto, *safe;
    int bad_email = 0, bad_proto = 0;
    char *s;

    memset(out, 0, sizeof(*out));
    if (!at) {
        json_reply(p, out, 404, "ErrorCode", "NotFound", "ErrorMessage",
                   "Not an autodiscover.json path");
        return;
    }
    rest = at + strlen("autodiscover.json");
    if (!strncasecmp(rest, "/v1.0/", 6)) {
        const char *seg = rest + 6, *slash = strchr(seg, '/');
        apr_size_t n = slash ? (apr_size_t)(slash - seg) : strlen(seg);

        if (slash && slash[1]) {
            json_reply(p, out, 404, "ErrorCode", "NotFound", "ErrorMessage",
                       "Not an autodiscover.json path");
            return;
        }
        out->email = n ? url_decode(p, seg, n, 0) : NULL;
        bad_email = n && !out->email;
    } else if (*rest && strcmp(rest, "/")) {
        json_reply(p, out, 404, "ErrorCode", "NotFound", "ErrorMessage",
                   "Not an autodiscover.json path");
        return;
    }
    if (!out->email && !bad_email)
        out->email = query_param(p, query, "Email", &bad_email);
    out->protocol = proto = query_param(p, query, "Protocol", &bad_proto);

    if (bad_email || (out->email && !email_plausible(out->email))) {
        json_reply(p, out, 400, "ErrorCode", "InvalidUser", "ErrorMessage",
                   "The given email address is invalid");
        return;
    }
    if (proto && !strcasecmp(proto, "ActiveSync") && eas_url) {
        json_reply(p, out, 200, "Protocol", "ActiveSync", "Url", eas_url);
        return;
    }
    if (proto && !strcasecmp(proto, "AutodiscoverV1") && pox_url) {
        json_reply(p, out, 200, "Protocol", "AutodiscoverV1", "Url", pox_url);
        return;
    }
    /* Exchange names the rejected value; only its letters and digits are
     * echoed, which is all a protocol name has. */
    safe = s = apr_palloc(p, (proto ? strlen(proto) : 0) + 1);
    for (; proto && *proto; proto++)
        if (apr_isalnum(*proto))
            *s++ = *proto;
    *s = '\0';
    json_reply(p, out, 400, "ErrorCode", "InvalidProtocol", "ErrorMessage",
               apr_pstrcat(p, "The given protocol value '", safe,
                           "' is invalid. Supported values are '",
                           pox_url ? "ActiveSync,AutodiscoverV1'" : "ActiveSync'", NULL));
}
