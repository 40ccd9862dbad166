/*
 * Provisioning (MS-ASPROV): the policy a user gets, the check every
 * command passes (policy key, remote wipe), and the Provision command with
 * its two phases and the wipe acknowledgment.
 */
#ifndef EAS_PROVISION_H
#define EAS_PROVISION_H

#include "eas_policy.h"
#include "eas_request.h"

/* The provisioning mode in effect for the request's user. */
eas_provisioning_e eas_provision_mode(const eas_request_t *req);

/* Loads the user's policy (or the default one) from eas.policy_settings.
 * An invalid row makes *pol NULL and *why the reason (logged by caller). */
apr_status_t eas_provision_load_policy(eas_request_t *req, eas_policy_t **pol,
                                       const char **name, const char **why);

/* EAS_STATUS_OK (1) if the command may run; else the common status to
 * answer (140 wipe, 142/144 provisioning, 129 blocked). */
int eas_provision_check(eas_request_t *req);

/* Parses a policy key as sent ("0", "3942709124"); 0 when absent/invalid. */
apr_uint32_t eas_provision_parse_key(const char *s);

#endif
