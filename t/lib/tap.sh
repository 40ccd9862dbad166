# TAP for the bash tests: ok, is, like, skip, diag, bail, done_testing.
tap_n=0
tap_fail=0
ok() { # ok EXIT-STATUS DESCRIPTION
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else
        echo "not ok $tap_n - $2"
        tap_fail=$((tap_fail + 1))
    fi
}
is() { # is GOT WANT DESCRIPTION
    tap_n=$((tap_n + 1))
    if [ "$1" = "$2" ]; then echo "ok $tap_n - $3"; else
        echo "not ok $tap_n - $3"
        echo "#   got '$1', expected '$2'"
        tap_fail=$((tap_fail + 1))
    fi
}
like() { # like GOT EXTENDED-REGEX DESCRIPTION
    tap_n=$((tap_n + 1))
    if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $tap_n - $3"; else
        echo "not ok $tap_n - $3"
        printf '%s\n' "$1" | head -n 20 | sed 's/^/#   got: /'
        echo "#   expected to match: $2"
        tap_fail=$((tap_fail + 1))
    fi
}
skip() { # skip REASON [COUNT]
    local i
    for ((i = 0; i < ${2:-1}; i++)); do
        tap_n=$((tap_n + 1))
        echo "ok $tap_n # skip $1"
    done
}
diag() { printf '# %s\n' "$@"; }
bail() {
    echo "Bail out! $*"
    exit 1
}
done_testing() {
    echo "1..$tap_n"
    [ "$tap_fail" -eq 0 ]
}

