/*
 * Test helper for t/33-sync-ping-retry.t: runs one request through the
 * libeas pipeline the way the glue does for a long-poll (eas_request.h):
 * first run, rerun after a wake-up, or the run when the wait is over.
 *
 *   sync-wait CONNINFO LOGIN DEVICEID first|rerun|expired REQUEST OUT
 *
 * REQUEST is a WBXML body ("-": none), OUT receives the response body.
 * Prints "http=N wait=SECONDS folders=ID,ID body=BYTES".
 */
#include "eas_request.h"

#include <stdio.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

int main(int argc, char **argv)
{
    eas_log_t log = {eas_log_stderr_sink, NULL, EAS_LOG_WARNING};
    eas_config_t cfg;
    eas_request_t req;
    apr_pool_t *p;
    const char *err, *why, *data = "", *folders = "";
    apr_size_t len = 0;
    apr_file_t *f;
    int i;

    if (argc != 7) {
        fprintf(stderr, "usage: sync-wait CONNINFO LOGIN DEVICEID first|rerun|expired REQUEST OUT\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    eas_config_defaults(&cfg);
    memset(&req, 0, sizeof(req));
    req.pool = p;
    req.log = &log;
    req.cfg = &cfg;
    req.method = "POST";
    req.login = argv[2];
    req.version_hdr = "14.1";
    req.headers_out = apr_table_make(p, 4);
    req.rerun = !strcmp(argv[4], "rerun") || !strcmp(argv[4], "expired");
    req.wait_expired = !strcmp(argv[4], "expired");
    if (eas_query_parse(p, apr_psprintf(p, "Cmd=Sync&User=%s&DeviceId=%s&DeviceType=Test",
                                        argv[2], argv[3]), &req.q, &why) != EAS_QUERY_OK) {
        fprintf(stderr, "sync-wait: %s\n", why);
        return 1;
    }
    if (strcmp(argv[5], "-")) {
        apr_finfo_t fi;
        char *buf;
        if (apr_file_open(&f, argv[5], APR_READ | APR_BINARY, 0, p) != APR_SUCCESS ||
            apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS)
            return 1;
        buf = apr_palloc(p, (apr_size_t)fi.size + 1);
        req.body_len = (apr_size_t)fi.size;
        if (apr_file_read_full(f, buf, req.body_len, NULL) != APR_SUCCESS)
            return 1;
        req.body = buf;
        apr_file_close(f);
    }
    if (eas_db_open(p, argv[1], &log, &req.db, &err) != APR_SUCCESS) {
        fprintf(stderr, "sync-wait: %s\n", err ? err : "cannot connect");
        return 1;
    }
    eas_request_process(&req);
    if (req.out && eas_wbxml_finish(req.out, &data, &len) != APR_SUCCESS)
        return 1;
    if (apr_file_open(&f, argv[6], APR_WRITE | APR_CREATE | APR_TRUNCATE | APR_BINARY,
                      APR_OS_DEFAULT, p) != APR_SUCCESS ||
        (len && apr_file_write_full(f, data, len, NULL) != APR_SUCCESS))
        return 1;
    apr_file_close(f);
    for (i = 0; req.wait_folders && i < req.wait_folders->nelts; i++)
        folders = apr_pstrcat(p, folders, i ? "," : "",
                              APR_ARRAY_IDX(req.wait_folders, i, const char *), NULL);
    printf("http=%d wait=%d folders=%s body=%lu\n", req.http_status, req.wait_seconds, folders,
           (unsigned long)len);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
