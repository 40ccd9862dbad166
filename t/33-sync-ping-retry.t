#!/bin/bash
# What Ping asks the Sync engine (eas_sync_pending): pending changes per
# folder, the device's own changes not counted, "unknown" for mail folders;
# and a collection that fails inside a Sync is undone and answered with
# Status 16 while the others of the request go through.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/sync.sh"
stack_start

foldersync user1 devA 0 >/dev/null
fid() { sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id WHERE u.login = 'user1' AND f.type = $1"; }
C=$(fid 9)
T=$(fid 7)
INBOX=$(fid 2)
pend() { "$top_builddir/t/sync-pending" "$PGURI" user1 "$1" "$2"; }

is "$(pend devA "$C")" 1 "a folder the device never synced: pending"
kA=$(sync_start user1 devA "$C")
sync1 user1 devA "$C" "$kA"
is "$(pend devA "$C")" 0 "synced, nothing new: not pending"
kB=$(sync_start user1 devB "$C")
sync1 user1 devB "$C" "$kB" "<Commands><Add><ClientId>b1</ClientId><ApplicationData><contacts:FirstName>From B</contacts:FirstName></ApplicationData></Add></Commands>"
kB=$(newkey "$kB")
is "$(pend devA "$C")" 1 "another device's change is pending"
is "$(pend devB "$C")" 0 "the device's own change is not"
sync1 user1 devA "$C" "$kA"
kA=$(newkey "$kA")
is "$(pend devA "$C")" 0 "after a Sync: not pending"
sync1 user1 devB "$C" "$kB" "<Commands><Delete><ServerId>$(sql "SELECT '$C:' || max(id) FROM eas.items WHERE folder_id = $C")</ServerId></Delete></Commands>"
kB=$(newkey "$kB")
is "$(pend devA "$C")" 1 "a delete of an item the device holds is pending"
is "$(pend devA "$INBOX")" unknown "a mail folder: unknown (no provider yet)"
is "$(pend devA 999999)" notfound "not a folder of the user"

# Any change of a PIM item, from Sync or plain SQL, wakes the user's waiting
# requests on every front end (NOTIFY eas, 'u:<user id>'; a session gets its
# own notifications at commit).
uid=$(sql "SELECT id FROM eas.users WHERE login = 'user1'")
like "$(psql "$PGURI" -XAt -c "LISTEN eas" -c "UPDATE eas.items SET subject = subject WHERE folder_id = $C" 2>&1)" \
    "notification \"eas\" with payload \"u:$uid\"" "an item change notifies channel eas with u:<user id>"

# The long-poll contract (eas_request.h): with nothing to say, a Sync with
# HeartbeatInterval asks the glue to wait on its folders; run again when
# woken, it answers; run when the time is up, it gives the empty answer.
kW=$(sync_start user1 devW "$C")
kW=$(sync_drain user1 devW "$C" "$kW")
printf '%s' "<Sync $NS><Collections><Collection><SyncKey>$kW</SyncKey><CollectionId>$C</CollectionId></Collection></Collections><HeartbeatInterval>300</HeartbeatInterval></Sync>" |
    "$EAS_WBXML" encode >"$STACK_T/w.req"
wait_run() { "$top_builddir/t/sync-wait" "$PGURI" user1 devW "$1" "$STACK_T/w.req" "$STACK_T/w.resp"; }
is "$(wait_run first)" "http=200 wait=300 folders=$C body=0" \
    "nothing pending: the command asks to wait 300 s on the folder and writes nothing"
is "$(wait_run expired)" "http=200 wait=0 folders= body=0" "the time is up, nothing came: the empty answer"
sync1 user1 devB "$C" "$kB" "<Commands><Add><ClientId>b2</ClientId><ApplicationData><contacts:FirstName>Wake up</contacts:FirstName></ApplicationData></Add></Commands>"
kB=$(newkey "$kB")
like "$(wait_run rerun)" '^http=200 wait=0 folders= body=[1-9]' "woken by a change, the rerun answers"
like "$("$EAS_WBXML" decode <"$STACK_T/w.resp")" 'Wake up' "with the change"

# A collection whose state cannot be written (injected failure).
sql "CREATE FUNCTION eas.test_fail() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'injected'; END\$\$; CREATE TRIGGER test_fail BEFORE UPDATE ON eas.collections FOR EACH ROW WHEN (NEW.folder_id = $T) EXECUTE FUNCTION eas.test_fail()" >/dev/null
kAT=$(sync_start user1 devA "$T")
REQ="<Sync $NS><Collections><Collection><SyncKey>$kA</SyncKey><CollectionId>$C</CollectionId><Commands><Add><ClientId>a1</ClientId><ApplicationData><contacts:FirstName>Kept</contacts:FirstName></ApplicationData></Add></Commands></Collection><Collection><SyncKey>$kAT</SyncKey><CollectionId>$T</CollectionId><Commands><Add><ClientId>t1</ClientId><ApplicationData><tasks:Subject>Undone</tasks:Subject></ApplicationData></Add></Commands></Collection></Collections></Sync>"
eas Sync user1 devA <<<"$REQ"
is "$(eas_code)" 200 "a failing collection does not fail the request"
st() { xmllint --xpath "string(//*[local-name()='Collection'][*[local-name()='CollectionId']='$1']/*[local-name()='Status'])" "$STACK_T/last.xml"; }
is "$(st "$C")/$(st "$T")" 1/16 "the other collection: Status 1; the failing one: Status 16"
like "$(response_sid a1)" "^$C:" "the other collection's Add is stored"
is "$(sql "SELECT count(*) FROM eas.items WHERE subject = 'Undone'")" 0 "the failing collection's Add is undone"
is "$(xmllint --xpath "string(//*[local-name()='Collection'][*[local-name()='CollectionId']='$T']/*[local-name()='SyncKey'])" "$STACK_T/last.xml")" \
    "$kAT" "Status 16 keeps the key"
sql "DROP TRIGGER test_fail ON eas.collections; DROP FUNCTION eas.test_fail()" >/dev/null
sync1 user1 devA "$T" "$kAT" "<Commands><Add><ClientId>t1</ClientId><ApplicationData><tasks:Subject>Undone</tasks:Subject></ApplicationData></Add></Commands>"
is "$(xget Status)/$(response_status Add)" 1/1 "the retry succeeds"
is "$(sql "SELECT count(*) FROM eas.items WHERE subject = 'Undone'")" 1 "and stores the item once"

done_testing
