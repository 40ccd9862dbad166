#!/bin/bash
# Sync of tasks (MS-ASTASK) and notes (MS-ASNOTE), and the request shapes
# of MS-ASCMD 2.2.1.21: several collections, empty and Partial requests,
# Wait / HeartbeatInterval bounds, the empty answer, and two devices
# editing at the same time (no deadlock, both converge).
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/sync.sh"
stack_start

foldersync user1 devA 0 >/dev/null
fid() { sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id WHERE u.login = 'user1' AND f.type = $1"; }
T=$(fid 7)
N=$(fid 10)
C=$(fid 9)
dt() { date -u -d "$1" +%Y-%m-%dT%H:%M:%S.000Z; }

# ---- tasks ------------------------------------------------------------------
TASK="<ApplicationData><tasks:Subject>Water the plants</tasks:Subject><tasks:Importance>2</tasks:Importance><tasks:UtcStartDate>2026-03-01T08:00:00.000Z</tasks:UtcStartDate><tasks:StartDate>2026-03-01T09:00:00.000Z</tasks:StartDate><tasks:UtcDueDate>2026-03-02T08:00:00.000Z</tasks:UtcDueDate><tasks:DueDate>2026-03-02T09:00:00.000Z</tasks:DueDate><tasks:Categories><tasks:Category>Home</tasks:Category></tasks:Categories><tasks:Recurrence><tasks:Type>1</tasks:Type><tasks:Start>2026-03-01T08:00:00.000Z</tasks:Start><tasks:Interval>1</tasks:Interval><tasks:DayOfWeek>2</tasks:DayOfWeek><tasks:Regenerate>0</tasks:Regenerate><tasks:DeadOccur>0</tasks:DeadOccur></tasks:Recurrence><tasks:Complete>0</tasks:Complete><tasks:Sensitivity>0</tasks:Sensitivity><tasks:ReminderTime>2026-03-02T07:00:00.000Z</tasks:ReminderTime><tasks:ReminderSet>1</tasks:ReminderSet><airsyncbase:Body><airsyncbase:Type>2</airsyncbase:Type><airsyncbase:Data>&lt;p&gt;The &lt;b&gt;ferns&lt;/b&gt; &amp;amp; cacti&lt;/p&gt;</airsyncbase:Data></airsyncbase:Body></ApplicationData>"
kA=$(sync_start user1 devA "$T")
sync1 user1 devA "$T" "$kA" "<Commands><Add><ClientId>t1</ClientId>$TASK</Add><Add><ClientId>t2</ClientId><ApplicationData><tasks:Subject>Done already</tasks:Subject><tasks:Complete>1</tasks:Complete><tasks:DateCompleted>2026-02-01T10:00:00.000Z</tasks:DateCompleted></ApplicationData></Add><Add><ClientId>t3</ClientId><ApplicationData><tasks:Subject>Bad</tasks:Subject><tasks:Importance>7</tasks:Importance></ApplicationData></Add></Commands>"
is "$(response_status Add 1)/$(response_status Add 2)/$(response_status Add 3)" 1/1/6 "tasks: an Importance of 7 gets Status 6"
t1=$(response_sid t1)
t2=$(response_sid t2)
kA=$(newkey "$kA")

kB=$(sync_start user1 devB "$T")
sync1 user1 devB "$T" "$kB" "<Options><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type></airsyncbase:BodyPreference></Options>"
kB=$(newkey "$kB")
is "$(appdata "$t1" | sed 's|<airsyncbase:EstimatedDataSize>[0-9]*</airsyncbase:EstimatedDataSize>||')" "$TASK" \
    "a task with recurrence, reminder and an HTML body comes back exactly"
kP=$(sync_start user1 devP "$T")
sync1 user1 devP "$T" "$kP" "<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:TruncationSize>9</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options>"
kP=$(newkey "$kP")
like "$(appdata "$t1")" '<airsyncbase:Type>1</airsyncbase:Type><airsyncbase:EstimatedDataSize>17</airsyncbase:EstimatedDataSize><airsyncbase:Truncated>1</airsyncbase:Truncated><airsyncbase:Data>The ferns</airsyncbase:Data>' \
    "as plain text: tags gone, entities decoded, truncated at 9 bytes"

# FilterType 8: incomplete tasks only.
kI=$(sync_start user1 devI "$T" "<Options><FilterType>8</FilterType></Options>")
sync1 user1 devI "$T" "$kI"
kI=$(newkey "$kI")
is "$(server_ids Add)" "$t1" "FilterType 8: only the incomplete task"
sync1 user1 devA "$T" "$kA" "<Commands><Change><ServerId>$t1</ServerId><ApplicationData><tasks:Subject>Water the plants</tasks:Subject><tasks:Complete>1</tasks:Complete><tasks:DateCompleted>2026-03-02T10:00:00.000Z</tasks:DateCompleted></ApplicationData></Change><Change><ServerId>$t2</ServerId><ApplicationData><tasks:Subject>Not done after all</tasks:Subject><tasks:Complete>0</tasks:Complete></ApplicationData></Change></Commands>"
kA=$(newkey "$kA")
sync1 user1 devI "$T" "$kI"
kI=$(newkey "$kI")
is "$(server_ids SoftDelete)" "$t1" "a task completed elsewhere is soft-deleted"
is "$(server_ids Add)" "$t2" "a task reopened elsewhere is added"

# ---- notes (14.0+) ------------------------------------------------------
NOTE="<ApplicationData><notes:Subject>Shopping</notes:Subject><notes:MessageClass>IPM.StickyNote</notes:MessageClass><notes:LastModifiedDate>2026-03-01T10:00:00.000Z</notes:LastModifiedDate><notes:Categories><notes:Category>Lists</notes:Category></notes:Categories><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>milk
eggs</airsyncbase:Data></airsyncbase:Body></ApplicationData>"
kNA=$(sync_start user1 devA "$N")
sync1 user1 devA "$N" "$kNA" "<Commands><Add><ClientId>n1</ClientId>$NOTE</Add></Commands>"
n1=$(response_sid n1)
kNA=$(newkey "$kNA")
export EAS_PROTOCOL_VERSION=16.1
kNB=$(sync_start user1 devB "$N")
sync1 user1 devB "$N" "$kNB"
kNB=$(newkey "$kNB")
unset EAS_PROTOCOL_VERSION
is "$(appdata "$n1" | sed 's|<airsyncbase:EstimatedDataSize>[0-9]*</airsyncbase:EstimatedDataSize>||')" "$(printf '%s' "$NOTE" | flat)" \
    "a note from a 14.1 device reaches a 16.1 device unchanged"

# ---- several collections, empty and Partial requests -------------------
kBC=$(sync_start user1 devB "$C")
kBT=$(sync_drain user1 devB "$T" "$kB")
two() { # two CONTACTS-KEY TASKS-KEY [extra]
    eas Sync user1 devB <<<"<Sync $NS><Collections><Collection><SyncKey>$1</SyncKey><CollectionId>$C</CollectionId></Collection><Collection><SyncKey>$2</SyncKey><CollectionId>$T</CollectionId></Collection></Collections>${3:-}</Sync>"
}
two "$kBC" "$kBT"
empty_answer; ok $? "nothing to say for two collections: HTTP 200 without a body"
eas_empty user1 devB; empty_answer; ok $? "an empty request repeats the cached one: empty again"
sync1 user1 devA "$T" "$kA" "<Commands><Add><ClientId>t4</ClientId><ApplicationData><tasks:Subject>New</tasks:Subject></ApplicationData></Add></Commands>"
kA=$(newkey "$kA")
t4=$(response_sid t4)
eas_empty user1 devB
is "$(xcount Collection)" 2 "an empty request after a change: both collections answered"
is "$(server_ids Add)" "$t4" "with the new task"
kBT=$(xmllint --xpath "string(//*[local-name()='Collection'][*[local-name()='CollectionId']='$T']/*[local-name()='SyncKey'])" "$STACK_T/last.xml")
eas Sync user1 devB <<<"<Sync $NS><Collections><Collection><SyncKey>0</SyncKey><CollectionId>$N</CollectionId></Collection><Collection><SyncKey>$kBT</SyncKey><CollectionId>$T</CollectionId></Collection></Collections><Partial/></Sync>"
is "$(xcount Collection)" 3 "Partial: the cached contacts collection is answered with the two named"
is "$(xmllint --xpath "string(//*[local-name()='Collection'][*[local-name()='CollectionId']='$C']/*[local-name()='SyncKey'])" "$STACK_T/last.xml")" "$kBC" \
    "with the key the cache holds"
gen() { sql "SELECT generation FROM eas.collections c JOIN eas.devices d ON d.id = c.device_id WHERE d.device_id = 'devB' AND c.folder_id = $1"; }
g=$(gen "$N")
kBT=$(xmllint --xpath "string(//*[local-name()='Collection'][*[local-name()='CollectionId']='$T']/*[local-name()='SyncKey'])" "$STACK_T/last.xml")
eas Sync user1 devB <<<"<Sync $NS><Collections><Collection><SyncKey>$kBT</SyncKey><CollectionId>$T</CollectionId></Collection></Collections><Partial/></Sync>"
is "$(gen "$N")" "$g" "a later Partial request does not start the collection cached with key 0 over"
eas_empty user1 devNew
is "$(xget Status)" 13 "an empty request without a cached one: Status 13"
eas Sync user1 devNew <<<"<Sync $NS><Collections><Collection><SyncKey>0</SyncKey><CollectionId>$C</CollectionId></Collection></Collections><HeartbeatInterval>10</HeartbeatInterval></Sync>"
is "$(xget Status)/$(xget Limit)" 14/60 "HeartbeatInterval below the bounds: Status 14, Limit 60"
eas Sync user1 devNew <<<"<Sync $NS><Collections><Collection><SyncKey>0</SyncKey><CollectionId>$C</CollectionId></Collection></Collections><Wait>100</Wait></Sync>"
is "$(xget Status)/$(xget Limit)" 14/59 "Wait above the bounds: Status 14, Limit 59 (minutes)"
eas Sync user1 devNew <<<"<Sync $NS><Collections><Collection><SyncKey>0</SyncKey><CollectionId>$C</CollectionId></Collection></Collections><Wait>5</Wait><HeartbeatInterval>300</HeartbeatInterval></Sync>"
is "$(xget Status)" 4 "Wait and HeartbeatInterval together: Status 4"
kNew=$(sync_start user1 devNew "$C")
: >"$STACK_T/seen"
kNew=$(sync_drain user1 devNew "$C" "$kNew")
stack_config 'EASHeartbeatBounds 3 3540'
t0=$SECONDS
eas Sync user1 devNew <<<"<Sync $NS><Collections><Collection><SyncKey>$kNew</SyncKey><CollectionId>$C</CollectionId></Collection></Collections><HeartbeatInterval>3</HeartbeatInterval></Sync>"
empty_answer; ok $? "HeartbeatInterval with nothing pending: the wait ends with an empty answer"
[ $((SECONDS - t0)) -ge 3 ]; ok $? "after the interval, not at once"
stack_config 
EAS_PROTOCOL_VERSION=12.0 eas Sync user1 dev120 <<<"<Sync $NS><Collections><Collection><SyncKey>$(EAS_PROTOCOL_VERSION=12.0 sync_start user1 dev120 "$C")</SyncKey><CollectionId>$C</CollectionId><GetChanges>0</GetChanges></Collection></Collections></Sync>"
is "$(xget Status)" 1 "12.0 gets a full answer even with nothing to say"

# ---- two devices at once -------------------------------------------------
# Each request changes contacts and tasks, in opposite orders for the two
# devices: the folders are locked in id order, so they never deadlock.
kXC=$(sync_start user1 devX "$C"); kXT=$(sync_start user1 devX "$T")
kYC=$(sync_start user1 devY "$C"); kYT=$(sync_start user1 devY "$T")
: >"$STACK_T/seen"; kXC=$(sync_drain user1 devX "$C" "$kXC"); kXT=$(sync_drain user1 devX "$T" "$kXT")
kYC=$(sync_drain user1 devY "$C" "$kYC"); kYT=$(sync_drain user1 devY "$T" "$kYT")
burst() { # burst DEVICE FIRST-FOLDER FIRST-KEY SECOND-FOLDER SECOND-KEY: 8 requests in a row
    local dev=$1 f1=$2 k1=$3 f2=$4 k2=$5 i dir=$STACK_T/$1 cls
    mkdir -p "$dir"
    for i in $(seq 1 8); do
        cls() { [ "$1" = "$C" ] && echo "<contacts:FirstName>$dev$i</contacts:FirstName>" || echo "<tasks:Subject>$dev$i</tasks:Subject>"; }
        printf '%s' "<Sync $NS><Collections><Collection><SyncKey>$k1</SyncKey><CollectionId>$f1</CollectionId><Commands><Add><ClientId>$dev-$i</ClientId><ApplicationData>$(cls "$f1")</ApplicationData></Add></Commands></Collection><Collection><SyncKey>$k2</SyncKey><CollectionId>$f2</CollectionId><Commands><Add><ClientId>$dev-$i</ClientId><ApplicationData>$(cls "$f2")</ApplicationData></Add></Commands></Collection></Collections></Sync>" |
            "$EAS_WBXML" encode >"$dir/req"
        curl -sk --max-time 60 -o "$dir/resp" -w '%{http_code}\n' -u "user1:$(user_pass user1)" \
            -H 'Content-Type: application/vnd.ms-sync.wbxml' -H 'MS-ASProtocolVersion: 14.1' \
            --data-binary @"$dir/req" "$EAS_URL?Cmd=Sync&User=user1&DeviceId=$dev&DeviceType=T" >>"$dir/codes"
        "$EAS_WBXML" decode <"$dir/resp" >"$dir/resp.xml"
        k1=$(xmllint --xpath "string(//*[local-name()='Collection'][*[local-name()='CollectionId']='$f1']/*[local-name()='SyncKey'])" "$dir/resp.xml")
        k2=$(xmllint --xpath "string(//*[local-name()='Collection'][*[local-name()='CollectionId']='$f2']/*[local-name()='SyncKey'])" "$dir/resp.xml")
    done
}
burst devX "$C" "$kXC" "$T" "$kXT" &
px=$!
burst devY "$T" "$kYT" "$C" "$kYC" &
py=$!
wait "$px" "$py"
is "$(sort -u "$STACK_T/devX/codes" "$STACK_T/devY/codes")" 200 "32 concurrent requests from two devices: all answered 200"
converged() { # converged DEVICE FOLDER: items the device lacks or holds at an old version
    sql "SELECT count(*) FROM eas.items i LEFT JOIN eas.sync_items s ON s.item = i.id AND s.folder_id = i.folder_id AND s.device_id = (SELECT id FROM eas.devices WHERE device_id = '$1') WHERE i.folder_id = $2 AND NOT i.deleted AND s.version IS DISTINCT FROM i.seq"
}
for d in devX devY; do
    for f in "$C" "$T"; do
        k=$(sql "SELECT '{' || generation || '}' || sync_key FROM eas.collections c JOIN eas.devices d ON d.id = c.device_id WHERE d.device_id = '$d' AND c.folder_id = $f")
        sync_drain user1 "$d" "$f" "$k" >/dev/null
    done
done
is "$(converged devX "$C")/$(converged devX "$T")/$(converged devY "$C")/$(converged devY "$T")" 0/0/0/0 \
    "after a Sync each device holds every item at its latest version"
is "$(sql "SELECT count(*) FROM eas.items WHERE folder_id IN ($C, $T) AND (subject LIKE 'devX%' OR subject LIKE 'devY%')")" 32 \
    "and every add was stored once"

done_testing
