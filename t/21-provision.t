#!/bin/bash
# Provisioning (MS-ASPROV): the two-phase dance, stable policy keys, policy
# changes, force mode, 449 for 12.1 and Status 142/144 for 14.0+, remote wipe
# and account-only wipe, blocked and quarantined devices.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
stack_start

fs() { foldersync user1 "$1" 0; }

# A device that announces it can provision (key 0) is told to.
EAS_POLICY_KEY=0 fs devP
is "$(xget Status)" 142 "14.1 with policy key 0: FolderSync Status 142"
EAS_PROTOCOL_VERSION=12.1 EAS_POLICY_KEY=0 fs devP
is "$(eas_code)" 449 "12.1 with policy key 0: HTTP 449"

EAS_POLICY_KEY=0 eas Provision user1 devP <<'XML'
<Provision xmlns="Provision:" xmlns:s="Settings:"><s:DeviceInformation><s:Set><s:Model>iPhone15,2</s:Model><s:OS>iOS 17.1</s:OS><s:FriendlyName>Test phone</s:FriendlyName></s:Set></s:DeviceInformation><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>
XML
is "$(xget Status 1)" 1 "phase 1: DeviceInformation Status 1"
is "$(xget Status 2)" 1 "phase 1: Provision Status 1"
is "$(xget Status 3)" 1 "phase 1: Policy Status 1"
temp=$(xget PolicyKey)
like "$temp" '^[1-9][0-9]*$' "phase 1 hands out a temporary key"
is "$(xcount EASProvisionDoc)" 1 "with the EASProvisionDoc"
is "$(xget DevicePasswordEnabled)" 0 "the default policy requires no password"
is "$(sql "SELECT model || '|' || os FROM eas.devices WHERE device_id = 'devP'")" "iPhone15,2|iOS 17.1" \
    "14.1 DeviceInformation inside Provision is stored"

EAS_POLICY_KEY=$temp eas Provision user1 devP <<'XML'
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>12345</PolicyKey><Status>1</Status></Policy></Policies></Provision>
XML
is "$(xget Status 2)" 5 "acknowledging a wrong key: Policy Status 5"

key=$(provision user1 devP)
like "$key" '^[1-9][0-9]*$' "phase 2 gives the final key"
[ "$key" != "$temp" ]; ok $? "the final key is not the temporary one"
key2=$(provision user1 devQ)
is "$key2" "$key" "the same policy and version give the same key on another device"

EAS_POLICY_KEY=$key fs devP
is "$(xget Status)" 1 "with the final key FolderSync works"
EAS_POLICY_KEY=1234 fs devP
is "$(xget Status)" 144 "a wrong key: Status 144"

# A policy change makes devices provision again, with a new key.
sql "SELECT eas.set_policy_setting('default', 'DevicePasswordEnabled', '1')" >/dev/null
sql "SELECT eas.set_policy_setting('default', 'MinDevicePasswordLength', '6')" >/dev/null
EAS_POLICY_KEY=$key fs devP
is "$(xget Status)" 144 "after a policy change the old key gets Status 144"
newkey=$(provision user1 devP)
[ -n "$newkey" ] && [ "$newkey" != "$key" ]; ok $? "re-provisioning gives a new key"
EAS_POLICY_KEY=0 eas Provision user1 devP <<'XML'
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>
XML
is "$(xget DevicePasswordEnabled)" 1 "the served document has the new setting"
is "$(xget MinDevicePasswordLength)" 6 "and the new minimum length"
sql "SELECT eas.set_policy_setting('default', 'MaxDevicePasswordFailedAttempts', '2')" >/dev/null
EAS_POLICY_KEY=0 eas Provision user1 devP <<'XML'
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>
XML
is "$(xget Status 2)" 4 "an invalid setting in SQL: Policy Status 4 (corrupt)"
sql "SELECT eas.set_policy_setting('default', 'MaxDevicePasswordFailedAttempts', NULL)" >/dev/null
EAS_POLICY_KEY=0 eas Provision user1 devP <<'XML'
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-WAP-Provisioning-XML</PolicyType></Policy></Policies></Provision>
XML
is "$(xget Status 2)" 3 "the 2.5 PolicyType from a 14.1 device: Policy Status 3"

# 2.5 gets the WAP document as the text of Data.
EAS_PROTOCOL_VERSION=2.5 EAS_POLICY_KEY=0 eas Provision user1 dev25 <<'XML'
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-WAP-Provisioning-XML</PolicyType></Policy></Policies></Provision>
XML
like "$(xget Data)" 'wap-provisioningdoc' "2.5: Data carries the WAP provisioning document"

# Allow mode lets a device in that never sends a key; force mode does not.
fs devNoKey
is "$(xget Status)" 1 "allow mode: a device without any key is let in"
sql "UPDATE eas.users SET provisioning = 'force' WHERE login = 'user1'" >/dev/null
fs devNoKey
is "$(xget Status)" 142 "force mode (per user): Status 142"
EAS_PROTOCOL_VERSION=12.1 fs devNoKey
is "$(eas_code)" 449 "force mode, 12.1: HTTP 449"
sql "UPDATE eas.users SET provisioning = NULL WHERE login = 'user1'" >/dev/null

# Remote wipe: signalled at the next command, delivered by Provision,
# acknowledged, and repeated whenever the device comes back.
sql "SELECT eas.request_wipe('user1', 'devP', 'test admin')" >/dev/null
EAS_POLICY_KEY=$newkey fs devP
is "$(xget Status)" 140 "wipe requested: Status 140"
EAS_PROTOCOL_VERSION=12.1 EAS_POLICY_KEY=$newkey fs devP
is "$(eas_code)" 449 "wipe requested, 12.1 with a key: HTTP 449"
EAS_PROTOCOL_VERSION=12.1 fs devP
is "$(eas_code)" 403 "wipe requested, 12.1 without a key: HTTP 403"
EAS_POLICY_KEY=0 eas Provision user1 devP <<<'<Provision xmlns="Provision:"/>'
is "$(xcount RemoteWipe)" 1 "an empty Provision gets RemoteWipe"
is "$(sql "SELECT wipe_state FROM eas.devices WHERE device_id = 'devP'")" sent "the wipe is recorded as sent"
EAS_POLICY_KEY=0 eas Provision user1 devP <<<'<Provision xmlns="Provision:"><RemoteWipe><Status>1</Status></RemoteWipe></Provision>'
is "$(xget Status)" 1 "the acknowledgment is answered with Status 1"
is "$(sql "SELECT wipe_state FROM eas.devices_overview WHERE device_id = 'devP'")" acknowledged \
    "the admin view shows the wipe acknowledged"
EAS_POLICY_KEY=$newkey fs devP
is "$(xget Status)" 140 "a wiped device stays wiped"
sql "SELECT eas.remove_device('user1', 'devP')" >/dev/null
fs devP
is "$(xget Status)" 1 "after the admin removes it, the device starts afresh"

sql "SELECT eas.request_account_wipe('user1', 'devQ')" >/dev/null
EAS_POLICY_KEY=$key2 fs devQ
is "$(xget Status)" 129 "account-only wipe for a 14.1 device: access denied (129), no full wipe"
EAS_PROTOCOL_VERSION=16.1 EAS_POLICY_KEY=0 eas Provision user1 devQ <<<'<Provision xmlns="Provision:"/>'
is "$(xcount AccountOnlyRemoteWipe)" 1 "16.1: an empty Provision gets AccountOnlyRemoteWipe"
is "$(xcount RemoteWipe)" 0 "and no full RemoteWipe"
sql "SELECT eas.cancel_wipe('user1', 'devQ')" >/dev/null

# Access rules and per-device decisions.
sql "SELECT eas.block_device('user1', 'devQ', 'lost')" >/dev/null
fs devQ
is "$(xget Status)" 129 "a blocked device: Status 129"
EAS_PROTOCOL_VERSION=12.1 fs devQ
is "$(eas_code)" 403 "a blocked device on 12.1: HTTP 403"
sql "SELECT eas.set_device_access('user1', 'devQ', NULL)" >/dev/null
EAS_POLICY_KEY=$(provision user1 devQ) fs devQ
is "$(xget Status)" 1 "unblocked (and provisioned for the changed policy), it syncs again"
sql "INSERT INTO eas.access_rules (priority, action, device_type_pattern) VALUES (10, 'quarantine', 'Quarantine%')" >/dev/null
EAS_DEVICE_TYPE=QuarantinePhone fs devR
is "$(xget Status)" 129 "a device matching a quarantine rule cannot sync"
EAS_DEVICE_TYPE=QuarantinePhone eas Settings user1 devR <<'XML'
<Settings xmlns="Settings:"><DeviceInformation><Set><Model>Unknown X1</Model></Set></DeviceInformation></Settings>
XML
is "$(xget Status)" 1 "but may describe itself with Settings"
is "$(sql "SELECT access_state || '|' || model FROM eas.devices_overview WHERE device_id = 'devR'")" \
    "quarantine|Unknown X1" "the admin sees it quarantined, with its model"
sql "SELECT eas.allow_device('user1', 'devR')" >/dev/null
EAS_DEVICE_TYPE=QuarantinePhone fs devR
is "$(xget Status)" 1 "once an admin allows it, it syncs"
done_testing
