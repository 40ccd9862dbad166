/*
 * Settings (MS-ASCMD 2.2.1.18): Oof Get/Set, DeviceInformation Set,
 * DevicePassword Set, UserInformation Get, RightsManagementInformation Get.
 * Properties are answered in request order, each with its own Status first.
 */
#include <string.h>
#include <apr_strings.h>

#include "eas_commands.h"
#include "eas_device.h"
#include "eas_time.h"

static const struct {
    eas_tag_t tag;
    const char *name;
} audiences[] = {
    {EAS_Settings_AppliesToInternal, "internal"},
    {EAS_Settings_AppliesToExternalKnown, "external_known"},
    {EAS_Settings_AppliesToExternalUnknown, "external_unknown"},
};

static apr_status_t oof_get(eas_request_t *req, eas_wbxml_writer_t *w, const eas_node_t *get)
{
    const char *want = eas_node_child_text(get, EAS_Settings_BodyType);
    eas_db_rows_t *oof, *msgs;
    apr_status_t rv;
    unsigned i;
    int r;

    if (!want || (strcasecmp(want, "Text") && strcasecmp(want, "HTML"))) {
        eas_wbxml_text(w, EAS_Settings_Status, "2");
        return APR_SUCCESS;
    }
    rv = eas_db_select(req->db, req->pool, &oof,
                       "SELECT state, " EAS_SQL_TIME("start_time") ", " EAS_SQL_TIME("end_time")
                       " FROM eas.oof WHERE user_id = %s::bigint",
                       EAS_DB_ARGS(req->user->id));
    if (rv == APR_SUCCESS)
        rv = eas_db_select(req->db, req->pool, &msgs,
                           "SELECT audience, enabled, body_type, message FROM eas.oof_messages "
                           "WHERE user_id = %s::bigint", EAS_DB_ARGS(req->user->id));
    if (rv != APR_SUCCESS)
        return rv;
    eas_wbxml_text(w, EAS_Settings_Status, "1");
    eas_wbxml_start(w, EAS_Settings_Get);
    eas_wbxml_text(w, EAS_Settings_OofState, oof->nrows ? eas_db_val(oof, 0, 0) : "0");
    if (oof->nrows && !strcmp(eas_db_val(oof, 0, 0), "2") && eas_db_val(oof, 0, 1)) {
        eas_wbxml_text(w, EAS_Settings_StartTime, eas_db_val(oof, 0, 1));
        eas_wbxml_text(w, EAS_Settings_EndTime, eas_db_val(oof, 0, 2));
    }
    /* One OofMessage per audience, also those without a message. */
    for (i = 0; i < sizeof(audiences) / sizeof(audiences[0]); i++) {
        const char *enabled = "0", *type = want, *text = NULL;
        for (r = 0; r < msgs->nrows; r++)
            if (!strcmp(eas_db_val(msgs, r, 0), audiences[i].name)) {
                enabled = strcmp(eas_db_val(msgs, r, 1), "t") ? "0" : "1";
                type = eas_db_val(msgs, r, 2);
                text = eas_db_val(msgs, r, 3);
            }
        eas_wbxml_start(w, EAS_Settings_OofMessage);
        eas_wbxml_empty(w, audiences[i].tag);
        eas_wbxml_text(w, EAS_Settings_Enabled, enabled);
        if (text && *text) {
            eas_wbxml_text(w, EAS_Settings_ReplyMessage, text);
            eas_wbxml_text(w, EAS_Settings_BodyType, type);
        }
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
    return APR_SUCCESS;
}

static apr_status_t oof_set(eas_request_t *req, eas_wbxml_writer_t *w, const eas_node_t *set)
{
    const char *state = eas_node_child_text(set, EAS_Settings_OofState);
    const char *start = eas_node_child_text(set, EAS_Settings_StartTime);
    const char *end = eas_node_child_text(set, EAS_Settings_EndTime);
    const eas_node_t *m;
    apr_time_t ts, te;
    apr_status_t rv;

    /* Validate everything before changing anything. */
    if ((state && strcmp(state, "0") && strcmp(state, "1") && strcmp(state, "2")) ||
        (!start != !end) ||
        (start && (eas_time_parse(start, &ts) || eas_time_parse(end, &te) || te < ts))) {
        eas_wbxml_text(w, EAS_Settings_Status, "2");
        return APR_SUCCESS;
    }
    for (m = eas_node_child(set, EAS_Settings_OofMessage); m; m = eas_node_next_same(m)) {
        const char *type = eas_node_child_text(m, EAS_Settings_BodyType);
        const char *reply = eas_node_child_text(m, EAS_Settings_ReplyMessage);
        unsigned i, found = 0;
        for (i = 0; i < sizeof(audiences) / sizeof(audiences[0]); i++)
            found += eas_node_child(m, audiences[i].tag) != NULL;
        if (found != 1 || (reply && !type) ||
            (type && strcasecmp(type, "Text") && strcasecmp(type, "HTML"))) {
            eas_wbxml_text(w, EAS_Settings_Status, "2");
            return APR_SUCCESS;
        }
    }
    if (state) {
        /* Times are kept only with state 2 (MS-ASCMD 2.2.3.124). */
        int timed = !strcmp(state, "2") && start;
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "INSERT INTO eas.oof (user_id, state, start_time, end_time) "
                         "VALUES (%s::bigint, %s::smallint, %s::timestamptz, %s::timestamptz) "
                         "ON CONFLICT (user_id) DO UPDATE SET state = EXCLUDED.state, "
                         "start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, "
                         "updated_at = now()",
                         EAS_DB_ARGS(req->user->id, state, timed ? start : NULL,
                                     timed ? end : NULL));
        if (rv != APR_SUCCESS)
            return rv;
    }
    for (m = eas_node_child(set, EAS_Settings_OofMessage); m; m = eas_node_next_same(m)) {
        const char *type = eas_node_child_text(m, EAS_Settings_BodyType);
        const char *reply = eas_node_child_text(m, EAS_Settings_ReplyMessage);
        const char *enabled = eas_node_child_text(m, EAS_Settings_Enabled);
        const char *audience = NULL;
        unsigned i;
        for (i = 0; i < sizeof(audiences) / sizeof(audiences[0]); i++)
            if (eas_node_child(m, audiences[i].tag))
                audience = audiences[i].name;
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "INSERT INTO eas.oof_messages (user_id, audience, enabled, body_type, message) "
                         "VALUES (%s::bigint, %s, %s::boolean, coalesce(%s, 'Text'), coalesce(%s, '')) "
                         "ON CONFLICT (user_id, audience) DO UPDATE SET enabled = EXCLUDED.enabled, "
                         "body_type = EXCLUDED.body_type, message = EXCLUDED.message",
                         EAS_DB_ARGS(req->user->id, audience,
                                     enabled && !strcmp(enabled, "1") ? "true" : "false",
                                     type ? (strcasecmp(type, "HTML") ? "Text" : "HTML") : NULL,
                                     reply));
        if (rv != APR_SUCCESS)
            return rv;
    }
    eas_wbxml_text(w, EAS_Settings_Status, "1");
    return APR_SUCCESS;
}

static apr_status_t user_information(eas_request_t *req, eas_wbxml_writer_t *w)
{
    eas_db_rows_t *rows;
    apr_status_t rv;
    const char *aliases;
    char *tok, *last;

    rv = eas_db_select(req->db, req->pool, &rows,
                       "SELECT array_to_string(aliases, ' ') FROM eas.users WHERE id = %s::bigint",
                       EAS_DB_ARGS(req->user->id));
    if (rv != APR_SUCCESS)
        return rv;
    aliases = eas_db_val(rows, 0, 0);
    eas_wbxml_text(w, EAS_Settings_Status, "1");
    eas_wbxml_start(w, EAS_Settings_Get);
    if (req->version >= 141) {
        /* 14.1+: the addresses move into the (primary) Account. */
        eas_wbxml_start(w, EAS_Settings_Accounts);
        eas_wbxml_start(w, EAS_Settings_Account);
        if (req->user->display_name)
            eas_wbxml_text(w, EAS_Settings_UserDisplayName, req->user->display_name);
    }
    eas_wbxml_start(w, EAS_Settings_EmailAddresses);
    if (req->user->email)
        eas_wbxml_text(w, EAS_Settings_SMTPAddress, req->user->email);
    for (tok = apr_strtok(apr_pstrdup(req->pool, aliases ? aliases : ""), " ", &last); tok;
         tok = apr_strtok(NULL, " ", &last))
        eas_wbxml_text(w, EAS_Settings_SMTPAddress, tok);
    if (req->version >= 141 && req->user->email)
        eas_wbxml_text(w, EAS_Settings_PrimarySmtpAddress, req->user->email);
    eas_wbxml_end(w);
    if (req->version >= 141) {
        eas_wbxml_end(w);
        eas_wbxml_end(w);
    }
    eas_wbxml_end(w);
    return APR_SUCCESS;
}

apr_status_t eas_cmd_settings(eas_request_t *req)
{
    eas_wbxml_writer_t *w = eas_request_writer(req);
    const eas_node_t *n;
    apr_status_t rv = APR_SUCCESS;

    eas_wbxml_start(w, EAS_Settings_Settings);
    eas_wbxml_text(w, EAS_Settings_Status, "1");
    for (n = req->doc->first; n && rv == APR_SUCCESS; n = n->next) {
        const eas_node_t *get = eas_node_child(n, EAS_Settings_Get);
        const eas_node_t *set = eas_node_child(n, EAS_Settings_Set);

        switch (n->tag) {
        case EAS_Settings_Oof:
            eas_wbxml_start(w, EAS_Settings_Oof);
            if (get)
                rv = oof_get(req, w, get);
            else if (set)
                rv = oof_set(req, w, set);
            else
                eas_wbxml_text(w, EAS_Settings_Status, "2");
            eas_wbxml_end(w);
            break;
        case EAS_Settings_DeviceInformation:
            eas_wbxml_start(w, EAS_Settings_DeviceInformation);
            if (set && (rv = eas_device_set_info(req, set)) == APR_SUCCESS)
                eas_wbxml_text(w, EAS_Settings_Status, "1");
            else if (!set)
                eas_wbxml_text(w, EAS_Settings_Status, "2");
            eas_wbxml_end(w);
            break;
        case EAS_Settings_DevicePassword: {
            const char *pw = eas_node_child_text(set, EAS_Settings_Password);
            eas_wbxml_start(w, EAS_Settings_DevicePassword);
            if (!set)
                eas_wbxml_text(w, EAS_Settings_Status, "2");
            else if (pw && strlen(pw) > 255)
                eas_wbxml_text(w, EAS_Settings_Status, "5");
            else if ((rv = eas_db_exec(req->db, req->pool, NULL,
                                       "UPDATE eas.devices SET recovery_password = "
                                       "nullif(%s, '') WHERE id = %s::bigint",
                                       EAS_DB_ARGS(pw ? pw : "", req->device->id))) ==
                     APR_SUCCESS)
                eas_wbxml_text(w, EAS_Settings_Status, "1");
            eas_wbxml_end(w);
            break;
        }
        case EAS_Settings_UserInformation:
            eas_wbxml_start(w, EAS_Settings_UserInformation);
            if (get)
                rv = user_information(req, w);
            else
                eas_wbxml_text(w, EAS_Settings_Status, "2");
            eas_wbxml_end(w);
            break;
        case EAS_Settings_RightsManagementInformation:
            /* No rights management here: an empty template list (MS-ASRM). */
            eas_wbxml_start(w, EAS_Settings_RightsManagementInformation);
            eas_wbxml_text(w, EAS_Settings_Status, "1");
            eas_wbxml_start(w, EAS_Settings_Get);
            eas_wbxml_empty(w, EAS_RightsManagement_RightsManagementTemplates);
            eas_wbxml_end(w);
            eas_wbxml_end(w);
            break;
        default:
            /* an unknown property: the whole request is malformed */
            req->out = NULL;
            w = eas_request_writer(req);
            eas_wbxml_start(w, EAS_Settings_Settings);
            eas_wbxml_text(w, EAS_Settings_Status, "2");
            eas_wbxml_end(w);
            return APR_SUCCESS;
        }
    }
    if (rv == APR_SUCCESS)
        eas_wbxml_end(w);
    return rv;
}
