# Sourced after t/lib/stack.sh and t/lib/eas.sh: helpers for the mail
# command tests (t/5x-*.t).

# folder_of USER TYPE: the ServerId of the user's folder of that type (2 Inbox, 5 Sent).
folder_of() {
    sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id
         WHERE u.login = '$1' AND f.type = $2 AND NOT f.deleted ORDER BY f.id LIMIT 1"
}

# uid_of USER MAILBOX SUBJECT: the highest UID of a message with SUBJECT.
uid_of() {
    imap "$1" "$2" -X "UID SEARCH SUBJECT \"$3\"" | sed -n 's/^\* SEARCH *//p' | awk '{print $NF}'
}

# uidvalidity_of USER MAILBOX
uidvalidity_of() {
    imap "$1" "" -X "STATUS \"$2\" (UIDVALIDITY)" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p'
}

# message USER MAILBOX UID: the message as IMAP has it (CRs dropped).
message() { imap "$1" "$2;UID=$3"; }

# flags USER MAILBOX UID
flags() { imap "$1" "$2" -X "UID FETCH $3 FLAGS" | sed -n 's/.*FLAGS (\(.*\)).*/\1/p'; }

# unhex: hex digits on stdin -> the bytes.
unhex() { perl -e 'local $/; my $h = <STDIN>; $h =~ s/\s//g; print pack("H*", $h)'; }

# mime LINE...: the lines as a CRLF message, base64 (for ComposeMail:Mime).
mime() { printf '%s\r\n' "$@" | base64 -w0; }

# multipart_split FILE DIR: splits a MultiPartResponse (MS-ASCMD
# 2.2.1.10.1.1) into DIR/part0 ... and prints the number of parts.
multipart_split() {
    perl -e '
        open(my $f, "<", $ARGV[0]) or die; binmode $f; local $/; my $d = <$f>;
        my ($n) = unpack("V", $d);
        die "bad part count\n" if $n < 1 || 4 + 8 * $n > length($d);
        for my $i (0 .. $n - 1) {
            my ($o, $l) = unpack("VV", substr($d, 4 + 8 * $i, 8));
            die "part $i out of bounds\n" if $o + $l > length($d);
            open(my $p, ">", "$ARGV[1]/part$i") or die; binmode $p;
            print $p substr($d, $o, $l); close $p;
        }
        print "$n\n";' "$1" "$2"
}

# eas_raw CMD USER DEVICE VERSION FILE [curl options]: POSTs FILE as it is
# (WBXML or MIME), keeps the body in $STACK_T/raw.body, prints the HTTP code.
eas_raw() {
    local cmd=$1 user=$2 dev=$3 ver=$4 file=$5
    shift 5
    curl -sk --max-time 120 -o "$STACK_T/raw.body" -D "$STACK_T/raw.headers" -w '%{http_code}' \
        -u "$user:$(user_pass "$user")" -H "MS-ASProtocolVersion: $ver" "$@" \
        --data-binary @"$file" \
        "$EAS_URL?Cmd=$cmd&User=$user&DeviceId=$dev&DeviceType=TestDevice${EAS_QUERY_EXTRA:-}"
}

# imap_down: stops the stack's Dovecot and ends the IMAP sessions that
# outlive its master (the stack's own processes, by pid).
imap_down() {
    local p
    stack_ctl dovecot stop
    for p in $("$EAS_STACK" pids --dir "$STACK_DIR"); do
        [ "$(ps -o comm= -p "$p" 2>/dev/null)" = imap ] && kill "$p" 2>/dev/null
    done
    return 0
}
