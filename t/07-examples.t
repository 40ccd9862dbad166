#!/bin/bash
# examples/: httpd accepts the TLS virtual host and the Debian snippets with
# the built module, every EAS directive they use exists (and every one that
# exists is shown in them and documented), Dovecot and Postfix parse theirs.
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
build=${top_builddir:-$top}
HTTPD_BIN=${HTTPD_BIN:-/usr/sbin/apache2}
ex=$top/examples
. "$top/t/lib/tap.sh"
check() { # check STATUS DESCRIPTION [DIAGNOSTIC]: ok, with the diagnostic on failure
    ok "$1" "$2"
    [ "$1" = 0 ] || [ -z "${3:-}" ] || printf '%s\n' "$3" | tail -n 20 | sed 's/^/#   /'
    [ "$1" = 0 ]
}
t=$(mktemp -d "${TMPDIR:-/tmp}/eas-examples.XXXXXX")
trap 'rm -rf "$t"' EXIT
module=$build/mod_eas/.libs/mod_eas.so
[ -f "$module" ] || { echo "Bail out! $module is not built"; exit 1; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=eas.example.org \
    -keyout "$t/tls.key" -out "$t/tls.crt" >/dev/null 2>&1
mkdir -p "$t/run" "$t/log"

# httpd.conf around a Debian-style include of the examples, with the
# module of the build tree and a throw-away certificate.
sed "s#/usr/lib/apache2/modules/mod_eas.so#$module#" "$ex/eas.load" >"$t/eas.load"
sed -e "s#/etc/ssl/certs/eas.example.org.pem#$t/tls.crt#" \
    -e "s#/etc/ssl/private/eas.example.org.key#$t/tls.key#" "$ex/eas-vhost.conf" >"$t/eas-vhost.conf"
httpd_conf() { # httpd_conf SITE-FILE
    cat <<EOF
ServerRoot "$t"
ServerName localhost
PidFile "$t/run/httpd.pid"
DefaultRuntimeDir "$t/run"
ErrorLog "$t/log/error.log"
Listen 127.0.0.1:65080
EOF
    for m in mpm_event authn_core authz_core authz_host authz_user auth_basic dbd \
        socache_shmcb ssl headers alias status; do
        echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
    done
    echo "Include \"$t/eas.load\""
    echo "Include \"$ex/eas.conf\""
    echo "Include \"$1\""
}
httpd_t() { # httpd_t CONF: apache2 -t, as Debian's apache2ctl runs it
    env APACHE_RUN_DIR="$t/run" APACHE_LOG_DIR="$t/log" "$HTTPD_BIN" -t -f "$1" 2>&1
}
httpd_conf "$t/eas-vhost.conf" >"$t/vhost.conf"
out=$(httpd_t "$t/vhost.conf")
check $? "apache2 -t accepts examples/eas-vhost.conf with eas.load and eas.conf" "$out"
httpd_conf "$ex/eas-activesync.conf" >"$t/snippet.conf"
out=$(httpd_t "$t/snippet.conf")
check $? "apache2 -t accepts examples/eas-activesync.conf (conf-available)" "$out"
sed 's/^\( *\)EASProvisioning force/\1EASProvisioning sometimes/' "$t/eas-vhost.conf" >"$t/bad-vhost.conf"
httpd_conf "$t/bad-vhost.conf" >"$t/bad.conf"
out=$(httpd_t "$t/bad.conf")
[ $? != 0 ] && printf '%s' "$out" | grep -q 'EASProvisioning'
check $? "and refuses it with a bad EAS directive value (the check can fail)"
grep -q '^# Depends: dbd$' "$ex/eas.load"
check $? "eas.load makes a2enmod enable mod_dbd"

# Directives: used in the examples <-> declared in mod_eas_config.c <-> documented.
declared=$(grep -oE 'AP_INIT_[A-Z0-9_]+\("EAS[A-Za-z]+"' "$top/mod_eas/mod_eas_config.c" |
    grep -oE 'EAS[A-Za-z]+' | sort -u)
used=$(cat "$ex/eas-vhost.conf" "$ex/eas.conf" "$ex/eas-activesync.conf" |
    sed -e 's/^[[:space:]]*#*[[:space:]]*//' | grep -oE '^EAS[A-Za-z]+' | sort -u)
unknown=$(comm -13 <(echo "$declared") <(echo "$used"))
check "$([ -z "$unknown" ] && echo 0 || echo 1)" "the examples use only declared directives" \
    "unknown: $unknown"
missing=$(comm -23 <(echo "$declared") <(echo "$used"))
check "$([ -z "$missing" ] && echo 0 || echo 1)" "the examples show every directive" \
    "not shown: $missing"
undoc=$(for d in $declared; do grep -q "^### $d\$" "$top/docs/configuration.md" || echo "$d"; done)
check "$([ -z "$undoc" ] && echo 0 || echo 1)" "docs/configuration.md documents every directive" \
    "undocumented: $undoc"

# Dovecot: the snippet on top of a minimal configuration.
if command -v doveconf >/dev/null; then
    cat >"$t/dovecot.conf" <<EOF
base_dir = $t/run/dovecot
protocols = imap
ssl_cert = <$t/tls.crt
ssl_key = <$t/tls.key
passdb {
    driver = passwd-file
    args = $t/users
}
userdb {
    driver = passwd-file
    args = $t/users
}
mail_location = maildir:~/Maildir
!include $ex/dovecot/90-mod-eas.conf
EOF
    out=$(doveconf -c "$t/dovecot.conf" -n 2>&1)
    check $? "doveconf parses examples/dovecot/90-mod-eas.conf" "$out"
    printf '%s' "$out" | grep -q 'result_success = continue'
    check $? "with the master passdb"
    echo 'no_such_setting = 1' >>"$t/dovecot.conf"
    doveconf -c "$t/dovecot.conf" -n >/dev/null 2>&1
    check "$([ $? != 0 ] && echo 0 || echo 1)" "doveconf refuses an unknown setting (the check can fail)"
else
    skip "doveconf not installed"
fi

# Postfix: main.cf and master.cf additions.
if command -v postconf >/dev/null; then
    mkdir -p "$t/postfix"
    cp "$ex/postfix/main.cf" "$ex/postfix/master.cf" "$t/postfix/"
    out=$(postconf -c "$t/postfix" -n 2>&1)
    check "$(printf '%s' "$out" | grep -qi 'warning\|error' && echo 1 || echo 0)" \
        "postconf reads examples/postfix/main.cf without warnings" "$out"
    out=$(postconf -c "$t/postfix" -M 2>&1)
    check "$(printf '%s' "$out" | grep -qi 'warning\|error' && echo 1 || echo 0)" \
        "postconf reads examples/postfix/master.cf without warnings" "$out"
    printf '%s' "$out" | grep -q '^10587 *inet'
    check $? "with the mod_eas submission service"
else
    skip "postconf not installed"
fi

done_testing
