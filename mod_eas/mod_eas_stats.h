/*
 * Request statistics of mod_eas: counters per command and gauges of open
 * Pings, kept per child process in a slot of shared memory so that
 * server-status (mod_eas_status.c) shows the whole server, and added to
 * eas.command_stats (sql/006_ops.sql) by each child every EASStatsInterval.
 *
 * A slot belongs to one live child; counters only grow (atomically, many
 * threads of the child add to them) and the part already written to SQL is
 * remembered in the slot itself, so a child that replaces one that exited
 * writes what its predecessor had not.  Counters start afresh when httpd
 * restarts.
 */
#ifndef MOD_EAS_STATS_H
#define MOD_EAS_STATS_H

#include <httpd.h>
#include <apr_atomic.h>
#include "eas_protocol.h"

/* Counter rows: the EAS commands, then requests that are not commands. */
enum {
    EAS_STATS_OPTIONS = EAS_CMD_MAX,   /* OPTIONS on the ActiveSync path */
    EAS_STATS_AUTODISCOVER,            /* SetHandler eas-autodiscover */
    EAS_STATS_INVALID,                 /* no valid Cmd in the query */
    EAS_STATS_ROWS
};

/* Latency histogram: up to 10 ms, 100 ms, 1 s, 10 s, slower. */
#define EAS_STATS_BINS 5

typedef struct eas_stats_row_t {
    apr_uint64_t requests;
    apr_uint64_t errors;
    apr_uint64_t usec;                 /* total latency */
    apr_uint64_t bins[EAS_STATS_BINS];
} eas_stats_row_t;

typedef struct eas_stats_slot_t {
    volatile apr_uint32_t pid;         /* owner, 0 when free */
    volatile apr_uint32_t pings_active;    /* Pings a worker thread is busy with */
    volatile apr_uint32_t pings_suspended; /* Pings parked without a thread */
    volatile apr_uint32_t flushing;    /* a thread of the owner is writing to SQL */
    apr_uint64_t next_flush;           /* apr_time_t of the owner's next SQL write */
    eas_stats_row_t now[EAS_STATS_ROWS];
    eas_stats_row_t flushed[EAS_STATS_ROWS]; /* the part of now already in SQL */
    apr_uint64_t usec_max[EAS_STATS_ROWS];   /* slowest since the last SQL write */
    apr_uint64_t usec_max_all[EAS_STATS_ROWS]; /* slowest since the restart */
} eas_stats_slot_t;

/* post_config: the shared memory, one slot per possible child. */
int eas_stats_post_config(apr_pool_t *pconf, server_rec *s);
/* child_init: claims a slot (its gauges start at 0). */
void eas_stats_child_init(apr_pool_t *pchild, server_rec *s);
/* Registers the log_transaction hook that counts requests and the
 * mod_status hook (mod_eas_status.c). */
void eas_stats_register_hooks(apr_pool_t *p);

/* Gauges of this child.  A Ping is "active" while a worker thread handles
 * it (including a blocking wait) and "suspended" while it is parked
 * without a thread; a driver that parks one moves it from one to the
 * other.  No-ops when the child has no slot. */
void eas_stats_ping_active(int delta);
void eas_stats_ping_suspended(int delta);

/* Sums every live slot into rows (EAS_STATS_ROWS of them) and max; the
 * gauges into *active and *suspended. */
void eas_stats_total(eas_stats_row_t *rows, apr_uint64_t *usec_max, apr_uint32_t *active,
                     apr_uint32_t *suspended);
/* Name of a counter row ("Sync", "OPTIONS", ...). */
const char *eas_stats_row_name(int row);

/* The server-status section (mod_eas_status.c). */
int eas_status_hook(request_rec *r, int flags);

#endif
