/*
 * ResolveRecipients (MS-ASCMD 2.2.1.15) over the directory
 * (eas_directory.h): each To is an address or the start of a name; one
 * match resolves it, several are suggestions.  With the options come the
 * recipients' S/MIME certificates (full or mini, expired ones never),
 * their availability and their pictures.
 *
 * Availability: mod_eas keeps no free/busy data yet (calendars of other
 * users are not readable here), so every interval is "4", no data, which
 * MS-ASCMD 2.2.3.106 defines for exactly that case.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_strings.h>
#include <openssl/x509.h>

#include "eas_commands.h"
#include "eas_directory.h"
#include "eas_status.h"
#include "eas_time.h"

/* MS-ASCMD 2.2.3.177.12 */
enum { RR_OK = 1, RR_AMBIGUOUS = 2, RR_AMBIGUOUS_PARTIAL = 3, RR_NOT_FOUND = 4,
       RR_PROTOCOL = 5, RR_SERVER = 6, RR_NO_CERT = 7, RR_CERT_LIMIT = 8 };

#define MAX_TO 100              /* MS-ASCMD 2.2.3.181.2: at most 100 To elements */
#define MAX_AMBIGUOUS 100
#define FREEBUSY_SLOT apr_time_from_sec(30 * 60)
#define FREEBUSY_MAX_SLOTS (42 * 48)  /* six weeks of half hours */

typedef struct {
    int cert_mode;              /* 1 none, 2 full, 3 mini */
    int max_certs;              /* 0: no limit */
    int max_ambiguous;
    int availability;
    apr_time_t start, end;
    eas_picture_opts_t po;
} rr_opts_t;

static int read_options(const eas_node_t *o, rr_opts_t *ro)
{
    const eas_node_t *av = eas_node_child(o, EAS_ResolveRecipients_Availability);
    const char *s;

    memset(ro, 0, sizeof(*ro));
    ro->cert_mode = 1;
    ro->max_ambiguous = 19;
    if ((s = eas_node_child_text(o, EAS_ResolveRecipients_CertificateRetrieval))) {
        ro->cert_mode = atoi(s);
        if (ro->cert_mode < 1 || ro->cert_mode > 3)
            return 0;
    }
    if ((s = eas_node_child_text(o, EAS_ResolveRecipients_MaxCertificates)))
        ro->max_certs = atoi(s);
    if ((s = eas_node_child_text(o, EAS_ResolveRecipients_MaxAmbiguousRecipients)))
        ro->max_ambiguous = atoi(s);
    if (ro->max_ambiguous < 0 || ro->max_ambiguous > MAX_AMBIGUOUS)
        ro->max_ambiguous = MAX_AMBIGUOUS;
    if (av) {
        const char *st = eas_node_child_text(av, EAS_ResolveRecipients_StartTime);
        const char *et = eas_node_child_text(av, EAS_ResolveRecipients_EndTime);

        if (!st || !et || eas_time_parse(st, &ro->start) || eas_time_parse(et, &ro->end) ||
            ro->end <= ro->start || (ro->end - ro->start) / FREEBUSY_SLOT > FREEBUSY_MAX_SLOTS)
            return 0;
        ro->availability = 1;
    }
    eas_picture_opts_read(eas_node_child(o, EAS_ResolveRecipients_Picture),
                          EAS_ResolveRecipients_MaxSize, EAS_ResolveRecipients_MaxPictures,
                          &ro->po);
    return 1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static unsigned char *unhex(apr_pool_t *p, const char *hex, apr_size_t *len)
{
    apr_size_t n = strlen(hex) / 2, i;
    unsigned char *out = apr_palloc(p, n + 1);

    for (i = 0; i < n; i++) {
        int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
        if (a < 0 || b < 0)
            return NULL;
        out[i] = (unsigned char)(a << 4 | b);
    }
    *len = n;
    return out;
}

/* A DER certificate that parses and is valid now. */
static int cert_usable(const unsigned char *der, apr_size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    int ok;

    if (!x)
        return 0;
    ok = X509_cmp_current_time(X509_get0_notBefore(x)) < 0 &&
         X509_cmp_current_time(X509_get0_notAfter(x)) > 0;
    X509_free(x);
    return ok;
}

static const char *b64(apr_pool_t *p, const unsigned char *d, apr_size_t len)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));

    apr_base64_encode_binary(out, d, (int)len);
    return out;
}

/* MS-ASCMD 2.2.3.24: the usable certificates of the entry, or of every
 * person of a distribution list (nested lists included). */
static apr_status_t write_certificates(eas_request_t *req, const eas_dir_entry_t *e,
                                       const rr_opts_t *ro, eas_wbxml_writer_t *w)
{
    apr_array_header_t *certs = apr_array_make(req->pool, 4, sizeof(const char *));
    const char *members = "1";
    eas_db_rows_t *rows;
    apr_status_t rv;
    int r, status = RR_OK;

    rv = eas_db_select(req->db, req->pool, &rows,
                       "WITH RECURSIVE m(id) AS (SELECT %s::bigint"
                       " UNION SELECT dm.member FROM eas.directory_members dm"
                       "   JOIN m ON dm.list = m.id) "
                       "SELECT encode(c.certificate, 'hex'), encode(c.mini_certificate, 'hex') "
                       "FROM m JOIN eas.directory d ON d.id = m.id AND d.kind = 'person' "
                       "JOIN eas.directory_certificates c ON c.entry = d.id ORDER BY c.id",
                       EAS_DB_ARGS(e->id));
    if (rv != APR_SUCCESS)
        return rv;
    if (e->is_list) {
        rv = eas_db_value(req->db, req->pool, &members,
                          "WITH RECURSIVE m(id) AS (SELECT %s::bigint"
                          " UNION SELECT dm.member FROM eas.directory_members dm"
                          "   JOIN m ON dm.list = m.id) "
                          "SELECT count(*) FROM m JOIN eas.directory d ON d.id = m.id "
                          "AND d.kind = 'person'", EAS_DB_ARGS(e->id));
        if (rv != APR_SUCCESS)
            return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        const char *full = eas_db_val(rows, r, 0), *mini = eas_db_val(rows, r, 1);
        unsigned char *der;
        apr_size_t len;

        if (!(der = unhex(req->pool, full, &len)) || !cert_usable(der, len))
            continue;
        if (ro->cert_mode == 3) {
            if (!mini || !(der = unhex(req->pool, mini, &len)))
                continue;
        }
        APR_ARRAY_PUSH(certs, const char *) = b64(req->pool, der, len);
    }
    if (!certs->nelts)
        status = RR_NO_CERT;
    else if (ro->max_certs > 0 && certs->nelts > ro->max_certs)
        status = RR_CERT_LIMIT;
    eas_wbxml_start(w, EAS_ResolveRecipients_Certificates);
    eas_wbxml_textf(w, EAS_ResolveRecipients_Status, "%d", status);
    eas_wbxml_textf(w, EAS_ResolveRecipients_CertificateCount, "%d",
                    status == RR_OK ? certs->nelts : 0);
    eas_wbxml_text(w, EAS_ResolveRecipients_RecipientCount, members);
    for (r = 0; status == RR_OK && r < certs->nelts; r++)
        eas_wbxml_text(w, ro->cert_mode == 3 ? EAS_ResolveRecipients_MiniCertificate
                                             : EAS_ResolveRecipients_Certificate,
                       APR_ARRAY_IDX(certs, r, const char *));
    eas_wbxml_end(w);
    return APR_SUCCESS;
}

/* MS-ASCMD 2.2.3.106: one digit per half hour, 4 = no data. */
static void write_availability(eas_request_t *req, const rr_opts_t *ro, eas_wbxml_writer_t *w)
{
    apr_size_t n = (apr_size_t)((ro->end - ro->start + FREEBUSY_SLOT - 1) / FREEBUSY_SLOT);
    char *fb = apr_palloc(req->pool, n + 1);

    memset(fb, '4', n);
    fb[n] = '\0';
    eas_wbxml_start(w, EAS_ResolveRecipients_Availability);
    eas_wbxml_textf(w, EAS_ResolveRecipients_Status, "%d", 1);
    eas_wbxml_text(w, EAS_ResolveRecipients_MergedFreeBusy, fb);
    eas_wbxml_end(w);
}

static apr_status_t write_picture(eas_request_t *req, const eas_dir_entry_t *e, rr_opts_t *ro,
                                  eas_wbxml_writer_t *w)
{
    int st = eas_picture_status(e, &ro->po);

    eas_wbxml_start(w, EAS_ResolveRecipients_Picture);
    eas_wbxml_textf(w, EAS_ResolveRecipients_Status, "%d", st);
    if (st == EAS_PICTURE_OK) {
        const unsigned char *data;
        apr_size_t len;
        apr_status_t rv = eas_directory_picture(req, e, req->pool, &data, &len);

        if (rv != APR_SUCCESS)
            return rv;
        if (data)
            eas_wbxml_opaque(w, EAS_ResolveRecipients_Data, data, len);
    }
    eas_wbxml_end(w);
    return APR_SUCCESS;
}

static apr_status_t resolve_one(eas_request_t *req, const char *to, rr_opts_t *ro,
                                eas_wbxml_writer_t *w)
{
    apr_array_header_t *entries;
    apr_status_t rv;
    int total, status, i, n;

    /* an address names one entry even when it also starts other names */
    if ((rv = eas_directory_find(req, to, 1, 0, 2, req->pool, &entries, &total)) != APR_SUCCESS)
        return rv;
    if (total != 1 &&
        (rv = eas_directory_find(req, to, 0, 0, ro->max_ambiguous > 0 ? ro->max_ambiguous : 1,
                                 req->pool, &entries, &total)) != APR_SUCCESS)
        return rv;
    status = total == 0 ? RR_NOT_FOUND : total == 1 ? RR_OK
             : total > entries->nelts ? RR_AMBIGUOUS_PARTIAL : RR_AMBIGUOUS;
    n = status == RR_NOT_FOUND ? 0 : status == RR_OK ? 1
        : ro->max_ambiguous < entries->nelts ? ro->max_ambiguous : entries->nelts;

    eas_wbxml_start(w, EAS_ResolveRecipients_Response);
    eas_wbxml_text(w, EAS_ResolveRecipients_To, to);
    eas_wbxml_textf(w, EAS_ResolveRecipients_Status, "%d", status);
    eas_wbxml_textf(w, EAS_ResolveRecipients_RecipientCount, "%d", n);
    for (i = 0; i < n; i++) {
        const eas_dir_entry_t *e = &APR_ARRAY_IDX(entries, i, eas_dir_entry_t);

        eas_wbxml_start(w, EAS_ResolveRecipients_Recipient);
        eas_wbxml_text(w, EAS_ResolveRecipients_Type, "1");     /* GAL */
        eas_wbxml_text(w, EAS_ResolveRecipients_DisplayName, e->display_name);
        eas_wbxml_text(w, EAS_ResolveRecipients_EmailAddress, e->email);
        /* suggestions carry no certificates (MS-ASCMD 2.2.3.177.12) */
        if (status == RR_OK) {
            if (ro->availability)
                write_availability(req, ro, w);
            if (ro->cert_mode > 1 && (rv = write_certificates(req, e, ro, w)) != APR_SUCCESS)
                return rv;
            if (ro->po.wanted && (rv = write_picture(req, e, ro, w)) != APR_SUCCESS)
                return rv;
        }
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
    return APR_SUCCESS;
}

apr_status_t eas_cmd_resolverecipients(eas_request_t *req)
{
    const eas_node_t *n;
    eas_wbxml_writer_t *w;
    rr_opts_t ro;
    apr_status_t rv;
    int count = 0;

    for (n = req->doc->first; n; n = n->next)
        count += n->tag == EAS_ResolveRecipients_To;
    if (!count || count > MAX_TO ||
        !read_options(eas_node_child(req->doc, EAS_ResolveRecipients_Options), &ro)) {
        eas_cmd_status_only(req, RR_PROTOCOL);
        return APR_SUCCESS;
    }
    w = eas_wbxml_writer_create(req->pool, NULL, NULL);
    eas_wbxml_start(w, EAS_ResolveRecipients_ResolveRecipients);
    eas_wbxml_textf(w, EAS_ResolveRecipients_Status, "%d", RR_OK);
    for (n = req->doc->first; n; n = n->next)
        if (n->tag == EAS_ResolveRecipients_To &&
            (rv = resolve_one(req, n->text, &ro, w)) != APR_SUCCESS)
            return rv;
    eas_wbxml_end(w);
    req->out = w;
    return eas_wbxml_status(w);
}
