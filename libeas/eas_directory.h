/*
 * The directory (Global Address List, sql/007_directory.sql) as Search GAL,
 * Find and ResolveRecipients see it, and the GAL properties they write
 * (MS-ASCMD 2.2.3.139.3 Properties, GAL namespace).
 */
#ifndef EAS_DIRECTORY_H
#define EAS_DIRECTORY_H

#include "eas_request.h"

typedef struct eas_dir_entry_t {
    const char *id;
    int is_list;                /* a distribution list */
    const char *email, *display_name, *alias, *first_name, *last_name;
    const char *title, *company, *office, *phone, *home_phone, *mobile_phone;
    apr_size_t picture_len;     /* 0: no picture */
} eas_dir_entry_t;

/* Entries whose names, alias or addresses start with q (or that have q as
 * an address), by display name, from offset on, at most limit of them;
 * *total counts all matches.  With exact, only entries that have q as an
 * address (hidden ones too). */
apr_status_t eas_directory_find(eas_request_t *req, const char *q, int exact, int offset,
                                int limit, apr_pool_t *p, apr_array_header_t **entries,
                                int *total);

/* The entry's picture (NULL when it has none). */
apr_status_t eas_directory_picture(eas_request_t *req, const eas_dir_entry_t *e, apr_pool_t *p,
                                   const unsigned char **data, apr_size_t *len);

/* Picture options of a request (Search/Find Options, ResolveRecipients
 * Options): MaxSize bytes, MaxPictures per response (0: no limit). */
typedef struct eas_picture_opts_t {
    int wanted;
    apr_size_t max_size;
    int max_pictures;
    int sent;                   /* pictures in the response so far */
} eas_picture_opts_t;

/* Reads a Picture element (any of the namespaces' MaxSize/MaxPictures). */
void eas_picture_opts_read(const eas_node_t *picture, eas_tag_t max_size_tag,
                           eas_tag_t max_pictures_tag, eas_picture_opts_t *po);

/* MS-ASCMD 2.2.3.177.x Picture Status values. */
#define EAS_PICTURE_OK 1
#define EAS_PICTURE_NONE 173
#define EAS_PICTURE_TOO_LARGE 174
#define EAS_PICTURE_LIMIT 175

/* The status a picture of e gets under po (counting it when it is sent). */
int eas_picture_status(const eas_dir_entry_t *e, eas_picture_opts_t *po);

/* The GAL properties of e (non-empty ones) and, when po->wanted, its
 * gal:Picture; the caller has opened Properties. */
apr_status_t eas_directory_write_gal(eas_request_t *req, const eas_dir_entry_t *e,
                                     eas_picture_opts_t *po, eas_wbxml_writer_t *w);

#endif
