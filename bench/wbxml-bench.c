/*
 * WBXML throughput of libeas against libwbxml2 on the same documents:
 * decode (bytes -> tree) and encode (tree -> bytes), MB/s of WBXML for each
 * and the ratio.  Documents libwbxml2 cannot round-trip (it lacks the
 * 16.x tokens) are left out for both, so both do the same work.
 *
 * Usage: wbxml-bench [-t SECONDS] FILE.wbxml...
 * Besides the files, one large generated Sync response is measured alone.
 */
#include "eas_wbxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <wbxml/wbxml.h>

/* libwbxml2's tree API is exported but its header (wbxml_tree.h) is not
 * installed by Debian; these are its 0.11 prototypes. */
typedef struct WBXMLTree_s WBXMLTree;
WBXMLError wbxml_tree_from_wbxml(WB_UTINY *wbxml, WB_ULONG wbxml_len, WBXMLLanguage lang,
                                 WBXMLCharsetMIBEnum charset, WBXMLTree **tree);
WBXMLError wbxml_tree_to_wbxml(WBXMLTree *tree, WB_UTINY **wbxml, WB_ULONG *wbxml_len,
                               WBXMLGenWBXMLParams *params);
void wbxml_tree_destroy(WBXMLTree *tree);
void wbxml_free(void *memblock);

typedef struct {
    const char *name;
    unsigned char *data;
    apr_size_t len;
} doc_t;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static WBXMLGenWBXMLParams lib_params = {WBXML_VERSION_13, TRUE, FALSE, FALSE};

static int lib_roundtrips(const doc_t *d)
{
    WBXMLTree *tree = NULL;
    WB_UTINY *out = NULL;
    WB_ULONG out_len = 0;
    int ok;

    if (wbxml_tree_from_wbxml(d->data, (WB_ULONG)d->len, WBXML_LANG_ACTIVESYNC,
                              WBXML_CHARSET_UNKNOWN, &tree) != WBXML_OK)
        return 0;
    ok = wbxml_tree_to_wbxml(tree, &out, &out_len, &lib_params) == WBXML_OK;
    wbxml_free(out);
    wbxml_tree_destroy(tree);
    return ok;
}

/* Each measure runs whole passes over the set until `secs` have gone by. */
typedef struct {
    double secs;
    apr_pool_t *pool;
} bench_t;

static double eas_decode(bench_t *b, const doc_t *docs, int n)
{
    double t0 = now(), t;
    apr_size_t bytes = 0;
    int i;

    do {
        for (i = 0; i < n; ++i) {
            eas_node_t *root;
            if (eas_wbxml_decode(b->pool, docs[i].data, docs[i].len, NULL, &root, NULL)
                != EAS_WBXML_OK)
                abort();
            apr_pool_clear(b->pool);
            bytes += docs[i].len;
        }
    } while ((t = now() - t0) < b->secs);
    return (double)bytes / t / 1e6;
}

static double lib_decode(bench_t *b, const doc_t *docs, int n)
{
    double t0 = now(), t;
    apr_size_t bytes = 0;
    int i;

    do {
        for (i = 0; i < n; ++i) {
            WBXMLTree *tree;
            if (wbxml_tree_from_wbxml(docs[i].data, (WB_ULONG)docs[i].len, WBXML_LANG_ACTIVESYNC,
                                      WBXML_CHARSET_UNKNOWN, &tree) != WBXML_OK)
                abort();
            wbxml_tree_destroy(tree);
            bytes += docs[i].len;
        }
    } while ((t = now() - t0) < b->secs);
    return (double)bytes / t / 1e6;
}

static double eas_encode(bench_t *b, const doc_t *docs, int n)
{
    apr_pool_t *trees;
    eas_node_t **roots = calloc((size_t)n, sizeof(*roots));
    double t0, t;
    apr_size_t bytes = 0;
    int i;

    apr_pool_create(&trees, NULL);
    for (i = 0; i < n; ++i)
        eas_wbxml_decode(trees, docs[i].data, docs[i].len, NULL, &roots[i], NULL);
    t0 = now();
    do {
        for (i = 0; i < n; ++i) {
            eas_wbxml_writer_t *w = eas_wbxml_writer_create(b->pool, NULL, NULL);
            const char *out;
            apr_size_t len;
            eas_wbxml_node(w, roots[i]);
            if (eas_wbxml_finish(w, &out, &len) != APR_SUCCESS)
                abort();
            bytes += len;
            apr_pool_clear(b->pool);
        }
    } while ((t = now() - t0) < b->secs);
    apr_pool_destroy(trees);
    free(roots);
    return (double)bytes / t / 1e6;
}

static double lib_encode(bench_t *b, const doc_t *docs, int n)
{
    WBXMLTree **trees = calloc((size_t)n, sizeof(*trees));
    double t0, t;
    apr_size_t bytes = 0;
    int i;

    for (i = 0; i < n; ++i)
        wbxml_tree_from_wbxml(docs[i].data, (WB_ULONG)docs[i].len, WBXML_LANG_ACTIVESYNC,
                              WBXML_CHARSET_UNKNOWN, &trees[i]);
    t0 = now();
    do {
        for (i = 0; i < n; ++i) {
            WB_UTINY *out;
            WB_ULONG len;
            if (wbxml_tree_to_wbxml(trees[i], &out, &len, &lib_params) != WBXML_OK)
                abort();
            bytes += len;
            wbxml_free(out);
        }
    } while ((t = now() - t0) < b->secs);
    for (i = 0; i < n; ++i)
        wbxml_tree_destroy(trees[i]);
    free(trees);
    return (double)bytes / t / 1e6;
}

/* A Sync response of 500 mails, the kind of document a phone pulls. */
static doc_t large_sync(apr_pool_t *p)
{
    eas_wbxml_writer_t *w = eas_wbxml_writer_create(p, NULL, NULL);
    const char *out;
    apr_size_t len;
    doc_t d = {"generated Sync response, 500 mails", NULL, 0};
    int i;

    eas_wbxml_start(w, EAS_AirSync_Sync);
    eas_wbxml_start(w, EAS_AirSync_Collections);
    eas_wbxml_start(w, EAS_AirSync_Collection);
    eas_wbxml_text(w, EAS_AirSync_SyncKey, "42");
    eas_wbxml_text(w, EAS_AirSync_CollectionId, "3");
    eas_wbxml_text(w, EAS_AirSync_Status, "1");
    eas_wbxml_start(w, EAS_AirSync_Commands);
    for (i = 0; i < 500; ++i) {
        eas_wbxml_start(w, EAS_AirSync_Add);
        eas_wbxml_textf(w, EAS_AirSync_ServerId, "3:%d", i);
        eas_wbxml_start(w, EAS_AirSync_ApplicationData);
        eas_wbxml_text(w, EAS_Email_To, "\"Chris Gray\" <chris@contoso.com>");
        eas_wbxml_text(w, EAS_Email_From, "\"Eve Adams\" <eve@contoso.com>");
        eas_wbxml_textf(w, EAS_Email_Subject, "Re: quarterly numbers, part %d", i);
        eas_wbxml_text(w, EAS_Email_DateReceived, "2024-03-01T09:30:00.000Z");
        eas_wbxml_text(w, EAS_Email_Importance, "1");
        eas_wbxml_text(w, EAS_Email_Read, "0");
        eas_wbxml_start(w, EAS_AirSyncBase_Body);
        eas_wbxml_text(w, EAS_AirSyncBase_Type, "1");
        eas_wbxml_text(w, EAS_AirSyncBase_EstimatedDataSize, "1840");
        eas_wbxml_text(w, EAS_AirSyncBase_Truncated, "1");
        eas_wbxml_text(w, EAS_AirSyncBase_Data,
                       "Hello Chris,\r\n\r\nthanks for the figures. The second quarter looks "
                       "better than we planned; can you send the breakdown per region before "
                       "Friday? I would like to go through it with Dana on Monday.\r\n\r\n"
                       "Best regards,\r\nEve\r\n");
        eas_wbxml_end(w);
        eas_wbxml_text(w, EAS_Email_MessageClass, "IPM.Note");
        eas_wbxml_text(w, EAS_Email_InternetCPID, "65001");
        eas_wbxml_opaque(w, EAS_Email2_ConversationId, "\x14\xe3\x88\x4b\xa9\x70\x4d\x41"
                                                       "\xbf\x7c\x22\x6f\x14\xa8\x41\x91", 16);
        eas_wbxml_end(w);
        eas_wbxml_end(w);
    }
    eas_wbxml_finish(w, &out, &len);
    d.data = (unsigned char *)out;
    d.len = len;
    return d;
}

static void run(bench_t *b, const char *title, const doc_t *docs, int n)
{
    apr_size_t total = 0;
    double ed, ld, ee, le;
    int i;

    for (i = 0; i < n; ++i)
        total += docs[i].len;
    printf("%s: %d document%s, %lu bytes\n", title, n, n == 1 ? "" : "s",
           (unsigned long)total);
    ed = eas_decode(b, docs, n);
    ld = lib_decode(b, docs, n);
    printf("  decode  libeas %8.1f MB/s   libwbxml2 %7.1f MB/s   ratio %5.1fx\n", ed, ld, ed / ld);
    ee = eas_encode(b, docs, n);
    le = lib_encode(b, docs, n);
    printf("  encode  libeas %8.1f MB/s   libwbxml2 %7.1f MB/s   ratio %5.1fx\n", ee, le, ee / le);
}

int main(int argc, const char *const *argv)
{
    bench_t b = {1.0, NULL};
    apr_pool_t *p;
    doc_t *docs, big;
    int i, n = 0, skipped = 0;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    apr_pool_create(&b.pool, NULL);
    docs = apr_pcalloc(p, (apr_size_t)argc * sizeof(*docs));
    for (i = 1; i < argc; ++i) {
        FILE *f;
        long len;
        doc_t d;
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            b.secs = atof(argv[++i]);
            continue;
        }
        if (!(f = fopen(argv[i], "rb")) || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0) {
            fprintf(stderr, "wbxml-bench: cannot read %s\n", argv[i]);
            return 1;
        }
        rewind(f);
        d.name = argv[i];
        d.len = (apr_size_t)len;
        d.data = apr_palloc(p, d.len);
        if (fread(d.data, 1, d.len, f) != d.len) {
            fprintf(stderr, "wbxml-bench: cannot read %s\n", argv[i]);
            return 1;
        }
        fclose(f);
        if (!lib_roundtrips(&d)) {
            ++skipped;
            continue;
        }
        docs[n++] = d;
    }
    if (n)
        run(&b, apr_psprintf(p, "corpus (%d left out: tokens libwbxml2 lacks)", skipped), docs, n);
    big = large_sync(p);
    run(&b, big.name, &big, 1);
    apr_terminate();
    return 0;
}
