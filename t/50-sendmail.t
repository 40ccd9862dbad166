#!/bin/bash
# SendMail, SmartReply, SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20, 2.2.1.19)
# against the stack's Postfix and Dovecot: delivery, the Sent copy, Bcc,
# resent ClientIds, quoting, forwarded attachments, flags on the original,
# refusals, and backends that are down.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/mail.sh"
stack_start
[ -n "$SMTP_URL" ] || { skip "this stack has no MTA (not run as root)" 1; done_testing; exit; }

foldersync user1 dev1 0 >/dev/null
foldersync user2 dev2 0 >/dev/null
inbox1=$(folder_of user1 2) inbox2=$(folder_of user2 2)
sendmail() { # sendmail USER DEVICE CLIENTID MIME64 [SAVE]
    eas SendMail "$1" "$2" <<<"<SendMail xmlns=\"ComposeMail:\"><ClientId>$3</ClientId>${5:+<SaveInSentItems/>}<Mime>$4</Mime></SendMail>"
}

# ---- SendMail 14.1
m=$(mime "From: user1@example.test" "To: user2@example.test" "Bcc: user3@example.test" \
    "Subject: first message" "MIME-Version: 1.0" "Content-Type: text/plain; charset=utf-8" "" "Hello two")
sendmail user1 dev1 c-1 "$m" save
is "$(eas_code)" 200 "SendMail: HTTP 200"
is "$(stat -c %s "$STACK_T/last.xml")" 0 "SendMail: an empty body on success"
imap_wait_count user2 INBOX 1; ok $? "the message reaches user2's Inbox"
imap_wait_count user3 INBOX 1; ok $? "and the Bcc recipient's"
is "$(imap_count user1 Sent)" 1 "a copy is in user1's Sent"
sent_uid=$(uid_of user1 Sent "first message")
like "$(flags user1 Sent "$sent_uid")" 'Seen' "the Sent copy is read"
like "$(message user1 Sent "$sent_uid")" '^Bcc: user3@example.test' "the Sent copy keeps Bcc"
delivered=$(message user2 INBOX "$(uid_of user2 INBOX "first message")")
echo "$delivered" | grep -qi '^Bcc:'; is $? 1 "the delivered message has no Bcc"
like "$delivered" 'Return-Path: <user1@example.test>' "the envelope sender is the user"

sendmail user1 dev1 c-1 "$m" save
is "$(xget Status)" 118 "the same ClientId again: Status 118"
sleep 1
is "$(imap_count user2 INBOX)" 1 "and nothing is sent twice"
is "$(imap_count user1 Sent)" 1 "nor saved twice"
sendmail user1 dev9 c-1 "$m"
is "$(eas_code):$(stat -c %s "$STACK_T/last.xml")" "200:0" "another device may use the same ClientId"
imap_wait_count user2 INBOX 2; ok $? "its message arrives"

# A foreign From is replaced by the user's address.
m=$(mime "From: ceo@elsewhere.test" "To: user2@example.test" "Subject: spoof attempt" "" "x")
sendmail user1 dev1 c-2 "$m"
imap_wait_count user2 INBOX 3
like "$(message user2 INBOX "$(uid_of user2 INBOX "spoof attempt")")" '^From: .*user1@example.test' \
    "From is held to the user"

# ---- 12.1: the message itself as the body, options in the query
printf 'From: user1@example.test\r\nTo: user2@example.test\r\nSubject: legacy send\r\n\r\nfrom 12.1\r\n' >"$STACK_T/m12"
code=$(EAS_QUERY_EXTRA="&SaveInSent=T" eas_raw SendMail user1 dev1 12.1 "$STACK_T/m12" \
    -H 'Content-Type: message/rfc822')
is "$code" 200 "12.1 SendMail with a MIME body: 200"
imap_wait_count user2 INBOX 4; ok $? "and it is delivered"
is "$(imap_count user1 Sent)" 2 "SaveInSent=T keeps a copy"
"$EAS_WBXML" encode >"$STACK_T/wb12" <<<"<SendMail xmlns=\"ComposeMail:\"><ClientId>x</ClientId><Mime>$m</Mime></SendMail>"
code=$(eas_raw SendMail user1 dev1 12.1 "$STACK_T/wb12" -H 'Content-Type: application/vnd.ms-sync.wbxml')
is "$code" 400 "12.1 SendMail with a WBXML body: 400 (InvalidContent)"
code=$(eas_raw SendMail user1 dev1 12.1 "$STACK_T/m12" -H 'Content-Type: message/rfc822')
is "$code" 200 "without SaveInSent"
imap_wait_count user2 INBOX 5
is "$(imap_count user1 Sent)" 2 "no copy is kept"

# ---- SmartReply: quoting, threading, \Answered
orig_uid=$(uid_of user2 INBOX "first message")
m=$(mime "From: user2@example.test" "To: user1@example.test" "Subject: Re: first message" \
    "Content-Type: text/plain; charset=utf-8" "" "My answer")
eas SmartReply user2 dev2 <<<"<SmartReply xmlns=\"ComposeMail:\"><ClientId>r-1</ClientId><Source><FolderId>$inbox2</FolderId><ItemId>$inbox2:$orig_uid</ItemId></Source><SaveInSentItems/><Mime>$m</Mime></SmartReply>"
is "$(eas_code):$(stat -c %s "$STACK_T/last.xml")" "200:0" "SmartReply: 200, empty"
imap_wait_count user1 INBOX 1
reply=$(message user1 INBOX "$(uid_of user1 INBOX "Re: first message")")
like "$reply" 'My answer' "the reply has the new text"
like "$reply" '> Hello two' "and quotes the original"
like "$reply" 'In-Reply-To: <' "it is threaded (In-Reply-To)"
like "$(flags user2 INBOX "$orig_uid")" 'Answered' "the original is marked \\Answered"
is "$(imap_count user2 Sent)" 1 "the reply is in user2's Sent"

# 12.1: the original named in the query
printf 'From: user2@example.test\r\nTo: user1@example.test\r\nSubject: Re: legacy reply\r\n\r\nold-style answer\r\n' >"$STACK_T/r12"
n1=$(imap_count user1 INBOX)
code=$(EAS_QUERY_EXTRA="&ItemId=$inbox2:$orig_uid&CollectionId=$inbox2" eas_raw SmartReply user2 dev2 12.1 \
    "$STACK_T/r12" -H 'Content-Type: message/rfc822')
is "$code" 200 "12.1 SmartReply with ItemId and CollectionId in the query"
imap_wait_count user1 INBOX $((n1 + 1))
like "$(message user1 INBOX "$(uid_of user1 INBOX "Re: legacy reply")")" '> Hello two' "quotes the original too"
code=$(EAS_QUERY_EXTRA="&ItemId=$inbox2:$orig_uid&CollectionId=$inbox1" eas_raw SmartReply user2 dev2 12.1 \
    "$STACK_T/r12" -H 'Content-Type: message/rfc822')
is "$code" 500 "12.1: an ItemId that is not in that CollectionId is an error (HTTP 500)"

eas SmartReply user2 dev2 <<<"<SmartReply xmlns=\"ComposeMail:\"><ClientId>r-2</ClientId><Source><FolderId>$inbox2</FolderId><ItemId>$inbox2:99999</ItemId></Source><Mime>$m</Mime></SmartReply>"
is "$(xget Status)" 150 "SmartReply to a message that is not there: Status 150"
eas SmartReply user2 dev2 <<<"<SmartReply xmlns=\"ComposeMail:\"><ClientId>r-3</ClientId><Source><FolderId>$inbox1</FolderId><ItemId>$inbox1:1</ItemId></Source><Mime>$m</Mime></SmartReply>"
is "$(xget Status)" 150 "user2 cannot reply to user1's message by its ServerId"

# ---- SmartForward: the original's attachment goes along, $Forwarded
att=$(printf 'attachment bytes %s' {1..50} | base64 -w0)
printf '%s\r\n' "From: user3@example.test" "To: user2@example.test" "Subject: with attachment" \
    "MIME-Version: 1.0" 'Content-Type: multipart/mixed; boundary="b"' "" "--b" \
    "Content-Type: text/plain" "" "See the file." "--b" \
    'Content-Type: application/octet-stream; name="notes.bin"' \
    'Content-Disposition: attachment; filename="notes.bin"' "Content-Transfer-Encoding: base64" "" \
    "$att" "--b--" >"$STACK_T/withatt"
curl -sS -u user2:"$(user_pass user2)" "$IMAP_URL/INBOX" -T "$STACK_T/withatt"
att_uid=$(uid_of user2 INBOX "with attachment")
m=$(mime "From: user2@example.test" "To: user1@example.test" "Subject: Fwd: with attachment" \
    "Content-Type: text/plain; charset=utf-8" "" "For you")
n1=$(imap_count user1 INBOX)
eas SmartForward user2 dev2 <<<"<SmartForward xmlns=\"ComposeMail:\"><ClientId>f-1</ClientId><Source><FolderId>$inbox2</FolderId><ItemId>$inbox2:$att_uid</ItemId></Source><Mime>$m</Mime></SmartForward>"
is "$(eas_code)" 200 "SmartForward: 200"
imap_wait_count user1 INBOX $((n1 + 1))
fwd=$(message user1 INBOX "$(uid_of user1 INBOX "Fwd: with attachment")")
like "$fwd" 'For you' "the forward has the new text"
like "$fwd" 'filename="?notes.bin' "and the original's attachment"
like "$fwd" "$(echo "$att" | cut -c1-40)" "with its content"
like "$(flags user2 INBOX "$att_uid")" 'Forwarded' "the original gets \$Forwarded"

# 16.0: Forwardees and a body instead of MIME
n1=$(imap_count user1 INBOX) n3=$(imap_count user3 INBOX)
EAS_PROTOCOL_VERSION=16.0 eas SmartForward user2 dev2 <<<"<SmartForward xmlns=\"ComposeMail:\" xmlns:airsyncbase=\"AirSyncBase:\"><ClientId>f-2</ClientId><Source><FolderId>$inbox2</FolderId><ItemId>$inbox2:$att_uid</ItemId></Source><Forwardees><Forwardee><Name>User Three</Name><Email>user3@example.test</Email></Forwardee></Forwardees><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Have a look</airsyncbase:Data></airsyncbase:Body></SmartForward>"
is "$(eas_code):$(stat -c %s "$STACK_T/last.xml")" "200:0" "16.0 SmartForward with Forwardees: 200"
imap_wait_count user3 INBOX $((n3 + 1)); ok $? "the forwardee gets it"
fwd=$(message user3 INBOX "$(imap user3 INBOX -X 'UID SEARCH ALL' | awk '{print $NF}')")
like "$fwd" 'Have a look' "with the body from the request"
like "$fwd" 'notes.bin' "and the attachment"

# ---- refusals
sent1=$(imap_count user1 Sent)
m=$(mime "From: user1@example.test" "To: nobody@example.test" "Subject: to nobody" "" "x")
sendmail user1 dev1 c-3 "$m" save
is "$(xget Status)" 116 "every recipient refused by the MTA: Status 116"
is "$(imap_count user1 Sent)" "$sent1" "and the Sent copy is taken back"
sendmail user1 dev1 c-3 "$m" save
is "$(xget Status)" 116 "a refused ClientId is not recorded as sent"
m=$(mime "From: user1@example.test" "To: user2@example.test, nobody@example.test" "Subject: partly refused" "" "x")
n1=$(imap_count user1 INBOX)
sendmail user1 dev1 c-4 "$m"
is "$(eas_code):$(stat -c %s "$STACK_T/last.xml")" "200:0" "one recipient refused, one taken: sent"
imap_wait_count user1 INBOX $((n1 + 1)); ok $? "the user gets a notice"
like "$(message user1 INBOX "$(uid_of user1 INBOX "Undeliverable")")" 'nobody@example.test' \
    "which names the refused recipient"
m=$(mime "From: user1@example.test" "Subject: no recipient" "" "x")
sendmail user1 dev1 c-5 "$m"
is "$(xget Status)" 119 "no recipient at all: Status 119"
eas SendMail user1 dev1 <<<'<SendMail xmlns="ComposeMail:"><ClientId>c-6</ClientId></SendMail>'
is "$(xget Status)" 103 "no Mime: Status 103"

# ---- backends down: transient, nothing sent, nothing recorded
m=$(mime "From: user1@example.test" "To: user2@example.test" "Subject: while the MTA is down" "" "x")
sent1=$(imap_count user1 Sent) n2=$(imap_count user2 INBOX)
stack_ctl postfix stop
sendmail user1 dev1 c-7 "$m" save
is "$(eas_code)" 503 "MTA down: HTTP 503"
like "$(header Retry-After)" '^[0-9]+$' "with Retry-After"
is "$(imap_count user1 Sent)" "$sent1" "no Sent copy is left behind"
stack_ctl postfix start
sendmail user1 dev1 c-7 "$m" save
is "$(eas_code):$(stat -c %s "$STACK_T/last.xml")" "200:0" "the retry with the same ClientId is sent"
imap_wait_count user2 INBOX $((n2 + 1)); ok $? "and delivered once"
is "$(imap_count user1 Sent)" $((sent1 + 1)) "one Sent copy"

m=$(mime "From: user1@example.test" "To: user2@example.test" "Subject: while IMAP is down" "" "x")
n2=$(imap_count user2 INBOX) sent1=$(imap_count user1 Sent)
imap_down
sendmail user1 dev1 c-8 "$m" save
is "$(eas_code)" 503 "IMAP down with SaveInSentItems: HTTP 503"
stack_ctl dovecot start
sleep 2
is "$(imap_count user2 INBOX)" "$n2" "nothing was submitted"
is "$(sql "SELECT count(*) FROM eas.sent_messages s JOIN eas.devices d ON d.id = s.device WHERE d.device_id = 'dev1' AND s.client_id = 'c-8'")" 0 \
    "the ClientId is not recorded"
sendmail user1 dev1 c-8 "$m" save
is "$(eas_code)" 200 "the retry goes through"
imap_wait_count user2 INBOX $((n2 + 1)); ok $? "delivered once"
is "$(imap_count user1 Sent)" $((sent1 + 1)) "saved once"
done_testing
