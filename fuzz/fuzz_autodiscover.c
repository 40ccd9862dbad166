/*
 * libFuzzer target for the Autodiscover parsers: the POX body through
 * eas_autod_parse() (and, when it parses, the response built from what it
 * found), and the same bytes split into path and query for eas_autod_json().
 */
#include "eas_autodiscover.h"

#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static apr_pool_t *root;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    apr_pool_t *p;
    eas_autod_request_t req;
    eas_autod_json_t j;
    const char *nl;
    char *s;

    if (!root) {
        apr_initialize();
        xmlInitParser();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);

    if (eas_autod_parse(p, (const char *)data, size, &req, NULL) == EAS_AUTOD_OK)
        eas_autod_settings_xml(p, req.email, req.email, "https://x.test/Microsoft-Server-ActiveSync");

    /* First line the path, the rest the query. */
    s = apr_pstrmemdup(p, (const char *)data, size);
    nl = strchr(s, '\n');
    if (nl)
        s[nl - s] = '\0';
    eas_autod_json(p, s, nl ? nl + 1 : NULL, "https://x.test/Microsoft-Server-ActiveSync",
                   "https://x.test/autodiscover/autodiscover.xml", &j);

    apr_pool_destroy(p);
    return 0;
}
