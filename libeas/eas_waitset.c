#include "eas_waitset.h"

#include <stdlib.h>
#include <string.h>

/* Fixed hash tables: tens of thousands of waiters per process keep chains
 * short, and a fixed size never reallocates under the caller's lock. */
#define BUCKETS 16384
/* Recently announced device generations, for requests that arm late. */
#define RECENT 1024
#define RECENT_WINDOW apr_time_from_sec(10)

typedef struct {
    apr_int64_t device, gen;
    apr_time_t at;
} recent_t;

struct eas_waitset_t {
    eas_waitnode_t *users[BUCKETS];
    eas_waitnode_t *devices[BUCKETS];
    eas_waitnode_t **heap;    /* min-heap on deadline */
    int count, cap;
    recent_t recent[RECENT];
    int recent_next;
};

static unsigned bucket(apr_int64_t id)
{
    apr_uint64_t h = (apr_uint64_t)id * 0x9E3779B97F4A7C15ull;

    return (unsigned)(h >> 50) & (BUCKETS - 1);
}

eas_waitset_t *eas_waitset_create(void)
{
    return calloc(1, sizeof(eas_waitset_t));
}

void eas_waitset_destroy(eas_waitset_t *ws)
{
    if (ws) {
        free(ws->heap);
        free(ws);
    }
}

/* ---- deadline heap ---- */

static void heap_set(eas_waitset_t *ws, int i, eas_waitnode_t *n)
{
    ws->heap[i] = n;
    n->heap_index = i;
}

static void heap_up(eas_waitset_t *ws, int i)
{
    eas_waitnode_t *n = ws->heap[i];

    while (i > 0 && ws->heap[(i - 1) / 2]->deadline > n->deadline) {
        heap_set(ws, i, ws->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(ws, i, n);
}

static void heap_down(eas_waitset_t *ws, int i)
{
    eas_waitnode_t *n = ws->heap[i];

    for (;;) {
        int c = 2 * i + 1;

        if (c >= ws->count)
            break;
        if (c + 1 < ws->count && ws->heap[c + 1]->deadline < ws->heap[c]->deadline)
            c++;
        if (ws->heap[c]->deadline >= n->deadline)
            break;
        heap_set(ws, i, ws->heap[c]);
        i = c;
    }
    heap_set(ws, i, n);
}

/* ---- membership ---- */

static int recently_superseded(const eas_waitset_t *ws, const eas_waitnode_t *n,
                               apr_time_t now)
{
    int i;

    for (i = 0; i < RECENT; i++) {
        const recent_t *r = &ws->recent[i];

        if (r->device == n->device && r->gen > n->gen && r->at + RECENT_WINDOW > now)
            return 1;
    }
    return 0;
}

int eas_waitset_add(eas_waitset_t *ws, eas_waitnode_t *n, apr_time_t now)
{
    eas_waitnode_t **u, **d;

    if (recently_superseded(ws, n, now)) {
        n->heap_index = -1;
        return 1;
    }
    if (ws->count == ws->cap) {
        int cap = ws->cap ? ws->cap * 2 : 1024;
        eas_waitnode_t **heap = realloc(ws->heap, sizeof(*heap) * cap);

        if (!heap)
            abort(); /* a waiter cannot be refused at this point */
        ws->heap = heap;
        ws->cap = cap;
    }
    ws->count++;
    heap_set(ws, ws->count - 1, n);
    heap_up(ws, ws->count - 1);

    u = &ws->users[bucket(n->user)];
    n->uprev = NULL;
    n->unext = *u;
    if (*u)
        (*u)->uprev = n;
    *u = n;
    d = &ws->devices[bucket(n->device)];
    n->dprev = NULL;
    n->dnext = *d;
    if (*d)
        (*d)->dprev = n;
    *d = n;
    return 0;
}

void eas_waitnode_init(eas_waitnode_t *n)
{
    memset(n, 0, sizeof(*n));
    n->heap_index = -1;
}

int eas_waitset_contains(const eas_waitnode_t *n)
{
    return n->heap_index >= 0;
}

int eas_waitset_count(const eas_waitset_t *ws)
{
    return ws->count;
}

void eas_waitset_remove(eas_waitset_t *ws, eas_waitnode_t *n)
{
    int i = n->heap_index;

    if (i < 0 || i >= ws->count || ws->heap[i] != n)
        return;
    ws->count--;
    if (i != ws->count) {
        eas_waitnode_t *m = ws->heap[ws->count];

        heap_set(ws, i, m);
        heap_up(ws, i);
        if (m->heap_index == i)
            heap_down(ws, i);
    }
    n->heap_index = -1;

    if (n->uprev)
        n->uprev->unext = n->unext;
    else
        ws->users[bucket(n->user)] = n->unext;
    if (n->unext)
        n->unext->uprev = n->uprev;
    if (n->dprev)
        n->dprev->dnext = n->dnext;
    else
        ws->devices[bucket(n->device)] = n->dnext;
    if (n->dnext)
        n->dnext->dprev = n->dprev;
    n->unext = n->uprev = n->dnext = n->dprev = NULL;
}

/* ---- taking nodes out ---- */

eas_waitnode_t *eas_waitset_first(const eas_waitset_t *ws, apr_int64_t user)
{
    eas_waitnode_t *n = ws->users[bucket(user)];

    while (n && n->user != user)
        n = n->unext;
    return n;
}

eas_waitnode_t *eas_waitset_next(const eas_waitnode_t *n)
{
    apr_int64_t user = n->user;

    for (n = n->unext; n && n->user != user; n = n->unext)
        ;
    return (eas_waitnode_t *)n;
}

int eas_waitset_user(eas_waitset_t *ws, apr_int64_t user, eas_wake_match_fn *match,
                     void *match_baton, eas_wake_fn *fn, void *baton)
{
    eas_waitnode_t *n = ws->users[bucket(user)], *next;
    int taken = 0;

    for (; n; n = next) {
        next = n->unext;
        if (n->user != user || (match && !match(n, match_baton)))
            continue;
        eas_waitset_remove(ws, n);
        fn(n, EAS_WAKE_CHANGE, baton);
        taken++;
    }
    return taken;
}

int eas_waitset_device(eas_waitset_t *ws, apr_int64_t device, apr_int64_t gen, apr_time_t now,
                       eas_wake_fn *fn, void *baton)
{
    eas_waitnode_t *n = ws->devices[bucket(device)], *next;
    recent_t *r = &ws->recent[ws->recent_next];
    int taken = 0;

    r->device = device;
    r->gen = gen;
    r->at = now;
    ws->recent_next = (ws->recent_next + 1) % RECENT;
    for (; n; n = next) {
        next = n->dnext;
        if (n->device != device || n->gen >= gen)
            continue;
        eas_waitset_remove(ws, n);
        fn(n, EAS_WAKE_SUPERSEDED, baton);
        taken++;
    }
    return taken;
}

apr_time_t eas_waitset_expire(eas_waitset_t *ws, apr_time_t now, eas_wake_fn *fn, void *baton)
{
    while (ws->count > 0 && ws->heap[0]->deadline <= now) {
        eas_waitnode_t *n = ws->heap[0];

        eas_waitset_remove(ws, n);
        fn(n, EAS_WAKE_EXPIRED, baton);
    }
    return ws->count > 0 ? ws->heap[0]->deadline : 0;
}

int eas_waitset_all(eas_waitset_t *ws, eas_wake_fn *fn, void *baton)
{
    int taken = 0;

    while (ws->count > 0) {
        eas_waitnode_t *n = ws->heap[ws->count - 1];

        eas_waitset_remove(ws, n);
        fn(n, EAS_WAKE_ALL, baton);
        taken++;
    }
    return taken;
}
