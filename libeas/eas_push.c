#include "eas_push.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

/* A decimal id of 1..18 digits followed by end (or ':' when more follows). */
static int parse_id(const char **s, apr_int64_t *v, char end)
{
    const char *p = *s;
    apr_int64_t n = 0;
    int digits = 0;

    while (*p >= '0' && *p <= '9' && digits < 18) {
        n = n * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || *p != end)
        return 0;
    *v = n;
    *s = end ? p + 1 : p;
    return 1;
}

int eas_push_parse(const char *payload, eas_push_event_t *ev)
{
    const char *p = payload;

    memset(ev, 0, sizeof(*ev));
    if (!p || !p[0] || p[1] != ':')
        return 0;
    if (p[0] == 'u') {
        p += 2;
        if (!parse_id(&p, &ev->id, '\0'))
            return 0;
        ev->kind = EAS_PUSH_EV_USER;
        return 1;
    }
    if (p[0] == 'd') {
        p += 2;
        if (!parse_id(&p, &ev->id, ':') || !parse_id(&p, &ev->gen, '\0'))
            return 0;
        ev->kind = EAS_PUSH_EV_DEVICE;
        return 1;
    }
    return 0;
}

apr_status_t eas_push_claim(eas_request_t *req)
{
    apr_status_t rv;

    rv = eas_db_value(req->db, req->pool, &req->push_gen,
                      "UPDATE eas.devices SET push_gen = push_gen + 1 WHERE id = %s::bigint "
                      "RETURNING push_gen", EAS_DB_ARGS(req->device->id));
    if (rv != APR_SUCCESS)
        return rv;
    if (!req->push_gen)
        return APR_EGENERAL;
    return eas_db_notify(req->db, req->pool, EAS_PUSH_CHANNEL,
                         apr_pstrcat(req->pool, "d:", req->device->id, ":", req->push_gen, NULL));
}

apr_status_t eas_push_superseded(eas_request_t *req, int *superseded)
{
    const char *now;
    apr_status_t rv;

    *superseded = 0;
    if (!req->push_gen)
        return APR_SUCCESS;
    rv = eas_db_value(req->db, req->pool, &now,
                      "SELECT push_gen FROM eas.devices WHERE id = %s::bigint",
                      EAS_DB_ARGS(req->device->id));
    if (rv == APR_SUCCESS && now)
        *superseded = apr_atoi64(now) > apr_atoi64(req->push_gen);
    return rv;
}

apr_status_t eas_push_notify_user(eas_db_t *db, apr_pool_t *p, const char *user_id)
{
    return eas_db_notify(db, p, EAS_PUSH_CHANNEL, apr_pstrcat(p, "u:", user_id, NULL));
}
