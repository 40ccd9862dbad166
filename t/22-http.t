#!/bin/bash
# The HTTP layer (MS-ASHTTP): plain and base64 queries, versions and caps,
# X-MS-RP, the user check, methods, body limits, malformed input, budgets,
# and a PostgreSQL restart between two requests.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
stack_start
u1="user1:$(user_pass user1)"
FS0='<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'
printf '%s' "$FS0" | "$EAS_WBXML" encode >"$STACK_T/fs0.wbxml"
wbxml=(-H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @"$STACK_T/fs0.wbxml")

# Base64 query (12.1+ clients): version 14.1, FolderSync (9), en-US, no key.
q=$(printf '\x8d\x09\x09\x04\x06devB64\x00\x06iPhone\x08\x05user1' | base64 -w0)
is "$(raw_post "$q" "${wbxml[@]}")" 200 "a base64-encoded query is understood"
"$EAS_WBXML" decode <"$STACK_T/raw.resp" >"$STACK_T/last.xml"
is "$(xget Status)" 1 "and FolderSync answers Status 1"
is "$(sql "SELECT device_type || '|' || protocol_version FROM eas.devices WHERE device_id = 'devB64'")" \
    "iPhone|14.1" "the device and version from the base64 query are recorded"
bad=$(printf '\x8d\x09\x09\x04\x20dev' | base64 -w0)
is "$(raw_post "$bad" "${wbxml[@]}")" 400 "a truncated base64 query: 400"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' "${wbxml[@]}")" \
    400 "no DeviceId: 400"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=a%2Fb&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' "${wbxml[@]}")" \
    400 "a DeviceId with a slash: 400"
is "$(raw_post 'Cmd=FolderSync&User=user2&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' "${wbxml[@]}")" \
    403 "User in the query differs from the authenticated user: 403"
is "$(raw_post 'Cmd=FolderSync&User=USER1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' "${wbxml[@]}")" \
    200 "the same user in other case is the same user"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 13.0' "${wbxml[@]}")" \
    400 "an unknown protocol version: 400"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x' "${wbxml[@]}")" \
    400 "no protocol version at all: 400"
is "$(raw_post 'Cmd=Frobnicate&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' "${wbxml[@]}")" \
    400 "an unknown command: 400"
is "$(raw_post 'Cmd=Find&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' "${wbxml[@]}")" \
    400 "a command the version does not have: 400"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' -X POST)" \
    400 "FolderSync without a body: 400"
printf '\x03\x01\x6a\x00\x45\x5c\x4f' >"$STACK_T/trunc.wbxml"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' \
    -H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @"$STACK_T/trunc.wbxml")" \
    400 "truncated WBXML: 400"
grep -q 'EAS00031: malformed WBXML in FolderSync' "$STACK_DIR/log/httpd-error.log"; ok $? "and a log line says why"
printf '<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval></Ping>' | "$EAS_WBXML" encode >"$STACK_T/ping.wbxml"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' \
    -H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @"$STACK_T/ping.wbxml")" \
    400 "a Ping document sent as FolderSync: 400"
is "$(curl -sk -o /dev/null -w '%{http_code}' -u "$u1" "$EAS_URL?Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x")" \
    405 "GET: 405"
is "$(curl -sk -o /dev/null -w '%{http_code}' -u user1:wrong -X OPTIONS "$EAS_URL")" 401 "a wrong password: 401"
grep -q "EAS00081: IMAP refused the password of user1" "$STACK_DIR/log/httpd-error.log"; ok $? "the failed login is logged"

# Caps by User-Agent / DeviceType, the user's own ceiling, X-MS-RP.
stack_config 'EASVersionCap "Android*" 14.0' 'EASMaxBodySize 4096'
is "$(curl -sk -o /dev/null -D - -u "$u1" -A 'Android-Mail/2024' -X OPTIONS "$EAS_URL" |
    sed -n 's/^MS-ASProtocolVersions: *//Ip' | tr -d '\r')" "2.5,12.0,12.1,14.0" "EASVersionCap caps OPTIONS by User-Agent"
EAS_DEVICE_TYPE=Android EAS_PROTOCOL_VERSION=16.1 foldersync user1 dAndroid 0
is "$(eas_code)" 400 "a capped device asking for 16.1: 400"
is "$(header MS-ASProtocolVersions)" "2.5,12.0,12.1,14.0" "with the versions it may use"
EAS_DEVICE_TYPE=Android EAS_PROTOCOL_VERSION=14.0 foldersync user1 dAndroid 0
is "$(xget Status)" 1 "14.0 works for it"
sql "UPDATE eas.users SET max_version = '12.1' WHERE login = 'user1'" >/dev/null
EAS_PROTOCOL_VERSION=14.1 foldersync user1 dCeil 0
is "$(eas_code)" 400 "above the user's own ceiling: 400"
EAS_PROTOCOL_VERSION=12.1 foldersync user1 dCeil 0
is "$(eas_code)" 200 "at the ceiling: 200"
sql "UPDATE eas.users SET max_version = NULL WHERE login = 'user1'" >/dev/null
EAS_PROTOCOL_VERSION=12.1 foldersync user1 dCeil 0
is "$(header X-MS-RP)" "2.5,12.0,12.1,14.0,14.1,16.0,16.1" "the grown version list is announced with X-MS-RP"
EAS_PROTOCOL_VERSION=12.1 foldersync user1 dCeil 0
is "$(header X-MS-RP)" "" "once"

# Body limit.
head -c 5000 /dev/zero >"$STACK_T/big"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' \
    -H 'Content-Type: application/vnd.ms-sync.wbxml' --data-binary @"$STACK_T/big")" 413 "a body over EASMaxBodySize: 413"
is "$(raw_post 'Cmd=FolderSync&User=user1&DeviceId=d1&DeviceType=x' -H 'MS-ASProtocolVersion: 14.1' \
    -H 'Content-Type: application/vnd.ms-sync.wbxml' -H 'Transfer-Encoding: chunked' --data-binary @"$STACK_T/big")" \
    413 "a chunked body over EASMaxBodySize: 413"

# Request budget.
stack_config 'EASRequestBudget 5 60 120'
for i in 1 2 3 4 5; do foldersync user1 dBudget 0 >/dev/null; done
is "$(eas_code)" 200 "five requests within the budget"
foldersync user1 dBudget 0
is "$(eas_code)" 503 "the sixth: 503"
is "$(header Retry-After)" 120 "with Retry-After"
is "$(header X-MS-ASThrottle)" CommandFrequency "and X-MS-ASThrottle"
is "$(sql "SELECT throttle_count > 0 AND throttled_until > now() FROM eas.devices_overview WHERE device_id = 'dBudget'")" t \
    "the admin view shows the throttling"
foldersync user1 dOther 0
is "$(eas_code)" 200 "another device of the user is not affected"
stack_config ''

# A PostgreSQL restart between two requests: the pooled connection heals.
foldersync user1 dPg 0
is "$(xget Status)" 1 "before the restart"
stack_ctl postgres restart
foldersync user1 dPg 0
is "$(xget Status)" 1 "right after a PostgreSQL restart the request succeeds"
grep -q 'EAS00002: database connection lost' "$STACK_DIR/log/httpd-error.log"; ok $? "the reconnect is logged"
stack_ctl postgres stop
foldersync user1 dPg 0
is "$(eas_code)" 503 "with PostgreSQL down: 503"
is "$(header Retry-After)" 30 "with Retry-After"
stack_ctl postgres start
foldersync user1 dPg 0
is "$(xget Status)" 1 "and back to normal once it is up"
done_testing
