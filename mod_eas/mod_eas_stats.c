/*
 * Request statistics: counting (a log_transaction hook, so that requests
 * refused before the handler — 401, 413 — count too), the shared slots and
 * the periodic write to eas.command_stats.  The write happens in the
 * log_transaction hook of the first request after the interval, and once
 * more when the child exits: those threads may use a mod_dbd connection on
 * every MPM (prefork's mod_dbd has a single connection per process, which
 * another thread must not touch), and an idle child has nothing new to
 * write.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <apr_dbd.h>
#include <apr_network_io.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_dbd.h>
#include <mod_status.h>

#include "eas_db.h"
#include "eas_query.h"
#include "mod_eas_config.h"
#include "mod_eas_private.h"
#include "mod_eas_stats.h"

static apr_shm_t *shm;
static eas_stats_slot_t *slots;
static int nslots;
static eas_stats_slot_t *mine;          /* this child's slot, NULL without one */
static server_rec *flush_server;        /* whose mod_dbd configuration the writes use */
static char hostname[APRMAXHOSTLEN + 1];

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

static void flush(server_rec *s, apr_pool_t *pool, eas_stats_slot_t *slot);

static const apr_uint64_t bin_limit[EAS_STATS_BINS - 1] = {10000, 100000, 1000000, 10000000};

const char *eas_stats_row_name(int row)
{
    switch (row) {
    case EAS_STATS_OPTIONS:
        return "OPTIONS";
    case EAS_STATS_AUTODISCOVER:
        return "Autodiscover";
    case EAS_STATS_INVALID:
        return "(invalid)";
    default:
        return row >= 0 && row < EAS_CMD_MAX ? eas_cmd_name(row) : NULL;
    }
}

int eas_stats_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_size_t size;
    apr_status_t rv;

    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &nslots) != APR_SUCCESS || nslots < 1)
        nslots = 1;
    size = sizeof(eas_stats_slot_t) * (apr_size_t)nslots;
    /* Anonymous: children inherit the mapping; a restart makes a new one
     * and the children of the old generation keep theirs. */
    if ((rv = apr_shm_create(&shm, size, NULL, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, EASLOGNO(00300)
                     "no shared memory for request statistics (%" APR_SIZE_T_FMT
                     " bytes): server-status and eas.command_stats stay empty", size);
        slots = NULL;
        return OK;
    }
    slots = apr_shm_baseaddr_get(shm);
    memset(slots, 0, size);
    if (apr_gethostname(hostname, sizeof(hostname), pconf) != APR_SUCCESS)
        apr_cpystrn(hostname, s->server_hostname ? s->server_hostname : "localhost",
                    sizeof(hostname));
    return OK;
}

static int alive(apr_uint32_t pid)
{
    return pid && (kill((pid_t)pid, 0) == 0 || errno != ESRCH);
}

/* A pre-cleanup of the child pool: its mod_dbd connections (in sub-pools)
 * still work, and no other thread of the child runs any more. */
static apr_status_t release_slot(void *data)
{
    eas_stats_slot_t *slot = data;
    apr_pool_t *p;

    if (flush_server &&
        eas_srv_stats_interval(ap_get_module_config(flush_server->module_config, &eas_module)) &&
        apr_pool_create(&p, NULL) == APR_SUCCESS) {
        flush(flush_server, p, slot);
        apr_pool_destroy(p);
    }
    apr_atomic_set32(&slot->pings_active, 0);
    apr_atomic_set32(&slot->pings_suspended, 0);
    apr_atomic_set32(&slot->pid, 0);
    mine = NULL;
    return APR_SUCCESS;
}

void eas_stats_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_uint32_t me = (apr_uint32_t)getpid(), owner;
    int i;

    mine = NULL;
    for (i = 0; slots && i < nslots && !mine; i++) {
        owner = apr_atomic_read32(&slots[i].pid);
        /* a free slot, or one whose owner died without releasing it */
        if ((!owner || !alive(owner)) && apr_atomic_cas32(&slots[i].pid, me, owner) == owner)
            mine = &slots[i];
    }
    if (!mine) {
        if (slots)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, EASLOGNO(00301)
                         "all %d statistics slots are taken; this process is not counted",
                         nslots);
        return;
    }
    apr_atomic_set32(&mine->pings_active, 0);
    apr_atomic_set32(&mine->pings_suspended, 0);
    apr_atomic_set32(&mine->flushing, 0);
    mine->next_flush = 0;
    flush_server = NULL;
    apr_pool_pre_cleanup_register(pchild, mine, release_slot);
}

static void gauge(volatile apr_uint32_t *g, int delta)
{
    if (delta > 0)
        apr_atomic_add32(g, (apr_uint32_t)delta);
    else if (delta < 0)
        apr_atomic_sub32(g, (apr_uint32_t)-delta);
}

void eas_stats_ping_active(int delta)
{
    if (mine)
        gauge(&mine->pings_active, delta);
}

void eas_stats_ping_suspended(int delta)
{
    if (mine)
        gauge(&mine->pings_suspended, delta);
}

static void atomic_max(volatile apr_uint64_t *m, apr_uint64_t v)
{
    apr_uint64_t cur = apr_atomic_read64(m);

    while (v > cur) {
        apr_uint64_t seen = apr_atomic_cas64(m, v, cur);
        if (seen == cur)
            break;
        cur = seen;
    }
}

static void read_row(const eas_stats_row_t *src, eas_stats_row_t *dst)
{
    int b;

    dst->requests = apr_atomic_read64((volatile apr_uint64_t *)&src->requests);
    dst->errors = apr_atomic_read64((volatile apr_uint64_t *)&src->errors);
    dst->usec = apr_atomic_read64((volatile apr_uint64_t *)&src->usec);
    for (b = 0; b < EAS_STATS_BINS; b++)
        dst->bins[b] = apr_atomic_read64((volatile apr_uint64_t *)&src->bins[b]);
}

void eas_stats_total(eas_stats_row_t *rows, apr_uint64_t *usec_max, apr_uint32_t *active,
                     apr_uint32_t *suspended)
{
    eas_stats_row_t r;
    int i, c, b;

    memset(rows, 0, sizeof(*rows) * EAS_STATS_ROWS);
    memset(usec_max, 0, sizeof(*usec_max) * EAS_STATS_ROWS);
    *active = *suspended = 0;
    for (i = 0; slots && i < nslots; i++) {
        /* counters of exited children still count; their gauges do not */
        for (c = 0; c < EAS_STATS_ROWS; c++) {
            apr_uint64_t m = apr_atomic_read64(&slots[i].usec_max_all[c]);

            read_row(&slots[i].now[c], &r);
            rows[c].requests += r.requests;
            rows[c].errors += r.errors;
            rows[c].usec += r.usec;
            for (b = 0; b < EAS_STATS_BINS; b++)
                rows[c].bins[b] += r.bins[b];
            if (m > usec_max[c])
                usec_max[c] = m;
        }
        if (alive(apr_atomic_read32(&slots[i].pid))) {
            *active += apr_atomic_read32(&slots[i].pings_active);
            *suspended += apr_atomic_read32(&slots[i].pings_suspended);
        }
    }
}

/* The request's handler.  A request refused by authentication or access
 * control (401, 403) ends before SetHandler is applied: its expression is
 * evaluated here. */
static const char *handler_of(request_rec *r)
{
    core_dir_config *d;
    const char *h, *err = NULL;

    if (r->handler)
        return r->handler;
    d = ap_get_core_module_config(r->per_dir_config);
    if (!d || !d->expr_handler)
        return NULL;
    h = ap_expr_str_exec(r, d->expr_handler, &err);
    return err ? NULL : h;
}

/* The counter row of a request, -1 for requests that are not ours. */
static int request_row(request_rec *r)
{
    const char *handler = handler_of(r);
    eas_query_t q;
    const char *why;

    if (!handler)
        return -1;
    if (!strcmp(handler, "eas-autodiscover"))
        return EAS_STATS_AUTODISCOVER;
    if (strcmp(handler, "eas"))
        return -1;
    if (r->method_number == M_OPTIONS)
        return EAS_STATS_OPTIONS;
    if (eas_query_parse(r->pool, r->args, &q, &why) != EAS_QUERY_OK || q.cmd == EAS_CMD_UNKNOWN)
        return EAS_STATS_INVALID;
    return q.cmd;
}

/* Same rule as device health (libeas/eas_health.c): 449 and the common
 * provisioning Status codes 140-144 are steps of the protocol, not errors. */
static int is_error(request_rec *r)
{
    const char *note = apr_table_get(r->notes, "eas-status");
    int st = note && *note >= '0' && *note <= '9' ? atoi(note) : 0;

    if (r->status >= 400 && r->status != 449)
        return 1;
    return st > 100 && !(st >= 140 && st <= 144);
}

/* Writes this slot's counters since the last write; on failure they stay
 * for the next attempt. */
static void flush(server_rec *s, apr_pool_t *pool, eas_stats_slot_t *slot)
{
    eas_stats_row_t snap[EAS_STATS_ROWS];
    apr_uint64_t maxes[EAS_STATS_ROWS];
    static volatile apr_uint32_t failing;
    eas_log_t log = {eas_log_server_sink, s, s->log.level};
    eas_db_t db = {0};
    const char *ignored;
    apr_pool_t *p;
    ap_dbd_t *dbd;
    apr_status_t rv = APR_SUCCESS;
    int c, b;

    if (!dbd_open || !(dbd = dbd_open(pool, s)))
        return;
    apr_pool_create(&p, pool);
    db.driver = dbd->driver;
    db.handle = dbd->handle;
    db.pool = dbd->pool;
    db.log = &log;
    for (c = 0; c < EAS_STATS_ROWS; c++) {
        read_row(&slot->now[c], &snap[c]);
        maxes[c] = apr_atomic_xchg64(&slot->usec_max[c], 0);
    }
    if ((rv = eas_db_begin(&db)) == APR_SUCCESS) {
        for (c = 0; c < EAS_STATS_ROWS && rv == APR_SUCCESS; c++) {
            const eas_stats_row_t *was = &slot->flushed[c];
            const char *args[11];

            if (snap[c].requests == was->requests)
                continue;
            args[0] = hostname;
            args[1] = eas_stats_row_name(c);
            args[2] = apr_psprintf(p, "%" APR_UINT64_T_FMT, snap[c].requests - was->requests);
            args[3] = apr_psprintf(p, "%" APR_UINT64_T_FMT, snap[c].errors - was->errors);
            args[4] = apr_psprintf(p, "%" APR_UINT64_T_FMT, snap[c].usec - was->usec);
            args[5] = apr_psprintf(p, "%" APR_UINT64_T_FMT, maxes[c]);
            for (b = 0; b < EAS_STATS_BINS; b++)
                args[6 + b] = apr_psprintf(p, "%" APR_UINT64_T_FMT,
                                           snap[c].bins[b] - was->bins[b]);
            rv = eas_db_value(&db, p, &ignored,
                              "SELECT eas.add_command_stats(%s, %s, %s::bigint, %s::bigint, "
                              "%s::bigint, %s::bigint, %s::bigint, %s::bigint, %s::bigint, "
                              "%s::bigint, %s::bigint)", 11, args);
        }
        if (rv == APR_SUCCESS)
            rv = eas_db_value(&db, p, &ignored, "SELECT eas.prune_command_stats()",
                              EAS_DB_NOARGS);
        rv = rv == APR_SUCCESS ? eas_db_commit(&db) : (eas_db_rollback(&db), APR_EGENERAL);
    }
    dbd_close(s, dbd);
    apr_pool_destroy(p);

    if (rv == APR_SUCCESS) {
        memcpy(slot->flushed, snap, sizeof(snap));
        if (apr_atomic_xchg32(&failing, 0))
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, EASLOGNO(00302)
                          "request statistics are written to eas.command_stats again");
        return;
    }
    for (c = 0; c < EAS_STATS_ROWS; c++)
        atomic_max(&slot->usec_max[c], maxes[c]);
    if (!apr_atomic_xchg32(&failing, 1))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, EASLOGNO(00303)
                      "cannot write request statistics to eas.command_stats (%s); "
                      "is the schema current (eas-dbupgrade)?",
                      db.error ? db.error : "see the SQL error above");
}

static int count_request(request_rec *r)
{
    const eas_srv_conf_t *sc;
    eas_stats_slot_t *slot = mine;
    eas_stats_row_t *row;
    apr_uint64_t usec;
    apr_time_t now;
    int c, b;

    if (!slot || (c = request_row(r)) < 0)
        return DECLINED;
    now = apr_time_now();
    usec = now > r->request_time ? (apr_uint64_t)(now - r->request_time) : 0;
    row = &slot->now[c];
    for (b = 0; b < EAS_STATS_BINS - 1 && usec > bin_limit[b]; b++)
        ;
    apr_atomic_inc64(&row->bins[b]);
    apr_atomic_add64(&row->usec, usec);
    if (is_error(r))
        apr_atomic_inc64(&row->errors);
    /* requests last: a concurrent flush never sees a request without its parts */
    apr_atomic_inc64(&row->requests);
    atomic_max(&slot->usec_max[c], usec);
    atomic_max(&slot->usec_max_all[c], usec);

    sc = ap_get_module_config(r->server->module_config, &eas_module);
    if (eas_srv_stats_interval(sc) > 0 && (apr_uint64_t)now >= slot->next_flush &&
        apr_atomic_cas32(&slot->flushing, 1, 0) == 0) {
        slot->next_flush = (apr_uint64_t)(now + apr_time_from_sec(eas_srv_stats_interval(sc)));
        flush_server = r->server;
        flush(r->server, r->pool, slot);
        apr_atomic_set32(&slot->flushing, 0);
    }
    return DECLINED;
}

void eas_stats_register_hooks(apr_pool_t *p)
{
    ap_hook_log_transaction(count_request, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, eas_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
