#include "eas_mime_opts.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <gmime/gmime.h>

#define MAX_PREFS 8

static apr_uint64_t number(const char *s, apr_uint64_t dflt)
{
    char *end;
    apr_uint64_t v;

    if (!s || *s < '0' || *s > '9')
        return dflt;
    v = (apr_uint64_t)strtoull(s, &end, 10);
    return *end ? dflt : v;
}

static int read_pref(const eas_node_t *n, eas_mime_bodypref_t *b)
{
    memset(b, 0, sizeof(*b));
    b->type = (int)number(eas_node_child_text(n, EAS_AirSyncBase_Type), 0);
    if (b->type < EAS_BODY_PLAIN || b->type > EAS_BODY_MIME)
        return 0;
    b->truncation_size = number(eas_node_child_text(n, EAS_AirSyncBase_TruncationSize),
                                EAS_MIME_NO_TRUNCATION);
    b->all_or_none = number(eas_node_child_text(n, EAS_AirSyncBase_AllOrNone), 0) == 1;
    b->preview = (int)number(eas_node_child_text(n, EAS_AirSyncBase_Preview), 0);
    if (b->preview > 255)
        b->preview = 255;   /* MS-ASAIRS 2.2.2.35: at most 255 characters */
    return 1;
}

void eas_mime_options_read(apr_pool_t *p, const eas_node_t *opts, eas_mime_options_t *o)
{
    eas_mime_bodypref_t *body = apr_pcalloc(p, sizeof(*body) * MAX_PREFS);
    eas_mime_bodypref_t *part = apr_pcalloc(p, sizeof(*part) * MAX_PREFS);
    const eas_node_t *n;
    int nb = 0, np = 0;

    o->mime_support = 0;
    o->truncation = EAS_MIME_NO_TRUNCATION;
    o->mime_truncation = EAS_MIME_NO_TRUNCATION;
    for (n = opts ? opts->first : NULL; n; n = n->next) {
        switch (n->tag) {
        case EAS_AirSyncBase_BodyPreference:
            if (nb < MAX_PREFS && read_pref(n, &body[nb]))
                nb++;
            break;
        case EAS_AirSyncBase_BodyPartPreference:
            if (np < MAX_PREFS && read_pref(n, &part[np]))
                np++;
            break;
        case EAS_AirSync_MIMESupport:
            o->mime_support = (int)number(n->text, 0);
            if (o->mime_support > 2)
                o->mime_support = 0;
            break;
        case EAS_AirSync_Truncation:
            o->truncation = eas_mime_truncation_size((int)number(n->text, 9));
            break;
        case EAS_AirSync_MIMETruncation:
            o->mime_truncation = eas_mime_mime_truncation_size((int)number(n->text, 8));
            break;
        default:
            break;
        }
    }
    o->body_prefs = body;
    o->n_body_prefs = nb;
    o->part_prefs = part;
    o->n_part_prefs = np;
}

static void add_names(apr_pool_t *p, InternetAddressList *l, const char **out)
{
    int i, n = l ? internet_address_list_length(l) : 0;

    for (i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        const char *name = internet_address_get_name(ia);

        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            add_names(p, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
            continue;
        }
        if (!name || !*name)
            name = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        if (name && *name)
            *out = *out ? apr_pstrcat(p, *out, "; ", name, NULL) : apr_pstrdup(p, name);
    }
}

const char *eas_mime_display_names(apr_pool_t *p, const char *list)
{
    InternetAddressList *l;
    const char *out = NULL;

    if (!list || !*list || !(l = internet_address_list_parse(NULL, list)))
        return NULL;
    add_names(p, l, &out);
    g_object_unref(l);
    return out;
}
