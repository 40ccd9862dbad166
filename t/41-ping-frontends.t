#!/bin/bash
# Two front ends on one database (eas-stack up --frontend-of): a Ping held
# by one wakes for a change seen by the other (mail announced to the first
# one's eas-notify, a PIM change, a newer Ping of the device).
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
stack_start
export EAS_MAX_TIME=40
HB=100

"$EAS_STACK" up --dir "$STACK_T/fe" --frontend-of "$STACK_DIR" --quiet >"$STACK_T/fe.env" 2>"$STACK_T/fe.log" ||
    bail "the second front end did not start: $(tail -n 3 "$STACK_T/fe.log")"
FE_URL=$(sed -n 's/^EAS_URL="\(.*\)"$/\1/p' "$STACK_T/fe.env")
ok $([ -n "$FE_URL" ] && [ "$FE_URL" != "$EAS_URL" ]; echo $?) "a second front end runs: $FE_URL"

ping_xml() {
    local x="<Ping xmlns=\"Ping:\"><HeartbeatInterval>$1</HeartbeatInterval><Folders>" f
    shift
    for f; do x+="<Folder><Id>${f%%:*}</Id><Class>${f#*:}</Class></Folder>"; done
    echo "$x</Folders></Ping>"
}
bg_ping() { # bg_ping NAME URL DEVICE XML
    mkdir -p "$STACK_T/$1"
    (STACK_T=$STACK_T/$1 EAS_URL=$2 eas Ping user2 "$3" <<<"$4"; touch "$STACK_T/$1/done") &
    eval "bg_$1=$!"
}
bg_done() {
    wait "$(eval echo "\$bg_$1")"
    cp "$STACK_T/$1/last.xml" "$STACK_T/last.xml"
}
folder() { xmllint --xpath "string(//*[local-name()='Add'][*[local-name()='DisplayName']='$1']/*[local-name()='ServerId'])" "$STACK_T/last.xml"; }

foldersync user2 devF 0 >/dev/null
inbox=$(folder Inbox) contacts=$(folder Contacts)
uid=$(sql "SELECT id FROM eas.users WHERE login = 'user2'")
# The first Ping records what the device has been told.
bg_ping first "$FE_URL" devF "$(ping_xml 60 "$inbox:Email" "$contacts:Contacts")"
sleep 1
sql "SELECT eas.notify_user($uid)" >/dev/null
bg_done first

bg_ping mail "$FE_URL" devF "$(ping_xml $HB "$inbox:Email" "$contacts:Contacts")"
sleep 1
send_mail external user2 "to the other front end" "hello"
bg_done mail
is "$(xget Status)/$(xget Folder)" "2/$inbox" \
    "new mail announced to the first front end wakes a Ping held by the second"

bg_ping pim "$FE_URL" devF "$(ping_xml $HB "$inbox:Email" "$contacts:Contacts")"
sleep 1
sql "UPDATE eas.folders SET item_seq = item_seq + 1 WHERE id = $contacts; SELECT eas.notify_user($uid)" >/dev/null
bg_done pim
is "$(xget Status)/$(xget Folder)" "2/$contacts" "a PIM change wakes a Ping on the other front end"

bg_ping old "$FE_URL" devF "$(ping_xml $HB "$inbox:Email")"
sleep 1
bg_ping newer "$EAS_URL" devF "$(ping_xml $HB "$inbox:Email")"
bg_done old
is "$(xget Status)" 1 "a newer Ping at the first front end ends the one at the second: Status 1"
ok $([ ! -f "$STACK_T/newer/done" ]; echo $?) "while the newer one waits"
# A Ping out of bounds still supersedes: it ends the newer one too.
eas Ping user2 devF <<<"$(ping_xml 10 "$inbox:Email")" >/dev/null
is "$(xget Status)" 5 "(a Ping with a heartbeat below the bounds: Status 5)"
bg_done newer
is "$(xget Status)" 1 "and ends the waiting one with Status 1"

"$EAS_STACK" down --dir "$STACK_T/fe" --quiet
done_testing
