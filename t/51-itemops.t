#!/bin/bash
# ItemOperations (MS-ASCMD 2.2.1.10) and GetAttachment (2.2.1.7): items by
# ServerId and LongId, a 25 MB attachment intact inline, multipart and raw,
# Range, MIME, EmptyFolderContents, conversation Move, and other users'
# identifiers refused.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/mail.sh"
stack_start
T=$STACK_T

foldersync user1 dev1 0 >/dev/null
foldersync user2 dev2 0 >/dev/null
inbox=$(folder_of user1 2)

# A message with a 25 MB attachment and a small one.
head -c $((25 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
big_md5=$(md5sum <"$T/big.bin" | cut -d' ' -f1)
{
    printf '%s\r\n' "From: User Two <user2@example.test>" "To: user1@example.test" \
        "Subject: quarterly figures" "Message-ID: <figures-1@example.test>" "MIME-Version: 1.0" \
        'Content-Type: multipart/mixed; boundary="b1"' "" "--b1" \
        "Content-Type: text/plain; charset=utf-8" "" "The figures are attached." "--b1" \
        'Content-Type: application/octet-stream; name="big.bin"' \
        'Content-Disposition: attachment; filename="big.bin"' "Content-Transfer-Encoding: base64" ""
    base64 -w 76 "$T/big.bin" | sed 's/$/\r/'
    printf '%s\r\n' "--b1" 'Content-Type: text/plain; name="small.txt"' \
        'Content-Disposition: attachment; filename="small.txt"' "Content-Transfer-Encoding: quoted-printable" \
        "" "caf=C3=A9 =3D ok" "--b1--"
} >"$T/big.eml"
curl -sS -u user1:"$(user_pass user1)" "$IMAP_URL/INBOX" -T "$T/big.eml"
uid=$(uid_of user1 INBOX "quarterly figures")
uv=$(uidvalidity_of user1 INBOX)
[ -n "$uid" ] && [ -n "$uv" ]; ok $? "the test message is in user1's Inbox (UID $uid)"

fetch_item() { # fetch_item ID-ELEMENTS [OPTIONS]
    eas ItemOperations user1 dev1 <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\" xmlns:search=\"Search:\"><Fetch><Store>Mailbox</Store>$1<Options>${2:-}</Options></Fetch></ItemOperations>"
}

# ---- an item by ServerId
fetch_item "<airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:$uid</airsync:ServerId>" \
    '<airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:TruncationSize>10</airsyncbase:TruncationSize></airsyncbase:BodyPreference>'
is "$(xget Status 1):$(xget Status 2)" "1:1" "Fetch by ServerId: Status 1"
is "$(xget Subject)" "quarterly figures" "with the message's properties"
is "$(xget Truncated)" 1 "the body truncated as asked"
is "$(xcount Attachment)" 2 "both attachments listed"
ref=$(xget FileReference 1)
is "$ref" "$inbox:$uv:$uid:2" "FileReference is folder:uidvalidity:uid:part"
is "$(xget EstimatedDataSize 1)" $((25 * 1024 * 1024)) "with the decoded size"
small=$(xget FileReference 2)

# ---- MIME (BodyPreference 4)
fetch_item "<airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:$uid</airsync:ServerId>" \
    '<airsyncbase:BodyPreference><airsyncbase:Type>4</airsyncbase:Type><airsyncbase:TruncationSize>300</airsyncbase:TruncationSize></airsyncbase:BodyPreference>'
is "$(xget Type)" 4 "MIME asked: Type 4"
like "$(xget Data)" 'Message-ID: <figures-1@example.test>' "the body is the message source"

# ---- the 25 MB attachment, inline (base64 in one Data element)
fetch_item "<airsyncbase:FileReference>$ref</airsyncbase:FileReference>"
hget() { xmllint --huge --xpath "string((//*[local-name()='$1'])[${2:-1}])" "$T/last.xml"; }
is "$(hget Status 2)" 1 "attachment fetch inline: Status 1"
is "$(hget ContentType)" application/octet-stream "with its content type"
got=$(xmllint --huge --xpath "string(//*[local-name()='Data'])" "$T/last.xml" | base64 -d | md5sum | cut -d' ' -f1)
is "$got" "$big_md5" "25 MB inline: intact (MD5)"

# ---- multipart (MS-ASAcceptMultiPart: T)
"$EAS_WBXML" encode >"$T/mp.wbxml" <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsyncbase=\"AirSyncBase:\" xmlns:airsync=\"AirSync:\"><Fetch><Store>Mailbox</Store><airsyncbase:FileReference>$ref</airsyncbase:FileReference></Fetch><Fetch><Store>Mailbox</Store><airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:$uid</airsync:ServerId><Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference></Options></Fetch></ItemOperations>"
code=$(eas_raw ItemOperations user1 dev1 14.1 "$T/mp.wbxml" -H 'MS-ASAcceptMultiPart: T' \
    -H 'Content-Type: application/vnd.ms-sync.wbxml')
is "$code" 200 "multipart fetch: 200"
like "$(sed -n 's/^Content-Type: *//Ip' "$T/raw.headers" | tr -d '\r')" 'application/vnd.ms-sync.multipart' \
    "Content-Type application/vnd.ms-sync.multipart"
mkdir -p "$T/mp"
is "$(multipart_split "$T/raw.body" "$T/mp")" 3 "three parts: the WBXML, the attachment, the body"
"$EAS_WBXML" decode <"$T/mp/part0" >"$T/last.xml"
is "$(xget Part 1):$(xget Part 2)" "1:2" "the WBXML names parts 1 and 2"
is "$(xcount Data)" 0 "and carries no data itself"
is "$(md5sum <"$T/mp/part1" | cut -d' ' -f1)" "$big_md5" "25 MB multipart: intact (MD5)"
like "$(cat "$T/mp/part2")" 'The figures are attached' "part 2 is the message body"

# ---- GetAttachment (12.1): the raw content
code=$(curl -sk -o "$T/ga.bin" -D "$T/ga.h" -w '%{http_code}' -u user1:"$(user_pass user1)" \
    -H 'MS-ASProtocolVersion: 12.1' -X POST \
    "$EAS_URL?Cmd=GetAttachment&User=user1&DeviceId=dev1&DeviceType=TestDevice&AttachmentName=$ref")
is "$code" 200 "GetAttachment: 200"
is "$(md5sum <"$T/ga.bin" | cut -d' ' -f1)" "$big_md5" "25 MB GetAttachment: intact (MD5)"
like "$(tr -d '\r' <"$T/ga.h")" "Content-Length: $((25 * 1024 * 1024))" "with its length"
code=$(curl -sk -o "$T/ga2.bin" -w '%{http_code}' -u user1:"$(user_pass user1)" -H 'MS-ASProtocolVersion: 12.1' \
    -X POST "$EAS_URL?Cmd=GetAttachment&User=user1&DeviceId=dev1&DeviceType=TestDevice&AttachmentName=$small")
is "$code:$(cat "$T/ga2.bin")" "200:café = ok" "a quoted-printable attachment is decoded"
code=$(curl -sk -o /dev/null -w '%{http_code}' -u user1:"$(user_pass user1)" -H 'MS-ASProtocolVersion: 14.1' \
    -X POST "$EAS_URL?Cmd=GetAttachment&User=user1&DeviceId=dev1&DeviceType=TestDevice&AttachmentName=$small")
is "$code" 400 "GetAttachment does not exist in 14.1"

# ---- Range
fetch_item "<airsyncbase:FileReference>$ref</airsyncbase:FileReference>" "<Range>100-199</Range>"
is "$(xget Range):$(xget Total)" "100-199:$((25 * 1024 * 1024))" "Range and Total"
is "$(xget Data | base64 -d | md5sum | cut -d' ' -f1)" "$(tail -c +101 "$T/big.bin" | head -c 100 | md5sum | cut -d' ' -f1)" \
    "exactly those bytes"
fetch_item "<airsyncbase:FileReference>$ref</airsyncbase:FileReference>" "<Range>9-3</Range>"
is "$(xget Status 2)" 8 "a reversed range: Status 8"

# ---- LongId (from Search) and bad identifiers
fetch_item "<search:LongId>$inbox:$uv:$uid</search:LongId>"
is "$(xget Status 2):$(xget Subject)" "1:quarterly figures" "Fetch by LongId"
fetch_item "<search:LongId>$inbox:$((uv + 1)):$uid</search:LongId>"
is "$(xget Status 2)" 6 "a LongId of another UIDVALIDITY: not found"
fetch_item "<airsyncbase:FileReference>$inbox:$uv:$uid:9</airsyncbase:FileReference>"
is "$(xget Status 2)" 15 "no such part: Status 15"
fetch_item "<airsyncbase:FileReference>$inbox:$uv:$uid:1.MIME</airsyncbase:FileReference>"
is "$(xget Status 2)" 15 "a section that is no part number: Status 15"
fetch_item "<airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:999999</airsync:ServerId>"
is "$(xget Status 2)" 6 "a ServerId that names nothing: Status 6"
eas ItemOperations user1 dev1 <<<'<ItemOperations xmlns="ItemOperations:" xmlns:documentlibrary="DocumentLibrary:"><Fetch><Store>DocumentLibrary</Store><documentlibrary:LinkId>\\fs\x</documentlibrary:LinkId></Fetch></ItemOperations>'
is "$(xget Status 2)" 9 "document libraries: Status 9"

# Another user's identifiers reach nothing.
eas ItemOperations user2 dev2 <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsyncbase=\"AirSyncBase:\"><Fetch><Store>Mailbox</Store><airsyncbase:FileReference>$ref</airsyncbase:FileReference></Fetch></ItemOperations>"
is "$(xget Status 2)" 15 "user2 cannot fetch user1's attachment"
eas ItemOperations user2 dev2 <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:search=\"Search:\"><Fetch><Store>Mailbox</Store><search:LongId>$inbox:$uv:$uid</search:LongId></Fetch></ItemOperations>"
is "$(xget Status 2)" 6 "nor fetch by user1's LongId"
eas ItemOperations user2 dev2 <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\"><Fetch><Store>Mailbox</Store><airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:$uid</airsync:ServerId></Fetch></ItemOperations>"
is "$(xget Status 2)" 6 "nor by user1's ServerId"
code=$(curl -sk -o /dev/null -w '%{http_code}' -u user2:"$(user_pass user2)" -H 'MS-ASProtocolVersion: 12.1' \
    -X POST "$EAS_URL?Cmd=GetAttachment&User=user2&DeviceId=dev2&DeviceType=TestDevice&AttachmentName=$ref")
is "$code" 500 "nor GetAttachment it"

# ---- conversation Move (MoveAlways), EmptyFolderContents
for i in 1 2; do
    printf '%s\r\n' "From: user2@example.test" "To: user1@example.test" "Subject: Re: thread topic" \
        "Message-ID: <reply-$i@example.test>" "In-Reply-To: <root-1@example.test>" \
        "References: <root-1@example.test>" "" "reply $i" >"$T/r$i.eml"
    curl -sS -u user1:"$(user_pass user1)" "$IMAP_URL/INBOX" -T "$T/r$i.eml"
done
conv=$(printf 'root-1@example.test' | md5sum | cut -d' ' -f1 | unhex | base64)
imap user1 "" -X 'CREATE "Archive"' >/dev/null
foldersync user1 dev1 0 >/dev/null
archive=$(sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id WHERE u.login = 'user1' AND f.imap_name = 'Archive' AND NOT f.deleted")
eas ItemOperations user1 dev1 <<<"<ItemOperations xmlns=\"ItemOperations:\"><Move><ConversationId>$conv</ConversationId><DstFldId>$archive</DstFldId></Move></ItemOperations>"
is "$(xget Status 2)" 155 "Move without MoveAlways: Status 155"
eas ItemOperations user1 dev1 <<<"<ItemOperations xmlns=\"ItemOperations:\"><Move><ConversationId>$conv</ConversationId><DstFldId>$archive</DstFldId><Options><MoveAlways/></Options></Move></ItemOperations>"
is "$(xget Status 2):$(xget ConversationId)" "1:$conv" "Move of a conversation: Status 1"
is "$(imap_count user1 Archive)" 2 "its two messages are in the destination"
is "$(uid_of user1 INBOX "thread topic")" "" "and gone from the Inbox"
is "$(uid_of user1 INBOX "quarterly figures")" "$uid" "other messages stay"

imap user1 "" -X 'CREATE "Archive/2025"' >/dev/null
foldersync user1 dev1 0 >/dev/null
eas ItemOperations user1 dev1 <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\"><EmptyFolderContents><airsync:CollectionId>$archive</airsync:CollectionId><Options><DeleteSubFolders/></Options></EmptyFolderContents></ItemOperations>"
is "$(xget Status 2):$(xget CollectionId)" "1:$archive" "EmptyFolderContents: Status 1"
is "$(imap_count user1 Archive)" 0 "the folder is empty"
imap user1 "" -X 'LIST "" "*"' | grep -q 'Archive/2025'; is $? 1 "its subfolder is gone"
eas ItemOperations user2 dev2 <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\"><EmptyFolderContents><airsync:CollectionId>$inbox</airsync:CollectionId></EmptyFolderContents></ItemOperations>"
is "$(xget Status 2)" 6 "user2 cannot empty user1's Inbox"
is "$(uid_of user1 INBOX "quarterly figures")" "$uid" "which keeps its messages"

# ---- IMAP down: transient
imap_down
fetch_item "<airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:$uid</airsync:ServerId>"
is "$(eas_code)" 503 "IMAP down: HTTP 503"
stack_ctl dovecot start
fetch_item "<airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:$uid</airsync:ServerId>"
is "$(xget Status 2)" 1 "and fine again once it is back"
done_testing
