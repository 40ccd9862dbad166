#!/bin/bash
# Ping (MS-ASCMD 2.2.1.13) and the push machinery on a real stack: Status
# 1/3/5/6/7, the cached parameters, waking on new mail (Dovecot's push
# notification to eas-notify), on a flag change (the mail watcher), on a
# PIM change and an administrator's wipe (NOTIFY), a superseded Ping, a
# client that goes away, a graceful restart, and the blocking driver.
# A woken Ping must answer long before its heartbeat: EAS_MAX_TIME is far
# below the heartbeats used, so a wake-up that never comes fails the test.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
stack_start
export EAS_MAX_TIME=40
HB=100

ping_xml() { # ping_xml HEARTBEAT [ID:CLASS...]: a Ping body ("" leaves the heartbeat out)
    local x='<Ping xmlns="Ping:">' f
    [ -z "$1" ] || x+="<HeartbeatInterval>$1</HeartbeatInterval>"
    shift
    if [ $# -gt 0 ]; then
        x+="<Folders>"
        for f; do x+="<Folder><Id>${f%%:*}</Id><Class>${f#*:}</Class></Folder>"; done
        x+="</Folders>"
    fi
    echo "$x</Ping>"
}
ping_now() { eas Ping "$1" "$2" <<<"$3"; }
empty_ping() { # empty_ping USER DEVICE: a Ping without a body (MS-ASHTTP 2.2.1.1.3)
    local code
    code=$(curl -sk --max-time "$EAS_MAX_TIME" -o "$STACK_T/eas.resp" -w '%{http_code}' \
        -u "$1:$(user_pass "$1")" -H "MS-ASProtocolVersion: 14.1" --data-binary '' \
        "$EAS_URL?Cmd=Ping&User=$1&DeviceId=$2&DeviceType=TestDevice")
    echo "$code" >"$STACK_T/eas.code"
    "$EAS_WBXML" decode <"$STACK_T/eas.resp" >"$STACK_T/last.xml"
}
# bg_ping NAME USER DEVICE XML: a Ping in the background; bg_done NAME waits
# for it and makes its answer the last one.
bg_ping() {
    mkdir -p "$STACK_T/$1"
    (STACK_T=$STACK_T/$1 ping_now "$2" "$3" "$4"; date +%s%N >"$STACK_T/$1/done") &
    eval "bg_$1=$!"
}
bg_done() {
    wait "$(eval echo "\$bg_$1")"
    cp "$STACK_T/$1/last.xml" "$STACK_T/last.xml"
    cp "$STACK_T/$1/eas.code" "$STACK_T/eas.code"
}
parked() { sleep 1; } # the first run of a Ping takes well under a second
drain() { ping_now "$1" "$2" "$(ping_xml 5 "${@:3}")" >/dev/null; } # answers what is pending
folder() { xmllint --xpath "string(//*[local-name()='Add'][*[local-name()='DisplayName']='$1']/*[local-name()='ServerId'])" "$STACK_T/last.xml"; }

stack_config "EASHeartbeatBounds 5 300" "EASMaxPingFolders 3" "EASMailPollInterval 0"
foldersync user1 devA 0 >/dev/null
inbox=$(folder Inbox) contacts=$(folder Contacts) cal=$(folder Calendar) tasks=$(folder Tasks)
uid=$(sql "SELECT id FROM eas.users WHERE login = 'user1'")
ok $([ -n "$inbox" ] && [ -n "$contacts" ]; echo $?) "FolderSync gave the folder ids"

empty_ping user1 devA
is "$(eas_code)/$(xget Status)" "200/3" "an empty Ping with nothing cached: Status 3"
ping_now user1 devA "$(ping_xml 4 "$inbox:Email")"
is "$(xget Status)/$(xget HeartbeatInterval)" "5/5" "heartbeat below the minimum: Status 5 with the minimum"
ping_now user1 devA "$(ping_xml 301 "$inbox:Email")"
is "$(xget Status)/$(xget HeartbeatInterval)" "5/300" "heartbeat above the maximum: Status 5 with the maximum"
ping_now user1 devA "$(ping_xml 10 "$inbox:Email" "$contacts:Contacts" "$cal:Calendar" "$tasks:Tasks")"
is "$(xget Status)/$(xget MaxFolders)" "6/3" "too many folders: Status 6 with MaxFolders"
ping_now user1 devA "$(ping_xml 10 "99999999:Email")"
is "$(xget Status)" 7 "a folder the user does not have: Status 7"
ping_now user1 devA '<Ping xmlns="Ping:"><HeartbeatInterval>x</HeartbeatInterval></Ping>'
is "$(xget Status)" 4 "a heartbeat that is not a number: Status 4"

ping_now user1 devA "$(ping_xml 5 "$inbox:Email" "$contacts:Contacts")"
is "$(xget Status)" 1 "nothing changes during the heartbeat: Status 1"
empty_ping user1 devA
is "$(xget Status)" 1 "an empty Ping reuses the cached heartbeat and folders"
ping_now user1 devA "$(ping_xml "" "$inbox:Email")"
is "$(xget Status)" 1 "a Ping with folders only keeps the cached heartbeat"

# New mail through the MTA: Dovecot's push_notification reaches eas-notify
# (the watcher is off), which wakes the Ping through NOTIFY.
bg_ping new user1 devA "$(ping_xml $HB "$inbox:Email" "$contacts:Contacts")"
parked
send_mail external user1 "push test" "hello"
bg_done new
is "$(xget Status)/$(xget Folder)/$(xcount Folder)" "2/$inbox/1" "new mail wakes the Ping: Status 2 naming the Inbox"
like "$(grep -c 'PUT /eas-notify HTTP/1.1" 204' "$STACK_DIR/log/httpd-access.log")" '^[1-9]' \
    "Dovecot announced the delivery to eas-notify"
curl -s -o /dev/null -w '%{http_code}' -X POST "${EAS_HTTP_URL%/Microsoft-Server-ActiveSync}/eas-notify" >"$STACK_T/n.code"
is "$(cat "$STACK_T/n.code")" 400 "eas-notify without a user: 400"

# A PIM change made elsewhere (what another device's Sync does), announced.
bg_ping pim user1 devA "$(ping_xml $HB "$inbox:Email" "$contacts:Contacts")"
parked
sql "UPDATE eas.folders SET item_seq = item_seq + 1 WHERE id = $contacts; SELECT eas.notify_user($uid)" >/dev/null
bg_done pim
is "$(xget Status)/$(xget Folder)" "2/$contacts" "a contact change wakes the Ping with the Contacts folder"

# A flag change: Dovecot does not announce it, the mail watcher polls it.
stack_config "EASHeartbeatBounds 5 300" "EASMailPollInterval 1"
drain user1 devA "$inbox:Email"
bg_ping flag user1 devA "$(ping_xml $HB "$inbox:Email")"
parked
imap user1 INBOX -X 'STORE 1 +FLAGS (\Flagged)' >/dev/null
bg_done flag
is "$(xget Status)/$(xget Folder)" "2/$inbox" "a flag change wakes the Ping (mail watcher)"

# An administrator's wipe: the device must come back (FolderSync, then 140).
foldersync user1 devW 0 >/dev/null
bg_ping wipe user1 devW "$(ping_xml $HB "$inbox:Email")"
parked
sql "SELECT eas.request_wipe('user1', 'devW')" >/dev/null
bg_done wipe
is "$(xget Status)" 7 "a wipe request wakes the Ping with Status 7"
foldersync user1 devW 0 >/dev/null
is "$(xget Status)" 140 "and the FolderSync it asks for carries the wipe"

# One live Ping per device: a newer one ends the older at once.
bg_ping old user1 devA "$(ping_xml $HB "$inbox:Email")"
parked
bg_ping newer user1 devA "$(ping_xml 6 "$inbox:Email")"
bg_done old
is "$(xget Status)" 1 "a newer Ping of the device ends the older one with Status 1"
ok $([ ! -f "$STACK_T/newer/done" ]; echo $?) "before the newer one ends"
bg_done newer
is "$(xget Status)" 1 "the newer one lives its heartbeat"

# A client that goes away is noticed and its request logged and closed.
before=$(grep -c 'DeviceId=devGone' "$STACK_DIR/log/httpd-access.log")
EAS_MAX_TIME=2 ping_now user1 devGone "$(ping_xml $HB "$inbox:Email")" >/dev/null 2>&1
gone() { [ "$(grep -c 'Cmd=Ping.*DeviceId=devGone' "$STACK_DIR/log/httpd-access.log")" -gt 0 ]; }
wait_for 10 gone
ok $? "a client that disconnects ends its waiting Ping (logged: $before earlier requests)"

# A graceful restart answers parked Pings instead of keeping old children.
bg_ping restart user1 devA "$(ping_xml $HB "$inbox:Email")"
parked
stack_config "EASHeartbeatBounds 5 300" "EASMailPollInterval 1"
bg_done restart
is "$(eas_code)/$(xget Status)" "200/1" "a graceful restart answers a parked Ping with Status 1"

# The blocking driver (prefork/worker MPMs, HTTP/2) wakes the same way.
stack_config "EASHeartbeatBounds 5 300" "EASMailPollInterval 0" "EASPingMode blocking"
like "$(tail -n 20 "$STACK_DIR/log/httpd-error.log")" 'EASPingMode blocking' "the choice of driver is logged"
drain user1 devA "$inbox:Email" "$contacts:Contacts"
bg_ping blk user1 devA "$(ping_xml $HB "$inbox:Email" "$contacts:Contacts")"
parked
send_mail external user1 "blocking" "hello"
bg_done blk
is "$(xget Status)/$(xget Folder)" "2/$inbox" "blocking driver: new mail wakes the Ping"
ping_now user1 devA "$(ping_xml 5 "$inbox:Email")"
is "$(xget Status)" 1 "blocking driver: heartbeat expiry"
bg_ping bold user1 devA "$(ping_xml $HB "$inbox:Email")"
parked
ping_now user1 devA "$(ping_xml 5 "$inbox:Email")" >/dev/null
bg_done bold
is "$(xget Status)" 1 "blocking driver: a newer Ping ends the older one"

done_testing
