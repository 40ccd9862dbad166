#include "eas_device.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#define MAX_ERRORS_PER_DEVICE 50

static apr_status_t load_user(eas_request_t *req)
{
    static const char *const select_sql =
        "SELECT id, login, display_name, email, policy, provisioning, max_version "
        "FROM eas.users WHERE login = %s";
    eas_db_rows_t *rows;
    eas_user_t *u;
    apr_status_t rv;
    const char *prov;

    rv = eas_db_select(req->db, req->pool, &rows, select_sql, EAS_DB_ARGS(req->login));
    if (rv == APR_SUCCESS && rows->nrows == 0) {
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "INSERT INTO eas.users (login) VALUES (%s) ON CONFLICT (login) DO NOTHING",
                         EAS_DB_ARGS(req->login));
        if (rv == APR_SUCCESS)
            rv = eas_db_select(req->db, req->pool, &rows, select_sql, EAS_DB_ARGS(req->login));
    }
    if (rv != APR_SUCCESS)
        return rv;
    if (rows->nrows != 1)
        return APR_EGENERAL;
    u = apr_pcalloc(req->pool, sizeof(*u));
    u->id = eas_db_val(rows, 0, 0);
    u->login = eas_db_val(rows, 0, 1);
    u->display_name = eas_db_val(rows, 0, 2);
    u->email = eas_db_val(rows, 0, 3);
    if (!u->email) {
        if (strchr(u->login, '@'))
            u->email = u->login;
        else if (req->cfg->mail_domain)
            u->email = apr_pstrcat(req->pool, u->login, "@", req->cfg->mail_domain, NULL);
    }
    u->policy = eas_db_val(rows, 0, 4);
    prov = eas_db_val(rows, 0, 5);
    u->provisioning = !prov ? -1 : !strcmp(prov, "none") ? EAS_PROVISION_NONE
                    : !strcmp(prov, "force") ? EAS_PROVISION_FORCE : EAS_PROVISION_ALLOW;
    u->max_version = eas_version_parse(eas_db_val(rows, 0, 6));
    req->user = u;
    return APR_SUCCESS;
}

/* The UPDATE stamps the device, counts the request in its budget window and
 * evaluates the access decision, all in one round trip. */
static const char *const touch_sql =
    "UPDATE eas.devices d SET last_seen = now(), device_type = %s, "
    " user_agent = coalesce(%s, d.user_agent), protocol_version = %s, last_command = %s, "
    " budget_used = CASE WHEN d.budget_window <= now() - make_interval(secs => %s::int) "
    "               THEN %s::int ELSE d.budget_used + %s::int END, "
    " budget_window = CASE WHEN d.budget_window <= now() - make_interval(secs => %s::int) "
    "               THEN now() ELSE d.budget_window END "
    "WHERE d.user_id = %s::bigint AND d.device_id = %s "
    "RETURNING d.id, d.policy_key, d.temp_policy_key, d.wipe_kind, d.wipe_state, "
    " coalesce(d.access_override, "
    "   (SELECT r.action FROM eas.access_rules r "
    "     WHERE (r.user_pattern IS NULL OR %s ILIKE r.user_pattern) "
    "       AND (r.device_type_pattern IS NULL OR d.device_type ILIKE r.device_type_pattern) "
    "       AND (r.model_pattern IS NULL OR coalesce(d.model, '') ILIKE r.model_pattern) "
    "       AND (r.os_pattern IS NULL OR coalesce(d.os, '') ILIKE r.os_pattern) "
    "       AND (r.user_agent_pattern IS NULL "
    "            OR coalesce(d.user_agent, '') ILIKE r.user_agent_pattern) "
    "     ORDER BY r.priority, r.id LIMIT 1), %s), "
    " d.access_state, d.budget_used, coalesce(d.throttled_until > now(), false), "
    " d.hierarchy_key, d.hierarchy_seq, d.hierarchy_prev_seq, d.key_generation, d.versions_seen";

apr_status_t eas_device_touch(eas_request_t *req, eas_device_touch_t *touch)
{
    eas_db_rows_t *rows;
    eas_device_t *d;
    apr_status_t rv;
    const char *window = apr_itoa(req->pool, req->cfg->budget_window > 0
                                                 ? req->cfg->budget_window : 60);
    const char *version = eas_version_str(req->version);
    /* A waiting request run again is still the one request the device made. */
    const char *charge = req->rerun ? "0" : "1";
    int attempt;

    if ((rv = load_user(req)) != APR_SUCCESS)
        return rv;
    for (attempt = 0; attempt < 2; attempt++) {
        rv = eas_db_select(req->db, req->pool, &rows, touch_sql,
                           EAS_DB_ARGS(req->q.device_type, req->user_agent, version,
                                       req->q.cmd_name, window, charge, charge, window,
                                       req->user->id,
                                       req->q.device_id, req->login,
                                       req->cfg->default_access));
        if (rv != APR_SUCCESS || rows->nrows == 1 || attempt)
            break;
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "INSERT INTO eas.devices (user_id, device_id, device_type) "
                         "VALUES (%s::bigint, %s, %s) ON CONFLICT (user_id, device_id) DO NOTHING",
                         EAS_DB_ARGS(req->user->id, req->q.device_id, req->q.device_type));
        if (rv != APR_SUCCESS)
            return rv;
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(00020) "new device partnership: user %s, device %s (%s)",
                       req->login, req->q.device_id, req->q.device_type);
    }
    if (rv != APR_SUCCESS)
        return rv;
    if (rows->nrows != 1)
        return APR_EGENERAL;
    d = apr_pcalloc(req->pool, sizeof(*d));
    d->id = eas_db_val(rows, 0, 0);
    d->device_id = req->q.device_id;
    d->device_type = req->q.device_type;
    d->policy_key = eas_db_val(rows, 0, 1);
    d->temp_policy_key = eas_db_val(rows, 0, 2);
    d->wipe_kind = eas_db_val(rows, 0, 3);
    d->wipe_state = eas_db_val(rows, 0, 4);
    d->access = eas_db_val(rows, 0, 5);
    touch->budget_used = atoi(eas_db_val(rows, 0, 7));
    touch->throttled = !strcmp(eas_db_val(rows, 0, 8), "t");
    d->hierarchy_key = atoi(eas_db_val(rows, 0, 9));
    d->hierarchy_seq = eas_db_val(rows, 0, 10);
    d->hierarchy_prev_seq = eas_db_val(rows, 0, 11);
    d->key_generation = eas_db_val(rows, 0, 12);
    d->versions_seen = eas_db_val(rows, 0, 13);
    req->device = d;

    /* Remember the decision so the admin view shows what devices get. */
    if (strcmp(d->access, eas_db_val(rows, 0, 6))) {
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "UPDATE eas.devices SET access_state = %s WHERE id = %s::bigint",
                         EAS_DB_ARGS(d->access, d->id));
        if (rv != APR_SUCCESS)
            return rv;
    }

    touch->user_budget_used = 0;
    if (req->cfg->user_budget_requests > 0) {
        const char *sum;
        rv = eas_db_value(req->db, req->pool, &sum,
                          "SELECT sum(budget_used) FROM eas.devices WHERE user_id = %s::bigint "
                          "AND budget_window > now() - make_interval(secs => %s::int)",
                          EAS_DB_ARGS(req->user->id, window));
        if (rv != APR_SUCCESS)
            return rv;
        touch->user_budget_used = sum ? atoi(sum) : 0;
    }
    return APR_SUCCESS;
}

/* The strings are stored as sent, cut to the spec's 1024 characters. */
static const char *info(eas_request_t *req, const eas_node_t *set, eas_tag_t tag)
{
    const char *v = eas_node_child_text(set, tag);

    return v && strlen(v) > 1024 ? apr_pstrndup(req->pool, v, 1024) : v;
}

apr_status_t eas_device_set_info(eas_request_t *req, const eas_node_t *set)
{
    const char *sms = info(req, set, EAS_Settings_EnableOutboundSMS);

    if (!set)
        return APR_SUCCESS;
    return eas_db_exec(req->db, req->pool, NULL,
                       "UPDATE eas.devices SET model = coalesce(%s, model), "
                       "imei = coalesce(%s, imei), friendly_name = coalesce(%s, friendly_name), "
                       "os = coalesce(%s, os), os_language = coalesce(%s, os_language), "
                       "phone_number = coalesce(%s, phone_number), "
                       "info_user_agent = coalesce(%s, info_user_agent), "
                       "mobile_operator = coalesce(%s, mobile_operator), "
                       "enable_outbound_sms = coalesce(%s::boolean, enable_outbound_sms) "
                       "WHERE id = %s::bigint",
                       EAS_DB_ARGS(info(req, set, EAS_Settings_Model),
                                   info(req, set, EAS_Settings_IMEI),
                                   info(req, set, EAS_Settings_FriendlyName),
                                   info(req, set, EAS_Settings_OS),
                                   info(req, set, EAS_Settings_OSLanguage),
                                   info(req, set, EAS_Settings_PhoneNumber),
                                   info(req, set, EAS_Settings_UserAgent),
                                   info(req, set, EAS_Settings_MobileOperator),
                                   sms ? (strcmp(sms, "1") ? "false" : "true") : NULL,
                                   req->device->id));
}

apr_status_t eas_device_throttle(eas_request_t *req, int seconds)
{
    return eas_db_exec(req->db, req->pool, NULL,
                       "UPDATE eas.devices SET throttle_count = throttle_count + 1, "
                       "throttled_until = now() + make_interval(secs => %s::int) "
                       "WHERE id = %s::bigint",
                       EAS_DB_ARGS(apr_itoa(req->pool, seconds), req->device->id));
}

void eas_device_error(eas_request_t *req, const char *status, const char *message)
{
    eas_db_t *db = req->db;

    /* Outside the request's transaction: the error must survive its rollback. */
    if (!db || db->in_txn)
        return;
    if (eas_db_exec(db, req->pool, NULL,
                    "INSERT INTO eas.errors (device, login, command, status, message) "
                    "VALUES (%s::bigint, %s, %s, %s, %s)",
                    EAS_DB_ARGS(req->device ? req->device->id : NULL, req->login,
                                req->q.cmd_name, status, message)) == APR_SUCCESS &&
        req->device)
        eas_db_exec(db, req->pool, NULL,
                    "DELETE FROM eas.errors WHERE device = %s::bigint AND id <= "
                    "(SELECT id FROM eas.errors WHERE device = %s::bigint "
                    " ORDER BY id DESC OFFSET %s::int LIMIT 1)",
                    EAS_DB_ARGS(req->device->id, req->device->id,
                                apr_itoa(req->pool, MAX_ERRORS_PER_DEVICE)));
}
