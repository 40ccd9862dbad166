#!/bin/bash
# MeetingResponse (MS-ASCMD 2.2.1.11) on meeting requests in the Inbox:
# 14.1 leaves the reply to the client, 16.x sends the iTIP REPLY (or a
# COUNTER with a proposed time) to the organizer and keeps a copy in Sent.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/mail.sh"
stack_start
T=$STACK_T
[ -n "$SMTP_URL" ] || { skip "this stack has no MTA (not run as root)" 1; done_testing; exit; }

foldersync user1 dev1 0 >/dev/null
foldersync user2 dev2 0 >/dev/null
inbox=$(folder_of user1 2)

invite() { # invite SUBJECT UID [RRULE]
    printf '%s\r\n' "From: User Two <user2@example.test>" "To: user1@example.test" "Subject: $1" \
        "MIME-Version: 1.0" 'Content-Type: multipart/alternative; boundary="a"' "" "--a" \
        "Content-Type: text/plain; charset=utf-8" "" "Please come." "--a" \
        "Content-Type: text/calendar; charset=utf-8; method=REQUEST" "" \
        "BEGIN:VCALENDAR" "PRODID:-//test//EN" "VERSION:2.0" "METHOD:REQUEST" "BEGIN:VEVENT" \
        "UID:$2" "DTSTAMP:20260301T090000Z" "DTSTART:20260310T140000Z" "DTEND:20260310T150000Z" \
        ${3:+"$3"} "SUMMARY:$1" "SEQUENCE:3" "ORGANIZER;CN=User Two:mailto:user2@example.test" \
        "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:user1@example.test" "END:VEVENT" \
        "END:VCALENDAR" "--a--" >"$T/invite.eml"
    curl -sS -u user1:"$(user_pass user1)" "$IMAP_URL/INBOX" -T "$T/invite.eml"
    uid_of user1 INBOX "$1"
}
respond() { # respond VERSION USER RESPONSE ID-ELEMENTS [EXTRA]
    EAS_PROTOCOL_VERSION=$1 eas MeetingResponse "$2" dev1 <<<"<MeetingResponse xmlns=\"MeetingResponse:\" xmlns:search=\"Search:\" xmlns:airsyncbase=\"AirSyncBase:\"><Request><UserResponse>$3</UserResponse>$4${5:-}</Request></MeetingResponse>"
}
newest() { message "$1" "$2" "$(imap "$1" "$2" -X 'UID SEARCH ALL' | awk '{print $NF}')"; }

# ---- 14.1: the response is recorded, the client mails the organizer itself
u=$(invite "Planning" "plan-1@example.test")
n2=$(imap_count user2 INBOX)
respond 14.1 user1 1 "<CollectionId>$inbox</CollectionId><RequestId>$inbox:$u</RequestId>"
is "$(xget Status):$(xget RequestId)" "1:$inbox:$u" "14.1 accept: Status 1 for the RequestId"
like "$(flags user1 INBOX "$u")" 'Answered' "the request is marked answered"
sleep 1
is "$(imap_count user2 INBOX)" "$n2" "and no mail goes out (up to 14.1 the client sends it)"

# ---- 16.1 with SendResponse: the iTIP REPLY
sent1=$(imap_count user1 Sent)
respond 16.1 user1 2 "<CollectionId>$inbox</CollectionId><RequestId>$inbox:$u</RequestId>" \
    "<SendResponse><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Maybe later</airsyncbase:Data></airsyncbase:Body></SendResponse>"
is "$(xget Status)" 1 "16.1 tentative with SendResponse: Status 1"
imap_wait_count user2 INBOX $((n2 + 1)); ok $? "the organizer gets the reply"
reply=$(newest user2 INBOX)
like "$reply" 'Subject: Tentative: Planning' "subject says what was answered"
like "$reply" 'text/calendar; .*method=REPLY|method=REPLY' "a text/calendar part, method REPLY"
like "$reply" 'METHOD:REPLY' "an iTIP REPLY"
like "$reply" 'UID:plan-1@example.test' "for the meeting's UID"
like "$reply" 'ATTENDEE;PARTSTAT=TENTATIVE.*mailto:user1@example.test' "with the user's PARTSTAT"
like "$reply" 'SEQUENCE:3' "and the invitation's SEQUENCE"
like "$reply" 'Maybe later' "and the user's note"
is "$(imap_count user1 Sent)" $((sent1 + 1)) "a copy is in Sent"

respond 16.1 user1 3 "<CollectionId>$inbox</CollectionId><RequestId>$inbox:$u</RequestId>"
is "$(xget Status)" 1 "16.1 decline without SendResponse: Status 1"
sleep 1
is "$(imap_count user2 INBOX)" $((n2 + 1)) "and nothing is sent"

# A proposal of a new time (16.1) is an iTIP COUNTER.
respond 16.1 user1 2 "<CollectionId>$inbox</CollectionId><RequestId>$inbox:$u</RequestId>" \
    "<SendResponse><ProposedStartTime>2026-03-11T09:00:00.000Z</ProposedStartTime><ProposedEndTime>2026-03-11T10:00:00.000Z</ProposedEndTime></SendResponse>"
imap_wait_count user2 INBOX $((n2 + 2))
counter=$(newest user2 INBOX)
like "$counter" 'METHOD:COUNTER' "a proposed time: METHOD:COUNTER"
like "$counter" 'DTSTART:20260311T090000Z' "with the proposed start"

# One occurrence of a recurring meeting (InstanceId), found by LongId.
r=$(invite "Weekly" "weekly-1@example.test" "RRULE:FREQ=WEEKLY;COUNT=5")
uv=$(uidvalidity_of user1 INBOX)
respond 16.1 user1 1 "<search:LongId>$inbox:$uv:$r</search:LongId><InstanceId>2026-03-17T14:00:00.000Z</InstanceId>" "<SendResponse/>"
is "$(xget Status):$(xget InstanceId)" "1:2026-03-17T14:00:00.000Z" "an occurrence by LongId: Status 1, InstanceId echoed"
imap_wait_count user2 INBOX $((n2 + 3))
occ=$(newest user2 INBOX)
like "$occ" 'RECURRENCE-ID:20260317T140000Z' "the reply names the occurrence"
like "$occ" 'PARTSTAT=ACCEPTED' "accepted"

# ---- what is not a meeting request
plain=$(uid_of user1 INBOX "Planning")
printf '%s\r\n' "From: user2@example.test" "To: user1@example.test" "Subject: just mail" "" "hi" >"$T/plain.eml"
curl -sS -u user1:"$(user_pass user1)" "$IMAP_URL/INBOX" -T "$T/plain.eml"
p=$(uid_of user1 INBOX "just mail")
respond 16.1 user1 1 "<CollectionId>$inbox</CollectionId><RequestId>$inbox:$p</RequestId>" "<SendResponse/>"
is "$(xget Status)" 2 "a message without an invitation: Status 2"
respond 16.1 user1 4 "<CollectionId>$inbox</CollectionId><RequestId>$inbox:$plain</RequestId>"
is "$(xget Status)" 2 "UserResponse 4: Status 2"
respond 16.1 user2 1 "<CollectionId>$inbox</CollectionId><RequestId>$inbox:$plain</RequestId>" "<SendResponse/>"
is "$(xget Status)" 2 "user2 cannot answer user1's request"
done_testing
