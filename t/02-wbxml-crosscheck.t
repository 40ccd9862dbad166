#!/bin/bash
# libeas's WBXML codec against an independent one, libwbxml2 (Debian
# libwbxml2-utils): every document of t/wbxml-corpus is encoded by both and
# decoded by both, and the results are compared by code page and token
# (t/wbxml-canon), never by tag name.  The known differences of libwbxml2
# 0.11.8 (../shared/notes/wbxml-code-pages.md) are handled explicitly:
# names and the "Gal:" namespace are translated by wbxml-canon; tokens it
# lacks (Find, page 25; MeetingResponse ProposedStartTime/EndTime; Provision
# AccountOnlyRemoteWipe) must make xml2wbxml fail and come back from
# wbxml2xml as <unknown>.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$top_builddir}"

. "${top_srcdir:-$(dirname "$0")/..}/t/lib/tap.sh"
same() { # same FILE-GOT FILE-WANT DESCRIPTION
    if cmp -s "$1" "$2"; then ok 0 "$3"; else
        ok 1 "$3"; diff "$2" "$1" | head -n 20 | sed 's/^/# /'; fi
}

# CI installs libwbxml2-utils: its absence is a failure, not a skip.
for tool in xml2wbxml wbxml2xml; do
    command -v "$tool" >/dev/null || { echo "Bail out! $tool not found: install libwbxml2-utils"; exit 1; }
done

EAS_WBXML="$top_builddir/tools/eas-wbxml"
CANON="$top_builddir/t/wbxml-canon"
for p in "$EAS_WBXML" "$CANON"; do
    [ -x "$p" ] || { echo "Bail out! $p not built"; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/eas-wbxml.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

files=("$top_srcdir"/t/wbxml-corpus/*.xml)
[ ${#files[@]} -ge 20 ] || { echo "Bail out! corpus missing"; exit 1; }

: >"$T/all-tokens"
for x in "${files[@]}"; do
    n=$(basename "$x" .xml)
    d="$T/$n"
    mkdir "$d"
    "$CANON" xml "$x" >"$d/want" || { ok 1 "$n: corpus file reads"; continue; }
    "$CANON" xml --mask "$x" >"$d/want-masked"
    grep '^+' "$d/want" >>"$T/all-tokens"
    lacking=$("$CANON" lacks "$x" | tr '\n' ' ')

    # libeas encodes; libeas and libwbxml2 decode.
    "$EAS_WBXML" encode "$x" >"$d/ours.wbxml"
    ok $? "$n: eas-wbxml encodes"
    "$CANON" wbxml "$d/ours.wbxml" >"$d/ours-ours" 2>&1
    same "$d/ours-ours" "$d/want" "$n: libeas decodes its encoding to the same tokens"
    wbxml2xml -l ACTIVESYNC -k -m 0 -o "$d/ours-lib.xml" "$d/ours.wbxml" >/dev/null 2>&1 &&
        "$CANON" xml --libwbxml --mask "$d/ours-lib.xml" >"$d/ours-lib" 2>&1
    same "$d/ours-lib" "$d/want-masked" \
        "$n: libwbxml2 decodes libeas's encoding to the same tokens${lacking:+ (<unknown> for $lacking)}"

    # The tool's own round trip: XML -> WBXML -> XML -> WBXML.
    "$EAS_WBXML" decode "$d/ours.wbxml" >"$d/ours.xml" &&
        "$CANON" xml "$d/ours.xml" >"$d/roundtrip" 2>&1
    same "$d/roundtrip" "$d/want" "$n: eas-wbxml decode gives back the document"
    "$EAS_WBXML" encode "$d/ours.xml" | cmp -s - "$d/ours.wbxml"
    ok $? "$n: and encoding that gives the same bytes"

    # libwbxml2 encodes; libeas and libwbxml2 decode.
    "$CANON" to-libwbxml "$x" >"$d/lib-in.xml"
    if [ -n "$lacking" ]; then
        ! xml2wbxml -k -n -v 1.3 -o "$d/lib.wbxml" "$d/lib-in.xml" >/dev/null 2>&1
        ok $? "$n: libwbxml2 cannot encode what it lacks ($lacking)"
        continue
    fi
    xml2wbxml -k -n -v 1.3 -o "$d/lib.wbxml" "$d/lib-in.xml" >/dev/null 2>&1
    ok $? "$n: libwbxml2 encodes"
    "$CANON" wbxml "$d/lib.wbxml" >"$d/lib-ours" 2>&1
    same "$d/lib-ours" "$d/want" "$n: libeas decodes libwbxml2's encoding to the same tokens"
    wbxml2xml -l ACTIVESYNC -k -m 0 -o "$d/lib-lib.xml" "$d/lib.wbxml" >/dev/null 2>&1 &&
        "$CANON" xml --libwbxml "$d/lib-lib.xml" >"$d/lib-lib" 2>&1
    same "$d/lib-lib" "$d/want" "$n: libwbxml2 decodes its encoding to the same tokens"
done

# The corpus is only a check if it covers the code pages.
pages=$(cut -c2-3 "$T/all-tokens" | sort -u | wc -l)
[ "$pages" -eq 25 ]
ok $? "the corpus uses every code page that has tokens (25 of 26; got $pages)"
tokens=$(sort -u "$T/all-tokens" | wc -l)
[ "$tokens" -eq 608 ]
ok $? "the corpus uses every token (got $tokens of 608)"

echo "1..$tap_n"
[ "$tap_fail" -eq 0 ]
