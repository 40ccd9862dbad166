# Sourced by the integration tests (t/*.t, bash): TAP helpers, a private
# eas-stack (PostgreSQL, Dovecot, Postfix, httpd with the built mod_eas) and
# helpers to drive it.  Every test file gets its own stack unless
# EAS_STACK_DIR names a running one to reuse (it is then left running).
# The stack is stopped when the test exits, fails or is interrupted; a
# watchdog stops it too if the test is killed outright.  EAS_KEEP_T=1 keeps
# the stack's directory (configs and logs) after a run; a failing run keeps
# it anyway and says where.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
EAS_STACK=$top_srcdir/tools/eas-stack
: "${EAS_WBXML:=$top_builddir/tools/eas-wbxml}"

. "$top_srcdir/t/lib/tap.sh"

# wait_for SECONDS CMD...: poll CMD until it succeeds (delivery and
# connection pools are asynchronous); the bound only guards against hangs.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# ---------------------------------------------------------------- stack --
STACK_OWNED=0
STACK_T=""
STACK_WATCHDOG=""

stack_load() { # stack_load DIR: export the stack's env lines
    set -a
    # shellcheck disable=SC1091
    . "$1/env"
    set +a
}

stack_start() { # stack_start [eas-stack up options]
    local t0
    if [ -n "${EAS_STACK_DIR:-}" ]; then
        [ -f "$EAS_STACK_DIR/env" ] || bail "EAS_STACK_DIR=$EAS_STACK_DIR holds no running stack"
        stack_load "$EAS_STACK_DIR"
        STACK_T=$(mktemp -d "${TMPDIR:-/tmp}/eas-t.XXXXXX")
        return 0
    fi
    STACK_T=$(mktemp -d "${TMPDIR:-/tmp}/eas-t.XXXXXX")
    chmod 755 "$STACK_T"
    STACK_OWNED=1
    t0=$(date +%s%N)
    if ! "$EAS_STACK" up --dir "$STACK_T/stack" --quiet "$@" >/dev/null 2>"$STACK_T/up.log"; then
        sed 's/^/# /' "$STACK_T/up.log"
        bail "eas-stack up failed"
    fi
    diag "stack up in $((($(date +%s%N) - t0) / 1000000)) ms: $STACK_T/stack"
    stack_load "$STACK_T/stack"
    # Outlives a test killed by SIGKILL: once this shell is gone, stop the
    # stack and any other stack the test made in $STACK_T.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
        for d in "$3"/*/stack.state; do [ -f "$d" ] && "$2" down --dir "${d%/stack.state}"; done
        rm -rf "$3"' _ $$ "$EAS_STACK" "$STACK_T" </dev/null >/dev/null 2>&1 &
    STACK_WATCHDOG=$!
}

stack_stop() {
    local d failed=0
    [ -n "$STACK_T" ] || return 0
    # Finish the cleanup whatever arrives now: a second Ctrl-C, or a TAP
    # reader that is gone (a write to it would kill us halfway).
    trap '' INT TERM HUP PIPE
    [ -z "$STACK_WATCHDOG" ] || kill "$STACK_WATCHDOG" 2>/dev/null
    # Stacks a test starts itself (front ends, ...) live in $STACK_T too.
    for d in "$STACK_T"/*/stack.state; do
        [ -f "$d" ] || continue
        "$EAS_STACK" down --dir "${d%/stack.state}" --quiet >>"$STACK_T/down.log" 2>&1 || failed=1
    done
    if [ "$failed" = 1 ]; then
        echo "# eas-stack down failed: see $STACK_T/down.log"
    elif [ "$STACK_OWNED" = 1 ] && { [ "${EAS_KEEP_T:-0}" = 1 ] || [ "$tap_fail" -gt 0 ]; }; then
        echo "# stack stopped, its files are kept in $STACK_T"
    else
        rm -rf "$STACK_T"
    fi
}
trap stack_stop EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# -------------------------------------------------------------- helpers --
user_pass() { # user_pass USER: the password of a stack account
    local u
    for u in $EAS_USERS $MAIL_SINK; do
        [ "${u%%:*}" = "${1%%@*}" ] && { echo "${u#*:}"; return 0; }
    done
    return 1
}

address() { case $1 in *@*) echo "$1" ;; *) echo "$1@$EAS_DOMAIN" ;; esac; }

send_mail() { # send_mail FROM TO SUBJECT BODY: SMTP through the stack's Postfix
    local from to
    from=$(address "$1") to=$(address "$2")
    [ -n "$SMTP_URL" ] || { diag "send_mail: this stack has no MTA (not run as root)"; return 2; }
    printf '%s\r\n' "From: <$from>" "To: <$to>" "Subject: $3" "Date: $(LC_ALL=C date -R)" \
        "Message-ID: <$(date +%s%N).$$@$EAS_DOMAIN>" "MIME-Version: 1.0" \
        "Content-Type: text/plain; charset=utf-8" "" "$4" |
        curl -sS --max-time 30 "$SMTP_URL" --mail-from "$from" --mail-rcpt "$to" -T -
}

imap() { # imap USER PATH [curl options]: curl against the stack's IMAP, CRs dropped
    local u=${1%%@*} path=$2
    shift 2
    curl -sS --max-time 30 -u "$u:$(user_pass "$u")" "$IMAP_URL/$path" "$@" | tr -d '\r'
    return "${PIPESTATUS[0]}"
}

imap_count() { # imap_count USER MAILBOX: the number of messages in MAILBOX
    imap "$1" "" -X "STATUS \"$2\" (MESSAGES)" | sed -n 's/.*(MESSAGES \([0-9]*\)).*/\1/p'
}

imap_has_count() { [ "$(imap_count "$1" "$2")" = "$3" ]; }
imap_wait_count() { # imap_wait_count USER MAILBOX N: until MAILBOX holds N messages
    wait_for 30 imap_has_count "$1" "$2" "$3"
}

sql() { # sql "SQL": one statement as the mod_eas role, unaligned output
    psql "$PGURI" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# eas_post CMD USER DEVICEID XMLFILE: encode XMLFILE ("-" for stdin) with
# tools/eas-wbxml, POST it over TLS and print the decoded response.  Returns
# 0 on HTTP 200; eas_code and $STACK_T/eas.headers tell the rest.
# EAS_PROTOCOL_VERSION (14.1), EAS_POLICY_KEY, EAS_DEVICE_TYPE and EAS_MAX_TIME (seconds,
# 120) adjust it.
eas_post() {
    local cmd=$1 user=$2 dev=$3 xml=$4 code hdrs=()
    [ -x "$EAS_WBXML" ] || { diag "eas_post: $EAS_WBXML is not built"; return 2; }
    if [ "$xml" = - ]; then
        "$EAS_WBXML" encode >"$STACK_T/eas.req" || return 2
    else
        "$EAS_WBXML" encode <"$xml" >"$STACK_T/eas.req" || return 2
    fi
    [ -z "${EAS_POLICY_KEY:-}" ] || hdrs+=(-H "X-MS-PolicyKey: $EAS_POLICY_KEY")
    code=$(curl -sk --max-time "${EAS_MAX_TIME:-120}" -o "$STACK_T/eas.resp" -D "$STACK_T/eas.headers" -w '%{http_code}' \
        -u "$user:$(user_pass "$user")" \
        -H 'Content-Type: application/vnd.ms-sync.wbxml' \
        -H "MS-ASProtocolVersion: ${EAS_PROTOCOL_VERSION:-14.1}" "${hdrs[@]}" \
        --data-binary @"$STACK_T/eas.req" \
        "$EAS_URL?Cmd=$cmd&User=$user&DeviceId=$dev&DeviceType=${EAS_DEVICE_TYPE:-TestDevice}")
    echo "$code" >"$STACK_T/eas.code"
    [ ! -s "$STACK_T/eas.resp" ] || "$EAS_WBXML" decode <"$STACK_T/eas.resp"
    [ "$code" = 200 ]
}
eas_code() { cat "$STACK_T/eas.code"; }
