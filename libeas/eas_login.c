#include "eas_login.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

const char *eas_login_normalize(apr_pool_t *p, const char *raw, int strip_domain)
{
    const char *s = raw, *e, *bs;
    char *out, *c;

    if (!raw)
        return NULL;
    while (apr_isspace(*s))
        s++;
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1]))
        e--;
    if ((bs = memchr(s, '\\', (apr_size_t)(e - s))) != NULL)
        s = bs + 1;
    if (strip_domain) {
        const char *at = memchr(s, '@', (apr_size_t)(e - s));
        if (at)
            e = at;
    }
    out = apr_pstrmemdup(p, s, (apr_size_t)(e - s));
    for (c = out; *c; c++)
        *c = (char)apr_tolower(*c);
    return out;
}
