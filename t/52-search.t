#!/bin/bash
# Search of the Mailbox store (MS-ASCMD 2.2.1.16) and Find (2.2.1.2, 16.1):
# free text in subject and body, folders and DeepTraversal, dates, Range
# paging, LongIds fetched and replied to later, and users kept apart.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/mail.sh"
stack_start
T=$STACK_T

foldersync user1 dev1 0 >/dev/null
foldersync user2 dev2 0 >/dev/null
inbox=$(folder_of user1 2)

put() { # put USER MAILBOX SUBJECT BODY [EXTRA HEADER]
    printf '%s\r\n' "From: Dana <dana@example.test>" "To: $1@example.test" ${5:+"$5"} "Subject: $3" \
        "MIME-Version: 1.0" "Content-Type: text/plain; charset=utf-8" "" "$4" >"$T/put.eml"
    curl -sS -u "$1:$(user_pass "$1")" "$IMAP_URL/$2" -T "$T/put.eml"
}
for i in 1 2 3 4 5; do put user1 INBOX "alpha report $i" "numbers for week $i"; sleep 1; done
put user1 INBOX "unrelated" "the word zebrafish is only in this body"
imap user1 "" -X 'CREATE "Projects"' >/dev/null
imap user1 "" -X 'CREATE "Projects/Old"' >/dev/null
put user1 Projects/Old "alpha archive" "old numbers"
put user2 INBOX "alpha for two" "user2's own"
foldersync user1 dev1 0 >/dev/null
projects=$(sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id WHERE u.login = 'user1' AND f.imap_name = 'Projects' AND NOT f.deleted")

search() { # search USER QUERY-ELEMENTS [OPTIONS]
    eas Search "$1" dev1 <<<"<Search xmlns=\"Search:\" xmlns:airsync=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\" xmlns:email=\"Email:\"><Store><Name>Mailbox</Name><Query><And><airsync:Class>Email</airsync:Class>$2</And></Query><Options>${3:-}</Options></Store></Search>"
}
subjects() { xmllint --xpath "//*[local-name()='Subject']/text()" "$T/last.xml" 2>/dev/null | tr '\n' '|'; }

search user1 "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>alpha</FreeText>" "<Range>0-1</Range>"
is "$(xget Status 1):$(xget Status 2)" "1:1" "Search: Status 1"
is "$(xget Total)" 5 "five Inbox messages match 'alpha'"
is "$(xget Range)" 0-1 "Range 0-1 answered"
is "$(xcount Result)" 2 "with two results"
is "$(subjects)" "alpha report 5|alpha report 4|" "newest first"
like "$(xget LongId)" "^$inbox:[0-9]+:[0-9]+\$" "LongIds are folder:uidvalidity:uid"
is "$(xget CollectionId)" "$inbox" "each result names its folder"
first_longid=$(xget LongId)
search user1 "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>alpha</FreeText>" "<Range>2-9</Range>"
is "$(xget Range):$(xcount Result)" "2-4:3" "the next page has the other three"
is "$(subjects)" "alpha report 3|alpha report 2|alpha report 1|" "in order"
search user1 "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>alpha</FreeText>" "<Range>10-19</Range>"
is "$(xget Total):$(xcount Result):$(xcount LongId)" "5:1:0" "past the end: Total, one empty Result"

search user1 "<FreeText>zebrafish</FreeText>"
is "$(xget Total):$(xget Subject)" "1:unrelated" "a word only in a body is found"
search user1 "<FreeText>alpha zebrafish</FreeText>"
is "$(xget Total)" 0 "every word must match"
search user1 "<FreeText>alpha numbers</FreeText>" "<Range>0-9</Range>"
is "$(xget Total)" 6 "without CollectionId every mail folder is searched"
search user1 "<airsync:CollectionId>$projects</airsync:CollectionId><FreeText>alpha</FreeText>"
is "$(xget Total)" 0 "a folder without matches"
search user1 "<airsync:CollectionId>$projects</airsync:CollectionId><FreeText>alpha</FreeText>" "<DeepTraversal/>"
is "$(xget Total):$(xget Subject)" "1:alpha archive" "DeepTraversal reaches the subfolder"

now=$(date -u +%s)
ts() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
search user1 "<FreeText>alpha</FreeText><GreaterThan><email:DateReceived/><Value>$(ts $((now - 3600)))</Value></GreaterThan>" "<Range>0-9</Range>"
is "$(xget Total)" 6 "received in the last hour: all"
search user1 "<FreeText>alpha</FreeText><LessThan><email:DateReceived/><Value>$(ts $((now - 3600)))</Value></LessThan>"
is "$(xget Total)" 0 "received before an hour ago: none"
search user1 "<FreeText>alpha</FreeText><GreaterThan><email:DateReceived/><Value>$(ts $((now + 3600)))</Value></GreaterThan>"
is "$(xget Total)" 0 "received in the future: none"

search user1 "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>alpha</FreeText>" "<Range>0-0</Range><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:TruncationSize>7</airsyncbase:TruncationSize></airsyncbase:BodyPreference>"
is "$(xget Data):$(xget Truncated)" "numbers:1" "results carry the body as the options ask"
search user1 "<EqualTo><airsync:CollectionId/><Value>$inbox</Value></EqualTo><FreeText>alpha</FreeText>"
is "$(xget Total)" 5 "EqualTo CollectionId restricts the folder"
search user1 "<EqualTo><email:Subject/><Value>unrelated</Value></EqualTo>"
is "$(xget Total):$(xget Subject)" "1:unrelated" "EqualTo Subject"
search user1 "<Or><FreeText>a</FreeText><FreeText>b</FreeText></Or>"
is "$(xget Status 2)" 8 "Or is not offered: Status 8 (too complex)"
search user1 "<airsync:CollectionId>$inbox</airsync:CollectionId>"
is "$(xget Status 2)" 2 "no FreeText: Status 2"

# The LongId lives on: ItemOperations fetches it, SmartReply answers it.
eas ItemOperations user1 dev1 <<<"<ItemOperations xmlns=\"ItemOperations:\" xmlns:search=\"Search:\"><Fetch><Store>Mailbox</Store><search:LongId>$first_longid</search:LongId></Fetch></ItemOperations>"
is "$(xget Status 2):$(xget Subject)" "1:alpha report 5" "ItemOperations fetches a Search LongId"
if [ -n "$SMTP_URL" ]; then
    m=$(mime "From: user1@example.test" "To: user2@example.test" "Subject: Re: alpha report 5" "" "Thanks")
    eas SmartReply user1 dev1 <<<"<SmartReply xmlns=\"ComposeMail:\"><ClientId>lr-1</ClientId><Source><LongId>$first_longid</LongId></Source><Mime>$m</Mime></SmartReply>"
    is "$(eas_code):$(stat -c %s "$T/last.xml")" "200:0" "SmartReply to a LongId"
    like "$(flags user1 INBOX "$(uid_of user1 INBOX "alpha report 5")")" Answered "marks that message answered"
else
    skip "this stack has no MTA" 2
fi

# Users are kept apart.
search user2 "<FreeText>zebrafish</FreeText>"
is "$(xget Total)" 0 "user2 does not find user1's messages"
search user2 "<FreeText>two</FreeText>"
is "$(xget Total):$(xget Subject)" "1:alpha for two" "but its own"
search user2 "<airsync:CollectionId>$inbox</airsync:CollectionId><FreeText>alpha</FreeText>"
is "$(xget Status 2)" 2 "user1's folder is no CollectionId for user2"

# ---- Find (16.1)
find() { # find USER FREETEXT [COLLECTION] [RANGE]
    EAS_PROTOCOL_VERSION=16.1 eas Find "$1" dev1 <<<"<Find xmlns=\"Find:\" xmlns:airsync=\"AirSync:\"><SearchId>s-1</SearchId><ExecuteSearch><MailBoxSearchCriterion><Query><airsync:Class>Email</airsync:Class>${3:+<airsync:CollectionId>$3</airsync:CollectionId>}<FreeText>$2</FreeText></Query><Options><Range>${4:-0-9}</Range></Options></MailBoxSearchCriterion></ExecuteSearch></Find>"
}
find user1 "alpha" "$inbox" 0-2
is "$(xget Status 1):$(xget Store)" "1:Mailbox" "Find: Status 1, Store Mailbox"
is "$(xget Total):$(xcount Result)" "5:3" "Find pages like Search"
like "$(xget ServerId)" "^$inbox:[0-9]+\$" "Find results carry ServerIds"
is "$(xget Preview)" "numbers for week 5" "and a Preview"
is "$(xget HasAttachments):$(xget Read)" "0:1" "HasAttachments and Read"
find user1 "subject:zebrafish"
is "$(xget Total)" 0 "subject: looks at the subject only"
find user1 "body:zebrafish"
is "$(xget Total):$(xget Subject)" "1:unrelated" "body: at the body"
EAS_PROTOCOL_VERSION=14.1 eas Find user1 dev1 <<<'<Find xmlns="Find:"><SearchId>x</SearchId></Find>'
is "$(eas_code)" 400 "Find does not exist before 16.1"

# IMAP down: transient, not an empty result.
imap_down
search user1 "<FreeText>alpha</FreeText>"
is "$(eas_code)" 503 "IMAP down: HTTP 503"
stack_ctl dovecot start
done_testing
