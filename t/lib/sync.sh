# Sourced after t/lib/eas.sh: helpers for the Sync tests (t/3x-*.t).
# Requests are written with the prefixes eas-wbxml prints, so that what a
# device sent and what another one received compare as text.
NS='xmlns="AirSync:" xmlns:contacts="Contacts:" xmlns:contacts2="Contacts2:" xmlns:calendar="Calendar:" xmlns:tasks="Tasks:" xmlns:notes="Notes:" xmlns:airsyncbase="AirSyncBase:" xmlns:gie="GetItemEstimate:" xmlns:move="Move:"'

# sync1 USER DEVICE COLLECTION KEY [XML]: a Sync of one collection; XML goes
# inside <Collection> after the CollectionId (Options, Commands, ...).
sync1() {
    eas Sync "$1" "$2" <<<"<Sync $NS><Collections><Collection><SyncKey>$4</SyncKey><CollectionId>$3</CollectionId>${5:-}</Collection></Collections></Sync>"
}

# flat: XML on stdin as one line without the whitespace between elements.
flat() { tr -d '\n' | sed -e 's/>[[:space:]]*</></g' -e 's/^[[:space:]]*//'; }

# appdata SERVERID [OP]: the ApplicationData of that item in the last
# answer (under Add, Change or Fetch), flattened.
appdata() {
    xmllint --xpath "(//*[local-name()='${2:-Add}'][*[local-name()='ServerId']='$1']/*[local-name()='ApplicationData'])[1]" \
        "$STACK_T/last.xml" 2>/dev/null | flat
}

# server_ids OP: ServerIds of the OP (Add, Change, Delete, SoftDelete)
# elements under Commands in the last answer, one per line.
server_ids() {
    xmllint --xpath "//*[local-name()='Commands']/*[local-name()='$1']/*[local-name()='ServerId']/text()" \
        "$STACK_T/last.xml" 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}
# response_status OP N: Status of the Nth OP element under Responses.
response_status() {
    xmllint --xpath "string((//*[local-name()='Responses']/*[local-name()='$1'])[${2:-1}]/*[local-name()='Status'])" \
        "$STACK_T/last.xml" 2>/dev/null
}
# response_sid CLIENTID: ServerId given to a client Add.
response_sid() {
    xmllint --xpath "string(//*[local-name()='Responses']/*[local-name()='Add'][*[local-name()='ClientId']='$1']/*[local-name()='ServerId'])" \
        "$STACK_T/last.xml" 2>/dev/null
}
more_available() { [ "$(xcount MoreAvailable)" = 1 ]; }
# empty_answer: the last answer was HTTP 200 without a body (MS-ASCMD 2.2.1.21.2).
empty_answer() { [ "$(eas_code)" = 200 ] && [ ! -s "$STACK_T/eas.resp" ]; }
# newkey OLDKEY: the key of the last answer; an empty answer keeps OLDKEY.
newkey() { if [ -s "$STACK_T/eas.resp" ]; then xget SyncKey; else echo "$1"; fi; }

# sync_start USER DEVICE COLLECTION [XML]: SyncKey 0; prints the first key.
sync_start() {
    sync1 "$1" "$2" "$3" 0 "${4:-}" >/dev/null && xget SyncKey
}

# sync_drain USER DEVICE COLLECTION KEY [XML]: Syncs until nothing more is
# available.  Appends "OP SERVERID" lines to $STACK_T/seen, counts requests
# in $STACK_T/requests, prints the last key.
sync_drain() {
    local key=$4 n=0
    : >"$STACK_T/requests"
    while :; do
        sync1 "$1" "$2" "$3" "$key" "${5:-}" || return 1
        n=$((n + 1))
        echo "$n" >"$STACK_T/requests"
        local op
        for op in Add Change Delete SoftDelete; do
            server_ids "$op" | sed "s/^/$op /" >>"$STACK_T/seen"
        done
        [ "$(eas_code)" = 200 ] || return 1
        key=$(newkey "$key")
        more_available || break
        [ "$n" -lt 1000 ] || return 1
    done
    echo "$key"
}

# eas_empty USER DEVICE: a Sync without a body (MS-ASCMD 2.2.1.21.1), kept
# like an answer of eas for xget.
eas_empty() {
    local code
    code=$(curl -sk --max-time 120 -o "$STACK_T/eas.resp" -D "$STACK_T/eas.headers" -w '%{http_code}' \
        -u "$1:$(user_pass "$1")" -X POST -H "MS-ASProtocolVersion: ${EAS_PROTOCOL_VERSION:-14.1}" \
        -H 'Content-Length: 0' "$EAS_URL?Cmd=Sync&User=$1&DeviceId=$2&DeviceType=${EAS_DEVICE_TYPE:-TestDevice}")
    echo "$code" >"$STACK_T/eas.code"
    : >"$STACK_T/last.xml"
    [ ! -s "$STACK_T/eas.resp" ] || "$EAS_WBXML" decode <"$STACK_T/eas.resp" >"$STACK_T/last.xml"
    [ "$code" = 200 ]
}
