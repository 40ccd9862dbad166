/*
 * libFuzzer target for the MIME layer: every input is parsed as a message
 * and written as ApplicationData for 2.5, 12.1, 14.1 and 16.1 with several
 * body preferences; every attachment is read back by its path; the input
 * also goes through eas_mime_compose as a SendMail, and as a SmartReply /
 * SmartForward of itself.  Beyond not crashing, all text that comes out
 * must be valid UTF-8 and a listed attachment must be readable with its
 * announced size.
 */
#include "eas_mime.h"
#include "eas_utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root_pool;

static void check_text(const char *s, apr_size_t len)
{
    if (s && (!eas_utf8_valid(s, len) || memchr(s, 0, len)))
        abort();
}

static void write_all(apr_pool_t *p, eas_mime_msg_t *m)
{
    static const int versions[] = {25, 121, 141, 161};
    eas_mime_bodypref_t prefs[3] = {
        {EAS_BODY_HTML, 64, 1, 40},
        {EAS_BODY_PLAIN, 17, 0, 255},
        {EAS_BODY_MIME, 300, 0, 0},
    };
    eas_mime_options_t o;
    eas_mime_state_t st;
    const char *cats[] = {"x"};
    unsigned i;

    memset(&st, 0, sizeof(st));
    st.flagged = 1;
    st.answered = 1;
    st.categories = cats;
    st.n_categories = 1;
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        eas_wbxml_writer_t *w = eas_wbxml_writer_create(p, NULL, NULL);
        const char *out;
        apr_size_t len;

        memset(&o, 0, sizeof(o));
        o.version = versions[i];
        o.body_prefs = prefs + (i % 3);
        o.n_body_prefs = 3 - (int)(i % 3);
        o.part_prefs = prefs;
        o.n_part_prefs = 1;
        o.mime_support = (int)(i % 3);
        o.truncation = eas_mime_truncation_size((int)i * 3);
        o.mime_truncation = eas_mime_mime_truncation_size((int)i * 2);
        o.user_address = "a@example.com";
        o.file_ref_prefix = "1:2:";
        eas_wbxml_start(w, EAS_AirSync_ApplicationData);
        if (eas_mime_write(p, m, &st, &o, w) != APR_SUCCESS)
            abort();
        eas_wbxml_end(w);
        if (eas_wbxml_finish(w, &out, &len) != APR_SUCCESS)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    eas_mime_msg_t *m;
    eas_mime_outgoing_t *out;
    eas_mime_compose_t c;
    eas_mime_sender_t s = {"a@example.com", "A", NULL, 0, EAS_FROM_REWRITE};
    int i;

    if (!root_pool) {
        apr_initialize();
        apr_pool_create(&root_pool, NULL);
        eas_mime_init();
    }
    apr_pool_create(&p, root_pool);
    if (eas_mime_parse(p, (const char *)data, size, 0, &m) == APR_SUCCESS) {
        apr_size_t len;
        const char *h = eas_mime_html(m, &len);

        check_text(m->text, m->text_len);
        check_text(h, len);
        check_text(m->subject, m->subject ? strlen(m->subject) : 0);
        check_text(m->from, m->from ? strlen(m->from) : 0);
        write_all(p, m);
        for (i = 0; i < m->attachments->nelts; i++) {
            const eas_mime_attachment_t *a = &APR_ARRAY_IDX(m->attachments, i, eas_mime_attachment_t);
            const char *d;

            check_text(a->display_name, strlen(a->display_name));
            if (eas_mime_part_get(p, m, a->path, &d, &len) != APR_SUCCESS || (apr_off_t)len != a->size)
                abort();
        }
    }
    memset(&c, 0, sizeof(c));
    c.mime = (const char *)data;
    c.mime_len = size;
    c.orig = (const char *)data;
    c.orig_len = size;
    for (i = EAS_COMPOSE_SEND; i <= EAS_COMPOSE_FORWARD; i++) {
        c.kind = (eas_compose_kind_e)i;
        eas_mime_compose(p, &s, &c, &out, NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
