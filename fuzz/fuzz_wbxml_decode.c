/*
 * libFuzzer target for the WBXML decoder.  Beyond not crashing, a document
 * the decoder accepts must survive the writer: decoding what the writer made
 * of its tree gives the same tree.
 */
#include "eas_wbxml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>

static apr_pool_t *root_pool;

/* Same tags, structure, text and (for non-empty text) form. */
static int same_tree(const eas_node_t *a, const eas_node_t *b)
{
    for (; a && b; a = a->next, b = b->next) {
        if (a->tag != b->tag || a->len != b->len || memcmp(a->text, b->text, a->len) != 0
            || (a->len && a->opaque != b->opaque) || a->text[a->len] != '\0'
            || !same_tree(a->first, b->first))
            return 0;
    }
    return a == b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    eas_node_t *tree, *again;
    eas_wbxml_error_t err;
    eas_wbxml_writer_t *w;
    const char *out;
    apr_size_t len;

    if (!root_pool) {
        apr_initialize();
        apr_pool_create(&root_pool, NULL);
    }
    apr_pool_create(&p, root_pool);
    if (eas_wbxml_decode(p, data, size, NULL, &tree, &err) == EAS_WBXML_OK) {
        w = eas_wbxml_writer_create(p, NULL, NULL);
        eas_wbxml_node(w, tree);
        if (eas_wbxml_finish(w, &out, &len) != APR_SUCCESS
            || eas_wbxml_decode(p, out, len, NULL, &again, &err) != EAS_WBXML_OK
            || !same_tree(tree, again))
            abort();
    }
    else if (err.offset > size || tree != NULL) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
