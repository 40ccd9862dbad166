#!/bin/bash
# The local stack (tools/eas-stack): every component answers, mail sent
# through Postfix reaches another user's INBOX over LMTP, a second front end
# shares the backend, a component that cannot start is named, and `down`
# leaves no process behind.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
stack_start
u1=user1:$(user_pass user1)

# PostgreSQL: the eas role over TCP, the schema, mod_dbd's pool.
is "$(sql 'SELECT 1')" 1 "PostgreSQL answers the eas role over TCP"
v=$(sql 'SELECT max(version) FROM eas.schema_version')
[ "${v:-0}" -ge 1 ]; ok $? "eas-dbupgrade applied the schema (version ${v:-none})"
dbd_connected() { [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mod_eas'")" -ge 1 ]; }
wait_for 30 dbd_connected; ok $? "httpd's mod_dbd holds connections to the cluster"

# Dovecot: capabilities mod_eas relies on, special-use folders.
cap=$(imap user1 "" -X CAPABILITY)
like "$cap" ' CONDSTORE( |$)' "IMAP offers CONDSTORE"
like "$cap" ' QRESYNC( |$)' "IMAP offers QRESYNC"
like "$cap" ' SPECIAL-USE( |$)' "IMAP offers SPECIAL-USE"
subscribed=$(imap user2 "" -X 'LSUB "" "*"')
for f in Drafts Sent Trash Junk; do
    like "$(imap user2 "" -X 'LIST "" "*"')" "\\\\$f\\) \"/\" \"?$f\"?" "$f is there with its special-use flag"
    like "$subscribed" " \"?$f\"?\$" "$f is subscribed"
done
is "$(curl -s -o /dev/null -w '%{http_code}' -u user1:wrong "$IMAP_URL/" -X NOOP; echo " $?")" "000 67" \
    "IMAP refuses a wrong password"

# httpd: TLS with the stack's certificate, the EAS and autodiscover paths.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
base=${EAS_URL%/Microsoft-Server-ActiveSync}
is "$(code --cacert "$STACK_DIR/conf/tls.crt" -u "$u1" -X OPTIONS "$EAS_URL")" 200 \
    "OPTIONS over TLS, certificate valid for 127.0.0.1"
is "$(code -k -X OPTIONS "$EAS_URL")" 401 "EAS asks for credentials"
is "$(code -k -u user1@example.test:"${u1#*:}" -X OPTIONS "$EAS_URL")" 200 "the address works as user name"
is "$(code -u "$u1" -X OPTIONS "$EAS_HTTP_URL")" 200 "plain HTTP on loopback serves EAS too"
for p in /autodiscover/autodiscover.xml /Autodiscover/Autodiscover.xml /AutoDiscover/AutoDiscover.XML; do
    c=$(code -k -u "$u1" -X POST -d '<x/>' "$base$p")
    [ "$c" != 404 ] && [ "$c" != 401 ]; ok $? "$p reaches mod_eas (HTTP $c)"
done
c=$(code -k -X POST -d '{}' "$base/autodiscover/autodiscover.json?Email=user1@example.test&Protocol=ActiveSync")
[ "$c" != 404 ] && [ "$c" != 401 ]; ok $? "autodiscover.json reaches mod_eas without credentials (HTTP $c)"
is "$(code -k -u "$u1" "$base/elsewhere")" 404 "other paths are not mod_eas's"

"$EAS_STACK" status --dir "$STACK_DIR" >"$STACK_T/status" 2>&1
ok $? "eas-stack status: every component runs and answers"
sed 's/^/#   /' "$STACK_T/status"

# Postfix: loopback submission, LMTP delivery, nothing leaves the machine.
if [ -z "$SMTP_URL" ]; then
    skip "Postfix needs root" 6
else
    subject="stack test $$"
    send_mail user1 user2 "$subject" "Hello user2."; ok $? "Postfix accepts mail from user1 to user2"
    imap_wait_count user2 INBOX 1; ok $? "it arrives in user2's INBOX"
    is "$(imap user2 INBOX -X "SEARCH SUBJECT \"$subject\"")" "* SEARCH 1" "with its subject"
    like "$(imap user2 'INBOX;UID=1;SECTION=HEADER.FIELDS%20(FROM)')" 'user1@example.test' "and its sender"
    send_mail user1 someone@elsewhere.test "outside" "Bye." && imap_wait_count external INBOX 1
    ok $? "mail to another domain lands in the external sink"
    send_mail user1 nobody@example.test "unknown" "?" 2>/dev/null
    is "$?" 55 "an unknown local recipient is refused at RCPT"
fi

# A second front end on the same PostgreSQL/Dovecot/Postfix.
fe=$STACK_T/fe
if "$EAS_STACK" up --dir "$fe" --frontend-of "$STACK_DIR" --quiet >"$STACK_T/fe.env" 2>"$STACK_T/fe.log"; then
    fe_url=$(sed -n 's/^EAS_URL="\(.*\)"$/\1/p' "$STACK_T/fe.env")
    [ -n "$fe_url" ] && [ "$fe_url" != "$EAS_URL" ]; ok $? "the front end has its own URL"
    is "$(code -k -u "$u1" -X OPTIONS "$fe_url")" 200 "it serves EAS"
    like "$(cat "$STACK_T/fe.env")" "PGURI=\"$PGURI\"" "with the backend's database"
    "$EAS_STACK" down --dir "$fe" --quiet; ok $? "down stops the front end"
    is "$("$EAS_STACK" pids --dir "$fe")" "" "no front-end process is left"
    "$EAS_STACK" status --dir "$STACK_DIR" >/dev/null; ok $? "the backend still runs"
else
    sed 's/^/#   /' "$STACK_T/fe.log"
    ok 1 "eas-stack up --frontend-of"
    skip "no front end" 5
fi

# A component that cannot start is named with its log, and nothing is left.
busy=$STACK_T/busy
taken=${EAS_URL#https://127.0.0.1:}
taken=${taken%%/*}
"$EAS_STACK" up --dir "$busy" --port "$taken" --quiet >/dev/null 2>"$STACK_T/busy.log"
is "$?" 1 "up fails when the TLS port is taken"
like "$(cat "$STACK_T/busy.log")" "httpd: .*\\(log: $busy/log/httpd-error.log\\)" "the error names httpd and its log"
is "$("$EAS_STACK" pids --dir "$busy")" "" "the failed start left no process"

# down: every process gone, every port closed.
ports=$(grep -ho '127\.0\.0\.1:[0-9]*' "$STACK_DIR/env" | cut -d: -f2 | sort -u)
"$EAS_STACK" down --dir "$STACK_DIR" --quiet; ok $? "eas-stack down"
is "$("$EAS_STACK" pids --dir "$STACK_DIR")" "" "no process of the stack is left"
is "$(pgrep -f -- "$STACK_DIR/" | tr '\n' ' ')" "" "no command line names the stack dir"
open=""
for p in $ports; do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && open="$open $p"; done
is "$open" "" "every port of the stack is closed"
"$EAS_STACK" status --dir "$STACK_DIR" >/dev/null; is "$?" 2 "status reports the stack down"

# up again: same accounts and data, new ports.
old_users=$EAS_USERS
"$EAS_STACK" up --dir "$STACK_DIR" --quiet >/dev/null 2>"$STACK_T/reup.log"; ok $? "up again in the same dir"
stack_load "$STACK_DIR"
is "$EAS_USERS" "$old_users" "with the same accounts"
if [ -n "$SMTP_URL" ]; then
    is "$(imap_count user2 INBOX)" 1 "and the mail delivered before"
else
    skip "Postfix needs root"
fi
done_testing
