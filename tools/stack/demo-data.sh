#!/bin/bash
# Demo data for `eas-stack up --demo`: sample mail for the demo users, sent
# through the stack's Postfix like any mail (or saved with doveadm when the
# stack runs without Postfix).  Runs once per stack dir, with the stack's env
# lines (EAS_USERS, SMTP_URL, IMAP_URL, EAS_DOMAIN, PGURI, STACK_DIR) and
# DOVECOT_CONF in the environment.  Contacts and calendars for the demo users
# belong here too, loaded through PGURI, as soon as the schema holds them.
set -euo pipefail
: "${EAS_USERS:?run through tools/eas-stack up --demo}"
domain=$EAS_DOMAIN
first=${EAS_USERS%% *}
first=${first%%:*}
second=$(echo "$EAS_USERS" | awk '{print $2}')
second=${second%%:*}
second=${second:-$first}
third=$(echo "$EAS_USERS" | awk '{print $3}')
third=${third%%:*}
third=${third:-$second}
sent=()

# deliver FROM TO <MESSAGE
deliver() {
    local from=$1@$domain to=$2
    if [ -n "$SMTP_URL" ]; then
        curl -sS --max-time 30 "$SMTP_URL" --mail-from "$from" --mail-rcpt "$to@$domain" -T - >/dev/null
    else
        doveadm -c "$DOVECOT_CONF" save -u "$to" -m INBOX
    fi
    sent+=("$to")
}

header() { # header FROM TO SUBJECT [extra header lines...]
    local from=$1 to=$2 subject=$3
    shift 3
    printf '%s\r\n' "From: ${from^} <$from@$domain>" "To: ${to^} <$to@$domain>" \
        "Subject: $subject" "Date: $(LC_ALL=C date -R)" \
        "Message-ID: <$(date +%s%N).$RANDOM@$domain>" "MIME-Version: 1.0" "$@"
}

deliver "$second" "$first" < <(
    header "$second" "$first" "Welcome to mod_eas" "Content-Type: text/plain; charset=utf-8"
    printf '%s\r\n' "" "Hello $first," "" \
        "this account lives on the local eas-stack: mail on Dovecot, everything" \
        "else in PostgreSQL, served to your phone by httpd and mod_eas." "" "-- $second"
)

deliver "$third" "$first" < <(
    header "$third" "$first" "Lunch on Friday?" \
        'Content-Type: multipart/alternative; boundary="alt-1"'
    printf '%s\r\n' "" "--alt-1" "Content-Type: text/plain; charset=utf-8" "" \
        "Shall we try the new place on the corner? 12:30?" "" \
        "--alt-1" "Content-Type: text/html; charset=utf-8" "" \
        "<html><body><p>Shall we try the <b>new place</b> on the corner? <i>12:30?</i></p></body></html>" \
        "" "--alt-1--"
)

deliver "$second" "$first" < <(
    header "$second" "$first" "Agenda for Monday" \
        'Content-Type: multipart/mixed; boundary="mix-1"'
    printf '%s\r\n' "" "--mix-1" "Content-Type: text/plain; charset=utf-8" "" \
        "The agenda is attached." "" \
        "--mix-1" 'Content-Type: text/plain; charset=utf-8; name="agenda.txt"' \
        'Content-Disposition: attachment; filename="agenda.txt"' "Content-Transfer-Encoding: base64" "" \
        "$(printf '1. Status\n2. Planning\n3. Anything else\n' | base64)" "" "--mix-1--"
)

deliver "$third" "$first" < <(
    header "$third" "$first" "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_dem_B=C3=BCro?=" \
        "Content-Type: text/plain; charset=utf-8" "Content-Transfer-Encoding: 8bit"
    printf '%s\r\n' "" "Schöne Grüße, ¡hola!, こんにちは — umlauts and friends survive the trip."
)

deliver "$first" "$second" < <(
    header "$first" "$second" "Re: Welcome to mod_eas" "Content-Type: text/plain; charset=utf-8"
    printf '%s\r\n' "" "Thanks, it works." "" "-- $first"
)

# Return only once the mail is there, so the demo starts with full inboxes.
for user in $(printf '%s\n' "${sent[@]}" | sort -u); do
    want=$(printf '%s\n' "${sent[@]}" | grep -cx "$user")
    pass=$(printf '%s\n' $EAS_USERS | sed -n "s/^$user://p")
    for _ in $(seq 300); do
        have=$(curl -s -u "$user:$pass" "$IMAP_URL/" -X 'STATUS INBOX (MESSAGES)' |
            sed -n 's/.*(MESSAGES \([0-9]*\)).*/\1/p')
        [ "${have:-0}" -ge "$want" ] && break
        sleep 0.1
    done
    [ "${have:-0}" -ge "$want" ] || { echo "demo-data: $user has $have of $want messages" >&2; exit 1; }
    echo "demo-data: $user: $have messages in INBOX"
done
