/* Autodiscover: POX requests as real clients send them, hostile XML, the
 * responses parsed back, and the JSON v2 answers. */
#include "tap.h"
#include "eas_autodiscover.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#define MS_REQ "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"

/* iOS Mail (Exchange account setup). */
static const char ios_req[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Autodiscover xmlns=\"" MS_REQ "\">\n"
    "  <Request>\n"
    "    <EMailAddress>jane.doe@example.test</EMailAddress>\n"
    "    <AcceptableResponseSchema>" EAS_AUTOD_NS_MOBILESYNC "</AcceptableResponseSchema>\n"
    "  </Request>\n"
    "</Autodiscover>\n";

/* Android (Samsung Email / AOSP Exchange): one line, prefixed namespace. */
static const char android_req[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<a:Autodiscover xmlns:a=\"" MS_REQ "\"><a:Request>"
    "<a:EMailAddress>bob@example.test</a:EMailAddress>"
    "<a:AcceptableResponseSchema>" EAS_AUTOD_NS_MOBILESYNC "</a:AcceptableResponseSchema>"
    "</a:Request></a:Autodiscover>";

/* Outlook for Windows asks for its own schema. */
static const char outlook_req[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
    "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "requestschema/2006\">\r\n"
    "  <Request>\r\n"
    "    <EMailAddress>jane.doe@example.test</EMailAddress>\r\n"
    "    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/2006a</AcceptableResponseSchema>\r\n"
    "  </Request>\r\n"
    "</Autodiscover>\r\n";

/* A UTF-16 body with a BOM, as some Windows tools send. */
static char *utf16(apr_pool_t *p, const char *s, apr_size_t *len)
{
    apr_size_t n = strlen(s), i;
    char *out = apr_palloc(p, 2 * n + 2);

    out[0] = (char)0xFF;
    out[1] = (char)0xFE;
    for (i = 0; i < n; i++) {
        out[2 + 2 * i] = s[i];
        out[3 + 2 * i] = 0;
    }
    *len = 2 * n + 2;
    return out;
}

static eas_autod_status_e parse(apr_pool_t *p, const char *body, eas_autod_request_t *req,
                                const char **why)
{
    return eas_autod_parse(p, body, strlen(body), req, why);
}

static const char *req_with(apr_pool_t *p, const char *inner)
{
    return apr_pstrcat(p, "<Autodiscover xmlns=\"" MS_REQ "\">", inner, "</Autodiscover>", NULL);
}

/* Text of the single node expr selects (a: response ns, m: mobilesync ns). */
static const char *xp(xmlDocPtr doc, const char *expr)
{
    static char buf[512];
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o;
    const char *r = NULL;

    xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST EAS_AUTOD_NS_RESPONSE);
    xmlXPathRegisterNs(ctx, BAD_CAST "m", BAD_CAST EAS_AUTOD_NS_MOBILESYNC);
    o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
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

static xmlDocPtr read_back(const char *xml)
{
    return xmlReadMemory(xml, strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
}

static void test_clients(apr_pool_t *p)
{
    eas_autod_request_t req;
    const char *why = NULL;
    apr_size_t len;
    char *u16;

    is_int(parse(p, ios_req, &req, &why), EAS_AUTOD_OK, "iOS request accepted");
    is_str(req.email, "jane.doe@example.test", "iOS: address");
    is_str(req.schema, EAS_AUTOD_NS_MOBILESYNC, "iOS: schema");
    is_int(parse(p, android_req, &req, &why), EAS_AUTOD_OK, "Android request accepted");
    is_str(req.email, "bob@example.test", "Android: address with prefixed namespace");

    why = NULL;
    is_int(parse(p, outlook_req, &req, &why), EAS_AUTOD_E_PROVIDER,
           "Outlook schema gets 601 (no provider)");
    ok(why != NULL, "601 comes with a reason");
    is_str(req.email, "jane.doe@example.test", "the address is still reported for the log");

    is_int(parse(p, req_with(p, "<request><emailaddress> x@y.test </emailaddress>"
                                "<acceptableresponseschema>" EAS_AUTOD_NS_MOBILESYNC
                                "</acceptableresponseschema></request>"), &req, NULL),
           EAS_AUTOD_OK, "element names in another case, no namespace");
    is_str(req.email, "x@y.test", "address trimmed");
    is_int(parse(p, req_with(p, "<Request><AcceptableResponseSchema>" EAS_AUTOD_NS_MOBILESYNC
                                "</AcceptableResponseSchema><EMailAddress>a@b</EMailAddress>"
                                "<LegacyDN>/o=x</LegacyDN></Request>"), &req, NULL),
           EAS_AUTOD_OK, "elements in another order and unknown ones are fine");
    is_int(parse(p, req_with(p, "<Request><EMailAddress><![CDATA[c@d.test]]></EMailAddress>"
                                "<AcceptableResponseSchema>" EAS_AUTOD_NS_MOBILESYNC
                                "</AcceptableResponseSchema></Request>"), &req, NULL),
           EAS_AUTOD_OK, "CDATA content");
    is_str(req.email, "c@d.test", "CDATA address");

    u16 = utf16(p, ios_req + strlen("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), &len);
    is_int(eas_autod_parse(p, u16, len, &req, NULL), EAS_AUTOD_OK, "UTF-16 body with BOM");
    is_str(req.email, "jane.doe@example.test", "UTF-16: address decoded");
}

static void test_invalid(apr_pool_t *p)
{
    eas_autod_request_t req;
    const char *why;
    const char *good_schema = "<AcceptableResponseSchema>" EAS_AUTOD_NS_MOBILESYNC
                              "</AcceptableResponseSchema>";

    is_int(eas_autod_parse(p, "", 0, &req, NULL), EAS_AUTOD_E_INVALID, "empty body: 600");
    is_int(eas_autod_parse(p, NULL, 0, &req, NULL), EAS_AUTOD_E_INVALID, "no body: 600");
    is_int(parse(p, "hello", &req, NULL), EAS_AUTOD_E_INVALID, "not XML: 600");
    is_int(eas_autod_parse(p, ios_req, sizeof(ios_req) / 2, &req, NULL), EAS_AUTOD_E_INVALID,
           "truncated: 600");
    is_int(parse(p, "<Autodiscover><Request><EMailAddress>a@b</Request></Autodiscover>", &req,
                 NULL), EAS_AUTOD_E_INVALID, "mismatched tags: 600");
    is_int(parse(p, "<Discover><Request/></Discover>", &req, NULL), EAS_AUTOD_E_INVALID,
           "wrong root: 600");
    is_int(parse(p, req_with(p, ""), &req, NULL), EAS_AUTOD_E_INVALID, "no Request: 600");
    is_int(parse(p, req_with(p, apr_pstrcat(p, "<Request><EMailAddress>a@b</EMailAddress>",
                                            good_schema, "</Request><Request/>", NULL)),
                 &req, NULL), EAS_AUTOD_E_INVALID, "two Request elements: 600");
    is_int(parse(p, req_with(p, apr_pstrcat(p, "<Request>", good_schema, "</Request>", NULL)),
                 &req, NULL), EAS_AUTOD_E_INVALID, "no EMailAddress: 600");
    is_int(parse(p, req_with(p, "<Request><EMailAddress>a@b</EMailAddress></Request>"), &req,
                 NULL), EAS_AUTOD_E_INVALID, "no AcceptableResponseSchema: 600");
    is_int(parse(p, req_with(p, apr_pstrcat(p, "<Request><EMailAddress>jane</EMailAddress>",
                                            good_schema, "</Request>", NULL)), &req, NULL),
           EAS_AUTOD_E_INVALID, "address without @: 600");
    is_int(parse(p, req_with(p, apr_pstrcat(p, "<Request><EMailAddress>a b@c</EMailAddress>",
                                            good_schema, "</Request>", NULL)), &req, NULL),
           EAS_AUTOD_E_INVALID, "address with a space: 600");
    is_int(parse(p, req_with(p, apr_pstrcat(p, "<Request><EMailAddress>a@b</EMailAddress>"
                                            "<EMailAddress>c@d</EMailAddress>",
                                            good_schema, "</Request>", NULL)), &req, NULL),
           EAS_AUTOD_E_INVALID, "two addresses: 600");
    is_int(parse(p, req_with(p, "<Request><EMailAddress>a@b&amp;c</EMailAddress>"
                                "<AcceptableResponseSchema>x</AcceptableResponseSchema>"
                                "</Request>"), &req, NULL),
           EAS_AUTOD_E_PROVIDER, "an unknown schema: 601");
    why = NULL;
    is_int(parse(p, req_with(p, apr_pstrcat(p, "<Request><EMailAddress>&nbsp;a@b</EMailAddress>",
                                            good_schema, "</Request>", NULL)), &req, &why),
           EAS_AUTOD_E_INVALID, "an undeclared entity: 600");
    ok(why != NULL, "600 comes with a reason");
}

static void test_hostile(apr_pool_t *p)
{
    eas_autod_request_t req;
    const char *why = NULL, *laughs;
    char *big, *deep, *o;
    apr_time_t t0;
    int i;

    /* Billion laughs: ten levels of ten references. */
    laughs = "<?xml version=\"1.0\"?><!DOCTYPE Autodiscover [<!ENTITY l0 \"lol\">";
    for (i = 1; i < 10; i++)
        laughs = apr_psprintf(p, "%s<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;"
                                 "&l%d;&l%d;\">", laughs, i, i - 1, i - 1, i - 1, i - 1, i - 1,
                              i - 1, i - 1, i - 1, i - 1, i - 1);
    laughs = apr_pstrcat(p, laughs, "]>", req_with(p, "<Request><EMailAddress>&l9;@x"
                                                      "</EMailAddress><AcceptableResponseSchema>"
                                                      EAS_AUTOD_NS_MOBILESYNC
                                                      "</AcceptableResponseSchema></Request>"),
                         NULL);
    t0 = apr_time_now();
    is_int(parse(p, laughs, &req, &why), EAS_AUTOD_E_INVALID, "billion laughs: 600");
    is_str(why, "DTD not allowed", "refused for its DTD");
    ok(req.email == NULL, "nothing was expanded");
    diag("billion laughs refused in %" APR_TIME_T_FMT " us", apr_time_now() - t0);

    why = NULL;
    is_int(parse(p, apr_pstrcat(p, "<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "
                                   "\"file:///etc/passwd\">]>",
                                req_with(p, "<Request><EMailAddress>&x;</EMailAddress>"
                                            "<AcceptableResponseSchema>" EAS_AUTOD_NS_MOBILESYNC
                                            "</AcceptableResponseSchema></Request>"), NULL),
                 &req, &why), EAS_AUTOD_E_INVALID, "external entity (XXE): 600");
    is_str(why, "DTD not allowed", "XXE refused for its DTD");
    is_int(parse(p, apr_pstrcat(p, "<!DOCTYPE Autodiscover SYSTEM \"http://127.0.0.1:9/x.dtd\">",
                                ios_req + 39, NULL), &req, NULL),
           EAS_AUTOD_E_INVALID, "external DTD: 600, nothing fetched");
    is_int(parse(p, apr_pstrcat(p, "<!DOCTYPE Autodiscover [<!ENTITY % pe SYSTEM "
                                   "\"file:///etc/passwd\"> %pe;]>", ios_req + 39, NULL),
                 &req, NULL), EAS_AUTOD_E_INVALID, "parameter entity: 600");
    is_int(parse(p, "<?xml version=\"1.0\"?><?xml-stylesheet href=\"file:///etc/passwd\"?>"
                    "<Autodiscover><Request/></Autodiscover>", &req, NULL),
           EAS_AUTOD_E_INVALID, "processing instructions do nothing");

    big = apr_palloc(p, EAS_AUTOD_MAX_REQUEST + 2);
    memset(big, ' ', EAS_AUTOD_MAX_REQUEST + 1);
    memcpy(big, ios_req, strlen(ios_req));
    big[EAS_AUTOD_MAX_REQUEST + 1] = '\0';
    why = NULL;
    is_int(parse(p, big, &req, &why), EAS_AUTOD_E_INVALID, "over the size limit: 600");
    is_str(why, "request too large", "refused for its size");
    big[EAS_AUTOD_MAX_REQUEST] = '\0';
    is_int(parse(p, big, &req, NULL), EAS_AUTOD_OK, "at the size limit (trailing spaces): fine");

    deep = o = apr_palloc(p, EAS_AUTOD_MAX_REQUEST + 1);
    o += sprintf(o, "<Autodiscover>");
    for (i = 0; i < 5000 && o - deep < EAS_AUTOD_MAX_REQUEST - 20; i++)
        o += sprintf(o, "<a>");
    is_int(eas_autod_parse(p, deep, o - deep, &req, NULL), EAS_AUTOD_E_INVALID,
           "thousands of nested elements: 600, no crash");
    is_int(eas_autod_parse(p, "<Autodiscover>\0<Request/>", 25, &req, NULL),
           EAS_AUTOD_E_INVALID, "NUL byte inside: 600");
}

static void test_responses(apr_pool_t *p)
{
    const char *xml;
    xmlDocPtr d;

    xml = eas_autod_settings_xml(p, "jane.doe@example.test", "Jane \"J\" Doe & <Co>",
                                 "https://mail.example.test/Microsoft-Server-ActiveSync");
    d = read_back(xml);
    ok(d != NULL, "settings response is well-formed");
    is_str(xp(d, "/a:Autodiscover/m:Response/m:User/m:DisplayName"), "Jane \"J\" Doe & <Co>",
           "display name escaped and read back");
    is_str(xp(d, "/a:Autodiscover/m:Response/m:User/m:EMailAddress"), "jane.doe@example.test",
           "address");
    is_str(xp(d, "/a:Autodiscover/m:Response/m:Culture"), "en:us", "culture");
    is_str(xp(d, "/a:Autodiscover/m:Response/m:Action/m:Settings/m:Server/m:Type"), "MobileSync",
           "server type MobileSync");
    is_str(xp(d, "/a:Autodiscover/m:Response/m:Action/m:Settings/m:Server/m:Url"),
           "https://mail.example.test/Microsoft-Server-ActiveSync", "Url");
    is_str(xp(d, "/a:Autodiscover/m:Response/m:Action/m:Settings/m:Server/m:Name"),
           "https://mail.example.test/Microsoft-Server-ActiveSync", "Name carries the URL too");
    xmlFreeDoc(d);

    xml = eas_autod_settings_xml(p, "a@b", NULL, "https://x/?a=1&b=2");
    d = read_back(xml);
    ok(d && !xp(d, "//m:DisplayName"), "no DisplayName element without a name");
    is_str(xp(d, "//m:Url"), "https://x/?a=1&b=2", "& in the URL escaped");
    xmlFreeDoc(d);

    d = read_back(eas_autod_settings_xml(p, "a@b", "bad\xff\x01name\xc3", "u"));
    ok(d != NULL, "invalid UTF-8 and control characters do not break the document");
    is_str(xp(d, "//m:DisplayName"), "bad??name?", "they become '?'");
    xmlFreeDoc(d);

    d = read_back(eas_autod_redirect_xml(p, "a@old.test", "a@new.test"));
    is_str(xp(d, "/a:Autodiscover/m:Response/m:Action/m:Redirect"), "a@new.test",
           "redirect response");
    xmlFreeDoc(d);

    d = read_back(eas_autod_action_error_xml(p, "a@b", 2, "No such user"));
    is_str(xp(d, "/a:Autodiscover/m:Response/m:Action/m:Error/m:Status"), "2",
           "action error: status");
    is_str(xp(d, "//m:Error/m:Message"), "No such user", "action error: message");
    xmlFreeDoc(d);

    d = read_back(eas_autod_error_xml(p, EAS_AUTOD_E_INVALID));
    is_str(xp(d, "/a:Autodiscover/a:Response/a:Error/a:ErrorCode"), "600", "error 600");
    is_str(xp(d, "//a:Error/a:Message"), "Invalid Request", "600 message");
    xmlFreeDoc(d);
    d = read_back(eas_autod_error_xml(p, EAS_AUTOD_E_PROVIDER));
    is_str(xp(d, "/a:Autodiscover/a:Response/a:Error/a:ErrorCode"), "601", "error 601");
    is_str(xp(d, "//a:Error/a:Message"), "Provider is not available", "601 message");
    ok(xp(d, "//a:Error/a:DebugData") != NULL, "DebugData present");
    xmlFreeDoc(d);
}

static void test_json(apr_pool_t *p)
{
    const char *url = "https://mail.example.test/Microsoft-Server-ActiveSync";
    const char *pox = "https://mail.example.test/autodiscover/autodiscover.xml";
    eas_autod_json_t j;

    eas_autod_json(p, "/autodiscover/autodiscover.json",
                   "Email=jane%40example.test&Protocol=ActiveSync&RedirectCount=1", url, pox, &j);
    is_int(j.http_status, 200, "query form: 200");
    is_str(j.body, "{\"Protocol\":\"ActiveSync\",\"Url\":\"" "https://mail.example.test/"
                   "Microsoft-Server-ActiveSync\"}", "query form: Protocol and Url");
    is_str(j.email, "jane@example.test", "query form: address decoded");

    eas_autod_json(p, "/Autodiscover/Autodiscover.json/v1.0/jane%40example.test",
                   "Protocol=activesync", url, NULL, &j);
    is_int(j.http_status, 200, "v1.0 path form, any case: 200");
    is_str(j.email, "jane@example.test", "v1.0 form: address from the path");
    is_str(j.protocol, "activesync", "protocol as sent");

    eas_autod_json(p, "/autodiscover/autodiscover.json/v1.0/jane@example.test/",
                   "Protocol=ActiveSync", url, NULL, &j);
    is_int(j.http_status, 200, "trailing slash after the address: 200");

    eas_autod_json(p, "/autodiscover/autodiscover.json", "Email=a@b&Protocol=AutodiscoverV1",
                   url, pox, &j);
    is_int(j.http_status, 200, "AutodiscoverV1 with a POX URL: 200");
    is_str(j.body, "{\"Protocol\":\"AutodiscoverV1\",\"Url\":\"" "https://mail.example.test/"
                   "autodiscover/autodiscover.xml\"}", "AutodiscoverV1 points at the POX URL");
    eas_autod_json(p, "/autodiscover/autodiscover.json", "Email=a@b&Protocol=AutodiscoverV1",
                   url, NULL, &j);
    is_int(j.http_status, 400, "AutodiscoverV1 without a POX URL: 400");
    is_str(j.body, "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol "
                   "value 'AutodiscoverV1' is invalid. Supported values are 'ActiveSync'\"}",
           "the message lists what is supported");

    eas_autod_json(p, "/autodiscover/autodiscover.json", "Email=a@b&Protocol=Ews", url, pox, &j);
    is_int(j.http_status, 400, "Ews: 400");
    is_str(j.body, "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol "
                   "value 'Ews' is invalid. Supported values are 'ActiveSync,AutodiscoverV1'\"}",
           "InvalidProtocol as Exchange words it");
    eas_autod_json(p, "/autodiscover/autodiscover.json", "Email=a@b", url, pox, &j);
    is_int(j.http_status, 400, "no Protocol: 400");
    eas_autod_json(p, "/autodiscover/autodiscover.json",
                   "Protocol=%22%7D%3Cscript%3E%5C", url, pox, &j);
    is_str(j.body, "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol "
                   "value 'script' is invalid. Supported values are 'ActiveSync,AutodiscoverV1'\"}",
           "a hostile protocol value is reduced to letters and digits");
    eas_autod_json(p, "/autodiscover/autodiscover.json", "Protocol=Active%00Sync", url, pox, &j);
    is_int(j.http_status, 400, "NUL in the protocol: 400");

    eas_autod_json(p, "/autodiscover/autodiscover.json", "Protocol=ActiveSync", url, pox, &j);
    is_int(j.http_status, 200, "no address: still the URL");
    ok(j.email == NULL, "no address reported");
    eas_autod_json(p, "/autodiscover/autodiscover.json", "Email=jane&Protocol=ActiveSync", url,
                   pox, &j);
    is_int(j.http_status, 400, "address without @: 400");
    ok(strstr(j.body, "\"InvalidUser\"") != NULL, "InvalidUser");
    eas_autod_json(p, "/autodiscover/autodiscover.json/v1.0/a%ff@b", "Protocol=ActiveSync", url,
                   pox, &j);
    is_int(j.http_status, 400, "address that is not UTF-8: 400");

    eas_autod_json(p, "/autodiscover/autodiscover.json/v2.0/a@b", "Protocol=ActiveSync", url, pox,
                   &j);
    is_int(j.http_status, 404, "unknown path version: 404");
    eas_autod_json(p, "/autodiscover/autodiscover.json/v1.0/a@b/extra", "Protocol=ActiveSync",
                   url, pox, &j);
    is_int(j.http_status, 404, "extra path segment: 404");
    eas_autod_json(p, "/autodiscover/autodiscover.xml", "Protocol=ActiveSync", url, pox, &j);
    is_int(j.http_status, 404, "not autodiscover.json: 404");
    eas_autod_json(p, NULL, NULL, url, pox, &j);
    is_int(j.http_status, 404, "no path: 404");

    eas_autod_json(p, "/autodiscover/autodiscover.json", "Protocol=ActiveSync",
                   "https://x/\"q\"\\", pox, &j);
    is_str(j.body, "{\"Protocol\":\"ActiveSync\",\"Url\":\"https://x/\\\"q\\\"\\\\\"}",
           "quotes and backslashes in the URL are escaped");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    xmlInitParser();
    apr_pool_create(&p, NULL);

    test_clients(p);
    test_invalid(p);
    test_hostile(p);
    test_responses(p);
    test_json(p);

    apr_pool_destroy(p);
    xmlCleanupParser();
    apr_terminate();
    return tap_done();
}
