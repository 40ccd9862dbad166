#!/bin/bash
# Sync benchmark against a local eas-stack (docs/design-sync.md):
#   1. initial sync of 10,000 contacts with WindowSize 100,
#   2. initial sync of a 5,000-event calendar with WindowSize 100,
#   3. incremental Sync of 10 changes in collections of 1k, 10k and 100k
#      items, which must not grow with the collection.
# Prints wall time, requests, the sum of request latencies and the CPU the
# server (httpd + PostgreSQL) spent per item.  Uses EAS_STACK_DIR when it
# names a running stack, otherwise starts (and stops) its own.
# Usage: bench/sync-bench.sh [--quick]   (--quick: a tenth of the sizes)
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/sync.sh"
trap stack_stop EXIT

scale=1
[ "${1:-}" = --quick ] && scale=10
N_CONTACTS=$((10000 / scale))
N_EVENTS=$((5000 / scale))
SIZES="$((1000 / scale)) $((10000 / scale)) $((100000 / scale))"

stack_start
user=user1
pass=$(user_pass $user)
foldersync $user benchA 0 >/dev/null
fid() { sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id WHERE u.login = '$user' AND f.type = $1"; }
C=$(fid 9)
K=$(fid 8)
WEU="xP///1cALgAgAEUAdQByAG8AcABlACAAUwB0AGEAbgBkAGEAcgBkACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAAAAAAAAAoAAAAFAAMAAAAAAAAAAAAAAFcALgAgAEUAdQByAG8AcABlACAARABhAHkAbABpAGcAaAB0ACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAxP///w=="

# CPU seconds (user + system) of the stack's httpd and PostgreSQL processes.
server_cpu() {
    local pid total=0 hz
    hz=$(getconf CLK_TCK)
    for pid in $("$EAS_STACK" pids --dir "$STACK_DIR"); do
        [ -r "/proc/$pid/stat" ] || continue
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in
        *apache2* | *postgres*) ;;
        *) continue ;;
        esac
        # fields 14 and 15 (utime, stime) after the ")" of the command
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total $hz" | awk '{printf "%.3f", $1 / $2}'
}

# post DEVICE XMLFILE: one Sync; the decoded answer in $STACK_T/b.xml, the
# latency (seconds) appended to $STACK_T/lat.
post() {
    "$EAS_WBXML" encode <"$2" >"$STACK_T/b.req" || exit 1
    curl -sk --max-time 300 -o "$STACK_T/b.resp" -w '%{time_total}\n' -u "$user:$pass" \
        -H 'Content-Type: application/vnd.ms-sync.wbxml' -H 'MS-ASProtocolVersion: 14.1' \
        --data-binary @"$STACK_T/b.req" \
        "$EAS_URL?Cmd=Sync&User=$user&DeviceId=$1&DeviceType=Bench" >>"$STACK_T/lat"
    : >"$STACK_T/b.xml"
    [ -s "$STACK_T/b.resp" ] && "$EAS_WBXML" decode <"$STACK_T/b.resp" >"$STACK_T/b.xml"
}
key_of() { sed -n 's:.*<SyncKey>\([^<]*\)</SyncKey>.*:\1:p' "$STACK_T/b.xml" | head -n 1; }
count_of() { grep -o "<$1>" "$STACK_T/b.xml" | wc -l; }
req() { # req FOLDER KEY [XML]
    printf '%s' "<Sync $NS><Collections><Collection><SyncKey>$2</SyncKey><CollectionId>$1</CollectionId>${3:-}</Collection></Collections></Sync>" >"$STACK_T/b.in"
}

# upload DEVICE FOLDER COUNT MAKER: COUNT client Adds, 500 per request.
upload() {
    local dev=$1 f=$2 n=$3 maker=$4 key i body
    req "$f" 0
    post "$dev" "$STACK_T/b.in"
    key=$(key_of)
    for ((i = 1; i <= n; i += 500)); do
        body=$("$maker" "$i" $((i + 499 > n ? n : i + 499)))
        req "$f" "$key" "<Commands>$body</Commands>"
        post "$dev" "$STACK_T/b.in"
        key=$(key_of)
    done
}
contacts() {
    local i
    for ((i = $1; i <= $2; i++)); do
        printf '<Add><ClientId>c%d</ClientId><ApplicationData><contacts:FileAs>Person %d</contacts:FileAs><contacts:FirstName>First%d</contacts:FirstName><contacts:LastName>Last%d</contacts:LastName><contacts:Email1Address>p%d@example.test</contacts:Email1Address><contacts:MobilePhoneNumber>+1 555 %07d</contacts:MobilePhoneNumber><contacts:CompanyName>Company %d</contacts:CompanyName><contacts:BusinessAddressCity>City</contacts:BusinessAddressCity><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Notes about person %d, a few words long.</airsyncbase:Data></airsyncbase:Body></ApplicationData></Add>' \
            "$i" "$i" "$i" "$i" "$i" "$i" "$i" "$i"
    done
}
events() {
    local i start end rec
    for ((i = $1; i <= $2; i++)); do
        start=$(date -u -d "2026-01-01 + $((i % 365)) days + $((i % 10)) hours" +%Y%m%dT%H%M%SZ)
        end=$(date -u -d "2026-01-01 + $((i % 365)) days + $((i % 10 + 1)) hours" +%Y%m%dT%H%M%SZ)
        rec=""
        [ $((i % 10)) = 0 ] && rec="<calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:DayOfWeek>2</calendar:DayOfWeek><calendar:Occurrences>10</calendar:Occurrences></calendar:Recurrence>"
        printf '<Add><ClientId>e%d</ClientId><ApplicationData><calendar:Timezone>%s</calendar:Timezone><calendar:StartTime>%s</calendar:StartTime><calendar:EndTime>%s</calendar:EndTime><calendar:Subject>Event %d</calendar:Subject><calendar:Location>Room %d</calendar:Location><calendar:BusyStatus>2</calendar:BusyStatus><calendar:Reminder>15</calendar:Reminder>%s</ApplicationData></Add>' \
            "$i" "$WEU" "$start" "$end" "$i" "$((i % 20))" "$rec"
    done
}

# initial DEVICE FOLDER LABEL: SyncKey 0, then WindowSize 100 until done.
initial() {
    local dev=$1 f=$2 key n=0 items=0 t0 t1 cpu0 cpu1
    : >"$STACK_T/lat"
    cpu0=$(server_cpu)
    t0=$(date +%s.%N)
    req "$f" 0
    post "$dev" "$STACK_T/b.in"
    key=$(key_of)
    n=1
    while :; do
        req "$f" "$key" "<WindowSize>100</WindowSize>"
        post "$dev" "$STACK_T/b.in"
        n=$((n + 1))
        items=$((items + $(count_of Add)))
        key=$(key_of)
        grep -q '<MoreAvailable' "$STACK_T/b.xml" || break
    done
    t1=$(date +%s.%N)
    cpu1=$(server_cpu)
    awk -v l="$3" -v n="$n" -v i="$items" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" \
        -v lat="$(awk '{s += $1} END {printf "%.3f", s}' "$STACK_T/lat")" \
        'BEGIN {printf "%-34s %6d items %4d requests  wall %6.2f s  server latency %6.2f s  server CPU %6.1f us/item\n", l, i, n, t1 - t0, lat, (c1 - c0) * 1e6 / i}'
}

echo "# mod_eas Sync benchmark ($(nproc) cores; $(date -u +%Y-%m-%d))"
t0=$(date +%s)
upload benchA "$C" "$N_CONTACTS" contacts
echo "# uploaded $N_CONTACTS contacts through Sync Adds in $(($(date +%s) - t0)) s"
initial benchB "$C" "initial sync, contacts"
t0=$(date +%s)
upload benchA "$K" "$N_EVENTS" events
echo "# uploaded $N_EVENTS events through Sync Adds in $(($(date +%s) - t0)) s"
initial benchB "$K" "initial sync, calendar"

# Incremental: a device that holds a collection of N items gets 10 changes.
# The collection, the device's state (the rows a full initial sync leaves)
# and the changes (as a server-side tool makes them) are made with SQL.
incremental() {
    local n=$1 f dev=inc$1 key round lat
    f=$(sql "INSERT INTO eas.folders (user_id, class, type, display_name, created_seq, changed_seq) SELECT id, 'Contacts', 14, 'Bench $n', eas.next_hierarchy_seq(id), hierarchy_seq FROM eas.users WHERE login = '$user' RETURNING id")
    sql "INSERT INTO eas.items (folder_id, props, body, body_type, subject) SELECT $f, props, body, body_type, 'Item ' || g FROM generate_series(1, $n) g, (SELECT props, body, body_type FROM eas.items WHERE folder_id = $C LIMIT 1) p" >/dev/null
    req "$f" 0
    post "$dev" "$STACK_T/b.in"
    key=$(key_of)
    sql "INSERT INTO eas.sync_items (device_id, folder_id, item, version) SELECT d.id, $f, i.id, i.seq FROM eas.items i, eas.devices d WHERE i.folder_id = $f AND d.device_id = '$dev'; UPDATE eas.collections c SET cursor = (SELECT max(seq) FROM eas.items WHERE folder_id = $f) FROM eas.devices d WHERE d.id = c.device_id AND d.device_id = '$dev' AND c.folder_id = $f; ANALYZE eas.items; ANALYZE eas.sync_items" >/dev/null
    : >"$STACK_T/inc"
    for round in $(seq 1 15); do
        sql "UPDATE eas.items SET subject = subject WHERE id IN (SELECT id FROM eas.items WHERE folder_id = $f ORDER BY random() LIMIT 10)" >/dev/null
        : >"$STACK_T/lat"
        req "$f" "$key"
        post "$dev" "$STACK_T/b.in"
        [ "$(count_of Change)" = 10 ] || { echo "round $round: expected 10 changes, got $(count_of Change)"; exit 1; }
        key=$(key_of)
        cat "$STACK_T/lat" >>"$STACK_T/inc"
    done
    lat=$(sort -n "$STACK_T/inc" | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] * 1000}')
    printf '%-34s %6d items, 10 changes: median Sync latency %6s ms (15 rounds)\n' "incremental sync" "$n" "$lat"
}
for n in $SIZES; do incremental "$n"; done
