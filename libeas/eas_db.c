#include "eas_db.h"

#include <string.h>
#include <apr_strings.h>

static apr_status_t fail(eas_db_t *db, int rc, const char *sql)
{
    const char *msg = apr_dbd_error(db->driver, db->handle, rc);

    if (db->in_txn && !db->failed) {
        db->failed = 1;
        db->error = apr_pstrdup(db->pool, msg ? msg : "unknown error");
    }
    eas_log_printf(db->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_EGENERAL,
                   EASLOGNO(00001) "SQL failed: %s [%.80s]", msg ? msg : "?", sql);
    return APR_EGENERAL;
}

static apr_status_t prepare(eas_db_t *db, apr_pool_t *p, const char *sql,
                            apr_dbd_prepared_t **stmt)
{
    /* label NULL: apr_dbd_pgsql then runs PQexecParams every time.  The
     * driver reuses *stmt when it is not NULL, so it must start NULL. */
    int rc;

    *stmt = NULL;
    rc = apr_dbd_prepare(db->driver, p, db->handle, sql, NULL, stmt);

    return rc ? fail(db, rc, sql) : APR_SUCCESS;
}

apr_status_t eas_db_exec(eas_db_t *db, apr_pool_t *p, int *nrows, const char *sql,
                         int nargs, const char *const *args)
{
    apr_dbd_prepared_t *stmt;
    apr_status_t rv;
    int n = 0, rc;

    if (db->failed)
        return APR_EGENERAL;
    if ((rv = prepare(db, p, sql, &stmt)) != APR_SUCCESS)
        return rv;
    rc = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, (const char **)args);
    if (rc)
        return fail(db, rc, sql);
    if (nrows)
        *nrows = n;
    return APR_SUCCESS;
}

apr_status_t eas_db_select(eas_db_t *db, apr_pool_t *p, eas_db_rows_t **rows,
                           const char *sql, int nargs, const char *const *args)
{
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    eas_db_rows_t *out;
    apr_status_t rv;
    int rc, r, c;

    *rows = NULL;
    if (db->failed)
        return APR_EGENERAL;
    if ((rv = prepare(db, p, sql, &stmt)) != APR_SUCCESS)
        return rv;
    /* seek=1: with sequential access a dead connection looks like "no rows" */
    rc = apr_dbd_pselect(db->driver, p, db->handle, &res, stmt, 1, nargs, (const char **)args);
    if (rc)
        return fail(db, rc, sql);
    out = apr_pcalloc(p, sizeof(*out));
    out->nrows = apr_dbd_num_tuples(db->driver, res);
    out->ncols = apr_dbd_num_cols(db->driver, res);
    out->v = apr_pcalloc(p, sizeof(char *) * (apr_size_t)(out->nrows * out->ncols + 1));
    for (r = 0; r < out->nrows; r++) {
        if (apr_dbd_get_row(db->driver, p, res, &row, r + 1) != 0)
            return fail(db, 0, sql);
        for (c = 0; c < out->ncols; c++) {
            char *v = NULL;
            /* datum_get tells SQL NULL (APR_ENOENT) from the empty string */
            if (apr_dbd_datum_get(db->driver, row, c, APR_DBD_TYPE_STRING, &v) == APR_SUCCESS)
                out->v[r * out->ncols + c] = apr_pstrdup(p, v);
        }
    }
    *rows = out;
    return APR_SUCCESS;
}

const char *eas_db_val(const eas_db_rows_t *rows, int row, int col)
{
    if (!rows || row < 0 || col < 0 || row >= rows->nrows || col >= rows->ncols)
        return NULL;
    return rows->v[row * rows->ncols + col];
}

apr_status_t eas_db_value(eas_db_t *db, apr_pool_t *p, const char **val, const char *sql,
                          int nargs, const char *const *args)
{
    eas_db_rows_t *rows;
    apr_status_t rv = eas_db_select(db, p, &rows, sql, nargs, args);

    *val = rv == APR_SUCCESS ? eas_db_val(rows, 0, 0) : NULL;
    return rv;
}

apr_status_t eas_db_begin(eas_db_t *db)
{
    int n, rc;

    db->failed = 0;
    db->error = NULL;
    rc = apr_dbd_query(db->driver, db->handle, &n, "BEGIN");
    if (rc) {
        /* The first statement on a connection whose server restarted fails;
         * check_conn now sees the broken socket and resets it. */
        eas_log_printf(db->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                       EASLOGNO(00002) "database connection lost (%s), reconnecting",
                       apr_dbd_error(db->driver, db->handle, rc));
        if (apr_dbd_check_conn(db->driver, db->pool, db->handle) != APR_SUCCESS ||
            (rc = apr_dbd_query(db->driver, db->handle, &n, "BEGIN")) != 0)
            return fail(db, rc, "BEGIN");
    }
    db->in_txn = 1;
    return APR_SUCCESS;
}

void eas_db_rollback(eas_db_t *db)
{
    int n;

    if (db->in_txn) {
        apr_dbd_query(db->driver, db->handle, &n, "ROLLBACK");
        db->in_txn = 0;
    }
}

apr_status_t eas_db_commit(eas_db_t *db)
{
    int n, rc;

    if (!db->in_txn)
        return APR_EGENERAL;
    if (db->failed) {
        eas_db_rollback(db);
        return APR_EGENERAL;
    }
    rc = apr_dbd_query(db->driver, db->handle, &n, "COMMIT");
    db->in_txn = 0;
    if (rc) {
        db->failed = 1;
        db->error = apr_pstrdup(db->pool, apr_dbd_error(db->driver, db->handle, rc));
        eas_log_printf(db->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_EGENERAL,
                       EASLOGNO(00003) "COMMIT failed: %s", db->error);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t savepoint_cmd(eas_db_t *db, const char *verb, const char *name)
{
    char sql[96];   /* not from db->pool: that lives as long as the connection */
    int n, rc;

    apr_snprintf(sql, sizeof(sql), "%s%s", verb, name);
    rc = apr_dbd_query(db->driver, db->handle, &n, sql);
    return rc ? fail(db, rc, sql) : APR_SUCCESS;
}

apr_status_t eas_db_savepoint(eas_db_t *db, const char *name)
{
    if (!db->in_txn || db->failed)
        return APR_EGENERAL;
    return savepoint_cmd(db, "SAVEPOINT ", name);
}

apr_status_t eas_db_release(eas_db_t *db, const char *name)
{
    if (!db->in_txn || db->failed)
        return APR_EGENERAL;
    return savepoint_cmd(db, "RELEASE SAVEPOINT ", name);
}

apr_status_t eas_db_rollback_to(eas_db_t *db, const char *name)
{
    if (!db->in_txn)
        return APR_EGENERAL;
    /* report a failure of this, not the one being undone */
    db->failed = 0;
    db->error = NULL;
    return savepoint_cmd(db, "ROLLBACK TO SAVEPOINT ", name);
}

static apr_status_t rollback_cleanup(void *data)
{
    eas_db_rollback(data);
    return APR_SUCCESS;
}

void eas_db_rollback_on_cleanup(eas_db_t *db, apr_pool_t *p)
{
    apr_pool_cleanup_register(p, db, rollback_cleanup, apr_pool_cleanup_null);
}

apr_status_t eas_db_notify(eas_db_t *db, apr_pool_t *p, const char *channel,
                           const char *payload)
{
    eas_db_rows_t *rows;

    return eas_db_select(db, p, &rows, "SELECT pg_notify(%s, %s)", EAS_DB_ARGS(channel, payload));
}

static apr_status_t close_handle(void *data)
{
    eas_db_t *db = data;

    apr_dbd_close(db->driver, db->handle);
    return APR_SUCCESS;
}

apr_status_t eas_db_open(apr_pool_t *p, const char *conninfo, const eas_log_t *log,
                         eas_db_t **out, const char **err)
{
    eas_db_t *db = apr_pcalloc(p, sizeof(*db));
    apr_status_t rv;

    *err = NULL;
    if ((rv = apr_dbd_init(p)) != APR_SUCCESS ||
        (rv = apr_dbd_get_driver(p, "pgsql", &db->driver)) != APR_SUCCESS) {
        *err = "apr_dbd pgsql driver not available (Debian: libaprutil1-dbd-pgsql)";
        return rv;
    }
    if ((rv = apr_dbd_open_ex(db->driver, p, conninfo, &db->handle, err)) != APR_SUCCESS)
        return rv;
    db->pool = p;
    db->log = log;
    apr_pool_cleanup_register(p, db, close_handle, apr_pool_cleanup_null);
    *out = db;
    return APR_SUCCESS;
}
