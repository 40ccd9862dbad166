/* Push: NOTIFY payloads and the set of waiting requests (by user, device,
 * deadline; superseding; late arming). */
#include "tap.h"
#include "eas_push.h"
#include "eas_waitset.h"

#include <stdlib.h>
#include <apr_general.h>

typedef struct {
    int n;
    eas_waitnode_t *taken[64];
    eas_wake_e why[64];
} log_t;

static void record(eas_waitnode_t *n, eas_wake_e why, void *baton)
{
    log_t *l = baton;

    l->taken[l->n] = n;
    l->why[l->n++] = why;
}

static void count_only(eas_waitnode_t *n, eas_wake_e why, void *baton)
{
    (void)n;
    (void)why;
    ((log_t *)baton)->n++;
}

static int even_gen(const eas_waitnode_t *n, void *baton)
{
    (void)baton;
    return n->gen % 2 == 0;
}

static eas_waitnode_t *node(apr_int64_t user, apr_int64_t device, apr_int64_t gen,
                            apr_time_t deadline)
{
    eas_waitnode_t *n = malloc(sizeof(*n));

    eas_waitnode_init(n);
    n->user = user;
    n->device = device;
    n->gen = gen;
    n->deadline = deadline;
    return n;
}

int main(void)
{
    eas_push_event_t ev;
    eas_waitset_t *ws;
    eas_waitnode_t *a, *b, *c, *d, *many[1000];
    log_t l;
    static log_t big;
    apr_time_t now = apr_time_from_sec(1000000), next, prev;
    int i, sorted;

    apr_initialize();

    ok(eas_push_parse("u:42", &ev) && ev.kind == EAS_PUSH_EV_USER && ev.id == 42, "u:42");
    ok(eas_push_parse("d:7:19", &ev) && ev.kind == EAS_PUSH_EV_DEVICE && ev.id == 7 &&
       ev.gen == 19, "d:7:19");
    ok(!eas_push_parse("u:", &ev) && ev.kind == EAS_PUSH_EV_NONE, "u: without an id");
    ok(!eas_push_parse("u:42x", &ev), "trailing garbage");
    ok(!eas_push_parse("d:7", &ev), "d: without a generation");
    ok(!eas_push_parse("x:1", &ev), "unknown kind is ignored");
    ok(!eas_push_parse("u:1234567890123456789", &ev), "more than 18 digits");
    ok(!eas_push_parse(NULL, &ev), "NULL payload");

    ws = eas_waitset_create();
    a = node(1, 10, 5, now + 30);
    b = node(1, 11, 3, now + 10);
    c = node(2, 20, 8, now + 20);
    d = node(1, 10, 6, now + 40);
    ok(!eas_waitset_contains(a), "a fresh node is in no set");
    ok(!eas_waitset_add(ws, a, now) && !eas_waitset_add(ws, b, now) &&
       !eas_waitset_add(ws, c, now), "three nodes added");
    is_int(eas_waitset_count(ws), 3, "count");

    l.n = 0;
    is_int(eas_waitset_user(ws, 1, NULL, NULL, record, &l), 2, "user 1 has two waiters");
    ok(l.n == 2 && l.why[0] == EAS_WAKE_CHANGE && !eas_waitset_contains(a) &&
       !eas_waitset_contains(b), "both taken as changes, and out of the set");
    is_int(eas_waitset_count(ws), 1, "user 2's waiter is left");

    eas_waitset_add(ws, a, now);
    eas_waitset_add(ws, b, now);
    l.n = 0;
    is_int(eas_waitset_user(ws, 1, even_gen, NULL, record, &l), 0, "match can refuse");
    a->gen = 4;
    is_int(eas_waitset_user(ws, 1, even_gen, NULL, record, &l), 1, "and pick one");
    ok(l.taken[0] == a, "the one it accepted");
    a->gen = 5;
    eas_waitset_add(ws, a, now);

    l.n = 0;
    is_int(eas_waitset_device(ws, 10, 6, now, record, &l), 1, "a newer generation of device 10");
    ok(l.taken[0] == a && l.why[0] == EAS_WAKE_SUPERSEDED, "supersedes the older waiter");
    is_int(eas_waitset_device(ws, 11, 3, now, record, &l), 0, "the same generation stays");
    is_int(eas_waitset_add(ws, a, now + apr_time_from_sec(2)), 1,
           "a waiter arming after its successor was announced is refused");
    is_int(eas_waitset_add(ws, d, now), 0, "the successor itself arms");
    eas_waitset_remove(ws, d);
    a->gen = 5;
    is_int(eas_waitset_add(ws, a, now + apr_time_from_sec(60)), 0,
           "an announcement long past is forgotten");
    eas_waitset_remove(ws, a);

    l.n = 0;
    next = eas_waitset_expire(ws, now + 15, record, &l);
    ok(l.n == 1 && l.taken[0] == b && l.why[0] == EAS_WAKE_EXPIRED, "b's deadline passed");
    is_int(next, now + 20, "the next deadline is c's");
    eas_waitset_remove(ws, c);
    is_int(eas_waitset_expire(ws, now + 100, record, &l), 0, "an empty set has no deadline");

    /* A heap under churn: random deadlines, removals in the middle. */
    srand(7);
    for (i = 0; i < 1000; i++) {
        many[i] = node(i % 13, 1000 + i, 1, now + rand() % 100000);
        eas_waitset_add(ws, many[i], now);
    }
    for (i = 0; i < 1000; i += 3)
        eas_waitset_remove(ws, many[i]);
    is_int(eas_waitset_count(ws), 666, "removals from the middle");
    i = 0;
    for (a = eas_waitset_first(ws, 5); a; a = eas_waitset_next(a))
        i += a->user == 5;
    ok(i > 0, "the user's waiters can be looked at without taking them");
    big.n = 0;
    /* 666 nodes: more than log_t holds, so count them through a wider log. */
    eas_waitset_all(ws, count_only, &big);
    ok(big.n == 666 && eas_waitset_count(ws) == 0, "all takes the 666 left");
    for (i = 0; i < 1000; i++) {
        many[i]->deadline = now + (i * 7919) % 1000;
        eas_waitset_add(ws, many[i], now);
    }
    sorted = 1;
    prev = 0;
    for (i = 0; i < 1000; i++) {
        apr_time_t t = now + i;
        l.n = 0;
        eas_waitset_expire(ws, t, record, &l);
        if (l.n != 1 || l.taken[0]->deadline != t || t < prev)
            sorted = 0;
        prev = t;
    }
    ok(sorted, "deadlines come out in order, one per tick");
    l.n = 0;
    for (i = 0; i < 10; i++)
        eas_waitset_add(ws, many[i], now);
    is_int(eas_waitset_all(ws, record, &l), 10, "all takes everything");
    is_int(eas_waitset_count(ws), 0, "and leaves an empty set");

    eas_waitset_destroy(ws);
    return tap_done();
}
