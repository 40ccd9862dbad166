#include "eas_provision.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/rand.h>

#include "eas_commands.h"
#include "eas_device.h"
#include "eas_status.h"

/* MS-ASPROV 2.2.2.54.x */
enum { PROV_OK = 1, PROV_PROTOCOL_ERROR = 2, PROV_SERVER_ERROR = 3 };
enum { POL_OK = 1, POL_NO_POLICY = 2, POL_UNKNOWN_TYPE = 3, POL_CORRUPT = 4, POL_WRONG_KEY = 5 };
enum { ACK_APPLIED = 1, ACK_PARTIAL = 2, ACK_NOT_APPLIED = 3, ACK_THIRD_PARTY = 4 };

eas_provisioning_e eas_provision_mode(const eas_request_t *req)
{
    return req->user && req->user->provisioning >= 0 ? (eas_provisioning_e)req->user->provisioning
                                                     : req->cfg->provisioning;
}

apr_uint32_t eas_provision_parse_key(const char *s)
{
    char *end;
    unsigned long long v;

    if (!s || !*s)
        return 0;
    v = strtoull(s, &end, 10);
    return *end || v > 0xffffffffULL ? 0 : (apr_uint32_t)v;
}

apr_status_t eas_provision_load_policy(eas_request_t *req, eas_policy_t **pol,
                                       const char **name, const char **why)
{
    eas_db_rows_t *rows;
    apr_status_t rv;
    eas_policy_t *p;
    int i;

    *pol = NULL;
    *why = NULL;
    *name = req->user->policy ? req->user->policy : req->cfg->default_policy;
    rv = eas_db_select(req->db, req->pool, &rows,
                       "SELECT name, value FROM eas.policy_settings WHERE policy = %s ORDER BY name",
                       EAS_DB_ARGS(*name));
    if (rv != APR_SUCCESS)
        return rv;
    p = eas_policy_create(req->pool);
    for (i = 0; i < rows->nrows; i++)
        if (eas_policy_set(p, eas_db_val(rows, i, 0), eas_db_val(rows, i, 1), why) !=
            EAS_POLICY_OK)
            return APR_SUCCESS;
    *pol = p;
    return APR_SUCCESS;
}

static const char *client_key(const eas_request_t *req, int *present)
{
    *present = 1;
    if (req->q.has_policy_key)
        return apr_psprintf(req->pool, "%u", req->q.policy_key);
    if (req->policy_key_hdr)
        return req->policy_key_hdr;
    *present = 0;
    return NULL;
}

int eas_provision_check(eas_request_t *req)
{
    eas_device_t *d = req->device;
    eas_policy_t *pol;
    const char *name, *why, *key;
    apr_uint32_t expected;
    int present;

    /* A wipe waits for the device's next command; Ping only learns that
     * something changed (MS-ASPROV 3.1.5.1: Ping carries no policy key). */
    if (strcmp(d->wipe_state, "none") && req->q.cmd != EAS_CMD_PING) {
        if (!strcmp(d->wipe_kind, "account") &&
            req->version < EAS_PROVISION_ACCOUNT_ONLY_WIPE_VERSION) {
            /* A full wipe was not asked for: keep the account out instead. */
            eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                           EASLOGNO(00040) "account-only wipe of %s/%s needs EAS 16.1, device "
                           "speaks %s: access denied instead", req->login, d->device_id,
                           eas_version_str(req->version));
            return EAS_STATUS_DEVICE_BLOCKED;
        }
        return EAS_STATUS_REMOTE_WIPE;
    }
    if (eas_provision_mode(req) == EAS_PROVISION_NONE || req->q.cmd == EAS_CMD_PING)
        return EAS_STATUS_OK;

    key = client_key(req, &present);
    if (!present && !d->policy_key && eas_provision_mode(req) == EAS_PROVISION_ALLOW)
        return EAS_STATUS_OK; /* a device that cannot provision, let in by policy */
    if (!present || eas_provision_parse_key(key) == 0)
        return EAS_STATUS_NOT_PROVISIONED;

    if (eas_provision_load_policy(req, &pol, &name, &why) != APR_SUCCESS)
        return EAS_STATUS_SERVER_ERROR;
    if (!pol) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                       EASLOGNO(00041) "policy '%s' has an invalid setting: %s", name, why);
        return EAS_STATUS_SERVER_ERROR;
    }
    expected = eas_policy_key(pol, req->version);
    if (eas_provision_parse_key(key) == expected)
        return EAS_STATUS_OK;
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                   EASLOGNO(00042) "%s/%s sent policy key %s, current is %u: re-provisioning",
                   req->login, d->device_id, key, expected);
    return EAS_STATUS_INVALID_POLICY_KEY;
}

static apr_uint32_t random_key(apr_uint32_t avoid)
{
    apr_uint32_t k = 0;

    while (k == 0 || k == avoid)
        if (RAND_bytes((unsigned char *)&k, sizeof(k)) != 1)
            k = (apr_uint32_t)apr_time_now() ^ 0x5a5a5a5au;
    return k;
}

/* Wipe directive or its acknowledgment (MS-ASPROV 3.2.5.1.1, 3.2.5.1.2.2/3). */
static int handle_wipe(eas_request_t *req, eas_wbxml_writer_t *w, int *done)
{
    eas_device_t *d = req->device;
    eas_node_t *ack = eas_node_child(req->doc, EAS_Provision_RemoteWipe);
    eas_tag_t wipe_tag = d->wipe_kind && !strcmp(d->wipe_kind, "account")
                             ? EAS_Provision_AccountOnlyRemoteWipe : EAS_Provision_RemoteWipe;
    apr_status_t rv;
    const char *st;

    *done = 0;
    if (!ack)
        ack = eas_node_child(req->doc, EAS_Provision_AccountOnlyRemoteWipe);
    if (ack) {
        st = eas_node_child_text(ack, EAS_Provision_Status);
        *done = 1;
        if (!strcmp(d->wipe_state, "none")) {
            /* nothing asked: acknowledge and forget */
            eas_wbxml_start(w, EAS_Provision_Provision);
            eas_wbxml_text(w, EAS_Provision_Status, "1");
            eas_wbxml_end(w);
            return APR_SUCCESS;
        }
        if (st && !strcmp(st, "1")) {
            rv = eas_db_exec(req->db, req->pool, NULL,
                             "UPDATE eas.devices SET wipe_state = 'acknowledged', "
                             "wipe_acked_at = now() WHERE id = %s::bigint",
                             EAS_DB_ARGS(d->id));
            eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_NOTICE, APR_SUCCESS,
                           EASLOGNO(00043) "%s wipe of %s/%s acknowledged by the device",
                           d->wipe_kind, req->login, d->device_id);
            eas_wbxml_start(w, EAS_Provision_Provision);
            eas_wbxml_text(w, EAS_Provision_Status, "1");
            eas_wbxml_end(w);
            return rv;
        }
        /* the device failed to wipe: say so and ask again */
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                       EASLOGNO(00044) "device %s/%s reports its wipe failed (status %s)",
                       req->login, d->device_id, st ? st : "none");
        eas_wbxml_start(w, EAS_Provision_Provision);
        eas_wbxml_text(w, EAS_Provision_Status, "2");
        eas_wbxml_empty(w, wipe_tag);
        eas_wbxml_end(w);
        return APR_SUCCESS;
    }
    if (strcmp(d->wipe_state, "none")) {
        *done = 1;
        if (wipe_tag == EAS_Provision_AccountOnlyRemoteWipe &&
            req->version < EAS_PROVISION_ACCOUNT_ONLY_WIPE_VERSION) {
            eas_cmd_status_only(req, EAS_STATUS_DEVICE_BLOCKED);
            return APR_SUCCESS;
        }
        rv = eas_db_exec(req->db, req->pool, NULL,
                         "UPDATE eas.devices SET wipe_state = CASE wipe_state "
                         "WHEN 'requested' THEN 'sent' ELSE wipe_state END, "
                         "wipe_sent_at = coalesce(wipe_sent_at, now()) WHERE id = %s::bigint",
                         EAS_DB_ARGS(d->id));
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_NOTICE, APR_SUCCESS,
                       EASLOGNO(00045) "sending %s wipe to %s/%s", d->wipe_kind, req->login,
                       d->device_id);
        eas_wbxml_start(w, EAS_Provision_Provision);
        eas_wbxml_text(w, EAS_Provision_Status, "1");
        eas_wbxml_empty(w, wipe_tag);
        eas_wbxml_end(w);
        return rv;
    }
    return APR_SUCCESS;
}

static void policy_status(eas_wbxml_writer_t *w, const char *type, int prov, int pol,
                          const char *key)
{
    eas_wbxml_textf(w, EAS_Provision_Status, "%d", prov);
    eas_wbxml_start(w, EAS_Provision_Policies);
    eas_wbxml_start(w, EAS_Provision_Policy);
    eas_wbxml_text(w, EAS_Provision_PolicyType, type);
    eas_wbxml_textf(w, EAS_Provision_Status, "%d", pol);
    if (key)
        eas_wbxml_text(w, EAS_Provision_PolicyKey, key);
}

apr_status_t eas_cmd_provision(eas_request_t *req)
{
    eas_wbxml_writer_t *w = eas_request_writer(req);
    eas_device_t *d = req->device;
    eas_node_t *policy = eas_node_path(req->doc, 2, EAS_Provision_Policies, EAS_Provision_Policy);
    eas_node_t *info = eas_node_child(req->doc, EAS_Settings_DeviceInformation);
    const char *type, *ack_key, *ack_status, *name, *why;
    const char *want_type = eas_policy_type_for_version(req->version);
    eas_policy_t *pol;
    apr_status_t rv;
    int done;

    if ((rv = handle_wipe(req, w, &done)) != APR_SUCCESS || done)
        return rv;

    if (!policy) {
        /* An empty Provision (after a 140) when no wipe is pending. */
        eas_wbxml_start(w, EAS_Provision_Provision);
        eas_wbxml_text(w, EAS_Provision_Status, "1");
        eas_wbxml_end(w);
        return APR_SUCCESS;
    }
    type = eas_node_child_text(policy, EAS_Provision_PolicyType);
    ack_key = eas_node_child_text(policy, EAS_Provision_PolicyKey);
    ack_status = eas_node_child_text(policy, EAS_Provision_Status);

    eas_wbxml_start(w, EAS_Provision_Provision);
    if (info && req->version >= 141) {
        /* 14.1+: DeviceInformation travels in the initial Provision. */
        if ((rv = eas_device_set_info(req, eas_node_child(info, EAS_Settings_Set))) != APR_SUCCESS)
            return rv;
        eas_wbxml_start(w, EAS_Settings_DeviceInformation);
        eas_wbxml_text(w, EAS_Settings_Status, "1");
        eas_wbxml_end(w);
    }
    if (!type || strcmp(type, want_type)) {
        policy_status(w, type ? type : "", PROV_OK, POL_UNKNOWN_TYPE, NULL);
        req->status_note = "unknown PolicyType";
        return APR_SUCCESS;
    }
    if (eas_provision_mode(req) == EAS_PROVISION_NONE) {
        policy_status(w, type, PROV_OK, POL_NO_POLICY, NULL);
        req->status_note = "no policy";
        return APR_SUCCESS;
    }
    if ((rv = eas_provision_load_policy(req, &pol, &name, &why)) != APR_SUCCESS)
        return rv;
    if (!pol) {
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_ERR, APR_SUCCESS,
                       EASLOGNO(00046) "policy '%s' has an invalid setting: %s", name, why);
        policy_status(w, type, PROV_OK, POL_CORRUPT, NULL);
        req->status_note = "policy corrupt";
        return APR_SUCCESS;
    }

    if (!ack_key) {
        /* Phase 1 (MS-ASPROV 3.2.5.1.1): the settings and a temporary key. */
        apr_uint32_t final = eas_policy_key(pol, req->version);
        const char *temp = apr_psprintf(req->pool, "%u", random_key(final));

        rv = eas_db_exec(req->db, req->pool, NULL,
                         "UPDATE eas.devices SET temp_policy_key = %s::bigint WHERE id = %s::bigint",
                         EAS_DB_ARGS(temp, d->id));
        policy_status(w, type, PROV_OK, POL_OK, temp);
        eas_wbxml_start(w, EAS_Provision_Data);
        if (req->version == 25) {
            const char *wap = eas_policy_wap_doc(pol, req->pool);
            eas_wbxml_content(w, wap, strlen(wap));
        }
        else
            rv = rv ? rv : eas_policy_write_wbxml(pol, req->version, w);
        eas_wbxml_end(w);
        req->status_note = "policy sent";
        return rv;
    }

    /* Phase 2 (MS-ASPROV 3.2.5.1.2.1): the acknowledgment of that key. */
    if (!d->temp_policy_key || strcmp(ack_key, d->temp_policy_key)) {
        policy_status(w, type, PROV_OK, POL_WRONG_KEY, NULL);
        req->status_note = "acknowledged a wrong key";
        return APR_SUCCESS;
    }
    if (eas_provision_mode(req) == EAS_PROVISION_FORCE && ack_status &&
        (atoi(ack_status) == ACK_NOT_APPLIED || atoi(ack_status) == ACK_THIRD_PARTY)) {
        /* Devices that will not enforce the policy stay out in force mode. */
        eas_wbxml_end(w);
        req->out = NULL;
        eas_cmd_status_only(req, atoi(ack_status) == ACK_THIRD_PARTY
                                     ? EAS_STATUS_EXTERNALLY_MANAGED
                                     : EAS_STATUS_NOT_FULLY_PROVISIONABLE);
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_NOTICE, APR_SUCCESS,
                       EASLOGNO(00047) "%s/%s did not apply the policy (status %s): refused in "
                       "force mode", req->login, d->device_id, ack_status);
        return eas_db_exec(req->db, req->pool, NULL,
                           "UPDATE eas.devices SET policy_ack_status = %s::smallint, "
                           "temp_policy_key = NULL WHERE id = %s::bigint",
                           EAS_DB_ARGS(ack_status, d->id));
    }
    {
        const char *final = apr_psprintf(req->pool, "%u", eas_policy_key(pol, req->version));

        rv = eas_db_exec(req->db, req->pool, NULL,
                         "UPDATE eas.devices SET policy_key = %s::bigint, policy_served = %s, "
                         "policy_ack_status = %s::smallint, temp_policy_key = NULL, "
                         "provisioned_at = now() WHERE id = %s::bigint",
                         EAS_DB_ARGS(final, name, ack_status ? ack_status : "1", d->id));
        policy_status(w, type, PROV_OK, POL_OK, final);
        eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_INFO, APR_SUCCESS,
                       EASLOGNO(00048) "%s/%s provisioned with policy '%s' (key %s, ack %s)",
                       req->login, d->device_id, name, final, ack_status ? ack_status : "-");
        req->status_note = "provisioned";
        return rv;
    }
}
