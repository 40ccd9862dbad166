#!/bin/bash
# The Debian package: dpkg-buildpackage builds libapache2-mod-eas from a
# copy of the tree, the files land where they belong, the module loads into
# httpd, "a2enmod eas" enables it with mod_dbd, and lintian finds no errors
# (its warnings are shown).  Takes a minute or two.
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
HTTPD_BIN=${HTTPD_BIN:-/usr/sbin/apache2}
. "$top/t/lib/tap.sh"
check() { # check STATUS DESCRIPTION [DIAGNOSTIC]: ok, with the diagnostic on failure
    ok "$1" "$2"
    [ "$1" = 0 ] || [ -z "${3:-}" ] || printf '%s\n' "$3" | tail -n 30 | sed 's/^/#   /'
    [ "$1" = 0 ]
}
for tool in dpkg-buildpackage dh dh_apache2 lintian a2enmod; do
    command -v "$tool" >/dev/null || { echo "1..0 # skip $tool is not installed (tools/debian-packages)"; exit 0; }
done
[ -f "$top/debian/control" ] || { echo "1..0 # skip no debian/ in this tree"; exit 0; }

t=$(mktemp -d "${TMPDIR:-/tmp}/eas-deb.XXXXXX")
trap 'rm -rf "$t"' EXIT
src=$t/mod-eas

# The copy: what git knows of (committed or not, minus what it ignores), or
# else the tree without build products.
mkdir "$src"
if git -C "$top" rev-parse --show-toplevel >/dev/null 2>&1; then
    (cd "$top" && git ls-files -co --exclude-standard -z |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -cf - -T -) | tar -xf - -C "$src"
else
    (cd "$top" && tar --exclude=.stack --exclude='*.o' --exclude='*.lo' --exclude='*.la' \
        --exclude=.libs --exclude=.deps --exclude=Makefile --exclude=config.status -cf - .) |
        tar -xf - -C "$src"
fi

# A build of its own, not a part of the make running this test.
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u CFLAGS -u CPPFLAGS \
    -u LDFLAGS DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b) >"$t/build.log" 2>&1
check $? "dpkg-buildpackage -us -uc -b" "$(cat "$t/build.log")"
deb=$(ls "$t"/libapache2-mod-eas_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ]
check $? "it made libapache2-mod-eas" || bail "no package to check"

root=$t/root
dpkg -x "$deb" "$root"
missing=""
for f in usr/lib/apache2/modules/mod_eas.so etc/apache2/mods-available/eas.load \
    etc/apache2/mods-available/eas.conf etc/apache2/conf-available/libapache2-mod-eas.conf \
    usr/bin/eas-admin usr/bin/eas-dbupgrade usr/bin/eas-wbxml \
    usr/share/doc/libapache2-mod-eas/copyright usr/share/doc/libapache2-mod-eas/README.md \
    usr/share/doc/libapache2-mod-eas/examples/eas-vhost.conf \
    usr/share/doc/libapache2-mod-eas/examples/policies.sql \
    usr/share/doc/libapache2-mod-eas/examples/dovecot/90-mod-eas.conf \
    usr/share/man/man1/eas-admin.1.gz; do
    [ -e "$root/$f" ] || missing="$missing $f"
done
for f in "$top"/sql/[0-9][0-9][0-9]_*.sql; do
    [ -e "$root/usr/share/mod_eas/sql/${f##*/}" ] || missing="$missing usr/share/mod_eas/sql/${f##*/}"
done
for f in installation operations security configuration administration; do
    ls "$root/usr/share/doc/libapache2-mod-eas/$f.md"* >/dev/null 2>&1 || missing="$missing $f.md"
done
check "$([ -z "$missing" ] && echo 0 || echo 1)" "every file is where it belongs" "missing:$missing"
extra=$(cd "$root" && find . \( -path ./usr/include -o -name 'libeas*' -o -name '*.la' \) -print)
check "$([ -z "$extra" ] && echo 0 || echo 1)" "no libeas, headers or .la files (libeas is linked in)" "$extra"

so=$root/usr/lib/apache2/modules/mod_eas.so
dyn=$(readelf -d "$so" "$root/usr/bin/eas-wbxml")
printf '%s' "$dyn" | grep -Eq 'RPATH|RUNPATH|libeas'
check "$([ $? != 0 ] && echo 0 || echo 1)" "no RPATH/RUNPATH and no libeas.so needed" "$dyn"
exports=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^_' | sort | tr '\n' ' ')
check "$([ "$exports" = "eas_module " ] && echo 0 || echo 1)" "mod_eas.so exports eas_module only" "$exports"
depends=$(dpkg-deb -f "$deb" Depends)
printf '%s' "$depends" | grep -q 'apache2-api-[0-9]' && printf '%s' "$depends" | grep -q libaprutil1-dbd-pgsql
check $? "it depends on the httpd module API and the apr_dbd pgsql driver" "$depends"
dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | grep -q postinst
check "$([ $? != 0 ] && echo 0 || echo 1)" "installing enables nothing (no postinst)"

# The packaged module loads, through the packaged eas.load.
mkdir -p "$t/run"
sed "s#/usr/lib/apache2/modules/mod_eas.so#$so#" "$root/etc/apache2/mods-available/eas.load" >"$t/eas.load"
cat >"$t/httpd.conf" <<EOF
ServerRoot "$t"
ServerName localhost
PidFile "$t/run/httpd.pid"
DefaultRuntimeDir "$t/run"
ErrorLog "$t/error.log"
Listen 127.0.0.1:65081
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
Include "$t/eas.load"
Include "$root/etc/apache2/mods-available/eas.conf"
Include "$root/etc/apache2/conf-available/libapache2-mod-eas.conf"
EOF
out=$("$HTTPD_BIN" -t -f "$t/httpd.conf" 2>&1)
check $? "apache2 -t loads the packaged module with its conf snippet" "$out"

# a2enmod in a scratch configuration directory (and state directory).
conf=$t/etc/apache2
mkdir -p "$conf/mods-available" "$conf/mods-enabled" "$t/state"
cp "$root"/etc/apache2/mods-available/eas.* /etc/apache2/mods-available/dbd.load "$conf/mods-available/"
out=$(APACHE_CONFDIR=$conf APACHE_STATE_DIRECTORY=$t/state a2enmod -q eas 2>&1)
[ -L "$conf/mods-enabled/eas.load" ] && [ -L "$conf/mods-enabled/eas.conf" ] && [ -L "$conf/mods-enabled/dbd.load" ]
check $? "a2enmod eas enables eas and dbd" "$out$(ls -l "$conf/mods-enabled")"

"$root/usr/bin/eas-admin" --help >/dev/null
check $? "the packaged eas-admin runs"
"$root/usr/bin/eas-wbxml" --version >/dev/null
check $? "the packaged eas-wbxml runs"

out=$(lintian --pedantic "$deb" 2>&1)
errors=$(printf '%s\n' "$out" | grep '^E:')
check "$([ -z "$errors" ] && echo 0 || echo 1)" "lintian: no errors" "$errors"
printf '%s\n' "$out" | grep -E '^[WIP]:' | sed 's/^/# lintian: /'

done_testing
