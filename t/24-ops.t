#!/bin/bash
# Operations: device health (eas.device_health, eas-admin health --nagios),
# request statistics (server-status section, eas.command_stats) and the
# eas-admin commands, against a stack.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
stack_start
admin() { "$top_srcdir/tools/eas-admin" --db "$PGURI" "$@"; }
status_url=${EAS_HTTP_URL%/Microsoft-Server-ActiveSync}/server-status
devid() { sql "SELECT d.id FROM eas.devices d JOIN eas.users u ON u.id = d.user_id WHERE u.login = '$1' AND d.device_id = '$2'"; }

# --- health: a device that synced is fine --------------------------------
stack_config "EASStatsInterval 1"
foldersync user1 devOK 0
is "$(xget Status)" 1 "FolderSync of a healthy device"
out=$(admin health --nagios)
rc=$?
is "$rc" 0 "nagios: OK while every device syncs"
like "$out" '^EAS HEALTH OK - [0-9]+ devices, no problems \|' "nagios: one OK line with perfdata"
is "$(printf '%s\n' "$out" | wc -l)" 1 "nagios: exactly one line"
is "$(sql "SELECT cardinality(problems) FROM eas.device_health WHERE device_id = 'devOK'")" 0 \
    "device_health: no problems for devOK"

# --- not syncing ------------------------------------------------------------
foldersync user1 devOld 0
sql "UPDATE eas.device_activity SET last_sync_at = now() - interval '10 days'
      WHERE device = $(devid user1 devOld)" >/dev/null
is "$(sql "SELECT array_to_string(problems, ',') FROM eas.device_health WHERE device_id = 'devOld'")" \
    "not syncing" "device_health: 10 days without a sync (stale_days 7)"
out=$(admin health --nagios --warn-days 7 --crit-days 30)
is "$?" 1 "nagios: WARNING for a device silent for 10 days (warn 7, crit 30)"
like "$out" '^EAS HEALTH WARNING - .*1 not syncing for 7\+ days.*user1/devOld' "nagios: says which"
admin health --nagios --warn-days 3 --crit-days 9 >/dev/null
is "$?" 2 "nagios: CRITICAL with --crit-days 9"
admin health --nagios --warn-days 11 >/dev/null
is "$?" 0 "nagios: OK with --warn-days 11"
admin block user1 devOld lost >/dev/null
foldersync user1 devOld 0
is "$(sql "SELECT cardinality(problems) FROM eas.device_health WHERE device_id = 'devOld'")" 0 \
    "a blocked device is not expected to sync"
admin remove user1 devOld >/dev/null

# --- resync loop -------------------------------------------------------------
for i in 1 2 3 4 5 6; do foldersync user1 devLoop 0; done
is "$(sql "SELECT recent_resets || ' ' || array_to_string(problems, ',') FROM eas.device_health WHERE device_id = 'devLoop'")" \
    "6 resync loop" "device_health: six FolderSync SyncKey 0 make a resync loop"
foldersync user1 devKey 0
foldersync user1 devKey stale-key
is "$(xget Status)" 9 "FolderSync with an unknown key: Status 9"
is "$(sql "SELECT recent_invalid_keys FROM eas.device_health WHERE device_id = 'devKey'")" 1 \
    "device_health: the invalid-key answer is counted"
out=$(admin health --nagios)
is "$?" 2 "nagios: CRITICAL for a resync loop"
like "$out" '^EAS HEALTH CRITICAL - .*1 in a resync loop \(user1/devLoop\)' "nagios: names the device"
like "$(admin health)" 'devLoop.*resync loop' "eas-admin health lists it"
# the counters cover the last one to two windows (window_minutes, 60)
sql "UPDATE eas.device_activity SET window_start = now() - interval '90 minutes'
      WHERE device = $(devid user1 devLoop)" >/dev/null
is "$(sql "SELECT recent_resets FROM eas.device_health WHERE device_id = 'devLoop'")" 6 \
    "a window that ended less than a window ago still counts"
sql "UPDATE eas.device_activity SET window_start = now() - interval '3 hours'
      WHERE device = $(devid user1 devLoop)" >/dev/null
is "$(sql "SELECT recent_resets FROM eas.device_health WHERE device_id = 'devLoop'")" 0 \
    "an old window does not"
foldersync user1 devLoop 0
is "$(sql "SELECT resets || '/' || prev_resets FROM eas.device_activity WHERE device = $(devid user1 devLoop)")" \
    "1/0" "the next request starts a new window without the old counts"
admin remove user1 devLoop >/dev/null
admin remove user1 devKey >/dev/null

# --- repeated errors: a device over its request budget gets 503 -------------
stack_config "EASStatsInterval 1" "EASRequestBudget 2 600 600"
for i in $(seq 1 12); do foldersync user2 devBusy 0 2>/dev/null; done
is "$(eas_code)" 503 "over budget: 503"
is "$(sql "SELECT recent_errors >= 10 AND 'repeated errors' = ANY (problems) FROM eas.device_health WHERE device_id = 'devBusy'")" \
    t "device_health: repeated errors"
out=$(admin health --nagios)
is "$?" 1 "nagios: WARNING for repeated errors"
like "$out" '1 with repeated errors .*user2/devBusy' "nagios: names the device"
# server-status counts since the last (re)start, the 503s included
curl -s -o /dev/null -X OPTIONS -u "user1:$(user_pass user1)" "$EAS_HTTP_URL"
code=$(curl -s -o /dev/null -w '%{http_code}' -u user1:wrong -X POST \
    "$EAS_HTTP_URL?Cmd=Settings&User=user1&DeviceId=devX&DeviceType=T")
is "$code" 401 "a wrong password: 401"
auto=$(curl -s "$status_url?auto")
like "$auto" 'EASErrors-Settings: 1' "server-status?auto: refused by authentication, counted for its command"
like "$auto" 'EASRequests-FolderSync: [1-9]' "server-status?auto: FolderSync requests"
like "$auto" 'EASErrors-FolderSync: [1-9]' "server-status?auto: and their errors (the 503s)"
like "$auto" 'EASRequests-OPTIONS: [1-9]' "server-status?auto: OPTIONS"
like "$auto" 'EASPingsActive: 0' "server-status?auto: Ping gauges"
like "$(curl -s "$status_url")" '<h2>mod_eas \(Exchange ActiveSync\)</h2>' \
    "server-status: the mod_eas section"
like "$(curl -s "$status_url")" '<tr><td>FolderSync</td><td>[1-9]' "server-status: the command table"
stack_config "EASStatsInterval 1"
admin remove user2 devBusy >/dev/null

# --- heartbeats: Pings that wait but are never answered ---------------------
foldersync user3 devPing 0
id=$(devid user3 devPing)
for i in 1 2 3 4 5; do
    sql "SELECT eas.record_activity($id, 0, 0, false, true, false, false, true)" >/dev/null
done
is "$(sql "SELECT array_to_string(problems, ',') FROM eas.device_health WHERE device_id = 'devPing'")" \
    "heartbeat incomplete" "device_health: five Pings parked, none answered"
for i in 1 2; do
    sql "SELECT eas.record_activity($id, 0, 0, false, false, true, false, true)" >/dev/null
done
is "$(sql "SELECT cardinality(problems) FROM eas.device_health WHERE device_id = 'devPing'")" 0 \
    "two of five answered: fine"
admin remove user3 devPing >/dev/null
is "$(admin health --nagios)" "$(admin health --nagios | grep '^EAS HEALTH OK')" "nagios: OK again"

# --- eas.command_stats --------------------------------------------------------
# every child writes at the end of its first request after EASStatsInterval
# (children that a reload ended wrote theirs when they exited)
sent=$(grep -c 'Cmd=FolderSync' "$STACK_DIR/log/httpd-access.log")
stats_written() {
    curl -s -o /dev/null -X OPTIONS -u "user1:$(user_pass user1)" "$EAS_HTTP_URL"
    [ "$(sql "SELECT sum(requests) FROM eas.command_stats WHERE command = 'FolderSync'")" = "$sent" ]
}
wait_for 30 stats_written
ok $? "eas.command_stats: all $sent FolderSync requests were written"
is "$(sql "SELECT sum(errors) >= 10 FROM eas.command_stats WHERE command = 'FolderSync'")" t \
    "eas.command_stats: with its errors"
is "$(sql "SELECT count(*) FROM eas.command_stats WHERE command = 'FolderSync' AND hour = date_trunc('hour', now())")" \
    "$(sql "SELECT count(DISTINCT host) FROM eas.command_stats WHERE command = 'FolderSync' AND hour = date_trunc('hour', now())")" \
    "one row per hour, front end and command"
is "$(sql "SELECT bool_and(under_10ms + under_100ms + under_1s + under_10s + slower = requests AND max_ms > 0) FROM eas.command_stats")" \
    t "the latency histogram covers every request"
like "$(admin stats)" 'FolderSync' "eas-admin stats"

# --- eas-admin ----------------------------------------------------------------
foldersync user1 devA 0
like "$(admin devices user1)" 'devA' "devices USER lists the partnership"
like "$(admin devices)" 'devA' "devices lists every partnership"
nasty="lost'); DROP TABLE eas.users; --"
admin block user1 devA "$nasty" >/dev/null
is "$(sql "SELECT access_override || '|' || access_reason FROM eas.devices WHERE device_id = 'devA'")" \
    "block|$nasty" "block: the reason is stored as typed, not run as SQL"
foldersync user1 devA 0
is "$(xget Status)" 129 "the blocked device is refused (Status 129)"
admin allow user1 devA >/dev/null
foldersync user1 devA 0
is "$(xget Status)" 1 "allow: it syncs again"
admin rules user1 devA >/dev/null
is "$(sql "SELECT access_override IS NULL FROM eas.devices WHERE device_id = 'devA'")" t \
    "rules: the decision goes back to the access rules"
admin wipe user1 devA >/dev/null
is "$(sql "SELECT wipe_kind || ' ' || wipe_state FROM eas.devices WHERE device_id = 'devA'")" \
    "full requested" "wipe: requested"
admin cancel-wipe user1 devA >/dev/null
is "$(sql "SELECT wipe_state FROM eas.devices WHERE device_id = 'devA'")" none "cancel-wipe"
admin account-wipe user1 devA >/dev/null
is "$(sql "SELECT wipe_kind FROM eas.devices WHERE device_id = 'devA'")" account "account-wipe"
admin cancel-wipe user1 devA >/dev/null
admin resync user1 devA >/dev/null
is "$(sql "SELECT hierarchy_key FROM eas.devices WHERE device_id = 'devA'")" 0 "resync: keys invalid"
admin policy set strict MinDevicePasswordLength 8 >/dev/null
admin policy assign user1 strict >/dev/null
is "$(sql "SELECT u.policy || ' ' || s.value FROM eas.users u JOIN eas.policy_settings s ON s.policy = u.policy WHERE u.login = 'user1' AND s.name = 'MinDevicePasswordLength'")" \
    "strict 8" "policy set and policy assign"
like "$(admin policy show strict)" 'MinDevicePasswordLength \| 8' "policy show"
admin policy set strict MinDevicePasswordLength - >/dev/null
admin policy assign user1 - >/dev/null
is "$(sql "SELECT coalesce(policy, 'none') || ' ' || (SELECT count(*) FROM eas.policy_settings WHERE policy = 'strict') FROM eas.users WHERE login = 'user1'")" \
    "none 0" "'-' unsets a setting and gives back the server's policy"
admin remove user1 devA >/dev/null
is "$(sql "SELECT count(*) FROM eas.devices WHERE device_id = 'devA'")" 0 "remove"
# --- examples/policies.sql: mod_eas serves both policies -------------------------
psql "$PGURI" -XAtq -v ON_ERROR_STOP=1 -f "$top_srcdir/examples/policies.sql" >/dev/null
ok $? "examples/policies.sql applies"
psql "$PGURI" -XAtq -v ON_ERROR_STOP=1 -f "$top_srcdir/examples/policies.sql" >/dev/null
ok $? "and applies again"
for pol in standard:6 strict:10; do
    admin policy assign user3 "${pol%%:*}" >/dev/null
    EAS_POLICY_KEY=0 eas Provision user3 "dev-${pol%%:*}" <<'XML'
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>
XML
    is "$(xget Status 2)/$(xget MinDevicePasswordLength)" "1/${pol#*:}" \
        "the ${pol%%:*} policy is served (MinDevicePasswordLength ${pol#*:})"
done
is "$(xget RequireDeviceEncryption)/$(xget MaxEmailAgeFilter)/$(xget AllowStorageCard)" "1/5/0" \
    "strict: encryption, a month of mail, no storage card"

admin wipe user1 devA 2>/dev/null
is "$?" 1 "an unknown device: exit status 1"
like "$(admin wipe user1 devA 2>&1)" 'no device devA for user user1' "and PostgreSQL's reason"
admin wipe user1 >/dev/null 2>&1
is "$?" 2 "a missing argument: usage, exit status 2"
sql "INSERT INTO eas.errors (login, command, status, message) VALUES ('user9', 'Sync', '500', 'test error')" >/dev/null
like "$(admin errors 1)" 'user9 .*test error' "errors N"
EAS_DB=$PGURI "$top_srcdir/tools/eas-admin" devices user1 >/dev/null
is "$?" 0 "the database from EAS_DB"
out=$(EAS_DB= "$top_srcdir/tools/eas-admin" --db "host=$STACK_T/nowhere dbname=eas" health --nagios)
is "$?" 3 "nagios: UNKNOWN without a database"
like "$out" '^EAS HEALTH UNKNOWN - ' "nagios: one UNKNOWN line"

# --- eas-dbupgrade: current, and a migration that lands out of order ---------------
like "$("$top_srcdir/tools/eas-dbupgrade" "$PGURI")" '^schema is current' "eas-dbupgrade: nothing to do"
mkdir -p "$STACK_T/sql"
cp "$top_srcdir"/sql/[0-9][0-9][0-9]_*.sql "$STACK_T/sql/"
# as if 950 had been applied before 949 was written
sql "INSERT INTO eas.schema_version (version, name) VALUES (950, 'later')" >/dev/null
printf '%s\n' "CREATE TABLE eas.late_migration (x int);" \
    "INSERT INTO eas.schema_version (version, name) VALUES (949, 'late');" >"$STACK_T/sql/949_late.sql"
is "$("$top_srcdir/tools/eas-dbupgrade" --sqldir "$STACK_T/sql" "$PGURI")" "applied 949_late.sql" \
    "eas-dbupgrade applies a lower number that is missing, and only that"
sql "DELETE FROM eas.schema_version WHERE version IN (949, 950); DROP TABLE eas.late_migration" >/dev/null

done_testing
