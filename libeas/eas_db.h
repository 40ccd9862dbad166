/*
 * PostgreSQL access through apr_dbd, the way notes/httpd-apr-curl.md §2
 * prescribes: unlabelled statements only (they survive a server restart),
 * random-access selects (errors are not mistaken for "no rows"), and our
 * own failure tracking inside transactions (apr_dbd rolls back silently).
 *
 * SQL uses apr_dbd's placeholders: "%s" for every parameter, "%%" for a
 * literal percent sign; put explicit casts in the SQL ("%s::bigint")
 * because no parameter types are sent.  A NULL argument is SQL NULL.
 */
#ifndef EAS_DB_H
#define EAS_DB_H

#include <apr_pools.h>
#include <apr_dbd.h>
#include "eas_log.h"

typedef struct eas_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_pool_t *pool;         /* the pool the handle belongs to */
    const eas_log_t *log;
    int in_txn;
    int failed;               /* a statement failed in the open transaction */
    const char *error;        /* text of the first failure, for logs */
} eas_db_t;

typedef struct eas_db_rows_t {
    int nrows, ncols;
    const char **v;           /* row-major; NULL for SQL NULL */
} eas_db_rows_t;

/* Count and array of string arguments: EAS_DB_ARGS(a, b, c). */
#define EAS_DB_ARGS(...)                                                         \
    (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),         \
        (const char *const[]){__VA_ARGS__}
#define EAS_DB_NOARGS 0, NULL

/* Runs a statement that returns no rows; *nrows (may be NULL) gets the count. */
apr_status_t eas_db_exec(eas_db_t *db, apr_pool_t *p, int *nrows, const char *sql,
                         int nargs, const char *const *args);
/* Runs a query and copies every row into p. */
apr_status_t eas_db_select(eas_db_t *db, apr_pool_t *p, eas_db_rows_t **rows,
                           const char *sql, int nargs, const char *const *args);
/* Value at (row, col), NULL for SQL NULL or out of range. */
const char *eas_db_val(const eas_db_rows_t *rows, int row, int col);
/* Convenience for single-value queries: value of row 0 col 0 or NULL. */
apr_status_t eas_db_value(eas_db_t *db, apr_pool_t *p, const char **val, const char *sql,
                          int nargs, const char *const *args);

/* BEGIN.  A connection that died since its last use (server restart) is
 * reset and the BEGIN retried once, so the first request after a restart
 * does not fail. */
apr_status_t eas_db_begin(eas_db_t *db);
/* COMMIT when nothing failed, otherwise ROLLBACK and APR_EGENERAL. */
apr_status_t eas_db_commit(eas_db_t *db);
void eas_db_rollback(eas_db_t *db);
/* Savepoints inside the open transaction, so that one item or one
 * collection that fails (a value the database refuses, a backend that is
 * down) can be undone without failing the request: eas_db_savepoint()
 * before the work, then eas_db_release() on success or eas_db_rollback_to()
 * and eas_db_release() on failure; rolling back also clears the failure
 * state.  name is a plain SQL identifier (a constant); savepoints with
 * different names nest. */
apr_status_t eas_db_savepoint(eas_db_t *db, const char *name);
apr_status_t eas_db_release(eas_db_t *db, const char *name);
apr_status_t eas_db_rollback_to(eas_db_t *db, const char *name);
/* Registers on p a cleanup that rolls back a transaction left open. */
void eas_db_rollback_on_cleanup(eas_db_t *db, apr_pool_t *p);

/* pg_notify(channel, payload), delivered at commit. */
apr_status_t eas_db_notify(eas_db_t *db, apr_pool_t *p, const char *channel,
                           const char *payload);

/* Opens a connection without httpd (tools, tests): "host=... dbname=...". */
apr_status_t eas_db_open(apr_pool_t *p, const char *conninfo, const eas_log_t *log,
                         eas_db_t **db, const char **err);

#endif
