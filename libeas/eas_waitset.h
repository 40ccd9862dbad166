/*
 * The set of waiting requests of one process: looked up by user (a change
 * wakes all of a user's devices), by device (a newer Ping or Sync ends the
 * older one) and by deadline (the heartbeat).  The embedder allocates the
 * nodes (inside its own waiter structs, whose lifetime no pool matches)
 * and serialises every call with its own lock; nothing here blocks or
 * allocates per operation, so it can be used under a lock held by an
 * event loop.
 */
#ifndef EAS_WAITSET_H
#define EAS_WAITSET_H

#include <apr_time.h>

typedef struct eas_waitnode_t eas_waitnode_t;
struct eas_waitnode_t {
    apr_int64_t user, device, gen;  /* set before eas_waitset_add */
    apr_time_t deadline;
    /* private */
    eas_waitnode_t *unext, *uprev, *dnext, *dprev;
    int heap_index;                 /* -1: not in a set */
};

typedef struct eas_waitset_t eas_waitset_t;

/* Why a node left the set through one of the calls below. */
typedef enum {
    EAS_WAKE_CHANGE = 1,      /* something of the user changed: re-check */
    EAS_WAKE_SUPERSEDED,      /* the device sent a newer Ping or Sync */
    EAS_WAKE_EXPIRED,         /* the deadline passed */
    EAS_WAKE_ALL              /* eas_waitset_all: server stopping, lost notifications */
} eas_wake_e;

/* Called for every node taken out of the set, after it was removed. */
typedef void eas_wake_fn(eas_waitnode_t *n, eas_wake_e why, void *baton);
/* Decides whether eas_waitset_user takes n. */
typedef int eas_wake_match_fn(const eas_waitnode_t *n, void *baton);

/* Prepares a node (not in any set); then set user, device, gen, deadline. */
void eas_waitnode_init(eas_waitnode_t *n);

/* NULL when out of memory.  Lives until eas_waitset_destroy. */
eas_waitset_t *eas_waitset_create(void);
void eas_waitset_destroy(eas_waitset_t *ws);

/* Adds n.  Returns 1 (and does not add it) when a generation newer than
 * n->gen of n's device was announced within the last few seconds: that
 * request has been superseded before it could wait. */
int eas_waitset_add(eas_waitset_t *ws, eas_waitnode_t *n, apr_time_t now);
/* Removes n if it is in the set (else does nothing). */
void eas_waitset_remove(eas_waitset_t *ws, eas_waitnode_t *n);
int eas_waitset_contains(const eas_waitnode_t *n);
int eas_waitset_count(const eas_waitset_t *ws);

/* Takes the user's nodes (those match accepts; all when match is NULL)
 * with EAS_WAKE_CHANGE; returns how many. */
int eas_waitset_user(eas_waitset_t *ws, apr_int64_t user, eas_wake_match_fn *match,
                     void *match_baton, eas_wake_fn *fn, void *baton);
/* Takes the device's nodes older than gen with EAS_WAKE_SUPERSEDED and
 * remembers gen for eas_waitset_add; returns how many. */
int eas_waitset_device(eas_waitset_t *ws, apr_int64_t device, apr_int64_t gen, apr_time_t now,
                       eas_wake_fn *fn, void *baton);
/* Takes the nodes whose deadline is <= now with EAS_WAKE_EXPIRED; returns
 * the earliest deadline left, 0 when the set is empty. */
apr_time_t eas_waitset_expire(eas_waitset_t *ws, apr_time_t now, eas_wake_fn *fn, void *baton);
/* Takes every node with EAS_WAKE_ALL; returns how many. */
int eas_waitset_all(eas_waitset_t *ws, eas_wake_fn *fn, void *baton);

/* The user's nodes, for looking only: the first, then the next of the same
 * user (NULL at the end). */
eas_waitnode_t *eas_waitset_first(const eas_waitset_t *ws, apr_int64_t user);
eas_waitnode_t *eas_waitset_next(const eas_waitnode_t *n);

#endif
