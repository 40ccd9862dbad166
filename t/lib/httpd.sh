# Sourced by httpd-only tests: starts httpd with the built module on a free
# loopback port and always stops it.  TAP helpers included.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
: "${HTTPD_BIN:=/usr/sbin/apache2}"

T=$(mktemp -d "${TMPDIR:-/tmp}/eas-t.XXXXXX")
chmod 755 "$T"
tap_n=0
tap_fail=0

ok() { # ok COND-EXIT-STATUS DESCRIPTION
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_fail=$((tap_fail + 1)); fi
}
is() { # is GOT WANT DESCRIPTION
    tap_n=$((tap_n + 1))
    if [ "$1" = "$2" ]; then echo "ok $tap_n - $3"; else
        echo "not ok $tap_n - $3"; echo "#   got '$1', expected '$2'"; tap_fail=$((tap_fail + 1)); fi
}
done_testing() { echo "1..$tap_n"; [ "$tap_fail" -eq 0 ]; }

free_port() { # a random loopback port nobody listens on
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

httpd_stop() {
    if [ -f "$T/httpd.pid" ]; then
        "$HTTPD_BIN" -d "$T" -f "$T/httpd.conf" -k stop 2>/dev/null
        for _ in $(seq 50); do [ -f "$T/httpd.pid" ] || break; sleep 0.1; done
    fi
    if [ "${EAS_KEEP_T:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap httpd_stop EXIT INT TERM

httpd_start() {
    PORT=$(free_port)
    module="$top_builddir/mod_eas/.libs/mod_eas.so"
    [ -f "$module" ] || { echo "Bail out! $module not built"; exit 1; }
    sed -e "s|@T@|$T|g" -e "s|@PORT@|$PORT|g" -e "s|@MODULE@|$module|g" \
        -e "s|@LOGLEVEL@|${EAS_LOGLEVEL:-info}|g" \
        "$top_srcdir/t/conf/httpd.conf.in" >"$T/httpd.conf"
    root=""; [ "$(id -u)" = 0 ] && root="-DROOT"
    # libtool puts the uninstalled libeas on the library path.
    "$top_builddir/libtool" --mode=execute -dlopen "$top_builddir/libeas/libeas.la" \
        "$HTTPD_BIN" -d "$T" -f "$T/httpd.conf" $root -k start || {
        echo "Bail out! httpd did not start"; cat "$T/error.log" >&2; exit 1; }
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.05
    done
    BASE="http://127.0.0.1:$PORT"
}
