/*
 * Test helper for t/33-sync-pending.t: calls eas_sync_pending(), the
 * question Ping asks the Sync engine, against a stack's database.
 *
 *   sync-pending CONNINFO LOGIN DEVICEID FOLDERID
 *
 * Prints "1" or "0" (pending changes or not), "unknown" when no provider
 * answers for the folder's class (APR_ENOTIMPL), "notfound" for a folder
 * that is not the user's (APR_NOTFOUND); anything else is an error (exit 1).
 */
#include "eas_sync.h"

#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

int main(int argc, char **argv)
{
    eas_log_t log = {eas_log_stderr_sink, NULL, EAS_LOG_WARNING};
    eas_request_t req;
    eas_user_t user;
    eas_device_t dev;
    apr_pool_t *p;
    const char *err, *v;
    apr_status_t rv;
    int pending = -1;

    if (argc != 5) {
        fprintf(stderr, "usage: sync-pending CONNINFO LOGIN DEVICEID FOLDERID\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    memset(&req, 0, sizeof(req));
    memset(&user, 0, sizeof(user));
    memset(&dev, 0, sizeof(dev));
    req.pool = p;
    req.log = &log;
    req.login = argv[2];
    req.user = &user;
    req.device = &dev;
    if (eas_db_open(p, argv[1], &log, &req.db, &err) != APR_SUCCESS) {
        fprintf(stderr, "sync-pending: %s\n", err ? err : "cannot connect");
        return 1;
    }
    /* The device and user as the request pipeline would have found them. */
    if (eas_db_value(req.db, p, &v,
                     "SELECT d.id || ' ' || u.id FROM eas.devices d JOIN eas.users u "
                     "ON u.id = d.user_id WHERE u.login = %s AND d.device_id = %s",
                     EAS_DB_ARGS(argv[2], argv[3])) != APR_SUCCESS || !v) {
        fprintf(stderr, "sync-pending: no device %s of %s\n", argv[3], argv[2]);
        return 1;
    }
    dev.device_id = argv[3];
    dev.id = apr_pstrndup(p, v, strcspn(v, " "));
    user.id = strchr(v, ' ') + 1;
    user.login = argv[2];
    if (eas_db_begin(req.db) != APR_SUCCESS)
        return 1;
    rv = eas_sync_pending(&req, argv[4], &pending);
    eas_db_rollback(req.db);
    if (rv == APR_ENOTIMPL)
        puts("unknown");
    else if (rv == APR_NOTFOUND)
        puts("notfound");
    else if (rv == APR_SUCCESS)
        printf("%d\n", pending);
    else
        return 1;
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
