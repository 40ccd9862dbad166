#!/bin/bash
# Sync of contacts (MS-ASCMD 2.2.1.21, MS-ASCNTC): round trips between two
# devices, retries of the previous key, ClientId duplicates, ghosting with
# Supported, conflicts both ways, deletes, invalid keys, windowing with
# MoreAvailable, GetItemEstimate, MoveItems, Status 12, a 2.5 client.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/sync.sh"
stack_start

foldersync user1 devA 0 >/dev/null
C=$(sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id WHERE u.login = 'user1' AND f.type = 9")
like "$C" '^[0-9]+$' "the user's Contacts folder"
items() { sql "SELECT count(*) FROM eas.items WHERE folder_id = $1 AND NOT deleted"; }

# ---- initial sync and a rich contact -----------------------------------
kA=$(sync_start user1 devA "$C")
like "$kA" '^\{[0-9a-f]{8}\}1$' "SyncKey 0 gives the first key"
is "$(xget Status)" 1 "Status 1"
is "$(xcount Commands)" 0 "no commands with the first key"

ADA='<ApplicationData><contacts:FileAs>Lovelace, Ada</contacts:FileAs><contacts:FirstName>Ada</contacts:FirstName><contacts:LastName>Lovelace</contacts:LastName><contacts:MiddleName>King</contacts:MiddleName><contacts:Email1Address>ada@example.test</contacts:Email1Address><contacts:MobilePhoneNumber>+44 20 7946 0000</contacts:MobilePhoneNumber><contacts:BusinessAddressCity>London</contacts:BusinessAddressCity><contacts:Birthday>1815-12-10T00:00:00.000Z</contacts:Birthday><contacts:JobTitle>Analyst</contacts:JobTitle><contacts:Categories><contacts:Category>Science</contacts:Category><contacts:Category>Friends</contacts:Category></contacts:Categories><contacts:Children><contacts:Child>Byron</contacts:Child><contacts:Child>Anne</contacts:Child></contacts:Children><contacts:Picture>/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJ</contacts:Picture><contacts2:NickName>Enchantress</contacts2:NickName><contacts2:IMAddress>ada@im.example.test</contacts2:IMAddress><contacts2:ManagerName>Babbage</contacts2:ManagerName><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Notes on the Analytical Engine, ünïcödé</airsyncbase:Data></airsyncbase:Body></ApplicationData>'
GRACE='<ApplicationData><contacts:FirstName>Grace</contacts:FirstName><contacts:LastName>Hopper</contacts:LastName><contacts:Email1Address>grace@example.test</contacts:Email1Address><contacts:MobilePhoneNumber>+1 555 0100</contacts:MobilePhoneNumber></ApplicationData>'
ADD_REQ="<Commands><Add><ClientId>c1</ClientId>$ADA</Add><Add><ClientId>c2</ClientId>$GRACE</Add></Commands>"
sync1 user1 devA "$C" "$kA" "$ADD_REQ"
is "$(response_status Add 1)$(response_status Add 2)" 11 "two client Adds: Status 1 each"
ada=$(response_sid c1)
grace=$(response_sid c2)
like "$ada" "^$C:[0-9]+\$" "ServerId is <folder>:<item>"
[ "$ada" != "$grace" ]; ok $? "distinct ServerIds"
kA1=$kA
kA=$(newkey "$kA")
like "$kA" '\}2$' "client changes advance the key"
cp "$STACK_T/last.xml" "$STACK_T/answer-k1.xml"
is "$(items "$C")" 2 "two items stored"

# The answer was lost: the same request with the previous key.
sync1 user1 devA "$C" "$kA1" "$ADD_REQ"
cmp -s "$STACK_T/last.xml" "$STACK_T/answer-k1.xml"; ok $? "the previous key with the same request is answered identically"
is "$(items "$C")" 2 "and nothing was applied twice"
sync1 user1 devA "$C" "$kA1" "<Commands><Add><ClientId>c9</ClientId>$GRACE</Add></Commands>"
is "$(xget Status)" 3 "the previous key with another request: Status 3"
is "$(items "$C")" 2 "which applies nothing"

# The same Add again with the current key (the device lost the answer but
# moved on): the same ServerId, no second item.
sync1 user1 devA "$C" "$kA" "<Commands><Add><ClientId>c2</ClientId>$GRACE</Add></Commands>"
is "$(response_sid c2)" "$grace" "a resent Add (same ClientId and data) gets the same ServerId"
is "$(items "$C")" 2 "no duplicate"
kA=$(newkey "$kA")
sync1 user1 devA "$C" "$kA"
empty_answer; ok $? "the device is not sent its own items: nothing to say, an empty answer"

# ---- another device receives the same data ----------------------------
kB=$(sync_start user1 devB "$C")
: >"$STACK_T/seen"
kB=$(sync_drain user1 devB "$C" "$kB")
is "$(grep -c '^Add ' "$STACK_T/seen")" 2 "device B gets both contacts"
sync1 user1 devB "$C" "$(sql "SELECT '{' || generation || '}' || (sync_key - 1) FROM eas.collections c JOIN eas.devices d ON d.id = c.device_id WHERE d.device_id = 'devB' AND c.folder_id = $C")"
got=$(appdata "$ada" | sed 's|<airsyncbase:EstimatedDataSize>[0-9]*</airsyncbase:EstimatedDataSize>||')
is "$got" "$ADA" "device B receives exactly what device A sent (contacts, contacts2, categories, children, picture, body)"

# ---- Change without Supported: what is not sent is removed ----------
ADA2='<ApplicationData><contacts:FirstName>Ada</contacts:FirstName><contacts:LastName>King</contacts:LastName><contacts:JobTitle>Countess</contacts:JobTitle></ApplicationData>'
sync1 user1 devB "$C" "$kB" "<Commands><Change><ServerId>$ada</ServerId>$ADA2</Change></Commands>"
is "$(xcount Responses)" 0 "a successful Change gets no response"
kB=$(newkey "$kB")
sync1 user1 devA "$C" "$kA"
kA=$(newkey "$kA")
is "$(server_ids Change)" "$ada" "device A gets the Change"
is "$(appdata "$ada" Change | sed 's|<airsyncbase:EstimatedDataSize>[0-9]*</airsyncbase:EstimatedDataSize>||')" \
    "${ADA2%</ApplicationData>}<airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Notes on the Analytical Engine, ünïcödé</airsyncbase:Data></airsyncbase:Body></ApplicationData>" \
    "without Supported, properties not sent are removed; the body not sent is kept"

# ---- Supported: ghosted properties survive a Change -----------------
kC=$(sync_start user1 devC "$C" "<Supported><contacts:FirstName/><contacts:LastName/><contacts:Email1Address/></Supported>")
kC=$(sync_drain user1 devC "$C" "$kC")
sync1 user1 devC "$C" "$kC" "<Commands><Change><ServerId>$grace</ServerId><ApplicationData><contacts:FirstName>Grace</contacts:FirstName><contacts:LastName>Hopper-Murray</contacts:LastName></ApplicationData></Change></Commands>"
kC=$(newkey "$kC")
sync1 user1 devA "$C" "$kA"
kA=$(newkey "$kA")
is "$(appdata "$grace" Change)" \
    '<ApplicationData><contacts:MobilePhoneNumber>+1 555 0100</contacts:MobilePhoneNumber><contacts:FirstName>Grace</contacts:FirstName><contacts:LastName>Hopper-Murray</contacts:LastName></ApplicationData>' \
    "a ghosted property (not in Supported) is kept, a supported one not sent is removed"

# ---- conflicts ----------------------------------------------------------
# B changes Grace; A, holding the older version, changes her too.
sync1 user1 devB "$C" "$kB"
kB=$(newkey "$kB")
sync1 user1 devB "$C" "$kB" "<Commands><Change><ServerId>$grace</ServerId><ApplicationData><contacts:FirstName>Grace</contacts:FirstName><contacts:LastName>B-version</contacts:LastName></ApplicationData></Change></Commands>"
kB=$(newkey "$kB")
sync1 user1 devA "$C" "$kA" "<Commands><Change><ServerId>$grace</ServerId><ApplicationData><contacts:FirstName>Grace</contacts:FirstName><contacts:LastName>A-version</contacts:LastName></ApplicationData></Change></Commands>"
kA=$(newkey "$kA")
is "$(response_status Change)" 7 "conflict, server wins by default: Status 7"
is "$(server_ids Change)" "$grace" "and the server's version comes in the same answer"
like "$(appdata "$grace" Change)" 'B-version' "which is B's"
sync1 user1 devA "$C" "$kA" "<Options><Conflict>0</Conflict></Options>"
kA=$(newkey "$kA")
sync1 user1 devB "$C" "$kB" "<Commands><Change><ServerId>$grace</ServerId><ApplicationData><contacts:FirstName>Grace</contacts:FirstName><contacts:LastName>B-again</contacts:LastName></ApplicationData></Change></Commands>"
kB=$(newkey "$kB")
sync1 user1 devA "$C" "$kA" "<Commands><Change><ServerId>$grace</ServerId><ApplicationData><contacts:FirstName>Grace</contacts:FirstName><contacts:LastName>A-wins</contacts:LastName></ApplicationData></Change></Commands>"
kA=$(newkey "$kA")
is "$(xcount Responses)" 0 "Conflict 0 (client wins): the Change is accepted"
is "$(xcount Commands)" 0 "and the older server version is not sent back"
sync1 user1 devB "$C" "$kB"
kB=$(newkey "$kB")
like "$(appdata "$grace" Change)" 'A-wins' "the other device gets the winning client's version"

# ---- deletes and bad items ------------------------------------------------
sync1 user1 devA "$C" "$kA" "<Commands><Add><ClientId>c3</ClientId><ApplicationData><contacts:FirstName>One</contacts:FirstName></ApplicationData></Add><Add><ClientId>c4</ClientId><ApplicationData><contacts:FirstName>Bad</contacts:FirstName><contacts:Birthday>not a date</contacts:Birthday></ApplicationData></Add><Add><ClientId>c5</ClientId><ApplicationData><contacts:FirstName>Three</contacts:FirstName></ApplicationData></Add></Commands>"
is "$(response_status Add 1)/$(response_status Add 2)/$(response_status Add 3)" 1/6/1 "a bad item gets Status 6, the others go through"
is "$(response_sid c4)" "" "the bad item has no ServerId"
one=$(response_sid c3)
kA=$(newkey "$kA")
sync1 user1 devA "$C" "$kA" "<Commands><Delete><ServerId>$one</ServerId></Delete><Delete><ServerId>$C:999999</ServerId></Delete></Commands>"
is "$(response_status Delete 1)" 8 "deleting an item the device does not hold: Status 8"
is "$(xcount Delete)" 1 "the successful Delete gets no response"
kA=$(newkey "$kA")
sync1 user1 devA "$C" "$kA"
empty_answer; ok $? "the deleting device is not told again"
sync1 user1 devB "$C" "$kB"
kB=$(newkey "$kB")
is "$(server_ids Add | wc -l)" 1 "device B gets the new contact that was never deleted"
is "$(xcount Delete)" 0 "and nothing about the one added and deleted in between"
sync1 user1 devA "$C" "$kA" "<Commands><Delete><ServerId>$grace</ServerId></Delete></Commands>"
kA=$(newkey "$kA")
sync1 user1 devB "$C" "$kB"
kB=$(newkey "$kB")
is "$(server_ids Delete)" "$grace" "a delete reaches the other device"

# ---- invalid key and a clean resync --------------------------------------
sync1 user1 devB "$C" "{00000000}5"
is "$(xget Status)" 3 "an unknown key: Status 3"
sync1 user1 devB "$C" "$kB"
empty_answer; ok $? "the current key still works (nothing new: empty answer)"
kB=$(sync_start user1 devB "$C")
: >"$STACK_T/seen"
kB=$(sync_drain user1 devB "$C" "$kB")
is "$(grep -c '^Add ' "$STACK_T/seen")" "$(items "$C")" "after SyncKey 0 the device gets every live item once"

# ---- a large request and a large item -------------------------------------
big=$(head -c 30000 /dev/zero | tr '\0' 'n')
sync1 user1 devA "$C" "$kA" "<Commands><Add><ClientId>big</ClientId><ApplicationData><contacts:FirstName>Big</contacts:FirstName><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>$big</airsyncbase:Data></airsyncbase:Body></ApplicationData></Add></Commands>"
bigid=$(response_sid big)
like "$bigid" "^$C:" "a 30 KB request is read whole"
kA=$(newkey "$kA")
sync1 user1 devB "$C" "$kB" "<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:TruncationSize>100000</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options>"
kB=$(newkey "$kB")
is "$(xmllint --xpath "string(//*[local-name()='Add'][*[local-name()='ServerId']='$bigid']//*[local-name()='Data'])" "$STACK_T/last.xml" | tr -d '\n' | wc -c)" 30000 \
    "and its 30 KB body reaches the other device"

# ---- windowing ------------------------------------------------------------
adds=""
for i in $(seq 1 25); do adds="$adds<Add><ClientId>w$i</ClientId><ApplicationData><contacts:FirstName>Window</contacts:FirstName><contacts:LastName>$i</contacts:LastName></ApplicationData></Add>"; done
sync1 user1 devA "$C" "$kA" "<Commands>$adds</Commands>"
kA=$(newkey "$kA")
is "$(xcount Add)" 25 "25 Adds answered in one request"
kD=$(sync_start user1 devD "$C")
sync1 user1 devD "$C" "$kD" "<WindowSize>10</WindowSize>"
is "$(xcount Add)" 10 "WindowSize 10: ten items"
is "$(xcount MoreAvailable)" 1 "and MoreAvailable"
kD=$(newkey "$kD")
: >"$STACK_T/seen"
server_ids Add | sed 's/^/Add /' >>"$STACK_T/seen"
kD=$(sync_drain user1 devD "$C" "$kD" "<WindowSize>10</WindowSize>")
is "$(cat "$STACK_T/requests")" 2 "two more requests for the other 17"
sort "$STACK_T/seen" | uniq -d >"$STACK_T/dups"
is "$(wc -l <"$STACK_T/dups")" 0 "no item sent twice"
is "$(sed 's/^Add //' "$STACK_T/seen" | sort)" \
    "$(sql "SELECT '$C:' || id FROM eas.items WHERE folder_id = $C AND NOT deleted" | sort)" \
    "exactly the live items, none lost"
is "$(sql "SELECT count(*) FROM eas.sync_items s JOIN eas.devices d ON d.id = s.device_id WHERE d.device_id = 'devD' AND s.folder_id = $C")" \
    "$(items "$C")" "the device view holds them all"

# ---- GetItemEstimate ------------------------------------------------------
sync1 user1 devA "$C" "$kA" "<Commands><Add><ClientId>e1</ClientId><ApplicationData><contacts:FirstName>E1</contacts:FirstName></ApplicationData></Add><Add><ClientId>e2</ClientId><ApplicationData><contacts:FirstName>E2</contacts:FirstName></ApplicationData></Add><Change><ServerId>$ada</ServerId><ApplicationData><contacts:FirstName>Ada</contacts:FirstName></ApplicationData></Change></Commands>"
kA=$(newkey "$kA")
gie() { eas GetItemEstimate user1 "$1" <<<"<GetItemEstimate xmlns=\"GetItemEstimate:\" xmlns:as=\"AirSync:\"><Collections><Collection><as:SyncKey>$2</as:SyncKey><CollectionId>$3</CollectionId></Collection></Collections></GetItemEstimate>"; }
gie devD "$kD" "$C"
is "$(xget Status)/$(xget Estimate)" 1/3 "GetItemEstimate counts two adds and a change"
gie devD 0 "$C"
is "$(xget Status)" 3 "with SyncKey 0: Status 3 (not primed)"
gie devD "{00000000}1" "$C"
is "$(xget Status)" 4 "with a wrong key: Status 4"
gie devD "$kD" 999999
is "$(xget Status)" 2 "an unknown collection: Status 2"
: >"$STACK_T/seen"
kD=$(sync_drain user1 devD "$C" "$kD")
is "$(wc -l <"$STACK_T/seen")" 3 "the next Sync sends as many as estimated"

# ---- MoveItems ------------------------------------------------------------
foldersync user1 devA 0 >/dev/null
eas FolderCreate user1 devA <<<"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$(xget SyncKey)</SyncKey><ParentId>0</ParentId><DisplayName>Family</DisplayName><Type>14</Type></FolderCreate>"
F=$(xget ServerId)
like "$F" '^[0-9]+$' "a second contacts folder"
kAF=$(sync_start user1 devA "$F")
kBF=$(sync_start user1 devB "$F")
moveitem() { eas MoveItems user1 devA <<<"<MoveItems xmlns=\"Move:\"><Move><SrcMsgId>$1</SrcMsgId><SrcFldId>$2</SrcFldId><DstFldId>$3</DstFldId></Move></MoveItems>"; }
moveitem "$ada" "$C" "$F"
is "$(xget Status)" 3 "MoveItems: Status 3"
moved=$(xget DstMsgId)
like "$moved" "^$F:[0-9]+\$" "the new ServerId is in the destination"
sync1 user1 devA "$C" "$kA"
empty_answer; ok $? "the moving device gets no Delete in the source"
sync1 user1 devA "$F" "$kAF"
empty_answer; ok $? "and no Add in the destination (no duplicate)"
sync1 user1 devB "$C" "$kB"
kB=$(newkey "$kB")
is "$(server_ids Delete)" "$ada" "another device sees it leave the source"
sync1 user1 devB "$F" "$kBF"
is "$(server_ids Add)" "$moved" "and arrive in the destination"
moveitem "$ada" "$C" "$F"
is "$(xget Status)" 1 "moving it again from the source: Status 1"
three=$(sql "SELECT '$C:' || id FROM eas.items WHERE folder_id = $C AND subject = 'Three'")
sync1 user1 devB "$C" "$kB" "<Commands><Change><ServerId>$three</ServerId><ApplicationData><contacts:FirstName>Three</contacts:FirstName><contacts:LastName>Changed by B</contacts:LastName></ApplicationData></Change></Commands>"
kB=$(newkey "$kB")
moveitem "$three" "$C" "$F"
moved3=$(xget DstMsgId)
sync1 user1 devA "$F" "$kAF"
kAF=$(newkey "$kAF")
is "$(server_ids Change)" "$moved3" "a device that moved an item it held at an older version gets the newer one as a Change"
like "$(appdata "$moved3" Change)" 'Changed by B' "with the other device's change"
sync1 user1 devA "$C" "$kA" "<Commands><Fetch><ServerId>$one</ServerId></Fetch><Fetch><ServerId>$C:$(sql "SELECT min(id) FROM eas.items WHERE folder_id = $C AND NOT deleted")</ServerId></Fetch></Commands>"
kA=$(newkey "$kA")
is "$(response_status Fetch 1)/$(response_status Fetch 2)" 8/1 "Fetch: a deleted item is Status 8, a live one Status 1"
is "$(xmllint --xpath "count(//*[local-name()='Responses']/*[local-name()='Fetch'][2]/*[local-name()='ApplicationData'])" "$STACK_T/last.xml")" 1 \
    "with its ApplicationData"
moveitem "$moved" "$F" "$F"
is "$(xget Status)" 4 "same source and destination: Status 4"
moveitem "$moved" "$F" 999999
is "$(xget Status)" 2 "unknown destination: Status 2"

# ---- Status 12 --------------------------------------------------------------
sync1 user1 devA 999999 0
is "$(xget Status)" 12 "a collection that is no folder of the user: Status 12"
foldersync user1 devA 0 >/dev/null
eas FolderDelete user1 devA <<<"<FolderDelete xmlns=\"FolderHierarchy:\"><SyncKey>$(xget SyncKey)</SyncKey><ServerId>$F</ServerId></FolderDelete>"
sync1 user1 devA "$F" "$kAF"
is "$(xget Status)" 12 "a deleted folder: Status 12"

# ---- a 2.5 client ---------------------------------------------------------
export EAS_PROTOCOL_VERSION=2.5
eas Sync user1 dev25 <<<"<Sync $NS><Collections><Collection><Class>Contacts</Class><SyncKey>0</SyncKey><CollectionId>$C</CollectionId></Collection></Collections></Sync>"
k25=$(xget SyncKey)
is "$(xget Class)" Contacts "2.5: Class is echoed"
eas Sync user1 dev25 <<<"<Sync $NS><Collections><Collection><Class>Contacts</Class><SyncKey>$k25</SyncKey><CollectionId>$C</CollectionId><Options><Truncation>1</Truncation></Options></Collection></Collections></Sync>"
is "$(xcount Add)" "$(items "$C")" "2.5: every contact"
is "$(grep -c 'airsyncbase:' "$STACK_T/last.xml")" 0 "2.5: nothing of AirSyncBase"
is "$(xmllint --xpath "string(//*[local-name()='Add'][*[local-name()='ServerId']='$bigid']/*/*[local-name()='Body'])" "$STACK_T/last.xml" | tr -d '\n' | wc -c)/$(xmllint --xpath "string(//*[local-name()='Add'][*[local-name()='ServerId']='$bigid']/*/*[local-name()='BodyTruncated'])" "$STACK_T/last.xml")" \
    512/1 "2.5 Truncation 1: a Contacts:Body of 512 characters and BodyTruncated"
eas Sync user1 dev25 <<<"<Sync $NS><Collections><Collection><Class>Contacts</Class><SyncKey>$(xget SyncKey)</SyncKey><CollectionId>$C</CollectionId><Commands><Add><ClientId>x1</ClientId><ApplicationData><contacts:FirstName>Old</contacts:FirstName><contacts:Body>Plain 2.5 notes</contacts:Body></ApplicationData></Add></Commands></Collection></Collections></Sync>"
old=$(response_sid x1)
like "$old" "^$C:" "2.5: a contact with a Contacts:Body is added"
unset EAS_PROTOCOL_VERSION
sync1 user1 devB "$C" "$kB" "<Options><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type></airsyncbase:BodyPreference></Options>"
kB=$(newkey "$kB")
like "$(appdata "$old")" '<airsyncbase:Type>2</airsyncbase:Type>.*&lt;br&gt;|<airsyncbase:Type>2</airsyncbase:Type>.*Plain 2.5 notes' \
    "a 14.1 device asking for HTML gets the 2.5 body as HTML"

# ---- administration ---------------------------------------------------------
is "$(sql "SELECT items_held FROM eas.collections_overview WHERE login = 'user1' AND device_id = 'devD' AND folder_id = $C")" \
    "$(sql "SELECT count(*) FROM eas.sync_items s JOIN eas.devices d ON d.id = s.device_id WHERE d.device_id = 'devD' AND s.folder_id = $C")" \
    "eas.collections_overview shows what a device holds"
like "$(sql "SELECT eas.purge_sync_state()")" '^[0-9]+$' "eas.purge_sync_state() runs"
is "$(sql "SELECT count(*) FROM eas.items i WHERE deleted AND seq <= (SELECT min(cursor) FROM eas.collections c WHERE c.folder_id = i.folder_id)")" 0 \
    "no tombstone is left that no device needs"
is "$(sql "SELECT count(*) FROM eas.collections WHERE folder_id = $F")" 0 "the state of the deleted folder is gone"
sql "SELECT eas.force_resync('user1', 'devB')" >/dev/null
sync1 user1 devB "$C" "$kB"
is "$(xget Status)" 3 "after eas.force_resync the device's Sync key is refused (Status 3)"

done_testing
