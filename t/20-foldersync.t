#!/bin/bash
# FolderSync, FolderCreate, FolderUpdate, FolderDelete (MS-ASCMD 2.2.1.3-6)
# against the stack's Dovecot: folder types, incremental changes, retries
# of the previous key, no echo of a device's own changes, Status codes.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
stack_start

folder_id() { # folder_id NAME: ServerId of the folder DisplayName=NAME in the last answer
    xmllint --xpath "string(//*[local-name()='Add' or local-name()='Update'][*[local-name()='DisplayName']='$1']/*[local-name()='ServerId'])" "$STACK_T/last.xml"
}
folder_type() {
    xmllint --xpath "string(//*[local-name()='Add'][*[local-name()='DisplayName']='$1']/*[local-name()='Type'])" "$STACK_T/last.xml"
}

foldersync user1 devA 0; ok $? "initial FolderSync answers 200"
is "$(xget Status)" 1 "initial FolderSync: Status 1"
k1=$(xget SyncKey)
like "$k1" '^\{[0-9a-f]+\}1$' "first key"
is "$(xget Count)" "$(xcount Add)" "Count equals the number of Adds"
is "$(folder_type Inbox)" 2 "Inbox is type 2"
is "$(folder_type Drafts)" 3 "Drafts (SPECIAL-USE) is type 3"
is "$(folder_type Trash)" 4 "Trash is type 4"
is "$(folder_type Sent)" 5 "Sent is type 5"
is "$(folder_type Junk)" 12 "Junk is a user mail folder"
is "$(folder_type Tasks)" 7 "Tasks is type 7"
is "$(folder_type Calendar)" 8 "Calendar is type 8"
is "$(folder_type Contacts)" 9 "Contacts is type 9"
is "$(folder_type Notes)" 10 "Notes is type 10"
like "$(header MS-ASProtocolVersions)" '14\.1' "SyncKey 0 answer announces the versions"
inbox=$(folder_id Inbox)

foldersync user1 devA "$k1"
is "$(xget Count)" 0 "nothing changed: Count 0"
is "$(xget SyncKey)" "$k1" "nothing changed: same key"

imap user1 "" -X 'CREATE "INBOX/Reports"' >/dev/null
foldersync user1 devA "$k1"
k2=$(xget SyncKey)
is "$(xget Count)" 1 "a mailbox created on the server is one change"
is "$(folder_id Reports)" "$(xget ServerId)" "it comes as an Add"
is "$(xmllint --xpath "string(//*[local-name()='Add']/*[local-name()='ParentId'])" "$STACK_T/last.xml")" "$inbox" "under the Inbox"
like "$k2" '\}2$' "the key advanced"
cp "$STACK_T/last.xml" "$STACK_T/first-answer.xml"

foldersync user1 devA "$k1"
cmp -s "$STACK_T/last.xml" "$STACK_T/first-answer.xml"; ok $? "the previous key is answered again, identically"
foldersync user1 devA "$k2"
is "$(xget Count)" 0 "and the new key is still current afterwards"

foldersync user1 devA "{deadbeef}7"
is "$(xget Status)" 9 "an unknown key gets Status 9"
foldersync user1 devA "$k2"
is "$(xget Status)" 1 "the current key still works after a bad one"
eas FolderSync user1 devA <<<'<FolderSync xmlns="FolderHierarchy:"/>'
is "$(xget Status)" 10 "no SyncKey: Status 10"

# Creating: Status, key, IMAP, no echo to the creator, seen by another device.
eas FolderCreate user1 devA <<<"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$k2</SyncKey><ParentId>$inbox</ParentId><DisplayName>Projects</DisplayName><Type>12</Type></FolderCreate>"
is "$(xget Status)" 1 "FolderCreate: Status 1"
k3=$(xget SyncKey)
projects=$(xget ServerId)
like "$k3" '\}3$' "FolderCreate returns a new key"
like "$(imap user1 "" -X 'LIST "" "*"')" 'INBOX/Projects' "the mailbox exists on IMAP"
foldersync user1 devA "$k3"
is "$(xget Count)" 0 "the creator is not told about its own folder again"
foldersync user1 devB 0
is "$(folder_id Projects)" "$projects" "another device sees it with the same ServerId"

eas FolderCreate user1 devA <<<"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$k3</SyncKey><ParentId>$inbox</ParentId><DisplayName>projects</DisplayName><Type>12</Type></FolderCreate>"
is "$(xget Status)" 2 "a name that exists under that parent: Status 2"
eas FolderCreate user1 devA <<<"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$k1</SyncKey><ParentId>0</ParentId><DisplayName>Old</DisplayName><Type>12</Type></FolderCreate>"
is "$(xget Status)" 9 "FolderCreate with a stale key: Status 9"
eas FolderCreate user1 devA <<<"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$k3</SyncKey><ParentId>99999</ParentId><DisplayName>X</DisplayName><Type>12</Type></FolderCreate>"
is "$(xget Status)" 5 "an unknown parent: Status 5"
eas FolderCreate user1 devA <<<"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$k3</SyncKey><ParentId>0</ParentId><DisplayName>Inbox2</DisplayName><Type>2</Type></FolderCreate>"
is "$(xget Status)" 10 "creating a default folder type: Status 10"
eas FolderCreate user1 devA <<<"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$k3</SyncKey><ParentId>0</ParentId><DisplayName>Family</DisplayName><Type>14</Type></FolderCreate>"
is "$(xget Status)" 1 "a user contacts folder"
k4=$(xget SyncKey)
family=$(xget ServerId)

# Renaming keeps the ServerId; IMAP renames the mailbox.
eas FolderUpdate user1 devA <<<"<FolderUpdate xmlns=\"FolderHierarchy:\"><SyncKey>$k4</SyncKey><ServerId>$projects</ServerId><ParentId>0</ParentId><DisplayName>Archive 2026</DisplayName></FolderUpdate>"
is "$(xget Status)" 1 "FolderUpdate: Status 1"
k5=$(xget SyncKey)
like "$(imap user1 "" -X 'LIST "" "*"')" '"Archive 2026"' "IMAP has the new name at the top level"
foldersync user1 devB "$(sed -n 's/.*<SyncKey>\(.*\)<\/SyncKey>.*/\1/p' "$STACK_T/last.xml" | head -n1)" >/dev/null
foldersync user1 devB 0
is "$(folder_id 'Archive 2026')" "$projects" "the renamed folder keeps its ServerId"
is "$(folder_type Family)" 14 "the contacts folder is type 14"
eas FolderUpdate user1 devA <<<"<FolderUpdate xmlns=\"FolderHierarchy:\"><SyncKey>$k5</SyncKey><ServerId>$inbox</ServerId><ParentId>0</ParentId><DisplayName>Renamed</DisplayName></FolderUpdate>"
is "$(xget Status)" 2 "renaming the Inbox: Status 2"
eas FolderUpdate user1 devA <<<"<FolderUpdate xmlns=\"FolderHierarchy:\"><SyncKey>$k5</SyncKey><ServerId>424242</ServerId><ParentId>0</ParentId><DisplayName>X</DisplayName></FolderUpdate>"
is "$(xget Status)" 4 "renaming an unknown folder: Status 4"

# Deleting.
kb=$(xget SyncKey)
foldersync user1 devB 0
kb=$(xget SyncKey)
eas FolderDelete user1 devA <<<"<FolderDelete xmlns=\"FolderHierarchy:\"><SyncKey>$k5</SyncKey><ServerId>$inbox</ServerId></FolderDelete>"
is "$(xget Status)" 3 "deleting the Inbox: Status 3"
eas FolderDelete user1 devA <<<"<FolderDelete xmlns=\"FolderHierarchy:\"><SyncKey>$k5</SyncKey><ServerId>$projects</ServerId></FolderDelete>"
is "$(xget Status)" 1 "FolderDelete: Status 1"
k6=$(xget SyncKey)
unlike_list=$(imap user1 "" -X 'LIST "" "*"')
echo "$unlike_list" | grep -q 'Archive 2026'; is $? 1 "the mailbox is gone from IMAP"
foldersync user1 devB "$kb"
is "$(xget Count)" 1 "the other device gets one change"
is "$(xmllint --xpath "string(//*[local-name()='Delete']/*[local-name()='ServerId'])" "$STACK_T/last.xml")" "$projects" "a Delete of that ServerId"
foldersync user1 devA "$k6"
is "$(xget Count)" 0 "the deleting device is not told again"

# Another user never sees these folders.
foldersync user2 devA 0
is "$(folder_id Family)" "" "user2's hierarchy has no folder of user1"
eas FolderDelete user2 devA <<<"<FolderDelete xmlns=\"FolderHierarchy:\"><SyncKey>$(xget SyncKey)</SyncKey><ServerId>$family</ServerId></FolderDelete>"
is "$(xget Status)" 4 "user2 cannot delete user1's folder (Status 4)"
done_testing
