#include "eas_directory.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#define ENTRY_COLUMNS                                                            \
    "id, kind, email, display_name, alias, first_name, last_name, title, company, " \
    "office, phone, home_phone, mobile_phone, coalesce(length(picture), 0), "     \
    "count(*) OVER () "

apr_status_t eas_directory_find(eas_request_t *req, const char *q, int exact, int offset,
                                int limit, apr_pool_t *p, apr_array_header_t **entries,
                                int *total)
{
    eas_db_rows_t *rows;
    apr_status_t rv;
    int r;

    *entries = apr_array_make(p, limit > 0 ? limit : 1, sizeof(eas_dir_entry_t));
    *total = 0;
    if (!q || !*q)
        return APR_SUCCESS;
    if (exact)
        rv = eas_db_select(req->db, p, &rows,
                           "SELECT " ENTRY_COLUMNS "FROM eas.directory "
                           "WHERE lower(email) = lower(%s) OR other_emails @> ARRAY[lower(%s)] "
                           "ORDER BY id OFFSET %s::int LIMIT %s::int",
                           EAS_DB_ARGS(q, q, apr_itoa(p, offset), apr_itoa(p, limit)));
    else
        rv = eas_db_select(req->db, p, &rows,
                           "SELECT " ENTRY_COLUMNS "FROM eas.directory_match(%s) "
                           "ORDER BY lower(display_name), id OFFSET %s::int LIMIT %s::int",
                           EAS_DB_ARGS(q, apr_itoa(p, offset), apr_itoa(p, limit)));
    if (rv != APR_SUCCESS)
        return rv;
    for (r = 0; r < rows->nrows; r++) {
        eas_dir_entry_t *e = apr_array_push(*entries);

        e->id = eas_db_val(rows, r, 0);
        e->is_list = !strcmp(eas_db_val(rows, r, 1), "list");
        e->email = eas_db_val(rows, r, 2);
        e->display_name = eas_db_val(rows, r, 3);
        e->alias = eas_db_val(rows, r, 4);
        e->first_name = eas_db_val(rows, r, 5);
        e->last_name = eas_db_val(rows, r, 6);
        e->title = eas_db_val(rows, r, 7);
        e->company = eas_db_val(rows, r, 8);
        e->office = eas_db_val(rows, r, 9);
        e->phone = eas_db_val(rows, r, 10);
        e->home_phone = eas_db_val(rows, r, 11);
        e->mobile_phone = eas_db_val(rows, r, 12);
        e->picture_len = (apr_size_t)atol(eas_db_val(rows, r, 13));
        *total = atoi(eas_db_val(rows, r, 14));
    }
    if (rows->nrows == 0 && offset > 0 && !exact) {
        /* past the end: the count still matters for Total */
        const char *n;
        rv = eas_db_value(req->db, p, &n, "SELECT count(*) FROM eas.directory_match(%s)",
                          EAS_DB_ARGS(q));
        if (rv == APR_SUCCESS)
            *total = atoi(n);
    }
    return rv;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

apr_status_t eas_directory_picture(eas_request_t *req, const eas_dir_entry_t *e, apr_pool_t *p,
                                   const unsigned char **data, apr_size_t *len)
{
    const char *hex;
    unsigned char *out;
    apr_size_t n, i;
    apr_status_t rv;

    *data = NULL;
    *len = 0;
    rv = eas_db_value(req->db, p, &hex,
                      "SELECT encode(picture, 'hex') FROM eas.directory WHERE id = %s::bigint",
                      EAS_DB_ARGS(e->id));
    if (rv != APR_SUCCESS || !hex)
        return rv;
    n = strlen(hex) / 2;
    out = apr_palloc(p, n + 1);
    for (i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return APR_EGENERAL;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *data = out;
    *len = n;
    return APR_SUCCESS;
}

void eas_picture_opts_read(const eas_node_t *picture, eas_tag_t max_size_tag,
                           eas_tag_t max_pictures_tag, eas_picture_opts_t *po)
{
    const char *s;

    memset(po, 0, sizeof(*po));
    if (!picture)
        return;
    po->wanted = 1;
    if ((s = eas_node_child_text(picture, max_size_tag)))
        po->max_size = (apr_size_t)strtoul(s, NULL, 10);
    if ((s = eas_node_child_text(picture, max_pictures_tag)))
        po->max_pictures = atoi(s);
}

int eas_picture_status(const eas_dir_entry_t *e, eas_picture_opts_t *po)
{
    if (!e->picture_len)
        return EAS_PICTURE_NONE;
    if (po->max_size && e->picture_len > po->max_size)
        return EAS_PICTURE_TOO_LARGE;
    if (po->max_pictures && po->sent >= po->max_pictures)
        return EAS_PICTURE_LIMIT;
    po->sent++;
    return EAS_PICTURE_OK;
}

static void text_if(eas_wbxml_writer_t *w, eas_tag_t tag, const char *s)
{
    if (s && *s)
        eas_wbxml_text(w, tag, s);
}

apr_status_t eas_directory_write_gal(eas_request_t *req, const eas_dir_entry_t *e,
                                     eas_picture_opts_t *po, eas_wbxml_writer_t *w)
{
    text_if(w, EAS_GAL_DisplayName, e->display_name);
    text_if(w, EAS_GAL_Phone, e->phone);
    text_if(w, EAS_GAL_Office, e->office);
    text_if(w, EAS_GAL_Title, e->title);
    text_if(w, EAS_GAL_Company, e->company);
    text_if(w, EAS_GAL_Alias, e->alias);
    text_if(w, EAS_GAL_FirstName, e->first_name);
    text_if(w, EAS_GAL_LastName, e->last_name);
    text_if(w, EAS_GAL_HomePhone, e->home_phone);
    text_if(w, EAS_GAL_MobilePhone, e->mobile_phone);
    text_if(w, EAS_GAL_EmailAddress, e->email);
    if (po && po->wanted) {
        int st = eas_picture_status(e, po);

        /* MS-ASCMD 2.2.3.135.2: Status, and Data when there is a picture */
        eas_wbxml_start(w, EAS_GAL_Picture);
        eas_wbxml_textf(w, EAS_GAL_Status, "%d", st);
        if (st == EAS_PICTURE_OK) {
            const unsigned char *data;
            apr_size_t len;
            apr_status_t rv = eas_directory_picture(req, e, req->pool, &data, &len);

            if (rv != APR_SUCCESS)
                return rv;
            if (data)
                eas_wbxml_opaque(w, EAS_GAL_Data, data, len);
        }
        eas_wbxml_end(w);
    }
    return APR_SUCCESS;
}
