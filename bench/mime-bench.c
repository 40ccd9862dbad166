/*
 * MIME layer throughput: each message parsed and written as a 14.1 Sync
 * item with a plain-text body truncated at 500 bytes (the Sync benchmark's
 * setting), messages/s and MB/s of MIME per file; then a message with a
 * 10 MB attachment: parse, and fetch of the attachment by its path.
 *
 * Usage: mime-bench [-t SECONDS] FILE.eml...
 */
#include "eas_mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_base64.h>
#include <apr_file_io.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sync_item(apr_pool_t *root, const char *data, apr_size_t len)
{
    static const eas_mime_bodypref_t pref = {EAS_BODY_PLAIN, 500, 0, 0};
    eas_mime_options_t o;
    eas_mime_msg_t *m;
    eas_wbxml_writer_t *w;
    apr_pool_t *p;
    const char *out;
    apr_size_t n;

    memset(&o, 0, sizeof(o));
    o.version = 141;
    o.body_prefs = &pref;
    o.n_body_prefs = 1;
    apr_pool_create(&p, root);
    if (eas_mime_parse(p, data, len, 0, &m) != APR_SUCCESS) {
        fprintf(stderr, "parse failed\n");
        exit(1);
    }
    w = eas_wbxml_writer_create(p, NULL, NULL);
    eas_wbxml_start(w, EAS_AirSync_ApplicationData);
    eas_mime_write(p, m, NULL, &o, w);
    eas_wbxml_end(w);
    eas_wbxml_finish(w, &out, &n);
    apr_pool_destroy(p);
}

static void big_attachment(apr_pool_t *root)
{
    apr_size_t size = 10 * 1024 * 1024, i, pos, enc_len;
    const char *head = "From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
                       "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                       "Content-Type: text/plain\r\n\r\nsee attachment\r\n--b\r\n"
                       "Content-Type: application/octet-stream\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n";
    char *raw = malloc(size), *enc, *msg;
    apr_pool_t *p;
    eas_mime_msg_t *m;
    const char *d;
    apr_size_t dl;
    double t0, t1, t2;

    for (i = 0; i < size; i++)
        raw[i] = (char)(i * 7 + (i >> 12));
    enc = malloc(apr_base64_encode_len((int)size));
    enc_len = (apr_size_t)apr_base64_encode(enc, raw, (int)size) - 1;
    msg = malloc(strlen(head) + enc_len + enc_len / 76 * 2 + 16);
    pos = strlen(head);
    memcpy(msg, head, pos);
    for (i = 0; i < enc_len; i += 76) {
        apr_size_t n = enc_len - i < 76 ? enc_len - i : 76;
        memcpy(msg + pos, enc + i, n);
        memcpy(msg + pos + n, "\r\n", 2);
        pos += n + 2;
    }
    memcpy(msg + pos, "--b--\r\n", 7);
    pos += 7;
    apr_pool_create(&p, root);
    t0 = now();
    eas_mime_parse(p, msg, pos, 0, &m);
    t1 = now();
    eas_mime_part_get(p, m, "2", &d, &dl);
    t2 = now();
    printf("10 MB attachment (%.1f MB message): parse %.1f ms, fetch %.1f ms%s\n",
           pos / 1048576.0, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
           dl == size && !memcmp(d, raw, size) ? "" : "  CONTENT WRONG");
    apr_pool_destroy(p);
    free(raw);
    free(enc);
    free(msg);
}

int main(int argc, char **argv)
{
    apr_pool_t *root;
    double seconds = 1, total_t = 0, total_bytes = 0;
    long total_n = 0;
    int i = 1;

    if (argc > 2 && !strcmp(argv[1], "-t")) {
        seconds = atof(argv[2]);
        i = 3;
    }
    apr_initialize();
    apr_pool_create(&root, NULL);
    eas_mime_init();
    printf("%-28s %8s %10s %8s\n", "message", "bytes", "msgs/s", "MB/s");
    for (; i < argc; i++) {
        apr_file_t *f;
        apr_finfo_t fi;
        char *data;
        apr_size_t len;
        long n = 0;
        double t0, t;
        const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];

        if (apr_file_open(&f, argv[i], APR_READ | APR_BINARY, 0, root) != APR_SUCCESS
            || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        len = (apr_size_t)fi.size;
        data = apr_palloc(root, len);
        apr_file_read_full(f, data, len, &len);
        apr_file_close(f);
        t0 = now();
        do {
            sync_item(root, data, len);
            n++;
        } while ((t = now() - t0) < seconds);
        printf("%-28s %8lu %10.0f %8.1f\n", base, (unsigned long)len, n / t, n * (double)len / t / 1048576.0);
        total_n += n;
        total_t += t;
        total_bytes += n * (double)len;
    }
    if (total_n)
        printf("%-28s %8s %10.0f %8.1f\n", "all", "", total_n / total_t, total_bytes / total_t / 1048576.0);
    big_attachment(root);
    apr_terminate();
    return 0;
}
